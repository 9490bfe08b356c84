"""The lexical side: tokenising Chinese (jieba) and English (Snowball stems) for bm25s.

Queries may carry weights per term (English questions become weighted Chinese terms), which
bm25s does not take natively, so weighted scoring sums ``get_scores`` per distinct term.
"""
from __future__ import annotations

import logging
import math
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np

from .filters import allowed_mask

_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*")
ZH_STOP = frozenset("的 了 和 与 及 或 是 在 对 由 为 等 其 之 以 并 中 上 下 有 被 把 从 向 这 那 哪 吗 呢 啊 吧 什么 怎么 如何 哪些 是否 可以 能否 应该 如果 我 我们 你 他 它 一个 个 该 所 于 者 及其 以及 或者 规定 本 条 款 项".split())
EN_STOP = frozenset("a an the of to in on at for by and or is are was were be been being do does did what which who whom "
                    "when where why how can could should would may might must shall will it its this that these those "
                    "i we you he she they me us my our your their there here with from as about into than then so if "
                    "not no any all some such under over between after before up out".split())
_jieba_lock = threading.Lock()


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Tokens for BM25: jieba search-mode words for Chinese runs, stems for Latin words."""
    tokens: list[str] = []
    for run in _RUN.findall(text):
        if "\u3400" <= run[0] <= "\u9fff":
            with _jieba_lock:
                words = _jieba().lcut_for_search(run)
            tokens.extend(w for w in words if w not in ZH_STOP)
        else:
            word = run.lower()
            if word not in EN_STOP:
                tokens.append(_stemmer().stemWord(word))
    return tokens


def segment(text: str) -> list[str]:
    """``text`` cut into jieba words (Chinese runs) and the runs between them; the pieces join back
    to ``text`` exactly (for glossing a quote word by word)."""
    pieces: list[str] = []
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[^\u3400-\u4dbf\u4e00-\u9fff]+", text):
        if "\u3400" <= run[0] <= "\u9fff":
            with _jieba_lock:
                pieces.extend(_jieba().lcut(run))
        else:
            pieces.append(run)
    return pieces


def chinese_words(text: str) -> list[str]:
    """Words of the Chinese runs of ``text`` (jieba's precise mode), stop words left out."""
    words: list[str] = []
    for run in _RUN.findall(text):
        if "\u3400" <= run[0] <= "\u9fff":
            with _jieba_lock:
                words.extend(w for w in _jieba().lcut(run) if w not in ZH_STOP)
    return words


def weighted_terms(text: str) -> dict[str, float]:
    """A plain query as term → weight (1 per occurrence)."""
    weights: dict[str, float] = {}
    for token in tokenize(text):
        weights[token] = weights.get(token, 0.0) + 1.0
    return weights


def idf(df: int, n: int) -> float:
    """BM25's (Lucene's) inverse document frequency of a term found in ``df`` of ``n`` passages."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def rarities(terms: Mapping[str, float], doc_freq, n: int) -> dict[str, float]:
    """Each term's weight × idf: what a passage holding it has matched of the question. Their sum is
    the most any passage could score (BM25 saturates at idf per term); a term no passage holds counts
    at the rarest idf — no passage matches it, but the question asked it."""
    return {term: weight * idf(doc_freq(term), n) for term, weight in terms.items() if weight > 0}


def match_strength(best: float, ceiling: float, full_at: float) -> float:
    """How far to trust a BM25 list whose best score is ``best``: 1 once the best passage reaches
    ``full_at`` of the ``ceiling`` (the sum of the question's ``rarities``), less in proportion below
    it. Min-max fusion alone would give the best passage full marks even when it matched one common
    word of a long question."""
    if full_at <= 0 or ceiling <= 0:
        return 1.0
    return min(1.0, best / (full_at * ceiling))


class LexicalIndex:
    """bm25s over pre-tokenised passages; row i of the index is ``ids[i]``."""

    def __init__(self, bm25, ids: np.ndarray):
        self.bm25 = bm25
        self.ids = ids
        self.vocab = frozenset(getattr(bm25, "vocab_dict", {}) or {})
        self._df: dict[str, int] | None = None

    def doc_freq(self, term: str) -> int:
        """In how many passages ``term`` occurs (0 when unknown): how common a word is in these laws."""
        if self._df is None:
            vocab = getattr(self.bm25, "vocab_dict", {}) or {}
            indptr = np.asarray(self.bm25.scores["indptr"])
            counts = np.diff(indptr)
            self._df = {t: int(counts[i]) for t, i in vocab.items() if i < len(counts)}
        return self._df.get(term, 0)

    def rarities(self, terms: Mapping[str, float]) -> dict[str, float]:
        return rarities(terms, self.doc_freq, len(self.ids))

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]], ids: Iterable[int]) -> "LexicalIndex":
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index([list(t) or ["\u2205"] for t in token_lists], show_progress=False)
        return cls(bm25, np.asarray(list(ids), dtype=np.int64))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.bm25.save(str(folder), show_progress=False)
        np.save(folder / "ids.npy", self.ids)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        import bm25s

        bm25 = bm25s.BM25.load(str(folder), show_progress=False)
        return cls(bm25, np.load(folder / "ids.npy"))

    def scores(self, terms: Mapping[str, float]) -> np.ndarray:
        """BM25 score of every row for weighted terms (unknown terms contribute nothing)."""
        total = np.zeros(len(self.ids), dtype=np.float32)
        for term, weight in terms.items():
            if term in self.vocab and weight:
                total += weight * self.bm25.get_scores([term])
        return total

    def top(self, terms: Mapping[str, float], k: int, allowed: Optional[np.ndarray] = None) -> list[tuple[int, float]]:
        """The ``k`` best-scoring passages (score > 0), only ``allowed`` ids when given."""
        if not len(self.ids):
            return []
        scores = self.scores(terms)
        mask = allowed_mask(self.ids, allowed)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx])]
        return [(int(self.ids[i]), float(scores[i])) for i in idx if scores[i] > 0]
