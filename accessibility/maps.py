"""Maps of per-municipality results: static maps (PNG/PDF/SVG, matplotlib, no screen
needed), an interactive HTML map (folium) and the matching QGIS styles."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # headless: batch jobs and CI have no display
import folium
import matplotlib.lines
import matplotlib.patches
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import Delaunay, QhullError

from . import defaults
from .io import atomic_path
from .io.qgis_style import categorized_qml
from .vocabulary import (
    LAGE_CLASSES,
    MAP_LANGUAGES,
    SETTLEMENT_TYPES,
    class_label,
    class_order,
    map_words,
)

#: The source line of the HTML map (the static maps write theirs in their language).
_ATTRIBUTION = map_words("en")["attribution"]
_METRIC = defaults.METRIC_CRS
#: Leaflet (BSD-2-Clause, ``data/LICENSE-leaflet.txt``), shipped and inlined into
#: map.html, so the map works on an intranet without internet (only the base tiles
#: load from the web).
LEAFLET = "leaflet-1.9.4"


def _draw(gdf: gpd.GeoDataFrame, ax, label: str | None = None, **kw) -> None:
    """Polygons (white edges) and points (small dots); ``label`` once for the legend."""
    valid = (gdf.geometry.notna() & ~gdf.geometry.is_empty).to_numpy()
    g = gdf[valid].to_crs(_METRIC)
    poly = g.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    color = kw.pop("color", None)
    hatch = kw.pop("hatch", None)
    if isinstance(color, np.ndarray) and color.ndim == 2:  # one colour per row
        color = color[valid]
    if "column" in kw:  # one colour scale for points and polygons
        v = g[kw["column"]].astype(float)
        kw.setdefault("vmin", float(v.min()))
        kw.setdefault("vmax", float(v.max()))
    for part, is_poly in ((g[poly], True), (g[~poly], False)):
        if not len(part):
            continue
        c = color
        if isinstance(color, np.ndarray) and color.ndim == 2:
            c = color[np.flatnonzero(poly == is_poly)]
        style = ({"edgecolor": "white", "linewidth": 0.2} if is_poly
                 else {"markersize": 18, "edgecolor": "0.3", "linewidth": 0.2})
        if hatch:  # incomplete units: hatched polygons, crossed points
            style = ({"edgecolor": "0.5", "linewidth": 0.2, "hatch": hatch} if is_poly
                     else {"markersize": 18, "marker": "x", "linewidth": 0.8})
            c = "0.45" if not is_poly else c
        part.plot(ax=ax, label=label, color=c, **style, **kw)
        label = None  # the legend shows a class once, whatever its geometries
        kw.pop("legend", None)  # one colour bar
        kw.pop("legend_kwds", None)


def _outlines(gdf: gpd.GeoDataFrame, ax) -> None:
    """Kreis outlines over a polygon map (they orient a reader)."""
    if "kreis" not in gdf.columns or not gdf.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        return
    poly = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    _kreis_outlines(poly).plot(ax=ax, color="0.25", linewidth=0.6)


#: The last Kreis outlines drawn: a run's maps share their polygons, and dissolving
#: 11,000 municipalities takes seconds per map (key: the codes and the geometries).
_OUTLINES: dict[str, gpd.GeoSeries] = {}


def _kreis_outlines(poly: gpd.GeoDataFrame) -> gpd.GeoSeries:
    h = hashlib.sha256(poly["kreis"].astype(str).str.cat(sep=",").encode())
    h.update(str(poly.crs).encode())
    for wkb in shapely.to_wkb(poly.geometry.to_numpy()):
        h.update(wkb)
    key = h.hexdigest()
    if key not in _OUTLINES:
        _OUTLINES.clear()
        _OUTLINES[key] = (poly[["kreis", "geometry"]].dissolve(by="kreis").to_crs(_METRIC)
                          .boundary)
    return _OUTLINES[key]


#: At most this many place names on a map (the first rows: Oberzentren, largest first).
MAX_LABELS = 40


def _labels(ax, places: gpd.GeoDataFrame | None) -> None:
    """Star and name of each place (first rows first); a label closer than 4 % of the
    map's width to one already drawn is left out, so that names do not overlap, and
    at most :data:`MAX_LABELS` are written. Stars shrink when there are many (a
    national map has ~1,100 Mittelzentren: full-size stars would hide the map)."""
    if places is None or not len(places):
        return
    p = places.to_crs(_METRIC)
    x, y = p.geometry.x.to_numpy(), p.geometry.y.to_numpy()
    size = 30.0 * min(1.0, np.sqrt(100.0 / len(p)))
    ax.scatter(x, y, s=size, c="black", marker="*", zorder=5, linewidths=0)
    x0, x1 = ax.get_xlim()
    gap = 0.04 * (x1 - x0)
    drawn: list[tuple[float, float]] = []
    for xi, yi, name in zip(x, y, p["name"].astype(str)):
        if len(drawn) >= MAX_LABELS:
            break
        if any(abs(xi - a) < 2.5 * gap and abs(yi - b) < 0.6 * gap for a, b in drawn):
            continue
        ax.annotate(name.split(",")[0], (xi, yi), fontsize=6, xytext=(3, 3),
                    textcoords="offset points", zorder=6,
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.6})
        drawn.append((xi, yi))


def _count(part: gpd.GeoDataFrame, units: pd.Series | None, lang: str) -> str:
    """What a legend entry counts: the rows of ``part``, or with ``units`` (the unit key
    of each row, e.g. the GVB of a municipality drawn in its GVB's class) the units they
    belong to, named: a map of GVB means counts GVBs, not their members."""
    if units is None:
        return str(len(part))
    n = int(units.reindex(part.index).nunique())
    return map_words(lang)["count_units"].format(n=n)


def _legend(ax, extra=()) -> None:
    """The legend beside the map, not over it; ``extra`` handles (None ignored) last."""
    handles = ax.get_legend_handles_labels()[0] + [h for h in extra if h is not None]
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7,
                  frameon=False)


#: Grey of "no value" in every map.
NO_VALUE_COLOR = "0.85"
#: Legend entry of units cut by the extract's edge (drawn grey and hatched; English,
#: the German one in :data:`accessibility.vocabulary.MAP_WORDS`).
INCOMPLETE_LABEL = map_words("en")["incomplete"]


#: Legend entry of values a larger road extract might change (their edge flag is set):
#: drawn in their colour, dotted over.
PROVISIONAL_LABEL = map_words("en")["provisional"]
#: Colours of the accessibility standards: met cool, beyond a standard warm (orange to
#: dark red for both), so that a shortfall reads as one at a glance.
STANDARD_COLORS = ("#74add1", "#fdae61", "#f46d43", "#a50026")


def _draw_provisional(gdf: gpd.GeoDataFrame, provisional, ax, lang: str = "en",
                      units: pd.Series | None = None) -> matplotlib.patches.Patch | None:
    """Dots over the rows of ``provisional`` (a mask) that have a colour of their own;
    their legend handle (None when there are none)."""
    if provisional is None:
        return None
    mask = np.asarray(provisional, dtype=bool)
    part = gdf[mask]
    valid = (part.geometry.notna() & ~part.geometry.is_empty).to_numpy()
    part = part[valid].to_crs(_METRIC)
    if not len(part):
        return None
    poly = part.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if poly.any():
        part[poly].plot(ax=ax, facecolor="none", edgecolor="0.2", linewidth=0, hatch="....")
    if (~poly).any():
        part[~poly].plot(ax=ax, facecolor="none", edgecolor="0.1", markersize=60,
                         linewidth=0.8)
    return matplotlib.patches.Patch(facecolor="white", edgecolor="0.2", hatch="....",
                                    label=f"{map_words(lang)['provisional']} "
                                          f"({_count(part, units, lang)})")


def _provisional_of(gdf: gpd.GeoDataFrame, provisional, incomplete, column: str):
    """The provisional rows that are drawn in a colour of their own: with a value,
    and not already grey as an incomplete unit."""
    if provisional is None:
        return None
    mask = np.asarray(provisional, dtype=bool) & gdf[column].notna().to_numpy()
    if incomplete is not None:
        mask &= ~np.asarray(incomplete, dtype=bool)
    return mask


def _split_incomplete(gdf: gpd.GeoDataFrame, incomplete) -> tuple[gpd.GeoDataFrame,
                                                                 gpd.GeoDataFrame]:
    """The rows to draw in their class or value, and those of incomplete units."""
    if incomplete is None:
        return gdf, gdf.iloc[:0]
    mask = np.asarray(incomplete, dtype=bool)
    return gdf[~mask], gdf[mask]


def _draw_incomplete(part: gpd.GeoDataFrame, ax, lang: str = "en",
                     units: pd.Series | None = None) -> matplotlib.patches.Patch | None:
    """Incomplete units grey with hatching; their legend handle (None when none)."""
    if not len(part):
        return None
    _draw(part, ax, color=NO_VALUE_COLOR, hatch="////")
    return matplotlib.patches.Patch(facecolor=NO_VALUE_COLOR, hatch="////", edgecolor="0.5",
                                    label=f"{map_words(lang)['incomplete']} "
                                          f"({_count(part, units, lang)})")


#: Empty bands below and above a map's data, as shares of its height: the scale bar
#: stands in the lower, the north arrow in the upper.
MAP_MARGINS = (0.1, 0.2)


def _scale_bar_and_north(ax) -> None:
    """A scale bar (a round length near a fifth of the width) and a north arrow; the
    axes are in metres of the metric CRS (UTM: grid north is north within < 1.5°).

    The map gets an empty band above and below its data first (:data:`MAP_MARGINS`),
    where the arrow and the scale bar stand: they never cover a municipality."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    below, above = MAP_MARGINS
    y0, y1 = y0 - below * (y1 - y0), y1 + above * (y1 - y0)
    ax.set_ylim(y0, y1)
    target = (x1 - x0) / 5.0
    if not np.isfinite(target) or target <= 0:
        return
    mag = 10 ** np.floor(np.log10(target))
    length = max(m * mag for m in (1, 2, 5) if m * mag <= target)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color="black", lw=2.5, solid_capstyle="butt")
    ax.text(bx + length / 2, by + 0.012 * (y1 - y0),
            f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m",
            ha="center", va="bottom", fontsize=7)
    ax.annotate("N", xy=(0.96, 0.97), xytext=(0.96, 0.88), xycoords="axes fraction",
                ha="center", va="center", fontsize=9, fontweight="bold",
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2})


