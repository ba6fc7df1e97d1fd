"""Benchmark the routing kernels against scipy, networkx, igraph, pandana, cityseer,
rustworkx and networkit (and the contraction-hierarchy algorithms ch, phast, rphast).

Usage::

    python -m benchmarks.run --graph synthetic --nodes 4000000 --workload W1,W3 \
        --impl numba,scipy,networkx,igraph --repeat 3 --threads 1,2 --json out.json

Every (implementation, workload[, threads]) runs in a fresh ``spawn``-ed
subprocess that loads the graph from a temporary ``.npz``, builds the
implementation's own data structure (timed separately as *setup*), then times
the workload ``--repeat`` times. Peak memory is the kernel-level high-water
mark of resident memory (``VmHWM``, reset through ``/proc/self/clear_refs``
after setup) minus the resident memory before the timed runs, so it sees every
allocation (numba, scipy, C++, Rust), not only Python's; where ``clear_refs``
is unavailable an RSS-sampling thread is used instead. Numba compile time is
measured once in a subprocess with an empty numba cache and excluded from all
timings. Slow implementations of the many-origin workload W2 are timed on a
random sample of origins within a time budget and scaled up (labelled).

See ``benchmarks/README.md`` for what each workload measures.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import logging
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

logger = logging.getLogger("benchmarks.run")

WORKLOADS = ("W1", "W2", "W3", "W4")
IMPLS = ("numba", "scipy", "networkx", "igraph", "pandana", "cityseer", "ch", "phast", "rphast",
         "rustworkx", "networkit")
#: Implementations that need an optional package (module to import).
OPTIONAL = {"networkx": "networkx", "igraph": "igraph", "pandana": "pandana", "cityseer": "cityseer",
            "rustworkx": "rustworkx", "networkit": "networkit"}
#: Which implementations can run which workload.
SUPPORTED = {
    "W1": ("numba", "scipy", "networkx", "igraph", "phast", "rustworkx", "networkit"),
    "W2": ("numba", "scipy", "scipy-chunked", "networkx", "igraph", "ch", "rphast", "rustworkx",
           "networkit"),
    "W3": ("numba", "scipy", "networkx", "igraph", "phast", "rustworkx", "networkit"),
    "W4": ("numba", "scipy", "pandana", "cityseer"),
}
UNSUPPORTED_WHY = {
    ("pandana", "W1"): "pandana needs a distance bound and precomputes range queries per node; "
                       "an unbounded nearest-of-1000 search is not what it is built for",
    ("cityseer", "W1"): "cityseer searches per node within a distance bound; no multi-source search",
    ("pandana", "W2"): "pandana aggregations are per node within a bound (no per-origin decay sum "
                       "over 2 h on a national graph)",
    ("cityseer", "W2"): "cityseer has no bounded-time potential over a car graph",
    ("pandana", "W3"): "pandana has no one-to-all query",
    ("cityseer", "W3"): "cityseer has no one-to-all query",
    ("networkx", "W4"): "not run: scipy covers the pure-Python-free baseline; networkx is "
                        "far slower (see W1/W3)",
    ("igraph", "W4"): "igraph has no multi-source bounded search",
    ("ch", "W1"): "bucket many-to-many is for W2; one-to-all on the hierarchy: phast",
    ("ch", "W3"): "bucket many-to-many is for W2; one-to-all on the hierarchy: phast",
    ("ch", "W4"): "the contraction hierarchy is only wired up for the car graph",
    ("phast", "W2"): "PHAST sweeps the whole graph per origin; W2 on the hierarchy: rphast "
                     "(target-restricted sweep) and ch (buckets)",
    ("phast", "W4"): "not wired up: W4 searches the walking view (another graph, another hierarchy)",
    ("rphast", "W1"): "RPHAST is many-to-many for a fixed target set; one-to-all: phast",
    ("rphast", "W3"): "RPHAST is many-to-many for a fixed target set; one-to-all: phast",
    ("rphast", "W4"): "not wired up: W4 searches the walking view (another graph, another hierarchy)",
    ("rustworkx", "W4"): "not wired up: no multi-source search with a bound in rustworkx "
                         "(W1/W3 show its one-to-all speed)",
    ("networkit", "W4"): "not wired up (W1/W3 show its one-to-all speed)",
}
#: Display names in the table.
LABELS = {"ch": "ch-buckets"}
#: Implementations timed once per --threads count.
THREADED = ("numba", "ch", "rphast")

W1_SOURCES = 1000
W2_LIMIT_S = 7200.0
W2_BETA_PER_MIN = 0.076
W4_TYPES = 6
W4_LIMIT_M = 1000.0
W3_ORIGINS = 5


# ============================================================================ graph I/O
def save_graph_npz(graph, path: str | Path) -> None:
    """Save a RoadGraph's arrays and JSON-able meta to ``path`` (.npz)."""
    meta = {k: v for k, v in graph.meta.items() if _jsonable(v)}
    np.savez(path, offsets=graph.offsets, targets=graph.targets, time_s=graph.time_s,
             length_m=graph.length_m, road_class=graph.road_class, osm_id=graph.osm_id,
             lon=graph.lon, lat=graph.lat, x=graph.x, y=graph.y,
             class_names=np.array(graph.class_names), crs=np.array(graph.crs),
             meta=np.array(json.dumps(meta)))


def load_graph_npz(path: str | Path):
    """Load a graph written by :func:`save_graph_npz`."""
    from accessibility.graph.core import RoadGraph

    z = np.load(path, allow_pickle=False)
    return RoadGraph(
        offsets=z["offsets"], targets=z["targets"], time_s=z["time_s"], length_m=z["length_m"],
        road_class=z["road_class"], class_names=tuple(str(s) for s in z["class_names"]),
        osm_id=z["osm_id"], lon=z["lon"], lat=z["lat"], crs=str(z["crs"]), x=z["x"], y=z["y"],
        meta=json.loads(str(z["meta"])),
    )


def _jsonable(v) -> bool:
    try:
        json.dumps(v)
        return True
    except (TypeError, ValueError):
        return False


