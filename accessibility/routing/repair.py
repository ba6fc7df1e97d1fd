"""A multi-source search repaired after edge changes, not searched again.

A road scenario changes a few edges of a graph whose nearest-facility searches are
known (:func:`~accessibility.routing.nearest_facility`). :func:`repair_nearest` gives
the search on the changed graph from the base's labels (Ramalingam-Reps style):

1. **affected**: the nodes whose base label rests, through the labels it was
   derived from, on an edge whose time rose or that was removed (the subtree of
   that edge in the base's search tree; the tree is derived from the labels: a
   node's parent is the first edge into it from a strictly nearer node that gives
   its label, and a node on a plateau of equal times rests on every neighbour that
   gives it). They are reset.
2. **seeds**: each affected node from its own source and its unaffected
   in-neighbours; each edge whose time fell (or that is new) its head.
3. **one Dijkstra** in ``(time, source index)`` order over the affected part and
   the nodes that improve.

The labels are then *identical* to a full search's, time and source: the full
search's labels are the one fixpoint of "a label is the smallest of its seeds and
of its in-neighbours' labels plus the edge" that is derived from the seeds (on a
smallest differing label both would have to differ at a smaller one); the repair
keeps only labels that are still derived (an unaffected label's chain of parents
has no raised edge; a lowered one improves it or leaves it equal) and relaxes every
edge out of a label it changed, so it ends at that fixpoint. One case breaks the
argument: a node improved to a smaller time with a larger source index where
rounding makes both times plus an edge equal; then its child's unchanged label is
no longer derived, the kernel says so and the caller searches in full.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._repair_kernels import affected_nodes, pair_min_weights, repair_search
from .search import NearestResult

__all__ = ["EdgeChanges", "edge_changes", "repair_nearest"]


@dataclass(frozen=True)
class EdgeChanges:
    """Node pairs of a graph whose smallest edge time changed.

    Attributes
    ----------
    u, v : ndarray of int64
        Tail and head (the graph's direction).
    old, new : ndarray of float64
        The smallest time of the edges ``u -> v`` before and after (``inf``: none).
    """

    u: np.ndarray
    v: np.ndarray
    old: np.ndarray
    new: np.ndarray

    @property
    def raised(self) -> np.ndarray:
        """Pairs slower or removed."""
        return self.new > self.old

    @property
    def lowered(self) -> np.ndarray:
        """Pairs faster or new."""
        return self.new < self.old

    @property
    def lower_bound(self) -> np.ndarray:
        """The smaller of the two times per pair (the time no route can beat)."""
        return np.minimum(self.old, self.new)

    def __len__(self) -> int:
        return int(self.u.size)


def edge_changes(base, changed, u, v) -> EdgeChanges:
    """The pairs among ``u -> v`` (candidates: every edge the change touched,
    duplicates allowed) whose smallest time differs between the graphs ``base`` and
    ``changed`` (two :class:`~accessibility.graph.RoadGraph` of the same nodes)."""
    if base.n_nodes != changed.n_nodes:
        raise ValueError(f"edge_changes: graphs of {base.n_nodes} and {changed.n_nodes} nodes")
    u = np.asarray(u, np.int64)
    v = np.asarray(v, np.int64)
    if u.size:
        key = np.unique(u * base.n_nodes + v)
        u, v = key // base.n_nodes, key % base.n_nodes
    old = pair_min_weights(base.offsets, base.targets, base.time_s, u, v)
    new = pair_min_weights(changed.offsets, changed.targets, changed.time_s, u, v)
    keep = old != new
    return EdgeChanges(u[keep], v[keep], old[keep], new[keep])


def _seeds(n: int, nodes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per node the smallest ``(start time, source index)`` of the sources on it."""
    seed_d = np.full(n, np.inf)
    seed_s = np.full(n, -1, np.int64)
    order = np.lexsort((np.arange(nodes.size), offsets, nodes))
    first = order[np.r_[True, nodes[order][1:] != nodes[order][:-1]]] if order.size else order
    seed_d[nodes[first]] = offsets[first]
    seed_s[nodes[first]] = first
    return seed_d, seed_s


def repair_nearest(base, changed, changes: EdgeChanges, nodes, offsets,
                   base_result: NearestResult, *, reverse: bool = False
                   ) -> tuple[NearestResult | None, dict]:
    """:func:`~accessibility.routing.nearest_facility` of ``nodes`` / ``offsets`` on
    ``changed`` (no limit, time weights), from its ``base_result`` on ``base``.

    Parameters
    ----------
    base, changed : RoadGraph
        The graphs before and after, the same nodes.
    changes : EdgeChanges
        Every pair whose smallest time differs (:func:`edge_changes`).
    nodes, offsets : array_like
        The search's sources and start times (those of ``base_result``).
    base_result : NearestResult
        The search on ``base``.
    reverse : bool
        The search ran on the reversed graphs.

    Returns
    -------
    NearestResult or None, dict
        The search on ``changed``, identical to a full one (module docstring), or
        None in the rounding case that needs a full search; and ``affected`` (nodes
        reset) and ``settled`` (nodes the repair settled).
    """
    nodes = np.asarray(nodes, np.int64)
    offsets = np.asarray(offsets, np.float64)
    b_s, b_i = (base.reversed, base) if reverse else (base, base.reversed)
    c_s, c_i = (changed.reversed, changed) if reverse else (changed, changed.reversed)
    # the pairs in the search's direction
    tail, head = (changes.v, changes.u) if reverse else (changes.u, changes.v)
    seed_d, seed_s = _seeds(base.n_nodes, nodes, offsets)
    dist = np.asarray(base_result.dist, np.float64)
    src = np.asarray(base_result.source, np.int32)
    up = changes.raised
    aff, aff_nodes = affected_nodes(b_s.offsets, b_s.targets, b_i.offsets, b_i.targets,
                                    b_i.time_s, dist, src, seed_d, seed_s, tail[up], head[up])
    down = changes.lowered
    d, s, n_settled, ok = repair_search(c_s.offsets, c_s.targets, c_s.time_s, c_i.offsets,
                                        c_i.targets, c_i.time_s, dist, src, seed_d, seed_s,
                                        aff, aff_nodes, tail[down], head[down],
                                        changes.new[down])
    stats = {"affected": int(aff_nodes.size), "settled": int(n_settled)}
    return (NearestResult(d, s) if ok else None), stats
