"""Public-transport time to the nearest Mittel- and Oberzentrum and Fernbahnhof
(``t_pt_mz_min``, ``t_pt_oz_min``, ``t_pt_ldrail_min``) over a departure window.

The rules (the walk legs are straight line x detour at the walking speed, as the
router's footpaths; no road or walk graph is used, so that the model runs from a
feed and the register alone, nationally in minutes, and so that the legs on foot
are the same kind of estimate as the footpaths between stops):

* **Access**: an origin (the municipality's reference point, or its populated grid
  cells with ``origins="population"``) walks to every stop served on the day within
  ``access_max_m`` (straight line); or straight to the destination when it is that
  close.
* **Egress**: from every served stop within ``access_max_m`` of a destination's
  centre (a central place's reference point, a station's coordinates) to the centre
  on foot; a destination is reached when the centre is, through any of its stops.
* **Door-to-door time** at every departure minute of the window (waiting at the
  first stop included) by one backward profile scan per destination class
  (:func:`accessibility.transit.profile`); the median and the ``percentile`` over
  the minutes (:func:`accessibility.transit.window_statistics`, r5py's semantics: a
  minute without a trip counts as infinitely long), per origin.
* **A municipality's value** is the weighted mean of its origins' medians (and, as
  a column of its own, of their percentiles) over the origins with a value: with
  ``origins="population"`` every populated grid cell is an origin weighted by its
  residents, so ``t_pt_mz_min`` is the typical trip of the average resident (the
  median over the minutes first: a resident's typical trip; then the mean over the
  residents, as the car model averages its origins, so that the ratio car / public
  transport compares like with like and the GVB / Kreis means stay means of
  means). It is not the median of all residents' trips pooled over cells and
  minutes, and the percentile column is the mean of the cells' percentiles, not a
  percentile of the pooled trips. A cell without a value (no stop within
  ``access_max_m``, a trip in fewer than half of the minutes) is left out of the
  mean; ``pt_{kind}_origin_share`` says which share of the residents the value
  describes, ``pt_origin_method`` whether cells or the reference point were used (a
  municipality without a populated cell keeps its reference point).
* **0 minutes** for the central places of the class themselves (INKAR).
* **Coverage**: the convex hull of the served stops, buffered by ``access_max_m``.
  A reference point outside it gets NaN ("outside the feed's coverage").
* **Edge flag** (``t_pt_*_edge_flag``, sound before tight): a trip on a line the
  feed does not hold (another operator, the part of a line beyond the cut) must
  leave the coverage; no vehicle covers the straight line from the origin to the
  coverage's boundary faster than ``defaults.PT_EDGE_SPEED_KMH``. A value longer
  than that bound, or NaN inside the coverage, might change with a larger feed and
  is flagged.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from .. import defaults
from .._errors import InputError
from ..transit import Timetable, profile, walk_seconds, window_statistics, window_times
from ..vocabulary import DESTINATION_LABEL, NO_FUNCTION, destinations
from .central_places import make_origins

logger = logging.getLogger(__name__)

__all__ = ["PT_KINDS", "coverage", "covered", "pt_access", "pt_change", "pt_columns", "pt_vs_car",
           "residents_within"]

#: Destination classes of the public-transport model.
PT_KINDS = ("mz", "oz", "ldrail")
_LABEL = {**DESTINATION_LABEL, "ldrail": "Fernbahnhof"}

NO_STOP = "no stop within walking distance ({m:g} m)"
NO_TRIP = "no trip in the window"
FEW_TRIPS = "a trip in fewer than half of the departure minutes"
OUTSIDE = "outside the feed's coverage"
NO_DEST = "no {label} within walking distance of a stop of the feed"


def pt_columns(percentile: float = defaults.PT_PERCENTILE) -> dict[str, str]:
    """The columns of :func:`pt_access` and their meanings."""
    out = {}
    for kind in PT_KINDS:
        label = _LABEL[kind]
        out[f"t_pt_{kind}_min"] = (
            f"public-transport time (ÖPNV-Reisezeit) in minutes to the nearest {label} (door "
            "to door: walk, "
            "wait, ride, change, walk), median over the departure minutes of the window; 0 "
            "for the central places themselves" if kind != "ldrail" else
            f"public-transport time (ÖPNV-Reisezeit) in minutes to the nearest {label} (door "
            "to door), median "
            "over the departure minutes of the window")
        out[f"t_pt_{kind}_p{percentile:g}_min"] = (
            f"the {percentile:g}th percentile of the same times (a minute without a trip "
            "counts as infinitely long)")
        out[f"pt_{kind}_trip_share"] = ("share of the departure minutes with a trip to the "
                                        f"nearest {label}")
        out[f"t_pt_{kind}_reason"] = f"why t_pt_{kind}_min is empty"
        out[f"t_pt_{kind}_edge_flag"] = (
            f"t_pt_{kind}_min might change with a larger feed: a trip leaving the feed's "
            "coverage (convex hull of the served stops + access distance) could be faster "
            f"at {defaults.PT_EDGE_SPEED_KMH:g} km/h in a straight line")
        out[f"pt_{kind}_origin_share"] = (
            f"share of the municipality's origin weight (residents, with population "
            f"origins) whose origin has a time to the nearest {label}: t_pt_{kind}_min is "
            "the weighted mean over these origins")
    out["pt_origin_method"] = (
        "where the public-transport trips start ([public_transport] origins): point (the "
        "reference point, INKAR) or population (every populated grid cell, weighted by "
        "its residents; point for a municipality without a populated cell)")
    out["pt_n_origins"] = "number of public-transport origins (grid cells or 1)"
    return out


def pt_column_docs(columns) -> dict[str, str]:
    """The meanings of the public-transport columns among ``columns`` (the percentile
    read from the names ``t_pt_mz_p{q}_min``)."""
    cols = list(columns)
    qs = {m.group(1) for c in cols if (m := re.fullmatch(r"t_pt_mz_p([0-9.]+)_min", c))}
    docs = {}
    for q in qs or {str(defaults.PT_PERCENTILE)}:
        docs.update(pt_columns(float(q)))
    docs.update(PT_STANDARD_COLUMNS)
    return {c: docs[c] for c in cols if c in docs}


#: The standards' columns of :func:`accessibility.api.pt_times`.
PT_STANDARD_COLUMNS = {
    f"pt_beyond_{k}_standard": f"t_pt_{k}_min is longer than the public-transport standard "
    f"([public_transport] standard_{k}_min; RIN 2008 / BVWP)" for k in ("mz", "oz")}


def _metric(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    x, y = Transformer.from_crs(defaults.WGS84, defaults.METRIC_CRS,
                                always_xy=True).transform(np.asarray(lon, float),
                                                          np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def _pairs(ax, ay, bx, by, max_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i of a, j of b) and straight-line metres within ``max_m``."""
    a_ok, b_ok = np.flatnonzero(np.isfinite(ax)), np.flatnonzero(np.isfinite(bx))
    if not a_ok.size or not b_ok.size:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    m = cKDTree(np.column_stack([ax[a_ok], ay[a_ok]])).sparse_distance_matrix(
        cKDTree(np.column_stack([bx[b_ok], by[b_ok]])), max_m, output_type="ndarray")
    # sparse_distance_matrix leaves out pairs at distance 0: add them
    zero = cKDTree(np.column_stack([ax[a_ok], ay[a_ok]])).query_ball_tree(
        cKDTree(np.column_stack([bx[b_ok], by[b_ok]])), 0.0)
    zi = np.repeat(np.arange(a_ok.size), [len(z) for z in zero])
    zj = np.array([j for z in zero for j in z], np.int64)
    i = np.concatenate([m["i"], zi]).astype(np.int64)
    j = np.concatenate([m["j"], zj]).astype(np.int64)
    d = np.concatenate([m["v"], np.zeros(zi.size)])
    keep = ~pd.DataFrame({"i": i, "j": j}).duplicated().to_numpy()
    return a_ok[i[keep]], b_ok[j[keep]], d[keep]


