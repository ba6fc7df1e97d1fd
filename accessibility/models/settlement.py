"""Stadt- und Gemeindetyp: settlement type per Gemeindeverband (METHOD.md section 4).

BBSR assigns the type per Gemeindeverband (GVB) from the population of its
largest municipality (for an Einheitsgemeinde: the municipality itself) and its
central-place function:

=================  ==========================================================
Großstadt          largest municipality >= 100,000 inhabitants
                   (große Großstadt >= 500,000, else kleinere Großstadt)
Mittelstadt        20,000 - < 100,000, or at least an Oberzentrum
                   (größere Mittelstadt >= 50,000, else kleinere Mittelstadt)
Kleinstadt         5,000 - < 20,000, or at least a Grundzentrum with
                   Mittelzentrum sub-function
                   (größere Kleinstadt >= 10,000, else kleine Kleinstadt)
Landgemeinde       < 5,000 and no significant central-place function
=================  ==========================================================

Readings of the rules (the functions of :mod:`accessibility.vocabulary`, with the
BBSR partial functions "Teil eines Mittelzentrums" and "Grundzentrum mit
mittelzentraler Teilfunktion" kept as their own values):

* **Which function.** By default the *highest* function of any municipality of
  the GVB counts (``function="highest"``): in a Samtgemeinde or Verbandsgemeinde
  the central place is the seat of the association, which is not always its most
  populous member, and BBSR treats the GVB as the functional unit. With
  ``function="largest"`` only the largest municipality's own function counts.
* **"at least a Grundzentrum with Mittelzentrum sub-function"**: a Grundzentrum
  mit mittelzentraler Teilfunktion, a part of a shared Mittelzentrum and a
  Mittelzentrum below 5,000 inhabitants become a Kleinstadt (kleine Kleinstadt),
  never a Landgemeinde.
* **Oberzentrum** below 20,000 inhabitants becomes a Mittelstadt (kleinere
  Mittelstadt).
* **Grundzentrum alone is not significant**: a GVB below 5,000 whose best function
  is a Grundzentrum is a Landgemeinde (a Grundzentrum is the lowest tier, present
  in about a quarter of all municipalities; BBSR's rule asks for the MZ
  sub-function).
* A GVB whose members all lack a population has no type (empty).
* **Unpopulated areas** (gemeindefreie Gebiete: forests, lakes, military areas with
  0 residents; each is its own GVB in the register) get no type
  (``unpopulated="exclude"``, the default: a planner does not count a forest as a
  Landgemeinde). BBSR's published counts evidently include them as Landgemeinden:
  on the 2019 register, 1,565 populated Landgemeinde GVBs + 208 unpopulated =
  1,773 against the report's 1,779; ``unpopulated="landgemeinde"`` counts them so.

Every municipality gets the type of its GVB (columns ``settlement_type`` and
``settlement_type_detail``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._errors import InputError
from .._util import require_columns
from ..vocabulary import (
    FUNCTION_RANK,
    GZ_WITH_MZ,
    NO_FUNCTION,
    OBERZENTRUM,
    SETTLEMENT_DETAIL,
    SETTLEMENT_TYPES,
)

__all__ = [
    "FUNCTION_RANK",
    "SETTLEMENT_DETAIL",
    "SETTLEMENT_TYPES",
    "classify_settlement",
    "settlement_summary",
    "settlement_types",
]

_RANK_NAME = {v: k for k, v in FUNCTION_RANK.items()}


def classify_settlement(population, function) -> tuple[np.ndarray, np.ndarray]:
    """Settlement type and detailed type from the population of the largest
    municipality and the central-place function (arrays of equal length).

    Returns ``(type, detail)`` as object arrays (``None`` where the population is
    missing).
    """
    pop = np.asarray(pd.to_numeric(pd.Series(population), errors="coerce"), dtype=np.float64)
    fn = pd.Series(function).fillna(NO_FUNCTION).astype(str).to_numpy()
    unknown = sorted(set(fn) - set(FUNCTION_RANK))
    if unknown:
        raise InputError(f"unknown central-place function(s) {unknown}: use one of "
                         f"{list(FUNCTION_RANK)} (read them with read_central_places())")
    if pop.shape != fn.shape:
        raise InputError("population and function must have the same length")
    rank = np.array([FUNCTION_RANK[f] for f in fn], dtype=np.int64)
    typ = np.full(pop.size, None, dtype=object)
    det = np.full(pop.size, None, dtype=object)
    ok = np.isfinite(pop)
    gross = ok & (pop >= 100_000)
    mittel = ok & ~gross & ((pop >= 20_000) | (rank >= FUNCTION_RANK[OBERZENTRUM]))
    # "at least a Grundzentrum with Mittelzentrum sub-function" (BBSR)
    klein = ok & ~gross & ~mittel & ((pop >= 5_000) | (rank >= FUNCTION_RANK[GZ_WITH_MZ]))
    land = ok & ~gross & ~mittel & ~klein
    typ[gross], typ[mittel], typ[klein], typ[land] = SETTLEMENT_TYPES
    det[gross] = np.where(pop[gross] >= 500_000, "große Großstadt", "kleinere Großstadt")
    det[mittel] = np.where(pop[mittel] >= 50_000, "größere Mittelstadt", "kleinere Mittelstadt")
    det[klein] = np.where(pop[klein] >= 10_000, "größere Kleinstadt", "kleine Kleinstadt")
    det[land] = "Landgemeinde"
    return typ, det


def settlement_types(munis: pd.DataFrame, *, function: str = "highest",
                     unpopulated: str = "exclude") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stadt- und Gemeindetyp per Gemeindeverband, and for every municipality.

    Parameters
    ----------
    munis : DataFrame
        Needs ``ags``, ``gvb``, ``population`` and ``central_place`` (from
        :func:`~accessibility.models.central_places.join_central_places`; without
        that column every municipality counts as "keine" and only population decides).
    function : {"highest", "largest"}
        Which central-place function of the GVB counts: the highest of any member
        (default) or that of the largest municipality.
    unpopulated : {"exclude", "landgemeinde"}
        A GVB of 0 residents (gemeindefreies Gebiet) has no type (default), or is a
        Landgemeinde as in BBSR's counts.

    Returns
    -------
    gvb : DataFrame
        One row per GVB: ``gvb``, ``gvb_name`` (when given), ``n_municipalities``,
        ``population`` (sum), ``largest_ags``, ``largest_name``,
        ``largest_population``, ``central_place`` (the function that counted),
        ``settlement_type``, ``settlement_type_detail``.
    municipalities : DataFrame
        ``munis`` (same rows and index) with ``settlement_type`` and
        ``settlement_type_detail`` of its GVB.
    """
    require_columns(munis, ("ags", "gvb", "population"), "settlement types",
                     "read with read_municipalities()")
    if function not in ("highest", "largest"):
        raise InputError(f"function must be 'highest' or 'largest', got {function!r}")
    if unpopulated not in ("exclude", "landgemeinde"):
        raise InputError(f"unpopulated must be 'exclude' or 'landgemeinde', got {unpopulated!r}")
    df = pd.DataFrame({
        "ags": munis["ags"].to_numpy(), "gvb": munis["gvb"].to_numpy(),
        "population": pd.to_numeric(munis["population"], errors="coerce").to_numpy(),
        "central_place": (munis["central_place"].fillna(NO_FUNCTION).astype(str).to_numpy()
                          if "central_place" in munis.columns else NO_FUNCTION),
        "name": munis["name"].to_numpy() if "name" in munis.columns else munis["ags"].to_numpy(),
    })
    bad = sorted(set(df["central_place"]) - set(FUNCTION_RANK))
    if bad:
        raise InputError(f"unknown central-place function(s) {bad}: use one of {list(FUNCTION_RANK)}")
    if df["gvb"].isna().any():
        raise InputError(f"{int(df['gvb'].isna().sum())} municipalities have no GVB key")
    df["rank"] = df["central_place"].map(FUNCTION_RANK)
    # largest member: highest population, ties by AGS; NaN population sorts last
    order = df.assign(_p=df["population"].fillna(-1.0)).sort_values(
        ["gvb", "_p", "ags"], ascending=[True, False, True])
    largest = order.drop_duplicates("gvb", keep="first").set_index("gvb")
    grp = df.groupby("gvb", sort=True)
    out = pd.DataFrame({
        "n_municipalities": grp.size(),
        "population": grp["population"].sum(min_count=1),
        "largest_ags": largest["ags"],
        "largest_name": largest["name"],
        "largest_population": largest["population"],
    })
    if function == "highest":
        out["central_place"] = grp["rank"].max().map(_RANK_NAME)
    else:
        out["central_place"] = largest["central_place"]
    typ, det = classify_settlement(out["largest_population"].to_numpy(), out["central_place"].to_numpy())
    if unpopulated == "exclude":
        empty = (out["population"] == 0).to_numpy()
        typ[empty], det[empty] = None, None
    out["settlement_type"] = typ
    out["settlement_type_detail"] = det
    out = out.reset_index()
    if "gvb_name" in munis.columns:
        names = pd.Series(munis["gvb_name"].to_numpy(), index=munis["gvb"].to_numpy())
        names = names[~names.index.duplicated()]
        out.insert(1, "gvb_name", names.reindex(out["gvb"]).to_numpy())
    m = munis.copy()
    lookup = out.set_index("gvb")
    m["settlement_type"] = lookup["settlement_type"].reindex(munis["gvb"]).to_numpy()
    m["settlement_type_detail"] = lookup["settlement_type_detail"].reindex(munis["gvb"]).to_numpy()
    return out, m


def settlement_summary(gvb: pd.DataFrame) -> pd.DataFrame:
    """Number of GVB and population (millions) per settlement type, from the first
    result of :func:`settlement_types`."""
    t = gvb.groupby("settlement_type").agg(n_gvb=("gvb", "size"),
                                           population=("population", "sum"))
    t = t.reindex(list(SETTLEMENT_TYPES)).fillna(0)
    t["n_gvb"] = t["n_gvb"].astype(int)
    t["population_mio"] = (t["population"] / 1e6).round(2)
    return t.drop(columns="population")
