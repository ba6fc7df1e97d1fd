"""How the OSM graph builder scales to a national file (issue 14).

Usage::

    python -m benchmarks.osm_scale --nodes 5000000 --two-pass yes --variants --repeat 3 \
        --json benchmarks/results/osm_scale_5m.json
    python -m benchmarks.osm_scale --nodes 45000000 --keep /tmp/s45m.osm.pbf --json out.json
    python -m benchmarks.osm_scale --pbf /tmp/s45m.osm.pbf --two-pass no --json out2.json
    python -m benchmarks.osm_scale --pbf germany-latest.osm.pbf --json out.json
    python -m benchmarks.osm_scale --table a.json,b.json     # re-print; two sizes: extrapolate

Writes a **synthetic** OSM PBF of the given size (labelled so everywhere) with the
structure of a German extract: node ids ascending with gaps (id density like
Germany's, ~28 ids per node), most nodes in buildings, landuse and other non-road
features, tagged and untagged POI nodes, and a road network (a jittered lattice of
motorway ... residential ways with shape nodes, plus service / living_street / link
spurs, tracks, footways, paths, cycleways, steps, roundabouts and ferries) over
lon 6-15, lat 47.3-55, with maxspeed / oneway / access / junction tags. Objects carry
version and timestamp but no user or changeset (like Geofabrik's public extracts);
no relations (the builder does not read them).

The file is written through libosmium: numpy formats the objects as OPL text in
chunks (vectorised, no Python object per node), ``osmium.io.FileBuffer`` parses it
and ``osmium.SimpleWriter`` writes the PBF: 1.75 M nodes/s here against 0.39 M nodes/s
for the same nodes handed to ``SimpleWriter.add_node`` as ``osmium.osm.mutable.Node``.
The file is deterministic (``--seed``); ``--keep FILE`` also writes ``FILE.json`` with
what the file holds, which ``--pbf FILE`` picks up.

The builder is then timed stage by stage in a fresh ``spawn``-ed subprocess, calling
its functions from outside in the order ``accessibility.graph.build_graph`` does:
``read_osm_ways`` (libosmium read with the location index and filters + the Python
way collector), the rest of ``graph_from_osm`` (edge arrays), then ``simplify``'s
steps (``largest_scc``, ``contract_degree2``, Hilbert ``reorder``; each step is handed
the previous graph and frees it, as ``build_graph`` runs them), then the cache
(``cache_key`` + ``save_graph``) and, for reference, ``load_graph``. Peak memory per
stage is the kernel high-water mark (VmHWM reset through ``/proc/self/clear_refs``,
``benchmarks.run.PeakMemory``); CPU time per stage (all threads) is given too, as it
depends less on other jobs than wall time. ``--two-pass yes|no`` forces the read mode
of ``read_osm_ways`` (default: its own choice by file size). ``--variants`` also times
libosmium-only passes (no Python handler) to isolate the node location index (see
``VARIANTS``), and the whole ``read_osm_ways`` of before issue 14.

Progress goes to stderr (logging); stdout has only the table.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import logging
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

logger = logging.getLogger("benchmarks.osm_scale")

#: lon/lat box of the synthetic file (Germany's extent).
BBOX = (6.0, 47.3, 15.0, 55.0)
#: Germany (Geofabrik extract, approximate): nodes, ways, highway ways.
GERMANY = {"nodes": 440e6, "ways": 70e6, "highway_ways": 11e6}
#: Node ids per node in the file: Germany has ~440 M nodes with ids up to ~12.5 billion.
ID_DENSITY = 28.0
#: Mapping "epochs" of the synthetic id history (see write_pbf).
ID_EPOCHS = 64
#: Way ids per way (~70 M ways, ids up to ~1.4 billion).
WAY_ID_DENSITY = 19.0
DEFAULT_WAYS_PER_NODE = 1 / 6.5
#: Share of ways with a highway tag (Germany: roughly 11 of 70 million).
DEFAULT_ROAD_SHARE = 0.16

#: Shares of the highway ways by class: roughly the mix of the real extracts in
#: ../shared/data/osm (heidelberg, dreieich, herrenberg, north-bayreuth) and of Germany.
#: Lattice classes form the connected grid; the others are spurs hanging off it.
LATTICE_MIX = {"motorway": 0.006, "trunk": 0.006, "primary": 0.035, "secondary": 0.03,
               "tertiary": 0.035, "unclassified": 0.04, "residential": 0.14}
SPUR_MIX = {"service": 0.17, "living_street": 0.025, "motorway_link": 0.004,
            "trunk_link": 0.003, "primary_link": 0.003, "footway": 0.18, "track": 0.16,
            "path": 0.09, "steps": 0.04, "cycleway": 0.02, "pedestrian": 0.01,
            "bridleway": 0.002}
#: New nodes per spur: minimum + Poisson(mean).
SPUR_NODES = {"service": (1, 3), "living_street": (2, 3), "motorway_link": (2, 3),
              "trunk_link": (2, 3), "primary_link": (2, 3), "footway": (2, 4),
              "track": (3, 8), "path": (3, 6), "steps": (1, 1), "cycleway": (3, 5),
              "pedestrian": (2, 3), "bridleway": (3, 5)}
ROUNDABOUT_SHARE = 0.003
FERRY_SHARE = 5e-5
#: maxspeed: (share of ways tagged, values)
MAXSPEED = {
    "motorway": (0.6, ["none", "120", "130", "100", "80", "signals"]),
    "trunk": (0.5, ["100", "70", "80", "DE:rural", "120"]),
    "primary": (0.5, ["100", "70", "50", "DE:rural", "DE:urban", "80"]),
    "secondary": (0.45, ["100", "70", "50", "DE:rural", "DE:urban"]),
    "tertiary": (0.4, ["50", "70", "100", "DE:urban", "DE:rural", "30"]),
    "unclassified": (0.3, ["50", "70", "100", "30", "DE:rural"]),
    "residential": (0.35, ["30", "50", "DE:zone30", "DE:urban", "20", "30;50"]),
    "living_street": (0.2, ["walk", "7", "DE:living_street"]),
    "service": (0.05, ["10", "20", "30", "walk"]),
}
ONEWAY = {"residential": 0.06, "unclassified": 0.03, "tertiary": 0.03, "secondary": 0.02,
          "primary": 0.02, "service": 0.05, "living_street": 0.05, "trunk_link": 0.5,
          "primary_link": 0.5}
#: access tags on car classes: (share, tag); blocked_access of de-car includes
#: private / no / agricultural / forestry / delivery.
ACCESS = {"service": [(0.08, "access=private"), (0.01, "access=no"),
                      (0.02, "access=destination")],
          "residential": [(0.01, "motor_vehicle=destination"), (0.005, "vehicle=no")],
          "unclassified": [(0.02, "motor_vehicle=agricultural")]}
STREETS = ["Hauptstrasse", "Schulstrasse", "Gartenstrasse", "Bahnhofstrasse", "Dorfstrasse",
           "Bergstrasse", "Birkenweg", "Lindenstrasse", "Kirchstrasse", "Waldstrasse",
           "Ringstrasse", "Schillerstrasse", "Goethestrasse", "Wiesenweg", "Jahnstrasse"]
BUILDING = ["building=yes"] * 14 + ["building=house"] * 3 + [
    "building=residential", "building=garage", "building=detached", "building=apartments",
    "building=shed", "building=industrial", "building=commercial", "building=roof"]
LANDUSE = ["landuse=farmland", "landuse=meadow", "landuse=forest", "landuse=residential",
           "landuse=grass", "landuse=industrial", "natural=wood", "natural=water",
           "natural=scrub", "leisure=park", "landuse=orchard"]
OTHER_LINES = ["barrier=fence", "barrier=hedge", "barrier=wall", "waterway=stream",
               "waterway=ditch", "power=line", "railway=rail,usage=main,gauge=1435",
               "natural=tree_row", "power=minor_line"]
POI = ["amenity=bench", "amenity=restaurant,name=Zur_Post", "shop=bakery", "natural=tree",
       "highway=street_lamp", "power=tower", "amenity=parking", "amenity=waste_basket",
       "tourism=information,information=guidepost", "amenity=recycling",
       "highway=bus_stop,name=Rathaus", "shop=supermarket,name=Markt", "amenity=bicycle_parking",
       "emergency=fire_hydrant", "place=hamlet,name=Neudorf"]
INTERSECTION_TAGS = ["highway=traffic_signals", "highway=crossing,crossing=zebra",
                     "highway=stop", "highway=give_way", "highway=turning_circle"]


# ============================================================================ OPL formatting
# Fixed-width fields go straight into an (n, width) byte matrix (numbers zero padded,
# tables space padded: OPL accepts both). Variable fields (way tags) are "pieces":
# (matrix uint8 (n, w), mask bool (n, w)), only the masked cells used; side by side,
# matrix[mask] gives the rows' text back to back. Ways' node lists are then scattered
# behind their heads.
def _const(n: int, text: bytes):
    m = np.frombuffer(text, dtype=np.uint8)
    return np.broadcast_to(m, (n, m.size)), np.ones((n, m.size), bool)


def _choice(table: list[bytes], idx: np.ndarray):
    w = max(1, max(len(t) for t in table))
    tab = np.zeros((len(table), w), np.uint8)
    lens = np.array([len(t) for t in table])
    for i, t in enumerate(table):
        tab[i, :len(t)] = np.frombuffer(t, dtype=np.uint8)
    idx = np.asarray(idx)
    return tab[idx], np.arange(w) < lens[idx][:, None]


def _join(pieces) -> tuple[np.ndarray, np.ndarray]:
    """Rows' bytes back to back, and the length of each row."""
    mat = np.hstack([p[0] for p in pieces])
    mask = np.hstack([p[1] for p in pieces])
    return mat[mask], mask.sum(axis=1)


