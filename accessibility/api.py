"""The public Python API: one plain function per model, tables in and out.

Every function takes DataFrames or GeoDataFrames, the graph as a built
:class:`~accessibility.graph.RoadGraph` or a path (an OSM file, built and cached,
or a saved ``.npz``), and keyword-only options whose defaults live in
:mod:`accessibility.defaults`. Results are GeoDataFrames with one row per
municipality; missing values are NaN (with a ``reason`` where it helps), and the
lines a run's summary shows are in ``.attrs["report"]``. The command line
(:mod:`accessibility.pipeline`) calls these same functions.

Typical use::

    import accessibility as acc
    g = acc.build_graph("niedersachsen-latest.osm.pbf", cache_dir="cache")
    munis = acc.read_municipalities("gemeinden.csv")
    cp = acc.central_places(munis, "zentrale_orte.csv", g)
    lage = acc.lage(cp, g)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from . import defaults
from ._errors import InputError
from ._util import show as _show
from .compute import Executor, LocalExecutor
from .graph import RoadGraph, attach, build_graph, point_coordinates
from .io import (parse_central_places, read_central_places, read_reference_times,
                 write_profile_toml)
from .models.calibration import CalibrationResult, calibrate_speeds
from .models.central_places import central_place_access, join_central_places, make_origins
from .models.lage import run_lage
from .models.municipalities import mark_region, municipality_polygons, prepare_municipalities
from .models.settlement import settlement_types as _settlement_types
from .models.walkability import cell_distances, tiled_cell_distances, \
    walkability as _walkability
from .profile import DEFAULT_PROFILE, SpeedProfile, load_profile
from .routing import Decay
from .vocabulary import NO_FUNCTION

logger = logging.getLogger(__name__)

__all__ = ["as_graph", "attach", "calibrate_speeds_from_file", "central_places", "lage",
           "point_coordinates", "prepare_municipalities", "settlement_types", "walk_distances",
           "walkability"]

_NETWORK_COLUMNS = ("node", "snap_m", "access_s", "on_network")


def as_graph(graph: RoadGraph | str | Path, *, keep_points: tuple | None = None,
             max_snap_m: float = defaults.MAX_SNAP_M, profile=None,
             cache_dir: str | Path | None = None) -> RoadGraph:
    """A built graph as it is, or the graph of an OSM file / ``.npz`` (built once and
    cached in ``cache_dir``; ``keep_points`` keep their nodes through simplification)."""
    if isinstance(graph, RoadGraph):
        return graph
    if not isinstance(graph, (str, Path)):
        raise InputError(f"graph must be a RoadGraph or a path, got {type(graph).__name__}")
    return build_graph(graph, profile, keep_points=keep_points, max_snap_m=max_snap_m,
                       cache_dir=cache_dir)


def _attached(graph: RoadGraph, table: pd.DataFrame, max_snap_m, access_speed_kmh
              ) -> pd.DataFrame:
    """``table`` attached to ``graph``: as it is when it already carries the network
    columns and no setting is given, else attached with the given settings."""
    if set(_NETWORK_COLUMNS) <= set(table.columns) and max_snap_m is None \
            and access_speed_kmh is None:
        return table
    # settings of an earlier attach step win over the defaults, never silently lost
    before = table.attrs.get("attach", {})
    if max_snap_m is None:
        max_snap_m = before.get("max_snap_m", defaults.MAX_SNAP_M)
    if access_speed_kmh is None:
        access_speed_kmh = before.get("access_speed_kmh")  # None: the graph profile's
    return attach(graph, table.drop(columns=list(_NETWORK_COLUMNS), errors="ignore"),
                  max_snap_m=max_snap_m, access_speed_kmh=access_speed_kmh)


def _municipalities_on(graph, municipalities, max_snap_m, access_speed_kmh, cache_dir):
    munis = prepare_municipalities(municipalities)
    if not isinstance(graph, RoadGraph):
        ok = munis["lon"].notna().to_numpy()
        graph = as_graph(graph, keep_points=(munis["lon"].to_numpy()[ok],
                                             munis["lat"].to_numpy()[ok]),
                         max_snap_m=defaults.MAX_SNAP_M if max_snap_m is None else max_snap_m,
                         cache_dir=cache_dir)
    # notes on the table that the caller has not seen yet (the pipeline prepared it)
    seen = municipalities.attrs.get("report", [])
    report = [line for line in munis.attrs.get("report", []) if line not in seen]
    for line in report:
        logger.warning(line)
    munis = _attached(graph, munis, max_snap_m, access_speed_kmh)
    if "in_region" not in munis.columns:  # the area of the road extract
        munis = mark_region(munis, graph)
    return graph, munis, report


def central_places(municipalities: pd.DataFrame, central_places: pd.DataFrame | str | Path,
                   graph: RoadGraph | str | Path, *, origins: str = defaults.ORIGINS,
                   population_grid: pd.DataFrame | None = None,
                   polygons: gpd.GeoDataFrame | None = None,
                   area_grid_m: float = defaults.AREA_GRID_M,
                   max_snap_m: float | None = None, access_speed_kmh: float | None = None,
                   cache_dir: str | Path | None = None,
                   gz_with_mz_is_mz: bool = defaults.GZ_WITH_MZ_IS_MZ) -> gpd.GeoDataFrame:
    """Car time to the nearest Mittelzentrum and Oberzentrum per municipality.

    Parameters
    ----------
    municipalities : DataFrame or GeoDataFrame
        ``ags`` plus ``lon``/``lat`` reference points or polygons (then a
        representative point is used); ``name``, ``population``, ``area_km2``,
        ``gvb`` are used when present. A table already attached to ``graph``
        (:func:`accessibility.attach`) is used as it is.
    central_places : DataFrame or path
        ``ags`` and the function under any accepted column name (``central_place``,
        ``zo_funktion``, ...; Oberzentrum / Mittelzentrum / Grundzentrum / keine,
        OZ / MZ / GZ, "MZ mit OZ-Teilfunktion", ...), or the file to read.
    graph : RoadGraph or path
        A built graph, or an OSM file / saved ``.npz`` to build it from.
    origins : {"point", "population", "area"}
        Reference point per municipality (INKAR), populated grid cells weighted by
        residents (needs ``population_grid``), or a regular grid over the polygons.
    population_grid : DataFrame, optional
        ``x``, ``y`` (EPSG:3035 cell centres), ``population``.
    polygons : GeoDataFrame, optional
        Municipality polygons with ``ags`` (default: the geometry of
        ``municipalities`` when it has polygons); also the output geometry.
    area_grid_m : float
        Grid spacing of area origins (m).
    max_snap_m, access_speed_kmh : float, optional
        Snapping limit and access-leg speed (default
        :data:`~accessibility.defaults.MAX_SNAP_M`,
        the access speed of the graph's profile, else
        :data:`~accessibility.defaults.ACCESS_SPEED_KMH`).
    cache_dir : path, optional
        Where a graph built from a path is cached.
    gz_with_mz_is_mz : bool
        Count a Grundzentrum with MZ sub-function as a Mittelzentrum.

    Returns
    -------
    GeoDataFrame
        One row per municipality with ``t_mz_min``, ``t_oz_min`` (NaN where no value,
        see ``reason``), ``nearest_mz_ags``, ``nearest_oz_ags``, the BBSR classes
        and the network columns; ``.attrs["report"]``.

    Examples
    --------
    >>> import accessibility as acc
    >>> gdf = acc.central_places(munis, zo, "niedersachsen-latest.osm.pbf")  # doctest: +SKIP
    """
    graph, munis, report = _municipalities_on(graph, municipalities, max_snap_m,
                                              access_speed_kmh, cache_dir)
    cp = (read_central_places(central_places) if isinstance(central_places, (str, Path))
          else parse_central_places(central_places, path="(DataFrame passed to central_places)"))
    joined, join_report = join_central_places(munis.drop(columns=["central_place"],
                                                         errors="ignore"), cp)
    polygons = municipality_polygons(joined, polygons)
    if polygons is not None and getattr(polygons, "crs", None) is None:
        raise InputError("the municipality polygons have no CRS: set it (gdf.set_crs(...)) "
                         "so that they can be reprojected")
    org = None
    if origins != "point":
        org = make_origins(joined, origins, population_grid=population_grid,
                           polygons=polygons, area_grid_m=area_grid_m)
        settings = joined.attrs.get("attach", {})
        org = attach(graph, org, max_snap_m=settings.get("max_snap_m", defaults.MAX_SNAP_M),
                     access_speed_kmh=settings.get("access_speed_kmh"))
    out = central_place_access(graph, joined, origins=org, gz_with_mz_is_mz=gz_with_mz_is_mz)
    out = out.to_crs(defaults.WGS84) if out.crs is not None else out.set_crs(defaults.WGS84)
    if polygons is not None:  # planners want polygons in the GeoPackage
        geo = polygons.drop_duplicates("ags").set_index("ags").geometry.to_crs(defaults.WGS84)
        poly = geo.reindex(out["ags"]).to_numpy()
        out = out.set_geometry(np.where(pd.isna(poly), out.geometry.to_numpy(), poly))
    out.attrs["report"] = report + join_report.lines() + out.attrs.get("report", [])
    return out


def _decay(decay, beta, sigma_min, floor_min) -> Decay:
    if isinstance(decay, Decay):
        return decay
    return Decay(decay, beta=beta, sigma_min=sigma_min, floor_min=floor_min)


def lage(municipalities: pd.DataFrame, graph: RoadGraph | str | Path, *,
         commuters: pd.DataFrame | None = None, decay: Decay | str = defaults.DECAY,
         beta: float = defaults.BETA, sigma_min: float = defaults.SIGMA_MIN,
         floor_min: float = defaults.FLOOR_MIN, limit_min: float = defaults.LIMIT_MIN,
         thresholds=defaults.LAGE_THRESHOLDS, engine: str = defaults.ENGINE,
         calibrate: bool = False, target_mean: float = defaults.TARGET_MEAN,
         max_snap_m: float | None = None, access_speed_kmh: float | None = None,
         cache_dir: str | Path | None = None, executor: Executor | None = None,
         chunk: int = defaults.LAGE_CHUNK) -> gpd.GeoDataFrame:
    """Lage: decay-weighted daytime population reachable within 2 hours by car,
    its BBSR class and the Stadt- und Gemeindetyp.

    Parameters
    ----------
    municipalities : DataFrame or GeoDataFrame
        ``ags``, reference points, ``population``; ``gvb`` and ``central_place``
        for the settlement types (without ``central_place`` only population counts).
        A table already attached to ``graph`` is used as it is.
    graph : RoadGraph or path
    commuters : DataFrame, optional
        ``ags``, ``in_commuters``, ``out_commuters`` (Tagesbevölkerung); residents
        are used without it, and the result says so.
    decay : Decay or {"none", "exponential", "gaussian", "power"}
        Distance decay in minutes; with a kind, ``beta``, ``sigma_min`` and
        ``floor_min`` set its parameters.
    limit_min : float
        Destinations within this many minutes count (BBSR: 120).
    thresholds : three floats
        Lower bounds of peripher, zentral, sehr zentral.
    engine : {"dijkstra", "ch"}
        Bounded searches, or a contraction hierarchy (national runs).
    calibrate : bool
        Fit the decay parameter so that the mean potential equals ``target_mean``.
    max_snap_m, access_speed_kmh, cache_dir
        As in :func:`central_places`.
    executor : Executor, optional
        Runs the origins in chunks of ``chunk`` as independent tasks, e.g. on Dask
        (``with accessibility.compute.open_executor(config.compute) as ex``); the
        values are identical.

    Returns
    -------
    GeoDataFrame
        ``potential_2h`` (NaN off the network), ``n_reached``, ``edge_flag``,
        ``lage``, ``daytime_population``, ``settlement_type`` ...;
        ``.attrs["report"]`` and ``.attrs["decay"]`` (the decay used).
        :func:`accessibility.models.lage.lage_tables` gives GVB and Kreis tables.
    """
    graph, munis, report = _municipalities_on(graph, municipalities, max_snap_m,
                                              access_speed_kmh, cache_dir)
    if "central_place" not in munis.columns:
        munis = munis.assign(central_place=NO_FUNCTION)  # no function known
    out = run_lage(graph, munis, commuters, decay=_decay(decay, beta, sigma_min, floor_min),
                   calibrate=calibrate, target_mean=target_mean, limit_min=limit_min,
                   thresholds=thresholds, engine=engine, cache_dir=cache_dir,
                   executor=executor, chunk=chunk)
    report += out.attrs.get("report", [])
    if not isinstance(out, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]),
                               crs=defaults.WGS84)
    out.attrs["report"] = report
    return out


def settlement_types(municipalities: pd.DataFrame, *, function: str = "highest"
                     ) -> pd.DataFrame:
    """Stadt- und Gemeindetyp of every municipality (that of its Gemeindeverband).

    ``municipalities`` needs ``ags``, ``population`` and ideally ``gvb`` and
    ``central_place``. Returns the table with ``settlement_type`` and
    ``settlement_type_detail``; the per-GVB table is
    :func:`accessibility.models.settlement.settlement_types`.
    """
    munis = prepare_municipalities(municipalities)
    if "central_place" not in munis.columns:
        munis = munis.assign(central_place=NO_FUNCTION)
    gvb, out = _settlement_types(munis, function=function)
    counts = gvb["settlement_type"].value_counts()
    out.attrs["report"] = munis.attrs.get("report", []) + [
        f"{len(gvb):,} Gemeindeverbände: " + ", ".join(f"{k} {v}" for k, v in counts.items())]
    return out


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
    per = _walkability(cells, limit_m=limit_m)
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
               if cells.attrs.get("assignment") == "polygon" else
               "The cells were assigned to the nearest reference point: give municipality "
               "boundaries ([inputs] boundaries) to assign them by polygon."))
        logger.warning(report[-1])
    partial = have & ~over & (cov < 0.95)
    if partial.any():
        report.append(f"{int(partial.sum())} municipalities lie only partly inside the walk "
                      "extract (walk_coverage < 95 %): their values describe the covered part.")
    out.attrs["report"] = report
    return out


def calibrate_speeds_from_file(graph: RoadGraph, municipalities: pd.DataFrame,
                               reference_path: str | Path, *,
                               base_profile: SpeedProfile | str | Path | None = None,
                               out_profile: str | Path | None = None,
                               bounds: tuple[float, float] = defaults.CALIBRATION_BOUNDS,
                               iterations: int = defaults.CALIBRATION_ITERATIONS,
                               fit_access: bool = False,
                               access_bounds_kmh: tuple[float, float] | None = None,
                               maxspeed_factors: Sequence[float] | None = None,
                               rebuild: Callable[[SpeedProfile], tuple[RoadGraph, pd.DataFrame]]
                               | None = None,
                               comment: list[str] | None = None) -> CalibrationResult:
    """Read reference times, calibrate the speeds, optionally write the profile.

    Parameters
    ----------
    graph : RoadGraph
        Car graph built with ``base_profile``.
    municipalities : DataFrame
        Attached to ``graph`` (:func:`accessibility.attach`), with ``central_place``
        for "nearest OZ/MZ" rows and GVB means, ``gvb`` and ``area_km2`` for GVB
        means.
    reference_path : str or Path
        Reference travel times, trips or INKAR GVB means (see
        :func:`accessibility.io.read_reference_times`; the format is told by the
        columns).
    base_profile : SpeedProfile, str or Path, optional
        The profile the graph was built with. Default: the graph's profile when it
        is the built-in default.
    out_profile : str or Path, optional
        Where to write the calibrated profile as TOML.
    bounds, iterations, fit_access, access_bounds_kmh
        See :func:`accessibility.models.calibration.calibrate_speeds`
        (``access_bounds_kmh`` default
        :data:`~accessibility.models.calibration.ACCESS_BOUNDS_KMH`).
    maxspeed_factors : sequence of float, optional
        Also fit the profile's maxspeed factor by trying these values (see
        :func:`accessibility.models.calibration.fit_maxspeed_factor`); needs
        ``rebuild``.
    rebuild : callable, optional
        ``rebuild(profile) -> (graph, municipalities)``: the graph built again with
        another profile and the municipalities attached to it.
        :func:`accessibility.pipeline.calibrate` passes one.
    comment : list of str, optional
        Extra lines for the head of the written profile.

    Returns
    -------
    CalibrationResult
    """
    from .models.calibration import ACCESS_BOUNDS_KMH, fit_maxspeed_factor

    if base_profile is not None and not isinstance(base_profile, SpeedProfile):
        base_profile = load_profile(base_profile)
    if base_profile is None:
        built = graph.meta.get("profile_fingerprint")
        if built is None or built == DEFAULT_PROFILE.fingerprint():
            base_profile = DEFAULT_PROFILE
        elif out_profile is not None or maxspeed_factors is not None:
            raise InputError(f"the graph was built with speed profile "
                             f"{graph.meta.get('profile')!r}: give it as base_profile so that "
                             "the calibrated profile can be written")
    refs = read_reference_times(reference_path)
    kwargs = {"bounds": bounds, "iterations": iterations, "fit_access": fit_access,
              "access_bounds_kmh": access_bounds_kmh or ACCESS_BOUNDS_KMH}
    if maxspeed_factors is not None:
        if rebuild is None:
            raise InputError("fitting the maxspeed factor builds the graph again for every "
                             "factor: use accessibility.pipeline.calibrate (or the "
                             "'accessibility calibrate' command), which knows the OSM file, "
                             "or pass rebuild")

        def build(profile: SpeedProfile):
            # the graph given was built with the base profile: no need to build it again
            if profile.fingerprint() == base_profile.fingerprint():
                return graph, municipalities
            return rebuild(profile)

        result = fit_maxspeed_factor(build, refs, base_profile,
                                     maxspeed_factors=maxspeed_factors, **kwargs)
    else:
        result = calibrate_speeds(graph, municipalities, refs, base_profile=base_profile,
                                  **kwargs)
    if out_profile is not None:
        write_profile_toml(result.profile, out_profile, comment=[
            *(comment or []),
            f"Calibrated from {Path(reference_path).name} by accessibility "
            "(speed calibration).", *result.lines()])
        logger.info("wrote calibrated speed profile to %s", out_profile)
    return result



# --------------------------------------------------------------------------------------
# Further indicators of the report (issue 12): car times to motorway junctions,
# long-distance stations and airports; public-transport departures; commuters.
# (Imported here, with the functions that use them.)
from .io.destinations import (builtin_airports, read_airports, read_destinations,  # noqa: E402
                              read_long_distance_stations, read_motorway_junctions)
from .io.gtfs import (GtfsFeed, long_distance_stations, read_gtfs,  # noqa: E402
                      stop_departures_by_mode)
from .io.commuters import read_commuters  # noqa: E402
from .models.indicators import (DESTINATION_KINDS, STOP_ASSIGN_M,  # noqa: E402
                                check_destinations, commuter_indicators as _commuter_indicators,
                                departures_per_1000, facility_access, unit_indicators)

__all__ += ["collect_destinations", "commuter_indicators", "facility_times",
            "indicators_by_unit", "pt_departures"]


def collect_destinations(*, osm: str | Path | None = None,
                         stations: str | Path | None = None,
                         gtfs: GtfsFeed | str | Path | None = None,
                         gtfs_date: str = defaults.GTFS_DATE,
                         airports: bool | str | Path | pd.DataFrame = True,
                         overrides: str | Path | pd.DataFrame | None = None) -> pd.DataFrame:
    """The destination table of :func:`facility_times` from the usual sources.

    Parameters
    ----------
    osm : path, optional
        OSM extract: motorway junctions (:func:`accessibility.io.read_motorway_junctions`).
    stations : path, optional
        DB station table (``db_long_distance_stations.csv`` format): Fernbahnhöfe by
        :func:`accessibility.io.read_long_distance_stations` (flagged ICE or IC/EC and
        price class 1-3, occasional stops excluded).
    gtfs : GtfsFeed or path, optional
        A GTFS feed: stations with long-distance departures on ``gtfs_date``
        (:func:`accessibility.io.gtfs.long_distance_stations`); added to ``stations``.
    gtfs_date : str
        The day of the GTFS count (``YYYY-MM-DD``).
    airports : bool, path or DataFrame
        True: the built-in list of German international airports
        (``accessibility/data/airports_de.csv``), each located by its
        ``aeroway=aerodrome`` + ``iata`` in ``osm`` where the extract has it, else at
        the list's coordinates; a path or table: the user's airports; False: none.
    overrides : path or DataFrame, optional
        A user table (``kind``/``service``, ``lon``, ``lat``, optional ``name``, ``id``;
        :func:`accessibility.io.read_destinations`): replaces every built-in source of
        the kinds it holds.

    Returns
    -------
    DataFrame
        ``kind``, ``id``, ``name``, ``lon``, ``lat``, ``source`` (plus reader-specific
        columns); ``.attrs["report"]`` says what came from where.
    """
    parts: list[pd.DataFrame] = []
    report: list[str] = []
    if osm is not None:
        parts.append(read_motorway_junctions(osm))
    if stations is not None:
        st = read_long_distance_stations(stations)
        report += st.attrs.get("report", [])
        parts.append(st)
    if gtfs is not None:
        parts.append(long_distance_stations(gtfs, gtfs_date))
    if isinstance(airports, pd.DataFrame):
        parts.append(check_destinations(airports.assign(kind="airport")
                                        if "kind" not in airports.columns
                                        and "service" not in airports.columns else airports))
    elif airports is True:  # the list, located in the extract where it has them
        parts.append(builtin_airports(osm))
    elif airports not in (False, None):
        parts.append(read_airports(airports))
    if overrides is not None:
        over = (read_destinations(overrides) if isinstance(overrides, (str, Path))
                else check_destinations(overrides))
        kinds = set(over["kind"])
        parts = [p[~p["kind"].isin(kinds)] for p in parts] + [over]
        report.append(f"User destinations replace the built-in sources of: "
                      f"{', '.join(k for k in DESTINATION_KINDS if k in kinds)}.")
    parts = [p for p in parts if len(p)]
    if not parts:
        raise InputError("no destinations: give an OSM extract (motorway junctions), a station "
                         "table or GTFS feed (long-distance stations), airports or a user table")
    out = check_destinations(pd.concat(parts, ignore_index=True))
    for kind in DESTINATION_KINDS:
        sub = out[out["kind"] == kind]
        if len(sub):
            report.append(f"{kind}: {len(sub):,} destinations "
                          f"({', '.join(sorted(set(sub['source'].dropna().astype(str))))}).")
    out.attrs["report"] = report
    return out


def facility_times(municipalities: pd.DataFrame, destinations: pd.DataFrame | str | Path,
                   graph: RoadGraph | str | Path, *, kinds: Sequence[str] | None = None,
                   max_snap_m: float | None = None, access_speed_kmh: float | None = None,
                   destination_max_snap_m: float | None = None,
                   cache_dir: str | Path | None = None) -> gpd.GeoDataFrame:
    """Car time to the nearest motorway junction, long-distance rail station and
    international airport per municipality (``t_motorway_min``, ``t_ldrail_min``,
    ``t_airport_min``), with the rules of ``t_mz_min``.

    Parameters
    ----------
    municipalities : DataFrame or GeoDataFrame
        As for :func:`central_places`; a table already attached to ``graph`` (e.g.
        the result of :func:`central_places`) is used as it is and gets the new
        columns.
    destinations : DataFrame or path
        ``kind`` (``motorway``, ``ldrail``, ``airport``), ``id``, ``name``, ``lon``,
        ``lat``: from :func:`collect_destinations`, or a user table / its path
        (:func:`accessibility.io.read_destinations`).
    graph : RoadGraph or path
    kinds : sequence of str, optional
        Kinds to compute (default: those in ``destinations``).
    max_snap_m, access_speed_kmh, cache_dir
        As in :func:`central_places` (the municipalities' attach settings).
    destination_max_snap_m : float, optional
        Snapping limit of the destinations (default: that of the municipalities).
        Destinations farther from the network are not routed to; they raise the edge
        flag of municipalities they might be nearer to.

    Returns
    -------
    GeoDataFrame
        The municipalities with, per kind, ``t_{kind}_min`` (NaN where no value, see
        ``facility_reason``), ``nearest_{kind}_id``, ``nearest_{kind}_name``,
        ``{kind}_class``, ``{kind}_class_code``, ``{kind}_edge_flag``;
        ``.attrs["report"]``. Meanings: :data:`accessibility.models.indicators.COLUMNS`.

    Examples
    --------
    >>> dest = acc.api.collect_destinations(osm="region.osm.pbf")   # doctest: +SKIP
    >>> out = acc.api.facility_times(munis, dest, graph)             # doctest: +SKIP
    >>> out[["ags", "t_motorway_min", "nearest_motorway_name"]]      # doctest: +SKIP
    """
    graph, munis, report = _municipalities_on(graph, municipalities, max_snap_m,
                                              access_speed_kmh, cache_dir)
    dest = (read_destinations(destinations) if isinstance(destinations, (str, Path))
            else destinations)
    report += list(getattr(dest, "attrs", {}).get("report", []))
    dest = check_destinations(dest)
    settings = munis.attrs.get("attach", {})
    snap = (destination_max_snap_m if destination_max_snap_m is not None
            else settings.get("max_snap_m", defaults.MAX_SNAP_M))
    dest = attach(graph, dest.drop(columns=list(_NETWORK_COLUMNS), errors="ignore"),
                  max_snap_m=snap, access_speed_kmh=settings.get("access_speed_kmh"),
                  id_column="id")
    out = facility_access(graph, munis, dest, kinds=kinds)
    if not isinstance(out, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]),
                               crs=defaults.WGS84)
    out.attrs["report"] = report + [line for line in out.attrs.get("report", [])
                                    if line not in report]
    return out


def pt_departures(municipalities: pd.DataFrame, gtfs: GtfsFeed | str | Path, *,
                  date: str = defaults.GTFS_DATE, polygons: gpd.GeoDataFrame | None = None,
                  max_assign_m: float = STOP_ASSIGN_M,
                  exclude_last_stop: bool = True) -> pd.DataFrame:
    """Public-transport departures per 1,000 residents on a weekday, all modes
    (``pt_departures_per_1000``) and railway only (``rail_departures_per_1000``;
    trams, Stadtbahn and U-Bahn apart in ``tram_departures_per_1000``).

    Parameters
    ----------
    municipalities : DataFrame or GeoDataFrame
        ``ags``, ``population`` and reference points (``lon``/``lat``) or polygons.
    gtfs : GtfsFeed or path
        The GTFS feed (:func:`accessibility.io.read_gtfs`).
    date : str
        The weekday counted (``YYYY-MM-DD``; default
        :data:`~accessibility.defaults.GTFS_DATE`).
    polygons : GeoDataFrame, optional
        Municipality polygons with ``ags`` (e.g. VG250 from
        :func:`accessibility.read_municipalities`); default: the polygons of
        ``municipalities`` when it has them. Without polygons, stops go to the nearest
        reference point within ``max_assign_m`` (and the report says so).
    max_assign_m : float
        See ``polygons`` (m).
    exclude_last_stop : bool
        Do not count a trip's last stop (an arrival, not a departure).

    Returns
    -------
    DataFrame or GeoDataFrame
        The municipalities with ``pt_departures``, ``rail_departures``,
        ``tram_departures``, ``n_pt_stops``, the ``*_per_1000`` columns,
        ``pt_stop_assignment`` and ``pt_reason`` (NaN outside the feed's area: no
        stop of the feed in the municipality, its point outside the convex hull of
        the feed's stops); ``.attrs["report"]``.
    """
    munis = prepare_municipalities(municipalities)
    feed = gtfs if isinstance(gtfs, GtfsFeed) else read_gtfs(gtfs)
    stops = stop_departures_by_mode(feed, date, exclude_last_stop=exclude_last_stop)
    every = feed.stops.rename(columns={"stop_lon": "lon", "stop_lat": "lat"})[["lon", "lat"]]
    polygons = municipality_polygons(munis, polygons)
    out = departures_per_1000(munis, stops, polygons=polygons, max_assign_m=max_assign_m,
                              feed_stops=every)
    out.attrs["report"] = [f"Departures counted on {date} in {Path(feed.source).name}."] + \
        out.attrs.get("report", [])
    return out


def commuter_indicators(municipalities: pd.DataFrame, commuters: pd.DataFrame | str | Path
                        ) -> pd.DataFrame:
    """Pendlersaldo per 100 employees at the workplace (``commuter_balance_per_100``)
    and residents per job (``residents_per_job``, Wohnzentralität).

    Parameters
    ----------
    municipalities : DataFrame
        ``ags`` and ``population``.
    commuters : DataFrame or path
        A table or file as :func:`accessibility.io.read_commuters` reads it (a plain
        table or the BA Pendlerstatistik as published); needs the employees at the
        workplace for the two indicators.

    Returns
    -------
    DataFrame or GeoDataFrame
        The municipalities with ``in_commuters``, ``out_commuters``,
        ``employees_workplace``, ``commuter_balance``, ``commuter_balance_per_100``,
        ``residents_per_job``, ``commuter_reason``; ``.attrs["report"]``.
    """
    munis = prepare_municipalities(municipalities)
    table = read_commuters(commuters) if isinstance(commuters, (str, Path)) else commuters
    return _commuter_indicators(munis, table)


def indicators_by_unit(df: pd.DataFrame, by: str | None = "gvb") -> pd.DataFrame:
    """The further indicators per Gemeindeverband (``by="gvb"``), Kreis, Land or overall
    (None): times as area- and population-weighted means, departures and commuters
    as ratios of sums (:func:`accessibility.models.indicators.unit_indicators`)."""
    return unit_indicators(df, by)


# --------------------------------------------------------------------------------------
# Where to designate (issue 13): which municipalities to upgrade to Mittelzentrum.
from .models.planning import (DEFAULT_CANDIDATES, coverage_problem,  # noqa: E402
                              solve_lscp, solve_mclp)

__all__ += ["plan"]


def plan(municipalities: pd.DataFrame, graph: RoadGraph | str | Path, *, k: int | None = 1,
         standard_min: float = defaults.STANDARD_MZ_MIN,
         candidates=DEFAULT_CANDIDATES, objective: str = "max_coverage") -> pd.DataFrame:
    """Which candidates to upgrade to Mittelzentrum (maximal or set covering).

    Parameters
    ----------
    municipalities : DataFrame
        The result of :func:`central_places` (attached, with ``t_mz_min``,
        ``central_place``, ``population``; ``in_region`` when present).
    graph : RoadGraph or path
    k : int, optional
        Number of upgrades (``objective="max_coverage"``).
    standard_min : float
        The accessibility standard in minutes (default 30).
    candidates : sequence of str
        Central-place functions (default Grundzentren, also with MZ sub-function) or
        AGS of the candidates.
    objective : {"max_coverage", "set_cover"}
        The ``k`` upgrades that bring the most residents within the standard, or the
        fewest that bring every coverable municipality within it.

    Returns
    -------
    DataFrame
        The upgrades: ``rank``, ``ags``, ``name``, ``residents_gained``,
        ``municipalities_gained``. ``.attrs``: ``report`` (lines), ``residents_covered``,
        ``greedy_residents``, ``greedy_chosen``, ``gap``, ``status``, ``seconds``;
        ``attrs["uncoverable"]`` lists the AGS no candidate can bring within the
        standard. See :mod:`accessibility.models.planning`.
    """
    if objective not in ("max_coverage", "set_cover"):
        raise InputError(f"objective must be 'max_coverage' or 'set_cover', got {objective!r}")
    g = as_graph(graph)
    problem = coverage_problem(g, municipalities, standard_min=standard_min,
                               candidates=candidates)
    if objective == "max_coverage":
        if k is None:
            raise InputError("max_coverage needs k, the number of upgrades")
        res = solve_mclp(problem, k)
    else:
        res = solve_lscp(problem)
    out = res.chosen.copy()
    out.attrs = {"report": res.lines(problem), "objective": res.objective,
                 "residents_covered": res.residents_covered,
                 "greedy_residents": res.greedy_residents, "greedy_chosen": res.greedy_chosen,
                 "greedy_upgrades": res.greedy_upgrades, "gap": res.gap,
                 "status": res.status, "seconds": res.seconds,
                 "uncoverable": res.uncoverable["ags"].tolist(),
                 "residents_beyond_before": float(problem.weights.sum()),
                 "residents_within_before": problem.covered_before}
    for line in out.attrs["report"]:
        logger.info(line)
    return out


# --------------------------------------------------------------------------------------
# Matrices and isochrones (issue 13).
from .models.matrices import isochrones as _isochrones, time_matrix as _time_matrix  # noqa: E402

__all__ += ["isochrones", "time_matrix"]


def time_matrix(municipalities: pd.DataFrame, graph: RoadGraph | str | Path, *,
                limit_min: float = 60.0, destinations=None, engine: str = defaults.ENGINE,
                cache_dir=None) -> pd.DataFrame:
    """Car times between municipalities within ``limit_min``, long format
    (``origin_ags``, ``destination_ags``, ``minutes``; access legs at both ends,
    unreached pairs absent). See :func:`accessibility.models.matrices.time_matrix`."""
    g = as_graph(graph)
    m = _attached(g, municipalities, None, None)
    return _time_matrix(g, m, limit_min=limit_min, destinations=destinations, engine=engine,
                        cache_dir=cache_dir)


def isochrones(centres: pd.DataFrame, graph: RoadGraph | str | Path, *,
               minutes=(15.0, 30.0, 60.0), direction: str = "to",
               max_buffer_m: float = defaults.ISOCHRONE_MAX_BUFFER_M) -> gpd.GeoDataFrame:
    """The areas from which each centre is reached (``direction="to"``) or that it
    reaches (``"from"``) within each of ``minutes``, as MultiPolygons in WGS84. See
    :func:`accessibility.models.matrices.isochrones`."""
    g = as_graph(graph)
    c = _attached(g, centres, None, None)
    return _isochrones(g, c, minutes=minutes, direction=direction, max_buffer_m=max_buffer_m)


# --------------------------------------------------------------------------------------
# What-if scenarios (issue 13).
from .models.scenario import (Scenario, apply_roads, compare,  # noqa: E402
                              read_scenario, scenario_central_places, scenario_municipalities)

__all__ += ["scenario", "scenario_batch", "scenario_batch_runs", "scenario_runs"]
# the public functions under other names: scenario()'s parameters share their names
central_places_, lage_ = central_places, lage


def scenario_runs(municipalities: pd.DataFrame, central_places: pd.DataFrame | str | Path,
                  graph: RoadGraph | str | Path, changes: Scenario, models
                  ) -> tuple[pd.DataFrame, pd.DataFrame, RoadGraph, dict]:
    """Base and scenario results of ``models(graph, municipalities, central_places)``
    (a function returning the per-municipality result, e.g. central places and Lage).

    The scenario's designations and populations change the tables, its road changes
    the graph (:func:`accessibility.models.scenario.apply_roads`; the base graph is
    reused as it is when the roads do not change). Returns the base and scenario
    rows of the region (``in_region``) in the same order, the scenario graph, and
    what the roads scenario did with the seconds of each step (``times_s``).
    """
    g, m, cp = _scenario_inputs(graph, municipalities, central_places)
    t = time.perf_counter()
    base = models(g, m, cp)
    t_base = time.perf_counter() - t
    b, scen, g_s, info = _scenario_task(changes, graph=g, munis=m, central_places=cp,
                                        models=models, base=base)
    info["times_s"] = {"base": t_base, **info["times_s"]}
    return b, scen, g_s, info


def _scenario_inputs(graph, municipalities, central_places):
    g = as_graph(graph)
    cp = (read_central_places(central_places) if isinstance(central_places, (str, Path))
          else central_places)
    return g, _attached(g, municipalities, None, None), cp


def _scenario_task(changes: Scenario, *, graph: RoadGraph, munis: pd.DataFrame,
                   central_places: pd.DataFrame, models, base: pd.DataFrame):
    """One scenario against a computed base (a task of :func:`scenario_batch`)."""
    times = {}
    t = time.perf_counter()
    g_s, info = apply_roads(graph, changes) if changes.changes_roads else (graph, {})
    times["scenario graph" + (" (derived, no OSM parse)" if changes.changes_roads else
                              " (the base graph, unchanged)")] = time.perf_counter() - t
    t = time.perf_counter()
    scen = models(g_s, scenario_municipalities(munis, changes),
                  scenario_central_places(central_places, changes))
    times["scenario models"] = time.perf_counter() - t
    region = (base["in_region"].to_numpy(bool) if "in_region" in base.columns
              else np.ones(len(base), bool))
    b = base[region]
    return b, scen.set_index("ags").loc[b["ags"]].reset_index(), g_s, {**info, "times_s": times}


class _ScenarioModels:
    """Central places and (with populations) the Lage: what a scenario compares.
    A class, not a closure, so Dask workers can unpickle it."""

    def __init__(self, commuters=None, lage: bool = True, decay: Decay | None = None):
        self.commuters, self.lage, self.decay = commuters, lage, decay

    def __call__(self, graph_, munis_, cp_):
        res = central_places_(munis_, cp_, graph_)
        if self.lage and pd.to_numeric(res["population"], errors="coerce").notna().any():
            res = lage_(res, graph_, commuters=self.commuters,
                       **({"decay": self.decay} if self.decay is not None else {}))
        return res


def _compared(base, scen, info, sc: Scenario) -> pd.DataFrame:
    out = compare(base, scen)
    out.attrs = {"road_changes": {k: v for k, v in info.items() if k != "times_s"},
                 "scenario": sc.name}
    return out


def scenario(municipalities: pd.DataFrame, central_places: pd.DataFrame | str | Path,
             graph: RoadGraph | str | Path, changes: Scenario | str | Path, *,
             commuters: pd.DataFrame | None = None, lage: bool = True,
             decay: Decay | None = None) -> pd.DataFrame:
    """Base and scenario side by side: the change of every indicator per municipality.

    Parameters
    ----------
    municipalities : DataFrame
        Attached municipalities (:func:`attach`; ``in_region`` when present).
    central_places : DataFrame or path
        The base designations.
    graph : RoadGraph or path
    changes : Scenario or path
        The scenario (:func:`accessibility.models.scenario.read_scenario`).
    commuters : DataFrame, optional
        For the daytime population of the Lage.
    lage : bool
        Also compare the Lage (needs populations).
    decay : Decay, optional
        The Lage's decay (default exponential, beta 0.076).

    Returns
    -------
    DataFrame
        :func:`accessibility.models.scenario.compare` of the region's municipalities;
        ``.attrs["road_changes"]`` says what the roads scenario did.
    """
    sc = changes if isinstance(changes, Scenario) else read_scenario(changes)
    base, scen, _, info = scenario_runs(municipalities, central_places, graph, sc,
                                        _ScenarioModels(commuters, lage, decay))
    return _compared(base, scen, info, sc)


def scenario_batch(municipalities: pd.DataFrame, central_places: pd.DataFrame | str | Path,
                   graph: RoadGraph | str | Path, scenarios: Sequence[Scenario | str | Path], *,
                   commuters: pd.DataFrame | None = None, lage: bool = True,
                   decay: Decay | None = None, executor: Executor | None = None
                   ) -> dict[str, pd.DataFrame]:
    """Several scenarios against one base: the base is computed once, each scenario
    is an independent task (of ``executor``, e.g. on Dask workers; in this process
    without one).

    Parameters are those of :func:`scenario`; ``scenarios`` are Scenario objects or
    TOML files. Returns ``{scenario name: comparison}``, each as :func:`scenario`
    returns it (identical values).
    """
    scs = [s if isinstance(s, Scenario) else read_scenario(s) for s in scenarios]
    names = [s.name for s in scs]
    if len(set(names)) != len(names):
        raise InputError(f"scenario names repeat ({_show(names)}): give each its own name")
    runs = scenario_batch_runs(municipalities, central_places, graph, scs,
                               _ScenarioModels(commuters, lage, decay), executor)
    return {sc.name: _compared(b, s, info, sc) for sc, (b, s, _, info) in zip(scs, runs)}


def scenario_batch_runs(municipalities: pd.DataFrame, central_places: pd.DataFrame | str | Path,
                        graph: RoadGraph | str | Path, scenarios: Sequence[Scenario], models,
                        executor: Executor | None = None) -> list[tuple]:
    """:func:`scenario_runs` for several scenarios: the base once, then one task per
    scenario (``models`` must be picklable for Dask: a module-level function or a
    ``functools.partial`` of one). Returns one ``(base, scenario, graph, info)`` per
    scenario; ``info["times_s"]["base"]`` is the shared base's time."""
    g, m, cp = _scenario_inputs(graph, municipalities, central_places)
    t = time.perf_counter()
    base = models(g, m, cp)
    t_base = time.perf_counter() - t
    shared = {"graph": g, "munis": m, "central_places": cp, "models": models, "base": base}
    runs = (executor or LocalExecutor()).map(_scenario_task, list(scenarios), shared=shared,
                                              what="scenarios")
    for r in runs:
        r[3]["times_s"] = {"base (shared by the batch)": t_base, **r[3]["times_s"]}
    return runs

