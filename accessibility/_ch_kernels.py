"""Numba kernels of the contraction hierarchy (CH): arrays in, arrays out.

Preprocessing (:func:`contract`) and bucket-based many-to-many queries
(:func:`bucket_potential`, :func:`bucket_one_to_many`). The Python API is in
:mod:`accessibility.ch`.

Conventions
-----------
After :func:`contract`, nodes are renumbered by their contraction rank (0 =
contracted first, ``n - 1`` = most important). Two CSR graphs in rank space
describe the hierarchy:

* ``up``: for every node ``v`` the arcs ``v -> w`` with ``w > v`` (original
  direction), used by forward searches from origins;
* ``dn``: for every node ``v`` the arcs ``w -> v`` with ``w > v``, stored at
  ``v`` as ``(w, cost)``: the downward graph reversed, used by backward
  searches from targets.

Every shortest path ``s -> t`` has a highest node ``m`` with an upward path
``s -> m`` in ``up`` and an upward path ``t -> m`` in ``dn``, both of the
exact cost of the path's parts, so the minimum over meeting nodes of forward
plus backward cost is the exact distance (up to the floating-point association
of the sums).
"""

import numpy as np
from numba import njit, prange

from .kernels import DECAY_EXPONENTIAL, DECAY_GAUSSIAN, DECAY_POWER

# Chunks per thread in the parallel query loops.
_CHUNKS_PER_THREAD = 4


# --------------------------------------------------------------------------- heap
# A lazy binary min-heap on two growable arrays (key float64, value int64).


@njit(cache=True, inline="always")
def _hpush(hk, hv, size, key, val):
    """Push ``(key, val)``; returns ``(hk, hv, size)`` (arrays grown when full)."""
    if size == hk.size:
        nk = np.empty(2 * hk.size, hk.dtype)
        nv = np.empty(2 * hv.size, hv.dtype)
        nk[:size] = hk[:size]
        nv[:size] = hv[:size]
        hk = nk
        hv = nv
    j = size
    while j > 0:
        p = (j - 1) >> 1
        pk = hk[p]
        if pk < key or (pk == key and hv[p] <= val):
            break
        hk[j] = pk
        hv[j] = hv[p]
        j = p
    hk[j] = key
    hv[j] = val
    return hk, hv, size + 1


@njit(cache=True, inline="always")
def _hpop(hk, hv, size):
    """Remove the smallest entry; returns ``(key, val, size)``."""
    tk = hk[0]
    tv = hv[0]
    size -= 1
    if size > 0:
        key = hk[size]
        val = hv[size]
        j = 0
        while True:
            c = 2 * j + 1
            if c >= size:
                break
            if c + 1 < size and (hk[c + 1] < hk[c] or (hk[c + 1] == hk[c] and hv[c + 1] < hv[c])):
                c += 1
            if hk[c] > key or (hk[c] == key and hv[c] >= val):
                break
            hk[j] = hk[c]
            hv[j] = hv[c]
            j = c
        hk[j] = key
        hv[j] = val
    return tk, tv, size


@njit(cache=True)
def _grow1(a, need):
    """``a`` or a copy at least twice as long when shorter than ``need``."""
    if need <= a.size:
        return a
    b = np.empty(max(need, 2 * a.size), a.dtype)
    b[: a.size] = a
    return b


# ------------------------------------------------------------------ preprocessing
# The remaining (uncontracted) graph is kept as adjacency lists in two pools, one
# of out-arcs and one of in-arcs. Node ``v``'s list is ``pool[start[v]:start[v] +
# cnt[v]]`` with room for ``cap[v]`` arcs; a full list moves to the end of its
# pool with twice the room. Each arc holds its head (or tail), cost and the
# number of original edges it stands for (hops, for the priority).
# Contracting ``v`` removes its arcs from its neighbours' lists, so the lists
# only ever hold uncontracted nodes, and ``v``'s own lists at that moment are
# exactly its arcs to higher-ranked nodes.


