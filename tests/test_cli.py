"""Command line and pipeline: --help everywhere, graph build, the sample run, errors."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from accessibility.cli import build_parser, main
from accessibility.pipeline import run

from .conftest import TEST_DATA, shared


@pytest.mark.parametrize("argv", [[], ["graph"], ["graph", "build"], ["graph", "info"], ["run"]])
def test_help_on_every_subcommand(argv, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(argv + ["--help"])
    assert e.value.code == 0
    assert "usage: accessibility" in capsys.readouterr().out


def test_console_entry_point_module():
    r = subprocess.run([sys.executable, "-m", "accessibility.cli", "--help"],
                       capture_output=True, text=True, check=True)
    assert "graph" in r.stdout and "run" in r.stdout


def test_help_loads_no_heavy_library():
    """``--help`` answers at once: asking for help imports neither the data stack
    (geopandas, pandas, scipy, numba) nor the map libraries. A module count, not a
    stopwatch: the same check on any machine."""
    code = ("import sys\nfrom accessibility.cli import build_parser, main\n"
            "subs = build_parser()._subparsers._group_actions[0].choices\n"
            "for argv in ([], ['graph', 'build'], *([c] for c in subs)):\n"
            "    try:\n        main(argv + ['--help'])\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('geopandas', 'pandas', 'scipy', 'numba', 'matplotlib', "
            "'folium', 'pyproj', 'shapely') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "usage: accessibility report [-h]" in r.stdout  # every subcommand, this too
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_package_names_load_on_first_use():
    import accessibility as acc

    assert acc.central_places is acc.api.central_places and acc.Decay is acc.routing.Decay
    assert {"central_places", "lage", "run", "Decay"} <= set(dir(acc))
    with pytest.raises(AttributeError, match="no attribute 'centralplaces'"):
        acc.centralplaces  # noqa: B018


def test_graph_build_and_info(tmp_path, capsys):
    out = tmp_path / "tiny.npz"
    assert main(["-q", "graph", "build", str(TEST_DATA / "tiny.osm"), "-o", str(out), "--no-simplify"]) == 0
    text = capsys.readouterr().out
    assert "km by road class" in text and "peak memory" in text and out.is_file()
    assert main(["-q", "graph", "info", str(out)]) == 0
    assert "nodes" in capsys.readouterr().out


def test_graph_build_statistics_real(tmp_path, capsys):
    src = shared("osm", "hannover-braunschweig-main-roads.osm.pbf")
    assert main(["-q", "graph", "build", str(src), "-o", str(tmp_path / "hb.npz")]) == 0
    text = capsys.readouterr().out
    assert "raw ->" in text and "largest strongly connected component" in text
    assert "motorway" in text


def test_run_embedded_sample(tmp_path):
    res = run(output_dir=tmp_path)
    assert (tmp_path / "summary.md").is_file()
    stats = json.loads((tmp_path / "graph_stats.json").read_text())
    assert stats["nodes"] == res.graph.n_nodes and stats["scc_node_share_kept"] > 0.95
    m = res.municipalities
    assert len(m) == 282 and m["on_network"].sum() > 150
    assert "municipalities read" in res.summary


def test_run_national_register_with_regional_extract(tmp_path):
    res = run(output_dir=tmp_path, overrides={
        "inputs.municipalities": str(shared("municipalities", "gemeinden_2019_destatis.csv"))})
    m = res.municipalities
    assert len(m) == 11_004  # the API result keeps every row ...
    inside = m[m["on_network"]]
    assert 150 < len(inside) < 400  # only the region, the rest reported, not snapped
    assert inside["lon"].between(9.0, 11.4).all() and inside["lat"].between(51.7, 53.0).all()
    assert "outside the network extent" in res.summary
    # ... München, far outside the extract, has no value, never 0 (central places too)
    mu = m.set_index("ags").loc["09162000"]
    assert not mu["in_region"] and np.isnan(mu["t_oz_min"]) and np.isnan(mu["t_mz_min"])
    # the files and the summary's means describe the region only
    written = pd.read_parquet(res.files["parquet"])
    assert len(written) == int(m["in_region"].sum()) < 400
    reg = m[m["in_region"]]
    # unpopulated areas (gemeindefreie Gebiete) have no weight in the means
    w = reg["area_km2"].where(reg["t_oz_min"].notna() & (reg["population"] > 0), 0.0)
    mean_area = float((reg["t_oz_min"].fillna(0) * w).sum() / w.sum())
    assert f"OZ {mean_area:.1f} min" in res.summary
    # issue 11: the GVB is the reporting unit. Every member carries its GVB's Lage,
    # that of its most populous member (derived here from the own classes)
    lage_m = reg[reg["population"] > 0]
    centre = (m.sort_values(["gvb", "population", "ags"], ascending=[True, False, True])
              .drop_duplicates("gvb").set_index("gvb")["lage_gemeinde"])
    expect = centre.reindex(lage_m["gvb"]).fillna("").to_numpy()
    assert (lage_m["lage"].fillna("").to_numpy() == expect).all()
    assert (lage_m.groupby("gvb")["lage"].nunique() <= 1).all()
    assert (lage_m["lage"] != lage_m["lage_gemeinde"]).sum() > 10  # it matters here
    gvb = pd.read_csv(res.files["gvb_table"], dtype={"gvb": str})
    assert {"mz_class", "oz_class", "lage", "walk_share_all", "settlement_type"} <= set(gvb)
    assert gvb["mz_class"].notna().sum() > 50
    t = pd.read_csv(res.files["table_mz_oz_by_lage_counts"])
    assert list(t.columns[:4]) == ["indicator", "class", "sehr zentral n", "sehr zentral residents"]
    assert {"größere Kleinstadt n", "kleine Kleinstadt residents", "total n"} <= set(t.columns)
    # issue 24: the report's shapes beside the counts (a regional run has no Lage,
    # so every Kleinstadt is left out and said so)
    abb14 = pd.read_csv(res.files["table_mz_oz_by_lage"])
    assert list(abb14.columns[:5]) == ["indicator", "class", "sehr zentral, größere Kleinstadt %",
                                       "sehr zentral, größere Kleinstadt n",
                                       "sehr zentral, größere Kleinstadt residents"]
    tab3 = pd.read_csv(res.files["table_function_type_lage"])
    assert tab3["function"].tolist()[-2:] == ["keine", "total"]
    assert "kleine Kleinstadt peripher %" in tab3.columns
    assert "does not cover Germany" in res.summary
    groups = pd.read_csv(res.files["group_indicators"]).set_index(["grouping", "group"])
    assert groups.loc[("total", "total (this run)"), "n_gvb"] == groups.loc[
        "settlement_type", "n_gvb"].sum() > 50  # every counted GVB has a type
    assert groups.loc[("settlement_type", "Großstadt"), "t_motorway_min_area_w"] < groups.loc[
        ("settlement_type", "Landgemeinde"), "t_motorway_min_area_w"]
    f = pd.read_csv(res.files["table_function_type_lage_counts"])
    assert list(f.columns[:3]) == ["settlement_type", "lage", "Oberzentrum n"]
    # both tables count the same GVBs: those of the region with residents
    n_gvb = gvb.loc[gvb["population"] > 0, "gvb"].isin(reg["gvb"]).sum()
    total = f.set_index(["settlement_type", "lage"]).loc[("total", "total"), "total n"]
    assert total == t.set_index(["indicator", "class"]).loc[("MZ", "total"), "total n"]
    assert 0 < total <= n_gvb
    # issue 12 in a run: every routed municipality of the region has a motorway time,
    # Braunschweig's under 10 minutes; indicators.csv per level
    routed = reg[reg["on_network"]]
    assert routed["t_motorway_min"].notna().all()
    assert routed.set_index("ags").loc["03101000", "t_motorway_min"] < 10
    ind = pd.read_csv(res.files["indicators"], dtype={"key": str})
    assert set(ind["level"]) == {"gvb", "kreis", "land", "total"}
    assert "t_motorway_min_area_w" in ind.columns


def test_cli_run_errors_are_clear(tmp_path, capsys):
    assert main(["-q", "run", "--output", str(tmp_path), "--osm", str(tmp_path / "missing.osm.pbf")]) == 2
    assert "input files not found" in capsys.readouterr().err
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[inputs]\nosmm = 'x.pbf'\n")
    assert main(["-q", "run", "--config", str(cfg), "--output", str(tmp_path)]) == 2
    assert "osmm" in capsys.readouterr().err


@pytest.mark.parametrize("cmd", ["calibrate", "calibrate-lage"])
def test_help_calibrate(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([cmd, "--help"])
    assert e.value.code == 0


def test_cli_calibrate_lage_hits_target(tmp_path, capsys):
    assert main(["-q", "calibrate-lage", "--output", str(tmp_path), "--target", "150000"]) == 0
    text = capsys.readouterr().out
    assert "beta =" in text and "150,000" in text


def test_cli_calibrate_writes_profile(tmp_path, capsys):
    ref = tmp_path / "ref.csv"
    ref.write_text("origin_ags,destination,minutes\n03241001,03101000,45\n"
                   "03158037,nearest OZ,14\n03101000,03241001,44\n03254021,03101000,40\n")
    prof = tmp_path / "cal.toml"
    assert main(["-q", "calibrate", str(ref), "--output", str(tmp_path), "--out-profile", str(prof)]) == 0
    text = capsys.readouterr().out
    assert "before" in text and "after" in text and prof.is_file()
    from accessibility.profile import load_profile
    assert load_profile(prof).class_factors
    # the profile exists now: a second calibration refuses to replace it, before any
    # work (the file keeps its bytes), unless --force
    before = prof.read_bytes()
    prof.write_bytes(before + b"# the planner's note\n")
    argv = ["-q", "calibrate", str(ref), "--output", str(tmp_path), "--out-profile", str(prof)]
    assert main(argv) == 2
    assert "exists and is not replaced" in capsys.readouterr().err
    assert prof.read_bytes().endswith(b"# the planner's note\n")
    assert main([*argv, "--force"]) == 0
    assert prof.read_bytes() == before


def test_sample_run_has_lage_columns(tmp_path):
    res = run(output_dir=tmp_path)
    m = res.municipalities
    for col in ("daytime_population", "daytime_population_source", "potential_2h", "lage",
                "settlement_type", "settlement_type_detail", "edge_flag"):
        assert col in m.columns, col
    assert (tmp_path / "map_lage.png").is_file() and (tmp_path / "gvb_lage.csv").is_file()
    assert "Lage by settlement type" in res.summary
    assert m.set_index("ags").loc["03101000", "settlement_type"] == "Großstadt"


def test_failed_run_keeps_previous_results_and_removes_stale(tmp_path):
    res = run(output_dir=tmp_path)
    before = (tmp_path / "municipalities.csv").read_bytes()
    # files the user keeps in the output folder, named like outputs: never touched
    (tmp_path / "walk_notes.csv").write_text("x\n")
    (tmp_path / "municipalities.xlsx").write_text("mine\n")
    bad = tmp_path / "fac.csv"
    bad.write_text("service,lon,lat\nbakery,8.7,50.0\n")
    with pytest.raises(Exception, match="unknown service types"):
        run(output_dir=tmp_path, overrides={"inputs.facilities": str(bad)})
    assert (tmp_path / "municipalities.csv").read_bytes() == before  # untouched
    assert not list(tmp_path.glob(".run-*"))
    run(output_dir=tmp_path, overrides={"output.maps": False})
    assert (tmp_path / "walk_notes.csv").read_text() == "x\n"
    assert (tmp_path / "municipalities.xlsx").read_text() == "mine\n"
    # the maps the first run wrote are gone: this run made none, none are left over
    assert not list(tmp_path.glob("map_*.png"))
    assert res.output_dir == tmp_path


def test_missing_inputs_fail_before_anything_runs(tmp_path):
    with pytest.raises(Exception, match="input files not found"):
        run(output_dir=tmp_path, overrides={"inputs.gtfs": str(tmp_path / "none.zip")})
    assert not list(tmp_path.iterdir())


def test_register_without_population_and_gvb(tmp_path):
    import pandas as pd
    from accessibility.pipeline import sample_dir

    reg = pd.read_csv(sample_dir() / "gemeinden.csv", dtype=str)
    p = tmp_path / "g.csv"
    reg.drop(columns=["bevoelkerung", "gvb_ars9", "gvb_name", "ars"]).to_csv(p, index=False)
    res = run(output_dir=tmp_path / "o", overrides={"inputs.municipalities": str(p),
                                                    "output.maps": False})
    assert "no population" in res.summary and "Lage" in res.summary
    assert "skipped: the municipality table has no population" in res.summary
    assert "count as their own Gemeindeverband" in res.summary
    m = res.municipalities
    assert (m["gvb"] == m["ags"]).all() and m["t_oz_min"].notna().sum() > 150


def test_a_killed_run_leaves_results_untouched_and_its_stage_is_cleaned(tmp_path):
    """Kill a run (SIGKILL, no cleanup runs) in the middle: the previous results stay
    as they were, and the next run removes the dead run's staging folder."""
    import signal
    import subprocess
    import sys
    import time

    run(output_dir=tmp_path, overrides={"output.maps": False})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    code = ("import sys, accessibility.pipeline as p\n"
            "import accessibility.models.lage as lage\n"
            "real = lage.run_lage\n"
            "def slow(*a, **k):\n"
            "    open(sys.argv[2], 'w').close()\n"
            "    import time; time.sleep(3600)\n"
            "import accessibility.api.car as car; car.run_lage = slow\n"
            "p.run(output_dir=sys.argv[1], overrides={'output.maps': False})\n")
    flag = tmp_path.parent / f"{tmp_path.name}-started"
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path), str(flag)])
    # up to 10 minutes: a cold numba cache compiles the kernels first (on a loaded
    # machine that alone can take minutes); a run that dies early ends the wait
    for _ in range(6000):
        if flag.exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    if not flag.exists():
        proc.kill()
    assert flag.exists(), f"the run did not reach the Lage stage (exit code {proc.poll()})"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stages = list(tmp_path.glob(".run-*"))
    assert stages  # killed: its staging folder is left behind, hidden
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # nothing of the killed run was published, nothing mixed
    run(output_dir=tmp_path, overrides={"output.maps": False})
    assert not list(tmp_path.glob(".run-*"))


