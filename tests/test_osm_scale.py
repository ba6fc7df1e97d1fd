"""The national-scale OSM benchmark (benchmarks/osm_scale.py) and the two read modes of
read_osm_ways: on a small synthetic PBF, what the builder reads holds by construction."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import osmium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(ROOT))

from accessibility.graph import build_graph, graph_from_osm
from accessibility.graph import osm as osm_mod
from accessibility.graph.osm import read_osm_ways
from accessibility.profile import DEFAULT_PROFILE, WALK_PROFILE, load_profile
from benchmarks import osm_scale

from .conftest import TEST_DATA

N_NODES = 20_000


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    syn = osm_scale.generate(N_NODES, seed=3)
    path = tmp_path_factory.mktemp("osmscale") / "syn.osm.pbf"
    info = osm_scale.write_pbf(syn, path)
    return syn, path, info


def _file_contents(path):
    ids, ways = [], {}
    for o in osmium.FileProcessor(str(path)):
        if o.is_node():
            ids.append(o.id)
        elif o.is_way():
            ways[o.id] = (dict(o.tags), [n.ref for n in o.nodes])
    return np.array(ids), ways


def test_file_holds_what_was_generated(synthetic):
    syn, path, info = synthetic
    ids, ways = _file_contents(path)
    assert ids.size == N_NODES == info["nodes"] and len(ways) == syn.n_ways == info["ways"]
    assert np.all(np.diff(ids) > 0)  # sorted, with gaps like real ids
    assert ids[-1] / ids.size > 10
    wids = np.array(list(ways))
    assert np.all(np.diff(wids) > 0)
    exp = syn.expected
    by_class: dict[str, int] = {}
    for tags, _ in ways.values():
        c = tags.get("highway") or ("ferry" if tags.get("route") == "ferry" else None)
        if c:
            by_class[c] = by_class.get(c, 0) + 1
    assert by_class == {k: v for k, v in exp["by_class"].items() if v}
    assert sum(1 for t, _ in ways.values() if "building" in t) == exp["buildings"]
    # most ways and most nodes are not roads, like a German extract
    assert exp["buildings"] > 0.7 * syn.n_ways
    assert 0.1 < (exp["highway_ways"] + exp["ferry_ways"]) / syn.n_ways < 0.25
    assert syn.n_road_nodes < 0.4 * N_NODES
    # every referenced node is in the file; buildings are closed rings
    refs = np.concatenate([np.array(r) for _, r in ways.values()])
    assert np.isin(refs, ids).all()
    assert all(r[0] == r[-1] for t, r in ways.values() if "building" in t)


@pytest.mark.parametrize("two_pass", [False, True])
def test_builder_reads_by_construction(synthetic, two_pass):
    syn, path, _ = synthetic
    exp = syn.expected
    col = read_osm_ways(path, DEFAULT_PROFILE, two_pass=two_pass)
    # every way with a car class or a ferry is read (access is checked after)...
    assert col.n_ways_seen == exp["candidate_ways"]
    assert col.n_excluded_access == exp["access_blocked_ways"] > 0
    assert len(col.way_class) == exp["drivable_ways"]
    ferry = DEFAULT_PROFILE.classes.index("ferry")
    assert int((np.frombuffer(col.way_class, np.uint8) == ferry).sum()) == exp["ferry_ways"] >= 2
    assert col.n_missing_nodes == 0
    # ... and no node of a building, landuse area or other non-road way
    _, ways = _file_contents(path)
    other = {n for t, r in ways.values() if "highway" not in t and "route" not in t for n in r}
    assert other and not other & set(np.frombuffer(col.refs, np.int64).tolist())
    g = graph_from_osm(path) if not two_pass else None
    if g is not None:
        assert (g.n_nodes, g.n_edges) == (exp["raw_nodes"], exp["raw_edges"])


@pytest.mark.parametrize("profile", [DEFAULT_PROFILE, WALK_PROFILE, load_profile("osrm-car")],
                         ids=lambda p: p.name)
@pytest.mark.parametrize("source", ["synthetic", "tiny.osm"])
def test_two_pass_reads_the_same(synthetic, profile, source):
    path = synthetic[1] if source == "synthetic" else TEST_DATA / "tiny.osm"
    a = read_osm_ways(path, profile, two_pass=False)
    b = read_osm_ways(path, profile, two_pass=True)
    for k in ("refs", "x", "y", "way_start", "way_class", "way_dir", "way_speed_fw",
              "way_speed_bw", "way_duration"):
        np.testing.assert_array_equal(np.asarray(getattr(a, k)), np.asarray(getattr(b, k)),
                                      err_msg=k)
    assert (a.n_ways_seen, a.n_missing_nodes, a.n_excluded_access) == \
        (b.n_ways_seen, b.n_missing_nodes, b.n_excluded_access)


def test_two_pass_chosen_by_file_size(synthetic, monkeypatch):
    _, path, _ = synthetic
    calls = []
    real = osmium.IdTracker

    def tracker():
        calls.append(1)
        return real()

    monkeypatch.setattr(osmium, "IdTracker", tracker)
    read_osm_ways(path)
    assert not calls  # a small file: one pass
    monkeypatch.setattr(osm_mod, "TWO_PASS_MIN_BYTES", path.stat().st_size)
    g = graph_from_osm(path)
    assert calls and g.n_edges == synthetic[0].expected["raw_edges"]


def test_main_writes_every_stage(tmp_path):
    out = tmp_path / "r.json"
    keep = tmp_path / "k.osm.pbf"
    res = osm_scale.main(["--nodes", str(N_NODES), "--seed", "3", "--in-process", "--variants",
                          "-q", "--keep", str(keep), "--json", str(out)])
    data = json.loads(out.read_text())
    assert [r["stage"] for r in data["stages"]] == list(osm_scale.STAGES)
    for r in data["stages"]:
        assert r["seconds"] >= 0 and r["peak_rss_mb"] > 0
    # the stages called one by one give what build_graph gives
    g = build_graph(keep)
    assert (data["stats"]["nodes"], data["stats"]["edges"]) == (g.n_nodes, g.n_edges)
    exp = data["expected"]
    assert (data["stats"]["raw_nodes"], data["stats"]["raw_edges"]) == \
        (exp["raw_nodes"], exp["raw_edges"])
    assert 0 < g.n_nodes < exp["raw_nodes"]  # simplification did work
    assert data["stats"]["scc_components"] > 1  # islands and one-way dead ends dropped
    assert [r["stage"] for r in data["variants"]] == \
        [osm_scale.variant_stage(v) for v in osm_scale.VARIANTS]
    assert all("error" not in r and r["seconds"] >= 0 for r in data["variants"])
    assert data["synthetic"] is True and data["file"]["nodes"] == N_NODES
    assert all(a == b for a, b in data["checks"].values()), data["checks"]
    assert data["build_s"] == pytest.approx(sum(r["seconds"] for r in data["stages"][:6]))
    assert res["stats"] == data["stats"]
    # the kept file can be measured again (its counts come from the side file), forced
    # into the other read mode; two runs give a table and an extrapolation
    out2 = tmp_path / "r2.json"
    osm_scale.main(["--pbf", str(keep), "--in-process", "--two-pass", "yes", "-q",
                    "--json", str(out2)])
    data2 = json.loads(out2.read_text())
    assert data2["file"]["nodes"] == N_NODES and data2["stats"]["read_mode"] == "two-pass"
    assert data2["stats"]["edges"] == data["stats"]["edges"]
    assert osm_scale.main(["--table", f"{out},{out2}"])["runs"][0]["name"] == data["name"]


def test_extrapolate_is_linear():
    def run(n, s):
        return {"file": {"nodes": n}, "stages": [
            {"stage": "read ways (libosmium + collector)", "seconds": s, "peak_rss_mb": 100 + s,
             "peak_extra_mb": s}]}

    (row,) = osm_scale.extrapolate(run(10e6, 20.0), run(1e6, 2.0), nodes=100e6)
    assert row["seconds"] == pytest.approx(200.0)
    assert row["seconds_per_M_nodes"] == pytest.approx(2.0)
    assert row["peak_rss_mb"] == pytest.approx(300.0)


# ------------------------------------------------ lean graph_from_osm vs the plain numpy
def _plain_graph_from_osm(path, profile):
    """graph_from_osm as it was before the lean rewrite: float64 lon/lat per ref (from
    libosmium's int32 coordinates), np.unique, haversine over all segments, from_edges."""
    from accessibility.graph.core import from_edges
    from accessibility.graph.osm import coordinates_deg, haversine_m

    col = read_osm_ways(path, profile)
    n_ways = len(col.way_class)
    refs = np.frombuffer(col.refs, dtype=np.int64)
    lon_all = coordinates_deg(np.frombuffer(col.x, dtype=np.int32))
    lat_all = coordinates_deg(np.frombuffer(col.y, dtype=np.int32))
    starts = np.frombuffer(col.way_start, dtype=np.int64)
    osm_id, first, node_of_ref = np.unique(refs, return_index=True, return_inverse=True)
    lon, lat = lon_all[first], lat_all[first]
    way_of_ref = np.repeat(np.arange(n_ways), np.diff(starts))
    seg = np.flatnonzero(way_of_ref[:-1] == way_of_ref[1:])
    seg = seg[node_of_ref[seg] != node_of_ref[seg + 1]]
    way = way_of_ref[seg]
    a, b = node_of_ref[seg], node_of_ref[seg + 1]
    length = haversine_m(lon_all[seg], lat_all[seg], lon_all[seg + 1], lat_all[seg + 1])
    cls = np.frombuffer(col.way_class, dtype=np.uint8)[way]
    direction = np.frombuffer(col.way_dir, dtype=np.uint8)[way]
    fw = np.frombuffer(col.way_speed_fw, dtype=np.float64)[way]
    bw = np.frombuffer(col.way_speed_bw, dtype=np.float64)[way]
    duration = np.frombuffer(col.way_duration, dtype=np.float64)
    t_fw = length / (fw / 3.6)
    t_bw = length / (bw / 3.6)
    timed = np.isfinite(duration)
    if timed.any():
        way_len = np.bincount(way, weights=length, minlength=n_ways)
        share = np.divide(length, way_len[way], out=np.zeros_like(length), where=way_len[way] > 0)
        on_timed = timed[way]
        timed_s = duration[way] * share
        if profile.max_speed_kmh is not None:  # no faster than the profile's cap
            timed_s = np.maximum(timed_s, length / (profile.max_speed_kmh / 3.6))
        t_fw[on_timed] = t_bw[on_timed] = timed_s[on_timed]
    fwd, bwd = (direction & 1) > 0, (direction & 2) > 0
    return from_edges(
        np.concatenate([a[fwd], b[bwd]]), np.concatenate([b[fwd], a[bwd]]),
        np.concatenate([t_fw[fwd], t_bw[bwd]]), np.concatenate([length[fwd], length[bwd]]),
        np.concatenate([cls[fwd], cls[bwd]]), class_names=profile.classes, osm_id=osm_id,
        lon=lon, lat=lat)


@pytest.mark.parametrize("profile", [DEFAULT_PROFILE, WALK_PROFILE, load_profile("osrm-car")],
                         ids=lambda p: p.name)
@pytest.mark.parametrize("source", ["synthetic", "tiny.osm", "heidelberg.osm.pbf"])
def test_lean_graph_from_osm_is_the_plain_numpy_graph_to_the_bit(synthetic, profile, source):
    if source == "synthetic":
        path = synthetic[1]
    elif source == "tiny.osm":
        path = TEST_DATA / "tiny.osm"
    else:
        from .conftest import shared

        path = shared("osm", source)
    g = graph_from_osm(path, profile)
    ref = _plain_graph_from_osm(path, profile)
    for k in ("offsets", "targets", "time_s", "length_m", "road_class", "osm_id", "lon", "lat",
              "x", "y"):
        a, b = getattr(g, k), getattr(ref, k)
        assert a.dtype == b.dtype and np.array_equal(a, b), k


@given(st.lists(st.integers(-5, 2**40), min_size=1, max_size=300))
@settings(max_examples=200, deadline=None)
def test_node_index_is_np_unique(ids):
    from accessibility.graph.osm import _node_index

    refs = np.array(ids, np.int64)
    osm_id, first, inv = _node_index(refs)
    u, f, i = np.unique(refs, return_index=True, return_inverse=True)
    assert inv.dtype == np.int32
    np.testing.assert_array_equal(osm_id, u)
    np.testing.assert_array_equal(first, f)
    np.testing.assert_array_equal(inv, i.ravel())


def test_build_graph_frees_the_raw_graph_after_the_scc_step(monkeypatch):
    """build_graph hands the raw graph over: nothing keeps it alive past largest_scc
    (on Germany that is ~3 GB less at the contraction)."""
    import gc
    import importlib
    import weakref

    # the module, not the function accessibility.graph.simplify that shadows it
    simplify_mod = importlib.import_module("accessibility.graph.simplify")

    seen = {}
    real_osm, real_contract = osm_mod.graph_from_osm, simplify_mod._contract_degree2

    def spy_osm(*a, **k):
        g = real_osm(*a, **k)
        seen["raw"] = weakref.ref(g)
        return g

    def spy_contract(box, keep=None):
        gc.collect()
        seen["raw_alive"] = seen["raw"]() is not None
        return real_contract(box, keep)

    import accessibility.graph as graph_pkg

    monkeypatch.setattr(graph_pkg, "graph_from_osm", spy_osm)
    monkeypatch.setattr(simplify_mod, "_contract_degree2", spy_contract)
    g = build_graph(TEST_DATA / "tiny.osm", "osrm-car")
    assert g.n_nodes > 0 and seen["raw_alive"] is False
