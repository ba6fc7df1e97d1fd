"""Road graph: OSM parsing rules, simplification, SCC, snapping, cache, errors."""

from __future__ import annotations

import gzip

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from accessibility._errors import GraphError, InputError
from accessibility.graph import (
    build_graph, dropped_lines, from_edges, from_networkx, graph_from_osm, largest_scc, load_graph,
    save_graph, simplify, snap_points,
)
from accessibility.graph._contract import strong_components
from accessibility.graph.osm import haversine_m, parse_duration_s
from accessibility.profile import DEFAULT_PROFILE, load_profile

from .conftest import OSM_PARAMS, TEST_DATA, shared

SEG = haversine_m(10.0, 52.0, 10.0, 52.01)  # length of one segment of tiny.osm


def csr_min(g, weight="time"):
    """scipy matrix of a graph with parallel edges reduced to the shortest."""
    u, v, w = g.sources, g.targets, g.weights(weight)
    o = np.lexsort((w, v, u))
    u, v, w = u[o], v[o], w[o]
    k = np.ones(u.size, bool)
    k[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return csr_array((w[k], (u[k], v[k])), shape=(g.n_nodes, g.n_nodes))


# ----------------------------------------------------------------- tiny OSM XML
@pytest.fixture(scope="module")
def tiny():
    """tiny.osm with the OSRM rules (0.8 x posted limits): the tests below derive their
    expected times from them."""
    g = graph_from_osm(TEST_DATA / "tiny.osm", "osrm-car")
    return g, {int(o): i for i, o in enumerate(g.osm_id)}


def test_tiny_with_the_default_de_car_profile(tiny):
    """de-car: posted limits at face value, the unlimited Autobahn at 130 km/h, OSRM's
    class speeds elsewhere; never faster than a posted limit or 130 km/h."""
    g = graph_from_osm(TEST_DATA / "tiny.osm")
    assert g.meta["profile"] == "de-car"
    ids = {int(o): i for i, o in enumerate(g.osm_id)}
    assert time_of(g, ids, 2, 3) == pytest.approx(SEG / (50 / 3.6), abs=0.5)  # maxspeed 50
    assert time_of(g, ids, 8, 9) == pytest.approx(SEG / (130 / 3.6), abs=0.5)  # "none"
    assert time_of(g, ids, 1, 2) == pytest.approx(SEG / (25 / 3.6), abs=0.5)  # residential
    road = np.array(g.class_names)[g.road_class] != "ferry"
    assert (g.length_m[road] / g.time_s[road] * 3.6).max() <= 130 + 1e-9


def edge(g, ids, a, b):
    u, v = ids[a], ids[b]
    sel = np.flatnonzero((g.sources == u) & (g.targets == v))
    return sel


def time_of(g, ids, a, b):
    sel = edge(g, ids, a, b)
    assert sel.size == 1, f"expected one edge {a}->{b}, found {sel.size}"
    return g.time_s[sel[0]]


def test_tiny_two_way_residential_class_speed(tiny):
    g, ids = tiny
    assert time_of(g, ids, 1, 2) == pytest.approx(SEG / (25 / 3.6), abs=0.5)
    assert time_of(g, ids, 2, 1) == pytest.approx(SEG / (25 / 3.6), abs=0.5)
    assert g.length_m[edge(g, ids, 1, 2)[0]] == pytest.approx(1111.95, abs=0.1)


def test_tiny_oneway_and_maxspeed(tiny):
    g, ids = tiny
    assert time_of(g, ids, 2, 3) == pytest.approx(SEG / (0.8 * 50 / 3.6), abs=0.5)
    assert edge(g, ids, 3, 2).size == 0


def test_tiny_oneway_minus_one_and_mph(tiny):
    g, ids = tiny
    assert edge(g, ids, 3, 4).size == 0
    assert time_of(g, ids, 4, 3) == pytest.approx(SEG / (0.8 * 30 * 1.609344 / 3.6), abs=0.5)


def test_tiny_roundabout_oneway_de_urban(tiny):
    g, ids = tiny
    assert time_of(g, ids, 4, 5) == pytest.approx(SEG / (0.8 * 50 / 3.6), abs=0.5)
    assert edge(g, ids, 5, 4).size == 0


def test_tiny_access_no_and_private_excluded(tiny):
    g, ids = tiny
    assert edge(g, ids, 5, 6).size == 0 and edge(g, ids, 6, 5).size == 0
    assert g.meta["ways_closed_to_cars"] == 2


def test_tiny_ferry_duration_split_by_length(tiny):
    g, ids = tiny
    t1, t2 = time_of(g, ids, 6, 7), time_of(g, ids, 7, 8)
    assert t1 + t2 == pytest.approx(1200.0, abs=1e-6)
    assert time_of(g, ids, 8, 7) + time_of(g, ids, 7, 6) == pytest.approx(1200.0, abs=1e-6)
    assert g.class_names[g.road_class[edge(g, ids, 6, 7)[0]]] == "ferry"


def test_tiny_motorway_implicit_oneway_maxspeed_none(tiny):
    g, ids = tiny
    assert time_of(g, ids, 8, 9) == pytest.approx(SEG / (90 / 3.6), abs=0.5)
    assert edge(g, ids, 9, 8).size == 0


def test_tiny_walk_and_footway(tiny):
    g, ids = tiny
    assert time_of(g, ids, 9, 10) == pytest.approx(SEG / (0.8 * 7 / 3.6), abs=0.5)
    assert edge(g, ids, 1, 10).size == 0  # footway not drivable


def test_travel_time_is_length_over_speed_everywhere(tiny):
    g, ids = tiny
    names = np.array(g.class_names)[g.road_class]
    road = names != "ferry"
    speed = g.length_m[road] / g.time_s[road] * 3.6
    allowed = [25, 40, 0.8 * 30 * 1.609344, 90, 0.8 * 7]
    assert all(min(abs(s - a) for a in allowed) < 1e-9 for s in speed)


def test_tiny_gz_and_bz2_read_the_same(tmp_path, tiny):
    import bz2

    raw = (TEST_DATA / "tiny.osm").read_bytes()
    (tmp_path / "t.osm.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "t.osm.bz2").write_bytes(bz2.compress(raw))
    for p in (tmp_path / "t.osm.gz", tmp_path / "t.osm.bz2"):
        g = graph_from_osm(p, "osrm-car")
        assert g.n_edges == tiny[0].n_edges
        np.testing.assert_allclose(np.sort(g.time_s), np.sort(tiny[0].time_s))


@pytest.mark.parametrize("value,expected", [
    ("50", 50), ("30 mph", 48.28032), ("DE:urban", 50), ("DE:rural", 100), ("none", None),
    ("walk", 7), ("signals", None), ("50;30", 50), ("DE:zone30", 30), ("", None), ("fast", None),
])
def test_parse_maxspeed(value, expected):
    got = DEFAULT_PROFILE.parse_maxspeed(value)
    assert got == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("value,expected", [
    ("20", 1200), ("00:20", 1200), ("1:30", 5400), ("01:00:30", 3630), ("PT1H5M", 3900),
    ("PT45M", 2700), (None, None), ("soon", None),
])
def test_parse_duration(value, expected):
    assert parse_duration_s(value) == expected


def test_the_profile_cap_clips_every_edge_and_bounds_the_edge_test(tmp_path):
    """de-car caps every edge at 130 km/h: a posted 160 (or a class factor of 1.5 on
    the motorway) runs at 130, and the graph records the cap, which the edge test
    takes (1 % over it for the projection) as the speed beyond the cut; osrm-car has no
    cap: 200 km/h. A cap above the plausible speeds is an input error."""
    import dataclasses

    from accessibility.graph import top_speed_ms

    assert DEFAULT_PROFILE.max_speed_kmh == 130.0
    assert DEFAULT_PROFILE.edge_speed_kmh("motorway", "160") == 130.0
    assert DEFAULT_PROFILE.edge_speed_kmh("primary", "70") == 70.0
    fast = DEFAULT_PROFILE.with_factors({"motorway": 1.5})
    assert fast.edge_speed_kmh("motorway", None) == 130.0
    osrm = load_profile("osrm-car")
    assert osrm.max_speed_kmh is None and osrm.edge_speed_kmh("motorway", "160") == 128.0
    src = (TEST_DATA / "tiny.osm").read_text().replace('<tag k="maxspeed" v="none"/>',
                                                          '<tag k="maxspeed" v="160"/>')
    (tmp_path / "fast.osm").write_text(src)
    g = graph_from_osm(tmp_path / "fast.osm")
    assert g.meta["max_speed_kmh"] == 130.0
    road = np.array(g.class_names)[g.road_class] != "ferry"
    assert (g.length_m[road] / g.time_s[road] * 3.6).max() == pytest.approx(130.0)
    assert top_speed_ms(g) * 3.6 == pytest.approx(130.0 * 1.01)
    assert top_speed_ms(graph_from_osm(tmp_path / "fast.osm", osrm)) * 3.6 == pytest.approx(200.0)
    # a ferry timed by its duration tag (20 minutes over two segments) runs no faster
    # than the cap either: a duration of 1 minute gives 2 x SEG at 130 km/h
    (tmp_path / "ferry.osm").write_text(src.replace('v="00:20"', 'v="00:01"'))
    g = graph_from_osm(tmp_path / "ferry.osm")
    ferry = np.array(g.class_names)[g.road_class] == "ferry"
    np.testing.assert_allclose(g.time_s[ferry], g.length_m[ferry] / (130 / 3.6))
    g = graph_from_osm(tmp_path / "ferry.osm", osrm)
    # (both directions: 60 s each)
    assert g.time_s[np.array(g.class_names)[g.road_class] == "ferry"].sum() == pytest.approx(120.0)
    with pytest.raises(InputError, match="max_speed_kmh"):
        dataclasses.replace(DEFAULT_PROFILE, max_speed_kmh=500.0)


def test_profile_from_toml(tmp_path):
    p = tmp_path / "slow.toml"
    p.write_text('name = "slow"\nmaxspeed_factor = 1.0\n[speeds_kmh]\nresidential = 10\n')
    prof = load_profile(p)
    g = graph_from_osm(TEST_DATA / "tiny.osm", prof)
    assert set(np.array(g.class_names)[g.road_class]) == {"residential", "ferry"}
    assert prof.fingerprint() != DEFAULT_PROFILE.fingerprint()
    with pytest.raises(InputError, match="unknown keys"):
        (tmp_path / "bad.toml").write_text('speedz = 1\n[speeds_kmh]\nresidential = 10\n')
        load_profile(tmp_path / "bad.toml")
    with pytest.raises(InputError, match="unknown speed profile"):
        load_profile("nope")


# ----------------------------------------------------------------- real OSM files
@pytest.mark.parametrize("path", OSM_PARAMS, ids=lambda p: getattr(p, "name", "none"))
def test_every_shared_osm_file_builds(path):
    raw = graph_from_osm(path)
    g, stats = simplify(raw)
    assert raw.n_nodes > 1000 and raw.n_edges > raw.n_nodes
    assert 0.8 < stats["scc"]["node_share_kept"] <= 1.0
    assert 0 < g.n_nodes < raw.n_nodes and g.n_edges < raw.n_edges
    # plausible travel speeds: 0.8 x maxspeed 5 (4 km/h) .. 130 km/h on roads
    road = np.array(g.class_names)[g.road_class] != "ferry"
    v = g.length_m[road] / g.time_s[road] * 3.6
    assert v.min() >= 4 - 1e-9 and v.max() < 131
    # inside Germany
    assert 5 < g.lon.min() and g.lon.max() < 16 and 47 < g.lat.min() and g.lat.max() < 56


@pytest.mark.parametrize("name", ["hannover-braunschweig-main-roads.osm.pbf", "heidelberg.osm.pbf",
                                  "north-bayreuth.osm.gz"])
def test_simplification_preserves_shortest_paths(name):
    raw = graph_from_osm(shared("osm", name))
    full, _ = largest_scc(raw)
    g, _ = simplify(raw)
    idx = np.searchsorted(full.osm_id, g.osm_id)
    assert np.array_equal(full.osm_id[idx], g.osm_id)
    src = np.random.default_rng(1).choice(g.n_nodes, 8, replace=False)
    # travel time only: parallel edges are reduced to the fastest one, which need
    # not be the shortest in metres
    d_s = dijkstra(csr_min(g), indices=src)
    d_f = dijkstra(csr_min(full), indices=idx[src])[:, idx]
    np.testing.assert_allclose(d_s, d_f, rtol=1e-9, atol=1e-6)


def test_hannover_braunschweig_counts():
    g = build_graph(shared("osm", "hannover-braunschweig-main-roads.osm.pbf"))
    st_ = g.meta["simplify"]
    assert 90_000 < st_["nodes_raw"] < 110_000
    assert st_["scc"]["node_share_kept"] > 0.95
    km = g.km_by_class()
    assert {"motorway", "primary", "secondary", "trunk"} <= set(km)
    assert 500 < km["motorway"] < 900  # both carriageways of ~350 km of Autobahn


def test_simplify_keeps_requested_nodes():
    raw = graph_from_osm(shared("osm", "north-bayreuth.osm.gz"))
    full, _ = largest_scc(raw)
    keep_ids = full.osm_id[np.random.default_rng(0).choice(full.n_nodes, 50, replace=False)]
    keep = np.isin(raw.osm_id, keep_ids)
    g, _ = simplify(raw, keep=keep)
    assert np.isin(keep_ids, g.osm_id).all()


# ------------------------------------------------------------ property-based contraction
@st.composite
def chain_graphs(draw):
    """Random road-like graphs: random edges plus long two-way and one-way chains."""
    n = draw(st.integers(3, 25))
    m = draw(st.integers(0, 40))
    u = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    v = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    w = draw(st.lists(st.integers(0, 5), min_size=m, max_size=m))
    edges = list(zip(u, v, w))
    nxt = n
    for _ in range(draw(st.integers(0, 4))):  # chains hung between random nodes
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        k = draw(st.integers(1, 5))
        two_way = draw(st.booleans())
        path = [a] + list(range(nxt, nxt + k)) + [b]
        nxt += k
        for p, q in zip(path[:-1], path[1:]):
            t = draw(st.integers(0, 5))
            edges.append((p, q, t))
            if two_way:
                edges.append((q, p, draw(st.integers(0, 5))))
    return nxt, edges


@given(chain_graphs())
@settings(max_examples=150, deadline=None)
def test_contraction_preserves_distances_random(data):
    n, edges = data
    if not edges:
        return
    u, v, t = (np.array(x) for x in zip(*edges))
    lon = 10 + np.arange(n) * 1e-3
    g = from_edges(u, v, t.astype(float), t.astype(float) * 10, np.zeros(len(u)),
                   class_names=("road",), osm_id=np.arange(n), lon=lon, lat=np.full(n, 52.0))
    s, _ = simplify(g, scc=False)
    idx = s.osm_id  # osm ids are the original indices here
    d_s = dijkstra(csr_min(s), indices=np.arange(s.n_nodes))
    d_f = dijkstra(csr_min(g), indices=idx)[:, idx]
    np.testing.assert_allclose(d_s, d_f)


@given(st.integers(1, 30), st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=80))
@settings(max_examples=150, deadline=None)
def test_strong_components_match_networkx(n, pairs):
    pairs = [(a % n, b % n) for a, b in pairs]
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    G.add_edges_from(pairs)
    u = np.array([p[0] for p in pairs], dtype=np.int64)
    v = np.array([p[1] for p in pairs], dtype=np.int64)
    order = np.lexsort((v, u))
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=offsets[1:])
    labels = strong_components(offsets, v[order].astype(np.int32))
    ours = {frozenset(np.flatnonzero(labels == k)) for k in np.unique(labels)}
    theirs = {frozenset(c) for c in nx.strongly_connected_components(G)}
    assert ours == theirs


