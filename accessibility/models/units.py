"""The reporting unit: Gemeindeverband (as the BBSR report) or Gemeinde.

BBSR computes the Lage "für alle Gemeindeverbände", assigns the settlement type per
Gemeindeverband (GVB) and reports the MZ/OZ time classes of its small towns per GVB
(docs/METHOD.md, "Reporting unit"). This module turns the per-municipality results
of the models into

* the **GVB table**: one row per GVB with its population and area, central-place
  function and settlement type, the area- and population-weighted mean car times
  and their BBSR classes, the Lage of its settlement centre and its Nahversorgung
  shares (residents served over residents);
* the **unit columns** of the municipality table: every member carries its GVB's
  Lage (``lage_gvb``, ``potential_2h_gvb``) and MZ/OZ class (``mz_class_gvb``,
  ``oz_class_gvb``); with ``unit = "gvb"`` the column ``lage`` is the GVB's class
  and the municipality's own one stays in ``lage_gemeinde``;
* **counts behind the report's cross-tables**, in units and in residents, over every
  settlement type: MZ and OZ time classes by Lage and by größere / kleine Kleinstadt,
  and central-place function by settlement type and Lage (the report's own shapes of
  Abb. 14 and Tab. 3 are in :mod:`~accessibility.models.report_tables`).

Unpopulated areas (gemeindefreie Gebiete with 0 residents) have no settlement
type, no class and no weight in a mean; they are counted apart
(:func:`unpopulated`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import defaults
from .._errors import InputError
from .._util import require_columns
from ..vocabulary import (
    CENTRAL_PLACE_CLASSES,
    LAGE_CLASSES,
    NO_VALUE,
    SERVICES,
    SETTLEMENT_TYPES,
    WALK_METHOD_SUFFIX,
    class_codes,
    class_order,
)
from .central_places import classify, weighted_means
from .lage import gvb_potential
from .membership import in_region, members, with_members
from .settlement import settlement_types

__all__ = ["UNITS", "apply_unit", "class_rows", "function_type_lage_counts", "gvb_table", "left_out",
           "mz_oz_by_lage_counts", "served_share", "unit_rows", "unpopulated", "walk_base",
           "walk_by_unit", "walk_shares"]

#: The reporting units: the Gemeindeverband (BBSR, default) or the Gemeinde.
UNITS = ("gvb", "gemeinde")
#: Column groups of the Kleinstadt split in :func:`mz_oz_by_lage` (report Abb. 14).
KLEINSTADT_DETAIL = ("größere Kleinstadt", "kleine Kleinstadt")


def unpopulated(df: pd.DataFrame) -> np.ndarray:
    """Rows with a population of exactly 0 (gemeindefreie Gebiete: forests, lakes,
    military areas). A missing population is unknown, not 0."""
    if "population" not in df.columns:
        return np.zeros(len(df), bool)
    return (pd.to_numeric(df["population"], errors="coerce") == 0).to_numpy()


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise InputError(f"unit must be one of {list(UNITS)} (Gemeindeverband as the BBSR "
                         f"report, or Gemeinde), got {unit!r}")


def _walk_suffixes(df: pd.DataFrame) -> list[str]:
    return [s for s in WALK_METHOD_SUFFIX.values() if f"walk_share_all{s}" in df.columns]


def gvb_table(munis: pd.DataFrame, *, weighting: str = "area",
              thresholds=defaults.LAGE_THRESHOLDS, settlement_function: str = "highest"
              ) -> pd.DataFrame:
    """One row per Gemeindeverband from the per-municipality results.

    Parameters
    ----------
    munis : DataFrame
        Per municipality: ``ags``, ``gvb``, ``population``, ``area_km2`` and whatever
        the models added (``t_mz_min``/``t_oz_min``, ``potential_2h`` ...,
        ``walk_share_*`` with ``walk_residents``, ``central_place``).
        Pass *every* member of a GVB: the settlement type and the settlement centre
        depend on all of them.
    weighting : {"area", "population"}
        Which mean of the car times the classes ``mz_class``/``oz_class`` and the
        columns ``t_mz_min``/``t_oz_min`` use: area-weighted (INKAR,
        "flächengewichtet") or population-weighted.
    thresholds : tuple
        Lage class bounds.
    settlement_function : {"highest", "largest"}
        See :func:`~accessibility.models.settlement.settlement_types`.

    Returns
    -------
    DataFrame
        ``gvb``, ``gvb_name`` (when given), ``n_members``, ``n_members_in_region``,
        ``complete`` (every member in the region of the run, column ``in_region``, and
        each populated one with the car times, or the potential in a run without them;
        :mod:`~accessibility.models.membership`), ``n_municipalities``, ``n_unpopulated``,
        ``population``, ``area_km2``, ``central_place`` (highest function of the GVB),
        ``settlement_type``, ``settlement_type_detail``; with car times
        ``t_mz_min``, ``t_oz_min`` (the chosen mean), ``mz_class``, ``oz_class`` and
        both weightings (``t_mz_min_area_w``, ``t_mz_min_pop_w`` ...); with the Lage
        ``centre_ags``, ``centre_name``, ``potential_2h``, ``potential_2h_max``,
        ``edge_flag``, ``lage``;
        with the Nahversorgung ``walk_residents`` and ``walk_share_{service}`` (the
        residents served over the residents of the GVB's 100 m cells).
    """
    require_columns(munis, ("ags", "gvb", "population"), "the GVB table")
    if weighting not in ("area", "population"):
        raise InputError(f"weighting must be 'area' or 'population', got {weighting!r}")
    d = pd.DataFrame(munis).copy()
    if "area_km2" not in d.columns:
        d["area_km2"] = np.nan
    empty = unpopulated(d)
    st, _ = settlement_types(d, function=settlement_function)
    out = st.drop(
        columns=["largest_ags", "largest_name", "largest_population"])
    out.insert(out.columns.get_loc("population") + 1, "n_unpopulated",
               out["gvb"].map(pd.Series(empty, index=d.index).groupby(d["gvb"]).sum())
               .fillna(0).astype(int).to_numpy())
    out.insert(out.columns.get_loc("population") + 1, "area_km2",
               out["gvb"].map(d.groupby("gvb")["area_km2"].sum(min_count=1)).to_numpy())
    times = [c for c in ("t_mz_min", "t_oz_min") if c in d.columns]
    if times:
        means = weighted_means(d, "gvb", times)
        w = "area_w" if weighting == "area" else "pop_w"
        for t in times:
            kind = t[2:4]
            v = means[f"{t}_{w}"].to_numpy(dtype=float)
            means[t] = v
            # a GVB whose every populated member is a central place of the class has 0
            means[f"{kind}_class"] = classify(v, v == 0.0, kind)
        keep = ["gvb"] + times + [f"{t[2:4]}_class" for t in times] + [
            f"{t}_{x}" for t in times for x in ("area_w", "pop_w", "n_missing", "n_edge_flag")
            if f"{t}_{x}" in means.columns]
        out = out.merge(means[keep], on="gvb", how="left")
    if "potential_2h" in d.columns:
        lage = gvb_potential(d, thresholds=thresholds)
        out = out.merge(lage[["gvb", "centre_ags", "centre_name", "potential_2h",
                              "potential_2h_max", "edge_flag", "lage", "lage_reason"]],
                        on="gvb", how="left")
        out.loc[out["population"].fillna(0) == 0, ["lage", "lage_reason"]] = None
    if _walk_suffixes(d):
        walk = walk_shares(d, "gvb").drop(columns="population")
        for c in walk.columns:
            out[c] = out["gvb"].map(walk[c]).to_numpy()
    # complete: every member in the region, each populated one with the car times (or,
    # in a run without them, the potential)
    return with_members(out, d, "gvb", times or ["potential_2h"])


def walk_base(df: pd.DataFrame, share_column: str) -> pd.Series:
    """The residents a ``walk_share_*`` column is taken over: ``walk_residents_net``
    for the network shares when given (cells off the walk network have no network
    value), ``walk_residents`` otherwise."""
    net = share_column.endswith("_net") and "walk_residents_net" in df.columns
    return df["walk_residents_net" if net else "walk_residents"]


def walk_shares(munis: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Nahversorgung per unit ``by`` (``gvb``, ``kreis``, ``land``; None: one row
    ``all``), indexed by the key: ``population``, ``walk_residents`` (residents of
    the unit's 100 m cells; empty where no member has any), ``walk_share_*``
    (:func:`served_share`: empty where no member has a value, never 0 %) and
    ``walk_coverage`` (walk residents over residents); with the network method also
    ``walk_residents_net``, the base of the ``_net`` shares (:func:`walk_base`)."""
    key = (munis[by] if by else pd.Series("all", index=munis.index)).rename(by or "level")
    res = pd.to_numeric(munis["walk_residents"], errors="coerce")
    pop = pd.to_numeric(munis["population"], errors="coerce")
    out = pd.DataFrame({"population": pop.groupby(key).sum(min_count=1),
                        "walk_residents": res.groupby(key).sum(min_count=1)})
    if "walk_residents_net" in munis.columns:  # the base of the network shares
        out["walk_residents_net"] = pd.to_numeric(munis["walk_residents_net"], errors="coerce"
                                                  ).groupby(key).sum(min_count=1)
    for sfx in _walk_suffixes(munis):
        for s in SERVICES + ("all",):
            col = f"walk_share_{s}{sfx}"
            out[col] = served_share(munis[col], walk_base(munis, col), key)
    out["walk_coverage"] = out["walk_residents"] / out["population"].where(out["population"] > 0)
    return out


def walk_by_unit(munis: pd.DataFrame, by: str | None = "gvb") -> pd.DataFrame:
    """Nahversorgung per Gemeindeverband, Kreis, Land (``by``) or overall (None) over
    the municipalities of the region (:func:`walk_shares`: empty where there is no
    data, never 0 %), with ``n_members``, ``n_members_in_region`` and ``complete``
    (every member in the region, each populated one with walk residents). Pass every
    municipality of the register."""
    t = walk_shares(munis[in_region(munis)], by).reset_index()
    return with_members(t, munis, by, ("walk_residents",))


def served_share(share: pd.Series, residents: pd.Series, key: pd.Series) -> pd.Series:
    """Residents served over residents per ``key``, over the rows with a value: a
    service without any facility (NaN, no data) stays empty, never 0 %."""
    v = pd.to_numeric(share, errors="coerce")
    res = pd.to_numeric(residents, errors="coerce").fillna(0.0)
    known = v.notna() & (res > 0)
    served = (v * res).where(known, 0.0).groupby(key).sum()
    base = res.where(known, 0.0).groupby(key).sum()
    return served / base.where(base > 0)


def apply_unit(munis: pd.DataFrame, gvb: pd.DataFrame, unit: str = defaults.UNIT
               ) -> pd.DataFrame:
    """The municipality table with its GVB's values (``lage_gvb``,
    ``potential_2h_gvb``, ``t_mz_min_gvb``, ``mz_class_gvb``, ``t_oz_min_gvb``,
    ``oz_class_gvb``, whichever ``gvb`` has; ``gvb_complete``: the GVB lies wholly in
    the region with its values, see :func:`gvb_table`) and ``lage``/``lage_code`` of the
    unit: the GVB's with ``unit = "gvb"``, the municipality's own otherwise (which
    is always kept in ``lage_gemeinde``)."""
    _check_unit(unit)
    out = munis.copy()
    key = out["gvb"].to_numpy()
    g = gvb.set_index("gvb")
    if "lage" in g.columns and "lage" in out.columns:
        if "lage_gemeinde" not in out.columns:  # applied once: keep the own class
            out["lage_gemeinde"] = out["lage"]
        out["potential_2h_gvb"] = g["potential_2h"].reindex(key).to_numpy()
        out["lage_gvb"] = g["lage"].reindex(key).to_numpy()
        if unit == "gvb":
            out["lage"] = out["lage_gvb"]
        else:
            out["lage"] = out["lage_gemeinde"]
        out.loc[unpopulated(out), "lage"] = None
        out["lage_code"] = class_codes(out["lage"], LAGE_CLASSES).to_numpy()
    for kind in ("mz", "oz"):
        if f"{kind}_class" in g.columns:
            out[f"t_{kind}_min_gvb"] = g[f"t_{kind}_min"].reindex(key).to_numpy()
            out[f"{kind}_class_gvb"] = g[f"{kind}_class"].reindex(key).to_numpy()
    if "complete" in g.columns:  # the GVB values above describe the whole GVB
        out["gvb_complete"] = g["complete"].reindex(key).fillna(False).astype(bool).to_numpy()
    return out


def unit_rows(munis: pd.DataFrame, gvb: pd.DataFrame | None, unit: str, *,
              complete_only: bool = True) -> pd.DataFrame:
    """The rows the report's tables count: the populated GVBs (``unit = "gvb"``)
    or the populated municipalities of the region, with ``population`` and the class
    columns.

    ``complete_only``: only GVBs with ``complete`` (every member in the region, with
    a value): a GVB cut by the extract's edge would be classed by its members inside.
    A municipality is complete when it lies in the region (``in_region``).
    :func:`left_out` counts what this leaves out.
    """
    _check_unit(unit)
    rows = gvb if unit == "gvb" else munis
    if rows is None:
        raise InputError("unit 'gvb' needs the GVB table")
    keep = ~unpopulated(rows)
    if complete_only:
        keep &= _complete(rows)
    return rows[keep]


def _complete(rows: pd.DataFrame) -> np.ndarray:
    if "complete" in rows.columns:
        return rows["complete"].fillna(False).to_numpy(bool)
    return in_region(rows)


def class_rows(munis: pd.DataFrame, units: pd.DataFrame | None, unit: str, kind: str
               ) -> tuple[pd.DataFrame, int]:
    """The rows the class table of ``kind`` (``"mz"``, ``"oz"``) counts, each with
    ``{kind}_edge_flag``, and how many populated units it leaves out as incomplete.

    Like :func:`unit_rows`, but a GVB is complete for this table when every member
    lies in the region and each populated one has *this* time: a region without an
    Oberzentrum still gets its MZ table. A GVB's flag is set when any member in its
    mean has a flagged time (``t_{kind}_min_n_edge_flag``, :func:`gvb_table`): its
    mean, and so its class, may change with a larger extract.

    Parameters
    ----------
    munis : DataFrame
        Every municipality of the register, with ``in_region`` for a regional run
        (members outside the region make a GVB incomplete).
    units : DataFrame or None
        The GVB table (:func:`gvb_table`), needed for ``unit = "gvb"``.
    unit : {"gvb", "gemeinde"}
    kind : {"mz", "oz"}
    """
    _check_unit(unit)
    flag = f"{kind}_edge_flag"
    if unit != "gvb":
        reg = munis[in_region(munis)]
        rows = unit_rows(reg, None, unit)
        return rows, left_out(reg)
    if units is None:
        raise InputError("unit 'gvb' needs the GVB table")
    done = members(munis, "gvb", (f"t_{kind}_min",)).set_index("gvb")["complete"]
    whole = units["gvb"].map(done).fillna(False).to_numpy(bool)
    populated = ~unpopulated(units)
    rows = units[populated & whole].copy()
    n = f"t_{kind}_min_n_edge_flag"
    if n in rows.columns:
        rows[flag] = pd.to_numeric(rows[n], errors="coerce").fillna(0).to_numpy() > 0
    return rows, int((populated & ~whole).sum())


def left_out(rows: pd.DataFrame) -> int:
    """How many populated units of ``rows`` (GVBs with ``complete``, or
    municipalities) :func:`unit_rows` leaves out as incomplete."""
    return int((~unpopulated(rows) & ~_complete(rows)).sum())


def _cross(d: pd.DataFrame, rows: list[str], row_labels: list[list], col: str,
           col_labels: list, total: bool = True) -> pd.DataFrame:
    """Counts and residents of ``d`` by the row columns and ``col``, every label
    present (0 where empty); columns ``{label} n``, ``{label} residents``."""
    idx = pd.MultiIndex.from_product(row_labels, names=rows)
    n = d.groupby(rows + [col]).size().unstack(col).reindex(index=idx, columns=col_labels)
    p = d.groupby(rows + [col])["population"].sum().unstack(col).reindex(
        index=idx, columns=col_labels)
    n, p = n.fillna(0).astype(int), p.fillna(0.0)
    if total:
        n["total"], p["total"] = n.sum(axis=1), p.sum(axis=1)
    out = pd.concat({"n": n, "residents": p}, axis=1).swaplevel(axis=1)
    out = out[[(c, m) for c in n.columns for m in ("n", "residents")]]
    out.columns = [f"{c} {m}" for c, m in out.columns]
    return out


def _labelled(d: pd.DataFrame) -> pd.DataFrame:
    """Unit rows with the label columns filled ("no value" / "no type" for missing)."""
    out = pd.DataFrame({"population": pd.to_numeric(d["population"], errors="coerce")
                        .fillna(0.0).to_numpy()}, index=d.index)
    for c, missing in (("lage", NO_VALUE), ("settlement_type", "no type"),
                       ("settlement_type_detail", "no type"), ("mz_class", NO_VALUE),
                       ("oz_class", NO_VALUE), ("central_place", "keine")):
        if c in d.columns:
            out[c] = d[c].astype(object).where(d[c].notna(), missing).to_numpy()
    return out


def mz_oz_by_lage_counts(units: pd.DataFrame) -> pd.DataFrame:
    """MZ and OZ time classes by Lage and by größere / kleine Kleinstadt, counted
    in units (``n``) and residents, over every settlement type (the counts behind
    Abb. 14; its shape is :func:`~accessibility.models.report_tables.mz_oz_by_lage`).

    ``units``: rows from :func:`unit_rows` with ``population``, ``mz_class``,
    ``oz_class``, ``lage`` and ``settlement_type_detail``. Rows: ``indicator``
    (MZ / OZ) and ``class`` (report order, "no value" last, then "total"). Columns:
    one pair per Lage class (all units), then the two Kleinstadt groups (only
    Kleinstädte), then ``total`` (all units).
    """
    require_columns(units, ("population", "mz_class", "oz_class", "lage",
                             "settlement_type_detail"), "the MZ/OZ-by-Lage table")
    d = _labelled(units)
    lage_cols = list(LAGE_CLASSES[::-1]) + ([NO_VALUE] if (d["lage"] == NO_VALUE).any() else [])
    parts = []
    for kind in ("mz", "oz"):
        col = f"{kind}_class"
        labels = class_order(kind) + ([NO_VALUE] if (d[col] == NO_VALUE).any() else [])
        x = d.assign(indicator=kind.upper(), **{"class": d[col]})
        by_lage = _cross(x, ["indicator", "class"], [[kind.upper()], labels], "lage", lage_cols,
                         total=False)
        klein = _cross(x, ["indicator", "class"], [[kind.upper()], labels],
                       "settlement_type_detail", list(KLEINSTADT_DETAIL), total=False)
        x["_all"] = "total"
        tot = _cross(x, ["indicator", "class"], [[kind.upper()], labels], "_all", ["total"],
                     total=False)
        t = pd.concat([by_lage, klein, tot], axis=1)
        t.loc[(kind.upper(), "total"), :] = t.sum(axis=0)
        parts.append(t)
    out = pd.concat(parts)
    n_cols = [c for c in out.columns if c.endswith(" n")]
    out[n_cols] = out[n_cols].astype(int)
    return out.reset_index()


def function_type_lage_counts(units: pd.DataFrame) -> pd.DataFrame:
    """Central-place function by settlement type and the four Lage classes, counted
    in units (``n``) and residents (the counts behind Tab. 3; its shape is
    :func:`~accessibility.models.report_tables.function_type_lage`).

    Rows: ``settlement_type`` and ``lage`` (each type's Lage classes from most to
    least central, then its total; a grand total last). Columns: one pair per
    function (highest first), then ``total``.
    """
    require_columns(units, ("population", "central_place", "settlement_type", "lage"),
                     "the function-by-type-and-Lage table")
    d = _labelled(units)
    types = list(SETTLEMENT_TYPES) + (["no type"] if (d["settlement_type"] == "no type").any()
                                      else [])
    lages = list(LAGE_CLASSES[::-1]) + ([NO_VALUE] if (d["lage"] == NO_VALUE).any() else [])
    fns = list(CENTRAL_PLACE_CLASSES)
    t = _cross(d, ["settlement_type", "lage"], [types, lages], "central_place", fns)
    blocks = []
    for typ in types:
        b = t.loc[[typ]]
        b.loc[(typ, "total"), :] = b.sum(axis=0)
        blocks.append(b)
    out = pd.concat(blocks)
    out.loc[("total", "total"), :] = t.sum(axis=0)
    n_cols = [c for c in out.columns if c.endswith(" n")]
    out[n_cols] = out[n_cols].astype(int)
    return out.reset_index()

