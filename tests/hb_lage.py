"""The Lage on the Hannover-Braunschweig extract with the national register, in both
unit variants (tests/test_lage_units.py; scripts can print the comparison)."""

from __future__ import annotations

import pandas as pd

import accessibility as acc
from accessibility.graph import attach
from accessibility.io import read_central_places, read_municipalities
from accessibility.models.municipalities import mark_region, prepare_municipalities


def hb_lage(graph, register, central_places) -> dict[str, pd.DataFrame]:
    """``{"gvb": ..., "municipality": ...}``: :func:`accessibility.lage` per unit
    variant for the register's municipalities of ``graph``'s region (the national
    register, so that GVBs cut by the extract are known as such)."""
    m = prepare_municipalities(read_municipalities(register))
    zo = read_central_places(central_places)
    m = m.merge(zo[["ags", "central_place"]], on="ags", how="left")
    m["central_place"] = m["central_place"].fillna("keine")
    m = mark_region(graph, attach(graph, m))
    return {u: acc.lage(graph, m, units=u, unit=None) for u in ("gvb", "municipality")}
