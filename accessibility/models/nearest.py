"""Car time from points to their nearest destination, and the edge test: the two steps
every "time to the nearest X" indicator shares (central places, motorway junctions,
long-distance stations, airports).

Both work on the arrays of attached tables (:func:`accessibility.graph.network_arrays`)
and know nothing of what the destinations are:

* :func:`time_to_nearest`: one multi-source search on the *reversed* graph from every
  destination on the network (its access leg as the start offset) gives the time from
  every node *to* its nearest destination; a unit's time adds its origin's own access
  leg, averaged over its origins when there are several (population or area origins).
* the edge test (:attr:`NearestTimes.leaves`, :func:`edge_flag`): a route that leaves
  the extract passes last through a node where the extract cut the network
  (:func:`accessibility.graph.cut_nodes`), so it takes at least the origin's access
  leg plus the time from its node to the nearest cut node (one more reverse search,
  from the cut nodes). Where that is no less than the time found, no larger extract
  can change the value: it is exact. A destination off this network (outside the
  extract, or farther than the snapping limit from its roads) is reached, in a larger
  extract, only by a road of that extract, so the same test covers it.
* :func:`beyond_network_nearer`: when the graph does not know where it was cut (built
  from networkx or edge arrays, or an extract that shows no cut), the previous guess
  stands in: a destination the network cannot reach may be nearer than the one
  found when its straight-line distance at the network's top speed takes less than
  the time found. It ignores faster ways round through the outside.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..graph import (
    Attached,
    RoadGraph,
    cut_nodes,
    edge_nodes,
    max_speed_ms,
    project,
    snap_may_move,
    top_speed_ms,
)
from .incremental import nearest_search

__all__ = [
    "NearestTimes",
    "beyond_network_nearer",
    "bin_minutes",
    "edge_flag",
    "straight_line_bound_min",
    "time_to_edge_s",
    "time_to_exit_s",
    "time_to_nearest",
]


class NearestTimes(NamedTuple):
    """Result of :func:`time_to_nearest`, one entry per unit.

    Attributes
    ----------
    minutes : ndarray of float64
        Car time in minutes to the nearest destination (weighted mean over the unit's
        reachable origins); NaN where the unit is off the network or its reference
        node reaches no destination.
    nearest : ndarray of int64
        Index into the destinations of the one nearest to the unit's reference node;
        -1 where there is none (the same rows as NaN in ``minutes``).
    n_origins : ndarray of int64
        Origins of the unit on the network (0 off the network).
    leaves : ndarray of bool
        Whether a route leaving the network could be faster for one of the unit's
        origins: its access leg plus its time to the nearest cut node
        (:func:`time_to_edge_s`) is below its time found (or it found none). All
        False when the graph does not know where it was cut.
    edge : str
        ``"cut"`` when the graph knows where the extract cut it (``leaves`` False
        means exact), else ``"unknown"``.
    """

    minutes: np.ndarray
    nearest: np.ndarray
    n_origins: np.ndarray
    leaves: np.ndarray
    edge: str


def time_to_nearest(graph: RoadGraph, destinations: Attached, units: Attached, *,
                    origins: Attached | None = None, origin_unit: np.ndarray | None = None,
                    origin_weight: np.ndarray | None = None,
                    exit_s: np.ndarray | None = None) -> NearestTimes:
    """Car time from every unit to its nearest destination (reverse multi-source search).

    Parameters
    ----------
    graph : RoadGraph
        Car graph, edge times in seconds.
    destinations : Attached
        Network arrays of the destinations (:func:`accessibility.graph.network_arrays`);
        those off the network are skipped (see :func:`beyond_network_nearer`).
    units : Attached
        Network arrays of the units' reference points (municipalities): their node
        decides the nearest destination, and a unit off the network gets no value.
    origins : Attached, optional
        Origins averaged per unit (population cells, area grid points); default the
        reference points themselves.
    origin_unit : ndarray of int, optional
        Row of the unit of each origin (with ``origins``).
    origin_weight : ndarray of float, optional
        Weight of each origin (default 1).
    exit_s : ndarray of float, optional
        Per node, a lower bound of the time of any route that leaves the network and
        reaches a destination (:func:`time_to_exit_s`); default the time to the nearest
        cut node (:func:`time_to_edge_s`). Sets ``leaves``.

    Returns
    -------
    NearestTimes
        Times from origin to destination: each origin's access leg, the network
        time and the destination's access leg.
    """
    n = units.node.size
    if origins is None:
        origins, origin_unit = units, np.arange(n)
    origin_unit = np.asarray(origin_unit, dtype=np.int64)
    weight = (np.ones(origin_unit.size) if origin_weight is None
              else np.asarray(origin_weight, dtype=np.float64))
    # origins of a unit off the network do not count, whatever their own snapping
    o_ok = origins.on_network & units.on_network[origin_unit]
    n_origins = np.bincount(origin_unit[o_ok], minlength=n).astype(np.int64)
    dest = np.flatnonzero(destinations.on_network)
    minutes = np.full(n, np.nan)
    nearest = np.full(n, -1, np.int64)
    to_edge = time_to_edge_s(graph) if exit_s is None else exit_s
    edge = "unknown" if to_edge is None else "cut"
    if to_edge is None:
        to_edge = np.full(graph.n_nodes, np.inf)
    o_node = np.maximum(origins.node, 0)
    o_exit = np.where(o_ok, origins.access_s + to_edge[o_node], np.inf)
    if dest.size == 0:
        leaves = np.bincount(origin_unit, weights=np.isfinite(o_exit).astype(np.float64), minlength=n) > 0
        return NearestTimes(minutes, nearest, n_origins, leaves, edge)
    # a scenario's search reuses its base run's (models/incremental.py): exact at the
    # nodes read here
    res = nearest_search(graph, destinations.node[dest], destinations.access_s[dest],
                         interest=np.r_[o_node[o_ok], units.node[units.on_network]])
    o_time = np.where(o_ok, origins.access_s + res.dist[o_node], np.inf)
    # strictly faster: a route as fast as the one found leaves the value as it is
    leaves = np.bincount(origin_unit, weights=(o_exit < o_time).astype(np.float64), minlength=n) > 0
    reach = o_ok & np.isfinite(o_time)
    w = weight * reach
    wsum = np.bincount(origin_unit, weights=w, minlength=n)
    tsum = np.bincount(origin_unit, weights=np.where(reach, o_time, 0.0) * w, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        minutes = tsum / wsum / 60.0
    src = np.where(units.on_network, res.source[np.maximum(units.node, 0)], -1)
    nearest = np.where(src >= 0, dest[np.maximum(src, 0)], -1).astype(np.int64)
    # a unit whose reference node reaches nothing keeps no value
    minutes[nearest < 0] = np.nan
    minutes[~units.on_network] = np.nan
    return NearestTimes(minutes, nearest, n_origins, leaves & units.on_network, edge)


def time_to_edge_s(graph: RoadGraph) -> np.ndarray | None:
    """Time in seconds from every node to the nearest node where the extract cut the
    network (:func:`accessibility.graph.cut_nodes`; ``inf`` where none is reached),
    or None when the graph does not know where it was cut. One reverse multi-source
    search (a road scenario's repairs its base's), kept with the graph (it is
    immutable) for the next indicator."""
    if "_time_to_edge" not in graph.__dict__:
        nodes, how = edge_nodes(graph)
        dist = None
        if how == "cut":
            src = np.flatnonzero(nodes)
            dist = np.asarray(nearest_search(graph, src, np.zeros(src.size)).dist,
                              dtype=np.float64)
        graph.__dict__["_time_to_edge"] = dist
    return graph.__dict__["_time_to_edge"]


def time_to_exit_s(graph: RoadGraph, dest_lon: np.ndarray, dest_lat: np.ndarray, *,
                   max_snap_m: float, top_speed_kmh: float | None = None
                   ) -> np.ndarray | None:
    """Per node, a lower bound of the time of a route that leaves the network through
    a cut node and ends at one of the destinations (``dest_lon``, ``dest_lat``: all of
    them, on the network or not; the table must list every destination, as the
    national register of central places does).

    After the cut node ``c`` such a route still covers at least the straight line
    from ``c`` to the destination's road node, which lies within ``max_snap_m`` of
    the destination, at no more than ``top_speed_kmh`` (default
    :func:`~accessibility.graph.top_speed_ms`: the profile's cap, else 200 km/h; the
    graph's fastest edge, if faster). So one reverse search from the cut nodes, each starting with that
    time, bounds every way out. None when the graph does not know where it was cut;
    the plain time to the cut (:func:`time_to_edge_s`) without a destination.
    """
    cut = cut_nodes(graph)
    if cut is None or not cut.any():
        return None
    ok = np.isfinite(dest_lon) & np.isfinite(dest_lat)
    src = np.flatnonzero(cut)
    if not ok.any():
        return time_to_edge_s(graph)
    tx, ty = project(np.asarray(dest_lon)[ok], np.asarray(dest_lat)[ok], graph.crs)
    d, _ = cKDTree(np.column_stack([tx, ty])).query(
        np.column_stack([np.asarray(graph.x, float)[src], np.asarray(graph.y, float)[src]]))
    v = top_speed_ms(graph, top_speed_kmh)
    start = np.maximum(d - max_snap_m, 0.0) / v
    return np.asarray(nearest_search(graph, src, start).dist, dtype=np.float64)


def edge_flag(graph: RoadGraph, nt: NearestTimes, lon: np.ndarray, lat: np.ndarray,
              minutes: np.ndarray, beyond_lon: np.ndarray, beyond_lat: np.ndarray, *,
              snap_m: np.ndarray | None = None, dest_lon: np.ndarray | None = None,
              dest_lat: np.ndarray | None = None, dest_snap_m: np.ndarray | None = None
              ) -> np.ndarray:
    """Whether a larger extract could change each unit's time.

    Where the graph knows where it was cut: ``nt.leaves`` (a way out could be
    faster), or the unit's own snapping might move (``snap_m``, see
    :func:`accessibility.graph.snap_may_move`), or that of the destination it found
    (``dest_*``, indexed like ``nt.nearest``); False means exact. Else
    :func:`beyond_network_nearer` for the destinations off the network (a guess).
    Callers restrict the flag to the units it applies to (in the region, on the
    network, not a destination themselves)."""
    if nt.edge != "cut":
        return beyond_network_nearer(graph, lon, lat, minutes, beyond_lon, beyond_lat)
    flag = nt.leaves.copy()
    if snap_m is not None:
        flag |= snap_may_move(graph, lon, lat, snap_m)
    if dest_snap_m is not None and len(dest_snap_m):
        moves = snap_may_move(graph, dest_lon, dest_lat, dest_snap_m)
        flag |= (nt.nearest >= 0) & moves[np.maximum(nt.nearest, 0)]
    return flag


def straight_line_bound_min(graph: RoadGraph, lon: np.ndarray, lat: np.ndarray,
                            to_lon: np.ndarray, to_lat: np.ndarray) -> np.ndarray:
    """Lower bound of the car time in minutes from each point to the nearest of the
    ``to`` points: the straight-line distance (in the graph's metric CRS, pyproj) at
    the fastest speed of the network. ``inf`` when there is no ``to`` point or the
    graph has no moving edge; NaN for points without coordinates."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    to_ok = np.isfinite(to_lon) & np.isfinite(to_lat)
    vmax = max_speed_ms(graph)
    out = np.full(lon.size, np.inf)
    if to_ok.any() and np.isfinite(vmax):
        tx, ty = project(np.asarray(to_lon)[to_ok], np.asarray(to_lat)[to_ok], graph.crs)
        has = np.isfinite(lon) & np.isfinite(lat)
        mx, my = project(np.nan_to_num(lon), np.nan_to_num(lat), graph.crs)
        d, _ = cKDTree(np.column_stack([tx, ty])).query(np.column_stack([mx, my]))
        out = d / vmax / 60.0
        out[~has] = np.nan
    return out


def beyond_network_nearer(graph: RoadGraph, lon: np.ndarray, lat: np.ndarray,
                          minutes: np.ndarray, beyond_lon: np.ndarray,
                          beyond_lat: np.ndarray) -> np.ndarray:
    """Whether a destination the network cannot reach might be nearer than the time found.

    True where the straight-line bound of :func:`straight_line_bound_min` to the
    nearest ``beyond`` point is below ``minutes``, or where ``minutes`` is NaN (no
    destination found at all) and such a point exists. Callers restrict the flag to
    the units it applies to (in the region, on the network).
    """
    bound = straight_line_bound_min(graph, lon, lat, beyond_lon, beyond_lat)
    t = np.asarray(minutes, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(bound) & (np.isnan(t) | (bound < t))


def bin_minutes(minutes, classes) -> np.ndarray:
    """Class labels of travel times: ``classes`` is ``((upper, label), ...)`` in
    increasing order, each upper bound exclusive; None where a time is NaN."""
    t = np.asarray(minutes, dtype=np.float64)
    out = np.full(t.shape, None, dtype=object)
    lo = -np.inf
    for hi, label in classes:
        out[(t >= lo) & (t < hi)] = label
        lo = hi
    return out


def off_network_reasons(points: pd.DataFrame, has_point: np.ndarray) -> list[str]:
    """Why each row of an attached table would be off the network: it has no point, or
    its point lies farther than its snapping limit (the ``max_snap_m`` column of
    :func:`accessibility.attach`, named when known) from any road."""
    limit = (pd.to_numeric(points["max_snap_m"], errors="coerce").to_numpy(np.float64)
             if "max_snap_m" in points.columns else np.full(len(points), np.nan))
    return ["reference point outside the network extent"
            + (f" (farther than {m:,.0f} m from any road)" if m > 0 else "")
            if has else "no reference point" for has, m in zip(has_point, limit)]
