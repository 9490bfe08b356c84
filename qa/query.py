"""The question, parsed once: checked text, language, the article and intent it names, its translation.

Built by ``Query.parse`` at the front door (``Assistant.ask`` / ``search``) and handed to
retrieval and to the reader alike, so no stage works the question out again. Retrieval fills
in what needs the index (the laws it names, the query vectors).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from .lexical import tokenize
from .numerals import CN_NUMERAL, article_label, cn_to_int
from .text import detect_language, strip_control
from .translate import Translation

MAX_QUESTION_CHARS = 2000
DEFAULT_NOISE_FLOOR = 0.88  # until an index has measured its own (measured: 0.83 bundled – 0.886 shared pack)


class QueryError(ValueError):
    """The query cannot be searched (empty, punctuation only, too long)."""


def check_query(query: str, max_chars: int = MAX_QUESTION_CHARS) -> str:
    if not isinstance(query, str):
        raise QueryError(f"the question must be text, not {type(query).__name__}")
    query = strip_control(query).strip()
    if not query:
        raise QueryError("the question is empty; type a question about the regulations")
    if not re.search(r"\w", query):
        raise QueryError("the question has no words (only punctuation or symbols)")
    if len(query) > max_chars:
        raise QueryError(f"the question is {len(query)} characters long; the limit is {max_chars}. "
                         "Shorten it to the question itself.")
    return query


# ---------------------------------------------------------------- what a question names
_CN_REF = re.compile(rf"第({CN_NUMERAL}|\d+)条(?:之({CN_NUMERAL}))?")
_EN_REF = re.compile(r"\b(?:article|art\.?)\s*(\d+)(?:\s*\(\s*(\d+)\s*\))?", re.I)


def article_reference(question: str) -> Optional[str]:
    """The article label a question names (第十三条, 第十三条之一, "Article 13"), as 第X条, or None."""
    m = _CN_REF.search(question)
    if m:
        number = m.group(1)
        n = int(number) if number.isdigit() else cn_to_int(number)
        suffix = cn_to_int(m.group(2)) if m.group(2) else None
        return article_label(n, suffix) if 0 < n < 10000 else None
    m = _EN_REF.search(question)
    if m and 0 < int(m.group(1)) < 10000:
        return article_label(int(m.group(1)))
    return None


_WHEN_ZH = re.compile(r"(什么时候|何时|哪天|哪一天|几时|哪年|日期|时间|多会儿).{0,12}(施行|生效|实施|开始|起效)|"
                      r"(施行|生效|实施)(日期|时间|日)")
_WHEN_EN = re.compile(r"\b(when|what date|which date|effective date|start date|date of entry)\b.{0,80}"
                      r"\b(take effect|took effect|come into force|came into force|enter into force|entered into force|"
                      r"effective|in force|start to apply|apply from|begin)\b|\beffective date\b", re.I)
# The sentence of a law that answers "when does it take effect?" (its commencement clause).
EFFECTIVE_CLAUSE = re.compile(r"(自|于).{0,30}(起施行|起生效|开始施行)|施行之日|"
                              r"(shall|will)?\s*(come|came|comes) into (force|effect) (on|from|as of)|"
                              r"(take|takes|took) effect (on|from|as of)|(effective|in force) (from|on|as of) \w+ \d", re.I)


def asks_effective_date(question: str) -> bool:
    """True for "When does … take effect?" / "……什么时候施行？" — answered by the law's own clause."""
    return bool(_WHEN_ZH.search(question) or _WHEN_EN.search(question))


# A question that says it asks what the news reported ("据报道", "那篇新闻", "the iChongqing story"):
# a news item answers it, not a statute that says something alike. ("report" alone is not enough:
# laws require reports.)
_NEWS_ZH = re.compile(r"报道|新闻(?!出版)|稿子|媒体|记者")  # 新闻出版: an administration's name
_NEWS_EN = re.compile(r"\b(news|newspaper|press|media|journalists?|reporters?|story)\b|ichongqing", re.I)


def asks_about_news(question: str) -> bool:
    """True for "据iChongqing报道……" / "What did the news say about …?"."""
    return bool(_NEWS_ZH.search(question) or _NEWS_EN.search(question))


