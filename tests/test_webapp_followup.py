"""The app's follow-ups and downloads without a browser: handlers in-process, /ask over HTTP on loopback.

The index: the browser tests' one plus the two invented statutes of tests/test_focus.py.
"""
from __future__ import annotations

import io
import json

import pytest
from docx import Document

from conftest_browser_helpers import assistant_on_copy, launch_app
from test_focus import JIA, STATUTES, YI

pytestmark = pytest.mark.filterwarnings("ignore:.*no_silent_downcasting")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    with assistant_on_copy(tmp_path_factory, "webapp-followup", STATUTES) as opened:
        yield opened


def test_chat_turns_keep_the_focus_and_clear_it(assistant, tmp_path):
    from qa.web.conversation import clear_focus, discard_downloads, select_answer, write_downloads
    from qa.web.handlers import chat_turn

    history, panel, panels, box, talk, note = chat_turn(assistant, f"《{YI}》适用于哪些地方？")
    assert note.startswith(f"**Focus:** 《{YI}》") and box == ""
    history, panel, panels, _, talk, note = chat_turn(assistant, "第六条呢？", history, panels, talk)
    assert f"*Read as: 《{YI}》第六条*" in history[-1]["content"]
    assert "高新区应当建设公共技术服务平台" in panel
    history, panel, panels, _, talk, note = chat_turn(assistant, "   ", history, panels, talk)  # fails alone
    assert "Cannot answer" in history[-1]["content"] and note.startswith(f"**Focus:** 《{YI}》第六条")
    assert len(talk["answers"]) == 3 and talk["answers"][2] is None
    talk = clear_focus(talk)
    history, panel, panels, _, talk, note = chat_turn(assistant, "第六条呢？", history, panels, talk)
    assert "Read as" not in history[-1]["content"]

    paths = write_downloads(select_answer(talk, 2), tmp_path)  # message 2 = the second answer
    assert [p.name for p in paths] == ["conversation.md", "conversation.docx", "answer.md", "answer.docx"]
    conversation = paths[1].read_bytes()
    quotes = [q for a in talk["answers"] if a for c in a["citations"] for q in c["quotes"]]
    texts = [p.text for p in Document(io.BytesIO(conversation)).paragraphs]
    assert quotes and all(q in texts for q in quotes)
    assert "高新区应当建设公共技术服务平台，向区内企业开放。" in paths[2].read_text(encoding="utf-8")
    assert paths[2].read_text(encoding="utf-8").count("\n## ") == 1  # the chosen answer alone
    assert paths[0].read_text(encoding="utf-8").count("\n## ") == 3  # every answer; the failed turn has none
    assert write_downloads({"answers": [], "since": 0, "selected": None, "id": "x"}, tmp_path) is None
    discard_downloads(talk, tmp_path)  # "Clear conversation" deletes them
    assert not paths[0].parent.exists() and tmp_path.exists()


def test_ask_api_takes_the_history_it_returned(assistant):
    from gradio_client import Client

    demo, url = launch_app(assistant)
    try:
        client = Client(url, verbose=False)
        first = client.predict(f"《{JIA}》第二条是怎么规定的？", api_name="/ask")
        assert first["focus"] == {"laws": [JIA], "article": "第二条"} and first["read_as"] is None
        second = client.predict("What about Article 6?", [first], api_name="/ask")
        assert second["read_as"] == f"《{JIA}》第六条"
        assert second["citations"][0]["citation"] == f"《{JIA}》第六条"
        short = client.predict("下一条呢？", [{"question": "…", "law": YI, "article": "第六条"}], api_name="/ask")
        assert short["citations"][0]["citation"] == f"《{YI}》第七条"
        alone = client.predict("What about Article 6?", api_name="/ask")  # no history: nothing to lean on
        assert alone["read_as"] is None
        with pytest.raises(Exception, match="history must be a list|a history item"):
            client.predict("第六条呢？", [42], api_name="/ask")
        json.dumps(second, ensure_ascii=False)  # plain JSON all the way
    finally:
        demo.close()
