"""The commands besides ``run``: speed and decay calibration, planning, scenarios.

Each starts from a config's graph and attached municipalities
(:func:`~accessibility.pipeline.inputs.graph_and_municipalities`), calls the
public API and, where it writes a folder, publishes it as a run does.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import api, compute, defaults, report
from .._errors import InputError
from .._util import peak_memory_mb
from ..config import Config
from ..graph import attach, build_graph
from ..io import check_new_file, write_table, write_text
from ..maps import map_languages, map_values
from ..vocabulary import LAGE_CLASSES, class_order, map_words
from .inputs import Inputs, check_inputs, graph_and_municipalities, load_config_of_run
from .provenance import file_record, run_info
from .public_transport import pt_scenario_tables
from .publish import Output, check_output_dir, staged
from .run import RunResult
from .stages import lage_decay, tasks_of, with_names


def calibrate(config: Config | str | Path | None, references: str | Path, *,
              out_profile: str | Path | None = None,
              overrides: dict | None = None,
              bounds: tuple[float, float] = defaults.CALIBRATION_BOUNDS,
              iterations: int = defaults.CALIBRATION_ITERATIONS, fit_access: bool = False,
              access_bounds_kmh: tuple[float, float] | None = None,
              maxspeed_factors: list[float] | tuple[float, ...] | None = None,
              comment: list[str] | None = None, overwrite: bool = False):
    """Fit the car speeds to reference travel times (trips, or INKAR means per
    Gemeindeverband; see :mod:`accessibility.models.calibration`) on the graph and
    municipalities of a run.

    ``fit_access`` also fits the access-leg speed; ``maxspeed_factors`` also fits
    the profile's maxspeed factor by building the graph once per factor (in a
    temporary cache, the run's cache is left alone). Returns the
    :class:`~accessibility.models.calibration.CalibrationResult`. An existing
    ``out_profile`` is replaced only with ``overwrite`` (checked before any work).
    """
    if out_profile is not None and not overwrite:
        check_new_file(out_profile)
    config, graph, munis, _ = graph_and_municipalities(config, overrides, "calibrate")
    kwargs = {"base_profile": config.graph.profile, "out_profile": out_profile,
              "bounds": bounds, "iterations": iterations, "fit_access": fit_access,
              "access_bounds_kmh": access_bounds_kmh, "comment": comment,
              "overwrite": overwrite}
    if not maxspeed_factors:
        return api.calibrate_speeds_from_file(graph, munis, references, **kwargs)
    ok = munis["lon"].notna().to_numpy()
    keep = (munis["lon"].to_numpy()[ok], munis["lat"].to_numpy()[ok])
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        def rebuild(profile):
            g = build_graph(config.inputs.osm, profile, keep_points=keep, cache_dir=tmp,
                            **config.graph.build_options())
            return g, attach(g, munis, max_snap_m=config.graph.max_snap_m,
                             access_speed_kmh=config.graph.access_kmh())

        return api.calibrate_speeds_from_file(graph, munis, references, rebuild=rebuild,
                                              maxspeed_factors=maxspeed_factors, **kwargs)


def calibrate_lage(config: Config | str | Path | None, *, overrides: dict | None = None, kind: str | None = None,
                   target_mean: float | None = None) -> api.LageCalibration:
    """Fit the decay parameter so that the mean potential over all municipalities on
    the network equals ``target_mean`` (default ``[lage] target_mean``, BBSR 183,000).

    ``kind`` replaces ``[lage] decay``. Returns the
    :class:`~accessibility.models.lage.LageCalibration` (``.decay``, ``.parameter``:
    beta per minute, the power exponent or sigma in minutes, ``.achieved_mean``).
    """
    config, graph, munis, inputs = graph_and_municipalities(config, overrides, "calibrate-lage")
    c = config.lage
    target = target_mean if target_mean is not None else c.target_mean
    decay = api.Decay(kind or c.decay, floor_min=c.floor_min)  # its parameter is fitted
    return api.calibrate_lage(graph, munis, commuters=inputs.commuters, decay=decay,
                              target_mean=target, limit_min=c.limit_min, engine=c.engine,
                              cache_dir=config.graph.cache_dir, units=c.units)


# ------------------------------------------------------------------------------ planning
def plan(config: Config | str | Path | None, *, overrides: dict | None = None, k=1, objective: str = "max_coverage",
         standard_min: float | None = None, candidates=None, candidates_within=(),
         out_file: str | Path | None = None,
         overwrite: bool = False) -> api.PlanResult | api.PlanSeries:
    """Where to designate Mittelzentren on the graph and municipalities of a config
    (:func:`accessibility.api.plan`; several ``k`` give a
    :class:`~accessibility.api.PlanSeries`); ``out_file`` (CSV) gets the upgrades (one
    table, with a ``k`` column for several), and replaces an existing file only with
    ``overwrite`` (checked before any work)."""
    if out_file is not None and not overwrite:
        check_new_file(out_file)
    config, graph, munis, inputs = graph_and_municipalities(config, overrides, "plan")
    if inputs.central_places is None:
        raise InputError("plan needs central places: set [inputs] central_places or pass "
                         "--central-places")
    munis = api.mark_region(graph, munis, ags_prefixes=config.region.ags_prefixes,
                        bbox=config.region.bbox)
    cfg = config.central_places
    res = api.central_places(graph, munis, inputs.central_places,
                             gz_with_mz_is_mz=cfg.gz_with_mz_is_mz, unit=None)
    kw = {} if candidates is None else {"candidates": list(candidates)}
    out = api.plan(graph, res, k=k, objective=objective,
                   standard_min=standard_min if standard_min is not None else cfg.standard_mz_min,
                   candidates_within=tuple(candidates_within or ()), **kw)
    if out_file is not None:
        table = out.table if isinstance(out, api.PlanSeries) else out.chosen
        if Path(out_file).suffix.lower() in (".gpkg", ".geojson"):  # a layer for a GIS
            table = _at_reference_points(table.merge(res[["ags", "lon", "lat"]], on="ags",
                                                     how="left"))
        write_table(table, Path(out_file))
    return out


def _at_reference_points(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """``table`` as points at its ``lon``/``lat`` (WGS84; empty where missing)."""
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]),
                            crs=defaults.WGS84)


# ------------------------------------------------------------------------------ scenarios
def scenario_folder(scenario_file: str | Path) -> str:
    """The default output folder of a scenario inside ``[output] dir``:
    ``scenario-<file name>``, so that a scenario never replaces the run's files."""
    return f"scenario-{Path(scenario_file).stem}"


