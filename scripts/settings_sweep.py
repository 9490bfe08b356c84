"""Sweep one search setting over the dev sets: hit@1 / hit@5 per set and language, and with --answers
what the answers do (c correct / w wrong / p labelled partial of the answerable questions, the
unanswerable ones held back).

    python scripts/settings_sweep.py --index /work/ix/cq-final --setting w_elsewhere --values 0,0.2,0.5 \
        ../shared/bench/chongqing/dev.jsonl bench/chongqing-en.jsonl bench/blind.jsonl bench/blind-2.jsonl \
        bench/dev-zh-news.jsonl bench/dev-unanswerable.jsonl bench/offtopic.jsonl --answers

Kept so the numbers in docs/benchmarks.md can be re-run; point it at dev sets only, never at a set
kept for reporting (bench/blind-3.jsonl, bench/bundled-blind.jsonl).
"""
from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from qa import Assistant, SearchSettings
from qa.evaluation import answer_figures, run_system
from qa.questions import load_questions


def figures(rows: list[dict], answers: bool) -> str:
    """hit@1/hit@5 of the answerable questions; with answers, counts by ``answer_figures``' rules."""
    answerable = [r for r in rows if r["answerable"]]
    out = []
    if answerable:
        hit1 = sum(r["rank"] == 1 for r in answerable) / len(answerable)
        hit5 = sum(bool(r["rank"]) and r["rank"] <= 5 for r in answerable) / len(answerable)
        out.append(f"{hit1:.3f}/{hit5:.3f}")
    if answers and rows:
        shares, n = answer_figures(rows), len(answerable)
        if answerable:
            out.append(f"c{round(shares['answered_correctly'] * n)}/w{round(shares['answered_wrongly'] * n)}"
                       f"/p{round(shares['partial'] * n)}/{n}")
        if "unanswerable_n" in shares:
            m = shares["unanswerable_n"]
            out.append(f"held {round(shares['unanswerable_held_back'] * m)}/{m}")
    return " ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="+")
    ap.add_argument("--index", required=True)
    ap.add_argument("--setting", required=True, choices=[f.name for f in fields(SearchSettings)])
    ap.add_argument("--values", required=True, help="comma-separated values to try")
    ap.add_argument("--answers", action="store_true", help="also ask every question (slower)")
    args = ap.parse_args()
    default = getattr(SearchSettings(), args.setting)
    kind = (lambda v: v.lower() in ("1", "true", "yes")) if isinstance(default, bool) else type(default)
    assistant = Assistant.open(args.index)
    sets = {Path(f).stem: load_questions(Path(f)) for f in args.questions}
    for value in args.values.split(","):
        settings = SearchSettings(**{args.setting: kind(value)})
        assistant.retriever.settings = settings  # ask() reads the retriever's own settings
        line = [f"{args.setting}={value}"]
        for name, items in sets.items():
            rows = run_system(assistant, items, settings, k=10, answers=args.answers)["questions"]
            for language in ("zh", "en"):
                shown = figures([r for r in rows if r["lang"] == language], args.answers)
                if shown:
                    line.append(f"{name}:{language} {shown}")
        print("  ".join(line), flush=True)


if __name__ == "__main__":
    main()
