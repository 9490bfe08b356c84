"""Does a law's combined evidence lift its articles? Measured on STARD, chosen on even ids, reported on odd.

    python scripts/stard_law_evidence.py --index /work/ix/stard ../shared/bench/stard/queries-dev.jsonl

Lay questions rarely name the law, but when several of a law's articles rank high the question is
probably about that law. Each candidate's fused score gets ``weight`` × its law's evidence (the mean
of the law's best ``top`` fused scores among the first 300 candidates, scaled by the best law's);
the unlearned product search supplies the candidates. A measurement script: it prints the numbers
in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import itertools
from collections import defaultdict
from pathlib import Path

from qa import Assistant, SearchSettings
from qa.questions import load_questions
from stard_levers import metrics  # same recall as the other STARD levers (scripts/ is on the path)

POOL = 300
UNLEARNED = SearchSettings().without_learning()


def with_law_evidence(pool: list[tuple[int, float]], law_of: dict[int, str], weight: float, top: int):
    scores: dict[str, list[float]] = defaultdict(list)
    for pid, score in pool:
        scores[law_of[pid]].append(score)
    evidence = {law: sum(sorted(s, reverse=True)[:top]) / top for law, s in scores.items()}
    best = max(evidence.values(), default=1.0) or 1.0
    return sorted(((pid, score + weight * evidence[law_of[pid]] / best) for pid, score in pool), key=lambda x: -x[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", required=True)
    args = ap.parse_args()
    assistant = Assistant.open(args.index)
    retriever = assistant.retriever
    cases = []
    for q in load_questions(args.questions):
        hits = retriever.search(q["question"], POOL, settings=UNLEARNED).hits
        cases.append((int(q["id"]), {g["doc"] for g in q["gold"]}, [(h.passage.id, h.score) for h in hits]))
    store = retriever.index.store
    pids = {pid for _, _, pool in cases for pid, _ in pool}
    doc_of, law_of = store.doc_ids_of(pids), store.titles_of(pids)

    def score(half: int, rank) -> tuple[float, float]:
        chosen = [c for c in cases if c[0] % 2 == half]
        found = metrics([list(dict.fromkeys(doc_of[p] for p, _ in rank(pool))) for _, _, pool in chosen],
                        [gold for _, gold, _ in chosen])
        return found["R@10"], found["R@100"]

    print(f"{len(cases)} questions; product, unlearned: even R@10/R@100 {score(0, lambda p: p)}, "
          f"odd {score(1, lambda p: p)}")
    grid = list(itertools.product((0.1, 0.2, 0.3, 0.5, 0.8), (1, 3, 5, 10)))
    on_even = {w: score(0, lambda p, w=w: with_law_evidence(p, law_of, *w)) for w in grid}
    best = max(grid, key=lambda w: on_even[w])
    for w in grid:
        mark = "  <- chosen on even ids" if w == best else ""
        print(f"weight {w[0]:.1f} top {w[1]:>2}: even {on_even[w]}  odd {score(1, lambda p, w=w: with_law_evidence(p, law_of, *w))}{mark}")


if __name__ == "__main__":
    main()
