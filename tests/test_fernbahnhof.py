"""The Fernbahnhof as BBSR counts it (issue 24): the DB station table shipped as the
default source, the IC/EC/ICE rule with the price-class rule as an option, stations
attached to their nearest routable node, and ``t_ldrail_min`` in every run, checked
against scipy / networkx on the same graph."""

from __future__ import annotations

import pandas as pd
import pytest

from accessibility import api, defaults
from accessibility._errors import InputError
from accessibility.cli import build_parser
from accessibility.config import load_config
from accessibility.io.destinations import STATIONS_PATH, read_long_distance_stations
from accessibility.pipeline import run

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


def test_the_sample_runs_with_the_shipped_stations(tmp_path):
    res = run(output_dir=tmp_path, overrides={"output.maps": False,
                                              "output.models": ["central_places", "indicators"],
                                              "output.formats": ["parquet"]})
    m = pd.read_parquet(res.files["parquet"]).set_index("ags")
    assert m.loc["03154028", "nearest_ldrail_name"] == "Helmstedt"  # a price-class-4 IC stop
    assert m.loc["03154028", "t_ldrail_min"] < 5
