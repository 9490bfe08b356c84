"""`qa eval`: hit@k and MRR@10 overall and per language, checked against ranks computed here."""
from __future__ import annotations

import json
import re

from click.testing import CliRunner

from conftest import DEV_QUESTIONS, SLICE, require_shared
from qa.cli import cli


def six_questions(tmp_path):
    """Three Chinese and three English dev questions whose gold documents are in the slice."""
    require_shared("the dev questions")
    rows = [json.loads(line) for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    in_slice = [r for r in rows if all(g["doc"] in SLICE for g in r["gold"])]
    chosen = [r for r in in_slice if r["lang"] == "zh"][:3] + [r for r in in_slice if r["lang"] == "en"][:3]
    path = tmp_path / "six.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in chosen) + "\n", encoding="utf-8")
    return path, chosen


def rank_of(hits, gold) -> int | None:
    """First rank whose passage matches a gold item (doc + article, or doc + quote, or doc)."""
    for i, h in enumerate(hits, 1):
        for g in gold:
            if h.doc == g["doc"] and (("article" in g and h.passage.article == g["article"])
                                      or ("quote" in g and g["quote"] in h.passage.text)
                                      or ("article" not in g and "quote" not in g)):
                return i
    return None


def metrics(ranks) -> dict:
    n = len(ranks)
    out = {f"hit@{k}": sum(1 for r in ranks if r and r <= k) / n for k in (1, 5, 10)}
    out["MRR@10"] = sum(1 / r for r in ranks if r and r <= 10) / n
    return out


def test_eval_prints_hits_mrr_and_per_language_lines(tmp_path, slice_index, slice_assistant):
    path, chosen = six_questions(tmp_path)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["eval", str(path), "--index", str(slice_index), "--json", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = lines[0].split()
    for name in ("hit@1", "hit@5", "hit@10", "MRR@10"):
        assert name in header, name
    assert "mean ms" in lines[0]  # mean latency
    col = {name: header.index(name) for name in ("n", "hit@1", "hit@5", "hit@10", "MRR@10")}

    ranks = {r["id"]: rank_of(slice_assistant.search(r["question"], k=100), r["gold"]) for r in chosen}
    assert any(ranks.values()), "no gold found at all: the check would be vacuous"
    expected = {"overall": metrics(list(ranks.values()))}
    for lang in ("en", "zh"):
        expected[lang] = metrics([ranks[r["id"]] for r in chosen if r["lang"] == lang])

    rows = {}
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > col["MRR@10"] and fields[0] == "system":
            rows[fields[1]] = fields
    assert set(rows) >= {"overall", "en", "zh"}, result.stdout
    for subset, want in expected.items():
        fields = rows[subset]
        assert int(fields[col["n"]]) == (6 if subset == "overall" else 3)
        for name, value in want.items():
            assert float(fields[col[name]]) == round(value, 3), (subset, name, fields)

    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["system"]["overall"]["n"] == 6
    assert {q["id"]: q["rank"] for q in report["system"]["questions"]} == ranks
    assert re.search(rf"wrote {re.escape(str(out))}$", result.stdout.strip())


def test_eval_compare_limit_and_bad_file(tmp_path, slice_index):
    path, _ = six_questions(tmp_path)
    result = CliRunner().invoke(cli, ["eval", str(path), "--index", str(slice_index), "--compare", "--limit", "2"])
    assert result.exit_code == 0, result.output
    systems = {line.split()[0] for line in result.stdout.splitlines()[1:]}
    assert {"system", "bm25", "dense"} <= systems
    assert all(line.split()[2] == "2" for line in result.stdout.splitlines()[1:] if line.split()[1] == "overall")

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x", "gold": []}\n{"question": "no gold"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", str(bad), "--index", str(slice_index)])
    assert result.exit_code == 1
    assert result.output == "Error: bad.jsonl line 2: needs 'question' and 'gold'\n"
