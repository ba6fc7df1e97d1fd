"""Readers for municipalities, central places, population grids and commuter counts."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
from pyproj import CRS, Transformer

from .. import defaults
from .._errors import InputError
from ..vocabulary import (CENTRAL_PLACE_CLASSES, NEAREST_MZ, NEAREST_OZ, SERVICES,
                          normalise_function)
from ._tables import (
    AGS_CANDIDATES,
    CSV_SUFFIXES,
    GEO_SUFFIXES,
    PARQUET_SUFFIXES,
    check_file,
    find_column,
    normalise_ags,
    read_csv_as_str,
    require_column,
    show,
    to_number,
)

logger = logging.getLogger(__name__)

__all__ = [
    "CENTRAL_PLACE_CLASSES",
    "GERMANY_BBOX",
    "NEAREST_MZ",
    "clip_grid",
    "NEAREST_OZ",
    "parse_central_places",
    "read_central_places",
    "read_commuters",
    "read_facilities",
    "read_kreis_names",
    "read_municipalities",
    "read_population_grid",
    "read_reference_times",
    "read_user_grid",
    "reference_format",
]

#: Plausible extent of German reference points (lon_min, lat_min, lon_max, lat_max), WGS84.
GERMANY_BBOX = (5.5, 47.0, 15.5, 55.5)
#: Plausible extent of German grid cells in EPSG:3035 (x_min, y_min, x_max, y_max), metres.
GERMANY_BBOX_3035 = (3_900_000.0, 2_600_000.0, 4_750_000.0, 3_600_000.0)
#: Equal-area CRS used for areas (ETRS89-LAEA Europe).
AREA_CRS = defaults.GRID_CRS

# Column names understood by the readers (first match wins, then case-insensitive).
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

_FUNCTION_COLUMNS = ("central_place", "zo_funktion", "zentraler_ort", "zo", "funktion",
                     "function", "zentralörtliche_funktion")
_CP_NAME_COLUMNS = ("central_place_name", "gemeinde", "name", "GEN", "gemeindename")

_X_COLUMNS = ("x", "x_mp_1km", "x_mp_100m", "x_mp_10km", "x_mp_250m", "x_mp", "x_3035")
_Y_COLUMNS = ("y", "y_mp_1km", "y_mp_100m", "y_mp_10km", "y_mp_250m", "y_mp", "y_3035")
_GRID_POP_COLUMNS = ("population", "Einwohner", "einwohner", "pop", "insgesamt_bevoelkerung")
_GRID_ID_COLUMNS = ("GITTER_ID_1km", "GITTER_ID_100m", "GITTER_ID_10km", "gitter_id")
_GRID_ID = re.compile(r"RES(\d+)mN(\d+)E(\d+)")
#: Strings a Census download uses for suppressed or absent counts.
_SUPPRESSED = {"-1": np.nan, "–": np.nan, "-": np.nan, "•": np.nan, ".": np.nan}

_IN_COLUMNS = ("in_commuters", "einpendler", "Einpendler", "einpendler_insgesamt")
_OUT_COLUMNS = ("out_commuters", "auspendler", "Auspendler", "auspendler_insgesamt")
#: Placeholders of the Bundesagentur für Arbeit tables: "-" means zero, "*" anonymised.
_BA_PLACEHOLDERS = {"-": 0.0, "–": 0.0, "*": np.nan, "x": np.nan, "X": np.nan}


# ----------------------------------------------------------------------------------
# municipalities


def _suffix(path: Path) -> str:
    return path.suffix.lower()


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
    projected = have & ((lon.abs() > 180) | (lat.abs() > 90))
    if projected.any():
        i = projected.idxmax()
        raise InputError(f"{path}: the lon/lat columns hold projected coordinates, not "
                         f"WGS84 degrees (e.g. AGS {ags[i]}: lon={lon[i]:.0f}, "
                         f"lat={lat[i]:.0f}). Convert them to EPSG:4326 longitude/latitude "
                         "(e.g. geopandas .to_crs(4326)) or pass a GeoPackage with its CRS.")
    lo0, la0, lo1, la1 = GERMANY_BBOX
    inside = lon.between(lo0, lo1) & lat.between(la0, la1)
    outside = have & ~inside
    if outside.any():
        swapped = outside & lat.between(lo0, lo1) & lon.between(la0, la1)
        hint = (" The lon and lat columns look swapped." if swapped.sum() == outside.sum()
                else "")
        rows = [f"{ags[i]} ({lon[i]:g}, {lat[i]:g})" for i in outside[outside].index[:10]]
        raise InputError(f"{path}: {int(outside.sum())} reference points lie outside "
                         f"Germany (lon {lo0}-{lo1}, lat {la0}-{la1}): {show(rows)}."
                         f"{hint} Fix the coordinates of these municipalities.")
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
    suffix = _suffix(p)
    if suffix in CSV_SUFFIXES:
        df = read_csv_as_str(p, what)
        is_geo = False
    elif suffix in PARQUET_SUFFIXES:
        df = _read_parquet_any(p, what)
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


def _read_parquet_any(path: Path, what: str) -> pd.DataFrame:
    """Read Parquet as a GeoDataFrame if it is GeoParquet, else as a DataFrame."""
    try:
        meta = pq.read_schema(path).metadata or {}
        if b"geo" in meta:
            return gpd.read_parquet(path)
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError subclasses
        raise InputError(f"{what} {path} cannot be read as Parquet ({exc}). "
                         "Check that it is a complete Parquet file (re-export it).") from None


def _read_table(path: str | Path, what: str) -> tuple[Path, pd.DataFrame]:
    """Read a non-spatial table (CSV, Parquet or a GDAL layer) for the small readers."""
    p = check_file(path, what)
    suffix = _suffix(p)
    if suffix in CSV_SUFFIXES:
        df = read_csv_as_str(p, what)
    elif suffix in PARQUET_SUFFIXES:
        df = _read_parquet_any(p, what)
    elif suffix in GEO_SUFFIXES:
        try:
            df = pyogrio.read_dataframe(p, read_geometry=False)
        except Exception as exc:
            raise InputError(f"{what} {p} cannot be read ({exc}). Check "
                         "that it is complete and in a format GDAL reads (GeoPackage, GeoJSON, "
                         "Shapefile).") from None
    else:
        # unknown suffix: try as CSV, which also catches binary files
        df = read_csv_as_str(p, what)
    if len(df) == 0:
        raise InputError(f"{what} {p} has no rows; pass a file with data.")
    return p, df


# ----------------------------------------------------------------------------------
# central places


def read_central_places(path: str | Path) -> pd.DataFrame:
    """Read the central-place function of municipalities.

    Parameters
    ----------
    path : str or Path
        CSV (``,`` or ``;``), Parquet or GDAL-readable table with an AGS column and a
        function column (``central_place``, ``zo_funktion``, ``zentraler_ort``,
        ``funktion``), e.g. the BBSR/INKAR table ``ags, gemeinde, zo_funktion``.

    Returns
    -------
    pandas.DataFrame
        ``ags`` (8-digit str, unique), ``central_place`` (one of
        :data:`CENTRAL_PLACE_CLASSES`) and ``central_place_name`` if the input has a
        name column (``gemeinde``, ``name``).

    Raises
    ------
    InputError
        Missing file or column, function values that are not understood (all listed),
        the same AGS with conflicting functions.

    Notes
    -----
    Designations are normalised by :func:`accessibility.vocabulary.normalise_function`: codes OZ/MZ/GZ and
    ``-``/``none``/empty are accepted, and "X mit ... Teilfunktion" counts as X (a
    partial function of the next level does not promote a place).
    """
    what = "central-place table"
    p, df = _read_table(path, what)
    return parse_central_places(df, what=what, path=p)


def parse_central_places(df: pd.DataFrame, *, what: str = "central-place table",
                         path: Path | str = "table") -> pd.DataFrame:
    """Normalise a central-place table already in memory (the rules of
    :func:`read_central_places`): the reader and the Python API share it.

    Parameters
    ----------
    df : DataFrame
        An AGS column and a function column under any accepted name.
    what : str
        How messages name the table.
    path : str or Path
        Where it came from, for messages.
    """
    p = path
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what} must be a DataFrame, got {type(df).__name__}")
    ags_col = require_column(df.columns, AGS_CANDIDATES, what, p, "AGS")
    fn_col = require_column(df.columns, _FUNCTION_COLUMNS, what, p, "central-place function")
    ags = normalise_ags(df[ags_col], path=p, column=ags_col)
    raw = df[fn_col]
    mapped = raw.map(normalise_function)
    unknown = mapped.isna()
    if unknown.any():
        vals = raw[unknown].astype("str").value_counts()
        listed = [f"{v!r} ({n}x)" for v, n in vals.items()]
        raise InputError(f"{what} {p}: column {fn_col!r} has values that are not a "
                         f"central-place function: {show(listed)}. Use Oberzentrum/OZ, "
                         "Mittelzentrum/MZ, Grundzentrum/GZ or keine/-.")
    out = pd.DataFrame({"ags": ags.to_numpy(), "central_place": mapped.astype("str").to_numpy()})
    name_col = find_column([c for c in df.columns if c != ags_col], _CP_NAME_COLUMNS)
    if name_col:
        out["central_place_name"] = df[name_col].astype("str").to_numpy()
    dup = out["ags"].duplicated(keep=False)
    if dup.any():
        n_fn = out[dup].groupby("ags")["central_place"].nunique()
        conflict = n_fn[n_fn > 1].index
        if len(conflict):
            rows = [f"{a}: " + "/".join(sorted(set(out.loc[out['ags'] == a, 'central_place'])))
                    for a in conflict[:10]]
            raise InputError(f"{what} {p}: {len(conflict)} AGS appear more than once with "
                             f"different functions: {show(rows)}"
                             f"{', ...' if len(conflict) > 10 else ''}. Keep one row per "
                             "municipality.")
        logger.warning("%s: %d repeated rows with the same function dropped", p,
                       int(out['ags'].duplicated().sum()))
        out = out.drop_duplicates("ags").reset_index(drop=True)
    counts = out["central_place"].value_counts()
    logger.info("read %d central-place rows from %s: %s", len(out), p,
                ", ".join(f"{k} {counts.get(k, 0)}" for k in CENTRAL_PLACE_CLASSES))
    return out


# ----------------------------------------------------------------------------------
# population grid


def _grid_bounds_3035(bbox: tuple[float, float, float, float]) -> tuple[float, ...]:
    tr = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    return tr.transform_bounds(*bbox, densify_pts=21)


def clip_grid(grid: pd.DataFrame, bbox: tuple[float, float, float, float]) -> pd.DataFrame:
    """The cells of a grid from :func:`read_population_grid` inside a lon/lat box.

    Raises
    ------
    InputError
        No inhabited cell lies in the box: the grid covers another region.
    """
    x0, y0, x1, y1 = _grid_bounds_3035(bbox)
    keep = ((grid["x"] >= x0) & (grid["x"] <= x1) & (grid["y"] >= y0) & (grid["y"] <= y1))
    out = grid[keep.to_numpy()].reset_index(drop=True)
    out.attrs.update(grid.attrs)
    if len(out) == 0 or out["population"].sum() <= 0:
        raise InputError(f"population grid {grid.attrs.get('source', '')} has no inhabited cell "
                         f"in the area of the run (lon/lat {bbox[0]:.2f}-{bbox[2]:.2f} / "
                         f"{bbox[1]:.2f}-{bbox[3]:.2f}): it covers another region.")
    return out


def _infer_cell_size(x: np.ndarray, y: np.ndarray, hint: int | None) -> float | None:
    """Return the grid spacing in metres from cell-centre coordinates."""
    if len(x) < 2:
        return float(hint) if hint else None
    xs = np.unique(x)
    ys = np.unique(y)
    steps = np.concatenate([np.diff(xs), np.diff(ys)])
    steps = steps[steps > 0]
    if len(steps) == 0:
        return float(hint) if hint else None
    step = float(steps.min())
    if hint and step % hint == 0:
        return float(hint)
    return step


def read_population_grid(path: str | Path, *, crs: str = "EPSG:3035",
                         bbox: tuple[float, float, float, float] | None = None
                         ) -> pd.DataFrame:
    """Read a gridded population (Census 2022 grid cells) as cell centres.

    Parameters
    ----------
    path : str or Path
        Parquet or CSV (``,`` or ``;``) with cell-centre coordinates ``x``/``y``
        (also ``x_mp_1km``/``y_mp_1km``, ``x_mp_100m``/``y_mp_100m`` of the Census
        downloads, or only a ``GITTER_ID_1km``/``GITTER_ID_100m`` column) and a count
        column ``Einwohner``, ``population`` or ``pop``.
    crs : str
        CRS of the input coordinates; they are transformed to EPSG:3035 if different.
    bbox : tuple of float, optional
        ``(lon_min, lat_min, lon_max, lat_max)`` in WGS84: keep only cells in this box
        (Parquet files are filtered while reading).

    Returns
    -------
    pandas.DataFrame
        ``x``, ``y`` (cell centres, EPSG:3035 metres) and ``population`` (float) of
        the cells with a count. ``attrs``: ``cell_size_m`` (inferred from the spacing
        of the coordinates: 1000 or 100 for the Census grids), ``crs``
        ("EPSG:3035"), ``n_suppressed`` (cells dropped because their count is
        suppressed: -1 in the Parquet, "–" in the CSV downloads), ``source``.

    Raises
    ------
    InputError
        Missing/unreadable file or columns, negative counts other than -1,
        coordinates that are not EPSG:3035 metres inside Germany.
    """
    what = "population grid"
    p = check_file(path, what)
    suffix = _suffix(p)
    if suffix in PARQUET_SUFFIXES:
        try:
            names = pq.read_schema(p).names
        except Exception as exc:
            raise InputError(f"{what} {p} cannot be read as Parquet ({exc}). "
                         "Check that it is a complete Parquet file (re-export it).") from None
        xcol, ycol = find_column(names, _X_COLUMNS), find_column(names, _Y_COLUMNS)
        filters = None
        if bbox is not None and xcol and ycol and CRS.from_user_input(crs).equals(
                CRS.from_epsg(3035)):
            x0, y0, x1, y1 = _grid_bounds_3035(bbox)
            filters = [(xcol, ">=", x0), (xcol, "<=", x1), (ycol, ">=", y0), (ycol, "<=", y1)]
        try:
            df = pd.read_parquet(p, filters=filters)
        except Exception as exc:
            raise InputError(f"{what} {p} cannot be read as Parquet ({exc}). "
                         "Check that it is a complete Parquet file (re-export it).") from None
    else:
        _, df = _read_table(p, what)
    if len(df) == 0 and bbox is None:
        raise InputError(f"{what} {p} has no rows; pass a file with data.")

    pop_col = require_column(df.columns, _GRID_POP_COLUMNS, what, p, "population")
    xcol, ycol = find_column(df.columns, _X_COLUMNS), find_column(df.columns, _Y_COLUMNS)
    hint = None
    if xcol and ycol:
        x = to_number(df[xcol], path=p, column=xcol).to_numpy()
        y = to_number(df[ycol], path=p, column=ycol).to_numpy()
        m = re.search(r"(\d+)(k?m)$", xcol.lower())
        if m:
            hint = int(m.group(1)) * (1000 if m.group(2) == "km" else 1)
    else:
        id_col = find_column(df.columns, _GRID_ID_COLUMNS)
        if id_col is None:
            raise InputError(f"{what} {p} has no cell coordinates: expected x/y (or "
                             "x_mp_1km/y_mp_1km, x_mp_100m/y_mp_100m) or a GITTER_ID column;"
                             f" columns found: {show(df.columns, 30)}.")
        parts = df[id_col].astype("str").str.extract(_GRID_ID)
        if parts.isna().any(axis=None):
            bad = df.loc[parts.isna().any(axis=1), id_col]
            raise InputError(f"{what} {p}: column {id_col!r} has ids not of the form "
                             f"CRS3035RES1000mN2689000E4337000: {show(bad.unique())}.")
        res = parts[0].astype("float64").to_numpy()
        # the INSPIRE id names the lower-left corner; the centre is half a cell away
        y = parts[1].astype("float64").to_numpy() + res / 2
        x = parts[2].astype("float64").to_numpy() + res / 2
        hint = int(res[0]) if len(res) else None

    if len(x) and (np.isnan(x).any() or np.isnan(y).any()):
        raise InputError(f"{what} {p}: {int(np.isnan(x).sum() + np.isnan(y).sum())} empty "
                         f"coordinates in {xcol}/{ycol}. Remove these rows.")
    src = CRS.from_user_input(crs)
    if not src.equals(CRS.from_epsg(3035)):
        tr = Transformer.from_crs(src, "EPSG:3035", always_xy=True)
        x, y = tr.transform(x, y)
        x, y = np.round(x, 3), np.round(y, 3)
    if len(x):
        if np.abs(x).max() <= 180 and np.abs(y).max() <= 90:
            raise InputError(f"{what} {p}: the coordinates look like degrees (x up to "
                             f"{np.abs(x).max():g}), not EPSG:3035 metres. Pass "
                             "crs='EPSG:4326' (or the right CRS) to read_population_grid.")
        x0, y0, x1, y1 = GERMANY_BBOX_3035
        outside = (x < x0) | (x > x1) | (y < y0) | (y > y1)
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            swapped = ((y >= x0) & (y <= x1) & (x >= y0) & (x <= y1)).mean() > 0.5
            hint = ("x and y look swapped: x must be the easting, y the northing"
                    if swapped else "the Census grid is EPSG:3035 (x east, y north, "
                    "metres); reproject the file, or in Python pass its CRS as the crs argument")
            raise InputError(f"{what} {p}: {int(outside.sum())} cells lie outside Germany "
                             f"in {crs} (e.g. x={x[i]:g}, y={y[i]:g}): {hint}.")
    cell = _infer_cell_size(x, y, hint)

    raw = df[pop_col]
    if pd.api.types.is_numeric_dtype(raw):
        pop = raw.astype("float64").to_numpy()
        suppressed = pop == -1
        pop = np.where(suppressed, np.nan, pop)
        suppressed |= np.isnan(pop)
    else:
        s = raw.astype("str").str.strip().where(raw.notna(), "")
        suppressed = (s.isin(list(_SUPPRESSED)) | (s == "")).to_numpy().copy()
        pop = to_number(s.mask(suppressed, ""), path=p, column=pop_col,
                        integer=False).to_numpy()
        minus_one = pop == -1  # "-1.0" written by tools that store counts as floats
        suppressed |= minus_one
        pop = np.where(minus_one, np.nan, pop)
    neg = pop < 0
    if neg.any():
        raise InputError(f"{what} {p}: column {pop_col!r} has negative counts other than "
                         f"the -1 of suppressed cells: {show(np.unique(pop[neg]))}. Fix them.")
    keep = ~suppressed
    if bbox is not None and not (suffix in PARQUET_SUFFIXES and src.equals(
            CRS.from_epsg(3035)) and xcol):
        bx0, by0, bx1, by1 = _grid_bounds_3035(bbox)
        keep &= (x >= bx0) & (x <= bx1) & (y >= by0) & (y <= by1)
    out = pd.DataFrame({"x": np.asarray(x, dtype="float64")[keep],
                        "y": np.asarray(y, dtype="float64")[keep],
                        "population": pop[keep]})
    if bbox is not None and (len(out) == 0 or out["population"].sum() <= 0):
        if len(df) == 0 and suffix in PARQUET_SUFFIXES and bbox is not None:
            # the area filter found nothing: read the whole grid once to say why
            # (another CRS, swapped x/y) instead of counting 0 residents
            read_population_grid(p, crs=crs)
        raise InputError(f"{what} {p} has no inhabited cell in the area of the run "
                         f"(lon/lat {bbox[0]:.2f}-{bbox[2]:.2f} / {bbox[1]:.2f}-{bbox[3]:.2f}): "
                         "it covers another region, or its coordinates are not EPSG:3035 "
                         "cell centres (x east, y north).")
    n_sup = int(suppressed.sum())
    out.attrs.update({"cell_size_m": cell, "crs": "EPSG:3035", "n_suppressed": n_sup,
                      "source": str(p)})
    logger.info("read %d grid cells (%s m, %d suppressed dropped, %.0f inhabitants) from %s",
                len(out), cell, n_sup, out["population"].sum(), p)
    return out


# ----------------------------------------------------------------------------------
# commuters


def read_user_grid(path: str | Path) -> pd.DataFrame:
    """Read a user's 100 m residents grid (Census ``x_mp_100m``/``y_mp_100m``/``Einwohner``).

    Parameters
    ----------
    path : str or Path
        CSV or Parquet with 100 m cell centres in EPSG:3035 (``x``/``y``,
        ``x_mp_100m``/``y_mp_100m`` or ``GITTER_ID_100m``) and a count (``Einwohner``,
        ``population`` or ``pop``); suppressed counts (-1, "–") are dropped and counted
        in ``attrs["n_suppressed"]``.

    Returns
    -------
    pandas.DataFrame
        ``x``, ``y``, ``population`` of the cells with residents (> 0).

    Raises
    ------
    InputError
        Unreadable file, missing columns, or a grid that is not 100 m cells aligned
        to the INSPIRE grid (centres at ...50 m).
    """
    df = read_population_grid(path)
    size = df.attrs.get("cell_size_m")
    if size is not None and len(df) > 1 and abs(float(size) - 100.0) > 1e-6:
        raise InputError(f"population grid {path} has {size:g} m cells, not 100 m; pass it "
                         "to disaggregate(...) to spread it over 100 m cells instead.")
    off = np.r_[(df["x"].to_numpy() - 50.0) % 100.0, (df["y"].to_numpy() - 50.0) % 100.0]
    off = np.minimum(off, 100.0 - off)
    if off.size and off.max() > 1e-3:
        raise InputError(f"population grid {path}: cell centres are not on the 100 m INSPIRE "
                         "grid (EPSG:3035 coordinates ending in 50 m); give cell centres, "
                         "not corners, in EPSG:3035.")
    n_sup = int(df.attrs.get("n_suppressed", 0))
    attrs = dict(df.attrs)
    out = df[df["population"] > 0].reset_index(drop=True)
    out.attrs.update(attrs)
    out.attrs["cell_size_m"] = 100.0
    logger.info("user grid %s: %d cells with residents, %d suppressed cells dropped",
                path, len(out), n_sup)
    return out


# ----------------------------------------------------------------------------------
# reference travel times (speed calibration)

#: Longest plausible reference car time in minutes (Germany end to end is about 12 h).
MAX_REFERENCE_MIN = 1440.0
_ORIGIN_COLUMNS = ("origin_ags", "origin", "from_ags")
_DESTINATION_COLUMNS = ("destination", "destination_ags", "to_ags")
_MINUTES_COLUMNS = ("minutes", "time_min", "reference_min")
_NEAREST = re.compile(r"^nearest\s+(oz|mz)$", re.IGNORECASE)


_REF_GVB_COLUMNS = ("gvb_ars9", "gvb")
_REF_GVB_TIMES = ("t_oz_min", "t_mz_min")
_REF_N_MEMBERS = ("n_members",)
_REF_GVB_NAME = ("name", "gvb_name")


def _check_minutes(minutes: pd.Series, p: Path, column: str, what: str) -> None:
    """Raise InputError for minutes outside 0..MAX_REFERENCE_MIN (NaN passes)."""
    v = minutes.to_numpy()
    bad = np.isinf(v) | (v < 0) | (v > MAX_REFERENCE_MIN)
    if bad.any():
        rows = [f"line {i + 2}: {x}" for i, x in minutes[bad].items()]
        raise InputError(f"{what} {p}: column {column!r} must be minutes from 0 to "
                         f"{MAX_REFERENCE_MIN:g} (seconds given?); found {show(rows)}.")


def reference_format(columns: Sequence[str]) -> str | None:
    """The format of a reference travel-time table judged by its column names.

    Returns ``"pairs"`` (``origin_ags``, ``destination``, ``minutes``), ``"gvb"``
    (``gvb_ars9`` or ``gvb`` with ``t_oz_min`` and/or ``t_mz_min``: the INKAR
    format) or None when the columns fit neither.
    """
    pairs = all(find_column(columns, c) is not None
                for c in (_ORIGIN_COLUMNS, _DESTINATION_COLUMNS, _MINUTES_COLUMNS))
    gvb = (find_column(columns, _REF_GVB_COLUMNS) is not None
           and any(find_column(columns, (c,)) is not None for c in _REF_GVB_TIMES))
    if pairs and gvb:
        return "ambiguous"
    return "pairs" if pairs else "gvb" if gvb else None


def read_reference_times(path: str | Path) -> pd.DataFrame:
    """Read reference car travel times: between municipalities, or per Gemeindeverband.

    Two formats are understood, told apart by their columns:

    ``pairs``
        ``origin_ags`` (8-digit AGS), ``destination`` (an 8-digit AGS, or
        ``nearest OZ`` / ``nearest MZ``, any case) and ``minutes`` (reference
        travel time, >= 0). ``origin``, ``destination_ags`` and ``time_min`` are
        accepted as well.
    ``gvb`` (the INKAR format)
        ``gvb_ars9`` or ``gvb`` (9-digit Gemeindeverband key of the municipality
        register) and ``t_oz_min`` and/or ``t_mz_min``: the area-weighted mean over
        the GVB's members of each member's car time to the nearest Oberzentrum /
        Mittel- or Oberzentrum (INKAR "flächengewichteter Durchschnitt"). Optional
        ``n_members`` (members of the GVB, to check that all are in the run) and
        ``name``. An empty time means "no reference" for that indicator.

    Parameters
    ----------
    path : str or Path
        CSV (``,``/``;``/tab separated, decimal point or comma) or Parquet table.
        Column names are matched case-insensitively.

    Returns
    -------
    pandas.DataFrame
        ``pairs``: columns ``origin_ags`` (str), ``destination`` (str: an AGS,
        ``"nearest OZ"`` or ``"nearest MZ"``) and ``minutes`` (float).
        ``gvb``: columns ``gvb`` (str, 9 digits), ``t_oz_min``, ``t_mz_min`` (float,
        NaN where the file has no value or no column), ``n_members`` (nullable
        Int64) and ``name``. Rows in file order; the index is ``0..n-1``, so row
        ``i`` is line ``i + 2`` of a CSV file. ``.attrs["format"]`` is ``"pairs"``
        or ``"gvb"``.

    Raises
    ------
    InputError
        Missing file; a table with the columns of neither format (or of both);
        empty or malformed AGS / GVB keys, duplicated GVBs; destinations that are
        neither an AGS nor a "nearest" keyword; missing (pairs format),
        non-numeric, negative or infinite minutes.
    """
    what = "reference travel-time table"
    p, df = _read_table(path, what)
    fmt = reference_format(df.columns)
    if fmt == "ambiguous":
        raise InputError(f"{what} {p} has the columns of both formats (origin_ags, "
                         "destination, minutes and gvb_ars9, t_oz_min, t_mz_min); keep the "
                         "columns of one format only.")
    if fmt == "gvb":
        return _read_gvb_reference_times(p, df, what)
    if fmt is None and find_column(df.columns, _ORIGIN_COLUMNS) is None:
        raise InputError(f"{what} {p} is in neither known format; columns found: "
                         f"{show(df.columns, 30)}. Give either origin_ags, destination, "
                         "minutes (one row per trip; destination an AGS or 'nearest OZ' / "
                         "'nearest MZ') or gvb_ars9, t_oz_min, t_mz_min (INKAR: one row per "
                         "Gemeindeverband, area-weighted mean minutes).")
    cols = {}
    for key, candidates in (("origin_ags", _ORIGIN_COLUMNS),
                            ("destination", _DESTINATION_COLUMNS),
                            ("minutes", _MINUTES_COLUMNS)):
        col = find_column(df.columns, candidates)
        if col is None:
            raise InputError(f"{what} {p} has no {key!r} column (also accepted: "
                             f"{', '.join(candidates[1:])}); columns found: "
                             f"{show(df.columns, 30)}. Expected columns origin_ags, "
                             "destination, minutes.")
        cols[key] = col
    df = df.reset_index(drop=True)
    origin = normalise_ags(df[cols["origin_ags"]], path=p, column=cols["origin_ags"])

    raw_dest = df[cols["destination"]]
    dest = raw_dest.astype("str").str.strip().where(raw_dest.notna(), "")
    m = dest.str.match(_NEAREST)
    keyword = dest.str.replace(r"\s+", " ", regex=True).str.lower().map(
        {"nearest oz": NEAREST_OZ, "nearest mz": NEAREST_MZ})
    dest_out = pd.Series(keyword.where(m), index=df.index, dtype="object")
    is_ags = ~m
    if is_ags.any():
        looks_like_key = dest[is_ags].str.replace(r"\.0+$", "", regex=True).str.fullmatch(r"\d+")
        bad = dest[is_ags][~looks_like_key]
        if len(bad):
            rows = [f"line {i + 2}: {v!r}" for i, v in bad.items()]
            raise InputError(f"{what} {p}: column {cols['destination']!r} must hold an "
                             f"8-digit AGS or 'nearest OZ' / 'nearest MZ'; found "
                             f"{show(rows)}.")
        dest_out[is_ags] = normalise_ags(dest[is_ags], path=p,
                                         column=cols["destination"]).to_numpy()

    minutes = to_number(df[cols["minutes"]], path=p, column=cols["minutes"])
    missing = minutes.isna()
    if missing.any():
        raise InputError(f"{what} {p}: column {cols['minutes']!r} is empty on lines "
                         f"{show(np.flatnonzero(missing.to_numpy()) + 2)}. Every row needs "
                         "a reference time in minutes.")
    # no car trip within Germany takes a day: larger values are seconds or typos
    _check_minutes(minutes, p, cols["minutes"], what)
    out = pd.DataFrame({"origin_ags": origin.astype("str").to_numpy(),
                        "destination": dest_out.astype("str").to_numpy(),
                        "minutes": minutes.astype("float64").to_numpy()})
    out.attrs["format"] = "pairs"
    logger.info("read %d reference times from %s (%d to a nearest OZ/MZ)", len(out), p,
                int(m.sum()))
    return out


def _read_gvb_reference_times(p: Path, df: pd.DataFrame, what: str) -> pd.DataFrame:
    """The ``gvb`` format of :func:`read_reference_times` (INKAR GVB means)."""
    df = df.reset_index(drop=True)
    key_col = find_column(df.columns, _REF_GVB_COLUMNS)
    gvb = normalise_ags(df[key_col], path=p, column=key_col, width=9)
    dup = gvb[gvb.duplicated(keep=False)]
    if len(dup):
        rows = [f"line {i + 2}: {v}" for i, v in dup.items()]
        raise InputError(f"{what} {p}: Gemeindeverband keys occur more than once "
                         f"({show(rows)}); give one row per GVB.")
    out = pd.DataFrame({"gvb": gvb.to_numpy()})
    for c in _REF_GVB_TIMES:
        col = find_column(df.columns, (c,))
        if col is None:
            out[c] = np.nan
            continue
        minutes = to_number(df[col], path=p, column=col)
        _check_minutes(minutes, p, col, what)
        out[c] = minutes.astype("float64").to_numpy()
    n_col = find_column(df.columns, _REF_N_MEMBERS)
    if n_col is not None:
        n = to_number(df[n_col], path=p, column=n_col, integer=True)
        bad = n.notna() & ((n < 1) | (n != np.round(n)))
        if bad.any():
            rows = [f"line {i + 2}: {v:g}" for i, v in n[bad].items()]
            raise InputError(f"{what} {p}: column {n_col!r} must be a whole number of member "
                             f"municipalities >= 1; found {show(rows)}.")
        out["n_members"] = pd.array(n.round().to_numpy(), dtype="Int64")
    else:
        out["n_members"] = pd.array([pd.NA] * len(out), dtype="Int64")
    name_col = find_column(df.columns, _REF_GVB_NAME)
    out["name"] = (df[name_col].astype("str").where(df[name_col].notna(), "").to_numpy()
                   if name_col is not None else "")
    empty = out[list(_REF_GVB_TIMES)].isna().all(axis=1)
    if empty.all():
        raise InputError(f"{what} {p}: no row has a value in t_oz_min or t_mz_min; give the "
                         "reference minutes.")
    out.attrs["format"] = "gvb"
    logger.info("read reference times of %d Gemeindeverbände from %s (%d to an OZ, %d to an "
                "MZ)", len(out), p, int(out["t_oz_min"].notna().sum()),
                int(out["t_mz_min"].notna().sum()))
    return out


def read_kreis_names(path: str | Path) -> pd.DataFrame | None:
    """Kreis names from the Kreis layer of a boundaries file (VG250 ``kreise`` or
    ``vg250_krs``): ``kreis`` (5 digits), ``kreis_name`` (GEN), ``kreis_type`` (BEZ,
    e.g. Landkreis). None when the file has no such layer."""
    p = Path(path)
    if _suffix(p) not in GEO_SUFFIXES:
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


# ----------------------------------------------------------------------------------
# facilities (Nahversorgung)


def read_facilities(path: str | Path) -> pd.DataFrame:
    """A user's own facility table: CSV (``service`` or ``type``, ``lon``, ``lat``) or a
    point layer (GeoPackage/GeoJSON/Shapefile with ``service`` or ``type``).

    Returns
    -------
    DataFrame
        ``service`` (one of :data:`accessibility.vocabulary.SERVICES`), ``lon``,
        ``lat`` (WGS84), ``source`` ("user table").
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"facility table {p} does not exist")
    if p.suffix.lower() == ".csv":
        df = pd.read_csv(p)
    else:
        g = gpd.read_file(p)
        if g.crs is None:
            raise InputError(f"{p} has no CRS: set one (e.g. EPSG:4326) before using it")
        g = g.to_crs(defaults.WGS84)
        pts = g.geometry.representative_point()
        df = pd.DataFrame(g.drop(columns="geometry")).assign(lon=pts.x, lat=pts.y)
    if "service" not in df.columns and "type" in df.columns:
        df = df.rename(columns={"type": "service"})
    missing = {"service", "lon", "lat"} - set(df.columns)
    if missing:
        raise InputError(f"facility table {p} lacks columns {sorted(missing)}; it needs service "
                         f"(one of {', '.join(SERVICES)}), lon and lat (WGS84)")
    bad = set(df["service"]) - set(SERVICES)
    if bad:
        raise InputError(f"facility table {p} has unknown service types {sorted(map(str, bad))}; "
                         f"use {', '.join(SERVICES)}")
    if df[["lon", "lat"]].isna().any().any():
        raise InputError(f"facility table {p} has rows without coordinates")
    lon, lat = df["lon"].to_numpy(float), df["lat"].to_numpy(float)
    lo0, la0, lo1, la1 = GERMANY_BBOX
    outside = ~((lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1))
    if outside.any():
        swapped = ((lat >= lo0) & (lat <= lo1) & (lon >= la0) & (lon <= la1))[outside].all()
        raise InputError(f"facility table {p}: {int(outside.sum())} facilities lie outside "
                         f"Germany (first: lon {lon[outside][0]:g}, lat {lat[outside][0]:g})"
                         + (": lon and lat look swapped." if swapped else
                            ": lon/lat must be WGS84 degrees."))
    return df[["service", "lon", "lat"]].assign(source="user table")


