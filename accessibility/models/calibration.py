"""Calibrate the car speeds against reference travel times: per-road-class speed
factors, optionally the speed of the access legs and (by a 1-D search) the maxspeed
factor of the profile.

Two kinds of reference are understood (see
:func:`accessibility.io.read_reference_times`): times of single trips between
municipalities or to the nearest OZ/MZ, and INKAR's area-weighted means per
Gemeindeverband of the members' times to the nearest OZ/MZ.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import lsq_linear

from .. import defaults
from .._errors import InputError
from .._util import show
from ..defaults import ACCESS_BOUNDS_KMH
from ..graph import RoadGraph
from ..profile import SpeedProfile
from ..routing import nearest_facility, shortest_path_tree
from .calibration_references import (
    _FACILITY_CLASSES,
    _INDICATOR_OF,
    _base_access_speed,
    _check_municipalities,
    _Legs,
    _reference_format,
    _resolve,
    _Rows,
)
from .calibration_result import (
    CalibrationResult,
    SpeedEvaluation,
    _factor_vector,
    _metrics,
    _split_skipped,
    apply_factors,
)

logger = logging.getLogger(__name__)

__all__ = [
    "ACCESS_BOUNDS_KMH",
    "EDGE_MARGIN",
    "MAXSPEED_FACTORS",
    "CalibrationResult",
    "SpeedEvaluation",
    "apply_factors",
    "calibrate_speeds",
    "evaluate_speeds",
    "fit_maxspeed_factor",
    "split_references",
]

#: Largest factor change (absolute) at which the route-and-refit loop stops.
TOLERANCE = 1e-4
#: Classes left out of the fit unless named: their edge times do not come from speeds.
_NOT_SPEED_CLASSES = ("ferry",)
#: Maxspeed factors tried by :func:`fit_maxspeed_factor` by default (OSRM uses 0.8).
MAXSPEED_FACTORS = (0.75, 0.8, 0.85, 0.9, 0.95, 1.0)
#: A "nearest" reference is left out when a central place off the network is nearer
#: in straight line than this factor times the nearest one on the network.
EDGE_MARGIN = 1.0

# ------------------------------------------------------------------- routing


def _scaled(graph: RoadGraph, x: np.ndarray) -> RoadGraph:
    """``graph`` with the edge times of class ``c`` multiplied by ``x[c]``."""
    return dataclasses.replace(graph, time_s=graph.time_s * x[graph.road_class])


def _route(graph: RoadGraph, x: np.ndarray, xa: float, legs: _Legs, m: pd.DataFrame
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Route every leg with edge times ``time_s * x[class]`` and access legs
    ``access_s * xa``.

    Returns
    -------
    A : ndarray, shape (legs, classes)
        Seconds of each leg's path per class at the graph's (unscaled) times.
    access_s : ndarray, shape (legs,)
        Access seconds at the attached speed (unscaled): the origin's access leg
        plus the destination's (the nearest facility's for "nearest" legs).
    reached : ndarray of bool, shape (legs,)
    """
    n_cls = len(graph.class_names)
    k = legs.origin.size
    A = np.zeros((k, n_cls))
    access_s = legs.access_s.copy()
    dest = legs.dest.copy()
    reached = np.ones(k, dtype=bool)
    scaled = _scaled(graph, x)
    # "nearest" legs: the time-nearest facility under the current factors.
    for kind, cls in _FACILITY_CLASSES.items():
        sel = legs.kind == kind
        if not sel.any():
            continue
        fac = m[(m["node"] >= 0) & m["central_place"].isin(cls)]
        fnodes = fac["node"].to_numpy(np.int64)
        faccess = fac["access_s"].to_numpy(np.float64)
        nearest = nearest_facility(scaled, fnodes, faccess * xa, reverse=True).source
        src = nearest[legs.origin[sel]]
        ok = src >= 0
        idx = np.flatnonzero(sel)
        dest[idx[ok]] = fnodes[src[ok]]
        access_s[idx[ok]] += faccess[src[ok]]
        reached[idx[~ok]] = False
    tails = graph.sources
    for o in np.unique(legs.origin):
        sel = np.flatnonzero((legs.origin == o) & (dest >= 0))
        if sel.size == 0:
            continue
        dist, pred = shortest_path_tree(scaled, int(o))
        cur = dest[sel].copy()
        ok = np.isfinite(dist[cur])
        reached[sel[~ok]] = False
        row = sel[ok]
        cur = cur[ok]
        # Walk all paths of this origin back one edge at a time.
        while cur.size:
            e = pred[cur]
            on = e >= 0
            row, cur, e = row[on], cur[on], e[on]
            np.add.at(A, (row, graph.road_class[e]), graph.time_s[e])
            cur = tails[e].astype(np.int64)
    return A, access_s, reached


