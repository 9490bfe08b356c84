"""Many users at once against the web app: throughput, latency per endpoint, CPU per request.

Starts ``python app.py --index DIR --port P`` on 127.0.0.1 as a child process (or drives a
running app given by ``--url``, which must be on loopback), then N gradio_client users (threads)
each send a mix of ``/ask`` and ``/search`` calls for ``--seconds`` seconds, pausing ``--think``
MIN-MAX seconds between calls (``0``: back to back). With ``--upload`` one more user indexes a
small generated .md document every few seconds through the Documents tab's own flow (file
upload, then the "Index uploaded files" event, as the browser does) and checks that a search
finds it.

    python scripts/load_app.py --index /tmp/load-ix --users 20 --seconds 60 --think 2-5 --upload

Reports requests, errors, throughput, p50/p95/max latency per endpoint, the server's CPU time per
request (user+system time of the server process from /proc/PID/stat over the load window, divided
by the /ask and /search requests answered in it) and the CPU bound: cores ÷ CPU-s per request.
The load generator shares the machine: its own CPU time is reported beside the server's.
When this script starts the app and ``--upload`` is on, the app serves a temporary copy of the
index, so the uploaded documents do not stay in DIR. Questions: the built-in ones about the
bundled corpus and ../shared/bench/chongqing/dev.jsonl when present.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import BUILT_IN, QUESTION_FILES, free_port, percentile, report  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
REQUEST_TIMEOUT = 120.0  # seconds; a request slower than this counts as an error, so the run stays bounded
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def questions() -> list[str]:
    found = list(BUILT_IN)
    dev = QUESTION_FILES[0]  # ../shared/bench/chongqing/dev.jsonl
    if dev.exists():
        found += [json.loads(line)["question"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(found))


def parse_think(text: str) -> tuple[float, float]:
    low, _, high = str(text).partition("-")
    low_s, high_s = float(low), float(high or low)
    if low_s < 0 or high_s < low_s:
        raise argparse.ArgumentTypeError(f"--think takes MIN-MAX seconds with 0 <= MIN <= MAX, not {text!r}")
    return low_s, high_s


def cpu_seconds(pid: Optional[int]) -> Optional[float]:
    """User + system CPU time of one process (all its threads), from /proc/PID/stat."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of proc(5))


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (all cores, all processes), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICKS  # minus idle and iowait; guest is in user


