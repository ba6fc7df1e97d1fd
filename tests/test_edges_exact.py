"""The exact edge test: a value whose flag is False never changes when the extract
grows. Checked by cropping, on synthetic grids (hypothesis) and on the shared
Hannover-Braunschweig extract (a box read with ``clip``, as ``osmium extract
--strategy simple`` cuts it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import accessibility as acc
from accessibility.graph import (
    Attached,
    build_graph,
    cut_nodes,
    from_edges,
    graph_from_osm,
    snap_may_move,
)
from accessibility.models.nearest import time_to_edge_s, time_to_exit_s, time_to_nearest
from accessibility.routing import Decay, nearest_facility, potential

from .conftest import shared

HB = ("osm", "hannover-braunschweig-main-roads.osm.pbf")
#: A box inside the HB extract: Hildesheim, Peine, Salzgitter, Braunschweig's west.
CROP = (9.9, 52.05, 10.5, 52.40)


#: Grid spacing (m) and the speed range of its streets (km/h): fast enough that a
#: too-slow top speed in the straight-line bound beyond the cut shows.
SPACING_M, KMH = 1000.0, (30.0, 150.0)


def _grid(nx: int, ny: int, seed: int, one_way: float, kmh: tuple = KMH):
    """A grid road graph with random edge times (speeds in ``kmh``, some streets
    one-way) and the crop-independent edge list, so that a crop is the same edges
    among its nodes."""
    rng = np.random.default_rng(seed)
    idx = np.arange(nx * ny).reshape(ny, nx)
    pairs = np.concatenate([np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()]),
                            np.column_stack([idx[:-1].ravel(), idx[1:].ravel()])])
    t = SPACING_M / (rng.uniform(*kmh, len(pairs)) / 3.6)
    fw = rng.random(len(pairs)) >= one_way / 2  # a one-way street runs one way or the other
    bw = rng.random(len(pairs)) >= one_way / 2
    bw |= ~fw
    u = np.concatenate([pairs[fw, 0], pairs[bw, 1]])
    v = np.concatenate([pairs[fw, 1], pairs[bw, 0]])
    tt = np.concatenate([t[fw], t[bw]])
    return u, v, tt, idx


def _lonlat(nodes, nx):
    """Node positions: a square grid of SPACING_M near 9 E 52 N (within 0.5 %)."""
    col, row = np.asarray(nodes) % nx, np.asarray(nodes) // nx
    return 9.0 + col * SPACING_M / 68_600.0, 52.0 + row * SPACING_M / 111_250.0


def _graph(nodes, u, v, t, nx, cut=None):
    """The graph of ``nodes`` (original ids) and the edges among them."""
    pos = np.full(int(max(u.max(), v.max())) + 1, -1)
    pos[nodes] = np.arange(nodes.size)
    keep = (pos[u] >= 0) & (pos[v] >= 0)
    meta = {} if cut is None else {"cut_osm_ids": sorted(int(c) for c in cut)}
    lon, lat = _lonlat(nodes, nx)
    g = from_edges(pos[u[keep]], pos[v[keep]], t[keep], np.full(keep.sum(), SPACING_M),
                   np.zeros(keep.sum(), np.uint8), class_names=("primary",), osm_id=nodes,
                   lon=lon, lat=lat, meta=meta)
    return g, pos


def _crop(idx, x0, x1, y0, y1, u, v):
    inner = idx[y0:y1, x0:x1].ravel()
    inside = np.zeros(idx.size, bool)
    inside[inner] = True
    # where the crop cut the network: inner nodes with a road to an outer node
    cut = np.unique(np.concatenate([u[inside[u] & ~inside[v]], v[inside[v] & ~inside[u]]]))
    return inner, cut


def _attached(nodes, access):
    return Attached(np.asarray(nodes, np.int64), np.asarray(access, float),
                    np.zeros(len(nodes)), np.ones(len(nodes), bool))


def _grid_and_crop(nx, ny, seed, one_way, data, kmh=KMH):
    """A random grid, a box drawn inside it, the full graph and the crop (with its cut)."""
    u, v, t, idx = _grid(nx, ny, seed, one_way, kmh)
    x0 = data.draw(st.integers(0, nx - 2))
    x1 = data.draw(st.integers(x0 + 2, nx))
    y0 = data.draw(st.integers(0, ny - 2))
    y1 = data.draw(st.integers(y0 + 2, ny))
    inner, cut = _crop(idx, x0, x1, y0, y1, u, v)
    full, _ = _graph(idx.ravel(), u, v, t, nx)
    crop, pos = _graph(inner, u, v, t, nx, cut if cut.size else [-1])
    return u, v, t, idx, inner, cut, full, crop, pos


@settings(max_examples=40, deadline=None)
@given(st.integers(4, 14), st.integers(4, 14), st.integers(0, 2**31), st.floats(0.0, 0.6),
       st.data())
def test_grid_crop_never_changes_an_exact_value(nx, ny, seed, one_way, data):
    u, v, t, idx, inner, cut, full, crop, pos = _grid_and_crop(nx, ny, seed, one_way, data)
    rng = np.random.default_rng(seed + 1)
    dest = rng.choice(idx.size, size=max(1, idx.size // 15), replace=False)
    d_acc = rng.uniform(0, 60, dest.size)
    o_acc = rng.uniform(0, 60, inner.size)
    # nearest destination: the crop sees only the destinations inside it
    f = time_to_nearest(full, _attached(dest, d_acc), _attached(inner, o_acc))
    in_crop = pos[dest] >= 0
    c_dest = Attached(np.where(in_crop, pos[dest], -1), np.where(in_crop, d_acc, np.nan),
                      np.zeros(dest.size), in_crop)
    c = time_to_nearest(crop, c_dest, _attached(np.arange(inner.size), o_acc))
    assert c.edge == ("cut" if cut.size else "unknown")
    exact = ~c.leaves
    np.testing.assert_allclose(c.minutes[exact], f.minutes[exact], rtol=1e-12)
    # with every destination known (a national register), a way out must still cover
    # the straight line from the cut to one of them: a tighter bound, as sound
    d_lon, d_lat = _lonlat(dest, nx)
    exit_s = time_to_exit_s(crop, d_lon, d_lat, max_snap_m=0.0)
    c2 = time_to_nearest(crop, c_dest, _attached(np.arange(inner.size), o_acc), exit_s=exit_s)
    assert np.all(c2.leaves <= c.leaves)
    np.testing.assert_allclose(c2.minutes[~c2.leaves], f.minutes[~c2.leaves], rtol=1e-12)
    # the bound is the time to the nearest cut node: a node next to the cut with any
    # destination farther than its way out is flagged (tight, not only sound)
    to_cut = time_to_edge_s(crop)
    if cut.size:
        assert np.all(c.leaves[np.isfinite(to_cut) & np.isnan(c.minutes)])
    # the potential within a limit: exact where the search reaches no cut node
    limit = float(rng.uniform(50, 400))
    w = rng.uniform(0, 10, idx.size)
    bd = np.isin(inner, cut)
    pc = potential(crop, np.arange(inner.size), w[inner], limit_s=limit, decay=Decay("none"),
                   boundary=bd)
    pf = potential(full, inner, w, limit_s=limit, decay=Decay("none"))
    ok = ~pc.touches_boundary
    np.testing.assert_allclose(pc.sums[ok], pf.sums[ok], rtol=1e-12)
    # and the one reverse search from the cut nodes agrees with the searches' own flag
    if cut.size:
        reach = nearest_facility(crop, np.flatnonzero(bd), np.zeros(bd.sum()), limit=limit,
                                 reverse=True)
        np.testing.assert_array_equal(np.isfinite(reach.dist), pc.touches_boundary)


def test_simplification_keeps_the_way_out():
    """Simplifying never makes a cut node farther: for every node the simplified
    graph keeps, the time to the nearest cut node is at most the raw graph's (a
    one-way carriageway cut at the edge is dropped with the SCC step; the junction
    before it becomes the cut)."""
    raw = graph_from_osm(shared(*HB), clip=CROP)
    g = build_graph(shared(*HB), clip=CROP)
    assert cut_nodes(raw).sum() > 20 and cut_nodes(g).any()
    d_raw = nearest_facility(raw, np.flatnonzero(cut_nodes(raw)),
                             np.zeros(int(cut_nodes(raw).sum())), reverse=True).dist
    d_g = time_to_edge_s(g)
    at = np.searchsorted(raw.osm_id, g.osm_id)
    assert np.all(d_g <= d_raw[at] + 1e-9)
    # the full file knows its cut too (ways whose nodes the extract lacks)
    assert cut_nodes(build_graph(shared(*HB))).sum() > 20


def test_a_point_may_snap_beyond_the_cut():
    """A point whose road is farther than the nearest cut node may snap to a road
    beyond it in a larger extract; one nearer to its road than to the cut may not."""
    u, v, t, idx = _grid(6, 6, 0, 0.0)
    inner, cut = _crop(idx, 0, 3, 0, 6, u, v)  # the western half; the cut at column 2
    crop, _ = _graph(inner, u, v, t, 6, cut)
    lon, lat = _lonlat(np.array([idx[3, 0], idx[3, 2]]), 6)
    # 600 m east of column 0 (nearest road 400 m, cut 1.4 km) and 600 m east of column
    # 2 (its road, the cut node itself, about 600 m away: a road beyond may be nearer)
    lon = lon + 600.0 / 68_600.0
    np.testing.assert_array_equal(snap_may_move(crop, lon, lat, [400.0, 610.0]), [False, True])
    assert not snap_may_move(_graph(inner, u, v, t, 6)[0], lon, lat, [400.0, 610.0]).any()


@pytest.fixture(scope="module")
def hb_crop_runs():
    from accessibility.io import read_central_places, read_municipalities
    from accessibility.models.central_places import join_central_places

    munis = read_municipalities(shared("municipalities", "gemeinden_2019_destatis.csv"),
                                bbox=(8.5, 51.5, 11.5, 53.2))
    zo = read_central_places(shared("central_places", "zentrale_orte_2024.csv"))
    j, _ = join_central_places(munis, zo)
    dest = acc.collect_destinations(osm=shared(*HB), airports=True,
                                    stations=shared("reference", "db_long_distance_stations.csv"))
    out = {}
    for name, clip in (("full", None), ("crop", CROP)):
        g = build_graph(shared(*HB), clip=clip)
        cp = acc.central_places(g, j, j, max_snap_m=5000)
        fac = acc.facility_times(g, j, dest, max_snap_m=5000)
        # an 8-minute limit: with 120 (or 30) every search from a 40 km box reaches its edge
        lage = acc.lage(g, j, limit_min=8, max_snap_m=5000, unit=None)
        out[name] = (cp.set_index("ags"), fac.set_index("ags"), lage.set_index("ags"))
    return out


# (airports: in a 40 km box every value could change, nothing to compare)
@pytest.mark.parametrize("what", ["mz", "oz", "motorway", "ldrail", "lage"])
def test_hb_crop_exact_values_equal_the_full_extract(hb_crop_runs, what):
    table = {"mz": 0, "oz": 0, "lage": 2}.get(what, 1)
    col, flag = ((f"t_{what}_min", f"{what}_edge_flag") if what != "lage"
                 else ("potential_2h", "edge_flag"))
    c = hb_crop_runs["crop"][table]
    f = hb_crop_runs["full"][table]
    have = c[col].notna() & c["in_region"].fillna(False).astype(bool)
    exact = have & ~c[flag].astype(bool)
    exact &= ~f[flag].reindex(c.index).fillna(True).astype(bool)
    least = 1 if what == "ldrail" else 3
    assert exact.sum() >= least, f"{what}: too few exact values to compare ({exact.sum()})"
    np.testing.assert_allclose(c.loc[exact, col].to_numpy(float),
                               f.loc[exact[exact].index, col].to_numpy(float), rtol=1e-9)
    # tight: not everything in the crop is flagged
    assert c.loc[have, flag].astype(bool).mean() < 1.0


def test_walk_distances_exact_unless_a_walk_out_could_be_shorter():
    """A 3 km street with every service at its western end and 2.1 km east, cropped to
    its western 2 km (cut at its last node, 100 m before the eastern services): a
    cell's network distance is flagged when the walk to the cut is shorter than the
    distance found, and every unflagged one equals the full street's."""
    from pyproj import Transformer

    from accessibility.api import walk_distances
    from accessibility.models.walkability import SERVICES, walkability

    to_ll = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
    x = 4_200_000.0 + 100.0 * np.arange(31)
    y = np.full(31, 3_000_000.0)
    lon, lat = to_ll.transform(x, y)

    def street(n, cut):
        u = np.arange(n - 1)
        return from_edges(np.r_[u, u + 1], np.r_[u + 1, u], np.full(2 * u.size, 72.0),
                          np.full(2 * u.size, 100.0), np.zeros(2 * u.size),
                          class_names=("footway",), osm_id=np.arange(n), lon=lon[:n],
                          lat=lat[:n], meta={"cut_osm_ids": cut})

    cells = pd.DataFrame({"x": x[:21], "y": y[:21], "population": 10.0, "ags": "A"})
    fac = pd.DataFrame({"service": list(SERVICES) * 2, "lon": [lon[0]] * 6 + [lon[21]] * 6,
                        "lat": [lat[0]] * 6 + [lat[21]] * 6})
    # snapping within 50 m: the eastern services, 100 m beyond the cut, stay off the crop
    kw = {"methods": ["network"], "max_snap_m": 50.0}
    full = walk_distances(cells, fac, walk_graph=street(31, []), **kw)
    crop = walk_distances(cells, fac, walk_graph=street(21, [20]), **kw)
    at = x[:21] - x[0]  # 0, 100, ..., 2000 m from the western end
    d_crop = crop["dist_pharmacy_net_m"].to_numpy()
    np.testing.assert_allclose(d_crop, at, atol=1e-6)
    # derived: the way out is 2000 - at; flagged where it is shorter than the distance
    expect = (2000.0 - at) < at
    assert crop["walk_edge_flag_net"].tolist() == expect.tolist()
    assert not full["walk_edge_flag_net"].any()  # a street that knows it is whole
    np.testing.assert_allclose(d_crop[~expect], full["dist_pharmacy_net_m"].to_numpy()[~expect],
                               atol=1e-9)
    # flagged: might change, and beyond 1,050 m it does (the eastern services are nearer)
    d_full = full["dist_pharmacy_net_m"].to_numpy()
    np.testing.assert_allclose(d_full, np.minimum(at, 2100.0 - at), atol=1e-6)
    assert (d_crop[at > 1050] > d_full[at > 1050]).all()
    share = walkability(crop).loc["A", "walk_edge_share_net"]
    assert share == pytest.approx(expect.mean())


