"""STARD levers, each measured on its own: learned on the training half, reported on the validation half.

    python scripts/split_questions.py ../shared/bench/stard/queries-dev.jsonl --out /work/ix/split
    qa index learn /work/ix/split/queries-dev.train.jsonl --index /work/ix/stard-learn
    python scripts/stard_levers.py --index /work/ix/stard-learn \
        /work/ix/split/queries-dev.train.jsonl /work/ix/split/queries-dev.valid.jsonl

Recall is the shared README's: the share of a question's gold articles in the top k, averaged.
Every lever re-ranks or re-scores the same candidates: the unlearned product search, top 300.
Weights are chosen on the training half (a training question never sees its own answer) and
reported once on the validation half. A measurement script, not product code: it prints the
numbers in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import itertools
import math
import re
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa import Assistant, SearchSettings
from qa.evaluation import BASELINES
from qa.questions import load_questions
from qa.lexical import LexicalIndex, tokenize, weighted_terms

POOL = 300
_D = SearchSettings()
PRODUCT = (_D.w_law_prior, _D.w_neighbour_doc, _D.w_neighbour_law, _D.neighbours, _D.neighbour_floor)
UNLEARNED = SearchSettings().without_learning()
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[A-Za-z0-9]+")


@dataclass
class Case:
    question: str
    gold: set[str]
    train: bool
    vector: np.ndarray
    pool: list[tuple[int, float]]  # (passage id, fused score), unlearned
    dense: dict[int, float]
    lexical: dict[int, float]


def metrics(rankings: list[list[str]], golds: list[set[str]]) -> dict:
    out = {}
    for k in (10, 100):
        out[f"R@{k}"] = np.mean([len(set(r[:k]) & g) / len(g) for r, g in zip(rankings, golds)])
    out["MRR@10"] = np.mean([next((1 / (i + 1) for i, d in enumerate(r[:10]) if d in g), 0.0)
                             for r, g in zip(rankings, golds)])
    return {k: round(float(v), 3) for k, v in out.items()}


class Bench:
    def __init__(self, index: str, train: Path, valid: Path):
        self.assistant = Assistant.open(index)
        self.retriever = self.assistant.retriever
        self.learned = self.retriever.learned
        if self.learned is None:
            raise SystemExit(f"{index} carries no training questions: run `qa index learn {train} --index {index}`")
        self.store = self.retriever.index.store
        items = [(q, True) for q in load_questions(train)] + [(q, False) for q in load_questions(valid)]
        vectors = self.assistant.embedder.embed_queries([q["question"] for q, _ in items])
        self.cases: list[Case] = []
        for (q, is_train), vec in zip(items, vectors):
            hits = self.retriever.search(q["question"], POOL, settings=UNLEARNED).hits
            self.cases.append(Case(q["question"], {g["doc"] for g in q["gold"]}, is_train, vec,
                                   [(h.passage.id, h.score) for h in hits],
                                   {h.passage.id: h.dense for h in hits if h.dense is not None},
                                   {h.passage.id: h.lexical for h in hits if h.lexical is not None}))
        pids = {pid for c in self.cases for pid, _ in c.pool} | set(self.learned.law_of_passage)
        self.doc_of = self.store.doc_ids_of(pids)
        self.law_of = self.store.titles_of(pids)

    def split(self, train: bool) -> list[Case]:
        return [c for c in self.cases if c.train == train]

    def docs(self, ranking) -> list[str]:
        missing = [pid for pid, _ in ranking if pid not in self.doc_of]
        if missing:
            self.doc_of.update(self.store.doc_ids_of(missing))
        return list(dict.fromkeys(self.doc_of[pid] for pid, _ in ranking))

    def score(self, cases: list[Case], rank_fn) -> dict:
        return metrics([self.docs(rank_fn(c)) for c in cases], [c.gold for c in cases])

    # ------------------------------------------------------------ learned (the product's code)
    def learned_rank(self, c: Case, w) -> list[tuple[int, float]]:
        w_prior, w_doc, w_law, k, floor = w
        ranked, _ = self.learned.rerank(c.pool, self.law_of, c.vector, w_prior, w_doc, w_law, k, floor,
                                        skip=c.question if c.train else None)
        return ranked

    # ------------------------------------------------------------ dense pseudo-relevance feedback
    def dense_prf(self, c: Case, m: int, beta: float) -> list[tuple[int, float]]:
        first = self.retriever.index.vectors.top(c.vector, 100)
        if m:
            top = self.retriever.index.vectors.vectors_of([p for p, _ in first[:m]])
            vec = c.vector + beta * top.mean(axis=0)
            first = self.retriever.index.vectors.top(vec / np.linalg.norm(vec), 100)
        return first


_FILLER_HEAD = re.compile(r"^(请问|你好|您好|我想(问|咨询|了解|知道)(一下)?|想问一下)[，,、：:\s]*")
_FILLER_TAIL = re.compile(r"(吗|呢|啊|吧)?[？?。！!\s]*$")


def normalise_query(text: str) -> str:
    """NFKC, and the courtesy / question-particle wrapping of lay questions taken off."""
    text = unicodedata.normalize("NFKC", text).strip()
    return _FILLER_TAIL.sub("", _FILLER_HEAD.sub("", text)) or text


def bigram_tokens(text: str) -> list[str]:
    """Overlapping character bigrams for Chinese runs, lower-cased words otherwise."""
    out: list[str] = []
    for run in _CJK.findall(text):
        if "\u3400" <= run[0] <= "\u9fff":
            out.extend(run[i:i + 2] for i in range(max(1, len(run) - 1)))
        else:
            out.append(run.lower())
    return out


def expansions_from(cases: list[Case], store) -> dict[str, list[tuple[str, float]]]:
    """Lay-to-legal term associations: question term → terms frequent in its gold articles but
    rare elsewhere (co-occurrence over the training pairs, scaled by the term's own frequency)."""
    gold_tokens: dict[str, set[str]] = defaultdict(set)
    keys = store.passage_keys({d for c in cases for d in c.gold})
    for p in store.passages([pid for pid, *_ in keys]).values():
        gold_tokens[p.doc_id].update(tokenize(p.text))
    pair: Counter = Counter()
    q_count: Counter = Counter()
    g_count: Counter = Counter()
    for c in cases:
        q_terms = set(tokenize(c.question))
        g_terms = set().union(*(gold_tokens.get(d, set()) for d in c.gold)) - q_terms
        q_count.update(q_terms)
        g_count.update(g_terms)
        pair.update(itertools.product(q_terms, g_terms))
    n = len(cases)
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (t, u), c in pair.items():
        if c >= 2:
            lift = c * n / (q_count[t] * g_count[u])
            if lift >= 3:
                out[t].append((u, (c / q_count[t]) * math.log(lift)))
    return {t: sorted(v, key=lambda x: -x[1])[:5] for t, v in out.items()}


def ltr(bench: Bench, w_learned) -> tuple[dict, dict]:
    """Logistic regression over cheap per-candidate features, trained on the training half."""
    from sklearn.linear_model import LogisticRegression

    def features(c: Case):
        ranked_bonus = dict(bench.learned_rank(c, (1.0, 0, 0, 0, 0)))  # law prior alone, unscaled below
        neighbour_doc = dict(bench.learned_rank(c, (0, 1.0, 0, *w_learned[3:])))
        neighbour_law = dict(bench.learned_rank(c, (0, 0, 1.0, *w_learned[3:])))
        base = dict(c.pool)
        top = c.pool[0][1] if c.pool else 1.0
        pids = list(dict.fromkeys([p for p, _ in c.pool] + list(neighbour_doc)))
        lex_top = max(c.lexical.values(), default=1.0) or 1.0
        rows = []
        for rank, pid in enumerate(pids):
            b = base.get(pid, 0.0)
            rows.append([b / top, c.dense.get(pid, 0.0), c.lexical.get(pid, 0.0) / lex_top,
                         (ranked_bonus.get(pid, b) - b) / top, (neighbour_doc.get(pid, b) - b) / top,
                         (neighbour_law.get(pid, b) - b) / top, 1.0 / (1 + rank)])
        return pids, np.asarray(rows, dtype=np.float32)

    X, y = [], []
    for c in bench.split(True):
        pids, f = features(c)
        X.append(f)
        y.extend(bench.doc_of.get(p) in c.gold for p in pids)
    model = LogisticRegression(max_iter=2000, C=1.0, class_weight="balanced").fit(np.vstack(X), np.asarray(y))

    def rank(c: Case):
        pids, f = features(c)
        s = model.decision_function(f)
        return [(pids[i], float(s[i])) for i in np.argsort(-s)]

    names = ["fused", "dense", "bm25", "law prior", "neighbour doc", "neighbour law", "1/rank"]
    return bench.score(bench.split(False), rank), dict(zip(names, np.round(model.coef_[0], 2).tolist()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("train", type=Path)
    ap.add_argument("valid", type=Path)
    ap.add_argument("--index", required=True)
    args = ap.parse_args()
    started = time.perf_counter()
    bench = Bench(args.index, args.train, args.valid)
    train, valid = bench.split(True), bench.split(False)
    print(f"{len(train)} training / {len(valid)} validation questions; pool {POOL}; "
          f"{time.perf_counter() - started:.0f}s to search")

    def row(label, result, extra=""):
        print(f"{label:<44} valid {result}  {extra}")

    # Baselines on the same index.
    for name, settings in [("bm25 (jieba)", BASELINES["bm25"]), ("dense", BASELINES["dense"]),
                           ("rrf (bm25 + dense)", replace(BASELINES["bm25"], w_dense=1.0, fusion="rrf"))]:
        row(name, metrics([bench.docs([(h.passage.id, h.score) for h in
                                       bench.retriever.search(c.question, 100, settings=settings).hits])
                           for c in valid], [c.gold for c in valid]))
    row("product, unlearned", bench.score(valid, lambda c: c.pool))
    def normalised(c: Case):
        return [(h.passage.id, h.score) for h in
                bench.retriever.search(normalise_query(c.question), 100, settings=UNLEARNED).hits]

    changed = sum(normalise_query(c.question) != c.question for c in valid)
    row("product, unlearned, normalised queries", bench.score(valid, normalised),
        f"({changed} of {len(valid)} questions changed; train {bench.score(train, lambda c: c.pool)} → "
        f"{bench.score(train, normalised)})")

    # Learned signals: grid on the training half.
    grid = list(itertools.product((0, 0.1, 0.3, 0.5), (0, 0.5, 1.0, 2.0), (0, 0.1, 0.3), (10, 20),
                                  (0.0, 0.8, 0.85, 0.9)))
    scored = {w: bench.score(train, lambda c, w=w: bench.learned_rank(c, w))["R@10"] for w in grid}
    best = max(grid, key=lambda w: (scored[w], -sum(w[:3])))
    prior_only = max((w for w in grid if w[1] == w[2] == 0), key=scored.get)
    neigh_only = max((w for w in grid if w[0] == 0), key=scored.get)
    for label, w in [("+ law prior", prior_only), ("+ question neighbours", neigh_only), ("+ both", best),
                     ("+ both, product defaults", PRODUCT)]:
        row(label, bench.score(valid, lambda c, w=w: bench.learned_rank(c, w)), f"weights {w} (train R@10 "
            f"{scored.get(w, bench.score(train, lambda c, w=w: bench.learned_rank(c, w))['R@10'])})")

    for floor in sorted({w[4] for w in grid}):
        w = max((w for w in grid if w[4] == floor), key=lambda w: (scored[w], -sum(w[:3])))
        row(f"  both, neighbour floor {floor}", bench.score(valid, lambda c, w=w: bench.learned_rank(c, w)),
            f"weights {w} (train R@10 {scored[w]})")

    # Dense pseudo-relevance feedback (dense signal alone, chosen on train).
    prf_grid = [(m, b) for m in (0, 3, 5, 10) for b in (0.3, 0.6, 1.0)]
    prf_best = max(prf_grid, key=lambda mb: bench.score(train, lambda c: bench.dense_prf(c, *mb))["R@10"])
    row("dense alone", bench.score(valid, lambda c: bench.dense_prf(c, 0, 0)))
    row("dense + pseudo-relevance feedback", bench.score(valid, lambda c: bench.dense_prf(c, *prf_best)),
        f"(m, beta) {prf_best}, chosen on train")
    prf_on = max((mb for mb in prf_grid if mb[0]), key=lambda mb: bench.score(train, lambda c: bench.dense_prf(c, *mb))["R@10"])
    row("dense + feedback, best non-zero on train", bench.score(valid, lambda c: bench.dense_prf(c, *prf_on)),
        f"(m, beta) {prf_on}")

    # Tokenisation: character bigrams instead of jieba search mode (BM25 alone).
    t = time.perf_counter()
    ids = [pid for pid, _ in bench.store.all_tokens()]
    passages = bench.store.passages(ids)
    bigrams = LexicalIndex.build([bigram_tokens(passages[i].embedding_text) for i in ids], ids)
    jieba_index = bench.retriever.index.lexical
    row("bm25 jieba search mode", bench.score(valid, lambda c: jieba_index.top(weighted_terms(c.question), 100)))
    row("bm25 character bigrams", bench.score(valid, lambda c: bigrams.top(Counter(bigram_tokens(c.question)), 100)),
        f"(index built in {time.perf_counter() - t:.0f}s)")

    # Lay-to-legal expansion learned from the training pairs (BM25 alone).
    expansions = expansions_from(train, bench.store)

    def expanded(c: Case, weight: float):
        terms = weighted_terms(c.question)
        for term in list(terms):
            for u, s in expansions.get(term, []):
                terms[u] = terms.get(u, 0.0) + weight * s
        return jieba_index.top(terms, 100)

    w_exp = max((0.1, 0.3, 0.6, 1.0), key=lambda w: bench.score(train, lambda c: expanded(c, w))["R@10"])
    row("bm25 + lay-to-legal expansion", bench.score(valid, lambda c: expanded(c, w_exp)),
        f"weight {w_exp}, {len(expansions)} question terms with expansions")

    # Learning to rank over cheap features.
    result, coefs = ltr(bench, best)
    row("learning to rank (logistic regression)", result, f"coefficients {coefs}")
    print(f"total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
