"""Numba kernels of PHAST and RPHAST on a contraction hierarchy: arrays in, arrays out.

The Python API is in :mod:`accessibility.routing.ch` (``ContractionHierarchy.one_to_all``,
``many_to_all``, ``rphast_one_to_many``, ``rphast_potential``). Conventions as in
:mod:`accessibility.routing._ch_kernels`: nodes are in rank space (``n - 1`` = most
important); ``up`` holds at ``v`` the arcs ``v -> w`` with ``w > v``; ``dn`` holds
at ``v`` the arcs ``w -> v`` with ``w > v``, stored as ``(w, cost)``.

PHAST (Delling, Goldberg, Nowatzyk, Werneck 2011): the cost from a source to
every node is the minimum over the highest node ``m`` of a shortest path of
(upward cost to ``m``) + (downward cost from ``m``). An upward search in ``up``
from the source gives the first part at every node it reaches; one linear
sweep over all nodes in *descending* rank then adds the downward parts: when
node ``v`` is scanned, every ``w`` with an arc ``w -> v`` has a higher rank and
is final already, so ``d[v] = min(d[v], min over (w, c) in dn[v] of d[w] + c)``
makes ``d[v]`` final too. No priority queue in the sweep, and the arrays are
read in order. Any order in which every node comes after the higher ends of its
downward in-arcs will do; :func:`phast_order` lays the nodes out by *level*
(the longest downward chain below a node; descending) and, within a level, in
graph order, so that neighbouring nodes of the road network are swept (and
read) close together: about 2x faster than plain descending rank on a
4M-node graph, where the sweep is bound by memory access.

RPHAST (Delling, Goldberg, Werneck 2011) for many sources and a fixed target
set: only nodes that can reach a target on a downward path matter for the
sweep. They are selected once (:func:`rphast_select`: an upward search in
``dn`` from the targets), renumbered compactly in descending rank with their
downward arcs, and every source then sweeps only this restricted graph.
Sources are swept in batches of :data:`BATCH` (one column per source, the
inner loop over the batch vectorises), batches in parallel.
"""

import numpy as np
from numba import njit, prange

from ._decay import decay_weight
from ._heap import grow, heap_pop, heap_push_grow

#: Sources swept together by the RPHAST kernels (columns of the distance block).
BATCH = 8
# Chunks per thread in the parallel loops (each chunk holds its own scratch).
_CHUNKS_PER_THREAD = 2


# --------------------------------------------------------------------------- PHAST


@njit(cache=True)
def phast_order(rank, dn_off, dn_t, dn_w):
    """The sweep layout of PHAST: nodes by level, descending, then graph order.

    The level of a node is the length of the longest chain of downward arcs
    below it (0: no downward arc leaves it); every downward arc ``w -> v`` has
    ``level(w) > level(v)``, so sweeping by descending level is valid.

    Parameters
    ----------
    rank : ndarray of int64, shape (n,)
        Rank of every graph node.
    dn_off, dn_t, dn_w : ndarray
        Downward graph reversed, in rank space.

    Returns
    -------
    pos : ndarray of int32, shape (n,)
        Sweep index of every rank-space node.
    gpos : ndarray of int32, shape (n,)
        Sweep index of every graph node (``pos[rank]``).
    s_off, s_t, s_w : ndarray
        The downward graph reversed, in sweep indices: at ``i`` the arcs
        ``(j, cost)`` with ``j < i`` into ``i``.
    """
    n = rank.size
    level = np.zeros(n, np.int64)
    for v in range(n):  # ascending rank: the lower end of every arc is final
        lv = level[v] + 1
        for q in range(dn_off[v], dn_off[v + 1]):
            w = dn_t[q]
            if level[w] < lv:
                level[w] = lv
    top = 0
    for v in range(n):
        top = max(top, level[v])
    start = np.zeros(top + 2, np.int64)
    for v in range(n):
        start[top - level[v] + 1] += 1
    for b in range(top + 1):
        start[b + 1] += start[b]
    pos = np.empty(n, np.int32)
    gpos = np.empty(n, np.int32)
    inv = np.empty(n, np.int64)
    for g in range(n):  # counting sort, stable in graph order
        v = rank[g]
        b = top - level[v]
        i = start[b]
        start[b] = i + 1
        pos[v] = i
        gpos[g] = i
        inv[i] = v
    s_off = np.zeros(n + 1, np.int64)
    for i in range(n):
        v = inv[i]
        s_off[i + 1] = s_off[i] + dn_off[v + 1] - dn_off[v]
    s_t = np.empty(s_off[n], np.int32)
    s_w = np.empty(s_off[n], np.float64)
    for i in range(n):
        v = inv[i]
        p = s_off[i]
        for q in range(dn_off[v], dn_off[v + 1]):
            s_t[p] = pos[dn_t[q]]
            s_w[p] = dn_w[q]
            p += 1
    return pos, gpos, s_off, s_t, s_w


