"""Nahversorgung per unit: no value where there is no data, at every level
(municipality, GVB, Kreis, Land, total, group tables, summary), never 0 % (issue 24)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessibility.api import group_indicators, gvb_table, walk_by_unit
from accessibility.report import walk_section
from accessibility.vocabulary import SERVICES

SHARES = [f"walk_share_{s}" for s in SERVICES + ("all",)]


def register() -> pd.DataFrame:
    """Four municipalities: only A has residents in the walk extract; nobody has a
    post office (no facility at all: NaN, not 0 %). GVB G1 = {A, B}, G2 = {C, D};
    Kreis K1 = {A, B, C}, K2 = {D}; Land 03 = {A, B, C}, 04 = {D}."""
    m = pd.DataFrame({"ags": ["03000001", "03000002", "03000003", "04000001"],
                      "name": list("ABCD"), "gvb": ["G1", "G1", "G2", "G2"],
                      "kreis": ["K1", "K1", "K1", "K2"], "land": ["03", "03", "03", "04"],
                      "population": [100.0, 50.0, 80.0, 20.0], "area_km2": 1.0,
                      "in_region": True, "walk_residents": [100.0, np.nan, np.nan, np.nan]})
    for c in SHARES:
        m[c] = [0.5, np.nan, np.nan, np.nan]
    m["walk_share_post_office"] = np.nan
    m["walk_share_all"] = np.nan  # a service without any facility: "all six" unknown
    return m


def test_no_data_is_empty_at_every_level():
    m = register()
    by = {lv: walk_by_unit(m, lv).set_index(lv) for lv in ("gvb", "kreis", "land")}
    total = walk_by_unit(m, None)
    pharmacy = "walk_share_pharmacy"
    # A's 50 % over A's residents: G1, K1, Land 03 and the total have it ...
    for lv, key in (("gvb", "G1"), ("kreis", "K1"), ("land", "03")):
        assert by[lv].loc[key, pharmacy] == 0.5
        assert by[lv].loc[key, "walk_residents"] == 100.0
    assert total[pharmacy].iloc[0] == 0.5
    # ... G2, K2 and Land 04 have no member with data: empty, not 0 %
    for lv, key in (("gvb", "G2"), ("kreis", "K2"), ("land", "04")):
        row = by[lv].loc[key]
        assert row[SHARES + ["walk_residents", "walk_coverage"]].isna().all(), (lv, key)
    # no facility anywhere: empty at every level
    for t in list(by.values()) + [total]:
        assert t["walk_share_post_office"].isna().all() and t["walk_share_all"].isna().all()
    # coverage: A's 100 of G1's 150 residents
    assert by["gvb"].loc["G1", "walk_coverage"] == 100.0 / 150.0
    assert not by["gvb"].loc["G2", "complete"] and total["complete"].iloc[0] is np.False_


def test_gvb_table_group_tables_and_summary_agree():
    m = register()
    g = gvb_table(m).set_index("gvb")
    w = walk_by_unit(m, "gvb").set_index("gvb")
    for c in SHARES + ["walk_residents", "walk_coverage"]:
        np.testing.assert_array_equal(g[c].to_numpy(float), w.loc[g.index, c].to_numpy(float),
                                      err_msg=c)
    assert g.loc["G2", SHARES].isna().all()
    # group tables: A alone has data; a group without it stays empty
    groups = group_indicators(m.assign(settlement_type="Landgemeinde",
                                       settlement_type_detail="Landgemeinde",
                                       lage=["zentral", "zentral", "peripher", "peripher"]))
    by_lage = groups[groups["grouping"] == "lage"].set_index("group")
    assert by_lage.loc["zentral", "walk_share_pharmacy"] == 0.5
    assert np.isnan(by_lage.loc["peripher", "walk_share_pharmacy"])
    # the summary prints an empty cell, never 0
    text = "\n".join(walk_section(m.assign(walk_stop_source="osm"), walk_file="x.pbf",
                                  population_source="grid", stop_source="osm", n_water=0,
                                  n_crossings=0, methods=("straight",), rows=g.reset_index()))
    head = next(line for line in text.splitlines() if line.startswith("| gvb"))
    row = next(line for line in text.splitlines() if line.startswith("| G1"))
    cells = dict(zip((c.strip() for c in head.strip("|").split("|")),
                     (c.strip() for c in row.strip("|").split("|"))))
    assert cells["walk_share_pharmacy"] == "0.500"
    assert cells["walk_share_post_office"] == "" and cells["walk_share_all"] == ""


def test_the_sample_run_writes_no_zero_for_no_data(tmp_path):
    """walk_units.csv of the sample: a unit's share is empty exactly when none of its
    members in the region has a value (e.g. the post offices), per GVB, Kreis, Land
    and overall; gvb.csv says the same."""
    from accessibility.pipeline import run

    res = run(output_dir=tmp_path, overrides={"output.maps": False,
                                              "output.models": ["central_places", "walk"]})
    m = res.municipalities
    units = pd.read_csv(tmp_path / "walk_units.csv", dtype={"key": str})
    assert set(units["level"]) == {"gvb", "kreis", "land", "total"}
    shares = [c for c in units.columns if c.startswith("walk_share_")]
    assert shares
    for level in ("gvb", "kreis", "land"):
        t = units[units["level"] == level].set_index("key")
        has = m[m["in_region"]].groupby(m[level].astype(str))[shares].count() > 0
        assert (t.loc[has.index, shares].notna() == has).all().all(), level
    gvb = pd.read_csv(tmp_path / "gvb.csv", dtype={"gvb": str}).set_index("gvb")
    t = units[units["level"] == "gvb"].set_index("key")
    # both cases occur: units with a value and units without (not the trivial all or none)
    assert t[shares].isna().any().any() and t[shares].notna().any().any()
    assert (gvb[shares].isna() == t.loc[gvb.index, shares].isna()).all().all()
