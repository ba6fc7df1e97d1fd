"""Central-place accessibility for Germany: car times to Mittel- and Oberzentren,
2-hour population potential (Lage), walkable services (Nahversorgung)."""

from __future__ import annotations

from ._errors import AccessibilityError, GraphError, InputError
from .api import central_places
from .graph import RoadGraph, build_graph, load_graph, save_graph, snap_points

__version__ = "0.1.0"

__all__ = [
    "AccessibilityError", "GraphError", "InputError", "RoadGraph", "build_graph",
    "central_places", "load_graph", "save_graph", "snap_points",
]
