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
