"""The national car run (issue 14): the whole pipeline at national scale, per stage.

Usage (from the repository root)::

    python -m benchmarks.national --nodes 4000000 --cache /tmp/national-cache \\
        --out /tmp/national-run --json benchmarks/results/national_4m.json
    python -m benchmarks.national --table benchmarks/results/national_4m.json --markdown
    python -m benchmarks.national --nodes 20000 --ags-prefix 03      # a small smoke run

What it does:

1. builds the **synthetic** road graph of :mod:`benchmarks.synthetic` (``--nodes``,
   ``--seed``; Germany's extent in EPSG:25832, exact lon/lat) or loads it from the
   ``--cache`` folder, saved with :func:`accessibility.graph.save_graph` (the
   package's own ``.npz``, which ``[inputs] osm`` loads as it is);
2. writes ``config.toml`` into a new work folder (``--out DIR``: a new folder, never
   an existing one's files; default: a new folder under the system's temp dir): the
   national register (``gemeinden_2019_destatis.csv``), the central places
   (``zentrale_orte_2024.csv``), the VG250 boundaries (``--no-boundaries`` skips
   them), models ``central_places`` and ``lage`` (Lage with settlement types) with
   ``[lage] engine = "ch"`` and the hierarchy cached in ``[graph] cache_dir``; the
   run's normal outputs (tables, ``summary.md``, PNG maps, ``map.html``); no walk
   model, no GTFS. The run uses the default decay (``[lage] calibrate = false``, as
   the BBSR beta is the default); the calibrated Lage is timed as a step of its own
   (below);
3. runs :func:`accessibility.pipeline.run` on it twice, each in a fresh spawned
   process: **cold** (empty hierarchy cache) and **warm** (hierarchy cached). The
   pipeline's own stage functions are wrapped while it runs (``read_inputs``,
   ``prepare_graph``, ``attach``, ..., ``publish``; restored afterwards), so the
   real ``run`` is timed and every stage gets its seconds and its peak memory: the
   resident-memory high-water mark (``VmHWM``, reset through
   ``/proc/self/clear_refs`` by :class:`benchmarks.run.PeakMemory`; nested sections
   fold their peak into the enclosing one). Sub-steps (routing, CH build and query,
   maps, files) are shown indented; they are part of their stage;
4. "national Lage with calibration": in the same processes after the run,
   :func:`accessibility.api.calibrate_lage` (decay fitted to ``[lage] target_mean``)
   and :func:`accessibility.api.lage` with the fit, ``engine="ch"`` on the attached national register:
   cold with a new empty hierarchy cache, warm with the run's cached hierarchy
   (``--no-calibration`` skips it);
5. checks the outputs as a planner would (no value everywhere, one class only, edge
   flags everywhere, blank maps) and prints one table on stdout (logging goes to
   stderr); ``--json FILE`` writes everything.

Numba's kernels are loaded (or compiled) before the timed run in each process
(``warmup_s``, not in the stage times). **The graph is synthetic**: times and
memory are of the national size, the indicator values are not real.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import gc
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.run import PeakMemory, run_spawned

logger = logging.getLogger("benchmarks.national")

#: ../shared/data beside the checkout, as the other benchmarks and the tests read it.
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REGISTER = SHARED / "municipalities" / "gemeinden_2019_destatis.csv"
CENTRAL_PLACES = SHARED / "central_places" / "zentrale_orte_2024.csv"
BOUNDARIES = SHARED / "municipalities" / "vg250_2016.gpkg"

#: Targets of the issue (seconds, MB).
TARGET_TOTAL_S = 300.0
TARGET_PEAK_MB = 8192.0
TARGET_LAGE_COLD_S = 90.0
TARGET_LAGE_WARM_S = 10.0

#: The stages of ``pipeline.run._run_stages`` / ``pipeline.run``, in run order:
#: (label, module, attribute of the module the run looks it up in).
STAGES = (
    ("read inputs", "accessibility.pipeline.run", "read_inputs"),
    ("graph (load .npz)", "accessibility.pipeline.run", "prepare_graph"),
    ("attach municipalities", "accessibility.pipeline.run", "attach"),
    ("region", "accessibility.api", "mark_region"),
    ("polygons", "accessibility.api", "municipality_polygons"),
    ("central places", "accessibility.pipeline.stages", "central_places_stage"),
    ("lage + settlement types", "accessibility.pipeline.stages", "lage_stage"),
    ("matrix / isochrones", "accessibility.pipeline.stages", "matrix_stage"),
    ("GVB tables", "accessibility.pipeline.stages", "unit_tables_stage"),
    ("write municipalities", "accessibility.pipeline.stages", "write_municipalities"),
    ("publish", "accessibility.pipeline.publish", "publish"),
)
#: Sub-steps inside the stages: (label, module, attribute, class or None). Several
#: attributes may share a label (their calls add up).
SUBSTAGES = (
    ("central places: model (api.central_places)", "accessibility.api", "central_places", None),
    ("lage: model (api.lage)", "accessibility.api", "lage", None),
    ("lage: augmented graph (augmented_graph)", "accessibility.models.lage", "augmented_graph",
     None),
    ("lage: boundary nodes (edge flag)", "accessibility.models.lage", "boundary_nodes", None),
    ("lage: calibration (calibrate_decay)", "accessibility.models.lage", "calibrate_decay",
     None),
    ("lage: Dijkstra one_to_many (calibration pairs)", "accessibility.models.lage",
     "one_to_many", None),
    ("lage: CH build", "accessibility.routing.ch", "build", "ContractionHierarchy"),
    ("lage: CH load from cache", "accessibility.routing.ch", "load", "ContractionHierarchy"),
    ("lage: CH potential query", "accessibility.routing.ch", "potential", "ContractionHierarchy"),
    ("lage: CH one_to_many (edge flag, calibration pairs)", "accessibility.routing.ch",
     "one_to_many", "ContractionHierarchy"),
    ("lage: CH target buckets (in the queries)", "accessibility.routing.ch", "_buckets_for",
     "ContractionHierarchy"),
    ("maps: map_values (PNG)", "accessibility.pipeline.stages", "map_values", None),
    ("maps: map_categories (PNG)", "accessibility.pipeline.stages", "map_categories", None),
    ("maps: map_catchments (PNG)", "accessibility.pipeline.stages", "map_catchments", None),
    ("maps: interactive_map (HTML)", "accessibility.pipeline.stages", "interactive_map", None),
    ("write: GVB/Kreis/Land layers (dissolve)", "accessibility.pipeline.stages", "area_layers", None),
    ("write: gpkg/csv/parquet", "accessibility.pipeline.stages", "write_municipality_outputs", None),
)
#: Which stage each sub-step belongs to (for the table's order).
SUBSTAGE_PARENT = {
    "central places: model (api.central_places)": "central places",
    "lage: model (api.lage)": "lage + settlement types",
    "write: GVB/Kreis/Land layers (dissolve)": "write municipalities",
    "write: gpkg/csv/parquet": "write municipalities",
}
LAGE_CAL = "national Lage with calibration"


def _hierarchy_info(h) -> dict:
    meta = {k: v for k, v in (getattr(h, "meta", None) or {}).items()
            if isinstance(v, (int, float, str, bool))}
    return {"n_shortcuts": int(h.n_shortcuts), "n_arcs": int(h.n_arcs),
            "build_s_own": float(h.build_s), **meta}


#: What to keep of a sub-step's return value (label -> function of it).
INFO = {"lage: CH build": _hierarchy_info}
#: Package bugs the benchmark works around (reported, not fixed here): none left.
WORKAROUNDS: dict[str, str] = {}


# ============================================================================ measuring
class _StepPeak(PeakMemory):
    """:class:`benchmarks.run.PeakMemory` for the many short sub-steps: the same
    high-water-mark reset, without the ``gc.collect`` and ``malloc_trim`` on entry
    (which cost a good share of a second each with a national table in memory)."""

    def __enter__(self):
        self.base_mb = self._status("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            return super().__enter__()  # the sampling fallback
        return self


class Sections:
    """Seconds and peak resident memory of named, possibly nested, sections.

    Each section resets the kernel's high-water mark on entry
    (:class:`benchmarks.run.PeakMemory`); before the reset the enclosing section's
    peak so far is folded into it, and on exit the section's peak is folded into
    the enclosing one, so every section's peak is its own true peak.
    """

    def __init__(self):
        self.records: dict[str, dict] = {}
        self.order: list[str] = []
        self._thread = threading.current_thread()
        self._stack: list[dict] = []
        #: seconds of the bookkeeping itself (gc + malloc_trim on entry, /proc reads):
        #: taken out of every section's time
        self.overhead_s = 0.0

    @contextlib.contextmanager
    def section(self, name: str, level: int = 0):
        t_enter = time.perf_counter()
        if self._stack:
            self._stack[-1]["acc"] = max(self._stack[-1]["acc"], PeakMemory._status("VmHWM"))
        pm = (PeakMemory() if level <= 0 else _StepPeak()).__enter__()
        frame = {"acc": 0.0, "overhead": 0.0}
        self._stack.append(frame)
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            t1, c1 = time.perf_counter(), time.process_time()
            pm.__exit__(None, None, None)
            self._stack.pop()
            own = (t0 - t_enter) + (time.perf_counter() - t1)  # gc, trim, /proc reads
            peak = max(pm.peak_abs_mb, frame["acc"])
            if self._stack:  # this section's bookkeeping ran inside the enclosing one
                self._stack[-1]["acc"] = max(self._stack[-1]["acc"], peak)
                self._stack[-1]["overhead"] += own + frame["overhead"]
            else:
                self.overhead_s += own + frame["overhead"]
            rec = self.records.get(name)
            if rec is None:
                rec = self.records[name] = {"name": name, "level": level, "s": 0.0,
                                            "cpu_s": 0.0, "peak_mb": 0.0, "base_mb": pm.base_mb,
                                            "calls": 0, "memory_method": pm.method}
                self.order.append(name)
            rec["s"] += (t1 - t0) - frame["overhead"]  # without nested bookkeeping
            rec["cpu_s"] += c1 - c0  # every thread of the process (numba's too)
            rec["peak_mb"] = max(rec["peak_mb"], peak)
            rec["calls"] += 1

    def wrap(self, name: str, fn, level: int):
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            if threading.current_thread() is not self._thread:  # e.g. an executor's
                return fn(*a, **kw)  # workers: the calling section covers their work
            with self.section(name, level):
                ret = fn(*a, **kw)
            about = INFO.get(name)
            if about is not None:
                try:
                    self.records[name]["info"] = about(ret)
                except Exception as e:  # noqa: BLE001 (a note, never a failure)
                    self.records[name]["info"] = f"{type(e).__name__}: {e}"
            return ret
        return wrapper


@contextlib.contextmanager
def instrumented(sections: Sections, stages=STAGES, substages=SUBSTAGES):
    """Wrap the pipeline's stage functions and the sub-steps for the duration
    (``stages``: (label, module, attribute); ``substages``: with a class or None)."""
    import importlib

    patches = []  # (owner, attribute, original as stored in the owner's __dict__)
    missing = []

    def patch(owner, attr, label, level):
        raw = owner.__dict__.get(attr) if isinstance(owner, type) else getattr(owner, attr, None)
        if raw is None:
            missing.append({"hook": f"{getattr(owner, '__name__', owner)}.{attr}",
                            "label": label, "stage": level == 0})
            return
        if isinstance(raw, classmethod):
            new = classmethod(sections.wrap(label, raw.__func__, level))
        else:
            new = sections.wrap(label, raw, level)
        patches.append((owner, attr, raw))
        setattr(owner, attr, new)

    for label, module, attr in stages:
        patch(importlib.import_module(module), attr, label, 0)
    for label, module, attr, cls in substages:
        owner = importlib.import_module(module)
        if cls is not None:
            owner = getattr(owner, cls)
        patch(owner, attr, label, 1)
    for m in missing:
        logger.warning("%s not timed: %s is gone", m["label"], m["hook"])
    workarounds = []
    try:
        yield missing, workarounds
    finally:
        for owner, attr, raw in reversed(patches):
            setattr(owner, attr, raw)


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def warmup() -> dict:
    """Load (or compile) every numba kernel the run uses, outside the timed run."""
    from accessibility import routing
    from accessibility.routing import ContractionHierarchy
    from benchmarks.synthetic import synthetic_road_graph

    t0 = time.perf_counter()
    routing.warmup()
    g = synthetic_road_graph(400, seed=1)
    hier = ContractionHierarchy.build(g)
    w = np.zeros(g.n_nodes)
    w[::7] = 1.0
    org = np.arange(0, g.n_nodes, 11)
    hier.potential(org, w, limit_s=600.0, decay=routing.Decay("exponential", beta=0.076))
    hier.one_to_many(org, np.arange(0, g.n_nodes, 5), limit=600.0)
    return {"warmup_s": time.perf_counter() - t0}


# ============================================================================ one run
def run_once(task: dict) -> dict:
    """One timed pipeline run (and the calibrated Lage) in this process."""
    import numba

    from accessibility import pipeline
    from accessibility._util import peak_memory_mb

    out = {"kind": task["kind"], "loadavg_before": loadavg(),
           "numba_threads": numba.get_num_threads(), **warmup()}
    sections = Sections()
    prof = None
    if task.get("cprofile"):  # diagnosis only: cProfile slows the Python parts down
        import cProfile

        prof = cProfile.Profile()
    with instrumented(sections) as (missing, workarounds):
        t0 = time.perf_counter()
        with sections.section("total", level=-1):
            if prof is not None:
                prof.enable()
            try:
                res = pipeline.run(task["config"], output_dir=task["output_dir"])
            finally:
                if prof is not None:
                    prof.disable()
        wall_s = time.perf_counter() - t0
    if prof is not None:
        Path(task["cprofile"]).parent.mkdir(parents=True, exist_ok=True)
        prof.dump_stats(task["cprofile"])
        out["cprofile"] = task["cprofile"]
    total_s = sections.records["total"]["s"]  # without the bookkeeping
    out["missing_hooks"] = missing
    out["workarounds"] = workarounds
    stages = [sections.records[n] for n in sections.order if n != "total"]
    staged = sum(r["s"] for r in stages if r["level"] == 0)
    out.update(total_s=total_s, wall_s=wall_s, peak_mb=sections.records["total"]["peak_mb"],
               instrumentation_s=sections.overhead_s, other_s=total_s - staged, stages=stages,
               files={k: str(v) for k, v in res.files.items()},
               output_dir=str(res.output_dir), ch_build_s=_ch_build_s(sections),
               ch_built=sections.records.get("lage: CH build", {}).get("calls", 0) > 0,
               ru_maxrss_mb=peak_memory_mb())
    out["checks"] = check_outputs(res)
    del res
    gc.collect()
    if task.get("lage_cache") is not None:
        out["lage_calibrated"] = lage_calibrated(task)
    out["loadavg_after"] = loadavg()
    return out


def _ch_build_s(sections: Sections) -> float | None:
    r = sections.records.get("lage: CH build")
    return r["s"] if r else None


def lage_calibrated(task: dict) -> dict:
    """The calibrated Lage on the national register: ``api.calibrate_lage`` then
    ``api.lage(decay=fit, engine="ch")`` (one pair table for both) with the hierarchy
    cache ``task["lage_cache"]``."""
    from accessibility import api, pipeline
    from accessibility.pipeline.stages import lage_decay

    config, graph, munis, inputs = pipeline.graph_and_municipalities(
        task["config"], None, "national benchmark")
    c = config.lage
    sections = Sections()
    with instrumented(sections), sections.section(LAGE_CAL, level=-1):
        fit = api.calibrate_lage(graph, munis, commuters=inputs.commuters,
                                 decay=lage_decay(config), target_mean=c.target_mean,
                                 limit_min=c.limit_min, engine="ch",
                                 cache_dir=task["lage_cache"])
        res = api.lage(graph, munis, commuters=inputs.commuters, decay=fit,
                       limit_min=c.limit_min, thresholds=tuple(c.thresholds), engine="ch",
                       cache_dir=task["lage_cache"])
    on = res["potential_2h"].notna()
    return {"s": sections.records[LAGE_CAL]["s"], "peak_mb": sections.records[LAGE_CAL]["peak_mb"],
            "cache": "empty" if task["kind"] == "cold" else "hierarchy cached",
            "ch_build_s": _ch_build_s(sections),
            "decay": dataclasses.asdict(fit.decay), "target_mean": c.target_mean,
            # the mean over the units the fit is over (every GVB member carries its GVB's)
            "achieved_mean": (float(res.loc[on].groupby("gvb")["potential_2h"].first().mean())
                              if on.any() else None),
            "steps": [sections.records[n] for n in sections.order if n != LAGE_CAL]}


def _child(task, conn):
    logging.basicConfig(level=task.get("log_level", logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(name)s [%(processName)s] %(message)s")
    try:
        conn.send(run_once(task))
    except BaseException as e:  # noqa: BLE001 (report, never hang the parent)
        import traceback

        conn.send({"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()})
    finally:
        conn.close()


def run_in_subprocess(task: dict) -> dict:
    """:func:`run_once` in a fresh spawned process (clean memory, numba from its cache)."""
    return run_spawned(_child, task, f"national-{task['kind']}")


# ============================================================================ checks
def _png_check(path: Path) -> dict:
    import matplotlib.image as mpimg

    img = mpimg.imread(str(path))
    rgb = img[..., :3] if img.ndim == 3 else img[..., None]
    if rgb.dtype != np.float32 and rgb.dtype != np.float64:
        rgb = rgb / 255.0
    nonwhite = float((rgb.min(axis=-1) < 0.95).mean())
    colours = int(np.unique((rgb.reshape(-1, rgb.shape[-1]) * 31).round().astype(np.uint8),
                            axis=0).shape[0])
    return {"file": path.name, "bytes": path.stat().st_size, "width": int(img.shape[1]),
            "height": int(img.shape[0]), "nonwhite_share": round(nonwhite, 4),
            "colours": colours, "blank": nonwhite < 0.02 or colours < 4}


def check_outputs(res) -> dict:
    """What a planner would look at first: values present, classes spread, edge flags,
    maps not blank, the summary written."""
    import pandas as pd

    out_dir = Path(res.output_dir)
    files = {Path(p).name for p in res.files.values()}
    m = res.municipalities
    reg = m[m["in_region"].to_numpy(bool)] if "in_region" in m.columns else m
    problems = []
    checks: dict = {"n_municipalities": len(m), "n_in_region": len(reg),
                    "n_on_network": int(m["on_network"].sum()) if "on_network" in m else None,
                    "files": sorted(files)}
    nan = {}
    for col in ("t_mz_min", "t_oz_min", "potential_2h", "lage", "settlement_type"):
        if col in reg.columns:
            nan[col] = round(float(reg[col].isna().mean()), 4)
            if nan[col] > 0.5:
                problems.append(f"{col}: {nan[col]:.0%} of the region's municipalities have "
                                "no value")
        else:
            problems.append(f"column {col} missing")
    checks["no_value_share"] = nan
    spread = {}
    for col in ("mz_class", "oz_class", "lage", "settlement_type", "lage_gemeinde"):
        if col in reg.columns:
            vc = reg[col].value_counts(dropna=False)
            spread[col] = {str(k): int(v) for k, v in vc.items()}
            top = float(vc.iloc[0] / vc.sum()) if len(vc) else 1.0
            if reg[col].nunique() <= 1 or top > 0.9:
                problems.append(f"{col}: {top:.0%} of the municipalities in one class "
                                f"({vc.index[0]})")
    checks["classes"] = spread
    flags = {}
    for col in ("edge_flag", "mz_edge_flag", "oz_edge_flag"):
        if col in reg.columns:
            flags[col] = round(float(pd.Series(reg[col]).fillna(False).astype(bool).mean()), 4)
            if flags[col] > 0.5:
                problems.append(f"{col} set for {flags[col]:.0%} of the municipalities")
    checks["edge_flag_share"] = flags
    stats = {}
    for col in ("t_mz_min", "t_oz_min", "potential_2h"):
        if col in reg.columns and reg[col].notna().any():
            v = pd.to_numeric(reg[col], errors="coerce")
            stats[col] = {k: round(float(getattr(v, k)()), 1) for k in ("min", "median", "max")}
    checks["value_ranges"] = stats
    maps = [_png_check(out_dir / f) for f in sorted(files) if f.endswith(".png")]
    checks["maps"] = maps
    problems += [f"map {p['file']} looks blank" for p in maps if p["blank"]]
    if not maps:
        problems.append("no PNG map written")
    html = out_dir / "map.html"
    if html.is_file():
        checks["map_html_mb"] = round(html.stat().st_size / 2**20, 1)
        if checks["map_html_mb"] > 50:
            problems.append(f"map.html is {checks['map_html_mb']:,.0f} MB: too big to open "
                            "comfortably in a browser")
    summary = out_dir / "summary.md"
    if summary.is_file():
        text = summary.read_text(encoding="utf-8")
        checks["summary_md"] = {"bytes": len(text.encode()), "lines": text.count("\n"),
                                "nan_mentions": text.lower().count("nan")}
        if checks["summary_md"]["nan_mentions"]:
            problems.append(f"summary.md prints 'nan' {checks['summary_md']['nan_mentions']} "
                            "times")
    else:
        problems.append("summary.md missing")
    checks["problems"] = problems
    return checks


# ============================================================================ setup
def graph_file(nodes: int, seed: int, cache: Path | None, work: Path) -> tuple[Path, dict]:
    """The synthetic graph as the package's ``.npz`` (built, or from ``cache``)."""
    from accessibility.graph import load_graph, save_graph

    folder = cache if cache is not None else work
    path = folder / f"synthetic-{nodes}-seed{seed}.npz"
    info = {"path": str(path), "synthetic": True, "nodes_requested": nodes, "seed": seed}
    if path.is_file():
        t0 = time.perf_counter()
        g = load_graph(path)
        info.update(source="cache", load_s=time.perf_counter() - t0)
    else:
        from benchmarks.synthetic import synthetic_road_graph

        t0 = time.perf_counter()
        g = synthetic_road_graph(nodes, seed=seed)
        info.update(source="built", build_s=time.perf_counter() - t0)
        save_graph(g, path)
    if not g.meta.get("synthetic"):
        raise SystemExit(f"{path} is not a synthetic graph of benchmarks.synthetic")
    info.update(name=g.meta.get("name"), n_nodes=int(g.n_nodes), n_edges=int(g.n_edges),
                spacing_m=float(g.meta.get("spacing_m", np.nan)),
                scc_share=g.meta.get("scc_share"), bytes=path.stat().st_size)
    return path, info


