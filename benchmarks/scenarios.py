"""National scenarios, the 60-minute matrix and isochrones on the synthetic national
graph (issue 28), each beside its full-recompute / scipy baseline.

Rows (one process; the synthetic graph of :mod:`benchmarks.synthetic` with the
national register and central places, as :mod:`benchmarks.national`):

* **base**: central places + Lage (``engine = "ch"``) with the searches recorded
  (:func:`accessibility.models.scenario.base_run`; the hierarchy built or loaded);
* **one scenario, warm** (a Grundzentrum becomes a Mittelzentrum): incremental
  (:mod:`accessibility.models.incremental`) beside the full recompute of the same
  scenario (the hierarchy cached), and the check that both tables are identical;
* **ten scenarios on Dask** (``LocalCluster``, 2 workers, 1 thread each): the batch
  tasks of :func:`accessibility.models.scenario.run_batch` with the graph, tables,
  base and searches resident on the workers (:mod:`accessibility.worker_state`:
  written once, memory-mapped by each worker once; a task carries its scenario and
  returns its changed columns), warm (the cluster start and the one-time write and
  load are their own rows), beside the same ten in this process (same run) and ten
  full recomputes (the single full recompute times ten);
* **road scenarios, warm** (a motorway section of about 10 km closed; separately a
  new 10 km link): incremental (the nearest-place searches repaired, the Lage
  searched again for the origins within reach of the changed edges:
  :mod:`accessibility.models.lage_roads`) beside the full recompute on the
  scenario's graph, both building the scenario's hierarchy where they need one (no
  hierarchy cache for these rows); nodes repaired, Lage origins searched again,
  the method chosen, and the check that the tables agree (times and classes
  identical, potentials to 1e-9 relative: with ``engine = "ch"`` the unaffected
  origins keep the base hierarchy's sums);
* **60-minute matrix** (``api.time_matrix``, ``engine="ch"``, hierarchy cached) for
  every municipality; baseline ``scipy.sparse.csgraph.dijkstra`` from a sample of
  origins (extrapolated), and the check that the matrix equals scipy's times on it;
* **isochrones** (``api.isochrones``, 15/30/60 min) of a sample of central places,
  extrapolated to all of them.

``python -m benchmarks.scenarios --nodes 4000000 --cache /tmp/national-cache
--json benchmarks/results/scenarios_4m.json`` (``--nodes 20000 --ags-prefix 031`` for
a smoke run). The graph is synthetic: times and memory at national size, values not
real.
"""

from __future__ import annotations

import argparse
import json
import logging
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.national import (
    BOUNDARIES,
    CENTRAL_PLACES,
    REGISTER,
    graph_file,
    loadavg,
    warmup,
    write_config,
)
from benchmarks.run import PeakMemory

logger = logging.getLogger("benchmarks.scenarios")

TARGETS = {"scenario_warm_s": 5.0, "ten_on_dask_s": 30.0, "matrix_s": 60.0,
           "isochrones_s": 120.0}


def _timed(fn, *a, **k):
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0


def _upgrades(munis: pd.DataFrame, k: int, seed: int = 0) -> list:
    """``k`` scenarios, each one Grundzentrum of the region on the network made MZ."""
    from accessibility.models.scenario import Scenario

    ok = (munis["central_place"] == "Grundzentrum") & munis["on_network"].fillna(False)
    if "in_region" in munis.columns:
        ok &= munis["in_region"].fillna(False)
    pick = np.random.default_rng(seed).choice(munis.loc[ok, "ags"].to_numpy(), size=k,
                                              replace=False)
    return [Scenario(name=f"GZ {a} -> MZ", functions={str(a): "Mittelzentrum"})
            for a in pick]


