"""The routing kernels against independent references (scipy, networkx, brute force)."""

from __future__ import annotations


import networkx as nx
import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_array
from scipy.sparse.csgraph import csgraph_from_dense, dijkstra

from accessibility import routing
from accessibility._errors import InputError
from accessibility.routing import kernels, search

from .conftest import SHARED as DATA
SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ------------------------------------------------------------------ helpers


def csr(n, u, v, w):
    """CSR arrays (offsets, targets, weights) of edges u -> v, kept in input order
    within each row (parallel edges and self loops stay)."""
    u = np.asarray(u, np.int64)
    order = np.argsort(u, kind="stable")
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=offsets[1:])
    return (offsets, np.asarray(v, np.int32)[order].copy(),
            np.asarray(w, np.float64)[order].copy())


def scipy_graph(n, offsets, targets, weights):
    """The graph for scipy.sparse.csgraph with parallel edges reduced to the
    cheapest one. (scipy 1.17 treats explicit zeros of a sparse matrix as edges
    and duplicate CSR entries as parallel edges, but any canonicalisation, e.g.
    ``sum_duplicates`` or a COO round trip, *sums* duplicates; a dense matrix
    with ``inf`` as the null value is unambiguous and documented.)"""
    dense = np.full((n, n), np.inf)
    u = np.repeat(np.arange(n), np.diff(offsets))
    np.minimum.at(dense, (u, targets), weights)
    return csgraph_from_dense(dense, null_value=np.inf)


def scipy_rows(G, nodes):
    """Full distance rows from each node (k x n)."""
    return np.atleast_2d(dijkstra(G, directed=True, indices=np.asarray(nodes)))


