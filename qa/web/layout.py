"""The Gradio layout: components and the bindings of ``handlers`` to them; nothing else.

Every word of the interface follows the language control (English or Chinese; at first the
browser's language): labels are painted by Gradio's i18n (``TRANSLATIONS``) and re-labelled on a
switch (``Words``); handlers run inside ``use_language`` so their HTML and messages match.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import gradio as gr

from ..highlight import esc
from ..document_meta import REGIONS
from ..models import KINDS
from ..assistant import USER_ERRORS
from .conversation import (clear_focus, discard_downloads, focus_note, new_conversation, select_answer,
                           write_downloads)
from .handlers import (MAX_K, UPLOAD_SUFFIXES, api_ask, api_search, articles_of, chapters_of, chat_turns,
                       cancel_upload, delete, delete_question, document_choices, document_units, documents_table,
                       fetch_official, index_summary, law_choices, open_reference, read_html, reader_position,
                       replace_question, replaced_documents, search, select_turn, upload)
from .i18n import LANGUAGES, gradio_translations, language_of, t, use_language
from .render import REFERENCE_CLICK_JS, REFERENCE_VIEW_JS, panel, panel_placeholder

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
DEFAULT_TITLE = "Regulation Q&A"
TABLE_COLUMNS = ["col_title", "col_kind", "col_language", "col_date", "col_passages", "col_id"]
TABLE_HEADERS = [t(key, "en") for key in TABLE_COLUMNS]
TRANSLATIONS = gr.I18n(**gradio_translations())  # handed to launch(); labels below are its keys
LANGUAGE_STORE = {"storage_key": "qa-language", "secret": "qa-language"}  # the choice, kept in the browser


class Words:
    """The components whose words follow the language: made with i18n keys (so the first page is
    already in the browser's language), re-labelled with ``updates`` when the user switches."""

    def __init__(self):
        self.items: list[tuple[gr.components.Component, dict[str, str]]] = []

    def __call__(self, cls, keys: dict[str, str], **kwargs):
        """``cls(**kwargs)`` with each property in ``keys`` (label, value, placeholder) set from its key."""
        return self.add(cls(**{prop: TRANSLATIONS(key) for prop, key in keys.items()}, **kwargs), keys)

    def add(self, component, keys: dict[str, str]):
        self.items.append((component, keys))
        return component

    @property
    def components(self) -> list:
        return [c for c, _ in self.items]

    def updates(self, language: str) -> list:
        return [gr.update(**{prop: t(key, language) for prop, key in keys.items()}) for _, keys in self.items]


def table_value(qa, language: str, documents=None) -> dict:
    """The documents table with its headers in ``language``."""
    return {"headers": [t(key, language) for key in TABLE_COLUMNS], "data": documents_table(qa, documents)}


def build_app(assistant, title: str = DEFAULT_TITLE, official_urls=None) -> gr.Blocks:
    """The Gradio Blocks app over one Assistant (serve it with ``launch``); ``official_urls`` replaces the
    publisher's address for "Fetch the official text" (a mirror)."""
    qa = assistant  # reads never wait for uploads: the Assistant swaps index generations atomically
    words = Words()
    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        with gr.Row(equal_height=True):
            with gr.Column(scale=1):
                if title == DEFAULT_TITLE:
                    words(gr.Markdown, {"value": "app_header"}, elem_id="qa-intro")
                else:  # the caller's own title, in whatever language it is written
                    gr.Markdown(f"## {esc(title)}", elem_id="qa-heading")
                    words(gr.Markdown, {"value": "app_intro"}, elem_id="qa-intro")
            language = gr.Radio([(name, code) for code, name in LANGUAGES.items()], value="en", scale=0,
                                min_width=230, elem_id="qa-language", label="Language / 语言")
        saved = gr.BrowserState(None, **LANGUAGE_STORE)
        with gr.Tabs():
            with words(gr.Tab, {"label": "tab_chat"}, id="chat"):
                chat_panel, panels = _chat_tab(qa, words, language)
            with words(gr.Tab, {"label": "tab_search"}, id="search"):
                doc_filter = _search_tab(qa, words, language)
            with words(gr.Tab, {"label": "tab_documents"}, id="documents"):
                documents = _documents_tab(qa, words, official_urls)
            with words(gr.Tab, {"label": "tab_read"}, id="read"):
                read_doc, reader = _read_tab(qa, words, language)
        listing = _wire_documents(qa, documents, [doc_filter, read_doc], language)
        _wire_language(qa, demo, words, language, saved, listing, (chat_panel, panels), (read_doc, reader))
        _api_endpoints(qa)
    return demo


def _wire_language(qa, demo, words: Words, language, saved, listing, chat_state, read_state) -> None:
    """The page opens in the saved choice, else the browser's language (Accept-Language), with the
    documents listed; the control switches every label, the table and the still-empty panels."""
    listed, refreshed = listing
    panel_html, panels = chat_state
    read_doc, reader = read_state
    outputs = [language, saved, *words.components, panel_html, reader, *listed]

    def relabelled(code, panel_list, doc_id, loading=False):
        with use_language(code):
            if loading:
                documents = refreshed(code)
            else:
                docs = qa.documents()
                documents = (table_value(qa, code, docs), index_summary(qa, docs), *(gr.update() for _ in listed[2:]))
            return (code, code, *words.updates(code), gr.update() if panel_list else panel_placeholder(),
                    gr.update() if doc_id else read_html(qa, None), *documents)

    def on_load(stored, panel_list, doc_id, request: gr.Request):
        browser = request.headers.get("accept-language") if request is not None else None
        return relabelled(stored if stored in LANGUAGES else language_of(browser), panel_list, doc_id, loading=True)

    demo.load(on_load, [saved, panels, read_doc], outputs, api_visibility="private", show_progress="hidden")
    language.input(relabelled, [language, panels, read_doc], outputs, api_visibility="private",
                   show_progress="hidden")


def _chat_tab(qa, words: Words, language) -> tuple[gr.HTML, gr.State]:
    with gr.Row():
        with gr.Column(scale=3):
            # No "share" button (it posts to Hugging Face; this app runs offline); the toolbar is
            # moved above the messages by CSS (render.CSS).
            chatbot = words(gr.Chatbot, {"label": "conversation"}, show_label=False, height=480, latex_delimiters=[],
                            elem_id="qa-chatbot", allow_tags=False, buttons=["copy", "copy_all"])
            with gr.Row():
                question = words(gr.Textbox, {"placeholder": "ask_placeholder"}, show_label=False, scale=5,
                                 max_lines=4, elem_id="qa-question")
                ask_btn = words(gr.Button, {"value": "ask"}, variant="primary", scale=1, elem_id="qa-ask")
            focus = gr.Markdown(elem_id="qa-focus")
            examples = gr.Examples(EXAMPLES, inputs=[question], label=TRANSLATIONS("examples"))
            words.add(examples.dataset, {"label": "examples"})
            with gr.Row():
                clear_btn = words(gr.Button, {"value": "clear_conversation"}, size="sm")
                clear_focus_btn = words(gr.Button, {"value": "clear_focus"}, size="sm", elem_id="qa-clear-focus")
            downloads = _download_buttons(words)
        with gr.Column(scale=2):
            panel = gr.HTML(panel_placeholder(), elem_id="qa-evidence", js_on_load=REFERENCE_CLICK_JS, max_height=760)
            _reference_view(qa, panel, "qa-ref-view", language)
    panels = gr.State([])  # the side panel of every message, for clicking back to an earlier answer
    conversation = gr.State(None)  # answers (the next question's history), focus, downloads; made on first use

    def download_updates(state):
        paths = write_downloads(state) or [None] * len(downloads)
        return [gr.update(value=str(p) if p else None, interactive=p is not None) for p in paths]

    def on_ask(q, history, state, talk, code):  # a generator: Gradio streams each checked sentence
        turns = chat_turns(qa, q, history, state, talk)
        box = ""  # emptied by the first update only: the next question may be typed while this one streams
        while True:
            with use_language(code):  # around each step: Gradio may run each on another thread
                step = next(turns, None)
                if step is None:
                    return
                *shown, _, turn_talk, note = step
                done = turn_talk is not talk  # the conversation took the answer: the last update
                downloads_now = download_updates(turn_talk) if done else [gr.update()] * len(downloads)
            yield (*shown, box, turn_talk, note, *downloads_now)
            box = gr.update()

    def on_select(state, talk, evt: gr.SelectData):
        talk = select_answer(talk, evt.index)
        return (select_turn(state, evt.index), talk, *download_updates(talk))

    def on_clear_focus(talk, code):
        with use_language(code):
            talk = clear_focus(talk)
            return talk, focus_note(talk)

    def on_clear(old, code):
        discard_downloads(old)
        talk = new_conversation()
        with use_language(code):
            return ([], panel_placeholder(), [], talk, "", *download_updates(talk))

    inputs = [question, chatbot, panels, conversation, language]
    outputs = [chatbot, panel, panels, question, conversation, focus, *downloads]
    for trigger in (question.submit, ask_btn.click):  # asked while an answer streams: runs when it is done
        trigger(on_ask, inputs, outputs, api_visibility="private", trigger_mode="always_last", **READS)
    cleared = [chatbot, panel, panels, conversation, focus, *downloads]
    clear_btn.click(on_clear, [conversation, language], cleared, api_visibility="private")
    chatbot.clear(on_clear, [conversation, language], cleared, api_visibility="private")  # the chat's own trash button
    clear_focus_btn.click(on_clear_focus, [conversation, language], [conversation, focus], api_visibility="private")
    chatbot.select(on_select, [panels, conversation], [panel, conversation, *downloads], api_visibility="private")
    return panel, panels


def _download_buttons(words: Words) -> list:
    """Downloads of the conversation and of the chosen answer (the last one, or the one clicked)."""
    buttons = []
    with gr.Row():
        for what in ("conversation", "answer"):
            for suffix in ("md", "docx"):
                buttons.append(words(gr.DownloadButton, {"label": f"download_{what}_{suffix}"}, size="sm",
                                     interactive=False, elem_id=f"qa-download-{what}-{suffix}"))
    return buttons


def _search_tab(qa, words: Words, language) -> gr.Dropdown:
    with gr.Row():
        query = words(gr.Textbox, {"label": "query"}, scale=4, elem_id="qa-query")
        k = words(gr.Slider, {"label": "k_passages"}, minimum=1, maximum=MAX_K, value=10, step=1, scale=1)
    with gr.Row():
        kinds = words(gr.CheckboxGroup, {"label": "kind_filter"}, choices=list(KINDS))
        doc_filter = words(gr.Dropdown, {"label": "documents_filter"}, choices=[], multiselect=True)
    with gr.Row(elem_id="qa-filters"):
        law_filter = words(gr.Dropdown, {"label": "laws_filter"}, choices=[], multiselect=True, elem_id="qa-filter-law")
        regions = words(gr.CheckboxGroup, {"label": "region_filter"}, choices=list(REGIONS), elem_id="qa-filter-region")
        as_of = words(gr.Textbox, {"label": "as_of_filter"}, max_lines=1, elem_id="qa-filter-as-of")
        all_versions = words(gr.Checkbox, {"label": "all_versions"}, elem_id="qa-filter-all-versions")
    search_btn = words(gr.Button, {"value": "search"}, variant="primary", elem_id="qa-search")
    results = gr.HTML(elem_id="qa-results", js_on_load=REFERENCE_CLICK_JS)
    _reference_view(qa, results, "qa-search-ref-view", language)

    def on_search(q, n, kind_list, doc_list, law_list, region_list, day, every, code):
        with use_language(code):
            return search(qa, q, n, kind_list, doc_list, law_list, region_list, day, every)

    inputs = [query, k, kinds, doc_filter, law_filter, regions, as_of, all_versions, language]
    for trigger in (query.submit, as_of.submit, search_btn.click):
        trigger(on_search, inputs, [results], api_visibility="private", **READS)
    law_filter.focus(lambda: gr.update(choices=law_choices(qa)), None, [law_filter], api_visibility="private")
    return doc_filter


def _reference_view(qa, source: gr.HTML, elem_id: str, language) -> gr.HTML:
    """A panel under ``source`` where the article a clicked cross-reference names opens."""
    view = gr.HTML("", elem_id=elem_id, js_on_load=REFERENCE_VIEW_JS)

    def on_reference(code, evt: gr.EventData):
        data = evt._data or {}
        with use_language(code):
            return open_reference(qa, data.get("doc"), data.get("article"), data.get("paragraph"))

    for trigger in (source.click, view.click):  # a reference inside the opened article opens its own target
        trigger(on_reference, [language], [view], api_visibility="private", **READS)
    return view


@dataclass
class Confirmation:
    """A hidden box that asks before a change is made: the question and its buttons."""
    row: gr.Column
    question: gr.Markdown
    buttons: list[gr.Button]


def _confirmation(words: Words, name: str, labels: list[tuple[str, str, str]]) -> Confirmation:
    """``labels``: (id, words key, variant) of each button; the elem ids are qa-NAME-ID."""
    with gr.Column(visible=False, elem_id=f"qa-{name}-confirm", elem_classes="qa-confirm") as row:
        question = gr.Markdown(elem_id=f"qa-{name}-question")
        with gr.Row():
            buttons = [words(gr.Button, {"value": key}, variant=variant, size="sm", min_width=90,
                             elem_id=f"qa-{name}-{ident}", scale=0) for ident, key, variant in labels]
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


def _documents_tab(qa, words: Words, official_urls=None) -> DocumentControls:
    summary = gr.Markdown(elem_id="qa-summary")
    table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, wrap=True, elem_id="qa-table",
                         show_search="search", column_widths=["38%", "9%", "8%", "10%", "8%", "27%"])
    with gr.Row():
        with gr.Column():
            files = words(gr.File, {"label": "add_documents"}, file_count="multiple",
                          file_types=list(UPLOAD_SUFFIXES), elem_id="qa-upload")
            add_btn = words(gr.Button, {"value": "index_uploads"}, variant="primary", elem_id="qa-add")
            official_btn = words(gr.Button, {"value": "fetch_official"}, elem_id="qa-official")
            replace = _confirmation(words, "replace", [("replace", "replace", "stop"),
                                                       ("keep-both", "keep_both", "primary"),
                                                       ("cancel", "cancel", "secondary")])
        with gr.Column():
            to_delete = words(gr.Dropdown, {"label": "document_to_delete"}, choices=[], elem_id="qa-delete-doc")
            delete_btn = words(gr.Button, {"value": "delete_document"}, variant="stop", elem_id="qa-delete")
            confirm_delete = _confirmation(words, "delete", [("yes", "delete", "stop"), ("cancel", "cancel", "secondary")])
    status = gr.Markdown(elem_id="qa-status")
    return DocumentControls(files, add_btn, official_btn, replace, to_delete, delete_btn, confirm_delete, status, table,
                            summary, official_urls)


