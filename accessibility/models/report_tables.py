"""The BBSR report's tables in the report's own shape.

* **Abb. 14** (:func:`mz_oz_by_lage`): Kleinstädte only; the MZ and OZ time classes
  as shares (%) of each of the eight groups Lage (sehr zentral ... sehr peripher) x
  größere / kleine Kleinstadt.
* **Tab. 3** (:func:`function_type_lage`): the central-place function (rows: OZ (oder
  Teil), MZ mit OZ-Teilfunktion, MZ (oder Teil), GZ mit MZ-Teilfunktion, GZ (incl.
  Klein-/Unterzentren), keine) by settlement type (Großstadt, Mittelstadt, größere and
  kleine Kleinstadt, Landgemeinde), each split into zentral (sehr zentral + zentral)
  and peripher (peripher + sehr peripher); absolute and in % of the column.
* **Group indicators** (:func:`group_indicators`, Abb. 19, Tab. 2, Abb. 9, Abb.
  15/16): every indicator of the run by settlement type, by Lage and for the
  Kleinstädte by Lage and size, beside the run's overall mean.
* **Without a road graph** (:func:`national_tables`): the settlement types, their
  counts per Land (Tab. 1) and the function-by-type columns of Tab. 3, from the
  register and the central places alone.

Every group has ``{group} %`` (share of the group's units), ``{group} n`` (units)
and ``{group} residents``. Units without the grouping value (a Kleinstadt without a
Lage class, a unit without a settlement type) are left out and counted in
``attrs["left_out"]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._util import require_columns
from ..vocabulary import (
    GRUNDZENTRUM,
    GZ_WITH_MZ,
    LAGE_CLASSES,
    LAND_NAMES,
    MITTELZENTRUM,
    MZ_PART,
    NO_FUNCTION,
    NO_VALUE,
    OBERZENTRUM,
    SETTLEMENT_TYPES,
    class_order,
)
from .central_places import weighted_means
from .indicators import unit_indicators
from .membership import MEMBER_COLUMNS, in_region
from .units import served_share, walk_base

__all__ = ["BBSR_2019_COUNTS", "FUNCTION_ROWS", "GROUPINGS", "REPORT_TYPES", "function_by_type",
           "function_type_lage", "group_indicators", "mz_oz_by_lage", "national_tables", "settlement_type_counts",
           "types_by_land"]

#: The Kleinstadt sizes of Abb. 14.
KLEINSTADT_SIZES = ("größere Kleinstadt", "kleine Kleinstadt")
#: The settlement types of Tab. 3's columns (the Kleinstadt split by size).
REPORT_TYPES = ("Großstadt", "Mittelstadt") + KLEINSTADT_SIZES + ("Landgemeinde",)
#: Tab. 3's two Lage groups.
LAGE_GROUPS = {"sehr zentral": "zentral", "zentral": "zentral", "peripher": "peripher",
               "sehr peripher": "peripher"}
#: Tab. 3's rows and the functions each counts. "MZ mit OZ-Teilfunktion" is not a
#: designation of the central-place files the engine reads (a Mittelzentrum with
#: parts of an Oberzentrum's function is read as Mittelzentrum), so it stays 0.
FUNCTION_ROWS = {
    "OZ (oder Teil)": (OBERZENTRUM,),
    "MZ mit OZ-Teilfunktion": (),
    "MZ (oder Teil)": (MITTELZENTRUM, MZ_PART),
    "GZ mit MZ-Teilfunktion": (GZ_WITH_MZ,),
    "GZ (incl. Klein-/Unterzentren)": (GRUNDZENTRUM,),
    "keine": (NO_FUNCTION,),
}
#: BBSR's national counts of Gemeindeverbände per settlement type (2019 register,
#: docs/METHOD.md section 4).
BBSR_2019_COUNTS = {"Großstadt": 80, "Mittelstadt": 634, "Kleinstadt": 2126,
                    "Landgemeinde": 1779}
_ROW_OF = {f: row for row, fns in FUNCTION_ROWS.items() for f in fns}


def _groups(d: pd.DataFrame, row: str, rows: list, group: pd.Series, groups: list
            ) -> pd.DataFrame:
    """``{g} %``, ``{g} n``, ``{g} residents`` of the rows ``d[row]`` in each group,
    every label present (0 where empty), a ``total`` row last; % of the group's units
    (empty for an empty group)."""
    key = [d[row].to_numpy(), group.to_numpy()]
    n = d.groupby(key).size().unstack().reindex(index=rows, columns=groups).fillna(0)
    p = pd.to_numeric(d["population"], errors="coerce").fillna(0.0).groupby(key).sum()
    p = p.unstack().reindex(index=rows, columns=groups).fillna(0.0)
    n.loc["total"], p.loc["total"] = n.sum(axis=0), p.sum(axis=0)
    pct = (100.0 * n / n.loc["total"].where(n.loc["total"] > 0)).round(1)
    out = pd.DataFrame(index=n.index)
    for g in groups:
        out[f"{g} %"] = pct[g]
        out[f"{g} n"] = n[g].astype(int)
        out[f"{g} residents"] = p[g]
    out.index.name = row
    return out


def _size(units: pd.DataFrame) -> pd.Series:
    """The report's type of each unit: the settlement type, a Kleinstadt by size."""
    detail = units["settlement_type_detail"].where(units["settlement_type"] == "Kleinstadt")
    return detail.fillna(units["settlement_type"])


