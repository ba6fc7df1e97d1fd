"""Smoke test of the national run benchmark (benchmarks/national.py) on a tiny
synthetic graph and the register of a few Kreise."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

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
