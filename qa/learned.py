"""Training questions an index can carry, and the two signals learned from them.

Lay questions rarely name the law they are about and use everyday words, so lexical and dense
similarity to the statute text leave much on the table. Past questions with known answers hold
two cheap signals (measured on STARD, docs/benchmarks.md):

- a **law prior**: laws that many past questions were answered from are likelier answers;
- **question neighbours**: the articles (and laws) that answered the most similar past
  questions are likely to answer this one too.

Both only re-weigh a fused ranking (and may add the neighbours' gold articles to it); with no
training questions in the index nothing changes. Questions are stored with their gold as
document ids (not passage ids), so they survive every later ``add`` or ``remove``.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from .questions import TrainingQuestion, gold_resolver


@dataclass
class Neighbour:
    question: str
    similarity: float


@dataclass
class LearnedSignals:
    """Training questions resolved against one index generation."""

    questions: list[TrainingQuestion]
    vectors: np.ndarray  # (n, dim), L2-normalised query embeddings
    gold_passages: list[list[int]]  # per question: passage ids its gold points at
    law_of_passage: dict[int, str]  # for every gold passage
    law_prior: dict[str, float] = field(default_factory=dict)
    _text_index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_store(cls, store) -> Optional["LearnedSignals"]:
        rows = store.training_questions()
        if not rows:
            return None
        questions = [TrainingQuestion(question=q, gold=json.loads(g), id=qid) for qid, q, g, _ in rows]
        vectors = np.stack([np.frombuffer(v, dtype=np.float32) for *_, v in rows])
        resolve = gold_resolver(store, questions)
        gold_passages: list[list[int]] = []
        law_of_passage: dict[int, str] = {}
        law_counts: Counter = Counter()
        for q in questions:
            found = resolve(q.gold)
            gold_passages.append([pid for pid, _ in found])
            law_of_passage.update(found)
            law_counts.update({title for _, title in found})
        top = max(law_counts.values(), default=0)
        prior = {law: math.log1p(c) / math.log1p(top) for law, c in law_counts.items()} if top else {}
        return cls(questions, vectors, gold_passages, law_of_passage, prior,
                   {q.question.strip(): i for i, q in enumerate(questions)})

    def neighbours(self, vector: np.ndarray, k: int, skip: Optional[str] = None) -> list[tuple[int, float]]:
        """(question index, cosine similarity) of the ``k`` most similar training questions.

        ``skip`` leaves out a training question with exactly this text: tuning on the training
        questions themselves must not let a question find its own answer.
        """
        sims = self.vectors @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-sims)[: k + 1]
        own = self._text_index.get(skip.strip()) if skip else None
        return [(int(i), float(sims[i])) for i in order if i != own][:k]

    def rerank(self, fused: Sequence[tuple[int, float]], law_of: dict[int, str], vector: np.ndarray,
               w_prior: float, w_doc: float, w_law: float, k: int = 10, floor: float = 0.0,
               skip: Optional[str] = None) -> tuple[list[tuple[int, float]], list[Neighbour]]:
        """Add the learned bonuses to a fused ranking, scaled by its top score.

        ``law_of`` maps the fused passages to their law titles. A neighbour counts by how far its
        similarity rises above ``floor`` (e5 rates unrelated questions ≈0.8 alike, so raw
        similarity would let any question vote). Gold passages of neighbours that the fusion
        missed join the ranking with the bonus alone.
        """
        if not (w_prior or w_doc or w_law):
            return list(fused), []
        scale = fused[0][1] if fused and fused[0][1] > 0 else 1.0
        near = self.neighbours(vector, k, skip) if (w_doc or w_law) and k > 0 else []
        near = [(i, sim) for i, sim in near if sim > floor]
        doc_bonus: Counter = Counter()
        law_bonus: Counter = Counter()
        for i, sim in near:
            vote = (sim - floor) / (1.0 - floor)
            for pid in self.gold_passages[i]:
                doc_bonus[pid] += vote
            for law in {self.law_of_passage[pid] for pid in self.gold_passages[i]}:
                law_bonus[law] += vote
        law_norm = max(law_bonus.values(), default=0.0) or 1.0
        scores = dict(fused)
        laws = dict(law_of)
        for pid in doc_bonus:
            scores.setdefault(pid, 0.0)
            laws.setdefault(pid, self.law_of_passage[pid])

        def bonus(pid: int) -> float:
            law = laws.get(pid, "")
            return (w_prior * self.law_prior.get(law, 0.0) + w_doc * doc_bonus.get(pid, 0.0) / max(1, k)
                    + w_law * law_bonus.get(law, 0.0) / law_norm)

        ranked = sorted(((pid, score + scale * bonus(pid)) for pid, score in scores.items()), key=lambda kv: -kv[1])
        return ranked, [Neighbour(self.questions[i].question, sim) for i, sim in near]