def scenario_rows(graph, munis, cp, models, result: dict, n_batch: int,
                  dask: bool = True) -> None:
    from accessibility.models.scenario import _changed_columns, base_run, scenario_task

    (base, memo), t = _timed(base_run, graph, munis, cp, models)
    result["base_s"] = t
    shared = dict(graph=graph, munis=munis, central_places=cp, models=models, base=base)
    scs = _upgrades(munis, n_batch)
    one = scs[0]
    (_, s_inc, _, _), t_inc = _timed(scenario_task, one, memo=memo, **shared)
    (_, s_full, _, _), t_full = _timed(scenario_task, one, memo=None, **shared)
    identical = s_inc.equals(s_full) and all(
        s_inc[c].dtype == s_full[c].dtype for c in s_inc.columns)
    gained = int((s_inc["t_mz_min"] < base.set_index("ags").loc[s_inc["ags"], "t_mz_min"]
                  .to_numpy()).sum())
    result["one"] = {"scenario": one.name, "incremental_s": t_inc, "full_s": t_full,
                     "identical": bool(identical), "municipalities_gaining": gained,
                     "memo": dict(memo.stats), "load": loadavg()}
    logger.info("one scenario: incremental %.2f s, full %.2f s, identical %s", t_inc, t_full,
                identical)
    # ten in this process, incremental (for the ratio to Dask)
    memo.stats.clear()
    local, t_ten_local = _timed(lambda: [_changed_columns(s, memo=memo, **shared)
                                         for s in scs])
    result["ten"] = {"n": len(scs), "in_process_incremental_s": t_ten_local,
                     "full_recompute_x10_s": 10 * t_full}
    if not dask:
        return
    dask_rows({**shared, "memo": memo}, scs, local, result)


def _road_scenarios(graph) -> list:
    """A motorway section of about 10 km closed (motorway edges only: the buffered
    hull of a path along motorway edges from the motorway node nearest the graph's
    middle), and a new 10 km primary link at 100 km/h from a node 20 km north-east of
    the middle to the node nearest 10 km east of it."""
    import shapely

    from accessibility.models.scenario import Scenario

    mw = graph.class_names.index("motorway")
    cx, cy = float(np.median(graph.x)), float(np.median(graph.y))
    tails = graph.sources[graph.road_class == mw]
    u = int(tails[np.argmin(np.hypot(graph.x[tails] - cx, graph.y[tails] - cy))])
    path, length = [u], 0.0
    while length < 10_000.0:
        step = [e for e in range(graph.offsets[u], graph.offsets[u + 1])
                if graph.road_class[e] == mw and int(graph.targets[e]) not in path]
        if not step:
            break
        length += float(graph.length_m[step[0]])
        u = int(graph.targets[step[0]])
        path.append(u)
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([graph.lon[path],
                                                                     graph.lat[path]])))
    closure = Scenario(name=f"motorway closed over {length / 1000:.1f} km",
                       closed_areas=[hull.buffer(0.002)], closed_classes=["motorway"])

    def nearest(x, y):
        return int(np.argmin(np.hypot(graph.x - x, graph.y - y)))

    a = nearest(cx + 20_000.0, cy + 20_000.0)
    b = nearest(graph.x[a] + 10_000.0, graph.y[a])
    link = Scenario(name="new 10 km link", new_links=[{
        "from": (float(graph.lon[a]), float(graph.lat[a])),
        "to": (float(graph.lon[b]), float(graph.lat[b])), "speed_kmh": 100.0,
        "road_class": "primary"}])
    return [closure, link]


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def road_rows(graph, munis, cp, models, result: dict, base=None, memo=None) -> None:
    """Each road scenario incremental and in full (module docstring)."""
    import copy

    from accessibility.models.scenario import base_run, scenario_task

    if memo is None:
        (base, memo), t = _timed(base_run, graph, munis, cp, models)
        result["base_s"] = t
    # no hierarchy cache: each run builds the scenario's hierarchy where it needs one
    plain = copy.copy(models)
    plain.lage_options = {**models.lage_options, "cache_dir": None}
    shared = dict(graph=graph, munis=munis, central_places=cp, models=plain, base=base)
    nearest_only = copy.copy(plain)  # the central places alone: the nearest-place part
    nearest_only.lage = False
    rows = []
    for sc in _road_scenarios(graph):
        part = {**shared, "models": nearest_only}
        (_, n_inc, _, i_inc), t_n_inc = _timed(scenario_task, sc, memo=memo, **part)
        (_, n_full, _, i_full), t_n_full = _timed(scenario_task, sc, memo=None, **part)
        nearest = {"incremental_s": t_n_inc, "full_s": t_n_full, "load": loadavg(),
                   "identical": bool(n_inc.equals(n_full)),
                   "steps_incremental_s": i_inc["times_s"], "steps_full_s": i_full["times_s"]}
        memo.stats.clear()
        lines = _Lines()
        logging.getLogger("accessibility").addHandler(lines)
        try:
            with PeakMemory() as pm_inc:
                (_, s_inc, _, info), t_inc = _timed(scenario_task, sc, memo=memo, **shared)
        finally:
            logging.getLogger("accessibility").removeHandler(lines)
        load_inc = loadavg()
        with PeakMemory() as pm_full:
            (_, s_full, _, _), t_full = _timed(scenario_task, sc, memo=None, **shared)
        sums = [c for c in ("potential_2h", "potential_2h_max") if c in s_inc]  # to rounding
        cols = [c for c in s_inc.columns if c not in sums]
        exact = [c for c in cols if not (s_inc[c].equals(s_full[c])
                                         and s_inc[c].dtype == s_full[c].dtype)]
        rel = 0.0
        if sums:
            a, b = (s[sums].to_numpy(float).ravel() for s in (s_inc, s_full))
            with np.errstate(invalid="ignore", divide="ignore"):
                d = np.abs(a - b) / np.abs(b)
            rel = float(np.nanmax(np.where(a == b, 0.0, d), initial=0.0))
            if not np.array_equal(np.isnan(a), np.isnan(b)):
                rel = float("inf")  # a value on one side only
        lage = [m for m in lines.lines if "Lage origins within reach" in m]
        rows.append({"scenario": sc.name, "incremental_s": t_inc, "full_s": t_full,
                     "load_incremental": load_inc, "load_full": loadavg(),
                     "peak_mb_incremental": pm_inc.peak_abs_mb,
                     "peak_mb_full": pm_full.peak_abs_mb,
                     "edges_closed": int(info.get("edges_closed", 0)),
                     "reused": [m for m in lines.lines if m.startswith("road scenario '")],
                     "memo": dict(memo.stats), "lage": lage[-1] if lage else None,
                     "columns_not_identical": exact, "potential_max_rel_diff": rel,
                     "central_places_only": nearest,
                     "agree": not exact and rel <= 1e-9})
        logger.info("%s: incremental %.1f s, full %.1f s; %s; %s; agree %s", sc.name, t_inc,
                    t_full, dict(memo.stats), rows[-1]["lage"], rows[-1]["agree"])
    result["roads"] = rows


