"""Extract the OSM features of the walkability model (Nahversorgung, METHOD.md section 3).

One streaming pass over an OSM file (PBF, XML, .osm.gz/.bz2) with pyosmium (two on a
national file, :mod:`accessibility.io.osm_passes`) yields

* ``facilities``: the services of :data:`accessibility.vocabulary.SERVICES` (pharmacy,
  primary school, GP, post office, supermarket, public-transport stop) as points in
  :data:`~accessibility.vocabulary.FACILITY_ORDER`, tag rules in
  ``accessibility/profiles/services.toml`` (users may pass their own file);
* ``water``: water barriers (rivers, canals, wide streams, coastline as lines; lakes,
  ponds, riverbanks, reservoirs as polygons);
* ``crossings``: the gaps in those barriers (highway bridges and tunnels as lines,
  ``man_made=bridge`` areas as polygons);
* ``buildings`` with a ``residential`` flag, and ``landuse_residential`` polygons.

Everything is in EPSG:4326. No Python object is kept per OSM node: nodes are only
looked at when they carry tags, way geometries are built by libosmium (WKB) and
turned into shapely geometries in one vectorised call at the end.

Decisions (the per-service tag decisions - GPs without speciality tag, postal
partners, discounter brands, which stop elements count - are documented in
services.toml):

* Service points: a node is its own point; a closed way or multipolygon becomes
  its representative point (``shapely.point_on_surface``, always inside the
  polygon); an open way (e.g. a platform drawn as a line) a point on the line.
  Relations other than multipolygons (``type=site``, stop areas) carry no geometry
  of their own and are skipped; their members are usually tagged themselves.
* Duplicates: with ``dedupe=True`` (default) an area facility (building or
  site polygon) that contains a node of the same service is dropped, since it is
  the same facility mapped twice (a pharmacy node inside its building polygon).
* Water lines: ``waterway=river`` and ``canal`` always; ``waterway=stream`` only
  when its ``width`` tag is at least ``min_stream_width_m`` (3 m by default, a
  brook one can step over or that is bridged every few metres is no barrier; a
  name says nothing about the size); ditches and drains never; ``natural=coastline``
  always. Waterway segments in a tunnel (``tunnel=culvert``, ``yes``,
  ``building_passage``, anything but ``no``) are not a barrier and are dropped.
* Water areas: ``natural=water`` (any ``water=*`` subtype), ``waterway=riverbank``,
  ``landuse=reservoir`` and areas carrying only a ``water=*`` tag.
* Crossings: every ``highway=*`` way (footways and paths included, proposed /
  construction / abandoned ways excluded) with ``bridge=*`` other than ``no``
  (kind ``bridge``), every highway way with ``tunnel=yes`` (kind ``tunnel``: an
  underpass), and ``man_made=bridge`` areas (kind ``bridge_area``). Railway-only
  bridges are no gap for pedestrians.
* Residential buildings: ``building`` in :data:`RESIDENTIAL_BUILDING_TYPES` always;
  ``building=yes`` (the most common value, type unknown) only when it has no tag
  naming another use (shop, amenity, office, ...) and its representative point lies
  in a ``landuse=residential`` polygon of the same file; every other value is not
  residential. The raw ``building`` value is kept, so callers can decide otherwise.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from shapely import LineString

from .._errors import InputError
from ..defaults import METRIC_CRS as DEFAULT_METRIC_CRS
from ..vocabulary import FACILITY_ORDER
from .destinations import DestinationsAlong
from .osm_files import check_osm_path
from .osm_passes import read_objects, track_needed, use_two_pass
from .osm_rule_index import ServiceIndex

logger = logging.getLogger(__name__)

DEFAULT_RULES_PATH = Path(__file__).resolve().parents[1] / "profiles" / "services.toml"

#: ``building=*`` values that always count as residential (dwellings).
RESIDENTIAL_BUILDING_TYPES = frozenset({
    "residential", "house", "apartments", "detached", "semidetached_house", "terrace",
    "farm", "bungalow", "dormitory", "houseboat", "cabin", "static_caravan",
})

#: Tags that give a ``building=yes`` a non-residential use.
_NON_RESIDENTIAL_USE_KEYS = ("shop", "amenity", "office", "craft", "tourism", "leisure",
                             "healthcare", "industrial", "man_made", "public_transport",
                             "railway", "aeroway", "military")

_WATER_LINE_ALWAYS = frozenset({"river", "canal"})
_HIGHWAY_NOT_BUILT = frozenset({"proposed", "construction", "abandoned", "disused", "razed"})
_NEGATIVE = frozenset({"absent", "not", "not_regex"})
_RULE_KEYS = frozenset({"label", "description", "rules"})
_MATCHER_KEYS = frozenset({"contains", "regex", "not", "not_regex", "absent"})
_WIDTH = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(m|meter|metre|meters|metres)?\s*$", re.I)

CRS = "EPSG:4326"


# --------------------------------------------------------------------------- rules

class _Cond:
    """One ``key = matcher`` condition of a rule."""

    __slots__ = ("key", "kind", "regex", "values")

    def __init__(self, key: str, kind: str, values=None, regex=None) -> None:
        self.key, self.kind, self.values, self.regex = key, kind, values, regex

    def __call__(self, tags) -> bool:
        v = tags.get(self.key)
        kind = self.kind
        if kind == "absent":
            return v is None
        if kind == "not":
            return v is None or v not in self.values
        if kind == "not_regex":
            return v is None or self.regex.search(v) is None
        if v is None:
            return False
        if kind == "eq":
            return v in self.values
        if kind == "any":
            return v != "no"
        if kind == "contains":
            return any(p.strip().lower() in self.values for p in v.split(";"))
        return self.regex.search(v) is not None  # regex

    def __repr__(self) -> str:
        what = self.regex.pattern if self.regex is not None else sorted(self.values or ())
        return f"{self.key} {self.kind} {what}"


@dataclass(frozen=True)
class TagRule:
    """Conditions that must all hold (one entry of a service's ``rules``)."""

    conditions: tuple

    def matches(self, tags) -> bool:
        return all(c(tags) for c in self.conditions)

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys a feature must carry for this rule to match (for a fast pre-check)."""
        return tuple(c.key for c in self.conditions if c.kind not in _NEGATIVE)


@dataclass(frozen=True)
class ServiceRules:
    """The tag rules of one service; a feature belongs to it when any rule matches."""

    name: str
    label: str
    rules: tuple[TagRule, ...]
    description: str = ""

    def matches(self, tags) -> bool:
        return any(r.matches(tags) for r in self.rules)


def _compile_regex(pattern, where: str):
    if not isinstance(pattern, str):
        raise InputError(f"{where}: a regex must be a string, got {pattern!r}")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as e:
        raise InputError(f"{where}: invalid regular expression {pattern!r} ({e})") from None


def _str_list(value, where: str) -> frozenset:
    vals = [value] if isinstance(value, str) else value
    if not isinstance(vals, list) or not vals or not all(isinstance(x, str) for x in vals):
        raise InputError(f"{where}: expected a string or a non-empty list of strings, "
                         f"got {value!r}")
    return frozenset(vals)


def _compile_condition(key: str, value, where: str) -> _Cond:
    where = f"{where}, key {key!r}"
    if key == "name_regex":
        return _Cond("name", "regex", regex=_compile_regex(value, where))
    if isinstance(value, str):
        return _Cond(key, "any") if value == "*" else _Cond(key, "eq", frozenset([value]))
    if isinstance(value, list):
        return _Cond(key, "eq", _str_list(value, where))
    if isinstance(value, dict):
        unknown = set(value) - _MATCHER_KEYS
        if unknown or len(value) != 1:
            raise InputError(f"{where}: a matcher table must have exactly one of "
                             f"{sorted(_MATCHER_KEYS)}, got {sorted(value)}")
        (kind, arg), = value.items()
        if kind == "contains":
            return _Cond(key, "contains", frozenset(s.lower() for s in _str_list(arg, where)))
        if kind == "regex":
            return _Cond(key, "regex", regex=_compile_regex(arg, where))
        if kind == "not":
            return _Cond(key, "not", _str_list(arg, where))
        if kind == "not_regex":
            return _Cond(key, "not_regex", regex=_compile_regex(arg, where))
        if arg is not True:
            raise InputError(f"{where}: use {{ absent = true }}, got {value!r}")
        return _Cond(key, "absent")
    raise InputError(f"{where}: a tag condition must be a string, a list of strings or a "
                     f"matcher table ({{ contains = ... }}, {{ regex = ... }}, "
                     f"{{ not = [...] }}, {{ not_regex = ... }}, {{ absent = true }}), "
                     f"got {value!r}")


def _compile_service(name: str, table, src: str) -> ServiceRules:
    where = f"{src}: [{name}]"
    if not isinstance(table, dict):
        raise InputError(f"{where} must be a table")
    unknown = set(table) - _RULE_KEYS
    if unknown:
        raise InputError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: "
                         f"{sorted(_RULE_KEYS)}")
    label = table.get("label")
    if not isinstance(label, str) or not label.strip():
        raise InputError(f"{where}: needs a label (a non-empty string)")
    description = table.get("description", "")
    if not isinstance(description, str):
        raise InputError(f"{where}: description must be a string")
    rules = table.get("rules")
    if not isinstance(rules, list) or not rules:
        raise InputError(f"{where}: needs rules = [ {{ key = \"value\", ... }}, ... ] "
                         "(at least one rule)")
    compiled = []
    for i, rule in enumerate(rules):
        rwhere = f"{where} rule {i + 1}"
        if not isinstance(rule, dict) or not rule:
            raise InputError(f"{rwhere}: a rule must be a non-empty table of tag "
                             f"conditions, got {rule!r}")
        conds = tuple(_compile_condition(k, v, rwhere) for k, v in rule.items())
        if all(c.kind in _NEGATIVE for c in conds):
            raise InputError(f"{rwhere}: needs at least one positive condition "
                             "(it would match every feature)")
        compiled.append(TagRule(conds))
    return ServiceRules(name, label.strip(), tuple(compiled), description)


def load_service_rules(path: str | Path | None = None) -> dict[str, ServiceRules]:
    """Read and validate the service tag rules (default: the shipped services.toml).

    Returns ``{service: ServiceRules}`` in
    :data:`~accessibility.vocabulary.FACILITY_ORDER`. Unknown services,
    unknown keys, malformed conditions and invalid regular expressions raise
    :class:`InputError` naming the place in the file.
    """
    p = DEFAULT_RULES_PATH if path is None else Path(path)
    if not p.is_file():
        raise InputError(f"service rules file {p} does not exist (copy "
                         f"{DEFAULT_RULES_PATH} and edit it)")
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"service rules file {p} is not valid TOML: {e}") from None
    except OSError as e:
        raise InputError(f"cannot read service rules file {p}: {e}") from None
    unknown = [k for k in data if k not in FACILITY_ORDER]
    if unknown:
        raise InputError(f"{p}: unknown service(s) {unknown}; allowed tables: "
                         f"{list(FACILITY_ORDER)}")
    if not data:
        raise InputError(f"{p}: defines no service; expected tables like [pharmacy]")
    return {name: _compile_service(name, data[name], str(p)) for name in FACILITY_ORDER
            if name in data}


def _resolve_rules(rules) -> dict[str, ServiceRules]:
    if rules is None or isinstance(rules, (str, Path)):
        return load_service_rules(rules)
    if isinstance(rules, dict) and all(isinstance(v, ServiceRules) for v in rules.values()):
        return rules
    raise InputError("rules must be None, a path to a services TOML file or the result "
                     "of load_service_rules()")


# ------------------------------------------------------------------------- result

@dataclass
class OsmFeatures:
    """The walkability layers of one OSM file, all GeoDataFrames in EPSG:4326."""

    facilities: object  # service, label, osm_type, osm_id, name, geometry (points)
    water: object  # kind, osm_type, osm_id, name, geometry (lines and polygons)
    crossings: object  # kind, highway, osm_type, osm_id, name, geometry
    buildings: object  # osm_type, osm_id, building, residential, area_m2, geometry
    landuse_residential: object  # osm_type, osm_id, name, geometry
    source: str = ""
    rules: dict = field(default_factory=dict, repr=False)

    def counts(self) -> dict[str, int]:
        """Number of features per service and per layer (for logs and reports)."""
        out = {s: 0 for s in self.rules} if self.rules else {}
        if len(self.facilities):
            out.update(self.facilities["service"].value_counts().to_dict())
        out.update({
            "water_lines": int(self.water.geom_type.isin(["LineString", "MultiLineString"]).sum()),
            "water_areas": int(self.water.geom_type.isin(["Polygon", "MultiPolygon"]).sum()),
            "crossings": len(self.crossings),
            "buildings": len(self.buildings),
            "residential_buildings": int(self.buildings["residential"].sum())
            if len(self.buildings) else 0,
            "landuse_residential": len(self.landuse_residential),
        })
        return {k: int(v) for k, v in out.items()}


# ---------------------------------------------------------------------- collector

def _parse_width_m(value: str | None) -> float | None:
    if not value:
        return None
    m = _WIDTH.match(value)
    return float(m.group(1).replace(",", ".")) if m else None


class _Rows:
    """Column lists of one output layer; geometry as WKB (or lon/lat for nodes)."""

    def __init__(self, *cols: str) -> None:
        self.cols = {c: [] for c in cols}
        self.wkb: list = []

    def add(self, wkb, **values) -> None:
        self.wkb.append(wkb)
        for c, lst in self.cols.items():
            lst.append(values.get(c))

    def __len__(self) -> int:
        return len(self.wkb)

    def extend(self, other: _Rows) -> _Rows:
        """Append ``other``'s rows (same columns); returns self."""
        self.wkb.extend(other.wkb)
        for c, lst in self.cols.items():
            lst.extend(other.cols[c])
        return self


class _Collector:
    def __init__(self, rules: dict[str, ServiceRules], layers: frozenset,
                 min_stream_width_m: float | None) -> None:
        self.wkbfab = osmium.geom.WKBFactory()
        self.rules = rules
        self.index = ServiceIndex(rules)
        # a feature can only match when it carries one of these keys
        self.trigger_keys = tuple(sorted({k for s in rules.values() for r in s.rules
                                          for k in r.keys}))
        self.layers = layers
        self.min_stream_width_m = min_stream_width_m
        # facilities from nodes: lon/lat arrays; from ways/areas: WKB (later a point)
        self.node_fac = {"service": [], "osm_id": [], "name": [], "lon": [], "lat": []}
        self.geom_fac = _Rows("service", "osm_type", "osm_id", "name", "is_area")
        # lines (from ways) and areas apart: libosmium hands areas over in batches,
        # whose places in the stream of ways depend on its buffer, not on the data
        self.water = _Rows("kind", "osm_type", "osm_id", "name")
        self.water_areas = _Rows(*self.water.cols)
        self.crossings = _Rows("kind", "highway", "osm_type", "osm_id", "name")
        self.crossing_areas = _Rows(*self.crossings.cols)
        self.buildings = _Rows("osm_type", "osm_id", "building", "has_use")
        self.landuse = _Rows("osm_type", "osm_id", "name")
        self.n_bad_geometry = 0

    # -- services
    def _services(self, tags) -> list[str]:
        return self.index.services(tags)

    # -- geometry helpers
    def _line_wkb(self, w):
        try:
            return self.wkbfab.create_linestring(w)
        except Exception:  # a node outside the extract (or a degenerate way)
            coords = [(n.lon, n.lat) for n in w.nodes if n.location.valid()]
            if len(coords) < 2:
                self.n_bad_geometry += 1
                return None
            return LineString(coords).wkb

    def _area_wkb(self, a):
        try:
            return self.wkbfab.create_multipolygon(a)
        except Exception:  # invalid ring, missing nodes
            self.n_bad_geometry += 1
            return None

    def wants(self, obj) -> bool:
        """Whether :meth:`way` or :meth:`area` may build the geometry of this way or
        relation (the first pass of a two-pass read notes its nodes): a superset of
        their tests. Relations other than multipolygons and boundaries make no area."""
        tags = obj.tags
        if obj.is_relation() and tags.get("type") not in ("multipolygon", "boundary"):
            return False
        layers = self.layers
        if "facilities" in layers and self._services(tags):
            return True
        if "water" in layers and ("waterway" in tags or "water" in tags
                                  or tags.get("natural") in ("coastline", "water")
                                  or tags.get("landuse") == "reservoir"):
            return True
        if "crossings" in layers and (tags.get("man_made") == "bridge" or (
                "highway" in tags and ("bridge" in tags or "tunnel" in tags))):
            return True
        return "buildings" in layers and ("building" in tags
                                          or tags.get("landuse") == "residential")

    # -- handlers
    def node(self, n) -> None:
        if "facilities" not in self.layers:
            return
        services = self._services(n.tags)
        if services:
            loc = n.location
            if not loc.valid():
                return
            name = n.tags.get("name")
            for s in services:
                nf = self.node_fac
                nf["service"].append(s)
                nf["osm_id"].append(n.id)
                nf["name"].append(name)
                nf["lon"].append(loc.lon)
                nf["lat"].append(loc.lat)

    def way(self, w) -> None:
        tags = w.tags
        layers = self.layers
        wkb = None
        # services on open ways; closed ways come back as areas
        if "facilities" in layers and not w.is_closed():
            services = self._services(tags)
            if services:
                wkb = self._line_wkb(w)
                if wkb is not None:
                    name = tags.get("name")
                    for s in services:
                        self.geom_fac.add(wkb, service=s, osm_type="way", osm_id=w.id,
                                          name=name, is_area=False)
        if "water" in layers:
            ww = tags.get("waterway")
            kind = None
            if ww is not None and tags.get("tunnel", "no") == "no":
                if ww in _WATER_LINE_ALWAYS:
                    kind = ww
                elif ww == "stream" and self.min_stream_width_m is not None:
                    width = _parse_width_m(tags.get("width"))
                    if width is not None and width >= self.min_stream_width_m:
                        kind = ww
            elif tags.get("natural") == "coastline":
                kind = "coastline"
            if kind is not None:
                wkb = wkb or self._line_wkb(w)
                if wkb is not None:
                    self.water.add(wkb, kind=kind, osm_type="way", osm_id=w.id,
                                   name=tags.get("name"))
        if "crossings" in layers:
            hw = tags.get("highway")
            if hw is not None and hw not in _HIGHWAY_NOT_BUILT:
                kind = None
                if tags.get("bridge", "no") != "no":
                    kind = "bridge"
                elif tags.get("tunnel") == "yes":
                    kind = "tunnel"
                if kind is not None:
                    wkb = wkb or self._line_wkb(w)
                    if wkb is not None:
                        self.crossings.add(wkb, kind=kind, highway=hw, osm_type="way",
                                           osm_id=w.id, name=tags.get("name"))

    def area(self, a) -> None:
        tags = a.tags
        layers = self.layers
        services = self._services(tags) if "facilities" in layers else ()
        building = tags.get("building") if "buildings" in layers else None
        if building == "no":
            building = None
        landuse = tags.get("landuse")
        water_kind = None
        if "water" in layers:
            if tags.get("natural") == "water":
                water_kind = "water"
            elif tags.get("waterway") == "riverbank":
                water_kind = "riverbank"
            elif landuse == "reservoir":
                water_kind = "reservoir"
            elif "water" in tags:
                water_kind = "water"
        bridge_area = "crossings" in layers and tags.get("man_made") == "bridge"
        residential_area = "buildings" in layers and landuse == "residential"
        if not (services or building or water_kind or bridge_area or residential_area):
            return
        wkb = self._area_wkb(a)
        if wkb is None:
            return
        osm_type = "way" if a.from_way() else "relation"
        osm_id = a.orig_id()
        name = tags.get("name")
        for s in services:
            self.geom_fac.add(wkb, service=s, osm_type=osm_type, osm_id=osm_id,
                              name=name, is_area=True)
        if building:
            has_use = any(k in tags for k in _NON_RESIDENTIAL_USE_KEYS)
            self.buildings.add(wkb, osm_type=osm_type, osm_id=osm_id, building=building,
                               has_use=has_use)
        if water_kind:
            self.water_areas.add(wkb, kind=water_kind, osm_type=osm_type, osm_id=osm_id,
                                 name=name)
        if bridge_area:
            self.crossing_areas.add(wkb, kind="bridge_area", highway=None,
                                    osm_type=osm_type, osm_id=osm_id, name=name)
        if residential_area:
            self.landuse.add(wkb, osm_type=osm_type, osm_id=osm_id, name=name)


# ----------------------------------------------------------------------- assembly

def _geoms(rows: _Rows, single_part: bool = True):
    """The WKB list of a layer as shapely geometries (multi -> single when one part)."""
    if not len(rows):
        return np.empty(0, dtype=object)
    g = shapely.from_wkb(rows.wkb)
    if single_part:
        one = shapely.get_num_geometries(g) == 1
        multi = one & np.isin(shapely.get_type_id(g), (4, 5, 6))
        g[multi] = shapely.get_geometry(g[multi], 0)
    return g


def _gdf(columns: dict, geometry):
    return gpd.GeoDataFrame(columns, geometry=geometry, crs=CRS)


def _empty(*cols: str):
    return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=CRS)


