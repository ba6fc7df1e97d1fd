"""A 100 m residents grid: disaggregating coarse cells or municipalities by building area."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from .._errors import InputError
from ..defaults import GRID_CRS, WGS84

logger = logging.getLogger(__name__)

#: Split the polygon/cell intersections into batches of this many pairs.
_BATCH = 1_000_000


def _to_3035(gdf, what: str):
    """Reproject a GeoDataFrame / GeoSeries to EPSG:3035 (its CRS must be set)."""
    if not hasattr(gdf, "crs") or not hasattr(gdf, "geometry"):
        raise InputError(f"{what} must be a GeoDataFrame or GeoSeries; got "
                         f"{type(gdf).__name__}.")
    if gdf.crs is None:
        raise InputError(f"{what} has no CRS; set it (e.g. gdf.set_crs('EPSG:4326')) "
                         "so it can be reprojected to EPSG:3035.")
    return gdf if gdf.crs.equals(GRID_CRS) else gdf.to_crs(GRID_CRS)


def _polygons(gdf, what: str, *, residential_only: bool) -> np.ndarray:
    """Valid polygon parts of ``gdf`` in EPSG:3035 (optionally only ``residential``)."""
    if gdf is None:
        return np.empty(0, dtype=object)
    if residential_only:
        if "residential" not in getattr(gdf, "columns", ()):
            raise InputError(f"{what} has no 'residential' column; add a boolean column "
                             "(True for buildings people live in), e.g. from "
                             "accessibility.io.osm_features.extract_features(...).buildings.")
        gdf = gdf[gdf["residential"].fillna(False).astype(bool).to_numpy()]
    if len(gdf) == 0:
        return np.empty(0, dtype=object)
    geoms = _to_3035(gdf, what).geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    parts = shapely.get_parts(geoms)
    poly = parts[shapely.get_dimensions(parts) == 2]
    if len(poly) < len(parts):
        logger.debug("%s: ignored %d point/line parts", what, len(parts) - len(poly))
    return poly


def _area_per_cell(polys: np.ndarray, size: float, keep=None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area of ``polys`` in each ``size`` grid cell as (ix, iy, area), area > 0.

    A polygon inside one cell (most buildings) adds its area without any geometry
    operation; the others are intersected with the cell boxes their bounds cover.
    ``keep(ix, iy) -> bool array`` drops cells before they are intersected.
    """
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    if polys.size == 0:
        return empty
    b = shapely.bounds(polys)
    ix0, iy0 = np.floor(b[:, 0] / size).astype(np.int64), np.floor(b[:, 1] / size).astype(np.int64)
    ix1, iy1 = np.floor(b[:, 2] / size).astype(np.int64), np.floor(b[:, 3] / size).astype(np.int64)
    nx, ny = ix1 - ix0 + 1, iy1 - iy0 + 1
    one = (nx == 1) & (ny == 1)
    out_ix, out_iy, out_a = [ix0[one]], [iy0[one]], [shapely.area(polys[one])]
    if keep is not None:
        k = keep(ix0[one], iy0[one])
        out_ix[0], out_iy[0], out_a[0] = ix0[one][k], iy0[one][k], out_a[0][k]
    multi = np.flatnonzero(~one)
    if multi.size:
        count = nx[multi] * ny[multi]
        rep = np.repeat(multi, count)
        j = np.arange(rep.size) - np.repeat(np.cumsum(count) - count, count)
        cx = ix0[rep] + j % nx[rep]
        cy = iy0[rep] + j // nx[rep]
        if keep is not None:
            k = keep(cx, cy)
            rep, cx, cy = rep[k], cx[k], cy[k]
        for s in range(0, rep.size, _BATCH):
            sl = slice(s, s + _BATCH)
            boxes = shapely.box(cx[sl] * size, cy[sl] * size, (cx[sl] + 1) * size,
                                (cy[sl] + 1) * size)
            a = shapely.area(shapely.intersection(polys[rep[sl]], boxes))
            out_ix.append(cx[sl])
            out_iy.append(cy[sl])
            out_a.append(a)
    ix, iy, area = np.concatenate(out_ix), np.concatenate(out_iy), np.concatenate(out_a)
    pos = area > 0
    if not pos.any():
        return empty
    agg = (pd.DataFrame({"ix": ix[pos], "iy": iy[pos], "a": area[pos]})
           .groupby(["ix", "iy"], sort=False)["a"].sum())
    return (agg.index.get_level_values(0).to_numpy(np.int64),
            agg.index.get_level_values(1).to_numpy(np.int64), agg.to_numpy())