#: Placeholders of the published BA Pendlerstatistik: "-" nothing (0); "*" anonymised
#: (fewer than 3 cases or disclosure control), "X" / "x" not applicable or locked,
#: "." unknown or secret (Destatis convention): missing.
_BA_SUPPRESSED = {**_BA_PLACEHOLDERS, ".": np.nan, "…": np.nan}
#: Columns of the number of employees subject to social insurance at the workplace.
_EMP_WORK_COLUMNS = ("employees_workplace", "sv_beschaeftigte_arbeitsort",
                     "svb_arbeitsort", "beschaeftigte_arbeitsort", "svb_ao")
_EMP_HOME_COLUMNS = ("employees_residence", "sv_beschaeftigte_wohnort", "svb_wohnort",
                     "beschaeftigte_wohnort", "svb_wo")
#: Key columns of the published BA tables, whose cells may hold "AGS name".
_BA_KEY_COLUMNS = ("Gemeinde", "Gemeindeschlüssel", "Schlüssel", "Regionalschlüssel",
                   "Arbeitsort", "Wohnort", "Kennziffer", "Gemeinde (AGS)")
_LEADING_AGS = re.compile(r"^\s*(\d{7,8})(?!\d)")


def _plain(name: object) -> str:
    """A column name reduced for matching: lower case, umlauts spelt out, letters and
    digits only ("Sozialversicherungspflichtig Beschäftigte am Arbeitsort" ->
    "sozialversicherungspflichtigbeschaeftigteamarbeitsort")."""
    s = str(name).lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        s = s.replace(a, b)
    return re.sub(r"[^a-z0-9]", "", s)


