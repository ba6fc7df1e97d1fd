"""Stream OpenStreetMap files (PBF, XML, .osm.gz/.bz2) into a car road graph."""

from __future__ import annotations

import logging
import re
from array import array
from pathlib import Path

import numpy as np

from .._crs import check_metric_crs
from .._errors import GraphError, InputError
from ..io.osm_files import check_osm_path, header_bbox
from ..io.osm_passes import TWO_PASS_MIN_BYTES
from ..profile import DEFAULT_PROFILE, SpeedProfile, load_profile
from .core import DEFAULT_METRIC_CRS, RoadGraph

logger = logging.getLogger(__name__)

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

    def __init__(self, profile: SpeedProfile,
                 clip: tuple[float, float, float, float] | None = None) -> None:
        self.profile = profile
        # (lon_min, lat_min, lon_max, lat_max) in libosmium's fixed point: nodes
        # outside are treated as missing from the file (a crop, as `osmium extract -s
        # simple` makes it)
        self.clip = (None if clip is None else
                     tuple(round(c * _COORDINATE_PRECISION) for c in clip))
        # ids of the nodes where the extract cut a way: the present neighbours of a
        # missing node (the network continues there beyond the extract)
        self.cut_refs = array("q")
        self.class_index = {c: i for i, c in enumerate(profile.classes)}
        self.refs = array("q")  # node ids of all drivable ways, concatenated
        # locations as libosmium stores them: int32 fixed point in 1e-7 degrees (half
        # the memory of float64 lon/lat); coordinates_deg() turns them into the same
        # doubles as loc.lon / loc.lat
        self.x = array("i")
        self.y = array("i")
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
            fw = bw = (self.profile.capped(self.profile.ferry_speed_kmh) if duration is None
                       else np.nan)
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
        after_cut = False
        box = self.clip
        for n in w.nodes:
            loc = n.location
            if not loc.valid() or (box is not None and not (
                    box[0] <= loc.x <= box[2] and box[1] <= loc.y <= box[3])):
                # node not in the extract: the way is split here, and its present
                # neighbours are where the network continues beyond the extract
                self.n_missing_nodes += 1
                if len(self.refs) > n_before:
                    self.cut_refs.append(self.refs[-1])
                after_cut = True
                self._close_way(n_before, cls, direction, fw, bw, duration)
                n_before = len(self.refs)
                continue
            if after_cut:
                self.cut_refs.append(n.ref)
                after_cut = False
            self.refs.append(n.ref)
            self.x.append(loc.x)
            self.y.append(loc.y)
        self._close_way(n_before, cls, direction, fw, bw, duration)

    def _close_way(self, start, cls, direction, fw, bw, duration) -> None:
        end = len(self.refs)
        if end - start < 2:  # a lone node makes no edge: drop it
            del self.refs[start:]
            del self.x[start:]
            del self.y[start:]
            return
        self.way_start.append(end)
        self.way_class.append(self.class_index[cls])
        self.way_dir.append(direction)
        self.way_speed_fw.append(fw)
        self.way_speed_bw.append(bw)
        self.way_duration.append(np.nan if duration is None else duration)


#: libosmium's fixed-point coordinate unit: degrees = int32 / 1e7 (``fix_to_double``).
_COORDINATE_PRECISION = 10_000_000


def coordinates_deg(fixed: np.ndarray) -> np.ndarray:
    """Degrees from libosmium's int32 fixed-point coordinates.

    libosmium's ``Location::lon()`` is ``double(x) / 10000000``: one correctly rounded
    division, so this returns exactly the doubles ``loc.lon`` / ``loc.lat`` give.
    """
    return np.asarray(fixed).astype(np.float64) / float(_COORDINATE_PRECISION)


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres (mean Earth radius)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))




