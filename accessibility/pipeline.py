"""The main job: configuration in, per-municipality results and reports out."""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

from ._errors import InputError
from .config import Config, load_config
from .graph import RoadGraph, build_graph, snap_points
from .io import write_json, write_text

logger = logging.getLogger(__name__)


def sample_dir() -> Path:
    """Directory of the embedded sample (Hannover–Braunschweig)."""
    return Path(str(resources.files("accessibility") / "data"))


def sample_config_path() -> Path:
    """The config that runs the embedded sample."""
    return sample_dir() / "example_config.toml"


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux: ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class RunResult:
    """What a run produced."""

    output_dir: Path
    graph: RoadGraph
    municipalities: object = None
    files: dict[str, Path] = field(default_factory=dict)
    summary: str = ""
    stats: dict = field(default_factory=dict)


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
    lines = [f"graph of {stats['source']} (profile {stats['profile']})"]
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


def run(config: Config | str | Path | None = None, output_dir: str | Path | None = None,
        overrides: dict | None = None) -> RunResult:
    """Run the main job.

    Parameters
    ----------
    config : Config, path or None
        A loaded config, a TOML file, or None for the embedded sample.
    output_dir : path, optional
        Overrides ``[output] dir``.
    overrides : dict, optional
        Dotted keys overriding the config (``{"inputs.osm": "x.pbf"}``).
    """
    t0 = time.perf_counter()
    if config is None and output_dir is None:
        output_dir = Path("out")  # never write into the installed package
    if not isinstance(config, Config):
        config = load_config(config if config is not None else sample_config_path(), overrides)
    elif overrides:
        raise InputError("pass overrides together with a config path, not a loaded Config")
    out = Path(output_dir) if output_dir is not None else Path(config.output.dir)
    out.mkdir(parents=True, exist_ok=True)
    inp = config.inputs
    if inp.osm is None:
        raise InputError("no OSM input: set [inputs] osm in the config or pass --osm FILE")

    munis = None
    keep_points = None
    if inp.municipalities is not None:
        from .io import read_municipalities
        munis = read_municipalities(inp.municipalities, layer=inp.municipalities_layer)
        has_point = munis["lon"].notna().to_numpy()
        keep_points = (munis["lon"].to_numpy()[has_point], munis["lat"].to_numpy()[has_point])

    t = time.perf_counter()
    cache = config.graph.cache_dir or (out / "cache")
    graph = build_graph(inp.osm, config.graph.profile, simplify_graph=config.graph.simplify,
                        keep_points=keep_points, max_snap_m=config.graph.max_snap_m,
                        crs=config.graph.metric_crs, cache_dir=cache)
    stats = {"graph": graph_statistics(graph, time.perf_counter() - t)}
    summary = ["# Accessibility run", "", "```", format_graph_statistics(stats["graph"]), "```", ""]

    if munis is not None:
        munis, snap_lines = attach_to_network(graph, munis, config)
        summary += ["## Municipalities", ""] + snap_lines + [""]
        stats["municipalities"] = {"total": len(munis), "in_network": int(munis["in_network"].sum())}

    files = {"graph_stats": write_json(stats["graph"], out / "graph_stats.json")}
    stats["run_s"] = time.perf_counter() - t0
    summary += [f"Run time {stats['run_s']:.1f} s, peak memory {peak_memory_mb():.0f} MB.", ""]
    text = "\n".join(summary)
    files["summary"] = write_text(text, out / "summary.md")
    return RunResult(output_dir=out, graph=graph, municipalities=munis, files=files,
                     summary=text, stats=stats)


def attach_to_network(graph: RoadGraph, munis, config: Config):
    """Snap municipality reference points; flag those outside the network extent.

    Adds columns ``node`` (-1 when not on the network), ``snap_m``, ``access_s``
    and ``in_network``. Municipalities farther than ``max_snap_m`` from every road
    (outside a regional extract, or points in the sea) are reported and left out
    of the routing, never snapped across the map.
    """
    munis = munis.copy()
    has_point = munis["lon"].notna().to_numpy()
    node = np.full(len(munis), -1, np.int64)
    dist = np.full(len(munis), np.nan)
    acc = np.full(len(munis), np.nan)
    snap = snap_points(graph, munis["lon"].to_numpy()[has_point], munis["lat"].to_numpy()[has_point],
                       max_distance_m=config.graph.max_snap_m,
                       access_speed_kmh=config.graph.access_speed_kmh,
                       ids=munis["ags"].to_numpy()[has_point])
    node[has_point], dist[has_point], acc[has_point] = snap.node, snap.distance_m, snap.access_time_s
    munis["node"] = node
    munis["snap_m"] = dist
    munis["access_s"] = acc
    munis["in_network"] = node >= 0
    n_out = int((~munis["in_network"]).sum())
    lines = [f"{len(munis):,} municipalities read, {int(munis['in_network'].sum()):,} on the network "
             f"(snapped within {config.graph.max_snap_m:,.0f} m)."]
    if n_out:
        lines.append(f"{n_out:,} municipalities are outside the network extent or have no "
                     "reference point and are left out of the routing (first: "
                     + ", ".join(f"{a} {n}" for a, n in zip(munis.loc[~munis['in_network'], 'ags'][:5],
                                                             munis.loc[~munis['in_network'], 'name'][:5]))
                     + ").")
        logger.warning(lines[-1])
    return munis, lines
