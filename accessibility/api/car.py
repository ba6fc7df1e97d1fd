"""The car models: central places, Lage and settlement types, planning, matrices,
isochrones, and the speed calibration."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import defaults
from .._checks import check_thresholds
from .._errors import GRAPH_FIRST, InputError
from ..compute import Executor
from ..graph import RoadGraph, attach
from ..io import (
    check_new_file,
    parse_central_places,
    read_central_places,
    read_reference_times,
    read_run_lage,
    write_profile_toml,
)
from ..models.calibration import CalibrationResult, calibrate_speeds, fit_maxspeed_factor
from ..models.central_places import central_place_access, join_central_places, make_origins
from ..models.lage import (
    DEFAULT_DECAY,
    LageCalibration,
    calibrate_lage as _calibrate_lage,
    lage_tables,
    run_lage,
)
from ..models.lage_tables import imported_lage
from ..models.matrices import isochrones as _isochrones, time_matrix as _time_matrix
from ..models.municipalities import municipality_polygons, prepare_municipalities
from ..models.planning import (
    DEFAULT_CANDIDATES,
    PlanResult,
    PlanSeries,
    coverage_problem,
    solve_lscp,
    solve_mclp,
    solve_series,
)
from ..models.settlement import settlement_types as _settlement_types
from ..models.standards import beyond_standards
from ..models.units import apply_unit, gvb_table
from ..profile import DEFAULT_PROFILE, SpeedProfile, load_profile
from ..routing import Decay
from ..vocabulary import NO_FUNCTION
from ._common import as_decay, as_graph, attached, municipalities_on, settings_of

logger = logging.getLogger(__name__)


def central_places(graph: RoadGraph | str | Path, municipalities: pd.DataFrame,
                   central_places: pd.DataFrame | str | Path, *, origins: str = defaults.ORIGINS,
                   population_grid: pd.DataFrame | None = None,
                   polygons: gpd.GeoDataFrame | None = None,
                   area_grid_m: float = defaults.AREA_GRID_M,
                   max_snap_m: float | None = None, access_speed_kmh: float | None = None,
                   cache_dir: str | Path | None = None,
                   gz_with_mz_is_mz: bool = defaults.GZ_WITH_MZ_IS_MZ,
                   standard_mz_min: float = defaults.STANDARD_MZ_MIN,
                   standard_oz_min: float = defaults.STANDARD_OZ_MIN,
                   unit: str | None = defaults.UNIT,
                   weighting: str = defaults.WEIGHTING) -> gpd.GeoDataFrame:
    """Car time to the nearest Mittelzentrum and Oberzentrum per municipality.

    Parameters
    ----------
    graph : RoadGraph or path
        A built graph, or an OSM file / saved ``.npz`` to build it from (the network
        comes first in every API function, as in osmnx and scipy.sparse.csgraph).
    municipalities : DataFrame or GeoDataFrame
        ``ags`` plus ``lon``/``lat`` reference points or polygons (then a
        representative point is used); ``name``, ``population``, ``area_km2``,
        ``gvb`` are used when present. A table already attached to ``graph``
        (:func:`accessibility.attach`) is used as it is.
    central_places : DataFrame or path
        ``ags`` and the function under any accepted column name (``central_place``,
        ``zo_funktion``, ...; Oberzentrum / Mittelzentrum / Grundzentrum / keine,
        OZ / MZ / GZ, "MZ mit OZ-Teilfunktion", ...), or the file to read.
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
    standard_mz_min, standard_oz_min : float
        The accessibility standards (Erreichbarkeitsstandards, minutes): residents
        beyond them are flagged in ``beyond_mz_standard`` / ``beyond_oz_standard``
        (:func:`accessibility.models.standards.beyond_standards`).
    unit : {"gvb", "gemeinde"} or None
        The reporting unit: every member also carries its Gemeindeverband's mean
        time and class (``t_mz_min_gvb``, ``mz_class_gvb``, ...; ``weighting``
        chooses the mean), as the command line writes them. None: no unit columns.
    weighting : {"area", "population"}
        The Gemeindeverband mean of the unit columns (INKAR: area-weighted).

    Returns
    -------
    GeoDataFrame
        One row per municipality with ``t_mz_min``, ``t_oz_min`` (NaN where no value,
        see ``reason``), ``nearest_mz_ags``, ``nearest_oz_ags``, the BBSR classes,
        the standards' columns, the unit's columns and the network columns;
        ``.attrs["report"]``.

    Examples
    --------
    >>> import accessibility as acc
    >>> gdf = acc.central_places("niedersachsen-latest.osm.pbf", munis, zo)  # doctest: +SKIP
    """
    graph, munis, report = municipalities_on(graph, municipalities, max_snap_m,
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
        org = attach(graph, org, **settings_of(joined))
    out = central_place_access(graph, joined, origins=org, gz_with_mz_is_mz=gz_with_mz_is_mz)
    out = out.to_crs(defaults.WGS84) if out.crs is not None else out.set_crs(defaults.WGS84)
    if polygons is not None:  # planners want polygons in the GeoPackage
        geo = polygons.drop_duplicates("ags").set_index("ags").geometry.to_crs(defaults.WGS84)
        poly = geo.reindex(out["ags"]).to_numpy()
        out = out.set_geometry(np.where(pd.isna(poly), out.geometry.to_numpy(), poly))
    lines = report + join_report.lines() + out.attrs.get("report", [])
    out = beyond_standards(out, mz_min=standard_mz_min, oz_min=standard_oz_min)
    if unit is not None:
        out = apply_unit(out, gvb_table(out, weighting=weighting), unit)
    out.attrs["report"] = lines
    return out


def lage(graph: RoadGraph | str | Path, municipalities: pd.DataFrame, *,
         commuters: pd.DataFrame | None = None, decay: Decay = DEFAULT_DECAY,
         limit_min: float = defaults.LIMIT_MIN,
         thresholds=defaults.LAGE_THRESHOLDS, engine: str = defaults.ENGINE,
         max_snap_m: float | None = None, access_speed_kmh: float | None = None,
         cache_dir: str | Path | None = None, executor: Executor | None = None,
         chunk: int = defaults.LAGE_CHUNK, unit: str | None = defaults.UNIT,
         units: str = defaults.LAGE_UNITS) -> gpd.GeoDataFrame:
    """Lage: decay-weighted daytime population reachable within 2 hours by car,
    its BBSR class and the Stadt- und Gemeindetyp.

    Parameters
    ----------
    graph : RoadGraph or path
    municipalities : DataFrame or GeoDataFrame
        ``ags``, reference points, ``population``; ``gvb`` and ``central_place``
        for the settlement types (without ``central_place`` only population counts).
        A table already attached to ``graph`` is used as it is.
    commuters : DataFrame, optional
        ``ags``, ``in_commuters``, ``out_commuters`` (Tagesbevölkerung); residents
        are used without it, and the result says so.
    decay : Decay or LageCalibration
        Distance decay in minutes (default exponential, beta 0.076 per minute:
        ``Decay("exponential", beta=0.076)``), or the fit of :func:`calibrate_lage`
        (its decay, and the pair table it searched: nothing is searched twice).
    limit_min : float
        Destinations within this many minutes count (BBSR: 120).
    thresholds : three floats
        Lower bounds of peripher, zentral, sehr zentral.
    engine : {"dijkstra", "ch"}
        Bounded searches, or a contraction hierarchy (national runs).
    max_snap_m, access_speed_kmh, cache_dir
        As in :func:`central_places`.
    executor : Executor, optional
        Runs the origins in chunks of ``chunk`` as independent tasks, e.g. on Dask
        (``with accessibility.compute.open_executor(config.compute) as ex``); the
        values are identical.
    unit : {"gvb", "gemeinde"} or None
        The reporting unit, as in :func:`central_places`: with ``"gvb"`` (the
        report's) ``lage`` is the Gemeindeverband's class (the municipality's own
        in ``lage_gemeinde``, the GVB's potential in ``potential_2h_gvb``), as the
        command line writes it. None: the municipality's own class only.
    units : {"gvb", "municipality"}
        The Lage's origins and destinations (``[lage] units``): the
        Gemeindeverbände at their settlement centres with their summed daytime
        population, the own GVB at t = 0, every member carrying its GVB's potential
        (default, as BBSR); or every municipality at its own reference point. A
        municipality without ``gvb`` is a GVB of its own.

    Returns
    -------
    GeoDataFrame
        ``potential_2h`` (NaN off the network), ``n_reached``, ``edge_flag``,
        ``potential_2h_max`` (its upper bound), ``lage`` (where the class is
        certain), ``daytime_population``, ``settlement_type`` ...; the report's lines
        in ``.attrs["report"]``. :func:`accessibility.api.lage_tables` gives the GVB
        and Kreis tables (pass the same ``thresholds``).
    """
    check_thresholds(thresholds, "lage()")  # what the config checks
    graph, munis, report = municipalities_on(graph, municipalities, max_snap_m,
                                              access_speed_kmh, cache_dir)
    if "central_place" not in munis.columns:
        munis = munis.assign(central_place=NO_FUNCTION)  # no function known
    out = run_lage(graph, munis, commuters, decay=as_decay(decay), limit_min=limit_min,
                   thresholds=thresholds, engine=engine, cache_dir=cache_dir,
                   executor=executor, chunk=chunk, units=units)
    report += out.attrs.get("report", [])
    if not isinstance(out, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]),
                               crs=defaults.WGS84)
    out.attrs["report"] = report
    if unit is not None:  # settlement types and the GVB's centre need every member
        out = apply_unit(out, lage_tables(out, thresholds=thresholds)["gvb"], unit)
    return out


def lage_from(run: str | Path | pd.DataFrame, municipalities: pd.DataFrame, *,
              thresholds=defaults.LAGE_THRESHOLDS, unit: str | None = defaults.UNIT,
              settlement_function: str = "highest", source: str | None = None
              ) -> pd.DataFrame:
    """The Lage of a national run for the municipalities of a regional one.

    A regional extract cannot see the 2-hour surroundings of its municipalities, so
    :func:`lage` classes only the certain ones there. A run with ``--models
    lage`` on the Germany extract (README, "The Lage of a national run") knows them:
    this takes its ``potential_2h``, ``potential_2h_max``, ``edge_flag``,
    ``n_reached`` and ``daytime_population`` for the region (``in_region``) and classes them as
    :func:`lage` would.

    Parameters
    ----------
    run : path or DataFrame
        The national run's output folder, its ``municipalities.parquet`` / ``.csv``,
        or a table with ``ags``, ``potential_2h`` and ``edge_flag``.
    municipalities : DataFrame
        The regional run's table (every municipality of the register, with
        ``in_region``), with ``population`` and ideally ``gvb``, ``central_place``.
    thresholds, unit, settlement_function
        As in :func:`lage`.
    source : str, optional
        How the report names the run (default: its path, or "a table").

    Returns
    -------
    DataFrame
        ``municipalities`` with the Lage columns of :func:`lage`; what was taken in
        ``.attrs["report"]``.

    Raises
    ------
    InputError
        The run lacks a potential for a populated municipality of the region.
    """
    if source is None:
        source = "a table" if isinstance(run, pd.DataFrame) else str(run)
    table = run if isinstance(run, pd.DataFrame) else read_run_lage(run)
    munis = prepare_municipalities(municipalities)
    if "central_place" not in munis.columns:
        munis = munis.assign(central_place=NO_FUNCTION)
    out = imported_lage(munis, table, source=source, thresholds=thresholds,
                        settlement_function=settlement_function)
    report = list(out.attrs.get("report", []))
    if unit is not None:
        out = apply_unit(out, lage_tables(out, thresholds=thresholds)["gvb"], unit)
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
                               comment: list[str] | None = None,
                               overwrite: bool = False) -> CalibrationResult:
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
        :data:`~accessibility.defaults.ACCESS_BOUNDS_KMH`).
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
    overwrite : bool
        Replace an existing ``out_profile`` (default: that is an error, raised before
        any work).

    Returns
    -------
    CalibrationResult
    """
    if not isinstance(graph, RoadGraph):
        raise InputError(GRAPH_FIRST if isinstance(graph, pd.DataFrame) else
                         f"graph must be a RoadGraph, got {type(graph).__name__}")
    if out_profile is not None and not overwrite:
        check_new_file(out_profile)
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
              "access_bounds_kmh": access_bounds_kmh or defaults.ACCESS_BOUNDS_KMH}
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
        write_profile_toml(result.profile, out_profile, overwrite=overwrite, comment=[
            *(comment or []),
            f"Calibrated from {Path(reference_path).name} by accessibility "
            "(speed calibration).", *result.lines()])
        logger.info("wrote calibrated speed profile to %s", out_profile)
    return result



