"""The hand-in document as PDF: one A4 page per :class:`~.content.Page`, drawn with
matplotlib's ``PdfPages`` (a dependency already: no LaTeX, no browser, no system
package at run time)."""

from __future__ import annotations

import logging
import textwrap
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless, as maps.py
import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from ..vocabulary import document_words
from .content import Document, Page, Table

#: A4 in points (1/72 inch): portrait for text and tables, landscape for maps (they
#: are wider than high, with the legend beside them); the margin.
A4, MARGIN = (595.0, 842.0), 42.0
#: Width of one character as a share of the font size (DejaVu Sans, digits 0.64 em:
#: an estimate on the safe side, so that a column is never narrower than its text).
CHAR_EM = 0.64
TEXT_PT, TABLE_PT, MIN_TABLE_PT = 9.0, 7.5, 5.0
#: The longest header word (in characters) kept whole (longer ones, German compounds,
#: break across lines unless room is left); the mean width of a bold character.
HEAD_WORD, BOLD_EM = 16, 0.69
_TO_PATH = TextToPath()
#: The smallest font of a table on a portrait page; a wider table goes on a landscape
#: page.
READABLE_PT = 6.5


def _size(fig) -> tuple[float, float]:
    """Width and height of the page in points."""
    return fig.get_figwidth() * 72.0, fig.get_figheight() * 72.0


def _text(fig, x: float, y: float, s: str, size: float, **kw) -> None:
    """Text at ``x``, ``y`` points from the page's lower left corner."""
    fig.text(x / 72.0, y / 72.0, s, fontsize=size, transform=fig.dpi_scale_trans, **kw)


def _rule(fig, x0: float, x1: float, y: float) -> None:
    fig.add_artist(plt.Line2D([x0 / 72.0, x1 / 72.0], [y / 72.0] * 2, color="0.3",
                              linewidth=0.6, transform=fig.dpi_scale_trans))


def _wrap(s: str, width_pt: float, size: float) -> list[str]:
    return textwrap.wrap(s, max(8, int(width_pt / (CHAR_EM * size * 0.85)))) or [""]


def _paragraphs(fig, y: float, paragraphs: list[str], size: float = TEXT_PT) -> float:
    """Wrapped paragraphs from ``y`` down; the ``y`` below them."""
    for par in paragraphs:
        for line in _wrap(par, _size(fig)[0] - 2 * MARGIN, size):
            _text(fig, MARGIN, y, line, size, va="top")
            y -= size * 1.35
        y -= size * 0.6
    return y


@lru_cache(maxsize=1 << 16)
def _em(s: str, bold: bool = False) -> float:
    """Width of ``s`` in ems of DejaVu Sans (bold): measured with the font's metrics,
    so that a column is as wide as its text (an estimate per character set bold
    headers too close and cut long words)."""
    prop = FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal", size=1.0)
    return _TO_PATH.get_text_width_height_descent(s, prop, ismath=False)[0]


def _wrap_to(text: str, width: float, size: float) -> list[str]:
    """``text`` (a bold header) in lines of at most ``width`` points, at spaces; a word
    wider than a line is cut."""
    lines: list[str] = []
    for word in text.split():
        while _em(word, True) * size > width and len(word) > 1:
            fits = [i for i in range(1, len(word)) if _em(word[:i], True) * size <= width]
            k = fits[-1] if fits else 1
            lines.append(word[:k])
            word = word[k:]
        if lines and _em(f"{lines[-1]} {word}", True) * size <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _layout(table: Table, width: float) -> tuple[float, list[float], list[list[str]]]:
    """Font size, column widths (points) and wrapped header lines of ``table``: the
    cells set the widths, headers wrap to them; the font shrinks until the table fits
    ``width`` (never below :data:`MIN_TABLE_PT`: the content's column chunks keep
    tables narrow enough). Room left goes first to header words that would be cut,
    then to headers that would wrap."""
    size = TABLE_PT
    while True:
        cell_w = [max([_em(r[i]) for r in table.rows] + [6 * CHAR_EM]) * size + 6
                  for i in range(len(table.header))]
        # a header wraps to its cells' width; only a word longer than
        # :data:`HEAD_WORD` characters may be cut
        words = [max([_em(word, True) for word in h.split()] + [0.0]) * size + 6
                 for h in table.header]
        head_w = [min(w, HEAD_WORD * BOLD_EM * size + 6) for w in words]
        widths = [max(c, h) for c, h in zip(cell_w, head_w)]
        if sum(widths) <= width or size <= MIN_TABLE_PT:
            break
        size -= 0.25
    for need in ([max(0.0, w - c) for w, c in zip(words, widths)],
                 [max(0.0, _em(h, True) * size + 6 - c) for h, c in zip(table.header, widths)]):
        spare = width - sum(widths)
        if spare > 0 and sum(need) > 0:
            f = min(1.0, spare / sum(need))
            widths = [w + n * f for w, n in zip(widths, need)]
    heads = [_wrap_to(h, w - 6, size) for h, w in zip(table.header, widths)]
    return size, widths, heads


