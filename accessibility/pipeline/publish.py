"""Staging and publishing: a run's files appear in the output folder all at once.

Every file of a run is written into a staging folder inside the output folder
(:func:`staged`) and moved into place only when the run succeeded
(:meth:`Output.publish`). A manifest records what a run wrote, so that the next run
replaces exactly those files and never touches anything else; a journal makes the
publish itself complete after a kill (the next run rolls it forward).

Ctrl-C and SIGTERM during the publish (a fraction of a second of file moves) wait
until it is complete, so they never leave two runs mixed; after a SIGKILL the visible
marker :data:`MARKER` says so until any command that reads or writes the folder
finishes the publish.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .._errors import InputError
from .._util import remove_dead_temps
from ..io import write_json, write_table, write_text

logger = logging.getLogger(__name__)

#: The file in the output directory that lists what the last run wrote.
MANIFEST = ".accessibility-run.json"
#: The journal of a publish in progress: while it exists, the folder may hold files of
#: two runs, and the next run (or :func:`complete_publish`) finishes the publish.
JOURNAL = ".accessibility-publish.json"
#: A visible file beside the journal: this folder holds a publish that was cut off.
MARKER = "INCOMPLETE-PUBLISH.txt"
#: Every name a command may write into its output folder (``fnmatch`` patterns; a
#: ``.csv`` comes with its ``.csvt`` column-type sidecar). Checked before any work:
#: a file of these names that no run wrote stops the run at once, not after the
#: computation (tests/test_publish.py checks that every file a run writes is here).
OUTPUT_NAMES = (
    "municipalities.csv", "municipalities.gpkg", "municipalities.parquet", "summary.md",
    "columns.csv", "graph_stats.json", "map.html", "map_*.png", "map_*.pdf", "map_*.svg",
    "gvb.csv", "kreis.csv", "land.csv", "total.csv", "counts.csv", "class_shares.csv",
    "standards.csv", "gvb_lage.csv", "kreis_lage.csv", "lage_by_settlement_type.csv",
    "indicators.csv", "group_indicators.csv", "table_*.csv", "matrix.parquet",
    "isochrones.gpkg", "walk_cells.parquet", "walk_facilities.csv", "scenario_*.csv",
    "scenario_*.gpkg", "pt_*.csv", "walk_units.csv",
    "moves_*.csv",
    "settlement_type_counts.csv", "settlement_types_by_land.csv", "*.csvt",
)


class Output:
    """Writes a run's files into the staging directory and records each one."""

    def __init__(self, stage: Path, final: Path):
        self.stage = stage
        self.final = final
        self.files: dict[str, Path] = {}
        self.tables: dict[str, pd.DataFrame] = {}  # what was written, for later layers
        self.info: dict = {}  # the manifest's record of the run (pipeline/provenance.py)

    def table(self, key: str, df: pd.DataFrame, name: str, **kw) -> None:
        self.tables[key] = df
        self.add(key, write_table(df, self.stage / name, **kw))

    def add(self, key: str, path: Path | dict) -> None:
        items = path.items() if isinstance(path, dict) else [(None, path)]
        for k, p in items:
            name = key if k is None else (f"{key}_{k}" if key else k)
            if not is_output_name(Path(p).name):  # a programming error, caught by the tests
                raise RuntimeError(f"{Path(p).name} is not in publish.OUTPUT_NAMES: add it, "
                                   "so that a run checks for it before any work")
            self.files[name] = Path(p)
            sidecar = Path(p).with_suffix(".csvt")  # the column types of a CSV
            if Path(p).suffix == ".csv" and sidecar.is_file():
                self.files[f"{name}_csvt"] = sidecar

    def publish(self, files: dict[str, Path]) -> dict[str, Path]:
        """Move ``files`` (written into the stage) into the output folder; their
        final paths."""
        return publish(self.stage, self.final, files, self.info)


@contextmanager
def staged(final: Path) -> Iterator[Output]:
    """A fresh staging folder in ``final``, as an :class:`Output`; removed with
    everything in it when the block raises (nothing is published then).

    A publish that a killed run left half done is finished first, and the staging
    folders of killed runs are removed.
    """
    complete_publish(final)
    _remove_dead_stages(final)
    remove_dead_temps(final)
    stage = Path(tempfile.mkdtemp(prefix=f".run-{os.getpid()}-", dir=final))
    try:
        yield Output(stage, final)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)  # nothing was published
        raise


