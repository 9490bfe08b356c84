"""SQLite store of documents and passages (and their BM25 tokens), one file per index."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

import numpy as np

from .filters import Filters
from .models import Document, Passage

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, kind TEXT NOT NULL, language TEXT NOT NULL,
    date TEXT, source TEXT, passages INTEGER NOT NULL DEFAULT 0, added_at TEXT NOT NULL,
    promulgated TEXT, amended TEXT, in_force_from TEXT, region TEXT, version_label TEXT
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, part INTEGER NOT NULL, article TEXT, headings TEXT NOT NULL,
    text TEXT NOT NULL, content_hash TEXT NOT NULL, tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id, position);
CREATE INDEX IF NOT EXISTS passages_article ON passages(article);
CREATE TABLE IF NOT EXISTS training_questions (
    position INTEGER PRIMARY KEY, id TEXT NOT NULL, question TEXT NOT NULL, gold TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS query_adapter (
    one INTEGER PRIMARY KEY CHECK (one = 1), dim INTEGER NOT NULL, weights BLOB NOT NULL
);
"""
# ---------------------------------------------------------------- cross-references (qa/references.py)
# One row per reference found in a passage, as written (law as named, article label, paragraphs):
# which passage it lands on is worked out when read (qa/reference_resolver.py), against the
# documents indexed then. Older indexes lack the table: reads say "none recorded", and the next
# change to the index records them for every document.
REFERENCES_TABLE = "passage_references"
REFERENCES_SCHEMA = """
CREATE TABLE IF NOT EXISTS passage_references (
    passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, text TEXT NOT NULL, law TEXT, article TEXT, paragraphs TEXT NOT NULL,
    item INTEGER, problem TEXT, law_unbracketed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS passage_references_passage ON passage_references(passage_id);
"""
# ---------------------------------------------------------------- end of cross-references

_PASSAGE_COLUMNS = ("p.id, p.doc_id, p.position, p.part, p.article, p.headings, p.text, "
                    "d.title, d.kind, d.language, d.date, d.source")
# Added after the first indexes were built: older stores lack them (read as unknown, filled from the
# stored text the next time the index is changed).
META_COLUMNS = ("promulgated", "amended", "in_force_from", "region", "version_label")
_CACHED_FILTERS = 256


