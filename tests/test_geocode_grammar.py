"""The element grammar of Chinese addresses on a hand-written city (tests/geocode_city.py):
building suffixes, punctuation between elements, numerals in every form, glued numbers,
village groups. Each failure class of issue 11 has its own test."""

from __future__ import annotations

import pytest

from geoplatform.geocode import Matcher
from tests.geocode_city import matcher as build_matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return build_matcher()


def _building(matcher: Matcher, address: str) -> str | None:
    result = matcher.match(address)
    assert result.accepted, (address, result)
    assert result.level == "building", (address, result)
    return result.building_key


BUILDING_3 = "JZ-翠湖花园-001-3"


@pytest.mark.parametrize(
    "address",
    [
        "翠湖花园3栋",
        "翠湖花园3幢",
        "翠湖花园3座",
        "翠湖花园3号楼",
        "翠湖花园3栋楼2单元",  # 栋楼: the class that scored 0 of ~1,400 on another city
        "翠湖花园3号院2单元",  # 号院 at the end of a compound name: its building
        "翠湖花园3楼2单元401室",  # a bare 楼 before a unit is the building
        "翠湖花园3#楼",
        "翠湖花园3#",
        "东湖区翠湖花园3号楼2单元5楼502",  # 5楼502: the fifth floor, not building 5
        "建设路18号翠湖花园3号院2单元",  # after a road and door: still the compound's building
        "建设路18号翠湖花园小区3楼2单元401室",
    ],
)
def test_building_suffixes(matcher: Matcher, address: str) -> None:
    assert _building(matcher, address) == BUILDING_3


@pytest.mark.parametrize(
    "address",
    [
        "东湖区-湖滨街道-翠湖社区-翠湖花园3号楼",
        "东湖区,湖滨街道,翠湖花园3号楼",
        "东湖区，湖滨街道，翠湖花园，3号楼",
        "东湖区/湖滨街道/翠湖花园/3号楼",
        "东湖区 湖滨街道 翠湖花园 3号楼 2单元",
        "东湖区。翠湖花园。3号楼",
        "东湖区、翠湖花园、3号楼",
        "翠湖花园（3号楼）",
        "翠湖花园【3号楼】",
        "翠湖花园3栋-2-401",
        "翠湖花园3/2/401",
        "翠湖花园 3 2 401",
    ],
)
def test_punctuation_between_elements(matcher: Matcher, address: str) -> None:
    assert _building(matcher, address) == BUILDING_3


@pytest.mark.parametrize(
    "address",
    [
        "翠湖花园3号楼2单元401室(二楼)",  # a floor in a remark is not building 2
        "翠湖花园3号楼2单元401室【租户】",
        "翠湖花园（东门）3号楼2单元401室",
        "东湖区，翠湖花园，3号楼，（旁边是超市）",
    ],
)
def test_bracketed_remarks_are_not_elements(matcher: Matcher, address: str) -> None:
    assert _building(matcher, address) == BUILDING_3


def test_a_bracketed_remark_does_not_hide_the_address(matcher: Matcher) -> None:
    result = matcher.match("建设路50号（门卫室旁边，联系物业）")
    assert result.accepted
    assert result.building_key == "JZ-S50"


@pytest.mark.parametrize(
    "address",
    [
        "翠湖花园三号楼",
        "翠湖花园叁号楼",  # financial numerals
        "翠湖花园３号楼",  # full-width
        "翠湖花园第三栋",
        "翠湖花園3號樓",  # traditional characters
        "翠湖花园三栋二单元四零一室",
        "翠湖花园3棟",
    ],
)
def test_numerals_in_every_form(matcher: Matcher, address: str) -> None:
    assert _building(matcher, address) == BUILDING_3


