"""Numba kernels of the Lage's exactness test (arrays in, arrays out): could a route
that leaves the extract change a potential, and how large could it grow? See
:func:`accessibility.models.lage_exact.exact_origins` for the bound they use."""

from __future__ import annotations

import numba as nb
import numpy as np

from ._decay import decay_weight


@nb.njit(parallel=True, cache=True)
def exact_rows(indptr, indices, t_s, t_k, l_k, weight, limit_s):  # pragma: no cover - numba
    """Per origin (CSR row): True when no route through a cut node can beat any of
    its pairs' times, nor bring a destination it did not reach within ``limit_s``.

    ``indptr``, ``indices``, ``t_s``: the pairs within the limit (destination column,
    seconds); ``t_k`` (K, origins): seconds from each origin to the nearest cut node
    of exit section k (inf: none within the limit); ``l_k`` (K, destinations): a lower
    bound of the seconds from any cut node of section k to each destination;
    ``weight``: the destinations that count (> 0).
    """
    n_o = indptr.size - 1
    n_k, n_d = l_k.shape
    out = np.ones(n_o, np.bool_)
    for o in nb.prange(n_o):
        first = np.inf  # the earliest way out: none within the limit, nothing to check
        for k in range(n_k):
            first = min(first, t_k[k, o])
        if first > limit_s:
            continue
        reached = np.zeros(n_d, np.bool_)
        ok = True
        for p in range(indptr[o], indptr[o + 1]):
            d = indices[p]
            reached[d] = True
            if weight[d] <= 0:
                continue
            for k in range(n_k):
                if t_k[k, o] + l_k[k, d] < t_s[p]:  # a way out could be faster
                    ok = False
                    break
            if not ok:
                break
        if ok:
            for d in range(n_d):
                if reached[d] or weight[d] <= 0:
                    continue
                for k in range(n_k):
                    if t_k[k, o] + l_k[k, d] <= limit_s:  # could come within the limit
                        ok = False
                        break
                if not ok:
                    break
        out[o] = ok
    return out


@nb.njit(parallel=True, cache=True)
def exact_rows_by_node(p_ptr, p_idx, p_t, o_ptr, o_idx, o_t, c_ptr, c_idx, c_t, cx, cy,
                       move_d, move_x, move_y, weight, limit_s, speed_ms,
                       snap_m):  # pragma: no cover - numba
    """Per origin (CSR rows): True when no route through the cut can beat any of its
    pairs' times, nor bring a destination it did not reach within ``limit_s``; the
    bound per cut node (see :func:`accessibility.models.lage_exact.exact_origins`).

    ``p_*``: the pairs inside (origin -> destination column, seconds, within the
    limit); ``o_*``: origin -> cut node (column into ``cx``, ``cy``), seconds;
    ``c_*``: cut node -> destination, seconds, each row sorted by time; ``cx``,
    ``cy``: the cut nodes' coordinates (m); ``move_d``, ``move_x``, ``move_y``: the
    destinations whose road node a larger extract may move beyond the cut, and their
    points; ``weight``: the destinations that count (> 0); ``speed_ms``: no road
    beyond the cut is faster; ``snap_m``: the snapping limit.
    """
    n_o = p_ptr.size - 1
    n_d = weight.size
    out = np.ones(n_o, np.bool_)
    for o in nb.prange(n_o):
        lo, hi = o_ptr[o], o_ptr[o + 1]
        if hi == lo:
            continue  # no cut node within the limit: no way out arrives in time
        inside, ahead, exits, n_x = _ways_out(o_idx[lo:hi], o_t[lo:hi], cx, cy, limit_s,
                                              speed_ms)
        found = _found(p_idx, p_t, p_ptr[o], p_ptr[o + 1], n_d)
        ok = True
        # back in at c2 (only where the way outside is faster) and on inside to d
        for c2 in range(cx.size):
            a = ahead[c2]
            if not ok:
                break
            if a >= inside[c2] or a > limit_s:
                continue
            for p in range(c_ptr[c2], c_ptr[c2 + 1]):
                t = a + c_t[p]
                if t > limit_s:
                    break  # the row is sorted: nothing later arrives in time
                d = c_idx[p]
                if weight[d] > 0 and t < found[d]:
                    ok = False
                    break
        # or straight to a destination whose road node may move beyond the cut
        for m in range(move_d.size):
            if not ok:
                break
            d = move_d[m]
            if weight[d] <= 0:
                continue
            for i in range(n_x):
                c1 = exits[i]
                line = np.sqrt((move_x[m] - cx[c1]) ** 2 + (move_y[m] - cy[c1]) ** 2)
                t = inside[c1] + max(line - snap_m, 0.0) / speed_ms
                if t <= limit_s and t < found[d]:
                    ok = False
                    break
        out[o] = ok
    return out


