"""Numba kernels of the bucket many-to-many queries on a contraction hierarchy.

Every target runs a backward upward search (in ``dn``) that leaves ``(target,
cost)`` entries in buckets at the nodes it settles (:func:`build_buckets`);
every origin runs a forward upward search (in ``up``) that scans the buckets of
the nodes it settles (:func:`bucket_potential`, :func:`bucket_one_to_many`).
Nodes are in rank space; conventions as in
:mod:`accessibility.routing._ch_kernels`. The Python API is
:class:`accessibility.routing.ContractionHierarchy`.
"""

import numpy as np
from numba import njit, prange

from ._decay import decay_weight
from ._heap import grow, heap_pop, heap_push_grow

# Chunks per thread in the parallel query loops.
_CHUNKS_PER_THREAD = 4


@njit(cache=True)
def _upward(src, d0, limit, g_off, g_t, g_w, s_off, s_t, s_w, dist, touched,
            settled, sdist, hk, hv):
    """Upward search from ``src`` (start cost ``d0``) in the CSR ``g`` with
    stall-on-demand through the CSR ``s`` (arcs from higher nodes into a node,
    in the search direction), pruned beyond ``limit``.

    A settled node ``v`` is stalled when some higher ``w`` has ``dist[w] + c(w, v)
    < dist[v]``: then ``dist[v]`` is no shortest cost and no shortest path meets
    there. ``dist`` must be ``inf`` on entry; it is reset before returning.

    Returns ``(n_settled, touched, settled, sdist, hk, hv)``: the non-stalled
    settled nodes and their costs in ``settled[:n], sdist[:n]``.
    """
    ns = 0
    if not d0 <= limit:
        return ns, touched, settled, sdist, hk, hv
    nt = 0
    dist[src] = d0
    touched[0] = src
    nt = 1
    size = 0
    hk, hv, size = heap_push_grow(hk, hv, size, d0, np.int64(src))
    while size > 0:
        d, v, size = heap_pop(hk, hv, size)
        if d > dist[v]:
            continue
        stalled = False
        for q in range(s_off[v], s_off[v + 1]):
            if dist[s_t[q]] + s_w[q] < d:
                stalled = True
                break
        if stalled:
            continue
        if ns == settled.size:
            settled = grow(settled, 2 * ns)
            sdist = grow(sdist, 2 * ns)
        settled[ns] = v
        sdist[ns] = d
        ns += 1
        for q in range(g_off[v], g_off[v + 1]):
            x = g_t[q]
            nd = d + g_w[q]
            if nd <= limit and nd < dist[x]:
                if dist[x] == np.inf:
                    if nt == touched.size:
                        touched = grow(touched, 2 * nt)
                    touched[nt] = x
                    nt += 1
                dist[x] = nd
                hk, hv, size = heap_push_grow(hk, hv, size, nd, np.int64(x))
    for q in range(nt):
        dist[touched[q]] = np.inf
    return ns, touched, settled, sdist, hk, hv


@njit(cache=True)
def _n_chunks(k, threads):
    return max(1, min(k, _CHUNKS_PER_THREAD * threads))


@njit(cache=True)
def _backward_chunk(c, n_chunks, targets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
                    count, pos, b_node, b_dist, write):
    """Backward searches of targets ``c, c + n_chunks, ...``: count their
    settled nodes (``write=False``) or write them from ``pos[j]`` on."""
    n = up_off.size - 1
    dist = np.full(n, np.inf)
    touched = np.empty(256, np.int64)
    settled = np.empty(256, np.int64)
    sdist = np.empty(256, np.float64)
    hk = np.empty(256, np.float64)
    hv = np.empty(256, np.int64)
    for j in range(c, targets.size, n_chunks):
        ns, touched, settled, sdist, hk, hv = _upward(
            targets[j], 0.0, limit, dn_off, dn_t, dn_w, up_off, up_t, up_w,
            dist, touched, settled, sdist, hk, hv)
        if write:
            p = pos[j]
            for q in range(ns):
                b_node[p + q] = settled[q]
                b_dist[p + q] = sdist[q]
        else:
            count[j] = ns


@njit(parallel=True, cache=True)
def build_buckets(targets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w, threads):
    """Buckets of the backward searches from ``targets`` (rank space).

    Returns ``(b_off, b_tgt, b_dist)``: CSR over nodes; node ``v``'s bucket holds
    ``(j, d)`` for every target index ``j`` whose backward search settled ``v``
    (unstalled) at cost ``d <= limit``, in increasing ``j``.
    """
    n = up_off.size - 1
    k = targets.size
    count = np.zeros(k, np.int64)
    pos = np.zeros(k + 1, np.int64)
    dummy_n = np.empty(0, np.int64)
    dummy_d = np.empty(0, np.float64)
    nc = _n_chunks(k, threads)
    for c in prange(nc):
        _backward_chunk(c, nc, targets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
                        count, pos, dummy_n, dummy_d, False)
    for j in range(k):
        pos[j + 1] = pos[j] + count[j]
    total = pos[k]
    e_node = np.empty(total, np.int64)
    e_dist = np.empty(total, np.float64)
    for c in prange(nc):
        _backward_chunk(c, nc, targets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
                        count, pos, e_node, e_dist, True)
    # counting sort by node, stable in the target index
    b_off = np.zeros(n + 1, np.int64)
    for q in range(total):
        b_off[e_node[q] + 1] += 1
    for v in range(n):
        b_off[v + 1] += b_off[v]
    fill = b_off[:-1].copy()
    b_tgt = np.empty(total, np.int32)
    b_dist = np.empty(total, np.float64)
    for j in range(k):
        for q in range(pos[j], pos[j + 1]):
            v = e_node[q]
            f = fill[v]
            b_tgt[f] = j
            b_dist[f] = e_dist[q]
            fill[v] = f + 1
    return b_off, b_tgt, b_dist


