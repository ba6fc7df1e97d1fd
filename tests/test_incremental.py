"""Incremental scenarios (issue 28): a scenario that reuses its base's searches gives
exactly what a full recompute gives, ties included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessibility.api.scenario import ScenarioModels
from accessibility.graph import attach, from_edges
from accessibility.models.incremental import nearest_search, recording, reusing
from accessibility.models.scenario import Scenario, run_base_and_scenario, run_batch
from accessibility.routing import nearest_facility

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def random_graph(rng: np.random.Generator, n: int, *, step_s: float = 30.0):
    """Nodes at random over a small box, each joined to its 3 nearest both ways;
    times whole multiples of ``step_s`` (and some 0), so equal times are common."""
    lon = 10.0 + rng.random(n) * 0.2
    lat = 52.0 + rng.random(n) * 0.1
    xy = np.column_stack([lon * 0.6, lat])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    near = np.argsort(d, axis=1)[:, 1:4]
    u = np.repeat(np.arange(n), near.shape[1])
    v = near.ravel()
    u, v = np.r_[u, v], np.r_[v, u]
    t = rng.integers(0, 4, u.size) * step_s
    return from_edges(u, v, t, np.maximum(t, 1.0) * 10, np.zeros(u.size, np.uint8),
                      class_names=("primary",), osm_id=np.arange(n), lon=lon, lat=lat)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(4, 40), st.booleans())
def test_added_and_lowered_sources_equal_a_full_search(seed, n, with_interest):
    """Against a full multi-source search of the new source list: sources inserted
    anywhere (duplicates and equal times included) and start times lowered give the
    identical time and source; a removed or raised one falls back to a full search
    (same answer). With ``interest`` it is exact at those nodes."""
    rng = np.random.default_rng(seed)
    g = random_graph(rng, n)
    k = int(rng.integers(1, 6))  # a search needs a source
    nodes = rng.integers(0, n, k)
    offs = rng.integers(0, 3, k) * 30.0
    with recording(g) as memo:
        base = nearest_search(g, nodes, offs)
    full = nearest_facility(g, nodes, offs, reverse=True)
    np.testing.assert_array_equal(base.dist, full.dist)
    # the scenario: insert sources, lower (and sometimes raise or drop) start times
    new_nodes, new_offs = list(nodes), list(offs)
    for _ in range(int(rng.integers(0, 4))):
        at = int(rng.integers(0, len(new_nodes) + 1))
        new_nodes.insert(at, int(rng.integers(0, n)))
        new_offs.insert(at, float(rng.integers(0, 3) * 30.0))
    new_offs = np.array(new_offs, float)
    new_nodes = np.array(new_nodes, np.int64)
    change = rng.random(new_offs.size)
    new_offs[change < 0.2] = 0.0
    drop = rng.random() < 0.2 and new_nodes.size > 1
    if rng.random() < 0.1:
        new_offs[change > 0.9] += 30.0
    if drop:
        keep = np.ones(new_nodes.size, bool)
        keep[int(rng.integers(0, new_nodes.size))] = False
        new_nodes, new_offs = new_nodes[keep], new_offs[keep]
    interest = rng.choice(n, size=max(1, n // 3), replace=False) if with_interest else None
    with reusing(memo):
        inc = nearest_search(g, new_nodes, new_offs, interest=interest)
    ref = nearest_facility(g, new_nodes, new_offs, reverse=True)
    at = slice(None) if interest is None else interest
    np.testing.assert_array_equal(inc.dist[at], ref.dist[at])
    np.testing.assert_array_equal(inc.source[at], ref.source[at])


def municipalities(rng: np.random.Generator, g, k: int) -> pd.DataFrame:
    """``k`` municipalities at graph nodes (so many reach two centres in the same
    time), one Oberzentrum, the others at random MZ / GZ / keine."""
    at = rng.choice(g.n_nodes, size=k, replace=False)
    cp = rng.choice(["Mittelzentrum", "Grundzentrum", "keine"], size=k, p=[0.3, 0.3, 0.4])
    cp[0] = "Oberzentrum"
    m = pd.DataFrame({"ags": [f"0315{i:04d}" for i in range(k)],
                      "name": [f"Gemeinde {i}" for i in range(k)],
                      "lon": g.lon[at], "lat": g.lat[at],
                      "population": rng.integers(100, 50_000, k).astype(float),
                      "area_km2": rng.random(k) * 50 + 1, "gvb": [f"g{i % 3}" for i in range(k)],
                      "central_place": cp})
    return attach(g, m)


def random_scenario(rng, munis: pd.DataFrame) -> Scenario:
    """Upgrades, downgrades and (sometimes) a population change."""
    s = Scenario(name="random")
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(1, len(munis)))  # the Oberzentrum stays
        s.functions[munis["ags"].iloc[i]] = str(rng.choice(
            ["Mittelzentrum", "Oberzentrum", "Grundzentrum", "keine"]))
    if rng.random() < 0.3:
        s.population[munis["ags"].iloc[int(rng.integers(0, len(munis)))]] = 1234.0
    return s


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_a_central_place_scenario_equals_its_full_recompute(seed):
    """Random graphs, random upgrades / downgrades / populations: the scenario's
    table (times, nearest places, classes, Lage, settlement types) from the
    incremental run is identical to a full recompute of the scenario."""
    rng = np.random.default_rng(seed)
    g = random_graph(rng, int(rng.integers(30, 80)))
    munis = municipalities(rng, g, int(rng.integers(6, 20)))
    sc = random_scenario(rng, munis)
    models = ScenarioModels(lage=True, engine="dijkstra")
    b_inc, s_inc, _, info = run_base_and_scenario(g, munis, munis[["ags", "central_place"]],
                                                  sc, models)
    b_full, s_full, _, _ = run_base_and_scenario(g, munis, munis[["ags", "central_place"]],
                                                 sc, models, incremental=False)
    pd.testing.assert_frame_equal(s_inc, s_full, check_exact=True)
    pd.testing.assert_frame_equal(b_inc, b_full, check_exact=True)
    assert "scenario models (incremental)" in info["times_s"]


def test_an_upgrade_searches_only_from_the_new_centre(monkeypatch):
    """The memo is used: an upgrade's MZ search starts from the new MZ alone, the OZ
    search and the Lage potentials are the base's (no search at all)."""
    rng = np.random.default_rng(7)
    g = random_graph(rng, 60)
    munis = municipalities(rng, g, 15)
    gz = munis.loc[munis["central_place"] != "Mittelzentrum", "ags"].iloc[-1]
    from accessibility.models import incremental

    calls = []
    real = incremental.nearest_facility

    def counting(graph, nodes, offsets=None, **kw):
        calls.append(len(nodes))
        return real(graph, nodes, offsets, **kw)

    models = ScenarioModels(lage=True, engine="dijkstra")
    with recording(g) as memo:
        base = models(g, munis, munis[["ags", "central_place"]])
    monkeypatch.setattr(incremental, "nearest_facility", counting)
    sc = Scenario(functions={gz: "Mittelzentrum"})
    from accessibility.models.scenario import scenario_task

    scenario_task(sc, graph=g, munis=munis, central_places=munis[["ags", "central_place"]],
                  models=models, base=base, memo=memo)
    assert calls == [1]  # the new MZ alone; the OZ search is the base's
    assert memo.stats.get("lage potential reused") == 1
    assert "lage potential computed" not in memo.stats


