"""Numba kernel of the grid isochrones: one bounded search from a centre and the time
field it leaves on a square grid (arrays in, arrays out).

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

from .kernels import _bounded_search


@njit(cache=True, nogil=True)
def _splat(grid, ix0, iy0, cell, limits, px, py, t, cap, speed):
    """Lower, per limit ``L`` (band ``b``), the cells near ``(px, py)`` to the signed
    distance ``d - r`` from the disc of radius ``r = min(cap, speed (L - t))``;
    cells up to 1.5 cells beyond the disc get their (positive) value too, so that
    the contour at 0 is interpolated between true values. Bands where the disc of
    the band below already has the full ``cap`` are left out (:func:`reach_grid`
    carries the band below up).

    ``d = hypot(...)`` is taken only where it can change the cell: squared
    distances (with a margin of 1e-9 for the rounding of ``hypot``) rule out cells
    beyond the reach or farther than a disc already found, so the field is the
    same, to the bit, as taking it everywhere (``tests/test_isochrone_grid.py``
    checks against that reference)."""
    nb, ny, nx = grid.shape
    ci = int(np.floor(px / cell)) - ix0
    cj = int(np.floor(py / cell)) - iy0
    for b in range(nb):
        if limits[b] < t or (b > 0 and speed * (limits[b - 1] - t) >= cap):
            continue  # not reached; or capped in the band below, which carries it up
        r = min(cap, speed * (limits[b] - t))
        reach = r + 1.5 * cell
        k = int(np.ceil(reach / cell))
        reach2 = reach * reach * (1.0 + 1e-9)
        for j in range(max(cj - k, 0), min(cj + k + 1, ny)):
            yc = (iy0 + j + 0.5) * cell
            dy2 = (yc - py) * (yc - py)
            if dy2 > reach2:
                continue
            half = np.sqrt(reach2 - dy2) / cell  # the row's chord of the disc, in cells
            ia = max(ci - k, 0, int(np.floor(px / cell - half - 0.5)) - ix0)
            ib = min(ci + k + 1, nx, int(np.floor(px / cell + half - 0.5)) - ix0 + 2)
            for i in range(ia, ib):
                xc = (ix0 + i + 0.5) * cell
                s2 = (xc - px) * (xc - px) + dy2
                if s2 > reach2:
                    continue
                g = grid[b, j, i]
                room = g + r  # d must be below it to lower the cell
                if room <= 0.0 or s2 > room * room * (1.0 + 1e-9):
                    continue
                d = np.hypot(xc - px, yc - py)
                if d <= reach and d - r < g:
                    grid[b, j, i] = d - r


@njit(cache=True, nogil=True)
def _leg(grid, ix0, iy0, cell, limits, xa, ya, ta, xb, yb, tb, cap, speed, first):
    """Points every cell from ``a`` (time ``ta``) to ``b`` (``tb``), times
    interpolated, up to the largest limit; from the ``first`` (0: ``a`` included;
    1: ``a`` is a node, splatted once on its own rather than once per edge out of
    it, the same values), ``b`` not."""
    n = max(1, int(np.ceil(np.hypot(xb - xa, yb - ya) / cell)))
    for s in range(first, n):
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
    _leg(grid, ix0, iy0, cell, limits, cx, cy, 0.0, x[origin], y[origin], d0, cap, speed, 0)
    for q in range(ns):
        times[q] = dist[settled[q]]
    # in node order, not settle order: graphs are stored in Hilbert order, so that
    # neighbouring splats touch the same cache lines (the minimum is the same)
    for u in np.sort(settled[:ns]):
        tu = dist[u]
        _splat(grid, ix0, iy0, cell, limits, x[u], y[u], tu, cap, speed)
        for e in range(offsets[u], offsets[u + 1]):
            v = targets[e]
            _leg(grid, ix0, iy0, cell, limits, x[u], y[u], tu, x[v], y[v], tu + weights[e],
                 cap, speed, 1)
    for q in range(ns):
        dist[settled[q]] = np.inf
    # A point capped in band b - 1 leaves band b the same values; every other value of
    # band b - 1 is above the same point's in band b (its disc only grows): so band b
    # is its own points' minimum with band b - 1's, the same field to the bit.
    for b in range(1, limits.size):
        for j in range(ny):
            for i in range(nx):
                if grid[b - 1, j, i] < grid[b, j, i]:
                    grid[b, j, i] = grid[b - 1, j, i]
    return grid, ix0, iy0, times
