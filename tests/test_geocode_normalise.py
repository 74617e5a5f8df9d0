"""Normalisation and parsing of messy Chinese addresses (the variants DOMAIN.md lists)."""

from __future__ import annotations

import pytest

from geoplatform.geocode.normalise import chinese_to_int, clean_text, normalise
from geoplatform.geocode.parse import AdminToken, Lexicon, parse
from geoplatform.geocode.pinyin import pinyin_key, sounds_alike


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十三", 23),
        ("一百五十四", 154),
        ("一百零五", 105),
        ("一百一十", 110),
        ("四零一", 401),
        ("二〇三", 203),
        ("一二零四", 1204),
        ("两", 2),
    ],
)
def test_chinese_numerals(numeral: str, value: int) -> None:
    assert chinese_to_int(numeral) == value


@pytest.mark.parametrize("numeral", ["", "十十", "百十百", "三十五十", "甲"])
def test_malformed_numerals_are_left_alone(numeral: str) -> None:
    assert chinese_to_int(numeral) is None


@pytest.mark.parametrize(
    ("messy", "normal"),
    [
        # full-width digits, letters and dashes (NFKC)
        ("银城华府３号楼２单元４０１室", "银城华府3栋2单元401室"),
        ("银城华府３－２－４０１", "银城华府3-2-401"),
        ("金泰城Ａ座", "金泰城A栋"),
        # traditional characters
        ("烏海市海勃灣區銀城華府小區3號樓", "乌海市海勃湾区银城华府小区3栋"),
        # Chinese numerals before a unit marker, not inside names
        ("银城华府三号楼十二单元四零一室", "银城华府3栋12单元401室"),
        ("五虎山路一百五十四号", "五虎山路154号"),
        ("千里山镇新民一巷二十九号", "千里山镇新民一巷29号"),
        ("海达二期三号楼", "海达二期3栋"),
        ("三道坎街道", "三道坎街道"),
        ("名都城二#一单元", "名都城2栋1单元"),
        # building suffixes 号楼/栋/幢/座/#楼/#
        ("银城华府3幢", "银城华府3栋"),
        ("银城华府3座", "银城华府3栋"),
        ("银城华府3#楼", "银城华府3栋"),
        ("银城华府3#2单元", "银城华府3栋2单元"),
        # long admin forms
        ("滨河社区居委会", "滨河社区"),
        ("滨河社区居民委员会", "滨河社区"),
        ("新民村委会", "新民村"),
        ("滨河街道办事处", "滨河街道"),
        ("凤凰岭办事处", "凤凰岭街道"),
        # spaces and punctuation
        (" 人民路 12 号，银城华府 ", "人民路12号银城华府"),
    ],
)
def test_normalise(messy: str, normal: str) -> None:
    assert normalise(messy) == normal


def test_normalise_is_idempotent() -> None:
    text = (
        "烏海市海勃灣區濱河街道辦事處光明社區居委會人民路１５４號銀城華府小區三號樓十二單元四零一室"
    )
    once = normalise(text)
    assert normalise(once) == once
    assert once == "乌海市海勃湾区滨河街道光明社区人民路154号银城华府小区3栋12单元401室"


def test_clean_text_keeps_numerals_in_names() -> None:
    assert clean_text("二期 三号楼") == "二期三号楼"


def _lexicon() -> Lexicon:
    admin = {
        "乌海市": [AdminToken("city", None, False)],
        "乌海": [AdminToken("city", None, True)],
        "海勃湾区": [AdminToken("district", "150302000000", False)],
        "海勃湾": [AdminToken("district", "150302000000", True)],
        "滨河街道": [AdminToken("street", "150302007000", False)],
        "光明社区": [AdminToken("community", "150302007001", False)],
        "海南": [AdminToken("district", "150303000000", True)],
    }
    return Lexicon(admin=admin, roads={"人民路", "海南路"}, compounds={"银城华府", "海南花园"})


def test_parse_full_address() -> None:
    parsed = parse(
        "乌海市海勃湾区滨河街道光明社区人民路154号银城华府小区3号楼2单元401室", _lexicon()
    )
    assert parsed.codes("district") == {"150302000000"}
    assert parsed.codes("street") == {"150302007000"}
    assert parsed.codes("community") == {"150302007001"}
    assert (parsed.road, parsed.door, parsed.compound) == ("人民路", "154", "银城华府")
    assert (parsed.building, parsed.unit, parsed.room) == ("3", "2", "401")


def test_parse_missing_levels_and_short_district() -> None:
    parsed = parse("海勃湾银城华府3-2-401", _lexicon())
    assert parsed.codes("district") == {"150302000000"}
    assert parsed.road is None
    assert (parsed.compound, parsed.building, parsed.unit, parsed.room) == (
        "银城华府",
        "3",
        "2",
        "401",
    )
    assert parsed.glued


def test_parse_glued_door_unit_room_after_a_road() -> None:
    parsed = parse("海勃湾区人民路154-2-202", _lexicon())
    assert (parsed.road, parsed.door, parsed.building) == ("人民路", "154", None)
    assert (parsed.unit, parsed.room) == ("2", "202")
    assert parsed.compound is None


def test_parse_unknown_road_by_suffix() -> None:
    parsed = parse("乌海市解放路36号2单元101室", _lexicon())
    assert (parsed.road, parsed.road_known, parsed.door) == ("解放路", False, "36")
    assert (parsed.unit, parsed.room, parsed.compound) == ("2", "101", None)


def test_short_admin_name_does_not_eat_a_road_or_compound() -> None:
    lexicon = _lexicon()
    assert parse("海南路8号", lexicon).road == "海南路"
    assert parse("海南花园2栋", lexicon).compound == "海南花园"
    assert parse("海南海南花园2栋", lexicon).codes("district") == {"150303000000"}


def test_parse_filler_is_not_a_compound() -> None:
    parsed = parse("海勃湾区滨河街道光明社区居委会住户", _lexicon())
    assert parsed.compound is None
    assert parsed.codes("community") == {"150302007001"}


def test_pinyin_homophones() -> None:
    assert sounds_alike("银成华府", "银城华府")
    assert sounds_alike("花府", "华府")
    assert sounds_alike("苏还图", "苏海图")  # 还 reads hai as well as huan
    assert sounds_alike("三", "山")  # fuzzy s/sh
    assert not sounds_alike("银河华府", "银城华府")
    assert not sounds_alike("银城华", "银城华府")
    assert pinyin_key("银城") == pinyin_key("银成")
