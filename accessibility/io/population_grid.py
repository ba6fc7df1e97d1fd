"""Readers of gridded population counts (Census 2022 grid cells, a user's 100 m grid)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from pyproj import CRS, Transformer

from .._errors import InputError
from ._tables import (
    PARQUET_SUFFIXES,
    check_file,
    file_suffix,
    find_column,
    read_table,
    require_column,
    show,
    to_number,
)

logger = logging.getLogger(__name__)

__all__ = ["clip_grid", "read_population_grid", "read_user_grid"]

#: Plausible extent of German grid cells in EPSG:3035 (x_min, y_min, x_max, y_max), metres.
GERMANY_BBOX_3035 = (3_900_000.0, 2_600_000.0, 4_750_000.0, 3_600_000.0)
_X_COLUMNS = ("x", "x_mp_1km", "x_mp_100m", "x_mp_10km", "x_mp_250m", "x_mp", "x_3035")
_Y_COLUMNS = ("y", "y_mp_1km", "y_mp_100m", "y_mp_10km", "y_mp_250m", "y_mp", "y_3035")
_GRID_POP_COLUMNS = ("population", "Einwohner", "einwohner", "pop", "insgesamt_bevoelkerung")
_GRID_ID_COLUMNS = ("GITTER_ID_1km", "GITTER_ID_100m", "GITTER_ID_10km", "gitter_id")
_GRID_ID = re.compile(r"RES(\d+)mN(\d+)E(\d+)")
#: Strings a Census download uses for suppressed or absent counts.
_SUPPRESSED = {"-1": np.nan, "–": np.nan, "-": np.nan, "•": np.nan, ".": np.nan}


def _grid_bounds_3035(bbox: tuple[float, float, float, float]) -> tuple[float, ...]:
    tr = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    return tr.transform_bounds(*bbox, densify_pts=21)


def clip_grid(grid: pd.DataFrame, bbox: tuple[float, float, float, float], *,
              name: str | None = None) -> pd.DataFrame:
    """The cells of a grid from :func:`read_population_grid` inside a lon/lat box.

    Parameters
    ----------
    grid : DataFrame
        ``x``, ``y`` (EPSG:3035 cell centres) and ``population``.
    bbox : tuple of float
        ``(lon_min, lat_min, lon_max, lat_max)`` in WGS84.
    name : str, optional
        The grid's file, named in the error message.

    Returns
    -------
    pandas.DataFrame
        The cells inside the box (all columns of ``grid``), index ``0..n-1``.

    Raises
    ------
    InputError
        No inhabited cell lies in the box: the grid covers another region.
    """
    x0, y0, x1, y1 = _grid_bounds_3035(bbox)
    keep = ((grid["x"] >= x0) & (grid["x"] <= x1) & (grid["y"] >= y0) & (grid["y"] <= y1))
    out = grid[keep.to_numpy()].reset_index(drop=True)
    if len(out) == 0 or out["population"].sum() <= 0:
        raise InputError(f"population grid {name or ''} has no inhabited cell "
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
        ``x``, ``y`` (cell centres, EPSG:3035 metres), ``population`` (float) and
        ``cell_size_m`` (the cell's edge, inferred from the spacing of the
        coordinates: 1000 or 100 for the Census grids) of the cells with a count.
        ``.attrs["report"]`` says how many cells were dropped because their count is
        suppressed (-1 in the Parquet, "–" in the CSV downloads).

    Raises
    ------
    InputError
        Missing/unreadable file or columns, negative counts other than -1,
        coordinates that are not EPSG:3035 metres inside Germany.
    """
    what = "population grid"
    p = check_file(path, what)
    suffix = file_suffix(p)
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
        _, df = read_table(p, what)
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
    _check_units(x[~suppressed], y[~suppressed], pop[~suppressed], cell, what, p, pop_col)
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
    # the size belongs to every cell: it survives clipping, merges and files
    out["cell_size_m"] = np.nan if cell is None else float(cell)
    n_sup = int(suppressed.sum())
    out.attrs["report"] = [suppressed_line(n_sup, p)]
    logger.info("read %d grid cells (%s m, %d suppressed dropped, %.0f inhabitants) from %s",
                len(out), cell, n_sup, out["population"].sum(), p)
    return out


