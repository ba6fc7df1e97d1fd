"""Whether a 2-hour potential is exact: could a larger road extract change it?

The potential of origin o sums the destinations d reached within the limit. A route
that leaves the extract passes first through a node where the extract cut the
network (a cut node c, :func:`accessibility.graph.cut_nodes`); up to there it runs
inside the extract, so it takes at least ``t(o, c)``, and from c on it still covers
the straight line to d's road node, which lies within the snapping limit of d's
point, at no more than the top speed (200 km/h, or the graph's fastest edge). So no
route through c reaches d before

    b(o, d) = t(o, c) + max(0, line(c, d) - max_snap_m) / top speed.

The potential is exact when, for every destination that counts (with daytime
population), the time found is no more than the smallest ``b`` (reached within the
limit), or that ``b`` lies beyond the limit (not reached). Destinations include the
municipalities the extract does not reach at all (off the network or outside it): a
larger extract might bring them within two hours.

One reverse search per cut node would make that exact to the last node; the cut
nodes are grouped into at most :data:`MAX_EXIT_SECTIONS` sections of the border
(k-means on their coordinates), one reverse search each, with ``t`` the time to the
section's nearest cut node and ``line`` the distance from its nearest one: each
term is no more than the single-node bound, so the test stays sound, and it is
exact for a regional extract with fewer cut nodes than sections.

This replaces "the search reached a cut node" where the graph knows its cut: on a
national graph nearly every 120-minute search reaches a border, but few could
gain by a route through a neighbouring country.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.spatial import cKDTree

from .. import defaults
from ..graph import RoadGraph
from ..graph.extent import max_speed_ms
from ..routing import exact_rows, nearest_facility, one_to_many

__all__ = ["MAX_EXIT_SECTIONS", "exact_origins", "exit_sections"]

#: The most sections the cut nodes are grouped into (one reverse search each).
MAX_EXIT_SECTIONS = 48


def exit_sections(x: np.ndarray, y: np.ndarray, k: int = MAX_EXIT_SECTIONS) -> np.ndarray:
    """A section label per cut node: each its own when there are at most ``k``,
    else k-means on the coordinates (fixed seed: the same labels every run)."""
    n = x.size
    if n <= k:
        return np.arange(n)
    xy = np.column_stack([x, y]).astype(np.float64)
    _, labels = kmeans2(xy, k, seed=np.random.default_rng(0), minit="++")
    return np.unique(labels, return_inverse=True)[1]


def exact_origins(graph: RoadGraph, aug: RoadGraph, cut: np.ndarray, origins: np.ndarray,
                  dest_nodes: np.ndarray, dest_x: np.ndarray, dest_y: np.ndarray,
                  dest_weight: np.ndarray, *, limit_s: float, max_snap_m: float,
                  route=None, top_speed_kmh: float = defaults.EDGE_TOP_SPEED_KMH
                  ) -> np.ndarray:
    """Per origin, whether its potential is exact (see the module docstring).

    Parameters
    ----------
    graph : RoadGraph
        The road graph (its cut nodes and fastest edge).
    aug : RoadGraph
        The graph the potentials were searched on (``graph`` plus virtual nodes).
    cut : bool array over the nodes of ``graph``
        Where the extract cut the network.
    origins : int array
        The origins' nodes in ``aug``.
    dest_nodes : int array
        The destinations' nodes in ``aug``, -1 for a destination the extract does not
        reach (it still counts: a larger extract may).
    dest_x, dest_y : float arrays
        The destinations' points in ``graph.crs``.
    dest_weight : float array
        Their weights (daytime population); those with 0 do not count.
    limit_s : float
        The potential's limit, seconds (inclusive).
    max_snap_m : float
        The snapping limit: a destination's road node lies within it of its point.
    route : callable, optional
        ``route(origins, targets, limit)`` -> sparse table of seconds; default
        bounded searches on ``aug`` (pass a hierarchy's ``one_to_many``).

    Returns
    -------
    bool array, one per origin
    """
    src = np.flatnonzero(np.asarray(cut, bool))
    n_o = np.asarray(origins).size
    if src.size == 0 or n_o == 0:
        return np.ones(n_o, bool)
    gx, gy = np.asarray(graph.x, float), np.asarray(graph.y, float)
    labels = exit_sections(gx[src], gy[src])
    n_k = int(labels.max()) + 1
    v = max(top_speed_kmh / 3.6, max_speed_ms(graph))
    dest_xy = np.column_stack([dest_x, dest_y]).astype(np.float64)
    t_k = np.full((n_k, n_o), np.inf)
    l_k = np.full((n_k, dest_xy.shape[0]), np.inf)
    for k in range(n_k):
        nodes = src[labels == k]
        res = nearest_facility(aug, nodes, np.zeros(nodes.size), limit=limit_s, reverse=True)
        t_k[k] = np.asarray(res.dist, np.float64)[origins]
        if dest_xy.shape[0]:
            d, _ = cKDTree(np.column_stack([gx[nodes], gy[nodes]])).query(dest_xy)
            l_k[k] = np.maximum(d - max_snap_m, 0.0) / v
    on = np.flatnonzero(np.asarray(dest_nodes) >= 0)
    if route is None:
        def route(o, t, limit):
            return one_to_many(aug, o, t, limit=limit)
    pairs = route(np.asarray(origins, np.int64), np.asarray(dest_nodes)[on], limit_s)
    pairs.sort_indices()
    # columns of the table are positions in ``on``: back to destination indices
    cols = on[pairs.indices].astype(np.int64)
    w = np.asarray(dest_weight, np.float64)
    return exact_rows(pairs.indptr.astype(np.int64), cols, pairs.data.astype(np.float64),
                      t_k, l_k, np.where(np.isfinite(w), w, 0.0), float(limit_s))
