"""Legal structure: headings (编/章/节, Part/Chapter/Section) and articles (第X条, Article N).

Written against the traps other chunkers fell into: a line that *begins* with a
cross-reference ("第十条规定的……") is body text; a table of contents (目录) is not a second
copy of the headings; a heading never becomes a passage of its own; PDF text where an
article starts mid-line is split there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from .numerals import CN_NUMERAL, cn_to_int

_CN_HEADING = re.compile(rf"^第({CN_NUMERAL})([编章节])(?:\s+|$)(.{{0,40}})$")
_CN_ARTICLE = re.compile(rf"^第({CN_NUMERAL})条(?:之({CN_NUMERAL}))?")
# An article starting mid-line, after the end of a sentence (PDF extraction joins lines).
_CN_INLINE_ARTICLE = re.compile(rf"(?<=[。；：])\s*(?=第({CN_NUMERAL})条(?:之{CN_NUMERAL})?\s)")
# What follows "第X条" when the line is a cross-reference, not a new article.
_CROSS_REF_NEXT = tuple("规的、，和与及或至中所第款项之（(）)前后所有外内以条例本法")
_TOC = re.compile(r"^目\s*录$")
_EN_HEADING = re.compile(r"^(Part|Chapter|Section)\s+([IVXLC]+|\d+)\b[.:]?\s*(.{0,80})$", re.I)
_EN_ARTICLE = re.compile(r"^Article\s+(\d+)\b(.*)$")
_EN_CROSS_REF = re.compile(r"^\s*(of|and|or|to|through|in|under|shall apply|,)", re.I)
_MD_HEADING = re.compile(r"^#{1,6}\s*")


@dataclass
class Article:
    """One article (or the preamble when ``label`` is None), with the headings above it."""

    label: Optional[str]
    headings: list[str]
    lines: list[str] = field(default_factory=list)
    number: tuple[int, int] = (0, 0)

    @property
    def text(self) -> str:
        return "\n".join(self.lines).strip()


def _strip_markup(line: str) -> str:
    return _MD_HEADING.sub("", line).strip()


def _article_start(line: str, last: tuple[int, int]) -> Optional[tuple[str, tuple[int, int]]]:
    """Return (label, number) if ``line`` starts a new article after article ``last``."""
    m = _CN_ARTICLE.match(line)
    if m:
        try:
            number = (cn_to_int(m.group(1)), cn_to_int(m.group(2)) if m.group(2) else 0)
        except ValueError:
            return None
        rest = line[m.end():]
        if rest[:1].isspace() or not rest:
            return m.group(0), number
        # No space after the label: only a new article if it is the next in sequence and the
        # words after it do not read as a reference to it ("第十条规定的" is body text).
        expected = number == (last[0] + 1, 0) or (number[0] == last[0] and number[1] == last[1] + 1)
        if expected and not rest.startswith(_CROSS_REF_NEXT):
            return m.group(0), number
        return None
    m = _EN_ARTICLE.match(line)
    if m:
        n = int(m.group(1))
        rest = m.group(2)
        if _EN_CROSS_REF.match(rest) and n != last[0] + 1:
            return None
        if _EN_CROSS_REF.match(rest) and rest.strip().lower().startswith("of"):
            return None
        return f"Article {n}", (n, 0)
    return None


def _heading(line: str) -> Optional[tuple[str, int]]:
    """Return (heading text, level) for 编/章/节 or Part/Chapter/Section lines."""
    m = _CN_HEADING.match(line)
    if m and "。" not in line and "，" not in m.group(3):
        return line, {"编": 0, "章": 1, "节": 2}[m.group(2)]
    m = _EN_HEADING.match(line)
    if m and not line.endswith("."):
        return line, {"part": 0, "chapter": 1, "section": 2}[m.group(1).lower()]
    return None


def _split_inline_articles(line: str, last: tuple[int, int]) -> list[str]:
    """Split a line where the next article starts mid-line (text extracted from PDF)."""
    own = _article_start(line, last)  # "第二条 …。第三条 …": count on from the line's own article
    if own:
        last = own[1]
    pieces, start = [], 0
    for m in _CN_INLINE_ARTICLE.finditer(line):
        try:
            n = cn_to_int(m.group(1))
        except ValueError:
            continue
        if n == last[0] + 1:
            pieces.append(line[start:m.start()].strip())
            start = m.end()
            last = (n, 0)
    pieces.append(line[start:].strip())
    return [p for p in pieces if p]


def parse_articles(text: str) -> list[Article]:
    """Split statute text into articles; text before the first article is the preamble.

    Returns [] when the text has fewer than two articles (then it is not a statute).
    """
    articles: list[Article] = []
    preamble = Article(label=None, headings=[])
    current = preamble
    headings: dict[int, str] = {}
    last = (0, 0)
    toc_entries: list[str] = []
    in_toc = False
    for raw in text.split("\n"):
        line = _strip_markup(raw)
        if not line:
            continue
        if _TOC.match(line):
            in_toc = True
            continue
        for piece in _split_inline_articles(line, last) if articles or _article_start(line, last) else [line]:
            head = _heading(piece)
            if in_toc:
                if head and piece not in toc_entries:
                    toc_entries.append(piece)
                    continue
                in_toc = False  # first repeated heading or body line: the real text begins
            if head:
                text_, level = head
                headings = {k: v for k, v in headings.items() if k < level}
                headings[level] = text_
                continue
            start = _article_start(piece, last)
            if start:
                label, number = start
                current = Article(label=label, headings=[headings[k] for k in sorted(headings)], number=number)
                current.lines.append(piece)
                articles.append(current)
                last = number
                continue
            current.lines.append(piece)
    if len(articles) < 2:
        return []
    return ([preamble] if preamble.lines else []) + articles
