"""Hybrid retrieval: dense (FAISS) + lexical (bm25s) rankings fused, plus direct article lookup.

English questions are also translated into weighted Chinese terms (``translate``), so a
Chinese article can match them lexically and through a second dense query.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Literal, Optional, Sequence

import numpy as np

from .embedders import Embedder
from .index import LoadedIndex
from .learned import LearnedSignals, Neighbour
from .lexical import tokenize, weighted_terms
from .models import Hit
from .references import EFFECTIVE_CLAUSE, article_reference, asks_effective_date
from .text import detect_language, strip_control
from .translate import Translation, Translator

FusionMode = Literal["rrf", "score"]
FUSION_MODES = ("rrf", "score")
MAX_QUESTION_CHARS = 2000
MIN_TRUSTED_COVERAGE = 0.5
_LAW_SUFFIX = re.compile(r"(条例|法|办法|规定|细则)")
_CJK_CHARS = set(chr(c) for c in range(0x4E00, 0xA000))


class QueryError(ValueError):
    """The query cannot be searched (empty, punctuation only, too long)."""


def check_query(query: str, max_chars: int = MAX_QUESTION_CHARS) -> str:
    if not isinstance(query, str):
        raise QueryError(f"the question must be text, not {type(query).__name__}")
    query = strip_control(query).strip()
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

    fusion: FusionMode = "score"
    rrf_k: int = 60
    candidates: int = 100
    w_dense: float = 1.0
    w_lexical: float = 1.0
    w_dense_translated: float = 1.0
    w_lexical_translated: float = 1.0
    w_title: float = 1.0
    translate: bool = True
    # Translated signals only judge Chinese passages / sums are normalised per passage language.
    scope_translated: bool = True
    normalise_languages: bool = False
    lookups: bool = True  # direct article / commencement-clause lookup
    w_title_zh: float = 0.5  # title signal for Chinese questions (w_title is for the others)
    # Learned from the index's training questions (qa index learn); no effect without them.
    # Chosen on the even-id half of STARD dev by scripts/stard_levers.py.
    w_law_prior: float = 0.3
    w_neighbour_doc: float = 2.0
    w_neighbour_law: float = 0.3
    neighbours: int = 10
    neighbour_floor: float = 0.8  # similarity a training question must exceed to vote (e5 rates unrelated ≈0.8)
    skip_identical_training: bool = False  # for tuning on the training questions themselves

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
    query_vector: Optional[np.ndarray] = None
    neighbours: list[Neighbour] = field(default_factory=list)


def _ranks(pairs: Sequence[tuple[int, float]]) -> dict[int, tuple[int, float]]:
    return {pid: (rank, score) for rank, (pid, score) in enumerate(pairs, 1)}


class Retriever:
    """Searches one loaded index with one embedder."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, settings: Optional[SearchSettings] = None):
        self.index = index
        self.embedder = embedder
        self.settings = settings or SearchSettings()
        self._titles: Optional[dict[str, list[str]]] = None
        self._doc_titles: Optional[dict[str, str]] = None
        self._title_set: Optional[set[str]] = None
        self._chars: Optional[tuple[dict[str, set[str]], dict[str, set[str]]]] = None
        self._learned: Optional[LearnedSignals] = None
        self._learned_loaded = False
        vocab = set(index.lexical._vocab) if index.lexical else set()
        self.translator = Translator(in_vocab=vocab.__contains__ if vocab else None)

    # ---------------------------------------------------------------- law titles
    def _title_of_doc(self) -> dict[str, str]:
        """doc id → title, read once: a retriever serves one immutable index generation."""
        if self._doc_titles is None:
            self._doc_titles = self.index.store.titles()
        return self._doc_titles

    def _known_titles(self) -> set[str]:
        if self._title_set is None:
            self._title_set = set(self._title_of_doc().values())
        return self._title_set

    def _title_index(self) -> dict[str, list[str]]:
        """Short forms of every title (without 中华人民共和国) → full titles, longest form first."""
        if self._titles is None:
            titles: dict[str, list[str]] = {}
            for title in self._known_titles():
                for form in {title, title.removeprefix("中华人民共和国")}:
                    if len(form) >= 4:
                        titles.setdefault(form, []).append(title)
            self._titles = dict(sorted(titles.items(), key=lambda kv: -len(kv[0])))
        return self._titles

    def _abbreviated_title(self, query: str) -> list[str]:
        """Titles a Chinese abbreviation points to: 重庆自贸试验区条例 → 中国（重庆）自由贸易试验区条例.

        A span ending in 条例/法/办法/规定 whose characters all occur in a title, covering most
        of that title's distinctive characters, names it. Spans grow leftwards while some title
        still holds every character (an inverted index keeps this cheap on 1,000+ titles).
        """
        chars_of, titles_with = self._title_chars()
        best: tuple[float, list[str]] = (0.0, [])
        for m in _LAW_SUFFIX.finditer(query):
            candidates: Optional[set[str]] = None
            span: set[str] = set()
            for start in range(m.end() - 1, max(-1, m.end() - 21), -1):
                ch = query[start]
                if ch not in _CJK_CHARS:
                    break
                span.add(ch)
                candidates = titles_with.get(ch, set()) if candidates is None else candidates & titles_with.get(ch, set())
                if not candidates:
                    break
                if len(span) < 4:
                    continue
                for title in candidates:
                    score = len(span) / len(chars_of[title])
                    if score > best[0] + 1e-9:
                        best = (score, [title])
                    elif abs(score - best[0]) < 1e-9 and title not in best[1]:
                        best[1].append(title)
        return best[1] if best[0] >= 0.7 else []

    def _title_chars(self) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """Distinctive characters of each title, and the titles each character occurs in."""
        if self._chars is None:
            chars_of = {t: set(re.sub(r"中华人民共和国|中国|[（）()《》]", "", t))
                        for t in self._known_titles()}
            titles_with: dict[str, set[str]] = {}
            for title, chars in chars_of.items():
                for ch in chars:
                    titles_with.setdefault(ch, set()).add(title)
            self._chars = (chars_of, titles_with)
        return self._chars

    def laws_named(self, query: str, translation: Optional[Translation]) -> list[str]:
        found: list[str] = []
        for form, titles in self._title_index().items():
            if form in query:
                found.extend(t for t in titles if t not in found)
                query = query.replace(form, "")
        if not found:
            found = self._abbreviated_title(query)
        if translation:
            found.extend(t for t in translation.laws if t in self._known_titles() and t not in found)
        return found

    @property
    def learned(self) -> Optional[LearnedSignals]:
        """The index's training questions, resolved once (None when it carries none)."""
        if not self._learned_loaded:
            self._learned = LearnedSignals.from_store(self.index.store)
            self._learned_loaded = True
        return self._learned

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
        # (weight, ranking, language the signal is meant for: translated signals only judge Chinese text)
        signals: list[tuple[float, list[tuple[int, float]], Optional[str]]] = [
            (s.w_dense, self._dense(vectors[0], n), None)]
        if len(vectors) > 1:
            signals.append((s.w_dense_translated, self._dense(vectors[1], n), "zh" if s.scope_translated else None))
        timings["dense_ms"] = (time.perf_counter() - t1) * 1000

        t2 = time.perf_counter()
        lexical_hits: list[tuple[int, float]] = []
        if self.index.lexical is not None:
            lexical_hits = self.index.lexical.top(weighted_terms(query), n)
            signals.append((s.w_lexical, lexical_hits, None))
            if translation:
                signals.append((s.w_lexical_translated, self.index.lexical.top(translation.terms, n),
                                "zh" if s.scope_translated else None))
        timings["lexical_ms"] = (time.perf_counter() - t2) * 1000

        t3 = time.perf_counter()
        laws = self.laws_named(query, translation)
        w_title = s.w_title_zh if language == "zh" else s.w_title
        if laws and w_title:
            signals.append((w_title, self._scoped_dense(vectors[-1] if len(vectors) > 1 else vectors[0], laws), None))
        fused = self._fuse(signals, s)
        neighbours: list[Neighbour] = []
        if (s.w_law_prior or s.w_neighbour_doc or s.w_neighbour_law) and self.learned is not None:
            fused, neighbours = self.learned.rerank(
                fused, self.index.store.titles_of(pid for pid, _ in fused), vectors[0], s.w_law_prior,
                s.w_neighbour_doc, s.w_neighbour_law, s.neighbours, s.neighbour_floor,
                skip=query if s.skip_identical_training else None)
        article = article_reference(query) if s.lookups else None
        if article:
            fused = self._lookup_first(fused, article, laws)
        elif s.lookups and laws and asks_effective_date(query):
            fused = self._put_first(fused, self.index.store.effective_clauses(laws, EFFECTIVE_CLAUSE))
        dense_of = dict(signals[0][1])
        # A passage's best similarity to any form of the query; a translation that covers little of
        # the question ("recipe for spaghetti" → 标准) must not vouch for it.
        if translation and len(signals) > 1 and translation.coverage >= MIN_TRUSTED_COVERAGE:
            for pid, value in signals[1][1]:
                dense_of[pid] = max(value, dense_of.get(pid, value))
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
        return SearchResult(hits=hits, translation=translation, article=article, laws=laws, timings=timings,
                            query_vector=vectors[0], neighbours=neighbours)

    def _fuse(self, signals, s: SearchSettings) -> list[tuple[int, float]]:
        """Weighted RRF (or min-max score sum), normalised per passage language.

        A Chinese passage can be reached by more signals (the translated ones) than an English
        one, so each passage's sum is divided by the total weight of the signals that apply to
        its language; otherwise an English question would always prefer Chinese text.
        """
        scores: dict[int, float] = {}
        scoped = any(sig[2] and sig[1] and sig[0] for sig in signals)
        language_of = (self.index.store.languages_of({pid for sig in signals for pid, _ in sig[1]})
                       if scoped else {})
        for weight, ranking, only in signals:
            if not ranking or not weight:
                continue
            if s.fusion == "rrf":
                contributions = [(pid, 1.0 / (s.rrf_k + rank)) for rank, (pid, _) in enumerate(ranking, 1)]
            else:  # min-max normalised scores
                values = np.asarray([v for _, v in ranking], dtype=np.float32)
                lo, hi = float(values.min()), float(values.max())
                contributions = [(pid, (v - lo) / (hi - lo) if hi > lo else 1.0) for pid, v in ranking]
            for pid, value in contributions:
                if only is None or language_of.get(pid) == only:
                    scores[pid] = scores.get(pid, 0.0) + weight * value
        if scoped and s.normalise_languages:
            applicable = {lang: sum(w for w, r, only in signals if r and (only is None or only == lang))
                          for lang in set(language_of.values())}
            base = sum(w for w, r, only in signals if r and only is None) or 1.0
            scores = {pid: v * base / (applicable.get(language_of.get(pid), base) or base) for pid, v in scores.items()}
        return sorted(scores.items(), key=lambda kv: -kv[1])

    def _lookup_first(self, fused: list[tuple[int, float]], article: str, laws: list[str]):
        """Put the named article first: of the named law, else of the best-ranked document that has it."""
        rows = self.index.store.find_article(article)
        if not rows:
            return fused
        if laws:
            titles = self._title_of_doc()
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
        return self._put_first(fused, [best[0]])

    @staticmethod
    def _put_first(fused: list[tuple[int, float]], ids: Sequence[int]) -> list[tuple[int, float]]:
        """Direct lookups (a named article, a commencement clause) outrank every fused score."""
        if not ids:
            return fused
        top = (fused[0][1] if fused else 0.0) + 1.0
        chosen = set(ids)
        return [(pid, top) for pid in ids] + [(pid, sc) for pid, sc in fused if pid not in chosen]
