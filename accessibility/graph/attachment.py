"""Attach a table of points to a graph: one step, one vocabulary, for every point set.

Municipality reference points, central places, origins, grid cells and facilities
all go through :func:`attach`, which adds the columns of
:data:`accessibility.vocabulary.NETWORK_COLUMNS` (``node``, ``snap_m``,
``access_s``, ``on_network``). Models consume those columns
(:func:`network_arrays`) and never snap again, so the snapping limit and the
access speed are set in one place: the caller of :func:`attach`. Both are columns of
the attached table too (``max_snap_m``, ``access_speed_kmh``): a later step that
attaches more points (origins, destinations) reads them with :func:`attach_settings`,
and unlike ``DataFrame.attrs`` they survive merges, concatenation and files.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .. import defaults
from .._checks import check_degrees
from .._errors import InputError
from ..profile import access_speed
from .core import RoadGraph
from .snap import snap_points

__all__ = ["SETTING_COLUMNS", "Attached", "attach", "attach_settings", "network_arrays",
           "point_coordinates"]

#: The settings :func:`attach` was called with, one column each (the same in every row
#: of one call): the snapping limit (m) and the access-leg speed (km/h).
SETTING_COLUMNS = ("max_snap_m", "access_speed_kmh")


def point_coordinates(points: pd.DataFrame, *, lon: str = "lon", lat: str = "lat"
                      ) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat of every row: the ``lon``/``lat`` columns, else the geometry
    (representative points of polygons, reprojected with pyproj)."""
    if lon in points.columns and lat in points.columns:
        return (pd.to_numeric(points[lon], errors="coerce").to_numpy(np.float64),
                pd.to_numeric(points[lat], errors="coerce").to_numpy(np.float64))
    geom = getattr(points, "geometry", None) if hasattr(points, "crs") else None
    if geom is None:
        raise InputError(f"points need columns {lon!r} and {lat!r} (WGS84 degrees) or a "
                         f"geometry; columns are {list(points.columns)}")
    if points.crs is None:
        raise InputError("the point layer has no CRS: set it (gdf.set_crs(...)) so that it "
                         "can be reprojected to WGS84")
    pts = geom.to_crs(defaults.WGS84)
    pts = pts.where(pts.geom_type == "Point", pts.representative_point())
    empty = pts.isna() | pts.is_empty
    x = np.where(empty, np.nan, pts.x.where(~empty))
    y = np.where(empty, np.nan, pts.y.where(~empty))
    return x.astype(np.float64), y.astype(np.float64)


def attach(graph: RoadGraph, points: pd.DataFrame, *,
           max_snap_m: float = defaults.MAX_SNAP_M,
           access_speed_kmh: float | None = None,
           lon: str = "lon", lat: str = "lat", id_column: str | None = "ags") -> pd.DataFrame:
    """Attach every point of a table to its nearest graph node.

    Parameters
    ----------
    graph : RoadGraph
    points : DataFrame or GeoDataFrame
        ``lon``/``lat`` columns (WGS84) or a geometry (points, or polygons whose
        representative point is used). Rows without coordinates stay off the network.
    max_snap_m : float
        Points farther than this from every node are left off the network (outside
        the extract, in the sea), never attached across the map.
    access_speed_kmh : float, optional
        Speed of the leg from the point to its node; ``access_s = snap_m / speed``.
        Default: the access speed of the graph's speed profile (``meta``), else
        :data:`~accessibility.defaults.ACCESS_SPEED_KMH`.
    lon, lat : str
        Coordinate columns.
    id_column : str, optional
        Column naming the points in error messages (default ``ags`` when present).

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy of ``points`` (same index and type) with ``node`` (nullable Int64,
        empty off the network, so that it can never index an array by accident),
        ``snap_m``, ``access_s`` (NaN off the network), ``on_network`` and the
        settings ``max_snap_m`` and ``access_speed_kmh`` (:data:`SETTING_COLUMNS`).

    Examples
    --------
    >>> import accessibility as acc                         # doctest: +SKIP
    >>> munis = acc.attach(graph, munis, max_snap_m=2000)   # doctest: +SKIP
    >>> munis[["ags", "node", "snap_m", "on_network"]]      # doctest: +SKIP
    """
    if not isinstance(graph, RoadGraph):
        raise InputError(f"attach takes the road graph first, then the table: got a "
                         f"{type(graph).__name__} where the graph belongs "
                         "(accessibility.attach(graph, municipalities))")
    if access_speed_kmh is None:
        access_speed_kmh = access_speed(graph.meta.get("access_speed_kmh"))
    x, y = point_coordinates(points, lon=lon, lat=lat)
    check_degrees(x, y, "the points to attach")  # as the readers do, for any table
    has = np.isfinite(x) & np.isfinite(y)
    n = len(points)
    node = np.full(n, -1, np.int64)
    snap_m = np.full(n, np.nan)
    access = np.full(n, np.nan)
    if has.any():
        ids = points[id_column].to_numpy()[has] if id_column in points.columns else None
        s = snap_points(graph, x[has], y[has], max_snap_m=max_snap_m,
                        access_speed_kmh=access_speed_kmh, ids=ids)
        node[has], snap_m[has], access[has] = s.node, s.snap_m, s.access_s
    out = points.copy()
    out["node"] = pd.arrays.IntegerArray(node, node < 0)  # empty off the network
    out["snap_m"] = snap_m
    out["access_s"] = access
    out["on_network"] = node >= 0
    out["max_snap_m"] = float(max_snap_m)
    out["access_speed_kmh"] = float(access_speed_kmh)
    return out


