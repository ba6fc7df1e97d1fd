"""The content of the hand-in document, read from a finished run folder: a list of
pages, each a heading with text and one table (chunk) or one map.

Nothing is recomputed: the pages show the folder's CSV files, PNG maps and the
manifest's record of the run (:mod:`accessibility.pipeline.provenance`). Paging is
decided here, by fixed rules, so that the PDF and the HTML have the same pages and a
reader can count them from the folder: the title page; one page per table chunk of
at most :data:`ROWS_PER_PAGE` rows and :data:`VALUE_COLUMNS_PER_PAGE` value columns
(the key columns repeat); one page per map.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import defaults
from .._errors import InputError
from ..vocabulary import (
    DESTINATION_KIND_TERMS,
    document_cell,
    document_label,
    document_words,
    map_words,
)

logger = logging.getLogger(__name__)

#: Rows of a table on one page (a longer table continues on the next, header repeated).
ROWS_PER_PAGE = 36
#: Value columns of a table on one page (a wider table continues on the next page with
#: its key columns repeated).
VALUE_COLUMNS_PER_PAGE = 9
#: Columns that describe a value (counts of missing inputs), not a value: the document
#: leaves them out (the exactness pages count what is missing).
DIAGNOSTIC = re.compile(r"_n_(missing|no_area|no_population)$|^n_members(_in_region)?$")
#: The order of the maps (as a run writes them); others follow by name.
MAP_ORDER = ("map_oz_time", "map_oz_class", "map_standards", "map_mz_catchments", "map_lage",
             "map_motorway_time", "map_ldrail_time", "map_airport_time", "map_pt_departures",
             "map_rail_departures", "map_commuter_balance", "map_walk_all_six")
#: The manifest a run writes (pipeline/publish.py).
MANIFEST = ".accessibility-run.json"


@dataclass
class Table:
    """A table chunk as text: header labels, rows of cells, which columns are numbers."""

    header: list[str]
    rows: list[list[str]]
    numeric: list[bool]


@dataclass
class Page:
    """One page: a heading, paragraphs, and a table, a map (``image``) or key-value
    rows (``items``, the title page)."""

    heading: str
    text: list[str] = field(default_factory=list)
    table: Table | None = None
    image: Path | None = None
    caption: str = ""
    items: list[tuple[str, str]] = field(default_factory=list)
    kind: str = "table"  # "title", "table", "map"


@dataclass
class Document:
    """The pages of the document and its title."""

    title: str
    lang: str
    pages: list[Page]


# ------------------------------------------------------------------ numbers
def number(v: object, lang: str, decimals: int = 0) -> str:
    """``v`` with thousands separators and ``decimals`` (German: 1.234,5; English:
    1,234.5); missing values as an en dash."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA:
        return "–"
    text = f"{float(v):,.{decimals}f}"
    if text in (f"-{0:.{decimals}f}",):  # no "-0.0"
        text = text[1:]
    return text.translate(str.maketrans(",.", ".,")) if lang == "de" else text


def _kind(col: str, s: pd.Series) -> str:
    """How a column's numbers are shown: ``pct`` (already percent), ``frac`` (a share
    0..1 shown as percent), ``int``, ``dec`` (one decimal), ``bool`` or ``text``."""
    if s.dtype == bool or (s.dtype == object and s.dropna().isin([True, False]).all()
                           and len(s.dropna())):
        return "bool"
    if s.dtype.kind not in "fiu":
        return "text"
    if col.endswith(" %"):
        return "pct"
    if col.startswith("share") or "_share" in col or col.startswith("walk_share"):
        return "frac"
    if (col.endswith((" n", " residents")) or col.startswith(("n_", "residents"))
            or col in ("n", "population", "residents", "gvb", "municipalities", "bytes")
            or col.startswith("population")):
        return "int"
    v = pd.to_numeric(s, errors="coerce").dropna()
    return "int" if len(v) and (v == v.round()).all() and "_min" not in col else "dec"


def _cells(s: pd.Series, kind: str, lang: str) -> list[str]:
    w = document_words(lang)
    if kind == "bool":
        return ["–" if pd.isna(v) else (w["yes"] if bool(v) else w["no"]) for v in s]
    if kind == "text":
        return ["–" if pd.isna(v) or v == "" else document_cell(str(v), lang) for v in s]
    v = pd.to_numeric(s, errors="coerce").astype(float)
    if kind == "frac":
        return [number(x * 100.0, lang, 1) + " %" if np.isfinite(x) else "–" for x in v]
    if kind == "pct":
        return [number(x, lang, 1) + " %" if np.isfinite(x) else "–" for x in v]
    return [number(x, lang, 0 if kind == "int" else 1) for x in v]