def mz_oz_by_lage(units: pd.DataFrame) -> pd.DataFrame:
    """The report's Abb. 14: MZ and OZ time classes of the Kleinstädte by Lage and
    size, in % of each group.

    Parameters
    ----------
    units : DataFrame
        The counted units (:func:`~accessibility.models.units.unit_rows`) with
        ``population``, ``settlement_type``, ``settlement_type_detail``, ``lage``,
        ``mz_class`` and ``oz_class``.

    Returns
    -------
    DataFrame
        Rows ``indicator`` (MZ, OZ) x ``class`` (report order; "no value" when a
        Kleinstadt has none; ``total``). Columns ``{lage}, {size} %`` / ``n`` /
        ``residents`` for the four Lage classes (most central first) x größere and
        kleine Kleinstadt. ``attrs["left_out"]``: Kleinstädte without a Lage class.
    """
    require_columns(units, ("population", "settlement_type", "settlement_type_detail", "lage",
                             "mz_class", "oz_class"), "the Abb. 14 table")
    k = units[(units["settlement_type"] == "Kleinstadt").to_numpy()]
    has = k["lage"].isin(LAGE_CLASSES).to_numpy()
    k = k[has]
    group = k["lage"].astype(str) + ", " + k["settlement_type_detail"].astype(str)
    groups = [f"{lage}, {s}" for lage in LAGE_CLASSES[::-1] for s in KLEINSTADT_SIZES]
    parts = []
    for kind in ("mz", "oz"):
        col = f"{kind}_class"
        cls = k[col].astype(object).where(k[col].notna(), NO_VALUE)
        labels = class_order(kind) + ([NO_VALUE] if (cls == NO_VALUE).any() else [])
        t = _groups(k.assign(**{"class": cls}), "class", labels, group, groups).reset_index()
        t.insert(0, "indicator", kind.upper())
        parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    out.attrs["left_out"] = int((~has).sum())
    return out


def function_type_lage(units: pd.DataFrame) -> pd.DataFrame:
    """The report's Tab. 3: central-place function by settlement type and Lage
    (zentral / peripher), absolute and in % of the column.

    Parameters
    ----------
    units : DataFrame
        The counted units with ``population``, ``central_place`` (the GVB's highest
        function), ``settlement_type``, ``settlement_type_detail`` and ``lage``.

    Returns
    -------
    DataFrame
        Rows ``function`` (:data:`FUNCTION_ROWS`, then ``total``); columns
        ``{type} {zentral|peripher} %`` / ``n`` / ``residents`` for the types of
        :data:`REPORT_TYPES`. ``attrs["left_out"]``: units without a Lage class or a
        settlement type.
    """
    require_columns(units, ("population", "central_place", "settlement_type",
                             "settlement_type_detail", "lage"), "the Tab. 3 table")
    has = (units["lage"].isin(LAGE_CLASSES) & units["settlement_type"].notna()).to_numpy()
    d = units[has]
    group = _size(d).astype(str) + " " + d["lage"].map(LAGE_GROUPS)
    groups = [f"{t} {g}" for t in REPORT_TYPES for g in ("zentral", "peripher")]
    out = _groups(d.assign(function=_function_row(d)), "function", list(FUNCTION_ROWS),
                  group, groups).reset_index()
    out.attrs["left_out"] = int((~has).sum())
    return out


