"""Nahversorgung: walking distances from 100 m cells to the six everyday services,
and the shares of residents served per municipality."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from .. import defaults
from .._errors import InputError
from ..compute import Executor
from ..graph import RoadGraph, attach, build_graph
from ..io import OsmFeatures, clip_grid, extract_features
from ..models.municipalities import region_cut
from ..models.population_grid import cell_size
from ..models.walkability import (
    SPREAD_SOURCE,
    absent_services,
    cell_distances,
    resident_cells,
    study_extent,
    tiled_cell_distances,
    walkability as _walkability,
)
from ..vocabulary import SERVICES

logger = logging.getLogger(__name__)


def walk_distances(cells: pd.DataFrame, facilities: pd.DataFrame, *,
                   walk_graph: RoadGraph | str | Path | None = None,
                   methods=defaults.WALK_METHODS, barriers=None, gaps=None,
                   max_distance_m: float = defaults.WALK_MAX_DISTANCE_M,
                   max_snap_m: float = defaults.WALK_MAX_SNAP_M,
                   cache_dir: str | Path | None = None, executor: Executor | None = None,
                   tiles: str = defaults.TILES,
                   tile_size_m: float = defaults.TILE_SIZE_M) -> pd.DataFrame:
    """Distance from every 100 m cell to the nearest facility of each service.

    Parameters
    ----------
    cells : DataFrame
        ``x``, ``y`` (EPSG:3035 centres), ``population``, ``ags``.
    facilities : DataFrame
        ``service``, ``lon``, ``lat`` (WGS84).
    walk_graph : RoadGraph or path, optional
        The walking network, or the OSM file to build it from (profile ``walk``);
        needed for the network method.
    methods, barriers, gaps, max_distance_m
        See :func:`accessibility.models.walkability.cell_distances`.
    max_snap_m : float
        Cells and facilities farther than this from the walk network get no network
        distance.
    executor, tiles, tile_size_m
        With an executor (:mod:`accessibility.compute`, e.g. Dask workers) the cells
        are computed in tiles (squares of ``tile_size_m`` or Kreise), each with the
        network and facilities around it
        (:func:`~accessibility.models.walkability.tiled_cell_distances`); the
        distances are those of the untiled computation.

    Returns
    -------
    DataFrame
        ``cells`` with ``dist_{service}_m`` (straight) and ``dist_{service}_net_m``
        (network) per service; ``.attrs["report"]``.
    """
    methods = tuple(methods)
    if "network" in methods and walk_graph is not None:
        if not isinstance(walk_graph, RoadGraph):
            walk_graph = build_graph(walk_graph, "walk", cache_dir=cache_dir)
        lon, lat = Transformer.from_crs(defaults.GRID_CRS, defaults.WGS84,
                                        always_xy=True).transform(
            cells["x"].to_numpy(float), cells["y"].to_numpy(float))
        cells = attach(walk_graph, cells.assign(lon=lon, lat=lat), max_snap_m=max_snap_m,
                       id_column=None)
        facilities = attach(walk_graph, facilities, max_snap_m=max_snap_m, id_column=None)
    if executor is not None:
        return tiled_cell_distances(cells, facilities, executor, methods=methods,
                                    walk_graph=walk_graph, barriers=barriers, gaps=gaps,
                                    max_distance_m=max_distance_m, max_snap_m=max_snap_m,
                                    tiles=tiles, tile_size_m=tile_size_m)
    return cell_distances(cells, facilities, methods=methods, walk_graph=walk_graph,
                          barriers=barriers, gaps=gaps, max_distance_m=max_distance_m)


def walkability(municipalities: pd.DataFrame, cells: pd.DataFrame, *,
                facilities: pd.DataFrame | None = None,
                limit_m: float = defaults.WALK_LIMIT_M, stop_source: str | None = None
                ) -> pd.DataFrame:
    """Nahversorgung per municipality: share of residents with each of the six
    services (and all six) within ``limit_m``, and mean distances.

    Parameters
    ----------
    municipalities : DataFrame
        ``ags`` and ``population`` (for ``walk_coverage``).
    cells : DataFrame
        From :func:`walk_distances`: ``population``, ``ags`` and distance columns.
    facilities : DataFrame, optional
        The facilities the distances were measured to (``service``): a service
        without any facility gets no value (NaN: no data), not 0 %. Without it every
        service counts as present.
    limit_m : float
        Walking distance of the indicator (BBSR: 1,000 m).
    stop_source : str, optional
        Where the stops came from (GTFS or OSM), written to ``walk_stop_source``.

    Returns
    -------
    DataFrame or GeoDataFrame
        ``municipalities`` with the ``walk_*`` columns (NaN where no resident of the
        municipality lies in the walk extract) and ``walk_coverage`` (the share of
        its residents counted); ``.attrs["report"]``.
    """
    absent = () if facilities is None else absent_services(facilities)
    per = _walkability(cells, limit_m=limit_m, absent=absent)
    out = municipalities.copy()
    have = out["ags"].isin(per.index[per["walk_residents"] > 0]).to_numpy()
    joined = per.reindex(out["ags"].to_numpy())
    for col in per.columns:
        out[col] = np.where(have, joined[col].to_numpy(), np.nan)
    out["walk_stop_source"] = np.where(have, stop_source, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["walk_coverage"] = np.where(
            have, out["walk_residents"] / pd.to_numeric(out["population"], errors="coerce"),
            np.nan)
    report = list(cells.attrs.get("report", []))
    cov = out["walk_coverage"].to_numpy(float)
    over = have & (cov > defaults.WALK_MAX_COVERAGE)
    if over.any():  # more residents than the municipality has: the cells are not its own
        for col in [c for c in per.columns if c != "walk_residents"] + ["walk_coverage"]:
            out.loc[over, col] = np.nan
        out.loc[over, "walk_stop_source"] = None
        names = out.loc[over, "ags"].astype(str) + " " + out.loc[over, "name"].astype(str) \
            if "name" in out.columns else out.loc[over, "ags"].astype(str)
        report.append(
            f"{int(over.sum())} municipalities got more residents from the grid cells than "
            f"they have (coverage above {defaults.WALK_MAX_COVERAGE:g}; first: "
            f"{', '.join(names[:5])}): their cells were not theirs, so their Nahversorgung "
            "values are left empty. "
            + ("The cells were assigned by polygon: a coarse grid (1 km) spread evenly over "
               "its 100 m cells gives a small municipality next to a dense one residents "
               "that are not its own; a 100 m grid or buildings in the walk extract avoid it."
               if "assigned_by" in cells.columns
               and (cells["assigned_by"] == "polygon").all() else
               "The cells were assigned to the nearest reference point: give municipality "
               "boundaries ([inputs] boundaries) to assign them by polygon."))
        logger.warning(report[-1])
    partial = have & ~over & (cov < 0.95)
    if partial.any():
        report.append(f"{int(partial.sum())} municipalities lie only partly inside the walk "
                      "extract (walk_coverage < 95 %): their values describe the covered part.")
    out.attrs["report"] = report
    return out



@dataclass
class WalkInputs:
    """What the Nahversorgung needs, prepared (and checked against the walk extract)
    before any routing starts: see :func:`prepare_nahversorgung`."""

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


@dataclass
class Nahversorgung:
    """The result of :func:`nahversorgung`: the municipalities with their ``walk_*``
    columns, and the 100 m cells with their distances (``dist_{service}_m``)."""

    municipalities: pd.DataFrame
    cells: pd.DataFrame


def walk_facilities(features: OsmFeatures, *, stops: pd.DataFrame | None = None,
                    gtfs_name: str | None = None, min_departures: int = defaults.MIN_DEPARTURES,
                    gtfs_date: str = defaults.GTFS_DATE, facilities: pd.DataFrame | None = None,
                    extent=None) -> tuple[pd.DataFrame, str]:
    """The six services: OSM facilities, the frequent stops of a GTFS feed (they
    replace the OSM stops), the user's own table.

    A GTFS feed without any frequent stop inside ``extent`` (EPSG:3035) is an input
    error (another region or a date outside its calendar), not "nobody served".
    Returns the facility table (``service``, ``lon``, ``lat``, ``source``) and a line
    saying where the stops came from."""
    fac = features.facilities
    out = pd.DataFrame({"service": fac["service"].to_numpy(),
                        "lon": fac.geometry.x.to_numpy(), "lat": fac.geometry.y.to_numpy(),
                        "source": "OSM"})
    if stops is not None:
        if extent is not None:
            sx, sy = Transformer.from_crs(defaults.WGS84, defaults.GRID_CRS,
                                          always_xy=True).transform(
                stops["lon"].to_numpy(float), stops["lat"].to_numpy(float))
            if not shapely.covers(extent.buffer(2000), shapely.points(sx, sy)).any():
                raise InputError(
                    f"the GTFS feed {gtfs_name} has no stop with >= "
                    f"{min_departures} departures on {gtfs_date} inside the walk extract "
                    f"({len(stops)} such stops elsewhere): is it the feed of another region, "
                    "or is [walk] gtfs_date outside its calendar?")
        out = pd.concat([out[out["service"] != "stop"],
                         pd.DataFrame({"service": "stop", "lon": stops["lon"],
                                       "lat": stops["lat"], "source": "GTFS"})])
        stop_source = (f"GTFS {gtfs_name}: stops with >= {min_departures} "
                       f"departures on {gtfs_date}")
    else:
        stop_source = "OSM stops (no GTFS given: every stop counts, departures unknown)"
    if facilities is not None:
        out = pd.concat([out, facilities])
    return out.reset_index(drop=True), stop_source


def prepare_nahversorgung(walk_osm: str | Path, municipalities: pd.DataFrame, *,
                          service_rules=None, network: bool = True,
                          population_grid: pd.DataFrame | None = None,
                          grid_name: str | None = None,
                          polygons: gpd.GeoDataFrame | None = None,
                          stops: pd.DataFrame | None = None, gtfs_name: str | None = None,
                          min_departures: int = defaults.MIN_DEPARTURES,
                          gtfs_date: str = defaults.GTFS_DATE,
                          facilities: pd.DataFrame | None = None,
                          cache_dir: str | Path | None = None,
                          crs: str = defaults.METRIC_CRS) -> WalkInputs | str:
    """Services, the walk graph and the 100 m residents of the walk extract, or why
    the Nahversorgung cannot run (a sentence).

    Parameters
    ----------
    walk_osm : path
        OSM extract with footways, buildings, services and water.
    municipalities : DataFrame
        ``ags``, ``population``, reference points: residents are spread over them
        when there is no grid (and cells go to the nearest point without polygons).
    service_rules : optional
        The OSM tags of each service (:func:`accessibility.io.load_service_rules`).
    network : bool
        Build the walking network (for the network method).
    population_grid : DataFrame, optional
        Census grid (``x``, ``y`` in EPSG:3035, ``population``); ``grid_name`` names it
        in the report.
    polygons : GeoDataFrame, optional
        Municipality polygons (to spread populations, to assign cells).
    stops, gtfs_name, min_departures, gtfs_date
        The frequent stops of a GTFS feed (:func:`accessibility.io.frequent_stops`).
    facilities : DataFrame, optional
        The user's own facilities (``service``, ``lon``, ``lat``).
    cache_dir, crs
        Where the walk graph is cached, its metric CRS.
    """
    path = Path(walk_osm)
    if population_grid is None and polygons is None:
        return ("needs an OSM extract with services ([inputs] walk_osm) and residents: a "
                "population grid ([inputs] population_grid) or municipality polygons "
                "([inputs] boundaries) to spread populations.")
    # buildings spread a coarse grid (or municipal populations) over the cells: a 100 m
    # grid needs none, and a national file's buildings are most of the memory
    feats = extract_features(path, service_rules, buildings=population_grid is None or (
        cell_size(population_grid) or defaults.GRID_CELL_M) > 100)
    walk_graph = build_graph(path, "walk", cache_dir=cache_dir, crs=crs) if network else None
    # the walk extract's area: residents outside it don't count
    osm_fac = feats.facilities
    if walk_graph is not None:
        extent = study_extent(walk_graph.lon, walk_graph.lat)
    elif len(osm_fac):
        extent = study_extent(osm_fac.geometry.x.to_numpy(), osm_fac.geometry.y.to_numpy())
    else:
        extent = None
    fac, stop_source = walk_facilities(feats, stops=stops, gtfs_name=gtfs_name,
                                       min_departures=min_departures, gtfs_date=gtfs_date,
                                       facilities=facilities, extent=extent)
    if extent is None and len(fac):  # only GTFS stops or the user's table
        extent = study_extent(fac["lon"].to_numpy(), fac["lat"].to_numpy())
    if len(fac) == 0:
        return (f"{path.name} has no services (pharmacy, school, doctors, post office, "
                "supermarket, stops).")
    grid = None
    if population_grid is not None:
        lon_e, lat_e = Transformer.from_crs(defaults.GRID_CRS, defaults.WGS84,
                                            always_xy=True).transform(
            *np.asarray(extent.buffer(2000).exterior.coords).T)
        grid = clip_grid(population_grid, (min(lon_e), min(lat_e), max(lon_e), max(lat_e)),
                         name=grid_name)
    cells = resident_cells(extent, grid=grid, buildings=feats.buildings,
                           residential_areas=feats.landuse_residential,
                           municipalities=municipalities, polygons=polygons)
    pop_source = (f"population grid {grid_name + ' ' if grid_name else ''}"
                  f"({(cell_size(grid) or defaults.GRID_CELL_M):g} m)"
                  if grid is not None else SPREAD_SOURCE)
    water = feats.water.to_crs(defaults.GRID_CRS).geometry.to_numpy() if len(feats.water) else None
    gaps = (feats.crossings.to_crs(defaults.GRID_CRS).geometry.to_numpy()
            if len(feats.crossings) else None)
    return WalkInputs(path, walk_graph, fac, stop_source, cells, pop_source, water, gaps,
                      len(feats.water), len(feats.crossings))


def nahversorgung(walk: WalkInputs, municipalities: pd.DataFrame, *,
                  methods=defaults.WALK_METHODS, limit_m: float = defaults.WALK_LIMIT_M,
                  max_distance_m: float = defaults.WALK_MAX_DISTANCE_M,
                  max_snap_m: float = defaults.WALK_MAX_SNAP_M,
                  executor: Executor | None = None, tiles: str = defaults.TILES,
                  tile_size_m: float = defaults.TILE_SIZE_M, ags_prefixes=(), bbox=()
                  ) -> Nahversorgung:
    """Nahversorgung of the prepared walk extract (:func:`prepare_nahversorgung`):
    :func:`walk_distances` and :func:`walkability` in one step, as a run computes it.
    ``walk`` holds the walking network, so it comes first, as the graph does elsewhere.

    A municipality with residents in the walk extract is reported although it lies
    outside the road extract (``in_region`` set, ``reason`` says so), when it is
    inside the ``ags_prefixes`` / ``bbox`` cut. Returns the municipalities and the
    cells (:class:`Nahversorgung`).
    """
    if limit_m > max_distance_m:
        raise InputError(f"limit_m = {limit_m:g} m is beyond max_distance_m = "
                         f"{max_distance_m:g} m, the farthest a search looks: raise "
                         "max_distance_m to at least limit_m")
    if not isinstance(walk, WalkInputs):
        raise InputError("nahversorgung takes the prepared walk extract first: "
                         "nahversorgung(prepare_nahversorgung(walk_osm, municipalities, ...), "
                         f"municipalities), got {type(walk).__name__}")
    per_cell = walk_distances(walk.cells, walk.facilities, walk_graph=walk.walk_graph,
                              methods=methods, barriers=walk.water, gaps=walk.gaps,
                              max_distance_m=max_distance_m, max_snap_m=max_snap_m,
                              executor=executor, tiles=tiles, tile_size_m=tile_size_m)
    res = walkability(municipalities, per_cell, facilities=walk.facilities, limit_m=limit_m,
                      stop_source=walk.stop_source)
    cut = region_cut(res, ags_prefixes=ags_prefixes, bbox=bbox)
    # without a road extract (no in_region yet) the walk extract is the region
    inside = (res["in_region"].fillna(False).to_numpy(bool) if "in_region" in res.columns
              else np.zeros(len(res), bool))
    walk_only = ~inside & cut & (res["walk_residents"].fillna(0).to_numpy() > 0)
    res["in_region"] = inside | walk_only
    if "reason" in res.columns:
        res.loc[walk_only, "reason"] = "outside the road extract: Nahversorgung values only"
    return Nahversorgung(res, per_cell)


def services_reached(cells: pd.DataFrame, limit_m: float, suffix: str = "") -> np.ndarray:
    """How many of the services each cell reaches within ``limit_m`` (distance
    columns ``dist_{service}{suffix}_m``; no facility within reach counts as not
    reached)."""
    return sum((cells[f"dist_{s}{suffix}_m"].to_numpy() <= limit_m).astype(int)
               for s in SERVICES)
