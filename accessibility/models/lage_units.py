"""The units of the Lage: Gemeindeverbände (as BBSR) or municipalities.

BBSR computes the potential "für alle Gemeindeverbände" from a matrix between their
settlement centres (METHOD.md section 2). With ``units = "gvb"`` (default) every
Gemeindeverband (GVB) is one origin and one destination:

* located at its **settlement centre**, the reference point of its most populous
  member (:func:`centre_rows`; the rule of the GVB tables);
* weighted with the **summed Tagesbevölkerung** of all its members, including those
  off the network or outside the region (the register knows them);
* its own GVB counts at ``t = 0`` (weight 1), so a member's neighbours in the same
  GVB count fully, not discounted by the decay;
* every member carries its GVB's potential, ``n_reached`` (GVBs reached),
  ``edge_flag`` and class.

A municipality without a ``gvb`` key is a GVB of its own; a single-member GVB is its
municipality. The potential of a GVB is exact only when the search from its centre
reaches no node where the extract cut the network (``edge_flag``) *and* every member
lies in the region (``in_region``): :data:`LAGE_INCOMPLETE_GVB` says why not.
``units = "municipality"`` is the former variant: every municipality its own origin
and destination at its own reference point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = ["LAGE_INCOMPLETE_GVB", "LAGE_UNIT_CHOICES", "UnitTable", "centre_rows", "check_units",
           "incomplete_gvb", "unit_key", "unit_table"]

#: The units of the Lage's origins and destinations.
LAGE_UNIT_CHOICES = ("gvb", "municipality")
#: Why a member of a GVB cut by the region has no Lage class (``units = "gvb"``).
LAGE_INCOMPLETE_GVB = ("the Gemeindeverband is not wholly in the region: its potential "
                       "(from the settlement centre) needs every member; import a national "
                       "run (--lage-from)")


def check_units(units: str) -> str:
    """``units`` if it is one of :data:`LAGE_UNIT_CHOICES`, else an :class:`InputError`."""
    if units not in LAGE_UNIT_CHOICES:
        raise InputError(f"the Lage's units must be one of {list(LAGE_UNIT_CHOICES)} "
                         f"(Gemeindeverbände as the BBSR report, or municipalities), got "
                         f"{units!r}")
    return units


def unit_key(munis: pd.DataFrame) -> pd.Series:
    """The GVB key of every row; a row without one (no column ``gvb``, or empty) is a
    GVB of its own, keyed by its ``ags``."""
    ags = munis["ags"].astype(str)
    if "gvb" not in munis.columns:
        return ags.rename("gvb")
    g = munis["gvb"]
    return g.astype(object).where(g.notna(), ags).astype(str).rename("gvb")


def centre_rows(key, ags, population) -> np.ndarray:
    """Positions of the settlement centres: per ``key``, the row with the largest
    ``population`` (unknown counts as less than 0), ties to the smallest ``ags``.
    In the order of the sorted keys."""
    d = pd.DataFrame({"k": np.asarray(key), "a": np.asarray(ags),
                      "p": pd.to_numeric(pd.Series(np.asarray(population)), errors="coerce")
                      .fillna(-1.0).to_numpy(), "i": np.arange(len(key))})
    d = d.sort_values(["k", "p", "a"], ascending=[True, False, True], kind="stable")
    return d.drop_duplicates("k")["i"].to_numpy()


class UnitTable:
    """The origins and destinations of the Lage for ``munis``.

    Attributes
    ----------
    table : DataFrame
        One row per unit: the centre's row of ``munis`` (its reference point and
        network columns; ``ags`` the centre's).
    weight : ndarray
        The unit's Tagesbevölkerung (summed over its members for GVBs).
    member : ndarray of int
        For every row of ``munis``, the position of its unit in ``table``.
    units : str
        ``"gvb"`` or ``"municipality"``.
    """

    def __init__(self, table: pd.DataFrame, weight: np.ndarray, member: np.ndarray,
                 units: str) -> None:
        self.table, self.weight, self.member, self.units = table, weight, member, units

    def per_member(self, values) -> np.ndarray:
        """A value per unit spread to every member (row of ``munis``)."""
        return np.asarray(values)[self.member]


def unit_table(munis: pd.DataFrame, daytime, units: str) -> UnitTable:
    """The units of ``units`` (see the module docstring) with their weights."""
    check_units(units)
    day = np.nan_to_num(np.asarray(daytime, dtype=np.float64), nan=0.0)
    if units == "municipality":
        return UnitTable(munis, day, np.arange(len(munis)), units)
    key = unit_key(munis).to_numpy()
    pos = centre_rows(key, munis["ags"].to_numpy(),
                      munis["population"] if "population" in munis.columns
                      else np.full(len(munis), np.nan))
    keys = key[pos]  # sorted
    member = np.searchsorted(keys, key)
    weight = np.bincount(member, weights=day, minlength=keys.size)
    return UnitTable(munis.iloc[pos], weight, member, units)


def incomplete_gvb(munis: pd.DataFrame) -> np.ndarray:
    """Rows whose GVB has a member outside the region (``in_region`` False)."""
    if "in_region" not in munis.columns:
        return np.zeros(len(munis), bool)
    out = ~munis["in_region"].fillna(False).astype(bool)
    return out.groupby(unit_key(munis).to_numpy()).transform("any").to_numpy(bool)
