"""Glossed quotes for readers of English (issue 12): word by word, pinyin and meanings, never a changed quote."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qa.cli import cli
from qa.gloss import coverage, gloss, tone_marks

QUOTE = "开发区管理机构负责开发区的规划编制、投资促进、企业服务和安全生产监督管理工作。"


@pytest.mark.parametrize("numbered,marked", [("kai1", "kāi"), ("fa1", "fā"), ("gou3", "gǒu"), ("xiu1", "xiū"),
                                             ("shui3", "shuǐ"), ("lu:4", "lǜ"), ("de5", "de"), ("er2", "ér"),
                                             ("M", "M")])
def test_tone_marks(numbered, marked):
    assert tone_marks(numbered) == marked


def test_glosses_concatenate_to_the_quote_and_cover_every_chinese_character():
    words = gloss(QUOTE)
    assert "".join(g.text for g in words) == QUOTE
    assert coverage(words) == (len(QUOTE) - 3, len(QUOTE) - 3)  # all but the three punctuation marks
    by_text = {g.text: g for g in words}
    assert by_text["开发区"].source == "glossary" and by_text["开发区"].meanings[0] == "development zone"
    assert by_text["开发区"].pinyin == "kāi fā qū"
    assert by_text["工作"].source == "cc-cedict" and "work" in by_text["工作"].meanings[0]
    assert by_text["、"].meanings == [] and by_text["、"].source == ""


def test_words_missing_from_the_dictionary_are_glossed_by_character():
    (word,) = [g for g in gloss("示范园区") if g.text == "示范园区"] or [None]
    if word is None:  # jieba split it: glossing each part is fine too
        assert all(g.meanings for g in gloss("示范园区"))
    else:
        assert word.source == "cc-cedict (by character)" and word.meanings


def test_english_questions_get_glossed_chinese_quotes_and_chinese_questions_do_not(repo_assistant):
    english = repo_assistant.ask("Who approves the establishment of national-level development zones?")
    chinese_quotes = [c for c in english.citations if c.hit.passage.language == "zh"]
    for c in chinese_quotes:
        assert "".join(g.text for g in c.gloss) == "".join(c.quotes)
        assert c.to_dict()["gloss"][0].keys() == {"text", "pinyin", "meanings", "source"}
    for c in english.citations:
        if c.hit.passage.language != "zh":
            assert c.gloss == []
    chinese = repo_assistant.ask("国家级开发区由谁批准设立？")
    assert all(c.gloss == [] for c in chinese.citations)
    json.dumps(english.to_dict(), ensure_ascii=False)


def test_cli_ask_gloss_prints_a_word_table(slice_index):
    result = CliRunner().invoke(cli, ["ask", "Will the state expropriate the investments of foreign investors?",
                                      "--gloss", "--index", str(slice_index)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.strip().startswith("征收") and "zhēng shōu" in line and "expropriat" in line for line in lines)
    assert any(line.strip().startswith("投资者") and "investor" in line for line in lines)
