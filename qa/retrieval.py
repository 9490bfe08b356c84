"""Hybrid retrieval: dense (FAISS) + lexical (bm25s) rankings fused, plus direct article lookup.

English questions are also translated into weighted Chinese terms (``translate``), so a
Chinese article can match them lexically and through a second dense query.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from typing import Literal, Optional, Sequence

import numpy as np

from .embedders import Embedder
from .index import LoadedIndex
from .lexical import tokenize, weighted_terms
from .models import Hit
from .references import article_reference
from .text import detect_language
from .translate import Translation, Translator

FusionMode = Literal["rrf", "score"]
FUSION_MODES = ("rrf", "score")
MAX_QUESTION_CHARS = 2000


class QueryError(ValueError):
    """The query cannot be searched (empty, punctuation only, too long)."""


def check_query(query: str, max_chars: int = MAX_QUESTION_CHARS) -> str:
    if not isinstance(query, str):
        raise QueryError(f"the question must be text, not {type(query).__name__}")
    query = query.strip()
    if not query:
        raise QueryError("the question is empty; type a question about the regulations")
    if not re.search(r"\w", query):
        raise QueryError("the question has no words (only punctuation or symbols)")
    if len(query) > max_chars:
        raise QueryError(f"the question is {len(query)} characters long; the limit is {max_chars}. "
                         "Shorten it to the question itself.")
    return query


@dataclass
class SearchSettings:
    """Fusion knobs; defaults were chosen on the dev sets (see docs/benchmarks.md)."""

    fusion: FusionMode = "rrf"
    rrf_k: int = 60
    candidates: int = 100
    w_dense: float = 1.0
    w_lexical: float = 1.0
    w_dense_translated: float = 1.0
    w_lexical_translated: float = 1.0
    w_title: float = 1.0
    translate: bool = True

    def __post_init__(self) -> None:
        if self.fusion not in FUSION_MODES:
            raise ValueError(f"fusion {self.fusion!r} is not one of {', '.join(FUSION_MODES)}")


@dataclass
class SearchResult:
    hits: list[Hit]
    translation: Optional[Translation] = None
    article: Optional[str] = None
    laws: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _ranks(pairs: Sequence[tuple[int, float]]) -> dict[int, tuple[int, float]]:
    return {pid: (rank, score) for rank, (pid, score) in enumerate(pairs, 1)}


class Retriever:
    """Searches one loaded index with one embedder."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, settings: Optional[SearchSettings] = None):
        self.index = index
        self.embedder = embedder
        self.settings = settings or SearchSettings()
        self._titles: Optional[dict[str, list[str]]] = None
        vocab = set(index.lexical._vocab) if index.lexical else set()
        self.translator = Translator(in_vocab=vocab.__contains__ if vocab else None)

    # ---------------------------------------------------------------- law titles
    def _title_index(self) -> dict[str, list[str]]:
        """Short forms of every title (without 中华人民共和国) → full titles."""
        if self._titles is None:
            titles: dict[str, list[str]] = {}
            for title in set(self.index.store.titles().values()):
                for form in {title, title.removeprefix("中华人民共和国")}:
                    if len(form) >= 4:
                        titles.setdefault(form, []).append(title)
            self._titles = titles
        return self._titles

    def laws_named(self, query: str, translation: Optional[Translation]) -> list[str]:
        found: list[str] = []
        for form in sorted(self._title_index(), key=len, reverse=True):
            if form in query:
                found.extend(t for t in self._title_index()[form] if t not in found)
                query = query.replace(form, "")
        if translation:
            known = set(self.index.store.titles().values())
            found.extend(t for t in translation.laws if t in known and t not in found)
        return found

    # ---------------------------------------------------------------- signals
    def _dense(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        if self.index.vectors.ntotal == 0:
            return []
        scores, ids = self.index.vectors.search(vector[None, :].astype(np.float32), min(n, self.index.vectors.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _scoped_dense(self, vector: np.ndarray, titles: list[str]) -> list[tuple[int, float]]:
        """Dense scores of every passage of the named laws (they may sit outside the top-N)."""
        ids = self.index.store.passage_ids_for_titles(titles)
        if not ids:
            return []
        matrix = self.index.vectors.reconstruct_batch(np.asarray(ids, dtype=np.int64))
        scores = matrix @ vector
        order = np.argsort(-scores)
        return [(ids[i], float(scores[i])) for i in order]

    # ---------------------------------------------------------------- search
    def search(self, query: str, k: int = 10, kinds: Optional[Sequence[str]] = None,
               docs: Optional[Sequence[str]] = None, settings: Optional[SearchSettings] = None) -> SearchResult:
        query = check_query(query)
        s = settings or self.settings
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        language = detect_language(query)
        translation = self.translator.translate(query) if (s.translate and language != "zh") else None
        if translation and not translation.terms:
            translation = None
        timings["translate_ms"] = (time.perf_counter() - t0) * 1000

        t1 = time.perf_counter()
        n = max(s.candidates, k * 3)
        texts = [query] + ([translation.text] if translation and translation.text else [])
        vectors = self.embedder.embed_queries(texts)
        signals: list[tuple[float, list[tuple[int, float]]]] = [(s.w_dense, self._dense(vectors[0], n))]
        if len(vectors) > 1:
            signals.append((s.w_dense_translated, self._dense(vectors[1], n)))
        timings["dense_ms"] = (time.perf_counter() - t1) * 1000

        t2 = time.perf_counter()
        lexical_hits: list[tuple[int, float]] = []
        if self.index.lexical is not None:
            lexical_hits = self.index.lexical.top(weighted_terms(query), n)
            signals.append((s.w_lexical, lexical_hits))
            if translation:
                signals.append((s.w_lexical_translated, self.index.lexical.top(translation.terms, n)))
        timings["lexical_ms"] = (time.perf_counter() - t2) * 1000

        t3 = time.perf_counter()
        laws = self.laws_named(query, translation)
        if laws and s.w_title:
            signals.append((s.w_title, self._scoped_dense(vectors[-1] if len(vectors) > 1 else vectors[0], laws)))
        fused = self._fuse(signals, s)
        article = article_reference(query)
        if article:
            fused = self._lookup_first(fused, article, laws)
        dense_of = dict(signals[0][1])
        lexical_of = dict(lexical_hits)
        passages = self.index.store.passages([pid for pid, _ in fused[: max(n, k * 5)]])
        hits: list[Hit] = []
        query_terms = set(tokenize(query)) | set(translation.terms if translation else ())
        for pid, score in fused:
            p = passages.get(pid)
            if p is None or (kinds and p.kind not in kinds) or (docs and p.doc_id not in docs):
                continue
            matched = sorted(t for t in query_terms if t and t in p.embedding_text.lower())
            hits.append(Hit(passage=p, score=score, rank=len(hits) + 1, dense=dense_of.get(pid),
                            lexical=lexical_of.get(pid), matched_terms=matched))
            if len(hits) == k:
                break
        timings["fuse_ms"] = (time.perf_counter() - t3) * 1000
        return SearchResult(hits=hits, translation=translation, article=article, laws=laws, timings=timings)

    def _fuse(self, signals, s: SearchSettings) -> list[tuple[int, float]]:
        scores: dict[int, float] = {}
        for weight, ranking in signals:
            if not ranking or not weight:
                continue
            if s.fusion == "rrf":
                for rank, (pid, _) in enumerate(ranking, 1):
                    scores[pid] = scores.get(pid, 0.0) + weight / (s.rrf_k + rank)
            else:  # min-max normalised scores
                values = np.asarray([v for _, v in ranking], dtype=np.float32)
                lo, hi = float(values.min()), float(values.max())
                for pid, v in ranking:
                    scores[pid] = scores.get(pid, 0.0) + weight * ((v - lo) / (hi - lo) if hi > lo else 1.0)
        return sorted(scores.items(), key=lambda kv: -kv[1])

    def _lookup_first(self, fused: list[tuple[int, float]], article: str, laws: list[str]):
        """Put the named article first: of the named law, else of the best-ranked document that has it."""
        rows = self.index.store.find_article(article)
        if not rows:
            return fused
        if laws:
            titles = self.index.store.titles()
            rows = [r for r in rows if titles.get(r[1]) in laws] or []
        if not rows:
            return fused
        rank_of = {pid: i for i, (pid, _) in enumerate(fused)}
        doc_rank: dict[str, int] = {}
        docs_of = self.index.store.doc_ids_of([pid for pid, _ in fused[:200]])
        for pid, _ in fused[:200]:
            doc = docs_of.get(pid)
            if doc is not None and doc not in doc_rank:
                doc_rank[doc] = rank_of[pid]
        best = min(rows, key=lambda r: doc_rank.get(r[1], 10**9))
        top = (fused[0][1] if fused else 0.0) + 1.0
        return [(best[0], top)] + [(pid, sc) for pid, sc in fused if pid != best[0]]