def _restricted(src: Path, dst: Path, prefixes: list[str]) -> Path:
    import pandas as pd

    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    keep = df["ags"].str.startswith(tuple(prefixes))
    if not keep.any():
        raise SystemExit(f"--ags-prefix {','.join(prefixes)}: no row of {src.name} matches")
    df[keep].to_csv(dst, index=False)
    return dst


def write_config(work: Path, graph_path: Path, args) -> Path:
    """The run's TOML config (absolute paths; outputs go where ``run`` is told)."""
    register, central, boundaries = Path(args.municipalities), Path(args.central_places), None
    if not args.no_boundaries and Path(args.boundaries).is_file():
        boundaries = Path(args.boundaries)
    if args.ags_prefix:
        prefixes = [p.strip() for p in args.ags_prefix.split(",") if p.strip()]
        register = _restricted(register, work / "register.csv", prefixes)
        central = _restricted(central, work / "central_places.csv", prefixes)
    max_snap = args.max_snap_m
    if max_snap is None:  # a coarse synthetic graph: its nodes are far apart
        spacing = float(np.sqrt(640_000.0 * 800_000.0 / args.nodes))
        max_snap = max(2000.0, 2.0 * spacing)
    q = lambda p: json.dumps(Path(p).resolve().as_posix())
    lines = [
        "# The national car run of benchmarks/national.py (issue 14).",
        "# The road graph is SYNTHETIC (benchmarks/synthetic.py): values are not real.",
        "[inputs]",
        f"osm = {q(graph_path)}",
        f"municipalities = {q(register)}",
        f"central_places = {q(central)}",
    ]
    if boundaries is not None:
        lines.append(f"boundaries = {q(boundaries)}")
    lines += [
        "",
        "[graph]",
        f"cache_dir = {q(work / 'ch-cache')}  # the contraction hierarchy (cold: empty)",
        f"max_snap_m = {max_snap:.1f}",
        "",
        "[lage]",
        'engine = "ch"',
        "calibrate = false  # the calibrated Lage is timed separately (api.calibrate_lage)",
        "",
        "[output]",
        'models = ["central_places", "lage"]',
        "maps = true",
        f"dir = {q(work / 'run-cold')}",
        "",
    ]
    path = work / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def new_work_dir(out: str | None) -> Path:
    """A new, empty folder: ``--out DIR`` when DIR does not exist yet (or is empty),
    else a new folder inside it; without ``--out`` a new folder in the temp dir."""
    if out is None:
        return Path(tempfile.mkdtemp(prefix="national-bench-"))
    d = Path(out)
    if not d.exists():
        d.mkdir(parents=True)
        return d
    if not d.is_dir():
        raise SystemExit(f"--out {d} is a file")
    if not any(d.iterdir()):
        return d
    new = Path(tempfile.mkdtemp(prefix=time.strftime("national-%Y%m%d-%H%M%S-"), dir=d))
    logger.info("%s is not empty: writing into the new folder %s", d, new)
    return new


