"""Maps: what a planner needs on a page, and the colouring of neighbouring catchments."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from scipy.spatial import Delaunay

from accessibility._errors import InputError
from accessibility.maps import (
    NO_VALUE_COLOR,
    class_colors,
    map_catchments,
    map_categories,
    map_values,
    neighbour_colors,
)


def test_neighbouring_catchments_get_different_colours():
    rng = np.random.default_rng(4)
    x, y = rng.random(300) * 1e5, rng.random(300) * 1e5
    color = neighbour_colors(x, y)
    for a, b, c in Delaunay(np.column_stack([x, y])).simplices:  # independent neighbours
        assert color[a] != color[b] and color[b] != color[c] and color[a] != color[c]
    assert color.max() < 10  # the palette has 10 colours


def test_class_colors_are_distinct_and_not_white():
    c = class_colors(5, "viridis_r")
    assert len({tuple(np.round(x, 3)) for x in c}) == 5
    assert (c[:, :3].sum(axis=1) < 2.9).all()  # none is (nearly) white


def sample_points(n=30, missing=5):
    rng = np.random.default_rng(1)
    g = gpd.GeoDataFrame({"v": rng.random(n) * 60, "k": rng.integers(0, 4, n).astype(str)},
                         geometry=gpd.points_from_xy(10 + rng.random(n), 52 + rng.random(n)),
                         crs=4326)
    g.loc[:missing - 1, ["v", "k"]] = [np.nan, None]
    return g


def test_maps_write_png_pdf_svg_with_legend_scale_and_source(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    seen = {}
    real_close = plt.close

    def keep(fig):  # look at the figure before it is closed
        ax = fig.axes[0]
        seen["texts"] = [t.get_text() for t in ax.texts]
        leg = ax.get_legend()
        seen["legend"] = [t.get_text() for t in leg.get_texts()] if leg else []
        real_close(fig)

    monkeypatch.setattr(plt, "close", keep)
    g = sample_points()
    for suffix in ("png", "pdf", "svg"):
        p = map_values(g, "v", tmp_path / f"v.{suffix}", title="t", label="min", lang="en")
        assert p.stat().st_size > 1000
    assert "no value (5)" in seen["legend"]
    assert any(t.endswith(" km") for t in seen["texts"])  # scale bar
    assert "N" in seen["texts"]  # north arrow
    assert any("Zensus 2022" in t and "OpenStreetMap" in t for t in seen["texts"])
    map_categories(g, "k", tmp_path / "k.png", title="t", order=["0", "1", "2", "3"],
                   lang="en")
    assert seen["legend"][-1] == "no value (5)" and all("(" in s for s in seen["legend"])
    centres = g.dropna().iloc[:3].assign(name=["A", "B", "C"])
    map_catchments(g, "k", centres, tmp_path / "c.png", title="t")
    assert NO_VALUE_COLOR == "0.85"


def test_geopackage_with_area_layers_and_qgis_styles(tmp_path):
    """With boundaries: GVB, Kreis and Land layers with names, MultiPolygon layers, and
    QGIS styles in layer_styles (valid QML, one default) so the layer opens classified."""
    import sqlite3
    import xml.etree.ElementTree as ET

    import pyogrio

    from accessibility.pipeline import run

    from .conftest import shared

    res = run(output_dir=tmp_path, overrides={
        "inputs.boundaries": str(shared("municipalities", "vg250_2016.gpkg")),
        "output.models": ["central_places", "lage"]})
    gpkg = res.files["gpkg"]
    layers = dict(pyogrio.list_layers(gpkg))
    assert {k: layers[k] for k in ("municipalities", "gvb", "kreis", "land")} == dict.fromkeys(
        ("municipalities", "gvb", "kreis", "land"), "MultiPolygon")
    kreis = gpd.read_file(gpkg, layer="kreis").set_index("kreis")
    assert kreis.loc["03101", "kreis_name"] == "Braunschweig"
    assert "t_oz_min_area_w" in kreis.columns and "lage" in kreis.columns
    land = gpd.read_file(gpkg, layer="land").set_index("land")
    assert land.loc["03", "land_name"] == "Niedersachsen"
    import pandas as pd

    kcsv = pd.read_csv(tmp_path / "kreis.csv", dtype={"kreis": str}).set_index("kreis")
    assert kcsv.loc["03101", "kreis_name"] == "Braunschweig"
    assert pd.read_csv(tmp_path / "land.csv", dtype={"land": str})["land_name"].notna().all()
    gvb = gpd.read_file(gpkg, layer="gvb")
    assert gvb["gvb_name"].notna().all() and gvb["gvb"].is_unique
    with sqlite3.connect(gpkg) as con:
        rows = con.execute("SELECT f_table_name, styleName, styleQML, useAsDefault "
                           "FROM layer_styles").fetchall()
        # QGIS matches a style on the layer's geometry column as the file names it
        geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        style_geom = {r[0] for r in con.execute(
            "SELECT f_table_name || '/' || f_geometry_column FROM layer_styles")}
        registered = con.execute("SELECT data_type FROM gpkg_contents WHERE "
                                 "table_name = 'layer_styles'").fetchone()
    assert style_geom == {f"municipalities/{geom['municipalities']}"}
    assert registered == ("attributes",)
    assert [r[3] for r in rows].count(1) == 1 and rows[0][0] == "municipalities"
    root = ET.fromstring(rows[0][2].split("'SYSTEM'>", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "oz_class"
    values = [c.get("value") for c in renderer.find("categories")]
    assert values[:2] == ["0 (is OZ)", "< 15 min"] and values[-1] == ""  # "" = no value
    assert len(renderer.find("symbols")) == len(values)


def test_kreis_outlines_are_dissolved_once_and_follow_the_geometry(monkeypatch):
    """A run's maps share their polygons: the Kreis outlines are dissolved once; other
    polygons (or codes) give other outlines."""
    import geopandas as gpd
    import shapely

    from accessibility import maps

    sq = [shapely.box(i, 0, i + 1, 1) for i in range(4)]
    a = gpd.GeoDataFrame({"kreis": ["01", "01", "02", "02"]}, geometry=sq, crs="EPSG:25832")
    calls = []
    real = gpd.GeoDataFrame.dissolve
    monkeypatch.setattr(gpd.GeoDataFrame, "dissolve",
                        lambda self, *x, **k: calls.append(1) or real(self, *x, **k))
    first = maps._kreis_outlines(a)
    again = maps._kreis_outlines(a.copy())
    assert len(calls) == 1 and first.equals(again) and len(first) == 2
    b = a.assign(kreis=["01", "02", "02", "02"])
    assert len(maps._kreis_outlines(b)) == 2 and len(calls) == 2
    moved = a.set_geometry(a.geometry.translate(10, 0))
    assert not maps._kreis_outlines(moved).equals(first) and len(calls) == 3


def test_many_places_get_small_stars_and_few_names():
    """A national map has ~1,100 Mittelzentren: the stars shrink and at most
    MAX_LABELS names are written (all of them would cover the map)."""
    import matplotlib.pyplot as plt

    from accessibility import maps

    rng = np.random.default_rng(0)

    def places(n):
        return gpd.GeoDataFrame({"name": [f"P{i}" for i in range(n)]}, crs="EPSG:4326",
                                geometry=gpd.points_from_xy(rng.uniform(6, 15, n),
                                                            rng.uniform(47.5, 55, n)))
    sizes, names = [], []
    for n in (10, 1100):
        fig, ax = plt.subplots()
        p = places(n).to_crs(maps._METRIC)
        ax.set_xlim(p.total_bounds[0], p.total_bounds[2])
        ax.set_ylim(p.total_bounds[1], p.total_bounds[3])
        maps._labels(ax, places(n))
        sizes.append(float(ax.collections[0].get_sizes()[0]))
        names.append(len(ax.texts))
        plt.close(fig)
    assert sizes[0] == 30.0 and sizes[1] < 10.0
    assert names[0] > 0
    assert 0 < names[1] <= maps.MAX_LABELS


def _squares(gvb, kreis, land):
    """Unit squares side by side, one municipality each."""
    from shapely.geometry import box

    n = len(gvb)
    return gpd.GeoDataFrame({"gvb": gvb, "kreis": kreis, "land": land},
                            geometry=[box(i, 0, i + 1, 1) for i in range(n)], crs="EPSG:25832")


def test_area_layers_union_of_finer_units_when_they_nest():
    """Kreis and Land polygons are unions of the finer level's polygons where those
    nest (faster nationally), and of the municipalities where they do not (a GVB
    across two Kreise, a municipality without GVB): the area is the same either way."""
    from accessibility.pipeline.stages import _nests, area_layers

    nested = _squares(["g1", "g1", "g2", "g3"], ["k1", "k1", "k1", "k2"], ["01"] * 4)
    across = _squares(["g1", "g1", "g2", "g3"], ["k1", "k2", "k2", "k2"], ["01"] * 4)
    no_gvb = _squares(["g1", None, "g2", "g3"], ["k1", "k1", "k2", "k2"], ["01"] * 4)
    assert _nests(nested, "gvb", "kreis") and not _nests(across, "gvb", "kreis")
    assert not _nests(no_gvb, "gvb", "kreis") and _nests(no_gvb, "kreis", "land")
    for table, kreis_area in ((nested, {"k1": 3.0, "k2": 1.0}), (across, {"k1": 1.0, "k2": 3.0}),
                              (no_gvb, {"k1": 2.0, "k2": 2.0})):
        layers = area_layers(table, {})
        got = dict(zip(layers["kreis"]["kreis"], layers["kreis"].area))
        assert got == kreis_area
        assert layers["land"].area.tolist() == [4.0]
        assert (layers["kreis"].geom_type == "MultiPolygon").all()


def test_incomplete_units_are_drawn_apart_with_their_legend_entry(monkeypatch, tmp_path):
    """Rows of incomplete units are in no class or colour, grey (hatched polygons,
    crossed points), with the legend entry naming why (issue 23)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    import accessibility.maps as maps_mod

    legends = []

    def capture(fig, path, lang=None):
        for ax in fig.axes:
            if ax.get_legend() is not None:
                legends.append([t.get_text() for t in ax.get_legend().get_texts()])
        return path

    monkeypatch.setattr(maps_mod, "_save", capture)
    boxes = [shapely.box(9 + i * 0.1, 50, 9.09 + i * 0.1, 50.09) for i in range(4)]
    for geom in (boxes, [b.centroid for b in boxes]):
        g = gpd.GeoDataFrame({"c": ["a", "b", None, "a"], "v": [1.0, 2.0, np.nan, 3.0]},
                             geometry=geom, crs=4326)
        cut = np.array([False, False, False, True])
        legends.clear()
        maps_mod.map_categories(g, "c", tmp_path / "c.png", title="t", order=["a", "b"],
                                incomplete=cut, lang="en")
        assert legends[-1] == ["a (1)", "b (1)", "no value (1)",
                               f"{maps_mod.INCOMPLETE_LABEL} (1)"]
        maps_mod.map_values(g, "v", tmp_path / "v.png", title="t", label="m", incomplete=cut,
                            lang="en")
        assert legends[-1] == [f"{maps_mod.INCOMPLETE_LABEL} (1)", "no value (1)"]
    assert maps_mod.INCOMPLETE_LABEL == "incomplete: crosses the extract's edge"



