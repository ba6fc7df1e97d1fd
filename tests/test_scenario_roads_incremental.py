"""Incremental road scenarios (issue 28): the nearest-place searches repaired and the
Lage searched again only where a changed edge is within reach give exactly what a
full recompute on the scenario's graph gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from accessibility.api.scenario import ScenarioModels
from accessibility.graph import from_edges
from accessibility.models.scenario import Scenario, road_change, run_base_and_scenario
from accessibility.routing import edge_changes, nearest_facility, repair_nearest

from .conftest import shared
from .test_incremental import municipalities, random_graph

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def changed_graph(rng: np.random.Generator, g, *, whole: bool):
    """``g`` with random edges slower, faster, closed and new (times in steps of 30 s,
    or any float with ``whole=False``); returns it and its :class:`EdgeChanges`."""
    u, v, t = g.sources.copy(), g.targets.astype(np.int64), g.time_s.copy()
    r = rng.random(u.size)
    step = 30.0 if whole else rng.random(u.size) * 40.0
    up, down, keep = r < 0.1, (r >= 0.1) & (r < 0.2), r < 0.92
    t[up] += step if whole else step[up]
    t[down] = np.maximum(t[down] - (step if whole else step[down]), 0.0)
    k = int(rng.integers(0, 4))
    a, b = rng.integers(0, g.n_nodes, k), rng.integers(0, g.n_nodes, k)
    t_new = rng.integers(0, 4, k) * 30.0 if whole else rng.random(k) * 90.0
    u2, v2, t2 = np.r_[u[keep], a], np.r_[v[keep], b], np.r_[t[keep], t_new]
    g2 = from_edges(u2, v2, t2, np.maximum(t2, 1.0) * 10, np.zeros(u2.size, np.uint8),
                    class_names=("primary",), osm_id=g.osm_id, lon=g.lon, lat=g.lat)
    touched = up | down | ~keep
    return g2, edge_changes(g, g2, np.r_[u[touched], a], np.r_[v[touched], b])


def scipy_nearest(g, nodes, offsets, reverse: bool) -> np.ndarray:
    """The reference times: scipy's Dijkstra from a super-source joined to every
    source by its start time (parallel edges reduced to the fastest first)."""
    n = g.n_nodes
    su, sv = (g.targets, g.sources) if reverse else (g.sources, g.targets)
    # scipy sums duplicate entries: the fastest of parallel edges (and sources) first
    w = pd.DataFrame({"u": np.r_[su, np.full(nodes.size, n)], "v": np.r_[sv, nodes],
                      "w": np.r_[g.time_s, offsets]}).groupby(["u", "v"])["w"].min()
    # scipy drops explicit zeros: a tiny weight stands for 0 (times are whole or random)
    m = csr_array((np.maximum(w.to_numpy(), 1e-300),
                   (w.index.get_level_values(0), w.index.get_level_values(1))),
                  shape=(n + 1, n + 1))
    return dijkstra(m, indices=n, min_only=False)[:n]


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(4, 45), st.booleans(), st.booleans())
def test_repaired_nearest_place_equals_a_full_search(seed, n, reverse, whole):
    """Random graphs, random slower / faster / closed / new edges: the repair gives
    the full search's time and source at every node (exact; equal times are common
    with whole steps, rounding with float times), and scipy's times."""
    rng = np.random.default_rng(seed)
    g = random_graph(rng, n)
    k = int(rng.integers(1, 6))
    nodes = rng.integers(0, n, k)
    offs = rng.integers(0, 3, k) * 30.0
    base = nearest_facility(g, nodes, offs, reverse=reverse)
    g2, changes = changed_graph(rng, g, whole=whole)
    got, stats = repair_nearest(g, g2, changes, nodes, offs, base, reverse=reverse)
    full = nearest_facility(g2, nodes, offs, reverse=reverse)
    if got is None:  # the rounding case: the caller searches in full
        assert not whole
        return
    np.testing.assert_array_equal(got.dist, full.dist)
    np.testing.assert_array_equal(got.source, full.source)
    np.testing.assert_allclose(got.dist, scipy_nearest(g2, nodes, offs, reverse), rtol=1e-12,
                               atol=1e-200)
    assert stats["affected"] <= n


