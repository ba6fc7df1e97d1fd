"""One measured national run, end to end, at two sizes, extrapolated to Germany (issue 28).

Usage (from the repository root)::

    python -m benchmarks.national_e2e --nodes 5000000,20000000 --cells 3000000 \\
        --workdir /tmp/e2e --json benchmarks/results/national_e2e.json
    python -m benchmarks.national_e2e --table benchmarks/results/national_e2e.json

What it does, per size (``--nodes``, two sizes):

1. writes **synthetic** inputs: an OSM PBF of :mod:`benchmarks.osm_scale`'s generator
   (Germany's bounding box, so the national register's municipalities attach) with
   the six Nahversorgung services added as tagged nodes (:data:`SERVICE_TAGS`, the
   tags ``profiles/services.toml`` counts; about Germany's numbers of facilities,
   placed near the inhabited cells: ``osm_scale.generate(extra_pois=)``), and a
   100 m population grid of ``--cells`` inhabited cells around the municipalities
   (:func:`benchmarks.walk_national.synthetic_inputs`; the same grid and services
   at both sizes);
2. writes ``config.toml``: that PBF as ``osm`` (the car graph, the destinations of the
   further indicators, and the walk extract), the real national register, the
   central places of 2024 and the VG250 boundaries, the grid; every model of a
   national run (``central_places``, ``lage`` with ``calibrate = true`` and
   ``engine = "ch"``, ``indicators``, ``walk`` with the official straight-line
   method); maps on;
3. runs :func:`accessibility.pipeline.run` as the ``accessibility run`` command calls
   it, in a fresh spawned process (its peak resident memory is the run's): **cold**
   (empty graph cache: the graph build from the PBF and the contraction hierarchy
   counted) and **warm** (the same cache, a new output folder). The pipeline keeps no
   timings of its stages, so its stage functions are wrapped while it runs
   (:func:`benchmarks.national.instrumented`): wall s, CPU s (every thread of the
   process) and peak resident memory (``VmHWM``) per stage, and ``uptime``'s load.
   Every OSM read is made in two passes (``--two-pass yes``, the default), as the
   package reads Germany's 4 GB file; ``auto`` leaves the package's choice (one pass
   under 1 GiB). The cold runs of both sizes come first, then the warm ones; the JSON
   is rewritten after each run.

Then a **linear extrapolation in the PBF's node count** to Germany
(:data:`GERMANY_NODES`), stage by stage through the two sizes, as
:mod:`benchmarks.osm_scale` does for the graph build, for the stages whose work grows
with the OSM file; the stages on fixed national inputs (the 11,004 municipalities, the
``--cells`` cells: :data:`FIXED_STAGES`) are taken as measured at the larger size.
The run's time is the sum of its stages, its peak the largest stage peak.

Everything but the register, the central places and the boundaries is synthetic:
times and memory are of the national size, the values are not real.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.national import BOUNDARIES, CENTRAL_PLACES, REGISTER, SUBSTAGES, Sections
from benchmarks.run import run_spawned

logger = logging.getLogger("benchmarks.national_e2e")

#: Germany's OSM extract (Geofabrik, approximate), as in benchmarks.osm_scale.
GERMANY_NODES = 440e6
TARGET_S = 15 * 60
TARGET_MB = 8 * 1024
#: OPL tags of the six Nahversorgung services, each matching a rule of
#: ``profiles/services.toml``.
SERVICE_TAGS = {"pharmacy": "amenity=pharmacy",
                "primary_school": "amenity=school,isced:level=1",
                "gp": "amenity=doctors,healthcare:speciality=general",
                "post_office": "amenity=post_office",
                "supermarket": "shop=supermarket",
                "stop": "highway=bus_stop"}
#: Simplified graph nodes per PBF node of the synthetic files (90,344 of 5 M,
#: 816,261 of 45 M: benchmarks/results/osm_scale_*.json); sets the snapping limit.
GRAPH_NODES_PER_NODE = 0.018

#: The pipeline's stages (``pipeline.run._run_stages``) in run order:
#: (label, module, attribute of the module the run looks it up in).
E2E_STAGES = (
    ("read inputs", "accessibility.pipeline.run", "read_inputs"),
    ("graph (cold: build from the PBF; warm: cache)", "accessibility.pipeline.run",
     "prepare_graph"),
    ("attach municipalities", "accessibility.pipeline.run", "attach"),
    ("region", "accessibility.api", "mark_region"),
    ("polygons", "accessibility.api", "municipality_polygons"),
    ("walk inputs (OSM services, water, grid)", "accessibility.pipeline.stages",
     "prepare_walk"),
    ("central places", "accessibility.pipeline.stages", "central_places_stage"),
    ("lage (calibrated) + settlement types", "accessibility.pipeline.stages", "lage_stage"),
    ("indicators (OSM destinations, car times)", "accessibility.pipeline.stages",
     "indicators_stage"),
    ("matrix / isochrones", "accessibility.pipeline.stages", "matrix_stage"),
    ("walk model (Nahversorgung)", "accessibility.pipeline.stages", "walk_stage"),
    ("GVB tables", "accessibility.pipeline.stages", "unit_tables_stage"),
    ("counts", "accessibility.pipeline.stages", "counts_stage"),
    ("write municipalities", "accessibility.pipeline.stages", "write_municipalities"),
    ("publish", "accessibility.pipeline.publish", "publish"),
)
#: Stages on inputs of a fixed national size whatever the OSM file (register,
#: boundaries, grid cells): measured, not extrapolated.
FIXED_STAGES = ("read inputs", "region", "polygons", "walk model (Nahversorgung)",
                "GVB tables", "counts", "write municipalities", "publish")
E2E_SUBSTAGES = SUBSTAGES + (
    ("graph: build_graph (build or cache)", "accessibility.pipeline.inputs", "build_graph",
     None),
    ("walk: api.prepare_nahversorgung", "accessibility.api", "prepare_nahversorgung", None),
    ("walk: api.nahversorgung", "accessibility.api", "nahversorgung", None),
    ("indicators: api.collect_destinations", "accessibility.api", "collect_destinations", None),
    ("indicators: api.facility_times", "accessibility.api", "facility_times", None),
)
OTHER = "other (config, input checks and hashes, summary)"
#: Sub-steps whose work does not grow with the OSM file (the maps of the 11,004
#: municipalities): inside a size-dependent stage they are taken out of its line.
FIXED_SUBSTEPS = tuple(label for label, *_ in SUBSTAGES if label.startswith("maps: "))


class StageSections(Sections):
    """:class:`benchmarks.national.Sections` that also sums, per stage, the time of
    its :data:`FIXED_SUBSTEPS` (``fixed``: stage -> {"s", "cpu_s"})."""

    def __init__(self):
        super().__init__()
        self.stage: str | None = None
        self.fixed: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def section(self, name: str, level: int = 0):
        if level == 0:
            self.stage = name
        t0, c0 = time.perf_counter(), time.process_time()
        with super().section(name, level):
            yield
        if level == 1 and name in FIXED_SUBSTEPS and self.stage is not None:
            f = self.fixed.setdefault(self.stage, {"s": 0.0, "cpu_s": 0.0})
            f["s"] += time.perf_counter() - t0
            f["cpu_s"] += time.process_time() - c0


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ============================================================================ inputs
def make_grid(path: Path, cells: int, seed: int = 0, facility_share: float = 1.0) -> dict:
    """The synthetic 100 m grid (Parquet) and the services' positions (lon, lat per
    service, about Germany's numbers times ``facility_share``) near its cells."""
    from benchmarks.walk_national import synthetic_inputs

    t0 = time.perf_counter()
    grid, fac, _, _ = synthetic_inputs(cells, seed, n_rivers=0, n_lakes=0)
    grid[["x", "y", "population"]].to_parquet(path, index=False)
    rng = np.random.default_rng(seed + 1)
    services = {}
    for s, rows in fac.groupby("service"):
        keep = rows if facility_share >= 1 else rows.sample(
            max(1, round(len(rows) * facility_share)), random_state=rng.integers(1 << 31))
        services[s] = (keep["lon"].to_numpy(), keep["lat"].to_numpy())
    return {"path": str(path), "cells": len(grid), "population": float(grid["population"].sum()),
            "facilities": {s: len(v[0]) for s, v in services.items()},
            "generate_s": time.perf_counter() - t0, "services": services}


