"""Memoisation keeps answers exact: rows of one building that differ only by unit and room share
one answer (with their own query and normal form), names that merely contain a building marker
(金座, 银座) are not cut there, and a roster's answers equal those of one fresh match each."""

from __future__ import annotations

from geoplatform.geocode import Gazetteer, Matcher
from tests.geocode_city import CUIHU, _row, aliases, landmarks, roads, rows


def _matcher() -> Matcher:
    extra = [
        _row("D-JZ", "门牌", CUIHU, road="建设路", door=60, compound="金座", lon=120.006, lat=30.0)
    ]
    for number in (1, 3):
        extra.append(
            _row(
                f"B-JZ-{number}",
                "楼栋",
                CUIHU,
                road="建设路",
                door=60,
                compound="金座",
                building=str(number),
                building_key=f"JZ-JZ-{number}",
                lon=120.006,
                lat=30.001 * number,
            )
        )
    return Matcher(
        Gazetteer(rows() + extra, roads=roads(), aliases=aliases(), landmarks=landmarks())
    )


def test_rooms_of_one_building_share_the_answer_not_the_query() -> None:
    matcher = _matcher()
    first = matcher.match("翠湖花园3号楼2单元401室")
    second = matcher.match("翠湖花园3号楼1单元二零二室")
    assert first.building_key == second.building_key == "JZ-翠湖花园-001-3"
    assert second.query == "翠湖花园3号楼1单元二零二室"
    assert second.normalized == "翠湖花园3栋1单元202室"


def test_a_name_holding_a_building_marker_is_not_cut_there() -> None:
    matcher = _matcher()
    assert matcher.match("金座1号楼2单元301室").building_key == "JZ-JZ-1"
    assert matcher.match("金座3号楼2单元301室").building_key == "JZ-JZ-3"


def test_roster_answers_equal_fresh_answers() -> None:
    roster = [
        "翠湖花园3号楼2单元401室",
        "翠湖花园3号楼2单元402室",
        "东湖区翠湖花园3号楼2单元401室",
        "翠湖花园9号楼1单元101室",
        "金座1号楼2单元301室",
        "金座3号楼2单元301室",
        "建设路50号",
        "建设路50号",
        "一中门口",
        "翠湖花园3栋5楼502",
    ]
    batch = _matcher().match_many(roster)
    for address, answer in zip(roster, batch, strict=True):
        fresh = _matcher().match(address)
        assert (answer.level, answer.accepted, answer.building_key, answer.score) == (
            fresh.level,
            fresh.accepted,
            fresh.building_key,
            fresh.score,
        ), address
        assert answer.normalized == fresh.normalized
