"""The matcher on a small hand-made standard-address table: every path and every refusal."""

from __future__ import annotations

import pandas as pd
import pytest

from geoplatform.errors import ConfigurationError
from geoplatform.geocode import GeocodeResult, Matcher

HAIBOWAN = ("海勃湾区", "150302000000", "滨河街道", "150302007000")
WUDA = ("乌达区", "150304000000", "新达街道", "150304008000")
GUANGMING = (*HAIBOWAN, "光明社区", "150302007001")
JINXIU = (*HAIBOWAN, "锦绣社区", "150302007002")
ANJU = (*WUDA, "安居社区", "150304008001")


def _row(
    key: str,
    kind: str,
    area: tuple[str, ...],
    road: str,
    door: int,
    *,
    compound: str = "",
    alias: str = "",
    building: int | None = None,
    building_key: str = "",
    old: str = "",
) -> dict[str, object]:
    district, district_code, street, street_code, community, community_code = area
    number = f"{building}号楼" if building else ""
    return {
        "地址编码": key,
        "标准地址": f"乌海市{district}{street}{community}{road}{door}号{compound}{number}",
        "地址类型": kind,
        "区县代码": district_code,
        "街道代码": street_code,
        "区县": district,
        "街道": street,
        "社区": community,
        "社区代码": community_code,
        "街路巷": road,
        "街路巷曾用名": old,
        "门牌号": f"{door}号",
        "小区名称": compound,
        "小区别名": alias,
        "楼栋号": number,
        "建筑编号": building_key,
        "lon": 106.8 + door / 10_000,
        "lat": 39.6 + (building or 0) / 10_000,
    }


