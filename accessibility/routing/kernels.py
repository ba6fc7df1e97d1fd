"""Numba shortest-path kernels on CSR graphs: arrays in, arrays out."""

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

# The intrinsic behind numba.get_num_threads: it links the threading layer's
# symbol instead of a ctypes pointer, so kernels that use it can be cached.
from numba.np.ufunc.parallel import _iget_num_threads

from ._decay import decay_weight
from ._heap import grow, heap4_pop, heap4_push

# Start the threading layer now: a kernel loaded from the cache links its symbols.
numba.get_num_threads()

# Start size of the growable one-to-many result store; it doubles when full.
_INITIAL_CAPACITY = 1024
# Chunks per thread in the parallel kernels: more than one evens out the static
# schedule, more than a few only costs memory (each chunk holds a dense float64
# distance array; its heap and settled list are touched only as far as used).
_CHUNKS_PER_THREAD = 2
# Minimum per-chunk row buffer of bounded_one_to_many (entries), so that rounds are few.
_MIN_ROW_BUFFER = 1 << 16


# ------------------------------------------------------------------ multi-source
# With many sources the wavefronts of all of them share one queue: consecutive
# settles jump across the whole graph and every one waits for cache misses (on
# the node's row, its edges, its neighbours' labels), which the CPU cannot
# overlap because each pop depends on the previous settle. So the queue is a
# bucket queue in front of a small heap: keys are cut into buckets of width
# ``delta`` (bucket id ``int(key / delta)``, monotone in the key); only the
# current bucket is a heap, later buckets are unsorted lists of blocks in a pool.
# When a bucket becomes current its nodes are known, and the memory that
# settling them reads is prefetched in passes of independent loads (2.3x faster
# on 4M nodes, 1,000 sources; the smaller heap alone gained nothing). Equal keys
# share a bucket and the buckets are emptied in id order, each through the heap
# ordered by ``(key, val)``, so entries are popped in exactly the order of one
# global heap: results (including the tie-breaking) are bit-identical to the
# heap-only search.

# Default bucket width in mean edge weights. Measured on the synthetic 4M graph
# (1,000 sources): 1 -> 2.9 s, 1/4 -> 2.5 s, 1/16 -> 1.5 s, 1/32 -> 1.3 s,
# 1/100 -> 1.27 s; small buckets keep the prefetched nodes in the cache.
_BUCKET_WIDTH = 1.0 / 64.0
# Largest number of bucket slots; a wider span of live keys uses the plain heap.
_MAX_BUCKETS = 1 << 20
# Entries per pool block. A bucket is a linked list of blocks, so that moving it
# to the heap reads memory sequentially; emptied blocks are reused (LIFO), which
# keeps the pool memory in use small and warm.
_BLOCK = 16


@intrinsic
def _prefetch(typingctx, arr, idx):
    """Prefetch ``arr[idx]`` into the cache (``llvm.prefetch``; no bounds check)."""
    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
        i32 = ir.IntType(32)
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # read, keep in all cache levels, data
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return types.void(arr, types.intp), codegen


@njit(cache=True, inline="always")
def _pool_push(pkey, pval, blk_next, head, fill, free, n_fresh, slot, key, val):
    """Append ``(key, val)`` to the bucket in ``slot`` of the block pool.

    ``head[slot]`` is the bucket's newest block (-1: empty bucket), ``fill[slot]``
    the entries in it (``_BLOCK`` when empty, so a block is taken). Blocks come
    from the free list ``free`` (-1: none) or else the fresh block ``n_fresh``.

    Returns
    -------
    free, n_fresh : int, int
    """
    b = head[slot]
    f = fill[slot]
    if f == _BLOCK:
        if free >= 0:
            nb = free
            free = blk_next[free]
        else:
            nb = n_fresh
            n_fresh += 1
        blk_next[nb] = b
        head[slot] = nb
        b = nb
        f = 0
    q = b * _BLOCK + f
    pkey[q] = key
    pval[q] = val
    fill[slot] = f + 1
    return free, n_fresh


