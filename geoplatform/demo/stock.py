"""The built stock as plain arrays: door plates, compounds and buildings, plus grid lookup and
door numbering. Placement lives in :mod:`geoplatform.demo.buildings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon

from geoplatform.demo.partition import FloatArray, IntArray
from geoplatform.demo.roads import RoadNetwork

#: Metres of road per door-number pair: numbers grow with distance from the road's start.
METRES_PER_NUMBER = 10.0


class GridLocator:
    """Point/polygon → grid id over the final grids; a point on a shared edge gets the lowest id."""

    def __init__(self, grids: list[Polygon]) -> None:
        self.grids = grids
        self.tree = shapely.STRtree(grids)

    def locate_points(self, x: FloatArray, y: FloatArray) -> IntArray:
        result = np.full(x.shape[0], -1, dtype=np.int64)
        if x.shape[0] == 0:
            return result
        point_index, grid_index = self.tree.query(shapely.points(x, y), predicate="intersects")
        order = np.argsort(-grid_index, kind="stable")
        result[point_index[order]] = grid_index[order]
        return result

    def containing(self, polygons: npt.NDArray[np.object_]) -> IntArray:
        """Grid that contains each polygon entirely, or -1 when it crosses a grid edge."""
        result = np.full(len(polygons), -1, dtype=np.int64)
        if len(polygons) == 0:
            return result
        polygon_index, grid_index = self.tree.query(polygons, predicate="within")
        result[polygon_index] = grid_index
        return result


@dataclass
class Doors:
    """Door plates (门牌): road, number and a point 1 m inside what the door belongs to."""

    road: list[int] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)  # compound / building
    number: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    grid: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def add(self, road: int, x: float, y: float, kind: str) -> int:
        self.road.append(road)
        self.x.append(round(x, 3))
        self.y.append(round(y, 3))
        self.kind.append(kind)
        return len(self.road) - 1

    def __len__(self) -> int:
        return len(self.road)


@dataclass
class Compounds:
    """Residential compounds (小区)."""

    name: list[str] = field(default_factory=list)
    short_name: list[str] = field(default_factory=list)  # unique colloquial name or ""
    documented_alias: list[str] = field(default_factory=list)  # alias listed in the table or ""
    door: list[int] = field(default_factory=list)
    grid: list[int] = field(default_factory=list)
    rect: list[Polygon] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.name)


@dataclass
class Buildings:
    """Building footprints and what the people generator needs to fill them."""

    footprint: list[Polygon] = field(default_factory=list)
    kind: list[str] = field(
        default_factory=list
    )  # compound/standalone/commercial/house/industrial/special
    use: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    compound: list[int] = field(default_factory=list)
    number: list[int] = field(default_factory=list)  # building number inside the compound
    door: list[int] = field(default_factory=list)
    grid: list[int] = field(default_factory=list)
    floors: list[int] = field(default_factory=list)
    units: list[int] = field(default_factory=list)
    rooms_per_floor: list[int] = field(default_factory=list)

    def add(
        self,
        footprint: Polygon,
        *,
        kind: str,
        use: str,
        grid: int,
        floors: int,
        units: int = 0,
        rooms_per_floor: int = 0,
        compound: int = -1,
        number: int = 0,
        door: int = -1,
        name: str = "",
    ) -> int:
        self.footprint.append(footprint)
        self.kind.append(kind)
        self.use.append(use)
        self.name.append(name)
        self.compound.append(compound)
        self.number.append(number)
        self.door.append(door)
        self.grid.append(grid)
        self.floors.append(floors)
        self.units.append(units)
        self.rooms_per_floor.append(rooms_per_floor)
        return len(self.footprint) - 1

    def __len__(self) -> int:
        return len(self.footprint)

    def centroids(self) -> tuple[FloatArray, FloatArray]:
        """Centroids rounded to the millimetre: the buildings' true points."""
        coords = shapely.get_coordinates(shapely.centroid(np.array(self.footprint, dtype=object)))
        return np.round(coords[:, 0], 3), np.round(coords[:, 1], 3)

    def residential_capacity(self) -> IntArray:
        """Households each building can hold (0 for non-residential buildings)."""
        kind = np.array(self.kind)
        capacity = np.array(self.floors) * np.array(self.units) * np.array(self.rooms_per_floor)
        capacity = np.where(np.isin(kind, ["compound", "standalone"]), capacity, 0)
        return np.where(kind == "house", 1, capacity).astype(np.int64)


@dataclass
class BuildingStock:
    """Everything built: doors, compounds, buildings, and the roads' door-number ranges."""

    doors: Doors
    compounds: Compounds
    buildings: Buildings
    max_number: dict[tuple[int, int], int] = field(default_factory=dict)  # (road, parity) → max


def door_point(feature: Polygon, road_line: shapely.Geometry) -> tuple[float, float]:
    """The point of ``feature`` nearest the road, moved 1 m inside towards its centroid."""
    nearest = shapely.get_coordinates(shapely.shortest_line(feature, road_line))[0]
    centre = shapely.get_coordinates(feature.centroid)[0]
    direction = centre - nearest
    length = float(np.hypot(*direction))
    step = direction / length if length > 0 else np.zeros(2)
    return float(nearest[0] + step[0]), float(nearest[1] + step[1])


def number_doors(doors: Doors, roads: RoadNetwork) -> dict[tuple[int, int], int]:
    """Odd numbers on the left of travel, even on the right, increasing from the road's start;
    returns the highest number per (road, parity)."""
    road = np.array(doors.road, dtype=np.int64)
    x = np.array(doors.x)
    y = np.array(doors.y)
    numbers = np.zeros(road.shape[0], dtype=np.int64)
    highest: dict[tuple[int, int], int] = {}
    for road_index in np.unique(road):
        members = np.flatnonzero(road == road_index)
        line = roads.lines[int(road_index)]
        points = shapely.points(x[members], y[members])
        s = np.asarray(shapely.line_locate_point(line, points), dtype=np.float64)
        start = np.clip(s, 0.0, max(line.length - 1.0, 0.0))
        here = shapely.get_coordinates(shapely.line_interpolate_point(line, start))
        ahead = shapely.get_coordinates(shapely.line_interpolate_point(line, start + 1.0))
        tangent = ahead - here
        offset = np.column_stack([x[members], y[members]]) - here
        left = tangent[:, 0] * offset[:, 1] - tangent[:, 1] * offset[:, 0] > 0
        for parity, side in ((1, left), (0, ~left)):
            side_members = members[side]
            order = np.argsort(s[side], kind="stable")
            previous = -1
            for position in order:
                natural = 2 * int(s[side][position] // METRES_PER_NUMBER) + (1 if parity else 2)
                number = max(natural, previous + 2)
                numbers[side_members[position]] = number
                previous = number
            if side_members.size:
                highest[(int(road_index), parity)] = previous
    doors.number = numbers
    return highest
