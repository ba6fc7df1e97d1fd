"""PHAST and RPHAST on the contraction hierarchy (accessibility.routing._phast_kernels via
accessibility.routing.ch) against scipy's Dijkstra, routing.nearest_facility and the
bucket-based potential."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import csgraph_from_dense, dijkstra

from accessibility import routing
from accessibility._errors import InputError
from accessibility.routing import ContractionHierarchy

from .test_ch import DECAYS, SETTINGS, build, dense_distances, draw_limit, graph_ns, graphs

#: Fewer examples than test_ch (the file should stay well under 20 s).
SETTINGS = settings(SETTINGS, max_examples=60)


def nearest_expected(D, src, offs, limit):
    """Cost from the nearest source and its index (lowest on ties) from the
    all-pairs matrix ``D``."""
    cost = D[src] + offs[:, None]
    cost[cost > limit] = np.inf
    best = cost.min(axis=0)
    idx = np.where(np.isfinite(best), np.argmin(cost, axis=0), -1)  # argmin: first = lowest
    return best, idx


def draw_sources(data, n, max_size=6):
    src = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=max_size)))
    offs = np.zeros(src.size)
    if data.draw(st.booleans()):
        offs = np.array(data.draw(st.lists(st.integers(0, 3), min_size=src.size,
                                           max_size=src.size)), float)
    return src, offs


@SETTINGS
@given(graphs(), st.data())
def test_phast_one_to_all_matches_scipy(g, data):
    n = g.n_nodes
    ch = build(g, data)
    D = dense_distances(g)
    src, offs = draw_sources(data, n)
    limit = draw_limit(data, D[src] + offs[:, None])
    want, want_src = nearest_expected(D, src, offs, limit)
    times, nearest = ch.one_to_all(src, offs, limit=limit)
    np.testing.assert_array_equal(times, want)  # integer weights: exact
    np.testing.assert_array_equal(nearest, want_src)
    # the parallel variant: one tree per source
    trees = ch.many_to_all(src, source_offsets=offs, limit=limit)
    exp = D[src] + offs[:, None]
    exp[exp > limit] = np.inf
    np.testing.assert_array_equal(trees, exp)


@SETTINGS
@given(graphs(), st.data())
def test_rphast_one_to_many_matches_scipy_and_buckets(g, data):
    n = g.n_nodes
    ch = build(g, data)
    D = dense_distances(g)
    org, offs = draw_sources(data, n, max_size=20)  # > BATCH: several batches
    tgt = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=12)))
    exp = D[org][:, tgt] + offs[:, None]
    limit = draw_limit(data, exp)
    exp[exp > limit] = np.inf
    got = ch.rphast_one_to_many(org, tgt, limit, origin_offsets=offs)
    assert got.shape == (org.size, tgt.size)
    np.testing.assert_array_equal(got, exp)
    np.testing.assert_array_equal(got, ch.one_to_many(org, tgt, limit,
                                                      origin_offsets=offs).toarray())


@SETTINGS
@given(graphs(), st.data())
def test_rphast_potential_matches_routing_and_buckets(g, data):
    n = g.n_nodes
    ch = build(g, data)
    org, offs = draw_sources(data, n, max_size=12)
    w = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 2.5, -1.0, 1000.0]),
                                    min_size=n, max_size=n)))
    limit = float(data.draw(st.sampled_from([0, 1, 3, 7, 12, np.inf])))
    for decay in DECAYS:
        ref = routing.potential(g, org, w, limit_s=limit, decay=decay, origin_offsets=offs)
        res = ch.rphast_potential(org, w, limit_s=limit, decay=decay, origin_offsets=offs)
        np.testing.assert_allclose(res.sums, ref.sums, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(res.n_reached, ref.n_reached)
        bk = ch.potential(org, w, limit_s=limit, decay=decay, origin_offsets=offs)
        np.testing.assert_allclose(res.sums, bk.sums, rtol=1e-12, atol=1e-12)
        assert not res.touches_boundary.any()


def road_like(seed, side=36, island=8, zero_share=0.05):
    """A lattice with one-way streets, zero-cost arcs and a separate island
    (unreachable from the main part and back)."""
    rng = np.random.default_rng(seed)
    us, vs = [], []
    base = 0
    for s in (side, island):
        idx = base + np.arange(s * s).reshape(s, s)
        a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
        b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
        one_way = rng.random(a.size) < 0.25
        flip = rng.random(a.size) < 0.5  # one-way in either direction
        a, b = np.where(flip, b, a), np.where(flip, a, b)
        us += [a, b[~one_way]]
        vs += [b, a[~one_way]]
        base += s * s
    u, v = np.concatenate(us), np.concatenate(vs)
    w = rng.integers(1, 90, u.size).astype(float)  # integer seconds: exact sums, ties
    w[rng.random(u.size) < zero_share] = 0.0
    return graph_ns(base, u, v, w)


def scipy_rows(g, src):
    """Dijkstra rows from ``src`` (dense input: zero-cost arcs are kept)."""
    n = g.n_nodes
    dense = np.full((n, n), np.inf)
    u = np.repeat(np.arange(n), np.diff(g.offsets))
    np.minimum.at(dense, (u, g.targets), g.time_s)
    return np.atleast_2d(dijkstra(csgraph_from_dense(dense, null_value=np.inf), directed=True,
                                  indices=src))


@pytest.mark.parametrize("seed", [0, 1])
def test_seeded_road_like_graph(seed):
    g = road_like(seed)
    n = g.n_nodes
    ch = ContractionHierarchy.build(g)
    rng = np.random.default_rng(seed + 10)
    src = np.concatenate([rng.choice(36 * 36, 30), [n - 1]])  # one source on the island
    offs = rng.integers(0, 120, src.size).astype(float)
    R = scipy_rows(g, src)
    for limit in (np.inf, 900.0):
        times, nearest = ch.one_to_all(src, offs, limit=limit)
        exp = (R + offs[:, None]).min(axis=0)
        exp[exp > limit] = np.inf
        fin = np.isfinite(exp)
        np.testing.assert_array_equal(np.isfinite(times), fin)
        np.testing.assert_array_equal(times[fin], exp[fin])
        # same nearest source as the multi-source Dijkstra (lowest index on ties)
        ref = routing.nearest_facility(g, src, offs, limit=limit)
        np.testing.assert_array_equal(nearest, ref.source)
        assert (nearest[~fin] == -1).all()
    # the island's nodes are reached only from its source
    island = np.arange(36 * 36, n)
    assert set(np.unique(ch.one_to_all(src).source[island])) <= {src.size - 1, -1}
    # RPHAST with many origins and targets, inclusive limit at an exact cost
    org = np.concatenate([src[:-1], rng.choice(n, 20)])
    tgt = rng.choice(n, 200)
    D = scipy_rows(g, org)[:, tgt]
    limit = float(np.sort(D[np.isfinite(D)])[D.size // 3])
    got = ch.rphast_one_to_many(org, tgt, limit)
    exp = np.where(D <= limit, D, np.inf)
    fin = np.isfinite(exp)
    np.testing.assert_array_equal(np.isfinite(got), fin)
    np.testing.assert_array_equal(got[fin], exp[fin])
    assert (got == limit).any()  # the limit itself is included


def test_rphast_potential_threads_and_selection_cache():
    g = road_like(3)
    n = g.n_nodes
    ch = ContractionHierarchy.build(g)
    rng = np.random.default_rng(4)
    w = np.where(rng.random(n) < 0.3, rng.random(n) * 1000, 0.0)
    org = rng.choice(n, 53)
    d = routing.Decay("exponential", beta=0.3)
    prev = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = ch.rphast_potential(org, w, limit_s=1200.0, decay=d)
        sel = ch.rphast_selection(np.flatnonzero(w), 1200.0)
        assert 0 < sel["n_nodes"] < n
        if numba.config.NUMBA_NUM_THREADS >= 2:
            numba.set_num_threads(2)
        b = ch.rphast_potential(org, w, limit_s=1200.0, decay=d)
        assert ch.rphast_selection(np.flatnonzero(w), 1200.0) is sel  # reused
    finally:
        numba.set_num_threads(prev)
    np.testing.assert_array_equal(a.sums, b.sums)
    ref = routing.potential(g, org, w, limit_s=1200.0, decay=d)
    np.testing.assert_allclose(a.sums, ref.sums, rtol=1e-12)
    np.testing.assert_array_equal(a.n_reached, ref.n_reached)
    # a smaller limit selects fewer nodes; no limit selects every node reaching a target
    small = ch.rphast_selection(np.flatnonzero(w), 60.0)["n_nodes"]
    assert small < sel["n_nodes"] <= ch.rphast_selection(np.flatnonzero(w))["n_nodes"]


def test_inputs():
    g = graph_ns(4, [0, 1, 2, 2], [1, 2, 3, 2], [1.0, 0.0, 2.0, 5.0])
    ch = ContractionHierarchy.build(g)
    with pytest.raises(InputError):
        ch.one_to_all([7])
    with pytest.raises(InputError):
        ch.one_to_all([0], [-1.0])
    with pytest.raises(InputError):
        ch.many_to_all([0], limit=-1.0)
    with pytest.raises(InputError):
        ch.rphast_one_to_many([0], [1], limit=np.nan)
    with pytest.raises(InputError):
        ch.rphast_potential([0], np.ones(3))
    times, nearest = ch.one_to_all([3, 0])
    np.testing.assert_array_equal(times, [0.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(nearest, [1, 1, 1, 0])
    np.testing.assert_array_equal(ch.rphast_one_to_many([0, 3], [3, 1, 3]),
                                  [[3.0, 1.0, 3.0], [0.0, np.inf, 0.0]])
    assert ch.rphast_potential([0], np.zeros(4)).sums[0] == 0.0