@st.composite
def graphs(draw, max_n=40, max_w=5):
    """Random directed graphs: integer weights (ties are common), zero-weight and
    parallel edges, self loops and unreachable nodes."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(0, 3 * n))
    u = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    v = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    w = draw(st.lists(st.integers(0, max_w), min_size=m, max_size=m))
    return (n, *csr(n, u, v, w))


def draw_limit(data, dist_rows, scale=1.0):
    """np.inf, a random integer (times ``scale``), or exactly the distance of some
    reached node."""
    finite = dist_rows[np.isfinite(dist_rows)]
    choice = data.draw(st.sampled_from(["inf", "int", "exact"]))
    if choice == "inf" or finite.size == 0:
        return np.inf
    if choice == "int":
        return float(data.draw(st.integers(0, 12))) * scale
    return float(data.draw(st.sampled_from(sorted(set(finite.tolist())))))


def expected_nearest(rows, src_offsets, limit):
    """Brute-force multi-source result: min over sources of offset + d, lowest
    source index on ties, both cut at ``limit``."""
    total = rows + np.asarray(src_offsets)[:, None]
    total[total > limit] = np.inf
    best = total.min(axis=0)
    arg = np.argmax(total == best[None, :], axis=0).astype(np.int32)
    arg[~np.isfinite(best)] = -1
    return best, arg


# ---------------------------------------------------------- multi-source


@SETTINGS
@given(graphs(), st.data())
def test_multi_source_matches_scipy_min_only(g, data):
    n, off, tgt, w = g
    src = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6)), np.int64)
    G = scipy_graph(n, off, tgt, w)
    limit = draw_limit(data, scipy_rows(G, src))
    dist, nearest = kernels.multi_source_dijkstra(off, tgt, w, src, np.zeros(src.size), limit)
    ref = dijkstra(G, directed=True, indices=src, min_only=True, limit=limit)
    np.testing.assert_array_equal(dist, ref)
    # nearest: the lowest-index source attaining the minimum (brute force)
    best, arg = expected_nearest(scipy_rows(G, src), np.zeros(src.size), limit)
    np.testing.assert_array_equal(dist, best)
    np.testing.assert_array_equal(nearest, arg)


@SETTINGS
@given(graphs(), st.data())
def test_multi_source_with_offsets_matches_brute_force(g, data):
    n, off, tgt, w = g
    k = data.draw(st.integers(1, 6))
    src = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k)), np.int64)
    so = np.array(data.draw(st.lists(st.integers(0, 6), min_size=k, max_size=k)), np.float64)
    G = scipy_graph(n, off, tgt, w)
    rows = scipy_rows(G, src)
    limit = draw_limit(data, rows + so[:, None])
    dist, nearest = kernels.multi_source_dijkstra(off, tgt, w, src, so, limit)
    best, arg = expected_nearest(rows, so, limit)
    np.testing.assert_array_equal(dist, best)
    np.testing.assert_array_equal(nearest, arg)
    assert dist.dtype == np.float64 and nearest.dtype == np.int32


@settings(max_examples=30, deadline=None)
@given(graphs(max_n=25), st.data())
def test_multi_source_matches_networkx(g, data):
    n, off, tgt, w = g
    src = sorted(set(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))))
    cutoff = data.draw(st.sampled_from([None, 3, 6]))
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(n))
    u = np.repeat(np.arange(n), np.diff(off))
    G.add_weighted_edges_from(zip(u.tolist(), tgt.tolist(), w.tolist()))
    ref = nx.multi_source_dijkstra_path_length(G, set(src), cutoff=cutoff)
    limit = np.inf if cutoff is None else float(cutoff)
    dist, _ = kernels.multi_source_dijkstra(off, tgt, w, np.array(src, np.int64),
                                            np.zeros(len(src)), limit)
    assert {i: dist[i] for i in range(n) if np.isfinite(dist[i])} == ref


def test_multi_source_ties_go_to_lowest_index():
    # 0 -> 2 and 1 -> 2 both cost 1; 2 -> 3 costs 0; sources listed as [1, 0, 1].
    off, tgt, w = csr(4, [0, 1, 2], [2, 2, 3], [1.0, 1.0, 0.0])
    dist, nearest = kernels.multi_source_dijkstra(off, tgt, w, np.array([1, 0, 1]),
                                                  np.zeros(3), np.inf)
    np.testing.assert_array_equal(dist, [0, 0, 1, 1])
    np.testing.assert_array_equal(nearest, [1, 0, 0, 0])
    # a limit exactly on a distance is inclusive
    dist, nearest = kernels.multi_source_dijkstra(off, tgt, w, np.array([0]), np.zeros(1), 1.0)
    np.testing.assert_array_equal(dist, [0, np.inf, 1, 1])
    np.testing.assert_array_equal(nearest, [0, -1, 0, 0])



WIDE = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 3.0, 1e3, 1e6, np.inf]),
                 st.floats(0.0, 1e4, allow_nan=False))


@SETTINGS
@given(graphs(max_n=30), st.data())
def test_multi_source_buckets_match_heap(g, data):
    """The bucket queue against the heap-only search, bit for bit: weights and
    source offsets of wide spans (circular buckets wrap around, or the plain
    heap takes over), infinite weights, limits and explicit bucket widths."""
    n, off, tgt, w = g
    w = np.array(data.draw(st.lists(WIDE, min_size=w.size, max_size=w.size)), np.float64)
    k = data.draw(st.integers(1, 8))
    src = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k)), np.int64)
    so = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 2.5, 1e3, 1e7, -5.0]),
                                     min_size=k, max_size=k)), np.float64)
    limit = data.draw(st.sampled_from([np.inf, 0.0, 2.0, 10.0, 1e3, 1e8]))
    delta = data.draw(st.sampled_from([0.0, 1e-9, 0.1, 0.7, 3.0, 1e5]))
    ref_d, ref_n = kernels._multi_source_heap(off, tgt, w, src, so, limit)
    dist, nearest = kernels.multi_source_dijkstra(off, tgt, w, src, so, limit, delta)
    np.testing.assert_array_equal(dist, ref_d)
    np.testing.assert_array_equal(nearest, ref_n)


def test_multi_source_buckets_on_a_grid():
    """Many sources on a bigger graph, for several bucket widths (many buckets,
    wrap-around of the circular array, one bucket for everything)."""
    n, off, tgt, w = grid_graph(60, seed=3)
    w = w * np.random.default_rng(1).uniform(0.5, 20.0, w.size)
    src = np.random.default_rng(2).choice(n, 40).astype(np.int64)
    so = np.random.default_rng(3).uniform(0.0, 50.0, src.size).round(1)
    for limit in (np.inf, 60.0):
        ref = kernels._multi_source_heap(off, tgt, w, src, so, limit)
        for delta in (0.0, 0.05, 1.0, 40.0, 1e6):
            dist, nearest = kernels.multi_source_dijkstra(off, tgt, w, src, so, limit, delta)
            np.testing.assert_array_equal(dist, ref[0])
            np.testing.assert_array_equal(nearest, ref[1])


# ---------------------------------------------------------- potential

DECAYS = [
    routing.Decay("none"),
    routing.Decay("exponential", beta=0.1),
    routing.Decay("gaussian", sigma_min=2.0),
    routing.Decay("power", beta=1.5, floor_min=2.0),
]


def potential_reference(G, origins, offsets, limit, node_weight, decay, boundary):
    """Per-origin scipy rows + numpy decay (weights in seconds, decay in minutes)."""
    t = scipy_rows(G, origins) + offsets[:, None]
    inside = np.isfinite(t) & (t <= limit)
    wts = np.where(inside, decay.weight(np.where(inside, t, 0.0) / 60.0), 0.0)
    sums = (wts * node_weight[None, :]).sum(axis=1)
    n_reached = (inside & (node_weight != 0)[None, :]).sum(axis=1)
    touches = (inside & boundary[None, :]).any(axis=1)
    return sums, n_reached, touches


@pytest.mark.parametrize("decay", DECAYS, ids=lambda d: d.kind)
@settings(max_examples=40, deadline=None)
@given(g=graphs(max_w=4), data=st.data())
def test_bounded_potential_matches_brute_force(decay, g, data):
    n, off, tgt, w = g
    w = w * 30.0  # half-minute steps, so that the decay matters
    k = data.draw(st.integers(1, 8))
    origins = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k)), np.int64)
    oo = np.array(data.draw(st.lists(st.integers(0, 4), min_size=k, max_size=k)), np.float64) * 30.0
    nw = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 2.5, 7.0]),
                                     min_size=n, max_size=n)))
    boundary = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    G = scipy_graph(n, off, tgt, w)
    limit = draw_limit(data, scipy_rows(G, origins) + oo[:, None], scale=30.0)
    kind, decay_param, decay_floor = decay.kernel_params()
    sums, n_reached, touches = kernels.bounded_potential(off, tgt, w, origins, oo, limit, nw,
                                                         kind, decay_param, decay_floor, boundary)
    ref = potential_reference(G, origins, oo, limit, nw, decay, boundary)
    np.testing.assert_allclose(sums, ref[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(n_reached, ref[1])
    np.testing.assert_array_equal(touches, ref[2])


def grid_graph(side, seed=0, keep=0.7):
    """A random sparse grid with both edge directions, float weights (seconds)."""
    rng = np.random.default_rng(seed)
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    m = rng.random(u.size) < keep
    u, v = u[m], v[m]
    w = rng.uniform(5, 60, u.size)
    return (side * side, *csr(side * side, np.concatenate([u, v]), np.concatenate([v, u]),
                              np.concatenate([w, w * rng.uniform(0.9, 1.1, w.size)])))


def test_bounded_potential_independent_of_threads():
    n, off, tgt, w = grid_graph(60)
    rng = np.random.default_rng(3)
    origins = rng.integers(0, n, 300)
    oo = rng.uniform(0, 60, origins.size)
    nw = rng.random(n) * (rng.random(n) < 0.3)
    boundary = np.zeros(n, bool)
    boundary[:60] = True
    kind, decay_param, decay_floor = routing.Decay("exponential", beta=0.05).kernel_params()
    target_index = np.where(rng.random(n) < 0.5, np.arange(n), -1).astype(np.int32)
    prev = numba.get_num_threads()
    out = []
    try:
        if numba.config.NUMBA_NUM_THREADS < 2:
            pytest.skip("numba allows 1 thread only (NUMBA_NUM_THREADS): 1 vs 2 not testable")
        for threads in (1, 2):
            numba.set_num_threads(threads)
            out.append(kernels.bounded_potential(off, tgt, w, origins, oo, 900.0, nw, kind, decay_param, decay_floor,
                                                 boundary))
            out.append(kernels.bounded_one_to_many(off, tgt, w, origins, oo, 600.0, target_index))
    finally:
        numba.set_num_threads(prev)
    for a, b in zip(out[0], out[2]):
        np.testing.assert_array_equal(a, b)  # bit-identical, not merely close
    for a, b in zip(out[1], out[3]):
        np.testing.assert_array_equal(a, b)
    assert out[0][2].any() and not out[0][2].all()
    # and against scipy for a few origins
    G = csr_array((w, tgt, off), shape=(n, n))
    ref = potential_reference(G, origins[:20], oo[:20], 900.0, nw,
                              routing.Decay("exponential", beta=0.05), boundary)
    np.testing.assert_allclose(out[0][0][:20], ref[0], rtol=1e-10)
    np.testing.assert_array_equal(out[0][1][:20], ref[1])


# ---------------------------------------------------------- one-to-many


@SETTINGS
@given(graphs(), st.data())
def test_bounded_one_to_many_matches_scipy(g, data):
    n, off, tgt, w = g
    k = data.draw(st.integers(1, 6))
    origins = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k)), np.int64)
    oo = np.array(data.draw(st.lists(st.integers(0, 3), min_size=k, max_size=k)), np.float64)
    tnodes = np.array(sorted(set(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n)))))
    target_index = np.full(n, -1, np.int32)
    target_index[tnodes] = np.arange(tnodes.size)
    G = scipy_graph(n, off, tgt, w)
    rows = scipy_rows(G, origins) + oo[:, None]
    limit = draw_limit(data, rows)
    indptr, cols, times = kernels.bounded_one_to_many(off, tgt, w, origins, oo, limit, target_index)
    expect = rows[:, tnodes]
    assert indptr.dtype == np.int64 and cols.dtype == np.int32 and indptr[0] == 0
    for i in range(k):
        reached = np.flatnonzero(np.isfinite(expect[i]) & (expect[i] <= limit))
        np.testing.assert_array_equal(cols[indptr[i]:indptr[i + 1]], reached)
        np.testing.assert_array_equal(times[indptr[i]:indptr[i + 1]], expect[i, reached])


@SETTINGS
@given(graphs(), st.data())
def test_bounded_one_to_many_multi_round_path(g, data):
    """Row buffers that hold one row: chunks run many rounds, a row that does not fit is
    redone in the next round (the path a national calibration takes with 65,536
    entries per chunk) and the result still equals scipy's."""
    n, off, tgt, w = g
    k = data.draw(st.integers(20, 60))
    origins = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k)),
                       np.int64)
    oo = np.zeros(k)
    tnodes = np.arange(n)  # every node a target: long rows, full buffers
    target_index = np.arange(n, dtype=np.int32)
    G = scipy_graph(n, off, tgt, w)
    rows = scipy_rows(G, origins)
    indptr, cols, times = kernels.bounded_one_to_many(off, tgt, w, origins, oo, np.inf,
                                                      target_index, 1)
    assert indptr[-1] == np.isfinite(rows).sum()  # no row lost or doubled
    for i in range(k):
        reached = np.flatnonzero(np.isfinite(rows[i, tnodes]))
        np.testing.assert_array_equal(cols[indptr[i]:indptr[i + 1]], reached)
        np.testing.assert_array_equal(times[indptr[i]:indptr[i + 1]], rows[i, reached])


