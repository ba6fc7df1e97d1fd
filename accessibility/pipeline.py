"""The main job: configuration in, per-municipality results and reports out."""

from __future__ import annotations

import logging
import os
import resource
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import InputError
from .config import Config, load_config
from .graph import RoadGraph, build_graph
from .io import write_json, write_municipality_outputs, write_table, write_text
from .models.common import snap_reference_points

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
    config = _load_config(config, overrides)
    final = Path(output_dir) if output_dir is not None else Path(config.output.dir)
    check_inputs(config)  # fail before any slow stage, not half-way through
    final.mkdir(parents=True, exist_ok=True)
    if config.graph.cache_dir is None:  # the cache lives in the output dir, not the staging dir
        config = replace(config, graph=replace(config.graph, cache_dir=final / "cache"))
    # Every file of a run is written into a staging directory and moved into place
    # only when the whole run succeeded: a failed run leaves the previous results as
    # they were, never a mix of two runs.
    out = Path(tempfile.mkdtemp(prefix=".run-", dir=final))
    try:
        result = _run_stages(config, out, t0)
        result.files = _publish(out, final, result.files)
        result.output_dir = final
        return result
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _run_stages(config: Config, out: Path, t0: float) -> RunResult:
    inp = config.inputs
    graph, munis, stats, summary = prepare(config, out)
    files = {}
    if munis is not None:
        columns = {}
        polygons = municipality_polygons(munis, config)
        if inp.central_places is not None:
            munis, cp_summary, cp_files = run_central_places(graph, munis, config, out, polygons)
            summary += cp_summary
            files.update(cp_files)
            from .models.central_places import COLUMNS as CP_COLUMNS
            columns.update(CP_COLUMNS)
        munis, lage_summary_lines, lage_files = run_lage_stage(graph, munis, config, out)
        summary += lage_summary_lines
        files.update(lage_files)
        from .models.lage import COLUMNS as LAGE_COLUMNS
        columns.update(LAGE_COLUMNS)
        munis, walk_lines, walk_files = run_walk_stage(munis, config, out, polygons)
        summary += walk_lines
        files.update(walk_files)
        if walk_files:
            from .models.walkability import column_docs
            columns.update(column_docs(config.walk.methods))
        if not isinstance(munis, gpd.GeoDataFrame):
            munis = gpd.GeoDataFrame(munis, geometry=gpd.points_from_xy(munis["lon"], munis["lat"]),
                                     crs="EPSG:4326")
        out_cols = munis.drop(columns=["node", "access_s"], errors="ignore")
        files.update(write_municipality_outputs(out_cols, out, formats=config.output.formats))
        files["columns"] = write_table(pd.DataFrame({"column": list(columns),
                                                     "meaning": list(columns.values())}),
                                       out / "columns.csv")

    files["graph_stats"] = write_json(stats["graph"], out / "graph_stats.json")
    stats["run_s"] = time.perf_counter() - t0
    summary += [f"Run time {stats['run_s']:.1f} s, peak memory {peak_memory_mb():.0f} MB.", ""]
    text = "\n".join(summary)
    files["summary"] = write_text(text, out / "summary.md")
    return RunResult(output_dir=out, graph=graph, municipalities=munis, files=files,
                     summary=text, stats=stats)


#: Files a run may write; those an earlier run left that this run does not write are
#: removed when the new results are published, so the directory holds one run only.
OUTPUT_PATTERNS = ("municipalities.*", "columns.csv", "gvb*.csv", "kreis*.csv", "land.csv",
                   "total.csv", "class_shares.csv", "lage_by_settlement_type.csv", "map_*.png",
                   "walk_*", "summary.md", "graph_stats.json")


def _publish(stage: Path, final: Path, files: dict) -> dict:
    """Move a finished run's files from the staging directory into ``final``."""
    produced = {p.name for p in stage.iterdir()}
    for pattern in OUTPUT_PATTERNS:
        for old in final.glob(pattern):
            if old.is_file() and old.name not in produced:
                old.unlink()
    for p in stage.iterdir():
        os.replace(p, final / p.name)
    return {k: final / Path(v).name for k, v in files.items()}


