"""The Lage of a road scenario: the base's potentials where no changed edge is within
reach, the others searched again (issue 28).

An origin's potential sums what its search settles within the limit. The search
relaxes an edge ``(u, v)`` only when ``t(o, u) + w(u, v) <= limit``; if that fails for
every changed pair on the base graph and on the scenario's, both searches relax the
same edges in the same order (removing or adding an edge of a row keeps the order of
the others) and settle the same nodes at the same times: the potential, the count
of reached municipalities and whether a boundary node is reached are the base's,
to the bit. It can fail on neither graph when, with ``t_lb`` the time on the graph
whose changed pairs carry the smaller of their two times,

    min over changed (u, v) of t_lb(o, u) + min(w_old, w_new)(u, v) > limit.

The first changed pair on such a route is reached over unchanged edges only, so
``t_lb(o, u)`` may be replaced by the time on the scenario's graph (no smaller than
``t_lb``, no larger than on the unchanged edges): one reverse multi-source search on
the scenario's augmented graph from the changed pairs' tails, each starting with
that pair's smaller time, bounded by the limit (widened by 1e-9 relative: the
reverse sums round differently from the forward ones; an origin too many only costs
a search). The origins it reaches are searched again on the scenario's graph.

The edge flag: where the graph knows its cut (:mod:`~accessibility.models.lage_exact`)
it also bounds routes from a cut node to a destination, which a changed edge beyond
the origin's reach can change: it is computed again for every origin. On a graph
that does not know its cut it says whether a node near the outline of all nodes
(the same nodes in both graphs) is reached within the limit: the base's where the
reached nodes are the base's.

How the affected origins are searched: with ``engine = "dijkstra"`` by bounded
searches, the same searches as a full run (identical values). With ``engine =
"ch"`` by the cheaper of a new contraction hierarchy of the scenario's graph with
bucket queries, and bounded searches (values equal to the hierarchy's to rounding:
about 1e-12 relative, the sums taken in another order) by the estimate of
:func:`choose_method`; a graph that knows its cut always takes the hierarchy (its
edge flags use it, as a full run's do).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..graph import RoadGraph, cut_nodes
from ..routing import EdgeChanges, nearest_facility
from .lage_exact import potential_max

__all__ = ["CH_BUILD_S_PER_NODE", "CH_QUERY_S", "SETTLE_S", "affected_origins",
           "choose_method", "road_potentials"]

logger = logging.getLogger(__name__)

#: Seconds per node a bounded search settles (2 threads; 4M-node synthetic graph:
#: 1,508 origins' searches took 154 s at load 4.5, this estimated 137 s).
SETTLE_S = 1.0e-7
#: Seconds per node to build a contraction hierarchy (2 threads; 38 s for 4M nodes).
CH_BUILD_S_PER_NODE = 1.0e-5
#: Seconds per origin of a bucket query within 2 hours on a national hierarchy.
CH_QUERY_S = 2.0e-3
#: Widening of the limit for the reach test (reverse sums round differently).
REACH_SLACK = 1e-9


def affected_origins(aug: RoadGraph, origins: np.ndarray, changes: EdgeChanges,
                     limit_s: float) -> np.ndarray:
    """Positions in ``origins`` (nodes of ``aug``, the scenario's augmented graph)
    within ``limit_s`` of a changed pair (module docstring)."""
    if len(changes) == 0 or origins.size == 0:
        return np.zeros(0, np.int64)
    reach = nearest_facility(aug, changes.u, changes.lower_bound, reverse=True,
                             limit=limit_s * (1.0 + REACH_SLACK))
    return np.flatnonzero(np.isfinite(reach.dist[origins]))


def choose_method(n_nodes: int, n_affected: int, settled_per_search: float) -> str:
    """``"dijkstra"`` (bounded searches) or ``"ch"`` (a new hierarchy and bucket
    queries), whichever the estimate of seconds finds cheaper: ``n_affected x
    settled_per_search x SETTLE_S`` against ``n_nodes x CH_BUILD_S_PER_NODE +
    n_affected x CH_QUERY_S``."""
    dijkstra = n_affected * settled_per_search * SETTLE_S
    ch = n_nodes * CH_BUILD_S_PER_NODE + n_affected * CH_QUERY_S
    return "dijkstra" if dijkstra <= ch else "ch"


def road_potentials(base: pd.DataFrame, changes: EdgeChanges, graph: RoadGraph, setup: tuple,
                    potentials: Callable[[np.ndarray, str], pd.DataFrame], *, limit_min: float,
                    engine: str, boundary=None) -> pd.DataFrame:
    """The potential frame of :func:`~accessibility.models.lage.lage_potential` on
    the scenario's ``graph`` from the base's (``base``, same rows).

    ``setup``: the scenario's augmented graph (``_setup`` of the Lage);
    ``potentials(only, engine)``: ``lage_potential`` on it for the origins at the
    positions ``only`` (every origin's edge flag where the graph knows its cut).
    """
    _, idx, aug, w, sel = setup
    n = graph.n_nodes
    only = affected_origins(aug, n + sel, changes, float(limit_min) * 60.0)
    cut = boundary is None or boundary is True
    cut = cut and (c := cut_nodes(graph)) is not None and bool(c.any())
    n_reached = base["n_reached"].to_numpy(dtype=float, na_value=np.nan)[idx[sel[only]]]
    # the share of the weighted municipalities a search reaches, of the graph's nodes
    per_search = n * float(np.nanmean(n_reached)) / max(int((w > 0).sum()), 1) \
        if only.size else 0.0
    if engine == "dijkstra":
        method, why = "dijkstra", "bounded searches, as configured"
    elif cut:
        method, why = "ch", "a new hierarchy: the cut's edge flags use it"
    else:
        method = choose_method(n, only.size, per_search)
        why = (f"{'bounded searches' if method == 'dijkstra' else 'a new hierarchy'} by the "
               f"estimate ({only.size * per_search * SETTLE_S:,.1f} s searches vs "
               f"{n * CH_BUILD_S_PER_NODE + only.size * CH_QUERY_S:,.1f} s hierarchy)")
    logger.info("road scenario: %s of %s Lage origins within reach of the changed roads; %s",
                f"{only.size:,}", f"{sel.size:,}", why)
    out = base.copy()
    if only.size == 0 and not cut:
        return out
    new = potentials(only, method)
    rows = idx[sel[only]]
    for col in ("potential_2h", "n_reached", "edge_flag", "potential_2h_max"):
        if col in out.columns:
            out.iloc[rows, out.columns.get_loc(col)] = new[col].iloc[rows].to_numpy()
    if cut:
        out["edge_flag"] = new["edge_flag"]
        if "potential_2h_max" in out.columns:
            # every origin's flag and upper bound came again from the cut's tables (an
            # origin not searched again carries its bound alone): combine them with the
            # potentials kept, as lage_potential does
            at = idx[sel]
            out.iloc[at, out.columns.get_loc("potential_2h_max")] = potential_max(
                out["potential_2h"].to_numpy(dtype=float)[at],
                new["edge_flag"].to_numpy()[at].astype(bool),
                new["potential_2h_max"].to_numpy(dtype=float)[at])
    return out
