"""Time matrices and isochrones: the matrix against scipy's Dijkstra with both access
legs, the two engines against each other, the polygons' geometry on hand-made graphs,
and both on the embedded sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings, strategies as st
from pyproj import Transformer
from scipy.sparse.csgraph import csgraph_from_dense, dijkstra

from accessibility._errors import InputError
from accessibility.graph import from_edges
from accessibility.models import matrices
from accessibility.models.matrices import isochrones, time_matrix

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MIN = 60.0  # the random graphs count in whole minutes, so every sum is exact


# ------------------------------------------------------------------ helpers
def road_graph(n, u, v, time_s, *, lon=None, lat=None):
    """A RoadGraph of edges u -> v (lengths 1 m per second; nodes on a line near
    Braunschweig unless placed)."""
    u, v = np.asarray(u, np.int64), np.asarray(v, np.int64)
    lon = 10.5 + 0.001 * np.arange(n) if lon is None else np.asarray(lon, float)
    lat = np.full(n, 52.26) if lat is None else np.asarray(lat, float)
    t = np.asarray(time_s, float)
    return from_edges(u, v, t, t.copy(), np.zeros(u.size, np.uint8), class_names=("road",),
                      osm_id=np.arange(n), lon=lon, lat=lat)


def table(ags, node, access_s, on_network=None, **extra):
    """An attached table as accessibility.attach leaves it."""
    node = np.asarray(node, np.int64)
    on = np.ones(node.size, bool) if on_network is None else np.asarray(on_network, bool)
    return pd.DataFrame({"ags": ags, "node": pd.arrays.IntegerArray(node, ~on),
                         "snap_m": np.where(on, 0.0, np.nan),
                         "access_s": np.where(on, np.asarray(access_s, float), np.nan),
                         "on_network": on, **extra})


def as_dict(m: pd.DataFrame) -> dict:
    return {(o, d): float(t) for o, d, t in
            zip(m["origin_ags"].astype(str), m["destination_ags"].astype(str), m["minutes"])}


def reference(n, u, v, w, munis, limit_min):
    """Brute force: access_i + shortest path (scipy) + access_j for every eligible pair."""
    dense = np.full((n, n), np.inf)
    np.minimum.at(dense, (np.asarray(u, int), np.asarray(v, int)), np.asarray(w, float))
    dist = dijkstra(csgraph_from_dense(dense, null_value=np.inf), directed=True)
    ok = munis["on_network"].to_numpy(bool)
    if "in_region" in munis.columns:
        ok = ok & munis["in_region"].to_numpy(bool)
    rows = np.flatnonzero(ok)
    node = munis["node"].to_numpy(np.float64)
    acc = munis["access_s"].to_numpy(np.float64)
    ags = munis["ags"].to_numpy()
    out = {}
    for i in rows:
        for j in rows:
            t = acc[i] + dist[int(node[i]), int(node[j])] + acc[j]
            if i != j and t <= limit_min * 60.0:
                out[(ags[i], ags[j])] = float(np.float32(t / 60.0))
    return out


@st.composite
def cases(draw, max_n=12, max_m=10):
    """A random graph (integer minutes, zero-time, parallel edges, self loops,
    unreachable parts) and municipalities on it: shared nodes, zero and positive
    access legs, some off the network or outside the region."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(0, 3 * n))
    u = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    v = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    w = [MIN * x for x in draw(st.lists(st.integers(0, 5), min_size=m, max_size=m))]
    k = draw(st.integers(1, max_m))
    node = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    acc = [MIN * x for x in draw(st.lists(st.integers(0, 3), min_size=k, max_size=k))]
    on = draw(st.lists(st.booleans(), min_size=k, max_size=k).filter(lambda b: sum(b) > 0))
    munis = table([f"03{i:06d}" for i in range(k)], node, acc, on)
    if draw(st.booleans()):
        munis["in_region"] = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    limit = draw(st.integers(1, 15))
    return n, u, v, w, munis, float(limit)


