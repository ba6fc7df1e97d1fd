"""Road graph: build from OSM, simplify, snap, cache."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from .. import defaults
from .._crs import check_metric_crs
from .._errors import InputError
from .._util import remove_dead_temps
from ..io.osm_files import check_osm_path, header_bbox
from ..profile import DEFAULT_PROFILE, SpeedProfile, load_profile
from .attachment import (
    SETTING_COLUMNS,
    Attached,
    attach,
    attach_settings,
    network_arrays,
    point_coordinates,
)
from .cache import cache_key, load_graph, save_graph
from .core import BYTES_PER_EDGE, BYTES_PER_NODE, DEFAULT_METRIC_CRS, RoadGraph, from_edges, project
from .extent import (
    boundary_nodes,
    cut_nodes,
    edge_nodes,
    extent_polygon,
    in_extent,
    max_speed_ms,
    snap_may_move,
    top_speed_ms,
)
from .osm import graph_from_osm
from .osmnx_io import from_networkx, from_place, from_polygon
from .simplify import _simplify, contract_degree2, hilbert_order, largest_scc, simplify
from .snap import SnapResult, snap_points
from .stats import dropped_classes, dropped_lines, format_graph_statistics, graph_statistics

logger = logging.getLogger(__name__)

__all__ = [
    "BYTES_PER_EDGE",
    "BYTES_PER_NODE",
    "DEFAULT_METRIC_CRS",
    "SETTING_COLUMNS",
    "Attached",
    "RoadGraph",
    "SnapResult",
    "attach",
    "attach_settings",
    "boundary_nodes",
    "build_graph",
    "cache_key",
    "contract_degree2",
    "cut_nodes",
    "dropped_classes",
    "dropped_lines",
    "edge_nodes",
    "extent_polygon",
    "format_graph_statistics",
    "from_edges",
    "from_networkx",
    "from_place",
    "from_polygon",
    "graph_from_osm",
    "graph_statistics",
    "header_bbox",
    "hilbert_order",
    "in_extent",
    "largest_scc",
    "load_graph",
    "max_speed_ms",
    "network_arrays",
    "point_coordinates",
    "project",
    "save_graph",
    "simplify",
    "snap_may_move",
    "snap_points",
    "top_speed_ms",
]


def _finite(points: tuple | None) -> tuple | None:
    """``(lon, lat)`` without the points that have no coordinates (they keep no node)."""
    if points is None:
        return None
    lon, lat = (np.asarray(a, dtype=np.float64) for a in points)
    ok = np.isfinite(lon) & np.isfinite(lat)
    return lon[ok], lat[ok]


def _digest(points: tuple) -> str:
    return hashlib.sha256(np.ascontiguousarray(np.column_stack(points),
                                               dtype=np.float64).tobytes()).hexdigest()


def build_graph(path: str | Path, profile: SpeedProfile | str | Path | None = None, *,
                simplify_graph: bool = True, keep_points: tuple | None = None,
                routable_points: tuple | None = None,
                max_snap_m: float = defaults.MAX_SNAP_M, crs: str = defaults.METRIC_CRS,
                cache_dir: str | Path | None = None,
                clip: tuple[float, float, float, float] | None = None) -> RoadGraph:
    """Build the car graph of an OSM file, simplified, optionally cached.

    Parameters
    ----------
    path : str or Path
        OSM file (``.osm.pbf``, ``.osm``, ``.osm.gz``, ``.osm.bz2``) or a saved
        graph (``.npz``), which is loaded as it is.
    profile : SpeedProfile, str or Path, optional
        Speed profile object, TOML file or built-in name (default ``de-car``,
        :data:`accessibility.defaults.PROFILE`).
    simplify_graph : bool
        Contract degree-2 chains and keep the largest strongly connected component.
    keep_points : tuple of (lon, lat) arrays, optional
        Points that will be snapped later (municipality reference points): their
        nearest raw nodes are kept through simplification, so that snapping does not
        jump to the end of a long contracted chain. Points without coordinates (NaN,
        e.g. the register's uninhabited units) are left out.
    routable_points : tuple of (lon, lat) arrays, optional
        Destinations that will be snapped later (Fernbahnhöfe, airports): their
        nearest *routable* raw nodes (in the largest strongly connected component,
        not on a dead end or an island the SCC step drops) are kept, so that a
        station beside a one-way ramp attaches to the nearest road that routes, not
        to the end of a contracted chain. (Municipalities keep their nearest raw
        node, as before: the routable rule would move 7 of the sample's 216 times to
        the Mittelzentrum, by up to 0.12 min.)
    max_snap_m : float
        Points farther than this from the (routable) raw network keep no node.
    crs : str
        Metric CRS for node coordinates.
    cache_dir : str or Path, optional
        Where to keep built graphs; a rerun with the same file, profile and options
        loads the cached graph instead of parsing.
    clip : tuple of float, optional
        ``(lon_min, lat_min, lon_max, lat_max)``: build the graph of the roads inside
        only, cut where they leave the box (a crop, as ``osmium extract --strategy
        simple`` makes it).
    """
    path = Path(path)
    if path.suffix == ".npz":
        return load_graph(path)
    crs = check_metric_crs(crs, "crs")  # before the parse: a wrong CRS fails at once
    if not isinstance(profile, SpeedProfile):
        profile = load_profile(profile) if profile is not None else DEFAULT_PROFILE
    keep_points, routable_points = _finite(keep_points), _finite(routable_points)
    cache_file = None
    if cache_dir is not None:
        pts = ""
        if keep_points is not None:
            pts = _digest(keep_points)
        if routable_points is not None:  # a key as before when there are none
            pts += "+routable " + _digest(routable_points)
        key = cache_key(check_osm_path(path), profile.fingerprint(), simplify=simplify_graph,
                        crs=crs, points=pts, max_snap_m=max_snap_m,
                        clip=list(clip) if clip is not None else None, cut="v1")
        cache_file = Path(cache_dir) / f"{path.name.split('.')[0]}-{key}.npz"
        if cache_file.parent.is_dir():  # what a killed build left behind
            remove_dead_temps(cache_file.parent)
        if cache_file.is_file():
            logger.info("loading cached graph %s", cache_file)
            try:
                return load_graph(cache_file)
            except InputError as e:  # a corrupt cache is rebuilt, never a dead end
                logger.warning("cached graph unusable, building it again: %s", e)
    g = graph_from_osm(path, profile, crs=crs, clip=clip)
    if simplify_graph:
        keep = None
        if keep_points is not None:
            snap = snap_points(g, *keep_points, max_snap_m=max_snap_m)
            keep = snap.node[snap.on_network]
            del snap
        g.__dict__.pop("_kdtree", None)  # the raw graph's tree is not needed again
        # hand the raw graph over (no reference kept here): _simplify frees it after
        # the SCC step, which lowers a national build's peak by the raw graph's size
        box = [g]
        del g
        g, _ = _simplify(box, keep=keep, routable_points=routable_points,
                         max_snap_m=max_snap_m)
    if cache_file is not None:
        save_graph(g, cache_file)
    return g
