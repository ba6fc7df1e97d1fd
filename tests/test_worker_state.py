"""Scenario batches on Dask keep their inputs on the workers (issue 28): the graph,
tables, base and searches are written once per base and memory-mapped by each
worker, tasks carry only their scenario, and the results are byte-identical to the
batch in this process and to full recomputes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accessibility import worker_state
from accessibility.api.scenario import ScenarioModels
from accessibility.compute import LocalExecutor
from accessibility.graph import RoadGraph
from accessibility.models import scenario as scenario_mod
from accessibility.models.incremental import recording
from accessibility.models.scenario import run_base_and_scenario, run_batch

from .test_incremental import municipalities, random_graph, random_scenario


def small_batch(seed: int = 5, n: int = 60, k: int = 14):
    rng = np.random.default_rng(seed)
    g = random_graph(rng, n)
    munis = municipalities(rng, g, k)
    scs = [random_scenario(np.random.default_rng(seed + i), munis) for i in range(4)]
    for i, sc in enumerate(scs):
        sc.name = f"s{i}"
    return g, munis, munis[["ags", "central_place"]], scs


def test_a_state_file_round_trips_without_copying_its_arrays(tmp_path):
    """dump / load give equal objects (graph with its reverse, tables, memo); the
    arrays are views of the mapped file and read-only ones stay read-only."""
    g, munis, cp, _ = small_batch()
    models = ScenarioModels(lage=True, engine="dijkstra")
    with recording(g) as memo:
        base = models(g, munis, cp)
    objs = {"graph": g, "munis": munis, "base": base, "memo": memo}
    back = worker_state.load(worker_state.dump(objs, tmp_path / "x.state"))
    h = back["graph"]
    assert isinstance(h, RoadGraph) and h.reversed.reversed is h
    for k in ("offsets", "targets", "time_s", "x"):
        a = getattr(h, k)
        np.testing.assert_array_equal(a, getattr(g, k))
        assert not a.flags.owndata and not a.flags.writeable
    np.testing.assert_array_equal(h.reversed.targets, g.reversed.targets)
    pd.testing.assert_frame_equal(back["base"], base, check_exact=True)
    pd.testing.assert_frame_equal(back["munis"], munis, check_exact=True)
    for a, b in zip(back["memo"].searches, memo.searches):
        np.testing.assert_array_equal(a.result.dist, b.result.dist)
        np.testing.assert_array_equal(a.result.source, b.result.source)
    assert back["memo"].values.keys() == memo.values.keys()



def test_pruning_removes_only_old_state_files_it_wrote(tmp_path):
    """Writing a new state file prunes the folder's state files unused for a day, but
    never a file of the same suffix that this module did not write."""
    import os
    import time

    old = worker_state.dump({"a": np.arange(3)}, tmp_path / "old.state")
    users = tmp_path / "notes.state"
    users.write_text("my own file")
    stale = time.time() - 2 * worker_state.MAX_AGE_S
    for f in (old, users):
        os.utime(f, (stale, stale))
    worker_state.Resident({"b": np.arange(4)}, "newkey", tmp_path).write()
    assert (tmp_path / "newkey.state").is_file()
    assert not old.exists()
    assert users.read_text() == "my own file"


def test_the_key_follows_the_content():
    g, munis, _, _ = small_batch()
    key = worker_state.content_key([g.time_s, munis])
    assert worker_state.content_key([g.time_s.copy(), munis.copy()]) == key
    other = munis.copy()
    other.loc[3, "population"] += 1
    assert worker_state.content_key([g.time_s, other]) != key


def test_a_local_batch_keeps_its_base_for_the_executor(monkeypatch):
    """An executor computes the base of the same inputs once; other inputs
    (a planted population change) compute another base, with other results."""
    g, munis, cp, scs = small_batch()
    models = ScenarioModels(lage=True, engine="dijkstra")
    calls = []
    real = scenario_mod.base_run
    monkeypatch.setattr(scenario_mod, "base_run", lambda *a: calls.append(1) or real(*a))
    ex = LocalExecutor()
    first = run_batch(g, munis, cp, scs, models, ex)
    again = run_batch(g, munis, cp, scs, models, ex)
    assert len(calls) == 1
    for (_, s1, _, _), (_, s2, _, _) in zip(first, again):
        pd.testing.assert_frame_equal(s1, s2, check_exact=True)
    other = munis.copy()
    other.loc[other.index[2], "population"] *= 3
    changed = run_batch(g, other, cp, scs, models, ex)
    assert len(calls) == 2
    assert not changed[0][1]["potential_2h"].equals(first[0][1]["potential_2h"])


def test_a_base_of_other_code_is_not_taken(monkeypatch):
    """The batch's key carries the version of the code (worker_state.code_key): a
    state file or kept base computed by other code (another checkout sharing the
    temporary folder; a model that gained a column) is never taken for this one."""
    g, munis, cp, scs = small_batch()
    models = ScenarioModels(lage=False, engine="dijkstra")
    calls = []
    real = scenario_mod.base_run
    monkeypatch.setattr(scenario_mod, "base_run", lambda *a: calls.append(1) or real(*a))
    ex = LocalExecutor()
    run_batch(g, munis, cp, scs, models, ex)
    assert worker_state.code_key() == worker_state.code_key()
    monkeypatch.setattr(scenario_mod, "code_key", lambda: "another version")
    run_batch(g, munis, cp, scs, models, ex)
    assert len(calls) == 2


@pytest.fixture(scope="module")
def dask_executor():
    pytest.importorskip("distributed")
    from accessibility.compute import open_executor
    from accessibility.config import ComputeConfig

    with open_executor(ComputeConfig(scheduler="dask", n_workers=2)) as ex:
        yield ex


def test_a_dask_batch_equals_the_local_batch_and_full_recomputes(tmp_path, dask_executor,
                                                                 monkeypatch):
    """Every table of the batch on 2 workers is identical (values and dtypes) to the
    batch in this process and to each scenario's full recompute; the graph is never
    scattered; the second batch reuses the file and the workers' objects; a batch
    with another base loads that base."""
    g, munis, cp, scs = small_batch()
    models = ScenarioModels(lage=True, engine="dijkstra")
    client = dask_executor.client
    scattered = []
    real_scatter = client.scatter
    monkeypatch.setattr(client, "scatter",
                        lambda data, **kw: scattered.extend(data) or real_scatter(data, **kw))
    runs = run_batch(g, munis, cp, scs, models, dask_executor, state_dir=tmp_path)
    local = run_batch(g, munis, cp, scs, models)
    for sc, (b, s, g_s, _), (bl, sl, _, _) in zip(scs, runs, local):
        _, full, _, _ = run_base_and_scenario(g, munis, cp, sc, models, incremental=False)
        for want in (sl, full):
            pd.testing.assert_frame_equal(s, want, check_exact=True)
            assert list(s.dtypes) == list(want.dtypes)
        pd.testing.assert_frame_equal(b, bl, check_exact=True)
        assert g_s is g
    assert scattered == scs  # the scenarios, nothing else
    files = sorted(tmp_path.glob("*.state"))
    assert len(files) == 1
    keys = set(client.run(worker_state.held_key).values())
    assert keys == {files[0].stem}
    stamp = files[0].stat().st_mtime_ns
    run_batch(g, munis, cp, scs, models, dask_executor, state_dir=tmp_path)
    assert files[0].stat().st_mtime_ns == stamp and len(list(tmp_path.glob("*.state"))) == 1
    other = munis.copy()
    other.loc[other.index[2], "population"] *= 3
    moved = run_batch(g, other, cp, scs[:1], models, dask_executor, state_dir=tmp_path)
    _, full, _, _ = run_base_and_scenario(g, other, cp, scs[0], models, incremental=False)
    pd.testing.assert_frame_equal(moved[0][1], full, check_exact=True)
    assert len(list(tmp_path.glob("*.state"))) == 2
    assert set(client.run(worker_state.held_key).values()) != keys


def test_workers_without_the_file_get_the_inputs_sent(tmp_path, dask_executor, monkeypatch,
                                                      caplog):
    """A remote worker that cannot read the state folder still computes the batch:
    its inputs are scattered (with a warning naming the folder)."""
    g, munis, cp, scs = small_batch(seed=9)
    models = ScenarioModels(lage=False, engine="dijkstra")
    real_run = dask_executor.client.run

    def blind(func, *a, **kw):  # the workers see no file
        out = real_run(func, *a, **kw)
        return {w: False for w in out} if getattr(func, "__name__", "") == "is_file" else out

    monkeypatch.setattr(dask_executor.client, "run", blind)
    with caplog.at_level("WARNING", logger="accessibility.compute"):
        runs = run_batch(g, munis, cp, scs, models, dask_executor, state_dir=tmp_path)
    assert "cannot read" in caplog.text and str(tmp_path) in caplog.text
    for sc, (_, s, _, _) in zip(scs, runs):
        _, want, _, _ = run_base_and_scenario(g, munis, cp, sc, models)
        pd.testing.assert_frame_equal(s, want, check_exact=True)

