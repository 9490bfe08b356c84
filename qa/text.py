"""Text normalisation and language guessing shared by loaders, chunking and queries."""
from __future__ import annotations

import re

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000\t\f\v]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
# Terminal escape sequences (CSI "ESC [ … m", OSC "ESC ] … BEL") whole, then any other control
# character but newline and tab: document text is untrusted and ends up on terminals and in HTML.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def normalize(text: str) -> str:
    """Unify line ends and spaces, drop zero-width characters; keep Chinese punctuation as is.

    Quotes must stay verbatim substrings of passages, so this never rewrites characters
    beyond whitespace: full-width brackets and quotes in statutes are left alone.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = strip_control(text)
    text = _ZERO_WIDTH.sub("", text)
    text = _SPACES.sub(" ", text)
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


def strip_control(text: str) -> str:
    """Remove terminal escape sequences and control characters other than newline and tab."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


def strip_html_comments(text: str) -> str:
    return _HTML_COMMENT.sub("", text)


def cjk_ratio(text: str) -> float:
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    return cjk / max(1, cjk + latin)


def detect_language(text: str) -> str:
    """'zh' when Chinese characters dominate, 'en' for Latin script, else 'other'.

    Deliberately crude: only the two corpus languages matter for tokenising and framing.
    """
    sample = text[:4000]
    if not sample.strip():
        return "en"
    if cjk_ratio(sample) >= 0.3:
        return "zh"
    letters = [c for c in sample if c.isalpha()]
    if not letters:
        return "en"
    ascii_letters = sum(1 for c in letters if c.isascii())
    return "en" if ascii_letters / len(letters) > 0.8 else "other"


_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=[.])(?=\s+[A-Z\"“(])")


def split_sentences(text: str) -> list[str]:
    """Split into sentences (Chinese 。！？； and English full stops) plus line breaks.

    Every returned piece is a verbatim substring of ``text`` (stripped), so it can be quoted.
    """
    pieces: list[str] = []
    for line in text.split("\n"):
        for part in _SENTENCE_END.split(line):
            part = part.strip()
            if part:
                pieces.append(part)
    return pieces
