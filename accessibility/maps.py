"""PNG maps of per-municipality results (matplotlib, no screen needed)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # headless: batch jobs and CI have no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import defaults  # noqa: E402
from .io import atomic_path  # noqa: E402

_ATTRIBUTION = "Roads © OpenStreetMap contributors (ODbL); municipalities © Destatis / BKG"
_METRIC = defaults.METRIC_CRS


def _draw(gdf: gpd.GeoDataFrame, ax, **kw) -> None:
    g = gdf.to_crs(_METRIC)
    if g.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        g.plot(ax=ax, edgecolor="white", linewidth=0.2, **kw)
    else:
        g.plot(ax=ax, markersize=18, edgecolor="0.3", linewidth=0.2, **kw)


def _save(fig, path: Path) -> Path:
    fig.text(0.01, 0.01, _ATTRIBUTION, fontsize=6, color="0.4")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130, bbox_inches="tight", format="png")
    plt.close(fig)
    return Path(path)


def map_values(gdf: gpd.GeoDataFrame, column: str, path: str | Path, *, title: str,
               label: str, cmap: str = "viridis_r") -> Path:
    """A map of a numeric column; municipalities without a value in grey."""
    fig, ax = plt.subplots(figsize=(8, 8))
    missing = gdf[gdf[column].isna()]
    if len(missing):
        _draw(missing, ax, color="0.85")
    have = gdf[gdf[column].notna()]
    if len(have):
        _draw(have, ax, column=column, cmap=cmap, legend=True,
              legend_kwds={"label": label, "shrink": 0.6})
    ax.set_title(title)
    ax.set_axis_off()
    return _save(fig, Path(path))


def map_categories(gdf: gpd.GeoDataFrame, column: str, path: str | Path, *, title: str,
                   order: list[str] | None = None, cmap: str = "RdYlGn_r") -> Path:
    """A map of a class column with a legend in ``order``."""
    fig, ax = plt.subplots(figsize=(8, 8))
    cats = order or sorted(gdf[column].dropna().unique())
    colors = plt.get_cmap(cmap)(np.linspace(0.05, 0.95, max(len(cats), 2)))
    for cat, col in zip(cats, colors):
        sub = gdf[gdf[column] == cat]
        if len(sub):
            _draw(sub, ax, color=col, label=f"{cat} ({len(sub)})")
    missing = gdf[gdf[column].isna()]
    if len(missing):
        _draw(missing, ax, color="0.85", label=f"no value ({len(missing)})")
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.set_title(title)
    ax.set_axis_off()
    return _save(fig, Path(path))


def map_catchments(gdf: gpd.GeoDataFrame, key: str, centres: gpd.GeoDataFrame,
                   path: str | Path, *, title: str) -> Path:
    """Catchment areas: municipalities coloured by the centre they are nearest to."""
    fig, ax = plt.subplots(figsize=(8, 8))
    have = gdf[gdf[key].notna()]
    if len(have):
        # one plot call for all catchments (one per catchment was quadratic: minutes
        # for a national register)
        codes = have[key].astype("category").cat.codes.to_numpy()
        colors = plt.get_cmap("tab20")(codes % 20)
        _draw(have, ax, color=colors)
    missing = gdf[gdf[key].isna()]
    if len(missing):
        _draw(missing, ax, color="0.9")
    c = centres.to_crs(_METRIC)
    ax.scatter(c.geometry.x, c.geometry.y, s=30, c="black", marker="*", zorder=5)
    for x, y, name in zip(c.geometry.x, c.geometry.y, c["name"]):
        ax.annotate(str(name).split(",")[0], (x, y), fontsize=6, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_title(title)
    ax.set_axis_off()
    return _save(fig, Path(path))
