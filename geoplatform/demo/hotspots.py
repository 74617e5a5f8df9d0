"""Planted incident hotspots: three persistent ones (a market, a nightlife street, an industrial
park) and two two-week emerging hotspots (one in mid-2025, one ending on the data's last day),
each recorded in the truth. A city can be generated without any (to measure false discoveries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import substring

from geoplatform.demo.admin import AdminLayout, CityFrame, to_wgs84
from geoplatform.demo.config import INCIDENT_DAYS, INCIDENT_START
from geoplatform.demo.incident_model import CATEGORY_INDEX, SEASON
from geoplatform.demo.partition import sample_points
from geoplatform.demo.roads import RoadNetwork
from geoplatform.demo.stock import BuildingStock, GridLocator

EMERGING_RADIUS_M = 150.0
EMERGING_DAYS = 14
#: The last-day burst keeps this far from the other planted hotspots (metres).
LATEST_CLEARANCE_M = 1500.0


@dataclass
class Hotspot:
    """Extra incidents of a few categories at one place (for an emerging one: one fortnight)."""

    name: str
    kind: str  # persistent / emerging
    categories: tuple[str, ...]
    category_shares: tuple[float, ...]
    daily_rate: float
    weekly: npt.NDArray[np.float64]
    season: str
    daytime: str
    area: Polygon | LineString
    first_day: np.datetime64 = field(default_factory=lambda: np.datetime64(INCIDENT_START))
    days: int = INCIDENT_DAYS
    #: drawn on top of the city's volume rather than out of it, so that adding it leaves every
    #: day before it exactly as a given seed drew it without
    on_top: bool = False

    def rates(self, days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
        month = days.astype("datetime64[M]").astype(np.int64) % 12
        weekday = (days.astype("datetime64[D]").astype(np.int64) + 3) % 7
        active = (days >= self.first_day) & (days < self.first_day + np.timedelta64(self.days, "D"))
        return self.daily_rate * self.weekly[weekday] * SEASON[self.season][month] * active

    def expected(self) -> float:
        days = np.datetime64(INCIDENT_START) + np.arange(INCIDENT_DAYS).astype("timedelta64[D]")
        return float(self.rates(days).sum())

    def draw(
        self, days: npt.NDArray[np.datetime64], rng: np.random.Generator
    ) -> tuple[
        npt.NDArray[np.datetime64],
        npt.NDArray[np.int64],
        npt.NDArray[np.float64],
        npt.NDArray[np.float64],
    ]:
        counts = rng.poisson(self.rates(days))
        day = np.repeat(days, counts)
        n = day.shape[0]
        codes = np.array([CATEGORY_INDEX[c] for c in self.categories])
        category = codes[rng.choice(codes.size, n, p=np.array(self.category_shares))]
        if isinstance(self.area, LineString):
            along = shapely.line_interpolate_point(self.area, rng.random(n), normalized=True)
            points = shapely.get_coordinates(along) + rng.normal(0, 10, (n, 2))
        elif n:
            points = sample_points(self.area, n, rng)
        else:
            points = np.empty((0, 2))
        return day, category.astype(np.int64), points[:, 0], points[:, 1]

    def to_truth(
        self, locator: GridLocator, grid_codes: list[str], planted_rows: int
    ) -> dict[str, Any]:
        centre = (
            self.area.centroid
            if isinstance(self.area, Polygon)
            else self.area.interpolate(0.5, normalized=True)
        )
        lon, lat = to_wgs84(np.array([centre.x]), np.array([centre.y]))
        touched = [
            int(i)
            for i in locator.tree.query(self.area, predicate="intersects")
            if isinstance(self.area, LineString)
            or shapely.intersection(self.area, locator.grids[int(i)]).area > 1.0
        ]
        last = self.first_day + np.timedelta64(self.days - 1, "D")
        coords = shapely.get_coordinates(self.area)
        wlon, wlat = to_wgs84(coords[:, 0], coords[:, 1])
        geometry = (
            shapely.Polygon(np.column_stack([wlon, wlat]))
            if isinstance(self.area, Polygon)
            else shapely.LineString(np.column_stack([wlon, wlat]))
        )
        return {
            "name": self.name,
            "kind": self.kind,
            "first_day": str(self.first_day),
            "last_day": str(last),
            "categories": list(self.categories),
            "daytime": self.daytime,
            "centre_lon": float(lon[0]),
            "centre_lat": float(lat[0]),
            "geometry_wkt": shapely.to_wkt(geometry, rounding_precision=7),
            "grid_codes": sorted(grid_codes[int(i)] for i in touched),
            "expected_rows": round(self.expected(), 1),
            "planted_rows": planted_rows,
        }


@dataclass
class HotspotPlan:
    plans: list[Hotspot]

    @property
    def expected_total(self) -> int:
        return round(sum(plan.expected() for plan in self.plans if not plan.on_top))


def plan_hotspots(
    frame: CityFrame,
    layout: AdminLayout,
    roads: RoadNetwork,
    stock: BuildingStock,
    total_incidents: int,
    rng: np.random.Generator,
    planted: bool = True,
) -> HotspotPlan:
    """The planted hotspots, sized relative to the city's incident volume."""
    if not planted:
        return HotspotPlan([])
    per_day = total_incidents / INCIDENT_DAYS
    weekend = np.array([1.0, 1.0, 1.0, 1.0, 1.1, 1.4, 1.4])
    nights = np.array([0.8, 0.8, 0.9, 1.0, 1.8, 1.9, 1.1])
    workdays = np.array([1.2, 1.2, 1.2, 1.2, 1.2, 0.5, 0.4])
    plans: list[Hotspot] = []
    core = frame.cores[0]
    markets = [g for g, kind in enumerate(layout.grid_special) if kind == "市场"]
    if markets:
        nearest = min(
            markets, key=lambda g: layout.grid_geometry[g].centroid.distance(Point(core.centre))
        )
        plans.append(
            Hotspot(
                "market",
                "persistent",
                ("占道经营", "流动摊贩", "暴露垃圾", "噪音扰民"),
                (0.35, 0.25, 0.25, 0.15),
                0.012 * per_day,
                weekend,
                "summer",
                "day",
                layout.grid_geometry[nearest],
            )
        )
    urban = [
        i
        for i, kind in enumerate(roads.kinds)
        if kind == "urban" and roads.district_code6[i] == core.district_code6
    ]
    if urban:
        road = min(urban, key=lambda i: roads.lines[i].distance(Point(core.centre)))
        line = roads.lines[road]
        middle = line.project(Point(core.centre))
        segment = substring(line, max(0.0, middle - 300.0), min(line.length, middle + 300.0))
        assert isinstance(segment, LineString)
        plans.append(
            Hotspot(
                "nightlife",
                "persistent",
                ("噪音扰民", "店外经营", "机动车乱停放", "占道经营"),
                (0.4, 0.25, 0.2, 0.15),
                0.012 * per_day,
                nights,
                "summer",
                "night",
                segment,
            )
        )
    parks = [g for g, kind in enumerate(layout.grid_special) if kind == "工业园区"]
    if parks:
        plans.append(
            Hotspot(
                "industrial",
                "persistent",
                ("渣土车遗撒", "乱堆物料", "施工占道", "道路不洁"),
                (0.35, 0.25, 0.2, 0.2),
                0.008 * per_day,
                workdays,
                "flat",
                "day",
                layout.grid_geometry[parks[0]],
            )
        )
    compounds = stock.compounds
    if len(compounds):
        centres = shapely.get_coordinates(shapely.centroid(compounds.rect))
        weight = frame.density(centres[:, 0], centres[:, 1])
        chosen = int(rng.choice(len(compounds), p=weight / weight.sum()))
        mondays = np.arange(
            np.datetime64("2025-04-07"), np.datetime64("2025-09-01"), np.timedelta64(7, "D")
        )
        first = mondays[int(rng.integers(0, mondays.size))]
        rate = max(3.0, 0.004 * per_day)
        plans.append(_emerging("emerging", frame, centres[chosen], first, rate))
        # a second burst ends on the data's last day, so the scan a replayed or demo city runs
        # for its last day has something to find (the one above lies months before the end)
        far = [plan.area for plan in plans]
        away = np.array(
            [min(area.distance(Point(c)) for area in far) >= LATEST_CLEARANCE_M for c in centres]
        )
        weight = np.where(away, weight, 0.0) if away.any() else weight
        latest = int(rng.choice(len(compounds), p=weight / weight.sum()))
        last_day = np.datetime64(INCIDENT_START) + np.timedelta64(INCIDENT_DAYS - 1, "D")
        start = last_day - np.timedelta64(EMERGING_DAYS - 1, "D")
        plans.append(_emerging("emerging-latest", frame, centres[latest], start, rate, on_top=True))
    return HotspotPlan(plans)


def _emerging(
    name: str,
    frame: CityFrame,
    centre: npt.NDArray[np.float64],
    first: np.datetime64,
    rate: float,
    on_top: bool = False,
) -> Hotspot:
    """A fortnight of night-time construction noise in a disc around one compound."""
    disc = shapely.intersection(
        Point(centre).buffer(EMERGING_RADIUS_M, quad_segs=16), frame.outline
    )
    assert isinstance(disc, Polygon)
    return Hotspot(
        name,
        "emerging",
        ("施工扰民", "噪音扰民", "渣土车遗撒"),
        (0.6, 0.3, 0.1),
        rate,
        np.ones(7),
        "flat",
        "night",
        disc,
        first,
        EMERGING_DAYS,
        on_top,
    )
