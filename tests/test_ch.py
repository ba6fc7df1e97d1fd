"""The contraction hierarchy (accessibility.routing.ch) against scipy and routing.potential."""

from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_array
from scipy.sparse.csgraph import csgraph_from_dense, dijkstra

from accessibility import routing
from accessibility._errors import InputError
from accessibility.routing import ContractionHierarchy

from .conftest import SHARED as DATA
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DECAYS = [routing.Decay("none"), routing.Decay("exponential", beta=0.5),
          routing.Decay("gaussian", sigma_min=0.05),
          routing.Decay("power", beta=1.5, floor_min=0.02)]


def graph_ns(n, u, v, w):
    """A minimal graph object (CSR arrays, rows in input order: parallel edges and
    self loops stay)."""
    u = np.asarray(u, np.int64)
    order = np.argsort(u, kind="stable")
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=offsets[1:])
    w = np.asarray(w, np.float64)[order].copy()
    return SimpleNamespace(offsets=offsets, targets=np.asarray(v, np.int32)[order].copy(),
                           time_s=w, length_m=w.copy(), n_nodes=n)


def dense_distances(g):
    """All-pairs distances with scipy (parallel edges reduced to the cheapest; a
    dense matrix with ``inf`` as null keeps zero-weight edges)."""
    n = g.n_nodes
    dense = np.full((n, n), np.inf)
    u = np.repeat(np.arange(n), np.diff(g.offsets))
    np.minimum.at(dense, (u, g.targets), g.time_s)
    return np.atleast_2d(dijkstra(csgraph_from_dense(dense, null_value=np.inf), directed=True))