def check_inputs(config: Config) -> None:
    """Every configured input file exists, before anything runs."""
    missing = [f"[inputs] {k} = {v}" for k, v in vars(config.inputs).items()
               if isinstance(v, Path) and not v.exists()]
    if config.walk.services is not None and not Path(config.walk.services).exists():
        missing.append(f"[walk] services = {config.walk.services}")
    if missing:
        raise InputError("input files not found: " + "; ".join(missing)
                         + ". Fix the paths in the config or the command-line flags.")
    if config.inputs.facilities is not None:
        read_facilities(config.inputs.facilities)


def _load_config(config, overrides):
    if config is None:
        config = sample_config_path()
    if not isinstance(config, Config):
        return load_config(config, overrides)
    if overrides:
        raise InputError("pass overrides together with a config path, not a loaded Config")
    return config


def prepare(config: Config, out: Path):
    """Read the municipalities, build (or load the cached) graph and snap them.

    Returns the graph, the municipality table with network columns (or None),
    statistics and the first summary lines.
    """
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
        munis, data_lines = _check_municipality_data(munis)
        summary += ["## Municipalities", ""] + snap_lines + data_lines + [""]
        stats["municipalities"] = {"total": len(munis), "in_network": int(munis["in_network"].sum())}
    return graph, munis, stats, summary


def _graph_and_municipalities(config, overrides, output_dir, command: str):
    """Config, graph and snapped municipalities for the calibration commands."""
    config = _load_config(config, overrides)
    out = Path(output_dir) if output_dir is not None else Path("out")
    out.mkdir(parents=True, exist_ok=True)
    graph, munis, _, _ = prepare(config, out)
    if munis is None:
        raise InputError(f"{command} needs municipalities: set [inputs] municipalities")
    return config, graph, munis


def calibrate(config: Config | str | Path | None, references: str | Path, *,
              output_dir: str | Path | None = None, out_profile: str | Path | None = None,
              overrides: dict | None = None, bounds: tuple[float, float] = (0.5, 2.0),
              iterations: int = 10):
    """Fit per-road-class speed factors to reference travel times (see
    :mod:`accessibility.models.calibration`) on the graph and municipalities of a run."""
    from .io import join_central_places, read_central_places
    from .models.calibration import run_calibration

    config, graph, munis = _graph_and_municipalities(config, overrides, output_dir, "calibrate")
    if config.inputs.central_places is not None:
        cp = read_central_places(config.inputs.central_places)
        joined, _ = join_central_places(munis.drop(columns=["central_place"], errors="ignore"), cp)
        munis["central_place"] = joined["central_place"].to_numpy()
    return run_calibration(graph, munis, references, base_profile=config.graph.profile,
                           out_profile=out_profile, bounds=bounds, iterations=iterations)


def _check_municipality_data(munis):
    """Say what is missing in the municipality table, and fall back where honest.

    A municipality without a Gemeindeverband key counts as its own Gemeindeverband
    (as an Einheitsgemeinde does); missing populations are reported, because every
    population-weighted value and the Lage depend on them.
    """
    lines = []
    gvb = munis["gvb"] if "gvb" in munis.columns else pd.Series(np.nan, index=munis.index)
    no_gvb = gvb.isna() | (gvb.astype(str).str.strip() == "")
    if no_gvb.any():
        munis = munis.assign(gvb=np.where(no_gvb, munis["ags"], gvb))
        lines.append(f"{int(no_gvb.sum()):,} municipalities have no Gemeindeverband key and count "
                     "as their own Gemeindeverband (GVB tables and settlement types per municipality).")
        logger.warning(lines[-1])
    pop = munis["population"] if "population" in munis.columns else pd.Series(np.nan, index=munis.index)
    if pop.isna().all():
        lines.append("The municipality table has no population: population-weighted means, "
                     "the Lage and the settlement types cannot be computed.")
        logger.warning(lines[-1])
    elif pop.isna().any():
        lines.append(f"{int(pop.isna().sum()):,} municipalities have no population (first: "
                     f"{', '.join(munis.loc[pop.isna(), 'ags'].astype(str)[:5])}); they count as 0 "
                     "in population weights and potentials.")
        logger.warning(lines[-1])
    return munis, lines


