"""The question-file format (shared/README.md), read in one place: by ``qa eval``, ``qa index learn``
and ``Assistant.learn``.

One JSON object per line: ``{"id", "lang", "question", "gold": [G, ...]}``, where a gold item
``G`` is ``{"doc", "article"}`` (that article of the document), ``{"doc", "quote"}`` (any passage
of the document containing the quote) or ``{"doc"}`` (any passage of the document). An empty
gold list marks a question the documents do not answer (evaluation only).
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence

from .models import Passage

GOLD_KEYS = ("doc", "article", "quote")


@dataclass
class TrainingQuestion:
    question: str
    gold: list[dict]  # gold items as in the question file (never empty)
    id: str = ""


def _gold_error(name: str, non_empty: bool = False) -> ValueError:
    return ValueError(f"{name}: 'gold' must be a {'non-empty ' if non_empty else ''}list of {{\"doc\": text}} items, "
                      "each with an optional \"article\" or \"quote\" text")


def _valid_gold(gold) -> bool:
    return isinstance(gold, list) and all(
        isinstance(g, dict) and isinstance(g.get("doc"), str) and g["doc"]
        and all(isinstance(g.get(k, ""), str) for k in ("article", "quote")) for g in gold)


def jsonl_rows(path: Path) -> Iterator[tuple[str, object]]:
    """(where, row) for each non-blank line of a JSONL file, ``where`` naming the file and line
    for error messages; a line that is not JSON is an error naming them."""
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{Path(path).name} line {lineno}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not valid JSON ({exc.msg})") from exc
        yield where, row


def load_questions(path: Path) -> list[dict]:
    """Rows of a question file; a malformed line is an error naming the file and line."""
    items = []
    for where, row in jsonl_rows(path):
        if not isinstance(row, dict) or "question" not in row or "gold" not in row:
            raise ValueError(f"{where}: needs 'question' and 'gold'")
        if not _valid_gold(row["gold"]):
            raise _gold_error(where)
        items.append(row)
    return items


def matches(passage: Passage, gold: dict) -> bool:
    """Whether ``passage`` is what the gold item points at."""
    if passage.doc_id != gold.get("doc"):
        return False
    if "article" in gold:
        return passage.article == gold["article"]
    if "quote" in gold:
        return gold["quote"] in passage.text
    return True


def parse_training_items(items: Sequence[dict]) -> list[TrainingQuestion]:
    """Question-file rows → training questions; a missing question or malformed gold is an error.

    Every gold item is kept as written (article and quote items alike); questions without gold
    (unanswerable ones) teach nothing and are an error here.
    """
    out: list[TrainingQuestion] = []
    for n, row in enumerate(items, 1):
        name = f"question {row.get('id', n) if isinstance(row, dict) else n}"
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) or not row["question"].strip():
            raise ValueError(f"{name}: needs a non-empty 'question' text")
        gold = row.get("gold")
        if not _valid_gold(gold) or not gold:
            raise _gold_error(name, non_empty=True)
        out.append(TrainingQuestion(question=str(row["question"]).strip(),
                                    gold=[{k: g[k] for k in GOLD_KEYS if k in g} for g in gold],
                                    id=str(row.get("id", n))))
    return out


def gold_resolver(store, questions: Sequence[TrainingQuestion]):
    """A function: gold items → (passage id, law title) of the passages they point at in ``store``.

    One query for all the questions' documents.
    """
    by_doc: dict[str, list[tuple[int, Optional[str], str, str]]] = defaultdict(list)
    for pid, doc_id, article, title, text in store.passage_keys({g["doc"] for q in questions for g in q.gold}):
        by_doc[doc_id].append((pid, article, title, text))

    def resolve(gold: Sequence[dict]) -> list[tuple[int, str]]:
        return [(pid, title) for g in gold for pid, article, title, text in by_doc.get(g["doc"], [])
                if ("article" not in g or g["article"] == article) and ("quote" not in g or g["quote"] in text)]
    return resolve


def resolve_gold(store, questions: Sequence[TrainingQuestion]) -> list[list[tuple[int, str]]]:
    """Per question, what its gold points at in ``store`` (``gold_resolver``; empty: nothing indexed)."""
    resolve = gold_resolver(store, questions)
    return [resolve(q.gold) for q in questions]
