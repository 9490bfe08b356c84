"""A conversation, or one answer, as a Markdown or Word (.docx) file to keep or pass on.

Every quote is written exactly as it stands in the cited passage (its own paragraph in the
.docx, a block quote in Markdown), with its citation, the version/date of its document and
where the document came from (a URL, or a file name — never a server path). Answers are taken
as ``Answer`` objects or their ``to_dict()`` (what the web app and the HTTP API hold).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional, Sequence

from .web.render import public_source

SUFFIXES = (".md", ".docx")
NOTICE = ("Quotes are verbatim from the indexed documents. For legal purposes, check the official text "
          "of each law.")


@dataclass
class Source:
    """One cited (or, for an abstention, nearest) passage as it is exported."""

    citation: str
    quotes: list[str]
    date: Optional[str]
    source: Optional[str]
    doc: str


@dataclass
class Entry:
    """One answer as it is exported."""

    question: str
    text: str
    state: str
    confidence: Optional[float]
    read_as: Optional[str]
    sources: list[Source]
    nearest_only: bool  # abstained: the sources are the nearest passages, not evidence


def _entry(answer: Any) -> Entry:
    data = answer.to_dict() if hasattr(answer, "to_dict") else answer
    if not isinstance(data, dict) or not isinstance(data.get("question"), str):
        raise ValueError("an exported answer must be an Answer or its to_dict() (with 'question' and 'text')")
    abstained = data.get("state") == "abstained" or bool(data.get("abstained"))
    cited = data.get("nearest", [])[:3] if abstained else data.get("citations", [])
    sources = [Source(c.get("citation") or c.get("title") or c.get("doc", ""), [] if abstained else list(c.get("quotes", [])),
                      c.get("date"), public_source(c.get("source")), c.get("doc", "")) for c in cited]
    return Entry(data["question"], data.get("text", ""), data.get("state", "answered"), data.get("confidence"),
                 data.get("read_as"), sources, abstained)


def entries(answers: Any) -> list[Entry]:
    """One answer or a list of them → entries (a conversation, oldest first)."""
    items = [answers] if hasattr(answers, "to_dict") or isinstance(answers, dict) else list(answers or [])
    if not items:
        raise ValueError("nothing to export: ask a question first")
    return [_entry(a) for a in items]


def _heading(entries_: list[Entry]) -> str:
    return "Conversation" if len(entries_) > 1 else "Answer"


def _exported_at(now: Optional[datetime]) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")


def _status(e: Entry) -> str:
    return e.state + (f" · confidence {e.confidence:.2f}" if isinstance(e.confidence, (int, float)) else "")


def _details(s: Source) -> list[tuple[str, str]]:
    return [("Version / date", s.date or "not stated"), ("Source", s.source or "not stated"), ("Document", s.doc)]


def to_markdown(answers: Any, now: Optional[datetime] = None) -> str:
    """The answers as Markdown: each quote a block quote of its own, verbatim."""
    es = entries(answers)
    lines = [f"# {_heading(es)} — regulation Q&A", "", f"Exported {_exported_at(now)}. {NOTICE}", ""]
    for n, e in enumerate(es, 1):
        lines += [f"## {n}. {e.question}", ""]
        if e.read_as:
            lines += [f"*Read as: {e.read_as}*", ""]
        lines += [f"*{_status(e)}*", "", e.text, "", "### Nearest passages (not an answer)" if e.nearest_only
                  else "### Sources", ""]
        for i, s in enumerate(e.sources, 1):
            lines += [f"{i}. **{s.citation}**", ""]
            for quote in s.quotes:
                lines += ["> " + quote.replace("\n", "\n> "), ""]
            lines += [f"   - {label}: {value}" for label, value in _details(s)] + [""]
    return "\n".join(lines).rstrip() + "\n"


def to_docx(answers: Any, now: Optional[datetime] = None) -> bytes:
    """The answers as a Word document: each quote a paragraph of its own ("Quote" style), verbatim."""
    from docx import Document

    es = entries(answers)
    doc = Document()
    doc.core_properties.title = f"{_heading(es)} — regulation Q&A"
    doc.add_heading(f"{_heading(es)} — regulation Q&A", level=0)
    doc.add_paragraph(f"Exported {_exported_at(now)}. {NOTICE}")
    for n, e in enumerate(es, 1):
        doc.add_heading(f"{n}. {e.question}", level=1)
        if e.read_as:
            doc.add_paragraph().add_run(f"Read as: {e.read_as}").italic = True
        doc.add_paragraph().add_run(_status(e)).italic = True
        doc.add_paragraph(e.text)
        doc.add_heading("Nearest passages (not an answer)" if e.nearest_only else "Sources", level=2)
        for i, s in enumerate(e.sources, 1):
            doc.add_paragraph().add_run(f"[{i}] {s.citation}").bold = True
            for quote in s.quotes:
                doc.add_paragraph(quote, style="Quote")
            for label, value in _details(s):
                p = doc.add_paragraph(style="List Bullet")
                p.add_run(f"{label}: ").bold = True
                p.add_run(value)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def write_export(answers: Any, path: str | Path, now: Optional[datetime] = None) -> Path:
    """Write ``to_markdown`` or ``to_docx`` by the file's suffix (.md or .docx)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"cannot export to {path.name}: the file name must end in {' or '.join(SUFFIXES)}")
    if suffix == ".docx":
        path.write_bytes(to_docx(answers, now))
    else:
        path.write_text(to_markdown(answers, now), encoding="utf-8")
    return path


def export_name(what: str, suffix: str, now: Optional[datetime] = None) -> str:
    """A download's file name: ``conversation-20250301-0930.docx``."""
    return f"{what}-{(now or datetime.now(timezone.utc)).strftime('%Y%m%d-%H%M')}{suffix}"


def quotes_of(answers: Sequence[Any]) -> list[str]:
    """Every quote the answers make (what an export must carry verbatim)."""
    return [q for e in entries(answers) for s in e.sources for q in s.quotes]
