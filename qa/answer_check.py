"""Checks a generated answer against the passages it was given, sentence by sentence.

A language model may only say what the numbered passages say, so before anything it wrote is
shown: every ``[n]`` must name a passage that was given, every string it puts in quotation marks
(“ ” 「 」 『 』 or straight ") must be a verbatim substring of a passage that sentence cites,
and a sentence without a mark is dropped. A mark naming a passage that was not given, or a quote
that is not verbatim, rejects the whole answer: a model that invents a source once is not
trusted for the rest. Pure functions of text, so the checks are tested without any server.

``SentenceFeed`` cuts a streamed answer into sentences as they complete, so each can be checked
(and shown) before the next arrives; ``check`` runs the same cut and checks over a whole text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

# [1], [1, 3], [1][2], 【1】; commas may be full-width.
MARK = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】]")
_PARTIAL_MARK = re.compile(r"[\[【][\d\s,，、]*$")
QUOTE_PAIRS = {"“": "”", "「": "」", "『": "』", '"': '"'}
_CLOSERS = "”」』\"'’)）"
_TERMINALS = "。！？!?"
# A full stop after these does not end a sentence ("Art. 3", "No. 5", "e.g. a").
_ABBREVIATIONS = {"art", "arts", "no", "nos", "para", "paras", "sec", "ch", "cf", "vs", "mr", "mrs", "ms", "dr",
                  "e.g", "i.e", "p", "pp", "vol"}


@dataclass
class Claim:
    """A sentence that passed: its text, the passages it cites (1-based) and its verbatim quotes."""

    text: str
    cites: list[int]
    quotes: list[tuple[int, str]] = field(default_factory=list)  # (passage number, quoted text)


@dataclass
class Verdict:
    """One sentence's outcome: a ``claim`` to keep, nothing (dropped: no mark), or a ``failure``."""

    claim: Optional[Claim] = None
    failure: Optional[str] = None

    @property
    def dropped(self) -> bool:
        return self.claim is None and self.failure is None


@dataclass
class CheckResult:
    claims: list[Claim]
    dropped: list[str]
    failure: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.failure is None and bool(self.claims)

    @property
    def text(self) -> str:
        return join_sentences([c.text for c in self.claims])


def join_sentences(sentences: Sequence[str]) -> str:
    """Sentences back into a paragraph: no space after a Chinese full stop, one after a Latin one."""
    out = ""
    for s in sentences:
        if out and not re.search(r"[\u3000-\u303f\uff00-\uffef\u3400-\u9fff]\W*$", out):
            out += " "
        out += s
    return out


def _abbreviation_before(text: str, dot: int) -> bool:
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[:dot])
    if not word:
        return False
    w = word.group(1).lower()
    return w in _ABBREVIATIONS or len(w) == 1 and text[dot - 1].isupper()


def _sentence_ends(text: str) -> list[tuple[int, bool]]:
    """End offsets of the sentences in ``text`` and whether each is settled (what follows it is known).

    A sentence ends at 。！？!? (or a full stop before white space, or a line break) outside
    quotation marks, after any closing quotes and the citation marks that follow it ("… 2025. [1]").
    A closing quote whose quote ended a sentence ends the sentence too.
    """
    ends: list[tuple[int, bool]] = []
    n, i, closing = len(text), 0, None
    while i < n:
        ch = text[i]
        end = None
        if closing is not None:
            if ch == closing:
                closing = None
                if i > 0 and text[i - 1] in _TERMINALS + ".":
                    end = i + 1
        elif ch in QUOTE_PAIRS:
            closing = QUOTE_PAIRS[ch]
        elif ch in _TERMINALS or ch == "\n" or (
                ch == "." and (i + 1 == n or text[i + 1].isspace() or MARK.match(text, i + 1))
                and not _abbreviation_before(text, i)):
            end = i + 1
        if end is None:
            i += 1
            continue
        while end < n and text[end] in _CLOSERS and text[end] not in QUOTE_PAIRS:
            end += 1
        while True:  # marks after the full stop belong to the sentence before them
            m = MARK.match(text, end + len(text[end:]) - len(text[end:].lstrip(" ")))
            if not m:
                break
            end = m.end()
            if end < n and text[end] in _TERMINALS + ".":  # "… [1]." : the stop after the mark
                end += 1
        rest = text[end:].lstrip()
        settled = bool(rest) and not _PARTIAL_MARK.match(rest)
        ends.append((end, settled))
        i = end
    return ends


