"""Accessibility standards (Erreichbarkeitsstandards): who lives beyond them.

German spatial planning sets how long a car trip to a central place may take: a
Mittelzentrum within 30 and an Oberzentrum within 60 minutes (FGSV, Richtlinien für
integrierte Netzgestaltung RIN 2008, Pkw; MKRO, Entschließung "Zentrale Orte"
2016). Given the car times of :func:`~accessibility.models.central_places.
central_place_access`, this module marks the municipalities beyond each standard and
counts them and their residents per Gemeindeverband, Kreis and Land.

A municipality is *beyond* a standard when its time is longer than the standard
(a time equal to it meets it). One without a time (off the network, outside the
region) is neither: it is counted apart as "no value". Unpopulated areas count with
0 residents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import defaults
from .._errors import InputError
from .._util import require_columns
from .membership import in_region, with_members

__all__ = ["STANDARD_CLASSES", "beyond_standards", "standard_class", "standards_table"]

#: Map classes of :func:`standard_class`, best first.
STANDARD_CLASSES = ("both met", "beyond the MZ standard", "beyond the OZ standard",
                    "beyond both")


def _check(mz_min: float, oz_min: float) -> None:
    for name, v in (("mz_min", mz_min), ("oz_min", oz_min)):
        if not (np.isfinite(v) and v > 0):
            raise InputError(f"the standard {name} must be a positive number of minutes, "
                             f"got {v!r}")


def beyond_standards(munis: pd.DataFrame, *, mz_min: float = defaults.STANDARD_MZ_MIN,
                     oz_min: float = defaults.STANDARD_OZ_MIN) -> pd.DataFrame:
    """``munis`` with ``beyond_mz_standard`` and ``beyond_oz_standard``.

    Parameters
    ----------
    munis : DataFrame
        ``t_mz_min`` and ``t_oz_min`` (minutes; NaN where there is no value).
    mz_min, oz_min : float
        The standards in minutes.

    Returns
    -------
    DataFrame
        A copy with the two columns as nullable booleans: True beyond the standard,
        False within it, ``<NA>`` without a time.
    """
    require_columns(munis, ("t_mz_min", "t_oz_min"), "the accessibility standards")
    _check(mz_min, oz_min)
    out = munis.copy()
    for kind, limit in (("mz", mz_min), ("oz", oz_min)):
        t = pd.to_numeric(out[f"t_{kind}_min"], errors="coerce")
        out[f"beyond_{kind}_standard"] = pd.array(
            np.where(t.isna(), pd.NA, t.to_numpy() > limit), dtype="boolean")
    return out


def standard_class(df: pd.DataFrame) -> pd.Series:
    """One label per row for the map: both met / beyond the MZ standard / beyond the
    OZ standard / beyond both; missing when either time is missing."""
    mz, oz = df["beyond_mz_standard"], df["beyond_oz_standard"]
    ok = mz.notna() & oz.notna()
    code = mz.fillna(False).astype(int) + 2 * oz.fillna(False).astype(int)
    labels = np.array(STANDARD_CLASSES, dtype=object)[code.to_numpy()]
    labels[~ok.to_numpy()] = None
    return pd.Series(labels, index=df.index, name="standard_class", dtype=object)


def standards_table(df: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Municipalities and residents beyond each standard per ``by`` (``gvb``,
    ``kreis``, ``land``) or for all rows (``by=None``).

    ``df`` needs ``population`` and the columns of :func:`beyond_standards`.
    Columns: ``n_municipalities``, ``residents``; per standard ``n_beyond_mz``,
    ``residents_beyond_mz``, ``share_residents_beyond_mz`` (of the residents with a
    value) and ``n_no_value_mz`` (likewise for ``oz``); ``n_members``,
    ``n_members_in_region``, ``complete`` as in
    :func:`~accessibility.models.central_places.weighted_means` (pass every
    municipality: with ``in_region`` the counts cover the region's rows).
    """
    require_columns(df, ("population", "beyond_mz_standard", "beyond_oz_standard"),
                     "the standards table")
    full = df
    df = df[in_region(df)]
    key = (df[by] if by else pd.Series("all", index=df.index)).rename(by or "level")
    pop = pd.to_numeric(df["population"], errors="coerce").fillna(0.0)

    def total(x: pd.Series) -> pd.Series:
        return x.groupby(key, sort=True, dropna=False).sum()

    out = pd.DataFrame({"n_municipalities": total(pd.Series(1, index=df.index)),
                        "residents": total(pop)})
    for kind in ("mz", "oz"):
        b = df[f"beyond_{kind}_standard"]
        has = b.notna()
        beyond = b.fillna(False).astype(bool)
        out[f"n_beyond_{kind}"] = total(beyond.astype(int))
        out[f"residents_beyond_{kind}"] = total(pop.where(beyond, 0.0))
        with_value = total(pop.where(has, 0.0))
        out[f"share_residents_beyond_{kind}"] = (out[f"residents_beyond_{kind}"]
                                                 / with_value.where(with_value > 0))
        out[f"n_no_value_{kind}"] = total((~has).astype(int))
    out.index.name = by or "level"
    return with_members(out.reset_index(), full, by,
                        ("beyond_mz_standard", "beyond_oz_standard"))
