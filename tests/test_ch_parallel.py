"""The parallel contraction (ContractionHierarchy.build, threads=1 and 2) against scipy.

Every hierarchy must give exactly scipy's all-pairs distances, and the hierarchy
must not depend on the thread count (the kernel is deterministic by design).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import csgraph_from_dense, dijkstra

from accessibility._errors import InputError
from accessibility.routing import ContractionHierarchy, _ch_contract as C, ch as ch_module

from .test_ch import dense_distances, graph_ns, graphs

# (the fixtures used with @given are constant within a test: hops, monkeypatch)
SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
#: (sim_settle, settle): the defaults, and tiny limits (many superfluous shortcuts).
LIMITS = [(100, 500), (1, 1), (0, 2)]
ARRAYS = ("rank", "up_off", "up_t", "up_w", "dn_off", "dn_t", "dn_w")


@pytest.fixture
def every_step_parallel(monkeypatch):
    """Run every step of the contraction on all threads, however small (by
    default small steps run on one thread)."""
    monkeypatch.setattr(C, "_PAR_SEARCHES", 1)
    monkeypatch.setattr(C, "_PAR_LIGHT", 1)


def all_pairs(hier, n):
    """The hierarchy's cost from every node to every node (inf: unreachable)."""
    nodes = np.arange(n)
    return hier.one_to_many(nodes, nodes).toarray()


def build_both(g, sim_settle=100, settle=500):
    """Hierarchies built with 1 and with 2 threads; asserts they are identical."""
    a = ContractionHierarchy.build(g, sim_settle=sim_settle, settle=settle, threads=1)
    b = ContractionHierarchy.build(g, sim_settle=sim_settle, settle=settle, threads=2)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.n_shortcuts == b.n_shortcuts
    assert a.meta["rounds"] == b.meta["rounds"]
    return a, b


def seeded_graph(seed, n=300, integer=True):
    """A random graph with everything the cleaning and the contraction must
    survive: three disconnected parts (lattice-like, with one-way streets, and
    random arcs), parallel arcs of different costs, self loops, zero-cost arcs
    and isolated nodes."""
    rng = np.random.default_rng(seed)
    parts = np.array_split(rng.permutation(n - 5), 3)  # the last 5 nodes: isolated
    us, vs = [], []
    for k, nodes in enumerate(parts):
        side = int(np.sqrt(nodes.size))
        if k < 2 and side >= 3:  # a jittered lattice with diagonals
            grid = nodes[:side * side].reshape(side, side)
            a = np.concatenate([grid[:, :-1].ravel(), grid[:-1, :].ravel(),
                                grid[:-1, :-1].ravel()])
            b = np.concatenate([grid[:, 1:].ravel(), grid[1:, :].ravel(),
                                grid[1:, 1:].ravel()])
            keep = rng.random(a.size) < 0.85
            a, b = a[keep], b[keep]
            two_way = rng.random(a.size) < 0.7  # the rest: one-way, random direction
            flip = rng.random(a.size) < 0.5
            a, b = np.where(flip, b, a), np.where(flip, a, b)
            us += [a, b[two_way]]
            vs += [b, a[two_way]]
            rest = nodes[side * side:]
            if rest.size:  # leftovers hang off the lattice
                us.append(rest)
                vs.append(rng.choice(grid.ravel(), rest.size))
        else:  # random arcs
            m = 3 * nodes.size
            us.append(rng.choice(nodes, m))
            vs.append(rng.choice(nodes, m))
    u = np.concatenate(us)
    v = np.concatenate(vs)
    dup = rng.choice(u.size, u.size // 10)  # parallel arcs
    loops = rng.choice(n, 10)  # self loops
    u = np.concatenate([u, u[dup], loops])
    v = np.concatenate([v, v[dup], loops])
    if integer:  # many ties
        w = rng.integers(1, 20, u.size).astype(float)
    else:
        w = rng.uniform(0.5, 100.0, u.size)
    w[rng.random(u.size) < 0.05] = 0.0
    return graph_ns(n, u, v, w)


@pytest.fixture(params=[2, 1], ids=["2hop", "1hop"])
def hops(request, monkeypatch):
    """Rounds of nodes that come first within 2 (the default) or 1 arcs. With 1,
    nodes of a round share neighbours, so their witness searches must avoid each
    other."""
    monkeypatch.setattr(ch_module, "INDEPENDENT_HOPS", request.param)
    return request.param


@SETTINGS
@given(g=graphs(max_n=30), limits=st.sampled_from(LIMITS))
def test_random_graphs_match_scipy_with_1_and_2_threads(hops, g, limits):
    a, _ = build_both(g, *limits)
    assert np.array_equal(np.sort(a.rank), np.arange(g.n_nodes))
    np.testing.assert_array_equal(all_pairs(a, g.n_nodes), dense_distances(g))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("limits", LIMITS)
def test_seeded_graphs_match_scipy(seed, limits, hops, every_step_parallel):
    g = seeded_graph(seed)
    a, _ = build_both(g, *limits)
    assert a.meta["rounds"] > 3 and a.meta["threads"] == 1
    # integer costs: sums are exact in any order
    np.testing.assert_array_equal(all_pairs(a, g.n_nodes), dense_distances(g))


def test_float_costs_match_scipy(every_step_parallel):
    g = seeded_graph(5, n=400, integer=False)
    a, _ = build_both(g)
    want = dense_distances(g)
    got = all_pairs(a, g.n_nodes)
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-12, atol=0.0)


