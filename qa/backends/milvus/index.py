"""Opening and checking the live generation of a Milvus index (the alias names it)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from ...integrity import FORMAT_VERSION, QAIndexError, VerifyReport, no_index, rebuild_hint
from .address import MilvusAddress, client_for
from .collections import ensure_loaded, manifest_of, meta_name
from .sparse import MilvusLexical
from .store import MilvusStore
from .vectors import MilvusDense

LEXICAL_ENV = "QA_MILVUS_LEXICAL"  # "ours" (default) or "milvus": which BM25 a search uses


def live_generation(client, address: MilvusAddress) -> Optional[str]:
    """The collection the alias points at, or None when the index was never built."""
    from pymilvus.exceptions import MilvusException

    try:
        return client.describe_alias(address.collection)["collection_name"]
    except MilvusException:
        if not client.has_collection(address.collection):
            return None
        raise QAIndexError(f"{address}: {address.collection!r} is a plain Milvus collection, not an index alias "
                           "made by `qa index build`; choose another name") from None


def generation_name(address: MilvusAddress) -> Optional[str]:
    """``<collection>@<version>``: changes with every rebuild (new collection) and every add, remove or
    learn (new version), so an open assistant knows to reopen. Two small server calls."""
    from pymilvus.exceptions import MilvusException

    client = client_for(address)
    live = live_generation(client, address)
    if live is None:
        return None
    try:
        manifest = manifest_of(client, live) or {}
    except MilvusException:  # released by a server restart: load it again
        ensure_loaded(client, live)
        manifest = manifest_of(client, live) or {}
    return f"{live}@{manifest.get('version', '')}"


def server_count(client, collection: str) -> int:
    return int(client.query(collection, filter="", output_fields=["count(*)"])[0]["count(*)"])


def _damaged(address, why: str) -> QAIndexError:
    return QAIndexError(f"the index at {address} is damaged: {why}; {rebuild_hint(address)}")


SETTLE_TRIES = 5  # manifest reads that may each find a writer moved on before the reader stops checking


def _settled(client, address: MilvusAddress, live: str) -> tuple[dict, MilvusStore]:
    """The manifest and the document records (the store), checked against each other without a lock.

    A writer marks the manifest dirty, writes records, then writes a clean manifest; a reader
    that reads the manifest before the writer starts and counts records after it wrote some
    would see a mismatch that is no damage. So a mismatch counts as damage only when the
    manifest is unchanged when read again; if it moved, the reader looks again. A writer that
    keeps moving it is busy: its records are ahead of the manifest, as with ``dirty``."""
    manifest = _readable_manifest(client, address, live)
    for _ in range(SETTLE_TRIES):
        store = MilvusStore(client, live)  # reads the document records once
        counts = store.count()
        if manifest.get("dirty") or (manifest.get("documents"), manifest.get("passages")) == counts:
            return manifest, store
        again = _readable_manifest(client, address, live)
        if again == manifest:
            raise _damaged(address, f"the manifest says {manifest.get('documents')} documents / "
                                    f"{manifest.get('passages')} passages, the document records {counts[0]} / {counts[1]}")
        manifest = again
    return {**manifest, "dirty": True}, store


def _readable_manifest(client, address: MilvusAddress, live: str) -> dict:
    manifest = manifest_of(client, live)
    if manifest is None:
        raise _damaged(address, f"{meta_name(live)} holds no manifest")
    if manifest.get("format") != FORMAT_VERSION:
        raise QAIndexError(f"index format {manifest.get('format')} at {address} is not {FORMAT_VERSION}; "
                           f"{rebuild_hint(address)}")
    return manifest


@dataclass
class MilvusIndex:
    """A generation opened for reading: the same three roles as ``LoadedIndex``."""

    address: MilvusAddress
    collection: str
    manifest: dict
    store: MilvusStore
    vectors: MilvusDense
    lexical: Optional[MilvusLexical]

    @classmethod
    def open(cls, address: MilvusAddress) -> "MilvusIndex":
        client = client_for(address)
        live = live_generation(client, address)
        if live is None:
            raise no_index(address)
        ensure_loaded(client, live)
        manifest, store = _settled(client, address, live)
        passages = store.count()[1]
        vectors = MilvusDense(client, live, int(manifest.get("dim") or 0), passages)
        lexical = MilvusLexical(client, live, passages, os.environ.get(LEXICAL_ENV, "ours")) if passages else None
        return cls(address, live, manifest, store, vectors, lexical)

    @property
    def generation(self) -> str:
        return f"{self.collection}@{self.manifest.get('version', '')}"

    @property
    def path(self) -> str:
        return f"{self.address} → {self.collection}"

    location = path

    def close(self) -> None:
        self.store.close()

    def size_bytes(self) -> int:
        """Unknown from the client: the data lives on the Milvus server."""
        return 0


def verify(address: MilvusAddress) -> VerifyReport:
    """``qa index verify`` for Milvus: manifest, document records and passage rows agree; no orphans."""
    client = client_for(address)
    live = live_generation(client, address)
    if live is None:
        return VerifyReport(problems=[str(no_index(address))])
    report = VerifyReport(generation=live)
    try:
        index = MilvusIndex.open(address)
    except QAIndexError as exc:
        report.problems.append(str(exc))
        return report
    documents, passages = index.store.count()
    rows = server_count(client, live)
    orphans = sum(1 for _, doc_id, tag in index.store.passage_tags() if index.store.document_tag(doc_id) != tag)
    report.counts = {"documents": documents, "passages": passages, "rows": rows, "orphans": orphans,
                     "terms": len(index.lexical.vocab) if index.lexical else 0, "embedder": index.manifest.get("embedder")}
    if rows != passages + orphans:
        report.problems.append(f"{live} holds {rows} passage rows, the document records count {passages}")
    if orphans:
        report.problems.append(f"{orphans} passage row(s) of an interrupted change; the next "
                               "`qa index add/remove` removes them")
    if index.manifest.get("dirty"):
        report.problems.append("a change was interrupted; the next `qa index add/remove` repairs the term statistics")
    return report
