"""Numba kernels of the contraction hierarchy (CH) preprocessing: arrays in, arrays out.

:func:`._ch_contract.contract_parallel` contracts the nodes in rounds of independent node
sets, each round in parallel. The queries on the hierarchy are in
:mod:`accessibility.routing._ch_query_kernels` (buckets) and
:mod:`accessibility.routing._phast_kernels` (PHAST, RPHAST); the Python API is
:class:`accessibility.routing.ContractionHierarchy`. The older sequential
contraction is kept for benchmarks in ``benchmarks/_sequential_ch.py``.

Conventions
-----------
After contraction, nodes are renumbered by their contraction rank (0 =
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
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from ._heap import grow, heap_pop, heap_push

# --------------------------------------------------------------- adjacency pools
# The remaining (uncontracted) graph is kept as adjacency lists in two pools, one
# of out-arcs and one of in-arcs. Node ``v``'s list is ``pool[start[v]:start[v] +
# cnt[v]]`` with room for ``cap[v]`` arcs; a list that outgrows its room moves to
# the end of its pool. Each arc holds its head (or tail), cost and the number of
# original edges it stands for (hops, for the priority).
# Contracting ``v`` removes its arcs from its neighbours' lists, so the lists
# only ever hold uncontracted nodes, and ``v``'s own lists at that moment are
# exactly its arcs to higher-ranked nodes.


@njit(cache=True, inline="always")
def contraction_priority(v, added, added_hops, level, deleted, o_start, o_cnt, o_h, i_start,
                         i_cnt, i_h):
    """Contraction priority of ``v`` from its simulated contraction: edge quotient
    (2 x shortcuts added / arcs removed) + hop quotient + level + a tenth of the
    deleted neighbours (lower: contracted earlier)."""
    removed = o_cnt[v] + i_cnt[v]
    removed_hops = 0
    for q in range(o_start[v], o_start[v] + o_cnt[v]):
        removed_hops += o_h[q]
    for q in range(i_start[v], i_start[v] + i_cnt[v]):
        removed_hops += i_h[q]
    p = float(level[v]) + 0.1 * deleted[v]
    if removed > 0:
        p += 2.0 * added / removed + added_hops / removed_hops
    return p


# ------------------------------------------------------- parallel preprocessing
# Rounds of independent node sets (as in OSRM's contractor and Vetter's parallel
# CH): a round contracts every node whose priority is smaller than that of all
# uncontracted nodes within ``hops`` arcs (ties broken by a fixed hash of the
# id). No two nodes of a round are adjacent, so all their arcs lead to nodes
# that stay, and their contractions only read the graph: the witness searches
# run in parallel, each worker with its own search arrays. The witness searches
# of a round avoid *every* node of the round (state 1), so a witness found
# stays a path of the graph after the round (two nodes of one round can't
# vouch for each other's dropped shortcuts, e.g. with zero-cost or tied arcs).
# Each list is then updated by the node that owns it (round nodes removed,
# shortcuts added), and the priorities of the round's neighbours recomputed,
# both in parallel. Every step is a function of the graph state only (no
# result depends on which worker does what or in which order workers finish),
# so the hierarchy is the same for any number of threads.
#
# A pool is the tuple ``(start, cnt, cap, t, w, h)`` of the adjacency lists
# described above; node states are 0 (remaining), 1 (in the current round)
# and 2 (contracted). Per-worker scratch: ``dn[k]`` (per node: tentative cost,
# inf, and a target's witness cost, -1; side by side, one cache line per node)
# and a stats row ``stats[k]`` (padded to 16 entries, so two workers never
# write to the same cache line): simulations, witness searches, settles,
# settle-limit stops.

# Items a worker claims at a time (:func:`_fetch_add`): searches, light steps.
# Consecutive ids are near each other in a Hilbert-numbered graph.
_BLOCK = 64
_STATS_ROW = 16
_BLOCK_LIGHT = 1024


@intrinsic
def _fetch_add(typingctx, arr, idx, val):
    """Atomically add ``val`` to ``arr[idx]`` (int64) and return the old value.

    Workers claim blocks of items through a shared counter (dynamic scheduling):
    numba's parallel loops split the items evenly in advance, so one thread
    slowed down by another process (the cores are shared) would hold up the
    whole step while the other waits."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        return None
    sig = types.int64(arr, types.intp, types.int64)

    def codegen(context, builder, signature, args):
        a, i, v = args
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, a)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [i])
        return builder.atomic_rmw("add", ptr, v, "monotonic")

    return sig, codegen