@njit(cache=True, inline="always")
def _scan_buckets(ns, settled, sdist, b_off, b_tgt, b_dist, limit, best, tl):
    """Meet a forward upward search with the targets' buckets.

    For every node the forward search settled (``settled[:ns]`` at ``sdist``),
    every bucket entry (target, backward cost) gives a candidate cost; ``best``
    keeps the smallest per target (``inf`` = not yet reached) and ``tl`` lists
    the targets reached. Returns how many targets are in ``tl``.
    """
    nt = 0
    for q in range(ns):
        v = settled[q]
        df = sdist[q]
        for e in range(b_off[v], b_off[v + 1]):
            cst = df + b_dist[e]
            j = b_tgt[e]
            if cst <= limit and cst < best[j]:
                if best[j] == np.inf:
                    tl[nt] = j
                    nt += 1
                best[j] = cst
    return nt


@njit(cache=True)
def _forward_chunk(c, n_chunks, origins, origin_offsets, limit, up_off, up_t, up_w,
                   dn_off, dn_t, dn_w, b_off, b_tgt, b_dist, n_targets, target_weight,
                   decay_kind, decay_param, decay_floor, sums, n_reached):
    n = up_off.size - 1
    dist = np.full(n, np.inf)
    touched = np.empty(256, np.int64)
    settled = np.empty(256, np.int64)
    sdist = np.empty(256, np.float64)
    hk = np.empty(256, np.float64)
    hv = np.empty(256, np.int64)
    best = np.full(n_targets, np.inf)
    tl = np.empty(n_targets, np.int64)
    for i in range(c, origins.size, n_chunks):
        ns, touched, settled, sdist, hk, hv = _upward(
            origins[i], origin_offsets[i], limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
            dist, touched, settled, sdist, hk, hv)
        nt = _scan_buckets(ns, settled, sdist, b_off, b_tgt, b_dist, limit, best, tl)
        acc = 0.0
        for q in range(nt):
            j = tl[q]
            acc += decay_weight(best[j], decay_kind, decay_param, decay_floor) * target_weight[j]
            best[j] = np.inf
        sums[i] = acc
        n_reached[i] = nt


@njit(parallel=True, cache=True)
def bucket_potential(origins, origin_offsets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
                     b_off, b_tgt, b_dist, target_weight, decay_kind, decay_param, decay_floor, threads):
    """Decay-weighted sum of target weights within ``limit`` of every origin.

    ``origins`` are in rank space; the buckets come from :func:`build_buckets`
    with the same ``limit``; ``target_weight[j]`` is the weight of target ``j``.
    Each origin is summed in its own (deterministic) order, so the results do
    not depend on the number of threads.

    Returns ``(sums, n_reached)``.
    """
    k = origins.size
    sums = np.zeros(k)
    n_reached = np.zeros(k, np.int64)
    nc = _n_chunks(k, threads)
    for c in prange(nc):
        _forward_chunk(c, nc, origins, origin_offsets, limit, up_off, up_t, up_w,
                       dn_off, dn_t, dn_w, b_off, b_tgt, b_dist, target_weight.size,
                       target_weight, decay_kind, decay_param, decay_floor, sums, n_reached)
    return sums, n_reached


@njit(cache=True)
def bucket_one_to_many(origins, origin_offsets, limit, up_off, up_t, up_w, dn_off, dn_t,
                       dn_w, b_off, b_tgt, b_dist, n_targets):
    """Costs within ``limit`` from every origin to every target, as CSR arrays
    ``(indptr, cols, costs)`` with columns sorted (target indices)."""
    n = up_off.size - 1
    dist = np.full(n, np.inf)
    touched = np.empty(256, np.int64)
    settled = np.empty(256, np.int64)
    sdist = np.empty(256, np.float64)
    hk = np.empty(256, np.float64)
    hv = np.empty(256, np.int64)
    best = np.full(n_targets, np.inf)
    tl = np.empty(n_targets, np.int64)
    indptr = np.zeros(origins.size + 1, np.int64)
    cols = np.empty(1024, np.int32)
    costs = np.empty(1024, np.float64)
    m = 0
    for i in range(origins.size):
        ns, touched, settled, sdist, hk, hv = _upward(
            origins[i], origin_offsets[i], limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
            dist, touched, settled, sdist, hk, hv)
        nt = _scan_buckets(ns, settled, sdist, b_off, b_tgt, b_dist, limit, best, tl)
        row = np.sort(tl[:nt])
        cols = grow(cols, m + nt)
        costs = grow(costs, m + nt)
        for q in range(nt):
            j = row[q]
            cols[m + q] = j
            costs[m + q] = best[j]
            best[j] = np.inf
        m += nt
        indptr[i + 1] = m
    return indptr, cols[:m].copy(), costs[:m].copy()
