"""Car time from points to their nearest destination, and the edge test: the two steps
every "time to the nearest X" indicator shares (central places, motorway junctions,
long-distance stations, airports).

Both work on the arrays of attached tables (:func:`accessibility.graph.network_arrays`)
and know nothing of what the destinations are:

* :func:`time_to_nearest`: one multi-source search on the *reversed* graph from every
  destination on the network (its access leg as the start offset) gives the time from
  every node *to* its nearest destination; a unit's time adds its origin's own access
  leg, averaged over its origins when there are several (population or area origins).
* :func:`beyond_network_nearer`: a destination the network cannot reach (outside the
  extract, off its roads) may be nearer than the one found; it is, at most, when its
  straight-line distance at the network's top speed takes less than the time found.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..graph import Attached, RoadGraph, max_speed_ms, project
from ..routing import nearest_facility

__all__ = [
    "NearestTimes",
    "beyond_network_nearer",
    "bin_minutes",
    "straight_line_bound_min",
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
    """

    minutes: np.ndarray
    nearest: np.ndarray
    n_origins: np.ndarray


def time_to_nearest(graph: RoadGraph, destinations: Attached, units: Attached, *,
                    origins: Attached | None = None, origin_unit: np.ndarray | None = None,
                    origin_weight: np.ndarray | None = None) -> NearestTimes:
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
    if dest.size == 0:
        return NearestTimes(minutes, nearest, n_origins)
    res = nearest_facility(graph, destinations.node[dest], destinations.access_s[dest],
                           reverse=True)
    o_time = np.where(o_ok, origins.access_s + res.dist[np.maximum(origins.node, 0)], np.inf)
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
    return NearestTimes(minutes, nearest, n_origins)


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
