"""Nahversorgung: share of residents with six everyday services within 1,000 m on foot
(METHOD.md section 3), by straight line with water barriers and along the walk network.

Three steps, each a function with tables in and out:

1. :func:`resident_cells`: 100 m cells with residents inside the walk extract
   (a Census grid spread over residential buildings, or municipality populations
   spread over their polygons), each with the ``ags`` of its municipality;
2. :func:`cell_distances`: the distance from every cell to the nearest facility of
   each service, by straight line with barriers and/or along the walking network
   (cells and facilities attached to the walk graph by :func:`accessibility.attach`);
3. :func:`walkability`: per municipality the share of residents within the limit
   and the mean distance.
"""

from __future__ import annotations

import functools
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from .. import defaults
from .._checks import check_degrees
from .._errors import InputError
from ..graph import RoadGraph, cut_nodes, network_arrays
from ..routing import walk_nearest
from ..vocabulary import (
    N_SERVICES_WORD,
    SERVICES,
    WALK_METHOD_SUFFIX as METHOD_SUFFIX,
    walk_columns as column_docs,
)
from .barriers import _as_geoms, nearest_straight
from .population_grid import assign_cells, cell_size, disaggregate, from_municipalities

logger = logging.getLogger(__name__)

__all__ = ["METHODS", "SERVICES", "SPREAD_SOURCE", "absent_services", "aggregate",
           "cell_distances", "column_docs", "network_distances", "resident_cells",
           "straight_distances", "study_extent", "tile_labels", "tiled_cell_distances",
           "walkability"]

METHODS = tuple(METHOD_SUFFIX)
GRID_CRS = defaults.GRID_CRS
#: Where the residents of :func:`resident_cells` come from without a grid.
SPREAD_SOURCE = "municipality populations spread over their polygons (no grid given)"


@functools.cache
def _grid_transformer() -> Transformer:
    # made once: building a pyproj Transformer costs ~0.1 s, more than most transforms
    return Transformer.from_crs(defaults.WGS84, GRID_CRS, always_xy=True)


def _to_grid(lon, lat):
    return _grid_transformer().transform(np.asarray(lon, float), np.asarray(lat, float))


# ------------------------------------------------------------------ 1. resident cells
def study_extent(lon, lat, buffer_m: float = 0.0):
    """Convex hull of points (walk-graph nodes or facilities) in EPSG:3035: the
    extent of the walk extract; residents outside it are not counted."""
    hx, hy = _to_grid(lon, lat)
    hull = shapely.MultiPoint(np.column_stack([hx, hy])).convex_hull
    return hull.buffer(buffer_m) if buffer_m else hull


