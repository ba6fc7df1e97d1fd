"""The Markdown summary of a run (``summary.md``): one function per section, tables
in, lines out. The pipeline decides what runs; this module only formats."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import defaults
from .vocabulary import DESTINATION_KIND_TERMS, SERVICES

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
    for c in [c for c in t.columns if c.startswith("share_")]:
        t[c] = (100 * t[c]).map("{:.1f} %".format)
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


def edge_rule_lines(n_cut: int | None, clip: bool) -> list[str]:
    """How the edge flags were decided: from the nodes where the extract cut the
    network (a proof), or, when the graph does not know them, from guesses."""
    if n_cut:
        how = "the --clip box" if clip else "ways cut short or the file's header box"
        return [f"Edge flags: the road extract records {n_cut:,} nodes where it cut the "
                f"network ({how}): a value whose *_edge_flag is False is exact for any "
                "larger extract (README, How exact is each number)."]
    return ["Edge flags: **a guess, not a proof.** The road extract does not record where "
            "it was cut (no way is cut short and the file declares no box, e.g. a "
            "complete-way extract), so the flags use the network's outline (roads within "
            f"{defaults.EDGE_BUFFER_M / 1000:g} km of it) and straight lines at top speed: "
            "a value without a flag may still change with a larger extract. Give the box "
            "the extract was cut with (--clip LON_MIN,LAT_MIN,LON_MAX,LAT_MAX or [graph] "
            "clip) for exact flags."]


UNIT_TEXT = {"gvb": "Gemeindeverbände (each classed by its mean time, weighted as above)",
             "gemeinde": "municipalities"}


def incomplete_text(n: int, unit: str, table: str = "") -> str:
    """The sentence saying how many units the class tables (``table``: one of them)
    leave out, and why."""
    if not n:
        return ""
    what = (("Gemeindeverband", "Gemeindeverbände") if unit == "gvb"
            else ("municipality", "municipalities"))[n != 1]
    verb, they = ("is", "it crosses") if n == 1 else ("are", "they cross")
    return (f" {n:,} {what} {verb} left out{' of the ' + table if table else ''} as "
            f"incomplete: {they} the extract's edge (a member outside the region, or one "
            "without a value); their rows in the per-unit tables say complete = false.")


def flagged_mean_text(total: pd.Series, kinds=("mz", "oz")) -> str:
    """How many values of the run's means a larger extract might change (their
    ``t_{kind}_min_n_edge_flag``): such a mean is an upper bound, not exact."""
    def count(key: str) -> int:
        v = pd.to_numeric(pd.Series([total.get(key, 0)]), errors="coerce").iloc[0]
        return int(v) if pd.notna(v) else 0

    parts = []
    for kind in kinds:
        n = count(f"t_{kind}_min_n_edge_flag")
        if n:
            values = (count("n_municipalities") - count("n_unpopulated")
                      - count(f"t_{kind}_min_n_missing"))
            parts.append(f"{n:,} of the {values:,} {kind.upper()} times")
    if not parts:
        return ""
    return (f" Not exact: {' and '.join(parts)} in these means may shrink with a larger "
            "extract (edge flags), so the means are upper bounds.")


def central_places_section(report: list[str], total: pd.Series, mz: pd.DataFrame,
                           oz: pd.DataFrame, weighting: str, unit: str = "gvb",
                           n_incomplete: int | tuple[int, int] = 0) -> list[str]:
    """Headline means and the BBSR class tables of the central-place model.

    ``n_incomplete``: the units the class tables leave out, one number or one per
    table (MZ, OZ: each counts the units complete for its own time)."""
    main, other = ("area", "pop") if weighting == "area" else ("pop", "area")

    def minutes(key: str) -> str:
        v = total[key]
        return f"{v:.1f} min" if np.isfinite(v) else "no value"

    lines = ["## Central places: car time to the nearest Mittelzentrum and Oberzentrum", ""]
    lines += list(report) + [""]
    lines += [f"Mean over the run, {WEIGHTING_NAME[main]}: MZ {minutes(f't_mz_min_{main}_w')}, "
              f"OZ {minutes(f't_oz_min_{main}_w')} ({WEIGHTING_NAME[other]}: MZ "
              f"{minutes(f't_mz_min_{other}_w')}, OZ {minutes(f't_oz_min_{other}_w')})."
              + flagged_mean_text(total), ""]
    n_mz, n_oz = (n_incomplete, n_incomplete) if isinstance(n_incomplete, int) else n_incomplete
    left = (incomplete_text(n_mz, unit) if n_mz == n_oz else
            incomplete_text(n_mz, unit, "MZ table") + incomplete_text(n_oz, unit, "OZ table"))
    flags = sum(int(t["n_edge_flag"].sum()) for t in (mz, oz) if "n_edge_flag" in t.columns)
    if flags:
        left += (" Column n_edge_flag: of the units counted in a class, those whose time a "
                 "larger extract might shorten (a GVB: any member's), and so move them to a "
                 "faster class.")
    lines += [f"Class tables count {UNIT_TEXT[unit]}; unpopulated areas are left out."
              + left, ""]
    lines += ["### Time to the nearest Mittelzentrum (MZ or OZ)", "", share_table(mz), ""]
    lines += ["### Time to the nearest Oberzentrum", "", share_table(oz), ""]
    return lines


def standards_section(std: pd.DataFrame, mz_min: float, oz_min: float) -> list[str]:
    """Residents beyond the accessibility standards: the run's total and the Kreise."""
    def rows(t: pd.DataFrame) -> pd.DataFrame:
        show = t[["key", "name", "residents", "residents_beyond_mz",
                  "share_residents_beyond_mz", "residents_beyond_oz",
                  "share_residents_beyond_oz"]].copy()
        for c in ("share_residents_beyond_mz", "share_residents_beyond_oz"):
            show[c] = (100 * show[c]).map(lambda v: f"{v:.1f} %" if np.isfinite(v) else "")
        if show["name"].isna().all() or (show["name"].astype(str) == "").all():
            show = show.drop(columns="name")
        return show.rename(columns={"key": "kreis", "share_residents_beyond_mz": "share_mz",
                                    "share_residents_beyond_oz": "share_oz"})
    total = std[std["level"] == "total"]
    kreis = std[(std["level"] == "kreis") & ((std["residents_beyond_mz"] > 0)
                                             | (std["residents_beyond_oz"] > 0))]
    kreis = kreis.sort_values(["residents_beyond_mz", "residents_beyond_oz"], ascending=False)
    t = total.iloc[0]
    lines = ["### Accessibility standards (Erreichbarkeitsstandards)", "",
             f"Mittelzentrum within {mz_min:g} minutes, Oberzentrum within {oz_min:g} minutes "
             f"by car (FGSV RIN 2008, MKRO 2016; [central_places] standard_mz_min / "
             f"standard_oz_min). Beyond them: {t['residents_beyond_mz']:,.0f} residents in "
             f"{int(t['n_beyond_mz']):,} municipalities (MZ), {t['residents_beyond_oz']:,.0f} "
             f"in {int(t['n_beyond_oz']):,} (OZ); municipalities without a time are counted "
             "apart. Per GVB, Kreis and Land: standards.csv; map: map_standards.", ""]
    if len(kreis):
        lines += [f"Kreise with residents beyond a standard ({len(kreis)}, most first):", "",
                  md_table(rows(kreis.head(15)), "{:,.0f}"), ""]
    return lines


