"""Speed calibration: shortest-path tree, reference times, factor recovery."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from accessibility import routing
from accessibility._errors import InputError
from accessibility.api import calibrate_speeds_from_file as run_calibration
from accessibility.io import read_reference_times, write_profile_toml
from accessibility.models.calibration import apply_factors, calibrate_speeds
from accessibility.routing import kernels
from accessibility.vocabulary import NEAREST_MZ, NEAREST_OZ
from accessibility.profile import DEFAULT_PROFILE, load_profile

from .conftest import SHARED
PBF = SHARED / "osm" / "hannover-braunschweig-main-roads.osm.pbf"
REGISTER = SHARED / "municipalities" / "gemeinden_2019_destatis.csv"
CENTRAL_PLACES = SHARED / "central_places" / "zentrale_orte_2024.csv"
BBOX = (9.23, 51.89, 11.10, 52.84)
#: The speed factors the reference times are generated with.
TRUTH = {"motorway": 0.8, "primary": 1.15, "secondary": 0.9, "trunk": 1.0}
#: Classes with at least this share of the reference path time must be recovered.
SUBSTANTIAL = 0.05


def _scaled(graph, factors):
    """The graph with times divided by the factors, independently of apply_factors."""
    f = np.ones(len(graph.class_names))
    for c, v in factors.items():
        f[graph.class_names.index(c)] = v
    return dataclasses.replace(graph, time_s=graph.time_s / f[graph.road_class])


def _min_csr(graph):
    """scipy matrix of the graph with parallel edges reduced to the shortest."""
    key = graph.sources.astype(np.int64) * graph.n_nodes + graph.targets
    order = np.lexsort((graph.time_s, key))
    first = np.r_[True, np.diff(key[order]) != 0]
    k = order[first]
    m = csr_array((graph.time_s[k], (graph.sources[k], graph.targets[k])),
                  shape=(graph.n_nodes, graph.n_nodes))
    return m


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def region():
    """Graph and snapped municipalities of Hannover-Braunschweig."""
    for p in (PBF, REGISTER, CENTRAL_PLACES):
        if not p.exists():
            pytest.skip(f"shared data {p} not available")
    from accessibility.graph import attach, build_graph
    from accessibility.io import read_central_places, read_municipalities
    from accessibility.models.central_places import join_central_places

    mun = read_municipalities(REGISTER, bbox=BBOX)
    graph = build_graph(PBF, keep_points=(mun["lon"].to_numpy(), mun["lat"].to_numpy()))
    joined, _ = join_central_places(mun, read_central_places(CENTRAL_PLACES))
    att = attach(graph, joined, max_snap_m=5000)
    table = pd.DataFrame(att[["ags", "node", "snap_m", "access_s", "on_network",
                              "central_place"]])
    graph.meta["test_keep_points"] = (mun["lon"].to_numpy(), mun["lat"].to_numpy())
    return graph, table


@pytest.fixture(scope="module")
def references(region):
    """Reference times from TRUTH: 150 random pairs, 30 nearest OZ, 20 nearest MZ."""
    graph, mun = region
    truth = _scaled(graph, TRUTH)
    on = mun[mun["on_network"]].reset_index(drop=True)
    rng = np.random.default_rng(20240601)
    i = rng.choice(len(on), 170)
    j = rng.choice(len(on), 170)
    i, j = i[i != j][:150], j[i != j][:150]
    node, acc = on["node"].to_numpy(np.int64), on["access_s"].to_numpy()
    # scipy's Dijkstra on the truth graph: independent of the code under test.
    origins, row = np.unique(node[i], return_inverse=True)
    net = dijkstra(_min_csr(truth), indices=origins)[row, node[j]]
    assert np.isfinite(net).all()
    rows = [pd.DataFrame({"origin_ags": on["ags"].to_numpy()[i],
                          "destination": on["ags"].to_numpy()[j],
                          "minutes": (acc[i] + net + acc[j]) / 60.0})]
    for kind, classes, n in ((NEAREST_OZ, ["Oberzentrum"], 30),
                             (NEAREST_MZ, ["Oberzentrum", "Mittelzentrum"], 20)):
        fac = on[on["central_place"].isin(classes)]
        nf = routing.nearest_facility(truth, fac["node"].to_numpy(np.int64),
                                      fac["access_s"].to_numpy(), reverse=True)
        o = rng.choice(np.flatnonzero(~on["central_place"].isin(classes)), n, replace=False)
        rows.append(pd.DataFrame({"origin_ags": on["ags"].to_numpy()[o], "destination": kind,
                                  "minutes": (acc[o] + nf.dist[node[o]]) / 60.0}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def exact(region, references):
    graph, mun = region
    return calibrate_speeds(graph, mun, references, iterations=10,
                            base_profile=DEFAULT_PROFILE)


# ----------------------------------------------------------- shortest-path tree


@pytest.mark.parametrize("reverse", [False, True])
def test_shortest_path_tree_matches_scipy(region, reverse):
    graph, _ = region
    g = graph.reversed if reverse else graph
    ref_all = dijkstra(_min_csr(g), indices=[0, 17, 1234, graph.n_nodes - 1])
    for source, ref in zip([0, 17, 1234, graph.n_nodes - 1], ref_all):
        dist, pred = routing.shortest_path_tree(graph, source, reverse=reverse)
        np.testing.assert_allclose(dist, ref, rtol=1e-12)
        assert pred[source] == -1
        assert (pred[np.isfinite(dist)] >= 0).sum() == np.isfinite(dist).sum() - 1
        # Following pred_edge back to the source sums to the distance.
        tails = g.sources
        for v in np.random.default_rng(source).choice(graph.n_nodes, 50):
            total, u, steps = 0.0, v, 0
            while pred[u] >= 0:
                e = pred[u]
                assert g.targets[e] == u
                total += g.time_s[e]
                u = tails[e]
                steps += 1
                assert steps <= graph.n_nodes
            assert u == source
            assert total == pytest.approx(dist[v], rel=1e-12, abs=1e-9)


def test_shortest_path_tree_limit_and_unreachable():
    off = np.array([0, 1, 2, 2, 2], np.int64)   # 0 -> 1 -> 2, node 3 isolated
    tgt = np.array([1, 2], np.int32)
    w = np.array([1.0, 2.0])
    dist, pred = kernels.shortest_path_tree(off, tgt, w, 0, np.inf)
    np.testing.assert_array_equal(dist, [0, 1, 3, np.inf])
    np.testing.assert_array_equal(pred, [-1, 0, 1, -1])
    dist, pred = kernels.shortest_path_tree(off, tgt, w, 0, 2.0)
    np.testing.assert_array_equal(dist, [0, 1, np.inf, np.inf])
    np.testing.assert_array_equal(pred, [-1, 0, -1, -1])


# ------------------------------------------------------------------ recovery


def test_recovers_known_factors(exact):
    res = exact
    assert res.n_pairs == 200 and res.skipped == []
    assert res.converged
    substantial = [c for c, s in res.path_share.items() if s >= SUBSTANTIAL]
    assert {"motorway", "primary", "secondary", "trunk"} <= set(substantial)
    for c in substantial:
        assert res.factors[c] == pytest.approx(TRUTH.get(c, 1.0), rel=0.02), c
    assert res.before["mae_min"] > 1.0
    assert res.after["mae_min"] < 0.05
    assert abs(res.after["bias_min"]) < 0.05 and res.after["corr"] > 0.999
    # Classes the references do not use keep factor 1.
    assert res.factors["residential"] == 1.0 and res.factors["ferry"] == 1.0
    # The profile carries the factors; the report names them and the errors.
    assert res.profile.class_factors["motorway"] == pytest.approx(res.factors["motorway"])
    text = "\n".join(res.lines())
    assert "motorway" in text and "before" in text and "after" in text


def test_noisy_references(region, references):
    graph, mun = region
    rng = np.random.default_rng(7)
    noisy = references.assign(
        minutes=np.maximum(references["minutes"] + rng.normal(0, 1, len(references)), 0))
    res = calibrate_speeds(graph, mun, noisy, iterations=10)
    for c, s in res.path_share.items():
        if s >= SUBSTANTIAL:
            assert res.factors[c] == pytest.approx(TRUTH.get(c, 1.0), rel=0.10), c
    # 1 minute of noise is what is left, not more.
    assert 0.5 < res.after["rmse_min"] < 1.3
    assert res.after["mae_min"] < res.before["mae_min"]


def test_bounds_respected(region, references):
    graph, mun = region
    res = calibrate_speeds(graph, mun, references, bounds=(0.9, 1.1), iterations=3)
    for c in res.fitted_classes:
        assert 0.9 - 1e-9 <= res.factors[c] <= 1.1 + 1e-9
    assert res.factors["motorway"] == pytest.approx(0.9)   # truth 0.8 is beyond the bound
    assert res.factors["primary"] == pytest.approx(1.1)    # truth 1.15 is beyond the bound
    with pytest.raises(InputError, match="bounds"):
        calibrate_speeds(graph, mun, references, bounds=(1.0, 1.0))
    with pytest.raises(InputError, match="bounds"):
        calibrate_speeds(graph, mun, references, bounds=(0.0, 2.0))


def test_classes_argument(region, references):
    graph, mun = region
    res = calibrate_speeds(graph, mun, references, classes=["motorway"], iterations=2)
    assert res.fitted_classes == ["motorway"]
    assert all(f == 1.0 for c, f in res.factors.items() if c != "motorway")
    with pytest.raises(InputError, match="not road classes"):
        calibrate_speeds(graph, mun, references, classes=["autobahn"])


def test_skipped_pairs_reported(region, references, caplog):
    graph, mun = region
    mun = mun.copy()
    off_net = mun.loc[mun["on_network"] & (mun["central_place"] == "keine"), "ags"].iloc[0]
    mun.loc[mun["ags"] == off_net, ["node", "access_s", "on_network"]] = [pd.NA, np.nan, False]
    oz = mun.loc[mun["central_place"] == "Oberzentrum", "ags"].iloc[0]
    some = references["origin_ags"].iloc[0]
    extra = pd.DataFrame({
        "origin_ags": ["09162000", off_net, some, oz, some],
        "destination": [some, some, off_net, NEAREST_OZ, some],
        "minutes": [10.0, 10.0, 10.0, 0.0, 0.0]})
    refs = pd.concat([references.iloc[:40], extra], ignore_index=True)
    refs = refs[refs["origin_ags"].ne(off_net) | refs.index.isin(range(40, 45))]
    res = calibrate_speeds(graph, mun, refs, iterations=2)
    reasons = dict(res.skipped)
    assert set(reasons) == {40, 41, 42, 43, 44}
    assert "not in the municipality table" in reasons[40]
    assert "origin" in reasons[41] and "not on the network" in reasons[41]
    assert "destination" in reasons[42] and "not on the network" in reasons[42]
    assert "itself a Oberzentrum" in reasons[43]
    assert "same municipality" in reasons[44]
    assert res.n_pairs == len(refs) - 5
    assert "skipped row 41" in "\n".join(res.lines())
    assert sum("skipped" in r.message for r in caplog.records) >= 5
    with pytest.raises(InputError, match="no usable reference pairs"):
        calibrate_speeds(graph, mun, extra)


# -------------------------------------------------------------- reading input


def _write(tmp_path, text, name="refs.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_read_reference_times(tmp_path):
    p = _write(tmp_path, "Origin_AGS;Destination;Minutes\n"
                         "3241001;03101000;25,5\n"
                         "03101000; Nearest  oz ;0\n"
                         "03101000;NEAREST MZ;12\n")
    df = read_reference_times(p)
    assert list(df.columns) == ["origin_ags", "destination", "minutes"]
    assert df["origin_ags"].tolist() == ["03241001", "03101000", "03101000"]
    assert df["destination"].tolist() == ["03101000", NEAREST_OZ, NEAREST_MZ]
    assert df["minutes"].tolist() == [25.5, 0.0, 12.0]


@pytest.mark.parametrize("text, match", [
    ("origin_ags,minutes\n03241001,3\n", "no 'destination' column"),
    ("origin_ags,destination,min\n03241001,03101000,3\n", "no 'minutes' column"),
    ("origin_ags,destination,minutes\n03241001,03101000,abc\n", "not numbers"),
    ("origin_ags,destination,minutes\n03241001,03101000,-4\n", "from 0 to 1440"),
    ("origin_ags,destination,minutes\n03241001,03101000,\n", "empty on lines 2"),
    ("origin_ags,destination,minutes\n03241001,03101000,inf\n", "from 0 to 1440"),
    ("origin_ags,destination,minutes\n03241001,03101000,90000\n", "seconds given"),
    ("origin_ags,destination,minutes\n0324100X,03101000,3\n", "8-digit"),
    ("origin_ags,destination,minutes\n99241001,03101000,3\n", "Land code"),
    ("origin_ags,destination,minutes\n03241001,nearest GZ,3\n", "nearest OZ"),
    ("origin_ags,destination,minutes\n03241001,123456789,3\n", "8-digit"),
])
def test_bad_reference_file(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        read_reference_times(_write(tmp_path, text))


def test_missing_reference_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_reference_times(tmp_path / "nope.csv")


# --------------------------------------------------------- factors and profile


def test_apply_factors(region):
    graph, _ = region
    g2 = apply_factors(graph, {"motorway": 2.0})
    mw = np.array(graph.class_names)[graph.road_class] == "motorway"
    np.testing.assert_allclose(g2.time_s[mw], graph.time_s[mw] / 2)
    np.testing.assert_array_equal(g2.time_s[~mw], graph.time_s[~mw])
    assert not g2.time_s.flags.writeable and g2.meta["class_factors"] == {"motorway": 2.0}
    assert apply_factors(g2, {"motorway": 1.5}).meta["class_factors"]["motorway"] == 3.0
    with pytest.raises(InputError, match="unknown road classes"):
        apply_factors(graph, {"autobahn": 1.1})
    with pytest.raises(InputError, match="positive"):
        apply_factors(graph, {"motorway": 0})


def test_write_profile_toml_roundtrip(tmp_path):
    prof = DEFAULT_PROFILE.with_factors({"motorway": 0.8123456789, "primary": 1.15})
    prof = dataclasses.replace(prof, description='with "quotes" and ümlauts')
    p = write_profile_toml(prof, tmp_path / "cal.toml", comment=["a comment"])
    back = load_profile(p)
    assert back == prof
    assert back.fingerprint() == prof.fingerprint()
    assert p.read_text("utf-8").startswith("# a comment")


def test_run_calibration_writes_profile_that_reproduces_times(region, references, tmp_path):
    graph, mun = region
    refs = tmp_path / "refs.csv"
    references.to_csv(refs, index=False)
    out = tmp_path / "calibrated.toml"
    res = run_calibration(graph, mun, refs, out_profile=out, iterations=10)
    assert res.after["mae_min"] < 0.05
    prof = load_profile(out)
    assert prof == res.profile
    for c in res.fitted_classes:
        assert prof.class_factors[c] == pytest.approx(res.factors[c])
    # A graph built with the written profile has the calibrated times.
    from accessibility.graph import build_graph

    rebuilt = build_graph(PBF, prof, keep_points=graph.meta["test_keep_points"])
    expected = apply_factors(graph, {c: res.factors[c] for c in res.fitted_classes})
    assert rebuilt.n_edges == expected.n_edges
    np.testing.assert_array_equal(rebuilt.targets, expected.targets)
    np.testing.assert_allclose(rebuilt.time_s, expected.time_s, rtol=1e-9)
