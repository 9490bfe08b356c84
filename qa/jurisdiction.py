"""Which of the cited rules applies where: a Chongqing assistant says how national and local rules relate.

A question answered from a national law and a Chongqing regulation (or from another province's
rule) leaves a reader unsure which binds them. The note is built from the cited laws' titles
alone (``document_meta.region_of``), so it never states law the passages do not carry: it says
where each cited rule applies and the general order between them (national law ranks above a
local regulation, which fills in detail within it).
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from .document_meta import places_in, region_of
from .models import Citation, Hit

HOME_REGION = "chongqing"
_PLACE = {"en": "Chongqing", "zh": "重庆"}


def _title(hit: Hit) -> str:
    return hit.passage.title


def _by_title(hit: Hit) -> Optional[str]:
    return region_of(hit.passage.title)


def applicability_note(citations: Sequence[Citation], hits: Sequence[Hit], language: str,
                       question_regions: Sequence[str] = (),
                       region: Callable[[Hit], Optional[str]] = _by_title) -> Optional[str]:
    """One sentence on where the cited rules apply, or None when there is nothing to tell. ``region``
    says where a hit's document applies (the index records it; the title alone by default).

    - a national and a Chongqing rule cited (or the other one of the pair among the top three
      results): both apply in Chongqing, the national one ranks higher;
    - a rule of another place cited for a question that names no other place: it does not bind in
      Chongqing.
    """
    cited = [c.hit for c in citations]
    regions = {_title(h): region(h) for h in cited}
    zh = language == "zh"
    national = [t for t, r in regions.items() if r == "national"]
    home = [t for t, r in regions.items() if r == HOME_REGION]
    other = [t for t, r in regions.items() if r == "other"]
    if national and not home:
        twin = next((h for h in hits[:3] if region(h) == HOME_REGION), None)
        if twin is not None:
            if zh:
                return (f"适用范围：{_book(national[0])}是全国性规定，在重庆同样适用；检索结果中的{twin.citation}"
                        f"是重庆的地方性规定，也可能适用。两者不一致时，以上位的全国性规定为准。")
            return (f"Which applies: {_book(national[0])} is national and applies in Chongqing too; "
                    f"{twin.citation} among the results is Chongqing's own rule on the subject and may apply as well. "
                    f"Where they differ, the national rule ranks higher.")
    if home and not national:
        twin = next((h for h in hits[:3] if region(h) == "national"), None)
        if twin is not None:
            national = [_title(twin)]
    if national and home:
        if zh:
            return (f"适用范围：{_book(home[0])}是重庆的地方性规定，{_book(national[0])}是全国性规定，"
                    f"两者在重庆都适用；不一致时，以上位的全国性规定为准，地方性规定在其范围内作出具体规定。")
        return (f"Which applies: {_book(home[0])} is Chongqing's local rule and {_book(national[0])} is national; "
                f"both apply in Chongqing. Where they differ, the national rule ranks higher; the local one adds "
                f"detail within it.")
    if other and "other" not in question_regions:
        if zh:
            return f"适用范围：{_book(other[0])}是其他地方的规定，不适用于重庆。"
        return f"Which applies: {_book(other[0])} is another place's rule; it does not apply in Chongqing."
    return None


def regions_named(query) -> list[str]:
    """Regions the question itself points at: the laws it names, and any other province or city it
    mentions (in its own words or in its Chinese rendering: "Shandong" → 山东)."""
    named = [region_of(title) for title in query.laws]
    texts = [query.text] + ([query.translation.text] if query.translation and query.translation.text else [])
    if any(places_in(text) - {"重庆"} for text in texts):
        named.append("other")
    return [r for r in named if r]


def _book(title: str) -> str:
    return f"《{title}》"
