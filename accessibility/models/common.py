"""Helpers shared by the models: snapping municipality reference points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..graph import RoadGraph, snap_points


@dataclass(frozen=True)
class ReferenceSnap:
    """Municipality reference points on the network (-1 / NaN where off the network)."""

    node: np.ndarray
    access_s: np.ndarray
    snap_m: np.ndarray
    has_point: np.ndarray

    @property
    def on_network(self) -> np.ndarray:
        return self.node >= 0


def snap_reference_points(graph: RoadGraph, munis: pd.DataFrame, *, max_snap_m: float,
                          access_speed_kmh: float) -> ReferenceSnap:
    """Snap each municipality's reference point (``lon``/``lat``); rows without a
    point (NaN) stay off the network."""
    has = munis["lon"].notna().to_numpy() & munis["lat"].notna().to_numpy()
    node = np.full(len(munis), -1, np.int64)
    acc = np.full(len(munis), np.nan)
    dist = np.full(len(munis), np.nan)
    if has.any():
        s = snap_points(graph, munis["lon"].to_numpy()[has], munis["lat"].to_numpy()[has],
                        max_distance_m=max_snap_m, access_speed_kmh=access_speed_kmh,
                        ids=munis["ags"].to_numpy()[has])
        node[has], acc[has], dist[has] = s.node, s.access_time_s, s.distance_m
    return ReferenceSnap(node, acc, dist, has)