def test_a_closed_tree_edge_resets_its_subtree_and_a_new_edge_seeds():
    """A path 0-1-2-3 from a source at 0: closing 1 -> 2 resets 2 and 3 (unreached
    now), a new edge 0 -> 3 reaches 3 again; the repair says how many it reset."""
    lon, lat = np.array([10.0, 10.01, 10.02, 10.03]), np.full(4, 52.0)
    u, v, t = np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([60.0, 60.0, 60.0])

    def graph(u, v, t):
        return from_edges(u, v, t, t * 10, np.zeros(u.size, np.uint8), class_names=("primary",),
                          osm_id=np.arange(4), lon=lon, lat=lat)

    g = graph(u, v, t)
    base = nearest_facility(g, [0], [0.0])
    g2 = graph(np.array([0, 2, 0]), np.array([1, 3, 3]), np.array([60.0, 60.0, 500.0]))
    ch = edge_changes(g, g2, [1, 0], [2, 3])
    assert ch.u.tolist() == [0, 1] and ch.v.tolist() == [3, 2]  # pairs in order
    assert ch.raised.tolist() == [False, True] and ch.lowered.tolist() == [True, False]
    assert ch.new.tolist() == [500.0, np.inf] and ch.lower_bound.tolist() == [500.0, 60.0]
    got, stats = repair_nearest(g, g2, ch, [0], [0.0], base)
    assert got.dist.tolist() == [0.0, 60.0, np.inf, 500.0]
    assert got.source.tolist() == [0, 0, -1, 0] and stats["affected"] == 2


def random_road_scenario(rng: np.random.Generator, g) -> Scenario:
    """Closed areas (small boxes), slower or faster primaries, new links."""
    s = Scenario(name="roads")
    for _ in range(int(rng.integers(0, 3))):
        x, y = 10.0 + rng.random() * 0.2, 52.0 + rng.random() * 0.1
        s.closed_areas.append(shapely.box(x, y, x + 0.03, y + 0.02))
    if rng.random() < 0.3:
        s.speed_factors["primary"] = float(rng.choice([0.5, 2.0]))
    for _ in range(int(rng.integers(0, 3))):
        a, b = rng.choice(g.n_nodes, 2, replace=False)
        s.new_links.append({"from": (g.lon[a], g.lat[a]), "to": (g.lon[b], g.lat[b]),
                            "minutes": float(rng.integers(0, 3)) * 0.5, "road_class": "primary"})
    if not s.changes_roads:
        s.new_links.append({"from": (g.lon[0], g.lat[0]), "to": (g.lon[1], g.lat[1]),
                            "minutes": 0.5, "road_class": "primary"})
    return s


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from([2.0, 3.0, 120.0]),
       st.sampled_from(["municipality", "gvb"]))
