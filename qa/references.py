"""Cross-references inside provisions: 本条例第二十九条, 前款, 《招标投标法》第五十条第二项, "Article 6 of these Regulations".

Pure parsing, no index: ``find_references`` reads one article's text and says what each
reference names — a law (as written, or None for "this document"), an article label,
paragraphs and an item. Relative references (前款, 前两款, 本条第二款, 前条) are turned into
absolute ones from where they stand (the paragraph and article they are written in).
Which indexed passage a reference lands on is decided later (``qa.reference_resolver``),
against whatever the index holds at the time, so a law added later is found then.

Scope: references to a provision (article, paragraph or item). A law named without an
article (依照《中华人民共和国招标投标法》的规定) points at no passage and is not listed.
A range (第十条至第十五条) gives its two ends.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Iterable, Optional, Sequence

from .numerals import CN_NUMERAL, article_label, article_number, cn_to_int

_N = rf"(?:{CN_NUMERAL}|\d+)"
# A document naming itself: 本条例, 本法, 本办法, 本规定, 本细则, 本规则, 本决定.
_SELF = r"本(?:实施细则|实施办法|条例|办法|规定|细则|规则|决定|法)"
_TITLE = r"《[^《》\n]{2,60}》"
# A law named without 《》 (older texts and implementing regulations: 招标投标法第四十九条), as the run of
# Chinese characters before the article; the resolver finds which part of the run is a title.
_BARE = r"(?:(?!本(?:条例|法|办法|规定|细则|规则|决定))[\u4e00-\u9fff]){1,20}?(?:法|条例|办法|规定|细则|规则)"
_LEADING_VERB = re.compile(r"^(?:依照|按照|根据|违反|依据|适用|参照|属于|除|即)")
# An item number, bracketed or not, or a list of them: 第二项, 第（一）项, 第二、三、五项 (the first is kept).
_ITEMS = rf"(?:第[（(]?(?P<{{g}}>{_N})[）)]?|[（(](?P<{{g}}b>{_N})[）)])(?:、[（(]?{_N}[）)]?)*"
_CN_REFERENCE = re.compile(
    rf"(?:(?P<law>{_TITLE}|{_SELF})|(?P<bare>{_BARE})(?=第{_N}条))?"
    rf"(?:(?P<art>(?P<di>第|(?<=[例法定则]))(?P<a>{_N})条(?:之(?P<asub>{_N}))?|前(?P<aback>{_N})?条(?!件)|本条(?!例))"
    rf"(?P<para>第(?P<p>{_N})款|前(?P<pback>{_N})?款)?(?P<item>{_ITEMS.format(g='i')}项(?!目)|前项(?!目))?"
    rf"|(?P<para2>第(?P<p2>{_N})款|前(?P<pback2>{_N})?款)(?P<item2>{_ITEMS.format(g='i2')}项(?!目)|前项(?!目))?"
    rf"|(?P<item3>第[（(]?(?P<i3>{_N})[）)]?(?:、[（(]?{_N}[）)]?)*项(?!目)|前项(?!目)))"
)
# What may stand between two references of one list: 第十四条第一款、第二款，第十七条第一款.
_CHAIN_GAP = re.compile(r"^(?:、|，|,|和|及|以及|与|或者|或|至|到)$")
# A line that is an item (项) of the paragraph above it, not a paragraph (款) of its own.
_ITEM_LINE = re.compile(r"^\s*(?:[（(][一二三四五六七八九十]+[)）]|\d+[.．、])")

_EN_REFERENCE = re.compile(
    r"(?:[Pp]aragraph (?P<ep>\d+) of )?Articles? (?P<ea>\d+)(?:\s*\((?P<ep2>\d+)\))?"
    r"(?P<more>(?:(?:, | and | or | to )\d+(?!\s*(?:percent|%|days?|years?)))*)"
    r"(?: of (?P<elaw>these Regulations|this Law|these Measures|these Rules|these Provisions|this Decision"
    r"|the [A-Z][^,.;()]{3,80}?(?:Law|Regulations|Measures|Rules|Provisions|Code)(?: of the People's Republic of China)?))?")
_EN_SELF = re.compile(r"^(these|this) ", re.I)
_EN_PRECEDING = re.compile(r"\b(?:the )?preceding paragraph\b")


@dataclass
class Reference:
    """One reference as written, and (once resolved) the passage it names.

    ``law`` is the law as written (without 《》), None for the document the reference is in;
    ``paragraphs`` are 1-based paragraph (款) numbers of the article, ``item`` a 项 number.
    ``start``/``end`` are character offsets in the passage text it was found in.
    """

    text: str
    start: int
    end: int
    law: Optional[str] = None
    article: Optional[str] = None
    paragraphs: list[int] = field(default_factory=list)
    item: Optional[int] = None
    problem: Optional[str] = None  # why it cannot name a passage whatever is indexed (前款 in paragraph 1)
    law_unbracketed: bool = False  # ``law`` is a run of text ending in a law name (招标投标法), not 《title》
    # Filled in by resolution:
    doc: Optional[str] = None
    title: Optional[str] = None
    resolved: bool = False
    reason: Optional[str] = None
    passage_id: Optional[int] = None

    @property
    def target(self) -> str:
        """What it names, spelt out: 《重庆市天然气管理条例》第二十九条第一款 / "Article 6, paragraph 1"."""
        where = self.article or ""
        chinese = not where.startswith("Article")
        if self.paragraphs:
            where += ("" if chinese else ", ") + "、".join(
                f"第{_cn(p)}款" if chinese else f"paragraph {p}" for p in self.paragraphs)
        if self.item:
            where += f"第{_cn(self.item)}项" if chinese else f", item {self.item}"
        if self.title:
            return f"《{self.title}》{where}" if chinese else f"{self.title}, {where}"
        return where

    def to_dict(self) -> dict:
        d = asdict(self)
        d["target"] = self.target
        return d


def _cn(n: int) -> str:
    return article_label(n)[1:-1]


def _number(text: Optional[str]) -> Optional[int]:
    if not text:
        return None
    try:
        n = int(text) if text.isdigit() else cn_to_int(text)
    except ValueError:
        return None
    return n if 0 < n < 10000 else None


def paragraph_starts(text: str) -> list[int]:
    """Character offsets where each paragraph (款) of an article begins; item lines (（一）…) belong
    to the paragraph above them."""
    starts, offset = [], 0
    for line in text.split("\n"):
        if line.strip() and (not starts or not _ITEM_LINE.match(line)):
            starts.append(offset)
        offset += len(line) + 1
    return starts or [0]


def _paragraphs_with_items(text: str, starts: Sequence[int]) -> list[int]:
    """The paragraphs followed by item lines (（一）…)."""
    found, offset = [], 0
    for line in text.split("\n"):
        if _ITEM_LINE.match(line) and offset > 0:
            n = paragraph_at(starts, offset)
            if n not in found:
                found.append(n)
        offset += len(line) + 1
    return found


def paragraph_at(starts: Sequence[int], offset: int) -> int:
    """The 1-based paragraph that character ``offset`` falls in."""
    n = 1
    for i, s in enumerate(starts, 1):
        if s <= offset:
            n = i
    return n


@dataclass
class _Article:
    """Where references stand: one article's text, its label and paragraph structure."""

    text: str
    label: Optional[str]

    def __post_init__(self) -> None:
        self.starts = paragraph_starts(self.text)
        self.listing = _paragraphs_with_items(self.text, self.starts)  # paragraphs that list items
        self.number = article_number(self.label)

    def item_at(self, offset: int) -> Optional[int]:
        """The item (（一）…) line ``offset`` stands in, counted within its paragraph; None outside items."""
        line_start = self.text.rfind("\n", 0, offset) + 1
        if not _ITEM_LINE.match(self.text[line_start:]):
            return None
        paragraph_start = self.starts[paragraph_at(self.starts, offset) - 1]
        return sum(1 for line in self.text[paragraph_start:line_start].split("\n") if _ITEM_LINE.match(line)) + 1


