"""Read a GTFS timetable and count departures per stop on one day.

Used for the walkable service "public-transport stop with at least 20 departures on
a weekday" (METHOD.md section 3).

Counting convention
-------------------
* A trip runs on ``date`` when its ``service_id`` is active on that day: in
  ``calendar.txt`` the weekday flag is 1 and ``start_date <= date <= end_date``; then
  ``calendar_dates.txt`` rows for that date add (``exception_type`` 1) or remove
  (``exception_type`` 2) the service, whether or not it is in ``calendar.txt``.
  The *service day* counts: a stop time written as ``25:10:00`` belongs to the day
  on which the trip's service runs, as the GTFS reference defines it.
* Every ``stop_times.txt`` row of a running trip is one departure at its stop,
  **including the last stop of the trip** (where the vehicle only arrives) and rows
  with ``pickup_type`` 1. Pass ``exclude_last_stop=True`` to drop the last stop
  (highest ``stop_sequence``) of each trip.
* Trips listed in ``frequencies.txt`` are templates: each counts
  ``ceil((end_time - start_time) / headway_secs)`` times per frequency row instead
  of once.
* With ``merge_parent_stations=True`` (the default) platforms (``location_type`` 0
  with a ``parent_station``) are counted at their parent station
  (``location_type`` 1), placed at the station's coordinates, so a station with
  two platforms of 15 departures each has 30. With ``False`` each ``stop_id`` as
  used in ``stop_times.txt`` is counted on its own.
* Stops without a departure that day are **not listed**: the number of rows of
  :func:`stop_departures` is the number of stops served.

The shared test feed ``vrn-rhein-neckar-cut.gtfs.zip`` (392 stops) gives, on
Tuesday 2022-10-18, the documented 211 served stops and 130 stops with at least 20
departures with ``merge_parent_stations=False`` and the last stop counted (the
defaults otherwise). Merging platforms into their 38 parent stations gives 178
served stops and 109 with at least 20 departures; dropping the last stop of each
trip gives 204 / 122 (unmerged) or 175 / 102 (merged).

Performance
-----------
Everything after reading is vectorised (``isin`` filters, ``value_counts``,
``groupby``, ``map``); there is no Python loop over stop times. The shared feed
(46,000 stop times) is read and counted in about 0.2 s. Reading ``stop_times.txt``
dominates: only ``trip_id``, ``stop_id`` and ``stop_sequence`` are read, which for
a national feed (DELFI, about 30 million stop times) takes of the order of a
minute and a few GB of memory (an estimate, not measured here). Read the feed
once with :func:`read_gtfs` and pass the :class:`GtfsFeed` when counting several
days.
"""

from __future__ import annotations

import datetime as dt
import logging
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from .._errors import InputError

logger = logging.getLogger(__name__)

__all__ = [
    "GtfsFeed",
    "active_services",
    "frequent_stops",
    "read_gtfs",
    "stop_departures",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
OUTPUT_COLUMNS = ("stop_id", "stop_name", "lon", "lat", "departures")

# (required columns, optional columns) per file; only these columns are read.
_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stops.txt": (("stop_id",), ("stop_name", "stop_lat", "stop_lon", "location_type",
                                 "parent_station")),
    "trips.txt": (("trip_id", "service_id"), ("route_id",)),
    "stop_times.txt": (("trip_id", "stop_id", "stop_sequence"), ()),
    "calendar.txt": (("service_id", *WEEKDAYS, "start_date", "end_date"), ()),
    "calendar_dates.txt": (("service_id", "date", "exception_type"), ()),
    "routes.txt": (("route_id",), ("route_short_name", "route_long_name", "route_type")),
    "frequencies.txt": (("trip_id", "start_time", "end_time", "headway_secs"), ()),
}
_REQUIRED_FILES = ("stops.txt", "trips.txt", "stop_times.txt")


