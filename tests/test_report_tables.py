"""The report's tables in the report's shape (issue 24): Abb. 14, Tab. 3, and the
national tables from the register alone. Expected numbers are derived by hand from
the hand-made unit tables below."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from accessibility import api
from accessibility.cli import main
from accessibility.models.report_tables import (
    FUNCTION_ROWS,
    REPORT_TYPES,
    function_by_type,
    function_type_lage,
    mz_oz_by_lage,
    settlement_type_counts,
    types_by_land,
)

from .conftest import shared

DATA = Path(__file__).resolve().parents[1] / "accessibility" / "data"

KLEIN = "Kleinstadt"


def units() -> pd.DataFrame:
    """Eight GVBs: five Kleinstädte (K4 without a Lage class), a Großstadt, a
    Mittelstadt and a Landgemeinde."""
    return pd.DataFrame({
        "gvb": ["K1", "K2", "K3", "K4", "K5", "G1", "M1", "L1"],
        "population": [15_000.0, 12_000.0, 6_000.0, 7_000.0, 5_000.0, 200_000.0, 30_000.0,
                       3_000.0],
        "settlement_type": [KLEIN] * 5 + ["Großstadt", "Mittelstadt", "Landgemeinde"],
        "settlement_type_detail": ["größere Kleinstadt", "größere Kleinstadt",
                                   "kleine Kleinstadt", "kleine Kleinstadt",
                                   "kleine Kleinstadt", "kleinere Großstadt",
                                   "kleinere Mittelstadt", "Landgemeinde"],
        "lage": ["zentral", "zentral", "sehr peripher", None, "sehr peripher",
                 "sehr zentral", "sehr zentral", "peripher"],
        "mz_class": ["< 7.5 min", ">= 15 min", "7.5-15 min", "< 7.5 min", None,
                     "0 (is MZ/OZ)", "0 (is MZ/OZ)", ">= 15 min"],
        "oz_class": ["30-60 min", "30-60 min", ">= 60 min", "15-30 min", ">= 60 min",
                     "0 (is OZ)", "15-30 min", "30-60 min"],
        "central_place": ["Mittelzentrum", "Grundzentrum", "keine", "keine",
                          "Grundzentrum mit MZ-Teilfunktion", "Oberzentrum",
                          "Teil eines Mittelzentrums", "keine"],
    })


def test_abb14_kleinstaedte_by_lage_and_size_in_percent():
    t = mz_oz_by_lage(units())
    assert list(t.columns[:2]) == ["indicator", "class"]
    t = t.set_index(["indicator", "class"])
    groups = [f"{lg}, {s}" for lg in ("sehr zentral", "zentral", "peripher", "sehr peripher")
              for s in ("größere Kleinstadt", "kleine Kleinstadt")]
    assert [c[:-2] for c in t.columns if c.endswith(" %")] == groups
    # zentral, größere Kleinstadt: K1 (< 7.5 min) and K2 (>= 15 min), half each
    g = "zentral, größere Kleinstadt"
    assert t.loc[("MZ", "< 7.5 min"), f"{g} %"] == 50.0
    assert t.loc[("MZ", ">= 15 min"), f"{g} %"] == 50.0
    assert t.loc[("MZ", "< 7.5 min"), f"{g} residents"] == 15_000.0
    assert t.loc[("MZ", "total"), f"{g} n"] == 2
    assert t.loc[("OZ", "30-60 min"), f"{g} %"] == 100.0
    # sehr peripher, kleine Kleinstadt: K3 (7.5-15 min) and K5 (no MZ time)
    g = "sehr peripher, kleine Kleinstadt"
    assert t.loc[("MZ", "7.5-15 min"), f"{g} %"] == 50.0
    assert t.loc[("MZ", "no value"), f"{g} %"] == 50.0
    assert t.loc[("MZ", "total"), f"{g} %"] == 100.0
    # an empty group has no share; only the four Kleinstädte with a Lage count
    assert np.isnan(t.loc[("MZ", "< 7.5 min"), "peripher, kleine Kleinstadt %"])
    n = t.loc[("MZ", "total"), [c for c in t.columns if c.endswith(" n")]]
    assert n.sum() == 4
    assert t.attrs["left_out"] == 1  # K4, without a Lage class
    assert ("OZ", "no value") not in t.index  # every Kleinstadt has an OZ class


def test_tab3_function_by_type_and_lage_in_percent_of_the_column():
    t = function_type_lage(units()).set_index("function")
    assert list(t.index) == list(FUNCTION_ROWS) + ["total"]
    cols = [c[:-2] for c in t.columns if c.endswith(" %")]
    assert cols == [f"{s} {g}" for s in REPORT_TYPES for g in ("zentral", "peripher")]
    assert t.loc["OZ (oder Teil)", "Großstadt zentral n"] == 1  # sehr zentral is zentral
    assert t.loc["MZ (oder Teil)", "Mittelstadt zentral %"] == 100.0  # Teil eines MZ
    assert t.loc["MZ (oder Teil)", "größere Kleinstadt zentral %"] == 50.0
    assert t.loc["GZ (incl. Klein-/Unterzentren)", "größere Kleinstadt zentral %"] == 50.0
    # kleine Kleinstadt peripher: K3 (keine) and K5 (GZ mit MZ-Teilfunktion); K4 left out
    assert t.loc["keine", "kleine Kleinstadt peripher %"] == 50.0
    assert t.loc["GZ mit MZ-Teilfunktion", "kleine Kleinstadt peripher n"] == 1
    assert t.loc["GZ mit MZ-Teilfunktion", "kleine Kleinstadt peripher residents"] == 5_000.0
    assert t.loc["keine", "Landgemeinde peripher n"] == 1
    assert (t.loc["MZ mit OZ-Teilfunktion", [c for c in t.columns if c.endswith(" n")]]
            == 0).all()
    assert t.loc["total", [c for c in t.columns if c.endswith(" n")]].sum() == 7
    assert t.attrs["left_out"] == 1


def test_the_api_gives_the_same_tables():
    assert api.mz_oz_by_lage(units()).equals(mz_oz_by_lage(units()))
    assert api.function_type_lage(units()).equals(function_type_lage(units()))


def test_national_tables_without_the_lage():
    g = units().assign(gvb=["01A", "01B", "02A", "02B", "02C", "03A", "03B", None])
    g.loc[7, "gvb"] = "03C"
    f = function_by_type(g).set_index("function")
    assert f.loc["total", "kleine Kleinstadt n"] == 3  # the Lage plays no part here
    assert f.loc["keine", "kleine Kleinstadt %"] == pytest.approx(100 * 2 / 3, abs=0.05)
    area = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], index=g["gvb"])
    c = settlement_type_counts(g, area).set_index("settlement_type")
    assert c.loc["Kleinstadt", "n_gvb"] == 5
    assert c.loc["Kleinstadt", "area_km2"] == 15.0  # 1 + 2 + 3 + 4 + 5
    assert c.loc["Kleinstadt", "residents"] == 45_000.0
    assert c.loc["Kleinstadt", "difference_pct"] == pytest.approx(100 * (5 / 2126 - 1), abs=0.01)
    assert c.loc["total", "n_gvb"] == 8
    by_land = types_by_land(g).set_index("land")
    assert by_land.loc["01", "Kleinstadt n"] == 2 and by_land.loc["02", "Kleinstadt n"] == 3
    assert by_land.loc["03", "land_name"] == "Niedersachsen"
    assert by_land.loc["total", "Großstadt n"] == 1


def test_report_tables_from_the_register_alone(tmp_path):
    """The national counts of BBSR (docs/METHOD.md: 80 / 634 / 2,126 / 1,779) from
    the 2019 register and the 2024 central places, without a road graph."""
    register = shared("municipalities", "gemeinden_2019_destatis.csv")
    cp = shared("central_places", "zentrale_orte_2024.csv")
    assert main(["-q", "report-tables", "--municipalities", str(register),
                 "--central-places", str(cp), "--output", str(tmp_path)]) == 0
    c = pd.read_csv(tmp_path / "settlement_type_counts.csv").set_index("settlement_type")
    ref = {"Großstadt": 80, "Mittelstadt": 634, "Kleinstadt": 2126, "Landgemeinde": 1779}
    for typ, n in ref.items():  # within 1 %, or one GVB for the 80 Großstädte
        assert abs(c.loc[typ, "n_gvb"] - n) <= max(0.01 * n, 1), typ
    assert c.loc["total", "residents"] == 83_166_711  # the register's total
    by_land = pd.read_csv(tmp_path / "settlement_types_by_land.csv", dtype={"land": str})
    assert len(by_land) == 17 and by_land["land"].iloc[:16].tolist() == [
        f"{i:02d}" for i in range(1, 17)]
    f = pd.read_csv(tmp_path / "table_function_by_type.csv").set_index("function")
    # the 2024 designations: about 10.7 % of the Kleinstädte without a function
    klein = ["größere Kleinstadt", "kleine Kleinstadt"]
    share = (f.loc["keine", [f"{k} n" for k in klein]].sum()
             / f.loc["total", [f"{k} n" for k in klein]].sum())
    assert 0.09 < share < 0.12
    assert "No road graph" in (tmp_path / "summary.md").read_text()


def test_the_summary_shows_the_shares_and_what_is_left_out():
    from accessibility import report

    tables = {"table_mz_oz_by_lage": mz_oz_by_lage(units()),
              "table_function_type_lage": function_type_lage(units())}
    text = "\n".join(report.unit_tables_section(tables, unit="gvb", n_unpopulated=0,
                                                national=True))
    assert "this run covers Germany" in text
    assert "1 Kleinstädte without a Lage class" in text
    assert "| MZ | < 7.5 min |  |  | 100.0 |" not in text  # shares, not counts ...
    assert "| MZ | < 7.5 min |  |  | 50.0 |" in text      # ... zentral, größere: K1 of 2
    empty = {k: t.iloc[0:0] for k, t in tables.items()}
    assert "Empty: no unit has a Lage class" in "\n".join(
        report.unit_tables_section(empty, unit="gvb", n_unpopulated=0))


def munis() -> pd.DataFrame:
    """GVB A (two members, größere Kleinstadt, zentral), B (Landgemeinde, sehr
    peripher, no walk data), C (incomplete) and an unpopulated forest."""
    return pd.DataFrame({
        "ags": ["1", "2", "3", "4", "5"], "gvb": ["A", "A", "B", "C", "D"],
        "population": [12_000.0, 3_000.0, 4_000.0, 9_000.0, 0.0],
        "area_km2": [10.0, 30.0, 20.0, 5.0, 50.0],
        "settlement_type": [KLEIN, KLEIN, "Landgemeinde", KLEIN, None],
        "settlement_type_detail": ["größere Kleinstadt", "größere Kleinstadt", "Landgemeinde",
                                   "kleine Kleinstadt", None],
        "lage": ["zentral", "zentral", "sehr peripher", "zentral", None],
        "gvb_complete": [True, True, True, False, True],
        "in_region": [True] * 5,
        "t_motorway_min": [10.0, 20.0, 40.0, 1.0, 1.0],
        "t_mz_min": [0.0, 8.0, 16.0, 1.0, 1.0],
        "in_commuters": [3_000.0, 100.0, 200.0, 1.0, 0.0],
        "out_commuters": [2_000.0, 900.0, 1_000.0, 1.0, 0.0],
        "employees_workplace": [6_000.0, 500.0, 800.0, 1.0, 0.0],
        "commuter_balance": [1_000.0, -800.0, -800.0, 0.0, 0.0],
        "walk_residents": [1_000.0, 500.0, np.nan, 100.0, np.nan],
        "walk_share_all": [0.8, 0.2, np.nan, 1.0, np.nan],
    })


def test_group_indicators_by_type_and_lage_beside_the_runs_mean():
    g = api.group_indicators(munis()).set_index(["grouping", "group"])
    k = g.loc[("settlement_type", "größere Kleinstadt")]
    assert (k["n_gvb"], k["n_municipalities"], k["population"]) == (1, 2, 15_000.0)
    assert k["t_motorway_min_area_w"] == pytest.approx((10 * 10 + 20 * 30) / 40)
    assert k["t_motorway_min_pop_w"] == pytest.approx((10 * 12_000 + 20 * 3_000) / 15_000)
    assert k["t_mz_min_area_w"] == pytest.approx(8 * 30 / 40)
    assert k["walk_share_all"] == pytest.approx((0.8 * 1_000 + 0.2 * 500) / 1_500)
    # ratios of sums: (3,100 - 2,900) per 100 of 6,500 employees; 15,000 / 6,500
    assert k["commuter_balance_per_100"] == pytest.approx(200 / 6_500 * 100)
    assert k["residents_per_job"] == pytest.approx(15_000 / 6_500)
    # no walk data in B: empty, never 0 %
    assert np.isnan(g.loc[("settlement_type", "Landgemeinde"), "walk_share_all"])
    # C is incomplete, the forest unpopulated: neither counts, not even in the total
    assert g.loc[("settlement_type", "kleine Kleinstadt"), "n_gvb"] == 0
    t = g.loc[("total", "total (this run)")]
    assert (t["n_gvb"], t["population"]) == (2, 19_000.0)
    assert t["t_motorway_min_area_w"] == pytest.approx((100 + 600 + 800) / 60)
    assert t["residents_per_job"] == pytest.approx(19_000 / 7_300)
    assert g.loc[("lage", "zentral"), "population"] == 15_000.0
    assert g.loc[("kleinstadt_lage", "zentral, größere Kleinstadt"), "n_gvb"] == 1
    assert list(g.index.get_level_values("grouping").unique()) == [
        "settlement_type", "lage", "kleinstadt_lage", "total"]


def test_the_lage_section_gives_the_spread_beside_the_mean():
    from accessibility import report

    # exact potentials 100k, 200k, 300k, 400k and a flagged one left out
    res = pd.DataFrame({"potential_2h": [100_000.0, 200_000.0, 300_000.0, 400_000.0, 9e6],
                        "edge_flag": [False] * 4 + [True]})
    text = "\n".join(report.lage_section(res, pd.DataFrame({"n": [1]}), method="m",
                                         national=True))
    # mean 250,000; population sd sqrt(mean of squared deviations) = 111,803;
    # quartiles by linear interpolation 175,000 / 250,000 / 325,000
    assert "mean over them 250,000 (BBSR: 183,000 over Germany)" in text
    assert "standard deviation 111,803, quartiles 175,000 / 250,000 / 325,000" in text


def test_report_tables_never_replaces_a_file_it_did_not_write(tmp_path, capsys):
    """Issue 29: report-tables wrote its CSVs over whatever was there. Now it checks
    the folder before the work, like a run, and publishes all files at once."""
    mine = tmp_path / "summary.md"
    mine.write_text("my notes\n")
    args = ["-q", "report-tables", "--municipalities", str(DATA / "gemeinden.csv"),
            "--central-places", str(DATA / "zentrale_orte.csv"), "--output", str(tmp_path)]
    assert main(args) == 2
    assert "no run wrote: summary.md" in capsys.readouterr().err
    assert mine.read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.md"]
    mine.unlink()
    assert main(args) == 0 and main(args) == 0  # its own files: replaced
    assert (tmp_path / "settlement_type_counts.csv").is_file()
