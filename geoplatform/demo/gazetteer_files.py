"""The place-name side of a delivery: the road layer (current and former names, door-number
ranges), the published compound-alias list and the landmarks/POIs with their colloquial names.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplatform.demo.addresses import AddressBook
from geoplatform.demo.admin import AdminLayout, to_wgs84
from geoplatform.demo.numerals import chinese_number
from geoplatform.demo.presets import active
from geoplatform.demo.roads import RoadNetwork
from geoplatform.demo.stock import BuildingStock

ROAD_KINDS = {"urban": "城市道路", "lane": "街巷", "park": "园区道路"}
LANDMARK_KINDS = {"学校": "school", "医院": "hospital", "市场": "market", "工业": "industrial_park"}


@dataclass
class Landmark:
    name: str
    aliases: list[str]
    kind: str
    x: float
    y: float
    address: str
    community_code: str


def door_ranges(
    roads: RoadNetwork, stock: BuildingStock
) -> tuple[list[int | None], list[int | None]]:
    """Lowest and highest door number on each road (None for a road without doors)."""
    numbers: dict[int, list[int]] = {}
    for road, number in zip(stock.doors.road, stock.doors.number, strict=True):
        numbers.setdefault(int(road), []).append(int(number))
    low = [min(numbers[r]) if r in numbers else None for r in range(len(roads))]
    high = [max(numbers[r]) if r in numbers else None for r in range(len(roads))]
    return low, high


def road_frame(roads: RoadNetwork, stock: BuildingStock) -> gpd.GeoDataFrame:
    """Named roads as lines (村民小组 lanes are not roads: they are left out)."""
    low, high = door_ranges(roads, stock)
    keep = [i for i, kind in enumerate(roads.kinds) if kind != "group"]
    preset = active()
    district = {spec.code6: spec.name for spec in preset.districts}
    return gpd.GeoDataFrame(
        {
            "道路名称": [roads.names[i] for i in keep],
            "曾用名": [roads.old_names[i] or None for i in keep],
            "道路类型": [ROAD_KINDS[roads.kinds[i]] for i in keep],
            "起始门牌": pd.array([low[i] for i in keep], dtype="Int64"),
            "终止门牌": pd.array([high[i] for i in keep], dtype="Int64"),
            "区县代码": [
                (roads.district_code6[i] + "000000")
                if preset.name == "wuhai"
                else district[roads.district_code6[i]]
                for i in keep
            ],
        },
        geometry=[roads.lines[i] for i in keep],
        crs=preset.metric_crs,
    )


def developer_of(compound_names: list[str], rng: np.random.Generator) -> list[str]:
    """The developer brand people put before some compounds' names ("" for most)."""
    developers = active().developers
    out = []
    for name in compound_names:
        if any(name.startswith(d) for d in developers) or rng.random() >= 0.3:
            out.append("")
        else:
            out.append(developers[int(rng.integers(len(developers)))])
    return out


def alias_frame(
    layout: AdminLayout, stock: BuildingStock, book: AddressBook, developers: list[str]
) -> pd.DataFrame:
    """The published alias list: documented short names and half of the developer names."""
    names = layout.areas.set_index("code")["name"].to_dict()
    community: dict[int, str] = {}
    street: dict[int, str] = {}
    for compound, code, street_code in zip(
        book.compound, book.community_code, book.street_code, strict=True
    ):
        if compound >= 0 and int(compound) not in community:
            community[int(compound)] = str(code)
            street[int(compound)] = str(street_code)
    rows = []
    for index, name in enumerate(stock.compounds.name):
        if index not in community:
            continue
        aliases = []
        if stock.compounds.documented_alias[index]:
            aliases.append(stock.compounds.documented_alias[index])
        if developers[index] and index % 2 == 0:
            aliases.append(developers[index] + name.removesuffix("小区"))
        for alias in aliases:
            rows.append(
                {
                    "别名": alias,
                    "小区名称": name,
                    "社区代码": community[index],
                    "社区": names[community[index]],
                    "街道": names[street[index]],
                }
            )
    return pd.DataFrame(rows, columns=["别名", "小区名称", "社区代码", "社区", "街道"])


def _school_aliases(name: str) -> list[str]:
    city = active().city_name
    if name.startswith(city + "第") and name.endswith("中学"):
        number = int(name.removeprefix(city + "第").removesuffix("中学"))
        short = chinese_number(number) + "中"
        return [short, "市" + short]
    if name.endswith("小学"):
        return [name.removesuffix("小学") + "小"]
    return []


def _aliases(name: str, kind: str, first_hospital: bool) -> list[str]:
    if kind == "学校":
        return _school_aliases(name)
    if kind == "医院":
        if first_hospital:
            return ["中心医院", "市医院"]
        return [name.replace("人民医院", "医院")] if "人民医院" in name else []
    if kind == "市场":
        return [name.replace("农贸市场", "菜市场"), name.replace("农贸市场", "菜场")]
    if kind == "工业":
        return [name.replace("工业园区", "园区")]
    return []


def landmarks(stock: BuildingStock, book: AddressBook) -> list[Landmark]:
    """One POI per campus (school, hospital, market) and industrial park, at its gate."""
    buildings = stock.buildings
    seen: set[str] = set()
    found: list[Landmark] = []
    first_hospital = next(iter(active().hospitals.values()))[0]
    for index in range(len(buildings)):
        use = buildings.use[index]
        if use not in LANDMARK_KINDS or not buildings.name[index]:
            continue
        name = buildings.name[index]
        if name.endswith("号楼"):
            name = name.rsplit("号楼", 1)[0].rstrip("0123456789")
        if name in seen:
            continue
        seen.add(name)
        door = int(buildings.door[index])
        found.append(
            Landmark(
                name=name,
                aliases=_aliases(name, use, name == first_hospital),
                kind=LANDMARK_KINDS[use],
                x=float(stock.doors.x[door]),
                y=float(stock.doors.y[door]),
                address=f"{book.road_name[index]}{book.door_number[index]}号",
                community_code=str(book.community_code[index]),
            )
        )
    return found


def landmark_frame(found: list[Landmark], gcj02: bool) -> pd.DataFrame:
    """The POI list: metric coordinates (Wuhai) or GCJ-02 degrees as map vendors give them."""
    from geoplatform.spatial.chinese_offsets import wgs84_to_gcj02

    x = np.array([item.x for item in found])
    y = np.array([item.y for item in found])
    if gcj02:
        lon, lat = to_wgs84(x, y)
        gx, gy = wgs84_to_gcj02(lon, lat)
        x_text = [f"{v:.6f}" for v in gx]
        y_text = [f"{v:.6f}" for v in gy]
    else:
        x_text = [f"{v:.3f}" for v in x]
        y_text = [f"{v:.3f}" for v in y]
    return pd.DataFrame(
        {
            "名称": [item.name for item in found],
            "别名": ["；".join(item.aliases) for item in found],
            "类别": [item.kind for item in found],
            "地址": [item.address for item in found],
            "X坐标": x_text,
            "Y坐标": y_text,
        }
    )