def plan(graph: RoadGraph | str | Path, municipalities: pd.DataFrame, *,
         k: int | Sequence[int] | None = 1, standard_min: float = defaults.STANDARD_MZ_MIN,
         candidates=DEFAULT_CANDIDATES, candidates_within: Sequence[str] = (),
         objective: str = "max_coverage") -> PlanResult | PlanSeries:
    """Which candidates to upgrade to Mittelzentrum (maximal or set covering).

    Parameters
    ----------
    graph : RoadGraph or path
    municipalities : DataFrame
        The result of :func:`central_places` (attached, with ``t_mz_min``,
        ``central_place``, ``population``; ``in_region`` when present).
    k : int or sequence of int, optional
        Number of upgrades (``objective="max_coverage"``); several (``[1, 2, 3]``)
        give one plan each on the same coverage problem, as a :class:`PlanSeries`.
    standard_min : float
        The accessibility standard in minutes (default 30).
    candidates : sequence of str
        Central-place functions (default Grundzentren, also with MZ sub-function) or
        AGS of the candidates.
    candidates_within : sequence of str
        AGS prefixes the candidates must start with (``["03"]``: Niedersachsen only,
        ``["03151"]``: one Kreis); the demand stays the whole region.
    objective : {"max_coverage", "set_cover"}
        The ``k`` upgrades that bring the most residents within the standard, or the
        fewest that bring every coverable municipality within it.

    Returns
    -------
    PlanResult or PlanSeries
        ``chosen``: the upgrades (``rank``, ``ags``, ``name``, ``residents_gained``,
        ``municipalities_gained``); ``residents_covered``, the greedy answer and the
        ``gap``, the solver's ``status`` and ``seconds``, ``uncoverable`` (the
        municipalities no candidate brings within the standard), the residents beyond
        and within the standard today, ``tie`` (an equally good set, if any) and
        ``report`` (readable lines). See
        :class:`accessibility.models.planning.PlanResult`. For several ``k`` a
        :class:`~accessibility.models.planning.PlanSeries` (``.results[k]``,
        ``.table`` with a ``k`` column, ``.report``).
    """
    if objective not in ("max_coverage", "set_cover"):
        raise InputError(f"objective must be 'max_coverage' or 'set_cover', got {objective!r}")
    if objective == "max_coverage" and k is None:
        raise InputError("max_coverage needs k, the number of upgrades")
    several = objective == "max_coverage" and not isinstance(k, (int, np.integer))
    g = as_graph(graph)
    problem = coverage_problem(g, municipalities, standard_min=standard_min,
                               candidates=candidates, candidates_within=candidates_within)

    def finished(res: PlanResult) -> PlanResult:
        return dataclasses.replace(res, residents_beyond_before=float(problem.weights.sum()),
                                   residents_within_before=float(problem.covered_before),
                                   report=res.lines(problem))

    if several:
        out = PlanSeries({kk: finished(r)
                          for kk, r in solve_series(problem, list(k)).results.items()})
    else:
        out = finished(solve_mclp(problem, k) if objective == "max_coverage"
                       else solve_lscp(problem))
    for line in out.report:
        logger.info(line)
    return out




