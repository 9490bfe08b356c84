"""Article references in questions: 第十三条, 第十三条之一, "Article 13", "Art. 13 of the … Law"."""
from __future__ import annotations

import re
from typing import Optional

from .numerals import CN_NUMERAL, article_label, cn_to_int

_CN_REF = re.compile(rf"第({CN_NUMERAL}|\d+)条(?:之({CN_NUMERAL}))?")
_EN_REF = re.compile(r"\b(?:article|art\.?)\s*(\d+)(?:\s*\(\s*(\d+)\s*\))?", re.I)


def article_reference(question: str) -> Optional[str]:
    """The article label a question names, normalised to 第X条 form, or None."""
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
