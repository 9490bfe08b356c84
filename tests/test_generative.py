"""Generated answers: the checks (pure), the OpenAI-compatible client, and the whole path through
the Assistant, the CLI and the web handlers, against a real HTTP server on loopback that replays
recorded replies (tests/llm_replay.py). Every way a reply can be wrong must end in the extractive
answer with a one-line note; nothing unchecked is ever yielded.
"""
from __future__ import annotations

import json
import socket
import time

import pytest
from click.testing import CliRunner

from llm_replay import REPLIES, ReplayServer
from qa.answer_check import SentenceFeed, check, check_sentence, renumber_marks, split_claims
from qa.generative import GenerativeReader, build_messages
from qa.llm_client import ChatEndpoint, LLMError, chat_url

WHEN = "When do the Chongqing development zone regulations take effect?"
WHO = "开发区管理机构的职责是什么？"
NEWS = "Chongqing Development Zone Regulations to Take Effect on March 1, Boosting Foreign Trade Openness"
PASSAGES = ["These Regulations take effect on 1 March 2025.",
            "第三条 示范开发区管理机构负责开发区的规划编制、投资促进、企业服务和安全生产监督管理工作。",
            'The committee said: "zones must file statistics".']


# ---------------------------------------------------------------- the checks, as pure functions
def test_a_sentence_citing_given_passages_with_verbatim_quotes_passes():
    result = check('The Regulations "take effect on 1 March 2025" [1]. 管理机构负责“投资促进、企业服务”。[2]', PASSAGES)
    assert result.ok and result.failure is None and not result.dropped
    assert [c.cites for c in result.claims] == [[1], [2]]
    assert result.claims[1].quotes == [(2, "投资促进、企业服务")]
    assert result.text == 'The Regulations "take effect on 1 March 2025" [1]. 管理机构负责“投资促进、企业服务”。[2]'


@pytest.mark.parametrize("quoted", ["“take effect on 1 March 2025”", "「take effect on 1 March 2025」",
                                    '"take effect on 1 March 2025"', "『take effect on 1 March 2025』"])
def test_every_kind_of_quotation_mark_is_checked(quoted):
    assert check(f"It says {quoted} [1].", PASSAGES).ok
    altered = quoted.replace("1 March", "2 March")
    result = check(f"It says {altered} [1].", PASSAGES)
    assert not result.ok and "“take effect on 2 March 2025” is not verbatim" in result.failure


def test_a_quote_must_be_in_the_passage_its_sentence_cites_not_just_any():
    result = check("The zone body handles “投资促进” [1].", PASSAGES)  # it is in [2], not in [1]
    assert result.failure == "its quote “投资促进” is not verbatim in the passage it cites"
    assert check("The zone body handles “投资促进” [1, 2].", PASSAGES).ok


@pytest.mark.parametrize("mark", ["[4]", "[0]", "[1, 9]", "【12】"])
def test_a_mark_naming_a_passage_that_was_not_given_rejects_the_whole_answer(mark):
    result = check(f"They take effect in March [1]. Investors pay no land fees {mark}.", PASSAGES)
    assert not result.ok and "but only [1]–[3] were given" in result.failure


def test_sentences_without_a_mark_are_dropped_and_an_answer_of_only_those_fails():
    result = check("They take effect in March [1]. This is good news. Read them carefully.", PASSAGES)
    assert result.ok and result.text == "They take effect in March [1]."
    assert result.dropped == ["This is good news.", "Read them carefully."]
    result = check("They take effect in March. Good news.", PASSAGES)
    assert result.failure == "no sentence cited a passage"
    assert check_sentence("Good news.", PASSAGES).dropped


def test_an_unclosed_quotation_mark_fails():
    assert check('It says "take effect on 1 March [1].', PASSAGES).failure == \
        "it opened a quotation mark and never closed it"


