"""Graph simplification: contract degree-2 chains, keep the largest strongly
connected component, reorder nodes for memory locality."""

from __future__ import annotations

import logging

import numpy as np

from .. import defaults
from .._errors import GraphError
from ._contract import (
    contract_chains,
    contractible,
    dropped_km,
    induced_csr,
    reachable,
    reaching,
    spread_cut,
    strong_components,
)
from .core import RoadGraph, from_edges
from .snap import snap_points

logger = logging.getLogger(__name__)


def contractible_nodes(graph: RoadGraph, keep: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of nodes that lie inside a chain and can be contracted.

    A node is contractible when no self loop touches it, all its edges have the
    same road class, it is not in ``keep``, and either it has one incoming and one
    outgoing edge to two different neighbours (a one-way road), or two incoming and
    two outgoing edges, each neighbour of the two reached once in each direction
    (a two-way road).
    """
    ok = contractible(graph.offsets, graph.targets, graph.road_class)
    if keep is not None:
        ok &= ~_as_mask(keep, graph.n_nodes)
    return ok


def _as_mask(keep: np.ndarray, n: int) -> np.ndarray:
    keep = np.asarray(keep)
    if keep.dtype == bool:
        if keep.shape != (n,):
            raise GraphError(f"keep mask has shape {keep.shape}, expected ({n},)")
        return keep
    mask = np.zeros(n, bool)
    mask[keep.astype(np.int64)] = True
    return mask


def contract_degree2(graph: RoadGraph, keep: np.ndarray | None = None) -> RoadGraph:
    """Contract chains of degree-2 nodes into single edges.

    Times and lengths of a chain are summed exactly, so every shortest-path time
    between remaining nodes is unchanged. Parallel edges between the same pair of
    nodes are reduced to the fastest one.

    Parameters
    ----------
    graph : RoadGraph
    keep : ndarray of bool or int, optional
        Nodes that must survive (e.g. those carrying points of interest).
    """
    return _contract_degree2([graph], keep)


def _contract_degree2(box: list, keep: np.ndarray | None = None) -> RoadGraph:
    """:func:`contract_degree2` of the graph in the one-element list ``box``, which
    it empties: the input's edge arrays are freed once the chains are walked."""
    graph = box.pop()
    mask = contractible_nodes(graph, keep)
    u, v, t, l, c = contract_chains(graph.offsets, graph.targets, graph.time_s,
                                    graph.length_m, graph.road_class, mask)
    kept = ~mask
    cut = _carry_cut(graph, mask)
    del mask
    nodes = {k: getattr(graph, k)[kept] for k in _NODE_ARRAYS}
    names, crs, meta = graph.class_names, graph.crs, dict(graph.meta)
    if cut is not None:
        meta["cut_osm_ids"] = cut
    del graph
    new_id = np.full(kept.size, -1, np.int32 if kept.size < 2**31 else np.int64)
    new_id[kept] = np.arange(int(kept.sum()))
    del kept
    u, v = new_id[u], new_id[v]
    del new_id
    # fastest of parallel edges: sort by (u, v, t) and take the first of each pair
    order = np.lexsort((t, v, u))
    u, v, t, l, c = u[order], v[order], t[order], l[order], c[order]
    del order
    first = np.ones(u.size, bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return from_edges(u[first], v[first], t[first], l[first], c[first],
                      class_names=names, **nodes, crs=crs, meta=meta)


def _carry_cut(graph: RoadGraph, dropped: np.ndarray) -> list | None:
    """The ``cut_osm_ids`` of ``graph`` (where the extract cut the network, see
    :func:`~.osm.cut_node_ids`) once the ``dropped`` nodes are gone: a kept node
    counts as cut when a route from it leaves through a cut node by dropped nodes
    only (a one-way carriageway cut at the edge, a chain around a cut node), so the
    time to the nearest cut node never grows by simplifying. None when the graph
    does not know where it was cut."""
    ids = graph.meta.get("cut_osm_ids")
    if ids is None:
        return None
    cut = np.isin(graph.osm_id, np.asarray(ids, dtype=np.int64))
    if not cut.any():
        return []
    dropped = np.asarray(dropped, dtype=np.bool_)
    if not (cut & dropped).any():  # no reversed graph needed (a national build's peak)
        return np.sort(graph.osm_id[cut]).tolist()
    mark = spread_cut(graph.offsets, graph.targets, cut, dropped)
    return np.sort(graph.osm_id[mark & ~dropped]).tolist()


#: The arrays a RoadGraph holds per node and per edge, beside offsets and targets.
_NODE_ARRAYS = ("osm_id", "lon", "lat", "x", "y")
_EDGE_ARRAYS = ("time_s", "length_m", "road_class")


def largest_scc(graph: RoadGraph) -> tuple[RoadGraph, dict]:
    """Keep the largest strongly connected component.

    Returns the subgraph and a report of what was dropped (nodes, edges, number
    of components, kilometres of road).
    """
    return _largest_scc([graph])


def _largest_scc(box: list) -> tuple[RoadGraph, dict]:
    """:func:`largest_scc` of the graph in the one-element list ``box``, which it
    empties: when the caller holds no other reference, the input graph's arrays
    are freed one by one as the subgraph's are made (on a national graph the two
    graphs together would be ~6 GB)."""
    graph = box.pop()
    if graph.n_nodes == 0:
        raise GraphError("the graph is empty: no node to keep")
    n, m = graph.n_nodes, graph.n_edges
    # own Tarjan: scipy's connected_components(connection="strong") hangs on some
    # real OSM graphs (seen with scipy 1.17 on heidelberg.osm.pbf)
    labels = strong_components(graph.offsets, graph.targets)
    n_comp = int(labels.max()) + 1 if labels.size else 0
    sizes = np.bincount(labels)
    keep = labels == np.argmax(sizes)
    del labels, sizes
    # what was dropped: dead ends (pieces that lead only into or only out of the kept
    # network, e.g. one-way carriageways cut at the extract's edge) or islands (roads
    # joined to it only outside the extract)
    root = int(np.argmax(keep))  # the first kept node
    reached = reachable(graph.offsets, graph.targets, root)
    reaching_ = reaching(graph.offsets, graph.targets, root)
    names = graph.class_names
    m_dead, m_island = dropped_km(graph.offsets, graph.targets, graph.length_m,
                                  graph.road_class, keep, reached, reaching_, len(names))
    del reached, reaching_
    km_raw = float(graph.length_m.sum())
    cut = _carry_cut(graph, ~keep)

    def km_by(metres):
        km = metres / 1000.0
        return {names[i]: float(km[i]) for i in np.flatnonzero(km)}

    offsets, targets, emask, rows_sorted = induced_csr(graph.offsets, graph.targets, keep)
    if rows_sorted:  # the old edge order is the canonical (tail, head) order
        meta, crs = dict(graph.meta), graph.crs
        arrays = {k: getattr(graph, k) for k in _NODE_ARRAYS + _EDGE_ARRAYS}
        del graph  # from here on `arrays` holds the input's arrays: pop frees them
        sub = RoadGraph(
            offsets=offsets, targets=targets,
            **{k: arrays.pop(k)[emask] for k in _EDGE_ARRAYS},
            class_names=names, crs=crs,
            **{k: arrays.pop(k)[keep] for k in _NODE_ARRAYS}, meta=meta)
    else:  # a graph not made by from_edges: let subgraph sort its rows
        del offsets, targets
        sub = graph.subgraph(keep)
        del graph
    del emask
    if cut is not None:
        sub.meta["cut_osm_ids"] = cut
    sub.meta["scc_mask"] = keep  # which input nodes survived, for callers mapping ids
    report = {
        "components": int(n_comp),
        "nodes_kept": sub.n_nodes, "nodes_dropped": n - sub.n_nodes,
        "edges_kept": sub.n_edges, "edges_dropped": m - sub.n_edges,
        "node_share_kept": sub.n_nodes / n,
        "km_dropped": float(km_raw - sub.length_m.sum()) / 1000.0,
        "km_dead_end_by_class": km_by(m_dead),
        "km_island_by_class": km_by(m_island),
    }
    return sub, report


def hilbert_order(x: np.ndarray, y: np.ndarray, bits: int = 16) -> np.ndarray:
    """Permutation that sorts points along a Hilbert curve.

    Nodes close in space then sit close in memory, which makes graph searches
    markedly faster (fewer cache misses) on large graphs.
    """
    if x.size == 0:
        return np.zeros(0, np.int64)
    side = (1 << bits) - 1

    def scale(a):
        lo, hi = float(a.min()), float(a.max())
        return ((a - lo) / (hi - lo if hi > lo else 1.0) * side).astype(np.int64)

    xi, yi = scale(x), scale(y)
    d = np.zeros(x.size, np.int64)
    s = 1 << (bits - 1)
    while s > 0:  # vectorised xy2d of the classic Hilbert curve algorithm
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        flip = ~ry
        swap_x = np.where(flip & rx, side - xi, xi)
        swap_y = np.where(flip & rx, side - yi, yi)
        xi, yi = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return np.argsort(d, kind="stable")


def reorder(graph: RoadGraph, order: np.ndarray) -> RoadGraph:
    """Renumber nodes so that new node ``i`` is old node ``order[i]``."""
    new_id = np.empty(graph.n_nodes, np.int64)
    new_id[order] = np.arange(graph.n_nodes)
    return from_edges(new_id[graph.sources], new_id[graph.targets], graph.time_s,
                      graph.length_m, graph.road_class, class_names=graph.class_names,
                      osm_id=graph.osm_id[order], lon=graph.lon[order], lat=graph.lat[order],
                      crs=graph.crs, x=graph.x[order], y=graph.y[order], meta=dict(graph.meta))


def simplify(graph: RoadGraph, keep: np.ndarray | None = None, scc: bool = True, *,
             routable_points: tuple | None = None,
             max_snap_m: float = defaults.MAX_SNAP_M) -> tuple[RoadGraph, dict]:
    """Contract degree-2 chains, keep the largest SCC, reorder along a Hilbert curve.

    Parameters
    ----------
    graph : RoadGraph
        The raw graph.
    keep : ndarray of bool or int, optional
        Nodes never contracted (indices into ``graph``). Nodes outside the largest
        SCC are dropped all the same.
    scc : bool
        Keep only the largest strongly connected component.
    routable_points : tuple of (lon, lat) arrays, optional
        Points that will be attached later (stations, airports): the nearest
        *routable* node of each (the nearest node of the largest SCC, not a dead end
        or an island that the SCC step drops) is never contracted, so that attaching
        the point after simplification finds it.
    max_snap_m : float
        Points farther than this from every routable node keep no node.

    Returns
    -------
    RoadGraph, dict
        The simplified graph and statistics (before/after counts, SCC report).
    """
    return _simplify([graph], keep=keep, scc=scc, routable_points=routable_points,
                     max_snap_m=max_snap_m)


def _simplify(box: list, keep: np.ndarray | None = None, scc: bool = True, *,
              routable_points: tuple | None = None,
              max_snap_m: float = defaults.MAX_SNAP_M) -> tuple[RoadGraph, dict]:
    """:func:`simplify` of the graph in the one-element list ``box``, which it
    empties, so that the raw graph can be freed after the SCC step when the caller
    holds no other reference (``build_graph``)."""
    graph = box[0]
    n_raw = graph.n_nodes
    stats = {"nodes_raw": n_raw, "edges_raw": graph.n_edges,
             "km_by_class_raw": graph.km_by_class()}
    del graph
    if scc:
        g, rep = _largest_scc(box)
        stats["scc"] = rep
        if keep is not None:  # carry the keep mask into the subgraph
            keep = _as_mask(keep, n_raw)[g.meta.pop("scc_mask")]
    else:
        g = box.pop()
    g.meta.pop("scc_mask", None)
    if routable_points is not None:  # snapped after the SCC step: to a node that routes
        snap = snap_points(g, *routable_points, max_snap_m=max_snap_m)
        mask = np.zeros(g.n_nodes, bool) if keep is None else _as_mask(keep, g.n_nodes).copy()
        mask[snap.node[snap.on_network]] = True
        keep = mask
        g.__dict__.pop("_kdtree", None)  # the tree of this intermediate graph
        del snap
    box.append(g)
    del g
    g = _contract_degree2(box, keep)
    g = reorder(g, hilbert_order(g.x, g.y))
    stats.update(nodes=g.n_nodes, edges=g.n_edges)
    g.meta.update(simplify=stats)
    logger.info("simplified: %d -> %d nodes, %d -> %d edges", stats["nodes_raw"],
                g.n_nodes, stats["edges_raw"], g.n_edges)
    return g, stats