def scenario(config: Config | str | Path | None, scenario_file: str | Path, *,
             output_dir: str | Path | None = None, overrides: dict | None = None,
             overwrite: bool = False) -> RunResult:
    """Base and scenario side by side, and the difference (see
    :mod:`accessibility.models.scenario`).

    The base and the scenario run the central-place model (with the standards) and,
    when the municipalities have populations and ``lage`` is among the models, the
    Lage. Designation and population changes reuse the graph (and the cached
    contraction hierarchy with ``[lage] engine = "ch"``); road changes derive a new
    graph from it without parsing OSM. Files are published as a run's are
    (``overwrite`` as in :func:`accessibility.pipeline.run`).
    """
    t0 = time.perf_counter()
    sc = api.read_scenario(scenario_file)  # a bad scenario fails before anything is built
    config = load_config_of_run(config, overrides)
    # never the run's own folder: a scenario beside the run, named after its file
    final = (Path(output_dir) if output_dir is not None
             else Path(config.output.dir) / scenario_folder(scenario_file))
    check_inputs(config)
    check_output_dir(final, overwrite=overwrite)
    with staged(final) as out:
        out.info = run_info(config, "scenario", scenario=sc.name,
                            scenario_file=file_record(Path(scenario_file)))
        result = _scenario_stages(config, sc, out, t0)
        result.files = out.publish(result.files)
    result.output_dir = final
    return result


def _scenario_models(config: Config, inputs: Inputs, graph, munis) -> api.ScenarioModels:
    """The models a scenario compares, with the config's settings. With ``[lage]
    calibrate`` the decay is fitted once, on the base, and the scenarios use it (a
    scenario never refits: its change would move the decay and hide itself)."""
    cfg, c = config.central_places, config.lage
    lage = "lage" in config.output.models
    decay = lage_decay(config)
    if lage and c.calibrate and "population" in munis and munis["population"].notna().any():
        decay = api.calibrate_lage(graph, munis, commuters=inputs.commuters, decay=decay,
                                   target_mean=c.target_mean, limit_min=c.limit_min,
                                   engine=c.engine, cache_dir=config.graph.cache_dir).decay
    return api.ScenarioModels(
        inputs.commuters, lage, decay,
        standard_mz_min=cfg.standard_mz_min, standard_oz_min=cfg.standard_oz_min,
        gz_with_mz_is_mz=cfg.gz_with_mz_is_mz, limit_min=c.limit_min,
        thresholds=tuple(c.thresholds), engine=c.engine, cache_dir=config.graph.cache_dir,
        units=c.units)


def _scenario_setup(config: Config):
    """Graph, region-marked municipalities, inputs and the models of a scenario run."""
    t = time.perf_counter()
    config, graph, munis, inputs = graph_and_municipalities(config, None, "scenario")
    if inputs.central_places is None:
        raise InputError("a scenario needs central places: set [inputs] central_places")
    munis = api.mark_region(graph, munis, ags_prefixes=config.region.ags_prefixes,
                        bbox=config.region.bbox)
    times = {"graph and municipalities (cached graph)": time.perf_counter() - t}
    models = _scenario_models(config, inputs, graph, munis)
    return config, graph, munis, inputs, models, times


