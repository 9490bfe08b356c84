"""A document's dates (promulgated, amended, in force from), version label and region.

Read once at index time from what the document itself says: front matter, the date in the file
name (``…(2021-04-29).md``), the history lines under a statute's title (``1987年1月22日 …通过``,
``2021年4月29日 …第六次修正``) and its commencement clause (``本法自1987年7月1日起施行``).
Pure functions over strings, so each rule is tested on synthetic text.

In force from: the commencement clause gives the date the law (or a revision that rewrote the
clause) took effect. A 修正 by decision leaves the clause as first enacted, so when the latest
amendment is later than the clause, the amendment's date is used (such decisions take effect on
adoption unless they say otherwise, which the text under the title does not record).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Mapping, Optional

from .lexical import segment
from .numerals import DIGITS, cn_to_int

REGIONS: tuple[str, ...] = ("chongqing", "national", "other")

_NUM = r"(?:\d{1,4}|[〇零一二三四五六七八九十]{1,4})"
DATE_CN = re.compile(rf"({_NUM})\s*年\s*({_NUM})\s*月\s*({_NUM})\s*日")
_COMMENCEMENT = re.compile(rf"自\s*({_NUM}\s*年\s*{_NUM}\s*月\s*{_NUM}\s*日)\s*起?\s*施行")
_FROM_PUBLICATION = re.compile(r"自\s*(?:公布|发布)之日起\s*施行")
_FIRST_PROVISION = re.compile(r"^\s*(?:#+\s*)?第[一二三四五六七八九十百零〇]+[编章节条]", re.M)
_LABEL_IN_TITLE = re.compile(r"[(（]\s*(\d{4})\s*年?\s*(修正|修订|版)?\s*[)）]\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})")


@dataclass(frozen=True)
class DocumentMeta:
    """What is known of one document; None where the text does not say."""

    promulgated: Optional[str] = None  # ISO date the law was first adopted / published
    amended: Optional[str] = None  # ISO date of the latest 修正 / 修订 (this version)
    in_force_from: Optional[str] = None  # ISO date this version took effect
    region: Optional[str] = None  # one of REGIONS
    version_label: Optional[str] = None  # e.g. "2021年修正"


# ---------------------------------------------------------------- dates


def _number(text: str) -> int:
    text = re.sub(r"\s", "", unicodedata.normalize("NFKC", text))
    if text.isdigit():
        return int(text)
    if len(text) >= 2 and all(c in DIGITS for c in text):  # 二〇二一: digit by digit
        return int("".join(str(DIGITS[c]) for c in text))
    return cn_to_int(text)


def parse_cn_date(text: str) -> Optional[str]:
    """The first date written 2021年4月29日 / 二〇二一年四月二十九日 / ２０21年 4月 1日 in ``text``, as ISO."""
    m = DATE_CN.search(unicodedata.normalize("NFKC", text))
    if not m:
        return None
    try:
        return date(_number(m.group(1)), _number(m.group(2)), _number(m.group(3))).isoformat()
    except ValueError:
        return None


def iso_date(value) -> Optional[str]:
    """A front-matter or file-name value (date, '2021-04-29', '2021年4月29日') as ISO, else None."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    m = _ISO.match(text)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            return None
    return parse_cn_date(text)


@dataclass(frozen=True)
class HistoryEvent:
    """One line of a statute's history: a date and what happened (通过/公布, 修正, 修订, 施行)."""

    day: str
    what: str  # "adopted" (通过, 公布, 批准…), "修正", "修订", "修改", "in force"


