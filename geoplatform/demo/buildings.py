"""Placing the built stock: compounds with numbered buildings on a lattice between the roads,
standalone and commercial buildings along the roads, houses along village lanes, special campuses
(schools, hospitals, markets) and industrial parks carved out as special grids. No footprint
crosses a grid edge: every candidate is checked against the final grids.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import Polygon, box

from geoplatform.demo.admin import AdminLayout, CityFrame
from geoplatform.demo.config import CityTargets
from geoplatform.demo.partition import FloatArray, reading_order
from geoplatform.demo.presets import active
from geoplatform.demo.roads import CoreGrid, RoadNetwork, park_road
from geoplatform.demo.stock import (
    Buildings,
    BuildingStock,
    Compounds,
    Doors,
    GridLocator,
    door_point,
    number_doors,
)

COMPOUNDS_AT_SCALE_1 = 560
STANDALONE_AT_SCALE_1 = 900
COMMERCIAL_AT_SCALE_1 = 4500
HOUSES_PER_SETTLEMENT_AT_SCALE_1 = 220
LATTICE = 150.0
ROAD_CLEARANCE = 30.0
ROADSIDE_PITCH = 34.0
#: Share of households a building can hold that end up occupied at scale 1.
OCCUPANCY_AT_SCALE_1 = 0.88


def _polygons(corners: FloatArray) -> np.ndarray:
    """Polygons from an (n, 4, 2) array of corners, rounded to the millimetre."""
    return np.asarray(shapely.polygons(np.round(corners, 3)), dtype=object)


def _local_rects(
    grid: CoreGrid, u0: FloatArray, v0: FloatArray, u1: FloatArray, v1: FloatArray
) -> np.ndarray:
    us = np.stack([u0, u1, u1, u0], axis=1)
    vs = np.stack([v0, v0, v1, v1], axis=1)
    x, y = grid.to_world(us, vs)
    return _polygons(np.stack([x, y], axis=2))


def _choose(rng: np.random.Generator, weights: FloatArray, count: int) -> np.ndarray:
    count = min(count, int((weights > 0).sum()))
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    return rng.choice(weights.shape[0], count, replace=False, p=weights / weights.sum())


class _Builder:
    """Holds the state while the stock is placed; :func:`build_stock` drives it."""

    def __init__(
        self,
        frame: CityFrame,
        layout: AdminLayout,
        roads: RoadNetwork,
        targets: CityTargets,
        rng: np.random.Generator,
    ) -> None:
        self.frame = frame
        self.layout = layout
        self.roads = roads
        self.targets = targets
        self.rng = rng
        self.doors = Doors()
        self.compounds = Compounds()
        self.buildings = Buildings()
        self.road_tree = shapely.STRtree(roads.lines)
        self.urban_roads = [i for i, kind in enumerate(roads.kinds) if kind == "urban"]
        self.urban_tree = shapely.STRtree([roads.lines[i] for i in self.urban_roads])
        self.street_of_community = dict(
            zip(layout.areas["code"], layout.areas["parent_code"], strict=True)
        )

    # --- lattice slots between the roads ---------------------------------------------------

    def lattice(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate compound rectangles (world polygons), their core and local lower corner."""
        rects: list[np.ndarray] = []
        cores: list[np.ndarray] = []
        origins: list[FloatArray] = []
        for core_index, grid in enumerate(self.roads.core_grids):
            half_u, half_v = grid.core.half_size
            u, v = np.meshgrid(
                np.arange(-half_u, half_u, LATTICE), np.arange(-half_v, half_v, LATTICE)
            )
            u0, v0 = u.ravel(), v.ravel()
            margin = self.rng.uniform(8.0, 20.0, u0.shape[0])
            polygons = _local_rects(
                grid, u0 + margin, v0 + margin, u0 + LATTICE - margin, v0 + LATTICE - margin
            )
            shapely.prepare(grid.region)
            keep = shapely.within(polygons, grid.region)
            near_road, _ = self.road_tree.query(
                polygons, predicate="dwithin", distance=ROAD_CLEARANCE
            )
            keep[near_road] = False
            rects.append(polygons[keep])
            cores.append(np.full(int(keep.sum()), core_index))
            origins.append(
                np.column_stack(
                    [u0 + margin, v0 + margin, u0 + LATTICE - margin, v0 + LATTICE - margin]
                )[keep]
            )
        return np.concatenate(rects), np.concatenate(cores), np.vstack(origins)

    def add_door(self, feature: Polygon, road: int | None = None) -> int:
        if road is None:
            local = int(self.urban_tree.query_nearest(feature)[0])
            road = self.urban_roads[local]
        x, y = door_point(feature, self.roads.lines[road])
        return self.doors.add(road, x, y, "building")

    # --- special campuses and industrial parks ---------------------------------------------

    def specials(self, rects: np.ndarray, cores: np.ndarray, origins: FloatArray) -> set[int]:
        """Carve schools, hospitals, markets out of lattice slots; returns the slots used."""
        locator = GridLocator(self.layout.grid_geometry)
        grid_of = locator.containing(rects)
        centres = shapely.get_coordinates(shapely.centroid(rects))
        weight = self.frame.density(centres[:, 0], centres[:, 1]) * (grid_of >= 0)
        street = np.array(
            [
                self.street_of_community[self.layout.grid_community[g]] if g >= 0 else ""
                for g in grid_of
            ]
        )
        used: set[int] = set()
        school_number = 0
        for street_code in sorted(set(street) - {""}):
            if street_code[6] != "0":
                continue
            candidates = weight * (street == street_code)
            candidates[list(used)] = 0
            (slot,) = _choose(self.rng, candidates**2, 1) if candidates.any() else (None,)
            if slot is None:
                continue
            school_number += 1
            name = (
                active().school_pattern.format(n=school_number)
                if school_number % 2
                else f"{self._short(street_code)}小学"
            )
            self._campus(int(slot), rects, cores, origins, int(grid_of[slot]), "学校", name, used)
        district = np.array([s[:6] for s in street])
        hospitals = active().hospitals
        for district_code, names in hospitals.items():
            for name in names:
                candidates = weight * (district == district_code)
                candidates[list(used)] = 0
                for slot in _choose(self.rng, candidates**3, 1):
                    self._campus(
                        int(slot), rects, cores, origins, int(grid_of[slot]), "医院", name, used
                    )
        for district_code in hospitals:
            candidates = weight * (district == district_code)
            candidates[list(used)] = 0
            for slot in _choose(self.rng, candidates**3, 1):
                community = self.layout.grid_community[int(grid_of[slot])]
                name = self.layout.community_row(community)["short_name"] + "农贸市场"
                self._campus(
                    int(slot), rects, cores, origins, int(grid_of[slot]), "市场", name, used
                )
        return used

    def _short(self, code: str) -> str:
        return str(self.layout.community_row(code)["short_name"])

    def _campus(
        self,
        slot: int,
        rects: np.ndarray,
        cores: np.ndarray,
        origins: FloatArray,
        grid_index: int,
        kind: str,
        name: str,
        used: set[int],
    ) -> None:
        used.add(slot)
        rect: Polygon = rects[slot]
        special_grid = self.layout.carve(grid_index, rect, kind)
        door = self.add_door(rect)
        grid = self.roads.core_grids[int(cores[slot])]
        u0, v0, u1, v1 = origins[slot]
        count = {"学校": 3, "医院": 2, "市场": 1}[kind]
        depth = (v1 - v0 - 20.0) / count
        for index in range(count):
            top = v1 - 10.0 - index * depth
            footprint = _local_rects(
                grid,
                np.array([u0 + 12.0]),
                np.array([top - depth * 0.6]),
                np.array([u1 - 12.0]),
                np.array([top]),
            )[0]
            floors = {"学校": 4, "医院": 9, "市场": 2}[kind]
            label = name if count == 1 else f"{name}{index + 1}号楼"
            self.buildings.add(
                footprint,
                kind="special",
                use=kind,
                grid=special_grid,
                floors=floors,
                door=door,
                name=label,
            )

    def industrial_parks(self) -> None:
        """One park per industrial town: a rectangle carved from the town grid nearest the core."""
        core_of = {core.district_code6: core for core in self.frame.cores}
        for town_code in active().industrial_towns:
            members = [
                index
                for index, community in enumerate(self.layout.grid_community)
                if self.street_of_community[community] == town_code
                and not self.layout.grid_special[index]
            ]
            core = core_of[town_code[:6]]
            anchors = shapely.point_on_surface([self.layout.grid_geometry[i] for i in members])
            distance = shapely.distance(anchors, shapely.Point(core.centre))
            for position in np.argsort(distance):
                grid_index = members[int(position)]
                polygon = self.layout.grid_geometry[grid_index]
                anchor = anchors[int(position)]
                rect = self._fit_rect(polygon, anchor.x, anchor.y)
                if rect is not None:
                    break
            else:
                continue
            park_grid = self.layout.carve(grid_index, rect, "工业园区")
            short = self._short(town_code)
            road = park_road(self.roads, rect, f"{short}园区大道", town_code[:6])
            self._factories(rect, road, park_grid, f"{short}工业园区")

    @staticmethod
    def _fit_rect(polygon: Polygon, x: float, y: float) -> Polygon | None:
        inner = polygon.buffer(-20.0)
        for factor in (1.0, 0.8, 0.65, 0.5, 0.4):
            rect = box(x - 500 * factor, y - 280 * factor, x + 500 * factor, y + 280 * factor)
            if inner.contains(rect):
                return Polygon(np.round(np.asarray(rect.exterior.coords), 3))
        return None

    def _factories(self, rect: Polygon, road: int, grid: int, park: str) -> None:
        line = self.roads.lines[road]
        start, end = np.asarray(line.coords[0]), np.asarray(line.coords[-1])
        direction = (end - start) / line.length
        normal = np.array([-direction[1], direction[0]])
        inner = rect.buffer(-5.0)
        for t in np.arange(30.0, line.length - 30.0, 100.0):
            for side in (1.0, -1.0):
                centre = start + direction * t + normal * side * 50.0
                corners = np.array(
                    [
                        centre + direction * a * 38.0 + normal * b * 22.0
                        for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))
                    ]
                )
                footprint = _polygons(corners[None])[0]
                if not inner.contains(footprint):
                    continue
                door = self.add_door(footprint, road)
                self.buildings.add(
                    footprint,
                    kind="industrial",
                    use="工业",
                    grid=grid,
                    floors=int(self.rng.integers(1, 4)),
                    door=door,
                    name=park,
                )

    # --- compounds ----------------------------------------------------------------------------

    def compound_slots(
        self,
        rects: np.ndarray,
        cores: np.ndarray,
        origins: FloatArray,
        used: set[int],
        locator: GridLocator,
    ) -> None:
        grid_of = locator.containing(rects)
        special = np.array([bool(self.layout.grid_special[g]) if g >= 0 else True for g in grid_of])
        centres = shapely.get_coordinates(shapely.centroid(rects))
        weight = self.frame.density(centres[:, 0], centres[:, 1]) ** 1.3 * ~special
        weight[list(used)] = 0.0
        wanted = max(6, round(COMPOUNDS_AT_SCALE_1 * self.targets.building_factor))
        chosen = _choose(self.rng, weight, wanted)
        names = _compound_names(len(chosen), self.rng)
        for slot, (name, short, alias) in zip(chosen, names, strict=True):
            self._compound(int(slot), rects, cores, origins, int(grid_of[slot]), name, short, alias)

    def _compound(
        self,
        slot: int,
        rects: np.ndarray,
        cores: np.ndarray,
        origins: FloatArray,
        grid_index: int,
        name: str,
        short: str,
        alias: str,
    ) -> None:
        rect: Polygon = rects[slot]
        door = self.add_door(rect)
        self.doors.kind[door] = "compound"
        compound = len(self.compounds)
        self.compounds.name.append(name)
        self.compounds.short_name.append(short)
        self.compounds.documented_alias.append(alias)
        self.compounds.door.append(door)
        self.compounds.grid.append(grid_index)
        self.compounds.rect.append(rect)
        grid = self.roads.core_grids[int(cores[slot])]
        u0, v0, u1, v1 = origins[slot]
        towers = self.rng.random() < 0.35
        length, depth, pitch = (
            (22.0, 22.0, 40.0) if towers else (float(self.rng.uniform(42, 58)), 12.0, 28.0)
        )
        gap = 16.0 if towers else 8.0
        per_row = max(1, int((u1 - u0 - 12.0 + gap) // (length + gap)))
        rows = max(1, int((v1 - v0 - 10.0) // pitch))
        lows_u, lows_v = [], []
        for row in range(rows):
            for column in range(per_row):
                lows_u.append(u0 + 6.0 + column * (length + gap))
                lows_v.append(v1 - 5.0 - row * pitch - depth)
        lu, lv = np.array(lows_u), np.array(lows_v)
        footprints = _local_rects(grid, lu, lv, lu + length, lv + depth)
        order = reading_order(shapely.get_coordinates(shapely.centroid(footprints)), pitch / 2)
        for number, position in enumerate(order, start=1):
            floors = int(self.rng.integers(11, 27)) if towers else int(self.rng.integers(5, 8))
            units = int(self.rng.integers(1, 3)) if towers else max(2, round(length / 15.0))
            self.buildings.add(
                footprints[int(position)],
                kind="compound",
                use="住宅",
                grid=grid_index,
                floors=floors,
                units=units,
                rooms_per_floor=int(self.rng.integers(2, 5)) if towers else 2,
                compound=compound,
                number=number,
                door=door,
                name=f"{name}{number}号楼",
            )

    # --- along the roads -----------------------------------------------------------------------

    def roadside(self, locator: GridLocator) -> None:
        """Standalone apartment buildings and commercial buildings facing urban roads."""
        footprints: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        for road in self.urban_roads:
            line = self.roads.lines[road]
            start, end = np.asarray(line.coords[0]), np.asarray(line.coords[-1])
            direction = (end - start) / line.length
            normal = np.array([-direction[1], direction[0]])
            t = np.arange(40.0, line.length - 40.0, ROADSIDE_PITCH)
            for side in (1.0, -1.0):
                centre = start[None] + t[:, None] * direction[None] + side * 21.0 * normal[None]
                corners = np.stack(
                    [
                        centre + a * 14.0 * direction + b * 7.0 * normal
                        for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))
                    ],
                    axis=1,
                )
                footprints.append(_polygons(corners))
                owners.append(np.full(t.shape[0], road))
        slots = np.concatenate(footprints)
        owner = np.concatenate(owners)
        grid_of = locator.containing(slots)
        ok = grid_of >= 0
        ok &= np.array([not self.layout.grid_special[g] for g in grid_of]) | (grid_of < 0)
        slot_index, road_index = self.road_tree.query(slots, predicate="dwithin", distance=31.0)
        clash = road_index != owner[slot_index]
        ok[slot_index[clash]] = False
        centres = shapely.get_coordinates(shapely.centroid(slots))
        density = self.frame.density(centres[:, 0], centres[:, 1]) * ok
        standalone = max(4, round(STANDALONE_AT_SCALE_1 * self.targets.building_factor))
        commercial = max(10, round(COMMERCIAL_AT_SCALE_1 * self.targets.building_factor))
        available = int(ok.sum())
        if standalone + commercial > available:
            ratio = available / (standalone + commercial)
            standalone, commercial = int(standalone * ratio), int(commercial * ratio)
        chosen = _choose(self.rng, density**1.5, standalone + commercial)
        for rank, slot in enumerate(chosen):
            footprint = slots[slot]
            door = self.add_door(footprint, int(owner[slot]))
            if rank < standalone:
                self.buildings.add(
                    footprint,
                    kind="standalone",
                    use="住宅",
                    grid=int(grid_of[slot]),
                    floors=int(self.rng.integers(4, 8)),
                    units=int(self.rng.integers(1, 4)),
                    rooms_per_floor=2,
                    door=door,
                )
            else:
                self.buildings.add(
                    footprint,
                    kind="commercial",
                    use="商业",
                    grid=int(grid_of[slot]),
                    floors=int(self.rng.integers(1, 5)),
                    door=door,
                )

    def houses(self, locator: GridLocator) -> None:
        """Single-household houses along village and town-seat lanes."""
        per_settlement = max(
            12, round(HOUSES_PER_SETTLEMENT_AT_SCALE_1 * self.targets.building_factor)
        )
        lanes_by_stem: dict[str, list[int]] = {}
        for index, kind in enumerate(self.roads.kinds):
            if kind in ("lane", "group"):
                lanes_by_stem.setdefault(self.roads.settlement[index], []).append(index)
        for lanes in lanes_by_stem.values():
            candidates: list[tuple[int, Polygon, int]] = []
            for road in lanes:
                line = self.roads.lines[road]
                start, end = np.asarray(line.coords[0]), np.asarray(line.coords[-1])
                direction = (end - start) / line.length
                normal = np.array([-direction[1], direction[0]])
                for t in np.arange(15.0, line.length - 15.0, 22.0):
                    for side in (1.0, -1.0):
                        centre = start + direction * t + normal * side * 15.0
                        corners = np.array(
                            [
                                centre + direction * a * 7.0 + normal * b * 5.5
                                for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))
                            ]
                        )
                        footprint = _polygons(corners[None])[0]
                        candidates.append((road, footprint, 0))
            if not candidates:
                continue
            polygons = np.array([c[1] for c in candidates], dtype=object)
            grid_of = locator.containing(polygons)
            ok = np.flatnonzero(
                (grid_of >= 0)
                & np.array([not self.layout.grid_special[g] if g >= 0 else False for g in grid_of])
            )
            take = (
                np.sort(self.rng.choice(ok, min(per_settlement, ok.size), replace=False))
                if ok.size
                else ok
            )
            for slot in take:
                road, footprint, _ = candidates[int(slot)]
                door = self.add_door(footprint, road)
                self.buildings.add(
                    footprint,
                    kind="house",
                    use="住宅",
                    grid=int(grid_of[slot]),
                    floors=1,
                    units=0,
                    rooms_per_floor=0,
                    door=door,
                )


