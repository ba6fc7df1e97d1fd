"""Checks of coordinates that the file readers and the Python API share, so a table
passed in a notebook is held to what a file is held to."""

from __future__ import annotations

import numpy as np

from ._errors import InputError
from ._util import show

#: Germany's extent in WGS84 degrees (lon_min, lat_min, lon_max, lat_max), with a margin.
GERMANY_BBOX = (5.5, 47.0, 15.5, 55.5)


def check_lonlat(lon, lat, where: str, ids=None, *, allow_missing: bool = False) -> None:
    """An :class:`InputError` for coordinates that are not WGS84 degrees in Germany:
    projected values (metres), lon and lat swapped, points abroad, and (unless
    ``allow_missing``) rows without coordinates. ``ids`` name the rows in the message
    (default: row numbers from 1)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    ids = np.arange(1, lon.size + 1) if ids is None else np.asarray(ids)
    have = np.isfinite(lon) & np.isfinite(lat)
    if not allow_missing and not have.all():
        raise InputError(f"{where}: {int((~have).sum())} rows have no coordinates "
                         f"({show(ids[~have])}). Fill in lon and lat (WGS84 degrees) or drop "
                         "the rows.")
    projected = have & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    if projected.any():
        i = int(np.flatnonzero(projected)[0])
        raise InputError(f"{where}: lon/lat hold projected coordinates, not WGS84 degrees "
                         f"(e.g. {ids[i]}: lon={lon[i]:.0f}, lat={lat[i]:.0f}). Convert them to "
                         "EPSG:4326 longitude/latitude (geopandas .to_crs(4326)).")
    lo0, la0, lo1, la1 = GERMANY_BBOX
    with np.errstate(invalid="ignore"):
        outside = have & ~((lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1))
        swapped = outside & (lat >= lo0) & (lat <= lo1) & (lon >= la0) & (lon <= la1)
    if outside.any():
        rows = [f"{ids[i]} ({lon[i]:g}, {lat[i]:g})" for i in np.flatnonzero(outside)[:10]]
        hint = (" lon and lat look swapped: swap the columns." if swapped.sum() == outside.sum()
                else " Fix or drop these rows (lon/lat are WGS84 degrees).")
        raise InputError(f"{where}: {int(outside.sum())} points lie outside Germany (lon "
                         f"{lo0}-{lo1}, lat {la0}-{la1}): {show(rows)}.{hint}")
