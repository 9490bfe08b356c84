"""Progress reporting for long work: a tqdm bar on the terminal and an optional callback.

The callback (``fn(stage, done, total)``) lets the web app drive its own progress bar
from the same loop that drives the terminal bar.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, Optional, TypeVar

ProgressFn = Callable[[str, int, int], None]
T = TypeVar("T")


def track(items: Iterable[T], stage: str, total: Optional[int] = None, callback: Optional[ProgressFn] = None,
          show: bool = True) -> Iterator[T]:
    from tqdm.auto import tqdm

    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    bar = tqdm(total=total, desc=stage, disable=not show, leave=False, unit="it")
    done = 0
    if callback and total:
        callback(stage, 0, total)  # the stage is named as it starts, not when its first item is done
    try:
        for item in items:
            yield item
            done += 1
            bar.update(1)
            if callback:
                callback(stage, done, total or done)
    finally:
        bar.close()