def table_pages(heading: str, df: pd.DataFrame, keys: list[str], lang: str,
                text: list[str] | None = None, labels: dict[str, str] | None = None
                ) -> list[Page]:
    """The pages of one table: every column shown (empty ones and the diagnostic
    counts of :data:`DIAGNOSTIC` left out), split into chunks of
    :data:`ROWS_PER_PAGE` rows and :data:`VALUE_COLUMNS_PER_PAGE` value columns; the
    ``keys`` repeat on every chunk. Headers from ``labels``, else
    :func:`~accessibility.vocabulary.document_label`."""
    labels = labels or {}
    df = df[[c for c in df.columns if c in keys or not DIAGNOSTIC.search(str(c))]]
    df = df[[c for c in df.columns if c in keys or not df[c].replace("", np.nan).isna().all()]]
    values = [c for c in df.columns if c not in keys]
    kinds = {c: _kind(str(c), df[c]) for c in df.columns}
    cells = {c: _cells(df[c], kinds[c], lang) for c in df.columns}
    col_chunks = [values[i:i + VALUE_COLUMNS_PER_PAGE]
                  for i in range(0, len(values), VALUE_COLUMNS_PER_PAGE)] or [[]]
    row_chunks = [range(i, min(i + ROWS_PER_PAGE, len(df)))
                  for i in range(0, len(df), ROWS_PER_PAGE)] or [range(0)]
    n = len(col_chunks) * len(row_chunks)
    w = document_words(lang)
    pages = []
    for cols in col_chunks:
        for rows in row_chunks:
            shown = keys + cols
            part = f" ({w['part'].format(i=len(pages) + 1, n=n)})" if n > 1 else ""
            pages.append(Page(
                heading + part, list(text or []) if not pages else [],
                Table([labels.get(str(c)) or document_label(str(c), lang) for c in shown],
                      [[cells[c][r] for c in shown] for r in rows],
                      [kinds[c] not in ("text", "bool") for c in shown])))
    return pages


# ------------------------------------------------------------------ reading the folder
def _read(run: Path, name: str) -> pd.DataFrame | None:
    p = run / name
    if not p.is_file():
        return None
    keys = {c: str for c in ("ags", "gvb", "kreis", "land", "key", "group", "class")}
    return pd.read_csv(p, dtype=keys, keep_default_na=True)


