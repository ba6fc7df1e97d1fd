"""Benchmark the contraction-hierarchy preprocessing (issue 14).

Usage::

    python -m benchmarks.ch_build --nodes 4000000 --threads 1,2 \
        --impl parallel,sequential --json benchmarks/results/ch_build_4m.json

Builds the hierarchy of ``synthetic_road_graph(nodes, seed)`` with

* ``parallel``: :meth:`accessibility.routing.ContractionHierarchy.build` (rounds of
  independent node sets, :func:`accessibility.routing._ch_contract.contract_parallel`),
  once per thread count;
* ``sequential``: the older one-node-at-a-time kernel
  :func:`benchmarks._sequential_ch.contract` (single-threaded; run once, with
  the first thread count),

each in a fresh subprocess that loads the graph from a temporary ``.npz``
(generated once by the parent) and first builds a tiny graph so that no
timing includes JIT compilation. Reported per run: build seconds (wall clock,
and the CPU seconds of all threads), shortcuts, peak resident memory of the
subprocess (``resource.getrusage`` ``ru_maxrss``: graph arrays + hierarchy +
preprocessing; the resident memory before the build is given too), and the
seconds of the W2 query ``hier.potential`` for the municipality points
(DESTATIS 2019, snapped onto the graph; 7,200 s limit, ``exp(-0.076 t_min)``;
the targets' buckets included; median of ``--repeat``). The 1-minute load
average before and after every run is recorded: the machine may be shared.
Potential sums are compared between runs (``max_rel_diff`` to the first run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

W2_LIMIT_S = 7200.0
W2_BETA_PER_MIN = 0.076
IMPLS = ("parallel", "sequential")


def _rss_mb() -> float:
    """Current resident memory of this process (MB)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _tiny_graph():
    from types import SimpleNamespace

    w = np.array([1.0, 2.0, 1.5])
    return SimpleNamespace(offsets=np.array([0, 1, 3, 3], np.int64),
                           targets=np.array([1, 2, 0], np.int32), time_s=w, length_m=w)


def _build(impl: str, graph, threads: int):
    """A ContractionHierarchy of ``graph`` by ``impl``."""
    from accessibility.routing.ch import SETTLE, SIM_SETTLE, ContractionHierarchy, _clean_csr
    from benchmarks._sequential_ch import contract

    if impl == "parallel":
        return ContractionHierarchy.build(graph, threads=threads)
    t0 = time.perf_counter()
    arrays = _clean_csr(graph.offsets, graph.targets, graph.time_s)
    rank, up_off, up_t, up_w, dn_off, dn_t, dn_w, nsc, stats = contract(
        *arrays, SIM_SETTLE, SETTLE)
    return ContractionHierarchy(rank, up_off, up_t, up_w, dn_off, dn_t, dn_w, int(nsc),
                                time.perf_counter() - t0, "time",
                                meta={"threads": 1, "simulations": int(stats[0]),
                                      "witness_settles": int(stats[2])})


def child(impl: str, threads: int, npz: str, out: str, repeat: int) -> dict:
    """One measurement in this (fresh) process; sums saved to ``out``."""
    from types import SimpleNamespace

    import numba

    from accessibility import routing

    numba.set_num_threads(threads)
    decay = routing.Decay("exponential", beta=W2_BETA_PER_MIN)
    t0 = time.perf_counter()
    tiny = _build(impl, _tiny_graph(), threads)  # JIT (or cache load) outside the timings
    tiny.potential([0], np.ones(3), limit_s=10.0, decay=decay)
    warm_s = time.perf_counter() - t0
    z = np.load(npz)
    g = SimpleNamespace(offsets=z["offsets"], targets=z["targets"], time_s=z["time_s"],
                        length_m=z["time_s"], n_nodes=int(z["offsets"].size - 1))
    origins, weight = z["origins"], z["weight"]
    rss_before = _rss_mb()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    hier = _build(impl, g, threads)
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    build_s = hier.build_s
    build_cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    peak_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    query = []
    for _ in range(repeat):
        hier._buckets.clear()  # the targets' buckets are part of the query
        t0 = time.perf_counter()
        res = hier.potential(origins, weight, limit_s=W2_LIMIT_S, decay=decay)
        query.append(time.perf_counter() - t0)
    np.save(out, np.asarray(res.sums, np.float64))
    meta = {k: v for k, v in hier.meta.items() if isinstance(v, (int, float, str))}
    return {"impl": impl, "threads": threads, "build_s": build_s, "build_cpu_s": build_cpu_s,
            "shortcuts": int(hier.n_shortcuts), "arcs": int(hier.n_arcs),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_rss_build_mb": peak_build, "rss_before_build_mb": rss_before,
            "query_s": float(np.median(query)), "query_runs_s": query,
            "warmup_s": warm_s, "numba_threads": numba.get_num_threads(), "meta": meta}


