"""The Lage between Gemeindeverbände (``units = "gvb"``, the default) and between
municipalities, on a network small enough to compute by hand (issue 24)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accessibility._errors import InputError
from accessibility.models.lage import calibrate_lage, lage_tables, run_lage
from accessibility.models.lage_tables import LAGE_UNKNOWN
from accessibility.models.lage_units import LAGE_INCOMPLETE_GVB, unit_table
from accessibility.routing import Decay

from .conftest import shared
from .test_lage import graph, munis_at

# Five municipalities on the five nodes of a tree, minutes on the edges:
#
#   A(0) --10-- B(1) --20-- C(2) --10-- D(3)
#                            |
#                            30
#                            |
#                           E(4)
#
# Three Gemeindeverbände: X = {A, B} (A the most populous: its settlement centre),
# Y = {C, D} (centre C), Z = {E}. The points lie on the nodes (no access legs);
# daytime population = residents (no commuter table).
NODES = [(10.0, 52.0), (10.1, 52.0), (10.2, 52.0), (10.3, 52.0), (10.2, 51.9)]
EDGES = [(0, 1, 600.0), (1, 2, 1200.0), (2, 3, 600.0), (2, 4, 1800.0)]
POP = [3000.0, 1000.0, 2000.0, 500.0, 5000.0]
GVB = ["X", "X", "Y", "Y", "Z"]
BETA, LIMIT = 0.1, 55.0  # exp(-0.1 t), t in minutes; destinations within 55 minutes
#: peripher from 3,000, zentral from 4,500, sehr zentral from 5,500
THRESHOLDS = (3000.0, 4500.0, 5500.0)
e = np.exp

# GVB units: X weighs 3000 + 1000 = 4000, Y 2000 + 500 = 2500, Z 5000, each at its
# centre. Centre to centre: A-C 30, C-E 30, A-E 60 (> 55, not counted). The own GVB
# counts fully (t = 0):
#   P(X) = 4000 + 2500 e^-3                     = 4124.47
#   P(Y) = 2500 + 4000 e^-3 + 5000 e^-3         = 2948.08
#   P(Z) = 5000 + 2500 e^-3                     = 5124.47
P_GVB = {"X": 4000 + 2500 * e(-3), "Y": 2500 + 9000 * e(-3), "Z": 5000 + 2500 * e(-3)}
# Municipality units (each at its own node; B-E 50 and D-E 40 are within 55, A-E 60 not):
#   P(A) = 3000 + 1000 e^-1 + 2000 e^-3 + 500 e^-4
#   P(B) = 1000 + 3000 e^-1 + 2000 e^-2 + 500 e^-3 + 5000 e^-5
#   P(C) = 2000 + 500 e^-1 + 1000 e^-2 + 3000 e^-3 + 5000 e^-3
#   P(D) = 500 + 2000 e^-1 + 1000 e^-3 + 3000 e^-4 + 5000 e^-4
#   P(E) = 5000 + 2000 e^-3 + 500 e^-4 + 1000 e^-5
P_MUNI = [3000 + 1000 * e(-1) + 2000 * e(-3) + 500 * e(-4),
          1000 + 3000 * e(-1) + 2000 * e(-2) + 500 * e(-3) + 5000 * e(-5),
          2000 + 500 * e(-1) + 1000 * e(-2) + 3000 * e(-3) + 5000 * e(-3),
          500 + 2000 * e(-1) + 1000 * e(-3) + 3000 * e(-4) + 5000 * e(-4),
          5000 + 2000 * e(-3) + 500 * e(-4) + 1000 * e(-5)]
DECAY = Decay("exponential", beta=BETA)
KW = dict(decay=DECAY, limit_min=LIMIT, thresholds=THRESHOLDS)


@pytest.fixture(scope="module")
def tree():
    g = graph(NODES, EDGES)
    m = munis_at(g, list(range(5)), POP, gvb=GVB, kreis="k", central_place="keine")
    return g, m


def test_gvb_units_by_hand(tree):
    g, m = tree
    out = run_lage(g, m, boundary=False, units="gvb", **KW)
    want = [P_GVB[k] for k in GVB]  # every member carries its GVB's potential
    np.testing.assert_allclose(out["potential_2h"], want, rtol=1e-12)
    # X and Z reach two GVBs with residents (themselves and Y), Y all three
    assert out["n_reached"].tolist() == [2, 2, 3, 3, 2]
    # peripher (4,124), sehr peripher (2,948), zentral (5,124)
    assert out["lage"].tolist() == ["peripher"] * 2 + ["sehr peripher"] * 2 + ["zentral"]
    assert out["daytime_population"].tolist() == POP  # the municipality's own, as before
    gvb = lage_tables(out, thresholds=THRESHOLDS)["gvb"].set_index("gvb")
    np.testing.assert_allclose(gvb.loc[["X", "Y", "Z"], "potential_2h"],
                               [P_GVB[k] for k in "XYZ"], rtol=1e-12)
    assert gvb["centre_ags"].tolist() == m["ags"].iloc[[0, 2, 4]].tolist()
    assert any("3 of 3 Gemeindeverbände" in line for line in out.attrs["report"])


@pytest.mark.parametrize("engine", ["dijkstra", "ch"])
def test_gvb_units_by_hand_with_an_edge_and_either_engine(tree, engine):
    """The same sums with the contraction hierarchy, the extract cut at E's node (the
    hierarchy's searches do not see the edge: flagged afterwards), and a calibrated
    run that sums the fit's pair table."""
    g, m = tree
    cut = np.zeros(g.n_nodes, bool)
    cut[4] = True
    out = run_lage(g, m, boundary=cut, units="gvb", engine=engine, **KW)
    np.testing.assert_allclose(out["potential_2h"], [P_GVB[k] for k in GVB], rtol=1e-12)
    assert out["edge_flag"].tolist() == [False, False, True, True, True]
    fit = calibrate_lage(g, m, decay=DECAY, target_mean=4500.0, limit_min=LIMIT, units="gvb",
                         engine=engine)
    again = run_lage(g, m, decay=fit, limit_min=LIMIT, units="gvb", engine=engine,
                     boundary=False)
    assert again.groupby("gvb")["potential_2h"].first().mean() == pytest.approx(4500.0,
                                                                              rel=1e-9)