def _pss_mb(pids) -> float:
    """Proportional set size of ``pids`` (shared pages of the mapped state file
    counted once across the processes), in MB."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_full_info().pss
        except (psutil.Error, AttributeError):
            pass
    return total / 1e6


def dask_rows(shared: dict, scs: list, local: list, result: dict) -> None:
    """Ten scenarios on a 2-worker LocalCluster with the inputs resident on the
    workers (:mod:`accessibility.worker_state`): the cluster start, the one-time
    write and load of the base's state, then two warm batches; each batch's changed
    columns compared with the in-process batch's (byte-identical)."""
    import os
    import threading

    from dask.distributed import Client, LocalCluster

    from accessibility.compute import DaskExecutor
    from accessibility.models.scenario import _changed_columns, _graph_key
    from accessibility.worker_state import Resident, content_key

    graph, munis, cp, models = (shared[k] for k in ("graph", "munis", "central_places",
                                                      "models"))
    with tempfile.TemporaryDirectory(prefix="scen-dask-") as tmp:
        t0 = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          local_directory=tmp, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            t_start = time.perf_counter() - t0
            pids = [os.getpid(), *client.run(os.getpid).values()]
            peak, stop = [0.0], threading.Event()

            def sample():
                while not stop.wait(0.5):
                    peak[0] = max(peak[0], _pss_mb(pids))

            threading.Thread(target=sample, daemon=True).start()
            ex = DaskExecutor(client, threads=1)
            # as run_batch: the graph's key once per graph, the tables' every batch
            _, t_key = _timed(_graph_key, graph)
            key = content_key([_graph_key(graph), munis, cp, models])
            res = Resident(shared, key, Path(tmp) / "state")
            _, t_write = _timed(res.write)
            _, t_load = _timed(ex.preload, res)
            batches = []
            for _ in range(2):
                t0 = time.perf_counter()
                res = Resident(shared, content_key([_graph_key(graph), munis, cp, models]),
                               Path(tmp) / "state")
                parts = ex.map(_changed_columns, scs, resident=res, what="scenarios")
                batches.append((time.perf_counter() - t0, loadavg()))
            stop.set()
            identical = all(
                (d is None and dl is None) or (d is not None and dl is not None
                                               and list(d) == list(dl)
                                               and all(d[c].equals(dl[c])
                                                       and d[c].dtype == dl[c].dtype
                                                       for c in d))
                for (d, _), (dl, _) in zip(parts, local))
            result_bytes = [len(pickle.dumps(p, protocol=5)) for p in parts]
            state_bytes = int(res.path.stat().st_size)
    n_cols = [len(d) if d is not None else None for d, _ in parts]
    result["ten"].update(
        dask_cluster_start_s=t_start, dask_key_s=t_key, dask_state_write_s=t_write,
        dask_state_bytes=state_bytes,
        dask_state_load_s=t_load, dask_s=batches[0][0], dask_load=batches[0][1],
        dask_second_batch_s=batches[1][0], dask_second_load=batches[1][1],
        dask_identical_to_in_process=bool(identical), changed_columns=n_cols,
        result_bytes=result_bytes, dask_pss_peak_mb=peak[0], load=loadavg())
    logger.info("ten scenarios on Dask (inputs resident): cluster start %.1f s, key %.1f s, "
                "state write %.1f s, load %.1f s; batch %.1f s (second %.1f s); in process "
                "%.1f s; identical %s; PSS peak %.0f MB", t_start, t_key, t_write, t_load,
                batches[0][0], batches[1][0], result["ten"]["in_process_incremental_s"],
                identical, peak[0])


