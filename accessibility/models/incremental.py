"""Incremental scenarios: a scenario's searches reuse those of its base run.

A scenario that changes central places (no road) runs on the base's road graph. Its
nearest-place searches differ from the base's only by the destinations added,
removed or moved; its Lage potentials not at all unless populations change. The base
run records its searches in a :class:`SearchMemo`; the scenario replays the models
with the memo active (:func:`reusing`) and each search asks the memo first:

* **nearest place** (:func:`nearest_search`, the reverse multi-source search of
  :func:`~accessibility.models.nearest.time_to_nearest` and of
  :func:`~accessibility.models.nearest.time_to_exit_s`): when the scenario's sources
  contain the base's in the same order, each with the same node and a start time no
  larger (an upgrade adds a Mittelzentrum; a new destination lowers the start time
  of the cut nodes near it), only the added and lowered sources are searched, from
  them alone and bounded by the largest time the base found at the nodes that
  matter. The new time is ``min(base, added)`` per node; the source is the base's
  where it is strictly faster, the added one's where that is, and on a tie the lower
  index in the scenario's source list: the full search's own rule (it settles a node
  by its lexicographically smallest ``(time, source index)`` label). Since a
  search's time at a node is the minimum over its sources' path sums, each computed
  along the path in the same order, the values are *identical* to a full search,
  not only to rounding. A removed source (a downgrade) or a raised start time needs
  a repair of the catchment it served: the search is run again in full for that
  class (one multi-source search, about 1 s on a national graph).
* **Lage potential** (:func:`memo`): the potentials depend on the graph, the
  municipalities' attachment, the daytime population, the decay and the limit. When
  all are the base's (a designation-only scenario), the base's potentials are taken
  as they are; settlement types, which depend on the functions, are classed again.
  A scenario never refits the decay: it uses the base's (a fit of
  :func:`~accessibility.models.lage.calibrate_lage` travels as its decay).

A scenario that changes roads (:func:`reusing` with its :class:`RoadChange`: the
base graph and the pairs whose time changed) runs on its own graph:

* **nearest place**: a search with the base's sources and start times is repaired
  (:func:`~accessibility.routing.repair_nearest`: the nodes whose label rested on a
  slower or closed edge reset and searched again from their neighbours, the new
  and faster edges seeding the nodes they improve), identical to a full search on
  the scenario's graph; a search with other sources (roads and designations
  changed at once) runs in full.
* **Lage potential**: the base's potentials of the origins no changed edge is
  within reach of, the others searched again
  (:func:`~accessibility.models.lage_roads.road_potentials`).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..graph import RoadGraph
from ..routing import EdgeChanges, NearestResult, nearest_facility, repair_nearest

__all__ = ["RoadChange", "SearchMemo", "memo", "merge_nearest", "nearest_search", "recording",
           "reusing"]

logger = logging.getLogger(__name__)


@dataclass
class _Search:
    reverse: bool
    nodes: np.ndarray
    offsets: np.ndarray
    result: NearestResult


@dataclass
class SearchMemo:
    """The searches of a base run, for its scenarios (picklable: Dask workers get it
    once with the graph).

    Attributes
    ----------
    n_nodes : int
        Nodes of the graph the searches ran on.
    searches : list
        The nearest-place searches (sources, start times and result per node).
    values : dict
        Other results by the hash of their inputs (:func:`memo`).
    stats : dict
        What the scenario reused (counts by kind), for tests and the log.
    """

    n_nodes: int
    searches: list = field(default_factory=list)
    values: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    def count(self, what: str, by: int = 1) -> None:
        self.stats[what] = self.stats.get(what, 0) + by


@dataclass(frozen=True)
class RoadChange:
    """A road scenario's change: the ``base`` graph (the memo's searches ran on it)
    and the node pairs whose time ``changes`` (the scenario's graph has the same
    nodes)."""

    base: RoadGraph
    changes: EdgeChanges


_ACTIVE: contextvars.ContextVar = contextvars.ContextVar("search_memo", default=None)


@contextlib.contextmanager
def _active(memo_: SearchMemo, mode: str, roads: RoadChange | None = None
            ) -> Iterator[SearchMemo]:
    token = _ACTIVE.set((memo_, mode, roads))
    try:
        yield memo_
    finally:
        _ACTIVE.reset(token)


def recording(graph: RoadGraph) -> contextlib.AbstractContextManager[SearchMemo]:
    """Record the searches of the models run inside (the base run on ``graph``)."""
    return _active(SearchMemo(graph.n_nodes), "record")


def reusing(memo_: SearchMemo, roads: RoadChange | None = None
            ) -> contextlib.AbstractContextManager[SearchMemo]:
    """Let the models run inside reuse ``memo_``: a scenario on the base's graph, or
    with ``roads`` one on the base graph changed by them."""
    return _active(memo_, "reuse", roads)


def _embedding(old: np.ndarray, new: np.ndarray) -> np.ndarray | None:
    """Positions in ``new`` of the entries of ``old`` as an order-preserving
    subsequence (first match of each), or None when ``old`` is not one."""
    if old.size > new.size:
        return None
    if old.size == new.size:
        return np.arange(old.size) if np.array_equal(old, new) else None
    pos = np.empty(old.size, np.int64)
    j = 0
    newl, n = new.tolist(), new.size
    for i, v in enumerate(old.tolist()):
        while j < n and newl[j] != v:
            j += 1
        if j == n:
            return None
        pos[i] = j
        j += 1
    return pos


def merge_nearest(base: NearestResult, base_pos: np.ndarray, extra: NearestResult,
                  extra_pos: np.ndarray, at: np.ndarray | None = None) -> NearestResult:
    """The result of one search from both source lists: the lower time per node and,
    on a tie, the lower source index (``base_pos`` / ``extra_pos`` map each list's
    indices to the combined list). With ``at`` (node indices) only those nodes are
    merged; the others keep the base's values (their source index unmapped)."""
    dist, src = base.dist.copy(), base.source.copy()
    at = slice(None) if at is None else at
    bs, es = base.source[at], extra.source[at]
    b_idx = np.where(bs >= 0, base_pos[np.maximum(bs, 0)], -1)
    e_idx = np.where(es >= 0, extra_pos[np.maximum(es, 0)], -1)
    bd, ed = base.dist[at], extra.dist[at]
    take_e = (ed < bd) | ((ed == bd) & (e_idx >= 0) & ((b_idx < 0) | (e_idx < b_idx)))
    dist[at] = np.where(take_e, ed, bd)
    src[at] = np.where(take_e, e_idx, b_idx)
    return NearestResult(dist, src)


