"""Follow-ups and downloads in a real browser (issue 13 parts 4 and 5).

Debian chromium driven by Playwright against the launched app (no `playwright install`); the
app's index is the browser tests' one plus two invented statutes that share their article
numbers (tests/test_focus.py), so a follow-up lands in the right law only through its focus.
Screenshots of each new view go to test-artifacts/screenshots/ (git-ignored).
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document

from conftest_browser_helpers import BROWSER_MARKS, assistant_on_copy, checked_page, screenshot as shot, serving
from test_focus import JIA, STATUTES, YI

pytestmark = BROWSER_MARKS
playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect

TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with assistant_on_copy(tmp_path_factory, "browser-followup", STATUTES) as assistant, serving(assistant) as url:
        yield url, assistant


@pytest.fixture
def page(browser, app):
    with checked_page(browser, app[0], TIMEOUT_MS, viewport={"width": 1400, "height": 1100},
                      accept_downloads=True) as page:
        yield page


def ask(page, question: str) -> None:
    answers = page.locator("#qa-chatbot [data-testid='bot']").count()
    page.fill("#qa-question textarea", question)
    page.click("#qa-ask")
    expect(page.locator("#qa-question textarea")).to_have_value("")
    page.wait_for_function(
        "n => document.querySelectorAll(\"#qa-chatbot [data-testid='bot']\").length > n", arg=answers)


def last_answer(page):
    return page.locator("#qa-chatbot [data-testid='bot']").last


def test_a_follow_up_is_read_in_the_focus_and_the_focus_can_be_cleared(page):
    focus, evidence = page.locator("#qa-focus"), page.locator("#qa-evidence")
    ask(page, f"《{YI}》适用于哪些地方？")
    expect(focus).to_contain_text(f"《{YI}》")
    ask(page, "第六条呢？")
    expect(last_answer(page)).to_contain_text(f"Read as: 《{YI}》第六条")
    expect(evidence.locator("mark.quote")).to_contain_text("高新区应当建设公共技术服务平台")
    expect(focus).to_contain_text(f"《{YI}》第六条")
    shot(page, "followup-read-as")

    ask(page, f"《{JIA}》第二条是怎么规定的？")  # naming another law moves the focus
    expect(focus).to_contain_text(f"《{JIA}》第二条")
    ask(page, "What about Article 6?")
    expect(last_answer(page)).to_contain_text(f"Read as: 《{JIA}》第六条")
    expect(evidence.locator(".qa-cite").first).to_contain_text(f"《{JIA}》第六条")
    assert "".join(evidence.locator("mark.quote").all_inner_texts()).startswith("外国投资者在开发区投资")  # glossed word by word

    expect(focus).to_contain_text(f"《{JIA}》第六条")  # the answer is complete: it set the focus last
    page.click("#qa-clear-focus")
    expect(focus).not_to_contain_text("Focus")
    ask(page, "第六条呢？")
    expect(last_answer(page)).not_to_contain_text("Read as")
    expect(page.locator("#qa-chatbot")).to_contain_text(f"Read as: 《{JIA}》第六条")  # earlier turns stay
    shot(page, "followup-focus-cleared")


def download(page, button: str, tmp_path: Path) -> Path:
    with page.expect_download() as info:
        page.click(button)
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    return target


def test_downloads_carry_every_quote_verbatim(page, tmp_path):
    evidence = page.locator("#qa-evidence")
    expect(page.locator("#qa-download-conversation-docx")).to_be_disabled()
    ask(page, f"《{JIA}》第二条是怎么规定的？")
    first_quotes = evidence.locator("mark.quote").all_inner_texts()
    ask(page, "那法律责任呢？")
    expect(last_answer(page)).to_contain_text(f"Read as: 《{JIA}》")
    expect(evidence.locator("mark.quote").first).to_be_visible()
    second_quotes = evidence.locator("mark.quote").all_inner_texts()
    assert first_quotes and second_quotes
    shot(page, "export-buttons")

    conversation = download(page, "#qa-download-conversation-docx", tmp_path)
    assert conversation.suffix == ".docx"
    paragraphs = [p.text for p in Document(io.BytesIO(conversation.read_bytes())).paragraphs]
    for quote in first_quotes + second_quotes:
        assert quote in paragraphs, quote
    assert f"Read as: 《{JIA}》" in paragraphs
    markdown = download(page, "#qa-download-conversation-md", tmp_path).read_text(encoding="utf-8")
    assert all(f"> {quote}" in markdown for quote in first_quotes + second_quotes)
    assert markdown.count("\n## ") == 2

    answer = download(page, "#qa-download-answer-docx", tmp_path)  # the newest answer only
    paragraphs = [p.text for p in Document(io.BytesIO(answer.read_bytes())).paragraphs]
    assert all(q in paragraphs for q in second_quotes) and not any(q in paragraphs for q in first_quotes)

    page.locator("#qa-chatbot").get_by_text(f"《{JIA}》第二条", exact=False).first.click()  # pick the first answer
    expect(evidence.locator("mark.quote").first).to_have_text(first_quotes[0])
    page.wait_for_timeout(500)
    picked = download(page, "#qa-download-answer-md", tmp_path).read_text(encoding="utf-8")
    assert all(f"> {q}" in picked for q in first_quotes) and not any(f"> {q}" in picked for q in second_quotes)

    page.get_by_role("button", name="Clear conversation").click()  # a fresh start: nothing to download
    expect(page.locator("#qa-download-conversation-docx")).to_be_disabled()
    expect(page.locator("#qa-focus")).not_to_contain_text("Focus")
