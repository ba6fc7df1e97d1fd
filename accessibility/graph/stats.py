"""Statistics of a built graph for reports: counts, km by road class, what the
largest strongly connected component dropped."""

from __future__ import annotations

from .._util import peak_memory_mb
from .core import RoadGraph


def graph_statistics(graph: RoadGraph, seconds: float | None = None) -> dict:
    """Statistics of a built graph for reports (counts, km by class, SCC share)."""
    simp = graph.meta.get("simplify", {})
    scc = simp.get("scc", {})
    stats = {
        "source": graph.meta.get("source"),
        "profile": graph.meta.get("profile"),
        "nodes_raw": simp.get("nodes_raw"), "edges_raw": simp.get("edges_raw"),
        "nodes": graph.n_nodes, "edges": graph.n_edges,
        "scc_node_share_kept": scc.get("node_share_kept"),
        "scc_components": scc.get("components"),
        "scc_nodes_dropped": scc.get("nodes_dropped"),
        "scc_km_dropped": scc.get("km_dropped"),
        "scc_km_dead_end_by_class": scc.get("km_dead_end_by_class"),
        "scc_km_island_by_class": scc.get("km_island_by_class"),
        "km_by_class_raw": simp.get("km_by_class_raw"),
        "km_by_class": graph.km_by_class(),
        "missing_way_nodes": graph.meta.get("missing_way_nodes"),
        "ways_closed_to_cars": graph.meta.get("ways_closed_to_cars"),
        "graph_mb": graph.nbytes / 1e6,
        "peak_memory_mb": peak_memory_mb(),
    }
    if seconds is not None:
        stats["build_s"] = seconds
    return stats


def format_graph_statistics(stats: dict) -> str:
    """Human-readable multi-line text of :func:`graph_statistics`."""
    src = stats.get("source") or "a graph given as arrays (no source file recorded)"
    prof = stats.get("profile")
    lines = [f"graph of {src}" + (f" (profile {prof})" if prof else "")]
    if stats.get("nodes_raw") is not None:
        lines.append(f"  nodes: {stats['nodes_raw']:>10,} raw -> {stats['nodes']:>9,} simplified")
        lines.append(f"  edges: {stats['edges_raw']:>10,} raw -> {stats['edges']:>9,} simplified")
    else:
        lines.append(f"  nodes: {stats['nodes']:,}  edges: {stats['edges']:,}")
    if stats.get("scc_node_share_kept") is not None:
        lines.append(f"  largest strongly connected component: {stats['scc_node_share_kept']:.1%} "
                     f"of raw nodes kept ({stats['scc_components']:,} components, "
                     f"{stats['scc_nodes_dropped']:,} nodes and {stats['scc_km_dropped']:.1f} km dropped)")
    raw = stats.get("km_by_class_raw") or {}
    lines.append("  km by road class (directed):" + ("        raw    kept" if raw else ""))
    for cls, km in sorted(stats["km_by_class"].items(), key=lambda kv: -kv[1]):
        extra = f"{raw.get(cls, 0.0):>9.1f} " if raw else ""
        lines.append(f"    {cls:<16}{extra}{km:>9.1f}")
    if stats.get("build_s") is not None:
        lines.append(f"  build time {stats['build_s']:.2f} s, peak memory {stats['peak_memory_mb']:.0f} MB, "
                     f"graph {stats['graph_mb']:.1f} MB")
    return "\n".join(lines)


def dropped_classes(stats: dict, *, min_share: float = 0.10, min_km: float = 1.0
                    ) -> list[tuple[str, float, float]]:
    """Road classes the simplification (largest strongly connected component) cut by
    more than ``min_share`` of their length and ``min_km``: ``(class, raw km, kept km)``.
    """
    raw = stats.get("km_by_class_raw") or {}
    kept = stats.get("km_by_class") or {}
    out = []
    for cls, km in sorted(raw.items(), key=lambda kv: -kv[1]):
        k = kept.get(cls, 0.0)
        if km - k >= min_km and (km - k) / km > min_share:
            out.append((cls, float(km), float(k)))
    return out


def dropped_lines(stats: dict) -> list[str]:
    """Warnings for :func:`dropped_classes`, saying what was dropped and what it means
    for the results."""
    rows = dropped_classes(stats)
    if not rows:
        return []
    parts = ", ".join(f"{c} {raw - kept:.1f} of {raw:.1f} km ({(raw - kept) / raw:.0%})"
                      for c, raw, kept in rows)
    dead = stats.get("scc_km_dead_end_by_class")
    island = stats.get("scc_km_island_by_class")
    line = f"The connectivity step (largest strongly connected component) dropped {parts}."
    if dead is not None and island is not None:
        line += (f" Of all dropped roads, {sum(dead.values()):.1f} km are dead ends (pieces that "
                 "lead only into or only out of the kept network, e.g. one-way carriageways cut "
                 "at the extract's edge: times between kept roads are unaffected) and "
                 f"{sum(island.values()):.1f} km lie on islands joined to the network only "
                 "outside the extract: places there attach to the nearest kept road or, "
                 "beyond max_snap_m, get no value.")
    return [line + " A larger extract around the region keeps them."]
