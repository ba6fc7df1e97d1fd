"""Reader of commuters and employees per municipality (Bundesagentur für Arbeit)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputError
from ._tables import (
    AGS_CANDIDATES,
    CSV_SUFFIXES,
    check_file,
    decode_head,
    file_suffix,
    find_column,
    normalise_ags,
    read_table,
    require_column,
    show,
    to_number,
)

logger = logging.getLogger(__name__)

__all__ = ["read_commuters"]

_IN_COLUMNS = ("in_commuters", "einpendler", "Einpendler", "einpendler_insgesamt")
_OUT_COLUMNS = ("out_commuters", "auspendler", "Auspendler", "auspendler_insgesamt")
#: Placeholders of the Bundesagentur für Arbeit tables: "-" means zero, "*" anonymised.
_BA_PLACEHOLDERS = {"-": 0.0, "–": 0.0, "*": np.nan, "x": np.nan, "X": np.nan}
#: Placeholders of the published BA Pendlerstatistik: "-" nothing (0); "*" anonymised
#: (fewer than 3 cases or disclosure control), "X" / "x" not applicable or locked,
#: "." unknown or secret (Destatis convention): missing.
_BA_SUPPRESSED = {**_BA_PLACEHOLDERS, ".": np.nan, "…": np.nan}
#: Columns of the number of employees subject to social insurance at the workplace.
_EMP_WORK_COLUMNS = ("employees_workplace", "sv_beschaeftigte_arbeitsort",
                     "svb_arbeitsort", "beschaeftigte_arbeitsort", "svb_ao")
_EMP_HOME_COLUMNS = ("employees_residence", "sv_beschaeftigte_wohnort", "svb_wohnort",
                     "beschaeftigte_wohnort", "svb_wo")
#: Key columns of the published BA tables, whose cells may hold "AGS name".
_BA_KEY_COLUMNS = ("Gemeinde", "Gemeindeschlüssel", "Schlüssel", "Regionalschlüssel",
                   "Arbeitsort", "Wohnort", "Kennziffer", "Gemeinde (AGS)")
_LEADING_AGS = re.compile(r"^\s*(\d{7,8})(?!\d)")


def _plain(name: object) -> str:
    """A column name reduced for matching: lower case, umlauts spelt out, letters and
    digits only ("Sozialversicherungspflichtig Beschäftigte am Arbeitsort" ->
    "sozialversicherungspflichtigbeschaeftigteamarbeitsort")."""
    s = str(name).lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        s = s.replace(a, b)
    return re.sub(r"[^a-z0-9]", "", s)


def _commuter_column(columns: Sequence[str], exact: Sequence[str], words: Sequence[str],
                     avoid: Sequence[str] = ()) -> str | None:
    """An exact candidate name, else the shortest column whose reduced name holds all
    ``words`` and none of ``avoid`` (the BA's long German headers)."""
    col = find_column(columns, exact)
    if col is not None:
        return col
    hits = [c for c in columns if all(w in _plain(c) for w in words)
            and not any(a in _plain(c) for a in avoid)]
    return min(hits, key=lambda c: len(str(c))) if hits else None


def _header_line(p: Path) -> int | None:
    """Index of the header line of a BA download with title lines above the table: the
    first line naming in-commuters (None when the file is not text)."""
    try:
        _, head = decode_head(p)
    except OSError:
        return None
    for i, line in enumerate(head.splitlines()[:60]):
        low = line.lower()
        if "einpendler" in low or "in_commuters" in low:
            return i
    return None


def _read_commuter_table(path: str | Path, what: str) -> tuple[Path, pd.DataFrame]:
    """The commuter table; for a CSV with title lines above the header (a BA download
    saved as CSV), the table from the header line on."""
    p = check_file(path, what)
    line = _header_line(p) if file_suffix(p) in CSV_SUFFIXES else None
    if not line:  # no title lines above the header: the usual reader
        return read_table(p, what)
    encoding, head = decode_head(p)
    header = head.splitlines()[line]
    sep = max((";", ",", "\t", "|"), key=header.count)
    try:
        df = pd.read_csv(p, sep=sep, dtype=str, encoding=encoding, skiprows=line,
                         keep_default_na=False, na_values=[""], skipinitialspace=True,
                         on_bad_lines="skip")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{what} {p} cannot be read from its header line {line + 1} "
                         f"({exc}). Save the table as CSV with one header row.") from None
    df.columns = [re.sub(r"\s+", " ", str(c)).strip() for c in df.columns]
    if len(df) == 0:
        raise InputError(f"{what} {p} has no rows below its header (line {line + 1})")
    logger.info("%s: header found on line %d (title lines above it skipped)", p, line + 1)
    return p, df


