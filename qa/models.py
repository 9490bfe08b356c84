"""The dataclasses that flow through the pipeline: Document → Passage → Hit → Answer.

One shape from loader to reader (as in Haystack 2.x): no dicts across module boundaries.
All are plain dataclasses so ``dataclasses.asdict`` / ``to_dict`` give JSON-ready values.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Optional

from .focus import Focus

KINDS: tuple[str, ...] = ("regulation", "news", "other")


@dataclass
class Document:
    """A loaded source: its id is the path relative to the indexed folder, a URL or a JSONL id."""

    id: str
    title: str
    text: str
    kind: str = "other"
    language: str = "zh"
    date: Optional[str] = None
    source: Optional[str] = None
    # JSONL corpora carry one pre-cut article per row.
    article: Optional[str] = None
    # Versions and place (qa.document_meta): ISO dates, region (chongqing/national/other), "2021年修正".
    promulgated: Optional[str] = None
    amended: Optional[str] = None
    in_force_from: Optional[str] = None
    region: Optional[str] = None
    version_label: Optional[str] = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Passage:
    """The unit that is embedded, retrieved and cited: one article (or a piece of a long one)."""

    doc_id: str
    title: str
    text: str
    article: Optional[str] = None
    headings: list[str] = field(default_factory=list)
    part: int = 0
    kind: str = "other"
    language: str = "zh"
    date: Optional[str] = None
    source: Optional[str] = None
    position: int = 0
    id: Optional[int] = None  # row id in the index (also the FAISS / BM25 id); None before indexing
    # The version this passage belongs to ("2021年修正"), set when the index holds several versions of
    # its law, so that the citation says which one; None otherwise.
    version: Optional[str] = None

    @property
    def citation(self) -> str:
        from .citations import format_citation

        return format_citation(self.title, self.article, self.language, self.kind, self.version)

    @property
    def content_hash(self) -> str:
        return hashlib.sha1(self.embedding_text.encode("utf-8")).hexdigest()

    @property
    def embedding_text(self) -> str:
        """Text that is embedded and BM25-indexed: prefixed with law title · headings · article."""
        prefix = " · ".join(x for x in [self.title, *self.headings, self.article or ""] if x)
        return f"{prefix}\n{self.text}" if prefix else self.text

    def to_dict(self) -> dict:
        d = asdict(self)
        d["citation"] = self.citation
        return d


@dataclass
class Hit:
    """A retrieved passage with the scores that ranked it."""

    passage: Passage
    score: float
    rank: int
    dense: Optional[float] = None
    lexical: Optional[float] = None
    matched_terms: list[str] = field(default_factory=list)
    # Cross-references in the passage (``qa.references.Reference``), resolved against the index.
    references: list = field(default_factory=list)

    @property
    def doc(self) -> str:
        return self.passage.doc_id

    @property
    def citation(self) -> str:
        return self.passage.citation

    def to_dict(self) -> dict:
        p = self.passage
        return {
            "doc": p.doc_id,
            "title": p.title,
            "article": p.article,
            "citation": p.citation,
            "text": p.text,
            "score": round(float(self.score), 6),
            "rank": self.rank,
            "dense": None if self.dense is None else round(float(self.dense), 6),
            "lexical": None if self.lexical is None else round(float(self.lexical), 6),
            "headings": p.headings,
            "kind": p.kind,
            "language": p.language,
            "date": p.date,
            "source": p.source,
            "version": p.version,
            "matched_terms": self.matched_terms,
            "references": [r.to_dict() for r in self.references],
        }


@dataclass
class Citation:
    """A cited passage and the verbatim sentence(s) of it that the answer quotes.

    ``gloss`` (for Chinese quotes shown to readers of English) explains the quotes word by word:
    one entry per word, quote after quote, each ``qa.gloss.Gloss`` (text, pinyin, meanings, source).
    """

    hit: Hit
    quotes: list[str]
    gloss: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = self.hit.to_dict()
        d["quotes"] = list(self.quotes)
        d["gloss"] = [g.to_dict() for g in self.gloss]
        return d


@dataclass
class Generation:
    """A language model's answer that passed the checks (``qa.answer_check``): only checked sentences.

    ``complete`` is False while it is still being streamed; ``dropped`` counts the sentences left
    out for citing no passage.
    """

    text: str
    model: str
    complete: bool = True
    dropped: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    """What `ask` returns: the answer, its evidence, and how sure and how fast it was."""

    question: str
    text: str
    citations: list[Citation]
    confidence: float
    abstained: bool
    nearest: list[Hit] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    translated_query: Optional[str] = None
    partial: bool = False
    # In a conversation: how a follow-up was read ("《重庆市开发区条例》第六条"; None when the question
    # stood alone) and what the conversation is about after this answer (the next turn's history).
    read_as: Optional[str] = None
    focus: Optional[Focus] = None
    generated: Optional[Generation] = None  # with ``--llm``: the checked generated answer, above the quotes
    note: Optional[str] = None  # one line: why a generated answer is not shown
    # Where the cited rules apply (national vs Chongqing vs another place), when that needs saying.
    applies: Optional[str] = None

    @property
    def state(self) -> str:
        """"answered", "partial" (on topic, but the quote may not answer) or "abstained"."""
        return "abstained" if self.abstained else "partial" if self.partial else "answered"

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "text": self.text,
            "state": self.state,
            "citations": [c.to_dict() for c in self.citations],
            "confidence": round(float(self.confidence), 4),
            "abstained": self.abstained,
            "nearest": [h.to_dict() for h in self.nearest],
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "translated_query": self.translated_query,
            "read_as": self.read_as,
            "applies": self.applies,
            "focus": self.focus.to_dict() if self.focus else None,
            "generated": self.generated.to_dict() if self.generated else None,
            "note": self.note,
        }
