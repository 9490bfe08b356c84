"""`qa eval`: hit@k and MRR@10 on a question file (format in shared/README.md), with baselines.

A question counts as answered at rank k when a passage matching any gold item is in the top k:
``{"doc", "article"}`` matches that article of that document, ``{"doc", "quote"}`` any passage
of the document containing the quote, ``{"doc"}`` any passage of the document.
"""
from __future__ import annotations

import statistics
import time

from typing import Optional, Sequence

from .models import Hit
from .questions import matches
from .retrieval import SearchSettings

KS = (1, 5, 10, 100)
RECALL_KS = (10, 100)


def _matches(hit: Hit, gold: dict) -> bool:
    return matches(hit.passage, gold)


def first_rank(hits: Sequence[Hit], gold: Sequence[dict]) -> Optional[int]:
    for hit in hits:
        if any(_matches(hit, g) for g in gold):
            return hit.rank
    return None


def gold_ranks(hits: Sequence[Hit], gold: Sequence[dict]) -> list[Optional[int]]:
    """Rank of the first hit matching each gold item (None when missed): for recall@k."""
    return [next((h.rank for h in hits if _matches(h, g)), None) for g in gold]


def summarise(ranks: Sequence[Optional[int]], latencies: Sequence[float],
              golds: Sequence[Sequence[Optional[int]]] = ()) -> dict:
    n = max(1, len(ranks))
    out = {f"hit@{k}": round(sum(1 for r in ranks if r is not None and r <= k) / n, 4) for k in KS}
    out["mrr@10"] = round(sum(1.0 / r for r in ranks if r is not None and r <= 10) / n, 4)
    if golds:  # recall: the share of a question's gold items found, averaged over questions
        for k in RECALL_KS:
            out[f"recall@{k}"] = round(sum(sum(1 for r in g if r is not None and r <= k) / max(1, len(g))
                                           for g in golds) / n, 4)
    out["n"] = len(ranks)
    if latencies:
        ordered = sorted(latencies)
        out["latency_mean_ms"] = round(statistics.mean(ordered), 1)
        out["latency_p95_ms"] = round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1)
    return out


def run_system(assistant, items: Sequence[dict], settings: Optional[SearchSettings] = None, k: int = 100,
               answers: bool = False) -> dict:
    """Rank every question; with ``answers`` also ask it and judge the answer against the gold.

    Retrieval figures count only answerable questions (non-empty gold). An answer is
    *correct* when it cites a gold passage, *wrong* when it quotes anything else, *held back*
    when it abstains (or, for questions the documents cannot answer, says it is partial).
    """
    retriever = assistant.retriever
    rows = []
    for item in items:
        started = time.perf_counter()
        result = retriever.search(item["question"], k, settings=settings)
        elapsed = (time.perf_counter() - started) * 1000
        gold = item["gold"]
        row = {"id": item.get("id"), "lang": item.get("lang"), "kind": item.get("kind"), "question": item["question"],
               "answerable": bool(gold), "rank": first_rank(result.hits, gold) if gold else None,
               "gold_ranks": gold_ranks(result.hits, gold), "latency_ms": round(elapsed, 1),
               "top": [h.citation for h in result.hits[:3]]}
        if answers:
            answer = assistant.ask(item["question"])
            row["state"] = answer.state
            row["correct"] = any(_matches(c.hit, g) for c in answer.citations for g in gold)
            row["verbatim"] = all(q in c.hit.passage.text for c in answer.citations for q in c.quotes)
            row["answer"] = answer.text
        rows.append(row)
    return {**summarise_rows(rows, answers), "questions": rows}


def answer_figures(rows: Sequence[dict]) -> dict:
    """Shares of correct / wrong / held-back answers, for answerable and unanswerable questions."""
    out: dict = {}
    answerable = [r for r in rows if r["answerable"]]
    if answerable:
        n = len(answerable)
        out["answered_correctly"] = round(sum(r["correct"] for r in answerable) / n, 4)
        out["answered_wrongly"] = round(sum(r["state"] != "abstained" and not r["correct"] for r in answerable) / n, 4)
        out["partial"] = round(sum(r["state"] == "partial" for r in answerable) / n, 4)
        out["abstained"] = round(sum(r["state"] == "abstained" for r in answerable) / n, 4)
    unanswerable = [r for r in rows if not r["answerable"]]
    if unanswerable:
        out["unanswerable_n"] = len(unanswerable)
        out["unanswerable_held_back"] = round(
            sum(r["state"] in ("abstained", "partial") for r in unanswerable) / len(unanswerable), 4)
    out["verbatim"] = all(r["verbatim"] for r in rows)
    return out


