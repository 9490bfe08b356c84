"""What the web app does, as plain functions: the Assistant first, plain values in and out.

No Gradio here (the layout binds these to components), so every handler is tested in-process
without a server.
"""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Optional, Sequence

from ..assistant import DEFAULT_CORPUS, USER_ERRORS
from ..document_meta import law_key
from ..filters import Filters, NoMatchingDocuments
from ..highlight import esc, esc_md, highlight
from ..loaders import FILE_SUFFIXES
from ..query import QueryError
from ..versions import IN_FORCE, NOT_YET, SUPERSEDED
from .conversation import add_answer, focus_note, new_conversation
from .conversation import history as conversation_history
from .i18n import stage as stage_name, t
from .render import (NO_CHAPTER, article_label_html, panel, public_dict, passage_units, answer_markdown,  # noqa: F401
                     articles_of, chapters_of, continues_unit, evidence_html, notice_html, passage_card, public_source,
                     reference_links, reference_view_html)

log = logging.getLogger(__name__)

UPLOAD_SUFFIXES = FILE_SUFFIXES  # everything a file can be, but a .jsonl corpus
MAX_K = 50  # passages per search through the app and its API

def chat(assistant, question: str, history: Optional[list] = None, panels: Optional[list] = None):
    """One chat turn → (history, side panel HTML, panels per message, cleared textbox)."""
    return chat_turn(assistant, question, history, panels)[:4]


def chat_turn(assistant, question: str, history: Optional[list] = None, panels: Optional[list] = None,
              conversation: Optional[dict] = None):
    """One chat turn read in the conversation's focus → (history, side panel HTML, panels per message,
    cleared textbox, conversation, focus note). A failed turn adds no answer (its focus stays)."""
    turn = None
    for turn in chat_turns(assistant, question, history, panels, conversation):
        pass
    return turn


def chat_turns(assistant, question: str, history: Optional[list] = None, panels: Optional[list] = None,
               conversation: Optional[dict] = None):
    """``chat_turn`` as it grows, for Gradio to stream: the answer first, then (with a language model)
    the generated answer sentence by sentence, each shown only after it passed the checks. The
    conversation takes the answer in the last turn only (a new conversation object: the turn is done)."""
    history = list(history or [])
    panels = list(panels or [])
    conversation = conversation or new_conversation()
    question = question or ""
    shown = question if len(question) <= 300 else question[:300] + f"… ({len(question)} characters)"

    def turn(reply: str, panel: str, talk: dict):
        asked = {"role": "user", "content": esc_md(shown.strip()) or f"*{esc_md(t('empty_question'))}*"}
        return (history + [asked, {"role": "assistant", "content": reply}], panel, panels + [panel, panel], "",
                talk, focus_note(talk))

    try:
        targets, cited, answer = {}, None, None
        for answer in assistant.ask_stream(question, history=conversation_history(conversation)):
            if answer.citations is not cited:  # they change once at most, when the generated answer is final
                cited = answer.citations
                targets = reference_targets(assistant, [r for c in cited for r in c.hit.references])
            reply, panel = answer_markdown(answer), evidence_html(answer, targets=targets)
            yield turn(reply, panel, conversation)
        yield turn(reply, panel, add_answer(conversation, public_dict(answer.to_dict())))
        return
    except USER_ERRORS as exc:
        reply, panel = f"**{esc_md(t('cannot_answer'))}** {esc_md(exc)}", notice_html(str(exc))
    except Exception as exc:  # the UI shows a message, never a traceback
        log.exception("chat failed")
        reply, panel = f"**{esc_md(t('went_wrong'))}** {esc_md(type(exc).__name__)}", notice_html(str(exc))
    yield turn(reply, panel, add_answer(conversation, None))


def select_turn(panels: Optional[list], index) -> str:
    """The side panel of the chat message the user clicked on."""
    if isinstance(index, (list, tuple)):
        index = index[0]
    if panels and isinstance(index, int) and 0 <= index < len(panels):
        return panels[index]
    return panels[-1] if panels else ""


