"""Probe the engine with bad inputs and faults, the way issue 29's review did.

Every case of issue 29's list (and of the reviews before it) is one entry of
:data:`CASES`: a bad input through the command line or the Python API, and what a
user must see. Each outcome is one of

* ``clear``: the expected error (exit code 2 / ``InputError``) with a message that
  names the problem (``words``), or, for a valid variant, exit 0;
* ``silent``: exit 0 (or no exception) where an error was expected, or a result
  that hides the problem (the case's own check fails);
* ``unclear``: the expected error, but the message misses the words that name the
  problem;
* ``crash``: a traceback, an "internal error", or any other exit code;
* ``loss``: a file of the user's (or of an earlier run) changed or went missing.

    python scripts/fault_probe.py            # all cases, a table, exit 1 unless all clear
    python scripts/fault_probe.py -k grid    # the cases whose name contains "grid"

``tests/test_fault_probe.py`` runs every case as a test (the slow ones, a run, a child
process or a kill each, marked ``slow``). The original 464-case probe of the review is
not in the repository: these are every case its text names and broad variants of each
kind (:func:`reader_cases`, :func:`range_cases`); ``docs/fault_probe.md`` maps each
point of issue 29 to its cases, with the counts per class.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "accessibility" / "data"
SHARED = REPO.parent / "shared" / "data"


@dataclass
class Case:
    """One probe: ``make(tmp)`` returns CLI arguments (a list), an API callable (an
    ``int`` it returns is an exit code) or a :class:`Sub` (a child process)."""

    name: str
    make: Callable[[Path], list | Callable]
    #: "error" (exit 2 / InputError), "ok" (exit 0), "either" (a variant read as it is,
    #: or refused clearly), "fail" (exit 1: the run failed, not the input) or "signal"
    #: (a Ctrl-C / SIGTERM: exit 130, or the signal's own end, without a traceback)
    expect: str = "error"
    #: the message must name these (case-insensitive; "a|b": either word)
    words: tuple[str, ...] = ()
    check: Callable[[Path], str | None] | None = None  # after the call: None or a problem
    needs_shared: bool = False
    slow: bool = False               # several seconds: a run, a child process, a kill


@dataclass
class Sub:
    """A case run as a child process ``python -m accessibility.cli ARGV`` (or
    ``python -c CODE``): for signals, kills and resource limits, which would hit the
    probe itself in process."""

    argv: list = field(default_factory=list)
    code: str | None = None                    # instead of the CLI: this program
    signal_after: tuple[float, int] | None = None  # (seconds, signal) sent to the child
    ready: Path | None = None  # the seconds count from when the child creates this file
    fsize: int | None = None                   # RLIMIT_FSIZE of the child (bytes)
    drop_dac: bool = False  # root without the right to skip file permissions (chmod 000)
    cwd: Path | None = None


@dataclass
class Outcome:
    name: str
    verdict: str
    detail: str = ""
    message: str = field(default="", repr=False)


# ------------------------------------------------------------------ inputs
def sample_config(tmp: Path, changes: dict | None = None, **inputs) -> Path:
    """The embedded sample's configuration with absolute paths, ``changes``
    (``{"section.key": value}``) and ``inputs`` (``[inputs]`` keys) applied."""
    from accessibility.config import _toml_value, load_config
    from accessibility.pipeline import sample_config_path

    d = load_config(sample_config_path()).to_dict()
    for k, v in inputs.items():
        d["inputs"][k] = str(v)
    for key, v in (changes or {}).items():
        sec, name = key.split(".")
        d[sec][name] = v
    lines = []
    for sec, values in d.items():
        lines.append(f"[{sec}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if v is not None]
    path = tmp / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def munis_csv(tmp: Path, edit: Callable[[pd.DataFrame], pd.DataFrame], name="gemeinden.csv"
              ) -> Path:
    df = edit(pd.read_csv(DATA / "gemeinden.csv", dtype={"ags": str, "gvb_ars9": str,
                                                         "ars": str, "plz": str}))
    path = tmp / name
    df.to_csv(path, index=False)
    return path


def run_with(tmp: Path, changes=None, models="central_places", **inputs) -> list:
    cfg = sample_config(tmp, changes, **inputs)
    return ["-q", "run", "--config", str(cfg), "-o", str(tmp / "out"), "--models", models]


def _set(col, value):
    def edit(df):
        df = df.copy()
        df[col] = value
        return df
    return edit


def _one(col, value, row=0):
    def edit(df):
        df = df.copy()
        df[col] = df[col].astype(float)
        df.loc[row, col] = value
        return df
    return edit


def commuters(tmp: Path, factor: float = 1.0, out_over: bool = False) -> Path:
    m = pd.read_csv(DATA / "gemeinden.csv", dtype={"ags": str})
    pop = m["bevoelkerung"].to_numpy(float)
    c = pd.DataFrame({"ags": m["ags"], "in_commuters": (0.3 * pop * factor).round(),
                      "out_commuters": (0.3 * pop * factor).round()})
    if out_over:
        c["out_commuters"] = pop * 3
    path = tmp / "pendler.csv"
    c.to_csv(path, index=False)
    return path


def grid(tmp: Path, how: str) -> Path:
    g = pd.read_parquet(DATA / "zensus2022_1km_sample.parquet")
    if how == "thousands":
        g["Einwohner"] = (g["Einwohner"].clip(lower=0) / 1000.0).round(3)
    elif how == "corners":
        g["x"] -= 500
        g["y"] -= 500
    path = tmp / f"grid_{how}.parquet"
    g.to_parquet(path)
    return path


def facilities(tmp: Path, text: bytes, name="facilities.csv") -> Path:
    path = tmp / name
    path.write_bytes(text)
    return path


def profile(tmp: Path, motorway_kmh: float) -> Path:
    text = (REPO / "accessibility" / "profiles" / "de-car.toml").read_text(encoding="utf-8")
    import re

    text = re.sub(r"(?m)^motorway = [0-9.]+", f"motorway = {motorway_kmh}", text, count=1)
    path = tmp / "fast.toml"
    path.write_text(text, encoding="utf-8")
    return path


def stations(tmp: Path, swap: bool) -> Path:
    s = pd.read_csv(DATA / "db_long_distance_stations.csv")
    if swap:
        s[["lon", "lat"]] = s[["lat", "lon"]].to_numpy()
    path = tmp / "stations.csv"
    s.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------ checks after a call
def unchanged(name: str, text: str) -> Callable[[Path], str | None]:
    def check(tmp: Path) -> str | None:
        p = tmp / "out" / name
        if not p.is_file():
            return f"{name} is gone"
        return None if p.read_text() == text else f"{name} was changed"
    return check


def _prepare_out(tmp: Path, files: dict[str, str]) -> None:
    (tmp / "out").mkdir(exist_ok=True)
    for n, t in files.items():
        (tmp / "out" / n).write_text(t)


def no_zero_net_share(tmp: Path) -> str | None:
    m = pd.read_csv(tmp / "out" / "municipalities.csv", dtype={"ags": str})
    col = "walk_share_pharmacy_net"
    if col not in m.columns:
        return f"no {col} column"
    if (m[col] == 0).any():
        return "a network share of 0 % where no cell is on the walk network"
    return None


# ------------------------------------------------------------------ the API cases
def api(fn_name: str, *args, **kw) -> Callable:
    def call():
        import accessibility as acc
        from accessibility import api as api_mod

        fn = getattr(acc, fn_name, None) or getattr(api_mod, fn_name)
        return fn(*[a() if callable(a) else a for a in args], **kw)
    return call


def _munis(edit=None):
    def make():
        from accessibility.io import read_municipalities
        m = read_municipalities(DATA / "gemeinden.csv")
        return edit(m) if edit else m
    return make


def _graph():
    from accessibility.graph import build_graph
    return build_graph(DATA / "hannover-braunschweig-main-roads.osm.pbf")


def _swap(m):
    m = m.copy()
    m[["lon", "lat"]] = m[["lat", "lon"]].to_numpy()
    return m


def _neg_pop(m):
    m = m.copy()
    m.loc[m.index[0], "population"] = -5
    return m


def _no_pop(m):
    return m.drop(columns=["population"])


def _api_case(tmp: Path, fn: Callable) -> Callable:
    return fn


def _lage_without_population(tmp):
    def call():
        import accessibility as acc
        g = _graph()
        return acc.lage(g, _no_pop(_munis()()))
    return call


def _attach_slow(tmp):
    def call():
        import accessibility as acc
        return acc.attach(_graph(), _munis()(), access_speed_kmh=0.001)
    return call


def _attach_swapped(tmp):
    def call():
        import accessibility as acc
        return acc.attach(_graph(), _swap(_munis()()))
    return call


def _reversed_bbox(tmp):
    def call():
        import accessibility as acc
        from accessibility import api as a
        g = _graph()
        return a.mark_region(g, acc.attach(g, _munis()()), bbox=(10.9, 52.5, 10.1, 52.1))
    return call


def _cells_in_degrees(tmp):
    def call():
        import accessibility as acc
        cells = pd.DataFrame({"x": [8.7, 8.71], "y": [50.0, 50.01], "population": [5.0, 5.0],
                              "ags": ["06438002"] * 2})
        fac = pd.DataFrame({"service": ["pharmacy"], "lon": [8.7], "lat": [50.0]})
        return acc.walk_distances(cells, fac, methods=("straight",))
    return call


def _negative_commuters(tmp):
    def call():
        import accessibility as acc
        m = _munis()()
        c = pd.DataFrame({"ags": m["ags"], "in_commuters": -1, "out_commuters": 10})
        return acc.commuter_indicators(m, c)
    return call


def _graph_crs(tmp, crs):
    def call():
        from accessibility.graph import build_graph
        return build_graph(DATA / "hannover-braunschweig-main-roads.osm.pbf", crs=crs)
    return call


def _dict_scenario(tmp):
    def call():
        import accessibility as acc
        g = _graph()
        return acc.scenario(g, _munis()(), DATA / "zentrale_orte.csv",
                            {"central_places": {"03151024": "Mittelzentrum"}})
    return call


def _dict_scenario_bad(tmp):
    def call():
        import accessibility as acc
        g = _graph()
        return acc.scenario(g, _munis()(), DATA / "zentrale_orte.csv",
                            {"population": {"03151024": 1e15}})
    return call


def _gtfs_other_region(tmp):
    def call():
        import accessibility as acc
        return acc.pt_departures(_munis()(), SHARED / "gtfs" / "vrn-rhein-neckar-cut.gtfs.zip",
                                 date="2022-10-18")
    return call


def _run_then_scenario(tmp):
    """A run, then a scenario with default outputs: the run's files stay as they were."""
    from accessibility.cli import main

    cfg = sample_config(tmp, {"output.dir": str(tmp / "out"), "output.maps": False})
    assert main(["-q", "run", "--config", str(cfg), "--models", "central_places"]) == 0
    before = {p.name: p.read_bytes() for p in (tmp / "out").iterdir() if p.is_file()}
    (tmp / "before.json").write_text(json.dumps(sorted(before)))
    sc = tmp / "what-if.toml"
    sc.write_text('[central_places]\n"03151024" = "Mittelzentrum"\n')
    return ["-q", "scenario", str(cfg), str(sc)]


