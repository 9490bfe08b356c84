"""Time to first answer and /ask latency of the web app, measured from the outside.

Starts ``python app.py --index DIR --port P`` as a child process, polls it with gradio_client
until the first ``/ask`` answer arrives (time to first answer = process start → that answer),
then sends N distinct questions to ``/ask`` one after another and reports p50/p95 of the
round-trip time (and of the server-side ``total_ms``).

    python scripts/bench_app.py --index /work/ix/cq --n 50 [--json bench-app.json]

Questions: the shared Chongqing dev set (../shared/bench/chongqing/dev.jsonl), then
bench/chongqing-en.jsonl, then a few built-in questions about the bundled corpus, in that order,
until there are N distinct ones.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTION_FILES = [REPO.parent / "shared" / "bench" / "chongqing" / "dev.jsonl", REPO / "bench" / "chongqing-en.jsonl"]
BUILT_IN = [
    "When do the Chongqing Development Zone Regulations take effect?",
    "How many chapters do the development zone regulations have?",
    "《重庆市开发区条例》自何时起施行？",
    "开发区管理机构的职责是什么？",
    "What is the penalty for tax evasion in Mongolia?",
]


def questions(n: int) -> list[str]:
    found: list[str] = []
    for path in QUESTION_FILES:
        if path.exists():
            found += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    found += BUILT_IN
    distinct = list(dict.fromkeys(found))
    return (distinct * (n // len(distinct) + 1))[:n]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def report(figures: dict, json_path: str | None) -> None:
    """Print the figures as JSON, and keep them in ``json_path`` when one is given."""
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    print(text)
    if json_path:
        Path(json_path).write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=None, help="index folder served by app.py (default: app.py's default)")
    parser.add_argument("--n", type=int, default=50, help="number of /ask questions (default 50)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the first answer")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    from gradio_client import Client

    port = free_port()
    cmd = [sys.executable, str(REPO / "app.py"), "--port", str(port)] + (["--index", args.index] if args.index else [])
    index_existed = args.index is None or (Path(args.index) / "CURRENT").exists()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    log = open(REPO / "test-output" / "bench_app.log", "w") if (REPO / "test-output").is_dir() else subprocess.DEVNULL
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        url, client, listening = f"http://127.0.0.1:{port}/", None, None
        while client is None:
            if proc.poll() is not None:
                raise SystemExit(f"app.py exited with {proc.returncode}; see test-output/bench_app.log")
            if time.perf_counter() - started > args.timeout:
                raise SystemExit("no answer within the timeout")
            try:
                client = Client(url, verbose=False)
                listening = time.perf_counter() - started
            except Exception:
                time.sleep(0.2)
        qs = questions(args.n + 1)
        client.predict(qs[0], api_name="/ask")
        first_answer = time.perf_counter() - started

        round_trips, server_ms, abstained, timings = [], [], 0, []
        for q in qs[1:]:
            t = time.perf_counter()
            answer = client.predict(q, api_name="/ask")
            round_trips.append((time.perf_counter() - t) * 1000)
            server_ms.append(answer["timings"]["total_ms"])
            abstained += bool(answer["abstained"])
            timings.append((round_trips[-1], q, answer["timings"]))
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()

    figures = {
        "index": args.index or "(app.py default)",
        "index_existed": index_existed,
        "questions": len(round_trips),
        "abstained": abstained,
        "server_listening_s": round(listening, 2),
        "time_to_first_answer_s": round(first_answer, 2),
        "ask_round_trip_ms": {"p50": round(percentile(round_trips, 50), 1), "p95": round(percentile(round_trips, 95), 1),
                              "max": round(max(round_trips), 1)},
        "ask_server_total_ms": {"p50": round(percentile(server_ms, 50), 1), "p95": round(percentile(server_ms, 95), 1)},
        "slowest": [{"ms": round(ms, 1), "question": q, "server_timings": t} for ms, q, t in sorted(timings)[-3:][::-1]],
    }
    report(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