@njit(cache=True, inline="always")
def _tie(v):
    """Fixed pseudo-random tie-breaker of node ``v`` (bijective in ``v``).

    Breaking priority ties by the plain id would let only one node of a chain
    of equal priorities through per round; a hash spreads them."""
    x = np.uint64(v) * np.uint64(0x9E3779B97F4A7C15)
    return x ^ (x >> np.uint64(29))


@njit(cache=True, inline="always")
def _before(a, b, prio):
    """Whether node ``a`` comes before ``b``: smaller priority, then smaller tie hash."""
    return prio[a] < prio[b] or (prio[a] == prio[b] and _tie(a) < _tie(b))


@njit(cache=True)
def _pwitness(u, skip, settle_limit, state, op, dn, touched, hk, hv, stats, heads, heads2,
              gap2, k):
    """Witness search from ``u`` on the pool ``op`` avoiding ``skip`` and every node
    with ``state == 1`` (the current round).

    ``dn[x, 0]`` is the tentative cost (``inf`` on entry everywhere);
    ``dn[x, 1] >= 0`` marks an open target ``x`` and is the cost a witness must
    not exceed. ``heads[:k]`` holds the candidates by decreasing cost,
    ``heads2[:k]`` by decreasing cost minus ``gap2``, the cheapest arc into them
    (the last arc of any witness: beyond that cost minus the gap no node can be
    the witness's next-to-last one).

    A target is done (``dn[x, 1] = -1``) when a path of at most its cost is
    relaxed (a witness: no need to settle it) or when it is settled. The search
    stops when all are done, after ``settle_limit`` settles, or when the
    smallest open cost exceeds every open target's cost minus gap, and prunes
    arcs beyond the largest open target's cost.

    Returns ``(n_touched, ok)``: the caller reads ``dn[:, 0]`` and then resets it
    at ``touched[:n_touched]``. ``ok`` is False when ``touched`` or the heap
    arrays were too short (the search is incomplete: grow them and search again).
    """
    o_start, o_cnt, o_t, o_w = op[0], op[1], op[3], op[4]
    n_open = 0
    for j in range(k):
        n_open += dn[heads[j], 1] >= 0.0
    nt = 0
    if n_open == 0:
        return nt, True
    p = 0  # heads[p]: the open target of the largest cost
    while dn[heads[p], 1] < 0.0:
        p += 1
    p2 = 0  # heads2[p2]: the open target of the largest cost minus gap
    while dn[heads2[p2], 1] < 0.0:
        p2 += 1
    bound = dn[heads[p], 1]
    stop = dn[heads2[p2], 1] - gap2[p2]
    room = min(touched.size, hk.size)
    dn[u, 0] = 0.0
    touched[nt] = u
    nt += 1
    size = heap_push(hk, hv, 0, 0.0, np.int64(u))
    settled = 0
    while size > 0:
        d, a, size = heap_pop(hk, hv, size)
        if d > dn[a, 0]:
            continue
        if d > stop:
            break
        settled += 1
        if settled > settle_limit:
            stats[3] += 1
            break
        stats[2] += 1
        if dn[a, 1] >= 0.0:  # settled without a witness
            dn[a, 1] = -1.0
            n_open -= 1
        s = o_start[a]
        c = o_cnt[a]
        if nt + c > room or size + c > room:
            return nt, False
        for q in range(s, s + c):
            x = o_t[q]
            if x == skip or state[x] == 1:
                continue
            nd = d + o_w[q]
            if nd < dn[x, 0] and nd <= bound:
                if dn[x, 0] == np.inf:
                    touched[nt] = x
                    nt += 1
                dn[x, 0] = nd
                size = heap_push(hk, hv, size, nd, np.int64(x))
                if nd <= dn[x, 1]:  # a witness
                    dn[x, 1] = -1.0
                    n_open -= 1
        if n_open == 0:
            break
        while dn[heads[p], 1] < 0.0:
            p += 1
        while dn[heads2[p2], 1] < 0.0:
            p2 += 1
        bound = dn[heads[p], 1]
        stop = dn[heads2[p2], 1] - gap2[p2]
    return nt, True