def find_references(text: str, article: Optional[str] = None) -> list[Reference]:
    """Every provision reference in ``text``, one article's text (``article`` its label, for
    relative references). The article's own label at the start is not a reference."""
    refs = _chinese_references(text, article) if re.search(r"[\u4e00-\u9fff]", text) else []
    return refs + _english_references(text, article)


def _chinese_references(text: str, article: Optional[str]) -> list[Reference]:
    where = _Article(text, article)
    refs: list[Reference] = []
    previous: Optional[Reference] = None
    for m in _CN_REFERENCE.finditer(text):
        ref = _chinese_reference(m, where, previous)
        if ref is not None:
            refs.append(ref)
            previous = ref
    return refs


def _chained(text: str, previous: Optional[Reference], start: int) -> Optional[Reference]:
    """The reference just before, when this one continues its list (、第二款 / 和第十六条)."""
    if previous is None or not 0 <= start - previous.end <= 2:
        return None
    return previous if _CHAIN_GAP.match(text[previous.end:start] or "、") else None


def _chinese_reference(m: re.Match, where: _Article, previous: Optional[Reference]) -> Optional[Reference]:
    g = m.groupdict()
    if m.start() == 0 and g["a"] and m.group(0) == where.label:
        return None  # the article's own label
    chained = _chained(where.text, previous, m.start())
    ref = Reference(text=m.group(0), start=m.start(), end=m.end())
    _name_law(ref, g, chained)
    if g["art"]:
        paragraph, p, pback = g["para"], g["p"], g["pback"]
    else:
        paragraph, p, pback = g["para2"], g["p2"], g["pback2"]
    item = g["item"] or g["item2"] or g["item3"]
    here = paragraph_at(where.starts, m.start())
    if g["art"]:
        if not _name_article(ref, g, where, bool(paragraph or item)):
            return None
    else:
        _place_without_article(ref, where, previous, chained, bool(paragraph), here)
    if paragraph:
        _name_paragraphs(ref, g["a"] is not None, where, paragraph, p, pback, here)
    if item:
        number = g["i"] or g["ib"] or g["i2"] or g["i2b"] or g["i3"]
        _name_item(ref, number, where, m.start(), here)
    if ref.article is None and ref.problem is None:
        ref.problem = "the article it belongs to is unknown"
    return ref