def _commuter_column(columns, exact: Sequence[str], words: Sequence[str],
                     avoid: Sequence[str] = ()) -> str | None:
    """An exact candidate name, else the shortest column whose reduced name holds all
    ``words`` and none of ``avoid`` (the BA's long German headers)."""
    col = find_column(columns, exact)
    if col is not None:
        return col
    hits = [c for c in columns if all(w in _plain(c) for w in words)
            and not any(a in _plain(c) for a in avoid)]
    return min(hits, key=lambda c: len(str(c))) if hits else None


def _header_line(p: Path) -> int | None:
    """Index of the header line of a BA download with title lines above the table: the
    first line naming in-commuters (None when the file is not text)."""
    from ._tables import _decode_head

    try:
        _, head = _decode_head(p)
    except OSError:
        return None
    for i, line in enumerate(head.splitlines()[:60]):
        low = line.lower()
        if "einpendler" in low or "in_commuters" in low:
            return i
    return None


def _read_commuter_table(path: str | Path, what: str) -> tuple[Path, pd.DataFrame]:
    """The commuter table; for a CSV with title lines above the header (a BA download
    saved as CSV), the table from the header line on."""
    p = check_file(path, what)
    line = _header_line(p) if _suffix(p) in CSV_SUFFIXES else None
    if not line:  # no title lines above the header: the usual reader
        return _read_table(p, what)
    from ._tables import _decode_head

    encoding, head = _decode_head(p)
    header = head.splitlines()[line]
    sep = max((";", ",", "\t", "|"), key=header.count)
    try:
        df = pd.read_csv(p, sep=sep, dtype=str, encoding=encoding, skiprows=line,
                         keep_default_na=False, na_values=[""], skipinitialspace=True,
                         on_bad_lines="skip")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{what} {p} cannot be read from its header line {line + 1} "
                         f"({exc}). Save the table as CSV with one header row.") from None
    df.columns = [re.sub(r"\s+", " ", str(c)).strip() for c in df.columns]
    if len(df) == 0:
        raise InputError(f"{what} {p} has no rows below its header (line {line + 1})")
    logger.info("%s: header found on line %d (title lines above it skipped)", p, line + 1)
    return p, df


