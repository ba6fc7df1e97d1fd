"""The stages of a run: each takes the graph, the municipality table and the
config, calls the public API (:mod:`accessibility.api`) and writes its tables, maps
and summary lines into the run's :class:`~accessibility.pipeline.publish.Output`."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import api, defaults, report
from ..compute import Executor
from ..config import Config
from ..graph import SETTING_COLUMNS, RoadGraph
from ..io import clip_grid, write_gpkg_layers, write_municipality_outputs
from ..maps import (
    STANDARD_COLORS,
    class_style,
    interactive_map,
    map_catchments,
    map_categories,
    map_languages,
    map_values,
)
from ..vocabulary import (
    DESTINATION_KIND_TERMS,
    LAGE_CLASSES,
    LAND_NAMES,
    SERVICES,
    class_label,
    class_order,
    destinations,
    map_words,
    service_label,
    services_reached_labels,
)
from .inputs import Inputs
from .publish import Output

logger = logging.getLogger(__name__)


def region_grid(munis, config: Config, inputs: Inputs):
    """The population grid around the region's reference points (0.1 degrees more on
    every side): the cells of population origins, the car's and public transport's."""
    reg = munis[munis["in_region"]]
    lon, lat = reg["lon"].dropna(), reg["lat"].dropna()
    pad = 0.1
    return clip_grid(inputs.population_grid, (lon.min() - pad, lat.min() - pad,
                                              lon.max() + pad, lat.max() + pad),
                     name=str(config.inputs.population_grid))


def central_places_stage(graph: RoadGraph, munis, config: Config, inputs: Inputs,
                         out: Output, polygons, summary: list[str]):
    """Car times to MZ/OZ: the model, GVB/Kreis/Land tables, class shares, maps."""
    cfg = config.central_places
    grid = region_grid(munis, config, inputs) if cfg.origins == "population" else None
    res = api.central_places(graph, munis, inputs.central_places,
                             origins=cfg.origins, population_grid=grid, polygons=polygons,
                             area_grid_m=cfg.area_grid_m, gz_with_mz_is_mz=cfg.gz_with_mz_is_mz,
                             standard_mz_min=cfg.standard_mz_min,
                             standard_oz_min=cfg.standard_oz_min, unit=config.output.unit,
                             weighting=cfg.weighting)
    values = ["t_mz_min", "t_oz_min"]
    # every member carries its GVB's mean time and class (the GVB table is written
    # once all models ran, see unit_tables_stage)
    gvb = api.gvb_table(res, weighting=cfg.weighting)
    reg = res[res["in_region"]]  # tables, means and maps describe the region only
    # the per-unit tables get every municipality: they mean over the region's and
    # say whether a unit lies wholly in it (n_members, n_members_in_region, complete)
    for level in ("kreis", "land"):
        out.table(f"{level}_table", with_names(api.weighted_means(res, level, values), level, reg,
                                               inputs.kreis_names), f"{level}.csv")
    total = api.weighted_means(res, None, values)
    out.table("total_table", total, "total.csv")
    unit = config.output.unit
    units = gvb[gvb["gvb"].isin(reg["gvb"])]
    count = "gvb" if unit == "gvb" else "municipalities"
    # each class table counts the units complete for its own time
    (mz_rows, n_mz), (oz_rows, n_oz) = (api.class_rows(res, units, unit, k) for k in ("mz", "oz"))
    mz, oz = api.class_shares(mz_rows, "mz", unit=count), api.class_shares(oz_rows, "oz",
                                                                             unit=count)
    out.table("class_shares", pd.concat([mz.assign(indicator="mz"), oz.assign(indicator="oz")]),
              "class_shares.csv")
    summary += report.central_places_section(res.attrs.get("report", []), total.iloc[0], mz, oz,
                                             "area" if cfg.weighting == "area" else "pop",
                                             unit=unit, n_incomplete=(n_mz, n_oz))
    std = pd.concat([with_names(api.standards_table(res, level), level, reg, inputs.kreis_names)
                     .rename(columns={level: "key", f"{level}_name": "name"})
                     .assign(level=level) for level in ("gvb", "kreis", "land")]
                    + [api.standards_table(res, None).rename(columns={"level": "key"})
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
        sfx = "_gvb" if unit == "gvb" else ""
        partial = incomplete_members(reg, units) if unit == "gvb" else None
        oz_prov = provisional(reg, ["oz_edge_flag"], unit)
        per_unit = reg["gvb"] if unit == "gvb" else None  # the legends count GVBs
        for lang, tag in map_languages(config.output.lang):
            w = map_words(lang)
            per = w["per_gvb"] if unit == "gvb" else ""
            out.add(f"map_oz{tag}", map_values(
                reg, f"t_oz_min{sfx}", s / f"map_oz_time{tag}.{ext}",
                title=w["oz_time"].format(per=per), label=w["minutes"], places=oz,
                incomplete=partial, provisional=oz_prov, lang=lang, units=per_unit))
            out.add(f"map_oz_class{tag}", map_categories(
                reg, f"oz_class{sfx}", s / f"map_oz_class{tag}.{ext}",
                title=w["oz_class"].format(per=per), order=class_order("oz"), places=oz,
                incomplete=partial, provisional=oz_prov, lang=lang, units=per_unit))
            out.add(f"map_standards{tag}", map_categories(
                reg.assign(standard_class=api.standard_class(reg)), "standard_class",
                s / f"map_standards{tag}.{ext}",
                title=w["standards"].format(mz=cfg.standard_mz_min, oz=cfg.standard_oz_min),
                order=list(api.STANDARD_CLASSES), colors=STANDARD_COLORS, places=oz,
                provisional=provisional(reg, ["mz_edge_flag", "oz_edge_flag"], None),
                lang=lang))
            out.add(f"map_mz_catchments{tag}", map_catchments(
                reg, "nearest_mz_ags", centres, s / f"map_mz_catchments{tag}.{ext}",
                title=w["catchments"], provisional=provisional(reg, ["mz_edge_flag"], None),
                lang=lang))
    return res


def incomplete_members(reg: pd.DataFrame, units: pd.DataFrame) -> np.ndarray:
    """The municipalities of ``reg`` whose GVB is incomplete (``units``: GVB rows with
    ``complete``): maps draw them hatched, not in the GVB's class."""
    done = units.set_index("gvb")["complete"]
    return ~reg["gvb"].map(done).fillna(False).to_numpy(bool)