# ============================================================================ output
def _fmt(v, digits=1) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{v:,.{digits}f}"


def _parent(sub: str) -> str | None:
    """The stage a sub-step belongs to (maps: several, listed on their own)."""
    if sub in SUBSTAGE_PARENT:
        return SUBSTAGE_PARENT[sub]
    return "lage + settlement types" if sub.startswith("lage:") else None


def table_rows(result: dict) -> list[tuple]:
    """(label, cold s, cold MB, warm s, warm MB) rows in run order."""
    runs = {k: result["runs"].get(k) or {} for k in ("cold", "warm")}
    rec = {k: {r["name"]: r for r in runs[k].get("stages", [])} for k in runs}
    names = [lbl for lbl, *_ in STAGES]
    subs = list(dict.fromkeys(lbl for lbl, *_ in SUBSTAGES))

    def row(label, name):
        cells = [label]
        for k in ("cold", "warm"):
            r = rec[k].get(name)
            cells += [_fmt(r["s"], 2) if r else "-", _fmt(r["peak_mb"], 0) if r else "-"]
        return tuple(cells)

    rows = []
    for name in names:
        rows.append(row(name, name))
        for s in subs:
            if _parent(s) == name and any(s in rec[k] for k in rec):
                rows.append(row(f"  - {s}", s))
    maps = [s for s in subs if s.startswith("maps:") and any(s in rec[k] for k in rec)]
    if maps:
        rows.append(("maps, in the stages above:", "", "", "", ""))
        rows += [row(f"  - {s}", s) for s in maps]
    other = ["other (config, checks, report text)"]
    total = ["TOTAL pipeline.run"]
    for k in ("cold", "warm"):
        r = runs[k]
        other += [_fmt(r.get("other_s"), 2), "-"]
        total += [_fmt(r.get("total_s"), 2), _fmt(r.get("peak_mb"), 0)]
    rows += [tuple(other), tuple(total)]
    lc = ["  " + LAGE_CAL + " (separate step)"]
    for k in ("cold", "warm"):
        r = runs[k].get("lage_calibrated") or {}
        lc += [_fmt(r.get("s"), 2), _fmt(r.get("peak_mb"), 0)]
    rows.append(tuple(lc))
    return rows


