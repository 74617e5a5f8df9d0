"""A small hand-written city for the geocoder's tests: 青禾市 with two districts, roads with
lines and door ranges, compounds with buildings, a village, aliases and landmarks.

Written from the address grammar (DOMAIN.md), not from the demo generator, so the tests check
the grammar rather than one generator's habits. Coordinates are EPSG:4326 around 120.0E 30.0N:
建设路 runs west→east along 30.000N, 解放街 south→north along 120.010E, 新华大道 along 120.020E
but stops ~40 m short of 建设路 (a gap at the junction, as delivered road layers have).
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import LineString

from geoplatform.geocode import Gazetteer, Matcher

DONGHU = ("东湖区", "330402000000", "湖滨街道", "330402001000")
XILING = ("西岭区", "330403000000", "岭南街道", "330403001000")
CUIHU = (*DONGHU, "翠湖社区", "330402001001")
MINGZHU = (*DONGHU, "明珠社区", "330402001002")
LINGXI = (*XILING, "岭西社区", "330403001001")
TAOYUAN = ("西岭区", "330403000000", "桃源镇", "330403101000", "李家村", "330403101201")


def _row(
    key: str,
    level: str,
    area: tuple[str, ...],
    *,
    road: str = "",
    door: int | None = None,
    compound: str = "",
    building: str = "",
    building_key: str = "",
    lon: float,
    lat: float,
    address: str = "",
) -> dict[str, Any]:
    district, district_code, street, street_code, community, community_code = area
    return {
        "source_key": key,
        "address": address
        or f"青禾市{district}{street}{community}{road}{door or ''}{'号' if door else ''}"
        f"{compound}{building + '栋' if building else ''}",
        "level": level,
        "district": district,
        "district_code": district_code,
        "street": street,
        "street_code": street_code,
        "community": community,
        "community_code": community_code,
        "road": road or None,
        "door_number": f"{door}号" if door else None,
        "compound": compound or None,
        "building_number": building or None,
        "building_key": building_key or None,
        "lon": lon,
        "lat": lat,
    }


def rows() -> list[dict[str, Any]]:
    """Door plates, compounds and buildings of 青禾市."""
    out = [
        _row(
            "D1", "门牌", CUIHU, road="建设路", door=18, compound="翠湖花园", lon=120.0018, lat=30.0
        ),
        _row(
            "D2",
            "门牌",
            CUIHU,
            road="建设路",
            door=50,
            building_key="JZ-S50",
            lon=120.005,
            lat=30.0,
        ),
        _row("D3", "门牌", CUIHU, road="建设路", door=52, lon=120.0052, lat=30.0),
        _row(
            "D4",
            "门牌",
            MINGZHU,
            road="解放街",
            door=8,
            compound="金桂苑",
            lon=120.010,
            lat=30.0008,
        ),
        _row(
            "D5",
            "门牌",
            MINGZHU,
            road="解放街",
            door=30,
            compound="锦绣家园",
            lon=120.010,
            lat=30.003,
        ),
        _row(
            "D6", "门牌", LINGXI, road="文昌巷", door=6, compound="锦绣家园", lon=120.10, lat=30.05
        ),
        _row(
            "D7", "门牌", LINGXI, road="文昌巷", door=9, compound="阳光新城", lon=120.101, lat=30.05
        ),
        _row(
            "D8",
            "门牌",
            TAOYUAN,
            door=15,
            address="青禾市西岭区桃源镇李家村3组15号",
            building_key="JZ-V15",
            lon=120.2,
            lat=30.1,
        ),
        _row(
            "D9",
            "门牌",
            TAOYUAN,
            door=15,
            address="青禾市西岭区桃源镇李家村5组15号",
            building_key="JZ-V515",
            lon=120.21,
            lat=30.1,
        ),
        _row(
            "D10",
            "门牌",
            MINGZHU,
            road="新华大道",
            door=5,
            compound="星河湾",
            lon=120.02,
            lat=30.002,
        ),
    ]
    compounds = [
        ("翠湖花园", CUIHU, "建设路", 18, 6, 120.0018, 30.0005),
        ("金桂苑", MINGZHU, "解放街", 8, 3, 120.0105, 30.0008),
        ("锦绣家园", MINGZHU, "解放街", 30, 4, 120.0105, 30.003),
        ("锦绣家园", LINGXI, "文昌巷", 6, 2, 120.1005, 30.05),
        ("阳光新城", LINGXI, "文昌巷", 9, 5, 120.1015, 30.05),
        ("星河湾", MINGZHU, "新华大道", 5, 2, 120.0205, 30.002),
    ]
    for name, area, road, door, count, lon, lat in compounds:
        for number in range(1, count + 1):
            out.append(
                _row(
                    f"B-{name}-{area[5][-3:]}-{number}",
                    "楼栋",
                    area,
                    road=road,
                    door=door,
                    compound=name,
                    building=str(number),
                    building_key=f"JZ-{name}-{area[5][-3:]}-{number}",
                    lon=lon + number / 10_000,
                    lat=lat + number / 10_000,
                )
            )
    return out


def roads() -> list[dict[str, Any]]:
    """The road layer: lines, former names, door ranges."""
    return [
        {
            "name": "建设路",
            "former_names": ["工农路"],
            "kind": "主干道",
            "door_min": 1,
            "door_max": 120,
            "district_code": DONGHU[1],
            "street_code": DONGHU[3],
            "geometry": LineString([(119.99, 30.0), (120.03, 30.0)]),
        },
        {
            "name": "解放街",
            "former_names": ["红旗街"],
            "kind": "次干道",
            "door_min": 1,
            "door_max": 60,
            "district_code": DONGHU[1],
            "street_code": DONGHU[3],
            "geometry": LineString([(120.01, 29.99), (120.01, 30.01)]),
        },
        {
            "name": "新华大道",
            "former_names": [],
            "kind": "主干道",
            "door_min": 1,
            "door_max": 40,
            "district_code": DONGHU[1],
            "street_code": DONGHU[3],
            "geometry": LineString([(120.02, 30.0004), (120.02, 30.02)]),
        },
        {
            "name": "文昌巷",
            "former_names": [],
            "kind": "巷",
            "door_min": 1,
            "door_max": 20,
            "district_code": XILING[1],
            "street_code": XILING[3],
            "geometry": LineString([(120.09, 30.05), (120.11, 30.05)]),
        },
        {
            "name": "滨江路",
            "former_names": [],
            "kind": "主干道",
            "door_min": 1,
            "door_max": 80,
            "district_code": XILING[1],
            "street_code": XILING[3],
            "geometry": LineString([(120.09, 30.08), (120.11, 30.08)]),
        },
    ]


def aliases() -> list[dict[str, Any]]:
    """The published alias list."""
    return [
        {
            "alias": "翠湖小区",
            "compound": "翠湖花园",
            "community_code": CUIHU[5],
            "street_code": None,
            "district_code": None,
            "origin": "published",
        },
    ]


def landmarks() -> list[dict[str, Any]]:
    """POIs with published and colloquial names."""
    return [
        {
            "name": "青禾市第一中学",
            "aliases": ["青禾一中"],
            "kind": "school",
            "lon": 120.012,
            "lat": 30.004,
            "community_code": MINGZHU[5],
            "street_code": DONGHU[3],
            "district_code": DONGHU[1],
        },
        {
            "name": "青禾市中心医院",
            "aliases": [],
            "kind": "hospital",
            "lon": 120.004,
            "lat": 30.002,
            "community_code": CUIHU[5],
            "street_code": DONGHU[3],
            "district_code": DONGHU[1],
        },
        {
            "name": "东湖区人民医院",
            "aliases": [],
            "kind": "hospital",
            "lon": 120.006,
            "lat": 30.006,
            "community_code": CUIHU[5],
            "street_code": DONGHU[3],
            "district_code": DONGHU[1],
        },
        {
            "name": "西岭区人民医院",
            "aliases": [],
            "kind": "hospital",
            "lon": 120.105,
            "lat": 30.055,
            "community_code": LINGXI[5],
            "street_code": XILING[3],
            "district_code": XILING[1],
        },
    ]


def gazetteer() -> Gazetteer:
    return Gazetteer(rows(), roads=roads(), aliases=aliases(), landmarks=landmarks())


def matcher() -> Matcher:
    return Matcher(gazetteer())