def _compound_stems(rng: np.random.Generator) -> list[str]:
    """Curated brand stems first, then invented two-character ones, each distinct."""
    pool = active().compound_stems
    curated = [pool[int(i)] for i in rng.permutation(len(pool))]
    first, second = (
        "金银华盛锦御恒鑫嘉瑞福兴紫碧翠丽康安龙凤天蓝青宏融国",
        "泰城海湾都辉悦景湖峰轩源润邦和",
    )
    invented = [a + b for a in first for b in second if a != b and a + b not in curated]
    return curated + [invented[int(i)] for i in rng.permutation(len(invented))]


def _compound_names(count: int, rng: np.random.Generator) -> list[tuple[str, str, str]]:
    """(official name, unique colloquial short name or "", documented alias or "") per compound.

    The short name is the brand stem (银城华府小区 → 银城) or a distinctive type part (→ 华府)
    when no other compound shares it; half of them are also listed in the table as aliases.
    """
    stems = _compound_stems(rng)
    types = active().compound_types
    dormitories = active().dormitory_names
    dormitory_count = min(len(dormitories), count // 12)
    chosen: list[tuple[str, str]] = []
    for index in range(count - dormitory_count):
        chosen.append((stems[index % len(stems)], types[int(rng.integers(len(types)))]))
    chosen.extend((name, "") for name in dormitories[:dormitory_count])
    stem_counts: dict[str, int] = {}
    type_counts: dict[str, int] = {}
    for stem, kind in chosen:
        stem_counts[stem] = stem_counts.get(stem, 0) + 1
        type_counts[kind] = type_counts.get(kind, 0) + 1
    generic = {"小区", "一期", "二期", "东区", "西区", "苑", "城"}
    generic |= {t for t in types if len(t) == 1}
    result = []
    order = rng.permutation(len(chosen))
    for position in order:
        stem, kind = chosen[int(position)]
        if not kind:
            result.append((stem, "", ""))
            continue
        base = stem + kind
        official = base if kind == "小区" or rng.random() < 0.4 else base + "小区"
        short = ""
        if kind not in generic and type_counts[kind] == 1:
            short = kind
        elif stem_counts[stem] == 1:
            short = stem
        alias = short if short and rng.random() < 0.5 else ""
        result.append((official, short, alias))
    return result


def build_stock(
    frame: CityFrame,
    layout: AdminLayout,
    roads: RoadNetwork,
    targets: CityTargets,
    rng: np.random.Generator,
) -> BuildingStock:
    """Place every building, carve the special grids, number the grids and the doors."""
    builder = _Builder(frame, layout, roads, targets, rng)
    rects, cores, origins = builder.lattice()
    used = builder.specials(rects, cores, origins)
    builder.industrial_parks()
    layout.number_grids()
    locator = GridLocator(layout.grid_geometry)
    builder.compound_slots(rects, cores, origins, used, locator)
    builder.roadside(locator)
    builder.houses(locator)
    max_number = number_doors(builder.doors, roads)
    doors = builder.doors
    doors.grid = locator.locate_points(np.array(doors.x), np.array(doors.y))
    return BuildingStock(doors, builder.compounds, builder.buildings, max_number)


def ensure_capacity(buildings: Buildings, households: int) -> None:
    """Raise apartment floors (then rooms per floor) until the stock can hold ``households``
    at no more than the scale-1 occupancy."""
    needed = households / OCCUPANCY_AT_SCALE_1
    apartments = np.flatnonzero(np.isin(np.array(buildings.kind), ["compound", "standalone"]))
    for _ in range(20):
        capacity = int(buildings.residential_capacity().sum())
        if capacity >= needed:
            return
        factor = needed / max(capacity, 1)
        for index in apartments:
            floors = buildings.floors[index]
            raised = min(45, math.ceil(floors * factor))
            if raised == floors:
                buildings.rooms_per_floor[index] += 1
            buildings.floors[index] = raised
