"""The main job: configuration in, per-municipality results and reports out.

A run, in the order of :func:`_run_stages`:

1. read and check the inputs (:mod:`accessibility.io`), before anything slow;
2. build or load the car graph (:mod:`accessibility.graph`, cached);
3. attach the municipalities to it, once (:func:`accessibility.attach`);
4. the models, through the public API (:mod:`accessibility.api`): central places,
   Lage and settlement types, Nahversorgung;
5. tables, maps and the Markdown report (:mod:`accessibility.report`);
6. publish: every file is written into a staging directory and moved into place
   only when the run succeeded; a manifest records what a run wrote, so that the
   next run replaces exactly those files and never touches anything else.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from . import api, defaults, report
from ._errors import InputError
from ._util import peak_memory_mb
from .compute import Executor, open_executor
from .config import Config, load_config
from .graph import (RoadGraph, attach, build_graph, dropped_lines, format_graph_statistics,
                    graph_statistics, header_bbox)
from .io import (clip_grid, extract_features, frequent_stops,
                 load_service_rules, read_airports, read_central_places, read_commuters,
                 read_destinations, read_facilities, read_gtfs, read_kreis_names,
                 read_long_distance_stations, read_municipalities, read_population_grid,
                 write_gpkg_layers, write_json, write_municipality_outputs, write_table,
                 write_text)
from .maps import class_style, interactive_map, map_catchments, map_categories, map_values
from .models.central_places import class_shares, join_central_places, weighted_means
from .models.indicators import COLUMNS as INDICATOR_COLUMNS
from .models.lage import (at_virtual_nodes, calibrate_decay, daytime_population, kreis_lage,
                          lage_summary, lage_tables)
from .models.municipalities import mark_region, municipality_polygons, region_cut
from .models.scenario import Scenario, compare, moves, read_scenario
from .models.standards import (STANDARD_CLASSES, beyond_standards, standard_class,
                               standards_table)
from .models.units import (apply_unit, function_type_lage, gvb_table, mz_oz_by_lage,
                           unit_rows, unpopulated)
from .models.walkability import column_docs as walk_column_docs, resident_cells, study_extent
from .routing import Decay
from .vocabulary import (COLUMNS, LAGE_CLASSES, LAND_NAMES, NO_FUNCTION, SERVICES,
                         class_order, destinations)

logger = logging.getLogger(__name__)

#: The file in the output directory that lists what the last run wrote.
MANIFEST = ".accessibility-run.json"
#: The journal of a publish in progress: while it exists, the folder may hold files of
#: two runs, and the next run (or :func:`complete_publish`) finishes the publish.
JOURNAL = ".accessibility-publish.json"


def sample_dir() -> Path:
    """Directory of the embedded sample (Hannover–Braunschweig)."""
    return Path(str(resources.files("accessibility") / "data"))


def sample_config_path() -> Path:
    """The config that runs the embedded sample."""
    return sample_dir() / "example_config.toml"


@dataclass
class RunResult:
    """What a run produced."""

    output_dir: Path
    graph: RoadGraph
    municipalities: object = None
    files: dict[str, Path] = field(default_factory=dict)
    summary: str = ""
    stats: dict = field(default_factory=dict)


class _Output:
    """Writes a run's files into the staging directory and records each one."""

    def __init__(self, stage: Path):
        self.stage = stage
        self.files: dict[str, Path] = {}
        self.tables: dict[str, pd.DataFrame] = {}  # what was written, for later layers

    def table(self, key: str, df: pd.DataFrame, name: str, **kw) -> None:
        self.tables[key] = df
        self.add(key, write_table(df, self.stage / name, **kw))

    def add(self, key: str, path: Path | dict) -> None:
        items = path.items() if isinstance(path, dict) else [(None, path)]
        for k, p in items:
            name = key if k is None else (f"{key}_{k}" if key else k)
            self.files[name] = Path(p)
            sidecar = Path(p).with_suffix(".csvt")  # the column types of a CSV
            if Path(p).suffix == ".csv" and sidecar.is_file():
                self.files[f"{name}_csvt"] = sidecar


# ------------------------------------------------------------------------------ run
def run(config: Config | str | Path | None = None, output_dir: str | Path | None = None,
        overrides: dict | None = None) -> RunResult:
    """Run the main job.

    Parameters
    ----------
    config : Config, path or None
        A loaded config or a TOML file. None: the engine's defaults
        (:mod:`accessibility.defaults`) when ``overrides`` give an OSM extract of
        the user's own, else the embedded sample.
    output_dir : path, optional
        Overrides ``[output] dir``.
    overrides : dict, optional
        Dotted keys overriding the config (``{"inputs.osm": "x.pbf"}``).
    """
    t0 = time.perf_counter()
    if config is None and output_dir is None:
        output_dir = Path(defaults.OUTPUT_DIR)  # never write into the installed package
    config = _load_config(config, overrides)
    final = Path(output_dir) if output_dir is not None else Path(config.output.dir)
    check_inputs(config)  # fail before any slow stage, not half-way through
    _check_output_dir(final)
    if config.graph.cache_dir is None:  # the cache lives in the output dir, not the staging dir
        config = replace(config, graph=replace(config.graph, cache_dir=final / "cache"))
    complete_publish(final)  # a publish a killed run left half done is finished first
    _remove_dead_stages(final)
    stage = Path(tempfile.mkdtemp(prefix=f".run-{os.getpid()}-", dir=final))
    try:
        with open_executor(config.compute) as executor:
            result = _run_stages(config, _Output(stage), t0, executor)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)  # nothing was published
        raise
    result.files = _publish(stage, final, result.files)
    result.output_dir = final
    return result


def _run_stages(config: Config, out: _Output, t0: float,
                executor: Executor | None = None) -> RunResult:
    inputs = read_inputs(config)                                    # 1. inputs, all checked
    # a saved graph (.npz) has no OSM header: its overlap is checked after loading
    is_osm = Path(config.inputs.osm).suffix != ".npz"
    check_overlap(config, inputs, header_bbox(config.inputs.osm) if is_osm else None)
    munis = inputs.municipalities
    graph, summary, stats = prepare_graph(config, munis)            # 2. graph
    if munis is not None:
        munis = attach(graph, munis, max_snap_m=config.graph.max_snap_m,  # 3. attach once
                       access_speed_kmh=config.graph.access_kmh())
        munis = mark_region(munis, graph, ags_prefixes=config.region.ags_prefixes,
                            bbox=config.region.bbox)
        if not munis["in_region"].any():
            raise InputError("no municipality lies in the road extract (and the [region] "
                             "cut): check that the register, the OSM extract and the cut "
                             "describe the same area")
        summary += report.municipalities_section(munis, config.graph.max_snap_m,
                                                  munis.attrs.get("report", []))
        stats["municipalities"] = {"total": len(munis),
                                   "on_network": int(munis["on_network"].sum()),
                                   "in_region": int(munis["in_region"].sum())}
        polygons = municipality_polygons(munis, inputs.boundaries)
        columns = {}
        models = config.output.models
        # the walk inputs are checked against the walk extract before any routing
        walk = prepare_walk(munis, config, inputs, polygons) if "walk" in models else None
        if inputs.central_places is not None and "central_places" in models:  # 4. models
            munis = central_places_stage(graph, munis, config, inputs, out, polygons, summary)
        elif inputs.central_places is not None:  # settlement types still need the function
            munis, _ = join_central_places(munis.drop(columns=["central_place"],
                                                      errors="ignore"), inputs.central_places)
        if "lage" in models:
            munis = lage_stage(graph, munis, config, inputs, out, summary, executor)
        if "indicators" in models:
            munis = indicators_stage(graph, munis, config, inputs, out, polygons, summary)
        matrix_stage(graph, munis, config, out, summary)
        road_region = munis["in_region"].to_numpy(bool).copy()
        if walk is not None:
            munis = walk_stage(munis, config, walk, out, summary, executor)
        unit_tables_stage(munis, config, out, summary, road_region)
        columns.update({c: COLUMNS[c] for c in munis.columns if c in COLUMNS})
        columns.update({c: INDICATOR_COLUMNS[c] for c in munis.columns
                        if c in INDICATOR_COLUMNS})
        if "walk_residents" in munis.columns:
            columns.update(walk_column_docs(config.walk.methods))
        write_municipalities(munis, columns, config, out, inputs)   # 5. outputs
    out.add("graph_stats", write_json(stats["graph"], out.stage / "graph_stats.json"))
    stats["run_s"] = time.perf_counter() - t0
    summary += [f"Run time {stats['run_s']:.1f} s, peak memory {peak_memory_mb():.0f} MB.", ""]
    text = "\n".join(summary)
    out.add("summary", write_text(text, out.stage / "summary.md"))
    return RunResult(output_dir=out.stage, graph=graph, municipalities=munis, files=out.files,
                     summary=text, stats=stats)


