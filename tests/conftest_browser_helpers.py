"""Shared by the web-app and browser tests: a small index built once per session, an assistant on
a copy of it, the app on loopback, chromium pages that fail on page errors, screenshots.

Not a conftest: the test modules import it. The index is built once (bundled corpus plus a tiny
Chinese regulation and a script-injection document) and each module works on its own copy,
because the browser test adds and deletes documents.
"""
from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import pytest

from conftest import index_copy_of

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"  # git-ignored; kept by CI as test artefacts
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
# Every browser test module's pytestmark.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),  # Gradio's queue on pandas 3
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed (apt-get install chromium)"),
]

# A small statute in the shape of the real ones: chapters, articles, an answer per article.
REGULATION_NAME = "示范开发区管理条例.md"
REGULATION = """# 示范开发区管理条例

## 第一章 总则

第一条 为了规范示范开发区的建设和管理，促进经济高质量发展，根据有关法律、行政法规，制定本条例。

第二条 本条例适用于本市行政区域内示范开发区的规划、建设、管理和服务活动。

## 第二章 管理体制

第三条 示范开发区管理机构负责开发区的规划编制、投资促进、企业服务和安全生产监督管理工作。

第四条 市人民政府商务主管部门负责全市示范开发区的综合协调、统计监测和考核评价工作。

## 第三章 附则

第五条 本条例自2025年3月1日起施行。
"""

ENGLISH_NAME = "riverside-free-trade-park-regulations.md"
ENGLISH = """---
title: Riverside Free Trade Park Regulations
kind: regulation
language: en
date: 2024-07-01
source: https://example.org/riverside-regulations
---
# Riverside Free Trade Park Regulations

## Chapter I General Provisions

Article 1 These Regulations are made to govern the construction and management of the Riverside Free Trade Park.

Article 2 These Regulations apply to planning, construction, management and services in the Riverside Free Trade Park.

## Chapter II Management

Article 3 The Park Management Committee is responsible for investment promotion, enterprise services and work safety supervision in the Riverside Free Trade Park.

Article 4 Enterprises in the Park shall file annual statistics with the Park Management Committee before 31 March.
"""

# Every payload sets window.__qa_xss if it ever runs; the test asserts it stays undefined.
INJECTION_NAME = "injection-notice.md"
INJECTION_TITLE = 'Zanzibar notice <img src=x onerror="window.__qa_xss=1">'
INJECTION = f"""---
title: '{INJECTION_TITLE}'
kind: news
date: 2025-02-01
source: "javascript:window.__qa_xss=6"
---
# Zanzibar notice

The Zanzibar clove tariff notice says <script>window.__qa_xss=2</script> tariffs on cloves fall to five percent.

Clove exporters in Zanzibar may also read <img src=x onerror="window.__qa_xss=3"> and [a link](javascript:window.__qa_xss=4) and <b onmouseover="window.__qa_xss=5">bold</b> text.
"""
SCRIPT_TEXT = "<script>window.__qa_xss=2</script>"

UPLOAD_NAME = "uploaded-harbour-rules.md"
UPLOAD = """---
title: Harbour Pilotage Rules
kind: regulation
language: en
---
# Harbour Pilotage Rules

Article 1 Every vessel longer than eighty metres entering the Kestrel harbour shall take a licensed pilot.

Article 2 Pilotage fees are paid to the Kestrel harbour office within ten days.
"""

_built: dict[str, Path] = {}


def write_extra_documents(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in ((REGULATION_NAME, REGULATION), (ENGLISH_NAME, ENGLISH), (INJECTION_NAME, INJECTION)):
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    return paths


def base_index(tmp_path_factory) -> Path:
    """Build the session's index once (≈30 s of embedding), whichever module asks first."""
    if "base" not in _built:
        from qa import Assistant

        root = tmp_path_factory.mktemp("webapp-base")
        assistant = Assistant.open_default(root / "index", show_progress=False)
        report = assistant.add([str(p) for p in write_extra_documents(root / "extra")], show_progress=False)
        assert not report.skipped, report.summary()
        assistant.close()
        _built["base"] = root / "index"
    return _built["base"]


def index_copy(tmp_path_factory, name: str) -> Path:
    return index_copy_of(base_index(tmp_path_factory), tmp_path_factory, name)


@contextmanager
def assistant_on_copy(tmp_path_factory, name: str, documents: Optional[dict[str, str]] = None):
    """An assistant on a fresh copy of the session's index with ``documents`` (file name → text)
    added; closed on exit."""
    from qa import Assistant

    assistant = Assistant.open(index_copy(tmp_path_factory, name))
    try:
        if documents:
            folder = tmp_path_factory.mktemp(f"{name}-docs")
            for file_name, text in documents.items():
                (folder / file_name).write_text(text, encoding="utf-8")
            report = assistant.add([str(folder / file_name) for file_name in documents], show_progress=False)
            assert sorted(report.added) == sorted(documents) and not report.skipped, report.summary()
        yield assistant
    finally:
        assistant.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_app(assistant, app_options: Optional[dict] = None, **kwargs):
    """Launch the real app (``build_app(assistant, **app_options)``) on loopback without blocking;
    returns (demo, url)."""
    from qa.web import build_app, launch

    demo = build_app(assistant, **(app_options or {}))
    port = free_port()
    launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True, **kwargs)
    return demo, f"http://127.0.0.1:{port}/"


@contextmanager
def serving(assistant, app_options: Optional[dict] = None):
    """The warmed-up app on loopback for the ``with`` block; yields its URL, closes the app after."""
    from qa.web import warm_up

    warm_up(assistant)
    demo, url = launch_app(assistant, app_options)
    try:
        yield url
    finally:
        demo.close()


@contextmanager
def chromium():
    """Debian chromium driven by Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, url: str, problems: list[str], timeout_ms: int = 20_000, **context_options):
    """A fresh page (its own context, 1400×1000 unless told) on ``url`` that records every
    JavaScript dialog and page error in ``problems`` (the test asserts it stays empty)."""
    context = browser.new_context(**{"viewport": {"width": 1400, "height": 1000}, **context_options})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(url)
    page.wait_for_selector("#qa-question textarea")
    return page


@contextmanager
def checked_page(browser, url: str, timeout_ms: int = 20_000, **context_options):
    """``new_page`` for a ``with`` block that then closes the page and fails on any JavaScript
    dialog or page error it saw."""
    problems: list[str] = []
    page = new_page(browser, url, problems, timeout_ms, **context_options)
    yield page
    page.context.close()
    assert not problems, problems


def screenshot(page, name: str, full_page: bool = True) -> None:
    """Keep a picture of the current view as a test artefact (test-artifacts/screenshots/NAME.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(5, 5)
    page.wait_for_timeout(600)  # let fades and dropdown transitions finish
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
