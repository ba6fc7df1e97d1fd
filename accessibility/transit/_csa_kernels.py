"""Numba kernels of the timetable router: the Connection Scan Algorithm (CSA).

Arrays in, arrays out. Times are int64 seconds after midnight of the service day;
``INF`` marks "not reached". The connections are sorted by departure time, the
connections of one trip in stop order (see :mod:`accessibility.transit.timetable`).

Both scans treat a group of connections with the same departure time as one step
and scan it again while a connection of the group arrived (plus a zero-second
footpath) at that very time: the only case in which sorting by departure alone
would miss a transfer (zero-duration connections, common with minute times).
"""

from __future__ import annotations

import numpy as np
from numba import njit

INF = np.int64(2**40)


@njit(cache=True)
def earliest_arrival_kernel(c_dep, c_arr, c_from, c_to, c_next, fp_ptr, fp_to, fp_dur,
                            n_stops, origin, offset, t0, t_end):
    """Earliest time at every stop, leaving the origin at ``t0``.

    ``origin[i]`` is reached at ``t0 + offset[i]`` (the access walk). A vehicle
    arrival at ``v`` at time ``a`` reaches ``v`` at ``a`` and every footpath
    neighbour ``w`` of ``v`` at ``a + d`` (one footpath per transfer; none after the
    access walk, which already lists every stop it reaches). Connections departing
    after ``t_end`` are not scanned. ``c_next[k]`` is the next connection of ``k``'s
    trip (-1: none): taking ``k`` makes it reachable seated. (A flag per trip would
    let a group scanned again ride the trip's earlier connections of that minute.)

    Returns
    -------
    ea : int64 array (n_stops,)
        Earliest time one can be at each stop (``INF``: not reached).
    """
    ea = np.full(n_stops, INF, np.int64)
    veh = np.full(n_stops, INF, np.int64)
    for i in range(origin.shape[0]):
        t = t0 + offset[i]
        if t < ea[origin[i]]:
            ea[origin[i]] = t
    seated = np.zeros(c_dep.shape[0], np.bool_)
    n = c_dep.shape[0]
    i = np.searchsorted(c_dep, t0)
    while i < n and c_dep[i] <= t_end:
        g = c_dep[i]
        j = i
        while j < n and c_dep[j] == g:
            j += 1
        again = True
        while again:
            again = False
            for k in range(i, j):
                if not seated[k] and ea[c_from[k]] > g:
                    continue
                if c_next[k] >= 0:
                    seated[c_next[k]] = True
                a = c_arr[k]
                v = c_to[k]
                if a >= veh[v]:
                    continue
                veh[v] = a
                if a < ea[v]:
                    ea[v] = a
                    if a <= g:
                        again = True
                for f in range(fp_ptr[v], fp_ptr[v + 1]):
                    b = a + fp_dur[f]
                    w = fp_to[f]
                    if b < ea[w]:
                        ea[w] = b
                        if b <= g:
                            again = True
        i = j
    return ea


@njit(cache=True)
def _profile_eval(p_ptr, p_len, p_dep, p_arr, x, t):
    """Earliest arrival at the target leaving stop ``x`` at ``t`` or later (INF: none).

    The pairs of a stop were appended with non-increasing departure and decreasing
    arrival: the answer is the last pair whose departure is ``>= t``.
    """
    lo = p_ptr[x]
    hi = lo + p_len[x]
    if lo == hi or p_dep[lo] < t:
        return INF
    # first index in [lo, hi) with p_dep < t (the departures fall)
    a = lo
    b = hi
    while a < b:
        m = (a + b) // 2
        if p_dep[m] >= t:
            a = m + 1
        else:
            b = m
    return p_arr[a - 1]


