"""Does an index generation hold together? Checked cheaply on every open, deeply by ``qa index verify``.

A generation has four parts (manifest.json, passages.sqlite, vectors.faiss, bm25/) that must
describe the same passages. A part that is missing, unreadable or disagrees with the others
is named in one line with the fix, instead of an empty result, a silent dense-only fallback
or a traceback; and a writer refuses to build a new generation on top of a damaged one.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .dense import DenseIndex
from .lexical import LexicalIndex
from .store import Store

FORMAT_VERSION = 1


class QAIndexError(RuntimeError):
    """The index is missing, damaged or was built for something else; the message says how to fix it."""


def no_index(index_dir) -> QAIndexError:
    return QAIndexError(f"no index at {index_dir}: build one with `qa index build SRC... --index {index_dir}`")


def rebuild_hint(index_dir) -> str:
    return (f"rebuild it with `qa index build SRC... --index {index_dir}` "
            "(vectors already embedded come from the embedding cache)")


@dataclass
class Parts:
    """The opened parts of one generation."""

    path: Path
    manifest: dict
    store: Store
    vectors: DenseIndex
    lexical: Optional[LexicalIndex]


@dataclass
class VerifyReport:
    generation: Optional[str] = None
    counts: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        head = f"generation {self.generation}: {counts}" if self.generation else "no generation"
        if self.ok:
            return f"OK — {head}"
        return f"DAMAGED — {head}\n" + "\n".join(f"  - {p}" for p in self.problems)


def _damaged(index_dir, part: str, why: str) -> QAIndexError:
    return QAIndexError(f"the index at {index_dir} is damaged: {part} {why}; {rebuild_hint(index_dir)}")


def read_manifest_file(gen: Path, index_dir) -> dict:
    try:
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(index_dir, "manifest.json", f"cannot be read ({exc.__class__.__name__})") from exc
    if not isinstance(manifest, dict):
        raise _damaged(index_dir, "manifest.json", "is not a JSON object")
    if manifest.get("format") != FORMAT_VERSION:
        raise QAIndexError(f"index format {manifest.get('format')} at {index_dir} is not {FORMAT_VERSION}; "
                           f"{rebuild_hint(index_dir)}")
    return manifest


def open_parts(gen: Path, index_dir) -> Parts:
    """Open every part of ``gen``; a missing or unreadable part is a QAIndexError naming it."""
    manifest = read_manifest_file(gen, index_dir)
    sqlite_path = gen / "passages.sqlite"
    if not sqlite_path.is_file() or sqlite_path.stat().st_size == 0:
        raise _damaged(index_dir, "passages.sqlite", "is missing or empty")
    try:
        store = Store(sqlite_path, readonly=True)
        store.count()
    except sqlite3.DatabaseError as exc:
        raise _damaged(index_dir, "passages.sqlite", f"is not a readable SQLite database ({exc})") from exc
    try:
        if not (gen / "vectors.faiss").is_file():
            raise _damaged(index_dir, "vectors.faiss", "is missing")
        try:
            vectors = DenseIndex.load(gen / "vectors.faiss")
        except RuntimeError as exc:
            raise _damaged(index_dir, "vectors.faiss", "cannot be read by FAISS") from exc
        lexical = None
        if (gen / "bm25").is_dir():
            try:
                lexical = LexicalIndex.load(gen / "bm25")
            except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
                raise _damaged(index_dir, "bm25/", f"cannot be read ({exc.__class__.__name__})") from exc
    except BaseException:
        store.close()
        raise
    return Parts(gen, manifest, store, vectors, lexical)


def disagreements(parts: Parts) -> list[str]:
    """Cheap checks (counts only): run on every open."""
    problems = []
    documents, passages = parts.store.count()
    if parts.manifest.get("passages") != passages or parts.manifest.get("documents") != documents:
        problems.append(f"manifest.json says {parts.manifest.get('documents')} documents / "
                        f"{parts.manifest.get('passages')} passages, passages.sqlite holds {documents} / {passages}")
    if len(parts.vectors) != passages:
        problems.append(f"vectors.faiss holds {len(parts.vectors)} vectors for {passages} passages")
    if parts.manifest.get("dim") not in (None, parts.vectors.dim):
        problems.append(f"vectors.faiss has dimension {parts.vectors.dim}, the manifest says {parts.manifest.get('dim')}")
    if passages and parts.lexical is None:
        problems.append("bm25/ is missing")
    elif parts.lexical is not None and len(parts.lexical.ids) != passages:
        problems.append(f"bm25/ holds {len(parts.lexical.ids)} passages, passages.sqlite {passages}")
    return problems


def deep_disagreements(parts: Parts) -> list[str]:
    """Slower checks for ``qa index verify``: SQLite integrity and the same passage ids everywhere."""
    import numpy as np

    problems = []
    result = parts.store.integrity_check()
    if result != "ok":
        problems.append(f"passages.sqlite fails SQLite's integrity check: {result}")
    ids = np.sort(np.asarray(parts.store.passage_ids(), dtype=np.int64))
    if not np.array_equal(np.sort(parts.vectors.ids()), ids):
        problems.append("vectors.faiss and passages.sqlite hold different passage ids")
    if parts.lexical is not None and not np.array_equal(np.sort(parts.lexical.ids), ids):
        problems.append("bm25/ and passages.sqlite hold different passage ids")
    return problems


def verify_generation(gen: Path, index_dir) -> VerifyReport:
    report = VerifyReport(generation=gen.name)
    try:
        parts = open_parts(gen, index_dir)
    except QAIndexError as exc:
        report.problems.append(str(exc))
        return report
    try:
        documents, passages = parts.store.count()
        report.counts = {"documents": documents, "passages": passages, "vectors": len(parts.vectors),
                         "bm25": len(parts.lexical.ids) if parts.lexical is not None else 0,
                         "embedder": parts.manifest.get("embedder")}
        report.problems += disagreements(parts) + deep_disagreements(parts)
    finally:
        parts.store.close()
    return report