@njit(cache=True, inline="always")
def _stalled(v, dv, dn_off, dn_t, dn_w, d, pos):
    """Stall-on-demand: a higher node reaches ``v`` (arc ``v <- x`` of the downward
    graph) for less than ``dv``, so ``v`` is not settled at its distance here."""
    for q in range(dn_off[v], dn_off[v + 1]):
        if d[pos[dn_t[q]]] + dn_w[q] < dv:
            return True
    return False


@njit(cache=True)
def _upward_labels(sources, source_offsets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
                   pos, d, lab):
    """Multi-source upward search in ``up``, writing costs and source labels.

    The search runs in rank space; ``d`` (``inf``) and ``lab`` (-1) are indexed
    by ``pos[node]``. Labels are ``(cost, source index)`` minima: a node takes a
    source's label when it is strictly cheaper, or equally cheap from a lower
    source index (then the node is queued again so that its label spreads). A
    node stalled on demand keeps an upper bound that the sweep corrects.
    """
    k = sources.size
    hk = np.empty(max(64, 2 * k), np.float64)
    hv = np.empty(hk.size, np.int64)
    size = 0
    for i in range(k):
        s = sources[i]
        ps = pos[s]
        d0 = source_offsets[i]
        if d0 <= limit and (d0 < d[ps] or (d0 == d[ps] and i < lab[ps])):
            d[ps] = d0
            lab[ps] = i
            hk, hv, size = heap_push_grow(hk, hv, size, d0, s)
    while size > 0:
        dv, v, size = heap_pop(hk, hv, size)
        pv = pos[v]
        if dv > d[pv]:
            continue
        if _stalled(v, dv, dn_off, dn_t, dn_w, d, pos):
            continue
        lv = lab[pv]
        for q in range(up_off[v], up_off[v + 1]):
            x = up_t[q]
            px = pos[x]
            nd = dv + up_w[q]
            if nd <= limit and (nd < d[px] or (nd == d[px] and lv < lab[px])):
                d[px] = nd
                lab[px] = lv
                hk, hv, size = heap_push_grow(hk, hv, size, nd, np.int64(x))


@njit(cache=True)
def _sweep_labels(limit, s_off, s_t, s_w, d, lab):
    """The PHAST sweep with source labels, in sweep order: every node takes the
    best ``(cost, label)`` of its own and of its downward in-arcs."""
    for v in range(d.size):
        dv = d[v]
        lv = lab[v]
        for q in range(s_off[v], s_off[v + 1]):
            w = s_t[q]
            nd = d[w] + s_w[q]
            if nd <= limit and (nd < dv or (nd == dv and lab[w] < lv)):
                dv = nd
                lv = lab[w]
        d[v] = dv
        lab[v] = lv


@njit(cache=True)
def phast(sources, source_offsets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
          pos, gpos, s_off, s_t, s_w):
    """Cost from the nearest of several sources to every node (PHAST).

    Parameters
    ----------
    sources : ndarray of int64, shape (k,)
        Source nodes in rank space (duplicates allowed).
    source_offsets : ndarray of float64, shape (k,)
        Start cost of each source (``>= 0``).
    limit : float
        Largest cost reported (inclusive); ``inf`` for none.
    up_off, up_t, up_w, dn_off, dn_t, dn_w : ndarray
        The hierarchy (see the module docstring).
    pos, gpos, s_off, s_t, s_w : ndarray
        The sweep layout from :func:`phast_order`.

    Returns
    -------
    dist : ndarray of float64, shape (n,)
        In graph node order: ``min_i source_offsets[i] + d(sources[i], v)``,
        ``inf`` when unreached or beyond ``limit``.
    nearest : ndarray of int32, shape (n,)
        Index of the source attaining ``dist`` (the lowest index on ties), -1
        when unreached.
    """
    n = pos.size
    d = np.full(n, np.inf)
    dist = np.empty(n)
    nearest = np.empty(n, np.int32)
    if sources.size == 1:  # one source: no labels to carry through the sweep
        touched = np.empty(256, np.int64)
        hk = np.empty(256, np.float64)
        hv = np.empty(256, np.int64)
        _upward(sources[0], source_offsets[0], limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
                pos, d, touched, hk, hv)
        _sweep(limit, s_off, s_t, s_w, d)
        for g in range(n):
            x = d[gpos[g]]
            dist[g] = x
            nearest[g] = 0 if x < np.inf else -1
        return dist, nearest
    lab = np.full(n, -1, np.int32)
    _upward_labels(sources, source_offsets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
                   pos, d, lab)
    _sweep_labels(limit, s_off, s_t, s_w, d, lab)
    for g in range(n):
        i = gpos[g]
        dist[g] = d[i]
        nearest[g] = lab[i]
    return dist, nearest


