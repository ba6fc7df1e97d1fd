"""Atomic writers for tables, GeoPackages, text and JSON outputs."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as _dt
import errno
import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from .. import defaults
from .._errors import InputError
from .._util import temp_path
from ..profile import SpeedProfile
from .qgis_style import add_layer_styles

logger = logging.getLogger(__name__)

__all__ = [
    "atomic_path",
    "check_new_file",
    "write_gpkg_layers",
    "write_json",
    "write_municipality_outputs",
    "write_profile_toml",
    "write_table",
    "write_text",
]

#: Output formats by file suffix.
TABLE_FORMATS = {".csv": "csv", ".parquet": "parquet", ".gpkg": "gpkg", ".geojson": "geojson"}
#: Sidecar files GDAL/SQLite may create next to a GeoPackage.
_SIDECARS = ("-wal", "-shm", "-journal", ".aux.xml")


def _remove(path: Path) -> None:
    for p in (path, *(path.with_name(path.name + s) for s in _SIDECARS)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _at_size_limit(tmp: Path) -> bool:
    """Whether ``tmp`` (or its SQLite sidecars) reached this process's file-size limit."""
    try:
        import resource
    except ImportError:  # Windows
        return False
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if soft == resource.RLIM_INFINITY:
        return False
    sizes = [p.stat().st_size for p in (tmp, *(tmp.with_name(tmp.name + s) for s in _SIDECARS))
             if p.is_file()]
    return any(size + (64 << 10) >= soft for size in sizes)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` and move it onto ``path`` on success.

    The temporary file is ``.<stem>.tmp-<pid>-<random><suffix>`` in the same directory
    (so drivers recognise the format by the suffix and ``os.replace`` is atomic on one
    file system; after a kill, a later run removes it by its dead process id, see
    :func:`accessibility._util.remove_dead_temps`). The caller writes to the yielded path. If the block raises, the
    temporary file is removed, ``path`` is left as it was and the exception
    propagates: a failed run never leaves a half-written file.

    Parameters
    ----------
    path : str or Path
        Final destination. Missing parent directories are created.

    Yields
    ------
    Path
        Where to write; it does not exist yet.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(final)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to the temporary file {tmp} for "
                                    f"{final}")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException as e:
        # a driver (GDAL's SQLite) reports a file-size limit (ulimit -f) as its own error
        too_big = not isinstance(e, OSError) and _at_size_limit(tmp)
        _remove(tmp)
        if too_big:
            raise OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(final)) from e
        raise
    finally:
        # a writer may leave empty SQLite sidecars behind even on success
        for s in _SIDECARS:
            with contextlib.suppress(FileNotFoundError):
                tmp.with_name(tmp.name + s).unlink()
    logger.debug("wrote %s", final)


def _for_csv(df: pd.DataFrame, geometry: str) -> pd.DataFrame:
    """Return a plain DataFrame for CSV: geometry dropped or as WKT."""
    if not isinstance(df, gpd.GeoDataFrame) or df.geometry.name not in df.columns:
        return df
    name = df.geometry.name
    if geometry == "wkt":
        out = pd.DataFrame(df.drop(columns=name))
        out[name] = df.geometry.to_wkt()
        return out
    if geometry != "drop":
        raise InputError(f"csv geometry must be 'drop' or 'wkt', got {geometry!r}")
    logger.debug("CSV output: geometry column %r dropped", name)
    return pd.DataFrame(df.drop(columns=name))


def _csvt_type(col: pd.Series) -> str:
    """The GDAL CSV type of a column (for the ``.csvt`` sidecar)."""
    if pd.api.types.is_bool_dtype(col):
        return "Integer(Boolean)"
    if pd.api.types.is_integer_dtype(col):
        return "Integer64"
    if pd.api.types.is_float_dtype(col):
        return "Real"
    return "String"


def write_table(df: pd.DataFrame, path: str | Path, *, layer: str | None = None,
                csv_geometry: str = "drop") -> Path:
    """Write a table atomically; the format follows the suffix of ``path``.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        Table to write; the index is not written.
    path : str or Path
        ``.csv`` (UTF-8, comma separated, text quoted, with a ``.csvt`` sidecar naming
        the column types for QGIS/GDAL), ``.parquet`` (pyarrow; a GeoDataFrame is
        written as GeoParquet with WKB geometry), ``.gpkg`` (GeoPackage, one layer;
        a plain DataFrame becomes an attribute table) or ``.geojson``.
    layer : str, optional
        Layer name of a GeoPackage; default the file stem. The file is replaced as a
        whole, so other layers of an existing file are not kept.
    csv_geometry : {"drop", "wkt"}
        What a CSV does with the geometry of a GeoDataFrame.

    Returns
    -------
    Path
        The written path.
    """
    path = Path(path)
    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"cannot write {path}: unknown suffix {path.suffix!r}; use one of "
                         f"{', '.join(TABLE_FORMATS)}.")
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"cannot write {path}: expected a DataFrame, got {type(df).__name__}")
    with atomic_path(path) as tmp:
        if fmt == "csv":
            table = _for_csv(df, csv_geometry)
            # text columns quoted, and a .csvt sidecar with the column types, so that
            # QGIS/GDAL keep keys such as the AGS "03101000" as text
            table.to_csv(tmp, index=False, encoding="utf-8", quoting=csv.QUOTE_NONNUMERIC)
            write_text(",".join(f'"{_csvt_type(table[c])}"' for c in table.columns) + "\n",
                       path.with_suffix(".csvt"))
        elif fmt == "parquet":
            if isinstance(df, gpd.GeoDataFrame):
                df.to_parquet(tmp, index=False)
            else:
                df.to_parquet(tmp, engine="pyarrow", index=False)
        else:
            driver = "GPKG" if fmt == "gpkg" else "GeoJSON"
            kwargs = {"layer": layer or path.stem} if fmt == "gpkg" else {}
            if isinstance(df, gpd.GeoDataFrame):
                df.to_file(tmp, driver=driver, engine="pyogrio", index=False, **kwargs)
            else:
                pyogrio.write_dataframe(pd.DataFrame(df), tmp, driver=driver, **kwargs)
    logger.info("wrote %d rows to %s", len(df), path)
    return path


def write_text(text: str, path: str | Path, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` atomically to ``path`` and return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return path