def resident_cells(extent, *, grid: pd.DataFrame | None = None, buildings=None,
                   residential_areas=None, municipalities: pd.DataFrame | None = None,
                   polygons: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Populated 100 m cells inside ``extent``, each with its municipality's ``ags``.

    Parameters
    ----------
    extent : shapely geometry in EPSG:3035
        The walk extract (:func:`study_extent`).
    grid : DataFrame, optional
        Census grid ``x``, ``y`` (EPSG:3035 centres), ``population``,
        ``cell_size_m`` (default 1 km). Coarser than 100 m: spread over the
        residential ``buildings`` (and ``residential_areas``); 100 m: used as it is.
    buildings, residential_areas : GeoDataFrame, optional
        From :func:`accessibility.io.extract_features`.
    municipalities : DataFrame
        ``ags``, ``lon``, ``lat``, ``population``: without a grid their populations are
        spread over their polygons' buildings; cells are assigned to them.
    polygons : GeoDataFrame, optional
        Municipality polygons with ``ags``: assignment by polygon (else the nearest
        reference point).

    Returns
    -------
    DataFrame
        ``x``, ``y``, ``population``, ``population_source`` (where the cell's
        residents come from), and with ``municipalities`` ``ags`` (None where no
        municipality holds the cell) and ``assigned_by`` (``"polygon"`` or
        ``"nearest point"``: how the cell got its ``ags``).
    """
    if grid is not None:
        size = cell_size(grid) or defaults.GRID_CELL_M
        if size > 100:  # 1 km Census cells: spread over residential buildings
            cells = disaggregate(grid, buildings, residential_areas, source_size_m=size)
        else:  # the user's 100 m grid as it is
            cells = grid
        source = f"population grid ({size:g} m)"
    else:
        if municipalities is None or polygons is None:
            raise InputError("resident cells need a population grid, or municipality "
                             "populations and polygons to spread them")
        pm = gpd.GeoDataFrame(
            municipalities[["ags", "population"]].merge(
                pd.DataFrame({"ags": polygons["ags"].to_numpy(),
                              "geometry": polygons.geometry.to_numpy()}), on="ags"),
            geometry="geometry", crs=polygons.crs)
        pm = pm[pm.intersects(gpd.GeoSeries([extent], crs=GRID_CRS).to_crs(pm.crs).iloc[0])]
        cells = from_municipalities(pm[pm["population"] > 0], buildings)
        source = SPREAD_SOURCE
    inside = gpd.GeoSeries(gpd.points_from_xy(cells["x"], cells["y"])).within(extent).to_numpy()
    cells = cells[inside & (cells["population"] > 0)].reset_index(drop=True)
    cells = cells[["x", "y", "population"]].copy()
    if municipalities is not None:
        if polygons is not None:
            pidx = assign_cells(cells, polygons=polygons)
            ags = np.where(pidx >= 0, polygons["ags"].to_numpy()[np.maximum(pidx, 0)], None)
            ags = np.where(pd.Series(ags).isin(municipalities["ags"]).to_numpy(), ags, None)
        else:
            ok = municipalities["lon"].notna().to_numpy()
            mx, my = _to_grid(municipalities["lon"].to_numpy()[ok],
                              municipalities["lat"].to_numpy()[ok])
            idx = assign_cells(cells, points=np.column_stack([mx, my]))
            ags = np.where(idx >= 0, municipalities["ags"].to_numpy()[ok][np.maximum(idx, 0)],
                           None)
        cells["ags"] = ags
        # columns, not attrs: they stay with the cells through tiles, merges and files
        cells["assigned_by"] = pd.Categorical(
            np.full(len(cells), "polygon" if polygons is not None else "nearest point"))
    cells["population_source"] = pd.Categorical(np.full(len(cells), source))
    return cells


# ------------------------------------------------------------------ 2. distances
def straight_distances(cells: pd.DataFrame, facilities: pd.DataFrame, *, barriers=None,
                       gaps=None, max_distance_m: float = defaults.WALK_MAX_DISTANCE_M
                       ) -> dict[str, np.ndarray]:
    """Straight-line distance (m) from every cell to the nearest facility of each
    service, blocked by water barriers except at gaps (bridges, underpasses)."""
    cxy = cells[["x", "y"]].to_numpy(float)
    out = {}
    for s in SERVICES:
        f = facilities[facilities["service"] == s]
        if len(f) == 0:
            out[s] = np.full(len(cells), np.nan)
            continue
        fx, fy = _to_grid(f["lon"], f["lat"])
        d, _, _ = nearest_straight(cxy, np.column_stack([fx, fy]), barriers, gaps,
                                   max_distance_m=max_distance_m)
        out[s] = d
    return out


def network_distances(cells: pd.DataFrame, facilities: pd.DataFrame, walk_graph: RoadGraph, *,
                      max_distance_m: float = defaults.WALK_MAX_DISTANCE_M
                      ) -> dict[str, np.ndarray]:
    """Distance (m) along the walk network from every cell to the nearest facility of
    each service: one multi-source search per service (six in all), not one per cell.

    ``cells`` and ``facilities`` are attached to ``walk_graph``
    (:func:`accessibility.attach`). Facilities start with their snap distance; a cell
    adds its own. Cells off the network get NaN.
    """
    cs = network_arrays(cells, walk_graph, what="cells")
    fs_all = network_arrays(facilities, walk_graph, what="facilities")
    service = facilities["service"].to_numpy()
    out = {}
    for s in SERVICES:
        d = np.full(len(cells), np.nan)
        sel = (service == s) & fs_all.on_network
        if sel.any():
            res = walk_nearest(walk_graph, fs_all.node[sel], fs_all.snap_m[sel],
                               limit_m=max_distance_m)
            ok = cs.on_network
            d[ok] = cs.snap_m[ok] + res.dist[cs.node[ok]]
            d[d > max_distance_m] = np.nan
            d[~np.isfinite(d)] = np.nan
        out[s] = d
    return out


def network_edge_flag(cells: pd.DataFrame, walk_graph: RoadGraph, *,
                      max_distance_m: float = defaults.WALK_MAX_DISTANCE_M) -> pd.array:
    """Per cell, whether a larger walk extract could change one of its network
    distances (the columns ``dist_{service}_net_m``): a walk that leaves the extract
    passes last through a node where the extract cut the network
    (:func:`accessibility.graph.cut_nodes`), so it is at least the cell's snap
    distance plus the walk to the nearest cut node. Where that is no less than the
    distance found (or the search radius, where none was found), the distance is
    exact. Empty (``<NA>``) when the graph does not know where it was cut; False for
    cells off the network. A nullable boolean array, one value per cell."""
    cs = network_arrays(cells, walk_graph, what="cells")
    cut = cut_nodes(walk_graph)
    flag = np.zeros(len(cells), bool)
    if cut is None or not cut.any():
        return pd.array([pd.NA] * len(cells), dtype="boolean")
    src = np.flatnonzero(cut)
    res = walk_nearest(walk_graph, src, np.zeros(src.size), limit_m=max_distance_m)
    ok = cs.on_network
    out_m = np.full(len(cells), np.inf)
    out_m[ok] = cs.snap_m[ok] + res.dist[cs.node[ok]]
    for s in SERVICES:
        col = f"dist_{s}{METHOD_SUFFIX['network']}_m"
        if col in cells.columns:
            d = np.nan_to_num(cells[col].to_numpy(float), nan=max_distance_m)
            flag |= ok & (out_m < np.minimum(d, max_distance_m))
    return pd.array(flag, dtype="boolean")


def cell_distances(cells: pd.DataFrame, facilities: pd.DataFrame, *, methods=METHODS,
                   walk_graph: RoadGraph | None = None, barriers=None, gaps=None,
                   max_distance_m: float = defaults.WALK_MAX_DISTANCE_M) -> pd.DataFrame:
    """Distance from every cell to the nearest facility of each service.

    Parameters
    ----------
    cells : DataFrame
        ``x``, ``y`` (EPSG:3035 centres), ``population``; for the network method also
        the network columns of :func:`accessibility.attach` (to ``walk_graph``).
    facilities : DataFrame
        ``service`` (one of :data:`SERVICES`), ``lon``, ``lat``; for the network
        method attached to ``walk_graph`` too.
    methods : sequence of {"straight", "network"}
        Straight line with barriers (official) and/or along ``walk_graph``.
    walk_graph : RoadGraph
        Walking network (``build_graph(path, "walk")``), for the network method.
    barriers, gaps : sequence of shapely geometries in EPSG:3035, optional
        Water bodies and their gaps (bridges, underpasses), for the straight method.
    max_distance_m : float
        Search radius; farther facilities count as not found (NaN).

    Returns
    -------
    DataFrame
        ``cells`` with ``dist_{service}{suffix}_m`` per service and method (suffix
        ``""`` straight, ``"_net"`` network, in the order of ``methods``; NaN:
        nothing within the radius); ``.attrs["report"]`` (lines).
    """
    methods = tuple(methods)
    report = _distance_report(cells, facilities, methods, walk_graph)
    out = cells.copy()
    for m in methods:
        if m == "straight":
            d = straight_distances(cells, facilities, barriers=barriers, gaps=gaps,
                                   max_distance_m=max_distance_m)
        else:
            d = network_distances(cells, facilities, walk_graph, max_distance_m=max_distance_m)
        for s, v in d.items():
            out[f"dist_{s}{METHOD_SUFFIX[m]}_m"] = v
    if "network" in methods:
        out["walk_edge_flag_net"] = network_edge_flag(out, walk_graph,
                                                      max_distance_m=max_distance_m)
    out.attrs["report"] = report
    return out


def absent_services(facilities: pd.DataFrame) -> tuple[str, ...]:
    """The services without any facility in ``facilities`` (their Nahversorgung is no
    data, not 0 %)."""
    have = set(facilities["service"])
    return tuple(s for s in SERVICES if s not in have)


def _distance_report(cells, facilities, methods, walk_graph) -> list[str]:
    """Check the inputs of :func:`cell_distances`; its report lines."""
    bad = set(methods) - set(METHODS)
    if bad or not methods:
        raise InputError(f"unknown walk method(s) {sorted(bad)}: use {METHODS}")
    if "network" in methods and walk_graph is None:
        raise InputError("the network method needs a walk graph: build_graph(osm, 'walk')")
    for col in ("x", "y", "population"):
        if col not in cells.columns:
            raise InputError(f"cells need column {col!r} (x, y in EPSG:3035, population)")
    x = pd.to_numeric(cells["x"], errors="coerce").to_numpy(float)
    y = pd.to_numeric(cells["y"], errors="coerce").to_numpy(float)
    # ETRS89-LAEA metres: Germany lies at x 4.0-4.7 million, y 2.6-3.6 million
    off = ~((x > 2e6) & (x < 7e6) & (y > 1e6) & (y < 6e6))
    if len(cells) and off.any():
        i = int(np.flatnonzero(off)[0])
        deg = " (they look like degrees)" if abs(x[i]) <= 180 and abs(y[i]) <= 90 else ""
        raise InputError(f"{int(off.sum())} cells have x/y outside EPSG:3035 over Europe "
                         f"(e.g. x={x[i]:g}, y={y[i]:g}){deg}: cell centres are ETRS89-LAEA "
                         "metres; project them (geopandas .to_crs(3035))")
    pop = pd.to_numeric(cells["population"], errors="coerce").to_numpy(float)
    if len(cells) and not (np.isfinite(pop) & (pop >= 0)).all():
        raise InputError(f"{int((~(np.isfinite(pop) & (pop >= 0))).sum())} cells have a "
                         "negative or missing population: residents per cell are >= 0")
    if {"lon", "lat"} <= set(facilities.columns):  # what the facility reader checks
        check_degrees(facilities["lon"], facilities["lat"], "the facilities")
    unknown = set(facilities["service"]) - set(SERVICES)
    if unknown:
        raise InputError(f"unknown service types {sorted(unknown)}: use {SERVICES}")
    counts = facilities["service"].value_counts().to_dict()
    report = [f"{len(cells):,} populated 100 m cells, {float(cells['population'].sum()):,.0f} "
              f"residents; methods: {', '.join(methods)}.",
              "facilities: " + ", ".join(f"{s} {counts.get(s, 0)}" for s in SERVICES) + "."]
    absent = absent_services(facilities)
    if absent:
        report.append(f"No facility of {', '.join(absent)} in the input: those columns and "
                      f"the 'all {N_SERVICES_WORD}' columns are empty (no data), not 0 %.")
    if "network" in methods:
        off_cell = ~network_arrays(cells, walk_graph, what="cells").on_network
        off = int(off_cell.sum())
        if off:
            pop = cells["population"].to_numpy(float)
            share = pop[off_cell].sum() / max(pop.sum(), 1e-9)
            report.append(f"{off:,} cells ({share:.0%} of the residents) are farther than the "
                          "snapping limit from the walk network: no network distance for "
                          "them; they are left out of the _net shares (no data, not 'not "
                          "served')" + ("; no cell is on the network (is [walk] max_snap_m "
                                        "too small?)" if off == len(cells) else "") + ".")
    return report


# ------------------------------------------------------------------ 2b. in tiles
def tile_labels(cells: pd.DataFrame, *, tiles: str = defaults.TILES,
                tile_size_m: float = defaults.TILE_SIZE_M) -> np.ndarray:
    """Tile of every cell: a fixed square of ``tile_size_m`` (EPSG:3035; ``tiles=
    "square"``) or its Kreis (the first five digits of ``ags``; ``"kreis"``)."""
    if tiles == "kreis":
        if "ags" not in cells.columns:
            raise InputError("Kreis tiles need the cells' 'ags' column: use square tiles")
        kreis = cells["ags"].astype("string").str[:5].fillna("")
        return pd.factorize(kreis, sort=True)[0]
    if tiles != "square":
        raise InputError(f"unknown tiles {tiles!r}: use 'square' or 'kreis'")
    if not (np.isfinite(tile_size_m) and tile_size_m > 0):
        raise InputError(f"tile_size_m must be a positive number of metres, got {tile_size_m!r} "
                         f"(default {defaults.TILE_SIZE_M:g})")
    ix = np.floor(cells["x"].to_numpy(float) / tile_size_m).astype(np.int64)
    iy = np.floor(cells["y"].to_numpy(float) / tile_size_m).astype(np.int64)
    if not len(ix):
        return np.empty(0, np.int64)
    # one integer per (ix, iy), ordered as the pairs are (no Python tuple per cell)
    iy -= iy.min()
    key = (ix - ix.min()) * (int(iy.max()) + 1) + iy
    return pd.factorize(key, sort=True)[0]


def _tile_rows(labels: np.ndarray) -> list[np.ndarray]:
    """The rows of each tile, ascending (one sort, not a scan of all cells per tile)."""
    if not len(labels):
        return []
    order = np.argsort(labels, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)


def tile_buffer_m(max_distance_m: float, max_snap_m: float) -> float:
    """How far around its cells a tile takes the network, facilities and barriers.

    Network: a path of length L from a cell's node stays within L of it (lengths are
    at least the straight distance; 1 % and 100 m absorb the difference between
    geodesic lengths and EPSG:3035 distances), and the node is within the snap
    distance of the cell. Straight line: a detour enters a gap within the search
    radius R of the cell, and only gaps whose crossing plus onward walk fit in R are
    considered (:func:`~accessibility.models.barriers.nearest_straight`), so the gap's
    far end and its facility lie within 2 R: everything within 2 R decides the
    answer, as for the whole area."""
    return 1.01 * (2.0 * max_distance_m + max_snap_m) + 100.0


def _within(x, y, box) -> np.ndarray:
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


def _reattach(table: pd.DataFrame, new_id: np.ndarray) -> pd.DataFrame:
    """``table`` (attached to the whole graph) with its nodes renumbered for a tile's
    subgraph; points whose node is outside it are off the tile's network."""
    out = table.copy()
    node = pd.to_numeric(out["node"], errors="coerce").to_numpy(np.float64)
    ok = out["on_network"].fillna(False).to_numpy(bool) & np.isfinite(node)
    mapped = np.full(len(out), -1, np.int64)
    mapped[ok] = new_id[node[ok].astype(np.int64)]
    ok &= mapped >= 0
    out["node"] = np.where(ok, mapped, -1)
    out["on_network"] = ok
    return out


