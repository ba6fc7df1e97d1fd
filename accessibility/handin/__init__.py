"""The document a planner hands in: one PDF (and the same as HTML) made from a
finished run folder, with the title page, the summary tables, every map, the
report's cross-tables, the standards, the exactness pages and, for a scenario, the
before/after pages; German by default, English with ``lang="en"``.

A package of its own (``accessibility.report`` formats ``summary.md`` during a run):
this one reads only a finished folder, never recomputes, and works on any run or
scenario folder (:mod:`.content` reads the pages, :mod:`.pdf` and :mod:`.html` draw
them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .._errors import InputError
from ..io import atomic_path, check_new_file
from ..vocabulary import MAP_LANGUAGES
from .content import Document, read_document

logger = logging.getLogger(__name__)

__all__ = ["Document", "HandIn", "read_document", "report_document"]


@dataclass
class HandIn:
    """What :func:`report_document` wrote: the PDF, the HTML (or None) and the pages."""

    pdf: Path | None
    html: Path | None
    pages: int


def report_document(run_dir: str | Path, *, lang: str = "de", pdf: str | Path | None = None,
                    html: str | Path | None = None, overwrite: bool = False) -> HandIn:
    """Write the hand-in document of the run (or scenario) folder ``run_dir``.

    Parameters
    ----------
    run_dir : path
        The output folder of ``accessibility run`` or ``accessibility scenario``; read
        only (its manifest, CSV files and PNG maps), nothing is recomputed.
    lang : {"de", "en"}
        Language of every label (:data:`accessibility.vocabulary.DOCUMENT_WORDS`).
    pdf : path, optional
        The PDF to write (default: ``run_dir/report-<lang>.pdf``).
    html : path, optional
        Also the same pages as one self-contained HTML file (maps inlined).
    overwrite : bool
        Replace existing files (default: an existing file is an error, never replaced
        silently).

    Returns
    -------
    HandIn
    """
    from .html import document_html
    from .pdf import write_pdf

    if lang not in MAP_LANGUAGES:
        raise InputError(f"report language {lang!r}: use one of {', '.join(MAP_LANGUAGES)}")
    run = Path(run_dir)
    if not run.is_dir():
        raise InputError(f"{run} is not a folder: give the output folder of a run")
    from ..pipeline.publish import complete_publish

    complete_publish(run)  # a publish cut off by a kill: whole again before it is read
    pdf = Path(pdf) if pdf is not None else run / f"report-{lang}.pdf"
    targets = [p for p in (pdf, Path(html) if html is not None else None) if p is not None]
    if not overwrite:
        for p in targets:
            check_new_file(p)
    doc = read_document(run, lang)
    with atomic_path(pdf) as tmp:
        pages = write_pdf(doc, tmp)
    logger.info("wrote %s (%d pages)", pdf, pages)
    out_html = None
    if html is not None:
        out_html = Path(html)
        with atomic_path(out_html) as tmp:
            tmp.write_text(document_html(doc), encoding="utf-8")
        logger.info("wrote %s", out_html)
    return HandIn(pdf, out_html, pages)