@pytest.mark.parametrize(
    ("address", "door"),
    [("建设路五十号", "JZ-S50"), ("建设路伍拾号", "JZ-S50"), ("建设路5十号", "JZ-S50")],
)
def test_positional_numerals_on_doors(matcher: Matcher, address: str, door: str) -> None:
    result = matcher.match(address)
    assert result.accepted
    assert result.building_key == door


@pytest.mark.parametrize(
    "address", ["建设路50号2楼", "建设路50号3层", "建设路50号2F", "建设路50号,2层"]
)
def test_a_floor_after_a_standalone_door_is_not_a_building(matcher: Matcher, address: str) -> None:
    # shops and offices write their floor after the door plate of a standalone building
    assert _building(matcher, address) == "JZ-S50"
    assert matcher.parse(address).floor is not None


def test_mixed_numerals_are_read_by_value(matcher: Matcher) -> None:
    # 十2 is twelve: 翠湖花园 has six buildings, so this is refused, not building 2 or 1
    result = matcher.match("翠湖花园十2号楼")
    assert not result.accepted
    assert result.reason is not None
    assert "12" in result.reason


@pytest.mark.parametrize(
    "address", ["翠湖花园3-2-401", "翠湖花园3栋2-401", "建设路18号翠湖花园3栋2单元401"]
)
def test_glued_unit_and_room(matcher: Matcher, address: str) -> None:
    assert _building(matcher, address) == BUILDING_3


def test_courtyard_behind_a_door_then_its_building(matcher: Matcher) -> None:
    """Beijing's 号院N号楼: door 18's courtyard, building 2 in it."""
    assert _building(matcher, "建设路18号院2号楼") == "JZ-翠湖花园-001-2"


def test_long_and_short_admin_forms(matcher: Matcher) -> None:
    long = matcher.match("西岭区岭南街道办事处岭西社区居委会阳光新城2栋")
    short = matcher.match("西岭岭南岭西阳光新城2栋")
    assert long.accepted
    assert long.building_key == "JZ-阳光新城-001-2"
    assert short.accepted
    assert short.building_key == long.building_key


def test_village_group_and_door(matcher: Matcher) -> None:
    three = matcher.match("西岭区桃源镇李家村三组15号")
    five = matcher.match("李家村第五村民小组15号")
    assert three.accepted
    assert three.building_key == "JZ-V15"
    assert five.accepted
    assert five.building_key == "JZ-V515"
    assert not matcher.match("李家村15号").accepted  # two groups have a door 15
    long = matcher.match("桃源镇李家村村民委员会三组15号")  # the village's name ends in 村
    assert long.building_key == "JZ-V15"


def _regional_roads() -> Matcher:
    from geoplatform.geocode import Gazetteer
    from tests.geocode_city import LINGXI, _row, aliases, landmarks, roads, rows

    extra = [
        _row(
            f"R{i}",
            "门牌",
            LINGXI,
            road=road,
            door=door,
            building_key=f"JZ-{road}-{door}",
            lon=120.1 + i / 1000,
            lat=30.06,
        )
        for i, (road, door) in enumerate(
            [("福寿里", 12), ("长乐弄", 7), ("北新胡同", 3), ("环城公路", 88), ("桂花大街", 21)]
        )
    ]
    return Matcher(
        Gazetteer(rows() + extra, roads=roads(), aliases=aliases(), landmarks=landmarks())
    )


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("福受里12号", "JZ-福寿里-12"),  # 里 (Tianjin), a same-pinyin slip in the stem
        ("长乐弄七号", "JZ-长乐弄-7"),  # 弄 (Shanghai)
        ("北心胡同3号", "JZ-北新胡同-3"),  # 胡同 (Beijing)
        ("还城公路88号", "JZ-环城公路-88"),  # 公路
        ("桂华大街21号", "JZ-桂花大街-21"),  # 大街
    ],
)
def test_road_suffixes_by_region(address: str, key: str) -> None:
    result = _regional_roads().match(address)
    assert result.accepted, result
    assert result.building_key == key
