"""GTFS reading and departure counting (accessibility.io.gtfs)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from accessibility._errors import InputError
from accessibility.io.gtfs import (
    GtfsFeed,
    active_services,
    frequent_stops,
    read_gtfs,
    stop_departures,
)

from .conftest import SHARED
VRN = SHARED / "gtfs" / "vrn-rhein-neckar-cut.gtfs.zip"


@pytest.fixture(scope="module")
def vrn() -> GtfsFeed:
    if not VRN.exists():
        pytest.skip(f"shared data {VRN} not available")
    return read_gtfs(VRN)


# --- the shared VRN feed ---------------------------------------------------------------

def test_vrn_tuesday_reproduces_readme_numbers(vrn):
    dep = stop_departures(vrn, "2022-10-18", merge_parent_stations=False)
    assert len(dep) == 211
    assert len(frequent_stops(vrn, "2022-10-18", merge_parent_stations=False)) == 130
    assert list(dep.columns) == ["stop_id", "stop_name", "lon", "lat", "departures"]
    assert dep["departures"].dtype == "int64"
    assert (dep["departures"] > 0).all()
    assert dep["stop_id"].is_unique
    assert dep["lon"].between(8, 9).all() and dep["lat"].between(49, 50).all()


def reference_counts(day: str = "20221018", weekday: str = "tuesday"):
    """Departures per stop on ``day`` straight from the feed's CSV files (csv module,
    no code of the package): all stop_times, without each trip's last stop, and with
    platforms merged into their parent station. Returns ``(n_stops, n_with_20)`` each."""
    import csv
    import io
    from collections import Counter

    z = zipfile.ZipFile(VRN)

    def rows(name):
        with z.open(name) as f:
            return list(csv.DictReader(io.TextIOWrapper(f, encoding="utf-8-sig")))

    active = {r["service_id"] for r in rows("calendar.txt")
              if r[weekday] == "1" and r["start_date"] <= day <= r["end_date"]}
    for r in rows("calendar_dates.txt"):
        if r["date"] == day:
            (active.add if r["exception_type"] == "1" else active.discard)(r["service_id"])
    trips = {r["trip_id"] for r in rows("trips.txt") if r["service_id"] in active}
    st = [r for r in rows("stop_times.txt") if r["trip_id"] in trips]
    last = {}
    for r in st:
        last[r["trip_id"]] = max(last.get(r["trip_id"], -1), int(r["stop_sequence"]))
    parent = {r["stop_id"]: r.get("parent_station") or r["stop_id"] for r in rows("stops.txt")}
    every = Counter(r["stop_id"] for r in st)
    no_last = Counter(r["stop_id"] for r in st if int(r["stop_sequence"]) != last[r["trip_id"]])
    merged = Counter()
    for stop, n in every.items():
        merged[parent.get(stop, stop)] += n

    def pair(c):
        return len(c), sum(v >= 20 for v in c.values())

    return pair(every), pair(no_last), pair(merged)


def test_vrn_from_path_and_other_conventions(vrn):
    # Reading from the path gives the same result as from a feed.
    assert len(frequent_stops(VRN, dt.date(2022, 10, 18), merge_parent_stations=False)) == 130
    merged = stop_departures(vrn, "2022-10-18")
    unmerged = stop_departures(vrn, "2022-10-18", merge_parent_stations=False)
    every, last_excluded, parents = reference_counts()
    assert every == (211, 130)  # the data README's numbers
    assert (len(merged), (merged["departures"] >= 20).sum()) == parents
    assert merged["departures"].sum() == unmerged["departures"].sum()
    no_last = stop_departures(vrn, "2022-10-18", merge_parent_stations=False,
                              exclude_last_stop=True)
    assert (len(no_last), (no_last["departures"] >= 20).sum()) == last_excluded


def test_vrn_weekend_and_outside_period(vrn):
    tuesday = stop_departures(vrn, "2022-10-18", merge_parent_stations=False)
    for weekend in ("2022-10-15", "2022-10-16"):
        dep = stop_departures(vrn, weekend, merge_parent_stations=False)
        assert 0 < len(dep) < len(tuesday)
        assert dep["departures"].sum() < tuesday["departures"].sum()
    for outside in ("2023-01-10", "2022-06-01"):
        assert active_services(vrn, outside) == set()
        dep = stop_departures(vrn, outside)
        assert dep.empty
        assert list(dep.columns) == ["stop_id", "stop_name", "lon", "lat", "departures"]
        assert frequent_stops(vrn, outside).empty


# --- a hand-made feed ------------------------------------------------------------------

TINY = {
    "stops.txt": """stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
