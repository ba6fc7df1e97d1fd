"""Public-transport times to the nearest MZ / OZ (accessibility.api.pt_times,
models/public_transport.py): a small feed with hand-derived times, reasons and edge
flags; input errors; the config section; the run with the VRN feed checked against
the time-expanded scipy reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

import accessibility as acc
from accessibility import defaults, transit
from accessibility._errors import InputError
from accessibility.models.public_transport import pt_access

from .conftest import shared

TO_LL = Transformer.from_crs(defaults.METRIC_CRS, defaults.WGS84, always_xy=True)
X0, Y0 = 480_000.0, 5_470_000.0


def _ll(dx, dy):
    return TO_LL.transform(X0 + np.asarray(dx, float), Y0 + np.asarray(dy, float))


@pytest.fixture(scope="module")
def small():
    """s0 (village A) -> s1 (the Mittelzentrum M, 4 km east): a trip every 10 minutes
    06:00-06:50, 20 minutes each; s2 (village E, 2 km west) -> s0 only at 10:00."""
    lon, lat = _ll([0, 4000, -2000], [0, 0, 0])
    stops = pd.DataFrame({"stop_id": ["s0", "s1", "s2"], "stop_lat": lat, "stop_lon": lon,
                          "parent_station": pd.array([None] * 3, dtype=object)})
    rows = []
    for k in range(6):
        t = 6 * 3600 + k * 600
        rows += [(f"a{k}", "s0", 1, t, t), (f"a{k}", "s1", 2, t + 1200, t + 1200)]
    rows += [("e", "s2", 1, 36000, 36000), ("e", "s0", 2, 36600, 36600)]
    st = pd.DataFrame(rows, columns=["trip_id", "stop_id", "stop_sequence", "arrival_s",
                                     "departure_s"])
    tt = transit.build_timetable(stops, st, walk_speed_kmh=3.6, walk_detour=1.0)
    # A at s0; B 600 m north of s0 (10 min on foot at 1 m/s); C inside the coverage
    # but 2.2 km from every stop; D 20 km away; E at s2; M the Mittelzentrum at s1
    mlon, mlat = _ll([0, 0, 2000, 0, -2000, 4000], [0, 600, 900, 20000, 0, 0])
    munis = pd.DataFrame({"ags": list("ABCDEM"), "lon": mlon, "lat": mlat,
                          "population": 1000.0,
                          "central_place": ["keine"] * 5 + ["Mittelzentrum"]})
    return tt, munis


def _run(small, **kw):
    tt, munis = small
    opts = {"window_s": (6 * 3600, 6 * 3600 + 1800), "step_s": 60, "walk_speed_kmh": 3.6,
            "walk_detour": 1.0}
    return pt_access(tt, munis, **{**opts, **kw}).set_index("ags")


def test_times_over_the_window_by_hand(small):
    r = _run(small)
    # A leaves at minute k of a 10-minute headway: waits (10 - k) % 10, rides 20; the 30
    # minutes 06:00-06:29 hold each of 20..29 three times: the 15th of the sorted 30
    # (median, inverted cdf) is 24, the 24th (80th percentile) is 27
    assert r.loc["A", "t_pt_mz_min"] == 24.0
    assert r.loc["A", "t_pt_mz_p80_min"] == 27.0
    # B walks 10 minutes first: the same pattern, 10 minutes later
    assert r.loc["B", "t_pt_mz_min"] == 34.0
    assert r.loc["B", "t_pt_mz_p80_min"] == 37.0
    assert r.loc["A", "pt_mz_trip_share"] == 1.0
    assert r.loc["M", "t_pt_mz_min"] == 0.0  # the central place itself
    assert pd.isna(r.loc["A", "t_pt_oz_min"])  # no Oberzentrum in the input


def test_reasons_where_there_is_no_time(small):
    r = _run(small)
    assert r.loc["C", "t_pt_mz_reason"] == "no stop within walking distance (1000 m)"
    assert r.loc["D", "t_pt_mz_reason"] == "outside the feed's coverage"
    assert r.loc["E", "t_pt_mz_reason"] == "no trip in the window"
    assert r.loc["E", "pt_mz_trip_share"] == 0.0
    assert pd.isna(r.loc["A", "t_pt_mz_reason"])
    assert r.loc["A", "t_pt_ldrail_reason"].startswith("no Fernbahnhof")
    assert r[["t_pt_mz_min", "t_pt_mz_reason"]].notna().sum(axis=1).eq(1).all()


def test_edge_flag_compares_the_time_with_the_way_out_of_the_coverage(small):
    # A lies 1 km inside the coverage's edge: at 300 km/h a line beyond the feed could
    # take over after 12 s, long before 24 minutes; at 1 km/h it takes an hour
    r = _run(small)
    assert r.loc["A", "t_pt_mz_edge_flag"]
    assert not r.loc["M", "t_pt_mz_edge_flag"]  # 0 by definition
    assert not r.loc["D", "t_pt_mz_edge_flag"]  # no value, the reason says why
    slow = _run(small, edge_speed_kmh=1.0)
    assert not slow.loc["A", "t_pt_mz_edge_flag"]
    assert slow.loc["E", "t_pt_mz_edge_flag"]  # no trip: a larger feed might have one


def test_a_direct_walk_and_a_station(small):
    lon, lat = _ll([4500], [0])  # a Fernbahnhof 500 m east of s1
    r = _run(small, stations=pd.DataFrame({"lon": lon, "lat": lat}))
    # A: the MZ trip (24 min median) plus 500 m egress on foot (500 s)
    assert r.loc["A", "t_pt_ldrail_min"] == pytest.approx(24.0 + 500 / 60)
    # M walks there straight: 500 m at 1 m/s, every minute
    assert r.loc["M", "t_pt_ldrail_min"] == pytest.approx(500 / 60)


def test_a_walk_where_no_stop_is_near_the_destination(small):
    # a station 700 m north of B and 1.3 km from s0: no stop serves it, B walks (B has
    # a stop of its own, s0, which leads nowhere near it)
    lon, lat = _ll([0], [1300])
    r = _run(small, stations=pd.DataFrame({"lon": lon, "lat": lat}))
    assert r.loc["B", "t_pt_ldrail_min"] == pytest.approx(700 / 60)
    assert r.loc["A", "t_pt_ldrail_reason"].startswith("no Fernbahnhof")


def test_population_origins_are_weighted_by_residents(small):
    # A's residents: 300 in a cell 0.5 m from s0 and 100 in a cell 230.5 m south (walks
    # rounded up to 1 s and 231 s, half a metre off so that no rounding of the
    # projections moves them). The first misses the departure of its own minute:
    # 21 .. 30 three times, median 25; the second reaches s0 3:51 later: 24 .. 33,
    # median 28; A: (3 x 25 + 28) / 4
    to_grid = Transformer.from_crs(defaults.METRIC_CRS, defaults.GRID_CRS, always_xy=True)
    gx, gy = to_grid.transform([X0, X0], [Y0 + 0.5, Y0 - 230.5])
    grid = pd.DataFrame({"x": gx, "y": gy, "population": [300.0, 100.0]})
    r = _run(small, origins="population", population_grid=grid)
    assert r.loc["A", "t_pt_mz_min"] == pytest.approx((3 * 25 + 28) / 4)
    assert r.loc["B", "t_pt_mz_min"] == 34.0  # no cell: its reference point


def test_population_origins_by_hand(small):
    # A's cells: 300 residents 0.5 m north of s0 (walk 1 s), 100 at 230.5 m south (231
    # s) and 100 at 1,100 m south: no stop within 1,000 m, no time, left out of the
    # mean. The first cell's 30 minutes (it misses the departure of its own minute):
    # 21 .. 30 minutes three times each; sorted, the 15th (median) is 25 and the 24th
    # (80th percentile) 28. The second reaches s0 3:51 after leaving: from 06:00 it
    # waits for 06:10 (30 min), from 06:06 it just gets 06:10 (24 min), from 06:07 it
    # waits for 06:20 (33 min): 24 .. 33 three times each, median 28, percentile 31.
    # A: weighted means over the two cells with a time, 300 : 100.
    to_grid = Transformer.from_crs(defaults.METRIC_CRS, defaults.GRID_CRS, always_xy=True)
    gx, gy = to_grid.transform([X0, X0, X0], [Y0 + 0.5, Y0 - 230.5, Y0 - 1100.0])
    grid = pd.DataFrame({"x": gx, "y": gy, "population": [300.0, 100.0, 100.0]})
    r = _run(small, origins="population", population_grid=grid)
    assert r.loc["A", "t_pt_mz_min"] == pytest.approx((300 * 25 + 100 * 28) / 400)
    assert r.loc["A", "t_pt_mz_p80_min"] == pytest.approx((300 * 28 + 100 * 31) / 400)
    assert r.loc["A", "pt_mz_origin_share"] == pytest.approx(400 / 500)
    assert r.loc["A", "pt_origin_method"] == "population"
    assert r.loc["A", "pt_n_origins"] == 3
    # B has no populated cell: its reference point (600 m north of s0), every minute
    assert r.loc["B", "pt_origin_method"] == "point" and r.loc["B", "pt_n_origins"] == 1
    assert r.loc["B", "t_pt_mz_min"] == 34.0 and r.loc["B", "pt_mz_origin_share"] == 1.0
    # C's reference point has no stop near: no time, none of its weight has one
    assert pd.isna(r.loc["C", "t_pt_mz_min"]) and r.loc["C", "pt_mz_origin_share"] == 0.0
    assert pd.isna(r.loc["M", "pt_mz_origin_share"])  # 0 minutes by definition
    # the same feed from the reference points: the method says so for every row
    p = _run(small)
    assert (p["pt_origin_method"] == "point").all() and (p["pt_n_origins"] == 1).all()
    assert p.loc["A", "t_pt_mz_min"] == 24.0


def test_pt_vs_car_and_the_30_minute_shares(small):
    r = _run(small).reset_index()
    r["t_mz_min"] = [10.0, 12.0, 20.0, 40.0, 15.0, 0.0]
    cmp = acc.api.pt_vs_car(r)
    assert cmp.set_index("ags").loc["A", "ratio_mz"] == pytest.approx(2.4)
    assert pd.isna(cmp.set_index("ags").loc["M", "ratio_mz"])  # car time 0
    within = acc.api.residents_within(r, 30.0).set_index("mode")
    # both times for A, B, M: by car all three within 30, by PT A (24) and M (0)
    assert within.loc["car", "share"] == 1.0
    assert within.loc["public transport", "share"] == pytest.approx(2 / 3)


# ------------------------------------------------------------------ the API's checks
@pytest.fixture(scope="module")
def vrn_feed():
    from accessibility.io import read_gtfs

    return read_gtfs(shared("gtfs", "vrn-rhein-neckar-cut.gtfs.zip"))


def _heidelberg():
    return pd.DataFrame({"ags": ["08221000", "08226012"], "name": ["Heidelberg", "Dossenheim"],
                         "lon": [8.6724, 8.6736], "lat": [49.4077, 49.4485],
                         "population": [160_000.0, 12_000.0],
                         "central_place": ["Oberzentrum", "keine"]})


@pytest.mark.parametrize("kw, words", [
    ({"date": "2030-01-01"}, "no trip of vrn-rhein-neckar-cut.gtfs.zip runs on 2030-01-01"),
    ({"window": ("09:00", "06:00")}, "is empty"),
    ({"window": ("6h", "9h")}, "not a clock time"),
    ({"percentile": 20}, "between 50 and 100"),
    ({"step_min": 0}, "step must be > 0"),
])
def test_bad_input_is_a_clear_error(vrn_feed, kw, words):
    with pytest.raises(InputError, match=words):
        acc.api.pt_times(_heidelberg(), vrn_feed, **kw)


def test_a_feed_of_another_region_is_an_error(vrn_feed):
    far = _heidelberg().assign(lon=[9.73, 9.75], lat=[52.37, 52.38])  # Hannover
    with pytest.raises(InputError, match="another region"):
        acc.api.pt_times(far, vrn_feed)


def test_config_section_checks_its_values(tmp_path):
    from accessibility.config import load_config

    cfg = load_config(None, {"public_transport.percentile": 90.0,
                             "public_transport.window_start": "07:00"})
    assert cfg.public_transport.options()["window"] == ("07:00", "09:00")
    for key, value, words in (("percentile", 30.0, "plausible range"),
                              ("window_end", "05:00", "not before"),
                              ("window_start", "7 Uhr", "clock time"),
                              ("date", "18.10.2022", "YYYY-MM-DD"),
                              ("origins", "area", "point.*population")):
        with pytest.raises(InputError, match=words):
            load_config(None, {f"public_transport.{key}": value})
    assert cfg.public_transport.origins == defaults.ORIGINS  # the car model's default
    assert load_config(None, {"public_transport.origins": "population"}) \
        .public_transport.options()["origins"] == "population"


def test_population_origins_need_the_grid(tmp_path):
    import dataclasses

    from accessibility.config import load_config
    from accessibility.pipeline.inputs import check_inputs

    (tmp_path / "feed.zip").write_bytes(b"")  # only its existence is checked first
    cfg = load_config(None, {"inputs.gtfs": str(tmp_path / "feed.zip"),
                             "public_transport.origins": "population"})
    cfg = dataclasses.replace(cfg, inputs=dataclasses.replace(cfg.inputs,
                                                              population_grid=None))
    with pytest.raises(InputError, match=r"\[public_transport\] origins = 'population' "
                                         r"needs \[inputs\] population_grid"):
        check_inputs(cfg)
    # without a feed the public-transport origins ask for nothing
    check_inputs(dataclasses.replace(cfg, inputs=dataclasses.replace(cfg.inputs, gtfs=None)))


# ------------------------------------------------------------------ the run (done-when)
@pytest.fixture(scope="module")
def vrn_run(tmp_path_factory):
    from accessibility.pipeline import run

    out = tmp_path_factory.mktemp("pt_run")
    res = run(None, out, {
        "inputs.osm": str(shared("osm", "heidelberg.osm.pbf")),
        "inputs.municipalities": str(shared("municipalities", "gemeinden_2019_destatis.csv")),
        "inputs.central_places": str(shared("central_places", "zentrale_orte_2024.csv")),
        "inputs.gtfs": str(shared("gtfs", "vrn-rhein-neckar-cut.gtfs.zip")),
        "inputs.stations": str(shared("reference", "db_long_distance_stations.csv")),
        "public_transport.date": "2022-10-18",
        "output.models": ["central_places", "public_transport"]})
    return out, res


def test_the_run_writes_pt_times_and_the_comparison(vrn_run):
    out, _ = vrn_run
    m = pd.read_csv(out / "municipalities.csv", dtype={"ags": str}).set_index("ags")
    assert m.loc["08221000", "t_pt_mz_min"] == 0.0  # Heidelberg, Oberzentrum
    assert m.loc["08221000", "t_pt_oz_min"] == 0.0
    served = m[m["t_pt_mz_min"].notna() & (m["t_pt_mz_min"] > 0)]
    assert {"08226012", "08226041"} <= set(served.index)  # Dossenheim, Leimen
    assert m["t_pt_mz_reason"].notna().sum() + m["t_pt_mz_min"].notna().sum() == len(m)
    cmp = pd.read_csv(out / "pt_vs_car.csv", dtype={"ags": str}).set_index("ags")
    assert cmp.loc["08226012", "ratio_mz"] == pytest.approx(
        m.loc["08226012", "t_pt_mz_min"] / m.loc["08226012", "t_mz_min"])
    assert "public transport" in (out / "summary.md").read_text()
    for f in ("pt_gvb.csv", "pt_kreis.csv", "pt_land.csv", "map_pt_mz.png",
              "map_pt_car_ratio.png"):
        assert (out / f).exists(), f
    # Heidelberg Hbf is a Fernbahnhof of the DB table: Dossenheim reaches it by tram
    assert m.loc["08226012", "t_pt_ldrail_min"] > 0


def test_run_values_equal_the_time_expanded_reference(vrn_run):
    """Door-to-door times of three municipalities to the nearest MZ and Fernbahnhof,
    every minute 06:00-08:59, by the scipy time-expanded graph: access and egress
    walks computed here, the median and 80th percentile as r5py (inverted cdf over
    the 180 minutes)."""
    from accessibility.io.destinations import read_long_distance_stations
    from accessibility.io.gtfs_timetable import read_gtfs_day
    from accessibility.vocabulary import destinations
    from benchmarks._pt_reference import TimeExpanded

    _, res = vrn_run
    m = res.municipalities.set_index("ags")
    day = read_gtfs_day(shared("gtfs", "vrn-rhein-neckar-cut.gtfs.zip"), "2022-10-18")
    tt = transit.build_timetable(day.stops, day.stop_times, day.transfers)
    to_m = Transformer.from_crs(defaults.WGS84, defaults.METRIC_CRS, always_xy=True)
    served = np.unique(np.concatenate([tt.c_from, tt.c_to]))

    def near(lon, lat):  # served stops within 1 km, walk seconds (1.3 x at 4.8 km/h)
        x, y = to_m.transform(lon, lat)
        d = np.hypot(tt.x[served] - x, tt.y[served] - y)
        ok = d <= 1000.0
        return served[ok], np.ceil(d[ok] * 1.3 / (4.8 / 3.6)).astype(np.int64)

    mz = m[m["central_place"].isin(destinations()["mz"])]
    stations = read_long_distance_stations(shared("reference", "db_long_distance_stations.csv"))
    egress = {}
    for kind, dest in (("mz", mz), ("ldrail", stations)):
        egress[kind] = np.full(tt.n_stops, np.inf)
        for lon, lat in zip(dest["lon"], dest["lat"], strict=True):
            s, w = near(lon, lat)
            np.minimum.at(egress[kind], s, w)
    deps = np.arange(6 * 3600, 9 * 3600, 60)
    cases = {a: near(m.loc[a, "lon"], m.loc[a, "lat"]) for a in
             ("08226012", "08226022", "08226041")}  # Dossenheim, Gaiberg, Leimen
    extra = np.concatenate([np.column_stack([np.repeat(s, deps.size),
                                             np.tile(deps, s.size) + np.repeat(w, deps.size)])
                            for s, w in cases.values()])
    graph = TimeExpanded(tt, extra)
    for ags, (s, w) in cases.items():
        ea = [np.nan_to_num(graph.earliest_arrival(s, w, int(t)), nan=np.inf) for t in deps]
        for kind in ("mz", "ldrail"):
            door = np.array([np.min(e + egress[kind]) - t
                             for e, t in zip(ea, deps, strict=True)]) / 60.0  # inf: no trip
            assert np.isfinite(door).mean() > 0.5, (ags, kind)
            med = np.percentile(door, 50, method="inverted_cdf")
            p80 = np.percentile(door, 80, method="inverted_cdf")
            assert m.loc[ags, f"t_pt_{kind}_min"] == pytest.approx(med, abs=1e-9), (ags, kind)
            if np.isfinite(p80):
                assert m.loc[ags, f"t_pt_{kind}_p80_min"] == pytest.approx(p80, abs=1e-9)
            else:
                assert pd.isna(m.loc[ags, f"t_pt_{kind}_p80_min"]), (ags, kind)


# ------------------------------------------------------------------ scenarios
def _small_day(small):
    """The small fixture's stop times back as frames, with trips and routes."""
    _, munis = small
    rows = [r for k in range(6) for r in ((f"a{k}", "s0", 1, 6 * 3600 + k * 600),
                                          (f"a{k}", "s1", 2, 6 * 3600 + k * 600 + 1200))]
    st = pd.DataFrame(rows + [("e", "s2", 1, 36000), ("e", "s0", 2, 36600)],
                      columns=["trip_id", "stop_id", "stop_sequence", "arrival_s"])
    st["departure_s"] = st["arrival_s"]
    trips = pd.DataFrame({"trip_id": [f"a{k}" for k in range(6)] + ["e"],
                          "route_id": ["R1"] * 6 + ["R2"]})
    routes = pd.DataFrame({"route_id": ["R1", "R2"], "route_short_name": ["L1", "L2"]})
    lon, lat = _ll([0, 4000, -2000], [0, 0, 0])
    stops = pd.DataFrame({"stop_id": ["s0", "s1", "s2"], "stop_lat": lat, "stop_lon": lon,
                          "parent_station": pd.array([None] * 3, dtype=object)})
    return st, trips, routes, stops, munis


