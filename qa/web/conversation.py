"""One chat conversation as the app keeps it: its answers, where its focus starts, its downloads.

Plain values (a dict in a ``gr.State``), no Gradio: the answers are kept as ``to_dict()`` so
they are the history of the next question (``Assistant.ask(history=…)``) and what the
downloads are written from; a turn that failed (an empty question) holds None, so that the
n-th answer stays the n-th pair of chat messages. "Clear focus" keeps the answers but starts
the history afresh.
"""
from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Optional

from ..focus import latest_focus, turns_of
from ..highlight import esc_md
from ..export import to_docx, to_markdown
from .i18n import t

EXPORT_ROOT = Path(tempfile.gettempdir()) / "qa-exports"
DOWNLOADS = ("conversation.md", "conversation.docx", "answer.md", "answer.docx")


def new_conversation() -> dict:
    return {"answers": [], "since": 0, "selected": None, "id": uuid.uuid4().hex}


def history(conversation: Optional[dict]) -> list[dict]:
    """The answers a follow-up leans on: those since the focus was last cleared."""
    conversation = conversation or new_conversation()
    return [a for a in conversation["answers"][conversation["since"]:] if a is not None]


def add_answer(conversation: Optional[dict], answer: Optional[dict]) -> dict:
    conversation = dict(conversation or new_conversation())
    conversation["answers"] = [*conversation["answers"], answer]
    conversation["selected"] = None  # "this answer" is the newest until another one is clicked
    return conversation


def clear_focus(conversation: Optional[dict]) -> dict:
    conversation = dict(conversation or new_conversation())
    conversation["since"] = len(conversation["answers"])
    return conversation


def select_answer(conversation: Optional[dict], message_index) -> dict:
    """Remember which answer the user clicked (chat messages alternate question, answer)."""
    conversation = dict(conversation or new_conversation())
    if isinstance(message_index, (list, tuple)):
        message_index = message_index[0]
    if isinstance(message_index, int) and 0 <= message_index // 2 < len(conversation["answers"]):
        conversation["selected"] = message_index // 2
    return conversation


def focus_note(conversation: Optional[dict]) -> str:
    """A line naming the law follow-up questions are read in (empty when there is none)."""
    focus = latest_focus(turns_of(history(conversation)))
    if focus is None:
        return ""
    return t("focus_note", law=esc_md(focus.label()))


def selected_answer(conversation: Optional[dict]) -> Optional[dict]:
    answers = (conversation or {}).get("answers") or []
    chosen = conversation.get("selected") if conversation else None
    if isinstance(chosen, int) and 0 <= chosen < len(answers) and answers[chosen] is not None:
        return answers[chosen]
    return next((a for a in reversed(answers) if a is not None), None)


def write_downloads(conversation: Optional[dict], root: Path = EXPORT_ROOT) -> Optional[list[Path]]:
    """The conversation and the chosen answer as .md and .docx files (in ``DOWNLOADS`` order), in a
    folder of this conversation's own; None when nothing has been answered yet."""
    answer = selected_answer(conversation)
    if answer is None:
        return None
    folder = root / conversation["id"]
    folder.mkdir(parents=True, exist_ok=True)
    answers = [a for a in conversation["answers"] if a is not None]
    paths = [folder / name for name in DOWNLOADS]
    paths[0].write_text(to_markdown(answers), encoding="utf-8")
    paths[1].write_bytes(to_docx(answers))
    paths[2].write_text(to_markdown(answer), encoding="utf-8")
    paths[3].write_bytes(to_docx(answer))
    return paths


def discard_downloads(conversation: Optional[dict], root: Path = EXPORT_ROOT) -> None:
    """Delete a conversation's download files (when it is cleared: they would only pile up)."""
    if conversation and isinstance(conversation.get("id"), str) and conversation["id"].isalnum():
        shutil.rmtree(root / conversation["id"], ignore_errors=True)
