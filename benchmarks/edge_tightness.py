"""How many values the edge test flags, with the cut it proves from and with the
guesses it falls back to (issue 23: "report the share flagged per indicator before
and after").

For each region the same graph is routed twice: **cut** (the nodes where the extract
cut the network are known: ways cut short, the file's header box or ``--clip``; the
test is a proof) and **guess** (the same graph with that record removed: the
fallback rules for a graph that does not know its cut, i.e. the rules before issue
23 for every extract). Counted per indicator over the municipalities of the region
with a value: MZ, OZ (``*_edge_flag``), motorway, Fernbahnhof, airport (regional
extracts with those destinations) and the 2-hour potential (``edge_flag``).

The national row is **synthetic**: the synthetic road graph of ``benchmarks.synthetic``
(a lattice over Germany's box) cut to Germany's outline (VG250 Länder) the way
``osmium extract --strategy simple`` cuts a Germany extract: nodes outside are
dropped, and a node inside with an edge to one outside on land becomes a cut node
(the lattice's edges into the North and Baltic Seas are dropped without a cut: no
road leads there). With the
national register and central places, only municipalities whose route could leave
Germany may be flagged; the table gives the distance to the border of the flagged
ones. The synthetic graph carries the cap of the ``de-car`` profile (130 km/h): no edge
of the lattice is faster, so the Lage's edge test takes it as the speed abroad.

The Lage's exactness test (``models/lage_exact.origin_bounds``) is timed per region,
with its rule (per cut node, the profile's cap) with and without the upper bound of
the flagged potentials (``potential_2h_max``; ``bound_seconds``: flags and bound,
``seconds``: flags only) and, on the same inputs, the rule before (per section of the
border, 200 km/h), each warm (the second of two calls): ``lage_test`` in the JSON,
seconds and the origins each flags. ``certain``: the municipalities with a potential
(populated) whose Lage class is certain (exact, or flagged with the upper bound in the
same class), and how many of those are flagged.

The national recipe (``--buffers``): the synthetic lattice drawn over Germany's box
plus 150 km on every side (the same spacing), cut at Germany's outline buffered by
each distance (VG250 Länder, shapely's buffer; the lattice's nodes at sea dropped
without a cut: north of 53.4 N outside Germany, but for rough windows of Denmark,
Poland and the Netherlands); the register still only German municipalities
(destinations abroad carry no population). Per buffer the Lage's flagged and
certain shares: how much of the neighbours' roads a national run needs.

    python -m benchmarks.edge_tightness                      # regional extracts
    python -m benchmarks.edge_tightness --national 1000000   # plus the synthetic national graph
    python -m benchmarks.edge_tightness --national 1000000 --buffers 0,50,100,150 --no-regional
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

import accessibility as acc
from accessibility import api
from accessibility.graph import build_graph, cut_nodes
from accessibility.io import read_central_places, read_municipalities

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REGISTER = DATA / "municipalities" / "gemeinden_2019_destatis.csv"
CENTRAL = DATA / "central_places" / "zentrale_orte_2024.csv"
STATIONS = DATA / "reference" / "db_long_distance_stations.csv"
BOUNDARIES = DATA / "municipalities" / "vg250_2016.gpkg"
#: name, OSM file, clip box (None: the file's own record of its cut)
REGIONS = (
    ("Hannover-Braunschweig", "hannover-braunschweig-main-roads.osm.pbf", None),
    ("Heidelberg (--clip 8.55,49.33,8.95,49.47)", "heidelberg.osm.pbf",
     (8.55, 49.33, 8.95, 49.47)),
    ("north of Bayreuth", "north-bayreuth.osm.gz", None),
)
FLAGS = {"MZ": ("t_mz_min", "mz_edge_flag"), "OZ": ("t_oz_min", "oz_edge_flag"),
         "motorway": ("t_motorway_min", "motorway_edge_flag"),
         "Fernbahnhof": ("t_ldrail_min", "ldrail_edge_flag"),
         "airport": ("t_airport_min", "airport_edge_flag"),
         "Lage (potential)": ("potential_2h", "edge_flag")}

logger = logging.getLogger(__name__)
#: Per call of the Lage's exactness test: seconds and flagged origins, the rule now
#: (flags and upper bound, flags only) and the rule before (sections, 200 km/h) on
#: the same inputs.
LAGE_TEST: list[dict] = []
#: Whether the calls are timed (off for the buffered graphs: only their counts matter).
TIMING = {"on": True}


def _timed_exact_origins():
    """Wrap ``lage_exact.origin_bounds`` so that every call is timed, without the
    upper bound and with the rule before (the potentials use the rule now)."""
    from accessibility.models import lage_exact

    inner = lage_exact.origin_bounds

    def timed(*args, **kw):
        if not TIMING["on"]:
            return inner(*args, **kw)
        # each twice, alternating, the second call timed: no compilation or first-call
        # cost in any; wall and CPU seconds (the machine may be loaded)
        flags_kw = kw | {"decay": None}
        before_kw = flags_kw | {"by_node": False, "top_speed_kmh": 200.0}
        runs = {}
        for name, k in (("bound", kw), ("now", flags_kw), ("before", before_kw)) * 2:
            t, c = time.perf_counter(), time.process_time()
            runs[name] = (inner(*args, **k), time.perf_counter() - t, time.process_time() - c)
        (now, now_s, now_cpu), (before, before_s, before_cpu) = runs["now"], runs["before"]
        now, before = now[0], before[0]
        LAGE_TEST.append({"seconds": now_s, "cpu_seconds": now_cpu,
                          "bound_seconds": runs["bound"][1], "bound_cpu_seconds": runs["bound"][2],
                          "before_seconds": before_s, "before_cpu_seconds": before_cpu,
                          "origins": int(now.size), "flagged": int((~now).sum()),
                          "flagged_before": int((~before).sum())})
        return runs["bound"][0]

    lage_exact.origin_bounds = timed


def without_cut(graph):
    """The same graph, not knowing where it was cut (the fallback rules apply)."""
    meta = {k: v for k, v in graph.meta.items() if k != "cut_osm_ids"}
    return dataclasses.replace(graph, meta=meta)


def flagged(graph, munis, cp, dest, engine: str = "dijkstra"
            ) -> tuple[dict[str, tuple[int, int]], pd.DataFrame]:
    """(flagged, with a value) per indicator over the municipalities in the region, and
    the municipalities of the region with their values."""
    m = api.mark_region(graph, acc.attach(graph, munis))
    res = acc.central_places(graph, m, cp)
    if dest is not None and len(dest):
        res = acc.facility_times(graph, res, dest)
    res = acc.lage(graph, res, engine=engine, unit=None)
    res = res[res["in_region"].to_numpy(bool)]
    out = {}
    for name, (value, flag) in FLAGS.items():
        if value in res.columns and flag in res.columns:
            has = res[value].notna().to_numpy()
            f = res[flag].astype("boolean").fillna(False).to_numpy(bool)
            out[name] = (int((f & has).sum()), int(has.sum()))
    return out, res


def certain(res: pd.DataFrame) -> dict[str, int]:
    """Over the populated municipalities with a potential: how many have a certain
    Lage class (``lage``), how many are flagged, and how many flagged keep a class."""
    has = (res["potential_2h"].notna()
           & (pd.to_numeric(res["population"], errors="coerce") != 0)).to_numpy()
    known = res["lage"].notna().to_numpy() & has
    flag = res["edge_flag"].astype("boolean").fillna(True).to_numpy(bool) & has
    return {"with_potential": int(has.sum()), "certain": int(known.sum()),
            "flagged": int(flag.sum()), "flagged_certain": int((flag & known).sum())}


def regional(name: str, osm: str, clip, munis, cp) -> dict:
    path = DATA / "osm" / osm
    g = build_graph(path, clip=clip)
    dest = acc.collect_destinations(osm=path, stations=STATIONS, airports=True)
    t = time.perf_counter()
    LAGE_TEST.clear()
    cut, res = flagged(g, munis, cp, dest)
    test = dict(LAGE_TEST[0]) if LAGE_TEST else {}
    guess, _ = flagged(without_cut(g), munis, cp, dest)
    n_cut = cut_nodes(g)
    return {"region": name, "cut_nodes": int(n_cut.sum()) if n_cut is not None else 0,
            "cut": cut, "guess": guess, "seconds": time.perf_counter() - t,
            "lage_test": test, "certain": certain(res)}


def germany_cut(n_nodes: int, seed: int = 0):
    """The synthetic graph cut to Germany's outline like a simple-strategy extract."""
    import geopandas as gpd
    import shapely

    from benchmarks.synthetic import synthetic_road_graph

    g = synthetic_road_graph(n_nodes, seed)
    land = gpd.read_file(BOUNDARIES, layer="laender").to_crs(g.crs)
    de = shapely.union_all(land.geometry.to_numpy())
    inside = shapely.contains_xy(de, g.x, g.y)
    # the lattice runs on into the North and Baltic Seas, where no road leads: an edge
    # to a node at sea is dropped, not cut (a real extract has no roads there). At sea:
    # north of 53.4 N, but for the land border with Denmark (8.4-10.0 E, 54.7-55.1 N)
    lon, lat = np.asarray(g.lon, float), np.asarray(g.lat, float)
    sea = ~inside & (lat > 53.4) & ~((lon > 8.4) & (lon < 10.0) & (lat > 54.7) & (lat < 55.1))
    return cut_where(g, inside, sea), de


