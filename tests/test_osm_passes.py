"""Two-pass OSM reading (accessibility.io.osm_passes): the readers of services,
barriers and destinations give the same result as in one pass, with node locations
for the needed nodes only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from accessibility.io import osm_passes
from accessibility.io.destinations import (
    builtin_airports,
    read_motorway_junctions,
    read_osm_airports,
    read_osm_destinations,
)
from accessibility.io.osm_features import OsmFeatures, extract_features, osm_stops

from .conftest import OSM_DIR

_LAYERS = ("facilities", "water", "crossings", "buildings", "landuse_residential")


def _shared(name: str) -> Path:
    p = OSM_DIR / name
    if not p.exists():
        pytest.skip(f"shared data {p} not available")
    return p


def assert_same_features(a: OsmFeatures, b: OsmFeatures) -> None:
    """Every layer equal: columns, values and geometries to the byte, in order."""
    for layer in _LAYERS:
        x, y = getattr(a, layer), getattr(b, layer)
        pd.testing.assert_frame_equal(pd.DataFrame(x.drop(columns="geometry")),
                                      pd.DataFrame(y.drop(columns="geometry")),
                                      check_exact=True, obj=layer)
        assert x.geometry.to_wkb().tolist() == y.geometry.to_wkb().tolist(), layer


# a lake drawn as a multipolygon of untagged ways, a pharmacy node on no way, a
# building, a river, a footway bridge, an underpass, an unused track
_TINY = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
<node id="1" lat="50.000" lon="8.700"/><node id="2" lat="50.000" lon="8.710"/>
<node id="3" lat="50.010" lon="8.710"/><node id="4" lat="50.010" lon="8.700"/>
<node id="5" lat="50.020" lon="8.700"/><node id="6" lat="50.020" lon="8.701"/>
<node id="7" lat="50.021" lon="8.701"/><node id="8" lat="50.021" lon="8.700"/>
<node id="9" lat="50.030" lon="8.700"/><node id="10" lat="50.030" lon="8.720"/>
<node id="11" lat="50.029" lon="8.705"/><node id="12" lat="50.031" lon="8.705"/>
<node id="13" lat="50.040" lon="8.700"/><node id="14" lat="50.040" lon="8.720"/>
<node id="15" lat="50.050" lon="8.700"/>
<node id="20" lat="50.005" lon="8.720"><tag k="amenity" v="pharmacy"/></node>
<way id="100"><nd ref="1"/><nd ref="2"/><nd ref="3"/></way>
<way id="101"><nd ref="3"/><nd ref="4"/><nd ref="1"/></way>
<way id="102"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
<tag k="building" v="house"/></way>
<way id="103"><nd ref="9"/><nd ref="10"/><tag k="waterway" v="river"/></way>
<way id="104"><nd ref="11"/><nd ref="12"/><tag k="highway" v="footway"/>
<tag k="bridge" v="yes"/></way>
<way id="105"><nd ref="13"/><nd ref="14"/><tag k="highway" v="track"/></way>
<way id="106"><nd ref="14"/><nd ref="15"/><tag k="highway" v="primary"/>
<tag k="tunnel" v="yes"/></way>
<relation id="200"><member type="way" ref="100" role="outer"/>
<member type="way" ref="101" role="outer"/>
<tag k="type" v="multipolygon"/><tag k="natural" v="water"/><tag k="name" v="See"/>
</relation>
</osm>
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("passes") / "tiny.osm"
    p.write_text(_TINY, encoding="utf-8")
    return p


def test_tiny_two_pass_reads_the_same(tiny):
    one = extract_features(tiny, two_pass=False)
    two = extract_features(tiny, two_pass=True)
    assert_same_features(one, two)
    # the lake (a relation of untagged ways) is there, the track is not a crossing
    assert one.water["osm_type"].tolist() == ["way", "relation"]
    assert one.crossings["osm_id"].tolist() == [104, 106]
    assert one.facilities["osm_id"].tolist() == [20] and len(one.buildings) == 1


def test_second_pass_indexes_only_the_noted_nodes(tiny):
    """The unused track's nodes get no location in two passes (all in one)."""
    import osmium

    def located(tracker) -> dict[int, bool]:
        return {o.id: all(n.location.valid() for n in o.nodes)
                for o in osmium_objects(tracker) if o.is_way()}

    def osmium_objects(tracker):
        return osm_passes.read_objects(tiny, osmium.osm.NODE | osmium.osm.WAY, [],
                                       tracker=tracker)

    tracker = osm_passes.track_needed(
        tiny, way_filter=lambda: osmium.filter.KeyFilter("waterway", "building"),
        relation_filter=lambda: osmium.filter.KeyFilter("natural"))
    assert located(None) == dict.fromkeys(range(100, 107), True)
    # the lake's member ways (via the relation), the building and the river
    assert located(tracker) == {100: True, 101: True, 102: True, 103: True,
                                104: False, 105: False, 106: False}


