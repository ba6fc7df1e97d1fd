"""National isochrones (issue 28): every Mittel- and Oberzentrum, 15/30/60 min, on the
synthetic national graph, beside the grid isochrones as they were before the
speed-up (:mod:`benchmarks._iso_reference`) on a sample of the centres.

Rows, one process:

* **all centres** through the API (``api.isochrones(..., method="grid")``, numba's
  threads over the centres): wall and CPU seconds (the process's, all threads), the
  load average, peak memory;
* **a sample** of centres one after the other, new (``time_grid`` and the contours
  of :mod:`accessibility.models.isochrone_grid`) and old (the frozen kernel and
  driver) in the same run: CPU seconds per centre, the ratio, and the checks that
  the fields are identical (so the same cells are reached in every band), that the
  polygons cover the same area and that the nodes counted per band equal those
  within the limit by ``scipy.sparse.csgraph.dijkstra``.

``python -m benchmarks.isochrones --nodes 4000000 --cache /tmp/national-cache --json
benchmarks/results/isochrones_4m_fast.json`` (``--nodes 20000 --ags-prefix 031`` for a
smoke run). The graph is synthetic: times and memory at national size, values not
real.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.national import CENTRAL_PLACES, REGISTER, graph_file, loadavg, write_config
from benchmarks.run import PeakMemory

logger = logging.getLogger("benchmarks.isochrones")

MINUTES = (15.0, 30.0, 60.0)
TARGET_S = 120.0


def _centres(args):
    """The graph and its attached Mittel- and Oberzentren on the network."""
    from accessibility import api
    from accessibility.pipeline import graph_and_municipalities

    work = Path(tempfile.mkdtemp(prefix="iso-bench-")) if args.out is None else Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    gpath, ginfo = graph_file(args.nodes, args.seed, args.cache or work, work)
    ns = argparse.Namespace(municipalities=args.municipalities,
                            central_places=args.central_places, boundaries=None,
                            no_boundaries=True, ags_prefix=args.ags_prefix,
                            max_snap_m=None, nodes=args.nodes)
    config = write_config(work, gpath, ns)
    _, graph, munis, _ = graph_and_municipalities(str(config), None, "isochrones")
    munis = api.mark_region(graph, munis)
    cp = munis[munis["central_place"].isin(["Oberzentrum", "Mittelzentrum"])
               & munis["on_network"].fillna(False)]
    if "in_region" in cp.columns:
        cp = cp[cp["in_region"].fillna(False)]
    return graph, cp, ginfo


def _inputs(graph, centres):
    """Per centre the search's inputs as :func:`~accessibility.models.matrices.isochrones`
    derives them: node, access leg, own point (graph CRS), off-road speed (m/s)."""
    from accessibility import defaults
    from accessibility.graph import attach_settings, point_coordinates, project
    from accessibility.models.matrices import _eligible

    rows, arr = _eligible(centres, graph, "centres")
    lon, lat = point_coordinates(centres)
    cx, cy = project(lon, lat, graph.crs)
    pts = np.column_stack([cx, cy])[rows]
    kmh = (attach_settings(centres).get("access_speed_kmh")
           or graph.meta.get("access_speed_kmh") or defaults.ACCESS_SPEED_KMH)
    return arr.node[rows], arr.access_s[rows], pts, float(kmh) / 3.6


def sample_rows(graph, centres, n: int, result: dict) -> None:
    """New and old one after the other on ``n`` centres; the checks of the module
    docstring."""
    import geopandas as gpd
    import scipy.sparse as sp
    from pyproj import Transformer
    from scipy.sparse.csgraph import dijkstra

    from accessibility import defaults
    from accessibility.models.isochrone_grid import GRID_CELL_M, grid_polygons
    from accessibility.routing import time_grid
    from benchmarks._iso_reference import reference_centre, reference_time_grid

    sample = centres.sample(min(n, len(centres)), random_state=0)
    nodes, access, pts, speed = _inputs(graph, sample)
    lim = [m * 60.0 for m in MINUTES]
    kw = dict(cell_m=GRID_CELL_M, cap_m=defaults.ISOCHRONE_MAX_BUFFER_M, speed_ms=speed,
              reverse=True)
    tr = Transformer.from_crs(graph.crs, defaults.WGS84, always_xy=True)

    def to_wgs(xy):
        return np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))

    same_field, same_nodes, area_diff = True, True, 0.0
    cpu_new = cpu_old = search_cpu = 0.0
    g = graph.reversed
    csr = sp.csr_matrix((g.time_s, g.targets, g.offsets), shape=(g.n_nodes, g.n_nodes))
    reference_centre(graph, int(nodes[0]), float(access[0]), pts[0], lim, to_wgs=to_wgs,
                     **kw)  # numba load of the frozen kernel
    for i in range(len(nodes)):
        c0 = time.process_time()
        new = grid_polygons(graph, nodes[i:i + 1], access[i:i + 1], pts[i:i + 1], lim,
                            to_crs=defaults.WGS84, threads=1, **kw)[0]
        cpu_new += time.process_time() - c0
        grid, ix0, iy0, times = time_grid(graph, int(nodes[i]), float(access[i]), pts[i],
                                          limits=lim, **kw)
        c0 = time.process_time()
        old = reference_centre(graph, int(nodes[i]), float(access[i]), pts[i], lim,
                               to_wgs=to_wgs, **kw)
        cpu_old += time.process_time() - c0
        ref = reference_time_grid(graph, int(nodes[i]), float(access[i]), pts[i],
                                  limits=lim, **kw)
        same_field &= (ref[1:3] == (ix0, iy0)) and np.array_equal(ref[0], grid)
        c0 = time.process_time()
        d = dijkstra(csr, indices=int(nodes[i]), limit=lim[-1] - float(access[i]))
        search_cpu += time.process_time() - c0
        d = d + float(access[i])
        same_nodes &= all(int((d <= L).sum()) == old[b][0] == new[b][0]
                          == int((times <= L).sum()) for b, L in enumerate(lim))
        a_new = gpd.GeoSeries([p for _, p in new], crs=defaults.WGS84
                              ).to_crs(defaults.GRID_CRS).area
        a_old = gpd.GeoSeries([p for _, p in old], crs=defaults.WGS84
                              ).to_crs(defaults.GRID_CRS).area
        area_diff = max(area_diff, float((np.abs(a_new - a_old) / a_old).max()))
    k = max(len(nodes), 1)
    result["sample"] = {
        "centres": len(nodes), "new_cpu_s_per_centre": cpu_new / k,
        "old_cpu_s_per_centre": cpu_old / k, "ratio": cpu_old / max(cpu_new, 1e-9),
        "scipy_dijkstra_cpu_s_per_centre": search_cpu / k,
        "fields_identical": bool(same_field), "n_nodes_as_scipy": bool(same_nodes),
        "max_rel_area_diff": area_diff, "load": loadavg()}
    logger.info("sample of %d: new %.3f s CPU per centre, old %.3f (x%.1f); fields "
                "identical %s; nodes as scipy %s", k, cpu_new / k, cpu_old / k,
                cpu_old / max(cpu_new, 1e-9), same_field, same_nodes)


def run(args) -> dict:
    from accessibility import api

    graph, cp, ginfo = _centres(args)
    result = {"label": "synthetic graph: times and memory at national size, values not real",
              "graph": ginfo, "target_s": TARGET_S, "centres": len(cp),
              "load_start": loadavg()}
    graph.reversed  # noqa: B018  (built once, as in a run; not in the times)
    t0 = time.perf_counter()
    api.isochrones(graph, cp.iloc[:2], minutes=MINUTES, method="grid")  # numba load
    result["warmup_s"] = time.perf_counter() - t0
    on = cp if args.centres is None else cp.sample(min(args.centres, len(cp)), random_state=1)
    with PeakMemory() as pm:
        t0, c0 = time.perf_counter(), time.process_time()
        iso = api.isochrones(graph, on, minutes=MINUTES, method="grid")
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    result["all"] = {"centres": len(on), "wall_s": wall, "cpu_s": cpu,
                     "cpu_s_per_centre": cpu / max(len(on), 1),
                     "wall_all_s": wall * len(cp) / max(len(on), 1),
                     "peak_mb": pm.peak_mb, "rows": len(iso),
                     "mean_area_60_km2": float(iso.loc[iso["minutes"] == 60,
                                                       "area_km2"].mean()),
                     "load": loadavg()}
    logger.info("all: %d centres, %.1f s wall, %.1f s CPU, peak %.0f MB", len(on), wall, cpu,
                pm.peak_mb)
    if args.sample:
        sample_rows(graph, on, args.sample, result)
    result["load_end"] = loadavg()
    return result


def format_markdown(r: dict) -> str:
    a, s = r["all"], r.get("sample")
    rows = ["| row | new | old (same run) | ratio | target |", "|---|---|---|---|---|",
            f"| isochrones 15/30/60 min, {a['centres']:,} of {r['centres']:,} centres, "
            f"wall (load {a['load'][0]:.1f}) | {a['wall_s']:.1f} s ({a['cpu_s']:.1f} s CPU, "
            f"peak {a['peak_mb']:,.0f} MB) | | | < {r['target_s']:.0f} s |"]
    if s:
        rows.append(f"| CPU per centre, {s['centres']} sampled (fields identical: "
                    f"{s['fields_identical']}, nodes as scipy: {s['n_nodes_as_scipy']}) | "
                    f"{s['new_cpu_s_per_centre']:.3f} s | {s['old_cpu_s_per_centre']:.3f} s | "
                    f"{s['ratio']:.1f}x | |")
    return "\n".join(rows)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.isochrones",
                                description=__doc__.split("\n")[0])
    p.add_argument("--nodes", type=int, default=4_000_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=None, help="folder of the synthetic .npz")
    p.add_argument("--out", default=None, help="work folder (config)")
    p.add_argument("--json", default=None)
    p.add_argument("--ags-prefix", default=None)
    p.add_argument("--municipalities", default=str(REGISTER))
    p.add_argument("--central-places", default=str(CENTRAL_PLACES))
    p.add_argument("--centres", type=int, default=None,
                   help="centres of the API run (default all; else extrapolated)")
    p.add_argument("--sample", type=int, default=20, help="centres of the new/old comparison")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    r = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1, default=str), encoding="utf-8")
    print(format_markdown(r))
    return r


if __name__ == "__main__":
    main()
