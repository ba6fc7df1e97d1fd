"""The graph's outline and edge nodes, against the brute-force shapely computation
over every node (what extent.py did before it used only the extreme points)."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from accessibility.graph import from_edges
from accessibility.graph.extent import boundary_nodes, extent_polygon


#: Metres two hulls of the same points may differ by (rounding of nearly collinear points).
TOL_M = 1e-6


def _graph(x, y):
    n = len(x)
    u = np.arange(max(n - 1, 0))
    lon, lat = 9.0 + np.asarray(x) / 70_000.0, 52.0 + np.asarray(y) / 111_000.0
    return from_edges(u, u + 1, np.ones(u.size), np.ones(u.size), np.zeros(u.size, np.uint8),
                      class_names=("primary",), osm_id=np.arange(n), lon=lon, lat=lat)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.integers(0, 2**31), st.sampled_from(["area", "line", "grid"]),
       st.floats(10.0, 20_000.0))
def test_outline_and_edge_nodes_equal_brute_force(n, seed, shape, buffer_m):
    rng = np.random.default_rng(seed)
    if shape == "area":
        xy = rng.uniform(0, 50_000, (n, 2))
    elif shape == "line":  # collinear: no area, every node is at the edge
        t = rng.uniform(0, 50_000, n)
        xy = np.column_stack([t, 0.5 * t])
    else:  # many points on the hull's edges
        k = int(np.ceil(np.sqrt(n)))
        xy = np.column_stack([np.repeat(np.arange(k), k), np.tile(np.arange(k), k)])[:n] * 1000.0
    g = _graph(xy[:, 0], xy[:, 1])
    pts = shapely.points(np.asarray(g.x), np.asarray(g.y))
    hull0 = shapely.convex_hull(shapely.multipoints(pts))
    outline0 = hull0.exterior if hull0.geom_type == "Polygon" else hull0
    # the same hull up to rounding: qhull and GEOS may keep or drop a vertex of nearly
    # collinear points (a few nanometres off the line), so no exact vertex list
    hull = extent_polygon(g)
    assert hull.geom_type == hull0.geom_type
    assert shapely.hausdorff_distance(hull, hull0) <= TOL_M
    assert abs(hull.area - hull0.area) <= TOL_M * max(hull0.length, 1.0)
    # every node decided the same way, but those within the tolerance of the buffer
    d = shapely.distance(pts, outline0)
    clear = np.abs(d - buffer_m) > TOL_M
    np.testing.assert_array_equal(boundary_nodes(g, buffer_m)[clear], (d < buffer_m)[clear])