def _route_rows(graph: RoadGraph, x: np.ndarray, xa: float, legs: _Legs, rows: _Rows,
                m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_route` aggregated to the reference values: per row the class seconds,
    the access seconds and whether every leg was reached."""
    A, acc, reached = _route(graph, x, xa, legs, m)
    W = rows.W
    unreached = (abs(W) @ (~reached).astype(np.float64)) > 0
    return W @ A, W @ acc, ~unreached


def _table(rows: _Rows, before_s: np.ndarray, after_s: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "row": rows.rows, "key": rows.key.astype(str), "name": rows.name.astype(str),
        "destination": rows.destination.astype(str),
        "indicator": [_INDICATOR_OF.get(d, "") for d in rows.destination],
        "ref_min": rows.ref_min, "before_min": before_s / 60.0, "after_min": after_s / 60.0})


# ------------------------------------------------------------------- the fit


def calibrate_speeds(graph: RoadGraph, municipalities: pd.DataFrame, references: pd.DataFrame,
                     *, bounds: tuple[float, float] = defaults.CALIBRATION_BOUNDS,
                     iterations: int = defaults.CALIBRATION_ITERATIONS,
                     classes: list[str] | None = None, min_share: float = 0.01,
                     base_profile: SpeedProfile | None = None, fit_access: bool = False,
                     access_bounds_kmh: tuple[float, float] = ACCESS_BOUNDS_KMH,
                     access_speed_kmh: float | None = None,
                     edge_margin: float | None = EDGE_MARGIN) -> CalibrationResult:
    """Fit per-road-class speed factors (and the access-leg speed) to reference times.

    Parameters
    ----------
    graph : RoadGraph
        The car graph whose edge times the factors scale (factor 1 = as built).
    municipalities : DataFrame
        ``ags``, the network columns of :func:`accessibility.attach` and, for
        "nearest" rows and GVB means, ``central_place``
        (``Oberzentrum``/``Mittelzentrum``/...); for GVB means also ``gvb`` and
        ``area_km2``; ``lon``/``lat`` to check whether a central place beyond the
        network could be nearer.
    references : DataFrame
        From :func:`accessibility.io.read_reference_times`, either format: trips
        (``origin_ags``, ``destination``, ``minutes``) or GVB means (``gvb``,
        ``t_oz_min``, ``t_mz_min``, optional ``n_members``), told apart by the columns.
    bounds : (float, float)
        Lowest and highest allowed factor, ``0 < lo < hi``.
    iterations : int
        Largest number of route-and-refit rounds (>= 1).
    classes : list of str, optional
        Classes to fit (those on no reference path excepted); others keep factor 1.
        Default: every class with at least ``min_share`` of the reference paths'
        time, except ``ferry`` (timetable times, not speeds).
    min_share : float
        Smallest share of the total reference path time (at the graph's times) for
        a class to be fitted by default. A class the references hardly use is not
        determined by them: its factor would jump between the bounds as routes
        change and keep the iteration from converging.
    base_profile : SpeedProfile, optional
        The profile the graph was built with; the result then carries it with the
        fitted factors applied.
    fit_access : bool
        Also fit the speed of the access legs (reference point to its network node).
    access_bounds_kmh : (float, float)
        Lowest and highest access-leg speed the fit may choose.
    access_speed_kmh : float, optional
        The speed the municipalities' ``access_s`` were computed with (default: the
        municipalities' ``access_speed_kmh`` column of :func:`accessibility.attach`,
        else ``snap_m / access_s``).
    edge_margin : float or None
        Leave out a "nearest" value when a central place of the class that is off
        the network lies nearer in straight line than ``edge_margin`` times the
        nearest one on it (for a GVB: for any member): its time-nearest may lie
        beyond the extract. None: no check.

    Returns
    -------
    CalibrationResult

    Notes
    -----
    The model time of a trip is ``access(origin) + sum_c T_c / f_c +
    access(destination)``, where ``T_c`` are the seconds its shortest path spends
    on class ``c`` at the graph's times. A GVB mean is the area-weighted mean of its
    members' times to the nearest OZ (MZ), a member that is itself one counting 0
    (INKAR). With the routes fixed both are linear in ``x_c = 1 / f_c`` (a GVB row
    is the area-weighted sum of its members' rows), and so is the access time when
    it is fitted (``x_a = 1 / f_a``, the access seconds as one more column); they
    are fitted by bounded least squares (:func:`scipy.optimize.lsq_linear`,
    ``1/hi <= x_c <= 1/lo``). Routes and the time-nearest OZ/MZ depend on the
    factors, so the references are routed again with the new factors and the fit
    repeated until no factor changes by ``TOLERANCE`` or more, or ``iterations``
    rounds are done. When the rounds do not settle (routes flip between
    alternatives), the round with the lowest error after routing is kept. Rows
    that cannot be used (unknown AGS, not on the network, a GVB not wholly on the
    network, no route) are listed in ``skipped`` and logged.
    """
    result = _calibrate(graph, municipalities, references, bounds=bounds,
                        iterations=iterations, classes=classes, min_share=min_share,
                        base_profile=base_profile, fit_access=fit_access,
                        access_bounds_kmh=access_bounds_kmh,
                        access_speed_kmh=access_speed_kmh, edge_margin=edge_margin)
    _log_result(result)
    return result


def _log_result(result: CalibrationResult) -> None:
    outside, other = _split_skipped(result.skipped)
    if outside:
        logger.info("%d GVBs of the references lie wholly outside the network: skipped",
                    len(outside))
    for row, reason in other:
        logger.warning("reference row %d skipped: %s", row, reason)
    if not result.converged:
        logger.warning("speed calibration did not converge in %d iterations: routes still "
                       "change with the factors; the round with the lowest error is kept "
                       "(more iterations may help)", result.iterations)
    for line in result.lines():
        logger.info(line)


def _calibrate(graph: RoadGraph, municipalities: pd.DataFrame, references: pd.DataFrame, *,
               bounds, iterations, classes, min_share, base_profile, fit_access,
               access_bounds_kmh, access_speed_kmh, edge_margin) -> CalibrationResult:
    """:func:`calibrate_speeds` without the logging of the result."""
    lo, hi = (float(b) for b in bounds)
    if not (0 < lo < hi and np.isfinite(hi)):
        raise InputError(f"bounds must be two factors 0 < low < high, got {bounds!r}")
    if int(iterations) < 1:
        raise InputError(f"iterations must be >= 1, got {iterations!r}")
    alo, ahi = (float(b) for b in access_bounds_kmh)
    if fit_access and not (0 < alo < ahi and np.isfinite(ahi)):
        raise InputError(f"access_bounds_kmh must be two speeds 0 < low < high, got "
                         f"{access_bounds_kmh!r}")
    m = _check_municipalities(municipalities)
    fmt, legs, rows, skipped = _resolve(graph, m, references, edge_margin)
    names = list(graph.class_names)
    if classes is not None:
        unknown = [c for c in classes if c not in names]
        if unknown:
            raise InputError(f"classes {show(unknown)} are not road classes of the graph "
                             f"({show(names, 30)})")
    what = "GVB means" if fmt == "gvb" else "reference pairs"
    if rows.rows.size == 0:
        raise InputError(f"no usable {what}: all {len(skipped)} rows were skipped "
                         f"(first: {show([r for _, r in skipped[:3]])})")
    v0 = access_speed_kmh if access_speed_kmh is not None else _base_access_speed(municipalities)
    if fit_access and v0 is None:
        raise InputError("fitting the access speed needs the speed the access legs were "
                         "computed with: attach the municipalities with accessibility.attach "
                         "or pass access_speed_kmh")

    x = np.ones(len(names))
    xa = 1.0
    A, acc, reached = _route_rows(graph, x, xa, legs, rows, m)
    if not reached.all():
        for i in np.flatnonzero(~reached):
            skipped.append((int(rows.rows[i]), f"{rows.key[i]} to {rows.destination[i]}: no "
                                               "route on the network"))
        rows = rows.subset(reached)
        A, acc = A[reached], acc[reached]
        if rows.rows.size == 0:
            raise InputError(f"no usable {what}: no destination is reachable")
    skipped.sort()
    ref_s = rows.ref_min * 60.0
    before_s = A @ x + acc * xa
    before = _metrics(before_s / 60.0, rows.ref_min)
    total = A.sum(axis=0)
    share = {names[i]: float(total[i] / total.sum()) for i in np.flatnonzero(total > 0)} \
        if total.sum() > 0 else {}
    if classes is None:
        fit = [i for i in np.flatnonzero(total > 0)
               if names[i] not in _NOT_SPEED_CLASSES and share[names[i]] >= min_share]
        small = [names[i] for i in np.flatnonzero(total > 0)
                 if names[i] not in _NOT_SPEED_CLASSES and share[names[i]] < min_share]
        if small:
            logger.info("classes %s have less than %.1f%% of the reference path time: "
                        "factor kept at 1", ", ".join(small), 100 * min_share)
    else:
        fit = [names.index(c) for c in classes]
        absent = [c for c in classes if total[names.index(c)] == 0]
        if absent:
            logger.warning("classes %s are on no reference path: their factor stays 1",
                           show(absent))
    fit = np.array([i for i in fit if total[i] > 0], dtype=np.int64)
    if fit_access and not acc.sum() > 0:
        logger.warning("the references have no access legs (all 0 s): access speed not fitted")
        fit_access = False
    if fit.size == 0 and not fit_access:
        raise InputError("the reference paths use none of the classes to fit")
    logger.info("fitting %d classes (%s)%s to %d %s", fit.size,
                ", ".join(names[i] for i in fit), " and the access speed" if fit_access else "",
                rows.rows.size, what)

    fixed = np.setdiff1d(np.arange(len(names)), fit)
    lower = np.full(fit.size + fit_access, 1.0 / hi)
    upper = np.full(fit.size + fit_access, 1.0 / lo)
    if fit_access:
        lower[-1], upper[-1] = v0 / ahi, v0 / alo
    converged = False
    done = 0
    change = np.inf
    best = (before["rmse_min"], x, xa, A, acc)
    for done in range(1, int(iterations) + 1):
        D = A[:, fit]
        b = ref_s - A[:, fixed] @ x[fixed]
        if fit_access:
            D = np.column_stack([D, acc])
        else:
            b = b - acc * xa
        sol = lsq_linear(D, b, bounds=(lower, upper), method="bvls")
        v = np.clip(sol.x, lower, upper)
        x_new = x.copy()
        x_new[fit] = v[:fit.size]
        xa_new = float(v[-1]) if fit_access else xa
        change = float(max(np.max(np.abs(1.0 / x_new - 1.0 / x)), abs(1.0 / xa_new - 1.0 / xa)))
        x, xa = x_new, xa_new
        logger.debug("iteration %d: largest factor change %.2e, fitted RMSE %.3f min", done,
                     change, float(np.sqrt(np.mean((D @ v - b) ** 2))) / 60.0)
        A, acc, ok = _route_rows(graph, x, xa, legs, rows, m)
        if not ok.all():   # cannot happen on a graph whose times only scale; guard anyway
            raise InputError("a reference destination became unreachable after scaling")
        rmse = float(np.sqrt(np.mean((A @ x + acc * xa - ref_s) ** 2))) / 60.0
        if rmse < best[0] - 1e-12 or done == 1:
            best = (rmse, x, xa, A, acc)
        if change < TOLERANCE:
            converged = True
            break
    if not converged:
        _, x, xa, A, acc = best
    after_s = A @ x + acc * xa
    after = _metrics(after_s / 60.0, rows.ref_min)
    factors = {names[i]: float(1.0 / x[i]) for i in range(len(names))}
    profile = None
    if base_profile is not None:
        fp = graph.meta.get("profile_fingerprint")
        if fp is not None and fp != base_profile.fingerprint():
            logger.warning("the graph was built with profile %r, not %r: the factors are "
                           "relative to the graph's speeds", graph.meta.get("profile"),
                           base_profile.name)
        profile = base_profile.with_factors(
            {names[i]: base_profile.class_factors.get(names[i], 1.0) * factors[names[i]]
             for i in fit})
    f_access = float(1.0 / xa)
    if profile is not None and fit_access and v0 is not None:
        # the access speed is fitted together with the speeds: it travels with them
        profile = dataclasses.replace(profile, access_speed_kmh=float(v0 * f_access))
    return CalibrationResult(
        factors=factors, n_pairs=int(rows.rows.size), skipped=skipped, before=before,
        after=after, profile=profile, path_share=share,
        fitted_classes=[names[i] for i in fit], bounds=(lo, hi), iterations=done,
        converged=converged, format=fmt, fit_access=bool(fit_access),
        access_factor=f_access, base_access_speed_kmh=v0,
        access_speed_kmh=v0 * f_access if v0 is not None else None,
        table=_table(rows, before_s, after_s))


def evaluate_speeds(graph: RoadGraph, municipalities: pd.DataFrame, references: pd.DataFrame,
                    *, factors: dict[str, float] | None = None, access_factor: float = 1.0,
                    edge_margin: float | None = EDGE_MARGIN) -> pd.DataFrame:
    """Model times of the usable reference values with given factors (no fit).

    Parameters
    ----------
    graph, municipalities, references, edge_margin
        As for :func:`calibrate_speeds`.
    factors : dict, optional
        Speed factor per road class (default: the graph's times as they are).
    access_factor : float
        Multiplier of the access-leg speed.

    Returns
    -------
    SpeedEvaluation
        The model times of the reference values used (``table``) and the rows left
        out, with the reason (``skipped``).
    """
    if not (np.isfinite(access_factor) and access_factor > 0):
        raise InputError(f"access_factor must be a positive number, got {access_factor!r}")
    m = _check_municipalities(municipalities)
    _, legs, rows, skipped = _resolve(graph, m, references, edge_margin)
    x = 1.0 / _factor_vector(graph, factors or {})
    xa = 1.0 / float(access_factor)
    A, acc, reached = _route_rows(graph, x, xa, legs, rows, m)
    for i in np.flatnonzero(~reached):
        skipped.append((int(rows.rows[i]), f"{rows.key[i]} to {rows.destination[i]}: no route "
                                           "on the network"))
    rows = rows.subset(reached)
    t = A[reached] @ x + acc[reached] * xa
    out = _table(rows, t, t).drop(columns=["before_min", "after_min"]).assign(
        model_min=t / 60.0)
    return SpeedEvaluation(out, sorted(skipped))


# ------------------------------------------------------ maxspeed factor search


def fit_maxspeed_factor(build: Callable[[SpeedProfile], tuple[RoadGraph, pd.DataFrame]],
                        references: pd.DataFrame, base_profile: SpeedProfile, *,
                        maxspeed_factors: Sequence[float] = MAXSPEED_FACTORS,
                        **kwargs) -> CalibrationResult:
    """Fit the maxspeed factor by a 1-D search, the class factors inside.

    The graph does not record which edges took their speed from a ``maxspeed`` tag
    (``maxspeed_factor x maxspeed``) and which from their class, and simplification
    merges both kinds into one edge, so the maxspeed factor is not a linear column
    of the fit. For each factor tried the graph is built again with the profile's
    ``maxspeed_factor`` replaced, the class factors (and the access speed) are
    fitted by :func:`calibrate_speeds`, and the factor with the lowest RMSE over the
    reference values wins.

    Parameters
    ----------
    build : callable
        ``build(profile) -> (graph, municipalities)``: the graph built with
        ``profile`` and the municipalities attached to it (and joined to the central
        places). Called once per factor.
    references : DataFrame
        As for :func:`calibrate_speeds`.
    base_profile : SpeedProfile
        The profile whose ``maxspeed_factor`` is varied.
    maxspeed_factors : sequence of float
        The factors to try, each in (0, 2].
    **kwargs
        Passed to :func:`calibrate_speeds` (``fit_access``, ``bounds``, ...).

    Returns
    -------
    CalibrationResult
        The fit at the best factor: ``maxspeed_factor`` and ``maxspeed_search`` set,
        ``profile`` the base profile with that factor and the class factors; its
        ``before`` are the errors with the base profile as it is (its own maxspeed
        factor, no class factors).
    """
    mfs = sorted({float(v) for v in maxspeed_factors})
    if not mfs:
        raise InputError("maxspeed_factors is empty: give at least one factor")
    bad = [v for v in mfs if not (np.isfinite(v) and 0 < v <= 2)]
    if bad:
        raise InputError(f"maxspeed factors must be in (0, 2], got {show(bad)}")
    runs: list[tuple[float, CalibrationResult]] = []
    base_before = None
    for mf in mfs:
        prof = dataclasses.replace(base_profile, maxspeed_factor=mf)
        graph, munis = build(prof)
        res = _calibrate(graph, munis, references, base_profile=prof,
                         **_calibrate_kwargs(kwargs))
        logger.info("maxspeed_factor %g: RMSE %.3f min, MAE %.3f, bias %+.3f (%d values%s)",
                    mf, res.after["rmse_min"], res.after["mae_min"], res.after["bias_min"],
                    res.n_pairs, "" if res.converged else ", not converged")
        runs.append((mf, res))
        if np.isclose(mf, base_profile.maxspeed_factor):
            base_before = (res.before, res.table)
    used = [set(zip(r.table["row"], r.table["indicator"])) for _, r in runs]
    if any(u != used[0] for u in used[1:]):
        logger.warning("the maxspeed factors do not all use the same reference values (the "
                       "graphs differ in which places reach the network): their RMSE are "
                       "compared as they are")
    i_best = int(np.argmin([r.after["rmse_min"] for _, r in runs]))
    mf, best = runs[i_best]
    if base_before is None:
        graph, munis = build(base_profile)
        ev = evaluate_speeds(graph, munis, references,
                             edge_margin=kwargs.get("edge_margin", EDGE_MARGIN)).table
        base_before = (_metrics(ev["model_min"].to_numpy(), ev["ref_min"].to_numpy()),
                       ev.rename(columns={"model_min": "before_min"}))
    before, before_table = base_before
    table = best.table.drop(columns=["before_min"]).merge(
        before_table[["row", "indicator", "before_min"]], on=["row", "indicator"], how="left")
    best = dataclasses.replace(
        best, before=before, maxspeed_factor=mf, table=table[list(best.table.columns)],
        maxspeed_search=[{"maxspeed_factor": v, "n": r.n_pairs, **{k: r.after[k] for k in (
            "rmse_min", "mae_min", "bias_min")}, "converged": r.converged} for v, r in runs])
    if i_best in (0, len(runs) - 1) and len(runs) > 1:
        logger.warning("the best maxspeed factor %g is at the end of the range searched "
                       "(%g-%g): a wider range may fit better", mf, mfs[0], mfs[-1])
    _log_result(best)
    return best


def _calibrate_kwargs(kwargs: dict) -> dict:
    """The keyword arguments of :func:`_calibrate` from those of :func:`calibrate_speeds`."""
    allowed = {"bounds": defaults.CALIBRATION_BOUNDS,
               "iterations": defaults.CALIBRATION_ITERATIONS, "classes": None,
               "min_share": 0.01, "fit_access": False, "access_bounds_kmh": ACCESS_BOUNDS_KMH,
               "access_speed_kmh": None, "edge_margin": EDGE_MARGIN}
    unknown = set(kwargs) - set(allowed)
    if unknown:
        raise TypeError(f"unexpected arguments {sorted(unknown)}")
    return {**allowed, **kwargs}


def split_references(references: pd.DataFrame, seed: int = 0, share: float = 0.5
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a reference table in two at random (fixed ``seed``), for a hold-out check.

    Rows of the ``gvb`` format are whole GVBs; trips are split by origin, so that no
    origin is on both sides. Returns ``(fit, hold_out)``, both of the format of
    ``references`` (its columns); ``share`` of the groups go to ``fit``.
    """
    fmt = _reference_format(references)
    key = references["gvb"] if fmt == "gvb" else references["origin_ags"]
    groups = np.array(sorted(key.astype(str).unique()))
    rng = np.random.default_rng(seed)
    chosen = set(rng.permutation(groups)[:round(share * groups.size)])
    sel = key.astype(str).isin(chosen).to_numpy()
    return references[sel], references[~sel]
