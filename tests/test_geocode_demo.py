"""The matcher against the demo city's ground truth (issue 4's acceptance line for residents),
and the same answers from the standard addresses loaded into PostGIS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geoplatform.db import transaction
from geoplatform.errors import ConfigurationError
from geoplatform.geocode import Matcher, normalise
from geoplatform.geocode.evaluate import (
    STANDARD_ADDRESSES_CRS,
    evaluate,
    read_residents,
    read_standard_addresses,
)
from geoplatform.schema import admin_areas, buildings, standard_addresses
from tests.conftest import DemoCities

SEED = 20_240_101


@pytest.fixture(scope="module")
def city(demo_cities: DemoCities) -> Path:
    return demo_cities(0.02, SEED)


@pytest.fixture(scope="module")
def standard(city: Path) -> pd.DataFrame:
    return read_standard_addresses(city)


@pytest.fixture(scope="module")
def residents(city: Path) -> pd.DataFrame:
    return read_residents(city)


@pytest.mark.slow
def test_accuracy_on_the_demo_city(standard: pd.DataFrame, residents: pd.DataFrame) -> None:
    matcher = Matcher.from_frame(standard, crs=STANDARD_ADDRESSES_CRS)
    results = matcher.match_many(residents["address"].tolist())
    accuracy = evaluate(results, residents)
    print(accuracy.table())  # accuracy per variant type, shown with -s or on failure
    assert accuracy.rows == len(residents) > 10_000
    assert accuracy.rate("building") >= 0.995
    assert accuracy.rate("compound") >= 0.98
    assert accuracy.rate("door") >= 0.98
    assert accuracy.rate("community") >= 0.98
    assert accuracy.wrong_rate <= 0.001
    assert accuracy.nonexistent_matched <= 0.01
    for variant, (rate, count) in accuracy.variant_rates().items():
        if variant != "old_road_name" and count >= 50:
            assert rate >= 0.98, (variant, rate, count)


def _square(lon: float, lat: float, size: float = 0.0001) -> str:
    ring = f"{lon} {lat}, {lon + size} {lat}, {lon + size} {lat + size}, {lon} {lat + size}"
    return f"SRID=4326;MULTIPOLYGON((({ring}, {lon} {lat})))"


def _load(conn: Connection, table: pd.DataFrame, lon: pd.Series, lat: pd.Series) -> None:
    """Admin areas, buildings and standard addresses as the ETL would load them."""
    areas: dict[str, tuple[str, str, str | None]] = {"150300000000": ("city", "乌海市", None)}
    for row in table.itertuples(index=False):
        areas[row.区县代码] = ("district", row.区县, "150300000000")
        areas[row.街道代码] = ("street", row.街道, row.区县代码)
        areas[row.社区代码] = ("community", row.社区, row.街道代码)
    # parents before children: the code check and the foreign key want them in order
    rank = ("city", "district", "street", "community")
    ordered = sorted(areas.items(), key=lambda item: rank.index(item[1][0]))
    conn.execute(
        sa.insert(admin_areas).values(geom=sa.func.ST_GeomFromEWKT(sa.bindparam("wkt"))),
        [
            {
                "code": code,
                "edition": 2024,
                "level": level,
                "name": name,
                "parent_code": parent,
                "source": "test",
                "source_key": code,
                "wkt": _square(106.8, 39.6),
            }
            for code, (level, name, parent) in ordered
        ],
    )
    keys = sorted({k for k in table["建筑编号"].dropna() if k})
    conn.execute(
        sa.insert(buildings).values(footprint=sa.func.ST_GeomFromEWKT(sa.bindparam("wkt"))),
        [{"source": "test", "source_key": k, "wkt": _square(106.8, 39.6)} for k in keys],
    )
    ids = {key: id_ for key, id_ in conn.execute(sa.select(buildings.c.source_key, buildings.c.id))}
    levels = {"门牌": "door", "楼栋": "building", "小区": "compound"}
    rows = []
    for row, x, y in zip(table.to_dict("records"), lon, lat, strict=True):

        def text(column: str, row: dict[str, object] = row) -> str | None:
            value = row.get(column)
            return None if value is None or pd.isna(value) or value == "" else str(value)

        rows.append(
            {
                "source": "test",
                "source_key": row["地址编码"],
                "address": row["标准地址"],
                "normalized": normalise(str(row["标准地址"])),
                "level": levels[str(row["地址类型"])],
                "district_code": row["区县代码"],
                "street_code": row["街道代码"],
                "community_code": row["社区代码"],
                "road": text("街路巷"),
                "door_number": text("门牌号"),
                "compound": text("小区名称"),
                "building_number": text("楼栋号"),
                "building_id": ids.get(text("建筑编号") or ""),
                "wkt": f"SRID=4326;POINT({x} {y})",
            }
        )
    conn.execute(
        sa.insert(standard_addresses).values(geom=sa.func.ST_GeomFromEWKT(sa.bindparam("wkt"))),
        rows,
    )


@pytest.fixture
def loaded(engine: Engine, standard: pd.DataFrame) -> Engine:
    from pyproj import Transformer

    transform = Transformer.from_crs(STANDARD_ADDRESSES_CRS, "EPSG:4326", always_xy=True)
    lon, lat = transform.transform(standard["X坐标"].astype(float), standard["Y坐标"].astype(float))
    with transaction(engine) as conn:
        _load(conn, standard, pd.Series(lon), pd.Series(lat))
    return engine


@pytest.mark.slow
def test_database_matcher_gives_the_same_answers(
    loaded: Engine, standard: pd.DataFrame, residents: pd.DataFrame
) -> None:
    with transaction(loaded) as conn:
        from_db = Matcher.from_connection(conn)
    from_frame = Matcher.from_frame(standard, crs=STANDARD_ADDRESSES_CRS)
    addresses = residents["address"].tolist()
    db_results = from_db.match_many(addresses)
    frame_results = from_frame.match_many(addresses)
    # Same answers. Scores may differ where a documented alias (小区别名) was used: the table has
    # no alias column, so from the database the alias counts as a derived short name.
    differing = [
        (a.query, a.level, b.level, a.building_key, b.building_key)
        for a, b in zip(db_results, frame_results, strict=True)
        if (a.level, a.accepted, a.address_key, a.building_key, a.community_code)
        != (b.level, b.accepted, b.address_key, b.building_key, b.community_code)
    ]
    assert not differing, differing[:5]
    same_score = sum(
        abs(a.score - b.score) < 1e-9 for a, b in zip(db_results, frame_results, strict=True)
    )
    assert same_score >= 0.9 * len(addresses)
    placed = [r for r in db_results if r.accepted and r.level == "building"]
    assert placed
    assert all(r.building_id is not None for r in placed)
    assert all(
        abs((r.lon or 0) - (f.lon or 0)) < 1e-6
        for r, f in zip(db_results, frame_results, strict=True)
    )
    assert evaluate(db_results, residents).rate("building") >= 0.995


def test_empty_table_is_a_clear_error(engine: Engine) -> None:
    with transaction(engine) as conn, pytest.raises(ConfigurationError, match="empty"):
        Matcher.from_connection(conn)


def _cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOPLATFORM_")}
    env["GEOPLATFORM_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "geoplatform", "geocode", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_cli_says_in_one_line_that_the_table_is_empty(database_url: str) -> None:
    result = _cli("海勃湾区银城华府2号楼", url=database_url)
    assert result.returncode == ConfigurationError.exit_code
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "standard_addresses table is empty" in lines[0]


@pytest.mark.slow
def test_cli_prints_match_score_and_candidates(
    loaded: Engine, database_url: str, standard: pd.DataFrame
) -> None:
    building = standard[standard["地址类型"] == "楼栋"].iloc[0]
    address = f"{building['区县']}{building['小区名称']}{building['楼栋号']}1单元101室"
    result = _cli(address, "--top", "3", url=database_url)
    assert result.returncode == 0, result.stderr
    assert "accepted: level building" in result.stdout
    assert str(building["标准地址"]) in result.stdout
    answer = json.loads(_cli(address, "--json", url=database_url).stdout)
    assert answer["level"] == "building"
    assert answer["accepted"] is True
    assert answer["building_key"] == building["建筑编号"]
    assert answer["address_key"] == building["地址编码"]