def provisional(reg, flags: list[str], unit: str | None):
    """Rows whose mapped value a larger extract might change: any of the ``flags`` set
    for the municipality, or (``unit="gvb"``, a GVB mean) for any member of its GVB."""
    cols = [c for c in flags if c in reg.columns]
    if not cols:
        return None
    own = reg[cols].fillna(False).astype(bool).any(axis=1)
    if unit == "gvb" and "gvb" in reg.columns:
        return own.groupby(reg["gvb"]).transform("any").to_numpy()
    return own.to_numpy()


def lage_decay(config: Config) -> api.Decay:
    """The decay function of ``[lage]``."""
    c = config.lage
    return api.Decay(c.decay, beta=c.beta, sigma_min=c.sigma_min, floor_min=c.floor_min)


def tasks_of(executor: Executor | None) -> Executor | None:
    """The executor to split work into tasks for: only a distributed one (in this
    process the numba kernels already use every core on the whole)."""
    return executor if executor is not None and executor.name != "local" else None


def lage_stage(graph: RoadGraph, munis, config: Config, inputs: Inputs, out: Output,
               summary: list[str], executor: Executor | None = None):
    """Daytime population, 2-hour potential, Lage and settlement type; tables, map."""
    c = config.lage
    if munis["population"].isna().all() and config.inputs.lage_from is None:
        why = ("the municipality table has no population: give a register with populations "
               "(--municipalities) or a national run's Lage (--lage-from).")
        logger.warning("Lage skipped: %s", why)
        summary += report.skipped_section(report.LAGE_TITLE, why)
        return munis
    if inputs.lage_from is not None:  # the national run's exact potentials
        res = api.lage_from(inputs.lage_from, munis, thresholds=tuple(c.thresholds),
                            unit=config.output.unit, source=str(config.inputs.lage_from))
        return lage_outputs(res, config, out, summary,
                            method=f"imported from {config.inputs.lage_from}")
    decay = lage_decay(config)
    calibrate, note = lage_calibrates(config, munis)
    if calibrate:  # the fit's pair table gives the potentials: one search for both
        decay = api.calibrate_lage(graph, munis, commuters=inputs.commuters, decay=decay,
                                   target_mean=c.target_mean, limit_min=c.limit_min,
                                   engine=c.engine, cache_dir=config.graph.cache_dir,
                                   units=c.units)
    res = api.lage(graph, munis, commuters=inputs.commuters, decay=decay,
                   limit_min=c.limit_min, thresholds=tuple(c.thresholds), engine=c.engine,
                   cache_dir=config.graph.cache_dir, executor=tasks_of(executor),
                   chunk=config.compute.lage_chunk, unit=config.output.unit, units=c.units)
    d = decay.decay if calibrate else decay  # the decay used (calibrated or configured)
    decay_text = (f"{d.kind} (beta {d.beta:g}, sigma {d.sigma_min:g} min, floor "
                  f"{d.floor_min:g} min)"
                  + (f", calibrated to a mean potential of {c.target_mean:,.0f}"
                     if calibrate else "") + note)
    units = ("between the Gemeindeverbände (settlement centres, own GVB at t = 0)"
             if c.units == "gvb" else "between the municipalities")
    return lage_outputs(res, config, out, summary,
                        method=f"{units}, decay {decay_text}, limit {c.limit_min:g} min")


