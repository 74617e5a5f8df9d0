"""The standard-address table (标准地址库: door plates and compound buildings) and the per-building
address components that residents' and organisations' addresses are written from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplatform.demo import vocab
from geoplatform.demo.admin import AdminLayout, to_wgs84
from geoplatform.demo.delivery import delivery
from geoplatform.demo.presets import active
from geoplatform.demo.roads import RoadNetwork
from geoplatform.demo.stock import BuildingStock

StrArray = npt.NDArray[np.object_]

ROAD_SUFFIXES = ("大街", "街", "路", "巷", "大道")
COMPOUND_SUFFIXES = ("小区",)


def building_ids(count: int) -> StrArray:
    return np.array([f"JZ{index:08d}" for index in range(count)], dtype=object)


def door_address_ids(count: int) -> StrArray:
    return np.array([f"MP{index:07d}" for index in range(count)], dtype=object)


@dataclass
class AddressBook:
    """Address components per building (arrays indexed by building id) and per door."""

    building_id: StrArray
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    grid_code: StrArray
    community_code: StrArray
    community_name: StrArray
    community_kind: StrArray
    street_code: StrArray
    street_name: StrArray
    district_name: StrArray
    district_short: StrArray
    road: npt.NDArray[np.int64]
    road_name: StrArray
    door: npt.NDArray[np.int64]
    door_number: npt.NDArray[np.int64]
    compound: npt.NDArray[np.int64]
    compound_name: StrArray
    building_number: npt.NDArray[np.int64]
    kind: StrArray
    address_id: StrArray  # the standard address that identifies the building (LD… or MP…)
    door_address_id: StrArray  # the door plate the building stands behind (MP…)
    compound_address_id: StrArray  # the compound's gate door plate, "" outside compounds
    table: pd.DataFrame  # the standard-address table as delivered

    def __len__(self) -> int:
        return int(self.building_id.shape[0])


def build_address_book(
    layout: AdminLayout, roads: RoadNetwork, stock: BuildingStock
) -> AddressBook:
    """Components per building and the standard-address table (coordinates in EPSG:4545, mm)."""
    buildings, doors, compounds = stock.buildings, stock.doors, stock.compounds
    areas = layout.areas.set_index("code")
    count = len(buildings)
    x, y = buildings.centroids()
    lon, lat = to_wgs84(x, y)
    grid = np.array(buildings.grid, dtype=np.int64)
    grid_code = np.array(layout.grid_codes, dtype=object)[grid]
    community_code = np.array(layout.grid_community, dtype=object)[grid]
    street_code = np.array(
        [areas.at[c, "parent_code"] for c in layout.grid_community], dtype=object
    )[grid]
    name_of = areas["name"].to_dict()
    short_of = areas["short_name"].to_dict()
    kind_of = areas["kind"].to_dict()
    door = np.array(buildings.door, dtype=np.int64)
    road = np.array(doors.road, dtype=np.int64)[door]
    door_ids = door_address_ids(len(doors))
    compound = np.array(buildings.compound, dtype=np.int64)
    compound_name = np.array([compounds.name[c] if c >= 0 else "" for c in compound], dtype=object)
    kind = np.array(buildings.kind, dtype=object)
    ids = building_ids(count)
    address_id = np.array(
        [
            f"LD{building[2:]}" if building_kind == "compound" else door_ids[building_door]
            for building, building_kind, building_door in zip(ids, kind, door, strict=True)
        ],
        dtype=object,
    )
    book = AddressBook(
        building_id=ids,
        x=x,
        y=y,
        lon=lon,
        lat=lat,
        grid_code=grid_code,
        community_code=community_code,
        community_name=np.array([name_of[c] for c in community_code], dtype=object),
        community_kind=np.array([kind_of[c] for c in community_code], dtype=object),
        street_code=street_code,
        street_name=np.array([name_of[c] for c in street_code], dtype=object),
        district_name=np.array([name_of[c[:6] + "000000"] for c in street_code], dtype=object),
        district_short=np.array([short_of[c[:6] + "000000"] for c in street_code], dtype=object),
        road=road,
        road_name=np.array(roads.display, dtype=object)[road],
        door=door,
        door_number=doors.number[door],
        compound=compound,
        compound_name=compound_name,
        building_number=np.array(buildings.number, dtype=np.int64),
        kind=kind,
        address_id=address_id,
        door_address_id=door_ids[door],
        compound_address_id=np.where(compound >= 0, door_ids[door], "").astype(object),
        table=pd.DataFrame(),
    )
    book.table = _standard_table(layout, roads, stock, book, door_ids)
    return book


def _standard_table(
    layout: AdminLayout,
    roads: RoadNetwork,
    stock: BuildingStock,
    book: AddressBook,
    door_ids: StrArray,
) -> pd.DataFrame:
    doors, compounds, buildings = stock.doors, stock.compounds, stock.buildings
    areas = layout.areas.set_index("code")
    door_grid = doors.grid
    door_community = np.array(layout.grid_community, dtype=object)[door_grid]
    compound_of_door = {door: index for index, door in enumerate(compounds.door)}
    first_building_of_door: dict[int, int] = {}
    for index, door in enumerate(buildings.door):
        first_building_of_door.setdefault(door, index)
    rows: list[dict[str, object]] = []
    label = delivery().building_label
    for index in range(len(doors)):
        community = str(door_community[index])
        street = str(areas.at[community, "parent_code"])
        compound = compound_of_door.get(index, -1)
        building = first_building_of_door.get(index, -1)
        is_gate = compound >= 0
        place = "" if is_gate or building < 0 else buildings.name[building]
        if buildings.kind[building] == "special":  # a campus door names the campus, not a block
            place = (
                place.rsplit("号楼", 1)[0].rstrip("0123456789") if place.endswith("号楼") else place
            )
        rows.append(
            {
                "地址编码": door_ids[index],
                "地址类型": "小区" if is_gate else "门牌",
                "区县代码": street[:6] + "000000",
                "街道代码": street,
                "区县": areas.at[street[:6] + "000000", "name"],
                "街道": areas.at[street, "name"],
                "社区": areas.at[community, "name"],
                "社区代码": community,
                "街路巷": roads.display[doors.road[index]],
                "门牌号": f"{doors.number[index]}号",
                "小区名称": compounds.name[compound] if is_gate else "",
                "小区别名": compounds.documented_alias[compound] if is_gate else "",
                "楼栋号": "",
                "地物名称": place,
                "建筑编号": "" if is_gate or building < 0 else book.building_id[building],
                "X坐标": doors.x[index],
                "Y坐标": doors.y[index],
            }
        )
    for block in np.flatnonzero(book.kind == "compound"):
        index = int(block)
        rows.append(
            {
                "地址编码": book.address_id[index],
                "地址类型": "楼栋",
                "区县代码": str(book.street_code[index])[:6] + "000000",
                "街道代码": book.street_code[index],
                "区县": book.district_name[index],
                "街道": book.street_name[index],
                "社区": book.community_name[index],
                "社区代码": book.community_code[index],
                "街路巷": book.road_name[index],
                "门牌号": f"{book.door_number[index]}号",
                "小区名称": book.compound_name[index],
                "小区别名": compounds.documented_alias[book.compound[index]],
                "楼栋号": f"{book.building_number[index]}{label}",
                "地物名称": "",
                "建筑编号": book.building_id[index],
                "X坐标": float(book.x[index]),
                "Y坐标": float(book.y[index]),
            }
        )
    table = pd.DataFrame(rows)
    table.insert(
        1,
        "标准地址",
        active().city_name
        + table["区县"]
        + table["街道"]
        + table["社区"]
        + table["街路巷"]
        + table["门牌号"]
        + table["小区名称"]
        + table["楼栋号"],
    )
    return table


class TypoIndex:
    """Finds one-character homophone typos that stay closer to their source than to any other
    known string (so they remain resolvable), and look-alike names that do not exist."""

    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.keys: dict[str, set[str]] = {}
        for text in known:
            for position in range(len(text)):
                self.keys.setdefault(_wildcard(text, position), set()).add(text)

    def resolvable_typos(self, text: str, suffixes: tuple[str, ...]) -> list[str]:
        """Typos of ``text`` (outside its generic suffix) ≥ 2 edits from any other known string."""
        found = []
        for candidate, _ in self._substitutions(text, suffixes):
            if candidate in self.known:
                continue
            clash = any(
                self.keys.get(_wildcard(candidate, other), set()) - {text}
                for other in range(len(candidate))
            )
            if not clash:
                found.append(candidate)
        return found

    def lookalikes(self, text: str, suffixes: tuple[str, ...]) -> list[str]:
        """One-character variants of ``text`` that are not themselves known strings."""
        return [
            candidate
            for candidate, _ in self._substitutions(text, suffixes)
            if candidate not in self.known
        ]

    @staticmethod
    def _substitutions(text: str, suffixes: tuple[str, ...]) -> list[tuple[str, int]]:
        stem_length = len(text)
        for suffix in sorted(suffixes, key=len, reverse=True):
            if text.endswith(suffix) and len(text) > len(suffix):
                stem_length = len(text) - len(suffix)
                break
        return [
            (text[:position] + vocab.HOMOPHONES[text[position]] + text[position + 1 :], position)
            for position in range(stem_length)
            if text[position] in vocab.HOMOPHONES
            and vocab.HOMOPHONES[text[position]] != text[position]
        ]


def _wildcard(text: str, position: int) -> str:
    return text[:position] + "\x00" + text[position + 1 :]