def history(text: str) -> list[HistoryEvent]:
    """The dated events in the lines above the first chapter or article."""
    head = text[: m.start()] if (m := _FIRST_PROVISION.search(text)) else text[:1500]
    head = unicodedata.normalize("NFKC", head)
    matches = list(DATE_CN.finditer(head))
    events = []
    for i, m in enumerate(matches):
        day = parse_cn_date(m.group(0))
        if day is None:
            continue
        following = head[m.end(): matches[i + 1].start() if i + 1 < len(matches) else len(head)]
        # A decision named in the line (《关于修改…的决定》) is what amends; its title's 修改 is not the event.
        if "修订" in following:
            what = "修订"
        elif "修正" in following:
            what = "修正"
        elif "修改" in following and "决定" not in following:  # autonomous counties: 县人民代表大会…修改
            what = "修改"
        elif re.match(r"\s*(?:起\s*)?施行", following):
            what = "in force"
        else:
            what = "adopted"
        events.append(HistoryEvent(day, what))
    return events


def commencement(text: str, version_day: Optional[str]) -> Optional[str]:
    """The date of the last commencement clause (自…起施行); 自公布之日起施行 means ``version_day``."""
    clauses = list(_COMMENCEMENT.finditer(unicodedata.normalize("NFKC", text)))
    if clauses:
        return parse_cn_date(clauses[-1].group(1))
    if _FROM_PUBLICATION.search(text):
        return version_day
    return None


# A file-name date this much later than the last dated line under the title names a change the
# history does not record (a few days later is the same version's publication in the gazette).
UNRECORDED_CHANGE_DAYS = 60


def _days_between(earlier: str, later: str) -> int:
    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days


def dates_of(text: str, file_date: Optional[str] = None) -> tuple[Optional[str], Optional[str], Optional[str], Optional[str]]:
    """(promulgated, amended, in force from, version label) read from a statute's text and the
    date in its file name (the pack names each file after its latest version)."""
    events = history(text)
    changes = [e for e in events if e.what in ("修正", "修订", "修改")]
    originals = [e for e in events if e.what == "adopted"]
    if changes:
        originals = [e for e in originals if e.day < changes[0].day]
    promulgated = originals[0].day if originals else None
    amended = changes[-1].day if changes else None
    label = f"{amended[:4]}年{changes[-1].what}" if changes else None
    last = max((e.day for e in events), default=None)
    if file_date and last and _days_between(last, file_date) > UNRECORDED_CHANGE_DAYS:
        amended, label = file_date, None  # the file names a later version than its history records
    version_day = amended or (originals[-1].day if originals else None) or file_date
    if promulgated is None and amended is None:
        promulgated = file_date
    stated = [e.day for e in events if e.what == "in force"]
    in_force = commencement(text, version_day) or (stated[-1] if stated else None)
    if amended:
        # A change approved or published later (a county's change, approved by the city) takes effect then.
        settled = max([amended] + [e.day for e in events if e.what == "adopted" and e.day > amended])
        if file_date and file_date == amended:
            settled = amended
        if in_force is None or in_force < settled:
            in_force = settled
    return promulgated, amended, in_force, label


# ---------------------------------------------------------------- region

# Chongqing's districts and counties: local rules of e.g. 彭水苗族土家族自治县 do not say 重庆.
CHONGQING_PLACES = tuple(
    "万州 涪陵 渝中 大渡口 江北 沙坪坝 九龙坡 南岸 北碚 綦江 大足 渝北 巴南 黔江 长寿 江津 合川 永川 南川 璧山 "
    "铜梁 潼南 荣昌 开州 梁平 武隆 城口 丰都 垫江 忠县 云阳 奉节 巫山 巫溪 石柱 秀山 酉阳 彭水 两江新区".split())
PROVINCES = tuple(
    "北京 天津 上海 河北 山西 内蒙古 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 广西 海南 "
    "四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆 香港 澳门 台湾".split())
CITIES = tuple(
    "深圳 厦门 宁波 青岛 大连 广州 武汉 成都 南京 杭州 西安 沈阳 长春 哈尔滨 济南 苏州 无锡 珠海 汕头 "
    "昆明 贵阳 南宁 长沙 郑州 合肥 福州 南昌 太原 石家庄 呼和浩特 兰州 西宁 银川 乌鲁木齐 拉萨 海口 三亚".split())