def format_table(result: dict) -> str:
    g = result["graph"]
    head = ("stage", "cold s", "cold peak MB", "warm s", "warm peak MB")
    rows = [head] + table_rows(result)
    w = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    lines = [(f"National car run on a SYNTHETIC graph ({g['n_nodes']:,} nodes, "
              f"{g['n_edges']:,} edges; values are not real), "
              f"{result['n_municipalities']:,} municipalities; peak = resident-memory "
              "high-water mark of the process during the stage")]
    for i, r in enumerate(rows):
        lines.append(" | ".join(str(c).ljust(w[j]) if j == 0 else str(c).rjust(w[j])
                                for j, c in enumerate(r)))
        if i == 0:
            lines.append("-+-".join("-" * x for x in w))
    lines += [""] + verdict_lines(result)
    return "\n".join(lines)


def format_markdown(result: dict) -> str:
    """The table as Markdown (for benchmarks/results/national.md)."""
    head = ("stage", "cold s", "cold peak MB", "warm s", "warm peak MB")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table_rows(result):
        label = (r[0].replace("  - ", "&nbsp;&nbsp;- ") if r[0].startswith("  - ")
                 else r[0].strip())
        if label.startswith("TOTAL"):
            r = tuple(f"**{c}**" if c not in ("", "-") else c for c in r)
            label = r[0]
        lines.append("| " + " | ".join((label,) + tuple(r[1:])) + " |")
    return "\n".join(lines + [""] + [f"- {v}" for v in verdict_lines(result)])


