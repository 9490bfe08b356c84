"""How a passage is cited: 《外商投资法》第二十条 for Chinese law, "Title, Art. 20" for English."""
from __future__ import annotations

import re
from typing import Optional

_EN_ARTICLE = re.compile(r"^Article (\d+)$")


def format_citation(title: str, article: Optional[str], language: str = "zh", kind: str = "regulation",
                    version: Optional[str] = None) -> str:
    """``version`` (e.g. "2021年修正") names the version when the index holds several of one law:
    《中华人民共和国海关法》(2021年修正)第二条, the way Chinese legal writing cites an amended law."""
    if language == "zh" or re.search(r"[\u4e00-\u9fff]", title or ""):
        base = f"《{title}》" + (f"({version})" if version else "")
        return base + (article or "")
    named = f"{title} ({version})" if version else title
    if article:
        m = _EN_ARTICLE.match(article)
        return f"{named}, Art. {m.group(1)}" if m else f"{named}, {article}"
    return named
