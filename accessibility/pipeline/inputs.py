"""The inputs of a run: the config, every input file read and checked before
anything slow starts, the car graph, and the attached municipalities."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import api, defaults, report
from .._checks import file_problem
from .._errors import InputError
from ..config import Config, load_config
from ..graph import (
    RoadGraph,
    attach,
    build_graph,
    dropped_lines,
    format_graph_statistics,
    graph_statistics,
)
from ..io import (
    clip_grid,
    frequent_stops,
    load_service_rules,
    read_airports,
    read_central_places,
    read_commuters,
    read_destinations,
    read_facilities,
    read_gtfs,
    read_kreis_names,
    read_long_distance_stations,
    read_municipalities,
    read_population_grid,
    read_run_lage,
)
from ..vocabulary import NO_FUNCTION

logger = logging.getLogger(__name__)


def sample_dir() -> Path:
    """Directory of the embedded sample (Hannover–Braunschweig)."""
    return Path(str(resources.files("accessibility") / "data"))


def sample_config_path() -> Path:
    """The config that runs the embedded sample."""
    return sample_dir() / "example_config.toml"


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
    lage_from: pd.DataFrame | None = None


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
    # the shipped DB table without a path; the Fernbahnhöfe serve t_pt_ldrail_min too
    if {"indicators", "public_transport"} & set(config.output.models):
        read("stations", read_long_distance_stations, inp.stations,
             rule=config.destinations.fernbahnhof_rule)
    for name, fn in (("airports", read_airports), ("destinations", read_destinations)):
        path = getattr(inp, name)
        if path is not None and "indicators" in config.output.models:
            read(name, fn, path)
    if inp.boundaries is not None:
        read("kreis_names", read_kreis_names, inp.boundaries)
    if inp.lage_from is not None and "lage" in config.output.models:
        if Path(inp.lage_from).is_dir():  # a run folder cut off by a kill: whole first
            from .publish import complete_publish
            complete_publish(inp.lage_from)
        read("lage_from", read_run_lage, inp.lage_from)  # its columns, before any routing
    if inp.gtfs is not None:  # read once: the walk stops and the departures use it
        read("gtfs_feed", read_gtfs, inp.gtfs)
        if out.gtfs_feed is not None:
            read("stops", frequent_stops, out.gtfs_feed, c.gtfs_date, c.min_departures,
                 merge_parent_stations=c.merge_parent_stations)
    if c.services is not None:
        read("service_rules", load_service_rules, c.services)
    if config.central_places.origins == "area" and (
            out.municipalities is None
            or api.municipality_polygons(out.municipalities, out.boundaries) is None):
        problems.append("[central_places] origins = 'area' needs municipality polygons: "
                        "give [inputs] boundaries (e.g. VG250 gemeinden)")
    problems += model_input_problems(config, out)
    if problems:
        raise InputError(f"{len(problems)} problem(s) with the inputs, nothing was run:\n  - "
                         + "\n  - ".join(problems))
    if out.municipalities is not None:
        out.municipalities = api.prepare_municipalities(out.municipalities)
        for line in out.municipalities.attrs["report"]:
            logger.warning(line)
    return out


def models_named(config: Config) -> bool:
    """Whether ``[output] models`` / ``--models`` names the models (a choice other than
    the default, all of them): a named model must have its inputs, a default one
    without its optional input is skipped with a note."""
    return set(config.output.models) != set(defaults.MODELS)


def check_models(config: Config) -> None:
    """The central places are the core model: a run without their input is an input
    error unless ``--models`` leaves the model out. Checked before anything is read."""
    if "central_places" in config.output.models and config.inputs.central_places is None:
        others = ",".join(m for m in config.output.models if m != "central_places") or "lage"
        raise InputError("no central places: the car times to the Mittel- and Oberzentren "
                         "(the core model) need --central-places FILE ([inputs] "
                         "central_places: ags and the function, e.g. the BBSR "
                         "Zentrale-Orte-Monitoring), or leave the model out with "
                         f"--models {others}")


def model_input_problems(config: Config, inputs: Inputs) -> list[str]:
    """What the models named in ``--models`` lack (read inputs in hand, before the
    graph is built). Default models without an optional input are skipped later,
    with a log line and a summary line naming the input."""
    if not models_named(config) or inputs.municipalities is None:
        return []
    problems, models = [], config.output.models
    m = inputs.municipalities
    if ("lage" in models and config.inputs.lage_from is None
            and ("population" not in m.columns
                 or pd.to_numeric(m["population"], errors="coerce").isna().all())):
        problems.append("--models names lage, but the municipality table has no population: "
                        "give a register with populations (e.g. the Destatis "
                        "Gemeindeverzeichnis) or import a national run's Lage with "
                        "--lage-from RUN_DIR")
    if ("walk" in models and inputs.population_grid is None
            and api.municipality_polygons(m, inputs.boundaries) is None):
        problems.append("--models names walk, but the Nahversorgung needs residents: give "
                        "--population-grid (Zensus grid) or --boundaries (municipality "
                        "polygons to spread the populations over)")
    return problems


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
    # the grid serves the walk extract, and the car's and public transport's
    # origins = "population"
    grid_here = config.inputs.walk_osm is None or "population" in (
        config.central_places.origins, config.public_transport.origins)
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


def destination_points(inputs: Inputs | None) -> tuple | None:
    """lon/lat of the destinations read before the graph (Fernbahnhöfe, airports of the
    list or the user's, a user table), whose nearest routable nodes the graph keeps
    (:func:`accessibility.graph.build_graph`); None without any."""
    if inputs is None or inputs.stations is None:  # read when the indicators run
        return None
    airports = inputs.airports if inputs.airports is not None else read_airports()
    tables = [t for t in (inputs.stations, airports, inputs.destinations)
              if t is not None and len(t)]
    return (np.concatenate([t["lon"].to_numpy(np.float64) for t in tables]),
            np.concatenate([t["lat"].to_numpy(np.float64) for t in tables]))


def prepare_graph(config: Config, munis, inputs: Inputs | None = None
                  ) -> tuple[RoadGraph, list[str], dict]:
    """Build (or load the cached) car graph; the first summary lines and statistics.
    The nearest raw node of every municipality and the nearest routable node of every
    destination in ``inputs`` are kept through simplification."""
    keep = None
    if munis is not None:
        ok = munis["lon"].notna().to_numpy()
        keep = (munis["lon"].to_numpy()[ok], munis["lat"].to_numpy()[ok])
    t = time.perf_counter()
    graph = build_graph(config.inputs.osm, config.graph.profile, keep_points=keep,
                        routable_points=destination_points(inputs),
                        cache_dir=config.graph.cache_dir, **config.graph.build_options())
    stats = {"graph": graph_statistics(graph, time.perf_counter() - t)}
    warnings = dropped_lines(stats["graph"])
    for line in warnings:
        logger.warning(line)
    return graph, report.graph_section(format_graph_statistics(stats["graph"]), warnings), stats


#: Inputs that may be folders: a GTFS feed unpacked, the output folder of a run.
_FOLDER_INPUTS = ("gtfs", "lage_from")


def check_inputs(config: Config) -> None:
    """Every configured input file exists, before anything runs."""
    missing = [f"[inputs] {k} = {v}" for k, v in vars(config.inputs).items()
               if isinstance(v, Path) and not v.exists() and not v.is_symlink()]
    if config.walk.services is not None and not Path(config.walk.services).exists():
        missing.append(f"[walk] services = {config.walk.services}")
    # a folder, a FIFO (reading it waits forever), a dangling link, no read permission
    unusable = [f"[inputs] {k}: {problem}" for k, v in vars(config.inputs).items()
                if isinstance(v, Path) and (v.exists() or v.is_symlink())
                and (problem := file_problem(v, folder_ok=k in _FOLDER_INPUTS
                                             or v.suffix.lower() == ".gdb"))]
    if unusable and not missing:
        raise InputError("input files cannot be read: " + "; ".join(unusable) + ".")
    if missing:
        paths = [v for v in vars(config.inputs).values() if isinstance(v, Path) and not v.exists()]
        hint = ""
        if paths and all((sample_dir() / p.name).is_file() for p in paths):
            # a copy of example_config.toml: its paths are relative to the shipped file
            hint = (f" These are the embedded sample's files, in {sample_dir()}: relative "
                    "paths are read next to the config, so write them in full there (or "
                    "run the sample with plain 'accessibility run').")
        raise InputError("input files not found: " + "; ".join(missing)
                         + ". Fix the paths in the config or the command-line flags." + hint)
    for section, origins in (("central_places", config.central_places.origins),
                             ("public_transport", config.public_transport.origins
                              if config.inputs.gtfs is not None else "point")):
        if origins == "population" and config.inputs.population_grid is None:
            raise InputError(f"[{section}] origins = 'population' needs [inputs] "
                             "population_grid (or --population-grid)")


def own_road_extract(overrides: dict | None) -> bool:
    """Whether overrides (or CLI flags) name an OSM extract of the user's own."""
    o = overrides or {}
    return o.get("inputs.osm") is not None or (o.get("inputs") or {}).get("osm") is not None


def load_config_of_run(config, overrides):
    """The config of a run: a loaded Config or a TOML file; without one, the engine's
    defaults when the overrides give a road extract of the user's own (the sample's
    settings and inputs belong to the sample's extract: none of them applies), else
    the embedded sample with the overrides. Its ``[graph] cache_dir`` is set
    (:meth:`~accessibility.config.GraphConfig.cache_path`)."""
    if config is None and not own_road_extract(overrides):
        config = sample_config_path()
        o = overrides or {}
        if "output.dir" not in o and "dir" not in (o.get("output") or {}):
            # the sample's [output] dir lies in the installed package: never write there
            overrides = {**o, "output.dir": str(Path(defaults.OUTPUT_DIR).absolute())}
    if not isinstance(config, Config):
        config = load_config(config, overrides)
    elif overrides:
        raise InputError("pass overrides together with a config path, not a loaded Config")
    # the one place that decides the graph cache: shared by every output folder
    return replace(config, graph=replace(config.graph, cache_dir=config.graph.cache_path()))


# ------------------------------------------------------------------------------ calibration
class Prepared(NamedTuple):
    """A config's graph and attached municipalities (with their central-place
    function), and its other inputs: where the calibration commands start."""

    config: Config
    graph: RoadGraph
    municipalities: gpd.GeoDataFrame
    inputs: Inputs


def graph_and_municipalities(config, overrides, command: str) -> Prepared:
    """The graph and the attached municipalities of a config (see :class:`Prepared`)."""
    config = load_config_of_run(config, overrides)
    inputs = read_inputs(config)
    munis = inputs.municipalities
    if munis is None:
        raise InputError(f"{command} needs municipalities: set [inputs] municipalities")
    graph, _, _ = prepare_graph(config, munis)
    munis = attach(graph, munis, max_snap_m=config.graph.max_snap_m,
                   access_speed_kmh=config.graph.access_kmh())
    if inputs.central_places is not None:
        munis, _ = api.join_central_places(munis.drop(columns=["central_place"], errors="ignore"),
                                       inputs.central_places)
    else:
        munis = munis.assign(central_place=NO_FUNCTION)
    return Prepared(config, graph, munis, inputs)

