"""The Lage's classes and tables: the class of a potential, the Lage per
Gemeindeverband (its most populous member's) and per Kreis (population-weighted), and
the cross-table of Lage by settlement type (BBSR; METHOD.md section 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import defaults
from .._errors import InputError
from ..vocabulary import LAGE_CLASSES, NO_VALUE, SETTLEMENT_TYPES, class_codes
from .lage_units import LAGE_INCOMPLETE_GVB, centre_rows
from .membership import in_region, with_members
from .settlement import settlement_types

__all__ = ["LAGE_THRESHOLDS", "LAGE_UNKNOWN", "classify_lage", "exact_lage", "gvb_potential",
           "imported_lage", "kreis_lage", "lage_summary", "lage_tables", "run_covers_germany",
           "upper_potential", "with_lage_classes"]

#: Lower bounds of peripher, zentral, sehr zentral (BBSR).
LAGE_THRESHOLDS = defaults.LAGE_THRESHOLDS
#: Why a potential has no Lage class: its search reached the extract's edge, so
#: destinations beyond it (within the 2 hours) are missing and the class may be wrong.
LAGE_UNKNOWN = ("needs the 2-hour surroundings: run on a larger extract or import a "
                "national run (--lage-from)")


def classify_lage(values, thresholds=LAGE_THRESHOLDS) -> pd.Series:
    """Lage label of each potential: "sehr peripher" < 81,000 <= "peripher" <
    183,000 <= "zentral" < 410,000 <= "sehr zentral" (lower bounds inclusive).
    Missing values stay missing. Keeps a Series' index."""
    th = [float(x) for x in thresholds]
    if len(th) != 3 or any(b <= a for a, b in zip(th, th[1:])):
        raise InputError(f"thresholds must be three increasing numbers, got {thresholds!r}")
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=float))
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    labels = np.array(LAGE_CLASSES, dtype=object)[np.searchsorted(th, v, side="right")
                                                   .clip(0, 3)]
    labels[~np.isfinite(v)] = None
    return pd.Series(labels, index=s.index, name="lage", dtype=object)


def exact_lage(potential, edge_flag, thresholds=LAGE_THRESHOLDS, upper=None
               ) -> tuple[pd.Series, pd.Series]:
    """The Lage class where it is certain, and why it is missing elsewhere.

    A class where ``edge_flag`` is False (no route within the limit leaves the
    extract, so a larger extract gives the same potential), or where the potential,
    a lower bound, and its upper bound ``upper`` (``potential_2h_max``: no larger
    extract gives more) fall into the same class: then every larger extract does
    too. Elsewhere no class, with :data:`LAGE_UNKNOWN` as its reason.
    Returns ``(lage, lage_reason)`` with the index of ``potential``.
    """
    lage = classify_lage(potential, thresholds)
    flag = pd.Series(np.asarray(edge_flag, dtype=object), index=lage.index)
    known = pd.to_numeric(pd.Series(np.asarray(potential), index=lage.index),
                          errors="coerce").notna()
    unsure = known & flag.fillna(True).astype(bool)  # no flag: not known to be exact
    if upper is not None:  # the class of the upper bound agrees: certain all the same
        top = classify_lage(pd.Series(np.asarray(upper, dtype=float), index=lage.index),
                            thresholds)
        unsure &= ~(top.notna() & (top == lage))
    lage[unsure] = None
    reason = pd.Series(np.where(unsure, LAGE_UNKNOWN, None), index=lage.index,
                       name="lage_reason", dtype=object)
    return lage, reason


def upper_potential(df: pd.DataFrame) -> pd.Series:
    """``potential_2h_max`` of ``df``; a table without it (a run before the column)
    has an upper bound only where the potential is exact (``edge_flag`` False)."""
    if "potential_2h_max" in df.columns:
        return pd.to_numeric(df["potential_2h_max"], errors="coerce")
    flag = (df["edge_flag"].fillna(True).astype(bool) if "edge_flag" in df.columns
            else pd.Series(True, index=df.index))
    return pd.to_numeric(df["potential_2h"], errors="coerce").where(~flag)