def test_second_pass_yields_the_kept_ways_and_assembles_the_relations(tiny):
    """With kept_ways, Python sees only the ways the first pass kept; the lake's
    untagged member ways still make its area, the unnoted track is not read."""
    import osmium

    areas, kept = osmium.area.AreaManager(), osmium.IdTracker()
    tracker = osm_passes.track_needed(
        tiny, way_filter=lambda: osmium.filter.KeyFilter("highway"),
        keep=lambda o: o.is_relation() or "bridge" in o.tags or "tunnel" in o.tags,
        relation_filter=lambda: osmium.filter.KeyFilter("natural"), areas=areas, kept=kept)
    objs = [(o.type_str(), o.id if o.type_str() != "a" else o.orig_id())
            for o in osm_passes.read_objects(
                tiny, osmium.osm.NODE | osmium.osm.WAY | osmium.osm.AREA, [],
                tracker=tracker, areas=areas, kept_ways=kept) if not o.is_node()]
    assert sorted(objs) == [("a", 200), ("w", 104), ("w", 106)]


@pytest.mark.parametrize("name", ["dreieich.osm.gz", "north-bayreuth.osm.gz",
                                  "heidelberg.osm.pbf", "herrenberg-minimal.osm.pbf"])
def test_shared_extracts_two_pass_reads_the_same(name):
    path = _shared(name)
    assert_same_features(extract_features(path, two_pass=False),
                         extract_features(path, two_pass=True))
    pd.testing.assert_frame_equal(osm_stops(path, two_pass=False),
                                  osm_stops(path, two_pass=True))


def test_motorway_junctions_two_pass_reads_the_same():
    path = _shared("hannover-braunschweig-main-roads.osm.pbf")
    one = read_motorway_junctions(path, two_pass=False)
    assert len(one) > 400
    pd.testing.assert_frame_equal(one, read_motorway_junctions(path, two_pass=True))


def test_osm_airports_two_pass_reads_the_same(tmp_path):
    p = tmp_path / "air.osm"
    p.write_text("""<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
<node id="1" lat="52.50" lon="9.60"/><node id="2" lat="52.50" lon="9.70"/>
<node id="3" lat="52.40" lon="9.70"/><node id="7" lat="52.00" lon="9.00"/>
<node id="5" lat="50.00" lon="8.50"><tag k="aeroway" v="aerodrome"/><tag k="iata" v="FRA"/>
</node>
<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
<tag k="aeroway" v="aerodrome"/><tag k="iata" v="HAJ"/></way>
</osm>""", encoding="utf-8")
    one = read_osm_airports(p, two_pass=False)
    assert one["id"].tolist() == ["FRA", "HAJ"]
    assert one["lon"].tolist() == pytest.approx([8.5, (9.6 * 2 + 9.7 * 2) / 4])  # 4 refs
    pd.testing.assert_frame_equal(one, read_osm_airports(p, two_pass=True))