# ------------------------------------------------------------------------------ stages
@dataclass
class Inputs:
    """Every table input of a run, read and checked before the graph is built."""

    municipalities: object = None
    central_places: pd.DataFrame | None = None
    boundaries: object = None
    population_grid: pd.DataFrame | None = None
    commuters: pd.DataFrame | None = None
    gtfs_feed: object = None
    stops: pd.DataFrame | None = None
    facilities: pd.DataFrame | None = None
    service_rules: object = None
    kreis_names: pd.DataFrame | None = None
    stations: pd.DataFrame | None = None
    airports: pd.DataFrame | None = None
    destinations: pd.DataFrame | None = None


def read_inputs(config: Config) -> Inputs:
    """Open and check every input of ``config`` (the OSM extract is parsed later).

    All problems are collected and raised together as one InputError, before any
    slow stage starts: a wrong GTFS feed never surfaces after minutes of routing.
    """
    inp, c = config.inputs, config.walk
    if inp.osm is None:
        raise InputError("no OSM input: set [inputs] osm in the config or pass --osm FILE")
    check_inputs(config)  # files exist
    out, problems = Inputs(), []

    def read(name, fn, *args, **kw):
        try:
            setattr(out, name, fn(*args, **kw))
        except InputError as e:
            problems.append(str(e))

    if inp.municipalities is not None:
        read("municipalities", read_municipalities, inp.municipalities,
             layer=inp.municipalities_layer)
    for name, fn in (("central_places", read_central_places), ("boundaries", read_municipalities),
                     ("population_grid", read_population_grid),
                     ("commuters", read_commuters), ("facilities", read_facilities)):
        path = getattr(inp, name)
        if path is not None:
            read(name, fn, path)
    for name, fn in (("stations", read_long_distance_stations), ("airports", read_airports),
                     ("destinations", read_destinations)):
        path = getattr(inp, name)
        if path is not None and "indicators" in config.output.models:
            read(name, fn, path)
    if inp.boundaries is not None:
        read("kreis_names", read_kreis_names, inp.boundaries)
    if inp.gtfs is not None:  # read once: the walk stops and the departures use it
        read("gtfs_feed", read_gtfs, inp.gtfs)
        if out.gtfs_feed is not None:
            read("stops", frequent_stops, out.gtfs_feed, c.gtfs_date, c.min_departures,
                 merge_parent_stations=c.merge_parent_stations)
    if c.services is not None:
        read("service_rules", load_service_rules, c.services)
    if config.central_places.origins == "area" and (
            out.municipalities is None
            or municipality_polygons(out.municipalities, out.boundaries) is None):
        problems.append("[central_places] origins = 'area' needs municipality polygons: "
                        "give [inputs] boundaries (e.g. VG250 gemeinden)")
    if problems:
        raise InputError(f"{len(problems)} problem(s) with the inputs, nothing was run:\n  - "
                         + "\n  - ".join(problems))
    if out.municipalities is not None:
        out.municipalities = api.prepare_municipalities(out.municipalities)
        for line in out.municipalities.attrs["report"]:
            logger.warning(line)
    return out


def check_overlap(config: Config, inputs: Inputs, bbox) -> None:
    """Check the inputs against the box the OSM file declares in its header, before the
    graph is built: municipalities, the population grid and the GTFS stops must reach
    into the extract. All problems are raised together.

    ``bbox`` (lon_min, lat_min, lon_max, lat_max) is None when the file declares no
    usable box (many cut PBF files): the same checks then run against the built graph
    (``mark_region``, :func:`walk_facilities`, ``clip_grid``), seconds later for a
    region, as the graph build of a region takes seconds (and is cached).
    """
    if bbox is None:
        return
    pad = 0.05  # degrees: points just outside the box may still snap to its roads
    lo_x, lo_y, hi_x, hi_y = bbox[0] - pad, bbox[1] - pad, bbox[2] + pad, bbox[3] + pad
    where = (f"the OSM extract {Path(config.inputs.osm).name} (lon {bbox[0]:.2f}-{bbox[2]:.2f}, "
             f"lat {bbox[1]:.2f}-{bbox[3]:.2f} in its header)")

    def inside(lon, lat) -> np.ndarray:
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        return (lon >= lo_x) & (lon <= hi_x) & (lat >= lo_y) & (lat <= hi_y)

    problems = []
    m = inputs.municipalities
    if m is not None and not inside(m["lon"], m["lat"]).any():
        problems.append(f"no municipality of {Path(config.inputs.municipalities).name} lies in "
                        f"{where}: do the register and the extract describe the same area?")
    if inputs.stops is not None and len(inputs.stops) and config.inputs.walk_osm is None \
            and not inside(inputs.stops["lon"], inputs.stops["lat"]).any():
        problems.append(f"no stop of the GTFS feed {Path(config.inputs.gtfs).name} with >= "
                        f"{config.walk.min_departures} departures on {config.walk.gtfs_date} "
                        f"lies in {where}: is it the feed of another region?")
    g = inputs.population_grid
    # the grid serves the walk extract, and the car origins with origins = "population"
    grid_here = config.inputs.walk_osm is None or config.central_places.origins == "population"
    if g is not None and len(g) and grid_here:
        try:
            clip_grid(g, (lo_x, lo_y, hi_x, hi_y))
        except InputError:
            problems.append(f"the population grid {Path(config.inputs.population_grid).name} "
                            f"has no inhabited cell in {where}: it covers another region "
                            "(or its CRS is not EPSG:3035)")
    if problems:
        raise InputError(f"{len(problems)} problem(s) with the inputs, nothing was run:\n  - "
                         + "\n  - ".join(problems))


def prepare_graph(config: Config, munis) -> tuple[RoadGraph, list[str], dict]:
    """Build (or load the cached) car graph; the first summary lines and statistics."""
    keep = None
    if munis is not None:
        ok = munis["lon"].notna().to_numpy()
        keep = (munis["lon"].to_numpy()[ok], munis["lat"].to_numpy()[ok])
    t = time.perf_counter()
    graph = build_graph(config.inputs.osm, config.graph.profile,
                        simplify_graph=config.graph.simplify, keep_points=keep,
                        max_snap_m=config.graph.max_snap_m, crs=config.graph.metric_crs,
                        cache_dir=config.graph.cache_dir)
    stats = {"graph": graph_statistics(graph, time.perf_counter() - t)}
    warnings = dropped_lines(stats["graph"])
    for line in warnings:
        logger.warning(line)
    return graph, report.graph_section(format_graph_statistics(stats["graph"]), warnings), stats


