"""The app's rough edges (issue 13, part 6), each checked in a real browser.

Debian chromium driven by Playwright against the launched app, as in test_browser.py. Every
test keeps a screenshot of the view it checks in test-artifacts/screenshots/ (ui-*.png).
"""
from __future__ import annotations

import time
import uuid

import pytest

from conftest_browser_helpers import BROWSER_MARKS, ENGLISH_NAME, assistant_on_copy, checked_page, new_page, screenshot, serving

pytestmark = BROWSER_MARKS
playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect

VIEWPORT_WIDTH = 1400
LONG_LINE = "长" * 3000 + "x" * 3000  # 6,000 characters without a space or any break opportunity
NOTES_NAME = "markdown-notes.md"
NOTES = f"""---
title: Lighthouse Dues Notes
kind: other
language: zh
---
# Lighthouse Dues Notes

**说明：** 灯塔费由港务局按季度征收，船长应当在进港时申报。

- 第一项：灯塔费按船舶净吨位计算。
- 第二项：灯塔费逾期缴纳的，按日加收滞纳金。

Lighthouse manifest code {LONG_LINE}
"""
FEES_NAME = "pilotage-fees.md"  # uploaded again by the test of replacing
FEES = "---\ntitle: Pilotage Fees\n---\n引航费由引航站按次收取。\n"
# Visible Gradio progress trackers: a status tracker showing a progress text or bar.
VISIBLE_PROGRESS = """() => [...document.querySelectorAll('[data-testid=status-tracker]')]
    .filter(e => !e.classList.contains('hide') && e.getBoundingClientRect().height > 0
                 && /steps|%/.test(e.innerText))
    .map(e => e.innerText.replace(/\\s+/g, ' ').trim())"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app over its own index copy, with a Markdown document holding a 6,000-character line."""
    documents = {NOTES_NAME: NOTES, FEES_NAME: FEES}
    with assistant_on_copy(tmp_path_factory, "browser-ui", documents) as assistant, serving(assistant) as url:
        yield url


@pytest.fixture
def page(browser, app):
    with checked_page(browser, app, viewport={"width": VIEWPORT_WIDTH, "height": 1000}) as page:
        yield page


def documents_tab(page):
    page.get_by_role("tab", name="Documents").click()
    return page.locator("#qa-status"), page.locator("#qa-table")


def law(path, articles: int) -> None:
    """A Chinese statute of ``articles`` one-passage articles, with words never embedded before
    (no cache hit), so that indexing it takes a few seconds."""
    from qa.numerals import article_label

    salt = uuid.uuid4().hex[:8]
    body = "\n\n".join(f"{article_label(n)} 港口经营人办理第{n}号登记（{salt}）时，应当向港口管理机构报告船舶的航行计划、"
                       "货物种类和船员名单，并接受安全检查。" for n in range(1, articles + 1))
    path.write_text(f"# 测试港口管理条例\n\n{body}\n", encoding="utf-8")


def test_upload_shows_one_progress_bar_with_the_current_stage(page, tmp_path):
    status, table = documents_tab(page)
    law(tmp_path / "harbour-law.md", 70)
    page.set_input_files("#qa-upload input[type=file]", str(tmp_path / "harbour-law.md"))
    page.click("#qa-add")
    seen: list[list[str]] = []
    deadline = time.monotonic() + 120
    while "Indexed 1 document(s)" not in status.inner_text():
        assert time.monotonic() < deadline, "the upload did not finish"
        bars = page.evaluate(VISIBLE_PROGRESS)
        if bars:
            seen.append(bars)
            if len(seen) == 3:
                screenshot(page, "ui-upload-progress")
        page.wait_for_timeout(150)
    assert seen, "no progress was shown"
    assert max(len(bars) for bars in seen) == 1, seen  # one bar, not one per refreshed component
    stages = [bars[0] for bars in seen]
    embedding = [s for s in stages if "embedding" in s]
    assert embedding, stages
    # While embedding runs, the bar names it (never a finished "chunking 100%").
    first = stages.index(embedding[0])
    assert not any("chunking" in s for s in stages[first:]), stages
    expect(table).to_contain_text("harbour-law.md")