def test_a_batch_returns_what_single_scenarios_return():
    """run_batch (the tasks return only the changed columns) gives the tables of
    run_base_and_scenario, scenario by scenario."""
    rng = np.random.default_rng(3)
    g = random_graph(rng, 50)
    munis = municipalities(rng, g, 12)
    cp = munis[["ags", "central_place"]]
    scs = [random_scenario(np.random.default_rng(i), munis) for i in range(4)]
    models = ScenarioModels(lage=True, engine="dijkstra")
    runs = run_batch(g, munis, cp, scs, models)
    for sc, (b, s, g_s, _) in zip(scs, runs):
        b1, s1, _, _ = run_base_and_scenario(g, munis, cp, sc, models)
        pd.testing.assert_frame_equal(s, s1, check_exact=True)
        pd.testing.assert_frame_equal(b, b1, check_exact=True)
        assert g_s is g


@pytest.mark.parametrize("how", ["upgrade", "downgrade"])
def test_a_downgrade_repairs_in_full(how):
    """A removed destination cannot be merged: the class's search runs in full."""
    rng = np.random.default_rng(11)
    g = random_graph(rng, 40)
    nodes = np.array([3, 17, 25])
    with recording(g) as memo:
        nearest_search(g, nodes, np.zeros(3))
    new = np.array([3, 9, 17, 25]) if how == "upgrade" else np.array([3, 25])
    with reusing(memo):
        nearest_search(g, new, np.zeros(new.size))
    key = "nearest reused" if how == "upgrade" else "nearest searched in full"
    assert memo.stats == {key: 1}


def test_a_scenario_uses_the_base_fit_of_lage_calibrate(tmp_path, monkeypatch):
    """With [lage] calibrate the decay is fitted once, on the base, and the scenario
    uses it: a designation scenario leaves every potential as it is."""
    import accessibility.api as api
    from accessibility.pipeline import scenario

    fits = []
    real = api.calibrate_lage

    def counting(*a, **k):
        fits.append(1)
        return real(*a, **k)

    monkeypatch.setattr(api, "calibrate_lage", counting)
    s = tmp_path / "s.toml"
    s.write_text('[central_places]\n"03151024" = "Mittelzentrum"\n', encoding="utf-8")
    res = scenario(None, s, output_dir=tmp_path / "o",
                   overrides={"output.maps": False, "lage.calibrate": True})
    assert fits == [1]
    d = res.municipalities
    assert d["potential_2h_base"].notna().any()
    np.testing.assert_array_equal(d["potential_2h_change"].dropna(), 0.0)