def obtain_graph(spec: str, n_nodes: int, seed: int):
    """Build or load the graph named by ``--graph``; returns (graph, name, build_s, note)."""
    t0 = time.perf_counter()
    if spec == "synthetic":
        from benchmarks.synthetic import synthetic_road_graph

        g = synthetic_road_graph(n_nodes, seed=seed)
        return g, g.meta["name"], time.perf_counter() - t0, "synthetic"
    p = Path(spec)
    if not p.exists():
        raise SystemExit(f"--graph: {spec} does not exist (use 'synthetic' or a file)")
    if p.suffix == ".npz":
        try:
            from accessibility.graph import load_graph  # type: ignore[attr-defined]
        except ImportError:
            load_graph = None
        try:
            g = load_graph(p) if load_graph is not None else load_graph_npz(p)
        except Exception:  # not the package's format: ours
            g = load_graph_npz(p)
        return g, p.stem, time.perf_counter() - t0, "loaded"
    try:
        from accessibility.graph import build_graph  # type: ignore[attr-defined]
    except ImportError:
        build_graph = None
    if build_graph is not None:
        g = build_graph(p)
        if isinstance(g, tuple):
            g = g[0]
        note = "built with accessibility.graph.build_graph"
    else:
        from accessibility.graph.osm import graph_from_osm
        from accessibility.graph.simplify import simplify

        g, _ = simplify(graph_from_osm(p))
        note = ("accessibility.graph.build_graph missing: built with graph_from_osm + "
                "simplify")
        logger.warning(note)
    name = p.name.split(".")[0]
    return g, name, time.perf_counter() - t0, note