@SETTINGS
@given(graphs(), st.data())
def test_shortest_path_tree_matches_scipy_with_ties(g, data):
    """Distances equal scipy's; every predecessor edge is tight (dist[v] = dist[tail] +
    w) and following them leads back to the source: a shortest path also on ties."""
    n, off, tgt, w = g
    src = data.draw(st.integers(0, n - 1))
    dist, pred = kernels.shortest_path_tree(off, tgt, w, src, np.inf)
    np.testing.assert_array_equal(dist, scipy_rows(scipy_graph(n, off, tgt, w), [src])[0])
    tails = np.repeat(np.arange(n), np.diff(off))
    assert pred[src] == -1
    for v in np.flatnonzero(np.isfinite(dist)):
        if v == src:
            continue
        e = pred[v]
        assert tgt[e] == v and dist[tails[e]] + w[e] == dist[v]
        seen, u = 0, v
        while u != src:  # back to the source, no cycle
            u = tails[pred[u]]
            seen += 1
            assert seen <= n
    assert (pred[~np.isfinite(dist)] == -1).all()


@SETTINGS
@given(graphs(), st.data())
def test_one_to_many_duplicate_targets_match_scipy(g, data):
    n, off, tgt, w = g
    graph = FakeGraph(off, tgt, w)
    k = data.draw(st.integers(1, 4))
    origins = data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    targets = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2 * n))
    m = routing.one_to_many(graph, origins, targets)
    ref = scipy_rows(scipy_graph(n, off, tgt, w), np.array(origins))[:, targets]
    np.testing.assert_array_equal(m.toarray(), ref)  # unreached: inf in both
    assert m.nnz == np.isfinite(ref).sum()


