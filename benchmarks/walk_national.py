"""The national walk model (issue 28): the Nahversorgung distances of ~3 million
100 m cells in tiles, in this process and on a Dask LocalCluster.

Usage (from the repository root)::

    python -m benchmarks.walk_national --cells 3000000 --json benchmarks/results/walk_national_3m.json
    python -m benchmarks.walk_national --cells 200000 --no-dask       # a quick look

**Everything is synthetic** (labelled so in the JSON): the cells are 100 m squares
(EPSG:3035) around the 11,004 municipalities of the national register, in number
proportional to their population (about 27 residents a cell, as Germany's ~3.1
million inhabited Census cells); six services with about Germany's numbers of
facilities (:data:`FACILITIES`) near the cells; water barriers are random-walk
rivers with bridges and small lakes. The model is the official straight-line method
with barriers (:func:`accessibility.models.walkability.tiled_cell_distances`, 50 km
square tiles); each variant runs in a fresh spawned process, whose peak resident
memory (``VmHWM``) is reported, and on Dask also every worker's. A window of the
country is computed untiled as well and must give the same distances.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

logger = logging.getLogger("benchmarks.walk_national")

REGISTER = (Path(__file__).resolve().parents[2] / "shared" / "data" / "municipalities"
            / "gemeinden_2019_destatis.csv")
#: Facilities per service, about Germany's numbers (synthetic positions).
FACILITIES = {"pharmacy": 18_000, "primary_school": 15_500, "gp": 35_000,
              "post_office": 13_000, "supermarket": 30_000, "stop": 250_000}
RESIDENTS_PER_CELL = 27.0


def synthetic_inputs(n_cells: int, seed: int = 0, n_rivers: int = 2000, n_lakes: int = 20_000):
    """Cells (x, y, population, ags), facilities (service, lon, lat), barriers, gaps."""
    import pandas as pd
    import shapely
    from pyproj import Transformer

    from accessibility.io import read_municipalities

    rng = np.random.default_rng(seed)
    munis = read_municipalities(REGISTER)
    munis = munis[np.isfinite(munis["lon"]) & np.isfinite(munis["lat"])].reset_index(drop=True)
    mx, my = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True).transform(
        munis["lon"].to_numpy(), munis["lat"].to_numpy())
    pop = munis["population"].to_numpy(float)
    scale = 1.0
    for _ in range(3):  # cells collide near town centres: adjust the draw to hit n_cells
        k = np.maximum(1, np.round(scale * pop / RESIDENTS_PER_CELL * n_cells / 3.1e6)).astype(int)
        owner = np.repeat(np.arange(len(munis)), k)
        radius = np.sqrt(k / np.pi) * 100.0 * 1.4
        r = radius[owner] * np.sqrt(rng.random(owner.size))
        a = rng.uniform(0, 2 * np.pi, owner.size)
        ix = np.floor((mx[owner] + r * np.cos(a)) / 100.0).astype(np.int64)
        iy = np.floor((my[owner] + r * np.sin(a)) / 100.0).astype(np.int64)
        key, first = np.unique(ix * 100_000 + iy, return_index=True)
        if key.size >= n_cells:
            break
        scale *= n_cells / key.size * 1.02
    first = np.sort(rng.choice(first, min(n_cells, first.size), replace=False))
    owner, ix, iy = owner[first], ix[first], iy[first]
    cells = pd.DataFrame({"x": ix * 100.0 + 50, "y": iy * 100.0 + 50,
                          "population": rng.integers(1, 60, ix.size).astype(float),
                          "ags": munis["ags"].to_numpy()[owner]})
    to_ll = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
    fac = []
    for s, n in FACILITIES.items():  # near cells, 0-400 m off
        at = rng.integers(0, len(cells), n)
        lon, lat = to_ll.transform(cells["x"].to_numpy()[at] + rng.normal(0, 200, n),
                                   cells["y"].to_numpy()[at] + rng.normal(0, 200, n))
        fac.append(pd.DataFrame({"service": s, "lon": lon, "lat": lat}))
    fac = pd.concat(fac, ignore_index=True)
    x0, y0, x1, y1 = cells["x"].min(), cells["y"].min(), cells["x"].max(), cells["y"].max()
    rivers, bridges = [], []
    for _ in range(n_rivers):  # 20 km random walks, 8 bridges each
        ang = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.15, 100))
        xy = rng.uniform([x0, y0], [x1, y1]) + np.cumsum(np.c_[np.cos(ang), np.sin(ang)] * 200,
                                                         axis=0)
        rivers.append(shapely.LineString(xy))
        for j in rng.choice(np.arange(1, 99), 8, replace=False):
            d = xy[j + 1] - xy[j - 1]
            nrm = np.array([-d[1], d[0]]) / np.hypot(*d)
            bridges.append(shapely.LineString([xy[j] - 30 * nrm, xy[j] + 30 * nrm]))
    lakes = shapely.buffer(shapely.points(rng.uniform([x0, y0], [x1, y1], (n_lakes, 2))),
                           rng.uniform(30, 300, n_lakes), quad_segs=4)
    return cells, fac, rivers + list(lakes), bridges


def _worker_peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def measure(task: dict) -> dict:
    """One variant (``local`` or ``dask``) in this process: inputs, then the tiled model."""
    import pandas as pd

    from accessibility.compute import LocalExecutor, open_executor
    from accessibility.config import ComputeConfig
    from accessibility.models.walkability import cell_distances, tiled_cell_distances
    from benchmarks.run import PeakMemory

    t = time.perf_counter()
    cells, fac, barriers, gaps = synthetic_inputs(task["cells"], task.get("seed", 0))
    gen_s = time.perf_counter() - t
    kw = dict(methods=("straight",), barriers=barriers, gaps=gaps,
              max_distance_m=task.get("max_distance_m", 2000.0),
              tile_size_m=task.get("tile_size_m", 50_000.0))
    out = {"variant": task["variant"], "cells": len(cells), "facilities": len(fac),
           "barriers": len(barriers), "gaps": len(gaps), "generate_s": gen_s,
           "synthetic": True, "load_start": os.getloadavg()[0]}
    with PeakMemory() as pm:
        t0, c0 = time.perf_counter(), time.process_time()
        if task["variant"] == "local":
            res = tiled_cell_distances(cells, fac, LocalExecutor(), **kw)
            workers = []
        else:
            cfg = ComputeConfig(scheduler="dask", n_workers=task.get("workers", 2))
            with open_executor(cfg) as ex:
                res = tiled_cell_distances(cells, fac, ex, **kw)
                workers = list(ex.client.run(_worker_peak_mb).values())
        out.update(seconds=time.perf_counter() - t0, cpu_s=time.process_time() - c0,
                   peak_rss_mb=None, worker_peak_mb=workers)
    out.update(peak_rss_mb=pm.peak_abs_mb, start_rss_mb=pm.base_mb,
               load_end=os.getloadavg()[0])
    dcols = [c for c in res.columns if c.startswith("dist_")]
    out["found_share"] = {c: float(res[c].notna().mean()) for c in dcols}
    # a 60 x 60 km window untiled: the same distances
    cx, cy = cells["x"].median(), cells["y"].median()
    win = ((cells["x"] - cx).abs() < 30_000) & ((cells["y"] - cy).abs() < 30_000)
    sub = cells[win]
    whole = cell_distances(sub, fac, methods=("straight",), barriers=barriers, gaps=gaps,
                           max_distance_m=kw["max_distance_m"])
    tiled = tiled_cell_distances(sub, fac, LocalExecutor(), **kw)
    pd.testing.assert_frame_equal(tiled[dcols], whole[dcols])
    out["window_check"] = f"{len(sub):,} cells: tiled == untiled"
    return out


def _child(task: dict, conn) -> None:
    from benchmarks.run import report_child

    report_child(measure, task, conn)


def run(cells: int, variants=("local", "dask"), **opts) -> list[dict]:
    """Every variant in a fresh spawned process."""
    from benchmarks.run import run_spawned

    rows = []
    for v in variants:
        r = run_spawned(_child, {"cells": cells, "variant": v, **opts}, f"walk-{v}")
        r.setdefault("variant", v)
        logger.info("%s: %s", v, {k: r.get(k) for k in ("seconds", "peak_rss_mb",
                                                        "worker_peak_mb", "error")})
        rows.append(r)
    return rows


def format_rows(rows: list[dict]) -> str:
    lines = ["| variant | cells | s | CPU s (main process) | peak MB (main) | workers' peak MB "
             "| load start-end |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['variant']} | - | error: {r['error']} | | | | |")
            continue
        wk = ", ".join(f"{w:,.0f}" for w in r.get("worker_peak_mb") or []) or "-"
        lines.append(f"| {r['variant']} | {r['cells']:,} | {r['seconds']:.1f} | "
                     f"{r['cpu_s']:.1f} | {r['peak_rss_mb']:,.0f} | {wk} | "
                     f"{r['load_start']:.1f}-{r['load_end']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.walk_national",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", type=int, default=3_000_000)
    p.add_argument("--no-dask", action="store_true")
    p.add_argument("--tile-size-m", type=float, default=50_000.0)
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    rows = run(a.cells, ("local",) if a.no_dask else ("local", "dask"),
               tile_size_m=a.tile_size_m)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1, default=str))
    print(format_rows(rows))
    return rows


if __name__ == "__main__":
    main()
