"""The service index (accessibility.io.osm_rule_index): the services of a tag set are
those of testing every rule, and libosmium's filter lets every matching object pass."""

from __future__ import annotations

import osmium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accessibility.io.osm_features import load_service_rules
from accessibility.io.osm_rule_index import ServiceIndex

# keys and values of the shipped rules, plus others, so that random tag sets hit
# anchors, their other conditions and near misses
_KEYS = ["amenity", "healthcare", "shop", "post_office", "public_transport", "highway",
         "railway", "isced:level", "school", "healthcare:speciality", "brand", "name",
         "post_office:letter", "post_office:brand", "post_office:service_provider",
         "building"]
_VALUES = ["pharmacy", "school", "doctors", "doctor", "post_office", "supermarket",
           "discount", "yes", "convenience", "bus_stop", "platform", "stop_position",
           "halt", "tram_stop", "bus_station", "bureau", "post_partner", "1", "0-1",
           "1;2", "primary", "general", "family_medicine;general", "Grundschule am See",
           "Aldi Süd", "REWE", "DHL Paketshop", "Deutsche Post", "Hermes", "no", "bench"]

_EXTRA_RULES = """
[pharmacy]
label = "Apotheke"
rules = [ { amenity = "*" , dispensing = { not = "no" } } ]
[gp]
label = "Hausarzt"
rules = [ { "healthcare:speciality" = { contains = "general" } },
          { name_regex = "praxis", healthcare = { absent = true } } ]
"""


def _every_rule(rules, tags: dict) -> list[str]:
    return [name for name, sr in rules.items() if sr.matches(tags)]


# half the tag sets start from an anchor of the shipped rules
_ANCHORS = [("amenity", "pharmacy"), ("amenity", "school"), ("amenity", "doctors"),
            ("healthcare", "doctor"), ("amenity", "post_office"),
            ("post_office", "post_partner"), ("shop", "yes"), ("shop", "supermarket"),
            ("highway", "bus_stop"), ("railway", "halt"), ("amenity", "bus_station")]
_tags = st.builds(
    lambda anchor, rest: {**dict(anchor), **rest},
    st.lists(st.sampled_from(_ANCHORS), max_size=2),
    st.dictionaries(st.sampled_from(_KEYS + ["dispensing"]), st.sampled_from(_VALUES),
                    max_size=4))


@pytest.fixture(scope="module")
def extra_rules(tmp_path_factory):
    p = tmp_path_factory.mktemp("rules") / "extra.toml"
    p.write_text(_EXTRA_RULES, encoding="utf-8")
    return load_service_rules(p)


@settings(max_examples=400, deadline=None)
@given(tags=_tags)
def test_index_gives_the_services_of_every_rule(tags):
    rules = load_service_rules()
    assert ServiceIndex(rules).services(tags) == _every_rule(rules, tags)


@settings(max_examples=300, deadline=None)
@given(tags=_tags)
def test_index_with_inexact_anchors(extra_rules, tags):
    assert ServiceIndex(extra_rules).services(tags) == _every_rule(extra_rules, tags)


def test_index_examples():
    index = ServiceIndex(load_service_rules())
    assert index.services({"amenity": "pharmacy"}) == ["pharmacy"]
    assert index.services({"amenity": "post_office"}) == ["post_office"]
    assert index.services({"amenity": "post_office", "brand": "Hermes"}) == []
    assert index.services({"shop": "yes", "brand": "Lidl"}) == ["supermarket"]
    assert index.services({"shop": "yes", "brand": "Müller"}) == []
    assert index.services({"amenity": "school", "isced:level": "1;2"}) == ["primary_school"]
    # one object, two services, in the rules' order
    assert index.services({"amenity": "post_office", "shop": "supermarket"}) == [
        "post_office", "supermarket"]
    assert index.services({"highway": "residential", "amenity": "bench"}) == []


def _passing(tmp_path, filt, tags: list[dict]) -> list[int]:
    """Ids of the nodes (one per tag set) that pass a libosmium filter."""
    p = tmp_path / "n.osm"
    nodes = "".join(
        f'<node id="{i + 1}" lat="50" lon="8">'
        + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in t.items()) + "</node>"
        for i, t in enumerate(tags))
    p.write_text(f"<?xml version='1.0' encoding='UTF-8'?><osm version=\"0.6\">{nodes}</osm>",
                 encoding="utf-8")
    return [o.id for o in osmium.FileProcessor(str(p), osmium.osm.NODE).with_filter(filt)]


def test_osmium_filter_passes_every_match(tmp_path, extra_rules):
    tags = [{"amenity": "pharmacy"}, {"amenity": "bench"}, {"highway": "bus_stop"},
            {"highway": "street_lamp"}, {"post_office": "post_partner"},
            {"name": "Praxis Dr. Weber"}, {"healthcare:speciality": "general"}]
    # exact anchors: a tag filter; only the first, third and fifth node can match
    index = ServiceIndex(load_service_rules())
    assert isinstance(index.osmium_filter(), osmium.filter.TagFilter)
    assert _passing(tmp_path, index.osmium_filter(), tags) == [1, 3, 5]
    # an anchor that is a key only: a key filter (a superset)
    index = ServiceIndex(extra_rules)
    assert isinstance(index.osmium_filter(), osmium.filter.KeyFilter)
    got = _passing(tmp_path, index.osmium_filter(), tags)
    assert [i + 1 for i, t in enumerate(tags) if index.services(t)] == [1, 2, 6, 7]
    assert {1, 2, 6, 7} <= set(got) and 4 not in got
