"""Writing a Milvus index: a build fills a new generation and swaps the alias; add/remove change the
live generation document by document.

* **Build** (``fresh``): new collections, filled, then ``alter_alias`` — readers see the old index
  or the new one, never a half-written one; a killed build leaves an unaliased generation that the
  next writer drops.
* **Add / remove** write in place (copying millions of passages per change would not scale). A
  document's new passages are inserted under a fresh ``tag``, then its record (``doc:<id>``, the
  commit point) is upserted, then its old passages are deleted. A re-add with the same content
  hashes and metadata writes nothing. A kill leaves at worst passages whose tag is not their
  document's (orphans, counted by ``qa index verify``); the manifest's ``dirty`` flag makes the
  next writer delete them and recount the term statistics.
* **One writer at a time**: Milvus has no compare-and-swap to build a lock on, so writers take a
  file lock on the machine that writes (``writer_lock`` in the index's local state folder). Several
  writer machines are not serialised: run changes from one place (a single ingest job).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections import Counter
from typing import Sequence

import numpy as np

from ...index import BuildReport, IndexWriter, LearnReport, embed_passages, embedder_mismatch, roots_with
from ...integrity import FORMAT_VERSION, QAIndexError
from ...lexical import tokenize
from ...loaders import LoadError
from ...models import Document, Passage
from ...progress import track
from ...questions import TrainingQuestion
from ...references import passage_references
from ...store import META_COLUMNS, EmbeddingCache
from ...version import __version__
from ...writer_lock import writer_lock
from .address import MilvusAddress, client_for
from .collections import (META_SUFFIX, create_generation, drop_generation, ensure_loaded, manifest_of, meta_name,
                          new_generation_name, record, scan)
from .index import live_generation
from .sparse import average_length, document_weights
from .store import MilvusStore, adapter_records
from .vectors import MilvusDense

INSERT_BATCH = 256
CACHE_NAME = "embedding-cache.sqlite"


def _new_ids(n: int) -> list[int]:
    """Random positive 63-bit passage ids: no counter to coordinate, collisions practically impossible."""
    return [int.from_bytes(os.urandom(8), "little") >> 1 for _ in range(n)]


def _digest(doc: Document, passages: Sequence[Passage]) -> str:
    key = [doc.title, doc.kind, doc.language, doc.date, doc.source, [p.content_hash for p in passages]]
    return hashlib.sha1(json.dumps(key, ensure_ascii=False).encode("utf-8")).hexdigest()


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Generation:
    """One generation being written: its collections, manifest and term statistics."""

    def __init__(self, client, name: str, manifest: dict):
        self.client = client
        self.name = name
        self.meta = meta_name(name)
        self.manifest = manifest
        self.store = MilvusStore(client, name)
        self.df: Counter = Counter({r["key"][5:]: int(r["df"]) for r in scan(client, self.meta, 'kind == "term"',
                                                                             ["key", "df"])})
        self.changed_terms: set[str] = set()

    @classmethod
    def create(cls, client, alias: str, embedder, previous) -> "_Generation":
        name = new_generation_name(alias)
        create_generation(client, name, embedder.dim)
        manifest = {"format": FORMAT_VERSION, "backend": "milvus", "embedder": embedder.id, "dim": embedder.dim,
                    "roots": [], "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "previous": previous}
        return cls(client, name, manifest)

    def save_manifest(self) -> None:
        self.client.upsert(self.meta, [record("manifest", "manifest", self.manifest)])

    def begin(self) -> None:
        self.manifest["dirty"] = True
        self.save_manifest()

    def repair(self) -> int:
        """After an interrupted change: delete orphan passages, recount document frequencies."""
        orphans, df = [], Counter()
        for row in scan(self.client, self.name, "", ["id", "doc_id", "tag", "tokens"]):
            if self.store.document_tag(row["doc_id"]) != row["tag"]:
                orphans.append(int(row["id"]))
            else:
                df.update(set(json.loads(row["tokens"])))
        for start in range(0, len(orphans), 1000):
            self.client.delete(self.name, ids=orphans[start:start + 1000])
        self.changed_terms |= set(self.df) | set(df)
        self.df = df
        return len(orphans)

    def _count_terms(self, token_lists, sign: int) -> None:
        for tokens in token_lists:
            for term in set(tokens):
                self.df[term] += sign
                self.changed_terms.add(term)

    def _tokens_of(self, expression: str) -> list[list[str]]:
        return [json.loads(r["tokens"]) for r in scan(self.client, self.name, expression, ["tokens"])]

    def remove(self, doc_id: str) -> bool:
        if not self.store.has_document(doc_id):
            return False
        expression = f"doc_id == {_quoted(doc_id)}"
        old = self._tokens_of(expression)
        self.client.delete(self.meta, ids=[f"doc:{doc_id}"])  # uncommit first: a kill now leaves orphans only
        self.client.delete(self.name, filter=expression)
        self._count_terms(old, -1)
        self.store.forget_document(doc_id)
        return True

    def put(self, doc: Document, passages: Sequence[Passage], tokens: Sequence[list[str]], vectors: np.ndarray,
            stamp: str) -> bool:
        """Write one document (replacing an earlier version); False when it is already there unchanged."""
        digest = _digest(doc, passages)
        if self.store.document_digest(doc.id) == digest:
            return False
        replacing = self.store.has_document(doc.id)
        tag = uuid.uuid4().hex[:16]
        avgdl = float(self.manifest["avgdl"])
        ids = _new_ids(len(passages))
        refs: dict[int, list] = {}
        for pid, r in passage_references(zip(ids, passages)):
            refs.setdefault(pid, []).append([r.start, r.end, r.text, r.law, r.article, r.paragraphs, r.item,
                                             r.problem, int(r.law_unbracketed)])
        rows = [{"id": pid, "doc_id": doc.id, "tag": tag, "position": p.position, "part": p.part,
                 "article": p.article or "", "headings": json.dumps(p.headings, ensure_ascii=False), "text": p.text,
                 "lexical_text": p.embedding_text, "content_hash": p.content_hash,
                 "tokens": json.dumps(toks, ensure_ascii=False),
                 "refs": json.dumps(refs.get(pid, []), ensure_ascii=False), "title": doc.title, "kind": doc.kind,
                 "language": doc.language, "date": doc.date or "", "source": doc.source or "",
                 "vector": vec.tolist(), "sparse": document_weights(toks, avgdl)}
                for pid, p, toks, vec in zip(ids, passages, tokens, vectors)]
        for start in range(0, len(rows), INSERT_BATCH):
            self.client.insert(self.name, rows[start:start + INSERT_BATCH])
        body = {"title": doc.title, "kind": doc.kind, "language": doc.language, "date": doc.date,
                "source": doc.source, "passages": len(passages), "added_at": stamp, "digest": digest, "tag": tag,
                **{column: getattr(doc, column) for column in META_COLUMNS}}  # dates, region, version
        self.client.upsert(self.meta, [record(f"doc:{doc.id}", "doc", body)])  # the commit point
        if replacing:
            stale = f"doc_id == {_quoted(doc.id)} and tag != {_quoted(tag)}"
            self._count_terms(self._tokens_of(stale), -1)
            self.client.delete(self.name, filter=stale)
        self._count_terms(tokens, +1)
        self.store.remember_document(doc.id, body)
        return True

    def finish(self) -> None:
        """Write the changed term statistics and the manifest (a new version: readers reopen)."""
        keep = [record(f"term:{t}", "term", df=self.df[t]) for t in self.changed_terms if self.df[t] > 0]
        gone = [f"term:{t}" for t in self.changed_terms if self.df[t] <= 0]
        for start in range(0, len(keep), 1000):
            self.client.upsert(self.meta, keep[start:start + 1000])
        for start in range(0, len(gone), 1000):
            self.client.delete(self.meta, ids=gone[start:start + 1000])
        self.changed_terms.clear()
        documents, passages = self.store.count()
        self.manifest.update({"documents": documents, "passages": passages, "dirty": False,
                              "version": uuid.uuid4().hex[:12], "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
                              "qa_version": __version__})
        self.save_manifest()
        for name in (self.name, self.meta):
            self.client.flush(name)


class MilvusWriter(IndexWriter):
    """``IndexWriter`` for a ``milvus://`` index: same reports, loading, chunking and embedding cache."""

    def __init__(self, address: MilvusAddress, embedder, **options):
        super().__init__(address.state_dir, embedder, **options)
        self.address = address
        self.client = client_for(address)

    @property
    def cache_path(self):
        return self.address.state_dir / CACHE_NAME

    def _open_live(self, live: str) -> _Generation:
        ensure_loaded(self.client, live)
        manifest = manifest_of(self.client, live)
        if manifest is None:
            raise QAIndexError(f"the index at {self.address} is damaged: {meta_name(live)} holds no manifest; "
                               f"rebuild it with `qa index build SRC... --index {self.address}`")
        if manifest.get("embedder") != self.embedder.id:
            raise QAIndexError(embedder_mismatch(manifest.get("embedder"), self.embedder.id, self.address))
        gen = _Generation(self.client, live, manifest)
        if manifest.get("dirty"):
            self.notify(f"an earlier change to {self.address} was interrupted; repairing it first…")
            gen.repair()
        return gen

    def _drop_leftovers(self, live: str | None) -> None:
        """Generations of this alias other than the live one and the one before it (killed builds, old ones)."""
        keep = {live}
        if live is not None:
            keep.add((manifest_of(self.client, live) or {}).get("previous"))
        prefix = f"{self.address.collection}__g"
        for name in self.client.list_collections():
            if name.startswith(prefix) and not name.endswith(META_SUFFIX) and name not in keep:
                drop_generation(self.client, name)

    def apply(self, sources: Sequence[str] = (), remove: Sequence[str] = (), fresh: bool = False,
              replace: bool = True) -> BuildReport:
        started = time.perf_counter()
        report = BuildReport()
        with writer_lock(self.address.state_dir, self.notify):
            live = live_generation(self.client, self.address)
            self._drop_leftovers(live)
            new = fresh or live is None
            gen = _Generation.create(self.client, self.address.collection, self.embedder, live) if new \
                else self._open_live(live)
            try:
                gen.begin()
                self._write(gen, sources, remove, replace, report)
                gen.finish()
            except BaseException:
                if new:
                    drop_generation(self.client, gen.name)
                raise
            if new:
                if report.added:
                    self._publish(gen.name, live)
                else:  # nothing could be indexed: keep the live index as it is
                    drop_generation(self.client, gen.name)
        report.seconds = time.perf_counter() - started
        return report

    def _publish(self, generation: str, live: str | None) -> None:
        if live is None:
            self.client.create_alias(generation, self.address.collection)
        else:
            self.client.alter_alias(generation, self.address.collection)

    def _write(self, gen: _Generation, sources, remove, replace: bool, report: BuildReport) -> None:
        for doc_id in remove:
            if gen.remove(doc_id):
                report.removed.append(doc_id)
            else:
                report.skipped.append(LoadError(doc_id, "no such document in the index"))
        docs = self._load(sources, roots_with(gen.manifest, sources), report)
        admitted = self._admit(docs, gen.store.has_document, replace, report)
        if not admitted:
            return
        tokens = [[tokenize(p.embedding_text) for p in passages] for _, passages in admitted]
        if gen.manifest.get("avgdl") is None:  # a new index: BM25's average length from its first documents
            gen.manifest["avgdl"] = average_length([t for doc_tokens in tokens for t in doc_tokens])
        pairs = [(p.embedding_text, p.content_hash) for _, passages in admitted for p in passages]
        cache = EmbeddingCache(self.cache_path, warn=self.notify)
        try:
            matrix, embedded = embed_passages(pairs, self.embedder, cache, self.progress, self.show)
        finally:
            cache.close()
        report.embedded, report.cached = embedded, len(pairs) - embedded
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        offset = 0
        for (doc, passages), doc_tokens in track(list(zip(admitted, tokens)), "writing to Milvus",
                                                 callback=self.progress, show=self.show):
            gen.put(doc, passages, doc_tokens, matrix[offset:offset + len(passages)], stamp)
            offset += len(passages)
            report.added.append(doc.id)
            report.passages += len(passages)

    def learn(self, questions: Sequence[TrainingQuestion]) -> LearnReport:
        started = time.perf_counter()
        report = LearnReport()
        with writer_lock(self.address.state_dir, self.notify):
            live = live_generation(self.client, self.address)
            if live is None:
                raise QAIndexError(f"no index at {self.address}: build one before storing training questions")
            gen = self._open_live(live)
            kept = self._embed_resolvable(gen.store, questions, report)
            if questions and not kept.questions:
                return report
            gen.begin()
            self.client.delete(gen.meta, filter='kind in ["question", "adapter"]')
            rows = [record(f"question:{i}", "question", {"id": q.id, "question": q.question, "gold": q.gold,
                                                          "vector": np.asarray(v, dtype=np.float32).tolist()})
                    for i, (q, v) in enumerate(zip(kept.questions, kept.vectors))]
            for start in range(0, len(rows), INSERT_BATCH):
                self.client.insert(gen.meta, rows[start:start + INSERT_BATCH])
            dense = MilvusDense(self.client, gen.name, self.embedder.dim, gen.store.count()[1])
            adapter = self._fit_adapter(kept, dense)
            if adapter is not None:
                self.client.insert(gen.meta, adapter_records(adapter))
            gen.manifest["training_questions"] = len(kept.questions)
            gen.manifest["query_adapter"] = adapter is not None
            gen.finish()
            report.learned, report.adapter = len(kept.questions), adapter is not None
        report.seconds = time.perf_counter() - started
        return report
