"""The area a road graph covers: its outline, the nodes at its edge, and whether
points lie inside it (the region of a run)."""

from __future__ import annotations

import numpy as np
import shapely

from .. import defaults
from .core import RoadGraph, project

__all__ = ["boundary_nodes", "extent_polygon", "in_extent", "max_speed_ms"]


def extent_polygon(graph: RoadGraph):
    """Convex hull of the graph's nodes in its metric CRS (computed once per graph)."""
    hull = graph.__dict__.get("_extent")
    if hull is None:  # the graph is immutable: cache beside its arrays
        hull = shapely.convex_hull(shapely.multipoints(
            shapely.points(np.asarray(graph.x), np.asarray(graph.y))))
        graph.__dict__["_extent"] = hull
    return hull


def boundary_nodes(graph: RoadGraph, buffer_m: float = defaults.EDGE_BUFFER_M) -> np.ndarray:
    """Nodes closer than ``buffer_m`` to the outline (convex hull boundary) of all
    graph nodes, in the graph's metric coordinates. When the nodes are collinear
    (no area), every node counts as boundary."""
    pts = shapely.points(np.asarray(graph.x), np.asarray(graph.y))
    hull = extent_polygon(graph)
    outline = hull.exterior if hull.geom_type == "Polygon" else hull
    return np.asarray(shapely.distance(pts, outline) < buffer_m, dtype=bool)


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
