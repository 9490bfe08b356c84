"""Documents → passages: one article per passage for statutes, paragraph windows for prose."""
from __future__ import annotations

import re

from .legal import parse_articles
from .models import Document, Passage
from .text import split_sentences

MAX_CHARS = 600  # ≈ the 512-token window of e5-small for Chinese; longer articles split
NEWS_WINDOW_CHARS = 700
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def _pack(units: list[str], cap: int, sep: str = "\n") -> list[str]:
    """Greedily pack units (lines or sentences) into pieces of at most ``cap`` characters."""
    pieces: list[str] = []
    buf: list[str] = []
    for unit in units:
        if buf and len(sep.join(buf + [unit])) > cap:
            pieces.append(sep.join(buf))
            buf = []
        buf.append(unit)
    if buf:
        pieces.append(sep.join(buf))
    return pieces


def split_long(text: str, cap: int = MAX_CHARS) -> list[str]:
    """Split at clause (line) boundaries; a single over-long line splits at sentence ends."""
    if len(text) <= cap:
        return [text]
    units: list[str] = []
    for line in text.split("\n"):
        units.extend(split_sentences(line) if len(line) > cap else [line])
    return _pack(units, cap)


def _statute_passages(doc: Document, articles) -> list[Passage]:
    passages: list[Passage] = []
    for art in articles:
        if art.label is None and art.text in ("", doc.title):
            continue  # a preamble that is only the law's title is a heading, not a passage
        for part, piece in enumerate(split_long(art.text)):
            passages.append(_passage(doc, piece, art.label, art.headings, part))
    return passages


def _prose_passages(doc: Document) -> list[Passage]:
    """Paragraph windows, each under the Markdown heading path it sits in."""
    passages: list[Passage] = []
    headings: list[str] = []
    paragraphs: list[str] = []

    def flush() -> None:
        for piece in _pack(paragraphs, NEWS_WINDOW_CHARS):
            passages.append(_passage(doc, piece, None, list(headings), 0))
        paragraphs.clear()

    for block in re.split(r"\n\s*\n|\n(?=#)", doc.text):
        block = block.strip()
        if not block:
            continue
        m = _MD_HEADING.match(block.split("\n", 1)[0])
        if m:
            flush()
            level = len(m.group(1))
            title = m.group(2).strip()
            if level == 1 and title == doc.title:
                headings = []
            else:
                headings = headings[: max(0, level - 2)] + [title]
            rest = block.split("\n", 1)[1].strip() if "\n" in block else ""
            if not rest:
                continue
            block = rest
        paragraphs.extend(split_long(block, NEWS_WINDOW_CHARS))
    flush()
    return passages


def _passage(doc: Document, text: str, article, headings, part) -> Passage:
    return Passage(
        doc_id=doc.id, title=doc.title, text=text, article=article, headings=list(headings),
        part=part, kind=doc.kind, language=doc.language, date=doc.date, source=doc.source,
    )


def chunk(doc: Document) -> list[Passage]:
    """Cut one document into passages, numbering their positions in reading order."""
    if doc.article is not None:  # JSONL rows arrive as one article each
        passages = [_passage(doc, piece, doc.article, [], i) for i, piece in enumerate(split_long(doc.text))]
    else:
        # Only statutes are cut at articles: a summary or news piece that mentions "Article 1"
        # at a line start (or under a "## Article 1 (summary)" heading) stays prose.
        articles = parse_articles(doc.text) if doc.kind == "regulation" else []
        passages = _statute_passages(doc, articles) if articles else _prose_passages(doc)
    for i, p in enumerate(passages):
        p.position = i
    return passages