@njit(cache=True)
def _upward(src, d0, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w, pos, d, touched, hk, hv):
    """Upward search from ``src`` (rank space, start cost ``d0``) with
    stall-on-demand, pruned beyond ``limit``. Costs are kept in ``d`` at
    ``pos[node]``; ``d`` must be ``inf`` everywhere on entry. The touched nodes
    are listed (rank space) in ``touched[:n_touched]``, their costs are upper
    bounds at stalled nodes.

    Returns ``(n_touched, touched, hk, hv)``.
    """
    nt = 0
    if not d0 <= limit:
        return nt, touched, hk, hv
    d[pos[src]] = d0
    touched[0] = src
    nt = 1
    size = 0
    hk, hv, size = heap_push_grow(hk, hv, size, d0, np.int64(src))
    while size > 0:
        dv, v, size = heap_pop(hk, hv, size)
        if dv > d[pos[v]]:
            continue
        if _stalled(v, dv, dn_off, dn_t, dn_w, d, pos):
            continue
        for q in range(up_off[v], up_off[v + 1]):
            x = up_t[q]
            px = pos[x]
            nd = dv + up_w[q]
            if nd <= limit and nd < d[px]:
                if d[px] == np.inf:
                    if nt == touched.size:
                        touched = grow(touched, 2 * nt)
                    touched[nt] = x
                    nt += 1
                d[px] = nd
                hk, hv, size = heap_push_grow(hk, hv, size, nd, np.int64(x))
    return nt, touched, hk, hv


@njit(cache=True)
def _sweep(limit, s_off, s_t, s_w, d):
    """The PHAST sweep without labels (see :func:`_sweep_labels`)."""
    for v in range(d.size):
        dv = d[v]
        for q in range(s_off[v], s_off[v + 1]):
            nd = d[s_t[q]] + s_w[q]
            if nd < dv and nd <= limit:
                dv = nd
        d[v] = dv


@njit(cache=True)
def _n_chunks(k, threads):
    return max(1, min(k, _CHUNKS_PER_THREAD * threads))


@njit(parallel=True, cache=True)
def phast_many(sources, source_offsets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
               pos, gpos, s_off, s_t, s_w, threads):
    """One full PHAST tree per source, sources in parallel.

    Parameters as in :func:`phast`, plus ``threads`` (chunks of sources; every
    chunk has its own distance array).

    Returns
    -------
    ndarray of float64, shape (k, n)
        Row ``i``: ``source_offsets[i]`` + cost from ``sources[i]`` to every node
        (graph order), ``inf`` when unreached or beyond ``limit``.
    """
    n = pos.size
    k = sources.size
    out = np.empty((k, n))
    nc = _n_chunks(k, threads)
    for c in prange(nc):
        d = np.full(n, np.inf)
        touched = np.empty(256, np.int64)
        hk = np.empty(256, np.float64)
        hv = np.empty(256, np.int64)
        for i in range(c, k, nc):
            nt, touched, hk, hv = _upward(sources[i], source_offsets[i], limit, up_off, up_t,
                                          up_w, dn_off, dn_t, dn_w, pos, d, touched, hk, hv)
            _sweep(limit, s_off, s_t, s_w, d)
            for g in range(n):
                out[i, g] = d[gpos[g]]
            d[:] = np.inf
    return out


# -------------------------------------------------------------------------- RPHAST