#: At most this many destinations are named on a map (airports, stations; motorway
#: junctions, hundreds, are drawn without names).
MAX_DESTINATION_NAMES = 15


def _draw_destinations(ax, dest: gpd.GeoDataFrame | None, label: str):
    """The destinations that lie on the map as triangles (named when few); their
    legend handle with their number (None when none lies on the map). The map's
    extent stays that of the municipalities: a destination far beyond is left out."""
    if dest is None or not len(dest):
        return None
    d = dest[dest.geometry.notna() & ~dest.geometry.is_empty].to_crs(_METRIC)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    x, y = d.geometry.x.to_numpy(), d.geometry.y.to_numpy()
    on = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    if not on.any():
        return None
    many = on.sum() > MAX_DESTINATION_NAMES
    ax.scatter(x[on], y[on], s=12 if many else 45, marker="^", facecolor="white",
               edgecolor="black", linewidths=0.8, zorder=7)
    if not many and "name" in d.columns:
        for xi, yi, name in zip(x[on], y[on], d["name"].astype(str).to_numpy()[on]):
            ax.annotate(name, (xi, yi), fontsize=6, xytext=(4, -8), textcoords="offset points",
                        zorder=8, bbox={"boxstyle": "square,pad=0.1", "fc": "white",
                                        "ec": "none", "alpha": 0.7})
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return matplotlib.lines.Line2D([], [], marker="^", linestyle="none", markerfacecolor="white",
                                   markeredgecolor="black", label=f"{label} ({int(on.sum())})")