@njit(cache=True)
def _multi_source_heap(offsets, targets, weights, sources, source_offsets, limit):
    """:func:`multi_source_dijkstra` with a single heap as the queue.

    The fallback for weights or source offsets that do not suit buckets, and the
    reference the bucket queue is tested against.
    """
    n = offsets.size - 1
    dist = np.full(n, np.inf)
    nearest = np.full(n, -1, np.int32)  # also the "settled" flag
    hkey = np.empty(targets.size + sources.size, np.float64)
    hval = np.empty(targets.size + sources.size, np.int64)
    size = 0
    for i in range(sources.size):
        s = sources[i]
        d0 = source_offsets[i]
        # Sources come in index order, so an equal earlier label already wins.
        if d0 <= limit and d0 < dist[s]:
            dist[s] = d0
            size = heap4_push(hkey, hval, size, d0, (np.int64(i) << 32) | s)
    while size > 0:
        d, val, size = heap4_pop(hkey, hval, size)
        u = val & 0xFFFFFFFF
        if nearest[u] >= 0:
            continue  # settled by a smaller label: this entry is stale
        su = val >> 32
        nearest[u] = su
        for e in range(offsets[u], offsets[u + 1]):
            nd = d + weights[e]
            if nd > limit:
                continue
            v = targets[e]
            dv = dist[v]
            # On a tie the entry is pushed too: its source index may be lower.
            if nd < dv or (nd == dv and nearest[v] < 0):
                dist[v] = nd
                size = heap4_push(hkey, hval, size, nd, (su << 32) | v)
    return dist, nearest


