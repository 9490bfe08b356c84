"""A pasted statute sentence finds its source first (issue 11): probes sampled from the index itself."""
from __future__ import annotations

from qa.probes import found_first, sample_probes
from qa.query import verbatim_fragments


def test_pasted_runs_are_found_in_a_question():
    question = "这句话出自哪里：“经国务院规定的部门或者国务院规定的地方人民政府批准，可以设立”"
    assert verbatim_fragments(question) == ["经国务院规定的部门或者国务院规定的地方人民政府批准，可以设立",
                                            "经国务院规定的部门或者国务院规定的地方人民政府批准"]
    # a clause keeps its commas and brackets; its pieces are tried too
    assert verbatim_fragments("其他人员，由区县（自治县）人民政府给予误工补贴。") == [
        "其他人员，由区县（自治县）人民政府给予误工补贴", "人民政府给予误工补贴"]
    assert verbatim_fragments("外资企业有哪些优惠？") == []  # a short question has no long run
    long_english = "the regulations aim to innovate the industrial land supply model"
    assert verbatim_fragments(f'Where is "{long_english}" from?') == [long_english]


def test_every_sampled_sentence_of_the_slice_finds_its_source_first(slice_assistant):
    passages = [p for doc in slice_assistant.documents() for p in slice_assistant.document(doc["id"])]
    probes = sample_probes(passages, 60, seed=11)
    assert len(probes) == 60
    misses = [(p.question, p.source, hits[0].citation if hits else None)
              for p in probes for hits in [slice_assistant.search(p.question, 1)]
              if not found_first(p, hits[0].passage if hits else None)]
    assert not misses, misses


def test_a_pasted_sentence_respects_filters(slice_assistant):
    passages = [p for p in slice_assistant.document(slice_assistant.documents()[0]["id"]) if p.article]
    probe = sample_probes(passages, 1, seed=3)[0]
    other_docs = [d["id"] for d in slice_assistant.documents()[1:]]
    hits = slice_assistant.search(probe.question, 3, docs=other_docs)
    assert hits and all(h.doc in other_docs for h in hits)


def test_a_pasted_clause_is_answered_from_its_source_without_doubt(repo_assistant):
    """A clause copied out of a longer sentence looks only half as similar as the whole sentence; the
    verbatim match, not the similarity, makes the answer certain."""
    import random
    import re

    passages = [p for doc in repo_assistant.documents() for p in repo_assistant.document(doc["id"])
                if p.language == "zh"]
    clauses = sorted({c for p in passages for c in re.split(r"[，。；：、“”《》（）]", p.text)
                      if 12 <= len(c) <= 20 and re.fullmatch(r"[\u4e00-\u9fff]+", c)})
    picked = random.Random(7).sample(clauses, 8)
    for clause in picked:
        answer = repo_assistant.ask(clause)
        assert answer.state == "answered" and answer.confidence == 1.0, (clause, answer.state, answer.confidence)
        assert clause in answer.citations[0].hit.passage.text, (clause, answer.citations[0].hit.citation)
