"""Shared helpers of the readers: file checks, table reading, column lookup, key parsing."""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio

from .._checks import (
    GERMANY_BBOX,  # noqa: F401  (io re-exports it)
    file_problem,
)
from .._errors import InputError
from .._util import show

logger = logging.getLogger(__name__)

#: Suffixes read as delimited text.
CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
#: Suffixes read with pyarrow.
PARQUET_SUFFIXES = frozenset({".parquet", ".pq", ".geoparquet"})
#: Suffixes read with pyogrio (GDAL vector drivers).
GEO_SUFFIXES = frozenset({".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".zip", ".sqlite"})

#: Column names that hold the 8-digit Amtlicher Gemeindeschlüssel, in order of preference.
AGS_CANDIDATES = ("ags", "AGS", "AGS_0", "gemeindeschluessel", "Gemeindeschlüssel",
                  "gemeindeschlüssel", "Gemeindeschluessel", "gkz")


#: Valid Land codes (first two AGS digits): 01 Schleswig-Holstein ... 16 Thüringen.
LAND_CODES = frozenset(f"{i:02d}" for i in range(1, 17))

_LIST_MAX = 10


def check_file(path: str | Path, what: str) -> Path:
    """Return ``path`` as a Path; raise InputError if it is not an existing file.

    Parameters
    ----------
    path : str or Path
        Path given by the user.
    what : str
        What the file should contain, used in the message ("municipality table").
    """
    if path is None:
        raise InputError(f"no path given for the {what}; pass the path of the file")
    p = Path(path).expanduser()
    if not p.exists() and not p.is_symlink():
        raise InputError(f"{what} not found: {p} does not exist (resolved: {p.resolve()}). "
                         "Check the path; relative paths in a config file are resolved "
                         "against the config file's directory.")
    problem = file_problem(p, folder_ok=p.suffix.lower() == ".gdb")
    if problem:
        raise InputError(f"{what}: {problem}. Pass the path of the table file itself.")
    return p


def _looks_binary(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4096)
    return b"\x00" in head


def decode_head(path: Path) -> tuple[str, str]:
    """Return (encoding, first 64 KiB decoded) for a text table."""
    with open(path, "rb") as fh:
        raw = fh.read(65536)
    try:
        return "utf-8-sig", raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if len(raw) == 65536 and exc.start >= len(raw) - 3:
            # a multi-byte character was cut at the end of the sample
            return "utf-8-sig", raw[:exc.start].decode("utf-8-sig")
    return "cp1252", raw.decode("cp1252", errors="replace")


def read_csv_as_str(path: Path, what: str) -> pd.DataFrame:
    """Read a delimited text table with every column as str.

    The separator (``,``, ``;``, tab or ``|``) is sniffed from the first lines, the
    encoding is UTF-8 (with or without BOM) or, failing that, Windows-1252 (common in
    German statistical downloads). Empty cells become missing values.

    Raises
    ------
    InputError
        If the file is binary, empty or cannot be parsed as a table.
    """
    if _looks_binary(path):
        raise InputError(f"{what} {path} is not a text table (it contains binary data). "
                         "Pass a CSV file, or a GeoPackage/Parquet file with the right "
                         "suffix (.gpkg, .parquet).")
    encoding, head = decode_head(path)
    lines = [ln for ln in head.splitlines() if ln.strip()][:20]
    if not lines:
        raise InputError(f"{what} {path} is empty. Pass a CSV file with a header row.")
    try:
        sep = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in (",", ";", "\t", "|")}
        sep = max(counts, key=counts.get)
        if counts[sep] == 0:
            sep = ","
    try:
        df = pd.read_csv(path, sep=sep, dtype=str, encoding=encoding, keep_default_na=False,
                         na_values=[""], skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError) as exc:
        raise InputError(f"{what} {path} cannot be read as a CSV table ({exc}). Check that "
                         "it is a delimited text file with one header row.") from None
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty:  # every reader needs rows: none would make every value "no data"
        raise InputError(f"{what} {path} has a header but no rows. Pass the whole table.")
    _check_last_line(path, sep, encoding, len(df.columns), what)
    logger.debug("read %s: %d rows, separator %r, encoding %s", path, len(df), sep, encoding)
    return df


def _check_last_line(path: Path, sep: str, encoding: str, n_columns: int, what: str) -> None:
    """A file cut off while copying ends in a short line, which pandas pads with empty
    cells (read as "no coordinates", "no population" ...): say that it is cut."""
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 65536))
        tail = fh.read().decode(encoding, errors="replace")
    lines = [ln for ln in tail.splitlines() if ln.strip()]
    if len(lines) < 2:
        return
    fields = next(csv.reader([lines[-1]], delimiter=sep))
    # no line end after a separator: cut between two fields (a short line or not)
    cut_at_sep = not tail.endswith(("\n", "\r")) and lines[-1].endswith(sep)
    if len(fields) < n_columns or cut_at_sep:
        raise InputError(f"{what} {path} looks cut off: its last line has {len(fields)} of "
                         f"{n_columns} columns ({lines[-1][:60]!r}). Copy or download the "
                         "whole file again.")


def find_column(columns: Sequence[str], candidates: Sequence[str]) -> str | None:
    """Return the first column matching a candidate name (exact first, then case-insensitive)."""
    cols = [str(c) for c in columns]
    for cand in candidates:
        if cand in cols:
            return cand
    lower = {c.lower(): c for c in cols}
    for cand in candidates:
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None


