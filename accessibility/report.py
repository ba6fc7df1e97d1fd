"""The Markdown summary of a run (``summary.md``): one function per section, tables
in, lines out. The pipeline decides what runs; this module only formats."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import defaults
from .vocabulary import SERVICES

WEIGHTING_NAME = {"area": "area-weighted (INKAR)", "pop": "population-weighted (Deutschlandatlas)"}


def md_table(df: pd.DataFrame, floatfmt: str = "{:,.1f}") -> str:
    """A DataFrame as a Markdown table (no extra dependency)."""
    def fmt(v):
        if isinstance(v, float):
            return floatfmt.format(v) if np.isfinite(v) else ""
        return f"{v:,}" if isinstance(v, (int, np.integer)) else str(v)
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep] + rows)


def share_table(t: pd.DataFrame) -> str:
    """A class-share table (:func:`~accessibility.models.central_places.class_shares`)
    with shares in per cent."""
    t = t.copy()
    t["share_municipalities"] = (100 * t["share_municipalities"]).map("{:.1f} %".format)
    t["share_population"] = (100 * t["share_population"]).map("{:.1f} %".format)
    return md_table(t, "{:,.0f}")


def graph_section(stats_text: str, warnings: list[str] = ()) -> list[str]:
    return ["# Accessibility run", "", "```", stats_text, "```", ""] + (
        list(warnings) + [""] if warnings else [])


def municipalities_section(munis: pd.DataFrame, max_snap_m: float, notes: list[str]) -> list[str]:
    """How many municipalities were read and routed, and what was missing."""
    on = munis["on_network"].to_numpy(bool)
    lines = [f"{len(munis):,} municipalities read, {int(on.sum()):,} on the network "
             f"(snapped within {max_snap_m:,.0f} m)."]
    if (~on).any():
        off = munis.loc[~on]
        lines.append(f"{int((~on).sum()):,} municipalities are outside the network extent or "
                     "have no reference point and are left out of the routing (first: "
                     + ", ".join(f"{a} {n}" for a, n in zip(off["ags"][:5], off["name"][:5]))
                     + ").")
    return ["## Municipalities", ""] + lines + list(notes) + [""]


def central_places_section(report: list[str], total: pd.Series, mz: pd.DataFrame,
                           oz: pd.DataFrame, weighting: str) -> list[str]:
    """Headline means and the BBSR class tables of the central-place model."""
    main, other = ("area", "pop") if weighting == "area" else ("pop", "area")

    def minutes(key: str) -> str:
        v = total[key]
        return f"{v:.1f} min" if np.isfinite(v) else "no value"

    lines = ["## Central places: car time to the nearest Mittelzentrum and Oberzentrum", ""]
    lines += list(report) + [""]
    lines += [f"Mean over the run, {WEIGHTING_NAME[main]}: MZ {minutes(f't_mz_min_{main}_w')}, "
              f"OZ {minutes(f't_oz_min_{main}_w')} ({WEIGHTING_NAME[other]}: MZ "
              f"{minutes(f't_mz_min_{other}_w')}, OZ {minutes(f't_oz_min_{other}_w')}).", ""]
    lines += ["### Time to the nearest Mittelzentrum (MZ or OZ)", "", share_table(mz), ""]
    lines += ["### Time to the nearest Oberzentrum", "", share_table(oz), ""]
    return lines


LAGE_TITLE = "## Lage: daytime population reachable within 2 hours by car"


def lage_section(result: pd.DataFrame, cross: pd.DataFrame, *, decay_text: str,
                 limit_min: float) -> list[str]:
    """The Lage report lines, mean potential and the Lage x settlement-type table."""
    on = result["potential_2h"].notna()
    lines = [LAGE_TITLE, ""] + list(result.attrs.get("report", [])) + [""]
    lines += [f"Decay {decay_text}, limit {limit_min:g} min. Mean potential over "
              f"{int(on.sum()):,} municipalities: {result.loc[on, 'potential_2h'].mean():,.0f} "
              f"(BBSR target 183,000). {int(result.loc[on, 'edge_flag'].sum()):,} searches "
              "touched the edge of the network (column edge_flag: their potential is likely "
              "too low).", ""]
    lines += ["### Lage by settlement type (Stadt- und Gemeindetyp): municipalities and "
              "population", "", md_table(cross.reset_index(), "{:,.0f}"), ""]
    return lines


WALK_TITLE = "## Nahversorgung: services within walking distance"


def walk_section(result: pd.DataFrame, *, walk_file: str, population_source: str,
                 stop_source: str, n_water: int, n_crossings: int, methods,
                 limit_m: float = defaults.WALK_LIMIT_M) -> list[str]:
    """The Nahversorgung report lines and the share table of the municipalities with
    residents in the walk extract."""
    has = result["walk_residents"].fillna(0).to_numpy() > 0
    lines = [WALK_TITLE, "", f"Walk extract {walk_file}; residents from {population_source}; "
             + " ".join(result.attrs.get("report", [])) + f" Stops: {stop_source}.",
             f"Water barriers: {n_water:,} features, {n_crossings:,} bridges/underpasses as "
             "gaps.", ""]
    sfx = ([""] if "straight" in methods else []) + (["_net"] if "network" in methods else [])
    show = result.loc[has, ["ags", "name", "walk_residents", "walk_coverage"]
                      + [f"walk_share_{s}{x}" for x in sfx for s in SERVICES + ("all",)]]
    lines += [f"Share of residents within {limit_m:,.0f} m (straight line with barriers; _net: "
              "along the walking network):", "", md_table(show.round(3), "{:,.3f}"), ""]
    return lines


def skipped_section(title: str, why: str) -> list[str]:
    return [title, "", f"skipped: {why}", ""]
