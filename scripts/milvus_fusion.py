"""Fuse on the Milvus server or in our code? The same questions ranked four ways on a milvus:// index.

* ``server RRF`` / ``server weighted``: one ``hybrid_search`` call with the signals Milvus can run
  itself (dense and our BM25 for the question, and for its translation when there is one), fused by
  ``RRFRanker(60)`` or ``WeightedRanker`` (equal weights, Milvus's own score normalisation);
* ``ours, same signals``: those four signals fused by our code (qa/fusion.py), nothing else;
* ``ours, full``: the shipped retrieval (adds named-law, home-jurisdiction and language signals,
  article lookups).

Prints hit@5, MRR@10 and mean ms per system and question file::

    python scripts/milvus_fusion.py milvus://127.0.0.1:19530/cq ../shared/bench/chongqing/dev.jsonl bench/chongqing-en.jsonl
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from qa import Assistant
from qa.evaluation import summarise
from qa.lexical import weighted_terms
from qa.questions import load_questions, matches
from qa.retrieval import SearchSettings

SAME_SIGNALS = SearchSettings(lookups=False, w_title=0.0, w_title_zh=0.0, w_home=0.0, w_prefer_chinese=0.0)
CANDIDATES = 100


def server_fused(assistant: Assistant, question: str, ranker, k: int = 10) -> list[int]:
    from pymilvus import AnnSearchRequest

    retriever = assistant.retriever
    index = retriever.index
    query = retriever.parse(question)
    texts = [query.text] + ([query.translation.text] if query.translation and query.translation.text else [])
    vectors = list(assistant.embedder.embed_queries(texts))
    dense_param = {"metric_type": "IP", "params": {"ef": CANDIDATES}}
    requests = [AnnSearchRequest([v.tolist()], "vector", dense_param, CANDIDATES) for v in vectors]
    for terms in [weighted_terms(query.text)] + ([query.translation.terms] if query.translation else []):
        weights = index.lexical.query_weights(terms)
        if weights:
            requests.append(AnnSearchRequest([weights], "sparse", {"metric_type": "IP"}, CANDIDATES))
    hits = index.store._client.hybrid_search(index.collection, requests, ranker(len(requests)), limit=k,
                                             output_fields=["id"])[0]
    return [int(h["id"]) for h in hits]


def rank_of(assistant: Assistant, ids: list[int], gold: list[dict]):
    passages = assistant.retriever.index.store.passages(ids)
    for rank, pid in enumerate(ids, 1):
        if pid in passages and any(matches(passages[pid], g) for g in gold):
            return rank
    return None


def main() -> None:
    from pymilvus import RRFRanker, WeightedRanker

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("index", help="milvus://HOST:PORT/COLLECTION")
    parser.add_argument("questions", nargs="+", type=Path)
    args = parser.parse_args()
    assistant = Assistant.open(args.index)
    systems = {
        "server RRF": lambda q: server_fused(assistant, q, lambda n: RRFRanker(60)),
        "server weighted": lambda q: server_fused(assistant, q, lambda n: WeightedRanker(*[1.0] * n)),
        "ours, same signals": lambda q: [h.passage.id for h in assistant.retriever.search(q, 10, settings=SAME_SIGNALS).hits],
        "ours, full": lambda q: [h.passage.id for h in assistant.retriever.search(q, 10).hits],
    }
    for path in args.questions:
        items = [i for i in load_questions(path) if i["gold"]]
        for item in items[:3]:  # warm-up: models, caches
            for run in systems.values():
                run(item["question"])
        for name, run in systems.items():
            ranks, ms = [], []
            for item in items:
                started = time.perf_counter()
                ids = run(item["question"])
                ms.append((time.perf_counter() - started) * 1000)
                ranks.append(rank_of(assistant, ids, item["gold"]))
            s = summarise(ranks, [])
            print(f"{path.name:24} {name:20} n={s['n']:3}  hit@5={s['hit@5']:.3f}  MRR@10={s['mrr@10']:.3f}  "
                  f"mean {statistics.mean(ms):.0f} ms", flush=True)


if __name__ == "__main__":
    main()