def thread_count(pid: Optional[int]) -> Optional[int]:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class Recorder:
    """Every request's endpoint, latency and outcome; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[dict] = []
        self.t0 = time.perf_counter()

    def add(self, endpoint: str, seconds: float, error: Optional[str] = None, server_ms: Optional[float] = None):
        at = time.perf_counter() - seconds - self.t0  # when the request was sent, from the start of the load
        with self.lock:
            self.rows.append({"endpoint": endpoint, "at": at, "s": seconds, "error": error, "server_ms": server_ms})


def _call(client, endpoint: str, args: tuple):
    return client.submit(*args, api_name=endpoint).result(timeout=REQUEST_TIMEOUT)


def user(client, rng: random.Random, qs: list[str], stop_at: float, think: tuple[float, float], search_share: float,
         rec: Recorder) -> None:
    """One person: a question or a search, a pause, again, until the time is up."""
    while time.perf_counter() < stop_at:
        q = rng.choice(qs)
        endpoint, args = ("/search", (q, 10)) if rng.random() < search_share else ("/ask", (q,))
        started = time.perf_counter()
        error, server_ms = None, None
        try:
            result = _call(client, endpoint, args)
            if endpoint == "/ask":
                if not isinstance(result, dict) or "text" not in result:
                    error = f"unexpected /ask result: {str(result)[:80]}"
                else:
                    server_ms = result.get("timings", {}).get("total_ms")
            elif not isinstance(result, list):
                error = f"unexpected /search result: {str(result)[:80]}"
        except Exception as exc:  # counted, never raised: a load run reports errors
            error = f"{type(exc).__name__}: {str(exc)[:160]}"
        rec.add(endpoint, time.perf_counter() - started, error, server_ms)
        pause = rng.uniform(*think)
        if pause:
            time.sleep(min(pause, max(0.0, stop_at - time.perf_counter())))


# ---------------------------------------------------------------- the Documents tab's upload flow
class DocumentsFlow:
    """Uploads a file and runs the "Index uploaded files" event the way the browser does.

    The event is not a public API endpoint (gradio_client refuses private events), so this
    speaks Gradio's HTTP protocol: POST /gradio_api/upload, POST /gradio_api/queue/join with
    the event's id, then read the result from the /gradio_api/queue/data event stream.
    """

    def __init__(self, url: str, auth: Optional[tuple[str, str]] = None) -> None:
        import httpx

        self.url = url.rstrip("/") + "/"
        self.http = httpx.Client(timeout=REQUEST_TIMEOUT)
        if auth:
            self.http.post(self.url + "login", data={"username": auth[0], "password": auth[1]}).raise_for_status()
        config = self.http.get(self.url + "config").raise_for_status().json()
        by_elem = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
        self.button = by_elem["qa-add"]
        event = next(d for d in config["dependencies"] if [self.button, "click"] in [list(t) for t in d["targets"]])
        self.fn_index = event["id"]
        # The event's inputs as the page sends them: the files, and the interface language.
        self.inputs = [{by_elem["qa-upload"]: "files", by_elem["qa-language"]: "en"}.get(i) for i in event["inputs"]]

    def index_file(self, path: Path) -> str:
        """Upload one file and index it; returns the status text the Documents tab shows."""
        with open(path, "rb") as fh:
            uploaded = self.http.post(self.url + "gradio_api/upload",
                                      files=[("files", (path.name, fh, "text/markdown"))]).raise_for_status().json()
        files = [{"path": uploaded[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}]
        session = uuid.uuid4().hex[:11]
        body = {"data": [files if i == "files" else i for i in self.inputs], "fn_index": self.fn_index, "session_hash": session, "trigger_id": self.button,
                "event_data": None}
        self.http.post(self.url + "gradio_api/queue/join", json=body).raise_for_status()
        with self.http.stream("GET", self.url + "gradio_api/queue/data", params={"session_hash": session}) as resp:
            resp.raise_for_status()
            for line in resp.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    if not msg.get("success"):
                        raise RuntimeError(f"upload event failed: {str(msg.get('output'))[:200]}")
                    return msg["output"]["data"][0]
        raise RuntimeError("event stream ended without a result")

    def close(self) -> None:
        self.http.close()


UPLOAD_TEXT = """---
title: Load Test Notice {n}
kind: regulation
language: en
---
# Load Test Notice {n}

Article 1 Every {word} permit under this notice is issued by the load test office within five days.

