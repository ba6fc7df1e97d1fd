"""The whole national run (issue 28), composed of measured parts.

``python -m benchmarks.national --whole CAR.json,WALK.json[,FEAT_A.json,FEAT_B.json]``
adds up, stage by stage, what the national benchmarks measured separately:

* the car run (:mod:`benchmarks.national`: central places, Lage with settlement
  types, GVB tables, writing, the PNG and HTML maps) and the calibrated Lage;
* the walk model on ~3 million synthetic 100 m cells in tiles
  (:mod:`benchmarks.walk_national`, the in-process variant);
* reading the OSM features of a Germany-size file (services, water, crossings,
  buildings) and the motorway junctions in two passes, **extrapolated** linearly in
  the node count from two synthetic file sizes (:mod:`benchmarks.osm_features_scale`),
  as the graph build was;
* the graph build from the PBF: the extrapolation of ``benchmarks/results/osm_scale.md``
  (:data:`GRAPH_BUILD`), a one-time cost (the graph cache makes reruns skip it).

The stages of a run follow one another, so the run's peak is the largest stage peak
(plus what a stage keeps for the next: the cells' distances, a few hundred MB), and
its time the sum. Isochrones, the 60-minute matrix and the scenario batch are the
other half of issue 28 and not measured here (rows say so).
"""

from __future__ import annotations

#: Germany's graph build from the PBF, extrapolated in benchmarks/results/osm_scale.md
#: (two-pass read, ~440 M nodes): seconds and peak MB.
GRAPH_BUILD = {"s": 5.7 * 60, "peak_mb": 5.5 * 1024}
TARGET_S = 15 * 60
#: The OSM reads of a national run: features without buildings (a 100 m grid), which
#: read the motorway junctions and airports along since issue 28's osmread part (before:
#: a read of the junctions, and one of the airports that the sum missed).
NATIONAL_READERS = ("extract_features_no_buildings",)
#: What the synthetic files lack: multipolygon relations, whose member ways' nodes take
#: the features' first pass one more read of the ways. A ways-only read of the synthetic
#: files (0.72 CPU s at 5 M nodes, 2.48 at 20 M, load 13), extrapolated to Germany.
MEMBER_WAYS_READ = {"s": 0.72 + (2.48 - 0.72) / 15e6 * (440e6 - 5e6), "peak_mb": 0.0}
#: Inhabited 100 m cells of Germany (about 3.1 million in the 2011 Census grid).
WALK_CELLS = 3_000_000
TARGET_MB = 8 * 1024


def _feature_rows(a: dict, b: dict) -> list[dict]:
    from benchmarks.osm_features_scale import extrapolate

    rows = []
    for r in extrapolate(a, b, key="cpu_s"):
        if not r["two_pass"] or r["reader"] not in NATIONAL_READERS:
            continue  # with buildings, or an earlier version: see the features' table
        along = " with the destinations read along" if "features" in r["reader"] else ""
        rows.append({"stage": f"OSM {r['reader']} (two passes){along}, Germany-size file",
                     "s": r["cpu_s"], "peak_mb": r["peak_rss_mb"],
                     "how": f"extrapolated, CPU s, from {a['nodes'] / 1e6:g} M and "
                            f"{b['nodes'] / 1e6:g} M synthetic nodes"})
    return rows


def _walk_row(walk: list) -> dict:
    """The walk model on :data:`WALK_CELLS` cells: measured, or extrapolated linearly
    in the cell count from the two largest runs. Seconds are CPU seconds (the
    machine was shared: an upper bound of the wall time on an idle one)."""
    local = sorted((r for r in walk if r.get("variant") == "local" and "error" not in r),
                   key=lambda r: r["cells"])
    big = [r for r in local if r["cells"] >= 0.95 * WALK_CELLS]
    if big:
        r = min(big, key=lambda x: x["load_start"])  # the least loaded run
        return {"stage": f"walk model, {r['cells']:,} synthetic cells in tiles",
                "s": r["cpu_s"], "peak_mb": r["peak_rss_mb"],
                "how": f"measured, CPU s (benchmarks.walk_national; {r['seconds']:.0f} s "
                       f"wall at load {r['load_start']:.0f}-{r['load_end']:.0f})"}
    a, b = local[-2], local[-1]

    def at(k):
        return a[k] + (b[k] - a[k]) / (b["cells"] - a["cells"]) * (WALK_CELLS - a["cells"])

    return {"stage": f"walk model, {WALK_CELLS:,} synthetic cells in tiles",
            "s": at("cpu_s"), "peak_mb": at("peak_rss_mb"),
            "how": f"extrapolated, CPU s, from {a['cells']:,} and {b['cells']:,} cells"}


def whole_run(car: dict, walk: list, feat_a: dict | None = None,
              feat_b: dict | None = None) -> dict:
    """The rows, the totals and a Markdown table. ``walk``: the rows of one or more
    :mod:`benchmarks.walk_national` runs."""
    cold = car["runs"]["cold"]
    rows = [{"stage": "car run, cold (central places, Lage + settlement types, tables, maps)",
             "s": cold["total_s"], "peak_mb": cold["peak_mb"],
             "how": "measured (benchmarks.national, synthetic 4 M-node graph)"}]
    cal = cold.get("lage_calibrated")
    if cal:
        rows.append({"stage": "national Lage with calibration (cold)", "s": cal["s"],
                     "peak_mb": cal["peak_mb"], "how": "measured, same run"})
    rows.append(_walk_row(walk))
    if feat_a and feat_b:
        rows += _feature_rows(feat_a, feat_b)
        rows.append({"stage": "OSM features: the read of the relations' member ways "
                              "(real files have multipolygons, the synthetic ones none)",
                     "s": MEMBER_WAYS_READ["s"], "peak_mb": MEMBER_WAYS_READ["peak_mb"],
                     "how": "estimated: a ways-only read of the synthetic files, "
                            "extrapolated"})
    rows.append({"stage": "graph build from the Germany PBF (once; cached afterwards)",
                 "s": GRAPH_BUILD["s"], "peak_mb": GRAPH_BUILD["peak_mb"],
                 "how": "extrapolated (osm_scale.md)"})
    for name in ("isochrones (1,100 centres x 3 bands)", "60-minute matrix",
                 "ten-scenario batch"):
        rows.append({"stage": name, "s": None, "peak_mb": None,
                     "how": "issue 28 part A (not measured here)"})
    known = [r for r in rows if r["s"] is not None]
    total_s = sum(r["s"] for r in known)
    peak = max(r["peak_mb"] for r in known)
    lines = ["| stage | s | peak MB | how |", "|---|---|---|---|"]
    for r in rows:
        s = "-" if r["s"] is None else f"{r['s']:,.1f}"
        pk = "-" if r["peak_mb"] is None else f"{r['peak_mb']:,.0f}"
        lines.append(f"| {r['stage']} | {s} | {pk} | {r['how']} |")
    lines.append(f"| **total (sum; peak = largest stage)** | **{total_s:,.0f}** | "
                 f"**{peak:,.0f}** | target < {TARGET_S:.0f} s, < {TARGET_MB:,} MB: "
                 f"{'met' if total_s < TARGET_S and peak < TARGET_MB else 'not met'} |")
    return {"rows": rows, "total_s": total_s, "peak_mb": peak, "markdown": "\n".join(lines)}
