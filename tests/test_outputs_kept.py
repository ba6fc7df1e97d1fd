"""Nothing lost: every command has its own default output, so a scenario after a run
leaves the run's files as they are (issue 29)."""

from __future__ import annotations

from accessibility.pipeline import run, scenario, scenarios

RUEHEN = "03151024"


def test_a_scenario_after_a_run_keeps_the_run(tmp_path):
    out = tmp_path / "out"
    o = {"output.dir": str(out), "output.maps": False, "output.models": ["central_places"]}
    run(overrides=o)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert "municipalities.csv" in before
    s = tmp_path / "ruehen-mz.toml"
    s.write_text(f'name = "Rühen MZ"\n[central_places]\n"{RUEHEN}" = "Mittelzentrum"\n',
                 encoding="utf-8")
    res = scenario(None, s, overrides=o)  # no output folder given
    assert res.output_dir == out / "scenario-ruehen-mz"
    assert (res.output_dir / "scenario_municipalities.csv").is_file()
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # the run's files, byte for byte
    # a batch likewise: each scenario beside the run, in its own folder
    t = tmp_path / "twin.toml"
    t.write_text('name = "twin"\n[population]\n"03151024" = 6000\n', encoding="utf-8")
    batch = scenarios(None, [s, t], overrides=o)
    assert [r.output_dir for r in batch] == [out / "scenario-ruehen-mz", out / "scenario-twin"]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_signals_wait_for_the_publish():
    """Ctrl-C (SIGINT) during a publish lands after its last move, never in between."""
    import os
    import signal

    import pytest

    from accessibility.pipeline.publish import _signals_deferred

    done = []
    with pytest.raises(KeyboardInterrupt):
        with _signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("moved")  # still runs: the signal waits
    assert done == ["moved"]


def test_a_publish_cut_off_is_marked_and_healed(tmp_path, monkeypatch, caplog):
    from accessibility.pipeline import publish as pub

    final = tmp_path / "out"
    final.mkdir()
    with pub.staged(final) as out:
        (out.stage / "a.csv").write_text("x\n1\n")
        files = {"a": out.stage / "a.csv"}
        # a kill right after the journal: nothing moved yet
        monkeypatch.setattr(pub, "complete_publish", lambda *a, **k: False)
        pub.publish(out.stage, final, files)
        monkeypatch.undo()
    assert (final / pub.MARKER).is_file() and (final / pub.JOURNAL).is_file()
    assert "killed" in (final / pub.MARKER).read_text()
    assert not (final / "a.csv").exists()
    with caplog.at_level("WARNING"), pub.staged(final):  # the next command heals it
        pass
    assert (final / "a.csv").read_text() == "x\n1\n"
    assert not (final / pub.MARKER).exists() and not (final / pub.JOURNAL).exists()
    assert any("killed while publishing" in r.message for r in caplog.records)


def test_temp_files_of_killed_processes_are_removed(tmp_path):
    import os
    import subprocess
    import sys

    from accessibility._util import remove_dead_temps, temp_path

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()  # its id names a process that is gone
    dead = tmp_path / f".municipalities.tmp-{p.pid}-0123abcd.csv"
    live = temp_path(tmp_path / "gvb.csv")
    other = tmp_path / ".my-notes.tmp.txt"  # not ours: no process id
    for f in (dead, live, other):
        f.write_text("x")
    assert str(os.getpid()) in live.name
    assert remove_dead_temps(tmp_path) == [dead]
    assert not dead.exists() and live.exists() and other.exists()


def test_a_planners_edit_stops_the_next_run(tmp_path, capsys):
    """A remarks column saved into municipalities.csv is not replaced silently: the next
    run stops before any work and names the file; --overwrite replaces it."""
    from accessibility.cli import main

    out = tmp_path / "out"
    argv = ["-q", "run", "-o", str(out), "--no-maps", "--models", "central_places"]
    assert main(argv) == 0
    csv = out / "municipalities.csv"
    edited = csv.read_text(encoding="utf-8").replace('"ags"', '"ags","remarks"', 1)
    csv.write_text(edited, encoding="utf-8")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "municipalities.csv" in err and "--overwrite" in err
    assert csv.read_text(encoding="utf-8") == edited  # untouched
    assert main([*argv, "--overwrite"]) == 0
    assert '"remarks"' not in csv.read_text(encoding="utf-8")
    assert main(argv) == 0  # unchanged since: runs again without a word


def test_bad_isochrone_minutes_are_a_usage_error(capsys):
    import pytest

    from accessibility.cli import main

    with pytest.raises(SystemExit) as e:
        main(["run", "--isochrones", "a,b"])
    assert e.value.code == 2 and "15,30,60" in capsys.readouterr().err


def test_sigterm_waits_for_the_publish_then_ends_the_process(tmp_path):
    import signal
    import subprocess
    import sys

    flag = tmp_path / "moved"
    code = ("import os, signal, pathlib\n"
            "from accessibility.pipeline.publish import _signals_deferred\n"
            "with _signals_deferred():\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            f"    pathlib.Path({str(flag)!r}).write_text('x')\n"
            f"pathlib.Path({str(flag)!r} + '.after').write_text('x')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert r.returncode == -signal.SIGTERM
    assert flag.exists() and not (tmp_path / "moved.after").exists()
