"""One writer at a time per index folder, across processes (CLI, web app, scripts).

Two writers that each copy the live generation, change their copy and publish it would
each drop the other's change (and clean up the other's files). An OS file lock (filelock:
``flock`` on POSIX, released by the kernel when a process dies, so a killed writer never leaves
a stale lock) serialises them: the second writer says it is waiting, then applies its change on
top of the first. Readers never take it.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

from filelock import FileLock, Timeout

from .integrity import QAIndexError

LOCK_NAME = ".writer.lock"
WAIT_ENV = "QA_WRITER_WAIT_S"
DEFAULT_WAIT_S = 3600.0


@contextmanager
def writer_lock(index_dir: Path, notify: Optional[Callable[[str], None]] = None,
                wait_s: Optional[float] = None) -> Iterator[None]:
    """Hold the index's writer lock; if another writer has it, say so and wait (``wait_s`` at most)."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    wait_s = float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_S)) if wait_s is None else wait_s
    lock = FileLock(str(index_dir / LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if notify:
            notify(f"another writer is changing the index at {index_dir}; waiting for it to finish…")
        try:
            lock.acquire(timeout=wait_s)
        except Timeout as exc:
            raise QAIndexError(f"another writer has held the index at {index_dir} for over {wait_s:g} s; "
                               f"try again when it has finished (or set {WAIT_ENV})") from exc
    try:
        yield
    finally:
        lock.release()