# ------------------------------------------------------------------ time matrix
@SETTINGS
@given(cases())
def test_time_matrix_matches_scipy_with_both_access_legs(case):
    n, u, v, w, munis, limit = case
    g = road_graph(n, u, v, w)
    ok = munis["on_network"] & munis.get("in_region", True)
    if not ok.any():
        with pytest.raises(InputError, match="no municipality"):
            time_matrix(g, munis, limit_min=limit)
        return
    m = time_matrix(g, munis, limit_min=limit, progress=False)
    assert list(m.columns) == list(matrices.MATRIX_COLUMNS)
    expected = reference(n, u, v, w, munis, limit)
    assert as_dict(m) == expected  # the same pairs (unreached absent) and times
    assert (m["origin_ags"].astype(str) != m["destination_ags"].astype(str)).all()
    assert (m["minutes"] <= limit).all()
    ch = time_matrix(g, munis, limit_min=limit, engine="ch", progress=False)
    pd.testing.assert_frame_equal(ch, m, check_exact=False, rtol=1e-6)


def test_time_matrix_chunks_give_the_same_result(monkeypatch):
    rng = np.random.default_rng(3)
    n = 60
    u, v = rng.integers(0, n, 240), rng.integers(0, n, 240)
    w = rng.integers(1, 300, 240).astype(float)
    munis = table([f"01{i:06d}" for i in range(90)], rng.integers(0, n, 90),
                  rng.uniform(0, 200, 90))
    g = road_graph(n, u, v, w)
    whole = time_matrix(g, munis, limit_min=20, progress=False)
    monkeypatch.setattr(matrices, "_MATRIX_CHUNK", 7)
    chunked = time_matrix(g, munis, limit_min=20)  # several chunks, with a progress bar
    pd.testing.assert_frame_equal(chunked, whole)
    assert len(whole) > 100
    # sorted by origin, then destination
    key = list(zip(whole["origin_ags"].astype(str), whole["destination_ags"].astype(str)))
    assert key == sorted(key)


def test_limit_is_inclusive_and_shared_nodes_keep_their_own_legs():
    # 0 -> 1 takes 10 min; A (1 min leg) and B (2 min leg) share node 0, C sits on 1
    g = road_graph(2, [0], [1], [600.0])
    munis = table(["A", "B", "C"], [0, 0, 1], [60.0, 120.0, 0.0])
    m = as_dict(time_matrix(g, munis, limit_min=12.0, progress=False))
    assert m == {("A", "B"): 3.0, ("B", "A"): 3.0, ("A", "C"): 11.0, ("B", "C"): 12.0}
    # just below B -> C's 12 minutes it is gone; C reaches nobody (one-way): absent, not 0
    m = as_dict(time_matrix(g, munis, limit_min=11.999, progress=False))
    assert ("B", "C") not in m and ("A", "C") in m
    assert not any(o == "C" for o, _ in m)


def test_zero_time_is_kept_and_unreached_is_absent():
    # two municipalities on the same node without access legs are 0 minutes apart;
    # node 2 is disconnected
    g = road_graph(3, [0, 1], [1, 0], [60.0, 60.0])
    munis = table(["A", "B", "C", "D"], [0, 0, 1, 2], [0.0, 0.0, 0.0, 0.0])
    m = time_matrix(g, munis, limit_min=5, progress=False)
    d = as_dict(m)
    assert d[("A", "B")] == 0.0 and d[("A", "C")] == 1.0
    assert not any("D" in pair for pair in d)
    assert m["minutes"].dtype == np.float32 and m["minutes"].notna().all()


def test_destinations_subset_and_region():
    g = road_graph(3, [0, 1, 1, 2], [1, 0, 2, 1], [60.0, 60.0, 60.0, 60.0])
    munis = table(["A", "B", "C"], [0, 1, 2], [0.0, 0.0, 0.0], in_region=[True, True, False])
    d = as_dict(time_matrix(g, munis, limit_min=10, progress=False))
    assert set(d) == {("A", "B"), ("B", "A")}  # C is outside the region
    d = as_dict(time_matrix(g, munis, limit_min=10, destinations=["A"], progress=False))
    assert set(d) == {("B", "A")}
    other = table(["X"], [2], [30.0])
    d = as_dict(time_matrix(g, munis, limit_min=10, destinations=other, progress=False))
    assert d == {("A", "X"): 2.5, ("B", "X"): 1.5}


def test_time_matrix_rejects_bad_inputs():
    g = road_graph(2, [0], [1], [60.0])
    munis = table(["A", "B"], [0, 1], [0.0, 0.0])
    for limit in (0, -5, np.nan, np.inf, "x"):
        with pytest.raises(InputError, match="limit_min"):
            time_matrix(g, munis, limit_min=limit)
    with pytest.raises(InputError, match="unknown engine"):
        time_matrix(g, munis, engine="astar")
    with pytest.raises(InputError, match="no municipality"):
        time_matrix(g, table(["A", "B"], [0, 1], [0.0, 0.0], [False, False]))
    with pytest.raises(InputError, match="twice"):
        time_matrix(g, table(["A", "A"], [0, 1], [0.0, 0.0]))
    with pytest.raises(InputError, match="not attached"):
        time_matrix(g, pd.DataFrame({"ags": ["A"]}))
    with pytest.raises(InputError, match="not among"):
        time_matrix(g, munis, destinations=["Z"])


