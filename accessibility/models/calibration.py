"""Calibrate per-road-class speed factors against reference car travel times."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import lsq_linear

from .. import kernels
from .._errors import InputError
from ..graph.core import RoadGraph
from ..io import write_text
from ..io._tables import find_column, normalise_ags, show, to_number
from ..io.readers import _read_table
from ..profile import DEFAULT_PROFILE, SpeedProfile, load_profile

logger = logging.getLogger(__name__)

__all__ = [
    "NEAREST_MZ", "NEAREST_OZ", "CalibrationResult", "apply_factors", "calibrate_speeds",
    "read_reference_times", "run_calibration", "write_profile_toml",
]

#: Destination value meaning "the time-nearest Oberzentrum".
NEAREST_OZ = "nearest OZ"
#: Destination value meaning "the time-nearest Mittelzentrum (or Oberzentrum)".
NEAREST_MZ = "nearest MZ"
#: Central-place classes that count as a destination of each "nearest" kind.
_FACILITY_CLASSES = {
    NEAREST_OZ: ("Oberzentrum",),
    NEAREST_MZ: ("Oberzentrum", "Mittelzentrum"),
}
#: Largest factor change (absolute) at which the route-and-refit loop stops.
TOLERANCE = 1e-4
#: Classes left out of the fit unless named: their edge times do not come from speeds.
_NOT_SPEED_CLASSES = ("ferry",)

_ORIGIN_COLUMNS = ("origin_ags", "origin", "from_ags")
_DESTINATION_COLUMNS = ("destination", "destination_ags", "to_ags")
_MINUTES_COLUMNS = ("minutes", "time_min", "reference_min")
_NEAREST = re.compile(r"^nearest\s+(oz|mz)$", re.IGNORECASE)


# ---------------------------------------------------------------------- reading


def read_reference_times(path: str | Path) -> pd.DataFrame:
    """Read reference car travel times between municipalities.

    Parameters
    ----------
    path : str or Path
        CSV (``,``/``;``/tab separated, decimal point or comma) or Parquet table
        with the columns ``origin_ags`` (8-digit AGS), ``destination`` (an 8-digit
        AGS, or ``nearest OZ`` / ``nearest MZ``, any case) and ``minutes``
        (reference travel time, >= 0). Column names are matched case-insensitively;
        ``origin``, ``destination_ags`` and ``time_min`` are accepted as well.

    Returns
    -------
    pandas.DataFrame
        Columns ``origin_ags`` (str), ``destination`` (str: an AGS, ``"nearest OZ"``
        or ``"nearest MZ"``) and ``minutes`` (float), in file order; the index is
        ``0..n-1``, so row ``i`` is line ``i + 2`` of a CSV file.

    Raises
    ------
    InputError
        Missing file or column, empty or malformed AGS, destinations that are
        neither an AGS nor a "nearest" keyword, missing, non-numeric, negative or
        infinite minutes.
    """
    what = "reference travel-time table"
    p, df = _read_table(path, what)
    cols = {}
    for key, candidates in (("origin_ags", _ORIGIN_COLUMNS),
                            ("destination", _DESTINATION_COLUMNS),
                            ("minutes", _MINUTES_COLUMNS)):
        col = find_column(df.columns, candidates)
        if col is None:
            raise InputError(f"{what} {p} has no {key!r} column (also accepted: "
                             f"{', '.join(candidates[1:])}); columns found: "
                             f"{show(df.columns, 30)}. Expected columns origin_ags, "
                             "destination, minutes.")
        cols[key] = col
    df = df.reset_index(drop=True)
    origin = normalise_ags(df[cols["origin_ags"]], path=p, column=cols["origin_ags"])

    raw_dest = df[cols["destination"]]
    dest = raw_dest.astype("str").str.strip().where(raw_dest.notna(), "")
    m = dest.str.match(_NEAREST)
    keyword = dest.str.replace(r"\s+", " ", regex=True).str.lower().map(
        {"nearest oz": NEAREST_OZ, "nearest mz": NEAREST_MZ})
    dest_out = pd.Series(keyword.where(m), index=df.index, dtype="object")
    is_ags = ~m
    if is_ags.any():
        looks_like_key = dest[is_ags].str.replace(r"\.0+$", "", regex=True).str.fullmatch(r"\d+")
        bad = dest[is_ags][~looks_like_key]
        if len(bad):
            rows = [f"line {i + 2}: {v!r}" for i, v in bad.items()]
            raise InputError(f"{what} {p}: column {cols['destination']!r} must hold an "
                             f"8-digit AGS or 'nearest OZ' / 'nearest MZ'; found "
                             f"{show(rows)}.")
        dest_out[is_ags] = normalise_ags(dest[is_ags], path=p,
                                         column=cols["destination"]).to_numpy()

    minutes = to_number(df[cols["minutes"]], path=p, column=cols["minutes"])
    missing = minutes.isna()
    if missing.any():
        raise InputError(f"{what} {p}: column {cols['minutes']!r} is empty on lines "
                         f"{show(np.flatnonzero(missing.to_numpy()) + 2)}. Every row needs "
                         "a reference time in minutes.")
    bad = ~np.isfinite(minutes.to_numpy()) | (minutes.to_numpy() < 0)
    if bad.any():
        rows = [f"line {i + 2}: {v}" for i, v in minutes[bad].items()]
        raise InputError(f"{what} {p}: column {cols['minutes']!r} must be finite and >= 0 "
                         f"minutes; found {show(rows)}.")
    out = pd.DataFrame({"origin_ags": origin.astype("str").to_numpy(),
                        "destination": dest_out.astype("str").to_numpy(),
                        "minutes": minutes.astype("float64").to_numpy()})
    logger.info("read %d reference times from %s (%d to a nearest OZ/MZ)", len(out), p,
                int(m.sum()))
    return out


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
    bounds: tuple[float, float] = (0.5, 2.0)
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
    need = ["ags", "node", "access_s"]
    missing = [c for c in need if c not in municipalities.columns]
    if missing:
        raise InputError(f"the municipality table needs columns {need} (node: graph node, "
                         f"-1 when not on the network; access_s: access-leg seconds); "
                         f"missing {missing}")
    m = pd.DataFrame({"ags": municipalities["ags"].astype("str").to_numpy(),
                      "node": pd.to_numeric(municipalities["node"]).fillna(-1)
                      .to_numpy(np.int64),
                      "access_s": np.asarray(municipalities["access_s"], dtype=np.float64)})
    if "central_place" in municipalities.columns:
        m["central_place"] = municipalities["central_place"].astype("str").to_numpy()
    if m["ags"].duplicated().any():
        raise InputError(f"the municipality table has duplicated AGS "
                         f"{show(m.loc[m['ags'].duplicated(), 'ags'])}")
    on = m["node"] >= 0
    bad_access = on & ~(np.isfinite(m["access_s"]) & (m["access_s"] >= 0))
    if bad_access.any():
        raise InputError("access_s must be finite and >= 0 for municipalities on the network; "
                         f"bad for {show(m.loc[bad_access, 'ags'])}")
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
    # "nearest" rows: the time-nearest facility under the current factors.
    for kind, cls in _FACILITY_CLASSES.items():
        sel = pairs.kind == kind
        if not sel.any():
            continue
        fac = m[(m["node"] >= 0) & m["central_place"].isin(cls)]
        rg = graph.reversed
        w = rg.time_s * x[rg.road_class]
        fnodes = fac["node"].to_numpy(np.int64)
        faccess = fac["access_s"].to_numpy(np.float64)
        _, nearest = kernels.multi_source_dijkstra(rg.offsets, rg.targets, w, fnodes,
                                                   faccess, np.inf)
        src = nearest[pairs.origin[sel]]
        ok = src >= 0
        idx = np.flatnonzero(sel)
        dest[idx[ok]] = fnodes[src[ok]]
        const_s[idx[ok]] += faccess[src[ok]]
        reached[idx[~ok]] = False
    w = graph.time_s * x[graph.road_class]
    tails = graph.sources
    for o in np.unique(pairs.origin):
        sel = np.flatnonzero((pairs.origin == o) & (dest >= 0))
        if sel.size == 0:
            continue
        dist, pred = kernels.shortest_path_tree(graph.offsets, graph.targets, w, o, np.inf)
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
                     *, bounds: tuple[float, float] = (0.5, 2.0), iterations: int = 5,
                     classes: list[str] | None = None, min_share: float = 0.01,
                     base_profile: SpeedProfile | None = None) -> CalibrationResult:
    """Fit per-road-class speed factors to reference travel times.

    Parameters
    ----------
    graph : RoadGraph
        The car graph whose edge times the factors scale (factor 1 = as built).
    municipalities : DataFrame
        ``ags``, ``node`` (graph node, -1 when not on the network), ``access_s``
        (seconds of the access leg) and, for "nearest" rows, ``central_place``
        (``Oberzentrum``/``Mittelzentrum``/...).
    references : DataFrame
        From :func:`read_reference_times`: ``origin_ags``, ``destination``, ``minutes``.
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


