"""The document to hand in (``accessibility report RUN_DIR``, issue 26): its pages
follow from the run folder's files, every map page has a legend, German and English
differ only in words, the HTML loads nothing from the network, and nothing is
overwritten that the command did not write.

The expected page counts are derived here from the folder's files and the paging
rules the module documents (a table chunk per page of at most ``ROWS_PER_PAGE`` rows
and ``VALUE_COLUMNS_PER_PAGE`` value columns, a map per page), not from the document.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from PIL import Image

from accessibility._errors import InputError
from accessibility.handin import read_document, report_document
from accessibility.handin.content import ROWS_PER_PAGE, VALUE_COLUMNS_PER_PAGE
from accessibility.handin.pdf import A4, MARGIN, _layout, _wide
from accessibility.vocabulary import document_words
from tests.conftest import shared

POPPLER = shutil.which("pdftotext") and shutil.which("pdfinfo")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="pdftotext/pdfinfo (Debian package "
                                                       "poppler-utils) not installed")

SCENARIO = """name = "Rühen becomes a Mittelzentrum"
[central_places]
"03151024" = "Mittelzentrum"
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """The sample run (README's first command, maps in German) and a scenario on it
    (``[output] lang = "en"``)."""
    from accessibility.pipeline import run, scenario

    root = tmp_path_factory.mktemp("handin")
    run(output_dir=root / "sample")
    (root / "what-if.toml").write_text(SCENARIO, encoding="utf-8")
    # in English: its German document must show the German maps all the same
    scenario(None, root / "what-if.toml", output_dir=root / "scenario",
             overrides={"output.lang": "en"})
    return {"sample": root / "sample", "scenario": root / "scenario"}


@pytest.fixture(scope="module")
def heidelberg(tmp_path_factory):
    """A run on the Heidelberg extract with the national register, central places,
    VG250 boundaries and the population grid (README)."""
    from accessibility.pipeline import run

    inputs = {"inputs.osm": shared("osm", "heidelberg.osm.pbf"),
              "inputs.municipalities": shared("municipalities", "gemeinden_2019_destatis.csv"),
              "inputs.central_places": shared("central_places", "zentrale_orte_2024.csv"),
              "inputs.boundaries": shared("municipalities", "vg250_2016.gpkg"),
              "inputs.population_grid": shared("population", "zensus2022_1km_einwohner.parquet")}
    out = tmp_path_factory.mktemp("heidelberg") / "run"
    run(output_dir=out, overrides=inputs)
    return out


# ------------------------------------------------------------------ the expected pages
def _csv(folder: Path, name: str) -> pd.DataFrame | None:
    p = folder / name
    return pd.read_csv(p, dtype=str) if p.is_file() else None


def _chunks(df: pd.DataFrame, keys: int) -> int:
    """Pages of one table: its rows by ROWS_PER_PAGE times its shown value columns
    (not empty, not a ``_n_missing``-style count) by VALUE_COLUMNS_PER_PAGE."""
    cols = [c for c in df.columns[keys:]
            if not re.search(r"_n_(missing|no_area|no_population)$|^n_members", c)
            and df[c].replace("", pd.NA).notna().any()]
    return max(1, math.ceil(len(df) / ROWS_PER_PAGE)) * max(1, math.ceil(
        len(cols) / VALUE_COLUMNS_PER_PAGE))


def maps_of(folder: Path) -> list[str]:
    """The maps of a run folder: each drawn once per language, under its own name in
    the run's language (``map_x.png``) and as ``map_x.<lang>.png`` in the other."""
    files = json.loads((folder / ".accessibility-run.json").read_text())["files"]
    return [f for f in files if re.fullmatch(r"map_\w+\.png", f)]