@njit(cache=True)
def _pshortcuts(v, settle_limit, state, op, ip, dn, touched, hk, hv, stats, srt, fsrt,
                write, b_u, b_x, b_w, b_h, pos):
    """Shortcuts that contracting ``v`` needs: for every in-neighbour ``u`` one
    witness search (:func:`_pwitness`) to all out-neighbours ``x``; ``u -> x`` is
    needed when no path avoiding ``v`` (and the round) costs at most
    ``c(u, v) + c(v, x)``. ``srt``/``fsrt`` (int64/float64 scratch) must hold four
    and two times ``v``'s out-degree.

    With ``write`` they are stored at ``b_*[pos:]``; otherwise only counted.
    Returns ``(found, added, added_hops, ok)``: ``added`` (and its hops) counts
    the shortcuts for which ``u`` has no arc to ``x`` yet; ``ok`` as for
    :func:`_pwitness` (then nothing is valid; ``dn`` is clean again).
    """
    o_start, o_cnt, o_t, o_w, o_h = op[0], op[1], op[3], op[4], op[5]
    i_start, i_cnt, i_t, i_w, i_h = ip[0], ip[1], ip[3], ip[4], ip[5]
    found = 0
    added = 0
    added_hops = 0
    os_ = o_start[v]
    oc = o_cnt[v]
    if oc == 0:
        return found, added, added_hops, True
    # Target orders for every in-neighbour (its cost c(u, v) is a common offset;
    # insertion sorts: lists are short). srt[:oc]: out-arc offsets by decreasing
    # cost, srt[oc:2oc] their heads; srt[3oc:4oc] offsets by decreasing cost
    # minus gap, srt[2oc:3oc] their heads, fsrt[oc:2oc] their gaps; fsrt[:oc]:
    # gap by offset.
    for j in range(oc):
        x = o_t[os_ + j]
        g = np.inf
        for q in range(i_start[x], i_start[x] + i_cnt[x]):
            y = i_t[q]
            if y != v and state[y] != 1 and i_w[q] < g:
                g = i_w[q]
        fsrt[j] = g
    for j in range(oc):
        i = j
        while i > 0 and o_w[os_ + srt[i - 1]] < o_w[os_ + j]:
            srt[i] = srt[i - 1]
            i -= 1
        srt[i] = j
        key = o_w[os_ + j] - fsrt[j]
        i = j
        while i > 0 and o_w[os_ + srt[3 * oc + i - 1]] - fsrt[srt[3 * oc + i - 1]] < key:
            srt[3 * oc + i] = srt[3 * oc + i - 1]
            i -= 1
        srt[3 * oc + i] = j
    for j in range(oc):
        srt[oc + j] = o_t[os_ + srt[j]]
        srt[2 * oc + j] = o_t[os_ + srt[3 * oc + j]]
        fsrt[oc + j] = fsrt[srt[3 * oc + j]]
    heads = srt[oc:2 * oc]
    heads2 = srt[2 * oc:3 * oc]
    gap2 = fsrt[oc:2 * oc]
    for qi in range(i_start[v], i_start[v] + i_cnt[v]):
        u = i_t[qi]
        wu = i_w[qi]
        hu = i_h[qi]
        stats[1] += 1
        for j in range(oc):
            x = heads[j]
            if x != u:
                dn[x, 1] = wu + o_w[os_ + srt[j]]
        nt, ok = _pwitness(u, v, settle_limit, state, op, dn, touched, hk, hv, stats,
                           heads, heads2, gap2, oc)
        for j in range(oc):
            dn[heads[j], 1] = -1.0
        if ok:
            for qo in range(os_, os_ + oc):
                x = o_t[qo]
                if x == u:
                    continue
                c = wu + o_w[qo]
                if dn[x, 0] > c:  # no witness at most as short
                    h = hu + o_h[qo]
                    if write:
                        b_u[pos + found] = u
                        b_x[pos + found] = x
                        b_w[pos + found] = c
                        b_h[pos + found] = h
                    else:
                        exists = False
                        for q in range(o_start[u], o_start[u] + o_cnt[u]):
                            if o_t[q] == x:
                                exists = True
                                break
                        if not exists:
                            added += 1
                            added_hops += h
                    found += 1
        for q in range(nt):
            dn[touched[q], 0] = np.inf
        if not ok:
            return found, added, added_hops, False
    return found, added, added_hops, True