def cut_where(g, inside: np.ndarray, sea: np.ndarray):
    """``g`` cut to the nodes ``inside`` as a simple-strategy extract: a node inside with
    an edge to or from a node outside on land (not ``sea``) is a cut node; the largest
    strongly connected component is kept."""
    from accessibility.graph.simplify import largest_scc

    cross = (inside[g.sources] != inside[g.targets]) & ~sea[g.sources] & ~sea[g.targets]
    cut = np.zeros(g.n_nodes, bool)
    cut[g.sources[cross & inside[g.sources]]] = True
    cut[g.targets[cross & inside[g.targets]]] = True
    sub = g.subgraph(inside)
    # the lattice's speeds stay within de-car's cap (benchmarks.synthetic.SPEEDS_KMH)
    sub = dataclasses.replace(sub, meta=dict(sub.meta) | {
        "cut_osm_ids": g.osm_id[cut].tolist(), "max_speed_kmh": 130.0})
    return largest_scc(sub)[0]


def within_reach(graph, res: pd.DataFrame, limit_min: float = 120.0) -> dict[str, tuple[int, int]]:
    """(within reach of the cut, with a value) per indicator: the origin's time to the
    nearest cut node (access leg plus one reverse search from the cut nodes) below the
    value found (MZ, OZ), at most the limit (the Lage; its origin is the GVB's
    settlement centre, whose flag every member carries). Issue 23's tightness: only
    these may be flagged (tests/test_edge_tightness.py)."""
    from accessibility.models.lage_units import centre_rows
    from accessibility.models.nearest import time_to_edge_s

    node = res["node"].astype("Int64").fillna(0).to_numpy(np.int64)
    reach = res["access_s"].to_numpy(float) + time_to_edge_s(graph)[node]
    out = {}
    for name, (value, _) in FLAGS.items():
        if value not in res.columns:
            continue
        has = res[value].notna().to_numpy()
        if value == "potential_2h":
            pos = centre_rows(res["gvb"], res["ags"], res["population"])
            at = pd.Series(reach[pos], index=res["gvb"].to_numpy()[pos])
            near = at.reindex(res["gvb"]).to_numpy() <= limit_min * 60.0
        else:
            near = reach < res[value].to_numpy(float) * 60.0
        out[name] = (int((near & has).sum()), int(has.sum()))
    return out