def test_sentences_split_where_a_reader_would_split_them():
    text = ('Art. 3 names the committee [2]. It takes effect on 1.5 March, no. 2 [1].\n'
            '条例“自2025年3月1日起施行。”[1]开发区由管委会管理[2]。Done.[1] Next [3].')
    assert split_claims(text) == ["Art. 3 names the committee [2].", "It takes effect on 1.5 March, no. 2 [1].",
                                  "条例“自2025年3月1日起施行。”[1]", "开发区由管委会管理[2]。", "Done.[1]", "Next [3]."]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_a_stream_is_cut_into_the_same_sentences_whatever_the_pieces(size):
    text = 'They take effect in March 2025. [1] Art. 3 says "file statistics" [3]. 条例自公布之日起施行。[1][2]'
    feed, out = SentenceFeed(), []
    for i in range(0, len(text), size):
        out += feed.feed(text[i:i + size])
    assert out + feed.close() == split_claims(text)
    # a mark that follows a full stop is not cut off from its sentence, even split across pieces
    feed = SentenceFeed()
    assert feed.feed("It takes effect in March. [") == []
    assert feed.feed("1] It") == ["It takes effect in March. [1]"]


def test_marks_are_renumbered_as_the_reader_sees_them():
    assert renumber_marks("A [3]. B [1, 3]. C 【2】", {1: 1, 2: 3, 3: 2}) == "A [2]. B [1, 2]. C [3]"


def test_the_prompt_numbers_the_passages_and_names_the_askers_language():
    messages = build_messages("开发区由谁管理？", "zh", [("《条例》第三条", PASSAGES[1])])
    assert "简体中文" in messages[0]["content"] and "[1]" in messages[0]["content"]
    assert messages[1]["content"] == f"Passages:\n\n[1] 《条例》第三条\n{PASSAGES[1]}\n\nQuestion: 开发区由谁管理？"
    assert "English" in build_messages("Who?", "en", [])[0]["content"]


# ---------------------------------------------------------------- the client, against the replay server
def test_the_client_streams_a_reply_and_learns_the_served_model_name():
    with ReplayServer("well_formed_en") as server:
        endpoint = ChatEndpoint(server.url, timeout=5)
        assert "".join(endpoint.stream([{"role": "user", "content": "hi"}])) == "".join(
            REPLIES["well_formed_en"]["pieces"])
        assert endpoint.label == "replay-7b"
        body = server.requests[0]
        assert body["stream"] is True and body["temperature"] == 0 and "model" not in body


@pytest.mark.parametrize("reply, message", [
    ("server_error", "the language model server answered HTTP 500: model crashed: out of memory"),
    ("not_json", "the language model server sent an event that is not JSON"),
])
def test_server_failures_become_one_line_errors(reply, message):
    with ReplayServer(reply) as server, pytest.raises(LLMError) as caught:
        list(ChatEndpoint(server.url, "m", timeout=5).stream([]))
    assert str(caught.value) == message


def test_a_silent_server_times_out_and_a_closed_port_is_named():
    with ReplayServer("silent") as server:
        started = time.monotonic()
        with pytest.raises(LLMError, match=r"did not answer within 0.5 s"):
            list(ChatEndpoint(server.url, timeout=0.5).stream([]))
        assert time.monotonic() - started < 3
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(LLMError, match="cannot reach the language model server at http://127.0.0.1:"):
        list(ChatEndpoint(closed, timeout=2).stream([]))


def test_a_stream_that_never_finishes_is_cut_at_the_deadline():
    with ReplayServer("slow_stream") as server:  # each piece comes in time, the whole does not
        started = time.monotonic()
        with pytest.raises(LLMError, match=r"did not finish within 1 s"):
            list(ChatEndpoint(server.url, timeout=1).stream([]))
        assert time.monotonic() - started < 3


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/chat/completions"),
    ("http://127.0.0.1:11434/v1/", "http://127.0.0.1:11434/v1/chat/completions"),
    ("https://llm.example/v1/chat/completions", "https://llm.example/v1/chat/completions"),
])
def test_a_server_address_may_be_given_three_ways(url, expected):
    assert chat_url(url) == expected


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "ftp://x/v1", "", "http://"])
def test_a_malformed_server_address_is_refused_at_once(url, repo_index):
    from qa import Assistant

    with pytest.raises(ValueError, match="--llm takes the http"):
        Assistant(repo_index, llm=url or " ")


# ---------------------------------------------------------------- through the Assistant
@pytest.fixture
def replay():
    with ReplayServer() as server:
        yield server


def generative(assistant, server, timeout=10.0, model=None):
    return GenerativeReader(assistant.reader, ChatEndpoint(server.url, model, timeout))


