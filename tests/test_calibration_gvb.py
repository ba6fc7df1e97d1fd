"""Speed calibration against GVB means (the INKAR format): reading, the area-weighted
model time, recovery of known factors and access speed, skipped GVBs, the maxspeed
search, and the shipped ``inkar-fit`` profile."""

from __future__ import annotations

import dataclasses
import logging
import re

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from accessibility._errors import InputError
from accessibility.graph import from_edges
from accessibility.io import read_reference_times
from accessibility.models.accuracy import bbsr_class, compare_gvb_times, time_metrics
from accessibility.models.calibration import (calibrate_speeds, evaluate_speeds,
                                              fit_maxspeed_factor, split_references)
from accessibility.models.calibration_references import _reference_format
from accessibility.models.central_places import central_place_access, weighted_means
from accessibility.profile import DEFAULT_PROFILE, SpeedProfile, load_profile
from accessibility.vocabulary import NEAREST_MZ

from .conftest import REPO, shared

# ------------------------------------------------------------------ hand-made network
# A 9 x 9 grid, 0.01 degrees apart, two-way streets. Horizontal streets of every
# fourth row are motorways, vertical streets of every third column primary roads,
# the rest secondary roads; lengths vary by +-20 % so that routes are unique.
CLASSES = ("motorway", "primary", "secondary")
SPEED_MS = {"motorway": 25.0, "primary": 15.0, "secondary": 10.0}
#: The factors and access speed the reference times are generated with.
TRUTH = {"motorway": 1.3, "primary": 0.85, "secondary": 1.1}
TRUE_ACCESS_KMH = 40.0
#: The access speed the municipalities are attached with.
ATTACH_KMH = 15.0
N = 9


def grid_graph():
    rng = np.random.default_rng(11)
    idx = np.arange(N * N).reshape(N, N)          # idx[row, col]
    lon = (10.0 + 0.01 * np.tile(np.arange(N), N)).astype(float)
    lat = (52.0 + 0.01 * np.repeat(np.arange(N), N)).astype(float)
    u, v, cls = [], [], []
    for r in range(N):
        for c in range(N):
            if c + 1 < N:   # horizontal street
                k = 0 if r % 4 == 0 else 2
                u += [idx[r, c], idx[r, c + 1]]
                v += [idx[r, c + 1], idx[r, c]]
                cls += [k, k]
            if r + 1 < N:   # vertical street
                k = 1 if c % 3 == 0 else 2
                u += [idx[r, c], idx[r + 1, c]]
                v += [idx[r + 1, c], idx[r, c]]
                cls += [k, k]
    u, v, cls = np.array(u), np.array(v), np.array(cls)
    length = 900.0 * (0.8 + 0.4 * rng.random(u.size))
    speed = np.array([SPEED_MS[c] for c in CLASSES])[cls]
    return from_edges(u, v, length / speed, length, cls, class_names=CLASSES,
                      osm_id=np.arange(N * N), lon=lon, lat=lat)


def grid_munis(graph):
    """48 municipalities on distinct nodes in 12 GVBs of 4; 3 OZ, 5 further MZ (some of
    them GVB members, so that a member is itself the destination)."""
    rng = np.random.default_rng(5)
    nodes = rng.choice(graph.n_nodes, 48, replace=False)
    snap = rng.uniform(0, 1500, 48)
    cp = np.array(["keine"] * 48, dtype=object)
    cp[[0, 17, 33]] = "Oberzentrum"
    cp[[5, 10, 22, 27, 41]] = "Mittelzentrum"
    m = pd.DataFrame({
        "ags": [f"0315{i:04d}" for i in range(48)], "name": [f"M{i}" for i in range(48)],
        "gvb": [f"0315{i // 4:05d}" for i in range(48)],
        "lon": graph.lon[nodes], "lat": graph.lat[nodes],
        "node": pd.array(nodes, dtype="Int64"), "snap_m": snap,
        "access_s": snap / (ATTACH_KMH / 3.6), "on_network": True, "central_place": cp,
        "area_km2": rng.uniform(5, 50, 48), "population": rng.uniform(500, 5000, 48)})
    m["access_speed_kmh"], m["max_snap_m"] = ATTACH_KMH, 2000.0  # as attach() leaves them
    return m


