"""Whether a 2-hour potential is exact: could a larger road extract change it?

The potential of origin o sums the destinations d reached within the limit. A route
that leaves the extract passes first through a node where the extract cut the
network (a cut node c1, :func:`accessibility.graph.cut_nodes`); up to there it runs
inside the extract, so it takes at least ``t(o, c1)``. Beyond, it either comes back
in through a cut node c2 and drives inside to d (d's road node is inside), covering
at least the straight line from c1 to c2 at the top speed v and then ``t(c2, d)``
inside; or, for a destination whose road node a larger extract may move beyond the
cut (its snapping; or one without a road node now that lies beyond the extract: its
nearest cut node no farther than its nearest road plus the snapping limit), it
covers the straight line from c1 to d's point less the snapping limit. A
destination deep inside, off every road, never counts. So no route through the cut
reaches d before

    b(o, d) = min(min over c2 of A(o, c2) + t(c2, d),
                  min over c1 of t(o, c1) + max(0, line(c1, d) - max_snap_m) / v),
    A(o, c2) = min over c1 of t(o, c1) + line(c1, c2) / v,

A being the earliest arrival at c2 by a route that has left the extract (more than
one way out and back in is no faster: inside, no edge is faster than v, and the
straight lines obey the triangle inequality). Only a c2 with ``A(o, c2) < t(o, c2)``
can matter (else ``t(o, c2) + t(c2, d) >= t(o, d)``), so a destination reached along
the border is not flagged for that alone: only a real shortcut through the outside
could count. The potential is exact when, for every destination that counts (with
daytime population), the time found is no more than ``b`` (reached within the
limit), or ``b`` lies beyond the limit (not reached).

v is :func:`accessibility.graph.top_speed_ms`: the profile's cap on every edge
speed (``max_speed_kmh``, 130 km/h for ``de-car``: a larger extract built with the
same profile has no faster edge), else 200 km/h; never below the graph's fastest
edge.

The bound is computed per cut node (``t(o, c)`` and ``t(c, d)`` as bounded
many-to-many tables, then the kernel
:func:`~accessibility.routing._exact_kernels.exact_rows_by_node`) with a
contraction hierarchy or at most ``2 * MAX_EXIT_SECTIONS`` cut nodes. Otherwise (plain
searches on a graph with many cut nodes, where a search per cut node would cost more
than the potentials) the cut nodes are grouped into :data:`MAX_EXIT_SECTIONS`
sections of the border (k-means); each section gets one reverse and one forward
search, ``t`` being the time to or from the section's nearest cut node and ``line``
the shortest distance between sections: every term is no more than the per-node
one, so that test stays sound, only looser.

This replaces "the search reached a cut node" where the graph knows its cut: on a
national graph nearly every 120-minute search reaches a border, but fewer could gain
by a route through a neighbouring country.

The same bound gives a flagged potential's upper end (:func:`origin_bounds`): times
found inside are upper bounds of the true ones and ``b`` is a lower bound of every
route through the cut, so no larger extract brings d sooner than
``min(time inside, b(o, d))``; the potential with those times (the same decay, which
falls with time, and the same limit; a destination not reached inside counts where
``b`` is within it) is at least the potential of any larger extract. Where the Lage
class of the potential found and that of the upper bound agree, the class is certain
although the potential may still grow (``potential_2h_max``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.cluster.vq import kmeans2
from scipy.spatial import cKDTree

from ..graph import (
    RoadGraph,
    attach_settings,
    point_coordinates,
    project,
    snap_may_move,
    top_speed_ms,
)
from ..routing import (
    Decay,
    exact_rows,
    exact_rows_by_node,
    nearest_facility,
    one_to_many,
    upper_rows,
    upper_rows_by_node,
)

__all__ = ["MAX_EXIT_SECTIONS", "exact_origins", "exit_sections", "origin_bounds",
           "potential_flags", "potential_max"]

#: The most sections the cut nodes are grouped into (one reverse and one forward search
#: each) when the bound is not per cut node.
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
                  dest_may_move: np.ndarray | None = None, route=None,
                  top_speed_kmh: float | None = None, by_node: bool | None = None
                  ) -> np.ndarray:
    """Per origin, whether its potential is exact (see the module docstring); the
    arguments of :func:`origin_bounds`, which gives its upper bound too."""
    return origin_bounds(graph, aug, cut, origins, dest_nodes, dest_x, dest_y, dest_weight,
                         limit_s=limit_s, max_snap_m=max_snap_m, dest_may_move=dest_may_move,
                         route=route, top_speed_kmh=top_speed_kmh, by_node=by_node)[0]


def origin_bounds(graph: RoadGraph, aug: RoadGraph, cut: np.ndarray, origins: np.ndarray,
                  dest_nodes: np.ndarray, dest_x: np.ndarray, dest_y: np.ndarray,
                  dest_weight: np.ndarray, *, limit_s: float, max_snap_m: float,
                  decay: Decay | None = None, dest_may_move: np.ndarray | None = None,
                  route=None, top_speed_kmh: float | None = None, by_node: bool | None = None
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """Per origin, whether its potential is exact, and with ``decay`` an upper bound of
    its potential in any larger extract (see the module docstring).

    Parameters
    ----------
    graph : RoadGraph
        The road graph (its cut nodes, fastest edge and profile's cap).
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
    dest_may_move : bool array, optional
        Destinations whose road node a larger extract might move beyond the cut
        (:func:`accessibility.graph.snap_may_move`) among those with a node; for
        those without, the rule above decides.
    route : callable, optional
        ``route(origins, targets, limit)`` -> sparse table of seconds; default
        bounded searches on ``aug`` (pass a hierarchy's ``one_to_many``).
    top_speed_kmh : float, optional
        No road beyond the cut is faster (default
        :func:`~accessibility.graph.top_speed_ms`).
    by_node : bool, optional
        The bound per cut node (True) or per section (False); default per node with
        ``route`` or at most ``2 * MAX_EXIT_SECTIONS`` cut nodes.
    decay : Decay, optional
        The potential's decay (minutes): with it, the upper bound too.

    Returns
    -------
    exact : bool array, one per origin
    upper : float array, one per origin, or None (without ``decay``)
        The potential with each destination's time ``min(time inside, b)`` (the
        weights ``dest_weight``): no larger extract gives more. Computed by its own
        sum, it may differ from an exact origin's potential in the last bits: callers
        take the potential there.
    """
    src = np.flatnonzero(np.asarray(cut, bool))
    n_o = np.asarray(origins).size
    if src.size == 0 or n_o == 0:
        return np.ones(n_o, bool), (None if decay is None else np.full(n_o, np.nan))
    if by_node is None:
        by_node = route is not None or src.size <= 2 * MAX_EXIT_SECTIONS
    if route is None:
        def route(o, t, limit):
            return one_to_many(aug, o, t, limit=limit)
    gx, gy = np.asarray(graph.x, float), np.asarray(graph.y, float)
    v = top_speed_ms(graph, top_speed_kmh)
    dest_xy = np.column_stack([dest_x, dest_y]).astype(np.float64)
    dest_nodes = np.asarray(dest_nodes, np.int64)
    moves = (np.zeros(dest_xy.shape[0], bool) if dest_may_move is None
             else np.asarray(dest_may_move, bool).copy())
    # without a road node now: beyond the extract (the nearest cut node about as near
    # as the nearest road), a larger one may reach it; deep inside, off every road,
    # with the cut farther than any road plus the snapping limit, it never counts
    off = dest_nodes < 0
    cxy = np.column_stack([gx[src], gy[src]])
    if off.any():
        to_road, _ = cKDTree(np.column_stack([gx, gy])).query(dest_xy[off])
        to_cut, _ = cKDTree(cxy).query(dest_xy[off])
        moves[off] = to_cut <= to_road + max_snap_m
    w = np.where(off & ~moves, 0.0, np.asarray(dest_weight, np.float64))
    w = np.where(np.isfinite(w), w, 0.0)
    org = np.asarray(origins, np.int64)
    on = np.flatnonzero(dest_nodes >= 0)
    dk = None if decay is None else decay.kernel_params(60.0)  # the kernels count seconds
    if by_node:
        return _exact_by_node(route, org, src, cxy, dest_nodes, on, dest_xy, moves, w,
                              float(limit_s), float(max_snap_m), v, dk)
    return _exact_by_section(aug, route, org, src, cxy, dest_nodes, on, dest_xy, moves, w,
                             float(limit_s), float(max_snap_m), v, dk)


def _exact_by_node(route, org, src, cxy, dest_nodes, on, dest_xy, moves, w, limit_s,
                   max_snap_m, v, dk) -> tuple[np.ndarray, np.ndarray | None]:
    """The bound per cut node: the origins' times to the destinations and to the cut
    nodes in one table, the cut nodes' times to the destinations in another; both
    kernels read the same tables."""
    n_on = on.size
    both = route(org, np.concatenate([dest_nodes[on], src]), limit_s).tocoo()
    dest = both.col < n_on
    p = _csr(both.row[dest], on[both.col[dest]], both.data[dest], org.size)
    o = _csr(both.row[~dest], both.col[~dest] - n_on, both.data[~dest], org.size)
    back = route(src, dest_nodes[on], limit_s).tocoo()
    c = _csr(back.row, on[back.col], back.data, src.size)
    md = np.flatnonzero(moves)
    args = (*p, *o, *c, cxy[:, 0].copy(), cxy[:, 1].copy(), md, dest_xy[md, 0].copy(),
            dest_xy[md, 1].copy(), w, limit_s, v, max_snap_m)
    exact = exact_rows_by_node(*args)
    return exact, (None if dk is None else upper_rows_by_node(*args, *dk))


def _csr(rows: np.ndarray, cols: np.ndarray, secs: np.ndarray, n_rows: int):
    """CSR arrays (indptr, columns, seconds) of entries, each row sorted by time."""
    order = np.lexsort((secs, rows))
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return (indptr, np.asarray(cols, np.int64)[order],
            np.asarray(secs, np.float64)[order])


def _exact_by_section(aug, route, org, src, cxy, dest_nodes, on, dest_xy, moves, w,
                      limit_s, max_snap_m, v, dk) -> tuple[np.ndarray, np.ndarray | None]:
    """The bound per section of the border (see the module docstring)."""
    labels = exit_sections(cxy[:, 0], cxy[:, 1])
    n_k = int(labels.max()) + 1
    n_o, n_d = org.size, dest_xy.shape[0]
    t_k = np.full((n_k, n_o), np.inf)      # origin -> section (reverse searches)
    back_k = np.full((n_k, n_d), np.inf)   # section -> destination, inside (forward)
    line_k = np.full((n_k, n_d), np.inf)   # section -> destination's point, straight
    gap = np.full((n_k, n_k), np.inf)      # section -> section, straight line (m)
    for k in range(n_k):
        nodes = src[labels == k]
        zero = np.zeros(nodes.size)
        t_k[k] = np.asarray(nearest_facility(aug, nodes, zero, limit=limit_s, reverse=True)
                            .dist, np.float64)[org]
        ahead = np.asarray(nearest_facility(aug, nodes, zero, limit=limit_s).dist, np.float64)
        back_k[k, on] = ahead[dest_nodes[on]]
        tree = cKDTree(cxy[labels == k])
        if moves.any():
            d, _ = tree.query(dest_xy[moves])
            line_k[k, moves] = np.maximum(d - max_snap_m, 0.0) / v
        d, _ = tree.query(cxy)
        np.minimum.at(gap[:, k], labels, d)
    # out at section k1, back in at k2 and on inside; or straight to a point that moves
    l_k = np.empty((n_k, n_d))
    for k1 in range(n_k):
        l_k[k1] = np.minimum(np.min(gap[k1][:, None] / v + back_k, axis=0), line_k[k1])
    pairs = route(org, dest_nodes[on], limit_s)
    pairs.sort_indices()
    # columns of the table are positions in ``on``: back to destination indices
    cols = on[pairs.indices].astype(np.int64)
    args = (pairs.indptr.astype(np.int64), cols, pairs.data.astype(np.float64), t_k, l_k, w,
            limit_s)
    return exact_rows(*args), (None if dk is None else upper_rows(*args, *dk))


def potential_flags(graph: RoadGraph, munis: pd.DataFrame, daytime, snap, idx: np.ndarray,
                    aug: RoadGraph, origins: np.ndarray, cut: np.ndarray, bd: np.ndarray,
                    limit_s: float, hierarchy=None, decay: Decay | None = None
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """``edge_flag`` of the Lage's origins where the graph knows its cut: not exact by
    the per-destination bound (:func:`origin_bounds`), or the origin's own snapping
    might move (``bd`` at its virtual node). The arguments are those of
    :func:`~accessibility.models.lage.lage_potential` (``snap``, ``idx``: the attached
    municipalities and those on the network; ``aug``: the graph with their virtual
    nodes; ``hierarchy``: the contraction hierarchy of ``aug`` for the pair times).

    With ``decay``, also the upper bound of each potential (:func:`origin_bounds`),
    NaN where the origin's own snapping might move (a larger extract may attach it
    beyond the cut: no bound is derived for that)."""
    lon, lat = point_coordinates(munis)
    ok = np.isfinite(lon) & np.isfinite(lat)
    x, y = np.full(lon.size, np.nan), np.full(lon.size, np.nan)
    if ok.any():
        x[ok], y[ok] = project(lon[ok], lat[ok], graph.crs)
    dest_nodes = np.full(len(munis), -1, np.int64)
    dest_nodes[idx] = graph.n_nodes + np.arange(idx.size)
    weight = np.where(ok, np.nan_to_num(np.asarray(daytime, float)), 0.0)
    max_snap = float(np.nanmax(np.r_[np.asarray(snap.snap_m, float)[idx], 0.0]))
    settings = attach_settings(munis).get("max_snap_m")
    route = None if hierarchy is None else (
        lambda o, t, limit: hierarchy.one_to_many(o, t, limit=limit))
    snap_lim = max(max_snap, settings or 0.0)
    moves = np.zeros(len(munis), bool)
    if ok.any():
        sm = np.asarray(snap.snap_m, float)  # those off the network: exact_origins decides
        moves[ok] = snap_may_move(graph, lon[ok], lat[ok],
                                  np.where(np.isfinite(sm), sm, snap_lim)[ok])
    exact, upper = origin_bounds(graph, aug, cut, origins, dest_nodes[ok], x[ok], y[ok],
                                 weight[ok], limit_s=limit_s, max_snap_m=snap_lim,
                                 dest_may_move=moves[ok], route=route, decay=decay)
    if upper is not None:
        upper = np.where(bd[origins], np.nan, upper)
    return ~exact | bd[origins], upper


def potential_max(sums: np.ndarray, flagged: np.ndarray, upper: np.ndarray | None
                  ) -> np.ndarray:
    """``potential_2h_max`` per origin: the potential where it is exact; where flagged,
    its upper bound ``upper`` but never below the potential found (``fmax``: an origin
    with no potential of its own, one a road scenario did not search, keeps the
    bound alone), NaN without a bound."""
    sums = np.asarray(sums, float)
    flagged = np.asarray(flagged, bool)
    if upper is None:
        return np.where(flagged, np.nan, sums)
    upper = np.asarray(upper, float)
    return np.where(flagged, np.where(np.isnan(upper), np.nan, np.fmax(sums, upper)), sums)
