"""Grid isochrones (issue 28): the network construction's rule on a grid, within a
cell of it; the same nodes counted, nested, valid, both directions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from hypothesis import HealthCheck, given, settings, strategies as st
from pyproj import Transformer

from accessibility.graph import from_edges
from accessibility.models.matrices import isochrones

from .test_matrices import centre_at, inside, line_graph, nested

CELL = 100.0
TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)


def metric(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(TO_METRIC.transform(*xy.T)))


def test_grid_line_graph_as_the_network_one():
    """The checks of the network construction on the line graph, to a cell: nodes
    reached, the off-road reach (300 m per minute, capped at 500 m), the edge cut
    where the time runs out, nesting."""
    g, x0, y0 = line_graph()
    iso = isochrones(g, centre_at(g, 5), minutes=(2, 4.5, 1), progress=False,
                     method="grid", cell_m=CELL)
    assert list(iso["minutes"]) == [1.0, 2.0, 4.5] and list(iso["n_nodes"]) == [3, 5, 9]
    assert iso.is_valid.all() and (iso.geom_type == "MultiPolygon").all()
    polys = list(iso.geometry)
    for small, big in zip(polys, polys[1:]):
        assert nested(small, big) and big.area > small.area
    p45 = polys[2]
    for k in range(1, 10):
        assert inside(p45, x0 + 2000.0 * k, y0)
    assert not inside(p45, x0, y0) and not inside(p45, x0 + 20000.0, y0)
    assert inside(p45, x0 + 10000.0, y0 + 500.0 - CELL)
    assert not inside(p45, x0 + 10000.0, y0 + 500.0 + CELL)
    # the road ends at 19 km; its last stretch, where less time is left than for
    # half a cell off the road (71 m at 5 m/s: 14 s, 470 m of road at 33 m/s), is
    # thinner than a cell and may be dropped
    assert inside(p45, x0 + 19000.0 - 500.0, y0) and not inside(p45, x0 + 19000.0 + CELL, y0)


def test_grid_direction_to_searches_the_reversed_graph():
    g, x0, y0 = line_graph(oneway=True)
    c = centre_at(g, 5)
    to = isochrones(g, c, minutes=2.5, direction="to", method="grid",
                    progress=False).geometry.iloc[0]
    fr = isochrones(g, c, minutes=2.5, direction="from", method="grid",
                    progress=False).geometry.iloc[0]
    assert inside(to, x0 + 6000.0, y0) and not inside(to, x0 + 14000.0, y0)
    assert inside(fr, x0 + 14000.0, y0) and not inside(fr, x0 + 6000.0, y0)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_grid_within_a_cell_of_the_network_polygons(seed):
    """Random graphs: the grid polygon lies between the network polygon shrunk and
    grown by 1.5 cells (marching squares cuts a cell's corner at most), and both
    count the same nodes."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 60))
    lon = 10.5 + rng.random(n) * 0.15
    lat = 52.2 + rng.random(n) * 0.1
    xy = np.column_stack([lon * 0.6, lat])
    near = np.argsort(np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1)), axis=1)[:, 1:4]
    u = np.repeat(np.arange(n), 3)
    v = near.ravel()
    keep = rng.random(u.size) < 0.8  # some one-way
    u, v = np.r_[u, v[keep]], np.r_[v, u[keep]]
    t = rng.integers(20, 200, u.size).astype(float)
    g = from_edges(u, v, t, t * 15.0, np.zeros(u.size, np.uint8), class_names=("road",),
                   osm_id=np.arange(n), lon=lon, lat=lat)
    c = centre_at(g, int(rng.integers(0, n)), access_s=float(rng.integers(0, 60)))
    c = pd.concat([c], ignore_index=True)
    mins = (2.0, 5.0, 9.0)
    grid = isochrones(g, c, minutes=mins, method="grid", cell_m=CELL, progress=False)
    net = isochrones(g, c, minutes=mins, progress=False, method="network")
    assert list(grid["n_nodes"]) == list(net["n_nodes"])
    assert grid.is_valid.all()
    for a, b in zip(grid.geometry, net.geometry):
        a, b = metric(a), metric(b)
        assert a.difference(b.buffer(1.5 * CELL)).area <= 1e-6 * max(b.area, 1.0)
        assert b.buffer(-1.5 * CELL).difference(a).area <= 1e-6 * max(b.area, 1.0)