def test_flags_without_config_use_the_defaults_not_the_sample(tmp_path):
    """A planner's own inputs as flags: nothing of the embedded sample applies (its
    5 km snapping, 30 km/h access legs, Dreieich walk extract, sample grid)."""
    out = tmp_path / "o"
    code = main(["run", "--osm", str(shared("osm", "hannover-braunschweig-main-roads.osm.pbf")),
                 "--municipalities", str(shared("municipalities", "gemeinden_2019_destatis.csv")),
                 "--central-places", str(shared("central_places", "zentrale_orte_2024.csv")),
                 "--output", str(out)])
    assert code == 0
    summary = (out / "summary.md").read_text()
    assert "snapped within 2,000 m" in summary  # the default, not the sample's 5,000 m
    assert "dreieich" not in summary.lower()
    assert "Nahversorgung" in summary and "skipped" in summary  # no grid, no polygons given


def test_exit_codes_and_one_line_errors(tmp_path, capsys):
    """Bad settings fail before the graph is built (exit 2, one line); a file where the
    output folder should be is exit 1 with a line, never a traceback."""
    osm = str(shared("osm", "herrenberg-minimal.osm.pbf"))
    for key, value, words in (("metric_crs", '"EPSG:4326"', "not a projected CRS"),
                              ("metric_crs", '"EPSG:99999"', "not a known CRS"),
                              ("access_speed_kmh", "1e-9", "plausible range")):
        cfg = tmp_path / f"{key}.toml"
        cfg.write_text(f'[inputs]\nosm = "{osm}"\n[graph]\n{key} = {value}\n')
        assert main(["-q", "run", "--config", str(cfg), "--output", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    cfg = tmp_path / "formats.toml"
    cfg.write_text(f'[inputs]\nosm = "{osm}"\n[output]\nformats = []\n')
    assert main(["-q", "run", "--config", str(cfg)]) == 2
    assert "formats is empty" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    assert main(["-q", "run", "--osm", osm, "--models", "lage", "--output", str(blocker)]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "Traceback" not in err
    assert blocker.read_text() == "mine"


def test_corrupt_cache_is_rebuilt(tmp_path, caplog):
    from accessibility.graph import build_graph

    osm = shared("osm", "herrenberg-minimal.osm.pbf")
    g = build_graph(osm, cache_dir=tmp_path)
    cached = next(tmp_path.glob("*.npz"))
    cached.write_bytes(cached.read_bytes()[:1000])  # truncated
    g2 = build_graph(osm, cache_dir=tmp_path)
    assert g2.n_edges == g.n_edges
    assert "building it again" in caplog.text
    assert build_graph(osm, cache_dir=tmp_path).n_edges == g.n_edges  # the cache works again


def test_wrong_data_is_an_error_not_zeros(tmp_path):
    """Inputs that would silently give 0 residents, 0 % stop share or a 'converged'
    calibration are clear errors."""
    import pandas as pd
    from pyproj import Transformer

    from accessibility._errors import InputError
    from accessibility.io import read_facilities, read_population_grid, read_reference_times

    g = pd.read_parquet(shared("population", "zensus2022_1km_einwohner.parquet")).head(2000)
    x, y = Transformer.from_crs(3035, 25832, always_xy=True).transform(g["x"], g["y"])
    pd.DataFrame({"x": x, "y": y, "Einwohner": g["Einwohner"]}).to_parquet(tmp_path / "utm.pq")
    pd.DataFrame({"x": g["y"], "y": g["x"], "Einwohner": g["Einwohner"]}).to_parquet(
        tmp_path / "swap.pq")
    with pytest.raises(InputError, match="outside Germany.*EPSG:3035"):
        read_population_grid(tmp_path / "utm.pq", bbox=(8.6, 49.3, 8.9, 49.5))
    with pytest.raises(InputError, match="swapped"):
        read_population_grid(tmp_path / "swap.pq", bbox=(8.6, 49.3, 8.9, 49.5))
    with pytest.raises(InputError, match="no inhabited cell in the area"):  # right CRS, elsewhere
        read_population_grid(shared("population", "zensus2022_1km_einwohner.parquet"),
                             bbox=(2.0, 45.0, 2.1, 45.1))
    f = tmp_path / "fac.csv"
    f.write_text("service,lon,lat\npharmacy,50.01,8.70\n")
    with pytest.raises(InputError, match="swapped"):
        read_facilities(f)
    r = tmp_path / "ref.csv"
    r.write_text("origin_ags,destination,minutes\n03101000,nearest OZ,1e9\n")
    with pytest.raises(InputError, match="seconds given"):
        read_reference_times(r)


def test_gtfs_of_another_region_is_an_error(tmp_path, capsys, monkeypatch):
    import accessibility.pipeline.stages as stages
    from accessibility.pipeline import sample_dir

    def no_routing(*a, **k):  # the check must come before any model runs
        raise AssertionError("a model ran before the walk inputs were checked")

    monkeypatch.setattr(stages, "central_places_stage", no_routing)
    monkeypatch.setattr(stages, "lage_stage", no_routing)

    d = sample_dir()
    cfg = tmp_path / "c.toml"
    # the VRN feed (Heidelberg/Mannheim) with the Dreieich walk extract: no stop inside
    cfg.write_text(f'[inputs]\nosm = "{d / "hannover-braunschweig-main-roads.osm.pbf"}"\n'
                   f'municipalities = "{d / "gemeinden.csv"}"\n'
                   f'central_places = "{d / "zentrale_orte.csv"}"\n'
                   f'population_grid = "{d / "zensus2022_1km_sample.parquet"}"\n'
                   f'walk_osm = "{d / "dreieich.osm.gz"}"\n'
                   f'gtfs = "{shared("gtfs", "vrn-rhein-neckar-cut.gtfs.zip")}"\n'
                   '[graph]\nmax_snap_m = 5000.0\n[output]\nmaps = false\n')
    assert main(["-q", "run", "--config", str(cfg), "--output", str(tmp_path / "o")]) == 2
    assert "has no stop with >= 20 departures on 2022-10-18 inside the walk extract" in \
        capsys.readouterr().err


def test_all_input_problems_reported_together_before_the_graph(tmp_path, capsys):
    cp = tmp_path / "zo.csv"
    cp.write_text("ags,zo_funktion\n03101000,Hauptstadt\n")
    pend = tmp_path / "pendler.csv"
    pend.write_text("ags,foo\n03101000,1\n")
    out = tmp_path / "o"
    code = main(["-q", "run", "--osm", str(shared("osm", "hannover-braunschweig-main-roads.osm.pbf")),
                 "--municipalities", str(shared("municipalities", "gemeinden_2019_destatis.csv")),
                 "--central-places", str(cp), "--commuters", str(pend), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "2 problem(s) with the inputs" in err
    assert "Hauptstadt" in err and "pendler.csv" in err
    assert not list(out.rglob("*.npz"))  # no graph was built


def test_version_quiet_no_maps_and_models(tmp_path, capsys):
    from accessibility import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and __version__ in capsys.readouterr().out
    out = tmp_path / "o"
    assert main(["-q", "run", "--output", str(out), "--no-maps", "--models",
                 "central_places"]) == 0
    assert capsys.readouterr().out == ""  # -q: no summary
    assert not list(out.glob("map_*.png"))
    assert (out / "gvb.csv").is_file() and not (out / "gvb_lage.csv").exists()
    assert not (out / "walk_cells.parquet").exists()
    summary = (out / "summary.md").read_text()
    assert "Central places" in summary and "Lage:" not in summary
    assert main(["-q", "run", "--output", str(out), "--models", "teleport"]) == 2
    assert "models must be some of" in capsys.readouterr().err


def test_run_uses_max_snap_m(tmp_path):
    """``[graph] max_snap_m`` decides who is routed: at 1 km every municipality
    farther from the network is off it, with no time and a reason (a central place
    still gets its 0 minutes), and everyone nearer is on it (in the sample, about a
    fifth of the points lie beyond 1 km, 8 beyond the default 5 km)."""
    run(output_dir=tmp_path, overrides={"output.maps": False, "graph.max_snap_m": 1000.0,
                                        "output.models": ["central_places"]})
    m = pd.read_parquet(tmp_path / "municipalities.parquet")
    snap = m["snap_m"].to_numpy(float)
    assert np.isfinite(snap).all()
    off = ~m["on_network"].to_numpy(bool)
    np.testing.assert_array_equal(off, snap > 1000.0)
    assert 20 <= off.sum() <= len(m) - 20
    central = m["central_place"].isin(["Mittelzentrum", "Oberzentrum"]).to_numpy()
    assert m["t_mz_min"][off & ~central].isna().all()
    assert m["reason"][off & ~central].notna().all()
    assert (m["t_mz_min"][off & central] == 0).all()
    assert m["t_mz_min"][~off].notna().mean() > 0.9


def test_csv_keeps_the_ags_as_documented(tmp_path):
    import pandas as pd

    res = run(output_dir=tmp_path, overrides={"output.maps": False})
    keys = {c: str for c in ("ags", "gvb", "kreis", "land", "nearest_mz_ags", "nearest_oz_ags")}
    m = pd.read_csv(tmp_path / "municipalities.csv", dtype=keys)  # as docs/outputs.md says
    assert m["ags"].str.len().eq(8).all() and m["ags"].str.startswith("0").any()
    types = (tmp_path / "municipalities.csvt").read_text().strip().split(",")
    header = (tmp_path / "municipalities.csv").read_text().splitlines()[0].split(",")
    assert len(types) == len(header)
    assert types[header.index('"ags"')] == '"String"'
    assert types[header.index('"t_oz_min"')] == '"Real"'
    assert (tmp_path / "municipalities.csvt") in set(res.files.values())  # published


def test_maps_as_pdf(tmp_path):
    res = run(output_dir=tmp_path, overrides={"output.map_format": "pdf",
                                              "output.models": ["central_places"]})
    pdfs = sorted(p.name for p in tmp_path.glob("map_*.pdf"))
    # each in the run's language and in English for the hand-in document
    assert pdfs == sorted(f"map_{m}{tag}.pdf" for m in ("mz_catchments", "oz_class", "oz_time",
                                                        "standards") for tag in ("", ".en"))
    assert not list(tmp_path.glob("map_*.png")) and (tmp_path / "map.html").is_file()
    assert all((tmp_path / p).read_bytes().startswith(b"%PDF") for p in pdfs)
    assert {p.name for p in res.files.values()} >= set(pdfs)


def test_lage_cross_table_keeps_its_row_labels(tmp_path):
    import pandas as pd

    run(output_dir=tmp_path, overrides={"output.maps": False})
    t = pd.read_csv(tmp_path / "lage_by_settlement_type.csv")
    assert t.columns[0] == "lage"
    assert t["lage"].tolist()[:4] == ["sehr zentral", "zentral", "peripher", "sehr peripher"]
    assert t["lage"].iloc[-1] == "total"
    assert t.loc[t["lage"] == "total", "total n"].item() == t.loc[t["lage"] != "total",
                                                                   "total n"].sum()


def test_means_without_any_value_say_so(tmp_path):
    """North of Bayreuth: no Oberzentrum inside the extract. The summary says 'no value',
    not 'nan', and the OZ edge flag tells that one may lie beyond."""
    import pandas as pd

    res = run(output_dir=tmp_path, overrides={
        "inputs.osm": str(shared("osm", "north-bayreuth.osm.gz")),
        "inputs.municipalities": str(shared("municipalities", "gemeinden_2019_destatis.csv")),
        "inputs.central_places": str(shared("central_places", "zentrale_orte_2024.csv")),
        "output.maps": False})
    assert "OZ no value" in res.summary and "nan" not in res.summary.split("## Lage")[0]
    m = pd.read_csv(tmp_path / "municipalities.csv", dtype={"ags": str})
    routed = m[m["on_network"]]
    assert len(routed) >= 5 and routed["t_oz_min"].isna().all()
    assert routed["oz_edge_flag"].all()  # Bayreuth, an OZ, lies just south of the extract


def test_lage_alone_still_uses_the_central_place_function(tmp_path):
    """--models lage with a central-place input: settlement types use the functions
    (an MZ makes a GVB under 5,000 inhabitants a Kleinstadt), as in a full run."""
    import pandas as pd

    from accessibility.pipeline import sample_dir

    reg = pd.read_csv(sample_dir() / "gemeinden.csv", dtype=str)
    reg["bevoelkerung"] = reg["bevoelkerung"].astype(int)
    single = reg.groupby("gvb_ars9")["ags"].transform("size") == 1
    small = reg[single & reg["bevoelkerung"].between(1, 4999)].iloc[0]  # populated
    zo = pd.read_csv(sample_dir() / "zentrale_orte.csv", dtype=str)
    zo.loc[zo["ags"] == small["ags"], "zo_funktion"] = "Mittelzentrum"
    zo.to_csv(tmp_path / "zo.csv", index=False)
    o = {"inputs.central_places": str(tmp_path / "zo.csv"), "output.maps": False}
    full = run(output_dir=tmp_path / "a", overrides=o).municipalities.set_index("ags")
    lage = run(output_dir=tmp_path / "b", overrides={**o, "output.models": ["lage"]}
               ).municipalities.set_index("ags")
    assert full.loc[small["ags"], "settlement_type"] == "Kleinstadt"  # the MZ rule
    assert lage.loc[small["ags"], "settlement_type"] == "Kleinstadt"
    assert (full["settlement_type"].fillna("") ==
            lage["settlement_type"].reindex(full.index).fillna("")).all()


def test_a_copied_example_config_says_where_the_sample_files_are(tmp_path, capsys):
    from accessibility.pipeline.inputs import sample_config_path, sample_dir

    cfg = tmp_path / "my.toml"
    cfg.write_text(sample_config_path().read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["run", "--config", str(cfg), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "input files not found" in err and str(sample_dir()) in err
    assert not (tmp_path / "out").exists()  # nothing ran


# ------------------------------------------------------------------ the graph cache
def test_the_graph_cache_is_shared_by_output_folders(tmp_path, graph_cache, monkeypatch,
                                                     capsys):
    """The graph is cached in one folder for every output folder (here the test's
    $ACCESSIBILITY_CACHE_DIR): a run into a new folder does not parse OSM, and no
    output folder gets a cache of its own; --cache-dir moves it."""
    import accessibility.graph as graph_mod

    argv = ["-q", "run", "--no-maps", "--models", "central_places"]
    assert main([*argv, "--output", str(tmp_path / "a")]) == 0
    assert len(list(graph_cache.glob("*.npz"))) == 1
    assert not (tmp_path / "a" / "cache").exists()

    def no_parse(*a, **k):
        raise AssertionError("OSM parsed again")

    with monkeypatch.context() as m:
        m.setattr(graph_mod, "graph_from_osm", no_parse)
        assert main([*argv, "--output", str(tmp_path / "b")]) == 0  # a new folder
        # another cache: a build (here the planted error)
        assert main([*argv, "--output", str(tmp_path / "c"), "--cache-dir",
                     str(tmp_path / "mine")]) != 0
        assert "OSM parsed again" in capsys.readouterr().err
    assert main([*argv, "--output", str(tmp_path / "c"), "--cache-dir", str(tmp_path / "mine")]) == 0
    assert len(list((tmp_path / "mine").glob("*.npz"))) == 1
    a, b = (pd.read_csv(tmp_path / d / "municipalities.csv") for d in "ab")
    pd.testing.assert_frame_equal(a, b)


def test_the_cache_folder_is_decided_in_one_place(tmp_path, monkeypatch):
    """[graph] cache_dir, else $ACCESSIBILITY_CACHE_DIR, else the user's cache directory."""
    import platformdirs

    from accessibility.config import GraphConfig
    from accessibility.pipeline.inputs import load_config_of_run

    monkeypatch.setenv("ACCESSIBILITY_CACHE_DIR", str(tmp_path / "env"))
    assert GraphConfig().cache_path() == tmp_path / "env"
    assert GraphConfig(cache_dir=tmp_path / "cfg").cache_path() == tmp_path / "cfg"
    assert load_config_of_run(None, None).graph.cache_dir == tmp_path / "env"
    monkeypatch.delenv("ACCESSIBILITY_CACHE_DIR")
    assert GraphConfig().cache_path() == Path(platformdirs.user_cache_dir("accessibility"))


# ------------------------------------------------------------------ no cluster for bad inputs
def test_bad_inputs_fail_before_a_dask_cluster_starts(tmp_path, monkeypatch, capsys):
    """`run --dask 2` and a scenario batch with `--dask 2`: a missing input file and an
    input that does not parse are reported (exit 2) before any cluster starts (a local
    cluster takes seconds; the executor factory raises here if it is called)."""
    from accessibility import compute

    def no_cluster(*a, **k):
        raise AssertionError("a cluster was started")

    monkeypatch.setattr(compute, "open_executor", no_cluster)
    bad = tmp_path / "central_places.csv"
    bad.write_text("not,a,central,places,table\n1,2,3,4,5\n", encoding="utf-8")
    scs = []
    for name in ("a", "b"):
        scs.append(tmp_path / f"{name}.toml")
        scs[-1].write_text(f'name = "{name}"\n[population]\n"03151024" = 5\n', encoding="utf-8")
    for argv in (["run", "--dask", "2", "--output", str(tmp_path / "o")],
                 ["scenario", *map(str, scs), "--dask", "2", "--output", str(tmp_path / "s")]):
        for flags, message in ((["--central-places", str(tmp_path / "missing.csv")],
                                "input files not found"),
                               (["--central-places", str(bad)], "central_places.csv")):
            assert main(["-q", *argv, *flags]) == 2, (argv, flags)
            err = capsys.readouterr().err
            assert message in err and "cluster was started" not in err, err