def _json_default(obj: object) -> object:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return None if np.isnan(obj) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Path, os.PathLike)):
        return os.fspath(obj)
    if isinstance(obj, (_dt.date, _dt.datetime, pd.Timestamp)):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def write_json(obj: object, path: str | Path, *, indent: int = 2) -> Path:
    """Write ``obj`` as UTF-8 JSON atomically.

    NumPy scalars and arrays, paths, dates, sets and dataclasses are converted.
    """
    text = json.dumps(obj, indent=indent, ensure_ascii=False, default=_json_default,
                      allow_nan=False) + "\n"
    return write_text(text, path)


def write_gpkg_layers(layers: dict[str, gpd.GeoDataFrame], path: str | Path, *,
                     styles: list[tuple[str, str, str, bool]] = ()) -> Path:
    """Write several layers (and QGIS styles) into one GeoPackage, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            gdf.to_file(tmp, driver="GPKG", engine="pyogrio", layer=name, index=False,
                        append=tmp.exists())
        if styles:
            add_layer_styles(tmp, list(styles))
    logger.info("wrote %s (layers %s)", path, ", ".join(layers))
    return path


def write_municipality_outputs(gdf: gpd.GeoDataFrame, out_dir: str | Path,
                               stem: str = "municipalities", *,
                               formats: Sequence[str] = ("gpkg", "csv", "parquet"),
                               layer: str = "municipalities",
                               extra_layers: dict[str, gpd.GeoDataFrame] | None = None,
                               styles: list[tuple[str, str, str, bool]] = ()
                               ) -> dict[str, Path]:
    """Write the per-municipality results as GeoPackage, CSV and Parquet.

    Parameters
    ----------
    gdf : GeoDataFrame
        One row per municipality with geometry (points or polygons, any CRS).
    out_dir : str or Path
        Output directory (created if missing).
    stem : str
        File name without suffix.
    formats : sequence of str
        Any of "gpkg" (layer ``layer``, with geometry, for QGIS), "csv" (no geometry;
        ``lon``/``lat`` of a representative point in WGS84 are added if missing) and
        "parquet" (GeoParquet).
    layer : str
        GeoPackage layer name.
    extra_layers : dict, optional
        More layers of the GeoPackage (e.g. ``gvb``, ``kreis``, ``land``).
    styles : list of (layer, name, QML, default)
        QGIS styles stored in the GeoPackage (:mod:`accessibility.io.qgis_style`).

    Returns
    -------
    dict
        Format -> written path.
    """
    unknown = [f for f in formats if f not in ("gpkg", "csv", "parquet")]
    if unknown:
        raise InputError(f"unknown output formats {unknown}; use gpkg, csv, parquet.")
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError("write_municipality_outputs needs a GeoDataFrame with geometry; "
                         "use write_table for plain tables.")
    out_dir = Path(out_dir)
    written: dict[str, Path] = {}
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "csv":
            table = gdf
            if not {"lon", "lat"} <= set(gdf.columns):
                geo = gdf.geometry if gdf.crs is None or gdf.crs.to_epsg() == 4326 else (
                    gdf.geometry.to_crs(defaults.WGS84))
                pts = geo.representative_point()
                table = gdf.assign(lon=pts.x.to_numpy(), lat=pts.y.to_numpy())
            written[fmt] = write_table(table, path, csv_geometry="drop")
        elif fmt == "gpkg" and (extra_layers or styles):
            written[fmt] = write_gpkg_layers({layer: gdf, **(extra_layers or {})}, path,
                                             styles=styles)
        else:
            written[fmt] = write_table(gdf, path, layer=layer)
    return written


# ----------------------------------------------------------------------------------
# speed profiles

def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, np.integer, np.floating)):
        x = float(v)
        if x.is_integer() and abs(x) < 1e15:
            return str(int(x)) if isinstance(v, (int, np.integer)) else f"{x:.1f}"
        return repr(x)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple, set, frozenset)):
        items = sorted(v) if isinstance(v, (set, frozenset)) else list(v)
        return "[" + ", ".join(_toml_value(i) for i in items) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def check_new_file(path: str | Path, flag: str = "--force") -> None:
    """An error when ``path`` exists: a named output file is never replaced silently
    (the caller asked for a new file; ``flag`` is how to replace it on purpose)."""
    if Path(path).exists():
        raise InputError(f"{path} exists and is not replaced: give another name, or {flag} "
                         "(overwrite=True in Python) to replace it")


def write_profile_toml(profile: SpeedProfile, path: str | Path, *,
                       comment: list[str] | None = None, overwrite: bool = False) -> Path:
    """Write a speed profile as TOML that :func:`~accessibility.profile.load_profile` reads.

    Parameters
    ----------
    profile : SpeedProfile
    path : str or Path
        Output file (written atomically; ``.toml`` by convention).
    comment : list of str, optional
        Lines written as ``#`` comments at the top (e.g. the calibration report).
    overwrite : bool
        Replace an existing file (default: an existing file is an error, see
        :func:`check_new_file`).

    Returns
    -------
    Path
    """
    if not overwrite:
        check_new_file(path, "--force")
    out = [f"# {line}".rstrip() for line in (comment or [])]
    if out:
        out.append("")
    out += [f"name = {_toml_value(profile.name)}",
            f"description = {_toml_value(profile.description)}",
            f"maxspeed_factor = {_toml_value(float(profile.maxspeed_factor))}",
            f"ferry_speed_kmh = {_toml_value(float(profile.ferry_speed_kmh))}",
            f"blocked_access = {_toml_value(profile.blocked_access)}"]
    if profile.access_speed_kmh is not None:
        out.append(f"access_speed_kmh = {_toml_value(float(profile.access_speed_kmh))}")
    if profile.max_speed_kmh is not None:
        out.append(f"max_speed_kmh = {_toml_value(float(profile.max_speed_kmh))}")
    for table in ("speeds_kmh", "maxspeed_zones_kmh", "class_factors"):
        values = getattr(profile, table)
        out += ["", f"[{table}]"]
        out += [f"{_toml_key(str(k))} = {_toml_value(float(v))}" for k, v in values.items()]
    return write_text("\n".join(out) + "\n", path)
