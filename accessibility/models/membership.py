"""Whether a reporting unit (Gemeindeverband, Kreis, Land, the whole run) is complete.

A regional road extract cuts units: VVG Mosbach has one of its members inside the
Heidelberg extract, the Rhein-Neckar-Kreis 24 of 54. A mean, a class or a count
of such a unit describes the part inside, not the unit. Every per-unit table
therefore carries

* ``n_members``: the unit's municipalities in the register (every row of the
  municipality table with the unit's key, inside the region or not);
* ``n_members_in_region``: those in the region of the run (column ``in_region``;
  every row when the table has none);
* ``complete``: every member lies in the region, and every populated member has a
  value in each of the table's value columns (for the car times: was routed).

Class tables, cross-tables and maps use complete units only; the rows of
incomplete units stay in the per-unit tables with ``complete = False``. A register
cut to the region before the run cannot show what it lacks: pass the national
register.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MEMBER_COLUMNS", "in_region", "members", "with_members"]

#: The completeness columns of every per-unit table, in their order.
MEMBER_COLUMNS = ("n_members", "n_members_in_region", "complete")


def in_region(df: pd.DataFrame) -> np.ndarray:
    """The rows in the run's region (``in_region``; every row without that column)."""
    if "in_region" not in df.columns:
        return np.ones(len(df), bool)
    return df["in_region"].fillna(False).to_numpy(bool)


def _key(df: pd.DataFrame, by: str | None) -> pd.Series:
    return (df[by] if by else pd.Series("all", index=df.index)).rename(by or "level")


def members(df: pd.DataFrame, by: str | None, values=()) -> pd.DataFrame:
    """``n_members``, ``n_members_in_region`` and ``complete`` per ``by`` (or one row
    ``level = "all"`` for ``by = None``).

    Parameters
    ----------
    df : DataFrame
        Every municipality of the register (with ``in_region`` for a regional run).
    by : str or None
        The unit's key column (``gvb``, ``kreis``, ``land``).
    values : sequence of str
        The value columns a complete unit has for each populated member in the
        region (columns that ``df`` lacks are ignored).
    """
    key = _key(df, by)
    inside = pd.Series(in_region(df), index=df.index)
    pop = pd.to_numeric(df["population"], errors="coerce") if "population" in df.columns \
        else pd.Series(np.nan, index=df.index)
    has = pd.Series(True, index=df.index)
    for v in values:
        if v in df.columns:
            has &= df[v].notna() | (pop == 0)  # unpopulated areas have no value by design

    def total(x: pd.Series) -> pd.Series:
        return x.astype(int).groupby(key, sort=True, dropna=False).sum()

    out = pd.DataFrame({"n_members": total(pd.Series(1, index=df.index)),
                        "n_members_in_region": total(inside),
                        "_without": total(inside & ~has)})
    out["complete"] = (out["n_members"] == out["n_members_in_region"]) & (out["_without"] == 0)
    out.index.name = by or "level"
    return out.drop(columns="_without").reset_index()


def with_members(table: pd.DataFrame, df: pd.DataFrame, by: str | None, values=()
                 ) -> pd.DataFrame:
    """``table`` (one row per ``by`` key, or the one total row) with the columns of
    :func:`members` after its key (and name) column."""
    m = members(df, by, values)
    k = by or "level"
    out = table.drop(columns=[c for c in MEMBER_COLUMNS if c in table.columns])
    if by is None:
        for c in MEMBER_COLUMNS:
            out[c] = m[c].iloc[0]
    else:
        out = out.merge(m, on=k, how="left")
        out["complete"] = out["complete"].fillna(False).astype(bool)
    first = [c for c in (k, f"{k}_name") if c in out.columns]
    rest = [c for c in out.columns if c not in first and c not in MEMBER_COLUMNS]
    return out[first + list(MEMBER_COLUMNS) + rest]
