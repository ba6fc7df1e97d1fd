"""Reader of the municipality register or boundary layer, and of the Kreis names."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS, Transformer

from .. import defaults
from .._checks import check_lonlat
from .._errors import InputError
from ._tables import (
    AGS_CANDIDATES,
    CSV_SUFFIXES,
    GEO_SUFFIXES,
    PARQUET_SUFFIXES,
    check_file,
    file_suffix,
    find_column,
    normalise_ags,
    read_csv_as_str,
    read_parquet_any,
    read_table,
    require_column,
    show,
    to_number,
)

logger = logging.getLogger(__name__)

__all__ = ["read_kreis_names", "read_municipalities"]

#: Equal-area CRS used for areas (ETRS89-LAEA Europe).
AREA_CRS = defaults.GRID_CRS

# Column names understood by the reader (first match wins, then case-insensitive).
_NAME_COLUMNS = ("name", "GEN", "gemeinde", "gemeindename", "Gemeindename", "Name")
_GVB_COLUMNS = ("gvb", "gvb_ars9", "ars9", "gvb_schluessel")
_ARS_COLUMNS = ("ars", "RS", "ARS", "RS_0", "regionalschluessel")
_GVB_NAME_COLUMNS = ("gvb_name", "gvb_bezeichnung")
_POPULATION_COLUMNS = ("population", "bevoelkerung", "EWZ", "einwohner", "Einwohner",
                       "bevoelkerung_insgesamt", "pop")
_AREA_COLUMNS = ("area_km2", "flaeche_km2", "KFL", "flaeche")
_LON_COLUMNS = ("lon", "longitude", "lng", "laenge")
_LAT_COLUMNS = ("lat", "latitude", "breite")
_MUNICIPALITY_LAYERS = ("gemeinden", "municipalities", "vg250_gem", "gemeinde")


def _read_geo(path: Path, layer: str | None, bbox: tuple[float, ...] | None,
              what: str) -> gpd.GeoDataFrame:
    """Read a vector layer with pyogrio; pick the municipality layer if there are several."""
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(f"{what} {path} cannot be opened as a vector dataset ({exc}). "
                         "Pass a GeoPackage, GeoJSON, Shapefile or CSV file.") from None
    names = [str(n) for n in layers[:, 0]] if len(layers) else []
    if layer is None and len(names) > 1:
        lower = {n.lower(): n for n in names}
        layer = next((lower[c] for c in _MUNICIPALITY_LAYERS if c in lower), None)
        if layer is None:
            raise InputError(f"{what} {path} has {len(names)} layers ({show(names)}); pass "
                             "layer=... (config: inputs.municipalities_layer) to choose one.")
        logger.info("%s: using layer %r of %s", path, layer, show(names))
    elif layer is not None and layer not in names:
        raise InputError(f"{what} {path} has no layer {layer!r}; layers: {show(names)}.")
    kwargs = {}
    if bbox is not None:
        info = pyogrio.read_info(path, layer=layer)
        crs = info.get("crs")
        if crs and not CRS.from_user_input(crs).equals(CRS.from_epsg(4326)):
            tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
            bbox = tr.transform_bounds(*bbox, densify_pts=21)
        kwargs["bbox"] = tuple(bbox)
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, **kwargs)
    except Exception as exc:
        raise InputError(f"{what} {path} cannot be read ({exc}). Check "
                         "that it is complete and in a format GDAL reads (GeoPackage, GeoJSON, "
                         "Shapefile).") from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise InputError(f"{what} {path} (layer {layer!r}) has no geometry; use a CSV with "
                         "lon/lat columns or a polygon layer.")
    if gdf.crs is None:
        raise InputError(f"{what} {path} (layer {layer!r}) has no coordinate reference "
                         "system. Assign the right one, e.g. `ogr2ogr -a_srs EPSG:25832 "
                         "out.gpkg in.shp`, or add the .prj file of the shapefile.")
    return gdf


def _check_coordinates(ags: pd.Series, lon: pd.Series, lat: pd.Series,
                       population: pd.Series, path: Path | str) -> tuple[pd.Series, pd.Series]:
    """Validate reference points; return lon/lat with (0, 0) placeholders as NaN.

    Missing points are allowed only for uninhabited units (population 0), such as the
    register's coastal waters (13000999) and the German-Luxembourg condominium
    (07000999, 10042999); they keep NaN coordinates and an empty geometry.
    """
    lon = lon.astype("float64")
    lat = lat.astype("float64")
    zero = (lon == 0) & (lat == 0)
    lon = lon.mask(zero)
    lat = lat.mask(zero)
    have = lon.notna() & lat.notna()
    check_lonlat(lon.to_numpy(), lat.to_numpy(), str(path), ids=ags.to_numpy(),
                 allow_missing=True)  # the missing ones: below
    missing = ~have
    if missing.any():
        inhabited = missing & ~(population == 0)
        if inhabited.any():
            raise InputError(f"{path}: {int(inhabited.sum())} municipalities have no "
                             f"coordinates (empty, NaN or 0/0): AGS "
                             f"{show(ags[inhabited])}. Add their reference points "
                             "(lon/lat in WGS84), or use a boundary layer instead.")
        logger.warning("%s: %d uninhabited units without coordinates kept with NaN "
                       "lon/lat: %s", path, int(missing.sum()), show(ags[missing]))
    return lon, lat


def _dissolve_by_ags(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Reduce a boundary layer to one row per AGS.

    VG250 (BKG) may hold several rows per AGS: with a ``GF`` column the land rows
    (GF 3 = land without, 4 = land with structure) are kept where an AGS also has water
    rows (GF 1/2); the remaining rows of one AGS are dissolved into one (multi)polygon
    and keep the attributes of their first row.
    """
    if "GF" in gdf.columns and gdf["ags"].duplicated().any():
        land = pd.to_numeric(gdf["GF"], errors="coerce").isin([3, 4])
        has_land = land.groupby(gdf["ags"]).transform("any")
        drop = has_land & ~land
        if drop.any():
            logger.info("%s: dropped %d water rows (GF 1/2) of AGS with land rows",
                        path, int(drop.sum()))
            gdf = gdf[~drop]
    dup = gdf["ags"].duplicated(keep=False)
    if not dup.any():
        return gdf
    n_ags = gdf.loc[dup, "ags"].nunique()
    logger.info("%s: %d rows share %d AGS; dissolved to one row per AGS", path,
                int(dup.sum()), n_ags)
    single = gdf[~dup]
    multi = gdf[dup]
    geom = multi.geometry.name
    merged = multi.dissolve(by="ags", aggfunc="first", as_index=False)
    pop = multi.groupby("ags")["population"].nunique(dropna=True)
    if (pop > 1).any():
        logger.warning("%s: rows of AGS %s carry different populations; kept the first",
                       path, show(pop[pop > 1].index))
    merged = merged[[c for c in gdf.columns if c in merged.columns]]
    out = pd.concat([single, merged], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry=geom, crs=gdf.crs)


