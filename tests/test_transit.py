"""The timetable router (accessibility.transit) agrees exactly with an independent
reference, the time-expanded graph solved by scipy's Dijkstra
(benchmarks/_pt_reference.py), on random small feeds and on the shared VRN feed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from accessibility import transit
from accessibility._errors import InputError
from accessibility.io.gtfs_timetable import read_gtfs_day
from benchmarks._pt_reference import reference_earliest_arrival

from .conftest import shared

HOUR = 3600


# ------------------------------------------------------------------ random feeds
@st.composite
def feeds(draw):
    """A small random day: stops within ~1 km (so footpaths exist), trips over random
    stop sequences with minute times (zero-minute rides and dwell included),
    parent stations and transfers.txt rows of every type."""
    n_stops = draw(st.integers(2, 8))
    lon = draw(st.lists(st.floats(8.60, 8.61), min_size=n_stops, max_size=n_stops))
    lat = draw(st.lists(st.floats(49.40, 49.405), min_size=n_stops, max_size=n_stops))
    parent = draw(st.lists(st.sampled_from([None, "P1", "P2"]), min_size=n_stops,
                           max_size=n_stops))
    stops = pd.DataFrame({"stop_id": [f"s{i}" for i in range(n_stops)], "stop_lat": lat,
                          "stop_lon": lon, "parent_station": pd.array(parent, dtype=object)})
    rows = []
    for trip in range(draw(st.integers(1, 10))):
        seq = draw(st.lists(st.integers(0, n_stops - 1), min_size=2, max_size=5))
        t = draw(st.integers(0, 15)) * 60  # few distinct minutes: ties are common
        for k, s in enumerate(seq):
            arr = t
            dep = arr + draw(st.sampled_from([0, 0, 60]))
            rows.append((f"t{trip}", f"s{s}", k + 1, arr, dep))
            t = dep + draw(st.sampled_from([0, 0, 60, 120, 300]))
    stop_times = pd.DataFrame(rows, columns=["trip_id", "stop_id", "stop_sequence",
                                             "arrival_s", "departure_s"])
    n_tr = draw(st.integers(0, 4))
    pick = st.integers(0, n_stops - 1)
    transfers = pd.DataFrame({
        "from_stop_id": [f"s{draw(pick)}" for _ in range(n_tr)],
        "to_stop_id": [f"s{draw(pick)}" for _ in range(n_tr)],
        "transfer_type": [draw(st.integers(0, 3)) for _ in range(n_tr)],
        "min_transfer_s": [draw(st.sampled_from([0, 60, 180])) for _ in range(n_tr)]})
    footpath_m = draw(st.sampled_from([0.0, 300.0, 1000.0]))
    return transit.build_timetable(stops, stop_times, transfers, footpath_max_m=footpath_m)


SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(tt=feeds(), data=st.data())
def test_earliest_arrival_equals_the_time_expanded_reference(tt, data):
    k = data.draw(st.integers(1, min(3, tt.n_stops)))
    origin = np.array(data.draw(st.lists(st.integers(0, tt.n_stops - 1), min_size=k,
                                         max_size=k, unique=True)))
    offset = np.array(data.draw(st.lists(st.sampled_from([0, 60, 240]), min_size=k,
                                         max_size=k)))
    t0 = data.draw(st.integers(0, 40)) * 60
    got = transit.earliest_arrival(tt, tt.stop_ids[origin], offset, t0)
    want = reference_earliest_arrival(tt, origin, offset, t0)
    np.testing.assert_array_equal(got, want)


def door_to_door(tt, access, egress, t):
    """Reference door-to-door seconds: earliest arrival + the walk to the destination."""
    ea = reference_earliest_arrival(tt, tt.index_of(access["stop_id"]),
                                    access["access_s"].to_numpy(), t)
    walk = np.full(tt.n_stops, np.inf)
    np.minimum.at(walk, tt.index_of(egress["stop_id"]), egress["egress_s"].to_numpy(float))
    best = np.nanmin(np.where(np.isnan(ea), np.inf, ea) + walk)
    return best - t if np.isfinite(best) else np.nan


@SETTINGS
@given(tt=feeds(), data=st.data())
def test_window_from_the_profile_equals_the_reference_at_every_minute(tt, data):
    ids = list(tt.stop_ids)
    dest = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))
    egress = pd.DataFrame({"stop_id": dest, "egress_s": data.draw(st.lists(
        st.sampled_from([0, 60, 300]), min_size=len(dest), max_size=len(dest)))})
    origin = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))
    access = pd.DataFrame({"origin": "o", "stop_id": origin, "access_s": data.draw(st.lists(
        st.sampled_from([0, 60, 180]), min_size=len(origin), max_size=len(origin)))})
    deps = np.arange(0, 40 * 60, 60 * data.draw(st.integers(1, 7)))
    prof = transit.profile(tt, egress["stop_id"], egress["egress_s"], earliest_s=0)
    got = transit.window_times(prof, access, deps).loc["o"].to_numpy()
    want = [door_to_door(tt, access, egress, int(t)) for t in deps]
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------ hand-made cases
def line_feed(transfers=None, footpath_max_m=400.0):
    """A -> B by trip 1 (08:00-08:10), C -> D by trip 2 (08:15-08:30); B and C are
    about 150 m apart (a footpath of ceil(150 * 1.3 / (4.8 / 3.6)) s)."""
    stops = pd.DataFrame({"stop_id": ["A", "B", "C", "D"],
                          "stop_lat": [49.40, 49.41, 49.41135, 49.42],
                          "stop_lon": [8.60, 8.60, 8.60, 8.60],
                          "parent_station": pd.array([None] * 4, dtype=object)})
    st_ = pd.DataFrame({"trip_id": ["1", "1", "2", "2"], "stop_id": ["A", "B", "C", "D"],
                        "stop_sequence": [1, 2, 1, 2],
                        "arrival_s": [8 * HOUR, 8 * HOUR + 600, 8 * HOUR + 900, 8 * HOUR + 1800],
                        "departure_s": [8 * HOUR, 8 * HOUR + 600, 8 * HOUR + 900,
                                        8 * HOUR + 1800]})
    return transit.build_timetable(stops, st_, transfers, footpath_max_m=footpath_max_m)


def test_a_footpath_joins_two_lines():
    tt = line_feed()
    walk = tt.fp_dur[tt.fp_ptr[1]:tt.fp_ptr[2]]
    assert walk.tolist() == transit.walk_seconds([150.1]).tolist() or walk[0] < 300
    ea = transit.earliest_arrival(tt, ["A"], [0], 7 * HOUR + 3000)
    assert ea[3] == 8 * HOUR + 1800  # A -> B, walk to C, C -> D
    assert np.isnan(transit.earliest_arrival(line_feed(footpath_max_m=50), ["A"], [0],
                                             7 * HOUR)[3])


def test_transfers_txt_sets_and_forbids_the_change():
    slow = pd.DataFrame({"from_stop_id": ["B"], "to_stop_id": ["C"], "transfer_type": [2],
                         "min_transfer_s": [600]})
    ea = transit.earliest_arrival(line_feed(slow), ["A"], [0], 7 * HOUR)
    assert ea[2] == 8 * HOUR + 1200 and np.isnan(ea[3])  # 10 min change misses trip 2
    never = slow.assign(transfer_type=3)
    assert np.isnan(transit.earliest_arrival(line_feed(never), ["A"], [0], 7 * HOUR)[2])


def test_a_zero_minute_ride_feeds_a_trip_leaving_the_same_minute():
    # trip "1" arrives at B at 08:00 in no time; trip "0" leaves B at 08:00 and sorts
    # first among the connections of 08:00: the group must be scanned again
    stops = pd.DataFrame({"stop_id": list("ABC"), "stop_lat": [49.4, 49.5, 49.6],
                          "stop_lon": [8.6] * 3, "parent_station": [None] * 3})
    st_ = pd.DataFrame({"trip_id": ["1", "1", "0", "0"], "stop_id": list("ABBC"),
                        "stop_sequence": [1, 2, 1, 2],
                        "arrival_s": [8 * HOUR] * 3 + [8 * HOUR + 600],
                        "departure_s": [8 * HOUR] * 3 + [8 * HOUR + 600]})
    tt = transit.build_timetable(stops, st_)
    assert transit.earliest_arrival(tt, ["A"], [0], 8 * HOUR).tolist() == [
        8 * HOUR, 8 * HOUR, 8 * HOUR + 600]
    prof = transit.profile(tt, ["C"], [0])
    access = pd.DataFrame({"origin": ["o"], "stop_id": ["A"], "access_s": [0]})
    assert transit.window_times(prof, access, [8 * HOUR]).iloc[0, 0] == 600


def test_window_statistics_take_observed_minutes_and_nan_beyond_the_trips():
    times = pd.DataFrame([[600.0, 1200.0, np.nan, np.nan], [60.0, 120.0, 180.0, 240.0]],
                         index=["a", "b"])
    out = transit.window_statistics(times, percentile=75)
    assert out.loc["a", "t_median_min"] == 20.0 and np.isnan(out.loc["a", "t_p75_min"])
    assert out.loc["b"].tolist() == [2.0, 3.0, 1.0]


def test_bad_input_is_named():
    tt = line_feed()
    with pytest.raises(InputError, match="'X'"):
        transit.earliest_arrival(tt, ["X"], [0], 0)
    with pytest.raises(InputError, match="Timetable"):
        transit.earliest_arrival(pd.DataFrame(), ["A"], [0], 0)
    bad = pd.DataFrame({"trip_id": ["1", "1"], "stop_id": ["A", "B"], "stop_sequence": [1, 2],
                        "arrival_s": [100, 50], "departure_s": [100, 50]})
    with pytest.raises(InputError, match="arrive before"):
        transit.build_timetable(pd.DataFrame({"stop_id": ["A", "B"], "stop_lat": [49.0, 49.1],
                                              "stop_lon": [8.0, 8.0],
                                              "parent_station": [None, None]}), bad)


# ------------------------------------------------------------------ GTFS day
def test_a_day_keeps_its_trips_and_expands_frequencies(tmp_path):
    (tmp_path / "stops.txt").write_text("stop_id,stop_lat,stop_lon\nA,49.4,8.6\nB,49.41,8.6\n")
    (tmp_path / "trips.txt").write_text("route_id,trip_id,service_id\nr,wk,WK\nr,sun,SU\n")
    (tmp_path / "stop_times.txt").write_text(
        "trip_id,stop_id,stop_sequence,arrival_time,departure_time\n"
        "wk,A,1,07:00:00,07:00:00\nwk,B,2,07:10:00,07:10:00\n"
        "sun,A,1,07:05:00,07:05:00\nsun,B,2,07:07:00,07:07:00\n")
    (tmp_path / "calendar.txt").write_text(
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,"
        "end_date\nWK,1,1,1,1,1,0,0,20220101,20221231\nSU,0,0,0,0,0,0,1,20220101,20221231\n")
    (tmp_path / "frequencies.txt").write_text(
        "trip_id,start_time,end_time,headway_secs\nwk,06:00:00,07:00:00,1200\n")
    day = read_gtfs_day(tmp_path, "2022-10-18")  # a Tuesday: no Sunday trip
    assert sorted(day.stop_times["trip_id"].unique()) == ["wk#0", "wk#1", "wk#2"]
    assert sorted(day.stop_times["departure_s"]) == [21600, 22200, 22800, 23400, 24000, 24600]
    tt = transit.build_timetable(day.stops, day.stop_times, day.transfers)
    assert transit.earliest_arrival(tt, ["A"], [0], 6 * HOUR + 60)[1] == 22800 + 600


# ------------------------------------------------------------------ the VRN feed
@pytest.fixture(scope="module")
def vrn():
    day = read_gtfs_day(shared("gtfs", "vrn-rhein-neckar-cut.gtfs.zip"), "2022-10-18")
    return transit.build_timetable(day.stops, day.stop_times, day.transfers)


def test_vrn_earliest_arrival_equals_the_reference(vrn):
    from benchmarks._pt_reference import TimeExpanded

    rng = np.random.default_rng(25)
    served = np.unique(vrn.c_from)
    cases = [(rng.choice(served, 2, replace=False), rng.integers(0, 600, 2),
              int(rng.integers(6 * HOUR, 9 * HOUR)) // 60 * 60) for _ in range(6)]
    extra = np.concatenate([np.column_stack([o, t + d]) for o, d, t in cases])
    graph = TimeExpanded(vrn, extra)
    reached = 0
    for origin, offset, t0 in cases:
        got = transit.earliest_arrival(vrn, vrn.stop_ids[origin], offset, t0)
        np.testing.assert_array_equal(got, graph.earliest_arrival(origin, offset, t0))
        reached += np.isfinite(got).sum()
    assert reached > 6 * 50  # the searches reach far: a real check


def test_vrn_window_equals_a_forward_search_per_minute(vrn):
    # Heidelberg Hbf's stops as the destination, three origins, every 7th minute
    dest = vrn.stop_ids[np.unique(vrn.c_to)][:5]
    prof = transit.profile(vrn, dest, [0, 60, 120, 60, 0])
    origins = vrn.stop_ids[np.unique(vrn.c_from)][[10, 60, 120]]
    access = pd.DataFrame({"origin": ["a", "b", "c"], "stop_id": origins, "access_s": 120})
    deps = np.arange(6 * HOUR, 9 * HOUR, 7 * 60)
    got = transit.window_times(prof, access, deps)
    walk = pd.Series([0, 60, 120, 60, 0], index=dest).groupby(level=0).min()
    idx = vrn.index_of(walk.index)
    for o, s in zip("abc", origins, strict=True):
        ea = [transit.earliest_arrival(vrn, [s], [120], t)[idx] for t in deps]
        want = [np.min(np.where(np.isnan(e), np.inf, e) + walk.to_numpy()) - t
                for e, t in zip(ea, deps, strict=True)]
        want = np.where(np.isfinite(want), want, np.nan)
        np.testing.assert_array_equal(got.loc[o].to_numpy(), want)
    assert got.notna().to_numpy().mean() > 0.5
