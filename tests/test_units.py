"""The reporting unit (issue 11): GVB table, unit columns, the report's cross-tables,
unpopulated areas. Expected values are computed here by hand or by plain loops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from accessibility._errors import InputError
from accessibility.models.central_places import class_shares, classify, weighted_means
from accessibility.models.units import (apply_unit, function_type_lage_counts, gvb_table,
                                        mz_oz_by_lage_counts, unit_rows)
from accessibility.pipeline import run


def toy() -> pd.DataFrame:
    """Two GVBs: A (three members, the largest an MZ) and B (one member), and an
    unpopulated gemeindefreies Gebiet C."""
    return pd.DataFrame({
        "ags": ["01000001", "01000002", "01000003", "01000004", "01000005"],
        "name": ["a1", "a2", "a3", "b1", "forest"],
        "gvb": ["A", "A", "A", "B", "C"],
        "population": [12_000.0, 3_000.0, 1_000.0, 4_000.0, 0.0],
        "area_km2": [10.0, 30.0, 60.0, 20.0, 50.0],
        "central_place": ["Mittelzentrum", "keine", "Grundzentrum", "keine", "keine"],
        "t_mz_min": [0.0, 10.0, 20.0, 16.0, 30.0],
        "t_oz_min": [25.0, 31.0, 40.0, 70.0, 80.0],
        "potential_2h": [200_000.0, 90_000.0, 60_000.0, 50_000.0, 100_000.0],
        "n_reached": [5, 5, 5, 5, 5],
        "edge_flag": [False] * 5,
        "lage": ["zentral", "peripher", "sehr peripher", "sehr peripher", None],
        "walk_residents": [1_000.0, 500.0, np.nan, np.nan, np.nan],
        "walk_share_all": [0.8, 0.2, np.nan, np.nan, np.nan],
        **{f"walk_share_{s}": [1.0, 0.5, np.nan, np.nan, np.nan]
           for s in ("pharmacy", "primary_school", "gp", "stop", "post_office", "supermarket")},
    })


def test_gvb_table_means_classes_lage_and_walk_shares():
    g = gvb_table(toy()).set_index("gvb")
    # A: area-weighted (0*10 + 10*30 + 20*60) / 100 = 15.0 min -> ">= 15 min";
    # population-weighted (0*12000 + 10*3000 + 20*1000) / 16000 = 3.125 min
    assert g.loc["A", "t_mz_min"] == pytest.approx(15.0)
    assert g.loc["A", "mz_class"] == ">= 15 min"
    assert g.loc["A", "t_mz_min_pop_w"] == pytest.approx(3.125)
    # OZ: (25*10 + 31*30 + 40*60) / 100 = 35.8 -> "30-60 min"
    assert g.loc["A", "t_oz_min"] == pytest.approx(35.8)
    assert g.loc["A", "oz_class"] == "30-60 min"
    pop_w = gvb_table(toy(), weighting="population").set_index("gvb")
    assert pop_w.loc["A", "mz_class"] == "< 7.5 min"
    # the Lage of the settlement centre (the most populous member, a1)
    assert g.loc["A", "centre_ags"] == "01000001" and g.loc["A", "lage"] == "zentral"
    assert g.loc["A", "settlement_type"] == "Kleinstadt"  # an MZ under 20,000
    # Nahversorgung: residents served over residents: (0.8*1000 + 0.2*500) / 1500
    assert g.loc["A", "walk_share_all"] == pytest.approx(0.6)
    assert g.loc["A", "walk_residents"] == 1_500.0
    assert np.isnan(g.loc["B", "walk_share_all"]) and np.isnan(g.loc["B", "walk_residents"])
    # the forest: no type, no class, no Lage, not in a mean
    assert g.loc["C", "n_unpopulated"] == 1
    assert g.loc["C", ["settlement_type", "mz_class", "oz_class", "lage"]].isna().all()
    assert np.isnan(g.loc["C", "t_mz_min"])


def test_members_carry_their_gvbs_lage_and_keep_their_own():
    m = toy()
    g = gvb_table(m)
    u = apply_unit(m, g, "gvb").set_index("ags")
    a = u[u["gvb"] == "A"]
    assert (a["lage"] == "zentral").all() and (a["lage_gvb"] == "zentral").all()
    assert a["lage_gemeinde"].tolist() == ["zentral", "peripher", "sehr peripher"]
    assert (a["potential_2h_gvb"] == 200_000.0).all()
    assert (a["mz_class_gvb"] == ">= 15 min").all() and (a["t_mz_min_gvb"] == 15.0).all()
    assert a["lage_code"].tolist() == [2, 2, 2]
    assert u.loc["01000005", ["lage", "lage_gvb"]].isna().all()
    # applied twice (as the pipeline does after each model) it keeps the own class
    again = apply_unit(u.reset_index(), g, "gvb").set_index("ags")
    assert again["lage_gemeinde"].equals(u["lage_gemeinde"])
    own = apply_unit(m, g, "gemeinde").set_index("ags")
    assert own["lage"].tolist()[:4] == ["zentral", "peripher", "sehr peripher", "sehr peripher"]
    with pytest.raises(InputError, match="unit must be one of"):
        apply_unit(m, g, "kreis")


def test_cross_tables_count_units_and_residents():
    m = toy()
    g = gvb_table(m)
    rows = unit_rows(m, g, "gvb")
    assert sorted(rows["gvb"]) == ["A", "B"]  # the forest is left out
    t = mz_oz_by_lage_counts(rows).set_index(["indicator", "class"])
    # A: MZ ">= 15 min", Lage zentral, größere Kleinstadt (largest member 12,000);
    # B: ">= 15 min" (16 min), sehr peripher, Landgemeinde (4,000, no function)
    assert t.loc[("MZ", ">= 15 min"), "zentral n"] == 1
    assert t.loc[("MZ", ">= 15 min"), "sehr peripher n"] == 1
    assert t.loc[("MZ", ">= 15 min"), "größere Kleinstadt n"] == 1
    assert t.loc[("MZ", ">= 15 min"), "kleine Kleinstadt n"] == 0
    assert t.loc[("MZ", ">= 15 min"), "total residents"] == 20_000.0
    assert t.loc[("MZ", "total"), "total n"] == 2
    # OZ: A 35.8 min (30-60), B 70 min (>= 60)
    assert t.loc[("OZ", "30-60 min"), "zentral n"] == 1
    assert t.loc[("OZ", ">= 60 min"), "sehr peripher residents"] == 4_000.0
    assert list(t.index.get_level_values("class")[:5]) == [
        "0 (is MZ/OZ)", "< 7.5 min", "7.5-15 min", ">= 15 min", "total"]
    f = function_type_lage_counts(rows).set_index(["settlement_type", "lage"])
    assert f.loc[("Kleinstadt", "zentral"), "Mittelzentrum n"] == 1
    assert f.loc[("Landgemeinde", "sehr peripher"), "keine residents"] == 4_000.0
    assert f.loc[("Kleinstadt", "total"), "total n"] == 1
    assert f.loc[("total", "total"), "total n"] == 2
    assert f.loc[("total", "total"), "total residents"] == 20_000.0
    # per Gemeinde: four populated municipalities, each with its own class
    from accessibility.models.settlement import settlement_types

    own = settlement_types(m)[1].assign(mz_class=classify(m["t_mz_min"], m["t_mz_min"] == 0, "mz"),
                                        oz_class=classify(m["t_oz_min"], m["t_oz_min"] == 0, "oz"))
    per_m = mz_oz_by_lage_counts(unit_rows(apply_unit(own, g, "gemeinde"), g, "gemeinde"))
    assert per_m.set_index(["indicator", "class"]).loc[("MZ", "total"), "total n"] == 4


def test_class_shares_per_gvb_and_without_unpopulated():
    m = toy()
    g = gvb_table(m)
    sh = class_shares(unit_rows(m, g, "gvb"), "mz", unit="gvb").set_index("class")
    assert sh.loc[">= 15 min", "gvb"] == 2 and sh["gvb"].sum() == 2
    assert sh.loc[">= 15 min", "share_population"] == pytest.approx(1.0)
    per_m = class_shares(m.assign(mz_class=["0 (is MZ/OZ)", "7.5-15 min", ">= 15 min",
                                            ">= 15 min", ">= 15 min"]), "mz")
    assert per_m["municipalities"].sum() == 4  # the forest is not counted


def test_weighted_means_leave_unpopulated_areas_out():
    m = toy()
    w = weighted_means(m, None, ["t_mz_min"]).iloc[0]
    # (0*10 + 10*30 + 20*60 + 16*20) / 120; the forest's 50 km² do not count
    assert w["t_mz_min_area_w"] == pytest.approx(1820 / 120)
    assert w["n_unpopulated"] == 1 and w["t_mz_min_n_missing"] == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0.1, 100), st.floats(0, 90),
                          st.integers(0, 50_000)), min_size=1, max_size=25))
def test_gvb_means_equal_a_plain_loop(rows):
    """Area- and population-weighted GVB means against a loop over the members."""
    df = pd.DataFrame(rows, columns=["g", "area_km2", "t_mz_min", "population"])
    df["ags"] = [f"{i:08d}" for i in range(len(df))]
    df["gvb"] = [f"G{x}" for x in df["g"]]
    df["population"] = df["population"].astype(float)
    got = gvb_table(df).set_index("gvb")
    for key, grp in df.groupby("gvb"):
        live = grp[grp["population"] > 0]
        area = sum(r.area_km2 * r.t_mz_min for r in live.itertuples())
        a_w = sum(r.area_km2 for r in live.itertuples())
        expect = area / a_w if a_w > 0 else np.nan
        if np.isnan(expect):
            assert np.isnan(got.loc[key, "t_mz_min"])
        else:
            assert got.loc[key, "t_mz_min"] == pytest.approx(expect, rel=1e-9, abs=1e-9)
        p = sum(r.population for r in live.itertuples())
        if p > 0:
            pw = sum(r.population * r.t_mz_min for r in live.itertuples()) / p
            assert got.loc[key, "t_mz_min_pop_w"] == pytest.approx(pw, rel=1e-9, abs=1e-9)


def test_run_per_gemeinde_unit(tmp_path):
    """``unit = "gemeinde"``: Lage and class tables per municipality, own classes."""
    res = run(output_dir=tmp_path, overrides={"output.maps": False, "output.unit": "gemeinde"})
    m = res.municipalities
    assert (m["lage"].fillna("") == m["lage_gemeinde"].fillna("")).all()
    sh = pd.read_csv(res.files["class_shares"])
    reg = m[m["in_region"] & (m["population"] > 0)]
    road = reg[reg["reason"].fillna("") != "outside the road extract: Nahversorgung values only"]
    assert sh.loc[sh["indicator"] == "mz", "municipalities"].sum() == len(road)
    assert "Reporting unit: municipalities" in res.summary


def test_gvb_walk_shares_of_a_service_without_data_stay_empty():
    """No facility of a service at all: every member's share is NaN (no data), and the
    GVB's too, never 0 %; a member left empty (its cells were not its own) is left out
    of the GVB's share, not counted as unserved."""
    t = toy()
    t["walk_share_pharmacy"] = np.nan  # no pharmacy in the extract
    t.loc[1, "walk_share_stop"] = np.nan  # a2's values left empty
    g = gvb_table(t).set_index("gvb")
    assert np.isnan(g.loc["A", "walk_share_pharmacy"])
    assert g.loc["A", "walk_share_stop"] == pytest.approx(1.0)  # a1 alone: 1000 of 1000
    assert g.loc["A", "walk_share_all"] == pytest.approx(0.6)  # unchanged
