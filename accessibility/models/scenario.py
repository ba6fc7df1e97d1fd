"""What-if scenarios: changes to designations, populations and roads, and the
difference they make.

A scenario is a TOML file (see :func:`read_scenario`)::

    name = "Rühen becomes a Mittelzentrum"

    [central_places]            # new central-place function per AGS
    "03151024" = "Mittelzentrum"

    [population]                # new residents per AGS
    "03151024" = 5000

    [roads]
    speed_factors = { motorway = 0.8 }          # per road class: 0.8 = 20 % slower
    closed_areas = [[[10.50, 52.26], [10.56, 52.26], [10.56, 52.30], [10.50, 52.30]]]
    closed_classes = ["motorway"]               # only these classes in the areas
                                                # (default: every road)
    [[roads.new_links]]                         # a new road, both directions
    from = [10.52, 52.26]                       # lon, lat: joined to the nearest node
    to = [10.60, 52.30]
    speed_kmh = 80                              # or: minutes = 6
    road_class = "primary"                      # default primary

Designation and population changes leave the road graph as it is: the scenario
reuses the base run's graph (and the cached contraction hierarchy). Road changes
make a new graph from the base graph without parsing OSM again: a speed factor
divides the edge times of its class; a closed area (a lon/lat polygon) removes every
edge whose straight line between its two nodes touches it, in both directions.

:func:`compare` gives, per municipality, the base and scenario value and the change
of every indicator, the class changes, and the residents that move between classes.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from .. import defaults
from .._errors import InputError
from .._util import read_toml
from ..compute import Executor, LocalExecutor
from ..graph import RoadGraph, from_edges, project, snap_points
from ..graph.cache import GRAPH_ARRAYS
from ..routing import EdgeChanges, edge_changes
from ..transit.scenario import PtScenario, parse_pt_scenario
from ..vocabulary import normalise_function
from ..worker_state import Resident, code_key, content_key
from .incremental import RoadChange, SearchMemo, recording, reusing

__all__ = [
    "Scenario",
    "ScenarioComparison",
    "apply_roads",
    "compare",
    "moves",
    "read_scenario",
    "road_change",
    "scenario_central_places",
    "scenario_municipalities",
]

logger = logging.getLogger(__name__)

#: Indicators compared between base and scenario (when both runs have them).
INDICATORS = ("t_mz_min", "t_oz_min", "potential_2h", "daytime_population")
#: Class columns compared.
CLASS_COLUMNS = ("mz_class", "oz_class", "lage")
_GRAPH_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: Where a Dask batch writes the inputs its workers keep (:func:`run_batch`).
STATE_DIR = Path(tempfile.gettempdir()) / "accessibility-worker-state"


@dataclass
class Scenario:
    """A parsed scenario file.

    Attributes
    ----------
    name : str
    functions : dict
        AGS -> central-place function (normalised spelling).
    population : dict
        AGS -> residents.
    speed_factors : dict
        Road class -> factor on the speed (0.8: 20 % slower; times divided by it).
    closed_areas : list of shapely Polygon
        lon/lat polygons whose roads are closed.
    closed_classes : list of str
        Only roads of these classes are closed in the areas (empty: every road).
    new_links : list of dict
        New roads: ``from`` and ``to`` (lon, lat; joined to their nearest nodes),
        ``speed_kmh`` (over the straight line) or ``minutes``, ``road_class``.
    """

    name: str = "scenario"
    functions: dict[str, str] = field(default_factory=dict)
    population: dict[str, float] = field(default_factory=dict)
    speed_factors: dict[str, float] = field(default_factory=dict)
    closed_areas: list = field(default_factory=list)
    closed_classes: list[str] = field(default_factory=list)
    new_links: list[dict] = field(default_factory=list)
    #: Timetable changes (headways, new routes): :mod:`accessibility.transit.scenario`.
    pt: PtScenario = field(default_factory=PtScenario)

    @property
    def changes_roads(self) -> bool:
        return bool(self.speed_factors or self.closed_areas or self.new_links)


def read_scenario(path: str | Path | dict) -> Scenario:
    """Read and check a scenario TOML (format in the module docstring), or the same
    content as a dict (``{"name": ..., "central_places": {"03151024": "MZ"}}``)."""
    if isinstance(path, dict):
        d, p = path, Path(str(path.get("name", "scenario")))
    elif isinstance(path, (str, Path)):
        p = Path(path)
        d = read_toml(p, "scenario")
    else:
        raise InputError(f"a scenario is a TOML file, a dict of its content or a Scenario, got "
                         f"{type(path).__name__}")
    known = {"name", "central_places", "population", "roads", "public_transport"}
    unknown = sorted(set(d) - known)
    if unknown:
        raise InputError(f"scenario {p}: unknown keys {unknown}; valid: {sorted(known)}")
    s = Scenario(name=str(d.get("name", p.stem)))
    for ags, fn in d.get("central_places", {}).items():
        norm = normalise_function(fn)
        if norm is None:
            raise InputError(f"scenario {p}: [central_places] {ags} = {fn!r} is not a "
                             "central-place function (Oberzentrum, Mittelzentrum, "
                             "Grundzentrum, keine, ...)")
        s.functions[_ags(ags, p)] = norm
    top = defaults.MAX_MUNICIPALITY_POPULATION
    for ags, v in d.get("population", {}).items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= top:
            raise InputError(f"scenario {p}: [population] {ags} = {v!r} must be a number of "
                             f"residents from 0 to {top:,}")
        s.population[_ags(ags, p)] = float(v)
    roads = d.get("roads", {})
    bad = sorted(set(roads) - {"speed_factors", "closed_areas", "closed_classes", "new_links"})
    if bad:
        raise InputError(f"scenario {p}: unknown [roads] keys {bad}; valid: speed_factors, "
                         "closed_areas, closed_classes, new_links")
    for i, link in enumerate(roads.get("new_links", [])):
        s.new_links.append(_link(link, i, p))
    s.closed_classes = [str(c) for c in roads.get("closed_classes", [])]
    for cls, f in roads.get("speed_factors", {}).items():
        if not isinstance(f, (int, float)) or isinstance(f, bool) or not 0 < f <= 10:
            raise InputError(f"scenario {p}: [roads] speed_factors {cls} = {f!r} must be a "
                             "factor in (0, 10]")
        s.speed_factors[str(cls)] = float(f)
    for i, ring in enumerate(roads.get("closed_areas", [])):
        try:
            poly = shapely.Polygon([(float(x), float(y)) for x, y in ring])
        except (TypeError, ValueError):
            raise InputError(f"scenario {p}: [roads] closed_areas[{i}] must be a list of "
                             "[lon, lat] points") from None
        if not poly.is_valid or poly.area == 0:
            raise InputError(f"scenario {p}: [roads] closed_areas[{i}] is not a valid polygon")
        if not (5 <= poly.bounds[0] and poly.bounds[2] <= 16 and 47 <= poly.bounds[1]
                and poly.bounds[3] <= 56):
            raise InputError(f"scenario {p}: [roads] closed_areas[{i}] lies outside Germany: "
                             "give [lon, lat] pairs (lon first)")
        s.closed_areas.append(poly)
    s.pt = parse_pt_scenario(d.get("public_transport", {}), f"scenario {p}")
    if not (s.functions or s.population or s.changes_roads or s.pt):
        raise InputError(f"scenario {p} changes nothing: give [central_places], [population], "
                         "[roads] or [public_transport]")
    return s


def _link(link: dict, i: int, p) -> dict:
    """One checked [[roads.new_links]] entry."""
    where = f"scenario {p}: [[roads.new_links]] #{i + 1}"
    if not isinstance(link, dict):
        raise InputError(f"{where} must be a table with from, to and speed_kmh or minutes")
    out = {}
    for end in ("from", "to"):
        pt = link.get(end)
        try:
            lon, lat = (float(v) for v in pt)
        except (TypeError, ValueError):
            raise InputError(f"{where}: {end} must be [lon, lat]") from None
        if not (5 <= lon <= 16 and 47 <= lat <= 56):
            raise InputError(f"{where}: {end} = {list(pt)} lies outside Germany: give "
                             "[lon, lat] (lon first)")
        out[end] = (lon, lat)
    has_speed, has_min = "speed_kmh" in link, "minutes" in link
    if has_speed == has_min:
        raise InputError(f"{where}: give either speed_kmh or minutes")
    val = link["speed_kmh"] if has_speed else link["minutes"]
    if not isinstance(val, (int, float)) or isinstance(val, bool) or not val > 0:
        raise InputError(f"{where}: {'speed_kmh' if has_speed else 'minutes'} must be > 0")
    out["speed_kmh" if has_speed else "minutes"] = float(val)
    out["road_class"] = str(link.get("road_class", "primary"))
    unknown = sorted(set(link) - {"from", "to", "speed_kmh", "minutes", "road_class"})
    if unknown:
        raise InputError(f"{where}: unknown keys {unknown}")
    return out


def _ags(key, p) -> str:
    k = str(key).strip()
    if not k.isdigit() or len(k) > 8:
        raise InputError(f"scenario {p}: {key!r} is not an AGS (8 digits)")
    return k.zfill(8)


def _check_known(ags, table: pd.DataFrame, what: str) -> None:
    unknown = sorted(set(ags) - set(table["ags"]))
    if unknown:
        raise InputError(f"the scenario's {what} names AGS that are not in the municipality "
                         f"table: {unknown[:8]}")


def scenario_central_places(central_places: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The central-place table (``ags``, ``zo_funktion``/``central_place``) with the
    scenario's functions; municipalities missing from the table are added."""
    col = "central_place" if "central_place" in central_places.columns else "zo_funktion"
    out = central_places.copy()
    have = set(out["ags"])
    for ags, fn in scenario.functions.items():
        if ags in have:
            out.loc[out["ags"] == ags, col] = fn
        else:
            out = pd.concat([out, pd.DataFrame({"ags": [ags], col: [fn]})], ignore_index=True)
    return out


