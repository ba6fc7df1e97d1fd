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
    ('[population]\n"03151024" = -5', "residents from 0"),
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


def test_a_new_link_joins_the_nearest_nodes_both_ways(tmp_path):
    """A new link from near node 0 to near node 2 of the square: two edges, at its
    minutes or at its speed over the straight line between the nodes."""
    lon = np.array([10.0, 10.01, 10.01, 10.0])
    lat = np.array([52.0, 52.0, 52.01, 52.01])
    g = from_edges(np.array([0, 1, 1, 2, 2, 3, 3, 0]), np.array([1, 0, 2, 1, 3, 2, 0, 3]),
                   np.full(8, 60.0), np.full(8, 700.0), np.zeros(8, np.uint8),
                   class_names=("primary",), osm_id=np.arange(4), lon=lon, lat=lat)
    s = read_scenario(write(tmp_path, '[[roads.new_links]]\nfrom = [10.0001, 52.0001]\n'
                                      'to = [10.0099, 52.0099]\nminutes = 0.5\n'))
    new, info = apply_roads(g, s)
    assert new.n_edges == 10 and info["new_links"][0]["from_node"] == 0
    diag = (new.sources == 0) & (new.targets == 2)
    assert new.time_s[diag][0] == 30.0 and ((new.sources == 2) & (new.targets == 0)).any()
    s = read_scenario(write(tmp_path, '[[roads.new_links]]\nfrom = [10.0, 52.0]\n'
                                      'to = [10.01, 52.01]\nspeed_kmh = 36\n', "b.toml"))
    new, _ = apply_roads(g, s)
    d = float(np.hypot(g.x[0] - g.x[2], g.y[0] - g.y[2]))
    assert new.time_s[(new.sources == 0) & (new.targets == 2)][0] == pytest.approx(d / 10.0)
    with pytest.raises(InputError, match="either speed_kmh or minutes"):
        read_scenario(write(tmp_path, '[[roads.new_links]]\nfrom = [10.0, 52.0]\n'
                                      'to = [10.01, 52.01]\n', "c.toml"))
    with pytest.raises(InputError, match="outside Germany"):
        read_scenario(write(tmp_path, '[[roads.new_links]]\nfrom = [52.0, 10.0]\n'
                                      'to = [10.01, 52.01]\nminutes = 1\n', "d.toml"))


def test_the_python_api_gives_the_same_difference(tmp_path):
    """accessibility.scenario(...) on DataFrames equals the run's difference."""
    import accessibility as acc
    from accessibility.pipeline import graph_and_municipalities

    s = write(tmp_path, f'[central_places]\n"{RUEHEN}" = "Mittelzentrum"\n')
    _, g, m, inputs = graph_and_municipalities(None, {"output.maps": False}, "t")
    from accessibility.models.municipalities import mark_region

    d = acc.scenario(g, mark_region(g, m), inputs.central_places, s).table.set_index("ags")
    run = scenario(None, s, output_dir=tmp_path / "o", overrides={"output.maps": False})
    r = run.municipalities.set_index("ags")
    np.testing.assert_allclose(d["t_mz_min_change"].to_numpy(float),
                               r.loc[d.index, "t_mz_min_change"].to_numpy(float), equal_nan=True)
    assert d.loc[RUEHEN, "t_mz_min_scenario"] == 0.0


def test_a_designation_scenario_reuses_the_cached_hierarchy(tmp_path, monkeypatch):
    """With [lage] engine = "ch" the base builds the contraction hierarchy once; the
    scenario (same graph) and a rerun load it from the cache."""
    from accessibility.routing import ContractionHierarchy

    s = write(tmp_path, f'[central_places]\n"{RUEHEN}" = "Mittelzentrum"\n')
    o = {"output.maps": False, "lage.engine": "ch"}
    builds = []
    real = ContractionHierarchy.build.__func__

    def counting(cls, graph, **kw):
        builds.append(graph.n_nodes)
        return real(cls, graph, **kw)

    monkeypatch.setattr(ContractionHierarchy, "build", classmethod(counting))
    first = scenario(None, s, output_dir=tmp_path / "o", overrides=o)
    assert len(builds) == 1  # base and scenario share it
    scenario(None, s, output_dir=tmp_path / "o", overrides=o)
    assert len(builds) == 1  # the rerun builds nothing
    assert first.municipalities["potential_2h_change"].notna().any()