def read_commuters(path: str | Path) -> pd.DataFrame:
    """Read commuters and employees per municipality (Bundesagentur für Arbeit).

    Two layouts are accepted, told apart by their columns.

    **Plain table**: an AGS column (``ags``, ``AGS``, ``Gemeindeschlüssel``, ...),
    ``in_commuters``/``Einpendler``, ``out_commuters``/``Auspendler`` and, for the
    commuter balance per 100 employees and residents per job,
    ``employees_workplace``/``sv_beschaeftigte_arbeitsort``.

    **BA Pendlerstatistik as published** ("Pendler nach Gemeinden", Statistik der
    Bundesagentur für Arbeit, saved as CSV from the Excel download, or as .xlsx
    exported to CSV): semicolon-separated, Windows-1252 or UTF-8; title lines above
    the header are skipped (the header is the first line naming "Einpendler"); the
    key column is ``Gemeinde`` (or ``Schlüssel``, ``Regionalschlüssel``, ``Arbeitsort``,
    ``Wohnort``) whose cells start with the 8-digit AGS, possibly followed by the
    name ("03101000 Braunschweig, Stadt"); rows whose key is no municipality key
    (Kreis and Land totals, "Insgesamt", footnotes) are skipped. The count columns are
    found by their German headers (spaces, line breaks and case do not matter):
    "Einpendler", "Auspendler", "Sozialversicherungspflichtig Beschäftigte am
    Arbeitsort" (and "... am Wohnort"); a "Pendlersaldo" column is not needed.
    Numbers may carry thousands separators ("30.123", "30 123"). Placeholders:
    ``-`` is 0 (nothing); ``*`` (anonymised), ``X``/``x`` (locked, not applicable),
    ``.`` (unknown or secret) and ``…`` are missing.

    Parameters
    ----------
    path : str or Path
        CSV (``,`` or ``;``), Parquet or a GDAL-readable table.

    Returns
    -------
    pandas.DataFrame
        ``ags`` (8-digit str, unique), ``in_commuters``, ``out_commuters`` (float, NaN
        where suppressed) and, where the table has them, ``employees_workplace`` and
        ``employees_residence``.

    Raises
    ------
    InputError
        Missing file or columns (the columns found are listed), values that are not
        numbers, negative counts, duplicated AGS.
    """
    what = "commuter table"
    p, df = _read_commuter_table(path, what)
    ags_col = find_column(df.columns, AGS_CANDIDATES)
    in_col = _commuter_column(df.columns, _IN_COLUMNS, ("einpendler",))
    out_col = _commuter_column(df.columns, _OUT_COLUMNS, ("auspendler",))
    if in_col is None:
        require_column(df.columns, _IN_COLUMNS, what, p, "in-commuter")
    if out_col is None:
        require_column(df.columns, _OUT_COLUMNS, what, p, "out-commuter")
    emp_col = _commuter_column(df.columns, _EMP_WORK_COLUMNS, ("beschaeftigt", "arbeitsort"))
    home_col = _commuter_column(df.columns, _EMP_HOME_COLUMNS, ("beschaeftigt", "wohnort"))
    if ags_col is not None:
        ags = normalise_ags(df[ags_col], path=p, column=ags_col)
    else:
        key_col = find_column(df.columns, _BA_KEY_COLUMNS)
        if key_col is None:
            require_column(df.columns, AGS_CANDIDATES + _BA_KEY_COLUMNS, what, p, "AGS")
        lead = df[key_col].astype(str).str.extract(_LEADING_AGS, expand=False)
        keep = lead.notna() & df[key_col].notna()
        if not keep.any():
            raise InputError(f"{what} {p}: no cell of column {key_col!r} starts with an 8-digit "
                             f"AGS (first values: {show(df[key_col].dropna().unique()[:5])}). "
                             "Keep the municipality rows with their key, e.g. '03101000 "
                             "Braunschweig, Stadt'.")
        if (~keep).any():
            logger.info("%s: %d rows without a municipality key skipped (totals, Kreise, "
                        "footnotes)", p, int((~keep).sum()))
        df = df.loc[keep].reset_index(drop=True)
        ags = normalise_ags(lead[keep].reset_index(drop=True), path=p, column=key_col)
    out = pd.DataFrame({"ags": ags.to_numpy()})
    counts = [("in_commuters", in_col), ("out_commuters", out_col)]
    counts += [(t, c) for t, c in (("employees_workplace", emp_col),
                                   ("employees_residence", home_col)) if c is not None]
    for target, col in counts:
        raw = df[col]
        if not pd.api.types.is_numeric_dtype(raw):  # "30 123", NBSP: thousands spaces
            raw = raw.astype("string").str.replace(r"(?<=\d)[\s\u00a0\u202f](?=\d{3})", "",
                                                   regex=True).astype(object)
            raw = raw.where(df[col].notna(), None)
        v = to_number(raw, path=p, column=col, integer=True,
                      placeholders=_BA_SUPPRESSED).to_numpy()
        neg = v < 0
        if neg.any():
            raise InputError(f"{what} {p}: column {col!r} has negative counts for AGS "
                             f"{show(out['ags'][neg])}. Commuter counts must be >= 0.")
        out[target] = v
    dup = out["ags"].duplicated(keep=False)
    if dup.any():
        raise InputError(f"{what} {p} has duplicated AGS: {show(out.loc[dup, 'ags'].unique())}."
                         " Keep one row per municipality (place of work = place of residence"
                         " tables must be summed first).")
    n_na = int(out[["in_commuters", "out_commuters"]].isna().any(axis=1).sum())
    if n_na:
        logger.warning("%s: %d municipalities have anonymised ('*') or empty commuter "
                       "counts (NaN)", p, n_na)
    logger.info("read commuters of %d municipalities from %s%s", len(out), p,
                " with employees at the workplace" if emp_col is not None else "")
    return out