def attach_to_network(graph: RoadGraph, munis, config: Config):
    """Snap municipality reference points; flag those outside the network extent.

    Adds columns ``node`` (-1 when not on the network), ``snap_m``, ``access_s``
    and ``in_network``. Municipalities farther than ``max_snap_m`` from every road
    (outside a regional extract, or points in the sea) are reported and left out
    of the routing, never snapped across the map.
    """
    munis = munis.copy()
    ref = snap_reference_points(graph, munis, max_snap_m=config.graph.max_snap_m,
                                access_speed_kmh=config.graph.access_speed_kmh)
    munis["node"] = ref.node
    munis["snap_m"] = ref.snap_m
    munis["access_s"] = ref.access_s
    munis["in_network"] = ref.on_network
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


def _md_table(df, floatfmt: str = "{:,.1f}") -> str:
    """A DataFrame as a Markdown table (no extra dependency)."""
    def fmt(v):
        if isinstance(v, float):
            return floatfmt.format(v) if np.isfinite(v) else ""
        return f"{v:,}" if isinstance(v, (int, np.integer)) else str(v)
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep] + rows)


def _share_table(t) -> str:
    t = t.copy()
    t["share_municipalities"] = (100 * t["share_municipalities"]).map("{:.1f} %".format)
    t["share_population"] = (100 * t["share_population"]).map("{:.1f} %".format)
    return _md_table(t, "{:,.0f}")


def municipality_polygons(munis, config: Config):
    """Municipality polygons with ``ags``: the boundaries input, else the polygons of
    the municipality layer itself, else None (read once per run)."""
    if config.inputs.boundaries is not None:
        from .io import read_municipalities
        return read_municipalities(config.inputs.boundaries)
    if isinstance(munis, gpd.GeoDataFrame) and munis.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        return munis[["ags", "geometry"]]
    return None