# ------------------------------------------------------------------- graph object
def test_reversed_graph(tiny):
    g, ids = tiny
    r = g.reversed
    assert r.n_edges == g.n_edges and r.reversed is g
    fw = set(zip(g.sources.tolist(), g.targets.tolist(), g.time_s.tolist()))
    bw = set(zip(r.targets.tolist(), r.sources.tolist(), r.time_s.tolist()))
    assert fw == bw


def test_graph_is_immutable(tiny):
    g, _ = tiny
    with pytest.raises(ValueError):
        g.time_s[0] = 1.0
    with pytest.raises(AttributeError):
        g.crs = "EPSG:3035"


def test_memory_per_node_and_edge(hb_graph):
    from accessibility.graph import BYTES_PER_EDGE, BYTES_PER_NODE

    g = hb_graph
    assert g.nbytes == BYTES_PER_NODE * g.n_nodes + BYTES_PER_EDGE * g.n_edges + 8


def test_from_networkx_round_trip(hb_graph):
    G = hb_graph.to_networkx()
    for _, _, d in G.edges(data=True):
        d["length"] = d["length_m"]
        d["travel_time"] = d["time_s"]
    g = from_networkx(G, use_travel_time=True)
    assert g.n_edges == hb_graph.n_edges
    np.testing.assert_allclose(np.sort(g.time_s), np.sort(hb_graph.time_s))
    with pytest.raises(GraphError):
        from_networkx(nx.MultiDiGraph())