@njit(parallel=True, cache=True)
def _shortcuts_of(nodes, settle, write, state, op, ip, dn, stats, sc_off, sc_u, sc_x, sc_w,
                  sc_h, res):
    """:func:`_pshortcuts` of every node of ``nodes``, in parallel blocks claimed by
    the workers: ``res[j] = (found, added, added_hops)`` of ``nodes[j]``; with
    ``write`` its shortcuts go to ``sc_*[sc_off[j]:]``.

    Worker ``k`` uses the scratch ``dn[k]`` (``[inf, -1]`` rows) and ``stats[k]``;
    its search buffers grow (x4) when a witness search outgrows them.
    """
    n_workers = dn.shape[0]
    o_cnt = op[1]
    n_blocks = (nodes.size + _BLOCK - 1) // _BLOCK
    claim = np.empty(_STATS_ROW, np.int64)  # block counter, a cache line of its own
    claim[0] = 0
    for k in prange(n_workers):
        room = 1024
        touched = np.empty(room, np.int64)
        hk = np.empty(room, np.float64)
        hv = np.empty(room, np.int64)
        srt = np.empty(256, np.int64)
        fsrt = np.empty(128, np.float64)
        dk = dn[k]
        sk = stats[k]
        while True:
            b = _fetch_add(claim, 0, 1)
            if b >= n_blocks:
                break
            for j in range(b * _BLOCK, min(nodes.size, (b + 1) * _BLOCK)):
                v = nodes[j]
                if 4 * o_cnt[v] > srt.size:
                    srt = np.empty(8 * o_cnt[v], np.int64)
                    fsrt = np.empty(4 * o_cnt[v], np.float64)
                pos = sc_off[j] if write else 0
                r = _pshortcuts(v, settle, state, op, ip, dk, touched, hk, hv, sk, srt,
                                fsrt, write, sc_u, sc_x, sc_w, sc_h, pos)
                while not r[3]:
                    room *= 4
                    touched = np.empty(room, np.int64)
                    hk = np.empty(room, np.float64)
                    hv = np.empty(room, np.int64)
                    r = _pshortcuts(v, settle, state, op, ip, dk, touched, hk, hv, sk, srt,
                                    fsrt, write, sc_u, sc_x, sc_w, sc_h, pos)
                res[j, 0] = r[0]
                res[j, 1] = r[1]
                res[j, 2] = r[2]


@njit(parallel=True, cache=True)
def ch_priorities(nodes, sim_settle, level, deleted, state, op, ip, dn, stats, prio):
    """Priorities of ``nodes`` into ``prio`` (lower: contracted earlier): edge
    quotient + hop quotient + level + a tenth of the deleted neighbours, from a
    simulated contraction with witness searches of at most ``sim_settle`` settles
    (:func:`_shortcuts_of`, which describes the scratch ``dn`` and ``stats``).
    """
    o_start, o_cnt, o_h = op[0], op[1], op[5]
    i_start, i_cnt, i_h = ip[0], ip[1], ip[5]
    res = np.empty((nodes.size, 3), np.int64)
    e_i = np.empty(0, np.int32)
    _shortcuts_of(nodes, sim_settle, False, state, op, ip, dn, stats, np.empty(0, np.int64),
                  e_i, e_i, np.empty(0, np.float64), e_i, res)
    stats[0, 0] += nodes.size  # simulated contractions
    for j in prange(nodes.size):
        v = nodes[j]
        prio[v] = contraction_priority(v, res[j, 1], res[j, 2], level, deleted, o_start, o_cnt,
                                       o_h, i_start, i_cnt, i_h)


@njit(cache=True, inline="always")
def _before_list(v, x, prio, start, cnt, t):
    """Whether ``v`` comes before every node other than ``v`` in ``x``'s list."""
    for q in range(start[x], start[x] + cnt[x]):
        y = t[q]
        if y != v and not _before(v, y, prio):
            return False
    return True


