"""Issue 6's analytics acceptance end to end: demo city → ETL → PostGIS → API and nightly scan.

The city is generated, loaded by the pipeline (the cube filled by the ETL's publish step), and
then only the platform's own paths are used: `/analytics/hotspots` (Gi* against the exposure in
h3_layer_cube, FDR) and `geoplatform.analytics.nightly.run_scan` (what `geoplatform warnings
scan` runs) with `/analytics/warnings`. The truth files say where the hotspots were planted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from geoplatform.analytics.hexagons import count_by_cell
from geoplatform.analytics.nightly import last_data_day, recent_warnings, run_scan
from geoplatform.db.engine import create_engine
from geoplatform.etl.pipeline import load_pipeline
from geoplatform.etl.runner import run_pipeline
from geoplatform.settings import Settings
from tests.conftest import TEMPLATE_DB, DatabaseFactory, DemoCities
from tests.hotspot_truth import (
    assert_planted_hotspots_found,
    loaded_incidents,
    planted_hotspots,
)
from tests.tiles_fixtures import client, live_server, tile_settings

pytestmark = pytest.mark.slow

SCALE = 0.02
RESOLUTION = 9


def _load(city: Path, url: str, home: Path) -> None:
    settings = Settings(database_url=url, home=home, hmac_key="demo-key-0123456789")
    engine = create_engine(settings)
    try:
        result = run_pipeline(engine, load_pipeline(city / "pipeline.yaml"), settings)
        assert result.status == "succeeded", [(s.name, s.error) for s in result.sources]
    finally:
        engine.dispose()


def _hot_cells(base: str) -> set[int]:
    with client(base) as http:
        r = http.get("/analytics/hotspots", params={"layer": "incidents", "res": RESOLUTION})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resolution"] == RESOLUTION
    return {
        int(f["properties"]["cell"], 16)
        for f in body["features"]
        if f["properties"]["kind"] == "hot"
    }


@pytest.fixture(scope="module")
def planted_city(demo_cities: DemoCities) -> Path:
    return demo_cities(SCALE, 1)


@pytest.fixture
def loaded(planted_city: Path, database_url: str, tmp_path: Path) -> Iterator[str]:
    _load(planted_city, database_url, tmp_path / "etl")
    with live_server(tile_settings(database_url, tmp_path)) as base:
        yield base


def test_planted_hotspots_are_found_through_the_api(loaded: str, planted_city: Path) -> None:
    assert_planted_hotspots_found(planted_city, _hot_cells(loaded), RESOLUTION)


def test_emerging_hotspot_warns_in_its_window_and_not_before(
    loaded: str, planted_city: Path, engine: Engine
) -> None:
    spot = next(s for s in planted_hotspots(planted_city) if s["kind"] == "emerging")
    first = dt.date.fromisoformat(spot["first_day"])
    last = dt.date.fromisoformat(spot["last_day"])
    incidents = loaded_incidents(planted_city)
    rows = incidents[incidents["hotspot"] == "emerging"]
    cells = count_by_cell(rows["lon"], rows["lat"], RESOLUTION)
    target_cells = {f"{c:x}" for c in cells.index[cells >= 0.2 * cells.max()]}
    target_grids = {str(code) for code in spot["grid_codes"]}
    warned: dict[str, list[int]] = {"cell": [], "grid": []}
    elsewhere = 0
    days = [first + dt.timedelta(days=d) for d in range(-60, (last - first).days + 1)]
    for day in days:
        run_scan(engine, day)  # what the nightly `geoplatform warnings scan --as-of` does
        with client(loaded) as http:
            body = http.get("/analytics/warnings", params={"as_of": day.isoformat()}).json()
        for feature in body["features"]:
            props = feature["properties"]
            target = target_cells if props["level"] == "cell" else target_grids
            if props["unit"] in target:
                warned[props["level"]].append((day - first).days)
            else:
                elsewhere += 1
    for level, offsets in warned.items():
        assert offsets, f"the emerging hotspot never raised a {level} warning"
        assert min(offsets) >= 0, f"{level} warned before the hotspot began: {offsets}"
        assert min(offsets) <= 7, (level, offsets)
    assert elsewhere <= 0.2 * len(days), elsewhere  # two levels, each ≤ 0.1 per scan


@pytest.mark.parametrize("preset", ["wuhai", "jiaxing"])
def test_the_scan_of_the_last_data_day_finds_the_burst_that_ends_on_it(
    preset: str, demo_cities: DemoCities, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """What `make demo` runs (`geoplatform warnings scan --last-data-day`) warns at the burst
    the generator plants on the data's last day, at both levels, in both presets."""
    city = demo_cities(SCALE, 2, preset=preset)
    _load(city, database_url, tmp_path / "etl")
    spot = next(s for s in planted_hotspots(city) if s["name"] == "emerging-latest")
    day = last_data_day(engine)
    assert day is not None
    assert day.isoformat() == spot["last_day"]
    summary = run_scan(engine, day)
    assert min(summary.warned.values()) >= 1, summary
    incidents = loaded_incidents(city)
    rows = incidents[incidents["hotspot"] == spot["name"]]
    cells = count_by_cell(rows["lon"], rows["lat"], RESOLUTION)
    targets = {
        "cell": {f"{c:x}" for c in cells.index[cells >= 0.2 * cells.max()]},
        "grid": {str(code) for code in spot["grid_codes"]},
    }
    warnings = recent_warnings(engine)
    for level, target in targets.items():
        units = set(warnings.loc[warnings["level"] == level, "unit"].astype(str))
        assert units & target, (level, sorted(units)[:5], sorted(target)[:5])


def test_null_city_false_discovery_rate(
    database_factory: DatabaseFactory,
    template_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    demo_cities: DemoCities,
) -> None:
    """Cities with nothing planted: every discovery is false; FDR = mean over seeds of FDP."""
    proportions = []
    for seed in (1, 2, 3):
        city = demo_cities(SCALE, seed, planted_hotspots=False)
        home = tmp_path_factory.mktemp(f"analytics-null-home-{seed}")
        with database_factory(TEMPLATE_DB) as url:
            _load(city, url, home / "etl")
            with live_server(tile_settings(url, home)) as base:
                proportions.append(1.0 if _hot_cells(base) else 0.0)
    assert np.mean(proportions) <= 0.10
