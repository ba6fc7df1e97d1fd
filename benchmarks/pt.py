"""Public-transport benchmark: door-to-door times over a departure window on the VRN feed.

Usage::

    python -m benchmarks.pt [--gtfs FEED] [--date 2022-10-18] [--repeat 3]
        [--sample 4] [--json F] [--raptor-python PY] [--raptor-every 15]
    python -m benchmarks.pt --origins [--repeat 3] [--json F]

Origins are the stops served on the day (each an origin with no access walk),
destinations the stops named "Hauptbahnhof" (Heidelberg and Mannheim Hbf: "the
nearest of two central stations", no egress walk); the window is 06:00-09:00, a
departure every minute (180). Three ways to the same table of times:

* ``csa-profile``: one backward profile scan from the destinations, then every
  origin reads its 180 minutes (``transit.profile`` + ``transit.window_times``);
* ``csa-forward``: one forward scan per origin and minute (``transit.earliest_arrival``);
* ``scipy-te``: the time-expanded graph of ``benchmarks/_pt_reference.py``, one
  ``dijkstra(min_only=True)`` per origin and minute; its graph is built once
  (``setup s``, not timed).

* ``pyraptor``: the PyPI package ``pyraptor`` 1.3.10 (pure Python RAPTOR), one
  ``RaptorAlgorithm.run`` per origin and minute, in its own interpreter
  (``_pt_pyraptor.py``: it pins pandas < 2, so it cannot share the project's
  environment); its timetable conversion is ``setup s``. Make the venv once, beside
  the checkout (``--raptor-python`` names another interpreter)::

      python3 -m venv ../venv-raptor
      ../venv-raptor/bin/pip install pyraptor==1.3.10 attrs "numpy<2"

  (pyraptor imports ``attrs`` without declaring it; its pandas 1.5 needs numpy < 2.)
  Without it the row is skipped with a line saying why. Its rules differ from
  ours: stops of one name form a station, changing between them takes 120 s at any
  distance, and there is no other walking. So its arrivals are checked twice:
  against ours under its rules (the same transfers, no walked footpaths: must be
  identical) and against ours under ours (counts of equal / later / earlier).

The forward, scipy and pyraptor runs take ``--sample`` origins (pyraptor every
``--raptor-every``-th minute of them) and are scaled to all origins and minutes
linearly (marked ``scaled``); their times are checked against the profile's.
Medians of ``--repeat`` runs (pyraptor: one), numba compiled before timing. Only
the table is printed on stdout.

``--origins``: ``api.pt_times`` for the register's municipalities around the VRN
feed's stops, from the reference points and from the Zensus grid's cells (assigned
by the VG250 boundaries), timed both ways in one process (median of ``--repeat``).

``--national [--fraction F]``: the synthetic national timetable of
``benchmarks/_pt_synthetic.py`` (500,000 stops, 20 million stop times; ``F`` scales
both), nearest of 1,000 Mittelzentren (random points) for 11,000 origins (random
points; access and egress to the stops within 1,000 m) over 06:00-09:00 every minute:
the profile scan, the window of every origin and the statistics, timed once each,
with the peak memory (ru_maxrss) of the process; checked against one forward scan per
origin and minute for a sample.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from accessibility import transit
from accessibility.io.gtfs_timetable import read_gtfs_day

from ._pt_reference import TimeExpanded

logger = logging.getLogger("benchmarks.pt")
FEED = Path(__file__).resolve().parents[2] / "shared" / "data" / "gtfs" / \
    "vrn-rhein-neckar-cut.gtfs.zip"
#: The interpreter of the pyraptor venv (module docstring).
RAPTOR_PYTHON = Path(__file__).resolve().parents[2] / "venv-raptor" / "bin" / "python"


def pyraptor_check(python: Path, day, tt, table: pd.DataFrame, sample, deps, dest, *,
                   rounds: int) -> dict | None:
    """pyraptor's earliest arrivals for ``sample`` x ``deps`` (``_pt_pyraptor.py`` run
    by ``python``), checked against ours under its rules and under ours; None (and a
    line on stdout) when ``python`` cannot import pyraptor."""
    probe = subprocess.run([str(python), "-c", "import pyraptor"], capture_output=True,
                           text=True) if python.is_file() else None
    if probe is None or probe.returncode:
        why = ("no such interpreter" if probe is None
               else (probe.stderr.strip().splitlines() or ["failed"])[-1])
        print(f"pyraptor: skipped, not importable with {python} ({why}); the venv recipe "
              "is in the docstring of benchmarks/pt.py")
        return None
    queries = [(str(o), int(t0)) for o in sample for t0 in deps]
    job = {"stops": day.stops[["stop_id", "stop_name"]].astype(str).to_numpy().tolist(),
           "stop_times": [[str(r.trip_id), int(r.stop_sequence), str(r.stop_id),
                           int(r.arrival_s), int(r.departure_s)]
                          for r in day.stop_times.itertuples()],
           "destinations": [str(d) for d in dest], "queries": queries, "rounds": rounds}
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.json", Path(tmp) / "out.json"
        src.write_text(json.dumps(job))
        subprocess.run([str(python), str(Path(__file__).with_name("_pt_pyraptor.py")),
                        str(src), str(dst)], check=True)
        res = json.loads(dst.read_text())
    theirs = np.array([np.nan if a is None else a for a in res["arrival"]], float)
    # ours under its rules: stops of one name joined by 120 s transfers, no other
    # walking (coordinates dropped, so no walked footpaths), no parent stations
    names = day.stops[["stop_id", "stop_name"]].astype(str)
    pairs = names.merge(names, on="stop_name")
    pairs = pairs[pairs["stop_id_x"] != pairs["stop_id_y"]]
    same_rules = transit.build_timetable(
        day.stops.assign(stop_lat=np.nan, stop_lon=np.nan, parent_station=pd.NA),
        day.stop_times, pd.DataFrame({"from_stop_id": pairs["stop_id_x"].to_numpy(),
                                      "to_stop_id": pairs["stop_id_y"].to_numpy(),
                                      "transfer_type": 2, "min_transfer_s": 120}))
    didx = same_rules.index_of(dest)
    mine = np.array([np.nanmin(np.append(transit.earliest_arrival(
        same_rules, [o], [0], t0)[didx], np.inf)) for o, t0 in queries])
    mine[~np.isfinite(mine)] = np.nan
    t0s = np.array([t0 for _, t0 in queries], float)
    ours = np.array([table.loc[o, t0] for o, t0 in queries], float) + t0s
    both = np.isfinite(theirs) & np.isfinite(ours)
    return {"setup_s": res["setup_s"], "query_s_per_search": res["query_s"] / len(queries),
            "minutes": len(deps), "searches": len(queries),
            "max_rounds_used": int(max(res["rounds_used"], default=0)), "rounds": rounds,
            "same_rules_identical": bool(np.array_equal(theirs, mine, equal_nan=True)),
            "same_rules_differ": int((~((theirs == mine) | (np.isnan(theirs) & np.isnan(mine))))
                                     .sum()),
            "vs_ours_equal": int((both & (theirs == ours)).sum()),
            "vs_ours_pyraptor_later": int((both & (theirs > ours)).sum()),
            "vs_ours_pyraptor_earlier": int((both & (theirs < ours)).sum()),
            "vs_ours_only_ours": int((np.isnan(theirs) & np.isfinite(ours)).sum()),
            "vs_ours_only_pyraptor": int((np.isfinite(theirs) & np.isnan(ours)).sum()),
            "vs_ours_neither": int((np.isnan(theirs) & np.isnan(ours)).sum())}


def origins_cost(feed: str, date: str, repeat: int) -> dict:
    """``api.pt_times`` on the VRN feed from the reference points and from the
    population grid's cells (module docstring): seconds of each (median of
    ``repeat``), their ratio, the origins and how far the two times differ."""
    from accessibility import api
    from accessibility.io import clip_grid, read_gtfs, read_municipalities, read_population_grid

    data = FEED.parents[1]
    gtfs = read_gtfs(feed)  # read once: both ways pay the same day's timetable
    box = (gtfs.stops["stop_lon"].min() - 0.05, gtfs.stops["stop_lat"].min() - 0.05,
           gtfs.stops["stop_lon"].max() + 0.05, gtfs.stops["stop_lat"].max() + 0.05)
    munis = read_municipalities(data / "municipalities" / "gemeinden_2019_destatis.csv")
    inside = ((munis["lon"] >= box[0]) & (munis["lon"] <= box[2]) & (munis["lat"] >= box[1])
              & (munis["lat"] <= box[3])).to_numpy()
    munis = munis[inside].reset_index(drop=True)
    polys = read_municipalities(data / "municipalities" / "vg250_2016.gpkg")
    polys = polys[polys["ags"].isin(munis["ags"])]
    grid = clip_grid(read_population_grid(data / "population" / "zensus2022_1km_einwohner.parquet"),
                     box)
    cp = data / "central_places" / "zentrale_orte_2024.csv"
    opts = {"date": date, "population_grid": grid, "polygons": polys}
    secs_point, point = _median_time(lambda: api.pt_times(munis, gtfs, cp, **opts), repeat)
    secs_cells, cells = _median_time(lambda: api.pt_times(munis, gtfs, cp, origins="population",
                                                          **opts), repeat)
    both = point["t_pt_mz_min"].notna() & cells["t_pt_mz_min"].notna()
    diff = (cells["t_pt_mz_min"] - point["t_pt_mz_min"])[both & (point["t_pt_mz_min"] > 0)]
    return {"municipalities": len(munis), "cells": int((grid["population"] > 0).sum()),
            "origins": int(cells["pt_n_origins"].sum()),
            "with_mz_time_point": int(point["t_pt_mz_min"].notna().sum()),
            "with_mz_time_cells": int(cells["t_pt_mz_min"].notna().sum()),
            "point_s": secs_point, "population_s": secs_cells,
            "ratio": secs_cells / secs_point,
            "mz_cells_minus_point_median_min": float(diff.median()),
            "mz_cells_minus_point_mean_abs_min": float(diff.abs().mean()),
            "mz_origin_share_mean": float(cells["pt_mz_origin_share"].mean())}


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def national(fraction: float = 1.0, n_origins: int = 11_000, n_dest: int = 1_000,
             sample: int = 3) -> dict:
    """The national-size case (module docstring); returns the timings and counts."""
    from scipy.spatial import cKDTree

    from accessibility._util import peak_memory_mb

    from ._pt_synthetic import synthetic_timetable

    t = time.perf_counter()
    tt = synthetic_timetable(int(500_000 * fraction), int(20_000_000 * fraction))
    build_s = time.perf_counter() - t
    mem_build = peak_memory_mb()
    rng = np.random.default_rng(11)
    w, h = tt.x.max(), tt.y.max()
    ox, oy = rng.uniform(0, w, n_origins), rng.uniform(0, h, n_origins)
    dx, dy = rng.uniform(0, w, n_dest), rng.uniform(0, h, n_dest)
    stops = cKDTree(np.column_stack([tt.x, tt.y]))

    def near(px, py):
        m = cKDTree(np.column_stack([px, py])).sparse_distance_matrix(
            stops, 1000.0, output_type="ndarray")
        return m["i"], m["j"], transit.walk_seconds(m["v"])

    t = time.perf_counter()
    oi, oj, ow = near(ox, oy)
    _, dj, dw = near(dx, dy)
    access = pd.DataFrame({"origin": oi, "stop_id": tt.stop_ids[oj], "access_s": ow})
    legs_s = time.perf_counter() - t
    deps = np.arange(6 * 3600, 9 * 3600, 60)
    transit.window_times(transit.profile(tt, tt.stop_ids[dj[:5]], dw[:5], earliest_s=deps[0]),
                         access.head(2), deps[:2])  # compile
    t = time.perf_counter()
    prof = transit.profile(tt, tt.stop_ids[dj], dw, earliest_s=int(deps[0]))
    profile_s = time.perf_counter() - t
    t = time.perf_counter()
    times = transit.window_times(prof, access, deps)
    window_s = time.perf_counter() - t
    t = time.perf_counter()
    stats = transit.window_statistics(times)
    stats_s = time.perf_counter() - t
    # a sample against one forward scan per origin and minute
    egress = pd.Series(dw).groupby(dj).min()
    same = True
    for o in rng.choice(times.index.to_numpy(), sample, replace=False):
        acc = access[access["origin"] == o]
        for t0 in rng.choice(deps, sample, replace=False):
            ea = transit.earliest_arrival(tt, acc["stop_id"], acc["access_s"], int(t0))
            best = np.nanmin(np.concatenate([ea[egress.index] + egress.to_numpy(), [np.inf]]))
            want = best - t0 if np.isfinite(best) else np.nan
            got = times.loc[o, t0]
            same &= bool((np.isnan(want) and np.isnan(got)) or want == got)
    return {"fraction": fraction, "stops": tt.n_stops, "connections": int(tt.c_dep.size),
            "stop_times": int(tt.c_dep.size + tt.n_trips), "trips": tt.n_trips,
            "footpaths": int(tt.fp_to.size), "origins": n_origins,
            "origins_with_stop": int(times.shape[0]), "destinations": n_dest,
            "profile_pairs": prof.n_pairs, "build_s": build_s, "legs_s": legs_s,
            "profile_s": profile_s, "window_s": window_s, "stats_s": stats_s,
            "route_s": profile_s + window_s + stats_s, "peak_build_mb": mem_build,
            "peak_mb": peak_memory_mb(),
            "median_min": float(np.nanmedian(stats["t_median_min"])),
            "with_median": float(stats["t_median_min"].notna().mean()), "sample_same": same}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gtfs", default=str(FEED))
    p.add_argument("--date", default="2022-10-18")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sample", type=int, default=4)
    p.add_argument("--json")
    p.add_argument("--raptor-python", default=str(RAPTOR_PYTHON),
                   help="an interpreter with pyraptor installed (module docstring)")
    p.add_argument("--raptor-every", type=int, default=15,
                   help="pyraptor: every n-th departure minute of the sampled origins")
    p.add_argument("--raptor-rounds", type=int, default=12,
                   help="pyraptor: rounds (trips) per search")
    p.add_argument("--national", action="store_true",
                   help="the synthetic national timetable instead of the VRN feed")
    p.add_argument("--fraction", type=float, default=1.0,
                   help="with --national: this fraction of 500,000 stops / 20 M stop times")
    p.add_argument("--origins", action="store_true",
                   help="the cost of population-grid origins against reference points")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if a.origins:
        res = origins_cost(a.gtfs, a.date, a.repeat)
        print(json.dumps(res, indent=2))
        if a.json:
            Path(a.json).write_text(json.dumps(res, indent=2))
        return res
    if a.national:
        res = national(a.fraction)
        print(json.dumps(res, indent=2))
        if a.json:
            Path(a.json).write_text(json.dumps(res, indent=2))
        return res

    t = time.perf_counter()
    day = read_gtfs_day(a.gtfs, a.date)
    tt = transit.build_timetable(day.stops, day.stop_times, day.transfers)
    read_s = time.perf_counter() - t
    names = day.stops.set_index("stop_id")["stop_name"].reindex(tt.stop_ids)
    served = tt.stop_ids[np.unique(tt.c_from)]
    dest = [s for s in served if "Hauptbahnhof" in str(names[s])] or list(served[:3])
    egress = np.zeros(len(dest))
    deps = np.arange(6 * 3600, 9 * 3600, 60)
    access = pd.DataFrame({"origin": served, "stop_id": served, "access_s": 0})
    logger.info("%d stops, %d connections; %d origins x %d minutes, %d destination stops",
                tt.n_stops, tt.c_dep.size, served.size, deps.size, len(dest))

    # compile
    transit.window_times(transit.profile(tt, dest, egress), access.head(2), deps[:2])
    transit.earliest_arrival(tt, served[:1], [0], int(deps[0]))

    rows = []

    def profile_run():
        return transit.window_times(transit.profile(tt, dest, egress), access, deps)

    secs, table = _median_time(profile_run, a.repeat)
    rows.append(("csa-profile", secs, 0.0, "all origins"))

    rng = np.random.default_rng(25)
    sample = rng.choice(served, min(a.sample, served.size), replace=False)
    didx = tt.index_of(dest)

    def forward_run():
        out = np.full((sample.size, deps.size), np.nan)
        for i, s in enumerate(sample):
            for m, t0 in enumerate(deps):
                ea = transit.earliest_arrival(tt, [s], [0], int(t0))[didx]
                out[i, m] = np.nanmin(ea) - t0 if np.isfinite(ea).any() else np.nan
        return out

    secs, fwd = _median_time(forward_run, a.repeat)
    rows.append(("csa-forward", secs * served.size / sample.size, 0.0,
                 f"scaled from {sample.size} origins"))

    t = time.perf_counter()
    sidx = tt.index_of(sample)
    graph = TimeExpanded(tt, np.column_stack([np.repeat(sidx, deps.size),
                                              np.tile(deps, sidx.size)]))
    setup = time.perf_counter() - t

    def scipy_run():
        out = np.full((sample.size, deps.size), np.nan)
        for i, s in enumerate(sidx):
            for m, t0 in enumerate(deps):
                ea = graph.earliest_arrival(np.array([s]), np.array([0]), int(t0))[didx]
                out[i, m] = np.nanmin(ea) - t0 if np.isfinite(ea).any() else np.nan
        return out

    secs, ref = _median_time(scipy_run, max(1, a.repeat // 3))
    rows.append(("scipy-te", secs * served.size / sample.size, setup,
                 f"scaled from {sample.size} origins"))

    got = table.loc[sample].to_numpy()
    same = bool(np.array_equal(got, fwd, equal_nan=True)
                and np.array_equal(got, ref, equal_nan=True))
    raptor = pyraptor_check(Path(a.raptor_python), day, tt, table, sample, deps[::a.raptor_every],
                            dest, rounds=a.raptor_rounds)
    if raptor is not None:
        rows.append(("pyraptor", raptor.pop("query_s_per_search") * served.size * deps.size,
                     raptor["setup_s"], f"scaled from {sample.size} origins x "
                     f"{raptor['minutes']} minutes; its transfer rules"))
    base = next(secs for name, secs, *_ in rows if name == "scipy-te")
    print(f"VRN feed {Path(a.gtfs).name}, {a.date}: {tt.n_stops} stops, {tt.c_dep.size} "
          f"connections; {served.size} origins x {deps.size} departure minutes; read + "
          f"build {read_s:.2f} s; sample results identical: {same}")
    print(f"{'impl':<12} {'time s':>9} {'setup s':>8} {'vs scipy':>9}  note")
    for name, secs, setup_s, note in rows:
        ratio = f"{base / secs:9.1f}" if base >= secs else f"{base / secs:9.4f}"
        print(f"{name:<12} {secs:9.3f} {setup_s:8.2f} {ratio}  {note}")
    result = {"rows": rows, "identical": same, "origins": int(served.size),
              "minutes": int(deps.size), "connections": int(tt.c_dep.size)}
    if raptor is not None:
        print("pyraptor: " + ", ".join(f"{k} {v}" for k, v in raptor.items()))
        result["pyraptor"] = raptor
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
