"""The sequential contraction of the CH, one node at a time: a reference for benchmarks.

The package contracts in parallel rounds
(:func:`accessibility.routing._ch_contract.contract_parallel`); this older
kernel, :func:`contract`, contracts the node of the smallest priority next
(lazy updates) and is run by ``benchmarks/ch_build.py --impl sequential``.
Both use the same priority
(:func:`~accessibility.routing._ch_kernels.contraction_priority`) and return
the hierarchy in the conventions of :mod:`accessibility.routing._ch_kernels`.
"""

import numpy as np
from numba import njit

from accessibility.routing._ch_kernels import contraction_priority
from accessibility.routing._heap import grow, heap_pop, heap_push_grow

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
            pt = grow(pt, size)
            pw = grow(pw, size)
            ph = grow(ph, size)
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
    hk, hv, size = heap_push_grow(hk, hv, size, 0.0, np.int64(u))
    settled = 0
    while size > 0:
        d, a, size = heap_pop(hk, hv, size)
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
                        touched = grow(touched, 2 * nt)
                    touched[nt] = x
                    nt += 1
                dist[x] = nd
                hk, hv, size = heap_push_grow(hk, hv, size, nd, np.int64(x))
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
    touched, hk, hv = r[11], r[12], r[13]
    p = contraction_priority(v, r[0], r[1], level, deleted, o_start, o_cnt, o_h, i_start, i_cnt,
                             i_h)
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
        qk, qv, qs = heap_push_grow(qk, qv, qs, p, np.int64(v))

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
        p, v, qs = heap_pop(qk, qv, qs)
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
            qk, qv, qs = heap_push_grow(qk, qv, qs, p2, v)
            continue
        # record v's arcs to the remaining (= higher) nodes
        oc = o_cnt[v]
        ic = i_cnt[v]
        up_t = grow(up_t, nu + oc)
        up_w = grow(up_w, nu + oc)
        dn_t = grow(dn_t, nd + ic)
        dn_w = grow(dn_w, nd + ic)
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
        nb = grow(nb, oc + ic)
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
            qk, qv, qs = heap_push_grow(qk, qv, qs, p3, x)

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