def _facilities(col: _Collector, dedupe: bool):
    cols = ["service", "label", "osm_type", "osm_id", "name"]
    nf = col.node_fac
    node_pts = shapely.points(np.asarray(nf["lon"], dtype=float),
                              np.asarray(nf["lat"], dtype=float)) \
        if nf["lon"] else np.empty(0, dtype=object)
    node_service = np.asarray(nf["service"], dtype=object)
    gf = col.geom_fac
    shapes = _geoms(gf)
    keep = np.ones(len(shapes), dtype=bool)
    n_dup = 0
    if dedupe and len(shapes) and len(node_pts):
        g_service = np.asarray(gf.cols["service"], dtype=object)
        is_area = np.asarray(gf.cols["is_area"], dtype=bool)
        for s in np.unique(g_service[is_area]):
            pts = node_pts[node_service == s]
            if not len(pts):
                continue
            idx = np.flatnonzero(is_area & (g_service == s))
            tree = shapely.STRtree(pts)
            hit = tree.query(shapes[idx], predicate="contains")[0]
            keep[idx[np.unique(hit)]] = False
        n_dup = int((~keep).sum())
        if n_dup:
            logger.info("dropped %d area facilities that contain a node of the same "
                        "service (mapped twice)", n_dup)
    frames = []
    if len(node_pts):
        frames.append(_gdf({"service": nf["service"], "osm_type": "node",
                            "osm_id": np.asarray(nf["osm_id"], dtype=np.int64),
                            "name": nf["name"]}, node_pts))
    if keep.any():
        sel = np.flatnonzero(keep)
        frames.append(_gdf({"service": [gf.cols["service"][i] for i in sel],
                            "osm_type": [gf.cols["osm_type"][i] for i in sel],
                            "osm_id": np.asarray([gf.cols["osm_id"][i] for i in sel],
                                                 dtype=np.int64),
                            "name": [gf.cols["name"][i] for i in sel]},
                           shapely.point_on_surface(shapes[sel])))
    if not frames:
        return _empty(*cols)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=CRS)
    order = {s: i for i, s in enumerate(FACILITY_ORDER)}
    out["label"] = out["service"].map({s: r.label for s, r in col.rules.items()})
    out = (out.assign(_o=out["service"].map(order))
              .sort_values(["_o", "osm_type", "osm_id"], kind="stable")
              .drop(columns="_o").reset_index(drop=True))
    return out[cols + ["geometry"]]