def _check_units(x, y, pop, cell, what, p, pop_col) -> None:
    """Counts of whole residents at cell centres: a grid in thousands of residents or
    with the cells' lower-left corners would run silently with wrong numbers."""
    counted = pop[np.isfinite(pop) & (pop > 0)]  # empty cells are whole in any unit
    if counted.size >= 10 and counted.max() < 100:
        fractional = np.mean(np.abs(counted - np.round(counted)) > 1e-9)
        if fractional > 0.5:
            raise InputError(f"{what} {p}: column {pop_col!r} holds fractions below 100 "
                             f"(largest {counted.max():g}) where the Census counts whole "
                             "residents: it looks like thousands of residents. Multiply it by "
                             "1000 (or give the counts).")
    if cell and len(x) >= 10:
        corner = (np.all(np.isclose(np.mod(x, cell), 0) | np.isclose(np.mod(x, cell), cell))
                  and np.all(np.isclose(np.mod(y, cell), 0) | np.isclose(np.mod(y, cell), cell)))
        if corner:
            raise InputError(f"{what} {p}: every coordinate is a multiple of the cell size "
                             f"({cell:g} m): these are the cells' lower-left corners, not their "
                             f"centres (x_mp/y_mp = corner + {cell / 2:g} m). Add {cell / 2:g} m "
                             "to x and y, or give the GITTER_ID column instead.")


def suppressed_line(n_suppressed: int, path) -> str:
    """The report line of a grid's suppressed cells."""
    return (f"{n_suppressed:,} suppressed cell{'' if n_suppressed == 1 else 's'} of {path} "
            "dropped (no count given)")


def read_user_grid(path: str | Path) -> pd.DataFrame:
    """Read a user's 100 m residents grid (Census ``x_mp_100m``/``y_mp_100m``/``Einwohner``).

    Parameters
    ----------
    path : str or Path
        CSV or Parquet with 100 m cell centres in EPSG:3035 (``x``/``y``,
        ``x_mp_100m``/``y_mp_100m`` or ``GITTER_ID_100m``) and a count (``Einwohner``,
        ``population`` or ``pop``); suppressed counts (-1, "–") are dropped and counted
        in ``.attrs["report"]``.

    Returns
    -------
    pandas.DataFrame
        ``x``, ``y``, ``population``, ``cell_size_m`` (100) of the cells with
        residents (> 0).

    Raises
    ------
    InputError
        Unreadable file, missing columns, or a grid that is not 100 m cells aligned
        to the INSPIRE grid (centres at ...50 m).
    """
    df = read_population_grid(path)
    size = df["cell_size_m"].iloc[0] if len(df) else np.nan
    if np.isfinite(size) and len(df) > 1 and abs(float(size) - 100.0) > 1e-6:
        raise InputError(f"population grid {path} has {size:g} m cells, not 100 m; pass it "
                         "to disaggregate(...) to spread it over 100 m cells instead.")
    off = np.r_[(df["x"].to_numpy() - 50.0) % 100.0, (df["y"].to_numpy() - 50.0) % 100.0]
    off = np.minimum(off, 100.0 - off)
    if off.size and off.max() > 1e-3:
        raise InputError(f"population grid {path}: cell centres are not on the 100 m INSPIRE "
                         "grid (EPSG:3035 coordinates ending in 50 m); give cell centres, "
                         "not corners, in EPSG:3035.")
    out = df[df["population"] > 0].reset_index(drop=True)
    out["cell_size_m"] = 100.0
    out.attrs["report"] = list(df.attrs.get("report", []))
    logger.info("user grid %s: %d cells with residents (%s)", path, len(out),
                "; ".join(out.attrs["report"]))
    return out
