"""Straight-line distance to the nearest facility with water barriers and bridge gaps."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from .._errors import InputError
from ..defaults import GRID_CRS, WALK_MAX_DISTANCE_M

logger = logging.getLogger(__name__)

#: Gap geometries (bridges, underpasses) are buffered by this many metres and cut out of
#: the barriers, so a straight line that passes over a bridge is not blocked.
GAP_BUFFER_M = 5.0
#: Barrier pieces are at most about this long (lines) / wide (polygon tiles), so the
#: STRtree envelope test is selective (a whole river would have a huge envelope).
PIECE_M = 250.0
#: Straight segments are tested against the barrier tree in batches of this many.
_BATCH = 500_000


@dataclass(frozen=True)
class _Gaps:
    """Gap end points: entry ``a[i]`` joins exit ``b[i]`` over a crossing of ``length[i]``."""

    a: np.ndarray
    b: np.ndarray
    length: np.ndarray


def _as_xy(values, name: str) -> np.ndarray:
    """Return ``values`` as a finite float64 array of shape (n, 2)."""
    arr = np.asarray(values, dtype="float64")
    if arr.size == 0:
        return np.empty((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError(f"{name} must be an array of shape (n, 2) with x/y in metres "
                         f"(EPSG:3035); got shape {arr.shape}.")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise InputError(f"{name} has {int(bad.sum())} rows with NaN or infinite "
                         f"coordinates (first at row {int(np.flatnonzero(bad)[0])}); "
                         "drop these rows before computing distances.")
    return arr


def _as_geoms(values, name: str) -> np.ndarray:
    """Return the non-empty parts of ``values`` (geometries or a GeoSeries) as an array."""
    if values is None:
        return np.empty(0, dtype=object)
    if hasattr(values, "geometry") and hasattr(values, "crs"):   # GeoDataFrame/GeoSeries
        crs = values.crs
        if crs is not None and not crs.equals(GRID_CRS):
            values = values.to_crs(GRID_CRS)
        values = values.geometry.to_numpy() if hasattr(values, "geometry") else values
    elif isinstance(values, shapely.Geometry):
        values = [values]
    geoms = np.asarray(list(values) if not isinstance(values, np.ndarray) else values,
                       dtype=object)
    if geoms.size and not all(isinstance(g, shapely.Geometry) or g is None for g in geoms):
        raise InputError(f"{name} must be shapely geometries (or a GeoSeries) in "
                         "EPSG:3035 metres.")
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    return shapely.get_parts(geoms) if geoms.size else geoms


def _line_pieces(lines: np.ndarray, piece_m: float) -> np.ndarray:
    """Cut lines into consecutive pieces of roughly ``piece_m`` metres (vectorised)."""
    if lines.size == 0:
        return lines
    lines = shapely.segmentize(lines, piece_m)
    coords, li = shapely.get_coordinates(lines, return_index=True)
    start = np.flatnonzero(li[1:] == li[:-1])          # vertex index of each segment start
    if start.size == 0:
        return np.empty(0, dtype=object)
    seg_line = li[start]
    seglen = np.hypot(*(coords[start + 1] - coords[start]).T)
    cum = np.cumsum(seglen)
    # running length at each segment start, restarted at every line
    first = np.r_[True, seg_line[1:] != seg_line[:-1]]
    offset = np.maximum.accumulate(np.where(first, cum - seglen, 0.0))
    piece = np.floor((cum - seglen - offset) / piece_m).astype(np.int64)
    newgroup = first | np.r_[True, piece[1:] != piece[:-1]]
    group = np.cumsum(newgroup) - 1
    last = np.r_[newgroup[1:], True]                   # last segment of each group
    vidx = np.concatenate([start, start[last] + 1])
    vgrp = np.concatenate([group, group[last]])
    order = np.lexsort((vidx, vgrp))
    return shapely.linestrings(coords[vidx[order]], indices=vgrp[order])


def _polygon_pieces(polys: np.ndarray, piece_m: float) -> np.ndarray:
    """Clip polygons larger than ``piece_m`` to a ``piece_m`` tile grid."""
    if polys.size == 0:
        return polys
    b = shapely.bounds(polys)
    big = (b[:, 2] - b[:, 0] > piece_m) | (b[:, 3] - b[:, 1] > piece_m)
    out = [polys[~big]]
    for poly, (x0, y0, x1, y1) in zip(polys[big], b[big]):
        xs = np.arange(np.floor(x0 / piece_m), np.ceil(x1 / piece_m)) * piece_m
        ys = np.arange(np.floor(y0 / piece_m), np.ceil(y1 / piece_m)) * piece_m
        gx, gy = np.meshgrid(xs, ys)
        tiles = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + piece_m, gy.ravel() + piece_m)
        shapely.prepare(poly)
        tiles = tiles[shapely.intersects(poly, tiles)]
        parts = shapely.intersection(poly, tiles)
        out.append(parts[~shapely.is_empty(parts)])
    return np.concatenate(out)


def _barrier_pieces(barriers: np.ndarray, gap_parts: np.ndarray, piece_m: float,
                    gap_buffer_m: float) -> np.ndarray:
    """Split barriers into small pieces and cut the buffered gaps out of them."""
    if barriers.size == 0:
        return barriers
    dim = shapely.get_dimensions(barriers)
    if (dim == 0).any():
        logger.warning("ignoring %d point barriers: a point cannot block a line",
                       int((dim == 0).sum()))
    lines = barriers[dim == 1]
    polys = barriers[dim == 2]
    pieces = np.concatenate([_line_pieces(lines, piece_m), _polygon_pieces(polys, piece_m)])
    if gap_parts.size and pieces.size:
        holes = shapely.buffer(gap_parts, gap_buffer_m)
        hit_piece, hit_gap = shapely.STRtree(holes).query(pieces, predicate="intersects")
        if hit_piece.size:
            order = np.argsort(hit_piece, kind="stable")
            hit_piece, hit_gap = hit_piece[order], hit_gap[order]
            uniq, first = np.unique(hit_piece, return_index=True)
            cut = pieces[uniq]
            for i, g in enumerate(np.split(hit_gap, first[1:])):
                cut[i] = shapely.difference(
                    cut[i], holes[g[0]] if len(g) == 1 else shapely.union_all(holes[g]))
            pieces = pieces.copy()
            pieces[uniq] = cut
            logger.debug("cut %d gaps out of %d barrier pieces", len(gap_parts), len(uniq))
    return pieces[~shapely.is_empty(pieces)]


def _gap_ends(gap_parts: np.ndarray) -> _Gaps:
    """Entry/exit points of each gap, both directions.

    A line gap (bridge, underpass) is crossed from its first to its last vertex (and
    back); a point or polygon gap is a single representative point crossed in zero
    metres. The end points of a bridge lie on the banks, so the legs to them do not
    have to cross the water (a bridge mid point would sit inside a river polygon).
    """
    if gap_parts.size == 0:
        z = np.empty((0, 2))
        return _Gaps(z, z, np.empty(0))
    dim = shapely.get_dimensions(gap_parts)
    is_line = dim == 1
    p = shapely.get_coordinates(shapely.point_on_surface(gap_parts[~is_line]))
    lines = gap_parts[is_line]
    s = shapely.get_coordinates(shapely.get_point(lines, 0))
    e = shapely.get_coordinates(shapely.get_point(lines, -1))
    length = shapely.length(lines)
    a = np.concatenate([s, e, p])
    b = np.concatenate([e, s, p])
    return _Gaps(a, b, np.concatenate([length, length, np.zeros(len(p))]))


def _blocked(tree: shapely.STRtree | None, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """True where the straight segment start->end intersects any barrier piece."""
    out = np.zeros(len(start), dtype=bool)
    if tree is None or len(start) == 0:
        return out
    for i in range(0, len(start), _BATCH):
        s, e = start[i:i + _BATCH], end[i:i + _BATCH]
        seg = shapely.linestrings(np.stack([s, e], axis=1))
        hit = tree.query(seg, predicate="intersects")[0]
        out[i + hit] = True
    return out


def _nearest_unblocked(points: np.ndarray, cand_d: np.ndarray, cand_i: np.ndarray,
                       facilities: np.ndarray, tree: shapely.STRtree | None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First candidate (in distance order) whose straight line is not blocked.

    Returns the distance (NaN if none), the facility index (-1) and whether the nearest
    candidate was blocked. Candidates are tested rank by rank, only for the points not
    yet resolved, so most points cost one segment test.
    """
    n, k = cand_d.shape
    dist = np.full(n, np.nan)
    idx = np.full(n, -1, dtype=np.int64)
    first_blocked = np.zeros(n, dtype=bool)
    todo = np.flatnonzero(np.isfinite(cand_d[:, 0]))
    for r in range(k):
        todo = todo[np.isfinite(cand_d[todo, r])]
        if todo.size == 0:
            break
        fac = cand_i[todo, r]
        blocked = _blocked(tree, points[todo], facilities[fac])
        if r == 0:
            first_blocked[todo] = blocked
        ok = todo[~blocked]
        dist[ok] = cand_d[ok, r]
        idx[ok] = cand_i[ok, r]
        todo = todo[blocked]
    return dist, idx, first_blocked