# ------------------------------------------------------------------ German maps, colours
def test_maps_are_german_by_default_and_english_on_request(tmp_path, monkeypatch):
    """Legends and class labels from vocabulary.MAP_WORDS: German unless lang="en"; the
    two differ only in words (the same entries, the same counts)."""
    import string

    import accessibility.maps as maps_mod
    from accessibility.config import load_config
    from accessibility.models.standards import STANDARD_CLASSES
    from accessibility.vocabulary import MAP_WORDS, class_label, class_order

    seen = []

    def keep(fig, path, lang=None):
        leg = fig.axes[0].get_legend()
        seen.append([t.get_text() for t in leg.get_texts()] if leg else [])
        return path

    monkeypatch.setattr(maps_mod, "_save", keep)
    order = class_order("mz")
    g = sample_points().assign(k=lambda d: d["k"].map({"0": order[0], "1": order[1]}))
    for kw in ({"lang": "de"}, {"lang": "en"}, {}):
        map_categories(g, "k", tmp_path / "k.png", title="t", order=order, **kw)
    de, en, default = seen
    assert default == de and de != en and len(de) == len(en)
    assert de[0].startswith("0 (ist MZ/OZ) (") and en[0].startswith("0 (is MZ/OZ) (")
    n = int(g["k"].isna().sum())  # the 5 without a value and classes 2, 3 left unmapped
    assert de[-1] == f"kein Wert ({n})" and en[-1] == f"no value ({n})"
    assert [s.rsplit("(", 1)[1] for s in de] == [s.rsplit("(", 1)[1] for s in en]  # counts
    # every English class label of the maps has a German one, and the words agree
    for label in STANDARD_CLASSES:
        assert class_label(label, "de") != label and class_label(label, "en") == label
    assert class_label("6 of 6", "de") == "6 von 6"
    assert MAP_WORDS["de"].keys() == MAP_WORDS["en"].keys()

    def fields(lang):
        return {k: {f for _, f, _, _ in string.Formatter().parse(v) if f}
                for k, v in MAP_WORDS[lang].items()}

    assert fields("de") == fields("en")
    with pytest.raises(InputError, match="lang"):
        load_config(None, {"output.lang": "fr"})