def test_one_to_many_wrapper_duplicates_and_zeros():
    # 0 -> 1 costs 0, 1 -> 2 costs 5
    off, tgt, w = csr(3, [0, 1], [1, 2], [0.0, 5.0])
    graph = FakeGraph(off, tgt, w)
    m = routing.one_to_many(graph, [0, 2], [2, 1, 2, 0], limit=5.0)
    assert m.shape == (2, 4)
    # explicit zeros are kept, unreachable pairs (2 -> 0, 2 -> 1) are not stored
    np.testing.assert_array_equal(m.indptr, [0, 4, 6])
    np.testing.assert_array_equal(m.indices, [0, 1, 2, 3, 0, 2])
    np.testing.assert_array_equal(m.data, [5.0, 0.0, 5.0, 0.0, 0.0, 0.0])
    m = routing.one_to_many(graph, [0], [0, 1, 2], limit=4.0)
    np.testing.assert_array_equal(m.indices, [0, 1])


# ---------------------------------------------------------- wrappers


class FakeGraph:
    """Just enough of a RoadGraph for the wrappers."""

    def __init__(self, offsets, targets, time_s, length_m=None):
        self.offsets, self.targets, self.time_s = offsets, targets, time_s
        self.length_m = time_s * 10.0 if length_m is None else length_m
        self.n_nodes = offsets.size - 1

    @property
    def reversed(self):
        n = self.n_nodes
        u = np.repeat(np.arange(n), np.diff(self.offsets))
        return FakeGraph(*csr(n, self.targets, u, self.time_s),
                         length_m=csr(n, self.targets, u, self.length_m)[2])


