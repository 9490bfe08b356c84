"""Which sentence the reader quotes: its weights, measured on the dev sets only.

A quotable sentence of the first passages scores cos(question, sentence) + OVERLAP_WEIGHT × its
rarity-weighted word overlap + RANK_BONUS / (1 + its passage's rank − 1) (qa/reader.py). The
searches are run once; every setting re-reads the same hits and counts, per asker language, the
answers that cite a gold passage (correct), those whose first citation is one (first), and those
that cite something else only (wrong). An answer in the asker's language is preferred when its
sentence scores within LANGUAGE_MARGIN of the best one, so the margin is gridded too.

    python scripts/reader_weights.py --index /work/ix/cq-final ../shared/bench/chongqing/dev.jsonl \
        bench/chongqing-en.jsonl bench/blind.jsonl bench/blind-2.jsonl bench/dev-zh-news.jsonl
"""
from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import qa.reader as reader_module
from qa import Assistant
from qa.questions import load_questions, matches


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="+")
    ap.add_argument("--index", required=True)
    ap.add_argument("--overlap", default="0.15,0.2,0.3,0.4,0.5")
    ap.add_argument("--rank", default="0,0.025,0.05,0.1,0.2")
    ap.add_argument("--passages", default="3,5", help="how many leading passages the reader reads")
    ap.add_argument("--margin", default=str(reader_module.LANGUAGE_MARGIN), help="LANGUAGE_MARGIN values")
    args = ap.parse_args()
    assistant = Assistant.open(args.index)
    items = [q for p in args.questions for q in load_questions(Path(p)) if q["gold"]]
    searched = []
    for item in items:
        result = assistant.search_result(item["question"], 5)
        result.query.noise_floor = assistant.retriever.noise_floor
        searched.append((item, result))
    print(f"{len(searched)} answerable questions; correct / first / wrong answers per asker language")
    grid = itertools.product(*(map(float, v.split(",")) for v in (args.passages, args.overlap, args.rank,
                                                                  args.margin)))
    for passages, overlap, rank, margin in grid:
        reader_module.OVERLAP_WEIGHT, reader_module.RANK_BONUS = overlap, rank
        assistant.reader.top_passages, assistant.reader.language_margin = int(passages), margin
        line = []
        for language in ("zh", "en"):
            rows = [(item, result) for item, result in searched if result.query.language == language]
            correct = first = wrong = 0
            for item, result in rows:
                reading = assistant.reader.read(result.query, result.hits)
                if reading.abstained:
                    continue
                gold = [any(matches(c.hit.passage, g) for g in item["gold"]) for c in reading.citations]
                correct, first, wrong = correct + any(gold), first + gold[0], wrong + (not any(gold))
            n = max(1, len(rows))
            line.append(f"{language} {correct / n:.3f} / {first / n:.3f} / {wrong / n:.3f}")
        print(f"passages {int(passages)} overlap {overlap:.3f} rank {rank:.3f} margin {margin:.3f}: "
              + "  ".join(line), flush=True)


if __name__ == "__main__":
    main()