# ------------------------------------------------------------------ isochrones
TO_WGS = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
FROM_WGS = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)


def line_graph(*, oneway=False):
    """Nodes every 2 km on a west-east line (metric), 60 s per edge; two-way unless
    ``oneway`` (then only west -> east)."""
    x0, y0 = FROM_WGS.transform(10.5, 52.26)
    n = 11
    lon, lat = TO_WGS.transform(x0 + 2000.0 * np.arange(n), np.full(n, y0))
    u, v = list(range(n - 1)), list(range(1, n))
    if not oneway:
        u, v = u + v, v + u
    return road_graph(n, u, v, np.full(len(u), 60.0), lon=lon, lat=lat), x0, y0


def centre_at(g, node, access_s=0.0):
    c = table(["03101000"], [node], [access_s], name=["Centre"],
              lon=[g.lon[node]], lat=[g.lat[node]])
    return c.assign(max_snap_m=500.0, access_speed_kmh=18.0)  # as attach() leaves them


def nested(small, big) -> bool:
    """``big`` covers ``small`` up to the rounding of a polygon union."""
    return small.difference(big).area <= 1e-9 * small.area


def inside(poly, x, y) -> bool:
    lon, lat = TO_WGS.transform(x, y)
    return bool(poly.covers(shapely.Point(lon, lat)))


def test_isochrones_are_nested_valid_and_contain_what_is_reached():
    g, x0, y0 = line_graph()
    iso = isochrones(g, centre_at(g, 5), minutes=(2, 4.5, 1), progress=False,
                     method="network")
    assert list(iso.columns) == [*matrices.ISOCHRONE_COLUMNS, "geometry"]
    assert iso.crs == "EPSG:4326" and list(iso["minutes"]) == [1.0, 2.0, 4.5]
    assert iso.is_valid.all() and (iso.geom_type == "MultiPolygon").all()
    # 1 minute: node 5 and its neighbours; 2: two either side; 4.5: four either side
    assert list(iso["n_nodes"]) == [3, 5, 9]
    polys = list(iso.geometry)
    for small, big in zip(polys, polys[1:]):
        assert nested(small, big) and big.area > small.area
    assert list(iso["area_km2"]) == sorted(iso["area_km2"])
    p45 = polys[2]
    for k in range(1, 10):  # nodes 1..9 reached within 4.5 min
        assert inside(p45, x0 + 2000.0 * k, y0)
    assert not inside(p45, x0, y0) and not inside(p45, x0 + 20000.0, y0)
    # off the road: 18 km/h is 300 m per minute, at most 500 m (the cap)
    assert inside(p45, x0 + 10000.0, y0 + 490.0) and not inside(p45, x0 + 10000.0, y0 + 560.0)


def test_edges_crossing_the_limit_are_cut_where_the_time_runs_out():
    # 4.5 min from node 5: the edge 9 -> 10 (2 km in 60 s) is driven half way, so the
    # polygon ends 1 km beyond node 9 (plus nothing: no time left to leave the road)
    g, x0, y0 = line_graph()
    poly = isochrones(g, centre_at(g, 5), minutes=4.5, progress=False,
                      method="network").geometry.iloc[0]
    assert inside(poly, x0 + 18900.0, y0) and not inside(poly, x0 + 19100.0, y0)
    # a wider off-road radius does not move the tip (no time is left there)
    wide = isochrones(g, centre_at(g, 5), minutes=4.5, max_buffer_m=5000,
                      progress=False, method="network").geometry.iloc[0]
    assert not inside(wide, x0 + 19100.0, y0) and inside(wide, x0 + 10000.0, y0 + 1300.0)


def test_direction_to_searches_the_reversed_graph():
    # one-way west -> east: from node 5 one reaches 6, 7; only 3, 4 reach node 5
    g, x0, y0 = line_graph(oneway=True)
    c = centre_at(g, 5)
    to = isochrones(g, c, minutes=2.5, direction="to", progress=False,
                    method="network").geometry.iloc[0]
    fr = isochrones(g, c, minutes=2.5, direction="from", progress=False,
                    method="network").geometry.iloc[0]
    assert inside(to, x0 + 6000.0, y0) and not inside(to, x0 + 14000.0, y0)
    assert inside(fr, x0 + 14000.0, y0) and not inside(fr, x0 + 6000.0, y0)


