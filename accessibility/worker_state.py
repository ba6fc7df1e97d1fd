"""Inputs that live on the Dask workers: written to a file once, memory-mapped by
each worker once per cluster, never scattered with a batch.

A scenario batch needs the road graph (and its reverse), the tables, the base's
results and the base's searches: about 1 GB on a national graph. Scattered, they are
pickled, sent and unpickled into each worker's own memory for every batch. Instead
the client writes them once to ``FOLDER/KEY.state`` (:func:`dump`: a pickle whose
arrays are stored out of band, aligned and uncompressed) and each worker maps that
file (:func:`load`, copy on write: the workers share the pages of the operating
system's file cache; loading copies no array) and keeps the objects under ``KEY``
(:func:`hold`) until a batch with another key arrives. A task then carries its
piece and the key only.

``KEY`` is a hash of the inputs' content (:func:`content_key`), so a batch with
another base writes and loads its own file; the file of an unchanged base is
reused by every later batch and cluster. The base's results depend on the code that
computed them too: callers put :func:`code_key` into the key, so that a file
written by another version of the package (another checkout sharing the temporary
folder, a model that gained a column) is never taken.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import mmap
import os
import pickle
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._util import temp_path

logger = logging.getLogger(__name__)

__all__ = ["Resident", "code_key", "content_key", "dump", "held_key", "hold", "load"]

#: State files not loaded for this long are removed when another one is written.
MAX_AGE_S = 86_400.0
_MAGIC = b"ACCESSIBILITY-STATE-1\n\0\0"  # 24 bytes (8-aligned header)
_ALIGN = 64

# the objects this worker holds: {key: objects}, one key at a time
_HELD: dict[str, dict] = {}
_LOCK = threading.Lock()


def _pickled(obj: Any) -> tuple[bytes, list[memoryview]]:
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    return data, [b.raw() for b in buffers]


@functools.cache
def code_key() -> str:
    """A hash of this package's source files (read once per process): the version of
    the code that computed a state file's results."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def content_key(obj: Any) -> str:
    """A hash of ``obj``'s content: arrays and tables by their values (a copy, a
    read-only view or another block layout hashes the same), lists and tuples item
    by item, anything else by its pickle. Equal inputs give the same key, any
    changed value another one."""
    h = hashlib.blake2b(digest_size=16)
    _update(h, obj)
    return h.hexdigest()


def _update(h, obj: Any) -> None:
    if isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}{len(obj)}".encode())
        for o in obj:
            _update(h, o)
    elif isinstance(obj, np.ndarray) and obj.dtype != object:
        h.update(f"a{obj.dtype.str}{obj.shape}".encode())
        h.update(np.ascontiguousarray(obj).view(np.uint8).reshape(-1))
    elif isinstance(obj, pd.DataFrame):
        h.update(b"frame")
        _update(h, [list(obj.columns), list(map(str, obj.dtypes)), obj.index.to_numpy(),
                    *(obj[c].to_numpy() for c in obj.columns)])
    else:
        data, buffers = _pickled(obj)
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
        for b in buffers:
            h.update(len(b).to_bytes(8, "little"))
            h.update(b)


def _ours(path: Path) -> bool:
    """Whether ``path`` is a state file (it starts with this module's magic bytes)."""
    with open(path, "rb") as f:
        return f.read(len(_MAGIC)) == _MAGIC


def dump(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` for :func:`load` (atomically: a reader sees the whole file or
    none). Layout: magic, buffer count, pickle length, (offset, size) per buffer,
    the pickle, then each buffer at a 64-byte aligned offset."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data, buffers = _pickled(obj)
    head = len(_MAGIC) + 16 + 16 * len(buffers)
    offsets, at = [], head + len(data)
    for b in buffers:
        at = -(-at // _ALIGN) * _ALIGN
        offsets.append((at, len(b)))
        at += len(b)
    table = np.array([len(buffers), len(data), *[v for o in offsets for v in o]], "<u8")
    tmp = temp_path(path)
    try:
        with open(tmp, "xb") as f:
            f.write(_MAGIC + table.tobytes() + data)
            for (o, _), b in zip(offsets, buffers):
                f.write(b"\0" * (o - f.tell()))
                f.write(b)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | Path) -> Any:
    """The object :func:`dump` wrote, its arrays views of the memory-mapped file
    (copy on write; read-only arrays stay read-only)."""
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    view = memoryview(mm)
    if bytes(view[:len(_MAGIC)]) != _MAGIC:
        raise ValueError(f"{path} is not a worker state file")
    n, size = (int(v) for v in np.frombuffer(view, "<u8", 2, len(_MAGIC)))
    table = np.frombuffer(view, "<u8", 2 * n, len(_MAGIC) + 16).reshape(n, 2)
    start = len(_MAGIC) + 16 + 16 * n
    return pickle.loads(view[start:start + size],
                        buffers=[view[int(o):int(o) + int(s)] for o, s in table])


def hold(key: str, path: str) -> dict:
    """The objects of ``key`` in this worker, loaded from ``path`` on first use; a
    new key replaces the one held (one base at a time)."""
    with _LOCK:
        if key not in _HELD:
            _HELD.clear()
            _HELD[key] = load(path)
            logger.info("worker state %s loaded from %s", key, path)
        return _HELD[key]


def held_key() -> str | None:
    """The key this worker holds (None: none yet)."""
    return next(iter(_HELD), None)


@dataclass
class Resident:
    """Keyword inputs of every task that live on the workers (module docstring).

    Attributes
    ----------
    objects : dict
        The inputs (in this process: :class:`~accessibility.compute.LocalExecutor`
        passes them as they are).
    key : str
        :func:`content_key` of what determines them.
    folder : Path
        Where the file is written (a folder the workers can read: local, or shared
        with the machines of a remote cluster).
    """

    objects: dict = field(repr=False)
    key: str
    folder: Path

    @property
    def path(self) -> Path:
        return Path(self.folder) / f"{self.key}.state"

    def write(self) -> Path:
        """The file (written once per key; the folder's other state files unused for
        :data:`MAX_AGE_S` are removed)."""
        if self.path.is_file():
            os.utime(self.path)  # in use: not pruned
            return self.path
        dump(self.objects, self.path)
        logger.info("worker state written to %s (%.0f MB)", self.path,
                    self.path.stat().st_size / 1e6)
        for old in Path(self.folder).glob("*.state"):
            with contextlib.suppress(OSError):  # another process may prune it too
                if (old != self.path and time.time() - old.stat().st_mtime > MAX_AGE_S
                        and _ours(old)):  # never a file this module did not write
                    old.unlink()
        return self.path