def brute_force_gvb(graph, munis, factors=None, access_kmh=ATTACH_KMH):
    """GVB means (minutes) computed independently: scipy's Dijkstra on the graph with
    the class times divided by ``factors``, access legs at ``access_kmh``, nearest
    facility by a full origin-destination matrix, area-weighted mean per GVB."""
    f = np.array([(factors or {}).get(c, 1.0) for c in graph.class_names])
    t = graph.time_s / f[graph.road_class]
    mat = csr_array((t, (graph.sources, graph.targets)), shape=(graph.n_nodes,) * 2)
    dist = dijkstra(mat)                                   # all pairs, seconds
    node = munis["node"].to_numpy(np.int64)
    acc = munis["snap_m"].to_numpy() / (access_kmh / 3.6)
    cp = munis["central_place"].to_numpy()
    out = {}
    for ind, cls in (("t_oz_min", ["Oberzentrum"]),
                     ("t_mz_min", ["Oberzentrum", "Mittelzentrum"])):
        fac = np.isin(cp, cls)
        to_fac = dist[np.ix_(node, node[fac])] + acc[fac][None, :]
        t_i = np.where(fac, 0.0, acc + to_fac.min(axis=1)) / 60.0
        df = pd.DataFrame({"gvb": munis["gvb"], "t": t_i, "w": munis["area_km2"]})
        out[ind] = df.groupby("gvb").apply(lambda g: np.sum(g["t"] * g["w"]) / g["w"].sum(),
                                           include_groups=False)
    ref = pd.DataFrame(out).reset_index()
    ref["n_members"] = munis.groupby("gvb").size().reindex(ref["gvb"]).to_numpy()
    return ref


@pytest.fixture(scope="module")
def grid():
    g = grid_graph()
    m = grid_munis(g)
    return g, m, brute_force_gvb(g, m, TRUTH, TRUE_ACCESS_KMH)


# ---------------------------------------------------------------- the model time


def test_gvb_model_time_is_the_area_weighted_member_mean(grid):
    graph, munis, _ = grid
    as_built = brute_force_gvb(graph, munis)
    ev = evaluate_speeds(graph, munis, as_built).table.set_index(["key", "indicator"])
    assert len(ev) == 24
    for ind in ("t_oz_min", "t_mz_min"):
        model = ev.xs(ind, level="indicator")["model_min"]
        np.testing.assert_allclose(model.to_numpy(),
                                   as_built.set_index("gvb").loc[model.index, ind].to_numpy(),
                                   rtol=1e-10)
    # with factors and a faster access leg as well
    truth = evaluate_speeds(graph, munis, as_built, factors=TRUTH,
                            access_factor=TRUE_ACCESS_KMH / ATTACH_KMH).table
    ref = brute_force_gvb(graph, munis, TRUTH, TRUE_ACCESS_KMH).set_index("gvb")
    np.testing.assert_allclose(truth["model_min"].to_numpy(),
                               [ref.loc[k, i] for k, i in zip(truth["key"], truth["indicator"])],
                               rtol=1e-10)


def test_unweighted_mean_would_differ(grid):
    """The areas matter here: an unweighted member mean is not what the model gives,
    so the test above would catch a mean that forgot the area weights."""
    graph, munis, _ = grid
    ev = evaluate_speeds(graph, munis, brute_force_gvb(graph, munis)).table
    equal_w = brute_force_gvb(graph, munis.assign(area_km2=1.0)).set_index("gvb")
    diff = [abs(t - equal_w.loc[k, i]) for k, i, t in
            zip(ev["key"], ev["indicator"], ev["model_min"])]
    assert max(diff) > 0.1


def test_member_that_is_the_destination_counts_zero(grid):
    """GVB 031500001 holds M5, a Mittelzentrum: its MZ mean is the others' times (each
    routed as a single trip to the nearest MZ) weighted by area, M5 counting 0 with
    its area."""
    graph, munis, _ = grid
    g = "031500001"
    ev = evaluate_speeds(graph, munis, brute_force_gvb(graph, munis)).table
    t = ev.set_index(["key", "indicator"]).loc[(g, "t_mz_min"), "model_min"]
    members = munis[munis["gvb"] == g]
    others = members[members["ags"] != "03150005"]
    assert (members["ags"] == "03150005").sum() == 1
    trips = pd.DataFrame({"origin_ags": others["ags"], "destination": NEAREST_MZ,
                          "minutes": 0.0})
    single = evaluate_speeds(graph, munis, trips).table["model_min"].to_numpy()
    w = others["area_km2"].to_numpy()
    assert t == pytest.approx(np.sum(single * w) / members["area_km2"].sum(), rel=1e-12)


