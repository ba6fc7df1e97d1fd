"""The QGIS plugin (``accessibility/qgis_plugin``, issue 27).

Two parts. The runner (how the plugin starts, reads and stops the command), the zip,
and the layers the engine writes for QGIS run in every Python. The plugin itself runs
in Debian's QGIS (marker ``qgis``): ``qgis_process`` with the plugin installed from the
built zip into a temporary profile, and a cancel through Processing in QGIS's own
Python; these skip when QGIS is not installed.
"""

from __future__ import annotations

import configparser
import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
import zipfile
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
import pytest

from .conftest import REPO, shared

PLUGIN = REPO / "accessibility" / "qgis_plugin"
RUEHEN = "03151024"


def load_file(name: str, path: Path):
    """Import a file that is not part of the engine's packages (plugin, script)."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


runner = load_file("qgis_plugin_runner", PLUGIN / "runner.py")
build_script = load_file("scripts_build_qgis_plugin", REPO / "scripts" / "build_qgis_plugin.py")


class Feedback:
    """QgsProcessingFeedback's methods, recorded; canceled when ``cancel_when`` says so."""

    def __init__(self, cancel_when=lambda fb: False):
        self.calls: dict[str, list] = {}
        self.cancel_when = cancel_when

    def _record(self, name, value):
        self.calls.setdefault(name, []).append(value)

    def pushInfo(self, text):
        self._record("info", text)

    def pushWarning(self, text):
        self._record("warning", text)

    def pushCommandInfo(self, text):
        self._record("command", text)

    def pushConsoleInfo(self, text):
        self._record("console", text)

    def reportError(self, text, fatal=False):
        self._record("error", text)

    def setProgress(self, value):
        self._record("progress", value)

    def isCanceled(self):
        return self.cancel_when(self)


def python_child(tmp_path: Path, code: str) -> list[str]:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    return [sys.executable, str(script)]


# ------------------------------------------------------------------ runner (any Python)
def test_runner_sorts_the_lines_and_keeps_the_engine_message(tmp_path):
    cmd = python_child(tmp_path, """
        import sys
        print("INFO accessibility.io.municipalities: read 3 municipalities", file=sys.stderr)
        print("WARNING accessibility.graph: 2 km dropped", file=sys.stderr)
        print("# Accessibility run")
        print("error: 1 problem(s) with the inputs, nothing was run:", file=sys.stderr)
        print("- table x.csv has no AGS column", file=sys.stderr)
        sys.exit(2)
    """)
    fb = Feedback()
    out = runner.run_command(cmd, ["run", "-o", "x"], fb)
    assert out.returncode == 2 and not out.canceled
    assert out.errors == ["1 problem(s) with the inputs, nothing was run:",
                          "- table x.csv has no AGS column"]
    assert out.message() == "\n".join(out.errors)
    assert fb.calls["info"] == ["INFO accessibility.io.municipalities: read 3 municipalities"]
    assert fb.calls["warning"] == ["accessibility.graph: 2 km dropped"]
    assert fb.calls["console"] == ["# Accessibility run"]
    assert fb.calls["error"][-1] == "- table x.csv has no AGS column"
    assert fb.calls["command"] == [" ".join([*cmd, "run", "-o", "x"])]
    assert fb.calls["progress"] == [5, 10, 100]  # io, graph, done
    # without error lines the message names the exit code
    assert "exited with code 3" in runner.Outcome(3).message()