INDICATORS_TITLE = ("## Further indicators: "
                    + ", ".join(t.heading for t in DESTINATION_KIND_TERMS.values())
                    + ", transit, commuters")


def indicators_section(report: list[str], table: pd.DataFrame) -> list[str]:
    """The report lines of the further indicators and their values over the run."""
    t = table[table["level"] == "total"].iloc[0]
    lines = [INDICATORS_TITLE, ""] + list(report) + [""]
    rows = []
    for kind, terms in DESTINATION_KIND_TERMS.items():
        a, p = f"t_{kind}_min_area_w", f"t_{kind}_min_pop_w"
        if a in t.index and np.isfinite(t[a]):
            rows.append({"car time to the nearest": terms.table_label, "area-weighted min": t[a],
                         "population-weighted min": t[p]})
    if rows:
        lines += [md_table(pd.DataFrame(rows)), ""]
    for col, what in (("pt_departures_per_1000", "public-transport departures per 1,000 "
                                                 "residents (all modes)"),
                      ("rail_departures_per_1000", "rail departures per 1,000 residents"),
                      ("commuter_balance_per_100", "commuter balance (Pendlersaldo) per 100 "
                                                   "employees at the workplace"),
                      ("residents_per_job", "residents per job (Wohnzentralität)")):
        if col in t.index and np.isfinite(t[col]):
            lines.append(f"- {what}: {t[col]:,.1f}")
    lines += ["", "Per GVB, Kreis and Land: indicators.csv.", ""]
    return lines