def _plan(rec: _Search, nodes: np.ndarray, offsets: np.ndarray):
    """How a search of ``nodes`` / ``offsets`` follows from ``rec``: the positions of
    its sources in the new list and the sources to search, or None (repair in full)."""
    pos = _embedding(rec.nodes, nodes)
    if pos is None:
        return None
    new_off = offsets[pos]
    if (new_off > rec.offsets).any():
        return None  # a raised start time: repair in full
    lowered = pos[new_off < rec.offsets]
    added = np.setdiff1d(np.arange(nodes.size), pos, assume_unique=True)
    return pos, np.union1d(added, lowered)  # sorted: their own order keeps the tie rule


def nearest_search(graph: RoadGraph, nodes, offsets, *, reverse: bool = True,
                   interest: np.ndarray | None = None) -> NearestResult:
    """:func:`accessibility.routing.nearest_facility` (on the reversed graph by
    default), recorded for a base run and reused by its scenarios (module docstring).

    ``interest`` (node indices): the nodes whose values the caller reads; a reuse is
    then exact there only (the added sources' search stops at the largest time the
    base found at them; beyond, nodes keep the base's values). None: every node.
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.float64)
    state = _ACTIVE.get()
    if (state is not None and state[0].n_nodes == graph.n_nodes and state[1] == "reuse"
            and state[2] is not None):
        res = _repaired(state[0], state[2], graph, nodes, offsets, reverse)
        if res is not None:
            return res
    elif state is not None and state[0].n_nodes == graph.n_nodes and state[1] == "reuse":
        memo_ = state[0]
        plans = [(p[1].size, i, p) for i, rec in enumerate(memo_.searches)
                 if rec.reverse == reverse
                 and (p := _plan(rec, nodes, offsets)) is not None]
        if plans:
            _, i, (pos, search) = min(plans, key=lambda t: t[:2])
            rec = memo_.searches[i]
            memo_.count("nearest reused")
            if search.size == 0:
                return rec.result
            # only times below the base's at the nodes read can change anything
            at = None if interest is None else np.unique(interest)
            d_old = rec.result.dist if at is None else rec.result.dist[at]
            limit = float(d_old.max()) if d_old.size else 0.0
            extra = nearest_facility(graph, nodes[search], offsets[search], reverse=reverse,
                                     limit=limit)
            return merge_nearest(rec.result, pos, extra, search, at)
        memo_.count("nearest searched in full")
    res = nearest_facility(graph, nodes, offsets, reverse=reverse)
    if state is not None and state[1] == "record":
        state[0].searches.append(_Search(reverse, nodes, offsets, res))
    return res


def _repaired(memo_: SearchMemo, roads: RoadChange, graph: RoadGraph, nodes: np.ndarray,
              offsets: np.ndarray, reverse: bool) -> NearestResult | None:
    """The base's search of the same sources and start times repaired on the road
    scenario's ``graph`` (identical to a full search), or None: search in full."""
    rec = next((r for r in memo_.searches if r.reverse == reverse
                and np.array_equal(r.nodes, nodes) and np.array_equal(r.offsets, offsets)),
               None)
    if rec is None:
        memo_.count("nearest searched in full (other sources)")
        return None
    res, stats = repair_nearest(roads.base, graph, roads.changes, nodes, offsets, rec.result,
                                reverse=reverse)
    if res is None:
        memo_.count("nearest searched in full (rounding tie)")
        return None
    memo_.count("nearest repaired")
    memo_.count("nodes reset", stats["affected"])
    memo_.count("nodes settled by the repairs", stats["settled"])
    logger.info("road scenario: nearest-place search repaired: %s nodes reset, %s settled "
                "(of %s)", f"{stats['affected']:,}", f"{stats['settled']:,}",
                f"{graph.n_nodes:,}")
    return res


def _key(parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        a = np.asarray(p)
        h.update(f"{a.dtype}{a.shape}".encode() if a.dtype != object else b"O")
        h.update(a.tobytes() if a.dtype != object else repr(p).encode())
    return h.hexdigest()


def memo(what: str, parts, compute: Callable, repair: Callable | None = None):
    """``compute()``, recorded under the hash of ``parts`` (arrays or reprs of the
    inputs it depends on besides the graph's edges) in a base run and taken from
    there in a scenario whose inputs hash the same. In a road scenario the base's
    value is given to ``repair(value, roads)`` (the scenario's value from the base's
    and the :class:`RoadChange`); without ``repair`` it is computed."""
    state = _ACTIVE.get()
    if state is None:
        return compute()
    memo_, mode, roads = state
    key = what + ":" + _key(parts)
    if mode == "reuse" and key in memo_.values and roads is None:
        memo_.count(f"{what} reused")
        return memo_.values[key]
    if mode == "reuse" and key in memo_.values and repair is not None:
        memo_.count(f"{what} repaired")
        return repair(memo_.values[key], roads)
    value = compute()
    if mode == "record":
        memo_.values[key] = value
    else:
        memo_.count(f"{what} computed")
    return value
