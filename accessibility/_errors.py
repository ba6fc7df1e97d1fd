"""Error types with messages a user can act on."""

from __future__ import annotations


class AccessibilityError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(AccessibilityError, ValueError):
    """An input file or table is missing, unreadable or malformed.

    The message names the input and says how to fix it.
    """


class GraphError(AccessibilityError, ValueError):
    """A road graph cannot be built or used (empty, no drivable road, bad arrays)."""


class ComputeError(AccessibilityError, RuntimeError):
    """The Dask cluster failed under a run (scheduler or worker lost, connection
    closed): not the input's fault, and not the disk's."""


#: Why a table in the graph's place is an error: the order of every API function.
GRAPH_FIRST = ("a table was given where the graph belongs: every accessibility function "
               "takes the road graph (a RoadGraph or an OSM / .npz path) first, then the "
               "tables, e.g. central_places(graph, municipalities, central_places) or "
               "lage(graph, municipalities)")
