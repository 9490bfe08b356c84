"""End to end in a real browser: Debian chromium driven by Playwright against the launched app.

Never runs `playwright install`: the system chromium at /usr/bin/chromium is used, and the
tests skip with the reason when it (or the playwright package) is missing. Screenshots of
each screen go to test-artifacts/screenshots/.
"""
from __future__ import annotations

import pytest

from conftest_browser_helpers import (BROWSER_MARKS, INJECTION_TITLE, SCREENSHOTS, SCRIPT_TEXT, UPLOAD, UPLOAD_NAME,
                                      assistant_on_copy, checked_page, index_copy, launch_app, serving)

pytestmark = BROWSER_MARKS
playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect

EN_QUESTION = "Who is responsible for investment promotion in the Riverside Free Trade Park?"
EN_CITATION = "Riverside Free Trade Park Regulations, Art. 3"
EN_QUOTE = "The Park Management Committee is responsible for investment promotion"
ZH_QUESTION = "示范开发区管理机构负责哪些工作？"
ZH_CITATION = "《示范开发区管理条例》第三条"
ZH_QUOTE = "示范开发区管理机构负责开发区的规划编制、投资促进、企业服务和安全生产监督管理工作。"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with assistant_on_copy(tmp_path_factory, "browser") as assistant, serving(assistant) as url:
        yield url


@pytest.fixture
def page(browser, app_url):
    """A fresh page on the app that fails the test on any JavaScript dialog or page error."""
    with checked_page(browser, app_url, TIMEOUT_MS) as page:
        yield page


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(5, 5)
    page.wait_for_timeout(600)  # let fades and dropdown transitions finish
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def ask(page, question: str, submit_with_enter: bool = False) -> None:
    page.fill("#qa-question textarea", question)
    if submit_with_enter:
        page.press("#qa-question textarea", "Enter")
    else:
        page.click("#qa-ask")


def pick(page, combobox: str, option: str) -> None:
    page.get_by_role("combobox", name=combobox, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_chat_english_and_chinese_show_the_cited_article(page):
    chat, evidence = page.locator("#qa-chatbot"), page.locator("#qa-evidence")
    ask(page, EN_QUESTION)
    expect(chat).to_contain_text(EN_CITATION)
    expect(evidence.locator("mark.quote")).to_contain_text(EN_QUOTE)
    expect(evidence).to_contain_text("Chapter II Management › Article 3")
    expect(evidence.get_by_role("link", name="source")).to_have_attribute("href", "https://example.org/riverside-regulations")

    ask(page, ZH_QUESTION, submit_with_enter=True)
    expect(chat).to_contain_text(ZH_CITATION)
    expect(evidence.locator("mark.quote")).to_have_text(ZH_QUOTE)
    expect(evidence).to_contain_text("第二章 管理体制 › 第三条")
    expect(chat).to_contain_text(EN_CITATION)  # multi-turn: the first answer is still there
    shot(page, "chat")

    chat.get_by_text(EN_CITATION).first.click()  # clicking an earlier answer brings its evidence back
    expect(evidence.locator("mark.quote")).to_contain_text(EN_QUOTE)


GLOSS_QUESTION = "Which department coordinates the demonstration development zones citywide?"
GLOSS_QUOTE = "市人民政府商务主管部门负责全市示范开发区的综合协调、统计监测和考核评价工作。"


def tooltip(page) -> dict:
    """The visible gloss tooltip: its text and its box (it is one element, placed by script)."""
    tip = page.locator("#qa-tip")
    expect(tip).to_be_visible()
    return {"text": tip.inner_text(), **tip.bounding_box()}


def assert_inside_viewport(page, box: dict) -> None:
    width, height = page.evaluate("[document.documentElement.clientWidth, document.documentElement.clientHeight]")
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, (box, width, height)


def test_a_chinese_quote_explains_each_word_on_hover_and_focus(page):
    evidence = page.locator("#qa-evidence")
    ask(page, GLOSS_QUESTION)
    expect(evidence.locator(".qa-gloss").first).to_be_visible()
    assert "".join(evidence.locator("mark.quote").all_inner_texts()) == GLOSS_QUOTE  # highlight kept whole
    words = evidence.locator("mark.quote .qa-gloss")
    first = words.first
    first.focus()  # keyboard: every glossed word is focusable, and the tooltip describes it
    text = tooltip(page)["text"]
    assert "shì" in text and "city" in text.lower(), text
    assert first.get_attribute("aria-describedby") == "qa-tip"
    first.evaluate("el => el.blur()")
    expect(page.locator("#qa-tip")).to_be_hidden()
    target = evidence.locator('.qa-gloss', has_text="负责").first
    target.hover()
    text = tooltip(page)["text"]
    assert "fù zé" in text and "responsible" in text, text
    # the word nearest the right edge: its tooltip is moved left, never cut off by the viewport
    rightmost = max(words.all(), key=lambda w: w.bounding_box()["x"] + w.bounding_box()["width"])
    rightmost.hover()
    box = tooltip(page)
    assert_inside_viewport(page, box)
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "gloss-tooltip.png"))  # the tooltip at the right edge, mouse on it
    evidence.get_by_text("Word by word (pinyin, meanings)").click()
    expect(evidence.locator(".qa-gloss-table table")).to_contain_text("综合")
    shot(page, "gloss-table")


