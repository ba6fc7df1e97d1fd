"""Input checks shared by the routing APIs: clear InputError/GraphError messages
instead of tracebacks from inside numba or numpy."""

from __future__ import annotations

import numpy as np

from .._errors import GraphError, InputError


def graph_arrays(graph, weight: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays of ``graph`` with edge weights by name, checked and typed."""
    try:
        offsets, targets = graph.offsets, graph.targets
        w = {"time": "time_s", "length": "length_m"}.get(weight)
        if w is None:
            raise InputError(f"unknown weight {weight!r}: use 'time' or 'length'")
        weights = getattr(graph, w)
    except AttributeError as e:
        raise GraphError(f"not a road graph (needs offsets, targets, time_s, length_m): {e}") from None
    # np.asarray keeps RoadGraph's read-only arrays as they are (no copy).
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    targets = np.ascontiguousarray(targets, dtype=np.int32)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if offsets.ndim != 1 or offsets.size < 1 or weights.shape != targets.shape \
            or offsets[-1] != targets.size:
        raise GraphError("graph arrays are not a consistent CSR structure")
    if weights.size and not (np.isfinite(weights).all() and weights.min() >= 0):
        raise GraphError(f"edge weights {weight!r} must be finite and non-negative")
    return offsets, targets, weights


def nodes(nodes, n: int, name: str) -> np.ndarray:
    """Node indices as a writable int64 array, checked against ``n`` nodes."""
    a = np.atleast_1d(np.asarray(nodes))
    if a.ndim != 1:
        raise InputError(f"{name} must be a 1-d array of node indices, got shape {a.shape}")
    if a.size == 0:
        raise InputError(f"{name} is empty: give at least one node index")
    if not (np.issubdtype(a.dtype, np.integer) and not np.issubdtype(a.dtype, np.bool_)):
        raise InputError(f"{name} must be integer node indices, got dtype {a.dtype}")
    lo, hi = int(a.min()), int(a.max())
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        raise InputError(f"{name} contains node index {bad} outside the graph's 0..{n - 1}")
    return np.array(a, dtype=np.int64)


def offsets(offsets, size: int, name: str) -> np.ndarray:
    """Per-node start costs as a writable float64 array (zeros when None)."""
    if offsets is None:
        return np.zeros(size)
    a = np.array(np.atleast_1d(np.asarray(offsets, dtype=np.float64)))
    if a.shape != (size,):
        raise InputError(f"{name} has shape {a.shape}, expected ({size},) like the nodes")
    if not np.isfinite(a).all():
        raise InputError(f"{name} contains NaN or infinite values")
    if size and a.min() < 0:
        raise InputError(f"{name} must be >= 0, got {a.min()}")
    return a


def limit(limit, name: str) -> float:
    """A search limit: a number >= 0 (``inf`` for none), not NaN."""
    try:
        x = float(limit)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {limit!r}") from None
    if np.isnan(x) or x < 0:
        raise InputError(f"{name} must be >= 0 (np.inf for no limit), got {limit!r}")
    return x


def per_node(values, n: int, name: str, dtype) -> np.ndarray:
    """A per-node array of ``n`` values, writable and contiguous."""
    a = np.require(np.asarray(values, dtype=dtype), requirements=("C", "W"))
    if a.shape != (n,):
        raise InputError(f"{name} has shape {a.shape}, expected one value per node ({n},)")
    return a

