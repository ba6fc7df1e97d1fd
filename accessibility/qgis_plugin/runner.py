"""Run the ``accessibility`` command as a child process for a Processing algorithm.

The engine never runs inside QGIS's Python: QGIS brings its own interpreter (on
Debian the system Python) without numba, and the engine may live in a virtualenv of
another Python version. This module finds the command, starts it, streams its log
lines into the algorithm's feedback and stops it when the user cancels. It imports
neither ``qgis`` nor the engine: the feedback object is used through its methods
(``pushInfo``, ``pushWarning``, ``reportError``, ``pushConsoleInfo``, ``setProgress``,
``isCanceled``), so the tests run it in any Python.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

#: Environment variable naming the command (a file, or the folder of a virtualenv).
ENV_VAR = "ACCESSIBILITY_COMMAND"
COMMAND = "accessibility"

#: A log line of the command: ``LEVEL logger.name: message`` (its logging format).
_LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) ([\w.]+): (.*)$")

#: Rough progress by the first log line of each stage (a run logs no percentages):
#: inputs, graph, central places, Lage, further indicators, walkability.
_STAGES = (("accessibility.io", 5), ("accessibility.graph", 10),
           ("accessibility.models.central_places", 30), ("accessibility.models.lage", 45),
           ("accessibility.models.indicators", 60), ("accessibility.models.barriers", 75),
           ("accessibility.models.planning", 60), ("accessibility.models.scenario", 40))


class CommandNotFound(Exception):
    """The ``accessibility`` command is not where the settings, the environment or
    ``PATH`` point."""


@dataclass
class Outcome:
    """How the command ended: its exit code (None when canceled), the error lines
    (``error: ...`` and what follows it, and ERROR log lines) and whether the user
    canceled."""

    returncode: int | None
    errors: list[str] = field(default_factory=list)
    canceled: bool = False
    pid: int = 0

    def message(self) -> str:
        """The engine's message for the Processing log, or the exit code."""
        text = "\n".join(self.errors).strip()
        return text or f"the accessibility command exited with code {self.returncode}"


def _in_folder(folder: Path) -> Path | None:
    """The command inside a virtualenv (or ``bin``) folder, if there is one."""
    for sub in ("bin", "Scripts", "."):
        for name in (COMMAND, f"{COMMAND}.exe"):
            p = folder / sub / name
            if p.is_file() and os.access(p, os.X_OK):
                return p
    return None


def find_command(setting: str | None = None) -> list[str]:
    """The command line that starts the engine.

    Looked for, in order: ``setting`` (the provider's setting: the command, or a
    virtualenv folder), ``$ACCESSIBILITY_COMMAND`` (the same), ``accessibility`` on
    ``PATH``, the active virtualenv (``$VIRTUAL_ENV``) and ``~/.venv``, ``~/venv``.

    Raises
    ------
    CommandNotFound
        Naming what was tried and how to set the path.
    """
    tried = []
    for given in (setting, os.environ.get(ENV_VAR)):
        if not given:
            continue
        p = Path(os.path.expanduser(given.strip()))
        found = _in_folder(p) if p.is_dir() else (p if p.is_file() else None)
        if found is not None:
            return [str(found)]
        tried.append(str(p))
    on_path = shutil.which(COMMAND)
    if on_path:
        return [on_path]
    tried.append(f"{COMMAND} on PATH")
    for folder in (os.environ.get("VIRTUAL_ENV"), "~/.venv", "~/venv"):
        if folder:
            found = _in_folder(Path(os.path.expanduser(folder)))
            if found is not None:
                return [str(found)]
            tried.append(folder)
    raise CommandNotFound(
        f"the accessibility command was not found (tried {', '.join(tried)}). Install the "
        "engine (pip install accessibility, in a virtualenv of Python 3.11 or later) and set "
        "its path in Processing > Options > Providers > Central-place accessibility, or in "
        f"the environment variable {ENV_VAR} (the command, or the virtualenv's folder).")