def legend_texts(fig) -> list[str]:
    """Every legend entry and colour-bar label of ``fig``: what a reader learns from
    its legends (written into the PNG as its ``Legend`` text, read by the hand-in
    document)."""
    out = []
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is not None:
            out += [t.get_text() for t in leg.get_texts()]
        for child in [ax, *ax.child_axes]:
            if child.get_label() == "<colorbar>" and child.get_ylabel():
                out.append(child.get_ylabel())
    return out


def map_languages(lang: str) -> Iterator[tuple[str, str]]:
    """The languages a run draws its maps in: ``lang`` first, under the map's own
    name (tag ``""``), then every other of :data:`~accessibility.vocabulary.MAP_LANGUAGES`
    with the tag ``".<language>"`` before the suffix (``map_oz_time.en.png``), so that
    the hand-in document of either language shows maps in its words, drawn from the
    same data by the same code."""
    yield lang, ""
    for other in MAP_LANGUAGES:
        if other != lang:
            yield other, f".{other}"


def _save(fig, path: Path, lang: str = defaults.MAP_LANG) -> Path:
    """Decorate (scale bar, north arrow, source line in ``lang``) and write the figure
    atomically, as PNG, PDF or SVG after the suffix of ``path``."""
    maps = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    source = map_words(lang)["attribution"]
    if maps:  # under the map itself, not at the foot of a mostly empty page
        _scale_bar_and_north(maps[0])
        maps[0].text(0.0, -0.02, source, transform=maps[0].transAxes, fontsize=5.5,
                     color="0.4", va="top", wrap=True)
    else:
        fig.text(0.01, 0.01, source, fontsize=6, color="0.4")
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    # the title and legend as text beside the pixels, as drawn: a document shows
    # them, a test reads them
    meta = ({"Title": maps[0].get_title() if maps else "", "Language": lang,
             "Legend": " | ".join(legend_texts(fig))} if fmt == "png" else None)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130, bbox_inches="tight", format=fmt, metadata=meta)
    plt.close(fig)
    return Path(path)


