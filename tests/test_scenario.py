"""What-if scenarios (issue 13): the file, the road changes, and the done-when on the
embedded sample."""

from __future__ import annotations

import numpy as np
import pytest

from accessibility._errors import InputError
from accessibility.graph import from_edges
from accessibility.models.scenario import Scenario, apply_roads, read_scenario
from accessibility.pipeline import scenario

RUEHEN = "03151024"  # a Grundzentrum of the sample


def write(tmp_path, text: str, name: str = "s.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("text,match", [
    ('[central_places]\n"03151024" = "Weltstadt"', "not a central-place function"),
    ('[population]\n"0315102x" = 5', "not an AGS"),
    ('[population]\n"03151024" = -5', "number >= 0"),
    ('[roads]\nclosed_areas = [[[52.3, 10.5], [52.3, 10.6], [52.4, 10.6]]]', "outside Germany"),
    ('[roads]\nspeed_factors = { motorway = 0 }', r"factor in \(0, 10\]"),
    ('[roads]\nclosed = 1', "unknown \\[roads\\] keys"),
    ('[streets]\nx = 1', "unknown keys"),
    ('name = "nothing"', "changes nothing"),
])
def test_bad_scenarios_are_clear_errors(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        read_scenario(write(tmp_path, text))


def test_road_changes_on_a_hand_made_graph():
    """A square of four nodes, one edge of class 1 ("motorway") per direction on the
    south side: a factor 0.5 doubles its time; a closed area over the east side
    removes both directions there and nothing else."""
    lon = np.array([10.0, 10.01, 10.01, 10.0])
    lat = np.array([52.0, 52.0, 52.01, 52.01])
    u = np.array([0, 1, 1, 2, 2, 3, 3, 0])
    v = np.array([1, 0, 2, 1, 3, 2, 0, 3])
    cls = np.array([1, 1, 0, 0, 0, 0, 0, 0], np.uint8)
    g = from_edges(u, v, np.full(8, 60.0), np.full(8, 700.0), cls,
                   class_names=("primary", "motorway"), osm_id=np.arange(4), lon=lon, lat=lat)
    slow, info = apply_roads(g, Scenario(speed_factors={"motorway": 0.5}))
    south = (slow.sources == 0) & (slow.targets == 1)
    assert slow.time_s[south][0] == 120.0 and info["edges_closed"] == 0
    assert (slow.time_s[slow.road_class == 0] == 60.0).all()
    import shapely

    east = shapely.Polygon([(10.008, 52.002), (10.012, 52.002), (10.012, 52.008),
                            (10.008, 52.008)])
    closed, info = apply_roads(g, Scenario(closed_areas=[east]))
    assert info["edges_closed"] == 2 and closed.n_edges == 6 and closed.n_nodes == 4
    assert not ((closed.sources == 1) & (closed.targets == 2)).any()
    only_mw, info = apply_roads(g, Scenario(closed_areas=[east], closed_classes=["motorway"]))
    assert info["edges_closed"] == 0  # the east side is a primary road
    with pytest.raises(InputError, match="road classes"):
        apply_roads(g, Scenario(speed_factors={"ferry": 0.5}))


def test_a_new_mittelzentrum_on_the_sample(tmp_path, monkeypatch):
    """Issue 13's done-when: making a Grundzentrum an MZ gives it 0 minutes, no MZ time
    increases, the diff lists who gains; the rerun builds no graph."""
    s = write(tmp_path, f'name = "Rühen MZ"\n[central_places]\n"{RUEHEN}" = "Mittelzentrum"\n')
    o = {"output.maps": False}
    res = scenario(None, s, output_dir=tmp_path / "out", overrides=o)
    d = res.municipalities.set_index("ags")
    assert d.loc[RUEHEN, "t_mz_min_base"] > 0 and d.loc[RUEHEN, "t_mz_min_scenario"] == 0.0
    change = d["t_mz_min_change"].dropna()
    assert (change <= 1e-9).all()
    gainers = change[change < -1e-9]
    assert len(gainers) >= 5 and "Rühen" in res.summary
    assert f"{len(gainers)} municipalities" in res.summary
    assert (d.loc[gainers.index, "t_oz_min_change"].fillna(0) == 0).all()  # OZ untouched
    assert {"scenario_municipalities", "scenario_gvb", "moves_mz_class", "summary"} <= set(
        res.files)
    # the rerun reuses the cached graph: no OSM parse
    import accessibility.graph as graph_mod

    def no_parse(*a, **k):
        raise AssertionError("the graph was built again")

    monkeypatch.setattr(graph_mod, "graph_from_osm", no_parse)
    again = scenario(None, s, output_dir=tmp_path / "out", overrides=o)
    assert again.municipalities["t_mz_min_change"].equals(res.municipalities["t_mz_min_change"])
    assert again.stats["times_s"]["graph and municipalities (cached graph)"] < 30


def test_a_closed_motorway_lengthens_and_never_shortens(tmp_path):
    """The A39 south of Braunschweig closed (motorway edges in the box only): the OZ
    times of the municipalities routed over it grow, none shrinks."""
    s = write(tmp_path, 'name = "A39 closed"\n[roads]\n'
                        'closed_areas = [[[10.45, 52.18], [10.55, 52.18], [10.55, 52.24], '
                        '[10.45, 52.24]]]\nclosed_classes = ["motorway"]\n')
    res = scenario(None, s, output_dir=tmp_path / "out", overrides={"output.maps": False})
    d = res.municipalities
    assert res.stats["edges_closed"] > 0
    for v in ("t_mz_min", "t_oz_min"):
        ch = d[f"{v}_change"].dropna()
        assert (ch >= -1e-9).all(), v
    assert (d["t_oz_min_change"] > 0.01).sum() >= 10
    # a closure never turns a missing value into a number, nor a number into 0
    both = d["t_oz_min_base"].notna() & d["t_oz_min_scenario"].notna()
    assert (d.loc[both & (d["t_oz_min_base"] > 0), "t_oz_min_scenario"] > 0).all()