def child_environment() -> dict[str, str]:
    """The environment of the child: QGIS's own, without the variables that point
    Python at QGIS's interpreter and its modules (the command has its own)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    env["PYTHONUNBUFFERED"] = "1"  # log lines as they happen, not at exit
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def _read(stream, tag: str, q: queue.Queue) -> None:
    with stream:
        for line in iter(stream.readline, ""):
            q.put((tag, line.rstrip("\r\n")))
    q.put((tag, None))


def _stop(proc: subprocess.Popen, grace_s: float) -> None:
    """Stop the command and everything it started: an interrupt first (the engine then
    removes its staging folder), then a termination, then a kill."""
    steps = ((signal.SIGINT, grace_s), (signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)) \
        if os.name == "posix" else ((None, 5.0),)
    for sig, wait_s in steps:
        try:
            if sig is None:
                proc.kill()
            else:  # the child leads its own process group (start_new_session)
                os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


class _Relay:
    """Sorts the command's output lines into the feedback's channels."""

    def __init__(self, feedback) -> None:
        self.feedback = feedback
        self.errors: list[str] = []
        self.in_error = False
        self.progress = 0.0

    def stderr(self, line: str) -> None:
        fb = self.feedback
        m = _LOG_LINE.match(line)
        if m:
            self.in_error = False
            level, name, text = m.groups()
            for prefix, pct in _STAGES:
                if name.startswith(prefix) and pct > self.progress:
                    self.progress = pct
                    fb.setProgress(pct)
            if level in ("ERROR", "CRITICAL"):
                self.errors.append(text)
                fb.reportError(line, False)
            elif level == "WARNING" and hasattr(fb, "pushWarning"):  # QGIS >= 3.16
                fb.pushWarning(f"{name}: {text}")
            else:
                fb.pushInfo(line)
        elif line.startswith("error:") or self.in_error:
            # the CLI's message on a bad input: "error: ..." and its further lines
            self.in_error = True
            self.errors.append(line.removeprefix("error:").strip())
            fb.reportError(line, False)
        elif line.strip():
            fb.pushInfo(line)

    def stdout(self, line: str) -> None:
        self.feedback.pushConsoleInfo(line)


def run_command(command: list[str], args: list[str], feedback, *, poll_s: float = 0.1,
                grace_s: float = 3.0, cwd: str | None = None) -> Outcome:
    """Run ``command + args`` until it exits or ``feedback.isCanceled()``.

    Log lines (standard error) go to ``pushInfo`` / ``pushWarning``, error lines to
    ``reportError``, the printed summary (standard output) to ``pushConsoleInfo``; the
    progress follows the stages the log names. Only this thread calls the feedback:
    two reader threads hand the lines over through a queue.
    """
    popen_kw = {"start_new_session": True} if os.name == "posix" else {
        "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    show = getattr(feedback, "pushCommandInfo", feedback.pushInfo)
    show(" ".join([*command, *args]))
    proc = subprocess.Popen([*command, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            encoding="utf-8", errors="replace", bufsize=1,
                            env=child_environment(), cwd=cwd, **popen_kw)
    q: queue.Queue = queue.Queue()
    readers = [threading.Thread(target=_read, args=(s, t, q), daemon=True)
               for s, t in ((proc.stdout, "out"), (proc.stderr, "err"))]
    for r in readers:
        r.start()
    relay = _Relay(feedback)
    open_streams = 2
    canceled = False
    while open_streams:
        if feedback.isCanceled():
            canceled = True
            feedback.pushInfo(f"canceled: stopping the accessibility process {proc.pid}")
            _stop(proc, grace_s)
            break
        try:
            tag, line = q.get(timeout=poll_s)
        except queue.Empty:
            continue
        if line is None:
            open_streams -= 1
        elif tag == "err":
            relay.stderr(line)
        else:
            relay.stdout(line)
    if not canceled:  # (a canceled one was waited for by _stop)
        proc.wait()
    for r in readers:
        r.join(timeout=1.0)
    if not canceled:
        feedback.setProgress(100)
    return Outcome(None if canceled else proc.returncode, relay.errors, canceled, proc.pid)
