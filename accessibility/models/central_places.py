"""Car travel time to the nearest Mittelzentrum and Oberzentrum (METHOD.md section 1).

The model consumes municipalities that are already attached to the graph
(:func:`accessibility.attach`: ``node``, ``access_s``, ``on_network``) and, for
population or area origins, an attached origin table from :func:`make_origins`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

from .. import defaults
from .._errors import InputError
from .._util import show
from ..graph import Attached, RoadGraph, attach_settings, network_arrays
from ..vocabulary import (
    CENTRAL_PLACE_COLUMNS,
    COLUMNS as _ALL_COLUMNS,
    DESTINATION_LABEL,
    GRUNDZENTRUM,
    GZ_WITH_MZ,
    MITTELZENTRUM,
    MZ_PART,
    NO_FUNCTION,
    NO_VALUE,
    OBERZENTRUM,
    TIME_CLASSES,
    ZERO_LABEL,
    class_codes,
    class_order,
    destinations,
)
from .membership import in_region, with_members
from .nearest import (
    bin_minutes,
    edge_flag,
    off_network_reasons,
    time_to_exit_s,
    time_to_nearest,
)

logger = logging.getLogger(__name__)

ORIGIN_METHODS = ("point", "population", "area")
#: Output columns and their meaning (from :mod:`accessibility.vocabulary`).
COLUMNS = {c: _ALL_COLUMNS[c] for c in CENTRAL_PLACE_COLUMNS}
COLUMNS["on_network"] = _ALL_COLUMNS["on_network"]


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
    n_edge_mz: int = 0
    n_edge_oz: int = 0
    n_out_of_region: int = 0
    origin_method: str = "point"
    notes: list = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.n_municipalities:,} municipalities, {self.n_on_network:,} on the network; "
               f"destinations: {self.n_oz} Oberzentren and {self.n_mz} Mittel- or Oberzentren "
               f"on the network (origins: {self.origin_method})."]
        for cls, lst in (("Oberzentren", self.oz_off_network), ("Mittelzentren", self.mz_off_network)):
            if lst:
                out.append(f"{len(lst)} {cls} of the region lie off the network and cannot "
                           f"be reached from elsewhere (they keep 0 minutes themselves): "
                           f"{', '.join(lst[:8])}{' ...' if len(lst) > 8 else ''}.")
        if self.n_out_of_region:
            out.append(f"{self.n_out_of_region:,} municipalities lie outside the region: no "
                       "values (central places included).")
        if self.n_missing_mz or self.n_missing_oz:
            out.append(f"No value (see column reason): {self.n_missing_mz} municipalities for MZ, "
                       f"{self.n_missing_oz} for OZ (in the region).")
        if self.n_edge_mz or self.n_edge_oz:
            out.append(f"A larger road extract might change the time for "
                       f"{self.n_edge_mz:,} municipalities (MZ) and {self.n_edge_oz:,} (OZ) "
                       "(a route leaving the extract could be faster): columns mz_edge_flag "
                       "/ oz_edge_flag; the others are exact.")
        return out + self.notes


@dataclass
class JoinReport:
    """What happened when central places were joined to municipalities.

    Attributes
    ----------
    n_municipalities : int
        Rows of the municipality table (all kept).
    n_table : int
        Rows of the central-place table.
    n_matched : int
        Municipalities that found a row in the table.
    unknown_ags : list of str
        AGS in the table that are not municipalities (e.g. after mergers).
    unknown_central_places : dict
        Those of ``unknown_ags`` with a function other than "keine", AGS -> class:
        central places that are lost to the analysis.
    municipalities_without_function : list of str
        Municipalities absent from the table; set to "keine".
    n_oz, n_mz, n_gz, n_keine : int
        Classes of the joined municipalities.
    """

    n_municipalities: int
    n_table: int
    n_matched: int
    unknown_ags: list[str] = field(default_factory=list)
    unknown_central_places: dict[str, str] = field(default_factory=dict)
    municipalities_without_function: list[str] = field(default_factory=list)
    n_oz: int = 0
    n_mz: int = 0
    n_gz: int = 0
    n_keine: int = 0
    n_mz_part: int = 0
    n_gz_with_mz: int = 0

    @property
    def n_unknown_ags(self) -> int:
        """Number of table rows without a municipality."""
        return len(self.unknown_ags)

    @property
    def n_without_function(self) -> int:
        """Number of municipalities not in the table."""
        return len(self.municipalities_without_function)

    def lines(self) -> list[str]:
        """Return the report as human-readable lines (German terms, English text)."""
        out = [
            f"central places: {self.n_matched} of {self.n_municipalities} municipalities "
            f"matched the table ({self.n_table} rows)",
            f"  Oberzentren {self.n_oz}, Mittelzentren {self.n_mz}"
            + (f" (+ {self.n_mz_part} Teil eines Mittelzentrums)" if self.n_mz_part else "")
            + f", Grundzentren {self.n_gz}"
            + (f" (+ {self.n_gz_with_mz} mit MZ-Teilfunktion)" if self.n_gz_with_mz else "")
            + f", without function {self.n_keine}",
        ]
        if self.municipalities_without_function:
            out.append(f"  {self.n_without_function} municipalities are not in the table "
                       f"and count as 'keine': {show(self.municipalities_without_function)}")
        if self.unknown_ags:
            out.append(f"  {self.n_unknown_ags} AGS of the table are not municipalities "
                       f"(ignored): {show(self.unknown_ags)}")
        if self.unknown_central_places:
            lost = [f"{a} ({c})" for a, c in self.unknown_central_places.items()]
            out.append(f"  WARNING: {len(lost)} central places are lost because their AGS "
                       f"is not a municipality (different territorial state?): {show(lost)}")
        return out


def join_central_places(municipalities: gpd.GeoDataFrame | pd.DataFrame,
                        central_places: pd.DataFrame
                        ) -> tuple[gpd.GeoDataFrame | pd.DataFrame, JoinReport]:
    """Attach the central-place function to each municipality.

    Parameters
    ----------
    municipalities : GeoDataFrame
        From :func:`accessibility.io.read_municipalities` (needs ``ags``).
    central_places : DataFrame
        From :func:`accessibility.io.read_central_places` (needs ``ags``,
        ``central_place``).

    Returns
    -------
    joined : GeoDataFrame
        ``municipalities`` (same rows, same order) with ``central_place`` and, if
        given, ``central_place_name``; municipalities absent from the table get
        "keine". An existing ``central_place`` column is replaced.
    report : JoinReport
        Counts and the keys that did not match on either side.
    """
    for df, what, fix in ((municipalities, "municipalities", "read_municipalities"),
                          (central_places, "central places", "read_central_places")):
        if "ags" not in df.columns:
            raise InputError(f"the {what} table has no 'ags' column (columns: "
                             f"{show(df.columns, 20)}); read it with {fix}().")
    if "central_place" not in central_places.columns:
        raise InputError("the central places table has no 'central_place' column; read it "
                         "with read_central_places().")
    if central_places["ags"].duplicated().any():
        raise InputError("the central places table has duplicated AGS "
                         f"{show(central_places.loc[central_places['ags'].duplicated(), 'ags'])};"
                         " read it with read_central_places(), which resolves them.")
    cols = ["ags", "central_place"] + [c for c in ("central_place_name",)
                                       if c in central_places.columns]
    base = municipalities.drop(columns=[c for c in cols[1:] if c in municipalities.columns])
    if len(base.columns) != len(municipalities.columns):
        logger.info("replacing the existing central_place column(s) of the municipalities")
    table = central_places[cols]
    joined = base.merge(table, on="ags", how="left", validate="many_to_one")
    joined.index = municipalities.index
    joined.attrs = dict(municipalities.attrs)  # merge drops them (the report lines)
    missing = joined["central_place"].isna()
    joined["central_place"] = joined["central_place"].fillna(NO_FUNCTION).astype("str")
    known = set(municipalities["ags"])
    unknown_mask = ~central_places["ags"].isin(known)
    unknown = central_places.loc[unknown_mask]
    counts = joined["central_place"].value_counts()
    report = JoinReport(
        n_municipalities=len(municipalities),
        n_table=len(central_places),
        n_matched=int((~missing).sum()),
        unknown_ags=sorted(unknown["ags"]),
        unknown_central_places={a: c for a, c in sorted(zip(unknown["ags"],
                                                            unknown["central_place"]))
                                if c != NO_FUNCTION},
        municipalities_without_function=sorted(joined.loc[missing, "ags"]),
        n_oz=int(counts.get(OBERZENTRUM, 0)),
        n_mz=int(counts.get(MITTELZENTRUM, 0)),
        n_gz=int(counts.get(GRUNDZENTRUM, 0)),
        n_keine=int(counts.get(NO_FUNCTION, 0)),
        n_mz_part=int(counts.get(MZ_PART, 0)),
        n_gz_with_mz=int(counts.get(GZ_WITH_MZ, 0)),
    )
    for line in report.lines():
        if line.strip().startswith("WARNING: "):
            logger.warning(line.strip().removeprefix("WARNING: "))
        else:
            logger.info(line.strip())
    if isinstance(municipalities, gpd.GeoDataFrame):
        joined = gpd.GeoDataFrame(joined, geometry=municipalities.geometry.name,
                                  crs=municipalities.crs)
    return joined, report


def classify(minutes: np.ndarray, is_zero: np.ndarray, kind: str) -> np.ndarray:
    """BBSR class labels of travel times; ``is_zero`` marks central places themselves."""
    t = np.asarray(minutes, dtype=np.float64)
    out = bin_minutes(t, TIME_CLASSES[kind])
    out[np.asarray(is_zero, bool)] = ZERO_LABEL[kind]
    out[np.isnan(t)] = None
    return out


# --------------------------------------------------------------------------- origins
def _origin_table(ags, lon, lat, weight, method) -> pd.DataFrame:
    t = pd.DataFrame({"ags": np.asarray(ags, dtype=object), "lon": np.asarray(lon, float),
                      "lat": np.asarray(lat, float), "weight": np.asarray(weight, float)})
    t["origin_method"] = method  # each origin says how it was placed, through any merge
    return t


def point_origins(munis: pd.DataFrame) -> pd.DataFrame:
    """One origin per municipality: its reference point (as INKAR).

    Returns a table ``ags``, ``lon``, ``lat``, ``weight`` (1), ``origin_method``.
    """
    ok = munis["lon"].notna().to_numpy()
    return _origin_table(munis["ags"].to_numpy()[ok], munis["lon"].to_numpy()[ok],
                         munis["lat"].to_numpy()[ok], np.ones(int(ok.sum())), "point")


def population_origins(munis: pd.DataFrame, grid: pd.DataFrame,
                       polygons: gpd.GeoDataFrame | None = None,
                       max_assign_m: float = defaults.CELL_ASSIGN_M) -> pd.DataFrame:
    """Populated grid cells as origins, weighted by residents.

    Cells are assigned to municipalities by polygon when ``polygons`` (with ``ags``)
    are given, otherwise to the nearest reference point within ``max_assign_m``.
    Municipalities without any populated cell keep their reference point (the column
    ``grid_cell`` is False for it, True for a cell).
    """
    grid = grid[grid["population"] > 0]
    to_ll = Transformer.from_crs(defaults.GRID_CRS, defaults.WGS84, always_xy=True)
    lon, lat = to_ll.transform(grid["x"].to_numpy(), grid["y"].to_numpy())
    pop = grid["population"].to_numpy(dtype=np.float64)
    if polygons is not None:
        cells = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=defaults.WGS84)
        joined = gpd.sjoin(cells, polygons[["ags", "geometry"]].to_crs(defaults.WGS84),
                           how="inner", predicate="within")
        joined = joined[~joined.index.duplicated()]
        row_of_ags = pd.Series(np.arange(len(munis)), index=munis["ags"].to_numpy())
        keep = joined["ags"].isin(row_of_ags.index).to_numpy()
        cell_idx = joined.index.to_numpy()[keep]
        muni = row_of_ags.loc[joined["ags"].to_numpy()[keep]].to_numpy()
    else:
        ok = munis["lon"].notna().to_numpy()
        to_grid = Transformer.from_crs(defaults.WGS84, defaults.GRID_CRS, always_xy=True)
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
    # the fallback says so per origin (and so per municipality: origin_method)
    how = np.repeat(["population", "point"], [muni.size, missing.size])
    out = _origin_table(munis["ags"].to_numpy()[np.concatenate(o_muni)], np.concatenate(o_lon),
                        np.concatenate(o_lat), np.concatenate(o_w), how)
    out["grid_cell"] = np.arange(len(out)) < cell_idx.size
    return out


def area_origins(munis: gpd.GeoDataFrame, spacing_m: float = defaults.AREA_GRID_M
                 ) -> pd.DataFrame:
    """A regular grid of points over each municipality polygon (area-weighted)."""
    if not isinstance(munis, gpd.GeoDataFrame) or not munis.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        raise InputError("origins = 'area' needs municipality polygons: give a boundaries "
                         "layer ([inputs] boundaries / --boundaries, e.g. VG250 gemeinden)")
    if spacing_m <= 0:
        raise InputError("area_grid_m must be positive")
    poly = munis.to_crs(defaults.GRID_CRS)
    minx, miny, maxx, maxy = poly.total_bounds
    xs = np.arange(np.floor(minx / spacing_m) * spacing_m + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(np.floor(miny / spacing_m) * spacing_m + spacing_m / 2, maxy, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(gx.ravel(), gy.ravel()),
                           crs=defaults.GRID_CRS)
    poly = poly.reset_index(drop=True)
    joined = gpd.sjoin(pts, poly[["geometry"]], how="inner", predicate="within")
    joined = joined[~joined.index.duplicated()]
    muni = joined["index_right"].to_numpy()
    px = gx.ravel()[joined.index.to_numpy()]
    py = gy.ravel()[joined.index.to_numpy()]
    lon, lat = Transformer.from_crs(defaults.GRID_CRS, defaults.WGS84,
                                    always_xy=True).transform(px, py)
    ok = munis["lon"].notna().to_numpy()
    missing = np.setdiff1d(np.flatnonzero(ok), muni)  # smaller than one grid cell
    rows = np.concatenate([muni, missing])
    return _origin_table(munis["ags"].to_numpy()[rows],
                         np.concatenate([lon, munis["lon"].to_numpy()[missing]]),
                         np.concatenate([lat, munis["lat"].to_numpy()[missing]]),
                         np.ones(rows.size), "area")


def make_origins(munis: pd.DataFrame, method: str = defaults.ORIGINS, *,
                 population_grid: pd.DataFrame | None = None,
                 polygons: gpd.GeoDataFrame | None = None,
                 area_grid_m: float = defaults.AREA_GRID_M) -> pd.DataFrame:
    """The origin table of ``method``: ``ags``, ``lon``, ``lat``, ``weight``,
    ``origin_method`` (``method``).

    Parameters
    ----------
    munis : DataFrame
        ``ags``, ``lon``, ``lat`` (a GeoDataFrame with polygons serves ``area``).
    method : {"point", "population", "area"}
        Reference point per municipality (INKAR), populated grid cells weighted by
        residents, or a regular grid over the polygon (area-weighted).
    population_grid : DataFrame, optional
        ``x``, ``y`` (EPSG:3035 cell centres), ``population``: ``population`` origins.
    polygons : GeoDataFrame, optional
        Municipality polygons with ``ags``: cell assignment and ``area`` origins.
    area_grid_m : float
        Grid spacing of area origins.
    """
    if method not in ORIGIN_METHODS:
        raise InputError(f"unknown origins {method!r}: use one of {ORIGIN_METHODS}")
    if method == "point":
        return point_origins(munis)
    if method == "population":
        if population_grid is None:
            raise InputError("origins = 'population' needs a population grid: set [inputs] "
                             "population_grid or pass --population-grid")
        return population_origins(munis, population_grid, polygons)
    poly = munis if polygons is None else _attach_polygons(munis, polygons)
    return area_origins(poly, area_grid_m)


# ----------------------------------------------------------------------- the model
def central_place_access(graph: RoadGraph, municipalities: pd.DataFrame, *,
                         origins: pd.DataFrame | None = None,
                         gz_with_mz_is_mz: bool = defaults.GZ_WITH_MZ_IS_MZ
                         ) -> gpd.GeoDataFrame:
    """Car time from every municipality to its nearest Mittelzentrum and Oberzentrum.

    Destinations are the reference points of the central-place municipalities
    (their access leg included). One multi-source search per class on the reversed
    graph gives the time from every node to the nearest destination; origin times
    add the origin's own access leg.

    Parameters
    ----------
    graph : RoadGraph
        Car graph (times in seconds).
    municipalities : DataFrame
        ``ags``, ``name``, ``lon``, ``lat``, ``central_place`` and the network
        columns of :func:`accessibility.attach`; ``population``, ``area_km2``,
        ``gvb``, ``kreis``, ``land`` are passed through; a GeoDataFrame keeps its
        geometry.
    origins : DataFrame, optional
        Attached origin table from :func:`make_origins` (``ags``, ``weight``,
        ``origin_method`` and the network columns; without ``origin_method`` the
        method is ``"custom"``). Default: the municipalities' reference points (INKAR).
    gz_with_mz_is_mz : bool
        Count a Grundzentrum with MZ sub-function as a Mittelzentrum (a destination of
        "nearest MZ", 0 minutes itself). The partners of a shared Mittelzentrum
        ("Teil eines Mittelzentrums") always count.

    Returns
    -------
    GeoDataFrame
        One row per municipality with the columns in :data:`COLUMNS`; NaN where no
        value exists (see ``reason``). ``.attrs["report"]`` holds the summary lines.
    """
    _check_municipalities(municipalities)
    munis = municipalities.reset_index(drop=True)
    ref = network_arrays(munis, graph, what="municipalities")
    on_net = ref.on_network
    in_reg = (munis["in_region"].fillna(False).to_numpy(bool) if "in_region" in munis.columns
              else np.ones(len(munis), bool))
    has_pt = munis["lon"].notna().to_numpy() & munis["lat"].notna().to_numpy()
    if origins is None:
        org_muni, org_w, org = np.arange(len(munis)), np.ones(len(munis)), ref
        method = "point"
    else:
        row_of = pd.Series(np.arange(len(munis)), index=munis["ags"].to_numpy())
        known = origins["ags"].isin(row_of.index).to_numpy()
        if not known.all():
            raise InputError(f"{int((~known).sum())} origins name an AGS that is not among "
                             "the municipalities")
        org_muni = row_of.loc[origins["ags"].to_numpy()].to_numpy()
        org_w = pd.to_numeric(origins["weight"]).to_numpy(np.float64)
        org = network_arrays(origins, graph, what="origins")
        methods = (pd.unique(origins["origin_method"].dropna())
                   if "origin_method" in origins.columns else [])
        # reference points standing in for a missing cell do not make the run "custom"
        main = [m for m in methods if m != "point"] or list(methods)
        method = str(main[0]) if len(main) == 1 else "custom"
    rep = CentralPlaceReport(n_municipalities=len(munis), n_on_network=int(on_net.sum()),
                             origin_method=method, n_out_of_region=int((~in_reg).sum()))
    lon, lat = munis["lon"].to_numpy(float), munis["lat"].to_numpy(float)
    # origins of a municipality off the network do not count, whatever their cell
    o_ok = org.on_network & on_net[org_muni]
    off_why = off_network_reasons(munis, has_pt)
    max_snap = attach_settings(munis).get("max_snap_m")  # how far a point may snap

    out = munis.copy()
    cp = out["central_place"].fillna(NO_FUNCTION).to_numpy()
    names = out["name"].to_numpy()
    reasons = [[] for _ in range(len(out))]
    for i in np.flatnonzero(~in_reg):
        reasons[i].append("outside the region (the road extract or the [region] cut)")
    for i in np.flatnonzero(~on_net & in_reg):
        reasons[i].append(off_why[i])
    # gemeindefreie Gebiete (0 residents): the time is kept, no class, no weight
    empty = (pd.to_numeric(out["population"], errors="coerce").to_numpy() == 0
             if "population" in out.columns else np.zeros(len(out), bool))
    for i in np.flatnonzero(empty & in_reg):
        reasons[i].append("unpopulated area (0 residents): no class, not in the means")
    for kind, funcs in destinations(gz_with_mz_is_mz).items():
        is_dest = np.isin(cp, funcs)
        dest = np.flatnonzero(is_dest & on_net)
        lost = is_dest & ~on_net & in_reg  # in the region, but no road reaches them
        off = [f"{a} {n}" for a, n in zip(out["ags"].to_numpy()[lost], names[lost])]
        setattr(rep, f"{kind}_off_network", off)
        setattr(rep, f"n_{kind}", int(dest.size))
        # reverse search from the destinations on the network, weighted mean over each
        # municipality's reachable origins, nearest of its reference node (NaN / -1 off
        # the network or where nothing is reached)
        cand = np.flatnonzero(is_dest)
        # the central places of the register lie beyond the extract too: a way out
        # must still cover the straight line to one of them
        nt = time_to_nearest(graph, Attached(*(a[cand] for a in ref)), ref, origins=org,
                             origin_unit=org_muni, origin_weight=org_w,
                             exit_s=time_to_exit_s(graph, lon[cand], lat[cand],
                                                   max_snap_m=max_snap if max_snap is not None
                                                   else defaults.MAX_SNAP_M))
        t_min = nt.minutes
        near = cand[nt.nearest] if cand.size else nt.nearest
        near[nt.nearest < 0] = -1
        # a central place of the class gets 0 minutes by definition (INKAR), also when
        # its reference point lies off the network, as long as it is in the region
        zero = is_dest & in_reg
        t_min[zero] = 0.0
        near[zero] = np.flatnonzero(zero)
        t_min[~in_reg] = np.nan
        near[~in_reg] = -1
        # exact unless a route leaving the extract (to a destination beyond it, or
        # back in) could be faster (models/nearest.py)
        beyond = np.flatnonzero(is_dest & ~on_net & has_pt)
        edge = in_reg & on_net & ~is_dest & edge_flag(
            graph, nt, lon, lat, t_min, lon[beyond], lat[beyond], snap_m=ref.snap_m,
            dest_lon=lon[cand], dest_lat=lat[cand], dest_snap_m=ref.snap_m[cand])
        out[f"{kind}_edge_flag"] = edge
        setattr(rep, f"n_edge_{kind}", int(edge.sum()))
        label = DESTINATION_LABEL[kind]
        if not is_dest.any():
            why = f"no {label} in the central-place input"
            rep.notes.append(f"The input has no {label}: t_{kind}_min is empty for every "
                             "municipality.")
            logger.warning(rep.notes[-1])
        else:
            why = f"no {label} reachable in the network"
        for i in np.flatnonzero(on_net & in_reg & np.isnan(t_min)):
            reasons[i].append(why)
        out[f"t_{kind}_min"] = t_min
        out[f"nearest_{kind}_ags"] = np.where(near >= 0, out["ags"].to_numpy()[np.maximum(near, 0)], None)
        out[f"nearest_{kind}_name"] = np.where(near >= 0, names[np.maximum(near, 0)], None)
        cls = classify(t_min, is_dest, kind)
        cls[empty] = None
        out[f"{kind}_class"] = cls
        out[f"{kind}_class_code"] = class_codes(out[f"{kind}_class"], class_order(kind))
        setattr(rep, f"n_missing_{kind}", int(np.isnan(t_min[in_reg]).sum()))
    out["origin_method"] = method
    if origins is not None and "origin_method" in origins.columns:  # per municipality
        per = pd.Series(origins["origin_method"].to_numpy()).groupby(org_muni).first()
        out["origin_method"] = per.reindex(np.arange(len(out))).fillna(method).to_numpy()
        n_point = int((out["origin_method"] == "point").sum()) if method != "point" else 0
        if n_point:
            rep.notes.append(f"{n_point} municipalities have no populated cell and start "
                             "from their reference point (origin_method = point).")
            logger.warning(rep.notes[-1])
    # no origins counted off the network or outside the region: empty, not 0
    out["n_origins"] = pd.array(np.bincount(org_muni[o_ok], minlength=len(out)),
                                dtype="Int64")
    out.loc[~(on_net & in_reg), "n_origins"] = pd.NA
    out["reason"] = ["; ".join(r) if r else None for r in reasons]
    cols = [c for c in COLUMNS if c in out.columns]
    net = ["node", "access_s"]  # the network columns travel on with the table
    extra = [c for c in out.columns if c not in COLUMNS and c not in ["geometry", "lon", "lat"] + net]
    out = out[cols + extra + ["lon", "lat"] + net
              + (["geometry"] if "geometry" in out.columns else [])]
    if not isinstance(out, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]),
                               crs=defaults.WGS84)
    out.attrs["report"] = rep.lines()
    for line in rep.lines():
        logger.info(line)
    return out


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
                         "with accessibility.models.central_places.join_central_places")
    if len(munis) == 0:
        raise InputError("the municipality table is empty")
    dup = munis["ags"][munis["ags"].duplicated()]
    if len(dup):
        raise InputError(f"duplicated AGS in the municipality table: {list(dup.unique()[:5])}; "
                         "each municipality must appear once")
    cp = munis["central_place"]
    if not cp.isin([OBERZENTRUM, MITTELZENTRUM, MZ_PART]).any():
        raise InputError("the central-place table has no Oberzentrum or Mittelzentrum among "
                         "these municipalities: check the zo_funktion column (Oberzentrum / "
                         "Mittelzentrum / Grundzentrum / keine, or OZ / MZ / GZ) and that its "
                         "AGS match the municipalities")


# ---------------------------------------------------------------------- aggregation
def edge_flag_column(value: str) -> str:
    """The edge flag of a time column: ``t_mz_min`` -> ``mz_edge_flag``."""
    kind = value[2:-4] if value.startswith("t_") and value.endswith("_min") else value
    return f"{kind}_edge_flag"


def weighted_means(df: pd.DataFrame, by: str | None, values: list[str]) -> pd.DataFrame:
    """Area- and population-weighted means of ``values`` per ``by`` (or overall).

    Municipalities without a value are left out of the mean and counted in
    ``n_missing``; those with a value but no area (population) weight drop out of the
    area- (population-) weighted mean and are counted in ``n_no_area``
    (``n_no_population``). Unpopulated areas (0 residents: gemeindefreie Gebiete)
    are left out of every mean and counted in ``n_unpopulated``: a forest's area
    would otherwise weigh in the area-weighted mean. Columns: ``{value}_area_w``
    (INKAR: flächengewichtet) and ``{value}_pop_w`` (Deutschlandatlas:
    bevölkerungsgewichtet).

    Pass every municipality of the register: with a column ``in_region`` the means
    cover the region's rows, and ``n_members``, ``n_members_in_region`` and
    ``complete`` (:mod:`~accessibility.models.membership`) say whether a unit lies
    wholly in it with a value for each populated member.

    With the value's edge flag (``t_mz_min`` -> ``mz_edge_flag``, see
    :func:`edge_flag_column`) ``{value}_n_edge_flag`` counts the members in the mean
    whose value a larger extract might change: the mean is exact only where it is 0.
    """
    full = df
    df = df[in_region(df)]
    key = (df[by] if by else pd.Series("all", index=df.index)).rename(by or "level")
    pop = pd.to_numeric(df["population"], errors="coerce")
    area = pd.to_numeric(df["area_km2"], errors="coerce")
    empty = pop == 0

    def total(x: pd.Series) -> pd.Series:  # one vectorised sum per group (no Python loop)
        return x.groupby(key, sort=True, dropna=False).sum()

    out = pd.DataFrame({"n_municipalities": total(pd.Series(1, index=df.index)),
                        "n_unpopulated": total(empty.astype(int)),
                        "population": pop.groupby(key, sort=True, dropna=False).sum(min_count=1),
                        "area_km2": area.groupby(key, sort=True, dropna=False).sum(min_count=1)})
    for v in values:
        x = pd.to_numeric(df[v], errors="coerce")
        ok = x.notna() & ~empty
        for wname, w in (("area_w", area), ("pop_w", pop)):
            w = w.fillna(0.0).where(ok, 0.0)
            num, den = total(w * x.fillna(0.0)), total(w)
            out[f"{v}_{wname}"] = (num / den.where(den > 0)).astype(float)
        out[f"{v}_n_missing"] = total((x.isna() & ~empty).astype(int))
        # values that have no weight drop out of that weighted mean: say how many
        out[f"{v}_n_no_area"] = total((ok & area.isna()).astype(int))
        out[f"{v}_n_no_population"] = total((ok & pop.isna()).astype(int))
        flag = edge_flag_column(v)
        if flag in df.columns:  # a mean over values a larger extract may change says so
            out[f"{v}_n_edge_flag"] = total(ok & df[flag].fillna(False).astype(bool))
    out.index.name = by or "level"
    return with_members(out.reset_index(), full, by, values)


def class_shares(df: pd.DataFrame, kind: str, *, unit: str = "municipalities") -> pd.DataFrame:
    """Share of units and of population per class (the BBSR report table).

    ``df`` has one row per unit (municipalities, or GVBs with ``unit="gvb"``) with
    ``{kind}_class`` and ``population``; unpopulated units (0 residents) are left
    out. The count columns are named after ``unit`` (``municipalities`` /
    ``share_municipalities``, or ``gvb`` / ``share_gvb``). With ``{kind}_edge_flag``
    (per GVB: any member's, :func:`~accessibility.models.units.class_rows`),
    ``n_edge_flag`` counts the units of each class whose time a larger extract might
    change (shorten), and so its class.
    """
    col = f"{kind}_class"
    df = df[pd.to_numeric(df["population"], errors="coerce").to_numpy() != 0]
    labels = class_order(kind) + [NO_VALUE]
    cls = df[col].fillna(NO_VALUE)
    pop = df["population"].fillna(0.0)
    n = cls.value_counts().reindex(labels, fill_value=0)
    p = pop.groupby(cls).sum().reindex(labels, fill_value=0.0)
    t = pd.DataFrame({"class": labels, unit: n.to_numpy(),
                      f"share_{unit}": n.to_numpy() / max(len(df), 1),
                      "population": p.to_numpy(),
                      "share_population": p.to_numpy() / max(pop.sum(), 1.0)})
    if f"{kind}_edge_flag" in df.columns:
        flag = df[f"{kind}_edge_flag"].fillna(False).astype(bool)
        t["n_edge_flag"] = flag.groupby(cls).sum().reindex(labels, fill_value=0).to_numpy()
    return t[(t[unit] > 0) | (t["class"] != NO_VALUE)]