def with_lage_classes(out: pd.DataFrame, *, thresholds=LAGE_THRESHOLDS,
                      settlement_function: str = "highest", incomplete=None) -> pd.DataFrame:
    """``out`` (per municipality with ``potential_2h``, ``edge_flag``, ``population``
    and, optionally, ``potential_2h_max``) with ``lage``, ``lage_reason`` and ``lage_code`` (:func:`exact_lage`; none for
    gemeindefreie Gebiete, 0 residents, which have a potential but no Lage) and, with
    ``gvb``, the Stadt- und Gemeindetyp (``settlement_type``, its code and detail).

    ``incomplete`` (bool per row, optional): rows whose GVB is cut by the region when
    the Gemeindeverbände are the Lage's units; an exact potential there gets no class
    either, with :data:`~accessibility.models.lage_units.LAGE_INCOMPLETE_GVB`."""
    out = out.copy()
    lage, reason = exact_lage(out["potential_2h"], out["edge_flag"], thresholds,
                              upper_potential(out))
    if incomplete is not None:
        cut = np.asarray(incomplete, bool) & lage.notna().to_numpy()
        lage[cut], reason[cut] = None, LAGE_INCOMPLETE_GVB
    out["lage"], out["lage_reason"] = lage, reason
    out.loc[pd.to_numeric(out["population"], errors="coerce").to_numpy() == 0,
            ["lage", "lage_reason"]] = None
    out["lage_code"] = class_codes(out["lage"], LAGE_CLASSES)
    if {"gvb", "population"} <= set(out.columns):
        _, with_type = settlement_types(out, function=settlement_function)
        out["settlement_type"] = with_type["settlement_type"]
        out["settlement_type_code"] = class_codes(out["settlement_type"], SETTLEMENT_TYPES)
        out["settlement_type_detail"] = with_type["settlement_type_detail"]
    return out


def imported_lage(munis: pd.DataFrame, run: pd.DataFrame, *, source: str = "the run",
                  thresholds=LAGE_THRESHOLDS, settlement_function: str = "highest"
                  ) -> pd.DataFrame:
    """The Lage of another run (a national one) for the region of ``munis``.

    A regional extract cannot see the 2-hour surroundings of its municipalities;
    a national run can. Its ``potential_2h``, ``potential_2h_max``, ``edge_flag``,
    ``n_reached`` and ``daytime_population`` are taken for the municipalities in the region
    (``in_region``), and classed as a run of its own would be
    (:func:`with_lage_classes`: a class where it is certain).

    Raises
    ------
    InputError
        A populated municipality of the region is not in ``run`` (a run writes the
        municipalities of its region): the run does not cover the region.
    """
    inside = in_region(munis)
    pop = pd.to_numeric(munis["population"], errors="coerce")
    r = run.drop_duplicates("ags").set_index("ags")
    lacking = inside & ~munis["ags"].isin(r.index).to_numpy() & (pop != 0).to_numpy()
    if lacking.any():
        first = munis.loc[lacking, "ags"].head(5).tolist()
        raise InputError(f"--lage-from {source}: {int(lacking.sum())} municipalities of the "
                         f"region are not in that run (first: {', '.join(first)}): it does not "
                         "cover the region; import a national run (--models lage on the "
                         "Germany extract)")
    out = munis.copy()
    key = out["ags"].to_numpy()
    for c in ("daytime_population", "potential_2h", "n_reached", "edge_flag",
              "potential_2h_max"):
        if c in r.columns:
            v = r[c].reindex(key).to_numpy()
            out[c] = np.where(inside, v, False if c == "edge_flag" else np.nan)
    out["edge_flag"] = out["edge_flag"].astype(bool)
    out = with_lage_classes(out, thresholds=thresholds, settlement_function=settlement_function)
    lands = r.index.str[:2].nunique()
    flagged = int((out["edge_flag"].to_numpy(bool) & inside).sum())
    unsure = int((out["edge_flag"].to_numpy(bool) & inside
                  & out["potential_2h"].notna().to_numpy() & out["lage"].isna().to_numpy()
                  & (pd.to_numeric(out["population"], errors="coerce") != 0).to_numpy()).sum())
    off = int((inside & out["potential_2h"].isna().to_numpy()).sum())
    out.attrs["report"] = [
        f"Lage imported from {source}: {len(r):,} municipalities in {lands} of 16 Länder "
        f"({'a national run' if covers_germany(r.index) else 'not a national run'}); "
        f"{int(inside.sum()):,} municipalities of the region take its potentials, "
        f"{flagged:,} of them flagged there ({unsure:,} without a certain class), {off:,} "
        "without a potential there "
        "(off its network)."]
    return out


def covers_germany(ags) -> bool:
    """Whether the municipality keys ``ags`` span all 16 Länder (a national run)."""
    return pd.Index(ags).astype(str).str[:2].nunique() >= 16


def run_covers_germany(munis: pd.DataFrame) -> bool:
    """Whether a run covers Germany, decided here only: the municipalities in its
    region (``in_region``) span all 16 Länder and are at least
    ``defaults.NATIONAL_SHARE`` (99 %) of the populated municipalities of ``munis``,
    the register (a missing population counts as populated). A national run
    calibrates the Lage to BBSR's national mean by default; a regional one does not."""
    inside = in_region(munis)
    pop = (pd.to_numeric(munis["population"], errors="coerce").fillna(1.0).to_numpy()
           if "population" in munis.columns else np.ones(len(munis)))
    populated = pop > 0
    if not populated.any() or not covers_germany(munis["ags"].to_numpy()[inside]):
        return False
    return bool((inside & populated).sum() >= defaults.NATIONAL_SHARE * populated.sum())