# ------------------------------------------------------------------ recovery


def test_recovers_factors_and_access_speed(grid):
    graph, munis, ref = grid
    res = calibrate_speeds(graph, munis, ref, fit_access=True, iterations=30, min_share=0.0,
                           base_profile=SpeedProfile(
                               name="grid", speeds_kmh={c: 3.6 * s for c, s in SPEED_MS.items()}))
    assert res.format == "gvb" and res.n_pairs == 24 and res.skipped == []
    assert res.converged
    assert set(res.fitted_classes) == set(CLASSES)
    for c, f in TRUTH.items():
        assert res.factors[c] == pytest.approx(f, rel=1e-6), c
    assert res.access_speed_kmh == pytest.approx(TRUE_ACCESS_KMH, rel=1e-6)
    assert res.access_factor == pytest.approx(TRUE_ACCESS_KMH / ATTACH_KMH, rel=1e-6)
    assert res.before["rmse_min"] > 1.0 and res.after["rmse_min"] < 1e-6
    np.testing.assert_allclose(res.table["after_min"], res.table["ref_min"], atol=1e-6)
    assert res.profile.class_factors == pytest.approx(TRUTH, rel=1e-6)
    text = "\n".join(res.lines())
    assert "40.0 km/h" in text and "access_speed_kmh = 40.0" in text and "t_mz_min" in text


def test_access_speed_stays_when_not_fitted(grid):
    graph, munis, ref = grid
    res = calibrate_speeds(graph, munis, ref, iterations=30, min_share=0.0)
    assert res.access_factor == 1.0 and not res.fit_access
    # the class factors take up what the slow access legs cost: not the truth
    assert res.after["rmse_min"] > 0.05
    assert res.after["rmse_min"] < res.before["rmse_min"]


def test_holdout_split_is_by_gvb_and_fixed(grid):
    _, _, ref = grid
    a, b = split_references(ref, seed=3)
    assert len(a) == len(b) == 6 and not set(a["gvb"]) & set(b["gvb"])
    a2, _ = split_references(ref, seed=3)
    assert list(a2["gvb"]) == list(a["gvb"]) and _reference_format(a) == "gvb"


def test_fit_on_half_predicts_the_other_half(grid):
    graph, munis, ref = grid
    train, test = split_references(ref, seed=1)
    res = calibrate_speeds(graph, munis, train, fit_access=True, iterations=30, min_share=0.0)
    ev = evaluate_speeds(graph, munis, test, factors=res.factors,
                         access_factor=res.access_factor).table
    np.testing.assert_allclose(ev["model_min"], ev["ref_min"], atol=1e-4)


# ------------------------------------------------------------------ skipped GVBs


def test_skipped_gvbs_listed_with_reasons(grid, caplog):
    graph, munis, ref = grid
    m = munis.copy()
    # GVB 1: a member off the network; GVB 2: every member off the network
    off = m["gvb"].isin(["031500002"]) | (m["ags"] == "03150004")
    m.loc[off, ["node", "access_s", "on_network"]] = [pd.NA, np.nan, False]
    # GVB 3: no MZ value; GVB 5: the table has 4 of its 7 members; 031577777: no member
    refs = ref.copy()
    refs.loc[refs["gvb"] == "031500003", "t_mz_min"] = np.nan
    refs.loc[refs["gvb"] == "031500005", "n_members"] = 7
    refs = pd.concat([refs, pd.DataFrame({"gvb": ["031577777"], "t_oz_min": [10.0],
                                          "t_mz_min": [5.0], "n_members": [2]})],
                     ignore_index=True)
    with caplog.at_level(logging.INFO):
        res = calibrate_speeds(graph, m, refs, iterations=3, min_share=0.0)
    reasons: dict[int, list[str]] = {}
    for row, why in res.skipped:
        reasons.setdefault(row, []).append(why)
    row_of = {g: i for i, g in enumerate(refs["gvb"])}
    assert set(reasons) == {row_of[g] for g in ("031500001", "031500002", "031500003",
                                                   "031500005", "031577777")}
    assert "members 03150004 are not on the network" in reasons[row_of["031500001"]][0]
    assert "no member is on the network" in reasons[row_of["031500002"]][0]
    assert reasons[row_of["031500003"]] == ["GVB 031500003: no t_mz_min value"]
    assert "4 of its 7 members" in reasons[row_of["031500005"]][0]
    assert "no municipality of the table" in reasons[row_of["031577777"]][0]
    used = set(zip(res.table["key"], res.table["indicator"]))
    assert ("031500003", "t_oz_min") in used and ("031500003", "t_mz_min") not in used
    # 12 GVBs x 2, less GVBs 1, 2, 5 (both values) and GVB 3's MZ value
    assert res.n_pairs == len(used) == 24 - 6 - 1
    text = "\n".join(res.lines())
    assert "skipped 1 GVBs none of whose members" in text and "not wholly inside" in text
    assert "not wholly inside the extract" in caplog.text
    assert "GVBs of the references lie wholly outside the network" in caplog.text


