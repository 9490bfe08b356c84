"""The web app's handlers in-process, and the real app on loopback through gradio_client."""
from __future__ import annotations

import sys
from pathlib import Path
import time

import pytest

from conftest_browser_helpers import (ENGLISH_NAME, INJECTION_NAME, INJECTION_TITLE, REGULATION_NAME, REPO,
                                      SCRIPT_TEXT, UPLOAD, UPLOAD_NAME, assistant_on_copy, index_copy, launch_app)
from qa.web import handlers as webapp
from qa.highlight import esc, esc_md, highlight, safe_url

EN_QUESTION = "Who is responsible for investment promotion in the Riverside Free Trade Park?"
EN_QUOTE = "The Park Management Committee is responsible for investment promotion"
ZH_QUESTION = "示范开发区管理机构负责哪些工作？"
ZH_QUOTE = "示范开发区管理机构负责开发区的规划编制、投资促进、企业服务和安全生产监督管理工作。"
OFF_TOPIC = "What is the penalty for tax evasion in Mongolia?"
# Gradio's queue calls pandas APIs that pandas 3 deprecates: not ours to fix.
pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    with assistant_on_copy(tmp_path_factory, "webapp-handlers") as a:
        yield a


# ---------------------------------------------------------------- escaping helpers
def test_esc_md_renders_no_markup():
    out = esc_md('<script>x</script> [a](javascript:alert(1)) ![i](http://t/x.png) *b* $x$ # h')
    assert "<" not in out and ">" not in out
    assert "](" not in out and "![" not in out  # no link or image syntax survives
    assert "\\*b\\*" in out and "\\$x\\$" in out


def test_highlight_marks_quote_and_terms_and_escapes():
    text = "Zones <b>must</b> report. 条例自2025年3月1日起施行。"
    out = highlight(text, quotes=["条例自2025年3月1日起施行。"], terms=["zone", "施行"])
    assert '<mark class="term">Zones</mark>' in out  # stems match whole words
    assert "&lt;b&gt;must&lt;/b&gt;" in out and "<b>" not in out
    assert '<mark class="quote term">施行</mark>' in out
    assert '<mark class="quote">条例自2025年3月1日起</mark>' in out


def test_safe_url_only_http():
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in ("javascript:alert(1)", "/tmp/file.md", "data:text/html,x", "http://", None, "http://a b"):
        assert safe_url(bad) is None
    assert esc('"><img src=x>') == "&quot;&gt;&lt;img src=x&gt;"


# ---------------------------------------------------------------- chat
def test_chat_english_answer_quotes_the_article(assistant):
    history, panel, panels, cleared = webapp.chat(assistant, EN_QUESTION, [], [])
    assert cleared == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    reply = history[-1]["content"]
    assert "Riverside Free Trade Park Regulations, Art\\. 3" in reply
    assert "Cited provisions" in panel and "Chapter II Management › Article 3" in panel
    assert f'<mark class="quote">{EN_QUOTE}' in panel
    assert 'href="https://example.org/riverside-regulations"' in panel and "2024-07-01" in panel
    assert panels == [panel, panel]


def test_chat_chinese_answer_and_multi_turn(assistant):
    history, _, panels, _ = webapp.chat(assistant, EN_QUESTION, [], [])
    history, panel, panels, _ = webapp.chat(assistant, ZH_QUESTION, history, panels)
    assert len(history) == 4 and len(panels) == 4
    assert "《示范开发区管理条例》第三条" in history[-1]["content"]
    assert f'<mark class="quote">{ZH_QUOTE}</mark>' in panel and "第二章 管理体制" in panel
    assert "Riverside" in webapp.select_turn(panels, 1) and "示范" in webapp.select_turn(panels, 3)


def test_chat_abstains_plainly_with_nearest_passages(assistant):
    history, panel, _, _ = webapp.chat(assistant, OFF_TOPIC, [], [])
    reply = history[-1]["content"]
    assert reply.startswith("**The indexed documents do not appear to answer this question")
    assert "1\\." in reply  # the nearest passages are listed
    assert "Nearest passages — not an answer" in panel and panel.count('class="qa-card"') == 3