@njit(cache=True)
def profile_kernel(c_dep, c_arr, c_from, c_to, c_next, fp_ptr, fp_to, fp_dur, n_stops,
                   egress, t_min):
    """Profiles to a set of destinations: for every stop, the Pareto set of (departure,
    arrival at the nearest destination) pairs, by one backward scan (profile CSA,
    Dibbelt et al. 2013).

    ``egress[s]`` is the walk from stop ``s`` to its nearest destination (``INF``:
    none); ``c_next[k]`` is the next connection of ``k``'s trip (-1: none). Staying
    seated reads the arrival of that connection, not a value per trip: a group
    scanned again must not credit a connection with what an earlier connection of
    its trip reached. Transfers follow :func:`earliest_arrival_kernel`: after a vehicle
    arrival at ``v`` one may board at ``v`` or walk one footpath; the door-to-door
    arrival from a stop reached at ``t`` is ``min(t + egress[s], profile(s, t))``.
    Only connections departing at ``t_min`` or later are scanned.

    Returns
    -------
    p_ptr, p_len, p_dep, p_arr : int64 arrays
        The pairs of stop ``s`` are ``p_dep[p_ptr[s]:p_ptr[s] + p_len[s]]`` (falling)
        and the matching arrivals (falling); read them with :func:`window_kernel`.
    """
    n = c_dep.shape[0]
    first = np.searchsorted(c_dep, t_min)
    p_ptr = np.zeros(n_stops + 1, np.int64)
    for k in range(first, n):
        p_ptr[c_from[k] + 1] += 1
    for s in range(n_stops):
        p_ptr[s + 1] += p_ptr[s]
    p_len = np.zeros(n_stops, np.int64)
    p_dep = np.empty(p_ptr[n_stops], np.int64)
    p_arr = np.empty(p_ptr[n_stops], np.int64)
    tau_c = np.full(n, INF, np.int64)
    j = n
    while j > first:
        g = c_dep[j - 1]
        i = j - 1
        while i > first and c_dep[i - 1] == g:
            i -= 1
        zero = False
        for k in range(i, j):
            if c_arr[k] == g:
                zero = True
        again = True
        while again:
            again = False
            for k in range(j - 1, i - 1, -1):
                a = c_arr[k]
                v = c_to[k]
                tau = tau_c[c_next[k]] if c_next[k] >= 0 else INF
                if egress[v] < INF and a + egress[v] < tau:
                    tau = a + egress[v]
                e = _profile_eval(p_ptr, p_len, p_dep, p_arr, v, a)
                if e < tau:
                    tau = e
                for f in range(fp_ptr[v], fp_ptr[v + 1]):
                    b = a + fp_dur[f]
                    w = fp_to[f]
                    if egress[w] < INF and b + egress[w] < tau:
                        tau = b + egress[w]
                    e = _profile_eval(p_ptr, p_len, p_dep, p_arr, w, b)
                    if e < tau:
                        tau = e
                if tau >= INF:
                    continue
                tau_c[k] = tau
                u = c_from[k]
                last = p_ptr[u] + p_len[u] - 1
                if p_len[u] > 0 and p_arr[last] <= tau:
                    continue
                if p_len[u] > 0 and p_dep[last] == g:
                    p_arr[last] = tau
                else:
                    p_dep[last + 1] = g
                    p_arr[last + 1] = tau
                    p_len[u] += 1
                if zero:
                    again = True
        j = i
    return p_ptr, p_len, p_dep, p_arr


@njit(cache=True)
def window_kernel(p_ptr, p_len, p_dep, p_arr, egress, acc_ptr, acc_stop, acc_off, direct,
                  departures):
    """Door-to-door travel time of every origin at every departure time.

    Origin ``o`` walks to stop ``acc_stop[f]`` in ``acc_off[f]`` seconds for ``f``
    in ``acc_ptr[o]:acc_ptr[o + 1]``, or straight to a destination in ``direct[o]``
    (``INF``: too far).

    Returns
    -------
    int64 array (n_origins, n_departures)
        Arrival minus departure, seconds (``INF``: no trip).
    """
    n_orig = acc_ptr.shape[0] - 1
    out = np.full((n_orig, departures.shape[0]), INF, np.int64)
    for o in range(n_orig):
        for m in range(departures.shape[0]):
            t = departures[m]
            best = INF
            if direct[o] < INF:
                best = t + direct[o]
            for f in range(acc_ptr[o], acc_ptr[o + 1]):
                s = acc_stop[f]
                x = t + acc_off[f]
                if egress[s] < INF and x + egress[s] < best:
                    best = x + egress[s]
                e = _profile_eval(p_ptr, p_len, p_dep, p_arr, s, x)
                if e < best:
                    best = e
            if best < INF:
                out[o, m] = best - t
    return out
