"""[compute]: the Lage in origin chunks and the walkability model in tiles, in this
process and on a Dask LocalCluster of 2 workers, give the untiled results exactly."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from accessibility import compute
from accessibility._errors import InputError
from accessibility.api import attach, walk_distances
from accessibility.compute import LocalExecutor, open_executor
from accessibility.config import ComputeConfig, load_config
from accessibility.graph import build_graph
from accessibility.models.lage import daytime_population, lage_potential
from accessibility.models.walkability import SERVICES, tile_labels
from accessibility.pipeline import run

from .conftest import shared

distributed = pytest.importorskip("distributed")

TO_LL = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
TO_GRID = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)


@pytest.fixture(scope="module")
def dask_executor():
    with open_executor(ComputeConfig(scheduler="dask", n_workers=2)) as ex:
        yield ex


# ------------------------------------------------------------------ walkability tiles
@pytest.fixture(scope="module")
def bayreuth():
    """The north-Bayreuth walk network, its water barriers and crossings, random
    cells and facilities over it (EPSG:3035)."""
    from accessibility.io.osm_features import extract_features

    path = shared("osm", "north-bayreuth.osm.gz")
    g = build_graph(path, "walk")
    f = extract_features(path)
    water = f.water.to_crs("EPSG:3035").geometry.to_numpy()
    gaps = f.crossings.to_crs("EPSG:3035").geometry.to_numpy()
    gx, gy = TO_GRID.transform(g.lon, g.lat)
    rng = np.random.default_rng(7)
    n = 400
    cells = pd.DataFrame({"x": np.round(rng.uniform(gx.min(), gx.max(), n), -2) + 50,
                          "y": np.round(rng.uniform(gy.min(), gy.max(), n), -2) + 50,
                          "population": rng.integers(1, 50, n).astype(float),
                          "ags": rng.choice(["09472111", "09477222"], n)})
    cells = cells.drop_duplicates(["x", "y"]).reset_index(drop=True)
    m = 150
    flon, flat = TO_LL.transform(rng.uniform(gx.min(), gx.max(), m),
                                 rng.uniform(gy.min(), gy.max(), m))
    fac = pd.DataFrame({"service": rng.choice(SERVICES, m), "lon": flon, "lat": flat})
    return g, water, gaps, cells, fac


def _dist(frame):
    return frame[[c for c in frame.columns if c.startswith("dist_")]]


@pytest.mark.parametrize("tiles", ["square", "kreis"])
def test_tiles_give_the_untiled_distances(bayreuth, tiles):
    g, water, gaps, cells, fac = bayreuth
    kw = dict(walk_graph=g, barriers=water, gaps=gaps, max_distance_m=1500.0,
              max_snap_m=300.0)
    whole = walk_distances(cells, fac, **kw)
    tiled = walk_distances(cells, fac, executor=LocalExecutor(), tiles=tiles,
                           tile_size_m=3000.0, **kw)
    n_tiles = len(np.unique(tile_labels(cells, tiles=tiles, tile_size_m=3000.0)))
    assert n_tiles >= (2 if tiles == "kreis" else 6)
    # the searches reach beyond a tile: without its buffer they would differ
    assert _dist(whole).notna().to_numpy().mean() > 0.3
    pd.testing.assert_frame_equal(_dist(tiled), _dist(whole))
    assert list(tiled.columns) == list(whole.columns)
    assert any(f"{n_tiles} tiles" in line for line in tiled.attrs["report"])


def test_tiles_need_their_buffer(bayreuth, monkeypatch):
    """The guard the buffer is: with none, cells near a tile's edge lose facilities."""
    from accessibility.models import walkability

    g, water, gaps, cells, fac = bayreuth
    kw = dict(walk_graph=g, barriers=water, gaps=gaps, max_distance_m=1500.0,
              max_snap_m=300.0)
    whole = walk_distances(cells, fac, **kw)
    monkeypatch.setattr(walkability, "tile_buffer_m", lambda *a: 0.0)
    cut = walk_distances(cells, fac, executor=LocalExecutor(), tile_size_m=2000.0, **kw)
    assert not _dist(cut).equals(_dist(whole))


def test_tiles_on_dask_workers(bayreuth, dask_executor):
    g, water, gaps, cells, fac = bayreuth
    kw = dict(walk_graph=g, barriers=water, gaps=gaps, max_distance_m=1500.0,
              max_snap_m=300.0)
    whole = walk_distances(cells, fac, **kw)
    tiled = walk_distances(cells, fac, executor=dask_executor, tile_size_m=3000.0, **kw)
    pd.testing.assert_frame_equal(_dist(tiled), _dist(whole))
    assert any("Dask scheduler" in line for line in tiled.attrs["report"])