def test_municipality_units_by_hand(tree):
    g, m = tree
    out = run_lage(g, m, boundary=False, units="municipality", **KW)
    np.testing.assert_allclose(out["potential_2h"], P_MUNI, rtol=1e-12)
    assert out["n_reached"].tolist() == [4, 5, 5, 5, 4]


def test_the_same_without_gvb_column_or_with_single_member_gvbs(tree):
    """A municipality without a GVB key is a GVB of its own: both variants agree."""
    g, m = tree
    own = run_lage(g, m.drop(columns="gvb"), boundary=False, units="gvb", **KW)
    single = run_lage(g, m.assign(gvb=list("PQRST")), boundary=False, units="gvb", **KW)
    np.testing.assert_allclose(own["potential_2h"], P_MUNI, rtol=1e-12)
    np.testing.assert_allclose(single["potential_2h"], P_MUNI, rtol=1e-12)


def test_off_network_member_counts_at_its_centre(tree):
    """A member whose point is far from the network still weighs in its GVB: its
    residents live in the GVB, located at the settlement centre."""
    g, m = tree
    far = m.copy()
    far.loc[1, ["on_network", "node"]] = [False, -1]  # B off the network
    far.loc[1, ["access_s", "snap_m"]] = np.nan
    out = run_lage(g, far, boundary=False, units="gvb", **KW)
    np.testing.assert_allclose(out["potential_2h"], [P_GVB[k] for k in GVB], rtol=1e-12)
    # ... while the municipality variant loses B as a destination (and origin)
    muni = run_lage(g, far, boundary=False, units="municipality", **KW)
    assert np.isnan(muni.loc[1, "potential_2h"])
    assert muni.loc[0, "potential_2h"] == pytest.approx(P_MUNI[0] - 1000 * e(-1), rel=1e-12)