@njit(cache=True)
def _pool_add(start, cnt, cap, pt, pw, ph, end, u, x, w, h):
    """Add arc ``u -> x`` (cost ``w``, hops ``h``) to ``u``'s list, or lower the
    cost of an existing one. Returns ``(pt, pw, ph, end)``."""
    s = start[u]
    for q in range(s, s + cnt[u]):
        if pt[q] == x:
            if w < pw[q]:
                pw[q] = w
                ph[q] = h
            return pt, pw, ph, end
    c = cnt[u]
    if c == cap[u]:
        ncap = max(2 * cap[u], 4)
        if end + ncap > pt.size:
            size = max(2 * pt.size, end + ncap)
            pt = _grow1(pt, size)
            pw = _grow1(pw, size)
            ph = _grow1(ph, size)
        pt[end:end + c] = pt[s:s + c]
        pw[end:end + c] = pw[s:s + c]
        ph[end:end + c] = ph[s:s + c]
        start[u] = end
        cap[u] = ncap
        s = end
        end += ncap
    pt[s + c] = x
    pw[s + c] = w
    ph[s + c] = h
    cnt[u] = c + 1
    return pt, pw, ph, end


@njit(cache=True)
def _pool_remove(start, cnt, pt, pw, ph, u, x):
    """Remove arc to/from ``x`` from ``u``'s list (swap with the last)."""
    s = start[u]
    last = s + cnt[u] - 1
    for q in range(s, last + 1):
        if pt[q] == x:
            pt[q] = pt[last]
            pw[q] = pw[last]
            ph[q] = ph[last]
            cnt[u] -= 1
            return


@njit(cache=True)
def _witness(u, skip, max_cost, settle_limit, o_start, o_cnt, o_t, o_w,
             dist, touched, hk, hv, stats, mark, stamp, n_marked):
    """Dijkstra from ``u`` on the remaining graph without node ``skip``, stopped
    after ``settle_limit`` settles, beyond ``max_cost`` or when the ``n_marked``
    nodes with ``mark == stamp`` (the targets) are all settled.

    ``dist`` must be ``inf`` everywhere on entry; the caller reads the (upper
    bound) costs and then resets ``dist`` at ``touched[:n_touched]``.

    Returns ``(n_touched, hk, hv)``.
    """
    nt = 0
    dist[u] = 0.0
    touched[nt] = u
    nt += 1
    size = 0
    hk, hv, size = _hpush(hk, hv, size, 0.0, np.int64(u))
    settled = 0
    while size > 0:
        d, a, size = _hpop(hk, hv, size)
        if d > dist[a]:
            continue
        if d > max_cost:
            break
        settled += 1
        if settled > settle_limit:
            stats[3] += 1
            break
        stats[2] += 1
        if mark[a] == stamp:
            n_marked -= 1
            if n_marked == 0:
                break
        s = o_start[a]
        for q in range(s, s + o_cnt[a]):
            x = o_t[q]
            if x == skip:
                continue
            nd = d + o_w[q]
            if nd < dist[x] and nd <= max_cost:
                if dist[x] == np.inf:
                    if nt == touched.size:
                        touched = _grow1(touched, 2 * nt)
                    touched[nt] = x
                    nt += 1
                dist[x] = nd
                hk, hv, size = _hpush(hk, hv, size, nd, np.int64(x))
    return nt, touched, hk, hv


