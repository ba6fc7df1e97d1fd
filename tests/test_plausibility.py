"""Implausible settings are input errors with the value and the fix, not silent
nonsense (issue 29)."""

from __future__ import annotations

import math

import pytest

from accessibility import nahversorgung
from accessibility._errors import InputError
from accessibility.config import load_config


@pytest.mark.parametrize("thresholds", [[math.nan, 183_000, 410_000], [-5, 1, 2],
                                        [0, 183_000, 410_000], [81_000, math.inf, 410_000]])
def test_lage_thresholds_must_be_positive_numbers(thresholds):
    with pytest.raises(InputError, match="three positive numbers"):
        load_config(None, {"lage.thresholds": thresholds})


def test_lage_thresholds_of_the_report_pass():
    assert load_config(None, {"lage.thresholds": [81_000, 183_000, 410_000]}).lage.thresholds


def test_walk_limit_beyond_the_search_is_an_error():
    with pytest.raises(InputError, match="beyond max_distance_m"):
        load_config(None, {"walk.limit_m": 6000})
    # the same with room to search is fine
    c = load_config(None, {"walk.limit_m": 6000, "walk.max_distance_m": 6000})
    assert c.walk.limit_m == c.walk.max_distance_m == 6000
    with pytest.raises(InputError, match="beyond max_distance_m"):
        nahversorgung(None, None, limit_m=2000, max_distance_m=1500)


def register(pop):
    import pandas as pd

    return pd.DataFrame({"ags": ["03101000", "03102000", "03103000"], "lon": [10.5, 10.3, 10.8],
                         "lat": [52.3, 52.1, 52.4], "population": pop})


@pytest.mark.parametrize("pop,words", [([0, 0, 0], "every population"),
                                       ([1e15, 2e15, 3e15], "implausible population"),
                                       ([1000, 1e300, 5], "implausible population"),
                                       ([1000, -3, 5], "implausible population")])
def test_implausible_populations(pop, words):
    from accessibility import prepare_municipalities

    with pytest.raises(InputError, match=words):
        prepare_municipalities(register(pop))


def test_plausible_populations_pass():
    from accessibility import prepare_municipalities

    m = prepare_municipalities(register([3_900_000, 0, 12]))  # Berlin, a gemeindefreies Gebiet
    assert m["population"].tolist() == [3_900_000, 0, 12]


def commuters(inc, out):
    import pandas as pd

    return pd.DataFrame({"ags": ["03101000", "03102000", "03103000"], "in_commuters": inc,
                         "out_commuters": out})


@pytest.mark.parametrize("inc,out,words", [
    ([1e9, 2e9, 3e9], [1, 2, 3], "implausible commuter counts"),
    ([10, 20, 30], [-1, 2, 3], "implausible commuter counts"),
    ([10, 20, 30], [5000, 6000, 7000], "more out-commuters than residents")])
def test_implausible_commuters(inc, out, words):
    from accessibility.models.lage import daytime_population

    with pytest.raises(InputError, match=words):
        daytime_population(register([1000, 2000, 3000]), commuters(inc, out))


def test_one_odd_commuter_row_is_clipped_not_refused():
    from accessibility.models.lage import daytime_population

    day, _, lines = daytime_population(register([1000, 2000, 3000]),
                                       commuters([10, 20, 30], [1500, 100, 100]))
    assert day.tolist() == [0.0, 1920.0, 2930.0] and any("clipped" in x for x in lines)


@pytest.mark.parametrize("speeds,zones", [({"motorway": 5000.0}, {}),
                                          ({"motorway": 130.0}, {"de:urban": 500.0})])
def test_profile_speeds_in_km_h(speeds, zones):
    from accessibility.profile import SpeedProfile

    with pytest.raises(InputError, match="speeds must be in"):
        SpeedProfile(name="x", speeds_kmh=speeds, maxspeed_zones_kmh=zones)
    assert SpeedProfile(name="ok", speeds_kmh={"motorway": 130.0}, class_factors={"motorway": 1.5})


@pytest.mark.parametrize("lon,lat,words", [
    ([52.3, 52.1, 52.4], [10.5, 10.3, 10.8], "look swapped"),
    ([604_000.0, 590_000.0, 620_000.0], [5_795_000.0, 5_780_000.0, 5_800_000.0], "projected"),
    ([2.35, 10.3, 10.8], [48.85, 52.1, 52.4], "outside Germany")])
