"""Tests of the 100 m residents grid (disaggregation, municipalities, assignment)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from accessibility._errors import InputError
from accessibility.io import read_user_grid
from accessibility.io.osm_features import extract_features
from accessibility.io.population_grid import suppressed_line
from accessibility.models.population_grid import (
    assign_cells,
    disaggregate,
    from_municipalities,
)

from .conftest import shared

X0, Y0 = 4_300_000.0, 2_900_000.0           # lower-left corner of a 1 km Census cell


def _cells(*pops, size=1000.0):
    """1 km cells in a row starting at (X0, Y0), as read_population_grid returns them."""
    n = len(pops)
    return pd.DataFrame({"x": X0 + size / 2 + size * np.arange(n), "y": Y0 + size / 2,
                         "population": np.asarray(pops, dtype="float64")})


def _gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs="EPSG:3035")


def _sums(out, n):
    return np.bincount(out["source"], weights=out["population"], minlength=n)


def test_uniform_case_preserves_totals_and_is_aligned():
    cells = _cells(1234.5, 0.0, 77.0)
    out = disaggregate(cells, source_size_m=1000)
    assert set(out.columns) >= {"x", "y", "population", "source"}
    assert set(out["source"]) == {0, 2}                      # population 0 gives nothing
    assert (out.groupby("source").size() == 100).all()
    np.testing.assert_allclose(_sums(out, 3), cells["population"], rtol=1e-9)
    # INSPIRE alignment: centres at ...50 m, inside their source cell
    assert ((out["x"] % 100) == 50).all() and ((out["y"] % 100) == 50).all()
    src_x = cells["x"].to_numpy()[out["source"]]
    assert (np.abs(out["x"] - src_x) < 500).all()


def test_one_building_takes_everything():
    cells = _cells(500.0, 80.0)
    b = _gdf([shapely.box(X0 + 310, Y0 + 720, X0 + 330, Y0 + 740)], residential=[True])
    out = disaggregate(cells, b, source_size_m=1000)
    first = out[out["source"] == 0]
    assert len(first) == 1
    assert first["x"].iloc[0] == X0 + 350 and first["y"].iloc[0] == Y0 + 750
    assert first["population"].iloc[0] == 500.0
    assert (out["source"] == 1).sum() == 100                  # no building: uniform


def test_buildings_case_area_weights_and_totals():
    cells = _cells(1000.0, 333.3)
    b = _gdf([shapely.box(X0 + 150, Y0 + 10, X0 + 250, Y0 + 30),   # 2000 m2 over 2 cells
              shapely.box(X0 + 600, Y0 + 600, X0 + 620, Y0 + 650),  # 1000 m2
              shapely.box(X0 + 600, Y0 + 100, X0 + 900, Y0 + 200),  # not residential
              shapely.box(X0 + 980, Y0 + 500, X0 + 1020, Y0 + 510)],  # straddles sources
             residential=[True, True, False, True])
    out = disaggregate(cells, b, source_size_m=1000)
    np.testing.assert_allclose(_sums(out, 2), cells["population"], rtol=1e-9)
    s0 = out[out["source"] == 0].set_index(["x", "y"])["population"]
    total_area = 2000 + 1000 + 200
    assert s0[(X0 + 150, Y0 + 50)] == pytest.approx(1000 * 1000 / total_area)
    assert s0[(X0 + 650, Y0 + 650)] == pytest.approx(1000 * 1000 / total_area)
    assert s0[(X0 + 950, Y0 + 550)] == pytest.approx(1000 * 200 / total_area)
    s1 = out[out["source"] == 1]
    assert len(s1) == 1 and s1["x"].iloc[0] == X0 + 1050


def test_landuse_case_and_reprojection():
    cells = _cells(600.0, 10.0)
    land = gpd.GeoSeries([shapely.box(X0, Y0, X0 + 200, Y0 + 100),
                          shapely.box(X0 + 500, Y0 + 500, X0 + 550, Y0 + 550)],
                         crs="EPSG:3035").to_crs("EPSG:4326")
    # a residential building in source 1 only: source 0 uses landuse
    b = _gdf([shapely.box(X0 + 1520, Y0 + 520, X0 + 1530, Y0 + 530)],
             residential=[True]).to_crs("EPSG:4326")
    out = disaggregate(cells, b, land, source_size_m=1000)
    np.testing.assert_allclose(_sums(out, 2), cells["population"], rtol=1e-9)
    s0 = out[out["source"] == 0].set_index(["x", "y"])["population"]
    assert (s0 > 1e-2).sum() == 3                  # plus reprojection slivers
    assert s0.sum() == pytest.approx(600)
    assert s0[(X0 + 550, Y0 + 550)] == pytest.approx(600 * 2500 / 22500, rel=1e-3)
    assert (out["source"] == 1).sum() == 1


def test_size_inferred_and_errors():
    cells = _cells(10.0, 20.0)
    assert len(disaggregate(cells)) == 200                     # spacing 1000 inferred
    with pytest.raises(InputError, match="source_size_m"):
        disaggregate(_cells(10.0))
    with pytest.raises(InputError, match="not aligned"):
        disaggregate(cells.assign(x=cells["x"] + 30))
    with pytest.raises(InputError, match="multiple"):
        disaggregate(cells, source_size_m=1000, target_size_m=300)
    with pytest.raises(InputError, match="population"):
        disaggregate(cells.drop(columns="population"))
    with pytest.raises(InputError, match="NaN"):
        disaggregate(cells.assign(population=[1.0, np.nan]))
    with pytest.raises(InputError, match="residential"):
        disaggregate(cells, _gdf([shapely.box(X0, Y0, X0 + 5, Y0 + 5)], a=[1]))
    with pytest.raises(InputError, match="CRS"):
        disaggregate(cells, gpd.GeoDataFrame({"residential": [True]},
                                             geometry=[shapely.box(0, 0, 1, 1)]))
    assert disaggregate(_cells(0.0, -0.0), source_size_m=1000).empty


def test_from_municipalities_totals_and_buildings():
    a = shapely.box(X0, Y0, X0 + 1000, Y0 + 500)
    b = shapely.Polygon([(X0 + 1000, Y0), (X0 + 2000, Y0), (X0 + 1000, Y0 + 1000)])
    tiny = shapely.box(X0 + 3010, Y0 + 10, X0 + 3020, Y0 + 20)     # holds no cell centre
    munis = _gdf([a, b, tiny, shapely.box(X0, Y0 + 2000, X0 + 100, Y0 + 2100)],
                 ags=["01", "02", "03", "04"],
                 population=[5000.0, 1200.0, 3.0, 0.0]).to_crs("EPSG:4326")
    bld = _gdf([shapely.box(X0 + 120, Y0 + 120, X0 + 140, Y0 + 140),
                shapely.box(X0 + 410, Y0 + 110, X0 + 450, Y0 + 130)], residential=[True, True])
    out = from_municipalities(munis, bld)
    np.testing.assert_allclose(_sums(out, 4), [5000.0, 1200.0, 3.0, 0.0], rtol=1e-9)
    a_cells = out[out["ags"] == "01"].set_index(["x", "y"])["population"]
    assert len(a_cells) == 2
    assert a_cells[(X0 + 150, Y0 + 150)] == pytest.approx(5000 * 400 / 1200)
    n_b = (out["ags"] == "02").sum()
    assert 40 < n_b < 60                                        # uniform over the triangle
    assert ((out["x"] % 100) == 50).all() and ((out["y"] % 100) == 50).all()
    assert (out["ags"] == "03").sum() == 1


def test_assign_cells_by_polygon_then_point():
    polys = _gdf([shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
                 ags=["a", "b"]).to_crs("EPSG:4326")
    cells = pd.DataFrame({"x": [500.0, 1500.0, 1500.0, 90_000.0],
                          "y": [500.0, 500.0, 5000.0, 0.0]})
    pts = np.array([[500.0, 500.0], [1500.0, 6000.0]])
    np.testing.assert_array_equal(assign_cells(cells, polys), [0, 1, -1, -1])
    np.testing.assert_array_equal(assign_cells(cells, points=pts), [0, 0, 1, -1])
    np.testing.assert_array_equal(assign_cells(cells, polys, pts, max_distance_m=2000),
                                  [0, 1, 1, -1])
    lonlat = gpd.GeoSeries(shapely.points(pts), crs="EPSG:3035").to_crs("EPSG:4326")
    ll = pd.DataFrame({"lon": lonlat.x, "lat": lonlat.y})
    np.testing.assert_array_equal(assign_cells(cells.to_numpy(), points=ll), [0, 0, 1, -1])
    with pytest.raises(InputError):
        assign_cells(cells)


def test_read_user_grid(tmp_path):
    p = tmp_path / "grid100.csv"
    pd.DataFrame({"GITTER_ID_100m": ["a", "b", "c"], "x_mp_100m": [4321050, 4321150, 4321250],
                  "y_mp_100m": [3012350, 3012350, 3012350],
                  "Einwohner": [12, -1, 3]}).to_csv(p, sep=";", index=False)
    g = read_user_grid(p)
    assert list(g["population"]) == [12.0, 3.0]
    assert g.attrs["report"] == [suppressed_line(1, p)] and (g["cell_size_m"] == 100).all()
    q = tmp_path / "grid1km.csv"
    pd.DataFrame({"x_mp_1km": [4321500, 4322500], "y_mp_1km": [3012500, 3012500],
                  "Einwohner": [5, 6]}).to_csv(q, sep=";", index=False)
    with pytest.raises(InputError, match="disaggregate"):
        read_user_grid(q)


# --- real data: Census 1 km cells and OSM buildings around Dreieich -----------------

def test_dreieich_census_cells_and_osm_buildings():
    from pyproj import Transformer

    grid_path = shared("population", "zensus2022_1km_einwohner.parquet")
    osm_path = shared("osm", "dreieich.osm.gz")
    tr = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    xs, ys = tr.transform([8.66, 8.74, 8.66, 8.74], [49.99, 49.99, 50.04, 50.04])
    g = pd.read_parquet(grid_path)
    xc = next(c for c in g.columns if c.lower() in ("x_mp_1km", "x"))
    yc = next(c for c in g.columns if c.lower() in ("y_mp_1km", "y"))
    g = g[(g[xc] >= min(xs)) & (g[xc] <= max(xs)) & (g[yc] >= min(ys)) & (g[yc] <= max(ys))
          & (g["Einwohner"] > 0)]
    cells = pd.DataFrame({"x": g[xc].astype(float), "y": g[yc].astype(float),
                          "population": g["Einwohner"].astype(float)}).reset_index(drop=True)
    assert len(cells) > 10
    buildings = extract_features(osm_path).buildings
    assert buildings["residential"].sum() > 1000
    out = disaggregate(cells, buildings, source_size_m=1000)
    np.testing.assert_allclose(_sums(out, len(cells)), cells["population"], rtol=1e-9)
    assert ((out["x"] % 100) == 50).all() and ((out["y"] % 100) == 50).all()
    # most residents of the cells inside the OSM extract sit in 100 m cells with a
    # residential building (cells outside the extract are spread uniformly)
    res = buildings[buildings["residential"]].to_crs("EPSG:3035")
    bx0, by0, bx1, by1 = res.total_bounds
    covered = np.flatnonzero((cells["x"] - 500 >= bx0) & (cells["x"] + 500 <= bx1)
                             & (cells["y"] - 500 >= by0) & (cells["y"] + 500 <= by1))
    assert covered.size >= 1
    c = res.geometry.representative_point()
    with_b = set(zip((np.floor(c.x / 100) * 100 + 50), (np.floor(c.y / 100) * 100 + 50)))
    sub = out[np.isin(out["source"], covered)]
    in_b = np.array([k in with_b for k in zip(sub["x"], sub["y"])])
    assert sub["population"][in_b].sum() > 0.8 * cells["population"].iloc[covered].sum()
    assert len(out) < 100 * len(cells)