def _wire_documents(qa, c: DocumentControls, other_dropdowns: list, language):
    """Uploads and deletions refresh the table and every document dropdown; returns the listing
    components and the function that refreshes them (the page load calls it too).

    Both ask first when they would lose something: an upload named like an indexed document
    (replace, keep both, cancel) and every deletion. Progress shows once, on the status line.
    """
    listing = [c.table, c.summary, c.to_delete, *other_dropdowns]
    unchanged = [gr.update() for _ in listing]
    hide = gr.update(visible=False)
    private = {"api_visibility": "private", "show_progress_on": [c.status]}
    pending_delete = gr.State(None)
    upload_root = gr.utils.get_upload_folder

    def refreshed(code):
        docs = qa.documents()  # one read of the index's document list for the table, summary and dropdowns
        choices = document_choices(qa, docs)
        return (table_value(qa, code, docs), index_summary(qa, docs), gr.update(choices=choices, value=None),
                *(gr.update(choices=choices) for _ in other_dropdowns))

    def indexed(paths, code, progress, keep_both=False):
        with use_language(code):
            status = upload(qa, paths, progress, upload_root=upload_root(), keep_both=keep_both)
            return (status, None, hide, *refreshed(code))

    def on_add(paths, code, progress=gr.Progress()):  # ask first, or index at once
        with use_language(code):
            replaced = replaced_documents(qa, paths)
            if replaced:
                return (gr.update(), gr.update(), gr.update(visible=True), replace_question(replaced), *unchanged)
            status, files, row, *listed = indexed(paths, code, progress)
            return (status, files, row, gr.update(), *listed)

    def on_cancel(paths, code):
        with use_language(code):
            return cancel_upload(paths, upload_root()), None, hide

    upload_outputs = [c.status, c.files, c.replace.row, *listing]
    replace_btn, keep_both_btn, cancel_btn = c.replace.buttons
    c.add_btn.click(on_add, [c.files, language], [c.status, c.files, c.replace.row, c.replace.question, *listing],
                    **private)
    replace_btn.click(lambda p, code, progress=gr.Progress(): indexed(p, code, progress), [c.files, language],
                      upload_outputs, **private)
    keep_both_btn.click(lambda p, code, progress=gr.Progress(): indexed(p, code, progress, keep_both=True),
                        [c.files, language], upload_outputs, **private)
    cancel_btn.click(on_cancel, [c.files, language], [c.status, c.files, c.replace.row], **private)
    def on_official(code, progress=gr.Progress()):
        with use_language(code):
            return (fetch_official(qa, progress, urls=c.official_urls), *refreshed(code))

    c.official_btn.click(on_official, [language], [c.status, *listing], **private)
    c.files.change(lambda: hide, None, [c.replace.row], api_visibility="private", show_progress="hidden")

    def on_delete(doc_id, code):
        with use_language(code):
            question = delete_question(qa, doc_id)
            if question is None:
                return delete(qa, doc_id), hide, gr.update(), None
            return "", gr.update(visible=True), question, doc_id

    def on_confirm(doc_id, code):
        with use_language(code):
            return (delete(qa, doc_id), hide, None, *refreshed(code))

    yes_btn, no_btn = c.confirm_delete.buttons
    c.delete_btn.click(on_delete, [c.to_delete, language], [c.status, c.confirm_delete.row, c.confirm_delete.question,
                                                            pending_delete], **private)
    yes_btn.click(on_confirm, [pending_delete, language], [c.status, c.confirm_delete.row, pending_delete, *listing],
                  **private)
    no_btn.click(lambda code: (t("nothing_deleted", code), hide, None), [language],
                 [c.status, c.confirm_delete.row, pending_delete], **private)
    # Choosing another document hides an open question in the browser itself: a server round trip could
    # land after the next Delete click's and hide the question it had just asked.
    c.to_delete.input(lambda: gr.Column(visible=False), None, [c.confirm_delete.row], js=True, **private)
    return listing, refreshed


