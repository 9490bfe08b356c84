"""The Search tab's filters and the Read tab's version notice in a real browser (Debian chromium
driven by Playwright, never `playwright install`), on the two-version index of versions_corpus.

Screenshots of each new view go to test-artifacts/screenshots/ (git-ignored).
"""
from __future__ import annotations

import os

import pytest

from conftest_browser_helpers import CHROMIUM, CHROMIUM_ARGS, REPO, launch_app
from versions_corpus import LAW, OLD_ID, QUERY, versions_index

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed (apt-get install chromium)"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from qa import Assistant

    assistant = Assistant.open(versions_index(tmp_path_factory))
    demo, url = launch_app(assistant)
    yield url
    demo.close()
    assistant.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(app_url)
    page.get_by_role("tab", name="Search").click()
    page.wait_for_selector("#qa-query textarea")
    yield page
    context.close()
    assert not problems, problems


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(5, 5)
    page.wait_for_timeout(600)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def cards(page) -> list[str]:
    return page.locator("#qa-results .qa-card").all_inner_texts()


def test_region_and_date_filters_narrow_the_search(page):
    results = page.locator("#qa-results")
    page.fill("#qa-query textarea", QUERY)
    page.locator("#qa-filter-region").get_by_label("chongqing").check()
    page.click("#qa-search")
    expect(results).to_contain_text("《重庆市示范园区条例》")
    texts = cards(page)
    assert len(texts) == 6 and all("重庆市示范园区条例" in t for t in texts)  # every passage it has, no other law
    shot(page, "search-filter-region")

    page.locator("#qa-filter-region").get_by_label("chongqing").uncheck()
    page.fill("#qa-filter-as-of input", "2021-01-01")
    page.click("#qa-search")
    expect(results).to_contain_text(f"《{LAW}》(2019年)第二十条")
    assert not any("2024年修正" in t for t in cards(page))
    shot(page, "search-filter-as-of")

    page.fill("#qa-filter-as-of input", "")
    page.locator("#qa-filter-all-versions").get_by_label("All versions").check()
    page.click("#qa-search")
    expect(results).to_contain_text(f"《{LAW}》(2024年修正)第二十条")
    expect(results).to_contain_text(f"《{LAW}》(2019年)第二十条")
    shot(page, "search-filter-all-versions")


def test_law_filter_and_a_filter_that_excludes_everything(page):
    results = page.locator("#qa-results")
    page.fill("#qa-query textarea", QUERY)
    page.get_by_role("combobox", name="Laws (none = all)").click()
    page.get_by_role("option", name=LAW, exact=True).click()
    page.fill("#qa-filter-as-of input", "2001-01-01")
    page.click("#qa-search")
    expect(results).to_contain_text("No document matches these filters")
    shot(page, "search-filter-none")

    page.fill("#qa-filter-as-of input", "2021/01/01")
    page.click("#qa-search")
    expect(results).to_contain_text("as_of '2021/01/01' is not a date")


def test_read_tab_marks_a_superseded_version(page):
    page.get_by_role("tab", name="Read").click()
    page.get_by_role("combobox", name="Document", exact=True).click()
    page.get_by_role("option", name=f"{LAW} — {OLD_ID} (2019年) [superseded]", exact=True).click()
    reader = page.locator("#qa-reader")
    expect(reader.locator(".qa-superseded")).to_contain_text("Superseded version")
    expect(reader.locator(".qa-superseded")).to_contain_text("2024年修正")
    expect(reader).to_contain_text("2019年3月15日")  # the old text still opens
    shot(page, "read-superseded")
