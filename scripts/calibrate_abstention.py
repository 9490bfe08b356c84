"""Where to abstain and where to call an answer partial, measured on the dev sets only.

For every question: the passage confidence (best dense similarity, 0..1), the sentence support
(how well the best quoted sentence matches the question) and the coverage (the share of the
question's rarity-weighted words the first quoted passage holds, ``Query.coverage``). Groups per
asker language: answerable questions answered with a gold passage ("correct"), answerable ones
answered with something else ("wrong"), on-topic questions the documents cannot answer
("unanswerable": the --unanswerable file and every row of the question files with an empty gold),
and off-topic ones. A grid prints what each choice of thresholds does to each group.

    python scripts/calibrate_abstention.py --index /work/ix/cq ../shared/bench/chongqing/dev.jsonl \
        bench/chongqing-en.jsonl bench/dev-zh-news.jsonl bench/blind.jsonl bench/blind-2.jsonl \
        --unanswerable bench/dev-unanswerable.jsonl --offtopic bench/offtopic.jsonl

On a small index (fewer than qa.reader.SMALL_INDEX_PASSAGES passages) a last column S is the bar a
same-language passage's coverage must reach at any confidence (0: no such bar):

    python scripts/calibrate_abstention.py --index /work/ix/bundled-s19 bench/bundled-dev.jsonl \
        --unanswerable bench/dev-unanswerable.jsonl --offtopic bench/offtopic.jsonl
"""
from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass
from pathlib import Path

from qa import Assistant
from qa.questions import load_questions, matches
from qa.reader import SMALL_INDEX_PASSAGES


@dataclass
class Seen:
    language: str
    confidence: float
    support: float
    coverage: float
    cross: bool  # the first quoted passage is in the other language
    correct: bool
    small_index: bool


def features(assistant, items) -> list[Seen]:
    """What the reader saw for each question, with abstention and partial labels switched off."""
    out = []
    for item in items:
        result = assistant.search_result(item["question"], 5)
        result.query.noise_floor = assistant.retriever.noise_floor
        reading = assistant.reader.read(result.query, result.hits)
        first = reading.citations[0].hit.passage if reading.citations else None
        translation = result.query.translation
        cross = bool(first and translation and first.language == translation.target)
        coverage = result.query.coverage(first.text, cross) if first else 0.0
        out.append(Seen(result.query.language, reading.confidence, reading.support,
                        1.0 if coverage is None else coverage, cross,
                        any(matches(c.hit.passage, g) for c in reading.citations for g in item["gold"]),
                        (result.query.index_passages or 0) < SMALL_INDEX_PASSAGES))
    return out


def state(seen: Seen, abstain: float, partial: float, uncovered: float, same: float, across: float,
          small: float = 0.0) -> str:
    if seen.confidence < abstain:
        return "abstained"
    if seen.confidence < partial or (seen.confidence < uncovered and seen.coverage < (across if seen.cross else same)):
        return "partial"
    if seen.small_index and not seen.cross and seen.coverage < small:
        return "partial"
    return "answered"


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
    assistant.reader.partial_unless_covered_below = -1.0
    items = [item for p in args.questions for item in load_questions(Path(p))]
    answerable = features(assistant, [i for i in items if i["gold"]])
    unanswerable = features(assistant, [i for i in items if not i["gold"]] + load_questions(Path(args.unanswerable)))
    offtopic = features(assistant, load_questions(Path(args.offtopic)))
    groups = {}
    for lang in ("zh", "en"):
        groups[f"correct {lang}"] = [f for f in answerable if f.correct and f.language == lang]
        groups[f"wrong {lang}"] = [f for f in answerable if not f.correct and f.language == lang]
        groups[f"unanswerable {lang}"] = [f for f in unanswerable if f.language == lang]
    groups["offtopic"] = offtopic
    print("  ".join(f"{name} n={len(rows)}" for name, rows in groups.items()))
    print("\nabstain below A; partial below P, or below U when the first quoted passage covers less than "
          "C (same language) / X (other language)")
    print("A    P    U    C    X    S   | correct zh: partial abstained | correct en: partial abstained | "
          "wrong zh/en: held | unanswerable zh/en: held | offtopic: abstained")
    small = (0.0, 0.2, 0.3, 0.4) if any(f.small_index for f in answerable) else (0.0,)
    grid = [(0.50, p, 0.0, 0.0, 0.0, 0.0) for p in (0.55, 0.60, 0.65, 0.70)]
    grid += [(0.50, p, u, c, x, b) for p, u, c, x, b in itertools.product(
        (0.55, 0.60), (0.65, 0.70, 0.75), (0.4, 0.5, 0.6, 0.7, 0.8), (0.2, 0.3, 0.4), small)]
    for setting in grid:
        def share(name: str, *states: str) -> float:
            rows = groups[name]
            return sum(state(f, *setting) in states for f in rows) / max(1, len(rows))

        print(" ".join(f"{v:.2f}" for v in setting) + " | "
              f"{share('correct zh', 'partial'):.3f} {share('correct zh', 'abstained'):.3f} | "
              f"{share('correct en', 'partial'):.3f} {share('correct en', 'abstained'):.3f} | "
              f"{share('wrong zh', 'partial', 'abstained'):.3f}/{share('wrong en', 'partial', 'abstained'):.3f} | "
              f"{share('unanswerable zh', 'partial', 'abstained'):.3f}/"
              f"{share('unanswerable en', 'partial', 'abstained'):.3f} | {share('offtopic', 'abstained'):.3f}",
              flush=True)


if __name__ == "__main__":
    main()
