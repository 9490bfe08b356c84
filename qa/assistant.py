"""The facade: ``Assistant.open(index_dir)`` → ``.search``, ``.ask``, ``.add``, ``.remove``.

Plain functions called in order (retrieve, then read); the CLI and the web app are thin
wrappers over this class. Heavy things (models, FAISS) load on first use.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Iterator, Optional, Sequence, overload

from .embedders import DEFAULT_EMBEDDER, Embedder, EmbedderError, get_embedder
from .filters import Filters
from . import backends
from .document_meta import region_of
from .jurisdiction import applicability_note, regions_named
from .index import BuildReport, IndexWriter, LearnReport, LoadedIndex, embedder_mismatch
from .integrity import QAIndexError, VerifyReport
from .focus import Focus, Turn, focus_after, follow_up, latest_focus, turns_of
from .gloss import gloss
from .questions import load_questions, parse_training_items
from .loaders import LoadError
from .models import Answer, Hit, Passage
from .query import Query
from .generative import GenerativeReader
from .llm_client import DEFAULT_TIMEOUT_S, ChatEndpoint
from .reader import get_reader
from .reference_resolver import ReferenceResolver
from .references import Reference
from .query import QueryError
from .retrieval import Retriever, SearchResult, SearchSettings

# Errors that carry a message for the person at the keyboard; front ends show them, not a traceback.
USER_ERRORS = (QAIndexError, EmbedderError, QueryError, LoadError, ValueError, FileNotFoundError)

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = PACKAGE_ROOT / "corpus"


def default_index_dir() -> backends.Location:
    return backends.locate(os.environ.get("QA_INDEX", "index"))


def _filters(filters: Optional[Filters], narrowing: dict) -> Optional[Filters]:
    """One Filters from an explicit object and/or keyword arguments (unknown keywords are an error)."""
    if not narrowing:
        return filters
    if filters is not None:
        raise TypeError("pass either filters= or filter keywords (docs=, laws=, kinds=, regions=, as_of=, "
                        "versions=), not both")
    return Filters.of(**narrowing)


class Assistant:
    """Question answering over one index: a folder, or ``milvus://HOST:PORT/COLLECTION``."""

    def __init__(self, index_dir: str | Path | None = None, embedder: str | Embedder | None = None,
                 reader: Optional[str] = None, settings: Optional[SearchSettings] = None, k: int = 10,
                 llm: Optional[str] = None, llm_model: Optional[str] = None, llm_timeout: Optional[float] = None):
        """``llm``: the address of an OpenAI-compatible chat server (llama.cpp, Ollama, vLLM); answers
        then also carry a generated text, checked against the quoted passages (``qa.generative``)."""
        self.index_dir = backends.locate(index_dir if index_dir is not None else default_index_dir())
        self._embedder_spec = embedder
        self._embedder: Optional[Embedder] = embedder if isinstance(embedder, Embedder) else None
        self._reader_spec = reader
        self._reader = None
        # A malformed address or timeout fails here, not at the first question.
        self.llm = ChatEndpoint(llm, llm_model or None, llm_timeout or DEFAULT_TIMEOUT_S) if llm else None
        self.settings = settings or SearchSettings()
        self.k = k
        self._index: Optional[LoadedIndex] = None
        self._retriever: Optional[Retriever] = None
        self._resolver: Optional[ReferenceResolver] = None
        self._regions: tuple[object, dict[str, Optional[str]]] = (None, {})  # (retriever read for, doc id → region)
        self._lock = threading.RLock()

    # ---------------------------------------------------------------- construction
    @classmethod
    def open(cls, index_dir: str | Path | None = None, *, build_from: Sequence[str | Path] | None = None,
             show_progress: bool = False, progress=None, **kwargs) -> "Assistant":
        """Open an index; build it first from ``build_from`` if it does not exist yet."""
        assistant = cls(index_dir, **kwargs)
        if not backends.exists(assistant.index_dir):
            if build_from is None:
                raise backends.missing_index(assistant.index_dir)
            assistant.build(build_from, show_progress=show_progress, progress=progress)
        assistant._load()
        return assistant

    @classmethod
    def open_default(cls, index_dir: str | Path | None = None, corpus: str | Path | None = None,
                     **kwargs) -> "Assistant":
        """The default index, built from the bundled corpus on first use."""
        return cls.open(index_dir, build_from=[str(corpus or DEFAULT_CORPUS)], **kwargs)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            spec = self._embedder_spec
            if spec is None and backends.exists(self.index_dir):
                spec = self.manifest.get("embedder")
            self._embedder = get_embedder(spec or DEFAULT_EMBEDDER)
        return self._embedder

    @property
    def manifest(self) -> dict:
        return backends.read_manifest(self.index_dir)

    @classmethod
    def exists(cls, index_dir: str | Path | None = None) -> bool:
        """Whether ``index_dir`` (default: the default index) holds a published index."""
        return backends.exists(backends.locate(index_dir if index_dir is not None else default_index_dir()))

    def _load(self) -> None:
        with self._lock:
            index = backends.open_index(self.index_dir)
            built_with = index.manifest.get("embedder")
            if self._embedder_spec is not None and self.embedder.id != built_with:
                index.close()
                raise QAIndexError(embedder_mismatch(built_with, self.embedder.id, self.index_dir))
            # Swap in one assignment each; a search already running keeps the old objects (and the
            # previous generation stays on disk), so nothing is closed under its feet.
            self._index = index
            self._retriever = Retriever(index, self.embedder, self.settings)

    @property
    def retriever(self) -> Retriever:
        """The retriever over the live generation; a change published by another process (the CLI
        beside the app) is picked up here, on the next request, at the cost of one small file read."""
        retriever = self._retriever
        if retriever is None or retriever.index.generation != backends.generation_name(self.index_dir):
            with self._lock:
                if self._retriever is None or self._retriever.index.generation != backends.generation_name(self.index_dir):
                    self._load()
                retriever = self._retriever
        return retriever

    @property
    def reader(self):
        if self._reader is None:
            reader = get_reader(self._reader_spec, self.embedder)
            self._reader = GenerativeReader(reader, self.llm) if self.llm else reader
        return self._reader

    # ---------------------------------------------------------------- writes
    def _writer(self, show_progress: bool, progress, **options) -> IndexWriter:
        return backends.make_writer(self.index_dir, self.embedder, show_progress=show_progress, progress=progress,
                                    **options)

    def build(self, sources: Sequence[str | Path], show_progress: bool = True, progress=None,
              max_passages: Optional[int] = None, allow_private_urls: Optional[bool] = None) -> BuildReport:
        """(Re)build the index from scratch; the old one stays live until the new one is complete.

        ``max_passages`` caps the passages of one document (default 2,000 or $QA_MAX_PASSAGES);
        ``allow_private_urls`` lets URLs reach loopback and private addresses (default: refused).
        """
        with self._lock:
            report = self._writer(show_progress, progress, max_passages=max_passages,
                                  allow_private_urls=allow_private_urls).apply([str(s) for s in sources], fresh=True)
            self._reload_if_open()
            return report

    def add(self, sources: Sequence[str | Path] | str, show_progress: bool = True, progress=None,
            max_passages: Optional[int] = None, allow_private_urls: Optional[bool] = None) -> BuildReport:
        """Add (or replace) documents incrementally: untouched documents are not re-embedded.

        Each input fails alone (``report.skipped`` names it and why); the others are indexed.
        """
        sources = [sources] if isinstance(sources, (str, Path)) else sources
        with self._lock:
            report = self._writer(show_progress, progress, max_passages=max_passages,
                                  allow_private_urls=allow_private_urls).apply([str(s) for s in sources])
            self._reload_if_open()
            return report

    def add_official(self, urls: Optional[Sequence[str]] = None, allow_private_urls: Optional[bool] = None,
                     show_progress: bool = False, progress=None) -> BuildReport:
        """Fetch the official text of 《重庆市开发区条例》 from its publisher and index it (``qa.official``);
        without a network, a one-line error says how to add a saved copy by hand."""
        from .official import add_official_text

        return add_official_text(self, urls=urls, allow_private=allow_private_urls, show_progress=show_progress,
                                 progress=progress)

    def remove(self, doc_ids: Sequence[str] | str, show_progress: bool = False) -> BuildReport:
        doc_ids = [doc_ids] if isinstance(doc_ids, str) else list(doc_ids)
        with self._lock:
            report = self._writer(show_progress, None).apply(remove=doc_ids)
            self._reload_if_open()
            return report

    def learn(self, questions: Sequence[dict] | str | Path, show_progress: bool = False) -> LearnReport:
        """Store training questions (a question file or rows like ``qa eval``'s) in the index.

        Searches then use a prior over laws and the gold of similar training questions. An
        empty list clears them. Evaluate only on questions that are not among them.
        """
        if isinstance(questions, (str, Path)):
            questions = load_questions(Path(questions))
        parsed = parse_training_items(questions)
        with self._lock:
            report = self._writer(show_progress, None).learn(parsed)
            self._reload_if_open()
            return report

    def _reload_if_open(self) -> None:
        if self._index is not None or self._retriever is not None:
            self._load()

    # ---------------------------------------------------------------- reads
    def search_result(self, query: str | Query, k: Optional[int] = None, filters: Optional[Filters] = None,
                      **narrowing) -> SearchResult:
        """Search with ``filters`` or their keyword form (docs=, laws=, kinds=, regions=, as_of=).

        By default only the version of each law in force today is searched; ``as_of="2020-01-01"``
        picks the versions in force that day, ``as_of="all"`` every indexed version."""
        result = self.retriever.search(query, k or self.k, filters=_filters(filters, narrowing))
        self.resolver.attach(result.hits)
        return result

    @overload
    def search(self, query: str, k: Optional[int] = None, **filters) -> list[Hit]: ...
    @overload
    def search(self, query: list[str], k: Optional[int] = None, **filters) -> list[list[Hit]]: ...

    def search(self, query, k=None, **filters):
        """Ranked passages for one query, or a list of rankings for a list of queries."""
        if isinstance(query, list):
            return [self.search_result(q, k, **filters).hits for q in query]
        return self.search_result(query, k, **filters).hits

    def ask(self, question: str, k: Optional[int] = None, filters: Optional[Filters] = None,
            history: Optional[Sequence] = None, focus: bool = True, **narrowing) -> Answer:
        """Search, then read: a short answer quoting the provision(s), or an abstention.

        ``history`` (earlier turns, oldest first: Answers, their ``to_dict()``, ``{"question", "law",
        "article"}`` dicts or ``(question, answer)`` pairs) lets a follow-up that names no law ("What
        about Article 6?", "那法律责任呢？") be read in the law the conversation is about; the answer
        says how in ``read_as`` and carries the new ``focus``. ``focus=False`` ignores the history.
        """
        answer = None
        for answer in self.ask_stream(question, k, filters, history, focus, **narrowing):
            pass
        return answer

    def ask_stream(self, question: str, k: Optional[int] = None, filters: Optional[Filters] = None,
                   history: Optional[Sequence] = None, focus: bool = True, *, reader=None,
                   **narrowing) -> Iterator[Answer]:
        """``ask`` as it grows: with a language model (``llm=``), the extractive answer first, then
        the generated answer sentence by sentence (each checked before it is yielded), then the final
        answer. Without one, a single answer. ``reader`` overrides the assistant's reader."""
        started = time.perf_counter()
        retriever = self.retriever
        query = retriever.parse(question)
        named = retriever.laws_named(query)
        before = self.focus_of(history) if focus and history else None
        asked = follow_up(query.text, named, before)
        if asked is not None:
            query.focus, query.article = asked, asked.article
        result = retriever.search(query, k or 5, filters=_filters(filters, narrowing))
        t = time.perf_counter()
        self.resolver.attach(result.hits)
        timings_references = (time.perf_counter() - t) * 1000
        result.query.noise_floor = retriever.noise_floor
        reader = reader or self.reader
        t = time.perf_counter()
        readings = reader.stream(result.query, result.hits) if hasattr(reader, "stream") else \
            iter([reader.read(result.query, result.hits)])
        for reading in readings:
            timings = dict(result.timings)
            timings["read_ms"] = (time.perf_counter() - t) * 1000
            timings["references_ms"] = timings_references
            if result.query.language != "zh":
                g = time.perf_counter()
                for citation in reading.citations:
                    if citation.hit.passage.language == "zh" and not citation.gloss:
                        citation.gloss = [w for quote in citation.quotes for w in gloss(quote)]
                timings["gloss_ms"] = (time.perf_counter() - g) * 1000
            timings["total_ms"] = (time.perf_counter() - started) * 1000
            cited = [] if reading.abstained else [(c.hit.passage.title, c.hit.passage.article)
                                                  for c in reading.citations]
            applies = None if reading.abstained else applicability_note(
                reading.citations, result.hits, result.query.language, regions_named(result.query),
                self._region_of_hit())
            yield Answer(question=result.query.text, text=reading.text + (f"\n\n{applies}" if applies else ""),
                         citations=reading.citations, applies=applies,
                         confidence=reading.confidence, abstained=reading.abstained, partial=reading.partial,
                         nearest=list(result.hits), timings=timings,
                         translated_query=result.translation.text if result.translation else None,
                         read_as=asked.label() if asked else None,
                         focus=focus_after(asked, named, query.article, cited, before),
                         generated=reading.generated, note=reading.note)

    def _region_of_hit(self):
        """Where a hit's document applies, as the index recorded it (read once per index generation)."""
        retriever = self.retriever
        if self._regions[0] is not retriever:
            self._regions = (retriever, {d["id"]: d.get("region") for d in self.documents()})
        regions = self._regions[1]
        return lambda hit: regions.get(hit.passage.doc_id) or region_of(hit.passage.title)

    def focus_of(self, history: Optional[Sequence]) -> Optional[Focus]:
        """The law (and article) a conversation is about after ``history`` (see ``ask``).

        A turn that carries no focus (a bare question) is read for the laws it names; law names
        given in a dict are matched to the indexed titles, and names not in the index are dropped.
        """
        retriever = self.retriever
        titles = retriever.law_titles
        resolved: list[Turn] = []
        for turn in turns_of(history):
            focus = turn.focus
            if focus is not None:
                laws = list(dict.fromkeys(t for law in focus.laws
                                          for t in ([law] if law in titles.titles else titles.named_in(law))))
                focus = Focus(laws, focus.article) if laws else None
            else:
                try:
                    query = retriever.parse(turn.question)
                except QueryError:  # an empty or unusable earlier question says nothing about the topic
                    query = None
                laws = retriever.laws_named(query) if query else []
                focus = Focus(laws, query.article) if laws else None
            resolved.append(Turn(turn.question, focus))
        return latest_focus(resolved)

    def warm_up(self) -> None:
        """Load models, dictionaries and the index now, so the first real question is fast."""
        self.retriever.noise_floor  # measured once per index generation
        extractive = getattr(self.reader, "fallback", self.reader)  # never waits for a language model
        for question in ("When do the regulations take effect?", "条例自何时起施行？"):
            for _ in self.ask_stream(question, reader=extractive):
                pass
        gloss("开发区")  # the gloss dictionaries (CC-CEDICT) load once, here

    # ---------------------------------------------------------------- cross-references
    @property
    def resolver(self) -> ReferenceResolver:
        """Resolves the recorded cross-references against the live generation (one per generation)."""
        retriever = self.retriever
        resolver = self._resolver
        if resolver is None or resolver.store is not retriever.index.store:
            resolver = self._resolver = ReferenceResolver(retriever.index.store, retriever.law_titles)
        return resolver

    def references(self, passages: Sequence[Passage]) -> Optional[dict[int, list[Reference]]]:
        """The resolved cross-references of these passages by passage id (None: the index recorded none)."""
        return self.resolver.references(passages)

    def article(self, doc_id: str, article: str) -> list[Passage]:
        """The passages (pieces) of one article of one document, in order; [] if it has none."""
        store = self.retriever.index.store
        ids = [pid for pid, _ in store.article_pieces(doc_id, article)]
        found = store.passages(ids)
        return [found[pid] for pid in ids if pid in found]

    def documents(self) -> list[dict]:
        return self.retriever.index.store.documents()

    def document(self, doc_id: str) -> list[Passage]:
        """All passages of one document in reading order (for the article browser)."""
        return [p for _, p in self.retriever.index.store.document_passages(doc_id)]

    def verify(self) -> VerifyReport:
        """Check that the live generation's parts agree (``qa index verify``)."""
        return backends.verify(self.index_dir)

    def info(self) -> dict:
        index = self.retriever.index
        return {**index.manifest, "path": str(index.location), "size_bytes": index.size_bytes()}

    def close(self) -> None:
        if self._index is not None:
            self._index.close()

    def __enter__(self) -> "Assistant":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
