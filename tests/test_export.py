"""Export (issue 13 part 5): a conversation or one answer as Markdown and .docx, quotes verbatim.

The .docx is read back with python-docx: every quote must come back as one paragraph, exactly.
"""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from docx import Document

from qa.cli import cli
from qa.export import quotes_of, to_docx, to_markdown, write_export

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)


def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


@pytest.fixture(scope="module")
def conversation(repo_assistant):
    first = repo_assistant.ask("When do the Chongqing development zone regulations take effect?")
    second = repo_assistant.ask("重庆市开发区条例共分几章？", history=[first])
    off_topic = repo_assistant.ask("How do I bake sourdough bread at home?", history=[first, second])
    assert not first.abstained and not second.abstained and off_topic.abstained
    return [first, second, off_topic]


def test_docx_round_trip_keeps_every_quote_its_citation_date_and_source(conversation):
    quotes = quotes_of(conversation)
    assert len(quotes) >= 2
    texts = paragraphs(to_docx(conversation, NOW))
    for quote in quotes:
        assert quote in texts, quote  # a paragraph of its own, character for character
    joined = "\n".join(texts)
    for answer in conversation[:2]:
        assert answer.question in joined
        for c in answer.citations:
            p = c.hit.passage
            assert f"{c.hit.citation}" in joined
            assert f"Version / date: {p.date}" in joined
            source = p.source if p.source.startswith("http") else p.source.split("/")[-1]
            assert f"Source: {source}" in joined
    assert "Nearest passages (not an answer)" in joined  # the abstention is not passed off as an answer
    assert "/tmp/" not in joined and "/work/" not in joined  # no server paths


def test_markdown_carries_the_same(conversation):
    md = to_markdown(conversation, NOW)
    for quote in quotes_of(conversation):
        assert "> " + quote.replace("\n", "\n> ") in md
    assert md.startswith("# Conversation — regulation Q&A")
    assert "Exported 2025-03-01 09:30 UTC" in md
    assert md.count("\n## ") == 3


def test_one_answer_and_answers_as_dicts(conversation):
    answer = conversation[0]
    md = to_markdown(answer.to_dict(), NOW)
    assert md.startswith("# Answer — regulation Q&A") and md.count("\n## ") == 1
    assert paragraphs(to_docx([answer.to_dict()], NOW)) == paragraphs(to_docx(answer, NOW))


def test_awkward_quotes_survive_both_formats():
    quote = "第一款 *不得* 使用 <b>标签</b> & _下划线_\n第二款 换行之后\t制表符 “引号”"
    answer = {"question": "q?", "text": f"根据《示例条例》第一条：“{quote}”", "state": "answered",
              "confidence": 0.9, "read_as": "《示例条例》第一条",
              "citations": [{"citation": "《示例条例》第一条", "quotes": [quote], "date": None,
                             "source": "/srv/data/示例条例.md", "doc": "示例条例.md"}]}
    assert quote in paragraphs(to_docx(answer, NOW))
    md = to_markdown(answer, NOW)
    assert "> 第一款 *不得* 使用 <b>标签</b> & _下划线_\n> 第二款 换行之后\t制表符 “引号”" in md
    assert "Source: 示例条例.md" in md and "/srv/" not in md
    assert "Version / date: not stated" in md and "*Read as: 《示例条例》第一条*" in md


def test_bad_exports_are_named(tmp_path, conversation):
    with pytest.raises(ValueError, match="must end in .md or .docx"):
        write_export(conversation, tmp_path / "out.pdf")
    with pytest.raises(ValueError, match="nothing to export"):
        to_markdown([])
    with pytest.raises(ValueError, match="an exported answer must be"):
        to_docx([{"text": "no question"}])
    assert not (tmp_path / "out.pdf").exists()


def test_cli_follow_up_from_a_json_answer_and_export(repo_index, tmp_path):
    runner = CliRunner()
    first = runner.invoke(cli, ["ask", "重庆市开发区条例共分几章？", "--index", str(repo_index), "--json"])
    assert first.exit_code == 0, first.output
    (tmp_path / "a1.json").write_text(first.output, encoding="utf-8")
    focus = json.loads(first.output)["focus"]
    assert focus and focus["laws"]
    out = tmp_path / "answer.docx"
    second = runner.invoke(cli, ["ask", "它什么时候施行？", "--index", str(repo_index),
                                 "--history", str(tmp_path / "a1.json"), "--export", str(out)])
    assert second.exit_code == 0, second.output
    assert second.output.startswith(f"Read as: 《{focus['laws'][0]}》")
    texts = paragraphs(out.read_bytes())
    assert any(t.startswith("Read as: ") for t in texts)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    failed = runner.invoke(cli, ["ask", "它什么时候施行？", "--index", str(repo_index), "--history", str(bad)])
    assert failed.exit_code == 1 and "bad.json: not JSON" in failed.output
    wrong = runner.invoke(cli, ["ask", "q", "--index", str(repo_index), "--export", str(tmp_path / "x.pdf")])
    assert wrong.exit_code == 1 and "must end in .md or .docx" in wrong.output
