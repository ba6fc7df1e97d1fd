"""Kernels of the dynamic repair of a multi-source search after edge changes
(:mod:`accessibility.routing.repair`): arrays in, arrays out.

A label is ``(dist, src)``: the search's time and the index of its source, ordered
lexicographically, as :func:`~.kernels.multi_source_dijkstra` settles them. ``ext``
of a label over an edge of weight ``w`` is ``(dist + w, src)``. Graph arguments are
CSR triples in the direction of the search (``s_*``: the edges a search relaxes) and
against it (``i_*``: the edges into each node).
"""

import numpy as np
from numba import njit

from ._heap import heap_pop, heap_push_grow


@njit(cache=True)
def pair_min_weights(offsets, targets, weights, us, vs):
    """The smallest weight of the edges ``us[i] -> vs[i]`` (``inf`` when there is none)."""
    out = np.full(us.size, np.inf)
    for i in range(us.size):
        u = us[i]
        for e in range(offsets[u], offsets[u + 1]):
            if targets[e] == vs[i] and weights[e] < out[i]:
                out[i] = weights[e]
    return out


@njit(cache=True, inline="always")
def _less(d1, s1, d2, s2):
    return d1 < d2 or (d1 == d2 and s1 < s2)


@njit(cache=True)
def _depends(v, u, i_off, i_tgt, i_w, dist, src, seed_d, seed_s):
    """Whether the base label of ``v`` rests on the label of ``u``: ``u`` is its
    designated parent (the first edge into ``v`` from a strictly nearer node that
    gives its label), or ``v`` has no such edge (a plateau of equal times) and ``u``
    gives its label. A label equal to a source's own start rests on nothing."""
    if not dist[v] < np.inf:
        return False
    if dist[v] == seed_d[v] and src[v] == seed_s[v]:
        return False
    gives = False
    for e in range(i_off[v], i_off[v + 1]):
        x = i_tgt[e]
        if src[x] == src[v] and dist[x] + i_w[e] == dist[v]:
            if dist[x] < dist[v]:
                return x == u  # the designated parent
            if x == u:
                gives = True
    return gives


@njit(cache=True)
def affected_nodes(s_off, s_tgt, i_off, i_tgt, i_w, dist, src, seed_d, seed_s, r_u, r_v):
    """The nodes whose base label rests, through the labels it was derived from, on
    a raised or removed edge ``r_u[i] -> r_v[i]`` (the base graph's CSR, in the
    search's direction, ``i_w`` the base weights). Returns a bool mask and the list."""
    n = s_off.size - 1
    aff = np.zeros(n, np.bool_)
    stack = np.empty(n, np.int64)
    top = 0
    for i in range(r_u.size):
        v = r_v[i]
        if not aff[v] and _depends(v, r_u[i], i_off, i_tgt, i_w, dist, src, seed_d, seed_s):
            aff[v] = True
            stack[top] = v
            top += 1
    k = 0
    while k < top:  # the stack keeps every affected node: stack[:top] is the list
        u = stack[k]
        k += 1
        for e in range(s_off[u], s_off[u + 1]):
            v = s_tgt[e]
            if not aff[v] and _depends(v, u, i_off, i_tgt, i_w, dist, src, seed_d, seed_s):
                aff[v] = True
                stack[top] = v
                top += 1
    return aff, stack[:top].copy()


@njit(cache=True)
def repair_search(s_off, s_tgt, s_w, i_off, i_tgt, i_w, base_dist, base_src, seed_d, seed_s,
                  aff, aff_nodes, l_u, l_v, l_w):
    """Labels of the changed graph (``s_*`` / ``i_*`` its CSR) from the base's.

    The affected nodes are reset and seeded from their own source and their
    unaffected in-neighbours; each lowered or new edge ``l_u -> l_v`` (weight
    ``l_w``) seeds its head; one Dijkstra in ``(dist, src)`` order then settles the
    affected nodes and every node whose label improves, relaxing their edges.

    Returns ``dist``, ``src`` (int32), the number of settled nodes and ``ok``:
    False when an improved node no longer gives the unchanged label of a node that
    rested on it (only where rounding makes two different times plus one edge
    equal); the caller then searches in full.
    """
    dist = base_dist.copy()
    src = base_src.copy()
    for a in aff_nodes:
        dist[a] = np.inf
        src[a] = -1
    hk = np.empty(max(16, aff_nodes.size + l_u.size), np.float64)
    hv = np.empty(hk.size, np.int64)
    size = 0
    for a in aff_nodes:
        bd = seed_d[a]
        bs = seed_s[a]
        for e in range(i_off[a], i_off[a + 1]):
            x = i_tgt[e]
            if not aff[x] and dist[x] < np.inf:
                nd = dist[x] + i_w[e]
                if _less(nd, src[x], bd, bs):
                    bd = nd
                    bs = src[x]
        if bd < np.inf:
            dist[a] = bd
            src[a] = bs
            hk, hv, size = heap_push_grow(hk, hv, size, bd, (np.int64(bs) << 32) | a)
    for i in range(l_u.size):
        u = l_u[i]
        v = l_v[i]
        if not aff[u] and dist[u] < np.inf:
            nd = dist[u] + l_w[i]
            if _less(nd, src[u], dist[v], src[v]):
                dist[v] = nd
                src[v] = src[u]
                hk, hv, size = heap_push_grow(hk, hv, size, nd, (np.int64(src[u]) << 32) | v)
    n_settled = 0
    while size > 0:
        d, val, size = heap_pop(hk, hv, size)
        v = val & 0xFFFFFFFF
        s = val >> 32
        if d != dist[v] or s != src[v]:
            continue  # improved since: a stale entry
        n_settled += 1
        for e in range(s_off[v], s_off[v + 1]):
            c = s_tgt[e]
            nd = d + s_w[e]
            if _less(nd, s, dist[c], src[c]):
                dist[c] = nd
                src[c] = s
                hk, hv, size = heap_push_grow(hk, hv, size, nd, (s << 32) | c)
            elif (not aff[v] and not aff[c] and dist[c] == base_dist[c]
                  and src[c] == base_src[c] and base_src[v] == base_src[c]
                  and base_dist[v] + s_w[e] == base_dist[c]
                  and (nd != dist[c] or s != src[c])):
                # c's unchanged label came from v's old one, v's new one gives a
                # larger label: c's may be gone (a rounding corner)
                return dist, src, n_settled, False
    return dist, src, n_settled, True
