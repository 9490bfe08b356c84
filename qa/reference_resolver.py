"""Which indexed passage each recorded cross-reference names, decided when it is read.

References are parsed once, at index time (``qa.references``), and stored as written. Where
they land is worked out here against the documents indexed *now*: a reference to a law that
is added later resolves from then on, and one to a law that was removed says so, with no
re-indexing. It costs one small SQLite read per referenced article (cached per generation),
a fraction of a millisecond per hit.
"""
from __future__ import annotations

import json
from typing import Iterable, Optional

from .law_titles import LawTitles
from .models import Hit, Passage
from .numerals import article_label
from .references import Reference, paragraph_starts
from .store import Store
from .translate import find_laws

NOT_RECORDED = "no references recorded: this index was built before references were parsed; any change to it " \
               "(qa index add / remove) records them"
_CACHE_LIMIT = 4096


class ReferenceResolver:
    """Resolves references for one immutable index generation (its store and law titles)."""

    def __init__(self, store: Store, law_titles: LawTitles):
        self.store = store
        self.law_titles = law_titles
        self._docs_of_law: dict[str, list[str]] = {}
        self._subjects: dict[str, Optional[str]] = {}
        self._articles: dict[tuple[str, str], list[tuple[int, str]]] = {}

    def references(self, passages: Iterable[Passage]) -> Optional[dict[int, list[Reference]]]:
        """Resolved references by passage id; None when the index recorded none."""
        passages = [p for p in passages if p.id is not None]
        if not hasattr(self.store, "references_of"):
            return None  # a backend that records no references (the Milvus store, for now)
        raw = self.store.references_of(p.id for p in passages)
        if raw is None:
            return None
        out: dict[int, list[Reference]] = {}
        for p in passages:
            out[p.id] = [self.resolve(_reference(row), p) for row in raw.get(p.id, [])]
        return out

    def attach(self, hits: Iterable[Hit]) -> None:
        """Set ``hit.references`` on each hit."""
        hits = list(hits)
        found = self.references(h.passage for h in hits) or {}
        for h in hits:
            h.references = found.get(h.passage.id, [])

    def resolve(self, ref: Reference, source: Passage) -> Reference:
        """Fill in doc, title, resolved, reason and passage_id of ``ref`` found in ``source``."""
        if ref.law is None and source.kind != "regulation":
            # A summary or news item has no articles of its own: "Article 1 states …" is about the law it
            # reports on, the one its title names (our overview → 《重庆市开发区条例》, once indexed).
            ref.law = self._subject_of(source)
            if ref.law is None:
                ref.reason = f"{_cited(source.title)} has no articles and names no indexed law in its title"
                return ref
        if ref.law is None:
            ref.doc, ref.title = source.doc_id, source.title
        else:
            if ref.law_unbracketed:
                _trim_to_title(ref, self.law_titles)
            docs = self._docs_for(ref.law, source)
            if not docs:
                ref.reason = f"《{ref.law}》 is not in the index" if _chinese(ref.law) else f"{ref.law} is not in the index"
                return ref
            ref.doc, ref.title = docs[0]
        if ref.problem:
            ref.reason = ref.problem
            return ref
        pieces = self._article(ref.doc, ref.article)
        if not pieces and ref.article and ref.article.startswith("Article "):  # an English reference to a Chinese law
            chinese = article_label(int(ref.article.split()[1]))
            pieces = self._article(ref.doc, chinese)
            ref.article = chinese if pieces else ref.article
        if not pieces:
            ref.reason = f"{_cited(ref.title)} has no {ref.article}"
            return ref
        joined = "\n".join(text for _, text in pieces)
        starts = paragraph_starts(joined)
        if ref.paragraphs and max(ref.paragraphs) > len(starts):
            ref.reason = f"{_cited(ref.title)}{ref.article} has {len(starts)} paragraph(s), not {max(ref.paragraphs)}"
            return ref
        ref.resolved = True
        ref.passage_id = pieces[0][0]
        if ref.paragraphs:  # the piece the (first) named paragraph starts in
            offset, at = starts[ref.paragraphs[0] - 1], 0
            for pid, text in pieces:
                if at <= offset:
                    ref.passage_id = pid
                at += len(text) + 1
        return ref

    def _docs_for(self, law: str, source: Passage) -> list[tuple[str, str]]:
        """(doc id, title) of the documents a law name stands for: the citing document if it names
        itself, else the newest document of that title first."""
        if law not in self._docs_of_law:
            titles = self.law_titles.titles_for(law) or [t for t in find_laws(law) if t in self.law_titles.titles]
            self._docs_of_law[law] = [(d, t) for d, t, _ in self.store.documents_titled(titles)] if titles else []
        docs = self._docs_of_law[law]
        own = [(d, t) for d, t in docs if d == source.doc_id]
        return own + [x for x in docs if x not in own]

    def _subject_of(self, source: Passage) -> Optional[str]:
        """The law a document without articles is about: an indexed title its title names (in Chinese, or
        in English through our law names), else the first law its title names at all."""
        if source.doc_id not in self._subjects:
            named = sorted((t for t in self.law_titles.titles if t != source.title and len(t) >= 4
                            and t.removeprefix("中华人民共和国") in source.title), key=lambda t: (-len(t), t))
            english = find_laws(source.title)
            indexed = named or [t for t in english if t in self.law_titles.titles]
            self._subjects[source.doc_id] = (indexed or english or [None])[0]
        return self._subjects[source.doc_id]

    def _article(self, doc: str, article: Optional[str]) -> list[tuple[int, str]]:
        if article is None:
            return []
        key = (doc, article)
        if key not in self._articles:
            if len(self._articles) > _CACHE_LIMIT:
                self._articles.clear()
            self._articles[key] = self.store.article_pieces(doc, article)
        return self._articles[key]


def _reference(row: tuple) -> Reference:
    start, end, text, law, article, paragraphs, item, problem, unbracketed = row
    if isinstance(paragraphs, str):
        paragraphs = json.loads(paragraphs)
    return Reference(text=text, start=start, end=end, law=law, article=article, paragraphs=list(paragraphs),
                     item=item, problem=problem, law_unbracketed=bool(unbracketed))


def _trim_to_title(ref: Reference, titles: LawTitles) -> None:
    """A law named without 《》 comes as the run of text before the article (属于招标投标法): keep the
    longest end of it that is an indexed title (招标投标法), and move the reference's start there."""
    law = ref.law or ""
    for cut in range(0, len(law) - 1):
        if titles.titles_for(law[cut:], exact=cut > 0):
            ref.law, ref.text, ref.start = law[cut:], ref.text[cut:], ref.start + cut
            return


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _cited(title: Optional[str]) -> str:
    return f"《{title}》" if title and _chinese(title) else (title or "this document")