def class_colors(n: int, cmap: str) -> np.ndarray:
    """``n`` colours of an ordered scheme, without its palest end (which vanishes on
    white paper). The default viridis schemes are perceptually uniform and read for
    colour-blind readers and in greyscale print."""
    return plt.get_cmap(cmap)(np.linspace(0.0, 0.9, max(n, 2)))[:n]


def map_values(gdf: gpd.GeoDataFrame, column: str, path: str | Path, *, title: str,
               label: str, cmap: str = "viridis_r",
               places: gpd.GeoDataFrame | None = None, diverging: bool = False,
               incomplete=None, provisional=None, lang: str = defaults.MAP_LANG,
               units: pd.Series | None = None, destinations: gpd.GeoDataFrame | None = None,
               destination_label: str = "") -> Path:
    """A map of a numeric column; municipalities without a value in grey.

    ``diverging``: a change, drawn with a diverging colour map centred at 0 (no
    change in the neutral middle colour, gains and losses symmetric).
    ``incomplete``: a mask of rows whose unit crosses the extract's edge, drawn grey
    and hatched with the legend entry :data:`INCOMPLETE_LABEL`.
    ``provisional``: a mask of rows whose value a larger extract might change (their
    edge flag), dotted over with the legend entry :data:`PROVISIONAL_LABEL`.
    ``lang``: the language of the legend entries (:func:`accessibility.vocabulary.map_words`).
    ``units``: the unit of each row (its GVB) when the map shows the units' values:
    the legend counts units (:func:`_count`).
    ``destinations``: points (``name``) the times lead to, drawn as triangles where
    they lie on the map, with the legend entry ``destination_label`` and their number."""
    words = map_words(lang)
    fig, ax = plt.subplots(figsize=(8, 8))
    full = gdf
    prov = _provisional_of(gdf, provisional, incomplete, column)
    gdf, cut = _split_incomplete(gdf, incomplete)
    missing = gdf[gdf[column].isna()]
    if len(missing):
        _draw(missing, ax, color=NO_VALUE_COLOR)
    have = gdf[gdf[column].notna()]
    if len(have):
        kw = {}
        if diverging:
            m = float(np.nanmax(np.abs(have[column].to_numpy(float)))) or 1.0
            kw = {"vmin": -m, "vmax": m}
            cmap = "RdBu_r"  # red: longer, blue: shorter; white: unchanged
        # the colour bar beside the upper part of the map, the legend beside the lower
        # part: neither reaches the source line under the map, nor covers the map
        cax = ax.inset_axes([1.03, 0.4, 0.035, 0.6])
        cax.set_label("<colorbar>")
        _draw(have, ax, column=column, cmap=cmap, legend=True, cax=cax,
              legend_kwds={"label": label}, **kw)
    handles = [h for h in (_draw_incomplete(cut, ax, lang, units),
                           _draw_provisional(full, prov, ax, lang, units)) if h is not None]
    _outlines(full, ax)
    _labels(ax, places)
    if len(missing):  # the colour bar has no entry for it
        handles.append(matplotlib.patches.Patch(
            color=NO_VALUE_COLOR, label=f"{words['no_value']} ({_count(missing, units, lang)})"))
    handles.append(_draw_destinations(ax, destinations, destination_label))
    handles = [h for h in handles if h is not None]
    if handles:
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(1.0, 0.0), fontsize=7,
                  frameon=False)
    ax.set_title(title)
    ax.set_axis_off()
    return _save(fig, Path(path), lang)


