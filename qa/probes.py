"""Exact-sentence probes: sentences sampled from an index's own provisions, searched as if pasted.

A user who pastes a sentence of a statute wants its source first. Sampling the probes from the
indexed text itself measures that on any index (``scripts/exact_sentence_probes.py``) and lets a
test hold it at 100 %. A probe counts as found when the first hit contains the sentence (a
sentence that several laws share verbatim has several right sources).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Iterable

from .models import Passage
from .text import split_sentences

_CJK = re.compile(r"[\u3400-\u9fff]")
_FRAMES = ("{}", "这句话出自哪里：{}", "“{}”出自哪部法规？", "{}——这是哪一条的规定？")
MIN_PROBE_CJK = 15


@dataclass(frozen=True)
class Probe:
    question: str
    sentence: str
    source: str  # the citation the sentence was sampled from


def sample_probes(passages: Iterable[Passage], n: int, seed: int = 0) -> list[Probe]:
    """``n`` probes from article passages: one sentence (≥ 15 Chinese characters, label stripped) each,
    in one of a few pasting frames."""
    rng = random.Random(seed)
    candidates = []
    for p in passages:
        if not p.article:
            continue
        for sentence in split_sentences(p.text):
            sentence = sentence.removeprefix(p.article).strip()
            if len(_CJK.findall(sentence)) >= MIN_PROBE_CJK:
                candidates.append((sentence, p.citation))
    picked = rng.sample(candidates, min(n, len(candidates)))
    return [Probe(rng.choice(_FRAMES).format(s), s, c) for s, c in picked]


def found_first(probe: Probe, first: Passage | None) -> bool:
    return first is not None and probe.sentence in first.text