def run_central_places(graph: RoadGraph, munis, config: Config, out: Path, polygons=None):
    """The central-place stage of a run: model, tables, summary, maps.

    Returns the municipality table with the results, summary lines and files.
    """
    from .io import join_central_places, read_central_places, read_population_grid
    from .models.central_places import central_place_access, class_order, class_shares, \
        weighted_means

    cfg, inp = config.central_places, config.inputs
    table = read_central_places(inp.central_places)
    joined, join_report = join_central_places(munis.drop(columns=["node", "snap_m", "access_s",
                                                                   "in_network"]), table)
    grid = None
    if cfg.origins == "population":
        if inp.population_grid is None:
            raise InputError("[central_places] origins = 'population' needs [inputs] "
                             "population_grid (or --population-grid)")
        lon, lat = joined["lon"].dropna(), joined["lat"].dropna()
        pad = 0.1
        grid = read_population_grid(inp.population_grid, bbox=(lon.min() - pad, lat.min() - pad,
                                                                 lon.max() + pad, lat.max() + pad))
    res, rep = central_place_access(
        graph, joined, origins=cfg.origins, population_grid=grid, polygons=polygons,
        area_grid_m=cfg.area_grid_m, max_snap_m=config.graph.max_snap_m,
        access_speed_kmh=config.graph.access_speed_kmh)
    net = munis.set_index("ags")["in_network"]
    res["in_network"] = net.reindex(res["ags"]).fillna(False).to_numpy(bool)
    if polygons is not None:  # planners want polygons in the GeoPackage
        geo = polygons.drop_duplicates("ags").set_index("ags").geometry.to_crs("EPSG:4326")
        poly = geo.reindex(res["ags"]).to_numpy()
        res = res.set_geometry(np.where(pd.isna(poly), res.geometry.to_numpy(), poly))
    files = {}
    values = ["t_mz_min", "t_oz_min"]
    for level in ("gvb", "kreis", "land"):
        files[f"{level}_table"] = write_table(weighted_means(res, level, values), out / f"{level}.csv")
    total = weighted_means(res, None, values)
    files["total_table"] = write_table(total, out / "total.csv")
    mz, oz = class_shares(res, "mz"), class_shares(res, "oz")
    files["class_shares"] = write_table(pd.concat([mz.assign(indicator="mz"), oz.assign(indicator="oz")]),
                                        out / "class_shares.csv")
    t = total.iloc[0]
    lines = ["## Central places: car time to the nearest Mittelzentrum and Oberzentrum", ""]
    lines += join_report.lines() + rep.lines() + [""]
    # [central_places] weighting picks the headline; the tables carry both weightings
    main, other = (("area", "pop") if cfg.weighting == "area" else ("pop", "area"))
    name = {"area": "area-weighted (INKAR)", "pop": "population-weighted (Deutschlandatlas)"}
    lines += [f"Mean over the run, {name[main]}: MZ {t[f't_mz_min_{main}_w']:.1f} min, OZ "
              f"{t[f't_oz_min_{main}_w']:.1f} min ({name[other]}: MZ "
              f"{t[f't_mz_min_{other}_w']:.1f}, OZ {t[f't_oz_min_{other}_w']:.1f} min).", ""]
    lines += ["### Time to the nearest Mittelzentrum (MZ or OZ)", "", _share_table(mz), ""]
    lines += ["### Time to the nearest Oberzentrum", "", _share_table(oz), ""]
    if config.output.maps:
        from .maps import map_catchments, map_categories, map_values
        files["map_oz"] = map_values(res, "t_oz_min", out / "map_oz_time.png",
                                     title="Car time to the nearest Oberzentrum",
                                     label="minutes")
        files["map_oz_class"] = map_categories(res, "oz_class", out / "map_oz_class.png",
                                               title="Oberzentrum: BBSR classes",
                                               order=class_order("oz"))
        centres = res[res["central_place"].isin(["Oberzentrum", "Mittelzentrum"])
                      & res["t_mz_min"].notna()]
        centres = gpd.GeoDataFrame(centres[["name"]], crs="EPSG:4326",
                                   geometry=gpd.points_from_xy(centres["lon"], centres["lat"]))
        files["map_mz_catchments"] = map_catchments(
            res, "nearest_mz_ags", centres, out / "map_mz_catchments.png",
            title="Mittelbereiche: catchments of the nearest Mittel-/Oberzentrum by car")
    for name, f in files.items():
        logger.debug("wrote %s: %s", name, f)
    return res, lines, files


def lage_decay(config: Config):
    """The decay function of ``[lage]``."""
    from .routing import Decay

    c = config.lage
    return Decay(c.decay, beta=c.beta, sigma_min=c.sigma_min, floor_min=c.floor_min)


def run_lage_stage(graph: RoadGraph, munis, config: Config, out: Path):
    """The Lage stage: daytime population, 2-hour potential, Lage and settlement type."""
    from .io import read_commuters
    from .models.lage import lage_summary, run_lage

    c = config.lage
    if "population" not in munis.columns or munis["population"].isna().all():
        return munis, ["## Lage: daytime population reachable within 2 hours by car", "",
                       "skipped: the municipality table has no population.", ""], {}
    commuters = read_commuters(config.inputs.commuters) if config.inputs.commuters else None
    if "central_place" not in munis.columns:
        munis = munis.assign(central_place="keine")  # no table: no central-place function known
    res, gvb, kreis, report = run_lage(
        graph, munis, commuters, decay=lage_decay(config), limit_min=c.limit_min,
        max_snap_m=config.graph.max_snap_m, access_speed_kmh=config.graph.access_speed_kmh,
        thresholds=tuple(c.thresholds), engine=c.engine)
    files = {"gvb_lage": write_table(gvb, out / "gvb_lage.csv")}
    if kreis is not None and len(kreis):
        files["kreis_lage"] = write_table(kreis, out / "kreis_lage.csv")
    cross = lage_summary(res)
    files["lage_by_settlement_type"] = write_table(cross, out / "lage_by_settlement_type.csv")
    on = res["potential_2h"].notna()
    lines = ["## Lage: daytime population reachable within 2 hours by car", ""] + report + [""]
    lines += [f"Decay {c.decay} (beta {c.beta}, sigma {c.sigma_min} min, floor {c.floor_min} min), "
              f"limit {c.limit_min:g} min. Mean potential over {int(on.sum()):,} municipalities: "
              f"{res.loc[on, 'potential_2h'].mean():,.0f} (BBSR target 183,000). "
              f"{int(res.loc[on, 'edge_flag'].sum()):,} searches touched the edge of the network "
              "(column edge_flag: their potential is likely too low).", ""]
    lines += ["### Lage by settlement type (Stadt- und Gemeindetyp): municipalities and population",
              "", _md_table(cross.reset_index() if cross.index.name else cross, "{:,.0f}"), ""]
    if config.output.maps:
        from .maps import map_categories
        from .models.lage import LAGE_CLASSES
        geo = munis.geometry if isinstance(munis, gpd.GeoDataFrame) else None
        g = gpd.GeoDataFrame(res, geometry=geo if geo is not None else
                             gpd.points_from_xy(res["lon"], res["lat"]), crs="EPSG:4326")
        files["map_lage"] = map_categories(g, "lage", out / "map_lage.png",
                                           title="Lage: daytime population within 2 h by car",
                                           order=list(LAGE_CLASSES), cmap="RdYlGn")
    return res, lines, files