def matrix_rows(graph, munis, cache_dir, result: dict, n_sample: int) -> None:
    from scipy.sparse.csgraph import dijkstra

    from accessibility import api
    from accessibility.graph import network_arrays

    reg = munis[munis["in_region"].fillna(False)] if "in_region" in munis.columns else munis
    # the hierarchy of the plain graph (the Lage's is of its augmented graph)
    _, t_build = _timed(api.time_matrix, graph, reg.iloc[:50], limit_min=60.0, engine="ch",
                        cache_dir=cache_dir)
    with PeakMemory() as pm:
        mat, t = _timed(api.time_matrix, graph, reg, limit_min=60.0, engine="ch",
                        cache_dir=cache_dir)
    arr = network_arrays(reg, graph, what="municipalities")
    on = np.flatnonzero(arr.on_network)
    rng = np.random.default_rng(1)
    sample = rng.choice(on, size=min(n_sample, on.size), replace=False)
    csr = graph.to_scipy()
    (dist), t_sc = _timed(dijkstra, csr, directed=True, indices=arr.node[sample],
                          limit=3600.0)
    # scipy's times with both access legs, the same pairs as the matrix
    ags = reg["ags"].astype(str).to_numpy()
    tot = dist[:, arr.node[on]] + arr.access_s[sample][:, None] + arr.access_s[on][None, :]
    want = {(ags[o], ags[d]): tot[i, j] / 60.0 for i, o in enumerate(sample)
            for j, d in enumerate(on) if tot[i, j] <= 3600.0 and o != d}
    got = mat[mat["origin_ags"].astype(str).isin(set(ags[sample]))]
    got = {(o, d): m for o, d, m in zip(got["origin_ags"].astype(str),
                                        got["destination_ags"].astype(str), got["minutes"])}
    same_pairs = set(got) == set(want)
    max_diff = max((abs(got[k] - np.float32(v)) for k, v in want.items() if k in got),
                   default=0.0)
    result["matrix"] = {"ch_s": t, "ch_first_call_with_build_s": t_build,
                        "peak_mb": pm.peak_mb, "pairs": len(mat), "origins": int(on.size),
                        "scipy_sample_origins": int(sample.size), "scipy_sample_s": t_sc,
                        "scipy_extrapolated_s": t_sc * on.size / sample.size,
                        "same_pairs_as_scipy": bool(same_pairs),
                        "max_abs_diff_min": float(max_diff), "load": loadavg()}
    logger.info("matrix: ch %.1f s, %d pairs; scipy %d origins %.1f s (x%.0f); same pairs "
                "%s, max diff %.2g min", t, len(mat), sample.size, t_sc,
                on.size / sample.size, same_pairs, max_diff)


