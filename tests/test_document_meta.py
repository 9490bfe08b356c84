"""Document dates, regions and versions read from synthetic strings (qa.document_meta, qa.versions),
and the filter values callers pass (qa.filters, qa.web.handlers.narrowing)."""
from __future__ import annotations

from datetime import date

import pytest

from qa.document_meta import (commencement, dates_of, describe, history, iso_date, label_in_title, law_key,
                              parse_cn_date, region_of)
from qa.filters import Filters
from qa.versions import IN_FORCE, NOT_YET, SUPERSEDED, DocumentDates, excluded, status_on, version_labels


@pytest.mark.parametrize("text, expected", [
    ("2021年4月29日 第十三届…", "2021-04-29"),
    ("自二〇二一年三月一日起施行", "2021-03-01"),
    ("二〇二〇年十二月三十一日", "2020-12-31"),
    ("本条例自２０07年9月１日起施行", "2007-09-01"),
    ("本条例自2016年9月 1日起施行", "2016-09-01"),
    ("2021年2月30日", None),  # no such day
    ("第二十条 没有日期", None),
])
def test_chinese_dates(text, expected):
    assert parse_cn_date(text) == expected


@pytest.mark.parametrize("value, expected", [
    ("2021-04-29", "2021-04-29"), (date(2020, 1, 1), "2020-01-01"), ("2021年4月9日", "2021-04-09"),
    ("29/04/2021", None), ("2021-13-01", None), (None, None),
])
def test_iso_dates_from_front_matter_and_file_names(value, expected):
    assert iso_date(value) == expected


HISTORY = """# 中华人民共和国示例法

1987年1月22日 第六届全国人民代表大会常务委员会第十九次会议通过
2000年7月8日 第九届全国人民代表大会常务委员会第十六次会议《关于修改〈中华人民共和国示例法〉的决定》第一次修正
2013年6月29日 第十二届全国人民代表大会常务委员会第三次会议修订
2021年4月29日 第十三届全国人民代表大会常务委员会第二十八次会议《关于修改〈中华人民共和国道路交通安全法〉等八部法律的决定》第二次修正

## 第一章 总则

第一条 为了示例，制定本法。2030年1月1日以后的事项另行规定。

第九十条 本法自1987年7月1日起施行。
"""


def test_history_lines_above_the_first_chapter_only():
    assert [(e.day, e.what) for e in history(HISTORY)] == [
        ("1987-01-22", "adopted"), ("2000-07-08", "修正"), ("2013-06-29", "修订"), ("2021-04-29", "修正")]


def test_amended_law_is_in_force_from_its_latest_amendment():
    # The commencement clause keeps the first enactment's date; the 2021 amendment is this version.
    assert dates_of(HISTORY) == ("1987-01-22", "2021-04-29", "2021-04-29", "2021年修正")


def test_revision_that_rewrote_the_commencement_clause_keeps_its_later_date():
    text = ("# 示例条例\n2007年9月28日 重庆市第二届人民代表大会常务委员会第三十三次会议通过\n"
            "2016年11月24日 重庆市第四届人民代表大会常务委员会第二十九次会议修订）\n"
            "第一条 示例。\n第五十条 本条例自2017年1月1日起施行。")
    assert dates_of(text) == ("2007-09-28", "2016-11-24", "2017-01-01", "2016年修订")


def test_state_council_rule_published_then_in_force():
    text = ("# 示例条例\n2019年10月8日 国务院第66次常务会议通过\n2019年10月22日 中华人民共和国国务院令第722号公布\n"
            "2020年1月1日 施行\n第一条 示例。")
    assert dates_of(text) == ("2019-10-08", None, "2020-01-01", None)


def test_in_force_on_publication_and_file_name_fallbacks():
    assert commencement("第十条 本条例自公布之日起施行。", "2013-05-29") == "2013-05-29"
    assert commencement("第十条 本条例自2018年1月1日施行。", None) == "2018-01-01"  # without 起
    # No history lines: the file-name date is all there is.
    assert dates_of("第一条 示例。", "2015-04-08") == ("2015-04-08", None, None, None)
    # A file named months after its last history line is a later, unrecorded version.
    promulgated, amended, in_force, label = dates_of(
        "# 示例条例\n2008年7月25日 重庆市第三届人民代表大会常务委员会第五次会议通过\n第一条 示例。"
        "\n第九条 本条例自2008年10月1日起施行。", "2018-07-26")
    assert (promulgated, amended, in_force, label) == ("2008-07-25", "2018-07-26", "2018-07-26", None)


def test_county_change_takes_effect_when_approved():
    text = ("# 示例自治县旅游条例\n2015年7月7日 示例自治县第十六届人民代表大会第七次会议通过\n"
            "2015年7月30日 重庆市第四届人民代表大会常务委员会第十九次会议批准；2019年2月23日示例自治县第十七届"
            "人民代表大会第四次会议修改，2019年3月28日重庆市第五届人民代表大会常务委员会第九次会议批准）\n"
            "第一条 示例。\n第四十条 本条例自2015年10月1日起施行。")
    assert dates_of(text) == ("2015-07-07", "2019-02-23", "2019-03-28", "2019年修改")