def _scatter_rows(parts) -> np.ndarray:
    """Interleave per-row byte runs: row 0 of every part, then row 1 of every part, ...
    ``parts``: list of (bytes back to back, length per row)."""
    row_len = sum(ln for _, ln in parts)
    start = np.zeros(row_len.size, np.int64)
    np.cumsum(row_len[:-1], out=start[1:])
    out = np.empty(int(row_len.sum()), np.uint8)
    off = start
    for flat, ln in parts:
        first = np.zeros(ln.size, np.int64)
        np.cumsum(ln[:-1], out=first[1:])
        out[np.repeat(off - first, ln) + np.arange(flat.size)] = flat
        off = off + ln
    return out


def _padded(table: list[bytes]) -> np.ndarray:
    """A table of byte strings as a matrix, padded with spaces (OPL allows several
    spaces between fields)."""
    w = max(1, max(len(t) for t in table))
    return np.array([np.frombuffer(t.ljust(w), np.uint8) for t in table], np.uint8)


def _fixed_rows(n: int, parts) -> np.ndarray:
    """Fixed-width text rows (n, width) without masks: numbers zero padded (OPL reads
    leading zeros), tables space padded. ``parts``: bytes (constant), (values, width)
    (digits) or (padded table matrix, index)."""
    widths = [len(p) if isinstance(p, bytes) else p[0].shape[1] if p[0].ndim == 2 else p[1]
              for p in parts]
    mat = np.empty((n, sum(widths)), np.uint8)
    col = 0
    for p, w in zip(parts, widths):
        if isinstance(p, bytes):
            mat[:, col:col + w] = np.frombuffer(p, np.uint8)
        elif p[0].ndim == 1:  # digits, least significant last
            v = np.asarray(p[0], np.int64)
            for k in range(w):
                v, r = np.divmod(v, 10)
                mat[:, col + w - 1 - k] = r + 48
        else:
            mat[:, col:col + w] = p[0][p[1]]
        col += w
    return mat


_N_TIMESTAMPS = 4096


def _timestamps(rng) -> list[bytes]:
    t0 = _dt.datetime(2008, 1, 1, tzinfo=_dt.UTC).timestamp()
    t1 = _dt.datetime(2024, 12, 31, tzinfo=_dt.UTC).timestamp()
    ts = np.sort(rng.uniform(t0, t1, _N_TIMESTAMPS))
    return [_dt.datetime.fromtimestamp(float(t), _dt.UTC).strftime(" t%Y-%m-%dT%H:%M:%SZ")
            .encode() for t in ts]


# ============================================================================ generator
class Synthetic:
    """Arrays of a synthetic OSM file in *creation order* (ids are given at writing).

    Nodes: ``lon``, ``lat`` (float64), ``node_tag`` (index into ``node_tags``, 0 = none),
    ``block_len`` (nodes are created in blocks: a way's own nodes, one intersection,
    one POI; blocks get ids in a mapping-history order, so a way's nodes have nearby
    ids but the ways are scattered over the id space, as in OSM; see write_pbf).
    Ways: ``refs`` (node indices, CSR by ``way_start``), ``way_cls`` (index into
    ``class_names`` for highway classes and ferries; -1 building, -2 landuse, -3 other
    line), ``way_flag`` (1 reversed motorway carriageway, 2 roundabout), one tag string
    per way built from ``way_tag`` parts (indices into ``tag_tables``). ``expected``:
    what the builder must read, by construction.
    """


def _class_lines(n_lines: int, shares: dict[str, float]) -> np.ndarray:
    """Class index per lattice line, spread evenly (golden-ratio sequence)."""
    names = list(shares)
    p = np.array([shares[c] for c in names], float)
    p[names.index("motorway")] /= 2  # a motorway line gives two ways (carriageways)
    cum = np.cumsum(p / p.sum())
    u = ((np.arange(n_lines) + 1) * 0.6180339887498949) % 1.0
    return np.minimum(np.searchsorted(cum, u, side="right"), len(names) - 1)


