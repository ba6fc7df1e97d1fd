"""The municipality table every model starts from: standard columns, checked, with
honest fallbacks (shared by the pipeline and the Python API)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .._errors import InputError
from .._util import show
from ..graph import point_coordinates

logger = logging.getLogger(__name__)

__all__ = ["prepare_municipalities"]


def prepare_municipalities(df: pd.DataFrame) -> pd.DataFrame:
    """Standard columns for a municipality table, and notes on what is missing.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        ``ags`` (8 digits; integers are zero-padded) and reference points as
        ``lon``/``lat`` (WGS84) or a geometry (polygons: their representative
        point); ``name``, ``population``, ``area_km2``, ``gvb``, ``kreis``, ``land``
        are used when present.

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy with ``ags``, ``name``, ``lon``, ``lat``, ``population``, ``area_km2``,
        ``gvb``, ``kreis``, ``land``. A municipality without a Gemeindeverband key
        counts as its own Gemeindeverband (as an Einheitsgemeinde does);
        ``kreis``/``land`` default to the first 5/2 digits of the AGS.
        ``.attrs["report"]`` lists what was missing.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"municipalities must be a DataFrame, got {type(df).__name__}")
    if "ags" not in df.columns:
        raise InputError(f"municipalities need an 'ags' column; columns are {list(df.columns)}")
    if len(df) == 0:
        raise InputError("the municipality table is empty")
    out = df.copy()
    out["ags"] = out["ags"].astype(str).str.strip().str.replace(r"\.0$", "", regex=True).str.zfill(8)
    dup = out["ags"][out["ags"].duplicated()]
    if len(dup):
        raise InputError(f"duplicated AGS in the municipality table: {show(dup.unique())}; "
                         "each municipality must appear once")
    if "lon" not in out.columns or "lat" not in out.columns:
        out["lon"], out["lat"] = point_coordinates(out)
    for col, default in (("name", ""), ("population", np.nan), ("area_km2", np.nan)):
        if col not in out.columns:
            out[col] = default
    for col, n in (("kreis", 5), ("land", 2)):
        if col not in out.columns:
            out[col] = out["ags"].str[:n]
    lines = []
    gvb = out["gvb"] if "gvb" in out.columns else pd.Series(np.nan, index=out.index)
    no_gvb = gvb.isna() | (gvb.astype(str).str.strip() == "")
    if no_gvb.any():
        out["gvb"] = np.where(no_gvb, out["ags"], gvb)
        lines.append(f"{int(no_gvb.sum()):,} municipalities have no Gemeindeverband key and "
                     "count as their own Gemeindeverband (GVB tables and settlement types per "
                     "municipality).")
    pop = pd.to_numeric(out["population"], errors="coerce")
    if pop.isna().all():
        lines.append("The municipality table has no population: population-weighted means, "
                     "the Lage and the settlement types cannot be computed.")
    elif pop.isna().any():
        lines.append(f"{int(pop.isna().sum()):,} municipalities have no population (first: "
                     f"{', '.join(out.loc[pop.isna(), 'ags'].astype(str)[:5])}); they count as 0 "
                     "in population weights and potentials.")
    out.attrs["report"] = lines
    return out
