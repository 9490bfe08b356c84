"""Where to abstain and where to call an answer partial, measured on the dev sets only.

For every question: the passage confidence (best dense similarity, 0..1) and the sentence
support (how well the best quoted sentence matches the question). Groups: answerable questions
answered with a gold passage ("correct"), answerable ones answered with something else
("wrong"), on-topic questions the documents cannot answer ("unanswerable"), and off-topic ones.
A grid over both thresholds prints what each choice does to each group.

    python scripts/calibrate_abstention.py --index /work/ix/cq ../shared/bench/chongqing/dev.jsonl \
        bench/chongqing-en.jsonl bench/dev-zh-news.jsonl --unanswerable bench/dev-unanswerable.jsonl \
        --offtopic bench/offtopic.jsonl
"""
from __future__ import annotations

import argparse
from pathlib import Path

from qa import Assistant
from qa.questions import load_questions, matches


def features(assistant, items) -> list[tuple[float, float, bool]]:
    """(confidence, support, cites a gold passage) per question, with abstention and partial switched off."""
    out = []
    for item in items:
        result = assistant.search_result(item["question"], 5)
        result.query.noise_floor = assistant.retriever.noise_floor
        reading = assistant.reader.read(result.query, result.hits)
        correct = any(matches(c.hit.passage, g) for c in reading.citations for g in item["gold"])
        out.append((reading.confidence, reading.support, correct))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="+")
    ap.add_argument("--unanswerable", required=True)
    ap.add_argument("--offtopic", required=True)
    ap.add_argument("--index", required=True)
    args = ap.parse_args()
    assistant = Assistant.open(args.index)
    assistant.reader.abstain_below = -1.0  # see every confidence
    assistant.reader.partial_below = -1.0  # and no partial labels
    answerable = [f for p in args.questions for f in features(assistant, load_questions(Path(p)))]
    groups = {"correct": [f for f in answerable if f[2]], "wrong": [f for f in answerable if not f[2]],
              "unanswerable": features(assistant, load_questions(Path(args.unanswerable))),
              "offtopic": features(assistant, load_questions(Path(args.offtopic)))}
    for name, rows in groups.items():
        conf = sorted(r[0] for r in rows)
        sup = sorted(r[1] for r in rows)
        print(f"{name:<13} n={len(rows):>3}  confidence min/median {conf[0]:.3f}/{conf[len(conf) // 2]:.3f}  "
              f"support min/median/max {sup[0]:.3f}/{sup[len(sup) // 2]:.3f}/{sup[-1]:.3f}")
    print("\nthresholds: abstain below confidence A; partial below confidence P (or below support S)")
    print("A     P     S    | correct: answered partial abstained | wrong: answered | unanswerable: held back "
          "| offtopic: abstained")
    grid = [(a, p, 0.0) for a in (0.40, 0.45, 0.50, 0.55) for p in (0.0, 0.55, 0.60, 0.65, 0.70)]
    grid += [(0.50, 0.0, s) for s in (0.85, 0.90, 0.95, 1.00)]
    for abstain, partial, support in grid:
        def state(f):
            if f[0] < abstain:
                return "abstained"
            return "partial" if f[0] < partial or f[1] < support else "answered"

        share = {name: {s: sum(state(f) == s for f in rows) / max(1, len(rows))
                        for s in ("answered", "partial", "abstained")} for name, rows in groups.items()}
        print(f"{abstain:.2f}  {partial:.2f}  {support:.2f} | {share['correct']['answered']:.3f} "
              f"{share['correct']['partial']:.3f} {share['correct']['abstained']:.3f} | "
              f"{share['wrong']['answered']:.3f} | {1 - share['unanswerable']['answered']:.3f} | "
              f"{share['offtopic']['abstained']:.3f}")


if __name__ == "__main__":
    main()
