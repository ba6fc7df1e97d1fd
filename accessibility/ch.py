"""Contraction hierarchy (CH) with bucket-based many-to-many queries.

For many origins and a fixed set of weighted targets (e.g. the 2-hour
population potential between all German municipalities) a per-origin bounded
Dijkstra settles a large part of the graph every time. A contraction hierarchy
is built once (:meth:`ContractionHierarchy.build`); then every target runs a
small backward upward search that leaves ``(target, cost)`` entries in buckets
at the nodes it settles, and every origin runs a small forward upward search
that scans the buckets of the nodes it settles (the many-to-many algorithm of
Knopp et al. 2007, as in OSRM's table service). Costs are exact (up to the
floating-point association of sums of edge weights).

Example::

    ch = ContractionHierarchy.build(graph)
    res = ch.potential(origins, node_weight, limit_s=7200.0,
                       decay=Decay("exponential", beta=0.076))
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np
from scipy.sparse import csr_array

from . import _ch_kernels as K
from ._errors import InputError
from .defaults import LIMIT_MIN
from ._validate import graph_arrays as _graph_arrays, limit as _limit, nodes as _nodes, \
    offsets as _offsets
from .routing import CostMatrix, Decay, PotentialResult, potential_args

__all__ = ["ContractionHierarchy"]

#: Witness-search settle limits (priority estimation, contraction).
SIM_SETTLE = 100
SETTLE = 500


def _clean_csr(offsets, targets, weights):
    """Arcs without self loops and parallel arcs (the cheapest kept), as out-
    and in-CSR arrays."""
    n = offsets.size - 1
    u = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
    v = targets.astype(np.int64)
    keep = u != v
    u, v, w = u[keep], v[keep], weights[keep]
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(u.size, bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w = u[first], v[first], w[first]
    out_off = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=out_off[1:])
    o = np.lexsort((u, v))
    in_off = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(v, minlength=n), out=in_off[1:])
    return (out_off, v.astype(np.int32), np.ascontiguousarray(w),
            in_off, u[o].astype(np.int32), np.ascontiguousarray(w[o]))



@dataclass(eq=False)
class ContractionHierarchy:
    """A contraction hierarchy of a road graph (nodes renumbered by rank).

    Attributes
    ----------
    rank : ndarray of int64, shape (n,)
        Contraction rank of every graph node (``n - 1``: most important).
    up_off, up_t, up_w : ndarray
        Upward CSR in rank space: arcs ``v -> w`` with ``w > v``.
    dn_off, dn_t, dn_w : ndarray
        Downward CSR reversed, in rank space: at ``v`` the arcs ``w -> v``, ``w > v``.
    n_shortcuts : int
        Shortcut arcs created during contraction.
    build_s : float
        Preprocessing seconds.
    """

    rank: np.ndarray
    up_off: np.ndarray
    up_t: np.ndarray
    up_w: np.ndarray
    dn_off: np.ndarray
    dn_t: np.ndarray
    dn_w: np.ndarray
    n_shortcuts: int
    build_s: float
    weight: str = "time"
    meta: dict = field(default_factory=dict)
    _buckets: dict = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        return int(self.rank.size)

    @property
    def n_arcs(self) -> int:
        """Arcs in the upward plus the downward graph."""
        return int(self.up_t.size + self.dn_t.size)

    @classmethod
    def build(cls, graph, *, weight: str = "time", sim_settle: int = SIM_SETTLE,
              settle: int = SETTLE) -> ContractionHierarchy:
        """Contract ``graph`` (a :class:`~accessibility.graph.core.RoadGraph` or
        anything with its CSR arrays).

        Nodes are contracted in the order of a priority (edge quotient, hop
        quotient, level and deleted neighbours; lazy updates and neighbour
        updates). Witness searches settle at most ``sim_settle`` nodes while
        estimating priorities and ``settle`` while contracting; a witness not
        found only adds a superfluous shortcut, so costs stay exact. Self loops
        are dropped and of parallel arcs the cheapest is kept.
        """
        t0 = time.perf_counter()
        off, tgt, w = _graph_arrays(graph, weight)
        n = off.size - 1
        if n == 0:
            raise InputError("the graph has no nodes")
        arrays = _clean_csr(off, tgt, w)
        rank, up_off, up_t, up_w, dn_off, dn_t, dn_w, nsc, stats = K.contract(
            *arrays, int(sim_settle), int(settle))
        build_s = time.perf_counter() - t0
        return cls(rank, up_off, up_t, up_w, dn_off, dn_t, dn_w, int(nsc), build_s, weight,
                   meta={"n_nodes": n, "n_input_arcs": int(arrays[1].size),
                         "sim_settle": int(sim_settle), "settle": int(settle),
                         **dict(zip(("simulations", "witness_searches", "witness_settles",
                                     "settle_limit_hits", "lazy_repushes"),
                                    (int(x) for x in stats[:5])))})

    # ------------------------------------------------------------------ queries
    def _buckets_for(self, tnodes: np.ndarray, limit: float):
        """Buckets of the targets ``tnodes`` (graph ids), cached for the last set."""
        key = (limit, tnodes.tobytes())
        hit = self._buckets.get("key")
        if hit is not None and hit == key:
            return self._buckets["value"]
        t0 = time.perf_counter()
        value = K.build_buckets(self.rank[tnodes], limit, self.up_off, self.up_t, self.up_w,
                                self.dn_off, self.dn_t, self.dn_w, numba.get_num_threads())
        self._buckets.clear()
        self._buckets.update(key=key, value=value, seconds=time.perf_counter() - t0)
        return value

    def potential(self, origins, node_weight, *, limit_s: float = LIMIT_MIN * 60.0,
                  decay: Decay = Decay("none"), origin_offsets=None) -> PotentialResult:
        """Decay-weighted sum of ``node_weight`` within ``limit_s`` of every origin,
        like :func:`accessibility.routing.potential` (targets: nodes with a
        non-zero weight; no boundary flags: ``touches_boundary`` is all False).

        The buckets of the targets are kept for the next call with the same
        targets and limit.
        """
        org, oo, limit, nw, (kind, p1, p2) = potential_args(
            self.n_nodes, origins, node_weight, limit_s, decay, origin_offsets, self.weight)
        tnodes = np.flatnonzero(nw != 0.0).astype(np.int64)
        if tnodes.size == 0:
            return PotentialResult(np.zeros(org.size), np.zeros(org.size, np.int64),
                                   np.zeros(org.size, np.bool_))
        b_off, b_tgt, b_dist = self._buckets_for(tnodes, limit)
        sums, n_reached = K.bucket_potential(
            self.rank[org], oo, limit, self.up_off, self.up_t, self.up_w, self.dn_off,
            self.dn_t, self.dn_w, b_off, b_tgt, b_dist, np.ascontiguousarray(nw[tnodes]),
            kind, p1, p2, numba.get_num_threads())
        return PotentialResult(sums, n_reached, np.zeros(org.size, np.bool_))

    def one_to_many(self, origins, targets, limit: float = np.inf, *,
                    origin_offsets=None) -> CostMatrix:
        """Costs from every origin to every target within ``limit`` (inclusive),
        as a ``(len(origins), len(targets))`` sparse table like
        :func:`accessibility.routing.one_to_many` (a zero cost is a stored 0)."""
        n = self.n_nodes
        org = _nodes(origins, n, "origins")
        oo = _offsets(origin_offsets, org.size, "origin_offsets")
        tn = _nodes(targets, n, "targets")
        limit = _limit(limit, "limit")
        uniq, inverse = np.unique(tn, return_inverse=True)
        b_off, b_tgt, b_dist = self._buckets_for(uniq, limit)
        indptr, cols, costs = K.bucket_one_to_many(
            self.rank[org], oo, limit, self.up_off, self.up_t, self.up_w, self.dn_off,
            self.dn_t, self.dn_w, b_off, b_tgt, b_dist, uniq.size)
        table = csr_array((costs, cols, indptr), shape=(org.size, uniq.size))
        if uniq.size == tn.size and np.array_equal(uniq, tn):
            return CostMatrix(table)
        out = csr_array(table[:, inverse.ravel()])
        out.sort_indices()
        return CostMatrix(out)

    @classmethod
    def cached(cls, graph, cache_dir, *, weight: str = "time") -> ContractionHierarchy:
        """The hierarchy of ``graph`` from ``cache_dir`` when it was built before for
        the same arrays (key: a hash of the CSR arrays and weights), else built and
        stored there. A national graph's preprocessing then runs once, not per run."""
        off, tgt, w = _graph_arrays(graph, weight)
        h = hashlib.sha256()
        for a in (off, tgt, w):
            h.update(np.ascontiguousarray(a).tobytes())
        h.update(f"{weight}/{SIM_SETTLE}/{SETTLE}".encode())
        path = Path(cache_dir) / f"ch-{h.hexdigest()[:24]}.npz"
        if path.is_file():
            try:
                hier = cls.load(path)
                if hier.rank.size == off.size - 1:
                    hier.meta["cache"] = "loaded"
                    return hier
            except Exception:  # truncated or foreign file: build it again
                pass
        hier = cls.build(graph, weight=weight)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        hier.save(tmp)
        os.replace(tmp, path)  # complete or absent, never half-written
        hier.meta["cache"] = "built"
        return hier

    def save(self, path) -> None:
        """Save the hierarchy to ``path`` (.npz)."""
        np.savez(path, rank=self.rank, up_off=self.up_off, up_t=self.up_t, up_w=self.up_w,
                 dn_off=self.dn_off, dn_t=self.dn_t, dn_w=self.dn_w,
                 n_shortcuts=self.n_shortcuts, build_s=self.build_s, weight=self.weight)

    @classmethod
    def load(cls, path) -> ContractionHierarchy:
        """Load a hierarchy written by :meth:`save`."""
        z = np.load(path, allow_pickle=False)
        return cls(z["rank"], z["up_off"], z["up_t"], z["up_w"], z["dn_off"], z["dn_t"],
                   z["dn_w"], int(z["n_shortcuts"]), float(z["build_s"]), str(z["weight"]))
