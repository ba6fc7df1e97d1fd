"""The Fernbahnhof as BBSR counts it (issue 24): the DB station table shipped as the
default source, the IC/EC/ICE rule with the price-class rule as an option, stations
attached to their nearest routable node, and ``t_ldrail_min`` in every run, checked
against scipy / networkx on the same graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from accessibility import api, defaults
from accessibility._errors import InputError
from accessibility.cli import build_parser
from accessibility.config import load_config
from accessibility.graph import graph_from_osm, project
from accessibility.io.destinations import STATIONS_PATH, read_long_distance_stations
from accessibility.pipeline import run
from accessibility.profile import access_speed

from .conftest import shared

HB_BOX = (9.23, 51.89, 11.10, 52.84)   # the HB extract (shared data README)
HD_BOX = (8.6, 49.3, 8.9, 49.5)        # the Heidelberg extract


def raw_table() -> pd.DataFrame:
    return pd.read_csv(STATIONS_PATH)


def rule_mask(df: pd.DataFrame, rule: str) -> pd.Series:
    """The rules, written out from the table's columns (module docstring of
    accessibility.io.destinations), independently of the reader."""
    flagged = (df["ice"] == 1) | (df["ic_ec"] == 1)
    keep = flagged & (df["name"] != "Langenhagen Mitte")
    if rule == "price_class":
        keep &= (df["price_category"] <= 3) | df["price_category"].isna()
    return keep


def in_box(df: pd.DataFrame, box) -> pd.Series:
    return df["lon"].between(box[0], box[2]) & df["lat"].between(box[1], box[3])


# ------------------------------------------------------------------ the table and the rule
def test_the_shipped_table_is_the_shared_one():
    assert STATIONS_PATH.read_bytes() == shared(
        "reference", "db_long_distance_stations.csv").read_bytes()


def test_station_counts_of_each_rule():
    df = raw_table()
    assert len(df) == 568 and df["price_category"].notna().sum() == 350
    german = df["price_category"].notna()
    for rule, total, de in (("ic_ec_ice", 567, 349), ("price_class", 436, 218)):
        s = read_long_distance_stations(rule=rule)  # the shipped table by default
        m = rule_mask(df, rule)
        assert len(s) == m.sum() == total, rule
        assert s["price_category"].notna().sum() == (m & german).sum() == de, rule
        assert sorted(s["id"]) == sorted(df.loc[m, "eva"].astype(str)), rule
        assert f"rule {rule}" in s.attrs["report"][0]
    # in the boxes of the two shared extracts
    assert sorted(df.loc[rule_mask(df, "ic_ec_ice") & in_box(df, HB_BOX), "name"]) == sorted([
        "Braunschweig Hbf", "Celle", "Hannover Hbf", "Helmstedt", "Hildesheim Hbf",
        "Hannover Bismarckstr.", "Hannover Messe/Laatzen", "Peine", "Wolfsburg Hbf",
        "Oebisfelde"])
    assert sorted(df.loc[rule_mask(df, "price_class") & in_box(df, HB_BOX), "name"]) == sorted([
        "Braunschweig Hbf", "Celle", "Hannover Hbf", "Hildesheim Hbf", "Wolfsburg Hbf"])
    for rule in defaults.FERNBAHNHOF_RULES:
        assert df.loc[rule_mask(df, rule) & in_box(df, HD_BOX), "name"].tolist() \
            == ["Heidelberg Hbf"]


def test_rule_in_config_cli_and_api():
    assert load_config().destinations.fernbahnhof_rule == "ic_ec_ice"
    c = load_config(overrides={"destinations.fernbahnhof_rule": "price_class"})
    assert c.destinations.fernbahnhof_rule == "price_class"
    with pytest.raises(InputError, match="fernbahnhof_rule"):
        load_config(overrides={"destinations.fernbahnhof_rule": "ice_only"})
    args = build_parser().parse_args(["run", "--fernbahnhof-rule", "price_class"])
    assert args.fernbahnhof_rule == "price_class"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--fernbahnhof-rule", "ice"])
    every = api.collect_destinations(airports=False)  # the shipped table by default
    assert (every["kind"] == "ldrail").sum() == 567
    pc = api.collect_destinations(airports=False, fernbahnhof_rule="price_class")
    assert (pc["kind"] == "ldrail").sum() == 436
    assert "Peine" in set(every["name"]) and "Peine" not in set(pc["name"])
    assert not (api.collect_destinations(stations=False)["kind"] == "ldrail").any()
    own = pd.DataFrame({"name": ["Bahnhof"], "lon": [10.0], "lat": [52.0]})
    mine = api.collect_destinations(stations=own, airports=False)
    assert mine["kind"].tolist() == ["ldrail"]


# ------------------------------------------------------------------ attach like municipalities
# A two-way primary road of 7 nodes along 52.000 N (0.01 deg, about 685 m apart) and a
# one-way spur from node 4 north to nodes 40 and 41, a dead end the SCC step drops. The
# station lies beside node 41: its nearest raw node does not route, its nearest routable
# node is node 4, in the middle of a chain that simplification would contract.
OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
{nodes}
  <way id="100" version="1">{road}<tag k="highway" v="primary"/><tag k="maxspeed" v="50"/></way>
  <way id="101" version="1"><nd ref="4"/><nd ref="40"/><nd ref="41"/>
    <tag k="highway" v="primary"/><tag k="oneway" v="yes"/><tag k="maxspeed" v="50"/></way>
</osm>
"""
STATION = (10.032, 52.0062)


