"""Lage (2-hour decay-weighted daytime population) and Stadt- und Gemeindetyp."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from accessibility._errors import InputError
from accessibility.graph import attach, from_edges
from accessibility.models.lage import (
    COLUMNS, DEFAULT_DECAY, LAGE_CLASSES, SOURCE_COMMUTERS, SOURCE_RESIDENTS, boundary_nodes,
    calibrate_decay, calibrate_lage, classify_lage, daytime_population, gvb_potential, kreis_lage,
    lage_potential, lage_summary, lage_tables, run_lage,
)
from accessibility.models.lage_tables import LAGE_UNKNOWN
from accessibility.models.settlement import classify_settlement, settlement_types
from accessibility.routing import Decay

from .conftest import shared

KW = dict(max_snap_m=50_000.0, access_speed_kmh=30.0)


def graph(nodes_lonlat, edges):
    """Graph from (lon, lat) per node and (u, v, seconds) edges, both directions."""
    lon = np.array([p[0] for p in nodes_lonlat], float)
    lat = np.array([p[1] for p in nodes_lonlat], float)
    u = [e[0] for e in edges] + [e[1] for e in edges]
    v = [e[1] for e in edges] + [e[0] for e in edges]
    t = [e[2] for e in edges] * 2
    return from_edges(np.array(u), np.array(v), np.array(t, float), np.array(t, float) * 10,
                      np.zeros(len(u), np.uint8), class_names=("road",),
                      osm_id=np.arange(lon.size), lon=lon, lat=lat)


def munis_at(g, nodes, pops, **extra):
    """Municipalities whose points lie exactly on graph nodes (snap 0)."""
    d = {"ags": [f"0310{i:04d}" for i in range(len(nodes))],
         "name": [f"M{i}" for i in range(len(nodes))],
         "lon": [g.lon[n] for n in nodes], "lat": [g.lat[n] for n in nodes],
         "population": pops}
    d.update(extra)
    return attach(g, pd.DataFrame(d))


# A -10 min- B -20 min- C, municipalities on each node
LINE = [(10.0, 52.0), (10.1, 52.0), (10.2, 52.0)]


@pytest.fixture(scope="module")
def line():
    g = graph(LINE, [(0, 1, 600.0), (1, 2, 1200.0)])
    return g, munis_at(g, [0, 1, 2], [1000.0, 2000.0, 4000.0])


@pytest.mark.parametrize("decay", [Decay("none"), Decay("exponential", beta=0.076),
                                   Decay("gaussian", sigma_min=12.0),
                                   Decay("power", beta=1.0, floor_min=1.0)])
def test_potential_matches_hand_computation(line, decay):
    g, m = line
    r = lage_potential(g, m, m["population"], decay=decay)
    assert (r["snap_m"] == 0).all()
    w = lambda t: float(decay.weight(np.array([t]))[0])  # noqa: E731
    expect = [1000 * 1 + 2000 * w(10) + 4000 * w(30),
              1000 * w(10) + 2000 * 1 + 4000 * w(20),
              1000 * w(30) + 2000 * w(20) + 4000 * 1]
    np.testing.assert_allclose(r["potential_2h"], expect, rtol=1e-12)
    assert (r["n_reached"] == 3).all()
    if decay.kind == "exponential":  # spot value: exp(-0.76)
        assert r["potential_2h"].iloc[0] == pytest.approx(1000 + 2000 * np.exp(-0.76)
                                                          + 4000 * np.exp(-2.28))


def test_decay_is_monotone(line):
    g, m = line
    exp_ = [lage_potential(g, m, m["population"], decay=Decay("exponential", beta=b))
            ["potential_2h"].to_numpy() for b in (0.0, 0.02, 0.076, 0.2)]
    gau = [lage_potential(g, m, m["population"], decay=Decay("gaussian", sigma_min=s))
           ["potential_2h"].to_numpy() for s in (5.0, 12.0, 40.0)]
    assert all((a > b).all() for a, b in zip(exp_, exp_[1:]))
    assert all((a < b).all() for a, b in zip(gau, gau[1:]))
    np.testing.assert_allclose(exp_[0], 7000.0)  # beta 0 = unweighted sum


def test_own_population_counted_once_and_access_legs():
    # two municipalities share node 0, a third sits 1 km off node 1 (120 s at 30 km/h)
    g = graph(LINE[:2], [(0, 1, 600.0)])
    lon1, lat1 = g.lon[1], g.lat[1] + 1000.0 / 111_200  # ~1 km north of node 1
    m = pd.DataFrame({"ags": ["1", "2", "3"], "lon": [g.lon[0], g.lon[0], lon1],
                      "lat": [g.lat[0], g.lat[0], lat1], "population": [100.0, 10.0, 1000.0]})
    m = attach(g, m, **KW)
    none = lage_potential(g, m, m["population"], decay=Decay("none"))
    np.testing.assert_allclose(none["potential_2h"], 1110.0)  # everyone once, own included
    d = Decay("exponential", beta=0.1)
    r = lage_potential(g, m, m["population"], decay=d)
    acc = r["snap_m"].iloc[2] / (30 / 3.6) / 60  # access minutes of the third
    assert 1.5 < acc < 2.5
    w = lambda t: float(np.exp(-0.1 * t))  # noqa: E731
    # own at t = 0 (weight 1, not w(2 x access)); others at access_o + network + access_d
    assert r["potential_2h"].iloc[2] == pytest.approx(1000 + 110 * w(10 + acc), rel=1e-9)
    assert r["potential_2h"].iloc[0] == pytest.approx(100 + 10 * w(0) + 1000 * w(10 + acc), rel=1e-9)
    assert (r["n_reached"] == 3).all()


def test_limit_is_inclusive():
    pts = [(10.0, 52.0), (10.1, 52.0), (10.1, 52.1)]
    g = graph(pts, [(0, 1, 7200.0), (0, 2, 7201.0)])
    m = munis_at(g, [0, 1, 2], [1.0, 10.0, 100.0])
    r = lage_potential(g, m, m["population"], decay=Decay("none"), boundary=False)
    assert r["potential_2h"].iloc[0] == 11.0  # B at exactly 120 min counts, C at +1 s not
    assert r["n_reached"].iloc[0] == 2
    assert not r["edge_flag"].any()


def test_off_network_municipality_gets_nan(line):
    g, m = line
    m = pd.concat([m, pd.DataFrame({"ags": ["09"], "name": ["far"], "lon": [13.0],
                                    "lat": [48.0], "population": [5.0]})], ignore_index=True)
    m = attach(g, m.drop(columns=["node", "snap_m", "access_s", "on_network"]), **KW)
    r = lage_potential(g, m, m["population"])
    assert np.isnan(r["potential_2h"].iloc[3]) and pd.isna(r["n_reached"].iloc[3])  # not 0
    assert r["potential_2h"].iloc[:3].notna().all()


def test_edge_flag_on_a_grid():
    # 5 x 5 grid, ~7 km spacing, 5-minute edges; only the outer ring is boundary
    pts = [(10 + 0.1 * i, 52 + 0.065 * j) for j in range(5) for i in range(5)]
    edges = [(j * 5 + i, j * 5 + i + 1, 300.0) for j in range(5) for i in range(4)]
    edges += [(j * 5 + i, (j + 1) * 5 + i, 300.0) for j in range(4) for i in range(5)]
    g = graph(pts, edges)
    b = boundary_nodes(g)
    assert b.sum() == 16 and not b[12]
    m = munis_at(g, [12, 0], [100.0, 10.0])
    short = lage_potential(g, m, m["population"], limit_min=4.0)
    assert not short["edge_flag"].iloc[0] and short["edge_flag"].iloc[1]
    long = lage_potential(g, m, m["population"], limit_min=120.0)
    assert long["edge_flag"].all()
    none = lage_potential(g, m, m["population"], limit_min=120.0, boundary=False)
    assert not none["edge_flag"].any()


@pytest.fixture(scope="module")
def chain():
    # 12 municipalities on a chain with 4-minute steps
    pts = [(10 + 0.05 * i, 52 + 0.01 * (i % 2)) for i in range(12)]
    g = graph(pts, [(i, i + 1, 240.0) for i in range(11)])
    pops = np.array([50, 3, 8, 120, 5, 2, 40, 9, 15, 300, 7, 1], float) * 1000
    return g, munis_at(g, list(range(12)), pops)


@pytest.mark.parametrize("kind,target", [("exponential", 183_000.0), ("gaussian", 250_000.0),
                                         ("power", 150_000.0)])
def test_calibration_reaches_target(chain, kind, target):
    g, m = chain
    p, achieved = calibrate_decay(g, m, m["population"], kind=kind, target_mean=target)
    assert abs(achieved - target) / target < 0.005
    d = Decay("gaussian", sigma_min=p) if kind == "gaussian" else Decay(kind, beta=p)
    r = lage_potential(g, m, m["population"], decay=d)  # independent path: the kernel
    assert abs(r["potential_2h"].mean() - target) / target < 0.005


def test_calibration_unreachable_target(chain):
    g, m = chain
    with pytest.raises(InputError, match="not reachable"):
        calibrate_decay(g, m, m["population"], target_mean=1e9)


def test_daytime_population_without_commuters(line):
    _, m = line
    day, src, rep = daytime_population(m)
    assert (day == m["population"]).all() and (src == SOURCE_RESIDENTS).all()
    assert any("no commuter table" in s for s in rep)


def test_daytime_population_with_commuters(line):
    _, m = line
    m = pd.concat([m, pd.DataFrame({"ags": ["03109999"], "population": [50.0]})],
                  ignore_index=True)
    com = pd.DataFrame({"ags": [m["ags"][0], m["ags"][1], m["ags"][2], "99999999"],
                        "in_commuters": [500.0, 10.0, np.nan, 1.0],
                        "out_commuters": [100.0, 5000.0, 1.0, 1.0]})
    day, src, rep = daytime_population(m, com)
    assert day.tolist() == [1400.0, 0.0, 4000.0, 50.0]  # 2000 + 10 - 5000 clipped to 0
    assert src[0] == SOURCE_COMMUTERS and src[1] == SOURCE_COMMUTERS
    assert "anonymised" in src[2] and "not in the commuter table" in src[3]
    text = "\n".join(rep)
    assert "1 AGS of the commuter table are not municipalities" in text and "99999999" in text
    assert "clipped to 0" in text and m["ags"][1] in text
    assert "03109999" in text  # fallback to residents is named


def test_classify_lage_thresholds():
    v = pd.Series([80_999.0, 81_000.0, 182_999.0, 183_000.0, 409_999.0, 410_000.0, np.nan],
                  index=list("abcdefg"))
    lab = classify_lage(v)
    assert lab.tolist()[:6] == ["sehr peripher", "peripher", "peripher", "zentral", "zentral",
                                "sehr zentral"]
    assert lab.isna().iloc[6] and list(lab.index) == list("abcdefg")
    assert all(c in COLUMNS["lage"] for c in LAGE_CLASSES)
    for c in ("daytime_population", "daytime_population_source", "potential_2h", "lage",
              "settlement_type", "settlement_type_detail", "edge_flag"):
        assert c in COLUMNS


def test_kreis_gvb_and_summary():
    df = pd.DataFrame({"ags": ["1", "2", "3", "4"], "gvb": ["a", "a", "b", "b"],
                       "kreis": ["k", "k", "k", "j"], "population": [100.0, 300.0, 600.0, 10.0],
                       "potential_2h": [50_000.0, 500_000.0, 100_000.0, np.nan],
                       "n_reached": [1, 2, 3, 0], "edge_flag": [False, True, False, False]})
    k = kreis_lage(df).set_index("kreis")
    assert k.loc["k", "potential_2h"] == pytest.approx((5e6 + 1.5e8 + 6e7) / 1000)
    # member 2's potential is a lower bound (edge_flag): the Kreis mean gets no class
    assert pd.isna(k.loc["k", "lage"]) and k.loc["k", "lage_reason"] == LAGE_UNKNOWN
    assert k.loc["k", "n_edge_flag"] == 1 and pd.isna(k.loc["j", "potential_2h"])
    exact = kreis_lage(df.assign(edge_flag=False)).set_index("kreis")
    assert exact.loc["k", "lage"] == "zentral" and exact.loc["k", "complete"]
    # j's only member has no potential: not complete
    assert not exact.loc["j", "complete"] and exact.loc["j", "n_members"] == 1
    # a Kreis with a member outside the region: incomplete, no class, counts say why
    cut = kreis_lage(df.assign(edge_flag=False, in_region=[True, True, False, True]))
    cut = cut.set_index("kreis")
    assert (cut.loc["k", "n_members"], cut.loc["k", "n_members_in_region"]) == (3, 2)
    assert not cut.loc["k", "complete"] and pd.isna(cut.loc["k", "lage"])
    assert cut.loc["k", "potential_2h"] == pytest.approx((5e6 + 1.5e8) / 400)
    g = gvb_potential(df).set_index("gvb")
    assert g.loc["a", "centre_ags"] == "2" and g.loc["a", "potential_2h"] == 500_000.0
    # the centre's potential is not exact: no class, and the reason says what to do
    assert pd.isna(g.loc["a", "lage"]) and g.loc["a", "edge_flag"]
    assert g.loc["a", "lage_reason"] == LAGE_UNKNOWN
    assert gvb_potential(df.assign(edge_flag=False)).set_index("gvb").loc["a", "lage"] == \
        "sehr zentral"
    assert g.loc["a", "population"] == 400.0 and g.loc["b", "centre_ags"] == "3"
    assert g.loc["a", "complete"] and not g.loc["b", "complete"]  # 4 has no potential
    df["lage"] = classify_lage(df["potential_2h"])
    df["settlement_type"] = ["Kleinstadt", "Kleinstadt", "Landgemeinde", "Landgemeinde"]
    s = lage_summary(df)
    assert s.loc["total", "total n"] == 4 and s.loc["total", "total population"] == 1010.0
    assert s.loc["sehr zentral", "Kleinstadt population"] == 300.0
    assert s.loc["no value", "Landgemeinde n"] == 1


# ------------------------------------------------------------------ settlement types


def test_settlement_rules():
    pop = [600_000, 150_000, 60_000, 30_000, 15_000, 8_000, 12_000, 4_000, 4_000, 4_000, 4_000,
           99_999, 19_999, 4_999]
    fn = ["Oberzentrum", "Mittelzentrum", "keine", "Mittelzentrum", "Oberzentrum", "keine",
          "keine", "Mittelzentrum", "Grundzentrum", "keine", "Oberzentrum",
          "keine", "keine", "keine"]
    typ, det = classify_settlement(pop, fn)
    assert list(typ) == ["Großstadt", "Großstadt", "Mittelstadt", "Mittelstadt", "Mittelstadt",
                         "Kleinstadt", "Kleinstadt", "Kleinstadt", "Landgemeinde",
                         "Landgemeinde", "Mittelstadt", "Mittelstadt", "Kleinstadt",
                         "Landgemeinde"]
    assert list(det) == ["große Großstadt", "kleinere Großstadt", "größere Mittelstadt",
                         "kleinere Mittelstadt", "kleinere Mittelstadt", "kleine Kleinstadt",
                         "größere Kleinstadt", "kleine Kleinstadt", "Landgemeinde",
                         "Landgemeinde", "kleinere Mittelstadt", "größere Mittelstadt",
                         "größere Kleinstadt", "Landgemeinde"]
    with pytest.raises(InputError):
        classify_settlement([1], ["Metropole"])


def test_settlement_per_gvb_largest_member_and_function():
    m = pd.DataFrame({"ags": ["1", "2", "3", "4", "5"], "gvb": ["a", "a", "a", "b", "b"],
                      "name": list("vwxyz"),
                      "population": [4_000, 3_000, 2_000, 4_500, 1_000],
                      "central_place": ["keine", "Mittelzentrum", "keine", "keine", "Grundzentrum"]})
    g, mm = settlement_types(m)
    g = g.set_index("gvb")
    # 9,000 together, but the largest member has 4,000: the MZ of the GVB makes it a Kleinstadt
    assert g.loc["a", "largest_ags"] == "1" and g.loc["a", "settlement_type"] == "Kleinstadt"
    assert g.loc["a", "population"] == 9_000
    assert g.loc["b", "settlement_type"] == "Landgemeinde"  # a Grundzentrum is not enough
    assert mm["settlement_type"].tolist() == ["Kleinstadt"] * 3 + ["Landgemeinde"] * 2
    g2, _ = settlement_types(m, function="largest")
    assert g2.set_index("gvb").loc["a", "settlement_type"] == "Landgemeinde"


@pytest.fixture(scope="module")
def register():
    from accessibility.io import read_central_places, read_municipalities
    from accessibility.models.central_places import join_central_places

    m = read_municipalities(shared("municipalities", "gemeinden_2019_destatis.csv"))
    j, _ = join_central_places(m, read_central_places(shared("central_places",
                                                             "zentrale_orte_2024.csv")))
    return j


def test_settlement_types_on_the_register(register):
    g, m = settlement_types(register)
    row = m.set_index("ags").loc["03101000"]
    assert row["settlement_type"] == "Großstadt"
    assert row["settlement_type_detail"] == "kleinere Großstadt"
    # Einheitsgemeinden of about 3,000 inhabitants without a central function
    single = g[(g["n_municipalities"] == 1) & g["largest_population"].between(2_800, 3_200)
               & (g["central_place"] == "keine")]
    assert len(single) > 10 and (single["settlement_type"] == "Landgemeinde").all()
    # the 208 gemeindefreie Gebiete (0 residents) get no type by default; BBSR counts
    # them among its Landgemeinden: counted so, every type is within 1 % (or one GVB)
    empty = g["population"] == 0
    assert empty.sum() == 208 and g.loc[empty, "settlement_type"].isna().all()
    assert g.loc[~empty, "settlement_type"].notna().all()
    g_bbsr, _ = settlement_types(register, unpopulated="landgemeinde")
    counts = g_bbsr["settlement_type"].value_counts()
    for t, ref in (("Großstadt", 80), ("Mittelstadt", 634), ("Kleinstadt", 2126),
                   ("Landgemeinde", 1779)):  # METHOD.md, BBSR 2019
        assert abs(counts[t] - ref) <= max(1, 0.01 * ref), (t, counts[t], ref)
    assert (g["settlement_type"].value_counts()["Landgemeinde"]
            == counts["Landgemeinde"] - 208)
    assert m["settlement_type"].notna().sum() > 10_700


# ------------------------------------------------------------------ real network


def test_hannover_braunschweig_sample():
    from accessibility.graph import build_graph
    from accessibility.io import read_municipalities

    munis = read_municipalities(shared("municipalities", "gemeinden_2019_destatis.csv"),
                                bbox=(9.23, 51.89, 11.10, 52.84))
    g = build_graph(shared("osm", "hannover-braunschweig-main-roads.osm.pbf"),
                    keep_points=(munis["lon"].to_numpy(), munis["lat"].to_numpy()))
    day, src, _ = daytime_population(munis)
    munis = attach(g, munis, max_snap_m=5000, access_speed_kmh=30)
    r = lage_potential(g, munis, day)
    on = r["potential_2h"].notna()
    assert on.sum() > 150 and (r.loc[on, "potential_2h"] > 0).all()
    assert (r.loc[on, "potential_2h"] >= day[on] - 1e-6).all()  # own population included
    p = r.set_index(munis["ags"])["potential_2h"]
    village = munis.loc[on & (munis["population"] < 3000), "ags"].iloc[0]
    assert p["03241001"] > 400_000 > p[village]  # Hannover
    assert p["03241001"] > p["03101000"] > p[village]  # Hannover > Braunschweig
    lage = classify_lage(r["potential_2h"])
    assert lage[on].isin(LAGE_CLASSES).all() and r["edge_flag"].any()


def test_run_lage_calibrated(chain):
    g, m = chain
    m = m.assign(gvb=["a"] * 6 + ["b"] * 6, kreis="k", central_place="keine")
    # municipalities as the units: the mean over them is fitted (GVB units:
    # tests/test_lage_units.py)
    fit = calibrate_lage(g, m, decay=Decay("exponential", beta=0.1), target_mean=100_000.0,
                         units="municipality")
    out = run_lage(g, m, decay=fit, units="municipality")
    tables, rep = lage_tables(out), out.attrs["report"]
    gvb, kreis = tables["gvb"], tables["kreis"]
    assert out["potential_2h"].mean() == pytest.approx(100_000.0, rel=0.005)
    for c in ("daytime_population", "daytime_population_source", "potential_2h", "lage",
              "settlement_type", "settlement_type_detail", "edge_flag"):
        assert c in out.columns
    assert set(gvb["gvb"]) == {"a", "b"} and len(kreis) == 1
    assert any("no commuter table" in s for s in rep) and any("calibrated" in s for s in rep)


def test_ch_engine_equals_dijkstra_on_the_sample(tmp_path):
    from accessibility.pipeline import run

    a = run(output_dir=tmp_path / "a", overrides={"output.maps": False}).municipalities
    b = run(output_dir=tmp_path / "b", overrides={"output.maps": False,
                                                  "lage.engine": "ch"}).municipalities
    np.testing.assert_allclose(a["potential_2h"], b["potential_2h"], rtol=1e-9)
    assert (a["edge_flag"] == b["edge_flag"]).all()
    assert (a["lage"].fillna("") == b["lage"].fillna("")).all()


def _augmented_by_sorting(g, nodes, acc):
    """Reference: the augmented graph as one edge list sorted by from_edges."""
    n, k = g.n_nodes, len(nodes)
    virt = n + np.arange(k)
    src = np.repeat(np.arange(n), np.diff(g.offsets))
    return from_edges(
        np.concatenate([src, nodes, virt]), np.concatenate([g.targets, virt, nodes]),
        np.concatenate([g.time_s, acc, acc]), np.concatenate([g.length_m, np.zeros(2 * k)]),
        np.concatenate([g.road_class, np.full(2 * k, len(g.class_names), np.uint8)]),
        class_names=g.class_names + ("access",),
        osm_id=np.concatenate([g.osm_id, -1 - np.arange(k)]),
        lon=np.concatenate([g.lon, g.lon[nodes]]), lat=np.concatenate([g.lat, g.lat[nodes]]))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 30), m=st.integers(0, 80), k=st.integers(0, 20), seed=st.integers(0, 2**31))
def test_augmented_graph_equals_sorted_edge_list(n, m, k, seed):
    from accessibility.models.lage import augmented_graph

    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)  # loops and parallel edges too
    g = from_edges(u, v, rng.uniform(0, 100, m), rng.uniform(0, 1000, m),
                   rng.integers(0, 3, m).astype(np.uint8), class_names=("a", "b", "c"),
                   osm_id=np.arange(n), lon=rng.uniform(9, 10, n), lat=rng.uniform(50, 51, n))
    nodes = rng.integers(0, n, k)  # several municipalities may share a road node
    acc = rng.uniform(0, 60, k)
    got, want = augmented_graph(g, nodes, acc), _augmented_by_sorting(g, nodes, acc)
    assert got.class_names == want.class_names
    for name in ("offsets", "targets", "time_s", "length_m", "road_class", "osm_id", "lon", "lat"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)


@pytest.mark.parametrize("engine", ["dijkstra", "ch"])
def test_calibrated_run_sums_the_calibration_table(engine):
    """run_lage(decay=calibrate_lage(...)) takes its potentials from calibration's pair
    table: they must equal fresh searches with the fitted decay (sums, counts, edge
    flags), a municipality without residents counted as the search counts it (not at
    all); with another limit the table is not the run's and is not used."""
    side = 7  # a 7 x 7 grid, 4 minutes per step, a municipality on every node
    pts = [(10 + 0.05 * i, 52 + 0.03 * j) for j in range(side) for i in range(side)]
    edges = [(j * side + i, j * side + i + 1, 240.0) for j in range(side) for i in range(side - 1)]
    edges += [(j * side + i, (j + 1) * side + i, 240.0) for j in range(side - 1) for i in range(side)]
    g = graph(pts, edges)
    pops = np.random.default_rng(1).uniform(1e3, 5e4, side * side)
    pops[24] = 0.0  # the centre: reached, but no one lives there
    m = munis_at(g, list(range(side * side)), pops)
    fit = calibrate_lage(g, m, target_mean=100_000.0, limit_min=10.0, engine=engine)
    res = run_lage(g, m, decay=fit, limit_min=10.0, engine=engine)
    fitted = fit.decay
    assert fit.achieved_mean == pytest.approx(100_000.0, rel=1e-9)
    assert fit.parameter == fitted.beta and fit.n_municipalities == side * side
    assert fitted.beta != DEFAULT_DECAY.beta
    ref = lage_potential(g, m, m["population"], decay=fitted, limit_min=10.0, engine="dijkstra")
    np.testing.assert_allclose(res["potential_2h"], ref["potential_2h"], rtol=1e-12)
    assert res["n_reached"].tolist() == ref["n_reached"].tolist()
    assert res["edge_flag"].tolist() == ref["edge_flag"].tolist()
    assert 0 < res["edge_flag"].sum() < side * side  # the flag is not trivially all or none
    assert abs(res["potential_2h"].mean() - 100_000.0) < 1e-6 * 100_000.0
    # another limit: the fit's decay, but fresh searches (the 10-minute table is larger)
    other = run_lage(g, m, decay=fit, limit_min=6.0, engine=engine)
    ref6 = lage_potential(g, m, m["population"], decay=fitted, limit_min=6.0, engine="dijkstra")
    np.testing.assert_allclose(other["potential_2h"], ref6["potential_2h"], rtol=1e-12)
    assert (ref6["potential_2h"] < res["potential_2h"]).any()


@pytest.mark.parametrize("in_region", [True, False])
def test_off_network_warning_only_for_the_region(in_region, caplog):
    """A regional run passes the national register: municipalities outside the region
    are expectedly off the network (no warning for them), those inside are a problem."""
    g = graph(LINE, [(0, 1, 600.0), (1, 2, 1200.0)])
    d = pd.DataFrame({"ags": ["03100001", "03100002", "09999999"], "name": ["A", "B", "Far"],
                      "lon": [10.0, 10.1, 13.0], "lat": [52.0, 52.0, 48.0],
                      "population": [1000.0, 2000.0, 500.0]})
    m = attach(g, d, max_snap_m=2000.0)
    m["in_region"] = [True, True, in_region]
    with caplog.at_level("INFO", logger="accessibility.models.lage"):
        r = lage_potential(g, m, m["population"])
    assert r["potential_2h"].isna().tolist() == [False, False, True]
    warned = [rec for rec in caplog.records if rec.levelname == "WARNING"
              and "off the network" in rec.getMessage()]
    assert bool(warned) == in_region
    if in_region:
        assert "09999999" in warned[0].getMessage()
