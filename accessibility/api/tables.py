"""The report's tables from the per-municipality results: per Gemeindeverband,
Kreis, Land and in total, the class shares, the standards, the Lage cross-tables
(the BBSR report's shapes), and what each output column means."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .._errors import InputError
from ..io import read_central_places, read_municipalities
from ..models.central_places import class_shares, join_central_places, weighted_means
from ..models.indicators import COLUMNS as INDICATOR_COLUMNS
from ..models.lage import kreis_lage, lage_summary, lage_tables
from ..models.lage_tables import LAGE_UNKNOWN, covers_germany, exact_lage, run_covers_germany
from ..models.membership import MEMBER_COLUMNS, members
from ..models.municipalities import prepare_municipalities
from ..models.public_transport import pt_column_docs
from ..models.report_tables import (
    BBSR_2019_COUNTS,
    function_type_lage,
    group_indicators,
    mz_oz_by_lage,
    national_tables,
)
from ..models.scenario import moves
from ..models.settlement import settlement_types as _settlement_types
from ..models.standards import STANDARD_CLASSES, standard_class, standards_table
from ..models.units import (
    class_rows,
    function_type_lage_counts,
    gvb_table,
    left_out,
    mz_oz_by_lage_counts,
    unit_rows,
    unpopulated,
    walk_by_unit,
)
from ..models.walkability import column_docs as walk_column_docs
from ..vocabulary import COLUMNS

__all__ = ["BBSR_2019_COUNTS", "LAGE_UNKNOWN", "MEMBER_COLUMNS", "STANDARD_CLASSES",
           "class_rows", "class_shares", "column_docs", "covers_germany", "exact_lage", "function_type_lage",
           "function_type_lage_counts", "group_indicators", "gvb_table", "kreis_lage", "lage_summary",
           "lage_tables", "left_out", "members", "moves", "mz_oz_by_lage",
           "mz_oz_by_lage_counts", "report_tables", "run_covers_germany", "standard_class", "standards_table",
           "unit_rows", "unpopulated", "walk_by_unit", "weighted_means"]


def column_docs(columns, walk_methods=None) -> dict[str, str]:
    """The meaning of each of ``columns`` that the engine writes (``columns.csv``):
    the models' columns, the further indicators', and with ``walk_methods`` the
    Nahversorgung's."""
    docs = {c: COLUMNS[c] for c in columns if c in COLUMNS}
    docs.update({c: INDICATOR_COLUMNS[c] for c in columns if c in INDICATOR_COLUMNS})
    if walk_methods is not None:
        docs.update(walk_column_docs(walk_methods))
    docs.update(pt_column_docs(columns))
    return docs


def report_tables(municipalities: pd.DataFrame | str | Path,
                  central_places: pd.DataFrame | str | Path, *,
                  function: str = "highest", unpopulated: str = "landgemeinde"
                  ) -> dict[str, pd.DataFrame]:
    """The national tables that need no road graph, from the register and the
    central places alone (seconds for Germany).

    Parameters
    ----------
    municipalities : DataFrame or path
        The register (:func:`~accessibility.io.read_municipalities`): ``ags``,
        ``gvb``, ``population``, ``area_km2``.
    central_places : DataFrame or path
        The central-place functions (:func:`~accessibility.io.read_central_places`);
        an older file in the same format gives that year's designations.
    function : {"highest", "largest"}
        Which member's function counts for the GVB
        (:func:`~accessibility.models.settlement.settlement_types`).
    unpopulated : {"landgemeinde", "exclude"}
        Unpopulated areas (gemeindefreie Gebiete) count as Landgemeinden, as in
        BBSR's published counts (default), or not at all.

    Returns
    -------
    dict of DataFrame
        ``settlement_type_counts`` (``settlement_type``, ``n_gvb``, ``residents``,
        ``area_km2`` beside BBSR's 2019 counts), ``settlement_types_by_land`` (Tab. 1
        per Land) and ``table_function_by_type`` (Tab. 3's function columns); each
        with ``attrs["report"]``, the join's lines.
    """
    munis = (read_municipalities(municipalities) if isinstance(municipalities, (str, Path))
             else municipalities)
    cp = (read_central_places(central_places) if isinstance(central_places, (str, Path))
          else central_places)
    munis = prepare_municipalities(munis)
    if "area_km2" not in munis.columns:
        raise InputError("the register has no area (area_km2): read it with "
                         "read_municipalities() from the Destatis register or VG250")
    joined, rep = join_central_places(munis, cp)
    gvb, _ = _settlement_types(joined, function=function, unpopulated=unpopulated)
    area = joined.groupby("gvb")["area_km2"].sum(min_count=1)
    tables = national_tables(gvb, area)
    lines = [f"{len(munis):,} municipalities in {len(gvb):,} Gemeindeverbände; "
             f"central places matched: {rep.n_matched:,} of {rep.n_table:,}"]
    for t in tables.values():
        t.attrs["report"] = lines
    return tables
