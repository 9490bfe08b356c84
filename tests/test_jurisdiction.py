"""Which cited rule applies where (issue 11: national vs local twins, other places' rules)."""
from __future__ import annotations

from qa.jurisdiction import applicability_note
from qa.models import Citation, Hit, Passage


def hit(title: str, article: str = "第十条", rank: int = 1) -> Hit:
    return Hit(passage=Passage(doc_id=f"{title}.md", title=title, text=f"{article} 示例。", article=article),
               score=1.0, rank=rank)


NATIONAL = hit("中华人民共和国外商投资法", "第十四条")
LOCAL = hit("重庆市优化营商环境条例", "第十条", 2)
OTHER = hit("山东省经济开发区条例", "第七条")


def test_a_national_and_a_chongqing_rule_cited_together_both_apply_the_national_ranks_higher():
    note = applicability_note([Citation(LOCAL, ["示例。"]), Citation(NATIONAL, ["示例。"])], [LOCAL, NATIONAL], "en")
    assert note.startswith("Which applies:") and "both apply in Chongqing" in note
    assert "《重庆市优化营商环境条例》" in note and "《中华人民共和国外商投资法》" in note and "national rule ranks higher" in note
    zh = applicability_note([Citation(LOCAL, ["示例。"]), Citation(NATIONAL, ["示例。"])], [LOCAL, NATIONAL], "zh")
    assert zh.startswith("适用范围：") and "两者在重庆都适用" in zh


def test_a_national_rule_cited_alone_points_at_the_chongqing_twin_among_the_results():
    note = applicability_note([Citation(NATIONAL, ["示例。"])], [NATIONAL, LOCAL], "en")
    assert "《重庆市优化营商环境条例》第十条 among the results" in note


def test_another_places_rule_does_not_apply_in_chongqing_unless_the_question_asks_about_that_place():
    note = applicability_note([Citation(OTHER, ["示例。"])], [OTHER], "en")
    assert note == "Which applies: 《山东省经济开发区条例》 is another place's rule; it does not apply in Chongqing."
    assert applicability_note([Citation(OTHER, ["示例。"])], [OTHER], "en", question_regions=["other"]) is None


def test_the_index_s_recorded_region_decides_when_the_title_does_not_say():
    bare = hit("优化营商环境条例", "第十四条")  # a State Council regulation: its title names no place
    assert applicability_note([Citation(bare, ["示例。"])], [bare, LOCAL], "en") is None
    recorded = {"优化营商环境条例.md": "national", "重庆市优化营商环境条例.md": "chongqing"}
    note = applicability_note([Citation(bare, ["示例。"])], [bare, LOCAL], "en",
                              region=lambda h: recorded.get(h.passage.doc_id))
    assert "《优化营商环境条例》 is national" in note


def test_a_chongqing_rule_cited_alone_names_the_national_rule_among_the_results():
    note = applicability_note([Citation(LOCAL, ["示例。"])], [LOCAL, NATIONAL], "zh")
    assert "《重庆市优化营商环境条例》是重庆的地方性规定" in note and "《中华人民共和国外商投资法》是全国性规定" in note


def test_nothing_to_say_for_a_single_national_or_chongqing_rule():
    assert applicability_note([Citation(NATIONAL, ["示例。"])], [NATIONAL], "en") is None
    assert applicability_note([Citation(LOCAL, ["示例。"])], [LOCAL], "zh") is None
    assert applicability_note([], [], "en") is None


def test_a_question_naming_another_place_in_english_or_chinese_points_at_another_region():
    from qa.jurisdiction import regions_named
    from qa.query import Query

    assert regions_named(Query(text="What do Shanghai's development-zone rules require?", language="en")) == ["other"]
    assert regions_named(Query(text="山东经济开发区管委会是什么性质的机构？", language="zh")) == ["other"]
    assert regions_named(Query(text="重庆开发区管委会是什么性质的机构？", language="zh")) == []