@pytest.mark.parametrize("title, head, expected", [
    ("重庆市开发区条例", "", "chongqing"),
    ("中国（重庆）自由贸易试验区条例", "", "chongqing"),
    ("彭水苗族土家族自治县旅游条例", "", "chongqing"),  # a Chongqing county, no 重庆 in the title
    ("示例自治县条例", "2021年3月31日 重庆市第五届人民代表大会常务委员会第二十五次会议批准", "chongqing"),
    ("中华人民共和国海关法", "", "national"),
    ("最高人民法院关于适用《中华人民共和国外商投资法》若干问题的解释", "", "national"),
    ("优化营商环境条例", "2019年10月22日 中华人民共和国国务院令第722号公布", "national"),
    ("Regulations of the People's Republic of China on Customs", "", "national"),
    ("Chongqing Development Zone Regulations to Take Effect", "", "chongqing"),
    ("北京经济技术开发区条例", "", "other"),
    ("山东省经济开发区条例", "", "other"),
    ("宁波大榭开发区条例", "", "other"),
    ("示例县城乡建设条例", "", "other"),
    ("开发区管理条例", "", None),  # no place, no issuer: unknown, not guessed
])
def test_region(title, head, expected):
    assert region_of(title, f"# {title}\n{head}\n第一条 示例。") == expected


def test_law_key_and_title_labels():
    assert law_key("中华人民共和国海关法") == law_key("《海关法(2021年修正)》") == law_key("海关法（2021年修正）") == "海关法"
    assert law_key("中国（重庆）自由贸易试验区条例") == "中国(重庆)自由贸易试验区条例"  # brackets inside stay
    assert label_in_title("中华人民共和国海关法（2021年修正）") == "2021年修正"
    assert label_in_title("中华人民共和国海关法") is None


def test_front_matter_wins_and_bad_values_are_named():
    meta = describe("某条例", "第一条 示例。\n第二条 本条例自2018年1月1日起施行。",
                    front={"in_force_from": "2019-02-01", "region": "Chongqing", "version": "2018年修订"})
    assert (meta.in_force_from, meta.region, meta.version_label) == ("2019-02-01", "chongqing", "2018年修订")
    with pytest.raises(ValueError, match="region 'mars' is not one of chongqing, national, other"):
        describe("某条例", "第一条 示例。", front={"region": "mars"})
    with pytest.raises(ValueError, match="in_force_from 'soon' is not a date"):
        describe("某条例", "第一条 示例。", front={"in_force_from": "soon"})


def test_news_has_no_version_dates():
    meta = describe("Chongqing zone rules take effect", "The rules take effect. 自2025年3月1日起施行", kind="news")
    assert (meta.promulgated, meta.in_force_from, meta.region) == (None, None, "chongqing")


# ---------------------------------------------------------------- versions over rows

V2019 = DocumentDates("a", "中华人民共和国示例法", "regulation", promulgated="2019-03-15", in_force_from="2020-01-01")
V2024 = DocumentDates("b", "示例法", "regulation", amended="2024-06-28", in_force_from="2024-06-28",
                      version_label="2024年修正")
V2030 = DocumentDates("c", "示例法(2030年修订)", "regulation", in_force_from="2030-01-01")
LONE_FUTURE = DocumentDates("d", "未来条例", "regulation", in_force_from="2030-01-01")
UNDATED = DocumentDates("e", "某条例", "regulation")
NEWS = DocumentDates("f", "示例法", "news", date="2019-01-01")  # news is never a version
ROWS = [V2019, V2024, V2030, LONE_FUTURE, UNDATED, NEWS]


def test_status_of_each_version_on_a_day():
    assert status_on(ROWS, date(2025, 1, 1)) == {"a": SUPERSEDED, "b": IN_FORCE, "c": NOT_YET, "d": NOT_YET}
    assert status_on(ROWS, date(2021, 1, 1))["a"] == IN_FORCE


def test_default_leaves_out_superseded_and_future_versions_but_not_a_lone_new_law():
    assert excluded(ROWS, None, today=date(2025, 1, 1)) == {"a", "c"}


def test_as_of_picks_the_version_in_force_that_day():
    assert excluded(ROWS, date(2021, 1, 1)) == {"b", "c", "d"}
    assert excluded(ROWS, date(2019, 6, 1)) == {"a", "b", "c", "d"}  # nothing of the law yet
    assert excluded(ROWS, date(2031, 1, 1)) == {"a", "b"}


def test_version_labels_only_for_laws_with_several_versions():
    assert version_labels(ROWS) == {"a": "2019年", "b": "2024年修正", "c": "2030年"}


def test_filters_validate_region_date_and_versions():
    assert Filters.of(regions="Chongqing", as_of="2021-04-29").regions == ("chongqing",)
    assert Filters.of(as_of="all").versions == "all"
    assert not Filters.of(as_of="all").active  # all versions is not a narrowing
    with pytest.raises(ValueError, match="region 'mars' is not one of chongqing, national, other"):
        Filters.of(regions=["mars"])
    with pytest.raises(ValueError, match="as_of '2021-02-30' is not a date: use YYYY-MM-DD"):
        Filters.of(as_of="2021-02-30")
    with pytest.raises(ValueError, match="cannot be combined"):
        Filters(as_of=date(2020, 1, 1), versions="all")


def test_form_and_http_values_become_filter_keywords():
    from qa.query import QueryError
    from qa.web.handlers import narrowing

    assert narrowing(law="海关法", region="chongqing, national", as_of=" ") == {
        "laws": ["海关法"], "regions": ["chongqing", "national"]}
    assert narrowing(kind=["regulation"], all_versions=True) == {"kinds": ["regulation"], "as_of": "all"}
    with pytest.raises(ValueError, match="region 'mars'"):
        narrowing(region="mars")
    with pytest.raises(QueryError, match="not both"):
        narrowing(as_of="2020-01-01", all_versions=True)