@njit(cache=True)
def rphast_select(targets, limit, dn_off, dn_t, dn_w):
    """The target-restricted downward graph of RPHAST.

    A multi-source upward search in ``dn`` from the targets (cost 0, pruned
    beyond ``limit``) selects every node with a downward path of cost <=
    ``limit`` to some target; only those can lie on the downward part of a
    shortest path to a target within the limit. They are renumbered ``0, 1,
    ...`` in *descending* rank, so a sweep in ascending compact index is the
    PHAST sweep. Arcs from unselected nodes are dropped (a path through one
    costs more than ``limit``).

    Parameters
    ----------
    targets : ndarray of int64
        Target nodes in rank space (duplicates allowed).
    limit : float
        Largest cost of interest (``inf``: all nodes that reach a target).
    dn_off, dn_t, dn_w : ndarray
        Downward graph reversed (see the module docstring).

    Returns
    -------
    local : ndarray of int32, shape (n,)
        Compact index of every rank-space node, -1 when not selected.
    r_off, r_t, r_w : ndarray
        CSR of the restricted graph in compact indices: at ``i`` the arcs
        ``(j, cost)`` from ``j < i`` into ``i``.
    target_pos : ndarray of int64, shape (len(targets),)
        Compact index of every target.
    """
    n = dn_off.size - 1
    dist = np.full(n, np.inf)
    hk = np.empty(max(64, 2 * targets.size), np.float64)
    hv = np.empty(hk.size, np.int64)
    size = 0
    for t in targets:
        if dist[t] > 0.0:
            dist[t] = 0.0
            hk, hv, size = heap_push_grow(hk, hv, size, 0.0, np.int64(t))
    while size > 0:
        dv, v, size = heap_pop(hk, hv, size)
        if dv > dist[v]:
            continue
        for q in range(dn_off[v], dn_off[v + 1]):
            w = dn_t[q]
            nd = dv + dn_w[q]
            if nd <= limit and nd < dist[w]:
                dist[w] = nd
                hk, hv, size = heap_push_grow(hk, hv, size, nd, np.int64(w))
    local = np.full(n, -1, np.int32)
    m = 0
    n_arcs = 0
    for v in range(n - 1, -1, -1):
        if dist[v] < np.inf:
            local[v] = m
            m += 1
    r_off = np.zeros(m + 1, np.int64)
    for v in range(n - 1, -1, -1):
        i = local[v]
        if i >= 0:
            for q in range(dn_off[v], dn_off[v + 1]):
                if local[dn_t[q]] >= 0:
                    n_arcs += 1
            r_off[i + 1] = n_arcs
    r_t = np.empty(n_arcs, np.int32)
    r_w = np.empty(n_arcs, np.float64)
    p = 0
    for v in range(n - 1, -1, -1):
        if local[v] >= 0:
            for q in range(dn_off[v], dn_off[v + 1]):
                j = local[dn_t[q]]
                if j >= 0:
                    r_t[p] = j
                    r_w[p] = dn_w[q]
                    p += 1
    target_pos = np.empty(targets.size, np.int64)
    for j in range(targets.size):
        target_pos[j] = local[targets[j]]
    return local, r_off, r_t, r_w, target_pos


@njit(cache=True)
def _sweep_block(r_off, r_t, r_w, dd, nb):
    """RPHAST sweep of ``nb`` columns of ``dd`` (compact index x batch)."""
    for i in range(r_off.size - 1):
        for q in range(r_off[i], r_off[i + 1]):
            j = r_t[q]
            c = r_w[q]
            for b in range(nb):
                x = dd[j, b] + c
                if x < dd[i, b]:
                    dd[i, b] = x