def manifest(run: Path) -> dict:
    """The run folder's manifest; an :class:`InputError` when there is none (not the
    output folder of a run)."""
    try:
        m = json.loads((run / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        inner = sorted(p.parent.name for p in run.glob(f"*/{MANIFEST}"))
        hint = (f"; it holds the folders of a scenario batch, one document each: "
                f"{', '.join(inner[:8])}" if inner else "")
        raise InputError(f"{run} is not the output folder of a finished run (no {MANIFEST}): "
                         "give the folder `accessibility run` or `accessibility scenario` "
                         f"wrote{hint}") from None
    except ValueError:
        raise InputError(f"{run / MANIFEST} is unreadable: rerun the run into a new "
                         "folder") from None
    return m if isinstance(m, dict) else {}


def title_page(run: Path, man: dict, lang: str) -> Page:
    """Title, region, the run's record (date, version, profile, CRS) and its inputs."""
    w = document_words(lang)
    info = man.get("run") or {}
    title = (w["scenario_title"].format(name=info.get("scenario", run.name))
             if info.get("command") == "scenario" or (run / "scenario_municipalities.csv")
             .is_file() else w["title"])
    items = []
    counts, land = _read(run, "counts.csv"), _read(run, "land.csv")
    if counts is not None and land is not None:
        n = counts.loc[counts["what"] == "written (municipalities.*)", "n"]
        lands = ", ".join(land.get("land_name", land["land"]).astype(str))
        items.append((w["region"], w["region_text"].format(
            n=number(n.iloc[0] if len(n) else np.nan, lang), lands=lands)))
    region = info.get("region") or {}
    cut = [*region.get("ags_prefixes", []), *map(str, region.get("bbox", []))]
    if cut:
        items.append((w["cut"], ", ".join(cut)))
    items.append((w["created"], info.get("created_utc", w["not_recorded"])))
    items.append((w["version"], f"accessibility {info.get('version', w['not_recorded'])}"))
    stats = run / "graph_stats.json"
    profile = info.get("profile") or (json.loads(stats.read_text()).get("profile")
                                      if stats.is_file() else None)
    items.append((w["profile"], profile or w["not_recorded"]))
    if info.get("crs"):
        items.append((w["crs"], w["crs_text"].format(**info["crs"])))
    if info.get("unit"):
        items.append((w["unit"], w.get(info["unit"], info["unit"])))
    inputs = dict(info.get("inputs") or {})
    if info.get("scenario_file"):
        inputs["scenario_file"] = info["scenario_file"]
    rows = [[document_label(k, lang), r.get("file", ""), number(r["bytes"], lang) if "bytes" in r else "–",
             r.get("sha256", "–")] for k, r in inputs.items()]
    text = []
    if not info:
        source = (json.loads(stats.read_text()).get("source", w["not_recorded"])
                  if stats.is_file() else w["not_recorded"])
        text = [w["no_run_record"].format(source=Path(str(source)).name)]
    table = Table([w["input"], w["file"], w["bytes"], w["sha256"]], rows,
                  [False, False, True, False]) if rows else None
    return Page(title, text, table, items=items, kind="title")


def run_pages(run: Path, info: dict, lang: str) -> list[Page]:
    """The pages of a run folder after the title page."""
    w = document_words(lang)
    pages: list[Page] = []
    total = _read(run, "total.csv")
    if total is not None:
        cols = [c for c in total.columns if c.endswith(("_area_w", "_pop_w"))]
        ind = _read(run, "indicators.csv")
        rows = [(c, total[c].iloc[0]) for c in cols]
        if ind is not None:
            t = ind[ind["level"] == "total"]
            rows += [(c, t[c].iloc[0]) for c in t.columns
                     if c.startswith("t_") and c.endswith(("_area_w", "_pop_w")) and len(t)]
        kv = pd.DataFrame({"what": [document_label(c, lang) for c, _ in rows],
                           "value": [float(v) for _, v in rows]})
        pages += table_pages(w["overview"], kv, ["what"], lang, [w["overview_text"]],
                             {"what": w["what"], "value": w["value"]})
    shares = _read(run, "class_shares.csv")
    if shares is not None:  # MZ and OZ in one table
        shares = shares[["indicator"] + [c for c in shares.columns if c != "indicator"]]
        pages += table_pages(w["classes"], shares.assign(indicator=shares["indicator"]
                                                          .str.upper()),
                             ["indicator", "class"], lang, [w["classes_text"]])
    kreis = _read(run, "kreis.csv")
    if kreis is not None:
        cols = ["kreis", "kreis_name", "complete", "population", "t_mz_min_area_w",
                "t_mz_min_pop_w", "t_oz_min_area_w", "t_oz_min_pop_w"]
        k = kreis[[c for c in cols if c in kreis.columns]].rename(columns={"kreis_name": "name"})
        pages += table_pages(w["kreise"], k, [c for c in ("kreis", "name") if c in k], lang)
    lage = _read(run, "lage_by_settlement_type.csv")
    if lage is not None:
        pages += table_pages(w["lage_type"], lage, [lage.columns[0]], lang)
    std = _read(run, "standards.csv")
    if std is not None:
        t = std[std["level"] == "total"]
        limits = info.get("standard_min") or {}
        text = w["standards_text"].format(
            mz=number(limits.get("mz", np.nan), lang), oz=number(limits.get("oz", np.nan), lang),
            beyond_mz=number(t["residents_beyond_mz"].sum(), lang),
            beyond_oz=number(t["residents_beyond_oz"].sum(), lang))
        k = std[std["level"] == "kreis"].sort_values("residents_beyond_mz", ascending=False,
                                                    kind="stable")
        cols = ["key", "name", "residents", "residents_beyond_mz", "share_residents_beyond_mz",
                "residents_beyond_oz", "share_residents_beyond_oz"]
        pages += table_pages(w["standards"], k[cols], ["key", "name"], lang, [text])
    for name, heading, keys in (("table_mz_oz_by_lage.csv", "abb14", ["indicator", "class"]),
                                ("table_function_type_lage.csv", "tab3", ["function"]),
                                ("group_indicators.csv", "groups", ["grouping", "group"])):
        t = _read(run, name)
        if t is not None and "grouping" in t.columns:
            t["grouping"] = [document_label(g, lang) for g in t["grouping"]]
        if t is not None:
            pages += table_pages(w[heading], t, keys, lang, [w["cross"]])
    return pages


#: The title of each map a run or scenario writes, from its file name (the run's
#: words in :data:`accessibility.vocabulary.MAP_WORDS`).
def map_title(name: str, info: dict, lang: str) -> str:
    w = map_words(lang)
    per = w["per_gvb"] if info.get("unit", "gvb") == "gvb" else ""
    limits = info.get("standard_min") or {"mz": 30, "oz": 60}
    day = info.get("gtfs_date", "")
    titles = {"map_oz_time": w["oz_time"].format(per=per),
              "map_oz_class": w["oz_class"].format(per=per),
              "map_standards": w["standards"].format(mz=limits["mz"], oz=limits["oz"]),
              "map_mz_catchments": w["catchments"], "map_lage": w["lage"],
              "map_pt_departures": w["pt"].format(day=day),
              "map_rail_departures": w["rail"].format(day=day),
              "map_commuter_balance": w["commuters"],
              "map_walk_all_six": w["walk"].split(":")[0]}
    titles |= {f"map_{k}_time": w[f"{k}_time"] for k in DESTINATION_KIND_TERMS}
    what = {"t_mz_min": "Mittelzentrum", "t_oz_min": "Oberzentrum"}
    titles |= {f"map_{v}_change": w["scenario"].format(name=info.get("scenario", ""), what=x)
               for v, x in what.items()}
    return titles.get(name, name)


def _png_texts(path: Path) -> dict[str, str]:
    """The title and legend entries a map wrote into its PNG (``maps._save``: the
    texts as drawn, in the map's language); empty for maps of older runs."""
    from PIL import Image

    with Image.open(path) as im:
        return {k: str(v) for k, v in (getattr(im, "text", None) or {}).items()}


def map_files(run: Path, files: list[str], run_lang: str, lang: str
              ) -> list[tuple[str, str, bool]]:
    """Per map of the run (in :data:`MAP_ORDER`): its stem, the file that shows it in
    ``lang``, and whether that file is in ``lang``. A run draws every map in its
    ``[output] lang`` under the map's name and in each other language as
    ``<name>.<language>.<suffix>`` (:func:`accessibility.maps.map_languages`); a run
    of an earlier version has only the first."""
    found: dict[str, dict[str, str]] = {}
    for f in files:
        stem, *tag, suffix = f.split(".")
        if not (stem.startswith("map_") and f".{suffix}" in (".png", ".pdf", ".svg")
                and len(tag) <= 1 and (run / f).is_file()):
            continue
        found.setdefault(stem, {})[tag[0] if tag else run_lang] = f
    order = sorted(found, key=lambda m: (MAP_ORDER.index(m) if m in MAP_ORDER
                                         else len(MAP_ORDER), m))
    return [(m, found[m].get(lang, found[m].get(run_lang, next(iter(found[m].values())))),
             lang in found[m]) for m in order]


def map_pages(run: Path, files: list[str], info: dict, lang: str) -> list[Page]:
    """One page per map the run wrote (in :data:`MAP_ORDER`), in the document's
    language; its caption gives the title and legend the map drew."""
    w = document_words(lang)
    pages = []
    run_lang = info.get("lang", defaults.MAP_LANG)
    for i, (stem, f, in_lang) in enumerate(map_files(run, files, run_lang, lang), 1):
        if not in_lang:
            logger.warning("%s: the run drew this map in %r only, not in %r: rerun for maps in "
                           "the document's language", run / f, run_lang, lang)
        note = [] if in_lang else [w["map_language"]]
        if f.endswith(".png"):
            texts = _png_texts(run / f)
            title = texts.get("Title") or map_title(stem, info, lang)
            legend = texts.get("Legend", "")
            pages.append(Page(w["maps"], note, image=run / f, kind="map",
                              caption=w["figure"].format(n=i, title=title, file=f)
                              + (f". {w['legend']}: {legend}" if legend else "")))
        else:
            pages.append(Page(w["maps"], [*note, w["map_not_png"].format(
                file=f, fmt=f.rsplit(".", 1)[1])], kind="map",
                caption=map_title(stem, info, lang)))
    return pages


def exactness_pages(run: Path, lang: str) -> list[Page]:
    """The counts of complete and incomplete units, and the flagged values."""
    w = document_words(lang)
    pages = []
    counts = _read(run, "counts.csv")
    if counts is not None:
        pages += table_pages(w["exactness"], counts, ["level", "what"], lang,
                             [w["exactness_text"]])
    munis = _read(run, "municipalities.csv")
    if munis is not None:
        flags = [c for c in munis.columns if c == "edge_flag" or c.endswith("_edge_flag")]
        if flags:
            f = pd.DataFrame({"flag_column": flags,
                              "n_flagged": [int(munis[c].astype(str).eq("True").sum())
                                            for c in flags],
                              "n_with_value": [int(munis[c].notna().sum()) for c in flags]})
            pages += table_pages(w["flags"], f, ["flag_column"], lang, [w["flags_text"]],
                                 {c: w[c] for c in f.columns})
    return pages


def scenario_pages(run: Path, lang: str) -> list[Page]:
    """The before/after pages of a scenario folder."""
    w = document_words(lang)
    pages: list[Page] = []
    diff = _read(run, "scenario_municipalities.csv")
    if diff is None:
        return pages
    pop = diff.get("population_scenario", pd.Series(0.0, index=diff.index)).fillna(0.0)
    rows = []
    for v, better in (("t_mz_min", -1), ("t_oz_min", -1), ("potential_2h", 1)):
        if f"{v}_change" not in diff.columns:
            continue
        ch = diff[f"{v}_change"]
        gain, lose = ch * better > 0, ch * better < 0
        rows.append({"indicator": document_label(f"{v}_change", lang) if v != "potential_2h"
                     else document_label(v, lang),
                     "n_gain": int(gain.sum()), "residents_gain": pop[gain].sum(),
                     "mean_gain": ch[gain].mean(), "n_lose": int(lose.sum()),
                     "residents_lose": pop[lose].sum(), "mean_lose": ch[lose].mean()})
    t = pd.DataFrame(rows)
    words = {"indicator": w["indicator"], "n_gain": w["n_gain"], "residents_gain": w["res_gain"],
             "mean_gain": w["mean_gain"], "n_lose": w["n_lose"], "residents_lose": w["res_lose"],
             "mean_lose": w["mean_lose"]}
    pages += table_pages(w["scenario_effects"], t, ["indicator"], lang, [w["scenario_text"]],
                         words)
    for v, what in (("t_mz_min", "Mittelzentrum"), ("t_oz_min", "Oberzentrum")):
        c = f"{v}_change"
        if c in diff.columns and diff[c].fillna(0).ne(0).any():
            top = diff[diff[c].fillna(0).ne(0)].sort_values(c, key=abs, ascending=False,
                                                           kind="stable").head(ROWS_PER_PAGE)
            pages += table_pages(w["largest"].format(what=what),
                                 top[["ags", "name", "population_scenario", f"{v}_base",
                                      f"{v}_scenario", c]], ["ags", "name"], lang)
    gvb = _read(run, "scenario_gvb.csv")
    if gvb is not None:
        ch = [c for c in gvb.columns if c.endswith("_change")]
        changed = gvb[gvb[ch].fillna(0).ne(0).any(axis=1)]
        if len(changed):
            pages += table_pages(w["gvb_changes"], changed, ["gvb", "gvb_name"], lang)
    for col, what in (("mz_class", "MZ"), ("oz_class", "OZ"), ("lage", "Lage")):
        m = _read(run, f"moves_{col}.csv")
        if m is not None:
            key = m.columns[0]
            pages += table_pages(w["moves"].format(what=what), m, [key], lang,
                                 [w["moves_text"]],
                                 {key: w["base"], **{c: document_cell(c, lang)
                                                     for c in m.columns[1:]}})
    return pages


def read_document(run_dir: str | Path, lang: str = "de") -> Document:
    """Every page of the document of the run (or scenario) folder ``run_dir``."""
    run = Path(run_dir)
    man = manifest(run)
    files = [f for f in man.get("files", []) if isinstance(f, str)]
    info = man.get("run") or {}
    title = title_page(run, man, lang)
    pages = [title]
    if (run / "scenario_municipalities.csv").is_file():
        pages += scenario_pages(run, lang)
    else:
        pages += run_pages(run, info, lang)
    pages += map_pages(run, files, info, lang)
    if not (run / "scenario_municipalities.csv").is_file():
        pages += exactness_pages(run, lang)
    if len(pages) == 1 and title.table is None:
        raise InputError(f"{run} holds none of the files of a run (tables, maps): nothing to "
                         "report")
    return Document(title.heading, lang, pages)