def test_centre_access_leg_counts_and_centres_off_the_network_are_skipped():
    g, x0, y0 = line_graph()
    c = pd.concat([centre_at(g, 5, access_s=90.0),
                   table(["03999999"], [0], [0.0], [False], name=["Off"], lon=[10.0],
                         lat=[52.0])], ignore_index=True)
    assert c["access_speed_kmh"].isna().sum() == 1  # the attach setting survives concat
    iso = isochrones(g, c, minutes=(1, 2), progress=False, method="network")
    assert set(iso["ags"]) == {"03101000"} and "1 off the network" in iso.attrs["report"][0]
    # 1.5 min of the 2 go to the centre's own leg: only node 5 itself, no neighbour
    assert list(iso["n_nodes"]) == [0, 1]
    assert not inside(iso.geometry.iloc[1], x0 + 12000.0, y0)
    assert inside(iso.geometry.iloc[0], x0 + 10000.0, y0)  # the centre's point itself


def test_centre_off_its_node_walks_its_leg_first():
    # the centre's point lies 600 m north of node 5: 120 s at 18 km/h (5 m/s)
    g, x0, y0 = line_graph()
    lon, lat = TO_WGS.transform(x0 + 10000.0, y0 + 600.0)
    c = table(["03101000"], [5], [120.0], name=["Centre"], lon=[lon], lat=[lat])
    c["access_speed_kmh"] = 18.0
    one, three = isochrones(g, c, minutes=(1, 3), progress=False,
                            method="network").geometry
    # in 1 minute only the leg's first 300 m: the node is not reached
    assert inside(one, x0 + 10000.0, y0 + 600.0) and inside(one, x0 + 10000.0, y0 + 350.0)
    assert not inside(one, x0 + 10000.0, y0 + 50.0)
    # in 3 minutes: 2 on the leg, then 1 on the road (one node either side)
    assert inside(three, x0 + 11900.0, y0) and not inside(three, x0 + 12300.0, y0 + 300.0)


def test_isochrones_reject_bad_inputs():
    g, _, _ = line_graph()
    c = centre_at(g, 5)
    for bad in ((), (0,), (15, -1), (np.nan,)):
        with pytest.raises(InputError, match="minutes"):
            isochrones(g, c, minutes=bad)
    with pytest.raises(InputError, match="direction"):
        isochrones(g, c, direction="both")
    with pytest.raises(InputError, match="max_buffer_m"):
        isochrones(g, c, max_buffer_m=0)
    with pytest.raises(InputError, match="access_speed_kmh"):
        isochrones(g, c, access_speed_kmh="fast")
    with pytest.raises(InputError, match="not attached"):
        isochrones(g, pd.DataFrame({"ags": ["A"], "lon": [10.5], "lat": [52.2]}))


# ------------------------------------------------------------------ the embedded sample
@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from accessibility.pipeline import graph_and_municipalities

    _, graph, munis, _ = graph_and_municipalities(None, {"output.maps": False}, "test")
    return graph, munis


def test_sample_matrix_braunschweig_wolfenbuettel(sample):
    graph, munis = sample
    m = time_matrix(graph, munis, limit_min=30, progress=False)
    d = as_dict(m)
    assert 10.0 <= d[("03101000", "03158037")] <= 30.0
    assert 10.0 <= d[("03158037", "03101000")] <= 30.0
    assert len(m) > 1000 and (m["minutes"] <= 30).all() and (m["minutes"] > 0).all()
    ch = time_matrix(graph, munis, limit_min=30, engine="ch", progress=False)
    pd.testing.assert_frame_equal(ch, m, check_exact=False, rtol=1e-5)


