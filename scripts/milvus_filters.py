"""Filters on Milvus: a ``doc_id in [...]`` expression or the list of allowed passage ids?

Times one dense and one sparse top-100 search under each form, for one law, ten laws and every law::

    python scripts/milvus_filters.py milvus://127.0.0.1:19530/cq
"""
from __future__ import annotations

import argparse
import statistics
import time

from qa import Assistant
from qa.backends.milvus.collections import literal
from qa.backends.milvus.store import AllowedIds
from qa.filters import Filters
from qa.lexical import weighted_terms

QUESTION = "外国投资者的投资可以被征收吗？"


def median_ms(call, repeats: int = 7) -> float:
    call()  # warm
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("index", help="milvus://HOST:PORT/COLLECTION")
    args = parser.parse_args()
    assistant = Assistant.open(args.index)
    index = assistant.retriever.index
    vector = assistant.embedder.embed_queries([QUESTION])[0]
    terms = weighted_terms(QUESTION)
    docs = [d["id"] for d in index.store.documents()]
    for label, chosen in (("1 law", docs[:1]), ("10 laws", docs[:10]), (f"all {len(docs)}", docs)):
        by_expression = index.store.allowed_ids(Filters(docs=tuple(chosen)))
        ids = by_expression.tolist()
        by_ids = AllowedIds.of(ids, f"id in {literal(ids)}")
        for name, allowed in (("doc_id expression", by_expression), ("id list", by_ids)):
            dense = median_ms(lambda: index.vectors.top(vector, 100, allowed))
            sparse = median_ms(lambda: index.lexical.top(terms, 100, allowed))
            print(f"{label:8} ({len(ids):6} passages)  {name:18} dense {dense:6.1f} ms  sparse {sparse:6.1f} ms", flush=True)


if __name__ == "__main__":
    main()
