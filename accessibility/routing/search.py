"""Shortest-path searches on a :class:`~accessibility.graph.core.RoadGraph`.

Thin wrappers around the numba kernels in :mod:`accessibility.routing.kernels`: they
check and convert the inputs, call a kernel and wrap its result. Every function
takes anything with the ``RoadGraph`` arrays (``offsets``, ``targets``,
``time_s``, ``length_m``, ``n_nodes`` and ``reversed``).

Threads: :func:`potential` and :func:`one_to_many` run in parallel on numba's
thread pool; :func:`set_threads` sets its size (default: all cores, or the
``NUMBA_NUM_THREADS`` environment variable). Results do not depend on it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np
import pandas as pd
from scipy.sparse import csr_array

from .. import defaults
from .._errors import InputError
from . import _grid_kernels as _grid, kernels
from ._decay import (
    DECAY_EXPONENTIAL,
    DECAY_GAUSSIAN,
    DECAY_NONE,
    DECAY_POWER,
    decay_weights,
    decayed_row_sums as _decayed_row_sums,
)
from ._validate import (
    graph_arrays as _graph_arrays,
    limit as _limit,
    nodes as _nodes,
    offsets as _offsets,
    per_node as _per_node,
)

__all__ = [
    "CostMatrix",
    "Decay",
    "NearestResult",
    "PotentialResult",
    "nearest_facility",
    "one_to_many",
    "potential",
    "set_threads",
    "walk_nearest",
    "warmup",
]

_DECAY_KINDS = {
    "none": DECAY_NONE,
    "exponential": DECAY_EXPONENTIAL,
    "gaussian": DECAY_GAUSSIAN,
    "power": DECAY_POWER,
}


class NearestResult(NamedTuple):
    """Result of :func:`nearest_facility`.

    Attributes
    ----------
    dist : ndarray of float64, shape (n_nodes,)
        Cost (seconds or metres, plus the facility's offset) from the nearest
        facility, ``inf`` where none is within the limit.
    source : ndarray of int32, shape (n_nodes,)
        Index into ``nodes`` of that facility (the lowest index on ties), -1 where
        none is reached.
    """

    dist: np.ndarray
    source: np.ndarray

    def at(self, nodes) -> pd.DataFrame:
        """The result at the nodes of points, for tables.

        Parameters
        ----------
        nodes : array_like or Series
            Node of each point, e.g. the ``node`` column of
            :func:`accessibility.attach` (empty / NA / -1 for points off the network).

        Returns
        -------
        DataFrame
            ``cost`` (NaN where the point is off the network or no facility is
            reached) and ``facility`` (index into the facility nodes, nullable
            Int64, empty in the same cases); one row per point, never a number
            for "unreachable" or "not attached".
        """
        node = pd.to_numeric(pd.Series(nodes), errors="coerce").to_numpy(np.float64)
        ok = np.isfinite(node) & (node >= 0)
        idx = np.where(ok, np.nan_to_num(node), 0).astype(np.int64)
        if ok.any() and idx[ok].max() >= self.dist.size:
            raise InputError(f"node index {int(idx[ok].max())} is outside this result's "
                             f"{self.dist.size} nodes: were the points attached to another graph?")
        cost = np.where(ok, self.dist[idx], np.nan)
        src = np.where(ok, self.source[idx], -1)
        cost[src < 0] = np.nan
        fac = pd.array(np.where(src >= 0, src, 0), dtype="Int64")
        fac[src < 0] = pd.NA
        index = nodes.index if isinstance(nodes, pd.Series) else None
        return pd.DataFrame({"cost": cost, "facility": fac}, index=index)


class CostMatrix(csr_array):
    """Sparse origin x target costs: stored entries are the pairs reached within the
    limit (a zero cost is a stored 0).

    Its dense views fill the pairs that were not reached with ``inf`` (as
    :func:`scipy.sparse.csgraph.dijkstra` does), never with 0: ``toarray()`` and
    ``todense()`` of the matrix cannot mistake "unreachable" for "no time at all".
    Other scipy operations (slicing to a row, ``.T``, ``min``, ``eliminate_zeros``)
    return plain sparse arrays with scipy's meaning of a missing entry (0): use
    :meth:`to_frame` (the reached pairs as a long table) or the full ``toarray()``.
    """

    def eliminate_zeros(self):  # a stored 0 is a real zero cost here, not "absent"
        raise TypeError("CostMatrix keeps zero costs as stored entries: eliminate_zeros "
                        "would turn them into 'unreachable'")

    def toarray(self, order=None, out=None) -> np.ndarray:
        dense = np.full(self.shape, np.inf) if out is None else out
        if out is not None:
            dense[...] = np.inf
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        dense[rows, self.indices] = self.data
        return dense

    todense = toarray

    def to_frame(self) -> pd.DataFrame:
        """The reached pairs: ``origin`` and ``target`` (positions in the query's
        lists) and ``cost``."""
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        return pd.DataFrame({"origin": rows, "target": self.indices.astype(np.int64),
                             "cost": self.data})


class PotentialResult(NamedTuple):
    """Result of :func:`potential`, one entry per origin.

    Attributes
    ----------
    sums : ndarray of float64
        Decay-weighted sum of the node weights within the limit.
    n_reached : ndarray of int64
        Number of nodes with a non-zero weight within the limit.
    touches_boundary : ndarray of bool
        Whether the search reached a boundary node (the sum may be truncated).
    """

    sums: np.ndarray
    n_reached: np.ndarray
    touches_boundary: np.ndarray


@dataclass(frozen=True)
class Decay:
    """A distance-decay function of travel time in minutes.

    Parameters
    ----------
    kind : {"none", "exponential", "gaussian", "power"}
        ``none``: ``w = 1``; ``exponential``: ``w = exp(-beta * t)``;
        ``gaussian``: ``w = exp(-t**2 / (2 * sigma_min**2))``;
        ``power``: ``w = (max(t, floor_min) / floor_min) ** -beta`` (1 up to the floor).
    beta : float
        Rate per minute (exponential) or exponent (power), ``>= 0``.
    sigma_min : float
        Standard deviation in minutes (gaussian), ``> 0``.
    floor_min : float
        Time in minutes below which the power decay is 1, ``> 0``.
    """

    kind: str = "none"
    beta: float = 0.0
    sigma_min: float = 0.0
    floor_min: float = 1.0

    def __post_init__(self) -> None:
        for name in ("beta", "sigma_min", "floor_min"):  # "0.076" from a form, None, ...
            try:
                object.__setattr__(self, name, float(getattr(self, name)))
            except (TypeError, ValueError):
                raise InputError(f"decay parameter {name} must be a number, got "
                                 f"{getattr(self, name)!r}") from None
        if self.kind not in _DECAY_KINDS:
            raise InputError(f"unknown decay kind {self.kind!r}: use one of {sorted(_DECAY_KINDS)}")
        if self.kind in ("exponential", "power") and not (np.isfinite(self.beta) and self.beta >= 0):
            raise InputError(f"{self.kind} decay needs a finite beta >= 0, got {self.beta!r}")
        if self.kind == "gaussian" and not (np.isfinite(self.sigma_min) and self.sigma_min > 0):
            raise InputError(f"gaussian decay needs sigma_min > 0 minutes, got {self.sigma_min!r}")
        if self.kind == "power" and not (np.isfinite(self.floor_min) and self.floor_min > 0):
            raise InputError(f"power decay needs floor_min > 0 minutes, got {self.floor_min!r}")

    def weight(self, t_min: np.ndarray) -> np.ndarray:
        """Decay weight of travel times ``t_min`` (minutes), computed by the same
        numba function as in the kernels (:func:`~._decay.decay_weight`)."""
        t = np.asarray(t_min, dtype=np.float64)
        return decay_weights(t.ravel(), *self.kernel_params(units_per_minute=1.0)).reshape(t.shape)

    def kernel_params(self, units_per_minute: float = 60.0) -> tuple[int, float, float]:
        """``(decay_kind, decay_param, decay_floor)`` for the kernels' :func:`~._decay.decay_weight`
        when costs are in units of ``1 / units_per_minute`` minutes (60: seconds)."""
        kind = _DECAY_KINDS[self.kind]
        if self.kind == "exponential":  # exp(-beta * t_s / 60)
            return kind, self.beta / units_per_minute, 0.0
        if self.kind == "gaussian":  # sigma in seconds
            return kind, self.sigma_min * units_per_minute, 0.0
        if self.kind == "power":  # the ratio t / floor has no unit
            return kind, float(self.beta), self.floor_min * units_per_minute
        return kind, 0.0, 0.0


# ---------------------------------------------------------------- validation


def set_threads(n: int) -> int:
    """Use ``n`` threads in the parallel kernels; returns the previous number.

    ``n`` is capped at ``numba.config.NUMBA_NUM_THREADS`` (set that environment
    variable before the first import to allow more).
    """
    prev = numba.get_num_threads()
    if int(n) < 1:
        raise InputError(f"threads must be >= 1, got {n}")
    numba.set_num_threads(min(int(n), numba.config.NUMBA_NUM_THREADS))
    return prev


def nearest_facility(graph, nodes, offsets=None, *, weight: str = "time",
                     limit: float = np.inf, reverse: bool = False) -> NearestResult:
    """Cost from the nearest facility to every node (one multi-source Dijkstra).

    Parameters
    ----------
    graph : RoadGraph
    nodes : array_like of int
        Facility nodes (duplicates allowed).
    offsets : array_like of float, optional
        Start cost of each facility (e.g. an access time), ``>= 0``; default 0.
    weight : {"time", "length"}
        Edge weight: seconds or metres.
    limit : float
        Nodes beyond this cost are not reached (inclusive; default no limit).
    reverse : bool
        Search the reversed graph: cost from every node *to* its nearest facility.

    Returns
    -------
    NearestResult
        ``dist`` and ``source`` (index into ``nodes``, lowest on ties) per node.
    """
    g = graph.reversed if reverse else graph
    off, tgt, w = _graph_arrays(g, weight)
    n = off.size - 1
    src = _nodes(nodes, n, "nodes")
    so = _offsets(offsets, src.size, "offsets")
    dist, nearest = kernels.multi_source_dijkstra(off, tgt, w, src, so, _limit(limit, "limit"))
    return NearestResult(dist, nearest)


def walk_nearest(graph, nodes, offsets=None, limit_m: float = defaults.WALK_LIMIT_M
                 ) -> NearestResult:
    """Walking distance in metres from the nearest of ``nodes`` (within ``limit_m``):
    :func:`nearest_facility` with length weights."""
    return nearest_facility(graph, nodes, offsets, weight="length", limit=limit_m)


def potential_args(n: int, origins, node_weight, limit_s, decay, origin_offsets, weight: str):
    """Checked arguments of a potential query on a graph of ``n`` nodes (shared by
    :func:`potential` and the contraction hierarchy): origins, their offsets, the
    limit, the node weights and the kernel's decay parameters (times in seconds)."""
    org = _nodes(origins, n, "origins")
    oo = _offsets(origin_offsets, org.size, "origin_offsets")
    limit = _limit(limit_s, "limit_s")
    nw = _per_node(node_weight, n, "node_weight", np.float64)
    if not np.isfinite(nw).all():
        raise InputError("node_weight contains NaN or infinite values")
    if not isinstance(decay, Decay):
        raise InputError(f"decay must be a Decay, got {type(decay).__name__}")
    if weight != "time" and decay.kind != "none":
        raise InputError("decay parameters are in minutes: use weight='time' with a decay")
    return org, oo, limit, nw, decay.kernel_params(60.0)


def potential(graph, origins, node_weight, *, limit_s: float = defaults.LIMIT_MIN * 60.0,
              decay: Decay = Decay("none"), origin_offsets=None, boundary=None,
              weight: str = "time") -> PotentialResult:
    """Decay-weighted sum of ``node_weight`` within ``limit_s`` of every origin.

    One bounded Dijkstra per origin, in parallel; nothing of size origins x nodes
    is ever held.

    Parameters
    ----------
    graph : RoadGraph
    origins : array_like of int
        Origin nodes.
    node_weight : array_like of float, shape (n_nodes,)
        Weight of every node (e.g. population snapped to it), 0 elsewhere.
    limit_s : float
        Largest cost counted (seconds, or metres with ``weight="length"``).
    decay : Decay
        Decay of the weight with travel time (parameters in minutes).
    origin_offsets : array_like of float, optional
        Start cost of each origin; it counts towards the limit and the decay.
    boundary : array_like of bool, shape (n_nodes,), optional
        Nodes on the edge of the study area; reaching one flags the origin.
    weight : {"time", "length"}
        Edge weight. With ``"length"`` only ``Decay("none")`` makes sense.

    Returns
    -------
    PotentialResult
    """
    off, tgt, w = _graph_arrays(graph, weight)
    n = off.size - 1
    org, oo, limit, nw, (kind, decay_param, decay_floor) = potential_args(
        n, origins, node_weight, limit_s, decay, origin_offsets, weight)
    bd = np.zeros(n, np.bool_) if boundary is None else _per_node(boundary, n, "boundary", np.bool_)
    if org.size < _PROGRESS_MIN_ORIGINS:
        sums, n_reached, touches = kernels.bounded_potential(
            off, tgt, w, org, oo, limit, nw, kind, decay_param, decay_floor, bd)
        return PotentialResult(sums, n_reached, touches)
    # Many origins (a national run takes minutes): feed the parallel kernel in chunks
    # to show progress. Every origin's search is independent, so results are the same.
    from tqdm.auto import tqdm

    parts = []
    bounds = np.linspace(0, org.size, _PROGRESS_CHUNKS + 1).astype(np.int64)
    for a, b in tqdm(list(zip(bounds[:-1], bounds[1:])), desc="2-hour potential",
                     unit="chunk", leave=False, disable=None):  # no bar off a terminal
        parts.append(kernels.bounded_potential(off, tgt, w, org[a:b], oo[a:b], limit, nw,
                                               kind, decay_param, decay_floor, bd))
    return PotentialResult(*(np.concatenate([p[i] for p in parts]) for i in range(3)))


#: From this many origins on, potential() reports progress (in _PROGRESS_CHUNKS steps).
_PROGRESS_MIN_ORIGINS = 2000
_PROGRESS_CHUNKS = 50


def one_to_many(graph, origins, targets, *, limit: float = np.inf, origin_offsets=None,
                weight: str = "time") -> CostMatrix:
    """Costs from every origin to every target within ``limit``, as a sparse table.

    Parameters
    ----------
    graph : RoadGraph
    origins, targets : array_like of int
        Origin and target nodes (duplicates allowed in both).
    limit : float
        Largest cost reported (inclusive; default no limit).
    origin_offsets : array_like of float, optional
        Start cost of each origin.
    weight : {"time", "length"}

    Returns
    -------
    CostMatrix, shape (len(origins), len(targets))
        A :class:`scipy.sparse.csr_array` with the costs as explicit entries (a zero
        cost is a stored 0); pairs beyond the limit or unreachable are not stored,
        and ``toarray()`` shows them as ``inf``.
    """
    off, tgt, w = _graph_arrays(graph, weight)
    n = off.size - 1
    org = _nodes(origins, n, "origins")
    oo = _offsets(origin_offsets, org.size, "origin_offsets")
    tnodes = _nodes(targets, n, "targets")
    limit = _limit(limit, "limit")
    uniq, inverse = np.unique(tnodes, return_inverse=True)
    target_index = np.full(n, -1, np.int32)
    target_index[uniq] = np.arange(uniq.size, dtype=np.int32)
    indptr, cols, times = kernels.bounded_one_to_many(off, tgt, w, org, oo, limit, target_index)
    shape = (org.size, tnodes.size)
    if uniq.size == tnodes.size and np.array_equal(uniq, tnodes):
        return CostMatrix((times, cols, indptr), shape=shape)  # columns already in order
    # Map unique columns back to the caller's; a node listed twice fills both.
    order = np.argsort(inverse, kind="stable")  # target columns grouped by node
    start = np.zeros(uniq.size + 1, np.int64)
    np.cumsum(np.bincount(inverse, minlength=uniq.size), out=start[1:])
    reps = start[cols + 1] - start[cols]
    rows = np.repeat(np.repeat(np.arange(org.size), np.diff(indptr)), reps)
    entry = np.repeat(np.arange(cols.size), reps)
    within = np.arange(entry.size) - np.repeat(np.cumsum(reps) - reps, reps)
    new_cols = order[start[cols[entry]] + within]
    o = np.lexsort((new_cols, rows))
    new_indptr = np.zeros(org.size + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=org.size), out=new_indptr[1:])
    return CostMatrix((times[entry][o], new_cols[o].astype(np.int32), new_indptr), shape=shape)