def central_places_stage(graph: RoadGraph, munis, config: Config, inputs: Inputs,
                         out: _Output, polygons, summary: list[str]):
    """Car times to MZ/OZ: the model, GVB/Kreis/Land tables, class shares, maps."""
    cfg = config.central_places
    grid = None
    if cfg.origins == "population":
        reg = munis[munis["in_region"]]
        lon, lat = reg["lon"].dropna(), reg["lat"].dropna()
        pad = 0.1
        grid = clip_grid(inputs.population_grid, (lon.min() - pad, lat.min() - pad,
                                                  lon.max() + pad, lat.max() + pad))
    res = api.central_places(munis, inputs.central_places, graph,
                             origins=cfg.origins, population_grid=grid, polygons=polygons,
                             area_grid_m=cfg.area_grid_m, gz_with_mz_is_mz=cfg.gz_with_mz_is_mz)
    values = ["t_mz_min", "t_oz_min"]
    res = beyond_standards(res, mz_min=cfg.standard_mz_min, oz_min=cfg.standard_oz_min)
    # every member carries its GVB's mean time and class (the GVB table is written
    # once all models ran, see unit_tables_stage)
    gvb = gvb_table(res, weighting=cfg.weighting)
    res = apply_unit(res, gvb, config.output.unit)
    reg = res[res["in_region"]]  # tables, means and maps describe the region only
    for level in ("kreis", "land"):
        out.table(f"{level}_table", with_names(weighted_means(reg, level, values), level, reg,
                                               inputs.kreis_names), f"{level}.csv")
    total = weighted_means(reg, None, values)
    out.table("total_table", total, "total.csv")
    unit = config.output.unit
    rows = unit_rows(reg, gvb[gvb["gvb"].isin(reg["gvb"])], unit)
    count = "gvb" if unit == "gvb" else "municipalities"
    mz, oz = class_shares(rows, "mz", unit=count), class_shares(rows, "oz", unit=count)
    out.table("class_shares", pd.concat([mz.assign(indicator="mz"), oz.assign(indicator="oz")]),
              "class_shares.csv")
    summary += report.central_places_section(res.attrs.get("report", []), total.iloc[0], mz, oz,
                                             "area" if cfg.weighting == "area" else "pop",
                                             unit=unit)
    std = pd.concat([with_names(standards_table(reg, level), level, reg, inputs.kreis_names)
                     .rename(columns={level: "key", f"{level}_name": "name"})
                     .assign(level=level) for level in ("gvb", "kreis", "land")]
                    + [standards_table(reg, None).rename(columns={"level": "key"})
                       .assign(level="total")], ignore_index=True)
    std = std[["level", "key", "name"] + [c for c in std.columns
                                          if c not in ("level", "key", "name")]]
    out.table("standards", std, "standards.csv")
    summary += report.standards_section(std, cfg.standard_mz_min, cfg.standard_oz_min)
    if config.output.maps:
        s, ext = out.stage, config.output.map_format
        # labels: Oberzentren first (they win where names would overlap), then MZ
        dest = destinations(cfg.gz_with_mz_is_mz)
        cp = reg[reg["central_place"].isin(dest["mz"]) & reg["t_mz_min"].notna()]
        cp = cp.assign(_oz=cp["central_place"].isin(dest["oz"])).sort_values(
            ["_oz", "population"], ascending=False)
        centres = gpd.GeoDataFrame(cp[["name"]], crs=defaults.WGS84,
                                   geometry=gpd.points_from_xy(cp["lon"], cp["lat"]))
        oz = centres[cp["_oz"].to_numpy()]
        sfx, per = ("_gvb", " (Gemeindeverband mean)") if unit == "gvb" else ("", "")
        out.add("map_oz", map_values(reg, f"t_oz_min{sfx}", s / f"map_oz_time.{ext}",
                                     title=f"Car time to the nearest Oberzentrum{per}",
                                     label="minutes", places=oz))
        out.add("map_oz_class", map_categories(reg, f"oz_class{sfx}", s / f"map_oz_class.{ext}",
                                               title=f"Oberzentrum: BBSR classes{per}",
                                               order=class_order("oz"), places=oz))
        out.add("map_standards", map_categories(
            reg.assign(standard_class=standard_class(reg)), "standard_class",
            s / f"map_standards.{ext}",
            title=f"Accessibility standards: Mittelzentrum within {cfg.standard_mz_min:g}, "
                  f"Oberzentrum within {cfg.standard_oz_min:g} minutes by car",
            order=list(STANDARD_CLASSES), places=oz))
        out.add("map_mz_catchments", map_catchments(
            reg, "nearest_mz_ags", centres, s / f"map_mz_catchments.{ext}",
            title="Mittelbereiche: catchments of the nearest Mittel-/Oberzentrum by car"))
    return res


def lage_decay(config: Config) -> Decay:
    """The decay function of ``[lage]``."""
    c = config.lage
    return Decay(c.decay, beta=c.beta, sigma_min=c.sigma_min, floor_min=c.floor_min)


def _tasks(executor: Executor | None) -> Executor | None:
    """The executor to split work into tasks for: only a distributed one (in this
    process the numba kernels already use every core on the whole)."""
    return executor if executor is not None and executor.name != "local" else None


def lage_stage(graph: RoadGraph, munis, config: Config, inputs: Inputs, out: _Output,
               summary: list[str], executor: Executor | None = None):
    """Daytime population, 2-hour potential, Lage and settlement type; tables, map."""
    c = config.lage
    if munis["population"].isna().all():
        summary += report.skipped_section(report.LAGE_TITLE,
                                          "the municipality table has no population.")
        return munis
    res = api.lage(munis, graph, commuters=inputs.commuters, decay=lage_decay(config),
                   limit_min=c.limit_min, thresholds=tuple(c.thresholds), engine=c.engine,
                   calibrate=c.calibrate, target_mean=c.target_mean,
                   cache_dir=config.graph.cache_dir, executor=_tasks(executor),
                   chunk=config.compute.lage_chunk)
    d = res.attrs["decay"]  # the decay used (calibrated or configured)
    decay_text = (f"{d['kind']} (beta {d['beta']:g}, sigma {d['sigma_min']:g} min, floor "
                  f"{d['floor_min']:g} min)"
                  + (f", calibrated to a mean potential of {c.target_mean:,.0f}"
                     if c.calibrate else ""))
    # settlement types and the GVB's centre need every member; the tables report the
    # region's
    gvb = lage_tables(res)["gvb"]
    res = apply_unit(res, gvb, config.output.unit)
    reg = res[res["in_region"]]
    out.table("gvb_lage", gvb[gvb["gvb"].isin(reg["gvb"])], "gvb_lage.csv")
    if len(reg):
        out.table("kreis_lage", kreis_lage(reg, thresholds=tuple(c.thresholds)), "kreis_lage.csv")
    rows = unit_rows(reg, gvb[gvb["gvb"].isin(reg["gvb"])], config.output.unit)
    cross = lage_summary(rows)
    # the row labels (Lage classes, total) are the index: written as a column
    out.table("lage_by_settlement_type", cross.reset_index(), "lage_by_settlement_type.csv")
    summary += report.lage_section(
        reg, cross, decay_text=decay_text, limit_min=c.limit_min,
        unit=config.output.unit)
    if config.output.maps:
        ext = config.output.map_format
        out.add("map_lage", map_categories(reg, "lage", out.stage / f"map_lage.{ext}",
                                           title="Lage: daytime population within 2 h by car",
                                           order=list(LAGE_CLASSES), cmap="viridis_r"))
    return res


