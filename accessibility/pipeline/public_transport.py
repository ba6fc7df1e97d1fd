"""The run's public-transport stage: times by bus and train to the nearest MZ, OZ and
Fernbahnhof (:func:`accessibility.api.pt_times`), their unit tables, the car
comparison (``pt_vs_car.csv``), the summary section and the maps."""

from __future__ import annotations

import logging

import pandas as pd

from .. import api, report
from .._errors import InputError
from ..config import Config
from ..maps import map_languages, map_values
from ..vocabulary import map_words
from .inputs import Inputs, models_named
from .publish import Output
from .stages import provisional, region_grid, with_names

logger = logging.getLogger(__name__)

#: The time the summary compares car and public transport at (BBSR: 30 minutes).
WITHIN_MIN = 30.0


def public_transport_stage(munis, config: Config, inputs: Inputs, out: Output, polygons,
                           summary: list[str]):
    """``t_pt_mz_min``, ``t_pt_oz_min``, ``t_pt_ldrail_min`` and what is made of them;
    skipped with a log line without a GTFS feed (``--gtfs``), and with a summary note
    when the feed does not fit (another region, no trip on the day) unless
    ``--models`` names ``public_transport``."""
    if inputs.gtfs_feed is None:
        logger.info("public-transport times skipped: no GTFS feed (give --gtfs FEED.zip, "
                    "[inputs] gtfs)")
        return munis
    c, cp = config.public_transport, config.central_places
    grid = region_grid(munis, config, inputs) if c.origins == "population" else None
    if c.origins != cp.origins and "t_mz_min" in munis.columns:
        logger.info("public-transport origins %r, the car's %r: pt_vs_car.csv compares "
                    "times from different origins ([public_transport] / [central_places] "
                    "origins)", c.origins, cp.origins)
    try:
        res = api.pt_times(munis, inputs.gtfs_feed, stations=inputs.stations,
                           population_grid=grid, polygons=polygons,
                           gz_with_mz_is_mz=cp.gz_with_mz_is_mz, **c.options())
    except InputError as e:
        if models_named(config):  # asked for by name: its input must fit
            raise
        # a default model: the feed may be given for the stops of the Nahversorgung only
        logger.warning("public-transport times skipped: %s", e)
        summary += report.skipped_section(report.PT_TITLE, str(e))
        return munis
    reg = res[res["in_region"].to_numpy(bool)]
    p = f"p{c.percentile:g}"
    values = [f"t_pt_{k}_{s}min" for k in ("mz", "oz", "ldrail") for s in ("", f"{p}_")]
    for level in ("gvb", "kreis", "land"):
        if level in res.columns:
            out.table(f"pt_{level}", with_names(api.weighted_means(res, level, values), level,
                                                res, inputs.kreis_names), f"pt_{level}.csv")
    out.table("pt_vs_car", api.pt_vs_car(reg, percentile=c.percentile), "pt_vs_car.csv")
    within = api.residents_within(reg, WITHIN_MIN)
    means = api.weighted_means(res, None, [v for v in ("t_mz_min", "t_pt_mz_min", "t_oz_min",
                                                       "t_pt_oz_min") if v in res.columns])
    show = means[[col for col in means.columns if col.endswith("_pop_w")]]
    beyond = {k: int(reg[f"pt_beyond_{k}_standard"].fillna(False).sum()) for k in ("mz", "oz")}
    summary += report.public_transport_section(
        res.attrs.get("report", [])[-1:], within, show, minutes=WITHIN_MIN,
        standard_mz_min=c.standard_mz_min, standard_oz_min=c.standard_oz_min, beyond=beyond,
        national=api.run_covers_germany(res))
    if config.output.maps and reg["t_pt_mz_min"].notna().any():
        ext = config.output.map_format
        for lang, tag in map_languages(config.output.lang):
            w = map_words(lang)
            out.add(f"map_pt_mz{tag}", map_values(
                reg, "t_pt_mz_min", out.stage / f"map_pt_mz{tag}.{ext}",
                title=w["pt_mz_time"].format(start=c.window_start, end=c.window_end),
                label=w["minutes"], provisional=provisional(reg, ["t_pt_mz_edge_flag"], None),
                lang=lang))
            if "t_mz_min" in reg.columns:
                ratio = reg.assign(pt_car_ratio=pd.to_numeric(reg["t_pt_mz_min"])
                                   / pd.to_numeric(reg["t_mz_min"]).where(reg["t_mz_min"] > 0))
                if ratio["pt_car_ratio"].notna().any():
                    out.add(f"map_pt_car_ratio{tag}", map_values(
                        ratio, "pt_car_ratio", out.stage / f"map_pt_car_ratio{tag}.{ext}",
                        title=w["pt_ratio"], label=w["ratio"], cmap="magma_r",
                        provisional=provisional(reg, ["t_pt_mz_edge_flag", "mz_edge_flag"],
                                                None), lang=lang))
    return res


def pt_scenario_tables(config: Config, inputs: Inputs, sc: api.Scenario, reg_b, reg_s
                       ) -> tuple[pd.DataFrame, list[str]] | None:
    """``t_pt_*`` before and after a scenario (its designations and its
    ``[public_transport]`` timetable changes) for ``accessibility scenario``; None
    without a GTFS feed (logged)."""
    if inputs.gtfs_feed is None:
        if sc.pt:
            logger.warning("the scenario changes the timetable, but no GTFS feed is given "
                           "(--gtfs FEED.zip): the public-transport times are not compared")
        return None
    opts = {"stations": inputs.stations, "gz_with_mz_is_mz":
            config.central_places.gz_with_mz_is_mz, **config.public_transport.options()}
    if config.public_transport.origins == "population":
        opts.update(population_grid=region_grid(reg_b, config, inputs),
                    polygons=api.municipality_polygons(reg_b, inputs.boundaries))
    base = api.pt_times(reg_b, inputs.gtfs_feed, **opts)
    scen = api.pt_times(reg_s, inputs.gtfs_feed, scenario=sc.pt, **opts)
    diff = api.pt_change(base, scen)
    lines = ["## Public transport before and after", ""]
    for kind, label in (("mz", "Mittelzentrum"), ("oz", "Oberzentrum"),
                        ("ldrail", "Fernbahnhof")):
        ch = diff[f"t_pt_{kind}_min_change"]
        b, s = diff[f"t_pt_{kind}_min_base"], diff[f"t_pt_{kind}_min_scenario"]
        lines.append(f"- nearest {label}: {int((ch < 0).sum()):,} municipalities faster, "
                     f"{int((ch > 0).sum()):,} slower, {int((b.isna() & s.notna()).sum()):,} "
                     f"newly with a time, {int((b.notna() & s.isna()).sum()):,} without one "
                     "now (pt_scenario.csv).")
    return diff, lines + [""]