Article 2 This notice takes effect on the day it is indexed.
"""


def uploader(url: str, client, stop_at: float, every: float, rec: Recorder, workdir: Path,
             auth: Optional[tuple[str, str]]) -> None:
    """Every ``every`` seconds: index a new document through the Documents flow, then search for it."""
    flow = DocumentsFlow(url, auth)
    n = 0
    try:
        while time.perf_counter() < stop_at:
            n += 1
            word = f"zq{uuid.uuid4().hex[:8]}"  # a made-up word only this document holds
            path = workdir / f"load-upload-{n}-{word}.md"
            path.write_text(UPLOAD_TEXT.format(n=n, word=word), encoding="utf-8")
            started = time.perf_counter()
            error = None
            try:
                status = flow.index_file(path)
                if "Indexed 1 document(s)" not in status:
                    error = f"not indexed: {status[:160]}"
                else:
                    hits = _call(client, "/search", (word, 3))
                    if not hits or not hits[0]["doc"].endswith(path.name):
                        error = f"indexed but not found by /search: {[h['doc'] for h in hits][:3]}"
            except Exception as exc:
                error = f"{type(exc).__name__}: {str(exc)[:160]}"
            rec.add("upload", time.perf_counter() - started, error)
            time.sleep(max(0.0, min(every - (time.perf_counter() - started), stop_at - time.perf_counter())))
    finally:
        flow.close()


# ---------------------------------------------------------------- one run
def run_load(url: str, users: int = 20, seconds: float = 60, think: tuple[float, float] = (0.0, 0.0),
             upload: bool = False, upload_every: float = 5.0, search_share: float = 0.3,
             server_pid: Optional[int] = None, auth: Optional[tuple[str, str]] = None, seed: int = 0,
             rows_out: Optional[str] = None) -> dict:
    """Drive a running app on loopback with ``users`` threads for ``seconds``; returns the figures."""
    from gradio_client import Client

    host = urlparse(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to send load to {host}: only 127.0.0.1 / localhost")
    qs = questions()
    rec = Recorder()
    clients = [None] * (users + upload)
    # gradio_client opens a new httpx client per request, and each one builds an SSL context from
    # the CA bundle unless handed one: measured, that was half the load generator's CPU time.
    shared_tls = ssl.create_default_context()

    def connect(i: int) -> None:
        clients[i] = Client(url, auth=auth, verbose=False, ssl_verify=shared_tls)

    connecting = [threading.Thread(target=connect, args=(i,)) for i in range(len(clients))]
    for t in connecting:
        t.start()
    for t in connecting:
        t.join()
    if any(c is None for c in clients):
        raise SystemExit("could not connect every client")

    workdir = Path(tempfile.mkdtemp(prefix="load-app-"))
    started = rec.t0 = time.perf_counter()
    stop_at = started + seconds
    cpu_before, own_before, busy_before = cpu_seconds(server_pid), cpu_seconds(os.getpid()), machine_busy_seconds()
    threads = [threading.Thread(target=user, args=(clients[i], random.Random(seed * 1000 + i), qs, stop_at, think,
                                                   search_share, rec), daemon=True) for i in range(users)]
    if upload:
        threads.append(threading.Thread(target=uploader, args=(url, clients[-1], stop_at, upload_every, rec, workdir,
                                                               auth), daemon=True))
    for t in threads:
        t.start()
    peak_threads = 0
    while any(t.is_alive() for t in threads):
        peak_threads = max(peak_threads, thread_count(server_pid) or 0)
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    cpu_after, own_after, busy_after = cpu_seconds(server_pid), cpu_seconds(os.getpid()), machine_busy_seconds()
    shutil.rmtree(workdir, ignore_errors=True)
    for c in clients:
        try:
            c.close()
        except Exception:
            pass
    if rows_out:
        Path(rows_out).write_text("".join(json.dumps(r) + "\n" for r in rec.rows))
    return summarise(rec.rows, elapsed, users, seconds, think, upload,
                     None if cpu_before is None else cpu_after - cpu_before, own_after - own_before,
                     busy_after - busy_before, peak_threads or None, same_process=server_pid == os.getpid())


def _latency(rows: list[dict]) -> dict:
    ok = [r["s"] * 1000 for r in rows if r["error"] is None]
    if not ok:
        return {"requests": len(rows), "errors": len(rows)}
    out = {"requests": len(rows), "errors": len(rows) - len(ok), "p50_ms": round(percentile(ok, 50), 1),
           "p95_ms": round(percentile(ok, 95), 1), "max_ms": round(max(ok), 1)}
    server = [r["server_ms"] for r in rows if r["server_ms"] is not None]
    if server:
        out["server_total_ms"] = {"p50": round(percentile(server, 50), 1), "p95": round(percentile(server, 95), 1)}
    return out


def summarise(rows: list[dict], elapsed: float, users: int, seconds: float, think: tuple[float, float],
              upload: bool, server_cpu: Optional[float], own_cpu: float, machine_cpu: float,
              peak_threads: Optional[int], same_process: bool = False) -> dict:
    queries = [r for r in rows if r["endpoint"] in ("/ask", "/search")]
    answered = sum(r["error"] is None for r in queries)
    cores = os.cpu_count() or 1
    figures = {
        "users": users, "seconds": seconds, "think_s": list(think), "elapsed_s": round(elapsed, 1),
        "requests": len(queries), "answered": answered, "errors": len(queries) - answered,
        "throughput_rps": round(answered / elapsed, 2) if elapsed else None,
        "endpoints": {e: _latency([r for r in queries if r["endpoint"] == e]) for e in ("/ask", "/search")},
        "cores": cores,
    }
    if server_cpu is not None and answered:
        per = server_cpu / answered
        figures.update({
            "server_cpu_s": round(server_cpu, 2), "cpu_s_per_request": round(per, 4),
            "cpu_bound_rps": round(cores / per, 2),
            "throughput_share_of_cpu_bound": round(answered / elapsed / (cores / per), 3),
            "server_cpu_utilisation": round(server_cpu / elapsed / cores, 3),
        })
        if upload:
            figures["cpu_note"] = "server CPU includes the uploads' embedding and index writes"
        if same_process:
            figures["cpu_note"] = "server and load generator share one process: CPU figures are of both"
    figures["load_generator_cpu_s"] = round(own_cpu, 2)
    # Everything else that ran meanwhile (other people's builds and tests on a shared machine):
    # a run with a large share here measured a busy machine, not the app.
    figures["machine_busy_cpu_s"] = round(machine_cpu, 2)
    if server_cpu is not None and not same_process:
        figures["other_processes_cpu_s"] = round(max(0.0, machine_cpu - server_cpu - own_cpu), 2)
    if peak_threads:
        figures["server_threads_peak"] = peak_threads
    if upload:
        ups = [r for r in rows if r["endpoint"] == "upload"]
        figures["uploads"] = {**_latency(ups), "succeeded": sum(r["error"] is None for r in ups)}
    figures["slowest"] = [{"endpoint": r["endpoint"], "sent_at_s": round(r["at"], 2), "ms": round(r["s"] * 1000, 1),
                           "server_ms": r["server_ms"] and round(r["server_ms"], 1)}
                          for r in sorted(queries, key=lambda r: r["s"])[-5:][::-1]]
    errors = Counter(r["error"] for r in rows if r["error"])
    if errors:
        figures["error_messages"] = dict(errors.most_common(5))
    return figures


# ---------------------------------------------------------------- the app as a child process
def start_app(index: Optional[str], port: int, log_path: Path, timeout: float, extra_env: dict):
    cmd = [sys.executable, str(REPO / "app.py"), "--port", str(port)] + (["--index", index] if index else [])
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **extra_env}
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    from gradio_client import Client

    started = time.perf_counter()
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"app.py exited with {proc.returncode}; see {log_path}")
        if time.perf_counter() - started > timeout:
            stop_app(proc)
            raise SystemExit(f"app.py did not answer within {timeout}s; see {log_path}")
        try:
            Client(url, verbose=False).predict(BUILT_IN[0], api_name="/ask")
            return proc, url
        except Exception:
            time.sleep(0.5)


def stop_app(proc) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=None, help="index folder served by app.py (default: app.py's default)")
    parser.add_argument("--url", default=None, help="drive this running app instead (127.0.0.1 only)")
    parser.add_argument("--pid", type=int, default=None, help="with --url: the server's process id, for CPU figures")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=parse_think, default=(0.0, 0.0), metavar="MIN-MAX",
                        help="pause between one user's requests, e.g. 2-5 (default 0: back to back)")
    parser.add_argument("--search-share", type=float, default=0.3, help="share of /search calls (default 0.3)")
    parser.add_argument("--upload", action="store_true", help="one more user indexes a document every few seconds")
    parser.add_argument("--upload-every", type=float, default=5.0, metavar="S")
    parser.add_argument("--auth", default=None, metavar="USER:PASS", help="with --url: the app's login")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment for the app child process (to compare settings)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the app to answer")
    parser.add_argument("--json", default=None, metavar="OUT", help="also write the figures to this file")
    parser.add_argument("--rows", default=None, metavar="OUT", help="write every request (JSON lines) to this file")
    args = parser.parse_args(argv)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None

    proc, served = None, None
    try:
        if args.url:
            url, pid = args.url, args.pid
        else:
            index = args.index
            if args.upload and index:  # uploads go into a copy, not into the caller's index
                served = Path(tempfile.mkdtemp(prefix="load-ix-")) / "index"
                shutil.copytree(index, served)
                index = str(served)
            log_dir = REPO / "test-output"
            log_dir.mkdir(exist_ok=True)
            proc, url = start_app(index, free_port(), log_dir / "load_app.log", args.timeout,
                                  dict(e.split("=", 1) for e in args.env))
            pid = proc.pid
        figures = run_load(url, args.users, args.seconds, args.think, args.upload, args.upload_every,
                           args.search_share, server_pid=pid, auth=auth, seed=args.seed, rows_out=args.rows)
    finally:
        if proc is not None:
            stop_app(proc)
        if served is not None:
            shutil.rmtree(served.parent, ignore_errors=True)
    figures["app"] = args.url or f"app.py --index {args.index or '(default)'}"
    if args.env:
        figures["app_env"] = args.env
    report(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
