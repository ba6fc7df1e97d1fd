"""Central places: hand-made graphs with known answers, the real sample, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import accessibility as acc
from accessibility._errors import InputError
from accessibility.graph import attach, build_graph, from_edges
from accessibility.io import read_central_places, read_municipalities
from accessibility.models.central_places import (
    central_place_access, class_shares, classify, join_central_places, make_origins,
    weighted_means,
)
from accessibility.pipeline import run

from .conftest import shared

# ------------------------------------------------------------------ hand-made graph
# Five nodes on a line of longitude, 0.01 deg apart. Edges (seconds):
#   A -> B 60, B -> A 600 (a one-way street the fast way, a detour back),
#   B -> C 120, C -> B 120, C -> D 300, D -> C 300, D -> E 60, E -> D 60.
LAT = 52.0 + 0.01 * np.arange(5)
LON = np.full(5, 10.0)
EDGES = [(0, 1, 60), (1, 0, 600), (1, 2, 120), (2, 1, 120), (2, 3, 300), (3, 2, 300),
         (3, 4, 60), (4, 3, 60)]


def line_graph():
    u, v, t = (np.array(x) for x in zip(*EDGES))
    return from_edges(u, v, t.astype(float), t * 10.0, np.zeros(len(u)), class_names=("road",),
                      osm_id=np.arange(5), lon=LON, lat=LAT)


def test_edge_test_flags_a_nearer_destination_beyond_the_network():
    """The edge test (models/nearest): a destination the network cannot reach,
    1.1 km south at the network's top speed of 10 m/s (36 km/h), is at least 1.85
    minutes away; it may be nearer than 5 minutes found, not than 1 minute, and a
    point that found no destination at all is flagged too."""
    from accessibility.models.nearest import beyond_network_nearer, straight_line_bound_min

    g = line_graph()
    lon, lat = np.full(3, LON[0]), np.full(3, LAT[0])
    south = LAT[0] - 0.01
    bound = straight_line_bound_min(g, lon, lat, np.array([LON[0]]), np.array([south]))
    np.testing.assert_allclose(bound, 1112.0 / 10.0 / 60.0, rtol=5e-3)
    got = beyond_network_nearer(g, lon, lat, np.array([np.nan, 5.0, 1.0]),
                                np.array([LON[0]]), np.array([south]))
    assert got.tolist() == [True, True, False]
    none = beyond_network_nearer(g, lon, lat, np.array([np.nan, 5.0, 1.0]),
                                 np.array([]), np.array([]))
    assert not none.any()  # nothing beyond: nothing to flag


def munis_on_nodes(functions):
    return pd.DataFrame({
        "ags": [f"0310100{i}" for i in range(5)], "name": list("ABCDE"), "lon": LON, "lat": LAT,
        "central_place": functions, "population": [100.0, 200, 300, 400, 500],
        "area_km2": [1.0, 2, 3, 4, 5], "gvb": ["031010000"] * 5, "kreis": ["03101"] * 5,
        "land": ["03"] * 5,
    })


def model(graph, munis, *, max_snap_m=2000.0, access_speed_kmh=15.0, **kw):
    """Attach, then run the model: (result, report lines)."""
    out = central_place_access(graph, attach(graph, munis, max_snap_m=max_snap_m,
                                             access_speed_kmh=access_speed_kmh), **kw)
    return out, out.attrs["report"]


def test_known_times_and_one_way_direction():
    # OZ at A, MZ at E. From B to A: 600 s (one-way the other way); from A to B 60 s.
    m = munis_on_nodes(["Oberzentrum", "keine", "keine", "keine", "Mittelzentrum"])
    out, rep = model(line_graph(), m, max_snap_m=10, access_speed_kmh=15)
    t_oz = out["t_oz_min"].to_numpy() * 60
    np.testing.assert_allclose(t_oz, [0, 600, 720, 1020, 1080], atol=1e-6)
    t_mz = out["t_mz_min"].to_numpy() * 60  # nearest of A (OZ counts as MZ) and E
    np.testing.assert_allclose(t_mz, [0, 480, 360, 60, 0], atol=1e-6)
    assert list(out["nearest_mz_name"]) == ["A", "E", "E", "E", "E"]
    assert list(out["nearest_oz_name"]) == ["A"] * 5
    assert list(out["oz_class"]) == ["0 (is OZ)", "< 15 min", "< 15 min", "15-30 min", "15-30 min"]
    assert list(out["mz_class"]) == ["0 (is MZ/OZ)", "7.5-15 min", "< 7.5 min", "< 7.5 min",
                                     "0 (is MZ/OZ)"]


def test_ties_are_deterministic():
    # B and D are both OZ; C is 120 s from B and 300 s from D; make C->D 120 too: a tie.
    edges = [e if e[:2] != (2, 3) else (2, 3, 120) for e in EDGES]
    u, v, t = (np.array(x) for x in zip(*edges))
    g = from_edges(u, v, t.astype(float), t * 10.0, np.zeros(len(u)), class_names=("road",),
                   osm_id=np.arange(5), lon=LON, lat=LAT)
    m = munis_on_nodes(["keine", "Oberzentrum", "keine", "Oberzentrum", "keine"])
    for _ in range(3):
        out, _ = model(g, m, max_snap_m=10)
        assert out.loc[2, "t_oz_min"] == pytest.approx(2.0)
        assert out.loc[2, "nearest_oz_name"] == "B"  # the first OZ in the table wins a tie


def test_access_legs_are_added():
    m = munis_on_nodes(["Oberzentrum", "keine", "keine", "keine", "Mittelzentrum"])
    m.loc[1, "lon"] += 0.001  # ~68.6 m east of node B
    out, _ = model(line_graph(), m, max_snap_m=500, access_speed_kmh=3.6)
    leg = out.loc[1, "snap_m"]
    assert 60 < leg < 80
    assert out.loc[1, "t_oz_min"] * 60 == pytest.approx(600 + leg, rel=1e-6)


def test_unreachable_and_off_network_get_reason_not_number():
    m = munis_on_nodes(["Oberzentrum", "keine", "keine", "keine", "keine"])
    m.loc[4, "lat"] = 54.5  # in the North Sea, far from the graph
    g = line_graph()
    out, rep = model(g, m, max_snap_m=1000)
    assert np.isnan(out.loc[4, "t_oz_min"]) and "outside the network" in out.loc[4, "reason"]
    assert pd.isna(out.loc[4, "oz_class"])
    # a graph where D, E cannot reach A: cut C -> B
    edges = [e for e in EDGES if e[:2] != (2, 1)]
    u, v, t = (np.array(x) for x in zip(*edges))
    g2 = from_edges(u, v, t.astype(float), t * 10.0, np.zeros(len(u)), class_names=("road",),
                    osm_id=np.arange(5), lon=LON, lat=LAT)
    out2, rep2 = model(g2, munis_on_nodes(["Oberzentrum"] + ["keine"] * 4), max_snap_m=10)
    assert out2["t_oz_min"].isna().tolist() == [False, False, True, True, True]
    assert "no Oberzentrum reachable" in out2.loc[3, "reason"]
    assert "No value (see column reason): 3 municipalities for MZ, 3 for OZ (in the region)." in rep2


def test_weighted_means_and_shares():
    m = munis_on_nodes(["Oberzentrum", "keine", "keine", "keine", "Mittelzentrum"])
    out, _ = model(line_graph(), m, max_snap_m=10)
    agg = weighted_means(out, None, ["t_oz_min"]).iloc[0]
    t = out["t_oz_min"].to_numpy()
    assert agg["t_oz_min_area_w"] == pytest.approx(np.average(t, weights=[1, 2, 3, 4, 5]))
    assert agg["t_oz_min_pop_w"] == pytest.approx(np.average(t, weights=[100, 200, 300, 400, 500]))
    sh = class_shares(out, "oz").set_index("class")
    assert sh["municipalities"].sum() == 5
    assert sh.loc["15-30 min", "share_population"] == pytest.approx(900 / 1500)


def test_no_oberzentrum_in_input_gives_reason_not_error():
    out, rep = model(line_graph(), munis_on_nodes(["Mittelzentrum"] + ["keine"] * 4),
                                    max_snap_m=10)
    assert out["t_oz_min"].isna().all() and out["t_mz_min"].notna().all()
    assert "no Oberzentrum in the central-place input" in out.loc[2, "reason"]
    assert any("has no Oberzentrum" in line for line in rep)


def test_central_place_off_network_keeps_zero_minutes():
    m = munis_on_nodes(["Oberzentrum", "keine", "keine", "keine", "Oberzentrum"])
    m.loc[4, "lat"] = 54.5  # the second OZ lies in the sea, off the network
    out, rep = model(line_graph(), m, max_snap_m=1000)
    assert out.loc[4, "t_oz_min"] == 0 and out.loc[4, "oz_class"] == "0 (is OZ)"
    assert out.loc[3, "nearest_oz_name"] == "A"  # nobody is routed to the unreachable one
    assert any("1 Oberzentren of the region lie off the network" in line for line in rep)


def test_classify_bounds():
    lab = classify(np.array([0.0, 7.49, 7.5, 14.99, 15.0, np.nan]), np.array([1, 0, 0, 0, 0, 0], bool), "mz")
    assert list(lab) == ["0 (is MZ/OZ)", "< 7.5 min", "7.5-15 min", "7.5-15 min", ">= 15 min", None]


# ----------------------------------------------------------------------- bad input
def test_bad_input_messages():
    g = line_graph()
    m = munis_on_nodes(["Oberzentrum", "keine", "keine", "keine", "keine"])
    with pytest.raises(InputError, match="duplicated AGS"):
        model(g, pd.concat([m, m.iloc[[1]]]))
    with pytest.raises(InputError, match="no Oberzentrum or Mittelzentrum"):
        model(g, munis_on_nodes(["Grundzentrum"] + ["keine"] * 4))
    with pytest.raises(InputError, match="lacks columns"):
        model(g, m.drop(columns="central_place"))
    with pytest.raises(InputError, match="not attached to the network"):
        central_place_access(g, m)  # the model never snaps on its own
    with pytest.raises(InputError, match="unknown origins"):
        make_origins(m, "centroid")
    with pytest.raises(InputError, match="population grid"):
        make_origins(m, "population")
    with pytest.raises(InputError, match="polygons"):
        make_origins(m, "area")
    with pytest.raises(InputError, match="unknown origins"):
        acc.central_places(g, m, m, origins="centroid")
    with pytest.raises(InputError, match="not a central-place function"):
        acc.central_places(g, m, pd.DataFrame({"ags": m["ags"], "zo_funktion": ["Hauptstadt"] * 5}))


def test_unknown_ags_in_table_is_reported():
    m = read_municipalities(shared("municipalities", "gemeinden_2019_destatis.csv"))
    table = read_central_places(shared("central_places", "zentrale_orte_2024.csv"))
    table = pd.concat([table, pd.DataFrame({"ags": ["09999999"], "central_place": ["Mittelzentrum"]})])
    _, rep = join_central_places(m, table)
    assert "09999999" in rep.unknown_ags
    assert any("09999999" in line for line in rep.lines())


# ------------------------------------------------------------------ the real sample
@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return run(output_dir=out)


def test_sample_run_outputs(sample_run):
    out = sample_run.output_dir
    for f in ("municipalities.gpkg", "municipalities.csv", "municipalities.parquet", "gvb.csv",
              "kreis.csv", "land.csv", "summary.md", "map_oz_time.png", "map_mz_catchments.png"):
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    csv = pd.read_csv(out / "municipalities.csv", dtype={"ags": str, "nearest_oz_ags": str})
    for col in ("ags", "name", "gvb", "population", "central_place", "t_mz_min", "t_oz_min",
                "nearest_mz_ags", "nearest_oz_ags", "mz_class", "oz_class", "snap_m"):
        assert col in csv.columns, col
    import geopandas as gpd
    gpkg = gpd.read_file(out / "municipalities.gpkg", layer="municipalities")
    # the region only: the sample's 282 municipalities minus those outside both extracts
    n_region = int(sample_run.municipalities["in_region"].sum())
    assert len(gpkg) == len(csv) == n_region and 200 < n_region < 282
    summary = (out / "summary.md").read_text()
    assert "Time to the nearest Oberzentrum" in summary and "30-60 min" in summary
    assert not list(out.glob(".*tmp*"))
    # the HTML map: one layer per indicator with values, every written row a feature
    html = (out / "map.html").read_text()
    # the Lage layer only where a class is known (exact potentials, issue 23)
    lage = ("Lage",) if csv["lage"].notna().any() else ()
    for name in ("chsten Mittelzentrum", "chsten Oberzentrum", *lage, "Gemeindetyp"):
        assert name in html
    # MZ, OZ, (Lage,) settlement type (walk: no post office)
    assert html.count('"_color"') == (3 + len(lage)) * len(csv)
    assert "Zensus 2022" in html


def test_sample_values_are_plausible(sample_run):
    m = sample_run.municipalities.set_index("name")
    on = m[m["reason"].isna()]
    cp = on[on["central_place"].isin(["Oberzentrum", "Mittelzentrum"])]
    assert (cp["t_mz_min"] == 0).all() and len(cp) >= 20
    assert (on.loc[on["central_place"] == "Oberzentrum", "t_oz_min"] == 0).all()
    assert on["t_oz_min"].notna().all() and (on["t_oz_min"] < 90).all()
    assert m.loc["Wolfenbüttel, Stadt", "nearest_oz_name"] == "Braunschweig, Stadt"
    assert 5 < m.loc["Wolfenbüttel, Stadt", "t_oz_min"] < 25


def test_hannover_to_braunschweig_35_to_55_minutes():
    munis = read_municipalities(shared("municipalities", "gemeinden_2019_destatis.csv"),
                                bbox=(9.23, 51.89, 11.10, 52.84))
    zo = read_central_places(shared("central_places", "zentrale_orte_2024.csv"))
    j, _ = join_central_places(munis, zo)
    g = build_graph(shared("osm", "hannover-braunschweig-main-roads.osm.pbf"),
                    keep_points=(j["lon"].to_numpy(), j["lat"].to_numpy()))
    # only Braunschweig is an OZ: Hannover's time to the nearest OZ is Hannover -> Braunschweig
    j["central_place"] = np.where(j["ags"] == "03101000", "Oberzentrum", "keine")
    out, _ = model(g, j, max_snap_m=5000, access_speed_kmh=30)
    t = out.set_index("ags").loc["03241001", "t_oz_min"]  # Region Hannover: Hannover
    assert 35 <= t <= 55


def test_population_and_area_origins_on_sample():
    munis = read_municipalities(shared("municipalities", "gemeinden_2019_destatis.csv"),
                                bbox=(10.3, 52.0, 10.8, 52.4))
    j, _ = join_central_places(munis, read_central_places(shared("central_places", "zentrale_orte_2024.csv")))
    g = build_graph(shared("osm", "hannover-braunschweig-main-roads.osm.pbf"),
                    keep_points=(j["lon"].to_numpy(), j["lat"].to_numpy()))
    from accessibility.io import read_population_grid
    grid = read_population_grid(shared("population", "zensus2022_1km_einwohner.parquet"),
                                bbox=(10.2, 51.9, 10.9, 52.5))
    polys = read_municipalities(shared("municipalities", "vg250_2016.gpkg"), layer="gemeinden",
                                bbox=(10.3, 52.0, 10.8, 52.4))
    pt = acc.central_places(g, j, j, max_snap_m=5000)
    pop = acc.central_places(g, j, j, origins="population", population_grid=grid,
                             max_snap_m=5000)
    area = acc.central_places(g, j, j, origins="area", polygons=polys, area_grid_m=1000,
                              max_snap_m=5000)
    for r in (pop, area):
        both = pt["t_oz_min"].notna() & r["t_oz_min"].notna()
        assert both.sum() > 20
        # different origins, same region: the means agree within a few minutes
        assert abs(r.loc[both, "t_oz_min"].mean() - pt.loc[both, "t_oz_min"].mean()) < 6
        assert (r.loc[r["central_place"] == "Oberzentrum", "t_oz_min"] == 0).all()
    assert (pop["n_origins"] > 1).sum() > 10 and (area["n_origins"] > 1).sum() > 10
    assert set(area["origin_method"]) == {"area"}


def test_failed_run_leaves_no_half_written_file(tmp_path, monkeypatch):
    import accessibility.pipeline.stages as stages

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(stages, "map_values", boom)
    with pytest.raises(RuntimeError):
        run(output_dir=tmp_path)
    assert not list(tmp_path.glob(".*tmp*"))
    assert not (tmp_path / "summary.md").exists()


def test_atomic_writer_failure_mid_write(tmp_path, monkeypatch):
    import geopandas as gpd

    def fail(self, path, *a, **k):
        open(path, "wb").write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", fail)
    with pytest.raises(OSError):
        run(output_dir=tmp_path)
    assert not (tmp_path / "municipalities.gpkg").exists()
    assert not list(tmp_path.glob(".*tmp*"))


def test_region_and_edge_flags_on_a_line():
    """An Oberzentrum F beyond the end of the road extract: it gets no value (not 0),
    and municipalities for which F might be nearer than the one found are flagged."""
    from pyproj import Geod

    from accessibility.models.municipalities import mark_region

    g = line_graph()  # speeds: length = 10 x time, so 10 m/s everywhere
    m = munis_on_nodes(["Oberzentrum", "keine", "keine", "keine", "keine"])
    f = pd.DataFrame({"ags": ["03101009"], "name": ["F"], "lon": [10.0], "lat": [52.10],
                      "central_place": ["Oberzentrum"], "population": [1000.0],
                      "area_km2": [1.0], "gvb": ["031010000"], "kreis": ["03101"],
                      "land": ["03"]})
    m = mark_region(g, attach(g, pd.concat([m, f], ignore_index=True), max_snap_m=10))
    assert m["in_region"].tolist() == [True] * 5 + [False]
    out = central_place_access(g, m)
    assert np.isnan(out.loc[5, "t_oz_min"]) and pd.isna(out.loc[5, "oz_class"])
    assert "outside the region" in out.loc[5, "reason"]
    # the flag: straight line to F at the top speed (10 m/s) shorter than the time found
    d = Geod(ellps="GRS80").inv(LON, LAT, np.full(5, 10.0), np.full(5, 52.10))[2]
    t = np.array([0, 600, 720, 1020, 1080])
    expect = (d / 10.0 < t) & (np.arange(5) > 0)
    assert expect.tolist() == [False, False, False, True, True]  # margins > 10 %
    assert out["oz_edge_flag"].tolist()[:5] == expect.tolist()
    assert not out.loc[5, "oz_edge_flag"]
