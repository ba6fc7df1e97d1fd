"""Municipality-to-municipality car time matrices and isochrone polygons around centres.

Two planning exports, tables in and out, on an attached municipality table
(:func:`accessibility.attach`):

* :func:`time_matrix`: car minutes from every municipality to every other one within a
  limit, in long format (``origin_ags``, ``destination_ags``, ``minutes``), streamed per
  chunk of origins so that nothing of size origins x destinations is ever held.
* :func:`isochrones`: per centre (e.g. every central place) and per limit (15 / 30 /
  60 minutes) the area from which the centre is reached (or which it reaches) by car
  within the limit, as a (Multi)Polygon in WGS84.

Times include both access legs, as every other model: the origin's leg to its node,
the network time, and the destination's leg from its node.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from .. import defaults
from .._errors import InputError
from ..graph import RoadGraph, attach_settings, network_arrays, point_coordinates, project
from ..routing import ContractionHierarchy, nearest_facility, one_to_many
from .isochrone_grid import GRID_CELL_M, grid_polygons

__all__ = [
    "ISOCHRONE_COLUMNS",
    "ISOCHRONE_MAX_BUFFER_M",
    "ISOCHRONE_MINUTES",
    "MATRIX_COLUMNS",
    "isochrones",
    "time_matrix",
]

logger = logging.getLogger(__name__)

#: Columns of :func:`time_matrix`.
MATRIX_COLUMNS = ("origin_ags", "destination_ags", "minutes")
#: Columns of :func:`isochrones` (besides ``geometry``).
ISOCHRONE_COLUMNS = ("ags", "name", "minutes", "n_nodes", "area_km2")
#: Default limits of :func:`isochrones` (minutes): the 15 / 30 / 60-minute bands that
#: the accessibility standards use (MZ within 30, OZ within 60 minutes).
ISOCHRONE_MINUTES = (15.0, 30.0, 60.0)
#: Largest off-network radius of an isochrone around a reached node (m). An engineering
#: choice: far enough to close the gaps between the roads of a full car network, near
#: enough that a sparse (main-road) network does not grow discs kilometres wide.
ISOCHRONE_MAX_BUFFER_M = defaults.ISOCHRONE_MAX_BUFFER_M

#: Origins per routing call of :func:`time_matrix` (one progress step each): enough to
#: keep every thread busy, few enough that one chunk's pairs stay small.
_MATRIX_CHUNK = 256
#: Vertices of the polygon that approximates a disc (circumscribed regular polygon).
_DISC_VERTICES = 16


# ------------------------------------------------------------------ helpers
def _eligible(table: pd.DataFrame, graph: RoadGraph, what: str):
    """Rows of an attached table that take part: on the network and, where the table
    has ``in_region``, in the region. Returns ``(rows, arrays)``."""
    if "ags" not in table.columns:
        raise InputError(f"the {what} need an 'ags' column; columns are {list(table.columns)}")
    arr = network_arrays(table, graph, what=what)
    ok = arr.on_network.copy()
    if "in_region" in table.columns:
        ok &= table["in_region"].fillna(False).to_numpy(bool)
    return np.flatnonzero(ok), arr


def _groups(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique nodes, and the members of each as CSR (``ptr``, ``members``): the rows
    with node ``uniq[i]`` are ``members[ptr[i]:ptr[i + 1]]`` (positions in ``nodes``)."""
    uniq, inverse = np.unique(nodes, return_inverse=True)
    members = np.argsort(inverse, kind="stable")
    ptr = np.zeros(uniq.size + 1, np.int64)
    np.cumsum(np.bincount(inverse, minlength=uniq.size), out=ptr[1:])
    return uniq, ptr, members