def summarise_rows(rows: Sequence[dict], answers: bool = False) -> dict:
    """Figures overall, per language and per kind (when the question file names kinds)."""
    def summary(sub):
        scored = [r for r in sub if r["answerable"]]
        out = summarise([r["rank"] for r in scored], [r["latency_ms"] for r in sub], [r["gold_ranks"] for r in scored])
        if answers:
            out.update(answer_figures(sub))
        return out

    report = {"overall": summary(rows)}
    for lang in sorted({r["lang"] for r in rows if r["lang"]}):
        report[lang] = summary([r for r in rows if r["lang"] == lang])
    for lang, kind in sorted({(r["lang"], r["kind"]) for r in rows if r["kind"]}):
        report[f"{lang}:{kind}"] = summary([r for r in rows if r["lang"] == lang and r["kind"] == kind])
    return report


def warm_up(assistant, items: Sequence[dict]) -> None:
    """One untimed search per language first: latencies are warm, not the one-off dictionary loads."""
    firsts = {item.get("lang"): item["question"] for item in reversed(items)}
    for question in firsts.values():
        assistant.retriever.search(question, 10)


BASELINES = {
    "bm25": SearchSettings(w_dense=0, w_dense_translated=0, w_lexical_translated=0, w_title=0,
                           translate=False).without_learning(),
    "dense": SearchSettings(w_lexical=0, w_dense_translated=0, w_lexical_translated=0, w_title=0,
                            translate=False).without_learning(),
}


def evaluate(assistant, items: Sequence[dict], compare: bool = False, answers: bool = False,
             settings: Optional[SearchSettings] = None) -> dict:
    warm_up(assistant, items)
    report: dict = {"system": run_system(assistant, items, settings, answers=answers)}
    learned = assistant.retriever.learned
    if learned is not None:
        known = {q.question for q in learned.questions}
        report["training_overlap"] = sum(1 for item in items if str(item["question"]).strip() in known)
    if compare:
        for name, baseline in BASELINES.items():
            report[name] = run_system(assistant, items, baseline)
    return report


def format_report(report: dict) -> str:
    lines = []
    header = f"{'system':<8} {'subset':<16} {'n':>5} {'hit@1':>6} {'hit@5':>6} {'hit@10':>6} {'hit@100':>7} " \
             f"{'MRR@10':>6} {'R@10':>6} {'R@100':>6} {'mean ms':>8} {'p95 ms':>7}"
    lines.append(header)
    for system, result in report.items():
        if not isinstance(result, dict):
            continue
        for subset, s in result.items():
            if not isinstance(s, dict) or "hit@1" not in s:
                continue
            lines.append(f"{system:<8} {subset:<16} {s['n']:>5} {s['hit@1']:>6.3f} {s['hit@5']:>6.3f} "
                         f"{s['hit@10']:>6.3f} {s['hit@100']:>7.3f} {s['mrr@10']:>6.3f} "
                         f"{s.get('recall@10', 0):>6.3f} {s.get('recall@100', 0):>6.3f} "
                         f"{s.get('latency_mean_ms', 0):>8.1f} {s.get('latency_p95_ms', 0):>7.1f}")
    system = report.get("system", {})
    answered = [(subset, s) for subset, s in system.items() if isinstance(s, dict) and "verbatim" in s]
    if answered:
        lines.append("")
        lines.append(f"{'answers':<25} {'correct':>8} {'wrong':>7} {'partial':>8} {'abstain':>8} "
                     f"{'unanswerable held back':>23}")
        for subset, s in answered:
            held = (f"{s['unanswerable_held_back']:.3f} of {s['unanswerable_n']}"
                    if "unanswerable_held_back" in s else "")
            lines.append(f"{subset:<25} {s.get('answered_correctly', 0):>8.3f} {s.get('answered_wrongly', 0):>7.3f} "
                         f"{s.get('partial', 0):>8.3f} {s.get('abstained', 0):>8.3f} {held:>23}")
        lines.append(f"quotes verbatim: {system['overall']['verbatim']}")
    return "\n".join(lines)