def calibrate_lage(config: Config | str | Path | None, *, output_dir: str | Path | None = None,
                   overrides: dict | None = None, kind: str | None = None,
                   target_mean: float | None = None) -> tuple[str, float, float, int]:
    """Fit the decay parameter so that the mean potential over all municipalities on
    the network equals ``target_mean`` (default ``[lage] target_mean``, BBSR 183,000).

    Returns ``(kind, parameter, achieved_mean, n_municipalities)``; the parameter is
    beta per minute (exponential), the exponent (power) or sigma in minutes (gaussian).
    """
    from .io import read_commuters
    from .models.lage import calibrate_decay, daytime_population

    config, graph, munis = _graph_and_municipalities(config, overrides, output_dir,
                                                     "calibrate-lage")
    commuters = read_commuters(config.inputs.commuters) if config.inputs.commuters else None
    day, _, _ = daytime_population(munis, commuters)
    kind = kind or config.lage.decay
    target = target_mean if target_mean is not None else config.lage.target_mean
    param, achieved = calibrate_decay(graph, munis, day, kind=kind, target_mean=target,
                                      limit_min=config.lage.limit_min,
                                      max_snap_m=config.graph.max_snap_m,
                                      access_speed_kmh=config.graph.access_speed_kmh,
                                      floor_min=config.lage.floor_min)
    return kind, float(param), float(achieved), int(munis["in_network"].sum())


def read_facilities(path) -> pd.DataFrame:
    """A user's own facility table: CSV (``service`` or ``type``, ``lon``, ``lat``) or a
    point layer (GeoPackage/GeoJSON/Shapefile with ``service`` or ``type``)."""
    from ._errors import InputError
    from .models.walkability import SERVICES

    p = Path(path)
    if not p.is_file():
        raise InputError(f"facility table {p} does not exist")
    if p.suffix.lower() == ".csv":
        df = pd.read_csv(p)
    else:
        g = gpd.read_file(p)
        if g.crs is None:
            raise InputError(f"{p} has no CRS: set one (e.g. EPSG:4326) before using it")
        g = g.to_crs("EPSG:4326")
        pts = g.geometry.representative_point()
        df = pd.DataFrame(g.drop(columns="geometry")).assign(lon=pts.x, lat=pts.y)
    if "service" not in df.columns and "type" in df.columns:
        df = df.rename(columns={"type": "service"})
    missing = {"service", "lon", "lat"} - set(df.columns)
    if missing:
        raise InputError(f"facility table {p} lacks columns {sorted(missing)}; it needs service "
                         f"(one of {', '.join(SERVICES)}), lon and lat (WGS84)")
    bad = set(df["service"]) - set(SERVICES)
    if bad:
        raise InputError(f"facility table {p} has unknown service types {sorted(map(str, bad))}; "
                         f"use {', '.join(SERVICES)}")
    if df[["lon", "lat"]].isna().any().any():
        raise InputError(f"facility table {p} has rows without coordinates")
    return df[["service", "lon", "lat"]].assign(source="user table")