def generate(n_nodes: int, n_ways: int | None = None, road_share: float = DEFAULT_ROAD_SHARE,
             seed: int = 0, profile=None,
             extra_pois: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> Synthetic:
    """Build the arrays of a synthetic German-like OSM file with exactly ``n_nodes``
    nodes and about ``n_ways`` ways (``road_share`` of them with a highway tag).

    ``extra_pois``: OPL tags (``"amenity=pharmacy"``, no spaces) -> (lon, lat) of
    tagged nodes placed by the caller (the uniform POIs carry only a supermarket and a
    bus stop of the six Nahversorgung services, at random places); they are part of
    the ``n_nodes`` (the non-road features get fewer). None (the default) leaves the
    file as it always was."""
    from accessibility.profile import DEFAULT_PROFILE

    profile = profile or DEFAULT_PROFILE
    rng = np.random.default_rng(seed)
    if n_ways is None:
        n_ways = round(n_nodes * DEFAULT_WAYS_PER_NODE)
    if not 0 < road_share < 1:
        raise SystemExit("--road-share must be in (0, 1)")
    n_road = max(60, round(n_ways * road_share))
    lat0 = (BBOX[1] + BBOX[3]) / 2
    m_lat = 1 / 111_320.0  # degrees per metre
    m_lon = 1 / (111_320.0 * math.cos(math.radians(lat0)))

    class_names = list(LATTICE_MIX) + list(SPUR_MIX) + ["ferry"]
    cls_id = {c: i for i, c in enumerate(class_names)}
    lon_parts, lat_parts, tag_parts, block_parts = [], [], [], []
    n_created = 0

    def new_nodes(lon, lat, blocks, tag=None):
        nonlocal n_created
        lon_parts.append(np.asarray(lon, float))
        lat_parts.append(np.asarray(lat, float))
        tag_parts.append(np.zeros(len(lon), np.int16) if tag is None else tag.astype(np.int16))
        block_parts.append(np.asarray(blocks, np.int64))
        first = n_created
        n_created += len(lon)
        return first

    # ---------------------------------------------------------------- road lattice
    lat_share = sum(LATTICE_MIX.values()) / (sum(LATTICE_MIX.values()) + sum(SPUR_MIX.values()))
    n_lattice_ways = n_road * lat_share
    seg_per_way = 3.0
    n_int = max(16, int(n_lattice_ways * seg_per_way / 2))
    width_km = (BBOX[2] - BBOX[0]) / m_lon / 1000
    height_km = (BBOX[3] - BBOX[1]) / m_lat / 1000
    nx = max(4, round(math.sqrt(n_int * width_km / height_km)))
    ny = max(4, round(n_int / nx))
    dx, dy = (BBOX[2] - BBOX[0]) / nx, (BBOX[3] - BBOX[1]) / ny
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny))
    ix_lon = BBOX[0] + (ii.ravel() + 0.5 + rng.uniform(-0.25, 0.25, nx * ny)) * dx
    ix_lat = BBOX[1] + (jj.ravel() + 0.5 + rng.uniform(-0.25, 0.25, nx * ny)) * dy
    it = np.zeros(nx * ny, np.int16)
    signal = rng.random(nx * ny) < 0.05
    it[signal] = 1 + rng.integers(0, len(INTERSECTION_TAGS), signal.sum())
    int0 = new_nodes(ix_lon, ix_lat, np.ones(nx * ny),
                     np.where(it > 0, it + len(POI), 0))  # one block each
    # segments along the lines: horizontal line j joins (i, j)-(i+1, j); vertical i
    h_a = (jj[:, :-1] * nx + ii[:, :-1]).ravel()
    h_line = jj[:, :-1].ravel()
    v_a = (jj[:-1, :] * nx + ii[:-1, :]).T.ravel()  # ordered along each vertical line
    v_line = ny + ii[:-1, :].T.ravel()
    seg_a = np.concatenate([h_a, v_a])
    seg_b = np.concatenate([h_a + 1, v_a + nx])
    seg_line = np.concatenate([h_line, v_line])
    line_cls = _class_lines(nx + ny, LATTICE_MIX)
    seg_cls = line_cls[seg_line]
    n_seg = seg_a.size
    # ways: runs of segments along a line, broken with probability 1/3 (mean 3)
    brk = rng.random(n_seg) < 1 / seg_per_way
    brk[0] = True
    brk[1:] |= seg_line[1:] != seg_line[:-1]
    seg_way = np.cumsum(brk) - 1
    n_lw = int(seg_way[-1]) + 1
    # shape nodes per segment, along the straight line with a sideways wiggle
    s = np.minimum(rng.poisson(2.2, n_seg), 8)
    n_shape = int(s.sum())
    seg_of_shape = np.repeat(np.arange(n_seg), s)
    first_shape = np.zeros(n_seg, np.int64)
    np.cumsum(s[:-1], out=first_shape[1:])
    k = np.arange(n_shape) - first_shape[seg_of_shape]
    f = (k + 1) / (s[seg_of_shape] + 1)
    a, b = seg_a[seg_of_shape], seg_b[seg_of_shape]
    wig = rng.normal(0, 0.04, n_shape)
    sh_lon = ix_lon[a] + f * (ix_lon[b] - ix_lon[a]) - wig * (ix_lat[b] - ix_lat[a]) * dx / dy
    sh_lat = ix_lat[a] + f * (ix_lat[b] - ix_lat[a]) + wig * (ix_lon[b] - ix_lon[a]) * dy / dx
    shape0 = new_nodes(sh_lon, sh_lat, s)  # one block per segment
    # refs of the lattice ways: per segment its start node and shape nodes, the way's
    # last segment also its end node
    last = np.ones(n_seg, bool)
    last[:-1] = seg_way[1:] != seg_way[:-1]
    cnt = 1 + s + last
    seg_off = np.zeros(n_seg, np.int64)
    np.cumsum(cnt[:-1], out=seg_off[1:])
    lat_refs = np.empty(int(cnt.sum()), np.int64)
    lat_refs[seg_off] = int0 + seg_a
    lat_refs[np.repeat(seg_off + 1 - first_shape, s) + np.arange(n_shape)] = shape0 + np.arange(n_shape)
    lat_refs[(seg_off + 1 + s)[last]] = int0 + seg_b[last]
    lw_start = seg_off[brk]
    lw_len = np.diff(np.append(lw_start, lat_refs.size))
    lw_cls = np.array([cls_id[c] for c in LATTICE_MIX])[seg_cls[brk]]
    lattice_nodes = np.concatenate([int0 + np.arange(nx * ny), shape0 + np.arange(n_shape)])

    ways_refs = [lat_refs]
    ways_len = [lw_len]
    ways_cls = [lw_cls]
    ways_flag = [np.zeros(n_lw, np.int8)]  # 1 = reversed motorway carriageway, 2 roundabout
    # the second carriageway of each motorway way: same nodes, reversed
    mw = np.flatnonzero(lw_cls == cls_id["motorway"])
    if mw.size:
        ln = lw_len[mw]
        first = np.zeros(mw.size, np.int64)
        np.cumsum(ln[:-1], out=first[1:])
        pos = np.arange(int(ln.sum())) - np.repeat(first, ln)
        src = np.repeat(lw_start[mw] + ln - 1, ln) - pos
        ways_refs.append(lat_refs[src])
        ways_len.append(ln)
        ways_cls.append(lw_cls[mw])
        ways_flag.append(np.ones(mw.size, np.int8))
    n_lattice_total = n_lw + mw.size

    # ---------------------------------------------------------------- spurs
    n_spur = max(len(SPUR_MIX), n_road - n_lattice_total)
    spur_names = list(SPUR_MIX)
    p = np.array([SPUR_MIX[c] for c in spur_names])
    sp_kind = rng.choice(len(spur_names), n_spur, p=p / p.sum())
    lo = np.array([SPUR_NODES[c][0] for c in spur_names])[sp_kind]
    mean = np.array([SPUR_NODES[c][1] for c in spur_names], float)[sp_kind]
    sp_new = lo + rng.poisson(mean)
    sp_start = lattice_nodes[rng.integers(0, lattice_nodes.size, n_spur)]
    island = (sp_kind == spur_names.index("service")) & (rng.random(n_spur) < 0.02)
    sp_new[island] = np.maximum(sp_new[island], 2)  # an island needs two nodes of its own
    lon_all = np.concatenate(lon_parts)
    lat_all = np.concatenate(lat_parts)
    tot = int(sp_new.sum())
    sp_of = np.repeat(np.arange(n_spur), sp_new)
    step = rng.uniform(30, 90, tot)
    ang0 = rng.uniform(0, 2 * np.pi, n_spur)
    ang = ang0[sp_of] + rng.normal(0, 0.3, tot)
    dlon, dlat = step * np.cos(ang) * m_lon, step * np.sin(ang) * m_lat
    cl, ct = np.cumsum(dlon), np.cumsum(dlat)
    first = np.zeros(n_spur, np.int64)
    np.cumsum(sp_new[:-1], out=first[1:])
    base_lon = cl[first] - dlon[first]
    base_lat = ct[first] - dlat[first]
    sp_lon = lon_all[sp_start][sp_of] + cl - base_lon[sp_of]
    sp_lat = lat_all[sp_start][sp_of] + ct - base_lat[sp_of]
    spur0 = new_nodes(sp_lon, sp_lat, sp_new)
    # refs: start node (unless an island) + the new nodes
    head = ~island
    cnt = sp_new + head
    off = np.zeros(n_spur, np.int64)
    np.cumsum(cnt[:-1], out=off[1:])
    sp_refs = np.empty(int(cnt.sum()), np.int64)
    sp_refs[off[head]] = sp_start[head]
    sp_refs[np.repeat(off + head - first, sp_new) + np.arange(tot)] = spur0 + np.arange(tot)
    ways_refs.append(sp_refs)
    ways_len.append(cnt)
    ways_cls.append(np.array([cls_id[c] for c in spur_names])[sp_kind])
    ways_flag.append(np.zeros(n_spur, np.int8))

    # ---------------------------------------------------------------- roundabouts, ferries
    n_rb = max(1, int(n_road * ROUNDABOUT_SHARE))
    centre = rng.choice(nx * ny, n_rb, replace=False) if n_rb <= nx * ny else rng.integers(0, nx * ny, n_rb)
    r = rng.uniform(15, 40, n_rb)
    angs = np.linspace(0, 2 * np.pi, 6)[1:-1]  # 4 new nodes around the centre node
    rb_lon = (ix_lon[centre][:, None] + r[:, None] * m_lon * (np.cos(angs) - 1)).ravel()
    rb_lat = (ix_lat[centre][:, None] + r[:, None] * m_lat * np.sin(angs)).ravel()
    rb0 = new_nodes(rb_lon, rb_lat, np.full(n_rb, 4))
    rb_refs = np.column_stack([int0 + centre, rb0 + np.arange(4 * n_rb).reshape(n_rb, 4),
                               int0 + centre]).ravel()
    ways_refs.append(rb_refs)
    ways_len.append(np.full(n_rb, 6))
    ways_cls.append(np.where(rng.random(n_rb) < 0.7, cls_id["residential"], cls_id["tertiary"]))
    ways_flag.append(np.full(n_rb, 2, np.int8))
    n_fe = max(2, int(n_road * FERRY_SHARE))
    fa = rng.integers(0, nx * ny, n_fe)
    fb = np.minimum(fa + rng.integers(2, 6, n_fe), nx * ny - 1)  # a few lattice cells east
    fb[fb == fa] = (fa[fb == fa] + nx) % (nx * ny)
    t = np.linspace(0, 1, 5)[1:-1]
    fe_lon = (ix_lon[fa][:, None] + t * (ix_lon[fb] - ix_lon[fa])[:, None]).ravel()
    fe_lat = (ix_lat[fa][:, None] + t * (ix_lat[fb] - ix_lat[fa])[:, None] + 0.01).ravel()
    fe0 = new_nodes(fe_lon, fe_lat, np.full(n_fe, 3))
    ways_refs.append(np.column_stack([int0 + fa, fe0 + np.arange(3 * n_fe).reshape(n_fe, 3),
                                      int0 + fb]).ravel())
    ways_len.append(np.full(n_fe, 5))
    ways_cls.append(np.full(n_fe, cls_id["ferry"]))
    ways_flag.append(np.zeros(n_fe, np.int8))
    n_road_ways = int(sum(x.size for x in ways_len))
    n_road_nodes = n_created

    # ---------------------------------------------------------------- POI nodes
    n_poi = int(0.025 * n_nodes)
    n_orphan = int(0.005 * n_nodes)
    new_nodes(rng.uniform(BBOX[0], BBOX[2], n_poi + n_orphan),
              rng.uniform(BBOX[1], BBOX[3], n_poi + n_orphan), np.ones(n_poi + n_orphan),
              np.concatenate([1 + rng.integers(0, len(POI), n_poi), np.zeros(n_orphan, int)]))
    extra_tags = list(extra_pois or {})
    for k, tag in enumerate(extra_tags):  # tag index after POI and INTERSECTION_TAGS
        lon, lat = (np.asarray(v, float) for v in extra_pois[tag])
        new_nodes(lon, lat, np.ones(lon.size),
                  np.full(lon.size, 1 + len(POI) + len(INTERSECTION_TAGS) + k))

    # ---------------------------------------------------------------- non-road features
    n_rest = max(0, n_ways - n_road_ways)
    n_bld = round(0.88 * n_rest)
    n_lu = round(0.06 * n_rest)
    n_ol = n_rest - n_bld - n_lu
    budget = n_nodes - n_created
    kind = np.concatenate([np.zeros(n_bld, np.int8), np.ones(n_lu, np.int8),
                           np.full(n_ol, 2, np.int8)])
    min_v = np.array([4, 6, 2])[kind]
    extra = budget - int(min_v.sum())
    if extra < 0:
        raise SystemExit(f"{n_nodes} nodes are too few for {n_ways} ways (roads need "
                         f"{n_created}, other features at least {int(min_v.sum())}): "
                         "raise --nodes or lower --ways")
    want = np.array([1.5, 12.0, 8.0])[kind]
    nv = min_v + (rng.poisson(want * extra / max(want.sum(), 1)) if kind.size else 0)
    diff = budget - int(nv.sum())
    while diff != 0 and kind.size:  # hit the node count exactly
        if diff > 0:
            np.add.at(nv, rng.integers(0, kind.size, diff), 1)
        else:
            cand = np.flatnonzero(nv > min_v)
            take = rng.choice(cand, min(-diff, cand.size), replace=False)
            nv[take] -= 1
        diff = budget - int(nv.sum())
    if kind.size == 0 and budget > 0:  # no room for features: more orphan nodes
        new_nodes(rng.uniform(BBOX[0], BBOX[2], budget), rng.uniform(BBOX[1], BBOX[3], budget),
                  np.ones(budget))
    elif kind.size:
        tot = int(nv.sum())
        of = np.repeat(np.arange(kind.size), nv)
        first = np.zeros(kind.size, np.int64)
        np.cumsum(nv[:-1], out=first[1:])
        kk = np.arange(tot) - first[of]
        c_lon = rng.uniform(BBOX[0], BBOX[2], kind.size)
        c_lat = rng.uniform(BBOX[1], BBOX[3], kind.size)
        radius = np.where(kind == 0, rng.uniform(5, 15, kind.size),
                          np.where(kind == 1, rng.uniform(80, 600, kind.size), 0.0))
        # polygons: vertices at increasing angles (a simple ring); lines: random walks
        angle = 2 * np.pi * (kk + rng.uniform(0.1, 0.9, tot)) / nv[of]
        rr = radius[of] * rng.uniform(0.8, 1.2, tot)
        walk = kind[of] == 2
        st = rng.uniform(20, 80, tot)
        heading = rng.uniform(0, 2 * np.pi, kind.size)[of] + rng.normal(0, 0.2, tot)
        wl = np.cumsum(np.where(walk, st * np.cos(heading), 0.0))
        wt = np.cumsum(np.where(walk, st * np.sin(heading), 0.0))
        wl -= wl[first][of]
        wt -= wt[first][of]
        f_lon = c_lon[of] + np.where(walk, wl, rr * np.cos(angle)) * m_lon
        f_lat = c_lat[of] + np.where(walk, wt, rr * np.sin(angle)) * m_lat
        f0 = new_nodes(f_lon, f_lat, nv)
        closed = kind != 2
        cnt = nv + closed
        off = np.zeros(kind.size, np.int64)
        np.cumsum(cnt[:-1], out=off[1:])
        f_refs = np.empty(int(cnt.sum()), np.int64)
        f_refs[np.repeat(off - first, nv) + np.arange(tot)] = f0 + np.arange(tot)
        f_refs[(off + nv)[closed]] = (f0 + first)[closed]
        ways_refs.append(f_refs)
        ways_len.append(cnt)
        ways_cls.append(np.full(kind.size, -1) - kind)  # -1 building, -2 landuse, -3 line
        ways_flag.append(np.zeros(kind.size, np.int8))

    syn = Synthetic()
    syn.lon = np.clip(np.concatenate(lon_parts), BBOX[0] - 0.05, BBOX[2] + 0.05)
    syn.lat = np.clip(np.concatenate(lat_parts), BBOX[1] - 0.05, BBOX[3] + 0.05)
    syn.node_tag = np.concatenate(tag_parts)
    syn.block_len = np.concatenate(block_parts)
    syn.node_tags = [b""] + [b" T" + t.encode() for t in POI + INTERSECTION_TAGS + extra_tags]
    syn.refs = np.concatenate(ways_refs)
    syn.way_len = np.concatenate(ways_len).astype(np.int64)
    syn.way_start = np.zeros(syn.way_len.size, np.int64)
    np.cumsum(syn.way_len[:-1], out=syn.way_start[1:])
    syn.way_cls = np.concatenate(ways_cls)
    syn.way_flag = np.concatenate(ways_flag)
    syn.class_names = class_names
    syn.n_nodes = n_created
    syn.n_ways = syn.way_len.size
    syn.n_road_ways = n_road_ways
    syn.n_road_nodes = n_road_nodes
    syn.seed = seed
    assert syn.n_nodes == n_nodes, (syn.n_nodes, n_nodes)
    _tag_ways(syn, rng)
    syn.expected = expected_counts(syn, profile)
    return syn


