"""Legal structure: article labels, heading paths, and the traps other chunkers fell into."""
from __future__ import annotations

import re

import pytest

from conftest import CHONGQING, FIL, require_shared
from qa.legal import parse_articles
from qa.numerals import article_label, cn_to_int, int_to_cn, parse_article_label, roman_to_int
from qa.query import article_reference
from qa.text import normalize, strip_html_comments

# An independent count: a line that starts with 第X条 (or 第X条之Y) followed by a space.
ARTICLE_LINE = re.compile(r"^第[零〇一二两三四五六七八九十百千]+条(之[一二三四五六七八九十]+)?[ \u3000]")


def labels(text: str) -> list[str]:
    return [a.label for a in parse_articles(text) if a.label]


def by_label(text: str) -> dict:
    return {a.label: a for a in parse_articles(text) if a.label}


def test_every_shared_regulation_parses_to_its_article_lines():
    require_shared("the 133 regulation files")
    files = sorted((CHONGQING / "regulations").rglob("*.md"))
    assert len(files) >= 133
    mismatches, total = [], 0
    for path in files:
        text = normalize(strip_html_comments(path.read_text(encoding="utf-8")))
        expected = [m.group(0).strip() for line in text.split("\n") if (m := ARTICLE_LINE.match(line))]
        got = labels(text)
        total += len(got)
        if got != expected:
            missing = [x for x in expected if x not in got][:3]
            extra = [x for x in got if x not in expected][:3]
            mismatches.append(f"{path.name}: {len(got)} parsed vs {len(expected)} lines; "
                              f"missing {missing}, extra {extra}")
    assert not mismatches, "\n".join(mismatches)
    assert total > 5000  # the pack has ~6,500 articles: the comparison was not vacuous


def test_real_statute_carries_chapter_headings():
    require_shared("外商投资法")
    text = normalize(strip_html_comments((CHONGQING / FIL).read_text(encoding="utf-8")))
    arts = by_label(text)
    assert arts["第一条"].headings == ["第一章 总 则"]
    assert arts["第二十条"].headings == ["第三章 投资保护"]
    assert arts["第二十条"].text.startswith("第二十条 国家对外国投资者的投资不实行征收。")
    # a heading is never an article of its own, nor a line inside one
    for art in arts.values():
        assert not any(re.match(r"^第[一二三四五六七八九十]+章", line) for line in art.lines), art.label


CROSS_REFERENCE = """# 某市园区条例
第一章 总则
第一条 为了规范管理，制定本条例。
第二条 本条例适用于本市园区。
第十条规定的情形除外。
依照本条例第六条执行。
第三条规定的机构，应当依照第二条执行。
第三条 园区管理机构负责日常工作。
第四条 本条例自公布之日起施行。
"""


def test_line_starting_with_a_cross_reference_is_body_text():
    arts = by_label(CROSS_REFERENCE)
    assert list(arts) == ["第一条", "第二条", "第三条", "第四条"]
    body = arts["第二条"].text
    assert "第十条规定的情形除外。" in body
    assert "依照本条例第六条执行。" in body
    assert "第三条规定的机构，应当依照第二条执行。" in body
    assert arts["第三条"].text == "第三条 园区管理机构负责日常工作。"


TABLE_OF_CONTENTS = """某市园区条例
目 录
第一章 总则
第二章 管理
第三章 附则
第一章 总则
第一条 为了规范，制定本条例。
第二章 管理
第二条 管理规定。
第三章 附则
第三条 本条例自公布之日起施行。
"""


def test_table_of_contents_is_not_a_second_copy_of_the_headings():
    arts = parse_articles(TABLE_OF_CONTENTS)
    labelled = [a for a in arts if a.label]
    assert [a.label for a in labelled] == ["第一条", "第二条", "第三条"]
    assert [a.headings for a in labelled] == [["第一章 总则"], ["第二章 管理"], ["第三章 附则"]]
    assert all(a.text for a in arts), "no empty passages"
    preamble = [a for a in arts if a.label is None]
    assert [p.text for p in preamble] == ["某市园区条例"]  # the TOC lines went nowhere


