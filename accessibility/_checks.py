"""Checks of coordinates that the file readers and the Python API share, so a table
passed in a notebook is held to what a file is held to."""

from __future__ import annotations

import numpy as np

from . import defaults
from ._errors import InputError
from ._util import show

#: Germany's extent in WGS84 degrees (lon_min, lat_min, lon_max, lat_max), with a margin.
GERMANY_BBOX = (5.5, 47.0, 15.5, 55.5)


def check_lonlat(lon, lat, where: str, ids=None, *, allow_missing: bool = False,
                 margin_deg: float = 0.0) -> None:
    """An :class:`InputError` for coordinates that are not WGS84 degrees in Germany:
    projected values (metres), lon and lat swapped, points abroad (beyond
    ``margin_deg`` degrees around Germany's box: destinations near the border, such
    as stations abroad, count), and (unless ``allow_missing``) rows without
    coordinates. ``ids`` name the rows in the message (default: row numbers from 1)."""
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
    lo0, la0, lo1, la1 = (GERMANY_BBOX[0] - margin_deg, GERMANY_BBOX[1] - margin_deg,
                          GERMANY_BBOX[2] + margin_deg, GERMANY_BBOX[3] + margin_deg)
    with np.errstate(invalid="ignore"):
        outside = have & ~((lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1))
        swapped = outside & (lat >= lo0) & (lat <= lo1) & (lon >= la0) & (lon <= la1)
    if outside.any():
        rows = [f"{ids[i]} ({lon[i]:g}, {lat[i]:g})" for i in np.flatnonzero(outside)[:10]]
        hint = (" lon and lat look swapped: swap the columns." if swapped.sum() == outside.sum()
                else " Fix or drop these rows (lon/lat are WGS84 degrees).")
        place = "Germany" if not margin_deg else f"Germany and {margin_deg:g} degrees around it"
        raise InputError(f"{where}: {int(outside.sum())} points lie outside {place} (lon "
                         f"{lo0}-{lo1}, lat {la0}-{la1}): {show(rows)}.{hint}")


def check_degrees(lon, lat, where: str) -> None:
    """The part of :func:`check_lonlat` that holds anywhere: projected values (metres)
    and German coordinates with lon and lat swapped are errors. For generic points
    (:func:`accessibility.attach`), which may lie anywhere a graph does."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    have = np.isfinite(lon) & np.isfinite(lat)
    if not have.any():
        return
    lon, lat = lon[have], lat[have]
    if ((np.abs(lon) > 180) | (np.abs(lat) > 90)).any():
        raise InputError(f"{where}: lon/lat hold projected coordinates, not WGS84 degrees "
                         f"(e.g. lon={lon[0]:.0f}, lat={lat[0]:.0f}). Convert them to EPSG:4326 "
                         "longitude/latitude (geopandas .to_crs(4326)).")
    lo0, la0, lo1, la1 = GERMANY_BBOX
    swapped = (lat >= lo0) & (lat <= lo1) & (lon >= la0) & (lon <= la1)
    german = (lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1)
    if swapped.all() and not german.any():
        raise InputError(f"{where}: lon and lat look swapped (e.g. lon={lon[0]:g}, "
                         f"lat={lat[0]:g}: a latitude in Germany is 47-55.5): swap the "
                         "columns.")


def check_commuters(ags, inc, out, residents, ok) -> None:
    """Commuter counts in a plausible range, and out-commuters (employees who live in
    the municipality) not above its residents but for a few rows of another year: for
    the Lage's daytime population and the commuter indicators alike."""
    top = defaults.MAX_COMMUTERS
    bad = ok & ~((inc >= 0) & (inc <= top) & (out >= 0) & (out <= top))
    if bad.any():
        raise InputError(f"{int(bad.sum())} municipalities have implausible commuter counts "
                         f"(first: {show(ags[bad])}): in- and out-commuters lie between 0 and "
                         f"{top:,}; check the columns and their unit")
    above = ok & (out > residents)
    if above.sum() > max(1, 0.01 * ok.sum()):
        raise InputError(f"{int(above.sum())} of {int(ok.sum())} municipalities have more "
                         f"out-commuters than residents (first: {show(ags[above])}): the "
                         "commuter table does not fit the municipalities (another unit, "
                         "region or year); out-commuters are residents who work elsewhere")


def check_box(box, what: str) -> None:
    """A lon/lat box ``[lon_min, lat_min, lon_max, lat_max]`` (or empty: none) with
    min < max; ``what`` names it in the message (e.g. "[region] bbox")."""
    b = list(box or ())
    ok = len(b) == 0 or (len(b) == 4 and all(np.isfinite(np.asarray(b, dtype=float)))
                         and b[0] < b[2] and b[1] < b[3])
    if not ok:
        raise InputError(f"{what} must be [lon_min, lat_min, lon_max, lat_max] in degrees "
                         f"with min < max, got {b!r}.")


def file_problem(path, *, folder_ok: bool = False) -> str | None:
    """What keeps ``path`` from being read as an input, in words (None: nothing): a
    missing file, a link to a missing file, a folder (unless ``folder_ok``: a GTFS
    folder, a FileGDB), a FIFO or device (reading it would wait forever) or a file
    without read permission. Checked before any work, by the readers and the run alike."""
    import os
    import stat
    from pathlib import Path

    p = Path(path).expanduser()
    if p.is_symlink() and not p.exists():
        return f"{p} is a link to a missing file ({os.readlink(p)})"
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        return f"{p} does not exist"
    except OSError as e:  # a folder on the way without search permission
        return f"{p} cannot be reached ({e.strerror}: permission denied on a folder of its path)"
    if stat.S_ISDIR(mode):
        if not folder_ok:
            return f"{p} is a folder (directory), not a file"
    elif not stat.S_ISREG(mode):
        return f"{p} is not a regular file (a FIFO, socket or device): pass a file"
    if not os.access(p, os.R_OK | (os.X_OK if stat.S_ISDIR(mode) else 0)):
        return f"{p} is not readable (permission denied): check its permissions (chmod)"
    return None


def check_thresholds(t, where: str) -> None:
    """The Lage's three class limits: positive, finite and increasing (daytime
    residents reached; BBSR 81,000 / 183,000 / 410,000)."""
    t = list(t)
    if len(t) != 3 or not all(isinstance(x, (int, float, np.number)) and np.isfinite(x)
                              and x > 0 for x in t):
        raise InputError(f"{where}: [lage] thresholds must be three positive numbers of "
                         f"daytime residents (BBSR: 81000, 183000, 410000), got {t!r}.")
    if t != sorted(t) or len(set(t)) != 3:
        raise InputError(f"{where}: [lage] thresholds must be three increasing numbers "
                         f"(sehr peripher / peripher / zentral / sehr zentral limits), "
                         f"got {t!r}.")
