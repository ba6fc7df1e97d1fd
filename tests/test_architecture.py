"""The layout holds: layers import in one direction, each default has one home, one
attach step feeds every model, the public API never turns "unreachable" into a
number, and the refactoring left the sample's results as they were."""

from __future__ import annotations

import ast
import dataclasses
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import accessibility as acc
from accessibility import config as config_mod, defaults, routing
from accessibility._errors import InputError
from accessibility.graph import attach, from_edges, network_arrays, project
from accessibility.models.lage_tables import LAGE_UNKNOWN
from accessibility.pipeline import run, sample_config_path
from accessibility.vocabulary import LAGE_CLASSES, SETTLEMENT_TYPES, class_order

from .conftest import TEST_DATA

PKG = Path(acc.__file__).resolve().parent


# ------------------------------------------------------------------ layering
def imported_modules(path: Path) -> set[str]:
    """Absolute names of the accessibility modules ``path`` imports (any level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ["accessibility"] + list(path.relative_to(PKG).parent.parts)
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("accessibility"))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                parent = package[:len(package) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            if base.startswith("accessibility"):
                out.add(base)
                out.update(f"{base}.{a.name}" for a in node.names)
    return out


def forbidden(path: Path, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in imported_modules(path)
                  if any(m == p or m.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("path", sorted((PKG / "models").glob("*.py")), ids=lambda p: p.name)
def test_models_import_neither_io_nor_cli(path):
    assert forbidden(path, ("accessibility.io", "accessibility.cli", "accessibility.pipeline",
                            "accessibility.api", "accessibility.report")) == []


@pytest.mark.parametrize("path", sorted((PKG / "pipeline").glob("*.py")), ids=lambda p: p.name)
def test_pipeline_goes_through_the_api(path):
    # the pipeline calls the public API, so a notebook gets what the CLI writes
    assert forbidden(path, ("accessibility.models", "accessibility.routing")) == []


@pytest.mark.parametrize("path", sorted((PKG / "io").glob("*.py")), ids=lambda p: p.name)
def test_io_imports_no_graph_model_or_cli(path):
    # io reads and checks files; graph may use io.osm_files, never the other way round
    assert forbidden(path, ("accessibility.graph", "accessibility.models", "accessibility.cli",
                            "accessibility.pipeline", "accessibility.api",
                            "accessibility.report")) == []


#: The numba kernel modules of the routing package (arrays in, arrays out).
KERNEL_MODULES = sorted(({*(PKG / "routing").glob("*kernels*.py"), PKG / "routing" / "_heap.py",
                          PKG / "routing" / "_decay.py"} & set((PKG / "routing").glob("*.py")))
                        | set((PKG / "transit").glob("*kernels*.py")))


def test_no_module_over_800_lines():
    # numba kernel modules may be longer: a kernel is best read in one piece
    long = {str(p.relative_to(PKG)): n for p in PKG.rglob("*.py")
            if p not in KERNEL_MODULES
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > 800}
    assert long == {}


def test_kernel_modules_are_found():
    assert {p.name for p in KERNEL_MODULES} >= {"kernels.py", "_ch_kernels.py",
                                                 "_phast_kernels.py", "_csa_kernels.py"}


@pytest.mark.parametrize("path", sorted((PKG / "transit").glob("*.py")), ids=lambda p: p.name)
def test_transit_takes_tables_not_files(path):
    # the timetable router gets frames from io (io.gtfs_timetable), like routing and
    # models it reads no file and knows no model
    assert forbidden(path, ("accessibility.io", "accessibility.models", "accessibility.graph",
                            "accessibility.pipeline", "accessibility.api",
                            "accessibility.routing")) == []


@pytest.mark.parametrize("path", KERNEL_MODULES, ids=lambda p: p.name)
def test_kernel_modules_hold_only_numba_functions(path):
    # the Python that orders the kernels (e.g. the contraction's rounds) lives beside
    # them, not among them: a kernel module is arrays in, arrays out
    tree = ast.parse(path.read_text(encoding="utf-8"))
    plain = [f.name for f in tree.body if isinstance(f, ast.FunctionDef)
             and not any("njit" in ast.unparse(d) or "intrinsic" in ast.unparse(d)
                         for d in f.decorator_list)]
    assert plain == []


@pytest.mark.parametrize("path", KERNEL_MODULES, ids=lambda p: p.name)
def test_kernels_import_no_model_io_or_graph(path):
    assert forbidden(path, ("accessibility.models", "accessibility.io", "accessibility.graph",
                            "accessibility.pipeline", "accessibility.api")) == []


@pytest.mark.parametrize("path", sorted([*(PKG / "models").glob("*.py"),
                                                           *(PKG / "api").glob("*.py")]),
                         ids=lambda p: p.name)
def test_routing_is_used_through_its_package_only(path):
    # models, api and pipeline see the checked API, never a kernel or helper module
    prefix = "accessibility.routing."
    used = {m[len(prefix):] for m in imported_modules(path) if m.startswith(prefix)}
    assert sorted(m for m in used if m not in routing.__all__) == []


def test_the_import_check_sees_relative_imports(tmp_path):
    # the guard itself: a planted "from ..io import x" in a model must be found
    fake = PKG / "models" / "_planted_for_test.py"
    fake.write_text("from ..io import read_municipalities\nfrom .. import cli\n")
    try:
        assert forbidden(fake, ("accessibility.io", "accessibility.cli")) == [
            "accessibility.cli", "accessibility.io", "accessibility.io.read_municipalities"]
    finally:
        fake.unlink()


# ------------------------------------------------------------------ one home per default
def test_config_defaults_come_from_defaults_module():
    c = config_mod.Config()
    expect = {
        ("graph", "profile"): defaults.PROFILE, ("graph", "metric_crs"): defaults.METRIC_CRS,
        ("graph", "max_snap_m"): defaults.MAX_SNAP_M,
        ("graph", "access_speed_kmh"): None,  # the profile's: see below
        ("central_places", "origins"): defaults.ORIGINS,
        ("central_places", "area_grid_m"): defaults.AREA_GRID_M,
        ("lage", "beta"): defaults.BETA, ("lage", "limit_min"): defaults.LIMIT_MIN,
        ("lage", "thresholds"): defaults.LAGE_THRESHOLDS,
        ("lage", "target_mean"): defaults.TARGET_MEAN, ("lage", "engine"): defaults.ENGINE,
        ("walk", "limit_m"): defaults.WALK_LIMIT_M, ("walk", "max_snap_m"): defaults.WALK_MAX_SNAP_M,
        ("walk", "min_departures"): defaults.MIN_DEPARTURES,
        ("output", "formats"): defaults.OUTPUT_FORMATS,
    }
    for (section, key), value in expect.items():
        assert getattr(getattr(c, section), key) == value, (section, key)
    # the access speed in use comes with the profile, else the module's fallback
    from accessibility.profile import load_profile

    assert c.graph.access_kmh() == load_profile(defaults.PROFILE).access_speed_kmh
    osrm = dataclasses.replace(c.graph, profile="osrm-car")
    assert load_profile("osrm-car").access_speed_kmh is None
    assert osrm.access_kmh() == defaults.ACCESS_SPEED_KMH
    assert dataclasses.replace(osrm, access_speed_kmh=40.0).access_kmh() == 40.0


#: Keys the embedded sample sets to other values than the defaults (its main-road
#: extract needs longer, faster access legs), and the input paths.
SAMPLE_SPECIFIC = {("graph", "max_snap_m")}


def test_example_config_documents_the_defaults():
    text = sample_config_path().read_text(encoding="utf-8")
    data = tomllib.loads(text)
    c = config_mod.Config()
    for section, values in data.items():
        if section == "inputs":
            continue
        for key, value in values.items():
            default = getattr(getattr(c, section), key)
            if (section, key) in SAMPLE_SPECIFIC:
                continue
            if isinstance(default, tuple):
                value = tuple(value)
            if isinstance(default, Path):
                default = str(default)
            assert value == default, f"[{section}] {key} = {value!r}, default {default!r}"
    # the sample-specific keys say what the default is
    assert f"default {defaults.MAX_SNAP_M:,.0f} m" in text
    assert f"else\n# {defaults.ACCESS_SPEED_KMH:g} km/h" in text
    # every documented key exists in the config (no stale documentation)
    for section, values in data.items():
        fields = {f.name for f in dataclasses.fields(getattr(c, section))}
        assert set(values) <= fields, section


# ------------------------------------------------------------------ attach
def random_graph(seed: int, n: int = 30):
    rng = np.random.default_rng(seed)
    lon = 10.0 + rng.random(n) * 0.2
    lat = 52.0 + rng.random(n) * 0.2
    u = rng.integers(0, n, 3 * n)
    v = rng.integers(0, n, 3 * n)
    t = rng.random(3 * n) * 100
    return from_edges(u, v, t, t * 10, np.zeros(u.size), class_names=("road",),
                      osm_id=np.arange(n), lon=lon, lat=lat)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 20),
       max_snap=st.floats(100.0, 20_000.0), speed=st.floats(1.0, 100.0))
def test_attach_matches_brute_force_nearest(seed, k, max_snap, speed):
    g = random_graph(seed)
    rng = np.random.default_rng(seed + 1)
    pts = pd.DataFrame({"ags": [f"{i:08d}" for i in range(k)],
                        "lon": 9.9 + rng.random(k) * 0.4, "lat": 51.9 + rng.random(k) * 0.4})
    pts.loc[0, "lon"] = np.nan  # a row without a point stays off the network
    out = attach(g, pts, max_snap_m=max_snap, access_speed_kmh=speed)
    # independent reference: every distance in metric coordinates, argmin
    px, py = project(pts["lon"].to_numpy()[1:], pts["lat"].to_numpy()[1:], g.crs)
    d = np.hypot(px[:, None] - g.x[None, :], py[:, None] - g.y[None, :])
    dmin = d.min(axis=1)
    on = dmin <= max_snap
    np.testing.assert_allclose(out["snap_m"].to_numpy()[1:], dmin, rtol=1e-9)
    assert out["on_network"].tolist() == [False] + on.tolist()
    node = out["node"].to_numpy(dtype=float, na_value=np.nan)[1:]
    assert np.isnan(node[~on]).all() and pd.isna(out.loc[0, "node"])
    np.testing.assert_allclose(d[np.flatnonzero(on), node[on].astype(int)], dmin[on], rtol=1e-9)
    np.testing.assert_allclose(out["access_s"].to_numpy()[1:][on], dmin[on] / (speed / 3.6))
    assert np.isnan(out["access_s"].to_numpy()[1:][~on]).all()
    assert (out["max_snap_m"] == max_snap).all() and (out["access_speed_kmh"] == speed).all()
    arr = network_arrays(out, g)
    assert (arr.node[~arr.on_network] == -1).all()


def test_attach_errors_are_clear():
    g = random_graph(1)
    with pytest.raises(InputError, match="lon.*lat.*geometry"):
        attach(g, pd.DataFrame({"ags": ["1"], "x": [1.0]}))
    with pytest.raises(InputError, match="not attached"):
        network_arrays(pd.DataFrame({"ags": ["1"]}))
    other = random_graph(2, n=10)
    k = g.n_nodes - 1  # a point on the last node: beyond the other graph's nodes
    big = attach(g, pd.DataFrame({"ags": ["1"], "lon": [g.lon[k]], "lat": [g.lat[k]]}))
    assert big["node"].iloc[0] == k >= other.n_nodes
    with pytest.raises(InputError, match="another graph"):
        network_arrays(big, other)


# ------------------------------------------------------------------ no number for "unreachable"
def two_islands():
    # 0 <-> 1 and 2 <-> 3: nothing crosses
    return from_edges(np.array([0, 1, 2, 3]), np.array([1, 0, 3, 2]), np.full(4, 60.0),
                      np.full(4, 600.0), np.zeros(4), class_names=("road",),
                      osm_id=np.arange(4), lon=np.array([10.0, 10.01, 11.0, 11.01]),
                      lat=np.full(4, 52.0))


def test_nearest_result_at_gives_nan_for_unsnapped_and_unreached():
    g = two_islands()
    res = routing.nearest_facility(g, [0], reverse=True)
    nodes = pd.Series(pd.array([1, pd.NA, 3, 0], dtype="Int64"), index=list("abcd"))
    t = res.at(nodes)
    assert list(t.index) == list("abcd")
    assert t.loc["a", "cost"] == 60.0 and t.loc["a", "facility"] == 0
    assert np.isnan(t.loc["b", "cost"]) and pd.isna(t.loc["b", "facility"])  # not attached
    assert np.isnan(t.loc["c", "cost"]) and pd.isna(t.loc["c", "facility"])  # unreachable
    assert t.loc["d", "cost"] == 0.0
    # the raw arrays say inf / -1, and the attached node column cannot index them
    assert np.isinf(res.dist[3]) and res.source[3] == -1
    with pytest.raises((TypeError, ValueError, IndexError)):
        res.dist[nodes.to_numpy()]


def test_one_to_many_dense_view_shows_unreachable_as_inf():
    g = two_islands()
    m = routing.one_to_many(g, [0, 2], [1, 3, 0])
    dense = m.toarray()
    np.testing.assert_array_equal(dense, [[60.0, np.inf, 0.0], [np.inf, 60.0, np.inf]])
    assert m.nnz == 3  # the zero cost 0 -> 0 is stored, the unreachable pairs are not
    assert np.array_equal(np.asarray(m.todense()), dense)
    f = m.to_frame().sort_values(["origin", "target"])
    assert f.to_dict("list") == {"origin": [0, 0, 1], "target": [0, 2, 1],
                                 "cost": [60.0, 0.0, 60.0]}


# ------------------------------------------------------------------ the public API
def test_public_api_has_every_model():
    for name in ("attach", "central_places", "lage", "walkability", "walk_distances",
                 "settlement_types", "run", "build_graph", "read_municipalities"):
        assert callable(getattr(acc, name)), name


#: Public functions that take the table first (none: mark_region was the last).
TABLE_FIRST: set[str] = set()


def _graph_first_functions():
    """The public functions that take the road graph: (name, function)."""
    import inspect

    out = []
    for name in sorted(set(acc.api.__all__) - TABLE_FIRST):
        f = getattr(acc.api, name)
        if inspect.isfunction(f) and "graph" in inspect.signature(f).parameters:
            out.append((name, f))
    return out


def test_public_functions_take_the_graph_first():
    import inspect

    funcs = _graph_first_functions()
    assert len(funcs) >= 12
    for name, f in funcs:
        assert next(iter(inspect.signature(f).parameters)) == "graph", name


@pytest.mark.parametrize("name", [n for n, _ in _graph_first_functions()])
def test_a_table_in_the_graphs_place_is_a_clear_error(name, tmp_path):
    """Every function that takes the graph, called with the municipality table in its
    place and the other arguments as they should be: an InputError that says the
    graph comes first, never a traceback from deep inside."""
    import inspect

    from accessibility.models.scenario import Scenario

    m = pd.DataFrame({"ags": ["03241001"], "name": ["Hannover"], "lon": [9.73],
                      "lat": [52.37], "population": [500_000.0],
                      "central_place": ["Oberzentrum"]})
    ref = tmp_path / "ref.csv"
    ref.write_text("origin_ags,destination_ags,minutes\n03241001,03241001,1.0\n")
    given = {"municipalities": m, "munis": m, "points": m, "table": m, "centres": m,
             "central_places": m[["ags", "central_place"]], "changes": Scenario(),
             "scenarios": [Scenario()], "models": acc.api.ScenarioModels(),
             "reference_path": ref, "destinations": m}
    f = dict(_graph_first_functions())[name]
    args = []
    for p in list(inspect.signature(f).parameters.values())[1:]:
        if p.default is p.empty and p.kind == p.POSITIONAL_OR_KEYWORD:
            assert p.name in given, f"{name}: give the test a {p.name!r}"
            args.append(given[p.name])
    with pytest.raises(InputError, match="where the graph belongs"):
        f(m, *args)


def test_api_municipalities_without_gvb_count_as_their_own():
    g = two_islands()
    munis = pd.DataFrame({"ags": [3101000, 3101001, 3101002], "name": list("ABC"),
                          "lon": [10.0, 10.01, 11.0], "lat": [52.0, 52.0, 52.0],
                          "population": [10_000.0, 2_000.0, 500.0]})
    zo = pd.DataFrame({"ags": ["03101000", "03101001", "03101002"],
                       "zo_funktion": ["OZ", "MZ mit OZ-Teilfunktion", "-"]})
    out = acc.central_places(g, munis, zo, max_snap_m=500)
    assert out["ags"].tolist() == ["03101000", "03101001", "03101002"]  # zero-padded
    assert out["gvb"].tolist() == out["ags"].tolist()  # own GVB, not the Kreis
    assert out["central_place"].tolist() == ["Oberzentrum", "Mittelzentrum", "keine"]
    # C sits on the other island: no value, a reason, never a number
    assert np.isnan(out.loc[2, "t_oz_min"]) and "reachable" in out.loc[2, "reason"]
    assert any("own Gemeindeverband" in line for line in out.attrs["report"])
    lg = acc.lage(g, out)  # the attached table goes on as it is: no second snapping
    assert lg["on_network"].tolist() == out["on_network"].tolist()
    assert lg.loc[0, "potential_2h"] == pytest.approx(10_000 + 2_000 * np.exp(-0.076))
    assert set(lg.attrs) <= {"report", "attach"}  # values travel in columns and objects


# ------------------------------------------------------------------ results unchanged
def test_sample_results_unchanged_by_the_refactoring(tmp_path):
    """The sample run's parquet against the one of the version before the One-house
    refactoring (tests/data/sample_run_baseline.parquet), column by column.

    The intended changes, derived here independently of the code:

    * ``in_network`` is now ``on_network`` (one vocabulary);
    * a run reports its region only (issue 10): municipalities whose point lies
      outside the convex hull of the road graph's nodes (scipy's Delaunay test here,
      not shapely) and that have no residents in the walk extract are not written;
    * Dreieich and Langen lie outside the road extract (their rows come from the walk
      extract): as Mittelzentren they no longer get 0 minutes but no value;
    * new columns ``in_region``, ``mz_edge_flag``, ``oz_edge_flag`` and the ordered class
      codes ``mz_class_code``, ``oz_class_code``, ``lage_code``, ``settlement_type_code``
      (checked here against the labels);
    * the reporting unit (issue 11): ``lage`` is the Lage of the GVB, i.e. that of its
      most populous member (derived here from the baseline's own classes), the
      municipality's own class moves to ``lage_gemeinde``; the GVB columns
      ``lage_gvb``, ``potential_2h_gvb``, ``t_mz_min_gvb``, ``mz_class_gvb``,
      ``t_oz_min_gvb``, ``oz_class_gvb`` are new (checked in tests/test_units.py);
    * unpopulated areas (0 residents) have no MZ/OZ class, Lage or settlement type,
      and their reason says so;
    * the Lage only where the potential is exact (issue 23): a municipality whose
      ``edge_flag`` is set has no own class (``lage_gemeinde``) and the reason in the
      new column ``lage_reason``; a GVB whose centre is flagged has no class; the
      new column ``gvb_complete`` says whether the GVB lies wholly in the region.
      Since the class where it is certain (issue 23): the new column
      ``potential_2h_max`` (checked in tests/test_lage_bounds.py; here that it is
      at least the potential, and equal where not flagged), and a flagged
      potential keeps its class where the upper bound lies in the same class
      (BBSR's thresholds 81,000 / 183,000 / 410,000, applied here).
    * the walk edge test (issue 23): new column ``walk_edge_share_net`` (checked in
      tests/test_edges_exact.py; here only that it is a share).
    * issue 29: new column ``walk_residents_net``, the base of the network shares;
      every populated cell of the sample lies within the walk snapping limit, so it
      equals ``walk_residents`` here (tests/test_walkability.py checks the rest).

    The run pins the sample's speeds of the baseline (``osrm-car``, access legs at
    30 km/h): the default profile became ``de-car`` later (issue 11), and the Lage's
    units of the baseline (``[lage] units = "municipality"``): the Lage between
    Gemeindeverbände became the default later (issue 24; its Lage columns are checked
    in tests/test_lage_units.py, and below that the default run differs only there).
    """
    from scipy.spatial import Delaunay

    base = pd.read_parquet(TEST_DATA / "sample_run_baseline.parquet")
    base = base.rename(columns={"in_network": "on_network"}).set_index("ags")
    res = run(output_dir=tmp_path, overrides={"output.maps": False, "graph.profile": "osrm-car",
                                              "graph.access_speed_kmh": 30.0,
                                              "lage.units": "municipality",
                                              "output.models": ["central_places", "lage",
                                                                "walk"]})
    new = pd.read_parquet(res.files["parquet"]).set_index("ags")
    _gvb_units_change_only_the_lage(tmp_path, new)
    g = res.graph
    px, py = project(base["lon"].to_numpy(), base["lat"].to_numpy(), g.crs)
    inside = Delaunay(np.column_stack([g.x, g.y])).find_simplex(np.column_stack([px, py])) >= 0
    walk = base["walk_residents"].fillna(0).to_numpy() > 0
    kept = base.index[inside | base["on_network"].to_numpy() | walk]
    assert sorted(new.index) == sorted(kept)
    unit_cols = ["gvb_complete", "lage_gemeinde", "lage_gvb", "mz_class_gvb", "oz_class_gvb",
                 "potential_2h_gvb", "t_mz_min_gvb", "t_oz_min_gvb",
                 "beyond_mz_standard", "beyond_oz_standard"]  # tests/test_standards.py
    assert sorted(set(new.columns) - set(base.columns)) == sorted([
        "in_region", "lage_code", "lage_reason", "mz_class_code", "mz_edge_flag",
        "oz_class_code", "oz_edge_flag", "potential_2h_max", "settlement_type_code",
        "walk_edge_share_net", "walk_residents_net"] + unit_cols)
    share = new["walk_edge_share_net"].dropna()
    assert len(share) and share.between(0.0, 1.0).all()
    pd.testing.assert_series_equal(new["walk_residents_net"], new["walk_residents"],
                                   check_names=False)
    new = new.drop(columns=["walk_edge_share_net", "walk_residents_net"])
    # the intended changes of issue 11, derived from the baseline
    empty = base["population"] == 0
    for col in ("mz_class", "oz_class", "lage", "settlement_type", "settlement_type_detail"):
        base.loc[empty, col] = None
    unpop = "unpopulated area (0 residents): no class, not in the means"
    base.loc[empty, "reason"] = [f"{r}; {unpop}" if isinstance(r, str) else unpop
                                 for r in base.loc[empty, "reason"]]
    # issue 23: no class where the run flags the potential (a lower bound), unless its
    # upper bound lies in the same class
    flagged = new["edge_flag"].reindex(base.index).fillna(True).astype(bool)
    has_pot = base["potential_2h"].notna()
    top = new["potential_2h_max"].reindex(base.index)
    low = base["potential_2h"]
    assert (top[has_pot & ~flagged] == low[has_pot & ~flagged]).all()
    assert (top[has_pot & flagged].fillna(np.inf) >= low[has_pot & flagged]).all()
    th = [81_000.0, 183_000.0, 410_000.0]
    same = (np.searchsorted(th, low, side="right") == np.searchsorted(th, top, side="right"))
    flagged &= ~(same & top.notna())
    base.loc[flagged & has_pot, "lage"] = None
    reason = np.where(flagged & has_pot & ~empty, LAGE_UNKNOWN, None)
    want = pd.Series(reason, index=base.index).reindex(new.index)
    assert ([None if pd.isna(x) else x for x in new["lage_reason"]]
            == [None if pd.isna(x) else x for x in want])
    new = new.drop(columns="lage_reason")
    centre = (base.reset_index().sort_values(["gvb", "population", "ags"],
                                             ascending=[True, False, True])
              .drop_duplicates("gvb").set_index("gvb")["lage"])
    base["lage_gemeinde"] = base["lage"]
    base["lage"] = centre.reindex(base["gvb"]).to_numpy()
    base.loc[empty, "lage"] = None
    new = new.drop(columns=[c for c in unit_cols if c != "lage_gemeinde"])
    assert new["in_region"].all()
    for code, label, order in (("mz_class_code", "mz_class", class_order("mz")),
                               ("oz_class_code", "oz_class", class_order("oz")),
                               ("lage_code", "lage", list(LAGE_CLASSES)),
                               ("settlement_type_code", "settlement_type",
                                list(SETTLEMENT_TYPES))):
        has = new[label].notna()
        assert new.loc[has, code].tolist() == [order.index(x) for x in new.loc[has, label]]
        assert new.loc[~has, code].isna().all()
    car = pd.Series(inside | base["on_network"].to_numpy(), index=base.index)
    base, new = base.loc[kept], new.loc[kept]
    outside_car = base.index[~car.loc[kept].to_numpy()]
    assert sorted(outside_car) == ["06438002", "06438006"]  # Dreieich, Langen
    changed = {"t_mz_min", "t_oz_min", "nearest_mz_ags", "nearest_mz_name", "nearest_oz_ags",
               "nearest_oz_name", "mz_class", "oz_class", "reason"}
    # counts of searches that did not happen are empty now, not 0 (issue 15)
    off = ~new["on_network"].to_numpy(bool)
    assert (base.loc[off, "n_origins"] == 0).all() and new.loc[off, "n_origins"].isna().all()
    assert (base.loc[off, "n_reached"] == 0).all() and new.loc[off, "n_reached"].isna().all()
    base.loc[off, ["n_origins", "n_reached"]] = np.nan
    assert new.loc[outside_car, list(changed - {"reason"})].isna().all().all()
    assert (new.loc[outside_car, "reason"]
            == "outside the road extract: Nahversorgung values only").all()
    same = base.index.difference(outside_car)
    for col in base.columns:
        if col == "geometry":
            continue
        rows = same if col in changed else base.index
        a, b = base.loc[rows, col], new.loc[rows, col]
        if a.dtype.kind in "fiub" and b.dtype.kind in "fiub":
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=1e-12,
                                       equal_nan=True, err_msg=col)
        else:
            assert (a.astype(object).where(a.notna(), None).tolist()
                    == b.astype(object).where(b.notna(), None).tolist()), col


def _gvb_units_change_only_the_lage(tmp_path, muni: pd.DataFrame) -> None:
    """The default run (GVB units) against the municipality run ``muni``: only the
    Lage's columns differ, and every member of a GVB carries one potential."""
    res = run(output_dir=tmp_path / "gvb", overrides={
        "output.maps": False, "graph.profile": "osrm-car", "graph.access_speed_kmh": 30.0,
        "output.models": ["central_places", "lage", "walk"]})
    new = pd.read_parquet(res.files["parquet"]).set_index("ags").loc[muni.index]
    lage_cols = {"potential_2h", "n_reached", "edge_flag", "lage", "lage_code", "lage_reason",
                 "lage_gemeinde", "lage_gvb", "potential_2h_gvb", "potential_2h_max"}
    assert list(new.columns) == list(muni.columns)
    for col in set(new.columns) - lage_cols - {"geometry"}:
        a, b = muni[col], new[col]
        assert (a.astype(object).where(a.notna(), None).tolist()
                == b.astype(object).where(b.notna(), None).tolist()), col
    pot = new["potential_2h"].dropna()
    assert (pot.groupby(new.loc[pot.index, "gvb"]).nunique() == 1).all()


def test_a_run_attaches_the_municipalities_once(tmp_path, monkeypatch):
    """Every model consumes the columns of the one attach step: the car graph sees
    exactly one snapping call in a run (the municipalities), whatever models run."""
    import accessibility.graph.attachment as attach_mod

    calls = []
    real = attach_mod.snap_points

    def counting(graph, lon, lat, **kw):
        calls.append((graph.n_nodes, len(np.atleast_1d(lon))))
        return real(graph, lon, lat, **kw)

    monkeypatch.setattr(attach_mod, "snap_points", counting)
    res = run(output_dir=tmp_path, overrides={"output.maps": False})
    car = [c for c in calls if c[0] == res.graph.n_nodes]
    # the municipalities once; the indicators' destinations are another point set
    assert car.count((res.graph.n_nodes, 282)) == 1
    assert len(car) == 2  # municipalities, then the motorway/rail/airport destinations


def test_api_polygons_in_another_crs_come_back_in_wgs84():
    import geopandas as gpd
    import shapely

    g = two_islands()
    pts = gpd.GeoDataFrame(
        {"ags": ["03101000", "03101001"], "name": ["A", "B"], "population": [10.0, 5.0]},
        geometry=gpd.points_from_xy([10.0, 10.01], [52.0, 52.0]), crs=4326).to_crs(25832)
    polys = pts.assign(geometry=pts.buffer(300.0))  # EPSG:25832 metres
    zo = pd.DataFrame({"ags": ["03101000", "03101001"], "zo_funktion": ["OZ", "-"]})
    out = acc.central_places(g, polys, zo, max_snap_m=1000)
    assert out.crs.to_epsg() == 4326
    minx, miny, maxx, maxy = out.total_bounds
    assert 9.9 < minx < maxx < 10.1 and 51.9 < miny < maxy < 52.1  # degrees, not metres
    assert out.geometry.iloc[0].geom_type == "Polygon"
    assert shapely.get_num_coordinates(out.geometry.iloc[0]) > 4


def test_a_register_of_another_area_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no municipality lies in the road extract"):
        run(output_dir=tmp_path, overrides={"region.ags_prefixes": ["09"],
                                            "output.maps": False})
