"""Pasted-sentence retrieval: how often the source of a sampled statute sentence ranks first.

    python scripts/exact_sentence_probes.py --index /work/ix/cq --n 300
"""
from __future__ import annotations

import argparse

from qa import Assistant
from qa.probes import found_first, sample_probes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with Assistant.open(args.index) as assistant:
        passages = [p for doc in assistant.documents() for p in assistant.document(doc["id"])]
        probes = sample_probes(passages, args.n, args.seed)
        misses = []
        for probe in probes:
            hits = assistant.search(probe.question, 1)
            if not found_first(probe, hits[0].passage if hits else None):
                misses.append((probe, hits[0].citation if hits else "-"))
    print(f"probes {len(probes)}  source first {len(probes) - len(misses)}  "
          f"rate {(len(probes) - len(misses)) / max(1, len(probes)):.3f}")
    for probe, got in misses:
        print(f"  miss: {probe.question[:60]}…  source {probe.source}  got {got}")


if __name__ == "__main__":
    main()