def test_edge_flag_from_the_centre(tree):
    """The extract is cut at E's node: a search is exact only if it cannot reach it
    within 55 minutes. From A (centre of X) E is 60 minutes away: X is exact, and so
    is its member B, although B's own search (50 minutes to E) is not."""
    g, m = tree
    cut = np.zeros(g.n_nodes, bool)
    cut[4] = True
    gvb = run_lage(g, m, boundary=cut, units="gvb", **KW)
    muni = run_lage(g, m, boundary=cut, units="municipality", **KW)
    assert gvb["edge_flag"].tolist() == [False, False, True, True, True]
    assert muni["edge_flag"].tolist() == [False, True, True, True, True]
    assert gvb["lage"].tolist() == ["peripher", "peripher", None, None, None]
    assert gvb["lage_reason"].tolist() == [None, None] + [LAGE_UNKNOWN] * 3


def test_incomplete_gvb_has_no_class(tree):
    """D lies outside the region: Y is cut, its members get no class and say why; the
    GVB table agrees. X and Z are whole and exact."""
    g, m = tree
    out = run_lage(g, m.assign(in_region=[True, True, True, False, True]), boundary=False,
                   units="gvb", **KW)
    assert out["lage"].tolist() == ["peripher", "peripher", None, None, "zentral"]
    assert out["lage_reason"].tolist() == [None, None, LAGE_INCOMPLETE_GVB,
                                           LAGE_INCOMPLETE_GVB, None]
    np.testing.assert_allclose(out["potential_2h"], [P_GVB[k] for k in GVB], rtol=1e-12)
    gvb = lage_tables(out, thresholds=THRESHOLDS)["gvb"].set_index("gvb")
    assert [x if isinstance(x, str) else None for x in gvb["lage"]] == ["peripher", None,
                                                                         "zentral"]
    assert gvb.loc["Y", "lage_reason"] == LAGE_INCOMPLETE_GVB
    assert gvb["complete"].tolist() == [True, False, True]
    # the municipality variant classes D's neighbours by their own potentials
    muni = run_lage(g, m.assign(in_region=[True, True, True, False, True]), boundary=False,
                    units="municipality", **KW)
    assert muni["lage_reason"].isna().all()


def test_calibration_on_gvb_units(tree):
    """The mean over the three GVBs is (11,500 + 14,000 e^(-30 beta)) / 3 (sum of the
    potentials above with beta free); a target of 4,500 gives e^(-30 beta) = 1/7."""
    g, m = tree
    fit = calibrate_lage(g, m, decay=DECAY, target_mean=4500.0, limit_min=LIMIT, units="gvb")
    assert fit.parameter == pytest.approx(np.log(7.0) / 30.0, rel=1e-9)
    assert fit.n_municipalities == 3 and fit.units == "gvb"
    assert "3 Gemeindeverbände" in fit.lines()[0]
    out = run_lage(g, m, decay=fit, limit_min=LIMIT, thresholds=THRESHOLDS, units="gvb",
                   boundary=False)
    gvb = lage_tables(out, thresholds=THRESHOLDS)["gvb"]
    assert gvb["potential_2h"].mean() == pytest.approx(4500.0, rel=1e-9)
    # the municipality variant fits the mean over the five municipalities instead
    muni = calibrate_lage(g, m, decay=DECAY, target_mean=4500.0, limit_min=LIMIT,
                          units="municipality")
    assert muni.n_municipalities == 5 and muni.parameter != pytest.approx(fit.parameter)


def test_unknown_units_is_an_input_error(tree):
    g, m = tree
    with pytest.raises(InputError, match=r"gvb.*municipality"):
        run_lage(g, m, units="kreis")
    with pytest.raises(InputError, match=r"gvb.*municipality"):
        unit_table(m, m["population"], "gemeinde")


def test_api_and_config(tree):
    import accessibility as acc
    from accessibility.config import load_config

    g, m = tree
    out = acc.lage(g, m, units="gvb", **KW)
    np.testing.assert_allclose(out["potential_2h"], [P_GVB[k] for k in GVB], rtol=1e-12)
    assert out["potential_2h_gvb"].tolist() == out["potential_2h"].tolist()
    assert load_config(None).lage.units == "gvb" and load_config(None).lage.calibrate is None
    with pytest.raises(InputError, match="units"):
        load_config(None, overrides={"lage.units": "kreis"})