def narrowing(law=None, doc=None, kind=None, region=None, as_of=None, all_versions: bool = False) -> dict:
    """Filter keywords for ``Assistant.search/ask`` from form or HTTP values: a list, or one string
    with commas between values ("chongqing,national"); empty values do not filter. ``as_of`` is a
    YYYY-MM-DD date or "all"; ``all_versions`` is the app's check box for every version."""
    def values(v) -> list[str]:
        items = [v] if isinstance(v, str) else list(v or [])
        return [part.strip() for item in items for part in str(item).split(",") if part.strip()]

    given = {"laws": values(law), "docs": values(doc), "kinds": values(kind), "regions": values(region)}
    out = {key: v for key, v in given.items() if v}
    as_of = (as_of or "").strip() if isinstance(as_of, str) else as_of
    if all_versions and as_of:
        raise QueryError("choose either a date in force or all versions, not both")
    if all_versions or as_of:
        out["as_of"] = "all" if all_versions else as_of
    Filters.of(**out)  # a bad region or date is reported here, before any search
    return out


def search(assistant, query: str, k: int = 10, kinds: Optional[Sequence[str]] = None,
           docs: Optional[Sequence[str]] = None, laws: Optional[Sequence[str]] = None,
           regions: Optional[Sequence[str]] = None, as_of: Optional[str] = None, all_versions: bool = False) -> str:
    """Ranked passages with matched terms marked, after the Chinese rendering of an English query;
    the filters (kind, document, law, region, date in force) narrow the search itself."""
    try:
        result = assistant.search_result(query, checked_k(k), **narrowing(laws, docs, kinds, regions, as_of,
                                                                           all_versions))
    except NoMatchingDocuments as exc:
        return notice_html(t("no_document_matches", filters=exc.filters.describe()))
    except USER_ERRORS as exc:
        return notice_html(str(exc))
    head = ""
    if result.translation is not None:
        head = (f'<p class="qa-note">{esc(t("translated_query"))} <b>{esc(result.translation.text)}</b>'
                f"<br>{esc(result.translation.explain())}</p>")
    if not result.hits:
        return panel(head + f"<p>{esc(t('no_match'))}</p>")
    # The fused score only orders one result list (its top is always 1.0 after min-max scaling), so
    # what is shown is the cosine similarity of question and passage: comparable across queries.
    cards = "".join(passage_card(h.passage, h.rank, terms=h.matched_terms, references=h.references,
                                 extra=f' <span class="qa-note">{esc(t("similarity"))} {h.dense:.2f}</span>'
                                 if h.dense is not None else "")
                    for h in result.hits)
    return panel(head + cards)


def documents_table(assistant, documents: Optional[Sequence[dict]] = None) -> list[list]:
    """The documents table's rows (``documents``: an ``assistant.documents()`` already read)."""
    return [[d["title"], d["kind"], d["language"], d["date"] or "", d["passages"], d["id"]]
            for d in (assistant.documents() if documents is None else documents)]


def document_choices(assistant, documents: Optional[Sequence[dict]] = None) -> list[tuple[str, str]]:
    """(label, doc id) pairs for dropdowns; Gradio shows labels as text. A version that is not the
    one in force today says so in its label."""
    def label(d: dict) -> str:
        text = f"{d['title']} — {d['id']}" if d["title"] != d["id"] else d["id"]
        if d.get("version"):
            text += f" ({d['version']})"
        return text + (f" [{d['status']}]" if d.get("status") in (SUPERSEDED, NOT_YET) else "")

    return [(label(d), d["id"]) for d in (assistant.documents() if documents is None else documents)]


def law_choices(assistant) -> list[str]:
    """The titles of the indexed laws, once each (versions of one law share a title)."""
    return sorted({d["title"] for d in assistant.documents() if d["kind"] != "news"})