@njit(cache=True)
def _contract_node(v, apply, settle_limit,
                   o_start, o_cnt, o_cap, o_t, o_w, o_h, o_end,
                   i_start, i_cnt, i_cap, i_t, i_w, i_h, i_end,
                   dist, touched, hk, hv, stats, mark):
    """Simulate (``apply=False``) or perform the contraction of ``v``.

    Returns ``(added, added_hops, n_shortcuts, pools..., scratch...)`` where
    ``added`` counts new arcs (an existing arc lowered counts as none).
    """
    added = 0
    added_hops = 0
    n_sc = 0
    os_ = o_start[v]
    oc = o_cnt[v]
    if oc > 0:
        for qi in range(i_start[v], i_start[v] + i_cnt[v]):
            u = i_t[qi]
            wu = i_w[qi]
            hu = i_h[qi]
            mx = -1.0
            for qo in range(os_, os_ + oc):
                if o_t[qo] != u and o_w[qo] > mx:
                    mx = o_w[qo]
            if mx < 0.0:
                continue
            max_cost = wu + mx
            stats[1] += 1
            stats[5] += 1
            stamp = stats[5]
            n_marked = 0
            for qo in range(os_, os_ + oc):
                x = o_t[qo]
                if x != u and mark[x] != stamp:
                    mark[x] = stamp
                    n_marked += 1
            nt, touched, hk, hv = _witness(u, v, max_cost, settle_limit, o_start, o_cnt,
                                           o_t, o_w, dist, touched, hk, hv, stats, mark,
                                           stamp, n_marked)
            for qo in range(os_, os_ + oc):
                x = o_t[qo]
                if x == u:
                    continue
                c = wu + o_w[qo]
                if dist[x] > c:  # no witness at most as short: a shortcut u -> x
                    n_sc += 1
                    h = hu + o_h[qo]
                    if apply:
                        before = o_cnt[u]
                        o_t, o_w, o_h, o_end = _pool_add(o_start, o_cnt, o_cap, o_t, o_w, o_h,
                                                         o_end, u, x, c, h)
                        i_t, i_w, i_h, i_end = _pool_add(i_start, i_cnt, i_cap, i_t, i_w, i_h,
                                                         i_end, x, u, c, h)
                        if o_cnt[u] > before:
                            added += 1
                            added_hops += h
                    else:
                        exists = False
                        for q in range(o_start[u], o_start[u] + o_cnt[u]):
                            if o_t[q] == x:
                                exists = True
                                break
                        if not exists:
                            added += 1
                            added_hops += h
            for q in range(nt):
                dist[touched[q]] = np.inf
    return (added, added_hops, n_sc, o_t, o_w, o_h, o_end, i_t, i_w, i_h, i_end,
            touched, hk, hv)


@njit(cache=True)
def _priority(v, settle_limit, level, deleted,
              o_start, o_cnt, o_cap, o_t, o_w, o_h, o_end,
              i_start, i_cnt, i_cap, i_t, i_w, i_h, i_end, dist, touched, hk, hv, stats,
              mark):
    """Priority of ``v`` (lower is contracted earlier): edge quotient + hop
    quotient + level + deleted neighbours share."""
    r = _contract_node(v, False, settle_limit,
                       o_start, o_cnt, o_cap, o_t, o_w, o_h, o_end,
                       i_start, i_cnt, i_cap, i_t, i_w, i_h, i_end, dist, touched, hk, hv,
                       stats, mark)
    stats[0] += 1
    added, added_hops = r[0], r[1]
    touched, hk, hv = r[11], r[12], r[13]
    removed = o_cnt[v] + i_cnt[v]
    removed_hops = 0
    for q in range(o_start[v], o_start[v] + o_cnt[v]):
        removed_hops += o_h[q]
    for q in range(i_start[v], i_start[v] + i_cnt[v]):
        removed_hops += i_h[q]
    p = float(level[v]) + 0.1 * deleted[v]
    if removed > 0:
        p += 2.0 * added / removed + added_hops / removed_hops
    return p, touched, hk, hv