def _key(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """One int64 key per integer cell position (EPSG:3035 grids fit in 2**31)."""
    return (ix.astype(np.int64) << 32) + iy.astype(np.int64)


def _cell_table(source_cells) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y, population of ``source_cells`` (validated)."""
    if not isinstance(source_cells, pd.DataFrame):
        raise InputError("source_cells must be a DataFrame with columns x, y (EPSG:3035 "
                         f"cell centres) and population; got {type(source_cells).__name__}.")
    missing = [c for c in ("x", "y", "population") if c not in source_cells.columns]
    if missing:
        raise InputError(f"source_cells lacks column(s) {missing}; it needs x, y (EPSG:3035 "
                         "cell centres, as read by accessibility.io.read_population_grid) "
                         "and population.")
    x = source_cells["x"].to_numpy(dtype="float64")
    y = source_cells["y"].to_numpy(dtype="float64")
    pop = source_cells["population"].to_numpy(dtype="float64")
    bad = ~(np.isfinite(x) & np.isfinite(y) & np.isfinite(pop))
    if bad.any():
        raise InputError(f"source_cells has {int(bad.sum())} rows with NaN/infinite x, y or "
                         f"population (first at row {int(np.flatnonzero(bad)[0])}); drop "
                         "or fill them.")
    return x, y, pop


def cell_size(cells: pd.DataFrame) -> float | None:
    """The edge (m) of a grid's cells: its ``cell_size_m`` column when that holds one
    value (as :func:`accessibility.io.read_population_grid` and :func:`disaggregate`
    give it), else None."""
    if "cell_size_m" not in cells.columns:
        return None
    sizes = pd.unique(pd.to_numeric(cells["cell_size_m"], errors="coerce").dropna())
    return float(sizes[0]) if len(sizes) == 1 else None


def _infer_size(x: np.ndarray, y: np.ndarray) -> float | None:
    """Smallest positive spacing of the cell centres."""
    steps = np.concatenate([np.diff(np.unique(x)), np.diff(np.unique(y))])
    steps = steps[steps > 1e-6]
    return float(steps.min()) if steps.size else None


def _spread(src: np.ndarray, pop: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``pop[src] * w / sum(w per src)``: the weights normalised within each source."""
    total = np.bincount(src, weights=w, minlength=len(pop))
    return pop[src] * (w / total[src])


def _frame(ix, iy, value, src, size: float, extra: dict | None = None) -> pd.DataFrame:
    """Output table sorted by source, then row (y), then column (x)."""
    key = _key(iy, ix)
    if src.size > 1 and ((np.diff(src) < 0).any() or ((np.diff(src) == 0)
                                                      & (np.diff(key) < 0)).any()):
        order = np.lexsort((key, src))
        ix, iy, value, src = ix[order], iy[order], value[order], src[order]
    out = pd.DataFrame({"x": (ix + 0.5) * size, "y": (iy + 0.5) * size,
                        "population": value, "source": src}, copy=False)
    for name, col in (extra or {}).items():
        out[name] = np.asarray(col)[src]
    out["cell_size_m"] = float(size)
    return out


def disaggregate(source_cells: pd.DataFrame, buildings=None, residential_areas=None, *,
                 source_size_m: float | None = None, target_size_m: float = 100.0
                 ) -> pd.DataFrame:
    """Spread the residents of coarse grid cells over their 100 m sub-cells.

    Each source cell's population goes to its sub-cells in proportion to the
    footprint area of residential buildings in each sub-cell; a source cell without
    residential buildings uses the area of residential landuse polygons instead, and
    one with neither spreads uniformly over all its sub-cells.

    Parameters
    ----------
    source_cells : pandas.DataFrame
        ``x``, ``y`` (cell centres, EPSG:3035 metres) and ``population``, e.g. from
        :func:`accessibility.io.read_population_grid` on the Census 1 km grid.
    buildings : geopandas.GeoDataFrame, optional
        Building polygons (any CRS, set) with a boolean ``residential`` column; only
        residential ones are used.
    residential_areas : geopandas.GeoDataFrame or GeoSeries, optional
        Residential landuse polygons (any CRS, set).
    source_size_m : float, optional
        Source cell size; default the ``cell_size_m`` column of ``source_cells`` or
        the smallest spacing of the centres (give it for 1 km cells that all lie
        apart).
    target_size_m : float
        Sub-cell size; must divide the source size. The sub-cells are aligned to the
        INSPIRE grid of that size (lower-left corners at multiples of it).

    Returns
    -------
    pandas.DataFrame
        ``x``, ``y`` (sub-cell centres, EPSG:3035, e.g. ...50 m for 100 m),
        ``population`` (float), ``source`` (row position in ``source_cells``) and
        ``cell_size_m`` (``target_size_m``). Only sub-cells with residents; sources with population <= 0 give no rows.
        Per source the populations sum to the source population (to rounding).

    Raises
    ------
    InputError
        Missing columns, NaN values, a size that cannot be inferred or is not a
        multiple of ``target_size_m``, cells not aligned to the target grid, or
        geometries without CRS / ``residential`` column.
    """
    x, y, pop = _cell_table(source_cells)
    T = float(target_size_m)
    if not T > 0:
        raise InputError(f"target_size_m must be > 0; got {target_size_m!r}.")
    S = source_size_m or cell_size(source_cells) or _infer_size(x, y)
    if S is None:
        raise InputError("cannot infer the source cell size from a single cell; pass "
                         "source_size_m (1000 for the Census 1 km grid).")
    S = float(S)
    r = round(S / T)
    if r < 1 or abs(r * T - S) > 1e-6:
        raise InputError(f"source cell size {S:g} m is not a multiple of target_size_m "
                         f"{T:g} m; pass source_size_m / target_size_m that divide.")
    live = np.flatnonzero(pop > 0)
    ll_x, ll_y = (x[live] - S / 2) / T, (y[live] - S / 2) / T
    cx, cy = np.round(ll_x).astype(np.int64), np.round(ll_y).astype(np.int64)
    off = np.abs(np.r_[ll_x - cx, ll_y - cy]).max(initial=0.0)
    if off > 1e-6:
        raise InputError(f"source cells are not aligned to the {T:g} m grid: their lower-left "
                         f"corners (centre - {S / 2:g} m) must be multiples of {T:g} m in "
                         "EPSG:3035 (Census cells are). Check the CRS and source_size_m.")
    ox, oy = (cx % r), (cy % r)
    if live.size and ((ox != ox[0]).any() or (oy != oy[0]).any()):
        raise InputError(f"source cells do not lie on one {S:g} m grid (their corners are "
                         f"offset by other than multiples of {S:g} m); check source_size_m.")
    keys = pd.Index(_key(cx, cy))
    if keys.has_duplicates:
        raise InputError("source_cells has duplicate cells (same x/y); aggregate them first.")
    ox0, oy0 = (int(ox[0]), int(oy[0])) if live.size else (0, 0)

    def source_of(ix, iy):
        return keys.get_indexer(_key((ix - ox0) // r * r + ox0, (iy - oy0) // r * r + oy0))

    parts_ix, parts_iy, parts_v, parts_s = [], [], [], []
    done = np.zeros(live.size, dtype=bool)
    for what, geoms in (("buildings", _polygons(buildings, "buildings",
                                                residential_only=True)),
                        ("residential_areas", _polygons(residential_areas,
                                                        "residential_areas",
                                                        residential_only=False))):
        if geoms.size == 0 or done.all():
            continue

        def keep(ix, iy):
            s = source_of(ix, iy)
            return (s >= 0) & ~done[np.maximum(s, 0)]

        ix, iy, a = _area_per_cell(geoms, T, keep)
        if ix.size == 0:
            continue
        s = source_of(ix, iy)
        parts_ix.append(ix)
        parts_iy.append(iy)
        parts_v.append(_spread(s, pop[live], a))
        parts_s.append(s)
        used = np.unique(s)
        done[used] = True
        logger.info("%s: residents of %d source cells spread by area", what, used.size)

    rest = np.flatnonzero(~done)
    if rest.size:
        j = np.arange(r * r)
        parts_ix.append((cx[rest][:, None] + j % r).ravel())
        parts_iy.append((cy[rest][:, None] + j // r).ravel())
        parts_v.append(np.repeat(pop[live][rest] / (r * r), r * r))
        parts_s.append(np.repeat(rest, r * r))
    if not parts_ix:
        return _frame(*(np.empty(0, np.int64),) * 2, np.empty(0), np.empty(0, np.int64), T)
    src = np.concatenate(parts_s)
    out = _frame(np.concatenate(parts_ix), np.concatenate(parts_iy),
                 np.concatenate(parts_v), live[src], T)
    logger.info("disaggregated %d source cells (%g m) into %d cells of %g m (%d uniform)",
                live.size, S, len(out), T, rest.size)
    return out


def from_municipalities(munis, buildings=None, target_size_m: float = 100.0
                        ) -> pd.DataFrame:
    """Spread each municipality's residents over the 100 m cells of its polygon.

    For where no population grid exists. The cells of a municipality are the
    ``target_size_m`` INSPIRE cells whose centre lies in its polygon (a municipality
    too small to hold a centre gets the cell of a point on its surface). Residents go
    to those cells in proportion to residential building footprint area, or uniformly
    when the municipality has no residential building in its cells.

    Parameters
    ----------
    munis : geopandas.GeoDataFrame
        ``ags``, ``population`` and polygon geometry (any CRS, set).
    buildings : geopandas.GeoDataFrame, optional
        Building polygons with a boolean ``residential`` column.
    target_size_m : float
        Cell size in metres.

    Returns
    -------
    pandas.DataFrame
        ``x``, ``y`` (cell centres, EPSG:3035), ``population``, ``source`` (row
        position in ``munis``), ``ags`` and ``cell_size_m``; populations sum to each municipality's.
        Municipalities with population <= 0 give no rows.

    Raises
    ------
    InputError
        Missing columns or CRS, NaN/negative populations, empty geometries of
        municipalities with residents.
    """
    munis3 = _to_3035(munis, "munis")
    for col in ("ags", "population"):
        if col not in munis3.columns:
            raise InputError(f"munis lacks column {col!r}; it needs ags, population and "
                             "polygon geometry.")
    pop = pd.to_numeric(munis3["population"], errors="coerce").to_numpy(dtype="float64")
    if not np.isfinite(pop).all():
        raise InputError(f"munis has {int((~np.isfinite(pop)).sum())} rows with a missing or "
                         "non-numeric population; fill them (0 if nobody lives there).")
    T = float(target_size_m)
    geoms = munis3.geometry.to_numpy()
    live = np.flatnonzero(pop > 0)
    bad = live[shapely.is_missing(geoms[live]) | shapely.is_empty(geoms[live])]
    if bad.size:
        raise InputError(f"munis: {bad.size} municipalities with residents have no geometry "
                         f"(e.g. ags {munis3['ags'].iloc[bad[0]]}); add their polygons.")
    cell_m, cell_ix, cell_iy = [], [], []
    for m in live:
        g = geoms[m]
        x0, y0, x1, y1 = shapely.bounds(g)
        ix = np.arange(np.floor(x0 / T), np.ceil(x1 / T), dtype=np.int64)
        iy = np.arange(np.floor(y0 / T), np.ceil(y1 / T), dtype=np.int64)
        gx, gy = np.meshgrid(ix, iy)
        gx, gy = gx.ravel(), gy.ravel()
        shapely.prepare(g)
        inside = shapely.contains_xy(g, (gx + 0.5) * T, (gy + 0.5) * T)
        if not inside.any():
            p = shapely.point_on_surface(g)
            gx, gy = np.array([int(np.floor(p.x / T))]), np.array([int(np.floor(p.y / T))])
            inside = np.array([True])
        cell_m.append(np.full(int(inside.sum()), m))
        cell_ix.append(gx[inside])
        cell_iy.append(gy[inside])
    if not cell_m:
        return _frame(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0),
                      np.empty(0, np.int64), T, {"ags": munis3["ags"].to_numpy()})
    m_of = np.concatenate(cell_m)
    ix, iy = np.concatenate(cell_ix), np.concatenate(cell_iy)
    keys = _key(ix, iy)
    w = np.zeros(len(ix))
    polys = _polygons(buildings, "buildings", residential_only=True)
    if polys.size:
        known = pd.Index(np.unique(keys))
        bx, by, ba = _area_per_cell(polys, T, lambda a, b: known.get_indexer(_key(a, b)) >= 0)
        if bx.size:
            pos = pd.Index(_key(bx, by)).get_indexer(keys)
            w = np.where(pos >= 0, ba[np.maximum(pos, 0)], 0.0)
    total = np.bincount(m_of, weights=w, minlength=len(pop))
    uniform = total[m_of] <= 0
    w = np.where(uniform, 1.0, w)
    value = _spread(m_of, pop, w)
    keep = value > 0
    out = _frame(ix[keep], iy[keep], value[keep], m_of[keep], T,
                 {"ags": munis3["ags"].to_numpy()})
    logger.info("spread %d municipalities over %d cells of %g m (%d uniform)", live.size,
                len(out), T, len(np.unique(m_of[uniform])))
    return out


def _xy_of(values, what: str) -> np.ndarray:
    """(n, 2) EPSG:3035 coordinates from a GeoDataFrame, DataFrame or array."""
    if hasattr(values, "crs") and hasattr(values, "geometry"):
        g = _to_3035(values, what).geometry.to_numpy()
        xy = np.full((len(g), 2), np.nan)
        ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
        xy[ok] = shapely.get_coordinates(shapely.point_on_surface(g[ok]))
        return xy
    if isinstance(values, pd.DataFrame):
        if {"x", "y"} <= set(values.columns):
            return values[["x", "y"]].to_numpy(dtype="float64")
        if {"lon", "lat"} <= set(values.columns):
            tr = Transformer.from_crs(WGS84, GRID_CRS, always_xy=True)
            return np.column_stack(tr.transform(values["lon"].to_numpy(dtype="float64"),
                                                values["lat"].to_numpy(dtype="float64")))
        raise InputError(f"{what} needs columns x/y (EPSG:3035) or lon/lat (WGS84); "
                         f"columns found: {list(values.columns)[:20]}.")
    arr = np.asarray(values, dtype="float64")
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError(f"{what} must be (n, 2) EPSG:3035 coordinates; got shape "
                         f"{arr.shape}.")
    return arr


def assign_cells(cells, polygons=None, points=None, max_distance_m: float = 20000.0
                 ) -> np.ndarray:
    """Municipality row for each cell: by polygon, else by nearest reference point.

    Parameters
    ----------
    cells : pandas.DataFrame or array_like
        Cell centres: DataFrame with ``x``/``y`` or an (n, 2) array, EPSG:3035.
    polygons : geopandas.GeoDataFrame, optional
        Municipality polygons (any CRS, set; e.g. with ``ags``). A cell centre inside
        (or on the boundary of) several takes the first row.
    points : geopandas.GeoDataFrame, pandas.DataFrame or array_like, optional
        Municipality reference points: point geometries, ``lon``/``lat`` (WGS84),
        ``x``/``y`` or an (m, 2) array (EPSG:3035). Used for the cells no polygon
        holds; rows without a point are skipped. With both, the rows of ``polygons``
        and ``points`` must be the same municipalities in the same order.
    max_distance_m : float
        Cells farther than this from every reference point stay unassigned.

    Returns
    -------
    numpy.ndarray of int64
        Row position of the municipality, -1 where none.

    Raises
    ------
    InputError
        Neither polygons nor points, tables of different length, bad coordinates.
    """
    if polygons is None and points is None:
        raise InputError("assign_cells needs municipality polygons or reference points.")
    xy = _xy_of(cells, "cells")
    if not np.isfinite(xy).all():
        raise InputError("cells has NaN/infinite coordinates; drop these rows.")
    out = np.full(len(xy), -1, dtype=np.int64)
    if polygons is not None:
        if points is not None and len(points) != len(polygons):
            raise InputError(f"polygons ({len(polygons)} rows) and points ({len(points)} "
                             "rows) must list the same municipalities in the same order.")
        g = _to_3035(polygons, "polygons").geometry.to_numpy()
        if len(g) and len(xy):
            cell_i, poly_i = shapely.STRtree(g).query(shapely.points(xy),
                                                      predicate="intersects")
            first = np.full(len(xy), np.iinfo(np.int64).max)
            np.minimum.at(first, cell_i, poly_i)
            hit = first < np.iinfo(np.int64).max
            out[hit] = first[hit]
    if points is not None:
        pxy = _xy_of(points, "points")
        ok = np.flatnonzero(np.isfinite(pxy).all(axis=1))
        todo = np.flatnonzero(out < 0)
        if ok.size and todo.size:
            d, i = cKDTree(pxy[ok]).query(xy[todo], distance_upper_bound=max_distance_m)
            found = np.isfinite(d)
            out[todo[found]] = ok[i[found]]
    logger.info("assigned %d of %d cells to a municipality", int((out >= 0).sum()), len(out))
    return out
