"""Tests of the straight-line distance with water barriers and bridge gaps."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from accessibility._errors import InputError
from accessibility.models.barriers import _line_pieces, _polygon_pieces, nearest_straight

RIVER = shapely.LineString([(0, -2000), (0, 2000)])            # north-south river at x=0
BRIDGE = shapely.LineString([(-20, 500), (20, 500)])           # crosses it at y=500


def test_river_blocks_and_detour_goes_over_bridge():
    d, i, b = nearest_straight([[-100, 0]], [[100, 0]], [RIVER], [BRIDGE])
    leg = math.hypot(80, 500)                                   # (-100,0)->(-20,500)
    assert b[0]
    assert i[0] == 0
    assert d[0] == pytest.approx(leg + 40 + leg)


def test_bridge_on_direct_line_reopens_it():
    d, i, b = nearest_straight([[-100, 500]], [[100, 500]], [RIVER], [BRIDGE])
    assert not b[0]
    assert d[0] == pytest.approx(200.0)


def test_cell_on_facility_side_unaffected():
    d, i, b = nearest_straight([[300, 100]], [[100, 0]], [RIVER], [BRIDGE])
    assert not b[0]
    assert d[0] == pytest.approx(math.hypot(200, 100))


def test_without_gap_blocked_cell_is_nan():
    d, i, b = nearest_straight([[-100, 0], [50, 0]], [[100, 0]], [RIVER])
    assert b[0] and np.isnan(d[0]) and i[0] == -1
    assert d[1] == pytest.approx(50.0) and not b[1]


def test_polygon_lake_blocks():
    lake = shapely.box(-50, -50, 50, 50)
    d, i, b = nearest_straight([[-200, 0], [-200, 200]], [[200, 0]], [lake])
    assert b[0] and np.isnan(d[0])
    assert not b[1] and d[1] == pytest.approx(math.hypot(400, 200))


def test_large_lake_split_into_tiles_still_blocks():
    lake = shapely.Polygon([(-5000, -3000), (5000, -3000), (4000, 3000), (-4000, 3000)])
    pieces = _polygon_pieces(np.array([lake]), 250.0)
    assert len(pieces) > 100
    assert shapely.union_all(pieces).symmetric_difference(lake).area < 1e-3
    d, _, b = nearest_straight([[-6000, 0]], [[6000, 0]], [lake], max_distance_m=20000)
    assert b[0] and np.isnan(d[0])


def test_line_pieces_cover_the_line():
    line = shapely.LineString([(0, 0), (1000, 0), (1000, 777), (3, 5)])
    pieces = _line_pieces(np.array([line]), 250.0)
    assert len(pieces) > 4
    assert shapely.length(pieces).sum() == pytest.approx(line.length)
    merged = shapely.line_merge(shapely.union_all(pieces))
    assert merged.geom_type == "LineString"
    assert shapely.hausdorff_distance(merged, line) < 1e-6


def test_nearer_blocked_farther_unblocked():
    fac = [[30, 0], [-400, 0]]                  # nearer one across the river, no bridge
    d, i, b = nearest_straight([[-10, 0]], fac, [RIVER])
    assert b[0]
    assert i[0] == 1
    assert d[0] == pytest.approx(390.0)


def test_detour_shorter_than_farther_unblocked_facility():
    fac = [[100, 500], [-1500, 0]]
    d, i, b = nearest_straight([[-100, 450]], fac, [RIVER], [BRIDGE])
    assert b[0]
    assert i[0] == 0
    assert d[0] == pytest.approx(math.hypot(80, 50) + 40 + 80)


def test_max_distance_respected():
    d, i, _ = nearest_straight([[0, 0], [0, 0]], [[3000, 0]], max_distance_m=2000)
    assert np.isnan(d).all() and (i == -1).all()
    d, i, _ = nearest_straight([[0, 0]], [[1999, 0]], max_distance_m=2000)
    assert d[0] == pytest.approx(1999)
    # a detour longer than max_distance_m is not taken
    d, _, b = nearest_straight([[-100, 0]], [[100, 0]], [RIVER], [BRIDGE], max_distance_m=900)
    assert b[0] and np.isnan(d[0])


def test_empty_and_bad_inputs():
    d, i, b = nearest_straight(np.empty((0, 2)), [[1, 2]], [RIVER])
    assert d.shape == i.shape == b.shape == (0,)
    d, i, b = nearest_straight([[0, 0], [5, 5]], np.empty((0, 2)), [RIVER])
    assert np.isnan(d).all() and (i == -1).all() and not b.any()
    with pytest.raises(InputError, match="NaN"):
        nearest_straight([[0, np.nan]], [[1, 2]])
    with pytest.raises(InputError, match="shape"):
        nearest_straight([1, 2, 3], [[1, 2]])
    with pytest.raises(InputError, match="max_distance_m"):
        nearest_straight([[0, 0]], [[1, 2]], max_distance_m=-1)
    with pytest.raises(InputError, match="shapely"):
        nearest_straight([[0, 0]], [[1, 2]], barriers=["not a geometry"])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(1, 30))
def test_no_barriers_equals_kdtree(seed, n, m):
    rng = np.random.default_rng(seed)
    cells, fac = rng.uniform(0, 3000, (n, 2)), rng.uniform(0, 3000, (m, 2))
    d, i, b = nearest_straight(cells, fac, max_distance_m=1e6)
    dd, ii = cKDTree(fac).query(cells)
    np.testing.assert_allclose(d, dd)
    np.testing.assert_allclose(np.hypot(*(cells - fac[i]).T), dd)
    assert not b.any()


def _brute(cells, fac, rivers, bridges, max_d, buf=5.0):
    """Reference: every facility directly, plus every bridge end in both directions."""
    eff = shapely.union_all(rivers).difference(shapely.union_all(shapely.buffer(bridges, buf)))
    shapely.prepare(eff)

    def free(p, q):
        return not eff.intersects(shapely.LineString([p, q]))

    ends = [(np.array(g.coords[0]), np.array(g.coords[-1]), g.length) for g in bridges]
    ends += [(e, s, ln) for s, e, ln in ends]
    out = []
    for c in cells:
        best = np.inf
        for f in fac:
            dd = math.dist(c, f)
            if dd <= max_d and free(c, f):
                best = min(best, dd)
            for a, b, ln in ends:
                t = math.dist(c, a) + ln + math.dist(b, f)
                if t < best and t <= max_d and free(c, a) and free(b, f):
                    best = t
        out.append(best if np.isfinite(best) else np.nan)
    return np.array(out)


def test_matches_brute_force_on_random_rivers():
    rng = np.random.default_rng(7)
    cells, fac = rng.uniform(0, 4000, (150, 2)), rng.uniform(0, 4000, (12, 2))
    rivers, bridges = [], []
    for _ in range(4):
        ang = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.2, 60))
        xy = rng.uniform(0, 4000, 2) + np.cumsum(np.c_[np.cos(ang), np.sin(ang)] * 80, axis=0)
        rivers.append(shapely.LineString(xy))
        for j in (15, 40):
            dv = xy[j + 1] - xy[j - 1]
            nrm = np.array([-dv[1], dv[0]]) / np.hypot(*dv)
            bridges.append(shapely.LineString([xy[j] - 25 * nrm, xy[j] + 25 * nrm]))
    d, i, b = nearest_straight(cells, fac, rivers, bridges, max_distance_m=3000, k=12)
    ref = _brute(cells, fac, rivers, bridges, 3000)
    assert b.any()
    # the fast version only tests the k nearest facilities / gap ends, so it can only
    # be longer than (or equal to) the brute force; with k=12 it is equal here
    np.testing.assert_allclose(d, ref, rtol=1e-9, equal_nan=True)
    found = ~np.isnan(d)
    assert (i[found] >= 0).all() and (i[~found] == -1).all()