# ------------------------------------------------- the fast kernel (issue 28)
# ``time_grid`` skips cells that cannot change and splats each node once: the field
# must stay, to the bit, the field of the kernel as it was (frozen in
# benchmarks/_iso_reference.py), and the cells it reaches those of the rule itself,
# re-derived here from scipy's times.


def _rule_points(g, dist, node, d0, cx, cy, lmax, cell):
    """The points of the rule (the access leg, every reached node, points every cell
    along the edges out of it) as rows ``(x, y, t)``, from the node times ``dist``."""
    pts = []

    def leg(xa, ya, ta, xb, yb, tb):
        n = max(1, int(np.ceil(np.hypot(xb - xa, yb - ya) / cell)))
        for s in range(n):
            f = s / n
            t = ta + f * (tb - ta)
            if t > lmax:
                break
            pts.append((xa + f * (xb - xa), ya + f * (yb - ya), t))

    leg(cx, cy, 0.0, g.x[node], g.y[node], d0)
    for u in np.flatnonzero(dist <= lmax):
        pts.append((g.x[u], g.y[u], dist[u]))
        for e in range(g.offsets[u], g.offsets[u + 1]):
            v = g.targets[e]
            leg(g.x[u], g.y[u], dist[u], g.x[v], g.y[v], dist[u] + g.time_s[e])
    return np.array(pts)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from([100.0, 250.0]),
       st.sampled_from([80.0, 300.0, 500.0]), st.booleans())
def test_fast_field_is_the_old_field_and_reaches_the_rules_cells(seed, cell, cap, reverse):
    """Random graphs, integer times (ties at the limits happen): the field equals the
    frozen kernel's to the bit; the nodes reached are scipy's within each limit; the
    cells at or below 0 are those within ``min(cap, speed (L - t))`` of a point of
    the rule built from scipy's times."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    from accessibility.routing import time_grid
    from benchmarks._iso_reference import reference_time_grid

    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    x, y = rng.random(n) * 2500.0, rng.random(n) * 2000.0
    u = rng.integers(0, n, 3 * n)
    v = rng.integers(0, n, 3 * n)
    keep = u != v
    u, v = u[keep], v[keep]
    t = rng.integers(5, 120, u.size).astype(float)
    lon, lat = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True).transform(
        500000.0 + x, 5800000.0 + y)
    g = from_edges(u, v, t, t * 15.0, np.zeros(u.size, np.uint8), class_names=("road",),
                   osm_id=np.arange(n), lon=lon, lat=lat)
    node = int(rng.integers(0, n))
    d0 = float(rng.integers(0, 60))
    point = (g.x[node] + rng.normal(0, 150), g.y[node] + rng.normal(0, 150))
    limits = np.sort(rng.choice([60.0, 120.0, 180.0, 300.0, 600.0], 3, replace=False))
    kw = dict(limits=limits, cell_m=cell, cap_m=cap, speed_ms=float(rng.uniform(2, 8)),
              reverse=reverse)
    grid, ix0, iy0, times = time_grid(g, node, d0, point, **kw)
    ref, rx0, ry0, rtimes = reference_time_grid(g, node, d0, point, **kw)
    assert (ix0, iy0) == (rx0, ry0) and np.array_equal(grid, ref)
    assert np.array_equal(np.sort(times), np.sort(rtimes))

    s = g.reversed if reverse else g
    dense = np.full((n, n), np.inf)  # parallel edges: the fastest one counts
    np.minimum.at(dense, (np.repeat(np.arange(n), np.diff(s.offsets)), s.targets),
                  s.time_s)
    dist = dijkstra(sp.csr_matrix(np.where(np.isfinite(dense), dense, 0.0)),
                    indices=node) + d0
    for lim in limits:
        assert int((times <= lim).sum()) == int((dist <= lim).sum())

    pts = _rule_points(s, dist, node, d0, point[0], point[1], limits[-1], cell)
    ny, nx = grid.shape[1:]
    xc = (ix0 + 0.5 + np.arange(nx)) * cell
    yc = (iy0 + 0.5 + np.arange(ny)) * cell
    d = np.hypot(xc[None, None, :] - pts[:, 0, None, None],
                 yc[None, :, None] - pts[:, 1, None, None])
    for b, lim in enumerate(limits):
        ok = pts[:, 2] <= lim
        r = np.minimum(cap, kw["speed_ms"] * (lim - pts[ok, 2]))
        rule = (d[ok] <= r[:, None, None]).any(axis=0)
        assert np.array_equal(grid[b] <= 0.0, rule)