def test_sample_isochrone_braunschweig_holds_what_the_matrix_reaches(sample):
    graph, munis = sample
    bs = munis[munis["ags"] == "03101000"]
    iso = isochrones(graph, bs, minutes=(15, 30), progress=False, method="network")
    assert iso.is_valid.all() and list(iso["minutes"]) == [15.0, 30.0]
    small, big = iso.geometry
    assert nested(small, big) and 100 < iso["area_km2"].iloc[1] < 5000
    assert big.covers(shapely.Point(bs["lon"].iloc[0], bs["lat"].iloc[0]))
    # with the off-network radius as long as the longest access leg, every
    # municipality the matrix puts within 30 minutes of Braunschweig lies inside
    wide = isochrones(graph, bs, minutes=30,
                      max_buffer_m=munis["max_snap_m"].iloc[0],
                      progress=False, method="network").geometry.iloc[0]
    m = time_matrix(graph, munis, limit_min=30, destinations=["03101000"], progress=False)
    near = munis.set_index("ags").loc[m.loc[m["minutes"] < 29.99, "origin_ags"].astype(str)]
    assert len(near) > 20
    pts = shapely.points(near["lon"].to_numpy(), near["lat"].to_numpy())
    assert shapely.covers(wide, pts).all()
    # a wider radius only adds (two runs: equal up to the few millimetres that
    # reprojecting straight edges moves them, where both end at the same tip)
    assert big.difference(wide).area < 1e-5 * big.area
    # and the far west (Hannover) lies outside the 30-minute polygon
    far = munis[munis["ags"] == "03241001"]
    assert not big.covers(shapely.Point(far["lon"].iloc[0], far["lat"].iloc[0]))


def test_a_run_writes_the_matrix_and_isochrones_on_request(tmp_path):
    """[output] matrix_limit_min / isochrone_minutes (--matrix, --isochrones): the
    run's matrix.parquet equals the API's matrix of the region, and isochrones.gpkg
    has one polygon per Mittel-/Oberzentrum and limit; without them neither file."""
    import geopandas as gpd

    import accessibility as acc
    from accessibility.pipeline import run

    res = run(output_dir=tmp_path / "a", overrides={
        "output.maps": False, "output.models": ["central_places"],
        "output.matrix_limit_min": 30.0, "output.isochrone_minutes": [15.0, 30.0]})
    mat = pd.read_parquet(res.files["matrix"])
    reg = res.municipalities[res.municipalities["in_region"]]
    api_mat = acc.api.time_matrix(res.graph, reg, limit_min=30.0)
    assert len(mat) == len(api_mat) > 1000 and mat["minutes"].max() <= 30.0
    iso = gpd.read_file(res.files["isochrones"], layer="isochrones")
    centres = reg[reg["central_place"].isin(["Oberzentrum", "Mittelzentrum"])
                  & reg["on_network"]]
    assert len(iso) == 2 * len(centres) and set(iso["minutes"]) == {15.0, 30.0}
    plain = run(output_dir=tmp_path / "b", overrides={"output.maps": False,
                                                      "output.models": ["central_places"]})
    assert "matrix" not in plain.files and "isochrones" not in plain.files
    with pytest.raises(acc.InputError, match="isochrone_minutes"):
        run(output_dir=tmp_path / "c", overrides={"output.isochrone_minutes": [0.0]})


def test_a_ch_run_builds_one_hierarchy_for_lage_and_matrix(tmp_path, monkeypatch):
    """With engine = "ch" the matrix of a run queries the Lage's hierarchy (its
    augmented graph, access legs as edges): one build, and the pairs and minutes of
    bounded Dijkstra searches on the plain graph."""
    from accessibility import api
    from accessibility.pipeline import run
    from accessibility.routing import ContractionHierarchy

    builds = []
    real = ContractionHierarchy.build.__func__
    monkeypatch.setattr(ContractionHierarchy, "build",
                        classmethod(lambda cls, *a, **k: builds.append(1) or real(cls, *a, **k)))
    res = run(None, output_dir=tmp_path / "o",
              overrides={"lage.engine": "ch", "output.matrix_limit_min": 45.0,
                         "output.maps": False, "output.models": ["central_places", "lage"]})
    assert len(builds) == 1
    got = pd.read_parquet(res.output_dir / "matrix.parquet")
    m = res.municipalities
    reg = m[m["in_region"].to_numpy(bool)]
    ref = api.time_matrix(res.graph, reg, limit_min=45.0, engine="dijkstra")
    key = ["origin_ags", "destination_ags"]
    a = got.astype({k: str for k in key}).set_index(key)["minutes"]
    b = ref.astype({k: str for k in key}).set_index(key)["minutes"]
    # pairs within float rounding of the limit may fall either side; all others agree
    near = (b - 45.0).abs() < 1e-4
    assert set(a.index) ^ set(b.index) <= set(b.index[near])
    both = a.index.intersection(b.index)
    assert len(both) > 1000
    np.testing.assert_allclose(a.loc[both], b.loc[both], rtol=1e-6)
