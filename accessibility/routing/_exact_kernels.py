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
