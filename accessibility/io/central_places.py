"""Reader of the central-place designations (Zentrale Orte) of municipalities."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from .._errors import InputError
from ..vocabulary import CENTRAL_PLACE_CLASSES, normalise_function
from ._tables import (
    AGS_CANDIDATES,
    find_column,
    normalise_ags,
    read_table,
    require_column,
    show,
)

logger = logging.getLogger(__name__)

__all__ = ["CENTRAL_PLACE_CLASSES", "parse_central_places", "read_central_places"]

_FUNCTION_COLUMNS = ("central_place", "zo_funktion", "zentraler_ort", "zo", "funktion",
                     "function", "zentralörtliche_funktion")
_CP_NAME_COLUMNS = ("central_place_name", "gemeinde", "name", "GEN", "gemeindename")


def read_central_places(path: str | Path) -> pd.DataFrame:
    """Read the central-place function of municipalities.

    Parameters
    ----------
    path : str or Path
        CSV (``,`` or ``;``), Parquet or GDAL-readable table with an AGS column and a
        function column (``central_place``, ``zo_funktion``, ``zentraler_ort``,
        ``funktion``), e.g. the BBSR/INKAR table ``ags, gemeinde, zo_funktion``.

    Returns
    -------
    pandas.DataFrame
        ``ags`` (8-digit str, unique), ``central_place`` (one of
        :data:`CENTRAL_PLACE_CLASSES`) and ``central_place_name`` if the input has a
        name column (``gemeinde``, ``name``).

    Raises
    ------
    InputError
        Missing file or column, function values that are not understood (all listed),
        the same AGS with conflicting functions.

    Notes
    -----
    Designations are normalised by :func:`accessibility.vocabulary.normalise_function`:
    codes OZ/MZ/GZ and ``-``/``none``/empty are accepted, and "X mit ... Teilfunktion"
    counts as X (a partial function of the next level does not promote a place).
    """
    what = "central-place table"
    p, df = read_table(path, what)
    return parse_central_places(df, what=what, path=p)


def parse_central_places(df: pd.DataFrame, *, what: str = "central-place table",
                         path: Path | str = "table") -> pd.DataFrame:
    """Normalise a central-place table already in memory (the rules of
    :func:`read_central_places`): the reader and the Python API share it.

    Parameters
    ----------
    df : DataFrame
        An AGS column and a function column under any accepted name.
    what : str
        How messages name the table.
    path : str or Path
        Where it came from, for messages.

    Returns
    -------
    pandas.DataFrame
        As :func:`read_central_places` returns it.

    Raises
    ------
    InputError
        Not a DataFrame, missing columns, functions that are not understood, the
        same AGS with conflicting functions.
    """
    p = path
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what} must be a DataFrame, got {type(df).__name__}")
    ags_col = require_column(df.columns, AGS_CANDIDATES, what, p, "AGS")
    fn_col = require_column(df.columns, _FUNCTION_COLUMNS, what, p, "central-place function")
    ags = normalise_ags(df[ags_col], path=p, column=ags_col)
    raw = df[fn_col]
    mapped = raw.map(normalise_function)
    unknown = mapped.isna()
    if unknown.any():
        vals = raw[unknown].astype("str").value_counts()
        listed = [f"{v!r} ({n}x)" for v, n in vals.items()]
        raise InputError(f"{what} {p}: column {fn_col!r} has values that are not a "
                         f"central-place function: {show(listed)}. Use Oberzentrum/OZ, "
                         "Mittelzentrum/MZ, Grundzentrum/GZ or keine/-.")
    out = pd.DataFrame({"ags": ags.to_numpy(), "central_place": mapped.astype("str").to_numpy()})
    name_col = find_column([c for c in df.columns if c != ags_col], _CP_NAME_COLUMNS)
    if name_col:
        out["central_place_name"] = df[name_col].astype("str").to_numpy()
    dup = out["ags"].duplicated(keep=False)
    if dup.any():
        n_fn = out[dup].groupby("ags")["central_place"].nunique()
        conflict = n_fn[n_fn > 1].index
        if len(conflict):
            rows = [f"{a}: " + "/".join(sorted(set(out.loc[out['ags'] == a, 'central_place'])))
                    for a in conflict[:10]]
            raise InputError(f"{what} {p}: {len(conflict)} AGS appear more than once with "
                             f"different functions: {show(rows)}"
                             f"{', ...' if len(conflict) > 10 else ''}. Keep one row per "
                             "municipality.")
        logger.warning("%s: %d repeated rows with the same function dropped", p,
                       int(out['ags'].duplicated().sum()))
        out = out.drop_duplicates("ags").reset_index(drop=True)
    counts = out["central_place"].value_counts()
    logger.info("read %d central-place rows from %s: %s", len(out), p,
                ", ".join(f"{k} {counts.get(k, 0)}" for k in CENTRAL_PLACE_CLASSES))
    return out