LAGE_TITLE = "## Lage: daytime population reachable within 2 hours by car"


def lage_section(result: pd.DataFrame, cross: pd.DataFrame, *, method: str,
                 unit: str = "gvb", national: bool = False, n_incomplete: int = 0) -> list[str]:
    """The Lage report lines, mean potential and the Lage x settlement-type table.

    The BBSR mean of 183,000 is national: a mean is compared with it only when the
    run covers Germany (``national``)."""
    on = result["potential_2h"].notna()
    flagged = on & result["edge_flag"].fillna(True).astype(bool)
    exact = on & ~flagged
    lines = [LAGE_TITLE, ""] + list(result.attrs.get("report", [])) + [""]
    pot = result.loc[exact, "potential_2h"].astype(float)
    mean = pot.mean() if exact.any() else float("nan")
    compare = ("(BBSR: 183,000 over Germany)" if national else
               "(a regional mean: not comparable with BBSR's national 183,000)")
    # BBSR's classes rest on the mean "und der Streuung": the spread beside the mean
    q = pot.quantile([0.25, 0.5, 0.75]).to_numpy() if exact.any() else None
    spread = (f"; spread: standard deviation {pot.std(ddof=0):,.0f}, quartiles "
              f"{q[0]:,.0f} / {q[1]:,.0f} / {q[2]:,.0f}" if q is not None else "")
    # certain: exact, or flagged with its upper bound (potential_2h_max) in the same class
    certain = on & result["lage"].notna() if "lage" in result.columns else exact
    empty = (pd.to_numeric(result["population"], errors="coerce") == 0
             if "population" in result.columns else pd.Series(False, index=result.index))
    unsure = flagged & ~certain & ~empty
    n_empty = int((flagged & ~certain & empty).sum())
    lines += [f"Potentials: {method}. {int(certain.sum()):,} of {int(on.sum()):,} Lage classes "
              f"certain; {int(exact.sum()):,} with an exact potential, mean over them "
              + (f"{mean:,.0f} {compare}{spread}." if np.isfinite(mean) else "none.")
              + (f" {int(flagged.sum()):,} potentials may miss destinations beyond the "
                 f"extract (edge_flag: a lower bound); {int((flagged & certain).sum()):,} of "
                 "them keep a class, as their upper bound (potential_2h_max) lies in the same "
                 f"one; {int(unsure.sum()):,} get none (lage_reason: needs "
                 "the 2-hour surroundings: run on a larger extract or import a national run "
                 "with --lage-from)"
                 + (f"; {n_empty:,} unpopulated (no Lage by design)" if n_empty else "") + "."
                 if flagged.any() else ""), ""]
    what = ("Gemeindeverbände (each with the potential of its most populous member, the "
            "settlement centre; every member carries its GVB's Lage in column lage, its own "
            "in lage_gemeinde)" if unit == "gvb" else "municipalities")
    lines += ["### Lage by settlement type (Stadt- und Gemeindetyp)", "",
              f"Counted in {what} and residents; unpopulated areas are left out."
              + incomplete_text(n_incomplete, unit), "",
              md_table(cross.reset_index(), "{:,.0f}"), ""]
    return lines


WALK_TITLE = "## Nahversorgung: services within walking distance"