def _scenario_stages(config: Config, sc: api.Scenario, out: Output, t0: float) -> RunResult:
    config, graph, munis, inputs, models, times = _scenario_setup(config)
    reg_b, reg_s, g_s, road_info = api.scenario_runs(graph, munis, inputs.central_places, sc,
                                                     models)
    times.update(road_info.pop("times_s"))
    pt = pt_scenario_tables(config, inputs, sc, reg_b, reg_s)
    return _scenario_outputs(config, sc, reg_b, reg_s, g_s, road_info, times, out, t0, pt)


def scenarios(config: Config | str | Path | None, scenario_files, *,
              output_dir: str | Path | None = None, overrides: dict | None = None,
              overwrite: bool = False) -> list[RunResult]:
    """Several scenarios against one base (a batch): the graph and the base are
    computed once, each scenario is one task of ``[compute]`` (in this process, or on
    Dask workers), and each scenario's files are published as :func:`scenario`
    publishes them, into ``OUTPUT/<scenario file name>/``."""
    t0 = time.perf_counter()
    files = [Path(f) for f in scenario_files]
    scs = [api.read_scenario(f) for f in files]  # every scenario checked before any work
    stems = [f.stem for f in files]
    if len(set(stems)) != len(stems):
        raise InputError(f"scenario file names repeat ({', '.join(stems)}): each scenario's "
                         "results go to a folder of its file name; rename one")
    config = load_config_of_run(config, overrides)
    if output_dir is None:  # beside the run's files, each in its own folder
        final, stems = Path(config.output.dir), [scenario_folder(f) for f in files]
    else:
        final = Path(output_dir)
    check_inputs(config)
    for stem in stems:
        check_output_dir(final / stem, overwrite=overwrite)
    config, graph, munis, inputs, models, times = _scenario_setup(config)
    with compute.open_executor(config.compute) as executor:
        runs = api.scenario_batch_runs(graph, munis, inputs.central_places, scs, models,
                                       tasks_of(executor),
                                       state_dir=config.graph.cache_path() / "worker-state")
    results = []
    for sc, f, stem, (reg_b, reg_s, g_s, info) in zip(scs, files, stems, runs):
        sub = final / stem
        sub.mkdir(parents=True, exist_ok=True)
        with staged(sub) as out:
            out.info = run_info(config, "scenario", scenario=sc.name,
                                scenario_file=file_record(f))
            res = _scenario_outputs(config, sc, reg_b, reg_s, g_s, info,
                                    {**times, **info.pop("times_s")}, out, t0)
            res.files = out.publish(res.files)
        res.output_dir = sub
        results.append(res)
    return results


def _scenario_outputs(config: Config, sc: api.Scenario, reg_b, reg_s, g_s, road_info: dict,
                      times: dict, out: Output, t0: float, pt=None) -> RunResult:
    """The difference tables, class moves, maps and summary of one scenario (``pt``:
    the public-transport comparison and its summary lines, when there is one)."""
    diff = api.compare(reg_b, reg_s)
    out.table("scenario_municipalities", diff, "scenario_municipalities.csv")
    # the change as a layer (at the base's reference points) for QGIS
    g = _at_reference_points(diff.assign(lon=reg_b["lon"].to_numpy(),
                                         lat=reg_b["lat"].to_numpy()))
    if "gpkg" in config.output.formats:
        out.add("scenario_municipalities_gpkg",
                write_table(g, out.stage / "scenario_municipalities.gpkg"))
    values = [c for c in ("t_mz_min", "t_oz_min") if c in reg_b.columns]
    gb = api.weighted_means(reg_b, "gvb", values).set_index("gvb")
    gs = api.weighted_means(reg_s, "gvb", values).set_index("gvb")
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
            moved[col] = api.moves(diff, col, order)
            out.table(f"moves_{col}", moved[col].reset_index(), f"moves_{col}.csv")
    summary = report.scenario_section(sc, diff, moved, road_info, times)
    if pt is not None:
        out.table("pt_scenario", pt[0], "pt_scenario.csv")
        summary += pt[1]
    if config.output.maps and "t_mz_min_change" in diff.columns:
        ext = config.output.map_format
        for (lang, tag), (v, what) in itertools.product(
                map_languages(config.output.lang),
                (("t_mz_min", "Mittelzentrum"), ("t_oz_min", "Oberzentrum"))):
            w = map_words(lang)
            if f"{v}_change" in g.columns and g[f"{v}_change"].fillna(0).ne(0).any():
                out.add(f"map_{v}_change{tag}", map_values(
                    g, f"{v}_change", out.stage / f"map_{v}_change{tag}.{ext}",
                    title=w["scenario"].format(name=sc.name, what=what),
                    label=w["minutes_change"], diverging=True, lang=lang))
    summary += [f"Run time {time.perf_counter() - t0:.1f} s, peak memory "
                f"{peak_memory_mb():.0f} MB.", ""]
    text = "\n".join(summary)
    out.add("summary", write_text(text, out.stage / "summary.md"))
    return RunResult(output_dir=out.stage, graph=g_s, municipalities=diff, files=out.files,
                     summary=text, stats={"times_s": times, **road_info})