# ---------------------------------------------------------------------- writing


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, np.integer, np.floating)):
        x = float(v)
        if x.is_integer() and abs(x) < 1e15:
            return str(int(x)) if isinstance(v, (int, np.integer)) else f"{x:.1f}"
        return repr(x)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple, set, frozenset)):
        items = sorted(v) if isinstance(v, (set, frozenset)) else list(v)
        return "[" + ", ".join(_toml_value(i) for i in items) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def write_profile_toml(profile: SpeedProfile, path: str | Path, *,
                       comment: list[str] | None = None) -> Path:
    """Write a speed profile as TOML that :func:`~accessibility.profile.load_profile` reads.

    Parameters
    ----------
    profile : SpeedProfile
    path : str or Path
        Output file (written atomically; ``.toml`` by convention).
    comment : list of str, optional
        Lines written as ``#`` comments at the top (e.g. the calibration report).

    Returns
    -------
    Path
    """
    out = [f"# {line}".rstrip() for line in (comment or [])]
    if out:
        out.append("")
    out += [f"name = {_toml_value(profile.name)}",
            f"description = {_toml_value(profile.description)}",
            f"maxspeed_factor = {_toml_value(float(profile.maxspeed_factor))}",
            f"ferry_speed_kmh = {_toml_value(float(profile.ferry_speed_kmh))}",
            f"blocked_access = {_toml_value(profile.blocked_access)}"]
    for table in ("speeds_kmh", "maxspeed_zones_kmh", "class_factors"):
        values = getattr(profile, table)
        out += ["", f"[{table}]"]
        out += [f"{_toml_key(str(k))} = {_toml_value(float(v))}" for k, v in values.items()]
    return write_text("\n".join(out) + "\n", path)