def test_pdf_text_with_articles_starting_mid_line_is_split():
    text = ("第一章 总则\n"
            "第一条 为了规范，制定本条例。第二条 本条例适用于本市。第三条 各部门应当配合。\n"
            "第四条 略。第五条 本条例自2020年1月1日起施行。")
    arts = by_label(text)
    assert list(arts) == ["第一条", "第二条", "第三条", "第四条", "第五条"]
    assert arts["第二条"].text == "第二条 本条例适用于本市。"
    assert arts["第五条"].text == "第五条 本条例自2020年1月1日起施行。"
    assert all(a.headings == ["第一章 总则"] for a in arts.values())


def test_mid_line_reference_to_a_later_article_is_not_split():
    text = "第一条 为了规范，制定本条例。\n第二条 依照本条例。第五条 规定的除外。\n第三条 略。"
    arts = by_label(text)
    assert list(arts) == ["第一条", "第二条", "第三条"]
    assert arts["第二条"].text == "第二条 依照本条例。第五条 规定的除外。"


def test_inserted_article_zhi_yi():
    text = "第九条 九。\n第十条 十。\n第十条之一 十之一。\n第十条之二 十之二。\n第十一条 十一。"
    arts = parse_articles(text)
    assert [a.label for a in arts] == ["第九条", "第十条", "第十条之一", "第十条之二", "第十一条"]
    assert [a.number for a in arts] == [(9, 0), (10, 0), (10, 1), (10, 2), (11, 0)]
    assert arts[2].text == "第十条之一 十之一。"


ENGLISH = """Foreign Investment Law of Test Country
Chapter I General Provisions
Article 1 This Law is formulated to promote foreign investment.
Article 2 This Law applies to investment within the territory.
Article 10 of this Law does not apply to the cases in Article 2.
Chapter II Investment Protection
Article 3 The State does not expropriate the investment of foreign investors.
Section 1 Complaints
Article 4 Foreign-invested enterprises may file complaints.
"""


def test_english_chapters_and_articles():
    arts = [a for a in parse_articles(ENGLISH) if a.label]
    assert [a.label for a in arts] == ["Article 1", "Article 2", "Article 3", "Article 4"]
    assert arts[1].text.endswith("Article 10 of this Law does not apply to the cases in Article 2.")
    assert arts[0].headings == ["Chapter I General Provisions"]
    assert arts[2].headings == ["Chapter II Investment Protection"]
    assert arts[3].headings == ["Chapter II Investment Protection", "Section 1 Complaints"]


def test_markdown_headings_and_part_chapter_section_path():
    text = ("# 某法\n## 第一编 总则\n### 第一章 一般规定\n#### 第一节 原则\n第一条 一。\n"
            "#### 第二节 适用\n第二条 二。\n## 第二编 分则\n### 第一章 具体规定\n第三条 三。")
    arts = by_label(text)
    assert arts["第一条"].headings == ["第一编 总则", "第一章 一般规定", "第一节 原则"]
    assert arts["第二条"].headings == ["第一编 总则", "第一章 一般规定", "第二节 适用"]
    assert arts["第三条"].headings == ["第二编 分则", "第一章 具体规定"]


def test_text_with_fewer_than_two_articles_is_not_a_statute():
    assert parse_articles("第一条 只有一条。") == []
    assert parse_articles("An article about Article 5 of something.\nMore prose.") == []


@pytest.mark.parametrize("text,n", [("一", 1), ("十", 10), ("十三", 13), ("二十", 20), ("一百零三", 103),
                                    ("一百一十", 110), ("两千零五", 2005), ("〇", 0)])
def test_chinese_numerals(text, n):
    assert cn_to_int(text) == n
    if n:
        assert cn_to_int(int_to_cn(n)) == n


def test_numeral_helpers():
    assert [int_to_cn(n) for n in (1, 10, 13, 20, 103, 110, 1000)] == \
        ["一", "十", "十三", "二十", "一百零三", "一百一十", "一千"]
    assert article_label(13, 1) == "第十三条之一"
    assert parse_article_label("第十三条之一") == (13, 1)
    assert roman_to_int("XIV") == 14
    with pytest.raises(ValueError):
        cn_to_int("十三a")
    with pytest.raises(ValueError):
        parse_article_label("Article 13")


@pytest.mark.parametrize("question,label", [
    ("外商投资法第十三条规定了什么？", "第十三条"),
    ("第13条是什么", "第十三条"),
    ("What does Article 20 of the Foreign Investment Law say?", "第二十条"),
    ("see Art. 7 please", "第七条"),
    ("第十条之一", "第十条之一"),
    ("How do I bake bread?", None),
])
def test_article_reference_in_questions(question, label):
    assert article_reference(question) == label