def indicators_stage(graph: RoadGraph, munis, config: Config, inputs: Inputs, out: _Output,
                     polygons, summary: list[str]):
    """The report's further indicators (issue 12): car times to the nearest motorway
    junction, Fernbahnhof and international airport; public-transport departures per
    1,000 residents (with a GTFS feed); commuter balance and residents per job (with a
    commuter table that has the workplace employees). Tables per GVB, Kreis, Land, maps."""
    inp = config.inputs
    feed = inputs.gtfs_feed
    dest = api.collect_destinations(
        osm=inp.osm, stations=inp.stations, gtfs=feed, gtfs_date=config.walk.gtfs_date,
        airports=inputs.airports if inputs.airports is not None else True,
        overrides=inputs.destinations)
    res = api.facility_times(munis, dest, graph)
    report_lines = list(res.attrs.get("report", []))  # includes the destinations' lines
    if feed is not None:
        res = api.pt_departures(res, feed, date=config.walk.gtfs_date, polygons=polygons)
        report_lines += res.attrs.get("report", [])
    if inputs.commuters is not None:
        res = api.commuter_indicators(res, inputs.commuters)
        report_lines += res.attrs.get("report", [])
    reg = res[res["in_region"].to_numpy(bool)]
    table = pd.concat([with_names(api.indicators_by_unit(reg, level), level, reg,
                                  inputs.kreis_names)
                       .rename(columns={level: "key", f"{level}_name": "name"})
                       .assign(level=level) for level in ("gvb", "kreis", "land")]
                      + [api.indicators_by_unit(reg, None).rename(columns={"level": "key"})
                         .assign(level="total")], ignore_index=True)
    table = table[["level", "key", "name"] + [c for c in table.columns
                                              if c not in ("level", "key", "name")]]
    out.table("indicators", table, "indicators.csv")
    summary += report.indicators_section(report_lines, table)
    if config.output.maps:
        ext = config.output.map_format
        titles = {"motorway": "Car time to the nearest motorway junction",
                  "ldrail": "Car time to the nearest long-distance rail station (Fernbahnhof)",
                  "airport": "Car time to the nearest international airport"}
        for kind, title in titles.items():
            col = f"t_{kind}_min"
            if col in reg.columns and reg[col].notna().any():
                out.add(f"map_{kind}", map_values(reg, col, out.stage / f"map_{kind}_time.{ext}",
                                                  title=title, label="minutes"))
        day = config.walk.gtfs_date
        for key, col, name, title, label in (
                ("map_pt", "pt_departures_per_1000", "map_pt_departures",
                 f"Public-transport departures per 1,000 residents on {day}",
                 "departures per 1,000"),
                ("map_rail", "rail_departures_per_1000", "map_rail_departures",
                 f"Rail departures per 1,000 residents on {day}", "departures per 1,000"),
                ("map_commuters", "commuter_balance_per_100", "map_commuter_balance",
                 "Commuter balance (Pendlersaldo) per 100 employees at the workplace",
                 "in - out per 100")):
            if col in reg.columns and reg[col].fillna(0).ne(0).any():
                out.add(key, map_values(reg, col, out.stage / f"{name}.{ext}", title=title,
                                        label=label))
    return res


def matrix_stage(graph: RoadGraph, munis, config: Config, out: _Output,
                 summary: list[str]) -> None:
    """On request: the car-time matrix between the municipalities of the region
    (``matrix.parquet``) and isochrones around its Mittel- and Oberzentren
    (``isochrones.gpkg``)."""
    c = config.output
    reg = munis[munis["in_region"].to_numpy(bool)]
    lines = []
    if c.matrix_limit_min > 0:
        g, on = graph, reg
        if config.lage.engine == "ch" and "lage" in config.output.models:
            # the Lage's hierarchy (cached): no second preprocessing for the matrix
            g, on = at_virtual_nodes(graph, munis)
            on = on[munis["in_region"].to_numpy(bool)]
        mat = api.time_matrix(on, g, limit_min=c.matrix_limit_min,
                              engine=config.lage.engine, cache_dir=config.graph.cache_dir)
        out.table("matrix", mat, "matrix.parquet")
        lines += list(mat.attrs.get("report", [])) + [
            f"Car-time matrix within {c.matrix_limit_min:g} min: {len(mat):,} pairs "
            "(matrix.parquet: origin_ags, destination_ags, minutes)."]
    if c.isochrone_minutes and "central_place" in reg.columns:
        centres = reg[reg["central_place"].isin(
            destinations(config.central_places.gz_with_mz_is_mz)["mz"])]
        if len(centres):
            iso = api.isochrones(centres, graph, minutes=c.isochrone_minutes,
                                 max_buffer_m=c.isochrone_max_buffer_m)
            out.add("isochrones", write_gpkg_layers({"isochrones": iso},
                                                    out.stage / "isochrones.gpkg"))
            lines += list(iso.attrs.get("report", [])) + [
                f"Isochrones ({', '.join(f'{m:g}' for m in c.isochrone_minutes)} min) around "
                f"{iso['ags'].nunique():,} Mittel- and Oberzentren: isochrones.gpkg."]
    if lines:
        summary += ["## Matrix and isochrones", ""] + lines + [""]


def walk_facilities(config: Config, inputs: Inputs, feats, extent=None
                    ) -> tuple[pd.DataFrame, str]:
    """The six services: OSM facilities, stops from GTFS when given, the user's table.

    A GTFS feed without any frequent stop inside ``extent`` (EPSG:3035) is an input
    error (another region or a date outside its calendar), not "nobody served"."""
    inp, c = config.inputs, config.walk
    fac = feats.facilities
    facilities = pd.DataFrame({"service": fac["service"].to_numpy(),
                               "lon": fac.geometry.x.to_numpy(), "lat": fac.geometry.y.to_numpy(),
                               "source": "OSM"})
    if inp.gtfs is not None:
        stops = inputs.stops
        if extent is not None:
            sx, sy = Transformer.from_crs(defaults.WGS84, defaults.GRID_CRS,
                                          always_xy=True).transform(
                stops["lon"].to_numpy(float), stops["lat"].to_numpy(float))
            if not shapely.covers(extent.buffer(2000), shapely.points(sx, sy)).any():
                raise InputError(
                    f"the GTFS feed {Path(inp.gtfs).name} has no stop with >= "
                    f"{c.min_departures} departures on {c.gtfs_date} inside the walk extract "
                    f"({len(stops)} such stops elsewhere): is it the feed of another region, "
                    "or is [walk] gtfs_date outside its calendar?")
        facilities = pd.concat([facilities[facilities["service"] != "stop"],
                                pd.DataFrame({"service": "stop", "lon": stops["lon"],
                                              "lat": stops["lat"], "source": "GTFS"})])
        stop_source = (f"GTFS {Path(inp.gtfs).name}: stops with >= {c.min_departures} "
                       f"departures on {c.gtfs_date}")
    else:
        stop_source = "OSM stops (no GTFS given: every stop counts, departures unknown)"
    if inputs.facilities is not None:
        facilities = pd.concat([facilities, inputs.facilities])
    return facilities.reset_index(drop=True), stop_source


@dataclass
class WalkInputs:
    """What the Nahversorgung needs, prepared (and checked against the walk extract)
    before any routing starts."""

    path: Path
    walk_graph: RoadGraph | None
    facilities: pd.DataFrame
    stop_source: str
    cells: pd.DataFrame
    pop_source: str
    water: object
    gaps: object
    n_water: int
    n_crossings: int


def prepare_walk(munis, config: Config, inputs: Inputs, polygons) -> WalkInputs | str:
    """Services, the walk graph and the 100 m residents of the walk extract, or why
    the Nahversorgung cannot run. Done right after the car graph, so that a GTFS feed
    or a grid of another region fails before any routing."""
    inp, c = config.inputs, config.walk
    path = Path(inp.walk_osm or inp.osm)
    if inp.population_grid is None and polygons is None:
        return ("needs an OSM extract with services ([inputs] walk_osm) and residents: a "
                "population grid ([inputs] population_grid) or municipality polygons "
                "([inputs] boundaries) to spread populations.")
    feats = extract_features(path, inputs.service_rules)
    walk_graph = None
    if "network" in c.methods:
        walk_graph = build_graph(path, "walk", cache_dir=config.graph.cache_dir,
                                 crs=config.graph.metric_crs)
    # the walk extract's area: residents outside it don't count
    osm_fac = feats.facilities
    if walk_graph is not None:
        extent = study_extent(walk_graph.lon, walk_graph.lat)
    elif len(osm_fac):
        extent = study_extent(osm_fac.geometry.x.to_numpy(), osm_fac.geometry.y.to_numpy())
    else:
        extent = None
    facilities, stop_source = walk_facilities(config, inputs, feats, extent)
    if extent is None and len(facilities):  # only GTFS stops or the user's table
        extent = study_extent(facilities["lon"].to_numpy(), facilities["lat"].to_numpy())
    if len(facilities) == 0:
        return (f"{path.name} has no services (pharmacy, school, doctors, post office, "
                "supermarket, stops).")
    grid = None
    if inp.population_grid is not None:
        lon_e, lat_e = Transformer.from_crs(defaults.GRID_CRS, defaults.WGS84,
                                            always_xy=True).transform(
            *np.asarray(extent.buffer(2000).exterior.coords).T)
        grid = clip_grid(inputs.population_grid, (min(lon_e), min(lat_e), max(lon_e), max(lat_e)))
    cells = resident_cells(extent, grid=grid, buildings=feats.buildings,
                           residential_areas=feats.landuse_residential, municipalities=munis,
                           polygons=polygons)
    pop_source = (f"population grid {Path(inp.population_grid).name} "
                  f"({(grid.attrs.get('cell_size_m') or defaults.GRID_CELL_M):g} m)"
                  if grid is not None
                  else cells.attrs["population_source"])
    water = feats.water.to_crs(defaults.GRID_CRS).geometry.to_numpy() if len(feats.water) else None
    gaps = (feats.crossings.to_crs(defaults.GRID_CRS).geometry.to_numpy()
            if len(feats.crossings) else None)
    return WalkInputs(path, walk_graph, facilities, stop_source, cells, pop_source, water, gaps,
                      len(feats.water), len(feats.crossings))


