"""Smoke test of benchmarks/isochrones.py (issue 28) on a tiny synthetic graph and the
register of one Regierungsbezirk: the fast field equals the frozen one, the nodes
counted equal scipy's and the areas the old driver's."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import isochrones

from .conftest import shared


def test_isochrones_bench_small(tmp_path, capsys):
    shared("municipalities", "gemeinden_2019_destatis.csv")
    shared("central_places", "zentrale_orte_2024.csv")
    res = isochrones.main(["--nodes", "20000", "--ags-prefix", "031", "--cache",
                           str(tmp_path), "--out", str(tmp_path / "w"), "--sample", "3"])
    table = capsys.readouterr().out
    s = res["sample"]
    assert s["centres"] == 3 and s["fields_identical"] is True
    assert s["n_nodes_as_scipy"] is True and s["max_rel_area_diff"] < 1e-9
    assert res["all"]["rows"] == 3 * res["all"]["centres"] > 0
    assert "CPU per centre" in table
