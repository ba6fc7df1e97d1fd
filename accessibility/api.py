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
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from . import defaults
from ._errors import InputError
from .graph import RoadGraph, attach, build_graph, point_coordinates
from .io import (join_central_places, parse_central_places, read_central_places,
                 read_reference_times, write_profile_toml)
from .models.calibration import CalibrationResult, calibrate_speeds
from .models.central_places import central_place_access, make_origins
from .models.lage import run_lage
from .models.municipalities import mark_region, municipality_polygons, prepare_municipalities
from .models.settlement import settlement_types as _settlement_types
from .models.walkability import cell_distances, walkability as _walkability
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
         cache_dir: str | Path | None = None) -> gpd.GeoDataFrame:
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
                   thresholds=thresholds, engine=engine, cache_dir=cache_dir)
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
                   cache_dir: str | Path | None = None) -> pd.DataFrame:
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

