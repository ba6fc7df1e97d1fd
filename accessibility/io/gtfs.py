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
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from .._errors import InputError

logger = logging.getLogger(__name__)

__all__ = [
    "GtfsFeed",
    "active_services",
    "frequent_stops",
    "long_distance_routes",
    "long_distance_stations",
    "read_gtfs",
    "route_mode",
    "stop_departures",
    "stop_departures_by_mode",
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
        mapped = ids.map(target).astype(object)
        ids = mapped.where(mapped.notna(), ids)
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


# ---------------------------------------------------------------------------------------
# modes and long-distance rail (issue 12: departures per 1,000 residents, Fernbahnhöfe)

#: GTFS ``route_type`` values of railway services (Eisenbahn): the basic type 2 and the
#: extended "Railway Service" types 100-117 (high speed, long distance, inter-regional,
#: car transport, sleeper, regional, tourist, shuttle, suburban, ...).
RAIL_ROUTE_TYPES = frozenset({2, *range(100, 118)})
#: ``route_type`` values of trams, Stadtbahn and U-Bahn: basic 0 (tram, light rail)
#: and 1 (subway, metro), extended 400-405 (urban railway, metro, underground,
#: monorail) and 900-906 (tram services).
TRAM_ROUTE_TYPES = frozenset({0, 1, *range(400, 406), *range(900, 907)})
#: Extended ``route_type`` values that say "long distance" by themselves: 101 high
#: speed rail, 102 long-distance trains, 105 sleeper rail.
LONG_DISTANCE_ROUTE_TYPES = frozenset({101, 102, 105})
#: Train products of long-distance rail in and around Germany, as they appear at the
#: start of a route's short or long name ("ICE 597", "IC 2023", "EC 8", "RJX 60",
#: "NJ 40490"): ICE, IC, EC, ECE, RJ/RJX (Railjet), NJ (Nightjet), EN (EuroNight),
#: TGV, THA (Thalys), EST (Eurostar), FLX (FlixTrain). Upper case, as a whole word.
LONG_DISTANCE_PRODUCTS = ("ICE", "IC", "ECE", "EC", "RJX", "RJ", "NJ", "EN", "TGV", "THA",
                          "EST", "FLX")
_PRODUCT = re.compile(r"^\s*(?:" + "|".join(LONG_DISTANCE_PRODUCTS) + r")(?![A-Za-z])")
#: Agencies that run long-distance trains only (matched case-insensitively in
#: ``agency_name``): DB Fernverkehr AG and other operators whose name says
#: Fernverkehr.
LONG_DISTANCE_AGENCY = re.compile(r"fernverkehr", re.IGNORECASE)


def route_mode(route_type) -> np.ndarray:
    """Mode group of GTFS ``route_type`` values: ``"rail"`` (:data:`RAIL_ROUTE_TYPES`),
    ``"tram"`` (:data:`TRAM_ROUTE_TYPES`) or ``"other"`` (bus, ferry, cable car, ...
    and empty or unreadable values)."""
    t = pd.to_numeric(pd.Series(route_type, dtype=object), errors="coerce")
    out = np.full(len(t), "other", dtype=object)
    out[t.isin(RAIL_ROUTE_TYPES).to_numpy()] = "rail"
    out[t.isin(TRAM_ROUTE_TYPES).to_numpy()] = "tram"
    return out


def _trip_modes(feed: GtfsFeed) -> pd.Series:
    """Mode group of every trip (index ``trip_id``); "other" without routes.txt."""
    if feed.routes is None:
        logger.warning("GTFS %s has no routes.txt: every departure counts as 'other' "
                       "(no rail or tram departures)", feed.source)
        return pd.Series("other", index=feed.trips["trip_id"].to_numpy())
    mode = pd.Series(route_mode(feed.routes["route_type"]), index=feed.routes["route_id"])
    mode = mode[~mode.index.duplicated()]
    return pd.Series(feed.trips["route_id"].map(mode).fillna("other").to_numpy(),
                     index=feed.trips["trip_id"].to_numpy())


def stop_departures_by_mode(feed_or_path: GtfsFeed | str | Path, date: dt.date | str, *,
                            merge_parent_stations: bool = False,
                            exclude_last_stop: bool = True) -> pd.DataFrame:
    """Departures per stop on one day, all modes and by mode group.

    The counting of :func:`stop_departures` (its convention in the module docstring),
    once for all trips and once for the trips of each mode group of
    :func:`route_mode`.

    Parameters
    ----------
    feed_or_path : GtfsFeed, str or Path
    date : datetime.date or str
        The day (a weekday for the BBSR indicator).
    merge_parent_stations : bool, default False
        Count platforms at their parent station. Off by default: every stop keeps
        its own coordinates, which places it in its municipality most precisely.
    exclude_last_stop : bool, default True
        Do not count the last stop of each trip, where the vehicle only arrives: a
        departure indicator counts departures. (The walkable-stop rule counts every
        stop time; pass False for that convention.)

    Returns
    -------
    pandas.DataFrame
        ``stop_id``, ``stop_name``, ``lon``, ``lat``, ``departures`` (all modes),
        ``rail_departures`` (route_type 2, 100-117), ``tram_departures``
        (route_type 0, 1, 400-405, 900-906), int64; one row per stop with a
        departure on ``date``.
    """
    feed = feed_or_path if isinstance(feed_or_path, GtfsFeed) else read_gtfs(feed_or_path)
    kw = {"merge_parent_stations": merge_parent_stations, "exclude_last_stop": exclude_last_stop}
    out = stop_departures(feed, date, **kw)
    modes = _trip_modes(feed)
    for mode in ("rail", "tram"):
        mask = (modes == mode).to_numpy()
        if mask.any():
            sub = stop_departures(replace(feed, trips=feed.trips[mask]), date, **kw)
            counts = sub.set_index("stop_id")["departures"]
            out[f"{mode}_departures"] = out["stop_id"].map(counts).fillna(0).astype("int64")
        else:
            out[f"{mode}_departures"] = np.zeros(len(out), dtype="int64")
    logger.info("GTFS %s: %d departures on %s, %d rail, %d tram/metro", feed.source,
                int(out["departures"].sum()), _parse_date(date),
                int(out["rail_departures"].sum()), int(out["tram_departures"].sum()))
    return out


def _read_extra(source: str | Path, name: str, columns: tuple[str, ...]) -> pd.DataFrame | None:
    """Columns of a feed file that :func:`read_gtfs` does not keep (as strings); None
    when the file or all of the columns are missing."""
    p = Path(source)
    if not p.exists():
        return None
    src = _Source(p)
    try:
        if name not in src:
            return None
        handle = src.zip.open(src.members[name]) if src.zip else src.members[name]
        try:
            df = pd.read_csv(handle, usecols=lambda c: str(c).strip() in columns, dtype=str,
                             keep_default_na=False, encoding="utf-8-sig",
                             skipinitialspace=True)
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            logger.warning("GTFS %s: %s cannot be read (%s); ignored", p, name, exc)
            return None
        finally:
            if src.zip is not None:
                handle.close()
    finally:
        src.close()
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty or not set(columns) & set(df.columns):
        return None
    for col in columns:
        df[col] = df[col].str.strip() if col in df.columns else ""
    return df[list(columns)]


def long_distance_routes(feed: GtfsFeed) -> pd.DataFrame:
    """Which routes of a feed are long-distance rail, and why.

    A route is long-distance rail when it is a railway route (``route_type`` 2 or
    100-117; a bus named "IC Bus" is not) and

    1. its ``route_type`` says so (101 high speed, 102 long distance, 105 sleeper), or
    2. its ``route_short_name`` or ``route_long_name`` starts with a long-distance
       product (:data:`LONG_DISTANCE_PRODUCTS`: "ICE 597", "IC", "EC 8", "RJX", "NJ",
       "TGV" ...; upper case, a whole word, so "ICEland" or "Ice" do not count), or
    3. its agency's ``agency_name`` names Fernverkehr (DB Fernverkehr AG) - read from
       the feed's files, where they still exist.

    Regional products (RE, RB, S, IRE, MEX ...) and route types 103 (inter-regional),
    106 (regional), 109 (suburban) without such a name are not long-distance.

    Returns
    -------
    pandas.DataFrame
        ``route_id``, ``route_type``, ``route_short_name``, ``route_long_name``,
        ``long_distance`` (bool) and ``rule`` ("route_type", "name", "agency" or None).
    """
    if feed.routes is None:
        return pd.DataFrame({"route_id": [], "route_type": [], "route_short_name": [],
                             "route_long_name": [], "long_distance": [], "rule": []})
    r = feed.routes.copy()
    rtype = pd.to_numeric(r["route_type"], errors="coerce")
    rail = rtype.isin(RAIL_ROUTE_TYPES).to_numpy()
    by_type = rtype.isin(LONG_DISTANCE_ROUTE_TYPES).to_numpy()
    by_name = (r["route_short_name"].fillna("").str.match(_PRODUCT)
               | r["route_long_name"].fillna("").str.match(_PRODUCT)).to_numpy()
    by_agency = np.zeros(len(r), bool)
    extra = _read_extra(feed.source, "routes.txt", ("route_id", "agency_id")) \
        if feed.source else None
    agencies = _read_extra(feed.source, "agency.txt", ("agency_id", "agency_name")) \
        if feed.source else None
    if agencies is not None:
        ld_agency = set(agencies.loc[agencies["agency_name"].str.contains(LONG_DISTANCE_AGENCY),
                                     "agency_id"])
        if len(agencies) == 1 and ld_agency:
            by_agency[:] = True  # a feed of one long-distance agency needs no agency_id
        elif ld_agency and extra is not None:
            agency_of = extra.drop_duplicates("route_id").set_index("route_id")["agency_id"]
            by_agency = r["route_id"].map(agency_of).isin(ld_agency).to_numpy()
    rule = np.where(by_type, "route_type", np.where(by_name, "name",
                                                    np.where(by_agency, "agency", None)))
    r["long_distance"] = rail & (by_type | by_name | by_agency)
    r["rule"] = np.where(r["long_distance"], rule, None)
    return r[["route_id", "route_type", "route_short_name", "route_long_name",
              "long_distance", "rule"]]


def long_distance_stations(feed_or_path: GtfsFeed | str | Path, date: dt.date | str, *,
                           min_departures: int = 1) -> pd.DataFrame:
    """Long-distance rail stations (Fernbahnhöfe) of a GTFS feed: the stations where
    long-distance trains (:func:`long_distance_routes`) depart at least
    ``min_departures`` times on ``date``.

    Platforms are counted at their parent station (``merge_parent_stations``), each
    trip's last stop is not a departure. One day decides: a station served only by
    trade-fair or holiday specials is not a Fernbahnhof on an ordinary weekday.

    Parameters
    ----------
    feed_or_path : GtfsFeed, str or Path
    date : datetime.date or str
        The day (a weekday outside the holidays).
    min_departures : int, default 1
        Fewest long-distance departures that make a Fernbahnhof (raise it to drop
        stations with one or two stops a day).

    Returns
    -------
    pandas.DataFrame
        ``kind`` ("ldrail"), ``id`` (stop_id), ``name``, ``lon``, ``lat``,
        ``departures`` (long-distance departures on the day), ``source``; the
        destination table of :func:`accessibility.api.facility_times`.
    """
    feed = feed_or_path if isinstance(feed_or_path, GtfsFeed) else read_gtfs(feed_or_path)
    routes = long_distance_routes(feed)
    ld = set(routes.loc[routes["long_distance"], "route_id"])
    cols = ["kind", "id", "name", "lon", "lat", "departures", "source"]
    if not ld:
        logger.warning("GTFS %s has no long-distance rail route (route_type 2/100-117 named "
                       "IC/ICE/EC/..., or types 101/102/105, or a Fernverkehr agency)",
                       feed.source)
        return pd.DataFrame({c: [] for c in cols})
    trips = feed.trips[feed.trips["route_id"].isin(ld)]
    dep = stop_departures(replace(feed, trips=trips), date, merge_parent_stations=True,
                          exclude_last_stop=True)
    dep = dep[dep["departures"] >= min_departures]
    out = pd.DataFrame({"kind": "ldrail", "id": dep["stop_id"].to_numpy(),
                        "name": dep["stop_name"].to_numpy(), "lon": dep["lon"].to_numpy(),
                        "lat": dep["lat"].to_numpy(), "departures": dep["departures"].to_numpy(),
                        "source": f"GTFS {Path(feed.source).name} on {_parse_date(date)}"})
    logger.info("GTFS %s: %d long-distance routes, %d stations with >= %d long-distance "
                "departures on %s", feed.source, len(ld), len(out), min_departures,
                _parse_date(date))
    return out.reset_index(drop=True)