def _scenario_times(small, changes: dict):
    from accessibility.models.scenario import read_scenario
    from accessibility.transit.scenario import apply_pt_scenario

    st, trips, routes, stops, munis = _small_day(small)
    sc = read_scenario({"name": "t", "public_transport": changes})
    new = apply_pt_scenario(sc.pt, st, trips, routes, stops)
    tt = transit.build_timetable(stops, new, walk_speed_kmh=3.6, walk_detour=1.0)
    return new, _run((tt, munis))


def test_a_route_every_30_minutes(small):
    new, r = _scenario_times(small, {"headways": [{"route": "L1", "headway_min": 30}]})
    # L1 ran 06:00-06:50 every 10 min: now 06:00 and 06:30 (06:50 is the span's end)
    deps = new[new["stop_id"].eq("s0") & new["trip_id"].str.startswith("L1")]["departure_s"]
    assert sorted(deps) == [6 * 3600, 6 * 3600 + 1800]
    assert len(new[new["trip_id"] == "e"]) == 2  # the other route as it was
    # A at minute k: 20 at k = 0, else wait 30 - k and ride 20: 49 .. 21 -> 20 .. 49 once
    # each: the 15th (median) is 34, the 24th (80th percentile) 43
    assert r.loc["A", "t_pt_mz_min"] == 34.0
    assert r.loc["A", "t_pt_mz_p80_min"] == 43.0