def test_the_quote_in_the_chat_answer_is_glossed_too(page):
    chat = page.locator("#qa-chatbot")
    ask(page, GLOSS_QUESTION)
    words = chat.locator(".qa-gloss")
    expect(words.first).to_be_visible()
    assert GLOSS_QUOTE in chat.inner_text()  # the quote still reads exactly as the law
    target = chat.locator(".qa-gloss", has_text="负责").first
    target.hover()
    box = tooltip(page)
    assert "fù zé" in box["text"] and "responsible" in box["text"], box
    assert_inside_viewport(page, box)
    page.mouse.move(5, 5)
    expect(page.locator("#qa-tip")).to_be_hidden()
    page.set_viewport_size({"width": 700, "height": 900})  # a narrow window: the chat reaches the right edge
    rightmost = max(words.all(), key=lambda w: w.bounding_box()["x"] + w.bounding_box()["width"])
    rightmost.scroll_into_view_if_needed()
    rightmost.focus()  # keyboard focus shows it as well
    box = tooltip(page)
    assert box["text"] and rightmost.get_attribute("tabindex") == "0"
    assert_inside_viewport(page, box)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "gloss-tooltip-chat.png"))


def test_chat_abstains_and_reports_bad_input(page):
    chat, evidence = page.locator("#qa-chatbot"), page.locator("#qa-evidence")
    page.get_by_role("button", name="What is the penalty for tax evasion in Mongolia?").click()
    expect(page.locator("#qa-question textarea")).to_have_value("What is the penalty for tax evasion in Mongolia?")
    page.click("#qa-ask")
    expect(chat).to_contain_text("The indexed documents do not appear to answer this question")
    expect(evidence).to_contain_text("Nearest passages — not an answer")
    shot(page, "chat-abstention")
    ask(page, "   ")
    expect(chat).to_contain_text("Cannot answer: the question is empty")


def test_search_with_filters_marks_terms(page):
    page.get_by_role("tab", name="Search").click()
    page.fill("#qa-query textarea", "Riverside park investment promotion")
    page.get_by_label("regulation").check()
    page.click("#qa-search")
    results = page.locator("#qa-results")
    expect(results).to_contain_text(EN_CITATION)
    expect(results).to_contain_text("Translated query:")
    expect(results.locator("mark.term").first).to_be_visible()
    cards = results.locator(".qa-card")
    assert cards.count() >= 2
    for text in cards.all_inner_texts():
        assert "regulation · " in text  # only the kind asked for
    shot(page, "search")