def test_the_api_checks_coordinates_as_the_reader_does(lon, lat, words, tmp_path):
    import pandas as pd

    from accessibility import prepare_municipalities, read_municipalities

    table = register([1000, 2000, 3000]).assign(lon=lon, lat=lat)
    with pytest.raises(InputError, match=words):
        prepare_municipalities(table)  # a notebook's table
    table.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(InputError, match=words):
        read_municipalities(tmp_path / "m.csv")  # the same as a file
    assert isinstance(table, pd.DataFrame)


def test_lage_without_population_is_an_error_not_sehr_peripher():
    import numpy as np

    from accessibility.models.lage import daytime_population

    with pytest.raises(InputError, match="needs the municipalities' populations"):
        daytime_population(register([np.nan, np.nan, np.nan]))


def test_a_scenario_as_a_dict_and_its_checks():
    from accessibility.models.scenario import read_scenario

    s = read_scenario({"name": "Rühen MZ", "central_places": {"03151024": "MZ"}})
    assert s.name == "Rühen MZ" and s.functions == {"03151024": "Mittelzentrum"}
    with pytest.raises(InputError, match="residents from 0"):
        read_scenario({"population": {"03151024": 1e15}})
    with pytest.raises(InputError, match="a TOML file, a dict"):
        read_scenario(42)


@pytest.mark.parametrize("kmh", [0.001, 0.5, 5000.0])
def test_the_api_checks_the_access_speed(kmh):
    from accessibility.graph import from_edges, snap_points

    g = from_edges([0], [1], [60.0], [1000.0], [0], class_names=("primary",), osm_id=[1, 2],
                   lon=[10.0, 10.01], lat=[52.0, 52.0])
    with pytest.raises(InputError, match="plausible range 1 to"):
        snap_points(g, [10.0], [52.001], access_speed_kmh=kmh)


def grid_file(tmp_path, x, y, pop):
    import pandas as pd

    p = tmp_path / "grid.csv"
    pd.DataFrame({"x": x, "y": y, "Einwohner": pop}).to_csv(p, index=False)
    return p


def test_a_grid_in_thousands_or_at_corners_is_refused(tmp_path):
    import numpy as np

    from accessibility import read_population_grid

    xs = 4_321_500.0 + 1000.0 * np.arange(12)  # 1 km cell centres near Hannover
    ys = np.full(12, 3_258_500.0)
    whole = [120, 3400, 7, 900, 15_000, 20, 1, 300, 4500, 80, 60, 2]
    assert read_population_grid(grid_file(tmp_path, xs, ys, whole))["population"].sum() == sum(whole)
    with pytest.raises(InputError, match="thousands"):
        read_population_grid(grid_file(tmp_path, xs, ys, [v / 1000 for v in whole]))
    with pytest.raises(InputError, match="lower-left corners"):
        read_population_grid(grid_file(tmp_path, xs - 500, ys - 500, whole))
    # most real cells are empty (0, or suppressed): they must not hide the fractions
    with pytest.raises(InputError, match="thousands"):
        read_population_grid(grid_file(tmp_path, np.r_[xs, xs], np.r_[ys, ys + 1000.0],
                                       [v / 1000 for v in whole] + [0] * 12))


def test_graph_clip_reaches_every_graph_build(monkeypatch):
    """[graph] clip (--clip) crops the extract in every command that builds the graph;
    a box with min > max is an input error."""
    from accessibility.pipeline import inputs

    with pytest.raises(InputError, match=r"\[graph\] clip"):
        load_config(None, {"graph.clip": [9.0, 49.0, 8.0, 50.0]})
    c = load_config(None, {"graph.clip": [8.5, 49.3, 8.9, 49.5]})
    assert c.graph.build_options()["clip"] == (8.5, 49.3, 8.9, 49.5)
    assert load_config(None, None).graph.build_options()["clip"] is None
    seen = {}

    def fake_build(osm, profile, **kw):
        seen.update(kw)
        raise InputError("stop here")

    monkeypatch.setattr(inputs, "build_graph", fake_build)
    with pytest.raises(InputError, match="stop here"):
        inputs.prepare_graph(c, None)
    assert seen["clip"] == (8.5, 49.3, 8.9, 49.5) and seen["crs"] == c.graph.metric_crs
