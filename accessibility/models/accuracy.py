"""Accuracy against official figures: model car times per Gemeindeverband against
the published INKAR values (``../shared/data/reference``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .._errors import InputError
from ..vocabulary import TIME_CLASSES

__all__ = ["INDICATOR_KIND", "bbsr_class", "compare_gvb_times", "time_metrics"]

#: The BBSR class scheme ("oz"/"mz") of each car-time indicator.
INDICATOR_KIND = {"t_oz_min": "oz", "t_mz_min": "mz"}


def bbsr_class(minutes: np.ndarray, kind: str) -> np.ndarray:
    """BBSR class of car times as an integer code, for comparing classes.

    Parameters
    ----------
    minutes : array_like
        Car times (minutes); for GVB means, the mean.
    kind : {"oz", "mz"}
        Class scheme: MZ 0 / < 7.5 / 7.5-15 / >= 15 min; OZ 0 / < 15 / 15-30 /
        30-60 / >= 60 min.

    Returns
    -------
    ndarray of int
        0 for exactly 0 minutes (the place is itself a central place of the class,
        or every member of a GVB is), then 1, 2, ... in report order; -1 for NaN.
    """
    t = np.asarray(minutes, dtype=np.float64)
    if kind not in TIME_CLASSES:
        raise InputError(f"kind must be one of {sorted(TIME_CLASSES)}, got {kind!r}")
    bounds = np.array([hi for hi, _ in TIME_CLASSES[kind]][:-1])
    code = 1 + np.searchsorted(bounds, t, side="right")
    code = np.where(t == 0, 0, code)
    return np.where(np.isnan(t), -1, code).astype(np.int64)


def time_metrics(model_min: np.ndarray, ref_min: np.ndarray, kind: str | None = None
                 ) -> dict[str, float]:
    """Errors of model against reference car times (minutes).

    Parameters
    ----------
    model_min, ref_min : array_like
        Matching model and reference times; pairs with a NaN on either side are
        left out.
    kind : {"oz", "mz"}, optional
        BBSR class scheme for ``class_agreement``; NaN without it.

    Returns
    -------
    dict
        ``n``, ``mae_min``, ``bias_min`` (mean of model minus reference),
        ``rmse_min``, ``corr`` (Pearson; NaN for fewer than 3 values or no spread),
        ``class_agreement`` (share of values whose BBSR class matches).
    """
    x = np.asarray(model_min, dtype=np.float64)
    y = np.asarray(ref_min, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    out = {"n": n, "mae_min": np.nan, "bias_min": np.nan, "rmse_min": np.nan, "corr": np.nan,
           "class_agreement": np.nan}
    if n == 0:
        return out
    err = x - y
    out.update(mae_min=float(np.mean(np.abs(err))), bias_min=float(np.mean(err)),
               rmse_min=float(np.sqrt(np.mean(err ** 2))))
    if n > 2 and np.std(x) > 0 and np.std(y) > 0:
        out["corr"] = float(np.corrcoef(x, y)[0, 1])
    if kind is not None:
        out["class_agreement"] = float(np.mean(bbsr_class(x, kind) == bbsr_class(y, kind)))
    return out


def compare_gvb_times(gvb_times: pd.DataFrame, reference: pd.DataFrame, *,
                      weighting: str = "area",
                      gvbs: Iterable[str] | Mapping[str, Iterable[str]] | None = None
                      ) -> pd.DataFrame:
    """Model against reference car times per Gemeindeverband.

    Parameters
    ----------
    gvb_times : DataFrame
        Per GVB from :func:`~accessibility.models.central_places.weighted_means`
        (``gvb``, ``n_municipalities``, ``t_oz_min_area_w``, ``t_oz_min_n_missing``,
        ... for ``t_oz_min`` and ``t_mz_min``).
    reference : DataFrame
        ``gvb_ars9`` or ``gvb`` (9-digit key), ``n_members``, ``t_oz_min``,
        ``t_mz_min`` (INKAR: area-weighted means over the GVB), e.g. the file read
        with pandas or with :func:`accessibility.io.read_reference_times`.
    weighting : {"area", "pop"}
        Which model mean to compare (INKAR publishes area-weighted means).
    gvbs : iterable of str, or dict of indicator to iterable of str, optional
        Compare only these GVBs (e.g. those a speed calibration used), per indicator
        when a dict (``{"t_oz_min": [...], "t_mz_min": [...]}``).

    Returns
    -------
    DataFrame
        One row per indicator: ``n_gvb`` compared (only GVBs whose every member is
        in the run and has a value, and that are among ``gvbs``), ``mae_min``,
        ``bias_min`` (model minus reference), ``rmse_min``, ``corr`` and
        ``class_agreement`` (share of GVBs whose mean falls in the same BBSR class
        as the reference: MZ 0 / < 7.5 / 7.5-15 / >= 15, OZ 0 / < 15 / 15-30 /
        30-60 / >= 60 minutes).
    """
    key = "gvb_ars9" if "gvb_ars9" in reference.columns else "gvb"
    for col in (key, "n_members", "t_oz_min", "t_mz_min"):
        if col not in reference.columns:
            raise InputError(f"the reference table needs column {col!r} (and gvb_ars9 or "
                             "gvb, n_members, t_oz_min, t_mz_min)")
    if weighting not in ("area", "pop"):
        raise InputError(f"weighting must be 'area' or 'pop', got {weighting!r}")
    ref = reference.drop(columns=["gvb"], errors="ignore").assign(
        gvb=reference[key].astype(str).str.zfill(9))
    # a run's gvb.csv also has the plain t_oz_min / t_mz_min (its chosen mean): the
    # plain names here are the reference's
    model = gvb_times.drop(columns=["n_members", "t_oz_min", "t_mz_min"], errors="ignore")
    m = model.assign(gvb=model["gvb"].astype(str).str.zfill(9)).merge(
        ref[["gvb", "n_members", "t_oz_min", "t_mz_min"]], on="gvb")
    rows = []
    for ind in ("t_oz_min", "t_mz_min"):
        model = f"{ind}_{weighting}_w"
        ok = ((m[f"{ind}_n_missing"] == 0) & (m["n_municipalities"] == m["n_members"])
              & m[model].notna() & m[ind].notna())
        if gvbs is not None:
            keep = gvbs.get(ind, ()) if isinstance(gvbs, Mapping) else gvbs
            ok &= m["gvb"].isin({str(g).zfill(9) for g in keep})
        met = time_metrics(m.loc[ok, model].to_numpy(float), m.loc[ok, ind].to_numpy(float),
                           INDICATOR_KIND[ind])
        rows.append({"indicator": ind, "n_gvb": met["n"], "mae_min": met["mae_min"],
                     "bias_min": met["bias_min"], "rmse_min": met["rmse_min"],
                     "corr": met["corr"], "class_agreement": met["class_agreement"]})
    return pd.DataFrame(rows)
