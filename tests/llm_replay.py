"""A loopback OpenAI-compatible chat server that replays recorded replies (not a conftest: tests import it).

Each reply in tests/data/llm-replies.json is what a server streamed for one case: the text
pieces as they arrived (sent as ``chat.completion.chunk`` server-sent events, the shape
llama.cpp's server, Ollama and vLLM send), or an HTTP error, or silence, or a slow trickle.
A reply may instead be ``raw``: a server's event stream byte for byte. The server keeps every
request body so tests can check the prompt.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPLIES = json.loads((Path(__file__).resolve().parent / "data" / "llm-replies.json").read_text(encoding="utf-8"))


def sse_chunks(pieces: list[str], model: str) -> list[bytes]:
    events = []
    for n, piece in enumerate(pieces):
        events.append({"id": "chatcmpl-replay", "object": "chat.completion.chunk", "created": 0, "model": model,
                       "choices": [{"index": 0, "delta": {"content": piece} if n else {"role": "assistant",
                                                                                        "content": piece},
                                    "finish_reason": None}]})
    events.append({"id": "chatcmpl-replay", "object": "chat.completion.chunk", "created": 0, "model": model,
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return [f"data: {json.dumps(e, ensure_ascii=False)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]


class ReplayServer:
    """Serves ``reply`` (a key of REPLIES, settable per test) at /v1/chat/completions on 127.0.0.1."""

    def __init__(self, reply: str = "well_formed_en") -> None:
        self.reply = reply
        self.requests: list[dict] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append(body)
                if self.path != "/v1/chat/completions":
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                reply = REPLIES[server.reply]
                if reply.get("delay_s"):  # silence before the headers
                    server.stopping.wait(reply["delay_s"])
                if reply.get("status", 200) != 200:
                    self._send(reply["status"], json.dumps(reply["body"]).encode())
                    return
                chunks = ([line.encode() for line in reply["raw"]] if "raw" in reply
                          else sse_chunks(reply["pieces"], reply.get("model", body.get("model") or "replay")))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for chunk in chunks:
                        if server.stopping.is_set():
                            return
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        if reply.get("chunk_delay_s"):
                            time.sleep(reply["chunk_delay_s"])
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "ReplayServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
