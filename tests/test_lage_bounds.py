"""Issue 23, the Lage where it is certain: the upper bound of a flagged potential
(``potential_2h_max``, :func:`accessibility.models.lage_exact.origin_bounds`) and the
class where the bounds agree. Checked by cropping synthetic grids out of a bigger one
(the crop's potential <= the full grid's <= the crop's upper bound) and against a
dense reference (scipy's Dijkstra on the crop plus straight lines abroad)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from accessibility.graph import cut_nodes, top_speed_ms
from accessibility.routing import Decay, potential

from .test_edges_exact import _grid_and_crop

#: Decays of the bound (minutes): it must hold for every kind that falls with time.
DECAYS = (Decay("exponential", beta=0.5), Decay("power", beta=1.5, floor_min=0.5),
          Decay("gaussian", sigma_min=2.0), Decay("none"))


def _reference_upper(crop, w, dest_nodes, dest_xy, moves, limit, snap, v, decay,
                     straight=True):
    """The upper bound by dense matrices: scipy's Dijkstra on two copies of the crop
    (before and after leaving it) joined by a straight line abroad at ``v`` from
    every cut node to every other, and from every cut node to each destination that
    may move (less the snapping limit); each destination's time the least of inside
    and through the outside; summed with the decay written out in numpy."""
    from scipy.sparse.csgraph import csgraph_from_dense, dijkstra

    n = crop.n_nodes
    md = np.flatnonzero(moves & (w > 0))
    inside = np.full((n, n), np.inf)
    u = np.repeat(np.arange(n), np.diff(crop.offsets))
    np.minimum.at(inside, (u, crop.targets), crop.time_s)
    c = np.flatnonzero(cut_nodes(crop))
    cxy = np.column_stack([crop.x[c], crop.y[c]])
    line = np.hypot(*(cxy[:, None, :] - cxy[None, :, :]).transpose(2, 0, 1)) / v
    np.fill_diagonal(line, np.inf)
    to_d = np.maximum(np.hypot(*(cxy[:, None, :] - dest_xy[md][None, :, :])
                               .transpose(2, 0, 1)) - snap, 0.0) / v
    aug = np.full((2 * n + md.size,) * 2, np.inf)
    aug[:n, :n] = aug[n:2 * n, n:2 * n] = inside
    for start in (c, n + c):
        aug[np.ix_(start, n + c)] = line
        if straight:
            aug[np.ix_(start, 2 * n + np.arange(md.size))] = to_d
    t_in = dijkstra(csgraph_from_dense(inside, null_value=np.inf), indices=np.arange(n))
    t_out = dijkstra(csgraph_from_dense(aug, null_value=np.inf), indices=np.arange(n))
    on = dest_nodes >= 0
    t = np.full((n, w.size), np.inf)
    t[:, on] = np.minimum(t_in[:, dest_nodes[on]], t_out[:, n + dest_nodes[on]])
    t[:, md] = np.minimum(t[:, md], t_out[:, 2 * n:])
    m = t / 60.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        f = {"exponential": lambda: np.exp(-decay.beta * m),
             "gaussian": lambda: np.exp(-m * m / (2.0 * decay.sigma_min ** 2)),
             "power": lambda: (np.maximum(m, decay.floor_min) / decay.floor_min)
             ** -decay.beta,
             "none": lambda: np.ones_like(m)}[decay.kind]()
    return np.where((t <= limit) & (w > 0), f * w, 0.0).sum(axis=1)


def _case(nx, ny, seed, one_way, data, kmh=(30.0, 150.0)):
    _, _, _, idx, inner, cut, full, crop, pos = _grid_and_crop(nx, ny, seed, one_way, data,
                                                               kmh)
    rng = np.random.default_rng(seed + 5)
    every = idx.ravel()
    w = np.where(rng.random(every.size) < 0.6, rng.uniform(1, 10, every.size), 0.0)
    limit = float(rng.uniform(50, 700))
    return inner, cut, full, crop, pos, every, w, limit, rng


@settings(max_examples=50, deadline=None)
@given(st.integers(4, 12), st.integers(4, 12), st.integers(0, 2**31), st.floats(0.0, 0.6),
       st.sampled_from(DECAYS), st.booleans(), st.data())
def test_crop_potential_lies_between_its_bounds(nx, ny, seed, one_way, decay, by_node, data):
    """For every origin of a crop: its potential <= the full grid's potential <= its
    upper bound, per cut node and per section of the border; exact origins (the
    flag False) have no room between."""
    from accessibility.models.lage_exact import origin_bounds

    inner, cut, full, crop, pos, every, w, limit, _ = _case(nx, ny, seed, one_way, data)
    pf = potential(full, inner, w, limit_s=limit, decay=decay).sums
    pc = potential(crop, np.arange(inner.size), w[inner], limit_s=limit, decay=decay).sums
    exact, upper = origin_bounds(crop, crop, cut_nodes(crop), np.arange(inner.size),
                                 pos[every], full.x[every], full.y[every], w[every],
                                 limit_s=limit, max_snap_m=0.0, decay=decay, by_node=by_node)
    tol = 1e-9 * np.maximum(1.0, pf)
    assert np.all(pc <= pf + tol)
    if not cut.size:
        assert exact.all()
        return
    assert np.all(pf <= upper + tol)
    np.testing.assert_allclose(upper[exact], pc[exact], rtol=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.integers(3, 10), st.integers(3, 10), st.integers(0, 2**31), st.floats(0.0, 0.6),
       st.sampled_from(DECAYS), st.sampled_from([0.0, 600.0]), st.data())
def test_upper_bound_per_cut_node_matches_a_dense_reference(nx, ny, seed, one_way, decay,
                                                            snap, data):
    """The kernel (upper_rows_by_node) gives the dense reference's sum for every
    origin, with destinations that may move (straight line abroad to their point) and
    some beyond the crop; the sectioned bound is no lower (looser, still sound)."""
    from scipy.spatial import cKDTree

    from accessibility.models.lage_exact import origin_bounds

    inner, cut, full, crop, pos, every, w, limit, rng = _case(nx, ny, seed, one_way, data)
    dest_nodes = pos[every]
    dest_xy = np.column_stack([full.x[every], full.y[every]])
    may_move = (rng.random(every.size) < 0.05) & (dest_nodes >= 0)
    args = (crop, crop, cut_nodes(crop), np.arange(inner.size), dest_nodes, dest_xy[:, 0],
            dest_xy[:, 1], w)
    kw = dict(limit_s=limit, max_snap_m=snap, dest_may_move=may_move, decay=decay)
    _, upper = origin_bounds(*args, by_node=True, **kw)
    if not cut.size:
        return
    # those beyond the crop move when the cut is about as near as the nearest road
    moves = may_move.copy()
    off = dest_nodes < 0
    if off.any():
        cc = np.flatnonzero(cut_nodes(crop))
        to_road, _ = cKDTree(np.column_stack([crop.x, crop.y])).query(dest_xy[off])
        to_cut, _ = cKDTree(np.column_stack([crop.x[cc], crop.y[cc]])).query(dest_xy[off])
        moves[off] = to_cut <= to_road + snap
    w_b = np.where(off & ~moves, 0.0, w)
    ref = _reference_upper(crop, w_b, dest_nodes, dest_xy, moves, limit, snap,
                           top_speed_ms(crop), decay)
    np.testing.assert_allclose(upper, ref, rtol=1e-9, atol=1e-9)
    _, sections = origin_bounds(*args, by_node=False, **kw)
    assert np.all(sections >= upper - 1e-9 * np.maximum(1.0, upper))


def test_the_reference_sees_a_dropped_straight_line():
    """The dense reference tells the straight line to a destination that may move from
    none: a 6 x 4 grid cut to its western half, only the destinations beyond the crop
    count (they move: the cut is their nearest road) and 10 minutes reach them through
    the outside; without the straight line abroad the reference loses every one."""
    from .test_edges_exact import _crop, _graph, _grid

    u, v, t, idx = _grid(6, 4, 0, 0.0)
    inner, cut = _crop(idx, 0, 3, 0, 4, u, v)
    full, _ = _graph(idx.ravel(), u, v, t, 6)
    crop, pos = _graph(inner, u, v, t, 6, cut)
    every = idx.ravel()
    w = np.where(pos[every] < 0, 5.0, 0.0)
    xy = np.column_stack([full.x[every], full.y[every]])
    args = (crop, w, pos[every], xy, pos[every] < 0, 600.0, 0.0, top_speed_ms(crop),
            Decay("none"))
    assert _reference_upper(*args).min() > 0
    assert _reference_upper(*args, straight=False).max() == 0


def test_a_flagged_class_is_given_where_both_bounds_agree():
    """exact_lage: an exact potential keeps its class; a flagged one gets the class
    only when its upper bound falls into the same class (thresholds 81,000, 183,000,
    410,000), else none with the reason; no upper bound (NaN) gives none."""
    from accessibility.models.lage_tables import LAGE_UNKNOWN, exact_lage

    pot = pd.Series([100_000.0, 100_000.0, 100_000.0, 100_000.0, 500_000.0])
    flag = [False, True, True, True, True]
    top = [100_000.0, 182_999.0, 183_000.0, np.nan, 9e9]
    lage, reason = exact_lage(pot, flag, upper=top)
    assert lage.tolist() == ["peripher", "peripher", None, None, "sehr zentral"]
    assert reason.tolist() == [None, None, LAGE_UNKNOWN, LAGE_UNKNOWN, None]
    # without the upper bound, a flagged potential gets no class (the rule before)
    assert exact_lage(pot, flag)[0].tolist() == ["peripher", None, None, None, None]


def test_kreis_takes_the_population_weighted_mean_of_the_maxima():
    """Two members, 1,000 and 3,000 residents, potentials 100,000 (exact) and 150,000
    (flagged, at most 170,000): the Kreis's potential (1 * 100,000 + 3 * 150,000) / 4
    = 137,500 and its maximum (1 * 100,000 + 3 * 170,000) / 4 = 152,500, both
    peripher: a class although a member is flagged. With the flagged member's maximum
    at 300,000 the maximum is 250,000 (zentral): no class."""
    from accessibility.models.lage_tables import kreis_lage

    df = pd.DataFrame({"ags": ["01001001", "01001002"], "kreis": "01001",
                       "population": [1000.0, 3000.0], "potential_2h": [1e5, 1.5e5],
                       "potential_2h_max": [1e5, 1.7e5], "edge_flag": [False, True],
                       "in_region": True})
    k = kreis_lage(df).iloc[0]
    assert k["potential_2h"] == pytest.approx(137_500.0)
    assert k["potential_2h_max"] == pytest.approx(152_500.0)
    assert k["lage"] == "peripher" and k["n_edge_flag"] == 1
    k = kreis_lage(df.assign(potential_2h_max=[1e5, 3e5])).iloc[0]
    assert k["potential_2h_max"] == pytest.approx(250_000.0) and k["lage"] is None


def test_lage_from_takes_the_upper_bound_of_the_national_run():
    """--lage-from: a flagged potential of the imported run keeps its class where the
    run's upper bound lies in the same class (100,000 and at most 150,000: peripher),
    and gets none where it does not (at most 200,000: peripher or zentral)."""
    from accessibility.models.lage_tables import imported_lage

    munis = pd.DataFrame({"ags": ["01001001", "01001002"], "population": [10.0, 20.0],
                          "in_region": True})
    run = pd.DataFrame({"ags": ["01001001", "01001002"], "potential_2h": [1e5, 1e5],
                        "edge_flag": [True, True], "potential_2h_max": [1.5e5, 2e5]})
    out = imported_lage(munis, run)
    assert out["lage"].tolist() == ["peripher", None]
    assert out["potential_2h_max"].tolist() == [1.5e5, 2e5]
    assert "1 without a certain class" in out.attrs["report"][0]


def test_the_summary_counts_the_certain_classes():
    """The report line: of four potentials, one exact (a class), two flagged with a
    class (their upper bounds agree) and one flagged without: "3 of 4 Lage classes
    certain; 1 with an exact potential", "2 of them keep a class", "1 get none"."""
    from accessibility.models.lage_tables import lage_summary, with_lage_classes
    from accessibility.report import lage_section

    df = pd.DataFrame({"ags": ["1", "2", "3", "4"], "population": 10.0,
                       "potential_2h": [1e5, 1e5, 2e5, 3e5],
                       "potential_2h_max": [1e5, 1.2e5, 3e5, 5e5],
                       "edge_flag": [False, True, True, True],
                       "settlement_type": "Landgemeinde"})
    res = with_lage_classes(df)
    assert res["lage"].tolist() == ["peripher", "peripher", "zentral", None]
    text = "\n".join(lage_section(res, lage_summary(res), method="m", unit="municipality"))
    assert "3 of 4 Lage classes certain; 1 with an exact potential" in text
    assert "3 potentials may miss destinations" in text
    assert "2 of them keep a class" in text and "1 get none" in text


def test_the_summary_counts_unpopulated_areas_apart():
    """An unpopulated area (0 residents) has a potential but no Lage by design: the
    line counts it apart, so flagged = kept + none + unpopulated (1 + 1 + 1 here)."""
    from accessibility.models.lage_tables import lage_summary, with_lage_classes
    from accessibility.report import lage_section

    df = pd.DataFrame({"ags": ["1", "2", "3"], "population": [10.0, 10.0, 0.0],
                       "potential_2h": [1e5, 3e5, 3e5],
                       "potential_2h_max": [1.2e5, 5e5, 5e5],
                       "edge_flag": [True, True, True], "settlement_type": "Landgemeinde"})
    res = with_lage_classes(df)
    text = "\n".join(lage_section(res, lage_summary(res), method="m", unit="municipality"))
    assert "3 potentials may miss destinations" in text and "1 of them keep a class" in text
    assert "1 get none" in text and "1 unpopulated (no Lage by design)" in text