def test_a_road_scenario_equals_its_full_recompute(seed, limit_min, units):
    """Random graphs and road scenarios: the scenario's table (t_mz_min, t_oz_min,
    nearest places, classes, Lage potentials and flags) from the incremental run is
    identical to a full recompute on the scenario's graph. Limits of 2 and 3 minutes
    (edges of 0-90 s) put origins at and just beyond the reach of the changed edges."""
    rng = np.random.default_rng(seed)
    g = random_graph(rng, int(rng.integers(30, 70)))
    munis = municipalities(rng, g, int(rng.integers(6, 16)))
    sc = random_road_scenario(rng, g)
    models = ScenarioModels(lage=True, engine="dijkstra", limit_min=limit_min, units=units)
    cp = munis[["ags", "central_place"]]
    b_inc, s_inc, _, info = run_base_and_scenario(g, munis, cp, sc, models)
    b_full, s_full, _, _ = run_base_and_scenario(g, munis, cp, sc, models, incremental=False)
    pd.testing.assert_frame_equal(s_inc, s_full, check_exact=True)
    pd.testing.assert_frame_equal(b_inc, b_full, check_exact=True)
    assert "scenario models (incremental)" in info["times_s"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_a_road_scenario_with_hierarchies_equals_its_full_recompute(seed):
    """With engine = "ch": the unaffected origins keep the base hierarchy's sums, the
    affected ones come from bounded searches or a new hierarchy; the full run sums
    over the scenario's hierarchy in another order, so equal to 1e-9 relative."""
    rng = np.random.default_rng(seed)
    g = random_graph(rng, int(rng.integers(30, 70)))
    munis = municipalities(rng, g, int(rng.integers(6, 16)))
    sc = random_road_scenario(rng, g)
    models = ScenarioModels(lage=True, engine="ch", limit_min=2.5, units="municipality")
    cp = munis[["ags", "central_place"]]
    _, s_inc, _, _ = run_base_and_scenario(g, munis, cp, sc, models)
    _, s_full, _, _ = run_base_and_scenario(g, munis, cp, sc, models, incremental=False)
    pd.testing.assert_frame_equal(s_inc, s_full, check_exact=False, rtol=1e-9)


def test_the_repair_is_used_and_logged(caplog):
    """A road scenario with the base's memo repairs both nearest-place searches
    (no full search) and searches the Lage of the reached origins only."""
    import logging

    from accessibility.models import incremental
    from accessibility.models.scenario import base_run, scenario_task

    rng = np.random.default_rng(5)
    g = random_graph(rng, 60)
    munis = municipalities(rng, g, 14)
    cp = munis[["ags", "central_place"]]
    models = ScenarioModels(lage=True, engine="dijkstra", limit_min=2.0, units="municipality")
    base, memo = base_run(g, munis, cp, models)
    sc = Scenario(new_links=[{"from": (g.lon[0], g.lat[0]), "to": (g.lon[1], g.lat[1]),
                              "minutes": 0.0, "road_class": "primary"}])
    calls = []
    real = incremental.nearest_facility
    incremental.nearest_facility = lambda *a, **k: calls.append(1) or real(*a, **k)
    try:
        with caplog.at_level(logging.INFO):
            scenario_task(sc, graph=g, munis=munis, central_places=cp, models=models,
                          base=base, memo=memo)
    finally:
        incremental.nearest_facility = real
    assert calls == []
    assert memo.stats["nearest repaired"] >= 2 and memo.stats["lage potential repaired"] == 1
    assert "Lage origins within reach of the changed roads; bounded searches" in caplog.text
    assert "road scenario 'scenario'" in caplog.text


def test_a_batch_of_road_scenarios_returns_what_single_runs_return():
    """run_batch (the tasks get their scenario, the memo lives with the batch's
    inputs) repairs as a single scenario does: the same tables."""
    from accessibility.models.scenario import run_batch

    rng = np.random.default_rng(9)
    g = random_graph(rng, 50)
    munis = municipalities(rng, g, 12)
    cp = munis[["ags", "central_place"]]
    scs = [random_road_scenario(np.random.default_rng(i), g) for i in range(3)]
    scs[0].functions[munis["ags"].iloc[3]] = "Mittelzentrum"  # roads and a designation
    models = ScenarioModels(lage=True, engine="dijkstra", limit_min=2.0)
    for sc, (b, s, g_s, _) in zip(scs, run_batch(g, munis, cp, scs, models)):
        b1, s1, g1, _ = run_base_and_scenario(g, munis, cp, sc, models, incremental=False)
        pd.testing.assert_frame_equal(s, s1, check_exact=True)
        pd.testing.assert_frame_equal(b, b1, check_exact=True)
        assert g_s.n_edges == g1.n_edges


def region_run(graph, munis, cp, sc, engine="dijkstra"):
    models = ScenarioModels(lage=True, engine=engine)
    _, s_inc, _, _ = run_base_and_scenario(graph, munis, cp, sc, models)
    _, s_full, _, _ = run_base_and_scenario(graph, munis, cp, sc, models, incremental=False)
    return s_inc, s_full


CLOSURE = Scenario(name="A39 closed", closed_areas=[shapely.box(10.45, 52.18, 10.55, 52.24)],
                   closed_classes=["motorway"])
NEW_LINK = Scenario(name="new link", new_links=[{"from": (10.52, 52.26), "to": (10.60, 52.30),
                                                 "speed_kmh": 80.0, "road_class": "primary"}])


@pytest.mark.parametrize("sc", [CLOSURE, NEW_LINK], ids=["closure", "new link"])
def test_road_scenarios_on_the_sample_equal_the_full_path(sc):
    """The embedded sample: a motorway closure and a new link, the scenario's
    municipality table with the incremental path equals the full path's."""
    from accessibility.models.municipalities import mark_region
    from accessibility.pipeline import graph_and_municipalities

    _, g, m, inputs = graph_and_municipalities(None, {"output.maps": False}, "t")
    m = mark_region(g, m)
    g_s, _, changes = road_change(g, sc)
    assert len(changes) > 0
    s_inc, s_full = region_run(g, m, inputs.central_places, sc)
    pd.testing.assert_frame_equal(s_inc, s_full, check_exact=True)


@pytest.mark.parametrize("sc", [CLOSURE, NEW_LINK], ids=["closure", "new link"])
def test_road_scenarios_on_the_hb_extract_equal_the_full_path(sc, hb_graph):
    """The Hannover-Braunschweig extract (it knows its cut: the edge flags are
    computed again for every origin) with the national register."""
    from accessibility.graph import attach
    from accessibility.io import read_central_places, read_municipalities
    from accessibility.models.municipalities import mark_region, prepare_municipalities

    m = prepare_municipalities(read_municipalities(
        shared("municipalities", "gemeinden_2019_destatis.csv")))
    zo = read_central_places(shared("central_places", "zentrale_orte_2024.csv"))
    m = m.merge(zo[["ags", "central_place"]], on="ags", how="left")
    m["central_place"] = m["central_place"].fillna("keine")
    m = mark_region(hb_graph, attach(hb_graph, m))
    m = m[m["on_network"].fillna(False) | m["in_region"].fillna(False)].reset_index(drop=True)
    s_inc, s_full = region_run(hb_graph, m, zo, sc)
    pd.testing.assert_frame_equal(s_inc, s_full, check_exact=True)