def _table(fig, y: float, table: Table) -> float:
    """``table`` from ``y`` down, header wrapped and ruled; the ``y`` below it."""
    size, widths, heads = _layout(table, _size(fig)[0] - 2 * MARGIN)
    line = size * 1.4
    xs = [MARGIN + sum(widths[:i]) for i in range(len(widths))]
    n_head = max(len(h) for h in heads)
    for x, w, h, num in zip(xs, widths, heads, table.numeric):
        for k, part in enumerate(h):
            _text(fig, x + (w - 3 if num else 3), y - k * line, part, size, va="top",
                  ha="right" if num else "left", fontweight="bold")
    y -= n_head * line + 2
    _rule(fig, MARGIN, MARGIN + sum(widths), y)
    y -= 3
    for r, row in enumerate(table.rows):
        if r % 2:  # a light band every other row guides the eye across
            fig.add_artist(plt.Rectangle((MARGIN / 72.0, (y - line + 1.5) / 72.0),
                                         sum(widths) / 72.0, line / 72.0, color="0.94",
                                         zorder=0, linewidth=0,
                                         transform=fig.dpi_scale_trans))
        for x, w, cell, num in zip(xs, widths, row, table.numeric):
            _text(fig, x + (w - 3 if num else 3), y, cell, size, va="top",
                  ha="right" if num else "left")
        y -= line
    _rule(fig, MARGIN, MARGIN + sum(widths), y - 1)
    return y - 2 * line


def _image(fig, y: float, page: Page) -> float:
    """The map, as large as the page allows with its aspect kept; its caption below."""
    img = plt.imread(page.image)
    h_px, w_px = img.shape[:2]
    width, height = _size(fig)
    box_w, box_h = width - 2 * MARGIN, y - MARGIN - 40
    scale = min(box_w / w_px, box_h / h_px)
    w, h = w_px * scale, h_px * scale
    ax = fig.add_axes(((width - w) / 2 / width, (y - h) / height, w / width, h / height))
    ax.imshow(img, interpolation="lanczos")
    ax.set_axis_off()
    return y - h - 10


def draw_page(fig, page: Page, n: int, total: int, title: str, lang: str) -> None:
    """Everything of one page onto ``fig`` (A4 portrait)."""
    w = document_words(lang)
    width, height = _size(fig)
    y = height - MARGIN
    if page.kind == "title":
        for line in _wrap(page.heading, width - 2 * MARGIN, 20):
            _text(fig, MARGIN, y, line, 20, va="top", fontweight="bold")
            y -= 28
        y -= 14
        key_w = max((len(k) for k, _ in page.items), default=0) * CHAR_EM * TEXT_PT + 10
        for key, value in page.items:
            lines = _wrap(value, width - 2 * MARGIN - key_w, TEXT_PT)
            _text(fig, MARGIN, y, key, TEXT_PT, va="top", fontweight="bold")
            for part in lines:
                _text(fig, MARGIN + key_w, y, part, TEXT_PT, va="top")
                y -= TEXT_PT * 1.4
            y -= 3
        y -= 12
        if page.table is not None:
            _text(fig, MARGIN, y, w["inputs"], 12, va="top", fontweight="bold")
            y -= 22
    else:
        for line in _wrap(page.heading, width - 2 * MARGIN, 13):
            _text(fig, MARGIN, y, line, 13, va="top", fontweight="bold")
            y -= 18
        y -= 8
    y = _paragraphs(fig, y, page.text)
    if page.table is not None:
        y = _table(fig, y, page.table)
    if page.image is not None:
        y = _image(fig, y, page)
    if page.caption:
        _paragraphs(fig, y, [page.caption], 8.5)
    _text(fig, MARGIN, MARGIN / 2, w["page"].format(n=n, total=total), 7, color="0.4")
    _text(fig, width - MARGIN, MARGIN / 2, title, 7, color="0.4", ha="right")


def _wide(page: Page) -> bool:
    """Whether the table of ``page`` goes on a landscape page: when portrait would
    shrink its font below :data:`READABLE_PT`."""
    return page.table is not None and page.kind != "title" and \
        _layout(page.table, A4[0] - 2 * MARGIN)[0] < READABLE_PT


def write_pdf(doc: Document, path: Path) -> int:
    """Write ``doc`` to ``path`` (the caller makes it atomic); the number of pages."""
    # the font subsetter of TrueType embedding logs every glyph at INFO
    logging.getLogger("fontTools").setLevel(max(logging.WARNING,
                                                logging.getLogger("fontTools").level))
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}), \
            PdfPages(path, metadata={"Title": doc.title, "Creator": "accessibility"}) as pdf:
        for n, page in enumerate(doc.pages, 1):
            size = A4[::-1] if page.kind == "map" or _wide(page) else A4
            fig = plt.figure(figsize=(size[0] / 72.0, size[1] / 72.0))
            try:
                draw_page(fig, page, n, len(doc.pages), doc.title, doc.lang)
                pdf.savefig(fig)
            finally:
                plt.close(fig)
    return len(doc.pages)