@njit(cache=True)
def _qualifies(v, hops, prio, op, ip):
    """Whether ``v`` comes before (:func:`_before`) every node within ``hops``
    (1 or 2) arcs in either direction."""
    o_start, o_cnt, o_t = op[0], op[1], op[3]
    i_start, i_cnt, i_t = ip[0], ip[1], ip[3]
    # the direct neighbours first: most nodes fail there, cheaply
    if not (_before_list(v, v, prio, o_start, o_cnt, o_t)
            and _before_list(v, v, prio, i_start, i_cnt, i_t)):
        return False
    if hops > 1:
        for side in range(2):
            st, ct, tt = (o_start, o_cnt, o_t) if side == 0 else (i_start, i_cnt, i_t)
            for q in range(st[v], st[v] + ct[v]):
                x = tt[q]
                if not (_before_list(v, x, prio, o_start, o_cnt, o_t)
                        and _before_list(v, x, prio, i_start, i_cnt, i_t)):
                    return False
    return True


@njit(parallel=True, cache=True)
def ch_select(rem, hops, prio, op, ip, workers):
    """Independent set of the remaining nodes ``rem``: ``flag[j]`` when ``rem[j]``
    :func:`_qualifies`. The smallest remaining node always does. ``workers``:
    claimers of blocks of nodes (one per thread)."""
    flag = np.empty(rem.size, np.bool_)
    n_blocks = (rem.size + _BLOCK_LIGHT - 1) // _BLOCK_LIGHT
    claim = np.empty(_STATS_ROW, np.int64)
    claim[0] = 0
    for k in prange(workers):
        while True:
            b = _fetch_add(claim, 0, 1)
            if b >= n_blocks:
                break
            for j in range(b * _BLOCK_LIGHT, min(rem.size, (b + 1) * _BLOCK_LIGHT)):
                flag[j] = _qualifies(rem[j], hops, prio, op, ip)
    return flag


@njit(cache=True)
def ch_round_shortcuts(sel, settle, state, op, ip, dn, stats, sc_off, sc_u, sc_x, sc_w, sc_h,
                       sc_cnt):
    """Shortcuts of contracting every node of the round ``sel`` (state 1):
    node ``sel[j]``'s go to ``sc_*[sc_off[j]:sc_off[j] + sc_cnt[j]]``
    (``sc_off[j + 1] - sc_off[j]`` >= in-degree x out-degree). In parallel, with
    the scratch of :func:`_shortcuts_of`."""
    res = np.empty((sel.size, 3), np.int64)
    _shortcuts_of(sel, settle, True, state, op, ip, dn, stats, sc_off, sc_u, sc_x, sc_w,
                  sc_h, res)
    sc_cnt[:] = res[:, 0]


@njit(cache=True)
def ch_record(sel, op, ip, k, order, up_ptr, dn_ptr, up_t, up_w, dn_t, dn_w):
    """Append the round's nodes to the contraction order with their arcs (all to
    remaining, i.e. higher, nodes): out-arcs to ``up``, in-arcs to ``dn`` (node
    ids; mapped to ranks at the end). Returns ``(k, up_t, up_w, dn_t, dn_w)``.

    Sequential: a copy of ~2 arcs per node is not worth waking threads for.
    """
    o_start, o_cnt, o_t, o_w = op[0], op[1], op[3], op[4]
    i_start, i_cnt, i_t, i_w = ip[0], ip[1], ip[3], ip[4]
    for j in range(sel.size):
        v = sel[j]
        order[k + j] = v
        up_ptr[k + j + 1] = up_ptr[k + j] + o_cnt[v]
        dn_ptr[k + j + 1] = dn_ptr[k + j] + i_cnt[v]
    up_t = grow(up_t, up_ptr[k + sel.size])
    up_w = grow(up_w, up_ptr[k + sel.size])
    dn_t = grow(dn_t, dn_ptr[k + sel.size])
    dn_w = grow(dn_w, dn_ptr[k + sel.size])
    for j in range(sel.size):
        v = sel[j]
        a = up_ptr[k + j]
        s = o_start[v]
        for q in range(o_cnt[v]):
            up_t[a + q] = o_t[s + q]
            up_w[a + q] = o_w[s + q]
        a = dn_ptr[k + j]
        s = i_start[v]
        for q in range(i_cnt[v]):
            dn_t[a + q] = i_t[s + q]
            dn_w[a + q] = i_w[s + q]
    return k + sel.size, up_t, up_w, dn_t, dn_w


