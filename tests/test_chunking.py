"""Documents → passages: one per article, long articles split at clauses, news in paragraph windows."""
from __future__ import annotations

import re

from conftest import CHONGQING, FIL, NEWS, REPO, require_shared
from qa.chunking import MAX_CHARS, NEWS_WINDOW_CHARS, chunk
from qa.loaders import load_file
from qa.models import Document, Passage

CLAUSES = "".join(
    f"（{n}）园区管理机构应当组织编制园区发展规划，统筹园区土地利用、产业布局、基础设施建设和公共服务配套，"
    f"并定期向社会公布第{n}项工作的进展情况和评估结果；\n"
    for n in "一二三四五六七八九十")
LONG_STATUTE = f"""# 某市园区条例
## 第一章 总则
第一条 为了规范园区管理，制定本条例。
## 第二章 规划建设
第二条 园区管理机构履行下列职责：
{CLAUSES}（十一）法律、法规规定的其他职责。
第三条 本条例自公布之日起施行。
"""


def doc(text: str, **kw) -> Document:
    return Document(id=kw.pop("id", "test.md"), title=kw.pop("title", "某市园区条例"), text=text,
                    kind=kw.pop("kind", "regulation"), **kw)


def test_one_passage_per_article_with_labels_headings_and_citation():
    passages = chunk(doc("第一章 总则\n第一条 一。\n第二条 二。\n第二章 管理\n第三条 三。"))
    assert [(p.article, p.headings, p.text) for p in passages] == [
        ("第一条", ["第一章 总则"], "第一条 一。"),
        ("第二条", ["第一章 总则"], "第二条 二。"),
        ("第三条", ["第二章 管理"], "第三条 三。"),
    ]
    assert [p.position for p in passages] == [0, 1, 2]
    assert passages[2].citation == "《某市园区条例》第三条"
    assert passages[2].embedding_text == "某市园区条例 · 第二章 管理 · 第三条\n第三条 三。"


def test_long_article_splits_at_clauses_and_every_piece_keeps_label_and_headings():
    passages = chunk(doc(LONG_STATUTE))
    second = [p for p in passages if p.article == "第二条"]
    article_text = next(a for a in LONG_STATUTE.split("\n## 第二章 规划建设\n")[1:]).split("\n第三条")[0]
    assert len(article_text) > MAX_CHARS
    assert len(second) >= 2
    assert [p.part for p in second] == list(range(len(second)))
    for p in second:
        assert p.headings == ["第二章 规划建设"]
        assert len(p.text) <= MAX_CHARS
        assert p.citation == "《某市园区条例》第二条"
        # splits fall between clauses: every piece starts with the label or a clause number
        assert re.match(r"^(第二条 |（[一二三四五六七八九十]+）)", p.text), p.text[:20]
    assert "\n".join(p.text for p in second) == article_text.strip()
    assert [p.article for p in passages] == ["第一条"] + ["第二条"] * len(second) + ["第三条"]


def test_news_becomes_paragraph_windows_under_the_headline():
    news_path = REPO / "corpus" / "news" / "ichongqing-2025-02-26-development-zone-regulations.md"
    document = load_file(news_path, "news.md")
    passages = chunk(document)
    assert document.kind == "news"
    headline = "Chongqing Development Zone Regulations to Take Effect on March 1, Boosting Foreign Trade Openness"
    assert document.title == headline
    assert len(passages) >= 2
    for p in passages:
        assert p.article is None and p.kind == "news"
        assert p.title == headline and p.headings == []
        assert p.embedding_text.startswith(headline + "\n")
        assert len(p.text) <= NEWS_WINDOW_CHARS
        assert p.citation == headline  # English prose: cited by title
    body = document.text.split("\n", 1)[1]  # after the "# headline" line
    paragraphs = [x.strip() for x in body.split("\n\n") if x.strip()]
    joined = "\n".join(p.text for p in passages)
    for para in paragraphs:  # every paragraph lands whole in exactly one window
        assert sum(para in p.text for p in passages) == 1, para[:40]
    assert "# " not in joined


def test_prose_document_mentioning_articles_is_not_cut_as_a_statute():
    text = ("# Overview\n\n## Article 1 (summary): Purpose\n\nArticle 1 states why the rules exist. It is short.\n\n"
            "## Article 2 (summary): Scope\n\nArticle 2 sets the scope. It covers all zones.\n\n"
            "## Background\n\nThe background section explains the history of the zones.")
    passages = chunk(doc(text, title="Overview", kind="other", language="en"))
    assert all(p.article is None for p in passages)
    background = [p for p in passages if "history of the zones" in p.text]
    assert background and background[0].headings == ["Background"]


def test_bundled_english_overview_is_prose_not_articles():
    path = REPO / "corpus" / "overview" / "chongqing-development-zone-regulations-2025-overview-en.md"
    document = load_file(path, "overview-en.md")
    assert document.kind == "other"
    passages = chunk(document)
    assert all(p.article is None for p in passages), "a summary must never be cited as 'Art. N' of the law"
    figures = [p for p in passages if "comprehensive bonded zones" in p.text]
    assert figures and figures[0].headings == ["Figures reported in the news"]


def test_every_shared_statute_passage_is_an_article_or_the_preamble():
    require_shared("the regulation files")
    checked = 0
    for path in sorted((CHONGQING / "regulations").rglob("*.md")):
        document = load_file(path, path.name)
        if document.kind != "regulation":  # three files in the pack hold only their header
            assert not re.search(r"^第[一二三四五六七八九十百]+条 ", document.text, re.M), path.name
            continue
        checked += 1
        passages = chunk(document)
        labelled = [p for p in passages if p.article]
        assert labelled, path.name
        assert [p for p in passages if p.article is None] == [p for p in passages[:1] if p.article is None]
        for p in passages:
            assert p.text.strip(), path.name
            # a heading is never a passage of its own
            assert not re.fullmatch(r"第[一二三四五六七八九十百]+[编章节]\s*\S{0,30}", p.text), (path.name, p.text)
            assert len(p.text) <= MAX_CHARS or p.part == 0 and "\n" not in p.text, (path.name, p.article)
    assert checked >= 130


def test_foreign_investment_law_article_20_citation():
    require_shared("外商投资法")
    document = load_file(CHONGQING / FIL, FIL)
    assert document.title == "中华人民共和国外商投资法"
    assert document.date == "2019-03-15"
    p = next(p for p in chunk(document) if p.article == "第二十条")
    assert p.citation == "《中华人民共和国外商投资法》第二十条"
    assert p.headings == ["第三章 投资保护"]
    assert p.doc_id == FIL


def test_english_citation_format():
    p = Passage(doc_id="x", title="Test Law", text="Article 5 Text.", article="Article 5", language="en")
    assert p.citation == "Test Law, Art. 5"
    assert Passage(doc_id="x", title="Test Law", text="t", language="en").citation == "Test Law"


def test_shared_news_copy_matches_bundled_news():
    require_shared("the shared news article")
    shared = load_file(CHONGQING / NEWS, NEWS)
    bundled = load_file(REPO / "corpus" / NEWS, NEWS)
    assert [p.text for p in chunk(shared)] == [p.text for p in chunk(bundled)]