def lage_calibrates(config: Config, munis) -> tuple[bool, str]:
    """Whether the run fits the decay to ``[lage] target_mean`` (BBSR's national mean),
    and what the summary says about it: unset ``[lage] calibrate`` means "when the
    run covers Germany" (:func:`accessibility.api.run_covers_germany`); a regional run
    calibrated on request is warned about, never silently."""
    c = config.lage
    national = api.run_covers_germany(munis)
    if c.calibrate is None:
        return national, ("" if national else
                          " (not calibrated: the run does not cover Germany, and "
                          "BBSR's mean is national; [lage] calibrate = true forces it)")
    if c.calibrate and not national:
        text = (" (a regional run calibrated to the national mean on request: its "
                "classes are not BBSR's)")
        logger.warning("[lage] calibrate = true on a run that does not cover Germany: the "
                       "decay is fitted so that this region's mean potential is %s, BBSR's "
                       "national mean; its classes are not comparable with BBSR's",
                       f"{c.target_mean:,.0f}")
        return True, text
    return bool(c.calibrate), ""


def lage_outputs(res, config: Config, out: Output, summary: list[str], *, method: str):
    """The Lage's tables (GVB, Kreis, Lage by settlement type), summary and map."""
    c = config.lage
    # settlement types and the GVB's centre need every member; the tables report the
    # region's
    gvb = api.lage_tables(res, thresholds=tuple(c.thresholds))["gvb"]
    reg = res[res["in_region"]]
    units = gvb[gvb["gvb"].isin(reg["gvb"])]
    out.table("gvb_lage", units, "gvb_lage.csv")
    if len(reg):
        out.table("kreis_lage", api.kreis_lage(res, thresholds=tuple(c.thresholds)),
                  "kreis_lage.csv")
    rows = api.unit_rows(reg, units, config.output.unit)
    cross = api.lage_summary(rows)
    # the row labels (Lage classes, total) are the index: written as a column
    out.table("lage_by_settlement_type", cross.reset_index(), "lage_by_settlement_type.csv")
    summary += report.lage_section(
        reg, cross, method=method, unit=config.output.unit,
        national=api.run_covers_germany(res),
        n_incomplete=api.left_out(units if config.output.unit == "gvb" else reg))
    if config.output.maps:
        ext = config.output.map_format
        for lang, tag in map_languages(config.output.lang):
            out.add(f"map_lage{tag}", map_categories(
                reg, "lage", out.stage / f"map_lage{tag}.{ext}",
                title=map_words(lang)["lage"], order=list(LAGE_CLASSES),
                cmap="viridis_r", no_value=map_words(lang)["no_value_lage"],
                incomplete=(incomplete_members(reg, units) if config.output.unit == "gvb"
                            else None), lang=lang,
                units=reg["gvb"] if config.output.unit == "gvb" else None))
    return res


