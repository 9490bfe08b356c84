"""Versions of one law and search filters, end to end: a real index of two versions of the
外商投资法 (one edited copy, never committed) and two small invented regulations, searched
through the Python API, the CLI, the app's handlers and the HTTP API on loopback."""
from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from versions_corpus import (CQ_ID, LAW, NEW_ID, NEW_MARK, OLD_ID, QUERY, SD_ID, versions_index,
                             versions_index_copy)

ALL_IDS = {OLD_ID, NEW_ID, CQ_ID, SD_ID}


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    from qa import Assistant

    with Assistant.open(versions_index(tmp_path_factory)) as a:
        yield a


def docs_of(hits) -> set[str]:
    return {h.doc for h in hits}


def test_each_document_records_its_dates_region_and_status(assistant):
    docs = {d["id"]: d for d in assistant.documents()}
    old, new = docs[OLD_ID], docs[NEW_ID]
    assert (old["promulgated"], old["amended"], old["in_force_from"]) == ("2019-03-15", None, "2020-01-01")
    assert (new["amended"], new["in_force_from"], new["version_label"]) == ("2024-06-28", "2024-06-28", "2024年修正")
    assert (old["status"], new["status"]) == ("superseded", "in force")
    assert {d["id"]: d["region"] for d in docs.values()} == {
        OLD_ID: "national", NEW_ID: "national", CQ_ID: "chongqing", SD_ID: "other"}


def test_search_uses_the_version_in_force_today_and_names_it(assistant):
    hits = assistant.search(QUERY, k=10)
    assert OLD_ID not in docs_of(hits)
    top = hits[0]
    assert top.doc == NEW_ID and top.passage.article == "第二十条" and NEW_MARK in top.passage.text
    assert top.citation == f"《{LAW}》(2024年修正)第二十条"
    assert top.to_dict()["version"] == "2024年修正"


def test_as_of_picks_the_earlier_version(assistant):
    hits = assistant.search(QUERY, k=10, as_of="2021-01-01")
    assert NEW_ID not in docs_of(hits)
    top = hits[0]
    assert top.doc == OLD_ID and NEW_MARK not in top.passage.text
    assert top.citation == f"《{LAW}》(2019年)第二十条"


def test_all_versions_searches_both(assistant):
    hits = assistant.search(QUERY, k=10, as_of="all")
    assert {OLD_ID, NEW_ID} <= docs_of(hits)
    assert {h.citation for h in hits[:2]} == {f"《{LAW}》(2024年修正)第二十条", f"《{LAW}》(2019年)第二十条"}


def test_ask_quotes_the_version_asked_for(assistant):
    today = assistant.ask("外国投资者的投资被征收时如何补偿？")
    before = assistant.ask("外国投资者的投资被征收时如何补偿？", as_of="2021-01-01")
    assert today.citations and before.citations
    assert all(c.hit.doc == NEW_ID for c in today.citations)
    assert all(c.hit.doc == OLD_ID for c in before.citations)
    assert "(2024年修正)" in today.text and "(2019年)" in before.text
    for answer in (today, before):
        for c in answer.citations:
            assert all(q in c.hit.passage.text for q in c.quotes)  # verbatim, from that version


def test_a_version_named_by_id_is_searched_even_when_superseded(assistant):
    hits = assistant.search(QUERY, k=3, docs=[OLD_ID])
    assert docs_of(hits) == {OLD_ID}


def test_filters_are_applied_inside_retrieval_and_still_fill_k(assistant):
    # The query is about the national law; a region filter must still return k Chongqing passages.
    chongqing = assistant.search(QUERY, k=5, regions=["chongqing"])
    assert len(chongqing) == 5 and docs_of(chongqing) == {CQ_ID}
    other = assistant.search(QUERY, k=4, regions="other")
    assert len(other) == 4 and docs_of(other) == {SD_ID}
    both = assistant.search(QUERY, k=10, regions=["chongqing", "other"])
    assert len(both) == 10 and docs_of(both) == {CQ_ID, SD_ID}
    national = assistant.search(QUERY, k=30, regions=["national"])
    assert len(national) == 30 and docs_of(national) == {NEW_ID}
    by_law = assistant.search(QUERY, k=20, laws=["外商投资法"], as_of="all")  # short title, both versions
    assert len(by_law) == 20 and docs_of(by_law) == {OLD_ID, NEW_ID}


def test_filters_that_leave_nothing_say_so(assistant):
    with pytest.raises(ValueError, match=r"no document matches these filters \(laws=外商投资法; as_of=2019-06-01\)"):
        assistant.search(QUERY, laws=["外商投资法"], as_of="2019-06-01")
    with pytest.raises(ValueError, match="no document matches these filters"):
        assistant.ask(QUERY, regions=["chongqing"], laws=["外商投资法"])
    with pytest.raises(ValueError, match=r"no document matches these filters \(kinds=news\)"):
        assistant.search(QUERY, kinds=["news"])  # none indexed here
    with pytest.raises(ValueError, match="region 'mars' is not one of"):
        assistant.search(QUERY, regions=["mars"])


def test_read_tab_marks_a_superseded_version(assistant):
    from qa.web.handlers import document_choices, read_html

    old = read_html(assistant, OLD_ID)
    assert "Superseded version" in old and "2024年修正" in old and "in force from 2024-06-28" in old
    new = read_html(assistant, NEW_ID)
    assert "Superseded" not in new and "2024年修正" in new
    labels = dict((v, k) for k, v in document_choices(assistant))
    assert labels[OLD_ID].endswith("(2019年) [superseded]") and "[superseded]" not in labels[NEW_ID]