def read_municipalities(path: str | Path, *, layer: str | None = None,
                        ags_column: str | None = None,
                        bbox: tuple[float, float, float, float] | None = None,
                        extra_columns: Sequence[str] = ()) -> gpd.GeoDataFrame:
    """Read municipalities with their keys, population and reference point.

    Parameters
    ----------
    path : str or Path
        Either a table with ``lon``/``lat`` columns (the Destatis register CSV of
        GV-ISys, or Parquet), or a polygon layer readable by GDAL (GeoPackage,
        GeoJSON, Shapefile; e.g. BKG VG250 ``gemeinden``).
    layer : str, optional
        Layer of a multi-layer file. Default: the only layer, or the one called
        ``gemeinden``/``municipalities``/``vg250_gem``.
    ags_column : str, optional
        Column with the 8-digit AGS. Default: the first of ``ags``, ``AGS``,
        ``AGS_0``, ``gemeindeschluessel`` (case-insensitive).
    bbox : tuple of float, optional
        ``(lon_min, lat_min, lon_max, lat_max)`` in WGS84: read only municipalities
        whose reference point (tables) or polygon (layers) touches the box.
    extra_columns : sequence of str
        Further input columns to keep unchanged.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per AGS, sorted by AGS, CRS EPSG:4326, columns ``ags`` (8-digit str),
        ``name``, ``gvb`` (9-digit Gemeindeverband key: ``gvb_ars9`` or the first 9
        digits of the 12-digit ARS/RS; missing if the input has neither), ``gvb_name``
        (if present), ``kreis`` (5 digits), ``land`` (2 digits), ``population``
        (float, NaN if absent), ``area_km2`` (input column, else the polygon area in
        EPSG:3035), ``lon``/``lat`` (reference point, degrees) and ``geometry``
        (the point for tables, the polygon for layers, whose ``lon``/``lat`` are a
        representative point guaranteed to lie inside it).

    Raises
    ------
    InputError
        Missing or unreadable file, no AGS column, duplicated AGS in a table,
        coordinates that are projected, outside Germany or missing for an inhabited
        municipality, a layer without CRS.

    Notes
    -----
    Boundary layers may hold several rows per AGS (VG250: water and land rows, or
    parts); they are dissolved to one row per AGS (see ``_dissolve_by_ags``). A table
    must have unique AGS. Units without coordinates are kept only if their population
    is 0 (the register's coastal waters and German-Luxembourg condominium).
    """
    p = check_file(path, "municipality table")
    what = "municipality table"
    suffix = file_suffix(p)
    if suffix in CSV_SUFFIXES:
        df = read_csv_as_str(p, what)
        is_geo = False
    elif suffix in PARQUET_SUFFIXES:
        df = read_parquet_any(p, what)
        is_geo = isinstance(df, gpd.GeoDataFrame)
    else:
        df = _read_geo(p, layer, bbox, what)
        is_geo = True
    if len(df) == 0:
        raise InputError(f"{what} {p} has no rows; pass a file with data.")

    col = ags_column or require_column(df.columns, AGS_CANDIDATES, what, p, "AGS")
    if col not in df.columns:
        raise InputError(f"{what} {p} has no column {col!r}; columns found: "
                         f"{show(df.columns, 30)}.")
    missing_extra = [c for c in extra_columns if c not in df.columns]
    if missing_extra:
        raise InputError(f"{what} {p} has no columns {missing_extra} (extra_columns); "
                         f"columns found: {show(df.columns, 30)}.")
    ags = normalise_ags(df[col], path=p, column=col)

    out = pd.DataFrame({"ags": ags.to_numpy()}, index=df.index)
    name_col = find_column(df.columns, _NAME_COLUMNS)
    out["name"] = df[name_col].astype("str") if name_col else pd.Series(pd.NA, index=df.index,
                                                                       dtype="str")
    gvb_col = find_column(df.columns, _GVB_COLUMNS)
    ars_col = find_column(df.columns, _ARS_COLUMNS)
    if gvb_col:
        out["gvb"] = normalise_ags(df[gvb_col], path=p, column=gvb_col, width=9)
    elif ars_col:
        # ARS/RS = Land 2 + RB 1 + Kreis 2 + Verband 4 + Gemeinde 3; GVB = first 9
        ars = normalise_ags(df[ars_col], path=p, column=ars_col, width=12)
        out["gvb"] = ars.str[:9]
    else:
        logger.warning("%s has no gvb/ars/RS column: gvb left empty", p)
        out["gvb"] = pd.Series(pd.NA, index=df.index, dtype="str")
    gvb_name_col = find_column(df.columns, _GVB_NAME_COLUMNS)
    if gvb_name_col:
        out["gvb_name"] = df[gvb_name_col].astype("str")
    out["kreis"] = out["ags"].str[:5]
    out["land"] = out["ags"].str[:2]
    pop_col = find_column(df.columns, _POPULATION_COLUMNS)
    if pop_col:
        out["population"] = to_number(df[pop_col], path=p, column=pop_col, integer=True)
        neg = out["population"] < 0
        if neg.any():
            raise InputError(f"{p}: column {pop_col!r} has negative populations for AGS "
                             f"{show(out.loc[neg, 'ags'])}. Fix or blank these values.")
    else:
        logger.info("%s has no population column: population is NaN", p)
        out["population"] = np.nan
    area_col = find_column(df.columns, _AREA_COLUMNS)
    if area_col:
        out["area_km2"] = to_number(df[area_col], path=p, column=area_col)
    for c in extra_columns:
        out[c] = df[c]

    if is_geo:
        gdf = gpd.GeoDataFrame(out, geometry=df.geometry.to_numpy(), crs=df.crs)
        if "GF" in df.columns:
            gdf["GF"] = df["GF"].to_numpy()
        gdf = _dissolve_by_ags(gdf, p)
        gdf = gdf.drop(columns=["GF"], errors="ignore")
        if gdf.crs is not None and not gdf.crs.equals(CRS.from_epsg(4326)):
            gdf = gdf.to_crs(4326)
        if "area_km2" not in gdf.columns:
            polygonal = gdf.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
            area = gdf.geometry.to_crs(AREA_CRS).area.to_numpy() / 1e6
            gdf["area_km2"] = np.where(polygonal, area, np.nan)
        rp = gdf.geometry.representative_point()
        lon, lat = _check_coordinates(gdf["ags"], rp.x, rp.y, gdf["population"], p)
        gdf["lon"] = lon
        gdf["lat"] = lat
    else:
        if out["ags"].duplicated().any():
            dups = out.loc[out["ags"].duplicated(keep=False), "ags"].unique()
            raise InputError(f"{what} {p} has {len(dups)} duplicated AGS: {show(dups)}. "
                             "Each municipality must appear once; remove the duplicates.")
        lon_col = find_column(df.columns, _LON_COLUMNS)
        lat_col = find_column(df.columns, _LAT_COLUMNS)
        if lon_col is None or lat_col is None:
            raise InputError(f"{what} {p} has no lon/lat columns (columns found: "
                             f"{show(df.columns, 30)}). Add WGS84 reference points as "
                             "'lon' and 'lat', or pass a polygon layer (GeoPackage).")
        if "area_km2" not in out.columns:
            out["area_km2"] = np.nan
        lon = to_number(df[lon_col], path=p, column=lon_col)
        lat = to_number(df[lat_col], path=p, column=lat_col)
        lon, lat = _check_coordinates(out["ags"], lon, lat, out["population"], p)
        out["lon"] = lon
        out["lat"] = lat
        if bbox is not None:
            keep = lon.between(bbox[0], bbox[2]) & lat.between(bbox[1], bbox[3])
            out = out[keep]
        pts = gpd.points_from_xy(out["lon"], out["lat"])
        pts[out["lon"].isna().to_numpy()] = None
        gdf = gpd.GeoDataFrame(out, geometry=pts, crs="EPSG:4326")

    cols = ["ags", "name", "gvb"] + (["gvb_name"] if "gvb_name" in gdf.columns else []) + [
        "kreis", "land", "population", "area_km2", "lon", "lat", *extra_columns]
    gdf = gdf[cols + [gdf.geometry.name]].sort_values("ags", kind="stable")
    gdf = gdf.rename_geometry("geometry") if gdf.geometry.name != "geometry" else gdf
    gdf = gdf.reset_index(drop=True)
    logger.info("read %d municipalities from %s", len(gdf), p)
    return gdf


