"""The Gradio web app: chat with cited provisions, passage search, documents, article browser.

Handlers are plain functions that take the ``Assistant`` first and return plain values, so
they are tested in-process without a server; ``build_app`` only lays out components and
binds the handlers. Every piece of document text goes through ``qa.highlight`` (escaped)
before it is rendered. Named API endpoints: ``/ask`` and ``/search``.
"""
from __future__ import annotations

import logging
import re
import shutil
import time
from pathlib import Path
from typing import Optional, Sequence

import gradio as gr

from .assistant import USER_ERRORS
from .highlight import esc, esc_md, highlight, safe_url
from .loaders import MAX_FILE_BYTES
from .models import KINDS, Answer, Passage
from .query import QueryError

log = logging.getLogger(__name__)

UPLOAD_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
EXAMPLES = [
    "When do the Chongqing Development Zone Regulations take effect?",
    "What does Article 1 of the development zone regulations say about their purpose?",
    "《重庆市开发区条例》自何时起施行？",
    "开发区管理机构的职责是什么？",
    "What is the penalty for tax evasion in Mongolia?",
]
MAX_K = 50  # passages per search through the app and its API
LOGIN_DELAY_S = (0.5, 8.0)  # after a failed login: first delay, cap (doubling per recent failure)
TABLE_HEADERS = ["title", "kind", "language", "date", "passages", "id"]
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
"""


# ---------------------------------------------------------------- rendering (all escaped)
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
                 extra: str = "") -> str:
    """One passage in full: citation, title › headings › article, kind · language · date · source."""
    label = f"[{n}] " if n is not None else ""
    path = " › ".join(esc(x) for x in [*p.headings, p.article or ""] if x)
    return (f'<div class="qa-card"><div class="qa-cite">{label}{esc(p.citation)}{extra}</div>'
            f'<div class="qa-meta">{path + "<br>" if path else ""}{_meta_line(p)}</div>'
            f'<div class="qa-text">{highlight(p.text, quotes, terms)}</div></div>')


def _panel(body: str) -> str:
    return f'<div class="qa-panel">{body}</div>'


def evidence_html(answer: Answer, nearest: int = 3) -> str:
    """The side panel: cited passages with the quoted sentences marked, or the nearest passages."""
    timing = f"{answer.timings.get('total_ms', 0):.0f} ms"
    if answer.abstained:
        cards = "".join(passage_card(h.passage, i, terms=h.matched_terms)
                        for i, h in enumerate(answer.nearest[:nearest], 1))
        return _panel(f"<h3>Nearest passages — not an answer</h3>{cards or '<p>No passages found.</p>'}"
                      f'<p class="qa-note">confidence {answer.confidence:.2f} · {timing}</p>')
    cards = "".join(passage_card(c.hit.passage, i, quotes=c.quotes) for i, c in enumerate(answer.citations, 1))
    return _panel(f"<h3>Cited provisions</h3>{cards}"
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
    return _panel(f'<p class="qa-warn">{esc(message)}</p>')


# ---------------------------------------------------------------- chat
def chat(assistant, question: str, history: Optional[list] = None, panels: Optional[list] = None):
    """One chat turn → (history, side panel HTML, panels per message, cleared textbox)."""
    history = list(history or [])
    panels = list(panels or [])
    question = question or ""
    shown = question if len(question) <= 300 else question[:300] + f"… ({len(question)} characters)"
    try:
        answer = assistant.ask(question)
        reply, panel = answer_markdown(answer), evidence_html(answer)
    except USER_ERRORS as exc:
        reply, panel = f"**Cannot answer:** {esc_md(exc)}", notice_html(str(exc))
    except Exception as exc:  # the UI shows a message, never a traceback
        log.exception("chat failed")
        reply, panel = f"**Something went wrong:** {esc_md(type(exc).__name__)}", notice_html(str(exc))
    history += [{"role": "user", "content": esc_md(shown.strip()) or "*(empty question)*"},
                {"role": "assistant", "content": reply}]
    panels += [panel, panel]
    return history, panel, panels, ""


def select_turn(panels: Optional[list], index) -> str:
    """The side panel of the chat message the user clicked on."""
    if isinstance(index, (list, tuple)):
        index = index[0]
    if panels and isinstance(index, int) and 0 <= index < len(panels):
        return panels[index]
    return panels[-1] if panels else ""


# ---------------------------------------------------------------- search
def search(assistant, query: str, k: int = 10, kinds: Optional[Sequence[str]] = None,
           docs: Optional[Sequence[str]] = None) -> str:
    """Ranked passages with matched terms marked, after the Chinese rendering of an English query."""
    try:
        result = assistant.search_result(query, checked_k(k), kinds=list(kinds) if kinds else None,
                                         docs=list(docs) if docs else None)
    except USER_ERRORS as exc:
        return notice_html(str(exc))
    head = ""
    if result.translation is not None:
        head = (f'<p class="qa-note">Translated query: <b>{esc(result.translation.text)}</b>'
                f"<br>{esc(result.translation.explain())}</p>")
    if not result.hits:
        return _panel(head + "<p>No passages match. Widen the filters or rephrase the query.</p>")
    cards = "".join(passage_card(h.passage, h.rank, terms=h.matched_terms,
                                 extra=f' <span class="qa-note">score {h.score:.4f}</span>')
                    for h in result.hits)
    return _panel(head + cards)


# ---------------------------------------------------------------- documents
def documents_table(assistant) -> list[list]:
    return [[d["title"], d["kind"], d["language"], d["date"] or "", d["passages"], d["id"]]
            for d in assistant.documents()]


def document_choices(assistant) -> list[tuple[str, str]]:
    """(label, doc id) pairs for dropdowns; Gradio shows labels as text."""
    return [(f"{d['title']} — {d['id']}" if d["title"] != d["id"] else d["id"], d["id"])
            for d in assistant.documents()]


def index_summary(assistant) -> str:
    docs = assistant.documents()
    passages = sum(d["passages"] for d in docs)
    return f"{len(docs)} documents · {passages} passages"


def _eta_reporter(progress):
    """A progress callback for ``Assistant.add`` that drives a Gradio progress bar with the stage and,
    once a stage has run a few seconds, the time left at its measured rate."""
    started: dict[str, float] = {}

    def report(stage: str, done: int, total: int) -> None:
        if progress is None:
            return
        begun = started.setdefault(stage, time.monotonic())
        elapsed = time.monotonic() - begun
        desc = stage
        if 0 < done < total and elapsed > 3:
            left = elapsed / done * (total - done)
            desc = f"{stage} — about {left / 60:.0f} min left" if left >= 90 else f"{stage} — about {left:.0f} s left"
        progress((done, total), desc=desc)

    return report


def discard_uploads(paths: Sequence[Path]) -> None:
    """Delete Gradio's temporary copies of uploaded files (their text now lives in the index).

    Only files inside Gradio's upload folder are touched, never a path outside it.
    """
    root = Path(gr.utils.get_upload_folder()).resolve()
    for path in paths:
        resolved = Path(path).resolve()
        if resolved.is_relative_to(root) and resolved != root:
            resolved.unlink(missing_ok=True)
            if resolved.parent != root:
                shutil.rmtree(resolved.parent, ignore_errors=True)


def upload(assistant, files: Optional[Sequence[str]], progress=None) -> str:
    """Index uploaded files incrementally; the status names every rejected file and the reason.

    Each file fails alone; the temporary copies are deleted afterwards whatever happened.
    """
    paths = [Path(str(getattr(f, "name", f))) for f in (files or [])]
    if not paths:
        return "Choose one or more files first (.md .txt .html .pdf .docx)."
    try:
        return _index_uploads(assistant, paths, progress)
    finally:
        discard_uploads(paths)


def _index_uploads(assistant, paths: list[Path], progress) -> str:
    accepted = [p for p in paths if p.suffix.lower() in UPLOAD_SUFFIXES]
    rejected = [(p.name, f"unsupported format {p.suffix or '(no extension)'}; "
                         f"supported: {' '.join(UPLOAD_SUFFIXES)}") for p in paths if p not in accepted]
    lines = []
    if accepted:
        try:
            report = assistant.add([str(p) for p in accepted], show_progress=False, progress=_eta_reporter(progress))
        except USER_ERRORS as exc:
            return f"Nothing was indexed: {esc_md(exc)}"
        rejected += [(Path(e.source).name, e.reason) for e in report.skipped]
        if report.added:
            lines.append(f"Indexed {len(report.added)} document(s), {report.passages} passages "
                         f"({report.seconds:.1f}s): " + ", ".join(f"**{esc_md(d)}**" for d in report.added))
    if rejected:
        lines.append(f"Rejected {len(rejected)} file(s):\n\n"
                     + "\n".join(f"- **{esc_md(name)}**: {esc_md(reason)}" for name, reason in rejected))
    return "\n\n".join(lines) or "Nothing to index."


def delete(assistant, doc_id: Optional[str]) -> str:
    if not doc_id:
        return "Choose a document to delete."
    try:
        report = assistant.remove([doc_id])
    except USER_ERRORS as exc:
        return f"Could not delete: {esc_md(exc)}"
    if report.removed:
        return f"Deleted {esc_md(doc_id)}."
    reasons = "; ".join(e.reason for e in report.skipped) or "not found"
    return f"Could not delete {esc_md(doc_id)}: {esc_md(reasons)}"


# ---------------------------------------------------------------- article browser
def document_units(assistant, doc_id: Optional[str]) -> list[tuple[str, Optional[str], str]]:
    """(chapter, article, text) in reading order; pieces of one long article are joined again."""
    return _units(assistant.document(doc_id)) if doc_id else []


def _units(passages: Sequence[Passage]) -> list[tuple[str, Optional[str], str]]:
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


def _label_unless_in_text(article: Optional[str], text: str) -> str:
    return f'<div class="qa-cite">{esc(article)}</div>' if article and not text.startswith(article) else ""


def read_html(assistant, doc_id: Optional[str], chapter: Optional[str] = None,
              unit: Optional[str] = None) -> str:
    """One article (``unit`` given) or a whole chapter of a document, escaped."""
    passages = assistant.document(doc_id) if doc_id else []
    units = _units(passages)
    if not units:
        return _panel("<p>Choose a document.</p>")
    title = passages[0].title
    if unit not in (None, "") and str(unit).isdigit() and int(unit) < len(units):
        picked = [units[int(unit)]]
    else:
        picked = [u for u in units if chapter in (None, "", u[0])]
    body = "".join(f'<div class="qa-card">{_label_unless_in_text(a, t)}<div class="qa-text">{esc(t)}</div></div>'
                   for _, a, t in picked)
    heading = esc(picked[0][0]) if picked and picked[0][0] != NO_CHAPTER else ""
    return _panel(f"<h3>{esc(title)}</h3><p class=\"qa-note\">{heading}</p>{body}")


# ---------------------------------------------------------------- API (JSON-able)
def public_source(source: Optional[str]) -> Optional[str]:
    """A source as the outside may see it: URLs as they are, server paths reduced to the file name."""
    if not source or safe_url(source):
        return source
    return _PATH_SEP.split(source)[-1]


def _public(data):
    """Every ``source`` in an API result, server paths hidden."""
    if isinstance(data, dict):
        return {k: public_source(v) if k == "source" else _public(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_public(x) for x in data]
    return data


def checked_k(k) -> int:
    """The number of passages a caller may ask for: 1 to MAX_K (the whole index is not an answer)."""
    try:
        value = int(k)
    except (TypeError, ValueError) as exc:
        raise QueryError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}") from exc
    if not 1 <= value <= MAX_K:
        raise QueryError(f"k must be from 1 to {MAX_K}, not {value}")
    return value


def api_ask(assistant, question: str) -> dict:
    return _public(assistant.ask(question).to_dict())


def api_search(assistant, query: str, k: int = 10) -> list[dict]:
    return _public([h.to_dict() for h in assistant.search(query, checked_k(k))])


def warm_up(assistant) -> None:
    """``Assistant.warm_up``, but an empty or broken index still serves (and says so when asked)."""
    try:
        assistant.warm_up()
    except USER_ERRORS as exc:
        log.warning("warm-up question failed: %s", exc)


# ---------------------------------------------------------------- layout
def build_app(assistant, title: str = "Regulation Q&A") -> gr.Blocks:
    """The Gradio Blocks app over one Assistant (serve it with ``launch``)."""
    qa = assistant  # reads never wait for uploads: the Assistant swaps index generations atomically
    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        gr.Markdown(f"## {esc(title)}\nAsk about the regulations in English or Chinese. Every answer quotes "
                    "the provision it rests on; when the documents do not hold the answer, it says so.")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                _chat_tab(qa)
            with gr.Tab("Search", id="search"):
                doc_filter = _search_tab(qa)
            with gr.Tab("Documents", id="documents"):
                listing = _documents_tab(qa)
            with gr.Tab("Read", id="read"):
                read_doc = _read_tab(qa)
        _wire_documents(qa, demo, *listing, doc_filter, read_doc)
        _api_endpoints(qa)
    return demo


def _chat_tab(qa) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="Conversation", show_label=False, height=480, latex_delimiters=[],
                                 elem_id="qa-chatbot", allow_tags=False)
            with gr.Row():
                question = gr.Textbox(placeholder="Ask a question…", show_label=False, scale=5, max_lines=4,
                                      elem_id="qa-question")
                ask_btn = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
            gr.Examples(EXAMPLES, inputs=[question], label="Examples")
            clear_btn = gr.Button("Clear conversation", size="sm")
        with gr.Column(scale=2):
            panel = gr.HTML(PANEL_PLACEHOLDER, elem_id="qa-evidence", js_on_load=None, max_height=760)
    panels = gr.State([])  # the side panel of every message, for clicking back to an earlier answer

    def on_ask(q, history, state):
        return chat(qa, q, history, state)

    def on_select(state, evt: gr.SelectData):
        return select_turn(state, evt.index)

    inputs, outputs = [question, chatbot, panels], [chatbot, panel, panels, question]
    question.submit(on_ask, inputs, outputs, api_visibility="private")
    ask_btn.click(on_ask, inputs, outputs, api_visibility="private")
    clear_btn.click(lambda: ([], PANEL_PLACEHOLDER, []), None, [chatbot, panel, panels], api_visibility="private")
    chatbot.select(on_select, [panels], [panel], api_visibility="private")


def _search_tab(qa) -> gr.Dropdown:
    with gr.Row():
        query = gr.Textbox(label="Query", scale=4, elem_id="qa-query")
        k = gr.Slider(1, 50, value=10, step=1, label="k (passages)", scale=1)
    with gr.Row():
        kinds = gr.CheckboxGroup(list(KINDS), label="Kind (none = all)")
        doc_filter = gr.Dropdown(choices=[], multiselect=True, label="Documents (none = all)")
    search_btn = gr.Button("Search", variant="primary", elem_id="qa-search")
    results = gr.HTML(elem_id="qa-results", js_on_load=None)

    def on_search(q, n, kind_list, doc_list):
        return search(qa, q, n, kind_list, doc_list)

    for trigger in (query.submit, search_btn.click):
        trigger(on_search, [query, k, kinds, doc_filter], [results], api_visibility="private")
    return doc_filter


def _documents_tab(qa) -> tuple:
    summary = gr.Markdown(elem_id="qa-summary")
    table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, wrap=True, elem_id="qa-table",
                         show_search="search", column_widths=["38%", "9%", "8%", "10%", "8%", "27%"])
    with gr.Row():
        with gr.Column():
            files = gr.File(file_count="multiple", file_types=list(UPLOAD_SUFFIXES),
                            label="Add documents (.md .txt .html .pdf .docx)", elem_id="qa-upload")
            add_btn = gr.Button("Index uploaded files", variant="primary", elem_id="qa-add")
        with gr.Column():
            to_delete = gr.Dropdown(choices=[], label="Document to delete", elem_id="qa-delete-doc")
            delete_btn = gr.Button("Delete document", variant="stop", elem_id="qa-delete")
    status = gr.Markdown(elem_id="qa-status")
    return files, add_btn, to_delete, delete_btn, status, table, summary


def _wire_documents(qa, demo, files, add_btn, to_delete, delete_btn, status, table, summary, doc_filter,
                    read_doc) -> None:
    """Uploads and deletions refresh the table and every document dropdown (on page load too)."""
    listing = [table, summary, to_delete, doc_filter, read_doc]

    def refreshed():
        choices = document_choices(qa)
        return (documents_table(qa), index_summary(qa), gr.update(choices=choices, value=None),
                gr.update(choices=choices), gr.update(choices=choices))

    def on_upload(paths, progress=gr.Progress()):
        return (upload(qa, paths, progress), None, *refreshed())

    add_btn.click(on_upload, [files], [status, files, *listing], api_visibility="private")
    delete_btn.click(lambda d: (delete(qa, d), *refreshed()), [to_delete], [status, *listing],
                     api_visibility="private")
    demo.load(refreshed, None, listing, api_visibility="private")


def _read_tab(qa) -> gr.Dropdown:
    with gr.Row():
        doc = gr.Dropdown(choices=[], label="Document", scale=3, elem_id="qa-read-doc")
        chapter = gr.Dropdown(choices=[], label="Chapter / section", scale=2, elem_id="qa-read-chapter")
        article = gr.Dropdown(choices=[], label="Article", scale=1, elem_id="qa-read-article")
    reader = gr.HTML(_panel("<p>Choose a document.</p>"), elem_id="qa-reader", js_on_load=None)

    def on_document(doc_id):
        units = document_units(qa, doc_id)
        chapters = chapters_of(units)
        first = chapters[0] if chapters else None
        return (gr.update(choices=chapters, value=first), gr.update(choices=articles_of(units, first), value=None),
                read_html(qa, doc_id, first))

    def on_chapter(doc_id, name):
        units = document_units(qa, doc_id)
        return gr.update(choices=articles_of(units, name), value=None), read_html(qa, doc_id, name)

    doc.input(on_document, [doc], [chapter, article, reader], api_visibility="private")
    chapter.input(on_chapter, [doc, chapter], [article, reader], api_visibility="private")
    article.input(lambda d, c, a: read_html(qa, d, c, a), [doc, chapter, article], [reader], api_visibility="private")
    return doc


def _api_endpoints(qa) -> None:
    """Named endpoints for gradio_client: /ask and /search (JSON in, JSON out)."""
    def ask(question: str) -> dict:
        """Answer a question: text with quoted provisions, citations, confidence, abstained, nearest."""
        try:
            return api_ask(qa, question)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from exc

    def search_passages(query: str, k: int = 10) -> list[dict]:
        """Ranked passages for a query: doc, title, article, citation, text, score, matched_terms…"""
        try:
            return api_search(qa, query, k)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from exc

    gr.api(ask, api_name="ask")
    gr.api(search_passages, api_name="search")


def theme():
    system = ["ui-sans-serif", "system-ui", "Noto Sans CJK SC", "sans-serif"]  # no web-font downloads
    return gr.themes.Default(font=system, font_mono=["ui-monospace", "monospace"])


def login_gate(user: str, password: str):
    """Gradio's ``auth`` callable for one user: failed logins are slowed down, one after another.

    Each failure within a minute doubles the delay (0.5 s up to 8 s), and failures wait in
    turn, so guessing a password costs time even with many parallel attempts. The gate is async:
    Gradio awaits it in its event loop, where a blocking sleep would stall every other user.
    """
    import asyncio
    import hmac

    failures: list[float] = []
    turn: list[asyncio.Lock] = []

    async def check(username: str, attempt: str) -> bool:
        ok = hmac.compare_digest(username.encode(), user.encode()) & hmac.compare_digest(attempt.encode(),
                                                                                          password.encode())
        if ok:
            return True
        if not turn:
            turn.append(asyncio.Lock())
        async with turn[0]:
            now = time.monotonic()
            failures[:] = [t for t in failures if now - t < 60] + [now]
            first, cap = LOGIN_DELAY_S
            await asyncio.sleep(min(cap, first * 2 ** (len(failures) - 1)))
        return False

    return check


def launch(demo, host: str = "127.0.0.1", port: Optional[int] = 7860, auth: Optional[tuple[str, str]] = None,
           **kwargs):
    """Serve on loopback unless told otherwise; never through a public share link."""
    if auth is not None:
        auth = login_gate(*auth)
    return demo.launch(server_name=host, server_port=port, auth=auth, share=False, ssr_mode=False,
                       max_file_size=MAX_FILE_BYTES, theme=theme(), css=CSS, footer_links=["api"], **kwargs)