# The same places as English questions and English titles name them.
PLACE_NAMES_EN = {
    "Chongqing": "重庆", "Beijing": "北京", "Tianjin": "天津", "Shanghai": "上海", "Hebei": "河北", "Shanxi": "山西",
    "Inner Mongolia": "内蒙古", "Liaoning": "辽宁", "Jilin": "吉林", "Heilongjiang": "黑龙江", "Jiangsu": "江苏",
    "Zhejiang": "浙江", "Anhui": "安徽", "Fujian": "福建", "Jiangxi": "江西", "Shandong": "山东", "Henan": "河南",
    "Hubei": "湖北", "Hunan": "湖南", "Guangdong": "广东", "Guangxi": "广西", "Hainan": "海南", "Sichuan": "四川",
    "Guizhou": "贵州", "Yunnan": "云南", "Tibet": "西藏", "Xizang": "西藏", "Shaanxi": "陕西", "Gansu": "甘肃",
    "Qinghai": "青海", "Ningxia": "宁夏", "Xinjiang": "新疆", "Hong Kong": "香港", "Macao": "澳门", "Macau": "澳门",
    "Taiwan": "台湾", "Shenzhen": "深圳", "Xiamen": "厦门", "Ningbo": "宁波", "Qingdao": "青岛", "Dalian": "大连",
    "Guangzhou": "广州", "Wuhan": "武汉", "Chengdu": "成都", "Nanjing": "南京", "Hangzhou": "杭州", "Xi'an": "西安",
    "Xian": "西安", "Shenyang": "沈阳", "Changchun": "长春", "Harbin": "哈尔滨", "Jinan": "济南", "Suzhou": "苏州",
    "Wuxi": "无锡", "Zhuhai": "珠海", "Shantou": "汕头", "Kunming": "昆明", "Guiyang": "贵阳", "Nanning": "南宁",
    "Changsha": "长沙", "Zhengzhou": "郑州", "Hefei": "合肥", "Fuzhou": "福州", "Nanchang": "南昌", "Taiyuan": "太原",
    "Shijiazhuang": "石家庄", "Hohhot": "呼和浩特", "Lanzhou": "兰州", "Xining": "西宁", "Yinchuan": "银川",
    "Urumqi": "乌鲁木齐", "Lhasa": "拉萨", "Haikou": "海口", "Sanya": "三亚",
}
_PLACE_EN = re.compile(r"\b(" + "|".join(sorted(map(re.escape, PLACE_NAMES_EN), key=len, reverse=True)) + r")(?:'s)?\b", re.I)
_PLACE_EN_KEY = {name.lower(): place for name, place in PLACE_NAMES_EN.items()}
_PLACES_ZH = ("重庆",) + PROVINCES + CITIES


def places_in(text: str, title: bool = False) -> set[str]:
    """The provinces and cities ``text`` names (as their Chinese names; Chongqing as 重庆), in Chinese
    or English. A Chinese place counts where a word begins with it (重庆市, 山东省, 宁波), not inside
    other words (浙江西部 does not name 江西, 沿海口岸 not 海口). A ``title`` that starts with one of
    Chongqing's districts names Chongqing (in a question those names are everyday words: 南岸, 江北)."""
    text = text or ""
    named = [place for place in _PLACES_ZH if place in text]  # most texts name none: no segmenting then
    found = {place for word in segment(text) for place in named if word.startswith(place)} if named else set()
    found.update(_PLACE_EN_KEY[m.group(1).lower()] for m in _PLACE_EN.finditer(text))
    if title and text.lstrip("《").startswith(CHONGQING_PLACES):
        found.add("重庆")
    return found


@lru_cache(maxsize=4096)
def title_places(title: str) -> frozenset[str]:
    """The places a document title names (cached: an index has a fixed set of titles)."""
    return frozenset(places_in(title, title=True))


def titled_elsewhere(title: str, places: set[str]) -> bool:
    """A document titled with places, none of which a question naming ``places`` asks about: Ningbo's
    rule for a question about Chongqing (a national law names no place and is never elsewhere)."""
    own = title_places(title)
    return bool(places) and bool(own) and not (own & places)