def run_walk_stage(munis, config: Config, out: Path, polygons=None):
    """The Nahversorgung stage: services, 100 m residents, distances, shares.

    Runs when the walk OSM extract (``inputs.walk_osm``, else ``inputs.osm``) has
    services and a population grid is given; otherwise it is skipped with a note.
    """
    from shapely import MultiPoint

    from .io import read_population_grid
    from .io.osm_features import extract_features, load_service_rules
    from .models.population_grid import assign_cells, disaggregate
    from .models.walkability import SERVICES, walkability

    inp, c = config.inputs, config.walk
    path = inp.walk_osm or inp.osm
    note = "## Nahversorgung: services within 1,000 m on foot"
    if path is None or (inp.population_grid is None and polygons is None):
        return munis, [note, "", "skipped: needs an OSM extract with services ([inputs] walk_osm) "
                       "and residents: a population grid ([inputs] population_grid) or "
                       "municipality polygons ([inputs] boundaries) to spread populations.", ""], {}
    feats = extract_features(path, load_service_rules(c.services) if c.services else None)
    fac = feats.facilities
    facilities = pd.DataFrame({"service": fac["service"].to_numpy(),
                               "lon": fac.geometry.x.to_numpy(), "lat": fac.geometry.y.to_numpy(),
                               "source": "OSM"})
    if inp.gtfs is not None:
        from .io.gtfs import frequent_stops
        stops = frequent_stops(inp.gtfs, c.gtfs_date, c.min_departures,
                               merge_parent_stations=c.merge_parent_stations)
        facilities = pd.concat([facilities[facilities["service"] != "stop"],
                                pd.DataFrame({"service": "stop", "lon": stops["lon"],
                                              "lat": stops["lat"], "source": "GTFS"})])
        stop_source = f"GTFS {Path(inp.gtfs).name}: stops with >= {c.min_departures} departures on {c.gtfs_date}"
    else:
        stop_source = "OSM stops (no GTFS given: every stop counts, departures unknown)"
    if inp.facilities is not None:
        facilities = pd.concat([facilities, read_facilities(inp.facilities)])
    facilities = facilities.reset_index(drop=True)
    if len(facilities) == 0:
        return munis, [note, "", f"skipped: {Path(path).name} has no services (pharmacy, school, "
                       "doctors, post office, supermarket, stops).", ""], {}
    walk_graph = None
    if "network" in c.methods:
        walk_graph = build_graph(path, "walk", cache_dir=config.graph.cache_dir or (out / "cache"),
                                 crs=config.graph.metric_crs)
    # the extent of the walk extract: residents outside it are not counted
    from pyproj import Transformer
    to_grid = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    if walk_graph is not None:
        hx, hy = to_grid.transform(walk_graph.lon, walk_graph.lat)
    else:
        hx, hy = to_grid.transform(facilities["lon"].to_numpy(), facilities["lat"].to_numpy())
    hull = MultiPoint(np.column_stack([hx, hy])).convex_hull
    lon_e, lat_e = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True).transform(
        *np.asarray(hull.buffer(2000).exterior.coords).T)
    if inp.population_grid is not None:
        grid = read_population_grid(inp.population_grid,
                                    bbox=(min(lon_e), min(lat_e), max(lon_e), max(lat_e)))
        size = grid.attrs.get("cell_size_m") or 1000.0
        if size > 100:  # 1 km Census cells: spread over residential buildings
            cells = disaggregate(grid, feats.buildings, feats.landuse_residential, source_size_m=size)
        else:  # the user's 100 m grid as it is
            cells = grid
        pop_source = f"population grid {Path(inp.population_grid).name} ({size:g} m)"
    else:  # no grid: each municipality's population over its polygon's buildings
        from .models.population_grid import from_municipalities
        pm = gpd.GeoDataFrame(
            munis[["ags", "population"]].merge(
                pd.DataFrame({"ags": polygons["ags"].to_numpy()}).assign(
                    geometry=polygons.geometry.to_numpy()), on="ags"),
            geometry="geometry", crs=polygons.crs)
        pm = pm[pm.intersects(gpd.GeoSeries([hull], crs="EPSG:3035").to_crs(pm.crs).iloc[0])]
        cells = from_municipalities(pm[pm["population"] > 0], feats.buildings)
        pop_source = "municipality populations spread over their polygons (no grid given)"
    inside = gpd.GeoSeries(gpd.points_from_xy(cells["x"], cells["y"])).within(hull).to_numpy()
    cells = cells[inside & (cells["population"] > 0)].reset_index(drop=True)
    if polygons is not None:
        row = pd.Series(np.arange(len(munis)), index=munis["ags"].to_numpy())
        pidx = assign_cells(cells, polygons=polygons)
        muni = np.where(pidx >= 0, row.reindex(polygons["ags"].to_numpy()[np.maximum(pidx, 0)])
                        .fillna(-1).to_numpy(np.int64), -1)
    else:
        mx, my = to_grid.transform(munis["lon"].to_numpy(), munis["lat"].to_numpy())
        muni = assign_cells(cells, points=np.column_stack([mx, my]))
    cells = cells.assign(muni=muni)
    water = feats.water.to_crs("EPSG:3035").geometry.to_numpy() if len(feats.water) else None
    gaps = feats.crossings.to_crs("EPSG:3035").geometry.to_numpy() if len(feats.crossings) else None
    per_muni, per_cell, rep = walkability(
        cells, facilities, len(munis), methods=c.methods, walk_graph=walk_graph, barriers=water,
        gaps=gaps, limit_m=c.limit_m, max_distance_m=c.max_distance_m, max_snap_m=c.max_snap_m)
    rep.stop_source = stop_source
    munis = munis.reset_index(drop=True)
    has = per_muni["walk_residents"].to_numpy() > 0
    for col in per_muni.columns:
        munis[col] = np.where(has, per_muni[col].to_numpy(), np.nan)
    munis["walk_stop_source"] = np.where(has, stop_source, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        munis["walk_coverage"] = np.where(has, munis["walk_residents"] / munis["population"], np.nan)
    partial = has & (munis["walk_coverage"].to_numpy() < 0.95)
    if partial.any():
        rep.notes.append(f"{int(partial.sum())} municipalities lie only partly inside the walk "
                         "extract (walk_coverage < 95 %): their values describe the covered part.")
    files = {"walk_cells": write_table(per_cell, out / "walk_cells.parquet"),
             "walk_facilities": write_table(facilities, out / "walk_facilities.csv")}
    lines = [note, "", f"Walk extract {Path(path).name}; residents from {pop_source}; "
             + " ".join(rep.lines()),
             f"Water barriers: {len(feats.water):,} features, {len(feats.crossings):,} bridges/"
             "underpasses as gaps.", ""]
    show = munis.loc[has, ["ags", "name", "walk_residents", "walk_coverage"]
                     + [f"walk_share_{s}{sfx}" for sfx in ([""] if "straight" in c.methods else [])
                        + (["_net"] if "network" in c.methods else []) for s in SERVICES + ("all",)]]
    lines += ["Share of residents within 1,000 m (straight line with barriers; _net: along "
              "the walking network):", "", _md_table(show.round(3), "{:,.3f}"), ""]
    if config.output.maps and has.any():
        from .maps import map_categories
        sfx = "" if "straight" in c.methods else "_net"
        # count of services reached; NaN (nothing within reach) compares False
        n_ok = sum((per_cell[f"dist_{s}{sfx}_m"].to_numpy() <= c.limit_m).astype(int) for s in SERVICES)
        labels = [f"{k} of 6" for k in range(7)]
        cells_gdf = gpd.GeoDataFrame({"services": np.array(labels, dtype=object)[n_ok]},
                                     geometry=gpd.points_from_xy(per_cell["x"], per_cell["y"]),
                                     crs="EPSG:3035")
        how = "straight line with water barriers" if sfx == "" else "along the walking network"
        files["map_walk"] = map_categories(
            cells_gdf, "services", out / "map_walk_all_six.png",
            title=f"Nahversorgung: services within 1,000 m ({how}), 100 m cells; "
                  "6 of 6 = all six", order=labels, cmap="RdYlGn")
    return munis, lines, files
