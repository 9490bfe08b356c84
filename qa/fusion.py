"""Fusing ranked signals (dense, lexical, translated, law-scoped) into one ranking.

Two modes: ``rrf`` (weighted reciprocal rank) and ``score`` (weighted sum of min-max
normalised scores, the default chosen on the dev sets). A signal may judge only passages of
one language: the Chinese translation of an English question says nothing about English text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, Optional, Sequence

import numpy as np

FusionMode = Literal["rrf", "score"]
FUSION_MODES = ("rrf", "score")
Ranking = list[tuple[int, float]]  # (passage id, score), best first


@dataclass
class Signal:
    name: str
    weight: float
    ranking: Ranking
    only_language: Optional[str] = None  # judges only passages in this language

    @property
    def active(self) -> bool:
        return bool(self.ranking) and bool(self.weight)


def _contributions(ranking: Ranking, mode: FusionMode, rrf_k: int) -> list[tuple[int, float]]:
    if mode == "rrf":
        return [(pid, 1.0 / (rrf_k + rank)) for rank, (pid, _) in enumerate(ranking, 1)]
    values = np.asarray([v for _, v in ranking], dtype=np.float32)
    lo, hi = float(values.min()), float(values.max())
    return [(pid, (v - lo) / (hi - lo) if hi > lo else 1.0) for pid, v in ranking]


def fuse(signals: Sequence[Signal], mode: FusionMode = "score", rrf_k: int = 60,
         language_of: Optional[Mapping[int, str]] = None, normalise_languages: bool = False) -> Ranking:
    """One ranking from many. ``language_of`` (passage id → language) is needed when a signal is
    language-scoped; ``normalise_languages`` divides each passage's sum by the weight of the
    signals that could reach its language (so Chinese text is not favoured just for being
    reachable by more signals)."""
    if mode not in FUSION_MODES:
        raise ValueError(f"fusion {mode!r} is not one of {', '.join(FUSION_MODES)}")
    language_of = language_of or {}
    scores: dict[int, float] = {}
    for signal in signals:
        if not signal.active:
            continue
        for pid, value in _contributions(signal.ranking, mode, rrf_k):
            if signal.only_language is None or language_of.get(pid) == signal.only_language:
                scores[pid] = scores.get(pid, 0.0) + signal.weight * value
    if normalise_languages and language_of:
        live = [s for s in signals if s.ranking]
        base = sum(s.weight for s in live if s.only_language is None) or 1.0
        reach = {lang: sum(s.weight for s in live if s.only_language in (None, lang))
                 for lang in set(language_of.values())}
        scores = {pid: v * base / (reach.get(language_of.get(pid), base) or base) for pid, v in scores.items()}
    return sorted(scores.items(), key=lambda kv: -kv[1])


def put_first(ranking: Ranking, ids: Sequence[int]) -> Ranking:
    """Direct lookups (a named article, a commencement clause) outrank every fused score."""
    if not ids:
        return ranking
    top = (ranking[0][1] if ranking else 0.0) + 1.0
    chosen = set(ids)
    return [(pid, top) for pid in ids] + [(pid, sc) for pid, sc in ranking if pid not in chosen]