def _read_tab(qa, words: Words, language) -> tuple[gr.Dropdown, gr.HTML]:
    with gr.Row():
        doc = words(gr.Dropdown, {"label": "document"}, choices=[], scale=3, elem_id="qa-read-doc")
        chapter = words(gr.Dropdown, {"label": "chapter"}, choices=[], scale=2, elem_id="qa-read-chapter")
        article = words(gr.Dropdown, {"label": "article"}, choices=[], scale=1, elem_id="qa-read-article")
    reader = gr.HTML(read_html(qa, None), elem_id="qa-reader", js_on_load=REFERENCE_CLICK_JS)

    def on_document(doc_id, code):
        with use_language(code):
            units = document_units(qa, doc_id)
            chapters = chapters_of(units)
            first = chapters[0] if chapters else None
            return (gr.update(choices=chapters, value=first),
                    gr.update(choices=articles_of(units, first), value=None), read_html(qa, doc_id, first))

    def on_chapter(doc_id, name, code):
        with use_language(code):
            units = document_units(qa, doc_id)
            return gr.update(choices=articles_of(units, name), value=None), read_html(qa, doc_id, name)

    def on_article(doc_id, name, unit, code):
        with use_language(code):
            return read_html(qa, doc_id, name, unit)

    doc.input(on_document, [doc, language], [chapter, article, reader], api_visibility="private")
    chapter.input(on_chapter, [doc, chapter, language], [article, reader], api_visibility="private")
    article.input(on_article, [doc, chapter, article, language], [reader], api_visibility="private")

    def on_reference(code, evt: gr.EventData):
        """A cross-reference clicked while reading: the reader moves to the article it names."""
        data = evt._data or {}
        doc_id = data.get("doc")
        name, unit = reader_position(qa, doc_id, data.get("article"))
        if unit is None:
            return gr.update(), gr.update(), gr.update(), gr.update()
        units = document_units(qa, doc_id)
        with use_language(code):
            return (gr.update(value=doc_id), gr.update(choices=chapters_of(units), value=name),
                    gr.update(choices=articles_of(units, name), value=unit), read_html(qa, doc_id, name, unit))

    reader.click(on_reference, [language], [doc, chapter, article, reader], api_visibility="private")
    return doc, reader


