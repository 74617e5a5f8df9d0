"""The city's frame and administrative layout: outline, river, urban cores, districts, streets,
communities and grids, all nested exactly (EPSG:4545 metres).

Districts follow the river (乌达区 on the west bank, 海勃湾区 north-east, 海南区 south-east);
streets, communities and grids are density-weighted Voronoi partitions of their parent, so they
are small in the urban cores and large in the sparse periphery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Polygon

from geoplatform.demo.config import GEOGRAPHIC_CRS
from geoplatform.demo.partition import (
    FloatArray,
    allocate,
    kmeans,
    reading_order,
    sample_points,
    voronoi_partition,
)
from geoplatform.demo.presets import Preset, active

#: Special grids carved out of basic grids: schools (one per 街道), hospitals, markets, parks.
HOSPITAL_GRIDS = 4
MARKET_GRIDS = 3
INDUSTRIAL_GRIDS = 3
URBAN_DENSITY_THRESHOLD = 0.12
#: Admin areas and grids are snapped to this grid (metres): merges near-duplicate vertices
#: that the zone prefix would collapse, while moving shared edges by far less than 1 m².
PRECISION_M = 1e-6


@lru_cache(maxsize=4)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def to_metric(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WGS84 degrees → the preset's metric CRS (EPSG:4545 for Wuhai)."""
    x, y = _transformer(GEOGRAPHIC_CRS, active().metric_crs).transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def to_wgs84(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The preset's metric CRS → WGS84 degrees."""
    lon, lat = _transformer(active().metric_crs, GEOGRAPHIC_CRS).transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


@dataclass(frozen=True)
class UrbanCore:
    """A district's built-up core: a density peak with a rotated road grid around it."""

    district_code6: str
    centre: tuple[float, float]
    sigma: float
    weight: float
    half_size: tuple[float, float]
    rotation: float


@dataclass
class CityFrame:
    """Outline, river and cores: everything the partitions and the road network hang on."""

    outline: Polygon
    river: LineString
    cores: list[UrbanCore]

    def in_core(
        self, core: UrbanCore, x: FloatArray, y: FloatArray, margin: float = 0.8
    ) -> npt.NDArray[np.bool_]:
        """Inside ``margin`` × the core's road-network ellipse (where the streets are built)."""
        cos, sin = math.cos(core.rotation), math.sin(core.rotation)
        dx, dy = x - core.centre[0], y - core.centre[1]
        u = cos * dx + sin * dy
        v = -sin * dx + cos * dy
        return (u / (core.half_size[0] * margin)) ** 2 + (
            v / (core.half_size[1] * margin)
        ) ** 2 <= 1.0

    def river_x(self, y: FloatArray) -> FloatArray:
        """Easting of the river at northing ``y`` (the river runs north–south)."""
        coords = np.asarray(self.river.coords)
        return np.interp(y, coords[:, 1], coords[:, 0])

    def density(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Relative population density: Gaussian cores, a river corridor and a rural floor."""
        value = np.full(x.shape, 0.01)
        for core in self.cores:
            r2 = (x - core.centre[0]) ** 2 + (y - core.centre[1]) ** 2
            value += core.weight * np.exp(-r2 / (2.0 * core.sigma**2))
        river_distance = np.abs(x - self.river_x(y))
        value += 0.08 * np.exp(-(river_distance**2) / (2.0 * 2500.0**2))
        return value


def _river_lon(lat: FloatArray, phase: tuple[float, float]) -> FloatArray:
    return (
        active().river_lon
        + 0.016 * np.sin(2 * np.pi * (lat - 39.1) / 0.23 + phase[0])
        + 0.006 * np.sin(2 * np.pi * lat / 0.07 + phase[1])
    )


def build_frame(rng: np.random.Generator) -> CityFrame:
    """The outline (inside the preset's extent), a meandering N–S river and three cores."""
    preset = active()
    angles = np.linspace(0.0, 2 * np.pi, 36, endpoint=False)
    phases = rng.uniform(0, 2 * np.pi, 3)
    radius = 0.88 + 0.05 * np.sin(2 * angles + phases[0]) + 0.04 * np.sin(3 * angles + phases[1])
    radius += 0.02 * np.sin(5 * angles + phases[2])
    lon = preset.centre[0] + preset.radius[0] * radius * np.cos(angles)
    lat = preset.centre[1] + preset.radius[1] * radius * np.sin(angles)
    x, y = to_metric(lon, lat)
    outline = Polygon(np.column_stack([x, y]))

    phase = (float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi)))
    river_lat = np.linspace(preset.centre[1] - 0.5, preset.centre[1] + 0.5, 401)
    rx, ry = to_metric(_river_lon(river_lat, phase), river_lat)
    river = LineString(np.column_stack([rx, ry]))

    cores = []
    for spec in preset.cores:
        code6, core_lat, offset = spec.district_code6, spec.lat, spec.river_offset
        sigma, weight, half = spec.sigma, spec.weight, spec.half_size
        jitter_lat = core_lat + rng.uniform(-0.01, 0.01)
        core_lon = float(_river_lon(np.array([jitter_lat]), phase)[0]) + offset
        cx, cy = to_metric(np.array([core_lon]), np.array([jitter_lat]))
        cores.append(
            UrbanCore(
                code6,
                (float(cx[0]), float(cy[0])),
                sigma,
                weight,
                half,
                math.radians(float(rng.uniform(-12, 12))),
            )
        )
    return CityFrame(outline, river, cores)


@dataclass
class AdminLayout:
    """Admin areas and grids. Grids are kept as parallel lists indexed by an internal grid id
    until :meth:`number_grids` gives them their 15-digit codes."""

    areas: gpd.GeoDataFrame
    grid_geometry: list[Polygon]
    grid_community: list[str]
    grid_special: list[str]
    grid_codes: list[str] = field(default_factory=list)
    grid_names: list[str] = field(default_factory=list)

    def community_row(self, code: str) -> gpd.GeoSeries:
        return self.areas.loc[self.areas["code"] == code].iloc[0]

    def carve(self, grid_index: int, piece: Polygon, kind: str) -> int:
        """Cut ``piece`` (inside grid ``grid_index``) out as a new special grid; returns its id."""
        parent = self.grid_geometry[grid_index]
        if not parent.contains(piece):
            raise ValueError("a special grid must lie inside the grid it is carved from")
        self.grid_geometry[grid_index] = _as_polygon(shapely.difference(parent, piece))
        self.grid_geometry.append(piece)
        self.grid_community.append(self.grid_community[grid_index])
        self.grid_special.append(kind)
        return len(self.grid_geometry) - 1

    def number_grids(self) -> None:
        """Grid code = community code + 3-digit sequence, west→east then north→south.

        Also snaps the final grids to a micrometre grid, as the areas were, so they stay valid
        when written with the zone prefix (36,000,000 m leaves ~10⁻⁸ m of float resolution).
        """
        self.grid_geometry = list(
            shapely.set_precision(np.array(self.grid_geometry, dtype=object), PRECISION_M)
        )
        codes = [""] * len(self.grid_geometry)
        names = [""] * len(self.grid_geometry)
        community_names = dict(zip(self.areas["code"], self.areas["name"], strict=True))
        by_community: dict[str, list[int]] = {}
        for index, community in enumerate(self.grid_community):
            by_community.setdefault(community, []).append(index)
        for community, members in by_community.items():
            points = shapely.get_coordinates(
                shapely.point_on_surface([self.grid_geometry[i] for i in members])
            )
            area = sum(self.grid_geometry[i].area for i in members)
            order = reading_order(points, math.sqrt(area / len(members)))
            for sequence, position in enumerate(order, start=1):
                index = members[int(position)]
                codes[index] = f"{community}{sequence:03d}"
                special = self.grid_special[index]
                label = f"{special}专属网格" if special else "网格"
                names[index] = f"{community_names[community]}第{sequence}{label}"
        self.grid_codes = codes
        self.grid_names = names

    def grids_frame(self) -> gpd.GeoDataFrame:
        """Grids as a GeoDataFrame in the metric CRS (after :meth:`number_grids`)."""
        return gpd.GeoDataFrame(
            {
                "code": self.grid_codes,
                "name": self.grid_names,
                "community_code": self.grid_community,
                "grid_type": ["专属网格" if kind else "基础网格" for kind in self.grid_special],
                "special_kind": self.grid_special,
            },
            geometry=self.grid_geometry,
            crs=active().metric_crs,
        )


def _split(outline: Polygon, cutter: Polygon) -> tuple[Polygon, Polygon]:
    """outline ∩ cutter and outline − that, with stray fragments given to the other side."""
    inside = shapely.intersection(outline, cutter)
    parts = sorted(shapely.get_parts(inside), key=lambda part: -part.area)
    main = parts[0]
    rest = shapely.difference(outline, main)
    rest_parts = sorted(shapely.get_parts(rest), key=lambda part: -part.area)
    other = rest_parts[0]
    if len(rest_parts) > 1:  # a meander cut off a piece of the other side: give it back
        main = shapely.union(main, shapely.union_all(rest_parts[1:]))
    return _as_polygon(main), _as_polygon(other)


def _as_polygon(geometry: shapely.Geometry) -> Polygon:
    if isinstance(geometry, Polygon):
        return geometry
    largest = max(shapely.get_parts(geometry), key=lambda part: part.area)
    assert isinstance(largest, Polygon)
    return largest


def _district_polygons(frame: CityFrame, rng: np.random.Generator) -> dict[str, Polygon]:
    minx, _, maxx, maxy = frame.outline.bounds
    river = np.asarray(frame.river.coords)
    west_cutter = Polygon(
        [*map(tuple, river), (minx - 20_000, river[-1, 1]), (minx - 20_000, river[0, 1])]
    )
    wuda, east = _split(frame.outline, west_cutter)
    preset = active()
    split_y = float(to_metric(np.array([preset.centre[0]]), np.array([preset.split_lat]))[1][0])
    xs = np.linspace(minx - 20_000, maxx + 20_000, 80)
    ys = split_y + 900.0 * np.sin(xs / 3000.0 + rng.uniform(0, 2 * np.pi))
    north_cutter = Polygon(
        [*zip(xs, ys, strict=True), (xs[-1], maxy + 20_000), (xs[0], maxy + 20_000)]
    )
    haibowan, hainan = _split(east, north_cutter)
    return {preset.north_east: haibowan, preset.south_east: hainan, preset.west: wuda}


class _NamePicker:
    """Draws unique names from pools, seeded."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def pick(self, pool: tuple[str, ...], suffix: str) -> str:
        for index in self.rng.permutation(len(pool)):
            name = pool[int(index)] + suffix
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError(f"name pool exhausted for {suffix}")


def _inside(polygon: Polygon, points: FloatArray) -> FloatArray:
    shapely.prepare(polygon)
    return points[shapely.contains_xy(polygon, points[:, 0], points[:, 1])]


def build_admin(frame: CityFrame, rng: np.random.Generator) -> AdminLayout:
    """Districts, streets/towns, communities/villages and basic grids, nested exactly."""
    preset: Preset = active()
    weighted = sample_points(frame.outline, 60_000, rng, frame.density)
    uniform = sample_points(frame.outline, 30_000, rng)
    names = _NamePicker(rng)
    rows: list[dict[str, object]] = [
        {
            "code": preset.city_code,
            "name": preset.city_name,
            "short_name": preset.city_short,
            "level": "city",
            "kind": "市",
            "parent_code": "",
            "geometry": frame.outline,
        }
    ]
    districts = _district_polygons(frame, rng)
    streets: list[tuple[str, str, Polygon, bool]] = []  # code, name, polygon, is_town
    for spec in preset.districts:
        polygon = districts[spec.code6]
        rows.append(
            {
                "code": spec.code6 + "000000",
                "name": spec.name,
                "short_name": spec.short,
                "level": "district",
                "kind": "县" if spec.name.endswith("县") else "区",
                "parent_code": preset.city_code,
                "geometry": polygon,
            }
        )
        in_district_w = _inside(polygon, weighted)
        in_district_u = _inside(polygon, uniform)
        core = next(c for c in frame.cores if c.district_code6 == spec.code6)
        urban = in_district_w[frame.in_core(core, in_district_w[:, 0], in_district_w[:, 1])]
        rural = in_district_u[
            frame.density(in_district_u[:, 0], in_district_u[:, 1]) < URBAN_DENSITY_THRESHOLD
        ]
        jiedao = [item for item in spec.streets if int(item[0]) < 100]
        towns = [item for item in spec.streets if int(item[0]) >= 100]
        seeds = np.vstack([kmeans(urban, len(jiedao), rng), kmeans(rural, len(towns), rng)])
        cells = voronoi_partition(polygon, seeds)
        for group, offset in ((jiedao, 0), (towns, len(jiedao))):
            group_cells = cells[offset : offset + len(group)]
            points = shapely.get_coordinates(shapely.point_on_surface(group_cells))
            order = reading_order(points, 4000.0)
            for (code3, name), position in zip(group, order, strict=True):
                streets.append(
                    (f"{spec.code6}{code3}000", name, group_cells[int(position)], int(code3) >= 100)
                )
    for code, name, polygon, _ in streets:
        rows.append(
            {
                "code": code,
                "name": name,
                "short_name": name.removesuffix("街道").removesuffix("镇"),
                "level": "street",
                "kind": "镇" if code[6] == "1" else "街道",
                "parent_code": code[:6] + "000000",
                "geometry": polygon,
            }
        )

    street_mass = np.array([len(_inside(p, weighted)) for _, _, p, _ in streets], dtype=np.float64)
    is_town = np.array([town for *_, town in streets])
    town_total = preset.town_communities
    community_counts = np.zeros(len(streets), dtype=np.int64)
    community_counts[is_town] = allocate(
        town_total, np.array([p.area for _, _, p, t in streets if t]), 3
    )
    community_counts[~is_town] = allocate(
        preset.community_count - town_total, street_mass[~is_town], 3
    )

    communities: list[tuple[str, Polygon, bool]] = []  # code, polygon, is urban
    community_points: list[FloatArray] = []
    community_mass: list[float] = []
    for (street_code, _, polygon, town), count in zip(streets, community_counts, strict=True):
        in_w = _inside(polygon, weighted)
        in_u = _inside(polygon, uniform)
        if town:
            candidates = in_u
        else:
            core = next(c for c in frame.cores if c.district_code6 == street_code[:6])
            candidates = in_w[frame.in_core(core, in_w[:, 0], in_w[:, 1])]
            if candidates.shape[0] < 20 * count:
                candidates = np.vstack([in_w, in_u[::4]])
        cells = voronoi_partition(polygon, kmeans(candidates, int(count), rng))
        mass = np.array([len(_inside(cell, in_w)) for cell in cells])
        points = shapely.get_coordinates(shapely.point_on_surface(cells))
        order = reading_order(points, math.sqrt(polygon.area / len(cells)))
        seat = int(np.argmax(mass)) if town else -1
        village_sequence = 200
        resident_sequence = 0
        for position in order:
            index = int(position)
            if town and index != seat:
                village_sequence += 1
                code = f"{street_code[:9]}{village_sequence:03d}"
                name = names.pick(preset.village_stems, "村")
                kind = "村"
            else:
                resident_sequence += 1
                code = f"{street_code[:9]}{resident_sequence:03d}"
                name = names.pick(preset.community_stems, "社区")
                kind = "社区"
            rows.append(
                {
                    "code": code,
                    "name": name,
                    "short_name": name.removesuffix("社区").removesuffix("村"),
                    "level": "community",
                    "kind": kind,
                    "parent_code": street_code,
                    "geometry": cells[index],
                }
            )
            communities.append((code, cells[index], kind == "社区"))
            community_points.append(
                np.vstack([_inside(cells[index], in_w), _inside(cells[index], in_u)])
            )
            community_mass.append(float(mass[index]))

    special_total = sum(1 for _, _, _, town in streets if not town) + (
        HOSPITAL_GRIDS + MARKET_GRIDS + INDUSTRIAL_GRIDS
    )
    grid_counts = allocate(
        preset.grid_count - special_total,
        np.array(community_mass) ** 0.8 + 1.0,
        [3 if urban else 2 for _, _, urban in communities],
    )
    grid_geometry: list[Polygon] = []
    grid_community: list[str] = []
    for (code, polygon, _), candidates, count in zip(
        communities, community_points, grid_counts, strict=True
    ):
        if candidates.shape[0] < 4 * count:
            candidates = np.vstack([candidates, sample_points(polygon, 400, rng)])
        for cell in voronoi_partition(polygon, kmeans(candidates, int(count), rng)):
            grid_geometry.append(cell)
            grid_community.append(code)
    areas = gpd.GeoDataFrame(rows, geometry="geometry", crs=active().metric_crs)
    areas["geometry"] = shapely.set_precision(areas.geometry.to_numpy(), PRECISION_M)
    return AdminLayout(areas, grid_geometry, grid_community, [""] * len(grid_geometry))