#: Tiles handed to the executor at a time: the pieces of one window (cells, facilities,
#: barriers and network around each tile) are in memory together, not those of all
#: tiles of the country.
TILE_WINDOW = 16


def _tile_task(piece: dict, *, methods, max_distance_m) -> pd.DataFrame:
    """Distances of one tile's cells (the tile's network, facilities and barriers)."""
    out = cell_distances(piece["cells"], piece["facilities"], methods=methods,
                         walk_graph=piece["graph"], barriers=piece["barriers"],
                         gaps=piece["gaps"], max_distance_m=max_distance_m)
    return out[[c for c in out.columns if c.startswith("dist_")]]


def tiled_cell_distances(cells: pd.DataFrame, facilities: pd.DataFrame, executor, *,
                         methods=METHODS, walk_graph: RoadGraph | None = None,
                         barriers=None, gaps=None,
                         max_distance_m: float = defaults.WALK_MAX_DISTANCE_M,
                         max_snap_m: float = defaults.WALK_MAX_SNAP_M,
                         tiles: str = defaults.TILES,
                         tile_size_m: float = defaults.TILE_SIZE_M) -> pd.DataFrame:
    """:func:`cell_distances` in tiles, each an independent task of ``executor``
    (:mod:`accessibility.compute`, e.g. on Dask workers).

    Every tile takes the walk network, the facilities, barriers and gaps within
    :func:`tile_buffer_m` of its cells' box, so its cells get the distances the
    whole area gives them (cells and facilities stay attached where they were).
    Only the tiles' pieces travel to the workers, never the whole network nor all
    barriers; the pieces are made and handed over :data:`TILE_WINDOW` tiles at a
    time, so memory grows with the window, not with the country.
    """
    methods = tuple(methods)
    # GeoSeries / GeoDataFrame in any CRS -> EPSG:3035 parts, as the untiled path reads them
    barriers = None if barriers is None else list(_as_geoms(barriers, "barriers"))
    gaps = None if gaps is None else list(_as_geoms(gaps, "gaps"))
    report = _distance_report(cells, facilities, methods, walk_graph)
    labels = tile_labels(cells, tiles=tiles, tile_size_m=tile_size_m)
    buf = tile_buffer_m(max_distance_m, max_snap_m)
    cx, cy = cells["x"].to_numpy(float), cells["y"].to_numpy(float)
    fx, fy = _to_grid(facilities["lon"], facilities["lat"])
    if walk_graph is not None:
        nx_, ny_ = _to_grid(walk_graph.lon, walk_graph.lat)
    bar_tree = shapely.STRtree(list(barriers)) if barriers is not None else None
    gap_tree = shapely.STRtree(list(gaps)) if gaps is not None else None
    order = _tile_rows(labels)

    def piece(rows):
        box = (cx[rows].min() - buf, cy[rows].min() - buf,
               cx[rows].max() + buf, cy[rows].max() + buf)
        out = {"cells": cells.iloc[rows],
               "facilities": facilities.iloc[np.flatnonzero(_within(fx, fy, box))],
               "graph": None, "barriers": None, "gaps": None}
        geom = shapely.box(*box)
        # the tile's own barriers and gaps (in their order in the whole list)
        if bar_tree is not None:
            out["barriers"] = [barriers[i] for i in
                               np.sort(bar_tree.query(geom, predicate="intersects"))]
        if gap_tree is not None:
            out["gaps"] = [gaps[i] for i in np.sort(gap_tree.query(geom, predicate="intersects"))]
        if walk_graph is not None and "network" in methods:
            keep = _within(nx_, ny_, box)
            sub = walk_graph.subgraph(keep)
            new_id = np.full(walk_graph.n_nodes, -1, np.int64)
            new_id[keep] = np.arange(sub.n_nodes)
            out.update(graph=sub, cells=_reattach(out["cells"], new_id),
                       facilities=_reattach(out["facilities"], new_id))
        return out

    parts = []
    for w in range(0, len(order), TILE_WINDOW):
        parts += executor.map(_tile_task, [piece(r) for r in order[w:w + TILE_WINDOW]],
                              what="walkability tiles",
                              shared={"methods": methods, "max_distance_m": max_distance_m})
    out = cells.copy()
    dist = pd.concat(parts) if parts else pd.DataFrame(index=cells.index[:0])
    for c in (f"dist_{s}{METHOD_SUFFIX[m]}_m" for m in methods for s in SERVICES):
        # the tiles' distances, back in the cells' order
        out[c] = (dist[c].reindex(cells.index).to_numpy() if c in dist.columns
                  else np.full(len(cells), np.nan))
    if "network" in methods and walk_graph is not None:  # on the whole network: one search
        out["walk_edge_flag_net"] = network_edge_flag(out, walk_graph,
                                                      max_distance_m=max_distance_m)
    out.attrs.update(report=report + [
        f"Computed in {len(order)} tile{'' if len(order) == 1 else 's'} ({tiles}"
        + (f", {tile_size_m / 1000:g} km" if tiles == "square" else "")
        + f", {buf:,.0f} m buffer) {executor.describe()}."])
    return out