def test_beyond_a_standard_is_warm_and_met_is_cool():
    """The standards map: met in a cool colour, each class beyond a standard warm (more
    red than blue), 'beyond both' the darkest."""
    import matplotlib.colors

    from accessibility.maps import STANDARD_COLORS
    from accessibility.models.standards import STANDARD_CLASSES

    rgb = np.array([matplotlib.colors.to_rgb(c) for c in STANDARD_COLORS])
    assert len(rgb) == len(STANDARD_CLASSES) and STANDARD_CLASSES[0] == "both met"
    assert rgb[0, 2] > rgb[0, 0]  # met: blue over red
    assert (rgb[1:, 0] > rgb[1:, 2] + 0.3).all()  # beyond: red over blue
    assert rgb[3].sum() == rgb.sum(axis=1).min()  # beyond both: darkest


def test_the_colour_bar_clears_the_source_line_and_the_map(tmp_path, monkeypatch):
    """map_values: the colour bar and the legend beside the map, the source line under
    it; none of their boxes overlaps (measured in the drawn figure)."""
    import matplotlib.pyplot as plt

    seen = {}
    real_close = plt.close

    def keep(fig):  # the figure as saved, before it is closed
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        ax = fig.axes[0]
        bar = next(a for a in ax.child_axes if a.get_label() == "<colorbar>")  # an inset
        source = next(t for t in ax.texts if "OpenStreetMap" in t.get_text())
        seen.update(map=ax.get_window_extent(r), bar=bar.get_tightbbox(r),
                    legend=ax.get_legend().get_window_extent(r),
                    source=source.get_window_extent(r))
        real_close(fig)

    monkeypatch.setattr(plt, "close", keep)
    g = sample_points()
    map_values(g, "v", tmp_path / "v.png", title="t", label="Minuten",
               provisional=np.arange(len(g)) % 3 == 0)
    assert not seen["bar"].overlaps(seen["source"])
    assert not seen["legend"].overlaps(seen["source"])
    assert not seen["bar"].overlaps(seen["legend"])
    assert seen["bar"].x0 >= seen["map"].x1 and seen["legend"].x0 >= seen["map"].x1
