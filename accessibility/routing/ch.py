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

The same hierarchy answers one-to-all and many-to-many queries without a
priority queue over the whole graph (:mod:`accessibility.routing._phast_kernels`).
PHAST (Delling et al. 2011; :meth:`ContractionHierarchy.one_to_all`,
:meth:`~ContractionHierarchy.many_to_all`) runs a small upward search from the
source(s) and then one linear sweep over all nodes in descending rank that
relaxes the downward arcs: a full shortest-path tree (optionally multi-source,
with the nearest source) at the cost of reading the hierarchy once. RPHAST
(Delling, Goldberg, Werneck 2011; :meth:`~ContractionHierarchy.rphast_one_to_many`,
:meth:`~ContractionHierarchy.rphast_potential`) first selects the part of the
downward graph from which the targets can be reached and then sweeps only that,
for batches of sources at once; it wins over the buckets when targets are many
and dense relative to the selection and a limit prunes little.

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

from .._errors import InputError
from .._util import remove_dead_temps, temp_path
from ..defaults import LIMIT_MIN
from . import _ch_contract as C, _ch_query_kernels as Q, _phast_kernels as P
from ._validate import (
    graph_arrays as _graph_arrays,
    limit as _limit,
    nodes as _nodes,
    offsets as _offsets,
)
from .search import CostMatrix, Decay, NearestResult, PotentialResult, potential_args

__all__ = ["ContractionHierarchy"]