@dataclass
class GtfsFeed:
    """The tables of a GTFS feed needed to count departures.

    All id columns (``stop_id``, ``trip_id``, ``service_id``, ``route_id``,
    ``parent_station``) are strings; a missing ``parent_station`` is ``<NA>``.

    Attributes
    ----------
    stops : pandas.DataFrame
        ``stop_id``, ``stop_name``, ``stop_lat``, ``stop_lon`` (float),
        ``location_type`` (int, empty = 0), ``parent_station``.
    trips : pandas.DataFrame
        ``trip_id``, ``service_id``, ``route_id``.
    stop_times : pandas.DataFrame
        ``trip_id``, ``stop_id``, ``stop_sequence`` (int).
    calendar : pandas.DataFrame or None
        ``service_id``, the seven weekday flags (int 0/1), ``start_date`` and
        ``end_date`` (int ``YYYYMMDD``); None when the feed has no calendar.txt.
    calendar_dates : pandas.DataFrame or None
        ``service_id``, ``date`` (int ``YYYYMMDD``), ``exception_type`` (int 1/2);
        None when the feed has no calendar_dates.txt.
    routes : pandas.DataFrame or None
        ``route_id`` and, where present, short/long name and ``route_type``.
    frequencies : pandas.DataFrame or None
        ``trip_id``, ``start_time``, ``end_time`` (seconds after midnight of the
        service day), ``headway_secs`` (int).
    source : str
        The path the feed was read from.
    """

    stops: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame | None = None
    calendar_dates: pd.DataFrame | None = None
    routes: pd.DataFrame | None = None
    frequencies: pd.DataFrame | None = None
    source: str = ""


