"""The report's further indicators (issue 12): car time to motorway junctions,
long-distance stations and airports; public-transport departures per 1,000 residents;
commuter balance and residents per job. Hand-made graphs, feeds and tables with known
answers, a check against scipy's Dijkstra, and the shared data."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings, strategies as st
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from accessibility import api
from accessibility._errors import InputError
from accessibility.graph import attach, from_edges
from accessibility.io import (read_airports, read_commuters, read_destinations,
                              read_long_distance_stations, read_motorway_junctions)
from accessibility.io.gtfs import (long_distance_routes, long_distance_stations, read_gtfs,
                                   route_mode, stop_departures_by_mode)
from accessibility.models.indicators import (COLUMNS, DESTINATION_KINDS, classify_minutes,
                                             commuter_indicators, departures_per_1000,
                                             facility_access, unit_indicators)
from accessibility.models.municipalities import mark_region
from accessibility.vocabulary import COLUMNS as VOCABULARY

from .conftest import shared

# ------------------------------------------------------------------ hand-made line graph
# Five nodes on a meridian, 0.01 deg (1.11 km) apart: A B C D E. Edges (seconds):
#   A -> B 60, B -> A 600 (the way back is a detour), B -> C 120, C -> B 120,
#   C -> D 300, D -> C 300, D -> E 60, E -> D 60. Lengths 10 m per second: 10 m/s.
LAT = 52.0 + 0.01 * np.arange(5)
LON = np.full(5, 10.0)
EDGES = [(0, 1, 60), (1, 0, 600), (1, 2, 120), (2, 1, 120), (2, 3, 300), (3, 2, 300),
         (3, 4, 60), (4, 3, 60)]


def line_graph(edges=EDGES):
    u, v, t = (np.array(x) for x in zip(*edges))
    return from_edges(u, v, t.astype(float), t * 10.0, np.zeros(len(u)), class_names=("road",),
                      osm_id=np.arange(5), lon=LON, lat=LAT)


def munis_on_line(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"ags": [f"0310100{i}" for i in range(n)], "name": list("ABCDE")[:n],
                         "lon": LON[:n], "lat": LAT[:n], "population": [100.0] * n,
                         "area_km2": [1.0] * n, "gvb": ["031010000"] * n})


def dest_table(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["kind", "id", "name", "lon", "lat"])


def run_model(graph, munis, dest, *, max_snap_m=10.0, speed=3.6, **kw):
    m = attach(graph, munis, max_snap_m=max_snap_m, access_speed_kmh=speed)
    d = attach(graph, dest, max_snap_m=max_snap_m, access_speed_kmh=speed, id_column="id")
    return facility_access(graph, m, d, **kw)


def test_junction_two_edges_away_time_from_the_town():
    # the junction sits at C; from A: A -> B -> C = 60 + 120 s = 3 min (towards the
    # junction; the way from C back to A would be 120 + 600 s = 12 min)
    dest = dest_table([("motorway", "J1", "Testhausen (7)", LON[2], LAT[2])])
    out = run_model(line_graph(), munis_on_line(), dest)
    np.testing.assert_allclose(out["t_motorway_min"], [3.0, 2.0, 0.0, 5.0, 6.0])
    assert out["nearest_motorway_id"].tolist() == ["J1"] * 5
    assert out["nearest_motorway_name"].tolist() == ["Testhausen (7)"] * 5
    assert out["motorway_class"].tolist() == ["< 10 min"] * 5
    assert out["motorway_class_code"].tolist() == [0] * 5
    assert out["motorway_class_code"].dtype == "Int64"
    assert not out["motorway_edge_flag"].any() and out["facility_reason"].isna().all()
    assert "t_ldrail_min" not in out.columns  # only the kinds in the table


def test_nearest_of_several_kinds_and_access_legs():
    # an airport 100 m east of E (access leg 100 m at 3.6 km/h = 100 s) and one at A;
    # a station at D; the town B sits 50 m east of its node (50 s)
    d_lon = 100.0 / (111_320.0 * np.cos(np.radians(LAT[4])))
    dest = dest_table([("airport", "XXE", "E-port", LON[4] + d_lon, LAT[4]),
                       ("airport", "XXA", "A-port", LON[0], LAT[0]),
                       ("ldrail", "S", "Station D", LON[3], LAT[3])])
    m = munis_on_line()
    m.loc[1, "lon"] += 50.0 / (111_320.0 * np.cos(np.radians(LAT[1])))
    out = run_model(line_graph(), m, dest, max_snap_m=200.0)
    leg_e = attach(line_graph(), dest.iloc[[0]], max_snap_m=200.0, access_speed_kmh=3.6,
                   id_column="id")["access_s"].iloc[0]
    leg_b = out.loc[1, "access_s"]
    assert 95 < leg_e < 105 and 45 < leg_b < 55
    # B: to A 600 s (+ B's leg) against to E 120 + 300 + 60 + leg_e: E-port is nearer
    t_b = min(600.0, 480.0 + leg_e) + leg_b
    assert out.loc[1, "t_airport_min"] * 60 == pytest.approx(t_b, rel=1e-9)
    assert out.loc[1, "nearest_airport_id"] == "XXE"
    assert out.loc[0, "t_airport_min"] == 0.0 and out.loc[0, "nearest_airport_id"] == "XXA"
    np.testing.assert_allclose(out["t_ldrail_min"] * 60,
                               [480.0, 420.0 + leg_b, 300.0, 0.0, 60.0], rtol=1e-9)
    assert list(out.columns[-1:]) == ["facility_reason"]
    assert out.attrs["report"][0].startswith("5 municipalities")


def test_off_network_outside_region_and_unreachable_get_reasons_not_numbers():
    g = line_graph([e for e in EDGES if e[:2] != (2, 1)])  # C cannot go back to B
    m = munis_on_line()
    far = pd.DataFrame({"ags": ["03101009"], "name": ["F"], "lon": [10.0], "lat": [52.2],
                        "population": [1.0], "area_km2": [1.0], "gvb": ["031010000"]})
    m = pd.concat([m, far], ignore_index=True)
    m = mark_region(g, attach(g, m, max_snap_m=500.0, access_speed_kmh=3.6))
    assert m["in_region"].tolist() == [True] * 5 + [False]
    # E: in the region, but its point lies beyond max_snap_m of the roads
    m.loc[4, ["node", "snap_m", "access_s", "on_network"]] = [pd.NA, 1400.0, np.nan, False]
    dest = attach(g, dest_table([("motorway", "J", "J", LON[0], LAT[0])]), max_snap_m=500.0,
                  access_speed_kmh=3.6, id_column="id")
    out = facility_access(g, m, dest)
    t = out["t_motorway_min"].to_numpy()
    assert t[0] == 0.0 and t[1] == 10.0 and np.isnan(t[2:]).all()
    r = out["facility_reason"].tolist()
    assert pd.isna(r[0]) and pd.isna(r[1])
    assert "motorway: no motorway junction (Autobahnanschlussstelle) reachable" in r[2]
    assert "outside the network extent (farther than 500 m" in r[4]
    assert "outside the region" in r[5]
    assert out["nearest_motorway_id"].isna().tolist() == [False, False, True, True, True, True]
    assert out["motorway_class"].tolist()[:2] == ["< 10 min", "10-20 min"]
    assert pd.isna(out.loc[2, "motorway_class"])
    assert pd.isna(out.loc[2, "motorway_class_code"])


def test_edge_flag_for_a_destination_beyond_the_network():
    """An airport F north of E beyond the extract: municipalities for which its
    straight-line distance at the top speed (10 m/s) takes less than the time found to
    the airport at A are flagged."""
    from pyproj import Geod

    dest = dest_table([("airport", "A", "A", LON[0], LAT[0]),
                       ("airport", "F", "F", 10.0, 52.10)])
    out = run_model(line_graph(), munis_on_line(), dest)
    d = Geod(ellps="GRS80").inv(LON, LAT, np.full(5, 10.0), np.full(5, 52.10))[2]
    t = np.array([0, 600, 720, 1020, 1080])
    np.testing.assert_allclose(out["t_airport_min"] * 60, t)
    expect = d / 10.0 < t
    assert expect.tolist() == [False, False, False, True, True]  # margins > 10 %
    assert out["airport_edge_flag"].tolist() == expect.tolist()
    assert "1 destinations off the network" in " ".join(out.attrs["report"])


def test_a_kind_without_destinations_gets_empty_columns_and_a_reason():
    dest = dest_table([("motorway", "J", "J", LON[2], LAT[2])])
    out = run_model(line_graph(), munis_on_line(), dest, kinds=["motorway", "airport"])
    assert out["t_airport_min"].isna().all() and out["airport_edge_flag"].eq(False).all()
    assert out["facility_reason"].str.contains("no international airport").all()
    with pytest.raises(InputError, match="unknown destination kinds"):
        run_model(line_graph(), munis_on_line(), dest, kinds=["harbour"])


def random_graph(seed: int, n: int):
    rng = np.random.default_rng(seed)
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, (4 * n, 2)) if a != b}
    u, v = (np.array(x) for x in zip(*sorted(pairs)))
    t = rng.integers(1, 600, u.size).astype(float)
    lon = 10.0 + rng.random(n) * 0.3
    lat = 52.0 + rng.random(n) * 0.3
    g = from_edges(u, v, t, t * 10.0, np.zeros(u.size), class_names=("road",),
                   osm_id=np.arange(n), lon=lon, lat=lat)
    return g, csr_array((t, (u, v)), shape=(n, n))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(5, 40), k=st.integers(1, 4))
def test_nearest_times_match_scipy_dijkstra(seed, n, k):
    g, matrix = random_graph(seed, n)
    rng = np.random.default_rng(seed + 1)
    dest_nodes = rng.choice(n, size=min(k, n), replace=False)
    town_nodes = np.arange(n)
    munis = pd.DataFrame({"ags": [f"03{i:06d}" for i in town_nodes], "name": "x",
                          "lon": g.lon[town_nodes], "lat": g.lat[town_nodes]})
    dest = dest_table([("ldrail", f"s{j}", f"S{j}", g.lon[j], g.lat[j]) for j in dest_nodes])
    out = run_model(g, munis, dest, max_snap_m=1.0)
    # independent: time from every town node to every destination node, directed
    dist = dijkstra(matrix, directed=True, indices=town_nodes)[:, dest_nodes]
    best = dist.min(axis=1)
    got = out["t_ldrail_min"].to_numpy() * 60.0
    reach = np.isfinite(best)
    np.testing.assert_allclose(got[reach], best[reach], rtol=1e-12, atol=1e-9)
    assert np.isnan(got[~reach]).all()
    # the nearest destination named is one at the best time
    pos = {f"s{j}": i for i, j in enumerate(dest_nodes)}
    chosen = out["nearest_ldrail_id"].to_numpy()
    for i in np.flatnonzero(reach):
        assert dist[i, pos[chosen[i]]] == pytest.approx(best[i])


def test_classes_and_columns_documented():
    assert classify_minutes([0, 9.99, 10, 29.9, 30, np.nan], "motorway").tolist() == [
        "< 10 min", "< 10 min", "10-20 min", "20-30 min", ">= 30 min", None]
    assert classify_minutes([29.9, 30, 89, 90], "airport").tolist() == [
        "< 30 min", "30-60 min", "60-90 min", ">= 90 min"]
    for kind in DESTINATION_KINDS:
        for col in (f"t_{kind}_min", f"nearest_{kind}_id", f"{kind}_class", f"{kind}_edge_flag"):
            assert col in COLUMNS
    for col in ("pt_departures_per_1000", "rail_departures_per_1000",
                "commuter_balance_per_100", "residents_per_job"):
        assert col in COLUMNS
    from accessibility.io import destinations as io_destinations

    assert io_destinations.DESTINATION_KINDS == DESTINATION_KINDS
    # merging into the vocabulary changes none of its meanings
    clash = [c for c in COLUMNS if c in VOCABULARY and VOCABULARY[c] != COLUMNS[c]]
    assert clash == []


# ------------------------------------------------------------------ readers: destinations
def test_read_destinations_and_its_errors(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("service;name;lon;lat\nAutobahn;AS Nord;10,5;52,1\nairport;HAJ;9.68;52.46\n"
                 "Fernbahnhof;;10.0;52.0\n", encoding="utf-8")
    d = read_destinations(p)
    assert sorted(d["kind"]) == ["airport", "ldrail", "motorway"]
    row = d.set_index("kind").loc["motorway"]
    assert (row["lon"], row["lat"], row["name"]) == (10.5, 52.1, "AS Nord")
    assert d.set_index("kind").loc["ldrail", "name"] == "ldrail-3"  # the id as name
    bad = {"kind,lon,lat\nharbour,10,52\n": "unknown kinds.*harbour",
           "kind,lon,lat\nairport,,52\n": "no coordinates",
           "kind,lon,lat\nairport,52.4,9.7\n": "swapped",
           "kind,lon,lat\nairport,2.35,48.85\n": "outside Germany",
           "name,lon,lat\nx,10,52\n": "no kind column"}
    for text, match in bad.items():
        p.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=match):
            read_destinations(p)


def test_airports_builtin_and_user(tmp_path):
    a = read_airports()
    assert {"FRA", "MUC", "HAJ", "BER"} <= set(a["id"]) and (a["kind"] == "airport").all()
    assert a["lon"].between(5.5, 15.5).all() and a["lat"].between(47, 55.5).all()
    haj = a.set_index("id").loc["HAJ"]
    assert abs(haj["lon"] - 9.685) < 0.01 and abs(haj["lat"] - 52.461) < 0.01
    p = tmp_path / "a.csv"
    p.write_text("id,name,lon,lat\nHAJ,Hannover,9.68508,52.4611\n", encoding="utf-8")
    assert read_airports(p)["kind"].tolist() == ["airport"]
    p.write_text("kind,lon,lat\nmotorway,9.7,52.4\n", encoding="utf-8")
    with pytest.raises(InputError, match="other kinds"):
        read_airports(p)


STATIONS = """eva,name,lat,lon,ice,ic_ec,price_category,ril100
1,Grossstadt Hbf,52.1,10.1,1,1,1,A
2,Kleinstadt,52.2,10.2,0,1,4,B
3,Ausland,48.2,16.3,0,1,,C
8003545,Langenhagen Mitte,52.44,9.74,1,0,3,HLGM
5,Nahverkehr,52.3,10.3,0,0,2,E
6,Mittelstadt,52.4,10.4,0,1,3,F
"""


def test_long_distance_station_rule(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(STATIONS, encoding="utf-8")
    s = read_long_distance_stations(p)  # every flagged station (BBSR), not Langenhagen
    assert s["id"].tolist() == ["1", "2", "3", "6"]
    assert (s["kind"] == "ldrail").all()
    assert "1 by name" in s.attrs["report"][0]
    pc = read_long_distance_stations(p, rule="price_class")
    assert pc["id"].tolist() == ["1", "3", "6"]  # class <= 3 or abroad besides
    assert read_long_distance_stations(p, exclude=())["id"].tolist() \
        == ["1", "2", "3", "8003545", "6"]
    assert read_long_distance_stations(p, rule="price_class", max_price_category=None,
                                       exclude=())["id"].tolist() == ["1", "2", "3", "8003545", "6"]
    assert read_long_distance_stations(p, rule="price_class", abroad=False)["id"].tolist() \
        == ["1", "6"]
    assert read_long_distance_stations(p, abroad=False)["id"].tolist() == ["1", "2", "6"]
    with pytest.raises(InputError, match="price_class"):
        read_long_distance_stations(p, rule="class")


def test_long_distance_stations_shared_table():
    s = read_long_distance_stations(shared("reference", "db_long_distance_stations.csv"),
                                    rule="price_class")
    names = set(s["name"])
    assert {"Hannover Hbf", "Braunschweig Hbf", "Hildesheim Hbf", "Wolfsburg Hbf", "Celle",
            "Siegburg/Bonn"} <= names
    assert not {"Langenhagen Mitte", "Peine", "Hannover Messe/Laatzen"} & names


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="52.000" lon="10.000" version="1"/>
  <node id="2" lat="52.010" lon="10.000" version="1">{junction}</node>
  <node id="3" lat="52.015" lon="10.000" version="1"/>
  <node id="4" lat="52.030" lon="10.000" version="1"/>
  <node id="5" lat="52.045" lon="10.000" version="1">{rest}</node>
  <node id="10" lat="52.010" lon="10.005" version="1"/>
  <node id="11" lat="52.015" lon="10.005" version="1"/>
  <node id="12" lat="52.045" lon="10.003" version="1"/>
  <node id="20" lat="52.012" lon="10.010" version="1"/>
  <way id="100" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="5"/>
    <tag k="highway" v="motorway"/></way>
  <way id="101" version="1"><nd ref="2"/><nd ref="10"/><nd ref="20"/>
    <tag k="highway" v="motorway_link"/></way>
  <way id="102" version="1"><nd ref="20"/><nd ref="11"/><nd ref="3"/>
    <tag k="highway" v="motorway_link"/></way>
  <way id="103" version="1"><nd ref="5"/><nd ref="12"/><tag k="highway" v="motorway_link"/></way>
  <way id="104" version="1"><nd ref="20"/><nd ref="1"/><tag k="highway" v="primary"/></way>
</osm>
"""