# ----------------------------------------------------------------------- snapping
def test_snap_points_distance_flag_and_access_time(hb_graph):
    g = hb_graph
    lon = np.array([g.lon[10], 9.7320, 7.0])  # on a node, Hannover centre, far west
    lat = np.array([g.lat[10], 52.3745, 52.0])
    s = snap_points(g, lon, lat, max_snap_m=3000, access_speed_kmh=36)
    assert s.node[0] == 10 and s.snap_m[0] < 0.01
    assert s.on_network[1] and 0 < s.snap_m[1] < 3000
    assert s.access_s[1] == pytest.approx(s.snap_m[1] / 10)
    assert not s.on_network[2] and s.node[2] == -1 and np.isnan(s.access_s[2])
    assert s.snap_m[2] > 100_000


def test_snap_rejects_nan_and_projected(hb_graph):
    with pytest.raises(InputError, match="NaN"):
        snap_points(hb_graph, [10.0, np.nan], [52.0, 52.0], ids=["a", "b"])
    with pytest.raises(InputError, match="WGS84"):
        snap_points(hb_graph, [550_000.0], [5_800_000.0])


# -------------------------------------------------------------------------- cache
def test_cache_round_trip(tmp_path):
    src = shared("osm", "north-bayreuth.osm.gz")
    g1 = build_graph(src, cache_dir=tmp_path)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    g2 = build_graph(src, cache_dir=tmp_path)
    for k in ("offsets", "targets", "time_s", "length_m", "road_class", "osm_id", "x", "y"):
        assert np.array_equal(getattr(g1, k), getattr(g2, k))
    assert g2.class_names == g1.class_names and g2.meta["simplify"] == g1.meta["simplify"]
    # another profile is another cache entry
    build_graph(src, DEFAULT_PROFILE.with_factors({"primary": 0.9}), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 2
    p = save_graph(g1, tmp_path / "g.npz")
    assert load_graph(p).n_edges == g1.n_edges
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


#: One change per field of a speed profile that changes travel times, the name held
#: fixed (a re-calibrated profile keeps its name when it is saved back to its file).
PROFILE_CHANGES = {
    "speeds_kmh": lambda p: {**p.speeds_kmh, "primary": p.speeds_kmh["primary"] + 1.0},
    "maxspeed_factor": lambda p: p.maxspeed_factor * 0.9,
    "ferry_speed_kmh": lambda p: p.ferry_speed_kmh + 1.0,
    "blocked_access": lambda p: p.blocked_access | {"destination"},
    "maxspeed_zones_kmh": lambda p: {**p.maxspeed_zones_kmh, "de:urban": 40.0},
    "class_factors": lambda p: {**p.class_factors, "primary": 0.9},
    "mode": lambda p: "foot",
    "access_speed_kmh": lambda p: (p.access_speed_kmh or 20.0) + 1.0,
    "max_speed_kmh": lambda p: (p.max_speed_kmh or 130.0) + 10.0,
}


def test_cache_key_changes_with_each_profile_field(tmp_path):
    """Every field that changes times (or the graph's meta) changes the cache key;
    the free-text description does not."""
    import dataclasses

    from accessibility.graph import cache_key

    src = tmp_path / "x.osm"
    src.write_bytes((TEST_DATA / "tiny.osm").read_bytes())
    base = DEFAULT_PROFILE
    key = cache_key(src, base.fingerprint(), simplify=True)
    assert cache_key(src, base.fingerprint(), simplify=True) == key
    fields = {f.name for f in dataclasses.fields(base)} - {"name", "description"}
    assert set(PROFILE_CHANGES) == fields  # a new field needs its row
    for name, change in PROFILE_CHANGES.items():
        other = dataclasses.replace(base, **{name: change(base)})
        assert other.name == base.name
        assert cache_key(src, other.fingerprint(), simplify=True) != key, name
    same = dataclasses.replace(base, description="another text")
    assert cache_key(src, same.fingerprint(), simplify=True) == key
    # the build options and the file's content key it too
    for opts in ({"simplify": False}, {"simplify": True, "max_snap_m": 500.0},
                 {"simplify": True, "crs": "EPSG:3035"}):
        assert cache_key(src, base.fingerprint(), **opts) != key, opts
    src.write_bytes((TEST_DATA / "tiny.osm").read_bytes().replace(b'v="primary"', b'v="trunk"'))
    assert cache_key(src, base.fingerprint(), simplify=True) != key


def test_recalibrated_profile_is_not_served_a_stale_graph(tmp_path):
    """A profile re-calibrated under the same name builds its own graph."""
    import dataclasses

    src = TEST_DATA / "tiny.osm"
    g1 = build_graph(src, DEFAULT_PROFILE, simplify_graph=False, cache_dir=tmp_path)
    slower = dataclasses.replace(DEFAULT_PROFILE, class_factors={"primary": 0.5})
    g2 = build_graph(src, slower, simplify_graph=False, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 2
    prim = g1.class_names.index("primary")
    on = g1.road_class == prim
    # half the speed on the primary road: twice its times, the rest unchanged
    assert on.any() and np.allclose(np.sort(g2.time_s[g2.road_class == prim]),
                                    2 * np.sort(g1.time_s[on]))
    assert np.allclose(np.sort(g2.time_s[g2.road_class != prim]), np.sort(g1.time_s[~on]))


# -------------------------------------------------------------------- bad input
def test_missing_file():
    with pytest.raises(InputError, match="does not exist"):
        graph_from_osm("/nonexistent/berlin.osm.pbf")


def test_not_an_osm_file(tmp_path):
    p = tmp_path / "fake.osm.pbf"
    p.write_bytes(b"this is not a protobuf file" * 10)
    with pytest.raises(InputError, match="cannot read"):
        graph_from_osm(p)
    q = tmp_path / "table.csv"
    q.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="does not look like an OSM file"):
        graph_from_osm(q)


def test_no_drivable_road(tmp_path):
    p = tmp_path / "paths.osm"
    p.write_text('<?xml version="1.0"?><osm version="0.6">'
                 '<node id="1" lat="52" lon="10"/><node id="2" lat="52.001" lon="10"/>'
                 '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way></osm>')
    with pytest.raises(GraphError, match="no drivable road"):
        graph_from_osm(p)


def test_load_graph_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_graph(tmp_path / "none.npz")
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(InputError, match="not a complete graph file"):
        load_graph(tmp_path / "bad.npz")


# ------------------------------------------------------------------- walking mode
def test_walk_profile_rules():
    from accessibility.profile import WALK_PROFILE

    g = graph_from_osm(TEST_DATA / "tiny.osm", WALK_PROFILE)
    ids = {int(o): i for i, o in enumerate(g.osm_id)}
    # oneway streets and roundabouts are walkable both ways
    for a, b in ((2, 3), (3, 2), (3, 4), (4, 3), (4, 5), (5, 4), (1, 10), (10, 1)):
        assert edge(g, ids, a, b).size >= 1, (a, b)
    # motor_vehicle=private does not bind pedestrians, access=no does
    assert edge(g, ids, 5, 6).size == 1
    # no motorway, no ferry
    assert 8 not in ids or edge(g, ids, 8, 9).size == 0
    assert 7 not in ids  # node 7 lies only on the ferry
    # constant 5 km/h, time = length / speed
    np.testing.assert_allclose(g.time_s, g.length_m / (5 / 3.6))


def test_walk_graph_of_dreieich():
    g = build_graph(shared("osm", "dreieich.osm.gz"), "walk")
    km = g.km_by_class()
    assert {"footway", "path", "residential"} <= set(km)
    assert "motorway" not in km
    # undirected: every edge has its reverse with the same length
    fw = set(zip(g.sources.tolist(), g.targets.tolist()))
    assert all((v, u) in fw for u, v in fw)


def test_largest_scc_reports_dead_ends_and_islands_per_class():
    # main: a 3-node cycle (primary); dead end: 2 -> 3 -> 4 one-way (motorway, 2 edges,
    # leads out of the cycle only); island: 5 <-> 6 (primary), not joined at all
    u = np.array([0, 1, 2, 2, 3, 5, 6])
    v = np.array([1, 2, 0, 3, 4, 6, 5])
    length = np.array([100.0, 100, 100, 1000, 2000, 500, 500])
    cls = np.array([1, 1, 1, 0, 0, 1, 1])
    g = from_edges(u, v, length / 10, length, cls, class_names=("motorway", "primary"),
                   osm_id=np.arange(7), lon=np.linspace(10, 10.1, 7), lat=np.full(7, 52.0))
    sub, rep = largest_scc(g)
    assert sub.n_nodes == 3
    assert rep["km_dead_end_by_class"] == {"motorway": 3.0}
    assert rep["km_island_by_class"] == {"primary": 1.0}
    stats = {"km_by_class_raw": g.km_by_class(), "km_by_class": sub.km_by_class(),
             "scc_km_dead_end_by_class": rep["km_dead_end_by_class"],
             "scc_km_island_by_class": rep["km_island_by_class"]}
    line = dropped_lines(stats)[0]
    assert "motorway 3.0 of 3.0 km (100%)" in line and "3.0 km are dead ends" in line
    assert "1.0 km lie on islands" in line


# ------------------------------------------- lean kernels against independent references
def _contractible_reference(graph, keep=None):
    """contractible_nodes as it was in numpy (np.minimum.at / np.maximum.at)."""
    n = graph.n_nodes
    src, dst = graph.sources, graph.targets
    outdeg = np.diff(graph.offsets)
    indeg = np.bincount(dst, minlength=n)
    ok = ((indeg == 1) & (outdeg == 1)) | ((indeg == 2) & (outdeg == 2))
    loop = np.zeros(n, bool)
    loop[src[src == dst]] = True
    cmin = np.full(n, 255, np.int64)
    cmax = np.zeros(n, np.int64)
    for a in (src, dst):
        np.minimum.at(cmin, a, graph.road_class)
        np.maximum.at(cmax, a, graph.road_class)
    ok &= ~loop & (cmin == cmax)

    def nb_range(at, other):
        lo = np.full(n, np.iinfo(np.int64).max, np.int64)
        hi = np.full(n, -1, np.int64)
        np.minimum.at(lo, at, other)
        np.maximum.at(hi, at, other)
        return lo, hi

    out_lo, out_hi = nb_range(src, dst)
    in_lo, in_hi = nb_range(dst, src)
    two = indeg == 2
    ok[two] &= (out_lo[two] == in_lo[two]) & (out_hi[two] == in_hi[two])
    first = graph.offsets[:-1]
    idx = np.flatnonzero(two & ok)
    ok[idx] &= graph.targets[first[idx]] != graph.targets[first[idx] + 1]
    one = (indeg == 1) & ok
    in_nb = np.zeros(n, np.int64)
    in_nb[dst] = src
    idx = np.flatnonzero(one)
    ok[idx] &= graph.targets[first[idx]] != in_nb[idx]
    if keep is not None:
        ok &= ~keep
    return ok


def _largest_scc_reference(graph):
    """largest_scc as it was: the subgraph by RoadGraph.subgraph, the dead-end /
    island report by scipy's breadth-first search on the CSR and its transpose."""
    from scipy.sparse.csgraph import breadth_first_order

    labels = strong_components(graph.offsets, graph.targets)
    keep = labels == np.argmax(np.bincount(labels))
    sub = graph.subgraph(keep)
    n = graph.n_nodes
    adj = csr_array((np.ones(graph.n_edges, np.int8), graph.targets, graph.offsets), shape=(n, n))
    root = int(np.flatnonzero(keep)[0])
    reached = np.zeros(n, bool)
    reached[breadth_first_order(adj, root, directed=True, return_predecessors=False)] = True
    reaching = np.zeros(n, bool)
    reaching[breadth_first_order(adj.T.tocsr(), root, directed=True,
                                 return_predecessors=False)] = True
    src = graph.sources
    dropped = ~(keep[src] & keep[graph.targets])
    dead_end = dropped & (reaching[src] | reached[graph.targets])
    island = dropped & ~dead_end

    def km_by(mask):
        km = np.bincount(graph.road_class[mask], weights=graph.length_m[mask],
                         minlength=len(graph.class_names)) / 1000.0
        return {graph.class_names[i]: float(km[i]) for i in np.flatnonzero(km)}

    report = {
        "components": int(labels.max()) + 1,
        "nodes_kept": sub.n_nodes, "nodes_dropped": n - sub.n_nodes,
        "edges_kept": sub.n_edges, "edges_dropped": graph.n_edges - sub.n_edges,
        "node_share_kept": sub.n_nodes / n,
        "km_dropped": float(graph.length_m.sum() - sub.length_m.sum()) / 1000.0,
        "km_dead_end_by_class": km_by(dead_end), "km_island_by_class": km_by(island),
    }
    return sub, keep, reached, reaching, report


@st.composite
def road_graphs(draw, max_n=30):
    """Random multigraphs with self loops, parallel edges, two-way and one-way chains
    and two road classes: every case contractible_nodes and largest_scc distinguish."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(0, 3 * max_n))
    node = st.integers(0, n - 1)
    edges = draw(st.lists(st.tuples(node, node, st.integers(0, 1)), min_size=m, max_size=m))
    nxt = n
    for _ in range(draw(st.integers(0, 4))):
        a, b, k, c = draw(node), draw(node), draw(st.integers(1, 4)), draw(st.integers(0, 1))
        two_way = draw(st.booleans())
        path = [a, *range(nxt, nxt + k), b]
        nxt += k
        for p, q in zip(path[:-1], path[1:]):
            edges.append((p, q, c))
            if two_way:
                edges.append((q, p, c))
    seed = draw(st.integers(0, 2**31))
    return nxt, edges, seed


def _graph_of(n, edges, seed):
    rng = np.random.default_rng(seed)
    if edges:
        u, v, c = (np.array(x) for x in zip(*edges))
    else:
        u = v = c = np.zeros(0, np.int64)
    length = rng.integers(1, 1000, u.size).astype(float)
    return from_edges(u, v, length / 10, length, c, class_names=("primary", "residential"),
                      osm_id=np.arange(n), lon=10 + rng.random(n) * 0.1,
                      lat=52 + rng.random(n) * 0.1)


@given(road_graphs(), st.data())
@settings(max_examples=300, deadline=None)
def test_contractible_kernel_matches_numpy_reference(case, data):
    from accessibility.graph.simplify import contractible_nodes

    g = _graph_of(*case)
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=g.n_nodes, max_size=g.n_nodes)),
                    dtype=bool)
    np.testing.assert_array_equal(contractible_nodes(g), _contractible_reference(g))
    np.testing.assert_array_equal(contractible_nodes(g, keep), _contractible_reference(g, keep))


@given(road_graphs())
@settings(max_examples=300, deadline=None)
def test_lean_largest_scc_matches_reference(case):
    from accessibility.graph._contract import reachable, reaching

    g = _graph_of(*case)
    sub, keep, reached, reaching_ref, report = _largest_scc_reference(g)
    root = int(np.flatnonzero(keep)[0])
    np.testing.assert_array_equal(reachable(g.offsets, g.targets, root), reached)
    np.testing.assert_array_equal(reaching(g.offsets, g.targets, root), reaching_ref)
    lean, rep = largest_scc(g)
    assert rep == report
    np.testing.assert_array_equal(lean.meta.pop("scc_mask"), keep)
    for k in ("offsets", "targets", "time_s", "length_m", "road_class", "osm_id", "lon", "lat",
              "x", "y"):
        a, b = getattr(lean, k), getattr(sub, k)
        assert a.dtype == b.dtype and np.array_equal(a, b), k


@pytest.mark.parametrize("seed", range(5))
def test_reach_kernels_match_scipy_bfs_on_large_random_graphs(seed):
    from scipy.sparse.csgraph import breadth_first_order

    from accessibility.graph._contract import reachable, reaching

    rng = np.random.default_rng(seed)
    n = 5000
    u, v = rng.integers(0, n, 6000), rng.integers(0, n, 6000)
    g = from_edges(u, v, np.ones(u.size), np.ones(u.size), np.zeros(u.size),
                   class_names=("road",), osm_id=np.arange(n), lon=np.zeros(n), lat=np.zeros(n),
                   x=np.zeros(n), y=np.zeros(n))
    adj = g.to_scipy()
    for root in rng.integers(0, n, 5):
        fw = np.zeros(n, bool)
        fw[breadth_first_order(adj, root, directed=True, return_predecessors=False)] = True
        bw = np.zeros(n, bool)
        bw[breadth_first_order(adj.T.tocsr(), root, directed=True, return_predecessors=False)] = True
        np.testing.assert_array_equal(reachable(g.offsets, g.targets, root), fw)
        np.testing.assert_array_equal(reaching(g.offsets, g.targets, root), bw)


def test_largest_scc_of_unsorted_rows_takes_the_subgraph_path():
    """A RoadGraph built directly, rows not sorted by head: the lean subgraph would
    keep the unsorted order, so largest_scc falls back to RoadGraph.subgraph."""
    from accessibility.graph import RoadGraph

    # 0 -> 2, 0 -> 1 (unsorted), 1 -> 0, 2 -> 0, 3 -> 0 (node 3 a dead end)
    g = RoadGraph(offsets=np.array([0, 2, 3, 4, 5]), targets=np.array([2, 1, 0, 0, 0]),
                  time_s=np.arange(5.0), length_m=np.arange(5.0) * 10,
                  road_class=np.zeros(5), class_names=("road",), osm_id=np.arange(4),
                  lon=np.linspace(10, 10.1, 4), lat=np.full(4, 52.0))
    sub, rep = largest_scc(g)
    ref = g.subgraph(np.array([True, True, True, False]))
    assert np.array_equal(sub.targets, ref.targets) and np.array_equal(sub.time_s, ref.time_s)
    assert list(sub.targets[:2]) == [1, 2]
    assert rep["km_dead_end_by_class"] == {"road": 0.04}


def test_strong_components_int32_and_int64_work_arrays_agree():
    from accessibility.graph._contract import _tarjan

    rng = np.random.default_rng(3)
    n = 3000
    u, v = rng.integers(0, n, 4000), rng.integers(0, n, 4000)
    g = from_edges(u, v, np.ones(u.size), np.ones(u.size), np.zeros(u.size),
                   class_names=("road",), osm_id=np.arange(n), lon=np.zeros(n), lat=np.zeros(n),
                   x=np.zeros(n), y=np.zeros(n))
    a = strong_components(g.offsets, g.targets)
    b = _tarjan(g.offsets, g.targets, np.empty(0, np.int64))
    assert a.dtype == np.int32 and b.dtype == np.int64
    np.testing.assert_array_equal(a, b)
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    G.add_edges_from(zip(u.tolist(), v.tolist()))
    theirs = list(nx.strongly_connected_components(G))
    assert a.max() + 1 == len(theirs)
    # the same partition: each of our components is exactly one of networkx's
    assert all(np.unique(a[list(c)]).size == 1 for c in theirs)


@pytest.mark.parametrize("path", OSM_PARAMS, ids=lambda p: getattr(p, "name", "none"))
def test_fixed_point_coordinates_give_libosmium_doubles(path):
    """The collector keeps libosmium's int32 coordinates; coordinates_deg must give
    the very doubles loc.lon / loc.lat give, for every node of the real extracts."""
    import osmium

    from accessibility.graph.osm import coordinates_deg

    x, y, lon, lat = [], [], [], []
    for node in osmium.FileProcessor(str(path), osmium.osm.NODE):
        loc = node.location
        if loc.valid():
            x.append(loc.x)
            y.append(loc.y)
            lon.append(loc.lon)
            lat.append(loc.lat)
    assert len(x) > 1000
    assert np.array_equal(coordinates_deg(np.array(x, np.int32)), np.array(lon))
    assert np.array_equal(coordinates_deg(np.array(y, np.int32)), np.array(lat))