def map_categories(gdf: gpd.GeoDataFrame, column: str, path: str | Path, *, title: str,
                   order: list[str] | None = None, cmap: str = "viridis_r",
                   places: gpd.GeoDataFrame | None = None, no_value: str | None = None,
                   incomplete=None, provisional=None, colors=None,
                   lang: str = defaults.MAP_LANG, units: pd.Series | None = None) -> Path:
    """A map of a class column with a legend in ``order`` (counts, and ``no_value``).

    ``incomplete``: a mask of rows whose unit crosses the extract's edge, drawn grey
    and hatched with the legend entry :data:`INCOMPLETE_LABEL`, in no class.
    ``provisional``: a mask of rows whose class a larger extract might change (their
    edge flag), dotted over with the legend entry :data:`PROVISIONAL_LABEL`.
    ``colors``: one colour per class of ``order`` (default: ``cmap``'s).
    ``lang``: the language of the class labels and legend entries; ``no_value``
    replaces its "no value"; ``units`` as in :func:`map_values`."""
    words = map_words(lang)
    fig, ax = plt.subplots(figsize=(8, 8))
    full = gdf
    prov = _provisional_of(gdf, provisional, incomplete, column)
    gdf, cut = _split_incomplete(gdf, incomplete)
    cats = order or sorted(gdf[column].dropna().unique())
    if colors is None:
        colors = class_colors(len(cats), cmap)
    for cat, col in zip(cats, colors):
        sub = gdf[gdf[column] == cat]
        if len(sub):
            _draw(sub, ax, color=col,
                  label=f"{class_label(cat, lang)} ({_count(sub, units, lang)})")
    missing = gdf[gdf[column].isna()]
    if len(missing):
        _draw(missing, ax, color=NO_VALUE_COLOR,
              label=f"{no_value or words['no_value']} ({_count(missing, units, lang)})")
    if len(cut):
        _draw(cut, ax, color=NO_VALUE_COLOR, hatch="////",
              label=f"{words['incomplete']} ({_count(cut, units, lang)})")
    handle = _draw_provisional(full, prov, ax, lang, units)
    _outlines(full, ax)
    _labels(ax, places)
    _legend(ax, [handle])
    ax.set_title(title)
    ax.set_axis_off()
    return _save(fig, Path(path), lang)