def expected_pages(folder: Path) -> int:
    files = json.loads((folder / ".accessibility-run.json").read_text())["files"]
    maps = len(maps_of(folder))
    pages = 1 + maps  # the title page, one page per map
    if (folder / "scenario_municipalities.csv").is_file():
        diff = _csv(folder, "scenario_municipalities.csv")
        pages += 1  # who gains, who loses
        for v in ("t_mz_min", "t_oz_min"):  # the largest changes, if any
            pages += bool(pd.to_numeric(diff[f"{v}_change"]).fillna(0).ne(0).any())
        gvb = _csv(folder, "scenario_gvb.csv")
        change = gvb[[c for c in gvb.columns if c.endswith("_change")]].apply(pd.to_numeric)
        changed = gvb[change.fillna(0).ne(0).any(axis=1)]
        pages += _chunks(changed, 2) if len(changed) else 0
        pages += sum(_chunks(_csv(folder, f), 1) for f in files
                     if f.startswith("moves_") and f.endswith(".csv"))
        return pages
    pages += 1  # the means of the run (a dozen rows)
    pages += _chunks(_csv(folder, "class_shares.csv"), 2)
    pages += _chunks(_csv(folder, "kreis.csv")[["kreis", "population", "t_mz_min_area_w",
                                                "t_mz_min_pop_w", "t_oz_min_area_w",
                                                "t_oz_min_pop_w", "complete"]], 1)
    pages += _chunks(_csv(folder, "lage_by_settlement_type.csv"), 1)
    std = _csv(folder, "standards.csv")
    pages += _chunks(std[std["level"] == "kreis"][["key", "name", "residents"]], 2)
    for name, keys in (("table_mz_oz_by_lage.csv", 2), ("table_function_type_lage.csv", 1),
                       ("group_indicators.csv", 2)):
        if (folder / name).is_file():
            pages += _chunks(_csv(folder, name), keys)
    pages += _chunks(_csv(folder, "counts.csv"), 2)
    pages += 1  # the flagged values (one row per *_edge_flag column)
    return pages


# ------------------------------------------------------------------ reading the PDF
def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))