def indicators_stage(graph: RoadGraph, munis, config: Config, inputs: Inputs, out: Output,
                     polygons, summary: list[str]):
    """The report's further indicators (issue 12): car times to the nearest motorway
    junction, Fernbahnhof and international airport; public-transport departures per
    1,000 residents (with a GTFS feed); commuter balance and residents per job (with a
    commuter table that has the workplace employees). Tables per GVB, Kreis, Land, maps."""
    inp = config.inputs
    feed = inputs.gtfs_feed
    dest = api.collect_destinations(
        osm=inp.osm, stations=inputs.stations if inputs.stations is not None else True,
        gtfs=feed, gtfs_date=config.walk.gtfs_date,
        fernbahnhof_rule=config.destinations.fernbahnhof_rule,
        airports=inputs.airports if inputs.airports is not None else True,
        overrides=inputs.destinations)
    res = api.facility_times(graph, munis, dest)
    report_lines = list(res.attrs.get("report", []))  # includes the destinations' lines
    if feed is not None:
        res = api.pt_departures(res, feed, date=config.walk.gtfs_date, polygons=polygons)
        report_lines += res.attrs.get("report", [])
    if inputs.commuters is not None:
        res = api.commuter_indicators(res, inputs.commuters)
        report_lines += res.attrs.get("report", [])
    for given, what, flag in ((feed, "public-transport departures", "--gtfs FEED.zip"),
                              (inputs.commuters, "commuter balance and residents per job",
                               "--commuters FILE (BA Pendlerstatistik)")):
        if given is None:  # optional inputs: say which one enables the indicator
            line = f"{what}: skipped, needs {flag}"
            logger.info(line)
            report_lines.append(line)
    reg = res[res["in_region"].to_numpy(bool)]
    table = by_levels(api.indicators_by_unit, res, inputs.kreis_names)
    out.table("indicators", table, "indicators.csv")
    summary += report.indicators_section(report_lines, table)
    if config.output.maps:
        ext = config.output.map_format
        for lang, tag in map_languages(config.output.lang):
            w = map_words(lang)
            for kind in DESTINATION_KIND_TERMS:
                col = f"t_{kind}_min"
                if col in reg.columns and reg[col].notna().any():
                    of_kind = dest[dest["kind"] == kind]  # drawn on their own time map
                    points = gpd.GeoDataFrame(
                        of_kind[["name"]] if "name" in of_kind else None, crs=defaults.WGS84,
                        geometry=gpd.points_from_xy(of_kind["lon"], of_kind["lat"]))
                    out.add(f"map_{kind}{tag}", map_values(
                        reg, col, out.stage / f"map_{kind}_time{tag}.{ext}",
                        title=w[f"{kind}_time"], label=w["minutes"],
                        provisional=provisional(reg, [f"{kind}_edge_flag"], None), lang=lang,
                        destinations=points, destination_label=w[f"{kind}_dest"]))
            day = config.walk.gtfs_date
            for key, col, name, title, label in (
                    ("map_pt", "pt_departures_per_1000", "map_pt_departures",
                     w["pt"].format(day=day), w["per_1000"]),
                    ("map_rail", "rail_departures_per_1000", "map_rail_departures",
                     w["rail"].format(day=day), w["per_1000"]),
                    ("map_commuters", "commuter_balance_per_100", "map_commuter_balance",
                     w["commuters"], w["commuter_label"])):
                if col in reg.columns and reg[col].fillna(0).ne(0).any():
                    out.add(f"{key}{tag}", map_values(
                        reg, col, out.stage / f"{name}{tag}.{ext}", title=title, label=label,
                        lang=lang))
    return res


