"""Numba kernels of simplify: degree-2 chain contraction, strongly connected
components, reachability and induced subgraphs over CSR arrays."""

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
def _grow(a, size):
    """``a`` copied into a new array of ``size`` entries (the rest uninitialised)."""
    b = np.empty(size, a.dtype)
    b[:a.size] = a
    return b


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
    u, v : ndarray of the dtype of ``targets`` (int32)
        Tail and head of the new edges (old node indices, both not contractible).
    t, l : ndarray of float64
        Summed travel time and length along the chain (exact sums).
    c : ndarray of uint8
        Road class (chains never cross a change of class).
    """
    n = offsets.size - 1
    # Pass 0 emits one edge per out-edge of a kept node: size the outputs for that
    # (on a road network ~1/3 of the edges, not all of them), and grow them in pass 1
    # only when a cycle of contractible nodes is left.
    cap = 0
    for s in range(n):
        if not contractible[s]:
            cap += offsets[s + 1] - offsets[s]
    u_out = np.empty(cap, targets.dtype)
    v_out = np.empty(cap, targets.dtype)
    t_out = np.empty(cap, np.float64)
    l_out = np.empty(cap, np.float64)
    c_out = np.empty(cap, np.uint8)
    visited = np.zeros(n, np.bool_)
    k = 0
    # Pass 0 walks from the kept nodes; pass 1 breaks cycles made only of
    # contractible nodes by keeping their first unvisited node.
    for pass_ in range(2):
        if pass_ == 1:
            left = 0  # a cycle breaker emits at most its two out-edges
            for s in range(n):
                if contractible[s] and not visited[s]:
                    left += 2
            if k + left > u_out.size:
                u_out = _grow(u_out, k + left)
                v_out = _grow(v_out, k + left)
                t_out = _grow(t_out, k + left)
                l_out = _grow(l_out, k + left)
                c_out = _grow(c_out, k + left)
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


def _index_proto(n: int, m: int) -> np.ndarray:
    """An empty array of the narrowest index dtype for ``n`` nodes and ``m`` edges:
    int32 (half the memory of int64) unless a node or edge index would overflow it."""
    return np.empty(0, np.int32 if max(n, m) < np.iinfo(np.int32).max else np.int64)


def strong_components(offsets, targets):
    """Strongly connected components (iterative Tarjan), O(n + m).

    Parameters
    ----------
    offsets, targets : ndarray
        CSR graph (row pointer, head node of every edge).

    Returns
    -------
    labels : ndarray of int32 (int64 on graphs of 2**31 nodes or edges and more)
        Component label of every node, 0 .. n_components - 1. Components are
        labelled in the order Tarjan closes them: reverse topological order of the
        condensation (an edge between components leads to a smaller label).
    """
    return _tarjan(offsets, targets, _index_proto(offsets.size - 1, targets.size))


@njit(cache=True)
def _tarjan(offsets, targets, proto):
    """Tarjan's algorithm with an explicit call stack; the work arrays take the
    dtype of ``proto`` (int32 on a national graph: 21 instead of 41 bytes a node)."""
    n = offsets.size - 1
    index = np.full(n, -1, proto.dtype)
    low = np.zeros(n, proto.dtype)
    on_stack = np.zeros(n, np.bool_)
    stack = np.empty(n, proto.dtype)
    sp = 0
    call_node = np.empty(n, proto.dtype)  # DFS call stack: node and next edge to scan
    call_edge = np.empty(n, proto.dtype)
    labels = np.full(n, -1, proto.dtype)
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


@njit(cache=True)
def reachable(offsets, targets, root):
    """Nodes reached from ``root`` along the edges (breadth-first search).

    Returns
    -------
    ndarray of bool
        True for ``root`` and every node with a path from it.
    """
    n = offsets.size - 1
    seen = np.zeros(n, np.bool_)
    queue = np.empty(n, targets.dtype)  # every node enters the queue once
    seen[root] = True
    queue[0] = root
    head, tail = 0, 1
    while head < tail:
        v = queue[head]
        head += 1
        for e in range(offsets[v], offsets[v + 1]):
            w = targets[e]
            if not seen[w]:
                seen[w] = True
                queue[tail] = w
                tail += 1
    return seen


@njit(cache=True)
def reaching(offsets, targets, root):
    """Nodes with a path to ``root``: :func:`reachable` on the reversed graph.

    The reversed CSR (:func:`reverse_csr`: a counting sort in the dtype of ``targets``,
    int32 is 4 bytes an edge) is dropped on return, instead of a scipy matrix and its
    transposed copy.
    """
    in_off, in_src = reverse_csr(offsets, targets)
    return reachable(in_off, in_src, root)


@njit(cache=True)
def reverse_csr(offsets, targets):
    """The reversed CSR (row pointer, tail of every edge into each node) by a
    counting sort in the dtype of ``targets`` (int32: 4 bytes an edge)."""
    n = offsets.size - 1
    m = targets.size
    in_off = np.zeros(n + 1, np.int64)
    for e in range(m):
        in_off[targets[e] + 1] += 1
    for v in range(n):
        in_off[v + 1] += in_off[v]
    fill = in_off[:-1].copy()
    in_src = np.empty(m, targets.dtype)
    for u in range(n):
        for e in range(offsets[u], offsets[u + 1]):
            w = targets[e]
            in_src[fill[w]] = u
            fill[w] += 1
    return in_off, in_src


@njit(cache=True)
def dropped_km(offsets, targets, length_m, road_class, keep, reached, reaching_, n_classes):
    """Metres of the edges outside ``keep`` per road class: dead ends and islands.

    An edge is dropped unless both its ends are kept; a dropped edge is a dead end
    when its tail reaches the kept component (``reaching_``) or its head is reached
    from it (``reached``), else it lies on an island.

    Returns
    -------
    dead_end, island : ndarray of float64, shape (n_classes,)
        Sums in edge order (the same sums, to the bit, as ``np.bincount`` with
        weights over the masked edges).
    """
    dead_end = np.zeros(n_classes, np.float64)
    island = np.zeros(n_classes, np.float64)
    for u in range(offsets.size - 1):
        for e in range(offsets[u], offsets[u + 1]):
            v = targets[e]
            if keep[u] and keep[v]:
                continue
            if reaching_[u] or reached[v]:
                dead_end[road_class[e]] += length_m[e]
            else:
                island[road_class[e]] += length_m[e]
    return dead_end, island


@njit(cache=True)
def induced_csr(offsets, targets, keep):
    """The CSR of the subgraph induced by the nodes where ``keep`` is true, kept
    nodes renumbered in their old order.

    Returns
    -------
    new_offsets : ndarray of int64
    new_targets : ndarray of int32 (the dtype of ``targets``)
    edge_mask : ndarray of bool
        The kept edges, to select their attributes (in the old edge order).
    rows_sorted : bool
        Whether every row's targets are non-decreasing. Only then is the old edge
        order the ``(tail, head)`` order that :func:`~.core.from_edges` sorts into.
    """
    n = offsets.size - 1
    m = targets.size
    new_id = np.empty(n, targets.dtype)
    k = 0
    for v in range(n):
        if keep[v]:
            new_id[v] = k
            k += 1
    edge_mask = np.zeros(m, np.bool_)
    new_offsets = np.zeros(k + 1, np.int64)
    rows_sorted = True
    m2 = 0
    r = 0
    for u in range(n):
        for e in range(offsets[u], offsets[u + 1] - 1):
            if targets[e] > targets[e + 1]:
                rows_sorted = False
        if keep[u]:
            for e in range(offsets[u], offsets[u + 1]):
                if keep[targets[e]]:
                    edge_mask[e] = True
                    m2 += 1
            r += 1
            new_offsets[r] = m2
    new_targets = np.empty(m2, targets.dtype)
    j = 0
    for e in range(m):
        if edge_mask[e]:
            new_targets[j] = new_id[targets[e]]
            j += 1
    return new_offsets, new_targets, edge_mask, rows_sorted


@njit(cache=True)
def contractible(offsets, targets, road_class):
    """Nodes inside a degree-2 chain (see ``simplify.contractible_nodes``), before
    the caller's keep mask.

    One pass over the edges gathers per node the in-degree, the smallest and
    largest in-neighbour and road class, and self loops; one pass over the nodes
    decides. This replaces ``np.minimum.at`` / ``np.maximum.at`` over the edges
    (unbuffered, slow, and each needing full-length int64 arrays).

    Returns
    -------
    ndarray of bool
        One-way nodes (in 1 / out 1, the neighbours differ) and two-way nodes
        (in 2 / out 2, the same two different neighbours each way) with one road
        class on all their edges and no self loop.
    """
    n = offsets.size - 1
    indeg = np.zeros(n, np.int32)
    in_lo = np.full(n, n, targets.dtype)  # any node index is smaller
    in_hi = np.full(n, -1, targets.dtype)
    cmin = np.full(n, 255, np.int32)  # no edge: cmin > cmax, never contractible
    cmax = np.zeros(n, np.int32)
    loop = np.zeros(n, np.bool_)
    for u in range(n):
        for e in range(offsets[u], offsets[u + 1]):
            v = targets[e]
            c = road_class[e]
            indeg[v] += 1
            in_lo[v] = min(in_lo[v], u)
            in_hi[v] = max(in_hi[v], u)
            cmin[u] = min(cmin[u], c)
            cmax[u] = max(cmax[u], c)
            cmin[v] = min(cmin[v], c)
            cmax[v] = max(cmax[v], c)
            if u == v:
                loop[u] = True
    ok = np.zeros(n, np.bool_)
    for v in range(n):
        first = offsets[v]
        out = offsets[v + 1] - first
        if loop[v] or cmin[v] != cmax[v]:
            continue
        if indeg[v] == 1 and out == 1:  # one-way: in-neighbour differs from out-neighbour
            ok[v] = targets[first] != in_lo[v]
        elif indeg[v] == 2 and out == 2:
            # two-way: with two of each, equal (min, max) pairs identify equal
            # neighbour multisets; and the two neighbours must differ
            a, b = targets[first], targets[first + 1]
            ok[v] = (min(a, b) == in_lo[v] and max(a, b) == in_hi[v] and a != b)
    return ok


@njit(cache=True)
def spread_cut(offsets, targets, cut, dropped):
    """Nodes with a path to a ``cut`` node whose nodes after the first are all
    ``dropped``: where a route leaving the network through a cut node that
    simplification removes passes last through a node it keeps.

    A reverse breadth-first search from the cut nodes that continues through dropped
    nodes only. Returns a bool mask over all nodes (cut nodes included).
    """
    n = offsets.size - 1
    in_off, in_src = reverse_csr(offsets, targets)
    seen = cut.copy()
    queue = np.empty(n, np.int64)
    tail = 0
    for v in range(n):
        if cut[v] and dropped[v]:
            queue[tail] = v
            tail += 1
    head = 0
    while head < tail:
        v = queue[head]
        head += 1
        for e in range(in_off[v], in_off[v + 1]):
            u = in_src[e]
            if not seen[u]:
                seen[u] = True
                if dropped[u]:
                    queue[tail] = u
                    tail += 1
    return seen
