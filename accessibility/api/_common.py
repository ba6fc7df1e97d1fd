"""What every API function shares: the graph from a path, the municipality table
attached to it."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from .. import defaults
from .._errors import GRAPH_FIRST, InputError
from ..graph import SETTING_COLUMNS, RoadGraph, attach, attach_settings, build_graph
from ..models.lage import LageCalibration
from ..models.municipalities import mark_region, prepare_municipalities
from ..routing import Decay

logger = logging.getLogger(__name__)

#: The columns :func:`accessibility.attach` adds: those a model reads, and its settings.
NETWORK_COLUMNS = ("node", "snap_m", "access_s", "on_network")
ATTACH_COLUMNS = NETWORK_COLUMNS + SETTING_COLUMNS


def as_graph(graph: RoadGraph | str | Path, *, keep_points: tuple | None = None,
             max_snap_m: float = defaults.MAX_SNAP_M, profile=None,
             cache_dir: str | Path | None = None,
             routable_points: tuple | None = None) -> RoadGraph:
    """A built graph as it is, or the graph of an OSM file / ``.npz`` (built once and
    cached in ``cache_dir``; ``keep_points`` keep their nodes through simplification,
    ``routable_points`` their nearest routable nodes)."""
    if isinstance(graph, RoadGraph):
        return graph
    if isinstance(graph, pd.DataFrame):
        raise InputError(GRAPH_FIRST)
    if not isinstance(graph, (str, Path)):
        raise InputError(f"graph must be a RoadGraph or a path, got {type(graph).__name__}")
    return build_graph(graph, profile, keep_points=keep_points, max_snap_m=max_snap_m,
                       cache_dir=cache_dir, routable_points=routable_points)


def attached(graph: RoadGraph, table: pd.DataFrame, max_snap_m, access_speed_kmh
              ) -> pd.DataFrame:
    """``table`` attached to ``graph``: as it is when it already carries the network
    columns and no setting is given, else attached with the given settings."""
    if set(NETWORK_COLUMNS) <= set(table.columns) and max_snap_m is None \
            and access_speed_kmh is None:
        return table
    # settings of an earlier attach step win over the defaults, never silently lost
    return attach(graph, table.drop(columns=list(ATTACH_COLUMNS), errors="ignore"),
                  **settings_of(table, max_snap_m, access_speed_kmh))


def settings_of(table: pd.DataFrame, max_snap_m=None, access_speed_kmh=None) -> dict:
    """The settings to attach more points with: those given, else those ``table`` was
    attached with (:func:`accessibility.graph.attach_settings`), else the defaults
    (the access speed: None, the graph profile's)."""
    before = attach_settings(table)
    return {"max_snap_m": before.get("max_snap_m", defaults.MAX_SNAP_M)
            if max_snap_m is None else max_snap_m,
            "access_speed_kmh": before.get("access_speed_kmh")
            if access_speed_kmh is None else access_speed_kmh}


def as_decay(decay) -> Decay | LageCalibration:
    """``decay`` when it is a :class:`Decay` or a fit of the Lage's decay, else a clear
    error (decay parameters travel in one object, never as loose numbers)."""
    if isinstance(decay, (Decay, LageCalibration)):
        return decay
    raise InputError(f"decay must be a Decay, got {decay!r}: e.g. "
                     "accessibility.Decay('exponential', beta=0.076)")


def municipalities_on(graph, municipalities, max_snap_m, access_speed_kmh, cache_dir,
                      routable_points: tuple | None = None):
    """``municipalities`` prepared and attached to ``graph`` (built from a path with
    their points kept, and the nearest routable nodes of ``routable_points``: the
    destinations), marked by region; the notes on them not seen before."""
    if isinstance(graph, pd.DataFrame) or not isinstance(municipalities, pd.DataFrame):
        raise InputError(GRAPH_FIRST if isinstance(graph, pd.DataFrame) else
                         f"municipalities must be a DataFrame, got "
                         f"{type(municipalities).__name__}")
    munis = prepare_municipalities(municipalities)
    if not isinstance(graph, RoadGraph):
        ok = munis["lon"].notna().to_numpy()
        graph = as_graph(graph, keep_points=(munis["lon"].to_numpy()[ok],
                                             munis["lat"].to_numpy()[ok]),
                         max_snap_m=defaults.MAX_SNAP_M if max_snap_m is None else max_snap_m,
                         cache_dir=cache_dir, routable_points=routable_points)
    # notes on the table that the caller has not seen yet (the pipeline prepared it)
    seen = municipalities.attrs.get("report", [])
    report = [line for line in munis.attrs.get("report", []) if line not in seen]
    for line in report:
        logger.warning(line)
    munis = attached(graph, munis, max_snap_m, access_speed_kmh)
    if "in_region" not in munis.columns:  # the area of the road extract
        munis = mark_region(graph, munis)
    return graph, munis, report

