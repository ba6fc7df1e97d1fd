"""Issue 23, tightness: "at most the municipalities within reach of the edge are
flagged". Every flagged value (MZ, OZ, motorway, the Lage's potential) belongs to an
origin whose time to the nearest cut node is below the bound that matters: the value
found for a nearest-destination time (a way out slower than it changes nothing), the
limit for the Lage (no way out within it reaches anything). The one other reason a
value is flagged is the origin's own snapping, which a larger extract may move beyond
the cut (:func:`accessibility.graph.snap_may_move`)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from accessibility.graph import cut_nodes
from accessibility.models.nearest import time_to_edge_s, time_to_nearest
from accessibility.routing import nearest_facility

from .conftest import shared
from .test_edges_exact import CROP, HB, _attached, _grid_and_crop

#: The Lage's limit in the HB crop run (with 120 minutes every search from a 40 km
#: box reaches its edge: nothing to tell apart).
HB_LIMIT_MIN = 8.0


def beyond_reach(flag, reach_s, bound_s, *, strict: bool = True, excused=None) -> np.ndarray:
    """The flagged values whose origin is not within reach of the edge: its time to
    the nearest cut node (``reach_s``, inf: none) is not below ``bound_s`` (``strict``;
    else not at most), and nothing else (``excused``: its snapping may move) flags it."""
    reach_s = np.asarray(reach_s, float)
    within = reach_s < bound_s if strict else reach_s <= bound_s
    out = np.asarray(flag, bool) & ~within
    if excused is not None:
        out &= ~np.asarray(excused, bool)
    return out


@settings(max_examples=40, deadline=None)
@given(st.integers(4, 14), st.integers(4, 14), st.integers(0, 2**31), st.floats(0.0, 0.6),
       st.data())
def test_grid_flags_only_origins_within_reach_of_the_cut(nx, ny, seed, one_way, data):
    """Synthetic grids cut out of a bigger one: the nearest-destination flag and the
    Lage's flag (per cut node and per section) fall only on origins that reach a cut
    node sooner than the value found (the limit); flagging every potential would not."""
    from accessibility.models.lage_exact import exact_origins

    _, _, _, idx, inner, cut, full, crop, pos = _grid_and_crop(nx, ny, seed, one_way, data)
    if not cut.size:
        return
    rng = np.random.default_rng(seed + 3)
    dest = rng.choice(idx.size, size=max(1, idx.size // 15), replace=False)
    o_acc = rng.uniform(0, 60, inner.size)
    in_crop = pos[dest] >= 0
    c_dest = _attached(np.where(in_crop, pos[dest], -1), np.where(in_crop, 0.0, np.nan))
    c_dest = c_dest._replace(on_network=in_crop)
    near = time_to_nearest(crop, c_dest, _attached(np.arange(inner.size), o_acc))
    reach = o_acc + time_to_edge_s(crop)
    # no destination found (NaN): any way out might find one
    found_s = np.where(np.isnan(near.minutes), np.inf, near.minutes * 60.0)
    assert not beyond_reach(near.leaves, reach, found_s).any()
    # the Lage: every node a destination, those beyond the crop at -1
    limit = float(rng.uniform(50, 600))
    every = idx.ravel()
    w = np.where(rng.random(every.size) < 0.5, rng.uniform(1, 10, every.size), 0.0)
    args = (crop, crop, cut_nodes(crop), np.arange(inner.size), pos[every], full.x[every],
            full.y[every], w)
    to_cut = time_to_edge_s(crop)
    for by_node in (True, False):
        flag = ~exact_origins(*args, limit_s=limit, max_snap_m=0.0, by_node=by_node)
        assert not beyond_reach(flag, to_cut, limit, strict=False).any()
    # the test can fail: a rule that flags every potential is too loose wherever some
    # origin lies beyond reach of the cut
    if (to_cut > limit).any():
        assert beyond_reach(np.ones(inner.size, bool), to_cut, limit, strict=False).any()


@pytest.fixture(scope="module")
def hb_crop():
    """The HB crop (the box CROP read with ``clip``): its graph, the central places,
    the motorway times and the Lage per municipality (8 minutes)."""
    import accessibility as acc
    from accessibility.graph import build_graph
    from accessibility.io import read_central_places, read_municipalities
    from accessibility.models.central_places import join_central_places

    munis = read_municipalities(shared("municipalities", "gemeinden_2019_destatis.csv"),
                                bbox=(8.5, 51.5, 11.5, 53.2))
    zo = read_central_places(shared("central_places", "zentrale_orte_2024.csv"))
    j, _ = join_central_places(munis, zo)
    dest = acc.collect_destinations(osm=shared(*HB), airports=False)
    g = build_graph(shared(*HB), clip=CROP)
    cp = acc.central_places(g, j, j, max_snap_m=5000)
    fac = acc.facility_times(g, j, dest, max_snap_m=5000)
    lage = acc.lage(g, j, limit_min=HB_LIMIT_MIN, max_snap_m=5000, unit=None,
                    units="municipality")
    return g, {"mz": cp, "oz": cp, "motorway": fac, "lage": lage}


@pytest.mark.parametrize("what", ["mz", "oz", "motorway", "lage"])
def test_hb_flags_only_municipalities_within_reach_of_the_cut(hb_crop, what):
    from accessibility.graph import snap_may_move

    g, tables = hb_crop
    col, flag = ((f"t_{what}_min", f"{what}_edge_flag") if what != "lage"
                 else ("potential_2h", "edge_flag"))
    r = tables[what]
    r = r[r["in_region"].fillna(False).to_numpy(bool) & r[col].notna().to_numpy()]
    node = r["node"].astype("Int64").fillna(0).to_numpy(np.int64)
    reach = r["access_s"].to_numpy(float) + time_to_edge_s(g)[node]
    f = r[flag].astype(bool).to_numpy()
    moves = snap_may_move(g, r["lon"].to_numpy(float), r["lat"].to_numpy(float),
                          r["snap_m"].to_numpy(float))
    if what == "lage":
        bad = beyond_reach(f, reach, HB_LIMIT_MIN * 60.0, strict=False, excused=moves)
        loose = beyond_reach(np.ones(f.size, bool), reach, HB_LIMIT_MIN * 60.0, strict=False,
                             excused=moves)
    else:
        bad = beyond_reach(f, reach, r[col].to_numpy(float) * 60.0, excused=moves)
        loose = beyond_reach(np.ones(f.size, bool), reach, r[col].to_numpy(float) * 60.0,
                             excused=moves)
    assert f.sum() >= 3 and not bad.any(), r.loc[bad, ["ags", "name", col]]
    assert loose.any()  # the crop has origins beyond reach: a too-loose rule would fail
    # the reach is the one reverse search from the cut nodes
    src = np.flatnonzero(cut_nodes(g))
    back = nearest_facility(g, src, np.zeros(src.size), reverse=True).dist
    np.testing.assert_allclose(time_to_edge_s(g), back)
