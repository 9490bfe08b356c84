"""Cross-references in the app's HTML (qa.web.render, pure): links, escaping, "refers to" blocks."""
from __future__ import annotations

from qa.highlight import highlight
from qa.models import Passage
from qa.references import Reference
from qa.web.handlers import unit_links
from qa.web.render import passage_card, paragraph_texts, reference_tag, refers_to_html


def resolved(text="本条例第二条第一款", start=2, doc='park<1>.md', article="第二条", paragraphs=(1,)):
    return Reference(text=text, start=start, end=start + len(text), article=article, paragraphs=list(paragraphs),
                     doc=doc, title="示例条例", resolved=True, passage_id=7)


def test_a_resolved_reference_is_a_link_carrying_its_target_escaped():
    tag = reference_tag(resolved())
    assert tag.startswith('<a class="qa-ref" href="#" role="button" data-doc="park&lt;1&gt;.md"')
    assert 'data-article="第二条" data-paragraph="1" title="《示例条例》第二条第一款"' in tag


def test_an_unresolved_reference_says_why_and_is_no_link():
    ref = Reference(text="《某法》第三条", start=0, end=7, law="某法", article="第三条",
                    reason='《某法》 is not in the index "quoted"')
    assert reference_tag(ref) == '<span class="qa-ref-unresolved" title="《某法》 is not in the index &quot;quoted&quot;">'


def test_a_link_wraps_the_marks_inside_it_whole():
    text = "违反本条例第二条第一款规定的"
    html = highlight(text, quotes=["第二条第一款规定的"], links=[(2, 11, '<a class="qa-ref">')])
    assert html == ('违反<a class="qa-ref">本条例<mark class="quote">第二条第一款</mark></a>'
                    '<mark class="quote">规定的</mark>')


def test_card_links_references_and_refers_to_shows_the_named_paragraph():
    p = Passage(doc_id="park.md", title="示例条例", text="第三条 违反本条例第二条第一款规定的，责令改正。", article="第三条", id=3)
    ref = resolved(start=6)
    card = passage_card(p, 1, references=[ref], footer=refers_to_html([ref, ref], {
        ('park<1>.md', "第二条"): "第二条 甲负责规划。\n乙应当公开指南。"}))
    assert '<a class="qa-ref"' in card and ">本条例第二条第一款</a>" in card
    assert card.count("<details") == 1  # the same target once
    assert '<summary>refers to 《示例条例》第二条第一款</summary>' in card
    assert '<mark class="quote">第二条 甲负责规划。</mark>' in card


def test_paragraph_texts_follow_paragraphs_not_items():
    text = "第八条 下列事项：\n（一）甲；\n（二）乙。\n违反前款规定的，责令改正。"
    assert paragraph_texts(text, [2]) == ["违反前款规定的，责令改正。"]
    assert paragraph_texts(text, [1]) == ["第八条 下列事项：\n（一）甲；\n（二）乙。"]
    assert paragraph_texts(text, [3]) == []


def test_links_of_a_long_article_split_in_pieces_land_in_its_joined_text():
    pieces = [Passage(doc_id="d", title="t", text="第九条 甲。", article="第九条", part=0, id=1),
              Passage(doc_id="d", title="t", text="依照本条例第二条处理。", article="第九条", part=1, id=2),
              Passage(doc_id="d", title="t", text="第十条 乙。", article="第十条", part=0, id=3)]
    ref = resolved(text="本条例第二条", start=2, paragraphs=())
    links = unit_links(pieces, {2: [ref]})
    assert [len(x) for x in links] == [1, 0]
    start, end, _ = links[0][0]
    assert ("第九条 甲。\n依照本条例第二条处理。")[start:end] == "本条例第二条"
