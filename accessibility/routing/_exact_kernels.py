"""Numba kernel of the Lage's exactness test (arrays in, arrays out): could a route
that leaves the extract change a potential? See
:func:`accessibility.models.lage_exact.exact_origins` for the bound it checks."""

from __future__ import annotations

import numba as nb
import numpy as np


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
    n_c = cx.size
    n_d = weight.size
    out = np.ones(n_o, np.bool_)
    for o in nb.prange(n_o):
        lo, hi = o_ptr[o], o_ptr[o + 1]
        if hi == lo:
            continue  # no cut node within the limit: no way out arrives in time
        inside = np.full(n_c, np.inf)  # origin -> cut node, inside the extract
        for p in range(lo, hi):
            inside[o_idx[p]] = min(inside[o_idx[p]], o_t[p])
        # the earliest arrival at each cut node by a route that has left the extract:
        # out at c1, straight to c2 at the top speed; exits in order of time, skipping
        # one already reached sooner from outside (its lines are no shorter: triangle)
        ahead = np.full(n_c, np.inf)
        order = np.argsort(o_t[lo:hi])
        exits = np.empty(hi - lo, np.int64)
        n_x = 0
        for j in order:
            c1 = o_idx[lo + j]
            t1 = o_t[lo + j]
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
        found = np.full(n_d, np.inf)  # the times inside, inf: not reached
        for p in range(p_ptr[o], p_ptr[o + 1]):
            found[p_idx[p]] = min(found[p_idx[p]], p_t[p])
        ok = True
        # back in at c2 (only where the way outside is faster) and on inside to d
        for c2 in range(n_c):
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