def _run_files_kept(tmp: Path) -> str | None:
    names = json.loads((tmp / "before.json").read_text())
    gone = [n for n in names if not (tmp / "out" / n).is_file()]
    if gone:
        return f"the scenario removed the run's {gone[:3]}"
    if not (tmp / "out" / "scenario-what-if" / "summary.md").is_file():
        return "no scenario output in out/scenario-what-if/"
    return None


def _edited_output(tmp):
    from accessibility.cli import main

    args = run_with(tmp, {"output.maps": False})
    assert main(args) == 0
    p = tmp / "out" / "municipalities.csv"
    p.write_text(p.read_text() + "my remark\n")
    (tmp / "edited.txt").write_text(p.read_text())
    return args


def _edited_kept(tmp):
    p = tmp / "out" / "municipalities.csv"
    return None if p.read_text() == (tmp / "edited.txt").read_text() else "the edit was lost"


def _existing_profile(tmp):
    (tmp / "mine.toml").write_text("# my profile\n")
    return ["-q", "calibrate", "--config", str(sample_config(tmp)),
            str(SHARED / "reference" / "inkar_2020_car_times_multi_member_gvb.csv"),
            "--out-profile", str(tmp / "mine.toml")]


def _existing_plan(tmp):
    (tmp / "plan.csv").write_text("mine\n")
    return ["-q", "plan", "--config", str(sample_config(tmp)), "--k", "1",
            "--out", str(tmp / "plan.csv")]


def _scenario_pop(tmp):
    sc = tmp / "big.toml"
    sc.write_text('[population]\n"03151024" = 1e15\n')
    return ["-q", "scenario", str(sample_config(tmp)), str(sc), "-o", str(tmp / "sc")]


def _scenario_unknown_ags(tmp):
    sc = tmp / "x.toml"
    sc.write_text('[central_places]\n"99999999" = "Mittelzentrum"\n')
    return ["-q", "scenario", str(sample_config(tmp)), str(sc), "-o", str(tmp / "sc")]


def _user_file_named_like_output(tmp):
    _prepare_out(tmp, {"gvb.csv": "mine\n"})
    return run_with(tmp)


