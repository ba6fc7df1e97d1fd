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

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from .. import defaults
from .._errors import InputError
from ..graph import RoadGraph, network_arrays
from ..routing import walk_nearest
from ..vocabulary import SERVICES, WALK_METHOD_SUFFIX as METHOD_SUFFIX
from ..vocabulary import walk_columns as column_docs
from .barriers import nearest_straight
from .population_grid import assign_cells, disaggregate, from_municipalities

logger = logging.getLogger(__name__)

__all__ = ["METHODS", "SERVICES", "aggregate", "cell_distances", "column_docs",
           "network_distances", "resident_cells", "straight_distances", "study_extent",
           "walkability"]

METHODS = tuple(METHOD_SUFFIX)
GRID_CRS = defaults.GRID_CRS


def _to_grid(lon, lat):
    return Transformer.from_crs(defaults.WGS84, GRID_CRS, always_xy=True).transform(
        np.asarray(lon, float), np.asarray(lat, float))


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
        Census grid ``x``, ``y`` (EPSG:3035 centres), ``population``;
        ``.attrs["cell_size_m"]``. Coarser than 100 m: spread over the residential
        ``buildings`` (and ``residential_areas``); 100 m: used as it is.
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
        ``x``, ``y``, ``population``, ``ags`` (None where no municipality holds the
        cell); ``.attrs["population_source"]`` says where the residents come from.
    """
    if grid is not None:
        size = grid.attrs.get("cell_size_m") or defaults.GRID_CELL_M
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
        source = "municipality populations spread over their polygons (no grid given)"
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
        cells.attrs["assignment"] = "polygon" if polygons is not None else "nearest point"
    cells.attrs["population_source"] = source
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
        ``""`` straight, ``"_net"`` network; NaN: nothing within the radius).
        ``.attrs``: ``report`` (lines), ``absent_services`` (no facility at all),
        ``methods``.
    """
    methods = tuple(methods)
    bad = set(methods) - set(METHODS)
    if bad or not methods:
        raise InputError(f"unknown walk method(s) {sorted(bad)}: use {METHODS}")
    if "network" in methods and walk_graph is None:
        raise InputError("the network method needs a walk graph: build_graph(osm, 'walk')")
    for col in ("x", "y", "population"):
        if col not in cells.columns:
            raise InputError(f"cells need column {col!r} (x, y in EPSG:3035, population)")
    unknown = set(facilities["service"]) - set(SERVICES)
    if unknown:
        raise InputError(f"unknown service types {sorted(unknown)}: use {SERVICES}")
    counts = facilities["service"].value_counts().to_dict()
    report = [f"{len(cells):,} populated 100 m cells, {float(cells['population'].sum()):,.0f} "
              f"residents; methods: {', '.join(methods)}.",
              "facilities: " + ", ".join(f"{s} {counts.get(s, 0)}" for s in SERVICES) + "."]
    absent = tuple(s for s in SERVICES if not counts.get(s))
    if absent:
        report.append(f"No facility of {', '.join(absent)} in the input: those columns and "
                      "the 'all six' columns are empty (no data), not 0 %.")
    out = cells.copy()
    for m in methods:
        if m == "straight":
            d = straight_distances(cells, facilities, barriers=barriers, gaps=gaps,
                                   max_distance_m=max_distance_m)
        else:
            d = network_distances(cells, facilities, walk_graph, max_distance_m=max_distance_m)
            off = int((~network_arrays(cells, walk_graph, what="cells").on_network).sum())
            if off:
                report.append(f"{off:,} cells are farther than the snapping limit from the "
                              "walk network: no network distance for them.")
        for s, v in d.items():
            out[f"dist_{s}{METHOD_SUFFIX[m]}_m"] = v
    out.attrs.update(report=report, absent_services=absent, methods=methods)
    return out


# ------------------------------------------------------------------ 3. per municipality
def aggregate(cells: pd.DataFrame, dists: dict[str, np.ndarray], *,
              limit_m: float = defaults.WALK_LIMIT_M, suffix: str = "",
              absent: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per municipality (``cells["ags"]``): share of residents within ``limit_m`` and
    resident-weighted mean distance, per service and for all six.

    Residents with no facility within the search radius count as not served and are
    left out of the mean distance (the mean is over residents with a distance).
    Services in ``absent`` have no facility in the input at all: their values and
    those of "all six" are NaN (no data), not 0 %% (nobody served). Cells without a
    municipality (``ags`` empty) are left out. Returns one row per ``ags`` (index).
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
    out["walk_residents"] = pop_m
    return out


def walkability(cells: pd.DataFrame, *, limit_m: float = defaults.WALK_LIMIT_M,
                methods=None, absent: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Nahversorgung per municipality from the cell distances of :func:`cell_distances`.

    Parameters
    ----------
    cells : DataFrame
        ``population``, ``ags`` and the ``dist_*`` columns of :func:`cell_distances`.
    limit_m : float
        Walking distance of the indicator (BBSR: 1,000 m).
    methods : sequence of {"straight", "network"}, optional
        Default: those of ``cells.attrs["methods"]``, else those with columns.
    absent : tuple of str, optional
        Services with no facility at all (NaN, not 0 %%); default
        ``cells.attrs["absent_services"]``.

    Returns
    -------
    DataFrame
        One row per ``ags`` with the columns of :func:`column_docs` (share and mean
        distance per service and "all", ``walk_residents``).
    """
    if methods is None:
        methods = cells.attrs.get("methods") or tuple(
            m for m in METHODS if f"dist_pharmacy{METHOD_SUFFIX[m]}_m" in cells.columns)
    if not methods:
        raise InputError("cells have no distance columns (dist_<service>_m): compute them "
                         "with cell_distances()")
    if absent is None:
        absent = tuple(cells.attrs.get("absent_services", ()))
    parts = []
    for m in methods:
        sfx = METHOD_SUFFIX[m]
        cols = {s: f"dist_{s}{sfx}_m" for s in SERVICES}
        missing = [c for c in cols.values() if c not in cells.columns]
        if missing:
            raise InputError(f"cells lack the distance columns {missing}: compute them with "
                             "cell_distances()")
        d = {s: cells[c].to_numpy(float) for s, c in cols.items()}
        agg = aggregate(cells, d, limit_m=limit_m, suffix=sfx, absent=absent)
        parts.append(agg if not parts else agg.drop(columns="walk_residents"))
    return pd.concat(parts, axis=1)