def _layer(rows: _Rows, cols: list[str]):
    if not len(rows):
        return _empty(*cols)
    data = {c: rows.cols[c] for c in cols}
    if "osm_id" in data:
        data["osm_id"] = np.asarray(data["osm_id"], dtype=np.int64)
    return _gdf(data, _geoms(rows))


def _buildings(col: _Collector, landuse):
    cols = ["osm_type", "osm_id", "building", "residential", "area_m2"]
    b = col.buildings
    if not len(b):
        return _empty(*cols)
    geoms = _geoms(b)
    building = np.asarray(b.cols["building"], dtype=object)
    residential = np.isin(building, list(RESIDENTIAL_BUILDING_TYPES))
    maybe = (building == "yes") & ~np.asarray(b.cols["has_use"], dtype=bool)
    if maybe.any() and len(landuse):
        idx = np.flatnonzero(maybe)
        tree = shapely.STRtree(np.asarray(landuse.geometry.values, dtype=object))
        inside = tree.query(shapely.point_on_surface(geoms[idx]), predicate="within")[0]
        residential[idx[np.unique(inside)]] = True
    gdf = _gdf({"osm_type": b.cols["osm_type"],
                "osm_id": np.asarray(b.cols["osm_id"], dtype=np.int64),
                "building": building, "residential": residential}, geoms)
    gdf["area_m2"] = gdf.geometry.to_crs(DEFAULT_METRIC_CRS).area.to_numpy()
    return gdf[cols + ["geometry"]]


