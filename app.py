"""Run the web app: ``python app.py [--index DIR] [--corpus DIR] [--host 127.0.0.1] [--port 7860]``.

Thin: parse arguments, open (or on first run build) the index, hand it to ``qa.webapp``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from an offline server


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Regulation Q&A web app (Gradio).")
    parser.add_argument("--index", default=None, help="index folder (default: $QA_INDEX or ./index)")
    parser.add_argument("--corpus", default=None,
                        help="folder to build the index from when it does not exist yet (default: bundled corpus/)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default 127.0.0.1; 0.0.0.0 exposes the app to the network)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--auth", default=None, metavar="USER:PASS", help="require this login")
    args = parser.parse_args(argv)
    if args.auth is not None and ":" not in args.auth:
        parser.error("--auth takes USER:PASS")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from qa import QAIndexError
    from qa.assistant import DEFAULT_CORPUS, Assistant, default_index_dir
    from qa.webapp import build_app, launch, warm_up

    index_dir = args.index or default_index_dir()
    started = time.perf_counter()
    if not Assistant.exists(index_dir):
        print(f"No index at {index_dir} yet: building it from {args.corpus or DEFAULT_CORPUS} (first run)…",
              flush=True)
    try:
        assistant = Assistant.open_default(index_dir, corpus=args.corpus, show_progress=True)
    except QAIndexError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    warm_up(assistant)
    print(f"Index {index_dir} ready in {time.perf_counter() - started:.1f}s.", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"Listening on {args.host}: the app is reachable from other machines.", flush=True)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    launch(build_app(assistant), host=args.host, port=args.port, auth=auth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
