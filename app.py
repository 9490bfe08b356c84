"""Run the web app: ``python app.py [--index DIR] [--corpus DIR] [--host 127.0.0.1] [--port 7860]``.

Thin: parse arguments, open (or on first run build) the index, hand it to ``qa.web``.
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from an offline server
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see qa.cli: idle OpenMP threads must not spin


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Regulation Q&A web app (Gradio).")
    parser.add_argument("--index", default=None, help="index folder (default: $QA_INDEX or ./index)")
    parser.add_argument("--corpus", default=None,
                        help="folder to build the index from when it does not exist yet (default: bundled corpus/)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default 127.0.0.1; 0.0.0.0 exposes the app to the network)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--auth", default=None, metavar="USER:PASS", help="require this login")
    parser.add_argument("--llm", default=os.environ.get("QA_LLM_URL"), metavar="URL",
                        help="OpenAI-compatible chat server for generated answers, checked before they are shown "
                             "(default: $QA_LLM_URL; none: quotes only)")
    parser.add_argument("--llm-model", default=os.environ.get("QA_LLM_MODEL"), metavar="NAME",
                        help="model name to ask the server for (default: $QA_LLM_MODEL)")
    parser.add_argument("--llm-timeout", type=float, default=None, metavar="SECONDS",
                        help="seconds a generated answer may take (default 60)")
    args = parser.parse_args(argv)
    if args.auth is not None and ":" not in args.auth:
        parser.error("--auth takes USER:PASS")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from qa.assistant import USER_ERRORS
    from qa.web.server import serve

    try:
        serve(args.index, args.corpus, args.host, args.port,
              tuple(args.auth.split(":", 1)) if args.auth else None, say=lambda m: print(m, flush=True),
              llm=args.llm, llm_model=args.llm_model, llm_timeout=args.llm_timeout)
    except USER_ERRORS as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