def time_matrix(graph: RoadGraph | str | Path, municipalities: pd.DataFrame, *,
                limit_min: float = 60.0, destinations=None, engine: str = defaults.ENGINE,
                cache_dir=None) -> pd.DataFrame:
    """Car times between municipalities within ``limit_min``, long format
    (``origin_ags``, ``destination_ags``, ``minutes``; access legs at both ends,
    unreached pairs absent). See :func:`accessibility.models.matrices.time_matrix`."""
    g = as_graph(graph)
    m = attached(g, municipalities, None, None)
    return _time_matrix(g, m, limit_min=limit_min, destinations=destinations, engine=engine,
                        cache_dir=cache_dir)


def isochrones(graph: RoadGraph | str | Path, centres: pd.DataFrame, *,
               minutes=(15.0, 30.0, 60.0), direction: str = "to",
               max_buffer_m: float = defaults.ISOCHRONE_MAX_BUFFER_M,
               method: str = defaults.ISOCHRONE_METHOD, cell_m: float = 250.0
               ) -> gpd.GeoDataFrame:
    """The areas from which each centre is reached (``direction="to"``) or that it
    reaches (``"from"``) within each of ``minutes``, as MultiPolygons in WGS84;
    ``method="grid"`` (default: the rule on a grid of ``cell_m``, national runs in
    minutes) or ``"network"`` (the exact buffered network, slow). See
    :func:`accessibility.models.matrices.isochrones`."""
    g = as_graph(graph)
    c = attached(g, centres, None, None)
    return _isochrones(g, c, minutes=minutes, direction=direction, max_buffer_m=max_buffer_m,
                       method=method, cell_m=cell_m)



