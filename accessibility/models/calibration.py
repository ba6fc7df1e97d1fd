"""Calibrate per-road-class speed factors against reference car travel times."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import lsq_linear

from .. import defaults
from .._errors import InputError
from .._util import show
from ..graph import RoadGraph, network_arrays
from ..profile import SpeedProfile
from ..routing import nearest_facility, shortest_path_tree
from ..vocabulary import DESTINATIONS, NEAREST_MZ, NEAREST_OZ

logger = logging.getLogger(__name__)

__all__ = ["CalibrationResult", "apply_factors", "calibrate_speeds"]

#: Central-place classes that count as a destination of each "nearest" kind.
_FACILITY_CLASSES = {NEAREST_OZ: DESTINATIONS["oz"], NEAREST_MZ: DESTINATIONS["mz"]}
#: Largest factor change (absolute) at which the route-and-refit loop stops.
TOLERANCE = 1e-4
#: Classes left out of the fit unless named: their edge times do not come from speeds.
_NOT_SPEED_CLASSES = ("ferry",)

# ----------------------------------------------------------------------- graph


def _factor_vector(graph: RoadGraph, factors: dict[str, float]) -> np.ndarray:
    """Per-class factor array (1 for classes not named), checked."""
    f = np.ones(len(graph.class_names))
    index = {c: i for i, c in enumerate(graph.class_names)}
    unknown = [c for c in factors if c not in index]
    if unknown:
        raise InputError(f"speed factors for unknown road classes {show(unknown)}; the graph "
                         f"has {show(graph.class_names, 30)}")
    for c, v in factors.items():
        v = float(v)
        if not (np.isfinite(v) and v > 0):
            raise InputError(f"speed factor of {c!r} must be a positive number, got {v!r}")
        f[index[c]] = v
    return f


def apply_factors(graph: RoadGraph, factors: dict[str, float]) -> RoadGraph:
    """A copy of ``graph`` with the edge times of each class divided by its factor.

    Parameters
    ----------
    graph : RoadGraph
    factors : dict
        Speed multiplier per road class (``> 0``); classes not named keep their times.
        A factor of 1.25 makes the class 25 % faster (times divided by 1.25).

    Returns
    -------
    RoadGraph
        New graph; ``meta["class_factors"]`` records the factors applied (composed
        with any applied before).
    """
    f = _factor_vector(graph, factors)
    time_s = graph.time_s / f[graph.road_class]
    prev = dict(graph.meta.get("class_factors", {}))
    applied = {c: prev.get(c, 1.0) * float(v) for c, v in factors.items()}
    return dataclasses.replace(graph, time_s=time_s,
                               meta={**graph.meta, "class_factors": {**prev, **applied}})


# ------------------------------------------------------------------- the model


@dataclass
class CalibrationResult:
    """Fitted speed factors and the fit before and after.

    Attributes
    ----------
    factors : dict
        Speed factor per road class relative to the graph's edge times (1 for
        classes without reference paths or left out of the fit).
    n_pairs : int
        Reference pairs used.
    skipped : list of (int, str)
        Reference rows left out (row index of the reference table, reason).
    before, after : dict
        Errors of the model times against the reference times (minutes) with the
        starting and the fitted factors: ``mae_min``, ``bias_min`` (mean of model
        minus reference), ``rmse_min``, ``corr`` (Pearson), ``n``.
    profile : SpeedProfile or None
        The base profile with the factors applied (composed with its own
        ``class_factors``), when a base profile was given.
    path_share : dict
        Share of each class in the time of all reference paths (at the graph's
        times), for the classes that occur.
    fitted_classes : list of str
        Classes whose factor was fitted.
    bounds : tuple of float
        Bounds of the factors.
    iterations : int
        Route-and-refit rounds done.
    converged : bool
        Whether the factors changed by less than ``TOLERANCE`` in the last round.
    """

    factors: dict[str, float]
    n_pairs: int
    skipped: list[tuple[int, str]]
    before: dict[str, float]
    after: dict[str, float]
    profile: SpeedProfile | None = None
    path_share: dict[str, float] = field(default_factory=dict)
    fitted_classes: list[str] = field(default_factory=list)
    bounds: tuple[float, float] = defaults.CALIBRATION_BOUNDS
    iterations: int = 0
    converged: bool = False

    def lines(self) -> list[str]:
        """The result as human-readable lines: factors per class and the errors."""
        lo, hi = self.bounds
        out = [f"speed calibration: {self.n_pairs} reference pairs, {len(self.skipped)} "
               f"skipped, {self.iterations} iteration(s), "
               f"{'converged' if self.converged else 'NOT converged'}; bounds {lo:g}-{hi:g}",
               f"  {'class':<16}{'factor':>8}{'path share':>12}"]
        for c in self.fitted_classes:
            f = self.factors[c]
            flag = "  (at bound)" if np.isclose(f, lo) or np.isclose(f, hi) else ""
            out.append(f"  {c:<16}{f:>8.3f}{100 * self.path_share.get(c, 0.0):>11.1f}%{flag}")
        out.append(f"  {'error (min)':<16}{'MAE':>8}{'bias':>8}{'RMSE':>8}{'corr':>8}")
        for name, m in (("before", self.before), ("after", self.after)):
            out.append(f"  {name:<16}{m['mae_min']:>8.2f}{m['bias_min']:>+8.2f}"
                       f"{m['rmse_min']:>8.2f}{m['corr']:>8.3f}")
        if self.profile is not None:
            out.append(f"  calibrated profile: {self.profile.name}")
        for row, reason in self.skipped[:20]:
            out.append(f"  skipped row {row}: {reason}")
        if len(self.skipped) > 20:
            out.append(f"  ... and {len(self.skipped) - 20} more skipped rows")
        return out


def _metrics(model_min: np.ndarray, ref_min: np.ndarray) -> dict[str, float]:
    """MAE, bias, RMSE and Pearson correlation of model against reference (minutes)."""
    err = model_min - ref_min
    n = int(err.size)
    if n == 0:
        return {"mae_min": np.nan, "bias_min": np.nan, "rmse_min": np.nan, "corr": np.nan,
                "n": 0}
    corr = np.nan
    if n > 1 and np.std(model_min) > 0 and np.std(ref_min) > 0:
        corr = float(np.corrcoef(model_min, ref_min)[0, 1])
    return {"mae_min": float(np.mean(np.abs(err))), "bias_min": float(np.mean(err)),
            "rmse_min": float(np.sqrt(np.mean(err ** 2))), "corr": corr, "n": n}


def _check_municipalities(municipalities: pd.DataFrame) -> pd.DataFrame:
    net = network_arrays(municipalities, what="municipalities")
    m = pd.DataFrame({"ags": municipalities["ags"].astype("str").to_numpy(),
                      "node": net.node, "access_s": net.access_s})
    if "central_place" in municipalities.columns:
        m["central_place"] = municipalities["central_place"].astype("str").to_numpy()
    if m["ags"].duplicated().any():
        raise InputError(f"the municipality table has duplicated AGS "
                         f"{show(m.loc[m['ags'].duplicated(), 'ags'])}")
    return m.set_index("ags", drop=False)


@dataclass
class _Pairs:
    """The usable reference pairs in array form."""

    rows: np.ndarray          # row labels of the reference table
    origin: np.ndarray        # origin node
    const_s: np.ndarray       # fixed seconds: both access legs (explicit destinations)
    dest: np.ndarray          # destination node, -1 for "nearest" rows
    kind: np.ndarray          # "" or NEAREST_OZ / NEAREST_MZ
    ref_min: np.ndarray


def _resolve_pairs(m: pd.DataFrame, references: pd.DataFrame, n_nodes: int
                   ) -> tuple[_Pairs, list[tuple[int, str]]]:
    """Match reference rows to graph nodes; list the rows that cannot be used."""
    for c in ("origin_ags", "destination", "minutes"):
        if c not in references.columns:
            raise InputError(f"the reference table needs columns origin_ags, destination, "
                             f"minutes (read it with read_reference_times); missing {c!r}")
    skipped: list[tuple[int, str]] = []
    keep = []
    node = m["node"].to_dict()
    access = m["access_s"].to_dict()
    cp = m["central_place"].to_dict() if "central_place" in m.columns else None
    if node and max(node.values()) >= n_nodes:
        raise InputError(f"the municipality table has node indices beyond the graph's "
                         f"{n_nodes} nodes: was it snapped to another graph?")
    has_fac = {k: cp is not None and any(node[a] >= 0 and cp[a] in cls for a in cp)
               for k, cls in _FACILITY_CLASSES.items()}
    for row, o, d, t in zip(references.index, references["origin_ags"].astype("str"),
                            references["destination"].astype("str"), references["minutes"]):
        reason = None
        if o not in node:
            reason = f"origin {o} is not in the municipality table"
        elif node[o] < 0:
            reason = f"origin {o} is not on the network (not snapped)"
        elif not (np.isfinite(t) and t >= 0):
            reason = f"reference time {t!r} is not a number >= 0"
        elif d in _FACILITY_CLASSES:
            cls = _FACILITY_CLASSES[d]
            if cp is None:
                reason = f"{d}: the municipality table has no central_place column"
            elif cp[o] in cls:
                reason = f"origin {o} is itself a {cp[o]}: 0 minutes by definition"
            elif not has_fac[d]:
                reason = f"{d}: no {'/'.join(cls)} is on the network"
        elif d not in node:
            reason = f"destination {d} is not in the municipality table"
        elif node[d] < 0:
            reason = f"destination {d} is not on the network (not snapped)"
        elif d == o:
            reason = f"origin and destination are the same municipality {o}"
        if reason is None:
            keep.append((row, o, d, t))
        else:
            skipped.append((row, reason))
    rows = np.array([k[0] for k in keep], dtype=np.int64)
    origin = np.array([node[k[1]] for k in keep], dtype=np.int64)
    kind = np.array([k[2] if k[2] in _FACILITY_CLASSES else "" for k in keep], dtype=object)
    dest = np.array([-1 if k[2] in _FACILITY_CLASSES else node[k[2]] for k in keep],
                    dtype=np.int64)
    const_s = np.array([access[k[1]] + (0.0 if k[2] in _FACILITY_CLASSES else access[k[2]])
                        for k in keep], dtype=np.float64)
    ref = np.array([float(k[3]) for k in keep], dtype=np.float64)
    return _Pairs(rows, origin, const_s, dest, kind, ref), skipped


def _scaled(graph: RoadGraph, x: np.ndarray) -> RoadGraph:
    """``graph`` with the edge times of class ``c`` multiplied by ``x[c]``."""
    return dataclasses.replace(graph, time_s=graph.time_s * x[graph.road_class])


def _route(graph: RoadGraph, x: np.ndarray, pairs: _Pairs, m: pd.DataFrame
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Route every pair with edge times ``time_s * x[class]``.

    Returns
    -------
    A : ndarray, shape (pairs, classes)
        Seconds of each pair's path per class at the graph's (unscaled) times.
    const_s : ndarray, shape (pairs,)
        Fixed seconds: the origin's access leg plus the destination's (the nearest
        facility's for "nearest" rows).
    reached : ndarray of bool, shape (pairs,)
    """
    n_cls = len(graph.class_names)
    k = pairs.rows.size
    A = np.zeros((k, n_cls))
    const_s = pairs.const_s.copy()
    dest = pairs.dest.copy()
    reached = np.ones(k, dtype=bool)
    scaled = _scaled(graph, x)
    # "nearest" rows: the time-nearest facility under the current factors.
    for kind, cls in _FACILITY_CLASSES.items():
        sel = pairs.kind == kind
        if not sel.any():
            continue
        fac = m[(m["node"] >= 0) & m["central_place"].isin(cls)]
        fnodes = fac["node"].to_numpy(np.int64)
        faccess = fac["access_s"].to_numpy(np.float64)
        nearest = nearest_facility(scaled, fnodes, faccess, reverse=True).source
        src = nearest[pairs.origin[sel]]
        ok = src >= 0
        idx = np.flatnonzero(sel)
        dest[idx[ok]] = fnodes[src[ok]]
        const_s[idx[ok]] += faccess[src[ok]]
        reached[idx[~ok]] = False
    tails = graph.sources
    for o in np.unique(pairs.origin):
        sel = np.flatnonzero((pairs.origin == o) & (dest >= 0))
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
    return A, const_s, reached