def _tag_ways(syn: Synthetic, rng) -> None:
    """Tag strings of the ways: a main tag plus optional parts (``way_tag`` indices)."""
    n = syn.n_ways
    names = syn.class_names
    main = [f"highway={c}" for c in names[:-1]] + ["route=ferry"]
    main += ["building"]  # placeholder, buildings use their own table below
    cls = syn.way_cls
    road = cls >= 0
    # main tag: roads by class; buildings / landuse / lines from their lists
    tables = {"main": [m.encode() for m in main[:-1]] + [t.encode() for t in BUILDING + LANDUSE
                                                         + OTHER_LINES]}
    off_b = len(names)
    off_l, off_o = off_b + len(BUILDING), off_b + len(BUILDING) + len(LANDUSE)
    m = np.where(road, cls, 0)
    m[cls == -1] = off_b + rng.integers(0, len(BUILDING), int((cls == -1).sum()))
    m[cls == -2] = off_l + rng.integers(0, len(LANDUSE), int((cls == -2).sum()))
    m[cls == -3] = off_o + rng.integers(0, len(OTHER_LINES), int((cls == -3).sum()))
    # maxspeed
    ms_vals = sorted({v for _, vals in MAXSPEED.values() for v in vals})
    tables["maxspeed"] = [b""] + [f",maxspeed={v}".encode() for v in ms_vals]
    ms = np.zeros(n, np.int64)
    for c, (share, vals) in MAXSPEED.items():
        w = np.flatnonzero((cls == names.index(c)) & (rng.random(n) < share))
        ms[w] = 1 + np.array([ms_vals.index(v) for v in vals])[rng.integers(0, len(vals), w.size)]
    # oneway / junction / ferry details (one part)
    tables["dir"] = [b"", b",oneway=yes", b",oneway=-1", b",junction=roundabout",
                     b",oneway=no", b",motor_vehicle=yes,duration=00:45",
                     b",motor_vehicle=yes", b",duration=PT1H30M"]
    dr = np.zeros(n, np.int64)
    u = rng.random(n)
    for c, share in ONEWAY.items():
        sel = cls == names.index(c)
        dr[sel & (u < share)] = 1
        dr[sel & (u >= share) & (u < share * 1.08)] = 2  # a few against the drawing direction
    dr[syn.way_flag == 2] = 3
    fe = np.flatnonzero(cls == names.index("ferry"))
    dr[fe] = np.array([5, 6, 7, 0])[np.arange(fe.size) % 4]
    # access
    acc_vals = sorted({t for v in ACCESS.values() for _, t in v})
    tables["access"] = [b""] + [f",{t}".encode() for t in acc_vals]
    ac = np.zeros(n, np.int64)
    u = rng.random(n)
    for c, opts in ACCESS.items():
        sel = cls == names.index(c)
        lo = 0.0
        for share, t in opts:
            ac[sel & (u >= lo) & (u < lo + share)] = 1 + acc_vals.index(t)
            lo += share
    # names, refs, surface, lanes; addresses on buildings
    tables["extra"] = [b""] + [f",name={s}".encode() for s in STREETS] + [
        b",ref=B27,lanes=2,surface=asphalt", b",ref=L3113,surface=asphalt", b",surface=asphalt",
        b",tracktype=grade2,surface=gravel", b",surface=paving_stones", b",lit=yes,surface=asphalt",
        b",bicycle=designated,foot=designated,segregated=no"] + [
        f",addr:street={s},addr:housenumber={h}".encode() for s in STREETS for h in (1, 3, 12, 27, 105)]
    n_names = len(STREETS)
    ex = np.zeros(n, np.int64)
    u = rng.random(n)
    local = np.isin(cls, [names.index(c) for c in ("residential", "unclassified", "tertiary",
                                                    "living_street", "secondary")])
    ex[local & (u < 0.6)] = 1 + rng.integers(0, n_names, int((local & (u < 0.6)).sum()))
    major = np.isin(cls, [names.index(c) for c in ("primary", "secondary", "trunk", "motorway")])
    ex[major & (u >= 0.6)] = 1 + n_names + rng.integers(0, 2, int((major & (u >= 0.6)).sum()))
    trk = np.isin(cls, [names.index(c) for c in ("track", "path")]) & (u < 0.5)
    ex[trk] = 1 + n_names + 3
    foot = np.isin(cls, [names.index(c) for c in ("footway", "cycleway", "pedestrian")]) & (u < 0.4)
    ex[foot] = 1 + n_names + 4 + rng.integers(0, 3, int(foot.sum()))
    bld = (cls == -1) & (u < 0.4)
    ex[bld] = 1 + n_names + 7 + rng.integers(0, 5 * n_names, int(bld.sum()))
    syn.tag_tables = tables
    syn.way_tag = {"main": m, "maxspeed": ms, "dir": dr, "access": ac, "extra": ex}