def gvb_potential(df: pd.DataFrame, *, thresholds=LAGE_THRESHOLDS) -> pd.DataFrame:
    """Lage per Gemeindeverband as BBSR: the GVB's settlement centre is its most
    populous municipality, and the GVB takes that municipality's potential.

    Parameters
    ----------
    df : DataFrame
        Per municipality: ``ags``, ``gvb``, ``population``, ``potential_2h``,
        ``n_reached``, ``edge_flag`` (the result of :func:`run_lage`); ``name``,
        ``gvb_name``, ``potential_2h_max`` are used when present.

    Returns
    -------
    DataFrame: ``gvb``, ``gvb_name``, ``n_members``, ``n_members_in_region``,
    ``complete`` (every member in the region, each populated one with a potential;
    :mod:`~accessibility.models.membership`), ``centre_ags``, ``centre_name``,
    ``population`` (GVB total), ``potential_2h``, ``potential_2h_max``, ``n_reached``,
    ``edge_flag``, ``lage`` (only where the centre's class is certain, see :func:`exact_lage`,
    and, with the Gemeindeverbände as the Lage's units, the GVB wholly in the region),
    ``lage_reason``.
    """
    for col in ("ags", "gvb", "population", "potential_2h", "n_reached", "edge_flag"):
        if col not in df.columns:
            raise InputError(f"gvb_potential needs the column {col!r}")
    d = pd.DataFrame({"gvb": df["gvb"].to_numpy(), "ags": df["ags"].to_numpy(),
                      "name": (df["name"] if "name" in df.columns else df["ags"]).to_numpy(),
                      "population": pd.to_numeric(df["population"], errors="coerce").to_numpy(),
                      "potential_2h": df["potential_2h"].to_numpy(),
                      "potential_2h_max": upper_potential(df).to_numpy(),
                      "n_reached": df["n_reached"].to_numpy(),
                      "edge_flag": df["edge_flag"].to_numpy(),
                      "reason": (df["lage_reason"] if "lage_reason" in df.columns
                                 else pd.Series(None, index=df.index, dtype=object)).to_numpy()})
    centre = d.iloc[centre_rows(d["gvb"], d["ags"], d["population"])].set_index("gvb")
    out = pd.DataFrame({"centre_ags": centre["ags"], "centre_name": centre["name"],
                        "population": d.groupby("gvb")["population"].sum(min_count=1),
                        "potential_2h": centre["potential_2h"],
                        "potential_2h_max": centre["potential_2h_max"],
                        "n_reached": centre["n_reached"],
                        "edge_flag": centre["edge_flag"].astype(bool)})
    lage, reason = exact_lage(out["potential_2h"], out["edge_flag"], thresholds,
                              out["potential_2h_max"])
    # the Gemeindeverbände as the Lage's units: a GVB cut by the region has no class
    cut = (centre["reason"] == LAGE_INCOMPLETE_GVB).to_numpy() & lage.notna().to_numpy()
    lage[cut], reason[cut] = None, LAGE_INCOMPLETE_GVB
    out["lage"], out["lage_reason"] = lage.to_numpy(), reason.to_numpy()
    out.loc[out["population"] == 0, ["lage", "lage_reason"]] = None  # gemeindefreie Gebiete
    out = out.reset_index()
    if "gvb_name" in df.columns:
        names = pd.Series(df["gvb_name"].to_numpy(), index=df["gvb"].to_numpy())
        out.insert(1, "gvb_name", names[~names.index.duplicated()].reindex(out["gvb"]).to_numpy())
    return with_members(out, df, "gvb", ("potential_2h",))