def walk_section(result: pd.DataFrame, *, walk_file: str, population_source: str,
                 stop_source: str, n_water: int, n_crossings: int, methods,
                 limit_m: float = defaults.WALK_LIMIT_M, rows: pd.DataFrame | None = None
                 ) -> list[str]:
    """The Nahversorgung report lines and the share table of the units (``rows``:
    GVBs with ``gvb``/``gvb_name``, default the municipalities of ``result``) with
    residents in the walk extract."""
    rows = result if rows is None else rows
    has = rows["walk_residents"].fillna(0).to_numpy() > 0
    lines = [WALK_TITLE, "", f"Walk extract {walk_file}; residents from {population_source}; "
             + " ".join(result.attrs.get("report", [])) + f" Stops: {stop_source}.",
             f"Water barriers: {n_water:,} features, {n_crossings:,} bridges/underpasses as "
             "gaps.", ""]
    sfx = ([""] if "straight" in methods else []) + (["_net"] if "network" in methods else [])
    key = [c for c in (("ags", "name") if "ags" in rows.columns else ("gvb", "gvb_name"))
           if c in rows.columns]
    show = rows.loc[has, key + ["walk_residents", "walk_coverage"]
                    + [f"walk_share_{s}{x}" for x in sfx for s in SERVICES + ("all",)]]
    unit = "Gemeindeverband (residents served over residents)" if "ags" not in rows.columns \
        else "municipality"
    lines += [f"Share of residents within {limit_m:,.0f} m per {unit} (straight line with "
              "barriers; _net: along the walking network):", "",
              md_table(show.round(3), "{:,.3f}"), ""]
    return lines


UNIT_TITLE = "## The report's tables"


def unit_tables_section(tables: dict[str, pd.DataFrame], *, unit: str,
                        n_unpopulated: int, n_incomplete: int = 0,
                        national: bool = False) -> list[str]:
    """The cross-tables of the BBSR report in its shape (% of each column, with the
    counts); the counts over every type and the residents are in the CSV files."""
    what = "Gemeindeverbände" if unit == "gvb" else "municipalities"
    cover = ("this run covers Germany" if national else
             "this run does not cover Germany: the tables describe its region, not the "
             "report's national numbers (those without a road graph: accessibility "
             "report-tables)")
    lines = [UNIT_TITLE, "",
             f"Reporting unit: {what} (config [output] unit); from this run's road "
             f"extract ({cover}). {n_unpopulated:,} unpopulated "
             "areas (gemeindefreie Gebiete, 0 residents) are left out of settlement types, "
             "classes, means and these tables; BBSR's published counts include them among "
             "the Landgemeinden." + incomplete_text(n_incomplete, unit), ""]
    titles = {"table_mz_oz_by_lage": f"Abb. 14: MZ and OZ time classes of the Kleinstädte "
                                     f"by Lage and size, % of the {what} of each group",
              "table_function_type_lage": f"Tab. 3: central-place function by settlement "
                                          f"type and Lage, % of the {what} of each column"}
    for key, title in titles.items():
        if key not in tables:
            continue
        t = tables[key]
        pct = t[[c for c in t.columns if not c.endswith((" n", " residents"))]]
        left = t.attrs.get("left_out", 0)
        units = "Kleinstädte" if key == "table_mz_oz_by_lage" else what
        text = (f"Counts and residents: {key}.csv; over every type and Lage class: "
                f"{key}_counts.csv."
                + (f" {left:,} {units} without a Lage class (or type) are left out." if left
                   else ""))
        counted = t[[c for c in t.columns if c.endswith(" n")]].to_numpy().sum()
        body = (md_table(pct.rename(columns=lambda c: c.removesuffix(" %")), "{:,.1f}")
                if counted else "Empty: no unit has a Lage class (a regional run's Lage is "
                "empty by design; take it from a national run with --lage-from).")
        lines += [f"### {title}", "", text, "", body, ""]
    return lines


#: The columns of the group indicators the summary shows (all are in the CSV file).
GROUP_SUMMARY_COLUMNS = {
    "n_gvb": "GVBs", "population": "residents", "t_mz_min_area_w": "MZ min",
    "t_oz_min_area_w": "OZ min", "t_motorway_min_area_w": "motorway min",
    "t_ldrail_min_area_w": "Fernbahnhof min", "t_airport_min_area_w": "airport min",
    "pt_departures_per_1000": "departures / 1,000", "commuter_balance_per_100":
    "Pendlersaldo / 100", "residents_per_job": "residents / job", "walk_share_all":
    "all six within 1 km"}


