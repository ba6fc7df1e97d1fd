"""Car travel time to the nearest Mittelzentrum and Oberzentrum (METHOD.md section 1)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

from .._errors import InputError
from ..graph import RoadGraph, snap_points
from ..routing import nearest_facility
from .common import snap_reference_points

logger = logging.getLogger(__name__)

#: Central-place functions that count as a destination of each class: "nearest MZ"
#: counts Oberzentren as Mittelzentren (METHOD.md section 1).
DESTINATIONS = {"mz": ("Oberzentrum", "Mittelzentrum"), "oz": ("Oberzentrum",)}
#: Class limits in minutes of the BBSR reports (lower bound inclusive).
MZ_CLASSES = ((7.5, "< 7.5 min"), (15.0, "7.5-15 min"), (np.inf, ">= 15 min"))
OZ_CLASSES = ((15.0, "< 15 min"), (30.0, "15-30 min"), (60.0, "30-60 min"), (np.inf, ">= 60 min"))
ZERO_LABEL = {"mz": "0 (is MZ/OZ)", "oz": "0 (is OZ)"}
ORIGIN_METHODS = ("point", "population", "area")
#: Equal-area CRS for grids and areas.
GRID_CRS = "EPSG:3035"

#: Output columns and their meaning (German official terms and INKAR indicators).
COLUMNS = {
    "ags": "Amtlicher Gemeindeschlüssel (8 digits)",
    "name": "municipality name (Gemeindename)",
    "gvb": "Gemeindeverband key (9 digits)",
    "kreis": "Kreis key (5 digits)",
    "land": "Land key (2 digits)",
    "population": "residents (Bevölkerung) from the municipality input",
    "area_km2": "area in km²",
    "central_place": "central-place function (Oberzentrum / Mittelzentrum / Grundzentrum / keine)",
    "t_mz_min": "car time in minutes to the time-nearest Mittelzentrum or Oberzentrum "
                "(INKAR: Erreichbarkeit von Mittelzentren / Pkw-Fahrzeit zum nächsten MZ); "
                "0 for MZ and OZ; empty when unreachable (see reason)",
    "t_oz_min": "car time in minutes to the time-nearest Oberzentrum (INKAR: Erreichbarkeit "
                "von Oberzentren / Pkw-Fahrzeit zum nächsten OZ); 0 for OZ",
    "nearest_mz_ags": "AGS of the nearest MZ/OZ: its catchment is the Mittelbereich",
    "nearest_mz_name": "name of the nearest MZ/OZ",
    "nearest_oz_ags": "AGS of the nearest OZ (Oberbereich)",
    "nearest_oz_name": "name of the nearest OZ",
    "mz_class": "BBSR class of t_mz_min: 0 / < 7.5 / 7.5-15 / >= 15 min",
    "oz_class": "BBSR class of t_oz_min: 0 / < 15 / 15-30 / 30-60 / >= 60 min",
    "snap_m": "distance from the reference point to its network node, m",
    "origin_method": "how origins were placed: point (INKAR), population (grid cells, "
                     "weighted) or area (regular grid, area-weighted)",
    "n_origins": "number of origins averaged for the municipality",
    "reason": "why a value is missing (outside the network, no central place reachable)",
}


@dataclass
class CentralPlaceReport:
    """Counts and warnings of a central-place run, for the summary."""

    n_municipalities: int = 0
    n_on_network: int = 0
    n_oz: int = 0
    n_mz: int = 0
    oz_off_network: list = field(default_factory=list)
    mz_off_network: list = field(default_factory=list)
    n_missing_mz: int = 0
    n_missing_oz: int = 0
    origin_method: str = "point"
    notes: list = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.n_municipalities:,} municipalities, {self.n_on_network:,} on the network; "
               f"destinations: {self.n_oz} Oberzentren and {self.n_mz} Mittel- or Oberzentren "
               f"on the network (origins: {self.origin_method})."]
        for cls, lst in (("Oberzentren", self.oz_off_network), ("Mittelzentren", self.mz_off_network)):
            if lst:
                out.append(f"{len(lst)} {cls} lie outside the network extent and cannot be "
                           f"reached from elsewhere (they keep 0 minutes themselves): "
                           f"{', '.join(lst[:8])}{' ...' if len(lst) > 8 else ''}.")
        if self.n_missing_mz or self.n_missing_oz:
            out.append(f"No value (see column reason): {self.n_missing_mz} municipalities for MZ, "
                       f"{self.n_missing_oz} for OZ.")
        return out + self.notes


def classify(minutes: np.ndarray, is_zero: np.ndarray, kind: str) -> np.ndarray:
    """BBSR class labels of travel times; ``is_zero`` marks central places themselves."""
    bins = MZ_CLASSES if kind == "mz" else OZ_CLASSES
    t = np.asarray(minutes, dtype=np.float64)
    out = np.full(t.shape, None, dtype=object)
    lo = -np.inf
    for hi, label in bins:
        out[(t >= lo) & (t < hi)] = label
        lo = hi
    out[np.asarray(is_zero, bool)] = ZERO_LABEL[kind]
    out[np.isnan(t)] = None
    return out


def class_order(kind: str) -> list[str]:
    """Class labels of ``kind`` ("mz" or "oz") in report order."""
    return [ZERO_LABEL[kind]] + [label for _, label in (MZ_CLASSES if kind == "mz" else OZ_CLASSES)]


# --------------------------------------------------------------------------- origins
@dataclass(frozen=True)
class Origins:
    """Origins of the travel-time search: points with a municipality and a weight."""

    muni: np.ndarray  # row index into the municipality table
    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray
    method: str


def point_origins(munis: pd.DataFrame) -> Origins:
    """One origin per municipality: its reference point (as INKAR)."""
    ok = munis["lon"].notna().to_numpy()
    idx = np.flatnonzero(ok)
    return Origins(idx, munis["lon"].to_numpy()[ok], munis["lat"].to_numpy()[ok],
                   np.ones(idx.size), "point")


def population_origins(munis: pd.DataFrame, grid: pd.DataFrame,
                       polygons: gpd.GeoDataFrame | None = None,
                       max_assign_m: float = 15_000.0) -> Origins:
    """Populated grid cells as origins, weighted by residents.

    Cells are assigned to municipalities by polygon when ``polygons`` (with ``ags``)
    are given, otherwise to the nearest reference point within ``max_assign_m``.
    Municipalities without any populated cell keep their reference point.
    """
    grid = grid[grid["population"] > 0]
    to_ll = Transformer.from_crs(GRID_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(grid["x"].to_numpy(), grid["y"].to_numpy())
    pop = grid["population"].to_numpy(dtype=np.float64)
    if polygons is not None:
        cells = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
        joined = gpd.sjoin(cells, polygons[["ags", "geometry"]].to_crs("EPSG:4326"),
                           how="inner", predicate="within")
        joined = joined[~joined.index.duplicated()]
        row_of_ags = pd.Series(np.arange(len(munis)), index=munis["ags"].to_numpy())
        keep = joined["ags"].isin(row_of_ags.index).to_numpy()
        cell_idx = joined.index.to_numpy()[keep]
        muni = row_of_ags.loc[joined["ags"].to_numpy()[keep]].to_numpy()
    else:
        ok = munis["lon"].notna().to_numpy()
        to_grid = Transformer.from_crs("EPSG:4326", GRID_CRS, always_xy=True)
        mx, my = to_grid.transform(munis["lon"].to_numpy()[ok], munis["lat"].to_numpy()[ok])
        d, k = cKDTree(np.column_stack([mx, my])).query(grid[["x", "y"]].to_numpy())
        near = d <= max_assign_m
        cell_idx = np.flatnonzero(near)
        muni = np.flatnonzero(ok)[k[near]]
    o_muni, o_lon, o_lat, o_w = [muni], [lon[cell_idx]], [lat[cell_idx]], [pop[cell_idx]]
    missing = np.setdiff1d(np.flatnonzero(munis["lon"].notna().to_numpy()), muni)
    if missing.size:  # no populated cell: fall back to the reference point
        o_muni.append(missing)
        o_lon.append(munis["lon"].to_numpy()[missing])
        o_lat.append(munis["lat"].to_numpy()[missing])
        o_w.append(np.ones(missing.size))
    return Origins(np.concatenate(o_muni), np.concatenate(o_lon), np.concatenate(o_lat),
                   np.concatenate(o_w), "population")


def area_origins(munis: gpd.GeoDataFrame, spacing_m: float = 500.0) -> Origins:
    """A regular grid of points over each municipality polygon (area-weighted)."""
    if not isinstance(munis, gpd.GeoDataFrame) or not munis.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        raise InputError("origins = 'area' needs municipality polygons: give a boundaries "
                         "layer ([inputs] boundaries / --boundaries, e.g. VG250 gemeinden)")
    if spacing_m <= 0:
        raise InputError("area_grid_m must be positive")
    poly = munis.to_crs(GRID_CRS)
    minx, miny, maxx, maxy = poly.total_bounds
    xs = np.arange(np.floor(minx / spacing_m) * spacing_m + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(np.floor(miny / spacing_m) * spacing_m + spacing_m / 2, maxy, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(gx.ravel(), gy.ravel()), crs=GRID_CRS)
    poly = poly.reset_index(drop=True)
    joined = gpd.sjoin(pts, poly[["geometry"]], how="inner", predicate="within")
    joined = joined[~joined.index.duplicated()]
    muni = joined["index_right"].to_numpy()
    px = gx.ravel()[joined.index.to_numpy()]
    py = gy.ravel()[joined.index.to_numpy()]
    lon, lat = Transformer.from_crs(GRID_CRS, "EPSG:4326", always_xy=True).transform(px, py)
    ok = munis["lon"].notna().to_numpy()
    missing = np.setdiff1d(np.flatnonzero(ok), muni)  # smaller than one grid cell
    return Origins(np.concatenate([muni, missing]),
                   np.concatenate([lon, munis["lon"].to_numpy()[missing]]),
                   np.concatenate([lat, munis["lat"].to_numpy()[missing]]),
                   np.ones(muni.size + missing.size), "area")


# ----------------------------------------------------------------------- the model
def central_place_access(
    graph: RoadGraph,
    municipalities: pd.DataFrame,
    *,
    origins: str = "point",
    population_grid: pd.DataFrame | None = None,
    polygons: gpd.GeoDataFrame | None = None,
    area_grid_m: float = 500.0,
    max_snap_m: float = 2000.0,
    access_speed_kmh: float = 15.0,
) -> tuple[gpd.GeoDataFrame, CentralPlaceReport]:
    """Car time from every municipality to its nearest Mittelzentrum and Oberzentrum.

    Destinations are the reference points of the central-place municipalities
    (snapped to the network, their access leg included). One multi-source search
    per class on the reversed graph gives the time from every node to the nearest
    destination; origin times add the origin's own access leg.

    Parameters
    ----------
    graph : RoadGraph
        Car graph (times in seconds).
    municipalities : DataFrame
        ``ags``, ``name``, ``lon``, ``lat``, ``central_place`` (after
        :func:`accessibility.io.join_central_places`), ``population``, ``area_km2``,
        ``gvb``, ``kreis``, ``land``; a GeoDataFrame keeps its geometry.
    origins : {"point", "population", "area"}
        Reference point per municipality (INKAR), populated grid cells weighted by
        residents, or a regular grid over the polygon (area-weighted).
    population_grid : DataFrame, optional
        ``x``, ``y`` (EPSG:3035 cell centres), ``population``; needed for
        ``origins="population"``.
    polygons : GeoDataFrame, optional
        Municipality polygons with ``ags``: cell assignment and ``origins="area"``.
    area_grid_m : float
        Grid spacing of area origins.
    max_snap_m, access_speed_kmh : float
        Snapping limit and access-leg speed.

    Returns
    -------
    GeoDataFrame, CentralPlaceReport
        One row per municipality with the columns in :data:`COLUMNS`.
    """
    _check_municipalities(municipalities)
    if origins not in ORIGIN_METHODS:
        raise InputError(f"unknown origins {origins!r}: use one of {ORIGIN_METHODS}")
    munis = municipalities.reset_index(drop=True)
    rep = CentralPlaceReport(n_municipalities=len(munis), origin_method=origins)
    ref = snap_reference_points(graph, munis, max_snap_m=max_snap_m,
                                access_speed_kmh=access_speed_kmh)
    has_pt, ref_node, ref_access, snap_m = ref.has_point, ref.node, ref.access_s, ref.snap_m
    on_net = ref.on_network
    rep.n_on_network = int(on_net.sum())

    if origins == "point":
        org = point_origins(munis)
    elif origins == "population":
        if population_grid is None:
            raise InputError("origins = 'population' needs a population grid: set [inputs] "
                             "population_grid or pass --population-grid")
        org = population_origins(munis, population_grid, polygons)
    else:
        poly = munis if polygons is None else _attach_polygons(munis, polygons)
        org = area_origins(poly, area_grid_m)
    os_ = snap_points(graph, org.lon, org.lat, max_distance_m=max_snap_m,
                      access_speed_kmh=access_speed_kmh)
    # origins of a municipality off the network do not count, whatever their cell
    o_ok = os_.ok & on_net[org.muni]

    out = munis.copy()
    cp = out["central_place"].fillna("keine").to_numpy()
    names = out["name"].to_numpy()
    reasons = [[] for _ in range(len(out))]
    for i in np.flatnonzero(~on_net):
        reasons[i].append("reference point outside the network extent (farther than "
                          f"{max_snap_m:,.0f} m from any road)" if has_pt[i] else "no reference point")
    for kind, funcs in DESTINATIONS.items():
        is_dest = np.isin(cp, funcs)
        dest = np.flatnonzero(is_dest & on_net)
        off = [f"{a} {n}" for a, n in zip(out["ags"].to_numpy()[is_dest & ~on_net],
                                           names[is_dest & ~on_net])]
        setattr(rep, f"{kind}_off_network", off)
        setattr(rep, f"n_{kind}", int(dest.size))
        t_min = np.full(len(out), np.nan)
        near = np.full(len(out), -1, np.int64)
        if dest.size:
            res = nearest_facility(graph, ref_node[dest], ref_access[dest], reverse=True)
            o_time = np.where(o_ok, os_.access_time_s + res.dist[np.maximum(os_.node, 0)], np.inf)
            reach = o_ok & np.isfinite(o_time)
            # weighted mean over each municipality's reachable origins
            w = org.weight * reach
            wsum = np.bincount(org.muni, weights=w, minlength=len(out))
            tsum = np.bincount(org.muni, weights=np.where(reach, o_time, 0.0) * w, minlength=len(out))
            with np.errstate(invalid="ignore", divide="ignore"):
                t_min = tsum / wsum / 60.0
            # the nearest destination of the municipality's reference node
            ref_src = np.where(on_net, res.source[np.maximum(ref_node, 0)], -1)
            near = np.where(ref_src >= 0, dest[np.maximum(ref_src, 0)], -1)
            # a municipality whose reference node reaches nothing keeps no value
            t_min[near < 0] = np.nan
        t_min[~on_net] = np.nan
        near[~on_net] = -1
        # a central place of the class gets 0 minutes by definition (INKAR), also when
        # its reference point lies off the network
        t_min[is_dest] = 0.0
        near[is_dest] = np.flatnonzero(is_dest)
        label = "Mittel- or Oberzentrum" if kind == "mz" else "Oberzentrum"
        if not is_dest.any():
            why = f"no {label} in the central-place input"
            rep.notes.append(f"The input has no {label}: t_{kind}_min is empty for every municipality.")
            logger.warning(rep.notes[-1])
        else:
            why = f"no {label} reachable in the network"
        for i in np.flatnonzero(on_net & np.isnan(t_min)):
            reasons[i].append(why)
        out[f"t_{kind}_min"] = t_min
        out[f"nearest_{kind}_ags"] = np.where(near >= 0, out["ags"].to_numpy()[np.maximum(near, 0)], None)
        out[f"nearest_{kind}_name"] = np.where(near >= 0, names[np.maximum(near, 0)], None)
        out[f"{kind}_class"] = classify(t_min, is_dest, kind)
        setattr(rep, f"n_missing_{kind}", int(np.isnan(t_min).sum()))
    out["snap_m"] = snap_m
    out["origin_method"] = org.method
    out["n_origins"] = np.bincount(org.muni[o_ok], minlength=len(out))
    out["reason"] = ["; ".join(r) if r else None for r in reasons]
    cols = [c for c in COLUMNS if c in out.columns]
    extra = [c for c in out.columns if c not in COLUMNS and c not in ("geometry", "lon", "lat")]
    out = out[cols + extra + ["lon", "lat"] + (["geometry"] if "geometry" in out.columns else [])]
    if not isinstance(out, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]),
                               crs="EPSG:4326")
    for line in rep.lines():
        logger.info(line)
    return out, rep


def _attach_polygons(munis: pd.DataFrame, polygons: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geo = polygons.drop_duplicates("ags").set_index("ags").geometry
    g = gpd.GeoDataFrame(munis.drop(columns="geometry", errors="ignore"),
                         geometry=geo.reindex(munis["ags"]).to_numpy(), crs=polygons.crs)
    if g.geometry.isna().all():
        raise InputError("no municipality AGS matches the boundaries layer: check that both "
                         "use 8-digit AGS of the same year")
    return g


def _check_municipalities(munis: pd.DataFrame) -> None:
    need = {"ags", "name", "lon", "lat", "central_place"}
    missing = need - set(munis.columns)
    if missing:
        raise InputError(f"municipality table lacks columns {sorted(missing)}: read it with "
                         "accessibility.io.read_municipalities and join the central places "
                         "with accessibility.io.join_central_places")
    if len(munis) == 0:
        raise InputError("the municipality table is empty")
    dup = munis["ags"][munis["ags"].duplicated()]
    if len(dup):
        raise InputError(f"duplicated AGS in the municipality table: {list(dup.unique()[:5])}; "
                         "each municipality must appear once")
    cp = munis["central_place"]
    if not cp.isin(["Oberzentrum", "Mittelzentrum"]).any():
        raise InputError("the central-place table has no Oberzentrum or Mittelzentrum among "
                         "these municipalities: check the zo_funktion column (Oberzentrum / "
                         "Mittelzentrum / Grundzentrum / keine, or OZ / MZ / GZ) and that its "
                         "AGS match the municipalities")


# ---------------------------------------------------------------------- aggregation
def weighted_means(df: pd.DataFrame, by: str | None, values: list[str]) -> pd.DataFrame:
    """Area- and population-weighted means of ``values`` per ``by`` (or overall).

    Municipalities without a value are left out of the mean and counted in
    ``n_missing``; those with a value but no area (population) weight drop out of the
    area- (population-) weighted mean and are counted in ``n_no_area``
    (``n_no_population``). Columns: ``{value}_area_w`` (INKAR: flächengewichtet) and
    ``{value}_pop_w`` (Deutschlandatlas: bevölkerungsgewichtet).
    """
    d = df.copy()
    key = d[by] if by else pd.Series("all", index=d.index)
    rows = {}
    for k, grp in d.groupby(key, sort=True, dropna=False):
        r = {"n_municipalities": len(grp),
             "population": float(grp["population"].sum(min_count=1)),
             "area_km2": float(grp["area_km2"].sum(min_count=1))}
        for v in values:
            ok = grp[v].notna()
            for wname, wcol in (("area_w", "area_km2"), ("pop_w", "population")):
                w = grp.loc[ok, wcol].fillna(0.0).to_numpy()
                x = grp.loc[ok, v].to_numpy()
                r[f"{v}_{wname}"] = float(np.sum(w * x) / np.sum(w)) if np.sum(w) > 0 else np.nan
            r[f"{v}_n_missing"] = int((~ok).sum())
            # values that have no weight drop out of that weighted mean: say how many
            r[f"{v}_n_no_area"] = int((ok & grp["area_km2"].isna()).sum())
            r[f"{v}_n_no_population"] = int((ok & grp["population"].isna()).sum())
        rows[k] = r
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = by or "level"
    return out.reset_index()


def class_shares(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Share of municipalities and of population per class (the BBSR report table)."""
    col = f"{kind}_class"
    labels = class_order(kind) + ["no value"]
    cls = df[col].fillna("no value")
    pop = df["population"].fillna(0.0)
    n = cls.value_counts().reindex(labels, fill_value=0)
    p = pop.groupby(cls).sum().reindex(labels, fill_value=0.0)
    t = pd.DataFrame({"class": labels, "municipalities": n.to_numpy(),
                      "share_municipalities": n.to_numpy() / max(len(df), 1),
                      "population": p.to_numpy(),
                      "share_population": p.to_numpy() / max(pop.sum(), 1.0)})
    return t[(t["municipalities"] > 0) | (t["class"] != "no value")]