def attach_settings(points: pd.DataFrame) -> dict[str, float]:
    """The settings :func:`attach` gave ``points`` (its :data:`SETTING_COLUMNS`):
    ``{"max_snap_m": ..., "access_speed_kmh": ...}`` with the keys whose column is
    present and holds one value (rows attached apart with other settings give none)."""
    out = {}
    for col in SETTING_COLUMNS:
        if col in points.columns:
            values = pd.unique(pd.to_numeric(points[col], errors="coerce").dropna())
            if len(values) == 1:
                out[col] = float(values[0])
    return out


class Attached(NamedTuple):
    """The network columns of an attached table as arrays, for models and kernels."""

    node: np.ndarray        # int64, -1 off the network (internal; check on_network)
    access_s: np.ndarray    # float64, NaN off the network
    snap_m: np.ndarray      # float64
    on_network: np.ndarray  # bool


def network_arrays(points: pd.DataFrame, graph: RoadGraph | None = None, *,
                   what: str = "points") -> Attached:
    """Read the columns :func:`attach` added, checked.

    Raises
    ------
    InputError
        The columns are missing (the table was not attached), or the nodes do not
        belong to ``graph`` (attached to another graph).
    """
    missing = [c for c in ("node", "access_s", "on_network") if c not in points.columns]
    if missing:
        raise InputError(f"the {what} are not attached to the network (no {missing} "
                         "columns): call accessibility.attach(graph, table) first")
    node = pd.to_numeric(points["node"], errors="coerce").to_numpy(np.float64)
    on = points["on_network"].fillna(False).to_numpy(bool) & np.isfinite(node)
    node = np.where(on, np.nan_to_num(node, nan=-1.0), -1.0).astype(np.int64)
    access = pd.to_numeric(points["access_s"], errors="coerce").to_numpy(np.float64)
    snap = (pd.to_numeric(points["snap_m"], errors="coerce").to_numpy(np.float64)
            if "snap_m" in points.columns else np.full(len(points), np.nan))
    bad = on & ~(np.isfinite(access) & (access >= 0))
    if bad.any():
        raise InputError(f"the {what} have {int(bad.sum())} row(s) on the network without a "
                         "finite access_s >= 0: attach them again with accessibility.attach")
    if graph is not None:
        if on.any() and node[on].max() >= graph.n_nodes:
            raise InputError(f"the {what} were attached to another graph (nodes beyond this "
                             f"graph's {graph.n_nodes:,}): attach them to this graph")
    return Attached(node, np.where(on, access, np.nan), snap, on)