#: Short names of the car-time destinations in the summary's sentences.
DESTINATION_LABEL = {"mz": "MZ", "oz": "OZ", "ldrail": "Fernbahnhof"}


def group_indicators_section(groups: pd.DataFrame) -> list[str]:
    """The group indicators (Abb. 19, Tab. 2, Abb. 9, Abb. 15/16) beside the run's
    mean: area-weighted car times, ratios of sums, Nahversorgung shares."""
    cols = [c for c in GROUP_SUMMARY_COLUMNS if c in groups.columns]
    show = groups[["grouping", "group"] + cols].copy()
    total = groups[groups["grouping"] == "total"]
    flagged = [(c[2:-len("_min_n_edge_flag")], int(total[c].sum())) for c in groups.columns
               if c.endswith("_min_n_edge_flag") and len(total) and total[c].sum() > 0]
    exact = ("" if not flagged else
             " Not exact: some car times in these means may shrink with a larger extract "
             "(edge flags; of the municipalities counted: "
             + ", ".join(f"{DESTINATION_LABEL.get(k, k)} {n:,}" for k, n in flagged)
             + "; per group: the t_*_n_edge_flag columns of group_indicators.csv), so "
             "those means are upper bounds.")
    show["population"] = show["population"].fillna(0).round().astype(int)
    show = show.rename(columns=GROUP_SUMMARY_COLUMNS)
    return ["### Indicators by settlement type and Lage (report Abb. 19, Tab. 2, Abb. 9, "
            "Abb. 15/16)", "",
            "Municipalities of complete GVBs; car times area-weighted (population-weighted "
            "and the other columns in group_indicators.csv); departures and commuters as "
            "ratios of sums; the last row is the run's own mean (BBSR compares with the Bund, "
            "e.g. 2.49 residents per job in 2019)." + exact, "", md_table(show, "{:,.2f}"), ""]


def national_tables_section(tables: dict[str, pd.DataFrame], *, municipalities: str,
                            central_places: str, seconds: float) -> list[str]:
    """The summary of ``accessibility report-tables``: the national tables that need
    no road graph, with their inputs."""
    by_land = tables["settlement_types_by_land"]
    fn = tables["table_function_by_type"]
    return ["# The report's tables from the register", "",
            f"Register {municipalities}; central places {central_places}; "
            + " ".join(tables["settlement_type_counts"].attrs.get("report", []))
            + f"; {seconds:.1f} s. No road graph: these tables cover Germany whatever the "
            "region of a run.", "",
            "## Settlement types (Gemeindeverbände), beside BBSR's 2019 counts", "",
            md_table(tables["settlement_type_counts"], "{:,.1f}"), "",
            "## Tab. 1: settlement types per Land (number of Gemeindeverbände)", "",
            md_table(by_land[[c for c in by_land.columns if not c.endswith(" residents")]],
                     "{:,.0f}"), "",
            "## Tab. 3: central-place function by settlement type (number, % of the column)",
            "", md_table(fn[[c for c in fn.columns if not c.endswith(" residents")]],
                         "{:,.1f}"), ""]


def counts_section(counts: pd.DataFrame) -> list[str]:
    """How many municipalities and units the run has, writes, completes and leaves
    out (the same numbers as counts.csv, the CSV files and the GeoPackage layers)."""
    return ["## Counts", "", md_table(counts, "{:,.0f}"), ""]


