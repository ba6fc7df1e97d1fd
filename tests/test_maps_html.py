"""map.html works offline: Leaflet inlined, no script or style from the web, and the
layers drawn in headless Chromium with the network off (skipped without chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess

import geopandas as gpd
import matplotlib.colors
import matplotlib.pyplot
import numpy as np
import pytest
from shapely.geometry import box

from accessibility.maps import LEAFLET, class_colors, interactive_map
from accessibility.vocabulary import class_order

#: The only web addresses map.html may load from: the base map tiles.
TILES = "https://tile.openstreetmap.org/"


def squares(n: int = 4) -> gpd.GeoDataFrame:
    """n municipalities as 0.1-degree squares in a row, one per MZ time class."""
    order = class_order("mz")
    return gpd.GeoDataFrame(
        {"ags": [f"0315{i:04d}" for i in range(n)], "name": [f"Ort {i}" for i in range(n)],
         "t_mz_min": np.arange(n) * 8.0, "mz_class": [order[i % len(order)] for i in range(n)]},
        geometry=[box(10.0 + 0.1 * i, 52.0, 10.1 + 0.1 * i, 52.1) for i in range(n)],
        crs="EPSG:4326")


def loaded_urls(html: str) -> list[str]:
    """Every web address a <script src> or <link href> of the page loads."""
    return re.findall(r"<(?:script|link)\b[^>]*?(?:src|href)\s*=\s*[\"']?(https?://[^\"'\s>]+)",
                      html, flags=re.IGNORECASE)


def test_map_html_loads_no_script_or_style_from_the_web(tmp_path):
    html = interactive_map(squares(), tmp_path / "map.html").read_text("utf-8")
    assert loaded_urls(html) == []
    assert "cdn." not in html and "@import" not in html
    # Leaflet itself is in the page (its version line), and the tiles are the only URL left
    assert "Leaflet 1.9.4" in html and LEAFLET == "leaflet-1.9.4"
    urls = set(re.findall(r"https?://[^\"'\s)\\<]+", html))
    assert {u for u in urls if "{z}" in u} == {TILES + "{z}/{x}/{y}.png"}
    # the check catches what folium writes by default (planted: a CDN script)
    assert loaded_urls('<script src="https://cdn.jsdelivr.net/npm/leaflet.js"></script>')


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium not installed (Debian: apt-get install chromium)")
    return exe


def offline_chromium(exe: str, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with every host unresolvable and a dead proxy: no network."""
    return subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
         "--virtual-time-budget=10000", *args],
        capture_output=True, text=True, timeout=120)


def test_map_html_shows_its_layers_offline(tmp_path):
    """In Chromium without network the map has its layer control and one SVG path per
    municipality of the shown layer, and the screenshot shows their fill colours."""
    exe = chromium()
    g = squares()
    page = interactive_map(g, tmp_path / "map.html")
    dom = offline_chromium(exe, "--dump-dom", page.as_uri()).stdout
    assert "leaflet-control-layers" in dom, dom[-2000:]
    assert "chsten Mittelzentrum" in dom  # the layer's name in the control
    assert dom.count('class="leaflet-interactive"') == len(g)
    shot = tmp_path / "map.png"
    offline_chromium(exe, f"--screenshot={shot}", "--window-size=900,700", page.as_uri())
    img = matplotlib.pyplot.imread(shot)[..., :3]  # floats 0..1
    # each class colour at fillOpacity 0.75 over Leaflet's grey (#ddd, no tiles offline)
    order = class_order("mz")
    grey = np.array(matplotlib.colors.to_rgb("#dddddd"))
    for rgba in class_colors(len(order), "viridis_r")[:len(g)]:
        want = 0.75 * np.asarray(rgba[:3]) + 0.25 * grey
        near = np.abs(img - want).max(axis=2) < 0.04
        assert near.sum() > 2000, (rgba, near.sum())  # a square is ~30,000 pixels