def _expand(rows: np.ndarray, cols: np.ndarray, o_ptr: np.ndarray, o_mem: np.ndarray,
            d_ptr: np.ndarray, d_mem: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node pairs ``(rows[e], cols[e])`` to member pairs: every origin member of the
    row's node with every destination member of the column's node. Returns the entry
    index ``e`` of each member pair and the two members."""
    n_o = o_ptr[rows + 1] - o_ptr[rows]
    n_d = d_ptr[cols + 1] - d_ptr[cols]
    reps = n_o * n_d
    entry = np.repeat(np.arange(rows.size), reps)
    within = np.arange(entry.size) - np.repeat(np.cumsum(reps) - reps, reps)
    nd = n_d[entry]
    om = o_mem[o_ptr[rows[entry]] + within // nd]
    dm = d_mem[d_ptr[cols[entry]] + within % nd]
    return entry, om, dm


def _positive(value, name: str, unit: str = "minutes") -> float:
    """``value`` as a finite float > 0, else an InputError naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of {unit}, got {value!r}") from None
    if not (np.isfinite(v) and v > 0):
        raise InputError(f"{name} must be a finite number of {unit} > 0, got {value!r}")
    return v


def _destination_table(municipalities: pd.DataFrame, destinations) -> pd.DataFrame:
    """The destination table: the municipalities, a subset of them by AGS, or a table."""
    if destinations is None:
        return municipalities
    if isinstance(destinations, pd.DataFrame):
        return destinations
    if isinstance(destinations, str) or not isinstance(destinations, Iterable):
        raise InputError("destinations must be None, an attached table with 'ags', or a "
                         f"list of AGS, got {type(destinations).__name__}")
    wanted = pd.Index([str(a) for a in destinations])
    known = wanted.isin(municipalities["ags"].astype(str))
    if not known.all():
        raise InputError(f"{int((~known).sum())} destination AGS are not among the "
                         f"municipalities, e.g. {wanted[~known][0]!r}")
    return municipalities[municipalities["ags"].astype(str).isin(wanted)]


# ------------------------------------------------------------------ matrix
def time_matrix(graph: RoadGraph, municipalities: pd.DataFrame, *, limit_min: float = 60.0,
                destinations=None, engine: str = "dijkstra", cache_dir=None,
                progress: bool = True) -> pd.DataFrame:
    """Car minutes between municipalities within a limit, as a long table.

    Parameters
    ----------
    graph : RoadGraph
        Car graph, edge times in seconds.
    municipalities : DataFrame
        Attached municipalities (:func:`accessibility.attach`: ``node``, ``access_s``,
        ``on_network``) with ``ags``. Rows off the network, or with ``in_region`` False
        where the column exists, are neither origins nor destinations.
    limit_min : float
        Largest time reported (minutes, inclusive), finite and > 0.
    destinations : None, list of str or DataFrame
        Destinations: all municipalities (default), those with the given AGS, or another
        attached table with ``ags`` (the same rules apply to its rows).
    engine : {"dijkstra", "ch"}
        One bounded Dijkstra per distinct origin node
        (:func:`accessibility.routing.one_to_many`), or bucket many-to-many queries
        on a contraction hierarchy
        (:class:`accessibility.routing.ContractionHierarchy`; worth its build time for
        national runs). Both give the same pairs and times (up to the rounding of
        sums of edge times).
    cache_dir : path, optional
        With ``engine="ch"``: keep the hierarchy here and reuse it for the same graph.
    progress : bool
        Show a progress bar (tqdm) when there is more than one chunk of origins.

    Returns
    -------
    DataFrame
        ``origin_ags``, ``destination_ags`` (categoricals over the AGS taking part) and
        ``minutes`` (float32): the time *from* the origin's point *to* the
        destination's point, i.e. the origin's access leg, the network time and the
        destination's access leg. Only pairs within ``limit_min`` (compared in float64
        seconds before the cast), never a municipality with itself; pairs not reached
        within the limit are absent (never 0). Sorted by origin, then destination.
        Several municipalities on one node each keep their own access leg (two of them
        on the same node are ``access_a + access_b`` apart). ``.attrs["report"]`` says
        how many took part and how many pairs were found.

    Raises
    ------
    InputError
        Unknown engine, a limit that is not > 0, no origin or destination on the
        network, or an AGS taking part twice.

    Notes
    -----
    The origins run in chunks (in AGS order); within a chunk, one search per
    distinct node, started at the smallest access leg of the municipalities there (a
    lower bound, so the search limit prunes safely), each municipality's own leg
    added afterwards. Memory is one chunk's reached pairs plus the result (12 bytes a
    pair, twice while the chunks are joined).

    Examples
    --------
    >>> from accessibility.models.matrices import time_matrix     # doctest: +SKIP
    >>> m = time_matrix(graph, munis, limit_min=30)              # doctest: +SKIP
    >>> m[m.origin_ags == "03101000"].nsmallest(3, "minutes")    # doctest: +SKIP
    """
    limit_min = _positive(limit_min, "limit_min")
    if engine not in ("dijkstra", "ch"):
        raise InputError(f"unknown engine {engine!r}: use 'dijkstra' or 'ch'")
    limit_s = limit_min * 60.0
    dest_table = _destination_table(municipalities, destinations)
    o_rows, o_arr = _eligible(municipalities, graph, "municipalities")
    d_rows, d_arr = _eligible(dest_table, graph, "destinations")
    if o_rows.size == 0:
        raise InputError("no municipality is on the network (and in the region): attach "
                         "them to this graph, or check max_snap_m and the region")
    if d_rows.size == 0:
        raise InputError("no destination is on the network (and in the region)")
    o_ags = municipalities["ags"].astype(str).to_numpy()[o_rows]
    d_ags = dest_table["ags"].astype(str).to_numpy()[d_rows]
    for what, ags in (("municipalities", o_ags), ("destinations", d_ags)):
        dup = pd.Index(ags)[pd.Index(ags).duplicated()]
        if dup.size:
            raise InputError(f"the {what} list AGS {dup[0]!r} twice (and {dup.size - 1} "
                             "more): every AGS must be one row for a long matrix")
    categories = pd.Index(np.unique(np.concatenate([o_ags, d_ags])))
    o_code = categories.get_indexer(o_ags).astype(np.int32)
    d_code = categories.get_indexer(d_ags).astype(np.int32)
    o_node, o_acc = o_arr.node[o_rows], o_arr.access_s[o_rows]
    d_node, d_acc = d_arr.node[d_rows], d_arr.access_s[d_rows]

    d_uniq, d_ptr, d_mem = _groups(d_node)
    if engine == "ch":
        hier = (ContractionHierarchy.cached(graph, cache_dir) if cache_dir is not None
                else ContractionHierarchy.build(graph))
        query = lambda org, off: hier.one_to_many(org, d_uniq, limit_s,
                                                  origin_offsets=off)
    else:
        query = lambda org, off: one_to_many(graph, org, d_uniq, limit=limit_s,
                                             origin_offsets=off)

    # chunks of origins in AGS order, so that the sorted chunks concatenate sorted
    by_ags = np.argsort(o_code, kind="stable")
    bounds = list(range(0, by_ags.size, _MATRIX_CHUNK)) + [by_ags.size]
    steps = list(zip(bounds[:-1], bounds[1:]))
    if progress and len(steps) > 1:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc=f"time matrix within {limit_min:g} min", unit="chunk",
                     leave=False, disable=None)  # no bar when not on a terminal
    parts_o, parts_d, parts_m = [], [], []
    for a, b in steps:
        chunk = by_ags[a:b]
        o_uniq, o_ptr, o_mem = _groups(o_node[chunk])
        o_mem = chunk[o_mem]
        # one search per node, started at its smallest access leg (a lower bound of
        # its members' legs, so the limit prunes safely)
        o_min = np.minimum.reduceat(o_acc[o_mem], o_ptr[:-1])
        cm = query(o_uniq, o_min)
        rows = np.repeat(np.arange(o_uniq.size), np.diff(cm.indptr))
        entry, om, dm = _expand(rows, cm.indices.astype(np.int64), o_ptr, o_mem,
                                d_ptr, d_mem)
        # swap the node's smallest leg for the member's own, add the destination's
        total = cm.data[entry] + (o_acc[om] - o_min[rows[entry]]) + d_acc[dm]
        del entry, rows, cm
        keep = np.flatnonzero((total <= limit_s) & (o_code[om] != d_code[dm]))
        oc, dc = o_code[om[keep]], d_code[dm[keep]]
        order = np.lexsort((dc, oc))
        parts_o.append(oc[order])
        parts_d.append(dc[order])
        parts_m.append((total[keep[order]] / 60.0).astype(np.float32))
        del om, dm, total, keep, oc, dc, order
    out = pd.DataFrame({
        "origin_ags": pd.Categorical.from_codes(np.concatenate(parts_o), categories=categories),
        "destination_ags": pd.Categorical.from_codes(np.concatenate(parts_d),
                                                     categories=categories),
        "minutes": np.concatenate(parts_m),
    })
    del parts_o, parts_d, parts_m
    n_off = len(municipalities) - o_rows.size
    out.attrs["report"] = [
        f"Time matrix within {limit_min:g} min ({engine}): {o_rows.size:,} origins, "
        f"{d_rows.size:,} destinations, {len(out):,} pairs"
        + (f"; {n_off:,} municipalities off the network or outside the region take no part"
           if n_off else "") + "."]
    logger.info(out.attrs["report"][0])
    return out