def _decay_text(d: dict | None) -> str:
    if not d:
        return "-"
    if d.get("kind") == "gaussian":
        return f"gaussian sigma {d.get('sigma_min', float('nan')):.3f} min"
    return f"{d.get('kind')} beta {d.get('beta', float('nan')):.4f}"


def verdict_lines(result: dict) -> list[str]:
    runs = result["runs"]
    out = []
    for k in ("cold", "warm"):
        r = runs.get(k) or {}
        if "error" in r:
            out.append(f"{k}: FAILED: {r['error']}")
            continue
        ch = r.get("ch_build_s")
        out.append(f"{k}: total {_fmt(r.get('total_s'))} s (target < {TARGET_TOTAL_S:.0f} s: "
                   f"{'met' if r.get('total_s', 1e9) < TARGET_TOTAL_S else 'NOT met'}), "
                   f"peak {_fmt(r.get('peak_mb'), 0)} MB (target < {TARGET_PEAK_MB:.0f} MB: "
                   f"{'met' if r.get('peak_mb', 1e9) < TARGET_PEAK_MB else 'NOT met'}); "
                   f"CH build {_fmt(ch) + ' s' if ch is not None else 'none (cached)'}; "
                   f"numba warm-up {_fmt(r.get('warmup_s'))} s and measuring "
                   f"{_fmt(r.get('instrumentation_s'))} s (not in the times); "
                   f"load {r.get('loadavg_before')} -> {r.get('loadavg_after')}")
    for k, target in (("cold", TARGET_LAGE_COLD_S), ("warm", TARGET_LAGE_WARM_S)):
        lc = (runs.get(k) or {}).get("lage_calibrated")
        if not lc:
            continue
        cal = sum(s["s"] for s in lc.get("steps", [])
                  if s["name"] == "lage: calibration (calibrate_decay)")
        ch = lc.get("ch_build_s")
        out.append(f"{LAGE_CAL}, {k} ({lc['cache']}): {_fmt(lc['s'])} s (target < {target:.0f}"
                   f" s: {'met' if lc['s'] < target else 'NOT met'}); of it calibration "
                   f"{_fmt(cal)} s, CH build {_fmt(ch) + ' s' if ch is not None else 'none'}; "
                   f"peak {_fmt(lc['peak_mb'], 0)} MB; fitted {_decay_text(lc.get('decay'))}, "
                   f"mean potential {_fmt(lc.get('achieved_mean'), 0)}")
    for k in ("cold", "warm"):
        probs = ((runs.get(k) or {}).get("checks") or {}).get("problems")
        if probs:
            out.append(f"output checks ({k}): " + "; ".join(probs))
    return out


