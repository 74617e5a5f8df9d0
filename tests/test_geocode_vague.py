"""Vague hotline locations (tests/geocode_city.py): intersections from the road lines, landmarks
by official, published and colloquial names, "inside a compound" from its buildings; each at
its own level, refused with a reason when it names nothing or several things."""

from __future__ import annotations

import pytest

from geoplatform.geocode import Matcher
from geoplatform.geocode.roads import metres
from tests.geocode_city import matcher as build_matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return build_matcher()


def _near(result: object, lon: float, lat: float, within_m: float = 30.0) -> bool:
    got = (getattr(result, "lon", None), getattr(result, "lat", None))
    return got[0] is not None and metres((got[0], got[1]), (lon, lat)) <= within_m  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "address",
    [
        "建设路与解放街交叉口",
        "建设路和解放街交汇处",
        "东湖区建设路解放街十字路口",
        "解放街与建设路路口",
        "健设路与解放街交叉口",  # a same-pinyin slip in one road
    ],
)
def test_intersection_where_the_lines_cross(matcher: Matcher, address: str) -> None:
    result = matcher.match(address)
    assert result.accepted, result
    assert result.level == "intersection", result
    assert _near(result, 120.01, 30.0, within_m=1.0)


def test_intersection_of_lines_that_stop_short(matcher: Matcher) -> None:
    """新华大道 ends ~44 m north of 建设路: the junction is between the nearest points."""
    result = matcher.match("建设路与新华大道交叉口")
    assert result.accepted
    assert result.level == "intersection"
    assert _near(result, 120.02, 30.0, within_m=30.0)


def test_roads_that_never_meet_are_refused(matcher: Matcher) -> None:
    result = matcher.match("建设路与滨江路交叉口")
    assert not result.accepted


@pytest.mark.parametrize(
    ("address", "lon", "lat"),
    [
        ("青禾市第一中学门口", 120.012, 30.004),
        ("一中门口", 120.012, 30.004),  # colloquial: 第一中学 → 一中
        ("青禾一中附近", 120.012, 30.004),  # published alias
        ("中心医院对面", 120.004, 30.002),  # the name less its city
        ("西岭区人民医院旁边", 120.105, 30.055),
        ("东湖区人民医院东侧", 120.006, 30.006),
    ],
)
def test_landmarks(matcher: Matcher, address: str, lon: float, lat: float) -> None:
    result = matcher.match(address)
    assert result.accepted, result
    assert result.level == "landmark", result
    assert _near(result, lon, lat, within_m=1.0)


def test_a_landmark_name_several_share_is_refused(matcher: Matcher) -> None:
    result = matcher.match("人民医院旁边")  # two districts have one
    assert not result.accepted
    assert result.reason is not None
    assert "landmarks" in result.reason


@pytest.mark.parametrize("address", ["翠湖花园里面", "翠湖花园小区内", "翠湖小区院内"])
def test_inside_a_compound_is_the_centre_of_its_buildings(matcher: Matcher, address: str) -> None:
    result = matcher.match(address)
    assert result.accepted, result
    assert result.level == "compound", result
    # six buildings at 120.0018 + n/10⁴, 30.0005 + n/10⁴: their centre
    assert _near(result, 120.00215, 30.00085, within_m=1.0)


def test_levels_and_scores_on_every_answer(matcher: Matcher) -> None:
    for address in ("建设路与解放街交叉口", "一中门口", "翠湖花园里面", "翠湖花园3栋"):
        result = matcher.match(address)
        assert result.level in ("intersection", "landmark", "compound", "building")
        assert 0.0 <= result.score <= 1.0


@pytest.mark.parametrize(
    ("address", "level"),
    [
        ("一中", "landmark"),  # a landmark named bare: where the caller is
        ("东湖区中心医院", "landmark"),
        ("建设路与解放街", "intersection"),  # two roads joined by 与, no marker
    ],
)
def test_bare_vague_locations(matcher: Matcher, address: str, level: str) -> None:
    result = matcher.match(address)
    assert result.accepted, result
    assert result.level == level