def walk_stage(munis, config: Config, walk: WalkInputs | str, out: _Output,
               summary: list[str], executor: Executor | None = None):
    """Nahversorgung: distances, shares per municipality, cells, map.

    Runs when :func:`prepare_walk` found services and residents in the walk extract
    (``inputs.walk_osm``, else ``inputs.osm``); otherwise it is skipped with a note.
    """
    if isinstance(walk, str):
        summary += report.skipped_section(report.WALK_TITLE, walk)
        return munis
    c = config.walk
    path, walk_graph, facilities, stop_source = (walk.path, walk.walk_graph, walk.facilities,
                                                 walk.stop_source)
    cells, pop_source, water, gaps = walk.cells, walk.pop_source, walk.water, walk.gaps
    per_cell = api.walk_distances(cells, facilities, walk_graph=walk_graph, methods=c.methods,
                                  barriers=water, gaps=gaps, max_distance_m=c.max_distance_m,
                                  max_snap_m=c.max_snap_m, executor=_tasks(executor),
                                  tiles=config.compute.tiles,
                                  tile_size_m=config.compute.tile_size_m)
    res = api.walkability(munis, per_cell, limit_m=c.limit_m, stop_source=stop_source)
    # a municipality with residents in the walk extract is reported, also outside the
    # road extract (the embedded sample's Dreieich)
    cut = region_cut(res, ags_prefixes=config.region.ags_prefixes, bbox=config.region.bbox)
    walk_only = ~res["in_region"].to_numpy(bool) & cut & (
        res["walk_residents"].fillna(0).to_numpy() > 0)
    res["in_region"] = res["in_region"].to_numpy(bool) | walk_only
    if "reason" in res.columns:
        res.loc[walk_only, "reason"] = "outside the road extract: Nahversorgung values only"
    keep = ["x", "y", "population", "ags"] + [k for k in per_cell.columns if k.startswith("dist_")]
    cells_out = gpd.GeoDataFrame(  # GeoParquet: the cell centres with their CRS
        per_cell[keep].assign(ags=per_cell["ags"].astype("string")),
        geometry=gpd.points_from_xy(per_cell["x"], per_cell["y"]), crs=defaults.GRID_CRS)
    cells_out.attrs = {}
    out.table("walk_cells", cells_out, "walk_cells.parquet")
    out.table("walk_facilities", facilities, "walk_facilities.csv")
    rows = None
    if config.output.unit == "gvb" and "gvb" in res.columns:
        rows = gvb_table(res)
        rows = rows[rows["gvb"].isin(res.loc[res["in_region"], "gvb"])]
    summary += report.walk_section(res, walk_file=path.name, population_source=pop_source,
                                   stop_source=stop_source, n_water=walk.n_water,
                                   n_crossings=walk.n_crossings, methods=c.methods,
                                   limit_m=c.limit_m, rows=rows)
    if config.output.maps and res["walk_residents"].fillna(0).gt(0).any():
        ext = config.output.map_format
        sfx = "" if "straight" in c.methods else "_net"
        # count of services reached; NaN (nothing within reach) compares False
        n_ok = sum((per_cell[f"dist_{s}{sfx}_m"].to_numpy() <= c.limit_m).astype(int)
                   for s in SERVICES)
        labels = [f"{k} of 6" for k in range(7)]
        cells_gdf = gpd.GeoDataFrame({"services": np.array(labels, dtype=object)[n_ok]},
                                     geometry=gpd.points_from_xy(per_cell["x"], per_cell["y"]),
                                     crs=defaults.GRID_CRS)
        how = "straight line with water barriers" if sfx == "" else "along the walking network"
        # services absent from the input can never count: say so on the map
        absent = [s for s in SERVICES if not (facilities["service"] == s).any()]
        note = (f"\nno data for {', '.join(absent)}: at most {6 - len(absent)} of 6 possible"
                if absent else "")
        out.add("map_walk", map_categories(
            cells_gdf, "services", out.stage / f"map_walk_all_six.{ext}",
            title=f"Nahversorgung: services within {c.limit_m:,.0f} m ({how}), 100 m cells; "
                  f"6 of 6 = all six{note}", order=labels, cmap="viridis"))
    return res


def unit_tables_stage(munis, config: Config, out: _Output, summary: list[str],
                      road_region: np.ndarray) -> None:
    """The GVB table (``gvb.csv``: every model's values per Gemeindeverband) and the
    report's cross-tables in the reporting unit, with their summary section.

    ``road_region`` marks the municipalities of the road extract: the cross-tables
    count those (as the class and Lage tables do), ``gvb.csv`` also the GVBs that
    only the walk extract reaches."""
    reg = munis[munis["in_region"].to_numpy(bool)]
    if not len(reg):
        return
    gvb = gvb_table(munis, weighting=config.central_places.weighting,
                    thresholds=tuple(config.lage.thresholds))
    gvb = gvb[gvb["gvb"].isin(reg["gvb"])]
    out.table("gvb_table", with_names(gvb.drop(columns="gvb_name", errors="ignore"), "gvb",
                                      munis), "gvb.csv")
    road = munis[road_region]
    rows = unit_rows(road, gvb[gvb["gvb"].isin(road["gvb"])], config.output.unit)
    tables = {}
    if {"mz_class", "lage"} <= set(rows.columns):
        tables["table_mz_oz_by_lage"] = mz_oz_by_lage(rows)
    if "lage" in rows.columns:
        tables["table_function_type_lage"] = function_type_lage(rows)
    for key, t in tables.items():
        out.table(key, t, f"{key}.csv")
    summary += report.unit_tables_section(
        tables, unit=config.output.unit, n_unpopulated=int(unpopulated(reg).sum()))


def with_names(table: pd.DataFrame, level: str, munis: pd.DataFrame,
               kreis_names: pd.DataFrame | None = None) -> pd.DataFrame:
    """``table`` (one row per ``level`` key) with the unit's name after the key:
    ``gvb_name`` from the register, ``kreis_name`` from the boundaries' Kreis layer
    (when there is one), ``land_name`` of the Länder."""
    if level == "gvb" and "gvb_name" in munis.columns:
        first = pd.Series(munis["gvb_name"].to_numpy(), index=munis["gvb"].to_numpy())
        names = first[~first.index.duplicated()]
    elif level == "kreis" and kreis_names is not None:
        names = kreis_names.set_index("kreis")["kreis_name"]
    elif level == "land":
        names = pd.Series(LAND_NAMES)
    else:
        return table
    out = table.copy()
    out.insert(1, f"{level}_name", names.reindex(out[level].to_numpy()).to_numpy())
    return out


