"""Which indexed laws a question names: full titles, titles without 中华人民共和国, abbreviations.

Pure: built from the index's document titles, no index access afterwards. A title of the
form 《中国（重庆）自由贸易试验区条例》 is recognised as itself, as 自由贸易试验区条例 style short
forms, and as abbreviations such as 重庆自贸试验区条例 (the characters of a span ending in
条例/法/办法/规定 all occur in the title and cover most of its distinctive characters).
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

_LAW_SUFFIX = re.compile(r"(条例|法|办法|规定|细则)")
_CJK_CHARS = frozenset(chr(c) for c in range(0x4E00, 0xA000))
_NOT_DISTINCTIVE = re.compile(r"中华人民共和国|中国|[（）()《》]")
ABBREVIATION_COVERAGE = 0.7


_TRAILING_SUFFIX = re.compile(r"(暂行)?(条例|办法|规定|细则)$")
_PLACE_LEVEL = re.compile(r"^(.{2,3}?)(省|市)")
MIN_STEM = 6


def _place_first_stems(title: str) -> set[str]:
    """Informal names of a place's own rule without its law word: 山东省经济开发区条例 → 山东省经济开发区,
    山东经济开发区 (users name such rules by place and subject: "山东经济开发区管委会是什么性质？").
    Only for titles that start with a province or city, and only stems long enough to be specific."""
    from .document_meta import CITIES, PROVINCES

    if not title.startswith(PROVINCES + CITIES + ("重庆",)):
        return set()
    stem = _TRAILING_SUFFIX.sub("", title)
    if stem == title:
        return set()
    stems = {stem, _PLACE_LEVEL.sub(r"\1", stem, count=1)}
    return {s for s in stems if len(s) >= MIN_STEM}


class LawTitles:
    """The titles of one index generation, ready to be found in questions."""

    def __init__(self, titles: Iterable[str]):
        self.titles = frozenset(titles)
        forms: dict[str, list[str]] = {}
        for title in self.titles:
            for form in {title, title.removeprefix("中华人民共和国"), *_place_first_stems(title)}:
                if len(form) >= 4:
                    forms.setdefault(form, []).append(title)
        self._forms = {form: sorted(titles) for form, titles in  # longest form first, then by name
                       sorted(forms.items(), key=lambda kv: (-len(kv[0]), kv[0]))}
        self._chars_of = {t: set(_NOT_DISTINCTIVE.sub("", t)) for t in self.titles}
        self._titles_with: dict[str, set[str]] = {}
        for title, chars in self._chars_of.items():
            for ch in chars:
                self._titles_with.setdefault(ch, set()).add(title)

    def named_in(self, text: str, translated_laws: Iterable[str] = ()) -> list[str]:
        """Titles ``text`` names (full or short forms first, else an abbreviation), then any
        ``translated_laws`` (English law names already rendered as Chinese titles) that are indexed."""
        found: list[str] = []
        for form, titles in self._forms.items():
            if form in text:
                found.extend(t for t in titles if t not in found)
                text = text.replace(form, "")
        if not found:
            found = self.abbreviated(text)
        found.extend(t for t in translated_laws if t in self.titles and t not in found)
        return found

    def titles_for(self, name: str, exact: bool = False) -> list[str]:
        """The titles ``name`` (a law's name as written in another law, e.g. inside 《》) stands for
        as a whole: the title, the title without 中华人民共和国, or an abbreviation of it. Unlike
        ``named_in``, a longer name is never matched by a shorter title inside it
        (招标投标法实施条例 is not 招标投标法). ``exact``: no abbreviations."""
        found = self._forms.get(name) or self._forms.get(name.removeprefix("中华人民共和国"))
        if found or exact:
            return list(found or [])
        chars = set(_NOT_DISTINCTIVE.sub("", name))
        if len(chars) < 4 or not _LAW_SUFFIX.search(name[-2:]):
            return []
        candidates: Optional[set[str]] = None
        for ch in chars:
            holding = self._titles_with.get(ch, set())
            candidates = holding if candidates is None else candidates & holding
        scored = sorted((len(chars) / len(self._chars_of[t]), t) for t in candidates or ())
        best = [t for score, t in scored if score >= ABBREVIATION_COVERAGE and score == scored[-1][0]]
        return sorted(best)

    def abbreviated(self, text: str) -> list[str]:
        """Titles an abbreviation points to: 重庆自贸试验区条例 → 中国（重庆）自由贸易试验区条例.

        Spans grow leftwards from a law suffix while some title still holds every character
        (an inverted index keeps this cheap on 1,000+ titles).
        """
        best: tuple[float, list[str]] = (0.0, [])
        for m in _LAW_SUFFIX.finditer(text):
            candidates: Optional[set[str]] = None
            span: set[str] = set()
            for start in range(m.end() - 1, max(-1, m.end() - 21), -1):
                ch = text[start]
                if ch not in _CJK_CHARS:
                    break
                span.add(ch)
                holding = self._titles_with.get(ch, set())
                candidates = holding if candidates is None else candidates & holding
                if not candidates:
                    break
                if len(span) < 4:
                    continue
                for title in sorted(candidates):
                    score = len(span) / len(self._chars_of[title])
                    if score > best[0] + 1e-9:
                        best = (score, [title])
                    elif abs(score - best[0]) < 1e-9 and title not in best[1]:
                        best[1].append(title)
        return best[1] if best[0] >= ABBREVIATION_COVERAGE else []
