"""The area a road graph covers: its outline, the nodes at its edge, and whether
points lie inside it (the region of a run)."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import ConvexHull, QhullError

from .. import defaults
from .core import RoadGraph, project

__all__ = [
    "boundary_nodes",
    "cut_nodes",
    "edge_nodes",
    "extent_polygon",
    "in_extent",
    "max_speed_ms",
    "snap_may_move",
    "top_speed_ms",
]


def extent_polygon(graph: RoadGraph):
    """Convex hull of the graph's nodes in its metric CRS (computed once per graph)."""
    hull = graph.__dict__.get("_extent")
    if hull is None:  # the graph is immutable: cache beside its arrays
        xy = np.column_stack([np.asarray(graph.x, float), np.asarray(graph.y, float)])
        try:  # the hull of its extreme points is the hull of all: no 4M point objects
            xy = xy[ConvexHull(xy).vertices]
        except (QhullError, ValueError):  # fewer than 3 points, or all on a line
            pass
        hull = shapely.convex_hull(shapely.multipoints(shapely.points(xy)))
        graph.__dict__["_extent"] = hull
    return hull


def boundary_nodes(graph: RoadGraph, buffer_m: float = defaults.EDGE_BUFFER_M) -> np.ndarray:
    """Nodes closer than ``buffer_m`` to the outline (convex hull boundary) of all
    graph nodes, in the graph's metric coordinates. When the nodes are collinear
    (no area), every node counts as boundary."""
    x, y = np.asarray(graph.x, float), np.asarray(graph.y, float)
    hull = extent_polygon(graph)
    outline = hull.exterior if hull.geom_type == "Polygon" else hull
    near = np.ones(x.size, dtype=bool)
    if hull.geom_type == "Polygon":
        # nodes well inside (the hull shrunk by more than the buffer) are not at the
        # edge; only the others get an exact distance
        inner = hull.buffer(-(1.01 * buffer_m + 1.0))
        if not inner.is_empty:
            shapely.prepare(inner)
            near = ~shapely.contains_xy(inner, x, y)
    out = np.zeros(x.size, dtype=bool)
    out[near] = shapely.distance(shapely.points(x[near], y[near]), outline) < buffer_m
    return out


def cut_nodes(graph: RoadGraph) -> np.ndarray | None:
    """Nodes where the extract cut the network (``meta["cut_osm_ids"]``, kept by
    :func:`~accessibility.graph.graph_from_osm` and simplification): a route that
    leaves the network passes last through one of them. None when the graph does
    not know (built from networkx or edge arrays, or cached before it was known)."""
    ids = graph.meta.get("cut_osm_ids")
    if ids is None:
        return None
    return np.isin(graph.osm_id, np.asarray(ids, dtype=np.int64))


def edge_nodes(graph: RoadGraph, buffer_m: float = defaults.EDGE_BUFFER_M
               ) -> tuple[np.ndarray, str]:
    """The nodes a route must pass to leave the network, and how they were found.

    The cut nodes (:func:`cut_nodes`) when the graph knows them and found any: then
    a value whose searches reach none of them (within the time that could matter) is
    exact for any larger extract. Otherwise the nodes within ``buffer_m`` of the
    network's outline (:func:`boundary_nodes`): the best guess, not a proof (an
    extract cut by a concave polygon leaves its cut ends inside its convex hull).

    Returns
    -------
    ndarray of bool, str
        Per node, and ``"cut"`` or ``"outline"``.
    """
    cut = cut_nodes(graph)
    if cut is not None and cut.any():
        return cut, "cut"
    return boundary_nodes(graph, buffer_m), "outline"


def snap_may_move(graph: RoadGraph, lon, lat, snap_m) -> np.ndarray:
    """Whether a point's snapped node might change in a larger extract: its snapping
    distance is at least its straight-line distance to the nearest cut node, so a
    road beyond the cut may be nearer than the one it snapped to. All False when
    the graph does not know where it was cut (or for points off the network:
    ``snap_m`` NaN)."""
    lon = np.asarray(lon, dtype=np.float64)
    snap = np.asarray(snap_m, dtype=np.float64)
    out = np.zeros(lon.shape, dtype=bool)
    cut = cut_nodes(graph)
    ok = np.isfinite(lon) & np.isfinite(np.asarray(lat, dtype=np.float64)) & np.isfinite(snap)
    if cut is None or not cut.any() or not ok.any():
        return out
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([np.asarray(graph.x, float)[cut],
                                    np.asarray(graph.y, float)[cut]]))
    x, y = project(lon[ok], np.asarray(lat, dtype=np.float64)[ok], graph.crs)
    d, _ = tree.query(np.column_stack([x, y]))
    out[ok] = d <= snap[ok]
    return out


def in_extent(graph: RoadGraph, lon, lat, *, buffer_m: float = 0.0) -> np.ndarray:
    """Whether WGS84 points lie inside the graph's outline grown by ``buffer_m``
    (False for NaN coordinates)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    ok = np.isfinite(lon) & np.isfinite(lat)
    out = np.zeros(lon.shape, dtype=bool)
    if ok.any():
        x, y = project(lon[ok], lat[ok], graph.crs)
        area = extent_polygon(graph).buffer(buffer_m) if buffer_m else extent_polygon(graph)
        out[ok] = shapely.covers(area, shapely.points(x, y))
    return out


def max_speed_ms(graph: RoadGraph) -> float:
    """The fastest edge speed of the graph, m/s (a lower bound of travel time for a
    straight-line distance: no route is faster than distance / this speed). Kept
    with the graph (it is immutable): every indicator asks for it."""
    if "_max_speed_ms" not in graph.__dict__:
        moving = graph.time_s > 0
        graph.__dict__["_max_speed_ms"] = (
            float(np.max(graph.length_m[moving] / graph.time_s[moving])) if moving.any()
            else float("inf"))
    return graph.__dict__["_max_speed_ms"]


#: A profile's cap is a real road's speed: the edge test's straight lines beyond the
#: cut, measured in the graph's metric CRS, may overstate the ground distance by its
#: scale error (UTM 32N: up to 0.2 % across Germany; LAEA less), so the cap is raised
#: by 1 %. (200 km/h without a cap is far above any road already.)
PROJECTION_MARGIN = 1.01


def top_speed_ms(graph: RoadGraph, top_speed_kmh: float | None = None) -> float:
    """No road of a larger extract is faster than this (m/s): the edge tests' speed
    of a straight line beyond the cut.

    ``top_speed_kmh`` if given; else, for a graph built with a profile that caps
    every edge (``meta["max_speed_kmh"]``, :class:`~accessibility.profile.SpeedProfile`),
    that cap (or the profile's access-leg speed, if faster), plus
    :data:`PROJECTION_MARGIN` (a straight line in the graph's CRS may be a little
    longer than on the ground): a larger extract built with the same profile has no
    faster edge; else :data:`~accessibility.defaults.EDGE_TOP_SPEED_KMH`. Never below
    the graph's fastest edge (:func:`max_speed_ms`).
    """
    if top_speed_kmh is None:
        cap = graph.meta.get("max_speed_kmh")
        top_speed_kmh = (defaults.EDGE_TOP_SPEED_KMH if cap is None
                         else max(float(cap), float(graph.meta.get("access_speed_kmh") or 0.0))
                         * PROJECTION_MARGIN)
    return max(float(top_speed_kmh) / 3.6, max_speed_ms(graph))
