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
    """The origins and destinations of the Lage, per row of ``munis``: every
    municipality keeps its virtual node on the graph (so the augmented graph, and its
    contraction hierarchy, is the same for both variants and the car-time matrix), a
    unit's weight sits on its centre's node and only the centres are origins.

    Attributes
    ----------
    weight : ndarray
        The Tagesbevölkerung on each row: the unit's (summed over its members for
        GVBs) on its centre's row, 0 on the other members' rows.
    origin : ndarray of bool
        The rows that are the units' centres (every row for municipalities).
    member : ndarray of int
        For every row, the row of its unit's centre.
    units : str
        ``"gvb"`` or ``"municipality"``.
    """

    def __init__(self, weight: np.ndarray, origin: np.ndarray, member: np.ndarray,
                 units: str) -> None:
        self.weight, self.origin, self.member, self.units = weight, origin, member, units


def unit_table(munis: pd.DataFrame, daytime, units: str) -> UnitTable:
    """The units of ``units`` (see the module docstring) with their weights."""
    check_units(units)
    day = np.nan_to_num(np.asarray(daytime, dtype=np.float64), nan=0.0)
    n = len(munis)
    if units == "municipality":
        return UnitTable(day, np.ones(n, bool), np.arange(n), units)
    key = unit_key(munis).to_numpy()
    pos = centre_rows(key, munis["ags"].to_numpy(),
                      munis["population"] if "population" in munis.columns
                      else np.full(n, np.nan))
    unit = np.searchsorted(key[pos], key)  # keys of the centres are sorted
    weight = np.zeros(n)
    weight[pos] = np.bincount(unit, weights=day, minlength=pos.size)
    origin = np.zeros(n, bool)
    origin[pos] = True
    return UnitTable(weight, origin, pos[unit], units)


def incomplete_gvb(munis: pd.DataFrame) -> np.ndarray:
    """Rows whose GVB has a member outside the region (``in_region`` False)."""
    if "in_region" not in munis.columns:
        return np.zeros(len(munis), bool)
    out = ~munis["in_region"].fillna(False).astype(bool)
    return out.groupby(unit_key(munis).to_numpy()).transform("any").to_numpy(bool)
