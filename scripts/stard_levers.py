"""STARD levers measured on a held-out half of the dev questions (train = even ids, validate = odd).

    python scripts/stard_levers.py --index /work/ix/stard ../shared/bench/stard/queries-dev.jsonl

Levers that need no re-embedding, applied to the fused top-200 of each question:
- law prior: passages of laws that training questions often cite get a bonus;
- question neighbours: gold articles (and laws) of the most similar training questions get a bonus.
Weights are chosen on the training half and reported on the validation half. A measurement script,
not product code: it prints numbers for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import math
from collections import Counter
from pathlib import Path

import numpy as np

from qa import Assistant, SearchSettings
from qa.evaluation import BASELINES, load_questions


def metrics(rankings: list[list[str]], golds: list[set[str]]) -> dict:
    out = {}
    for k in (10, 100):
        out[f"R@{k}"] = np.mean([len(set(r[:k]) & g) / len(g) for r, g in zip(rankings, golds)])
        out[f"hit@{k}"] = np.mean([bool(set(r[:k]) & g) for r, g in zip(rankings, golds)])
    out["MRR@10"] = np.mean([next((1 / (i + 1) for i, d in enumerate(r[:10]) if d in g), 0.0)
                             for r, g in zip(rankings, golds)])
    return {k: round(float(v), 3) for k, v in out.items()}


def rerank(cands: list[tuple[str, str, float]], bonus) -> list[str]:
    """cands: (doc id, law, fused score) → doc ids re-sorted by score + bonus(doc, law)."""
    scored = sorted(((s + bonus(d, law), d) for d, law, s in cands), reverse=True)
    return list(dict.fromkeys(d for _, d in scored))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions")
    ap.add_argument("--index", required=True)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    assistant = Assistant.open(args.index)
    retriever = assistant.retriever
    items = load_questions(Path(args.questions))[: args.limit]
    golds = [{g["doc"] for g in q["gold"]} for q in items]
    train = [i for i, q in enumerate(items) if int(q["id"]) % 2 == 0]
    valid = [i for i, q in enumerate(items) if int(q["id"]) % 2 == 1]
    law_of_doc: dict[str, str] = {}

    def run(settings: SearchSettings | None):
        out = []
        for q in items:
            hits = retriever.search(q["question"], 200, settings=settings).hits
            for h in hits:
                law_of_doc[h.passage.doc_id] = h.passage.title
            out.append([(h.passage.doc_id, h.passage.title, h.score) for h in hits])
        return out

    systems = {"bm25": run(BASELINES["bm25"]), "dense": run(BASELINES["dense"]),
               "rrf": run(SearchSettings(fusion="rrf")), "chosen": run(None)}
    pick = lambda idx, ranks: ([ranks[i] for i in idx], [golds[i] for i in idx])  # noqa: E731
    for name, cands in systems.items():
        ranks = [list(dict.fromkeys(d for d, _, _ in c)) for c in cands]
        print(f"{name:<28} all {metrics(ranks, golds)}  valid {metrics(*pick(valid, ranks))}")

    # Law prior from the training half.
    store_titles = assistant.retriever.index.store.titles()
    law_counts = Counter(store_titles.get(d, law_of_doc.get(d, "")) for i in train for d in golds[i])
    top = max(law_counts.values())
    prior = {law: math.log1p(c) / math.log1p(top) for law, c in law_counts.items()}

    # Neighbouring training questions.
    vecs = assistant.embedder.embed_queries([q["question"] for q in items])
    train_vecs = vecs[train]

    def neighbour_bonus(i: int, w_doc: float, w_law: float, k: int = 10):
        sims = train_vecs @ vecs[i]
        order = [j for j in np.argsort(-sims)[: k + 1] if train[j] != i][:k]
        doc_b: Counter = Counter()
        law_b: Counter = Counter()
        for j in order:
            for d in golds[train[j]]:
                doc_b[d] += float(sims[j])
                law_b[store_titles.get(d, law_of_doc.get(d, ""))] += float(sims[j])
        norm = max(law_b.values()) if law_b else 1.0
        return lambda d, law: w_doc * doc_b.get(d, 0.0) / k + w_law * law_b.get(law, 0.0) / norm

    base = systems["chosen"]
    scale = np.median([c[0][2] for c in base if c]) or 1.0  # fused scores' typical top value

    def evaluate(idx, w_prior, w_doc, w_law):
        ranks = []
        for i in idx:
            nb = neighbour_bonus(i, w_doc, w_law) if (w_doc or w_law) else (lambda d, law: 0.0)
            ranks.append(rerank(base[i], lambda d, law: scale * (w_prior * prior.get(law, 0.0) + nb(d, law))))
        return metrics(ranks, [golds[i] for i in idx])

    grid = [(wp, wd, wl) for wp in (0, 0.1, 0.3) for wd in (0, 0.5, 1.0) for wl in (0, 0.1, 0.3)]
    best = max(grid, key=lambda w: evaluate(train, *w)["R@10"])
    for label, w in [("+ law prior", (best[0], 0, 0)), ("+ question neighbours", (0, best[1], best[2])),
                     ("+ both (chosen on train)", best)]:
        print(f"{label:<28} weights {w}  valid {evaluate(valid, *w)}")


if __name__ == "__main__":
    main()
