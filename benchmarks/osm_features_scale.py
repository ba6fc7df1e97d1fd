"""OSM features and destinations of a national-size file: one pass against two (issue 28).

``python -m benchmarks.osm_features_scale --pbf FILE`` times, each in a fresh process
(clean memory high-water mark), :func:`accessibility.io.extract_features` (services,
water, crossings, buildings), :func:`accessibility.io.read_motorway_junctions` and
:func:`accessibility.io.destinations.read_osm_destinations` (junctions and airports in
one read, what a national run reads), read in one pass (a location index of every node) and in two
(:mod:`accessibility.io.osm_passes`: only the nodes of the wanted ways), and checks
that both give the same tables. Files come from ``python -m benchmarks.osm_scale
--nodes N --keep FILE --no-build`` (synthetic, a German extract's structure: most
nodes in buildings, landuse and other non-road features). ``--table A.json,B.json``
prints the tables of saved runs and a linear extrapolation to Germany's node count.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

logger = logging.getLogger("benchmarks.osm_features_scale")

READERS = ("extract_features", "extract_features_no_buildings", "read_motorway_junctions",
           "read_osm_destinations")
#: Germany's node count (Geofabrik, 2025), the extrapolation target.
GERMANY_NODES = 440e6


def _measure(task: dict) -> dict:
    from accessibility.io import extract_features, read_motorway_junctions
    from accessibility.io.destinations import read_osm_destinations
    from benchmarks.run import PeakMemory

    pbf, two = task["pbf"], task["two_pass"]
    with PeakMemory() as pm:
        t0, c0 = time.perf_counter(), time.process_time()
        if task["reader"].startswith("extract_features"):
            f = extract_features(pbf, two_pass=two,
                                 buildings=task["reader"] == "extract_features")
            out = f.counts()
            digest = _digest([f.facilities, f.water, f.crossings, f.buildings,
                              f.landuse_residential])
            if two:  # the destinations read along (kept for the next read of them)
                out["destinations_along"] = _digest(list(read_osm_destinations(pbf)))
        elif task["reader"] == "read_osm_destinations":  # junctions and airports
            j, a = read_osm_destinations(pbf, two_pass=two)
            out = {"motorway_points": len(j), "airports": len(a)}
            digest = _digest([j, a])
        else:
            j = read_motorway_junctions(pbf, two_pass=two)
            out = {"motorway_points": len(j)}
            digest = _digest([j])
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"reader": task["reader"], "two_pass": two, "seconds": dt, "cpu_s": cpu,
            "peak_rss_mb": pm.peak_abs_mb, "start_rss_mb": pm.base_mb,
            "counts": out, "digest": digest}


def _digest(frames) -> str:
    """One hash of the tables' values and geometries (the two modes must agree)."""
    import hashlib

    import pandas as pd

    h = hashlib.sha256()
    for df in frames:
        geo = "geometry" in getattr(df, "columns", ())
        plain = pd.DataFrame(df.drop(columns="geometry")) if geo else df
        h.update(pd.util.hash_pandas_object(plain, index=True).to_numpy().tobytes())
        if geo:
            h.update(b"".join(df.geometry.to_wkb().tolist()))
    return h.hexdigest()


def _child(task: dict, conn) -> None:
    from benchmarks.run import report_child

    report_child(_measure, task, conn)