def version_note(document: Optional[dict], documents: Sequence[dict]) -> str:
    """A line above a document in the Read tab: its dates, and a warning when it is superseded
    (naming the version in force today) or not yet in force."""
    if not document:
        return ""
    dates = " · ".join(t(key, day=document[field]) for field, key in (
        ("promulgated", "dates_promulgated"), ("amended", "dates_amended"), ("in_force_from", "dates_in_force"))
        if document.get(field))
    version = f"{document['version_label']} · " if document.get("version_label") else ""
    line = f'<p class="qa-note qa-dates">{esc(version + dates)}</p>' if dates or version else ""
    status = document.get("status")
    if status == SUPERSEDED:
        key = law_key(document["title"])
        current = [d for d in documents if d.get("status") == IN_FORCE and law_key(d["title"]) == key]
        now = t("version_in_force", version=esc(current[0].get("version") or current[0]["id"]),
                day=esc(current[0].get("in_force_from") or "?")) if current else ""
        line += f'<p class="qa-warn qa-superseded">{t("superseded_version")}{now}</p>'
    elif status == NOT_YET:
        line += f'<p class="qa-warn qa-not-yet">{t("not_yet_in_force", day=esc(document.get("in_force_from") or "?"))}</p>'
    return line


def index_summary(assistant, documents: Optional[Sequence[dict]] = None) -> str:
    docs = assistant.documents() if documents is None else documents
    passages = sum(d["passages"] for d in docs)
    return t("summary", documents=len(docs), passages=passages)


def _eta_reporter(progress):
    """A progress callback for ``Assistant.add`` that drives a Gradio progress bar with the stage and,
    once a stage has run a few seconds, the time left at its measured rate."""
    started: dict[str, float] = {}

    def report(stage: str, done: int, total: int) -> None:
        if progress is None:
            return
        begun = started.setdefault(stage, time.monotonic())
        elapsed = time.monotonic() - begun
        desc = stage_name(stage)
        if 0 < done < total and elapsed > 3:
            left = elapsed / done * (total - done)
            desc += " — " + (t("minutes_left", n=f"{left / 60:.0f}") if left >= 90 else t("seconds_left", n=f"{left:.0f}"))
        progress((done, total), desc=desc)

    return report


def discard_uploads(paths: Sequence[Path], upload_root: str | Path) -> None:
    """Delete the web server's temporary copies of uploaded files (their text now lives in the index).

    Only files inside ``upload_root`` (Gradio's upload folder) are touched, never a path outside it.
    """
    root = Path(upload_root).resolve()
    for path in paths:
        resolved = Path(path).resolve()
        if resolved.is_relative_to(root) and resolved != root:
            resolved.unlink(missing_ok=True)
            if resolved.parent != root:
                shutil.rmtree(resolved.parent, ignore_errors=True)


def _upload_paths(files: Optional[Sequence]) -> list[Path]:
    return [Path(str(getattr(f, "name", f))) for f in (files or [])]


def replaced_documents(assistant, files: Optional[Sequence]) -> list[dict]:
    """The indexed documents that uploading ``files`` would replace: an uploaded file's document id
    is its file name, so a file named like an indexed document takes its place."""
    indexed = {d["id"]: d for d in assistant.documents()}
    return [indexed[p.name] for p in _upload_paths(files) if p.name in indexed]


def replace_question(replaced: Sequence[dict]) -> str:
    """The question asked before an upload replaces indexed documents (Markdown)."""
    names = "\n".join(f"- **{esc_md(d['id'])}**: {esc_md(d['title'])} ({t('n_passages', passages=d['passages'])})"
                      for d in replaced)
    return f"{t('already_indexed', count=len(replaced))}\n\n{names}\n\n{t('replace_choices')}"


def keep_both_copies(assistant, paths: Sequence[Path]) -> list[Path]:
    """``paths``, each one named like an indexed document copied beside itself under the first free
    name, ``rules (2).md``, ``rules (3).md``…, so that both documents stay in the index."""
    indexed = {d["id"] for d in assistant.documents()}
    kept = []
    for path in paths:
        if path.name in indexed:
            n = 2
            while f"{path.stem} ({n}){path.suffix}" in indexed or (path.parent / f"{path.stem} ({n}){path.suffix}").exists():
                n += 1
            path = Path(shutil.copy2(path, path.parent / f"{path.stem} ({n}){path.suffix}"))
            indexed.add(path.name)
        kept.append(path)
    return kept