@nb.njit(cache=True)
def _ways_out(o_idx, o_t, cx, cy, limit_s, speed_ms):  # pragma: no cover - numba
    """One origin's ways out: ``inside`` (seconds to each cut node inside the extract),
    ``ahead`` (the earliest arrival at each cut node by a route that has left the
    extract: out at c1, straight to c2 at the top speed), and the cut nodes worth
    leaving by (``exits[:n_x]``): in order of time, skipping one already reached
    sooner from outside (its lines are no shorter: triangle inequality)."""
    n_c = cx.size
    inside = np.full(n_c, np.inf)
    for p in range(o_idx.size):
        inside[o_idx[p]] = min(inside[o_idx[p]], o_t[p])
    ahead = np.full(n_c, np.inf)
    order = np.argsort(o_t)
    exits = np.empty(o_idx.size, np.int64)
    n_x = 0
    for j in order:
        c1 = o_idx[j]
        t1 = o_t[j]
        if t1 > limit_s:
            break
        if t1 >= ahead[c1]:
            continue
        exits[n_x] = c1
        n_x += 1
        for c2 in range(n_c):
            a = t1 + np.sqrt((cx[c2] - cx[c1]) ** 2 + (cy[c2] - cy[c1]) ** 2) / speed_ms
            if a < ahead[c2]:
                ahead[c2] = a
    return inside, ahead, exits, n_x


@nb.njit(cache=True)
def _found(p_idx, p_t, lo, hi, n_d):  # pragma: no cover - numba
    """One origin's times inside to each destination (inf: not within the limit)."""
    found = np.full(n_d, np.inf)
    for p in range(lo, hi):
        found[p_idx[p]] = min(found[p_idx[p]], p_t[p])
    return found


@nb.njit(cache=True)
def _bounded_sum(found, best, weight, limit_s, decay_kind, decay_param,
                 decay_floor):  # pragma: no cover - numba
    """The potential with each destination's time ``min(found, best)``: those within
    ``limit_s`` (inclusive), decayed, times their weight."""
    acc = 0.0
    for d in range(weight.size):
        t = min(found[d], best[d])
        if weight[d] > 0 and t <= limit_s:
            acc += decay_weight(t, decay_kind, decay_param, decay_floor) * weight[d]
    return acc


@nb.njit(parallel=True, cache=True)
def upper_rows_by_node(p_ptr, p_idx, p_t, o_ptr, o_idx, o_t, c_ptr, c_idx, c_t, cx, cy,
                       move_d, move_x, move_y, weight, limit_s, speed_ms, snap_m,
                       decay_kind, decay_param, decay_floor):  # pragma: no cover - numba
    """Per origin (CSR rows), an upper bound of its potential in any larger extract:
    each destination's time replaced by ``min(time inside, b(o, d))``, ``b`` the
    earliest arrival through the cut (per cut node, the bound of
    :func:`exact_rows_by_node`, whose arguments these are), then summed with the decay
    (``decay_*`` as :func:`~._decay.decay_weight`, in seconds) over the destinations
    within ``limit_s``. A destination not reached inside counts where ``b`` is within
    the limit."""
    n_o = p_ptr.size - 1
    n_d = weight.size
    out = np.empty(n_o)
    for o in nb.prange(n_o):
        found = _found(p_idx, p_t, p_ptr[o], p_ptr[o + 1], n_d)
        best = np.full(n_d, np.inf)  # the earliest arrival through the cut
        lo, hi = o_ptr[o], o_ptr[o + 1]
        if hi > lo:
            inside, ahead, exits, n_x = _ways_out(o_idx[lo:hi], o_t[lo:hi], cx, cy,
                                                  limit_s, speed_ms)
            for c2 in range(cx.size):
                a = ahead[c2]
                if a >= inside[c2] or a > limit_s:
                    continue  # no faster than inside: min(found, .) absorbs it
                for p in range(c_ptr[c2], c_ptr[c2 + 1]):
                    t = a + c_t[p]
                    if t > limit_s:
                        break  # the row is sorted: nothing later arrives in time
                    if t < best[c_idx[p]]:
                        best[c_idx[p]] = t
            for m in range(move_d.size):
                d = move_d[m]
                for i in range(n_x):
                    c1 = exits[i]
                    line = np.sqrt((move_x[m] - cx[c1]) ** 2 + (move_y[m] - cy[c1]) ** 2)
                    t = inside[c1] + max(line - snap_m, 0.0) / speed_ms
                    if t < best[d]:
                        best[d] = t
        out[o] = _bounded_sum(found, best, weight, limit_s, decay_kind, decay_param,
                              decay_floor)
    return out


@nb.njit(parallel=True, cache=True)
def upper_rows(indptr, indices, t_s, t_k, l_k, weight, limit_s, decay_kind, decay_param,
               decay_floor):  # pragma: no cover - numba
    """Per origin (CSR rows), the upper bound of :func:`upper_rows_by_node` with the
    bound per section of the border (the arguments of :func:`exact_rows`): a route
    through section k reaches destination d no sooner than ``t_k[k, o] + l_k[k, d]``."""
    n_o = indptr.size - 1
    n_k, n_d = l_k.shape
    out = np.empty(n_o)
    for o in nb.prange(n_o):
        found = _found(indices, t_s, indptr[o], indptr[o + 1], n_d)
        best = np.full(n_d, np.inf)
        for k in range(n_k):
            tk = t_k[k, o]
            if tk > limit_s:
                continue
            for d in range(n_d):
                t = tk + l_k[k, d]
                if t < best[d]:
                    best[d] = t
        out[o] = _bounded_sum(found, best, weight, limit_s, decay_kind, decay_param,
                              decay_floor)
    return out