def run(pbf: str, readers=READERS, modes=(False, True)) -> dict:
    """Every reader in every mode, each in a fresh process."""
    from benchmarks.run import run_spawned

    meta_path = Path(str(pbf) + ".json")
    meta = json.loads(meta_path.read_text()).get("file", {}) if meta_path.exists() else {}
    rows = []
    for reader in readers:
        for two in modes:
            load = os.getloadavg()[0]
            r = run_spawned(_child, {"pbf": str(pbf), "reader": reader, "two_pass": two},
                            f"feat-{reader[:8]}")
            r.update(reader=reader, two_pass=two, load_1min=round(load, 2))
            rows.append(r)
            logger.info("%s two_pass=%s: %s", reader, two,
                        {k: r.get(k) for k in ("seconds", "peak_rss_mb", "error")})
    for reader in readers:  # both modes must give the same tables
        d = {r.get("digest") for r in rows if r["reader"] == reader}
        for r in rows:
            if r["reader"] == reader:
                r["same_as_other_mode"] = len(d) == 1 and None not in d
    apart = {r.get("digest") for r in rows if r["reader"] == "read_osm_destinations"}
    for r in rows:  # the destinations read along equal those read apart
        along = r.get("counts", {}).pop("destinations_along", None)
        if along is not None and apart:
            r["destinations_along_same"] = {along} == apart
    return {"pbf": str(pbf), "pbf_bytes": Path(pbf).stat().st_size,
            "nodes": meta.get("nodes"), "ways": meta.get("ways"), "rows": rows}


def format_table(results: list[dict]) -> str:
    """One row per reader and mode, one column group per file."""
    head = "| reader | mode | " + " | ".join(
        f"{_n(r['nodes'])} nodes: s | CPU s | peak RSS MB | load" for r in results) + " |"
    lines = [head, "|" + "---|" * (2 + 4 * len(results))]
    for reader in READERS:
        for two in (False, True):
            cells = []
            for res in results:
                r = next((x for x in res["rows"] if x["reader"] == reader
                          and x["two_pass"] == two), None)
                cells += (["-"] * 4 if r is None or "error" in r else
                          [f"{r['seconds']:.1f}", f"{r['cpu_s']:.1f}",
                           f"{r['peak_rss_mb']:,.0f}", f"{r['load_1min']:.1f}"])
            lines.append(f"| {reader} | {'two passes' if two else 'one pass'} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


def extrapolate(a: dict, b: dict, nodes: float = GERMANY_NODES,
                key: str = "seconds") -> list[dict]:
    """``key`` (seconds) and peak MB linear in the node count through the two files'
    points, per reader and mode (rows of readers measured on both files)."""
    out = []
    for ra in a["rows"]:
        rb = next((x for x in b["rows"] if x["reader"] == ra["reader"]
                   and x["two_pass"] == ra["two_pass"]), None)
        if rb is None or "error" in ra or "error" in rb:
            continue
        row = {"reader": ra["reader"], "two_pass": ra["two_pass"]}
        for k in (key, "peak_rss_mb"):
            slope = (rb[k] - ra[k]) / (b["nodes"] - a["nodes"])
            row[k] = ra[k] + slope * (nodes - a["nodes"])
        out.append(row)
    return out


def _n(v) -> str:
    return "?" if not v else f"{v / 1e6:g} M"


def main(argv=None) -> dict | None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.osm_features_scale",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--pbf", help="the OSM file (from benchmarks.osm_scale --keep)")
    p.add_argument("--readers", default=",".join(READERS))
    p.add_argument("--modes", default="no,yes", help="two_pass values: no,yes")
    p.add_argument("--json", default=None, help="write the result here")
    p.add_argument("--table", default=None, metavar="A.json[,B.json]",
                   help="print the tables of saved results (and extrapolate with two)")
    p.add_argument("--to-nodes", type=float, default=GERMANY_NODES)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    if args.table:
        res = [json.loads(Path(x).read_text()) for x in args.table.split(",")]
        print(format_table(res))
        if len(res) == 2:
            print(f"\nextrapolated to {args.to_nodes / 1e6:g} M nodes (linear):\n")
            for r in extrapolate(*res, nodes=args.to_nodes, key="cpu_s"):
                print(f"- {r['reader']} ({'two passes' if r['two_pass'] else 'one pass'}): "
                      f"{r['cpu_s']:.0f} CPU s, peak {r['peak_rss_mb']:,.0f} MB")
        return None
    if not args.pbf:
        p.error("--pbf FILE or --table is needed")
    modes = tuple({"no": False, "yes": True}[m] for m in args.modes.split(","))
    res = run(args.pbf, tuple(args.readers.split(",")), modes)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    print(format_table([res]))
    return res


if __name__ == "__main__":
    main()
