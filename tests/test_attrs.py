"""No value travels in ``DataFrame.attrs`` (issue 22): pandas drops it in merges,
concatenation and files, so a value carried there silently disappears. Only the
human-readable lines (``.attrs["report"]``) may be there; every value that used to be
an attribute survives what used to lose it."""

from __future__ import annotations

import dataclasses
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

import accessibility as acc
from accessibility.api._common import attached
from accessibility.graph import attach, attach_settings, from_edges
from accessibility.models.central_places import central_place_access, make_origins
from accessibility.models.population_grid import disaggregate
from accessibility.models.walkability import resident_cells, walkability
from accessibility.vocabulary import SERVICES

DATA = files("accessibility") / "data"
LAT = 52.0 + 0.01 * np.arange(3)


def line_graph():
    """Three nodes 0.01 degrees (1.1 km) apart, north of each other, 60 s per edge."""
    return from_edges(np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1]), np.full(4, 60.0),
                      np.full(4, 1100.0), np.zeros(4), class_names=("road",),
                      osm_id=np.arange(3), lon=np.full(3, 10.0), lat=LAT)


def munis_table():
    # the third point lies ~70 m east of node 2: on the network only with a limit > 70 m
    return pd.DataFrame({"ags": ["01000001", "01000002", "01000003"],
                         "name": ["OZ", "B", "C"], "lon": [10.0, 10.0, 10.001],
                         "lat": list(LAT), "population": [1000.0, 500.0, 200.0],
                         "central_place": ["Oberzentrum", "keine", "keine"]})


def round_trips(table: pd.DataFrame, tmp_path) -> dict[str, pd.DataFrame]:
    """``table`` after each operation that drops ``DataFrame.attrs``."""
    extra = pd.DataFrame({"ags": table["ags"], "extra": 1})
    path = tmp_path / "t.parquet"
    table.drop(columns="node").to_parquet(path)  # nullable Int64 aside: plain columns
    back = pd.read_parquet(path).assign(node=table["node"])
    return {"merge": table.merge(extra, on="ags"),
            "concat": pd.concat([table.iloc[:1], table.iloc[1:]]),
            "parquet": back}


# ------------------------------------------------------------------ the rule, on the sample
@pytest.fixture(scope="module")
def sample_results(tmp_path_factory):
    """Every public API result on the embedded sample (as the README's example)."""
    cache = tmp_path_factory.mktemp("cache")
    munis = acc.read_municipalities(DATA / "gemeinden.csv")
    g = acc.build_graph(DATA / "hannover-braunschweig-main-roads.osm.pbf", cache_dir=cache,
                        keep_points=(munis["lon"], munis["lat"]))
    grid = acc.read_population_grid(DATA / "zensus2022_1km_sample.parquet")
    out = {"read_municipalities": munis, "read_population_grid": grid}
    out["attach"] = munis = acc.attach(g, munis, max_snap_m=5000)
    out["central_places"] = cp = acc.central_places(g, munis, DATA / "zentrale_orte.csv",
                                                    origins="population",
                                                    population_grid=grid)
    out["lage"] = lage = acc.lage(g, cp)
    out.update({f"lage_tables {k}": v for k, v in acc.api.lage_tables(lage).items()})
    out["settlement_types"] = acc.settlement_types(cp)
    out["time_matrix"] = acc.time_matrix(g, cp, limit_min=30)
    oz = cp[cp["central_place"] == "Oberzentrum"]
    out["isochrones"] = acc.isochrones(g, oz, minutes=(15,))
    out["plan"] = acc.plan(g, cp, k=1)
    out["calibrate_lage"] = acc.calibrate_lage(g, cp, target_mean=183_000)
    out["collect_destinations"] = dest = acc.collect_destinations(
        osm=DATA / "hannover-braunschweig-main-roads.osm.pbf")  # the shipped DB stations
    out["facility_times"] = acc.facility_times(g, cp, dest)
    walk = acc.prepare_nahversorgung(DATA / "dreieich.osm.gz", munis, population_grid=grid,
                                     cache_dir=cache)
    out["nahversorgung"] = acc.nahversorgung(walk, munis)
    sc = tmp_path_factory.mktemp("scenario") / "s.toml"
    sc.write_text('name = "A39 closed"\n[roads]\nclosed_classes = ["motorway"]\n'
                  'closed_areas = [[[10.45, 52.18], [10.55, 52.18], [10.55, 52.24], '
                  '[10.45, 52.24]]]\n')
    out["scenario"] = acc.scenario(g, cp, DATA / "zentrale_orte.csv", sc, lage=False)
    return out


def frames(value):
    """The tables of a result: itself, or the tables of a result dataclass."""
    if isinstance(value, pd.DataFrame):
        yield value
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from frames(getattr(value, f.name))


def test_public_results_carry_only_the_report_in_attrs(sample_results):
    seen = 0
    for name, result in sample_results.items():
        for table in frames(result):
            seen += 1
            assert set(table.attrs) <= {"report"}, (name, sorted(table.attrs))
    assert seen >= len(sample_results)
    assert sample_results["scenario"].road_changes["edges_closed"] > 0


def test_attach_settings_travel_with_the_sample(sample_results):
    munis = sample_results["attach"]
    assert attach_settings(munis)["max_snap_m"] == 5000.0
    cp = sample_results["central_places"]
    assert attach_settings(cp)["max_snap_m"] == 5000.0  # through the join and the model
    # per municipality: its cells, or its reference point where it has no populated cell
    method, n = cp["origin_method"], cp["n_origins"].astype("Float64")
    assert set(method) == {"population", "point"}
    assert (method[n > 1] == "population").all() and not (n[method == "point"] > 1).any()


