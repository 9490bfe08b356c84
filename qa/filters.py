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


VERSIONS = ("current", "all")
ALL_VERSIONS = "all"


@dataclass(frozen=True)
class Filters:
    """Empty fields do not filter. ``docs`` are document ids; ``laws`` are law titles (with or
    without 中华人民共和国); ``kinds`` are document kinds (regulation/news/other); ``regions`` are
    chongqing/national/other (``qa.document_meta.REGIONS``).

    Versions: by default (``as_of`` None) only the version of each law in force today is searched;
    ``as_of`` picks the version in force on that date; ``versions="all"`` (or ``as_of="all"`` in
    ``Filters.of``) searches every indexed version. See ``qa.versions``.
    """

    docs: tuple[str, ...] = ()
    laws: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    as_of: Optional[date] = None
    versions: str = "current"

    def __post_init__(self) -> None:
        from .document_meta import REGIONS

        bad = [r for r in self.regions if r not in REGIONS]
        if bad:
            raise ValueError(f"region {bad[0]!r} is not one of {', '.join(REGIONS)}")
        if self.versions not in VERSIONS:
            raise ValueError(f"versions {self.versions!r} is not one of {', '.join(VERSIONS)}")
        if self.as_of is not None and self.versions == ALL_VERSIONS:
            raise ValueError("as_of picks one version per law; it cannot be combined with all versions")

    @classmethod
    def of(cls, docs: Optional[Sequence[str]] = None, laws: Optional[Sequence[str]] = None,
           kinds: Optional[Sequence[str]] = None, regions: Optional[Sequence[str]] = None,
           as_of: Optional[date | str] = None, versions: Optional[str] = None) -> "Filters":
        """Build from loose arguments (a string or a list, None, an ISO date string or "all")."""
        one = lambda v: (v,) if isinstance(v, str) else tuple(v or ())  # noqa: E731
        if isinstance(as_of, str):
            if as_of.strip().lower() == ALL_VERSIONS:
                as_of, versions = None, ALL_VERSIONS
            else:
                as_of = parse_as_of(as_of)
        return cls(one(docs), one(laws), one(kinds), tuple(r.strip().lower() for r in one(regions)), as_of,
                   versions or "current")

    @property
    def active(self) -> bool:
        """Whether the caller narrowed anything (the default exclusion of superseded versions is not)."""
        return any(getattr(self, f.name) for f in fields(self) if f.name != "versions")

    def describe(self) -> str:
        """The set fields, for messages: "law=海关法, as_of=2020-01-01"."""
        parts = [f"{f.name}={', '.join(getattr(self, f.name))}" for f in fields(self)
                 if f.name not in ("as_of", "versions") and getattr(self, f.name)]
        if self.as_of:
            parts.append(f"as_of={self.as_of.isoformat()}")
        return "; ".join(parts) or "no filters"

    def to_dict(self) -> dict:
        out = {f.name: list(getattr(self, f.name)) for f in fields(self) if f.name not in ("as_of", "versions")}
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        out["versions"] = self.versions
        return out


def parse_as_of(text: str) -> date:
    """An ISO date (2021-04-29); anything else is a ValueError that says what is expected."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"as_of {text!r} is not a date: use YYYY-MM-DD (e.g. 2021-04-29) or 'all'") from None


class NoMatchingDocuments(ValueError):
    """Filters that leave nothing to search: said plainly instead of an empty result."""

    def __init__(self, filters: "Filters", indexed: int):
        super().__init__(f"no document matches these filters ({filters.describe()}); "
                         f"{indexed} documents are indexed — widen or drop a filter")
        self.filters = filters


def allowed_mask(ids: np.ndarray, allowed: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """Boolean mask of ``ids`` that are allowed (None when everything is)."""
    if allowed is None:
        return None
    return np.isin(ids, allowed)