def test_members_share_one_potential_on_hb(hb_graph):
    """On the HB extract with the national register: every member of a GVB carries one
    potential, that of the GVB computed at its centre; a member off the network still
    has it (its residents count at the centre), and the municipality variant differs
    for the multi-member GVBs (their other members count fully now)."""
    from .hb_lage import hb_lage

    runs = hb_lage(hb_graph, shared("municipalities", "gemeinden_2019_destatis.csv"),
                   shared("central_places", "zentrale_orte_2024.csv"))
    gvb, muni = (r[r["in_region"]].set_index("ags") for r in (runs["gvb"], runs["municipality"]))
    pot = gvb["potential_2h"].dropna()
    per = pot.groupby(gvb.loc[pot.index, "gvb"]).nunique()
    assert len(per) > 80 and (per == 1).all()
    size = gvb.groupby("gvb")["gvb"].transform("size")
    centre = (gvb.reset_index().sort_values(["gvb", "population", "ags"],
                                            ascending=[True, False, True])
              .drop_duplicates("gvb").set_index("ags"))
    multi = centre.index[(size.loc[centre.index] > 1).to_numpy()
                         & muni.loc[centre.index, "potential_2h"].notna().to_numpy()]
    assert len(multi) > 10
    assert (gvb.loc[multi, "potential_2h"] != muni.loc[multi, "potential_2h"]).all()
    assert (gvb["potential_2h"].notna() & muni["potential_2h"].isna()).any()


# ------------------------------------------------------------------ calibration default
def _register(n_lands: int, inside: float) -> pd.DataFrame:
    """100 municipalities per Land of ``n_lands``; the first ``inside`` share of them in
    the region; one unpopulated area outside (it does not count)."""
    ags = [f"{land:02d}{i:06d}" for land in range(1, n_lands + 1) for i in range(100)]
    m = pd.DataFrame({"ags": ags, "population": 1000.0})
    m["in_region"] = np.arange(len(m)) < round(inside * len(m))
    m.loc[m.index[-1], ["population", "in_region"]] = [0.0, False]
    # every Land keeps a municipality in the region
    m.loc[m["ags"].str.endswith("000000"), "in_region"] = True
    return m


@pytest.mark.parametrize("n_lands,inside,national", [
    (16, 1.0, True), (16, 0.995, True), (16, 0.98, False), (15, 1.0, False)])
def test_run_covers_germany(n_lands, inside, national):
    """99 % of the register's populated municipalities in the region, all 16 Länder:
    1,599 populated, 99 % is 1,583.01; 0.995 leaves 1,592 inside, 0.98 leaves 1,568."""
    from accessibility.api import run_covers_germany

    assert run_covers_germany(_register(n_lands, inside)) is national


@pytest.mark.parametrize("calibrate,national,want", [
    (None, True, True), (None, False, False), (True, False, True), (False, True, False)])
def test_calibration_default(calibrate, national, want, caplog):
    """Unset [lage] calibrate: on for a national run, off for a regional one (and the
    summary says why); forced on a regional run: done, with a warning, never silently."""
    from accessibility.config import load_config
    from accessibility.pipeline.stages import lage_calibrates

    config = load_config(None, overrides={} if calibrate is None
                         else {"lage.calibrate": calibrate})
    assert config.lage.calibrate is calibrate
    got, note = lage_calibrates(config, _register(16, 1.0 if national else 0.5))
    assert got is want
    assert ("not calibrated" in note) == (calibrate is None and not national)
    warned = any("does not cover Germany" in r.getMessage() for r in caplog.records)
    assert warned == (calibrate is True and not national)
    assert ("on request" in note) == warned


def test_cli_calibrate_lage_units(tmp_path, capsys):
    """calibrate-lage fits the mean over the Gemeindeverbände by default, over the
    municipalities with --lage-units municipality, and says which."""
    from accessibility.cli import main

    assert main(["-q", "calibrate-lage", "--output", str(tmp_path), "--target", "150000"]) == 0
    gvb = capsys.readouterr().out
    assert main(["-q", "calibrate-lage", "--output", str(tmp_path), "--target", "150000",
                 "--lage-units", "municipality"]) == 0
    muni = capsys.readouterr().out
    assert "Gemeindeverbände on the network" in gvb and 'units = "gvb"' in gvb
    assert "municipalities on the network" in muni and 'units = "municipality"' in muni
    assert gvb.split("beta = ")[1].split()[0] != muni.split("beta = ")[1].split()[0]
