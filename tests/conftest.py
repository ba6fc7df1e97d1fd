"""Shared fixtures: paths to ../shared/data and small graphs."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# The thread-independence tests compare 1 with 2 threads: allow 2 even on a one-core
# runner (numba reads this once, at its import, which comes after this file).
os.environ.setdefault("NUMBA_NUM_THREADS", str(max(2, os.cpu_count() or 1)))

# The graph cache never goes into the user's home: a folder of this session for the
# module and session fixtures, and a fresh one per test (the fixture below), so that a
# test that counts builds does not find the graph of another test or of an earlier run.
_SESSION_CACHE = tempfile.mkdtemp(prefix="accessibility-cache-")
atexit.register(shutil.rmtree, _SESSION_CACHE, ignore_errors=True)
os.environ["ACCESSIBILITY_CACHE_DIR"] = _SESSION_CACHE

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
OSM_DIR = SHARED / "osm"
TEST_DATA = Path(__file__).resolve().parent / "data"
OSM_FILES = sorted(OSM_DIR.glob("*.osm*")) if OSM_DIR.is_dir() else []
#: Parameters over every shared OSM file; without any, one test that skips naming the folder.
OSM_PARAMS = OSM_FILES or [pytest.param(None, marks=pytest.mark.skip(
    reason=f"shared data {OSM_DIR} (OSM extracts) not available"))]


@pytest.fixture(autouse=True)
def graph_cache(tmp_path_factory, monkeypatch) -> Path:
    """The graph cache of this test: an empty folder (``$ACCESSIBILITY_CACHE_DIR``)."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("ACCESSIBILITY_CACHE_DIR", str(cache))
    return cache


def shared(*parts: str) -> Path:
    """Path into ../shared/data; skips the test when the data is not there."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data {p} not available")
    return p


@pytest.fixture(scope="session")
def hb_graph():
    """The simplified Hannover-Braunschweig main-road graph."""
    from accessibility.graph import build_graph

    return build_graph(shared("osm", "hannover-braunschweig-main-roads.osm.pbf"))