def _function_row(d: pd.DataFrame) -> pd.Series:
    return d["central_place"].fillna(NO_FUNCTION).map(_ROW_OF)


def function_by_type(gvb: pd.DataFrame) -> pd.DataFrame:
    """Tab. 3's function columns without the Lage: central-place function by
    settlement type (Kleinstadt by size), absolute and in % of the column; needs no
    road graph. ``gvb``: the first result of
    :func:`~accessibility.models.settlement.settlement_types`."""
    d = gvb[gvb["settlement_type"].notna().to_numpy()]
    return _groups(d.assign(function=_function_row(d)), "function", list(FUNCTION_ROWS),
                   _size(d), list(REPORT_TYPES)).reset_index()


def settlement_type_counts(gvb: pd.DataFrame, area: pd.Series | None = None) -> pd.DataFrame:
    """GVBs, residents and area per settlement type (and in total), beside BBSR's
    2019 counts: ``settlement_type``, ``n_gvb``, ``residents``, ``area_km2``,
    ``bbsr_2019_n_gvb``, ``difference_pct``. ``area``: km² per GVB key."""
    d = gvb[gvb["settlement_type"].notna().to_numpy()]
    a = (area.reindex(d["gvb"]).to_numpy() if area is not None
         else np.full(len(d), np.nan))
    d = d.assign(_area=a)
    t = d.groupby("settlement_type").agg(n_gvb=("gvb", "size"),
                                         residents=("population", "sum"),
                                         area_km2=("_area", "sum"))
    t = t.reindex(list(SETTLEMENT_TYPES)).fillna(0.0)
    t.loc["total"] = t.sum(axis=0)
    t["n_gvb"] = t["n_gvb"].astype(int)
    ref = pd.Series(BBSR_2019_COUNTS)
    t["bbsr_2019_n_gvb"] = ref.reindex(t.index).fillna(ref.sum()).astype(int)
    t["difference_pct"] = (100.0 * (t["n_gvb"] / t["bbsr_2019_n_gvb"] - 1.0)).round(2)
    t.index.name = "settlement_type"
    return t.reset_index()


def types_by_land(gvb: pd.DataFrame) -> pd.DataFrame:
    """Tab. 1 per Land: GVBs and residents per settlement type in each Land (the
    first two digits of the GVB key), a ``total`` row last."""
    d = gvb[gvb["settlement_type"].notna().to_numpy()]
    land = d["gvb"].astype(str).str[:2]
    n = d.groupby([land.to_numpy(), d["settlement_type"].to_numpy()]).size().unstack()
    p = d.groupby([land.to_numpy(), d["settlement_type"].to_numpy()])["population"].sum()
    n = n.reindex(columns=list(SETTLEMENT_TYPES)).fillna(0).astype(int)
    p = p.unstack().reindex(index=n.index, columns=list(SETTLEMENT_TYPES)).fillna(0.0)
    n.loc["total"], p.loc["total"] = n.sum(axis=0), p.sum(axis=0)
    out = pd.DataFrame({"land": n.index,
                        "land_name": [LAND_NAMES.get(x, x) for x in n.index]})
    for t in SETTLEMENT_TYPES:
        out[f"{t} n"] = n[t].to_numpy()
    for t in SETTLEMENT_TYPES:
        out[f"{t} residents"] = p[t].to_numpy()
    return out


def national_tables(gvb: pd.DataFrame, area: pd.Series | None = None
                    ) -> dict[str, pd.DataFrame]:
    """The tables that need no road graph, by output name: ``settlement_type_counts``,
    ``settlement_types_by_land`` (Tab. 1), ``table_function_by_type`` (Tab. 3's
    function columns)."""
    return {"settlement_type_counts": settlement_type_counts(gvb, area),
            "settlement_types_by_land": types_by_land(gvb),
            "table_function_by_type": function_by_type(gvb)}


