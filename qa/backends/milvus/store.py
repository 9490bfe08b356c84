"""The metadata role on Milvus: documents, passages and training questions of one generation.

Document records are few (one per law) and are read once when the generation is opened; passage
metadata is queried by id and remembered (a passage id never changes meaning: a replaced document
gets new ids). Filters become a scalar expression on the passages (``doc_id in [...]``) that the
dense and lexical searches hand to Milvus, so the server skips what is not allowed.
"""
from __future__ import annotations

import base64
import json
import threading
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np

from ...filters import Filters
from ...models import Passage
from ...store import META_COLUMNS
from ...versions import DocumentDates, admitted, annotate, dates_of_record, version_labels
from .collections import PASSAGE_FIELDS, VARCHAR_MAX, literal, meta_name, record, rows_for, scan

_CACHE_LIMIT = 200_000
DOCUMENT_FIELDS = ("title", "kind", "language", "date", "source", "passages", "added_at")  # as Store.documents()
# A record's body is one VARCHAR: the query adapter (384 × 384 floats ≈ 590 KB) is stored as base64
# in parts that each fit one.
_ADAPTER_PART = VARCHAR_MAX - 1024


def adapter_records(weights: np.ndarray) -> list[dict]:
    """The query adapter as ``adapter:<n>`` records of the generation's records collection."""
    data = base64.b64encode(np.asarray(weights, dtype=np.float32).tobytes()).decode("ascii")
    parts = [data[i:i + _ADAPTER_PART] for i in range(0, len(data), _ADAPTER_PART)]
    return [record(f"adapter:{n}", "adapter", {"dim": len(weights), "part": n, "data": part})
            for n, part in enumerate(parts)]


class AllowedIds(np.ndarray):
    """Allowed passage ids (what ``Retriever`` intersects with) plus the Milvus expression that
    selects the same passages on the server (what the searches send)."""

    expression: str = ""

    @classmethod
    def of(cls, ids: Sequence[int], expression: str) -> "AllowedIds":
        array = np.asarray(sorted(ids), dtype=np.int64).view(cls)
        array.expression = expression
        return array

    def __array_finalize__(self, obj) -> None:
        self.expression = getattr(obj, "expression", "")


def allowed_expression(allowed: Optional[np.ndarray]):
    """The filter for a search: "" (everything), an expression, or False (nothing is allowed)."""
    if allowed is None:
        return ""
    if not len(allowed):
        return False
    expression = getattr(allowed, "expression", "")
    return expression or f"id in {literal(int(i) for i in allowed)}"


def _passage(row: dict) -> Passage:
    return Passage(doc_id=row["doc_id"], title=row["title"], text=row["text"], article=row["article"] or None,
                   headings=json.loads(row["headings"]), part=int(row["part"]), kind=row["kind"],
                   language=row["language"], date=row["date"] or None, source=row["source"] or None,
                   position=int(row["position"]), id=int(row["id"]))


