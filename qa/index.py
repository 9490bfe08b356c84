"""The index on disk: FAISS vectors + bm25s + SQLite, swapped in atomically.

Layout of an index folder::

    CURRENT                  name of the live generation (replaced with os.replace)
    gen-<stamp>/             manifest.json, passages.sqlite, vectors.faiss, bm25/
    embedding-cache.sqlite   passage vectors by content hash, survive rebuilds

Every change (build, add, remove) writes a new generation in a temporary folder and only
then points CURRENT at it, so a crash or kill mid-way leaves the previous index usable.
"""
from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from . import __version__
from .chunking import chunk
from .embedders import Embedder
from .lexical import LexicalIndex, tokenize
from .learned import TrainingQuestion, gold_resolver
from .loaders import LoadError, load_sources
from .models import Document
from .progress import ProgressFn, track
from .store import EmbeddingCache, Store

FORMAT_VERSION = 1
EMBED_BATCH = 32


class QAIndexError(RuntimeError):
    """The index is missing, damaged or was built for something else; the message says how to fix it."""


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

    def summary(self) -> str:
        parts = [f"{len(self.added)} document(s) added ({self.passages} passages; "
                 f"{self.embedded} embedded, {self.cached} from cache)"]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        parts.append(f"{self.seconds:.1f}s")
        text = ", ".join(parts)
        if self.skipped:
            text += f"\n{len(self.skipped)} source(s) skipped:\n" + "\n".join(f"  - {e}" for e in self.skipped)
        return text


@dataclass
class LearnReport:
    """What ``IndexWriter.learn`` stored, and every question it left out and why."""

    learned: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        text = f"{self.learned} training question(s) stored, {self.seconds:.1f}s"
        if self.skipped:
            shown = self.skipped[:20]
            text += f"\n{len(self.skipped)} question(s) skipped:\n" + "\n".join(f"  - {s}" for s in shown)
            if len(self.skipped) > len(shown):
                text += f"\n  … and {len(self.skipped) - len(shown)} more"
        return text


def current_generation(index_dir: Path) -> Optional[Path]:
    pointer = Path(index_dir) / "CURRENT"
    if not pointer.exists():
        return None
    gen = Path(index_dir) / pointer.read_text().strip()
    return gen if (gen / "manifest.json").exists() else None


def read_manifest(index_dir: Path) -> dict:
    gen = current_generation(index_dir)
    if gen is None:
        raise QAIndexError(f"no index at {index_dir}: build one with `qa index build SRC... --index {index_dir}`")
    return json.loads((gen / "manifest.json").read_text())