def _remove_dead_stages(final: Path) -> None:
    """Remove the staging folders of runs that were killed (their process is gone).

    A staging folder is named ``.run-<pid>-<random>``; one whose process still lives
    belongs to a run in progress and is left alone.
    """
    for d in final.glob(".run-*-*"):
        pid = d.name.split("-")[1]
        if not (d.is_dir() and pid.isdigit()):
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
            logger.info("removed %s, left by a run that was killed", d)
        except PermissionError:  # another user's live process
            pass

def publish(stage: Path, final: Path, files: dict, info: dict | None = None) -> dict:
    """Move a finished run's files from the staging directory into ``final``.

    Journaled: the journal (written atomically) names the staging folder and the
    files before anything moves, so a publish killed at any point is finished by the
    next run (roll forward), never left mixed. Files the previous run wrote (its
    manifest) that this run did not write are removed, so the folder holds one run's
    results; nothing else is touched. ``info`` (the run's inputs, version, date) goes
    into the manifest as ``run``.
    """
    written = sorted({Path(v).name for v in files.values()})
    ours = set(_read_manifest(final))
    theirs = [n for n in written if (final / n).exists() and n not in ours]
    if theirs:  # a file of the user's (or an input) with an output's name: never replaced
        shutil.rmtree(stage, ignore_errors=True)
        raise InputError(f"the output folder {final} holds files this run would replace but "
                         f"no earlier run wrote: {', '.join(theirs[:8])}. Move them, or choose "
                         "another --output; nothing was written.")
    with _signals_deferred(final):  # Ctrl-C / SIGTERM land after the last move
        write_json({"stage": stage.name, "files": written, "run": info or {}}, final / JOURNAL)
        write_text(f"A run was publishing its results into this folder when it was killed: "
                   f"the files may belong to two runs. Any accessibility command that uses "
                   f"this folder (e.g. the same run again) completes the publish and removes "
                   f"this note; the list of files is in {JOURNAL}.\n", final / MARKER)
        complete_publish(final, quiet=True)
    return {k: final / Path(v).name for k, v in files.items()}


