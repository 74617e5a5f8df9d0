"""Named roads: a rotated street grid in each urban core, lanes in villages and town seats, and a
road through each industrial park. Roads start at their west (E–W) or north (N–S) end, which is
where door numbering starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from geoplatform.demo.admin import AdminLayout, CityFrame, UrbanCore
from geoplatform.demo.partition import FloatArray
from geoplatform.demo.presets import active

ROAD_SPACING = (480.0, 680.0)
MIN_ROAD_LENGTH = 500.0
OLD_NAME_SHARE = 0.4
LANE_SPACING = 55.0


@dataclass
class CoreGrid:
    """A core's local frame: world = centre + R(rotation)·(u, v)."""

    core: UrbanCore
    region: Polygon
    u_roads: list[float] = field(default_factory=list)
    v_roads: list[float] = field(default_factory=list)

    def to_world(self, u: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
        cos, sin = math.cos(self.core.rotation), math.sin(self.core.rotation)
        return (
            self.core.centre[0] + cos * u - sin * v,
            self.core.centre[1] + sin * u + cos * v,
        )


@dataclass
class RoadNetwork:
    """All roads as parallel lists; a road's index is its id.

    ``display`` is how addresses write the road (a village group's lane is written ``3组`` after
    its village); ``settlement`` is the community code of a lane's village or town seat. Roads of
    kind ``group`` are 村民小组 lanes: addressed by group, not a named road, so not in the road
    layer."""

    names: list[str] = field(default_factory=list)
    display: list[str] = field(default_factory=list)
    settlement: list[str] = field(default_factory=list)
    old_names: list[str] = field(default_factory=list)
    lines: list[LineString] = field(default_factory=list)
    district_code6: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # urban / lane / park
    core_grids: list[CoreGrid] = field(default_factory=list)

    def add(
        self,
        name: str,
        line: LineString,
        district: str,
        kind: str,
        old_name: str = "",
        *,
        display: str = "",
        settlement: str = "",
    ) -> int:
        self.names.append(name)
        self.display.append(display or name)
        self.settlement.append(settlement)
        self.old_names.append(old_name)
        self.lines.append(line)
        self.district_code6.append(district)
        self.kinds.append(kind)
        return len(self.names) - 1

    def __len__(self) -> int:
        return len(self.names)


def _longest_line(geometry: shapely.Geometry) -> LineString | None:
    parts = [part for part in shapely.get_parts(geometry) if isinstance(part, LineString)]
    if not parts:
        return None
    best = max(parts, key=lambda part: part.length)
    return best if best.length >= MIN_ROAD_LENGTH else None


def _orient(line: LineString) -> LineString:
    """Start at the west end of a mostly E–W road, the north end of a mostly N–S one."""
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    if abs(x1 - x0) >= abs(y1 - y0):
        return line if x0 <= x1 else line.reverse()
    return line if y0 >= y1 else line.reverse()


def _ellipse(grid: CoreGrid, scale: float) -> Polygon:
    angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    u = grid.core.half_size[0] * scale * np.cos(angles)
    v = grid.core.half_size[1] * scale * np.sin(angles)
    x, y = grid.to_world(u, v)
    return Polygon(np.column_stack([x, y]))


def _positions(half: float, rng: np.random.Generator) -> list[float]:
    positions = [float(rng.uniform(-120, 120))]
    while positions[-1] < half:
        positions.append(positions[-1] + float(rng.uniform(*ROAD_SPACING)))
    while positions[0] > -half:
        positions.insert(0, positions[0] - float(rng.uniform(*ROAD_SPACING)))
    return [p for p in positions if -half < p < half]


class _StemPicker:
    def __init__(self, pool: tuple[str, ...], rng: np.random.Generator) -> None:
        self.pool = [pool[int(i)] for i in rng.permutation(len(pool))]

    def next(self) -> str:
        if not self.pool:
            raise RuntimeError("road name pool exhausted")
        return self.pool.pop()


def build_roads(frame: CityFrame, layout: AdminLayout, rng: np.random.Generator) -> RoadNetwork:
    """Urban street grids clipped to each core's district; lanes for villages and town seats."""
    preset = active()
    network = RoadNetwork()
    stems = _StemPicker(preset.road_stems, rng)
    old_names = tuple(
        stem + suffix for stem in preset.old_road_stems for suffix in preset.old_road_suffixes
    )
    ns = ([s for s, _ in preset.ns_suffixes], np.array([w for _, w in preset.ns_suffixes]))
    ew = ([s for s, _ in preset.ew_suffixes], np.array([w for _, w in preset.ew_suffixes]))
    old_stems = _StemPicker(old_names, rng)
    areas = layout.areas
    for core in frame.cores:
        district = areas.loc[areas["code"] == core.district_code6 + "000000", "geometry"].iloc[0]
        grid = CoreGrid(core, Polygon())
        grid.region = shapely.intersection(_ellipse(grid, 1.0), district.buffer(-30.0))
        half_u, half_v = core.half_size
        grid.u_roads = _positions(half_u, rng)
        grid.v_roads = _positions(half_v, rng)
        candidates: list[tuple[LineString, str]] = []
        for u in grid.u_roads:  # north–south streets
            x, y = grid.to_world(np.array([u, u]), np.array([half_v * 1.1, -half_v * 1.1]))
            candidates.append((LineString(np.column_stack([x, y])), _suffix(ns, rng)))
        for v in grid.v_roads:  # east–west roads
            x, y = grid.to_world(np.array([-half_u * 1.1, half_u * 1.1]), np.array([v, v]))
            candidates.append((LineString(np.column_stack([x, y])), _suffix(ew, rng)))
        for line, suffix in candidates:
            clipped = _longest_line(shapely.intersection(line, grid.region))
            if clipped is None:
                continue
            old = old_stems.next() if rng.random() < OLD_NAME_SHARE and old_stems.pool else ""
            network.add(stems.next() + suffix, _orient(clipped), core.district_code6, "urban", old)
        network.core_grids.append(grid)

    for _, row in areas[areas["level"] == "community"].iterrows():
        is_town_seat = row["kind"] == "社区" and row["parent_code"][6] == "1"
        if row["kind"] != "村" and not is_town_seat:
            continue
        _add_lanes(
            network,
            row["geometry"],
            str(row["short_name"]),
            str(row["name"]),
            str(row["code"]),
            bool(is_town_seat),
            rng,
        )
    return network


def _suffix(choices: tuple[list[str], FloatArray], rng: np.random.Generator) -> str:
    names, weights = choices
    if len(names) == 1:  # keeps Wuhai's draws (and so its cities) as they were
        return names[0]
    if names[0] == "大街":
        return "大街" if rng.random() < 0.4 else "街"
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def _add_lanes(
    network: RoadNetwork,
    polygon: Polygon,
    stem: str,
    village: str,
    code: str,
    town_seat: bool,
    rng: np.random.Generator,
) -> None:
    """Parallel east–west lanes through a village (巷, or 村民小组 N组) or town seat centre."""
    preset = active()
    district = code[:6]
    centre = shapely.point_on_surface(polygon)
    count = 3 if town_seat else 2
    ordinals = "一二三四五"
    length = float(rng.uniform(700, 1000))
    for index in range(count):
        y = centre.y + (index - (count - 1) / 2) * LANE_SPACING * 2.2
        line = LineString([(centre.x - length / 2, y), (centre.x + length / 2, y)])
        clipped = _longest_line(shapely.intersection(line, polygon.buffer(-25.0)))
        if clipped is None:
            continue
        if town_seat:
            name = preset.town_lanes[index].format(stem=stem)
            network.add(name, _orient(clipped), district, "lane", settlement=code)
        elif preset.village_groups:
            group = f"{index + 1}组"
            network.add(
                f"{village}{group}",
                _orient(clipped),
                district,
                "group",
                display=group,
                settlement=code,
            )
        else:
            name = f"{stem}{ordinals[index]}巷"
            network.add(name, _orient(clipped), district, "lane", settlement=code)


def park_road(network: RoadNetwork, rect: Polygon, name: str, district: str) -> int:
    """A road along the long axis of an industrial park rectangle."""
    minx, miny, maxx, maxy = rect.bounds
    if maxx - minx >= maxy - miny:
        y = (miny + maxy) / 2
        line = LineString([(minx + 20, y), (maxx - 20, y)])
    else:
        x = (minx + maxx) / 2
        line = LineString([(x, maxy - 20), (x, miny + 20)])
    return network.add(name, _orient(line), district, "park")
