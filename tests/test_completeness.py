"""Honest at the edges, part B (issue 23): units complete or say so, the Lage only
where its potential is exact, required inputs, one count everywhere. Expected values
are derived here by hand or by plain loops."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from accessibility import api
from accessibility._errors import InputError
from accessibility.cli import main
from accessibility.config import load_config
from accessibility.models.lage_tables import LAGE_UNKNOWN, exact_lage
from accessibility.models.membership import members
from accessibility.models.units import gvb_table, left_out, unit_rows
from accessibility.pipeline.inputs import Inputs, check_models, model_input_problems

from .conftest import REPO, shared


def cut_region() -> pd.DataFrame:
    """GVB A wholly in the region; GVB B with one member outside (as VVG Mosbach);
    GVB C in the region but a member without a time (off the network)."""
    return pd.DataFrame({
        "ags": ["01000001", "01000002", "01000003", "01000004", "01000005", "01000006"],
        "gvb": ["A", "A", "B", "B", "C", "C"],
        "kreis": ["01001", "01001", "01001", "01002", "01002", "01002"],
        "population": [1000.0, 500.0, 800.0, 3000.0, 200.0, 100.0],
        "area_km2": [10.0, 20.0, 5.0, 40.0, 8.0, 2.0],
        "central_place": ["keine"] * 6,
        "in_region": [True, True, True, False, True, True],
        "t_mz_min": [5.0, 10.0, 20.0, np.nan, 12.0, np.nan],
        "t_oz_min": [15.0, 20.0, 40.0, np.nan, 22.0, np.nan],
    })


def test_members_say_whether_a_unit_is_whole():
    m = members(cut_region(), "gvb", ("t_mz_min",)).set_index("gvb")
    assert m.loc["A"].tolist() == [2, 2, True]
    assert m.loc["B"].tolist() == [2, 1, False]      # a member outside the region
    assert m.loc["C"].tolist() == [2, 2, False]      # a member without a value
    # without the value columns C is whole; without in_region every row is inside
    assert members(cut_region(), "gvb").set_index("gvb").loc["C", "complete"]
    assert members(cut_region().drop(columns="in_region"), "gvb")["n_members_in_region"].sum() == 6


def test_weighted_means_cover_the_region_and_carry_the_counts():
    df = cut_region()
    k = api.weighted_means(df, "kreis", ["t_mz_min"]).set_index("kreis")
    # Kreis 01002: the member outside the region has no weight; by hand over 01000005
    assert k.loc["01002", "t_mz_min_area_w"] == pytest.approx(12.0)
    assert k.loc["01001", "t_mz_min_area_w"] == pytest.approx((50 + 200 + 100) / 35)
    assert (k.loc["01001", "n_members"], k.loc["01001", "n_members_in_region"]) == (3, 3)
    assert k.loc["01001", "complete"] and not k.loc["01002", "complete"]
    assert k.loc["01002", "n_municipalities"] == 2  # the region's rows, as before
    total = api.weighted_means(df, None, ["t_mz_min"]).iloc[0]
    assert (total["n_members"], total["n_members_in_region"], total["complete"]) == (6, 5, False)
    std = api.standards_table(df.assign(  # no time, no answer (as beyond_standards)
        beyond_mz_standard=(df["t_mz_min"] > 30).where(df["t_mz_min"].notna()),
        beyond_oz_standard=(df["t_oz_min"] > 60).where(df["t_oz_min"].notna())), "gvb")
    assert std.set_index("gvb")["complete"].to_dict() == {"A": True, "B": False, "C": False}


def test_class_tables_count_complete_units_only():
    g = gvb_table(cut_region())
    assert g.set_index("gvb")["complete"].to_dict() == {"A": True, "B": False, "C": False}
    rows = unit_rows(cut_region(), g, "gvb")
    assert rows["gvb"].tolist() == ["A"] and left_out(g) == 2
    assert len(unit_rows(cut_region(), g, "gvb", complete_only=False)) == 3
    shares = api.class_shares(rows, "mz", unit="gvb")
    assert shares["gvb"].sum() == 1  # B's 20 minutes (one of two members) count nowhere


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.booleans(),
                          st.floats(1.0, 1e4)), min_size=1, max_size=12))
def test_complete_means_every_member_inside_with_a_value(rows):
    """``complete`` against a plain loop over the members."""
    df = pd.DataFrame({"gvb": [f"g{r[0]}" for r in rows], "in_region": [r[1] for r in rows],
                       "t_mz_min": [5.0 if r[2] else np.nan for r in rows],
                       "population": [r[3] for r in rows]})
    got = members(df, "gvb", ("t_mz_min",)).set_index("gvb")["complete"].to_dict()
    for key, part in df.groupby("gvb"):
        want = all(part["in_region"]) and all(part.loc[part["in_region"], "t_mz_min"].notna())
        assert got[key] == want, key


def test_the_lage_is_classed_only_where_the_potential_is_exact():
    pot = pd.Series([50_000.0, 200_000.0, 500_000.0, np.nan])
    lage, reason = exact_lage(pot, [False, True, False, False])
    assert lage.tolist()[0] == "sehr peripher" and lage.tolist()[2] == "sehr zentral"
    assert pd.isna(lage[1]) and reason[1] == LAGE_UNKNOWN  # a lower bound: no class
    assert pd.isna(lage[3]) and pd.isna(reason[3])          # no potential, nothing to say
    assert "larger extract" in LAGE_UNKNOWN and "national run" in LAGE_UNKNOWN


def national_table(munis: pd.DataFrame, flagged=()) -> pd.DataFrame:
    """A stand-in for a national run: potentials by AGS, some flagged."""
    return pd.DataFrame({"ags": munis["ags"], "potential_2h": np.linspace(60e3, 450e3, len(munis)),
                         "n_reached": 10, "edge_flag": munis["ags"].isin(flagged)})


def test_lage_from_takes_the_national_potentials(tmp_path):
    munis = cut_region().assign(name=lambda d: d["ags"], lon=9.0, lat=50.0)
    table = national_table(munis, flagged=["01000002"])
    res = api.lage_from(table, munis, unit=None)
    inside = munis["in_region"].to_numpy()
    want = np.where(inside, table["potential_2h"], np.nan)
    np.testing.assert_allclose(res["potential_2h"].to_numpy(float), want)
    assert res.loc[1, "lage"] is None and res.loc[1, "lage_reason"] == LAGE_UNKNOWN
    assert res.loc[0, "lage"] == "sehr peripher" and res.loc[5, "lage"] == "sehr zentral"
    assert "not a national run" in res.attrs["report"][0]
    # from a run's folder: the parquet, or the CSV when there is no parquet
    table.to_csv(tmp_path / "municipalities.csv", index=False)
    again = api.lage_from(tmp_path, munis, unit=None)
    np.testing.assert_allclose(again["potential_2h"].to_numpy(float), want)
    # a run that lacks a municipality of the region cannot lend its Lage
    # off the national network: in the run, without a potential, so without a class
    off = api.lage_from(table.assign(potential_2h=table["potential_2h"].where(
        table["ags"] != "01000005")), munis, unit=None)
    assert pd.isna(off.loc[4, "potential_2h"]) and pd.isna(off.loc[4, "lage"])
    with pytest.raises(InputError, match="does not cover the region"):
        api.lage_from(table[table["ags"] != "01000005"], munis)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no municipalities.parquet"):
        api.lage_from(tmp_path / "empty", munis)


def test_a_run_without_central_places_is_an_input_error(capsys, tmp_path):
    osm = REPO / "tests" / "data" / "tiny.osm"
    assert main(["-q", "run", "--osm", str(osm), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--central-places" in err and "--models" in err
    # leaving the model out is fine
    check_models(load_config(None, {"inputs.osm": str(osm), "output.models": ["lage"]}))


def test_a_named_model_needs_its_input():
    munis = cut_region().assign(lon=9.0, lat=50.0)
    cfg = load_config(None, {"output.models": ["walk"]})
    problems = model_input_problems(cfg, Inputs(municipalities=munis))
    assert len(problems) == 1 and "--population-grid" in problems[0]
    # the default models: the walk model is skipped later with a note, not an error
    assert model_input_problems(load_config(None), Inputs(municipalities=munis)) == []
    cfg = load_config(None, {"output.models": ["lage"]})
    assert "population" in model_input_problems(
        cfg, Inputs(municipalities=munis.assign(population=np.nan)))[0]


@pytest.fixture(scope="module")
def heidelberg(tmp_path_factory):
    from accessibility.pipeline import run
    out = tmp_path_factory.mktemp("heidelberg")
    res = run(None, output_dir=out, overrides={
        "inputs.osm": shared("osm", "heidelberg.osm.pbf"),
        "inputs.municipalities": shared("municipalities", "gemeinden_2019_destatis.csv"),
        "inputs.central_places": shared("central_places", "zentrale_orte_2024.csv"),
        "inputs.boundaries": shared("municipalities", "vg250_2016.gpkg"),
        "output.maps": False})
    return res


def test_heidelberg_one_count_everywhere(heidelberg):
    out = heidelberg.output_dir
    counts = pd.read_csv(out / "counts.csv")
    n = dict(zip(counts["level"] + ": " + counts["what"], counts["n"]))
    munis = pd.read_csv(out / "municipalities.csv", dtype={"ags": str, "gvb": str})
    assert n["municipalities: written (municipalities.*)"] == len(munis)
    assert (n["municipalities: in the register"]
            == n["municipalities: written (municipalities.*)"]
            + n["municipalities: left out (outside the region, not written)"])
    summary = (out / "summary.md").read_text()
    road = n["municipalities: in the region of the road extract"]
    assert f"{road:,} municipalities in the region" in summary
    for level, key in (("gvb", "gvb"), ("kreis", "kreis"), ("land", "land")):
        table = pd.read_csv(out / f"{level}.csv", dtype={key: str})
        layer = gpd.read_file(out / "municipalities.gpkg", layer=level)
        assert len(table) == len(layer) == n[f"{level}: rows of {level}.csv (and of the "
                                             f"GeoPackage layer {level})"], level
        assert sorted(table[key]) == sorted(layer[key].astype(str)), level
        assert (table["complete"] == layer.set_index(key).loc[table[key], "complete"]
                .to_numpy()).all(), level
        assert int(table["complete"].sum()) == n[f"{level}: complete (every member in the "
                                                 "region, with a value)"]
        assert f"| {level} | rows of {level}.csv" in summary


def test_heidelberg_cut_units_are_incomplete_and_in_no_class_table(heidelberg):
    out = heidelberg.output_dir
    gvb = pd.read_csv(out / "gvb.csv", dtype={"gvb": str}).set_index("gvb")
    kreis = pd.read_csv(out / "kreis.csv", dtype={"kreis": str}).set_index("kreis")
    mosbach = gvb.loc["082255005"]  # VVG der Stadt Mosbach: only Obrigheim inside
    assert not mosbach["complete"] and mosbach["n_members_in_region"] < mosbach["n_members"]
    munis = pd.read_csv(out / "municipalities.csv", dtype={"gvb": str})
    assert not munis.loc[munis["gvb"] == "082255005", "gvb_complete"].any()  # Obrigheim
    assert munis.loc[munis["gvb"] == "082210000", "gvb_complete"].all()      # Heidelberg
    rnk = kreis.loc["08226"]  # Rhein-Neckar-Kreis: 24 of 54
    assert not rnk["complete"] and (rnk["n_members"], rnk["n_members_in_region"]) == (54, 24)
    assert not pd.read_csv(out / "kreis_lage.csv", dtype={"kreis": str}).set_index(
        "kreis").loc["08226", "complete"]
    # the class tables count exactly the complete, populated GVBs of the road extract
    munis = heidelberg.municipalities
    road_gvb = set(munis.loc[munis["in_region"] & munis["t_mz_min"].notna(), "gvb"])
    counted = gvb[gvb["complete"] & (gvb["population"] > 0) & gvb.index.isin(road_gvb)]
    shares = pd.read_csv(out / "class_shares.csv")
    assert shares.loc[shares["indicator"] == "mz", "gvb"].sum() == len(counted)
    assert "082255005" not in counted.index
    cross = pd.read_csv(out / "table_mz_oz_by_lage_counts.csv")
    total = cross[(cross["indicator"] == "MZ") & (cross["class"] == "total")]
    assert int(total["total n"].iloc[0]) == len(counted)
    lage = pd.read_csv(out / "lage_by_settlement_type.csv").set_index("lage")
    # the Lage between GVBs (issue 24): a member off the car network still weighs in at
    # its GVB's centre and carries its potential, so the Lage's complete GVBs include
    # those whose car times lack that member
    units = pd.read_csv(out / "gvb_lage.csv", dtype={"gvb": str})
    lage_counted = units[units["complete"] & (units["population"] > 0)]
    assert lage.loc["total", "total n"] == len(lage_counted)
    assert set(counted.index) <= set(lage_counted["gvb"])
    # Lage classes only where the potential is exact
    res = heidelberg.municipalities
    classed = res["lage_gemeinde"].notna()
    assert not res.loc[classed, "edge_flag"].astype(bool).any()
    assert (res.loc[res["edge_flag"].astype(bool) & res["potential_2h"].notna()
                    & (res["population"] > 0), "lage_reason"] == LAGE_UNKNOWN).all()
    # a regional mean is not compared with the national 183,000
    assert "not comparable with BBSR's national 183,000" in (out / "summary.md").read_text() \
        or not res["lage_gemeinde"].notna().any()


def test_a_run_takes_the_lage_of_another_run(tmp_path):
    """``--lage-from``: the second run searches no potentials, takes the first's and
    says so; classes only where the first run's potential is exact."""
    from accessibility.pipeline import run
    first = run(output_dir=tmp_path / "a", overrides={"output.models": ["lage"],
                                                      "output.maps": False})
    second = run(output_dir=tmp_path / "b", overrides={
        "output.models": ["lage"], "output.maps": False, "inputs.lage_from": tmp_path / "a"})
    a = first.municipalities.set_index("ags")
    b = second.municipalities.set_index("ags")
    inside = b.index[b["in_region"]]
    np.testing.assert_array_equal(a.loc[inside, "potential_2h"], b.loc[inside, "potential_2h"])
    assert (a.loc[inside, "edge_flag"].astype(bool) == b.loc[inside, "edge_flag"]).all()
    assert (a.loc[inside, "lage_gemeinde"].isna() == b.loc[inside, "lage_gemeinde"].isna()).all()
    assert f"Lage imported from {tmp_path / 'a'}" in second.summary
    assert "not a national run" in second.summary


