"""Escaping and highlighting of untrusted document text for the web app.

Everything that comes from a document (text, title, source, even the document id) is
untrusted: it is HTML-escaped before it reaches a ``gr.HTML`` panel, and additionally
Markdown-escaped before it reaches the chat (which renders Markdown). Highlighting works on
the raw text first (character spans) and escapes each run afterwards, so a ``<mark>`` can
never split an entity or let markup through.
"""
from __future__ import annotations

import html
import re
from typing import Iterable, Optional, Sequence
from urllib.parse import urlparse

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Characters with a meaning in (GitHub-flavoured) Markdown, plus "$" for LaTeX delimiters.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")  # "<", ">", "&" are left to html.escape

QUOTE, TERM = 1, 2
HIDE, STRONG, BULLET = 1, 2, 4  # Markdown styles of one character
# The light Markdown that documents hold: **bold**, "# heading" lines, "- item" lists. Not __bold__:
# underscores run inside identifiers (window.__x), and the text must show them as they are.
_MD_BOLD = re.compile(r"(\*\*)(?=\S)(.+?)(?<=\S)(\*\*)")
_MD_HEADING = re.compile(r"^(#{1,6}[ \t]+)(\S.*)$", re.M)
_MD_BULLET = re.compile(r"^[ \t]*([-*+])[ \t]+(?=\S)", re.M)


def esc(text: object) -> str:
    """HTML-escape any value (``None`` becomes an empty string)."""
    return html.escape("" if text is None else str(text), quote=True)


def esc_md(text: object) -> str:
    """Escape for a Markdown renderer: HTML-escape, then backslash-escape Markdown syntax.

    The result shows the exact characters of ``text`` and renders no link, image, emphasis or
    HTML from it. Line breaks are kept.
    """
    return esc(_MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text)))


def safe_url(value: Optional[str]) -> Optional[str]:
    """``value`` if it is an http(s) URL with a host (safe for ``href``), else ``None``."""
    if not value or any(c.isspace() for c in value.strip()):
        return None
    parsed = urlparse(value.strip())
    return value.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def _term_pattern(term: str) -> Optional[re.Pattern]:
    """Chinese terms match literally; English terms are Snowball stems, so match word prefixes."""
    term = term.strip()
    if not term:
        return None
    if _CJK.search(term):
        return re.compile(re.escape(term))
    return re.compile(r"\b" + re.escape(term) + r"\w*", re.IGNORECASE)


def spans(text: str, quotes: Iterable[str] = (), terms: Iterable[str] = ()) -> list[int]:
    """Per-character flags: QUOTE where a quoted sentence sits, TERM where a query term matched."""
    flags = [0] * len(text)
    for quote in quotes:
        quote = (quote or "").strip()
        start = text.find(quote) if quote else -1
        while start >= 0:
            for i in range(start, start + len(quote)):
                flags[i] |= QUOTE
            start = text.find(quote, start + len(quote))
    for term in terms:
        pattern = _term_pattern(term)
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            for i in range(m.start(), m.end()):
                flags[i] |= TERM
    return flags


def markdown_styles(text: str) -> list[int]:
    """Per-character Markdown styles: HIDE for syntax (``**``, ``## ``), STRONG for bold text and
    headings, BULLET for a list item's marker. Worked out on the raw text, like the highlights, so
    a quote that spans a bold word is still marked whole."""
    styles = [0] * len(text)

    def style(start: int, end: int, bit: int) -> None:
        for i in range(start, end):
            styles[i] |= bit

    for m in _MD_HEADING.finditer(text):
        style(m.start(1), m.end(1), HIDE)
        style(m.start(2), m.end(2), STRONG)
    for m in _MD_BOLD.finditer(text):
        style(m.start(1), m.end(1), HIDE)
        style(m.start(2), m.end(2), STRONG)
        style(m.end(2), m.end(), HIDE)
    for m in _MD_BULLET.finditer(text):
        if not styles[m.start(1)]:
            styles[m.start(1)] = BULLET
    return styles


def highlight(text: str, quotes: Iterable[str] = (), terms: Iterable[str] = (),
              tips: Sequence[tuple[int, int, str]] = (), links: Sequence[tuple[int, int, str]] = (),
              markdown: bool = False, escape=esc, tip_attribute: str = "data-gloss") -> str:
    """Escaped HTML of ``text`` with quoted sentences in ``<mark class="quote">`` and matched
    terms in ``<mark class="term">`` (both classes where they overlap).

    ``tips`` are (start, end, tooltip) character spans (word glosses): each becomes a focusable
    ``<span class="qa-gloss" data-gloss=…>`` inside the marks, so the highlight is kept.
    ``links`` are (start, end, opening tag) spans (cross-references), not overlapping: each is one
    element around whatever marks fall inside it; the tag is the caller's (already escaped) HTML.
    With ``markdown``, bold text and headings show in bold and list markers as bullets, their
    syntax hidden (``markdown_styles``); nothing else of the text becomes markup.
    ``escape=esc_md`` escapes the text for a Markdown renderer (the chat) instead, whose sanitiser
    drops ``data-`` attributes: there the tooltip goes in ``tip_attribute="title"``.
    """
    text = text or ""
    flags = spans(text, quotes, terms)
    styles = markdown_styles(text) if markdown else [0] * len(text)
    tip_of = [0] * len(text)  # 1 + index into tips, 0 where no tip
    for n, (start, end, _) in enumerate(tips, 1):
        for i in range(max(0, start), min(len(text), end)):
            tip_of[i] = n
    tips = [f'<span class="qa-gloss" tabindex="0" {tip_attribute}="{esc(tip)}">' for _, _, tip in tips]
    out: list[str] = []
    at = 0
    for start, end, tag in sorted(links):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        out.append(_runs(text, flags, tip_of, tips, styles, escape, at, start))
        name = tag[1:].split(" ", 1)[0].rstrip(">")
        out.append(f"{tag}{_runs(text, flags, tip_of, tips, styles, escape, start, end)}</{name}>")
        at = end
    out.append(_runs(text, flags, tip_of, tips, styles, escape, at, len(text)))
    return "".join(out)


def _runs(text: str, flags: list[int], tip_of: list[int], tip_tags: list[str], styles: list[int], escape,
          begin: int, stop: int) -> str:
    """The escaped, marked HTML of ``text[begin:stop]`` (``tip_tags``: each tip's opening tag)."""
    out: list[str] = []
    i = begin
    while i < stop:
        j = i
        while j < stop and flags[j] == flags[i] and tip_of[j] == tip_of[i] and styles[j] == styles[i]:
            j += 1
        if styles[i] & HIDE:
            i = j
            continue
        run = "•" * (j - i) if styles[i] & BULLET else escape(text[i:j])
        if styles[i] & STRONG:
            run = f"<strong>{run}</strong>"
        if tip_of[i]:
            run = f"{tip_tags[tip_of[i] - 1]}{run}</span>"
        flag = flags[i]
        if flag:
            classes = " ".join(c for bit, c in ((QUOTE, "quote"), (TERM, "term")) if flag & bit)
            run = f'<mark class="{classes}">{run}</mark>'
        out.append(run)
        i = j
    return "".join(out)
