"""Stream OpenStreetMap files (PBF, XML, .osm.gz/.bz2) into a car road graph."""

from __future__ import annotations

import logging
import re
from array import array
from pathlib import Path

import numpy as np

from .._errors import GraphError, InputError
from ..profile import DEFAULT_PROFILE, SpeedProfile, load_profile
from .core import DEFAULT_METRIC_CRS, RoadGraph, from_edges

logger = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2", ".xml", ".o5m")

_FORWARD, _BACKWARD, _BOTH = 1, 2, 3
_EARTH_RADIUS_M = 6_371_008.8
_DURATION = re.compile(r"^(?:(\d+):)?(\d+)(?::(\d+))?$")
_ISO_DURATION = re.compile(r"^P(?:T)?(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")


def parse_duration_s(value: str | None) -> float | None:
    """Parse an OSM ``duration`` tag (``"mm"``, ``"hh:mm"``, ``"hh:mm:ss"``, ISO 8601
    ``"PT1H30M"``) to seconds; None when absent or unreadable."""
    if not value:
        return None
    v = value.strip()
    m = _DURATION.match(v)
    if m:
        a, b, c = m.groups()
        if a is None:  # a bare number is minutes
            return float(b) * 60.0
        return float(a) * 3600.0 + float(b) * 60.0 + (float(c) if c else 0.0)
    m = _ISO_DURATION.match(v.upper())
    if m and any(m.groups()):
        h, mi, s = (float(x) if x else 0.0 for x in m.groups())
        return h * 3600.0 + mi * 60.0 + s
    return None


def car_direction(tags, highway: str) -> int:
    """Which directions a car may use a way in: 0 (none), forward, backward or both.

    ``oneway=yes/1/true`` is forward, ``-1``/``reverse`` backward,
    ``reversible``/``alternating`` unusable; roundabouts and motorways are one-way
    unless tagged ``oneway=no``.
    """
    oneway = (tags.get("oneway") or "").strip().lower()
    if oneway in ("yes", "1", "true"):
        return _FORWARD
    if oneway in ("-1", "reverse"):
        return _BACKWARD
    if oneway in ("reversible", "alternating"):
        return 0
    if oneway in ("no", "0", "false"):
        return _BOTH
    if tags.get("junction") in ("roundabout", "circular") or highway in ("motorway", "motorway_link"):
        return _FORWARD
    return _BOTH


def car_allowed(tags, profile: SpeedProfile) -> bool:
    """False when the most specific access tag of the profile's mode forbids it."""
    for key in profile.access_keys:
        v = tags.get(key)
        if v is not None:
            return v.strip().lower() not in profile.blocked_access
    return True


class _WayCollector:
    """Accumulates drivable ways into flat arrays (no Python object per node)."""

    def __init__(self, profile: SpeedProfile) -> None:
        self.profile = profile
        self.class_index = {c: i for i, c in enumerate(profile.classes)}
        self.refs = array("q")  # node ids of all drivable ways, concatenated
        self.lon = array("d")
        self.lat = array("d")
        self.way_start = array("q", [0])
        self.way_class = array("B")
        self.way_dir = array("B")
        self.way_speed_fw = array("d")  # km/h, or NaN for ferries timed by duration
        self.way_speed_bw = array("d")
        self.way_duration = array("d")  # ferry duration in s, NaN otherwise
        self.n_ways_seen = 0
        self.n_missing_nodes = 0
        self.n_excluded_access = 0

    def candidate_tags(self) -> list[tuple[str, str]]:
        """The (key, value) tags that make a way a candidate of :meth:`way`: a highway
        class of the profile, or a ferry (not for walking). libosmium filters on them
        (``osmium.filter.TagFilter``), so other ways never reach Python."""
        tags = [("highway", c) for c in self.profile.speeds_kmh]
        if self.profile.mode != "foot":
            tags.append(("route", "ferry"))
        return tags

    def way(self, w) -> None:
        tags = w.tags
        highway = tags.get("highway")
        foot = self.profile.mode == "foot"
        is_ferry = tags.get("route") == "ferry" and not foot
        if is_ferry:  # (keep in step with candidate_tags)
            cls = "ferry"
        elif highway in self.profile.speeds_kmh:
            cls = highway
        else:
            return
        self.n_ways_seen += 1
        if tags.get("area") == "yes":
            return
        if not car_allowed(tags, self.profile):
            self.n_excluded_access += 1
            return
        if is_ferry:
            direction = _BOTH if tags.get("oneway") not in ("yes", "1", "true") else _FORWARD
            duration = parse_duration_s(tags.get("duration"))
            fw = bw = self.profile.ferry_speed_kmh if duration is None else np.nan
        elif foot:  # pedestrians use every way in both directions
            direction = _BOTH
            duration = None
            fw = bw = self.profile.edge_speed_kmh(highway, None)
        else:
            direction = car_direction(tags, highway)
            if direction == 0:
                return
            duration = None
            ms = tags.get("maxspeed")
            fw = self.profile.edge_speed_kmh(highway, tags.get("maxspeed:forward", ms))
            bw = self.profile.edge_speed_kmh(highway, tags.get("maxspeed:backward", ms))
        n_before = len(self.refs)
        for n in w.nodes:
            loc = n.location
            if not loc.valid():  # node not in the extract: the way is split here
                self.n_missing_nodes += 1
                self._close_way(n_before, cls, direction, fw, bw, duration)
                n_before = len(self.refs)
                continue
            self.refs.append(n.ref)
            self.lon.append(loc.lon)
            self.lat.append(loc.lat)
        self._close_way(n_before, cls, direction, fw, bw, duration)

    def _close_way(self, start, cls, direction, fw, bw, duration) -> None:
        end = len(self.refs)
        if end - start < 2:  # a lone node makes no edge: drop it
            del self.refs[start:]
            del self.lon[start:]
            del self.lat[start:]
            return
        self.way_start.append(end)
        self.way_class.append(self.class_index[cls])
        self.way_dir.append(direction)
        self.way_speed_fw.append(fw)
        self.way_speed_bw.append(bw)
        self.way_duration.append(np.nan if duration is None else duration)


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres (mean Earth radius)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _check_osm_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"OSM file {p} does not exist: pass a .osm.pbf, .osm, .osm.gz or "
                         ".osm.bz2 file (Geofabrik extracts: download.geofabrik.de/europe/germany)")
    if p.is_dir():
        raise InputError(f"OSM input {p} is a directory, not a file")
    if not str(p).lower().endswith(OSM_SUFFIXES):
        raise InputError(f"{p} does not look like an OSM file: expected one of {OSM_SUFFIXES}")
    return p