def test_the_summary_says_whether_the_flags_are_a_proof_or_a_guess(tmp_path):
    """Issue 23: a complete-way extract without a header box (Heidelberg) records no
    cut: its flags fall back to guesses, and the summary and log must say so and name
    --clip; with --clip (or an extract cut short, the sample) they are a proof."""
    from accessibility.pipeline import run

    osm = shared("osm", "heidelberg.osm.pbf")
    inputs = {"inputs.osm": str(osm),
              "inputs.municipalities": str(shared("municipalities",
                                                  "gemeinden_2019_destatis.csv")),
              "inputs.central_places": str(shared("central_places", "zentrale_orte_2024.csv")),
              "output.models": ["central_places"], "output.maps": False}
    guess = run(output_dir=tmp_path / "a", overrides=inputs).summary
    assert "a guess, not a proof" in guess and "--clip" in guess
    proof = run(output_dir=tmp_path / "b",
                overrides=inputs | {"graph.clip": [8.55, 49.33, 8.95, 49.47]}).summary
    assert "a guess" not in proof and "nodes where it cut the network (the --clip box)" in proof


@settings(max_examples=60, deadline=None)
@given(st.integers(4, 12), st.integers(4, 12), st.integers(0, 2**31), st.floats(0.0, 0.6),
       st.data())