def expected_counts(syn: Synthetic, profile) -> dict:
    """What the builder must read from the file, by construction (for the tests)."""
    from accessibility.graph.osm import car_allowed, car_direction

    names = syn.class_names
    cls = syn.way_cls
    road = cls >= 0
    is_ferry = cls == names.index("ferry")
    cand = np.zeros(syn.n_ways, bool)
    car_cls = [i for i, c in enumerate(names) if c in profile.speeds_kmh]
    cand[np.isin(cls, car_cls) | is_ferry] = True
    acc = np.array([{}] + [dict([t.decode()[1:].split("=", 1)]) for t in syn.tag_tables["access"][1:]])
    dirs = np.array([{}] + [dict(kv.split("=", 1) for kv in t.decode()[1:].split(","))
                            for t in syn.tag_tables["dir"][1:]])
    blocked = np.array([not car_allowed(a, profile) for a in acc])[syn.way_tag["access"]]
    keep = cand & ~blocked
    # directions as car_direction sees them (ferries: both unless oneway=yes)
    n_dir = np.zeros(syn.n_ways, np.int64)
    for di, tags in enumerate(dirs):
        for c in car_cls:
            sel = keep & (syn.way_tag["dir"] == di) & (cls == c)
            d = car_direction(tags, names[c])
            n_dir[sel] = (d & 1 > 0) + (d & 2 > 0)
        n_dir[keep & is_ferry & (syn.way_tag["dir"] == di)] = 2
    seg = syn.way_len - 1
    kept_refs = np.repeat(keep, syn.way_len)
    return {
        "highway_ways": int(road.sum() - is_ferry.sum()),
        "ferry_ways": int(is_ferry.sum()),
        "candidate_ways": int(cand.sum()),  # _WayCollector.n_ways_seen
        "access_blocked_ways": int((cand & blocked).sum()),
        "drivable_ways": int(keep.sum()),
        "raw_nodes": int(np.unique(syn.refs[kept_refs]).size),
        "raw_edges": int((seg * n_dir)[keep].sum()),
        "by_class": {names[c]: int((cls == c).sum()) for c in range(len(names))},
        "buildings": int((cls == -1).sum()), "landuse": int((cls == -2).sum()),
        "other_lines": int((cls == -3).sum()),
        "tagged_nodes": int((syn.node_tag > 0).sum()),
        "way_refs": int(syn.refs.size),
    }


def _ts_index(rng, first: int, n: int, total: int, version: np.ndarray) -> np.ndarray:
    """Timestamp (index into the sorted table) of objects ``first..first+n`` in id
    order: version 1 was saved when the id was given (time grows with the id), later
    versions at a random later time."""
    k = _N_TIMESTAMPS
    created = ((first + np.arange(n)) * k) // max(total, 1)
    later = created + (rng.random(n) * (k - created)).astype(np.int64)
    return np.minimum(np.where(version > 1, later, created), k - 1)