def test_search_tab_handler_filters_and_reports_bad_values(assistant):
    from qa.web.handlers import search

    html = search(assistant, QUERY, 3, regions=["chongqing"])
    assert "重庆市示范园区条例" in html and "外商投资法" not in html
    html = search(assistant, QUERY, 3, as_of="2021-01-01")
    assert "(2019年)第二十条" in html and "2024年修正" not in html
    assert "is not a date" in search(assistant, QUERY, 3, as_of="yesterday")
    assert "No document matches these filters (laws=外商投资法; as_of=2019-01-01)" in search(
        assistant, QUERY, 3, laws=["外商投资法"], as_of="2019-01-01")


def test_index_built_before_dates_is_migrated(tmp_path_factory):
    """An index whose documents table lacks the new columns reads as unknown, and the next change
    fills them from the stored passages."""
    from qa import Assistant
    from qa.index import current_generation

    index = versions_index_copy(tmp_path_factory, "versions-old")
    db = current_generation(index) / "passages.sqlite"
    with sqlite3.connect(db) as con:
        for column in ("promulgated", "amended", "in_force_from", "region", "version_label"):
            con.execute(f"ALTER TABLE documents DROP COLUMN {column}")
    with Assistant.open(index) as old:
        assert {d["region"] for d in old.documents()} == {None}
        assert len(old.search(QUERY, k=10, as_of="all")) == 10  # unknown dates exclude nothing
        with pytest.raises(ValueError, match="no document matches these filters"):
            old.search(QUERY, regions=["national"])
        old.remove([SD_ID])  # any change migrates
        docs = {d["id"]: d for d in old.documents()}
    assert docs[NEW_ID]["in_force_from"] == "2024-06-28" and docs[OLD_ID]["status"] == "superseded"
    assert docs[CQ_ID]["region"] == "chongqing"


# ---------------------------------------------------------------- CLI


def run_cli(*args):
    from qa.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_filters(tmp_path_factory):
    index = str(versions_index(tmp_path_factory))
    result = run_cli("search", QUERY, "-k", "5", "--index", index, "--region", "chongqing", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 5 and {h["doc"] for h in hits} == {CQ_ID}
    result = run_cli("search", QUERY, "-k", "2", "--index", index, "--law", LAW, "--as-of", "2021-01-01")
    assert result.exit_code == 0 and f"《{LAW}》(2019年)第二十条" in result.output
    result = run_cli("ask", "外国投资者的投资被征收时如何补偿？", "--index", index, "--json")
    assert json.loads(result.output)["citations"][0]["citation"] == f"《{LAW}》(2024年修正)第二十条"
    result = run_cli("ask", QUERY, "--index", index, "--doc", OLD_ID, "--json")
    assert {c["doc"] for c in json.loads(result.output)["citations"]} == {OLD_ID}
    info = run_cli("index", "info", "--index", index, "--documents")
    assert "in force from 2024-06-28\t2024年修正\tin force" in info.output and "superseded" in info.output


@pytest.mark.parametrize("args, code, message", [
    (("--as-of", "2021-02-30"), 1, "Error: as_of '2021-02-30' is not a date: use YYYY-MM-DD"),
    (("--region", "mars"), 2, "'mars' is not one of 'chongqing', 'national', 'other'"),
    (("--law", "不存在法"), 1, "Error: no document matches these filters (laws=不存在法)"),
])
def test_cli_bad_filters_are_one_clear_line(tmp_path_factory, args, code, message):
    result = run_cli("search", QUERY, "--index", str(versions_index(tmp_path_factory)), *args)
    assert result.exit_code == code and message in result.output


# ---------------------------------------------------------------- HTTP API on loopback


@pytest.fixture(scope="module")
def client(assistant):
    pytest.importorskip("gradio_client")
    from gradio_client import Client

    from conftest_browser_helpers import launch_app

    demo, url = launch_app(assistant)
    yield Client(url, verbose=False)
    demo.close()


def test_http_search_and_ask_take_filters(client):
    hits = client.predict(QUERY, 4, "", "", "", "chongqing,other", "", api_name="/search")
    assert len(hits) == 4 and {h["doc"] for h in hits} <= {CQ_ID, SD_ID}
    hits = client.predict(QUERY, 3, "外商投资法", "", "", "", "2021-01-01", api_name="/search")
    assert hits[0]["citation"] == f"《{LAW}》(2019年)第二十条" and {h["doc"] for h in hits} == {OLD_ID}
    everything = client.predict(QUERY, 10, "", "", "", "", "all", api_name="/search")
    assert {OLD_ID, NEW_ID} <= {h["doc"] for h in everything}
    answer = client.predict(question="外国投资者的投资被征收时如何补偿？", region="national", api_name="/ask")
    assert answer["citations"][0]["citation"] == f"《{LAW}》(2024年修正)第二十条"
    assert client.predict(QUERY, api_name="/search")[0]["doc"] == NEW_ID  # filters are optional


@pytest.mark.parametrize("kwargs, message", [
    ({"region": "mars"}, "region 'mars' is not one of chongqing, national, other"),
    ({"as_of": "2021/01/01"}, "as_of '2021/01/01' is not a date"),
    ({"law": "外商投资法", "as_of": "2001-01-01"}, "no document matches these filters"),
])
def test_http_bad_filters_are_clear_errors(client, kwargs, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(query=QUERY, api_name="/search", **kwargs)
    with pytest.raises(AppError, match=message):
        client.predict(question=QUERY, api_name="/ask", **kwargs)