def test_nearest_facility_reverse_and_walk():
    n, off, tgt, w = grid_graph(12, seed=5, keep=0.6)
    graph = FakeGraph(off, tgt, w)
    fac = [3, 77, 140]
    fwd = routing.nearest_facility(graph, fac)
    rev = routing.nearest_facility(graph, fac, reverse=True)
    G = csr_array((w, tgt, off), shape=(n, n))
    np.testing.assert_allclose(fwd.dist, dijkstra(G, indices=fac, min_only=True))
    np.testing.assert_allclose(rev.dist, dijkstra(G.T.tocsr(), indices=fac, min_only=True))
    walk = routing.walk_nearest(graph, fac, limit_m=1500.0)
    ref = dijkstra(csr_array((w * 10, tgt, off), shape=(n, n)), indices=fac, min_only=True,
                   limit=1500.0)
    np.testing.assert_allclose(walk.dist, ref)
    assert walk.source.dtype == np.int32 and (walk.source[np.isinf(walk.dist)] == -1).all()


def test_potential_wrapper_matches_kernel_and_units():
    n, off, tgt, w = grid_graph(15, seed=2)
    graph = FakeGraph(off, tgt, w)
    nw = np.linspace(0, 1, n)
    decay = routing.Decay("gaussian", sigma_min=5.0)
    res = routing.potential(graph, [0, 100], nw, limit_s=1200.0, decay=decay)
    ref = potential_reference(csr_array((w, tgt, off), shape=(n, n)), np.array([0, 100]),
                              np.zeros(2), 1200.0, nw, decay, np.zeros(n, bool))
    np.testing.assert_allclose(res.sums, ref[0], rtol=1e-12)
    np.testing.assert_array_equal(res.n_reached, ref[1])