def spur_osm(tmp_path):
    pts = {i: (10.0 + 0.01 * (i - 1), 52.0) for i in range(1, 8)}
    pts.update({40: (10.03, 52.004), 41: (10.0315, 52.006)})
    nodes = "\n".join(f'  <node id="{i}" lat="{la}" lon="{lo}" version="1"/>'
                      for i, (lo, la) in pts.items())
    road = "".join(f'<nd ref="{i}"/>' for i in range(1, 8))
    p = tmp_path / "spur.osm"
    p.write_text(OSM.format(nodes=nodes, road=road), encoding="utf-8")
    return p


def test_a_station_beside_a_dead_end_attaches_to_the_nearest_routable_node(tmp_path):
    p = spur_osm(tmp_path)
    munis = pd.DataFrame({"ags": ["03101000", "03101001"], "name": ["West", "East"],
                          "lon": [10.0, 10.06], "lat": [52.0, 52.0],
                          "population": [1000.0, 1000.0]})
    dest = pd.DataFrame({"kind": ["ldrail"], "id": ["1"], "name": ["Bahnhof"],
                         "lon": [STATION[0]], "lat": [STATION[1]], "source": ["test"]})
    speed = 15.0
    out = api.facility_times(p, munis, dest, max_snap_m=5000.0, access_speed_kmh=speed,
                             cache_dir=tmp_path / "cache")
    # the reference, by hand: the raw graph in networkx, its largest SCC, the nearest
    # node of that SCC to each point by brute force, access legs at the access speed
    raw = graph_from_osm(p)
    g = nx.DiGraph()
    for u in range(raw.n_nodes):
        for e in range(raw.offsets[u], raw.offsets[u + 1]):
            g.add_edge(u, int(raw.targets[e]), t=float(raw.time_s[e]))
    scc = np.array(sorted(max(nx.strongly_connected_components(g), key=len)))
    assert raw.n_nodes == 9 and scc.size == 7  # the spur is dropped

    def nearest(lon, lat, among):
        x, y = project(np.array([lon]), np.array([lat]), raw.crs)
        d = np.hypot(raw.x[among] - x[0], raw.y[among] - y[0])
        return int(among[np.argmin(d)]), float(d.min())

    s_node, s_m = nearest(*STATION, scc)
    assert raw.osm_id[s_node] == 4  # mid-chain: contracted without the routable rule
    every = np.arange(raw.n_nodes)
    assert raw.osm_id[nearest(*STATION, every)[0]] == 41  # the dead end
    v = speed / 3.6
    for i, row in munis.iterrows():
        m_node, m_m = nearest(row["lon"], row["lat"], every)
        want = (m_m / v + nx.shortest_path_length(g, m_node, s_node, weight="t") + s_m / v) / 60
        assert out.loc[i, "t_ldrail_min"] == pytest.approx(want, rel=1e-9), row["name"]
        assert out.loc[i, "nearest_ldrail_name"] == "Bahnhof"


