"""The priority queues of the routing kernels: lazy min-heaps on two arrays, and array growth."""

import numpy as np
from numba import njit

# Every heap holds its entries in two arrays, ``hkey`` (float64 cost) and ``hval``
# (int64 payload: a node, or ``source << 32 | node``), ordered by ``(key, val)``:
# a total order, so pops are deterministic and ties break by the smaller payload.
# "Lazy": a node is pushed again when its cost improves and the caller skips
# stale entries on pop; this needs no position array (one random memory access
# less per relaxation) and measured faster than an indexed heap with
# decrease-key. The helpers are inlined at the numba IR level: as calls they
# cost 2x overall.
#
# Two arities, each where the kernels using it were tuned (merging them would
# change the speed of one side, which was not measured; the results would stay):
#
# * 4-ary (:func:`heap4_push`, :func:`heap4_pop`) for the Dijkstra searches of
#   :mod:`.kernels` on the whole graph, whose heaps grow large (a shallower heap,
#   fewer levels to sift through per pop); fixed-size arrays.
# * binary (:func:`heap_push`, :func:`heap_pop`; :func:`heap_push_grow` grows the
#   arrays) for the small searches of the contraction hierarchy (witness and
#   upward searches, PHAST, RPHAST).
#
# Both pop entries in the same ``(key, val)`` order, so the choice changes speed
# only, never a result.


# ------------------------------------------------------------------- 4-ary heap
# A search pushes at most once per edge plus once per source, so ``m + k``
# entries always suffice: the arrays are allocated that large (only the pages in
# use are ever touched), which keeps capacity checks and array reassignment (a
# third slower) out of the hot loop.


@njit(cache=True, inline="always")
def heap4_push(hkey, hval, size, key, val):
    """Push ``(key, val)`` onto a heap of ``size`` entries with room for one more.

    Returns the new size.
    """
    j = size
    while j > 0:
        parent = (j - 1) >> 2
        pkey = hkey[parent]
        if pkey < key or (pkey == key and hval[parent] <= val):
            break
        hkey[j] = pkey
        hval[j] = hval[parent]
        j = parent
    hkey[j] = key
    hval[j] = val
    return size + 1


@njit(cache=True, inline="always")
def heap4_pop(hkey, hval, size):
    """Remove the smallest entry of a heap of ``size > 0`` entries.

    Returns
    -------
    key, val, size : float, int, int
        The removed entry and the new size.
    """
    top_key = hkey[0]
    top_val = hval[0]
    size -= 1
    if size > 0:
        key = hkey[size]
        val = hval[size]
        j = 0
        while True:
            c = 4 * j + 1
            if c + 3 < size:
                # Smallest of four children by key with selects, not branches.
                k0 = hkey[c]
                k1 = hkey[c + 1]
                k2 = hkey[c + 2]
                k3 = hkey[c + 3]
                ia = c if k0 <= k1 else c + 1
                ka = min(k0, k1)
                ib = c + 2 if k2 <= k3 else c + 3
                kb = min(k2, k3)
                best = ia if ka <= kb else ib
                bkey = min(ka, kb)
                if (k0 == bkey) + (k1 == bkey) + (k2 == bkey) + (k3 == bkey) > 1:
                    # Equal keys: the smallest payload wins (rare on real weights).
                    bval = hval[best]
                    for q in range(c, c + 4):
                        if hkey[q] == bkey and hval[q] < bval:
                            best = q
                            bval = hval[q]
                else:
                    bval = hval[best]
            elif c < size:
                best = c
                bkey = hkey[c]
                bval = hval[c]
                for q in range(c + 1, size):
                    qkey = hkey[q]
                    if qkey < bkey or (qkey == bkey and hval[q] < bval):
                        best = q
                        bkey = qkey
                        bval = hval[q]
            else:
                break
            if bkey > key or (bkey == key and bval >= val):
                break
            hkey[j] = bkey
            hval[j] = bval
            j = best
        hkey[j] = key
        hval[j] = val
    return top_key, top_val, size


# ------------------------------------------------------------------ binary heap


@njit(cache=True, inline="always")
def heap_push(hk, hv, size, key, val):
    """Push ``(key, val)`` onto a heap of ``size`` entries with room for one more.

    Returns the new size. Growing arrays in the innermost loop of the witness
    search (arrays returned and reassigned there) made it about three times
    slower; that search checks the room once per settled node instead and asks
    its caller to grow and retry. Other callers use :func:`heap_push_grow`.
    """
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
    return size + 1


@njit(cache=True, inline="always")
def heap_push_grow(hk, hv, size, key, val):
    """:func:`heap_push` that first doubles full arrays; returns ``(hk, hv, size)``."""
    if size == hk.size:
        hk = grow(hk, size + 1)
        hv = grow(hv, size + 1)
    return hk, hv, heap_push(hk, hv, size, key, val)


@njit(cache=True, inline="always")
def heap_pop(hk, hv, size):
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


# ------------------------------------------------------------------------ growth


@njit(cache=True)
def grow(a, need):
    """Return ``a`` or a copy at least twice as long when it holds fewer than ``need``."""
    if need <= a.size:
        return a
    b = np.empty(max(need, 2 * a.size), a.dtype)
    b[: a.size] = a
    return b