def ask(assistant, server, question=WHEN, reply="well_formed_en", **kwargs):
    server.reply = reply
    return list(assistant.ask_stream(question, reader=generative(assistant, server, **kwargs)))


def test_a_well_formed_answer_is_shown_with_its_model_and_the_verbatim_quotes_under_it(repo_assistant, replay):
    answers = ask(repo_assistant, replay)
    final = answers[-1]
    assert final.generated.complete and final.generated.model == "replay-7b" and final.note is None
    assert final.generated.text == ("The Chongqing Development Zone Regulations were approved by the Municipal "
                                    "People's Congress and \"will take effect on March 1, 2025\" [1]. "
                                    "They are meant to boost foreign trade openness [1].")
    plain = repo_assistant.ask(WHEN)  # the extractive answer, unchanged underneath
    assert final.text == plain.text and final.citations[0].hit.citation == NEWS
    assert all(q in c.hit.passage.text for c in final.citations for q in c.quotes)
    data = final.to_dict()
    assert data["generated"]["model"] == "replay-7b" and data["note"] is None
    # the prompt: the cited passage first, at most four, the question last
    prompt = replay.requests[-1]["messages"][1]["content"]
    assert prompt.startswith(f"Passages:\n\n[1] {NEWS}\n") and prompt.endswith(f"Question: {WHEN}")
    assert "[4] " in prompt and "[5] " not in prompt


def test_a_chinese_question_gets_a_chinese_answer_and_its_quote_is_highlighted(repo_assistant, replay):
    final = ask(repo_assistant, replay, WHO, "well_formed_zh", model="replay-7b")[-1]
    assert final.generated.text.startswith("市发展改革部门是开发区工作的综合协调部门[1]。")
    assert replay.requests[-1]["model"] == "replay-7b" and "简体中文" in replay.requests[-1]["messages"][0]["content"]
    assert any("分别负责对开发区的指导、协调、管理和服务" in q for q in final.citations[0].quotes)


def test_sentences_stream_one_by_one_and_only_after_their_check(repo_assistant, replay):
    server_started = time.monotonic()
    arrivals = []
    replay.reply = "slow_stream"
    for answer in repo_assistant.ask_stream(WHEN, reader=generative(repo_assistant, replay)):
        arrivals.append((time.monotonic() - server_started, answer))
    texts = [a.generated.text for _, a in arrivals if a.generated]
    first = 'The regulations "will take effect on March 1, 2025" [1].'
    assert texts[0] == "" and texts[1] == first  # nothing, then one whole checked sentence
    assert texts[-1] == first + " They were approved by the Municipal People's Congress in January [1]."
    assert all(t in ("", first) or t == texts[-1] for t in texts)  # never a half sentence
    shown_first = next(t for t, a in arrivals if a.generated and a.generated.text == first)
    assert arrivals[-1][0] - shown_first > 1.0  # the first sentence was out while the rest trickled in
    assert arrivals[0][1].generated.complete is False and arrivals[-1][1].generated.complete


@pytest.mark.parametrize("reply, reason", [
    ("cites_unknown_passage", "it cited passage [7], but only [1]–[4] were given"),
    ("quote_not_verbatim", "its quote “will take effect on 1 March 2025” is not verbatim in the passage it cites"),
    ("no_sentence_cited", "no sentence cited a passage"),
    ("unclosed_quote", "it opened a quotation mark and never closed it"),
    ("server_error", "the language model server answered HTTP 500: model crashed: out of memory"),
    ("not_json", "the language model server sent an event that is not JSON"),
])
def test_any_failed_check_or_server_failure_falls_back_to_the_quotes_with_a_note(repo_assistant, replay, reply,
                                                                                 reason):
    final = ask(repo_assistant, replay, reply=reply)[-1]
    assert final.generated is None
    assert final.note == f"The generated answer is not shown ({reason}); the quoted provisions are shown instead."
    assert final.text == repo_assistant.ask(WHEN).text


def test_a_checked_sentence_shown_early_is_withdrawn_when_a_later_one_fails(repo_assistant, replay):
    answers = ask(repo_assistant, replay, reply="cites_unknown_passage")
    assert any(a.generated and a.generated.text for a in answers)  # the first sentence had passed
    assert answers[-1].generated is None and "[7]" in answers[-1].note


