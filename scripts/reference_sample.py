"""Cross-reference quality, checked by reading: sample passages, print them, score our annotations.

    python scripts/reference_sample.py show --index IDX [--seed 13] [--passages 60]
        prints sampled passages with every reference the parser found and where it resolved,
        for a person to read and write down every reference they see (bench/references-checked.jsonl);
    python scripts/reference_sample.py score bench/references-checked.jsonl --index IDX
        prints precision and recall of the parser + resolver against those annotations.

Passages are drawn at random (fixed seed) from the statutes' passages whose text, after the
article's own label, holds anything that could be a reference (第…条/款/项, 前款, 本条, 前条,
Article N, paragraph): a net much wider than the parser, so references the parser misses are
read too (recall). ``"set"`` names the sample: "tuning" was read while the parser was being
fixed, "held-out" was read blind (``show --blind``) after the last change. An annotation line is one passage read, with *all* its references:
``{"doc": …, "article": …, "part": 0, "references": [{"text": …, "doc": target doc or null,
"article": …, "paragraphs": [..]}]}``; a target law that is not indexed has ``"doc": null``.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

from qa import Assistant

NET = re.compile(r"第[一二三四五六七八九十百千零〇两\d]+[条款项]|前[一二三两]?[条款项]|本条(?!例)|Article \d+|paragraph")


def _candidates(assistant: Assistant) -> list:
    store = assistant.retriever.index.store
    passages = store.passages(store.passage_ids())
    out = []
    for p in passages.values():
        body = p.text[len(p.article):] if p.article and p.text.startswith(p.article) else p.text
        if p.kind == "regulation" and NET.search(body):
            out.append(p)
    return sorted(out, key=lambda p: p.id)


def _key(p) -> tuple:
    return p.doc_id, p.article, p.part


def show(args) -> None:
    assistant = Assistant.open(args.index)
    pool = _candidates(assistant)
    random.Random(args.seed).shuffle(pool)
    if args.exclude:  # passages already read (another sample's annotations)
        read = {(r["doc"], r["article"], r.get("part", 0)) for r in _rows(args.exclude)}
        pool = [p for p in pool if _key(p) not in read]
    picked = pool[: args.passages]
    refs = assistant.references(picked)
    if refs is None:
        sys.exit("this index recorded no references; rebuild it: qa index build SRC --index IDX")
    for i, p in enumerate(picked, 1):
        print(f"=== {i} · doc={p.doc_id} · article={p.article} · part={p.part}")
        print(p.text)
        for r in [] if args.blind else refs.get(p.id, []):
            print(f"  -> {r.text!r}: {r.target or '?'} · doc={r.doc} · resolved={r.resolved}"
                  + (f" · {r.reason}" if r.reason else ""))
    print(f"\n{len(picked)} passages of {len(pool)} candidates (seed {args.seed})")


def _rows(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _same(predicted, gold: dict) -> bool:
    return (predicted.text == gold["text"] and predicted.article == gold.get("article")
            and (predicted.doc if predicted.resolved else None) == gold.get("doc")
            and list(predicted.paragraphs) == list(gold.get("paragraphs", [])))


def score(args) -> None:
    assistant = Assistant.open(args.index)
    rows = _rows(args.annotations)
    store = assistant.retriever.index.store
    by_key = {_key(p): p for p in store.passages(store.passage_ids()).values()}
    for name in ["all"] + sorted({r.get("set", "all") for r in rows} - {"all"}):
        chosen = [r for r in rows if name == "all" or r.get("set") == name]
        tp = predicted_n = gold_n = 0
        misses, wrong = [], []
        for row in chosen:
            p = by_key.get((row["doc"], row["article"], row.get("part", 0)))
            if p is None:
                sys.exit(f"annotated passage not in the index: {row['doc']} {row['article']}")
            predicted = (assistant.references([p]) or {}).get(p.id, [])
            gold = list(row["references"])
            gold_n += len(gold)
            predicted_n += len(predicted)
            unmatched = list(gold)
            for r in predicted:
                match = next((g for g in unmatched if _same(r, g)), None)
                if match is None:
                    wrong.append((p.citation, r.text, r.target, r.doc if r.resolved else None))
                else:
                    unmatched.remove(match)
                    tp += 1
            misses += [(p.citation, g["text"], g.get("article"), g.get("doc")) for g in unmatched]
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / gold_n if gold_n else 0.0
        print(f"[{name}] passages read: {len(chosen)} · references by reading: {gold_n} · found: {predicted_n} · "
              f"precision {precision:.3f} ({tp}/{predicted_n}) · recall {recall:.3f} ({tp}/{gold_n})")
        for w in wrong:
            print("  wrong or extra:", *w)
        for m in misses:
            print("  missed:", *m)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("show")
    s.add_argument("--index", required=True)
    s.add_argument("--seed", type=int, default=13)
    s.add_argument("--passages", type=int, default=60)
    s.add_argument("--blind", action="store_true", help="print the passages only, not what the parser found")
    s.add_argument("--exclude", help="an annotation file whose passages are left out (read already)")
    c = sub.add_parser("score")
    c.add_argument("annotations")
    c.add_argument("--index", required=True)
    args = parser.parse_args()
    (show if args.command == "show" else score)(args)


if __name__ == "__main__":
    main()
