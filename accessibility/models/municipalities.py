"""The municipality table every model starts from: standard columns, checked, with
honest fallbacks (shared by the pipeline and the Python API)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .. import defaults
from .._checks import check_box, check_lonlat
from .._errors import GRAPH_FIRST, InputError
from .._util import show
from ..graph import RoadGraph, in_extent, point_coordinates

logger = logging.getLogger(__name__)

__all__ = ["mark_region", "municipality_polygons", "prepare_municipalities", "region_cut"]


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
    # what the file reader checks, for a table built in a notebook too
    check_lonlat(pd.to_numeric(out["lon"], errors="coerce"),
                 pd.to_numeric(out["lat"], errors="coerce"), "the municipality table",
                 ids=out["ags"].to_numpy(), allow_missing=True)
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
    top = defaults.MAX_MUNICIPALITY_POPULATION
    bad = pop.notna() & ~pop.between(0, top)
    if bad.any():
        raise InputError(
            f"{int(bad.sum()):,} municipalities have an implausible population (first: "
            + ", ".join(f"{a} {v:g}" for a, v in zip(out.loc[bad, "ags"][:5], pop[bad][:5]))
            + f"); residents per municipality lie between 0 and {top:,} (Berlin: 3.9 "
            "million): check the column and its unit")
    if pop.notna().any() and pop.fillna(0).eq(0).all():
        raise InputError("every population in the municipality table is 0 or missing: no "
                         "resident would count; check the population column (a table without "
                         "populations is read with the column left out)")
    low = defaults.MIN_MEDIAN_POPULATION
    if (pop > 0).sum() >= 10 and pop[pop > 0].median() < low:
        raise InputError(f"the municipality table's populations have a median of "
                         f"{pop[pop > 0].median():g} residents (below {low}; in Germany it is "
                         "about 1,700, the smallest municipalities have a few dozen): the "
                         "column is likely in thousands or another unit; give residents")
    if pop.isna().all():
        lines.append("The municipality table has no population: population-weighted means, "
                     "the Lage and the settlement types cannot be computed.")
    elif pop.isna().any():
        lines.append(f"{int(pop.isna().sum()):,} municipalities have no population (first: "
                     f"{', '.join(out.loc[pop.isna(), 'ags'].astype(str)[:5])}); they count as 0 "
                     "in population weights and potentials.")
    out.attrs["report"] = lines
    return out


def municipality_polygons(munis: pd.DataFrame, boundaries=None):
    """Municipality polygons with ``ags``: ``boundaries`` when given, else the
    polygons of the municipality table itself, else None."""
    if boundaries is not None:
        return boundaries
    if hasattr(munis, "geom_type") and munis.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        return munis[["ags", "geometry"]]
    return None


def region_cut(munis: pd.DataFrame, *, ags_prefixes=(), bbox=()) -> np.ndarray:
    """The municipalities a user asked for: AGS prefixes and a lon/lat box (empty
    selections keep everyone)."""
    keep = np.ones(len(munis), dtype=bool)
    if ags_prefixes:
        keep &= munis["ags"].astype(str).str.startswith(tuple(ags_prefixes)).to_numpy()
    check_box(bbox, "bbox")  # as the config does, for a call from Python too
    if bbox:
        lon0, lat0, lon1, lat1 = bbox
        lon, lat = munis["lon"].to_numpy(float), munis["lat"].to_numpy(float)
        keep &= (lon >= lon0) & (lon <= lon1) & (lat >= lat0) & (lat <= lat1)
    return keep


def mark_region(graph: RoadGraph, munis: pd.DataFrame, *, ags_prefixes=(), bbox=()
                ) -> pd.DataFrame:
    """Add ``in_region``: the municipality lies in the area of the road extract (its
    point inside the outline of the network, or on the network) and in the cut.
    The graph comes first, as in every function of the API.

    Municipalities outside get no values and are not reported: a regional extract
    with the national register describes the region, not Germany. ``.attrs["report"]``
    gets a line saying how many were left out.
    """
    if isinstance(graph, pd.DataFrame) or not isinstance(munis, pd.DataFrame):
        raise InputError(GRAPH_FIRST + "; mark_region(graph, municipalities)")
    on = (munis["on_network"].fillna(False).to_numpy(bool) if "on_network" in munis.columns
          else np.zeros(len(munis), bool))
    inside = in_extent(graph, munis["lon"].to_numpy(float), munis["lat"].to_numpy(float)) | on
    cut = region_cut(munis, ags_prefixes=ags_prefixes, bbox=bbox)
    out = munis.copy()
    out["in_region"] = inside & cut
    n_out = int((~out["in_region"]).sum())
    if n_out:
        why = "outside the road extract" + (" or the [region] cut" if (ags_prefixes or bbox)
                                            else "")
        out.attrs["report"] = list(munis.attrs.get("report", [])) + [
            f"{int(out['in_region'].sum()):,} municipalities in the region; {n_out:,} lie "
            f"{why} and are left out (no values, not written)."]
    return out
