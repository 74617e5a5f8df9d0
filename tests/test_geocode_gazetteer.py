"""Matching elements against the gazetteer (tests/geocode_city.py): misspelt and former road
names with the door range deciding, published/derived/learned aliases, a stated admin level that
contradicts the rest, and addresses that do not exist refused with a reason."""

from __future__ import annotations

import pytest

from geoplatform.geocode import Matcher
from tests.geocode_city import matcher as build_matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return build_matcher()


# -- roads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "建设路50号",
        "健设路50号",  # same-pinyin slip (健/建 jian)
        "建没路50号",  # one-character typo, the only look-alike road with a door 50
        "工农路50号",  # former name from the road layer
        "东湖区建设路50号1单元101室",
    ],
)
def test_standalone_house_by_road_and_door(matcher: Matcher, address: str) -> None:
    result = matcher.match(address)
    assert result.accepted, result
    assert result.building_key == "JZ-S50"


def test_former_name_reaches_the_compound_gate(matcher: Matcher) -> None:
    result = matcher.match("红旗街8号金桂苑2栋")
    assert result.accepted
    assert result.building_key == "JZ-金桂苑-002-2"


def test_door_past_the_road_end_is_refused(matcher: Matcher) -> None:
    result = matcher.match("建设路180号")
    assert not result.accepted
    assert result.reason is not None
    assert "past the last door" in result.reason


def test_door_in_range_but_unknown_is_not_placed(matcher: Matcher) -> None:
    result = matcher.match("建设路77号")
    assert not result.accepted
    assert result.reason is not None


def test_road_level_answer_sits_on_the_line(matcher: Matcher) -> None:
    result = matcher.match("东湖区湖滨街道建设路")
    assert result.level == "road"
    assert result.lat == pytest.approx(30.0)
    assert 119.99 <= (result.lon or 0) <= 120.03


# -- aliases ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "翠湖小区2栋",  # published alias
        "翠湖2栋",  # the name's first two characters, unique in the city
        "翠湖花园小区2栋",  # name + 小区
        "东湖区万科翠湖花园2栋",  # developer + name
    ],
)
def test_aliases(matcher: Matcher, address: str) -> None:
    result = matcher.match(address)
    assert result.accepted, result
    assert result.building_key == "JZ-翠湖花园-001-2", result


def test_a_derived_short_name_shared_in_the_area_names_nothing_alone(matcher: Matcher) -> None:
    # 锦绣 is the first two characters of two compounds called 锦绣家园 (two districts)
    assert not matcher.match("锦绣2栋").accepted
    assert matcher.match("西岭区锦绣2栋").building_key == "JZ-锦绣家园-001-2"


def test_a_learned_alias_is_used_by_the_next_match() -> None:
    matcher = build_matcher()
    assert not matcher.match("湖景苑3栋").accepted
    uid = matcher.gazetteer.compound_uid("翠湖花园", "330402001001")
    assert uid is not None
    assert matcher.add_alias("湖景苑", uid)
    assert matcher.gazetteer.alias_origin[("湖景苑", uid)] == "learned"
    result = matcher.match("湖景苑3栋")
    assert result.accepted
    assert result.building_key == "JZ-翠湖花园-001-3"


def test_learned_aliases_arrive_through_the_aliases_input() -> None:
    from geoplatform.geocode import Gazetteer
    from tests.geocode_city import aliases, landmarks, roads, rows

    learned = {
        "alias": "湖景苑",
        "compound": "翠湖花园",
        "community_code": "330402001001",
        "street_code": None,
        "district_code": None,
        "origin": "learned",
    }
    gazetteer = Gazetteer(
        rows(), roads=roads(), aliases=[*aliases(), learned], landmarks=landmarks()
    )
    assert Matcher(gazetteer).match("湖景苑3栋").building_key == "JZ-翠湖花园-001-3"


# -- admin contradictions ---------------------------------------------------------------------


def test_stated_district_picks_between_same_named_compounds(matcher: Matcher) -> None:
    assert matcher.match("东湖区锦绣家园2栋").building_key == "JZ-锦绣家园-002-2"
    assert matcher.match("西岭区锦绣家园2栋").building_key == "JZ-锦绣家园-001-2"
    tie = matcher.match("锦绣家园2栋")
    assert not tie.accepted
    assert tie.reason is not None
    assert "ambiguous" in tie.reason


def test_a_wrong_community_is_resolved_and_reported(matcher: Matcher) -> None:
    result = matcher.match("东湖区湖滨街道明珠社区翠湖花园3栋")
    assert result.accepted
    assert result.building_key == "JZ-翠湖花园-001-3"
    assert result.contradiction is not None
    assert "community" in result.contradiction


def test_a_wrong_district_is_resolved_when_the_name_is_unique(matcher: Matcher) -> None:
    result = matcher.match("西岭区翠湖花园3栋")  # the city's only 翠湖花园 is in 东湖区
    assert result.accepted, result
    assert result.building_key == "JZ-翠湖花园-001-3"
    assert result.contradiction is not None
    assert "district" in result.contradiction


def test_a_shared_name_never_moves_an_address_out_of_its_district(matcher: Matcher) -> None:
    # 锦绣家园 exists in both districts: the stated one wins even with a building only the
    # other has (东湖's has four buildings, 西岭's two)
    result = matcher.match("西岭区锦绣家园4栋")
    assert not result.accepted, result
    assert result.reason is not None


def test_a_stated_district_contradicted_by_road_and_door_is_resolved(matcher: Matcher) -> None:
    result = matcher.match("西岭区建设路18号翠湖花园3栋")
    assert result.accepted
    assert result.building_key == "JZ-翠湖花园-001-3"
    assert result.contradiction is not None
    assert "district" in result.contradiction


# -- addresses that do not exist --------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("翠湖花园9栋", "no building 9"),  # above the compound's highest (6)
        ("建设路18号翠湖花园7号楼2单元", "no building 7"),
        ("建设路150号", "past the last door"),
        ("翠湖花城3栋", "one character off"),  # 城 is not a same-pinyin twin of 园
    ],
)
def test_what_does_not_exist_is_refused_with_a_reason(
    matcher: Matcher, address: str, words: str
) -> None:
    result = matcher.match(address)
    assert not result.accepted, result
    assert result.level != "compound" or result.score < 0.5
    assert result.reason is not None
    assert words in result.reason, result.reason


def test_a_same_pinyin_twin_is_a_slip_not_another_place(matcher: Matcher) -> None:
    result = matcher.match("东湖区湖滨街道翠湖花圆3栋")  # 圆/园 yuan
    assert result.accepted
    assert result.building_key == "JZ-翠湖花园-001-3"
