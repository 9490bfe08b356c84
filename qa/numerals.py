"""Chinese numerals ↔ integers, for article labels such as 第一百二十三条 and "Article 123"."""
from __future__ import annotations

import re

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL = "[零〇一二两三四五六七八九十百千]+"
_DIGIT_CHARS = "零一二三四五六七八九"


def cn_to_int(text: str) -> int:
    """Parse a Chinese numeral ("一百零三" → 103, "十二" → 12); raises ValueError if malformed."""
    if not text or any(c not in DIGITS and c not in UNITS for c in text):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    total, current = 0, 0
    for ch in text:
        if ch in DIGITS:
            current = DIGITS[ch]
        else:
            total += (current or 1) * UNITS[ch]
            current = 0
    return total + current


def int_to_cn(n: int) -> str:
    """Write n (1..9999) the way statutes number articles: 10 → 十, 13 → 十三, 103 → 一百零三."""
    if n <= 0 or n >= 10000:
        raise ValueError(f"article number out of range: {n}")
    parts: list[str] = []
    zero_pending = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, value)
        if digit:
            if zero_pending and parts:
                parts.append("零")
            parts.append(_DIGIT_CHARS[digit] + unit)
            zero_pending = False
        elif parts:
            zero_pending = True
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


def article_label(n: int, suffix: int | None = None) -> str:
    """13 → 第十三条; (13, 1) → 第十三条之一."""
    label = f"第{int_to_cn(n)}条"
    return f"{label}之{int_to_cn(suffix)}" if suffix else label


_LABEL = re.compile(rf"^第({CN_NUMERAL})条(?:之({CN_NUMERAL}))?$")


def parse_article_label(label: str) -> tuple[int, int]:
    """第十三条之一 → (13, 1); 第十三条 → (13, 0). Used to order and compare labels."""
    m = _LABEL.match(label or "")
    if not m:
        raise ValueError(f"not an article label: {label!r}")
    return cn_to_int(m.group(1)), cn_to_int(m.group(2)) if m.group(2) else 0


_EN_LABEL = re.compile(r"^Article (\d+)$")


def article_number(label: str | None) -> int | None:
    """第十三条 → 13, "Article 13" → 13, None for anything else (or no label)."""
    m = _EN_LABEL.match(label or "")
    if m:
        return int(m.group(1))
    try:
        return parse_article_label(label or "")[0]
    except ValueError:
        return None


ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def roman_to_int(text: str) -> int:
    total, prev = 0, 0
    for ch in reversed(text.upper()):
        value = ROMAN[ch]
        total = total - value if value < prev else total + value
        prev = max(prev, value)
    return total
