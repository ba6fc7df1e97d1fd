"""The walkability model in tiles equals the untiled model on random synthetic regions
(straight line with water barriers and bridges; the network method is checked on the
Bayreuth extract in test_compute.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings, strategies as st
from pyproj import Transformer

from accessibility.compute import LocalExecutor
from accessibility.models import walkability
from accessibility.models.walkability import (
    SERVICES,
    cell_distances,
    tile_labels,
    tiled_cell_distances,
)

TO_LL = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
X0, Y0 = 4_300_000.0, 3_100_000.0  # EPSG:3035, in Hesse


def _region(seed: int, n_cells: int, n_fac: int, n_rivers: int, size_m: float):
    """Cells on a 100 m lattice, facilities, rivers (random walks) and bridges."""
    rng = np.random.default_rng(seed)
    ix = rng.choice(int(size_m // 100) ** 2, n_cells, replace=False)
    side = int(size_m // 100)
    cells = pd.DataFrame({"x": X0 + (ix % side) * 100.0 + 50, "y": Y0 + (ix // side) * 100.0 + 50,
                          "population": rng.integers(1, 40, n_cells).astype(float)})
    lon, lat = TO_LL.transform(X0 + rng.uniform(0, size_m, n_fac),
                               Y0 + rng.uniform(0, size_m, n_fac))
    fac = pd.DataFrame({"service": rng.choice(SERVICES, n_fac), "lon": lon, "lat": lat})
    rivers, bridges = [], []
    for _ in range(n_rivers):
        ang = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.2, 60))
        xy = (np.array([X0, Y0]) + rng.uniform(0, size_m, 2)
              + np.cumsum(np.c_[np.cos(ang), np.sin(ang)] * 120, axis=0))
        rivers.append(shapely.LineString(xy))
        for j in rng.choice(np.arange(1, 59), 3, replace=False):
            d = xy[j + 1] - xy[j - 1]
            nrm = np.array([-d[1], d[0]]) / np.hypot(*d)
            bridges.append(shapely.LineString([xy[j] - 25 * nrm, xy[j] + 25 * nrm]))
    return cells, fac, rivers, bridges


def _dist(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[[c for c in frame.columns if c.startswith("dist_")]]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), tile_km=st.sampled_from([0.7, 1.3, 2.0, 3.1]),
       n_rivers=st.integers(0, 6), window=st.integers(1, 5),
       limit=st.sampled_from([400.0, 1000.0]))
def test_tiled_equals_untiled_on_random_regions(seed, tile_km, n_rivers, window, limit):
    cells, fac, rivers, bridges = _region(seed, 300, 90, n_rivers, 6000.0)
    kw = dict(methods=("straight",), barriers=rivers or None, gaps=bridges or None,
              max_distance_m=limit)
    whole = cell_distances(cells, fac, **kw)
    old = walkability.TILE_WINDOW
    walkability.TILE_WINDOW = window  # tiles handed over a few at a time
    try:
        tiled = tiled_cell_distances(cells, fac, LocalExecutor(), tile_size_m=tile_km * 1000,
                                     **kw)
    finally:
        walkability.TILE_WINDOW = old
    assert len(np.unique(tile_labels(cells, tile_size_m=tile_km * 1000))) >= 4
    pd.testing.assert_frame_equal(_dist(tiled), _dist(whole))


def test_tile_labels_order_the_squares_as_pairs():
    """Labels number the (column, row) squares in sorted order, as np.unique of the
    pairs does (derived by hand for five cells)."""
    cells = pd.DataFrame({"x": [150.0, 50.0, 1050.0, 50.0, 1050.0],
                          "y": [2050.0, 50.0, 50.0, 1050.0, 2050.0]})
    # squares of 1 km: (0,2) (0,0) (1,0) (0,1) (1,2) -> sorted (0,0)(0,1)(0,2)(1,0)(1,2)
    assert tile_labels(cells, tile_size_m=1000.0).tolist() == [2, 0, 3, 1, 4]
    assert tile_labels(cells.iloc[:0], tile_size_m=1000.0).tolist() == []


def test_tiles_reach_their_buffer_only(monkeypatch):
    """Each tile gets the barriers near it, not all of them (memory per tile bounded)."""
    cells, fac, rivers, bridges = _region(3, 400, 120, 8, 20_000.0)
    seen = []

    def spy(piece, **kw):
        seen.append(len(piece["barriers"]))
        return walkability.cell_distances(piece["cells"], piece["facilities"],
                                          methods=kw["methods"], barriers=piece["barriers"],
                                          gaps=piece["gaps"],
                                          max_distance_m=kw["max_distance_m"])[[]]

    monkeypatch.setattr(walkability, "_tile_task", spy)
    tiled_cell_distances(cells, fac, LocalExecutor(), methods=("straight",), barriers=rivers,
                         gaps=bridges, max_distance_m=500.0, tile_size_m=4000.0)
    assert len(seen) >= 16 and max(seen) < len(rivers)


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_inputs(n):
    cells, fac, rivers, bridges = _region(1, max(n, 1), 10, 1, 3000.0)
    cells = cells.iloc[:n]
    out = tiled_cell_distances(cells, fac, LocalExecutor(), methods=("straight",),
                               barriers=rivers, gaps=bridges, max_distance_m=500.0)
    assert len(out) == n
