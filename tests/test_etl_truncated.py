"""Deliveries cut off in transit, and geometries too big to load: never a silent success.

A CSV cut mid-row has its cut row rejected `truncated_row` (the raw row kept) with a warning in
the run log; a CSV ending inside a quote, a shapefile whose .shp/.shx/.dbf disagree and an XLSX
cut short fail their source with a reason; a polygon over the vertex limit is rejected
`geometry_too_complex`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.engine import Engine

from geoplatform.etl.extract import RawBatch
from geoplatform.etl.normalise import Context, reject_too_complex
from geoplatform.etl.pipeline import load_pipeline
from geoplatform.etl.rejects import Rejects, _Rejector
from geoplatform.etl.runner import RunOptions, RunResult, run_pipeline
from geoplatform.settings import Settings
from tests.etl_support import write_city

HMAC_KEY = "test-hmac-key-0123456789abcdef"


@pytest.fixture
def etl_settings(database_url: str, tmp_path: Path) -> Settings:
    key_file = tmp_path / "hmac.key"
    key_file.write_text(HMAC_KEY + "\n")
    return Settings(database_url=database_url, home=tmp_path / "home", hmac_key_file=key_file)


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    out = tmp_path / "delivery"
    write_city(out)
    return out


def _run(engine: Engine, settings: Settings, delivery: Path, *only: str) -> RunResult:
    pipeline = load_pipeline(delivery / "pipeline.yaml")
    return run_pipeline(engine, pipeline, settings, RunOptions(only=("admin", "grids", *only)))


def _source(result: RunResult, name: str):  # type: ignore[no-untyped-def]
    return next(s for s in result.sources if s.name == name)


def test_a_csv_cut_mid_row_rejects_the_row_with_a_warning(
    engine: Engine, etl_settings: Settings, delivery: Path
) -> None:
    path = delivery / "grid_app.csv"
    data = path.read_bytes().rstrip(b"\r\n")
    last = data.rsplit(b"\n", 1)[-1]
    cut = data[
        : len(data) - len(last) + last.index(b",") + 1
    ]  # the last row: one field and a comma
    path.write_bytes(cut)
    result = _run(engine, etl_settings, delivery, "grid_app")
    source = _source(result, "grid_app")
    assert source.status == "loaded", source.error
    assert source.counts["rejected_by_reason"].get("truncated_row") == 1
    assert "truncated" in source.counts["warnings"][0]
    assert source.balanced
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT row_number, row_data FROM etl.rejects WHERE source = 'grid_app'"
                " AND reason_code = 'truncated_row'"
            )
        ).one()
        stored = conn.execute(
            text("SELECT counts -> 'grid_app' -> 'warnings' FROM etl.runs WHERE id = :id"),
            {"id": result.run_id},
        ).scalar_one()
    assert row.row_number == cut.count(b"\n")  # the last data row (the header is line 1)
    first_field = last.split(b",")[0].decode("utf-8-sig")
    assert first_field in row.row_data.values()  # the raw row is kept
    assert stored == source.counts["warnings"]


def test_a_csv_ending_inside_a_quote_fails_its_source(
    engine: Engine, etl_settings: Settings, delivery: Path
) -> None:
    path = delivery / "grid_app.csv"
    path.write_bytes(path.read_bytes().rstrip(b"\r\n") + b'\nX9,"unterminated')
    source = _source(_run(engine, etl_settings, delivery, "grid_app"), "grid_app")
    assert source.status == "failed"
    assert "unterminated" in (source.error or "")


@pytest.mark.parametrize(("part", "keep"), [(".dbf", 0.6), (".shx", 0.7), (".shp", 0.8)])
def test_a_truncated_shapefile_fails_its_source(
    engine: Engine, etl_settings: Settings, delivery: Path, part: str, keep: float
) -> None:
    path = (delivery / "buildings.shp").with_suffix(part)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    source = _source(_run(engine, etl_settings, delivery, "buildings"), "buildings")
    assert source.status == "failed"
    assert "truncated" in (source.error or "")


def test_a_truncated_xlsx_fails_its_source(
    engine: Engine, etl_settings: Settings, delivery: Path
) -> None:
    path = delivery / "people.xlsx"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    source = _source(_run(engine, etl_settings, delivery, "people"), "people")
    assert source.status == "failed"
    assert "not a complete XLSX" in (source.error or "")


def test_a_polygon_over_the_vertex_limit_is_rejected(
    engine: Engine, database_url: str, tmp_path: Path, delivery: Path
) -> None:
    import geopandas as gpd

    frame = gpd.read_file(delivery / "buildings.shp", encoding="gbk")
    big = shapely.segmentize(frame.geometry.iloc[0], 0.05)  # metres: ~1,000+ vertices
    assert shapely.get_num_coordinates(big) > 1000
    frame.loc[0, "geometry"] = big
    frame.to_file(delivery / "buildings.shp", driver="ESRI Shapefile", encoding="gbk")
    (delivery / "buildings.cpg").unlink(missing_ok=True)
    settings = Settings(
        database_url=database_url,
        home=tmp_path / "home",
        hmac_key_file=_key(tmp_path),
        etl_max_vertices=1000,
    )
    source = _source(_run(engine, settings, delivery, "buildings"), "buildings")
    assert source.status == "loaded", source.error
    assert source.counts["rejected_by_reason"]["geometry_too_complex"] == 1
    with engine.connect() as conn:
        reason, data = conn.execute(
            text(
                "SELECT reason, row_data FROM etl.rejects WHERE reason_code = "
                "'geometry_too_complex'"
            )
        ).one()
    assert "more than 1000 vertices" in reason
    assert data["编号"] == frame.loc[0, "编号"]


def _key(tmp_path: Path) -> Path:
    key_file = tmp_path / "hmac2.key"
    key_file.write_text(HMAC_KEY + "\n")
    return key_file


def test_a_million_vertex_polygon_at_the_default_limit() -> None:
    """The issue's 1,000,001-vertex polygon, and one larger than any city, at the defaults."""
    angle = np.linspace(0, 2 * np.pi, 1_000_000, endpoint=False)
    ring = shapely.Polygon(np.column_stack([106.8 + 0.01 * np.cos(angle),
                                            39.65 + 0.01 * np.sin(angle)]))  # fmt: skip
    assert shapely.get_num_coordinates(ring) == 1_000_001
    small = shapely.box(106.8, 39.65, 106.801, 39.651)
    huge_area = shapely.box(100, 30, 110, 45)  # ~1.4M km²
    geoms = np.array([ring, small, huge_area], dtype=object)
    ctx = Context(extent=(106.0, 39.0, 108.0, 40.0), timezone="Asia/Shanghai", hmac_key=None)
    rj = _Rejector.__new__(_Rejector)  # the rejector's state without a source spec
    rj.raw = RawBatch(pd.DataFrame({"k": ["r0", "r1", "r2"]}), np.arange(1, 4), np.arange(3), "f")
    rj.alive = np.ones(3, dtype=bool)
    rj.keys = pd.Series(["r0", "r1", "r2"], dtype=object)
    rj.out = Rejects()
    rj.masked = set()
    kept = reject_too_complex(geoms, ctx, rj)
    assert rj.out.codes == ["geometry_too_complex", "geometry_too_complex"]
    assert rj.out.rows == [1, 3]
    assert "more than 100000 vertices" in rj.out.reasons[0]
    assert "km²" in rj.out.reasons[1]
    assert rj.out.data[0]["k"] == "r0"  # the raw row is kept
    assert kept[0] is None
    assert kept[1] is small
    assert kept[2] is None
