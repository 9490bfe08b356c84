"""A real Milvus gRPC server for tests: ``milvus-lite server`` started as a separate process on loopback.

Not an in-process stand-in: the tests talk to it over gRPC with pymilvus, exactly as they would to
Milvus Standalone. It can be killed (SIGKILL) and restarted on the same data folder.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest

START_TIMEOUT_S = 60.0


def milvus_lite_command() -> list[str]:
    """The ``milvus-lite`` entry point of this interpreter's environment; skip when it is not installed."""
    pytest.importorskip("pymilvus", reason="pymilvus is not installed (pip install -e '.[test]')")
    pytest.importorskip("milvus_lite", reason="milvus-lite is not installed (pip install -e '.[test]')")
    beside = Path(sys.executable).with_name("milvus-lite")
    found = str(beside) if beside.exists() else shutil.which("milvus-lite")
    if not found:
        pytest.skip("the milvus-lite command is not on PATH (pip install -e '.[test]')")
    return [found]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MilvusServer:
    def __init__(self, data_dir: Path, port: Optional[int] = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.log = self.data_dir.with_suffix(".log")
        self.process: Optional[subprocess.Popen] = None

    def address(self, collection: str) -> str:
        return f"milvus://127.0.0.1:{self.port}/{collection}"

    def start(self) -> "MilvusServer":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                milvus_lite_command() + ["server", "--data-dir", str(self.data_dir), "--host", "127.0.0.1",
                                         "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        from pymilvus import MilvusClient

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"milvus-lite server exited with {self.process.returncode}: "
                                   f"{self.log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                client = MilvusClient(uri=f"http://127.0.0.1:{self.port}", timeout=5)
                client.list_collections()
                client.close()
                return
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"milvus-lite server did not accept connections within {START_TIMEOUT_S:g} s")

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown hooks run."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
