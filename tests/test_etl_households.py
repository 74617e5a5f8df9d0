"""Members of one household live in one dwelling: a member whose own address reaches only the
compound or the gate is placed on the building the rest of the household names."""

from __future__ import annotations

from geoplatform.etl.geocode import lift_households
from geoplatform.geocode.result import Candidate, GeocodeResult

COMMUNITY = "330402001001"


def _building(query: str, building: int, lon: float = 120.72, score: float = 0.97) -> GeocodeResult:
    return GeocodeResult(
        query, "building", score, True, building_id=building, community_code=COMMUNITY,
        lon=lon, lat=30.75, normalized=query,
    )  # fmt: skip


def _coarse(query: str, level: str = "compound", lon: float = 120.7205) -> GeocodeResult:
    return GeocodeResult(
        query, level, 0.9, True, community_code=COMMUNITY, lon=lon, lat=30.75, normalized=query
    )


def test_a_member_at_compound_level_joins_the_households_building() -> None:
    results = [_building("梅湾苑2幢1单元301", 7), _coarse("梅湾苑"), _coarse("中山路12号", "door")]
    lifted, n = lift_households(results, ["h1", "h1", "h1"])
    assert n == 2
    assert [r.level for r in lifted] == ["building"] * 3
    assert {r.building_id for r in lifted} == {7}
    assert [r.query for r in lifted] == [r.query for r in results]  # each keeps its own text


def test_an_unaccepted_member_is_lifted_only_when_the_building_was_among_its_candidates() -> None:
    unsure = GeocodeResult(
        "梅弯苑二幢", "building", 0.4, False,
        candidates=[Candidate("梅湾苑2幢", "building", 0.4, building_id=7)], normalized="x",
    )  # fmt: skip
    stranger = GeocodeResult("不知道", "none", 0.0, False, normalized="y")
    lifted, n = lift_households([_building("a", 7), unsure, stranger], ["h", "h", "h"])
    assert n == 1
    assert (lifted[1].level, lifted[1].building_id, lifted[1].accepted) == ("building", 7, True)
    assert lifted[2] is stranger


def test_a_member_refused_for_a_reason_is_not_lifted() -> None:
    refused = GeocodeResult(
        "梅湾苑9幢", "compound", 0.3, False, reason="building 9 does not exist in 梅湾苑",
        candidates=[Candidate("梅湾苑2幢", "building", 0.3, building_id=7)], normalized="z",
    )  # fmt: skip
    lifted, n = lift_households([_building("a", 7), refused], ["h", "h"])
    assert n == 0
    assert lifted[1] is refused


def test_households_that_disagree_far_members_and_single_rows_stay_as_they_are() -> None:
    split = [_building("a", 7), _building("b", 8), _coarse("c")]
    assert lift_households(split, ["h", "h", "h"])[1] == 0
    far = [_building("a", 7), _coarse("c", lon=120.75)]  # ~2.9 km away: another place
    assert lift_households(far, ["h", "h"])[1] == 0
    assert lift_households([_building("a", 7), _coarse("c")], ["h", None])[1] == 0
    assert lift_households([_coarse("c")], ["h"])[1] == 0