def make_pbf(path: Path, nodes: int, services: dict, seed: int = 0) -> dict:
    """The synthetic PBF with the services as tagged nodes."""
    from benchmarks.osm_scale import generate, write_pbf

    t0 = time.perf_counter()
    extra = {SERVICE_TAGS[s]: lonlat for s, lonlat in services.items()}
    syn = generate(nodes, seed=seed, extra_pois=extra)
    info = write_pbf(syn, path)
    info["generate_s"] = time.perf_counter() - t0
    return {k: v for k, v in info.items() if isinstance(v, (int, float, str))}


def _inputs_child(task: dict, conn) -> None:
    from benchmarks.run import report_child

    report_child(_make_inputs, task, conn)


def _make_inputs(task: dict) -> dict:
    work = Path(task["work"])
    grid = make_grid(work / "grid_100m.parquet", task["cells"], task["seed"],
                     task["facility_share"])
    services = grid.pop("services")
    pbfs = {str(n): make_pbf(work / f"synthetic-{n}.osm.pbf", n, services, task["seed"])
            for n in task["nodes"]}
    return {"grid": grid, "pbf": pbfs}


def write_config(work: Path, pbf: Path, grid: Path, nodes: int, maps: bool = True,
                 ags_prefix: str | None = None) -> Path:
    """``config.toml`` of one size; the graph cache in ``work/cache``. ``ags_prefix``
    (comma-separated, small test runs): the register and central places of those
    AGS prefixes only."""
    from benchmarks.national import _restricted

    register, central = REGISTER, CENTRAL_PLACES
    if ags_prefix:
        prefixes = [x.strip() for x in ags_prefix.split(",") if x.strip()]
        register = _restricted(REGISTER, work / "register.csv", prefixes)
        central = _restricted(CENTRAL_PLACES, work / "central_places.csv", prefixes)
    spacing = float(np.sqrt(640_000.0 * 800_000.0 / (GRAPH_NODES_PER_NODE * nodes)))
    q = lambda p: json.dumps(Path(p).resolve().as_posix())
    text = "\n".join([
        "# benchmarks/national_e2e.py (issue 28): the OSM file and the grid are SYNTHETIC.",
        "[inputs]",
        f"osm = {q(pbf)}",
        f"municipalities = {q(register)}",
        f"central_places = {q(central)}",
        f"boundaries = {q(BOUNDARIES)}",
        f"population_grid = {q(grid)}",
        "",
        "[graph]",
        f"cache_dir = {q(work / 'cache')}",
        "# a coarse synthetic road net: its nodes are far apart",
        f"max_snap_m = {max(2000.0, 2.0 * spacing):.1f}",
        "",
        "[lage]",
        'engine = "ch"',
        "calibrate = true",
        "",
        "[walk]",
        'methods = ["straight"]',
        "",
        "[output]",
        'models = ["central_places", "lage", "indicators", "walk"]',
        f"maps = {str(maps).lower()}",
        "",
    ])
    path = work / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ============================================================================ one run