def split_claims(text: str) -> list[str]:
    """The sentences of a whole answer (stripped, empty ones left out)."""
    feed = SentenceFeed()
    return feed.feed(text) + feed.close()


class SentenceFeed:
    """Cuts streamed text into sentences: ``feed`` returns those completed so far, ``close`` the rest."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, delta: str) -> list[str]:
        self._buffer += delta
        done: list[str] = []
        cut = 0
        for end, settled in _sentence_ends(self._buffer):
            if not settled:
                break
            done.append(self._buffer[cut:end])
            cut = end
        self._buffer = self._buffer[cut:]
        return [s.strip() for s in done if s.strip()]

    def close(self) -> list[str]:
        rest, self._buffer = self._buffer, ""
        pieces, cut = [], 0
        for end, _ in _sentence_ends(rest):
            pieces.append(rest[cut:end])
            cut = end
        pieces.append(rest[cut:])
        return [s.strip() for s in pieces if s.strip()]


def _numbers(mark: re.Match) -> list[int]:
    return [int(x) for x in re.split(r"\s*[,，、]\s*", mark.group(1))]


def marks(sentence: str) -> list[int]:
    """The passage numbers a sentence cites, in order (repeats kept)."""
    return [n for m in MARK.finditer(sentence) for n in _numbers(m)]


def renumber_marks(sentence: str, shown: dict[int, int]) -> str:
    """The sentence with each mark rewritten as ``[a, b]`` in the numbers ``shown`` maps to."""
    return MARK.sub(lambda m: "[" + ", ".join(str(shown[n]) for n in _numbers(m)) + "]", sentence)


def quotes(sentence: str) -> tuple[list[str], bool]:
    """The quoted strings of a sentence and whether every quotation mark was closed."""
    found, i, closed = [], 0, True
    while i < len(sentence):
        ch = sentence[i]
        if ch in QUOTE_PAIRS:
            j = sentence.find(QUOTE_PAIRS[ch], i + 1)
            if j < 0:
                closed = False
                break
            found.append(sentence[i + 1:j])
            i = j + 1
        else:
            i += 1
    return found, closed


def check_sentence(sentence: str, passages: Sequence[str]) -> Verdict:
    """Keep, drop or fail one sentence against the passages given (numbered from 1)."""
    cited = list(dict.fromkeys(marks(sentence)))
    if not cited:
        return Verdict()
    bad = [n for n in cited if not 1 <= n <= len(passages)]
    if bad:
        given = f"[1]–[{len(passages)}]" if len(passages) > 1 else "[1]"
        return Verdict(failure=f"it cited passage [{bad[0]}], but only {given} were given")
    found, closed = quotes(sentence)
    if not closed:
        return Verdict(failure="it opened a quotation mark and never closed it")
    verified: list[tuple[int, str]] = []
    for quote in found:
        if not quote.strip():
            continue
        source = next((n for n in cited if quote in passages[n - 1]), None)
        if source is None:
            shown = quote if len(quote) <= 60 else quote[:59] + "…"
            return Verdict(failure=f"its quote “{shown}” is not verbatim in the passage it cites")
        verified.append((source, quote))
    return Verdict(claim=Claim(sentence, cited, verified))


def check(text: str, passages: Sequence[str]) -> CheckResult:
    """Check a whole generated answer; ``failure`` says why it must not be shown, if it must not."""
    claims, dropped = [], []
    for sentence in split_claims(text):
        verdict = check_sentence(sentence, passages)
        if verdict.failure:
            return CheckResult(claims, dropped, verdict.failure)
        if verdict.claim:
            claims.append(verdict.claim)
        else:
            dropped.append(sentence)
    if not claims:
        return CheckResult(claims, dropped, "no sentence cited a passage")
    return CheckResult(claims, dropped)
