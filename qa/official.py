"""The official text of 《重庆市开发区条例》, one step away: fetched from its publisher and indexed.

The bundled corpus holds our summary, not the regulation. With a network, ``qa index add
--official`` (and the app's "Fetch the official text") downloads the announcement page, keeps
the regulation's own text (the announcement, 第一章 … 第八章, 第一条 …) without the site around
it, and indexes it as the regulation itself, with its dates. Without one, the error says so in
one line and how to add a saved copy by hand.

Facts (title, announcement, dates) are from shared/reference (the regulation's facts sheet).
Only the Chongqing Daily page is listed: the Chongqing People's Congress site (cqrd.gov.cn)
carries the text too, but we know no stable address of it there, and do not invent one.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from lxml import html as lxml_html

from .fetching import FetchError, fetch
from .legal import parse_articles
from .loaders import MAX_URL_BYTES, URL_TIMEOUT_S, _decode
from .text import normalize


@dataclass(frozen=True)
class OfficialText:
    title: str
    urls: tuple[str, ...]
    announcement: str
    adopted: str
    in_force: str
    file_name: str


CHONGQING_DEVELOPMENT_ZONES = OfficialText(
    title="重庆市开发区条例",
    urls=("https://cqrb.cn/rendazhichuang/2025-01-22/2158864_pc.html",),
    announcement="重庆市人民代表大会公告〔六届〕第15号",
    adopted="2025-01-22",
    in_force="2025-03-01",
    file_name="重庆市开发区条例.md",
)

_CHAPTER_ONE = re.compile(r"^第一章(\s|$)")
_ARTICLE_ONE = re.compile(r"^第一条(\s|$)")
_SENTENCE_END = ("。", "；", "：", "”")
_BLOCKS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article")


class OfficialTextError(ValueError):
    """The official text could not be fetched or found on the page; the message says what to do."""


def page_lines(page: str) -> list[str]:
    """The visible lines of an HTML page (scripts, styles and navigation dropped)."""
    tree = lxml_html.fromstring(page)
    for bad in tree.xpath("//script|//style|//noscript|//nav|//header|//footer"):
        bad.drop_tree()
    for block in tree.iter(*_BLOCKS):
        block.tail = "\n" + (block.tail or "")
        if block.tag != "br":
            block.text = "\n" + (block.text or "")
    text = normalize(tree.text_content())
    return [line.strip() for line in text.split("\n") if line.strip()]


def extract_regulation(page: str, official: OfficialText = CHONGQING_DEVELOPMENT_ZONES) -> str:
    """The regulation's own text on its publication page: the announcement above it, its chapters
    and articles, nothing of the site around it. Raises OfficialTextError when the page holds none."""
    lines = page_lines(page)
    first = next((i for i, l in enumerate(lines) if _CHAPTER_ONE.match(l)), None)
    if first is None:
        first = next((i for i, l in enumerate(lines) if _ARTICLE_ONE.match(l)), None)
    if first is None:
        raise OfficialTextError(f"the page has no 第一章 or 第一条: it does not hold the text of 《{official.title}》")
    start = first
    for i in range(first - 1, max(-1, first - 12), -1):  # the announcement and title above chapter one
        if "公告" in lines[i] or official.title in lines[i]:
            start = i
    body = lines[start:]
    last_article = max(i for i, l in enumerate(body) if re.match(r"^第[一二三四五六七八九十百]+条", l))
    end = last_article + 1
    while end < len(body) and body[end].endswith(_SENTENCE_END) and not _looks_like_chrome(body[end]):
        end += 1  # the last article's further paragraphs and items
    text = "\n\n".join(body[:end])
    if len(parse_articles(text)) < 2:
        raise OfficialTextError(f"the page does not hold the articles of 《{official.title}》")
    return text


def _looks_like_chrome(line: str) -> bool:
    return bool(re.search(r"责任编辑|编辑：|来源：|版权|Copyright|©|ICP", line))


def _offline_message(official: OfficialText, why: str) -> str:
    return (f"could not fetch the official text of 《{official.title}》 ({why}); if this machine has no network, save the page "
            f"{official.urls[0]} (or the text from cqrd.gov.cn) on another machine and add the file by hand: "
            f"qa index add path/to/{official.title}.html")


def fetch_official_text(official: OfficialText = CHONGQING_DEVELOPMENT_ZONES,
                        urls: Optional[Sequence[str]] = None, allow_private: Optional[bool] = None,
                        timeout: float = URL_TIMEOUT_S) -> tuple[str, str]:
    """(regulation text, the URL it came from): the first listed page that answers and holds it."""
    problems = []
    for url in urls or official.urls:
        try:
            fetched = fetch(url, timeout, MAX_URL_BYTES, allow_private)
            return extract_regulation(_decode(fetched.data, url), official), fetched.url
        except (FetchError, OfficialTextError) as exc:
            problems.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - an unreadable page is one more failed source
            problems.append(f"{url}: unreadable page ({exc.__class__.__name__})")
    raise OfficialTextError(_offline_message(official, "; ".join(problems)))


def official_markdown(text: str, source: str, official: OfficialText = CHONGQING_DEVELOPMENT_ZONES) -> str:
    """The fetched text as a document the loaders read: title, kind, dates and source up front."""
    return (f"---\ntitle: {official.title}\nkind: regulation\nlanguage: zh\ndate: '{official.adopted}'\n"
            f"source: '{source}'\n---\n# {official.title}\n\n{text}\n")


def add_official_text(assistant, official: OfficialText = CHONGQING_DEVELOPMENT_ZONES,
                      urls: Optional[Sequence[str]] = None, allow_private: Optional[bool] = None,
                      show_progress: bool = False, progress=None):
    """Fetch, extract and index the official text; returns the BuildReport. Our summaries stay as they
    are: separate documents, labelled "summary, not the official text"."""
    text, source = fetch_official_text(official, urls, allow_private)
    with tempfile.TemporaryDirectory(prefix="qa-official-") as tmp:
        path = Path(tmp) / official.file_name
        path.write_text(official_markdown(text, source, official), encoding="utf-8")
        return assistant.add([str(path)], show_progress=show_progress, progress=progress)


def official_summary(report, official: OfficialText = CHONGQING_DEVELOPMENT_ZONES) -> str:
    return (f"{report.summary()} — 《{official.title}》, the official text ({official.announcement}; adopted "
            f"{official.adopted}, in force {official.in_force}); the bundled overviews remain our summary, "
            "not the official text")
