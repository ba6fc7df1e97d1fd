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
]


def build_graph(path: str | Path, profile: SpeedProfile | str | Path | None = None, *,
                simplify_graph: bool = True, keep_points: tuple | None = None,
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
        Points that will be snapped later (municipality reference points, facilities):
        their nearest raw nodes are kept through simplification, so that snapping
        does not jump to the end of a long contracted chain. Points without
        coordinates (NaN, e.g. the register's uninhabited units) are left out.
    max_snap_m : float
        Points farther than this from the raw network keep no node.
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
    if keep_points is not None:  # a point without coordinates has no node to keep
        lon, lat = (np.asarray(a, dtype=np.float64) for a in keep_points)
        ok = np.isfinite(lon) & np.isfinite(lat)
        keep_points = (lon[ok], lat[ok])
    cache_file = None
    if cache_dir is not None:
        pts = ""
        if keep_points is not None:
            pts = hashlib.sha256(np.ascontiguousarray(np.column_stack(keep_points),
                                                      dtype=np.float64).tobytes()).hexdigest()
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
        # hand the raw graph over (no reference kept here): _simplify frees it after
        # the SCC step, which lowers a national build's peak by the raw graph's size
        box = [g]
        del g
        g, _ = _simplify(box, keep=keep)
    if cache_file is not None:
        save_graph(g, cache_file)
    return g