@njit(cache=True)
def multi_source_dijkstra(offsets, targets, weights, sources, source_offsets, limit,
                          delta=0.0):
    """Distance from the nearest of several sources to every node.

    Parameters
    ----------
    offsets : ndarray of int64, shape (n + 1,)
        CSR row pointer.
    targets : ndarray of int32, shape (m,)
        Head node of each edge.
    weights : ndarray of float64, shape (m,)
        Non-negative edge weights.
    sources : ndarray of int64, shape (k,)
        Source nodes; duplicates are allowed.
    source_offsets : ndarray of float64, shape (k,)
        Initial cost of each source (e.g. an access time).
    limit : float
        Largest distance searched; nodes with ``dist <= limit`` are reached.
    delta : float, optional
        Bucket width of the queue (a tuning knob only: results do not depend on
        it); ``<= 0`` (the default) means ``_BUCKET_WIDTH`` x the mean finite
        edge weight.

    Returns
    -------
    dist : ndarray of float64, shape (n,)
        ``min_i source_offsets[i] + d(sources[i], v)``; ``inf`` when unreached or
        beyond ``limit``.
    nearest : ndarray of int32, shape (n,)
        Index into ``sources`` of the source attaining ``dist`` (-1 when unreached).
        Among sources at exactly the same distance the lowest index wins: queue
        entries are popped in ``(dist, source index)`` order and a node is
        settled by its first pop, so it gets its lexicographically smallest label.
    """
    n = offsets.size - 1
    k = sources.size
    m = targets.size
    # Key range of the sources that are pushed.
    lo = np.inf
    hi = -np.inf
    for i in range(k):
        d0 = source_offsets[i]
        if d0 <= limit:
            lo = min(lo, d0)
            hi = max(hi, d0)
    # Largest weight and sum of the finite weights.
    wmax = 0.0
    wsum = 0.0
    n_finite = 0
    for e in range(m):
        w = weights[e]
        wmax = max(wmax, w)
        if w < np.inf:
            wsum += w
            n_finite += 1
    if not delta > 0.0 and n_finite > 0:
        delta = _BUCKET_WIDTH * wsum / n_finite
    # Live keys lie in [d, d + span] of the key d last popped: span bounds the
    # weights and the spread of the source offsets, and all keys are <= limit.
    span = max(wmax, hi - lo)
    kmax = hi + wsum  # bounds every finite distance
    if limit < np.inf:
        span = min(span, limit - lo)
        kmax = min(kmax, limit)
    # (numba raises on a division by zero.)
    inv = 1.0 / delta if delta > 0.0 else 0.0
    # Slots of the circular bucket array: from bucket id(d) the live ids reach at
    # most id(d) + 2 span / delta + 3 (``d + w`` rounds to at most ``d + 2w``;
    # the rounding of ``key * inv`` and of int() add 3), so that many distinct
    # slots + 1 suffice; a power of two makes the modulo a mask. Buckets need
    # finite keys whose ids fit exactly in a float64 mantissa, else: plain heap.
    if not (lo < np.inf and span < np.inf and delta > 0.0 and delta < np.inf
            and kmax * inv < 2.0 ** 52 and lo * inv > -2.0 ** 52
            and 2.0 * span * inv + 5.0 < _MAX_BUCKETS):
        return _multi_source_heap(offsets, targets, weights, sources, source_offsets,
                                  limit)
    need = np.int64(2.0 * span * inv) + 5
    n_slots = np.int64(1)
    while n_slots < need:
        n_slots *= 2
    mask = n_slots - 1

    dist = np.full(n, np.inf)
    nearest = np.full(n, -1, np.int32)  # also the "settled" flag
    # The heap holds the current bucket, the pool the later ones: each of the at
    # most m + k pushes goes to one of them. Blocks in use: full ones hold
    # distinct entries, and each non-empty slot has at most one partial block.
    hkey = np.empty(m + k, np.float64)
    hval = np.empty(m + k, np.int64)
    n_blocks = (m + k) // _BLOCK + min(n_slots, m + k) + 1
    pkey = np.empty(n_blocks * _BLOCK, np.float64)
    pval = np.empty(n_blocks * _BLOCK, np.int64)
    blk_next = np.empty(n_blocks, np.int64)  # next older block, or next free one
    head = np.full(n_slots, -1, np.int64)
    fill = np.full(n_slots, _BLOCK, np.int64)
    free = -1
    n_fresh = 0
    pending = 0  # entries in the pool
    size = 0
    cur = np.int64(lo * inv)  # id of the current bucket
    for i in range(k):
        s = sources[i]
        d0 = source_offsets[i]
        # Sources come in index order, so an equal earlier label already wins.
        if d0 <= limit and d0 < dist[s]:
            dist[s] = d0
            val = (np.int64(i) << 32) | s
            b = np.int64(d0 * inv)
            if b == cur:
                size = heap4_push(hkey, hval, size, d0, val)
            else:
                free, n_fresh = _pool_push(pkey, pval, blk_next, head, fill, free,
                                           n_fresh, b & mask, d0, val)
                pending += 1
    while True:
        if size == 0:
            if pending == 0:
                break
            # Advance to the next non-empty bucket and move its live entries to
            # the heap; entries of a settled node or above its distance are stale.
            cur += 1
            while head[cur & mask] < 0:
                cur += 1
            slot = cur & mask
            blk = head[slot]
            f = fill[slot]
            head[slot] = -1
            fill[slot] = _BLOCK
            while blk >= 0:
                pending -= f
                for q in range(blk * _BLOCK, blk * _BLOCK + f):
                    key = pkey[q]
                    val = pval[q]
                    u = val & 0xFFFFFFFF
                    if key <= dist[u] and nearest[u] < 0:
                        size = heap4_push(hkey, hval, size, key, val)
                nxt = blk_next[blk]
                blk_next[blk] = free
                free = blk
                blk = nxt
                f = _BLOCK
            # The nodes settled next are known now. With many sources they are
            # scattered over the graph, and in the search loop each cache miss
            # stalls it (a pop waits for the previous settle), so fetch what
            # settling them reads now, in passes of independent loads.
            for q in range(size):
                _prefetch(offsets, hval[q] & 0xFFFFFFFF)
            for q in range(size):
                e0 = offsets[hval[q] & 0xFFFFFFFF]
                _prefetch(targets, e0)
                _prefetch(weights, e0)
            for q in range(size):
                u = hval[q] & 0xFFFFFFFF
                for e in range(offsets[u], offsets[u + 1]):
                    v = targets[e]
                    _prefetch(dist, v)
                    _prefetch(nearest, v)
            continue
        d, val, size = heap4_pop(hkey, hval, size)
        u = val & 0xFFFFFFFF
        if nearest[u] >= 0:
            continue  # settled by a smaller label: this entry is stale
        su = val >> 32
        nearest[u] = su
        for e in range(offsets[u], offsets[u + 1]):
            nd = d + weights[e]
            if nd > limit:
                continue
            v = targets[e]
            dv = dist[v]
            # On a tie the entry is pushed too: its source index may be lower.
            if nd < dv or (nd == dv and nearest[v] < 0):
                dist[v] = nd
                nval = (su << 32) | v
                b = np.int64(nd * inv)
                if b == cur:
                    size = heap4_push(hkey, hval, size, nd, nval)
                else:
                    free, n_fresh = _pool_push(pkey, pval, blk_next, head, fill, free,
                                               n_fresh, b & mask, nd, nval)
                    pending += 1
    return dist, nearest