def national(n_nodes: int, munis, cp) -> dict:
    import shapely

    from accessibility.graph import project

    t = time.perf_counter()
    g, de = germany_cut(n_nodes)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    LAGE_TEST.clear()
    cut, res = flagged(g, munis, cp, None, engine="ch")
    cut_s = time.perf_counter() - t
    test = dict(LAGE_TEST[0]) if LAGE_TEST else {}
    guess, _ = flagged(without_cut(g), munis, cp, None, engine="ch")
    # how far from the border the flagged municipalities lie
    x, y = project(res["lon"].to_numpy(float), res["lat"].to_numpy(float), g.crs)
    border_km = shapely.distance(de.boundary, shapely.points(x, y)) / 1000.0
    far = {}
    for name, (_, flag) in FLAGS.items():
        if flag in res.columns:
            f = res[flag].astype("boolean").fillna(False).to_numpy(bool)
            far[name] = {"max_border_km": float(border_km[f].max()) if f.any() else None,
                         "median_border_km": float(np.median(border_km[f])) if f.any() else None}
    n_cut = cut_nodes(g)
    return {"region": f"Germany (synthetic, {n_nodes:,} nodes)", "cut_nodes": int(n_cut.sum()),
            "cut": cut, "guess": guess, "border": far, "within_reach": within_reach(g, res),
            "certain": certain(res), "seconds": cut_s,
            "graph_s": build_s, "nodes_in_germany": int(g.n_nodes), "lage_test": test}