def calibrate_speeds(graph: RoadGraph, municipalities: pd.DataFrame, references: pd.DataFrame,
                     *, bounds: tuple[float, float] = defaults.CALIBRATION_BOUNDS,
                     iterations: int = defaults.CALIBRATION_ITERATIONS,
                     classes: list[str] | None = None, min_share: float = 0.01,
                     base_profile: SpeedProfile | None = None) -> CalibrationResult:
    """Fit per-road-class speed factors to reference travel times.

    Parameters
    ----------
    graph : RoadGraph
        The car graph whose edge times the factors scale (factor 1 = as built).
    municipalities : DataFrame
        ``ags``, the network columns of :func:`accessibility.attach` and, for
        "nearest" rows, ``central_place``
        (``Oberzentrum``/``Mittelzentrum``/...).
    references : DataFrame
        From :func:`accessibility.io.read_reference_times`: ``origin_ags``,
        ``destination``, ``minutes``.
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

    Returns
    -------
    CalibrationResult

    Notes
    -----
    The model time of a pair is ``access(origin) + sum_c T_c / f_c +
    access(destination)``, where ``T_c`` are the seconds its shortest path spends
    on class ``c`` at the graph's times. With the routes fixed this is linear in
    ``x_c = 1 / f_c``, which is fitted by bounded least squares
    (:func:`scipy.optimize.lsq_linear`, ``1/hi <= x_c <= 1/lo``; the access legs
    stay fixed). Routes and the time-nearest OZ/MZ depend on the factors, so the
    pairs are routed again with the new factors and the fit repeated until no
    factor changes by ``TOLERANCE`` or more, or ``iterations`` rounds are done.
    Rows that cannot be used (unknown AGS, not on the network, no route) are
    listed in ``skipped`` and logged.
    """
    lo, hi = (float(b) for b in bounds)
    if not (0 < lo < hi and np.isfinite(hi)):
        raise InputError(f"bounds must be two factors 0 < low < high, got {bounds!r}")
    if int(iterations) < 1:
        raise InputError(f"iterations must be >= 1, got {iterations!r}")
    m = _check_municipalities(municipalities)
    pairs, skipped = _resolve_pairs(m, references, graph.n_nodes)
    names = list(graph.class_names)
    if classes is not None:
        unknown = [c for c in classes if c not in names]
        if unknown:
            raise InputError(f"classes {show(unknown)} are not road classes of the graph "
                             f"({show(names, 30)})")
    if pairs.rows.size == 0:
        raise InputError(f"no usable reference pairs: all {len(skipped)} rows were skipped "
                         f"(first: {show([r for _, r in skipped[:3]])})")

    x = np.ones(len(names))
    A, const_s, reached = _route(graph, x, pairs, m)
    if not reached.all():
        for i in np.flatnonzero(~reached):
            skipped.append((int(pairs.rows[i]), "no route on the network from origin to "
                                                "destination"))
        keep = reached
        pairs = _Pairs(pairs.rows[keep], pairs.origin[keep], pairs.const_s[keep],
                       pairs.dest[keep], pairs.kind[keep], pairs.ref_min[keep])
        A, const_s = A[keep], const_s[keep]
        if pairs.rows.size == 0:
            raise InputError("no usable reference pairs: no destination is reachable")
    skipped.sort()
    for row, reason in skipped:
        logger.warning("reference row %d skipped: %s", row, reason)
    ref_s = pairs.ref_min * 60.0
    before = _metrics((const_s + A @ x) / 60.0, pairs.ref_min)
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
    if fit.size == 0:
        raise InputError("the reference paths use none of the classes to fit")
    logger.info("fitting %d classes (%s) to %d reference pairs", fit.size,
                ", ".join(names[i] for i in fit), pairs.rows.size)

    converged = False
    done = 0
    for done in range(1, int(iterations) + 1):
        fixed = np.setdiff1d(np.arange(len(names)), fit)
        b = ref_s - const_s - A[:, fixed] @ x[fixed]
        sol = lsq_linear(A[:, fit], b, bounds=(1.0 / hi, 1.0 / lo), method="bvls")
        x_new = x.copy()
        x_new[fit] = np.clip(sol.x, 1.0 / hi, 1.0 / lo)
        change = float(np.max(np.abs(1.0 / x_new - 1.0 / x)))
        x = x_new
        logger.info("iteration %d: largest factor change %.2e, fitted RMSE %.3f min", done,
                    change, float(np.sqrt(np.mean((A[:, fit] @ x[fit] - b) ** 2))) / 60.0)
        A, const_s, _ = _route(graph, x, pairs, m)
        if change < TOLERANCE:
            converged = True
            break
    if not converged:
        logger.warning("speed calibration did not converge in %d iterations (last factor "
                       "change %.1e >= %.0e): routes still change with the factors; "
                       "consider more iterations", done, change, TOLERANCE)
    after = _metrics((const_s + A @ x) / 60.0, pairs.ref_min)
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
    result = CalibrationResult(
        factors=factors, n_pairs=int(pairs.rows.size), skipped=skipped, before=before,
        after=after, profile=profile, path_share=share,
        fitted_classes=[names[i] for i in fit], bounds=(lo, hi), iterations=done,
        converged=converged)
    for line in result.lines():
        logger.info(line)
    return result
