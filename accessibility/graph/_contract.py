"""Numba kernel that contracts chains of degree-2 nodes (used by simplify)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _next_edge(offsets, targets, v, prev):
    """The edge that continues a chain through contractible node ``v`` entered from
    ``prev``: the single out-edge of a one-way node, or the out-edge of a two-way
    node that does not turn back."""
    e = offsets[v]
    if offsets[v + 1] - e == 2 and targets[e] == prev:
        e += 1
    return e


@njit(cache=True)
def contract_chains(offsets, targets, time_s, length_m, road_class, contractible):
    """Replace every chain of contractible nodes by one edge per direction.

    Parameters
    ----------
    offsets, targets, time_s, length_m, road_class : ndarray
        CSR graph.
    contractible : ndarray of bool
        Nodes with exactly one way through (one-way: in 1 / out 1; two-way: in 2 /
        out 2 to the same two neighbours). Modified in place: one node of every
        chain that closes on itself without a kept node is set to False.

    Returns
    -------
    u, v : ndarray of int64
        Tail and head of the new edges (old node indices, both not contractible).
    t, l : ndarray of float64
        Summed travel time and length along the chain (exact sums).
    c : ndarray of uint8
        Road class (chains never cross a change of class).
    """
    n = offsets.size - 1
    m = targets.size
    u_out = np.empty(m, np.int64)
    v_out = np.empty(m, np.int64)
    t_out = np.empty(m, np.float64)
    l_out = np.empty(m, np.float64)
    c_out = np.empty(m, np.uint8)
    visited = np.zeros(n, np.bool_)
    k = 0
    # Pass 0 walks from the kept nodes; pass 1 breaks cycles made only of
    # contractible nodes by keeping their first unvisited node.
    for pass_ in range(2):
        for s in range(n):
            if contractible[s]:
                if pass_ == 0 or visited[s]:
                    continue
                contractible[s] = False
            elif pass_ == 1:
                continue
            for e in range(offsets[s], offsets[s + 1]):
                prev = s
                v = targets[e]
                t = time_s[e]
                ln = length_m[e]
                while contractible[v]:
                    visited[v] = True
                    e2 = _next_edge(offsets, targets, v, prev)
                    t += time_s[e2]
                    ln += length_m[e2]
                    prev = v
                    v = targets[e2]
                if v == s:  # a loop back to the start never shortens a path
                    continue
                u_out[k] = s
                v_out[k] = v
                t_out[k] = t
                l_out[k] = ln
                c_out[k] = road_class[e]
                k += 1
    return u_out[:k], v_out[:k], t_out[:k], l_out[:k], c_out[:k]


@njit(cache=True)
def strong_components(offsets, targets):
    """Strongly connected components (iterative Tarjan), O(n + m).

    Returns
    -------
    labels : ndarray of int64
        Component label of every node, 0 .. n_components - 1.
    """
    n = offsets.size - 1
    index = np.full(n, -1, np.int64)
    low = np.zeros(n, np.int64)
    on_stack = np.zeros(n, np.bool_)
    stack = np.empty(n, np.int64)
    sp = 0
    call_node = np.empty(n, np.int64)  # DFS call stack: node and next edge to scan
    call_edge = np.empty(n, np.int64)
    labels = np.full(n, -1, np.int64)
    counter = 0
    n_comp = 0
    for root in range(n):
        if index[root] != -1:
            continue
        depth = 0
        call_node[0] = root
        call_edge[0] = offsets[root]
        index[root] = low[root] = counter
        counter += 1
        stack[sp] = root
        sp += 1
        on_stack[root] = True
        while depth >= 0:
            v = call_node[depth]
            e = call_edge[depth]
            if e < offsets[v + 1]:
                call_edge[depth] = e + 1
                w = targets[e]
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack[sp] = w
                    sp += 1
                    on_stack[w] = True
                    depth += 1
                    call_node[depth] = w
                    call_edge[depth] = offsets[w]
                elif on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            else:
                if low[v] == index[v]:  # v is the root of a component: pop it
                    while True:
                        sp -= 1
                        w = stack[sp]
                        on_stack[w] = False
                        labels[w] = n_comp
                        if w == v:
                            break
                    n_comp += 1
                depth -= 1
                if depth >= 0:
                    u = call_node[depth]
                    if low[v] < low[u]:
                        low[u] = low[v]
    return labels
