"""How a passage is cited: 《外商投资法》第二十条 for Chinese law, "Title, Art. 20" for English."""
from __future__ import annotations

import re
from typing import Optional

_EN_ARTICLE = re.compile(r"^Article (\d+)$")


def format_citation(title: str, article: Optional[str], language: str = "zh", kind: str = "regulation") -> str:
    if language == "zh" or re.search(r"[\u4e00-\u9fff]", title or ""):
        base = f"《{title}》"
        return base + (article or "")
    if article:
        m = _EN_ARTICLE.match(article)
        return f"{title}, Art. {m.group(1)}" if m else f"{title}, {article}"
    return title