def _name_law(ref: Reference, g: dict, chained: Optional[Reference]) -> None:
    """《title》, a law named without brackets, 本条例 (None: this document), or the list's law."""
    if g["bare"]:
        verb = _LEADING_VERB.match(g["bare"])
        cut = verb.end() if verb and len(g["bare"]) - verb.end() >= 2 else 0
        ref.start += cut
        ref.text = ref.text[cut:]
        ref.law, ref.law_unbracketed = g["bare"][cut:], True
    elif g["law"] and g["law"].startswith("《"):
        ref.law = g["law"][1:-1]
    elif g["law"] is None and chained is not None:
        ref.law, ref.law_unbracketed = chained.law, chained.law_unbracketed


def _name_article(ref: Reference, g: dict, where: _Article, more: bool) -> bool:
    """第X条, 前条 or 本条 (with a paragraph or item after it); False when the match is no reference."""
    if g["a"]:
        if not g["di"] and not (g["law"] and g["law"].startswith("本")):
            return False  # a number right after a law name counts only as 本条例四十二条
        n = _number(g["a"])
        if n is None:
            return False
        ref.article = article_label(n, _number(g["asub"]) if g["asub"] else None)
    elif g["art"].startswith("前"):  # 前条, 前两条: counted back from this article
        back = _number(g["aback"]) or 1
        if where.number is None or where.number - back < 1:
            ref.problem = f"{g['art']} has no article before it to name"
        else:
            ref.article = article_label(where.number - back)
    else:  # 本条 alone is the article itself, not a reference
        if not more:
            return False
        ref.article = where.label
    return True


def _place_without_article(ref: Reference, where: _Article, previous: Optional[Reference],
                           chained: Optional[Reference], has_paragraph: bool, here: int) -> None:
    """A paragraph or item named without an article: of the article just named in this list, else of
    this one (an item alone: of the paragraph that lists items, or of the article named before when
    this one lists none — 违反本条例第二十一条第一项规定的……；违反第三项规定的……)."""
    source = chained
    if source is None and not has_paragraph and not where.listing and previous is not None and previous.article:
        source = previous
    if source is not None and source.article:
        ref.article, ref.law, ref.law_unbracketed = source.article, source.law, source.law_unbracketed
        if not has_paragraph:
            ref.paragraphs = list(source.paragraphs)
        return
    ref.article = where.label
    if not has_paragraph:
        ref.paragraphs = [p for p in where.listing if p <= here][-1:]


