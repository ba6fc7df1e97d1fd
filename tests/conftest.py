"""Shared fixtures: paths to ../shared/data and small graphs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The thread-independence tests compare 1 with 2 threads: allow 2 even on a one-core
# runner (numba reads this once, at its import, which comes after this file).
os.environ.setdefault("NUMBA_NUM_THREADS", str(max(2, os.cpu_count() or 1)))

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
OSM_DIR = SHARED / "osm"
TEST_DATA = Path(__file__).resolve().parent / "data"
OSM_FILES = sorted(OSM_DIR.glob("*.osm*")) if OSM_DIR.is_dir() else []
#: Parameters over every shared OSM file; without any, one test that skips naming the folder.
OSM_PARAMS = OSM_FILES or [pytest.param(None, marks=pytest.mark.skip(
    reason=f"shared data {OSM_DIR} (OSM extracts) not available"))]


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
