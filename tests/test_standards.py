"""Accessibility standards (issue 13): who lives beyond 30 / 60 minutes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accessibility._errors import InputError
from accessibility.models.standards import beyond_standards, standard_class, standards_table
from accessibility.pipeline import run


def toy() -> pd.DataFrame:
    return pd.DataFrame({
        "ags": ["1", "2", "3", "4", "5"], "kreis": ["K1", "K1", "K1", "K2", "K2"],
        "population": [1000.0, 200.0, 50.0, 400.0, 0.0],
        "t_mz_min": [10.0, 30.0, 31.0, np.nan, 45.0],
        "t_oz_min": [61.0, 60.0, 20.0, 70.0, 10.0],
    })


def test_beyond_is_strictly_longer_and_missing_stays_missing():
    b = beyond_standards(toy(), mz_min=30, oz_min=60)
    assert b["beyond_mz_standard"].tolist()[:3] == [False, False, True]  # 30 meets 30
    assert b["beyond_mz_standard"].isna().tolist() == [False, False, False, True, False]
    assert b["beyond_oz_standard"].tolist() == [True, False, False, True, False]
    assert standard_class(b).tolist() == ["beyond the OZ standard", "both met",
                                          "beyond the MZ standard", None, "beyond the MZ standard"]
    with pytest.raises(InputError, match="positive number of minutes"):
        beyond_standards(toy(), mz_min=0)


def test_counts_and_residents_per_kreis():
    t = standards_table(beyond_standards(toy()), "kreis").set_index("kreis")
    # K1: only ags 3 (50 residents) beyond 30 min to an MZ; ags 1 (1000) beyond 60 to an OZ
    assert t.loc["K1", "n_beyond_mz"] == 1 and t.loc["K1", "residents_beyond_mz"] == 50.0
    assert t.loc["K1", "share_residents_beyond_mz"] == pytest.approx(50 / 1250)
    assert t.loc["K1", "residents_beyond_oz"] == 1000.0
    # K2: ags 4 has no MZ time (not counted beyond, counted as no value); ags 5 is
    # unpopulated: beyond, with 0 residents
    assert t.loc["K2", "n_no_value_mz"] == 1 and t.loc["K2", "n_beyond_mz"] == 1
    assert t.loc["K2", "residents_beyond_mz"] == 0.0
    assert np.isnan(t.loc["K2", "share_residents_beyond_mz"])  # no resident with a value
    total = standards_table(beyond_standards(toy()), None).iloc[0]
    assert total["residents_beyond_oz"] == 1400.0 and total["n_municipalities"] == 5


def test_run_writes_the_standards(tmp_path):
    res = run(output_dir=tmp_path, overrides={"central_places.standard_mz_min": 15.0})
    m = res.municipalities[res.municipalities["in_region"]]
    std = pd.read_csv(res.files["standards"], dtype={"key": str})
    total = std[std["level"] == "total"].iloc[0]
    beyond = m["t_mz_min"] > 15.0
    assert total["n_beyond_mz"] == int(beyond.sum())
    assert total["residents_beyond_mz"] == pytest.approx(m.loc[beyond, "population"].sum())
    assert set(std["level"]) == {"gvb", "kreis", "land", "total"}
    assert "Mittelzentrum within 15 minutes" in res.summary
    assert res.files["map_standards"].is_file()