def test_lage_exact_by_destination_never_changes_when_the_extract_grows(nx, ny, seed,
                                                                        one_way, data):
    """Issue 23, the national Lage: a potential is exact when no route through a cut
    node could beat a destination's time or bring one within the limit (the bound of
    models/lage_exact.py), even though its search reaches the cut. Checked against
    the full grid; and the rule flags no more than "the search reached a cut"."""
    from accessibility.models.lage_exact import exact_origins

    u, v, t, idx, inner, cut, full, crop, pos = _grid_and_crop(nx, ny, seed, one_way, data)
    rng = np.random.default_rng(seed + 7)
    limit = float(rng.uniform(50, 600))
    w = np.where(rng.random(idx.size) < 0.5, rng.uniform(1, 10, idx.size), 0.0)
    # a decay, so that a faster way to a reached destination changes the sum too
    decay = Decay("exponential", beta=0.5, floor_min=0.0)
    pf = potential(full, inner, w, limit_s=limit, decay=decay)
    pc = potential(crop, np.arange(inner.size), w[inner], limit_s=limit, decay=decay,
                   boundary=np.isin(inner, cut))
    every = idx.ravel()  # every node is a destination; those outside the crop at -1
    exact = exact_origins(crop, crop, cut_nodes(crop), np.arange(inner.size), pos[every],
                          full.x[every], full.y[every], w[every], limit_s=limit, max_snap_m=0.0)
    np.testing.assert_allclose(pc.sums[exact], pf.sums[exact], rtol=1e-12)
    assert np.all(exact | pc.touches_boundary)  # tighter than "reached a cut", never looser


