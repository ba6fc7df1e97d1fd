"""benchmarks/national_e2e.py: one measured national run at two sizes, extrapolated."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import national_e2e as e2e

from .conftest import shared


def _size(nodes, stages):
    """A size's result with cold stages (name, s, cpu_s, peak_mb, fixed_s, fixed_cpu_s)."""
    rows = [{"name": n, "level": 0, "s": s, "cpu_s": c, "peak_mb": pk, "fixed_s": fs,
             "fixed_cpu_s": fc} for n, s, c, pk, fs, fc in stages]
    rows.append({"name": "lage: CH build", "level": 1, "s": 99.0, "cpu_s": 99.0,
                 "peak_mb": 1.0})  # a sub-step: never a row of its own
    return {"nodes": nodes, "runs": {"cold": {"stages": rows}}}


def test_extrapolation_arithmetic_on_hand_made_numbers():
    graph, walk, lage = ("graph (cold: build from the PBF; warm: cache)",
                         "walk model (Nahversorgung)", "lage (calibrated) + settlement types")
    a = _size(10e6, [(graph, 10.0, 8.0, 1000.0, 0.0, 0.0), (walk, 50.0, 40.0, 1500.0, 0, 0),
                     (lage, 30.0, 25.0, 900.0, 20.0, 18.0)])
    b = _size(20e6, [(graph, 20.0, 16.0, 1200.0, 0.0, 0.0), (walk, 60.0, 45.0, 1400.0, 0, 0),
                     (lage, 29.0, 26.0, 800.0, 21.0, 17.0)])
    ex = e2e.extrapolate(b, a, nodes=100e6)  # the order of the sizes does not matter
    rows = {r["stage"]: r for r in ex["rows"]}
    assert set(rows) == {graph, walk, lage}
    # graph: 1 s and 0.8 CPU s and 20 MB per M nodes: 20 + 80 = 100 s, 16 + 64 = 80, 1,200 + 1,600
    g = rows[graph]
    assert g["s"] == pytest.approx(100.0) and g["cpu_s"] == pytest.approx(80.0)
    assert g["peak_mb"] == pytest.approx(2800.0) and g["s_per_M_nodes"] == pytest.approx(1.0)
    assert g["s_measured"] == [10.0, 20.0]
    # the walk is on fixed cells: the larger size's numbers, never a line
    assert (rows[walk]["s"], rows[walk]["cpu_s"], rows[walk]["peak_mb"]) == (60.0, 45.0, 1400.0)
    # lage: its maps (20 -> 21 s) are fixed; the rest 10 -> 8 s falls (noise): flat;
    # CPU without maps 7 -> 9 s: 0.2 per M nodes, 26 + 0.2 * 80 = 42; the peak falls: flat
    lg = rows[lage]
    assert lg["s"] == pytest.approx(29.0) and lg["s_per_M_nodes"] == 0.0
    assert lg["cpu_s"] == pytest.approx(42.0) and lg["peak_mb"] == pytest.approx(800.0)
    assert ex["total_s"] == pytest.approx(100.0 + 60.0 + 29.0)
    assert ex["total_cpu_s"] == pytest.approx(80.0 + 45.0 + 42.0)
    assert ex["peak_mb"] == pytest.approx(2800.0) and ex["sizes"] == [10e6, 20e6]
    with pytest.raises(ValueError, match="two different sizes"):
        e2e.extrapolate(a, a)


def test_the_service_tags_are_counted_by_the_service_rules(tmp_path):
    """Each synthetic service node is one facility of its service (services.toml)."""
    from accessibility.io.osm_features import extract_features
    from benchmarks.osm_scale import generate, write_pbf

    lon, lat = np.array([8.0, 9.0]), np.array([50.0, 51.0])
    syn = generate(20_000, seed=3, extra_pois={t: (lon, lat) for t in e2e.SERVICE_TAGS.values()})
    assert syn.n_nodes == 20_000
    write_pbf(syn, tmp_path / "s.osm.pbf")
    feats = extract_features(tmp_path / "s.osm.pbf", buildings=False)
    fac = feats.facilities
    for service in e2e.SERVICE_TAGS:  # the uniform POIs have supermarkets and bus stops too
        of = fac[fac["service"] == service]
        at = np.c_[of.geometry.x.round(6), of.geometry.y.round(6)]
        assert sum((at == [x, y]).all(axis=1).sum() for x, y in zip(lon, lat)) == 2, service


@pytest.mark.slow
def test_national_e2e_tiny_run(tmp_path, capsys):
    shared("municipalities", "gemeinden_2019_destatis.csv")
    shared("central_places", "zentrale_orte_2024.csv")
    shared("municipalities", "vg250_2016.gpkg")
    res = e2e.main(["--nodes", "60000,120000", "--cells", "3000", "--facility-share", "0.01",
                    "--ags-prefix", "031", "--no-warm", "--no-maps",
                    "--workdir", str(tmp_path / "w"),
                    "--json", str(tmp_path / "r.json")])
    table = capsys.readouterr().out
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["extrapolation"]["cold"]["nodes"] == e2e.GERMANY_NODES
    for size in saved["sizes"]:
        run = size["runs"]["cold"]
        assert not [m for m in run["missing_hooks"] if m["stage"]]
        names = {r["name"] for r in run["stages"] if r["level"] == 0}
        for label, *_ in e2e.E2E_STAGES:  # every stage of the pipeline timed
            assert label in names, label
        r = next(s for s in run["stages"] if s["name"] == e2e.E2E_STAGES[1][0])
        assert r["cpu_s"] > 0 and r["peak_mb"] > 0
        assert run["checks"]["walk_residents"] > 0  # the walk model found services
        assert run["graph"]["nodes"] > 0
    rows = {r["stage"] for r in res["extrapolation"]["cold"]["rows"]}
    assert {label for label, *_ in e2e.E2E_STAGES} <= rows
    assert "Germany (440 M nodes)" in table and "extrapolated" in table