def _new_generation_dir(index_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(index_dir) / f".tmp-gen-{stamp}-{uuid.uuid4().hex[:6]}"


def _publish(index_dir: Path, tmp: Path) -> Path:
    """Make ``tmp`` the live generation atomically, then delete all but it and the one before.

    The previous generation stays on disk so searches that started on it can finish.
    """
    previous = current_generation(index_dir)
    final = tmp.with_name(tmp.name.replace(".tmp-", "", 1))
    os.replace(tmp, final)
    pointer_tmp = Path(index_dir) / f".CURRENT.{uuid.uuid4().hex[:6]}"
    pointer_tmp.write_text(final.name)
    with open(pointer_tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(pointer_tmp, Path(index_dir) / "CURRENT")
    for old in Path(index_dir).glob("gen-*"):
        if old not in (final, previous):
            shutil.rmtree(old, ignore_errors=True)
    for stale in Path(index_dir).glob(".tmp-gen-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return final


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
    """Applies one change to a copy of the live generation and publishes it."""

    def __init__(self, index_dir: Path, embedder: Embedder, show_progress: bool = True,
                 progress: Optional[ProgressFn] = None):
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.show = show_progress
        self.progress = progress

    def _start(self, fresh: bool) -> tuple[Path, dict]:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        tmp = _new_generation_dir(self.index_dir)
        live = None if fresh else current_generation(self.index_dir)
        if live is not None:
            shutil.copytree(live, tmp)
            manifest = json.loads((tmp / "manifest.json").read_text())
            if manifest.get("embedder") != self.embedder.id:
                shutil.rmtree(tmp, ignore_errors=True)
                raise QAIndexError(embedder_mismatch(manifest.get("embedder"), self.embedder.id, self.index_dir))
        else:
            tmp.mkdir(parents=True)
            manifest = {"format": FORMAT_VERSION, "embedder": self.embedder.id, "roots": [],
                        "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        return tmp, manifest

    def apply(self, sources: Sequence[str] = (), remove: Sequence[str] = (), fresh: bool = False,
              replace: bool = True) -> BuildReport:
        """Add ``sources`` and remove ``remove`` (doc ids) in one new generation."""
        started = time.perf_counter()
        report = BuildReport()
        tmp, manifest = self._start(fresh)
        try:
            store = Store(tmp / "passages.sqlite")
            store.unsynced()
            cache = EmbeddingCache(self.index_dir / "embedding-cache.sqlite")
            vectors = self._load_vectors(tmp)
            for doc_id in remove:
                ids = store.remove_document(doc_id)
                if not ids and not store.has_document(doc_id):
                    report.skipped.append(LoadError(doc_id, "no such document in the index"))
                    continue
                vectors.remove_ids(np.asarray(ids, dtype=np.int64))
                report.removed.append(doc_id)
            roots = [Path(r) for r in manifest["roots"]]
            for src in sources:
                p = Path(str(src))
                if p.is_dir() and str(p.resolve()) not in manifest["roots"]:
                    manifest["roots"].append(str(p.resolve()))
            docs = self._load(sources, roots + [Path(s).resolve() for s in sources if Path(str(s)).is_dir()], report)
            self._add(docs, store, cache, vectors, report, replace)
            if not report.added and not report.removed:
                # Nothing changed (e.g. every source was skipped): keep the live generation as it is,
                # rather than publishing an empty index over it.
                store.close()
                cache.close()
                shutil.rmtree(tmp, ignore_errors=True)
                report.seconds = time.perf_counter() - started
                return report
            docs_n, passages_n = store.count()
            if passages_n:
                tokens = list(store.all_tokens())
                LexicalIndex.build([t for _, t in tokens], [i for i, _ in tokens]).save(tmp / "bm25")
            elif (tmp / "bm25").exists():
                shutil.rmtree(tmp / "bm25")
            store.close()
            cache.close()
            import faiss

            faiss.write_index(vectors, str(tmp / "vectors.faiss"))
            manifest.update({"dim": int(vectors.d), "documents": docs_n, "passages": passages_n,
                             "updated": time.strftime("%Y-%m-%dT%H:%M:%S"), "qa_version": __version__})
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
            _publish(self.index_dir, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
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
        tmp, manifest = self._start(fresh=False)
        try:
            store = Store(tmp / "passages.sqlite")
            store.unsynced()
            resolve = gold_resolver(store, questions)
            kept = []
            for q in questions:
                if resolve(q.gold):
                    kept.append(q)
                else:
                    report.skipped.append(f"{q.id}: no gold item is in the index ({q.gold[0]['doc']})")
            if questions and not kept:
                store.close()
                shutil.rmtree(tmp, ignore_errors=True)
                report.seconds = time.perf_counter() - started
                return report
            vectors = []
            batches = [kept[i:i + EMBED_BATCH] for i in range(0, len(kept), EMBED_BATCH)]
            for batch in track(batches, "embedding questions", callback=self.progress, show=self.show):
                vectors.extend(self.embedder.embed_queries([q.question for q in batch]))
            store.set_training_questions([(q.id, q.question, q.gold, v) for q, v in zip(kept, vectors)])
            store.close()
            manifest.update({"training_questions": len(kept), "updated": time.strftime("%Y-%m-%dT%H:%M:%S")})
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
            _publish(self.index_dir, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        report.learned = len(kept)
        report.seconds = time.perf_counter() - started
        return report

    def _load_vectors(self, gen: Path):
        import faiss

        path = gen / "vectors.faiss"
        if path.exists():
            return faiss.read_index(str(path))
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.embedder.dim))

    def _load(self, sources, roots, report: BuildReport) -> list[Document]:
        docs: list[Document] = []
        for item in track(load_sources(sources, roots), "loading", callback=self.progress, show=self.show):
            (report.skipped.append(item) if isinstance(item, LoadError) else docs.append(item))
        return docs

    def _add(self, docs: list[Document], store: Store, cache: EmbeddingCache, vectors, report: BuildReport,
             replace: bool) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        pending: list[tuple[list[int], list]] = []
        seen: set[str] = set()
        for doc in track(docs, "chunking", callback=self.progress, show=self.show):
            if doc.id in seen:
                report.skipped.append(LoadError(doc.id, "duplicate document id in this batch; kept the first"))
                continue
            seen.add(doc.id)
            if store.has_document(doc.id):
                if not replace:
                    report.skipped.append(LoadError(doc.id, "already indexed (remove it first)"))
                    continue
                vectors.remove_ids(np.asarray(store.remove_document(doc.id), dtype=np.int64))
            passages = chunk(doc)
            if not passages:
                report.skipped.append(LoadError(doc.id, "no text passages found"))
                continue
            ids = store.add_document(doc, passages, [tokenize(p.embedding_text) for p in passages], stamp)
            pending.append((ids, passages))
            report.added.append(doc.id)
            report.passages += len(passages)
        pairs = [(p.embedding_text, p.content_hash) for _, ps in pending for p in ps]
        if not pairs:
            return
        matrix, embedded = embed_passages(pairs, self.embedder, cache, self.progress, self.show)
        report.embedded, report.cached = embedded, len(pairs) - embedded
        all_ids = np.asarray([i for ids, _ in pending for i in ids], dtype=np.int64)
        vectors.add_with_ids(matrix, all_ids)


def embedder_mismatch(index_embedder: str, requested: str, index_dir: Path) -> str:
    return (f"the index at {index_dir} was built with embedder {index_embedder!r}, not {requested!r}; "
            f"query it with --embedder {index_embedder} or rebuild it: "
            f"`qa index build SRC... --index {index_dir} --embedder {requested}`")


@dataclass
class LoadedIndex:
    """A generation opened for reading."""

    path: Path
    manifest: dict
    store: Store
    vectors: object
    lexical: Optional[LexicalIndex]

    @classmethod
    def open(cls, index_dir: Path) -> "LoadedIndex":
        import faiss

        gen = current_generation(Path(index_dir))
        if gen is None:
            raise QAIndexError(f"no index at {index_dir}: build one with `qa index build SRC... --index {index_dir}`")
        manifest = json.loads((gen / "manifest.json").read_text())
        if manifest.get("format") != FORMAT_VERSION:
            raise QAIndexError(f"index format {manifest.get('format')} at {index_dir} is not {FORMAT_VERSION}; "
                              f"rebuild it with `qa index build SRC... --index {index_dir}`")
        lexical = LexicalIndex.load(gen / "bm25") if (gen / "bm25").exists() else None
        return cls(gen, manifest, Store(gen / "passages.sqlite"), faiss.read_index(str(gen / "vectors.faiss")), lexical)

    def close(self) -> None:
        self.store.close()

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