# ---------------------------------------------------------------- bounded search


@njit(cache=True)
def _bounded_search(offsets, targets, weights, origin, d0, limit, dist, hkey, hval,
                    settled):
    """One Dijkstra search from ``origin`` (start cost ``d0``) up to ``limit``.

    ``dist`` (n) must be ``inf`` everywhere on entry; ``hkey``, ``hval`` (m + 1)
    and ``settled`` (n) are scratch. Only nodes within ``limit`` are pushed, so
    every touched node gets settled; the caller resets ``dist`` of the settled
    nodes, which keeps the cost of a search to what it reaches.

    Returns
    -------
    n_settled : int
        ``settled[:n_settled]`` are the settled nodes in settle order.
    """
    if not d0 <= limit:
        return 0
    ns = 0
    dist[origin] = d0
    hkey[0] = d0
    hval[0] = origin
    size = 1
    while size > 0:
        d, u, size = heap4_pop(hkey, hval, size)
        # A node's entries have distinct keys (pushed on strict improvement only),
        # so every entry but the one equal to dist[u] is stale.
        if d > dist[u]:
            continue
        settled[ns] = u
        ns += 1
        for e in range(offsets[u], offsets[u + 1]):
            nd = d + weights[e]
            v = targets[e]
            if nd <= limit and nd < dist[v]:
                dist[v] = nd
                size = heap4_push(hkey, hval, size, nd, np.int64(v))
    return ns


@njit(cache=True)
def _n_chunks(k):
    """Number of work chunks for ``k`` origins."""
    return min(k, _CHUNKS_PER_THREAD * _iget_num_threads())


@njit(cache=True)
def _potential_chunk(c, n_chunks, offsets, targets, weights, origins, origin_offsets,
                     limit, node_weight, decay_kind, decay_param, decay_floor, boundary,
                     sums, n_reached, touches_boundary):
    """Run the origins ``c, c + n_chunks, ...`` of :func:`bounded_potential`.

    A separate function so that its buffers are private to the chunk (numba may
    hoist allocations out of a ``prange`` body).
    """
    n = offsets.size - 1
    dist = np.full(n, np.inf)
    hkey = np.empty(targets.size + 1, np.float64)
    hval = np.empty(targets.size + 1, np.int64)
    settled = np.empty(offsets.size - 1, np.int64)
    for j in range(c, origins.size, n_chunks):
        ns = _bounded_search(
            offsets, targets, weights, origins[j], origin_offsets[j], limit,
            dist, hkey, hval, settled)
        acc = 0.0
        count = 0
        touch = False
        # Summing in settle order makes the result independent of the threads.
        for q in range(ns):
            v = settled[q]
            w = node_weight[v]
            if w != 0.0:
                acc += decay_weight(dist[v], decay_kind, decay_param, decay_floor) * w
                count += 1
            if boundary[v]:
                touch = True
            dist[v] = np.inf
        sums[j] = acc
        n_reached[j] = count
        touches_boundary[j] = touch


