"""Reading inputs (municipalities, central places, grids, commuters) and writing outputs."""

from __future__ import annotations

from .readers import (
    CENTRAL_PLACE_CLASSES,
    GERMANY_BBOX,
    JoinReport,
    join_central_places,
    read_central_places,
    read_commuters,
    read_municipalities,
    read_population_grid,
)
from .writers import (
    atomic_path,
    write_json,
    write_municipality_outputs,
    write_table,
    write_text,
)

__all__ = [
    "CENTRAL_PLACE_CLASSES",
    "GERMANY_BBOX",
    "JoinReport",
    "atomic_path",
    "join_central_places",
    "read_central_places",
    "read_commuters",
    "read_municipalities",
    "read_population_grid",
    "write_json",
    "write_municipality_outputs",
    "write_table",
    "write_text",
]