class _Source:
    """The files of a feed, in a zip archive or a directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.zip: zipfile.ZipFile | None = None
        self.members: dict[str, str] = {}
        if not self.path.exists():
            raise InputError(f"GTFS feed {self.path} does not exist. Pass the path of a "
                             "GTFS .zip file or of a directory holding the .txt files.")
        if self.path.is_dir():
            self.members = {p.name: str(p) for p in self.path.iterdir() if p.is_file()}
            return
        if not zipfile.is_zipfile(self.path):
            raise InputError(f"GTFS feed {self.path} is not a zip archive. Pass a GTFS "
                             ".zip file (stops.txt, trips.txt, stop_times.txt, calendar.txt "
                             "... at its top level) or a directory holding these files.")
        try:
            self.zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"GTFS feed {self.path} cannot be opened as a zip archive "
                             f"({exc}). Download it again.") from None
        # Files at the top level win; a feed zipped with its folder is accepted too.
        for name in sorted(self.zip.namelist(), key=lambda n: n.count("/"), reverse=True):
            if not name.endswith("/"):
                self.members[PurePosixPath(name).name] = name

    def __contains__(self, name: str) -> bool:
        return name in self.members

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def read(self, name: str) -> pd.DataFrame:
        """Read the needed columns of ``name`` as strings (empty cells are "")."""
        required, optional = _COLUMNS[name]
        wanted = set(required) | set(optional)
        where = f"{self.path}: {name}"
        handle = self.zip.open(self.members[name]) if self.zip else self.members[name]
        try:
            df = pd.read_csv(handle, usecols=lambda c: str(c).strip() in wanted, dtype=str,
                             keep_default_na=False, encoding="utf-8-sig",
                             skipinitialspace=True)
        except pd.errors.EmptyDataError:
            raise InputError(f"{where} is empty; it needs a header line with the columns "
                             f"{', '.join(required)}.") from None
        except (pd.errors.ParserError, UnicodeDecodeError, zipfile.BadZipFile,
                OSError) as exc:
            raise InputError(f"{where} cannot be read as a UTF-8 CSV file ({exc}). Check "
                             "that the feed is complete and not corrupted.") from None
        finally:
            if self.zip is not None:
                handle.close()
        df.columns = [str(c).strip() for c in df.columns]
        missing = [c for c in required if c not in df.columns]
        if missing:
            raise InputError(f"{where} lacks the required column(s) {', '.join(missing)}; "
                             "a GTFS file needs them (see gtfs.org/schedule/reference).")
        for col in optional:
            if col not in df.columns:
                df[col] = ""
        for col in df.columns:
            df[col] = df[col].str.strip()
        return df[[*required, *optional]]


def _to_int(df: pd.DataFrame, col: str, where: str, *, default: int | None = None) -> pd.Series:
    """Convert a string column to int; empty cells take ``default`` (else an error)."""
    s = df[col]
    if default is not None:
        s = s.mask(s == "", str(default))
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() | (num != np.floor(num))
    if bad.any():
        examples = ", ".join(repr(v) for v in s[bad].unique()[:3])
        raise InputError(f"{where}: column {col} must hold whole numbers; found {examples} "
                         f"in {int(bad.sum())} row(s). Fix or remove these rows.")
    return num.astype("int64")


def _to_float(df: pd.DataFrame, col: str, where: str) -> pd.Series:
    num = pd.to_numeric(df[col].mask(df[col] == ""), errors="coerce")
    bad = num.isna() & (df[col] != "")
    if bad.any():
        examples = ", ".join(repr(v) for v in df.loc[bad, col].unique()[:3])
        raise InputError(f"{where}: column {col} must hold decimal degrees; found {examples}.")
    return num.astype("float64")


def _seconds(df: pd.DataFrame, col: str, where: str) -> pd.Series:
    """``H:MM:SS`` (hours may exceed 24) to seconds after midnight of the service day."""
    if df.empty:
        return pd.Series([], index=df.index, dtype="int64")
    parts = df[col].str.split(":", expand=True)
    if parts.shape[1] != 3:
        raise InputError(f"{where}: column {col} must hold times as HH:MM:SS.")
    nums = parts.apply(pd.to_numeric, errors="coerce")
    secs = nums[0] * 3600 + nums[1] * 60 + nums[2]
    if secs.isna().any():
        examples = ", ".join(repr(v) for v in df.loc[secs.isna(), col].unique()[:3])
        raise InputError(f"{where}: column {col} must hold times as HH:MM:SS; found "
                         f"{examples}.")
    return secs.astype("int64")


def read_gtfs(path: str | Path) -> GtfsFeed:
    """Read the tables of a GTFS feed needed to count departures.

    Only the needed columns are read (see :class:`GtfsFeed`), ids as strings.

    Parameters
    ----------
    path : str or Path
        A GTFS ``.zip`` file or a directory holding the ``.txt`` files.

    Returns
    -------
    GtfsFeed

    Raises
    ------
    InputError
        When the path does not exist or is not a zip archive, when ``stops.txt``,
        ``trips.txt``, ``stop_times.txt`` or both of ``calendar.txt`` and
        ``calendar_dates.txt`` are missing (all missing files are listed), or when a
        required column is missing or malformed.
    """
    src = _Source(path)
    try:
        missing = [n for n in _REQUIRED_FILES if n not in src]
        if "calendar.txt" not in src and "calendar_dates.txt" not in src:
            missing.append("calendar.txt or calendar_dates.txt")
        if missing:
            raise InputError(f"GTFS feed {src.path} lacks {', '.join(missing)}. A GTFS "
                             "feed needs stops.txt, trips.txt, stop_times.txt and at least "
                             "one of calendar.txt / calendar_dates.txt; check that the "
                             "complete feed was downloaded and unpacked.")

        stops = src.read("stops.txt")
        where = f"{src.path}: stops.txt"
        stops["stop_lat"] = _to_float(stops, "stop_lat", where)
        stops["stop_lon"] = _to_float(stops, "stop_lon", where)
        stops["location_type"] = _to_int(stops, "location_type", where, default=0)
        stops["parent_station"] = stops["parent_station"].mask(stops["parent_station"] == "")
        if stops["stop_id"].duplicated().any():
            dup = stops.loc[stops["stop_id"].duplicated(), "stop_id"].unique()[:3]
            raise InputError(f"{where}: stop_id must be unique; duplicated: "
                             f"{', '.join(map(repr, dup))}.")

        trips = src.read("trips.txt")
        stop_times = src.read("stop_times.txt")
        stop_times["stop_sequence"] = _to_int(stop_times, "stop_sequence",
                                              f"{src.path}: stop_times.txt")

        calendar = calendar_dates = routes = frequencies = None
        if "calendar.txt" in src:
            calendar = src.read("calendar.txt")
            where = f"{src.path}: calendar.txt"
            for col in (*WEEKDAYS, "start_date", "end_date"):
                calendar[col] = _to_int(calendar, col, where)
        if "calendar_dates.txt" in src:
            calendar_dates = src.read("calendar_dates.txt")
            where = f"{src.path}: calendar_dates.txt"
            for col in ("date", "exception_type"):
                calendar_dates[col] = _to_int(calendar_dates, col, where)
        if "routes.txt" in src:
            routes = src.read("routes.txt")
        if "frequencies.txt" in src:
            frequencies = src.read("frequencies.txt")
            where = f"{src.path}: frequencies.txt"
            frequencies["start_time"] = _seconds(frequencies, "start_time", where)
            frequencies["end_time"] = _seconds(frequencies, "end_time", where)
            frequencies["headway_secs"] = _to_int(frequencies, "headway_secs", where)
            if (frequencies["headway_secs"] <= 0).any():
                raise InputError(f"{where}: headway_secs must be positive.")
    finally:
        src.close()

    logger.info("GTFS %s: %d stops, %d trips, %d stop times", src.path, len(stops),
                len(trips), len(stop_times))
    return GtfsFeed(stops=stops, trips=trips, stop_times=stop_times, calendar=calendar,
                    calendar_dates=calendar_dates, routes=routes, frequencies=frequencies,
                    source=str(src.path))


def _parse_date(date: dt.date | str) -> dt.date:
    if isinstance(date, dt.datetime):
        return date.date()
    if isinstance(date, dt.date):
        return date
    if isinstance(date, str):
        text = date.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            if len(text) == 8 and text.isdigit():
                return dt.datetime.strptime(text, "%Y%m%d").date()
        except ValueError:
            pass
        raise InputError(f"GTFS date {date!r} is not a valid date; write it as "
                         "YYYY-MM-DD, e.g. '2022-10-18'.")
    raise InputError(f"GTFS date must be a datetime.date or a 'YYYY-MM-DD' string, not "
                     f"{type(date).__name__}.")


def active_services(feed: GtfsFeed, date: dt.date | str) -> set[str]:
    """The ``service_id`` values running on ``date``.

    A service runs when its ``calendar.txt`` weekday flag is 1 and
    ``start_date <= date <= end_date``; ``calendar_dates.txt`` rows for the date then
    add (``exception_type`` 1) or remove (``exception_type`` 2) services.

    Parameters
    ----------
    feed : GtfsFeed
    date : datetime.date or str
        The day, as a date or a ``"YYYY-MM-DD"`` string.

    Returns
    -------
    set of str

    Raises
    ------
    InputError
        When ``date`` is not a valid date.
    """
    day = _parse_date(date)
    ymd = day.year * 10000 + day.month * 100 + day.day
    active: set[str] = set()
    if feed.calendar is not None:
        cal = feed.calendar
        runs = ((cal[WEEKDAYS[day.weekday()]] == 1) & (cal["start_date"] <= ymd)
                & (cal["end_date"] >= ymd))
        active = set(cal.loc[runs, "service_id"])
    if feed.calendar_dates is not None:
        cd = feed.calendar_dates
        today = cd[cd["date"] == ymd]
        active |= set(today.loc[today["exception_type"] == 1, "service_id"])
        active -= set(today.loc[today["exception_type"] == 2, "service_id"])
    logger.debug("GTFS %s: %d services run on %s", feed.source, len(active), day)
    return active


def _trip_weights(feed: GtfsFeed, trip_ids: Iterable[str]) -> pd.Series | None:
    """Departures per run of each frequency-based trip (None when there are none)."""
    if feed.frequencies is None or feed.frequencies.empty:
        return None
    fr = feed.frequencies[feed.frequencies["trip_id"].isin(set(trip_ids))]
    if fr.empty:
        return None
    span = (fr["end_time"] - fr["start_time"]).clip(lower=0)
    runs = -(-span // fr["headway_secs"])  # ceil division on ints
    return runs.groupby(fr["trip_id"]).sum()


def stop_departures(feed_or_path: GtfsFeed | str | Path, date: dt.date | str, *,
                    merge_parent_stations: bool = True,
                    exclude_last_stop: bool = False) -> pd.DataFrame:
    """Departures per stop on one day.

    See the module docstring for the counting convention.

    Parameters
    ----------
    feed_or_path : GtfsFeed, str or Path
        A feed from :func:`read_gtfs`, or the path of a GTFS zip / directory.
    date : datetime.date or str
        The day, as a date or a ``"YYYY-MM-DD"`` string.
    merge_parent_stations : bool, default True
        Count platforms at their parent station, placed at its coordinates.
    exclude_last_stop : bool, default False
        Do not count the last stop (highest ``stop_sequence``) of each trip.

    Returns
    -------
    pandas.DataFrame
        Columns ``stop_id``, ``stop_name``, ``lon``, ``lat``, ``departures``
        (int64), one row per stop with at least one departure on ``date`` (stops
        not served are not listed), sorted by descending departures then
        ``stop_id``.

    Raises
    ------
    InputError
        When the feed cannot be read or ``date`` is not a valid date.
    """
    feed = feed_or_path if isinstance(feed_or_path, GtfsFeed) else read_gtfs(feed_or_path)
    day = _parse_date(date)
    services = active_services(feed, day)
    trip_ids = feed.trips.loc[feed.trips["service_id"].isin(services), "trip_id"]
    st = feed.stop_times[feed.stop_times["trip_id"].isin(set(trip_ids))]
    if exclude_last_stop and not st.empty:
        last = st.groupby("trip_id")["stop_sequence"].transform("max")
        st = st[st["stop_sequence"] != last]

    weights = _trip_weights(feed, trip_ids)
    if weights is None:
        counts = st["stop_id"].value_counts()
    else:
        w = st["trip_id"].map(weights).fillna(1).astype("int64")
        counts = w.groupby(st["stop_id"].to_numpy()).sum()

    stops = feed.stops.set_index("stop_id")
    unknown = ~counts.index.isin(stops.index)
    if unknown.any():
        logger.warning("GTFS %s: %d stop_id(s) of stop_times.txt are not in stops.txt "
                       "(e.g. %s); their %d departures are ignored", feed.source,
                       int(unknown.sum()), ", ".join(map(repr, counts.index[unknown][:3])),
                       int(counts[unknown].sum()))
        counts = counts[~unknown]

    if merge_parent_stations and not counts.empty:
        parent = stops["parent_station"]
        is_platform = (stops["location_type"] == 0) & parent.notna()
        known_parent = parent.isin(stops.index[stops["location_type"] == 1])
        if (is_platform & ~known_parent).any():
            logger.warning("GTFS %s: %d platform(s) name a parent_station that is not a "
                           "station (location_type 1) in stops.txt; counted on their own",
                           feed.source, int((is_platform & ~known_parent).sum()))
        target = parent[is_platform & known_parent]
        ids = counts.index.to_series()
        ids = ids.map(target).fillna(ids)
        counts = counts.groupby(ids.to_numpy()).sum()

    if counts.empty:
        logger.warning("GTFS %s: no departures on %s (%d services run); the date may be "
                       "outside the feed's service period", feed.source, day, len(services))
    info = stops.reindex(counts.index)
    out = pd.DataFrame({
        "stop_id": counts.index.astype(str),
        "stop_name": info["stop_name"].to_numpy(),
        "lon": info["stop_lon"].to_numpy(dtype="float64"),
        "lat": info["stop_lat"].to_numpy(dtype="float64"),
        "departures": counts.to_numpy(dtype="int64"),
    })
    out = out.sort_values(["departures", "stop_id"], ascending=[False, True],
                          ignore_index=True)
    logger.info("GTFS %s: %d stops served on %s, %d departures", feed.source, len(out),
                day, int(out["departures"].sum()))
    return out


def frequent_stops(feed_or_path: GtfsFeed | str | Path, date: dt.date | str,
                   min_departures: int = 20, **kw: bool) -> pd.DataFrame:
    """Stops with at least ``min_departures`` departures on ``date``.

    Parameters
    ----------
    feed_or_path : GtfsFeed, str or Path
        A feed from :func:`read_gtfs`, or the path of a GTFS zip / directory.
    date : datetime.date or str
        The day, as a date or a ``"YYYY-MM-DD"`` string (METHOD.md: a weekday).
    min_departures : int, default 20
        The threshold (METHOD.md section 3: 20 departures on a weekday).
    **kw
        Passed to :func:`stop_departures` (``merge_parent_stations``,
        ``exclude_last_stop``).

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`stop_departures` with ``departures >= min_departures``.
    """
    dep = stop_departures(feed_or_path, date, **kw)
    out = dep[dep["departures"] >= min_departures].reset_index(drop=True)
    logger.info("GTFS: %d of %d served stops have >= %d departures on %s", len(out),
                len(dep), min_departures, _parse_date(date))
    return out