def test_gvb_skipped_when_an_outside_central_place_may_be_nearer(grid):
    """An OZ off the network 1 m from member M13 of GVB 3: both of GVB 3's means may
    have their nearest destination beyond the network and are left out."""
    graph, munis, ref = grid
    m13 = munis.set_index("ags").loc["03150013"]
    far = pd.DataFrame({"ags": ["03159999"], "name": ["far OZ"], "gvb": ["031599999"],
                        "lon": [m13["lon"] + 1e-5], "lat": [m13["lat"]],
                        "node": pd.array([pd.NA], dtype="Int64"), "snap_m": [np.nan],
                        "access_s": [np.nan], "on_network": [False],
                        "central_place": ["Oberzentrum"], "area_km2": [10.0],
                        "population": [1.0]})
    m = pd.concat([munis, far], ignore_index=True)
    result = evaluate_speeds(graph, m, ref)
    ev = result.table
    skipped = {re.match(r"GVB (\d{9}).*?, (t_\w+_min):", r).groups(): r
               for _, r in result.skipped}
    assert all("nearer in straight line" in r for r in skipped.values())
    assert "03150013" in skipped[("031500003", "t_oz_min")]
    assert "03150013" in skipped[("031500003", "t_mz_min")]
    # the others: a member whose straight-line nearest OZ (MZ) is the far one
    kx = np.cos(np.radians(52.04))
    d = np.hypot((munis["lon"] - far["lon"][0]) * kx, munis["lat"] - far["lat"][0])
    expected = set()
    for ind, cls in (("t_oz_min", ["Oberzentrum"]),
                     ("t_mz_min", ["Oberzentrum", "Mittelzentrum"])):
        fac = munis[munis["central_place"].isin(cls)]
        d_on = np.hypot((munis["lon"].to_numpy()[:, None] - fac["lon"].to_numpy()) * kx,
                        munis["lat"].to_numpy()[:, None] - fac["lat"].to_numpy()).min(axis=1)
        expected |= {(g, ind) for g in munis.loc[d.to_numpy() < d_on, "gvb"]}
    assert set(skipped) == expected
    assert set(zip(ev["key"], ev["indicator"])).isdisjoint(expected)
    assert len(ev) == 24 - len(expected)
    # the far OZ's own GVB is not in the references; without the check GVB 3 counts
    result = evaluate_speeds(graph, m, ref, edge_margin=None)
    assert (result.table["key"] == "031500003").sum() == 2 and result.skipped == []


def test_gvb_references_need_area_and_gvb(grid):
    graph, munis, ref = grid
    with pytest.raises(InputError, match="area_km2"):
        calibrate_speeds(graph, munis.drop(columns=["area_km2"]), ref)
    with pytest.raises(InputError, match="'gvb'"):
        calibrate_speeds(graph, munis.drop(columns=["gvb"]), ref)
    off = munis.assign(node=pd.array([pd.NA] * len(munis), dtype="Int64"), on_network=False)
    with pytest.raises(InputError, match="no usable GVB means"):
        calibrate_speeds(graph, off, ref)
    with pytest.raises(InputError, match="access_bounds_kmh"):
        calibrate_speeds(graph, munis, ref, fit_access=True, access_bounds_kmh=(50, 10))


# ------------------------------------------------------------- maxspeed search