@pytest.mark.parametrize("bad, message", [
    ("", "the question is empty"),
    ("   \n ", "the question is empty"),
    ("?!。", "no words"),
    ("why " * 600, "the limit is 2000"),
])
def test_chat_bad_input_is_a_message_not_an_exception(assistant, bad, message):
    history, panel, _, cleared = webapp.chat(assistant, bad, [{"role": "user", "content": "hi"}], [])
    assert len(history) == 3 and cleared == ""
    assert history[-1]["content"].startswith("**Cannot answer:**")
    assert message in history[-1]["content"].replace("\\", "") and message in panel
    assert len(history[-2]["content"]) < 400  # a huge question is shortened in the transcript


def test_chat_escapes_document_text(assistant):
    history, panel, _, _ = webapp.chat(assistant, "What does the Zanzibar clove tariff notice say?", [], [])
    reply = history[-1]["content"]
    for rendered in (reply, panel):
        assert "<script" not in rendered and "<img" not in rendered and "<b " not in rendered
    assert "&lt;script&gt;" in reply and "&lt;img src=x onerror=" in panel
    assert esc(SCRIPT_TEXT) in panel
    assert 'href="javascript' not in panel and "source: javascript:" in panel  # shown, never linked


# ---------------------------------------------------------------- search
def test_search_ranks_marks_terms_and_shows_translation(assistant):
    html = webapp.search(assistant, "investment promotion park", 3)
    assert html.count('class="qa-card"') == 3
    assert "Translated query:" in html and "投资促进" in html
    assert '<mark class="term">investment</mark>' in html and "] Riverside Free Trade Park Regulations, Art. 3" in html
    assert '<mark class="term">投资促进</mark>' in html  # the Chinese rendering matches too


def test_search_filters_by_kind_and_document(assistant):
    news = webapp.search(assistant, "development zone regulations", 10, kinds=["news"])
    assert "qa-card" in news and "· other ·" not in news and "· regulation ·" not in news
    only = webapp.search(assistant, "development zone", 10, docs=[REGULATION_NAME])
    assert only.count("《示范开发区管理条例》") == only.count('class="qa-card"') > 0
    none = webapp.search(assistant, "Zanzibar", 5, kinds=["regulation"], docs=[INJECTION_NAME])
    assert "No document matches these filters (docs=injection-notice.md; kinds=regulation)" in none


def test_search_bad_input_and_escaping(assistant):
    assert "the question is empty" in webapp.search(assistant, "  ", 5)
    html = webapp.search(assistant, "Zanzibar clove tariff", 2)
    assert "<script" not in html and "<img" not in html and esc(INJECTION_TITLE) in html


# ---------------------------------------------------------------- documents
def test_upload_indexes_files_and_names_rejected_ones(assistant, tmp_path):
    good = tmp_path / UPLOAD_NAME
    good.write_text(UPLOAD, encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "notes.xyz").write_text("hello", encoding="utf-8")
    calls = []
    status = webapp.upload(assistant, [str(tmp_path / n) for n in (UPLOAD_NAME, "broken.pdf", "empty.txt", "notes.xyz")],
                           progress=lambda value, desc=None: calls.append((value, desc)))
    assert "Indexed 1 document(s)" in status and esc_md(UPLOAD_NAME) in status
    assert "Rejected 3 file(s)" in status
    assert "**broken\\.pdf**" in status and "**empty\\.txt**: empty file" in status
    assert "**notes\\.xyz**: unsupported format \\.xyz" in status
    assert calls and any(desc == "embedding" for _, desc in calls)
    rows = {row[5]: row for row in webapp.documents_table(assistant)}
    assert rows[UPLOAD_NAME][:2] == ["Harbour Pilotage Rules", "regulation"]
    assert (UPLOAD_NAME, UPLOAD_NAME) not in webapp.document_choices(assistant)  # label carries the title

    assert webapp.delete(assistant, UPLOAD_NAME) == f"Deleted {esc_md(UPLOAD_NAME)}."
    assert UPLOAD_NAME not in {row[5] for row in webapp.documents_table(assistant)}
    assert "no such document" in webapp.delete(assistant, UPLOAD_NAME)
    assert webapp.delete(assistant, None).startswith("Choose")
    assert webapp.upload(assistant, []).startswith("Choose")


