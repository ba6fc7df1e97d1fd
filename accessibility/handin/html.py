"""The hand-in document as one self-contained HTML file: the pages of the PDF, the
maps inlined as data URIs, no script and no resource from the network."""

from __future__ import annotations

import base64
import html

from ..vocabulary import document_words
from .content import Document, Page, Table

_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; max-width: 60em;
       margin: 2em auto; color: #111; }
section { page-break-after: always; margin-bottom: 3em; }
h1 { font-size: 20pt; } h2 { font-size: 13pt; }
table { border-collapse: collapse; font-size: 8pt; margin: 0.5em 0; }
th { text-align: left; border-bottom: 1px solid #555; padding: 2px 6px; vertical-align: bottom; }
td { padding: 1px 6px; } tr:nth-child(even) td { background: #f0f0f0; }
td.n, th.n { text-align: right; white-space: nowrap; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 1em; }
dt { font-weight: bold; } dd { margin: 0; }
img { max-width: 100%; } .caption { font-size: 9pt; } footer { color: #666; font-size: 8pt; }
"""


def _table(t: Table) -> str:
    def cls(num: bool) -> str:
        return ' class="n"' if num else ""
    head = "".join(f"<th{cls(n)}>{html.escape(h)}</th>" for h, n in zip(t.header, t.numeric))
    rows = "".join("<tr>" + "".join(f"<td{cls(n)}>{html.escape(c)}</td>"
                                    for c, n in zip(r, t.numeric)) + "</tr>" for r in t.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _page(page: Page, n: int, total: int, lang: str) -> str:
    w = document_words(lang)
    tag = "h1" if page.kind == "title" else "h2"
    parts = [f"<{tag}>{html.escape(page.heading)}</{tag}>"]
    if page.items:
        parts.append("<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>"
                                      for k, v in page.items) + "</dl>")
    parts += [f"<p>{html.escape(p)}</p>" for p in page.text]
    if page.table is not None:
        if page.kind == "title":
            parts.append(f"<h2>{html.escape(w['inputs'])}</h2>")
        parts.append(_table(page.table))
    if page.image is not None:
        data = base64.b64encode(page.image.read_bytes()).decode("ascii")
        parts.append(f'<img alt="{html.escape(page.caption)}" '
                     f'src="data:image/png;base64,{data}">')
    if page.caption:
        parts.append(f'<p class="caption">{html.escape(page.caption)}</p>')
    parts.append(f"<footer>{html.escape(w['page'].format(n=n, total=total))}</footer>")
    return "<section>" + "\n".join(parts) + "</section>"


def document_html(doc: Document) -> str:
    """The HTML text of ``doc``."""
    body = "\n".join(_page(p, n, len(doc.pages), doc.lang) for n, p in enumerate(doc.pages, 1))
    return (f'<!DOCTYPE html>\n<html lang="{doc.lang}"><head><meta charset="utf-8">'
            f"<title>{html.escape(doc.title)}</title><style>{_STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n")