def test_read_motorway_junctions(tmp_path):
    p = tmp_path / "a.osm"
    p.write_text(OSM_XML.format(
        junction='<tag k="highway" v="motorway_junction"/><tag k="name" v="Testhausen"/>'
                 '<tag k="ref" v="7"/>',
        rest='<tag k="highway" v="motorway_junction"/><tag k="name" v="Rastplatz Waldblick"/>'),
        encoding="utf-8")
    j = read_motorway_junctions(p)
    # the junction node 2 (exit) and the ramp end 3 (entry) of Anschlussstelle 7; the
    # rest area at 5 and its ramp are left out
    assert j["osm_node"].tolist() == [2, 3] and j["point"].tolist() == ["junction", "ramp"]
    assert j["id"].tolist() == ["2", "2"] and j["name"].tolist() == ["Testhausen (7)"] * 2
    assert j.loc[1, "lat"] == pytest.approx(52.015) and (j["kind"] == "motorway").all()
    # no junction tags: the ramp ends, by their node
    p.write_text(OSM_XML.format(junction="", rest=""), encoding="utf-8")
    j = read_motorway_junctions(p)
    assert j["osm_node"].tolist() == [2, 3, 5] and (j["point"] == "ramp").all()
    assert j["name"].tolist()[0] == "motorway ramp (OSM node 2)"