S1,Station,50.0,8.0,1,
P1a,Station platform a,50.001,8.001,0,S1
P1b,Station platform b,50.002,8.002,,S1
S2,Second,50.1,8.1,,
S3,Third,50.2,8.2,0,
S4,Unused,50.3,8.3,,
""",
    "routes.txt": "route_id,route_short_name,route_type\nR,1,3\n",
    "trips.txt": """route_id,service_id,trip_id
R,WK,T1
R,WK,T2
R,SAT,T3
R,EXTRA,T4
R,OLD,T5
""",
    # Columns in a non-standard order and stop_sequence not starting at 1.
    "stop_times.txt": """stop_id,trip_id,arrival_time,departure_time,stop_sequence
P1a,T1,08:00:00,08:00:00,5
S2,T1,08:05:00,08:05:00,10
S3,T1,08:10:00,08:10:00,20
S3,T2,25:00:00,25:00:00,1
S2,T2,25:05:00,25:05:00,2
P1b,T2,25:10:00,25:10:00,3
P1a,T3,09:00:00,09:00:00,1
S2,T3,09:05:00,09:05:00,2
S2,T4,10:00:00,10:00:00,1
S3,T4,10:05:00,10:05:00,2
S2,T5,11:00:00,11:00:00,1
S3,T5,11:05:00,11:05:00,2
""",
    "calendar.txt": """service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
WK,1,1,1,1,1,0,0,20240101,20241231
SAT,0,0,0,0,0,1,0,20240101,20241231
OLD,1,1,1,1,1,1,1,20230101,20231231
""",
    "calendar_dates.txt": """service_id,date,exception_type
