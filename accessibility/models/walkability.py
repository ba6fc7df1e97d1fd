"""Nahversorgung: share of residents with six everyday services within 1,000 m on foot
(METHOD.md section 3), by straight line with water barriers and along the walk network."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pyproj import Transformer

from .._errors import InputError
from ..graph import RoadGraph, snap_points
from ..routing import walk_nearest

logger = logging.getLogger(__name__)

#: The six services of the BBSR indicator, in report order.
SERVICES = ("pharmacy", "primary_school", "gp", "stop", "post_office", "supermarket")
#: German labels (BBSR terms) for reports.
SERVICE_LABELS = {
    "pharmacy": "Apotheke", "primary_school": "Grundschule", "gp": "Hausarzt",
    "stop": "ÖV-Haltestelle (>= 20 Abfahrten/Werktag)", "post_office": "Postfiliale",
    "supermarket": "Supermarkt/Discounter",
}
METHODS = ("straight", "network")
#: Column suffix per method: the official straight-line method has none.
METHOD_SUFFIX = {"straight": "", "network": "_net"}
GRID_CRS = "EPSG:3035"


def column_docs(methods=METHODS) -> dict[str, str]:
    """Meanings of the per-municipality walkability columns."""
    docs = {}
    how = {"straight": "straight line from the 100 m cell centre, water bodies block it "
                       "(bridges and underpasses are gaps; the official BBSR method)",
           "network": "along the OSM walking network (footways, paths, streets; the 2025 "
                      "BBSR method)"}
    for m in methods:
        sfx = METHOD_SUFFIX[m]
        for s in SERVICES + ("all",):
            what = ("all six services" if s == "all"
                    else f"{SERVICE_LABELS[s]} ({s})")
            docs[f"walk_share_{s}{sfx}"] = (f"Nahversorgung: share of residents with {what} within "
                                           f"the limit (1,000 m), {how[m]}")
            docs[f"walk_dist_{s}{sfx}_m"] = (
                f"resident-weighted mean distance in m to the nearest {what}"
                if s != "all" else
                "resident-weighted mean of the distance within which all six services are "
                "reached (the largest of the six nearest distances)") + f", {how[m]}"
    docs["walk_residents"] = "residents of the 100 m cells inside the walk extract counted here"
    docs["walk_coverage"] = ("walk_residents / population: the share of the municipality inside "
                             "the walk extract; the walk values describe that part only")
    docs["walk_stop_source"] = ("where the stops come from: GTFS (stops with >= N departures on "
                                "the chosen weekday) or OSM stops without timetable")
    return docs


@dataclass
class WalkReport:
    """What the walkability run did, for the summary."""

    n_cells: int = 0
    residents: float = 0.0
    facilities: dict = field(default_factory=dict)
    stop_source: str = ""
    methods: tuple = ()
    cells_off_network: int = 0
    notes: list = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.n_cells:,} populated 100 m cells, {self.residents:,.0f} residents; "
               f"methods: {', '.join(self.methods)}."]
        out.append("facilities: " + ", ".join(f"{s} {self.facilities.get(s, 0)}" for s in SERVICES)
                   + f" (stops: {self.stop_source}).")
        if self.cells_off_network:
            out.append(f"{self.cells_off_network:,} cells are farther than the snapping limit from "
                       "the walk network: no network distance for them.")
        return out + self.notes


def _to_grid(lon, lat):
    return Transformer.from_crs("EPSG:4326", GRID_CRS, always_xy=True).transform(
        np.asarray(lon, float), np.asarray(lat, float))


def _to_lonlat(x, y):
    return Transformer.from_crs(GRID_CRS, "EPSG:4326", always_xy=True).transform(
        np.asarray(x, float), np.asarray(y, float))


def straight_distances(cells: pd.DataFrame, facilities: pd.DataFrame, *, barriers=None,
                       gaps=None, max_distance_m: float = 5000.0) -> dict[str, np.ndarray]:
    """Straight-line distance (m) from every cell to the nearest facility of each
    service, blocked by water barriers except at gaps (bridges, underpasses)."""
    from .barriers import nearest_straight

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
                      max_distance_m: float = 5000.0, max_snap_m: float = 500.0
                      ) -> tuple[dict[str, np.ndarray], int]:
    """Distance (m) along the walk network from every cell to the nearest facility of
    each service: one multi-source search per service (six in all), not one per cell.

    Facilities start with their snap distance as offset; a cell adds its own snap
    distance. Cells farther than ``max_snap_m`` from the network get NaN.
    """
    lon, lat = _to_lonlat(cells["x"], cells["y"])
    cs = snap_points(walk_graph, lon, lat, max_distance_m=max_snap_m)
    out = {}
    for s in SERVICES:
        f = facilities[facilities["service"] == s]
        d = np.full(len(cells), np.nan)
        if len(f):
            fs = snap_points(walk_graph, f["lon"].to_numpy(), f["lat"].to_numpy(),
                             max_distance_m=max_snap_m)
            if fs.ok.any():
                res = walk_nearest(walk_graph, fs.node[fs.ok], fs.distance_m[fs.ok],
                                   limit_m=max_distance_m)
                ok = cs.ok
                d[ok] = cs.distance_m[ok] + res.dist[cs.node[ok]]
                d[d > max_distance_m] = np.nan
                d[~np.isfinite(d)] = np.nan
        out[s] = d
    return out, int((~cs.ok).sum())


def aggregate(cells: pd.DataFrame, dists: dict[str, np.ndarray], n_munis: int, *,
              limit_m: float = 1000.0, suffix: str = "",
              absent: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per municipality (``cells["muni"]`` row index): share of residents within
    ``limit_m`` and resident-weighted mean distance, per service and for all six.

    Residents with no facility within the search radius count as not served and are
    left out of the mean distance (the mean is over residents with a distance).
    Services in ``absent`` have no facility in the input at all: their values and
    those of "all six" are NaN (no data), not 0 % (nobody served).
    """
    pop = cells["population"].to_numpy(float)
    muni = cells["muni"].to_numpy()
    ok = muni >= 0
    pop_m = np.bincount(muni[ok], weights=pop[ok], minlength=n_munis)
    cols = {}
    all_d = np.fmax.reduce([dists[s] for s in SERVICES]) if dists else np.full(len(cells), np.nan)
    # fmax ignores NaN: a cell missing any service has no "all six" distance
    missing_any = np.any([np.isnan(dists[s]) for s in SERVICES], axis=0)
    all_d = np.where(missing_any, np.nan, all_d)
    for s, d in list(dists.items()) + [("all", all_d)]:
        within = ok & (d <= limit_m)
        served = np.bincount(muni[within], weights=pop[within], minlength=n_munis)
        have = ok & np.isfinite(d)
        wsum = np.bincount(muni[have], weights=pop[have], minlength=n_munis)
        dsum = np.bincount(muni[have], weights=(pop * np.nan_to_num(d))[have], minlength=n_munis)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols[f"walk_share_{s}{suffix}"] = np.where(pop_m > 0, served / pop_m, np.nan)
            cols[f"walk_dist_{s}{suffix}_m"] = np.where(wsum > 0, dsum / wsum, np.nan)
    for s in tuple(absent) + (("all",) if absent else ()):
        cols[f"walk_share_{s}{suffix}"] = np.full(n_munis, np.nan)
        cols[f"walk_dist_{s}{suffix}_m"] = np.full(n_munis, np.nan)
    out = pd.DataFrame(cols)
    out["walk_residents"] = pop_m
    return out


