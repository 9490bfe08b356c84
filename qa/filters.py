"""What a search may return, decided before ranking.

Filters narrow the candidate passages *inside* retrieval: every signal (dense, lexical, lookups)
only ranks allowed passages, so a filtered search still returns ``k`` hits when ``k`` exist.
Backends receive the allowed passage ids (``allowed``), never the filter itself; the store turns
a ``Filters`` into those ids (``Store.allowed_ids``).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Optional, Sequence

import numpy as np


@dataclass(frozen=True)
class Filters:
    """Empty fields do not filter. ``docs`` are document ids; ``laws`` are law titles (as indexed);
    ``kinds`` are document kinds (regulation/news/summary/other); ``regions`` and ``as_of`` are
    resolved by the store from each document's recorded region and dates."""

    docs: tuple[str, ...] = ()
    laws: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    as_of: Optional[date] = None

    @classmethod
    def of(cls, docs: Optional[Sequence[str]] = None, laws: Optional[Sequence[str]] = None,
           kinds: Optional[Sequence[str]] = None, regions: Optional[Sequence[str]] = None,
           as_of: Optional[date | str] = None) -> "Filters":
        """Build from loose arguments (lists, None, an ISO date string)."""
        if isinstance(as_of, str):
            as_of = date.fromisoformat(as_of)
        return cls(tuple(docs or ()), tuple(laws or ()), tuple(kinds or ()), tuple(regions or ()), as_of)

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def to_dict(self) -> dict:
        out = {f.name: list(getattr(self, f.name)) for f in fields(self) if f.name != "as_of"}
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        return out


def allowed_mask(ids: np.ndarray, allowed: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """Boolean mask of ``ids`` that are allowed (None when everything is)."""
    if allowed is None:
        return None
    return np.isin(ids, allowed)
