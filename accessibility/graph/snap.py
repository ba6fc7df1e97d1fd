"""Snap points to their nearest graph node (KD-tree in metric coordinates)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .. import defaults
from .._errors import GraphError, InputError
from .core import RoadGraph, project


@dataclass(frozen=True)
class SnapResult:
    """Where points attach to the graph (the vocabulary of
    :data:`accessibility.vocabulary.NETWORK_COLUMNS`).

    Attributes
    ----------
    node : ndarray of int64
        Nearest graph node, -1 where the point is off the network. Use
        :attr:`on_network` before indexing node arrays with it.
    snap_m : ndarray of float64
        Straight-line distance to the nearest node (metres), also for points off
        the network.
    access_s : ndarray of float64
        ``snap_m`` at the access speed, seconds (NaN off the network).
    on_network : ndarray of bool
        Within ``max_snap_m`` of a node: snapped and routed.
    """

    node: np.ndarray
    snap_m: np.ndarray
    access_s: np.ndarray
    on_network: np.ndarray


def _tree(graph: RoadGraph) -> cKDTree:
    tree = graph.__dict__.get("_kdtree")
    if tree is None:  # built once per graph; the graph itself is immutable
        tree = cKDTree(np.column_stack([graph.x, graph.y]))
        graph.__dict__["_kdtree"] = tree
    return tree


def snap_points(graph: RoadGraph, lon, lat, *, max_snap_m: float = defaults.MAX_SNAP_M,
                access_speed_kmh: float = defaults.ACCESS_SPEED_KMH, ids=None,
                candidates: np.ndarray | None = None) -> SnapResult:
    """Snap WGS84 points to their nearest node.

    Arrays in, arrays out; :func:`accessibility.attach` does the same for a table
    and is what models consume.

    Parameters
    ----------
    graph : RoadGraph
    lon, lat : array_like
        Point coordinates in degrees (EPSG:4326).
    max_snap_m : float
        Points farther than this from the network are left off it (node -1,
        ``on_network`` False), never attached to a node across the map.
    access_speed_kmh : float
        Speed of the access leg; ``access_s = snap_m / speed``.
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
    if not (max_snap_m > 0 and access_speed_kmh > 0):
        raise InputError("max_snap_m and access_speed_kmh must be positive")
    top = defaults.MAX_ACCESS_SPEED_KMH
    if not 1.0 <= access_speed_kmh <= top:  # the config's range, for the API too
        raise InputError(f"access_speed_kmh = {access_speed_kmh!r} is outside the plausible "
                         f"range 1 to {top:g} km/h (the leg from a point to its road: walking "
                         "to driving speed); check the value and its unit")
    x, y = project(lon, lat, graph.crs)
    if candidates is None:
        dist, node = _tree(graph).query(np.column_stack([x, y]))
        node = node.astype(np.int64)
    else:
        candidates = np.asarray(candidates, dtype=np.int64)
        sub = cKDTree(np.column_stack([graph.x[candidates], graph.y[candidates]]))
        dist, k = sub.query(np.column_stack([x, y]))
        node = candidates[k]
    on = dist <= max_snap_m
    node = np.where(on, node, -1)
    access = np.where(on, dist / (access_speed_kmh / 3.6), np.nan)
    return SnapResult(node=node, snap_m=dist, access_s=access, on_network=on)