def test_maxspeed_search_picks_the_generating_factor(grid):
    """The 'graph build' scales the motorway times (the class standing in for edges with
    a maxspeed tag) by 0.8 / maxspeed_factor; references made at 0.9 are fitted best
    at 0.9, with the other classes' factors at the truth."""
    graph, munis, _ = grid
    mw = np.array(graph.class_names)[graph.road_class] == "motorway"

    def build(profile):
        t = np.where(mw, graph.time_s * 0.8 / profile.maxspeed_factor, graph.time_s)
        return dataclasses.replace(graph, time_s=t), munis

    truth_graph, _ = build(dataclasses.replace(DEFAULT_PROFILE, maxspeed_factor=0.9))
    refs = brute_force_gvb(truth_graph, munis, {"primary": 0.85, "secondary": 1.1},
                           TRUE_ACCESS_KMH)
    res = fit_maxspeed_factor(build, refs, DEFAULT_PROFILE, maxspeed_factors=(0.8, 0.9, 1.0),
                              classes=["primary", "secondary"], fit_access=True,
                              iterations=30)
    assert res.maxspeed_factor == 0.9
    assert [s["maxspeed_factor"] for s in res.maxspeed_search] == [0.8, 0.9, 1.0]
    rmse = {s["maxspeed_factor"]: s["rmse_min"] for s in res.maxspeed_search}
    assert rmse[0.9] < 1e-6 < min(rmse[0.8], rmse[1.0])
    assert res.factors["primary"] == pytest.approx(0.85, rel=1e-6)
    assert res.access_speed_kmh == pytest.approx(TRUE_ACCESS_KMH, rel=1e-6)
    assert res.profile.maxspeed_factor == 0.9
    # "before" is the base profile as it is (0.8, no factors)
    base = evaluate_speeds(*build(DEFAULT_PROFILE), refs).table
    assert res.before["rmse_min"] == pytest.approx(
        np.sqrt(np.mean((base["model_min"] - base["ref_min"]) ** 2)))
    with pytest.raises(InputError, match=r"\(0, 2\]"):
        fit_maxspeed_factor(build, refs, DEFAULT_PROFILE, maxspeed_factors=(0.0,))


# ------------------------------------------------------------------ reading


