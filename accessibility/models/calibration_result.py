"""Speed factors on a graph and the result of a speed calibration."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import defaults
from .._errors import InputError
from .._util import show
from ..graph import RoadGraph
from ..profile import SpeedProfile
from .accuracy import time_metrics
from .calibration_references import _OUTSIDE

__all__ = ["CalibrationResult", "SpeedEvaluation", "apply_factors"]

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


# ------------------------------------------------------------------- the result


@dataclass
class SpeedEvaluation:
    """Model times of the usable reference values (:func:`~accessibility.models.
    calibration.evaluate_speeds`), and the reference rows left out.

    Attributes
    ----------
    table : DataFrame
        ``row``, ``key``, ``name``, ``destination``, ``indicator``, ``ref_min`` and
        ``model_min`` per reference value used (trip, or GVB and indicator), in the
        order of the reference table.
    skipped : list of (int, str)
        Reference rows (or one indicator of a row) left out, sorted: row index of the
        reference table, reason.
    """

    table: pd.DataFrame
    skipped: list[tuple[int, str]]


@dataclass
class CalibrationResult:
    """Fitted speed factors and the fit before and after.

    Attributes
    ----------
    factors : dict
        Speed factor per road class relative to the graph's edge times (1 for
        classes without reference paths or left out of the fit).
    n_pairs : int
        Reference values used: trips (``pairs`` format) or GVB means, one per GVB
        and indicator (``gvb`` format).
    skipped : list of (int, str)
        Reference rows (or one indicator of a row) left out: row index of the
        reference table, reason.
    before, after : dict
        Errors of the model times against the reference times (minutes) with the
        starting and the fitted factors: ``mae_min``, ``bias_min`` (mean of model
        minus reference), ``rmse_min``, ``corr`` (Pearson), ``n``.
    profile : SpeedProfile or None
        The base profile with the factors applied (composed with its own
        ``class_factors``; with the fitted ``maxspeed_factor`` after a search),
        when a base profile was given.
    path_share : dict
        Share of each class in the time of all reference paths (at the graph's
        times; GVB means weigh their members' paths by area), for the classes that
        occur.
    fitted_classes : list of str
        Classes whose factor was fitted.
    bounds : tuple of float
        Bounds of the factors.
    iterations : int
        Route-and-refit rounds done.
    converged : bool
        Whether the factors changed by less than ``TOLERANCE`` in the last round.
    format : {"pairs", "gvb"}
        The kind of reference.
    fit_access : bool
        Whether the speed of the access legs was fitted.
    access_factor : float
        Multiplier of the access-leg speed (1 when not fitted).
    base_access_speed_kmh : float or None
        The speed the municipalities' access legs were computed with.
    access_speed_kmh : float or None
        ``base_access_speed_kmh * access_factor``: the fitted access-leg speed, the
        value for ``[graph] access_speed_kmh`` with the calibrated profile.
    maxspeed_factor : float or None
        The maxspeed factor chosen by :func:`fit_maxspeed_factor` (None: not searched).
    maxspeed_search : list of dict
        One entry per maxspeed factor tried: ``maxspeed_factor``, ``n``,
        ``rmse_min``, ``mae_min``, ``bias_min``, ``converged``.
    table : DataFrame or None
        The reference values used: ``row``, ``key`` (origin AGS or GVB), ``name``,
        ``destination``, ``indicator`` (``t_oz_min``/``t_mz_min`` for nearest
        OZ/MZ, else empty), ``ref_min``, ``before_min``, ``after_min``.
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
    format: str = "pairs"
    fit_access: bool = False
    access_factor: float = 1.0
    base_access_speed_kmh: float | None = None
    access_speed_kmh: float | None = None
    maxspeed_factor: float | None = None
    maxspeed_search: list[dict] = field(default_factory=list)
    table: pd.DataFrame | None = None

    def by_indicator(self) -> pd.DataFrame:
        """Errors before and after per indicator (nearest OZ / nearest MZ / trips):
        ``indicator``, ``speeds`` (before/after) and the columns of
        :func:`accessibility.models.accuracy.time_metrics`."""
        rows = []
        if self.table is None or self.table.empty:
            return pd.DataFrame(rows)
        for ind, grp in self.table.groupby(self.table["indicator"].replace("", "trips"),
                                           sort=False):
            kind = {"t_oz_min": "oz", "t_mz_min": "mz"}.get(ind)
            for speeds, col in (("before", "before_min"), ("after", "after_min")):
                rows.append({"indicator": ind, "speeds": speeds,
                             **time_metrics(grp[col].to_numpy(), grp["ref_min"].to_numpy(),
                                            kind)})
        return pd.DataFrame(rows)

    def lines(self) -> list[str]:
        """The result as human-readable lines: factors per class and the errors."""
        lo, hi = self.bounds
        what = "GVB means" if self.format == "gvb" else "reference pairs"
        out = [f"speed calibration: {self.n_pairs} {what}, {len(self.skipped)} "
               f"skipped, {self.iterations} iteration(s), "
               f"{'converged' if self.converged else 'NOT converged'}; bounds {lo:g}-{hi:g}",
               f"  {'class':<16}{'factor':>8}{'path share':>12}"]
        for c in self.fitted_classes:
            f = self.factors[c]
            flag = "  (at bound)" if np.isclose(f, lo) or np.isclose(f, hi) else ""
            out.append(f"  {c:<16}{f:>8.3f}{100 * self.path_share.get(c, 0.0):>11.1f}%{flag}")
        if self.fit_access:
            speed = (f": {self.access_speed_kmh:.1f} km/h (attached at "
                     f"{self.base_access_speed_kmh:g} km/h)"
                     if self.access_speed_kmh is not None else "")
            out.append(f"  {'access legs':<16}{self.access_factor:>8.3f}{speed}")
        if self.maxspeed_factor is not None:
            out.append(f"  maxspeed factor {self.maxspeed_factor:g} (lowest RMSE of "
                       f"{len(self.maxspeed_search)} tried)")
            for s in self.maxspeed_search:
                out.append(f"    maxspeed_factor {s['maxspeed_factor']:<6g} RMSE "
                           f"{s['rmse_min']:6.2f} min, MAE {s['mae_min']:6.2f}, bias "
                           f"{s['bias_min']:+6.2f}{'' if s['converged'] else ', NOT converged'}")
        out.append(f"  {'error (min)':<16}{'MAE':>8}{'bias':>8}{'RMSE':>8}{'corr':>8}")
        for name, m in (("before", self.before), ("after", self.after)):
            out.append(f"  {name:<16}{m['mae_min']:>8.2f}{m['bias_min']:>+8.2f}"
                       f"{m['rmse_min']:>8.2f}{m['corr']:>8.3f}")
        by = self.by_indicator()
        if len(by) and by["indicator"].nunique() > 1:
            for _, r in by.iterrows():
                out.append(f"  {r['indicator'] + ' ' + r['speeds']:<16}{r['mae_min']:>8.2f}"
                           f"{r['bias_min']:>+8.2f}{r['rmse_min']:>8.2f}{r['corr']:>8.3f}"
                           f"  (n={r['n']})")
        if self.profile is not None:
            out.append(f"  calibrated profile: {self.profile.name}")
        if self.fit_access and self.access_speed_kmh is not None:
            out.append(f"  the calibrated profile carries access_speed_kmh = "
                       f"{self.access_speed_kmh:.1f} (used unless the config sets "
                       "[graph] access_speed_kmh)")
        outside, other = _split_skipped(self.skipped)
        if outside:
            out.append(f"  skipped {len(outside):,} GVBs none of whose members is on the network "
                       "(outside the extract)")
        for row, reason in other[:20]:
            out.append(f"  skipped row {row}: {reason}")
        if len(other) > 20:
            out.append(f"  ... and {len(other) - 20} more skipped rows")
        return out


def _split_skipped(skipped: list[tuple[int, str]]
                   ) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The skipped GVBs wholly outside the network, and the other skipped rows."""
    outside = [s for s in skipped if s[1].endswith(_OUTSIDE)]
    return outside, [s for s in skipped if not s[1].endswith(_OUTSIDE)]


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
