"""The Gradio layout: components and the bindings of ``handlers`` to them; nothing else."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import gradio as gr

from ..highlight import esc
from ..models import KINDS
from ..assistant import USER_ERRORS
from .conversation import (clear_focus, discard_downloads, focus_note, new_conversation, select_answer,
                           write_downloads)
from .handlers import (MAX_K, UPLOAD_SUFFIXES, api_ask, api_search, articles_of, chapters_of, chat_turn,
                       cancel_upload, delete, delete_question, document_choices, document_units, documents_table,
                       fetch_official, index_summary, open_reference, read_html, reader_position, replace_question,
                       replaced_documents, search, select_turn, upload)
from .render import PANEL_PLACEHOLDER, REFERENCE_CLICK_JS, REFERENCE_VIEW_JS, panel

# Every read (chat, search, /ask, /search) waits in one first-come-first-served queue, whichever
# way it came in, and a few run at once so that one request's query is embedded in C while
# another's Python holds the GIL. Gradio's default, one queue per event and one at a time in each,
# made /ask wait behind every other /ask while /search passed by. Measured on 2 cores with 20
# users: docs/benchmarks.md, "Many users at once".
READS = {"concurrency_id": "reads", "concurrency_limit": 2 * (os.cpu_count() or 1)}

EXAMPLES = [
    "When do the Chongqing Development Zone Regulations take effect?",
    "What does Article 1 of the development zone regulations say about their purpose?",
    "《重庆市开发区条例》自何时起施行？",
    "开发区管理机构的职责是什么？",
    "What is the penalty for tax evasion in Mongolia?",
]
TABLE_HEADERS = ["title", "kind", "language", "date", "passages", "id"]


def build_app(assistant, title: str = "Regulation Q&A", official_urls=None) -> gr.Blocks:
    """The Gradio Blocks app over one Assistant (serve it with ``launch``); ``official_urls`` replaces the
    publisher's address for "Fetch the official text" (a mirror)."""
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
                documents = _documents_tab(qa, official_urls)
            with gr.Tab("Read", id="read"):
                read_doc = _read_tab(qa)
        _wire_documents(qa, demo, documents, [doc_filter, read_doc])
        _api_endpoints(qa)
    return demo


def _chat_tab(qa) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            # No "share" button (it posts to Hugging Face; this app runs offline); the toolbar is
            # moved above the messages by CSS (render.CSS).
            chatbot = gr.Chatbot(label="Conversation", show_label=False, height=480, latex_delimiters=[],
                                 elem_id="qa-chatbot", allow_tags=False, buttons=["copy", "copy_all"])
            with gr.Row():
                question = gr.Textbox(placeholder="Ask a question…", show_label=False, scale=5, max_lines=4,
                                      elem_id="qa-question")
                ask_btn = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
            focus = gr.Markdown(elem_id="qa-focus")
            gr.Examples(EXAMPLES, inputs=[question], label="Examples")
            with gr.Row():
                clear_btn = gr.Button("Clear conversation", size="sm")
                clear_focus_btn = gr.Button("Clear focus", size="sm", elem_id="qa-clear-focus")
            downloads = _download_buttons()
        with gr.Column(scale=2):
            panel = gr.HTML(PANEL_PLACEHOLDER, elem_id="qa-evidence", js_on_load=REFERENCE_CLICK_JS, max_height=760)
            _reference_view(qa, panel, "qa-ref-view")
    panels = gr.State([])  # the side panel of every message, for clicking back to an earlier answer
    conversation = gr.State(None)  # answers (the next question's history), focus, downloads; made on first use

    def download_updates(state):
        paths = write_downloads(state) or [None] * len(downloads)
        return [gr.update(value=str(p) if p else None, interactive=p is not None) for p in paths]

    def on_ask(q, history, state, talk):
        *shown, talk, note = chat_turn(qa, q, history, state, talk)
        return (*shown, talk, note, *download_updates(talk))

    def on_select(state, talk, evt: gr.SelectData):
        talk = select_answer(talk, evt.index)
        return (select_turn(state, evt.index), talk, *download_updates(talk))

    def on_clear_focus(talk):
        talk = clear_focus(talk)
        return talk, focus_note(talk)

    def on_clear(old):
        discard_downloads(old)
        talk = new_conversation()
        return ([], PANEL_PLACEHOLDER, [], talk, "", *download_updates(talk))

    inputs = [question, chatbot, panels, conversation]
    outputs = [chatbot, panel, panels, question, conversation, focus, *downloads]
    question.submit(on_ask, inputs, outputs, api_visibility="private", **READS)
    ask_btn.click(on_ask, inputs, outputs, api_visibility="private", **READS)
    cleared = [chatbot, panel, panels, conversation, focus, *downloads]
    clear_btn.click(on_clear, [conversation], cleared, api_visibility="private")
    chatbot.clear(on_clear, [conversation], cleared, api_visibility="private")  # the chat's own trash button
    clear_focus_btn.click(on_clear_focus, [conversation], [conversation, focus], api_visibility="private")
    chatbot.select(on_select, [panels, conversation], [panel, conversation, *downloads], api_visibility="private")


