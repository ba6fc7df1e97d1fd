"""The timetable as arrays: connections, trips and footpaths of one service day."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

from .. import defaults
from .._errors import InputError

logger = logging.getLogger(__name__)

__all__ = ["Timetable", "build_timetable"]


@dataclass(frozen=True)
class Timetable:
    """The connections of one service day and the footpaths between stops.

    A connection is one ride of a trip from a stop to the next. Times are int64
    seconds after midnight of the service day.

    Attributes
    ----------
    stop_ids : numpy.ndarray of str
        The stops (every row of stops.txt); stop ``i`` of the arrays is ``stop_ids[i]``.
    x, y : numpy.ndarray of float
        Stop coordinates in ``defaults.METRIC_CRS`` (m; NaN without coordinates).
    c_dep, c_arr, c_from, c_to, c_trip : numpy.ndarray of int64
        The connections, sorted by departure, a trip's connections in stop order.
    c_next : numpy.ndarray of int64
        The next connection of the same trip (-1 at its last).
    n_trips : int
    fp_ptr, fp_to, fp_dur : numpy.ndarray of int64
        Footpaths, CSR by origin stop: from ``s`` to ``fp_to[f]`` in ``fp_dur[f]``
        seconds for ``f`` in ``fp_ptr[s]:fp_ptr[s + 1]``.
    """

    stop_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    c_dep: np.ndarray
    c_arr: np.ndarray
    c_from: np.ndarray
    c_to: np.ndarray
    c_trip: np.ndarray
    c_next: np.ndarray
    n_trips: int
    fp_ptr: np.ndarray
    fp_to: np.ndarray
    fp_dur: np.ndarray

    @property
    def n_stops(self) -> int:
        return int(self.stop_ids.size)

    def index_of(self, stop_ids) -> np.ndarray:
        """Array positions of ``stop_ids``; an unknown id is an :class:`InputError`."""
        pos = pd.Index(self.stop_ids).get_indexer(pd.Index(np.asarray(stop_ids, dtype=object)))
        if (pos < 0).any():
            bad = np.asarray(stop_ids, dtype=object)[pos < 0][:3]
            raise InputError(f"stop_id(s) {', '.join(map(repr, bad))} are not stops of the "
                             "timetable; use the stop_id values of the feed's stops.txt.")
        return pos.astype(np.int64)


def walk_seconds(distance_m, *, walk_speed_kmh: float = defaults.PT_WALK_SPEED_KMH,
                 walk_detour: float = defaults.PT_WALK_DETOUR) -> np.ndarray:
    """Seconds to walk a straight-line distance (x detour at the walking speed),
    rounded up to whole seconds."""
    if not walk_speed_kmh > 0 or not walk_detour >= 1:
        raise InputError(f"walk_speed_kmh must be > 0 and walk_detour >= 1, not "
                         f"{walk_speed_kmh!r} / {walk_detour!r}.")
    return np.ceil(np.asarray(distance_m, float) * walk_detour / (walk_speed_kmh / 3.6))


def _connections(stop_times: pd.DataFrame, index: pd.Index):
    st = stop_times.sort_values(["trip_id", "stop_sequence"], kind="stable")
    stop = index.get_indexer(st["stop_id"])
    if (stop < 0).any():
        bad = st.loc[stop < 0, "stop_id"].unique()[:3]
        raise InputError(f"stop_times.txt names stop_id(s) {', '.join(map(repr, bad))} that "
                         "are not in stops.txt; the feed is inconsistent, fix or cut it again.")
    trip, _ = pd.factorize(st["trip_id"])
    dep = st["departure_s"].to_numpy(np.int64)
    arr = st["arrival_s"].to_numpy(np.int64)
    same = trip[1:] == trip[:-1]
    c_from, c_to = stop[:-1][same], stop[1:][same]
    c_dep, c_arr, c_trip = dep[:-1][same], arr[1:][same], trip[:-1][same]
    if (c_arr < c_dep).any():
        raise InputError(f"stop_times.txt: {int((c_arr < c_dep).sum())} ride(s) arrive before "
                         "they depart (times not increasing along the trip); fix the times.")
    seq = np.arange(c_dep.size)
    order = np.lexsort((seq, c_trip, c_dep))  # stop order within a trip kept by seq
    c_trip = c_trip[order].astype(np.int64)
    by_trip = np.lexsort((np.arange(c_trip.size), c_trip))
    c_next = np.full(c_trip.size, -1, np.int64)
    same = c_trip[by_trip][1:] == c_trip[by_trip][:-1]
    c_next[by_trip[:-1][same]] = by_trip[1:][same]
    return (c_dep[order], c_arr[order], c_from[order].astype(np.int64),
            c_to[order].astype(np.int64), c_trip, c_next,
            int(trip.max()) + 1 if trip.size else 0)


def _footpaths(stops: pd.DataFrame, x: np.ndarray, y: np.ndarray, transfers: pd.DataFrame,
               index: pd.Index, *, max_m: float, **walk) -> pd.DataFrame:
    """``a``, ``b``, ``dur`` of every footpath (a != b)."""
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    tree = cKDTree(np.column_stack([x[ok], y[ok]]))
    pairs = tree.query_pairs(max_m, output_type="ndarray")
    a, b = ok[pairs[:, 0]], ok[pairs[:, 1]]
    # platforms of one station are always joined, however far apart
    parent = stops["parent_station"].to_numpy(dtype=object)
    has = pd.notna(parent)
    members = pd.DataFrame({"i": np.flatnonzero(has), "p": parent[has]})
    sib = members.merge(members, on="p")
    sib = sib[sib["i_x"] < sib["i_y"]]
    a = np.concatenate([a, sib["i_x"].to_numpy(np.int64)])
    b = np.concatenate([b, sib["i_y"].to_numpy(np.int64)])
    fp = pd.DataFrame({"a": np.concatenate([a, b]), "b": np.concatenate([b, a])})
    fp["dur"] = walk_seconds(np.hypot(x[fp["a"]] - x[fp["b"]], y[fp["a"]] - y[fp["b"]]),
                             **walk)
    fp = fp[np.isfinite(fp["dur"])].drop_duplicates(["a", "b"])
    if len(transfers):
        ta = index.get_indexer(transfers["from_stop_id"])
        tb = index.get_indexer(transfers["to_stop_id"])
        known = (ta >= 0) & (tb >= 0) & (ta != tb)
        if (~known).any():
            logger.info("transfers.txt: %d row(s) name unknown stops or one stop twice "
                        "(a change at one stop takes 0 s here); ignored", int((~known).sum()))
        tr = pd.DataFrame({"a": ta[known], "b": tb[known],
                           "kind": transfers["transfer_type"].to_numpy()[known],
                           "secs": transfers["min_transfer_s"].to_numpy()[known]})
        dist = np.hypot(x[tr["a"]] - x[tr["b"]], y[tr["a"]] - y[tr["b"]])
        walk_s = walk_seconds(np.nan_to_num(dist, nan=0.0), **walk)
        tr["dur"] = np.where(tr["kind"] == 2, tr["secs"], walk_s)
        fp = fp.merge(tr[["a", "b"]], on=["a", "b"], how="left", indicator=True)
        fp = fp[fp["_merge"] == "left_only"].drop(columns="_merge")
        fp = pd.concat([fp, tr.loc[tr["kind"] != 3, ["a", "b", "dur"]]], ignore_index=True)
    return fp.astype({"a": np.int64, "b": np.int64, "dur": np.int64})


def build_timetable(stops: pd.DataFrame, stop_times: pd.DataFrame,
                    transfers: pd.DataFrame | None = None, *,
                    walk_speed_kmh: float = defaults.PT_WALK_SPEED_KMH,
                    walk_detour: float = defaults.PT_WALK_DETOUR,
                    footpath_max_m: float = defaults.PT_FOOTPATH_MAX_M) -> Timetable:
    """Arrays of one service day for the router.

    Parameters
    ----------
    stops : pandas.DataFrame
        ``stop_id``, ``stop_lat``, ``stop_lon`` (WGS84; NaN: no footpaths),
        ``parent_station`` (``<NA>`` for none), as in
        :class:`accessibility.io.gtfs_timetable.GtfsDay`.
    stop_times : pandas.DataFrame
        ``trip_id``, ``stop_id``, ``stop_sequence``, ``arrival_s``, ``departure_s``.
    transfers : pandas.DataFrame, optional
        ``from_stop_id``, ``to_stop_id``, ``transfer_type``, ``min_transfer_s``.
        A row between two stops replaces their walked footpath: type 2 takes
        ``min_transfer_s``, types 0 and 1 the straight-line walk (added at any
        distance), type 3 removes it. A change at one stop takes no time.
    walk_speed_kmh, walk_detour : float
        The footpath time: straight line x ``walk_detour`` at ``walk_speed_kmh``.
    footpath_max_m : float
        Stops closer than this (straight line, m) are joined by a footpath, and the
        platforms of one parent station at any distance.

    Returns
    -------
    Timetable
    """
    if not footpath_max_m >= 0:
        raise InputError(f"footpath_max_m must be >= 0, not {footpath_max_m!r}.")
    index = pd.Index(stops["stop_id"].astype(str))
    lon = stops["stop_lon"].to_numpy(float)
    lat = stops["stop_lat"].to_numpy(float)
    x, y = Transformer.from_crs(defaults.WGS84, defaults.METRIC_CRS,
                                always_xy=True).transform(lon, lat)
    x, y = np.asarray(x, float), np.asarray(y, float)
    c_dep, c_arr, c_from, c_to, c_trip, c_next, n_trips = _connections(stop_times, index)
    empty = pd.DataFrame({"from_stop_id": [], "to_stop_id": [], "transfer_type": [],
                          "min_transfer_s": []})
    fp = _footpaths(stops, x, y, empty if transfers is None else transfers, index,
                    max_m=footpath_max_m, walk_speed_kmh=walk_speed_kmh,
                    walk_detour=walk_detour)
    fp = fp.sort_values(["a", "b"], kind="stable")
    fp_ptr = np.zeros(index.size + 1, np.int64)
    np.add.at(fp_ptr, fp["a"].to_numpy() + 1, 1)
    logger.info("timetable: %d stops, %d trips, %d connections, %d footpaths", index.size,
                n_trips, c_dep.size, len(fp))
    return Timetable(stop_ids=index.to_numpy(dtype=object), x=x, y=y, c_dep=c_dep,
                     c_arr=c_arr, c_from=c_from, c_to=c_to, c_trip=c_trip, c_next=c_next,
                     n_trips=n_trips,
                     fp_ptr=np.cumsum(fp_ptr), fp_to=fp["b"].to_numpy(np.int64),
                     fp_dur=fp["dur"].to_numpy(np.int64))
