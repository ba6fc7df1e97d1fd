"""The area a road graph covers: its outline, the nodes at its edge, and whether
points lie inside it (the region of a run)."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import ConvexHull, QhullError

from .. import defaults
from .core import RoadGraph, project

__all__ = ["boundary_nodes", "extent_polygon", "in_extent", "max_speed_ms"]


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
    straight-line distance: no route is faster than distance / this speed)."""
    moving = graph.time_s > 0
    if not moving.any():
        return float("inf")
    return float(np.max(graph.length_m[moving] / graph.time_s[moving]))