def test_a_new_route_with_a_headway(small):
    new, r = _scenario_times(small, {"new_routes": [{
        "name": "X", "stops": ["s2", "s1"], "run_min": [15], "headway_min": 15,
        "start": "06:00", "end": "06:30", "both_directions": True}]})
    x = new[new["trip_id"].str.startswith("X#")]
    assert len(x) == 2 * 2 * 2  # 06:00 and 06:15, both directions, two stops each
    back = x[x["trip_id"].str.startswith("X#1")].sort_values(["trip_id", "stop_sequence"])
    assert back["stop_id"].tolist()[:2] == ["s1", "s2"]
    # E (at s2) at minute k: 15 at k = 0 and k = 15, 29 .. 16 for k = 1 .. 14, no trip
    # after 06:15 (14 minutes): sorted 15, 15, 16 .. 29, inf x 14: the 15th is 28; the
    # 24th is a minute without a trip
    assert r.loc["E", "t_pt_mz_min"] == 28.0
    assert pd.isna(r.loc["E", "t_pt_mz_p80_min"])
    assert r.loc["E", "pt_mz_trip_share"] == pytest.approx(16 / 30)


@pytest.mark.parametrize("changes, words", [
    ({"headways": [{"route": "L9", "headway_min": 30}]}, "has no trip on the day"),
    ({"headways": [{"route": "L1", "headway_min": 0}]}, "headway_min must be minutes > 0"),
    ({"new_routes": [{"stops": ["s0", "zz"], "run_min": [5], "headway_min": 10,
                      "start": "06:00", "end": "07:00"}]}, "not in the feed"),
    ({"new_routes": [{"stops": ["s0", "s1"], "run_min": [5, 6], "headway_min": 10,
                      "start": "06:00", "end": "07:00"}]}, "one run_min per pair"),
    ({"lines": []}, "unknown \\[public_transport\\] keys"),
])
def test_bad_timetable_scenarios_are_clear_errors(small, changes, words):
    with pytest.raises(InputError, match=words):
        _scenario_times(small, changes)


