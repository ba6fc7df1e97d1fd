"""An independent timetable router: the time-expanded graph solved by scipy's Dijkstra.

Used as the reference of ``accessibility.transit`` (tests/test_transit.py) and as the
baseline of benchmarks/pt.py. Nodes are events: the departure and the arrival of
every connection, and one node per (stop, time) at which someone can be at a stop
(a departure, a vehicle arrival, a footpath arrival, the end of the access walk),
chained by waiting edges. A traveller boards from a stop node, stays seated from an
arrival to the trip's next departure, alights onto the stop node, or walks one
footpath to the stop node of a neighbour; the access walk ends on stop nodes, which
have no footpath edges. So it models what the CSA kernels claim, by other means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra


class TimeExpanded:
    """The time-expanded graph of a :class:`accessibility.transit.Timetable`."""

    def __init__(self, tt, extra_stop_times: np.ndarray | None = None) -> None:
        n_c = tt.c_dep.size
        self.tt = tt
        fp_from = np.repeat(np.arange(tt.n_stops), np.diff(tt.fp_ptr))
        # footpaths leaving the arrival stop of every connection
        cc, ff = [], []
        for f in range(tt.fp_to.size):
            hit = np.flatnonzero(tt.c_to == fp_from[f])
            cc.append(hit)
            ff.append(np.full(hit.size, f))
        cc = np.concatenate(cc) if cc else np.zeros(0, np.int64)
        ff = np.concatenate(ff) if ff else np.zeros(0, np.int64)
        walk_stop, walk_time = tt.fp_to[ff], tt.c_arr[cc] + tt.fp_dur[ff]
        ex = np.zeros((0, 2), np.int64) if extra_stop_times is None else extra_stop_times
        stop = np.concatenate([tt.c_from, tt.c_to, walk_stop, ex[:, 0]])
        time = np.concatenate([tt.c_dep, tt.c_arr, walk_time, ex[:, 1]])
        nodes = pd.DataFrame({"s": stop, "t": time}).drop_duplicates()
        nodes = nodes.sort_values(["s", "t"], ignore_index=True)
        self.node_stop, self.node_time = nodes["s"].to_numpy(), nodes["t"].to_numpy()
        key = pd.MultiIndex.from_frame(nodes)
        base = 2 * n_c

        def w(s, t):
            return base + key.get_indexer(pd.MultiIndex.from_arrays([s, t]))

        self.w = w
        c = np.arange(n_c)
        trip_order = np.lexsort((c, tt.c_dep, tt.c_trip))
        same = tt.c_trip[trip_order][1:] == tt.c_trip[trip_order][:-1]
        cur, nxt = trip_order[:-1][same], trip_order[1:][same]
        wait = np.flatnonzero(self.node_stop[1:] == self.node_stop[:-1])
        edges = [
            (w(tt.c_from, tt.c_dep), c, np.zeros(n_c)),                 # board
            (c, n_c + c, tt.c_arr - tt.c_dep),                          # ride
            (n_c + cur, nxt, tt.c_dep[nxt] - tt.c_arr[cur]),            # stay seated
            (n_c + c, w(tt.c_to, tt.c_arr), np.zeros(n_c)),            # alight
            (n_c + cc, w(walk_stop, walk_time), tt.fp_dur[ff]),         # walk
            (base + wait, base + wait + 1, np.diff(self.node_time)[wait]),  # wait
        ]
        u = np.concatenate([e[0] for e in edges])
        v = np.concatenate([e[1] for e in edges])
        d = np.concatenate([e[2] for e in edges]).astype(float)
        assert (d >= 0).all()
        self.n = base + len(nodes)
        e = pd.DataFrame({"u": u, "v": v, "d": d}).groupby(["u", "v"], as_index=False).min()
        self.matrix = csr_array((e["d"].to_numpy(), (e["u"].to_numpy(), e["v"].to_numpy())),
                                shape=(self.n, self.n))

    def earliest_arrival(self, origin: np.ndarray, offset: np.ndarray, t0: int) -> np.ndarray:
        """Earliest time at every stop (NaN: not reached), as
        :func:`accessibility.transit.earliest_arrival`.

        Every edge takes exactly the time between its events, so a node is reached
        at its own time: Dijkstra from the access nodes only says which are reached.
        """
        tt = self.tt
        start = self.w(np.asarray(origin), t0 + np.asarray(offset))
        assert (start >= 2 * tt.c_dep.size).all(), "origin (stop, time) pairs must be nodes"
        dist = dijkstra(self.matrix, indices=start, min_only=True)
        reached = np.isfinite(dist[2 * tt.c_dep.size:])
        out = np.full(tt.n_stops, np.inf)
        np.minimum.at(out, self.node_stop[reached], self.node_time[reached])
        return np.where(np.isfinite(out), out, np.nan)


def reference_earliest_arrival(tt, origin: np.ndarray, offset: np.ndarray,
                               t0: int) -> np.ndarray:
    """Earliest time at every stop by the time-expanded graph (NaN: not reached)."""
    origin, offset = np.asarray(origin, np.int64), np.asarray(offset, np.int64)
    graph = TimeExpanded(tt, np.column_stack([origin, t0 + offset]))
    return graph.earliest_arrival(origin, offset, t0)
