"""The official text one step away: fetched over HTTP on loopback from a page of the publisher's shape.

The page is ours: site chrome around a few invented articles (no statute text is copied).
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from qa import Assistant
from qa.cli import cli
from qa.official import CHONGQING_DEVELOPMENT_ZONES, OfficialTextError, extract_regulation

# Site chrome (menus, breadcrumbs, an editor line, related links, footer) around an announcement,
# the title and two chapters of invented articles, like a newspaper's publication page.
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>示例日报 - 人大之窗</title>
<script>var tracker = "第九十九条 不是正文";</script></head><body>
<header><a href="/">首页</a> <a href="/news">新闻</a> <a href="/rd">人大之窗</a></header>
<nav><ul><li>要闻</li><li>第一章 导航里的假标题</li></ul></nav>
<div class="crumb">当前位置：首页 &gt; 人大之窗</div>
<div class="article">
<h1>重庆市开发区条例</h1>
<p>示例人民代表大会公告〔测〕第1号</p>
<p>《重庆市开发区条例》已于示例会议通过，现予公布，自示例日期起施行。</p>
<p>重庆市开发区条例</p>
<p>第一章　总则</p>
<p>第一条　为了测试抓取，制定本条例。</p>
<p>第二条　本条例适用于示例园区。<br>示例园区另有规定的，从其规定。</p>
<p>第二章　附则</p>
<p>第三条　违反本条例第二条第一款规定的，由示例部门责令改正。</p>
<p>第四条　本条例自示例日期起施行。</p>
<p>责任编辑：示例编辑</p>
</div>
<div class="related"><p>相关新闻：示例新闻标题一则</p></div>
<footer><p>版权所有 示例日报 ICP备00000000号</p></footer>
</body></html>"""


def test_extracts_the_regulation_and_nothing_of_the_site():
    text = extract_regulation(PAGE)
    assert text.startswith("重庆市开发区条例\n\n示例人民代表大会公告〔测〕第1号")
    assert "第一章" in text and text.rstrip().endswith("第四条 本条例自示例日期起施行。")
    assert "示例园区另有规定的，从其规定。" in text
    for chrome in ("首页", "导航", "当前位置", "责任编辑", "相关新闻", "版权所有", "第九十九条"):
        assert chrome not in text


def test_a_page_without_the_regulation_is_named():
    with pytest.raises(OfficialTextError, match="has no 第一章 or 第一条"):
        extract_regulation("<html><body><p>页面已删除</p></body></html>")


@pytest.fixture()
def official_page(http_server):
    http_server.routes["/rendazhichuang/official.html"] = {"body": PAGE.encode("utf-8")}
    return http_server.url("/rendazhichuang/official.html")


def test_cli_adds_the_official_text_as_the_regulation_with_its_dates(official_page, repo_index, tmp_path):
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(repo_index, index_dir)
    result = CliRunner().invoke(cli, ["index", "add", "--official", "--official-url", official_page,
                                       "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "the official text" in result.output and "in force 2025-03-01" in result.output
    with Assistant.open(index_dir) as assistant:
        docs = {d["id"]: d for d in assistant.documents()}
        official = docs[CHONGQING_DEVELOPMENT_ZONES.file_name]
        assert (official["title"], official["kind"], official["date"], official["source"]) == (
            "重庆市开发区条例", "regulation", "2025-01-22", official_page)
        summaries = [d for d in docs.values() if "summary" in d["title"] or "摘要" in d["title"]]
        assert len(summaries) == 2 and all(d["kind"] == "other" for d in summaries)  # still labelled summaries
        articles = [p.article for p in assistant.document(CHONGQING_DEVELOPMENT_ZONES.file_name)]
        assert articles[-4:] == ["第一条", "第二条", "第三条", "第四条"]
        overview = next(d for d in docs if d.endswith("overview-en.md"))  # our summary's "Article 1 states …"
        found = assistant.references(assistant.document(overview))
        first = next(r for rs in found.values() for r in rs if r.text == "Article 1")
        assert (first.resolved, first.doc, first.article) == (True, CHONGQING_DEVELOPMENT_ZONES.file_name, "第一条")
        third = assistant.article(CHONGQING_DEVELOPMENT_ZONES.file_name, "第三条")
        (ref,) = assistant.references(third)[third[0].id]
        assert ref.resolved and ref.target == "《重庆市开发区条例》第二条第一款"


def test_without_a_network_one_line_says_how_to_add_the_file_by_hand(repo_index, tmp_path):
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(repo_index, index_dir)
    result = CliRunner().invoke(cli, ["index", "add", "--official", "--official-url",
                                       "http://qa-no-network.invalid/page.html", "--index", str(index_dir)])
    assert result.exit_code == 1
    line = result.output.strip()
    assert "\n" not in line and line.startswith("Error: could not fetch the official text of 《重庆市开发区条例》")
    assert "qa index add path/to/重庆市开发区条例.html" in line


def test_loopback_is_refused_unless_allowed(loopback_server, repo_index, tmp_path, monkeypatch):
    monkeypatch.delenv("QA_ALLOW_PRIVATE_URLS", raising=False)
    loopback_server.routes["/rendazhichuang/official.html"] = {"body": PAGE.encode("utf-8")}
    with Assistant.open(repo_index) as assistant, pytest.raises(OfficialTextError, match="refused"):
        assistant.add_official(urls=[loopback_server.url("/rendazhichuang/official.html")])