def kreis_lage(df: pd.DataFrame, *, thresholds=LAGE_THRESHOLDS) -> pd.DataFrame:
    """Lage per Kreis: population-weighted mean of the municipality potentials
    (municipalities without a potential are left out), same thresholds.

    ``df`` needs ``kreis``, ``population`` and ``potential_2h``; pass every
    municipality of the register (with ``in_region`` the mean covers the region).
    Columns ``n_members``, ``n_members_in_region``, ``complete``
    (:mod:`~accessibility.models.membership`), ``n_edge_flag`` (members whose
    potential is a lower bound), ``potential_2h_max`` (the same mean of the members'
    upper bounds, ``potential_2h_max``; NaN when a member has none); ``lage`` only for
    a complete Kreis whose class is certain (no flagged member, or the class of the
    upper bound agrees), else ``lage_reason`` says why not.
    """
    for col in ("kreis", "population", "potential_2h"):
        if col not in df.columns:
            raise InputError(f"kreis_lage needs the column {col!r}")
    full = df
    df = df[in_region(df)]
    pop = pd.to_numeric(df["population"], errors="coerce").fillna(0.0)
    v = pd.to_numeric(df["potential_2h"], errors="coerce")
    ok = v.notna() & (pop > 0)
    top = upper_potential(df)
    t = pd.DataFrame({"kreis": df["kreis"], "population": pop,
                      "wv": (v * pop).where(ok, 0.0), "w": pop.where(ok, 0.0),
                      "wu": (top * pop).where(ok, 0.0), "no_top": (ok & top.isna()).astype(int),
                      "n": 1, "n_valid": ok.astype(int)})
    flag = (df["edge_flag"].fillna(True).astype(bool) if "edge_flag" in df.columns
            else pd.Series(True, index=df.index))  # no flag: not known to be exact
    t["n_flag"] = (ok & flag).astype(int)
    g = t.groupby("kreis", sort=True).sum()
    out = pd.DataFrame({"n_municipalities": g["n"], "n_with_potential": g["n_valid"],
                        "n_edge_flag": g["n_flag"], "population": g["population"],
                        "potential_2h": (g["wv"] / g["w"]).where(g["w"] > 0),
                        "potential_2h_max": (g["wu"] / g["w"]).where((g["w"] > 0)
                                                                     & (g["no_top"] == 0))})
    out = with_members(out.reset_index(), full, "kreis", ("potential_2h",))
    lage, reason = exact_lage(out["potential_2h"], out["n_edge_flag"] > 0, thresholds,
                              out["potential_2h_max"])
    partial = ~out["complete"].to_numpy(bool) & lage.notna().to_numpy()
    lage[partial] = None
    reason[partial] = "incomplete: a member outside the region or without a potential"
    out["lage"], out["lage_reason"] = lage.to_numpy(), reason.to_numpy()
    return out


def lage_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Cross-table of Lage (rows) by settlement type (columns): number of units and
    population, with totals. ``df`` needs ``lage``, ``settlement_type`` and
    ``population`` (per municipality or per GVB)."""
    for col in ("lage", "settlement_type", "population"):
        if col not in df.columns:
            raise InputError(f"lage_summary needs the column {col!r}")
    d = pd.DataFrame({"lage": df["lage"].fillna(NO_VALUE).to_numpy(),
                      "type": df["settlement_type"].fillna("no type").to_numpy(),
                      "population": pd.to_numeric(df["population"], errors="coerce")
                      .fillna(0).to_numpy()})
    rows = list(LAGE_CLASSES[::-1]) + ([NO_VALUE] if (d["lage"] == NO_VALUE).any() else [])
    types = list(SETTLEMENT_TYPES) + (["no type"] if (d["type"] == "no type").any() else [])
    n = pd.crosstab(d["lage"], d["type"]).reindex(index=rows, columns=types, fill_value=0)
    p = d.pivot_table(index="lage", columns="type", values="population", aggfunc="sum",
                      fill_value=0).reindex(index=rows, columns=types, fill_value=0)
    n["total"], p["total"] = n.sum(axis=1), p.sum(axis=1)
    n.loc["total"], p.loc["total"] = n.sum(axis=0), p.sum(axis=0)
    out = pd.concat({"n": n.astype(int), "population": p.astype(float)}, axis=1)
    out = out.swaplevel(axis=1)[[c for t in types + ["total"] for c in ((t, "n"), (t, "population"))]]
    out.columns = [f"{t} {m}" for t, m in out.columns]
    out.index.name = "lage"
    return out


def lage_tables(result: pd.DataFrame, *, thresholds=LAGE_THRESHOLDS,
                settlement_function: str = "highest") -> dict[str, pd.DataFrame]:
    """The GVB and Kreis tables of a :func:`run_lage` result.

    Returns ``{"gvb": ..., "kreis": ...}`` (a key is missing when the result lacks
    ``gvb`` or ``kreis``): per Gemeindeverband the Lage of its most populous member
    and the settlement type; per Kreis the population-weighted mean potential.
    """
    th = thresholds
    tables = {}
    if {"gvb", "population"} <= set(result.columns):
        st_gvb, _ = settlement_types(result, function=settlement_function)
        tables["gvb"] = gvb_potential(result, thresholds=th).merge(
            st_gvb[["gvb", "settlement_type", "settlement_type_detail"]], on="gvb", how="left")
    if {"kreis", "population"} <= set(result.columns):
        tables["kreis"] = kreis_lage(result, thresholds=th)
    return tables