def scenario_section(sc, diff: pd.DataFrame, moved: dict, road_info: dict,
                     times: dict) -> list[str]:
    """The scenario report: what changed, who gains and loses, residents between
    classes, and how long each step took."""
    lines = [f"# Scenario: {sc.name}", ""]
    what = []
    if sc.functions:
        what.append("central places: " + ", ".join(f"{a} -> {f}" for a, f in sc.functions.items()))
    if sc.population:
        what.append("population: " + ", ".join(f"{a} = {v:,.0f}" for a, v in sc.population.items()))
    if sc.speed_factors:
        what.append("speed factors: " + ", ".join(f"{c} x {f:g}" for c, f in sc.speed_factors.items()))
    if sc.closed_areas:
        what.append(f"{len(sc.closed_areas)} closed area(s): {road_info.get('edges_closed', 0):,} "
                    f"directed edges, {road_info.get('km_closed', 0.0):,.1f} km closed")
    for link in road_info.get("new_links", []):
        what.append(f"new link: node {link['from_node']} <-> {link['to_node']}, "
                    f"{link['km']:.1f} km, {link['minutes']:.1f} min")
    lines += [f"- {w}" for w in what] + [""]
    for v, label in (("t_mz_min", "Mittelzentrum"), ("t_oz_min", "Oberzentrum")):
        col = f"{v}_change"
        if col not in diff.columns:
            continue
        ch = diff[col]
        gain, lose = diff[ch < -1e-9], diff[ch > 1e-9]
        lost = diff[diff[f"{v}_base"].notna() & diff[f"{v}_scenario"].isna()]
        lines += [f"## Car time to the nearest {label}", "",
                  f"{len(gain):,} municipalities ({gain['population_scenario'].sum():,.0f} "
                  f"residents) gain, mean {gain[col].mean() if len(gain) else 0:.1f} min; "
                  f"{len(lose):,} ({lose['population_scenario'].sum():,.0f} residents) lose, "
                  f"mean {lose[col].mean() if len(lose) else 0:+.1f} min"
                  + (f"; {len(lost):,} can no longer reach one" if len(lost) else "") + ".", ""]
        top = pd.concat([gain.nsmallest(10, col), lose.nlargest(10, col)])
        if len(top):
            lines += [md_table(top[["ags", "name", "population_scenario", f"{v}_base",
                                    f"{v}_scenario", col]], "{:,.1f}"), ""]
    for col, t in moved.items():
        if t.shape[0] and (t.to_numpy().sum() > 0):
            lines += [f"## Residents between {col} classes (rows: base, columns: scenario)", "",
                      md_table(t.reset_index(), "{:,.0f}"), ""]
    lines += ["## Time", "", md_table(pd.DataFrame({"step": list(times),
                                                     "seconds": list(times.values())}),
                                       "{:,.2f}"), ""]
    return lines


def skipped_section(title: str, why: str) -> list[str]:
    return [title, "", f"skipped: {why}", ""]


PT_TITLE = "## Public transport: time to the nearest central place by bus and train"


def public_transport_section(report: list[str], within: pd.DataFrame, means: pd.DataFrame,
                             *, minutes: float, standard_mz_min: float,
                             standard_oz_min: float, beyond: dict[str, int],
                             national: bool = False) -> list[str]:
    """The public-transport times beside the car's (BBSR: share of residents within
    ``minutes`` of the nearest central place by car and by public transport). BBSR's
    national shares are named only when the run covers Germany (``national``): a
    region's share is no estimate of them."""
    lines = [PT_TITLE, ""] + [f"- {r}" for r in report] + [""]
    if len(within) and within["residents"].iloc[0] > 0:
        t = within.assign(share=within["share"] * 100.0).rename(
            columns={"share": f"share within {minutes:g} min (%)",
                     "within": f"residents within {minutes:g} min"})
        lines += [f"Residents within {minutes:g} minutes of the nearest Mittel- or "
                  "Oberzentrum, by car and by public transport (municipalities with both "
                  + ("times; BBSR reports 99.5 % and 82 % for Germany):" if national
                     else "times; a regional figure, not comparable with BBSR's national "
                          "shares):"), "",
                  md_table(t), ""]
    lines += ["Means over the region (public-transport medians of the window; "
              "`pt_vs_car.csv` compares every municipality):", "", md_table(means), "",
              f"Beyond the public-transport standards (RIN 2008 / BVWP: MZ {standard_mz_min:g}, "
              f"OZ {standard_oz_min:g} min): {beyond.get('mz', 0):,} municipalities for the MZ, "
              f"{beyond.get('oz', 0):,} for the OZ.", ""]
    return lines