def test_motorway_junctions_of_the_shared_extract():
    j = read_motorway_junctions(shared("osm", "hannover-braunschweig-main-roads.osm.pbf"))
    assert (j["point"] == "junction").sum() > 300 and (j["point"] == "ramp").sum() > 100
    assert not j["name"].str.match("Rastplatz|Raststätte").any()
    assert j["lon"].between(9.2, 11.2).all() and j["lat"].between(51.8, 52.9).all()


# ------------------------------------------------------------------ GTFS
def write_feed(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


#: Stops: P (Heimstadt, 10.00/52.00), Q (Heimstadt, 10.01/52.00), R (Nachbarort,
#: 10.10/52.00), Z (unserved, 10.05/52.05). Trips (all on Tuesdays):
#:   ice1: ICE route, P -> R          tram1, tram2: tram, P -> Q
#:   re1: RE route, P -> Q -> R       bus1: "IC Bus" coach, Q -> R
#:   fv1: DB Fernverkehr route "123", R -> P;  ld102: type 102, unnamed, Q -> R
FEED = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
                  "db,DB Fernverkehr AG,https://x,Europe/Berlin\n"
                  "rb,DB Regio AG,https://x,Europe/Berlin\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
                  "ice,rb,ICE 597,,2\nre,rb,RE 2,Regional-Express,2\nbus,rb,IC Bus,,3\n"
                  "tram,rb,5,,0\nfv,db,123,,2\nld,rb,,,102\nberg,rb,Ice,ICEberg-Express,2\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nP,P,52.0,10.0\nQ,Q,52.0,10.01\n"
                 "R,R,52.0,10.1\nZ,Z,52.05,10.05\n",
    "trips.txt": "route_id,service_id,trip_id\nice,tu,ice1\nre,tu,re1\nbus,tu,bus1\n"
                 "tram,tu,tram1\ntram,tu,tram2\nfv,tu,fv1\nld,tu,ld102\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                      "ice1,08:00:00,08:00:00,P,1\nice1,08:30:00,08:30:00,R,2\n"
                      "re1,09:00:00,09:00:00,P,1\nre1,09:05:00,09:05:00,Q,2\n"
                      "re1,09:20:00,09:20:00,R,3\n"
                      "bus1,10:00:00,10:00:00,Q,1\nbus1,10:30:00,10:30:00,R,2\n"
                      "tram1,11:00:00,11:00:00,P,1\ntram1,11:05:00,11:05:00,Q,2\n"
                      "tram2,12:00:00,12:00:00,P,1\ntram2,12:05:00,12:05:00,Q,2\n"
                      "fv1,13:00:00,13:00:00,R,1\nfv1,13:30:00,13:30:00,P,2\n"
                      "ld102,14:00:00,14:00:00,Q,1\nld102,14:30:00,14:30:00,R,2\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                    "start_date,end_date\ntu,0,1,0,0,0,0,0,20220101,20221231\n",
}
TUESDAY = "2022-10-18"