def run_calibration(graph: RoadGraph, municipalities: pd.DataFrame,
                    reference_path: str | Path, *,
                    base_profile: SpeedProfile | str | Path | None = None,
                    out_profile: str | Path | None = None,
                    bounds: tuple[float, float] = (0.5, 2.0),
                    iterations: int = 5) -> CalibrationResult:
    """Read reference times, calibrate the speed factors, optionally write the profile.

    Parameters
    ----------
    graph : RoadGraph
        Car graph built with ``base_profile``.
    municipalities : DataFrame
        ``ags``, ``node``, ``access_s``, ``central_place`` (see :func:`calibrate_speeds`).
    reference_path : str or Path
        Reference travel times (see :func:`read_reference_times`).
    base_profile : SpeedProfile, str or Path, optional
        The profile the graph was built with (object, TOML file or built-in name).
        Default: the graph's profile when it is the built-in default.
    out_profile : str or Path, optional
        Where to write the calibrated profile as TOML.
    bounds : (float, float)
        Lowest and highest allowed factor.
    iterations : int
        Largest number of route-and-refit rounds.

    Returns
    -------
    CalibrationResult
    """
    if base_profile is not None and not isinstance(base_profile, SpeedProfile):
        base_profile = load_profile(base_profile)
    if base_profile is None:
        built = graph.meta.get("profile_fingerprint")
        if built is None or built == DEFAULT_PROFILE.fingerprint():
            base_profile = DEFAULT_PROFILE
        elif out_profile is not None:
            raise InputError(f"the graph was built with speed profile "
                             f"{graph.meta.get('profile')!r}: give it as base_profile so that "
                             "the calibrated profile can be written")
    refs = read_reference_times(reference_path)
    result = calibrate_speeds(graph, municipalities, refs, bounds=bounds,
                              iterations=iterations, base_profile=base_profile)
    if out_profile is not None:
        write_profile_toml(result.profile, out_profile, comment=[
            f"Calibrated from {Path(reference_path).name} by accessibility "
            "(speed calibration).", *result.lines()])
        logger.info("wrote calibrated speed profile to %s", out_profile)
    return result
