"""The grid isochrones as they were before issue 28's speed-up, frozen as the
reference of ``tests/test_isochrone_grid.py`` and the baseline of
:mod:`benchmarks.isochrones`: the same search and field, every cell near a point
taken with ``hypot``, points in settle order, three contours on the whole grid and
the union of each band with the previous one in WGS84.

A point ``p`` is within ``L`` of the centre when some point ``q`` of the network is
reached at ``t_q`` with ``|p - q| <= min(cap, speed (L - t_q))``: the rule of the
network isochrones (:func:`accessibility.models.matrices.isochrones`). Per limit the
kernel keeps the signed distance to that union of discs at the cell centres, with
``q`` the reached nodes, points every cell along the edges out of them (the time
interpolated along the edge, up to the limit) and along the centre's access leg; a
contour at 0 then interpolates the boundary between true distances.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accessibility.routing.kernels import _bounded_search


@njit(cache=True, nogil=True)
def _splat(grid, ix0, iy0, cell, limits, px, py, t, cap, speed):
    """Lower, per limit ``L`` (band ``b``), the cells near ``(px, py)`` to the signed
    distance ``d - r`` from the disc of radius ``r = min(cap, speed (L - t))``;
    cells up to 1.5 cells beyond the disc get their (positive) value too, so that
    the contour at 0 is interpolated between true values."""
    nb, ny, nx = grid.shape
    ci = int(np.floor(px / cell)) - ix0
    cj = int(np.floor(py / cell)) - iy0
    for b in range(nb):
        if limits[b] < t:
            continue
        r = min(cap, speed * (limits[b] - t))
        reach = r + 1.5 * cell
        k = int(np.ceil(reach / cell))
        for j in range(max(cj - k, 0), min(cj + k + 1, ny)):
            yc = (iy0 + j + 0.5) * cell
            for i in range(max(ci - k, 0), min(ci + k + 1, nx)):
                xc = (ix0 + i + 0.5) * cell
                d = np.hypot(xc - px, yc - py)
                if d <= reach and d - r < grid[b, j, i]:
                    grid[b, j, i] = d - r


@njit(cache=True, nogil=True)
def _leg(grid, ix0, iy0, cell, limits, xa, ya, ta, xb, yb, tb, cap, speed):
    """Points every cell from ``a`` (time ``ta``) to ``b`` (``tb``), times
    interpolated, up to the largest limit; ``a`` included, ``b`` not."""
    n = max(1, int(np.ceil(np.hypot(xb - xa, yb - ya) / cell)))
    for s in range(n):
        f = s / n
        t = ta + f * (tb - ta)
        if t > limits[-1]:
            break
        _splat(grid, ix0, iy0, cell, limits, xa + f * (xb - xa), ya + f * (yb - ya), t, cap,
               speed)


@njit(cache=True, nogil=True)
def reach_grid(offsets, targets, weights, x, y, origin, d0, limits, cx, cy, cell, cap, speed,
               dist, hkey, hval, settled):
    """Per limit, the signed distance field of one centre's reach on the grid of
    ``cell`` metres (cell ``(i, j)`` covers ``[i cell, (i + 1) cell) x
    [j cell, (j + 1) cell)``): negative inside.

    ``limits`` ascending (seconds). ``dist`` (n, all ``inf``), ``hkey``, ``hval``
    (m + 1) and ``settled`` (n) are scratch of
    :func:`~accessibility.routing.kernels._bounded_search`; ``dist`` is ``inf``
    again on return. The search starts at ``origin`` with ``d0`` (the access leg from
    the centre point ``(cx, cy)``).

    Returns
    -------
    grid : ndarray (n_limits, ny, nx) of float64
        Metres from the cell centre to the area within the limit (negative inside:
        the least ``|p - q| - min(cap, speed (L - t_q))`` over the reached points;
        ``inf`` far outside).
    ix0, iy0 : int
        Grid index of ``grid[:, 0, 0]``.
    times : ndarray of float64
        Times of the reached nodes.
    """
    limit = limits[-1]
    ns = _bounded_search(offsets, targets, weights, origin, d0, limit, dist, hkey, hval,
                         settled)
    xmin = min(cx, x[origin])
    xmax = max(cx, x[origin])
    ymin = min(cy, y[origin])
    ymax = max(cy, y[origin])
    for q in range(ns):
        u = settled[q]
        xmin = min(xmin, x[u])
        xmax = max(xmax, x[u])
        ymin = min(ymin, y[u])
        ymax = max(ymax, y[u])
        for e in range(offsets[u], offsets[u + 1]):  # edges cut at the limit end nearby
            v = targets[e]
            xmin = min(xmin, x[v])
            xmax = max(xmax, x[v])
            ymin = min(ymin, y[v])
            ymax = max(ymax, y[v])
    pad = cap + 2.0 * cell
    ix0 = int(np.floor((xmin - pad) / cell)) - 1
    iy0 = int(np.floor((ymin - pad) / cell)) - 1
    nx = int(np.floor((xmax + pad) / cell)) + 2 - ix0
    ny = int(np.floor((ymax + pad) / cell)) + 2 - iy0
    grid = np.full((limits.size, ny, nx), np.inf)
    times = np.empty(ns)
    _leg(grid, ix0, iy0, cell, limits, cx, cy, 0.0, x[origin], y[origin], d0, cap, speed)
    for q in range(ns):
        u = settled[q]
        tu = dist[u]
        times[q] = tu
        _splat(grid, ix0, iy0, cell, limits, x[u], y[u], tu, cap, speed)
        for e in range(offsets[u], offsets[u + 1]):
            v = targets[e]
            _leg(grid, ix0, iy0, cell, limits, x[u], y[u], tu, x[v], y[v], tu + weights[e],
                 cap, speed)
    for q in range(ns):
        dist[settled[q]] = np.inf
    return grid, ix0, iy0, times


def reference_time_grid(graph, node: int, offset: float, point, *, limits, cell_m: float,
                        cap_m: float, speed_ms: float, reverse: bool = False):
    """:func:`accessibility.routing.time_grid` with the frozen kernel (fresh scratch
    per call; one thread)."""
    from accessibility.routing.search import _graph_arrays

    g = graph.reversed if reverse else graph
    off, tgt, w = _graph_arrays(g, "time")
    n = off.size - 1
    s = (np.full(n, np.inf), np.empty(tgt.size + 1), np.empty(tgt.size + 1, np.int64),
         np.empty(n, np.int64))
    lim = np.sort(np.asarray(limits, np.float64).ravel())
    return reach_grid(off, tgt, w, np.asarray(graph.x, np.float64),
                      np.asarray(graph.y, np.float64), int(node), float(offset), lim,
                      float(point[0]), float(point[1]), float(cell_m), float(cap_m),
                      float(speed_ms), *s)


def reference_filled(field, ix0: int, iy0: int, cell: float):
    """The filled contour at 0 on the whole grid, as before."""
    import contourpy
    import shapely

    ny, nx = field.shape
    xs = (ix0 + 0.5 + np.arange(nx)) * cell
    ys = (iy0 + 0.5 + np.arange(ny)) * cell
    z = np.where(np.isfinite(field), field, 2.0 * cell)
    gen = contourpy.contour_generator(xs, ys, z, fill_type=contourpy.FillType.OuterOffset,
                                      name="serial")
    points, offsets = gen.filled(-np.inf, 0.0)
    polys = [shapely.Polygon(p[o[0]:o[1]], [p[a:b] for a, b in zip(o[1:-1], o[2:])])
             for p, o in zip(points, offsets)]
    return shapely.union_all(polys) if len(polys) > 1 else (
        polys[0] if polys else shapely.Polygon())


def reference_centre(graph, node: int, offset: float, point, limits, *, cell_m: float,
                     cap_m: float, speed_ms: float, reverse: bool, to_wgs):
    """One centre as before: the nodes reached and the nested WGS84 polygon per limit."""
    import shapely

    grid, ix0, iy0, times = reference_time_grid(graph, node, offset, point, limits=limits,
                                                cell_m=cell_m, cap_m=cap_m,
                                                speed_ms=speed_ms, reverse=reverse)
    out, prev = [], None
    for b, lim in enumerate(limits):
        wgs = shapely.transform(reference_filled(grid[b], ix0, iy0, cell_m), to_wgs)
        prev = wgs if prev is None else shapely.union(wgs, prev)
        out.append((int((times <= lim).sum()), prev))
    return out