@pytest.fixture()
def feed(tmp_path):
    return read_gtfs(write_feed(tmp_path / "feed.zip", FEED))


def test_route_modes():
    assert route_mode([2, 100, 109, 117, 0, 1, 900, 401, 3, 700, 4, "", None, "x"]).tolist() == [
        "rail", "rail", "rail", "rail", "tram", "tram", "tram", "tram", "other", "other",
        "other", "other", "other", "other"]


def test_long_distance_routes_and_stations(feed):
    r = long_distance_routes(feed).set_index("route_id")
    assert r["long_distance"].to_dict() == {"ice": True, "re": False, "bus": False,
                                            "tram": False, "fv": True, "ld": True,
                                            "berg": False}
    assert r.loc[["ice", "fv", "ld"], "rule"].tolist() == ["name", "agency", "route_type"]
    s = long_distance_stations(feed, TUESDAY)
    # departures (last stops excluded): P ice1; R fv1; Q ld102
    assert dict(zip(s["id"], s["departures"])) == {"P": 1, "Q": 1, "R": 1}
    assert (s["kind"] == "ldrail").all()
    assert long_distance_stations(feed, TUESDAY, min_departures=2).empty
    assert long_distance_stations(feed, "2022-10-19").empty  # a Wednesday: nothing runs