def _served(tt: Timetable) -> np.ndarray:
    return np.unique(np.concatenate([tt.c_from, tt.c_to]))


def coverage(tt: Timetable, access_max_m: float):
    """The feed's coverage (metric CRS): the convex hull of the stops served on the
    day, buffered by ``access_max_m``; None without a served stop."""
    s = _served(tt)
    s = s[np.isfinite(tt.x[s])]
    if not s.size:
        return None
    return shapely.MultiPoint(np.column_stack([tt.x[s], tt.y[s]])).convex_hull.buffer(
        access_max_m)


def covered(tt: Timetable, lon, lat, access_max_m: float) -> np.ndarray:
    """Whether each point (WGS84) lies in the feed's :func:`coverage`."""
    cov = coverage(tt, access_max_m)
    x, y = _metric(lon, lat)
    if cov is None:
        return np.zeros(x.size, bool)
    return shapely.contains(cov, shapely.points(np.column_stack([x, y]))) & np.isfinite(x)


def pt_access(tt: Timetable, municipalities: pd.DataFrame, *,
              stations: pd.DataFrame | None = None, origins: str = defaults.ORIGINS,
              population_grid: pd.DataFrame | None = None, polygons=None,
              window_s: tuple[int, int] = defaults.PT_WINDOW_S,
              step_s: int = defaults.PT_STEP_S, percentile: float = defaults.PT_PERCENTILE,
              walk_speed_kmh: float = defaults.PT_WALK_SPEED_KMH,
              walk_detour: float = defaults.PT_WALK_DETOUR,
              access_max_m: float = defaults.PT_ACCESS_MAX_M,
              gz_with_mz_is_mz: bool = defaults.GZ_WITH_MZ_IS_MZ,
              edge_speed_kmh: float = defaults.PT_EDGE_SPEED_KMH) -> pd.DataFrame:
    """Public-transport times to the nearest MZ, OZ and Fernbahnhof (module docstring).

    Parameters
    ----------
    tt : Timetable
        One service day (:func:`accessibility.transit.build_timetable`).
    municipalities : DataFrame
        ``ags``, ``lon``, ``lat``, ``central_place``; ``in_region`` (default: all).
    stations : DataFrame, optional
        Fernbahnhöfe (``lon``, ``lat``): ``t_pt_ldrail_min``; without them it is NaN.
    origins, population_grid, polygons
        As for the car (:func:`accessibility.models.central_places.make_origins`):
        ``"point"`` or ``"population"`` (the aggregation: module docstring).
    window_s, step_s
        Departure window (start, end excluded; seconds after midnight) and step.
    percentile, walk_speed_kmh, walk_detour, access_max_m, gz_with_mz_is_mz,
    edge_speed_kmh
        See the module docstring and :mod:`accessibility.defaults`.

    Returns
    -------
    DataFrame
        ``municipalities`` (same rows) with the columns of :func:`pt_columns`.
    """
    if origins not in ("point", "population"):
        raise InputError(f"public-transport origins must be 'point' (the reference point) "
                         f"or 'population' (populated grid cells), not {origins!r}; area "
                         "origins are the car's only.")
    munis = municipalities.reset_index(drop=True)
    walk = {"walk_speed_kmh": walk_speed_kmh, "walk_detour": walk_detour}
    in_reg = (munis["in_region"].fillna(False).to_numpy(bool) if "in_region" in munis.columns
              else np.ones(len(munis), bool))
    org = make_origins(munis, origins, population_grid=population_grid, polygons=polygons)
    row_of = pd.Series(np.arange(len(munis)), index=munis["ags"].to_numpy())
    o_muni = row_of.loc[org["ags"].to_numpy()].to_numpy()
    o_w = org["weight"].to_numpy(float)
    cell = (org["grid_cell"].to_numpy(bool) if "grid_cell" in org.columns
            else np.zeros(len(org), bool))
    ox, oy = _metric(org["lon"], org["lat"])
    served = _served(tt)
    sx, sy = tt.x[served], tt.y[served]
    oi, sj, od = _pairs(ox, oy, sx, sy, access_max_m)
    access = pd.DataFrame({"origin": oi, "stop_id": tt.stop_ids[served[sj]],
                           "access_s": walk_seconds(od, **walk)})
    cov = coverage(tt, access_max_m)
    pts = shapely.points(np.column_stack([ox, oy]))
    inside = (shapely.contains(cov, pts) if cov is not None
              else np.zeros(len(org), bool)) & np.isfinite(ox)
    boundary_m = (shapely.distance(cov.boundary, pts) if cov is not None
                  else np.zeros(len(org)))
    has_stop = np.bincount(oi, minlength=len(org)) > 0
    departures = np.arange(window_s[0], window_s[1], step_s, dtype=np.int64)
    cp = munis["central_place"].fillna(NO_FUNCTION).to_numpy() if "central_place" in \
        munis.columns else np.full(len(munis), NO_FUNCTION, object)
    dests = {k: np.isin(cp, f) for k, f in destinations(gz_with_mz_is_mz).items()}
    out = munis.copy()
    p_col = f"p{percentile:g}"
    for kind in PT_KINDS:
        label = _LABEL[kind]
        if kind == "ldrail":
            dlon = stations["lon"] if stations is not None else []
            dlat = stations["lat"] if stations is not None else []
            zero = np.zeros(len(munis), bool)
        else:
            is_dest = dests[kind]
            dlon, dlat = munis["lon"][is_dest], munis["lat"][is_dest]
            zero = is_dest & in_reg
        dx, dy = _metric(dlon, dlat)
        di, dj, dd = _pairs(dx, dy, sx, sy, access_max_m)
        oi2, _, od2 = _pairs(ox, oy, dx, dy, access_max_m)
        direct = pd.Series(walk_seconds(od2, **walk)).groupby(oi2).min()
        med = np.full(len(org), np.nan)
        high = np.full(len(org), np.nan)
        share = np.zeros(len(org))
        routed = np.zeros(0, np.int64)  # origins whose window was routed
        if di.size:
            prof = profile(tt, tt.stop_ids[served[dj]], walk_seconds(dd, **walk),
                           earliest_s=int(window_s[0]))
            stats = window_statistics(window_times(prof, access, departures, direct_s=direct),
                                      percentile=percentile)
            idx = routed = stats.index.to_numpy(np.int64)
            med[idx] = stats["t_median_min"].to_numpy()
            high[idx] = stats[f"t_{p_col}_min"].to_numpy()
            share[idx] = stats["reached_share"].to_numpy()
        # a walk straight to the destination, and no stop near (or none near it)
        only = np.setdiff1d(direct.index.to_numpy(np.int64), routed)
        med[only] = high[only] = direct.loc[only].to_numpy() / 60.0
        share[only] = 1.0
        # a municipality: weighted mean over its origins with a value
        t, p, sh = (_weighted(v, o_w, o_muni, len(munis)) for v in (med, high, share))
        o_share = _weighted(np.isfinite(med).astype(float), o_w, o_muni, len(munis))
        t[zero], p[zero] = 0.0, 0.0
        edge_o = inside & ((med * 60.0 > boundary_m / (edge_speed_kmh / 3.6)) | np.isnan(med))
        edge = _any(edge_o, o_muni, len(munis))
        reasons = np.full(len(munis), None, object)
        m_inside = _any(inside, o_muni, len(munis))
        m_stop = _any(has_stop | np.isin(np.arange(len(org)), only), o_muni, len(munis))
        m_trip = _any(share > 0, o_muni, len(munis))
        why = np.select([~in_reg, ~m_inside, ~m_stop, np.full(len(munis), di.size == 0),
                         ~m_trip],
                        ["outside the region (the road extract or the [region] cut)", OUTSIDE,
                         NO_STOP.format(m=access_max_m), NO_DEST.format(label=label), NO_TRIP],
                        FEW_TRIPS)
        miss = np.isnan(t)
        reasons[miss] = why[miss]
        t[~in_reg] = p[~in_reg] = np.nan
        out[f"t_pt_{kind}_min"] = t
        out[f"t_pt_{kind}_{p_col}_min"] = p
        out[f"pt_{kind}_trip_share"] = np.where(in_reg & ~zero, sh, np.nan)
        out[f"t_pt_{kind}_reason"] = reasons
        out[f"t_pt_{kind}_edge_flag"] = edge & in_reg & ~zero
        out[f"pt_{kind}_origin_share"] = np.where(in_reg & ~zero, o_share, np.nan)
        logger.info("public transport to the nearest %s: %d of %d municipalities in the "
                    "region with a time, %d flagged at the feed's edge", label,
                    int((~np.isnan(t) & in_reg).sum()), int(in_reg.sum()),
                    int(out[f"t_pt_{kind}_edge_flag"].sum()))
    n_org = np.bincount(o_muni, minlength=len(munis))
    out["pt_origin_method"] = np.where(
        n_org == 0, None, np.where(_any(cell, o_muni, len(munis)), "population", "point"))
    out["pt_n_origins"] = pd.array(np.where(in_reg, n_org, 0), dtype="Int64")
    out.loc[~in_reg, "pt_n_origins"] = pd.NA
    return out