def upload(assistant, files: Optional[Sequence[str]], progress=None, upload_root: str | Path | None = None,
           keep_both: bool = False) -> str:
    """Index uploaded files incrementally; the status names every rejected file and the reason.

    A file named like an indexed document replaces it, or with ``keep_both`` is indexed under a
    new name (``keep_both_copies``). Each file fails alone; the temporary copies in
    ``upload_root`` are deleted afterwards, whatever happened.
    """
    paths = _upload_paths(files)
    if not paths:
        return t("choose_files")
    indexed = paths
    try:
        if keep_both:
            indexed = keep_both_copies(assistant, paths)
        return _index_uploads(assistant, indexed, progress)
    finally:
        if upload_root is not None:
            discard_uploads(list(dict.fromkeys([*paths, *indexed])), upload_root)


def _index_uploads(assistant, paths: list[Path], progress) -> str:
    accepted = [p for p in paths if p.suffix.lower() in UPLOAD_SUFFIXES]
    rejected = [(p.name, f"unsupported format {p.suffix or '(no extension)'}; "
                         f"supported: {' '.join(UPLOAD_SUFFIXES)}") for p in paths if p not in accepted]
    lines = []
    if accepted:
        try:
            report = assistant.add([str(p) for p in accepted], show_progress=False, progress=_eta_reporter(progress))
        except USER_ERRORS as exc:
            return t("nothing_indexed", error=esc_md(exc))
        rejected += [(Path(e.source).name, e.reason) for e in report.skipped]
        if report.added:
            lines.append(t("indexed", count=len(report.added), passages=report.passages, seconds=f"{report.seconds:.1f}",
                           names=", ".join(f"**{esc_md(d)}**" for d in report.added)))
    if rejected:
        lines.append(t("rejected", count=len(rejected)) + "\n\n"
                     + "\n".join(f"- **{esc_md(name)}**: {esc_md(reason)}" for name, reason in rejected))
    return "\n\n".join(lines) or t("nothing_to_index")


def fetch_official(assistant, progress=None, urls: Optional[Sequence[str]] = None) -> str:
    """The Documents tab's "Fetch the official text": fetched, extracted and indexed, or one line saying
    why not (no network: how to add a saved copy by hand)."""
    from ..official import official_summary

    try:
        report = assistant.add_official(urls=urls, progress=_eta_reporter(progress))
    except USER_ERRORS as exc:
        return f"**{esc_md(t('not_fetched'))}** {esc_md(exc)}"
    return esc_md(official_summary(report))


def cancel_upload(files: Optional[Sequence], upload_root: str | Path) -> str:
    """The user said no to replacing: the uploaded copies are deleted, the index is untouched."""
    discard_uploads(_upload_paths(files), upload_root)
    return t("upload_cancelled")


def delete_question(assistant, doc_id: Optional[str]) -> Optional[str]:
    """What to confirm before ``doc_id`` is deleted (Markdown), or None when there is no such document."""
    found = [d for d in assistant.documents() if d["id"] == doc_id] if doc_id else []
    if not found:
        return None
    doc = found[0]
    text = t("delete_question", title=esc_md(doc["title"]), id=esc_md(doc["id"]), passages=doc["passages"])
    if (DEFAULT_CORPUS / doc["id"]).is_file():
        text += t("delete_bundled", id=esc_md(doc["id"]))
    return text


def delete(assistant, doc_id: Optional[str]) -> str:
    if not doc_id:
        return t("choose_delete")
    try:
        report = assistant.remove([doc_id])
    except USER_ERRORS as exc:
        return t("could_not_delete", error=esc_md(exc))
    if report.removed:
        return t("deleted", doc=esc_md(doc_id))
    reasons = "; ".join(e.reason for e in report.skipped) or "not found"
    return t("could_not_delete_doc", doc=esc_md(doc_id), reasons=esc_md(reasons))


def document_units(assistant, doc_id: Optional[str]) -> list[tuple[str, Optional[str], str]]:
    """(chapter, article, text) in reading order; pieces of one long article are joined again."""
    return passage_units(assistant.document(doc_id)) if doc_id else []