def decayed_row_sums(indptr, t_min, weight, decay: Decay) -> np.ndarray:
    """Row sums of ``decay(t) * weight`` over a sparse table of pairs (in parallel).

    Parameters
    ----------
    indptr : array_like of int, shape (k + 1,)
        CSR row pointer of the (origin, destination) pairs: row ``i`` is
        ``indptr[i]:indptr[i + 1]`` of the pair arrays.
    t_min : array_like of float, shape (indptr[-1],)
        Travel time of each pair in minutes.
    weight : array_like of float, shape (indptr[-1],)
        Destination weight of each pair.
    decay : Decay
        Decay of the weight with travel time.

    Returns
    -------
    ndarray of float64, shape (k,)
        Each row summed in its stored order, so the result does not depend on
        the number of threads (the same order as ``np.bincount`` over the rows).
    """
    ptr = np.asarray(indptr, np.int64)
    t = np.asarray(t_min, np.float64)
    w = np.asarray(weight, np.float64)
    if ptr.ndim != 1 or ptr.size < 1 or ptr[0] != 0 or (np.diff(ptr) < 0).any():
        raise InputError("indptr must be a non-decreasing CSR row pointer starting at 0")
    if t.shape != (ptr[-1],) or w.shape != t.shape:
        raise InputError(f"t_min and weight need shape ({ptr[-1]},) like indptr's last entry, "
                         f"got {t.shape} and {w.shape}")
    if not isinstance(decay, Decay):
        raise InputError(f"decay must be a Decay, got {type(decay).__name__}")
    return _decayed_row_sums(ptr, t, w, *decay.kernel_params(units_per_minute=1.0))