def map_catchments(gdf: gpd.GeoDataFrame, key: str, centres: gpd.GeoDataFrame,
                   path: str | Path, *, title: str, provisional=None,
                   lang: str = defaults.MAP_LANG) -> Path:
    """Catchment areas: municipalities coloured by the centre they are nearest to;
    ``provisional`` as in :func:`map_values` (a centre beyond the extract might be
    nearer)."""
    fig, ax = plt.subplots(figsize=(8, 8))
    have = gdf[gdf[key].notna()]
    if len(have):
        # one plot call for all catchments (one per catchment was quadratic: minutes
        # for a national register), coloured so that neighbouring catchments differ
        cat = have[key].astype("category")
        pts = have.to_crs(_METRIC).geometry.representative_point()
        cx = pts.x.groupby(cat.to_numpy(), observed=True).mean()
        cy = pts.y.groupby(cat.to_numpy(), observed=True).mean()
        color_of = neighbour_colors(cx.to_numpy(), cy.to_numpy())
        palette = plt.get_cmap("tab10")(np.arange(10))
        index = pd.Series(np.arange(len(cx)), index=cx.index)
        _draw(have, ax, color=palette[color_of[index.loc[cat.to_numpy()].to_numpy()] % 10])
    missing = gdf[gdf[key].isna()]
    if len(missing):
        _draw(missing, ax, color=NO_VALUE_COLOR,
              label=f"{map_words(lang)['no_value']} ({len(missing)})")
    handle = _draw_provisional(gdf, _provisional_of(gdf, provisional, None, key), ax, lang)
    _outlines(gdf, ax)
    _legend(ax, [handle])
    _labels(ax, centres)
    ax.set_title(title)
    ax.set_axis_off()
    return _save(fig, Path(path), lang)


