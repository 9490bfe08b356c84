"""Confidence on answerable (dev) vs off-topic questions, to place the abstention threshold.

    python scripts/calibrate_abstention.py --index /work/ix/cq ../shared/bench/chongqing/dev.jsonl \
        bench/chongqing-en.jsonl --offtopic bench/offtopic.jsonl
"""
from __future__ import annotations

import argparse
from pathlib import Path

from qa import Assistant
from qa.questions import load_questions


def confidences(assistant, items) -> list[float]:
    return [assistant.ask(item["question"]).confidence for item in items]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="+")
    ap.add_argument("--offtopic", required=True)
    ap.add_argument("--index", required=True)
    args = ap.parse_args()
    assistant = Assistant.open(args.index)
    assistant.reader.abstain_below = -1.0  # see every confidence
    dev = [c for p in args.questions for c in confidences(assistant, load_questions(Path(p)))]
    off = confidences(assistant, load_questions(Path(args.offtopic)))
    print("dev      min/median:", round(min(dev), 3), round(sorted(dev)[len(dev) // 2], 3))
    print("offtopic max/median:", round(max(off), 3), round(sorted(off)[len(off) // 2], 3))
    for threshold in [x / 20 for x in range(0, 21)]:
        answered = sum(c >= threshold for c in dev) / len(dev)
        abstained = sum(c < threshold for c in off) / len(off)
        print(f"threshold {threshold:.2f}: dev answered {answered:.3f}  off-topic abstained {abstained:.3f}")


if __name__ == "__main__":
    main()