def walkability(cells: pd.DataFrame, facilities: pd.DataFrame, n_munis: int, *,
                methods=METHODS, walk_graph: RoadGraph | None = None, barriers=None, gaps=None,
                limit_m: float = 1000.0, max_distance_m: float = 5000.0,
                max_snap_m: float = 500.0) -> tuple[pd.DataFrame, pd.DataFrame, WalkReport]:
    """Nahversorgung per municipality.

    Parameters
    ----------
    cells : DataFrame
        100 m cells: ``x``, ``y`` (EPSG:3035 centres), ``population``, ``muni``
        (row index of the municipality, -1 none).
    facilities : DataFrame
        ``service`` (one of :data:`SERVICES`), ``lon``, ``lat``.
    n_munis : int
        Number of municipality rows (length of the result).
    methods : sequence of {"straight", "network"}
        Straight line with barriers (official) and/or along ``walk_graph``.
    walk_graph : RoadGraph
        Walking network (``build_graph(path, "walk")``), for the network method.
    barriers, gaps : sequence of shapely geometries in EPSG:3035, optional
        Water bodies and their gaps (bridges, underpasses), for the straight method.
    limit_m : float
        Walking distance of the indicator (BBSR: 1,000 m).
    max_distance_m : float
        Search radius for the mean distance; farther residents count as not served.

    Returns
    -------
    per_municipality : DataFrame
        The columns of :func:`column_docs`, one row per municipality.
    per_cell : DataFrame
        ``cells`` with a distance column per service and method.
    report : WalkReport
    """
    methods = tuple(methods)
    bad = set(methods) - set(METHODS)
    if bad or not methods:
        raise InputError(f"unknown walk method(s) {sorted(bad)}: use {METHODS}")
    if "network" in methods and walk_graph is None:
        raise InputError("the network method needs a walk graph: build_graph(osm, 'walk')")
    for col in ("x", "y", "population", "muni"):
        if col not in cells.columns:
            raise InputError(f"cells need column {col!r} (x, y in EPSG:3035, population, muni)")
    unknown = set(facilities["service"]) - set(SERVICES)
    if unknown:
        raise InputError(f"unknown service types {sorted(unknown)}: use {SERVICES}")
    rep = WalkReport(n_cells=len(cells), residents=float(cells["population"].sum()),
                     facilities=facilities["service"].value_counts().to_dict(), methods=methods)
    absent = tuple(s for s in SERVICES if not (facilities["service"] == s).any())
    if absent:
        rep.notes.append(f"No facility of {', '.join(absent)} in the input: those columns and "
                         "the 'all six' columns are empty (no data), not 0 %.")
    per_cell = cells.copy()
    parts = []
    for m in methods:
        if m == "straight":
            d = straight_distances(cells, facilities, barriers=barriers, gaps=gaps,
                                   max_distance_m=max_distance_m)
        else:
            d, off = network_distances(cells, facilities, walk_graph,
                                       max_distance_m=max_distance_m, max_snap_m=max_snap_m)
            rep.cells_off_network = off
        sfx = METHOD_SUFFIX[m]
        for s, v in d.items():
            per_cell[f"dist_{s}{sfx}_m"] = v
        agg = aggregate(cells, d, n_munis, limit_m=limit_m, suffix=sfx, absent=absent)
        parts.append(agg if not parts else agg.drop(columns="walk_residents"))
    return pd.concat(parts, axis=1), per_cell, rep