def neighbour_colors(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Colour index per point such that Delaunay neighbours differ (greedy, largest
    degree first; a planar triangulation needs few colours, 10 are available)."""
    n = len(x)
    if n < 4:
        return np.arange(n)
    try:
        tri = Delaunay(np.column_stack([x, y]))
    except QhullError:  # collinear centres
        return np.arange(n) % 10
    nbrs = [set() for _ in range(n)]
    for a, b, c in tri.simplices:
        nbrs[a] |= {b, c}
        nbrs[b] |= {a, c}
        nbrs[c] |= {a, b}
    color = np.full(n, -1)
    for v in sorted(range(n), key=lambda i: -len(nbrs[i])):
        used = {color[u] for u in nbrs[v]}
        color[v] = next(k for k in range(n) if k not in used)
    return color


def class_style(column: str, order: list[str], *, cmap: str = "viridis_r",
                geometry: str = "polygon") -> str:
    """The QGIS style (QML) of a class column, in the colours of the static maps."""
    colors = [matplotlib.colors.to_hex(c) for c in class_colors(len(order), cmap)]
    return categorized_qml(column, [(c, c, col) for c, col in zip(order, colors)],
                           geometry=geometry,
                           no_value_color=matplotlib.colors.to_hex(NO_VALUE_COLOR))


# ------------------------------------------------------------------ interactive map
#: Layers of the HTML map: column, title, class order (None: a numeric column).
HTML_LAYERS = (
    ("mz_class", "Pkw-Fahrzeit zum nächsten Mittelzentrum (BBSR-Klassen)", "mz"),
    ("oz_class", "Pkw-Fahrzeit zum nächsten Oberzentrum (BBSR-Klassen)", "oz"),
    ("lage", "Lage (Tagesbevölkerung in 2 Stunden)", "lage"),
    ("settlement_type", "Stadt- und Gemeindetyp", "settlement"),
    ("walk_share_all", "Nahversorgung: Anteil mit allen sechs Diensten zu Fuß", None),
)


def _inline_leaflet(m: folium.Map) -> None:
    """Leaflet's script and style inlined in place of folium's CDN links (its jQuery,
    Bootstrap, Font Awesome and marker plugins serve nothing these layers use)."""
    m.default_js, m.default_css = [], []
    data = resources.files("accessibility") / "data"
    js = (data / f"{LEAFLET}.js").read_text("utf-8")
    css = (data / f"{LEAFLET}.css").read_text("utf-8")
    m.get_root().header.add_child(
        folium.Element(f"<style>{css}</style>\n<script>{js}</script>"), name="leaflet")


def interactive_map(gdf: gpd.GeoDataFrame, path: str | Path, *,
                    title: str = "Erreichbarkeit zentraler Orte",
                    simplify_m: float | None = None) -> Path:
    """An HTML map (Leaflet via folium) with one switchable layer per indicator.

    The file opens from the output folder in a browser, without a server and without
    internet: Leaflet is inlined (:func:`_inline_leaflet`); only the background tiles
    (OpenStreetMap) load from the web, and without them the layers show on grey.
    Polygons are simplified by ``simplify_m`` metres to keep the file small (default: 50 m for a region,
    growing with the number of polygons to 500 m for Germany, where 50 m made a
    148 MB file a browser barely opens); every feature has a tooltip with the
    municipality's values. Layers whose column is missing or empty are left out.
    """
    if simplify_m is None:
        simplify_m = float(np.clip(50.0 * len(gdf) / 1000.0, 50.0, 500.0))
    orders = {"mz": class_order("mz"), "oz": class_order("oz"), "lage": list(LAGE_CLASSES),
              "settlement": list(SETTLEMENT_TYPES)}
    g = gdf.copy()
    g.attrs = {}
    if g.geom_type.isin(["Polygon", "MultiPolygon"]).any() and simplify_m > 0:
        g = g.set_geometry(g.geometry.to_crs(defaults.GRID_CRS).simplify(simplify_m)
                           .to_crs(defaults.WGS84))
    else:
        g = g.to_crs(defaults.WGS84)
    tip = [c for c in ("ags", "name", "central_place", "t_mz_min", "t_oz_min", "lage",
                       "walk_share_all") if c in g.columns]
    g = g[tip + [c for c, _, _ in HTML_LAYERS if c in g.columns and c not in tip] + ["geometry"]]
    for c in g.columns:  # JSON: numbers rounded, classes as text
        if c != "geometry" and g[c].dtype.kind == "f":
            g[c] = g[c].round(3)
    # frame the road extract's region (a run may add the rows of a distant walk extract)
    frame = g[gdf["on_network"].to_numpy(bool)] if "on_network" in gdf.columns and \
        gdf["on_network"].any() else g
    minx, miny, maxx, maxy = frame.total_bounds
    m = folium.Map(tiles="OpenStreetMap", control_scale=True)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    points = not g.geom_type.isin(["Polygon", "MultiPolygon"]).any()
    for i, (col, name, kind) in enumerate(HTML_LAYERS):
        if col not in g.columns or g[col].isna().all():
            continue
        no_value = matplotlib.colors.to_hex(NO_VALUE_COLOR)
        if kind is not None:  # the colours of the static maps
            order = orders[kind]
            palette = dict(zip(order, map(matplotlib.colors.to_hex,
                                          class_colors(len(order), "viridis_r"))))
            color = g[col].map(palette).fillna(no_value)
        else:  # a share 0..1
            cmap = plt.get_cmap("viridis")
            color = g[col].astype(float).map(
                lambda x: matplotlib.colors.to_hex(cmap(x)) if np.isfinite(x)  # noqa: B023
                else no_value)  # noqa: B023  (.map calls it at once, in this iteration)
        layer = g.assign(_color=color.to_numpy())
        style = (lambda f: {"fillColor": f["properties"]["_color"], "color": "#555555",
                            "weight": 0.3, "fillOpacity": 0.75})
        gj = folium.GeoJson(
            layer.__geo_interface__, name=name, show=(i == 0), style_function=style,
            marker=folium.CircleMarker(radius=5) if points else None,
            tooltip=folium.GeoJsonTooltip(fields=tip))
        gj.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    _inline_leaflet(m)
    m.get_root().html.add_child(folium.Element(
        f"<div style='position:fixed;bottom:40px;left:8px;z-index:9999;background:white;"
        f"padding:4px;font-size:11px'><b>{title}</b><br>{_ATTRIBUTION}</div>"))
    with atomic_path(path) as tmp:
        m.save(str(tmp))
    return Path(path)
