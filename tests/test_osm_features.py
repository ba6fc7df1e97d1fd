"""OSM feature extraction for the walkability model (accessibility.io.osm_features)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from accessibility._errors import InputError
from accessibility.io.osm_features import (
    OsmFeatures,
    extract_features,
    load_service_rules,
    osm_stops,
)
from accessibility.vocabulary import FACILITY_ORDER, SERVICES

from .conftest import OSM_DIR


def _shared(name: str) -> Path:
    p = OSM_DIR / name
    if not p.exists():
        pytest.skip(f"shared data {p} not available")
    return p


@pytest.fixture(scope="module")
def dreieich() -> OsmFeatures:
    return extract_features(_shared("dreieich.osm.gz"))


@pytest.fixture(scope="module")
def bayreuth() -> OsmFeatures:
    return extract_features(_shared("north-bayreuth.osm.gz"))


def _node_bbox(path: Path) -> tuple[float, float, float, float]:
    import osmium

    lon, lat = [], []
    for n in osmium.FileProcessor(str(path), osmium.osm.NODE):
        lon.append(n.location.lon)
        lat.append(n.location.lat)
    return min(lon), min(lat), max(lon), max(lat)


# ------------------------------------------------------------------ rules file

def test_default_rules_define_six_services():
    rules = load_service_rules()
    assert tuple(rules) == FACILITY_ORDER
    assert rules["gp"].label == "Hausarzt"
    assert all(r.rules for r in rules.values())


@pytest.mark.parametrize("text, match", [
    ('[pharmacy]\nlabel = "Apotheke"\nrules = [{ amenity = "pharmacy" }]\ncolour = "red"\n',
     "unknown key"),
    ('[pharmacie]\nlabel = "Apotheke"\nrules = [{ amenity = "pharmacy" }]\n',
     "unknown service"),
    ('[pharmacy]\nrules = [{ amenity = "pharmacy" }]\n', "label"),
    ('[pharmacy]\nlabel = "A"\nrules = []\n', "rule"),
    ('[pharmacy]\nlabel = "A"\nrules = [{ amenity = { equals = "x" } }]\n', "matcher"),
    ('[pharmacy]\nlabel = "A"\nrules = [{ name_regex = "(" }]\n', "regular expression"),
    ('[pharmacy]\nlabel = "A"\nrules = [{ amenity = { absent = true } }]\n', "positive"),
    ('[pharmacy]\nlabel = "A"\nrules = [{ amenity = 3 }]\n', "condition"),
    ('[pharmacy\n', "TOML"),
])
def test_bad_rules_file(tmp_path, text, match):
    p = tmp_path / "rules.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        load_service_rules(p)


def test_missing_rules_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_service_rules(tmp_path / "nope.toml")


def test_missing_or_bad_osm_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        extract_features(tmp_path / "missing.osm.pbf")
    with pytest.raises(InputError, match="does not exist"):
        osm_stops(tmp_path / "missing.osm")
    bad = tmp_path / "bad.osm"
    bad.write_text("this is not xml <osm", encoding="utf-8")
    with pytest.raises(InputError, match="cannot read"):
        extract_features(bad)


# --------------------------------------------------------- hand-written OSM XML

_LON0, _LAT0, _STEP = 8.70, 50.00, 0.001


class _Osm:
    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.ways: list[str] = []
        self._next = 1

    @staticmethod
    def _tags(tags: dict) -> str:
        from xml.sax.saxutils import quoteattr

        return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())

    def node(self, x: float, y: float, nid: int | None = None, **tags) -> int:
        if nid is None:
            nid = self._next
            self._next += 1
        lon, lat = _LON0 + x * _STEP, _LAT0 + y * _STEP
        self.nodes.append(f'<node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">'
                          f"{self._tags(tags)}</node>")
        return nid

    def way(self, wid: int, coords, closed: bool = False, **tags) -> int:
        refs = [self.node(x, y) for x, y in coords]
        if closed:
            refs.append(refs[0])
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        self.ways.append(f'<way id="{wid}" version="1">{nds}{self._tags(tags)}</way>')
        return wid

    def square(self, wid: int, x: float, y: float, size: float = 1.0, **tags) -> int:
        return self.way(wid, [(x, y), (x + size, y), (x + size, y + size), (x, y + size)],
                        closed=True, **tags)

    def write(self, path: Path) -> Path:
        body = "\n".join(self.nodes + self.ways)
        path.write_text(f"<?xml version='1.0' encoding='UTF-8'?>\n"
                        f'<osm version="0.6" generator="test">\n{body}\n</osm>\n',
                        encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    o = _Osm()
    # schools
    o.node(70, 70, nid=9001, amenity="school", **{"isced:level": "1"}, name="Schule A")
    o.node(71, 70, nid=9002, amenity="school", school="secondary", name="Gymnasium B")
    o.node(72, 70, nid=9003, amenity="school", name="Grundschule am Park")
    o.node(73, 70, nid=9004, amenity="school", **{"isced:level": "2;3"}, name="Realschule")
    o.node(74, 70, nid=9005, amenity="school", **{"isced:level": "0;1;2"}, name="Schule C")
    # doctors
    o.node(70, 72, nid=9011, amenity="doctors", **{"healthcare:speciality": "general"})
    o.node(71, 72, nid=9012, amenity="doctors", **{"healthcare:speciality": "dermatology"})
    o.node(72, 72, nid=9013, amenity="doctors")
    o.node(73, 72, nid=9014, healthcare="doctor",
           **{"healthcare:speciality": "internal;general"})
    # shops, post, stop
    o.node(70, 74, nid=9021, shop="discount", name="Diskont")
    o.node(71, 74, nid=9022, shop="beverages", name="Netto Getränke")
    o.node(72, 74, nid=9023, shop="yes", brand="Lidl", name="Lidl")
    o.node(70, 76, nid=9031, amenity="post_office", name="Hermes PaketShop")
    o.node(71, 76, nid=9032, amenity="post_office", name="Deutsche Post Filiale 512")
    o.node(72, 76, nid=9033, shop="kiosk", post_office="post_partner",
           **{"post_office:brand": "Hermes PaketShop"})
    o.node(73, 76, nid=9034, amenity="post_box")
    o.node(70, 78, nid=9041, highway="bus_stop", name="Am Park")
    o.node(71, 78, nid=9042, amenity="pharmacy", shop="chemist", name="Apotheke + Drogerie")
    # a pharmacy mapped only as a building polygon
    o.square(5001, 20, 20, building="yes", amenity="pharmacy", name="Park-Apotheke")
    # a supermarket mapped twice: building polygon and a node inside it
    o.square(5002, 30, 30, building="retail", shop="supermarket", name="Edeka")
    o.node(30.5, 30.5, nid=9051, shop="supermarket", name="Edeka")
    # water
    o.way(6001, [(0, 5), (5, 5), (10, 5)], waterway="river", name="Fluss")
    o.way(6002, [(0, 4.8), (10, 4.8), (10, 5.2), (0, 5.2)], closed=True,
          waterway="riverbank")
    o.way(6003, [(0, 8), (10, 8)], waterway="river", tunnel="culvert", name="Verrohrt")
    o.way(6004, [(0, 9), (10, 9)], waterway="stream", width="5 m", name="Breiter Bach")
    o.way(6005, [(0, 9.5), (10, 9.5)], waterway="stream", name="Kleiner Bach")
    o.way(6006, [(0, 12), (10, 12)], waterway="ditch")
    o.square(6007, 12, 0, 2, natural="water", water="lake", name="See")
    # crossings
    o.way(7001, [(5, 4), (5, 6)], highway="footway", bridge="yes", name="Steg")
    o.way(7002, [(6, 4), (6, 6)], highway="primary", tunnel="yes")
    o.way(7003, [(7, 4), (7, 6)], highway="service", bridge="no")
    o.way(7004, [(8, 4), (8, 6)], railway="rail", bridge="yes")
    o.way(7005, [(9, 4), (9, 6)], highway="construction", bridge="yes")
    o.square(7006, 4.5, 4.5, 1, man_made="bridge")
    # buildings and residential land use
    o.square(8001, 40, 40, 10, landuse="residential", name="Wohngebiet")
    o.square(8002, 41, 41, building="yes")
    o.square(8003, 43, 43, building="yes", shop="bakery")
    o.square(8004, 60, 60, building="yes")
    o.square(8005, 62, 62, building="house")
    o.square(8006, 64, 64, building="no")
    o.square(8007, 66, 66, building="garage")
    return o.write(tmp_path_factory.mktemp("osm") / "tiny.osm")


@pytest.fixture(scope="module")
def tiny_features(tiny) -> OsmFeatures:
    return extract_features(tiny)


def _ids(features: OsmFeatures, service: str) -> set[int]:
    f = features.facilities
    return set(f.loc[f["service"] == service, "osm_id"].tolist())


def test_tiny_primary_school_rules(tiny_features):
    assert _ids(tiny_features, "primary_school") == {9001, 9003, 9005}


def test_tiny_gp_rules(tiny_features):
    assert _ids(tiny_features, "gp") == {9011, 9014}


def test_tiny_gp_untagged_alternative(tiny, tmp_path):
    p = tmp_path / "gp.toml"
    p.write_text('[gp]\nlabel = "Hausarzt"\nrules = [\n'
                 '  { amenity = "doctors", "healthcare:speciality" = { contains = "general" } },\n'
                 '  { amenity = "doctors", "healthcare:speciality" = { absent = true } },\n]\n',
                 encoding="utf-8")
    feats = extract_features(tiny, rules=p)
    assert set(feats.facilities["service"]) == {"gp"}
    assert _ids(feats, "gp") == {9011, 9013}


def test_tiny_supermarket_post_stop_pharmacy(tiny_features):
    assert _ids(tiny_features, "supermarket") == {9021, 9023, 9051}
    assert _ids(tiny_features, "post_office") == {9032}
    assert _ids(tiny_features, "stop") == {9041}
    assert _ids(tiny_features, "pharmacy") == {5001, 9042}


def test_tiny_building_pharmacy_gives_point_inside(tiny_features):
    f = tiny_features.facilities
    row = f[(f["service"] == "pharmacy") & (f["osm_id"] == 5001)].iloc[0]
    assert row["osm_type"] == "way" and row["name"] == "Park-Apotheke"
    assert row.geometry.geom_type == "Point"
    x = (row.geometry.x - _LON0) / _STEP
    y = (row.geometry.y - _LAT0) / _STEP
    assert 20 < x < 21 and 20 < y < 21
    assert f.crs.to_epsg() == 4326
    assert (f.geom_type == "Point").all()


def test_tiny_dedupe_node_inside_building(tiny):
    f = extract_features(tiny).facilities
    edeka = f[f["service"] == "supermarket"]
    assert 5002 not in set(edeka["osm_id"])  # polygon dropped, the node kept
    f2 = extract_features(tiny, dedupe=False).facilities
    assert 5002 in set(f2.loc[f2["service"] == "supermarket", "osm_id"])


def test_tiny_feature_in_two_services_appears_twice(tiny_features):
    f = tiny_features.facilities
    assert len(f[f["osm_id"] == 9042]) == 1  # pharmacy + chemist: only pharmacy matches
    assert set(f.columns) >= {"service", "label", "osm_type", "osm_id", "name", "geometry"}


def test_tiny_water(tiny_features):
    w = tiny_features.water
    lines = w[w.geom_type == "LineString"]
    assert set(lines["osm_id"]) == {6001, 6004}  # river, wide stream; no culvert/ditch
    polys = w[w.geom_type == "Polygon"]
    assert set(polys["osm_id"]) == {6002, 6007}
    assert set(polys["kind"]) == {"riverbank", "water"}
    assert w.crs.to_epsg() == 4326


def test_tiny_streams_dropped_when_disabled(tiny):
    w = extract_features(tiny, min_stream_width_m=None).water
    assert 6004 not in set(w["osm_id"])


def test_tiny_crossings(tiny_features):
    c = tiny_features.crossings
    assert dict(zip(c["osm_id"], c["kind"])) == {7001: "bridge", 7002: "tunnel",
                                                  7006: "bridge_area"}
    river = tiny_features.water.set_index("osm_id").geometry[6001]
    assert c.set_index("osm_id").geometry[7001].intersects(river)


def test_tiny_buildings(tiny_features):
    b = tiny_features.buildings.set_index("osm_id")
    assert set(b.index) == {5001, 5002, 8002, 8003, 8004, 8005, 8007}
    assert bool(b.loc[8002, "residential"])  # yes inside landuse=residential
    assert not bool(b.loc[8003, "residential"])  # yes with a shop
    assert not bool(b.loc[8004, "residential"])  # yes outside residential land use
    assert bool(b.loc[8005, "residential"])  # house
    assert not bool(b.loc[8007, "residential"])  # garage
    assert (b.geom_type == "Polygon").all()
    # 0.001 deg x 0.001 deg at 50 N is about 71.7 m x 111.2 m
    assert b.loc[8005, "area_m2"] == pytest.approx(71.7 * 111.2, rel=0.02)
    lu = tiny_features.landuse_residential
    assert list(lu["osm_id"]) == [8001] and lu.iloc[0]["name"] == "Wohngebiet"


def test_tiny_osm_stops(tiny):
    s = osm_stops(tiny)
    assert list(s["osm_id"]) == [9041]
    assert set(s["service"]) == {"stop"}


def test_tiny_counts(tiny_features):
    c = tiny_features.counts()
    assert set(SERVICES) <= set(c)
    assert c["gp"] == 2 and c["crossings"] == 3 and c["buildings"] == 7


# --------------------------------------------------------------- real extracts

def test_dreieich_services(dreieich):
    c = dreieich.counts()
    assert c["pharmacy"] == 2
    assert c["gp"] == 1  # one doctor tagged general; the ophthalmologist does not count
    assert c["primary_school"] == 1
    assert c["supermarket"] == 4  # ALDI Süd, Lidl, Netto, REWE
    assert c["stop"] == 61  # as in shared/data/README.md
    names = set(dreieich.facilities.loc[dreieich.facilities["service"] == "supermarket",
                                        "name"])
    assert {"Lidl", "ALDI Süd", "REWE"} <= names


def test_dreieich_facilities_inside_extract(dreieich):
    xmin, ymin, xmax, ymax = _node_bbox(_shared("dreieich.osm.gz"))
    f = dreieich.facilities
    assert (f.geom_type == "Point").all()
    x, y = shapely.get_x(f.geometry.values), shapely.get_y(f.geometry.values)
    assert np.all((x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
    assert f.crs.to_epsg() == 4326


def test_dreieich_buildings_and_water(dreieich):
    b = dreieich.buildings
    assert 3500 < len(b) < 4000
    assert 0.5 < b["residential"].mean() < 1.0
    assert b["area_m2"].median() > 20
    assert len(dreieich.landuse_residential) == 6
    assert len(dreieich.water) >= 7  # ponds and lakes; the Hengstbach is too small
    assert (dreieich.water.geom_type == "Polygon").all()


def test_north_bayreuth_river_and_bridges(bayreuth):
    w = bayreuth.water
    rivers = w[w["kind"] == "river"]
    assert len(rivers) >= 3 and set(rivers["name"]) == {"Roter Main"}
    assert (rivers.geom_type == "LineString").all()
    c = bayreuth.crossings
    bridges = c[c["kind"] == "bridge"]
    assert len(bridges) > 30
    river = shapely.union_all(rivers.geometry.values)
    assert bridges.intersects(river).any()
    assert len(bayreuth.buildings) > 4000


def test_north_bayreuth_services(bayreuth):
    c = bayreuth.counts()
    assert c["pharmacy"] == 1
    assert c["supermarket"] == 2
    assert c["post_office"] == 0  # the only amenity=post_office is a Hermes PaketShop
    assert 20 <= c["stop"] <= 40


def test_way_with_nodes_outside_extract(tmp_path):
    p = tmp_path / "clipped.osm"
    p.write_text("""<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
<node id="1" version="1" lat="50.0" lon="8.7"/><node id="2" version="1" lat="50.0" lon="8.71"/>
<node id="3" version="1" lat="50.0" lon="8.72"/>
<way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="99"/><nd ref="3"/>
<tag k="waterway" v="river"/></way>
<way id="11" version="1"><nd ref="1"/><nd ref="98"/>
<tag k="highway" v="footway"/><tag k="bridge" v="yes"/></way>
</osm>
""", encoding="utf-8")
    f = extract_features(p)
    assert list(f.water["osm_id"]) == [10]  # kept with the nodes that are present
    assert len(f.crossings) == 0  # a single known node makes no line