def read_osm_ways(path: str | Path, profile: SpeedProfile = DEFAULT_PROFILE,
                  two_pass: bool | None = None,
                  clip: tuple[float, float, float, float] | None = None) -> _WayCollector:
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

    ``clip`` (lon_min, lat_min, lon_max, lat_max) crops the file on reading: nodes
    outside the box count as missing, as in an extract cut with ``osmium extract
    --strategy simple``.
    """
    import osmium
    from osmium.filter import EntityFilter, TagFilter

    p = check_osm_path(path)
    from tqdm.auto import tqdm

    col = _WayCollector(profile, clip)
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
                   crs: str = DEFAULT_METRIC_CRS,
                   clip: tuple[float, float, float, float] | None = None) -> RoadGraph:
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
    clip : tuple of float, optional
        ``(lon_min, lat_min, lon_max, lat_max)``: read only the roads inside (a crop
        of the file, cut where a way leaves the box).

    Returns
    -------
    RoadGraph
        With ``meta["cut_osm_ids"]``: the OSM ids of the nodes where the extract cut
        the network (see :func:`cut_node_ids`).

    Raises
    ------
    InputError
        Missing or unreadable file.
    GraphError
        The file has no drivable road.
    """
    crs = check_metric_crs(crs, "crs")
    if not isinstance(profile, SpeedProfile):
        profile = load_profile(profile)
    col = read_osm_ways(path, profile, clip=clip)
    n_ways = len(col.way_class)
    if n_ways == 0:
        raise GraphError(
            f"{path} contains no {'walkable way' if profile.mode == 'foot' else 'drivable road'} "
            f"for profile {profile.name!r} "
            f"({col.n_ways_seen} candidate ways, {col.n_excluded_access} closed to cars); "
            "use an extract with highway=motorway...service ways"
        )
    n_missing, n_closed = col.n_missing_nodes, col.n_excluded_access
    ways = {k: np.frombuffer(getattr(col, k), dtype=d) for k, d in (
        ("way_start", np.int64), ("way_class", np.uint8), ("way_dir", np.uint8),
        ("way_speed_fw", np.float64), ("way_speed_bw", np.float64),
        ("way_duration", np.float64))}
    cut_refs = np.frombuffer(col.cut_refs, dtype=np.int64)
    box = [col]
    del col  # _edge_arrays frees the collector's per-node arrays as it goes
    edges = _edge_arrays(box, ways, profile.max_speed_kmh)
    del ways
    cut_ids = cut_node_ids(edges["osm_id"], edges["lon"], edges["lat"], cut_refs,
                           None if clip is not None else header_bbox(path))
    g = _csr_graph(edges, class_names=profile.classes, crs=crs,
                   meta={"source": str(path), "profile": profile.name,
                         "profile_fingerprint": profile.fingerprint(),
                         "access_speed_kmh": profile.access_speed_kmh,
                         "max_speed_kmh": profile.max_speed_kmh})
    logger.info("read %s: %d drivable ways, %d nodes, %d directed edges (%d way nodes "
                "missing from the extract, %d ways closed to cars)", path, n_ways,
                g.n_nodes, g.n_edges, n_missing, n_closed)
    g.meta.update(n_ways=n_ways, missing_way_nodes=n_missing, ways_closed_to_cars=n_closed,
                  cut_osm_ids=cut_ids.tolist())
    return g


def cut_node_ids(osm_id: np.ndarray, lon: np.ndarray, lat: np.ndarray, cut_refs: np.ndarray,
                 bbox: tuple[float, float, float, float] | None) -> np.ndarray:
    """OSM ids of the graph nodes where the extract cut the network.

    Two kinds of evidence, one per way an extract is cut: a way that names a node the
    file lacks (``osmium extract --strategy simple``, our ``clip``) is cut next to it;
    with complete ways (osmium's default, Overpass) the nodes outside the box the
    file's header declares belong to ways leaving the extract, whose other roads are
    missing. Nodes outside a cutting *polygon* but inside its box are not seen: such a
    file declares no tighter box (the edge test then is only as good as the header).

    Parameters
    ----------
    osm_id, lon, lat : ndarray
        The graph's nodes (ids sorted, as :func:`_node_index` makes them).
    cut_refs : ndarray of int64
        Ids of the present neighbours of missing way nodes.
    bbox : tuple of float or None
        The header's ``(lon_min, lat_min, lon_max, lat_max)``.
    """
    cut = np.zeros(osm_id.size, bool)
    if cut_refs.size:
        pos = np.searchsorted(osm_id, cut_refs)
        hit = pos < osm_id.size
        hit[hit] = osm_id[pos[hit]] == cut_refs[hit]
        cut[pos[hit]] = True  # a lone node between two missing ones made no edge
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        cut |= (lon < x0) | (lon > x1) | (lat < y0) | (lat > y1)
    return osm_id[cut]


# The helpers below keep a national build lean (Germany: ~44 M way node refs, ~75 M
# edges): int32 node indices, intermediates freed as soon as they are used, the
# collector's arrays dropped once read, and no full-length float temporaries beyond
# the edge attributes themselves. The graph is the same, to the bit, as the plain
# numpy formulation (np.unique, haversine over all segments, from_edges).

#: Segments per block of the great-circle computation (bounds its temporaries).
_BLOCK = 1 << 20


def _take(col: _WayCollector, name: str, dtype) -> np.ndarray:
    """The collector's array ``name`` as numpy, removed from the collector: once the
    returned view is dropped, its memory is freed."""
    a = np.frombuffer(getattr(col, name), dtype=dtype)
    setattr(col, name, None)
    return a


