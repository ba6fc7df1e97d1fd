"""Central places of another vintage: an older file in the same format (``ags``,
``gemeinde``, ``zo_funktion``) with the INKAR spellings is read as the current one,
and the report's tables follow its designations (issue 24)."""

from __future__ import annotations

from importlib.resources import files

import pandas as pd

from accessibility.api import report_tables
from accessibility.io import read_central_places, read_municipalities

DATA = files("accessibility") / "data"
#: The shipped (2024) designations in the spellings of older BBSR / INKAR tables.
OLD_SPELLING = {"Oberzentrum": "Oberzentrum (Teil)", "Mittelzentrum": "Mittelzentrum (oder Teil)",
                "Grundzentrum": "Unterzentrum", "keine": "-"}


def test_an_older_file_in_the_same_format(tmp_path):
    new = pd.read_csv(DATA / "zentrale_orte.csv", dtype=str)
    assert list(new.columns) == ["ags", "gemeinde", "zo_funktion"]
    assert set(new["zo_funktion"]) <= set(OLD_SPELLING)
    old = new.assign(zo_funktion=new["zo_funktion"].map(OLD_SPELLING))
    # one more vintage difference: a Grundzentrum of a one-member GVB was, in the older
    # plan, a Grundzentrum with a partial Mittelzentrum function
    reg = read_municipalities(DATA / "gemeinden.csv")
    size = reg.groupby("gvb")["ags"].transform("size")
    alone = set(reg.loc[(size == 1) & (reg["population"] > 0), "ags"])
    gz = new.index[(new["zo_funktion"] == "Grundzentrum") & new["ags"].isin(alone)][0]
    old.loc[gz, "zo_funktion"] = "Grundzentrum mit mittelzentraler Teilfunktion"
    path = tmp_path / "zentrale_orte_2016.csv"
    old.to_csv(path, index=False)

    got = read_central_places(path).set_index("ags")["central_place"]
    want = read_central_places(DATA / "zentrale_orte.csv").set_index("ags")["central_place"]
    changed = got != want.reindex(got.index)
    assert changed.sum() == 1 and got[new.loc[gz, "ags"]] == "Grundzentrum mit MZ-Teilfunktion"

    # Tab. 3's function columns: the one GVB moves from "GZ" to "GZ mit MZ-Teilfunktion"
    t_new = report_tables(reg, want.reset_index())["table_function_by_type"].set_index("function")
    t_old = report_tables(reg, path)["table_function_by_type"].set_index("function")
    n = [c for c in t_new.columns if c.endswith(" n")]
    diff = (t_old[n] - t_new[n])
    assert diff.loc["GZ mit MZ-Teilfunktion"].sum() == 1
    assert diff.loc["GZ (incl. Klein-/Unterzentren)"].sum() == -1
    assert diff.drop(["GZ mit MZ-Teilfunktion", "GZ (incl. Klein-/Unterzentren)"]).abs().sum().sum() == 0