def warmup() -> float:
    """Compile (or load from numba's cache) every kernel on a tiny graph.

    Returns the seconds it took, so that benchmarks can report it separately.
    The tiny graph's arrays are read-only like a ``RoadGraph``'s, so the real
    calls reuse the compiled code.
    """
    t0 = time.perf_counter()
    off = np.array([0, 1, 2, 2], np.int64)
    tgt = np.array([1, 2], np.int32)
    w = np.array([1.0, 2.0])
    for a in (off, tgt, w):
        a.setflags(write=False)
    src = np.array([0], np.int64)
    so = np.zeros(1)
    kernels.multi_source_dijkstra(off, tgt, w, src, so, np.inf)
    kernels.bounded_potential(off, tgt, w, src, so, 10.0, np.ones(3), DECAY_NONE,
                              0.0, 0.0, np.zeros(3, np.bool_))
    kernels.bounded_one_to_many(off, tgt, w, src, so, 10.0, np.array([-1, 0, 1], np.int32))
    return time.perf_counter() - t0


def shortest_path_tree(graph, source: int, *, limit: float = np.inf, weight: str = "time",
                       reverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Shortest-path tree from one node (a single-source Dijkstra).

    Parameters
    ----------
    graph : RoadGraph
    source : int
        Source node.
    limit : float
        Nodes beyond this cost are not reached (inclusive; default no limit).
    weight : {"time", "length"}
        Edge weight: seconds or metres.
    reverse : bool
        Search the reversed graph: the tree of shortest paths *to* ``source``.
        ``pred_edge`` then indexes the edges of ``graph.reversed``.

    Returns
    -------
    dist : ndarray of float64, shape (n_nodes,)
        Cost from ``source`` (``inf`` where unreached).
    pred_edge : ndarray of int64, shape (n_nodes,)
        Last edge of a shortest path to each node (an index into the edge arrays
        of the searched graph), -1 for ``source`` and unreached nodes. The path
        to ``v`` is ``v <- sources[pred_edge[v]] <- ...`` back to ``source``.
    """
    g = graph.reversed if reverse else graph
    off, tgt, w = _graph_arrays(g, weight)
    src = _nodes(source, off.size - 1, "source")
    if src.size != 1:
        raise InputError(f"source must be one node index, got {src.size}")
    return kernels.shortest_path_tree(off, tgt, w, src[0], _limit(limit, "limit"))


__all__ += ["decayed_row_sums", "shortest_path_tree"]


_SCRATCH = threading.local()


def time_grid(graph, node: int, offset: float, point: tuple[float, float], *, limits,
              cell_m: float, cap_m: float, speed_ms: float, reverse: bool = False
              ) -> tuple[np.ndarray, int, int, np.ndarray]:
    """The reach of one bounded search on a grid, per time limit (grid isochrones).

    Parameters
    ----------
    graph : RoadGraph
        Node coordinates ``x``, ``y`` in metres (``graph.crs``).
    node, offset : int, float
        The search starts at ``node`` with ``offset`` seconds (the access leg from
        ``point``, the centre's own coordinates in ``graph.crs``).
    limits : array_like of float
        Seconds (inclusive), ascending; the search goes to the largest.
    cell_m, cap_m, speed_ms : float
        Grid cell (m), largest distance off the network (m) and the speed there (m/s).
    reverse : bool
        Search the reversed graph (times *to* the centre).

    Returns
    -------
    grid : ndarray (n_limits, ny, nx)
        Per limit ``L``, metres from each cell centre ``p`` to the area reached: the
        least ``|p - q| - min(cap_m, speed_ms (L - t_q))`` over the reached network
        points ``q`` (nodes, points every cell along the edges and the access leg),
        negative inside; ``inf`` far outside. Cell ``(i, j)`` of the whole grid
        covers ``[i, i + 1) x [j, j + 1)`` cells from the CRS origin.
    ix0, iy0 : int
        Whole-grid index of ``grid[:, 0, 0]``.
    times : ndarray
        Seconds of the reached nodes.

    Threads may call it at the same time (the kernel releases the GIL; each thread
    keeps its own scratch arrays).
    """
    g = graph.reversed if reverse else graph
    off, tgt, w = _graph_arrays(g, "time")
    n = off.size - 1
    src = _nodes(node, n, "node")
    s = getattr(_SCRATCH, "arrays", None)
    if s is None or s[0].size != n or s[1].size != tgt.size + 1:
        s = (np.full(n, np.inf), np.empty(tgt.size + 1), np.empty(tgt.size + 1, np.int64),
             np.empty(n, np.int64))
        _SCRATCH.arrays = s
    lim = np.sort(np.asarray(limits, np.float64).ravel())
    if lim.size == 0 or not (lim >= 0).all():
        raise InputError(f"limits must be seconds >= 0, got {limits!r}")
    x = np.asarray(graph.x, np.float64)
    y = np.asarray(graph.y, np.float64)
    return _grid.reach_grid(off, tgt, w, x, y, int(src[0]), float(offset), lim,
                            float(point[0]), float(point[1]),
                            float(cell_m), float(cap_m), float(speed_ms), *s)


__all__ += ["time_grid"]
