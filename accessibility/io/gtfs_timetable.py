"""Read the timetable of one service day from a GTFS feed (times, transfers).

:func:`accessibility.io.gtfs.read_gtfs` keeps what departure counts need; a router
also needs each stop time's arrival and departure and the feed's ``transfers.txt``.
:func:`read_gtfs_day` reads them and returns the stop times of the trips that run
on one day, with ``frequencies.txt`` expanded into single trips.

Conventions
-----------
* The trips of ``date`` are those whose service runs that day
  (:func:`accessibility.io.gtfs.active_services`: ``calendar.txt`` and
  ``calendar_dates.txt``). Times are seconds after midnight of that service day,
  so ``25:10:00`` is 90,600 s; trips of the previous service day running past
  midnight are not included.
* An empty ``arrival_time`` / ``departure_time`` (a stop without a timepoint) takes
  the other one; a stop time with neither is an error (interpolation is not done).
* A trip listed in ``frequencies.txt`` is a template: it runs at
  ``start_time, start_time + headway_secs, ...`` while before ``end_time``, each
  run with the template's stop times shifted so that its first departure is the
  start of the run (GTFS reference; ``exact_times`` is not needed for this).
* ``pickup_type`` / ``drop_off_type`` are not read: every stop time allows both.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputError
from .gtfs import GtfsFeed, _parse_date, _read_extra, _seconds, active_services, read_gtfs

logger = logging.getLogger(__name__)

__all__ = ["GtfsDay", "read_gtfs_day"]

_TIME_COLUMNS = ("trip_id", "stop_sequence", "arrival_time", "departure_time")
_TRANSFER_COLUMNS = ("from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time")


@dataclass
class GtfsDay:
    """The timetable of one service day.

    Attributes
    ----------
    stops : pandas.DataFrame
        ``stop_id``, ``stop_name``, ``stop_lat``, ``stop_lon``, ``location_type``,
        ``parent_station`` (the feed's stops.txt).
    stop_times : pandas.DataFrame
        ``trip_id`` (a run of a frequency-based trip gets ``"<trip_id>#<k>"``),
        ``stop_id``, ``stop_sequence``, ``arrival_s``, ``departure_s`` (int64,
        seconds after midnight of the service day); only trips running on ``date``.
    transfers : pandas.DataFrame
        ``from_stop_id``, ``to_stop_id``, ``transfer_type`` (int), ``min_transfer_s``
        (int, 0 when empty); empty without transfers.txt.
    date : datetime.date
    source : str
    """

    stops: pd.DataFrame
    stop_times: pd.DataFrame
    transfers: pd.DataFrame
    date: dt.date
    source: str = ""


def _stop_time_seconds(feed: GtfsFeed) -> pd.DataFrame:
    """``trip_id``, ``stop_sequence``, ``arrival_s``, ``departure_s`` of every stop time."""
    times = _read_extra(feed.source, "stop_times.txt", _TIME_COLUMNS) if feed.source else None
    where = f"{feed.source}: stop_times.txt"
    if times is None or ((times["arrival_time"] == "").all()
                         and (times["departure_time"] == "").all()):
        raise InputError(f"{where} has no arrival_time / departure_time; a timetable "
                         "router needs the times of the stop times.")
    arr = times["arrival_time"].mask(times["arrival_time"] == "", times["departure_time"])
    dep = times["departure_time"].mask(times["departure_time"] == "", times["arrival_time"])
    if (arr == "").any():
        raise InputError(f"{where}: {int((arr == '').sum())} stop time(s) have neither an "
                         "arrival_time nor a departure_time; interpolated times are not "
                         "supported, give the times or remove the rows.")
    frame = pd.DataFrame({"a": arr, "d": dep})
    out = pd.DataFrame({"trip_id": times["trip_id"].to_numpy(),
                        "stop_sequence": pd.to_numeric(times["stop_sequence"]).to_numpy(),
                        "arrival_s": _seconds(frame, "a", where).to_numpy(),
                        "departure_s": _seconds(frame, "d", where).to_numpy()})
    if (out["departure_s"] < out["arrival_s"]).any():
        raise InputError(f"{where}: a departure_time is before its arrival_time; fix the "
                         "times of these rows.")
    return out


def _expand_frequencies(st: pd.DataFrame, frequencies: pd.DataFrame | None) -> pd.DataFrame:
    """Replace every frequency-based template trip by its runs."""
    if frequencies is None or frequencies.empty:
        return st
    fr = frequencies[frequencies["trip_id"].isin(set(st["trip_id"]))]
    if fr.empty:
        return st
    runs = []
    for row in fr.itertuples(index=False):  # a few rows per template
        starts = np.arange(row.start_time, row.end_time, row.headway_secs, dtype="int64")
        runs.append(pd.DataFrame({"trip_id": row.trip_id, "start": starts}))
    runs = pd.concat(runs, ignore_index=True)
    runs["run"] = runs.groupby("trip_id").cumcount()
    template = st[st["trip_id"].isin(set(fr["trip_id"]))]
    first = template.groupby("trip_id")["departure_s"].min()
    out = template.merge(runs, on="trip_id")
    shift = out["start"] - out["trip_id"].map(first)
    out["arrival_s"] += shift
    out["departure_s"] += shift
    out["trip_id"] = out["trip_id"] + "#" + out["run"].astype(str)
    logger.info("GTFS: %d frequency-based trip(s) expanded into %d runs", len(first), len(runs))
    return pd.concat([st[~st["trip_id"].isin(set(fr["trip_id"]))],
                      out[st.columns]], ignore_index=True)


def _transfers(source: str) -> pd.DataFrame:
    tr = _read_extra(source, "transfers.txt", _TRANSFER_COLUMNS) if source else None
    if tr is None:
        return pd.DataFrame({"from_stop_id": pd.Series([], dtype=object),
                             "to_stop_id": pd.Series([], dtype=object),
                             "transfer_type": pd.Series([], dtype="int64"),
                             "min_transfer_s": pd.Series([], dtype="int64")})
    where = f"{source}: transfers.txt"
    kind = pd.to_numeric(tr["transfer_type"].mask(tr["transfer_type"] == "", "0"),
                         errors="coerce")
    secs = pd.to_numeric(tr["min_transfer_time"].mask(tr["min_transfer_time"] == "", "0"),
                         errors="coerce")
    if kind.isna().any() or secs.isna().any() or (secs < 0).any():
        raise InputError(f"{where}: transfer_type and min_transfer_time must be whole "
                         "non-negative numbers.")
    return pd.DataFrame({"from_stop_id": tr["from_stop_id"], "to_stop_id": tr["to_stop_id"],
                         "transfer_type": kind.astype("int64"),
                         "min_transfer_s": secs.astype("int64")})


def read_gtfs_day(feed_or_path: GtfsFeed | str | Path, date: dt.date | str) -> GtfsDay:
    """The stop times (with times) of the trips running on ``date``, and the transfers.

    Parameters
    ----------
    feed_or_path : GtfsFeed, str or Path
        A feed from :func:`accessibility.io.gtfs.read_gtfs` (its ``source`` is read
        again for the times) or the path of a GTFS zip / directory.
    date : datetime.date or str
        The service day, ``"YYYY-MM-DD"``.

    Returns
    -------
    GtfsDay

    Raises
    ------
    InputError
        When the feed cannot be read, has no times, or ``date`` is not a date.
    """
    feed = feed_or_path if isinstance(feed_or_path, GtfsFeed) else read_gtfs(feed_or_path)
    day = _parse_date(date)
    services = active_services(feed, day)
    running = set(feed.trips.loc[feed.trips["service_id"].isin(services), "trip_id"])
    times = _stop_time_seconds(feed)
    keep = feed.stop_times["trip_id"].isin(running).to_numpy()
    st = feed.stop_times.loc[keep, ["trip_id", "stop_id", "stop_sequence"]]
    st = st.merge(times[times["trip_id"].isin(running)], on=["trip_id", "stop_sequence"],
                  how="left", validate="one_to_one")
    st = _expand_frequencies(st, feed.frequencies)
    if st.empty:
        logger.warning("GTFS %s: no trip runs on %s (%d services); the date may be "
                       "outside the feed's service period", feed.source, day, len(services))
    logger.info("GTFS %s: %d trips, %d stop times on %s", feed.source,
                st["trip_id"].nunique(), len(st), day)
    stops = feed.stops[["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type",
                        "parent_station"]]
    return GtfsDay(stops=stops.reset_index(drop=True), stop_times=st.reset_index(drop=True),
                   transfers=_transfers(feed.source), date=day, source=feed.source)