def run_once(task: dict) -> dict:
    """One instrumented ``pipeline.run`` in this process."""
    import gc

    from accessibility import pipeline
    from accessibility._util import peak_memory_mb
    from benchmarks.national import check_outputs, instrumented, warmup

    if task.get("two_pass"):  # read as a Germany file (4 GB, over the 1 GiB limit) is
        import accessibility.graph.osm as graph_osm
        import accessibility.io.osm_passes as osm_passes

        osm_passes.TWO_PASS_MIN_BYTES = graph_osm.TWO_PASS_MIN_BYTES = 0
    out = {"kind": task["kind"], "two_pass": bool(task.get("two_pass")),
           "loadavg_before": loadavg(), **warmup()}
    sections = StageSections()
    with instrumented(sections, E2E_STAGES, E2E_SUBSTAGES) as (missing, _):
        t0, c0 = time.perf_counter(), time.process_time()
        with sections.section("total", level=-1):
            res = pipeline.run(task["config"], output_dir=task["output_dir"])
        wall_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    tot = sections.records["total"]
    stages = [sections.records[n] for n in sections.order if n != "total"]
    top = [r for r in stages if r["level"] == 0]
    for r in top:  # the maps inside the stage
        f = sections.fixed.get(r["name"], {})
        r.update(fixed_s=f.get("s", 0.0), fixed_cpu_s=f.get("cpu_s", 0.0))
    stages.append({"name": OTHER, "level": 0, "s": tot["s"] - sum(r["s"] for r in top),
                   "cpu_s": tot["cpu_s"] - sum(r["cpu_s"] for r in top),
                   "peak_mb": None, "calls": 1})
    out.update(total_s=tot["s"], total_cpu_s=tot["cpu_s"], wall_s=wall_s, cpu_s=cpu_s,
               peak_mb=tot["peak_mb"], ru_maxrss_mb=peak_memory_mb(), stages=stages,
               missing_hooks=missing, graph=res.stats.get("graph"),
               municipalities_stats=res.stats.get("municipalities"))
    checks = check_outputs(res)
    m = res.municipalities
    if "walk_residents" in m.columns:
        checks["walk_residents"] = float(m["walk_residents"].fillna(0).sum())
        checks["walk_columns"] = sorted(c for c in m.columns if c.startswith("walk_"))
    out["checks"] = checks
    del res
    gc.collect()
    out["loadavg_after"] = loadavg()
    return out