def require_column(columns: Sequence[str], candidates: Sequence[str], what: str,
                   path: Path | str, meaning: str) -> str:
    """Like :func:`find_column` but raise an InputError listing the columns found."""
    col = find_column(columns, candidates)
    if col is None:
        raise InputError(f"{what} {path} has no {meaning} column: expected one of "
                         f"{', '.join(candidates)}; columns found: {show(columns, 30)}. "
                         "Rename the column in the file, or pass its name explicitly "
                         "where the reader allows it.")
    return col


def normalise_ags(values: pd.Series, *, path: Path | str, column: str,
                  width: int = 8) -> pd.Series:
    """Return the keys as zero-padded digit strings of length ``width``.

    Keys that lost their leading zero (read as numbers, e.g. ``1001000`` or
    ``1001000.0``) are padded again. Raises InputError on missing keys, keys with
    non-digits, keys longer than ``width`` and keys whose Land code is not 01-16.
    """
    s = pd.Series(values, copy=False).astype("str").str.strip()
    missing = values.isna().to_numpy() | (s == "").to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)[:_LIST_MAX] + 2
        raise InputError(f"{path}: column {column!r} has {int(missing.sum())} empty keys "
                         f"(file lines {show(rows)}). Fill in the key or delete the rows.")
    s = s.str.replace(r"\.0+$", "", regex=True).str.replace(r"\s+", "", regex=True)
    ok = s.str.fullmatch(r"\d+") & (s.str.len() <= width)
    if not ok.all():
        raise InputError(f"{path}: column {column!r} holds values that are not {width}-digit "
                         f"keys: {show(s[~ok].unique())}. Keys must be digits only, e.g. "
                         f"{'01001000'[:width]!r}.")
    s = s.str.zfill(width)
    bad_land = ~s.str[:2].isin(LAND_CODES)
    if bad_land.any():
        raise InputError(f"{path}: column {column!r} has keys whose Land code (first two "
                         f"digits) is not 01-16: {show(s[bad_land].unique())}. A key with "
                         "fewer digits (a Kreis or Land row?) was padded with zeros; keep "
                         "only rows of municipalities with their full key.")
    return s.astype("str")


_DECIMAL_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})*,\d+$|^[+-]?\d+,\d+$")
_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")


def to_number(values: pd.Series, *, path: Path | str, column: str, integer: bool = False,
              placeholders: dict[str, float] | None = None) -> pd.Series:
    """Parse a column to float64, accepting German number formats.

    ``1.234,5`` and ``12,5`` (decimal comma) are understood; with ``integer=True`` also
    ``1.234`` (thousands dot, as in counts). Empty cells become NaN. ``placeholders``
    maps further strings (e.g. ``"*"``) to values. Anything else raises InputError.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    s = values.astype("str").str.strip()
    s = s.where(values.notna(), "")
    placeholders = placeholders or {}
    is_ph = s.isin(list(placeholders))
    repl = s.map(placeholders).where(is_ph, np.nan).astype("float64")
    comma = s.str.match(_DECIMAL_COMMA)
    s = s.where(~comma, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    if integer:
        s = s.where(~s.str.match(_THOUSANDS_DOT), s.str.replace(".", "", regex=False))
    out = pd.to_numeric(s.replace("", np.nan), errors="coerce").astype("float64")
    out = out.where(~is_ph, repl)
    bad = out.isna() & (s != "") & ~is_ph
    if bad.any():
        hint = f" or one of {', '.join(map(repr, placeholders))}" if placeholders else ""
        raise InputError(f"{path}: column {column!r} holds values that are not numbers: "
                         f"{show(s[bad].unique())}. Use plain numbers (decimal point or "
                         f"comma){hint}.")
    return out


def file_suffix(path: Path) -> str:
    """The file name's last suffix in lower case (``.CSV`` -> ``.csv``)."""
    return path.suffix.lower()


def read_parquet_any(path: Path, what: str) -> pd.DataFrame:
    """Read Parquet as a GeoDataFrame if it is GeoParquet, else as a DataFrame.

    Raises
    ------
    InputError
        The file cannot be read as Parquet.
    """
    try:
        meta = pq.read_schema(path).metadata or {}
        if b"geo" in meta:
            return gpd.read_parquet(path)
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError subclasses
        raise InputError(f"{what} {path} cannot be read as Parquet ({exc}). "
                         "Check that it is a complete Parquet file (re-export it).") from None


def read_table(path: str | Path, what: str) -> tuple[Path, pd.DataFrame]:
    """Read a non-spatial table (CSV, Parquet or a GDAL layer) for the small readers.

    Parameters
    ----------
    path : str or Path
        The file; an unknown suffix is tried as CSV.
    what : str
        What the file should contain, used in messages.

    Returns
    -------
    tuple of (Path, DataFrame)
        The checked path and the table (CSV columns as str).

    Raises
    ------
    InputError
        Missing, unreadable or empty file.
    """
    p = check_file(path, what)
    suffix = file_suffix(p)
    if suffix in CSV_SUFFIXES:
        df = read_csv_as_str(p, what)
    elif suffix in PARQUET_SUFFIXES:
        df = read_parquet_any(p, what)
    elif suffix in GEO_SUFFIXES:
        try:
            df = pyogrio.read_dataframe(p, read_geometry=False)
        except Exception as exc:
            raise InputError(f"{what} {p} cannot be read ({exc}). Check "
                         "that it is complete and in a format GDAL reads (GeoPackage, GeoJSON, "
                         "Shapefile).") from None
    else:
        # unknown suffix: try as CSV, which also catches binary files
        df = read_csv_as_str(p, what)
    if len(df) == 0:
        raise InputError(f"{what} {p} has no rows; pass a file with data.")
    return p, df