# ============================================================================ main
def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.national",
                                description=__doc__.split("\n")[0])
    p.add_argument("--nodes", type=int, default=4_000_000, help="synthetic graph size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=None,
                   help="folder for the synthetic graph .npz (reused when present)")
    p.add_argument("--out", default=None,
                   help="work folder (config, CH cache, both runs' outputs); created new, "
                        "never reused: an existing non-empty DIR gets a new folder inside")
    p.add_argument("--json", default=None, help="write the results as JSON to this file")
    p.add_argument("--ags-prefix", default=None,
                   help="restrict the register and central places to these AGS prefixes "
                        "(comma list, e.g. 03 = Niedersachsen) for a small run")
    p.add_argument("--municipalities", default=str(REGISTER))
    p.add_argument("--central-places", default=str(CENTRAL_PLACES))
    p.add_argument("--boundaries", default=str(BOUNDARIES))
    p.add_argument("--no-boundaries", action="store_true",
                   help="no VG250 polygons (point outputs, no GVB/Kreis/Land layers)")
    p.add_argument("--max-snap-m", type=float, default=None,
                   help="[graph] max_snap_m (default max(2000, 2 x node spacing))")
    p.add_argument("--no-calibration", action="store_true",
                   help="skip the separate 'national Lage with calibration' step")
    p.add_argument("--in-process", action="store_true",
                   help="run cold and warm in this process (no clean memory; for tests)")
    p.add_argument("--keep-cold-cache", action="store_true",
                   help="keep the extra empty-cache hierarchy of the calibrated Lage")
    p.add_argument("--cprofile", type=Path, default=None, metavar="DIR",
                   help="profile each run with cProfile into DIR/{cold,warm}.prof (slower; "
                        "for finding slow stages, not for the timings)")
    p.add_argument("--table", type=Path, default=None, metavar="JSON",
                   help="only print the table of an earlier --json file")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--walk-cells", type=int, default=0, metavar="N",
                   help="also time the walk model on N synthetic 100 m cells in tiles "
                        "(benchmarks.walk_national, in process; 0: not)")
    p.add_argument("--whole", default=None, metavar="CAR.json,WALK.json[,FEAT_A.json,FEAT_B.json]",
                   help="print the whole national run composed of saved results (car run, "
                        "walk model, OSM features of two file sizes, extrapolated)")
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings on stderr")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    """Run the benchmark; prints the table and returns the JSON-able result dict."""
    args = parse_args(argv)
    if args.whole is not None:
        from benchmarks.national_whole import whole_run

        car, walk, *feats = [json.loads(Path(f).read_text(encoding="utf-8"))
                             for f in args.whole.split(",")]
        rows = whole_run(car, walk if isinstance(walk, list) else [walk], *feats)
        print(rows["markdown"])
        return rows
    if args.table is not None:
        result = json.loads(args.table.read_text(encoding="utf-8"))
        print(format_markdown(result) if args.markdown else format_table(result))
        return result
    level = logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    for f in (args.municipalities, args.central_places):
        if not Path(f).is_file():
            raise SystemExit(f"input not found: {f} (run from the repository root, with "
                             "../shared/data beside it)")
    work = new_work_dir(args.out)
    if args.cache is not None:
        args.cache.mkdir(parents=True, exist_ok=True)
    logger.info("work folder %s", work)
    t0 = time.perf_counter()
    gpath, ginfo = graph_file(args.nodes, args.seed, args.cache, work)
    logger.info("synthetic graph %s: %d nodes, %d edges (%s, %.1f s)", gpath.name,
                ginfo["n_nodes"], ginfo["n_edges"], ginfo["source"], time.perf_counter() - t0)
    config = write_config(work, gpath, args)
    gc.collect()
    result = {
        "label": "synthetic graph: times and memory at national size, values not real",
        "graph": ginfo, "config": str(config), "config_toml": config.read_text("utf-8"),
        "work_dir": str(work), "runs": {},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default")},
        "targets": {"total_s": TARGET_TOTAL_S, "peak_mb": TARGET_PEAK_MB,
                    "lage_calibrated_cold_s": TARGET_LAGE_COLD_S,
                    "lage_calibrated_warm_s": TARGET_LAGE_WARM_S},
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    import pandas as pd

    result["n_municipalities"] = len(pd.read_csv(
        work / "register.csv" if args.ags_prefix else args.municipalities, usecols=["ags"]))
    for kind in ("cold", "warm"):
        lage_cache = None
        if not args.no_calibration:  # cold: a new empty cache; warm: the run's hierarchy
            lage_cache = str(work / ("ch-cache-lage-cold" if kind == "cold" else "ch-cache"))
        task = {"kind": kind, "config": str(config), "output_dir": str(work / f"run-{kind}"),
                "lage_cache": lage_cache, "log_level": level,
                "cprofile": str(args.cprofile / f"{kind}.prof") if args.cprofile else None}
        logger.info("%s run (%s) ...", kind, "empty hierarchy cache" if kind == "cold"
                    else "hierarchy cached")
        r = run_once(task) if args.in_process else run_in_subprocess(task)
        if "error" in r:
            logger.error("%s run failed: %s\n%s", kind, r["error"], r.get("traceback", ""))
        else:
            logger.info("%s run: %.1f s, peak %.0f MB", kind, r["total_s"], r["peak_mb"])
        result["runs"][kind] = r
        if kind == "cold" and lage_cache and not args.keep_cold_cache:
            shutil.rmtree(lage_cache, ignore_errors=True)
    if args.walk_cells:
        from benchmarks.walk_national import format_rows, run as walk_run

        result["walk"] = walk_run(args.walk_cells, ("local",))
        print(format_rows(result["walk"]))
    print(format_markdown(result) if args.markdown else format_table(result))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
