"""An optional generative reader: a short answer in the asker's language, written by a language model
from the retrieved passages only, and shown only after it passed the checks of ``qa.answer_check``.

It wraps the extractive reader rather than replacing it: the extractive reading decides whether
there is an answer at all (an abstention stays an abstention, no model is asked), gives the
verbatim quotes that are always shown under the generated text, and is what the reader gets, with
a one-line note, when the server fails, is too slow, or the answer fails a check.

The passages are numbered for the model with the extractive reading's cited passages first, so
the numbers the model writes and the numbers of the sources shown under the answer agree.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator, Sequence

from .answer_check import Claim, SentenceFeed, check_sentence, join_sentences, renumber_marks
from .llm_client import ChatEndpoint, LLMError
from .models import Citation, Generation, Hit
from .query import Query
from .reader import Reader, Reading, frame, verbatim_spans

MAX_PASSAGES = 4
MAX_PASSAGE_CHARS = 1500  # what a small model's context holds well; quotes are checked against this text
MAX_TOKENS = 320
_LANGUAGES = {"zh": "简体中文 (Simplified Chinese)", "en": "English"}


class CheckFailed(Exception):
    """The generated answer broke a rule; the message says which, in one line."""


def build_messages(question: str, language: str, passages: Sequence[tuple[str, str]]) -> list[dict]:
    """The chat messages for a question and its numbered passages, given as (citation, text)."""
    written_in = _LANGUAGES.get(language, "the language of the question")
    system = ("You answer questions about laws and regulations using only the numbered passages you are given. "
              f"Write in {written_in}, in at most three short sentences. End every sentence with the number of "
              "the passage it rests on in square brackets, like [1]. When you quote, copy the words exactly from "
              "that passage and put them in quotation marks. Never cite a number that is not listed. If the "
              "passages do not answer the question, say so in one sentence ending with the nearest passage's number.")
    listed = "\n\n".join(f"[{n}] {citation}\n{text}" for n, (citation, text) in enumerate(passages, 1))
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"Passages:\n\n{listed}\n\nQuestion: {question}"}]


def not_shown_note(reason: str) -> str:
    return f"The generated answer is not shown ({reason}); the quoted provisions are shown instead."


class GenerativeReader:
    """Reads with ``fallback`` first, then has the model write an answer from the same passages."""

    name = "generative"

    def __init__(self, fallback: Reader, endpoint: ChatEndpoint, max_passages: int = MAX_PASSAGES,
                 max_passage_chars: int = MAX_PASSAGE_CHARS, max_tokens: int = MAX_TOKENS):
        self.fallback = fallback
        self.endpoint = endpoint
        self.max_passages = max_passages
        self.max_passage_chars = max_passage_chars
        self.max_tokens = max_tokens

    def read(self, query: Query, hits: Sequence[Hit]) -> Reading:
        reading = None
        for reading in self.stream(query, hits):
            pass
        return reading

    def given_hits(self, base: Reading, hits: Sequence[Hit]) -> list[Hit]:
        """The passages the model sees: those the extractive reading cites, then the best of the rest."""
        given = [c.hit for c in base.citations]
        for hit in hits:
            if len(given) >= self.max_passages:
                break
            if all(hit is not g and hit.passage.id != g.passage.id for g in given):
                given.append(hit)
        return given[: max(self.max_passages, len(base.citations))]

    def stream(self, query: Query, hits: Sequence[Hit]) -> Iterator[Reading]:
        """Readings as the answer grows: the extractive one first, then one per checked sentence,
        then the final one (with the generated answer, or with the note saying why it is not shown)."""
        base = self.fallback.read(query, hits)
        if base.abstained:
            yield base
            return
        given = self.given_hits(base, hits)
        texts = [h.passage.text[: self.max_passage_chars] for h in given]
        messages = build_messages(query.text, query.language, [(h.citation, t) for h, t in zip(given, texts)])
        numbers = Renumbering(len(base.citations))
        claims: list[Claim] = []
        dropped = 0
        yield replace(base, generated=Generation("", self.endpoint.label, complete=False))
        try:
            feed = SentenceFeed()
            pieces = self.endpoint.stream(messages, self.max_tokens)
            for sentences in _then(map(feed.feed, pieces), feed.close):
                added = 0
                for sentence in sentences:
                    verdict = check_sentence(sentence, texts)
                    if verdict.failure:
                        raise CheckFailed(verdict.failure)
                    if verdict.claim is None:
                        dropped += 1
                        continue
                    claims.append(verdict.claim)
                    numbers.assign(verdict.claim.cites)
                    added += 1
                if added:
                    text = join_sentences([numbers.apply(c.text) for c in claims])
                    yield replace(base, generated=Generation(text, self.endpoint.label, complete=False))
            if not claims:
                raise CheckFailed("no sentence cited a passage")
        except (LLMError, CheckFailed) as exc:
            yield replace(base, note=not_shown_note(str(exc)))
            return
        yield self._final(base, query.language, given, claims, dropped, numbers)

    def _final(self, base: Reading, language: str, given: list[Hit], claims: list[Claim], dropped: int,
               numbers: "Renumbering") -> Reading:
        """The extractive citations, then the further passages the model cited, each with every
        verbatim quote made from it (the model's are checked substrings of the passage)."""
        citations = [Citation(hit=c.hit, quotes=list(c.quotes)) for c in base.citations]
        for number in numbers.order[len(citations):]:
            citations.append(Citation(hit=given[number - 1], quotes=[]))
        for claim in claims:
            for number, quote in claim.quotes:
                citation = citations[numbers.shown[number] - 1]
                citation.quotes = verbatim_spans(citation.hit.passage.text, citation.quotes + [quote])
        text = join_sentences([numbers.apply(c.text) for c in claims])
        generated = Generation(text, self.endpoint.label, complete=True, dropped=dropped)
        return replace(base, text=frame(language, citations, base.partial), citations=citations,
                       generated=generated)


class Renumbering:
    """Passage numbers as the model saw them → as the reader sees them under the answer.

    The first ``kept`` given passages are the extractive citations and keep their numbers; any other
    passage gets the next free number when the model first cites it, so numbers shown while
    streaming never change afterwards.
    """

    def __init__(self, kept: int) -> None:
        self.order: list[int] = list(range(1, kept + 1))  # given numbers, in shown order
        self.shown: dict[int, int] = {n: n for n in self.order}

    def assign(self, cited: Sequence[int]) -> None:
        for n in cited:
            if n not in self.shown:
                self.order.append(n)
                self.shown[n] = len(self.order)

    def apply(self, sentence: str) -> str:
        return renumber_marks(sentence, self.shown)


def _then(first: Iterator, last) -> Iterator:
    """Everything ``first`` yields, then ``last()``: the feed's remainder once the stream has ended."""
    yield from first
    yield last()