def page_text(path: Path, n: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout


def digits(text: str) -> Counter:
    """The numbers of a text, without their separators (1.234,5 and 1,234.5 are both
    12345): what must not differ between the German and the English version."""
    return Counter(re.sub(r"[.,]", "", m) for m in re.findall(r"\d[\d.,]*\d|\d", text))


def words(text: str) -> set[str]:
    """The words of four letters or more (a file name such as map_oz_time.png is
    none: its parts are joined by underscores)."""
    return {t.lower() for t in re.findall(r"(?<!\w)[^\W\d_]{4,}(?!\w)", text)}


def own_words(lang: str) -> set[str]:
    """The words of the maps and the document that only ``lang`` uses: titles, legend
    entries, source line (``MAP_WORDS``), class labels, and the document's words,
    less every word the other language uses too (Oberzentrum, BBSR, Lage)."""
    from accessibility.api import STANDARD_CLASSES
    from accessibility.vocabulary import (DOCUMENT_WORDS, MAP_WORDS, class_label,
                                          class_order, services_reached_labels)

    def of(lg: str) -> set[str]:
        labels = [class_label(c, lg) for c in [*STANDARD_CLASSES, *services_reached_labels(),
                                               *class_order("mz"), *class_order("oz")]]
        text = " ".join([*MAP_WORDS[lg].values(), *labels, *DOCUMENT_WORDS[lg].values()])
        return words(re.sub(r"\{\w*\}", "", text))  # not the format fields

    other = "en" if lang == "de" else "de"
    return of(lang) - of(other)


def check_map_languages(de_pdf: Path, en_pdf: Path, pages: list[int]) -> None:
    """Every map page (``pages``) of each version shows words of its language only:
    its title and legend as the map drew them (the caption, read from the PNG), and
    none of the other language's own words."""
    for page in pages:
        for pdf, lang, other in ((de_pdf, "de", "en"), (en_pdf, "en", "de")):
            seen = words(page_text(pdf, page))
            assert len(seen & own_words(lang)) >= 3, f"page {page} ({lang}): too few {lang} words"
            wrong = seen & own_words(other)
            assert not wrong, f"page {page} of the {lang} document: {other} words {sorted(wrong)}"


def check_document(folder: Path, tmp: Path) -> None:
    de = report_document(folder, pdf=tmp / "de.pdf", html=tmp / "de.html")
    en = report_document(folder, lang="en", pdf=tmp / "en.pdf")
    n = pdf_pages(de.pdf)
    assert n == de.pages == expected_pages(folder)
    assert pdf_pages(en.pdf) == n
    map_pages = []
    for page in range(1, n + 1):
        text_de, text_en = page_text(de.pdf, page), page_text(en.pdf, page)
        assert digits(text_de) == digits(text_en), f"page {page}: numbers differ"
        assert text_de.strip() and f"Seite {page} von {n}" in text_de
        if "Abbildung" in text_de:  # a map page: the map's legend with its counts
            map_pages.append(page)
            assert "Figure" in text_en
            legend = text_de.split("Legende:", 1)[1]
            assert re.search(r"\(\d", legend), f"page {page}: a legend without counts"
    check_map_languages(de.pdf, en.pdf, map_pages)
    for lang, other in (("de", "en"), ("en", "de")):  # no header in the other language
        for page in read_document(folder, lang).pages:
            if page.table is not None:
                wrong = words(" ".join(page.table.header)) & own_words(other)
                assert not wrong, f"{page.heading}: {other} words {sorted(wrong)} in the header"
    n_maps = len(map_pages)
    # every table fits the width of its page (portrait, or landscape when wide), in a
    # font of at least 5.5 pt: never clipped at the right, never unreadably small
    for lang in ("de", "en"):
        for page in read_document(folder, lang).pages:
            if page.table is not None:
                width = (A4[1] if _wide(page) else A4[0]) - 2 * MARGIN
                size, widths, _ = _layout(page.table, width)
                assert sum(widths) <= width + 0.01 and size >= 5.5, page.heading
    assert n_maps == len(maps_of(folder)) > 0
    html = de.html.read_text(encoding="utf-8")
    assert not re.search(r"https?://", html) and "<script" not in html and "<link" not in html
    assert html.count("data:image/png;base64,") == n_maps
    assert html.count("<section>") == n


@needs_poppler
@pytest.mark.parametrize("which", ["sample", "scenario"])
def test_document_pages_legends_and_languages(folders, which, tmp_path):
    check_document(folders[which], tmp_path)


@needs_poppler
def test_document_on_heidelberg(heidelberg, tmp_path):
    check_document(heidelberg, tmp_path)
    title = page_text(tmp_path / "de.pdf", 1)
    assert "Baden-Württemberg" in title and "heidelberg.osm.pbf" in title


def test_each_language_gets_the_maps_in_its_words(folders):
    """A run draws every map in both languages: in its own under the map's name, in
    the other as ``map_x.<lang>.png``; the documents pick their language's."""
    from accessibility.handin.content import map_pages

    for folder, own, other in ((folders["sample"], "de", "en"), (folders["scenario"], "en", "de")):
        files = json.loads((folder / ".accessibility-run.json").read_text())["files"]
        for m in maps_of(folder):
            assert m.replace(".png", f".{other}.png") in files
            with Image.open(folder / m) as a, \
                    Image.open(folder / m.replace(".png", f".{other}.png")) as b:
                assert (a.text["Language"], b.text["Language"]) == (own, other)
                assert a.text["Title"] != b.text["Title"]  # translated, and
                assert digits(a.text["Legend"]) == digits(b.text["Legend"])  # same counts
        for lang in ("de", "en"):
            shown = [p.image.name for p in map_pages(folder, files, {"lang": own}, lang)]
            want = {m if lang == own else m.replace(".png", f".{other}.png")
                    for m in maps_of(folder)}
            assert len(shown) == len(want) and set(shown) == want


@needs_poppler
def test_a_german_title_in_the_english_maps_fails_the_language_check(folders, tmp_path):
    """The check of the map pages sees a map drawn with a German title among the
    English ones (planted: the map redrawn as the run draws it, the title German)."""
    from accessibility.maps import map_values
    from accessibility.vocabulary import map_words

    folder = tmp_path / "planted"
    shutil.copytree(folders["sample"], folder)
    m = gpd.read_file(folder / "municipalities.gpkg", layer="municipalities")
    map_values(m, "t_oz_min", folder / "map_oz_time.en.png", lang="en",
               title=map_words("de")["oz_time"].format(per=""), label=map_words("en")["minutes"])
    de = report_document(folder, pdf=tmp_path / "de.pdf")
    en = report_document(folder, lang="en", pdf=tmp_path / "en.pdf")
    maps = [n for n in range(1, pdf_pages(en.pdf) + 1) if "Figure" in page_text(en.pdf, n)]
    page = next(n for n in maps if "map_oz_time" in page_text(en.pdf, n))
    check_map_languages(de.pdf, en.pdf, [n for n in maps if n != page])  # the others are right
    with pytest.raises(AssertionError, match=r"en document: de words \['fahrzeit', 'nächsten'"):
        check_map_languages(de.pdf, en.pdf, [page])


def test_maps_of_an_older_run_in_one_language_are_shown_with_a_note(folders, tmp_path, caplog):
    """A run of an earlier version drew its maps in its language only: the other
    document shows them, says so on the page and in the log."""
    old = tmp_path / "old"
    shutil.copytree(folders["sample"], old)
    manifest = old / ".accessibility-run.json"
    m = json.loads(manifest.read_text())
    m["files"] = [f for f in m["files"] if not f.endswith(".en.png")]
    manifest.write_text(json.dumps(m))
    pages = [p for p in read_document(old, "en").pages if p.kind == "map"]
    assert [p.image.name for p in pages] == [p.image.name for p in read_document(old, "de").pages
                                             if p.kind == "map"]
    assert all(p.text == [document_words("en")["map_language"]] for p in pages)
    assert "drew this map in 'de' only" in caplog.text


def test_title_page_names_the_inputs_with_their_sha256(folders, tmp_path):
    """The manifest records each input's size and SHA-256 (computed here with
    hashlib from the file itself); the title page shows them."""
    from accessibility.pipeline.inputs import load_config_of_run

    config = load_config_of_run(None, None)
    osm = Path(config.inputs.osm)
    record = json.loads((folders["sample"] / ".accessibility-run.json").read_text())["run"]
    assert record["inputs"]["osm"]["sha256"] == hashlib.sha256(osm.read_bytes()).hexdigest()
    assert record["inputs"]["osm"]["bytes"] == osm.stat().st_size
    title = read_document(folders["sample"], "en").pages[0]
    rows = {r[1]: r for r in title.table.rows}
    assert rows[osm.name][3] == record["inputs"]["osm"]["sha256"]
    assert rows[osm.name][2] == f"{osm.stat().st_size:,}"
    scen = json.loads((folders["scenario"] / ".accessibility-run.json").read_text())["run"]
    assert scen["command"] == "scenario" and scen["scenario"].startswith("Rühen")


def test_the_document_never_replaces_a_file_it_was_not_asked_to(folders, tmp_path):
    from accessibility.cli import main

    target = tmp_path / "mine.pdf"
    target.write_text("a planner's own file")
    with pytest.raises(InputError, match="exists"):
        report_document(folders["scenario"], pdf=target)
    assert target.read_text() == "a planner's own file"
    assert main(["report", str(folders["scenario"]), "-o", str(target)]) == 2
    assert main(["report", str(folders["scenario"]), "-o", str(target), "--force"]) == 0
    assert target.read_bytes().startswith(b"%PDF")
    with pytest.raises(InputError, match="not the output folder"):
        report_document(tmp_path, pdf=tmp_path / "x.pdf")
    batch = tmp_path / "batch"  # a batch's parent folder: its scenario folders named
    shutil.copytree(folders["scenario"], batch / "what-if")
    with pytest.raises(InputError, match="scenario batch.*what-if"):
        report_document(batch, pdf=tmp_path / "b.pdf")
    with pytest.raises(InputError, match="language"):
        report_document(folders["sample"], lang="fr", pdf=tmp_path / "y.pdf")


def test_a_run_without_its_record_still_gets_a_document(folders, tmp_path):
    """A folder of an earlier version (a manifest without the ``run`` record) gets
    its document; the title page says what is not recorded and names the road
    network from graph_stats.json."""
    old = tmp_path / "old"
    shutil.copytree(folders["sample"], old)
    manifest = old / ".accessibility-run.json"
    m = json.loads(manifest.read_text())
    del m["run"]
    manifest.write_text(json.dumps(m))
    doc = read_document(old, "en")
    title = doc.pages[0]
    assert title.table is None and "not recorded" in dict(title.items)["Version"]
    assert "hannover-braunschweig-main-roads.osm.pbf" in title.text[0]
    assert len(doc.pages) == len(read_document(folders["sample"], "en").pages)


def test_long_and_wide_tables_continue_on_further_pages_whole():
    """A table of 100 rows and 20 value columns: ceil(100 / ROWS) x ceil(20 / COLUMNS)
    pages, the key columns and the header on each, every value exactly once, none
    lost (the diagnostic counts and empty columns are left out)."""
    from accessibility.handin.content import table_pages

    n_rows, n_cols = 100, 20
    df = pd.DataFrame({"key": [f"k{i}" for i in range(n_rows)],
                       **{f"v{j}": [i * 1000 + j for i in range(n_rows)]
                          for j in range(n_cols)},
                       "v0_n_missing": 0, "empty": [None] * n_rows})
    pages = table_pages("T", df, ["key"], "en")
    assert len(pages) == math.ceil(n_rows / ROWS_PER_PAGE) * math.ceil(
        n_cols / VALUE_COLUMNS_PER_PAGE)
    seen = Counter()
    for p in pages:
        assert p.table.header[0] == "key" and len(p.table.rows) <= ROWS_PER_PAGE
        assert len(p.table.header) <= VALUE_COLUMNS_PER_PAGE + 1
        for row in p.table.rows:
            seen.update(f"{row[0]}:{c}" for c in row[1:])
    assert len(seen) == n_rows * n_cols and set(seen.values()) == {1}
    assert not any("missing" in h or h == "empty" for p in pages for h in p.table.header)