#: Land beyond Germany's coast in the buffered lattice (lon, lat windows): Denmark,
#: Poland, the Netherlands; elsewhere north of 53.4 N outside Germany is sea.
LAND_WINDOWS = ((8.0, 12.7, 53.4, 57.8), (14.2, 25.0, 53.4, 54.9), (0.0, 7.3, 53.4, 53.6))
#: How far the buffered lattice reaches beyond Germany's box (km): the largest buffer.
MARGIN_KM = 150.0


def buffered(n_nodes: int, munis, buffers_km, seed: int = 0) -> list[dict]:
    """The Lage on Germany plus ``b`` km of the neighbours' roads, per ``b`` (see the
    module docstring): flagged and certain shares over the German municipalities."""
    import geopandas as gpd
    import shapely

    from benchmarks.synthetic import EXTENT, synthetic_road_graph

    x0, y0, w, h = EXTENT
    m = MARGIN_KM * 1000.0
    big = (x0 - m, y0 - m, w + 2 * m, h + 2 * m)
    t = time.perf_counter()
    g = synthetic_road_graph(round(n_nodes * big[2] * big[3] / (w * h)), seed, big)
    graph_s = time.perf_counter() - t
    land = gpd.read_file(BOUNDARIES, layer="laender").to_crs(g.crs)
    de = shapely.union_all(land.geometry.to_numpy())
    in_de = shapely.contains_xy(de, g.x, g.y)
    lon, lat = np.asarray(g.lon, float), np.asarray(g.lat, float)
    abroad_land = np.zeros(g.n_nodes, bool)
    for lo0, lo1, la0, la1 in LAND_WINDOWS:
        abroad_land |= (lon > lo0) & (lon < lo1) & (lat > la0) & (lat < la1)
    sea = ~in_de & (lat > 53.4) & ~abroad_land
    rows = []
    TIMING["on"] = False
    try:
        for b in buffers_km:
            t = time.perf_counter()
            region = de.buffer(float(b) * 1000.0) if b else de
            sub = cut_where(g, shapely.contains_xy(region, g.x, g.y) & ~sea, sea)
            mm = api.mark_region(sub, acc.attach(sub, munis))
            res = acc.lage(sub, mm, engine="ch", unit=None)
            res = res[res["in_region"].to_numpy(bool)]
            pot = res["potential_2h"].dropna()
            rows.append({"buffer_km": float(b), "nodes": int(sub.n_nodes),
                         "cut_nodes": int(cut_nodes(sub).sum()), "certain": certain(res),
                         "mean_potential": float(pot.mean()) if len(pot) else None,
                         "seconds": time.perf_counter() - t,
                         "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6})
            logger.warning("buffer %s km: %s", b, rows[-1])
    finally:
        TIMING["on"] = True
    for r in rows:
        r["lattice_nodes"], r["lattice_s"] = int(g.n_nodes), graph_s
    return rows


def buffer_table(rows: list[dict]) -> str:
    lines = ["| buffer beyond Germany | nodes | cut nodes | Lage flagged | class certain | "
             "flagged but certain | mean potential (all) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        c = r["certain"]
        h = c["with_potential"]
        lines.append(f"| {r['buffer_km']:.0f} km | {r['nodes']:,} | {r['cut_nodes']:,} | "
                     f"{c['flagged']:,}/{h:,} ({c['flagged'] / h:.0%}) | "
                     f"{c['certain']:,}/{h:,} ({c['certain'] / h:.0%}) | "
                     f"{c['flagged_certain']:,} | {r['mean_potential']:,.0f} |")
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    names = [n for n in FLAGS if any(n in r["cut"] for r in rows)]
    head = "| region | cut nodes | rule | " + " | ".join(names) + " |"
    lines = [head, "|" + "---|" * (3 + len(names))]
    for r in rows:
        for rule in ("guess", "cut"):
            cells = []
            for n in names:
                if n in r[rule]:
                    f, h = r[rule][n]
                    cells.append(f"{f}/{h} ({f / h:.0%})" if h else "-")
                else:
                    cells.append("-")
            label = "guess (before)" if rule == "guess" else "cut (after)"
            lines.append(f"| {r['region']} | {r['cut_nodes']:,} | {label} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.edge_tightness", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--national", type=int, default=0, metavar="NODES",
                   help="also the synthetic national graph of this size (0: skip)")
    p.add_argument("--buffers", default="", metavar="KM,KM,...",
                   help="also the national recipe: the Lage on Germany plus these buffers "
                        "of the neighbours' roads (needs --national for the density)")
    p.add_argument("--no-regional", action="store_true", help="skip the regional extracts")
    p.add_argument("--json", type=Path, help="write the rows as JSON")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _timed_exact_origins()
    munis = read_municipalities(REGISTER)
    cp = read_central_places(CENTRAL)
    rows = [] if args.no_regional else [regional(n, f, c, munis, cp) for n, f, c in REGIONS]
    if args.national:
        rows.append(national(args.national, munis, cp))
    print(table(rows))
    for r in rows:
        c = r.get("certain")
        if c and c["with_potential"]:
            print(f"{r['region']}: Lage class certain {c['certain']:,} of "
                  f"{c['with_potential']:,} ({c['certain'] / c['with_potential']:.0%}); flagged "
                  f"{c['flagged']:,}, of them certain {c['flagged_certain']:,}")
    buf = []
    if args.buffers and args.national:
        buf = buffered(args.national, munis, [float(b) for b in args.buffers.split(",")])
        print("\n" + buffer_table(buf))
    for r in rows:
        if "border" in r:
            print(f"\n{r['region']}: distance of the flagged municipalities to the border "
                  f"(cut rule): " + "; ".join(
                      f"{k} max {v['max_border_km']:.1f} km, median {v['median_border_km']:.1f} km"
                      for k, v in r["border"].items() if v["max_border_km"] is not None))
    for r in rows:
        if "within_reach" in r:
            print(f"\n{r['region']}: flagged (cut rule) / within reach of the border "
                  "(time to the nearest cut node below the value, the Lage: within 120 min): "
                  + "; ".join(f"{k} {r['cut'][k][0] / h:.0%} / {n / h:.0%}"
                              for k, (n, h) in r["within_reach"].items() if h))
    for r in rows:
        if r.get("lage_test"):
            x = r["lage_test"]
            print(f"{r['region']}: Lage exactness test {x['seconds']:.1f} s "
                  f"({x['cpu_seconds']:.1f} s CPU; with the upper bound {x['bound_seconds']:.1f} s, "
                  f"{x['bound_cpu_seconds']:.1f} s CPU), {x['flagged']} of {x['origins']} origins "
                  f"flagged (rule before: {x['before_seconds']:.1f} s, "
                  f"{x['before_cpu_seconds']:.1f} s CPU, {x['flagged_before']} flagged)")
    if args.json:
        out = {"rows": rows, "buffers": buf} if buf else rows
        args.json.write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
