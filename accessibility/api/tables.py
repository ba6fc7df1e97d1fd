"""The report's tables from the per-municipality results: per Gemeindeverband,
Kreis, Land and in total, the class shares, the standards, the Lage cross-tables
(the BBSR report's shapes), and what each output column means."""

from __future__ import annotations

from ..models.central_places import class_shares, weighted_means
from ..models.indicators import COLUMNS as INDICATOR_COLUMNS
from ..models.lage import kreis_lage, lage_summary, lage_tables
from ..models.lage_tables import LAGE_UNKNOWN, covers_germany, exact_lage
from ..models.membership import MEMBER_COLUMNS, members
from ..models.scenario import moves
from ..models.standards import STANDARD_CLASSES, standard_class, standards_table
from ..models.units import (
    function_type_lage,
    gvb_table,
    left_out,
    mz_oz_by_lage,
    unit_rows,
    unpopulated,
)
from ..models.walkability import column_docs as walk_column_docs
from ..vocabulary import COLUMNS

__all__ = ["LAGE_UNKNOWN", "MEMBER_COLUMNS", "STANDARD_CLASSES", "class_shares", "column_docs",
           "covers_germany", "exact_lage", "function_type_lage", "gvb_table", "kreis_lage",
           "lage_summary", "lage_tables", "left_out", "members", "moves", "mz_oz_by_lage",
           "standard_class", "standards_table", "unit_rows", "unpopulated", "weighted_means"]


def column_docs(columns, walk_methods=None) -> dict[str, str]:
    """The meaning of each of ``columns`` that the engine writes (``columns.csv``):
    the models' columns, the further indicators', and with ``walk_methods`` the
    Nahversorgung's."""
    docs = {c: COLUMNS[c] for c in columns if c in COLUMNS}
    docs.update({c: INDICATOR_COLUMNS[c] for c in columns if c in INDICATOR_COLUMNS})
    if walk_methods is not None:
        docs.update(walk_column_docs(walk_methods))
    return docs
