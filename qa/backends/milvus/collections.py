"""The collections of one Milvus index generation, and small helpers to read them.

A generation is two collections created together:

* ``<alias>__g<stamp>`` — one row per passage: its text and metadata (doc_id, title, kind, language
  as scalar fields, so filters run on the server), the dense vector (HNSW, inner product), our BM25
  weights as a sparse vector (``sparse``, inner product) and Milvus's own BM25 over the text with
  the jieba tokenizer (``bm25``, kept to compare the two, see docs/benchmarks.md);
* ``<that>_meta`` — small records: ``manifest``, one ``doc:<id>`` per document (its commit
  marker), one ``term:<t>`` per token with its document frequency, ``question:<n>`` training questions.

The alias ``<alias>`` names the live generation; a rebuild fills a new one and swaps the alias.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Iterable, Iterator, Optional, Sequence

META_SUFFIX = "_meta"
VARCHAR_MAX = 65535
DUMMY_DIM = 2  # Milvus wants a vector field in every collection; the records collection has no real one
HNSW_PARAMS = {"M": 16, "efConstruction": 200}
PASSAGE_FIELDS = ["id", "doc_id", "position", "part", "article", "headings", "text", "title", "kind", "language",
                  "date", "source", "refs"]
IN_CHUNK = 1000
SCAN_BATCH = 4096


def new_generation_name(alias: str) -> str:
    return f"{alias}__g{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}"


def meta_name(generation: str) -> str:
    return generation + META_SUFFIX


def literal(values: Iterable) -> str:
    """A Milvus expression list literal (strings JSON-quoted, so quotes and backslashes are escaped)."""
    return json.dumps(list(values), ensure_ascii=False)


def create_generation(client, generation: str, dim: int) -> None:
    """Create (and load) the passages and records collections of a new generation."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=2048)
    schema.add_field("tag", DataType.VARCHAR, max_length=64)
    schema.add_field("position", DataType.INT64)
    schema.add_field("part", DataType.INT64)
    schema.add_field("article", DataType.VARCHAR, max_length=256)
    schema.add_field("headings", DataType.VARCHAR, max_length=VARCHAR_MAX)
    schema.add_field("text", DataType.VARCHAR, max_length=VARCHAR_MAX)
    schema.add_field("lexical_text", DataType.VARCHAR, max_length=VARCHAR_MAX, enable_analyzer=True,
                     analyzer_params={"tokenizer": "jieba"})
    schema.add_field("content_hash", DataType.VARCHAR, max_length=128)
    schema.add_field("tokens", DataType.VARCHAR, max_length=VARCHAR_MAX)
    schema.add_field("refs", DataType.VARCHAR, max_length=VARCHAR_MAX)  # cross-references as written (JSON)
    schema.add_field("title", DataType.VARCHAR, max_length=2048)
    schema.add_field("kind", DataType.VARCHAR, max_length=64)
    schema.add_field("language", DataType.VARCHAR, max_length=16)
    schema.add_field("date", DataType.VARCHAR, max_length=64)
    schema.add_field("source", DataType.VARCHAR, max_length=4096)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25_jieba", function_type=FunctionType.BM25,
                                 input_field_names=["lexical_text"], output_field_names=["bm25"]))
    index = client.prepare_index_params()
    index.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params=HNSW_PARAMS)
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    index.add_index(field_name="bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    for scalar in ("doc_id", "title", "kind", "language", "article"):
        index.add_index(field_name=scalar, index_type="INVERTED")
    client.create_collection(generation, schema=schema, index_params=index)

    records = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    records.add_field("key", DataType.VARCHAR, is_primary=True, max_length=4096)
    records.add_field("kind", DataType.VARCHAR, max_length=16)
    records.add_field("body", DataType.VARCHAR, max_length=VARCHAR_MAX)
    records.add_field("df", DataType.INT64)
    records.add_field("vec", DataType.FLOAT_VECTOR, dim=DUMMY_DIM)
    rindex = client.prepare_index_params()
    rindex.add_index(field_name="vec", index_type="FLAT", metric_type="L2")
    rindex.add_index(field_name="kind", index_type="INVERTED")
    # Strong: a reader checks the manifest against the document records (both here) right after a writer
    # changed them; the collection is small, so waiting for the latest writes costs little.
    client.create_collection(meta_name(generation), schema=records, index_params=rindex, consistency_level="Strong")
    for name in (generation, meta_name(generation)):
        client.load_collection(name)


def ensure_loaded(client, generation: str) -> None:
    """Load a generation's collections if the server has released them (a restarted server starts so)."""
    from pymilvus.client.types import LoadState

    for name in (generation, meta_name(generation)):
        if client.get_load_state(name).get("state") != LoadState.Loaded:
            client.load_collection(name)


def drop_generation(client, generation: str) -> None:
    for name in (generation, meta_name(generation)):
        if client.has_collection(name):
            client.drop_collection(name)


def record(key: str, kind: str, body: dict | None = None, df: int = 0) -> dict:
    return {"key": key, "kind": kind, "body": json.dumps(body or {}, ensure_ascii=False), "df": int(df),
            "vec": [0.0] * DUMMY_DIM}


def scan(client, collection: str, filter: str, fields: Sequence[str]) -> Iterator[dict]:
    """Every row matching ``filter`` (paged with a query iterator: no result-window cap)."""
    iterator = client.query_iterator(collection, batch_size=SCAN_BATCH, filter=filter, output_fields=list(fields))
    try:
        while True:
            rows = iterator.next()
            if not rows:
                return
            yield from rows
    finally:
        iterator.close()


def rows_for(client, collection: str, field: str, values: Sequence, fields: Sequence[str],
             extra: str = "") -> list[dict]:
    """Rows whose ``field`` is one of ``values`` (queried in chunks), optionally and-ed with ``extra``."""
    values = list(values)
    out: list[dict] = []
    for start in range(0, len(values), IN_CHUNK):
        expr = f"{field} in {literal(values[start:start + IN_CHUNK])}" + (f" and ({extra})" if extra else "")
        out.extend(client.query(collection, filter=expr, output_fields=list(fields), limit=16384))  # Milvus caps a query window at 16,384 rows
    return out


def manifest_of(client, generation: str) -> Optional[dict]:
    rows = client.get(meta_name(generation), ids=["manifest"], output_fields=["body"])  # by primary key: fast
    return json.loads(rows[0]["body"]) if rows else None
