"""The lexical role on Milvus: our BM25 (same tokens and formula as bm25s) as sparse vectors.

Documents store ``tf / (tf + k1·(1 − b + b·len/avgdl))`` per token; a query sends ``weight · idf``
per term, so Milvus's inner product is exactly bm25s's Lucene BM25 — weighted query terms (the
translation of an English question) included, which Milvus's own BM25 function cannot take.
Token ids are 32-bit hashes of the token (as Milvus hashes its own BM25 terms). ``vocab`` and
``doc_freq`` come from the ``term:`` records, loaded once per opened generation.

``mode="milvus"`` searches Milvus's built-in BM25 (jieba tokenizer on the server) instead; it is
kept to measure the two side by side (docs/benchmarks.md), not as the default.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from typing import Mapping, Optional, Sequence

import numpy as np

from ...lexical import idf, rarities
from .collections import meta_name, scan

K1, B = 1.5, 0.75  # bm25s defaults (method "lucene")
EMPTY_TOKEN = "\u2205"  # what LexicalIndex.build stores for a passage without tokens
LEXICAL_MODES = ("ours", "milvus")


def term_id(term: str) -> int:
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "little") % (2**32 - 1)


def document_weights(tokens: Sequence[str], avgdl: float) -> dict[int, float]:
    """The document side of BM25 for one passage's tokens."""
    tokens = list(tokens) or [EMPTY_TOKEN]
    norm = K1 * (1 - B + B * len(tokens) / max(avgdl, 1e-9))
    weights: dict[int, float] = {}
    for term, tf in Counter(tokens).items():
        tid = term_id(term)
        weights[tid] = weights.get(tid, 0.0) + tf / (tf + norm)
    return weights


def average_length(token_lists: Sequence[Sequence[str]]) -> float:
    return float(np.mean([max(len(t), 1) for t in token_lists])) if token_lists else 1.0


class MilvusLexical:
    """BM25 search over the ``sparse`` (or ``bm25``) field of a generation's passages."""

    def __init__(self, client, generation: str, passages: int, mode: str = "ours"):
        if mode not in LEXICAL_MODES:
            raise ValueError(f"lexical mode {mode!r} is not one of {', '.join(LEXICAL_MODES)}")
        self._client = client
        self._generation = generation
        self._n = passages
        self.mode = mode
        self._df = {row["key"][5:]: int(row["df"])
                    for row in scan(client, meta_name(generation), 'kind == "term"', ["key", "df"])}
        self.vocab = frozenset(self._df)

    def doc_freq(self, term: str) -> int:
        return self._df.get(term, 0)

    def rarities(self, terms: Mapping[str, float]) -> dict[str, float]:
        return rarities(terms, self.doc_freq, self._n)

    def query_weights(self, terms: Mapping[str, float]) -> dict[int, float]:
        weights: dict[int, float] = {}
        for term, weight in terms.items():
            df = self._df.get(term)
            if df and weight > 0:
                tid = term_id(term)
                weights[tid] = weights.get(tid, 0.0) + float(weight) * idf(df, self._n)
        return weights

    def top(self, terms: Mapping[str, float], k: int, allowed: Optional[np.ndarray] = None) -> list[tuple[int, float]]:
        from .store import allowed_expression

        expr = allowed_expression(allowed)
        if expr is False or k <= 0:
            return []
        if self.mode == "milvus":
            text = " ".join(t for t, w in terms.items() if w > 0)
            if not text:
                return []
            data, field = [text], "bm25"
        else:
            weights = self.query_weights(terms)
            if not weights:
                return []
            data, field = [weights], "sparse"
        hits = self._client.search(self._generation, data=data, anns_field=field, limit=k, filter=expr or "",
                                   output_fields=["id"])[0]
        # Milvus returns BM25 distances negated (smaller is closer); our scores grow with relevance.
        return [(int(h["id"]), abs(float(h["distance"]))) for h in hits if h["distance"]]
