"""Smoke tests of the benchmark harness (benchmarks/) on tiny synthetic graphs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import run as bench  # noqa: E402
from benchmarks.synthetic import (  # noqa: E402
    CLASS_NAMES, degree_histogram, largest_scc_share, place_points, snap_municipalities,
    synthetic_road_graph,
)

from .conftest import SHARED  # noqa: E402

#: From ../shared/data beside the checkout (as every test reads it; CI has it there).
MUNICIPALITIES = SHARED / "municipalities" / "gemeinden_2019_destatis.csv"


@pytest.fixture(scope="module")
def graph():
    return synthetic_road_graph(5000, seed=1)


def test_generator_counts_and_structure(graph):
    g = graph
    assert g.n_nodes == 5000
    assert 2.0 * g.n_nodes < g.n_edges < 4.5 * g.n_nodes
    assert g.meta["synthetic"] is True
    assert largest_scc_share(g) > 0.95
    assert g.meta["scc_share"] > 0.95
    # one-way edges: some (u, v) without the reverse (v, u)
    n = g.n_nodes
    fwd = g.sources.astype(np.int64) * n + g.targets
    bwd = g.targets.astype(np.int64) * n + g.sources
    oneway = ~np.isin(fwd, bwd)
    assert oneway.sum() > 0
    assert g.meta["oneway_edge_share"] > 0
    # several speed classes, motorways fastest
    speed = g.length_m / g.time_s * 3.6
    used = np.unique(g.road_class)
    assert used.size >= 4
    mot = CLASS_NAMES.index("motorway")
    res = CLASS_NAMES.index("residential")
    assert speed[g.road_class == mot].min() >= 109
    assert speed[g.road_class == res].max() <= 36
    assert np.all(g.length_m > 0) and np.all(np.isfinite(g.time_s))
    # lon/lat inside (roughly) Germany
    assert 5 < g.lon.min() < g.lon.max() < 16 and 47 < g.lat.min() < g.lat.max() < 55.5
    hist = degree_histogram(g)
    assert hist[0] < 0.01


def test_generator_is_deterministic_and_scales():
    a = synthetic_road_graph(2000, seed=3)
    b = synthetic_road_graph(2000, seed=3)
    assert np.array_equal(a.targets, b.targets) and np.array_equal(a.time_s, b.time_s)
    g = synthetic_road_graph(60_000, seed=0)
    assert g.n_nodes == 60_000
    hist = degree_histogram(g)
    assert hist[2] + hist[3] + hist[4] > 0.7  # mostly degree 2-4
    assert 0.02 < hist[1] < 0.25  # some dead ends
    assert g.meta["scc_share"] > 0.99


def test_place_points(graph):
    p = place_points(graph, 100, seed=0)
    assert p.size == 100 and np.unique(p).size == 100
    assert p.min() >= 0 and p.max() < graph.n_nodes
    assert np.array_equal(p, place_points(graph, 100, seed=0))


@pytest.mark.skipif(not MUNICIPALITIES.exists(), reason=f"shared data {MUNICIPALITIES} not available")
def test_snap_municipalities(graph):
    nodes, pop, ags = snap_municipalities(graph)
    assert nodes.size > 11_000 and pop.size == nodes.size == ags.size
    assert nodes.min() >= 0 and nodes.max() < graph.n_nodes
    assert pop.sum() > 80e6


def test_scipy_csr_dedups_parallel_edges():
    from accessibility.graph.core import from_edges

    g = from_edges([0, 0, 1], [1, 1, 0], [5.0, 3.0, 2.0], [1.0, 1.0, 1.0], [0, 0, 0],
                   class_names=("a",), osm_id=[0, 1], lon=[10.0, 10.01], lat=[51.0, 51.0])
    a = bench.scipy_csr(g)
    assert a.nnz == 2 and a[0, 1] == 3.0


@pytest.mark.skipif(not MUNICIPALITIES.exists(), reason=f"shared data {MUNICIPALITIES} not available")
def test_run_main_json(tmp_path):
    impls = "numba,scipy"
    out_file = tmp_path / "bench.json"
    res = bench.main(["--graph", "synthetic", "--nodes", "5000", "--workload", "W1,W2,W3,W4",
                      "--impl", impls, "--repeat", "1", "--threads", "1", "--budget", "5",
                      "--sample", "300", "--no-compile-time", "-q", "--json", str(out_file)])
    data = json.loads(out_file.read_text())
    assert data["graph"]["synthetic"] is True
    assert data["graph"]["n_nodes"] == 5000 and data["graph"]["n_edges"] > 0
    assert {"name", "build_s"} <= set(data["graph"])
    assert "numba_compile_s" in data
    rows = {(r["impl"], r["workload"]): r for r in data["results"]}
    for w in ("W1", "W2", "W3", "W4"):
        r = rows[("scipy", w)]
        for k in ("median_s", "min_s", "max_s", "peak_mb", "note"):
            assert k in r, (w, k)
        assert r["min_s"] <= r["median_s"] <= r["max_s"]
    assert ("scipy-chunked", "W2") in rows
    for w in ("W1", "W2", "W3", "W4"):
        assert "median_s" in rows[("numba", w)], rows[("numba", w)]
        assert "max rel diff" in rows[("scipy", w)]["check"] or "max abs diff" in rows[("scipy", w)]["check"]
    assert "reachability differs" not in rows[("scipy", "W1")]["check"]
    # what main() returns is what it wrote
    assert [(r["impl"], r["workload"]) for r in res["results"]] == \
        [(r["impl"], r["workload"]) for r in data["results"]]
    for r, d in zip(res["results"], data["results"]):
        if "median_s" in r:
            assert r["median_s"] == pytest.approx(d["median_s"])


def test_numba_and_scipy_w1_agree(graph):
    """Direct check (in-process) that the two W1 implementations give the same answer."""
    inputs = bench.make_inputs(graph, "W1")
    a = bench.IMPL_CLASSES["numba"](graph, "W1", inputs, 1).run()
    b = bench.IMPL_CLASSES["scipy"](graph, "W1", inputs, 1).run()
    fa = np.isfinite(a["dist"])
    assert np.array_equal(fa, np.isfinite(b["dist"]))
    np.testing.assert_allclose(a["dist"][fa], b["dist"][fa], rtol=1e-9, atol=1e-6)
    assert np.mean(a["source_node"][fa] == b["source_node"][fa]) > 0.999


@pytest.mark.parametrize("impl", ["phast", "rphast", "rustworkx", "networkit"])
def test_hierarchy_and_library_impls_agree_with_numba(graph, impl):
    """The CH algorithms (phast, rphast) and the optional libraries (rustworkx,
    networkit) on the tiny graph, in-process, against numba."""
    if impl in bench.OPTIONAL:
        pytest.importorskip(bench.OPTIONAL[impl])
    workloads = [w for w in ("W1", "W2", "W3") if impl in bench.SUPPORTED[w]]
    if not MUNICIPALITIES.exists() and "W2" in workloads:
        workloads.remove("W2")  # W2's inputs are the municipality points
        if not workloads:
            pytest.skip(f"{impl} runs W2 only, whose inputs need {MUNICIPALITIES}")
    assert workloads
    for w in workloads:
        inputs = bench.make_inputs(graph, w)
        ref = bench.IMPL_CLASSES["numba"](graph, w, inputs, 1).run()
        obj = bench.IMPL_CLASSES[impl](graph, w, inputs, 1)
        if w == "W2":
            if impl in bench.W2_SAMPLED:
                idx = np.arange(25)
                for _, sums in obj.w2_origins(idx):
                    pass
                got = {"sums": sums, "idx": idx}
            else:
                got = obj.run()
            np.testing.assert_allclose(got["sums"], ref["sums"][got["idx"]], rtol=1e-9)
            continue
        got = obj.run()
        fa = np.isfinite(ref["dist"])
        assert np.array_equal(fa, np.isfinite(got["dist"])), (impl, w)
        np.testing.assert_allclose(got["dist"][fa], ref["dist"][fa], rtol=1e-9, atol=1e-6)
        if "source_node" in got:
            assert np.mean(got["source_node"][fa] == ref["source_node"][fa]) > 0.999


def test_table_labels_and_na_rows():
    rows = [{"impl": "ch", "workload": "W2", "threads": 2, "median_s": 1.0, "min_s": 1.0,
             "max_s": 1.0, "peak_mb": 1.0, "note": ""},
            {"impl": "rphast", "workload": "W1", "note": "n/a: many-to-many"}]
    table = bench.format_table(rows)
    assert "ch-buckets (2t)" in table and "n/a: many-to-many" in table


def test_the_pt_benchmark_agrees_with_its_reference(capsys):
    from benchmarks import pt

    from .conftest import shared

    feed = shared("gtfs", "vrn-rhein-neckar-cut.gtfs.zip")
    out = pt.main(["--gtfs", str(feed), "--repeat", "1", "--sample", "1",
                   "--raptor-every", "90"])
    assert out["identical"] and out["minutes"] == 180 and out["origins"] > 100
    text = capsys.readouterr().out
    assert "csa-profile" in text
    if "pyraptor" in out:  # where its venv is made (benchmarks/pt.py), its rules agree
        assert out["pyraptor"]["same_rules_identical"] and out["pyraptor"]["searches"] == 2
    else:
        assert "pyraptor: skipped, not importable" in text


def test_the_pt_benchmark_skips_pyraptor_with_a_line(tmp_path, capsys):
    from benchmarks import pt

    assert pt.pyraptor_check(tmp_path / "python", None, None, None, [], [], [], rounds=1) \
        is None
    assert capsys.readouterr().out.startswith(
        f"pyraptor: skipped, not importable with {tmp_path / 'python'} (no such interpreter)")


def test_the_national_pt_benchmark_runs_small_and_agrees(capsys):
    from benchmarks import pt

    out = pt.national(0.002, n_origins=300, n_dest=30, sample=3)
    # 1,000 stops, 40,000 stop times (within a few %), every origin's answer checked
    assert out["stops"] == 1000 and 0.9 < out["stop_times"] / 40_000 < 1.1
    assert out["sample_same"] and out["profile_pairs"] > 0