def test_article_browser_by_chapter_and_article(assistant):
    units = webapp.document_units(assistant, REGULATION_NAME)
    chapters = webapp.chapters_of(units)
    assert ["第一章 总则", "第二章 管理体制", "第三章 附则"] == [c for c in chapters if c != webapp.NO_CHAPTER]
    articles = webapp.articles_of(units, "第二章 管理体制")
    assert [label for label, _ in articles] == ["第三条", "第四条"]
    one = webapp.read_html(assistant, REGULATION_NAME, "第二章 管理体制", articles[0][1])
    assert ZH_QUOTE in one and "第四条" not in one
    chapter = webapp.read_html(assistant, REGULATION_NAME, "第二章 管理体制")
    assert "第三条" in chapter and "第四条" in chapter and "第五条" not in chapter
    english = webapp.document_units(assistant, ENGLISH_NAME)
    assert [a for _, a, _ in english if a] == ["Article 1", "Article 2", "Article 3", "Article 4"]
    evil = webapp.read_html(assistant, INJECTION_NAME)
    assert "<script" not in evil and "<img" not in evil and esc(SCRIPT_TEXT) in evil
    assert "Choose a document" in webapp.read_html(assistant, None)


def test_app_arguments_default_to_loopback():
    sys.path.insert(0, str(REPO))
    import app

    args = app.parse_args([])
    assert (args.host, args.port, args.auth, args.index) == ("127.0.0.1", 7860, None, None)
    assert app.parse_args(["--host", "0.0.0.0", "--auth", "u:p:w"]).auth == "u:p:w"
    with pytest.raises(SystemExit):
        app.parse_args(["--auth", "nocolon"])
    with pytest.raises(SystemExit):
        app.parse_args(["--share"])


# ---------------------------------------------------------------- the real app, through gradio_client
@pytest.fixture(scope="module")
def client(assistant):
    from gradio_client import Client

    demo, url = launch_app(assistant)
    try:
        yield Client(url, verbose=False)
    finally:
        demo.close()


def test_api_lists_named_endpoints(client):
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(named) == {"/ask", "/search"}


def test_api_ask_returns_answer_with_citations(client):
    result = client.predict(EN_QUESTION, api_name="/ask")
    assert result["abstained"] is False and result["text"].startswith("According to")
    cited = result["citations"][0]
    assert cited["citation"] == "Riverside Free Trade Park Regulations, Art. 3" and cited["article"] == "Article 3"
    assert any(q.startswith(EN_QUOTE) for q in cited["quotes"])
    zh = client.predict(ZH_QUESTION, api_name="/ask")
    assert zh["citations"][0]["citation"] == "《示范开发区管理条例》第三条" and zh["citations"][0]["quotes"] == [ZH_QUOTE]
    off = client.predict(OFF_TOPIC, api_name="/ask")
    assert off["abstained"] is True and off["nearest"]


def test_api_search_returns_hits(client):
    hits = client.predict("Riverside park investment promotion", 3, api_name="/search")
    assert len(hits) == 3 and [h["rank"] for h in hits] == [1, 2, 3]
    assert {"doc", "title", "article", "citation", "text", "score", "matched_terms"} <= set(hits[0])
    assert ENGLISH_NAME in [h["doc"] for h in hits]
    assert len(client.predict("开发区", api_name="/search")) == 10  # k defaults to 10