def read_html(assistant, doc_id: Optional[str], chapter: Optional[str] = None,
              unit: Optional[str] = None) -> str:
    """One article (``unit`` given) or a whole chapter of a document, escaped."""
    passages = assistant.document(doc_id) if doc_id else []
    units = passage_units(passages)
    if not units:
        return panel(f"<p>{esc(t('choose_document'))}</p>")
    title = passages[0].title
    links = unit_links(passages, assistant.references(passages) or {})
    if unit not in (None, "") and str(unit).isdigit() and int(unit) < len(units):
        picked = [int(unit)]
    else:
        picked = [i for i, u in enumerate(units) if chapter in (None, "", u[0])]
    body = "".join(f'<div class="qa-card">{article_label_html(units[i][1], units[i][2])}'
                   f'<div class="qa-text">{highlight(units[i][2], links=links[i], markdown=True)}</div></div>' for i in picked)
    picked = [units[i] for i in picked]
    heading = esc(picked[0][0]) if picked and picked[0][0] != NO_CHAPTER else ""
    documents = assistant.documents()
    note = version_note(next((d for d in documents if d["id"] == doc_id), None), documents)
    return panel(f"<h3>{esc(title)}</h3>{note}<p class=\"qa-note\">{heading}</p>{body}")


# ---------------------------------------------------------------- cross-references


def unit_links(passages, references: dict) -> list[list[tuple[int, int, str]]]:
    """Reference links of each reading unit of ``passage_units`` (pieces of one article joined again)."""
    links: list[list] = []
    previous, offset = None, 0
    for p in passages:
        if not (links and continues_unit(previous, p)):
            links.append([])
            offset = 0
        links[-1] += [(offset + s, offset + e, tag) for s, e, tag in reference_links(references.get(p.id, []))]
        offset += len(p.text) + 1
        previous = p
    return links


def reference_targets(assistant, references) -> dict:
    """(doc, article) → the article's text, for every resolved reference (the "refers to" blocks)."""
    targets = {}
    for r in references:
        if r.resolved and (r.doc, r.article) not in targets:
            targets[(r.doc, r.article)] = "\n".join(p.text for p in assistant.article(r.doc, r.article))
    return targets


def open_reference(assistant, doc: Optional[str], article: Optional[str], paragraph=None) -> str:
    """The article a clicked reference names, for the panel beside the provision that names it."""
    if not doc or not article:
        return ""
    try:
        passages = assistant.article(doc, article)
        references = assistant.references(passages) if passages else {}
    except USER_ERRORS as exc:
        return notice_html(str(exc))
    number = int(paragraph) if str(paragraph or "").isdigit() else None
    return reference_view_html(passages, number, references)


def reader_position(assistant, doc: Optional[str], article: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """(chapter, unit index) of an article in the Read tab, to move the reader there."""
    for i, (chapter, label, _) in enumerate(document_units(assistant, doc)):
        if label == article:
            return chapter, str(i)
    return None, None


def checked_k(k) -> int:
    """The number of passages a caller may ask for: 1 to MAX_K (the whole index is not an answer)."""
    try:
        value = int(k)
    except (TypeError, ValueError) as exc:
        raise QueryError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}") from exc
    if not 1 <= value <= MAX_K:
        raise QueryError(f"k must be from 1 to {MAX_K}, not {value}")
    return value


def api_ask(assistant, question: str, history: Optional[list] = None, law=None, doc=None, kind=None, region=None,
            as_of=None) -> dict:
    """/ask: ``history`` is a list of earlier answers (as /ask returned them) or ``{"question", "law",
    "article"}`` objects, for a follow-up; the answer's ``read_as`` says how it was read. The filters
    are as in ``narrowing`` (a bad value is an error, not a guess)."""
    return public_dict(assistant.ask(question, history=history, **narrowing(law, doc, kind, region, as_of)).to_dict())


def api_search(assistant, query: str, k: int = 10, law=None, doc=None, kind=None, region=None,
               as_of=None) -> list[dict]:
    """/search: ranked passages as JSON, filtered as in ``narrowing``."""
    return public_dict([h.to_dict() for h in
                        assistant.search(query, checked_k(k), **narrowing(law, doc, kind, region, as_of))])


def warm_up(assistant) -> None:
    """``Assistant.warm_up``, but an empty or broken index still serves (and says so when asked)."""
    try:
        assistant.warm_up()
    except USER_ERRORS as exc:
        log.warning("warm-up question failed: %s", exc)