def _table() -> pd.DataFrame:
    rows = [
        _row("MP01", "门牌", GUANGMING, "人民路", 12, compound="银城华府小区", alias="银城"),
        _row("MP02", "门牌", GUANGMING, "人民路", 20, building_key="JZS1"),
        _row("MP03", "门牌", GUANGMING, "人民路", 30),
        _row("MP04", "门牌", JINXIU, "黄河街", 8, compound="金泰城"),
        _row("MP05", "门牌", ANJU, "友谊路", 16, compound="华泰花园", old="解放路"),
        _row("MP06", "门牌", GUANGMING, "人民路", 40, compound="锦江花园"),
        _row("MP07", "门牌", ANJU, "友谊路", 24, compound="锦江花园"),
    ]
    buildings = [
        ("LD1", GUANGMING, "人民路", 12, "银城华府小区", "银城", (1, 2, 3), "JZ1", ""),
        ("LD2", JINXIU, "黄河街", 8, "金泰城", "", (1, 2), "JZ2", ""),
        ("LD3", ANJU, "友谊路", 16, "华泰花园", "", (1, 2, 3, 4), "JZ3", "解放路"),
        ("LD4", GUANGMING, "人民路", 40, "锦江花园", "", (1,), "JZ4", ""),
        ("LD5", ANJU, "友谊路", 24, "锦江花园", "", (1,), "JZ5", ""),
    ]
    for key, area, road, door, compound, alias, numbers, building_key, old in buildings:
        for number in numbers:
            rows.append(
                _row(
                    f"{key}{number}",
                    "楼栋",
                    area,
                    road,
                    door,
                    compound=compound,
                    alias=alias,
                    building=number,
                    building_key=f"{building_key}{number}",
                    old=old,
                )
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return _table()


@pytest.fixture
def matcher(table: pd.DataFrame) -> Matcher:
    return Matcher.from_frame(table)


def _building(result: GeocodeResult) -> str | None:
    return result.building_key if result.accepted and result.level == "building" else None


@pytest.mark.parametrize(
    "address",
    [
        "乌海市海勃湾区滨河街道光明社区人民路12号银城华府小区2号楼1单元401室",
        "海勃湾区银城华府2号楼1单元401室",
        "烏海市海勃灣區銀城華府小區2號樓1單元401室",
        "海勃湾区银城华府２号楼１单元４０１室",
        "海勃湾区银城华府二号楼一单元四零一室",
        "海勃湾银城华府2幢1单元401室",
        "海勃湾区银城华府2座",
        "海勃湾区银城华府2#1单元401室",
        "海勃湾区银城华府2-1-401",
        "滨河街道办事处光明社区居委会银城华府2号楼",
        "人民路12号2号楼1单元401室",  # no compound: the gate's door plate says which
        "银城2号楼1单元401室",  # documented alias
        "华府2号楼1单元401室",  # distinctive short name nobody documented
        "海勃湾区银成华府2号楼1单元401室",  # homophone typo, district agrees
        "海勃湾区人民路12号银城花府2号楼1单元401室",  # homophone typo, road and door agree
        "海勃湾区滨河街道锦绣社区人民路12号银城华府2号楼",  # wrong community, all else agrees
    ],
)
def test_finds_the_building(matcher: Matcher, address: str) -> None:
    result = matcher.match(address)
    assert _building(result) == "JZ12", (result.level, result.score, result.candidates[:2])
    assert result.lon == pytest.approx(106.8012)
    assert result.score >= 0.5
    assert result.candidates
    assert result.candidates[0].building_key == "JZ12"


def test_standalone_building_behind_a_door_plate(matcher: Matcher) -> None:
    assert _building(matcher.match("海勃湾区人民路20号1单元101室")) == "JZS1"
    assert _building(matcher.match("人民路20-1-101")) == "JZS1"
    assert _building(matcher.match("人民路二十号")) == "JZS1"
    assert _building(matcher.match("海勃湾区人明路20号1单元101室")) == "JZS1"  # road typo


def test_declared_old_road_name(matcher: Matcher) -> None:
    assert _building(matcher.match("乌达区解放路16号华泰花园3号楼")) == "JZ33"
    assert _building(matcher.match("乌达区解放路16号3号楼2单元301室")) == "JZ33"


def test_compound_door_and_community_levels(matcher: Matcher) -> None:
    compound = matcher.match("海勃湾区光明社区银城华府小区3单元201室")
    assert (compound.level, compound.accepted, compound.address_key) == ("compound", True, "MP01")
    door = matcher.match("海勃湾区人民路12号")
    assert (door.level, door.accepted, door.address_key) == ("door", True, "MP01")
    plain = matcher.match("海勃湾区人民路30号")
    assert (plain.level, plain.accepted, plain.address_key) == ("door", True, "MP03")
    community = matcher.match("海勃湾区滨河街道光明社区居委会住户")
    assert (community.level, community.accepted) == ("community", True)
    assert community.community_code == "150302007001"
    road = matcher.match("海勃湾区人民路")
    assert (road.level, road.accepted) == ("road", True)


@pytest.mark.parametrize(
    "address",
    [
        "海勃湾区人民路999号2单元301室",  # a real road, a door number past its end
        "乌达区新达街道安居社区银成华府2号楼1单元101室",  # look-alike of a compound elsewhere
        "银成华府2号楼1单元101室",  # look-alike with nothing to support it
        "海勃湾区银城华府9号楼",  # a building the compound does not have
        "海勃湾区银河小区2号楼",  # a compound that does not exist
        "锦江花园1号楼",  # two compounds of that name, nothing to tell them apart
        "",
    ],
)
def test_refuses_what_does_not_exist(matcher: Matcher, address: str) -> None:
    result = matcher.match(address)
    assert not result.accepted, (result.level, result.score, result.candidates[:2])
    assert result.score < 0.5


def test_context_tells_same_named_compounds_apart(matcher: Matcher) -> None:
    assert _building(matcher.match("乌达区锦江花园1号楼")) == "JZ51"
    assert _building(matcher.match("光明社区锦江花园1号楼")) == "JZ41"


def test_learns_an_old_road_name_from_confident_matches(table: pd.DataFrame) -> None:
    matcher = Matcher.from_frame(table)
    unknown = "红旗路20号1单元101室"  # nothing but an old road name and a door number
    assert not matcher.match(unknown).accepted
    results = matcher.match_many(
        ["红旗路12号银城华府1号楼", "红旗路12号银城华府3号楼2单元101室", unknown]
    )
    assert matcher.learned_road_names == {"红旗路": ["人民路"]}
    assert [_building(r) for r in results] == ["JZ11", "JZ13", "JZS1"]


def test_one_vote_is_not_enough_to_learn(table: pd.DataFrame) -> None:
    matcher = Matcher.from_frame(table)
    results = matcher.match_many(["红旗路12号银城华府1号楼", "红旗路20号1单元101室"])
    assert matcher.learned_road_names == {}
    assert not results[1].accepted


def test_match_many_keeps_order_and_caches(matcher: Matcher) -> None:
    addresses = ["海勃湾区银城华府1号楼", "乌达区华泰花园4号楼", "海勃湾区银城华府1号楼"]
    results = matcher.match_many(addresses)
    assert [_building(r) for r in results] == ["JZ11", "JZ34", "JZ11"]
    assert results[0] is results[2]
    assert [r.query for r in results] == addresses


def test_candidates_are_ranked(matcher: Matcher) -> None:
    result = matcher.match("海勃湾区银城华府2号楼")
    scores = [c.score for c in result.candidates[1:]]
    assert scores == sorted(scores, reverse=True)
    assert len(result.candidates) <= 5


def test_projected_coordinates_need_a_crs(table: pd.DataFrame) -> None:
    projected = table.drop(columns=["lon", "lat"]).assign(X坐标=400_000.0, Y坐标=4_390_000.0)
    with pytest.raises(ConfigurationError, match="CRS"):
        Matcher.from_frame(projected)
    result = Matcher.from_frame(projected, crs="EPSG:4545").match("海勃湾区银城华府2号楼")
    assert result.lon is not None
    assert 106.0 < result.lon < 108.0
    assert result.lat is not None
    assert 39.0 < result.lat < 40.0


def test_empty_table_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="empty"):
        Matcher.from_frame(_table().iloc[0:0])