@njit(cache=True)
def contract(out_off, out_t, out_w, in_off, in_t, in_w, sim_settle, settle):
    """Contract all nodes of a graph without self loops or parallel arcs.

    Parameters
    ----------
    out_off, out_t, out_w : ndarray
        CSR of the out-arcs (int64, int32, float64 >= 0).
    in_off, in_t, in_w : ndarray
        CSR of the in-arcs (tails), the same arcs reversed.
    sim_settle, settle : int
        Witness-search settle limits when estimating priorities and when
        contracting. An incomplete witness search only adds a superfluous
        shortcut, so costs stay exact.

    Returns
    -------
    rank : ndarray of int64, shape (n,)
        Contraction rank of every node.
    up_off, up_t, up_w : ndarray
        Upward graph in rank space (see the module docstring).
    dn_off, dn_t, dn_w : ndarray
        Downward graph reversed, in rank space.
    n_shortcuts : int
        Number of shortcut arcs created (an existing arc lowered counts as one).
    """
    n = out_off.size - 1
    m = out_t.size
    # pools with twice the room of each list
    o_start = np.empty(n, np.int64)
    o_cnt = np.empty(n, np.int64)
    o_cap = np.empty(n, np.int64)
    i_start = np.empty(n, np.int64)
    i_cnt = np.empty(n, np.int64)
    i_cap = np.empty(n, np.int64)
    o_t = np.empty(2 * m + 4 * n + 16, np.int32)
    o_w = np.empty(o_t.size, np.float64)
    o_h = np.empty(o_t.size, np.int32)
    i_t = np.empty(o_t.size, np.int32)
    i_w = np.empty(o_t.size, np.float64)
    i_h = np.empty(o_t.size, np.int32)
    o_end = 0
    i_end = 0
    for v in range(n):
        k = out_off[v + 1] - out_off[v]
        o_start[v] = o_end
        o_cnt[v] = k
        o_cap[v] = 2 * k + 2
        for q in range(k):
            o_t[o_end + q] = out_t[out_off[v] + q]
            o_w[o_end + q] = out_w[out_off[v] + q]
            o_h[o_end + q] = 1
        o_end += 2 * k + 2
        k = in_off[v + 1] - in_off[v]
        i_start[v] = i_end
        i_cnt[v] = k
        i_cap[v] = 2 * k + 2
        for q in range(k):
            i_t[i_end + q] = in_t[in_off[v] + q]
            i_w[i_end + q] = in_w[in_off[v] + q]
            i_h[i_end + q] = 1
        i_end += 2 * k + 2

    dist = np.full(n, np.inf)
    touched = np.empty(1024, np.int64)
    hk = np.empty(1024, np.float64)
    hv = np.empty(1024, np.int64)
    level = np.zeros(n, np.int64)
    deleted = np.zeros(n, np.int64)
    prio = np.empty(n, np.float64)
    contracted = np.zeros(n, np.bool_)
    # simulations, witness searches, settles, settle-limit stops, lazy re-pushes
    stats = np.zeros(8, np.int64)
    mark = np.zeros(n, np.int64)
    # priority queue of nodes (lazy: stale entries skipped)
    qk = np.empty(n + 16, np.float64)
    qv = np.empty(n + 16, np.int64)
    qs = 0
    for v in range(n):
        p, touched, hk, hv = _priority(v, sim_settle, level, deleted,
                                       o_start, o_cnt, o_cap, o_t, o_w, o_h, o_end,
                                       i_start, i_cnt, i_cap, i_t, i_w, i_h, i_end,
                                       dist, touched, hk, hv, stats, mark)
        prio[v] = p
        qk, qv, qs = _hpush(qk, qv, qs, p, np.int64(v))

    order = np.empty(n, np.int64)
    up_ptr = np.zeros(n + 1, np.int64)
    dn_ptr = np.zeros(n + 1, np.int64)
    up_t = np.empty(m + n, np.int64)
    up_w = np.empty(m + n, np.float64)
    dn_t = np.empty(m + n, np.int64)
    dn_w = np.empty(m + n, np.float64)
    nu = 0
    nd = 0
    n_shortcuts = 0
    k = 0
    nb = np.empty(64, np.int64)
    while qs > 0:
        p, v, qs = _hpop(qk, qv, qs)
        if contracted[v] or p != prio[v]:
            continue
        # lazy update: recompute, and put back when no longer the smallest
        p2, touched, hk, hv = _priority(v, sim_settle, level, deleted,
                                        o_start, o_cnt, o_cap, o_t, o_w, o_h, o_end,
                                        i_start, i_cnt, i_cap, i_t, i_w, i_h, i_end,
                                        dist, touched, hk, hv, stats, mark)
        if qs > 0 and p2 > qk[0]:
            stats[4] += 1
            prio[v] = p2
            qk, qv, qs = _hpush(qk, qv, qs, p2, v)
            continue
        # record v's arcs to the remaining (= higher) nodes
        oc = o_cnt[v]
        ic = i_cnt[v]
        up_t = _grow1(up_t, nu + oc)
        up_w = _grow1(up_w, nu + oc)
        dn_t = _grow1(dn_t, nd + ic)
        dn_w = _grow1(dn_w, nd + ic)
        for q in range(oc):
            up_t[nu + q] = o_t[o_start[v] + q]
            up_w[nu + q] = o_w[o_start[v] + q]
        for q in range(ic):
            dn_t[nd + q] = i_t[i_start[v] + q]
            dn_w[nd + q] = i_w[i_start[v] + q]
        nu += oc
        nd += ic
        order[k] = v
        k += 1
        up_ptr[k] = nu
        dn_ptr[k] = nd
        r = _contract_node(v, True, settle,
                           o_start, o_cnt, o_cap, o_t, o_w, o_h, o_end,
                           i_start, i_cnt, i_cap, i_t, i_w, i_h, i_end,
                           dist, touched, hk, hv, stats, mark)
        n_shortcuts += r[2]
        o_t, o_w, o_h, o_end = r[3], r[4], r[5], r[6]
        i_t, i_w, i_h, i_end = r[7], r[8], r[9], r[10]
        touched, hk, hv = r[11], r[12], r[13]
        contracted[v] = True
        # neighbours (distinct) of v; remove v from their lists
        nn = 0
        nb = _grow1(nb, oc + ic)
        for q in range(o_start[v], o_start[v] + o_cnt[v]):
            x = o_t[q]
            _pool_remove(i_start, i_cnt, i_t, i_w, i_h, x, v)
            nb[nn] = x
            nn += 1
        for q in range(i_start[v], i_start[v] + i_cnt[v]):
            u = i_t[q]
            _pool_remove(o_start, o_cnt, o_t, o_w, o_h, u, v)
            nb[nn] = u
            nn += 1
        o_cnt[v] = 0
        i_cnt[v] = 0
        nbs = np.unique(nb[:nn])
        for x in nbs:
            deleted[x] += 1
            if level[x] < level[v] + 1:
                level[x] = level[v] + 1
            p3, touched, hk, hv = _priority(x, sim_settle, level, deleted,
                                            o_start, o_cnt, o_cap, o_t, o_w, o_h, o_end,
                                            i_start, i_cnt, i_cap, i_t, i_w, i_h, i_end,
                                            dist, touched, hk, hv, stats, mark)
            prio[x] = p3
            qk, qv, qs = _hpush(qk, qv, qs, p3, x)

    rank = np.empty(n, np.int64)
    for i in range(n):
        rank[order[i]] = i
    ut = np.empty(nu, np.int32)
    dt = np.empty(nd, np.int32)
    for q in range(nu):
        ut[q] = rank[up_t[q]]
    for q in range(nd):
        dt[q] = rank[dn_t[q]]
    return (rank, up_ptr, ut, up_w[:nu].copy(), dn_ptr, dt, dn_w[:nd].copy(), n_shortcuts,
            stats)