def test_lattice_with_large_rounds(hops, every_step_parallel):
    # a road-like lattice: rounds of many nodes, shortcuts over shortcuts
    rng = np.random.default_rng(11)
    side = 40
    n = side * side
    idx = np.arange(n).reshape(side, side)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    one_way = rng.random(a.size) < 0.2
    u = np.concatenate([a, b[~one_way]])
    v = np.concatenate([b, a[~one_way]])
    g = graph_ns(n, u, v, rng.integers(0, 9, u.size).astype(float))
    h, _ = build_both(g)
    assert h.meta["largest_round"] > n // 20
    assert h.n_shortcuts > 0
    org = rng.choice(n, 60, replace=False)
    got = h.one_to_many(org, np.arange(n)).toarray()
    np.testing.assert_array_equal(got, dijkstra(csr_of(g), indices=org))


def csr_of(g):
    """scipy CSR of ``g`` with parallel arcs reduced to the cheapest."""
    n = g.n_nodes
    dense = np.full((n, n), np.inf)
    u = np.repeat(np.arange(n), np.diff(g.offsets))
    np.minimum.at(dense, (u, g.targets), g.time_s)
    return csgraph_from_dense(dense, null_value=np.inf)


def test_threads_argument_and_meta():
    g = seeded_graph(3, n=120)
    h = ContractionHierarchy.build(g)
    assert h.meta["threads"] == min(numba.get_num_threads(), numba.config.NUMBA_NUM_THREADS)
    assert h.meta["algorithm"] == ch_module.CH_ALGORITHM
    assert h.meta["rounds"] >= 1 and h.meta["simulations"] >= g.n_nodes
    prev = numba.get_num_threads()
    ContractionHierarchy.build(g, threads=1)
    assert numba.get_num_threads() == prev  # restored
    with pytest.raises(InputError, match="threads"):
        ContractionHierarchy.build(g, threads=0)


def test_cache_key_has_the_algorithm_version(tmp_path, monkeypatch):
    g = seeded_graph(4, n=80)
    assert ContractionHierarchy.cached(g, tmp_path).meta["cache"] == "built"
    assert ContractionHierarchy.cached(g, tmp_path).meta["cache"] == "loaded"
    # a hierarchy cached by another algorithm version is not reused
    monkeypatch.setattr(ch_module, "CH_ALGORITHM", "some-older-algorithm/0")
    assert ContractionHierarchy.cached(g, tmp_path).meta["cache"] == "built"
    assert len(list(tmp_path.glob("ch-*.npz"))) == 2
