"""Maps as the hand-in document needs them (issue 26): destinations on their own time
maps, legends that count what the map shows, the legend written into the PNG, and
nothing overlapping (measured with matplotlib's renderer)."""

from __future__ import annotations

import itertools

import geopandas as gpd
import matplotlib.transforms
import numpy as np
import pandas as pd
import pytest

from accessibility.maps import map_categories, map_values


def points(n=40, missing=4):
    rng = np.random.default_rng(7)
    g = gpd.GeoDataFrame({"v": rng.random(n) * 60,
                          "k": rng.choice(["< 15 min", "15-30 min"], n),
                          "gvb": rng.integers(0, 9, n).astype(str)},
                         geometry=gpd.points_from_xy(10 + rng.random(n), 52 + rng.random(n)),
                         crs=4326)
    g.loc[:missing - 1, ["v", "k"]] = [np.nan, None]
    return g


@pytest.fixture
def drawn(monkeypatch):
    """The boxes of title, legend, colour bar and source line of each figure saved."""
    import matplotlib.pyplot as plt

    seen = []
    real_close = plt.close

    def keep(fig):
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        ax = fig.axes[0]
        boxes = {"title": ax.title.get_window_extent(r),
                 "legend": ax.get_legend().get_window_extent(r),
                 "source": next(t for t in ax.texts if "OpenStreetMap" in t.get_text())
                 .get_window_extent(r)}
        # the data (every drawn collection) and the decorations that stand on the map
        limits = [c.get_datalim(ax.transData) for c in ax.collections]
        data = ax.transData.transform_bbox(matplotlib.transforms.Bbox.union(
            [b for b in limits if np.isfinite(b.bounds).all() and b.width >= 0]))
        north = next(t for t in ax.texts if t.get_text() == "N").get_window_extent(r)
        scale = next(t for t in ax.texts if t.get_text().endswith(" km")).get_window_extent(r)
        bars = [a for a in ax.child_axes if a.get_label() == "<colorbar>"]
        if bars:
            boxes["bar"] = bars[0].get_tightbbox(r)
        seen.append({"boxes": boxes, "data": data, "north": north, "scale": scale,
                     "legend": [t.get_text() for t in ax.get_legend().get_texts()]})
        real_close(fig)

    monkeypatch.setattr(plt, "close", keep)
    return seen


def assert_apart(fig):
    """Title, legend, colour bar and source line apart; the north arrow and the scale
    bar off the data's bounding box."""
    for (a, ba), (b, bb) in itertools.combinations(fig["boxes"].items(), 2):
        assert not ba.overlaps(bb), f"{a} overlaps {b}"
    assert not fig["north"].overlaps(fig["data"]) and not fig["scale"].overlaps(fig["data"])


def test_destinations_on_their_time_map_counted_as_drawn(drawn, tmp_path):
    """Two airports inside the map, one far beyond (it would zoom the map out to
    Germany): the two are drawn and counted, the legend says so; title, legend,
    colour bar and source line do not overlap."""
    from PIL import Image

    g = points()
    airports = gpd.GeoDataFrame({"name": ["A", "B", "Far"]},
                                geometry=gpd.points_from_xy([10.3, 10.6, 13.5],
                                                            [52.4, 52.7, 48.1]), crs=4326)
    p = map_values(g, "v", tmp_path / "a.png", title="Pkw-Fahrzeit zum nächsten Flughafen",
                   label="Minuten", destinations=airports, destination_label="Flughäfen",
                   provisional=np.arange(len(g)) % 4 == 0, lang="de")
    fig = drawn[-1]
    assert "Flughäfen (2)" in fig["legend"]
    assert_apart(fig)
    with Image.open(p) as im:  # the legend as text in the PNG, for the document
        assert im.text["Legend"].split(" | ") == fig["legend"] + ["Minuten"]


def test_legends_count_units_when_the_map_shows_units(drawn, tmp_path):
    """A map of GVB values counts GVBs (distinct keys per class), not municipalities."""
    g = points()
    map_categories(g, "k", tmp_path / "k.png", title="Klassen (Mittel des GVB)",
                   order=["< 15 min", "15-30 min"], units=g["gvb"], lang="de")
    expected = [f"{c} ({g.loc[g['k'] == c, 'gvb'].nunique()} GVB)"
                for c in ("< 15 min", "15-30 min")]
    expected.append(f"kein Wert ({g.loc[g['k'].isna(), 'gvb'].nunique()} GVB)")
    assert drawn[-1]["legend"] == expected
    assert_apart(drawn[-1])
    map_categories(g, "k", tmp_path / "m.png", title="t", order=["< 15 min", "15-30 min"],
                   lang="de")  # without units: municipalities, as before
    assert drawn[-1]["legend"][0] == f"< 15 min ({int((g['k'] == '< 15 min').sum())})"


def test_the_sample_run_draws_stations_on_the_station_map(tmp_path):
    """On the sample run the Fernbahnhof map shows its stations (a legend entry with
    their number), and the legend of the OZ class map counts GVBs as class_shares.csv
    does."""
    from PIL import Image

    from accessibility.pipeline import run

    res = run(output_dir=tmp_path, overrides={"output.models": ["central_places", "indicators"]})
    with Image.open(res.output_dir / "map_ldrail_time.png") as im:
        legend = im.text["Legend"]
    assert "Fernbahnhöfe (" in legend
    with Image.open(res.output_dir / "map_oz_class.png") as im:
        oz = im.text["Legend"]
    shares = pd.read_csv(res.output_dir / "class_shares.csv")
    for _, row in shares[shares["indicator"] == "oz"].iterrows():
        if row["gvb"] > 0:
            label = row["class"].replace("is OZ", "ist OZ")
            assert f"{label} ({row['gvb']} GVB)" in oz