EXTRA,20240106,1
WK,20240103,2
""",
}


def write_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@pytest.fixture
def tiny(tmp_path) -> Path:
    return write_zip(tmp_path / "tiny.zip", TINY)


def counts(dep) -> dict[str, int]:
    return dict(zip(dep["stop_id"], dep["departures"].tolist()))


def test_tiny_read(tiny):
    feed = read_gtfs(tiny)
    assert len(feed.stops) == 6 and len(feed.trips) == 5 and len(feed.stop_times) == 12
    assert feed.routes is not None and feed.frequencies is None
    assert feed.stops.set_index("stop_id")["location_type"].to_dict()["P1b"] == 0
    assert feed.stop_times["stop_sequence"].dtype == "int64"
    # Only the needed columns are read.
    assert "arrival_time" not in feed.stop_times.columns


def test_tiny_calendar(tiny):
    feed = read_gtfs(tiny)
    assert active_services(feed, "2024-01-02") == {"WK"}            # Tuesday
    assert active_services(feed, dt.date(2024, 1, 3)) == set()        # WK removed
    assert active_services(feed, "2024-01-06") == {"SAT", "EXTRA"}  # Saturday + added
    assert active_services(feed, "2024-01-13") == {"SAT"}           # EXTRA only once
    assert active_services(feed, "2024-01-07") == set()               # Sunday
    assert active_services(feed, "2023-06-06") == {"OLD"}           # before WK starts
    assert active_services(feed, "2023-12-31") == {"OLD"}           # end_date inclusive
    assert active_services(feed, "2024-12-31") == {"WK"}            # end_date inclusive
    assert active_services(feed, "2025-01-07") == set()               # after the period


def test_tiny_departures_unmerged(tiny):
    dep = stop_departures(tiny, "2024-01-02", merge_parent_stations=False)
    # T1: P1a S2 S3; T2 (times past 24:00 still belong to this service day): S3 S2 P1b.
    assert counts(dep) == {"S2": 2, "S3": 2, "P1a": 1, "P1b": 1}
    assert list(dep["stop_id"][:2]) == ["S2", "S3"]  # sorted by departures, then id
    assert stop_departures(tiny, "2024-01-03").empty
    assert counts(stop_departures(tiny, "2024-01-06", merge_parent_stations=False)) == {
        "S2": 2, "P1a": 1, "S3": 1}
    assert counts(stop_departures(tiny, "2023-06-06")) == {"S2": 1, "S3": 1}


def test_tiny_parent_station_merge(tiny):
    dep = stop_departures(tiny, "2024-01-02")
    assert counts(dep) == {"S1": 2, "S2": 2, "S3": 2}
    row = dep.set_index("stop_id").loc["S1"]
    assert (row["lon"], row["lat"], row["stop_name"]) == (8.0, 50.0, "Station")
    assert counts(frequent_stops(tiny, "2024-01-02", min_departures=2)) == {
        "S1": 2, "S2": 2, "S3": 2}
    assert frequent_stops(tiny, "2024-01-02", min_departures=2,
                          merge_parent_stations=False)["stop_id"].tolist() == ["S2", "S3"]


def test_tiny_exclude_last_stop(tiny):
    dep = stop_departures(tiny, "2024-01-02", exclude_last_stop=True)
    # T1 ends at S3 (sequence 20), T2 ends at P1b.
    assert counts(dep) == {"S1": 1, "S2": 2, "S3": 1}


def test_tiny_frequencies(tmp_path):
    files = dict(TINY)
    # T1 runs every 10 minutes from 06:00 to 07:00 (6 runs) and every 30 minutes from
    # 07:00 to 07:45 (2 runs): 8 runs instead of 1.
    files["frequencies.txt"] = ("trip_id,start_time,end_time,headway_secs\n"
                                "T1,06:00:00,07:00:00,600\nT1,07:00:00,07:45:00,1800\n")
    dep = stop_departures(write_zip(tmp_path / "f.zip", files), "2024-01-02")
    assert counts(dep) == {"S1": 9, "S2": 9, "S3": 9}


def test_tiny_directory_and_bom(tmp_path):
    folder = tmp_path / "feed"
    folder.mkdir()
    for name, text in TINY.items():
        (folder / name).write_text(text, encoding="utf-8-sig")
    assert counts(stop_departures(folder, "2024-01-02")) == {"S1": 2, "S2": 2, "S3": 2}


def test_tiny_zip_with_folder(tmp_path):
    path = write_zip(tmp_path / "nested.zip", {f"feed/{k}": v for k, v in TINY.items()})
    assert counts(stop_departures(path, "2024-01-02")) == {"S1": 2, "S2": 2, "S3": 2}


def test_calendar_dates_only(tmp_path):
    files = {k: v for k, v in TINY.items() if k != "calendar.txt"}
    feed = read_gtfs(write_zip(tmp_path / "cd.zip", files))
    assert feed.calendar is None
    assert active_services(feed, "2024-01-06") == {"EXTRA"}
    assert active_services(feed, "2024-01-02") == set()


# --- bad input -------------------------------------------------------------------------

def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_gtfs(tmp_path / "nope.zip")


def test_not_a_zip(tmp_path):
    path = tmp_path / "feed.zip"
    path.write_text("stop_id\n")
    with pytest.raises(InputError, match="not a zip archive"):
        read_gtfs(path)


def test_zip_without_stop_times(tmp_path):
    files = {k: v for k, v in TINY.items() if k != "stop_times.txt"}
    with pytest.raises(InputError, match="lacks stop_times.txt") as err:
        stop_departures(write_zip(tmp_path / "bad.zip", files), "2024-01-02")
    assert "bad.zip" in str(err.value)


def test_zip_without_calendars_lists_all_missing(tmp_path):
    files = {k: v for k, v in TINY.items()
             if k not in ("calendar.txt", "calendar_dates.txt", "trips.txt")}
    with pytest.raises(InputError, match="trips.txt, calendar.txt or calendar_dates.txt"):
        read_gtfs(write_zip(tmp_path / "bad.zip", files))


def test_missing_column(tmp_path):
    files = dict(TINY)
    files["trips.txt"] = "route_id,trip_id\nR,T1\n"
    with pytest.raises(InputError, match="trips.txt lacks the required column.*service_id"):
        read_gtfs(write_zip(tmp_path / "bad.zip", files))


def test_malformed_number(tmp_path):
    files = dict(TINY)
    files["calendar_dates.txt"] = "service_id,date,exception_type\nWK,2024-01-03,2\n"
    with pytest.raises(InputError, match="calendar_dates.txt: column date"):
        read_gtfs(write_zip(tmp_path / "bad.zip", files))


@pytest.mark.parametrize("bad", ["2022-13-45", "tomorrow", "18.10.2022", ""])
def test_invalid_date(tiny, bad):
    feed = read_gtfs(tiny)
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        active_services(feed, bad)
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        stop_departures(feed, bad)