@st.composite
def graphs(draw, max_n=40, max_w=5):
    """Random directed graphs: integer weights (ties are common), zero-weight and
    parallel edges, self loops and unreachable nodes."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(0, 3 * n))
    u = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    v = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    w = draw(st.lists(st.integers(0, max_w), min_size=m, max_size=m))
    return graph_ns(n, u, v, w)


def draw_limit(data, rows):
    finite = rows[np.isfinite(rows)]
    choice = data.draw(st.sampled_from(["inf", "int", "exact"]))
    if choice == "inf" or finite.size == 0:
        return np.inf
    if choice == "int":
        return float(data.draw(st.integers(0, 12)))
    return float(data.draw(st.sampled_from(sorted(set(finite.tolist())))))


def build(g, data):
    """A hierarchy with default or tiny witness limits (tiny: many superfluous
    shortcuts, which must not change any cost)."""
    sim, settle = data.draw(st.sampled_from([(100, 500), (1, 1), (0, 2)]))
    return ContractionHierarchy.build(g, sim_settle=sim, settle=settle)


@SETTINGS
@given(graphs(), st.data())
def test_one_to_many_matches_scipy(g, data):
    n = g.n_nodes
    ch = build(g, data)
    assert np.array_equal(np.sort(ch.rank), np.arange(n))
    org = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8)))
    tgt = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=12)))
    D = dense_distances(g)
    offs = None
    if data.draw(st.booleans()):
        offs = np.array(data.draw(st.lists(st.integers(0, 3), min_size=org.size,
                                           max_size=org.size)), float)
    exp = D[org][:, tgt] + (0.0 if offs is None else offs[:, None])
    limit = draw_limit(data, exp)
    m = ch.one_to_many(org, tgt, limit, origin_offsets=offs)
    assert m.shape == (org.size, tgt.size)
    for i in range(org.size):
        row = slice(m.indptr[i], m.indptr[i + 1])
        want = np.flatnonzero(np.isfinite(exp[i]) & (exp[i] <= limit))
        np.testing.assert_array_equal(m.indices[row], want)
        np.testing.assert_array_equal(m.data[row], exp[i][want])  # integer costs: exact


@SETTINGS
@given(graphs(), st.data())
def test_potential_matches_routing(g, data):
    n = g.n_nodes
    ch = build(g, data)
    org = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8)))
    w = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 2.5, -1.0, 1000.0]),
                                    min_size=n, max_size=n)))
    limit = float(data.draw(st.sampled_from([0, 1, 3, 7, 12, np.inf])))
    offs = None
    if data.draw(st.booleans()):
        offs = np.array(data.draw(st.lists(st.integers(0, 3), min_size=org.size,
                                           max_size=org.size)), float)
    for decay in DECAYS:
        ref = routing.potential(g, org, w, limit_s=limit, decay=decay, origin_offsets=offs)
        res = ch.potential(org, w, limit_s=limit, decay=decay, origin_offsets=offs)
        np.testing.assert_allclose(res.sums, ref.sums, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(res.n_reached, ref.n_reached)


def test_threads_do_not_change_results():
    # a road-like lattice (random graphs have no hierarchy and contract slowly)
    rng = np.random.default_rng(3)
    side = 60
    n = side * side
    idx = np.arange(n).reshape(side, side)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    one_way = rng.random(a.size) < 0.2
    u = np.concatenate([a, b[~one_way]])
    v = np.concatenate([b, a[~one_way]])
    g = graph_ns(n, u, v, rng.random(u.size) * 100)
    ch = ContractionHierarchy.build(g)
    w = np.where(rng.random(n) < 0.3, rng.random(n) * 1000, 0.0)
    org = rng.choice(n, 400)
    d = routing.Decay("exponential", beta=0.3)
    prev = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = ch.potential(org, w, limit_s=300.0, decay=d)
        ch._buckets.clear()
        if numba.config.NUMBA_NUM_THREADS < 2:
            pytest.skip("numba allows 1 thread only (NUMBA_NUM_THREADS): 1 vs 2 not testable")
        numba.set_num_threads(2)
        b = ch.potential(org, w, limit_s=300.0, decay=d)
    finally:
        numba.set_num_threads(prev)
    np.testing.assert_array_equal(a.sums, b.sums)
    ref = routing.potential(g, org, w, limit_s=300.0, decay=d)
    np.testing.assert_allclose(a.sums, ref.sums, rtol=1e-12)
    np.testing.assert_array_equal(a.n_reached, ref.n_reached)


def test_inputs_and_save_load(tmp_path):
    g = graph_ns(4, [0, 1, 2, 2], [1, 2, 3, 2], [1.0, 0.0, 2.0, 5.0])
    ch = ContractionHierarchy.build(g)
    with pytest.raises(InputError):
        ch.potential([7], np.ones(4))
    with pytest.raises(InputError):
        ch.potential([0], np.ones(3))
    with pytest.raises(InputError):
        ch.one_to_many([0], [1], limit=-1.0)
    m = ch.one_to_many([0, 3], [3, 1, 3])
    # 3 reaches only itself (a stored 0); 3 -> 1 is unreachable: inf, never 0
    np.testing.assert_array_equal(m.toarray(), [[3.0, 1.0, 3.0], [0.0, np.inf, 0.0]])
    assert m.nnz == 5  # zero costs (3 -> 3) are stored
    np.testing.assert_array_equal(m.indices[m.indptr[1]:], [0, 2])
    ch.save(tmp_path / "ch.npz")
    ch2 = ContractionHierarchy.load(tmp_path / "ch.npz")
    np.testing.assert_array_equal(ch2.one_to_many([0, 1], [0, 1, 2, 3]).toarray(),
                                  ch.one_to_many([0, 1], [0, 1, 2, 3]).toarray())
    assert ch.potential([0], np.zeros(4)).sums[0] == 0.0


def test_real_graph_heidelberg():
    pbf = DATA / "osm" / "heidelberg.osm.pbf"
    if not pbf.exists():
        pytest.skip(f"{pbf} not found")
    from accessibility.graph import build_graph

    graph = build_graph(pbf)
    n = graph.n_nodes
    ch = ContractionHierarchy.build(graph)
    rng = np.random.default_rng(0)
    org = rng.choice(n, 50, replace=False)
    tgt = rng.choice(n, 50, replace=False)
    # scipy sums parallel edges: keep the cheapest of each (u, v) first
    u = np.repeat(np.arange(n), np.diff(graph.offsets))
    order = np.lexsort((graph.time_s, graph.targets, u))
    first = np.ones(order.size, bool)
    su, sv = u[order], graph.targets[order]
    first[1:] = (su[1:] != su[:-1]) | (sv[1:] != sv[:-1])
    keep = order[first]
    G = csr_array((graph.time_s[keep], (u[keep], graph.targets[keep])), shape=(n, n))
    rows = dijkstra(G, indices=org)[:, tgt]
    for limit in (600.0, np.inf):
        m = ch.one_to_many(org, tgt, limit)
        for i in range(org.size):
            row = slice(m.indptr[i], m.indptr[i + 1])
            want = np.flatnonzero(np.isfinite(rows[i]) & (rows[i] <= limit))
            np.testing.assert_array_equal(m.indices[row], want)
            np.testing.assert_allclose(m.data[row], rows[i][want], rtol=1e-12)
    w = np.zeros(n)
    w[tgt] = rng.random(tgt.size) * 1000
    for decay in DECAYS[:2] + [routing.Decay("power", beta=1.0, floor_min=5.0)]:
        ref = routing.potential(graph, org, w, limit_s=900.0, decay=decay)
        res = ch.potential(org, w, limit_s=900.0, decay=decay)
        np.testing.assert_allclose(res.sums, ref.sums, rtol=1e-12)
        np.testing.assert_array_equal(res.n_reached, ref.n_reached)


def test_hierarchy_cache_reuses_and_rebuilds(tmp_path):
    rng = np.random.default_rng(7)
    n = 300
    u, v = rng.integers(0, n, 1200), rng.integers(0, n, 1200)
    g = graph_ns(n, u, v, rng.uniform(1, 60, u.size))
    a = ContractionHierarchy.cached(g, tmp_path)
    assert a.meta["cache"] == "built" and len(list(tmp_path.glob("ch-*.npz"))) == 1
    b = ContractionHierarchy.cached(g, tmp_path)
    assert b.meta["cache"] == "loaded"
    w = rng.random(n)
    org = rng.choice(n, 50)
    np.testing.assert_array_equal(a.potential(org, w, limit_s=300.0).sums,
                                  b.potential(org, w, limit_s=300.0).sums)
    # other weights: another key, another hierarchy
    g2 = graph_ns(n, u, v, rng.uniform(1, 60, u.size))
    assert ContractionHierarchy.cached(g2, tmp_path).meta["cache"] == "built"
    # a truncated file is built again, not an error
    for f in tmp_path.glob("ch-*.npz"):
        f.write_bytes(f.read_bytes()[:100])
    c = ContractionHierarchy.cached(g, tmp_path)
    assert c.meta["cache"] == "built" and c.rank.size == n
