"""Small helpers shared across layers (no domain logic)."""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

#: How many values a message lists before it says "... (n more)".
LIST_MAX = 10


def show(values: Iterable[object], limit: int = LIST_MAX) -> str:
    """Return the first ``limit`` values comma separated, with a count of the rest."""
    values = list(values)
    head = ", ".join(str(v) for v in values[:limit])
    if len(values) > limit:
        head += f", ... ({len(values) - limit} more)"
    return head


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux: ru_maxrss is KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def read_toml(path, what: str) -> dict:
    """A TOML file as a dict; a missing or malformed file is an InputError naming
    ``what`` it is (e.g. "speed profile", "scenario")."""
    import tomllib
    from pathlib import Path

    from ._checks import file_problem
    from ._errors import InputError

    p = Path(path)
    problem = file_problem(p)
    if problem:
        raise InputError(f"{what} file: {problem}")
    try:
        return tomllib.loads(p.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{what} {p} is not valid TOML (UTF-8): {e}") from None


def require_columns(df, required, what: str, hint: str = "") -> None:
    """Raise an InputError naming the first of ``required`` missing from ``df`` (a
    table ``what`` needs), the columns it has, and ``hint`` (how to get it)."""
    from ._errors import InputError

    missing = [c for c in required if c not in df.columns]
    if missing:
        have = list(df.columns)
        raise InputError(f"{what} needs the column {missing[0]!r} (columns: "
                         f"{have[:20]}{' ...' if len(have) > 20 else ''})"
                         + (f"; {hint}" if hint else ""))


# ------------------------------------------------------------------ temporary files
def temp_path(final, tag: str = "tmp"):
    """Where to write ``final`` before it is moved into place: ``.<stem>.<tag>-<pid>-
    <random><suffix>`` beside it (same file system, so the move is atomic; the suffix
    kept, so drivers know the format). The process id in the name lets any later run
    remove the file when a kill left it behind (:func:`remove_dead_temps`)."""
    final = Path(final)
    return final.with_name(f".{final.stem}.{tag}-{os.getpid()}-{secrets.token_hex(4)}"
                           f"{final.suffix}")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's process, or no signals (Windows)
        return True
    return True


def remove_dead_temps(folder) -> list:
    """Remove the temporary files (:func:`temp_path`) in ``folder`` whose process is
    gone: what a killed run left behind. Files of running processes stay."""
    removed = []
    pattern = re.compile(r"^\..+\.tmp-(\d+)-[0-9a-f]{8}")
    for p in Path(folder).glob(".*.tmp-*"):
        m = pattern.match(p.name)
        if m and p.is_file() and not pid_alive(int(m.group(1))):
            try:
                p.unlink()
            except OSError:
                continue
            removed.append(p)
    if removed:
        logging.getLogger(__name__).info("removed %d temporary files of killed runs in %s",
                                         len(removed), folder)
    return removed
