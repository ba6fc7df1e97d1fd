"""Lage: decay-weighted daytime population reachable within 2 hours by car
(METHOD.md section 2).

For every municipality (its reference point, the settlement centre) the
*potential* is

    P_o = sum over municipalities d with t(o, d) <= limit of  w(t(o, d)) * D_d

where ``D_d`` is the Tagesbevölkerung (residents + in-commuters - out-commuters)
of ``d`` and ``w`` a distance-decay function of the car time in minutes. The
origin itself is included once, at ``t = 0`` (weight 1). Between two different
municipalities ``t = access_o + network time + access_d``: both access legs
(reference point to its snapped node at the access speed) count.

How it is computed (exact, and never a dense matrix):
the road graph is augmented with one *virtual node* per municipality on the
network, joined to its snapped road node by an edge each way whose time is the
municipality's access leg. The daytime population sits on the virtual nodes (0 on
road nodes), and every origin search starts *at its own virtual node* with cost 0.
The own population is therefore reached once at ``t = 0``; any other municipality
at ``access_o + network + access_d``; and a path can never shortcut through a
virtual node (it hangs off a single road node). Several municipalities sharing a
road node each keep their own access leg. One bounded Dijkstra per origin runs in
parallel (:func:`accessibility.routing.potential`); the limit is inclusive.

Edge flag: where the graph knows where the extract cut the network
(:func:`accessibility.graph.edge_nodes`), a potential is exact when no route through
a cut node could reach a destination sooner than the time found or bring one within
the limit, by a bound per destination (:mod:`~accessibility.models.lage_exact`);
``edge_flag`` is False exactly then. When the graph does not know where it was cut (built from networkx, or an extract cut with complete ways and
no box in its header), the nodes within ``edge_buffer_m`` (2 km) of the network's
outline stand in, and a search that reaches one of them is flagged: a guess, not a
proof. On a national network the cut is the German border: BBSR counts German
destinations only, so there the flag says that a route through a neighbouring
country could reach a German destination sooner.

Units: by default (``units = "gvb"``) the origins and destinations are not the
municipalities but the Gemeindeverbände, each at its settlement centre with its
members' summed daytime population (:mod:`~accessibility.models.lage_units`); the
virtual nodes, searches and edge test above are then those of the GVB centres, and
every member carries its GVB's values.

Defaults: exponential decay with ``beta = 0.076`` per minute (METHOD.md: gives the
183,000 national mean on a major-road network); :func:`calibrate_decay` refits it.
A calibrated run (:func:`calibrate_lage`, then :func:`run_lage` with the
:class:`LageCalibration` as ``decay``) searches once: the sparse table of all
municipality pairs within the limit is both what the fit sums for every trial
parameter and, with the fitted one, the potentials themselves.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from .. import defaults
from .._checks import check_commuters
from .._errors import InputError
from .._util import show as _show
from ..compute import Executor, chunks
from ..graph import (
    RoadGraph,
    boundary_nodes,
    edge_nodes,
    network_arrays,
    point_coordinates,
    snap_may_move,
)
from ..routing import (
    ContractionHierarchy,
    Decay,
    PotentialResult,
    decayed_row_sums,
    nearest_facility,
    one_to_many,
    potential,
)
from ..vocabulary import (
    COLUMNS as _ALL_COLUMNS,
    LAGE_CLASSES,
    LAGE_COLUMNS,
)
from .incremental import memo
from .lage_exact import potential_flags, potential_max
from .lage_roads import road_potentials
from .lage_tables import (
    LAGE_THRESHOLDS,
    classify_lage,
    gvb_potential,
    kreis_lage,
    lage_summary,
    lage_tables,
    with_lage_classes,
)
from .lage_units import LAGE_UNIT_CHOICES, incomplete_gvb, unit_table
from .membership import in_region

logger = logging.getLogger(__name__)

__all__ = [
    "COLUMNS", "DEFAULT_DECAY", "LAGE_CLASSES", "LAGE_THRESHOLDS", "LAGE_UNIT_CHOICES",
    "SOURCE_COMMUTERS", "SOURCE_RESIDENTS", "LageCalibration", "augmented_graph",
    "boundary_nodes", "calibrate_decay", "calibrate_lage",
    "classify_lage", "daytime_population", "gvb_potential", "kreis_lage", "lage_potential",
    "lage_summary", "lage_tables", "mean_potential", "run_lage",
]

#: Default decay (docs/METHOD.md: gives the 183,000 national mean on a major-road network).
DEFAULT_DECAY = Decay(defaults.DECAY, beta=defaults.BETA, sigma_min=defaults.SIGMA_MIN,
                      floor_min=defaults.FLOOR_MIN)
SOURCE_COMMUTERS = "residents + in - out commuters"
SOURCE_RESIDENTS = "residents (no commuter data)"
SOURCE_NOT_IN_TABLE = "residents (municipality not in the commuter table)"
SOURCE_ANONYMISED = "residents (commuter counts anonymised or empty)"

#: Output columns and their meaning (from :mod:`accessibility.vocabulary`).
COLUMNS = {c: _ALL_COLUMNS[c] for c in LAGE_COLUMNS}


# ------------------------------------------------------------------ daytime population


def daytime_population(munis: pd.DataFrame, commuters: pd.DataFrame | None = None
                       ) -> tuple[pd.Series, pd.Series, list[str]]:
    """Tagesbevölkerung per municipality: residents + in-commuters - out-commuters.

    Parameters
    ----------
    munis : DataFrame
        ``ags`` and ``population`` (residents).
    commuters : DataFrame, optional
        From :func:`~accessibility.io.read_commuters`: ``ags``, ``in_commuters``,
        ``out_commuters``. Without it every municipality falls back to residents.

    Returns
    -------
    daytime : Series of float (index of ``munis``)
    source : Series of str: how each value was obtained
    report : list of str
        What happened: fallback, unknown commuter AGS, municipalities missing from
        the commuter table, negative results clipped to 0.
    """
    for col in ("ags", "population"):
        if col not in munis.columns:
            raise InputError(f"daytime population needs the column {col!r} of the municipalities")
    res = pd.to_numeric(munis["population"], errors="coerce").astype(float)
    res.index = munis.index
    if len(res) and res.isna().all():  # not "0 everywhere, sehr peripher"
        raise InputError("the Lage needs the municipalities' populations: the population "
                         "column is empty (the command line leaves the Lage out then)")
    lines: list[str] = []
    n_na = int(res.isna().sum())
    if n_na:
        lines.append(f"{n_na} municipalities have no population and count as 0: "
                     f"{_show(munis.loc[res.isna(), 'ags'])}")
    res = res.fillna(0.0)
    if commuters is None:
        lines.append("daytime population: no commuter table given, residents used instead "
                     "(Tagesbevölkerung = Bevölkerung)")
        return (res.rename("daytime_population"),
                pd.Series(SOURCE_RESIDENTS, index=munis.index, name="daytime_population_source"),
                lines)
    for col in ("ags", "in_commuters", "out_commuters"):
        if col not in commuters.columns:
            raise InputError(f"the commuter table has no {col!r} column; read it with "
                             "read_commuters()")
    c = commuters.drop_duplicates("ags").set_index("ags")
    known = set(munis["ags"])
    unknown = sorted(set(c.index) - known)
    if unknown:
        lines.append(f"{len(unknown)} AGS of the commuter table are not municipalities "
                     f"(ignored): {_show(unknown)}")
    ags = munis["ags"].to_numpy()
    inc = pd.to_numeric(c["in_commuters"], errors="coerce").reindex(ags).to_numpy(dtype=float)
    out = pd.to_numeric(c["out_commuters"], errors="coerce").reindex(ags).to_numpy(dtype=float)
    in_table = np.isin(ags, c.index.to_numpy())
    ok = in_table & np.isfinite(inc) & np.isfinite(out)
    check_commuters(ags, inc, out, res.to_numpy(), ok)
    day = res.to_numpy().copy()
    day[ok] = day[ok] + inc[ok] - out[ok]
    src = np.where(ok, SOURCE_COMMUTERS,
                   np.where(in_table, SOURCE_ANONYMISED, SOURCE_NOT_IN_TABLE)).astype(object)
    lines.append(f"daytime population from commuters for {int(ok.sum())} of {len(ags)} "
                 "municipalities")
    missing = ags[~in_table]
    if missing.size:
        lines.append(f"{missing.size} municipalities are not in the commuter table and use "
                     f"residents instead: {_show(missing)}")
    anon = ags[in_table & ~ok]
    if anon.size:
        lines.append(f"{anon.size} municipalities have anonymised or empty commuter counts and "
                     f"use residents instead: {_show(anon)}")
    neg = day < 0
    if neg.any():
        lines.append(f"{int(neg.sum())} municipalities have more out-commuters than residents "
                     f"plus in-commuters; their daytime population is clipped to 0: "
                     f"{_show(ags[neg])}")
        day[neg] = 0.0
    for line in lines:
        logger.info(line)
    return (pd.Series(day, index=munis.index, name="daytime_population"),
            pd.Series(src, index=munis.index, name="daytime_population_source"), lines)


# ------------------------------------------------------------------ graph helpers


def augmented_graph(graph: RoadGraph, nodes: np.ndarray, access_s: np.ndarray) -> RoadGraph:
    """``graph`` plus one virtual node per entry of ``nodes`` (index ``n + i``), joined
    to road node ``nodes[i]`` by an edge each way of ``access_s[i]`` seconds.

    The CSR arrays are merged directly, not re-sorted: every virtual node's index is
    above all road nodes, so in the canonical (tail, head) order of
    :func:`~accessibility.graph.from_edges` a road node keeps its edges and gets its
    access edges after them, in virtual-node order. Same graph, without sorting the
    ~10 million edges of a national graph.
    """
    n, k = graph.n_nodes, len(nodes)
    nodes = np.asarray(nodes, dtype=np.int64)
    acc = np.asarray(access_s, dtype=np.float64)
    if nodes.shape != (k,) or acc.shape != (k,):
        raise InputError(f"augmented_graph: {nodes.shape} nodes for {acc.shape} access times")
    if k and (nodes.min() < 0 or nodes.max() >= n):
        raise InputError("augmented_graph: nodes must be road node indices in [0, n_nodes)")
    deg = np.diff(graph.offsets)
    added = np.bincount(nodes, minlength=n)
    offsets = np.zeros(n + k + 1, np.int64)
    np.cumsum(np.concatenate([deg + added, np.ones(k, np.int64)]), out=offsets[1:])
    m = int(offsets[-1])
    # road edges: row u moves from graph.offsets[u] to offsets[u]
    pos_road = np.arange(graph.n_edges, dtype=np.int64) + np.repeat(offsets[:n] - graph.offsets[:-1], deg)
    # access edges road -> virtual: after the row's road edges, by virtual index
    by_node = np.argsort(nodes, kind="stable")
    sorted_nodes = nodes[by_node]
    rank = np.arange(k) - np.searchsorted(sorted_nodes, sorted_nodes, side="left")
    pos_in = offsets[sorted_nodes] + deg[sorted_nodes] + rank
    pos_out = offsets[n:n + k]  # virtual -> road: the virtual node's only edge
    targets = np.empty(m, np.int32)
    time_s = np.empty(m, np.float64)
    length_m = np.zeros(m, np.float64)
    road_class = np.full(m, len(graph.class_names), np.uint8)  # "access" unless a road edge
    targets[pos_road], time_s[pos_road] = graph.targets, graph.time_s
    length_m[pos_road], road_class[pos_road] = graph.length_m, graph.road_class
    targets[pos_in], time_s[pos_in] = n + by_node, acc[by_node]
    targets[pos_out], time_s[pos_out] = nodes, acc
    return RoadGraph(
        offsets=offsets, targets=targets, time_s=time_s, length_m=length_m,
        road_class=road_class, class_names=tuple(graph.class_names) + ("access",),
        osm_id=np.concatenate([graph.osm_id, -1 - np.arange(k, dtype=np.int64)]),
        lon=np.concatenate([graph.lon, graph.lon[nodes]]),
        lat=np.concatenate([graph.lat, graph.lat[nodes]]),
        crs=graph.crs,
        x=np.concatenate([graph.x, graph.x[nodes]]),
        y=np.concatenate([graph.y, graph.y[nodes]]),
        meta={**graph.meta, "augmented": f"{k} virtual municipality nodes"},
    )


def _setup(graph, munis, daytime, origin=None):
    """The augmented graph with the attached on-network municipalities, their
    positions ``idx`` and weights, and ``sel``: the positions in ``idx`` that are
    origins (``origin``, bool per row of ``munis``; default every one)."""
    if len(daytime) != len(munis):
        raise InputError(f"daytime has {len(daytime)} values for {len(munis)} municipalities")
    snap = network_arrays(munis, graph, what="municipalities")
    on = snap.on_network
    if not on.any():
        raise InputError("no municipality reference point lies within max_snap_m of the "
                         "road network: check the coordinates, bbox and max_snap_m")
    idx = np.flatnonzero(on)
    aug = augmented_graph(graph, snap.node[idx], snap.access_s[idx])
    w = np.zeros(aug.n_nodes)
    day = np.nan_to_num(np.asarray(daytime, dtype=np.float64), nan=0.0)
    w[graph.n_nodes:] = day[idx]
    sel = np.arange(idx.size) if origin is None else np.flatnonzero(np.asarray(origin)[idx])
    return snap, idx, aug, w, sel


def lage_potential(graph: RoadGraph, munis: pd.DataFrame, daytime, *,
                   decay: Decay = DEFAULT_DECAY, limit_min: float = defaults.LIMIT_MIN,
                   boundary: np.ndarray | bool | None = None,
                   edge_buffer_m: float = defaults.EDGE_BUFFER_M,
                   engine: str = defaults.ENGINE, cache_dir=None,
                   hierarchy: ContractionHierarchy | None = None,
                   executor: Executor | None = None,
                   chunk: int = defaults.LAGE_CHUNK, setup: tuple | None = None,
                   pairs: tuple | None = None, origin=None, only=None) -> pd.DataFrame:
    """Decay-weighted daytime population within ``limit_min`` minutes of every
    municipality (see the module docstring for the exact definition).

    Parameters
    ----------
    graph : RoadGraph
    munis : DataFrame
        ``ags`` and the network columns of :func:`accessibility.attach` (the
        reference points attached to ``graph``).
    daytime : array_like or Series, one value per row of ``munis``
        Tagesbevölkerung (from :func:`daytime_population`).
    decay : Decay
        Distance decay in minutes (default exponential, beta 0.076).
    limit_min : float
        Time limit in minutes, inclusive (default 120).
    boundary : bool array of graph nodes, None or False
        Boundary nodes for ``edge_flag``; ``None`` (default) takes
        :func:`~accessibility.graph.edge_nodes`: where the extract cut the network, or,
        when the graph does not know, the nodes within ``edge_buffer_m`` of its
        outline; ``False`` flags nothing.
    engine : {"dijkstra", "ch"}
        ``dijkstra``: one bounded search per municipality (fused kernel). ``ch``: a
        contraction hierarchy of the graph, then bucket many-to-many queries; the
        same sums (to rounding) and much faster for a national run, after a one-off
        preprocessing (about 40 s for a 4M-node graph on 2 cores, cached).
    cache_dir : path, optional
        With ``engine="ch"``: keep the hierarchy here and reuse it when the graph and
        the municipalities' attachment are the same (a warm rerun skips the
        preprocessing).
    hierarchy : ContractionHierarchy, optional
        With ``engine="ch"``: this hierarchy of the augmented graph (from
        :func:`lage_hierarchy`), e.g. the one calibration used.
    executor : Executor, optional
        Runs the origins in chunks of ``chunk`` as independent tasks
        (:mod:`accessibility.compute`; e.g. on Dask). Every origin's search is its
        own, so the values are identical to one call over all origins.
    setup : tuple, optional
        The augmented graph of these municipalities and weights (from
        :func:`run_lage`), so that it is built once per run.
    pairs : tuple, optional
        The sparse table of all pairs within ``limit_min`` that calibration searched
        (from :func:`run_lage`): the potentials are then its row sums with ``decay``,
        without searching again (the same pairs and times as a search would find).
    origin : bool array, one per row of ``munis``, optional
        The rows that are origins (the units' centres, from
        :func:`~accessibility.models.lage_units.unit_table`); default every row. The
        others stay destinations with their ``daytime`` (0 for a GVB's other members)
        and get no potential of their own.
    only : array of int, optional
        Search only the origins at these positions among the origins (a road
        scenario's, :mod:`~accessibility.models.lage_roads`); the others get NaN,
        and their edge flag only where the graph knows its cut.

    Returns
    -------
    DataFrame, index of ``munis``: ``potential_2h``, ``n_reached`` (nullable),
    ``edge_flag`` (NaN / empty / False for municipalities off the network), ``snap_m``,
    ``potential_2h_max`` (its upper bound, :mod:`~accessibility.models.lage_exact`).
    """
    snap, idx, aug, w, sel = (setup if setup is not None
                              else _setup(graph, munis, daytime, origin))
    n = graph.n_nodes
    how = None
    if boundary is None or boundary is True:
        boundary, how = edge_nodes(graph, edge_buffer_m)
    bd = np.zeros(aug.n_nodes, bool)
    if boundary is not False:
        b = np.asarray(boundary, dtype=bool)
        if b.shape != (n,):
            raise InputError(f"boundary has shape {b.shape}, expected ({n},) graph nodes")
        bd[:n] = b
        # a municipality whose snapping might move in a larger extract: reaching it
        # within the limit is as uncertain as reaching the cut (its own search does)
        lon, lat = point_coordinates(munis)
        may_move = snap_may_move(graph, lon[idx], lat[idx], snap.snap_m[idx])
        bd[n + sel] = may_move[sel]  # the other virtual nodes weigh nothing
    origins = n + sel
    limit_s = float(limit_min) * 60.0
    if engine not in ("dijkstra", "ch"):
        raise InputError(f"unknown engine {engine!r}: use 'dijkstra' or 'ch'")
    if engine == "ch" and hierarchy is None and pairs is None:
        hierarchy = lage_hierarchy(aug, cache_dir)
    flags = upper = None
    if how == "cut":  # a proof per destination (models/lage_exact.py), not "reached a cut"
        flags, upper = potential_flags(graph, munis, daytime, snap, idx, aug, origins,
                                       boundary, bd, limit_s,
                                       hierarchy if engine == "ch" else None, decay)
    if pairs is not None:
        res = _potentials_from_pairs(pairs, decay)
        return _potential_frame(munis, snap, idx[sel], res, aug, origins, bd, limit_s, origin,
                                flags, upper)
    shared = {"graph": aug if engine == "dijkstra" else hierarchy}
    shared.update(weight=w, limit_s=limit_s, decay=decay, boundary=bd)
    run = origins if only is None else origins[only]
    if executor is None:
        res = _potential_task(run, **shared)
    else:
        parts = executor.map(_potential_task, [run[sl] for sl in chunks(run.size, chunk)],
                             shared=shared, what="Lage origin chunks")
        res = PotentialResult(*(np.concatenate([p[i] for p in parts]) for i in range(3)))
    if only is not None:  # the others: no value (the caller keeps the base's)
        full = (np.full(origins.size, np.nan), np.zeros(origins.size, np.int64),
                np.zeros(origins.size, bool))
        for a, b in zip(full, res):
            a[only] = b
        res = PotentialResult(*full)
    # the bounded searches see the edge themselves; bucket queries do not
    flag_edge = engine == "ch"
    return _potential_frame(munis, snap, idx[sel], res, aug, origins,
                            bd if flag_edge else None, limit_s, origin, flags, upper)


def _potentials_from_pairs(pairs: tuple, decay: Decay) -> PotentialResult:
    """Potentials as the row sums of calibration's pair table (``_pair_times``)."""
    indptr, t_min, wd, k = pairs
    sums = decayed_row_sums(indptr, t_min, wd, decay)
    # like the search: count the reached municipalities with a non-zero weight
    rows = np.repeat(np.arange(k), np.diff(indptr))
    n_reached = np.bincount(rows[wd != 0], minlength=k).astype(np.int64)
    return PotentialResult(sums, n_reached, np.zeros(k, bool))


def _potential_frame(munis, snap, idx, res: PotentialResult, aug, origins, bd, limit_s,
                     origin=None, flags: np.ndarray | None = None,
                     upper: np.ndarray | None = None) -> pd.DataFrame:
    """The per-municipality frame of :func:`lage_potential`. With ``flags`` (one per
    origin), the edge flag is those; else with ``bd`` (boundary nodes of ``aug``), it
    comes from one search instead of ``res``. ``potential_2h_max``: the potential
    where it is exact, ``upper`` (no less than it) where flagged, else NaN."""
    if flags is not None:
        res = res._replace(touches_boundary=np.asarray(flags, bool))
    elif bd is not None and bd.any():
        # the search touched the edge: some boundary node within the limit. One
        # search backwards from all boundary nodes answers it for every origin.
        to_edge = nearest_facility(aug, np.flatnonzero(bd), limit=limit_s, reverse=True)
        res = res._replace(touches_boundary=np.isfinite(to_edge.dist[origins]))
    top = potential_max(res.sums, res.touches_boundary, upper)
    out = pd.DataFrame({"potential_2h": np.nan, "n_reached": 0, "edge_flag": False,
                        "snap_m": snap.snap_m, "potential_2h_max": np.nan}, index=munis.index)
    out.iloc[idx, out.columns.get_loc("potential_2h")] = res.sums
    out.iloc[idx, out.columns.get_loc("potential_2h_max")] = top
    out.iloc[idx, out.columns.get_loc("n_reached")] = res.n_reached
    out.iloc[idx, out.columns.get_loc("edge_flag")] = res.touches_boundary
    # no search, no count: empty (not 0) where the potential is empty
    out["n_reached"] = out["n_reached"].astype("Int64").where(out["potential_2h"].notna())
    off = ~snap.on_network
    if origin is not None:  # the units' centres: the other members take theirs
        off &= np.asarray(origin, bool)
    if "in_region" in munis.columns:  # a regional run: the rest are not expected on it
        inside = munis["in_region"].fillna(False).to_numpy(bool)
        if (off & ~inside).any():
            logger.info("%d municipalities outside the region get no potential",
                        int((off & ~inside).sum()))
        off &= inside
    if off.any():
        logger.warning("%d municipalities are off the network and get no potential: %s",
                       int(off.sum()), _show(munis["ags"].to_numpy()[off]))
    return out


def at_virtual_nodes(graph: RoadGraph, munis: pd.DataFrame) -> tuple[RoadGraph, pd.DataFrame]:
    """The Lage's augmented graph of ``munis`` and ``munis`` attached to it at their
    virtual nodes (access 0: the access legs are its edges).

    A car-time matrix between these municipalities on it equals the one on ``graph``
    (access legs added at both ends), and with ``engine="ch"`` it uses the very
    hierarchy the Lage built and cached, not one of its own.
    """
    if not isinstance(graph, RoadGraph):
        raise InputError(f"at_virtual_nodes takes the road graph first, then the "
                         f"municipalities: got a {type(graph).__name__} where the graph belongs")
    _, idx, aug, _, _ = _setup(graph, munis, np.zeros(len(munis)))
    out = munis.copy()
    node = np.full(len(munis), -1, np.int64)
    node[idx] = graph.n_nodes + np.arange(idx.size)
    out["node"] = node
    out["access_s"] = np.where(node >= 0, 0.0, np.nan)
    out["on_network"] = node >= 0
    return aug, out


def lage_hierarchy(aug: RoadGraph, cache_dir=None) -> ContractionHierarchy:
    """The contraction hierarchy of the augmented graph (cached in ``cache_dir``)."""
    return (ContractionHierarchy.cached(aug, cache_dir) if cache_dir is not None
            else ContractionHierarchy.build(aug))


def _potential_task(origins: np.ndarray, *, graph, weight: np.ndarray, limit_s: float,
                    decay: Decay, boundary: np.ndarray) -> PotentialResult:
    """Potentials of ``origins`` on ``graph`` (a RoadGraph: bounded searches; a
    ContractionHierarchy: bucket queries): one Lage task."""
    if not isinstance(graph, ContractionHierarchy):
        return potential(graph, origins, weight, limit_s=limit_s, decay=decay, boundary=boundary)
    r = graph.potential(origins, weight, limit_s=limit_s, decay=decay)
    return PotentialResult(r.sums, r.n_reached, np.zeros(origins.size, bool))  # edge: caller


# ------------------------------------------------------------------ calibration


def _pair_times(graph, munis, daytime, limit_min, hierarchy=None, setup=None):
    """The (origin, destination) pairs within the limit as one sparse table: the CSR
    row pointer over origins, minutes and destination weights per pair, and the
    number of origins (bounded searches, or bucket queries on ``hierarchy``)."""
    _, idx, aug, w, sel = setup if setup is not None else _setup(graph, munis, daytime)
    virt = graph.n_nodes + np.arange(idx.size)
    route = one_to_many if hierarchy is None else (
        lambda _g, *a, **k: hierarchy.one_to_many(*a, **k))
    t = route(aug, virt[sel], virt, limit=float(limit_min) * 60.0)
    t.sort_indices()  # rows in a fixed order: sums independent of the search order
    return t.indptr, t.data / 60.0, w[graph.n_nodes:][t.indices], sel.size


def _decay_for(kind: str, p: float, floor_min: float) -> Decay:
    if kind == "gaussian":
        return Decay("gaussian", sigma_min=p)
    return Decay(kind, beta=p, floor_min=floor_min)


def mean_potential(indptr, t_min, wd, decay: Decay) -> float:
    """Mean over origins of sum_d decay(t) * weight, from a sparse pair table (CSR row
    pointer over origins, minutes and destination weights per pair)."""
    return float(decayed_row_sums(indptr, t_min, wd, decay).mean())


#: Parameter range searched by calibration, and where the search starts.
_PARAM_RANGE = {"exponential": (0.0, 10.0), "power": (0.0, 50.0), "gaussian": (1e-3, 1e4)}
_PARAM_START = {"exponential": defaults.BETA, "power": 1.0, "gaussian": defaults.SIGMA_MIN}


def _bracket_near(f, start: float, lo: float, hi: float, *, rising: bool,
                  factor: float = 1.25) -> tuple[float, float] | None:
    """A sub-interval of ``[lo, hi]`` around ``start`` where the monotone ``f``
    changes sign (stepping away from ``start`` by growing factors), or None."""
    a, fa = start, f(start)
    if fa == 0.0:
        return start, start
    up = (fa < 0) == rising  # which way the root lies
    step = factor
    for _ in range(12):
        b = min(a * step, hi) if up else max(a / step, lo)
        fb = f(b)
        if np.sign(fb) != np.sign(fa):
            return (a, b) if a < b else (b, a)
        if b in (lo, hi):
            return None
        a, fa, step = b, fb, step * step
    return None


def calibrate_decay(graph: RoadGraph, munis: pd.DataFrame, daytime, *,
                    kind: str = defaults.DECAY, target_mean: float = defaults.TARGET_MEAN,
                    limit_min: float = defaults.LIMIT_MIN,
                    bracket: tuple[float, float] | None = None,
                    floor_min: float = defaults.FLOOR_MIN,
                    hierarchy: ContractionHierarchy | None = None,
                    setup: tuple | None = None, pairs: tuple | None = None
                    ) -> tuple[float, float]:
    """Fit the decay parameter so that the mean potential over all municipalities
    on the network equals ``target_mean``.

    The reachable pairs are found once (:func:`~accessibility.routing.one_to_many`,
    sparse, within the limit); every trial parameter is then one parallel pass over
    that table (:func:`~accessibility.routing.decayed_row_sums`), and
    :func:`scipy.optimize.brentq` finds the root (the mean is monotone in the
    parameter: falling in beta for exponential / power, rising in sigma for gaussian).
    With ``hierarchy`` (:func:`lage_hierarchy` of the augmented graph) the table comes
    from its bucket queries; ``pairs`` passes a table found before (:func:`run_lage`
    reuses it for the potentials).

    Returns
    -------
    param : float
        beta (per minute for exponential, exponent for power) or sigma in minutes.
    achieved_mean : float
        The mean potential with that parameter.
    """
    if kind not in ("exponential", "gaussian", "power"):
        raise InputError(f"calibrate_decay: kind must be exponential, gaussian or power, got {kind!r}")
    if not (np.isfinite(target_mean) and target_mean > 0):
        raise InputError(f"target_mean must be > 0, got {target_mean!r}")
    if pairs is None:
        pairs = _pair_times(graph, munis, daytime, limit_min, hierarchy, setup)
    indptr, t, wd, _ = pairs
    f = lambda p: mean_potential(indptr, t, wd, _decay_for(kind, p, floor_min)) - target_mean
    lo, hi = bracket or _PARAM_RANGE[kind]
    # a narrow bracket around the usual value first: brentq then needs ~8 passes
    # over the table instead of ~19 from the whole range
    near = None if bracket else _bracket_near(f, _PARAM_START[kind], lo, hi,
                                              rising=kind == "gaussian")
    if near is not None:
        lo, hi = near
        flo = fhi = None
    else:
        flo, fhi = f(lo), f(hi)
    if near is None and np.sign(flo) == np.sign(fhi):
        raise InputError(
            f"calibrate_decay: the mean potential ranges from {flo + target_mean:,.0f} to "
            f"{fhi + target_mean:,.0f} over the {kind} parameter range [{lo}, {hi}], "
            f"target {target_mean:,.0f} is not reachable (check the network, limit and "
            "daytime population, or widen the bracket)")
    p = lo if lo == hi else brentq(f, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=200)
    achieved = f(p) + target_mean
    logger.info("calibrated %s decay: parameter %.6g gives mean potential %.0f (target %.0f)",
                kind, p, achieved, target_mean)
    return float(p), float(achieved)


@dataclasses.dataclass(frozen=True, eq=False)
class LageCalibration:
    """The decay fitted by :func:`calibrate_lage`.

    Attributes
    ----------
    decay : Decay
        The configured kind (and the power decay's floor) with the fitted parameter.
    achieved_mean, target_mean : float
        The mean potential over the municipalities on the network with ``decay``,
        and the mean it was fitted to (BBSR: 183,000).
    limit_min : float
        The time limit of the potentials (minutes).
    n_municipalities : int
        Units on the network (the mean is over them): Gemeindeverbände or
        municipalities, see ``units``.
    pairs : tuple
        The sparse table of all pairs within the limit that the fit summed;
        :func:`run_lage` takes its potentials from it when given this calibration as
        ``decay`` for the same municipalities, so nothing is searched twice.
    units : {"gvb", "municipality"}
        The units of the fit (:mod:`~accessibility.models.lage_units`).
    """

    decay: Decay
    achieved_mean: float
    target_mean: float
    limit_min: float
    n_municipalities: int
    pairs: tuple | None = dataclasses.field(default=None, repr=False)
    key: str = dataclasses.field(default="", repr=False)
    units: str = "municipality"

    @property
    def parameter(self) -> float:
        """beta per minute (exponential), the exponent (power) or sigma in minutes
        (gaussian)."""
        return self.decay.sigma_min if self.decay.kind == "gaussian" else self.decay.beta

    @property
    def parameter_name(self) -> str:
        """The name of :attr:`parameter` in ``[lage]`` (``beta`` or ``sigma_min``)."""
        return "sigma_min" if self.decay.kind == "gaussian" else "beta"

    def lines(self) -> list[str]:
        """What the fit gave, for a report."""
        return [f"decay calibrated: {self.decay} gives a mean potential of "
                f"{self.achieved_mean:,.0f} over {self.n_municipalities:,} "
                f"{_UNIT_WORDS[self.units]} on the network (target {self.target_mean:,.0f})"]


_UNIT_WORDS = {"gvb": "Gemeindeverbände", "municipality": "municipalities"}


def _pairs_key(aug: RoadGraph, w: np.ndarray, limit_min: float, sel: np.ndarray) -> str:
    """What a pair table depends on: the augmented graph (roads, attachments, access
    legs), the daytime weights, the limit and the origins (positions ``sel``)."""
    h = hashlib.sha256()
    for a in (aug.offsets, aug.targets, aug.time_s, w, np.asarray(sel, np.int64)):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr(float(limit_min)).encode())
    return h.hexdigest()


def calibrate_lage(graph: RoadGraph, munis: pd.DataFrame, commuters: pd.DataFrame | None = None,
                   *, decay: Decay = DEFAULT_DECAY, target_mean: float = defaults.TARGET_MEAN,
                   limit_min: float = defaults.LIMIT_MIN, engine: str = defaults.ENGINE,
                   cache_dir=None, units: str = defaults.LAGE_UNITS) -> LageCalibration:
    """Fit the parameter of ``decay``'s kind so that the mean potential over the
    units on the network equals ``target_mean`` (:func:`calibrate_decay`).

    ``munis`` are attached to ``graph`` (``ags``, ``population``, network columns,
    ``gvb``); ``commuters`` as in :func:`daytime_population`; ``units`` as in
    :func:`run_lage` (the mean is over the Gemeindeverbände with ``"gvb"``);
    ``engine="ch"`` finds the pairs with a contraction hierarchy (cached in
    ``cache_dir``). Pass the result as ``decay`` to :func:`run_lage` (same units) for
    the potentials.
    """
    if decay.kind == "none":
        raise InputError("calibrating the Lage needs a decay kind other than 'none' "
                         "(exponential, gaussian or power)")
    if engine not in ("dijkstra", "ch"):
        raise InputError(f"unknown engine {engine!r}: use 'dijkstra' or 'ch'")
    day, _, _ = daytime_population(munis, commuters)
    u = unit_table(munis, day, units)
    setup = _setup(graph, munis, u.weight, u.origin)
    hier = lage_hierarchy(setup[2], cache_dir) if engine == "ch" else None
    pairs = _pair_times(graph, munis, u.weight, limit_min, hier, setup)
    p, achieved = calibrate_decay(graph, munis, u.weight, kind=decay.kind,
                                  target_mean=target_mean, limit_min=limit_min,
                                  floor_min=decay.floor_min, pairs=pairs)
    return LageCalibration(_decay_for(decay.kind, p, decay.floor_min), achieved,
                           float(target_mean), float(limit_min), int(setup[4].size),
                           pairs=pairs, key=_pairs_key(*setup[2:4], limit_min, setup[4]),
                           units=units)


def run_lage(graph: RoadGraph, munis: pd.DataFrame, commuters: pd.DataFrame | None = None, *,
             decay: Decay | LageCalibration = DEFAULT_DECAY,
             limit_min: float = defaults.LIMIT_MIN,
             boundary=None, thresholds=LAGE_THRESHOLDS, settlement_function: str = "highest",
             engine: str = defaults.ENGINE, cache_dir=None,
             executor: Executor | None = None, chunk: int = defaults.LAGE_CHUNK,
             units: str = defaults.LAGE_UNITS) -> pd.DataFrame:
    """The whole Lage model in one call.

    Daytime population, potentials, Lage classes, Stadt- und Gemeindetyp.

    Parameters
    ----------
    graph : RoadGraph
    munis : DataFrame
        ``ags``, ``population`` and the network columns of
        :func:`accessibility.attach`; ``gvb``, ``central_place`` (settlement types)
        and ``kreis`` when present.
    commuters : DataFrame, optional
        ``ags``, ``in_commuters``, ``out_commuters``; residents are used without it.
    decay : Decay or LageCalibration
        The distance decay, or a fit of :func:`calibrate_lage` (its decay; its pair
        table too when it was fitted on the same municipalities, graph, limit and units).
    units : {"gvb", "municipality"}
        Origins and destinations (:mod:`~accessibility.models.lage_units`): the
        Gemeindeverbände at their settlement centres with their summed daytime
        population, every member carrying its GVB's potential and class (default, as
        BBSR), or every municipality at its own reference point.

    Returns
    -------
    DataFrame
        ``munis`` with ``daytime_population``, ``daytime_population_source``,
        ``potential_2h``, ``n_reached``, ``edge_flag``, ``lage``, ``settlement_type``,
        ``settlement_type_detail`` (see :data:`COLUMNS`). ``.attrs["report"]`` holds
        the summary lines.
        :func:`lage_tables` gives the GVB and Kreis tables.
    """
    day, src, report = daytime_population(munis, commuters)
    u = unit_table(munis, day, units)
    fit = decay if isinstance(decay, LageCalibration) else None
    if fit is not None:
        report += fit.lines()
        decay = fit.decay
    if not isinstance(decay, Decay):
        raise InputError(f"decay must be a Decay or a LageCalibration, got {decay!r}: e.g. "
                         "Decay('exponential', beta=0.076)")

    def search() -> pd.DataFrame:
        # one augmented graph and one hierarchy for calibration and potentials
        setup = _setup(graph, munis, u.weight, u.origin)
        pairs = None
        if fit is not None and fit.key == _pairs_key(*setup[2:4], limit_min, setup[4]):
            pairs = fit.pairs  # the fit's table: sum it with the fitted decay
        hier = lage_hierarchy(setup[2], cache_dir) if engine == "ch" else None
        return lage_potential(graph, munis, u.weight, decay=decay, limit_min=limit_min,
                              boundary=boundary, engine=engine, hierarchy=hier,
                              executor=executor, chunk=chunk, setup=setup, pairs=pairs,
                              origin=u.origin)

    def repair(base: pd.DataFrame, roads) -> pd.DataFrame:  # a road scenario's
        setup = _setup(graph, munis, u.weight, u.origin)
        return road_potentials(base, roads.changes, graph, setup, lambda only, how: lage_potential(
            graph, munis, u.weight, decay=decay, limit_min=limit_min, boundary=boundary,
            engine=how, cache_dir=cache_dir, executor=executor, chunk=chunk, setup=setup,
            origin=u.origin, only=only), limit_min=limit_min, engine=engine, boundary=boundary)

    # a scenario with the base's attachments and populations takes the base's
    # potentials, or repairs them for its roads (models/incremental.py); the key is
    # what the potentials depend on besides the edges
    snap = network_arrays(munis, graph, what="municipalities")
    res = memo("lage potential", [graph.n_nodes, *snap,
                                  np.nan_to_num(np.asarray(u.weight, dtype=np.float64),
                                                nan=0.0),
                                  np.asarray(u.origin, bool), munis.index.to_numpy(),
                                  in_region(munis),
                                  repr((decay, limit_min, engine, fit is not None, units)),
                                  "edge" if boundary is None else boundary], search, repair)
    out = munis.copy()
    out["daytime_population"] = day
    out["daytime_population_source"] = src
    for c in ("potential_2h", "n_reached", "edge_flag", "potential_2h_max"):  # its unit's
        out[c] = res[c].iloc[u.member].set_axis(out.index)
    gvb = units == "gvb"
    out = with_lage_classes(out, thresholds=thresholds, settlement_function=settlement_function,
                            incomplete=incomplete_gvb(out) if gvb else None)
    res = res[u.origin]  # one row per unit
    on = res["potential_2h"].notna()
    exact = on & ~res["edge_flag"].fillna(True).astype(bool)
    what = ("Gemeindeverbände (units: origin and destination at the settlement centre, "
            "their members' summed daytime population, the own GVB at t = 0)" if gvb
            else "municipalities")
    report.append(f"Lage: {int(on.sum())} of {len(res)} {what} on the network, "
                  f"decay {decay}, limit {limit_min:g} min; "
                  + (f"mean potential {res.loc[exact, 'potential_2h'].mean():,.0f} over the "
                     f"{int(exact.sum())} exact ones; " if exact.any() else "no exact potential; ")
                  + f"{int((on & ~exact).sum())} potentials could grow with a larger extract "
                  "(a route through its cut could reach more, or sooner: a lower bound)")
    out.attrs["report"] = report
    return out
