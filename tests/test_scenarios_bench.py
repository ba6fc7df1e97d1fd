"""Smoke test of benchmarks/scenarios.py (issue 28) on a tiny synthetic graph and the
register of one Regierungsbezirk: the incremental scenarios (designation and
roads) equal their full recomputes and the 60-minute matrix equals scipy's times on the sampled origins."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import scenarios

from .conftest import shared


def test_scenarios_bench_small(tmp_path, capsys):
    shared("municipalities", "gemeinden_2019_destatis.csv")
    shared("central_places", "zentrale_orte_2024.csv")
    res = scenarios.main(["--nodes", "20000", "--ags-prefix", "031", "--cache",
                          str(tmp_path), "--out", str(tmp_path / "w"), "--batch", "3",
                          "--no-dask", "--iso-sample", "1", "--scipy-sample", "20"])
    table = capsys.readouterr().out
    assert res["one"]["identical"] is True
    assert res["one"]["memo"].get("lage potential reused") == 1
    assert res["one"]["municipalities_gaining"] >= 1
    m = res["matrix"]
    assert m["same_pairs_as_scipy"] is True and m["max_abs_diff_min"] < 1e-3
    iso = res["isochrones"]
    assert iso["centres_sampled"] == 1 and iso["same_n_nodes"] is True
    assert iso["grid_vs_network_iou_min"] > 0.8
    assert "60-minute matrix" in table and "ten scenarios in process" in table
    # the road scenarios: incremental agrees with the full recompute
    assert [o["agree"] for o in res["roads"]] == [True, True] and "road scenario (" in table
    assert res["roads"][0]["memo"]["nearest repaired"] >= 2