def read_kreis_names(path: str | Path) -> pd.DataFrame | None:
    """Kreis names from the Kreis layer of a boundaries file.

    Parameters
    ----------
    path : str or Path
        A GDAL-readable boundaries file with a layer ``kreise`` or ``vg250_krs``
        (BKG VG250).

    Returns
    -------
    pandas.DataFrame or None
        ``kreis`` (5 digits), ``kreis_name`` (GEN), ``kreis_type`` (BEZ, e.g.
        Landkreis), one row per Kreis. None when the file is no layer file or has no
        such layer (or it lacks a key or GEN column).
    """
    p = Path(path)
    if file_suffix(p) not in GEO_SUFFIXES:
        return None
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(p)]
    except Exception:  # not a multi-layer file
        return None
    layer = next((n for n in ("kreise", "vg250_krs") if n in layers), None)
    if layer is None:
        return None
    df = pyogrio.read_dataframe(p, layer=layer, read_geometry=False)
    key = find_column(df.columns, ("AGS", "ags", "kreis"))
    if key is None or "GEN" not in df.columns:
        return None
    out = pd.DataFrame({"kreis": df[key].astype(str).str.zfill(5), "kreis_name": df["GEN"],
                        "kreis_type": df["BEZ"] if "BEZ" in df.columns else None})
    return out.drop_duplicates("kreis").reset_index(drop=True)