def _run_child(task: dict, conn) -> None:
    from benchmarks.run import report_child

    report_child(run_once, task, conn)


def measure(size: dict, kind: str, two_pass: bool = True) -> None:
    """The ``kind`` run (cold: the cache empty; warm: as the cold run left it) of one
    size (``size``: nodes, config, work) in a fresh process, into ``size["runs"]``."""
    work, nodes = Path(size["work"]), size["nodes"]
    logger.info("%s run, %s nodes (load %s)", kind, f"{nodes:,}", loadavg())
    r = run_spawned(_run_child, {"kind": kind, "config": size["config"], "two_pass": two_pass,
                                 "output_dir": str(work / f"out-{kind}")},
                    f"e2e-{nodes}-{kind}")
    if "error" in r:
        raise SystemExit(f"{kind} run at {nodes:,} nodes failed: {r['error']}\n"
                         f"{r.get('traceback', '')}")
    logger.info("%s: %.1f s, CPU %.1f s, peak %.0f MB", kind, r["total_s"],
                r["total_cpu_s"], r["peak_mb"])
    size["runs"][kind] = r


# ============================================================================ extrapolation
def extrapolate(a: dict, b: dict, nodes: float = GERMANY_NODES, kind: str = "cold") -> dict:
    """Stage rows of run ``kind`` at ``nodes``: linear in the PBF's node count through
    sizes ``a`` and ``b`` (seconds, CPU seconds, peak MB), or the larger size's value
    for :data:`FIXED_STAGES`. The total is the sum of the stages, the peak their
    largest."""
    if a["nodes"] == b["nodes"]:
        raise ValueError("the extrapolation needs two different sizes")
    if a["nodes"] > b["nodes"]:
        a, b = b, a
    ra = {r["name"]: r for r in a["runs"][kind]["stages"] if r["level"] == 0}
    rows = []
    for r in b["runs"][kind]["stages"]:
        q = ra.get(r["name"])
        if r["level"] != 0 or q is None:
            continue
        fixed = r["name"] in FIXED_STAGES
        row = {"stage": r["name"], "how": "measured at the larger size" if fixed
               else "extrapolated linearly in nodes (its maps: as measured)"}
        for k in ("s", "cpu_s", "peak_mb"):
            if r.get(k) is None or q.get(k) is None:
                row[k] = None
                continue
            row[f"{k}_measured"] = [q[k], r[k]]
            if fixed:
                row[k] = r[k]
                continue
            # the maps inside the stage are of the municipalities: the larger size's
            fq, fr = q.get(f"fixed_{k}", 0.0), r.get(f"fixed_{k}", 0.0)
            slope = ((r[k] - fr) - (q[k] - fq)) / (b["nodes"] - a["nodes"])
            # a falling line is noise (no stage gets cheaper on a larger file)
            row[f"{k}_per_M_nodes"] = max(0.0, slope) * 1e6
            row[k] = r[k] + max(0.0, slope) * (nodes - b["nodes"])
        rows.append(row)
    peaks = [r["peak_mb"] for r in rows if r["peak_mb"] is not None]
    return {"nodes": nodes, "kind": kind, "rows": rows,
            "total_s": sum(r["s"] for r in rows), "total_cpu_s": sum(r["cpu_s"] for r in rows),
            "peak_mb": max(peaks) if peaks else None,
            "sizes": [a["nodes"], b["nodes"]]}


