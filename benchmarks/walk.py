"""Nahversorgung benchmark: N cells x six services with M facilities each, both methods.

Usage::

    python -m benchmarks.walk --cells 1000000 --facilities 50000 --nodes 4000000 [--json F]

Everything is synthetic (labelled so): cells and facilities are random points over the
synthetic road graph's extent, rivers are random walks with bridges. The straight-line
method (KD-tree candidates + STRtree barrier tests) is timed with and without barriers;
the network method runs six multi-source searches (numba) and, for comparison, six
scipy ``dijkstra(min_only=True, limit=...)`` calls on the same graph.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np
import shapely
from pyproj import Transformer

logger = logging.getLogger("benchmarks.walk")


def _rivers(rng, extent, n_rivers, bridges_per_river):
    x0, y0, x1, y1 = extent
    rivers, bridges = [], []
    for _ in range(n_rivers):
        ang = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.15, 200))
        start = rng.uniform([x0, y0], [x1, y1])
        xy = start + np.cumsum(np.c_[np.cos(ang), np.sin(ang)] * 100, axis=0)
        rivers.append(shapely.LineString(xy))
        for j in rng.choice(np.arange(1, 199), bridges_per_river, replace=False):
            d = xy[j + 1] - xy[j - 1]
            nrm = np.array([-d[1], d[0]]) / np.hypot(*d)
            bridges.append(shapely.LineString([xy[j] - 30 * nrm, xy[j] + 30 * nrm]))
    return rivers, bridges


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", type=int, default=1_000_000)
    p.add_argument("--facilities", type=int, default=50_000, help="per service type")
    p.add_argument("--nodes", type=int, default=4_000_000, help="synthetic walk graph size")
    p.add_argument("--rivers", type=int, default=300)
    p.add_argument("--limit", type=float, default=1000.0)
    p.add_argument("--skip-scipy", action="store_true")
    p.add_argument("--json", help="write the results here")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    from accessibility.graph import snap_points
    from accessibility.models.barriers import nearest_straight
    from accessibility.routing import walk_nearest, warmup

    from .synthetic import synthetic_road_graph

    rng = np.random.default_rng(0)
    t = time.perf_counter()
    g = synthetic_road_graph(a.nodes, seed=0)
    logger.info("synthetic graph %d nodes built in %.1f s", g.n_nodes, time.perf_counter() - t)
    warmup()
    # cells and facilities in EPSG:3035 over a 100 x 100 km window of the graph
    to3035 = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    gx, gy = to3035.transform(g.lon, g.lat)
    cx, cy = np.median(gx), np.median(gy)
    extent = (cx - 50_000, cy - 50_000, cx + 50_000, cy + 50_000)
    cells = rng.uniform(extent[:2], extent[2:], (a.cells, 2))
    facs = [rng.uniform(extent[:2], extent[2:], (a.facilities, 2)) for _ in range(6)]
    rivers, bridges = _rivers(rng, extent, a.rivers, 5)
    results = []

    def record(name, impl, secs, note=""):
        results.append({"impl": impl, "workload": name, "median_s": secs, "min_s": secs,
                        "max_s": secs, "note": note + "; synthetic"})
        logger.info("%s %s: %.2f s %s", name, impl, secs, note)

    t = time.perf_counter()
    for f in facs:
        nearest_straight(cells, f, None, None, max_distance_m=5000)
    record("straight", "kdtree (no barriers)", time.perf_counter() - t, "6 services")
    t = time.perf_counter()
    for f in facs:
        nearest_straight(cells, f, rivers, bridges, max_distance_m=5000)
    record("straight", "kdtree+strtree barriers", time.perf_counter() - t,
           f"6 services, {len(rivers)} rivers, {len(bridges)} bridges")

    # network: snap once, six multi-source searches with the 1,000 m limit
    to_ll = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
    t = time.perf_counter()
    clon, clat = to_ll.transform(cells[:, 0], cells[:, 1])
    cs = snap_points(g, clon, clat, max_snap_m=1e9)
    fsn = []
    for f in facs:
        flon, flat = to_ll.transform(f[:, 0], f[:, 1])
        fsn.append(snap_points(g, flon, flat, max_snap_m=1e9))
    snap_s = time.perf_counter() - t
    t = time.perf_counter()
    for fs in fsn:
        res = walk_nearest(g, fs.node, fs.snap_m, limit_m=a.limit)
        _ = cs.snap_m + res.dist[cs.node]
    record("network", "numba", time.perf_counter() - t,
           f"6 multi-source searches, limit {a.limit:g} m; snapping {snap_s:.1f} s not included")
    if not a.skip_scipy:
        from scipy.sparse import csr_array
        from scipy.sparse.csgraph import dijkstra
        m = csr_array((g.length_m, g.targets, g.offsets), shape=(g.n_nodes, g.n_nodes))
        t = time.perf_counter()
        for fs in fsn:
            dijkstra(m, indices=np.unique(fs.node), min_only=True, limit=a.limit)
        record("network", "scipy", time.perf_counter() - t,
               "6 x dijkstra(min_only, limit) (no offsets: a lower bound of scipy's work)")
    print(f"\nNahversorgung benchmark (synthetic): {a.cells:,} cells, {a.facilities:,} facilities "
          f"per service x 6, graph {g.n_nodes:,} nodes")
    print(f"{'workload':<10}{'implementation':<28}{'seconds':>10}")
    for r in results:
        print(f"{r['workload']:<10}{r['impl']:<28}{r['median_s']:>10.2f}")
    out = {"graph": {"name": f"synthetic-{g.n_nodes}", "synthetic": True, "n_nodes": g.n_nodes,
                     "n_edges": g.n_edges}, "cells": a.cells, "facilities_per_service": a.facilities,
           "results": results}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()