def test_no_station_in_the_extract_gives_nan_a_reason_and_the_edge_flag(tmp_path):
    """The spur extract lies 18 km from the nearest shipped station (Hildesheim Hbf):
    no value, the reason, and the flag that a larger extract would give one."""
    munis = pd.DataFrame({"ags": ["03101000"], "name": ["West"], "lon": [10.0],
                          "lat": [52.0], "population": [1000.0]})
    dest = api.collect_destinations(airports=False)
    out = api.facility_times(spur_osm(tmp_path), munis, dest, cache_dir=tmp_path / "cache")
    assert out.loc[0, "on_network"] and np.isnan(out.loc[0, "t_ldrail_min"])
    assert "ldrail: no long-distance rail station" in out.loc[0, "facility_reason"]
    assert out.loc[0, "ldrail_edge_flag"]
    assert out.loc[0, "nearest_ldrail_name"] is None


# ------------------------------------------------------------------ shared data (done-when)
def reference_minutes(graph, munis: pd.DataFrame, stations: pd.DataFrame,
                      ags: list[str]) -> pd.Series:
    """Car time to the nearest station for ``ags``, independently of the engine's
    search: brute-force nearest nodes within the snapping limit, access legs at the
    run's access speed, scipy's Dijkstra on the graph's edge times."""
    n = graph.n_nodes
    rows = np.repeat(np.arange(n), np.diff(graph.offsets))
    a = csr_array((graph.time_s, (rows, graph.targets)), shape=(n, n))
    limit = defaults.MAX_SNAP_M  # the run's settings: the defaults, the profile's speed
    v = access_speed(graph.meta.get("access_speed_kmh")) / 3.6

    def snap(lon, lat):
        x, y = project(np.asarray(lon, float), np.asarray(lat, float), graph.crs)
        d = np.hypot(graph.x[None, :] - x[:, None], graph.y[None, :] - y[:, None])
        k = d.argmin(axis=1)
        return k, d[np.arange(k.size), k]

    s_node, s_m = snap(stations["lon"], stations["lat"])
    on = s_m <= limit
    m = munis.set_index("ags").loc[ags]
    m_node, m_m = snap(m["lon"], m["lat"])
    dist = dijkstra(a, indices=m_node)
    t = (dist[:, s_node[on]] + s_m[on][None, :] / v).min(axis=1) + m_m / v
    return pd.Series(t / 60.0, index=ags)


@pytest.fixture(scope="module")
def hb_national(tmp_path_factory):
    out = tmp_path_factory.mktemp("hb")
    res = run(output_dir=out, overrides={
        "inputs.osm": str(shared("osm", "hannover-braunschweig-main-roads.osm.pbf")),
        "inputs.municipalities": str(shared("municipalities", "gemeinden_2019_destatis.csv")),
        "inputs.central_places": str(shared("central_places", "zentrale_orte_2024.csv")),
        "output.models": ["central_places", "indicators"], "output.maps": False,
        "output.formats": ["parquet"], "graph.cache_dir": str(out / "cache")})
    return res, pd.read_parquet(res.files["parquet"])