def test_scenario_command_compares_pt_times(tmp_path):
    from accessibility.pipeline import scenario

    sc = tmp_path / "line24.toml"
    sc.write_text('name = "RNV 24 hourly"\n[[public_transport.headways]]\n'
                  'route = "RNV 24"\nheadway_min = 60\n')
    res = scenario(None, sc, output_dir=tmp_path / "out", overrides={
        "inputs.osm": str(shared("osm", "heidelberg.osm.pbf")),
        "inputs.municipalities": str(shared("municipalities", "gemeinden_2019_destatis.csv")),
        "inputs.central_places": str(shared("central_places", "zentrale_orte_2024.csv")),
        "inputs.gtfs": str(shared("gtfs", "vrn-rhein-neckar-cut.gtfs.zip")),
        "output.maps": False, "output.models": ["central_places"]})
    d = pd.read_csv(tmp_path / "out" / "pt_scenario.csv", dtype={"ags": str}).set_index("ags")
    ch = d["t_pt_mz_min_change"].dropna()
    # fewer trams can make no trip faster; Dossenheim and Schriesheim lie on line 24,
    # Leimen (bus 757) does not
    assert (ch >= 0).all()
    assert ch["08226012"] > 0 and ch["08226082"] > 0
    assert ch["08226041"] == 0
    assert "Public transport before and after" in res.summary


def test_the_summary_names_bbsr_national_shares_only_for_a_national_run():
    """A regional share of residents within 30 minutes is no estimate of BBSR's
    national 99.5 % / 82 %: the summary names them only when the run covers Germany."""
    from accessibility import report

    within = pd.DataFrame({"mode": ["car", "public transport"], "residents": [100.0, 100.0],
                           "within": [100.0, 70.0], "share": [1.0, 0.7],
                           "municipalities": [2, 2]})
    means = pd.DataFrame({"t_mz_min_pop_w": [6.0]})
    kw = dict(minutes=30, standard_mz_min=45, standard_oz_min=90, beyond={})
    regional = "\n".join(report.public_transport_section([], within, means, **kw))
    national = "\n".join(report.public_transport_section([], within, means, national=True,
                                                         **kw))
    assert "99.5" not in regional and "not comparable" in regional
    assert "99.5 % and 82 %" in national