NATIONAL_TITLE = re.compile(r"^(?:中华人民共和国|全国人民代表大会|国务院|最高人民法院|最高人民检察院|中共中央)")
NATIONAL_ISSUER = re.compile(r"全国人民代表大会|国务院|最高人民法院|最高人民检察院")
_PLACE_PREFIX = re.compile(r"^[\u4e00-\u9fff]{2,4}?(?:省|市|自治区|自治州|自治县|县)")
_ENGLISH_NATIONAL = re.compile(r"People's Republic of China|\bPRC\b|State Council|National People's Congress", re.I)


def region_of(title: str, text: str = "") -> Optional[str]:
    """"chongqing", "national", "other" (another province or city) or None when nothing says.

    The title decides first (重庆 or a Chongqing district; 中华人民共和国/国务院…; another province or
    city); then who adopted or approved it (the lines above the first article); then a county or
    city named at the start of the title.
    """
    title = unicodedata.normalize("NFKC", (title or "").strip().lstrip("《"))
    if "重庆" in title or "Chongqing" in title or title.startswith(CHONGQING_PLACES):
        return "chongqing"
    if NATIONAL_TITLE.match(title) or _ENGLISH_NATIONAL.search(title):
        return "national"
    if title.startswith(PROVINCES + CITIES):
        return "other"
    head = text[: m.start()] if (m := _FIRST_PROVISION.search(text)) else text[:1500]
    if "重庆市" in head:  # e.g. a county's rule approved by the Chongqing congress
        return "chongqing"
    if NATIONAL_ISSUER.search(head):
        return "national"
    if _PLACE_PREFIX.match(title):
        return "other"
    for place in PROVINCES + CITIES:
        if place in head:
            return "other"
    return None


# ---------------------------------------------------------------- versions


def law_key(title: str) -> str:
    """The title that versions of one law share: no spaces, no 《》, no 中华人民共和国, no (2021年修正)."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", title or "")).strip("《》")
    key = _LABEL_IN_TITLE.sub("", key)
    return key.removeprefix("中华人民共和国")


def label_in_title(title: str) -> Optional[str]:
    """The version a title names itself: 海关法(2021年修正) → 2021年修正."""
    m = _LABEL_IN_TITLE.search(unicodedata.normalize("NFKC", title or ""))
    return f"{m.group(1)}年{m.group(2) or ''}" if m else None


_FRONT_KEYS = {"promulgated": ("promulgated",), "amended": ("amended",),
               "in_force_from": ("in_force_from", "effective", "in_force"), "region": ("region",),
               "version_label": ("version", "version_label")}


def describe(title: str, text: str, kind: str = "regulation", file_date: Optional[str] = None,
             front: Optional[Mapping] = None) -> DocumentMeta:
    """Everything this module knows about a document; front matter, when it says, wins."""
    front = front or {}
    promulgated = amended = in_force = label = None
    if kind != "news":  # a file date says when a statute was made, not when a summary was written
        promulgated, amended, in_force, label = dates_of(text, iso_date(file_date) if kind == "regulation" else None)
    label = label_in_title(title) or label
    values = {"promulgated": promulgated, "amended": amended, "in_force_from": in_force,
              "region": region_of(title, text), "version_label": label}
    for name, keys in _FRONT_KEYS.items():
        given = next((front[k] for k in keys if front.get(k) not in (None, "")), None)
        if given is None:
            continue
        if name in ("region", "version_label"):
            values[name] = str(given).strip().lower() if name == "region" else str(given).strip()
        else:
            values[name] = iso_date(given)
            if values[name] is None:
                raise ValueError(f"{name} {given!r} is not a date (use YYYY-MM-DD)")
    if values["region"] is not None and values["region"] not in REGIONS:
        raise ValueError(f"region {values['region']!r} is not one of {', '.join(REGIONS)}")
    return DocumentMeta(**values)