def test_departures_by_mode(feed):
    d = stop_departures_by_mode(feed, TUESDAY).set_index("stop_id")
    # departures without each trip's last stop:
    #   P: ice1, re1, tram1, tram2 = 4 (rail 2, tram 2); Q: re1, bus1, ld102 = 3 (rail 2)
    #   R: fv1 = 1 (rail 1); Z: none (not listed)
    assert d["departures"].to_dict() == {"P": 4, "Q": 3, "R": 1}
    assert d["rail_departures"].to_dict() == {"P": 2, "Q": 2, "R": 1}
    assert d["tram_departures"].to_dict() == {"P": 2, "Q": 0, "R": 0}
    every = stop_departures_by_mode(feed, TUESDAY, exclude_last_stop=False).set_index("stop_id")
    assert every["departures"].to_dict() == {"P": 5, "Q": 5, "R": 5}


def two_squares():
    """Heimstadt (10.00-10.05 E) and Nachbarort (10.05-10.15 E), 51.97-52.03 N, and a
    third municipality far away (no stop, outside the feed)."""
    munis = pd.DataFrame({"ags": ["03101001", "03101002", "03101003"],
                          "name": ["Heimstadt", "Nachbarort", "Fernab"],
                          "lon": [10.02, 10.1, 11.0], "lat": [52.0, 52.0, 53.0],
                          "population": [2000.0, 500.0, 100.0], "area_km2": [4.0, 2.0, 1.0],
                          "gvb": ["031010000", "031010000", "031010003"]})
    polys = gpd.GeoDataFrame({"ags": ["03101001", "03101002"]},
                             geometry=[shapely.box(9.99, 51.97, 10.05, 52.03),
                                       shapely.box(10.05, 51.97, 10.15, 52.03)],
                             crs="EPSG:4326").to_crs("EPSG:25832")
    return munis, polys


