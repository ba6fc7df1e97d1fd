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