@njit(parallel=True, cache=True)
def bounded_potential(offsets, targets, weights, origins, origin_offsets, limit,
                      node_weight, decay_kind, decay_param, decay_floor, boundary):
    """Decay-weighted sum of node weights within ``limit`` of every origin.

    Parameters
    ----------
    offsets, targets, weights : ndarray
        The CSR graph (int64, int32, float64 non-negative).
    origins : ndarray of int64, shape (k,)
        Origin nodes.
    origin_offsets : ndarray of float64, shape (k,)
        Initial cost of each origin; it counts towards ``limit`` and the decay.
    limit : float
        Nodes with cost ``t <= limit`` are counted.
    node_weight : ndarray of float64, shape (n,)
        Weight of each node (0 for nodes that are not targets).
    decay_kind : int
        One of the ``DECAY_*`` constants of :mod:`._decay` (as in
        :func:`~._decay.decay_weight`).
    decay_param, decay_floor : float
        Decay parameters in weight units.
    boundary : ndarray of bool, shape (n,)
        Nodes that mark the edge of the study area.

    Returns
    -------
    sums : ndarray of float64, shape (k,)
        ``sum(decay(t_v) * node_weight[v])`` over nodes with ``t_v <= limit``.
    n_reached : ndarray of int64, shape (k,)
        Number of those nodes with ``node_weight != 0``.
    touches_boundary : ndarray of bool, shape (k,)
        Whether any of those nodes is a boundary node.

    Notes
    -----
    Origins are dealt round-robin to ``2 x threads`` chunks run in parallel; each
    chunk allocates its buffers once and resets only the nodes a search touched,
    so a search costs what it reaches. Each origin is summed in its own settle
    order, so the results do not depend on the number of threads.
    """
    k = origins.size
    sums = np.zeros(k)
    n_reached = np.zeros(k, np.int64)
    touches_boundary = np.zeros(k, np.bool_)
    n_chunks = _n_chunks(k)
    for c in prange(n_chunks):
        _potential_chunk(c, n_chunks, offsets, targets, weights, origins, origin_offsets,
                         limit, node_weight, decay_kind, decay_param, decay_floor, boundary,
                         sums, n_reached, touches_boundary)
    return sums, n_reached, touches_boundary


# ---------------------------------------------------------------- one-to-many


@njit(cache=True)
def _one_to_many_round(c, n_chunks, offsets, targets, weights, origins, origin_offsets,
                       limit, target_index, dist, buf_cols, buf_times,
                       cursor, fill, row_start, row_len):
    """Run origins of chunk ``c`` from ``cursor[c]`` on until its row buffer is full.

    Rows go to ``buf_cols[c]``/``buf_times[c]``; an origin whose row does not fit
    is dropped and redone in the next round (the buffer holds any single row, so
    an empty buffer always makes progress).
    """
    cols = buf_cols[c]
    times = buf_times[c]
    cap = cols.size
    hkey = np.empty(targets.size + 1, np.float64)
    hval = np.empty(targets.size + 1, np.int64)
    settled = np.empty(offsets.size - 1, np.int64)
    f = 0
    j = cursor[c]
    while j < origins.size:
        ns = _bounded_search(
            offsets, targets, weights, origins[j], origin_offsets[j], limit,
            dist, hkey, hval, settled)
        start = f
        fits = True
        for q in range(ns):
            v = settled[q]
            col = target_index[v]
            if col >= 0:
                if f < cap:
                    cols[f] = col
                    times[f] = dist[v]
                    f += 1
                else:
                    fits = False
            dist[v] = np.inf
        if not fits:
            f = start
            break
        if f - start > 1:
            # Settle order is by time; the CSR row must be by column (unique here).
            order = np.argsort(cols[start:f])
            rc = cols[start:f][order]
            rt = times[start:f][order]
            cols[start:f] = rc
            times[start:f] = rt
        row_start[j] = start
        row_len[j] = f - start
        j += n_chunks
    cursor[c] = j
    fill[c] = f