def make_graph(n_nodes: int, seed: int, path: Path) -> dict:
    """Generate the synthetic graph and the W2 inputs, save them to ``path``."""
    from benchmarks.synthetic import node_weights, snap_municipalities, synthetic_road_graph

    t0 = time.perf_counter()
    g = synthetic_road_graph(n_nodes, seed)
    nodes, pop, _ = snap_municipalities(g)
    np.savez(path, offsets=g.offsets, targets=g.targets, time_s=g.time_s, origins=nodes,
             weight=node_weights(g.n_nodes, nodes, pop))
    return {"name": g.meta.get("name"), "synthetic": True, "seed": seed,
            "n_nodes": int(g.n_nodes), "n_edges": int(g.n_edges),
            "n_origins": int(nodes.size), "generate_s": time.perf_counter() - t0}


def table(results: list[dict]) -> str:
    """Markdown table: implementation x threads."""
    rows = ["| implementation | threads | build s | build CPU s | shortcuts | rounds "
            "| peak RSS MB | potential query s | load (1 min) before/after |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        rounds = r["meta"].get("rounds", "-")
        rows.append(f"| {r['impl']} | {r['threads']} | {r['build_s']:.1f} | "
                    f"{r['build_cpu_s']:.1f} | {r['shortcuts']:,} | {rounds} | "
                    f"{r['peak_rss_mb']:.0f} | {r['query_s']:.2f} | "
                    f"{r['load_before']:.1f} / {r['load_after']:.1f} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=4_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--impl", default="parallel,sequential",
                    help=f"comma-separated, of {', '.join(IMPLS)}")
    ap.add_argument("--repeat", type=int, default=1, help="potential queries per run")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--child", nargs=4, metavar=("IMPL", "THREADS", "NPZ", "OUT"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        impl, threads, npz, out = args.child
        print(json.dumps(child(impl, int(threads), npz, out, args.repeat)))
        return 0
    threads = [int(t) for t in args.threads.split(",")]
    impls = [i.strip() for i in args.impl.split(",")]
    bad = set(impls) - set(IMPLS)
    if bad:
        ap.error(f"unknown --impl {sorted(bad)}")
    runs = [(i, t) for i in impls for t in (threads if i == "parallel" else threads[:1])]
    results = []
    with tempfile.TemporaryDirectory(prefix="chbuild-") as tmp:
        npz = Path(tmp) / "graph.npz"
        graph = make_graph(args.nodes, args.seed, npz)
        print(f"graph: {graph['n_nodes']:,} nodes, {graph['n_edges']:,} edges "
              f"({graph['generate_s']:.0f} s)", file=sys.stderr)
        first = None
        for impl, t in runs:
            out = Path(tmp) / f"sums-{impl}-{t}.npy"
            load_before = os.getloadavg()[0]
            proc = subprocess.run([sys.executable, "-m", "benchmarks.ch_build", "--repeat",
                                   str(args.repeat), "--child", impl, str(t), str(npz),
                                   str(out)], capture_output=True, text=True,
                                  cwd=Path(__file__).resolve().parents[1])
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                raise SystemExit(f"{impl} with {t} threads failed")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r["load_before"], r["load_after"] = load_before, os.getloadavg()[0]
            sums = np.load(out)
            if first is None:
                first = sums
            r["max_rel_diff"] = float(np.max(np.abs(sums - first) / np.maximum(np.abs(first),
                                                                                1e-300)))
            results.append(r)
            print(f"{impl} {t} thread(s): build {r['build_s']:.1f} s "
                  f"(CPU {r['build_cpu_s']:.1f} s), {r['shortcuts']:,} "
                  f"shortcuts, peak {r['peak_rss_mb']:.0f} MB, query {r['query_s']:.2f} s, "
                  f"load {r['load_before']:.1f}/{r['load_after']:.1f}", file=sys.stderr)
    print(table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "graph": graph, "results": results,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                     if k != "child"}}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
