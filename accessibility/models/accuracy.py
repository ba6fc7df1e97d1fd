"""Accuracy against official figures: model car times per Gemeindeverband against
the published INKAR values (``../shared/data/reference``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = ["compare_gvb_times"]


def compare_gvb_times(gvb_times: pd.DataFrame, reference: pd.DataFrame, *,
                      weighting: str = "area") -> pd.DataFrame:
    """Model against reference car times per Gemeindeverband.

    Parameters
    ----------
    gvb_times : DataFrame
        Per GVB from :func:`~accessibility.models.central_places.weighted_means`
        (``gvb``, ``n_municipalities``, ``t_oz_min_area_w``, ``t_oz_min_n_missing``,
        ... for ``t_oz_min`` and ``t_mz_min``).
    reference : DataFrame
        ``gvb_ars9`` (9-digit key), ``n_members``, ``t_oz_min``, ``t_mz_min`` (INKAR:
        area-weighted means over the GVB).
    weighting : {"area", "pop"}
        Which model mean to compare (INKAR publishes area-weighted means).

    Returns
    -------
    DataFrame
        One row per indicator: ``n_gvb`` compared (only GVBs whose every member is
        in the run and has a value), ``mae_min``, ``bias_min`` (model minus
        reference), ``rmse_min``, ``corr``.
    """
    for col in ("gvb_ars9", "n_members", "t_oz_min", "t_mz_min"):
        if col not in reference.columns:
            raise InputError(f"the reference table needs column {col!r}")
    ref = reference.assign(gvb=reference["gvb_ars9"].astype(str).str.zfill(9))
    m = gvb_times.assign(gvb=gvb_times["gvb"].astype(str).str.zfill(9)).merge(ref, on="gvb")
    rows = []
    for ind in ("t_oz_min", "t_mz_min"):
        model = f"{ind}_{weighting}_w"
        ok = ((m[f"{ind}_n_missing"] == 0) & (m["n_municipalities"] == m["n_members"])
              & m[model].notna() & m[ind].notna())
        x, y = m.loc[ok, model].to_numpy(float), m.loc[ok, ind].to_numpy(float)
        err = x - y
        n = int(ok.sum())
        rows.append({"indicator": ind, "n_gvb": n,
                     "mae_min": float(np.abs(err).mean()) if n else np.nan,
                     "bias_min": float(err.mean()) if n else np.nan,
                     "rmse_min": float(np.sqrt((err ** 2).mean())) if n else np.nan,
                     "corr": float(np.corrcoef(x, y)[0, 1]) if n > 2 else np.nan})
    return pd.DataFrame(rows)
