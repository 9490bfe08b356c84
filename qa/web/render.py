"""HTML and Markdown for the web app: every piece of document text is escaped (``qa.highlight``).

Plain functions of plain values (no Gradio), so they are tested directly.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

from ..highlight import esc, esc_md, highlight, safe_url
from ..models import Answer, Passage

NO_CHAPTER = "(no chapter)"
PANEL_PLACEHOLDER = '<div class="qa-panel"><p class="qa-note">The cited passages of each answer appear here.</p></div>'
_PATH_SEP = re.compile(r"[\\/]")

CSS = """
.qa-panel { font-size: 0.95rem; }
.qa-panel h3 { margin: 0.2rem 0 0.6rem; font-size: 1.05rem; }
.qa-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6rem 0.8rem;
           margin-bottom: 0.7rem; background: var(--background-fill-primary); }
.qa-cite { font-weight: 600; }
.qa-meta { color: var(--body-text-color-subdued); font-size: 0.85rem; margin: 0.15rem 0 0.4rem; }
.qa-text { white-space: pre-wrap; line-height: 1.55; }
.qa-panel mark.quote { background: #fde68a; color: inherit; padding: 0 1px; }
.qa-panel mark.term { background: #bfdbfe; color: inherit; padding: 0 1px; }
.qa-panel mark.quote.term { background: #fcd34d; }
.qa-note { color: var(--body-text-color-subdued); font-size: 0.85rem; }
.qa-warn { border-left: 4px solid #f59e0b; padding-left: 0.6rem; }
.qa-gloss { position: relative; cursor: help; border-bottom: 1px dotted currentColor; }
.qa-gloss:hover::after, .qa-gloss:focus::after { content: attr(data-gloss); position: absolute; left: 0;
    top: 100%; z-index: 20; width: max-content; max-width: 18rem; white-space: normal; background: #1f2937; color: #fff; padding: 2px 8px;
    border-radius: 4px; font-size: 0.8rem; font-weight: normal; }
.qa-gloss:focus { outline: 2px solid #2563eb; }
.qa-gloss-table table { font-size: 0.85rem; margin-top: 0.3rem; }
.qa-gloss-table td { padding: 0 0.6rem 0 0; vertical-align: top; }
.qa-gloss-table td:nth-child(-n+2) { white-space: nowrap; }
"""


def _meta_line(p: Passage) -> str:
    parts = [esc(x) for x in (p.kind, p.language, p.date) if x]
    url = safe_url(p.source)
    if url:
        parts.append(f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">source</a>')
    elif p.source:  # a server-side path says nothing useful to a reader: show the file name only
        local = p.source.startswith("/") or p.source[1:3] in (":\\", ":/")
        shown = _PATH_SEP.split(p.source)[-1] if local else p.source
        parts.append(f"{'file' if local else 'source'}: {esc(shown)}")
    return " · ".join(parts)


def passage_card(p: Passage, n: Optional[int] = None, quotes: Sequence[str] = (), terms: Sequence[str] = (),
                 extra: str = "", glosses: Sequence = ()) -> str:
    """One passage in full: citation, title › headings › article, kind · language · date · source;
    with ``glosses`` (of the quotes) each quoted word explains itself on hover or focus."""
    label = f"[{n}] " if n is not None else ""
    path = " › ".join(esc(x) for x in [*p.headings, p.article or ""] if x)
    tips = gloss_tips(p.text, quotes, glosses)
    return (f'<div class="qa-card"><div class="qa-cite">{label}{esc(p.citation)}{extra}</div>'
            f'<div class="qa-meta">{path + "<br>" if path else ""}{_meta_line(p)}</div>'
            f'<div class="qa-text">{highlight(p.text, quotes, terms, tips)}</div>{gloss_table(glosses)}</div>')


def gloss_tip(g) -> str:
    return f"{g.pinyin} — {'; '.join(g.meanings)}" if g.pinyin else "; ".join(g.meanings)


def gloss_tips(text: str, quotes: Sequence[str], glosses: Sequence) -> list[tuple[int, int, str]]:
    """(start, end, tooltip) of each glossed word of the quotes, in ``text``'s characters."""
    tips: list[tuple[int, int, str]] = []
    words = iter(glosses)
    for quote in quotes:
        at, end = text.find(quote), None
        if at < 0:
            continue
        end = at + len(quote)
        for g in words:
            if g.meanings:
                tips.append((at, at + len(g.text), gloss_tip(g)))
            at += len(g.text)
            if at >= end:
                break
    return tips


def gloss_table(glosses: Sequence) -> str:
    """The glosses as a folded word-by-word table (for touch screens and for reading through)."""
    rows = "".join(f"<tr><td>{esc(g.text)}</td><td>{esc(g.pinyin)}</td><td>{esc('; '.join(g.meanings))}</td></tr>"
                   for g in glosses if g.meanings)
    if not rows:
        return ""
    return (f'<details class="qa-gloss-table"><summary>Word by word (pinyin, meanings)</summary>'
            f"<table>{rows}</table></details>")


def panel(body: str) -> str:
    return f'<div class="qa-panel">{body}</div>'


def evidence_html(answer: Answer, nearest: int = 3) -> str:
    """The side panel: cited passages with the quoted sentences marked, or the nearest passages."""
    timing = f"{answer.timings.get('total_ms', 0):.0f} ms"
    if answer.abstained:
        cards = "".join(passage_card(h.passage, i, terms=h.matched_terms)
                        for i, h in enumerate(answer.nearest[:nearest], 1))
        return panel(f"<h3>Nearest passages — not an answer</h3>{cards or '<p>No passages found.</p>'}"
                      f'<p class="qa-note">confidence {answer.confidence:.2f} · {timing}</p>')
    cards = "".join(passage_card(c.hit.passage, i, quotes=c.quotes, glosses=c.gloss)
                    for i, c in enumerate(answer.citations, 1))
    return panel(f"<h3>Cited provisions</h3>{cards}"
                  f'<p class="qa-note">confidence {answer.confidence:.2f} · {timing}</p>')


def _snippet(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def answer_markdown(answer: Answer) -> str:
    """The chat message: the answer with its verbatim quotes, then the sources it cites."""
    if answer.abstained:
        lines = [f"**{esc_md(answer.text)}**", ""]
        lines += [f"{i}\\. {esc_md(h.citation)} — {esc_md(_snippet(h.passage.text))}"
                  for i, h in enumerate(answer.nearest[:3], 1)]
        return "\n".join(lines)
    lines = [esc_md(answer.text), "", "**Sources**"]
    for i, c in enumerate(answer.citations, 1):
        meta = " · ".join(esc_md(x) for x in (c.hit.passage.kind, c.hit.passage.date) if x)
        lines.append(f"\\[{i}\\] {esc_md(c.hit.citation)} ({meta})")
    return "\n".join(lines)


def notice_html(message: str) -> str:
    return panel(f'<p class="qa-warn">{esc(message)}</p>')


def passage_units(passages: Sequence[Passage]) -> list[tuple[str, Optional[str], str]]:
    units: list[tuple[str, Optional[str], str]] = []
    for p in passages:
        chapter = " › ".join(p.headings) or NO_CHAPTER
        if units and units[-1][0] == chapter and units[-1][1] == p.article and p.part > 0:
            units[-1] = (chapter, p.article, units[-1][2] + "\n" + p.text)
        else:
            units.append((chapter, p.article, p.text))
    return units


def _unit_label(i: int, article: Optional[str], text: str) -> str:
    return article or f"¶{i + 1} {_snippet(text, 40)}"


def chapters_of(units) -> list[str]:
    return list(dict.fromkeys(u[0] for u in units))


def articles_of(units, chapter: Optional[str]) -> list[tuple[str, str]]:
    return [(_unit_label(i, a, t), str(i)) for i, (c, a, t) in enumerate(units) if chapter in (None, c)]


def article_label_html(article: Optional[str], text: str) -> str:
    return f'<div class="qa-cite">{esc(article)}</div>' if article and not text.startswith(article) else ""


def public_source(source: Optional[str]) -> Optional[str]:
    """A source as the outside may see it: URLs as they are, server paths reduced to the file name."""
    if not source or safe_url(source):
        return source
    return _PATH_SEP.split(source)[-1]


def public_dict(data):
    """Every ``source`` in an API result, server paths hidden."""
    if isinstance(data, dict):
        return {k: public_source(v) if k == "source" else public_dict(v) for k, v in data.items()}
    if isinstance(data, list):
        return [public_dict(x) for x in data]
    return data