@njit(cache=True)
def _rphast_chunk(c, n_chunks, origins, origin_offsets, limit, up_off, up_t, up_w, dn_off,
                  dn_t, dn_w, local, r_off, r_t, r_w, target_pos, target_weight, decay_kind,
                  decay_param, decay_floor, table, sums, n_reached, dense):
    """Batches ``c, c + n_chunks, ...`` of :data:`BATCH` origins: upward search of
    every origin into its column, one sweep of the block, then the rows of
    ``table`` (``dense``) or ``sums`` / ``n_reached``."""
    n = up_off.size - 1
    m = r_off.size - 1
    k = origins.size
    n_batches = (k + BATCH - 1) // BATCH
    d = np.full(n, np.inf)
    ident = np.arange(n)  # the upward searches run in rank space
    touched = np.empty(256, np.int64)
    hk = np.empty(256, np.float64)
    hv = np.empty(256, np.int64)
    dd = np.full((m, BATCH), np.inf)
    for bi in range(c, n_batches, n_chunks):
        i0 = bi * BATCH
        nb = min(BATCH, k - i0)
        for b in range(nb):
            nt, touched, hk, hv = _upward(origins[i0 + b], origin_offsets[i0 + b], limit,
                                          up_off, up_t, up_w, dn_off, dn_t, dn_w, ident, d,
                                          touched, hk, hv)
            for q in range(nt):
                x = touched[q]
                li = local[x]
                if li >= 0:
                    dd[li, b] = d[x]
                d[x] = np.inf
        _sweep_block(r_off, r_t, r_w, dd, nb)
        for b in range(nb):
            i = i0 + b
            if dense:
                for j in range(target_pos.size):
                    t = dd[target_pos[j], b]
                    table[i, j] = t if t <= limit else np.inf
            else:
                acc = 0.0
                cnt = 0
                for j in range(target_pos.size):
                    t = dd[target_pos[j], b]
                    if t <= limit and t < np.inf:
                        acc += decay_weight(t, decay_kind, decay_param, decay_floor) * target_weight[j]
                        cnt += 1
                sums[i] = acc
                n_reached[i] = cnt
        dd[:, :] = np.inf


@njit(parallel=True, cache=True)
def rphast_one_to_many(origins, origin_offsets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
                       local, r_off, r_t, r_w, target_pos, threads):
    """Costs from every origin to every target (RPHAST), a dense table.

    Parameters
    ----------
    origins : ndarray of int64, shape (k,)
        Origins in rank space.
    origin_offsets : ndarray of float64, shape (k,)
        Start cost of each origin.
    limit : float
        Largest cost reported (inclusive); the selection must have been made
        with a limit at least as large.
    up_off, up_t, up_w, dn_off, dn_t, dn_w : ndarray
        The hierarchy.
    local, r_off, r_t, r_w, target_pos : ndarray
        The selection from :func:`rphast_select`.
    threads : int
        Numba threads (sets the number of chunks of batches).

    Returns
    -------
    ndarray of float64, shape (k, len(target_pos))
        Costs, ``inf`` when unreached or beyond ``limit``.
    """
    k = origins.size
    table = np.empty((k, target_pos.size))
    sums = np.empty(0)
    n_reached = np.empty(0, np.int64)
    tw = np.empty(0)
    nc = _n_chunks((k + BATCH - 1) // BATCH, threads)
    for c in prange(nc):
        _rphast_chunk(c, nc, origins, origin_offsets, limit, up_off, up_t, up_w, dn_off,
                      dn_t, dn_w, local, r_off, r_t, r_w, target_pos, tw, 0, 0.0, 0.0, table,
                      sums, n_reached, True)
    return table


@njit(parallel=True, cache=True)
def rphast_potential(origins, origin_offsets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
                     local, r_off, r_t, r_w, target_pos, target_weight, decay_kind, decay_param, decay_floor,
                     threads):
    """Decay-weighted sum of the target weights within ``limit`` of every origin
    (RPHAST).

    Parameters as in :func:`rphast_one_to_many`, plus ``target_weight[j]``, the
    weight of target ``j``, and the decay ``(decay_kind, decay_param, decay_floor)`` of
    :func:`~._decay.decay_weight`. Each origin sums its targets in index order,
    so the result does not depend on the number of threads.

    Returns
    -------
    sums : ndarray of float64, shape (k,)
    n_reached : ndarray of int64, shape (k,)
        Targets within ``limit``.
    """
    k = origins.size
    sums = np.zeros(k)
    n_reached = np.zeros(k, np.int64)
    table = np.empty((0, 0))
    nc = _n_chunks((k + BATCH - 1) // BATCH, threads)
    for c in prange(nc):
        _rphast_chunk(c, nc, origins, origin_offsets, limit, up_off, up_t, up_w, dn_off,
                      dn_t, dn_w, local, r_off, r_t, r_w, target_pos, target_weight,
                      decay_kind, decay_param, decay_floor, table, sums, n_reached, False)
    return sums, n_reached