def test_delete_asks_first_and_names_a_bundled_document(page):
    status, table = documents_tab(page)
    bundled = "news/ichongqing-2025-02-26-development-zone-regulations.md"
    page.get_by_role("combobox", name="Document to delete", exact=True).click()
    page.get_by_role("option", name=bundled, exact=False).click()
    page.click("#qa-delete")
    question = page.locator("#qa-delete-question")
    expect(question).to_contain_text("Chongqing Development Zone Regulations to Take Effect")
    expect(question).to_contain_text("bundled with the app")
    expect(table).to_contain_text(bundled)  # nothing is deleted yet
    screenshot(page, "ui-delete-confirm")
    page.click("#qa-delete-cancel")
    expect(status).to_contain_text("Nothing was deleted")
    expect(page.locator("#qa-delete-confirm")).to_be_hidden()
    expect(table).to_contain_text(bundled)

    page.get_by_role("combobox", name="Document to delete", exact=True).click()
    page.get_by_role("option", name=ENGLISH_NAME, exact=False).click()
    page.click("#qa-delete")
    expect(page.locator("#qa-delete-question")).to_contain_text("Riverside Free Trade Park Regulations")
    page.click("#qa-delete-yes")
    expect(status).to_contain_text(f"Deleted {ENGLISH_NAME}")
    expect(table).not_to_contain_text(ENGLISH_NAME)
    expect(table).to_contain_text(bundled)


def test_uploading_a_file_named_like_an_indexed_document_asks_first(page, tmp_path):
    status, table = documents_tab(page)
    upload = tmp_path / FEES_NAME
    upload.write_text("---\ntitle: Pilotage Fees, revised\n---\n引航费自2026年起按月结算。\n", encoding="utf-8")

    page.set_input_files("#qa-upload input[type=file]", str(upload))
    page.click("#qa-add")
    question = page.locator("#qa-replace-question")
    expect(question).to_contain_text("Already indexed")
    expect(question).to_contain_text(f"{FEES_NAME}: Pilotage Fees")
    screenshot(page, "ui-replace-confirm")
    page.click("#qa-replace-cancel")
    expect(status).to_contain_text("Upload cancelled")
    expect(table).not_to_contain_text("revised")

    page.set_input_files("#qa-upload input[type=file]", str(upload))
    page.click("#qa-add")
    page.click("#qa-replace-keep-both")
    expect(status).to_contain_text("Indexed 1 document(s)")
    expect(table).to_contain_text("pilotage-fees (2).md")  # both are kept, the upload under a new name
    expect(table).to_contain_text("Pilotage Fees, revised")
    expect(table).to_contain_text(FEES_NAME)

    page.set_input_files("#qa-upload input[type=file]", str(upload))
    page.click("#qa-add")
    page.click("#qa-replace-replace")
    expect(status).to_contain_text("Indexed 1 document(s), 1 passages")
    expect(status).to_contain_text(f"): {FEES_NAME}")  # this upload's status, not the one before
    listed = table.inner_text()
    # Replaced in place: one row of that name, and no row with the old title is left.
    assert listed.count(FEES_NAME) == 1, listed
    assert listed.count("Pilotage Fees") == listed.count("Pilotage Fees, revised") == 2, listed


def test_chat_toolbar_never_covers_the_latest_question(page):
    question = "开发区管理机构的职责是什么？" * 6  # wide enough to reach under the toolbar
    for _ in range(3):  # enough turns that the conversation scrolls
        page.fill("#qa-question textarea", question)
        page.click("#qa-ask")
        page.wait_for_function("n => document.querySelectorAll('#qa-chatbot .bot-row').length >= n", arg=_ + 1)
    page.wait_for_timeout(800)  # autoscroll settles
    chat = page.locator("#qa-chatbot")
    toolbar = chat.locator(".top-panel").bounding_box()
    messages = chat.locator(".bubble-wrap").bounding_box()
    latest = chat.locator(".user-row").last.bounding_box()
    assert toolbar and messages and latest
    assert toolbar["y"] + toolbar["height"] <= messages["y"] + 1, (toolbar, messages)  # above the scroll area
    overlap = (toolbar["x"] < latest["x"] + latest["width"] and latest["x"] < toolbar["x"] + toolbar["width"]
               and toolbar["y"] < latest["y"] + latest["height"] and latest["y"] < toolbar["y"] + toolbar["height"])
    assert not overlap, (toolbar, latest)
    assert chat.get_by_label("Share").count() == 0  # no "share to Hugging Face" in an offline app
    screenshot(page, "ui-chat-toolbar", full_page=False)


