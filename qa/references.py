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


_WHEN_ZH = re.compile(r"(什么时候|何时|哪天|哪一天|几时|哪年|日期|时间|多会儿).{0,12}(施行|生效|实施|开始|起效)|"
                      r"(施行|生效|实施)(日期|时间|日)")
_WHEN_EN = re.compile(r"\b(when|what date|which date|effective date|start date|date of entry)\b.{0,80}"
                      r"\b(take effect|took effect|come into force|came into force|enter into force|entered into force|"
                      r"effective|in force|start to apply|apply from|begin)\b|\beffective date\b", re.I)
EFFECTIVE_CLAUSE = re.compile(r"(自|于).{0,30}(起施行|起生效|开始施行)|施行之日|"
                              r"(shall|will)?\s*(come|came|comes) into (force|effect) (on|from|as of)|"
                              r"(take|takes|took) effect (on|from|as of)|(effective|in force) (from|on|as of) \w+ \d", re.I)


def asks_effective_date(question: str) -> bool:
    """True for "When does … take effect?" / "……什么时候施行？" — answered by the law's own clause."""
    return bool(_WHEN_ZH.search(question) or _WHEN_EN.search(question))