def test_a_reached_destination_with_a_faster_way_round_is_not_exact():
    """Three nodes in a row inside the extract on a slow street (30 km/h, 2 km), and
    a fast bypass outside (node 3, 150 km/h): the far end is reached within the limit,
    but a way through the cut could be faster, so the potential is not exact; with a
    limit shorter than the straight line at top speed no way out arrives in time, and
    it is."""
    from accessibility.graph import project
    from accessibility.models.lage_exact import exact_origins

    lon = np.array([9.0, 9.0 + 1000 / 68_600, 9.0 + 2000 / 68_600, 9.0 + 1000 / 68_600])
    lat = np.array([52.0, 52.0, 52.0, 52.0 + 500 / 111_250])
    x, y = project(lon, lat)
    slow = 1000.0 / (30 / 3.6)
    u, v = np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1])
    crop = from_edges(u, v, np.full(4, slow), np.full(4, 1000.0), np.zeros(4, np.uint8),
                      class_names=("primary",), osm_id=np.arange(3), lon=lon[:3], lat=lat[:3],
                      meta={"cut_osm_ids": [0, 2]})
    w = np.array([0.0, 0.0, 5.0, 0.0])  # only the far end counts
    args = (crop, crop, cut_nodes(crop), np.array([0]), np.array([0, 1, 2, -1]), x, y, w)
    assert not exact_origins(*args, limit_s=3600.0, max_snap_m=0.0)[0]
    # a limit below the straight line at top speed: no way out arrives in time
    assert exact_origins(*args, limit_s=30.0, max_snap_m=0.0)[0]