def gone_or_zombie(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waits for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_runner_cancel_stops_the_process_and_what_it_started(tmp_path):
    # a child that ignores the interrupt and the termination (the signals are inherited
    # by its own child): only the last step, a kill of the process group, stops them
    pid_file = tmp_path / "grandchild.pid"
    cmd = python_child(tmp_path, f"""
        import signal, subprocess, sys, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        p = subprocess.Popen(["sleep", "600"])
        open({str(pid_file)!r}, "w").write(str(p.pid))
        print("INFO accessibility.graph: building", file=sys.stderr, flush=True)
        time.sleep(600)
    """)
    fb = Feedback(cancel_when=lambda fb: bool(fb.calls.get("info")) and pid_file.exists())
    out = runner.run_command(cmd, [], fb, grace_s=0.5)
    try:
        check_stopped(out, fb, int(pid_file.read_text()))
    finally:  # never leave them behind when the check fails
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(out.pid, signal.SIGKILL)


def check_stopped(out, fb, grandchild: int) -> None:
    assert out.canceled and out.returncode is None
    assert fb.calls["info"][-1] == f"canceled: stopping the accessibility process {out.pid}"
    with pytest.raises(ProcessLookupError):  # the child is stopped and reaped
        os.kill(out.pid, 0)
    for _ in range(100):  # its child died with it (reaped by init in its own time)
        if gone_or_zombie(grandchild):
            break
        time.sleep(0.05)
    assert gone_or_zombie(grandchild)


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_find_command_setting_environment_path_venv(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv(runner.ENV_VAR, raising=False)
    with pytest.raises(runner.CommandNotFound, match=runner.ENV_VAR):
        runner.find_command("")
    venv_cmd = executable(tmp_path / "venv" / "bin" / "accessibility")
    other = executable(tmp_path / "other" / "accessibility")
    assert runner.find_command(str(tmp_path / "venv")) == [str(venv_cmd)]  # a venv folder
    monkeypatch.setenv(runner.ENV_VAR, str(other))
    assert runner.find_command("") == [str(other)]  # the environment variable
    assert runner.find_command(str(venv_cmd)) == [str(venv_cmd)]  # the setting comes first
    monkeypatch.delenv(runner.ENV_VAR)
    monkeypatch.setenv("PATH", str(other.parent))
    assert runner.find_command(None) == [str(other)]  # PATH
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    assert runner.find_command(None) == [str(venv_cmd)]  # the active virtualenv


def test_child_environment_leaves_qgis_python_behind(monkeypatch):
    monkeypatch.setenv("PYTHONHOME", "/usr")
    monkeypatch.setenv("PYTHONPATH", "/usr/share/qgis/python")
    monkeypatch.setenv("ACCESSIBILITY_CACHE_DIR", "/somewhere")
    env = runner.child_environment()
    assert "PYTHONHOME" not in env and "PYTHONPATH" not in env
    assert env["ACCESSIBILITY_CACHE_DIR"] == "/somewhere" and env["PYTHONUNBUFFERED"] == "1"


# ------------------------------------------------------------------ packaging
def test_the_zip_holds_the_plugin_in_one_folder(tmp_path, capsys):
    assert build_script.__doc__ and len(build_script.__doc__) > 200
    with pytest.raises(SystemExit) as e:
        build_script.main(["--help"])
    assert e.value.code == 0 and "usage" in capsys.readouterr().out
    assert build_script.main(["--out", str(tmp_path)]) == 0
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    version = project["project"]["version"]
    with zipfile.ZipFile(tmp_path / f"accessibility_qgis-{version}.zip") as z:
        names = set(z.namelist())
        meta = configparser.ConfigParser()
        meta.read_string(z.read("accessibility_qgis/metadata.txt").decode("utf-8"))
    assert {f"accessibility_qgis/{n}" for n in ("__init__.py", "metadata.txt", "plugin.py",
                                                "provider.py", "algorithms.py", "runner.py",
                                                "styles.py")} <= names
    assert meta["general"]["version"] == version
    assert meta["general"]["hasProcessingProvider"] == "yes"


def test_the_engine_never_imports_the_plugin_nor_qgis():
    # the wheel leaves the plugin out, and importing the engine loads nothing of QGIS
    find = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "accessibility.qgis_plugin*" in find["tool"]["setuptools"]["packages"]["find"][
        "exclude"]
    code = ("import sys, accessibility, accessibility.api, accessibility.cli, "
            "accessibility.pipeline; import accessibility.qgis_plugin as p; "
            "assert callable(p.classFactory); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'qgis' "
            "or m.startswith('accessibility.qgis_plugin.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ layers for QGIS
def test_scenario_and_plan_write_layers_at_the_reference_points(tmp_path):
    from accessibility.pipeline import plan, sample_config_path, scenario

    s = tmp_path / "ruehen.toml"
    s.write_text(f'name = "Rühen MZ"\n[central_places]\n"{RUEHEN}" = "Mittelzentrum"\n')
    res = scenario(None, s, output_dir=tmp_path / "sc", overrides={"output.maps": False})
    layer = gpd.read_file(tmp_path / "sc" / "scenario_municipalities.gpkg")
    table = pd.read_csv(tmp_path / "sc" / "scenario_municipalities.csv", dtype={"ags": str})
    assert layer.crs.to_epsg() == 4326 and layer["ags"].tolist() == table["ags"].tolist()
    pd.testing.assert_series_equal(layer["t_mz_min_change"], table["t_mz_min_change"])
    register = pd.read_csv(sample_config_path().parent / "gemeinden.csv",
                           dtype={"ags": str}).set_index("ags")
    where = register.loc[layer["ags"]]
    assert (layer.geometry.x.to_numpy() == where["lon"].to_numpy()).all()
    assert (layer.geometry.y.to_numpy() == where["lat"].to_numpy()).all()
    assert "scenario_municipalities_gpkg" in res.files

    chosen = plan(None, k=2, out_file=tmp_path / "plan.gpkg").chosen
    layer = gpd.read_file(tmp_path / "plan.gpkg")
    assert layer["ags"].tolist() == chosen["ags"].tolist() and len(layer) == 2
    assert (layer.geometry.x.to_numpy() == register.loc[layer["ags"], "lon"].to_numpy()).all()


# ------------------------------------------------------------------ in QGIS (qgis_process)
def qgis_process_binary() -> str | None:
    """Debian's ``qgis_process`` is a wrapper that adds ``--noversioncheck`` (from
    /etc/default/qgis), which 3.22's qgis_process rejects: call the binary behind it."""
    import shutil

    return shutil.which("qgis_process.bin") or shutil.which("qgis_process")


QGIS_PYTHON = "/usr/bin/python3"  # Debian's QGIS uses the system Python


@pytest.fixture(scope="module")
def qgis(tmp_path_factory):
    """qgis_process with the plugin installed from the built zip into a temporary
    profile (``QGIS_CUSTOM_CONFIG_PATH``, ``QGIS_PLUGINPATH``) and enabled there."""
    exe = qgis_process_binary()
    if exe is None:
        pytest.skip("qgis_process not found: install QGIS (apt-get install "
                    "--no-install-recommends qgis python3-qgis)")
    base = tmp_path_factory.mktemp("qgis")
    with zipfile.ZipFile(build_script.build(base / "dist")) as z:
        z.extractall(base / "plugins")
    # the command as a user's venv gives it: the engine of this checkout, this Python
    command = base / "bin" / "accessibility"
    command.parent.mkdir()
    command.write_text(f'#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m '
                       'accessibility.cli "$@"\n')
    command.chmod(0o755)
    xdg = base / "xdg"
    xdg.mkdir(mode=0o700)
    # QGIS's embedded Python finds its home through the first python3 on PATH: the
    # system's, not this test's virtualenv
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(PATH=f"/usr/bin:/bin:{os.environ.get('PATH', '')}", QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(base / "profile"),
               QGIS_PLUGINPATH=str(base / "plugins"), XDG_RUNTIME_DIR=str(xdg),
               ACCESSIBILITY_COMMAND=str(command),
               ACCESSIBILITY_CACHE_DIR=str(base / "cache"))
    enabled = subprocess.run([exe, "plugins", "enable", "accessibility_qgis"], env=env,
                             capture_output=True, text=True, timeout=300)
    assert enabled.returncode == 0, enabled.stderr
    return SimpleNamespace(exe=exe, env=env, base=base)


def qgis_run(q, algorithm: str, **params) -> tuple[int, dict | None, str]:
    """``qgis_process --json run accessibility:ALGORITHM -- KEY=VALUE ...``: the exit
    code, the JSON answer (None on failure) and everything printed."""
    args = [q.exe, "--json", "run", f"accessibility:{algorithm}", "--",
            *(f"{k}={v}" for k, v in params.items())]
    p = subprocess.run(args, env=q.env, capture_output=True, text=True, timeout=900)
    try:
        answer = json.loads(p.stdout)
    except json.JSONDecodeError:
        answer = None
    return p.returncode, answer, p.stdout + p.stderr


def in_qgis(q, code: str, *args: str) -> dict:
    """Run ``code`` in QGIS's Python (with the plugin's folder on the path); its last
    printed line, parsed as JSON."""
    if not Path(QGIS_PYTHON).exists():
        pytest.skip(f"{QGIS_PYTHON} (QGIS's Python) not found")
    script = q.base / "script.py"
    script.write_text(textwrap.dedent("""
        import json, sys
        from qgis.core import QgsApplication, QgsVectorLayer
        app = QgsApplication([], False)
        app.initQgis()
    """) + textwrap.dedent(code), encoding="utf-8")
    env = {**q.env, "PYTHONPATH": f"{q.base / 'plugins'}:/usr/share/qgis/python/plugins"}
    p = subprocess.run([QGIS_PYTHON, str(script), *args], env=env, capture_output=True,
                       text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


#: Reads layers as QGIS loads them: features, geometry, the renderer of the default style.
DESCRIBE = """
    out = {}
    for uri in sys.argv[1:]:
        layer = QgsVectorLayer(uri, "x", "ogr")
        r = layer.renderer()
        out[uri] = {"valid": layer.isValid(), "n": layer.featureCount(),
                    "geometry": layer.geometryType(), "renderer": r.type() if r else None,
                    "field": r.classAttribute() if hasattr(r, "classAttribute") else None,
                    "ranges": [[x.lowerValue(), x.upperValue(), x.symbol().color().name()]
                               for x in r.ranges()] if hasattr(r, "ranges") else None}
    print(json.dumps(out))
"""


@pytest.mark.qgis
def test_qgis_lists_the_algorithms(qgis):
    p = subprocess.run([qgis.exe, "list"], env=qgis.env, capture_output=True, text=True,
                       timeout=300)
    assert "Erreichbarkeit zentraler Orte / Central-place accessibility" in p.stdout
    for alg in ("run", "scenario", "plan"):
        assert f"accessibility:{alg}\t" in p.stdout


@pytest.mark.qgis
def test_qgis_run_on_the_sample_loads_the_styled_layers(qgis, tmp_path):
    rc, answer, log = qgis_run(qgis, "run", MAPS="false", OUTPUT=tmp_path / "out")
    assert rc == 0, log
    res = answer["results"]
    gpkg = tmp_path / "out" / "municipalities.gpkg"
    assert res["MUNICIPALITIES_LAYER"] == f"{gpkg}|layername=municipalities"
    assert res["GVB_LAYER"] == str(tmp_path / "out" / "gvb.csv")  # no boundaries: the table
    assert any("read 282 municipalities" in line for line in answer["log"]["info"])
    layers = in_qgis(qgis, DESCRIBE, res["MUNICIPALITIES_LAYER"], res["GVB_LAYER"])
    munis, gvb = layers[res["MUNICIPALITIES_LAYER"]], layers[res["GVB_LAYER"]]
    written = pd.read_csv(tmp_path / "out" / "municipalities.csv")
    assert munis["valid"] and munis["n"] == len(written) and munis["geometry"] == 0  # points
    # the GeoPackage's default style (Oberzentrum: BBSR classes) came with the layer
    assert munis["renderer"] == "categorizedSymbol"
    assert gvb["valid"] and gvb["n"] == len(pd.read_csv(tmp_path / "out" / "gvb.csv"))


@pytest.mark.qgis
def test_qgis_run_on_heidelberg_with_boundaries(qgis, tmp_path):
    rc, answer, log = qgis_run(
        qgis, "run", OSM=shared("osm", "heidelberg.osm.pbf"),
        MUNICIPALITIES=shared("municipalities", "gemeinden_2019_destatis.csv"),
        CENTRAL_PLACES=shared("central_places", "zentrale_orte_2024.csv"),
        BOUNDARIES=shared("municipalities", "vg250_2016.gpkg"),
        MODELS=0, MAPS="false", OUTPUT=tmp_path / "out")
    assert rc == 0, log
    res = answer["results"]
    gpkg = tmp_path / "out" / "municipalities.gpkg"
    assert res["GVB_LAYER"] == f"{gpkg}|layername=gvb"  # with boundaries: GVB polygons
    layers = in_qgis(qgis, DESCRIBE, res["MUNICIPALITIES_LAYER"], res["GVB_LAYER"])
    munis, gvb = layers[res["MUNICIPALITIES_LAYER"]], layers[res["GVB_LAYER"]]
    assert munis["geometry"] == gvb["geometry"] == 2  # polygons
    assert munis["n"] == len(pd.read_csv(tmp_path / "out" / "municipalities.csv")) > 20
    assert gvb["n"] == len(pd.read_csv(tmp_path / "out" / "gvb.csv"))


@pytest.mark.qgis
def test_qgis_bad_input_fails_with_the_engine_message(qgis, tmp_path):
    bad = tmp_path / "zentrale_orte.csv"
    bad.write_text("foo,bar\n1,2\n")
    rc, answer, log = qgis_run(qgis, "run", CENTRAL_PLACES=bad, MODELS=0, MAPS="false",
                               OUTPUT=tmp_path / "out")
    assert rc != 0 and answer is None
    assert "accessibility run failed (exit code 2)" in log
    assert f"central-place table {bad} has no AGS column" in log
    assert not (tmp_path / "out" / "municipalities.gpkg").exists()


#: Runs the Scenario algorithm through Processing in QGIS's Python on the selected
#: features of the register loaded as a delimited-text layer (its AGS read as numbers).
SELECTION = """
    from qgis.core import (QgsProcessingFeatureSourceDefinition, QgsProcessingFeedback,
                           QgsProject)
    from processing.core.Processing import Processing
    Processing.initialize()
    import processing
    from accessibility_qgis.provider import AccessibilityProvider
    provider = AccessibilityProvider()
    assert QgsApplication.processingRegistry().addProvider(provider)
    csv, out = sys.argv[1:3]
    layer = QgsVectorLayer(f"file://{csv}?type=csv&delimiter=,&xField=lon&yField=lat"
                           "&crs=EPSG:4326", "gemeinden", "delimitedtext")
    QgsProject.instance().addMapLayer(layer)
    layer.selectByExpression("\\"name\\" IN ('Rühen', 'Wittingen, Stadt')")
    feedback = QgsProcessingFeedback()
    res = processing.run("accessibility:scenario", {
        "UPGRADE": QgsProcessingFeatureSourceDefinition(layer.id(), selectedFeaturesOnly=True),
        "OUTPUT": out}, feedback=feedback)
    print(json.dumps({"ags_type": layer.fields().field("ags").typeName(),
                      "selected": layer.selectedFeatureCount(), "log": feedback.textLog(),
                      "layer": res["CHANGE_LAYER"]}))
"""


@pytest.mark.qgis
def test_qgis_scenario_upgrades_the_selection_and_styles_the_change(qgis, tmp_path):
    from accessibility.pipeline import sample_config_path

    register = sample_config_path().parent / "gemeinden.csv"
    res = in_qgis(qgis, SELECTION, str(register), str(tmp_path / "sc"))
    assert res["selected"] == 2 and res["ags_type"].lower().startswith("int")
    # the selection, and only it, upgraded; the leading zeros the number column lost back
    assert f'[central_places]\n"{RUEHEN}" = "Mittelzentrum"\n"03151040" = "Mittelzentrum"\n\n' \
        in res["log"]
    assert res["layer"] == str(tmp_path / "sc" / "scenario_municipalities.gpkg")
    change = in_qgis(qgis, DESCRIBE, res["layer"])[res["layer"]]
    assert change["renderer"] == "graduatedSymbol" and change["field"] == "t_mz_min_change"
    ranges = change["ranges"]
    assert len(ranges) == 9
    for (lo, hi, _), (lo2, hi2, _) in zip(ranges, ranges[::-1]):  # symmetric around 0
        assert lo == pytest.approx(-hi2) and hi == pytest.approx(-lo2)
    assert ranges[0][2] == "#2166ac" and ranges[-1][2] == "#b2182b"  # blue faster, red slower
    table = pd.read_csv(tmp_path / "sc" / "scenario_municipalities.csv", dtype={"ags": str})
    assert (table.set_index("ags").loc[[RUEHEN, "03151040"], "t_mz_min_scenario"] == 0).all()
    assert (table["t_mz_min_change"] < 0).any()


@pytest.mark.qgis
def test_qgis_scenario_from_a_config_and_a_scenario_file(qgis, tmp_path):
    from accessibility.pipeline import sample_config_path

    s = tmp_path / "ruehen.toml"
    s.write_text(f'name = "Rühen MZ"\n[central_places]\n"{RUEHEN}" = "Mittelzentrum"\n')
    rc, answer, log = qgis_run(qgis, "scenario", CONFIG=sample_config_path(), SCENARIO=s,
                               OUTPUT=tmp_path / "sc")
    assert rc == 0, log
    assert answer["results"]["CHANGE_LAYER"] == str(tmp_path / "sc" /
                                                    "scenario_municipalities.gpkg")
    table = pd.read_csv(tmp_path / "sc" / "scenario_municipalities.csv", dtype={"ags": str})
    assert table.set_index("ags").loc[RUEHEN, "t_mz_min_scenario"] == 0.0


@pytest.mark.qgis
def test_qgis_plan_loads_the_chosen_municipalities(qgis, tmp_path):
    out = tmp_path / "plan.gpkg"
    rc, answer, log = qgis_run(qgis, "plan", K=2, CANDIDATES_IN="03", OUTPUT=out)
    assert rc == 0, log
    assert answer["results"]["PLAN_LAYER"] == str(out)
    layer = gpd.read_file(out)
    assert len(layer) == 2 and layer["ags"].str.startswith("03").all()
    assert in_qgis(qgis, DESCRIBE, str(out))[str(out)]["n"] == 2


#: Runs the Run algorithm through Processing in QGIS's Python and cancels it from a
#: thread once the engine has logged its first stage.
CANCEL = """
    import re, threading, time
    from qgis.core import QgsProcessingException, QgsProcessingFeedback
    from processing.core.Processing import Processing
    Processing.initialize()
    import processing
    from accessibility_qgis.provider import AccessibilityProvider
    provider = AccessibilityProvider()
    assert QgsApplication.processingRegistry().addProvider(provider)
    feedback = QgsProcessingFeedback()

    def cancel_when_running():
        for _ in range(6000):
            if feedback.progress() >= 5:  # the engine has started its first stage
                break
            time.sleep(0.05)
        feedback.cancel()

    threading.Thread(target=cancel_when_running, daemon=True).start()
    try:
        processing.run("accessibility:run", {"OUTPUT": sys.argv[1]}, feedback=feedback)
        error = None
    except QgsProcessingException as e:
        error = str(e)
    pid = re.search(r"process (\\d+)", error or "")
    print(json.dumps({"error": error, "pid": int(pid.group(1)) if pid else None}))
"""


@pytest.mark.qgis
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_qgis_cancel_stops_the_engine(qgis, tmp_path):
    out = tmp_path / "out"
    res = in_qgis(qgis, CANCEL, str(out))
    assert res["error"].startswith("canceled: the accessibility process")
    assert gone_or_zombie(res["pid"])
    # stopped mid-run: nothing published, and the interrupt let it remove its staging
    assert not (out / "municipalities.gpkg").exists()
    assert list(out.glob(".run-*")) == []


@pytest.mark.qgis
def test_qgis_toolbox_screenshot(qgis, tmp_path):
    # the README's picture: scripts/qgis_toolbox_screenshot.py under a virtual display
    import shutil

    if shutil.which("xvfb-run") is None or not Path(QGIS_PYTHON).exists():
        pytest.skip("xvfb-run or QGIS's Python not found (apt-get install xvfb)")
    png = tmp_path / "toolbox.png"
    env = {**qgis.env, "PYTHONPATH": f"{qgis.base / 'plugins'}:/usr/share/qgis/python/plugins"}
    env.pop("QT_QPA_PLATFORM")  # a real (virtual) display
    p = subprocess.run(["xvfb-run", "-a", QGIS_PYTHON,
                        str(REPO / "scripts" / "qgis_toolbox_screenshot.py"), str(png)],
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