def _name_paragraphs(ref: Reference, explicit_article: bool, where: _Article, written: str, p: Optional[str],
                     pback: Optional[str], here: int) -> None:
    """第X款, or 前款 / 前两款: the paragraph(s) just before the one the reference stands in."""
    if p:
        ref.paragraphs = [_number(p) or 0]
        return
    back = _number(pback) or 1
    if ref.article != where.label or explicit_article:
        ref.problem = f"{written} after another article cannot be placed"
    elif here - back < 1:
        ref.problem = f"{written} stands in paragraph {here}, which has no {back} paragraph(s) before it"
    else:
        ref.paragraphs = list(range(here - back, here))


def _name_item(ref: Reference, number: Optional[str], where: _Article, offset: int, here: int) -> None:
    """第X项, or 前项: the item before the one the reference stands in."""
    if number:
        ref.item = _number(number)
        return
    current = where.item_at(offset)
    if current is None or current < 2 or ref.article != where.label:
        ref.problem = "前项 stands outside a list of items, or in its first item"
    else:
        ref.item, ref.paragraphs = current - 1, [here]


def _english_references(text: str, article: Optional[str]) -> list[Reference]:
    refs: list[Reference] = []
    for m in _EN_REFERENCE.finditer(text):
        if m.start() == 0 and article and text.startswith(f"Article {m.group('ea')}") and m.group(0) == article:
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        if m.start() == line_start and article == f"Article {m.group('ea')}" and not m.group("elaw"):
            continue  # a label line, not a reference
        law = m.group("elaw")
        law = None if law is None or _EN_SELF.match(law) else law.removeprefix("the ")
        paragraph = m.group("ep") or m.group("ep2")
        numbers = [m.group("ea")] + re.findall(r"\d+", m.group("more") or "")
        for i, number in enumerate(numbers):
            ref = Reference(text=m.group(0), start=m.start(), end=m.end(), law=law, article=f"Article {int(number)}")
            if paragraph and i == 0:
                ref.paragraphs = [int(paragraph)]
            refs.append(ref)
    starts = paragraph_starts(text)
    for m in _EN_PRECEDING.finditer(text):
        here = paragraph_at(starts, m.start())
        ref = Reference(text=m.group(0), start=m.start(), end=m.end(), article=article)
        if here < 2 or article is None:
            ref.problem = "the preceding paragraph of the first paragraph does not exist"
        else:
            ref.paragraphs = [here - 1]
        refs.append(ref)
    return sorted(refs, key=lambda r: r.start)


# ---------------------------------------------------------------- passages of one document


def passage_references(passages: Iterable[tuple[int, "object"]]) -> list[tuple[int, Reference]]:
    """(passage id, reference) for the passages of one document, in reading order.

    Pieces of one long article are read together (a 前款 in the second piece needs the
    paragraphs of the first), and each reference is given back with offsets in its own piece.
    """
    out: list[tuple[int, Reference]] = []
    group: list[tuple[int, object]] = []

    def flush() -> None:
        if not group:
            return
        texts = [p.text for _, p in group]
        joined = "\n".join(texts)
        bounds, offset = [], 0
        for t in texts:
            bounds.append(offset)
            offset += len(t) + 1
        for ref in find_references(joined, group[0][1].article):
            k = max(i for i, b in enumerate(bounds) if b <= ref.start)
            if ref.end > bounds[k] + len(texts[k]):
                continue  # spans a cut between pieces: cannot be linked inside one of them
            ref.start -= bounds[k]
            ref.end -= bounds[k]
            out.append((group[k][0], ref))
        group.clear()

    for pid, p in passages:
        if group and (p.article is None or p.article != group[-1][1].article or p.part == 0):
            flush()
        group.append((pid, p))
    flush()
    return out