def test_api_bad_question_is_a_clear_error(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="the question is empty"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(AppError, match="limit is 2000"):
        client.predict("x" * 2500, api_name="/search")


def test_auth_is_required_when_set(assistant):
    from gradio_client import Client

    demo, url = launch_app(assistant, auth=("reader", "s3cret"))
    try:
        assert demo.server_name == "127.0.0.1"
        with pytest.raises(Exception):
            Client(url, verbose=False)
        authed = Client(url, auth=("reader", "s3cret"), verbose=False)
        assert len(authed.predict("investment promotion", 1, api_name="/search")) == 1
    finally:
        demo.close()


# ---------------------------------------------------------------- what the API may say (issue 10)
def test_api_results_show_no_server_paths(assistant):
    hits = webapp.api_search(assistant, "开发区 regulations", 50)
    answer = webapp.api_ask(assistant, ZH_QUESTION)
    sources = [h["source"] for h in hits + answer["nearest"] + answer["citations"] if h["source"]]
    assert sources and all("/" not in s or s.startswith(("http://", "https://")) for s in sources), sources
    assert any(s == REGULATION_NAME for s in sources)  # a local file is named, not located
    assert webapp.public_source("/tmp/gradio/abc123/secret-name.pdf") == "secret-name.pdf"
    assert webapp.public_source("https://example.org/a/b.html") == "https://example.org/a/b.html"


@pytest.mark.parametrize("k", [0, -1, 51, 10**9, "lots"])
def test_api_k_is_bounded(assistant, k):
    with pytest.raises(webapp.QueryError, match="k must be"):
        webapp.api_search(assistant, "investment promotion", k)
    assert "k must be" in webapp.search(assistant, "investment promotion", k)


def test_uploaded_temporary_files_are_deleted_after_indexing(assistant):
    import gradio as gr

    folder = Path(gr.utils.get_upload_folder()) / "qa-test-upload-0001"
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / "temp-upload-rules.md"
    temp.write_text(UPLOAD.replace("Harbour Pilotage", "Temporary Upload"), encoding="utf-8")
    outside = folder.parent.parent / "qa-not-an-upload.md"  # outside Gradio's folder: never touched
    outside.write_text(UPLOAD, encoding="utf-8")
    try:
        status = webapp.upload(assistant, [str(temp), str(outside)], upload_root=gr.utils.get_upload_folder())
        assert "Indexed 2 document(s)" in status
        assert not temp.exists() and not folder.exists()
        assert outside.exists()
    finally:
        outside.unlink(missing_ok=True)
        for doc in (temp.name, outside.name):
            webapp.delete(assistant, doc)


def test_failed_logins_are_slowed_down(assistant):
    import urllib.error
    import urllib.parse
    import urllib.request

    from gradio_client import Client

    demo, url = launch_app(assistant, auth=("reader", "s3cret"))
    try:
        started = time.monotonic()
        for _ in range(3):
            body = urllib.parse.urlencode({"username": "reader", "password": "guess"}).encode()
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(urllib.request.Request(url + "login", data=body), timeout=30)
            assert err.value.code == 400
        assert time.monotonic() - started >= 0.5 + 1.0 + 2.0  # the delay doubles per failure
        started = time.monotonic()
        authed = Client(url, auth=("reader", "s3cret"), verbose=False)  # the right password is not delayed
        assert len(authed.predict("investment promotion", 1, api_name="/search")) == 1
    finally:
        demo.close()


# ---------------------------------------------------------------- the package's shape (issue 15)
def test_render_and_handlers_import_no_gradio():
    import subprocess

    code = "import sys, qa.web.handlers, qa.web.render; sys.exit('gradio' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=120).returncode == 0


def test_qa_serve_is_the_cli_twin_of_app_py(tmp_path_factory):
    import subprocess

    from conftest_browser_helpers import free_port
    from gradio_client import Client

    index = index_copy(tmp_path_factory, "webapp-serve")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--index", str(index), "--port", str(port)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, client = time.monotonic() + 120, None
        while client is None:
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "qa serve did not come up"
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            except Exception:
                time.sleep(0.5)
        hits = client.predict(EN_QUESTION, 3, api_name="/search")
        assert len(hits) == 3 and ENGLISH_NAME in [h["doc"] for h in hits]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_upload_progress_names_the_stage_and_once_measured_the_time_left(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(webapp.time, "monotonic", lambda: now[0])
    seen = []
    report = webapp._eta_reporter(lambda value, desc=None: seen.append((value, desc)))
    report("embedding", 0, 100)  # the stage starts
    now[0] += 1.0
    report("embedding", 10, 100)  # too early to estimate
    now[0] += 9.0
    report("embedding", 50, 100)  # 10 s for 50: about 10 s left
    now[0] += 190.0
    report("embedding", 60, 100)  # 200 s for 60: about 133 s ≈ 2 min left
    assert seen == [((0, 100), "embedding"), ((10, 100), "embedding"), ((50, 100), "embedding — about 10 s left"),
                    ((60, 100), "embedding — about 2 min left")]