def test_departures_per_1000_by_polygon(feed):
    munis, polys = two_squares()
    stops = stop_departures_by_mode(feed, TUESDAY)
    every = feed.stops.rename(columns={"stop_lon": "lon", "stop_lat": "lat"})
    out = departures_per_1000(munis, stops, polygons=polys, feed_stops=every)
    # Heimstadt: P + Q = 7 departures (rail 4, tram 2) for 2,000 residents;
    # Nachbarort: R = 1 (rail 1) for 500; Fernab: outside the feed's area
    np.testing.assert_allclose(out["pt_departures_per_1000"], [3.5, 2.0, np.nan])
    np.testing.assert_allclose(out["rail_departures_per_1000"], [2.0, 2.0, np.nan])
    np.testing.assert_allclose(out["tram_departures_per_1000"], [1.0, 0.0, np.nan])
    assert out["n_pt_stops"].tolist()[:2] == [2, 1] and pd.isna(out.loc[2, "n_pt_stops"])
    assert out.loc[2, "pt_reason"] == "outside the area of the GTFS feed"
    assert out["pt_stop_assignment"].tolist()[:2] == ["polygon", "polygon"]
    # per GVB: the sum of departures over the sum of residents, not the mean of ratios
    g = unit_indicators(out, "gvb").set_index("gvb")
    assert g.loc["031010000", "pt_departures_per_1000"] == pytest.approx(8 / 2500 * 1000)
    assert g.loc["031010000", "rail_departures_per_1000"] == pytest.approx(5 / 2500 * 1000)
    assert np.isnan(g.loc["031010003", "pt_departures_per_1000"])


def test_departures_without_polygons_nearest_point_within_5_km(feed):
    # Heimstadt (10.02 E), Mitte (10.05 E, 52.03 N) and Leer (10.05 E, 52.045 N) inside
    # the triangle of the feed's stops P, R, Z; Fernab far away
    munis = pd.DataFrame({"ags": ["03101001", "03101002", "03101004", "03101003"],
                          "name": ["Heimstadt", "Mitte", "Leer", "Fernab"],
                          "lon": [10.02, 10.05, 10.05, 11.0], "lat": [52.0, 52.03, 52.045, 53.0],
                          "population": [2000.0, 500.0, 100.0, 100.0]})
    stops = stop_departures_by_mode(feed, TUESDAY)
    every = feed.stops.rename(columns={"stop_lon": "lon", "stop_lat": "lat"})
    out = departures_per_1000(munis, stops, feed_stops=every)
    # P, Q nearest to Heimstadt; R (10.10 E) 5.5 km from Heimstadt, 4.1 km from Mitte
    np.testing.assert_allclose(out["pt_departures"], [7.0, 1.0, 0.0, np.nan])
    np.testing.assert_allclose(out["pt_departures_per_1000"], [3.5, 2.0, 0.0, np.nan])
    assert out["n_pt_stops"].tolist()[:3] == [2, 1, 0]  # Leer: in the feed's area, 0
    assert out.loc[0, "pt_stop_assignment"] == "nearest reference point within 5 km"
    assert any("nearest reference point" in line for line in out.attrs["report"])
    # without Mitte, R lies farther than 5 km from every point: counted nowhere
    out = departures_per_1000(munis.drop(index=1), stops, feed_stops=every)
    assert out["pt_departures"].tolist()[:2] == [7.0, 0.0]
    assert any("1 stops with 1 departures lie in no municipality" in line
               for line in out.attrs["report"])


def test_api_pt_departures_on_a_feed_path(tmp_path):
    munis, polys = two_squares()
    path = write_feed(tmp_path / "f.zip", FEED)
    out = api.pt_departures(munis, path, date=TUESDAY, polygons=polys)
    np.testing.assert_allclose(out["pt_departures_per_1000"], [3.5, 2.0, np.nan])
    assert out.attrs["report"][0].startswith("Departures counted on 2022-10-18")


