"""Training questions an index can carry, and the three signals learned from them.

Lay questions rarely name the law they are about and use everyday words, so lexical and dense
similarity to the statute text leave much on the table. Past questions with known answers hold
three signals (measured on STARD, docs/benchmarks.md):

- a **law prior**: laws that many past questions were answered from are likelier answers;
- **question neighbours**: the articles (and laws) that answered the most similar past
  questions are likely to answer this one too;
- a **query adapter**: a linear map, fitted to the training questions, that moves a question's
  vector towards the passages that answered questions like it (the lay wording of a question and
  the statute wording of its answer sit apart in e5's space; the map learns the way across).

The first two only re-weigh a fused ranking (and may add the neighbours' gold articles to it); the
adapter adds a dense signal of its own. The first two are worked out when an index is opened (cheap);
the adapter is fitted once, when the questions are stored (``qa index learn``: seconds of training
that no search should wait for), and is stored beside them. With no training questions in the index
nothing changes.
Questions are stored with their gold as document ids (not passage ids), so they survive every
later ``add`` or ``remove``.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Optional, Sequence

import numpy as np

from .questions import TrainingQuestion, resolve_gold
from .text import detect_language


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
    adapter: Optional[np.ndarray] = None  # (dim, dim): a question vector q is read as q + q @ adapter
    languages: set[str] = field(default_factory=set)  # those the training questions are asked in

    @classmethod
    def from_store(cls, store) -> Optional["LearnedSignals"]:
        """The index's training questions resolved against it, with the query adapter stored beside
        them (None when it carries no training questions)."""
        rows = store.training_questions()
        if not rows:
            return None
        questions = [TrainingQuestion(question=q, gold=json.loads(g), id=qid) for qid, q, g, _ in rows]
        vectors = np.stack([np.frombuffer(v, dtype=np.float32) for *_, v in rows])
        gold_passages: list[list[int]] = []
        law_of_passage: dict[int, str] = {}
        law_counts: Counter = Counter()
        for found in resolve_gold(store, questions):
            gold_passages.append([pid for pid, _ in found])
            law_of_passage.update(found)
            law_counts.update({title for _, title in found})
        top = max(law_counts.values(), default=0)
        prior = {law: math.log1p(c) / math.log1p(top) for law, c in law_counts.items()} if top else {}
        return cls(questions, vectors, gold_passages, law_of_passage, prior,
                   {q.question.strip(): i for i, q in enumerate(questions)}, store.query_adapter(),
                   {detect_language(q.question) for q in questions})

    def speak_for(self, language: str) -> bool:
        """Whether these signals apply to a question in ``language``: they were learned from questions
        in their own languages, and English training questions led Chinese ones astray (blind-2
        Chinese hit@5 0.968 → 0.926, docs/benchmarks.md)."""
        return language in self.languages

    def adapt(self, vector: np.ndarray, language: str) -> Optional[np.ndarray]:
        """A question's vector moved by the query adapter, L2-normalised; None without one, or for a
        question the training questions do not ``speak_for``."""
        if self.adapter is None or not self.speak_for(language):
            return None
        moved = np.asarray(vector, dtype=np.float32) @ self._moving_map
        return moved / (np.linalg.norm(moved) or 1.0)

    @cached_property
    def _moving_map(self) -> np.ndarray:
        """I + adapter, built once rather than at every search."""
        return np.eye(len(self.adapter), dtype=np.float32) + self.adapter

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


ADAPTER_NEGATIVES = 64  # the nearest passages that did not answer a training question
MIN_ADAPTER_NEGATIVES = 4
# A 384 × 384 map fitted to a handful of questions only memorises them. Measured: 100 English
# questions on the Chongqing pack gave no gain (hit@5 equal, one dev hit@1 lost); 249 and 498 STARD
# questions gave +0.04 R@10 (docs/benchmarks.md).
MIN_ADAPTER_QUESTIONS = 200
ADAPTER_EPOCHS = 50
ADAPTER_REGULARISATION = 1.0  # pulls the map towards "change nothing": few questions must not overfit it
ADAPTER_TEMPERATURE = 0.05
# Memory grows with pairs × near misses × dim (2,000 × 64 × 384 floats ≈ 200 MB): a larger set of
# training questions fits on its first 2,000 (question, gold passage) pairs.
ADAPTER_MAX_PAIRS = 2000
ADAPTER_PAIRS_PER_QUESTION = 3  # a question with many gold articles must not outweigh the rest


@dataclass
class ResolvedQuestions:
    """Training questions that have a gold item in the index being taught, with their query vectors
    and the passages their gold points at (resolved once, for storing and for fitting)."""

    questions: list[TrainingQuestion]
    vectors: list[np.ndarray]
    gold_passages: list[list[int]]

    def fit_adapter(self, dense) -> Optional[np.ndarray]:
        """The query adapter these questions teach over ``dense`` (None without enough of them): what
        ``qa index learn`` stores, on either backend."""
        if not self.questions:
            return None
        return fit_query_adapter(np.stack(self.vectors), self.gold_passages, dense)


def fit_query_adapter(vectors: np.ndarray, gold_passages: Sequence[Sequence[int]], dense,
                      negatives: int = ADAPTER_NEGATIVES, epochs: int = ADAPTER_EPOCHS,
                      regularisation: float = ADAPTER_REGULARISATION,
                      min_questions: Optional[int] = None) -> Optional[np.ndarray]:
    """Fit ``W`` so that ``q + q @ W`` is nearer each training question's gold passages than the
    passages dense search put near it but that did not answer it (a contrastive loss; the other
    questions' gold passages count as wrong answers too). None with fewer than ``min_questions``
    questions that have a gold passage, or when the index is too small to offer near misses.
    Deterministic: zero start, full-batch Adam."""
    if sum(1 for gold in gold_passages if gold) < (MIN_ADAPTER_QUESTIONS if min_questions is None else min_questions):
        return None
    import torch

    queries, positives, near_misses, answers = [], [], [], []
    for vector, gold in zip(vectors, gold_passages):
        if not gold:
            continue
        wrong = [pid for pid, _ in dense.top(vector, negatives + len(gold)) if pid not in set(gold)][:negatives]
        for pid in list(gold)[:ADAPTER_PAIRS_PER_QUESTION]:
            queries.append(vector)
            positives.append(pid)
            near_misses.append(wrong)
            answers.append(list(gold))
        if len(queries) >= ADAPTER_MAX_PAIRS:
            break
    del queries[ADAPTER_MAX_PAIRS:], positives[ADAPTER_MAX_PAIRS:], near_misses[ADAPTER_MAX_PAIRS:], answers[ADAPTER_MAX_PAIRS:]
    # Another pair's passage is a wrong answer only if it does not answer this question too (two
    # questions may share an article; one question may have several).
    also_right = torch.tensor(np.stack([np.isin(positives, gold) for gold in answers]))
    fewest = min((len(w) for w in near_misses), default=0)  # a small index has fewer near misses
    if fewest < MIN_ADAPTER_NEGATIVES:
        return None
    near_misses = [w[:fewest] for w in near_misses]
    q = torch.tensor(np.stack(queries), dtype=torch.float32)
    gold_vectors = torch.tensor(dense.vectors_of(positives), dtype=torch.float32)
    wrong_vectors = torch.tensor(np.stack([dense.vectors_of(w) for w in near_misses]), dtype=torch.float32)
    dim = q.shape[1]
    weights = torch.zeros(dim, dim, requires_grad=True)
    optimiser = torch.optim.Adam([weights], lr=1e-3)
    for _ in range(epochs):
        moved = q + q @ weights
        moved = moved / moved.norm(dim=1, keepdim=True)
        right = (moved * gold_vectors).sum(1, keepdim=True)
        near = torch.einsum("bd,bnd->bn", moved, wrong_vectors)
        others = (moved @ gold_vectors.T).masked_fill(also_right, -1e4)  # other questions' answers
        logits = torch.cat([right, near, others], 1) / ADAPTER_TEMPERATURE
        loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))
        loss = loss + regularisation * (weights ** 2).sum() / dim
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return weights.detach().numpy().astype(np.float32)