def scenario_municipalities(munis: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The municipality table with the scenario's populations (and functions, when it
    has a ``central_place`` column)."""
    _check_known(scenario.population, munis, "[population]")
    _check_known(scenario.functions, munis, "[central_places]")
    out = munis.copy()
    for ags, v in scenario.population.items():
        out.loc[out["ags"] == ags, "population"] = v
    if "central_place" in out.columns:
        for ags, fn in scenario.functions.items():
            out.loc[out["ags"] == ags, "central_place"] = fn
    return out


def apply_roads(graph: RoadGraph, scenario: Scenario) -> tuple[RoadGraph, dict]:
    """The graph with the scenario's speed factors and closures (no OSM parse).

    Returns the new graph and what changed (``edges_closed``, ``km_closed``,
    ``speed_factors``, ``new_links`` with their nodes, minutes and km). A new link
    joins the nodes nearest to its two points (within 5 km), both directions, at its
    time or at its speed over the straight line between the nodes. Node numbering is kept, so the attach columns of
    the base run stay valid; a closure may leave parts unreachable (their values
    become NaN, not 0).
    """
    g, info, _ = road_change(graph, scenario)
    return g, info


def road_change(graph: RoadGraph, scenario: Scenario) -> tuple[RoadGraph, dict, EdgeChanges]:
    """:func:`apply_roads` and the node pairs whose time changed: slower or closed
    (``raised``, a closed pair ``inf``), faster or new (``lowered``)
    (:class:`~accessibility.routing.EdgeChanges`)."""
    unknown = sorted((set(scenario.speed_factors) | set(scenario.closed_classes)
                      | {k["road_class"] for k in scenario.new_links}) - set(graph.class_names))
    if unknown:
        raise InputError(f"the scenario's speed_factors / closed_classes name road classes the "
                         f"graph does not "
                         f"have: {unknown}; it has {list(graph.class_names)}")
    time_s = graph.time_s.copy()
    touched = np.zeros(graph.n_edges, bool)
    for cls, f in scenario.speed_factors.items():
        of = graph.road_class == graph.class_names.index(cls)
        time_s[of] /= f
        touched |= of
    keep = np.ones(graph.n_edges, bool)
    if scenario.closed_areas:
        of_class = (np.isin(graph.road_class, [graph.class_names.index(c)
                                               for c in scenario.closed_classes])
                    if scenario.closed_classes else np.ones(graph.n_edges, bool))
        xs, ys = graph.x[graph.sources], graph.y[graph.sources]
        xt, yt = graph.x[graph.targets], graph.y[graph.targets]
        for poly in scenario.closed_areas:
            px, py = project(*np.asarray(poly.exterior.coords).T, graph.crs)
            # only an edge whose box meets the polygon's can touch it: the lines of
            # those alone (a national graph has 10 million edges)
            near = np.flatnonzero(of_class & (np.maximum(xs, xt) >= px.min())
                                  & (np.minimum(xs, xt) <= px.max())
                                  & (np.maximum(ys, yt) >= py.min())
                                  & (np.minimum(ys, yt) <= py.max()))
            lines = shapely.linestrings(np.stack([np.column_stack([xs[near], ys[near]]),
                                                  np.column_stack([xt[near], yt[near]])], axis=1))
            keep[near[shapely.intersects(lines, shapely.Polygon(np.column_stack([px, py])))]] \
                = False
    src, tgt = graph.sources[keep], graph.targets[keep]
    t_keep, l_keep, c_keep = time_s[keep], graph.length_m[keep], graph.road_class[keep]
    added = []
    for link in scenario.new_links:
        a, b = (int(snap_points(graph, [x], [y], max_snap_m=5_000.0).node[0])
                for x, y in (link["from"], link["to"]))
        if a < 0 or b < 0:
            raise InputError(f"a new link's end {link['from'] if a < 0 else link['to']} lies "
                             "more than 5 km from the network")
        dist = float(np.hypot(graph.x[a] - graph.x[b], graph.y[a] - graph.y[b]))
        t = link["minutes"] * 60.0 if "minutes" in link else dist / (link["speed_kmh"] / 3.6)
        cls = graph.class_names.index(link["road_class"])
        src, tgt = np.r_[src, a, b], np.r_[tgt, b, a]
        t_keep, l_keep = np.r_[t_keep, t, t], np.r_[l_keep, dist, dist]
        c_keep = np.r_[c_keep, cls, cls].astype(np.uint8)
        added.append({"from_node": a, "to_node": b, "minutes": t / 60.0, "km": dist / 1000.0})
    g = from_edges(src, tgt, t_keep, l_keep, c_keep,
                   class_names=graph.class_names, osm_id=graph.osm_id, lon=graph.lon,
                   lat=graph.lat, crs=graph.crs, x=graph.x, y=graph.y,
                   meta={**graph.meta, "scenario": scenario.name})
    touched |= ~keep
    links = np.array([(k["from_node"], k["to_node"]) for k in added], np.int64).reshape(-1, 2)
    changes = edge_changes(graph, g, np.r_[graph.sources[touched], links[:, 0], links[:, 1]],
                           np.r_[graph.targets[touched], links[:, 1], links[:, 0]])
    return g, {"edges_closed": int((~keep).sum()),
               "km_closed": float(graph.length_m[~keep].sum() / 1000.0),
               "speed_factors": dict(scenario.speed_factors), "new_links": added}, changes


def compare(base: pd.DataFrame, scen: pd.DataFrame) -> pd.DataFrame:
    """Per municipality: base, scenario and change of every indicator both have
    (``{col}_base``, ``{col}_scenario``, ``{col}_change``) and of every class
    (``{col}_base``, ``{col}_scenario``, ``{col}_changed``)."""
    b = base.set_index("ags")
    s = scen.set_index("ags").reindex(b.index)
    out = pd.DataFrame({"ags": b.index, "name": b["name"].to_numpy() if "name" in b else None,
                        "gvb": b["gvb"].to_numpy() if "gvb" in b else None,
                        "population_base": b["population"].to_numpy(),
                        "population_scenario": s["population"].to_numpy()})
    for c in INDICATORS:
        if c in b.columns and c in s.columns:
            vb = pd.to_numeric(b[c], errors="coerce").to_numpy(float)
            vs = pd.to_numeric(s[c], errors="coerce").to_numpy(float)
            out[f"{c}_base"], out[f"{c}_scenario"], out[f"{c}_change"] = vb, vs, vs - vb
    for c in CLASS_COLUMNS:
        if c in b.columns and c in s.columns:
            cb, cs = b[c].astype(object).to_numpy(), s[c].astype(object).to_numpy()
            out[f"{c}_base"], out[f"{c}_scenario"] = cb, cs
            out[f"{c}_changed"] = pd.Series(cb).fillna("").to_numpy() != \
                pd.Series(cs).fillna("").to_numpy()
    return out.reset_index(drop=True)


def moves(diff: pd.DataFrame, column: str, order=None) -> pd.DataFrame:
    """Residents (scenario populations) moving between the classes of ``column``:
    rows the base class, columns the scenario class (in ``order``, then "no value")."""
    d = diff.assign(**{f"{column}_base": diff[f"{column}_base"].fillna("no value"),
                       f"{column}_scenario": diff[f"{column}_scenario"].fillna("no value")})
    t = d.pivot_table(index=f"{column}_base", columns=f"{column}_scenario",
                      values="population_scenario", aggfunc="sum", fill_value=0.0)
    if order is not None:
        labels = list(order) + ["no value"]
        t = t.reindex(index=[x for x in labels if x in t.index or x in t.columns],
                      columns=[x for x in labels if x in t.index or x in t.columns],
                      fill_value=0.0)
    t.index.name, t.columns.name = f"{column} (base)", f"{column} (scenario)"
    return t


# ------------------------------------------------------------------------------ runs
def base_run(graph: RoadGraph, munis: pd.DataFrame, central_places: pd.DataFrame, models
             ) -> tuple[pd.DataFrame, SearchMemo]:
    """The base results of ``models`` and the searches they made, for the scenarios
    to reuse (:mod:`accessibility.models.incremental`)."""
    with recording(graph) as memo_:
        base = models(graph, munis, central_places)
    return base, memo_


def run_base_and_scenario(graph: RoadGraph, munis: pd.DataFrame, central_places: pd.DataFrame,
                          changes: Scenario, models, *, incremental: bool = True
                          ) -> tuple[pd.DataFrame, pd.DataFrame, RoadGraph, dict]:
    """Base and scenario results of ``models(graph, munis, central_places)`` (a
    picklable function returning the per-municipality result).

    ``munis`` are attached to ``graph``. The scenario's designations and populations
    change the tables, its road changes the graph (:func:`apply_roads`; the base
    graph is reused as it is when the roads do not change). Without road changes
    (and with ``incremental``) the scenario reuses the base's searches, with road
    changes it repairs them (:mod:`accessibility.models.incremental`: identical
    values, less work). Returns
    the base and scenario rows of the region (``in_region``) in the same order, the
    scenario graph, and what the roads scenario did with the seconds of each step
    (``times_s``).
    """
    t = time.perf_counter()
    base, memo_ = base_run(graph, munis, central_places, models)
    t_base = time.perf_counter() - t
    b, scen, g_s, info = scenario_task(changes, graph=graph, munis=munis,
                                       central_places=central_places, models=models, base=base,
                                       memo=memo_ if incremental else None)
    info["times_s"] = {"base": t_base, **info["times_s"]}
    return b, scen, g_s, info


def scenario_task(changes: Scenario, *, graph: RoadGraph, munis: pd.DataFrame,
                  central_places: pd.DataFrame, models, base: pd.DataFrame,
                  memo: SearchMemo | None = None):
    """One scenario against a computed base; with the base's ``memo`` its searches
    are incremental (:mod:`accessibility.models.incremental`): a road change repairs
    the nearest-place searches and searches the Lage again only for the origins a
    changed edge is within reach of. Without a memo every model runs in full."""
    times = {}
    t = time.perf_counter()
    roads = None
    if changes.changes_roads:
        g_s, info, edges = road_change(graph, changes)
        roads = RoadChange(graph, edges)
    else:
        g_s, info = graph, {}
    times["scenario graph" + (" (derived, no OSM parse)" if changes.changes_roads else
                              " (the base graph, unchanged)")] = time.perf_counter() - t
    t = time.perf_counter()
    if memo is not None:
        before = dict(memo.stats)
    with reusing(memo, roads) if memo is not None else contextlib.nullcontext():
        scen = models(g_s, scenario_municipalities(munis, changes),
                      scenario_central_places(central_places, changes))
    times["scenario models" + (" (incremental)" if memo is not None else "")] = \
        time.perf_counter() - t
    if memo is not None and roads is not None:
        used = {k: v - before.get(k, 0) for k, v in memo.stats.items()
                if v != before.get(k, 0)}
        logger.info("road scenario %r (%d pairs of nodes changed): reused %s", changes.name,
                    len(roads.changes), ", ".join(f"{k}: {v:,}" for k, v in used.items()))
    region = (base["in_region"].to_numpy(bool) if "in_region" in base.columns
              else np.ones(len(base), bool))
    b = base[region]
    return b, scen.set_index("ags").loc[b["ags"]].reset_index(), g_s, {**info, "times_s": times}


def _changed_columns(changes: Scenario, **shared) -> tuple[dict | None, dict]:
    """:func:`scenario_task` as a batch task: only the scenario's columns that differ
    from the base's travel back (all of them when the columns differ), not the
    tables or the graph."""
    b, scen, _, info = scenario_task(changes, **shared)
    ref = b.set_index("ags").reset_index()
    if list(scen.columns) != list(ref.columns):
        return None, {"table": scen, "info": info}
    delta = {c: scen[c] for c in scen.columns
             if not (scen[c].dtype == ref[c].dtype and scen[c].equals(ref[c]))}
    return delta, {"attrs": dict(scen.attrs), "info": info}


def _from_changed(base_region: pd.DataFrame, delta: dict | None, rest: dict) -> pd.DataFrame:
    """The scenario's table from the base's rows and :func:`_changed_columns`."""
    if delta is None:
        return rest["table"]
    out = base_region.set_index("ags").reset_index()
    for c, v in delta.items():
        out[c] = v
    out.attrs = rest["attrs"]
    return out


def _graph_key(graph: RoadGraph) -> str:
    """:func:`~accessibility.worker_state.content_key` of the graph's own arrays (not
    its cached reverse), once per graph object: its arrays are read-only."""
    if graph not in _GRAPH_KEYS:
        _GRAPH_KEYS[graph] = content_key([[getattr(graph, k) for k in GRAPH_ARRAYS],
                                          graph.class_names, graph.crs])
    return _GRAPH_KEYS[graph]


def run_batch(graph: RoadGraph, munis: pd.DataFrame, central_places: pd.DataFrame,
              scenarios: list[Scenario], models, executor: Executor | None = None, *,
              state_dir: str | Path | None = None) -> list[tuple]:
    """:func:`run_base_and_scenario` for several scenarios: the base once, then one
    task per scenario of ``executor`` (in this process without one; ``models`` must
    be picklable for Dask). A task gets its scenario and returns only the columns it
    changed (a road scenario's graph is derived again here, not sent back).

    With an ``executor`` the base is kept for its lifetime (keyed by the content of
    the graph, tables and models: the next batch on the same inputs reuses it), and
    on Dask the graph, the tables, the base and its searches live on the workers
    (:mod:`accessibility.worker_state`: written once per base to ``state_dir``,
    default a folder in the temporary directory, which the workers must be able to
    read; each worker maps the file once). Returns one ``(base, scenario, graph,
    info)`` per scenario; ``info["times_s"]["base (shared by the batch)"]`` is the
    base's time (0 for a kept base)."""
    inputs = {"graph": graph, "munis": munis, "central_places": central_places,
              "models": models}
    t = time.perf_counter()
    if executor is None:
        executor, key = LocalExecutor(), ""
    else:
        key = content_key([code_key(), _graph_key(graph), munis, central_places, models])
    base, memo_ = executor.keep(key, lambda: base_run(graph, munis, central_places, models))
    t_base = time.perf_counter() - t
    resident = Resident({**inputs, "base": base, "memo": memo_}, key,
                        Path(state_dir) if state_dir is not None else STATE_DIR)
    parts = executor.map(_changed_columns, list(scenarios), resident=resident,
                         what="scenarios")
    region = (base["in_region"].to_numpy(bool) if "in_region" in base.columns
              else np.ones(len(base), bool))
    b = base[region]
    runs = []
    for sc, (delta, rest) in zip(scenarios, parts):
        info = rest["info"]
        g_s = apply_roads(graph, sc)[0] if sc.changes_roads else graph
        info["times_s"] = {"base (shared by the batch)": t_base, **info["times_s"]}
        runs.append((b, _from_changed(b, delta, rest), g_s, info))
    return runs


@dataclass
class ScenarioComparison:
    """A scenario against its base (:func:`accessibility.scenario`).

    Attributes
    ----------
    table : DataFrame
        :func:`compare` of the region's municipalities: base, scenario and change of
        every indicator.
    name : str
        The scenario's name.
    road_changes : dict
        What the roads scenario did (:func:`apply_roads`: ``edges_closed``,
        ``km_closed``, ...); empty when it changes no road.
    """

    table: pd.DataFrame
    name: str
    road_changes: dict = field(default_factory=dict)


def compared(base: pd.DataFrame, scen: pd.DataFrame, info: dict, sc: Scenario
             ) -> ScenarioComparison:
    """:func:`compare`, with the scenario's name and what its roads changes did."""
    return ScenarioComparison(compare(base, scen), sc.name,
                              {k: v for k, v in info.items() if k != "times_s"})