_ROADS_AND_AIRPORT = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
<node id="1" lat="52.40" lon="9.60"/><node id="2" lat="52.41" lon="9.61"/>
<node id="3" lat="52.42" lon="9.62"/><node id="4" lat="52.405" lon="9.59"/>
<node id="5" lat="52.46" lon="9.68"><tag k="aeroway" v="aerodrome"/><tag k="iata" v="HAJ"/>
<tag k="name" v="Hannover"/></node>
<node id="6" lat="52.41" lon="9.61"><tag k="highway" v="motorway_junction"/>
<tag k="name" v="Garbsen"/><tag k="ref" v="41"/></node>
<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="motorway"/></way>
<way id="11"><nd ref="4"/><nd ref="2"/><tag k="highway" v="motorway_link"/></way>
</osm>"""


@pytest.mark.parametrize("two_pass", [False, True])
def test_osm_destinations_in_one_read(tmp_path, two_pass):
    """Motorway junctions and airports read together are those read apart."""
    p = tmp_path / "roads.osm"
    p.write_text(_ROADS_AND_AIRPORT, encoding="utf-8")
    motorways, airports = read_osm_destinations(p, two_pass=two_pass)
    pd.testing.assert_frame_equal(motorways, read_motorway_junctions(p, two_pass=two_pass))
    pd.testing.assert_frame_equal(airports, builtin_airports(p))
    assert motorways["osm_node"].tolist() == [6, 2]  # the junction node, the ramp end
    assert airports.loc[airports["id"] == "HAJ", "lon"].tolist() == [9.68]
    path = _shared("hannover-braunschweig-main-roads.osm.pbf")
    pd.testing.assert_frame_equal(read_osm_destinations(path, two_pass=two_pass)[0],
                                  read_motorway_junctions(path, two_pass=not two_pass))


def test_destinations_read_along_with_the_features(tmp_path, monkeypatch):
    """A two-pass features read keeps the destinations of the same file for the next
    read_osm_destinations, which then does not read; they equal a read of their own."""
    from accessibility.io import destinations

    p = tmp_path / "roads.osm"
    p.write_text(_ROADS_AND_AIRPORT, encoding="utf-8")
    apart = read_osm_destinations(p, two_pass=True)
    extract_features(p, two_pass=False)
    key = destinations._file_key(p)
    assert key not in destinations._SHARED  # one pass: nothing kept
    extract_features(p, two_pass=True, buildings=False)

    def no_read(*args):
        raise AssertionError("read the file again")

    with monkeypatch.context() as m:
        m.setattr(destinations, "_read_osm", no_read)
        along = read_osm_destinations(p, two_pass=True)
    for a, b in zip(along, apart, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert key not in destinations._SHARED  # taken once: the next call reads
    pd.testing.assert_frame_equal(read_osm_destinations(p)[0], apart[0])


def test_two_pass_chosen_by_file_size(tiny, monkeypatch):
    assert not osm_passes.use_two_pass(tiny, None)
    assert osm_passes.use_two_pass(tiny, True) and not osm_passes.use_two_pass(tiny, False)
    monkeypatch.setattr(osm_passes, "TWO_PASS_MIN_BYTES", tiny.stat().st_size)
    assert osm_passes.use_two_pass(tiny, None)


@pytest.mark.parametrize("two_pass", [False, True])
def test_without_buildings_the_other_layers_stay(tiny, two_pass):
    full = extract_features(tiny, two_pass=False)
    lean = extract_features(tiny, two_pass=two_pass, buildings=False)
    assert len(full.buildings) == 1 and len(lean.buildings) == 0
    assert len(lean.landuse_residential) == 0
    for layer in ("facilities", "water", "crossings"):
        assert getattr(lean, layer).equals(getattr(full, layer)), layer