def _brute_force_flags(crop, cut, w, dest_nodes, dest_xy, moves, limit, snap, v, tol):
    """The per-cut-node bound by a plain Dijkstra (scipy) on two copies of the crop,
    before and after leaving it, joined by an edge abroad from every cut node to
    every other (straight line / v) and from every cut node to each destination that
    may move (its straight line less the snapping limit): an origin is flagged when a
    route through the outside reaches some destination that counts sooner than the
    route inside, and within the limit, by more than ``tol`` seconds (< 0: near ties
    flagged too; the kernel's sums may differ in the last bits)."""
    from scipy.sparse.csgraph import csgraph_from_dense, dijkstra

    n = crop.n_nodes
    md = np.flatnonzero(moves & (w > 0))
    inside = np.full((n, n), np.inf)
    u = np.repeat(np.arange(n), np.diff(crop.offsets))
    np.minimum.at(inside, (u, crop.targets), crop.time_s)
    c = np.flatnonzero(cut)
    cxy = np.column_stack([crop.x[c], crop.y[c]])
    line = np.hypot(*(cxy[:, None, :] - cxy[None, :, :]).transpose(2, 0, 1)) / v
    np.fill_diagonal(line, np.inf)
    to_d = np.maximum(np.hypot(*(cxy[:, None, :] - dest_xy[md][None, :, :])
                               .transpose(2, 0, 1)) - snap, 0.0) / v
    aug = np.full((2 * n + md.size,) * 2, np.inf)  # inside, after leaving, the movers
    aug[:n, :n] = aug[n:2 * n, n:2 * n] = inside
    for start in (c, n + c):  # out at a cut node (before or after leaving already)
        aug[np.ix_(start, n + c)] = line
        aug[np.ix_(start, 2 * n + np.arange(md.size))] = to_d
    t_in = dijkstra(csgraph_from_dense(inside, null_value=np.inf), indices=np.arange(n))
    t_out = dijkstra(csgraph_from_dense(aug, null_value=np.inf), indices=np.arange(n))
    found = np.full((n, w.size), np.inf)
    on = dest_nodes >= 0
    found[:, on] = t_in[:, dest_nodes[on]]
    found[found > limit] = np.inf
    best = np.full((n, w.size), np.inf)
    best[:, on] = t_out[:, n + dest_nodes[on]]
    best[:, md] = np.minimum(best[:, md], t_out[:, 2 * n:])
    gain = (best < found - tol) & (best <= limit - tol) & (w > 0)
    return gain.any(axis=1)


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 10), st.integers(3, 10), st.integers(0, 2**31), st.floats(0.0, 0.6),
       st.floats(100.0, 250.0), st.sampled_from([0.0, 600.0]), st.booleans(), st.data())