def test_decay_weights_in_minutes():
    t = np.array([0.0, 1.0, 2.0, 10.0])
    np.testing.assert_allclose(routing.Decay("exponential", beta=0.1).weight(t), np.exp(-0.1 * t))
    np.testing.assert_allclose(routing.Decay("gaussian", sigma_min=2.0).weight(t),
                               np.exp(-t ** 2 / 8.0))
    np.testing.assert_allclose(routing.Decay("power", beta=2.0, floor_min=2.0).weight(t),
                               [1.0, 1.0, 1.0, 1 / 25])
    assert routing.Decay("exponential", beta=0.6).kernel_params() == (1, 0.01, 0.0)
    assert routing.Decay("gaussian", sigma_min=2.0).kernel_params() == (2, 120.0, 0.0)
    assert routing.Decay("power", beta=2.0, floor_min=2.0).kernel_params() == (3, 2.0, 120.0)
    with pytest.raises(InputError, match="sigma_min"):
        routing.Decay("gaussian")
    with pytest.raises(InputError, match="unknown decay"):
        routing.Decay("linear")


def test_decay_weight_keeps_the_shape_and_the_row_sums_are_checked():
    t = np.array([[0.0, 3.0], [30.0, 90.0]])
    w = routing.Decay("exponential", beta=0.076).weight(t)
    assert w.shape == (2, 2)
    np.testing.assert_allclose(w, np.exp(-0.076 * t))
    assert routing.Decay("none").weight(7.0) == 1.0
    with pytest.raises(InputError, match="row pointer"):
        routing.decayed_row_sums([1, 2], [1.0], [1.0], routing.Decay("none"))
    with pytest.raises(InputError, match="shape"):
        routing.decayed_row_sums([0, 2], [1.0], [1.0], routing.Decay("none"))
    with pytest.raises(InputError, match="Decay"):
        routing.decayed_row_sums([0, 1], [1.0], [1.0], "exponential")


@pytest.mark.parametrize("call, match", [
    (lambda g: routing.nearest_facility(g, []), "empty"),
    (lambda g: routing.nearest_facility(g, [0, 9]), "outside"),
    (lambda g: routing.nearest_facility(g, [-1]), "outside"),
    (lambda g: routing.nearest_facility(g, [0.5]), "integer"),
    (lambda g: routing.nearest_facility(g, [0, 1], offsets=[0.0, np.nan]), "NaN"),
    (lambda g: routing.nearest_facility(g, [0, 1], offsets=[0.0]), "shape"),
    (lambda g: routing.nearest_facility(g, [0], offsets=[-1.0]), ">= 0"),
    (lambda g: routing.nearest_facility(g, [0], limit=-1.0), ">= 0"),
    (lambda g: routing.nearest_facility(g, [0], limit=np.nan), ">= 0"),
    (lambda g: routing.nearest_facility(g, [0], weight="speed"), "unknown weight"),
    (lambda g: routing.potential(g, [0], np.ones(3)), "one value per node"),
    (lambda g: routing.potential(g, [0], np.ones(4), limit_s=-5), ">= 0"),
    (lambda g: routing.potential(g, [0], np.ones(4), weight="length",
                                 decay=routing.Decay("exponential", beta=0.1)), "minutes"),
    (lambda g: routing.one_to_many(g, [0], []), "empty"),
    (lambda g: routing.one_to_many(g, [0], [4]), "outside"),
])
def test_wrapper_errors(call, match):
    graph = FakeGraph(*csr(4, [0, 1, 2], [1, 2, 3], [1.0, 1.0, 1.0]))
    with pytest.raises(InputError, match=match):
        call(graph)


def test_warmup_and_threads():
    routing.warmup()  # compiles (or loads) every kernel
    for k in (kernels.multi_source_dijkstra, kernels.bounded_potential,
              kernels.bounded_one_to_many):
        assert k.signatures, k
    prev = routing.set_threads(1)
    try:
        assert numba.get_num_threads() == 1
    finally:
        routing.set_threads(prev)
    with pytest.raises(InputError):
        routing.set_threads(0)


