"""Save and load built graphs (.npz) and key them by input file and profile."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .._errors import InputError
from .._util import temp_path
from .core import RoadGraph

#: Bumped whenever the graph layout or the build rules change, so old caches are ignored.
FORMAT_VERSION = 1
_ARRAYS = ("offsets", "targets", "time_s", "length_m", "road_class", "osm_id",
           "lon", "lat", "x", "y")
#: The arrays of a graph (its content, without derived arrays such as its reverse).
GRAPH_ARRAYS = _ARRAYS


def graph_file(path: str | Path) -> Path:
    """The file :func:`save_graph` writes for ``path``: ``.npz`` added unless there."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    return path


def save_graph(graph: RoadGraph, path: str | Path) -> Path:
    """Write a graph to an uncompressed ``.npz`` file, atomically."""
    path = graph_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format_version": FORMAT_VERSION, "class_names": list(graph.class_names),
            "crs": graph.crs, "meta": graph.meta}
    tmp = temp_path(path)  # a kill leaves it to the next build (remove_dead_temps)
    try:
        with open(tmp, "xb") as f:
            np.savez(f, meta=np.array(json.dumps(meta, default=_jsonable)),
                     **{k: getattr(graph, k) for k in _ARRAYS})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _jsonable(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return None  # masks and other arrays are not provenance
    raise TypeError(type(o))


def load_graph(path: str | Path) -> RoadGraph:
    """Load a graph written by :func:`save_graph`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"graph file {path} does not exist; build it with "
                         "`accessibility graph build INPUT -o GRAPH`")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in _ARRAYS}
    except Exception as e:  # truncated, corrupt (BadZipFile, EOFError, ...), not ours
        raise InputError(f"{path} is not a complete graph file written by this package "
                         f"({type(e).__name__}: {e}); build it again") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise InputError(f"{path} was written by another version of the graph format "
                         f"({meta.get('format_version')} != {FORMAT_VERSION}); rebuild it")
    return RoadGraph(class_names=tuple(meta["class_names"]), crs=meta["crs"],
                     meta=meta["meta"], **arrays)


def cache_key(path: str | Path, profile_fingerprint: str, **options) -> str:
    """Key of a built graph: input file identity (path, size, mtime, and a hash of
    its first and last MiB), the speed profile and the build options."""
    p = Path(path).resolve()
    st = p.stat()
    h = hashlib.sha256()
    h.update(json.dumps([str(p), st.st_size, st.st_mtime_ns, profile_fingerprint,
                         FORMAT_VERSION, sorted(options.items())], default=str).encode())
    with open(p, "rb") as f:
        h.update(f.read(1 << 20))
        if st.st_size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            h.update(f.read())
    return h.hexdigest()[:20]