def isochrone_rows(graph, munis, result: dict, n_sample: int, n_grid: int | None = None
                   ) -> None:
    from accessibility import api

    cp = munis[munis["central_place"].isin(["Oberzentrum", "Mittelzentrum"])
               & munis["on_network"].fillna(False)]
    if "in_region" in cp.columns:
        cp = cp[cp["in_region"].fillna(False)]
    graph.reversed  # noqa: B018  (built once, as in a run; not in the times)
    api.isochrones(graph, cp.iloc[:1], minutes=(15, 30, 60), method="grid")  # numba load
    on_grid = cp if n_grid is None else cp.sample(min(n_grid, len(cp)), random_state=1)
    with PeakMemory() as pm:
        grid, t_grid = _timed(api.isochrones, graph, on_grid, minutes=(15, 30, 60),
                              method="grid")
    sample = on_grid.sample(min(n_sample, len(on_grid)), random_state=0)
    net, t = _timed(api.isochrones, graph, sample, minutes=(15, 30, 60), method="network")
    g = grid.set_index(["ags", "minutes"]).loc[list(zip(net["ags"], net["minutes"]))]
    inter = np.array([a.intersection(b).area for a, b in zip(g.geometry, net.geometry)])
    union = np.array([a.union(b).area for a, b in zip(g.geometry, net.geometry)])
    result["isochrones"] = {"centres_all": len(cp), "centres_grid": len(on_grid),
                            "grid_s": t_grid,
                            "grid_all_s": t_grid * len(cp) / len(on_grid),
                            "grid_peak_mb": pm.peak_mb, "centres_sampled": len(sample),
                            "network_sample_s": t,
                            "network_extrapolated_all_s": t * len(cp) / max(len(sample), 1),
                            "grid_vs_network_iou_min": float((inter / union).min()),
                            "grid_vs_network_area_ratio": [
                                float(x) for x in g["area_km2"].to_numpy()
                                / net["area_km2"].to_numpy()],
                            "same_n_nodes": bool((g["n_nodes"].to_numpy()
                                                  == net["n_nodes"].to_numpy()).all()),
                            "mean_area_60_km2": float(grid.loc[grid["minutes"] == 60,
                                                               "area_km2"].mean()),
                            "load": loadavg()}
    logger.info("isochrones: grid %d centres %.1f s; network %d centres %.1f s -> all %.0f "
                "s; IoU >= %.3f", len(cp), t_grid, len(sample), t,
                t * len(cp) / max(len(sample), 1), (inter / union).min())


def run(args) -> dict:
    from accessibility import api
    from accessibility.pipeline import graph_and_municipalities
    from accessibility.pipeline.commands import _scenario_models

    work = Path(tempfile.mkdtemp(prefix="scen-bench-")) if args.out is None else Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    cache = args.cache or work
    cache.mkdir(parents=True, exist_ok=True)
    gpath, ginfo = graph_file(args.nodes, args.seed, cache, work)
    ns = argparse.Namespace(municipalities=args.municipalities,
                            central_places=args.central_places, boundaries=BOUNDARIES,
                            no_boundaries=True, ags_prefix=args.ags_prefix,
                            max_snap_m=None, nodes=args.nodes)
    config = write_config(work, gpath, ns)
    result = {"label": "synthetic graph: times and memory at national size, values not real",
              "graph": ginfo, "targets": TARGETS, "load_start": loadavg()}
    result.update(warmup())
    t0 = time.perf_counter()
    cfg, graph, munis, inputs = graph_and_municipalities(str(config), None, "scenario")
    munis = api.mark_region(graph, munis)
    models = _scenario_models(cfg, inputs, graph, munis)
    result["setup_s"] = time.perf_counter() - t0
    cp = inputs.central_places
    if "scenarios" in args.rows:
        scenario_rows(graph, munis, cp, models, result, args.batch, not args.no_dask)
    if "roads" in args.rows:
        if args.road_method is not None:  # to check the estimate: the other method too
            from accessibility.models import lage_roads

            lage_roads.choose_method = lambda *a: args.road_method
            result["road_method_forced"] = args.road_method
        road_rows(graph, munis, cp, models, result)
    if "matrix" in args.rows:
        matrix_rows(graph, munis, str(work / "ch-cache"), result, args.scipy_sample)
    if "isochrones" in args.rows:
        isochrone_rows(graph, munis, result, args.iso_sample, args.iso_grid_sample)
    result["load_end"] = loadavg()
    return result