def by_levels(per_unit, res, kreis_names) -> pd.DataFrame:
    """``per_unit(res, level)`` per GVB, Kreis and Land and overall in one table
    (``level``, ``key``, ``name`` first; the levels whose key ``res`` has). ``res``
    holds every municipality: the values cover the region's, the counts say whether a
    unit is whole."""
    reg = res[res["in_region"].to_numpy(bool)]
    levels = [lv for lv in ("gvb", "kreis", "land") if lv in res.columns]
    table = pd.concat([with_names(per_unit(res, level), level, reg, kreis_names)
                       .rename(columns={level: "key", f"{level}_name": "name"})
                       .assign(level=level) for level in levels]
                      + [per_unit(res, None).rename(columns={"level": "key"})
                         .assign(level="total")], ignore_index=True)
    return table[["level", "key", "name"] + [c for c in table.columns
                                             if c not in ("level", "key", "name")]]


def matrix_stage(graph: RoadGraph, munis, config: Config, out: Output,
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
            g, on = api.at_virtual_nodes(graph, munis)
            on = on[munis["in_region"].to_numpy(bool)]
        mat = api.time_matrix(g, on, limit_min=c.matrix_limit_min,
                              engine=config.lage.engine, cache_dir=config.graph.cache_dir)
        out.table("matrix", mat, "matrix.parquet")
        lines += list(mat.attrs.get("report", [])) + [
            f"Car-time matrix within {c.matrix_limit_min:g} min: {len(mat):,} pairs "
            "(matrix.parquet: origin_ags, destination_ags, minutes)."]
    if c.isochrone_minutes and "central_place" in reg.columns:
        centres = reg[reg["central_place"].isin(
            destinations(config.central_places.gz_with_mz_is_mz)["mz"])]
        if len(centres):
            iso = api.isochrones(graph, centres, minutes=c.isochrone_minutes,
                                 max_buffer_m=c.isochrone_max_buffer_m,
                                 method=c.isochrone_method)
            out.add("isochrones", write_gpkg_layers({"isochrones": iso},
                                                    out.stage / "isochrones.gpkg"))
            lines += list(iso.attrs.get("report", [])) + [
                f"Isochrones ({', '.join(f'{m:g}' for m in c.isochrone_minutes)} min) around "
                f"{iso['ags'].nunique():,} Mittel- and Oberzentren: isochrones.gpkg."]
    if lines:
        summary += ["## Matrix and isochrones", ""] + lines + [""]


def prepare_walk(munis, config: Config, inputs: Inputs, polygons) -> api.WalkInputs | str:
    """Services, the walk graph and the 100 m residents of the walk extract, or why
    the Nahversorgung cannot run (:func:`accessibility.api.prepare_nahversorgung`).
    Done right after the car graph, so that a GTFS feed or a grid of another region
    fails before any routing."""
    inp, c = config.inputs, config.walk
    return api.prepare_nahversorgung(
        inp.walk_osm or inp.osm, munis, service_rules=inputs.service_rules,
        network="network" in c.methods, population_grid=inputs.population_grid,
        grid_name=Path(inp.population_grid).name if inp.population_grid is not None else None,
        polygons=polygons, stops=inputs.stops if inp.gtfs is not None else None,
        gtfs_name=Path(inp.gtfs).name if inp.gtfs is not None else None,
        min_departures=c.min_departures, gtfs_date=c.gtfs_date, facilities=inputs.facilities,
        cache_dir=config.graph.cache_dir, crs=config.graph.metric_crs)


def walk_stage(munis, config: Config, walk: api.WalkInputs | str, out: Output,
               summary: list[str], executor: Executor | None = None):
    """Nahversorgung: distances, shares per municipality, cells, map.

    Runs when :func:`prepare_walk` found services and residents in the walk extract
    (``inputs.walk_osm``, else ``inputs.osm``); otherwise it is skipped with a note.
    """
    if isinstance(walk, str):
        logger.warning("Nahversorgung skipped: %s", walk)
        summary += report.skipped_section(report.WALK_TITLE, walk)
        return munis
    c = config.walk
    path, facilities, stop_source, pop_source = (walk.path, walk.facilities, walk.stop_source,
                                                 walk.pop_source)
    result = api.nahversorgung(walk, munis, methods=c.methods, limit_m=c.limit_m,
                               max_distance_m=c.max_distance_m, max_snap_m=c.max_snap_m,
                               executor=tasks_of(executor), tiles=config.compute.tiles,
                               tile_size_m=config.compute.tile_size_m,
                               ags_prefixes=config.region.ags_prefixes, bbox=config.region.bbox)
    res, per_cell = result.municipalities, result.cells
    keep = ["x", "y", "population", "ags"] + [k for k in per_cell.columns if k.startswith("dist_")]
    cells_out = gpd.GeoDataFrame(  # GeoParquet: the cell centres with their CRS
        per_cell[keep].assign(ags=per_cell["ags"].astype("string")),
        geometry=gpd.points_from_xy(per_cell["x"], per_cell["y"]), crs=defaults.GRID_CRS)
    cells_out.attrs = {}
    out.table("walk_cells", cells_out, "walk_cells.parquet")
    out.table("walk_facilities", facilities, "walk_facilities.csv")
    # per GVB, Kreis, Land and overall: empty where no member has data, never 0 %
    out.table("walk_units", by_levels(api.walk_by_unit, res, None), "walk_units.csv")
    rows = None
    if config.output.unit == "gvb" and "gvb" in res.columns:
        rows = api.gvb_table(res)
        rows = rows[rows["gvb"].isin(res.loc[res["in_region"], "gvb"])]
    summary += report.walk_section(res, walk_file=path.name, population_source=pop_source,
                                   stop_source=stop_source, n_water=walk.n_water,
                                   n_crossings=walk.n_crossings, methods=c.methods,
                                   limit_m=c.limit_m, rows=rows)
    if config.output.maps and res["walk_residents"].fillna(0).gt(0).any():
        ext = config.output.map_format
        sfx = "" if "straight" in c.methods else "_net"
        # count of services reached; NaN (nothing within reach) compares False
        n_ok = api.services_reached(per_cell, c.limit_m, sfx)
        labels = services_reached_labels()
        cells_gdf = gpd.GeoDataFrame({"services": np.array(labels, dtype=object)[n_ok]},
                                     geometry=gpd.points_from_xy(per_cell["x"], per_cell["y"]),
                                     crs=defaults.GRID_CRS)
        # services absent from the input can never count: say so on the map
        absent = [s for s in SERVICES if not (facilities["service"] == s).any()]
        n = len(SERVICES)
        limit = f"{c.limit_m:,.0f}"
        for lang, tag in map_languages(config.output.lang):
            w = map_words(lang)
            how = w["walk_straight"] if sfx == "" else w["walk_network"]
            note = (w["walk_no_data"].format(
                services=", ".join(service_label(a, lang) for a in absent), k=n - len(absent),
                n=n) if absent else "")
            title = w["walk"].format(
                limit=limit.replace(",", ".") if lang == "de" else limit, how=how,
                all=class_label(labels[-1], lang), n=n,  # "all 6": the same numbers
                note=note)
            out.add(f"map_walk{tag}", map_categories(
                cells_gdf, "services", out.stage / f"map_walk_all_six{tag}.{ext}", title=title,
                order=labels, cmap="viridis", lang=lang))
    return res


def unit_tables_stage(munis, config: Config, out: Output, summary: list[str],
                      road_region: np.ndarray) -> None:
    """The GVB table (``gvb.csv``: every model's values per Gemeindeverband) and the
    report's cross-tables in the reporting unit, with their summary section.

    ``road_region`` marks the municipalities of the road extract: the cross-tables
    count those (as the class and Lage tables do), ``gvb.csv`` also the GVBs that
    only the walk extract reaches."""
    reg = munis[munis["in_region"].to_numpy(bool)]
    if not len(reg):
        return
    gvb = api.gvb_table(munis, weighting=config.central_places.weighting,
                    thresholds=tuple(config.lage.thresholds))
    gvb = gvb[gvb["gvb"].isin(reg["gvb"])]
    out.table("gvb_table", with_names(gvb.drop(columns="gvb_name", errors="ignore"), "gvb",
                                      munis), "gvb.csv")
    road = munis[road_region]
    units = gvb[gvb["gvb"].isin(road["gvb"])]
    rows = api.unit_rows(road, units, config.output.unit)
    tables = {}
    if {"mz_class", "lage"} <= set(rows.columns):
        tables["table_mz_oz_by_lage"] = api.mz_oz_by_lage(rows)
        tables["table_mz_oz_by_lage_counts"] = api.mz_oz_by_lage_counts(rows)
    if "lage" in rows.columns:
        tables["table_function_type_lage"] = api.function_type_lage(rows)
        tables["table_function_type_lage_counts"] = api.function_type_lage_counts(rows)
    for key, t in tables.items():
        out.table(key, t, f"{key}.csv")
    groups = None
    if {"settlement_type", "lage"} <= set(road.columns):
        groups = api.group_indicators(road)
        out.table("group_indicators", groups, "group_indicators.csv")
    summary += report.unit_tables_section(
        tables, unit=config.output.unit, n_unpopulated=int(api.unpopulated(reg).sum()),
        n_incomplete=api.left_out(units if config.output.unit == "gvb" else road),
        national=api.run_covers_germany(munis))
    if groups is not None:
        summary += report.group_indicators_section(groups)


def counts_stage(munis, out: Output, summary: list[str], road_region: np.ndarray) -> None:
    """One count for the summary, ``counts.csv`` and the GeoPackage: municipalities
    in the region, written and left out; per GVB, Kreis and Land the rows of its
    table, complete and incomplete (from the tables as written)."""
    inside = munis["in_region"].to_numpy(bool)
    rows = [("municipalities", "in the register", len(munis)),
            ("municipalities", "in the region of the road extract", int(road_region.sum())),
            ("municipalities", "outside it, in the walk extract (Nahversorgung values only)",
             int((inside & ~road_region).sum())),
            ("municipalities", "written (municipalities.*)", int(inside.sum())),
            ("municipalities", "left out (outside the region, not written)",
             int((~inside).sum()))]
    for level, key, file in (("gvb", "gvb_table", "gvb.csv"), ("kreis", "kreis_table",
                                                              "kreis.csv"),
                             ("land", "land_table", "land.csv")):
        t = out.tables.get(key)
        if t is None or "complete" not in t.columns:
            continue
        done = t["complete"].to_numpy(bool)
        road = t[level].isin(munis.loc[road_region, level]).to_numpy()
        rows += [(level, f"rows of {file} (and of the GeoPackage layer {level})", len(t)),
                 (level, "complete (every member in the region, with a value)",
                  int(done.sum())),
                 (level, "incomplete, in the road extract (cross its edge): in no class "
                         "table", int((~done & road).sum())),
                 (level, "incomplete, only in the walk extract", int((~done & ~road).sum()))]
    table = pd.DataFrame(rows, columns=["level", "what", "n"])
    out.table("counts", table, "counts.csv")
    summary += report.counts_section(table)


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
                if key == f"{level}_table":  # the layer has the rows of the CSV: one count
                    poly = poly[poly[level].isin(t[level])]
                poly = poly.merge(extra, on=level, how="left")
        layers[level] = poly
    return layers


def _nests(table: pd.DataFrame, finer: str, coarser: str) -> bool:
    """Whether every unit of ``finer`` lies in one unit of ``coarser`` (and every
    row has a ``finer`` unit), so ``coarser`` is a union of ``finer`` units."""
    if table[finer].isna().any():
        return False
    return bool((table.groupby(finer)[coarser].nunique(dropna=False) <= 1).all())


def write_municipalities(munis, columns: dict, config: Config, out: Output,
                         inputs: Inputs) -> None:
    """The per-municipality results (GeoPackage / CSV / Parquet) and ``columns.csv``."""
    if not isinstance(munis, gpd.GeoDataFrame):
        munis = gpd.GeoDataFrame(munis, geometry=gpd.points_from_xy(munis["lon"], munis["lat"]),
                                 crs=defaults.WGS84)
    table = munis[munis["in_region"].to_numpy(bool)].drop(
        columns=["node", "access_s", *SETTING_COLUMNS], errors="ignore")
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