def test_compound_named_after_a_province(table: pd.DataFrame) -> None:
    """青海亚居 starts with a province's short name: it is read as part of the compound name,
    also when its tail (亚居) is too common to identify it alone (as in the scale-1 demo city)."""
    namesakes = [
        _row(f"MP8{i}", "门牌", ANJU, "友谊路", 100 + 2 * i, compound=f"{stem}亚居小区")
        for i, stem in enumerate(
            ("福泰", "金桥", "银河", "松林", "紫荆", "丁香", "长河", "星光", "安泰")
        )
    ]
    extra = [
        *namesakes,
        _row("MP90", "门牌", JINXIU, "黄河街", 60, compound="青海亚居小区"),
        *(
            _row(
                f"LD9{n}",
                "楼栋",
                JINXIU,
                "黄河街",
                60,
                compound="青海亚居小区",
                building=n,
                building_key=f"JZ9{n}",
            )
            for n in (1, 2)
        ),
    ]
    matcher = Matcher.from_frame(pd.concat([table, pd.DataFrame(extra)], ignore_index=True))
    for address in (
        "海勃湾区滨河街道锦绣社区青海亚居小区2号楼1单元1602室",
        "乌海市海勃湾区锦绣社区青海亚居小区2-1-304",
    ):
        result = matcher.match(address)
        assert result.accepted, address
        assert result.building_key == "JZ92", address


def test_dropping_an_untracked_admin_level_keeps_the_context(matcher: Matcher) -> None:
    """Regression (scale-1 demo city): a province short name read as part of a compound."""
    from geoplatform.geocode.parse import parse
    from geoplatform.geocode.scoring import Context as _Context

    parsed = parse("海勃湾区滨河街道锦绣社区青海亚居小区1栋", matcher.gazetteer.lexicon)
    context = _Context(parsed)
    assert context.without(parsed, "province") is context
    assert context.without(parsed, "city") is context