def test_search_results_wrap_long_lines_and_render_markdown(page):
    page.get_by_role("tab", name="Search").click()
    page.fill("#qa-query textarea", "灯塔费 按季度征收 Lighthouse manifest code")
    page.click("#qa-search")
    results = page.locator("#qa-results")
    expect(results).to_contain_text("Lighthouse Dues Notes")
    widths = page.evaluate("""() => ({page: document.documentElement.scrollWidth,
                                     results: document.querySelector('#qa-results').scrollWidth})""")
    assert widths["page"] <= VIEWPORT_WIDTH and widths["results"] <= VIEWPORT_WIDTH, widths
    text = results.inner_text()
    assert "**" not in text and "\n- " not in text, text[:400]
    expect(results.locator("strong", has_text="说明：").first).to_be_visible()
    expect(results).to_contain_text("• 第一项：灯塔费按船舶净吨位计算。")
    screenshot(page, "ui-search-markdown")


def test_the_interface_follows_a_chinese_browser_and_can_be_switched(browser, app):
    problems: list[str] = []
    page = new_page(browser, app, problems, locale="zh-CN")
    chat, evidence = page.locator("#qa-chatbot"), page.locator("#qa-evidence")
    expect(page.get_by_role("tab", name="问答")).to_be_visible()
    expect(page.get_by_role("radio", name="中文")).to_be_checked()
    expect(page.locator("#qa-ask")).to_have_text("提问")
    expect(evidence).to_contain_text("每个回答所引用的段落显示在这里")
    page.fill("#qa-question textarea", "示范开发区管理机构负责哪些工作？")
    page.click("#qa-ask")
    expect(evidence).to_contain_text("引用条文")
    expect(chat.locator(".bot-row").last).to_contain_text("来源")
    expect(evidence).to_contain_text("置信度")
    screenshot(page, "ui-chinese-chat")
    page.get_by_role("tab", name="文件").click()
    expect(page.locator("#qa-table")).to_contain_text("段落数")
    expect(page.locator("#qa-summary")).to_contain_text("个文件")
    expect(page.locator("#qa-delete")).to_have_text("删除文件")
    screenshot(page, "ui-chinese-documents")

    page.get_by_role("radio", name="English").check()  # switched: every label, the table too
    expect(page.get_by_role("tab", name="Documents")).to_be_visible()
    expect(page.locator("#qa-delete")).to_have_text("Delete document")
    expect(page.locator("#qa-table")).to_contain_text("passages")
    expect(page.locator("#qa-summary")).to_contain_text("documents ·")
    page.get_by_role("tab", name="Chat").click()
    page.fill("#qa-question textarea", "示范开发区管理机构负责哪些工作？")
    page.click("#qa-ask")
    expect(evidence).to_contain_text("Cited provisions")
    expect(chat.locator(".bot-row").last).to_contain_text("Sources")
    expect(page.locator("#qa-ask")).to_have_text("Ask")
    screenshot(page, "ui-switched-to-english")

    page.reload()  # the choice is kept in the browser
    page.wait_for_selector("#qa-question textarea")
    expect(page.get_by_role("radio", name="English")).to_be_checked()
    expect(page.get_by_role("tab", name="Chat")).to_be_visible()
    page.context.close()
    assert not problems, problems


def test_an_english_browser_gets_english(page):
    expect(page.get_by_role("radio", name="English")).to_be_checked()
    expect(page.get_by_role("tab", name="Search")).to_be_visible()
    expect(page.locator("#qa-evidence")).to_contain_text("The cited passages of each answer appear here.")
