"""Docs that run: every Python block of the README and docs/ runs on the embedded
sample, and every ``accessibility`` command line in them is one the CLI accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

import accessibility as acc
from accessibility.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path, lang: str) -> list[str]:
    """The fenced code blocks of ``lang`` in ``path``."""
    return re.findall(rf"^```{lang}\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)


PYTHON = [(p, i, code) for p in DOCS for i, code in enumerate(blocks(p, "python"))]


def test_the_docs_have_python_blocks():
    # the README's API block and the outputs' reading recipe at least
    assert {p.name for p, _, _ in PYTHON} >= {"README.md", "outputs.md"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder with a run of the embedded sample in ``out/`` (the outputs' recipes
    read it); the blocks run here."""
    d = tmp_path_factory.mktemp("docs")
    acc.run(output_dir=d / "out", overrides={"output.maps": False,
                                             "output.models": ["central_places"]})
    return d


@pytest.mark.parametrize("path,i,code", PYTHON,
                         ids=[f"{p.name}-{i}" for p, i, _ in PYTHON])
def test_python_block_runs(path, i, code, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    exec(compile(code, f"{path.name} block {i}", "exec"), {"__name__": "__docs__"})


def command_lines(path: Path) -> list[str]:
    """The ``accessibility ...`` commands of the bash blocks (continuations joined,
    comments and the "..." placeholder for more options removed)."""
    out = []
    for code in blocks(path, "bash"):
        for line in code.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0].replace("...", "").strip()
            if line.startswith("accessibility ") or " && accessibility " in line:
                out.append(line[line.index("accessibility "):])
    return out


COMMANDS = [(p, c) for p in DOCS for c in command_lines(p)]


def test_the_readme_has_commands():
    assert sum(p.name == "README.md" for p, _ in COMMANDS) >= 10


@pytest.mark.parametrize("path,line", COMMANDS, ids=[c for _, c in COMMANDS])
def test_command_line_parses(path, line):
    """Every documented command, its subcommand and its options exist (parsed, not
    run: the national and Dask examples need inputs this machine has not)."""
    argv = shlex.split(line)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as e:  # --help and --version exit 0; a wrong option exits 2
        assert e.code == 0, f"{path.name}: {line!r} is not accepted by the CLI"


TOML = [(p, i, code) for p in DOCS for i, code in enumerate(blocks(p, "toml"))]


@pytest.mark.parametrize("path,i,code", TOML, ids=[f"{p.name}-{i}" for p, i, _ in TOML])
def test_toml_block_is_a_scenario_or_config_the_engine_reads(path, i, code, tmp_path):
    """Every TOML block is a scenario file (it has a ``name``) that
    ``read_scenario`` accepts, or a config fragment that ``load_config`` accepts
    (which rejects unknown keys): a renamed option cannot stay in the docs."""
    import tomllib

    from accessibility.config import load_config
    from accessibility.models.scenario import read_scenario

    data = tomllib.loads(code)
    if "name" in data:
        assert read_scenario(data).name == data["name"]
    else:
        (tmp_path / "c.toml").write_text(code, encoding="utf-8")
        config = load_config(tmp_path / "c.toml")
        for section, values in data.items():
            for key, value in values.items():
                assert getattr(getattr(config, section), key) == value, f"{section}.{key}"
