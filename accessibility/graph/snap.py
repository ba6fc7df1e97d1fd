"""Snap points to their nearest graph node (KD-tree in metric coordinates)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .._errors import GraphError, InputError
from .core import RoadGraph, project

#: Points farther than this from every graph node are flagged, not snapped (metres).
DEFAULT_MAX_SNAP_M = 2000.0
#: Speed of the leg between a point and its snapped node (km/h): a slow local road.
DEFAULT_ACCESS_SPEED_KMH = 15.0


@dataclass(frozen=True)
class SnapResult:
    """Where points attach to the graph.

    Attributes
    ----------
    node : ndarray of int64
        Nearest graph node, -1 where the point is too far or invalid.
    distance_m : ndarray of float64
        Straight-line distance to that node (metres; NaN where invalid).
    access_time_s : ndarray of float64
        ``distance_m`` at the access speed, seconds (NaN where not snapped).
    too_far : ndarray of bool
        Farther than ``max_distance_m`` from every node: left unsnapped.
    """

    node: np.ndarray
    distance_m: np.ndarray
    access_time_s: np.ndarray
    too_far: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Points that were snapped."""
        return self.node >= 0


def _tree(graph: RoadGraph) -> cKDTree:
    tree = graph.__dict__.get("_kdtree")
    if tree is None:  # built once per graph; the graph itself is immutable
        tree = cKDTree(np.column_stack([graph.x, graph.y]))
        graph.__dict__["_kdtree"] = tree
    return tree


def snap_points(graph: RoadGraph, lon, lat, *, max_distance_m: float = DEFAULT_MAX_SNAP_M,
                access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH, ids=None,
                candidates: np.ndarray | None = None) -> SnapResult:
    """Snap WGS84 points to their nearest node.

    Parameters
    ----------
    graph : RoadGraph
    lon, lat : array_like
        Point coordinates in degrees (EPSG:4326).
    max_distance_m : float
        Points farther than this from the network are flagged ``too_far`` and left
        unsnapped (node -1), never attached to a node across the map.
    access_speed_kmh : float
        Speed for the access leg; ``access_time_s = distance_m / speed``.
    ids : array_like, optional
        Names of the points, used in error messages (e.g. AGS).
    candidates : ndarray of int, optional
        Restrict snapping to these nodes.

    Raises
    ------
    InputError
        NaN or infinite coordinates, or coordinates that are not degrees.
    """
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if lon.shape != lat.shape:
        raise InputError(f"lon and lat differ in length ({lon.size} vs {lat.size})")
    if graph.n_nodes == 0:
        raise GraphError("cannot snap to an empty graph")
    names = np.arange(lon.size) if ids is None else np.asarray(ids)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        raise InputError(f"{int(bad.sum())} point(s) have NaN or infinite coordinates "
                         f"(first: {list(names[bad][:5])}); fix or drop them before snapping")
    outside = (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if outside.any():
        raise InputError(f"{int(outside.sum())} point(s) are not lon/lat degrees (first: "
                         f"{list(names[outside][:5])}); points must be WGS84 (EPSG:4326) - "
                         "reproject projected coordinates first")
    if max_distance_m <= 0 or access_speed_kmh <= 0:
        raise InputError("max_distance_m and access_speed_kmh must be positive")
    x, y = project(lon, lat, graph.crs)
    if candidates is None:
        dist, node = _tree(graph).query(np.column_stack([x, y]))
        node = node.astype(np.int64)
    else:
        candidates = np.asarray(candidates, dtype=np.int64)
        sub = cKDTree(np.column_stack([graph.x[candidates], graph.y[candidates]]))
        dist, k = sub.query(np.column_stack([x, y]))
        node = candidates[k]
    too_far = dist > max_distance_m
    node = np.where(too_far, -1, node)
    access = np.where(too_far, np.nan, dist / (access_speed_kmh / 3.6))
    return SnapResult(node=node, distance_m=dist, access_time_s=access, too_far=too_far)
