"""The app's rough edges (issue 13, part 6) where a browser adds nothing: handlers and rendering
in-process, on a real index (the browser side is in test_browser_ui.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest_browser_helpers import ENGLISH_NAME, UPLOAD, UPLOAD_NAME, assistant_on_copy
from qa.highlight import highlight, markdown_styles
from qa.progress import track
from qa.web import handlers as webapp

pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting")]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    with assistant_on_copy(tmp_path_factory, "web-ui-handlers") as a:
        yield a


def test_passage_markdown_shows_bold_lists_and_headings_and_stays_escaped():
    text = "## 说明\n**说明：** 本条 <b onmouseover=x>粗</b> a ** b\n- 第一项\n* 第二项\n1. 第三项"
    out = highlight(text, quotes=["说明：** 本条"], terms=["第一项"], markdown=True)
    assert out.startswith("<strong>说明</strong>\n")  # a heading line: bold, its "## " hidden
    assert '<mark class="quote"><strong>说明：</strong></mark><mark class="quote"> 本条</mark>' in out
    assert "&lt;b onmouseover=x&gt;" in out and "<b " not in out  # HTML in the text stays text
    assert "a ** b" in out  # a lone "**" is not bold
    assert highlight("window.__x=1 and __y__", markdown=True) == "window.__x=1 and __y__"  # underscores stay
    assert '• <mark class="term">第一项</mark>\n• 第二项\n1. 第三项' in out
    assert "**" not in out.replace("a ** b", "")
    assert highlight("**x**") == "**x**"  # only where asked (the chat escapes Markdown itself)
    assert markdown_styles("") == []


def test_a_progress_stage_is_named_when_it_starts():
    calls = []
    for _ in track([1, 2], "embedding", callback=lambda *a: calls.append(a), show=False):
        assert calls[0] == ("embedding", 0, 2)  # before the first item is done
    assert calls == [("embedding", 0, 2), ("embedding", 1, 2), ("embedding", 2, 2)]


def test_upload_progress_runs_through_the_stages_to_saving(assistant, tmp_path):
    (tmp_path / "stage-rules.md").write_text(UPLOAD.replace("Harbour Pilotage", "Stage Progress"), encoding="utf-8")
    stages = []
    status = webapp.upload(assistant, [str(tmp_path / "stage-rules.md")],
                           progress=lambda value, desc=None: stages.append(desc.split(" —")[0]))
    assert "Indexed 1 document(s)" in status
    order = list(dict.fromkeys(stages))
    assert [s for s in order if s in ("chunking", "embedding", "saving")] == ["chunking", "embedding", "saving"]
    webapp.delete(assistant, "stage-rules.md")


def test_an_upload_named_like_an_indexed_document_is_found_and_can_keep_both(assistant, tmp_path):
    upload = tmp_path / ENGLISH_NAME
    upload.write_text(UPLOAD, encoding="utf-8")
    other = tmp_path / "never-indexed.md"
    other.write_text(UPLOAD, encoding="utf-8")
    replaced = webapp.replaced_documents(assistant, [str(upload), str(other)])
    assert [d["id"] for d in replaced] == [ENGLISH_NAME]
    question = webapp.replace_question(replaced)
    assert "Riverside Free Trade Park Regulations" in question and "replace 1 document" in question
    assert webapp.replaced_documents(assistant, [str(other)]) == []

    status = webapp.upload(assistant, [str(upload)], keep_both=True)
    kept = ENGLISH_NAME.replace(".md", " (2).md")
    assert "Indexed 1 document(s)" in status and kept in status.replace("\\", "")
    ids = {row[5]: row[0] for row in webapp.documents_table(assistant)}
    assert ids[ENGLISH_NAME] == "Riverside Free Trade Park Regulations" and ids[kept] == "Harbour Pilotage Rules"
    assert upload.read_text(encoding="utf-8") == UPLOAD  # the user's file is copied, never renamed or changed
    assert webapp.keep_both_copies(assistant, [upload])[0].name == ENGLISH_NAME.replace(".md", " (3).md")
    webapp.delete(assistant, kept)


def test_cancelled_upload_deletes_only_the_uploaded_copies(tmp_path):
    root = tmp_path / "uploads"
    (root / "abc").mkdir(parents=True)
    copy = root / "abc" / UPLOAD_NAME
    copy.write_text(UPLOAD, encoding="utf-8")
    outside = tmp_path / "mine.md"
    outside.write_text(UPLOAD, encoding="utf-8")
    assert "nothing was indexed" in webapp.cancel_upload([str(copy), str(outside)], root)
    assert not copy.exists() and outside.exists()


def test_delete_question_names_the_document_and_says_when_it_is_bundled(assistant):
    english = webapp.delete_question(assistant, ENGLISH_NAME)
    assert "Riverside Free Trade Park Regulations" in english and "passages" in english
    assert "bundled" not in english
    bundled = next(d["id"] for d in assistant.documents() if d["id"].startswith("news/"))
    assert (webapp.DEFAULT_CORPUS / bundled).is_file()
    assert "bundled with the app" in webapp.delete_question(assistant, bundled)
    assert webapp.delete_question(assistant, "no-such-doc.md") is None
    assert webapp.delete_question(assistant, None) is None
    assert ENGLISH_NAME in {row[5] for row in webapp.documents_table(assistant)}  # asking deleted nothing


def test_reader_renders_markdown_of_a_document(assistant, tmp_path):
    (tmp_path / "md-reader.md").write_text("# T\n\n**说明：** 这是正文。\n\n- 船舶登记\n", encoding="utf-8")
    assistant.add([str(tmp_path / "md-reader.md")], show_progress=False)
    html = webapp.read_html(assistant, "md-reader.md")
    assert "<strong>说明：</strong>" in html and "**" not in html and "• 船舶登记" in html
    webapp.delete(assistant, "md-reader.md")
    assert Path(tmp_path / "md-reader.md").exists()


# ---------------------------------------------------------------- the interface's language
def test_every_string_has_both_languages_with_the_same_placeholders():
    from string import Formatter

    from qa.web.i18n import STRINGS

    def fields(text):
        return sorted(f for _, f, _, _ in Formatter().parse(text) if f)

    for key, (english, chinese) in STRINGS.items():
        assert english.strip() and chinese.strip(), key
        assert fields(english) == fields(chinese), key


@pytest.mark.parametrize("header, language", [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en-US,en;q=0.9,zh-CN;q=0.8", "en"), ("zh-TW", "zh"),
    ("fr-FR,fr;q=0.9,zh;q=0.5", "zh"), ("de-DE", "en"), ("", "en"), (None, "en"),
    ("en;q=0.2, zh;q=0.7", "zh"), ("zh;q=bad, en", "en"),
])
def test_the_browser_language_picks_ours(header, language):
    from qa.web.i18n import language_of

    assert language_of(header) == language


def test_handlers_render_in_the_language_in_use(assistant):
    from qa.web.i18n import t, use_language
    from qa.web.render import panel_placeholder

    with use_language("zh"):
        history, panel, _, _ = webapp.chat(assistant, "示范开发区管理机构负责哪些工作？", [], [])
        assert "**来源**" in history[-1]["content"] and "引用条文" in panel and "置信度" in panel
        assert "每个回答" in panel_placeholder()
        assert "个文件" in webapp.index_summary(assistant) and t("ask") == "提问"
        assert "无法回答" in webapp.chat(assistant, "  ", [], [])[0][-1]["content"]
        assert "请选择要删除的文件" in webapp.delete(assistant, None)
        assert "没有匹配的段落" in webapp.search(assistant, "Zanzibar", 5, kinds=["regulation"], docs=["none.md"])
    history, panel, _, _ = webapp.chat(assistant, "示范开发区管理机构负责哪些工作？", [], [])
    assert "**Sources**" in history[-1]["content"] and "Cited provisions" in panel  # English outside
    with use_language("xx"):  # an unknown language is English
        assert t("ask") == "Ask"


def test_progress_stages_are_named_in_the_language_in_use():
    from qa.web.i18n import use_language

    seen = []
    with use_language("zh"):
        report = webapp._eta_reporter(lambda value, desc=None: seen.append(desc))
        report("embedding", 0, 4)
        report("waiting for another writer", 0, 1)  # a message, not a stage: shown as it is
    assert seen == ["向量化", "waiting for another writer"]