def test_means_count_the_values_a_larger_extract_may_change():
    """``{value}_n_edge_flag``: the flagged members with a value in the mean (by hand:
    Kreis 01001 holds 01000001-3, of them 01000002 and 01000003 flagged; 01000004 is
    outside the region and its flag does not count; 01000006 has no value)."""
    df = cut_region().assign(mz_edge_flag=[False, True, True, True, False, True])
    k = api.weighted_means(df, "kreis", ["t_mz_min", "t_oz_min"]).set_index("kreis")
    assert k["t_mz_min_n_edge_flag"].to_dict() == {"01001": 2, "01002": 0}
    assert "t_oz_min_n_edge_flag" not in k.columns  # no oz_edge_flag: nothing to count
    g = gvb_table(df).set_index("gvb")
    assert g["t_mz_min_n_edge_flag"].to_dict() == {"A": 1, "B": 1, "C": 0}


def test_each_class_table_counts_the_units_complete_for_its_own_time():
    """A region without an Oberzentrum still gets its MZ table: GVB D has MZ times
    and no OZ times (a whole unit for MZ, not for OZ); GVB A's flag comes from its
    flagged member, and the class tables count it per class."""
    df = pd.concat([cut_region(), pd.DataFrame({
        "ags": ["01000007"], "gvb": ["D"], "kreis": ["01002"], "population": [400.0],
        "area_km2": [4.0], "central_place": ["keine"], "in_region": [True],
        "t_mz_min": [3.0], "t_oz_min": [np.nan]})], ignore_index=True)
    df["mz_edge_flag"] = [False, True, False, False, False, False, False]
    g = gvb_table(df)
    mz_rows, n_mz = api.class_rows(df, g, "gvb", "mz")
    oz_rows, n_oz = api.class_rows(df, g, "gvb", "oz")
    assert sorted(mz_rows["gvb"]) == ["A", "D"] and n_mz == 2   # B and C cut or lacking
    assert sorted(oz_rows["gvb"]) == ["A"] and n_oz == 3        # D lacks its OZ time
    assert mz_rows.set_index("gvb")["mz_edge_flag"].to_dict() == {"A": True, "D": False}
    sh = api.class_shares(mz_rows, "mz", unit="gvb").set_index("class")
    # A: area-weighted (5*10 + 10*20) / 30 = 8.33 min -> 7.5-15; D: 3 min -> < 7.5
    assert sh.loc["7.5-15 min", ["gvb", "n_edge_flag"]].tolist() == [1, 1]
    assert sh.loc["< 7.5 min", ["gvb", "n_edge_flag"]].tolist() == [1, 0]
    assert "n_edge_flag" not in api.class_shares(oz_rows, "oz", unit="gvb").columns
    # per municipality: the region's populated rows with their own flags
    m_rows, n_m = api.class_rows(df, None, "gemeinde", "mz")
    assert len(m_rows) == 6 and n_m == 0 and m_rows["mz_edge_flag"].sum() == 1