def area_layers(table: gpd.GeoDataFrame, tables: dict[str, pd.DataFrame],
                kreis_names: pd.DataFrame | None = None) -> dict[str, gpd.GeoDataFrame]:
    """GVB, Kreis and Land polygons (dissolved from the municipalities) with their
    names and the run's tables, as layers of the GeoPackage."""
    layers = {}
    names = {"gvb": table.get("gvb_name"), "kreis": None, "land": None}
    finer = None  # the last level dissolved: (key, polygons)
    for level, lage_key in (("gvb", "gvb_lage"), ("kreis", "kreis_lage"), ("land", None)):
        if level not in table.columns:
            continue
        parts = table[[level, "geometry"]]
        if finer is not None and _nests(table, finer[0], level):
            # union of the finer level's polygons: the same area, half the time
            # nationally (4,500 GVB instead of 11,000 municipalities per Kreis)
            key, fp = finer
            up = table.drop_duplicates(key).set_index(key)[level]
            parts = gpd.GeoDataFrame({level: up.reindex(fp[key]).to_numpy()},
                                     geometry=fp.geometry.to_numpy(), crs=fp.crs)
        poly = parts.dissolve(by=level, as_index=False)
        finer = (level, poly[[level, "geometry"]])
        if names[level] is not None:
            first = pd.Series(names[level].to_numpy(), index=table[level].to_numpy())
            poly.insert(1, f"{level}_name", first[~first.index.duplicated()]
                        .reindex(poly[level]).to_numpy())
        if level == "land":
            poly.insert(1, "land_name", poly["land"].map(LAND_NAMES))
        if level == "kreis" and kreis_names is not None:
            poly = poly.merge(kreis_names, on="kreis", how="left")
        poly = poly.set_geometry(poly.geometry.map(
            lambda g: shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g))
        for key in (f"{level}_table", lage_key):
            t = tables.get(key) if key else None
            if t is not None and level in t.columns:
                extra = t.drop(columns=[c for c in t.columns
                                        if c in poly.columns and c != level])
                poly = poly.merge(extra, on=level, how="left")
        layers[level] = poly
    return layers


def _nests(table: pd.DataFrame, finer: str, coarser: str) -> bool:
    """Whether every unit of ``finer`` lies in one unit of ``coarser`` (and every
    row has a ``finer`` unit), so ``coarser`` is a union of ``finer`` units."""
    if table[finer].isna().any():
        return False
    return bool((table.groupby(finer)[coarser].nunique(dropna=False) <= 1).all())


def write_municipalities(munis, columns: dict, config: Config, out: _Output,
                         inputs: Inputs) -> None:
    """The per-municipality results (GeoPackage / CSV / Parquet) and ``columns.csv``."""
    if not isinstance(munis, gpd.GeoDataFrame):
        munis = gpd.GeoDataFrame(munis, geometry=gpd.points_from_xy(munis["lon"], munis["lat"]),
                                 crs=defaults.WGS84)
    table = munis[munis["in_region"].to_numpy(bool)].drop(columns=["node", "access_s"],
                                                           errors="ignore")
    table.attrs = {}  # the report goes to summary.md, not into the files' metadata
    geometry = ("polygon" if table.geom_type.isin(["Polygon", "MultiPolygon"]).any()
                else "point")
    if geometry == "polygon":  # one geometry type per layer (QGIS): no stray points
        poly = table.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        if not poly.all():
            logger.warning("%d municipalities have no polygon in the boundaries: written "
                           "without geometry (lon/lat kept)", int((~poly).sum()))
            table = table.set_geometry(np.where(poly, table.geometry.to_numpy(), None))
        table = table.set_geometry(table.geometry.map(
            lambda g: shapely.MultiPolygon([g]) if g is not None and g.geom_type == "Polygon"
            else g))
    styles = [("municipalities", name, class_style(col, order, geometry=geometry), i == 0)
              for i, (col, name, order) in enumerate(
                  (c, n, o) for c, n, o in (
                      ("oz_class", "Oberzentrum: BBSR-Klassen", class_order("oz")),
                      ("mz_class", "Mittelzentrum: BBSR-Klassen", class_order("mz")),
                      ("lage", "Lage", list(LAGE_CLASSES)))
                  if c in table.columns)]
    layers = (area_layers(table[table.geometry.notna()], out.tables, inputs.kreis_names)
              if geometry == "polygon" else {})
    out.add("", write_municipality_outputs(table, out.stage, formats=config.output.formats,
                                           extra_layers=layers, styles=styles))
    if config.output.maps and len(table):
        out.add("map_html", interactive_map(table, out.stage / "map.html"))
    out.table("columns", pd.DataFrame({"column": list(columns), "meaning": list(columns.values())}),
              "columns.csv")


# ------------------------------------------------------------------------------ publishing
def _remove_dead_stages(final: Path) -> None:
    """Remove the staging folders of runs that were killed (their process is gone).

    A staging folder is named ``.run-<pid>-<random>``; one whose process still lives
    belongs to a run in progress and is left alone.
    """
    for d in final.glob(".run-*-*"):
        pid = d.name.split("-")[1]
        if not (d.is_dir() and pid.isdigit()):
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
            logger.info("removed %s, left by a run that was killed", d)
        except PermissionError:  # another user's live process
            pass

def _publish(stage: Path, final: Path, files: dict) -> dict:
    """Move a finished run's files from the staging directory into ``final``.

    Journaled: the journal (written atomically) names the staging folder and the
    files before anything moves, so a publish killed at any point is finished by the
    next run (roll forward), never left mixed. Files the previous run wrote (its
    manifest) that this run did not write are removed, so the folder holds one run's
    results; nothing else is touched.
    """
    written = sorted({Path(v).name for v in files.values()})
    ours = set(_read_manifest(final))
    theirs = [n for n in written if (final / n).exists() and n not in ours]
    if theirs:  # a file of the user's (or an input) with an output's name: never replaced
        shutil.rmtree(stage, ignore_errors=True)
        raise InputError(f"the output folder {final} holds files this run would replace but "
                         f"no earlier run wrote: {', '.join(theirs[:8])}. Move them, or choose "
                         "another --output; nothing was written.")
    write_json({"stage": stage.name, "files": written}, final / JOURNAL)
    complete_publish(final)
    return {k: final / Path(v).name for k, v in files.items()}


