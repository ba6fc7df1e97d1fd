"""Grid isochrones: the national-scale construction of
:func:`accessibility.models.matrices.isochrones` (``method="grid"``).

The network construction unites one convex hull per edge of a centre's search: exact,
but a 60-minute polygon on a national graph is the union of a few hundred thousand
pieces (about a minute per centre). Here each centre's search leaves, per limit, the
signed distance to the area it reaches at the centres of a square grid
(:func:`accessibility.routing.time_grid`: the least ``|p - q| - min(cap, speed (L -
t_q))`` over the reached network points ``q``, the same rule), and the polygon is
the filled contour of that field at 0 (marching squares, ``contourpy``): the boundary
is interpolated between true distances at the cell centres, so it follows the network
construction's to a fraction of a cell where it is smooth; corners are cut and a
strip or gap narrower than a cell can vanish. Searches and contours run in threads
over the centres (the kernel releases the GIL).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import contourpy
import numba
import numpy as np
import shapely

from ..graph import RoadGraph
from ..routing import time_grid

__all__ = ["GRID_CELL_M", "grid_polygons"]

#: Default cell of the grid isochrones (m): half the default off-network cap, so that
#: a road's band of reach is two cells wide.
GRID_CELL_M = 250.0


def _filled(field: np.ndarray, ix0: int, iy0: int, cell: float):
    """The polygon where the signed distance ``field`` is <= 0 (filled contour), in
    the grid's CRS."""
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


def grid_polygons(graph: RoadGraph, nodes: np.ndarray, access_s: np.ndarray,
                  points: np.ndarray, limits_s: list[float], *, reverse: bool,
                  speed_ms: float, cap_m: float, cell_m: float = GRID_CELL_M,
                  threads: int | None = None) -> list[list[tuple[int, object]]]:
    """Per centre, per limit (ascending): the nodes reached and the polygon (graph CRS).

    ``nodes``, ``access_s``: each centre's node and access leg; ``points`` (k, 2)
    its own coordinates in ``graph.crs``. ``threads``: default numba's thread count.
    """
    if reverse:
        graph.reversed  # noqa: B018  (built once, before the threads share it)

    def one(i: int) -> list[tuple[int, object]]:
        grid, ix0, iy0, times = time_grid(graph, int(nodes[i]), float(access_s[i]),
                                          points[i], limits=limits_s, cell_m=cell_m,
                                          cap_m=cap_m, speed_ms=speed_ms, reverse=reverse)
        return [(int((times <= lim).sum()), _filled(grid[b], ix0, iy0, cell_m))
                for b, lim in enumerate(limits_s)]

    with ThreadPoolExecutor(max_workers=threads or numba.get_num_threads()) as pool:
        return list(pool.map(one, range(len(nodes))))