def test_uncited_sentences_are_dropped_and_counted(repo_assistant, replay):
    final = ask(repo_assistant, replay, reply="some_sentences_uncited")[-1]
    assert final.generated.text == "The regulations will take effect on March 1, 2025 [1]."
    assert final.generated.dropped == 2


def test_a_timeout_and_a_slow_stream_past_the_deadline_fall_back_in_bounded_time(repo_assistant, replay):
    for reply, reason in (("silent", "did not answer within 1 s"), ("slow_stream", "did not finish within 1 s")):
        started = time.monotonic()
        final = ask(repo_assistant, replay, reply=reply, timeout=1.0)[-1]
        assert reason in final.note and final.generated is None
        assert time.monotonic() - started < 4


def test_an_abstention_asks_no_model(repo_assistant, replay):
    final = ask(repo_assistant, replay, "What is the penalty for tax evasion in Mongolia?")[-1]
    assert final.abstained and final.generated is None and final.note is None
    assert replay.requests == []


def test_the_extractive_reader_stays_the_default_and_needs_no_server(repo_assistant):
    answer = repo_assistant.ask(WHEN)
    assert repo_assistant.llm is None and answer.generated is None and answer.note is None
    assert answer.to_dict()["generated"] is None


# ---------------------------------------------------------------- CLI, Python API, web handlers
def test_qa_ask_with_llm_prints_the_labelled_answer_then_the_quotes(repo_index, replay):
    from qa.cli import cli

    result = CliRunner().invoke(cli, ["ask", WHEN, "--index", str(repo_index), "--llm", replay.url,
                                      "--llm-model", "replay-7b"])
    assert result.exit_code == 0, result.output
    head = "Generated by replay-7b — checked against the quoted passages:\nThe Chongqing Development Zone"
    assert result.output.startswith(head)
    assert "\n\nQuoted provisions:\nAccording to Chongqing Development Zone Regulations" in result.output
    replay.reply = "server_error"
    result = CliRunner().invoke(cli, ["ask", WHEN, "--index", str(repo_index), "--json"],
                                env={"QA_LLM_URL": replay.url, "QA_LLM_TIMEOUT": "5"})
    data = json.loads(result.output)
    assert data["generated"] is None and "HTTP 500" in data["note"] and data["citations"]
    result = CliRunner().invoke(cli, ["ask", WHEN, "--index", str(repo_index), "--llm", "localhost:8080"])
    assert result.exit_code == 1 and "Error: --llm takes the http(s) address" in result.output


def test_assistant_open_takes_llm_and_the_web_handlers_stream_it(repo_index, replay):
    from qa import Assistant
    from qa.web.handlers import api_ask, chat, chat_turns

    with Assistant.open(repo_index, llm=replay.url, llm_timeout=10) as assistant:
        turns = list(chat_turns(assistant, WHEN))
        assert len(turns) >= 3
        first, last = turns[0][0][-1]["content"], turns[-1][0][-1]["content"]
        assert "Generating with" in first and "**Quoted provisions**" in first and "Generated by" not in first
        assert "*Generated by replay\\-7b — checked against the quoted passages*" in last
        assert "will take effect on March 1, 2025&quot; \\[1\\]" in last and "**Sources**" in last
        talks = [turn[4] for turn in turns]  # the conversation takes the answer once, in the last update
        assert all(t is talks[0] for t in talks[:-1]) and talks[-1]["answers"][-1]["generated"]["model"] == "replay-7b"
        replay.reply = "quote_not_verbatim"
        history, panel, panels, cleared = chat(assistant, WHEN)
        reply = history[-1]["content"]
        assert reply.startswith("*The generated answer is not shown \\(its quote") and "Generated" not in reply
        assert "Cited provisions" in panel
        replay.reply = "well_formed_en"
        assert api_ask(assistant, WHEN)["generated"]["model"] == "replay-7b"


def test_the_generated_answer_label_follows_the_interface_language(repo_assistant, replay):
    from qa.web.i18n import use_language
    from qa.web.render import answer_markdown

    final = ask(repo_assistant, replay)[-1]
    with use_language("zh"):
        shown = answer_markdown(final)
    assert "*由 replay\\-7b 生成——已与引用的条文核对*" in shown and "**引用的条文**" in shown
    assert "*Generated by replay\\-7b — checked against the quoted passages*" in answer_markdown(final)
