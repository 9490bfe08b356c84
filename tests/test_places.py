"""A question that names a place is answered from that place's rules (issue 11: another place's twin rule).

Two invented regulations say nearly the same; the Ningbo one matches the question's words better,
so without the place rule it is ranked and quoted first for a question about Chongqing.
"""
from __future__ import annotations

import pytest

from conftest import first_passage, open_invented_index
from qa import Assistant, SearchSettings
from qa.document_meta import places_in, titled_elsewhere

NINGBO = """# 宁波市测试开发区条例

（本文件为测试用的虚构条例。）

第一条 开发区内的高新技术企业享受国家和省、市有关鼓励高新技术产业发展的优惠待遇。

第二条 开发区管理委员会负责开发区的规划和建设。
"""
CHONGQING = """# 重庆市测试开发区条例

（本文件为测试用的虚构条例。）

第一条 经认定的高新技术企业，依照有关规定减免税费，并获得研发资金支持。

第二条 开发区管理机构负责开发区的日常管理。
"""
QUESTION_ZH = "重庆开发区内的高新技术企业享受哪些优惠待遇？"


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> Assistant:
    with open_invented_index(tmp_path_factory.mktemp("twins"), {"regulations/宁波市测试开发区条例.md": NINGBO,
                                                              "regulations/重庆市测试开发区条例.md": CHONGQING}) as assistant:
        yield assistant



def test_places_are_read_in_chinese_and_english_and_everyday_words_are_not_places():
    assert places_in(QUESTION_ZH) == {"重庆"}
    assert places_in("Can a firm in one of Shanghai's zones open an account in Hong Kong?") == {"上海", "香港"}
    assert places_in("Chongqing Development Zone Regulations to Take Effect") == {"重庆"}
    assert places_in("沿海口岸的进出口货物") == set()  # a place counts where a word begins with it
    assert places_in("浙江西部和黄河北岸的企业") == {"浙江"}  # not 江西, not 河北
    assert places_in("山东省经济开发区条例", title=True) == {"山东"}
    assert places_in("南岸的企业") == set()  # a Chongqing district's name is an everyday word in a question …
    assert places_in("南岸区优化营商环境条例", title=True) == {"重庆"}  # … but in a title it is Chongqing's
    assert titled_elsewhere("宁波市测试开发区条例", {"重庆"})
    assert not titled_elsewhere("中华人民共和国外商投资法", {"重庆"})  # national: never elsewhere
    assert not titled_elsewhere("宁波市测试开发区条例", set())  # a question naming no place


def test_a_question_about_chongqing_ranks_the_ningbo_twin_lower_and_quotes_the_chongqing_rule(twins):
    assert first_passage(twins, QUESTION_ZH, w_elsewhere=0).title == "宁波市测试开发区条例"  # the words favour Ningbo
    assert first_passage(twins, QUESTION_ZH, w_elsewhere=1.0).title == "重庆市测试开发区条例"
    plain = {h.passage.title: h.score for h in twins.retriever.search(QUESTION_ZH, 4, settings=SearchSettings(w_elsewhere=0)).hits}
    result = twins.retriever.search(QUESTION_ZH, 4)
    assert result.query.places == {"重庆"}
    ranked = {h.passage.title: h.score for h in result.hits}
    assert ranked["宁波市测试开发区条例"] < plain["宁波市测试开发区条例"]
    answer = twins.ask(QUESTION_ZH)  # the reader passes over another place's rule while it has one of this place
    assert answer.citations and all(c.hit.passage.title == "重庆市测试开发区条例" for c in answer.citations)
    assert all(c.hit.passage.title == "宁波市测试开发区条例"
               for c in twins.ask("宁波开发区内的高新技术企业享受哪些优惠待遇？").citations)


def test_the_place_rule_works_for_english_questions_and_for_the_other_place_too(twins):
    english = "What preferential treatment do high-tech enterprises in Chongqing's development zones get?"
    assert first_passage(twins, english, w_elsewhere=1.0).title == "重庆市测试开发区条例"
    assert twins.retriever.search(english, 3).query.places == {"重庆"}
    assert first_passage(twins, "宁波开发区内的高新技术企业享受哪些优惠待遇？", w_elsewhere=1.0).title == "宁波市测试开发区条例"


def test_a_place_no_document_is_about_or_no_place_at_all_changes_nothing(twins):
    for question in ("开发区内的高新技术企业享受哪些优惠待遇？", "香港的高新技术企业在开发区享受哪些优惠待遇？"):
        result = twins.retriever.search(question, 3)
        assert result.query.places == set()
        assert [h.passage.id for h in result.hits] == \
            [h.passage.id for h in twins.retriever.search(question, 3, settings=SearchSettings(w_elsewhere=0)).hits]
