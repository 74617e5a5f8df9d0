"""Two years of incidents from three sources, streamed month by month:

* 12345 hotline: GBK CSV, GCJ-02, "2025/3/5 14:03" times, ~10% address-only rows;
* grid-worker app: UTF-8 CSV, WGS84, ISO 8601 times with offset;
* video AI: UTF-8 CSV, BD-09, camera ids.

Locations follow people (residential), shops (commercial) and streets (road), plus planted
hotspots: a market, a nightlife street, an industrial park and two two-week emerging hotspots
(the second ends on the data's last day).
About 3% of rows are planted bad rows and 1% repeat an earlier source key; the truth says why
each must be rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geoplatform.demo.addresses import AddressBook
from geoplatform.demo.admin import to_metric, to_wgs84
from geoplatform.demo.config import (
    HOTLINE_ADDRESS_ONLY_SHARE,
    INCIDENT_BAD_ROW_SHARE,
    INCIDENT_DAYS,
    INCIDENT_DUPLICATE_SHARE,
    INCIDENT_START,
)
from geoplatform.demo.delivery import delivery
from geoplatform.demo.devices import Devices
from geoplatform.demo.hotspots import HotspotPlan
from geoplatform.demo.incident_files import HEADERS, iso, plain, source_frame, ymd_hm
from geoplatform.demo.incident_model import (
    CATEGORIES,
    DAYTIME,
    SEASON,
    WEEKLY,
    channel_shares,
    lifecycle,
)
from geoplatform.demo.stock import GridLocator
from geoplatform.demo.truth import TRUTH_INCIDENT_COLUMNS, RejectReason
from geoplatform.demo.vague import VaguePool
from geoplatform.demo.writers import CsvStream
from geoplatform.spatial.chinese_offsets import wgs84_to_bd09, wgs84_to_gcj02

SOURCES = ("hotline", "gridapp", "video")
#: share of address-only hotline rows that name only an intersection, a landmark or a compound
VAGUE_SHARE = 0.3
VAGUE_KINDS = ("intersection", "landmark", "compound")
BAD_KINDS = (
    (RejectReason.SWAPPED_LATLON, 0.25),
    (RejectReason.NULL_ISLAND, 0.2),
    (RejectReason.OUTSIDE_CITY, 0.15),
    (RejectReason.BAD_TIME, 0.25),
    (RejectReason.MISSING_CATEGORY, 0.15),
)
BAD_TIMES = {
    "hotline": ("2025/2/30 14:03", "2025/13/5 09:12", "待补录", "2024/6/31 25:61"),
    "gridapp": (
        "2025-02-30T10:00:00+08:00",
        "2025-13-01T08:00:00+08:00",
        "",
        "2024-06-31T24:61:00+08:00",
    ),
    "video": ("0000-00-00 00:00:00", "2025-06-31 12:00:00", "", "2025/13/01 99:99:99"),
}


@dataclass
class IncidentReport:
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))
    incidents: int = 0
    bad_rows: int = 0
    duplicates: int = 0
    address_only: int = 0
    hotspot_rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


@dataclass
class LocationModel:
    """Where baseline incidents happen: anchors (buildings) by kind, with standard points."""

    book: AddressBook
    anchor_x: npt.NDArray[np.float64]  # the standard address point of each building
    anchor_y: npt.NDArray[np.float64]
    residential_weight: npt.NDArray[np.float64]
    roadside: npt.NDArray[np.int64]
    commercial: npt.NDArray[np.int64]
    road_x: npt.NDArray[np.float64]  # a point on the street in front of each building's door
    road_y: npt.NDArray[np.float64]


def location_model(
    book: AddressBook,
    door_x: npt.NDArray[np.float64],
    door_y: npt.NDArray[np.float64],
    road_lines: Sequence[shapely.Geometry],
    households_per_building: npt.NDArray[np.int64],
) -> LocationModel:
    compound = book.kind == "compound"
    anchor_x = np.where(compound, book.x, door_x[book.door])
    anchor_y = np.where(compound, book.y, door_y[book.door])
    roads = np.array(road_lines, dtype=object)[book.road]
    doors = shapely.points(door_x[book.door], door_y[book.door])
    on_road = shapely.get_coordinates(
        shapely.line_interpolate_point(roads, shapely.line_locate_point(roads, doors))
    )
    return LocationModel(
        book=book,
        anchor_x=anchor_x,
        anchor_y=anchor_y,
        residential_weight=households_per_building.astype(np.float64)
        + 0.05 * np.isin(book.kind, ["compound", "standalone", "house"]),
        roadside=np.flatnonzero(np.isin(book.kind, ["commercial", "standalone"])),
        commercial=np.flatnonzero(np.isin(book.kind, ["commercial", "special"])),
        road_x=on_road[:, 0],
        road_y=on_road[:, 1],
    )


class IncidentGenerator:
    """Draws incidents day by day for one month at a time and writes the three files."""

    def __init__(
        self,
        out: Path,
        total: int,
        model: LocationModel,
        locator: GridLocator,
        grid_codes: list[str],
        devices: Devices,
        hotspots: HotspotPlan,
        rng: np.random.Generator,
        vague: VaguePool | None = None,
        vague_rng: np.random.Generator | None = None,
    ) -> None:
        self.vague = vague
        self.vague_rng = vague_rng or np.random.default_rng(0)
        self.out = out
        self.model = model
        self.locator = locator
        self.grid_codes = np.array([*grid_codes, ""], dtype=object)
        self.devices = devices
        self.hotspots = hotspots
        self.rng = rng
        self.report = IncidentReport()
        self.baseline_total = total - hotspots.expected_total
        self.days = np.datetime64(INCIDENT_START) + np.arange(INCIDENT_DAYS).astype(
            "timedelta64[D]"
        )
        month = self.days.astype("datetime64[M]").astype(np.int64) % 12
        weekday = (self.days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        weights = np.array([c.weight for c in CATEGORIES])
        season = np.stack([SEASON[c.season][month] for c in CATEGORIES], axis=1)
        weekly = np.mean([WEEKLY[s][weekday] for s in SOURCES], axis=0)
        intensity = season * weights[None, :] * weekly[:, None]
        self.expected = intensity / intensity.sum() * self.baseline_total  # day × category
        self.sequence = dict.fromkeys(SOURCES, 0)
        (out / "incidents").mkdir(parents=True, exist_ok=True)
        self.shape = shape = delivery()
        self.files = {s: shape.files[s] for s in SOURCES}
        self.streams = {
            s: CsvStream(
                out / self.files[s],
                shape.header_list(s, HEADERS[s]),
                encoding=shape.encodings[s],
                line_terminator="\r\n" if s == "hotline" else "\n",
            )
            for s in SOURCES
        }
        self.report.files = [out / self.files[s] for s in SOURCES]

    def run(
        self, truth: CsvStream, progress: Callable[[int], None] | None = None
    ) -> IncidentReport:
        months = self.days.astype("datetime64[M]")
        for month in np.unique(months):
            in_month = np.flatnonzero(months == month)
            batch = self._month(in_month)
            self._write(batch, truth)
            if progress is not None:
                progress(len(batch["category"]))
        for stream in self.streams.values():
            stream.close()
        return self.report

    # --- drawing ----------------------------------------------------------------------------

    def _month(self, day_index: npt.NDArray[np.int64]) -> dict[str, Any]:
        rng = self.rng
        counts = rng.poisson(self.expected[day_index])
        day_of, category = np.nonzero(counts)
        repeat = counts[day_of, category]
        day = self.days[day_index][np.repeat(day_of, repeat)]
        category = np.repeat(category, repeat).astype(np.int64)
        hotspot = np.full(category.shape[0], "", dtype=object)
        planted = [plan.draw(self.days[day_index], rng) for plan in self.hotspots.plans]
        extra_x, extra_y = [], []
        for plan, (plan_day, plan_category, x, y) in zip(self.hotspots.plans, planted, strict=True):
            day = np.concatenate([day, plan_day])
            category = np.concatenate([category, plan_category])
            hotspot = np.concatenate([hotspot, np.full(plan_day.shape[0], plan.name, dtype=object)])
            extra_x.append(x)
            extra_y.append(y)
            self.report.hotspot_rows[plan.name] = self.report.hotspot_rows.get(plan.name, 0) + int(
                plan_day.shape[0]
            )
        n = category.shape[0]
        hour = np.empty(n, dtype=np.int64)
        for kind, profile in DAYTIME.items():
            rows = np.flatnonzero(np.array([CATEGORIES[c].daytime == kind for c in category]))
            hour[rows] = rng.choice(24, rows.size, p=profile)
        for plan in self.hotspots.plans:
            rows = np.flatnonzero(hotspot == plan.name)
            hour[rows] = rng.choice(24, rows.size, p=DAYTIME[plan.daytime])
        seconds = hour * 3600 + rng.integers(0, 3600, n)
        reported = day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
        shares = np.stack([channel_shares(CATEGORIES[c]) for c in range(len(CATEGORIES))])[category]
        roll = rng.random(n)
        source = np.where(
            roll < shares[:, 0],
            "hotline",
            np.where(roll < shares[:, 0] + shares[:, 1], "gridapp", "video"),
        )
        source = np.where(
            hotspot != "", np.where(rng.random(n) < 0.6, "hotline", "gridapp"), source
        )
        reported = np.where(
            source == "hotline", reported.astype("datetime64[m]").astype("datetime64[s]"), reported
        )

        building, x, y, address_only = self._locate(category, source, hotspot, extra_x, extra_y)
        order = np.argsort(reported, kind="stable")
        location = np.array([CATEGORIES[c].location for c in category], dtype=object)
        at_building = (hotspot == "") & (source != "video") & ((location != "road") | address_only)
        fields: dict[str, Any] = {
            "category": category,
            "source": source,
            "reported": reported,
            "hotspot": hotspot,
            "building": building,
            "x": x,
            "y": y,
            "address_only": address_only,
            "at_building": at_building,
        }
        return {name: values[order] for name, values in fields.items()}

    def _locate(
        self,
        category: npt.NDArray[np.int64],
        source: npt.NDArray[np.str_],
        hotspot: npt.NDArray[np.object_],
        extra_x: list[npt.NDArray[np.float64]],
        extra_y: list[npt.NDArray[np.float64]],
    ) -> tuple[
        npt.NDArray[np.int64],
        npt.NDArray[np.float64],
        npt.NDArray[np.float64],
        npt.NDArray[np.bool_],
    ]:
        rng, model = self.rng, self.model
        n = category.shape[0]
        base = hotspot == ""
        kind = np.array([CATEGORIES[c].location for c in category], dtype=object)
        building = np.full(n, -1, dtype=np.int64)
        x = np.zeros(n)
        y = np.zeros(n)
        residential = np.flatnonzero(base & (kind == "residential"))
        weight = model.residential_weight
        building[residential] = rng.choice(
            weight.shape[0], residential.size, p=weight / weight.sum()
        )
        commercial = np.flatnonzero(base & (kind == "commercial"))
        building[commercial] = model.commercial[
            rng.integers(0, model.commercial.size, commercial.size)
        ]
        road = np.flatnonzero(base & (kind == "road"))
        building[road] = model.roadside[rng.integers(0, model.roadside.size, road.size)]
        anchored = np.flatnonzero(base)
        spread = np.where(kind[anchored] == "residential", 12.0, 6.0)
        x[anchored] = model.anchor_x[building[anchored]] + rng.normal(0, 1, anchored.size) * spread
        y[anchored] = model.anchor_y[building[anchored]] + rng.normal(0, 1, anchored.size) * spread
        x[road] = model.road_x[building[road]] + rng.normal(0, 8, road.size)
        y[road] = model.road_y[building[road]] + rng.normal(0, 8, road.size)
        hotline_base = (source == "hotline") & base
        base_share = hotline_base.sum() / max(int((source == "hotline").sum()), 1)
        address_only = hotline_base & (
            rng.random(n) < HOTLINE_ADDRESS_ONLY_SHARE / max(base_share, 0.5)
        )
        x[address_only] = model.anchor_x[building[address_only]]
        y[address_only] = model.anchor_y[building[address_only]]
        video = np.flatnonzero(base & (source == "video"))
        cameras = np.flatnonzero(self.devices.is_camera)
        if cameras.size:
            camera = cameras[rng.integers(0, cameras.size, video.size)]
            angle = rng.uniform(0, 2 * np.pi, video.size)
            distance = rng.uniform(10, 40, video.size)
            x[video] = self.devices.x[camera] + distance * np.cos(angle)
            y[video] = self.devices.y[camera] + distance * np.sin(angle)
            building[video] = -1 - camera  # remember the camera; no building
        planted = np.flatnonzero(~base)
        if planted.size:
            x[planted] = np.concatenate(extra_x)
            y[planted] = np.concatenate(extra_y)
        return building, x, y, address_only

    # --- writing ------------------------------------------------------------------------------

    def _write(self, batch: dict[str, Any], truth: CsvStream) -> None:
        for source in SOURCES:
            rows = np.flatnonzero(batch["source"] == source)
            if rows.size:
                self._write_source(source, {k: v[rows] for k, v in batch.items()}, truth)

    def _write_source(self, source: str, batch: dict[str, Any], truth: CsvStream) -> None:
        rng = self.rng
        n = batch["category"].shape[0]
        category = batch["category"]
        reported = batch["reported"]
        vague_kind = np.full(n, "", dtype=object)
        vague_text: dict[int, str] = {}
        vague_expected: dict[int, str] = {}
        if source == "hotline" and self.vague is not None:
            vague_kind, vague_text, vague_expected = self._vague(batch)
        lon, lat = to_wgs84(batch["x"], batch["y"])
        if source == "gridapp":  # the file's 7 decimals are the truth
            lon, lat = np.round(lon, 7), np.round(lat, 7)
        mx, my = to_metric(lon, lat)
        grid = self.locator.locate_points(mx, my)
        demand_pool = np.array(["咨询", "投诉", "建议", "求助", "举报"], dtype=object)
        demand = np.array([CATEGORIES[c].demand for c in category], dtype=object)
        demand = np.where(rng.random(n) < 0.15, demand_pool[rng.integers(0, 5, n)], demand)
        life = lifecycle(rng, source, reported, category, demand)
        keys = self._keys(source, reported)
        major = np.array([CATEGORIES[c].major for c in category], dtype=object)
        minor = np.array([CATEGORIES[c].minor for c in category], dtype=object)
        building = batch["building"]
        book = self.model.book
        safe = np.maximum(building, 0)
        address = self._addresses(building, batch["address_only"])
        for row, text in vague_text.items():
            address[row] = text
        if source == "hotline":
            fx, fy = wgs84_to_gcj02(lon, lat)
            fx, fy = np.round(fx, 6), np.round(fy, 6)
        elif source == "video":
            fx, fy = wgs84_to_bd09(lon, lat)
            fx, fy = np.round(fx, 6), np.round(fy, 6)
        else:
            fx, fy = lon, lat
        x_text = np.where(batch["address_only"], "", fx.astype(str)).astype(object)
        y_text = np.where(batch["address_only"], "", fy.astype(str)).astype(object)
        reject = np.full(n, "", dtype=object)
        time_text = {"hotline": ymd_hm, "gridapp": iso, "video": plain}[source](reported)

        bad = rng.random(n) < INCIDENT_BAD_ROW_SHARE
        kinds = np.array([k.value for k, _ in BAD_KINDS], dtype=object)
        kind_p = np.array([p for _, p in BAD_KINDS])
        bad_kind = kinds[rng.choice(kinds.size, n, p=kind_p)]
        geometric = np.isin(bad_kind, ["swapped_latlon", "null_island", "outside_city"])
        bad_kind = np.where(geometric & batch["address_only"], "bad_time", bad_kind)
        for reason in kinds:
            rows = np.flatnonzero(bad & (bad_kind == reason))
            reject[rows] = reason
            if reason == "swapped_latlon":
                x_text[rows], y_text[rows] = y_text[rows].copy(), x_text[rows].copy()
            elif reason == "null_island":
                x_text[rows], y_text[rows] = "0", "0"
            elif reason == "outside_city":
                x_text[rows] = np.round(fx[rows] + rng.choice([-3.0, 2.5], rows.size), 6).astype(
                    str
                )
                y_text[rows] = np.round(fy[rows] + rng.choice([-2.0, 1.5], rows.size), 6).astype(
                    str
                )
            elif reason == "bad_time":
                options = np.array(BAD_TIMES[source], dtype=object)
                time_text[rows] = options[rng.integers(0, options.size, rows.size)]
            elif reason == "missing_category":
                major[rows] = ""
                minor[rows] = ""
        frame = source_frame(
            source,
            keys,
            time_text,
            major,
            minor,
            demand,
            address,
            x_text,
            y_text,
            life,
            building,
            rng,
            self.devices.device_id,
        )

        duplicate = np.flatnonzero(~bad & (rng.random(n) < INCIDENT_DUPLICATE_SHARE))
        reject[duplicate] = RejectReason.DUPLICATE_KEY.value
        has_coordinates = ~batch["address_only"]
        vague = vague_kind != ""
        level = np.where(batch["address_only"], "building", "")
        level = np.where(vague, vague_kind, level)
        expected = np.where(batch["address_only"] & ~vague, book.address_id[safe], "")
        for row, gate in vague_expected.items():
            expected[row] = gate
        at_building = batch["at_building"] & ~vague
        truth_frame = pd.DataFrame(
            {
                "source": source,
                "key": keys,
                "reject_reason": reject,
                "has_coordinates": has_coordinates,
                "resolvable_level": level,
                "expected_address_id": expected,
                "building_id": np.where(at_building, book.building_id[safe], ""),
                "grid_code": self.grid_codes[grid],
                "lon": lon,
                "lat": lat,
                "category": minor,
                "reported_at": pd.Series(reported)
                .dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
                .to_numpy(),
                "hotspot": batch["hotspot"],
                "variants": np.where(vague, np.char.add("vague_", vague_kind.astype(str)), ""),
            }
        )
        truth_frame["category"] = np.array([CATEGORIES[c].minor for c in category], dtype=object)
        if (
            duplicate.size
        ):  # the later copy wins (an update of the same ticket); the first is superseded
            frame = pd.concat([frame, frame.iloc[duplicate]], ignore_index=True)
            copy = truth_frame.iloc[duplicate].copy()
            copy["reject_reason"] = ""
            truth_frame = pd.concat([truth_frame, copy], ignore_index=True)
        stream = self.streams[source]
        start = stream.rows
        status_column = {"hotline": "办理状态", "gridapp": "状态", "video": "处置状态"}[source]
        frame[status_column] = self.shape.status(frame[status_column])
        stream.write(self.shape.rename(source, frame))
        truth_frame.insert(1, "file", self.files[source])
        truth_frame.insert(2, "row", np.arange(start + 1, start + len(frame) + 1))
        truth.write(truth_frame.rename(columns={"key": "source_key"})[list(TRUTH_INCIDENT_COLUMNS)])
        self.report.rows[source] += len(frame)
        self.report.incidents += n
        self.report.bad_rows += int(bad.sum())
        self.report.duplicates += int(duplicate.size)
        self.report.address_only += int(batch["address_only"].sum())

    def _vague(
        self, batch: dict[str, Any]
    ) -> tuple[npt.NDArray[np.object_], dict[int, str], dict[int, str]]:
        """Turn VAGUE_SHARE of the address-only hotline rows into intersection, landmark and
        compound rows (a third each), moving their true point to the place they name."""
        assert self.vague is not None
        rng = self.vague_rng
        n = batch["category"].shape[0]
        kinds = np.full(n, "", dtype=object)
        candidates = np.flatnonzero(batch["address_only"])
        chosen = candidates[rng.random(candidates.size) < VAGUE_SHARE]
        split = np.array(VAGUE_KINDS, dtype=object)[rng.integers(0, 3, chosen.size)]
        texts: dict[int, str] = {}
        expected: dict[int, str] = {}
        for kind in VAGUE_KINDS:
            rows = chosen[split == kind]
            found, x, y, gates = self.vague.draw(kind, rng, rows.size)
            if not found:
                continue
            kinds[rows] = kind
            batch["x"][rows] = x
            batch["y"][rows] = y
            for row, text, gate in zip(rows.tolist(), found, gates, strict=True):
                texts[row] = text
                if gate:
                    expected[row] = gate
        return kinds, texts, expected

    def _keys(self, source: str, reported: npt.NDArray[np.datetime64]) -> npt.NDArray[np.object_]:
        start = self.sequence[source]
        self.sequence[source] += reported.shape[0]
        day = pd.Series(reported).dt.strftime("%Y%m%d").to_numpy()
        prefix = {"hotline": "RX", "gridapp": "SJ", "video": "AL"}[source]
        return np.array(
            [f"{prefix}{d}{start + i + 1:08d}" for i, d in enumerate(day)], dtype=object
        )

    def _addresses(
        self, building: npt.NDArray[np.int64], address_only: npt.NDArray[np.bool_]
    ) -> list[str]:
        book = self.model.book
        label = self.shape.building_label
        out = []
        for b, exact in zip(building.tolist(), address_only.tolist(), strict=True):
            if b < 0:
                out.append("")
                continue
            text = f"{book.district_name[b]}{book.road_name[b]}{book.door_number[b]}号"
            if book.kind[b] == "compound":
                text += f"{book.compound_name[b]}{book.building_number[b]}{label}"
            out.append(text if exact else text + "附近")
        return out