@contextmanager
def _signals_deferred(final: Path | str = "the output folder") -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block (the publish into ``final``): a signal
    that arrives meanwhile is recorded and, after a warning that the publish was
    completed, handed to the previous handler (Ctrl-C then raises KeyboardInterrupt,
    SIGTERM ends the process), so the block is never cut short. Python runs signal
    handlers in the main thread only; elsewhere nothing is held."""
    names = [s for s in ("SIGINT", "SIGTERM") if hasattr(signal, s)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    old = {getattr(signal, s): signal.signal(getattr(signal, s),
                                             lambda signum, _frame: got.append(signum))
           for s in names}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if got:
            logger.warning("%s arrived while publishing into %s: the publish was completed "
                           "first, so the folder holds this run's results whole",
                           signal.Signals(got[0]).name, final)
        for s in dict.fromkeys(got):
            handler = old[s]
            if callable(handler):
                handler(s, None)  # the default SIGINT handler raises KeyboardInterrupt
            elif handler == signal.SIG_DFL:
                signal.raise_signal(s)


def complete_publish(final: str | Path, *, quiet: bool = False) -> bool:
    """Finish the publish the journal in ``final`` describes (if any); True if one was
    finished. Idempotent: every step can be repeated after a kill. Unless ``quiet``
    (the run's own publish), finishing one a killed run left is logged as a warning."""
    final = Path(final)
    try:
        journal = json.loads((final / JOURNAL).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        raise InputError(f"{final / JOURNAL} is unreadable: a publish of an earlier run was "
                         "interrupted. Check the folder's files and remove the journal.") from None
    stage = final / Path(str(journal.get("stage", ""))).name
    written = _names(journal.get("files", []))
    # the stage is removed only after the journal: without it (removed by hand) the
    # folder's files cannot be told apart, so nothing is deleted
    if not stage.is_dir():
        raise InputError(f"an interrupted publish in {final} cannot be completed: its staging "
                         f"folder {stage.name} is gone. Check the folder's files, then remove "
                         f"{JOURNAL}.")
    for name in _read_manifest(final):  # the previous run's files it does not replace
        old = final / name
        if name not in written and old.is_file():
            old.unlink()
    for name in written:
        if (stage / name).exists():  # not moved yet
            os.replace(stage / name, final / name)
    # the content of each file as published: a file changed afterwards (a planner's
    # remarks, an annotated map) is never replaced without being asked
    info = journal.get("run")
    write_json({"files": written, "sha256": {n: sha256(final / n) for n in written
                                             if (final / n).is_file()},
                **({"run": info} if isinstance(info, dict) and info else {})},
               final / MANIFEST)
    # the marker before the journal: a kill in between leaves a journal, which the next
    # command completes again (a no-op), never a marker without one
    (final / MARKER).unlink(missing_ok=True)
    (final / JOURNAL).unlink(missing_ok=True)
    shutil.rmtree(stage, ignore_errors=True)
    if quiet:
        logger.debug("published %d files into %s", len(written), final)
    else:
        logger.warning("completed the publish of a run that was killed while publishing "
                       "into %s: its %d files are now whole", final, len(written))
    return True


def _names(values) -> list[str]:
    """Plain file names only, never a path out of the folder."""
    return [n for n in values if isinstance(n, str) and n and n == Path(n).name
            and n not in (MANIFEST, JOURNAL)]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def changed_since_published(final: str | Path) -> list[str]:
    """The files of the last run in ``final`` whose content changed since it published
    them (by the manifest's SHA-256; a manifest without hashes knows none)."""
    final = Path(final)
    try:
        hashes = json.loads((final / MANIFEST).read_text(encoding="utf-8")).get("sha256", {})
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(hashes, dict):
        return []
    names = set(_names(list(hashes)))
    return sorted(n for n in names if (final / n).is_file()
                  and sha256(final / n) != hashes[n])


def _read_manifest(final: Path) -> list[str]:
    try:
        names = json.loads((final / MANIFEST).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    return _names(names)


def is_output_name(name: str) -> bool:
    """Whether ``name`` is one a command may write (:data:`OUTPUT_NAMES`)."""
    return any(fnmatch.fnmatchcase(name, pat) for pat in OUTPUT_NAMES)


def foreign_outputs(final: str | Path) -> list[str]:
    """Files in ``final`` with a name a run may write (:data:`OUTPUT_NAMES`) that no
    run wrote (not in the manifest): a run would have to replace them, and never
    does."""
    final = Path(final)
    if not final.is_dir():
        return []
    ours = set(_read_manifest(final))
    try:  # a publish cut off by a kill (with --overwrite not completed first): its files
        ours |= set(_names(json.loads((final / JOURNAL).read_text(encoding="utf-8"))
                           .get("files", [])))
    except (OSError, ValueError, AttributeError):
        pass
    return sorted(p.name for p in final.iterdir() if p.is_file() and p.name not in ours
                  and is_output_name(p.name))


def check_output_dir(final: Path, *, overwrite: bool = False) -> None:
    """The output folder exists (or is created) and is writable, no file the last
    run wrote there was changed since (unless ``overwrite``), and no file of an
    output's name is someone else's, before anything runs."""
    if final.exists() and not final.is_dir():
        raise InputError(f"the output path {final} is a file, not a folder: choose another "
                         "--output (or [output] dir)")
    try:
        final.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the output folder {final}: {e.strerror}. Choose a "
                         "folder you can write to (--output).") from None
    if not os.access(final, os.W_OK | os.X_OK):
        raise InputError(f"the output folder {final} is not writable: choose another "
                         "--output (or [output] dir)")
    if not overwrite:
        complete_publish(final)  # a publish cut off by a kill: whole again first
        changed = changed_since_published(final)
        if changed:
            raise InputError(f"{len(changed)} files in {final} were changed since the last run "
                             f"wrote them: {', '.join(changed[:8])}. A run would replace "
                             "them: copy your changes elsewhere, choose another --output, or "
                             "pass --overwrite (overwrite=True) to replace them.")
    theirs = foreign_outputs(final)
    if theirs:  # never replaced, even with --overwrite (that is for the runs' own files)
        raise InputError(f"the output folder {final} holds files with the names of this "
                         f"command's outputs that no run wrote: {', '.join(theirs[:8])}. "
                         "Move them, or choose another --output; nothing was computed.")

