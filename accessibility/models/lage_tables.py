"""The Lage's classes and tables: the class of a potential, the Lage per
Gemeindeverband (its most populous member's) and per Kreis (population-weighted), and
the cross-table of Lage by settlement type (BBSR; METHOD.md section 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import defaults
from .._errors import InputError
from ..vocabulary import LAGE_CLASSES, NO_VALUE, SETTLEMENT_TYPES
from .settlement import settlement_types

__all__ = ["LAGE_THRESHOLDS", "classify_lage", "gvb_potential", "kreis_lage", "lage_summary",
           "lage_tables"]

#: Lower bounds of peripher, zentral, sehr zentral (BBSR).
LAGE_THRESHOLDS = defaults.LAGE_THRESHOLDS


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


def gvb_potential(df: pd.DataFrame, *, thresholds=LAGE_THRESHOLDS) -> pd.DataFrame:
    """Lage per Gemeindeverband as BBSR: the GVB's settlement centre is its most
    populous municipality, and the GVB takes that municipality's potential.

    Parameters
    ----------
    df : DataFrame
        Per municipality: ``ags``, ``gvb``, ``population``, ``potential_2h``,
        ``n_reached``, ``edge_flag`` (the result of :func:`run_lage`); ``name``,
        ``gvb_name`` are used when present.

    Returns
    -------
    DataFrame: ``gvb``, ``gvb_name``, ``centre_ags``, ``centre_name``, ``population``
    (GVB total), ``potential_2h``, ``n_reached``, ``edge_flag``, ``lage``.
    """
    for col in ("ags", "gvb", "population", "potential_2h", "n_reached", "edge_flag"):
        if col not in df.columns:
            raise InputError(f"gvb_potential needs the column {col!r}")
    d = pd.DataFrame({"gvb": df["gvb"].to_numpy(), "ags": df["ags"].to_numpy(),
                      "name": (df["name"] if "name" in df.columns else df["ags"]).to_numpy(),
                      "population": pd.to_numeric(df["population"], errors="coerce").to_numpy(),
                      "potential_2h": df["potential_2h"].to_numpy(),
                      "n_reached": df["n_reached"].to_numpy(),
                      "edge_flag": df["edge_flag"].to_numpy()})
    centre = (d.assign(_p=d["population"].fillna(-1.0))
              .sort_values(["gvb", "_p", "ags"], ascending=[True, False, True])
              .drop_duplicates("gvb").set_index("gvb"))
    out = pd.DataFrame({"centre_ags": centre["ags"], "centre_name": centre["name"],
                        "population": d.groupby("gvb")["population"].sum(min_count=1),
                        "potential_2h": centre["potential_2h"],
                        "n_reached": centre["n_reached"],
                        "edge_flag": centre["edge_flag"].astype(bool)})
    out["lage"] = classify_lage(out["potential_2h"], thresholds).to_numpy()
    out.loc[out["population"] == 0, "lage"] = None  # gemeindefreie Gebiete: no Lage
    out = out.reset_index()
    if "gvb_name" in df.columns:
        names = pd.Series(df["gvb_name"].to_numpy(), index=df["gvb"].to_numpy())
        out.insert(1, "gvb_name", names[~names.index.duplicated()].reindex(out["gvb"]).to_numpy())
    return out


def kreis_lage(df: pd.DataFrame, *, thresholds=LAGE_THRESHOLDS) -> pd.DataFrame:
    """Lage per Kreis: population-weighted mean of the municipality potentials
    (municipalities without a potential are left out), same thresholds.

    ``df`` needs ``kreis``, ``population`` and ``potential_2h``.
    """
    for col in ("kreis", "population", "potential_2h"):
        if col not in df.columns:
            raise InputError(f"kreis_lage needs the column {col!r}")
    pop = pd.to_numeric(df["population"], errors="coerce").fillna(0.0)
    v = pd.to_numeric(df["potential_2h"], errors="coerce")
    ok = v.notna() & (pop > 0)
    t = pd.DataFrame({"kreis": df["kreis"], "population": pop,
                      "wv": (v * pop).where(ok, 0.0), "w": pop.where(ok, 0.0),
                      "n": 1, "n_valid": ok.astype(int)})
    g = t.groupby("kreis", sort=True).sum()
    out = pd.DataFrame({"n_municipalities": g["n"], "n_with_potential": g["n_valid"],
                        "population": g["population"],
                        "potential_2h": (g["wv"] / g["w"]).where(g["w"] > 0)})
    out["lage"] = classify_lage(out["potential_2h"], thresholds).to_numpy()
    return out.reset_index()


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
