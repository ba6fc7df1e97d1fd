"""Reader of a user's own facility table (Nahversorgung)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import defaults
from .._checks import check_lonlat
from .._errors import InputError
from ..vocabulary import SERVICES
from ._tables import CSV_SUFFIXES, check_file, file_suffix, read_csv_as_str, to_number

__all__ = ["read_facilities"]


def read_facilities(path: str | Path) -> pd.DataFrame:
    """Read a user's own facility table.

    Parameters
    ----------
    path : str or Path
        CSV (``service`` or ``type``, ``lon``, ``lat``) or a point layer
        (GeoPackage/GeoJSON/Shapefile with ``service`` or ``type``, and a CRS).

    Returns
    -------
    DataFrame
        ``service`` (one of :data:`accessibility.vocabulary.SERVICES`), ``lon``,
        ``lat`` (WGS84), ``source`` ("user table").

    Raises
    ------
    InputError
        Missing file, a layer without CRS, missing columns, unknown services, rows
        without coordinates or outside Germany.
    """
    what = "facility table"
    p = check_file(path, what)
    if file_suffix(p) in CSV_SUFFIXES:  # separator, encoding, empty and cut files checked
        df = read_csv_as_str(p, what)
    else:
        try:
            g = gpd.read_file(p)
        except Exception as exc:  # GDAL's errors (pyogrio / fiona) differ by driver
            raise InputError(f"{what} {p} cannot be read as a point layer ({exc}); give a "
                             "CSV (service, lon, lat) or a GeoPackage/GeoJSON with a "
                             "CRS.") from None
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
    df = df.assign(lon=to_number(df["lon"], path=p, column="lon"),
                   lat=to_number(df["lat"], path=p, column="lat"))
    bad = set(df["service"]) - set(SERVICES)
    if bad:
        raise InputError(f"facility table {p} has unknown service types {sorted(map(str, bad))}; "
                         f"use {', '.join(SERVICES)}")
    check_lonlat(df["lon"].to_numpy(float), df["lat"].to_numpy(float), f"facility table {p}")
    return df[["service", "lon", "lat"]].assign(source="user table")
