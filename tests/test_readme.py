"""The README's examples run as written (as sqlite-utils tests its docs).

Every fenced block after a line "*tested:*" or "*tested (with the app running):*" is extracted and
run in a fresh working folder that holds a copy of the bundled-corpus index (so nothing is
re-embedded): bash blocks line by line through a real shell with the project's `qa` on PATH,
Python blocks with the project's interpreter, API blocks against the real app on loopback.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),  # Gradio's queue on pandas 3
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]

BLOCK = re.compile(r"^\*tested( \(with the app running\))?:\*\n```(\w+)\n(.*?)^```", re.M | re.S)
BLOCKS = [(bool(app), lang, body) for app, lang, body in BLOCK.findall((REPO / "README.md").read_text())]


def test_the_readme_has_tested_examples_of_each_kind():
    assert sorted({(lang, app) for app, lang, _ in BLOCKS}) == [("bash", False), ("python", False), ("python", True)]


@pytest.fixture
def workdir(tmp_path, repo_index) -> Path:
    shutil.copytree(repo_index, tmp_path / "index")
    return tmp_path


def _env() -> dict:
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "QA_INDEX": "index"}


@pytest.mark.parametrize("body", [b for app, lang, b in BLOCKS if lang == "bash"])
def test_readme_shell_block(body, workdir):
    for line in body.splitlines():
        command = line.split("  #", 1)[0].strip()
        if not command or command.startswith(". .venv/bin/activate"):
            continue
        result = subprocess.run(["bash", "-c", command], cwd=workdir, env=_env(), capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("body", [b for app, lang, b in BLOCKS if lang == "python" and not app])
def test_readme_python_block(body, workdir):
    result = subprocess.run([sys.executable, "-c", body], cwd=workdir, env=_env(), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "take effect on March 1, 2025" in result.stdout
    assert "1 input(s) failed" in result.stdout and "OK — generation" in result.stdout


@pytest.mark.parametrize("body", [b for app, lang, b in BLOCKS if lang == "python" and app])
def test_readme_api_block(body, workdir):
    from conftest_browser_helpers import launch_app
    from qa import Assistant

    with Assistant.open(workdir / "index") as assistant:
        demo, url = launch_app(assistant)
        try:
            code = body.replace("http://127.0.0.1:7860/", url)
            result = subprocess.run([sys.executable, "-c", code], cwd=workdir, env=_env(), capture_output=True,
                                    text=True, timeout=300)
        finally:
            demo.close()
    assert result.returncode == 0, result.stderr
    assert "take effect" in result.stdout
