"""Grid isochrones: the default construction of
:func:`accessibility.models.matrices.isochrones` (``method="grid"``), national scale.

The network construction unites one convex hull per edge of a centre's search: exact,
but a 60-minute polygon on a national graph is the union of a few hundred thousand
pieces (about a minute per centre). Here each centre's search leaves, per limit, the
signed distance to the area it reaches at the centres of a square grid
(:func:`accessibility.routing.time_grid`: the least ``|p - q| - min(cap, speed (L -
t_q))`` over the reached network points ``q``, the same rule), and the polygon is
the filled contour of that field at 0 (marching squares, ``contourpy``): the boundary
is interpolated between true distances at the cell centres, so it follows the network
construction's to a fraction of a cell where it is smooth; corners are cut and a
strip or gap narrower than a cell can vanish. Searches, contours and the
reprojection run in threads over the centres (all release the GIL).

Cost (issue 28, ``benchmarks/isochrones.py``, synthetic 4M-node graph): about 0.2 s
of CPU per centre at 15/30/60 min, 85 % of it the field (the bounded search is
0.01 s: a one-to-all PHAST sweep of all 4M nodes would cost more than the ~90,000
nodes within 60 minutes), the rest contours and reprojection.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import contourpy
import numba
import numpy as np
import shapely
from pyproj import Transformer

from ..graph import RoadGraph
from ..routing import time_grid

__all__ = ["GRID_CELL_M", "grid_polygons"]

#: Default cell of the grid isochrones (m): half the default off-network cap, so that
#: a road's band of reach is two cells wide.
GRID_CELL_M = 250.0


def _filled(field: np.ndarray, ix0: int, iy0: int, cell: float, *, unite: bool = True):
    """The polygon where the signed distance ``field`` is <= 0 (filled contour), in
    the grid's CRS.

    Contoured on the rows and columns with a value only (the 15-minute band fills a
    corner of the 60-minute grid): every cell within the disc of a point has its
    neighbours within the disc's margin, so the cells left out are all outside.
    ``unite=False``: the filled pieces (disjoint) as one MultiPolygon, for a caller
    that unites it with another polygon anyway."""
    has = np.isfinite(field)
    rows = np.flatnonzero(has.any(axis=1))
    cols = np.flatnonzero(has.any(axis=0))
    if rows.size == 0:
        return shapely.Polygon()
    j0, j1 = max(rows[0] - 1, 0), rows[-1] + 2
    i0, i1 = max(cols[0] - 1, 0), cols[-1] + 2
    field = field[j0:j1, i0:i1]
    ny, nx = field.shape
    xs = (ix0 + i0 + 0.5 + np.arange(nx)) * cell
    ys = (iy0 + j0 + 0.5 + np.arange(ny)) * cell
    z = np.where(np.isfinite(field), field, 2.0 * cell)
    gen = contourpy.contour_generator(xs, ys, z, fill_type=contourpy.FillType.OuterOffset,
                                      name="serial")
    points, offsets = gen.filled(-np.inf, 0.0)
    polys = [shapely.Polygon(p[o[0]:o[1]], [p[a:b] for a, b in zip(o[1:-1], o[2:])])
             for p, o in zip(points, offsets)]
    if len(polys) > 1:
        return shapely.union_all(polys) if unite else shapely.MultiPolygon(polys)
    return polys[0] if polys else shapely.Polygon()


def grid_polygons(graph: RoadGraph, nodes: np.ndarray, access_s: np.ndarray,
                  points: np.ndarray, limits_s: list[float], *, reverse: bool,
                  speed_ms: float, cap_m: float, cell_m: float = GRID_CELL_M,
                  to_crs: str | None = None, threads: int | None = None
                  ) -> list[list[tuple[int, object]]]:
    """Per centre, per limit (ascending): the nodes reached and the polygon.

    ``nodes``, ``access_s``: each centre's node and access leg; ``points`` (k, 2)
    its own coordinates in ``graph.crs``. The polygons are in ``graph.crs``, or in
    ``to_crs`` (e.g. WGS84), reprojected in the threads and each band united with
    the previous one there, so that they stay nested after the reprojection (it
    moves straight edges a little). ``threads``: default numba's thread count; each
    centre runs in one thread (search, field, contours and reprojection release
    the GIL).
    """
    if reverse:
        graph.reversed  # noqa: B018  (built once, before the threads share it)
    local = threading.local()  # a transformer per thread

    def project(poly):
        if to_crs is None:
            return poly
        tr = getattr(local, "tr", None)
        if tr is None:
            tr = local.tr = Transformer.from_crs(graph.crs, to_crs, always_xy=True)
        return shapely.transform(poly, lambda xy: np.column_stack(tr.transform(*xy.T)))

    def one(i: int) -> list[tuple[int, object]]:
        grid, ix0, iy0, times = time_grid(graph, int(nodes[i]), float(access_s[i]),
                                          points[i], limits=limits_s, cell_m=cell_m,
                                          cap_m=cap_m, speed_ms=speed_ms, reverse=reverse)
        out, prev = [], None
        for b, lim in enumerate(limits_s):
            poly = project(_filled(grid[b], ix0, iy0, cell_m,
                                   unite=prev is None or to_crs is None))
            prev = poly if prev is None or to_crs is None else shapely.union(poly, prev)
            out.append((int((times <= lim).sum()), prev))
        return out

    with ThreadPoolExecutor(max_workers=threads or numba.get_num_threads()) as pool:
        return list(pool.map(one, range(len(nodes))))
