"""Conversation focus: which law (and article) a follow-up question is about.

"What about Article 6?", "那法律责任呢？", "Does it apply to foreign investors?" name no law; in a
conversation they mean the law the previous turns were about. This module keeps that state
without a language model: ``Focus`` (law titles + article) is what the conversation is about
after a turn, ``Turn`` is one earlier turn as the history holds it (serialisable: an Answer's
``to_dict()`` or ``{"question", "law", "article"}`` will do), and ``follow_up`` decides whether a
question that names no law leans on the focus (pronouns, ellipsis, an article number alone,
a very short question) and, if so, how it is read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from .citations import format_citation
from .numerals import article_label, article_number
from .query import article_reference

# Words that point back at something said before. Chinese: pronouns and demonstratives (它, 该 but
# not 应该, 这/那/此 but not 因此/此外…), "this law" forms, a sentence-final 呢 ("那法律责任呢？").
_BACK_ZH = re.compile(r"它|(?<!应)该|这|那|(?<![因如为])此(?![外])|本(法|条例|办法|规定|细则|条)|上述|前述|同一|"
                      r"还有|另外|又|(上|下|前|后)一?条|呢\s*[？?。！!]*\s*$")
_BACK_EN = re.compile(r"\b(it|its|it's|itself|this|that|these|those|they|them|their|same|such|"
                      r"the (law|laws|act|regulations?|rules|measures|provisions?|articles?|ordinance)|"
                      r"what about|how about|and what|also|then|next article|previous article|"
                      r"following article|preceding article)\b|^\s*(and|but|or|so)\b", re.I)
# "this article" / 该条: the follow-up is about the article in focus, not only its law.
_THIS_ARTICLE = re.compile(r"(该|这|此|本)(一)?条(?!例)|(this|that|the same) (article|provision)\b", re.I)
_NEXT = re.compile(r"(下|后)一?条(?!例)|\b(next|following) article\b", re.I)
_PREVIOUS = re.compile(r"(上|前)一?条(?!例)|\b(previous|preceding) article\b", re.I)
SHORT_ZH_CHARS = 10  # "罚则是什么？" — a question this short says little on its own
SHORT_EN_WORDS = 5
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass
class Focus:
    """What the conversation is about: indexed law titles and, when one is in view, an article."""

    laws: list[str]
    article: Optional[str] = None

    def label(self) -> str:
        """The focus as a citation: 《重庆市开发区条例》第六条, "Riverside … Regulations, Art. 6"."""
        return "、".join(format_citation(law, self.article if i == 0 else None, "zh" if _CJK.search(law) else "en")
                        for i, law in enumerate(self.laws))

    def to_dict(self) -> dict:
        return {"laws": list(self.laws), "article": self.article}

    @classmethod
    def from_dict(cls, data: Any) -> Optional["Focus"]:
        """A focus from ``to_dict()`` output or ``{"law": …, "article": …}``; None when it names no law."""
        if not isinstance(data, dict):
            return None
        laws = data.get("laws", data.get("law"))
        if laws is None:
            return None
        laws = [laws] if isinstance(laws, str) else laws
        if not isinstance(laws, list) or not all(isinstance(x, str) for x in laws):
            raise ValueError("a focus needs 'law' (text) or 'laws' (a list of texts)")
        laws = [x.strip() for x in laws if x.strip()]
        article = data.get("article")
        if article is not None and not isinstance(article, str):
            raise ValueError(f"a focus's 'article' must be text such as 第六条, not {article!r}")
        return cls(laws, (article_reference(article) or article.strip() or None) if article else None) \
            if laws else None


@dataclass
class Turn:
    """One earlier turn as the history holds it: the question and the focus after it (if known)."""

    question: str
    focus: Optional[Focus] = None

    def to_dict(self) -> dict:
        return {"question": self.question, "focus": self.focus.to_dict() if self.focus else None}


def turn_of(item: Any) -> Turn:
    """One history item → a Turn. Accepted: a Turn; an Answer (or its ``to_dict()``); a
    ``{"question", "law"/"laws", "article"}`` dict; a ``(question, answer)`` pair; a question text."""
    if isinstance(item, Turn):
        return item
    if isinstance(item, str):
        return Turn(item)
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
        answer = turn_of(item[1]) if item[1] is not None else Turn(item[0])
        return Turn(item[0], answer.focus)
    if hasattr(item, "question") and hasattr(item, "focus"):  # an Answer
        return Turn(str(item.question), item.focus)
    if isinstance(item, dict):
        question = item.get("question", "")
        if not isinstance(question, str):
            raise ValueError(f"a history item's 'question' must be text, not {type(question).__name__}")
        focus = item.get("focus") if "focus" in item else item
        return Turn(question, Focus.from_dict(focus))
    raise ValueError(f"a history item must be a question, an answer, a (question, answer) pair or a dict "
                     f"with 'question' and 'law', not {type(item).__name__}")


def turns_of(history: Optional[Iterable[Any]]) -> list[Turn]:
    if history is None:
        return []
    if isinstance(history, (str, dict)) or not isinstance(history, Iterable):
        raise ValueError("history must be a list of earlier turns (answers, dicts or (question, answer) pairs)")
    return [turn_of(item) for item in history]


def latest_focus(turns: Iterable[Turn]) -> Optional[Focus]:
    """The focus of the most recent turn that has one."""
    found = None
    for turn in turns:
        if turn.focus is not None:
            found = turn.focus
    return found


def refers_back(text: str) -> bool:
    """Whether a question leans on what was said before: a pronoun or demonstrative, an elliptical
    "…呢？" / "what about …", an article number alone, or so few words that it cannot stand alone."""
    if _BACK_ZH.search(text) or _BACK_EN.search(text) or article_reference(text):
        return True
    cjk = len(_CJK.findall(text))
    if cjk:
        return cjk <= SHORT_ZH_CHARS
    return len(_WORD.findall(text)) <= SHORT_EN_WORDS


def _label(number: Optional[int], law: str) -> Optional[str]:
    """An article number as the law labels its articles: 第六条 in Chinese law, "Article 6" in English."""
    if number is None or number <= 0:
        return None
    return article_label(number) if _CJK.search(law) else f"Article {number}"


def follow_up(text: str, named_laws: list[str], focus: Optional[Focus]) -> Optional[Focus]:
    """How a question is read in a conversation: the focus it leans on, or None when it stands alone
    (it names a law of its own, there is no focus, or nothing in it points back).

    The article read is the one the question names ("What about Article 6?"), the next or
    previous one ("下一条呢？"), the one in focus when the question says "this article", or none
    (a new topic within the same law: "那法律责任呢？").
    """
    if focus is None or not focus.laws or named_laws or not refers_back(text):
        return None
    number = article_number(article_reference(text))
    if number is None and _NEXT.search(text):
        number = article_number(focus.article) + 1 if article_number(focus.article) else None
    elif number is None and _PREVIOUS.search(text):
        number = article_number(focus.article) - 1 if article_number(focus.article) else None
    elif number is None and _THIS_ARTICLE.search(text):
        number = article_number(focus.article)
    return Focus(list(focus.laws), _label(number, focus.laws[0]))


def focus_after(asked: Optional[Focus], named_laws: list[str], named_article: Optional[str],
                cited: list[tuple[str, Optional[str]]], before: Optional[Focus]) -> Optional[Focus]:
    """What the conversation is about after a turn.

    ``asked``: the focus the question was read in (a follow-up), ``named_laws``/``named_article``:
    what the question named itself, ``cited``: (title, article) of the answer's citations (empty
    when it abstained), ``before``: the focus before the turn. A law the question names moves the
    focus; a follow-up stays in its law; otherwise the law the answer quotes becomes the focus.
    """
    laws = named_laws or (asked.laws if asked else [])
    if laws:
        article = named_article or (asked.article if asked else None)
        if article is None:
            article = next((a for title, a in cited if title in laws and a), None)
        return Focus(list(laws), article)
    if cited:
        title, article = cited[0]
        return Focus([title], article)
    return before
