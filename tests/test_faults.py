"""Fault injection: a run killed at every step of publishing leaves either the old
results or (after the journal is rolled forward) the new ones, never a mix, and never
touches a file the engine did not write."""

from __future__ import annotations

import os
import pathlib
import shutil

import pytest

from accessibility.pipeline import inputs as pipeline_inputs, publish
from accessibility.pipeline import JOURNAL, MANIFEST, complete_publish, run


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not an Exception, so no handler)."""


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Run A (with maps) and run B (without): different file sets."""
    a = tmp_path_factory.mktemp("a")
    b = tmp_path_factory.mktemp("b")
    run(output_dir=a)
    rb = run(output_dir=b, overrides={"output.maps": False})
    return a, b, rb.files


def files_of(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def count_steps(monkeypatch, limit):
    """Make os.replace and Path.unlink raise Killed on call number ``limit``."""
    calls = {"n": 0}
    real_replace, real_unlink = os.replace, pathlib.Path.unlink

    def step():
        calls["n"] += 1
        if calls["n"] == limit:
            raise Killed()

    def replace(*a, **k):
        step()
        return real_replace(*a, **k)

    def unlink(self, *a, **k):
        step()
        return real_unlink(self, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(pathlib.Path, "unlink", unlink)
    return calls


def prepared(tmp_path, a, b, files_b):
    """A fresh output folder holding run A and a user's file, and run B staged in it."""
    final = tmp_path / "out"
    shutil.copytree(a, final, ignore=shutil.ignore_patterns("cache"))
    (final / "my_notes.csv").write_text("mine\n")
    stage = final / f".run-{os.getpid()}-test"
    stage.mkdir()
    for name in files_of(b):
        if name != MANIFEST:
            shutil.copy2(b / name, stage / name)
    return final, stage, {k: stage / pathlib.Path(v).name for k, v in files_b.items()}


def test_kill_at_every_step_of_publishing(two_runs, tmp_path, monkeypatch):
    a, b, files_b = two_runs
    old = files_of(a)
    new = {k: v for k, v in files_of(b).items()}
    # how many steps a whole publish takes
    final, stage, files = prepared(tmp_path / "count", a, b, files_b)
    calls = count_steps(monkeypatch, limit=-1)
    publish.publish(stage, final, files)
    n_steps = calls["n"]
    monkeypatch.undo()
    assert n_steps > len(files)  # one move per file, plus journal and manifest
    for k in range(1, n_steps + 1):
        final, stage, files = prepared(tmp_path / f"k{k}", a, b, files_b)
        count_steps(monkeypatch, limit=k)
        with pytest.raises(Killed):
            publish.publish(stage, final, files)
        monkeypatch.undo()
        now = files_of(final)
        assert now.pop("my_notes.csv") == b"mine\n"
        started = (final / JOURNAL).exists()
        # the next run (or complete_publish) finishes what the journal describes
        complete_publish(final)
        after = files_of(final)
        assert after.pop("my_notes.csv") == b"mine\n", k
        assert not (final / JOURNAL).exists(), k
        expect = new if started else old  # never a mix of the two runs
        assert {n: v for n, v in after.items() if n != MANIFEST} == \
            {n: v for n, v in expect.items() if n != MANIFEST}, k
        if not started:  # killed before the journal was in place: nothing moved yet
            assert now == {n: v for n, v in old.items()}, k
            assert stage.exists()  # the next run removes it (its process is gone)
        else:
            assert not stage.exists(), k
    assert k > 5


def test_next_run_completes_an_interrupted_publish(two_runs, tmp_path, monkeypatch):
    a, b, files_b = two_runs
    final, stage, files = prepared(tmp_path, a, b, files_b)
    count_steps(monkeypatch, limit=5)
    with pytest.raises(Killed):
        publish.publish(stage, final, files)
    monkeypatch.undo()
    assert (final / JOURNAL).exists()
    res = run(output_dir=final, overrides={"output.maps": False})  # finishes, then runs
    assert not (final / JOURNAL).exists() and not list(final.glob(".run-*"))
    assert (final / "my_notes.csv").read_text() == "mine\n"
    assert not list(final.glob("map_*.png"))
    assert set(files_of(final)) == {p.name for p in res.files.values()} | {MANIFEST,
                                                                          "my_notes.csv"}


def test_a_users_file_with_an_output_name_is_never_replaced(tmp_path):
    """An input (or any file of the user's) named like an output in the output folder:
    the run refuses to publish, and the file is left as it was."""
    from accessibility._errors import InputError

    mine = tmp_path / "municipalities.csv"
    mine.write_text("my own table\n")
    with pytest.raises(InputError, match="no run wrote: .*municipalities.csv"):
        run(output_dir=tmp_path, overrides={"output.maps": False})
    assert mine.read_text() == "my own table\n"
    assert not list(tmp_path.glob(".run-*")) and not (tmp_path / "summary.md").exists()


@pytest.mark.parametrize("name", ["map_lage.png", "table_mz_oz_by_lage.csv", "gvb.csvt"])
def test_an_output_name_collision_stops_the_run_before_any_work(tmp_path, monkeypatch, name):
    """Issue 29: the collision is found before the computation, not at publish time
    (the inputs are never read), and --overwrite does not make it replaceable."""
    from accessibility._errors import InputError
    import importlib

    run_module = importlib.import_module("accessibility.pipeline.run")

    def never(*a, **k):
        raise AssertionError("the run read its inputs before checking the output folder")

    monkeypatch.setattr(run_module, "read_inputs", never)
    (tmp_path / name).write_text("mine\n")
    (tmp_path / "notes.txt").write_text("not an output name: no collision\n")
    for overwrite in (False, True):
        with pytest.raises(InputError, match=f"no run wrote: {name}"):
            run(output_dir=tmp_path, overwrite=overwrite)
    assert (tmp_path / name).read_text() == "mine\n"


def test_every_file_a_run_writes_is_a_registered_output_name(two_runs):
    """The early collision check knows each name (Output.add refuses others)."""
    a, b, _ = two_runs
    names = {p.name for d in (a, b) for p in d.iterdir() if p.is_file()}
    assert names and all(publish.is_output_name(n) for n in names - {publish.MANIFEST})
    assert not publish.is_output_name("notes.txt")


def test_journal_without_its_stage_keeps_the_old_results(two_runs, tmp_path):
    from accessibility._errors import InputError

    a, b, files_b = two_runs
    final, stage, files = prepared(tmp_path, a, b, files_b)
    publish.write_json({"stage": stage.name, "files": sorted(p.name for p in files.values())},
                        final / JOURNAL)
    shutil.rmtree(stage)  # removed by hand after a kill
    before = files_of(final)
    with pytest.raises(InputError, match="cannot be completed"):
        complete_publish(final)
    assert files_of(final) == before  # nothing deleted


# ------------------------------------------------------------------ before the graph
def test_inputs_of_another_region_fail_before_the_graph_is_built(tmp_path, monkeypatch):
    """With an extract whose header declares its box (north-bayreuth.osm.gz), a GTFS
    feed and a grid of other regions are reported together before any graph is built;
    a file without a usable box (the HB and Heidelberg PBFs) skips the check."""
    import numpy as np
    import pandas as pd

    from accessibility._errors import InputError
    from accessibility.graph import header_bbox
    from .conftest import shared

    osm = shared("osm", "north-bayreuth.osm.gz")
    assert header_bbox(osm) == pytest.approx((11.4807, 49.9721, 11.6053, 50.047))
    assert header_bbox(shared("osm", "heidelberg.osm.pbf")) is None  # the whole world
    assert header_bbox(shared("osm", "hannover-braunschweig-main-roads.osm.pbf")) is None
    grid = pd.DataFrame({"x": [4_000_500.0, 4_001_500.0], "y": [2_800_500.0, 2_800_500.0],
                         "Einwohner": [100, 50]})  # near Heidelberg (EPSG:3035)
    grid.to_parquet(tmp_path / "grid.parquet")

    def no_build(*a, **k):
        raise AssertionError("the graph was built")

    monkeypatch.setattr(pipeline_inputs, "build_graph", no_build)
    with pytest.raises(InputError) as e:
        run(output_dir=tmp_path / "out", overrides={
            "inputs.osm": str(osm),
            "inputs.municipalities": str(shared("municipalities", "gemeinden_2019_destatis.csv")),
            "inputs.central_places": str(shared("central_places", "zentrale_orte_2024.csv")),
            "inputs.gtfs": str(shared("gtfs", "vrn-rhein-neckar-cut.gtfs.zip")),
            "walk.gtfs_date": "2022-10-18",
            "inputs.population_grid": str(tmp_path / "grid.parquet")})
    msg = str(e.value)
    assert "2 problem(s)" in msg and "GTFS feed vrn-rhein-neckar-cut" in msg
    assert "population grid grid.parquet" in msg and "lon 11.48-11.61" in msg
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert np.isfinite(header_bbox(osm)).all()
