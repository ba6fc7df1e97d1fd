"""One-call functions for notebook users: DataFrames in, GeoDataFrames out."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import InputError
from .graph import RoadGraph, build_graph
from .io import join_central_places
from .io.readers import _normalise_function
from .models.central_places import central_place_access


def _as_graph(graph: RoadGraph | str | Path, munis: pd.DataFrame) -> RoadGraph:
    if isinstance(graph, RoadGraph):
        return graph
    return build_graph(graph, keep_points=(munis["lon"].to_numpy(), munis["lat"].to_numpy()))


def _normalise_municipalities(df: pd.DataFrame) -> pd.DataFrame:
    if "ags" not in df.columns:
        raise InputError(f"municipalities need an 'ags' column; columns are {list(df.columns)}")
    out = df.copy()
    out["ags"] = out["ags"].astype(str).str.zfill(8)
    if "lon" not in out.columns or "lat" not in out.columns:
        if not isinstance(out, gpd.GeoDataFrame):
            raise InputError("municipalities need lon/lat columns or a geometry")
        pts = out.to_crs("EPSG:4326").representative_point()
        out["lon"], out["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
    for col, default in (("name", ""), ("population", np.nan), ("area_km2", np.nan)):
        if col not in out.columns:
            out[col] = default
    for col, n in (("kreis", 5), ("land", 2)):
        if col not in out.columns:
            out[col] = out["ags"].str[:n]
    if "gvb" not in out.columns:
        out["gvb"] = out["kreis"]  # without a GVB key the Kreis is the coarsest honest choice
    return out


def central_places(municipalities: pd.DataFrame, central_places: pd.DataFrame,
                   graph: RoadGraph | str | Path, *, origins: str = "point",
                   population_grid: pd.DataFrame | None = None,
                   max_snap_m: float = 2000.0, access_speed_kmh: float = 15.0,
                   area_grid_m: float = 500.0) -> gpd.GeoDataFrame:
    """Car time to the nearest Mittelzentrum and Oberzentrum per municipality.

    Parameters
    ----------
    municipalities : DataFrame or GeoDataFrame
        ``ags`` plus ``lon``/``lat`` reference points or polygons (then a
        representative point is used); ``name``, ``population``, ``area_km2``,
        ``gvb`` are used when present.
    central_places : DataFrame
        ``ags`` and the function in ``central_place`` or ``zo_funktion``
        (Oberzentrum / Mittelzentrum / Grundzentrum / keine, or OZ / MZ / GZ).
    graph : RoadGraph or path
        A built graph, or an OSM file / saved ``.npz`` to build it from.
    origins, population_grid, max_snap_m, access_speed_kmh, area_grid_m
        See :func:`accessibility.models.central_places.central_place_access`.

    Returns
    -------
    GeoDataFrame
        One row per municipality with ``t_mz_min``, ``t_oz_min``, ``nearest_mz_ags``,
        ``nearest_oz_ags``, the BBSR classes and a ``reason`` where no value exists.

    Examples
    --------
    >>> import accessibility as acc
    >>> gdf = acc.central_places(munis, zo, "niedersachsen-latest.osm.pbf")  # doctest: +SKIP
    """
    munis = _normalise_municipalities(municipalities)
    cp = central_places.copy()
    col = "central_place" if "central_place" in cp.columns else "zo_funktion"
    if col not in cp.columns or "ags" not in cp.columns:
        raise InputError("central_places needs columns 'ags' and 'central_place' (or "
                         f"'zo_funktion'); columns are {list(cp.columns)}")
    cp["ags"] = cp["ags"].astype(str).str.zfill(8)
    cp["central_place"] = cp[col].map(_normalise_function)
    bad = cp.loc[cp["central_place"].isna(), col].unique()
    if len(bad):
        raise InputError(f"unknown central-place functions {list(bad[:5])}: use Oberzentrum / "
                         "Mittelzentrum / Grundzentrum / keine or OZ / MZ / GZ")
    joined, _ = join_central_places(munis.drop(columns=["central_place"], errors="ignore"),
                                    cp[["ags", "central_place"]])
    polygons = None
    if isinstance(joined, gpd.GeoDataFrame) and joined.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        polygons = joined[["ags", "geometry"]]
    out, _ = central_place_access(_as_graph(graph, joined), joined, origins=origins,
                                  population_grid=population_grid, polygons=polygons,
                                  area_grid_m=area_grid_m, max_snap_m=max_snap_m,
                                  access_speed_kmh=access_speed_kmh)
    return out