def test_summary_says_which_means_are_not_exact():
    """The summary's mean line names the flagged values among the values in the mean
    (here 10 municipalities, 1 unpopulated, 2 without an MZ time: 7 values, 3 flagged),
    and the class sentence names the tables' own left-out counts."""
    from accessibility import report

    total = pd.Series({"n_municipalities": 10, "n_unpopulated": 1, "t_mz_min_n_missing": 2,
                       "t_mz_min_n_edge_flag": 3, "t_oz_min_n_missing": 9,
                       "t_oz_min_n_edge_flag": 0, "t_mz_min_area_w": 12.0,
                       "t_oz_min_area_w": np.nan, "t_mz_min_pop_w": 11.0,
                       "t_oz_min_pop_w": np.nan})
    assert "3 of the 7 MZ times" in report.flagged_mean_text(total)
    assert "OZ" not in report.flagged_mean_text(total)
    assert report.flagged_mean_text(total.drop("t_mz_min_n_edge_flag")) == ""
    empty = pd.DataFrame({"class": ["x"], "gvb": [0]})
    text = "\n".join(report.central_places_section([], total, empty, empty, "area",
                                                   n_incomplete=(1, 5)))
    assert "1 Gemeindeverband is left out of the MZ table" in text
    assert "5 Gemeindeverbände are left out of the OZ table" in text
    assert "upper bounds" in text