def _knn(tree: cKDTree, points: np.ndarray, k: int, max_distance_m: float
         ) -> tuple[np.ndarray, np.ndarray]:
    """k nearest within ``max_distance_m`` as 2-D arrays (inf / -1 where missing)."""
    d, i = tree.query(points, k=k, distance_upper_bound=max_distance_m)
    d = np.asarray(d, dtype="float64").reshape(len(points), k)
    i = np.asarray(i, dtype=np.int64).reshape(len(points), k)
    i[~np.isfinite(d)] = -1
    return d, i


def nearest_straight(cells_xy, facilities_xy, barriers: Iterable | None = None,
                     gaps: Iterable | None = None, *,
                     max_distance_m: float = WALK_MAX_DISTANCE_M,
                     k: int = 16, piece_m: float = PIECE_M,
                     gap_buffer_m: float = GAP_BUFFER_M
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Straight-line distance from each cell to the nearest facility, with barriers.

    The BBSR Nahversorgung distance: the straight line from the cell centre to a
    facility must not cross a water barrier (river line, lake/riverbank polygon);
    road bridges and underpasses are gaps in the barriers. Where the nearest facility
    is blocked, the distance is the shorter of (a) the straight line to the nearest
    unblocked facility among the ``k`` nearest and (b) the detour over the best gap:
    ``|cell - a| + len(gap) + |b - facility|`` with both legs unblocked, where ``a``
    and ``b`` are the end points of a bridge/underpass line (entered from either
    end; a point or polygon gap is one representative point, crossed in 0 m).

    Parameters
    ----------
    cells_xy : array_like, shape (n, 2)
        Cell centres in EPSG:3035 metres.
    facilities_xy : array_like, shape (m, 2)
        Facility locations in EPSG:3035 metres.
    barriers : iterable of shapely.Geometry or GeoSeries, optional
        Water lines and polygons (EPSG:3035; a GeoSeries/GeoDataFrame with a CRS is
        reprojected). A segment that intersects a barrier (touching included) is
        blocked; a cell or facility inside a water polygon is therefore blocked from
        everything except over a gap.
    gaps : iterable of shapely.Geometry or GeoSeries, optional
        Bridge / underpass lines (or points) in EPSG:3035. Each is buffered by
        ``gap_buffer_m`` and cut out of the barriers, so a straight line passing over
        a bridge is unblocked.
    max_distance_m : float
        Facilities farther than this (straight, or the whole detour) are not found.
    k : int
        Number of nearest facilities (and of nearest gap ends for the detour) tested
        per cell. If all ``k`` are blocked and no gap detour is found, the cell gets
        NaN even if a farther facility would be reachable.
    piece_m : float
        Barriers are cut into pieces of about this size (lines: consecutive pieces of
        about ``piece_m`` metres; polygons: clipped to a ``piece_m`` tile grid) so the
        STRtree only returns the pieces near a segment.
    gap_buffer_m : float
        Half width of the opening a gap cuts into the barriers.

    Returns
    -------
    dist : numpy.ndarray of float, shape (n,)
        Distance in metres; NaN where no facility is found within ``max_distance_m``.
    facility_index : numpy.ndarray of int64, shape (n,)
        Row of ``facilities_xy`` reached; -1 where none.
    blocked_direct : numpy.ndarray of bool, shape (n,)
        True where the straight line to the plain nearest facility is blocked.

    Raises
    ------
    InputError
        Arrays not of shape (n, 2), NaN/infinite coordinates, geometries that are not
        shapely geometries, or non-positive ``max_distance_m`` / ``k``.

    Notes
    -----
    Empty ``cells_xy`` gives empty arrays; empty ``facilities_xy`` gives NaN / -1 for
    every cell. Only one gap is used per path (no chains of bridges). Segments are
    built with :func:`shapely.linestrings` and tested in bulk with
    ``STRtree.query(segments, predicate="intersects")``.
    """
    cells = _as_xy(cells_xy, "cells_xy")
    fac = _as_xy(facilities_xy, "facilities_xy")
    if not (np.isfinite(max_distance_m) and max_distance_m > 0):
        raise InputError(f"max_distance_m must be a positive number of metres; got "
                         f"{max_distance_m!r}.")
    if int(k) < 1:
        raise InputError(f"k must be at least 1; got {k!r}.")
    if not piece_m > 0 or not gap_buffer_m >= 0:
        raise InputError("piece_m must be > 0 and gap_buffer_m >= 0 (metres).")
    n = len(cells)
    dist = np.full(n, np.nan)
    idx = np.full(n, -1, dtype=np.int64)
    blocked_direct = np.zeros(n, dtype=bool)
    if n == 0 or len(fac) == 0:
        return dist, idx, blocked_direct
    k = int(min(k, len(fac)))

    gap_parts = _as_geoms(gaps, "gaps")
    pieces = _barrier_pieces(_as_geoms(barriers, "barriers"), gap_parts, piece_m,
                             gap_buffer_m)
    btree = shapely.STRtree(pieces) if pieces.size else None
    ftree = cKDTree(fac)
    # without barriers the plain nearest facility is the answer: one neighbour suffices
    cand_d, cand_i = _knn(ftree, cells, k if btree is not None else 1, max_distance_m)
    if btree is None:
        ok = np.isfinite(cand_d[:, 0])
        dist[ok], idx[ok] = cand_d[ok, 0], cand_i[ok, 0]
        return dist, idx, blocked_direct

    dist, idx, blocked_direct = _nearest_unblocked(cells, cand_d, cand_i, fac, btree)
    logger.info("barriers: %d pieces; nearest facility blocked for %d of %d cells",
                len(pieces), int(blocked_direct.sum()), n)

    ends = _gap_ends(gap_parts)
    need = np.flatnonzero(blocked_direct)
    if need.size and len(ends.a):
        # best unblocked facility from each gap exit
        ed, ei = _knn(ftree, ends.b, k, max_distance_m)
        exit_d, exit_i, _ = _nearest_unblocked(ends.b, ed, ei, fac, btree)
        # a gap whose crossing plus onward walk exceeds the limit can never serve; left
        # in, such gaps crowd the k nearest out, and a tile (which sees facilities
        # within 2 x the limit only) would see a different k than the whole area
        usable = np.flatnonzero(np.isfinite(exit_d) & (ends.length + exit_d <= max_distance_m))
        if usable.size:
            kg = int(min(k, usable.size))
            gtree = cKDTree(ends.a[usable])
            gd, gi = _knn(gtree, cells[need], kg, max_distance_m)
            row, col = np.nonzero(np.isfinite(gd))
            g = usable[gi[row, col]]
            total = gd[row, col] + ends.length[g] + exit_d[g]
            direct = dist[need[row]]
            keep = np.where(np.isnan(direct), total <= max_distance_m, total < direct)
            row, g, total = row[keep], g[keep], total[keep]
            ok = ~_blocked(btree, cells[need[row]], ends.a[g])
            row, g, total = row[ok], g[ok], total[ok]
            order = np.lexsort((total, row))
            row, g, total = row[order], g[order], total[order]
            first = np.r_[True, row[1:] != row[:-1]] if row.size else row.astype(bool)
            c = need[row[first]]
            dist[c] = total[first]
            idx[c] = exit_i[g[first]]
            logger.info("gap detours used for %d cells", int(first.sum()))
    return dist, idx, blocked_direct