# ------------------------------------------------------------------ Lage origin chunks
@pytest.fixture(scope="module")
def lage_inputs(hb_graph):
    from accessibility.io import read_municipalities

    munis = read_municipalities(shared("municipalities", "gemeinden_2019_destatis.csv"),
                                bbox=(9.23, 51.89, 11.10, 52.84))
    munis = attach(hb_graph, munis, max_snap_m=5000)
    day, _, _ = daytime_population(munis)
    return hb_graph, munis, day


@pytest.mark.parametrize("engine", ["dijkstra", "ch"])
def test_lage_chunks_give_the_whole_potentials(lage_inputs, engine, dask_executor):
    g, munis, day = lage_inputs
    whole = lage_potential(g, munis, day, engine=engine)
    for ex in (LocalExecutor(), dask_executor):
        parts = lage_potential(g, munis, day, engine=engine, executor=ex, chunk=37)
        pd.testing.assert_frame_equal(parts, whole)
    assert whole["edge_flag"].any() and whole["potential_2h"].notna().sum() > 150


# ------------------------------------------------------------------ a whole run
def test_run_on_dask_is_byte_identical_to_local(tmp_path, caplog):
    """The done-when of issue 14: the sample run on a local cluster the engine
    starts writes the same municipality results, byte for byte."""
    local = run(None, output_dir=tmp_path / "local")
    with caplog.at_level(logging.INFO, logger="accessibility.compute"):
        dask = run(None, output_dir=tmp_path / "dask",
                   overrides={"compute.scheduler": "dask", "compute.n_workers": 2,
                              "compute.tile_size_m": 2000.0, "compute.lage_chunk": 20})
    for name in ("municipalities.csv", "municipalities.parquet", "walk_cells.parquet",
                 "gvb.csv", "kreis.csv", "indicators.csv", "gvb_lage.csv"):
        assert (local.output_dir / name).read_bytes() == (dask.output_dir / name).read_bytes(), \
            name
    log = caplog.text
    assert "Lage origin chunks submitted" in log and "walkability tiles submitted" in log
    summary = (dask.output_dir / "summary.md").read_text()
    assert "tiles (square, 2 km" in summary and "Dask scheduler" in summary