def markdown(result: dict) -> str:
    """The table of the two measured sizes and the extrapolation (cold and warm)."""
    sizes = result["sizes"]
    lines = []
    for kind in ("cold", "warm"):
        ex = result["extrapolation"].get(kind)
        if ex is None:
            continue
        n = [f"{s['nodes'] / 1e6:g} M" for s in sizes]
        lines += [f"**{kind}** ({'graph cache empty: build from the PBF and hierarchy counted' if kind == 'cold' else 'graph and hierarchy from the cache'})",
                  "",
                  f"| stage | {n[0]}: s / CPU s / peak MB | {n[1]}: s / CPU s / peak MB "
                  f"| Germany ({ex['nodes'] / 1e6:.0f} M nodes): s / CPU s / peak MB | how |",
                  "|---|---|---|---|---|"]
        for r in ex["rows"]:
            meas = []
            for i in (0, 1):
                vals = [r.get(f"{k}_measured", [None, None])[i] for k in ("s", "cpu_s", "peak_mb")]
                meas.append(" / ".join("-" if v is None else f"{v:,.1f}" if k < 2 else f"{v:,.0f}"
                                       for k, v in enumerate(vals)))
            pk = "-" if r["peak_mb"] is None else f"{r['peak_mb']:,.0f}"
            lines.append(f"| {r['stage']} | {meas[0]} | {meas[1]} | {r['s']:,.1f} / "
                         f"{r['cpu_s']:,.1f} / {pk} | {r['how']} |")
        runs = [s["runs"][kind] for s in sizes]
        tot = [f"{r['total_s']:,.1f} / {r['total_cpu_s']:,.1f} / {r['peak_mb']:,.0f}" for r in runs]
        met = ex["total_s"] < TARGET_S and ex["peak_mb"] < TARGET_MB
        lines.append(f"| **whole run** (measured: one process; Germany: sum of stages, largest "
                     f"peak) | **{tot[0]}** | **{tot[1]}** | **{ex['total_s']:,.0f} / "
                     f"{ex['total_cpu_s']:,.0f} / {ex['peak_mb']:,.0f}** | target < "
                     f"{TARGET_S} s, < {TARGET_MB:,} MB: {'met' if met else 'not met'} "
                     "(extrapolated) |")
        lines.append("| load (uptime, 1 min) before-after | " + " | ".join(
            f"{r['loadavg_before'][0]:.1f}-{r['loadavg_after'][0]:.1f}" for r in runs) + " | | |")
        lines.append("")
    return "\n".join(lines)


