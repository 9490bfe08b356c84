"""Which version of a law is in force on a date, over the documents of one index.

Documents whose titles name the same law (``document_meta.law_key``) are its versions; a
version's day is the date it took effect (else the date it was amended or promulgated, else the
document's own date). Pure functions over ``DocumentDates`` rows, so the rules are tested
without an index:

- on a date D the version in force is the one with the latest day ≤ D; the earlier ones are
  *superseded* on D and later ones are *not yet in force*;
- by default (no date asked for) D is today, but a law none of whose versions is in force yet
  stays searchable (a law passed and not yet in force is still worth finding, marked as such);
- documents with no known day, and news, are never excluded (nothing says they are out of date).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Iterable, Mapping, Optional

from .document_meta import law_key
from .filters import Filters, NoMatchingDocuments

IN_FORCE, SUPERSEDED, NOT_YET = "in force", "superseded", "not yet in force"


@dataclass(frozen=True)
class DocumentDates:
    """What version resolution needs of one document."""

    id: str
    title: str
    kind: str
    region: Optional[str] = None
    promulgated: Optional[str] = None
    amended: Optional[str] = None
    in_force_from: Optional[str] = None
    date: Optional[str] = None
    version_label: Optional[str] = None

    @property
    def day(self) -> Optional[str]:
        """The ISO date this version counts from (None: unknown, never excluded)."""
        if self.kind == "news":
            return None
        return self.in_force_from or self.amended or self.promulgated or self.date

    @property
    def law(self) -> str:
        return law_key(self.title)


def laws(rows: Iterable[DocumentDates]) -> dict[str, list[DocumentDates]]:
    """Dated documents grouped by law, each group oldest version first."""
    groups: dict[str, list[DocumentDates]] = {}
    for row in rows:
        if row.day is not None:
            groups.setdefault(row.law, []).append(row)
    return {key: sorted(group, key=lambda r: (r.day, r.id)) for key, group in groups.items()}


def _in_force_day(group: list[DocumentDates], on: str) -> Optional[str]:
    """The day of the version in force on ``on`` (ties: several documents of one version)."""
    started = [r.day for r in group if r.day <= on]
    return max(started) if started else None


def status_on(rows: Iterable[DocumentDates], on: date) -> dict[str, str]:
    """IN_FORCE / SUPERSEDED / NOT_YET for every dated document."""
    day = on.isoformat()
    out: dict[str, str] = {}
    for group in laws(rows).values():
        current = _in_force_day(group, day)
        for r in group:
            out[r.id] = NOT_YET if r.day > day else IN_FORCE if r.day == current else SUPERSEDED
    return out


def excluded(rows: Iterable[DocumentDates], on: Optional[date] = None, today: Optional[date] = None) -> set[str]:
    """Ids of the documents a search must leave out: those not in force on ``on``; with ``on`` None,
    those not in force today except a law's first version when none is in force yet."""
    rows = list(rows)
    day = (on or today or date.today()).isoformat()
    out: set[str] = set()
    for group in laws(rows).values():
        current = _in_force_day(group, day)
        if current is None and on is None:
            current = group[0].day  # not in force yet: its first version stays findable
        out.update(r.id for r in group if r.day != current)
    return out


def version_labels(rows: Iterable[DocumentDates]) -> dict[str, str]:
    """The label that names each version in citations, for laws indexed in more than one version
    (its own label, e.g. 2021年修正, else the year it was promulgated or took effect: 2019年)."""
    out: dict[str, str] = {}
    for group in laws(rows).values():
        if len({r.day for r in group}) > 1:
            for r in group:
                out[r.id] = r.version_label or f"{(r.promulgated or r.day)[:4]}年"
    return out


def dates_of_record(doc_id: str, record: Mapping) -> DocumentDates:
    """A ``DocumentDates`` from a document record (a row of the documents table, a Milvus body);
    fields the record lacks (indexes built before dates were recorded) are unknown."""
    return DocumentDates(id=doc_id, **{f.name: record.get(f.name) for f in fields(DocumentDates) if f.name != "id"})


def admitted(rows: list[DocumentDates], filters: Optional[Filters], today: Optional[date] = None) -> Optional[list[str]]:
    """Ids of the documents ``filters`` admit, superseded versions left out unless ``filters.versions``
    is "all" (or, without ``as_of``, the caller names them in ``docs``); None when every document is
    admitted (nothing to restrict). Filters that admit nothing raise ``NoMatchingDocuments``."""
    filters = filters or Filters()
    laws = {law_key(t) for t in filters.laws}
    out = set() if filters.versions == "all" else excluded(rows, filters.as_of, today)
    if filters.as_of is None:
        out -= set(filters.docs)  # a version asked for by its id is searched even when superseded
    kept = [r.id for r in rows
            if r.id not in out
            and (not filters.docs or r.id in filters.docs)
            and (not laws or r.law in laws)
            and (not filters.kinds or r.kind in filters.kinds)
            and (not filters.regions or r.region in filters.regions)]
    if not kept and filters.active:
        raise NoMatchingDocuments(filters, len(rows))
    return None if len(kept) == len(rows) else kept


def annotate(documents: list[dict], rows: list[DocumentDates], today: Optional[date] = None) -> list[dict]:
    """Add each document's ``status`` on ``today`` and its citation ``version`` label (in place)."""
    status = status_on(rows, today or date.today())
    labels = version_labels(rows)
    for d in documents:
        d["status"] = status.get(d["id"])
        d["version"] = labels.get(d["id"])
    return documents
