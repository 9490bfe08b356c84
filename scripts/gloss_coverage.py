"""Glossed quotes for English questions: how much of each Chinese quote is explained, and what it costs.

    python scripts/gloss_coverage.py --index /work/ix/cq bench/chongqing-en.jsonl ../shared/bench/chongqing/dev.jsonl

Asks every English question; over the Chinese quotes of the answers, prints the share of Chinese
characters covered by a gloss and the added time per answer (warm: one untimed question first).
"""
from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from qa import Assistant
from qa.gloss import coverage
from qa.questions import load_questions


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="+")
    ap.add_argument("--index", required=True)
    args = ap.parse_args()
    assistant = Assistant.open(args.index)
    assistant.warm_up()  # models, dictionaries and the index loaded before anything is timed
    covered = total = glossed_answers = 0
    costs = []
    for path in args.questions:
        for item in load_questions(Path(path)):
            if item.get("lang") != "en":
                continue
            answer = assistant.ask(item["question"])
            if "gloss_ms" in answer.timings:
                costs.append(answer.timings["gloss_ms"])
            for citation in answer.citations:
                if citation.gloss:
                    glossed_answers += 1
                    c, t = coverage(citation.gloss)
                    covered, total = covered + c, total + t
    print(f"Chinese quotes glossed: {glossed_answers}; characters covered {covered}/{total} = {covered / max(1, total):.3f}")
    ordered = sorted(costs)
    print(f"gloss time per answer: mean {statistics.mean(ordered):.2f} ms, "
          f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.2f} ms, max {ordered[-1]:.2f} ms over {len(ordered)} answers")


if __name__ == "__main__":
    main()
