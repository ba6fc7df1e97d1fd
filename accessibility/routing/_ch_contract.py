"""The contraction of a hierarchy: rounds of independent node sets, each round's
steps run by the numba kernels of :mod:`._ch_kernels` (plain Python here: it only
orders the steps, sizes the buffers and chooses how many threads each step gets)."""

import time

import numba
import numpy as np

from ._ch_kernels import (
    _STATS_ROW,
    ch_collect,
    ch_finish,
    ch_init_pools,
    ch_place,
    ch_priorities,
    ch_record,
    ch_round_shortcuts,
    ch_select,
    ch_update_lists,
)

# Fewest items for which a step runs on all threads: searches (simulations,
# contractions) and light per-node steps. Waking the threads costs tens of
# microseconds on an idle machine and up to a scheduler time slice on a busy one.
_PAR_SEARCHES = 256
_PAR_LIGHT = 20_000


def contract_parallel(out_off, out_t, out_w, in_off, in_t, in_w, sim_settle, settle,
                      threads=1, hops=2, timings=None):
    """Contract all nodes in rounds of independent node sets, in parallel.

    Every round: :func:`ch_select` the nodes that come first within ``hops``
    arcs, :func:`ch_record` them (they take the next ranks, in id order),
    :func:`ch_round_shortcuts` (witness searches in parallel), insert the
    shortcuts and drop the round from its neighbours' lists (:func:`ch_collect`,
    :func:`ch_place`, :func:`ch_update_lists`), and
    recompute the neighbours' priorities (:func:`ch_priorities`).

    Parameters
    ----------
    out_off, out_t, out_w : ndarray
        CSR of the out-arcs (int64, int32, float64 >= 0), no self loops or
        parallel arcs.
    in_off, in_t, in_w : ndarray
        CSR of the in-arcs (tails), the same arcs reversed.
    sim_settle, settle : int
        Witness-search settle limits when estimating priorities and when
        contracting (a witness not found only adds a superfluous shortcut).
    threads : int
        Workers, each with its own search arrays (16 bytes per node); also the
        numba thread count used (restored on return). Small steps (the last
        rounds) run on one thread: there, waking the others costs more than it
        saves.
    hops : int
        1 or 2: a round's nodes come first within this many arcs. 2 gives
        about the shortcut count of the sequential order; 1 fewer, larger rounds
        and ~20 % more shortcuts.
    timings : dict, optional
        Filled with the seconds spent in each step.

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
    stats : ndarray of int64, shape (8,) (simulations, witness searches, settles,
    settle-limit stops, rounds, largest round, pool compactions, 0).

    The result is deterministic and does not depend on ``threads``: every step
    reads a fixed graph state and each worker writes only its own places (its
    nodes' results, its lists), so neither the split of the work nor the order
    in which workers finish can change it.
    """
    clock = time.perf_counter
    tm = dict.fromkeys(("init", "select", "record", "shortcuts", "collect", "update",
                        "priorities", "finish"), 0.0)
    t0 = clock()
    n = out_off.size - 1
    m = out_t.size
    workers = max(1, int(threads))
    threads_before = numba.get_num_threads()
    n_threads = min(workers, numba.config.NUMBA_NUM_THREADS)

    def use(items, minimum):
        # all threads for a step of enough items, else one
        numba.set_num_threads(n_threads if items >= minimum else 1)

    op, o_end = ch_init_pools(out_off, out_t, out_w, 2)
    ip, i_end = ch_init_pools(in_off, in_t, in_w, 2)
    dn = np.empty((workers, n, 2), np.float64)
    dn[:, :, 0] = np.inf
    dn[:, :, 1] = -1.0
    wstats = np.zeros((workers, _STATS_ROW), np.int64)
    level = np.zeros(n, np.int32)
    deleted = np.zeros(n, np.int32)
    state = np.zeros(n, np.int8)
    prio = np.empty(n, np.float64)
    amark = np.full(n, -1, np.int64)
    apos = np.zeros(n, np.int64)
    order = np.empty(n, np.int64)
    up_ptr = np.zeros(n + 1, np.int64)
    dn_ptr = np.zeros(n + 1, np.int64)
    up_t = np.empty(m + n, np.int32)
    up_w = np.empty(m + n, np.float64)
    dn_t = np.empty(m + n, np.int32)
    dn_w = np.empty(m + n, np.float64)
    sc_u = np.empty(1024, np.int32)
    sc_x = np.empty(1024, np.int32)
    sc_w = np.empty(1024, np.float64)
    sc_h = np.empty(1024, np.int32)
    rem = np.arange(n, dtype=np.int64)
    k = 0
    rounds = 0
    largest = 0
    n_shortcuts = 0
    compactions = 0
    try:
        tm["init"] += clock() - t0
        t0 = clock()
        use(n, _PAR_SEARCHES)
        ch_priorities(rem, sim_settle, level, deleted, state, op, ip, dn, wstats, prio)
        tm["priorities"] += clock() - t0
        while rem.size:
            t0 = clock()
            use(rem.size, _PAR_LIGHT)
            flag = ch_select(rem, hops, prio, op, ip, n_threads)
            sel = rem[flag]
            if sel.size == 0:  # the first remaining node always qualifies
                raise RuntimeError("contraction stalled: a list holds a contracted node")
            rem = rem[~flag]
            state[sel] = 1
            t1 = clock()
            tm["select"] += t1 - t0
            k, up_t, up_w, dn_t, dn_w = ch_record(sel, op, ip, k, order, up_ptr, dn_ptr,
                                                  up_t, up_w, dn_t, dn_w)
            t0 = clock()
            tm["record"] += t0 - t1
            sc_off = np.zeros(sel.size + 1, np.int64)
            np.cumsum(op[1][sel] * ip[1][sel], out=sc_off[1:])
            if sc_off[-1] > sc_u.size:
                size = int(max(sc_off[-1], 2 * sc_u.size))
                sc_u = np.empty(size, np.int32)
                sc_x = np.empty(size, np.int32)
                sc_w = np.empty(size, np.float64)
                sc_h = np.empty(size, np.int32)
            sc_cnt = np.empty(sel.size, np.int64)
            use(sel.size, _PAR_SEARCHES)
            ch_round_shortcuts(sel, settle, state, op, ip, dn, wstats, sc_off, sc_u, sc_x,
                               sc_w, sc_h, sc_cnt)
            t1 = clock()
            tm["shortcuts"] += t1 - t0
            (aff, ao_off, ao_x, ao_w, ao_h, ai_off, ai_u, ai_w, ai_h, need_o,
             need_i) = ch_collect(sel, sc_off, sc_cnt, sc_u, sc_x, sc_w, sc_h, op, ip, amark,
                                  apos, rounds)
            size_o, size_i = op[3].size, ip[3].size
            op, o_end, o_new, ip, i_end, i_new = ch_place(op, o_end, ip, i_end, state, aff,
                                                          need_o, need_i, amark, apos,
                                                          rounds)
            compactions += (op[3].size != size_o) + (ip[3].size != size_i)
            made = np.empty(aff.size, np.int64)
            t0 = clock()
            tm["collect"] += t0 - t1
            use(aff.size, _PAR_LIGHT)
            ch_update_lists(aff, ao_off, ao_x, ao_w, ao_h, ai_off, ai_u, ai_w, ai_h, o_new,
                            i_new, op, ip, state, level, deleted, made, n_threads)
            n_shortcuts += int(made.sum())
            state[sel] = 2
            t1 = clock()
            tm["update"] += t1 - t0
            use(aff.size, _PAR_SEARCHES)
            ch_priorities(aff, sim_settle, level, deleted, state, op, ip, dn, wstats, prio)
            tm["priorities"] += clock() - t1
            rounds += 1
            largest = max(largest, sel.size)
        t0 = clock()
        del op, ip, dn
        use(n, _PAR_LIGHT)
        rank, ut, uw, dt, dw = ch_finish(order, up_ptr, up_t, up_w, dn_ptr, dn_t, dn_w)
        tm["finish"] += clock() - t0
    finally:
        numba.set_num_threads(threads_before)
    if timings is not None:
        timings.update(tm)
    s = wstats.sum(axis=0)
    stats = np.array([s[0], s[1], s[2], s[3], rounds, largest, compactions, 0], np.int64)
    return rank, up_ptr, ut, uw, dn_ptr, dt, dw, n_shortcuts, stats
