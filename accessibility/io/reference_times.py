"""Reader of reference car travel times (speed calibration and accuracy checks)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputError
from ..vocabulary import NEAREST_MZ, NEAREST_OZ
from ._tables import find_column, normalise_ags, read_table, show, to_number

logger = logging.getLogger(__name__)

__all__ = ["MAX_REFERENCE_MIN", "read_reference_times", "reference_format"]

#: Longest plausible reference car time in minutes (Germany end to end is about 12 h).
MAX_REFERENCE_MIN = 1440.0
_ORIGIN_COLUMNS = ("origin_ags", "origin", "from_ags")
_DESTINATION_COLUMNS = ("destination", "destination_ags", "to_ags")
_MINUTES_COLUMNS = ("minutes", "time_min", "reference_min")
_NEAREST = re.compile(r"^nearest\s+(oz|mz)$", re.IGNORECASE)
_REF_GVB_COLUMNS = ("gvb_ars9", "gvb")
_REF_GVB_TIMES = ("t_oz_min", "t_mz_min")
_REF_N_MEMBERS = ("n_members",)
_REF_GVB_NAME = ("name", "gvb_name")


def _check_minutes(minutes: pd.Series, p: Path, column: str, what: str) -> None:
    """Raise InputError for minutes outside 0..MAX_REFERENCE_MIN (NaN passes)."""
    v = minutes.to_numpy()
    bad = np.isinf(v) | (v < 0) | (v > MAX_REFERENCE_MIN)
    if bad.any():
        rows = [f"line {i + 2}: {x}" for i, x in minutes[bad].items()]
        raise InputError(f"{what} {p}: column {column!r} must be minutes from 0 to "
                         f"{MAX_REFERENCE_MIN:g} (seconds given?); found {show(rows)}.")


def reference_format(columns: Sequence[str]) -> str | None:
    """The format of a reference travel-time table judged by its column names.

    Parameters
    ----------
    columns : sequence of str
        The table's column names (matched case-insensitively).

    Returns
    -------
    str or None
        ``"pairs"`` (``origin_ags``, ``destination``, ``minutes``), ``"gvb"``
        (``gvb_ars9`` or ``gvb`` with ``t_oz_min`` and/or ``t_mz_min``: the INKAR
        format), ``"ambiguous"`` when the columns fit both, or None when they fit
        neither.
    """
    pairs = all(find_column(columns, c) is not None
                for c in (_ORIGIN_COLUMNS, _DESTINATION_COLUMNS, _MINUTES_COLUMNS))
    gvb = (find_column(columns, _REF_GVB_COLUMNS) is not None
           and any(find_column(columns, (c,)) is not None for c in _REF_GVB_TIMES))
    if pairs and gvb:
        return "ambiguous"
    return "pairs" if pairs else "gvb" if gvb else None


def read_reference_times(path: str | Path) -> pd.DataFrame:
    """Read reference car travel times: between municipalities, or per Gemeindeverband.

    Two formats are understood, told apart by their columns:

    ``pairs``
        ``origin_ags`` (8-digit AGS), ``destination`` (an 8-digit AGS, or
        ``nearest OZ`` / ``nearest MZ``, any case) and ``minutes`` (reference
        travel time, >= 0). ``origin``, ``destination_ags`` and ``time_min`` are
        accepted as well.
    ``gvb`` (the INKAR format)
        ``gvb_ars9`` or ``gvb`` (9-digit Gemeindeverband key of the municipality
        register) and ``t_oz_min`` and/or ``t_mz_min``: the area-weighted mean over
        the GVB's members of each member's car time to the nearest Oberzentrum /
        Mittel- or Oberzentrum (INKAR "flächengewichteter Durchschnitt"). Optional
        ``n_members`` (members of the GVB, to check that all are in the run) and
        ``name``. An empty time means "no reference" for that indicator.

    Parameters
    ----------
    path : str or Path
        CSV (``,``/``;``/tab separated, decimal point or comma) or Parquet table.
        Column names are matched case-insensitively.

    Returns
    -------
    pandas.DataFrame
        ``pairs``: columns ``origin_ags`` (str), ``destination`` (str: an AGS,
        ``"nearest OZ"`` or ``"nearest MZ"``) and ``minutes`` (float).
        ``gvb``: columns ``gvb`` (str, 9 digits), ``t_oz_min``, ``t_mz_min`` (float,
        NaN where the file has no value or no column), ``n_members`` (nullable
        Int64) and ``name``. Rows in file order; the index is ``0..n-1``, so row
        ``i`` is line ``i + 2`` of a CSV file. The columns tell the format (the
        calibration reads it from them).

    Raises
    ------
    InputError
        Missing file; a table with the columns of neither format (or of both);
        empty or malformed AGS / GVB keys, duplicated GVBs; destinations that are
        neither an AGS nor a "nearest" keyword; missing (pairs format),
        non-numeric, negative or infinite minutes.
    """
    what = "reference travel-time table"
    p, df = read_table(path, what)
    fmt = reference_format(df.columns)
    if fmt == "ambiguous":
        raise InputError(f"{what} {p} has the columns of both formats (origin_ags, "
                         "destination, minutes and gvb_ars9, t_oz_min, t_mz_min); keep the "
                         "columns of one format only.")
    if fmt == "gvb":
        return _read_gvb_reference_times(p, df, what)
    if fmt is None and find_column(df.columns, _ORIGIN_COLUMNS) is None:
        raise InputError(f"{what} {p} is in neither known format; columns found: "
                         f"{show(df.columns, 30)}. Give either origin_ags, destination, "
                         "minutes (one row per trip; destination an AGS or 'nearest OZ' / "
                         "'nearest MZ') or gvb_ars9, t_oz_min, t_mz_min (INKAR: one row per "
                         "Gemeindeverband, area-weighted mean minutes).")
    cols = {}
    for key, candidates in (("origin_ags", _ORIGIN_COLUMNS),
                            ("destination", _DESTINATION_COLUMNS),
                            ("minutes", _MINUTES_COLUMNS)):
        col = find_column(df.columns, candidates)
        if col is None:
            raise InputError(f"{what} {p} has no {key!r} column (also accepted: "
                             f"{', '.join(candidates[1:])}); columns found: "
                             f"{show(df.columns, 30)}. Expected columns origin_ags, "
                             "destination, minutes.")
        cols[key] = col
    df = df.reset_index(drop=True)
    origin = normalise_ags(df[cols["origin_ags"]], path=p, column=cols["origin_ags"])

    raw_dest = df[cols["destination"]]
    dest = raw_dest.astype("str").str.strip().where(raw_dest.notna(), "")
    m = dest.str.match(_NEAREST)
    keyword = dest.str.replace(r"\s+", " ", regex=True).str.lower().map(
        {"nearest oz": NEAREST_OZ, "nearest mz": NEAREST_MZ})
    dest_out = pd.Series(keyword.where(m), index=df.index, dtype="object")
    is_ags = ~m
    if is_ags.any():
        looks_like_key = dest[is_ags].str.replace(r"\.0+$", "", regex=True).str.fullmatch(r"\d+")
        bad = dest[is_ags][~looks_like_key]
        if len(bad):
            rows = [f"line {i + 2}: {v!r}" for i, v in bad.items()]
            raise InputError(f"{what} {p}: column {cols['destination']!r} must hold an "
                             f"8-digit AGS or 'nearest OZ' / 'nearest MZ'; found "
                             f"{show(rows)}.")
        dest_out[is_ags] = normalise_ags(dest[is_ags], path=p,
                                         column=cols["destination"]).to_numpy()

    minutes = to_number(df[cols["minutes"]], path=p, column=cols["minutes"])
    missing = minutes.isna()
    if missing.any():
        raise InputError(f"{what} {p}: column {cols['minutes']!r} is empty on lines "
                         f"{show(np.flatnonzero(missing.to_numpy()) + 2)}. Every row needs "
                         "a reference time in minutes.")
    # no car trip within Germany takes a day: larger values are seconds or typos
    _check_minutes(minutes, p, cols["minutes"], what)
    out = pd.DataFrame({"origin_ags": origin.astype("str").to_numpy(),
                        "destination": dest_out.astype("str").to_numpy(),
                        "minutes": minutes.astype("float64").to_numpy()})
    logger.info("read %d reference times from %s (%d to a nearest OZ/MZ)", len(out), p,
                int(m.sum()))
    return out


def _read_gvb_reference_times(p: Path, df: pd.DataFrame, what: str) -> pd.DataFrame:
    """The ``gvb`` format of :func:`read_reference_times` (INKAR GVB means)."""
    df = df.reset_index(drop=True)
    key_col = find_column(df.columns, _REF_GVB_COLUMNS)
    gvb = normalise_ags(df[key_col], path=p, column=key_col, width=9)
    dup = gvb[gvb.duplicated(keep=False)]
    if len(dup):
        rows = [f"line {i + 2}: {v}" for i, v in dup.items()]
        raise InputError(f"{what} {p}: Gemeindeverband keys occur more than once "
                         f"({show(rows)}); give one row per GVB.")
    out = pd.DataFrame({"gvb": gvb.to_numpy()})
    for c in _REF_GVB_TIMES:
        col = find_column(df.columns, (c,))
        if col is None:
            out[c] = np.nan
            continue
        minutes = to_number(df[col], path=p, column=col)
        _check_minutes(minutes, p, col, what)
        out[c] = minutes.astype("float64").to_numpy()
    n_col = find_column(df.columns, _REF_N_MEMBERS)
    if n_col is not None:
        n = to_number(df[n_col], path=p, column=n_col, integer=True)
        bad = n.notna() & ((n < 1) | (n != np.round(n)))
        if bad.any():
            rows = [f"line {i + 2}: {v:g}" for i, v in n[bad].items()]
            raise InputError(f"{what} {p}: column {n_col!r} must be a whole number of member "
                             f"municipalities >= 1; found {show(rows)}.")
        out["n_members"] = pd.array(n.round().to_numpy(), dtype="Int64")
    else:
        out["n_members"] = pd.array([pd.NA] * len(out), dtype="Int64")
    name_col = find_column(df.columns, _REF_GVB_NAME)
    out["name"] = (df[name_col].astype("str").where(df[name_col].notna(), "").to_numpy()
                   if name_col is not None else "")
    empty = out[list(_REF_GVB_TIMES)].isna().all(axis=1)
    if empty.all():
        raise InputError(f"{what} {p}: no row has a value in t_oz_min or t_mz_min; give the "
                         "reference minutes.")
    logger.info("read reference times of %d Gemeindeverbände from %s (%d to an OZ, %d to an "
                "MZ)", len(out), p, int(out["t_oz_min"].notna().sum()),
                int(out["t_mz_min"].notna().sum()))
    return out