def _node_index(refs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(refs, return_index=True, return_inverse=True)`` with the inverse
    as int32 and without np.unique's int64 temporaries beside it.

    Returns
    -------
    osm_id : ndarray of int64
        The distinct ids, sorted.
    first : ndarray of int64
        Index of the first occurrence of each id (a stable sort, as np.unique).
    node_of_ref : ndarray of int32
        Graph node of every ref.
    """
    perm = np.argsort(refs, kind="stable")
    srt = refs[perm]
    new = np.empty(srt.size, bool)
    new[:1] = True
    np.not_equal(srt[1:], srt[:-1], out=new[1:])
    osm_id = srt[new]
    del srt
    first = perm[new]
    idx = np.cumsum(new, dtype=np.int32)
    del new
    idx -= 1
    node_of_ref = np.empty(refs.size, np.int32)
    node_of_ref[perm] = idx
    return osm_id, first, node_of_ref


def _edge_arrays(box: list, ways: dict, cap_kmh: float | None = None) -> dict:
    """The nodes and directed edges of the collector in ``box`` (emptied: its
    per-node arrays are freed as they are used).

    Returns
    -------
    dict
        ``osm_id``, ``lon``, ``lat`` per node; ``u``, ``v`` (int32, tail and head),
        ``t``, ``length`` (float64) and ``cls`` (uint8) per edge: the forward edges
        of all segments first, then the backward ones, the order by which the stable
        sort into CSR breaks ties between parallel edges, as in the plain version.
    """
    col = box.pop()
    refs = _take(col, "refs", np.int64)
    osm_id, first, node_of_ref = _node_index(refs)
    del refs
    xs, ys = _take(col, "x", np.int32), _take(col, "y", np.int32)
    del col
    lon, lat = coordinates_deg(xs[first]), coordinates_deg(ys[first])
    del first
    # segments: consecutive refs of the same way, unless a node repeats in a row
    starts = ways["way_start"]
    n_ways = starts.size - 1
    ok = node_of_ref[:-1] != node_of_ref[1:]
    ok[starts[1:-1] - 1] = False  # the last ref of a way and the first of the next
    seg = np.flatnonzero(ok)
    del ok
    way = np.repeat(np.arange(n_ways, dtype=np.int32), np.diff(starts))[seg]
    a = node_of_ref[seg]
    b = node_of_ref[seg + 1]
    del node_of_ref
    length = np.empty(seg.size, np.float64)
    for i in range(0, seg.size, _BLOCK):  # blocks: haversine's temporaries stay small
        s = seg[i:i + _BLOCK]
        length[i:i + _BLOCK] = haversine_m(coordinates_deg(xs[s]), coordinates_deg(ys[s]),
                                           coordinates_deg(xs[s + 1]), coordinates_deg(ys[s + 1]))
    del xs, ys, seg
    direction = ways["way_dir"][way]
    fwd = (direction & _FORWARD) > 0
    bwd = (direction & _BACKWARD) > 0
    del direction
    duration = ways["way_duration"]
    timed = np.isfinite(duration)
    way_len = np.bincount(way, weights=length, minlength=n_ways) if timed.any() else None
    nf, nb = int(fwd.sum()), int(bwd.sum())
    u = np.empty(nf + nb, np.int32)
    v = np.empty(nf + nb, np.int32)
    u[:nf], u[nf:] = a[fwd], b[bwd]
    v[:nf], v[nf:] = b[fwd], a[bwd]
    del a, b
    t = np.empty(nf + nb, np.float64)
    for sel, speed, out in ((fwd, ways["way_speed_fw"], t[:nf]), (bwd, ways["way_speed_bw"], t[nf:])):
        w = way[sel]
        seg_len = length[sel]
        out[:] = seg_len / (speed / 3.6)[w]
        if way_len is not None:  # ferries with a duration tag: the duration split by length share
            on = np.flatnonzero(timed[w])
            if on.size:
                wo = w[on]
                wl = way_len[wo]
                share = np.divide(seg_len[on], wl, out=np.zeros(on.size), where=wl > 0)
                out[on] = duration[wo] * share
                if cap_kmh is not None:  # no faster than the profile's cap
                    out[on] = np.maximum(out[on], seg_len[on] / (cap_kmh / 3.6))
    cls = np.concatenate([ways["way_class"][way[fwd]], ways["way_class"][way[bwd]]])
    del way
    length = np.concatenate([length[fwd], length[bwd]])
    return {"osm_id": osm_id, "lon": lon, "lat": lat, "u": u, "v": v, "t": t,
            "length": length, "cls": cls}


def _csr_graph(edges: dict, **kw) -> RoadGraph:
    """:func:`~.core.from_edges` of the arrays in ``edges`` (emptied) for int32
    ``u``, ``v``: without from_edges' int64 copies, and each edge array freed once
    it is sorted."""
    order = np.lexsort((edges["v"], edges["u"]))  # stable: the order on int64 copies
    n = int(edges["osm_id"].size)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(edges.pop("u"), minlength=n), out=offsets[1:])
    sorted_ = {k: edges.pop(k)[order] for k in ("v", "t", "length", "cls")}
    del order
    return RoadGraph(offsets=offsets, targets=sorted_.pop("v"), time_s=sorted_.pop("t"),
                     length_m=sorted_.pop("length"), road_class=sorted_.pop("cls"),
                     osm_id=edges.pop("osm_id"), lon=edges.pop("lon"), lat=edges.pop("lat"),
                     **kw)