def complete_publish(final: str | Path) -> bool:
    """Finish the publish the journal in ``final`` describes (if any); True if one was
    finished. Idempotent: every step can be repeated after a kill."""
    final = Path(final)
    try:
        journal = json.loads((final / JOURNAL).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        raise InputError(f"{final / JOURNAL} is unreadable: a publish of an earlier run was "
                         "interrupted. Check the folder's files and remove the journal.") from None
    stage = final / Path(str(journal.get("stage", ""))).name
    written = _names(journal.get("files", []))
    # the stage is removed only after the journal: without it (removed by hand) the
    # folder's files cannot be told apart, so nothing is deleted
    if not stage.is_dir():
        raise InputError(f"an interrupted publish in {final} cannot be completed: its staging "
                         f"folder {stage.name} is gone. Check the folder's files, then remove "
                         f"{JOURNAL}.")
    for name in _read_manifest(final):  # the previous run's files it does not replace
        old = final / name
        if name not in written and old.is_file():
            old.unlink()
    for name in written:
        if (stage / name).exists():  # not moved yet
            os.replace(stage / name, final / name)
    write_json({"files": written}, final / MANIFEST)
    (final / JOURNAL).unlink(missing_ok=True)
    shutil.rmtree(stage, ignore_errors=True)
    logger.debug("published %d files into %s", len(written), final)
    return True


def _names(values) -> list[str]:
    """Plain file names only, never a path out of the folder."""
    return [n for n in values if isinstance(n, str) and n and n == Path(n).name
            and n not in (MANIFEST, JOURNAL)]


def _read_manifest(final: Path) -> list[str]:
    try:
        names = json.loads((final / MANIFEST).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    return _names(names)


# ------------------------------------------------------------------------------ checks
def check_inputs(config: Config) -> None:
    """Every configured input file exists, before anything runs."""
    missing = [f"[inputs] {k} = {v}" for k, v in vars(config.inputs).items()
               if isinstance(v, Path) and not v.exists()]
    if config.walk.services is not None and not Path(config.walk.services).exists():
        missing.append(f"[walk] services = {config.walk.services}")
    if missing:
        raise InputError("input files not found: " + "; ".join(missing)
                         + ". Fix the paths in the config or the command-line flags.")
    if config.central_places.origins == "population" and config.inputs.population_grid is None:
        raise InputError("[central_places] origins = 'population' needs [inputs] "
                         "population_grid (or --population-grid)")


def own_road_extract(overrides: dict | None) -> bool:
    """Whether overrides (or CLI flags) name an OSM extract of the user's own."""
    o = overrides or {}
    return o.get("inputs.osm") is not None or (o.get("inputs") or {}).get("osm") is not None


def _check_output_dir(final: Path) -> None:
    """The output folder exists (or is created) and is writable, before anything runs."""
    if final.exists() and not final.is_dir():
        raise InputError(f"the output path {final} is a file, not a folder: choose another "
                         "--output (or [output] dir)")
    try:
        final.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the output folder {final}: {e.strerror}. Choose a "
                         "folder you can write to (--output).") from None
    if not os.access(final, os.W_OK | os.X_OK):
        raise InputError(f"the output folder {final} is not writable: choose another "
                         "--output (or [output] dir)")


def _load_config(config, overrides):
    """The config of a run: a loaded Config or a TOML file; without one, the engine's
    defaults when the overrides give a road extract of the user's own (the sample's
    settings and inputs belong to the sample's extract: none of them applies), else
    the embedded sample with the overrides."""
    if config is None and not own_road_extract(overrides):
        config = sample_config_path()
    if not isinstance(config, Config):
        return load_config(config, overrides)
    if overrides:
        raise InputError("pass overrides together with a config path, not a loaded Config")
    return config


# ------------------------------------------------------------------------------ calibration
class Prepared(NamedTuple):
    """A config's graph and attached municipalities (with their central-place
    function), and its other inputs: where the calibration commands start."""

    config: Config
    graph: RoadGraph
    municipalities: gpd.GeoDataFrame
    inputs: Inputs


def graph_and_municipalities(config, overrides, output_dir, command: str) -> Prepared:
    """The graph and the attached municipalities of a config (see :class:`Prepared`)."""
    config = _load_config(config, overrides)
    out = Path(output_dir) if output_dir is not None else Path(config.output.dir)
    if config.graph.cache_dir is None:
        config = replace(config, graph=replace(config.graph, cache_dir=out / "cache"))
    inputs = read_inputs(config)
    munis = inputs.municipalities
    if munis is None:
        raise InputError(f"{command} needs municipalities: set [inputs] municipalities")
    graph, _, _ = prepare_graph(config, munis)
    munis = attach(graph, munis, max_snap_m=config.graph.max_snap_m,
                   access_speed_kmh=config.graph.access_kmh())
    if inputs.central_places is not None:
        munis, _ = join_central_places(munis.drop(columns=["central_place"], errors="ignore"),
                                       inputs.central_places)
    else:
        munis = munis.assign(central_place=NO_FUNCTION)
    return Prepared(config, graph, munis, inputs)


def calibrate(config: Config | str | Path | None, references: str | Path, *,
              output_dir: str | Path | None = None, out_profile: str | Path | None = None,
              overrides: dict | None = None,
              bounds: tuple[float, float] = defaults.CALIBRATION_BOUNDS,
              iterations: int = defaults.CALIBRATION_ITERATIONS, fit_access: bool = False,
              access_bounds_kmh: tuple[float, float] | None = None,
              maxspeed_factors: list[float] | tuple[float, ...] | None = None,
              comment: list[str] | None = None):
    """Fit the car speeds to reference travel times (trips, or INKAR means per
    Gemeindeverband; see :mod:`accessibility.models.calibration`) on the graph and
    municipalities of a run.

    ``fit_access`` also fits the access-leg speed; ``maxspeed_factors`` also fits
    the profile's maxspeed factor by building the graph once per factor (in a
    temporary cache, the run's cache is left alone). Returns the
    :class:`~accessibility.models.calibration.CalibrationResult`.
    """
    config, graph, munis, _ = graph_and_municipalities(config, overrides, output_dir,
                                                        "calibrate")
    kwargs = {"base_profile": config.graph.profile, "out_profile": out_profile,
              "bounds": bounds, "iterations": iterations, "fit_access": fit_access,
              "access_bounds_kmh": access_bounds_kmh, "comment": comment}
    if not maxspeed_factors:
        return api.calibrate_speeds_from_file(graph, munis, references, **kwargs)
    ok = munis["lon"].notna().to_numpy()
    keep = (munis["lon"].to_numpy()[ok], munis["lat"].to_numpy()[ok])
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        def rebuild(profile):
            g = build_graph(config.inputs.osm, profile, simplify_graph=config.graph.simplify,
                            keep_points=keep, max_snap_m=config.graph.max_snap_m,
                            crs=config.graph.metric_crs, cache_dir=tmp)
            return g, attach(g, munis, max_snap_m=config.graph.max_snap_m,
                             access_speed_kmh=config.graph.access_kmh())

        return api.calibrate_speeds_from_file(graph, munis, references, rebuild=rebuild,
                                              maxspeed_factors=maxspeed_factors, **kwargs)


def calibrate_lage(config: Config | str | Path | None, *, output_dir: str | Path | None = None,
                   overrides: dict | None = None, kind: str | None = None,
                   target_mean: float | None = None) -> tuple[str, float, float, int]:
    """Fit the decay parameter so that the mean potential over all municipalities on
    the network equals ``target_mean`` (default ``[lage] target_mean``, BBSR 183,000).

    Returns ``(kind, parameter, achieved_mean, n_municipalities)``; the parameter is
    beta per minute (exponential), the exponent (power) or sigma in minutes (gaussian).
    """
    config, graph, munis, inputs = graph_and_municipalities(config, overrides, output_dir,
                                                             "calibrate-lage")
    day, _, _ = daytime_population(munis, inputs.commuters)
    kind = kind or config.lage.decay
    target = target_mean if target_mean is not None else config.lage.target_mean
    param, achieved = calibrate_decay(graph, munis, day, kind=kind, target_mean=target,
                                      limit_min=config.lage.limit_min,
                                      floor_min=config.lage.floor_min)
    return kind, float(param), float(achieved), int(munis["on_network"].sum())


# ------------------------------------------------------------------------------ planning
def plan(config: Config | str | Path | None, *, output_dir: str | Path | None = None,
         overrides: dict | None = None, k: int | None = 1, objective: str = "max_coverage",
         standard_min: float | None = None, candidates=None,
         out_file: str | Path | None = None) -> pd.DataFrame:
    """Where to designate Mittelzentren on the graph and municipalities of a config
    (:func:`accessibility.api.plan`); ``out_file`` (CSV) gets the upgrades, and is
    never an existing file."""
    if out_file is not None and Path(out_file).exists():
        raise InputError(f"{out_file} exists: the plan never overwrites a file; give another "
                         "name or remove it")
    config, graph, munis, inputs = graph_and_municipalities(config, overrides, output_dir, "plan")
    if inputs.central_places is None:
        raise InputError("plan needs central places: set [inputs] central_places or pass "
                         "--central-places")
    munis = mark_region(munis, graph, ags_prefixes=config.region.ags_prefixes,
                        bbox=config.region.bbox)
    cfg = config.central_places
    res = api.central_places(munis, inputs.central_places, graph,
                             gz_with_mz_is_mz=cfg.gz_with_mz_is_mz)
    kw = {} if candidates is None else {"candidates": list(candidates)}
    out = api.plan(res, graph, k=k, objective=objective,
                   standard_min=standard_min if standard_min is not None else cfg.standard_mz_min,
                   **kw)
    if out_file is not None:
        write_table(out, Path(out_file))
    return out


# ------------------------------------------------------------------------------ scenarios
def scenario(config: Config | str | Path | None, scenario_file: str | Path, *,
             output_dir: str | Path | None = None, overrides: dict | None = None) -> RunResult:
    """Base and scenario side by side, and the difference (see
    :mod:`accessibility.models.scenario`).

    The base and the scenario run the central-place model (with the standards) and,
    when the municipalities have populations and ``lage`` is among the models, the
    Lage. Designation and population changes reuse the graph (and the cached
    contraction hierarchy with ``[lage] engine = "ch"``); road changes derive a new
    graph from it without parsing OSM. Files are published as a run's are.
    """
    t0 = time.perf_counter()
    sc = read_scenario(scenario_file)  # a bad scenario fails before anything is built
    if config is None and output_dir is None:
        output_dir = Path(defaults.OUTPUT_DIR) / "scenario"
    config = _load_config(config, overrides)
    final = Path(output_dir) if output_dir is not None else Path(config.output.dir)
    check_inputs(config)
    _check_output_dir(final)
    if config.graph.cache_dir is None:
        config = replace(config, graph=replace(config.graph, cache_dir=final / "cache"))
    complete_publish(final)
    _remove_dead_stages(final)
    stage = Path(tempfile.mkdtemp(prefix=f".run-{os.getpid()}-", dir=final))
    try:
        result = _scenario_stages(config, sc, _Output(stage), t0)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    result.files = _publish(stage, final, result.files)
    result.output_dir = final
    return result


def _scenario_models(graph, munis, central_places, config: Config, inputs: Inputs):
    """The models a scenario compares, on one graph and one municipality table."""
    cfg = config.central_places
    res = api.central_places(munis, central_places, graph, gz_with_mz_is_mz=cfg.gz_with_mz_is_mz)
    res = beyond_standards(res, mz_min=cfg.standard_mz_min, oz_min=cfg.standard_oz_min)
    if "lage" in config.output.models and res["population"].notna().any():
        c = config.lage
        res = api.lage(res, graph, commuters=inputs.commuters, decay=lage_decay(config),
                       limit_min=c.limit_min, thresholds=tuple(c.thresholds), engine=c.engine,
                       cache_dir=config.graph.cache_dir)
    return res


def _scenario_setup(config: Config):
    """Graph, region-marked municipalities, inputs and the models of a scenario run."""
    t = time.perf_counter()
    config, graph, munis, inputs = graph_and_municipalities(config, None, None, "scenario")
    if inputs.central_places is None:
        raise InputError("a scenario needs central places: set [inputs] central_places")
    munis = mark_region(munis, graph, ags_prefixes=config.region.ags_prefixes,
                        bbox=config.region.bbox)
    times = {"graph and municipalities (cached graph)": time.perf_counter() - t}
    # a partial of a module-level function: Dask workers can unpickle it
    models = functools.partial(_scenario_models, config=config, inputs=inputs)
    return config, graph, munis, inputs, models, times


def _scenario_stages(config: Config, sc: Scenario, out: _Output, t0: float) -> RunResult:
    config, graph, munis, inputs, models, times = _scenario_setup(config)
    reg_b, reg_s, g_s, road_info = api.scenario_runs(munis, inputs.central_places, graph, sc,
                                                     models)
    times.update(road_info.pop("times_s"))
    return _scenario_outputs(config, sc, reg_b, reg_s, g_s, road_info, times, out, t0)


def scenarios(config: Config | str | Path | None, scenario_files, *,
              output_dir: str | Path | None = None,
              overrides: dict | None = None) -> list[RunResult]:
    """Several scenarios against one base (a batch): the graph and the base are
    computed once, each scenario is one task of ``[compute]`` (in this process, or on
    Dask workers), and each scenario's files are published as :func:`scenario`
    publishes them, into ``OUTPUT/<scenario file name>/``."""
    t0 = time.perf_counter()
    files = [Path(f) for f in scenario_files]
    scs = [read_scenario(f) for f in files]  # every scenario checked before any work
    stems = [f.stem for f in files]
    if len(set(stems)) != len(stems):
        raise InputError(f"scenario file names repeat ({', '.join(stems)}): each scenario's "
                         "results go to a folder of its file name; rename one")
    if config is None and output_dir is None:
        output_dir = Path(defaults.OUTPUT_DIR) / "scenario"
    config = _load_config(config, overrides)
    final = Path(output_dir) if output_dir is not None else Path(config.output.dir)
    check_inputs(config)
    for stem in stems:
        _check_output_dir(final / stem)
    if config.graph.cache_dir is None:
        config = replace(config, graph=replace(config.graph, cache_dir=final / "cache"))
    config, graph, munis, inputs, models, times = _scenario_setup(config)
    with open_executor(config.compute) as executor:
        runs = api.scenario_batch_runs(munis, inputs.central_places, graph, scs, models,
                                       _tasks(executor))
    results = []
    for sc, stem, (reg_b, reg_s, g_s, info) in zip(scs, stems, runs):
        sub = final / stem
        sub.mkdir(parents=True, exist_ok=True)
        complete_publish(sub)
        _remove_dead_stages(sub)
        stage = Path(tempfile.mkdtemp(prefix=f".run-{os.getpid()}-", dir=sub))
        try:
            res = _scenario_outputs(config, sc, reg_b, reg_s, g_s, info,
                                    {**times, **info.pop("times_s")}, _Output(stage), t0)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        res.files = _publish(stage, sub, res.files)
        res.output_dir = sub
        results.append(res)
    return results


def _scenario_outputs(config: Config, sc: Scenario, reg_b, reg_s, g_s, road_info: dict,
                      times: dict, out: _Output, t0: float) -> RunResult:
    """The difference tables, class moves, maps and summary of one scenario."""
    diff = compare(reg_b, reg_s)
    out.table("scenario_municipalities", diff, "scenario_municipalities.csv")
    values = [c for c in ("t_mz_min", "t_oz_min") if c in reg_b.columns]
    gb = weighted_means(reg_b, "gvb", values).set_index("gvb")
    gs = weighted_means(reg_s, "gvb", values).set_index("gvb")
    w = "area_w" if config.central_places.weighting == "area" else "pop_w"
    gvb = pd.DataFrame(index=gb.index)
    for v in values:
        gvb[f"{v}_base"] = gb[f"{v}_{w}"]
        gvb[f"{v}_scenario"] = gs[f"{v}_{w}"].reindex(gb.index)
        gvb[f"{v}_change"] = gvb[f"{v}_scenario"] - gvb[f"{v}_base"]
    out.table("scenario_gvb", with_names(gvb.reset_index(), "gvb", reg_b), "scenario_gvb.csv")
    moved = {}
    for col, order in (("mz_class", class_order("mz")), ("oz_class", class_order("oz")),
                       ("lage", list(LAGE_CLASSES)[::-1])):
        if f"{col}_base" in diff.columns:
            moved[col] = moves(diff, col, order)
            out.table(f"moves_{col}", moved[col].reset_index(), f"moves_{col}.csv")
    summary = report.scenario_section(sc, diff, moved, road_info, times)
    if config.output.maps and "t_mz_min_change" in diff.columns:
        ext = config.output.map_format
        g = gpd.GeoDataFrame(diff, geometry=gpd.points_from_xy(reg_b["lon"], reg_b["lat"]),
                             crs=defaults.WGS84)
        for v, what in (("t_mz_min", "Mittelzentrum"), ("t_oz_min", "Oberzentrum")):
            if f"{v}_change" in g.columns and g[f"{v}_change"].fillna(0).ne(0).any():
                out.add(f"map_{v}_change", map_values(
                    g, f"{v}_change", out.stage / f"map_{v}_change.{ext}",
                    title=f"Scenario '{sc.name}': change of the car time to the nearest {what}",
                    label="minutes (blue: shorter, red: longer)", diverging=True))
    summary += [f"Run time {time.perf_counter() - t0:.1f} s, peak memory "
                f"{peak_memory_mb():.0f} MB.", ""]
    text = "\n".join(summary)
    out.add("summary", write_text(text, out.stage / "summary.md"))
    return RunResult(output_dir=out.stage, graph=g_s, municipalities=diff, files=out.files,
                     summary=text, stats={"times_s": times, **road_info})