def test_upload_find_and_delete_a_document(page, tmp_path):
    (tmp_path / UPLOAD_NAME).write_text(UPLOAD, encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not a real pdf")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    page.get_by_role("tab", name="Documents").click()
    page.set_input_files("#qa-upload input[type=file]", [str(tmp_path / n) for n in (UPLOAD_NAME, "broken.pdf", "empty.txt")])
    page.click("#qa-add")
    status, table = page.locator("#qa-status"), page.locator("#qa-table")
    expect(status).to_contain_text("Indexed 1 document(s)", timeout=60_000)
    expect(status).to_contain_text("broken.pdf:")  # rejected, named, with the reason
    expect(status).to_contain_text("empty.txt: empty file")
    expect(table).to_contain_text("Harbour Pilotage Rules")
    expect(table).to_contain_text(UPLOAD_NAME)  # Gradio kept the uploaded file's name: it is the doc id
    shot(page, "documents")

    pick(page, "Document to delete", f"Harbour Pilotage Rules — {UPLOAD_NAME}")
    page.click("#qa-delete")
    page.click("#qa-delete-yes")  # deleting asks first
    expect(status).to_contain_text(f"Deleted {UPLOAD_NAME}")
    expect(table).not_to_contain_text("Harbour Pilotage Rules")


def test_article_browser_reads_by_chapter_and_article(page):
    page.get_by_role("tab", name="Read").click()
    pick(page, "Document", "示范开发区管理条例 — 示范开发区管理条例.md")
    pick(page, "Chapter / section", "第二章 管理体制")
    reader = page.locator("#qa-reader")
    expect(reader).to_contain_text("第四条 市人民政府商务主管部门")  # the whole chapter
    pick(page, "Article", "第三条")
    expect(reader).to_contain_text(ZH_QUOTE)
    expect(reader).not_to_contain_text("第四条")
    shot(page, "read")


def test_script_injection_document_runs_nothing(page):
    flag = "() => window.__qa_xss"
    ask(page, "What does the Zanzibar clove tariff notice say?")
    chat, evidence = page.locator("#qa-chatbot"), page.locator("#qa-evidence")
    expect(chat).to_contain_text(SCRIPT_TEXT)  # the payload shows as text...
    expect(evidence).to_contain_text(SCRIPT_TEXT)
    expect(evidence).to_contain_text(INJECTION_TITLE)
    expect(evidence).to_contain_text("source: javascript:window.__qa_xss=6")
    assert page.evaluate(flag) is None  # ...and ran nothing

    page.get_by_role("tab", name="Search").click()
    page.fill("#qa-query textarea", "Zanzibar clove tariff")
    page.click("#qa-search")
    expect(page.locator("#qa-results")).to_contain_text('<img src=x onerror="window.__qa_xss=3">')

    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#qa-table")).to_contain_text(INJECTION_TITLE)

    page.get_by_role("tab", name="Read").click()
    pick(page, "Document", f"{INJECTION_TITLE} — injection-notice.md")
    expect(page.locator("#qa-reader")).to_contain_text(SCRIPT_TEXT)
    shot(page, "injection")
    page.mouse.move(10, 10)
    for element in page.locator("#qa-reader .qa-text").all():
        element.hover()  # would fire the onmouseover payload if it had become markup
    assert page.evaluate(flag) is None
    assert page.locator("img[src='x']").count() == 0 and page.locator("b[onmouseover]").count() == 0


@pytest.fixture(scope="module")
def llm_app_url(tmp_path_factory):
    """A second app whose assistant asks a replayed language model (tests/llm_replay.py) on loopback."""
    from llm_replay import ReplayServer
    from qa import Assistant

    with ReplayServer("riverside_slow") as server:
        from qa.web import warm_up

        assistant = Assistant.open(index_copy(tmp_path_factory, "browser-llm"), llm=server.url, llm_timeout=30)
        warm_up(assistant)  # the extractive reader only: the model is not asked
        assert server.requests == []
        demo, url = launch_app(assistant)
        yield url
        demo.close()
        assistant.close()


def test_a_generated_answer_streams_checked_sentences_above_the_quotes(browser, llm_app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(llm_app_url)
    page.wait_for_selector("#qa-question textarea")
    ask(page, EN_QUESTION)
    generated = page.locator("#qa-chatbot .qa-generated").last
    first = 'The Park Management Committee is "responsible for investment promotion" [1].'
    # while streaming: the provisional label and only the sentences already checked, the quotes below
    expect(generated).to_contain_text("Generating with replay-7b", timeout=TIMEOUT_MS)
    box = page.locator("#qa-question textarea")
    expect(box).to_have_value("")  # the question was taken at once
    box.fill(ZH_QUESTION)  # the next question, typed while this answer streams
    expect(generated).to_contain_text(first)
    assert "supervises work safety" not in generated.inner_text()
    expect(page.locator("#qa-chatbot")).to_contain_text(EN_QUOTE)
    expect(generated).to_contain_text("Generated by replay-7b — checked against the quoted passages",
                                      timeout=TIMEOUT_MS)
    expect(generated).to_contain_text(first + " It also provides enterprise services and supervises work safety "
                                      "in the park [1].")
    expect(page.locator("#qa-chatbot")).to_contain_text(EN_CITATION)
    expect(page.locator("#qa-evidence mark.quote")).to_contain_text(EN_QUOTE)
    expect(box).to_have_value(ZH_QUESTION)  # no streamed update wiped what was typed
    shot(page, "chat-generated")
    page.close()