def read_commuters(path: str | Path) -> pd.DataFrame:
    """Read commuters and employees per municipality (Bundesagentur für Arbeit).

    Two layouts are accepted, told apart by their columns.

    **Plain table**: an AGS column (``ags``, ``AGS``, ``Gemeindeschlüssel``, ...),
    ``in_commuters``/``Einpendler``, ``out_commuters``/``Auspendler`` and, for the
    commuter balance per 100 employees and residents per job,
    ``employees_workplace``/``sv_beschaeftigte_arbeitsort``.

    **BA Pendlerstatistik as published** ("Pendler nach Gemeinden", Statistik der
    Bundesagentur für Arbeit, saved as CSV from the Excel download, or as .xlsx
    exported to CSV): semicolon-separated, Windows-1252 or UTF-8; title lines above
    the header are skipped (the header is the first line naming "Einpendler"); the
    key column is ``Gemeinde`` (or ``Schlüssel``, ``Regionalschlüssel``, ``Arbeitsort``,
    ``Wohnort``) whose cells start with the 8-digit AGS, possibly followed by the
    name ("03101000 Braunschweig, Stadt"); rows whose key is no municipality key
    (Kreis and Land totals, "Insgesamt", footnotes) are skipped. The count columns are
    found by their German headers (spaces, line breaks and case do not matter):
    "Einpendler", "Auspendler", "Sozialversicherungspflichtig Beschäftigte am
    Arbeitsort" (and "... am Wohnort"); a "Pendlersaldo" column is not needed.
    Numbers may carry thousands separators ("30.123", "30 123"). Placeholders:
    ``-`` is 0 (nothing); ``*`` (anonymised), ``X``/``x`` (locked, not applicable),
    ``.`` (unknown or secret) and ``…`` are missing.

    Parameters
    ----------
    path : str or Path
        CSV (``,`` or ``;``), Parquet or a GDAL-readable table.

    Returns
    -------
    pandas.DataFrame
        ``ags`` (8-digit str, unique), ``in_commuters``, ``out_commuters`` (float, NaN
        where suppressed) and, where the table has them, ``employees_workplace`` and
        ``employees_residence``.

    Raises
    ------
    InputError
        Missing file or columns (the columns found are listed), values that are not
        numbers, negative counts, duplicated AGS.
    """
    what = "commuter table"
    p, df = _read_commuter_table(path, what)
    ags_col = find_column(df.columns, AGS_CANDIDATES)
    in_col = _commuter_column(df.columns, _IN_COLUMNS, ("einpendler",))
    out_col = _commuter_column(df.columns, _OUT_COLUMNS, ("auspendler",))
    if in_col is None:
        require_column(df.columns, _IN_COLUMNS, what, p, "in-commuter")
    if out_col is None:
        require_column(df.columns, _OUT_COLUMNS, what, p, "out-commuter")
    emp_col = _commuter_column(df.columns, _EMP_WORK_COLUMNS, ("beschaeftigt", "arbeitsort"))
    home_col = _commuter_column(df.columns, _EMP_HOME_COLUMNS, ("beschaeftigt", "wohnort"))
    if ags_col is not None:
        ags = normalise_ags(df[ags_col], path=p, column=ags_col)
    else:
        key_col = find_column(df.columns, _BA_KEY_COLUMNS)
        if key_col is None:
            require_column(df.columns, AGS_CANDIDATES + _BA_KEY_COLUMNS, what, p, "AGS")
        lead = df[key_col].astype(str).str.extract(_LEADING_AGS, expand=False)
        keep = lead.notna() & df[key_col].notna()
        if not keep.any():
            raise InputError(f"{what} {p}: no cell of column {key_col!r} starts with an 8-digit "
                             f"AGS (first values: {show(df[key_col].dropna().unique()[:5])}). "
                             "Keep the municipality rows with their key, e.g. '03101000 "
                             "Braunschweig, Stadt'.")
        if (~keep).any():
            logger.info("%s: %d rows without a municipality key skipped (totals, Kreise, "
                        "footnotes)", p, int((~keep).sum()))
        df = df.loc[keep].reset_index(drop=True)
        ags = normalise_ags(lead[keep].reset_index(drop=True), path=p, column=key_col)
    out = pd.DataFrame({"ags": ags.to_numpy()})
    counts = [("in_commuters", in_col), ("out_commuters", out_col)]
    counts += [(t, c) for t, c in (("employees_workplace", emp_col),
                                   ("employees_residence", home_col)) if c is not None]
    for target, col in counts:
        raw = df[col]
        if not pd.api.types.is_numeric_dtype(raw):  # "30 123", NBSP: thousands spaces
            raw = raw.astype("string").str.replace(r"(?<=\d)[\s\u00a0\u202f](?=\d{3})", "",
                                                   regex=True).astype(object)
            raw = raw.where(df[col].notna(), None)
        v = to_number(raw, path=p, column=col, integer=True,
                      placeholders=_BA_SUPPRESSED).to_numpy()
        neg = v < 0
        if neg.any():
            raise InputError(f"{what} {p}: column {col!r} has negative counts for AGS "
                             f"{show(out['ags'][neg])}. Commuter counts must be >= 0.")
        out[target] = v
    dup = out["ags"].duplicated(keep=False)
    if dup.any():
        raise InputError(f"{what} {p} has duplicated AGS: {show(out.loc[dup, 'ags'].unique())}."
                         " Keep one row per municipality (place of work = place of residence"
                         " tables must be summed first).")
    n_na = int(out[["in_commuters", "out_commuters"]].isna().any(axis=1).sum())
    if n_na:
        logger.warning("%s: %d municipalities have anonymised ('*') or empty commuter "
                       "counts (NaN)", p, n_na)
    logger.info("read commuters of %d municipalities from %s%s", len(out), p,
                " with employees at the workplace" if emp_col is not None else "")
    return out