_ALL_LAYERS = frozenset({"facilities", "water", "crossings", "buildings"})


def _run(path, rules, layers: frozenset, min_stream_width_m, dedupe: bool,
         two_pass: bool | None = None) -> OsmFeatures:
    p = check_osm_path(path)
    rules = _resolve_rules(rules)
    col = _Collector(rules, layers, min_stream_width_m)
    # relations worth assembling into areas (skips admin boundaries, routes, ...)
    area_keys = {"building", "natural", "waterway", "landuse", "water", "man_made"}
    area_keys.update(col.trigger_keys)
    area_keys = sorted(area_keys)
    along = None
    try:
        if use_two_pass(p, two_pass):
            logger.info("%s: first pass, noting the nodes of the wanted ways and areas",
                        p.name)
            # every way, area and node the collector may use carries one of these keys
            # (see _Collector.wants): libosmium drops the rest before Python sees them
            # (and those of the destinations, read along: DestinationsAlong)
            along = DestinationsAlong()
            wanted_keys = sorted({"natural", "waterway", "landuse", "water", "man_made",
                                  "highway", *col.index.anchor_keys, *dict(along.tags)}
                                 | ({"building"} if "buildings" in layers else set()))

            def way_filter():
                return osmium.filter.KeyFilter(*wanted_keys)

            def node_filter():
                return col.index.osmium_filter(along.tags)

            # the relations to assemble are read with the first pass, and the second
            # yields only the ways the first kept (not the relations' member ways)
            areas, kept = osmium.area.AreaManager(), osmium.IdTracker()
            tracker = track_needed(
                p, node_filter=node_filter, way_filter=way_filter,
                keep=lambda o: col.wants(o) or along.wants(o), areas=areas, kept=kept,
                relation_filter=lambda: osmium.filter.KeyFilter(*area_keys))
            nodes, ways = node_filter(), way_filter()
            nodes.enable_for(osmium.osm.NODE)
            ways.enable_for(osmium.osm.WAY | osmium.osm.AREA)
            objects = read_objects(p, osmium.osm.NODE | osmium.osm.WAY | osmium.osm.AREA,
                                   [nodes, ways], tracker=tracker, areas=areas,
                                   kept_ways=kept)
        else:
            objects = (osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY
                                            | osmium.osm.AREA)
                       .with_locations("flex_mem")
                       .with_areas(osmium.filter.KeyFilter(*area_keys))
                       .with_filter(osmium.filter.EmptyTagFilter()))
        for obj in objects:
            if along is not None:
                along.add(obj)
            if obj.is_node():
                col.node(obj)
            elif obj.is_way():
                col.way(obj)
            elif obj.is_area():
                col.area(obj)
        if along is not None:
            along.keep_for_later(p)
    except RuntimeError as e:  # libosmium's parse errors
        raise InputError(f"cannot read {p} as OpenStreetMap data ({e}); is it a valid "
                         ".osm.pbf / .osm(.gz|.bz2) file?") from None
    if col.n_bad_geometry:
        logger.info("%s: %d features without a usable geometry skipped (broken "
                    "multipolygons or nodes outside the extract)", p.name,
                    col.n_bad_geometry)
    landuse = _layer(col.landuse, ["osm_type", "osm_id", "name"])
    feats = OsmFeatures(
        facilities=(_facilities(col, dedupe) if "facilities" in layers
                    else _empty("service", "label", "osm_type", "osm_id", "name")),
        water=_layer(col.water.extend(col.water_areas), ["kind", "osm_type", "osm_id", "name"]),
        crossings=_layer(col.crossings.extend(col.crossing_areas),
                         ["kind", "highway", "osm_type", "osm_id", "name"]),
        buildings=_buildings(col, landuse),
        landuse_residential=landuse,
        source=str(p),
        rules=rules,
    )
    counts = feats.counts()
    if layers == frozenset({"facilities"}):
        counts = {s: counts.get(s, 0) for s in rules}
    logger.info("%s: OSM features %s", p.name, counts)
    return feats