def _write(tmp_path, text, name="refs.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


#: The columns of a reference table in the ``gvb`` format: they tell its format.
GVB_COLUMNS = ["gvb", "t_oz_min", "t_mz_min", "n_members", "name"]


def test_reference_format_survives_a_file_round_trip(tmp_path):
    """The format is read from the columns, so a table saved and read back (which
    drops DataFrame.attrs) is calibrated as the format it is."""
    p = _write(tmp_path, "gvb,t_mz_min\n031515401,3.5\n")
    pairs = _write(tmp_path, "origin_ags,destination,minutes\n03241001,nearest MZ,12\n",
                   "pairs.csv")
    for path, fmt in ((p, "gvb"), (pairs, "pairs")):
        read_reference_times(path).to_parquet(tmp_path / "refs.parquet")
        assert _reference_format(pd.read_parquet(tmp_path / "refs.parquet")) == fmt


def test_reader_detects_inkar_format(tmp_path):
    p = _write(tmp_path, "GVB_ARS9;inkar_gvb_key;name;n_members;t_oz_min;t_mz_min\n"
                         "31515401;3151963;Boldecker Land;6;12,29;12,29\n"
                         "031585407;3158907;Elm-Asse;12;27.03;\n")
    df = read_reference_times(p)
    assert list(df.columns) == GVB_COLUMNS and _reference_format(df) == "gvb"
    assert df["gvb"].tolist() == ["031515401", "031585407"]
    assert df["t_oz_min"].tolist() == [12.29, 27.03]
    assert df["t_mz_min"].iloc[0] == 12.29 and np.isnan(df["t_mz_min"].iloc[1])
    assert df["n_members"].tolist() == [6, 12] and df["name"].iloc[1] == "Elm-Asse"
    # 'gvb' and only one indicator
    df = read_reference_times(_write(tmp_path, "gvb,t_mz_min\n031515401,3.5\n"))
    assert list(df.columns) == GVB_COLUMNS and df["t_oz_min"].isna().all()
    assert df["n_members"].isna().all()


def test_reader_detects_pairs_format(tmp_path):
    df = read_reference_times(_write(tmp_path, "origin_ags,destination,minutes\n"
                                               "03241001,nearest MZ,12\n"))
    assert list(df.columns) == ["origin_ags", "destination", "minutes"]
    assert df["destination"].tolist() == [NEAREST_MZ]


def test_shared_inkar_file_reads():
    df = read_reference_times(shared("reference", "inkar_2020_car_times_multi_member_gvb.csv"))
    assert len(df) == 1201 and list(df.columns) == GVB_COLUMNS
    assert df["gvb"].str.len().eq(9).all() and df["n_members"].min() >= 2


@pytest.mark.parametrize("text, match", [
    ("ags,t_min\n03241001,3\n", "neither known format.*gvb_ars9, t_oz_min"),
    ("gvb_ars9,minutes\n031515401,3\n", "neither known format"),
    ("gvb_ars9,t_oz_min,origin_ags,destination,minutes\n031515401,3,03241001,nearest OZ,3\n",
     "both formats"),
    ("gvb_ars9,t_oz_min\n031515401,3\n31515401,4\n", "more than once"),
    ("gvb_ars9,t_oz_min\n031515401,-3\n", "from 0 to 1440"),
    ("gvb_ars9,t_oz_min\n031515401,abc\n", "not numbers"),
    ("gvb_ars9,t_oz_min\n03151540X,3\n", "9-digit"),
    ("gvb_ars9,t_oz_min,t_mz_min\n031515401,,\n", "no row has a value"),
    ("gvb_ars9,t_oz_min,n_members\n031515401,3,0\n", "whole number"),
])
def test_reader_bad_gvb_tables(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        read_reference_times(_write(tmp_path, text))


def test_table_without_format_is_an_error(grid):
    graph, munis, _ = grid
    with pytest.raises(InputError, match="neither the columns"):
        calibrate_speeds(graph, munis, pd.DataFrame({"a": [1], "b": [2]}))


# ------------------------------------------------------------------ accuracy


def test_bbsr_classes_and_metrics():
    np.testing.assert_array_equal(bbsr_class([0, 7.49, 7.5, 14.99, 15, np.nan], "mz"),
                                  [0, 1, 2, 2, 3, -1])
    np.testing.assert_array_equal(bbsr_class([0, 14.9, 15, 30, 59.9, 60], "oz"),
                                  [0, 1, 2, 3, 3, 4])
    m = time_metrics([10.0, 20.0, 31.0], [12.0, 20.0, 29.0], "oz")
    assert m["mae_min"] == pytest.approx(4 / 3) and m["bias_min"] == 0.0
    assert m["rmse_min"] == pytest.approx(np.sqrt(8 / 3))
    assert m["class_agreement"] == pytest.approx(2 / 3)   # 31 is 30-60, 29 is 15-30


def test_compare_gvb_times_on_a_run_matches_the_fit(grid):
    """The run's GVB table (central_place_access + weighted_means) compared with the
    references gives the errors the calibration reports."""
    graph, munis, ref = grid
    res = calibrate_speeds(graph, munis, ref, iterations=2, min_share=0.0)
    run = central_place_access(graph, munis)
    times = weighted_means(run, "gvb", ["t_oz_min", "t_mz_min"])
    cmp = compare_gvb_times(times, ref).set_index("indicator")
    by = res.by_indicator().query("speeds == 'before'").set_index("indicator")
    for ind in ("t_oz_min", "t_mz_min"):
        assert cmp.loc[ind, "n_gvb"] == 12
        assert cmp.loc[ind, "rmse_min"] == pytest.approx(by.loc[ind, "rmse_min"], rel=1e-9)
        assert cmp.loc[ind, "class_agreement"] == pytest.approx(by.loc[ind, "class_agreement"])
    only = compare_gvb_times(times, ref, gvbs={"t_oz_min": ["031500000"], "t_mz_min": []})
    assert only["n_gvb"].tolist() == [1, 0]


# ------------------------------------------------------------ shared data, end to end


def test_inkar_fit_is_a_builtin_profile():
    prof = load_profile("inkar-fit")
    assert prof.name == "inkar-fit" and prof.speeds_kmh == load_profile("osrm-car").speeds_kmh
    assert 0.5 < prof.maxspeed_factor <= 1.0
    assert {"motorway", "primary", "secondary"} <= set(prof.class_factors)
    text = (REPO / "accessibility" / "profiles" / "inkar-fit.toml").read_text("utf-8")
    assert "scripts/calibrate_speeds.py" in text and "access_speed_kmh" in text


def run_calibration_script(tmp_path, out, *extra) -> int:
    """scripts/calibrate_speeds.py on the shared HB data, INKAR and the register."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("cs_gvb", REPO / "scripts" /
                                                  "calibrate_speeds.py")
    cs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cs)
    return cs.main([*extra,
                    "--osm", str(shared("osm", "hannover-braunschweig-main-roads.osm.pbf")),
                    "--municipalities", str(shared("municipalities",
                                                   "gemeinden_2019_destatis.csv")),
                    "--central-places", str(shared("central_places", "zentrale_orte_2024.csv")),
                    "--inkar", str(shared("reference",
                                          "inkar_2020_car_times_multi_member_gvb.csv")),
                    "--out-profile", str(out), "--output", str(tmp_path)])


def test_script_reproduces_the_shipped_profile(tmp_path, capsys):
    """The one command of scripts/calibrate_speeds.py refits inkar-fit.toml (about
    15 s), and the fit lowers the error against INKAR, also on held-out GVBs."""
    out = tmp_path / "fit.toml"
    code = run_calibration_script(tmp_path, out, "--profile", "osrm-car")
    assert code == 0
    assert "GVB means against INKAR" in capsys.readouterr().out
    fitted, shipped = load_profile(out), load_profile("inkar-fit")
    assert fitted.maxspeed_factor == shipped.maxspeed_factor
    assert fitted.class_factors == pytest.approx(shipped.class_factors, rel=1e-9)
    assert fitted.access_speed_kmh == pytest.approx(shipped.access_speed_kmh, rel=1e-9)
    t = pd.read_csv(tmp_path / "calibration_accuracy.csv").set_index(["speeds", "indicator"])
    for ind in ("t_oz_min", "t_mz_min"):
        assert t.loc[("calibrated", ind), "rmse_min"] < t.loc[("as built", ind), "rmse_min"] / 2
        assert 10 <= t.loc[("calibrated", ind), "n_gvb"] <= 28
        for k in (1, 2):
            assert (t.loc[(f"hold-out {k}: fitted on the other half", ind), "rmse_min"]
                    < t.loc[(f"hold-out {k}: as built", ind), "rmse_min"])


def test_cli_calibrate_with_gvb_references(tmp_path, capsys):
    """'accessibility calibrate' on the embedded sample with the INKAR file: the GVBs
    the sample cuts are skipped, the rest are fitted with the access speed and the
    maxspeed factor."""
    from accessibility.cli import main

    inkar = shared("reference", "inkar_2020_car_times_multi_member_gvb.csv")
    prof = tmp_path / "cal.toml"
    assert main(["-q", "calibrate", str(inkar), "--output", str(tmp_path), "--fit-access",
                 "--maxspeed-factors", "0.8,1.0", "--out-profile", str(prof)]) == 0
    text = capsys.readouterr().out
    assert "GVB means" in text and "access legs" in text and "maxspeed factor" in text
    assert load_profile(prof).maxspeed_factor in (0.8, 1.0)
    assert main(["-q", "calibrate", str(inkar), "--output", str(tmp_path),
                 "--maxspeed-factors", "0.8,x"]) == 2
    assert "--maxspeed-factors" in capsys.readouterr().err


def test_script_reproduces_the_default_de_car_profile(tmp_path, capsys):
    """de-car (the default): its access speed is refitted by the command in its header
    (about 4 s), and the default configuration is within 1 minute of INKAR on average
    on the GVBs wholly inside the extract (issue 11)."""
    from accessibility import defaults

    assert defaults.PROFILE == "de-car"
    out = tmp_path / "de.toml"
    code = run_calibration_script(tmp_path, out, "--profile", "de-car", "--classes", "",
                                  "--maxspeed-factors", "none")
    assert code == 0
    capsys.readouterr()
    fitted, shipped = load_profile(out), load_profile("de-car")
    assert fitted.access_speed_kmh == pytest.approx(shipped.access_speed_kmh, rel=1e-6)
    assert not shipped.class_factors and shipped.maxspeed_factor == 1.0
    assert shipped.speeds_kmh["motorway"] == 130.0
    t = pd.read_csv(tmp_path / "calibration_accuracy.csv").set_index(["speeds", "indicator"])
    for ind in ("t_oz_min", "t_mz_min"):
        assert abs(t.loc[("calibrated", ind), "bias_min"]) < 1.0
        assert t.loc[("calibrated", ind), "mae_min"] < 2.0
        assert t.loc[("calibrated", ind), "n_gvb"] >= 10
