"""Split a question file into training and validation halves (even ids train, odd ids validate).

    python scripts/split_questions.py ../shared/bench/stard/queries-dev.jsonl --out /tmp/split
    → /tmp/split/queries-dev.train.jsonl, /tmp/split/queries-dev.valid.jsonl

With ``--contiguous`` the first half of the file trains and the second validates: interleaved ids
share many gold articles between the halves (neighbouring questions were written about the same
laws), so report both to see what training questions do for topics they never covered.

Questions without an integer id are split by a stable hash of their text. Learn from the
first (`qa index learn`), tune and report on the second (`qa eval`), never the other way round.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path


def is_training(row: dict) -> bool:
    try:
        return int(row["id"]) % 2 == 0
    except (KeyError, TypeError, ValueError):
        return hashlib.sha1(row["question"].encode("utf-8")).digest()[0] % 2 == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--contiguous", action="store_true", help="first half trains, second half validates")
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.questions.stem
    half = len(rows) // 2
    for name, keep in (("train", True), ("valid", False)):
        if args.contiguous:
            part = rows[:half] if keep else rows[half:]
        else:
            part = [r for r in rows if is_training(r) == keep]
        path = args.out / f"{stem}.{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), encoding="utf-8")
        print(f"{path}: {len(part)} questions")


if __name__ == "__main__":
    main()