# --------------------------------------------------------------------- queries


@njit(cache=True)
def _decay(t, kind, p1, p2):
    """Decay weight of cost ``t`` (kinds as in :mod:`accessibility.kernels`)."""
    if kind == DECAY_EXPONENTIAL:
        return np.exp(-p1 * t)
    if kind == DECAY_GAUSSIAN:
        return np.exp(-(t * t) / (2.0 * p1 * p1))
    if kind == DECAY_POWER:
        return (max(t, p2) / p2) ** (-p1)
    return 1.0


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
    hk, hv, size = _hpush(hk, hv, size, d0, np.int64(src))
    while size > 0:
        d, v, size = _hpop(hk, hv, size)
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
            settled = _grow1(settled, 2 * ns)
            sdist = _grow1(sdist, 2 * ns)
        settled[ns] = v
        sdist[ns] = d
        ns += 1
        for q in range(g_off[v], g_off[v + 1]):
            x = g_t[q]
            nd = d + g_w[q]
            if nd <= limit and nd < dist[x]:
                if dist[x] == np.inf:
                    if nt == touched.size:
                        touched = _grow1(touched, 2 * nt)
                    touched[nt] = x
                    nt += 1
                dist[x] = nd
                hk, hv, size = _hpush(hk, hv, size, nd, np.int64(x))
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
                   decay_kind, p1, p2, sums, n_reached):
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
            acc += _decay(best[j], decay_kind, p1, p2) * target_weight[j]
            best[j] = np.inf
        sums[i] = acc
        n_reached[i] = nt


@njit(parallel=True, cache=True)
def bucket_potential(origins, origin_offsets, limit, up_off, up_t, up_w, dn_off, dn_t, dn_w,
                     b_off, b_tgt, b_dist, target_weight, decay_kind, p1, p2, threads):
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
                       target_weight, decay_kind, p1, p2, sums, n_reached)
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
        cols = _grow1(cols, m + nt)
        costs = _grow1(costs, m + nt)
        for q in range(nt):
            j = row[q]
            cols[m + q] = j
            costs[m + q] = best[j]
            best[j] = np.inf
        m += nt
        indptr[i + 1] = m
    return indptr, cols[:m].copy(), costs[:m].copy()