def header_bbox(path: str | Path) -> tuple[float, float, float, float] | None:
    """The lon/lat box an OSM file declares in its header, or None when it declares
    none or one that says nothing (the whole world, or wider than 20 degrees).

    Reads the header only (no data): it lets a run check its other inputs against the
    extract before the graph is built. Geofabrik extracts and OSM XML files from the
    API carry one; many cut PBF files do not.
    """
    import osmium

    p = _check_osm_path(path)
    try:
        reader = osmium.io.Reader(str(p), osmium.osm.osm_entity_bits.NOTHING)
        try:
            box = reader.header().box()
        finally:
            reader.close()
    except RuntimeError:  # unreadable: the graph build reports it
        return None
    if not box.valid():
        return None
    bl, tr = box.bottom_left, box.top_right
    b = (float(bl.lon), float(bl.lat), float(tr.lon), float(tr.lat))
    if b[2] - b[0] > 20 or b[3] - b[1] > 20 or b[2] <= b[0] or b[3] <= b[1]:
        return None
    return b


#: Files of at least this size are read in two passes (see :func:`read_osm_ways`):
#: a PBF of ~100 million nodes, where an index of all nodes (16 bytes each) outgrows
#: the two-pass bit set of node ids (max id / 8 bytes, ~1.6 GB at today's ids).
TWO_PASS_MIN_BYTES = 1 << 30


def read_osm_ways(path: str | Path, profile: SpeedProfile = DEFAULT_PROFILE,
                  two_pass: bool | None = None) -> _WayCollector:
    """Stream the drivable ways of an OSM file with node locations (pyosmium).

    libosmium filters before the node location index: only the candidate ways (a
    highway class of the profile, or a ferry) look up their nodes and reach Python,
    not the ~440 million nodes of a national file, nor its buildings and footways.

    The index is what costs memory on a national file. One pass (``flex_mem``) keeps
    every node of the file, 16 bytes each (Germany: ~7 GB, and up to twice the last
    power of two while its vector grows). ``two_pass`` (default: files of
    ``TWO_PASS_MIN_BYTES`` and more) first reads the ways alone and notes the
    candidate ways and their nodes in bit sets (max id / 8 bytes), then reads the
    file again indexing only those nodes: the same result, a second read of the file.
    """
    import osmium
    from osmium.filter import EntityFilter, TagFilter

    p = _check_osm_path(path)
    from tqdm.auto import tqdm

    col = _WayCollector(profile)
    if two_pass is None:
        two_pass = p.stat().st_size >= TWO_PASS_MIN_BYTES
    # a national file takes minutes: show ways read (disabled when not on a terminal)
    bar = tqdm(desc=f"reading {p.name}", unit=" ways", unit_scale=True, leave=False, disable=None)
    try:
        candidates = TagFilter(*col.candidate_tags())
        candidates.enable_for(osmium.osm.WAY)  # nodes pass on to the index
        if two_pass:
            tracker = osmium.IdTracker()
            for w in osmium.FileProcessor(str(p), osmium.osm.WAY).with_filter(candidates):
                tracker.add_way(w.id)
                tracker.add_references(w)
            first = tracker.id_filter()  # only the noted ways and their nodes
            logger.info("%s: first pass done, indexing the nodes of the candidate ways", p.name)
        else:
            first = candidates
        index = osmium.index.create_map("flex_mem")
        locations = osmium.NodeLocationsForWays(index)
        locations.ignore_errors()  # nodes missing from the extract: the way is split
        fp = (osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY)
              .with_filter(first).with_filter(locations)
              .with_filter(EntityFilter(osmium.osm.WAY)))
        k = 0
        for obj in fp:
            col.way(obj)
            k += 1
            if k == 100_000:
                bar.update(k)
                k = 0
        bar.update(k)
    except RuntimeError as e:  # libosmium's parse errors
        raise InputError(f"cannot read {p} as OpenStreetMap data ({e}); is it a valid "
                         ".osm.pbf / .osm(.gz|.bz2) file?") from None
    finally:
        bar.close()
    return col


