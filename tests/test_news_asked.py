"""A question that says it asks what the news reported is answered from the news (issue 11).

An invented regulation and an invented news item say nearly the same; the regulation shares more of
the question's words, so without the rule it ranks first even when the question asks what the
report said.
"""
from __future__ import annotations

import pytest

from conftest import first_passage, open_invented_index
from qa import Assistant
from qa.query import asks_about_news

RULE = """# 重庆市测试园区条例

（本文件为测试用的虚构条例。）

第一条 园区应当发展节能环保产业和资源循环利用产业，推动工业绿色低碳转型。

第二条 园区管理机构负责园区的日常管理。

第三条 新闻媒体应当加强对园区节能环保政策的宣传报道。
"""
NEWS = """---
title: 测试园区新闻
kind: news
language: zh
date: 2025-02-26
---

# 测试园区新闻

记者获悉，园区将培育节能环保产业，带动工业向绿色方向转变。
"""
ASKED_OF_THE_NEWS = "据报道，园区发展节能环保产业和资源循环利用产业是为了推动工业实现什么转型？"


def test_questions_about_the_news_are_told_apart_from_questions_about_reports_laws_require():
    assert asks_about_news(ASKED_OF_THE_NEWS)
    assert asks_about_news("那篇iChongqing新闻的标题说了什么？")
    assert asks_about_news("What did the iChongqing story say about foreign trade?")
    assert asks_about_news("According to the news, how many enterprises are in the zones?")
    assert not asks_about_news("Must foreign investors report investment information, and to whom?")
    assert not asks_about_news("新闻出版行政部门负责什么？")  # an administration's name
    assert not asks_about_news("园区发展节能环保产业是为了推动工业实现什么转型？")


@pytest.fixture(scope="module")
def rule_and_news(tmp_path_factory) -> Assistant:
    with open_invented_index(tmp_path_factory.mktemp("news-asked"), {"重庆市测试园区条例.md": RULE,
                                                                    "测试园区新闻.md": NEWS}) as assistant:
        yield assistant



def test_a_question_asking_what_the_news_said_gets_the_news_first(rule_and_news):
    assert first_passage(rule_and_news, ASKED_OF_THE_NEWS, w_news_asked=0).kind != "news"  # the words favour the rule
    assert first_passage(rule_and_news, ASKED_OF_THE_NEWS).kind == "news"
    plain = ASKED_OF_THE_NEWS.removeprefix("据报道，")
    assert first_passage(rule_and_news, plain).kind != "news"  # not asked of the news: the rule stays first
    answer = rule_and_news.ask(ASKED_OF_THE_NEWS)
    assert answer.citations and answer.citations[0].hit.passage.kind == "news"


def test_a_pasted_sentence_that_mentions_the_press_is_still_answered_from_its_source(rule_and_news):
    pasted = "新闻媒体应当加强对园区节能环保政策的宣传报道"
    assert asks_about_news(pasted)
    result = rule_and_news.retriever.search(pasted, 3)
    assert result.hits[0].passage.article == "第三条" and not result.query.asks_news
    answer = rule_and_news.ask(pasted)
    assert answer.citations[0].hit.passage.article == "第三条" and pasted in answer.citations[0].quotes[0]