class Store:
    """Documents and passages; passage ``id`` is also the vector id in FAISS and BM25."""

    def __init__(self, path: Path, readonly: bool = False):
        """``readonly`` opens an existing file without creating anything: a published generation
        is never written again, and a damaged one must fail loudly rather than come back empty."""
        self.path = Path(path)
        if readonly:
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        else:
            self._db = sqlite3.connect(str(self.path), check_same_thread=False)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.executescript(SCHEMA)
            self.references_missing = not self._has_table(REFERENCES_TABLE)  # cross-references
            self._db.executescript(REFERENCES_SCHEMA)
        self._lock = threading.RLock()
        self._meta_columns = self._present_meta_columns()
        if not readonly and len(self._meta_columns) < len(META_COLUMNS):
            self._add_meta_columns()
        self._forget_derived()

    # -------------------------------------------------------------- document metadata (versions, region)
    def _present_meta_columns(self) -> tuple[str, ...]:
        have = {r[1] for r in self._db.execute("PRAGMA table_info(documents)")}
        return tuple(c for c in META_COLUMNS if c in have)

    def _add_meta_columns(self) -> None:
        """Migrate a store built before document dates and regions: add the columns and fill them
        from each document's stored passages (its title lines and commencement clause)."""
        from .document_meta import describe

        missing = [c for c in META_COLUMNS if c not in self._meta_columns]
        with self._lock, self._db:
            for column in missing:
                self._db.execute(f"ALTER TABLE documents ADD COLUMN {column} TEXT")
            docs = list(self._db.execute("SELECT id, title, kind, date FROM documents"))
            for doc_id, title, kind, day in docs:
                text = "\n".join(r[0] for r in self._db.execute(
                    "SELECT text FROM passages WHERE doc_id = ? ORDER BY position", (doc_id,)))
                meta = describe(title, text, kind, day)
                self._db.execute(f"UPDATE documents SET {', '.join(f'{c} = ?' for c in META_COLUMNS)} WHERE id = ?",
                                 (*(getattr(meta, c) for c in META_COLUMNS), doc_id))
        self._meta_columns = META_COLUMNS

    def _forget_derived(self) -> None:
        """Drop what is computed from the documents table (after a write)."""
        self._dates: Optional[list] = None
        self._labels: Optional[dict[str, str]] = None
        self._passage_docs: Optional[tuple[np.ndarray, np.ndarray, dict[str, int]]] = None
        self._allowed_cache: dict = {}

    def document_dates(self) -> list:
        """Every document's ``qa.versions.DocumentDates`` (cached until the next write)."""
        from .versions import dates_of_record

        if self._dates is None:
            cols = ", ".join(c if c in self._meta_columns else f"NULL AS {c}" for c in META_COLUMNS)
            with self._lock:
                cur = self._db.execute(f"SELECT id, title, kind, date, {cols} FROM documents")
                names = [c[0] for c in cur.description]
                rows = [dict(zip(names, r)) for r in cur]
            self._dates = [dates_of_record(r["id"], r) for r in rows]
        return self._dates

    def version_labels(self) -> dict[str, str]:
        """doc id → the version label its citations carry (laws indexed in several versions only)."""
        from .versions import version_labels

        if self._labels is None:
            self._labels = version_labels(self.document_dates())
        return self._labels

    def close(self) -> None:
        self._db.close()

    def _has_table(self, name: str) -> bool:
        return self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                (name,)).fetchone() is not None

    def unsynced(self) -> None:
        """Skip fsync while writing a generation that is not live yet (it is published atomically later)."""
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("PRAGMA journal_mode = MEMORY")

    # -------------------------------------------------------------- writes
    def add_document(self, doc: Document, passages: Sequence[Passage], tokens: Sequence[Sequence[str]],
                     added_at: str) -> list[int]:
        """Insert a document and its passages; returns the new passage ids in order."""
        with self._lock, self._db:
            self._forget_derived()
            self._db.execute(
                "INSERT INTO documents (id, title, kind, language, date, source, passages, added_at, "
                f"{', '.join(META_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (doc.id, doc.title, doc.kind, doc.language, doc.date, doc.source, len(passages), added_at,
                 *(getattr(doc, c) for c in META_COLUMNS)))
            ids = []
            for p, toks in zip(passages, tokens):
                cur = self._db.execute(
                    "INSERT INTO passages (doc_id, position, part, article, headings, text, content_hash, tokens) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc.id, p.position, p.part, p.article, json.dumps(p.headings, ensure_ascii=False), p.text,
                     p.content_hash, json.dumps(list(toks), ensure_ascii=False)))
                ids.append(int(cur.lastrowid))
            return ids

    def remove_document(self, doc_id: str) -> list[int]:
        """Delete a document; returns the ids of the passages that went with it."""
        with self._lock, self._db:
            self._forget_derived()
            ids = [r[0] for r in self._db.execute("SELECT id FROM passages WHERE doc_id = ?", (doc_id,))]
            self._db.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
            self._db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
            return ids

    def set_training_questions(self, rows: Sequence[tuple[str, str, list, np.ndarray]]) -> None:
        """Replace the training questions: (id, question, gold items, query vector) each."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM training_questions")
            self._db.executemany(
                "INSERT INTO training_questions (id, question, gold, vector) VALUES (?, ?, ?, ?)",
                [(qid, q, json.dumps(gold, ensure_ascii=False), np.asarray(v, dtype=np.float32).tobytes())
                 for qid, q, gold, v in rows])

    def set_query_adapter(self, weights: Optional[np.ndarray]) -> None:
        """Store the query adapter fitted to the training questions (None: there is none)."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM query_adapter")
            if weights is not None:
                self._db.execute("INSERT INTO query_adapter (one, dim, weights) VALUES (1, ?, ?)",
                                 (len(weights), np.asarray(weights, dtype=np.float32).tobytes()))

    # -------------------------------------------------------------- reads
    def query_adapter(self) -> Optional[np.ndarray]:
        """The stored query adapter (dim × dim), or None; indexes taught before adapters were stored
        have no table for it."""
        if not self._has_table("query_adapter"):
            return None
        with self._lock:
            row = self._db.execute("SELECT dim, weights FROM query_adapter").fetchone()
        return None if row is None else np.frombuffer(row[1], dtype=np.float32).reshape(row[0], row[0]).copy()

    def training_questions(self) -> list[tuple[str, str, str, bytes]]:
        with self._lock:
            return list(self._db.execute("SELECT id, question, gold, vector FROM training_questions ORDER BY position"))

    def passage_keys(self, doc_ids: Iterable[str]) -> list[tuple[int, str, Optional[str], str, str]]:
        """(passage id, doc id, article, title, text) of every passage of these documents, each
        document's in reading order (as on every backend: a document-level gold resolves alike)."""
        return self._rows_in("SELECT p.id, p.doc_id, p.article, d.title, p.text FROM passages p "
                             "JOIN documents d ON d.id = p.doc_id WHERE p.doc_id IN ({marks}) "
                             "ORDER BY p.doc_id, p.position, p.part", doc_ids)

    def has_document(self, doc_id: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None

    def documents(self, today: Optional[date] = None) -> list[dict]:
        """Every document with its dates, region, version label and ``status`` today (in force,
        superseded, not yet in force, or None when its dates are unknown)."""
        from .versions import annotate

        meta = ", ".join(c if c in self._meta_columns else f"NULL AS {c}" for c in META_COLUMNS)
        with self._lock:
            cur = self._db.execute(f"SELECT id, title, kind, language, date, source, passages, added_at, {meta} "
                                   "FROM documents ORDER BY kind DESC, id")
            cols = [c[0] for c in cur.description]
            rows = [dict(zip(cols, row)) for row in cur]
        return annotate(rows, self.document_dates(), today)

    def count(self) -> tuple[int, int]:
        with self._lock:
            docs = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            passages = self._db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
            return docs, passages

    def passage_ids(self) -> list[int]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM passages")]

    def integrity_check(self) -> str:
        with self._lock:
            return "; ".join(r[0] for r in self._db.execute("PRAGMA integrity_check"))

    def _passage(self, row) -> Passage:
        pid, doc_id, position, part, article, headings, text, title, kind, language, day, source = row
        return Passage(doc_id=doc_id, title=title, text=text, article=article, headings=json.loads(headings),
                       part=part, kind=kind, language=language, date=day, source=source, position=position,
                       id=pid, version=self.version_labels().get(doc_id))

    def _rows_in(self, query: str, values: Iterable) -> list[tuple]:
        """Rows of ``query`` (with one ``{marks}`` placeholder for an IN list) for many values, in
        chunks: SQLite caps the number of parameters."""
        values = list(values)
        rows: list[tuple] = []
        with self._lock:
            for start in range(0, len(values), 500):
                chunk = values[start:start + 500]
                rows.extend(self._db.execute(query.format(marks=",".join("?" * len(chunk))), chunk))
        return rows

    def _rows_for_ids(self, columns: str, ids: Iterable[int]) -> list[tuple]:
        """Rows of passages ⋈ documents for many passage ids."""
        return self._rows_in(f"SELECT {columns} FROM passages p JOIN documents d ON d.id = p.doc_id "
                             "WHERE p.id IN ({marks})", (int(i) for i in ids))

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        return {row[0]: self._passage(row) for row in self._rows_for_ids(_PASSAGE_COLUMNS, ids)}

    def document_passages(self, doc_id: str) -> list[tuple[int, Passage]]:
        with self._lock:
            q = (f"SELECT {_PASSAGE_COLUMNS} FROM passages p JOIN documents d ON d.id = p.doc_id "
                 "WHERE p.doc_id = ? ORDER BY p.position")
            return [(row[0], self._passage(row)) for row in self._db.execute(q, (doc_id,))]

    def find_article(self, article: str, doc_ids: Optional[Sequence[str]] = None) -> list[tuple[int, str]]:
        """(passage id, doc id) of the first piece of ``article`` in the given (or all) documents."""
        with self._lock:
            q = "SELECT id, doc_id FROM passages WHERE article = ? AND part = 0"
            rows = list(self._db.execute(q, (article,)))
        if doc_ids is not None:
            order = {d: i for i, d in enumerate(doc_ids)}
            rows = sorted((r for r in rows if r[1] in order), key=lambda r: order[r[1]])
        return rows

    def passage_ids_for_titles(self, titles: Sequence[str]) -> list[int]:
        with self._lock:
            q = (f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id "
                 f"WHERE d.title IN ({','.join('?' * len(titles))})")
            return [r[0] for r in self._db.execute(q, list(titles))]

    def allowed_ids(self, filters: Optional[Filters], today: Optional[date] = None) -> Optional[np.ndarray]:
        """The passage ids a search may return (sorted), or None when every passage may be returned.

        Without filters this still leaves out superseded versions of a law (``qa.versions``).
        Filters that leave no document raise ``NoMatchingDocuments``. Cached per filters and day
        until the next write, so a repeated filter costs a dictionary look-up.
        """
        key = (filters or Filters(), today or date.today())
        if key in self._allowed_cache:
            return self._allowed_cache[key]
        docs = self.filtered_doc_ids(*key)
        if docs is None:
            allowed = None
        else:
            pids, codes, code_of = self._passage_doc_codes()
            wanted = np.fromiter((code_of[d] for d in docs if d in code_of), dtype=np.int32)
            allowed = pids[np.isin(codes, wanted)]
        if len(self._allowed_cache) >= _CACHED_FILTERS:
            self._allowed_cache.clear()
        self._allowed_cache[key] = allowed
        return allowed

    def _passage_doc_codes(self) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
        """Every passage id (sorted) beside a small integer standing for its document."""
        if self._passage_docs is None:
            with self._lock:
                rows = list(self._db.execute("SELECT id, doc_id FROM passages ORDER BY id"))
            code_of: dict[str, int] = {}
            codes = np.fromiter((code_of.setdefault(d, len(code_of)) for _, d in rows), dtype=np.int32, count=len(rows))
            self._passage_docs = (np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), codes, code_of)
        return self._passage_docs

    def filtered_doc_ids(self, filters: Filters, today: Optional[date] = None) -> Optional[list[str]]:
        """Ids of the documents ``filters`` admit (None: all of them); see ``qa.versions.admitted``."""
        from .versions import admitted

        return admitted(self.document_dates(), filters, today)

    def doc_ids_of(self, ids: Iterable[int]) -> dict[int, str]:
        return dict(self._rows_for_ids("p.id, p.doc_id", ids))

    def effective_clauses(self, titles: Sequence[str], pattern) -> list[int]:
        """Per document of these titles, the last passage matching ``pattern`` (the commencement clause)."""
        with self._lock:
            q = (f"SELECT p.id, p.doc_id, p.text FROM passages p JOIN documents d ON d.id = p.doc_id "
                 f"WHERE d.title IN ({','.join('?' * len(titles))}) ORDER BY p.doc_id, p.position")
            rows = list(self._db.execute(q, list(titles)))
        last: dict[str, int] = {}
        for pid, doc_id, text in rows:
            if pattern.search(text):
                last[doc_id] = pid
        return list(last.values())

    def languages(self) -> set[str]:
        """The languages of the indexed documents."""
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT DISTINCT language FROM documents")}

    def languages_of(self, ids: Iterable[int]) -> dict[int, str]:
        return dict(self._rows_for_ids("p.id, d.language", ids))

    def all_tokens(self) -> Iterator[tuple[int, list[str]]]:
        with self._lock:
            rows = list(self._db.execute("SELECT id, tokens FROM passages ORDER BY id"))
        for pid, tokens in rows:
            yield pid, json.loads(tokens)

    def titles_of(self, ids: Iterable[int]) -> dict[int, str]:
        return dict(self._rows_for_ids("p.id, d.title", ids))

    def titles(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT id, title FROM documents"))

    # -------------------------------------------------------------- cross-references (qa/references.py)
    def add_references(self, rows: Sequence[tuple[int, "object"]]) -> None:
        """Record (passage id, ``qa.references.Reference``) rows as written."""
        with self._lock, self._db:
            self._db.executemany(
                'INSERT INTO passage_references (passage_id, start, "end", text, law, article, paragraphs, item, '
                "problem, law_unbracketed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(pid, r.start, r.end, r.text, r.law, r.article, json.dumps(r.paragraphs), r.item, r.problem,
                  int(r.law_unbracketed))
                 for pid, r in rows])

    def clear_references(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM passage_references")

    def references_of(self, ids: Iterable[int]) -> Optional[dict[int, list[tuple]]]:
        """Raw references by passage id: (start, end, text, law, article, paragraphs, item, problem,
        law_unbracketed);
        None when this index recorded none (built before references were parsed)."""
        with self._lock:
            if not self._has_table(REFERENCES_TABLE):
                return None
        out: dict[int, list[tuple]] = {}
        rows = self._rows_in('SELECT passage_id, start, "end", text, law, article, paragraphs, item, problem, '
                             "law_unbracketed FROM passage_references WHERE passage_id IN ({marks}) ORDER BY passage_id, start",
                             (int(i) for i in ids))
        for pid, *rest in rows:
            rest[5] = json.loads(rest[5])
            out.setdefault(pid, []).append(tuple(rest))
        return out

    def article_pieces(self, doc_id: str, article: str) -> list[tuple[int, str]]:
        """(passage id, text) of every piece of one article of one document, in order."""
        with self._lock:
            return list(self._db.execute("SELECT id, text FROM passages WHERE doc_id = ? AND article = ? "
                                         "ORDER BY part", (doc_id, article)))

    def documents_titled(self, titles: Sequence[str]) -> list[tuple[str, str, Optional[str]]]:
        """(doc id, title, date) of the documents with these titles, newest first."""
        with self._lock:
            q = f"SELECT id, title, date FROM documents WHERE title IN ({','.join('?' * len(titles))})"
            rows = list(self._db.execute(q, list(titles)))
        return sorted(rows, key=lambda r: (r[2] or "", r[0]), reverse=True)
    # -------------------------------------------------------------- end of cross-references


class EmbeddingCache:
    """Passage vectors by (embedder, content hash), kept beside the index across rebuilds.

    Only a cache: a damaged file is set aside (renamed, with a warning) and a new one started,
    and a read or write that fails later is a miss, never a failed build.
    """

    def __init__(self, path: Path, warn: Optional[Callable[[str], None]] = None):
        self.path = Path(path)
        self._warn = warn or (lambda message: None)
        self._lock = threading.Lock()
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as exc:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
                                        f"-{time.monotonic_ns() % 10**6}")
            os.replace(self.path, aside)
            self._warn(f"warning: the embedding cache {self.path} is damaged ({exc}); moved it to {aside.name} "
                       "and started a new one (passages are embedded again)")
            self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), check_same_thread=False)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (embedder TEXT, hash TEXT, vector BLOB, "
                       "PRIMARY KEY (embedder, hash))")
            db.execute("SELECT hash FROM vectors LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def get(self, embedder: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        try:
            with self._lock:
                for start in range(0, len(hashes), 500):
                    chunk = list(hashes[start:start + 500])
                    q = f"SELECT hash, vector FROM vectors WHERE embedder = ? AND hash IN ({','.join('?' * len(chunk))})"
                    for h, blob in self._db.execute(q, [embedder, *chunk]):
                        out[h] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.DatabaseError as exc:
            self._warn(f"warning: could not read the embedding cache ({exc}); embedding without it")
            return {}
        return out

    def put(self, embedder: str, items: dict[str, np.ndarray]) -> None:
        try:
            with self._lock, self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                                     [(embedder, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()])
        except sqlite3.DatabaseError as exc:
            self._warn(f"warning: could not write the embedding cache ({exc}); the index is unaffected")

    def close(self) -> None:
        self._db.close()