#: The columns a run's municipality table must have to lend its Lage.
RUN_LAGE_COLUMNS = ("ags", "potential_2h", "edge_flag")


def read_run_lage(path: str | Path) -> pd.DataFrame:
    """The Lage columns of an earlier run (``--lage-from``): its output folder (its
    ``municipalities.parquet``, else ``municipalities.csv``) or one of those files.

    Returns ``ags`` (8 digits), ``potential_2h``, ``edge_flag`` (bool; missing counts
    as flagged), ``n_reached``, ``daytime_population`` and ``potential_2h_max`` when
    the run wrote them.
    """
    p = Path(path)
    if p.is_dir():
        files = [p / f"municipalities.{x}" for x in ("parquet", "csv")]
        found = [f for f in files if f.is_file()]
        if not found:
            raise InputError(f"--lage-from {p}: the folder has no municipalities.parquet or "
                             "municipalities.csv; give the output folder of a run with the "
                             "model lage (e.g. the national run: --models lage)")
        p = found[0]
    p, df = read_table(p, "run table (--lage-from)")
    missing = [c for c in RUN_LAGE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"--lage-from {p}: no column {', '.join(missing)}; give the output of "
                         "a run with the model lage (it writes potential_2h and edge_flag)")
    out = pd.DataFrame({"ags": normalise_ags(df["ags"], path=p, column="ags").to_numpy()})
    for c in ("potential_2h", "n_reached", "daytime_population", "potential_2h_max"):
        if c in df.columns:
            out[c] = to_number(df[c], path=p, column=c).to_numpy(dtype=float)
    flag = df["edge_flag"].astype(str).str.strip().str.lower()
    out["edge_flag"] = ~flag.isin(("false", "0", "0.0")).to_numpy()
    return out
