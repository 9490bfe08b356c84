"""Does a filter slow search down? p50/p95 of warm searches with and without filters (the query's
embedding excluded: it is the same for every variant and, on a shared machine, mostly noise).

    python scripts/filter_latency.py --index /work/ix/cq --questions ../shared/bench/chongqing/dev.jsonl

Works on a temporary copy of the index (an index built before document dates and regions is
migrated in the copy: its documents get their dates and region from the stored passages). Each
question is searched unfiltered, with ``--region``, and with ``--as-of``, in turn, so the machine's
load falls on all alike; the first rounds are warm-up. Also counts the searches that returned
fewer than k hits (a filter applied after ranking would).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from qa import Assistant
from qa.filters import Filters
from qa.index import current_generation
from qa.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="/work/ix/cq")
    parser.add_argument("--questions", default=str(Path(__file__).resolve().parents[2] / "shared/bench/chongqing/dev.jsonl"))
    parser.add_argument("-n", type=int, default=80, help="questions to time")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--region", default="chongqing")
    parser.add_argument("--as-of", default="2015-01-01")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in Path(args.questions).read_text(encoding="utf-8").splitlines()
                 if line.strip()][: args.n]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "index"
        shutil.copytree(args.index, copy)
        Store(current_generation(copy) / "passages.sqlite").close()  # migrates an older store in place
        assistant = Assistant.open(copy)
        variants = {"no filter": {}, f"region={args.region}": {"regions": [args.region]},
                    f"as_of={args.as_of}": {"as_of": args.as_of}}
        for q in questions[:5]:  # warm-up: models, dictionaries, caches
            for kw in variants.values():
                assistant.search(q, args.k, **kw)
        times: dict[str, list[float]] = {name: [] for name in variants}
        short: dict[str, int] = {name: 0 for name in variants}
        retriever = assistant.retriever
        for q in questions:
            # The query is embedded once, outside the clock: on a shared machine the embedder's time
            # swings with the load and says nothing about filtering; everything after it is timed.
            vectors = retriever.parse(q).vectors or list(retriever.embedder.embed_queries(
                [q] + ([t.text] if (t := retriever.parse(q).translation) and t.text else [])))
            for name, kw in variants.items():
                query = retriever.parse(q)
                query.vectors = list(vectors)
                started = time.perf_counter()
                hits = assistant.search_result(query, args.k, **kw).hits
                times[name].append((time.perf_counter() - started) * 1000)
                short[name] += len(hits) < args.k
        docs = assistant.documents()
        store = assistant.retriever.index.store
        allowed = {name: store.allowed_ids(Filters.of(**kw)) for name, kw in variants.items()}
        print(f"{len(questions)} questions, k={args.k}, index {args.index} ({len(docs)} documents)")
        for name in variants:
            ts = sorted(times[name])
            n_allowed = "all" if allowed[name] is None else len(allowed[name])
            print(f"  {name:<20} p50 {statistics.median(ts):6.1f} ms  p95 {ts[int(0.95 * (len(ts) - 1))]:6.1f} ms"
                  f"  passages allowed {n_allowed}  searches with < k hits {short[name]}")
        assistant.close()


if __name__ == "__main__":
    main()
