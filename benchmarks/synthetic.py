"""Synthetic, road-like graphs of Germany's size for the routing benchmark.

Everything here is **synthetic**: the graph only imitates the structure of a
simplified car network (degree distribution, road hierarchy, one-way streets,
sparse motorways with few access points). Results measured on it are labelled
``synthetic`` by the benchmark runner.

Layout
------
Nodes sit on a jittered square lattice over a 640 km x 800 km rectangle in
EPSG:25832 (ETRS89 / UTM 32N, metres), x from 280 km to 920 km and y from
5,240 km to 6,040 km, i.e. roughly where Germany lies in that CRS. About 4 % of
the lattice points are dropped (holes: lakes, forests, fields), which leaves
dead ends. ``lon``/``lat`` are the exact inverse projection of ``x``/``y`` with
pyproj (EPSG:25832 -> EPSG:4326), so the fake coordinates are plausible
German longitudes and latitudes.

Edges
-----
* **Local streets** (``residential`` 25-35 km/h, ``unclassified`` 40-50 km/h):
  lattice neighbours plus a diagonal in ~15 % of the cells. A random spanning
  tree of those candidates (two-way) keeps the graph connected; a random share
  of the remaining candidates is added back until there are about 1.3
  undirected edges per node (mean degree ~2.6: mostly 2-4, ~10 % dead ends).
  40 % of the added-back edges are one-way (random direction). Because
  one-way edges only ever close cycles, the graph stays strongly connected
  except for the few nodes the holes cut off.
* **Classified roads**: every lattice row/column on a ~4 km / 8 km / 16 km
  raster becomes ``tertiary`` (50-60 km/h) / ``secondary`` (60-70 km/h) /
  ``primary`` (70-90 km/h), and all of its edges are kept.
* **Motorways** (110-130 km/h, two-way): lattice rows and columns about every
  55 km (similar to the density of the German Autobahn network), made of
  straight edges between access nodes about 8 km apart, so motorway traffic
  can only enter at the access nodes; crossing motorways share an
  interchange node.

Lengths are the straight-line distance times a random detour factor (1.0-1.3
for local streets, 1.0-1.1 for classified roads, 1.05 for motorways); travel
times are length / speed. Nodes are numbered along a Hilbert curve, like the
simplified real graphs, so memory locality is comparable.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from accessibility.graph.core import RoadGraph, from_edges

logger = logging.getLogger(__name__)

#: Extent of the synthetic area in EPSG:25832 metres (x0, y0, width, height).
EXTENT = (280_000.0, 5_240_000.0, 640_000.0, 800_000.0)
CRS = "EPSG:25832"
CLASS_NAMES = ("motorway", "primary", "secondary", "tertiary", "unclassified", "residential")
MOTORWAY, PRIMARY, SECONDARY, TERTIARY, UNCLASSIFIED, RESIDENTIAL = range(6)
#: Speed range (km/h) per class, uniform per edge (per motorway segment).
SPEEDS_KMH = {
    MOTORWAY: (110.0, 130.0), PRIMARY: (70.0, 90.0), SECONDARY: (60.0, 70.0),
    TERTIARY: (50.0, 60.0), UNCLASSIFIED: (40.0, 50.0), RESIDENTIAL: (25.0, 35.0),
}
#: Real municipality points (DESTATIS 2019): ags, name, bevoelkerung, lon, lat.
#: The register in ../shared/data beside the checkout (as the tests read it).
MUNICIPALITIES_CSV = (Path(__file__).resolve().parents[2] / "shared" / "data" / "municipalities"
                      / "gemeinden_2019_destatis.csv")

HOLE_SHARE = 0.04
DIAGONAL_SHARE = 0.15
UNDIRECTED_PER_NODE = 1.3
ONEWAY_SHARE_OF_EXTRA = 0.4


def _hilbert_order(x: np.ndarray, y: np.ndarray, bits: int = 16) -> np.ndarray:
    """Permutation sorting points along a Hilbert curve (vectorised xy2d)."""
    side = (1 << bits) - 1

    def scale(a):
        lo, hi = float(a.min()), float(a.max())
        return ((a - lo) / (hi - lo if hi > lo else 1.0) * side).astype(np.int64)

    xi, yi = scale(x), scale(y)
    d = np.zeros(x.size, np.int64)
    s = 1 << (bits - 1)
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        flip = ~ry
        swap_x = np.where(flip & rx, side - xi, xi)
        swap_y = np.where(flip & rx, side - yi, yi)
        xi, yi = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return np.argsort(d, kind="stable")


def _line_class(count: int, spacing_m: float, rng: np.random.Generator) -> np.ndarray:
    """Class of every lattice row (or column): tertiary/secondary/primary on a
    ~4/8/16 km raster, local (RESIDENTIAL placeholder) elsewhere."""
    cls = np.full(count, RESIDENTIAL, np.uint8)
    idx = np.arange(count)
    for c, km, kmin in ((TERTIARY, 4.0, 2), (SECONDARY, 8.0, 3), (PRIMARY, 16.0, 4)):
        k = max(kmin, int(round(km * 1000.0 / spacing_m)))
        cls[(idx - int(rng.integers(k))) % k == 0] = c
    return cls


def synthetic_road_graph(n_nodes: int, seed: int = 0,
                         extent: tuple[float, float, float, float] = EXTENT) -> RoadGraph:
    """A synthetic road-like :class:`RoadGraph` with exactly ``n_nodes`` nodes.

    Vectorised numpy/scipy (no Python loop per node): 4 million nodes take
    about half a minute and ~2-3 GB of transient memory. See the module
    docstring for the model. ``meta`` carries ``{"synthetic": True, ...}`` plus
    the seed, lattice spacing, the share of nodes in the largest strongly
    connected component (``scc_share``) and the share of one-way edges.
    ``extent``: the rectangle (x0, y0, width, height in EPSG:25832 metres), default
    Germany's box (:data:`EXTENT`); a larger one with proportionally more nodes
    keeps the lattice's spacing (Germany plus its neighbours' roads).
    """
    if n_nodes < 100:
        raise ValueError("n_nodes must be at least 100")
    rng = np.random.default_rng(seed)
    x0, y0, width, height = extent
    n_grid_target = n_nodes / (1.0 - HOLE_SHARE)
    spacing = float(np.sqrt(width * height / n_grid_target))
    nx_ = max(3, int(np.ceil(width / spacing)))
    ny_ = max(3, int(np.ceil(height / spacing)))
    while nx_ * ny_ < n_nodes:
        ny_ += 1
    n0 = nx_ * ny_
    row_cls = _line_class(ny_, spacing, rng)  # class of horizontal edges in row j
    col_cls = _line_class(nx_, spacing, rng)  # class of vertical edges in column i

    # Motorway rows/columns (~55 km apart) with access nodes every q lattice steps.
    q = max(2, int(round(8000.0 / spacing)))
    k_mot = max(q, int(round(55_000.0 / spacing / q)) * q)
    acc_off_x, acc_off_y = int(rng.integers(q)), int(rng.integers(q))

    def motorway_lines(count, off):
        k = k_mot
        if (count - 1 - off) // k < 1:  # tiny graphs: still two lines
            k = max(1, (count - 1 - off) // 2)
            k = max(q, (k // q) * q) if k >= q else k
        lines = np.arange(off, count, max(k, 1))
        return lines[:max(2, lines.size)]

    mot_cols = motorway_lines(nx_, acc_off_x)  # column indices i of N-S motorways
    mot_rows = motorway_lines(ny_, acc_off_y)  # row indices j of E-W motorways

    # --- nodes: lattice ids g = j * nx_ + i; drop holes among unprotected nodes.
    protected = np.zeros(n0, bool)
    gi = np.arange(n0) % nx_
    gj = np.arange(n0) // nx_
    protected |= row_cls[gj] != RESIDENTIAL
    protected |= col_cls[gi] != RESIDENTIAL
    protected |= np.isin(gj, mot_rows) | np.isin(gi, mot_cols)
    n_drop = n0 - n_nodes
    cand = np.flatnonzero(~protected)
    if cand.size < n_drop:  # very small graphs: allow dropping anything
        cand = np.arange(n0)
    drop = rng.choice(cand, size=n_drop, replace=False)
    keep = np.ones(n0, bool)
    keep[drop] = False
    del protected, cand, drop

    gx = x0 + (gi + 0.5 + rng.uniform(-0.3, 0.3, n0)) * spacing
    gy = y0 + (gj + 0.5 + rng.uniform(-0.3, 0.3, n0)) * spacing
    del gi, gj

    # --- candidate lattice edges (a < b in lattice ids)
    ids = np.arange(n0, dtype=np.int64).reshape(ny_, nx_)
    h_a, h_b = ids[:, :-1].ravel(), ids[:, 1:].ravel()
    h_cls = np.repeat(row_cls, nx_ - 1)
    v_a, v_b = ids[:-1, :].ravel(), ids[1:, :].ravel()
    v_cls = np.tile(col_cls, ny_ - 1)
    cells = ids[:-1, :-1].ravel()
    cells = cells[rng.random(cells.size) < DIAGONAL_SHARE]
    rising = rng.random(cells.size) < 0.5
    d_a = np.where(rising, cells, cells + 1)
    d_b = np.where(rising, cells + nx_ + 1, cells + nx_)
    del ids, cells, rising
    a = np.concatenate([h_a, v_a, d_a])
    b = np.concatenate([h_b, v_b, d_b])
    cls = np.concatenate([h_cls, v_cls, np.full(d_a.size, RESIDENTIAL, np.uint8)])
    del h_a, h_b, v_a, v_b, d_a, d_b, h_cls, v_cls
    ok = keep[a] & keep[b]
    a, b, cls = a[ok], b[ok], cls[ok]
    del ok
    arterial = cls != RESIDENTIAL

    # Random spanning forest: arterial edges almost free, local edges random.
    w = np.where(arterial, rng.uniform(1e-6, 1e-3, a.size), rng.uniform(1.0, 2.0, a.size))
    mst = minimum_spanning_tree(coo_array((w, (a, b)), shape=(n0, n0)).tocsr())
    mst = mst.tocoo()
    ta = np.minimum(mst.row, mst.col).astype(np.int64)
    tb = np.maximum(mst.row, mst.col).astype(np.int64)
    del mst, w
    key = a * n0 + b
    order = np.argsort(key)
    pos = order[np.searchsorted(key[order], ta * n0 + tb)]
    in_tree = np.zeros(a.size, bool)
    in_tree[pos] = True
    del key, order, pos, ta, tb

    chosen = in_tree | arterial
    spare = np.flatnonzero(~chosen)
    # at least 5 % of the node count, so that small graphs (dominated by the
    # classified-road raster) still get some one-way streets
    n_extra = max(int(0.05 * n_nodes), int(UNDIRECTED_PER_NODE * n_nodes) - int(chosen.sum()))
    extra = rng.choice(spare, size=min(n_extra, spare.size), replace=False)
    chosen[extra] = True
    oneway = np.zeros(a.size, bool)
    oneway[extra[rng.random(extra.size) < ONEWAY_SHARE_OF_EXTRA]] = True
    del spare, extra, in_tree
    a, b, cls, oneway, arterial = a[chosen], b[chosen], cls[chosen], oneway[chosen], arterial[chosen]
    del chosen
    # Local streets: residential or unclassified.
    loc = ~arterial
    cls[loc] = np.where(rng.random(int(loc.sum())) < 0.6, RESIDENTIAL, UNCLASSIFIED)
    detour = np.where(arterial, rng.uniform(1.0, 1.1, a.size), rng.uniform(1.0, 1.3, a.size))
    del loc, arterial

    # --- motorway edges between access nodes along the motorway lines
    m_a, m_b = [], []
    for j in mot_rows:  # E-W: access at columns acc_off_x + k q
        acc = np.arange(acc_off_x, nx_, q)
        m_a.append(j * nx_ + acc[:-1])
        m_b.append(j * nx_ + acc[1:])
    for i in mot_cols:  # N-S: access at rows acc_off_y + k q
        acc = np.arange(acc_off_y, ny_, q)
        m_a.append(acc[:-1] * nx_ + i)
        m_b.append(acc[1:] * nx_ + i)
    m_a = np.concatenate(m_a).astype(np.int64)
    m_b = np.concatenate(m_b).astype(np.int64)
    okm = keep[m_a] & keep[m_b]
    m_a, m_b = m_a[okm], m_b[okm]
    a = np.concatenate([a, m_a])
    b = np.concatenate([b, m_b])
    cls = np.concatenate([cls, np.full(m_a.size, MOTORWAY, np.uint8)])
    oneway = np.concatenate([oneway, np.zeros(m_a.size, bool)])
    detour = np.concatenate([detour, np.full(m_a.size, 1.05)])

    # Deduplicate (only possible on tiny graphs): keep the highest class.
    key = np.minimum(a, b) * n0 + np.maximum(a, b)
    order = np.lexsort((cls, key))
    first = np.ones(order.size, bool)
    first[1:] = key[order][1:] != key[order][:-1]
    sel = order[first]
    a, b, cls, oneway, detour = a[sel], b[sel], cls[sel], oneway[sel], detour[sel]
    del key, order, first, sel

    length = np.hypot(gx[a] - gx[b], gy[a] - gy[b]) * detour
    length = np.maximum(length, 1.0)
    lo = np.array([SPEEDS_KMH[c][0] for c in range(len(CLASS_NAMES))])
    hi = np.array([SPEEDS_KMH[c][1] for c in range(len(CLASS_NAMES))])
    speed = lo[cls] + (hi[cls] - lo[cls]) * rng.random(a.size)
    time_s = length / (speed / 3.6)
    del detour, speed

    # One-way edges get a random direction.
    flip = oneway & (rng.random(a.size) < 0.5)
    a, b = np.where(flip, b, a), np.where(flip, a, b)
    two = ~oneway
    u = np.concatenate([a, b[two]])
    v = np.concatenate([b, a[two]])
    t = np.concatenate([time_s, time_s[two]])
    ln = np.concatenate([length, length[two]])
    c = np.concatenate([cls, cls[two]])
    n_oneway = int(oneway.sum())
    del a, b, time_s, length, cls, two, flip

    # --- renumber: kept lattice nodes in Hilbert order
    kept = np.flatnonzero(keep)
    x, y = gx[kept], gy[kept]
    del gx, gy
    order = _hilbert_order(x, y)
    kept = kept[order]
    x, y = x[order], y[order]
    new_id = np.full(n0, -1, np.int64)
    new_id[kept] = np.arange(n_nodes)
    u, v = new_id[u], new_id[v]
    del new_id, kept, order, keep

    from pyproj import Transformer

    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
    g = from_edges(
        u, v, t, ln, c, class_names=CLASS_NAMES, osm_id=np.arange(n_nodes, dtype=np.int64),
        lon=np.asarray(lon), lat=np.asarray(lat), crs=CRS, x=x, y=y,
        meta={"synthetic": True, "name": f"synthetic-{n_nodes}", "seed": seed,
              "spacing_m": spacing, "extent_epsg25832": tuple(extent),
              "oneway_edge_share": n_oneway / max(1, int(u.size))},
    )
    del u, v, t, ln, c
    g.meta["scc_share"] = largest_scc_share(g)
    logger.info("synthetic graph: %d nodes, %d edges, spacing %.0f m, largest SCC %.4f",
                g.n_nodes, g.n_edges, spacing, g.meta["scc_share"])
    return g


def largest_scc_share(graph: RoadGraph) -> float:
    """Share of nodes in the largest strongly connected component."""
    a = csr_array((np.ones(graph.n_edges, np.int8), graph.targets, graph.offsets),
                  shape=(graph.n_nodes, graph.n_nodes))
    _, labels = connected_components(a, directed=True, connection="strong")
    return float(np.bincount(labels).max() / graph.n_nodes)


def degree_histogram(graph: RoadGraph, max_degree: int = 8) -> dict[int, float]:
    """Share of nodes by undirected degree (number of distinct neighbours)."""
    s, t = graph.sources.astype(np.int64), graph.targets.astype(np.int64)
    key = np.unique(np.minimum(s, t) * graph.n_nodes + np.maximum(s, t))
    lo, hi = key // graph.n_nodes, key % graph.n_nodes
    deg = np.bincount(lo, minlength=graph.n_nodes) + np.bincount(hi, minlength=graph.n_nodes)
    h = np.bincount(np.minimum(deg, max_degree), minlength=max_degree + 1) / graph.n_nodes
    return {d: float(h[d]) for d in range(max_degree + 1)}


def place_points(graph: RoadGraph, n: int, seed: int = 0) -> np.ndarray:
    """``n`` distinct random node indices (sorted int64), e.g. facilities or origins."""
    n = min(int(n), graph.n_nodes)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(graph.n_nodes, size=n, replace=False)).astype(np.int64)


def load_municipalities(path: str | Path = MUNICIPALITIES_CSV):
    """The DESTATIS 2019 municipality table (ags, name, bevoelkerung, lon, lat)."""
    import pandas as pd

    return pd.read_csv(path, usecols=["ags", "name", "bevoelkerung", "lon", "lat"],
                       dtype={"ags": str})


def snap_municipalities(graph: RoadGraph, path: str | Path = MUNICIPALITIES_CSV,
                        max_snap_m: float = 5_000.0):
    """Snap the real municipality points onto ``graph``.

    On a synthetic graph (``graph.meta["synthetic"]``) the points' EPSG:25832
    coordinates are mapped linearly from the bounding box of all municipalities
    onto the bounding box of the graph, so all 11,004 points are used. On a real
    graph the points are projected to ``graph.crs`` and only those within
    ``max_snap_m`` of a node are kept.

    Returns
    -------
    nodes : ndarray of int64
        Nearest node of each kept municipality (several may share a node).
    population : ndarray of float64
        Their populations (``bevoelkerung``).
    ags : ndarray of str
        Their official municipality keys.
    """
    from scipy.spatial import cKDTree

    from accessibility.graph.core import project

    df = load_municipalities(path)
    df = df[np.isfinite(df["lon"]) & np.isfinite(df["lat"])]
    mx, my = project(df["lon"].to_numpy(), df["lat"].to_numpy(), graph.crs)
    if graph.meta.get("synthetic"):
        gx0, gx1 = float(graph.x.min()), float(graph.x.max())
        gy0, gy1 = float(graph.y.min()), float(graph.y.max())
        mx = gx0 + (mx - mx.min()) / (mx.max() - mx.min()) * (gx1 - gx0)
        my = gy0 + (my - my.min()) / (my.max() - my.min()) * (gy1 - gy0)
    tree = cKDTree(np.column_stack([graph.x, graph.y]))
    dist, node = tree.query(np.column_stack([mx, my]))
    ok = np.ones(node.size, bool) if graph.meta.get("synthetic") else dist <= max_snap_m
    return (node[ok].astype(np.int64), df["bevoelkerung"].to_numpy(np.float64)[ok],
            df["ags"].to_numpy()[ok])


def node_weights(n_nodes: int, nodes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-node weight vector: ``weights`` summed onto ``nodes``."""
    return np.bincount(nodes, weights=weights, minlength=n_nodes).astype(np.float64)