class MilvusStore:
    """Read side of the metadata, with the same methods as ``Store`` (qa/store.py)."""

    def __init__(self, client, generation: str):
        self._client = client
        self.generation = generation
        self._docs: dict[str, dict] = {}
        self._tags: dict[str, str] = {}
        for row in scan(client, meta_name(generation), 'kind == "doc"', ["key", "body"]):
            body = json.loads(row["body"])
            self._tags[row["key"][4:]] = body.pop("tag", "")
            self._docs[row["key"][4:]] = body
        self._rows: dict[int, dict] = {}
        self._lock = threading.Lock()
        self._dates: Optional[list[DocumentDates]] = None
        self._labels: dict[str, str] = {}

    def close(self) -> None:
        """Nothing to release: the client is shared per server (``client_for``)."""

    # -------------------------------------------------------------- documents (held in memory)
    def documents(self) -> list[dict]:
        rows = [{"id": doc_id, **{k: body.get(k) for k in DOCUMENT_FIELDS + META_COLUMNS}}
                for doc_id, body in self._docs.items()]
        rows.sort(key=lambda d: d["id"])
        return annotate(sorted(rows, key=lambda d: d["kind"], reverse=True), self.document_dates())

    def document_dates(self) -> list[DocumentDates]:
        """Dates, region and title of every document, for filters and versions (``qa.versions``)."""
        if self._dates is None:
            self._dates = [dates_of_record(doc_id, body) for doc_id, body in self._docs.items()]
            self._labels = version_labels(self._dates)
        return self._dates

    def _labelled(self, passage: Passage) -> Passage:
        """Name the version in the citation when several versions of its law are indexed."""
        self.document_dates()
        passage.version = self._labels.get(passage.doc_id)
        return passage

    def has_document(self, doc_id: str) -> bool:
        return doc_id in self._docs

    def document_tag(self, doc_id: str) -> Optional[str]:
        return self._tags.get(doc_id)

    def remember_document(self, doc_id: str, body: dict) -> None:
        """A writer committed this document record (keeps this store's view in step with it)."""
        body = dict(body)
        self._tags[doc_id] = body.pop("tag", "")
        self._docs[doc_id] = body
        self._dates = None

    def forget_document(self, doc_id: str) -> None:
        self._docs.pop(doc_id, None)
        self._tags.pop(doc_id, None)
        self._dates = None

    def document_digest(self, doc_id: str) -> Optional[str]:
        return self._docs.get(doc_id, {}).get("digest")

    def titles(self) -> dict[str, str]:
        return {doc_id: body["title"] for doc_id, body in self._docs.items()}

    def languages(self) -> set[str]:
        return {body["language"] for body in self._docs.values()}

    def count(self) -> tuple[int, int]:
        return len(self._docs), sum(int(body["passages"]) for body in self._docs.values())

    def filtered_doc_ids(self, filters: Filters) -> Optional[list[str]]:
        """Ids of the documents ``filters`` admit (None: all of them); see ``qa.versions.admitted``."""
        return admitted(self.document_dates(), filters)

    def allowed_ids(self, filters: Optional[Filters]) -> Optional[np.ndarray]:
        """As ``Store.allowed_ids``: superseded versions are left out even without filters."""
        docs = self.filtered_doc_ids(filters or Filters())
        if docs is None:
            return None
        expression = f"doc_id in {literal(docs)}"
        ids = [int(r["id"]) for r in scan(self._client, self.generation, expression, ["id"])] if docs else []
        return AllowedIds.of(ids, expression)

    # -------------------------------------------------------------- passages (queried, remembered)
    def _passage_rows(self, ids: Iterable[int]) -> dict[int, dict]:
        ids = [int(i) for i in ids]
        with self._lock:
            known = {i: self._rows[i] for i in ids if i in self._rows}
        missing = [i for i in dict.fromkeys(ids) if i not in known]
        if missing:
            fetched = {int(r["id"]): r for r in rows_for(self._client, self.generation, "id", missing, PASSAGE_FIELDS)}
            known.update(fetched)
            with self._lock:
                if len(self._rows) + len(fetched) > _CACHE_LIMIT:
                    self._rows.clear()
                self._rows.update(fetched)
        return known

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        return {pid: self._labelled(_passage(row)) for pid, row in self._passage_rows(ids).items()}

    def doc_ids_of(self, ids: Iterable[int]) -> dict[int, str]:
        return {pid: row["doc_id"] for pid, row in self._passage_rows(ids).items()}

    def titles_of(self, ids: Iterable[int]) -> dict[int, str]:
        return {pid: row["title"] for pid, row in self._passage_rows(ids).items()}

    def languages_of(self, ids: Iterable[int]) -> dict[int, str]:
        return {pid: row["language"] for pid, row in self._passage_rows(ids).items()}

    def references_of(self, ids: Iterable[int]) -> dict[int, list[tuple]]:
        """Cross-references as written, by passage id (the rows ``Store.references_of`` gives)."""
        out: dict[int, list[tuple]] = {}
        for pid, row in self._passage_rows(ids).items():
            refs = json.loads(row.get("refs") or "[]")
            if refs:
                out[pid] = [tuple(r) for r in refs]
        return out

    def article_pieces(self, doc_id: str, article: str) -> list[tuple[int, str]]:
        expr = f"doc_id == {json.dumps(doc_id, ensure_ascii=False)} and article == {json.dumps(article, ensure_ascii=False)}"
        rows = self._client.query(self.generation, filter=expr, output_fields=["id", "part", "text"], limit=16384)
        return [(int(r["id"]), r["text"]) for r in sorted(rows, key=lambda r: int(r["part"]))]

    def documents_titled(self, titles: Sequence[str]) -> list[tuple[str, str, Optional[str]]]:
        rows = [(doc_id, body["title"], body.get("date")) for doc_id, body in self._docs.items()
                if body["title"] in titles]
        return sorted(rows, key=lambda r: (r[2] or "", r[0]), reverse=True)

    def document_passages(self, doc_id: str) -> list[tuple[int, Passage]]:
        rows = list(scan(self._client, self.generation, f"doc_id == {json.dumps(doc_id, ensure_ascii=False)}",
                         PASSAGE_FIELDS))
        rows.sort(key=lambda r: int(r["position"]))
        return [(int(r["id"]), self._labelled(_passage(r))) for r in rows]

    def find_article(self, article: str, doc_ids: Optional[Sequence[str]] = None) -> list[tuple[int, str]]:
        rows = self._client.query(self.generation, filter=f"article == {json.dumps(article, ensure_ascii=False)} "
                                  "and part == 0", output_fields=["id", "doc_id"], limit=16384)
        found = sorted((int(r["id"]), r["doc_id"]) for r in rows)
        if doc_ids is not None:
            order = {d: i for i, d in enumerate(doc_ids)}
            found = sorted((r for r in found if r[1] in order), key=lambda r: order[r[1]])
        return found

    def passage_ids_for_titles(self, titles: Sequence[str]) -> list[int]:
        if not titles:
            return []
        return sorted(int(r["id"]) for r in scan(self._client, self.generation, f"title in {literal(titles)}", ["id"]))

    def effective_clauses(self, titles: Sequence[str], pattern) -> list[int]:
        """Per document of these titles, the last passage matching ``pattern`` (the commencement clause)."""
        if not titles:
            return []
        rows = sorted(scan(self._client, self.generation, f"title in {literal(titles)}",
                           ["id", "doc_id", "position", "text"]), key=lambda r: (r["doc_id"], int(r["position"])))
        last: dict[str, int] = {}
        for row in rows:
            if pattern.search(row["text"]):
                last[row["doc_id"]] = int(row["id"])
        return list(last.values())

    def passage_keys(self, doc_ids: Iterable[str]) -> list[tuple[int, str, Optional[str], str, str]]:
        doc_ids = list(dict.fromkeys(doc_ids))
        out = []
        for start in range(0, len(doc_ids), 500):
            expr = f"doc_id in {literal(doc_ids[start:start + 500])}"
            out.extend(scan(self._client, self.generation, expr, ["id", "doc_id", "article", "title", "text", "position", "part"]))
        out.sort(key=lambda r: (r["doc_id"], r["position"], r["part"]))  # reading order, as the folder backend
        return [(int(r["id"]), r["doc_id"], r["article"] or None, r["title"], r["text"]) for r in out]

    def training_questions(self) -> list[tuple[str, str, str, bytes]]:
        rows = list(scan(self._client, meta_name(self.generation), 'kind == "question"', ["key", "body"]))
        rows.sort(key=lambda r: int(r["key"].split(":", 1)[1]))
        out = []
        for row in rows:
            body = json.loads(row["body"])
            out.append((body["id"], body["question"], json.dumps(body["gold"], ensure_ascii=False),
                        np.asarray(body["vector"], dtype=np.float32).tobytes()))
        return out

    def query_adapter(self) -> Optional[np.ndarray]:
        bodies = sorted((json.loads(r["body"]) for r in scan(self._client, meta_name(self.generation),
                                                                'kind == "adapter"', ["body"])),
                        key=lambda b: b["part"])
        if not bodies:
            return None
        dim = bodies[0]["dim"]
        raw = base64.b64decode("".join(b["data"] for b in bodies))
        return np.frombuffer(raw, dtype=np.float32).reshape(dim, dim).copy()

    # -------------------------------------------------------------- whole-generation scans (verify, repair)
    def passage_ids(self) -> list[int]:
        return [int(r["id"]) for r in scan(self._client, self.generation, "", ["id"])]

    def passage_tags(self) -> Iterator[tuple[int, str, str]]:
        """(id, doc id, write tag) of every passage: a tag that is not its document's is an orphan."""
        for r in scan(self._client, self.generation, "", ["id", "doc_id", "tag"]):
            yield int(r["id"]), r["doc_id"], r["tag"]

    def all_tokens(self) -> Iterator[tuple[int, list[str]]]:
        for r in scan(self._client, self.generation, "", ["id", "tokens"]):
            yield int(r["id"]), json.loads(r["tokens"])

    def integrity_check(self) -> str:
        return "ok"