def _truncated_csv(tmp):
    text = (DATA / "gemeinden.csv").read_text(encoding="utf-8")
    p = tmp / "cut.csv"
    p.write_text(text[: len(text) // 2].rsplit(",", 3)[0], encoding="utf-8")
    return run_with(tmp, municipalities=p)


def _not_osm(tmp):
    p = tmp / "roads.osm.pbf"
    p.write_bytes(b"this is not a PBF file" * 100)
    return run_with(tmp, osm=p)


def _empty_munis(tmp):
    p = tmp / "empty.csv"
    p.write_text("")
    return run_with(tmp, municipalities=p)


def _output_is_file(tmp):
    (tmp / "out").write_text("a file\n")
    return run_with(tmp)


def _bad_config(tmp, text):
    p = tmp / "bad.toml"
    p.write_text(text)
    return ["-q", "run", "--config", str(p), "-o", str(tmp / "out")]


CASES: list[Case] = [
    # --- results that disappear
    Case("run then scenario keeps the run", _run_then_scenario, "ok", check=_run_files_kept,
         slow=True),
    Case("an edited output stops the next run", _edited_output, "error",
         ("changed since",), check=_edited_kept),
    Case("a user's file named like an output", _user_file_named_like_output, "error",
         ("gvb.csv", "no run wrote"), check=unchanged("gvb.csv", "mine\n")),
    Case("calibrate --out-profile over a file", _existing_profile, "error", ("exists", "--force"),
         needs_shared=True),
    Case("plan --out over a file", _existing_plan, "error", ("exists", "--force")),
    # --- silent nonsense
    Case("all populations 0", lambda t: run_with(t, municipalities=munis_csv(
        t, _set("bevoelkerung", 0))), "error", ("population",)),
    Case("populations 1e15", lambda t: run_with(t, municipalities=munis_csv(
        t, _set("bevoelkerung", 1e15))), "error", ("population",)),
    Case("one population 1e300", lambda t: run_with(t, municipalities=munis_csv(
        t, _one("bevoelkerung", 1e300))), "error", ("population",)),
    Case("commuters x 1e9", lambda t: run_with(t, models="lage", commuters=commuters(t, 1e9)),
         "error", ("commuter",)),
    Case("out-commuters above residents", lambda t: run_with(
        t, models="lage", commuters=commuters(t, out_over=True)), "error", ("commuter",)),
    Case("scenario population 1e15", _scenario_pop, "error", ("population",)),
    Case("Lage thresholds NaN", lambda t: run_with(
        t, {"lage.thresholds": [math.nan, 183000.0, 410000.0]}, models="lage"), "error",
         ("thresholds",)),
    Case("Lage thresholds negative", lambda t: run_with(
        t, {"lage.thresholds": [-5.0, 1.0, 2.0]}, models="lage"), "error", ("thresholds",)),
    Case("a 5,000 km/h profile speed", lambda t: run_with(
        t, {"graph.profile": str(profile(t, 5000.0))}), "error", ("km/h",)),
    Case("a grid in thousands", lambda t: run_with(
        t, models="walk", population_grid=grid(t, "thousands")), "error", ("thousand",)),
    Case("a 1 km grid at cell corners", lambda t: run_with(
        t, models="walk", population_grid=grid(t, "corners")), "error", ("corner",)),
    Case("walk.max_snap_m = 1 is no data, not 0 %", lambda t: run_with(
        t, {"walk.max_snap_m": 1.0, "output.maps": False}, models="walk"), "ok",
         check=no_zero_net_share),
    # --- CRS and unit traps
    Case("metric_crs EPSG:3857", lambda t: run_with(t, {"graph.metric_crs": "EPSG:3857"}),
         "error", ("3857",)),
    Case("graph build --crs EPSG:4326", lambda t: [
        "-q", "graph", "build", str(DATA / "hannover-braunschweig-main-roads.osm.pbf"),
        "--crs", "EPSG:4326", "-o", str(t / "g.npz")], "error", ("4326",)),
    Case("graph build --crs EPSG:99999", lambda t: [
        "-q", "graph", "build", str(DATA / "hannover-braunschweig-main-roads.osm.pbf"),
        "--crs", "EPSG:99999", "-o", str(t / "g.npz")], "error", ("99999",)),
    Case("walk.limit_m above walk.max_distance_m", lambda t: run_with(
        t, {"walk.limit_m": 8000.0}, models="walk"), "error", ("limit_m", "max_distance_m")),
    Case("swapped station lon/lat", lambda t: run_with(
        t, models="indicators", stations=stations(t, swap=True)), "error", ("lon",)),
    # --- uncaught before
    Case("an empty facility file", lambda t: run_with(
        t, models="walk", facilities=facilities(t, b"")), "error", ("facilit",)),
    Case("a Windows-1252 facility file", lambda t: run_with(
        t, {"output.maps": False}, models="walk", facilities=facilities(
            t, "service,lon,lat,name\npharmacy,8.70,50.00,Apotheke Müller\n".encode("cp1252"))),
         "ok"),
    Case("a semicolon facility table is read", lambda t: run_with(
        t, {"output.maps": False}, models="walk",
        facilities=facilities(t, b"service;lon;lat\npharmacy;8,70;50,00\n")), "ok"),
    Case("--isochrones a,b", lambda t: run_with(t) + ["--isochrones", "a,b"], "error",
         ("isochrones",)),
    Case("a truncated municipalities CSV", _truncated_csv, "error", ("cut.csv",)),
    Case("an OSM file that is not OSM", _not_osm, "error", ("roads.osm.pbf",)),
    Case("an empty municipalities file", _empty_munis, "error", ("empty.csv",)),
    Case("the output path is a file", _output_is_file, "error", ("is a file",)),
    Case("a missing input file", lambda t: run_with(t, osm=t / "missing.osm.pbf"), "error",
         ("missing.osm.pbf",)),
    Case("run without --central-places", lambda t: [
        "-q", "run", "--osm", str(DATA / "hannover-braunschweig-main-roads.osm.pbf"),
        "--municipalities", str(DATA / "gemeinden.csv"), "-o", str(t / "out")], "error",
         ("--central-places",)),
    Case("a scenario with an unknown AGS", _scenario_unknown_ags, "error", ("99999999",)),
    Case("an unknown config key", lambda t: _bad_config(t, "[graph]\nspeed = 3\n"), "error",
         ("speed",)),
    Case("a config value of the wrong type", lambda t: _bad_config(
        t, '[graph]\nmax_snap_m = "far"\n'), "error", ("max_snap_m",)),
    Case("an unknown model", lambda t: run_with(t, models="teleport"), "error", ("teleport",)),
    # --- the API checks what the readers check
    Case("API: swapped lon/lat", _attach_swapped, "error", ("lon",)),
    Case("API: cells in degrees", _cells_in_degrees, "error", ("3035",)),
    Case("API: a GTFS feed of another region", _gtfs_other_region, "error", ("region",),
         needs_shared=True),
    Case("API: negative commuters", _negative_commuters, "error", ("commuter",)),
    Case("API: a tiny access speed", _attach_slow, "error", ("access",)),
    Case("API: a reversed bbox", _reversed_bbox, "error", ("bbox",)),
    Case("API: lage without population", _lage_without_population, "error", ("population",)),
    Case("API: a dict scenario", _dict_scenario, "ok"),
    Case("API: a dict scenario with population 1e15", _dict_scenario_bad, "error",
         ("population",)),
    Case("API: build_graph crs EPSG:3857", lambda t: _graph_crs(t, "EPSG:3857"), "error",
         ("3857",)),
]


# ================================================================== issue 29, every named case
# ------------------------------------------------------------------ shared fixtures
_BASE: dict[str, Path] = {}


def _quiet_main(args: list) -> int:
    """The CLI in this process, its output swallowed (for fixtures)."""
    from accessibility.cli import main

    root = logging.getLogger()
    handlers = root.handlers[:]
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return main(args)
    finally:
        root.handlers[:] = handlers


def _base_run(maps: bool) -> Path:
    """One sample run (central places and Lage), made once per process: the earlier
    results that the cases about edits, kills and leftovers start from."""
    key = "maps" if maps else "plain"
    if key not in _BASE:
        d = Path(tempfile.mkdtemp(prefix="probe-base-"))
        atexit.register(shutil.rmtree, d, True)
        code = _quiet_main(run_with(d, {"output.maps": maps}, models="central_places,lage"))
        if code != 0:
            raise RuntimeError(f"the probe's base run failed (exit {code})")
        _BASE[key] = d / "out"
    return _BASE[key]


def with_run(tmp: Path, maps: bool = False) -> Path:
    """``tmp/out`` holding the base run's results (a copy)."""
    shutil.copytree(_base_run(maps), tmp / "out")
    return tmp / "out"


def _dead_pid() -> int:
    """The id of a process that has ended."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def _snapshot(tmp: Path) -> None:
    """Record every file in ``tmp/out`` (for :func:`_untouched`)."""
    out = tmp / "out"
    files = {p.name: p.read_bytes().hex() for p in out.iterdir() if p.is_file()}
    (tmp / "snapshot.json").write_text(json.dumps(files))


def _untouched(tmp: Path) -> str | None:
    """The files recorded by :func:`_snapshot` are all there, unchanged."""
    before = json.loads((tmp / "snapshot.json").read_text())
    for name, data in before.items():
        p = Path(os.path.normpath(tmp / "out" / name))  # "../x": a file beside the folder
        if not p.is_file():
            return f"{name} is gone"
        if p.read_bytes().hex() != data:
            return f"{name} was changed"
    return None


def _whole(tmp: Path) -> str | None:
    """``tmp/out`` holds one run: no journal, marker or stage, every file of the
    manifest present and no output-named file beside them."""
    from accessibility.pipeline.publish import (
        JOURNAL,
        MANIFEST,
        MARKER,
        _read_manifest,
        is_output_name,
    )

    out = tmp / "out"
    for name in (JOURNAL, MARKER):
        if (out / name).exists():
            return f"{name} left: the folder may mix two runs"
    if list(out.glob(".run-*")):
        return "a staging folder was left"
    if not (out / MANIFEST).is_file():
        return "no manifest"
    listed = set(_read_manifest(out))
    present = {p.name for p in out.iterdir() if p.is_file() and is_output_name(p.name)}
    if listed - present:
        return f"files of the run are gone: {sorted(listed - present)[:3]}"
    if present - listed:
        return f"files of two runs mixed: {sorted(present - listed)[:3]}"
    return None


# ------------------------------------------------------------------ results that disappear
def _edit_then_run(name: str):
    def make(tmp):
        out = with_run(tmp, maps=True)
        p = out / name
        p.write_bytes(p.read_bytes() + b"\n")  # an annotation, a remark: any change
        (tmp / "edited.bin").write_bytes(p.read_bytes())
        return run_with(tmp, {"output.maps": True}, models="central_places,lage")
    return make


def _edit_kept(name: str):
    def check(tmp):
        p = tmp / "out" / name
        if not p.is_file():
            return f"{name} is gone"
        return None if p.read_bytes() == (tmp / "edited.bin").read_bytes() else \
            f"the edit of {name} was lost (changed)"
    return check


def _own_file_beside(tmp):
    out = with_run(tmp)
    (out / "notes.txt").write_text("mine\n")
    (out / "my-summary.md").write_text("mine\n")
    _snapshot(tmp)
    (tmp / "snapshot.json").write_text(json.dumps(
        {n: (out / n).read_bytes().hex() for n in ("notes.txt", "my-summary.md")}))
    return run_with(tmp, {"output.maps": False}, models="central_places")


def _own_summary_in_fresh_folder(tmp):
    _prepare_out(tmp, {"summary.md": "my own summary\n"})
    return run_with(tmp)


def _scenario_then_run(tmp):
    """A scenario, then a run, both with default outputs: the scenario stays."""
    cfg = sample_config(tmp, {"output.dir": str(tmp / "out"), "output.maps": False})
    sc = tmp / "what-if.toml"
    sc.write_text('[central_places]\n"03151024" = "Mittelzentrum"\n')
    assert _quiet_main(["-q", "scenario", str(cfg), str(sc)]) == 0
    folder = tmp / "out" / "scenario-what-if"
    (tmp / "snapshot.json").write_text(json.dumps(
        {f"scenario-what-if/{p.name}": p.read_bytes().hex() for p in folder.iterdir()
         if p.is_file()}))
    return ["-q", "run", "--config", str(cfg), "--models", "central_places"]


def _existing_named(tmp, argv_of, name: str):
    (tmp / name).write_text("mine\n")
    (tmp / "snapshot.json").write_text(json.dumps({f"../{name}": (tmp / name).read_bytes().hex()}))
    return argv_of(tmp)


def _report_args(tmp, flag: str, name: str):
    with_run(tmp, maps=True)
    return ["-q", "report", str(tmp / "out"), flag, str(tmp / name)]


# ------------------------------------------------------------------ kills and signals
_PUBLISH_FAULT = """
import os, signal, sys
import accessibility.pipeline.publish as pub
real, moved = os.replace, [0]
def replace(a, b):
    real(a, b)
    if "/.run-" in str(a) and "/.run-" not in str(b):  # a move out of the stage
        moved[0] += 1
        if moved[0] == {after}:
            os.kill(os.getpid(), signal.{sig})
os.replace = replace
from accessibility.cli import main
sys.exit(main({args!r}))
"""


def _publish_fault(tmp: Path, sig: str, after: int = 2) -> Sub:
    """A run over the base run's results that gets ``sig`` after its ``after``-th
    file moved into place (the middle of its publish)."""
    with_run(tmp)
    args = [str(a) for a in run_with(tmp, {"output.maps": False}, models="central_places")]
    return Sub(code=_PUBLISH_FAULT.format(after=after, sig=sig, args=args))


def _killed_then(heal: Callable[[Path], list]):
    """SIGKILL in the middle of a publish, then ``heal(tmp)``: the command that must
    complete the publish and say so."""
    def make(tmp):
        from accessibility.pipeline.publish import MARKER

        code, text = run_sub(_publish_fault(tmp, "SIGKILL"))
        if code != -9:
            raise RuntimeError(f"the killed run ended with {code}: {text[-300:]}")
        (tmp / "marker.txt").write_text(str((tmp / "out" / MARKER).is_file()))
        return heal(tmp)
    return make


def _healed(tmp: Path) -> str | None:
    if (tmp / "marker.txt").read_text() != "True":
        return "no visible marker after the kill"
    return _whole(tmp)


_READY = """
import sys
import accessibility.cli as cli
open({ready!r}, "w").close()
sys.exit(cli.main({args!r}))
"""


_IN_RUN = """
import sys, time
import accessibility.api as api
import accessibility.cli as cli
real = api.central_places
def held(*a, **kw):  # the model starts: say so, and take long enough for the signal
    open({ready!r}, "w").close()
    time.sleep(60)
    return real(*a, **kw)
api.central_places = held
sys.exit(cli.main({args!r}))
"""


def _signal_in_run(sig: int):
    """``sig`` while the car-time model computes (held there, so the signal always
    lands in the computation, never after a run that was quicker than a timer)."""
    def make(tmp):
        with_run(tmp)
        _snapshot(tmp)
        args = [str(a) for a in run_with(tmp, {"output.maps": False}, models="central_places")]
        ready = tmp / "ready"
        return Sub(code=_IN_RUN.format(ready=str(ready), args=args), signal_after=(0.1, sig),
                   ready=ready)
    return make


def _startup_signal(delay: float, sig: int):
    """``sig`` ``delay`` seconds after the child imported the CLI (what the console
    script does first): timed from there, not from the interpreter's start, which a
    loaded machine stretches."""
    def make(tmp):
        with_run(tmp)
        _snapshot(tmp)
        args = [str(a) for a in run_with(tmp, {"output.maps": False}, models="central_places")]
        ready = tmp / "ready"
        return Sub(code=_READY.format(ready=str(ready), args=args), signal_after=(delay, sig),
                   ready=ready)
    return make


def _interrupt_in(where: str):
    """Ctrl-C (KeyboardInterrupt) raised inside ``where`` of the CLI: the message and
    exit code a user sees."""
    def make(tmp):
        def call():
            import accessibility.cli as cli

            real = getattr(cli, where)

            def raising(*a, **kw):
                raise KeyboardInterrupt
            setattr(cli, where, raising)
            try:
                return cli.main(["-q", "graph", "info", str(tmp / "g.npz")])
            except BaseException as e:
                sys.stderr.write(f"Traceback: {type(e).__name__}\n")
                return 1
            finally:
                setattr(cli, where, real)
        return call
    return make


def _plant(kind: str):
    """Leftovers of killed runs, planted with a dead process id; the next run."""
    def make(tmp):
        from accessibility.pipeline.publish import JOURNAL, MARKER

        out = with_run(tmp)
        pid = _dead_pid()
        planted = []
        if kind == "journal":
            stage = out / f".run-{pid}-abcd1234"
            stage.mkdir()
            (stage / "municipalities.csv").write_bytes((out / "municipalities.csv").read_bytes())
            (out / JOURNAL).write_text(json.dumps({"stage": stage.name,
                                                   "files": ["municipalities.csv"]}))
            (out / MARKER).write_text("cut off\n")
            planted = [JOURNAL, MARKER, stage.name]
        elif kind == "stage":
            (out / f".run-{pid}-abcd1234").mkdir()
            planted = [f".run-{pid}-abcd1234"]
        elif kind == "manifest":
            planted = [f".accessibility-run.tmp-{pid}-0123abcd.json"]
        elif kind == "table":
            planted = [f".municipalities.tmp-{pid}-0123abcd.csv"]
        elif kind == "graph":
            cache = tmp / "cache"
            cache.mkdir()
            planted = [f"../cache/.hannover-braunschweig-main-roads-x.tmp-{pid}-0123abcd.npz"]
        for name in planted:
            if not (out / name).exists():
                (out / name).write_bytes(b"half written")
        (tmp / "planted.json").write_text(json.dumps(planted))
        args = run_with(tmp, {"output.maps": False}, models="central_places")
        return args + (["--cache-dir", str(tmp / "cache")] if kind == "graph" else [])
    return make


def _planted_gone(tmp: Path) -> str | None:
    left = [n for n in json.loads((tmp / "planted.json").read_text())
            if (tmp / "out" / n).exists()]
    return f"leftovers of a killed run stay: {left}" if left else _whole(tmp)


# ------------------------------------------------------------------ file-size limit
def _fsize(limit: int, where: str):
    def make(tmp):
        with_run(tmp)
        _snapshot(tmp)
        args = run_with(tmp, {"output.maps": False}, models="central_places")
        if where == "cache":
            args += ["--cache-dir", str(tmp / "cache")]
        return Sub(argv=args, fsize=limit)
    return make


# ------------------------------------------------------------------ readers
#: Each reader: the run flag, its file in the sample, the models that read it.
READERS = {
    "municipalities": ("gemeinden.csv", "central_places"),
    "central_places": ("zentrale_orte.csv", "central_places"),
    "stations": ("db_long_distance_stations.csv", "indicators"),
    "airports": ("airports_de.csv", "indicators"),
    "facilities": (None, "walk"),
    "commuters": (None, "lage"),
}

_FACILITIES = "service,lon,lat,name\npharmacy,10.52,52.26,Löwen-Apotheke\n" \
              "supermarket,10.53,52.27,Markt Süd\n"


def _reader_source(tmp: Path, flag: str) -> str:
    name = READERS[flag][0]
    if name is not None:
        return (DATA / name).read_text(encoding="utf-8")
    if flag == "facilities":
        return _FACILITIES
    return commuters(tmp).read_text(encoding="utf-8")


def bad_file(tmp: Path, how: str, text: str = "", suffix: str = ".csv") -> Path:
    """A file of kind ``how``: empty, header-only, cp1252, semicolon, truncated,
    binary, a folder, a FIFO, a dangling link or (as another user) unreadable."""

    path = tmp / f"input-{how}{suffix}"
    lines = text.splitlines(keepends=True)
    head = next(i for i, ln in enumerate(lines) if not ln.startswith("#")) if lines else 0
    if how == "empty":
        path.write_bytes(b"")
    elif how == "header-only":
        path.write_text("".join(lines[:head + 1]), encoding="utf-8")
    elif how == "cp1252":
        path.write_bytes(text.encode("cp1252", errors="replace"))
    elif how == "semicolon":
        df = pd.read_csv(io.StringIO(text), dtype=str, comment="#")
        df.to_csv(path, sep=";", index=False)
    elif how == "truncated":
        path.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    elif how == "binary":
        path.write_bytes(bytes(range(256)) * 64)
    elif how == "folder":
        path.mkdir()
    elif how == "fifo":
        os.mkfifo(path)
    elif how == "dangling":
        path.symlink_to(tmp / "nowhere" / path.name)
    elif how == "unreadable":
        path.write_text(text or "x\n", encoding="utf-8")
        path.chmod(0)
    else:
        raise ValueError(how)
    return path


#: Variants a reader may read (a German export) or refuse clearly; the rest must be
#: refused with the file's name.
READABLE = ("cp1252", "semicolon")
VARIANTS = ("empty", "header-only", "cp1252", "semicolon", "truncated", "binary", "folder",
            "fifo", "dangling", "unreadable")
OPAQUE = ("empty", "truncated", "binary", "folder", "fifo", "dangling", "unreadable")
#: What the message says for each kind of unusable file besides its name.
_HOW_WORDS = {"folder": "folder|directory", "fifo": "not a regular file|not a file|fifo",
              "dangling": "not found|does not exist|dangling|missing",
              "unreadable": "permission|readable"}


def _unreadable(argv: list) -> Sub | list:
    """As root every file is readable: run the case in a child without the
    capabilities that skip file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""

    return Sub(argv=argv, drop_dac=True) if os.geteuid() == 0 else argv


def _reader_case(flag: str, how: str):
    def make(tmp):
        path = bad_file(tmp, how, _reader_source(tmp, flag))
        args = run_with(tmp, {"output.maps": False}, models=READERS[flag][1], **{flag: path})
        if flag == "facilities":  # the walk model reads the facilities in the sample's town
            args = run_with(tmp, {"output.maps": False}, models="walk", **{flag: path})
        return _unreadable(args) if how == "unreadable" else args
    return make


def _other_reader_case(kind: str, how: str):
    """The non-CSV readers: the OSM extract, the population grid, the config, a
    scenario, a speed profile, the calibration's reference times."""
    def make(tmp):
        if kind == "osm":
            path = bad_file(tmp, how, suffix=".osm.pbf")
            args = run_with(tmp, osm=path)
        elif kind == "grid":
            path = bad_file(tmp, how, suffix=".parquet")
            args = run_with(tmp, {"output.maps": False}, models="walk", population_grid=path)
        elif kind == "config":
            path = bad_file(tmp, how, "[graph]\nmax_snap_m = 2000.0\n# Straße\n", suffix=".toml")
            args = ["-q", "run", "--config", str(path), "-o", str(tmp / "out")]
        elif kind == "scenario":
            path = bad_file(tmp, how, '[central_places]\n"03151024" = "Mittelzentrum"\n'
                                      "# Gifhorn wird Mittelzentrum (Übung)\n", suffix=".toml")
            args = ["-q", "scenario", str(sample_config(tmp)), str(path), "-o", str(tmp / "sc")]
        elif kind == "profile":
            src = (REPO / "accessibility" / "profiles" / "de-car.toml").read_text(
                encoding="utf-8") + "# Straßen\n"
            path = bad_file(tmp, how, src, suffix=".toml")
            args = run_with(tmp, {"graph.profile": str(path)})
        elif kind == "references":
            path = bad_file(tmp, how, "origin_ags,destination,minutes\n03101000,nearest OZ,0\n")
            args = ["-q", "calibrate", "--config", str(sample_config(tmp)), str(path)]
        else:
            raise ValueError(kind)
        return _unreadable(args) if how == "unreadable" else args
    return make


def _reader_words(how: str, name: str) -> tuple[str, ...]:
    return (name,) + ((_HOW_WORDS[how],) if how in _HOW_WORDS else ())


def reader_cases() -> list[Case]:
    """Every reader with every kind of unusable (or unusual) file."""
    cases = []
    for flag in READERS:
        for how in VARIANTS:
            cases.append(Case(f"reader {flag}: {how}", _reader_case(flag, how),
                              "either" if how in READABLE or (how == "header-only" and
                              flag in ("commuters",)) else "error",
                              _reader_words(how, f"input-{how}"),
                              slow=how in READABLE or how == "unreadable"))
    suffixes = {"osm": ".osm.pbf", "grid": ".parquet", "config": ".toml",
                "scenario": ".toml", "profile": ".toml", "references": ".csv"}
    for kind, suffix in suffixes.items():
        kinds = OPAQUE + (("cp1252",) if suffix == ".toml" else ())
        for how in kinds:
            # a TOML cut at a line end is still valid TOML: read as it is, or refused
            expect = "either" if how == "truncated" and suffix == ".toml" else "error"
            cases.append(Case(f"reader {kind}: {how}", _other_reader_case(kind, how),
                              expect, () if expect == "either" else
                              _reader_words(how, f"input-{how}"),
                              needs_shared=kind == "references", slow=how == "unreadable"))
    return cases


# ------------------------------------------------------------------ ranges, both ends
def range_cases() -> list[Case]:
    """Each plausible range of the config (``config._RANGES``) below and above, and
    NaN: an input error naming the key and the range."""
    from accessibility.config import _RANGES

    cases = []
    for (sec, key), (lo, hi, _unit) in _RANGES.items():
        kind = int if isinstance(lo, int) and isinstance(hi, int) else float
        below = kind(lo - 1) if lo > 0 or kind is int else -1.0
        if kind is float and lo > 0:
            below = lo / 2
        for end, value in (("below", below), ("above", kind(hi * 2 + 1))):
            cases.append(Case(f"[{sec}] {key} {end} its range ({value:g})", lambda t, s=sec, k=key, v=value: [
                "-q", "run", "--config", str(sample_config(t, {f"{s}.{k}": v})),
                "-o", str(t / "out")], "error", (key,)))
        if kind is float:
            cases.append(Case(f"[{sec}] {key} NaN", lambda t, s=sec, k=key: [
                "-q", "run", "--config", str(sample_config(t, {f"{s}.{k}": math.nan})),
                "-o", str(t / "out")], "error", (key,)))
    return cases


# ------------------------------------------------------------------ the cases
def _report_tables(tmp):
    return ["-q", "report-tables", "--municipalities", str(DATA / "gemeinden.csv"),
            "--central-places", str(DATA / "zentrale_orte.csv"), "-o", str(tmp / "out")]


def _same_run(tmp):
    return run_with(tmp, {"output.maps": False}, models="central_places")


def _graph_build(tmp, *extra):
    return ["-q", "graph", "build", str(DATA / "hannover-braunschweig-main-roads.osm.pbf"),
            "-o", str(tmp / "g.npz"), *extra]


def _scenario_file(tmp, text: str) -> list:
    sc = tmp / "sc.toml"
    sc.write_text(text, encoding="utf-8")
    return ["-q", "scenario", str(sample_config(tmp)), str(sc), "-o", str(tmp / "sc")]


def _api_munis(edit):
    """An API callable: ``acc.lage`` on the sample graph with edited municipalities."""
    def make(tmp):
        def call():
            import accessibility as acc
            return acc.lage(_graph(), edit(_munis()()))
        return call
    return make


def _api_attach(**kw):
    def make(tmp):
        def call():
            import accessibility as acc
            return acc.attach(_graph(), _munis()(), **kw)
        return call
    return make


def _api_commuters(factor=1.0, out_over=False):
    def make(tmp):
        def call():
            import accessibility as acc
            return acc.commuter_indicators(_munis()(), commuters(tmp, factor, out_over))
        return call
    return make


def _api_bbox(bbox):
    def make(tmp):
        def call():
            import accessibility as acc
            from accessibility import api as a
            g = _graph()
            return a.mark_region(g, acc.attach(g, _munis()()), bbox=bbox)
        return call
    return make


def _api_scenario(changes):
    def make(tmp):
        def call():
            import accessibility as acc
            return acc.scenario(_graph(), _munis()(), DATA / "zentrale_orte.csv", changes,
                                lage=False)
        return call
    return make


def _api_walk(cells_edit=None, fac=None):
    def make(tmp):
        def call():
            import accessibility as acc
            cells = pd.DataFrame({"x": [4_330_000.0, 4_331_000.0], "y": [3_240_000.0,
                                                                      3_241_000.0],
                                  "population": [5.0, 5.0], "ags": ["03101000"] * 2})
            f = fac if fac is not None else pd.DataFrame(
                {"service": ["pharmacy"], "lon": [10.52], "lat": [52.26]})
            return acc.walk_distances(cells_edit(cells) if cells_edit else cells, f,
                                      methods=("straight",))
        return call
    return make


def _with_column(col, value):
    def edit(df):
        df = df.copy()
        df[col] = value
        return df
    return edit


def _scaled_pop(m):
    m = m.copy()
    m["population"] = m["population"] * 1e9
    return m


def _partial_grid(tmp):
    g = pd.read_parquet(DATA / "zensus2022_1km_sample.parquet")
    g = g[g["x"] < g["x"].median()]  # the west half: the east has no cell
    path = tmp / "partial.parquet"
    g.to_parquet(path)
    return run_with(tmp, {"central_places.origins": "population", "output.maps": False},
                    population_grid=path)


def _origin_method_said(tmp):
    m = pd.read_csv(tmp / "out" / "municipalities.csv", dtype={"ags": str})
    if "origin_method" not in m.columns:
        return "no origin_method column: the fallback to reference points is not said"
    if m["origin_method"].nunique() < 2:
        return f"origin_method is {m['origin_method'].iloc[0]!r} everywhere on a partial grid"
    return None


ISSUE_CASES: list[Case] = [
    # --- results that disappear (more)
    Case("an edited map_lage.png stops the next run", _edit_then_run("map_lage.png"), "error",
         ("changed since", "map_lage.png"), check=_edit_kept("map_lage.png"), slow=True),
    Case("an edited summary.md stops the next run", _edit_then_run("summary.md"), "error",
         ("changed since", "summary.md"), check=_edit_kept("summary.md"), slow=True),
    Case("an edited gvb.csv stops the next run", _edit_then_run("gvb.csv"), "error",
         ("changed since", "gvb.csv"), check=_edit_kept("gvb.csv"), slow=True),
    Case("a user's own summary.md in a new folder", _own_summary_in_fresh_folder, "error",
         ("summary.md", "no run wrote"), check=unchanged("summary.md", "my own summary\n")),
    Case("a user's other files beside a run stay", _own_file_beside, "ok", check=_untouched,
         slow=True),
    Case("scenario then run keeps the scenario", _scenario_then_run, "ok", check=_untouched,
         slow=True),
    Case("graph build -o over a file", lambda t: _existing_named(
        t, lambda t: _graph_build(t), "g.npz"), "error", ("exists", "--force"),
         check=lambda t: _untouched(t)),
    Case("report -o over a file", lambda t: _existing_named(
        t, lambda t: _report_args(t, "-o", "mine.pdf"), "mine.pdf"), "error",
         ("exists", "--force"), check=_untouched, slow=True),
    Case("report --html over a file", lambda t: _existing_named(
        t, lambda t: _report_args(t, "--html", "mine.html"), "mine.html"), "error",
         ("exists", "--force"), check=_untouched, slow=True),
    Case("report-tables over a run's edited file", lambda t: (
        _edit_then_run("summary.md")(t), _report_tables(t))[1], "error",
         ("changed since",), check=_edit_kept("summary.md"), slow=True),
    # --- kills and signals
    Case("SIGINT while publishing", lambda t: _publish_fault(t, "SIGINT"), "signal",
         ("whole|complete",), check=_whole, slow=True),
    Case("SIGTERM while publishing", lambda t: _publish_fault(t, "SIGTERM"), "signal",
         ("whole|complete",), check=_whole, slow=True),
    Case("SIGINT after the first file published", lambda t: _publish_fault(t, "SIGINT", 1),
         "signal", ("whole|complete",), check=_whole, slow=True),
    Case("SIGKILL while publishing, the same run heals", _killed_then(_same_run), "ok",
         check=_healed, slow=True),
    Case("SIGKILL while publishing, report-tables heals", _killed_then(_report_tables), "ok",
         check=_healed, slow=True),
    Case("SIGKILL while publishing, report heals", _killed_then(
        lambda t: ["-q", "report", str(t / "out"), "-o", str(t / "r.pdf")]), "ok",
         check=_healed, slow=True),
    # (the interpreter's own start and the import of the CLI, before any code of the
    # package runs, are Python's: a Ctrl-C there ends in Python's KeyboardInterrupt)
    Case("SIGINT as the command starts", _startup_signal(0.0, 2), "signal",
         check=_untouched, slow=True),
    Case("SIGINT at start-up (0.1 s)", _startup_signal(0.1, 2), "signal", check=_untouched,
         slow=True),
    Case("SIGINT at start-up (0.3 s)", _startup_signal(0.3, 2), "signal", check=_untouched,
         slow=True),
    Case("SIGINT during the run", _signal_in_run(2), "signal", ("interrupted",),
         check=_untouched, slow=True),
    Case("SIGTERM during the run", _signal_in_run(15), "signal", check=_untouched,
         slow=True),
    Case("Ctrl-C while parsing the command line", _interrupt_in("build_parser"), "signal",
         ("interrupted",)),
    Case("a dead publish (journal and stage) is completed", _plant("journal"), "ok",
         check=_planted_gone, slow=True),
    Case("a killed run's staging folder is removed", _plant("stage"), "ok",
         check=_planted_gone, slow=True),
    Case("a killed run's manifest temp is removed", _plant("manifest"), "ok",
         check=_planted_gone, slow=True),
    Case("a killed run's table temp is removed", _plant("table"), "ok",
         check=_planted_gone, slow=True),
    Case("a killed build's graph temp is removed", _plant("graph"), "ok",
         check=_planted_gone, slow=True),
    # --- the file-size limit
    Case("a file-size limit of 64 kB (outputs)", _fsize(64_000, "out"), "fail",
         ("too large|file size",), check=_untouched, slow=True),
    Case("a file-size limit of 1 kB (outputs)", _fsize(1_000, "out"), "fail",
         ("too large|file size",), check=_untouched, slow=True),
    Case("a file-size limit while caching the graph", _fsize(64_000, "cache"), "fail|ok",
         ("too large|file size",), check=_untouched, slow=True),
    # --- silent nonsense (more)
    Case("one population negative", lambda t: run_with(t, municipalities=munis_csv(
        t, _one("bevoelkerung", -5))), "error", ("population",)),
    Case("one population NaN", lambda t: run_with(t, municipalities=munis_csv(
        t, _one("bevoelkerung", math.nan))), "either", ("population",), slow=True),
    Case("populations as text", lambda t: run_with(t, municipalities=munis_csv(
        t, _set("bevoelkerung", "viele"))), "error", ("bevoelkerung|population",)),
    Case("all populations 1", lambda t: run_with(t, municipalities=munis_csv(
        t, _set("bevoelkerung", 1))), "error", ("population",)),
    Case("negative commuters (CLI)", lambda t: run_with(t, models="lage", commuters=(
        lambda p: (pd.read_csv(p, dtype={"ags": str}).assign(in_commuters=-3)
                   .to_csv(p, index=False), p)[1])(commuters(t))), "error", ("commuter",)),
    Case("scenario population negative", lambda t: _scenario_file(
        t, '[population]\n"03151024" = -5\n'), "error", ("population",)),
    Case("scenario population NaN", lambda t: _scenario_file(
        t, '[population]\n"03151024" = nan\n'), "error", ("population",)),
    Case("scenario speed factor 0", lambda t: _scenario_file(
        t, "[roads.speed_factors]\nmotorway = 0.0\n"), "error", ("motorway|speed",)),
    Case("scenario speed factor 1000", lambda t: _scenario_file(
        t, "[roads.speed_factors]\nmotorway = 1000.0\n"), "error", ("motorway|speed",)),
    Case("scenario unknown function", lambda t: _scenario_file(
        t, '[central_places]\n"03151024" = "Metropole"\n'), "error", ("Metropole",)),
    Case("scenario unknown section", lambda t: _scenario_file(
        t, '[populations]\n"03151024" = 5\n'), "error", ("populations",)),
    Case("a profile speed of 0 km/h", lambda t: run_with(
        t, {"graph.profile": str(profile(t, 0.0))}), "error", ("km/h",)),
    Case("a profile speed of -50 km/h", lambda t: run_with(
        t, {"graph.profile": str(profile(t, -50.0))}), "error", ("km/h",)),
    Case("a profile speed of 201 km/h", lambda t: run_with(
        t, {"graph.profile": str(profile(t, 201.0))}), "error", ("km/h",)),
    Case("Lage thresholds decreasing", lambda t: run_with(
        t, {"lage.thresholds": [410000.0, 183000.0, 81000.0]}, models="lage"), "error",
         ("thresholds",)),
    Case("Lage thresholds two numbers", lambda t: run_with(
        t, {"lage.thresholds": [1.0, 2.0]}, models="lage"), "error", ("thresholds",)),
    Case("Lage thresholds infinite", lambda t: run_with(
        t, {"lage.thresholds": [1.0, 2.0, math.inf]}, models="lage"), "error", ("thresholds",)),
    Case("walk.max_snap_m = 1e9", lambda t: run_with(
        t, {"walk.max_snap_m": 1e9}, models="walk"), "error", ("max_snap_m",)),
    Case("graph.max_snap_m = 0", lambda t: run_with(t, {"graph.max_snap_m": 0.0}), "error",
         ("max_snap_m",)),
    # --- CRS and unit traps (more)
    Case("metric_crs EPSG:4326", lambda t: run_with(t, {"graph.metric_crs": "EPSG:4326"}),
         "error", ("4326",)),
    Case("metric_crs EPSG:99999", lambda t: run_with(t, {"graph.metric_crs": "EPSG:99999"}),
         "error", ("99999",)),
    Case("metric_crs nonsense", lambda t: run_with(t, {"graph.metric_crs": "UTM please"}),
         "error", ("UTM please",)),
    Case("graph build --crs EPSG:3857", lambda t: _graph_build(t, "--crs", "EPSG:3857"),
         "error", ("3857",)),
    Case("graph build --crs nonsense", lambda t: _graph_build(t, "--crs", "metres"), "error",
         ("metres",)),
    Case("metric_crs Gauss-Krueger zone 3 is fine", lambda t: run_with(
        t, {"graph.metric_crs": "EPSG:31467", "output.maps": False}), "ok", slow=True),
    Case("origins = population with a partial grid says so", _partial_grid, "ok",
         check=_origin_method_said, slow=True),
    Case("a grid in EPSG:25832 metres", lambda t: run_with(t, models="walk", population_grid=(
        lambda p: (pd.read_parquet(DATA / "zensus2022_1km_sample.parquet").assign(
            x=lambda g: g["x"] - 3_700_000.0, y=lambda g: g["y"] + 2_600_000.0)
            .to_parquet(p), p)[1])(t / "utm.parquet")), "error", ("3035|grid",)),
    Case("a grid in degrees (CLI)", lambda t: run_with(t, models="walk", population_grid=(
        lambda p: (pd.DataFrame({"x": [10.5, 10.51], "y": [52.2, 52.21],
                                 "Einwohner": [5, 5]}).to_parquet(p), p)[1])(
        t / "deg.parquet")), "error", ("3035|degree",)),
    Case("a swapped municipality lon/lat (CLI)", lambda t: run_with(
        t, municipalities=munis_csv(t, lambda d: d.rename(columns={"lon": "lat", "lat": "lon"}))),
         "error", ("lon",)),
    Case("a facility abroad", lambda t: run_with(t, models="walk", facilities=facilities(
        t, b"service,lon,lat\npharmacy,2.35,48.85\n")), "error", ("outside|abroad",)),
    # --- the API checks what the readers check (more)
    Case("API: negative populations in lage", _api_munis(_neg_pop), "error", ("population",)),
    Case("API: populations 1e9 times", _api_munis(_scaled_pop), "error", ("population",)),
    Case("API: all populations 0 in lage", _api_munis(_with_column("population", 0.0)),
         "error", ("population",)),
    Case("API: swapped lon/lat in lage", _api_munis(_swap), "error", ("lon",)),
    Case("API: access speed 0", _api_attach(access_speed_kmh=0.0), "error", ("access",)),
    Case("API: access speed 1000 km/h", _api_attach(access_speed_kmh=1000.0), "error",
         ("access",)),
    Case("API: access speed NaN", _api_attach(access_speed_kmh=math.nan), "error",
         ("access",)),
    Case("API: max_snap_m negative", _api_attach(max_snap_m=-5.0), "error", ("max_snap_m",)),
    Case("API: a bbox of three numbers", _api_bbox((10.1, 52.1, 10.9)), "error", ("bbox",)),
    Case("API: a bbox with NaN", _api_bbox((10.1, math.nan, 10.9, 52.5)), "error", ("bbox",)),
    Case("API: commuters x 1e9", _api_commuters(1e9), "error", ("commuter",)),
    Case("API: out-commuters above residents", _api_commuters(out_over=True), "error",
         ("commuter",)),
    Case("API: a scenario of a list", _api_scenario(["03151024"]), "error", ("scenario",)),
    Case("API: a dict scenario with an unknown section", _api_scenario(
        {"populations": {"03151024": 5}}), "error", ("populations",)),
    Case("API: a dict scenario with a negative population", _api_scenario(
        {"population": {"03151024": -5}}), "error", ("population",)),
    Case("API: cells with negative population", _api_walk(_with_column("population", -1.0)),
         "error", ("population",)),
    Case("API: facilities with swapped lon/lat", _api_walk(fac=pd.DataFrame(
        {"service": ["pharmacy"], "lon": [52.26], "lat": [10.52]})), "error", ("lon",)),
    Case("API: build_graph crs EPSG:4326", lambda t: _graph_crs(t, "EPSG:4326"), "error",
         ("4326",)),
    Case("API: build_graph crs EPSG:99999", lambda t: _graph_crs(t, "EPSG:99999"), "error",
         ("99999",)),
    Case("API: build_graph crs nonsense", lambda t: _graph_crs(t, "metres"), "error",
         ("metres",)),
    Case("API: a Decay with a negative rate", lambda t: lambda: __import__(
        "accessibility").Decay("exponential", beta=-0.1), "error", ("beta",)),
    Case("API: lage thresholds NaN", lambda t: api(
        "lage", _graph, _munis(), thresholds=(math.nan, 2.0, 3.0)), "error", ("thresholds",)),
    Case("API: pt_departures on a bad date", lambda t: api(
        "pt_departures", _munis(), SHARED / "gtfs" / "vrn-rhein-neckar-cut.gtfs.zip",
        date="2022-13-45"), "error", ("2022-13-45",), needs_shared=True),
    # --- every command with a missing or bad required input
    Case("graph build without -o", lambda t: ["graph", "build", str(
        DATA / "hannover-braunschweig-main-roads.osm.pbf")], "error", ("-o",)),
    Case("graph build of a missing file", lambda t: ["-q", "graph", "build", str(
        t / "missing.osm.pbf"), "-o", str(t / "g.npz")], "error", ("missing.osm.pbf",)),
    Case("graph info of a missing file", lambda t: ["-q", "graph", "info", str(t / "g.npz")],
         "error", ("g.npz",)),
    Case("graph info of a file that is no graph", lambda t: (
        (t / "g.npz").write_text("x"), ["-q", "graph", "info", str(t / "g.npz")])[1],
         "error", ("g.npz",)),
    Case("calibrate without references", lambda t: ["calibrate"], "error", ("references",)),
    Case("calibrate with missing references", lambda t: [
        "-q", "calibrate", str(t / "ref.csv")], "error", ("ref.csv",)),
    Case("calibrate --min-factor above --max-factor", lambda t: [
        "-q", "calibrate", "--config", str(sample_config(t)), str(
            SHARED / "reference" / "inkar_2020_car_times_multi_member_gvb.csv"),
        "--min-factor", "3", "--max-factor", "1"], "error", ("factor",), needs_shared=True),
    Case("calibrate --iterations 0", lambda t: [
        "-q", "calibrate", "--config", str(sample_config(t)), str(
            SHARED / "reference" / "inkar_2020_car_times_multi_member_gvb.csv"),
        "--iterations", "0"], "error", ("iterations",), needs_shared=True),
    Case("calibrate-lage --target -1", lambda t: [
        "-q", "calibrate-lage", "--config", str(sample_config(t)), "--target", "-1"], "error",
         ("target",)),
    Case("plan --k 0", lambda t: ["-q", "plan", "--k", "0"], "error", ("--k",)),
    Case("plan --standard -5", lambda t: [
        "-q", "plan", "--config", str(sample_config(t)), "--standard", "-5"], "error",
         ("standard",)),
    Case("plan --candidates of an unknown AGS", lambda t: [
        "-q", "plan", "--config", str(sample_config(t)), "--candidates", "99999999"],
         "error", ("99999999",)),
    Case("report of a missing folder", lambda t: ["-q", "report", str(t / "nowhere")],
         "error", ("nowhere",)),
    Case("report of a folder that is no run", lambda t: (
        (t / "empty").mkdir(), ["-q", "report", str(t / "empty")])[1], "error", ("empty",)),
    Case("report-tables without --municipalities", lambda t: [
        "report-tables", "--central-places", str(DATA / "zentrale_orte.csv"), "-o",
        str(t / "out")], "error", ("--municipalities",)),
    Case("scenario without a file", lambda t: ["scenario"], "error", ("scenario|files",)),
    Case("scenario of a missing file", lambda t: [
        "-q", "scenario", str(t / "x.toml"), "-o", str(t / "sc")], "error", ("x.toml",)),
    Case("run --matrix -5", lambda t: run_with(t) + ["--matrix", "-5"], "error", ("matrix",)),
    Case("run --clip of three numbers", lambda t: run_with(t) + ["--clip", "1,2,3"], "error",
         ("--clip",)),
    Case("run --clip reversed", lambda t: run_with(t) + ["--clip", "10.9,52.5,10.1,52.1"],
         "error", ("clip",)),
    Case("run --isochrones -5", lambda t: run_with(t) + ["--isochrones", "-5"], "error",
         ("isochrones",)),
    Case("run --isochrones 10000", lambda t: run_with(t) + ["--isochrones", "10000"], "error",
         ("isochrone",)),
    Case("run --gtfs-date 2022-13-40", lambda t: run_with(t) + ["--gtfs-date", "2022-13-40"],
         "error", ("2022-13-40",)),
    Case("run --models empty", lambda t: run_with(t, models=","), "error", ("models",)),
    Case("run --unit x", lambda t: run_with(t) + ["--unit", "x"], "error", ("--unit",)),
    Case("run with an output folder one cannot create", lambda t: (
        (t / "f").write_text("x"), run_with(t)[:-4] + ["-o", str(t / "f" / "out"),
                                                        "--models", "central_places"])[1],
         "error", ("f/out|output",)),
]


CASES += ISSUE_CASES + reader_cases() + range_cases()


# ------------------------------------------------------------------ running
#: Longest a case may take (s): a reader that blocks on a FIFO is a finding, not a hang.
TIMEOUT_S = 90


class _Hung(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Hung(f"no answer within {TIMEOUT_S} s")


def run_sub(sub: Sub) -> tuple[int, str]:
    """Run a :class:`Sub`; its exit code (negative: ended by that signal) and stderr."""
    import ctypes
    import resource
    import time

    def pre():
        os.setsid()  # its own group: a signal to it never reaches the probe
        if sub.fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (sub.fsize, sub.fsize))
        if sub.drop_dac:  # prctl(PR_CAPBSET_DROP): the exec'd child lacks them
            libc = ctypes.CDLL(None, use_errno=True)
            for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
                libc.prctl(24, cap, 0, 0, 0)

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = ([sys.executable, "-c", sub.code] if sub.code is not None
           else [sys.executable, "-m", "accessibility.cli", *map(str, sub.argv)])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            cwd=sub.cwd, preexec_fn=pre)
    if sub.signal_after is not None:
        t0 = time.monotonic()
        while sub.ready is not None and not sub.ready.exists() and proc.poll() is None \
                and time.monotonic() - t0 < TIMEOUT_S:
            time.sleep(0.005)
        time.sleep(sub.signal_after[0])
        proc.send_signal(sub.signal_after[1])
    try:
        _, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return -9, err.decode(errors="replace") + f"\nhung: no answer within {TIMEOUT_S} s"
    return proc.returncode, err.decode(errors="replace")


def _call(made, err) -> int:
    """Run what a case made (in this process, or a :class:`Sub`); the exit code."""
    from accessibility._errors import InputError
    from accessibility.cli import main

    if isinstance(made, Sub):
        code, text = run_sub(made)
        err.write(text)
        return code
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        if callable(made):
            try:
                code = made()
            except InputError as e:
                err.write(f"error: {e}\n")
                return 2
            return code if isinstance(code, int) and not isinstance(code, bool) else 0
        try:
            return main(made)
        except SystemExit as e:  # argparse usage errors
            return e.code if isinstance(e.code, int) else 2


def _has(text: str, word: str) -> bool:
    return any(w.lower() in text.lower() for w in word.split("|"))


def run_case(case: Case, tmp: Path) -> Outcome:
    """One case; its outcome."""
    import signal

    if case.needs_shared and not SHARED.is_dir():
        return Outcome(case.name, "skipped", f"needs {SHARED}")
    err = io.StringIO()
    root = logging.getLogger()
    handlers = root.handlers[:]
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(TIMEOUT_S)
    try:
        code = _call(case.make(tmp), err)
    except Exception:
        return Outcome(case.name, "crash", traceback.format_exc(limit=3).splitlines()[-1],
                       traceback.format_exc())
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        root.handlers[:] = handlers
    text = err.getvalue()
    problem = case.check(tmp) if case.check else None
    if problem and any(w in problem for w in ("gone", "lost", "removed", "changed")):
        return Outcome(case.name, "loss", problem, text)
    codes = {"error": {2}, "ok": {0}, "either": {0, 2}, "fail": {1},
             "signal": {130, -2, -15, 143}}
    ok_codes = set().union(*(codes[e] for e in case.expect.split("|")))
    if "Traceback" in text or "internal error" in text.lower() or "hung:" in text:
        return Outcome(case.name, "crash", f"exit {code}", text)
    if code not in ok_codes | {0, 2}:
        return Outcome(case.name, "crash", f"exit {code}", text)
    if code not in ok_codes:
        verdict = "silent" if code == 0 else "unclear"
        return Outcome(case.name, verdict, f"exit {code}", text)
    missing = [w for w in case.words if not _has(text, w)] if code != 0 else []
    if missing or problem:
        verdict = "silent" if code == 0 else "unclear"
        return Outcome(case.name, verdict, problem or f"message lacks {missing}", text)
    return Outcome(case.name, "clear", "", text)


def probe(cases=CASES) -> list[Outcome]:
    out = []
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="probe-") as d:
            out.append(run_case(case, Path(d)))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python scripts/fault_probe.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-k", default="", help="only the cases whose name contains this")
    p.add_argument("-v", action="store_true", help="print each message")
    args = p.parse_args(argv)
    cases = [c for c in CASES if args.k.lower() in c.name.lower()]
    results = []
    width = max(len(c.name) for c in cases)
    for case in cases:
        t = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="probe-") as d:
            r = run_case(case, Path(d))
        results.append(r)
        print(f"{r.name:<{width}}  {r.verdict:<8} {time.perf_counter() - t:5.1f} s  {r.detail}",
              flush=True)
        if args.v and r.message:
            print("    " + r.message.strip().splitlines()[-1][:300], flush=True)
    counts = pd.Series([r.verdict for r in results]).value_counts()
    print("\n" + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" of {len(results)} cases")
    return 0 if set(counts.index) <= {"clear", "skipped"} else 1


if __name__ == "__main__":
    sys.exit(main())