# ============================================================================ main
def run(nodes: list[int], cells: int, work: Path, seed: int = 0, facility_share: float = 1.0,
        warm: bool = True, maps: bool = True, ags_prefix: str | None = None,
        two_pass: bool = True, json_path: Path | None = None,
        inputs_from: Path | None = None) -> dict:
    """Inputs, the runs of both sizes (cold ones first; ``json_path`` written after
    each run), the extrapolation. ``inputs_from``: the folder of an earlier run with
    the same arguments (its ``inputs.json``, PBFs and grid are used, not rewritten)."""
    if len(nodes) != 2 or nodes[0] == nodes[1]:
        raise SystemExit("--nodes: give two different sizes, e.g. 5000000,20000000")
    work.mkdir(parents=True, exist_ok=True)
    out = {"synthetic": "OSM file and population grid synthetic; register, central places "
                        "and VG250 boundaries real",
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "platform": platform.platform()},
           "args": {"nodes": nodes, "cells": cells, "seed": seed,
                    "facility_share": facility_share, "warm": warm, "maps": maps,
                    "ags_prefix": ags_prefix, "two_pass": two_pass},
           "loadavg_start": loadavg()}
    if inputs_from is not None:
        inputs = json.loads((inputs_from / "inputs.json").read_text())
        if inputs["args"] != out["args"] | {"warm": None, "maps": None, "ags_prefix": None,
                                             "two_pass": None}:
            raise SystemExit(f"--inputs {inputs_from}: written with other arguments")
    else:
        logger.info("writing the synthetic inputs (%s nodes, %s cells)", nodes, f"{cells:,}")
        inputs = run_spawned(_inputs_child, {"work": str(work), "cells": cells, "seed": seed,
                                             "facility_share": facility_share, "nodes": nodes},
                             "e2e-inputs")
        if "error" in inputs:
            raise SystemExit(f"writing the inputs failed: {inputs['error']}\n"
                             f"{inputs.get('traceback', '')}")
        inputs["args"] = out["args"] | {"warm": None, "maps": None, "ags_prefix": None,
                                        "two_pass": None}
        (work / "inputs.json").write_text(json.dumps(inputs, indent=1, default=str))
    out["inputs"] = inputs
    grid = Path(inputs["grid"]["path"])
    out["sizes"] = []
    for n in sorted(nodes):
        pbf, folder = Path(inputs["pbf"][str(n)]["path"]), work / f"size-{n}"
        folder.mkdir(parents=True, exist_ok=True)
        out["sizes"].append({"nodes": n, "pbf_mb": pbf.stat().st_size / 2**20, "work": str(folder),
                             "config": str(write_config(folder, pbf, grid, n, maps, ags_prefix)),
                             "runs": {}})
    for kind in ("cold", "warm") if warm else ("cold",):
        for size in out["sizes"]:
            measure(size, kind, two_pass)
            if json_path is not None:  # what is measured so far
                json_path.write_text(json.dumps(out, indent=1, default=str))
    a, b = out["sizes"]
    out["extrapolation"] = {k: extrapolate(a, b, GERMANY_NODES, k)
                            for k in ("cold", "warm") if k in b["runs"]}
    out["loadavg_end"] = loadavg()
    out["markdown"] = markdown(out)
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.national_e2e",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", default="5000000,20000000",
                   help="two sizes of the synthetic PBF (nodes), comma-separated")
    p.add_argument("--cells", type=int, default=3_000_000, help="inhabited 100 m cells")
    p.add_argument("--facility-share", type=float, default=1.0,
                   help="share of Germany's numbers of facilities (small test runs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", default=None, help="a folder for the inputs and the runs")
    p.add_argument("--no-warm", action="store_true", help="only the cold run")
    p.add_argument("--no-maps", action="store_true")
    p.add_argument("--two-pass", choices=("yes", "auto"), default="yes",
                   help="yes: every OSM read in two passes, as on Germany's file (over "
                        "the 1 GiB limit); auto: the package's choice by file size")
    p.add_argument("--ags-prefix", default=None,
                   help="only these AGS prefixes of the register (small test runs)")
    p.add_argument("--json", default=None)
    p.add_argument("--inputs", default=None, metavar="DIR",
                   help="use the inputs an earlier run wrote to DIR (same arguments)")
    p.add_argument("--table", default=None, metavar="JSON", help="re-print a result")
    a = p.parse_args(argv)
    if a.table:
        res = json.loads(Path(a.table).read_text())
        print(markdown(res))
        return res
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    import tempfile

    work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="e2e-"))
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    res = run([int(float(x)) for x in a.nodes.split(",")], a.cells, work, a.seed,
              a.facility_share, warm=not a.no_warm, maps=not a.no_maps,
              ags_prefix=a.ags_prefix, two_pass=a.two_pass == "yes",
              json_path=Path(a.json) if a.json else None,
              inputs_from=Path(a.inputs) if a.inputs else None)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1, default=str))
    print(res["markdown"])
    return res


if __name__ == "__main__":
    main()
