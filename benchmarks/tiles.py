"""Walkability in tiles: in this process and on Dask workers, on real data.

    python -m benchmarks.tiles                      # Heidelberg, 5 km tiles, 1 and 2 workers
    python -m benchmarks.tiles --osm ../shared/data/osm/north-bayreuth.osm.gz --tile-km 3
    python -m benchmarks.tiles --synthetic 200000 --tile-km 25 --repeat 1   # synthetic load

The Nahversorgung distances (straight line with water barriers, and along the
walking network) of every populated 100 m cell of the extract are computed

* untiled, in this process (the default ``[compute] scheduler = "local"``),
* in tiles, in this process (:class:`~accessibility.compute.LocalExecutor`),
* in tiles on a Dask ``LocalCluster`` of 1 and of 2 worker processes.

Every variant is checked to give the untiled distances exactly. The table has the
median seconds of ``--repeat`` runs (cluster start-up excluded, printed apart).
Logging goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path

import pandas as pd

from accessibility import api
from accessibility.compute import LocalExecutor, open_executor
from accessibility.config import ComputeConfig
from accessibility.models.municipalities import municipality_polygons
from accessibility.models.walkability import tile_labels
from accessibility.pipeline import graph_and_municipalities
from accessibility.pipeline.stages import prepare_walk

logger = logging.getLogger("benchmarks.tiles")
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def walk_inputs(osm: Path, out: Path):
    """Cells, facilities, walk graph and barriers of ``osm`` as a run prepares them."""
    overrides = {"inputs.osm": str(osm),
                 "inputs.municipalities": str(DATA / "municipalities" / "gemeinden_2019_destatis.csv"),
                 "inputs.population_grid": str(DATA / "population" / "zensus2022_1km_einwohner.parquet"),
                 "inputs.boundaries": str(DATA / "municipalities" / "vg250_2016.gpkg"),
                 "output.models": ["walk"], "graph.cache_dir": str(out)}
    config, _, munis, inputs = graph_and_municipalities(None, overrides, "tiles")
    walk = prepare_walk(munis, config, inputs, municipality_polygons(munis, inputs.boundaries))
    if isinstance(walk, str):
        raise SystemExit(f"no walkability inputs in {osm}: {walk}")
    return walk


class _Synthetic:
    """Random cells, facilities, rivers and bridges in a 100 x 100 km window (EPSG:3035;
    **synthetic**): the straight-line method with water barriers, the costly one."""

    def __init__(self, n_cells: int, seed: int = 0):
        import numpy as np
        from pyproj import Transformer

        from accessibility.vocabulary import SERVICES
        from .walk import _rivers

        rng = np.random.default_rng(seed)
        ext = (4_200_000.0, 2_900_000.0, 4_300_000.0, 3_000_000.0)
        xy = np.round(rng.uniform(ext[:2], ext[2:], (n_cells, 2)), -2) + 50.0
        self.cells = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "population": 1.0,
                                   "ags": "00000000"}).drop_duplicates(["x", "y"])
        n_fac = max(60, n_cells // 20)
        fxy = rng.uniform(ext[:2], ext[2:], (n_fac, 2))
        lon, lat = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True).transform(
            fxy[:, 0], fxy[:, 1])
        self.facilities = pd.DataFrame({"service": rng.choice(SERVICES, n_fac), "lon": lon,
                                        "lat": lat})
        self.water, self.gaps = _rivers(rng, ext, 300, 5)
        self.walk_graph = None


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tiles", description=__doc__.split("\n")[0])
    p.add_argument("--osm", default=str(DATA / "osm" / "heidelberg.osm.pbf"))
    p.add_argument("--synthetic", type=int, default=0, metavar="CELLS",
                   help="instead of --osm: CELLS random cells, rivers and facilities in a "
                        "100 km square, straight-line method with barriers (synthetic)")
    p.add_argument("--tile-km", type=float, default=5.0)
    p.add_argument("--workers", default="1,2", help="Dask worker counts")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", default="/tmp/benchmarks-tiles", help="graph cache directory")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for name in ("distributed", "accessibility"):
        logging.getLogger(name).setLevel(logging.WARNING)

    walk = (_Synthetic(args.synthetic) if args.synthetic
            else walk_inputs(Path(args.osm), Path(args.out)))
    tile_m = args.tile_km * 1000.0
    n_tiles = len(set(tile_labels(walk.cells, tile_size_m=tile_m)))
    kw = dict(walk_graph=walk.walk_graph, barriers=walk.water, gaps=walk.gaps)
    if args.synthetic:
        kw["methods"] = ("straight",)

    def timed(executor):
        times, res = [], None
        for _ in range(args.repeat):
            t = time.perf_counter()
            res = api.walk_distances(walk.cells, walk.facilities, executor=executor,
                                     tile_size_m=tile_m, **kw)
            times.append(time.perf_counter() - t)
        return statistics.median(times), res

    dist = lambda f: f[[c for c in f.columns if c.startswith("dist_")]]  # noqa: E731
    base_s, base = timed(None)
    rows = [{"variant": "untiled, in process", "workers": "-", "tiles": 1, "median_s": base_s,
             "startup_s": 0.0, "identical": True}]
    s, res = timed(LocalExecutor())
    rows.append({"variant": "tiles, in process", "workers": "-", "tiles": n_tiles, "median_s": s,
                 "startup_s": 0.0, "identical": dist(res).equals(dist(base))})
    for w in (int(x) for x in args.workers.split(",")):
        t = time.perf_counter()
        with open_executor(ComputeConfig(scheduler="dask", n_workers=w)) as ex:
            startup = time.perf_counter() - t
            s, res = timed(ex)
        rows.append({"variant": "tiles, Dask LocalCluster", "workers": w, "tiles": n_tiles,
                     "median_s": s, "startup_s": startup,
                     "identical": dist(res).equals(dist(base))})
    table = pd.DataFrame(rows)
    table["ratio"] = base_s / table["median_s"]
    what = (f"synthetic: {len(walk.cells):,} cells, {len(walk.facilities):,} facilities, "
            f"{len(walk.water)} rivers with {len(walk.gaps)} bridges, straight line"
            if args.synthetic else
            f"{Path(args.osm).name}: {len(walk.cells):,} cells, {len(walk.facilities):,} "
            f"facilities, walk graph {walk.walk_graph.n_nodes:,} nodes")
    print(f"{what}; {args.tile_km:g} km tiles; median of {args.repeat}")
    print(table.to_markdown(index=False, floatfmt=".2f"))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return rows


if __name__ == "__main__":
    main()