def format_markdown(r: dict) -> str:
    rows = ["| row | ours | baseline | ratio | target |", "|---|---|---|---|---|"]
    f = lambda v: f"{v:,.2f} s"
    if "one" in r:
        o = r["one"]
        rows.append(f"| one scenario (GZ -> MZ), warm, incremental vs full recompute | "
                    f"{f(o['incremental_s'])} | {f(o['full_s'])} | "
                    f"{o['full_s'] / o['incremental_s']:.1f}x | < 5 s |")
    if "ten" in r:
        t = r["ten"]
        rows.append(f"| ten scenarios in process, incremental | {f(t['in_process_incremental_s'])}"
                    f" | {f(t['full_recompute_x10_s'])} | "
                    f"{t['full_recompute_x10_s'] / t['in_process_incremental_s']:.1f}x | |")
    if "ten" in r and "dask_cluster_start_s" in r["ten"]:
        t = r["ten"]
        rows.append(f"| ten scenarios on a 2-worker LocalCluster, warm (inputs resident), vs "
                    f"in process | {f(t['dask_s'])} (second batch "
                    f"{f(t['dask_second_batch_s'])}) | {f(t['in_process_incremental_s'])} | "
                    f"{t['in_process_incremental_s'] / t['dask_s']:.1f}x | < 30 s |")
        rows.append(f"| - once per cluster: start | {f(t['dask_cluster_start_s'])} | | | |")
        rows.append(f"| - once per base: graph key, state file "
                    f"({t['dask_state_bytes'] / 1e6:,.0f} MB) written, mapped by the workers "
                    f"| {f(t['dask_key_s'])} + {f(t['dask_state_write_s'])} + "
                    f"{f(t['dask_state_load_s'])} | | | |")
    for o in r.get("roads", []):
        rows.append(f"| road scenario ({o['scenario']}), warm, incremental vs full recompute "
                    f"({o['lage']}) | {f(o['incremental_s'])} | {f(o['full_s'])} | "
                    f"{o['full_s'] / o['incremental_s']:.1f}x | agree: {o['agree']} |")
        n = o.get("central_places_only")
        if n:
            rows.append(f"| - of it the central places alone (nearest-place searches "
                        f"repaired: {o['memo'].get('nodes reset', 0):,} nodes reset) | "
                        f"{f(n['incremental_s'])} | {f(n['full_s'])} | "
                        f"{n['full_s'] / n['incremental_s']:.1f}x | identical: "
                        f"{n['identical']} |")
    if "matrix" in r:
        m = r["matrix"]
        rows.append(f"| 60-minute matrix, {m['origins']:,} municipalities (CH, cached) vs "
                    f"scipy Dijkstra ({m['scipy_sample_origins']} origins, extrapolated) | "
                    f"{f(m['ch_s'])} | {f(m['scipy_extrapolated_s'])} | "
                    f"{m['scipy_extrapolated_s'] / m['ch_s']:.1f}x | < 60 s |")
    if "isochrones" in r:
        i = r["isochrones"]
        rows.append(f"| isochrones 15/30/60 min, {i['centres_all']:,} centres: grid "
                    f"({i['centres_grid']:,} measured) vs network (extrapolated from "
                    f"{i['centres_sampled']}) | "
                    f"{f(i['grid_all_s'])} | {f(i['network_extrapolated_all_s'])} | "
                    f"{i['network_extrapolated_all_s'] / i['grid_all_s']:.0f}x | < 120 s |")
    return "\n".join(rows)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.scenarios",
                                description=__doc__.split("\n")[0])
    p.add_argument("--nodes", type=int, default=4_000_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=None, help="folder of the synthetic .npz")
    p.add_argument("--out", default=None, help="work folder (config, hierarchy cache)")
    p.add_argument("--json", default=None)
    p.add_argument("--ags-prefix", default=None)
    p.add_argument("--municipalities", default=str(REGISTER))
    p.add_argument("--central-places", default=str(CENTRAL_PLACES))
    p.add_argument("--batch", type=int, default=10, help="scenarios in the Dask batch")
    p.add_argument("--scipy-sample", type=int, default=40)
    p.add_argument("--iso-sample", type=int, default=3,
                   help="centres of the network isochrones (extrapolated)")
    p.add_argument("--iso-grid-sample", type=int, default=None,
                   help="centres of the grid isochrones (default all; else extrapolated)")
    p.add_argument("--rows", default="scenarios,roads,matrix,isochrones")
    p.add_argument("--no-dask", action="store_true", help="no LocalCluster batch")
    p.add_argument("--road-method", choices=("dijkstra", "ch"), default=None,
                   help="the road rows' Lage method instead of the estimate's choice")
    p.add_argument("--table", type=Path, default=None, metavar="JSON")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.table is not None:
        r = json.loads(args.table.read_text(encoding="utf-8"))
        print(format_markdown(r))
        return r
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("distributed").setLevel(logging.WARNING)
    r = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1, default=str), encoding="utf-8")
    print(format_markdown(r))
    return r


if __name__ == "__main__":
    main()
