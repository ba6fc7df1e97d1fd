"""Nahversorgung: both distance methods, aggregation, the Dreieich sample, GTFS stops,
barriers on a real river, bad facility tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from accessibility._errors import InputError
from accessibility.graph import from_edges
from accessibility.api import walk_distances
from accessibility.io import read_facilities
from accessibility.models.walkability import SERVICES, aggregate, walkability
from accessibility.pipeline import run

from .conftest import shared

TO_LL = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
TO_GRID = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)


def straight_street():
    """A straight east-west street in EPSG:3035, nodes every 100 m, 3 km long."""
    x = 4_200_000.0 + 100.0 * np.arange(31)
    y = np.full(31, 3_000_000.0)
    lon, lat = TO_LL.transform(x, y)
    u = np.arange(30)
    v = u + 1
    length = np.hypot(np.diff(x), np.diff(y))  # metric distances along the street
    g = from_edges(np.r_[u, v], np.r_[v, u], np.r_[length, length] / (5 / 3.6),
                   np.r_[length, length], np.zeros(60), class_names=("footway",),
                   osm_id=np.arange(31), lon=lon, lat=lat)
    return g, x, y


def test_both_methods_agree_on_a_straight_street():
    g, x, y = straight_street()
    cells = pd.DataFrame({"x": x[::3], "y": y[::3], "population": 10.0, "ags": "A"})
    lon, lat = TO_LL.transform(x[[0, 30]], y[[0, 30]])
    fac = pd.DataFrame({"service": list(SERVICES) * 2, "lon": [lon[0]] * 6 + [lon[1]] * 6,
                        "lat": [lat[0]] * 6 + [lat[1]] * 6})
    per_cell = walk_distances(cells, fac, walk_graph=g)
    per_muni = walkability(per_cell)
    for s in SERVICES:
        # graph coordinates pass through EPSG:25832 and back: agree to a few cm
        np.testing.assert_allclose(per_cell[f"dist_{s}_m"], per_cell[f"dist_{s}_net_m"], atol=0.5)
    expect = np.minimum(x[::3] - x[0], x[30] - x[::3])
    np.testing.assert_allclose(per_cell["dist_pharmacy_m"], expect, atol=0.5)
    assert per_muni.loc["A", "walk_share_all"] == pytest.approx(per_muni.loc["A", "walk_share_all_net"])


def test_network_longer_than_straight_line_around_a_block():
    # an L-shaped street: cell at the corner's far end, facility across the corner
    x = np.array([0.0, 600.0, 600.0]) + 4_200_000
    y = np.array([0.0, 0.0, 600.0]) + 3_000_000
    lon, lat = TO_LL.transform(x, y)
    length = np.array([600.0, 600.0])
    g = from_edges(np.r_[0, 1, 1, 2], np.r_[1, 0, 2, 1], np.ones(4), np.r_[length, length],
                   np.zeros(4), class_names=("footway",), osm_id=np.arange(3), lon=lon, lat=lat)
    cells = pd.DataFrame({"x": [x[0]], "y": [y[0]], "population": [5.0], "ags": ["A"]})
    fac = pd.DataFrame({"service": ["pharmacy"], "lon": [lon[2]], "lat": [lat[2]]})
    pc = walk_distances(cells, fac, walk_graph=g)
    assert pc.loc[0, "dist_pharmacy_m"] == pytest.approx(np.hypot(600, 600), abs=0.5)
    assert pc.loc[0, "dist_pharmacy_net_m"] == pytest.approx(1200, abs=0.5)


def test_aggregate_shares_and_means():
    # the last cell lies in no municipality (ags None): it counts nowhere
    cells = pd.DataFrame({"population": [10.0, 30.0, 60.0, 5.0], "ags": ["a", "a", "b", None]})
    d = {s: np.array([500.0, 1500.0, 1000.0, 10.0]) for s in SERVICES}
    d["post_office"] = np.array([200.0, np.nan, 900.0, 10.0])
    a = aggregate(cells, d)
    assert a.loc["a", "walk_share_pharmacy"] == pytest.approx(10 / 40)
    assert a.loc["b", "walk_share_pharmacy"] == pytest.approx(1.0)  # 1,000 m inclusive
    assert a.loc["a", "walk_dist_pharmacy_m"] == pytest.approx((10 * 500 + 30 * 1500) / 40)
    # a cell without a post office in reach is not served, and has no "all six" distance
    assert a.loc["a", "walk_dist_post_office_m"] == pytest.approx(200.0)
    assert a.loc["a", "walk_share_all"] == pytest.approx(10 / 40)
    assert a.loc["a", "walk_dist_all_m"] == pytest.approx(500.0)
    assert list(a.index) == ["a", "b"] and list(a["walk_residents"]) == [40.0, 60.0]


def test_cells_off_the_walk_network_are_no_data_not_unserved():
    # issue 29: `[walk] max_snap_m = 1` read as "0 % served". On the straight street,
    # cells 0 m and 300 m north of it; with a 100 m snapping limit the second has no
    # network distance. Municipality "A" holds one of each (10 + 30 residents), "B"
    # only the far one. Every facility sits at the street's west end (x[0]).
    g, x, y = straight_street()
    cells = pd.DataFrame({"x": [x[3], x[6], x[6]], "y": [y[3], y[6] + 300.0, y[6] + 300.0],
                          "population": [10.0, 30.0, 5.0], "ags": ["A", "A", "B"]})
    lon, lat = TO_LL.transform(x[0], y[0])
    fac = pd.DataFrame({"service": list(SERVICES), "lon": lon, "lat": lat})
    per_cell = walk_distances(cells, fac, walk_graph=g, max_snap_m=100.0)
    assert per_cell["on_network"].tolist() == [True, False, False]
    per = walkability(per_cell)
    # network: only A's first cell (300 m from the facilities) has a value: served
    assert per.loc["A", "walk_share_pharmacy_net"] == pytest.approx(1.0)
    assert per.loc["A", "walk_residents_net"] == pytest.approx(10.0)
    assert np.isnan(per.loc["B", "walk_share_all_net"])  # no data, not 0 %
    assert per.loc["B", "walk_residents_net"] == 0.0
    # straight line: every cell has a value; the far cells are sqrt(600^2+300^2) away
    assert per.loc["A", "walk_share_pharmacy"] == pytest.approx(1.0)
    assert per.loc["A", "walk_residents"] == pytest.approx(40.0)
    # the GVB share weighs each municipality by its network base: A's 10 residents
    from accessibility.models.units import gvb_table
    munis = pd.DataFrame({"ags": ["A", "B"], "gvb": ["G", "G"], "name": ["a", "b"],
                          "population": [40.0, 5.0]}).join(per, on="ags")
    gvb = gvb_table(munis).set_index("gvb")
    assert gvb.loc["G", "walk_share_pharmacy_net"] == pytest.approx(1.0)
    assert gvb.loc["G", "walk_residents_net"] == pytest.approx(10.0)
    assert gvb.loc["G", "walk_share_pharmacy"] == pytest.approx(1.0)


def test_bad_inputs(tmp_path):
    g, x, y = straight_street()
    cells = pd.DataFrame({"x": x[:2], "y": y[:2], "population": 1.0, "ags": "A"})
    fac = pd.DataFrame({"service": ["bakery"], "lon": [10.0], "lat": [50.0]})
    with pytest.raises(InputError, match="unknown service"):
        walk_distances(cells, fac, walk_graph=g)
    with pytest.raises(InputError, match="walk graph"):
        walk_distances(cells, fac.assign(service="pharmacy"), methods=["network"])
    with pytest.raises(InputError, match="unknown walk method"):
        walk_distances(cells, fac.assign(service="pharmacy"), methods=["crow"])
    with pytest.raises(InputError, match="not attached"):  # the model never snaps itself
        from accessibility.models.walkability import cell_distances
        cell_distances(cells, fac.assign(service="pharmacy"), methods=["network"], walk_graph=g)
    with pytest.raises(InputError, match="distance columns"):
        walkability(cells)
    p = tmp_path / "f.csv"
    p.write_text("service,lon,lat\nbakery,8.7,50.0\n")
    with pytest.raises(InputError, match="unknown service types"):
        read_facilities(p)
    p.write_text("kind,lon,lat\npharmacy,8.7,50.0\n")
    with pytest.raises(InputError, match="lacks columns"):
        read_facilities(p)
    with pytest.raises(InputError, match="does not exist"):
        read_facilities(tmp_path / "none.csv")


# ----------------------------------------------------------------- Dreieich sample
@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from accessibility.pipeline import stages

    titles = {}

    def recording(gdf, column, path, **kw):  # the map titles, for the tests
        titles[Path(path).stem] = kw.get("title")
        return map_categories(gdf, column, path, **kw)

    map_categories = stages.map_categories
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(stages, "map_categories", recording)
        res = run(output_dir=tmp_path_factory.mktemp("walk"))
    res.map_titles = titles
    return res


def test_dreieich_sample_results(sample):
    m = sample.municipalities.set_index("ags")
    d = m.loc["06438002"]  # Dreieich
    assert d["walk_residents"] > 5000
    for s in ("pharmacy", "primary_school", "gp", "stop", "supermarket"):
        for sfx in ("", "_net"):
            v = d[f"walk_share_{s}{sfx}"]
            assert 0.0 <= v <= 1.0, (s, sfx)
    assert d["walk_share_stop"] > 0.9  # 61 stops in a small town centre
    # the extract has no post office: no data, not "nobody served"
    assert np.isnan(d["walk_share_post_office"]) and np.isnan(d["walk_share_all"])
    assert 0 < d["walk_coverage"] < 1  # the extract covers part of Dreieich
    # along the network is never shorter than the straight line without barriers
    assert d["walk_dist_supermarket_net_m"] >= d["walk_dist_supermarket_m"] - 1
    assert "OSM stops" in d["walk_stop_source"]
    assert np.isnan(m.loc["03101000", "walk_share_pharmacy"])  # Braunschweig: no walk data
    out = sample.output_dir
    assert (out / "map_walk_all_six.png").is_file() and (out / "walk_cells.parquet").is_file()
    # the map says which services cannot count (no post office in the extract)
    # (German by default; the service named in the map's language; English in the
    # map drawn for the English document)
    assert "keine Daten für Postfiliale: höchstens 5 von 6" in sample.map_titles["map_walk_all_six"]
    assert "no data for post office: at most 5 of 6" in sample.map_titles["map_walk_all_six.en"]
    import geopandas as gpd

    cells = gpd.read_parquet(out / "walk_cells.parquet")  # GeoParquet with its CRS
    assert cells.crs.to_epsg() == 3035 and (cells.geometry.x == cells["x"]).all()
    assert set(cells["ags"].dropna()) <= set(m.index) and "06438002" in set(cells["ags"])
    cols = pd.read_csv(out / "columns.csv")
    assert "walk_share_all_net" in set(cols["column"])
    assert "Nahversorgung" in sample.summary and "No facility of post_office" in sample.summary


def test_population_preserved_per_census_cell(sample):
    cells = pd.read_parquet(sample.output_dir / "walk_cells.parquet")
    src = pd.read_parquet(shared("population", "zensus2022_1km_einwohner.parquet"))
    src = src[src["Einwohner"] > 0].reset_index(drop=True)
    assert (cells["population"] > 0).all()
    # every 100 m cell lies inside a populated 1 km cell
    key = lambda x, y: (np.floor(x / 1000).astype(np.int64) * 100000  # noqa: E731
                        + np.floor(y / 1000).astype(np.int64))
    assert np.isin(key(cells["x"], cells["y"]), key(src["x"], src["y"])).all()


# ------------------------------------------------------------------ GTFS and barriers
def test_gtfs_stops_replace_osm_stops(tmp_path):
    res = run(output_dir=tmp_path, overrides={
        "inputs.walk_osm": str(shared("osm", "heidelberg.osm.pbf")),
        "inputs.gtfs": str(shared("gtfs", "vrn-rhein-neckar-cut.gtfs.zip")),
        "inputs.municipalities": str(shared("municipalities", "gemeinden_2019_destatis.csv")),
        "inputs.population_grid": str(shared("population", "zensus2022_1km_einwohner.parquet")),
        "walk.methods": ["straight"], "output.maps": False,
    })
    m = res.municipalities.set_index("ags")
    hd = m.loc["08221000"]  # Heidelberg
    assert "GTFS" in hd["walk_stop_source"] and ">= 20 departures on 2022-10-18" in hd["walk_stop_source"]
    assert 0 < hd["walk_share_stop"] <= 1
    fac = pd.read_csv(tmp_path / "walk_facilities.csv")
    stops = fac[fac["service"] == "stop"]
    assert (stops["source"] == "GTFS").all() and 50 < len(stops) < 131
    # the feed serves the walk extract, not the road region: the default public-transport
    # model is skipped with a note, the run goes on
    assert "another region" in res.summary


def test_river_barrier_north_bayreuth():
    from accessibility.io.osm_features import extract_features
    from accessibility.models.barriers import nearest_straight

    f = extract_features(shared("osm", "north-bayreuth.osm.gz"))
    water = f.water.to_crs("EPSG:3035").geometry.to_numpy()
    gaps = f.crossings.to_crs("EPSG:3035").geometry.to_numpy()
    river = f.water[f.water.geom_type.str.contains("Line")].to_crs("EPSG:3035").union_all()
    # a facility 150 m beside a bridge over the river, cells on both sides of it
    bridges = f.crossings.to_crs("EPSG:3035")
    bridge = bridges[bridges.intersects(river)].geometry.iloc[0]
    c = bridge.intersection(river)
    c = c if c.geom_type == "Point" else c.centroid
    fac = np.array([[c.x + 150, c.y]])
    gx, gy = np.meshgrid(np.arange(-900, 901, 100.0), np.arange(-900, 901, 100.0))
    cells = np.column_stack([c.x + gx.ravel(), c.y + gy.ravel()])
    free, _, _ = nearest_straight(cells, fac, None, None, max_distance_m=5000)
    blocked, _, bl = nearest_straight(cells, fac, water, gaps, max_distance_m=5000)
    ok = np.isfinite(blocked)
    assert (blocked[ok] >= free[ok] - 1e-6).all()  # barriers never shorten a distance
    assert bl.any() and (blocked[ok] > free[ok] + 1).any()  # some cells must go round
    # cells on the facility's side of the river keep the plain distance
    assert (blocked[ok & ~bl] == free[ok & ~bl]).all()


def test_walk_without_grid_uses_municipality_polygons_and_own_facilities(tmp_path):
    vg = shared("municipalities", "vg250_2016.gpkg")
    fac = tmp_path / "post.csv"
    fac.write_text("type,lon,lat\npost_office,8.712,50.003\n")
    from accessibility.pipeline import sample_dir

    d = sample_dir()
    cfg = tmp_path / "nogrid.toml"  # no population_grid key at all
    cfg.write_text(
        f'[inputs]\nosm = "{d / "hannover-braunschweig-main-roads.osm.pbf"}"\n'
        f'municipalities = "{d / "gemeinden.csv"}"\nwalk_osm = "{d / "dreieich.osm.gz"}"\n'
        f'central_places = "{d / "zentrale_orte.csv"}"\n'
        f'boundaries = "{vg}"\nfacilities = "{fac}"\n'
        '[graph]\nmax_snap_m = 5000.0\n[walk]\nmethods = ["straight"]\n[output]\nmaps = false\n')
    res = run(cfg, output_dir=tmp_path / "o")
    m = res.municipalities.set_index("ags")
    d = m.loc["06438002"]
    assert "municipality populations spread over their polygons" in res.summary
    assert d["walk_residents"] > 0 and 0 <= d["walk_share_post_office"] <= 1
    assert 0 <= d["walk_share_all"] <= 1  # the user's post office completes the six


def test_coverage_above_one_is_not_a_value():
    """Cells holding more residents than the municipality has were not its own (nearest
    point assignment without boundaries): no Nahversorgung value, and the run says so."""
    from accessibility import walkability as walk_api

    munis = pd.DataFrame({"ags": ["A", "B"], "name": ["a", "b"], "population": [100.0, 1000.0]})
    cells = pd.DataFrame({"population": [200.0, 100.0, 500.0], "ags": ["A", "A", "B"]})
    for s in SERVICES:
        for sfx in ("", "_net"):
            cells[f"dist_{s}{sfx}_m"] = [100.0, 2000.0, 300.0]
    out = walk_api(munis, cells).set_index("ags")
    assert out.loc["B", "walk_coverage"] == pytest.approx(0.5)  # 500 of 1,000
    assert out.loc["B", "walk_share_pharmacy"] == pytest.approx(1.0)
    # A: 300 residents in its cells for 100 inhabitants -> coverage 3 is not a value
    assert np.isnan(out.loc["A", "walk_coverage"]) and np.isnan(out.loc["A", "walk_share_all"])
    assert out.loc["A", "walk_residents"] == 300.0  # what was assigned stays visible
    assert any("more residents from the grid cells than they have" in line
               for line in out.attrs["report"])


@pytest.mark.parametrize("as_frame", [False, True])
def test_tiled_straight_reads_barriers_like_untiled(as_frame):
    """Barriers as a GeoSeries in EPSG:4326 or a GeoDataFrame: the tiled path must
    block the same cells as the untiled one (it ignored them, or failed)."""
    import geopandas as gpd
    import shapely

    from accessibility.api import walk_distances
    from accessibility.compute import LocalExecutor
    from accessibility.vocabulary import SERVICES

    to_ll = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
    xs = np.arange(0, 3000, 100.0)
    cells = pd.DataFrame({"x": 4_000_000 + xs, "y": 3_000_000.0, "population": 10,
                          "ags": "06438001"})
    lon, lat = to_ll.transform([4_001_500.0] * 6, [3_000_500.0] * 6)
    fac = pd.DataFrame({"service": list(SERVICES), "lon": lon, "lat": lat})
    river = shapely.LineString([(3_990_000, 3_000_250), (4_010_000, 3_000_250)])
    bar = (gpd.GeoDataFrame(geometry=[river], crs="EPSG:3035") if as_frame
           else gpd.GeoSeries([river], crs="EPSG:3035").to_crs("EPSG:4326"))
    a = walk_distances(cells, fac, methods=["straight"], barriers=bar)
    b = walk_distances(cells, fac, methods=["straight"], barriers=bar,
                       executor=LocalExecutor(), tile_size_m=1000)
    assert a["dist_pharmacy_m"].isna().sum() > 0  # the river blocks cells
    pd.testing.assert_series_equal(a["dist_pharmacy_m"], b["dist_pharmacy_m"])
    for bad in (0.0, -5.0, float("nan")):
        with pytest.raises(InputError, match="tile_size_m"):
            walk_distances(cells, fac, methods=["straight"], executor=LocalExecutor(),
                           tile_size_m=bad)


def test_long_bridges_do_not_hide_a_short_crossing_tiled_or_not():
    """16 long bridges near a cell (each too long to walk within the limit) and one
    short crossing: the cell reaches the pharmacy over the short one, in the whole
    area and in a tile alike (the long ones used to crowd the k nearest gaps out,
    differently in a tile that sees only facilities within 2 x the limit)."""
    import shapely

    from accessibility.api import walk_distances
    from accessibility.compute import LocalExecutor

    x0, y0 = 4_000_000.0, 3_000_000.0
    to_ll = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
    cells = pd.DataFrame({"x": [x0], "y": [y0], "population": [10], "ags": ["06438001"]})
    fxy = [(800.0, 450.0)]  # across the river, 918 m straight
    gaps = [shapely.Point(x0 + 700, y0 + 250)]  # the short crossing
    for x in np.arange(-640, 561, 80.0):  # 1.5 km bridges, a pharmacy beyond each
        gaps.append(shapely.LineString([(x0 + x, y0 + 200), (x0 + x, y0 + 1700)]))
        fxy.append((x, 2690.0))
    fx, fy = np.array(fxy).T
    lon, lat = to_ll.transform(x0 + fx, y0 + fy)
    fac = pd.DataFrame({"service": "pharmacy", "lon": lon, "lat": lat})
    river = [shapely.LineString([(x0 - 20000, y0 + 250), (x0 + 20000, y0 + 250)])]
    kw = dict(methods=["straight"], barriers=river, gaps=gaps, max_distance_m=1000,
              max_snap_m=500)
    a = walk_distances(cells, fac, **kw)["dist_pharmacy_m"].iloc[0]
    b = walk_distances(cells, fac, executor=LocalExecutor(), **kw)["dist_pharmacy_m"].iloc[0]
    # over the crossing at (700, 250): to it, then on to (800, 450)
    expect = np.hypot(700, 250) + np.hypot(100, 200)
    assert a == pytest.approx(expect, abs=1.0) and b == a