def calibrate_lage(graph: RoadGraph | str | Path, municipalities: pd.DataFrame, *,
                   commuters: pd.DataFrame | None = None, decay: Decay = DEFAULT_DECAY,
                   target_mean: float = defaults.TARGET_MEAN,
                   limit_min: float = defaults.LIMIT_MIN, engine: str = defaults.ENGINE,
                   max_snap_m: float | None = None, access_speed_kmh: float | None = None,
                   cache_dir: str | Path | None = None, units: str = defaults.LAGE_UNITS
                   ) -> LageCalibration:
    """Fit the parameter of ``decay``'s kind so that the mean potential over the
    municipalities on the network equals ``target_mean`` (BBSR: 183,000).

    The options are those of :func:`lage`; the mean is over its ``units`` (the
    Gemeindeverbände by default). Returns a
    :class:`~accessibility.models.lage.LageCalibration`: ``.decay`` (the fitted
    decay), ``.parameter`` (beta per minute, the power exponent or sigma in minutes),
    ``.achieved_mean``. Pass it on as ``lage(graph, municipalities, decay=fit)``:
    the potentials are then the sums of the pair table the fit searched.

    Examples
    --------
    >>> fit = acc.calibrate_lage(g, munis)                       # doctest: +SKIP
    >>> lg = acc.lage(g, munis, decay=fit)                       # doctest: +SKIP
    """
    graph, munis, _ = municipalities_on(graph, municipalities, max_snap_m,
                                        access_speed_kmh, cache_dir)
    fit = _calibrate_lage(graph, munis, commuters, decay=as_decay(decay),
                          target_mean=target_mean, limit_min=limit_min, engine=engine,
                          cache_dir=cache_dir, units=units)
    for line in fit.lines():
        logger.info(line)
    return fit