def _api_endpoints(qa) -> None:
    """Named endpoints for gradio_client: /ask and /search (JSON in, JSON out)."""
    def ask(question: str, history: Optional[list] = None, law: str = "", doc: str = "", kind: str = "",
            region: str = "", as_of: str = "") -> dict:
        """Answer a question: text with quoted provisions, citations, confidence, abstained, nearest.
        ``history``: earlier answers as /ask returned them (oldest first), for a follow-up such as
        "What about Article 6?"; the answer's ``read_as`` says how it was read, ``focus`` what it is about.
        Filters (comma-separated values): law, doc, kind, region (chongqing/national/other), as_of
        (YYYY-MM-DD: the versions in force that day; "all": every version; empty: today)."""
        try:
            return api_ask(qa, question, history, law, doc, kind, region, as_of)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from exc

    def search_passages(query: str, k: int = 10, law: str = "", doc: str = "", kind: str = "", region: str = "",
                        as_of: str = "") -> list[dict]:
        """Ranked passages for a query: doc, title, article, citation, text, score, matched_terms…
        Filters as for /ask."""
        try:
            return api_search(qa, query, k, law, doc, kind, region, as_of)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from exc

    gr.api(ask, api_name="ask", **READS)
    gr.api(search_passages, api_name="search", **READS)