def test_lage_bound_per_cut_node_matches_a_brute_force(nx, ny, seed, one_way, kmh, snap,
                                                       beyond, data):
    """The per-cut-node kernel (exact_rows_by_node) flags exactly the origins that a
    shortest-path search on the crop plus straight lines abroad (every pair of cut
    nodes, and cut node to a destination that may move) flags; the sectioned rule is
    sound against it (flags no fewer). Streets of 140-150 km/h, few destinations that
    may move and (unless ``beyond``) none beyond the crop, so that the way outside
    often gains nothing and both answers occur."""
    from accessibility.graph import top_speed_ms
    from accessibility.models.lage_exact import exact_origins

    u, v, t, idx, inner, cut, full, crop, pos = _grid_and_crop(nx, ny, seed, one_way, data,
                                                               (140.0, 150.0))
    rng = np.random.default_rng(seed + 11)
    limit = float(rng.uniform(50, 900))
    every = idx.ravel()
    dest_nodes = pos[every]
    w = np.where(rng.random(every.size) < 0.6, rng.uniform(1, 10, every.size), 0.0)
    w[dest_nodes < 0] *= beyond
    dest_xy = np.column_stack([full.x[every], full.y[every]])
    may_move = (rng.random(every.size) < 0.03) & (dest_nodes >= 0)
    kw = dict(limit_s=limit, max_snap_m=snap, dest_may_move=may_move, top_speed_kmh=kmh)
    args = (crop, crop, cut_nodes(crop), np.arange(inner.size), dest_nodes, dest_xy[:, 0],
            dest_xy[:, 1], w)
    flag = ~exact_origins(*args, by_node=True, **kw)
    # the destinations that may move: as the kernel decides for those off the crop
    from scipy.spatial import cKDTree
    moves = may_move.copy()
    off = dest_nodes < 0
    if off.any() and cut.size:
        cc = np.flatnonzero(cut_nodes(crop))
        to_road, _ = cKDTree(np.column_stack([crop.x, crop.y])).query(dest_xy[off])
        to_cut, _ = cKDTree(np.column_stack([crop.x[cc], crop.y[cc]])).query(dest_xy[off])
        moves[off] = to_cut <= to_road + snap
    w_b = np.where(off & ~moves, 0.0, w)
    vms = top_speed_ms(crop, kmh)
    ref = (cut_nodes(crop), w_b, dest_nodes, dest_xy, moves, limit, snap, vms)
    sure = _brute_force_flags(crop, *ref, tol=1e-6)
    maybe = _brute_force_flags(crop, *ref, tol=-1e-6)
    assert np.all(flag >= sure) and np.all(flag <= maybe)
    if cut.size:
        assert np.all(~exact_origins(*args, by_node=False, **kw) >= flag)