# A run of a question long enough that it was most likely pasted from a provision ("where is this
# from: …"): a natural question rarely repeats 10 Chinese characters of a statute verbatim.
_PUNCTUATION_RUN = re.compile(r"[\n\t，。；：、！？,.;:!?“”\"'‘’「」『』《》()（）【】\[\]…—]+")
_BLANK_OR_PUNCTUATION = re.compile(r"[\s，。；：、！？,.;:!?“”\"'‘’「」『』《》()（）【】\[\]…—-]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
MIN_CJK_FRAGMENT = 10
MIN_LATIN_FRAGMENT = 30


_SENTENCE_RUN = re.compile(r"[\n\t。；;！？!?“”\"「」『』：:]+")


def verbatim_fragments(question: str) -> list[str]:
    """Runs of ``question`` long enough to look pasted from a provision, longest first: whole clauses
    (split at sentence ends, quotes and colons, so a clause's own commas and brackets stay) and the
    punctuation-free pieces within them (which survive a paste whose punctuation differs)."""
    clauses = [r.strip() for r in _SENTENCE_RUN.split(question) if r.strip()]
    pieces = [r.strip() for c in clauses for r in _PUNCTUATION_RUN.split(c) if r.strip()]
    long_runs = [r for r in clauses + pieces
                 if len(_CJK.findall(r)) >= MIN_CJK_FRAGMENT or (not _CJK.search(r) and len(r) >= MIN_LATIN_FRAGMENT)]
    return sorted(set(long_runs), key=len, reverse=True)


def searchable_length(question: str) -> int:
    """Characters of the question that are not punctuation or spaces."""
    return len(_BLANK_OR_PUNCTUATION.sub("", question))


@dataclass
class Query:
    """A question as every stage sees it."""

    text: str
    language: str
    article: Optional[str] = None  # 第X条 the question names
    asks_effective_date: bool = False
    asks_news: bool = False  # it asks what the news reported (``asks_about_news``; set by retrieval)
    translation: Optional[Translation] = None  # weighted terms in the other corpus language
    laws: list[str] = field(default_factory=list)  # indexed titles the question names (set by retrieval)
    # Provinces and cities the question names that indexed titles name too (set by retrieval): the
    # places it asks about, so that another place's rule does not answer it.
    places: set[str] = field(default_factory=set)
    vectors: list[np.ndarray] = field(default_factory=list)  # [own] or [own, translated] (set by retrieval)
    # How similar off-topic questions look to this index's passages (set by retrieval, for confidence).
    noise_floor: float = DEFAULT_NOISE_FLOOR
    fragments: list[str] = field(default_factory=list)  # runs that look pasted from a provision
    # In a conversation, the law (and article) a follow-up is read in (a ``qa.focus.Focus``, set by
    # ``Assistant.ask``): retrieval then treats its laws as named and prefers their passages.
    focus: Optional[Any] = None
    # Each term's weight × its rarity in the index (set by retrieval): the question's own words and
    # its translation's terms. The reader asks how much of this a quoted passage holds.
    rarity: dict[str, float] = field(default_factory=dict)
    cross_rarity: dict[str, float] = field(default_factory=dict)
    # The rarity of the question's own terms that no indexed passage holds and no phrase of the
    # translation renders ("vote count" in a corpus that never mentions a vote): asked in words that
    # no passage in either language can hold, so a cross-language passage misses them too.
    untranslated: float = 0.0
    index_passages: Optional[int] = None  # how many passages the searched index holds (set by retrieval)

    def pasted_chars(self, passage_text: str) -> int:
        """How many characters of the question's pasted-looking runs ``passage_text`` holds verbatim."""
        return sum(len(fragment) for fragment in self.fragments if fragment in passage_text)

    def is_pasted_from(self, passage_text: str, share: float = 0.5) -> bool:
        """At least ``share`` of the question is text copied from ``passage_text`` ("where is this from?")."""
        n = self.pasted_chars(passage_text)
        return n > 0 and n >= share * searchable_length(self.text)

    def coverage(self, passage_text: str, cross: bool, count_untranslated: bool = False) -> Optional[float]:
        """The share of the question's rarity-weighted terms found in ``passage_text`` (``cross``: the
        passage is in the translation's language; ``count_untranslated``: the ``untranslated`` words
        count as missing from it); None when retrieval set no rarities."""
        from .lexical import tokenize

        weights = self.cross_rarity if cross else self.rarity
        total = sum(weights.values()) + (self.untranslated if cross and count_untranslated else 0.0)
        if not total:
            return None
        present = set(tokenize(passage_text))
        return sum(w for t, w in weights.items() if t in present) / total

    @classmethod
    def parse(cls, question: str, translator=None, languages: Optional[set[str]] = None) -> "Query":
        """Check and parse ``question``; ``translator`` (a ``Translator``) renders it in the other corpus
        language (Chinese ↔ English) when ``languages`` (those of the indexed documents) include it."""
        text = check_query(question)
        language = detect_language(text)
        target = "en" if language == "zh" else "zh"
        translation = None
        if translator is not None and (languages is None or target in languages):
            translation = translator.translate_chinese(text) if target == "en" else translator.translate(text)
        if translation is not None and not translation.terms:
            translation = None
        return cls(text=text, language=language, article=article_reference(text),
                   asks_effective_date=asks_effective_date(text), translation=translation,
                   fragments=verbatim_fragments(text))

    @property
    def embedded_texts(self) -> list[str]:
        """What is embedded: the question (and its translation), a follow-up prefixed with the law
        and article it is read in ("《外商投资法》 那法律责任呢？"), so its vector is about that law."""
        prefix = f"{self.focus.label()} " if self.focus is not None else ""
        texts = [prefix + self.text]
        if self.translation and self.translation.text:
            texts.append(prefix + self.translation.text)
        return texts

    @property
    def vector(self) -> Optional[np.ndarray]:
        """The embedding of the question's own words."""
        return self.vectors[0] if self.vectors else None

    @property
    def terms(self) -> set[str]:
        """The question's own BM25 tokens."""
        return set(tokenize(self.text))

    @property
    def cross_terms(self) -> set[str]:
        """Chinese terms of the translation (empty when there is none)."""
        return set(self.translation.terms) if self.translation else set()