#: Witness-search settle limits (priority estimation, contraction).
SIM_SETTLE = 100
SETTLE = 500
#: A round of the parallel contraction takes the nodes whose priority is the
#: smallest within this many arcs (2: about the sequential order's shortcut count).
INDEPENDENT_HOPS = 2
#: Version of the preprocessing algorithm, part of :meth:`ContractionHierarchy.cached`'s
#: key: hierarchies built by another algorithm are built again, not reused.
CH_ALGORITHM = f"parallel-rounds-{INDEPENDENT_HOPS}hop/1"


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
              settle: int = SETTLE, threads: int | None = None) -> ContractionHierarchy:
        """Contract ``graph`` (a :class:`~accessibility.graph.core.RoadGraph` or
        anything with its CSR arrays) on ``threads`` threads (default: numba's
        current thread count; at most ``NUMBA_NUM_THREADS``).

        Nodes are contracted in rounds
        (:func:`accessibility.routing._ch_contract.contract_parallel`): a round
        takes every node whose priority (edge quotient, hop quotient, level and
        deleted neighbours) is the smallest within
        :data:`INDEPENDENT_HOPS` arcs, finds their shortcuts in parallel, inserts
        them and recomputes the neighbours' priorities in parallel. The
        hierarchy does not depend on the thread count. Witness searches settle at
        most ``sim_settle`` nodes while estimating priorities and ``settle``
        while contracting; a witness not found only adds a superfluous shortcut,
        so costs stay exact. Self loops are dropped and of parallel arcs the
        cheapest is kept. ``meta`` records the threads, rounds and search counts.
        """
        t0 = time.perf_counter()
        if threads is None:
            threads = numba.get_num_threads()
        if int(threads) < 1:
            raise InputError(f"threads must be at least 1, got {threads}")
        threads = min(int(threads), numba.config.NUMBA_NUM_THREADS)
        off, tgt, w = _graph_arrays(graph, weight)
        n = off.size - 1
        if n == 0:
            raise InputError("the graph has no nodes")
        arrays = _clean_csr(off, tgt, w)
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            rank, up_off, up_t, up_w, dn_off, dn_t, dn_w, nsc, stats = C.contract_parallel(
                *arrays, int(sim_settle), int(settle), threads, INDEPENDENT_HOPS)
        finally:
            numba.set_num_threads(before)
        build_s = time.perf_counter() - t0
        return cls(rank, up_off, up_t, up_w, dn_off, dn_t, dn_w, int(nsc), build_s, weight,
                   meta={"n_nodes": n, "n_input_arcs": int(arrays[1].size),
                         "sim_settle": int(sim_settle), "settle": int(settle),
                         "algorithm": CH_ALGORITHM, "threads": threads,
                         **dict(zip(("simulations", "witness_searches", "witness_settles",
                                     "settle_limit_hits", "rounds", "largest_round",
                                     "pool_compactions"),
                                    (int(x) for x in stats[:7])))})

    # ------------------------------------------------------------------ queries
    def _buckets_for(self, tnodes: np.ndarray, limit: float):
        """Buckets of the targets ``tnodes`` (graph ids), cached for the last set."""
        key = (limit, tnodes.tobytes())
        hit = self._buckets.get("key")
        if hit is not None and hit == key:
            return self._buckets["value"]
        t0 = time.perf_counter()
        value = Q.build_buckets(self.rank[tnodes], limit, self.up_off, self.up_t, self.up_w,
                                self.dn_off, self.dn_t, self.dn_w, numba.get_num_threads())
        self._buckets.clear()
        self._buckets.update(key=key, value=value, seconds=time.perf_counter() - t0)
        return value

    def potential(self, origins, node_weight, *, limit_s: float = LIMIT_MIN * 60.0,
                  decay: Decay = Decay("none"),  # noqa: B008 (frozen)
                  origin_offsets=None) -> PotentialResult:
        """Decay-weighted sum of ``node_weight`` within ``limit_s`` of every origin,
        like :func:`accessibility.routing.potential` (targets: nodes with a
        non-zero weight; no boundary flags: ``touches_boundary`` is all False).

        The buckets of the targets are kept for the next call with the same
        targets and limit.
        """
        org, oo, limit, nw, (kind, decay_param, decay_floor) = potential_args(
            self.n_nodes, origins, node_weight, limit_s, decay, origin_offsets, self.weight)
        tnodes = np.flatnonzero(nw != 0.0).astype(np.int64)
        if tnodes.size == 0:
            return PotentialResult(np.zeros(org.size), np.zeros(org.size, np.int64),
                                   np.zeros(org.size, np.bool_))
        b_off, b_tgt, b_dist = self._buckets_for(tnodes, limit)
        sums, n_reached = Q.bucket_potential(
            self.rank[org], oo, limit, self.up_off, self.up_t, self.up_w, self.dn_off,
            self.dn_t, self.dn_w, b_off, b_tgt, b_dist, np.ascontiguousarray(nw[tnodes]),
            kind, decay_param, decay_floor, numba.get_num_threads())
        return PotentialResult(sums, n_reached, np.zeros(org.size, np.bool_))

    def _many_to_many_args(self, origins, targets, origin_offsets, limit) -> tuple:
        """Checked origins, offsets and limit of a many-to-many query, its targets as
        sorted unique nodes, the inverse map, and whether they were that already."""
        n = self.n_nodes
        org = _nodes(origins, n, "origins")
        oo = _offsets(origin_offsets, org.size, "origin_offsets")
        tn = _nodes(targets, n, "targets")
        uniq, inverse = np.unique(tn, return_inverse=True)
        same = uniq.size == tn.size and np.array_equal(uniq, tn)
        return org, oo, _limit(limit, "limit"), uniq, inverse.ravel(), same

    def one_to_many(self, origins, targets, limit: float = np.inf, *,
                    origin_offsets=None) -> CostMatrix:
        """Costs from every origin to every target within ``limit`` (inclusive),
        as a ``(len(origins), len(targets))`` sparse table like
        :func:`accessibility.routing.one_to_many` (a zero cost is a stored 0)."""
        org, oo, limit, uniq, inverse, same = self._many_to_many_args(
            origins, targets, origin_offsets, limit)
        b_off, b_tgt, b_dist = self._buckets_for(uniq, limit)
        indptr, cols, costs = Q.bucket_one_to_many(
            self.rank[org], oo, limit, self.up_off, self.up_t, self.up_w, self.dn_off,
            self.dn_t, self.dn_w, b_off, b_tgt, b_dist, uniq.size)
        table = csr_array((costs, cols, indptr), shape=(org.size, uniq.size))
        if same:
            return CostMatrix(table)
        out = csr_array(table[:, inverse])
        out.sort_indices()
        return CostMatrix(out)

    @classmethod
    def cached(cls, graph, cache_dir, *, weight: str = "time") -> ContractionHierarchy:
        """The hierarchy of ``graph`` from ``cache_dir`` when it was built before for
        the same arrays (key: a hash of the CSR arrays and weights, the settle limits
        and :data:`CH_ALGORITHM`), else built and stored there. A national graph's
        preprocessing then runs once, not per run."""
        off, tgt, w = _graph_arrays(graph, weight)
        h = hashlib.sha256()
        for a in (off, tgt, w):
            h.update(np.ascontiguousarray(a).tobytes())
        h.update(f"{weight}/{SIM_SETTLE}/{SETTLE}/{CH_ALGORITHM}".encode())
        path = Path(cache_dir) / f"ch-{h.hexdigest()[:24]}.npz"
        if path.parent.is_dir():
            remove_dead_temps(path.parent)
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
        tmp = temp_path(path)  # a kill leaves it to the next run (remove_dead_temps)
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

    # ------------------------------------------------------------ PHAST / RPHAST
    def _hierarchy(self) -> tuple:
        return (self.up_off, self.up_t, self.up_w, self.dn_off, self.dn_t, self.dn_w)

    def phast_layout(self) -> dict:
        """The sweep layout of PHAST (nodes by level, then graph order; see
        :func:`accessibility.routing._phast_kernels.phast_order`), built on first use and
        kept: a copy of the downward graph plus two node maps.

        Returns a dict with the kernel arrays (``pos``, ``gpos``, ``s_off``,
        ``s_t``, ``s_w``) and the ``seconds`` it took to build.
        """
        lay = self.__dict__.get("_phast_layout")
        if lay is None:
            t0 = time.perf_counter()
            arrays = P.phast_order(self.rank, self.dn_off, self.dn_t, self.dn_w)
            lay = dict(zip(("pos", "gpos", "s_off", "s_t", "s_w"), arrays))
            lay["seconds"] = time.perf_counter() - t0
            self.__dict__["_phast_layout"] = lay
        return lay

    def _layout_args(self) -> tuple:
        lay = self.phast_layout()
        return (lay["pos"], lay["gpos"], lay["s_off"], lay["s_t"], lay["s_w"])

    def one_to_all(self, sources, source_offsets=None, *, limit: float = np.inf):
        """Cost from the nearest of ``sources`` to every node, by PHAST.

        One upward search from all sources at once, then one sweep over all
        nodes from the top of the hierarchy down (in the layout of
        :meth:`phast_layout`, built on the first call) that relaxes the
        downward arcs (no priority queue over the graph). The result is that of
        :func:`accessibility.routing.nearest_facility` (up to the floating-point
        association of sums of edge weights).

        Parameters
        ----------
        sources : array_like of int
            Source nodes (duplicates allowed).
        source_offsets : array_like of float, optional
            Start cost of each source (e.g. an access time), ``>= 0``; default 0.
        limit : float
            Nodes beyond this cost are not reached (inclusive; default no limit).

        Returns
        -------
        NearestResult
            ``dist`` (cost per node, ``inf`` where not reached) and ``source``
            (index into ``sources`` of the nearest, the lowest index on ties, -1
            where not reached); unpacks as ``times, nearest = ch.one_to_all(...)``.
        """
        src = _nodes(sources, self.n_nodes, "sources")
        so = _offsets(source_offsets, src.size, "source_offsets")
        dist, nearest = P.phast(self.rank[src], so, _limit(limit, "limit"), *self._hierarchy(),
                                *self._layout_args())
        return NearestResult(dist, nearest)

    def many_to_all(self, sources, *, source_offsets=None, limit: float = np.inf) -> np.ndarray:
        """One full shortest-path tree per source (PHAST), sources in parallel.

        Parameters
        ----------
        sources : array_like of int
            Source nodes, one tree each.
        source_offsets : array_like of float, optional
            Start cost of each source (``>= 0``); default 0.
        limit : float
            Costs beyond this are ``inf`` (inclusive; default no limit).

        Returns
        -------
        ndarray of float64, shape (len(sources), n_nodes)
            Costs from every source to every node (``inf`` where not reached):
            8 bytes per source and node, so ask for a few sources at a time.
        """
        src = _nodes(sources, self.n_nodes, "sources")
        so = _offsets(source_offsets, src.size, "source_offsets")
        return P.phast_many(self.rank[src], so, _limit(limit, "limit"), *self._hierarchy(),
                            *self._layout_args(), numba.get_num_threads())

    def rphast_selection(self, targets, limit: float = np.inf) -> dict:
        """The RPHAST restricted graph of ``targets`` (graph ids, unique) within
        ``limit``, kept for the next call with the same targets and limit.

        Returns a dict with the kernel arrays (``local``, ``r_off``, ``r_t``,
        ``r_w``, ``target_pos``), ``n_nodes`` and ``n_arcs`` of the selection and
        ``seconds`` it took to build.
        """
        tn = np.ascontiguousarray(targets, dtype=np.int64)
        key = (float(limit), tn.tobytes())
        cache = self.__dict__.setdefault("_rphast_cache", {})
        if cache.get("key") == key:
            return cache["value"]
        t0 = time.perf_counter()
        local, r_off, r_t, r_w, tpos = P.rphast_select(self.rank[tn], float(limit),
                                                       self.dn_off, self.dn_t, self.dn_w)
        sel = dict(local=local, r_off=r_off, r_t=r_t, r_w=r_w, target_pos=tpos,
                   n_nodes=int(r_off.size - 1), n_arcs=int(r_t.size),
                   seconds=time.perf_counter() - t0)
        cache.update(key=key, value=sel)
        return sel

    def _selection_args(self, sel: dict) -> tuple:
        return (sel["local"], sel["r_off"], sel["r_t"], sel["r_w"], sel["target_pos"])

    def rphast_one_to_many(self, origins, targets, limit: float = np.inf, *,
                           origin_offsets=None) -> np.ndarray:
        """Costs from every origin to every target within ``limit`` (inclusive), by
        RPHAST, as a dense table.

        The targets' restricted downward graph is selected once (and kept for
        the next call with the same targets and limit); then every origin runs
        an upward search and a sweep over the restricted graph only, origins in
        batches and in parallel. Same costs as :meth:`one_to_many` (buckets).

        Parameters
        ----------
        origins, targets : array_like of int
            Origin and target nodes (duplicates allowed in both).
        limit : float
            Largest cost reported (inclusive; default no limit).
        origin_offsets : array_like of float, optional
            Start cost of each origin (``>= 0``); it counts towards the limit.

        Returns
        -------
        ndarray of float64, shape (len(origins), len(targets))
            ``inf`` where the target is unreachable or beyond ``limit``.
        """
        org, oo, limit, uniq, inverse, same = self._many_to_many_args(
            origins, targets, origin_offsets, limit)
        sel = self.rphast_selection(uniq, limit)
        table = P.rphast_one_to_many(self.rank[org], oo, limit, *self._hierarchy(),
                                     *self._selection_args(sel), numba.get_num_threads())
        if same:
            return table
        return np.ascontiguousarray(table[:, inverse])

    def rphast_potential(self, origins, node_weight, *, limit_s: float = LIMIT_MIN * 60.0,
                         decay: Decay = Decay("none"),  # noqa: B008 (frozen)
                         origin_offsets=None) -> PotentialResult:
        """Decay-weighted sum of ``node_weight`` within ``limit_s`` of every origin,
        by RPHAST; the same result as :meth:`potential` (buckets) and
        :func:`accessibility.routing.potential` (no boundary flags:
        ``touches_boundary`` is all False).

        Parameters
        ----------
        origins : array_like of int
            Origin nodes.
        node_weight : array_like of float, shape (n_nodes,)
            Weight of every node; the targets are the nodes with a non-zero weight.
        limit_s : float
            Largest cost counted (inclusive).
        decay : Decay
            Decay of the weight with travel time (parameters in minutes).
        origin_offsets : array_like of float, optional
            Start cost of each origin; it counts towards the limit and the decay.

        Returns
        -------
        PotentialResult
            The selection of the targets is kept for the next call with the same
            targets and limit (see :meth:`rphast_selection`).
        """
        org, oo, limit, nw, (kind, decay_param, decay_floor) = potential_args(
            self.n_nodes, origins, node_weight, limit_s, decay, origin_offsets, self.weight)
        tnodes = np.flatnonzero(nw != 0.0).astype(np.int64)
        if tnodes.size == 0:
            return PotentialResult(np.zeros(org.size), np.zeros(org.size, np.int64),
                                   np.zeros(org.size, np.bool_))
        sel = self.rphast_selection(tnodes, limit)
        sums, n_reached = P.rphast_potential(
            self.rank[org], oo, limit, *self._hierarchy(), *self._selection_args(sel),
            np.ascontiguousarray(nw[tnodes]), kind, decay_param, decay_floor, numba.get_num_threads())
        return PotentialResult(sums, n_reached, np.zeros(org.size, np.bool_))