def _download_buttons() -> list:
    """Downloads of the conversation and of the chosen answer (the last one, or the one clicked)."""
    buttons = []
    with gr.Row():
        for what, label in (("conversation", "Conversation"), ("answer", "This answer")):
            for suffix in ("md", "docx"):
                buttons.append(gr.DownloadButton(f"{label} (.{suffix})", size="sm", interactive=False,
                                                 elem_id=f"qa-download-{what}-{suffix}"))
    return buttons


def _search_tab(qa) -> gr.Dropdown:
    with gr.Row():
        query = gr.Textbox(label="Query", scale=4, elem_id="qa-query")
        k = gr.Slider(1, MAX_K, value=10, step=1, label="k (passages)", scale=1)
    with gr.Row():
        kinds = gr.CheckboxGroup(list(KINDS), label="Kind (none = all)")
        doc_filter = gr.Dropdown(choices=[], multiselect=True, label="Documents (none = all)")
    search_btn = gr.Button("Search", variant="primary", elem_id="qa-search")
    results = gr.HTML(elem_id="qa-results", js_on_load=REFERENCE_CLICK_JS)
    _reference_view(qa, results, "qa-search-ref-view")

    def on_search(q, n, kind_list, doc_list):
        return search(qa, q, n, kind_list, doc_list)

    for trigger in (query.submit, search_btn.click):
        trigger(on_search, [query, k, kinds, doc_filter], [results], api_visibility="private", **READS)
    return doc_filter


def _reference_view(qa, source: gr.HTML, elem_id: str) -> gr.HTML:
    """A panel under ``source`` where the article a clicked cross-reference names opens."""
    view = gr.HTML("", elem_id=elem_id, js_on_load=REFERENCE_VIEW_JS)

    def on_reference(evt: gr.EventData):
        data = evt._data or {}
        return open_reference(qa, data.get("doc"), data.get("article"), data.get("paragraph"))

    for trigger in (source.click, view.click):  # a reference inside the opened article opens its own target
        trigger(on_reference, None, [view], api_visibility="private", **READS)
    return view


@dataclass
class Confirmation:
    """A hidden box that asks before a change is made: the question and its buttons."""
    row: gr.Column
    question: gr.Markdown
    buttons: list[gr.Button]


def _confirmation(name: str, labels: list[tuple[str, str, str]]) -> Confirmation:
    """``labels``: (key, text, variant) of each button; the elem ids are qa-NAME-KEY."""
    with gr.Column(visible=False, elem_id=f"qa-{name}-confirm", elem_classes="qa-confirm") as row:
        question = gr.Markdown(elem_id=f"qa-{name}-question")
        with gr.Row():
            buttons = [gr.Button(label, variant=variant, size="sm", min_width=90, elem_id=f"qa-{name}-{key}",
                                 scale=0) for key, label, variant in labels]
    return Confirmation(row, question, buttons)


@dataclass
class DocumentControls:
    files: gr.File
    add_btn: gr.Button
    official_btn: gr.Button
    replace: Confirmation
    to_delete: gr.Dropdown
    delete_btn: gr.Button
    confirm_delete: Confirmation
    status: gr.Markdown
    table: gr.Dataframe
    summary: gr.Markdown
    official_urls: object = None  # where "Fetch the official text" looks (None: the publisher)


def _documents_tab(qa, official_urls=None) -> DocumentControls:
    summary = gr.Markdown(elem_id="qa-summary")
    table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, wrap=True, elem_id="qa-table",
                         show_search="search", column_widths=["38%", "9%", "8%", "10%", "8%", "27%"])
    with gr.Row():
        with gr.Column():
            files = gr.File(file_count="multiple", file_types=list(UPLOAD_SUFFIXES),
                            label="Add documents (.md .txt .html .pdf .docx)", elem_id="qa-upload")
            add_btn = gr.Button("Index uploaded files", variant="primary", elem_id="qa-add")
            official_btn = gr.Button("Fetch the official text (《重庆市开发区条例》)", elem_id="qa-official")
            replace = _confirmation("replace", [("replace", "Replace", "stop"), ("keep-both", "Keep both", "primary"),
                                                ("cancel", "Cancel", "secondary")])
        with gr.Column():
            to_delete = gr.Dropdown(choices=[], label="Document to delete", elem_id="qa-delete-doc")
            delete_btn = gr.Button("Delete document", variant="stop", elem_id="qa-delete")
            confirm_delete = _confirmation("delete", [("yes", "Delete", "stop"), ("cancel", "Cancel", "secondary")])
    status = gr.Markdown(elem_id="qa-status")
    return DocumentControls(files, add_btn, official_btn, replace, to_delete, delete_btn, confirm_delete, status, table,
                            summary, official_urls)