@njit(parallel=True, cache=True)
def bounded_one_to_many(offsets, targets, weights, origins, origin_offsets, limit,
                        target_index, min_buffer=_MIN_ROW_BUFFER):
    """Times from every origin to the target nodes within ``limit``, as CSR.

    Parameters
    ----------
    offsets, targets, weights : ndarray
        The CSR graph (int64, int32, float64 non-negative).
    origins : ndarray of int64, shape (k,)
        Origin nodes.
    origin_offsets : ndarray of float64, shape (k,)
        Initial cost of each origin.
    limit : float
        Targets with time ``t <= limit`` are reported.
    target_index : ndarray of int32, shape (n,)
        Column of each node in the target set, -1 for other nodes (a node can be
        only one column).
    min_buffer : int
        Smallest row buffer per chunk (entries; at least the number of targets, so
        any single row fits). Tests set it small to reach the multi-round path.

    Returns
    -------
    indptr : ndarray of int64, shape (k + 1,)
    cols : ndarray of int32, shape (nnz,)
        Columns of row ``i`` in ``cols[indptr[i]:indptr[i + 1]]``, ascending.
    times : ndarray of float64, shape (nnz,)
        Cost (including the origin offset) of each entry.

    Notes
    -----
    Works in rounds: in each, the chunks (origins dealt round-robin, as in
    :func:`bounded_potential`) search in parallel until their fixed-size row
    buffers are full; the buffers are then appended to a growable store and the
    rows gathered in origin order at the end. Results do not depend on the
    number of threads.
    """
    n = offsets.size - 1
    k = origins.size
    n_targets = 0
    for v in range(n):
        if target_index[v] >= 0:
            n_targets += 1
    n_chunks = _n_chunks(k)
    cap = max(n_targets, min_buffer)
    dist = np.full((n_chunks, n), np.inf)
    buf_cols = np.empty((n_chunks, cap), np.int32)
    buf_times = np.empty((n_chunks, cap), np.float64)
    cursor = np.arange(n_chunks)
    fill = np.zeros(n_chunks, np.int64)
    row_start = np.zeros(k, np.int64)
    row_len = np.zeros(k, np.int64)
    store_cols = np.empty(_INITIAL_CAPACITY, np.int32)
    store_times = np.empty(_INITIAL_CAPACITY, np.float64)
    n_store = 0
    busy = n_chunks > 0
    while busy:
        prev = cursor.copy()
        for c in prange(n_chunks):
            _one_to_many_round(c, n_chunks, offsets, targets, weights, origins,
                               origin_offsets, limit, target_index, dist[c],
                               buf_cols, buf_times, cursor, fill, row_start, row_len)
        busy = False
        for c in range(n_chunks):
            f = fill[c]
            store_cols = grow(store_cols, n_store + f)
            store_times = grow(store_times, n_store + f)
            store_cols[n_store:n_store + f] = buf_cols[c, :f]
            store_times[n_store:n_store + f] = buf_times[c, :f]
            for j in range(prev[c], cursor[c], n_chunks):
                row_start[j] += n_store
            n_store += f
            if cursor[c] < k:
                busy = True
    indptr = np.zeros(k + 1, np.int64)
    for j in range(k):
        indptr[j + 1] = indptr[j] + row_len[j]
    cols = np.empty(indptr[k], np.int32)
    times = np.empty(indptr[k], np.float64)
    for j in prange(k):
        a = row_start[j]
        b = indptr[j]
        for q in range(row_len[j]):
            cols[b + q] = store_cols[a + q]
            times[b + q] = store_times[a + q]
    return indptr, cols, times


# ------------------------------------------------------------ shortest-path tree


@njit(cache=True)
def shortest_path_tree(offsets, targets, weights, source, limit):
    """Dijkstra from one source, keeping the edge by which each node is reached.

    Parameters
    ----------
    offsets, targets, weights : ndarray
        The CSR graph (int64, int32, float64 non-negative).
    source : int
        Source node.
    limit : float
        Largest distance searched; nodes with ``dist <= limit`` are reached.

    Returns
    -------
    dist : ndarray of float64, shape (n,)
        Distance from ``source``; ``inf`` when unreached or beyond ``limit``.
    pred_edge : ndarray of int64, shape (n,)
        Index of the last edge on a shortest path to each node, -1 for the
        source and unreached nodes. Following ``pred_edge`` back (the tail of
        edge ``e`` is the row of the CSR that holds ``e``) gives the path.

    Notes
    -----
    A node's label changes on strict improvement only, so among equally short
    paths the one found first is kept; heap ties break by node index, which
    makes the tree deterministic.
    """
    n = offsets.size - 1
    dist = np.full(n, np.inf)
    pred_edge = np.full(n, -1, np.int64)
    if not 0.0 <= limit:
        return dist, pred_edge
    # Settled flags: a node's later (stale) heap entries are skipped.
    settled = np.zeros(n, np.bool_)
    hkey = np.empty(targets.size + 1, np.float64)
    hval = np.empty(targets.size + 1, np.int64)
    dist[source] = 0.0
    size = heap4_push(hkey, hval, 0, 0.0, np.int64(source))
    while size > 0:
        d, u, size = heap4_pop(hkey, hval, size)
        if settled[u]:
            continue
        settled[u] = True
        for e in range(offsets[u], offsets[u + 1]):
            nd = d + weights[e]
            v = targets[e]
            if nd <= limit and nd < dist[v]:
                dist[v] = nd
                pred_edge[v] = e
                size = heap4_push(hkey, hval, size, nd, np.int64(v))
    return dist, pred_edge