def write_pbf(syn: Synthetic, path: str | Path, chunk: int = 500_000) -> dict:
    """Write ``syn`` as an OSM PBF (sorted: nodes, then ways, ids ascending)."""
    import osmium

    rng = np.random.default_rng(syn.seed + 1)
    t_start = time.perf_counter()
    # ids follow a mapping history: blocks (a way's own nodes, a POI, ...) are created in
    # ID_EPOCHS epochs; within an epoch each 0.1-degree tile is mapped in one go, so
    # nearby blocks often have near ids, and every area has ids all over the range
    nb = syn.block_len.size
    old_first = np.zeros(nb, np.int64)
    np.cumsum(syn.block_len[:-1], out=old_first[1:])
    fi = np.minimum(old_first, syn.n_nodes - 1)  # (blocks may be empty)
    tile = (np.floor((syn.lon[fi] - BBOX[0]) * 10) * 1000
            + np.floor((syn.lat[fi] - BBOX[1]) * 10)).astype(np.int64)
    _, tile = np.unique(tile, return_inverse=True)
    n_tiles = int(tile.max()) + 1
    epoch = rng.integers(0, ID_EPOCHS, nb)
    key = rng.random(ID_EPOCHS * n_tiles)[epoch * n_tiles + tile]
    perm = np.lexsort((rng.random(nb), key, epoch))
    del fi, tile, key, epoch
    new_first = np.zeros(nb, np.int64)
    new_first[perm] = np.concatenate([[0], np.cumsum(syn.block_len[perm])[:-1]])
    block_of = np.repeat(np.arange(nb), syn.block_len)
    pos = new_first[block_of] + np.arange(syn.n_nodes) - old_first[block_of]
    del block_of
    node_at = np.empty(syn.n_nodes, np.int64)
    node_at[pos] = np.arange(syn.n_nodes)
    gaps = 1 + rng.geometric(1 / ID_DENSITY, syn.n_nodes) - 1
    gaps[0] = rng.integers(1, 1000)
    ids_sorted = np.cumsum(np.maximum(gaps, 1))
    node_id = ids_sorted[pos]
    del pos
    way_order = rng.permutation(syn.n_ways)
    way_ids = np.cumsum(np.maximum(rng.geometric(1 / WAY_ID_DENSITY, syn.n_ways), 1)) + 10
    ts_table = _timestamps(rng)
    t_prep = time.perf_counter() - t_start
    path = Path(path)
    if path.exists():
        path.unlink()
    header = osmium.io.Header()
    header.add_box(osmium.osm.Box(osmium.osm.Location(BBOX[0], BBOX[1]),
                                  osmium.osm.Location(BBOX[2], BBOX[3])))
    header.set("generator", "benchmarks/osm_scale.py (synthetic)")
    t_fmt = t_osm = 0.0
    n_bytes = 0
    idw = len(str(int(ids_sorted[-1])))
    ts_mat, tag_mat = _padded(ts_table), _padded(syn.node_tags)
    with osmium.SimpleWriter(str(path), header=header, overwrite=True) as writer:
        def feed(text: np.ndarray):
            nonlocal t_osm, n_bytes
            t0 = time.perf_counter()
            osmium.apply(osmium.io.Reader(osmium.io.FileBuffer(text.tobytes(), "opl")), writer)
            t_osm += time.perf_counter() - t0
            n_bytes += text.size

        for c0 in range(0, syn.n_nodes, chunk):
            t0 = time.perf_counter()
            idx = node_at[c0:c0 + chunk]
            n = idx.size
            lon = np.rint(syn.lon[idx] * 1e7).astype(np.int64)
            lat = np.rint(syn.lat[idx] * 1e7).astype(np.int64)
            text = _fixed_rows(n, [
                b"n", (ids_sorted[c0:c0 + n], idw), b" v", (ver := np.minimum(rng.geometric(0.45, n), 30), 2),
                (ts_mat, _ts_index(rng, c0, n, syn.n_nodes, ver)), (tag_mat, syn.node_tag[idx]),
                b" x", (lon // 10_000_000, 3), b".", (lon % 10_000_000, 7),
                b" y", (lat // 10_000_000, 3), b".", (lat % 10_000_000, 7), b"\n"]).ravel()
            t_fmt += time.perf_counter() - t0
            feed(text)
            logger.debug("nodes %d / %d", c0 + n, syn.n_nodes)
        wchunk = max(1, chunk // 8)
        wdw = len(str(int(way_ids[-1])))
        tt = syn.tag_tables
        for c0 in range(0, syn.n_ways, wchunk):
            t0 = time.perf_counter()
            sel = way_order[c0:c0 + wchunk]
            n = sel.size
            ln = syn.way_len[sel]
            first = np.zeros(n, np.int64)
            np.cumsum(ln[:-1], out=first[1:])
            refs = syn.refs[np.repeat(syn.way_start[sel] - first, ln) + np.arange(int(ln.sum()))]
            head = _fixed_rows(n, [
                b"w", (way_ids[c0:c0 + n], wdw), b" v", (ver := np.minimum(rng.geometric(0.35, n), 60), 2),
                (ts_mat, _ts_index(rng, c0, n, syn.n_ways, ver)), b" T"])
            tags, tags_len = _join([*(_choice(tt[k], syn.way_tag[k][sel])
                                      for k in ("main", "maxspeed", "dir", "access", "extra")),
                                    _const(n, b" N")])
            body = _fixed_rows(refs.size, [b"n", (node_id[refs], idw), b","])
            body_len = ln * body.shape[1]
            head_len = np.full(n, head.shape[1]) + tags_len
            text = _scatter_rows([(head.ravel(), np.full(n, head.shape[1])), (tags, tags_len),
                                  (body.ravel(), body_len)])
            ends = np.cumsum(head_len + body_len) - 1
            text[ends] = ord("\n")  # the last ref's comma ends the line
            t_fmt += time.perf_counter() - t0
            feed(text)
    total = time.perf_counter() - t_start
    size = path.stat().st_size
    info = {"path": str(path), "bytes": size, "mb": size / 2**20, "nodes": syn.n_nodes,
            "ways": syn.n_ways, "max_node_id": int(ids_sorted[-1]), "max_way_id": int(way_ids[-1]),
            "opl_mb": n_bytes / 2**20, "write_s": total, "prepare_s": t_prep,
            "format_s": t_fmt, "libosmium_s": t_osm,
            "objects_per_s": (syn.n_nodes + syn.n_ways) / total}
    logger.info("wrote %s: %d nodes, %d ways, %.0f MB in %.1f s (ids %.1f s, OPL "
                "formatting %.1f s, libosmium parse+write %.1f s; %.2f M objects/s)",
                path, syn.n_nodes, syn.n_ways, info["mb"], total, t_prep, t_fmt, t_osm,
                info["objects_per_s"] / 1e6)
    return info


# ============================================================================ measuring
def _peak():
    from benchmarks.run import PeakMemory

    return PeakMemory()


class _Stage:
    """Time and peak memory of one stage; appends a row to ``rows``."""

    def __init__(self, rows: list, name: str, **info):
        self.rows, self.name, self.info = rows, name, info

    def __enter__(self):
        self.pm = _peak().__enter__()
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()
        return self

    def __exit__(self, *exc):
        dt = time.perf_counter() - self.t0
        cpu = time.process_time() - self.c0  # all threads (libosmium decodes on a pool)
        self.pm.__exit__(*exc)
        if exc[0] is None:
            row = {"stage": self.name, "seconds": dt, "cpu_s": cpu, "peak_rss_mb": self.pm.peak_abs_mb,
                   "start_rss_mb": self.pm.base_mb, "peak_extra_mb": self.pm.peak_mb,
                   "memory_method": self.pm.method, **self.info}
            self.rows.append(row)
            logger.info("%-34s %8.1f s (CPU %.1f s)  peak %7.0f MB (+%.0f)", self.name, dt,
                        cpu, self.pm.peak_abs_mb, self.pm.peak_mb)
        return False


#: The stages timed by measure_build, in build_graph's order (the last is not part of
#: a build: loading the cached graph on a rerun).
STAGES = ("read ways (libosmium + collector)", "edge arrays (graph_from_osm)",
          "strong components (largest_scc)", "contract degree-2 chains", "Hilbert reorder",
          "cache write (cache_key + save_graph)", "cache load (load_graph, a rerun)")


def measure_build(pbf: str | Path, profile=None, cache_dir: str | Path | None = None,
                  file_nodes: int | None = None, file_ways: int | None = None,
                  two_pass: bool | None = None) -> dict:
    """Time ``build_graph``'s stages on ``pbf`` (run it in a fresh process for clean
    peaks: :func:`in_subprocess`). ``two_pass``: force ``read_osm_ways``' mode (None:
    its own choice by file size)."""
    import accessibility.graph.osm as osm_mod
    from accessibility.graph.cache import cache_key, load_graph, save_graph
    from accessibility.graph.simplify import (
        _contract_degree2,
        _largest_scc,
        hilbert_order,
        reorder,
    )
    from accessibility.profile import DEFAULT_PROFILE, load_profile

    profile = DEFAULT_PROFILE if profile is None else (
        profile if not isinstance(profile, (str, Path)) else load_profile(profile))
    pbf = Path(pbf)
    rows: list[dict] = []
    stats: dict = {}
    t_all = time.perf_counter()
    read = osm_mod.read_osm_ways
    stage2: dict = {}

    limit = getattr(osm_mod, "TWO_PASS_MIN_BYTES", None)
    mode = two_pass if two_pass is not None else (
        limit is not None and pbf.stat().st_size >= limit)
    stats["read_mode"] = "two-pass" if mode else "one pass"
    kw = {} if two_pass is None else {"two_pass": two_pass}

    def timed_read(path, prof, **opts):  # opts: graph_from_osm's (clip)
        with _Stage(rows, STAGES[0], nodes_in=file_nodes,
                    ways_in=file_ways, mode=stats["read_mode"]) as st:
            col = read(path, prof, **kw, **opts)
        n_refs = len(col.refs)
        st.rows[-1].update(ways_out=len(col.way_class), refs_out=n_refs,
                           candidate_ways=col.n_ways_seen)
        stats.update(candidate_ways=col.n_ways_seen, drivable_ways=len(col.way_class),
                     refs=n_refs, missing_way_nodes=col.n_missing_nodes,
                     ways_closed_to_cars=col.n_excluded_access)
        stage2["st"] = _Stage(rows, STAGES[1], ways_in=len(col.way_class),
                              refs_in=n_refs).__enter__()
        return col

    osm_mod.read_osm_ways = timed_read
    try:
        g = osm_mod.graph_from_osm(pbf, profile)
        stage2["st"].__exit__(None, None, None)
    finally:
        osm_mod.read_osm_ways = read
    rows[-1].update(nodes_out=g.n_nodes, edges_out=g.n_edges)
    stats.update(raw_nodes=g.n_nodes, raw_edges=g.n_edges)
    # as build_graph: the raw graph is handed over (no reference kept here), so the
    # SCC step frees it while it builds the subgraph
    n_raw, m_raw = g.n_nodes, g.n_edges
    box = [g]
    del g
    with _Stage(rows, STAGES[2], nodes_in=n_raw, edges_in=m_raw):
        g, rep = _largest_scc(box)
    rows[-1].update(nodes_out=g.n_nodes, edges_out=g.n_edges, components=rep["components"])
    g.meta.pop("scc_mask", None)
    stats.update(scc_components=rep["components"], scc_node_share=rep["node_share_kept"])
    n_scc, m_scc = g.n_nodes, g.n_edges
    box.append(g)
    del g
    with _Stage(rows, STAGES[3], nodes_in=n_scc, edges_in=m_scc):
        g = _contract_degree2(box)
    rows[-1].update(nodes_out=g.n_nodes, edges_out=g.n_edges)
    with _Stage(rows, STAGES[4], nodes_in=g.n_nodes, edges_in=g.n_edges):
        g = reorder(g, hilbert_order(g.x, g.y))
    rows[-1].update(nodes_out=g.n_nodes, edges_out=g.n_edges)
    stats.update(nodes=g.n_nodes, edges=g.n_edges)
    own_tmp = None
    if cache_dir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="osmscale-cache-")
        cache_dir = own_tmp.name
    try:
        with _Stage(rows, STAGES[5], nodes_in=g.n_nodes,
                    edges_in=g.n_edges):
            key = cache_key(pbf, profile.fingerprint(), simplify=True, crs=g.crs, points="",
                            max_snap_m=None)
            cache_file = save_graph(g, Path(cache_dir) / f"{pbf.name.split('.')[0]}-{key}.npz")
        rows[-1]["file_mb"] = cache_file.stat().st_size / 2**20
        n, m = g.n_nodes, g.n_edges
        del g
        with _Stage(rows, STAGES[6], nodes_in=n, edges_in=m):
            g2 = load_graph(cache_file)
        rows[-1].update(nodes_out=g2.n_nodes, edges_out=g2.n_edges)
        del g2
    finally:
        if own_tmp is not None:
            own_tmp.cleanup()
    build = [r for r in rows if r["stage"] != STAGES[6]]
    return {"stages": rows, "stats": stats,
            "build_s": sum(r["seconds"] for r in build),
            "build_cpu_s": sum(r["cpu_s"] for r in build),
            "build_peak_rss_mb": max(r["peak_rss_mb"] for r in build),
            "wall_s": time.perf_counter() - t_all, "profile": profile.name}


# ----------------------------------------------------------------- libosmium-only variants
def _index_pass(pbf: str, variant: str, profile=None) -> dict:
    """One libosmium read without the Python way collector, to isolate the location
    index (time of decoding + indexing + lookups, and its memory)."""
    import osmium
    from osmium.filter import EntityFilter, KeyFilter, TagFilter

    from accessibility.profile import DEFAULT_PROFILE

    profile = profile or DEFAULT_PROFILE
    rows: list[dict] = []
    way_bits = osmium.osm.WAY
    cand = [("highway", c) for c in profile.speeds_kmh] + [("route", "ferry")]
    idx = osmium.index.create_map("flex_mem")
    lh = osmium.NodeLocationsForWays(idx)
    lh.ignore_errors()
    name = variant_stage(variant)
    if variant == VARIANTS[0]:  # FileProcessor.with_locations puts the index first
        with _Stage(rows, name), osmium.io.Reader(pbf, osmium.osm.NODE | way_bits) as rd:
            osmium.apply(rd, lh, EntityFilter(way_bits), KeyFilter("highway", "route"))
    elif variant == VARIANTS[1]:
        tf = TagFilter(*cand)
        tf.enable_for(way_bits)
        with _Stage(rows, name), osmium.io.Reader(pbf, osmium.osm.NODE | way_bits) as rd:
            osmium.apply(rd, tf, lh, EntityFilter(way_bits))
    elif variant == VARIANTS[2]:
        tracker = osmium.IdTracker()
        n_ways = 0
        with _Stage(rows, "two-pass: pass 1 (ways: ids of candidates and their nodes)"):
            for w in osmium.FileProcessor(pbf, way_bits).with_filter(TagFilter(*cand)):
                tracker.add_way(w.id)
                tracker.add_references(w)
                n_ways += 1
        p1 = rows[-1]
        with _Stage(rows, "two-pass: pass 2 (index of the noted nodes)"), \
                osmium.io.Reader(pbf, osmium.osm.NODE | way_bits) as rd:
            osmium.apply(rd, tracker.id_filter(), lh, EntityFilter(way_bits))
        p2 = rows[-1]
        rows.append({"stage": name, "seconds": p1["seconds"] + p2["seconds"],
                     "cpu_s": p1["cpu_s"] + p2["cpu_s"],
                     "peak_rss_mb": max(p1["peak_rss_mb"], p2["peak_rss_mb"]),
                     "start_rss_mb": p1["start_rss_mb"],
                     "peak_extra_mb": max(p1["peak_rss_mb"], p2["peak_rss_mb"]) - p1["start_rss_mb"],
                     "pass1_s": p1["seconds"], "pass2_s": p2["seconds"], "ways_out": n_ways,
                     "memory_method": p1["memory_method"]})
    elif variant == VARIANTS[3]:  # the whole old read_osm_ways, its collector included
        from accessibility.graph.osm import _WayCollector

        col = _WayCollector(profile)
        fp = (osmium.FileProcessor(pbf, osmium.osm.NODE | way_bits).with_locations("flex_mem")
              .with_filter(EntityFilter(way_bits)).with_filter(KeyFilter("highway", "route")))
        with _Stage(rows, name):
            for obj in fp:
                col.way(obj)
        rows[-1].update(ways_out=len(col.way_class), refs_out=len(col.refs))
        idx = fp.node_location_storage
    else:
        raise ValueError(variant)
    rows[-1]["index_used_mb"] = idx.used_memory() / 2**20
    return rows[-1]


#: libosmium-only passes of ``--variants``: the chain read_osm_ways had before issue 14
#: (FileProcessor.with_locations: every node indexed, every way looked up, then the
#: key filter), the candidate tag filter placed before the index (one pass, what
#: read_osm_ways now does below TWO_PASS_MIN_BYTES), and the two-pass read (Python
#: only notes the ids in pass 1); and, to compare with the "read ways" stage, the whole
#: read_osm_ways of before issue 14 (collector included).
VARIANTS = ("index first, then key filter (before issue 14)",
            "candidate filter, then index (one pass)",
            "two-pass: index of candidate-way nodes only",
            "read_osm_ways before issue 14, with its collector")


def variant_stage(variant: str) -> str:
    """Row name of a --variants pass."""
    return variant if variant == VARIANTS[3] else f"libosmium only: {variant}"


# ----------------------------------------------------------------- subprocess
def _child(task: dict, conn) -> None:
    os.dup2(2, 1)
    logging.basicConfig(level=task.get("log_level", logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(name)s [%(processName)s] %(message)s")
    try:
        if task["what"] == "build":
            conn.send(measure_build(task["pbf"], task.get("profile"), None,
                                    task.get("nodes"), task.get("ways"), task.get("two_pass")))
        else:
            conn.send(_index_pass(task["pbf"], task["what"]))
    except BaseException as e:  # report, never hang the parent
        import traceback

        conn.send({"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()})
    finally:
        conn.close()


def in_subprocess(task: dict) -> dict:
    """Run a measurement in a fresh ``spawn``-ed process (clean memory high-water mark)."""
    from benchmarks.run import run_spawned

    return run_spawned(_child, task, f"osm-{task['what'][:12]}")


def _best_of(runs: list[dict]) -> dict:
    """Several runs of measure_build: per stage the fastest time (the others were slowed
    by other jobs on the machine) and the largest peak; every run's times are kept."""
    best = json.loads(json.dumps(runs[0], default=float))
    for i, r in enumerate(best["stages"]):
        rs = [run["stages"][i] for run in runs]
        r["seconds"] = min(x["seconds"] for x in rs)
        r["cpu_s"] = min(x["cpu_s"] for x in rs)
        r["peak_rss_mb"] = max(x["peak_rss_mb"] for x in rs)
        r["peak_extra_mb"] = max(x["peak_extra_mb"] for x in rs)
        r["seconds_runs"] = [x["seconds"] for x in rs]
    build = [r for r in best["stages"] if r["stage"] != STAGES[6]]
    best["build_s"] = sum(r["seconds"] for r in build)
    best["build_cpu_s"] = sum(r["cpu_s"] for r in build)
    best["build_peak_rss_mb"] = max(r["peak_rss_mb"] for r in build)
    best["build_s_runs"] = [run["build_s"] for run in runs]
    best["runs"] = len(runs)
    return best


# ============================================================================ reporting
def _fmt_n(v) -> str:
    if v is None:
        return "-"
    v = float(v)
    for unit, f in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= f:
            return f"{v / f:.3g}{unit}"
    return f"{v:.0f}"


def _in_out(r: dict) -> tuple[str, str]:
    ins = []
    if r.get("nodes_in") is not None:
        ins.append(f"{_fmt_n(r['nodes_in'])} nodes")
    if r.get("ways_in") is not None:
        ins.append(f"{_fmt_n(r['ways_in'])} ways")
    if r.get("refs_in") is not None:
        ins.append(f"{_fmt_n(r['refs_in'])} refs")
    if r.get("edges_in") is not None:
        ins.append(f"{_fmt_n(r['edges_in'])} edges")
    outs = []
    if r.get("ways_out") is not None:
        outs.append(f"{_fmt_n(r['ways_out'])} ways")
    if r.get("refs_out") is not None:
        outs.append(f"{_fmt_n(r['refs_out'])} refs")
    if r.get("nodes_out") is not None:
        outs.append(f"{_fmt_n(r['nodes_out'])} nodes")
    if r.get("edges_out") is not None:
        outs.append(f"{_fmt_n(r['edges_out'])} edges")
    if r.get("index_used_mb") is not None:
        outs.append(f"location index {r['index_used_mb']:.0f} MB")
    if r.get("file_mb") is not None:
        outs.append(f"{r['file_mb']:.0f} MB file")
    return ", ".join(ins) or "-", ", ".join(outs) or "-"


def format_table(result: dict) -> str:
    rows = [("stage", "seconds", "CPU s", "peak RSS MB", "+MB in stage", "in", "out")]
    for r in result["stages"] + [{"stage": "= build total (without load)",
                                  "seconds": result["build_s"], "cpu_s": result.get("build_cpu_s"),
                                  "peak_rss_mb": result["build_peak_rss_mb"]}] + result.get(
            "variants", []):
        if "error" in r:
            rows.append((r.get("stage", "?"), "-", "-", "-", "-", "-", r["error"]))
            continue
        i, o = _in_out(r)
        cpu = r.get("cpu_s")
        rows.append((r["stage"] + (f" [{r['mode']}]" if r.get("mode") else ""),
                     f"{r['seconds']:.1f}", "-" if cpu is None else f"{cpu:.1f}",
                     f"{r['peak_rss_mb']:.0f}",
                     f"{r['peak_extra_mb']:.0f}" if "peak_extra_mb" in r else "", i, o))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        lines.append(" | ".join(str(c).ljust(widths[i]) for i, c in enumerate(row)).rstrip())
        if k == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def extrapolate(a: dict, b: dict, nodes: float = GERMANY["nodes"]) -> list[dict]:
    """Per-stage line through two runs (in file nodes; the way count scales with it
    because both files have the same nodes-per-way ratio) evaluated at ``nodes``."""
    na, nb = a["file"]["nodes"], b["file"]["nodes"]
    if not na or not nb or na == nb:
        raise ValueError("extrapolation needs two runs of different, known sizes")
    if na > nb:
        a, b, na, nb = b, a, nb, na
    out = []
    sa = {r["stage"]: r for r in a["stages"] + a.get("variants", [])}
    for r in b["stages"] + b.get("variants", []):
        q = sa.get(r["stage"])
        if q is None or "seconds" not in q or "seconds" not in r:
            continue
        row = {"stage": r["stage"]}
        for k in ("seconds", "cpu_s", "peak_rss_mb", "peak_extra_mb"):
            if k in r and k in q:
                slope = (r[k] - q[k]) / (nb - na)
                row[k] = r[k] + slope * (nodes - nb)
                row[k + "_per_M_nodes"] = slope * 1e6
        out.append(row)
    return out


def format_extrapolation(rows: list[dict], nodes: float) -> str:
    nan = float("nan")
    lines = [f"linear extrapolation to {nodes / 1e6:.0f} M nodes (an extrapolation, not a run):",
             "stage | seconds | s per M nodes | CPU s | peak RSS MB | MB per M nodes"]
    for r in rows:
        lines.append(f"{r['stage']} | {r['seconds']:.0f} | {r['seconds_per_M_nodes']:.2f} | "
                     f"{r.get('cpu_s', nan):.0f} | {r.get('peak_rss_mb', nan):.0f} | "
                     f"{r.get('peak_rss_mb_per_M_nodes', nan):.1f}")
    build = [r for r in rows if r["stage"] in STAGES[:6]]
    lines.append(f"build total: {sum(r['seconds'] for r in build):.0f} s "
                 f"(CPU {sum(r.get('cpu_s', nan) for r in build):.0f} s), peak RSS "
                 f"{max(r.get('peak_rss_mb', 0) for r in build):.0f} MB")
    return "\n".join(lines)


def _load_avg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ============================================================================ main
def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.osm_scale",
                                description=__doc__.split("\n")[0])
    p.add_argument("--nodes", type=int, default=5_000_000, help="nodes in the synthetic file")
    p.add_argument("--ways", type=int, default=None, help="ways in the file (default nodes/6.5)")
    p.add_argument("--road-share", type=float, default=DEFAULT_ROAD_SHARE,
                   help="share of ways with a highway tag (default %(default)s, ~Germany)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", default=None, metavar="FILE", help="write the PBF here and keep it")
    p.add_argument("--pbf", default=None, metavar="FILE",
                   help="measure this existing OSM file instead of generating one")
    p.add_argument("--profile", default=None, help="speed profile (default: the package default)")
    p.add_argument("--two-pass", choices=("auto", "yes", "no"), default="auto",
                   help="read_osm_ways' mode: its own choice by file size (auto), or forced")
    p.add_argument("--variants", action="store_true",
                   help="also time libosmium-only passes (index as read_osm_ways builds it, "
                        "key filter first, two-pass index of candidate-way nodes)")
    p.add_argument("--repeat", type=int, default=1,
                   help="build this many times (fresh process each): per stage the fastest "
                        "time and the largest peak are reported")
    p.add_argument("--no-build", action="store_true", help="only write the file (and variants)")
    p.add_argument("--in-process", action="store_true",
                   help="measure in this process (peaks then include the generator's leftovers)")
    p.add_argument("--json", default=None, help="write results as JSON to this file")
    p.add_argument("--table", default=None, metavar="JSON[,JSON]",
                   help="only print the tables of earlier --json files (two: and extrapolate)")
    p.add_argument("--to-nodes", type=float, default=GERMANY["nodes"],
                   help="extrapolate to this many nodes (default Germany, ~440 M)")
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings on stderr")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.table:
        runs = [json.loads(Path(f).read_text()) for f in args.table.split(",")]
        for r in runs:
            print(f"## {r['name']}")
            print(format_table(r))
        if len(runs) == 2 and runs[0]["file"]["nodes"] != runs[1]["file"]["nodes"]:
            print(format_extrapolation(extrapolate(*runs, nodes=args.to_nodes), args.to_nodes))
        return {"runs": runs}
    level = logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    out: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "platform": platform.platform(), "load_avg_start": _load_avg()},
                 "args": vars(args)}
    tmpdir = None
    if args.pbf:
        pbf = Path(args.pbf)
        if not pbf.is_file():
            raise SystemExit(f"--pbf: {pbf} does not exist")
        out["synthetic"] = False
        out["file"] = {"path": str(pbf), "mb": pbf.stat().st_size / 2**20, "nodes": None,
                       "ways": None}
        out["name"] = pbf.name.split(".")[0]
        side = Path(str(pbf) + ".json")  # written by --keep: what the file holds
        if side.is_file():
            info = json.loads(side.read_text())
            out.update(synthetic=True, name=info["name"], expected=info["expected"])
            out["file"] = {**info["file"], "path": str(pbf)}
    else:
        if args.keep:
            pbf = Path(args.keep)
        else:
            tmpdir = tempfile.TemporaryDirectory(prefix="osmscale-")
            pbf = Path(tmpdir.name) / f"synthetic-{args.nodes}.osm.pbf"
        t0 = time.perf_counter()
        syn = generate(args.nodes, args.ways, args.road_share, args.seed)
        gen_s = time.perf_counter() - t0
        logger.info("generated arrays in %.1f s: %d nodes, %d ways (%d highway/ferry ways)",
                    gen_s, syn.n_nodes, syn.n_ways, syn.n_road_ways)
        out["file"] = write_pbf(syn, pbf)
        out["file"]["generate_s"] = gen_s
        out["expected"] = syn.expected
        out["synthetic"] = True
        out["name"] = f"synthetic-{_fmt_n(args.nodes)}-nodes"
        if args.keep:
            Path(str(pbf) + ".json").write_text(json.dumps(
                {k: out[k] for k in ("name", "file", "expected")}, indent=1, default=float))
        del syn
        gc.collect()
    try:
        two_pass = {"auto": None, "yes": True, "no": False}[args.two_pass]
        task = {"pbf": str(pbf), "profile": args.profile, "nodes": out["file"]["nodes"],
                "ways": out["file"]["ways"], "log_level": level, "two_pass": two_pass}
        if not args.no_build:
            runs = []
            for k in range(max(1, args.repeat)):
                logger.info("measuring the build of %s (run %d of %d)", pbf, k + 1, args.repeat)
                if args.in_process:
                    res = measure_build(pbf, args.profile, None, task["nodes"], task["ways"],
                                        two_pass)
                else:
                    res = in_subprocess({**task, "what": "build"})
                if "error" in res:
                    raise SystemExit(f"build failed: {res['error']}\n{res.get('traceback', '')}")
                runs.append(res)
            out.update(_best_of(runs))
        else:
            out.update(stages=[], build_s=0.0, build_peak_rss_mb=0.0)
        if args.variants:
            out["variants"] = []
            for v in VARIANTS:
                rs = []
                for k in range(max(1, args.repeat)):
                    logger.info("libosmium-only pass: %s (run %d)", v, k + 1)
                    rs.append(_index_pass(str(pbf), v) if args.in_process
                              else in_subprocess({**task, "what": v}))
                bad = [r for r in rs if "error" in r]
                if bad:
                    out["variants"].append({"stage": variant_stage(v), **bad[0]})
                    continue
                r = min(rs, key=lambda x: x["seconds"])
                r.update(cpu_s=min(x["cpu_s"] for x in rs),
                         peak_rss_mb=max(x["peak_rss_mb"] for x in rs),
                         peak_extra_mb=max(x["peak_extra_mb"] for x in rs),
                         seconds_runs=[x["seconds"] for x in rs])
                out["variants"].append(r)
    finally:
        if tmpdir is not None:
            tmpdir.cleanup()
    out["machine"]["load_avg_end"] = _load_avg()
    if out.get("expected") and out.get("stats"):
        e, s = out["expected"], out["stats"]
        out["checks"] = {k: (e[k], s[sk]) for k, sk in (
            ("candidate_ways", "candidate_ways"), ("drivable_ways", "drivable_ways"),
            ("raw_nodes", "raw_nodes"), ("raw_edges", "raw_edges"))}
        bad = {k: v for k, v in out["checks"].items() if v[0] != v[1]}
        if bad:
            logger.warning("builder output differs from the file's construction: %s", bad)
    print(format_table(out))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1, default=float))
    return out


if __name__ == "__main__":
    main()
