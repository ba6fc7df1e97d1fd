"""Interop with osmnx / networkx: convert MultiDiGraphs, download with osmnx."""

from __future__ import annotations

import logging

import numpy as np

from .._crs import check_metric_crs
from .._errors import GraphError
from ..profile import DEFAULT_PROFILE, SpeedProfile
from .core import DEFAULT_METRIC_CRS, RoadGraph, from_edges

logger = logging.getLogger(__name__)


def _first(value):
    """osmnx merges tags of simplified edges into lists: take the first value."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def from_networkx(G, profile: SpeedProfile = DEFAULT_PROFILE, *, crs: str = DEFAULT_METRIC_CRS,
                  use_travel_time: bool = False) -> RoadGraph:
    """Convert an osmnx-style ``networkx.MultiDiGraph`` to a :class:`RoadGraph`.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        Nodes with ``x``/``y`` (lon/lat, or projected with ``G.graph["crs"]``),
        edges with ``length`` (metres) and ``highway``; ``maxspeed`` is honoured.
        Edges are taken as directed, as osmnx stores them.
    profile : SpeedProfile
        Speeds per class; edges whose ``highway`` the profile does not know are
        dropped (ferries need ``route=ferry`` and a ``duration``).
    use_travel_time : bool
        Use the edges' ``travel_time`` attribute (seconds, e.g. from
        ``osmnx.add_edge_travel_times``) instead of the profile's speeds.
    """
    crs = check_metric_crs(crs, "crs")
    if G.number_of_nodes() == 0:
        raise GraphError("the networkx graph has no nodes")
    nodes = list(G.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    xs = np.array([G.nodes[n]["x"] for n in nodes], dtype=np.float64)
    ys = np.array([G.nodes[n]["y"] for n in nodes], dtype=np.float64)
    src_crs = G.graph.get("crs", "EPSG:4326")
    if str(src_crs).upper() not in ("EPSG:4326", "WGS84", "EPSG: 4326"):
        from pyproj import Transformer
        xs, ys = Transformer.from_crs(src_crs, "EPSG:4326", always_xy=True).transform(xs, ys)
    classes = profile.classes
    cls_index = {c: i for i, c in enumerate(classes)}
    u, v, t, ln, c = [], [], [], [], []
    dropped = 0
    for a, b, d in G.edges(data=True):
        hw = _first(d.get("highway"))
        if d.get("route") == "ferry":
            hw = "ferry"
        if hw not in cls_index:
            dropped += 1
            continue
        length = float(d.get("length", 0.0))
        if use_travel_time and "travel_time" in d:
            time = float(d["travel_time"])
        elif hw == "ferry":
            time = length / (profile.ferry_speed_kmh / 3.6)
        else:
            time = length / (profile.edge_speed_kmh(hw, _first(d.get("maxspeed"))) / 3.6)
        u.append(index[a])
        v.append(index[b])
        t.append(time)
        ln.append(length)
        c.append(cls_index[hw])
    if not u:
        raise GraphError("the networkx graph has no edge of a drivable class "
                         f"({', '.join(classes)})")
    if dropped:
        logger.info("from_networkx: dropped %d edges of classes the profile does not drive", dropped)
    osm_id = np.array([n if isinstance(n, (int, np.integer)) else i for i, n in enumerate(nodes)],
                      dtype=np.int64)
    return from_edges(np.array(u), np.array(v), np.array(t), np.array(ln), np.array(c, np.uint8),
                      class_names=classes, osm_id=osm_id, lon=xs, lat=ys, crs=crs,
                      meta={"source": "networkx", "profile": profile.name,
                            "profile_fingerprint": profile.fingerprint()})


def from_place(query: str, profile: SpeedProfile = DEFAULT_PROFILE, **kwargs) -> RoadGraph:
    """Download the drivable network of a place with osmnx (needs internet) and
    convert it. ``kwargs`` go to ``osmnx.graph_from_place``."""
    import osmnx as ox

    G = ox.graph_from_place(query, network_type="drive", simplify=False, **kwargs)
    return from_networkx(G, profile)


def from_polygon(polygon, profile: SpeedProfile = DEFAULT_PROFILE, **kwargs) -> RoadGraph:
    """Download the drivable network inside a shapely polygon (EPSG:4326) with osmnx
    (needs internet) and convert it. ``kwargs`` go to ``osmnx.graph_from_polygon``."""
    import osmnx as ox

    G = ox.graph_from_polygon(polygon, network_type="drive", simplify=False, **kwargs)
    return from_networkx(G, profile)
