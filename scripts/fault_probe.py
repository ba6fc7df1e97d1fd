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

``tests/test_fault_probe.py`` runs every case as a test. The original 464-case probe
of the review is not in the repository; these are its categories, case by case.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import sys
import tempfile
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
    """One probe: ``make(tmp)`` returns CLI arguments (a list) or an API callable."""

    name: str
    make: Callable[[Path], list | Callable]
    expect: str = "error"            # "error" or "ok"
    words: tuple[str, ...] = ()      # the message must name these (case-insensitive)
    check: Callable[[Path], str | None] | None = None  # after the call: None or a problem
    needs_shared: bool = False


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
    Case("run then scenario keeps the run", _run_then_scenario, "ok", check=_run_files_kept),
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


# ------------------------------------------------------------------ running
def run_case(case: Case, tmp: Path) -> Outcome:
    """One case in this process; its outcome."""
    from accessibility._errors import InputError
    from accessibility.cli import main

    if case.needs_shared and not SHARED.is_dir():
        return Outcome(case.name, "skipped", f"needs {SHARED}")
    err = io.StringIO()
    code = None
    root = logging.getLogger()
    handlers = root.handlers[:]
    try:
        made = case.make(tmp)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            if callable(made):
                try:
                    made()
                    code = 0
                except InputError as e:
                    code = 2
                    err.write(f"error: {e}\n")
            else:
                try:
                    code = main(made)
                except SystemExit as e:  # argparse usage errors
                    code = e.code if isinstance(e.code, int) else 2
    except Exception:
        return Outcome(case.name, "crash", traceback.format_exc(limit=3).splitlines()[-1],
                       traceback.format_exc())
    finally:
        root.handlers[:] = handlers
    text = err.getvalue()
    problem = case.check(tmp) if case.check else None
    if problem and ("gone" in problem or "lost" in problem or "removed" in problem
                    or "changed" in problem):
        return Outcome(case.name, "loss", problem, text)
    if "Traceback" in text or "internal error" in text.lower() or code not in (0, 2):
        return Outcome(case.name, "crash", f"exit {code}", text)
    if case.expect == "ok":
        if code != 0:
            return Outcome(case.name, "unclear", f"a valid variant exits {code}", text)
        return Outcome(case.name, "silent" if problem else "clear", problem or "", text)
    if code == 0:
        return Outcome(case.name, "silent", "exit 0", text)
    missing = [w for w in case.words if w.lower() not in text.lower()]
    if missing or problem:
        return Outcome(case.name, "unclear", problem or f"message lacks {missing}", text)
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
    results = probe(cases)
    width = max(len(r.name) for r in results)
    for r in results:
        print(f"{r.name:<{width}}  {r.verdict:<8} {r.detail}")
        if args.v and r.message:
            print("    " + r.message.strip().splitlines()[-1][:300])
    counts = pd.Series([r.verdict for r in results]).value_counts()
    print("\n" + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" of {len(results)} cases")
    return 0 if set(counts.index) <= {"clear", "skipped"} else 1


if __name__ == "__main__":
    sys.exit(main())