def graph_from_osm(path: str | Path, profile: SpeedProfile | str | Path = DEFAULT_PROFILE,
                   crs: str = DEFAULT_METRIC_CRS) -> RoadGraph:
    """Build the raw (unsimplified) directed car graph of an OSM file.

    Every way node becomes a graph node; consecutive way nodes are joined by one
    edge per allowed direction. Edge length is the great-circle distance; travel
    time is length / speed, or for ferries the ``duration`` tag spread over the
    ferry's segments in proportion to their length.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf``, ``.osm``, ``.osm.gz`` or ``.osm.bz2``.
    profile : SpeedProfile, str or Path
        Speeds and access rules: a profile, a TOML file or a built-in name
        (``"osrm-car"``, ``"walk"``).
    crs : str
        Metric CRS for the node x/y coordinates.

    Raises
    ------
    InputError
        Missing or unreadable file.
    GraphError
        The file has no drivable road.
    """
    if not isinstance(profile, SpeedProfile):
        profile = load_profile(profile)
    col = read_osm_ways(path, profile)
    n_ways = len(col.way_class)
    if n_ways == 0:
        raise GraphError(
            f"{path} contains no {'walkable way' if profile.mode == 'foot' else 'drivable road'} "
            f"for profile {profile.name!r} "
            f"({col.n_ways_seen} candidate ways, {col.n_excluded_access} closed to cars); "
            "use an extract with highway=motorway...service ways"
        )
    refs = np.frombuffer(col.refs, dtype=np.int64)
    lon_all = np.frombuffer(col.lon, dtype=np.float64)
    lat_all = np.frombuffer(col.lat, dtype=np.float64)
    starts = np.frombuffer(col.way_start, dtype=np.int64)
    # Unique node ids -> graph indices; one location per node id.
    osm_id, first, node_of_ref = np.unique(refs, return_index=True, return_inverse=True)
    lon, lat = lon_all[first], lat_all[first]
    # Segments between consecutive refs of the same way.
    way_of_ref = np.repeat(np.arange(n_ways), np.diff(starts))
    seg = np.flatnonzero(way_of_ref[:-1] == way_of_ref[1:])
    seg = seg[node_of_ref[seg] != node_of_ref[seg + 1]]  # a node repeated in a row: no edge
    way = way_of_ref[seg]
    a, b = node_of_ref[seg], node_of_ref[seg + 1]
    length = haversine_m(lon_all[seg], lat_all[seg], lon_all[seg + 1], lat_all[seg + 1])
    cls = np.frombuffer(col.way_class, dtype=np.uint8)[way]
    direction = np.frombuffer(col.way_dir, dtype=np.uint8)[way]
    fw = np.frombuffer(col.way_speed_fw, dtype=np.float64)[way]
    bw = np.frombuffer(col.way_speed_bw, dtype=np.float64)[way]
    duration = np.frombuffer(col.way_duration, dtype=np.float64)
    t_fw = length / (fw / 3.6)
    t_bw = length / (bw / 3.6)
    timed = np.isfinite(duration)
    if timed.any():  # ferries with a duration tag: split the duration by length share
        way_len = np.bincount(way, weights=length, minlength=n_ways)
        share = np.divide(length, way_len[way], out=np.zeros_like(length), where=way_len[way] > 0)
        on_timed = timed[way]
        t_fw[on_timed] = t_bw[on_timed] = (duration[way] * share)[on_timed]
    fwd = (direction & _FORWARD) > 0
    bwd = (direction & _BACKWARD) > 0
    u = np.concatenate([a[fwd], b[bwd]])
    v = np.concatenate([b[fwd], a[bwd]])
    g = from_edges(
        u, v, np.concatenate([t_fw[fwd], t_bw[bwd]]), np.concatenate([length[fwd], length[bwd]]),
        np.concatenate([cls[fwd], cls[bwd]]), class_names=profile.classes, osm_id=osm_id,
        lon=lon, lat=lat, crs=crs,
        meta={"source": str(path), "profile": profile.name, "profile_fingerprint": profile.fingerprint(),
              "access_speed_kmh": profile.access_speed_kmh},
    )
    logger.info("read %s: %d drivable ways, %d nodes, %d directed edges (%d way nodes "
                "missing from the extract, %d ways closed to cars)", path, n_ways,
                g.n_nodes, g.n_edges, col.n_missing_nodes, col.n_excluded_access)
    g.meta.update(n_ways=n_ways, missing_way_nodes=col.n_missing_nodes,
                  ways_closed_to_cars=col.n_excluded_access)
    return g