def extract_features(path: str | Path, rules=None, *, min_stream_width_m: float | None = 3.0,
                     dedupe: bool = True, two_pass: bool | None = None,
                     buildings: bool = True) -> OsmFeatures:
    """Extract facilities, water barriers, crossings and buildings in one pass.

    ``path``: an OSM file (.osm.pbf, .osm, .osm.gz, .osm.bz2).
    ``rules``: None (the shipped services.toml), a path to a services TOML, or the
    result of :func:`load_service_rules`.
    ``min_stream_width_m``: a ``waterway=stream`` is a barrier only with a ``width``
    tag of at least this many metres; None drops all streams.
    ``dedupe``: drop area facilities that contain a node of the same service.
    ``two_pass``: read the file twice, keeping only the locations of the nodes the
    wanted ways and areas use (:mod:`accessibility.io.osm_passes`): the same result
    with a fraction of the memory on a national file; None (default) for files of
    1 GiB and more.
    ``buildings``: read the buildings and residential landuse; False leaves both
    layers empty. They are what costs memory on a national file (every building
    polygon: about 1.6 kB each in the table, see benchmarks/results/national.md) and
    are needed only to spread a 1 km population grid (or municipal populations) over
    the 100 m cells, not with a 100 m grid.

    Raises :class:`InputError` for a missing or unreadable file or bad rules.
    """
    layers = _ALL_LAYERS if buildings else _ALL_LAYERS - {"buildings"}
    return _run(path, rules, layers, min_stream_width_m, dedupe, two_pass)


def osm_stops(path: str | Path, rules=None, *, two_pass: bool | None = None):
    """Public-transport stops from OSM (the fallback when no GTFS feed is given).

    Every mapped stop counts (the >= 20 departures criterion cannot be checked
    without a timetable). Returns the ``facilities`` GeoDataFrame of the ``stop``
    service only. ``rules`` and ``two_pass`` as in :func:`extract_features` (the rules
    must define ``stop``).
    """
    rules = _resolve_rules(rules)
    if "stop" not in rules:
        raise InputError("the service rules define no [stop] table")
    feats = _run(path, {"stop": rules["stop"]}, frozenset({"facilities"}), None, True,
                 two_pass)
    return feats.facilities


__all__ = [
    "DEFAULT_RULES_PATH",
    "RESIDENTIAL_BUILDING_TYPES",
    "OsmFeatures",
    "ServiceRules",
    "TagRule",
    "extract_features",
    "load_service_rules",
    "osm_stops",
]