# ------------------------------------------------------------------ settings and errors
def test_compute_settings_are_checked(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[compute]\nscheduler = "spark"\n')
    with pytest.raises(InputError, match="scheduler.*'local', 'dask'"):
        load_config(cfg)
    cfg.write_text('[compute]\ntile_size_m = 10\n')
    with pytest.raises(InputError, match="tile_size_m"):
        load_config(cfg)
    assert load_config(None).compute.scheduler == "local"


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(compute, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(InputError, match="no Dask scheduler answers.*dask scheduler"):
        with open_executor(ComputeConfig(scheduler="dask", address="tcp://127.0.0.1:9")):
            pass


@pytest.mark.parametrize("address,match", [
    ("head", "not a scheduler address"), ("http://head:8786", "not a scheduler address"),
    ("tcp://head:port", "not a scheduler address"), ("my.toml", "is a file")])
def test_bad_scheduler_address_is_a_clear_error(address, match):
    """A bare host, a web URL or a config file taken for the address (``scenario
    --dask my.toml a.toml``) is named before any connection is tried."""
    with pytest.raises(InputError, match=match):
        with open_executor(ComputeConfig(scheduler="dask", address=address)):
            pass


def test_chunks_cover_every_index():
    for n, size in [(0, 3), (1, 3), (10, 3), (9, 3), (5, 100)]:
        idx = np.concatenate([np.arange(n)[s] for s in compute.chunks(n, size)] or [[]])
        assert idx.tolist() == list(range(n))


# ------------------------------------------------------------------ scenario batches
def test_a_scenario_batch_on_dask_equals_single_scenarios(tmp_path, dask_executor):
    """Each scenario of a batch is one task; every comparison equals the one
    accessibility.scenario gives alone, in this process."""
    import accessibility as acc
    from accessibility.models.municipalities import mark_region
    from accessibility.pipeline import graph_and_municipalities

    from .test_scenario import RUEHEN, write

    a = write(tmp_path, f'name = "Ruehen MZ"\n[central_places]\n"{RUEHEN}" = "Mittelzentrum"\n',
              "a.toml")
    b = write(tmp_path, 'name = "A39 closed"\n[roads]\nclosed_classes = ["motorway"]\n'
                        'closed_areas = [[[10.45, 52.18], [10.55, 52.18], [10.55, 52.24], '
                        '[10.45, 52.24]]]\n', "b.toml")
    _, g, m, inputs = graph_and_municipalities(None, {"output.maps": False}, "t")
    m = mark_region(g, m)
    batch = acc.scenario_batch(g, m, inputs.central_places, [a, b], executor=dask_executor)
    assert list(batch) == ["Ruehen MZ", "A39 closed"]
    for name, path in (("Ruehen MZ", a), ("A39 closed", b)):
        alone = acc.scenario(g, m, inputs.central_places, path)
        pd.testing.assert_frame_equal(batch[name].table, alone.table)
        assert batch[name].road_changes == alone.road_changes and alone.name == name
    assert batch["A39 closed"].road_changes["edges_closed"] > 0
    assert batch["Ruehen MZ"].road_changes == {}  # a designation changes no road
    assert (batch["A39 closed"].table["t_oz_min_change"] > 0.01).sum() >= 10
    with pytest.raises(InputError, match="scenario names repeat"):
        acc.scenario_batch(g, m, inputs.central_places, [a, a])


# ------------------------------------------------------------------ Lage calibration
def test_a_calibrated_ch_run_builds_one_hierarchy(tmp_path, monkeypatch):
    """[lage] calibrate with engine = "ch": the decay is fitted on one table of the
    hierarchy and the potentials use the same hierarchy (built once)."""
    from accessibility.routing import ContractionHierarchy

    builds = []
    real = ContractionHierarchy.build.__func__
    monkeypatch.setattr(ContractionHierarchy, "build",
                        classmethod(lambda cls, *a, **k: builds.append(1) or real(cls, *a, **k)))
    res = run(None, output_dir=tmp_path / "o",
              overrides={"lage.engine": "ch", "lage.calibrate": True,
                         "lage.target_mean": 60_000.0, "output.maps": False,
                         "output.models": ["central_places", "lage"]})
    assert len(builds) == 1
    # the fit's target: the mean over the units on the network, the Gemeindeverbände
    # (every member carries its GVB's potential)
    per_gvb = res.municipalities.groupby("gvb")["potential_2h"].first().dropna()
    assert per_gvb.mean() == pytest.approx(60_000.0, rel=1e-9)
    assert "calibrated to a mean potential of 60,000" in (res.output_dir / "summary.md").read_text()


def test_scenario_batch_from_the_command_line(tmp_path):
    """`accessibility scenario A.toml B.toml --dask 2`: one folder per scenario with
    the files a single scenario run writes, byte for byte."""
    from accessibility.cli import main

    from .test_scenario import RUEHEN, write

    a = write(tmp_path, f'name = "Ruehen MZ"\n[central_places]\n"{RUEHEN}" = "Mittelzentrum"\n',
              "a.toml")
    b = write(tmp_path, 'name = "A39 closed"\n[roads]\nclosed_classes = ["motorway"]\n'
                        'closed_areas = [[[10.45, 52.18], [10.55, 52.18], [10.55, 52.24], '
                        '[10.45, 52.24]]]\n', "b.toml")
    out = tmp_path / "batch"
    assert main(["-q", "scenario", str(a), str(b), "-o", str(out), "--dask", "2"]) == 0
    for x, path in (("a", a), ("b", b)):
        single = tmp_path / f"single_{x}"
        assert main(["-q", "scenario", str(path), "-o", str(single)]) == 0
        for name in ("scenario_municipalities.csv", "scenario_gvb.csv", "moves_oz_class.csv"):
            assert (out / x / name).read_bytes() == (single / name).read_bytes(), (x, name)
    assert "base (shared by the batch)" in (out / "b" / "summary.md").read_text()
    # two files of one name would share a folder
    (tmp_path / "c").mkdir()
    b2 = write(tmp_path / "c", 'name = "other"\n[population]\n"03151024" = 1\n', "b.toml")
    assert main(["-q", "scenario", str(a), str(b), str(b2), "-o", str(tmp_path / "x")]) == 2


class _FailingClient:
    """A stand-in client whose results fail as a lost worker or a task would."""

    def __init__(self, exc):
        self.exc = exc
        self.scheduler = type("S", (), {"address": "tcp://head:8786"})()

    def scatter(self, data, broadcast=False):
        return data

    def map(self, func, *args, **kw):
        return list(args[0])

    def gather(self, futs):
        raise self.exc


def test_a_failing_cluster_is_a_compute_error_and_task_errors_pass():
    """A connection closed under the run is the cluster's failure (exit 1, not
    'check the disk' as an OSError would read); an error inside a task keeps its type."""
    from distributed.comm.core import CommClosedError

    from accessibility._errors import ComputeError

    with pytest.raises(ComputeError, match="Dask cluster failed.*tcp://head:8786"):
        compute.DaskExecutor(_FailingClient(CommClosedError("gone"))).map(len, [[1]])
    with pytest.raises(InputError, match="bad cell"):
        compute.DaskExecutor(_FailingClient(InputError("bad cell"))).map(len, [[1]])