# ------------------------------------------------------------------ 3. per municipality
def aggregate(cells: pd.DataFrame, dists: dict[str, np.ndarray], *,
              limit_m: float = defaults.WALK_LIMIT_M, suffix: str = "",
              absent: tuple[str, ...] = (), valid: np.ndarray | None = None
              ) -> pd.DataFrame:
    """Per municipality (``cells["ags"]``): share of residents within ``limit_m`` and
    resident-weighted mean distance, per service and for all six.

    Residents with no facility within the search radius count as not served and are
    left out of the mean distance (the mean is over residents with a distance).
    Services in ``absent`` have no facility in the input at all: their values and
    those of "all six" are NaN (no data), not 0 %% (nobody served). Cells without a
    municipality (``ags`` empty) are left out. ``valid`` (per cell, default all)
    marks the cells the method could measure at all: the others (e.g. farther than
    the snapping limit from the walk network) are no data, left out of the residents
    a share is taken over, so a municipality with none gets NaN, not 0 %%; their
    residents are in ``walk_residents{suffix}`` only when valid. Returns one row per
    ``ags`` (index).
    """
    if "ags" not in cells.columns:
        raise InputError("cells need an 'ags' column naming their municipality (None "
                         "where none): see resident_cells()")
    pop = cells["population"].to_numpy(float)
    ags = cells["ags"]
    ok = ags.notna().to_numpy()
    keys, muni = np.unique(ags[ok].astype(str).to_numpy(), return_inverse=True)
    pop = pop[ok]
    n = keys.size
    pop_all = np.bincount(muni, weights=pop, minlength=n)
    if valid is not None:  # cells the method cannot measure weigh nothing
        pop = np.where(np.asarray(valid, bool)[ok], pop, 0.0)
    pop_m = np.bincount(muni, weights=pop, minlength=n)
    dists = {s: np.asarray(d, float)[ok] for s, d in dists.items()}
    cols = {}
    stack = [dists[s] for s in SERVICES if s in dists]
    # a cell missing any service has no "all six" distance
    all_d = np.max(stack, axis=0) if len(stack) == len(SERVICES) else np.full(pop.size, np.nan)
    for s, d in list(dists.items()) + [("all", all_d)]:
        within = d <= limit_m  # NaN compares False: not served
        served = np.bincount(muni[within], weights=pop[within], minlength=n)
        have = np.isfinite(d)
        wsum = np.bincount(muni[have], weights=pop[have], minlength=n)
        dsum = np.bincount(muni[have], weights=(pop * np.nan_to_num(d))[have], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols[f"walk_share_{s}{suffix}"] = np.where(pop_m > 0, served / pop_m, np.nan)
            cols[f"walk_dist_{s}{suffix}_m"] = np.where(wsum > 0, dsum / wsum, np.nan)
    for s in tuple(absent) + (("all",) if absent else ()):
        cols[f"walk_share_{s}{suffix}"] = np.full(n, np.nan)
        cols[f"walk_dist_{s}{suffix}_m"] = np.full(n, np.nan)
    out = pd.DataFrame(cols, index=pd.Index(keys, name="ags"))
    out["walk_residents"] = pop_all
    if valid is not None:
        out[f"walk_residents{suffix}"] = pop_m
    return out


def _edge_share(cells: pd.DataFrame, keys: pd.Index) -> np.ndarray:
    """Per municipality (``keys``), the share of residents whose cell carries
    ``walk_edge_flag_net``: how much of its network Nahversorgung a larger extract
    might change (0: exact); NaN where no cell knows (the graph does not know where
    it was cut)."""
    ok = cells["ags"].notna().to_numpy()
    known = cells["walk_edge_flag_net"].notna().to_numpy()[ok]
    ags = cells["ags"][ok].astype(str).to_numpy()
    pop = cells["population"].to_numpy(float)[ok]
    flag = cells["walk_edge_flag_net"].fillna(False).to_numpy(bool)[ok]
    pos = keys.get_indexer(ags)
    tot = np.bincount(pos, weights=pop, minlength=len(keys))
    hit = np.bincount(pos, weights=pop * flag, minlength=len(keys))
    n_known = np.bincount(pos, weights=known.astype(np.float64), minlength=len(keys))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((tot > 0) & (n_known > 0), hit / tot, np.nan)


def walkability(cells: pd.DataFrame, *, limit_m: float = defaults.WALK_LIMIT_M,
                methods=None, absent: tuple[str, ...] = ()) -> pd.DataFrame:
    """Nahversorgung per municipality from the cell distances of :func:`cell_distances`.

    Parameters
    ----------
    cells : DataFrame
        ``population``, ``ags`` and the ``dist_*`` columns of :func:`cell_distances`.
    limit_m : float
        Walking distance of the indicator (BBSR: 1,000 m).
    methods : sequence of {"straight", "network"}, optional
        Default: those with distance columns, in the order of the columns (that of
        :func:`cell_distances`).
    absent : tuple of str
        Services with no facility at all (NaN, not 0 %%): :func:`absent_services`
        of the facilities the distances were measured to.

    Returns
    -------
    DataFrame
        One row per ``ags`` with the columns of :func:`column_docs` (share and mean
        distance per service and "all", ``walk_residents``).
    """
    if methods is None:  # the columns tell, in the order cell_distances wrote them
        first = {m: f"dist_{SERVICES[0]}{METHOD_SUFFIX[m]}_m" for m in METHODS}
        methods = tuple(sorted((m for m in METHODS if first[m] in cells.columns),
                               key=lambda m: cells.columns.get_loc(first[m])))
    if not methods:
        raise InputError("cells have no distance columns (dist_<service>_m): compute them "
                         "with cell_distances()")
    parts = []
    for m in methods:
        sfx = METHOD_SUFFIX[m]
        cols = {s: f"dist_{s}{sfx}_m" for s in SERVICES}
        missing = [c for c in cols.values() if c not in cells.columns]
        if missing:
            raise InputError(f"cells lack the distance columns {missing}: compute them with "
                             "cell_distances()")
        d = {s: cells[c].to_numpy(float) for s, c in cols.items()}
        # a cell off the walk network has no network distance: no data, not "far"
        valid = (cells["on_network"].fillna(False).to_numpy(bool)
                 if m == "network" and "on_network" in cells.columns else None)
        agg = aggregate(cells, d, limit_m=limit_m, suffix=sfx, absent=absent, valid=valid)
        if m == "network" and "walk_edge_flag_net" in cells.columns:
            agg["walk_edge_share_net"] = _edge_share(cells, agg.index)
        parts.append(agg if not parts else agg.drop(columns="walk_residents"))
    return pd.concat(parts, axis=1)