# ------------------------------------------------------------------ isochrones
class _Search(NamedTuple):
    """One centre's search, enough for the polygons of every limit."""

    t: np.ndarray        # seconds to/from the centre of the reached nodes (searched graph)
    nodes: np.ndarray    # the reached nodes (t <= the largest limit)
    off_degree: np.ndarray  # their edges on (in the searched graph)
    e_tail: np.ndarray   # searched-graph edges leaving a reached node: tail,
    e_head: np.ndarray   # head,
    e_w: np.ndarray      # and time (s)


def _disc_coords(x: np.ndarray, y: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Vertices of the regular polygons circumscribed about the discs (each contains
    its disc), shape (k, V, 2)."""
    ang = np.linspace(0.0, 2.0 * np.pi, _DISC_VERTICES, endpoint=False)
    rv = r[:, None] / np.cos(np.pi / _DISC_VERTICES)
    return np.stack([x[:, None] + rv * np.cos(ang), y[:, None] + rv * np.sin(ang)], axis=-1)


def _hulls(x0, y0, r0, x1, y1, r1) -> np.ndarray:
    """Convex hulls of pairs of discs (all ``r0 > 0``): the union of the discs along
    the segment whose radius changes linearly from ``r0`` to ``r1``."""
    pts = np.concatenate([_disc_coords(x0, y0, r0), _disc_coords(x1, y1, r1)], axis=1)
    # the hull of a line through all vertices: far faster to build than multipoints
    return shapely.convex_hull(shapely.linestrings(pts))


def _segments(xa, ya, rem_a, xb, yb, rem_b, speed_ms: float, cap_m: float) -> list:
    """The area within reach along segments ``a -> b`` whose time left falls linearly
    from ``rem_a > 0`` to ``rem_b >= 0`` seconds: discs of radius
    ``min(cap_m, speed_ms * rem)``. Where the cap binds at ``a`` but not at ``b`` the
    segment is split where it stops binding, so that each part's radius is linear and
    its convex hull is exact."""
    if xa.size == 0:
        return []
    ra, rb = speed_ms * rem_a, speed_ms * rem_b
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(ra > rb, np.clip((ra - cap_m) / (ra - rb), 0.0, 1.0),
                     (ra >= cap_m).astype(np.float64))
    qx, qy = xa + g * (xb - xa), ya + g * (yb - ya)
    rq = np.minimum(cap_m, ra - g * (ra - rb))
    out = []
    capped = g > 0  # a -> q at the full cap
    if capped.any():
        cap = np.full(int(capped.sum()), cap_m)
        out.append(_hulls(xa[capped], ya[capped], cap, qx[capped], qy[capped], cap))
    rest = g < 1  # q -> b, shrinking
    if rest.any():
        out.append(_hulls(qx[rest], qy[rest], rq[rest], xb[rest], yb[rest],
                          np.minimum(cap_m, rb[rest])))
    return out


def _polygon(graph: RoadGraph, s: _Search, limit_s: float, speed_ms: float, cap_m: float,
             centre_xy: tuple[float, float], node_xy: tuple[float, float],
             access_s: float, previous=None, previous_s: float = -np.inf):
    """The area within ``limit_s`` of one centre's search (graph CRS), united with
    ``previous``, the polygon of the limit ``previous_s`` (smaller)."""
    x, y = graph.x, graph.y
    pieces = []
    # edges out of nodes reached with time to spare, cut where the time runs out;
    # an edge at the full radius to its end within the previous limit looks the same
    # now and is inside ``previous`` already
    rem_u = limit_s - s.t[s.e_tail]
    ok = (rem_u > 0) & (speed_ms * (previous_s - s.t[s.e_tail] - s.e_w) < cap_m)
    # an edge at the full radius to its end is the same piece as its twin the other
    # way (or a parallel edge): keep one of them
    full = ok & (speed_ms * (rem_u - s.e_w) >= cap_m)
    if full.any():
        idx = np.flatnonzero(full)
        lo = np.minimum(s.e_tail[idx], s.e_head[idx])
        hi = np.maximum(s.e_tail[idx], s.e_head[idx])
        _, first = np.unique(lo * graph.n_nodes + hi, return_index=True)
        ok[idx] = False
        ok[idx[first]] = True
    u, v, w, rem_u = s.e_tail[ok], s.e_head[ok], s.e_w[ok], rem_u[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(w > 0, np.minimum(1.0, rem_u / np.where(w > 0, w, 1.0)), 1.0)
    rem_p = np.maximum(rem_u - f * w, 0.0)
    px, py = x[u] + f * (x[v] - x[u]), y[u] + f * (y[v] - y[u])
    pieces += _segments(x[u], y[u], rem_u, px, py, rem_p, speed_ms, cap_m)
    # reached nodes without a way on: their disc alone
    lone = s.nodes[(limit_s - s.t[s.nodes] > 0) & (s.off_degree == 0)
                   & (speed_ms * (previous_s - s.t[s.nodes]) < cap_m)]
    if lone.size:
        r = np.minimum(cap_m, speed_ms * (limit_s - s.t[lone]))
        pieces.append(shapely.polygons(_disc_coords(x[lone], y[lone], r)))
    # the centre's own point and its access leg to its node (``access_s`` long)
    (cx, cy), (nx, ny) = centre_xy, node_xy
    frac = 1.0 if access_s <= limit_s else limit_s / access_s
    pieces += _segments(np.array([cx]), np.array([cy]), np.array([limit_s]),
                        np.array([cx + frac * (nx - cx)]), np.array([cy + frac * (ny - cy)]),
                        np.array([max(limit_s - access_s, 0.0)]), speed_ms, cap_m)
    if previous is not None:  # nested limits give nested polygons by construction
        pieces.append(np.array([previous], object))
    geom = shapely.union_all(np.concatenate(pieces))
    return shapely.make_valid(geom) if not shapely.is_valid(geom) else geom


def _as_multi(geom):
    """Polygon -> MultiPolygon (one geometry type per GeoPackage layer); polygonal
    parts only."""
    if isinstance(geom, shapely.MultiPolygon):
        return geom
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, (shapely.Polygon,
                                                                   shapely.MultiPolygon))]
    polys = [p for g in parts for p in (g.geoms if isinstance(g, shapely.MultiPolygon) else [g])]
    return shapely.MultiPolygon(polys)


def isochrones(graph: RoadGraph, centres: pd.DataFrame, *,
               minutes: Iterable[float] = ISOCHRONE_MINUTES, direction: str = "to",
               access_speed_kmh: float | None = None,
               max_buffer_m: float = ISOCHRONE_MAX_BUFFER_M,
               progress: bool = True, method: str = defaults.ISOCHRONE_METHOD,
               cell_m: float = GRID_CELL_M) -> gpd.GeoDataFrame:
    """Isochrone polygons around centres: the area within each time limit by car.

    Parameters
    ----------
    graph : RoadGraph
        Car graph, edge times in seconds, node coordinates in ``graph.crs`` (metric).
    centres : DataFrame or GeoDataFrame
        Attached centres (:func:`accessibility.attach`) with ``ags``, optionally
        ``name``, and ``lon``/``lat`` or a geometry; e.g. the central places. Centres
        off the network (or with ``in_region`` False) get no polygon; the report
        names how many.
    minutes : iterable of float
        Time limits in minutes, each finite and > 0 (default 15, 30, 60).
    direction : {"to", "from"}
        ``"to"``: the area from which the centre is *reached* within the limit (search
        on the reversed graph, the centre's access leg at the end); ``"from"``: the
        area the centre reaches.
    access_speed_kmh : float, optional
        Speed off the network (km/h); default the speed the centres were attached with
        (their ``access_speed_kmh`` column), else the graph's profile, else
        :data:`~accessibility.defaults.ACCESS_SPEED_KMH`.
    max_buffer_m : float
        Largest off-network radius around a reached point (m), > 0. With
        ``max_buffer_m >= max_snap_m`` of the attach step, every point whose time to
        the centre (its access leg to its node included, as in :func:`time_matrix`)
        is within the limit lies inside the polygon.
    progress : bool
        Show a progress bar (tqdm) over the centres.
    method : {"grid", "network"}
        ``"grid"`` (default): the rule of the Notes on a grid of ``cell_m``
        (:mod:`accessibility.models.isochrone_grid`; the boundary within about a cell
        of the network one, a national run's 1,100 centres in about two minutes on
        two cores, parallel over centres). ``"network"``: the buffered network
        itself (exact, about a minute per 60-minute polygon on a national graph).
    cell_m : float
        Grid cell of ``method="grid"`` (m), > 0.

    Returns
    -------
    GeoDataFrame
        One row per centre and limit: ``ags``, ``name``, ``minutes``, ``n_nodes``
        (graph nodes reached within the limit), ``area_km2`` (in EPSG:3035,
        equal-area) and a MultiPolygon ``geometry`` in EPSG:4326. The polygons of one
        centre are nested (the 30-minute one contains the 15-minute one).

    Raises
    ------
    InputError
        Bad limits, direction or buffer, or centres that are not attached.

    Notes
    -----
    Construction: a *buffered network*, not a hull of the reached nodes. osmnx's
    isochrone example offers the convex hull of the reached nodes (which claims
    every valley and lake between two reached roads) or buffers of the reached nodes
    and edges at a fixed width; pandana aggregates on the network and draws no
    polygon. Here one search per centre (to the largest limit; the smaller limits
    reuse it) gives the time ``t_v`` of every node, and the polygon of a limit ``L``
    is the union of

    * for every edge ``u -> v`` of the searched graph with ``t_u < L``: the part of
      the edge driven before the time runs out (up to the fraction
      ``min(1, (L - t_u) / w)``, on the straight line between the nodes), widened by
      the distance still covered off the network at the access speed in the time
      left, ``min(max_buffer_m, speed * (L - t))``, which shrinks linearly along the
      edge: the convex hull of the two end discs is exactly that union of discs (an
      edge is split where the cap stops binding, so that each part is linear);
    * the discs of reached nodes without an edge on, and the centre's own point with
      its access leg.

    So the boundary follows the roads (the cut of an edge crossing the limit is
    interpolated, not rounded to a node) and a point off the roads counts when the
    time to its road plus the slow off-network leg fits the limit, the same rule as
    the access legs of every other model. The cap keeps a sparse network from
    growing kilometre-wide discs; areas between roads farther than the cap from any
    road stay holes, as they are not reached. Each limit's union includes the
    previous limit's polygon (in the metric CRS and again after the reprojection
    to WGS84), so the polygons are nested up to the rounding of the union. Discs
    are 16-gons circumscribed about the circle, so that no point within reach falls
    outside (a disc's area is 1.3 % larger than the circle's).
    """
    values = [minutes] if np.isscalar(minutes) else list(minutes)
    mins = sorted({_positive(m, "minutes") for m in values})
    if not mins:
        raise InputError("minutes is empty: give at least one limit, e.g. (15, 30, 60)")
    if direction not in ("to", "from"):
        raise InputError(f"unknown direction {direction!r}: use 'to' (reach the centre) "
                         "or 'from' (from the centre)")
    cap_m = _positive(max_buffer_m, "max_buffer_m", "metres")
    if access_speed_kmh is None:
        access_speed_kmh = (attach_settings(centres).get("access_speed_kmh")
                            or graph.meta.get("access_speed_kmh") or defaults.ACCESS_SPEED_KMH)
    speed_kmh = _positive(access_speed_kmh, "access_speed_kmh", "km/h")
    speed_ms = speed_kmh / 3.6

    rows, arr = _eligible(centres, graph, "centres")
    lon, lat = point_coordinates(centres)
    cx, cy = project(np.nan_to_num(lon), np.nan_to_num(lat), graph.crs)
    has_pt = np.isfinite(lon) & np.isfinite(lat)
    names = (centres["name"].astype("string").to_numpy() if "name" in centres.columns
             else np.full(len(centres), pd.NA, object))
    ags = centres["ags"].astype(str).to_numpy()
    g = graph.reversed if direction == "to" else graph
    transformer = Transformer.from_crs(graph.crs, defaults.WGS84, always_xy=True)

    def to_wgs(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    off, tgt, w_all = g.offsets, g.targets, g.time_s
    limit_max = mins[-1] * 60.0

    if method not in ("network", "grid"):
        raise InputError(f"unknown method {method!r}: use 'network' or 'grid'")
    cell_m = _positive(cell_m, "cell_m", "metres")
    records, geoms = [], []
    it = rows if method == "network" else rows[:0]  # the grid's loop is below
    if progress and it.size > 1:
        from tqdm.auto import tqdm

        it = tqdm(rows, desc=f"isochrones ({direction})", unit="centre", leave=False,
                  disable=None)  # no bar when not on a terminal (logs, CI)
    for i in it:
        node = int(arr.node[i])
        res = nearest_facility(g, [node], [arr.access_s[i]], limit=limit_max)
        reached = np.flatnonzero(res.dist <= limit_max)
        deg = off[reached + 1] - off[reached]
        e = np.repeat(off[reached], deg) + (np.arange(deg.sum())
                                            - np.repeat(np.cumsum(deg) - deg, deg))
        s = _Search(res.dist, reached, deg, np.repeat(reached, deg), tgt[e].astype(np.int64),
                    w_all[e])
        node_xy = (graph.x[node], graph.y[node])
        centre_xy = (cx[i], cy[i]) if has_pt[i] else node_xy
        prev = prev_wgs = None
        prev_s = -np.inf
        for m in mins:
            limit_s = m * 60.0
            prev = _polygon(graph, s, limit_s, speed_ms, cap_m, centre_xy, node_xy,
                            arr.access_s[i], prev, prev_s)
            prev_s = limit_s
            # reprojecting moves straight edges a little (a chord stays a chord): union
            # with the previous limit once more, so that nesting also holds in WGS84
            wgs = shapely.transform(prev, to_wgs)
            prev_wgs = wgs if prev_wgs is None else shapely.union(wgs, prev_wgs)
            geoms.append(_as_multi(prev_wgs))
            records.append((ags[i], names[i], m, int((res.dist[reached] <= limit_s).sum())))
    if method == "grid":
        pts = np.column_stack([np.where(has_pt[rows], cx[rows], graph.x[arr.node[rows]]),
                               np.where(has_pt[rows], cy[rows], graph.y[arr.node[rows]])])
        bands = grid_polygons(graph, arr.node[rows], arr.access_s[rows], pts,
                              [m * 60.0 for m in mins], reverse=direction == "to",
                              speed_ms=speed_ms, cap_m=cap_m, cell_m=cell_m,
                              to_crs=defaults.WGS84)  # nested in WGS84 too, as above
        for i, centre in zip(rows, bands):
            for m, (n_nodes, wgs) in zip(mins, centre):
                geoms.append(_as_multi(wgs))
                records.append((ags[i], names[i], m, n_nodes))
    wgs84 = gpd.GeoSeries(geoms, crs=defaults.WGS84)
    area = (wgs84.to_crs(defaults.GRID_CRS).area.to_numpy() / 1e6 if len(wgs84)
            else np.zeros(0))
    frame = pd.DataFrame.from_records(records, columns=["ags", "name", "minutes", "n_nodes"])
    frame["name"] = frame["name"].astype("string")
    frame["minutes"] = frame["minutes"].astype(np.float64)
    frame["n_nodes"] = frame["n_nodes"].astype(np.int64)
    frame["area_km2"] = area
    out = gpd.GeoDataFrame(frame, geometry=wgs84.to_numpy(), crs=defaults.WGS84)
    n_skip = len(centres) - rows.size
    out.attrs["report"] = [
        f"Isochrones ({direction} the centre; {', '.join(f'{m:g}' for m in mins)} min): "
        f"{rows.size:,} centres" + (f"; {n_skip:,} off the network or outside the region "
                                    "have none" if n_skip else "")
        + f"; off the roads at {speed_kmh:g} km/h, at most {cap_m:,.0f} m."]
    logger.info(out.attrs["report"][0])
    return out
