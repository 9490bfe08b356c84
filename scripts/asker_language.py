"""How often an English question is answered with an English quote when the documents hold one.

    python scripts/asker_language.py --index /tmp/bundled-ix bench/bundled-en.jsonl

For questions whose gold is in an English document that has a Chinese counterpart (our bilingual
overview), prints hit@5 and the share of answers whose first quote is English.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from qa import Assistant
from qa.evaluation import first_rank
from qa.questions import load_questions


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="+")
    ap.add_argument("--index", required=True)
    args = ap.parse_args()
    assistant = Assistant.open(args.index)
    n = hit5 = english_first = 0
    for path in args.questions:
        for item in load_questions(Path(path)):
            n += 1
            rank = first_rank(assistant.search(item["question"], 5), item["gold"])
            hit5 += rank is not None
            answer = assistant.ask(item["question"])
            first = answer.citations[0].hit.passage.language if answer.citations else None
            english_first += first == "en"
            if first != "en":
                print(f"  not English: {item['question']} → {answer.text[:100]!r}")
    print(f"questions {n}: hit@5 {hit5 / n:.3f}, answered with an English quote first {english_first / n:.3f}")


if __name__ == "__main__":
    main()
