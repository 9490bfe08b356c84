"""Follow-up questions scored in their conversation: ``qa eval DIALOGUES.jsonl``.

A dialogue file holds one JSON object per line: ``{"id", "language", "kind", "turns":
[{"question": …}, …], "gold": [G, …]}`` where the gold items (as in the question format,
shared/README.md) judge the *last* turn. The earlier turns are asked first, each with the
answers before it as history, exactly as the chat does; the last turn is then asked with that
history and, as the baseline, on its own. A gold ``doc`` may be a file name when exactly one
indexed document has that name (dialogue writers need not know the corpus folders).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional, Sequence

from .evaluation import first_rank, summarise
from .questions import _gold_error, _valid_gold, jsonl_rows


def is_dialogue_file(path: Path) -> bool:
    """Whether a question file holds dialogues (its first row has ``turns``)."""
    with Path(path).open(encoding="utf-8") as lines:  # the first row decides: read no further
        first = next((line for line in lines if line.strip()), None)
    try:
        row = json.loads(first) if first is not None else None
    except json.JSONDecodeError:
        return False
    return isinstance(row, dict) and "turns" in row


def load_dialogues(path: Path) -> list[dict]:
    """Rows of a dialogue file; a malformed line is an error naming the file and line."""
    items = []
    for where, row in jsonl_rows(path):
        turns = row.get("turns") if isinstance(row, dict) else None
        if not isinstance(turns, list) or len(turns) < 2 or not all(
                isinstance(t, dict) and isinstance(t.get("question"), str) and t["question"].strip() for t in turns):
            raise ValueError(f"{where}: 'turns' must be a list of at least two {{\"question\": text}} objects")
        gold = row.get("gold")
        if isinstance(gold, list):  # "article": null means no article (news): the key is dropped
            gold = [{key: v for key, v in g.items() if v is not None} if isinstance(g, dict) else g for g in gold]
        if not _valid_gold(gold) or not gold:
            raise _gold_error(where, non_empty=True)
        items.append({**row, "gold": gold})
    return items


def resolve_gold_docs(items: Sequence[dict], doc_ids: Sequence[str]) -> list[dict]:
    """The items with each gold ``doc`` that is a bare file name replaced by the one indexed id
    ending in it (ids stay as they are when they are indexed, unknown or ambiguous)."""
    known = set(doc_ids)
    by_name: dict[str, list[str]] = {}
    for doc in doc_ids:
        by_name.setdefault(doc.rsplit("/", 1)[-1], []).append(doc)

    def resolved(doc: str) -> str:
        matches = by_name.get(doc, [])
        return matches[0] if doc not in known and len(matches) == 1 else doc

    return [{**item, "gold": [{**g, "doc": resolved(g["doc"])} for g in item["gold"]]} for item in items]


def run_dialogue(assistant, item: dict, k: int = 10) -> dict:
    """Ask a dialogue's turns in order; rank the last one with and without the history."""
    history = []
    for turn in item["turns"][:-1]:
        history.append(assistant.ask(turn["question"], history=list(history)))
    last = item["turns"][-1]["question"]
    started = time.perf_counter()
    answer = assistant.ask(last, k=k, history=history)
    elapsed = (time.perf_counter() - started) * 1000
    alone = assistant.ask(last, k=k)
    gold = item["gold"]
    return {"id": item.get("id"), "lang": item.get("language", item.get("lang")), "kind": item.get("kind"),
            "question": last, "read_as": answer.read_as, "focus_before": history[-1].focus.label()
            if history and history[-1].focus else None,
            "rank": first_rank(answer.nearest, gold), "rank_alone": first_rank(alone.nearest, gold),
            "latency_ms": round(elapsed, 1), "top": [h.citation for h in answer.nearest[:3]],
            "top_alone": [h.citation for h in alone.nearest[:3]]}


def evaluate_dialogues(assistant, items: Sequence[dict], k: int = 10) -> dict:
    """Follow-up hit@k with the conversation's history and, as the baseline, asked alone."""
    items = resolve_gold_docs(items, [d["id"] for d in assistant.documents()])
    rows = [run_dialogue(assistant, item, k) for item in items]

    def figures(sub: list[dict]) -> dict:
        with_history = summarise([r["rank"] for r in sub], [r["latency_ms"] for r in sub])
        alone = summarise([r["rank_alone"] for r in sub], [])
        return {"with_history": with_history, "alone": alone, "n": len(sub),
                "read_in_focus": round(sum(r["read_as"] is not None for r in sub) / max(1, len(sub)), 4)}

    report = {"overall": figures(rows)}
    for lang in sorted({r["lang"] for r in rows if r["lang"]}):
        report[lang] = figures([r for r in rows if r["lang"] == lang])
    for kind in sorted({r["kind"] for r in rows if r["kind"]}):
        report[f"kind:{kind}"] = figures([r for r in rows if r["kind"] == kind])
    return {"dialogues": report, "rows": rows}


def format_dialogue_report(report: dict, missed: Optional[int] = 5) -> str:
    lines = [f"{'follow-ups':<28} {'n':>4} {'read in focus':>13} {'hit@1':>6} {'hit@5':>6} {'hit@10':>6} "
             f"{'MRR@10':>6} {'alone hit@5':>11} {'mean ms':>8}"]
    for subset, s in report["dialogues"].items():
        h, a = s["with_history"], s["alone"]
        lines.append(f"{subset:<28} {s['n']:>4} {s['read_in_focus']:>13.3f} {h['hit@1']:>6.3f} {h['hit@5']:>6.3f} "
                     f"{h['hit@10']:>6.3f} {h['mrr@10']:>6.3f} {a['hit@5']:>11.3f} {h.get('latency_mean_ms', 0):>8.1f}")
    misses = [r for r in report["rows"] if r["rank"] is None or r["rank"] > 5]
    if misses and missed:
        lines.append("")
        lines.append(f"missed at 5 ({len(misses)}):")
        for r in misses[:missed]:
            lines.append(f"  {r['id']}: {r['question']} | read as {r['read_as']} | top {', '.join(r['top'])}")
    return "\n".join(lines)