# ------------------------------------------------------------------ commuters
def test_commuters_plain_table(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("ags,in_commuters,out_commuters,employees_workplace\n"
                 "03101001,300,100,1000\n03101002,10,410,200\n", encoding="utf-8")
    munis, _ = two_squares()
    out = commuter_indicators(munis, read_commuters(p))
    # (300 - 100) / 1000 * 100 = 20; (10 - 410) / 200 * 100 = -200
    np.testing.assert_allclose(out["commuter_balance_per_100"], [20.0, -200.0, np.nan])
    np.testing.assert_allclose(out["residents_per_job"], [2.0, 2.5, np.nan])
    assert out.loc[2, "commuter_reason"] == "not in the commuter table"
    g = unit_indicators(out, "gvb").set_index("gvb")
    # sums: (310 - 510) / 1200 * 100; residents 2500 / 1200 jobs
    assert g.loc["031010000", "commuter_balance_per_100"] == pytest.approx(-200 / 1200 * 100)
    assert g.loc["031010000", "residents_per_job"] == pytest.approx(2500 / 1200)


BA_PUBLISHED = """Statistik der Bundesagentur für Arbeit
Sozialversicherungspflichtig Beschäftigte nach Pendlern - Gemeinden, Stichtag 30.06.2023;;;;;
;;;;;
Gemeinde;Sozialversicherungspflichtig Beschäftigte am Arbeitsort;Sozialversicherungspflichtig Beschäftigte am Wohnort;Einpendler;Auspendler;Pendlersaldo
03101001 Heimstadt, Stadt;1.000;1.900;300;1.200;-900
03101002 Nachbarort;50 100;35.000;X;12.000;.
3101003 Fernab;*;.;-;7;x
03101 Landkreis Beispiel;51.100;1;1;1;1
Insgesamt;1;1;1;1;1
© Statistik der Bundesagentur für Arbeit;;;;;
"""


def test_commuters_ba_published_format(tmp_path):
    p = tmp_path / "pendler.csv"
    p.write_bytes(BA_PUBLISHED.encode("cp1252"))  # as saved from Excel on Windows
    c = read_commuters(p)
    assert c["ags"].tolist() == ["03101001", "03101002", "03101003"]
    assert c["employees_workplace"].tolist()[:2] == [1000.0, 50100.0]
    assert np.isnan(c.loc[2, "employees_workplace"]) and np.isnan(c.loc[2, "employees_residence"])
    assert np.isnan(c.loc[1, "in_commuters"]) and c.loc[2, "in_commuters"] == 0.0
    assert c["out_commuters"].tolist() == [1200.0, 12000.0, 7.0]
    munis, _ = two_squares()
    out = api.commuter_indicators(munis, p)
    assert out.loc[0, "commuter_balance_per_100"] == pytest.approx(-90.0)
    assert out.loc[0, "residents_per_job"] == pytest.approx(2.0)
    assert np.isnan(out.loc[1, "commuter_balance_per_100"])
    assert "anonymised" in out.loc[1, "commuter_reason"]
    assert "employees at the workplace anonymised" in out.loc[2, "commuter_reason"]


def test_commuters_without_employees_say_so(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("ags;Einpendler;Auspendler\n03101001;5;3\n", encoding="utf-8")
    munis, _ = two_squares()
    out = commuter_indicators(munis, read_commuters(p))
    assert out["commuter_balance_per_100"].isna().all() and out.loc[0, "commuter_balance"] == 2
    assert "no employees at the workplace" in out.loc[0, "commuter_reason"]
    assert any("no employees at the workplace" in line for line in out.attrs["report"])


# ------------------------------------------------------------------ API
def test_api_collect_destinations_and_facility_times(tmp_path):
    p = tmp_path / "a.osm"
    p.write_text(OSM_XML.format(junction='<tag k="highway" v="motorway_junction"/>'
                                         '<tag k="name" v="Testhausen"/>', rest=""),
                 encoding="utf-8")
    over = pd.DataFrame({"service": ["airport"], "name": ["Feldflughafen"], "lon": [LON[4]],
                         "lat": [LAT[4]]})
    dest = api.collect_destinations(osm=p, airports=True, overrides=over, stations=False)
    assert set(dest["kind"]) == {"motorway", "airport"}
    assert "ldrail" in set(api.collect_destinations(osm=p, overrides=over)["kind"])
    assert dest.loc[dest["kind"] == "airport", "name"].tolist() == ["Feldflughafen"]
    assert any("replace" in line for line in dest.attrs["report"])
    g = line_graph()
    out = api.facility_times(g, munis_on_line(), dest, max_snap_m=2000.0,
                             access_speed_kmh=3.6)
    assert isinstance(out, gpd.GeoDataFrame) and len(out) == 5
    np.testing.assert_allclose(out["t_airport_min"] * 60, [540, 480, 360, 60, 0])
    assert out["nearest_airport_name"].tolist() == ["Feldflughafen"] * 5
    assert out["t_motorway_min"].notna().all()  # the test junctions lie 0.7 km off A-E
    means = api.indicators_by_unit(out, None)
    assert means.loc[0, "t_airport_min_area_w"] == pytest.approx(1440 / 5 / 60)


# ------------------------------------------------------------------ shared data (done-when)
@pytest.fixture(scope="module")
def hb_run(tmp_path_factory):
    from accessibility.pipeline import graph_and_municipalities

    osm = shared("osm", "hannover-braunschweig-main-roads.osm.pbf")
    ov = {"inputs.osm": str(osm),
          "inputs.municipalities": str(shared("municipalities", "gemeinden_2019_destatis.csv")),
          "inputs.central_places": str(shared("central_places", "zentrale_orte_2024.csv"))}
    prep = graph_and_municipalities(None, ov, "test")
    haj = pd.DataFrame({"kind": ["airport"], "id": ["HAJ"], "name": ["Hannover"],
                        "lon": [9.68508], "lat": [52.4611]})
    dest = api.collect_destinations(osm=osm, airports=haj, stations=shared(
        "reference", "db_long_distance_stations.csv"))
    return api.facility_times(prep.graph, prep.municipalities, dest).set_index("ags")


def test_shared_hannover_braunschweig_times(hb_run):
    out = hb_run
    region = out[out["in_region"]]
    assert len(region) > 150
    on = region[region["on_network"]]
    assert on["t_motorway_min"].notna().all() and on["t_airport_min"].notna().all()
    assert region.loc[~region["on_network"], "t_motorway_min"].isna().all()
    assert out.loc[~out["in_region"], "t_motorway_min"].isna().all()
    assert out.loc["03101000", "t_motorway_min"] < 10  # Braunschweig
    assert out.loc["03241010", "t_airport_min"] < 15  # Langenhagen, Hannover airport
    assert out.loc["03241010", "nearest_airport_id"] == "HAJ"
    assert out.loc["03101000", "nearest_ldrail_name"] == "Braunschweig Hbf"
    assert out.loc["03101000", "t_ldrail_min"] < 10
    assert 0 < on["t_motorway_min"].median() < 20


@pytest.fixture(scope="module")
def vrn_inputs():
    import accessibility as acc

    munis = acc.read_municipalities(shared("municipalities", "gemeinden_2019_destatis.csv"))
    polys = acc.read_municipalities(shared("municipalities", "vg250_2016.gpkg"),
                                    bbox=(8.3, 49.2, 8.9, 49.7))[["ags", "geometry"]]
    return munis, polys, read_gtfs(shared("gtfs", "vrn-rhein-neckar-cut.gtfs.zip"))


def test_shared_vrn_departures_per_1000(vrn_inputs):
    munis, polys, feed = vrn_inputs
    towns = ["08221000", "08222000", "06431020"]  # Heidelberg, Mannheim, Viernheim
    out = api.pt_departures(munis, feed, date="2022-10-18", polygons=polys).set_index("ags")
    t = out.loc[towns]
    for col in ("pt_departures_per_1000", "rail_departures_per_1000",
                "tram_departures_per_1000"):
        assert t[col].notna().all(), col
    # the cut feed has no railway route: rail is 0; trams and buses in Heidelberg
    assert (t["rail_departures_per_1000"] == 0).all()
    hd = t.loc["08221000"]
    assert hd["pt_departures_per_1000"] > hd["tram_departures_per_1000"] > 0
    # independent count: the departures of the stops inside Heidelberg's polygon
    dep = stop_departures_by_mode(feed, "2022-10-18")
    poly = polys.set_index("ags").to_crs(4326).geometry.loc["08221000"]
    inside = shapely.contains_xy(poly, dep["lon"].to_numpy(), dep["lat"].to_numpy())
    assert hd["pt_departures"] == dep.loc[inside, "departures"].sum()
    assert hd["pt_departures_per_1000"] == pytest.approx(
        dep.loc[inside, "departures"].sum() / hd["population"] * 1000)
    # tram 5 (Mannheim - Viernheim) runs until 30 September 2022 in this feed: on
    # Tuesday 2022-10-18 both have 0 departures, on Tuesday 2022-09-20 they have some
    assert (t.loc[["08222000", "06431020"], "pt_departures"] == 0).all()
    sep = api.pt_departures(munis, feed, date="2022-09-20", polygons=polys).set_index("ags")
    assert (sep.loc[["08222000", "06431020"], "tram_departures_per_1000"] > 0).all()


def test_builtin_airports_are_located_in_the_extract_when_it_has_them(tmp_path):
    """aeroway=aerodrome + iata (a node, and a way at its nodes' mean) replaces the
    list's coordinates of that code; codes not in the list and the rest stay as listed."""
    from accessibility.io.destinations import builtin_airports, read_osm_airports

    osm = tmp_path / "air.osm"
    osm.write_text("""<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="52.50" lon="9.60"/>
  <node id="2" lat="52.50" lon="9.70"/>
  <node id="3" lat="52.40" lon="9.70"/>
  <node id="4" lat="52.40" lon="9.60"/>
  <node id="5" lat="50.00" lon="8.50"><tag k="aeroway" v="aerodrome"/><tag k="iata" v="FRA"/>
    <tag k="name" v="Frankfurt node"/></node>
  <node id="6" lat="51.00" lon="9.00"><tag k="aeroway" v="aerodrome"/><tag k="iata" v="XXX"/></node>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="aeroway" v="aerodrome"/><tag k="iata" v="haj"/><tag k="name" v="Hannover"/></way>
</osm>""", encoding="utf-8")
    found = read_osm_airports(osm, {"HAJ", "FRA"}).set_index("id")
    assert sorted(found.index) == ["FRA", "HAJ"]
    # the closed way: mean of its five node references (node 1 twice)
    assert found.loc["HAJ", "lon"] == pytest.approx((9.6 * 3 + 9.7 * 2) / 5)
    assert found.loc["HAJ", "lat"] == pytest.approx((52.5 * 3 + 52.4 * 2) / 5)
    both = builtin_airports(osm).set_index("id")
    listed = builtin_airports(None).set_index("id")
    assert len(both) == len(listed) and "XXX" not in both.index
    assert both.loc["FRA", "lat"] == 50.0 and both.loc["FRA", "source"].startswith("OSM")
    assert both.loc["MUC", "lat"] == listed.loc["MUC", "lat"]  # not in the extract