#: The groupings of :func:`group_indicators`, in the order of its rows.
GROUPINGS = ("settlement_type", "lage", "kleinstadt_lage", "total")


def group_indicators(munis: pd.DataFrame) -> pd.DataFrame:
    """Every indicator of the run by group, beside the run's overall mean (the
    report's Abb. 19, Tab. 2, Abb. 9 and Abb. 15/16 compare groups with the Bund).

    Parameters
    ----------
    munis : DataFrame
        The run's municipalities with ``population``, ``area_km2``, ``gvb``,
        ``settlement_type``, ``settlement_type_detail``, ``lage`` (the unit's) and
        any of ``t_{kind}_min``, ``*_departures``, the commuter counts, the
        ``walk_share_*`` columns with ``walk_residents``. Counted: the populated
        municipalities of the region (``in_region``) whose GVB is complete
        (``gvb_complete``, when given), as the report's other tables.

    Returns
    -------
    DataFrame
        Rows ``grouping`` (:data:`GROUPINGS`: settlement type with the Kleinstadt by
        size, Lage class, Kleinstadt by Lage and size, and ``total``: the run's
        mean) x ``group``; columns ``n_gvb``, ``n_municipalities``, ``population``,
        ``area_km2``, the car times as area- and population-weighted means
        (``t_{kind}_min_area_w`` / ``_pop_w``), departures per 1,000 residents and the
        commuter ratios as ratios of sums, and the Nahversorgung shares (residents
        served over residents); with the runs' edge flags ``t_{kind}_min_n_edge_flag``:
        the municipalities in a mean whose time a larger extract might shorten.
    """
    require_columns(munis, ("gvb", "population", "settlement_type", "settlement_type_detail",
                             "lage"), "the group indicators")
    keep = in_region(munis) & (pd.to_numeric(munis["population"], errors="coerce") > 0
                               ).to_numpy()
    if "gvb_complete" in munis.columns:
        keep &= munis["gvb_complete"].fillna(False).to_numpy(bool)
    d = munis[keep]
    if "area_km2" not in d.columns:
        d = d.assign(area_km2=np.nan)
    typ = _size(d).astype(object)
    lage = d["lage"].astype(object).where(d["lage"].isin(LAGE_CLASSES))
    klein = (lage + ", " + d["settlement_type_detail"].astype(object)).where(
        d["settlement_type"] == "Kleinstadt")
    labels = {"settlement_type": list(REPORT_TYPES), "lage": list(LAGE_CLASSES[::-1]),
              "kleinstadt_lage": [f"{lg}, {s}" for lg in LAGE_CLASSES[::-1]
                                  for s in KLEINSTADT_SIZES], "total": ["total (this run)"]}
    keys = {"settlement_type": typ, "lage": lage, "kleinstadt_lage": klein,
            "total": pd.Series("total (this run)", index=d.index)}
    times = [c for c in ("t_mz_min", "t_oz_min") if c in d.columns]
    parts = []
    for grouping in GROUPINGS:
        key = keys[grouping]
        x = d[key.notna().to_numpy()].assign(_group=key.dropna())
        t = unit_indicators(x, "_group").set_index("_group")
        t = t.drop(columns=[c for c in MEMBER_COLUMNS if c in t.columns])
        if times:
            m = weighted_means(x, "_group", times).set_index("_group")
            t = t.join(m[[f"{c}_{w}" for c in times for w in ("area_w", "pop_w", "n_edge_flag")
                          if f"{c}_{w}" in m.columns]])
        if "walk_residents" in x.columns:
            t = t.join(pd.DataFrame({c: served_share(x[c], walk_base(x, c), x["_group"])
                                     for c in x.columns if c.startswith("walk_share_")}))
        t.insert(0, "n_gvb", x.groupby("_group")["gvb"].nunique())
        t = t.reindex(labels[grouping])
        t.insert(0, "grouping", grouping)
        parts.append(t.rename_axis("group").reset_index())
    out = pd.concat(parts, ignore_index=True)
    counts = [c for c in out.columns
              if c.startswith("n_") or c.endswith(("_n_missing", "_n_edge_flag"))]
    out[counts] = out[counts].fillna(0).astype(int)
    return out[["grouping", "group"] + [c for c in out.columns if c not in ("grouping", "group")]]
