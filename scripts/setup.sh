#!/usr/bin/env bash
# Create .venv and install the project with CPU torch (torch==2.13.0 is pinned: an unpinned torch pulls CUDA).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
pip install -q torch==2.13.0
pip install -q -e ".[test]"