# ------------------------------------------------------------------ attach settings
def test_attach_settings_survive_merge_concat_and_files(tmp_path):
    g = line_graph()
    m = attach(g, munis_table(), max_snap_m=50.0, access_speed_kmh=7.2)
    assert m["on_network"].tolist() == [True, True, False]  # C is 70 m off: beyond 50 m
    for how, t in round_trips(m, tmp_path).items():
        assert attach_settings(t) == {"max_snap_m": 50.0, "access_speed_kmh": 7.2}, how
        # a later step given one setting takes the other from the table, not the
        # default (5 km would put C on the network)
        again = attached(g, t, None, 3.6)
        assert again["on_network"].tolist() == [True, True, False], how
        assert (again["access_speed_kmh"] == 3.6).all()
        # and the off-network reason still names the limit
        out = central_place_access(g, t)
        assert "farther than 50 m" in out.loc[out["ags"] == "01000003", "reason"].iloc[0]
    # rows attached apart with other settings give no single setting
    mixed = pd.concat([m, attach(g, munis_table(), max_snap_m=80.0, access_speed_kmh=7.2)])
    assert attach_settings(mixed) == {"access_speed_kmh": 7.2}


def test_given_settings_win_over_the_attach_settings():
    g = line_graph()
    m = attach(g, munis_table(), max_snap_m=50.0, access_speed_kmh=7.2)
    wide = attached(g, m, 100.0, None)
    assert wide["on_network"].tolist() == [True, True, True]
    assert attach_settings(wide) == {"max_snap_m": 100.0, "access_speed_kmh": 7.2}
    assert attached(g, m, None, None) is m  # attached, nothing given: as it is


# ------------------------------------------------------------------ origins
def test_origin_method_survives_merge_concat_and_files(tmp_path):
    g = line_graph()
    m = attach(g, munis_table(), max_snap_m=100.0)
    org = attach(g, make_origins(m, "point"), max_snap_m=100.0)
    for how, t in round_trips(org, tmp_path).items():
        out = central_place_access(g, m, origins=t)
        assert (out["origin_method"] == "point").all(), how
    unnamed = central_place_access(g, m, origins=org.drop(columns="origin_method"))
    assert (unnamed["origin_method"] == "custom").all()


# ------------------------------------------------------------------ population grid
def test_cell_size_survives_a_file_round_trip(tmp_path):
    # two 1 km cells 3 km apart: their spacing alone says 3 km
    p = tmp_path / "grid.csv"
    p.write_text("x_mp_1km;y_mp_1km;Einwohner\n4321500;3256500;100\n4324500;3256500;50\n")
    grid = acc.read_population_grid(p)
    assert grid["cell_size_m"].tolist() == [1000.0, 1000.0]
    grid.to_parquet(tmp_path / "grid.parquet")
    back = pd.read_parquet(tmp_path / "grid.parquet")
    cells = disaggregate(back)  # uniform: 100 sub-cells of 100 m per 1 km cell
    assert len(cells) == 200 and (cells["cell_size_m"] == 100.0).all()
    assert cells.groupby("source")["population"].sum().tolist() == pytest.approx([100, 50])
    assert len(disaggregate(back.drop(columns="cell_size_m"))) == 1800  # 3 km cells


# ------------------------------------------------------------------ walk cells
def test_walk_cells_say_where_their_residents_come_from(tmp_path):
    import geopandas as gpd
    import shapely

    grid = pd.DataFrame({"x": [4321050.0, 4321150.0], "y": [3256550.0] * 2,
                         "population": [10.0, 20.0], "cell_size_m": 100.0})
    munis = pd.DataFrame({"ags": ["01000001"], "lon": [10.0], "lat": [52.0],
                          "population": [30.0]})
    cells = resident_cells(shapely.box(4321000, 3256500, 4321200, 3256600), grid=grid,
                           municipalities=munis)
    cells.to_parquet(tmp_path / "cells.parquet")
    back = pd.read_parquet(tmp_path / "cells.parquet")
    assert (back["population_source"] == "population grid (100 m)").all()
    assert (back["assigned_by"] == "nearest point").all()
    assert isinstance(cells, pd.DataFrame) and not isinstance(cells, gpd.GeoDataFrame)


def test_walk_methods_from_the_columns_and_absent_services_given():
    cells = pd.DataFrame({"ags": ["01000001"] * 2, "population": [10.0, 30.0]})
    for sfx, d in (("_net", [400.0, 2000.0]), ("", [300.0, 900.0])):  # network first
        for s in SERVICES:
            cells[f"dist_{s}{sfx}_m"] = d if s != "gp" else [np.nan, np.nan]
    per = walkability(cells)
    shares = [c for c in per.columns if c.startswith("walk_share_")]
    assert shares[0] == "walk_share_pharmacy_net"  # the cells' order of methods
    assert per["walk_share_pharmacy_net"].iloc[0] == pytest.approx(10 / 40)
    assert per["walk_share_gp"].iloc[0] == 0.0  # no gp within reach: nobody served
    munis = pd.DataFrame({"ags": ["01000001"], "population": [40.0]})
    fac = pd.DataFrame({"service": [s for s in SERVICES if s != "gp"]})
    res = acc.walkability(munis, cells, facilities=fac)
    assert np.isnan(res["walk_share_gp"].iloc[0])  # no gp at all: no data, not 0 %
    assert np.isnan(res["walk_share_all"].iloc[0])
    assert res["walk_share_pharmacy"].iloc[0] == 1.0
