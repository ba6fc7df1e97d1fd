"""Smoke test of the national run benchmark (benchmarks/national.py) on a tiny
synthetic graph and the register of a few Kreise."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import national

from .conftest import shared


def test_national_bench_small(tmp_path, capsys):
    shared("municipalities", "gemeinden_2019_destatis.csv")
    shared("central_places", "zentrale_orte_2024.csv")
    out = tmp_path / "bench"
    res = national.main(["-q", "--nodes", "20000", "--ags-prefix", "031", "--no-boundaries",
                         "--out", str(out),
                         "--in-process", "--json", str(tmp_path / "r.json")])
    table = capsys.readouterr().out
    assert "SYNTHETIC" in table
    assert res["graph"]["synthetic"] is True and res["graph"]["n_nodes"] == 20000
    assert 100 < res["n_municipalities"] < 300  # Regierungsbezirk Braunschweig only
    for kind in ("cold", "warm"):
        run = res["runs"][kind]
        assert "error" not in run, run.get("traceback")
        assert not [m for m in run["missing_hooks"] if m["stage"]]
        names = {r["name"] for r in run["stages"]}
        for label, *_ in national.STAGES:  # every stage timed, and in the table
            assert label in names, (kind, label)
            assert label in table
            r = next(s for s in run["stages"] if s["name"] == label)
            assert r["s"] >= 0 and r["peak_mb"] > 0
        assert run["total_s"] > 0 and run["peak_mb"] > 0
        assert np.isfinite(run["other_s"])  # what no stage covers (times are not checked)
        # the run wrote its outputs
        files = {Path(f).name for f in run["files"].values()}
        for f in ("summary.md", "municipalities.gpkg", "municipalities.csv", "gvb.csv",
                  "map_lage.png", "map_oz_time.png", "map.html"):
            assert f in files, (kind, f)
            assert (Path(run["output_dir"]) / f).is_file()
        checks = run["checks"]
        assert checks["maps"] and not any(m["blank"] for m in checks["maps"])
        assert checks["no_value_share"]["t_oz_min"] < 0.5
        lc = run["lage_calibrated"]
        assert lc["s"] > 0 and abs(lc["achieved_mean"] - lc["target_mean"]) < 1.0
    assert res["runs"]["cold"]["ch_built"] and not res["runs"]["warm"]["ch_built"]
    assert res["runs"]["cold"]["lage_calibrated"]["ch_build_s"] is not None
    assert res["runs"]["warm"]["lage_calibrated"]["ch_build_s"] is None  # cached
    assert "TOTAL pipeline.run" in table and national.LAGE_CAL in table
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["runs"]["warm"]["stages"]


def test_national_bench_never_reuses_a_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    new = national.new_work_dir(str(tmp_path))
    assert new != tmp_path and new.parent == tmp_path and not any(new.iterdir())
    assert (tmp_path / "mine.txt").read_text() == "keep"
    fresh = national.new_work_dir(str(tmp_path / "a" / "b"))
    assert fresh == tmp_path / "a" / "b" and fresh.is_dir()


def test_whole_national_run_adds_the_measured_parts():
    """benchmarks.national_whole: time is the sum of the stages, peak the largest;
    the OSM features and a walk model below 3 M cells are extrapolated linearly."""
    from benchmarks.national_whole import GRAPH_BUILD, MEMBER_WAYS_READ, whole_run

    car = {"runs": {"cold": {"total_s": 80.0, "peak_mb": 3500.0,
                             "lage_calibrated": {"s": 40.0, "peak_mb": 3300.0}}}}
    # 20 CPU s / 300 MB at 50,000 cells, 30 s / 400 MB at 300,000: at 3 M, 138 s / 1,480 MB
    walk = [{"variant": "local", "cells": c, "seconds": 9.0, "cpu_s": s, "peak_rss_mb": mb,
             "load_start": 1.0, "load_end": 2.0}
            for c, s, mb in ((300_000, 30.0, 400.0), (50_000, 20.0, 300.0))]

    def feat(nodes, s, mb):
        return {"nodes": nodes, "rows": [{"reader": "extract_features_no_buildings",
                                          "two_pass": True, "seconds": 1.0, "cpu_s": s,
                                          "peak_rss_mb": mb}]}

    # 10 s / 1,000 MB at 5 M nodes, 20 s / 1,500 MB at 10 M: at 440 M, 880 s / 44,500 MB
    out = whole_run(car, walk, feat(5e6, 10.0, 1000.0), feat(10e6, 20.0, 1500.0))
    osm = next(r for r in out["rows"] if r["stage"].startswith("OSM"))
    assert osm["s"] == pytest.approx(880.0) and osm["peak_mb"] == pytest.approx(44_500.0)
    wk = next(r for r in out["rows"] if r["stage"].startswith("walk"))
    assert wk["s"] == pytest.approx(138.0) and wk["peak_mb"] == pytest.approx(1480.0)
    assert out["total_s"] == pytest.approx(80 + 40 + 138 + 880 + MEMBER_WAYS_READ["s"]
                                           + GRAPH_BUILD["s"])
    assert out["peak_mb"] == pytest.approx(44_500.0)
    assert "not met" in out["markdown"] and "part A" in out["markdown"]
