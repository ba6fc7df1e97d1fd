"""Public-transport benchmark: door-to-door times over a departure window on the VRN feed.

Usage::

    python -m benchmarks.pt [--gtfs FEED] [--date 2022-10-18] [--repeat 3]
        [--sample 4] [--json F]

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

The forward and scipy runs take ``--sample`` origins and are scaled to all origins
linearly (marked ``scaled``); their times are checked against the profile's.
Medians of ``--repeat`` runs, numba compiled before timing. Only the table is
printed on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
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


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gtfs", default=str(FEED))
    p.add_argument("--date", default="2022-10-18")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sample", type=int, default=4)
    p.add_argument("--json")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

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
    base = rows[-1][1]
    print(f"VRN feed {Path(a.gtfs).name}, {a.date}: {tt.n_stops} stops, {tt.c_dep.size} "
          f"connections; {served.size} origins x {deps.size} departure minutes; read + "
          f"build {read_s:.2f} s; sample results identical: {same}")
    print(f"{'impl':<12} {'time s':>9} {'setup s':>8} {'vs scipy':>9}  note")
    for name, secs, setup_s, note in rows:
        print(f"{name:<12} {secs:9.3f} {setup_s:8.2f} {base / secs:9.1f}  {note}")
    result = {"rows": rows, "identical": same, "origins": int(served.size),
              "minutes": int(deps.size), "connections": int(tt.c_dep.size)}
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