def test_hb_national_register_has_t_ldrail_min_without_stations(hb_national):
    res, m = hb_national
    assert "t_ldrail_min" in m.columns  # no stations input given
    by = m.set_index("ags")
    for ags, station in (("03241001", "Hannover Hbf"), ("03101000", "Braunschweig Hbf"),
                         ("03103000", "Wolfsburg Hbf"), ("03157006", "Peine"),
                         ("03154028", "Helmstedt"), ("03241009", "Hannover Messe/Laatzen")):
        assert by.loc[ags, "nearest_ldrail_name"] == station, ags
        # Wolfsburg's own point attaches to a main road 12 minutes round from the
        # station's roads (a municipality's node, as for every indicator): 14 minutes
        assert by.loc[ags, "t_ldrail_min"] < (15 if ags == "03103000" else 10), ags
    on = m[m["in_region"] & m["on_network"]]
    assert on["t_ldrail_min"].notna().mean() > 0.99
    # NaN only with a reason; never a value outside the region
    nan = m["in_region"] & m["on_network"] & m["t_ldrail_min"].isna()
    assert m.loc[nan, "facility_reason"].str.contains("ldrail").all()
    assert m.loc[~m["in_region"], "t_ldrail_min"].isna().all()
    ags = ["03241001", "03101000", "03103000", "03157006", "03154028", "03254021",
           "03151009", "03158037"]
    want = reference_minutes(res.graph, m, read_long_distance_stations(), ags)
    np.testing.assert_allclose(by.loc[ags, "t_ldrail_min"].to_numpy(), want.to_numpy(),
                               rtol=1e-9)


def test_hb_run_keeps_the_stations_nearest_routable_nodes(hb_national):
    """The run's graph keeps a node next to every station (its nearest routable raw
    node); the graph of the municipalities alone has to snap them farther."""
    from accessibility.graph import attach, build_graph

    res, m = hb_national
    munis = m[m["lon"].notna()]
    plain = build_graph(shared("osm", "hannover-braunschweig-main-roads.osm.pbf"),
                        keep_points=(munis["lon"].to_numpy(), munis["lat"].to_numpy()))
    st = read_long_distance_stations()
    near = in_box(st, HB_BOX).to_numpy()
    kept = attach(res.graph, st[near], max_snap_m=1e6, id_column="id")["snap_m"].to_numpy()
    before = attach(plain, st[near], max_snap_m=1e6, id_column="id")["snap_m"].to_numpy()
    assert (kept <= before + 1e-9).all()
    helmstedt = st.loc[near, "name"].to_numpy() == "Helmstedt"
    assert kept[helmstedt][0] < 100 < before[helmstedt][0]  # 75 m instead of 246 m


def test_heidelberg_has_t_ldrail_min_without_stations(tmp_path):
    res = run(output_dir=tmp_path / "hd", overrides={
        "inputs.osm": str(shared("osm", "heidelberg.osm.pbf")),
        "inputs.municipalities": str(shared("municipalities", "gemeinden_2019_destatis.csv")),
        "inputs.central_places": str(shared("central_places", "zentrale_orte_2024.csv")),
        "output.models": ["central_places", "indicators"], "output.maps": False,
        "output.formats": ["parquet"], "graph.cache_dir": str(tmp_path / "cache")})
    m = pd.read_parquet(res.files["parquet"])
    by = m.set_index("ags")
    assert by.loc["08221000", "nearest_ldrail_name"] == "Heidelberg Hbf"
    on = m[m["in_region"] & m["on_network"]]
    assert on["t_ldrail_min"].notna().all()
    ags = on["ags"].tolist()[:6]
    want = reference_minutes(res.graph, m, read_long_distance_stations(), ags)
    np.testing.assert_allclose(by.loc[ags, "t_ldrail_min"].to_numpy(), want.to_numpy(),
                               rtol=1e-9)


def test_the_sample_runs_with_the_shipped_stations(tmp_path):
    res = run(output_dir=tmp_path, overrides={"output.maps": False,
                                              "output.models": ["central_places", "indicators"],
                                              "output.formats": ["parquet"]})
    m = pd.read_parquet(res.files["parquet"]).set_index("ags")
    assert m.loc["03154028", "nearest_ldrail_name"] == "Helmstedt"  # a price-class-4 IC stop
    assert m.loc["03154028", "t_ldrail_min"] < 5
