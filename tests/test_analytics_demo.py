"""The analytics on the demo city's incidents (truth points), against the planted truth.

Incidents are aggregated with our own code (count_by_cell, daily_counts) from the truth files'
WGS84 points, as the cube will aggregate the loaded rows. The exposure layers (residents,
buildings by kind, organisations, cameras) are what the platform holds per cell in PostGIS.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geoplatform.analytics.hexagons import cells_covering, count_by_cell
from geoplatform.analytics.hotspots import expected_from_exposure, hotspots
from geoplatform.analytics.warnings import daily_counts, scan_warnings
from geoplatform.spatial.h3cells import lonlat_to_cells
from tests.conftest import DemoCities
from tests.hotspot_truth import assert_planted_hotspots_found, loaded_incidents, planted_hotspots

pytestmark = pytest.mark.slow

SCALE = 0.02
RESOLUTION = 9
#: Records sit within tens of metres of what generates them (a door's street, a camera's view).
SPREAD_M = 30.0


def _study_area(city: Path) -> np.ndarray:
    admin = gpd.read_file(city / "boundaries" / "行政区划与网格.gpkg", layer="行政区划")
    outline = admin[admin["区划代码"] == "150300000000"].to_crs(4326).geometry.union_all()
    return cells_covering(outline, RESOLUTION)


def _exposure(city: Path) -> pd.DataFrame:
    truth = city / "truth"
    people = pd.read_csv(truth / "people.csv").dropna(subset=["lon", "lat"])
    buildings = pd.read_csv(truth / "buildings.csv")
    orgs = pd.read_csv(truth / "organisations.csv").dropna(subset=["lon", "lat"])
    devices = pd.read_csv(truth / "devices.csv", dtype={"device_id": str})
    catalogue = gpd.read_file(city / "devices" / "感知设备.geojson")
    cameras = devices[
        devices["device_id"].isin(catalogue.loc[catalogue["设备大类"] == "视频监控", "设备编号"])
    ]

    def layer(frame: pd.DataFrame) -> pd.Series:
        return count_by_cell(frame["lon"], frame["lat"], RESOLUTION, spread_m=SPREAD_M)

    kinds = buildings["kind"]
    return pd.DataFrame(
        {
            "residents": layer(people),
            "organisations": layer(orgs),
            "buildings": layer(buildings),
            "shops": layer(buildings[kinds.isin(["commercial", "special"])]),
            "street_front": layer(buildings[kinds.isin(["commercial", "standalone"])]),
            "cameras": layer(cameras),
        }
    ).fillna(0.0)


def _hot_cells(city: Path) -> set[int]:
    incidents = loaded_incidents(city)
    counts = count_by_cell(incidents["lon"], incidents["lat"], RESOLUTION)
    area = _study_area(city)
    expected = expected_from_exposure(counts, _exposure(city), study_area=area)
    result = hotspots(counts, study_area=area, expected=expected)
    assert result.dispersion >= 1.0
    return set(result.hot_cells.tolist())


@pytest.fixture(scope="module")
def planted_city(demo_cities: DemoCities) -> Path:
    return demo_cities(SCALE, 1)


def test_planted_hotspots_are_all_found(planted_city: Path) -> None:
    assert_planted_hotspots_found(planted_city, _hot_cells(planted_city), RESOLUTION)


def test_no_planted_hotspot_false_discovery_rate(
    demo_cities: DemoCities,
) -> None:
    """Cities with nothing planted: every discovery is false; FDR = mean over seeds of FDP."""
    proportions = []
    for seed in (1, 2, 3):
        out = demo_cities(SCALE, seed, planted_hotspots=False)
        proportions.append(1.0 if _hot_cells(out) else 0.0)
    assert np.mean(proportions) <= 0.10


@pytest.mark.parametrize("level", ["cell", "grid"])
def test_emerging_hotspot_warns_in_its_window_and_not_before(
    planted_city: Path, level: str
) -> None:
    incidents = loaded_incidents(planted_city)
    spot = next(s for s in planted_hotspots(planted_city) if s["kind"] == "emerging")
    first = pd.Timestamp(spot["first_day"])
    last = pd.Timestamp(spot["last_day"])
    rows = incidents[incidents["hotspot"] == "emerging"]
    if level == "cell":
        incidents["unit"] = lonlat_to_cells(incidents["lon"], incidents["lat"], RESOLUTION)
        cells = count_by_cell(rows["lon"], rows["lat"], RESOLUTION)
        target = set(cells.index[cells >= 0.2 * cells.max()].tolist())
    else:
        incidents["unit"] = incidents["grid_code"]
        target = {str(code) for code in spot["grid_codes"]}
    daily = daily_counts(incidents, "unit")
    warned: list[int] = []
    elsewhere = 0
    scans = pd.date_range(first - pd.Timedelta(days=60), last, freq="D")
    for as_of in scans:
        scan = scan_warnings(daily, as_of=as_of, window_days=7, level=level)
        units = set(scan.warnings.index.tolist())
        if units & target:
            warned.append((as_of - first).days)
        elsewhere += len(units - target)
    assert warned, "the emerging hotspot never raised a warning"
    assert min(warned) >= 0, f"warned before the hotspot began: {warned}"
    assert min(warned) <= 7
    assert elsewhere <= 0.1 * len(scans)