# ============================================================================ inputs
def make_inputs(graph, workload: str, seed: int = 0) -> dict:
    """Deterministic workload inputs for ``graph`` (same in every subprocess)."""
    from benchmarks.synthetic import node_weights, place_points, snap_municipalities

    if workload == "W1":
        return {"sources": place_points(graph, W1_SOURCES, seed=seed + 1)}
    if workload == "W2":
        nodes, pop, _ = snap_municipalities(graph)
        return {"origins": nodes, "weight": node_weights(graph.n_nodes, nodes, pop)}
    if workload == "W3":
        return {"origins": place_points(graph, W3_ORIGINS, seed=seed + 3)}
    if workload == "W4":
        k = max(1, graph.n_nodes // 80)
        return {"facilities": [place_points(graph, k, seed=seed + 40 + i) for i in range(W4_TYPES)]}
    raise ValueError(workload)


# ============================================================================ helpers
def dedup_edges(graph, weight: str = "time", undirected: bool = False):
    """Edge list (u, v, w) without parallel edges (the minimum weight is kept).

    With ``undirected`` every edge is returned once as ``u < v``.
    """
    u = graph.sources.astype(np.int64)
    v = graph.targets.astype(np.int64)
    w = graph.weights(weight)
    if undirected:
        u, v = np.minimum(u, v), np.maximum(u, v)
        keep = u != v
        u, v, w = u[keep], v[keep], w[keep]
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(u.size, bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return u[first], v[first], w[first]


def walk_view(graph):
    """The walking graph of W4: every road usable in both directions (pedestrians
    ignore one-way rules), parallel edges reduced to the shortest; ``time_s`` is
    walking time at 4.8 km/h. All W4 implementations search this graph."""
    from accessibility.graph.core import from_edges

    u, v, ln = dedup_edges(graph, "length", undirected=True)
    c = np.zeros(2 * u.size, np.uint8)
    return from_edges(np.concatenate([u, v]), np.concatenate([v, u]),
                      np.concatenate([ln, ln]) / (4.8 / 3.6), np.concatenate([ln, ln]), c,
                      class_names=("walk",), osm_id=graph.osm_id, lon=graph.lon, lat=graph.lat,
                      crs=graph.crs, x=graph.x, y=graph.y, meta={"walk_view": True})


def scipy_csr(graph, weight: str = "time"):
    """``scipy.sparse.csr_array`` of the graph, parallel edges reduced to the minimum,
    zero weights replaced by 1e-9 (scipy's csgraph would drop explicit zeros)."""
    from scipy.sparse import csr_array

    u, v, w = dedup_edges(graph, weight)
    w = np.where(w > 0, w, 1e-9)
    offsets = np.zeros(graph.n_nodes + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=graph.n_nodes), out=offsets[1:])
    return csr_array((w, v.astype(np.int32), offsets), shape=(graph.n_nodes, graph.n_nodes))


def _exp_decay(t_s: np.ndarray) -> np.ndarray:
    return np.exp(-W2_BETA_PER_MIN * t_s / 60.0)


class PeakMemory:
    """Peak resident memory of this process during a ``with`` block.

    Uses the kernel's high-water mark (VmHWM), reset on entry through
    ``/proc/self/clear_refs``; falls back to sampling VmRSS every 5 ms.
    ``peak_mb`` is the peak minus the resident memory on entry; ``rss_peak_mb``
    the absolute peak.
    """

    def __init__(self):
        self.base_mb = self.peak_abs_mb = 0.0
        self._stop = threading.Event()
        self._thread = None
        self.method = "VmHWM"

    @staticmethod
    def _status(key: str) -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
        return float("nan")

    def __enter__(self):
        gc.collect()
        try:  # hand freed heap memory back to the OS so that the baseline is what is in use
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
        self.base_mb = self._status("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            self.method = "sampled"
            self._sampled = self.base_mb
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self._sampled = max(self._sampled, self._status("VmRSS"))

    def __exit__(self, *exc):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.peak_abs_mb = max(self._sampled, self._status("VmRSS"))
        else:
            self.peak_abs_mb = self._status("VmHWM")
        return False

    @property
    def peak_mb(self) -> float:
        return max(0.0, self.peak_abs_mb - self.base_mb)


def report_child(measure, task: dict, conn) -> None:
    """The body of a spawned benchmark process: logging to stderr, ``measure(task)``
    sent on ``conn``, or the error (never leave the parent waiting)."""
    os.dup2(2, 1)  # libraries that print (pandana's C++) must not mix into the table
    logging.basicConfig(level=task.get("log_level", logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(name)s [%(processName)s] %(message)s")
    try:
        conn.send(measure(task))
    except BaseException as e:  # report, never hang the parent
        import traceback

        conn.send({"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()})
    finally:
        conn.close()


def run_spawned(child, task: dict, name: str) -> dict:
    """``child(task, conn)`` in a fresh ``spawn``-ed process (clean memory high-water
    mark, numba from its cache); its one message on ``conn``, or an error dict when
    the process died without one (out of memory, killed)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    parent, conn = ctx.Pipe(duplex=False)
    p = ctx.Process(target=child, args=(task, conn), name=name)
    p.start()
    conn.close()
    try:
        res = parent.recv()
    except EOFError:
        res = None
    p.join()
    if res is None:
        why = (f"killed by signal {-p.exitcode}" if p.exitcode is not None and p.exitcode < 0
               else f"exit code {p.exitcode}")
        return {"error": f"subprocess died ({why}; out of memory or killed?)"}
    return res


# ============================================================================ implementations
# Each implementation is a class with ``setup(graph, inputs)`` (timed separately) and
# ``run(...)`` returning values used to cross-check against numba. Sampled
# implementations of W2 implement ``run_budget(budget_s, max_origins, rng)`` instead.

class _Numba:
    def __init__(self, graph, workload, inputs, threads):
        import numba

        from accessibility import routing

        numba.set_num_threads(threads)
        self.routing, self.g, self.w, self.inp = routing, graph, workload, inputs
        if workload == "W4":
            self.g = walk_view(graph)

    def run(self, rep: int = 0):
        r, g, inp = self.routing, self.g, self.inp
        if self.w == "W1":
            res = r.nearest_facility(g, inp["sources"], weight="time")
            src = np.asarray(res.source)
            return {"dist": np.asarray(res.dist),
                    "source_node": np.where(src >= 0, inp["sources"][src.clip(0)], -1)}
        if self.w == "W2":
            idx = inp.get("numba_idx", np.arange(inp["origins"].size))
            res = r.potential(g, inp["origins"][idx], inp["weight"], limit_s=W2_LIMIT_S,
                              decay=r.Decay("exponential", beta=W2_BETA_PER_MIN))
            return {"sums": np.asarray(res.sums, np.float64), "idx": idx}
        if self.w == "W3":
            o = inp["origins"][rep % inp["origins"].size]
            res = r.nearest_facility(g, np.array([o]), weight="time")
            return {"dist": np.asarray(res.dist), "origin": o}
        if self.w == "W4":
            out = {}
            for k, fac in enumerate(inp["facilities"]):
                res = r.walk_nearest(g, fac, limit_m=W4_LIMIT_M)
                out[f"dist{k}"] = np.asarray(res.dist)
            return out
        raise ValueError(self.w)


class _Scipy:
    def __init__(self, graph, workload, inputs, threads):
        self.g, self.w, self.inp = graph, workload, inputs
        if workload == "W4":
            self.csr = scipy_csr(walk_view(graph), "length")
        else:
            self.csr = scipy_csr(graph, "time")

    def run(self, rep: int = 0):
        from scipy.sparse.csgraph import dijkstra

        inp = self.inp
        if self.w == "W1":
            # min_only with return_predecessors also returns the nearest source
            # of every node, which is what numba's nearest_facility gives.
            dist, _pred, src = dijkstra(self.csr, directed=True, indices=inp["sources"],
                                        min_only=True, return_predecessors=True)
            return {"dist": dist, "source_node": src.astype(np.int64)}
        if self.w == "W3":
            o = inp["origins"][rep % inp["origins"].size]
            return {"dist": dijkstra(self.csr, directed=True, indices=o), "origin": o}
        if self.w == "W4":
            out = {}
            for k, fac in enumerate(inp["facilities"]):
                out[f"dist{k}"] = dijkstra(self.csr, directed=True, indices=fac, min_only=True,
                                           limit=W4_LIMIT_M)
            return out
        raise ValueError(self.w)

    # W2, one origin per call
    def w2_origins(self, idx):
        from scipy.sparse.csgraph import dijkstra

        origins, weight = self.inp["origins"], self.inp["weight"]
        wn = np.flatnonzero(weight)  # only weighted nodes contribute
        ww = weight[wn]
        sums = np.empty(idx.size)
        for j, i in enumerate(idx):
            d = dijkstra(self.csr, directed=True, indices=int(origins[i]), limit=W2_LIMIT_S)[wn]
            ok = np.isfinite(d)
            sums[j] = float(np.dot(ww[ok], _exp_decay(d[ok])))
            yield j, sums


class _ScipyChunked(_Scipy):
    """W2 with ``dijkstra(indices=chunk, limit=...)``: one call per chunk of origins,
    chunk size such that the dense chunk x n float64 output stays <= 1 GB."""

    def w2_origins(self, idx):
        from scipy.sparse.csgraph import dijkstra

        origins, weight = self.inp["origins"], self.inp["weight"]
        wn = np.flatnonzero(weight)
        ww = weight[wn]
        chunk = max(1, int(1e9 // (8 * self.g.n_nodes)))
        sums = np.empty(idx.size)
        for s in range(0, idx.size, chunk):
            sl = idx[s:s + chunk]
            d = dijkstra(self.csr, directed=True, indices=origins[sl], limit=W2_LIMIT_S)[:, wn]
            f = np.where(np.isfinite(d), _exp_decay(np.where(np.isfinite(d), d, 0.0)), 0.0)
            sums[s:s + sl.size] = f @ ww
            del d, f
            yield s + sl.size - 1, sums


class _Networkx:
    def __init__(self, graph, workload, inputs, threads):
        import networkx as nx

        self.nx, self.g, self.w, self.inp = nx, graph, workload, inputs
        u, v, w = dedup_edges(graph, "time")
        G = nx.DiGraph()
        G.add_nodes_from(range(graph.n_nodes))
        G.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist()), weight="weight")
        self.G = G

    def _dense(self, d: dict) -> np.ndarray:
        out = np.full(self.g.n_nodes, np.inf)
        if d:
            out[np.fromiter(d.keys(), np.int64, len(d))] = np.fromiter(d.values(), np.float64, len(d))
        return out

    def run(self, rep: int = 0):
        nx, inp = self.nx, self.inp
        if self.w == "W1":
            d = nx.multi_source_dijkstra_path_length(self.G, set(inp["sources"].tolist()),
                                                     weight="weight")
            return {"dist": self._dense(d)}
        if self.w == "W3":
            o = int(inp["origins"][rep % inp["origins"].size])
            return {"dist": self._dense(nx.single_source_dijkstra_path_length(self.G, o)),
                    "origin": o}
        raise ValueError(self.w)

    def w2_origins(self, idx):
        origins, weight = self.inp["origins"], self.inp["weight"]
        sums = np.empty(idx.size)
        for j, i in enumerate(idx):
            d = self.nx.single_source_dijkstra_path_length(self.G, int(origins[i]),
                                                           cutoff=W2_LIMIT_S, weight="weight")
            k = np.fromiter(d.keys(), np.int64, len(d))
            t = np.fromiter(d.values(), np.float64, len(d))
            sums[j] = float(np.dot(weight[k], _exp_decay(t)))
            yield j, sums


class _Igraph:
    def __init__(self, graph, workload, inputs, threads):
        import igraph as ig

        self.g, self.w, self.inp = graph, workload, inputs
        u, v, w = dedup_edges(graph, "time")
        n = graph.n_nodes
        self.super_source = None
        if workload == "W1":
            # Super-source trick: a virtual node n with 0-weight edges to every source;
            # one single-source search from it = nearest-facility search.
            src = inputs["sources"].astype(np.int64)
            u = np.concatenate([u, np.full(src.size, n)])
            v = np.concatenate([v, src])
            w = np.concatenate([w, np.zeros(src.size)])
            self.super_source = n
            n += 1
        self.G = ig.Graph(n=n, edges=np.column_stack([u, v]).tolist(), directed=True)
        self.weights = w.tolist()
        self.G.es["weight"] = self.weights

    def run(self, rep: int = 0):
        if self.w == "W1":
            d = np.array(self.G.distances(source=[self.super_source], weights="weight")[0])
            return {"dist": d[:self.g.n_nodes]}
        if self.w == "W3":
            o = int(self.inp["origins"][rep % self.inp["origins"].size])
            return {"dist": np.array(self.G.distances(source=[o], weights="weight")[0]),
                    "origin": o}
        raise ValueError(self.w)

    def w2_origins(self, idx):
        # igraph's distances() has no cutoff: every call is a full one-to-all search.
        origins, weight = self.inp["origins"], self.inp["weight"]
        wn = np.flatnonzero(weight)
        ww = weight[wn]
        sums = np.empty(idx.size)
        for j, i in enumerate(idx):
            d = np.array(self.G.distances(source=[int(origins[i])], target=wn.tolist(),
                                          weights="weight")[0])
            ok = d <= W2_LIMIT_S
            sums[j] = float(np.dot(ww[ok], _exp_decay(d[ok])))
            yield j, sums


class _Pandana:
    """W4 with pandana: contraction-hierarchy network (setup), then per facility
    type ``set_pois`` + ``nearest_pois``; walking = undirected (``twoway=True``)."""

    def __init__(self, graph, workload, inputs, threads):
        import pandana
        import pandas as pd

        self.g, self.w, self.inp = graph, workload, inputs
        u, v, w = dedup_edges(graph, "length", undirected=True)
        nodes = pd.DataFrame({"x": graph.x, "y": graph.y})
        edges = pd.DataFrame({"from": u, "to": v, "length": w})
        self.net = pandana.Network(nodes["x"], nodes["y"], edges["from"], edges["to"],
                                   edges[["length"]], twoway=True)

    def run(self, rep: int = 0):
        out = {}
        g = self.g
        for k, fac in enumerate(self.inp["facilities"]):
            cat = f"type{k}"
            self.net.set_pois(cat, W4_LIMIT_M, 1, g.x[fac], g.y[fac])  # type: ignore[arg-type]
            res = self.net.nearest_pois(W4_LIMIT_M, cat, num_pois=1, max_distance=np.inf)
            d = res[1].to_numpy(np.float64)
            out[f"dist{k}"] = np.where(np.isfinite(d) & (d < W4_LIMIT_M + 1e-3) & (d >= 0), d, np.inf)
        return out


class _Cityseer:
    """W4 with cityseer: ``NetworkStructure`` (nodes, two directed edges per road with
    a bent two-segment geometry of exactly ``length_m``) and a ``DataMap`` of the
    facility points (setup), then one ``accessibility_decays`` pass over all nodes
    for the six types (distance 1000 m); cityseer runs a bounded search per node."""

    def __init__(self, graph, workload, inputs, threads):
        from cityseer import rustalgos

        self.g, self.inp = graph, inputs
        ns = rustalgos.graph.NetworkStructure()
        x, y = graph.x, graph.y
        for i in range(graph.n_nodes):
            ns.add_street_node(i, float(x[i]), float(y[i]), True, 1.0)
        u, v, L = dedup_edges(graph, "length", undirected=True)
        dx, dy = x[v] - x[u], y[v] - y[u]
        d = np.hypot(dx, dy)
        h = np.sqrt(np.maximum((L / 2) ** 2 - (d / 2) ** 2, 0.0))  # bend so length == L
        nz = np.where(d > 0, d, 1.0)
        mx, my = (x[u] + x[v]) / 2 - dy / nz * h, (y[u] + y[v]) / 2 + dx / nz * h
        e = 0
        for a, b, ax, ay, bx, by, cx, cy in zip(u.tolist(), v.tolist(), x[u].tolist(),
                                                y[u].tolist(), x[v].tolist(), y[v].tolist(),
                                                mx.tolist(), my.tolist()):
            ns.add_street_edge(a, b, e, a, b, f"LINESTRING ({ax} {ay}, {cx} {cy}, {bx} {by})")
            ns.add_street_edge(b, a, e, b, a, f"LINESTRING ({bx} {by}, {cx} {cy}, {ax} {ay})")
            e += 1
        ns.validate()
        ns.build_edge_rtree()
        dm = rustalgos.data.DataMap()
        landuses = {}
        for k, fac in enumerate(inputs["facilities"]):
            for i in fac.tolist():
                key = f"{k}_{i}"
                dm.insert(key, f"POINT ({x[i]} {y[i]})", None)
                landuses[key] = f"type{k}"
        dm.assign_data_to_network(ns, 100.0, 50)
        self.ns, self.dm, self.landuses = ns, dm, landuses

    def run(self, rep: int = 0):
        keys = [f"type{k}" for k in range(len(self.inp["facilities"]))]
        res = self.dm.accessibility_decays(self.ns, self.landuses, keys, ["1"],
                                           distances=[int(W4_LIMIT_M)], pbar_disabled=True)[0]
        node_keys = np.asarray(res.node_keys_py, dtype=np.int64)
        out = {}
        for k, key in enumerate(keys):
            d = np.full(self.g.n_nodes, np.inf)
            vals = np.asarray(res.result[key].distance[int(W4_LIMIT_M)], dtype=np.float64)
            d[node_keys] = np.where(np.isfinite(vals) & (vals <= W4_LIMIT_M), vals, np.inf)
            out[f"dist{k}"] = d
        return out


class _CH:
    """W2 with accessibility.routing.ch: contraction hierarchy (setup, reported in the note),
    then bucket many-to-many; the timed run includes the targets' bucket build."""

    def __init__(self, graph, workload, inputs, threads):
        import numba

        from accessibility import routing
        from accessibility.routing import ContractionHierarchy

        numba.set_num_threads(threads)
        self.routing, self.inp = routing, inputs
        t0 = time.perf_counter()  # load the compiled kernels from numba's cache
        tiny = ContractionHierarchy.build(routing_tiny_graph())
        tiny.potential([0], np.ones(3), limit_s=10.0, decay=routing.Decay("exponential", beta=0.1))
        self.warmup_s = time.perf_counter() - t0
        self.ch = hierarchy(graph, inputs)

    def run(self, rep: int = 0):
        r, inp = self.routing, self.inp
        self.ch._buckets.clear()  # rebuild the buckets in every repetition
        res = self.ch.potential(inp["origins"], inp["weight"], limit_s=W2_LIMIT_S,
                                decay=r.Decay("exponential", beta=W2_BETA_PER_MIN))
        return {"sums": np.asarray(res.sums, np.float64), "idx": np.arange(inp["origins"].size)}


def hierarchy(graph, inputs):
    """The contraction hierarchy of ``graph``: from the run's ``--ch-cache``
    directory (``inputs["_ch_cache"]``) when an earlier task built it, else built
    here (and stored there). ``ch.meta["cache"]`` says which."""
    from accessibility.routing import ContractionHierarchy

    cache = inputs.get("_ch_cache")
    if cache:
        return ContractionHierarchy.cached(graph, cache)
    ch = ContractionHierarchy.build(graph)
    ch.meta["cache"] = "built"
    return ch


class _Phast(_CH):
    """W1/W3 with PHAST on accessibility.routing.ch (``ContractionHierarchy.one_to_all``):
    hierarchy and sweep layout in setup (reported), then per query one upward
    search (W1: from all 1,000 sources at once) and one sweep over all nodes."""

    def __init__(self, graph, workload, inputs, threads):
        import numba

        from accessibility.routing import ContractionHierarchy

        numba.set_num_threads(threads)
        self.w, self.inp = workload, inputs
        t0 = time.perf_counter()  # load the compiled kernels from numba's cache
        tiny = ContractionHierarchy.build(routing_tiny_graph())
        tiny.one_to_all([0])
        tiny.one_to_all([0, 1])
        self.warmup_s = time.perf_counter() - t0
        self.ch = hierarchy(graph, inputs)
        self.ch.phast_layout()

    def run(self, rep: int = 0):
        inp = self.inp
        if self.w == "W1":
            res = self.ch.one_to_all(inp["sources"])
            src = np.asarray(res.source)
            return {"dist": np.asarray(res.dist),
                    "source_node": np.where(src >= 0, inp["sources"][src.clip(0)], -1)}
        if self.w == "W3":
            o = inp["origins"][rep % inp["origins"].size]
            return {"dist": np.asarray(self.ch.one_to_all(np.array([o])).dist), "origin": o}
        raise ValueError(self.w)


class _Rphast(_CH):
    """W2 with RPHAST on accessibility.routing.ch (``ContractionHierarchy.rphast_potential``):
    hierarchy in setup; the timed run selects the targets' restricted downward graph
    and sweeps it for every origin (batches of origins, in parallel)."""

    def __init__(self, graph, workload, inputs, threads):
        import numba

        from accessibility import routing
        from accessibility.routing import ContractionHierarchy

        numba.set_num_threads(threads)
        self.routing, self.inp = routing, inputs
        t0 = time.perf_counter()
        tiny = ContractionHierarchy.build(routing_tiny_graph())
        tiny.rphast_potential([0], np.ones(3), limit_s=10.0,
                              decay=routing.Decay("exponential", beta=0.1))
        self.warmup_s = time.perf_counter() - t0
        self.ch = hierarchy(graph, inputs)

    def run(self, rep: int = 0):
        r, inp = self.routing, self.inp
        self.ch.__dict__.pop("_rphast_cache", None)  # select again in every repetition
        res = self.ch.rphast_potential(inp["origins"], inp["weight"], limit_s=W2_LIMIT_S,
                                       decay=r.Decay("exponential", beta=W2_BETA_PER_MIN))
        return {"sums": np.asarray(res.sums, np.float64), "idx": np.arange(inp["origins"].size)}


class _Rustworkx:
    """rustworkx ``PyDiGraph`` (edge payload: the time). W1: super-source trick; W3:
    ``digraph_dijkstra_shortest_path_lengths``; W2: ``digraph_dijkstra_search`` with a
    visitor that stops at the first node beyond 7,200 s (rustworkx's Dijkstra
    functions have no cutoff; the visitor is Python, called per event)."""

    def __init__(self, graph, workload, inputs, threads):
        import rustworkx as rx

        self.rx, self.g, self.w, self.inp = rx, graph, workload, inputs
        u, v, w = dedup_edges(graph, "time")
        n = graph.n_nodes
        self.super_source = None
        if workload == "W1":  # virtual node n with 0-cost edges to every source
            src = inputs["sources"].astype(np.int64)
            u = np.concatenate([u, np.full(src.size, n)])
            v = np.concatenate([v, src])
            w = np.concatenate([w, np.zeros(src.size)])
            self.super_source = n
            n += 1
        G = rx.PyDiGraph(multigraph=False)
        G.add_nodes_from(range(n))
        step = 1_000_000  # in chunks: a list of 10M Python tuples at once is ~2 GB
        for a in range(0, u.size, step):
            G.add_edges_from(list(zip(u[a:a + step].tolist(), v[a:a + step].tolist(),
                                      w[a:a + step].tolist())))
        self.G = G

    def _dense(self, m, source: int) -> np.ndarray:
        out = np.full(self.g.n_nodes + (self.super_source is not None), np.inf)
        k = np.fromiter(m.keys(), np.int64, len(m))
        out[k] = np.fromiter(m.values(), np.float64, len(m))
        out[source] = 0.0
        return out[:self.g.n_nodes]

    def run(self, rep: int = 0):
        rx = self.rx
        if self.w == "W1":
            m = rx.digraph_dijkstra_shortest_path_lengths(self.G, self.super_source, float)
            return {"dist": self._dense(m, self.super_source)}
        if self.w == "W3":
            o = int(self.inp["origins"][rep % self.inp["origins"].size])
            m = rx.digraph_dijkstra_shortest_path_lengths(self.G, o, float)
            return {"dist": self._dense(m, o), "origin": o}
        raise ValueError(self.w)

    def w2_origins(self, idx):
        from rustworkx.visit import DijkstraVisitor, StopSearch

        class Bounded(DijkstraVisitor):
            def __init__(self):
                self.nodes, self.cost = [], []

            def discover_vertex(self, v, score):  # settled in cost order
                if score > W2_LIMIT_S:
                    raise StopSearch
                self.nodes.append(v)
                self.cost.append(score)

        origins, weight = self.inp["origins"], self.inp["weight"]
        sums = np.empty(idx.size)
        for j, i in enumerate(idx):
            vis = Bounded()
            self.rx.digraph_dijkstra_search(self.G, [int(origins[i])], float, vis)
            k = np.asarray(vis.nodes, np.int64)
            sums[j] = float(np.dot(weight[k], _exp_decay(np.asarray(vis.cost, np.float64))))
            yield j, sums


class _Networkit:
    """networkit ``Graph`` (weighted, directed). W1: super-source trick with
    ``distance.Dijkstra``; W3: ``distance.Dijkstra``; W2: ``distance.MultiTargetDijkstra``
    to the weighted nodes, costs beyond 7,200 s dropped (networkit has no cost bound)."""

    def __init__(self, graph, workload, inputs, threads):
        import networkit as nk

        nk.setNumberOfThreads(max(1, threads))
        self.nk, self.g, self.w, self.inp = nk, graph, workload, inputs
        u, v, w = dedup_edges(graph, "time")
        n = graph.n_nodes
        self.super_source = None
        if workload == "W1":
            src = inputs["sources"].astype(np.int64)
            u = np.concatenate([u, np.full(src.size, n)])
            v = np.concatenate([v, src])
            w = np.concatenate([w, np.zeros(src.size)])
            self.super_source = n
            n += 1
        self.G = nk.Graph(n, weighted=True, directed=True)
        self.G.addEdges((w, (u, v)))

    def _one_to_all(self, source: int) -> np.ndarray:
        dj = self.nk.distance.Dijkstra(self.G, source, storePaths=False)
        dj.run()
        d = np.asarray(dj.getDistances(), np.float64)[:self.g.n_nodes]
        d[d > 1e300] = np.inf  # networkit: the largest float for "unreachable"
        return d

    def run(self, rep: int = 0):
        if self.w == "W1":
            return {"dist": self._one_to_all(self.super_source)}
        if self.w == "W3":
            o = int(self.inp["origins"][rep % self.inp["origins"].size])
            return {"dist": self._one_to_all(o), "origin": o}
        raise ValueError(self.w)

    def w2_origins(self, idx):
        # networkit's Dijkstra classes have no cost bound: MultiTargetDijkstra stops once
        # every weighted node is settled (traversal.DijkstraFrom could stop earlier from
        # a Python callback, but it hands the callback integer-truncated distances).
        origins, weight = self.inp["origins"], self.inp["weight"]
        wn = np.flatnonzero(weight)
        ww = weight[wn]
        targets = wn.tolist()
        sums = np.empty(idx.size)
        for j, i in enumerate(idx):
            mt = self.nk.distance.MultiTargetDijkstra(self.G, int(origins[i]), targets)
            mt.run()
            d = np.asarray(mt.getDistances(), np.float64)  # in the order of ``targets``
            ok = d <= W2_LIMIT_S
            sums[j] = float(np.dot(ww[ok], _exp_decay(d[ok])))
            yield j, sums


def routing_tiny_graph():
    """A 3-node path graph (CSR arrays only), to load compiled kernels."""
    from types import SimpleNamespace

    w = np.array([1.0, 2.0])
    return SimpleNamespace(offsets=np.array([0, 1, 2, 2], np.int64),
                           targets=np.array([1, 2], np.int32), time_s=w, length_m=w)


IMPL_CLASSES = {"numba": _Numba, "scipy": _Scipy, "scipy-chunked": _ScipyChunked,
                "networkx": _Networkx, "igraph": _Igraph, "pandana": _Pandana,
                "cityseer": _Cityseer, "ch": _CH, "phast": _Phast, "rphast": _Rphast,
                "rustworkx": _Rustworkx, "networkit": _Networkit}
#: W2 implementations timed on a budgeted sample of origins and scaled up.
W2_SAMPLED = ("scipy", "scipy-chunked", "networkx", "igraph", "rustworkx", "networkit")


# ============================================================================ one task
def run_task(task: dict) -> dict:
    """Run one (impl, workload, threads) task in this process; returns a result dict.

    Values computed by the last repetition are written to ``task["values_path"]``
    (npz) for cross-checking when given.
    """
    if task.get("numba_cache_dir"):
        os.environ["NUMBA_CACHE_DIR"] = task["numba_cache_dir"]
    impl, workload, threads = task["impl"], task["workload"], task["threads"]
    graph = load_graph_npz(task["graph_path"])
    inputs = make_inputs(graph, workload, task.get("seed", 0))
    inputs["_ch_cache"] = task.get("ch_cache")
    out = {"impl": impl, "workload": workload, "threads": threads, "note": ""}
    notes = []
    if impl == "numba":
        from accessibility import routing

        t0 = time.perf_counter()
        routing.warmup()
        out["warmup_s"] = time.perf_counter() - t0
    scale = 1.0
    if impl == "numba" and workload == "W2" and task.get("numba_sample"):
        total = inputs["origins"].size
        k = min(total, int(task["numba_sample"]))
        if k < total:  # same random order as the sampled baselines, so checks overlap
            inputs["numba_idx"] = np.random.default_rng(task.get("seed", 0) + 2).permutation(total)[:k]
            scale = total / k
            notes.append(f"scaled from {k} of {total} origins")
    with PeakMemory() as setup_mem:
        t0 = time.perf_counter()
        obj = IMPL_CLASSES[impl](graph, workload, inputs, threads)
        out["setup_s"] = time.perf_counter() - t0
    out["setup_peak_mb"] = setup_mem.peak_mb
    times: list[float] = []
    values = None
    with PeakMemory() as mem:
        if workload == "W2" and impl in W2_SAMPLED:
            total = inputs["origins"].size
            rng = np.random.default_rng(task.get("seed", 0) + 2)
            idx = rng.permutation(total)[:task["max_sample"]]
            done = 0
            t0 = time.perf_counter()
            sums = None
            for last, sums in obj.w2_origins(idx):
                done = last + 1
                if time.perf_counter() - t0 > task["budget_s"]:
                    break
            measured = time.perf_counter() - t0
            times = [measured * total / done]
            values = {"sums": sums[:done].copy(), "idx": idx[:done]}
            if done < total:
                notes.append(f"scaled from {done} of {total} origins ({measured:.1f} s measured)")
            if impl == "scipy-chunked":
                notes.append(f"chunks of {max(1, int(1e9 // (8 * graph.n_nodes)))} origins")
            if impl == "igraph":
                notes.append("no cutoff in igraph distances(): full searches")
        else:
            for rep in range(task["repeat"]):
                t0 = time.perf_counter()
                values = obj.run(rep)
                times.append(time.perf_counter() - t0)
                if rep + 1 < task["repeat"]:
                    values = None
                    gc.collect()
    if scale != 1.0:
        out["measured_s"] = [float(t) for t in times]
        times = [t * scale for t in times]
    out.update(median_s=float(np.median(times)), min_s=float(np.min(times)),
               max_s=float(np.max(times)), runs=len(times), peak_mb=mem.peak_mb,
               rss_peak_mb=mem.peak_abs_mb, memory_method=mem.method)
    if impl == "numba":
        notes.append(f"{threads} thread{'s' if threads > 1 else ''}")
    if impl in ("ch", "phast", "rphast"):
        hier = obj.ch
        how = {"loaded": "loaded from --ch-cache, built by an earlier task"}.get(
            hier.meta.get("cache"), "built in setup")
        out.update(warmup_s=obj.warmup_s, ch_build_s=hier.build_s,
                   ch_shortcuts=hier.n_shortcuts, ch_arcs=hier.n_arcs,
                   ch_cache=hier.meta.get("cache"))
        if impl != "phast":
            notes.append(f"{threads} thread{'s' if threads > 1 else ''}")
        notes.append(f"CH preprocessing {hier.build_s:.1f} s ({hier.n_shortcuts:,} "
                     f"shortcuts; {how}) not included")
    if impl == "ch":
        out.update(ch_bucket_entries=int(obj.ch._buckets["value"][1].size),
                   ch_bucket_s=obj.ch._buckets["seconds"])
        notes.append("buckets included")
    if impl == "phast":
        out["phast_layout_s"] = obj.ch.phast_layout()["seconds"]
        notes.append(f"sweep layout {out['phast_layout_s']:.1f} s in setup")
        if workload == "W1":
            notes.append("multi-source (gives nearest source)")
    if impl == "rphast":
        sel = obj.ch.__dict__["_rphast_cache"]["value"]
        out.update(rphast_nodes=sel["n_nodes"], rphast_arcs=sel["n_arcs"],
                   rphast_select_s=sel["seconds"])
        notes.append(f"target selection included ({sel['n_nodes']:,} nodes, "
                     f"{sel['seconds']:.2f} s)")
    if impl in ("rustworkx", "networkit") and workload == "W1":
        notes.append("super-source trick")
    if impl == "rustworkx" and workload == "W2":
        notes.append("dijkstra_search + Python visitor stopping beyond 7,200 s")
    if impl == "networkit" and workload == "W2":
        notes.append("MultiTargetDijkstra to the weighted nodes (no cost bound in networkit)")
    if impl in ("rustworkx", "networkit"):
        notes.append(f"graph build {out['setup_s']:.0f} s not included")
    if impl in ("pandana", "cityseer"):
        notes.append(f"setup {out['setup_s']:.1f} s not included")
        notes.append("own thread pool (all cores)")
    if impl == "igraph" and workload == "W1":
        notes.append("super-source trick")
    if impl == "scipy" and workload == "W1":
        notes.append("min_only+return_predecessors (gives nearest source)")
    if impl == "networkx" and workload in ("W1", "W3", "W2"):
        notes.append(f"nx graph build {out['setup_s']:.0f} s not included")
    out["note"] = "; ".join(notes)
    if task.get("values_path") and values is not None:
        np.savez(task["values_path"], **{k: np.asarray(v) for k, v in values.items()})
    return out


def _child(task, conn):
    report_child(run_task, task, conn)


def run_subprocess(task: dict, timeout: float | None = None) -> dict:
    """Run :func:`run_task` in a fresh spawned process."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(task, child), name=f"{task['impl']}-{task['workload']}")
    p.start()
    child.close()
    res = None
    if parent.poll(timeout):
        try:
            res = parent.recv()
        except EOFError:
            res = None
    p.join(5 if res is not None else 0.1)
    if p.is_alive():
        p.kill()
        p.join()
        return res or {"error": f"timed out after {timeout} s"}
    if res is None:
        why = (f"killed by signal {-p.exitcode}" if p.exitcode is not None and p.exitcode < 0
               else f"exit code {p.exitcode}")
        return {"error": f"subprocess died ({why}; out of memory or killed?)"}
    return res


def _compile_child(conn, cache_dir):
    os.environ["NUMBA_CACHE_DIR"] = cache_dir
    try:
        from accessibility import routing

        t0 = time.perf_counter()
        routing.warmup()
        conn.send(time.perf_counter() - t0)
    except BaseException as e:
        conn.send(f"{type(e).__name__}: {e}")
    conn.close()


def measure_numba_compile() -> float | str:
    """Seconds ``routing.warmup()`` takes with an empty numba cache (fresh process)."""
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as d:
        parent, child = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_compile_child, args=(child, d))
        p.start()
        child.close()
        try:
            res = parent.recv()
        except EOFError:
            res = "compile subprocess died"
        p.join()
    return res


# ============================================================================ checks
def compare(ref: dict, other: dict, workload: str) -> str:
    """Short agreement note between two value dicts (``ref`` = numba)."""
    if workload in ("W1", "W3"):
        a, b = ref["dist"], other["dist"]
        fa, fb = np.isfinite(a), np.isfinite(b)
        if not np.array_equal(fa, fb):
            return f"reachability differs at {int((fa != fb).sum())} nodes"
        err = float(np.max(np.abs(a[fa] - b[fa]) / np.maximum(1.0, np.abs(a[fa])))) if fa.any() else 0.0
        s = f"max rel diff {err:.1e}"
        if "source_node" in ref and "source_node" in other:
            same = np.mean(ref["source_node"][fa] == other["source_node"][fa])
            s += f", same nearest source {same:.4%}"
        return s
    if workload == "W2":
        common, ia, ib = np.intersect1d(ref["idx"], other["idx"], return_indices=True)
        a, b = ref["sums"][ia], other["sums"][ib]
        err = float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a)))) if a.size else 0.0
        return f"max rel diff {err:.1e} on {a.size} origins"
    if workload == "W4":
        worst, mism = 0.0, 0
        for k in range(W4_TYPES):
            a, b = ref[f"dist{k}"], other[f"dist{k}"]
            fa, fb = np.isfinite(a), np.isfinite(b)
            mism += int((fa != fb).sum())
            both = fa & fb
            if both.any():
                worst = max(worst, float(np.max(np.abs(a[both] - b[both]))))
        return f"max abs diff {worst:.2g} m, reachability differs at {mism} node-types"
    return ""


def load_values(path) -> dict | None:
    if path is None or not Path(path).exists():
        return None
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


# ============================================================================ output
def format_table(results: list[dict]) -> str:
    rows = [("implementation", "workload", "median s", "min-max s", "vs base", "peak MB",
             "setup s", "note")]
    by_w: dict[str, list[dict]] = {}
    for r in results:
        by_w.setdefault(r["workload"], []).append(r)
    for w, rs in by_w.items():
        ok = [r for r in rs if "median_s" in r]
        base = next((r for r in ok if r["impl"] == "scipy"), ok[0] if ok else None)
        for r in rs:
            label = LABELS.get(r["impl"], r["impl"]) + (
                f" ({r['threads']}t)" if r["impl"] in THREADED and "threads" in r else "")
            if "median_s" not in r:
                rows.append((label, w, "-", "-", "-", "-", "-", r.get("note", "")))
                continue
            ratio = base["median_s"] / r["median_s"] if base and r["median_s"] > 0 else float("nan")
            rows.append((label, w, f"{r['median_s']:.3f}", f"{r['min_s']:.3f}-{r['max_s']:.3f}",
                         f"{ratio:.2f}x", f"{r['peak_mb']:.0f}", f"{r.get('setup_s', 0):.1f}",
                         r.get("note", "")))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for k, row in enumerate(rows):
        lines.append(" | ".join(str(c).ljust(widths[i]) for i, c in enumerate(row[:-1]))
                     + " | " + str(row[-1]))
        if k == 0:
            lines.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * 4)
    return "\n".join(lines)


# ============================================================================ main
def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument("--graph", default="synthetic",
                   help="'synthetic' or a path: .osm.pbf/.osm/.osm.gz (built) or .npz (loaded)")
    p.add_argument("--nodes", type=int, default=200_000, help="synthetic graph size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workload", default="W1,W2,W3,W4", help="comma list of W1,W2,W3,W4")
    p.add_argument("--impl", default="numba,scipy", help="comma list of " + ",".join(IMPLS))
    p.add_argument("--repeat", type=int, default=3, help="timed repetitions (median reported)")
    p.add_argument("--threads", default="1,2",
                   help="numba thread counts, comma list; numba runs once per count")
    p.add_argument("--sample", type=int, default=11_000,
                   help="W2: at most this many origins for the sampled implementations")
    p.add_argument("--budget", type=float, default=120.0,
                   help="W2: seconds a sampled implementation may run before it is scaled up")
    p.add_argument("--numba-sample", type=int, default=None,
                   help="W2: time numba on this many (random) origins and scale up")
    p.add_argument("--timeout", type=float, default=None, help="seconds per task (default none)")
    p.add_argument("--ch-cache", default=None, metavar="DIR",
                   help="keep the contraction hierarchy of ch/phast/rphast here across runs "
                        "(default: a temporary directory, shared by the tasks of one run)")
    p.add_argument("--json", default=None, help="write results as JSON to this file")
    p.add_argument("--no-check", action="store_true", help="skip cross-checks against numba")
    p.add_argument("--no-compile-time", action="store_true",
                   help="skip the empty-cache numba compile measurement")
    p.add_argument("--table", default=None, metavar="JSON[,JSON...]",
                   help="only print the table of earlier --json files (results concatenated)")
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings on stderr")
    return p.parse_args(argv)


def _available(module: str) -> bool:
    try:
        importlib.import_module(module)
        return True
    except Exception:  # ImportError or a broken install
        return False


def main(argv=None) -> dict:
    """Run the benchmark; prints the table and returns the JSON-able result dict."""
    args = parse_args(argv)
    if args.table:
        merged = {"results": []}
        for f in args.table.split(","):
            d = json.loads(Path(f).read_text())
            merged.setdefault("graph", d["graph"])
            merged["results"] += d["results"]
        merged["results"].sort(key=lambda r: r["workload"])
        print(format_table(merged["results"]))
        return merged
    level = logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    workloads = [w.strip().upper() for w in args.workload.split(",") if w.strip()]
    impls = [i.strip().lower() for i in args.impl.split(",") if i.strip()]
    for w in workloads:
        if w not in WORKLOADS:
            raise SystemExit(f"unknown workload {w!r}; choose from {WORKLOADS}")
    for i in impls:
        if i not in IMPLS:
            raise SystemExit(f"unknown implementation {i!r}; choose from {IMPLS}")
    threads = [int(t) for t in str(args.threads).split(",") if t.strip()]
    for i in list(impls):
        mod = OPTIONAL.get(i)
        if mod and not _available(mod):
            print(f"skipping {i}: package '{mod}' is not installed (pip install {mod})")
            impls.remove(i)
    if "numba" in impls and not _available("accessibility.routing"):
        print("skipping numba: accessibility.routing is not importable")
        impls.remove("numba")

    graph, name, build_s, gnote = obtain_graph(args.graph, args.nodes, args.seed)
    synthetic = bool(graph.meta.get("synthetic"))
    logger.info("graph %s: %d nodes, %d edges (%.1f s)", name, graph.n_nodes, graph.n_edges, build_s)
    out: dict = {
        "graph": {"name": name, "synthetic": synthetic, "n_nodes": graph.n_nodes,
                  "n_edges": graph.n_edges, "build_s": build_s, "source": gnote,
                  **({"scc_share": graph.meta.get("scc_share"),
                      "oneway_edge_share": graph.meta.get("oneway_edge_share")} if synthetic else {})},
        "results": [],
        "numba_compile_s": None,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "args": vars(args),
    }
    if "numba" in impls and not args.no_compile_time:
        c = measure_numba_compile()
        out["numba_compile_s"] = c if isinstance(c, float) else None
        if not isinstance(c, float):
            out["numba_compile_error"] = c
        logger.info("numba compile (empty cache): %s", c)

    with tempfile.TemporaryDirectory(prefix="accbench-") as tmp:
        gpath = Path(tmp) / "graph.npz"
        save_graph_npz(graph, gpath)
        # the contraction hierarchy is built by the first task that needs it
        ch_cache = args.ch_cache or str(Path(tmp) / "ch-cache")
        del graph
        gc.collect()
        for w in workloads:
            ref, ref_impl = None, None
            tasks = []
            for impl in impls:
                if impl not in SUPPORTED[w]:
                    out["results"].append({"impl": impl, "workload": w,
                                           "note": "n/a: " + UNSUPPORTED_WHY.get((impl, w), "")})
                    continue
                if impl in THREADED:
                    tasks += [(impl, t) for t in threads]
                else:
                    tasks.append((impl, 1))
                    if impl == "scipy" and w == "W2":
                        tasks.append(("scipy-chunked", 1))
            for impl, t in tasks:
                vpath = None if args.no_check else Path(tmp) / f"{w}-{impl}-{t}.npz"
                task = {"impl": impl, "workload": w, "threads": t, "graph_path": str(gpath),
                        "repeat": max(1, args.repeat), "seed": args.seed,
                        "max_sample": args.sample, "budget_s": args.budget,
                        "numba_sample": args.numba_sample, "ch_cache": ch_cache,
                        "values_path": str(vpath) if vpath else None, "log_level": level}
                logger.info("running %s %s (threads=%d)", impl, w, t)
                r = run_subprocess(task, args.timeout)
                if "error" in r:
                    logger.error("%s %s failed: %s\n%s", impl, w, r["error"], r.get("traceback", ""))
                    r = {"impl": impl, "workload": w, "threads": t, "note": "failed: " + r["error"]}
                else:
                    logger.info("%s %s: median %.3f s, peak %.0f MB", impl, w, r["median_s"],
                                r["peak_mb"])
                    if synthetic:
                        r["note"] = (r["note"] + "; synthetic").lstrip("; ")
                    vals = load_values(vpath)
                    if vals is not None:
                        if ref is None and impl in ("numba", "scipy"):
                            ref, ref_impl = vals, impl  # reference: numba, else scipy
                        elif impl != ref_impl and ref is not None:
                            r["check"] = compare(ref, vals, w)
                            r["check_against"] = ref_impl
                            r["note"] = "; ".join(x for x in (r["note"], f"vs {ref_impl}: {r['check']}") if x)
                    if vpath is not None and vpath.exists() and vals is not ref:
                        vpath.unlink()
                out["results"].append(r)
    print(format_table(out["results"]))
    if out["numba_compile_s"] is not None:
        print(f"numba compile (empty cache, all kernels): {out['numba_compile_s']:.1f} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1, default=float))
    return out


if __name__ == "__main__":
    main()
