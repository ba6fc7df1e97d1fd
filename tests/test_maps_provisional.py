"""Values a larger extract might change are marked on the maps, not shown as final
(issue 23): dotted over, with their own legend entry and count."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from accessibility import maps
from accessibility.pipeline.stages import provisional


def table():
    polys = [box(10.0 + 0.1 * i, 52.0, 10.1 + 0.1 * i, 52.1) for i in range(4)]
    return gpd.GeoDataFrame({"ags": list("abcd"), "gvb": ["G", "G", "H", "I"],
                             "t": [5.0, 12.0, np.nan, 30.0],
                             "cls": ["< 15 min", "< 15 min", None, "15-30 min"],
                             "oz_edge_flag": [False, True, False, True]},
                            geometry=polys, crs="EPSG:4326")


@pytest.fixture
def legends(monkeypatch):
    seen = []

    def keep(fig, path, lang=None):
        seen.append([t.get_text() for ax in fig.axes if ax.get_legend()
                     for t in ax.get_legend().get_texts()])
        return path

    monkeypatch.setattr(maps, "_save", keep)
    return seen


def test_flagged_values_have_their_own_legend_entry(legends, tmp_path):
    t = table()
    flag = provisional(t, ["oz_edge_flag"], None)
    maps.map_values(t, "t", tmp_path / "a.png", title="x", label="min", provisional=flag,
                    lang="en")
    maps.map_categories(t, "cls", tmp_path / "b.png", title="x", provisional=flag, lang="en")
    maps.map_catchments(t.assign(near=["a", "a", None, "d"]), "near", t.iloc[:0],
                        tmp_path / "c.png", title="x", provisional=flag, lang="en")
    for texts in legends:  # d and b are flagged and have a value: 2
        assert f"{maps.PROVISIONAL_LABEL} (2)" in texts, texts
    # nothing flagged: no entry
    legends.clear()
    maps.map_values(t, "t", tmp_path / "d.png", title="x", label="min",
                    provisional=np.zeros(4, bool), lang="en")
    assert not any(maps.PROVISIONAL_LABEL in x for texts in legends for x in texts)


def test_a_gvb_mean_is_provisional_when_any_member_is():
    t = table()
    assert provisional(t, ["oz_edge_flag"], "gvb").tolist() == [True, True, False, True]
    assert provisional(t, ["oz_edge_flag"], None).tolist() == [False, True, False, True]
    assert provisional(pd.DataFrame({"x": [1]}), ["oz_edge_flag"], None) is None