# ---------------------------------------------------------- a real graph


def test_real_graph_against_scipy():
    from accessibility.graph import build_graph

    pbf = DATA / "osm" / "heidelberg.osm.pbf"
    if not pbf.exists():
        pytest.skip(f"{pbf} not found")
    graph = build_graph(pbf)
    n = graph.n_nodes
    # scipy sums parallel edges: keep the cheapest of each (u, v) first
    u = np.repeat(np.arange(n), np.diff(graph.offsets))
    order = np.lexsort((graph.time_s, graph.targets, u))
    first = np.ones(order.size, bool)
    first[1:] = (u[order][1:] != u[order][:-1]) | (graph.targets[order][1:] != graph.targets[order][:-1])
    keep = order[first]
    G = csr_array((graph.time_s[keep], (u[keep], graph.targets[keep])), shape=(n, n))
    rng = np.random.default_rng(0)
    src = rng.choice(n, 20, replace=False)
    res = routing.nearest_facility(graph, src)
    ref = dijkstra(G, indices=src, min_only=True)
    np.testing.assert_allclose(res.dist, ref, rtol=1e-9)
    rows = dijkstra(G, indices=src)
    reached = np.isfinite(res.dist)
    np.testing.assert_allclose(rows[res.source[reached], np.flatnonzero(reached)],
                               res.dist[reached], rtol=1e-9)
    m = routing.one_to_many(graph, src[:5], src, limit=900.0)
    dense = rows[:5][:, src]
    for i in range(5):
        row = slice(m.indptr[i], m.indptr[i + 1])
        np.testing.assert_array_equal(m.indices[row], np.flatnonzero(dense[i] <= 900.0))
        np.testing.assert_allclose(m.data[row], dense[i][dense[i] <= 900.0], rtol=1e-9)


def test_potential_in_progress_chunks_equals_one_call(monkeypatch):
    """The chunked path (with a progress bar) gives bit-identical results."""
    rng = np.random.default_rng(5)
    n = 400
    u = rng.integers(0, n, 2000)
    v = rng.integers(0, n, 2000)
    from accessibility.graph import from_edges
    g = from_edges(u, v, rng.uniform(0, 600, 2000), np.ones(2000), np.zeros(2000),
                   class_names=("road",), osm_id=np.arange(n), lon=np.full(n, 10.0),
                   lat=np.linspace(50, 51, n))
    origins = rng.integers(0, n, 300)
    w = rng.uniform(0, 100, n)
    dec = routing.Decay("exponential", beta=0.05)
    one = routing.potential(g, origins, w, limit_s=3600, decay=dec)
    monkeypatch.setattr(search, "_PROGRESS_MIN_ORIGINS", 10)
    chunked = routing.potential(g, origins, w, limit_s=3600, decay=dec)
    for a, b in zip(one, chunked):
        np.testing.assert_array_equal(a, b)


def test_decay_parameters_are_validated():
    from accessibility._errors import InputError
    from accessibility.routing import Decay

    assert Decay("exponential", beta="0.1").beta == 0.1
    with pytest.raises(InputError, match="must be a number"):
        Decay("gaussian", sigma_min=None)


@settings(max_examples=60, deadline=None)
@given(k=st.integers(0, 12), nnz=st.integers(0, 60), seed=st.integers(0, 2**31),
       kind=st.sampled_from(["none", "exponential", "gaussian", "power"]))
def test_decayed_row_sums_matches_numpy(k, nnz, seed, kind):
    from accessibility.routing import Decay

    rng = np.random.default_rng(seed)
    rows = np.sort(rng.integers(0, k, nnz)) if k else np.zeros(0, np.int64)
    t = rng.uniform(0, 150, rows.size)
    w = rng.uniform(0, 1e4, rows.size)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=k))])
    decay = Decay(kind, beta=0.07 if kind == "exponential" else 1.3, sigma_min=20.0, floor_min=2.0)
    got = routing.decayed_row_sums(indptr, t, w, decay)
    want = np.bincount(rows, weights=decay.weight(t) * w, minlength=k)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