def _wire_documents(qa, demo, c: DocumentControls, other_dropdowns: list) -> None:
    """Uploads and deletions refresh the table and every document dropdown (on page load too).

    Both ask first when they would lose something: an upload named like an indexed document
    (replace, keep both, cancel) and every deletion. Progress shows once, on the status line.
    """
    listing = [c.table, c.summary, c.to_delete, *other_dropdowns]
    unchanged = [gr.update() for _ in listing]
    hide = gr.update(visible=False)
    private = {"api_visibility": "private", "show_progress_on": [c.status]}
    pending_delete = gr.State(None)

    def refreshed():
        choices = document_choices(qa)
        return (documents_table(qa), index_summary(qa), gr.update(choices=choices, value=None),
                *(gr.update(choices=choices) for _ in other_dropdowns))

    def indexed(paths, progress, keep_both=False):
        status = upload(qa, paths, progress, upload_root=gr.utils.get_upload_folder(), keep_both=keep_both)
        return (status, None, hide, *refreshed())

    upload_outputs = [c.status, c.files, c.replace.row, *listing]
    ask_outputs = [c.status, c.files, c.replace.row, c.replace.question, *listing]
    replace_btn, keep_both_btn, cancel_btn = c.replace.buttons

    def on_add(paths, progress=gr.Progress()):  # ask first, or index at once
        replaced = replaced_documents(qa, paths)
        if replaced:
            return (gr.update(), gr.update(), gr.update(visible=True), replace_question(replaced), *unchanged)
        status, files, row, *listed = indexed(paths, progress)
        return (status, files, row, gr.update(), *listed)

    c.add_btn.click(on_add, [c.files], ask_outputs, **private)
    replace_btn.click(lambda p, progress=gr.Progress(): indexed(p, progress), [c.files], upload_outputs, **private)
    keep_both_btn.click(lambda p, progress=gr.Progress(): indexed(p, progress, keep_both=True), [c.files],
                        upload_outputs, **private)
    cancel_btn.click(lambda p: (cancel_upload(p, gr.utils.get_upload_folder()), None, hide), [c.files],
                     [c.status, c.files, c.replace.row], **private)
    def on_official(progress=gr.Progress()):
        return (fetch_official(qa, progress, urls=c.official_urls), *refreshed())

    c.official_btn.click(on_official, None, [c.status, *listing], **private)
    c.files.change(lambda: hide, None, [c.replace.row], api_visibility="private", show_progress="hidden")

    def on_delete(doc_id):
        question = delete_question(qa, doc_id)
        if question is None:
            return delete(qa, doc_id), hide, gr.update(), None
        return "", gr.update(visible=True), question, doc_id

    def on_confirm(doc_id):
        return (delete(qa, doc_id), hide, None, *refreshed())

    yes_btn, no_btn = c.confirm_delete.buttons
    c.delete_btn.click(on_delete, [c.to_delete], [c.status, c.confirm_delete.row, c.confirm_delete.question,
                                                  pending_delete], **private)
    yes_btn.click(on_confirm, [pending_delete], [c.status, c.confirm_delete.row, pending_delete, *listing], **private)
    no_btn.click(lambda: ("Nothing was deleted.", hide, None), None,
                 [c.status, c.confirm_delete.row, pending_delete], **private)
    c.to_delete.input(lambda: (hide, None), None, [c.confirm_delete.row, pending_delete], **private)
    demo.load(refreshed, None, listing, api_visibility="private", show_progress="hidden")


def _read_tab(qa) -> gr.Dropdown:
    with gr.Row():
        doc = gr.Dropdown(choices=[], label="Document", scale=3, elem_id="qa-read-doc")
        chapter = gr.Dropdown(choices=[], label="Chapter / section", scale=2, elem_id="qa-read-chapter")
        article = gr.Dropdown(choices=[], label="Article", scale=1, elem_id="qa-read-article")
    reader = gr.HTML(panel("<p>Choose a document.</p>"), elem_id="qa-reader", js_on_load=REFERENCE_CLICK_JS)

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

    def on_reference(evt: gr.EventData):
        """A cross-reference clicked while reading: the reader moves to the article it names."""
        data = evt._data or {}
        doc_id = data.get("doc")
        name, unit = reader_position(qa, doc_id, data.get("article"))
        if unit is None:
            return gr.update(), gr.update(), gr.update(), gr.update()
        units = document_units(qa, doc_id)
        return (gr.update(value=doc_id), gr.update(choices=chapters_of(units), value=name),
                gr.update(choices=articles_of(units, name), value=unit), read_html(qa, doc_id, name, unit))

    reader.click(on_reference, None, [doc, chapter, article, reader], api_visibility="private")
    return doc


def _api_endpoints(qa) -> None:
    """Named endpoints for gradio_client: /ask and /search (JSON in, JSON out)."""
    def ask(question: str, history: Optional[list] = None) -> dict:
        """Answer a question: text with quoted provisions, citations, confidence, abstained, nearest.
        ``history``: earlier answers as /ask returned them (oldest first), for a follow-up such as
        "What about Article 6?"; the answer's ``read_as`` says how it was read, ``focus`` what it is about."""
        try:
            return api_ask(qa, question, history)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from exc

    def search_passages(query: str, k: int = 10) -> list[dict]:
        """Ranked passages for a query: doc, title, article, citation, text, score, matched_terms…"""
        try:
            return api_search(qa, query, k)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from exc

    gr.api(ask, api_name="ask", **READS)
    gr.api(search_passages, api_name="search", **READS)
