"""HTML and Markdown for the web app: every piece of document text is escaped (``qa.highlight``).

Plain functions of plain values (no Gradio), so they are tested directly.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

from ..highlight import esc, esc_md, highlight, safe_url
from ..models import Answer, Passage
from .i18n import t

NO_CHAPTER = "(no chapter)"


def panel_placeholder() -> str:
    """The evidence panel before the first answer, in the current language."""
    return f'<div class="qa-panel"><p class="qa-note">{esc(t("panel_placeholder"))}</p></div>'


PANEL_PLACEHOLDER = panel_placeholder()  # English
_PATH_SEP = re.compile(r"[\\/]")

CSS = """
.qa-panel { font-size: 0.95rem; overflow-wrap: anywhere; }
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
.qa-gloss { cursor: help; border-bottom: 1px dotted currentColor; }
.qa-gloss:focus { outline: 2px solid #2563eb; }
#qa-tip { position: fixed; z-index: 1000; display: none; width: max-content; max-width: min(18rem, calc(100vw - 16px));
    white-space: normal; background: #1f2937; color: #fff; padding: 2px 8px; border-radius: 4px; font-size: 0.8rem;
    font-weight: normal; line-height: 1.4; pointer-events: none; }
.qa-generated { border-left: 3px solid #60a5fa; padding-left: 0.6rem; }
.qa-gloss-table table { font-size: 0.85rem; margin-top: 0.3rem; }
.qa-gloss-table td { padding: 0 0.6rem 0 0; vertical-align: top; }
.qa-gloss-table td:nth-child(-n+2) { white-space: nowrap; }
a.qa-ref { color: #1d4ed8; text-decoration: underline dotted; cursor: pointer; }
.qa-panel a.qa-ref mark { padding: 0; }
.qa-ref-unresolved { border-bottom: 1px dashed #9ca3af; cursor: help; }
.qa-refers { margin-top: 0.4rem; font-size: 0.9rem; }
.qa-refers summary { cursor: pointer; color: #1d4ed8; }
.qa-refers .qa-text { border-left: 3px solid #bfdbfe; padding-left: 0.5rem; margin-top: 0.3rem; }
#qa-status { min-height: 4.5rem; }  /* room for the one upload progress bar, shown here */
.qa-confirm { border-left: 4px solid #f59e0b; padding-left: 0.6rem; }
/* The chat's toolbar (copy all, clear) sits above the messages, not over the latest one. */
#qa-chatbot .top-panel { position: static; flex: none; margin: 0 0 2px auto; }
"""
# Clicks on a cross-reference link inside a gr.HTML panel become one Gradio event carrying its target.
REFERENCE_CLICK_JS = ("element.addEventListener('click', (e) => { const a = e.target.closest('a.qa-ref'); "
                      "if (!a) return; e.preventDefault(); trigger('click', {doc: a.dataset.doc, "
                      "article: a.dataset.article, paragraph: a.dataset.paragraph || ''}); });")
# The panel a reference opens in scrolls itself into sight (it may sit below a long list of results).
REFERENCE_VIEW_JS = REFERENCE_CLICK_JS + " watch('value', () => { if (props.value) element.scrollIntoView({block: 'nearest'}); });"


# One tooltip for every glossed word (side panel and chat alike), placed by script so that it stays
# inside the viewport: under the word, moved left near the right edge, above the word near the
# bottom. It shows on hover and on keyboard focus and is the word's accessible description. In the
# chat, whose Markdown sanitiser drops data- attributes, the gloss travels in ``title`` (so it still
# shows, as the browser's own tooltip, without script).
TOOLTIP_SCRIPT = """<script>
(() => {
  const MARGIN = 8;
  const word = (e) => e.target instanceof Element ? e.target.closest(".qa-gloss[data-gloss], .qa-gloss[title]") : null;
  function tip() {
    let t = document.getElementById("qa-tip");
    if (!t) {
      t = document.createElement("div");
      t.id = "qa-tip";
      t.setAttribute("role", "tooltip");
      document.body.appendChild(t);
    }
    return t;
  }
  function show(el) {
    if (el.hasAttribute("title")) {  // the chat keeps no data- attributes; the title would show a second tip
      el.setAttribute("data-gloss", el.getAttribute("title"));
      el.removeAttribute("title");
    }
    const t = tip();
    t.textContent = el.getAttribute("data-gloss");
    t.style.display = "block";
    el.setAttribute("aria-describedby", "qa-tip");
    const r = el.getBoundingClientRect(), w = t.offsetWidth, h = t.offsetHeight;
    const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
    const left = Math.max(MARGIN, Math.min(r.left, vw - w - MARGIN));
    let top = r.bottom + 4;
    if (top + h > vh - MARGIN) top = Math.max(MARGIN, r.top - h - 4);
    t.style.left = left + "px";
    t.style.top = top + "px";
  }
  function hide(el) {
    const t = document.getElementById("qa-tip");
    if (t) t.style.display = "none";
    if (el) el.removeAttribute("aria-describedby");
  }
  document.addEventListener("mouseover", (e) => { const el = word(e); if (el) show(el); });
  document.addEventListener("mouseout", (e) => { const el = word(e); if (el && !el.contains(e.relatedTarget)) hide(el); });
  document.addEventListener("focusin", (e) => { const el = word(e); if (el) show(el); });
  document.addEventListener("focusout", (e) => { const el = word(e); if (el) hide(el); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") hide(); });
  document.addEventListener("scroll", () => hide(), true);
})();
</script>"""


def _meta_line(p: Passage) -> str:
    parts = [esc(x) for x in (p.kind, p.language, p.date) if x]
    url = safe_url(p.source)
    if url:
        parts.append(f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">{esc(t("source"))}</a>')
    elif p.source:  # a server-side path says nothing useful to a reader: show the file name only
        local = p.source.startswith("/") or p.source[1:3] in (":\\", ":/")
        shown = _PATH_SEP.split(p.source)[-1] if local else p.source
        parts.append(f"{esc(t('file' if local else 'source'))}: {esc(shown)}")
    return " · ".join(parts)


def passage_card(p: Passage, n: Optional[int] = None, quotes: Sequence[str] = (), terms: Sequence[str] = (),
                 extra: str = "", glosses: Sequence = (), references: Sequence = (), footer: str = "") -> str:
    """One passage in full: citation, title › headings › article, kind · language · date · source;
    with ``glosses`` (of the quotes) each quoted word explains itself on hover or focus, and each of
    its ``references`` (``qa.references.Reference``) is a link to the article it names."""
    label = f"[{n}] " if n is not None else ""
    path = " › ".join(esc(x) for x in [*p.headings, p.article or ""] if x)
    tips = gloss_tips(p.text, quotes, glosses)
    text = highlight(p.text, quotes, terms, tips, reference_links(references), markdown=True)
    return (f'<div class="qa-card"><div class="qa-cite">{label}{esc(p.citation)}{extra}</div>'
            f'<div class="qa-meta">{path + "<br>" if path else ""}{_meta_line(p)}</div>'
            f'<div class="qa-text">{text}</div>{gloss_table(glosses)}{footer}</div>')


# ---------------------------------------------------------------- cross-references


def reference_tag(ref) -> str:
    """The opening tag around a reference: a link carrying its target when it resolved, else a
    span whose tooltip says why it did not."""
    if not ref.resolved:
        return f'<span class="qa-ref-unresolved" title="{esc(ref.reason or "not resolved")}">'
    paragraph = ref.paragraphs[0] if ref.paragraphs else ""
    return (f'<a class="qa-ref" href="#" role="button" data-doc="{esc(ref.doc)}" data-article="{esc(ref.article)}" '
            f'data-paragraph="{paragraph}" title="{esc(ref.target)}">')


def reference_links(references: Sequence) -> list[tuple[int, int, str]]:
    return [(r.start, r.end, reference_tag(r)) for r in references]


def paragraph_texts(text: str, paragraphs: Sequence[int]) -> list[str]:
    """The text of the named paragraphs (款) of an article, to be marked where it is shown."""
    from ..references import paragraph_starts

    starts = paragraph_starts(text) + [len(text) + 1]
    return [text[starts[n - 1]:starts[n] - 1].strip() for n in paragraphs if 0 < n < len(starts)]


def refers_to_html(references: Sequence, targets: dict) -> str:
    """Under a cited provision: "refers to …" for each article it names, its text one click away
    (folded), the named paragraph marked; references that did not resolve say why."""
    items, seen = [], set()
    for r in references:
        key = (r.doc, r.article, tuple(r.paragraphs), r.resolved)
        if key in seen:
            continue
        seen.add(key)
        text = targets.get((r.doc, r.article)) if r.resolved else None
        if text is None:
            items.append(f'<p class="qa-note">{esc(t("refers_to"))} {esc(r.target or r.text)} — '
                         f'{esc(r.reason or "not found")}</p>')
            continue
        body = highlight(text, paragraph_texts(text, r.paragraphs), markdown=True)
        items.append(f'<details class="qa-refers" data-doc="{esc(r.doc)}" data-article="{esc(r.article)}">'
                     f'<summary>{esc(t("refers_to"))} {esc(r.target)}</summary><div class="qa-text">{body}</div></details>')
    return "".join(items)


def reference_view_html(passages: Sequence[Passage], paragraph: Optional[int], references: Optional[dict] = None) -> str:
    """One referenced article opened beside the provision that names it (its paragraph marked, its own
    references links again)."""
    if not passages:
        return notice_html("That article is no longer in the index.")
    text = "\n".join(p.text for p in passages)
    offsets, at = [], 0
    for p in passages:
        offsets.append(at)
        at += len(p.text) + 1
    links = [(offsets[i] + r.start, offsets[i] + r.end, reference_tag(r))
             for i, p in enumerate(passages) for r in (references or {}).get(p.id, [])]
    first = passages[0]
    marked = paragraph_texts(text, [paragraph]) if paragraph else []
    return panel(f'<h3>{esc(t("referenced"))} {esc(first.citation)}</h3><div class="qa-card" id="qa-ref-target">'
                 f'<div class="qa-meta">{esc(" › ".join(first.headings))}</div>'
                 f'<div class="qa-text">{highlight(text, marked, links=links, markdown=True)}</div></div>')


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
    return (f'<details class="qa-gloss-table"><summary>{esc(t("word_by_word"))}</summary>'
            f"<table>{rows}</table></details>")


def panel(body: str) -> str:
    return f'<div class="qa-panel">{body}</div>'


def evidence_html(answer: Answer, nearest: int = 3, targets: Optional[dict] = None) -> str:
    """The side panel: cited passages with the quoted sentences marked, or the nearest passages.
    ``targets`` ((doc, article) → text) are the articles the cited passages refer to."""
    timing = f"{esc(t('confidence'))} {answer.confidence:.2f} · {answer.timings.get('total_ms', 0):.0f} ms"
    if answer.abstained:
        cards = "".join(passage_card(h.passage, i, terms=h.matched_terms, references=h.references)
                        for i, h in enumerate(answer.nearest[:nearest], 1))
        return panel(f"<h3>{esc(t('nearest_not_answer'))}</h3>{cards or '<p>' + esc(t('no_passages')) + '</p>'}"
                      f'<p class="qa-note">{timing}</p>')
    cards = "".join(passage_card(c.hit.passage, i, quotes=c.quotes, glosses=c.gloss, references=c.hit.references,
                                 footer=refers_to_html(c.hit.references, targets or {}))
                    for i, c in enumerate(answer.citations, 1))
    return panel(f"<h3>{esc(t('cited_provisions'))}</h3>{cards}"
                  f'<p class="qa-note">{timing}</p>')


def _snippet(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def answer_markdown(answer: Answer) -> str:
    """The chat message: a checked generated answer (labelled with its model) or the note saying why it
    is not shown, then the answer with its verbatim quotes (each Chinese word glossed on hover or
    focus), then the sources it cites; first how a follow-up was read ("Read as: 《…》第六条") when it
    leaned on the conversation."""
    read_as = [f"*{esc_md(t('read_as'))} {esc_md(answer.read_as)}*", ""] if answer.read_as else []
    if answer.abstained:
        lines = [*read_as, f"**{esc_md(answer.text)}**", ""]
        lines += [f"{i}\\. {esc_md(h.citation)} — {esc_md(_snippet(h.passage.text))}"
                  for i, h in enumerate(answer.nearest[:3], 1)]
        return "\n".join(lines)
    lines = list(read_as)
    if answer.generated is not None:
        g = answer.generated
        label = t("generated_by" if g.complete else "generating_with", model=g.model)
        lines += [f'<div class="qa-generated">\n\n*{esc_md(label)}*\n\n{esc_md(g.text) or "…"}\n\n</div>', "",
                  f"**{esc_md(t('quoted_provisions'))}**", ""]
    elif answer.note:
        lines += [f"*{esc_md(answer.note)}*", ""]
    lines += [glossed_markdown(answer), "", f"**{esc_md(t('sources'))}**"]
    for i, c in enumerate(answer.citations, 1):
        meta = " · ".join(esc_md(x) for x in (c.hit.passage.kind, c.hit.passage.date) if x)
        named = list(dict.fromkeys(r.target for r in c.hit.references if r.resolved))
        refers = f" — {esc_md(t('refers_to'))} {', '.join(esc_md(n) for n in named)}" if named else ""
        lines.append(f"\\[{i}\\] {esc_md(c.hit.citation)} ({meta}){refers}")
    return "\n".join(lines)


def glossed_markdown(answer: Answer) -> str:
    """The answer text, Markdown-escaped, with each glossed word of its quotes a focusable tooltip."""
    tips = [tip for c in answer.citations for tip in gloss_tips(answer.text, c.quotes, c.gloss)]
    return highlight(answer.text, tips=sorted(tips), escape=esc_md, tip_attribute="title")


def notice_html(message: str) -> str:
    return panel(f'<p class="qa-warn">{esc(message)}</p>')


def continues_unit(previous: Optional[Passage], p: Passage) -> bool:
    """A later piece of the same article under the same headings: one reading unit with ``previous``."""
    return previous is not None and p.part > 0 and p.article == previous.article and p.headings == previous.headings


def passage_units(passages: Sequence[Passage]) -> list[tuple[str, Optional[str], str]]:
    units: list[tuple[str, Optional[str], str]] = []
    previous = None
    for p in passages:
        chapter = " › ".join(p.headings) or NO_CHAPTER
        if units and continues_unit(previous, p):
            units[-1] = (chapter, p.article, units[-1][2] + "\n" + p.text)
        else:
            units.append((chapter, p.article, p.text))
        previous = p
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
