"""Cameras and IoT sensors as the public-security video network and the city-management IoT
platform list them: one GeoJSON in CGCS2000 geographic coordinates (EPSG:4490), with 20-digit
GB/T 28181 device codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geoplatform.demo.addresses import AddressBook
from geoplatform.demo.admin import to_metric, to_wgs84
from geoplatform.demo.config import CGCS2000_GEOGRAPHIC_CRS
from geoplatform.demo.roads import RoadNetwork
from geoplatform.demo.stock import GridLocator
from geoplatform.demo.truth import TRUTH_DEVICE_COLUMNS
from geoplatform.demo.writers import CsvStream, write_geojson

DEVICE_FILE = "devices/感知设备.geojson"
CAMERA_SHARE = 0.77
CAMERA_TYPES = ("枪机", "球机", "人脸卡口", "车辆卡口")
SENSOR_TYPES = ("烟感", "水位监测", "井盖监测", "环境监测")


@dataclass
class Devices:
    """Devices with their true positions (WGS84 equals the file's EPSG:4490 values)."""

    device_id: npt.NDArray[np.object_]
    device_type: npt.NDArray[np.object_]
    is_camera: npt.NDArray[np.bool_]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    grid: npt.NDArray[np.int64]


def make_devices(
    book: AddressBook,
    roads: RoadNetwork,
    locator: GridLocator,
    count: int,
    rng: np.random.Generator,
) -> Devices:
    """Cameras along urban roads and at compound gates; sensors in buildings and on roads."""
    urban = [i for i, kind in enumerate(roads.kinds) if kind == "urban"]
    lengths = np.array([roads.lines[i].length for i in urban])
    cameras = round(count * CAMERA_SHARE)
    kind_roll = rng.random(count)
    on_road = np.where(np.arange(count) < cameras, kind_roll < 0.7, kind_roll < 0.5)
    road_pick = np.array(urban)[rng.choice(len(urban), count, p=lengths / lengths.sum())]
    t = rng.random(count)
    points = shapely.get_coordinates(
        [
            shapely.line_interpolate_point(roads.lines[r], f, normalized=True)
            for r, f in zip(road_pick, t, strict=True)
        ]
    )
    building = rng.integers(0, len(book), count)
    x = np.where(on_road, points[:, 0] + rng.normal(0, 6, count), book.x[building])
    y = np.where(on_road, points[:, 1] + rng.normal(0, 6, count), book.y[building])
    lon, lat = to_wgs84(x, y)
    lon, lat = np.round(lon, 9), np.round(lat, 9)  # the file's precision is the truth
    x, y = to_metric(lon, lat)
    grid = locator.locate_points(x, y)
    keep = grid >= 0
    is_camera = np.arange(count) < cameras
    type_pool = np.where(
        is_camera,
        np.array(CAMERA_TYPES, dtype=object)[rng.integers(0, len(CAMERA_TYPES), count)],
        np.array(SENSOR_TYPES, dtype=object)[rng.integers(0, len(SENSOR_TYPES), count)],
    )
    district = np.array([str(c)[:6] for c in book.street_code], dtype=object)[building]
    ids = np.array(
        [
            f"{d}00" + "00" + ("132" if cam else "134") + "0" + f"{i + 1:06d}"
            for i, (d, cam) in enumerate(zip(district, is_camera, strict=True))
        ],
        dtype=object,
    )
    return Devices(
        ids[keep],
        type_pool[keep],
        is_camera[keep],
        lon[keep],
        lat[keep],
        x[keep],
        y[keep],
        grid[keep],
    )


def write_devices(
    out: Path, devices: Devices, grid_codes: list[str], rng: np.random.Generator, truth: CsvStream
) -> Path:
    path = out / DEVICE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    count = devices.device_id.shape[0]
    frame = gpd.GeoDataFrame(
        {
            "设备编号": devices.device_id,
            "设备名称": [
                f"{t}{i[-6:]}" for t, i in zip(devices.device_type, devices.device_id, strict=True)
            ],
            "设备类型": devices.device_type,
            "设备大类": np.where(devices.is_camera, "视频监控", "物联感知"),
            "所属部门": np.where(devices.is_camera, "公安局", "城市管理综合执法局"),
            "在线状态": np.where(rng.random(count) < 0.93, "在线", "离线"),
            "安装日期": (
                np.datetime64("2018-01-01") + rng.integers(0, 2500, count).astype("timedelta64[D]")
            ).astype(str),
        },
        geometry=gpd.points_from_xy(devices.lon, devices.lat),
        crs=CGCS2000_GEOGRAPHIC_CRS,
    )
    write_geojson(path, frame)
    codes = np.array(grid_codes, dtype=object)
    truth.write(
        pd.DataFrame(
            {
                "file": DEVICE_FILE,
                "row": np.arange(1, count + 1),
                "device_id": devices.device_id,
                "device_type": devices.device_type,
                "grid_code": codes[devices.grid],
                "lon": devices.lon,
                "lat": devices.lat,
            },
            columns=list(TRUTH_DEVICE_COLUMNS),
        )
    )
    return path
