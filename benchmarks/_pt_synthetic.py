"""A synthetic national timetable (labelled synthetic wherever it is reported): about
500,000 stops and 20 million stop times over an area the size of Germany.

Stops are uniform over 800 x 600 km (1 stop per km², as German feeds have about 500,000
stops for 357,000 km²). A route starts at a random stop and heads in a random direction:
each next stop is the stop nearest to the point 800 m further on (with a turn of up to
±20°), so routes share stops where they cross. Bus routes: 20 stops 800 m apart at
25 km/h, every 10, 15, 20, 30 or 60 minutes from 05:00 to 23:00; regional trains (one
route per 40 bus routes): 30 stops 5 km apart at 80 km/h, every 30 or 60 minutes. A ride
takes the straight line at that speed (at least one minute), no dwell. The Timetable is built directly from arrays (not from a GTFS frame):
a stop_times frame of 20 million rows with string ids would measure pandas, not the
router.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from accessibility import transit
from accessibility.transit import Timetable

AREA_M = (800_000.0, 600_000.0)


def _routes(rng, tree, x, y, n: int, k: int, spacing_m: float, speed_kmh: float,
            headways: np.ndarray):
    """``n`` routes of ``k`` stops: stop sequences, offsets from the first stop (s),
    headways (s)."""
    seq = np.empty((n, k), np.int64)
    seq[:, 0] = rng.integers(0, x.size, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    px, py = x[seq[:, 0]], y[seq[:, 0]]
    for j in range(1, k):
        angle += rng.uniform(-0.35, 0.35, n)
        px, py = px + spacing_m * np.cos(angle), py + spacing_m * np.sin(angle)
        _, seq[:, j] = tree.query(np.column_stack([px, py]))
        px, py = x[seq[:, j]], y[seq[:, j]]
    ride = np.maximum(60, np.round(np.hypot(np.diff(x[seq], axis=1), np.diff(y[seq], axis=1))
                                   / (speed_kmh / 3.6) / 60) * 60).astype(np.int64)
    offs = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(ride, axis=1)], axis=1)
    return seq, offs, rng.choice(headways, n)


def synthetic_timetable(n_stops: int = 500_000, n_stop_times: int = 20_000_000,
                        stops_per_route: int = 20, seed: int = 25) -> Timetable:
    """The synthetic day (module docstring); ``n_stop_times`` is met to within a few %."""
    rng = np.random.default_rng(seed)
    scale = np.sqrt(n_stops / 500_000)
    w, h = AREA_M[0] * scale, AREA_M[1] * scale
    x, y = rng.uniform(0, w, n_stops), rng.uniform(0, h, n_stops)
    tree = cKDTree(np.column_stack([x, y]))
    bus_hw = np.array([10, 15, 20, 30, 60]) * 60
    mean_trips = np.mean((23 - 5) * 3600 / bus_hw)
    n_bus = max(1, round(n_stop_times / stops_per_route / mean_trips))
    # buses: 800 m between stops at 25 km/h; regional trains: 5 km at 80 km/h, every
    # 30 or 60 minutes, 30 stops (150 km), one train route per 40 bus routes
    parts = [_routes(rng, tree, x, y, n_bus, stops_per_route, 800.0, 25.0, bus_hw),
             _routes(rng, tree, x, y, max(1, n_bus // 40), 30, 5000.0, 80.0,
                     np.array([30, 60]) * 60)]
    k = max(p[0].shape[1] for p in parts)
    # one array of routes, padded to k stops: a padded stop repeats the last one and
    # is never ridden (the ride count per route is kept in n_ride)
    seq = np.concatenate([np.pad(p[0], ((0, 0), (0, k - p[0].shape[1])), mode="edge")
                          for p in parts])
    offs = np.concatenate([np.pad(p[1], ((0, 0), (0, k - p[1].shape[1])), mode="edge")
                           for p in parts])
    n_ride = np.concatenate([np.full(len(p[0]), p[0].shape[1] - 1) for p in parts])
    hw = np.concatenate([p[2] for p in parts])
    n_routes = seq.shape[0]
    first = 5 * 3600 + rng.integers(0, 60, n_routes) * 60
    n_trips = ((23 * 3600 - first) // hw).astype(np.int64) + 1
    trip_route = np.repeat(np.arange(n_routes), n_trips)
    trip_start = first[trip_route] + (np.arange(trip_route.size)
                                      - np.repeat(np.cumsum(n_trips) - n_trips, n_trips)) \
        * hw[trip_route]
    # connections: trip t rides from stop j to j + 1
    rides = n_ride[trip_route]
    nc = int(rides.sum())
    t_of = np.repeat(np.arange(trip_route.size), rides)
    j_of = np.arange(nc) - np.repeat(np.cumsum(rides) - rides, rides)
    r_of = trip_route[t_of]
    dep = trip_start[t_of] + offs[r_of, j_of]
    arr = trip_start[t_of] + offs[r_of, j_of + 1]
    frm, to = seq[r_of, j_of], seq[r_of, j_of + 1]
    order = np.lexsort((j_of, t_of, dep))
    inv = np.empty(nc, np.int64)
    inv[order] = np.arange(nc)
    nxt = np.where(j_of < n_ride[r_of] - 1, np.arange(nc) + 1, -1)  # unsorted index
    c_next = np.where(nxt[order] >= 0, inv[np.maximum(nxt[order], 0)], -1)
    del nxt, inv, j_of, r_of
    fp = tree.query_pairs(400.0, output_type="ndarray")
    a = np.concatenate([fp[:, 0], fp[:, 1]])
    b = np.concatenate([fp[:, 1], fp[:, 0]])
    dur = transit.walk_seconds(np.hypot(x[a] - x[b], y[a] - y[b])).astype(np.int64)
    o = np.lexsort((b, a))
    fp_ptr = np.zeros(n_stops + 1, np.int64)
    np.add.at(fp_ptr, a + 1, 1)
    return Timetable(stop_ids=np.array([f"s{i}" for i in range(n_stops)], dtype=object),
                     x=x, y=y, c_dep=dep[order], c_arr=arr[order], c_from=frm[order],
                     c_to=to[order], c_trip=t_of[order], c_next=c_next,
                     n_trips=int(trip_route.size), fp_ptr=np.cumsum(fp_ptr), fp_to=b[o],
                     fp_dur=dur[o])
