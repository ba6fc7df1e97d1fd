"""The report's further indicators per municipality: car time to the nearest motorway
junction, long-distance rail station and international airport; public-transport
departures per 1,000 residents; commuter balance and residents per job.

Tables in, tables out; nothing here reads a file (the destinations, stop counts and
commuter tables come from :mod:`accessibility.io`).

Car times (:func:`facility_access`)
    ``t_{kind}_min`` for ``kind`` in :data:`DESTINATION_KINDS` follow the rules of
    ``t_mz_min`` (:func:`accessibility.models.central_places.central_place_access`):
    time *from* the municipality's reference point *to* the destination (one
    multi-source search on the reversed graph from all destinations of the kind, the
    destinations' access legs as start offsets, the municipality's access leg
    added); NaN and a ``facility_reason`` for municipalities outside the region or off
    the network, or when no destination is reachable; ``{kind}_edge_flag`` when a
    destination off the network (outside the extract, off its roads) lies nearer in
    a straight line at the network's top speed than the time found. Unlike central
    places, no municipality gets 0 minutes by definition: a municipality with a
    junction inside gets the time from its reference point to it.

Classes (:data:`FACILITY_CLASSES`)
    The BBSR report maps these times without published class bounds that we know of;
    the classes here are the **engine's own**, chosen to split the German range into
    groups a planner reads (motorway < 10 / 10-20 / 20-30 / >= 30 min, long-distance
    station < 15 / 15-30 / 30-60 / >= 60 min as the Oberzentrum classes, airport
    < 30 / 30-60 / 60-90 / >= 90 min).

Departures (:func:`departures_per_1000`)
    Departures of every stop on the chosen weekday (see :mod:`accessibility.io.gtfs`
    for the counting convention), summed over the stops of each municipality, per
    1,000 residents. ``rail`` is the Eisenbahn (GTFS ``route_type`` 2 and 100-117:
    long-distance, regional and S-Bahn trains), the BBSR "Schienenverkehr" read as
    railway services; trams, Stadtbahn and U-Bahn (``route_type`` 0, 1, 400-405,
    900-906) are counted apart in ``tram_*`` so that a user who wants them as rail
    adds the two columns. Stops go to the municipality whose polygon contains them
    (geopandas ``sjoin``); without polygons to the nearest reference point within
    :data:`STOP_ASSIGN_M` (5 km), which misplaces stops near a border.

Commuters (:func:`commuter_indicators`)
    ``commuter_balance_per_100`` = (in-commuters - out-commuters) per 100 employees
    subject to social insurance at the workplace (INKAR: Pendlersaldo je 100 SV-
    Beschäftigte am Arbeitsort); ``residents_per_job`` = residents per employee at
    the workplace (Wohnzentralität: above 1 a place people live in rather than work
    in).

Aggregation (:func:`unit_indicators`)
    Per Gemeindeverband, Kreis or Land: times as area- and population-weighted means
    (:func:`accessibility.models.central_places.weighted_means`), departures and
    commuters as ratios of sums (sum of departures over sum of residents, never the
    mean of the municipalities' ratios).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from .. import defaults
from .._checks import check_commuters
from .._errors import InputError
from .._util import show
from ..graph import RoadGraph, attach_settings, network_arrays
from ..vocabulary import DESTINATION_KIND_TERMS, DESTINATION_KINDS, class_codes
from .central_places import weighted_means
from .membership import in_region, with_members
from .nearest import (
    bin_minutes,
    edge_flag,
    off_network_reasons,
    time_to_exit_s,
    time_to_nearest,
)

logger = logging.getLogger(__name__)

__all__ = ["COLUMNS", "DEPARTURE_MODES", "DESTINATION_KINDS", "DESTINATION_LABEL",
           "FACILITY_CLASSES", "STOP_ASSIGN_M", "check_destinations", "class_order",
           "classify_minutes", "commuter_indicators", "departures_per_1000",
           "facility_access", "unit_indicators"]

#: Readable name of each kind (English, with the German official term).
DESTINATION_LABEL = {kind: t.label for kind, t in DESTINATION_KIND_TERMS.items()}
#: Time classes of each kind (minutes; upper bound exclusive, report order). The
#: engine's own classes, not published BBSR bounds (see the module docstring).
FACILITY_CLASSES = {kind: t.classes for kind, t in DESTINATION_KIND_TERMS.items()}
#: Departure columns counted per stop and their meaning: all modes, railway
#: (route_type 2, 100-117), tram / Stadtbahn / U-Bahn (0, 1, 400-405, 900-906).
DEPARTURE_MODES = {"pt": "all modes", "rail": "Eisenbahn (route_type 2, 100-117)",
                   "tram": "Straßenbahn, Stadtbahn, U-Bahn (route_type 0, 1, 400-405, "
                           "900-906)"}
#: Without municipality polygons a stop goes to the nearest reference point within
#: this distance (m); farther stops belong to no municipality.
STOP_ASSIGN_M = 5000.0


def class_order(kind: str) -> list[str]:
    """Class labels of a destination kind in report order."""
    return [label for _, label in FACILITY_CLASSES[kind]]


#: Sources of destinations that list every one of their kind in Germany (the shipped
#: airport list, the DB station table; io/destinations.py names them so): the edge
#: test bounds a way out by the straight line to the nearest of them.
NATIONAL_SOURCES = ("accessibility airports_de.csv", "DB stations ")


def _columns() -> dict[str, str]:
    cols = {}
    for kind in DESTINATION_KINDS:
        label = DESTINATION_LABEL[kind]
        bounds = " / ".join(class_order(kind))
        cols[f"t_{kind}_min"] = (f"car time in minutes from the reference point to the "
                                 f"time-nearest {label}; empty when unreachable (see "
                                 "facility_reason)")
        cols[f"nearest_{kind}_id"] = f"id of the nearest {label} (the destination table's id)"
        cols[f"nearest_{kind}_name"] = f"name of the nearest {label}"
        cols[f"{kind}_class"] = (f"class of t_{kind}_min: {bounds} (the engine's own "
                                 "classes; empty for unpopulated areas)")
        cols[f"{kind}_class_code"] = (f"ordered code of {kind}_class: "
                                      + ", ".join(f"{i} = {lab}" for i, lab in
                                                  enumerate(class_order(kind)))
                                      + " (empty: no value)")
        cols[f"{kind}_edge_flag"] = (f"t_{kind}_min might change in a larger extract: a "
                                     f"route leaving the road extract (to a {label} beyond "
                                     "it, or round through it) could be faster, or a "
                                     "snapping might move; False: exact for any larger extract")
    cols["facility_reason"] = ("why a " + " / ".join(f"t_{k}_min" for k in DESTINATION_KINDS)
                               + " value is missing (outside the region, off the network, "
                               "none reachable)")
    cols.update({
        "pt_departures": "public-transport departures (ÖV-Abfahrten) at the municipality's "
                         "stops on the chosen weekday, all modes (a trip's departure counts at "
                         "every stop it serves)",
        "rail_departures": "departures of railway services (Schienenverkehr: Eisenbahn, GTFS "
                           "route_type 2 and 100-117; long-distance, regional, S-Bahn) on the "
                           "chosen weekday",
        "tram_departures": "departures of trams, Stadtbahn and U-Bahn (route_type 0, 1, "
                           "400-405, 900-906) on the chosen weekday; not in rail_departures",
        "pt_departures_per_1000": "ÖV-Abfahrten je 1.000 Einwohner: pt_departures per 1,000 "
                                  "residents on the chosen weekday; empty outside the area of "
                                  "the GTFS feed or without residents (see pt_reason)",
        "rail_departures_per_1000": "Abfahrten im Schienenverkehr je 1.000 Einwohner: "
                                    "rail_departures per 1,000 residents",
        "tram_departures_per_1000": "tram, Stadtbahn and U-Bahn departures per 1,000 residents",
        "n_pt_stops": "stops of the GTFS feed with a departure on the day assigned to the "
                      "municipality",
        "pt_stop_assignment": "how stops were assigned: polygon (inside the municipality's "
                              "boundary) or nearest reference point within 5 km",
        "pt_reason": "why the departure values are missing",
        "in_commuters": "Einpendler: employees subject to social insurance working here and "
                        "living elsewhere (Bundesagentur für Arbeit, Pendlerstatistik)",
        "out_commuters": "Auspendler: employees subject to social insurance living here and "
                         "working elsewhere",
        "employees_workplace": "sozialversicherungspflichtig Beschäftigte am Arbeitsort "
                               "(employees subject to social insurance at the workplace)",
        "commuter_balance": "Pendlersaldo: in_commuters - out_commuters",
        "commuter_balance_per_100": "Pendlersaldo je 100 SV-Beschäftigte am Arbeitsort: "
                                    "(in_commuters - out_commuters) per 100 employees at the "
                                    "workplace; positive for places of work",
        "residents_per_job": "Wohnzentralität: residents per employee subject to social "
                             "insurance at the workplace; above 1 a place people live in "
                             "rather than work in",
        "commuter_reason": "why the commuter values are missing",
    })
    return cols


#: Meaning of every output column of this module (English, with the German official
#: terms), to be merged into :data:`accessibility.vocabulary.COLUMNS`.
COLUMNS = _columns()


def classify_minutes(minutes, kind: str) -> np.ndarray:
    """Class labels of travel times of a destination kind (None where NaN)."""
    return bin_minutes(minutes, FACILITY_CLASSES[kind])


# --------------------------------------------------------------------- car times
def check_destinations(dest: pd.DataFrame, *, what: str = "destination table") -> pd.DataFrame:
    """The destination table, checked: ``kind`` in :data:`DESTINATION_KINDS`, ``lon``,
    ``lat`` (WGS84, may be NaN only for rows that are then ignored), ``id`` and
    ``name`` (filled from the row number / the id when missing)."""
    if not isinstance(dest, pd.DataFrame):
        raise InputError(f"the {what} must be a DataFrame, got {type(dest).__name__}")
    if "kind" not in dest.columns and "service" in dest.columns:
        dest = dest.rename(columns={"service": "kind"})
    missing = {"kind", "lon", "lat"} - set(dest.columns)
    if missing:
        raise InputError(f"the {what} lacks columns {sorted(missing)}: it needs kind (one of "
                         f"{', '.join(DESTINATION_KINDS)}), lon and lat (WGS84); read it with "
                         "accessibility.io.read_destinations")
    bad = sorted(set(dest["kind"].astype(str)) - set(DESTINATION_KINDS))
    if bad:
        raise InputError(f"the {what} has unknown kinds {bad}: use "
                         f"{', '.join(DESTINATION_KINDS)}")
    out = dest.copy()
    if "id" not in out.columns:
        out["id"] = [f"{k}-{i}" for i, k in enumerate(out["kind"])]
    out["id"] = out["id"].astype(str)
    if "name" not in out.columns:
        out["name"] = out["id"]
    out["name"] = out["name"].where(out["name"].notna(), out["id"]).astype(str)
    if "source" not in out.columns:
        out["source"] = "user table"
    out["source"] = out["source"].fillna("user table")
    return out


def facility_access(graph: RoadGraph, municipalities: pd.DataFrame,
                    destinations: pd.DataFrame, *, kinds: Sequence[str] | None = None,
                    origins: pd.DataFrame | None = None) -> pd.DataFrame:
    """Car time from every municipality to its nearest destination of each kind.

    Parameters
    ----------
    graph : RoadGraph
        Car graph (times in seconds).
    municipalities : DataFrame or GeoDataFrame
        ``ags``, ``lon``, ``lat`` and the network columns of
        :func:`accessibility.attach`; ``in_region`` (from
        :func:`accessibility.models.municipalities.mark_region`) when given,
        ``population`` (0 = unpopulated: no class), ``name`` used when present.
    destinations : DataFrame
        ``kind`` (in :data:`DESTINATION_KINDS`), ``id``, ``name``, ``lon``, ``lat``,
        attached to ``graph`` (:func:`accessibility.attach`). Rows off the network
        are not routed to; they serve the edge flag.
    kinds : sequence of str, optional
        The kinds to compute (default: those in ``destinations``, in report order).
        A kind without any destination gets empty columns and a note.
    origins : DataFrame, optional
        Attached origins (``ags``, ``weight``; see
        :func:`accessibility.models.central_places.make_origins`); default the
        reference points (as INKAR).

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy of ``municipalities`` (same type, same rows) with, per kind,
        ``t_{kind}_min``, ``nearest_{kind}_id``, ``nearest_{kind}_name``,
        ``{kind}_class``, ``{kind}_class_code``, ``{kind}_edge_flag``, and
        ``facility_reason``; ``.attrs["report"]`` holds the summary lines.
    """
    if "ags" not in municipalities.columns or len(municipalities) == 0:
        raise InputError("the municipality table needs rows and an 'ags' column: read it with "
                         "accessibility.io.read_municipalities")
    dest = check_destinations(destinations).reset_index(drop=True)
    kinds = (tuple(k for k in DESTINATION_KINDS if (dest["kind"] == k).any())
             if kinds is None else tuple(kinds))
    unknown = [k for k in kinds if k not in DESTINATION_KINDS]
    if unknown:
        raise InputError(f"unknown destination kinds {unknown}: use "
                         f"{', '.join(DESTINATION_KINDS)}")
    out = municipalities.copy()
    ref = network_arrays(out, graph, what="municipalities")
    d_arr = network_arrays(dest, graph, what="destinations")
    n = len(out)
    in_reg = (out["in_region"].fillna(False).to_numpy(bool) if "in_region" in out.columns
              else np.ones(n, bool))
    on_net = ref.on_network
    lon = pd.to_numeric(out["lon"], errors="coerce").to_numpy(np.float64)
    lat = pd.to_numeric(out["lat"], errors="coerce").to_numpy(np.float64)
    empty = (pd.to_numeric(out["population"], errors="coerce").to_numpy() == 0
             if "population" in out.columns else np.zeros(n, bool))
    org_kw = {}
    if origins is not None:
        row_of = pd.Series(np.arange(n), index=out["ags"].to_numpy())
        known = origins["ags"].isin(row_of.index).to_numpy()
        if not known.all():
            raise InputError(f"{int((~known).sum())} origins name an AGS that is not among "
                             "the municipalities")
        org_kw = {"origins": network_arrays(origins, graph, what="origins"),
                  "origin_unit": row_of.loc[origins["ags"].to_numpy()].to_numpy(),
                  "origin_weight": pd.to_numeric(origins["weight"]).to_numpy(np.float64)}
    off_why = off_network_reasons(out, ~np.isnan(lon))
    reasons: list[list[str]] = [[] for _ in range(n)]
    for i in np.flatnonzero(~in_reg):
        reasons[i].append("outside the region (the road extract or the [region] cut)")
    for i in np.flatnonzero(~on_net & in_reg):
        reasons[i].append(off_why[i])
    report = [f"{n:,} municipalities, {int((on_net & in_reg).sum()):,} in the region on the "
              "network."]
    d_lon = pd.to_numeric(dest["lon"], errors="coerce").to_numpy(np.float64)
    d_lat = pd.to_numeric(dest["lat"], errors="coerce").to_numpy(np.float64)
    for kind in kinds:
        label = DESTINATION_LABEL[kind]
        rows = np.flatnonzero(dest["kind"].to_numpy() == kind)
        sub = type(d_arr)(*(a[rows] for a in d_arr))
        # a kind whose list covers Germany (not cut out of the OSM extract or a regional
        # feed) is known beyond the extract: a way out must still reach one of them
        national = (rows.size > 0 and "source" in dest.columns
                    and dest["source"].iloc[rows].astype(str).str.startswith(NATIONAL_SOURCES).all())
        exit_s = (time_to_exit_s(graph, d_lon[rows], d_lat[rows],
                                 max_snap_m=attach_settings(destinations).get(
                                     "max_snap_m", defaults.MAX_SNAP_M))
                  if national else None)
        nt = time_to_nearest(graph, sub, ref, exit_s=exit_s, **org_kw)
        t = nt.minutes.copy()
        t[~in_reg] = np.nan
        near = np.where(in_reg & (nt.nearest >= 0), nt.nearest, -1)
        beyond = rows[~sub.on_network]
        edge = in_reg & on_net & edge_flag(graph, nt, lon, lat, t, d_lon[beyond], d_lat[beyond],
                                           snap_m=ref.snap_m, dest_lon=d_lon[rows],
                                           dest_lat=d_lat[rows], dest_snap_m=sub.snap_m)
        ids = dest["id"].to_numpy()[rows]
        names = dest["name"].to_numpy()[rows]
        out[f"t_{kind}_min"] = t
        out[f"nearest_{kind}_id"] = np.where(near >= 0, ids[np.maximum(near, 0)] if rows.size
                                             else None, None)
        out[f"nearest_{kind}_name"] = np.where(near >= 0, names[np.maximum(near, 0)]
                                               if rows.size else None, None)
        cls = classify_minutes(t, kind)
        cls[empty] = None
        out[f"{kind}_class"] = cls
        out[f"{kind}_class_code"] = class_codes(out[f"{kind}_class"], class_order(kind))
        out[f"{kind}_edge_flag"] = edge
        n_on = int(sub.on_network.sum())
        why = (f"no {label} reachable in the network" if n_on else
               f"no {label} on the network" if rows.size else f"no {label} in the destinations")
        for i in np.flatnonzero(in_reg & on_net & np.isnan(t)):
            reasons[i].append(f"{kind}: {why}")
        line = (f"{label}: {rows.size:,} destinations, {n_on:,} on the network; "
                f"{int(np.isfinite(t).sum()):,} municipalities with a time")
        if (~sub.on_network).any():
            line += f", {int((~sub.on_network).sum()):,} destinations off the network"
        if edge.any():
            line += f"; {int(edge.sum()):,} flagged ({kind}_edge_flag: a larger extract " \
                    "might change the time)"
        report.append(line + ".")
        if not rows.size:
            logger.warning("no %s among the destinations: t_%s_min is empty", label, kind)
    out["facility_reason"] = ["; ".join(r) if r else None for r in reasons]
    out.attrs["report"] = list(municipalities.attrs.get("report", [])) + report
    for line in report:
        logger.info(line)
    return out


# --------------------------------------------------------------------- departures
def _assign_points(munis: pd.DataFrame, lon: np.ndarray, lat: np.ndarray,
                   polygons: gpd.GeoDataFrame | None, max_assign_m: float
                   ) -> tuple[np.ndarray, str]:
    """Row of the municipality of every point (-1: none) and the method used."""
    row = np.full(lon.size, -1, np.int64)
    if lon.size == 0:
        return row, "polygon" if polygons is not None else "nearest"
    if polygons is not None:
        if getattr(polygons, "crs", None) is None:
            raise InputError("the municipality polygons have no CRS: set it (gdf.set_crs(...))")
        if "ags" not in polygons.columns:
            raise InputError("the municipality polygons need an 'ags' column")
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=defaults.WGS84)
        poly = polygons[["ags", "geometry"]].to_crs(defaults.METRIC_CRS)
        joined = gpd.sjoin(pts.to_crs(defaults.METRIC_CRS), poly, how="inner",
                           predicate="intersects")
        joined = joined[~joined.index.duplicated()]  # a stop on a border: the first polygon
        row_of = pd.Series(np.arange(len(munis)), index=munis["ags"].to_numpy())
        keep = joined["ags"].isin(row_of.index).to_numpy()
        row[joined.index.to_numpy()[keep]] = row_of.loc[joined["ags"].to_numpy()[keep]].to_numpy()
        return row, "polygon"
    m_lon = pd.to_numeric(munis["lon"], errors="coerce").to_numpy(np.float64)
    m_lat = pd.to_numeric(munis["lat"], errors="coerce").to_numpy(np.float64)
    ok = np.isfinite(m_lon) & np.isfinite(m_lat)
    if not ok.any():
        return row, "nearest"
    tr = Transformer.from_crs(defaults.WGS84, defaults.METRIC_CRS, always_xy=True)
    mx, my = tr.transform(m_lon[ok], m_lat[ok])
    px, py = tr.transform(lon, lat)
    d, k = cKDTree(np.column_stack([mx, my])).query(np.column_stack([px, py]))
    near = d <= max_assign_m
    row[near] = np.flatnonzero(ok)[k[near]]
    return row, "nearest"


def departures_per_1000(municipalities: pd.DataFrame, stops: pd.DataFrame, *,
                        polygons: gpd.GeoDataFrame | None = None,
                        max_assign_m: float = STOP_ASSIGN_M,
                        feed_stops: pd.DataFrame | None = None) -> pd.DataFrame:
    """Public-transport departures per 1,000 residents, all modes and by mode group.

    Parameters
    ----------
    municipalities : DataFrame or GeoDataFrame
        ``ags``, ``population``, ``lon``/``lat`` (reference points: the assignment
        without polygons and the coverage test).
    stops : DataFrame
        One row per stop: ``lon``, ``lat`` (WGS84) and ``departures`` (all modes),
        optionally ``rail_departures`` and ``tram_departures`` (from
        :func:`accessibility.io.gtfs.stop_departures_by_mode`).
    polygons : GeoDataFrame, optional
        Municipality polygons with ``ags`` (any CRS): stops are assigned by polygon.
        Without them, to the nearest reference point within ``max_assign_m``.
    max_assign_m : float
        See above (m).
    feed_stops : DataFrame, optional
        Every stop of the feed (``lon``, ``lat``), served on the day or not: the area
        the feed covers. A municipality is covered when one of these stops lies in it
        or its reference point lies inside their convex hull; covered municipalities
        without a departure that day have 0, the others no value (NaN, ``pt_reason``:
        the feed says nothing about them). Default: ``stops``.

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy of ``municipalities`` with ``pt_departures``, ``rail_departures``,
        ``tram_departures``, ``n_pt_stops``, ``pt_departures_per_1000``,
        ``rail_departures_per_1000``, ``tram_departures_per_1000``,
        ``pt_stop_assignment`` and ``pt_reason``; ``.attrs["report"]``.
    """
    for col in ("ags", "population"):
        if col not in municipalities.columns:
            raise InputError(f"departures per 1,000 residents need the municipalities' {col!r} "
                             "column")
    missing = {"lon", "lat", "departures"} - set(stops.columns)
    if missing:
        raise InputError(f"the stop table lacks {sorted(missing)}: count the departures with "
                         "accessibility.io.gtfs.stop_departures_by_mode")
    out = municipalities.copy()
    n = len(out)
    s_lon = pd.to_numeric(stops["lon"], errors="coerce").to_numpy(np.float64)
    s_lat = pd.to_numeric(stops["lat"], errors="coerce").to_numpy(np.float64)
    has = np.isfinite(s_lon) & np.isfinite(s_lat)
    row = np.full(len(stops), -1, np.int64)
    row[has], how = _assign_points(out, s_lon[has], s_lat[has], polygons, max_assign_m)
    assigned = row >= 0
    counts = {}
    for mode in DEPARTURE_MODES:
        col = "departures" if mode == "pt" else f"{mode}_departures"
        v = (pd.to_numeric(stops[col], errors="coerce").fillna(0.0).to_numpy(np.float64)
             if col in stops.columns else np.zeros(len(stops)))
        counts[mode] = np.bincount(row[assigned], weights=v[assigned], minlength=n)
    n_stops = np.bincount(row[assigned], minlength=n)
    m_lon = pd.to_numeric(out["lon"], errors="coerce").to_numpy(np.float64)
    m_lat = pd.to_numeric(out["lat"], errors="coerce").to_numpy(np.float64)
    if feed_stops is None:
        f_lon, f_lat, f_row = s_lon[has], s_lat[has], row[has]
    else:
        f_lon = pd.to_numeric(feed_stops["lon"], errors="coerce").to_numpy(np.float64)
        f_lat = pd.to_numeric(feed_stops["lat"], errors="coerce").to_numpy(np.float64)
        f_ok = np.isfinite(f_lon) & np.isfinite(f_lat)
        f_lon, f_lat = f_lon[f_ok], f_lat[f_ok]
        f_row, _ = _assign_points(out, f_lon, f_lat, polygons, max_assign_m)
    has_feed_stop = np.bincount(f_row[f_row >= 0], minlength=n) > 0
    hull = (shapely.MultiPoint(np.column_stack([f_lon, f_lat])).convex_hull
            if f_lon.size >= 3 else None)
    inside = (shapely.contains_xy(hull, np.nan_to_num(m_lon), np.nan_to_num(m_lat))
              if hull is not None else np.zeros(n, bool))
    covered = (inside & np.isfinite(m_lon)) | has_feed_stop | (n_stops > 0)
    pop = pd.to_numeric(out["population"], errors="coerce").to_numpy(np.float64)
    reasons = np.full(n, None, dtype=object)
    reasons[~covered] = "outside the area of the GTFS feed"
    no_pop = covered & ~(pop > 0)
    reasons[no_pop] = "no residents (population 0 or missing)"
    for mode in DEPARTURE_MODES:
        dep = np.where(covered, counts[mode], np.nan)
        out[f"{mode}_departures"] = dep
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{mode}_departures_per_1000"] = np.where(covered & (pop > 0),
                                                          dep / pop * 1000.0, np.nan)
    out["n_pt_stops"] = pd.array(np.where(covered, n_stops, 0), dtype="Int64")
    out.loc[~covered, "n_pt_stops"] = pd.NA
    out["pt_stop_assignment"] = np.where(covered, "polygon" if how == "polygon" else
                                         f"nearest reference point within "
                                         f"{max_assign_m / 1000:g} km", None)
    out["pt_reason"] = reasons
    total = float(np.nansum(pd.to_numeric(stops["departures"], errors="coerce")))
    lost = float(np.nansum(pd.to_numeric(stops["departures"], errors="coerce")
                           .to_numpy()[~assigned]))
    report = [f"Public transport: {len(stops):,} served stops, {total:,.0f} departures; "
              f"{int(covered.sum()):,} municipalities in the feed's area "
              f"(stops assigned by {'polygon' if how == 'polygon' else 'nearest reference point'})."]
    if lost:
        report.append(f"{int((~assigned).sum()):,} stops with {lost:,.0f} departures lie in no "
                      "municipality of the table"
                      + ("" if how == "polygon" else f" (none within {max_assign_m:,.0f} m)")
                      + ": not counted.")
    if how != "polygon":
        report.append("Stops were assigned to the nearest reference point (no municipality "
                      "polygons given): stops near a border may count for a neighbour.")
    out.attrs["report"] = list(municipalities.attrs.get("report", [])) + report
    for line in report:
        logger.info(line)
    return out


# --------------------------------------------------------------------- commuters
def commuter_indicators(municipalities: pd.DataFrame, commuters: pd.DataFrame) -> pd.DataFrame:
    """Pendlersaldo per 100 employees at the workplace and residents per job.

    Parameters
    ----------
    municipalities : DataFrame
        ``ags`` and ``population`` (residents).
    commuters : DataFrame
        From :func:`accessibility.io.read_commuters`: ``ags``, ``in_commuters``,
        ``out_commuters`` and, for both indicators, ``employees_workplace``.

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy of ``municipalities`` with ``in_commuters``, ``out_commuters``,
        ``employees_workplace``, ``commuter_balance``, ``commuter_balance_per_100``,
        ``residents_per_job`` and ``commuter_reason`` (NaN and a reason where the
        municipality is not in the table, a count is anonymised or the table has no
        employees at the workplace); ``.attrs["report"]``.
    """
    for col in ("ags", "in_commuters", "out_commuters"):
        if col not in commuters.columns:
            raise InputError(f"the commuter table lacks {col!r}: read it with "
                             "accessibility.io.read_commuters")
    if "ags" not in municipalities.columns:
        raise InputError("the municipality table needs an 'ags' column")
    has_emp = "employees_workplace" in commuters.columns
    c = commuters.drop_duplicates("ags").set_index("ags")
    out = municipalities.drop(columns=[x for x in ("in_commuters", "out_commuters",
                                                   "employees_workplace")
                                       if x in municipalities.columns]).copy()
    ags = out["ags"].astype(str).to_numpy()
    known = np.isin(ags, c.index.to_numpy())

    def col(name):
        return (pd.to_numeric(c[name], errors="coerce").reindex(ags).to_numpy(np.float64)
                if name in c.columns else np.full(len(out), np.nan))

    cin, cout, emp = col("in_commuters"), col("out_commuters"), col("employees_workplace")
    pop = (pd.to_numeric(out["population"], errors="coerce").to_numpy(np.float64)
           if "population" in out.columns else np.full(len(out), np.nan))
    # the checks of the Lage's daytime population, for a table built in a notebook too
    check_commuters(ags, cin, cout, pop, known & np.isfinite(cin) & np.isfinite(cout))
    bal = cin - cout
    with np.errstate(invalid="ignore", divide="ignore"):
        per_100 = np.where(emp > 0, bal / emp * 100.0, np.nan)
        per_job = np.where(emp > 0, pop / emp, np.nan)
    out["in_commuters"] = cin
    out["out_commuters"] = cout
    out["employees_workplace"] = emp
    out["commuter_balance"] = bal
    out["commuter_balance_per_100"] = per_100
    out["residents_per_job"] = per_job
    reasons = []
    for i in range(len(out)):
        r = []
        if not known[i]:
            r.append("not in the commuter table")
        else:
            if np.isnan(cin[i]) or np.isnan(cout[i]):
                r.append("commuter counts anonymised or empty")
            if not has_emp:
                r.append("the commuter table has no employees at the workplace")
            elif np.isnan(emp[i]):
                r.append("employees at the workplace anonymised or empty")
            elif emp[i] == 0:
                r.append("no employees at the workplace")
            if np.isnan(pop[i]) and has_emp:
                r.append("no population (residents_per_job)")
        reasons.append("; ".join(r) if r else None)
    out["commuter_reason"] = reasons
    report = [f"Commuters: {int(known.sum()):,} of {len(out):,} municipalities in the "
              f"commuter table; {int(np.isfinite(per_100).sum()):,} with a commuter balance "
              "per 100 employees."]
    if not has_emp:
        report.append("The commuter table has no employees at the workplace (sozialversiche"
                      "rungspflichtig Beschäftigte am Arbeitsort): commuter_balance_per_100 and "
                      "residents_per_job are empty.")
    if not known.all():
        report.append(f"{int((~known).sum()):,} municipalities are not in the commuter table "
                      f"(first: {show(ags[~known])}).")
    out.attrs["report"] = list(municipalities.attrs.get("report", [])) + report
    for line in report:
        logger.info(line)
    return out


# --------------------------------------------------------------------- aggregation
def unit_indicators(df: pd.DataFrame, by: str | None = "gvb") -> pd.DataFrame:
    """The indicators of this module per Gemeindeverband / Kreis / Land (or overall).

    Times (``t_{kind}_min`` present in ``df``) as area- and population-weighted means
    (``t_{kind}_min_area_w``, ``t_{kind}_min_pop_w``, with the counts of
    :func:`accessibility.models.central_places.weighted_means`); departures as the sum
    of departures over the sum of residents of the municipalities with a value
    (``pt_departures_per_1000`` ...); commuters as sums (``commuter_balance_per_100``
    = sum of balances per 100 of the summed employees, ``residents_per_job`` = summed
    residents over summed employees, both over the municipalities with all counts).
    Commuting between members cancels out of the balance; it stays in the counts
    ``in_commuters`` / ``out_commuters`` of the unit.

    Pass every municipality: with ``in_region`` the values cover the region's, and
    ``n_members``, ``n_members_in_region``, ``complete`` (every member in the region)
    say whether a unit is whole (:mod:`~accessibility.models.membership`).

    Parameters
    ----------
    df : DataFrame
        One row per municipality with ``population``, ``area_km2`` and the columns of
        :func:`facility_access`, :func:`departures_per_1000` and / or
        :func:`commuter_indicators`.
    by : str or None
        Key column (``gvb``, ``kreis``, ``land``); None: one row for all.
    """
    for col in ("population", "area_km2"):
        if col not in df.columns:
            df = df.assign(**{col: np.nan})
    if by is not None and by not in df.columns:
        raise InputError(f"the table has no {by!r} column to aggregate by")
    times = [f"t_{k}_min" for k in DESTINATION_KINDS if f"t_{k}_min" in df.columns]
    out = weighted_means(df, by, times)
    full, df = df, df[in_region(df)]  # the sums cover the region, as the means
    key = (df[by] if by else pd.Series("all", index=df.index)).rename(by or "level")
    pop = pd.to_numeric(df["population"], errors="coerce")

    def total(x: pd.Series, ok: pd.Series) -> pd.Series:
        return x.where(ok, 0.0).groupby(key, sort=True, dropna=False).sum()

    out = out.set_index(by or "level")
    if "pt_departures" in df.columns:
        ok = pd.to_numeric(df["pt_departures"], errors="coerce").notna() & (pop > 0)
        residents = total(pop, ok)
        out["pt_population"] = residents
        for mode in DEPARTURE_MODES:
            col = f"{mode}_departures"
            if col in df.columns:
                dep = total(pd.to_numeric(df[col], errors="coerce"), ok)
                out[col] = dep
                out[f"{col}_per_1000"] = (dep / residents.where(residents > 0) * 1000.0
                                          ).astype(float)
        out["pt_n_missing"] = (~ok).groupby(key, sort=True, dropna=False).sum()
    if "commuter_balance" in df.columns:
        cin = pd.to_numeric(df["in_commuters"], errors="coerce")
        cout = pd.to_numeric(df["out_commuters"], errors="coerce")
        emp = pd.to_numeric(df["employees_workplace"], errors="coerce")
        ok = cin.notna() & cout.notna() & emp.notna()
        for name, x in (("in_commuters", cin), ("out_commuters", cout),
                        ("employees_workplace", emp)):
            out[name] = total(x, ok)
        e = out["employees_workplace"].where(out["employees_workplace"] > 0)
        out["commuter_balance"] = out["in_commuters"] - out["out_commuters"]
        out["commuter_balance_per_100"] = (out["commuter_balance"] / e * 100.0).astype(float)
        ok_pop = ok & pop.notna()
        out["residents_per_job"] = (total(pop, ok_pop) / total(emp, ok_pop)
                                    .where(lambda s: s > 0)).astype(float)
        out["commuter_n_missing"] = (~ok).groupby(key, sort=True, dropna=False).sum()
    # complete: every member in the region (an airport beyond a regional extract leaves
    # every time empty; the _n_missing columns count the values)
    return with_members(out.reset_index(), full, by)