def _any(flags: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Whether any member of each group is flagged."""
    return np.bincount(group, weights=np.asarray(flags, float), minlength=n) > 0


def _weighted(values: np.ndarray, weight: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Weighted mean of the finite ``values`` per group (NaN: none finite)."""
    ok = np.isfinite(values)
    w = np.bincount(group[ok], weights=weight[ok], minlength=n)
    s = np.bincount(group[ok], weights=(weight * np.where(ok, values, 0.0))[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 0, s / np.where(w > 0, w, 1.0), np.nan)


def pt_vs_car(table: pd.DataFrame, *, percentile: float = defaults.PT_PERCENTILE
              ) -> pd.DataFrame:
    """Car and public-transport times side by side per municipality (``pt_vs_car.csv``).

    ``ratio_mz`` / ``ratio_oz`` = public transport / car (NaN where either time is
    missing or the car time is 0: a central place of its own).
    """
    keep = [c for c in ("ags", "name", "gvb", "kreis", "population", "central_place")
            if c in table.columns]
    out = table[keep].copy()
    for kind in ("mz", "oz"):
        car = pd.to_numeric(table.get(f"t_{kind}_min"), errors="coerce") \
            if f"t_{kind}_min" in table.columns else pd.Series(np.nan, index=table.index)
        pt = table[f"t_pt_{kind}_min"]
        out[f"t_{kind}_min"] = car
        out[f"t_pt_{kind}_min"] = pt
        out[f"t_pt_{kind}_p{percentile:g}_min"] = table[f"t_pt_{kind}_p{percentile:g}_min"]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"ratio_{kind}"] = np.where(car.to_numpy() > 0, pt / car, np.nan)
        out[f"t_pt_{kind}_edge_flag"] = table[f"t_pt_{kind}_edge_flag"]
    return out.reset_index(drop=True)


def residents_within(table: pd.DataFrame, minutes: float = 30.0) -> pd.DataFrame:
    """Share of residents within ``minutes`` of the nearest central place (MZ or OZ)
    by car and by public transport, as BBSR reports it (car 99.5 %, public transport
    82 % nationally), over the municipalities with both times.

    Returns one row per mode: ``mode``, ``residents`` (counted), ``within``,
    ``share`` (0-1), ``municipalities``.
    """
    pop = pd.to_numeric(table["population"], errors="coerce")
    car = pd.to_numeric(table["t_mz_min"], errors="coerce") if "t_mz_min" in table.columns \
        else pd.Series(np.nan, index=table.index)
    pt = table["t_pt_mz_min"]
    both = pop.notna() & car.notna() & pt.notna()
    rows = []
    for mode, t in (("car", car), ("public transport", pt)):
        within = float(pop[both & (t <= minutes)].sum())
        total = float(pop[both].sum())
        rows.append({"mode": mode, "residents": total, "within": within,
                     "share": within / total if total > 0 else np.nan,
                     "municipalities": int(both.sum())})
    return pd.DataFrame(rows)


def pt_change(base: pd.DataFrame, scenario: pd.DataFrame) -> pd.DataFrame:
    """``t_pt_*_min`` before and after a scenario per municipality (rows by ``ags``):
    ``{col}_base``, ``{col}_scenario``, ``{col}_change`` (scenario - base)."""
    keep = [c for c in ("ags", "name", "population") if c in base.columns]
    out = base[keep].reset_index(drop=True)
    s = scenario.set_index("ags")
    for kind in PT_KINDS:
        col = f"t_pt_{kind}_min"
        b = base[col].to_numpy(float)
        a = s[col].reindex(base["ags"]).to_numpy(float)
        out[f"{col}_base"], out[f"{col}_scenario"], out[f"{col}_change"] = b, a, a - b
    return out