@njit(cache=True)
def _pool_place(pool, end, state, aff, need, amark, apos, round_id):
    """Make room in ``pool`` for the round's neighbours ``aff``, whose lists will
    hold up to ``need[j]`` arcs.

    A list that would overflow gets a new place at the pool's end with half again
    the room (``new[j]``, -1 = stays; the caller moves it). When the pool is too
    short for that, all lists of remaining nodes are copied instead, in id
    order with little slack (and the room ``aff`` needs), into new arrays 1.5x
    the needed size; this also frees the space of moved and contracted lists.
    Returns ``(pool, end, new)``.
    """
    start, cnt, cap, t, w, h = pool
    na = aff.size
    new = np.full(na, -1, np.int64)
    extra = 0
    for j in range(na):
        if need[j] > cap[aff[j]]:
            extra += need[j] + need[j] // 2 + 2
    if end + extra <= t.size:
        for j in range(na):
            a = aff[j]
            if need[j] > cap[a]:
                cap[a] = need[j] + need[j] // 2 + 2
                new[j] = end
                end += cap[a]
        return pool, end, new
    n = start.size
    live = 0
    for v in range(n):
        if state[v] == 0:
            c = cnt[v] + 2
            if amark[v] == round_id:
                r = need[apos[v]]
                c = max(c, r + r // 2 + 2)
            cap[v] = c
            live += c
        else:  # contracted or in this round (already recorded)
            cap[v] = 0
    size = live + live // 2 + 16
    nt = np.empty(size, t.dtype)
    nw = np.empty(size, w.dtype)
    nh = np.empty(size, h.dtype)
    e = 0
    for v in range(n):
        c = cnt[v]
        s = start[v]
        nt[e:e + c] = t[s:s + c]
        nw[e:e + c] = w[s:s + c]
        nh[e:e + c] = h[s:s + c]
        start[v] = e
        e += cap[v]
    return (start, cnt, cap, nt, nw, nh), e, new


@njit(cache=True)
def ch_collect(sel, sc_off, sc_cnt, sc_u, sc_x, sc_w, sc_h, op, ip, amark, apos, round_id):
    """Sequential bookkeeping of a round (after :func:`ch_round_shortcuts`).

    Collects the distinct neighbours of the round (``aff``: the only lists that
    change; ``amark[x] = round_id`` and ``apos[x]`` = index in ``aff``), empties
    the round's own lists (recorded already), sorts the shortcuts by owner
    (out-list of the tail, in-list of the head; stable, so in round order) and
    bounds the lists' lengths after the round (``need_o``, ``need_i``: entries
    kept plus additions; an arc ``v -> x`` of a round node is the entry ``v`` in
    ``x``'s in-list, so the entries that leave are counted on the way).
    Returns ``(aff, ao_off, ao_x, ao_w, ao_h, ai_off, ai_u, ai_w, ai_h, need_o,
    need_i)``.
    """
    o_start, o_cnt, o_t = op[0], op[1], op[3]
    i_start, i_cnt, i_t = ip[0], ip[1], ip[3]
    n_aff = 0
    for v in sel:
        n_aff += o_cnt[v] + i_cnt[v]
    aff = np.empty(n_aff, np.int64)
    need_o = np.empty(n_aff, np.int64)
    need_i = np.empty(n_aff, np.int64)
    na = 0
    for v in sel:
        for side in range(2):
            st, ct, tt = (o_start, o_cnt, o_t) if side == 0 else (i_start, i_cnt, i_t)
            for q in range(st[v], st[v] + ct[v]):
                x = tt[q]
                if amark[x] != round_id:
                    amark[x] = round_id
                    apos[x] = na
                    aff[na] = x
                    need_o[na] = o_cnt[x]
                    need_i[na] = i_cnt[x]
                    na += 1
                if side == 0:  # v -> x: v leaves x's in-list
                    need_i[apos[x]] -= 1
                else:
                    need_o[apos[x]] -= 1
    aff = aff[:na]
    need_o = need_o[:na]
    need_i = need_i[:na]
    for v in sel:
        o_cnt[v] = 0
        i_cnt[v] = 0
    ao_off = np.zeros(na + 1, np.int64)
    ai_off = np.zeros(na + 1, np.int64)
    for j in range(sel.size):
        for q in range(sc_off[j], sc_off[j] + sc_cnt[j]):
            ao_off[apos[sc_u[q]] + 1] += 1
            ai_off[apos[sc_x[q]] + 1] += 1
    for j in range(na):
        need_o[j] += ao_off[j + 1]
        need_i[j] += ai_off[j + 1]
        ao_off[j + 1] += ao_off[j]
        ai_off[j + 1] += ai_off[j]
    total = ao_off[na]
    ao_x = np.empty(total, np.int32)
    ao_w = np.empty(total, np.float64)
    ao_h = np.empty(total, np.int32)
    ai_u = np.empty(total, np.int32)
    ai_w = np.empty(total, np.float64)
    ai_h = np.empty(total, np.int32)
    fo = ao_off[:-1].copy()
    fi = ai_off[:-1].copy()
    for j in range(sel.size):
        for q in range(sc_off[j], sc_off[j] + sc_cnt[j]):
            a = apos[sc_u[q]]
            ao_x[fo[a]] = sc_x[q]
            ao_w[fo[a]] = sc_w[q]
            ao_h[fo[a]] = sc_h[q]
            fo[a] += 1
            b = apos[sc_x[q]]
            ai_u[fi[b]] = sc_u[q]
            ai_w[fi[b]] = sc_w[q]
            ai_h[fi[b]] = sc_h[q]
            fi[b] += 1
    return aff, ao_off, ao_x, ao_w, ao_h, ai_off, ai_u, ai_w, ai_h, need_o, need_i


@njit(cache=True)
def ch_place(op, o_end, ip, i_end, state, aff, need_o, need_i, amark, apos, round_id):
    """Room for the growth of ``aff``'s lists in both pools (:func:`_pool_place`).
    Returns ``(op, o_end, o_new, ip, i_end, i_new)``."""
    op, o_end, o_new = _pool_place(op, o_end, state, aff, need_o, amark, apos, round_id)
    ip, i_end, i_new = _pool_place(ip, i_end, state, aff, need_i, amark, apos, round_id)
    return op, o_end, o_new, ip, i_end, i_new


@njit(cache=True)
def _update_list(a, new, pool, state, add_off, add_n, add_w, add_h, lo, hi):
    """Update ``a``'s list in ``pool``: move it to ``new`` (>= 0), drop the
    round's nodes, then add ``(add_n, add_w, add_h)[lo:hi]`` (an existing arc to
    the same node keeps the cheaper cost). Returns ``(removed, made)``: how many
    round nodes were dropped and how many arcs were added or made cheaper."""
    start, cnt, t, w, h = pool[0], pool[1], pool[3], pool[4], pool[5]
    s = start[a]
    c = cnt[a]
    if new >= 0:
        t[new:new + c] = t[s:s + c]
        w[new:new + c] = w[s:s + c]
        h[new:new + c] = h[s:s + c]
        s = new
        start[a] = s
    k = 0
    for q in range(s, s + c):  # compact, keeping the order
        if state[t[q]] == 1:
            continue
        t[s + k] = t[q]
        w[s + k] = w[q]
        h[s + k] = h[q]
        k += 1
    removed = c - k
    made = 0
    for e in range(lo, hi):
        x = add_n[e]
        found = False
        for q in range(s, s + k):
            if t[q] == x:
                found = True
                if add_w[e] < w[q]:
                    w[q] = add_w[e]
                    h[q] = add_h[e]
                    made += 1
                break
        if not found:
            t[s + k] = x
            w[s + k] = add_w[e]
            h[s + k] = add_h[e]
            k += 1
            made += 1
    cnt[a] = k
    return removed, made


@njit(cache=True)
def _update_node(j, aff, ao_off, ao_x, ao_w, ao_h, ai_off, ai_u, ai_w, ai_h, o_new, i_new,
                 op, ip, state, level, deleted, made):
    """:func:`ch_update_lists` for ``aff[j]``."""
    o_start, o_cnt, o_t = op[0], op[1], op[3]
    i_start, i_cnt, i_t = ip[0], ip[1], ip[3]
    a = aff[j]
    # distinct round neighbours and their highest level, before the removal
    nrm = 0
    lv = level[a]
    for q in range(o_start[a], o_start[a] + o_cnt[a]):
        x = o_t[q]
        if state[x] == 1:
            nrm += 1
            lv = max(lv, level[x] + 1)
    for q in range(i_start[a], i_start[a] + i_cnt[a]):
        x = i_t[q]
        if state[x] == 1:
            dup = False
            for q2 in range(o_start[a], o_start[a] + o_cnt[a]):
                if o_t[q2] == x:
                    dup = True
                    break
            if not dup:
                nrm += 1
                lv = max(lv, level[x] + 1)
    deleted[a] += nrm
    level[a] = lv
    made[j] = _update_list(a, o_new[j], op, state, ao_off, ao_x, ao_w, ao_h,
                           ao_off[j], ao_off[j + 1])[1]
    _update_list(a, i_new[j], ip, state, ai_off, ai_u, ai_w, ai_h, ai_off[j], ai_off[j + 1])


@njit(parallel=True, cache=True)
def ch_update_lists(aff, ao_off, ao_x, ao_w, ao_h, ai_off, ai_u, ai_w, ai_h, o_new, i_new,
                    op, ip, state, level, deleted, made, workers):
    """Update the lists of the round's neighbours ``aff`` in parallel (each list
    belongs to one node, so no two items write the same place): drop the
    round's nodes, add the shortcuts, and raise ``deleted`` (distinct contracted
    neighbours) and ``level`` (1 + the highest level of one). ``made[j]``: arcs
    added or made cheaper in ``aff[j]``'s out-list (each shortcut counts once).
    ``workers`` as for :func:`ch_select`."""
    n_blocks = (aff.size + _BLOCK_LIGHT - 1) // _BLOCK_LIGHT
    claim = np.empty(_STATS_ROW, np.int64)
    claim[0] = 0
    for k in prange(workers):
        while True:
            b = _fetch_add(claim, 0, 1)
            if b >= n_blocks:
                break
            for j in range(b * _BLOCK_LIGHT, min(aff.size, (b + 1) * _BLOCK_LIGHT)):
                _update_node(j, aff, ao_off, ao_x, ao_w, ao_h, ai_off, ai_u, ai_w, ai_h,
                             o_new, i_new, op, ip, state, level, deleted, made)


@njit(cache=True)
def ch_init_pools(off, t, w, slack):
    """A pool from a CSR (``slack`` free slots per list beyond its length)."""
    n = off.size - 1
    m = t.size
    start = np.empty(n, np.int64)
    cnt = np.empty(n, np.int64)
    cap = np.empty(n, np.int64)
    pt = np.empty(m + slack * n + 16, np.int32)
    pw = np.empty(pt.size, np.float64)
    ph = np.ones(pt.size, np.int32)
    e = 0
    for v in range(n):
        k = off[v + 1] - off[v]
        start[v] = e
        cnt[v] = k
        cap[v] = k + slack
        pt[e:e + k] = t[off[v]:off[v + 1]]
        pw[e:e + k] = w[off[v]:off[v + 1]]
        e += k + slack
    return (start, cnt, cap, pt, pw, ph), e


@njit(parallel=True, cache=True)
def ch_finish(order, up_ptr, up_t, up_w, dn_ptr, dn_t, dn_w):
    """Ranks from the contraction order, arc heads mapped to ranks (int32)."""
    n = order.size
    rank = np.empty(n, np.int64)
    for i in prange(n):
        rank[order[i]] = i
    nu = up_ptr[n]
    nd = dn_ptr[n]
    ut = np.empty(nu, np.int32)
    dt = np.empty(nd, np.int32)
    for q in prange(nu):
        ut[q] = rank[up_t[q]]
    for q in prange(nd):
        dt[q] = rank[dn_t[q]]
    return rank, ut, up_w[:nu].copy(), dt, dn_w[:nd].copy()
