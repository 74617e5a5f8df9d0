"""The H3 cubes follow every load incrementally and equal a rebuild from scratch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from geoplatform.etl.pipeline import load_pipeline
from geoplatform.etl.runner import RunOptions, run_pipeline
from geoplatform.schema import CITY_TIME_ZONE, CUBE_RESOLUTIONS
from geoplatform.settings import Settings
from tests.etl_support import _hotline_line, incident_rows, write_city, write_hotline

INCIDENT_CUBE = "SELECT res, cell, day, category, channel, n FROM h3_incident_cube"
LAYER_CUBE = "SELECT layer, res, cell, category, n FROM h3_layer_cube"

# Written independently of refresh_h3_cubes(): one GROUP BY over the base tables.
INCIDENT_TRUTH = """
SELECT r.res, h3_parent(i.h3_r11, r.res) AS cell,
       (i.reported_at AT TIME ZONE :tz)::date AS day, i.category, i.channel, count(*) AS n
FROM incidents i CROSS JOIN unnest(CAST(:res AS int[])) AS r(res)
WHERE i.h3_r11 IS NOT NULL GROUP BY 1, 2, 3, 4, 5
"""
LAYER_TRUTH = """
SELECT s.layer, r.res, h3_parent(s.cell, r.res) AS cell, s.category, count(*) AS n FROM (
  SELECT 'people' AS layer, h3_r11 AS cell, coalesce(residence_type, '') AS category FROM people
  UNION ALL SELECT 'organisations', h3_r11, coalesce(kind, '') FROM organisations
  UNION ALL SELECT 'buildings', h3_r11, coalesce(use_type, '') FROM buildings
  UNION ALL SELECT 'devices', h3_r11, kind FROM devices
) s CROSS JOIN unnest(CAST(:res AS int[])) AS r(res) WHERE s.cell IS NOT NULL GROUP BY 1, 2, 3, 4
"""


def _rows(engine: Engine, sql: str) -> set[tuple[object, ...]]:
    with engine.connect() as conn:
        result = conn.execute(text(sql), {"tz": CITY_TIME_ZONE, "res": list(CUBE_RESOLUTIONS)})
        return {tuple(row) for row in result}


def assert_cubes_equal_a_rebuild(engine: Engine) -> None:
    cube = _rows(engine, INCIDENT_CUBE)
    assert cube, "the incident cube is empty"
    assert cube == _rows(engine, INCIDENT_TRUTH)
    assert _rows(engine, LAYER_CUBE) == _rows(engine, LAYER_TRUTH)


@pytest.fixture
def etl_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, home=tmp_path / "home", hmac_key="test-key")


def _run(engine: Engine, settings: Settings, path: Path, **options: object) -> None:
    result = run_pipeline(engine, load_pipeline(path), settings, RunOptions(**options))  # type: ignore[arg-type]
    failures = [(s.name, s.error) for s in result.sources if s.error]
    assert result.status == "succeeded", failures


def test_cube_after_incremental_runs_equals_a_rebuild(
    engine: Engine, etl_settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "delivery"
    write_city(out, incidents=300, days=5)
    pipeline = out / "pipeline.yaml"
    _run(engine, etl_settings, pipeline)
    assert_cubes_equal_a_rebuild(engine)

    # one more day of hotline calls: only that day is recomputed
    rows, _ = incident_rows(np.random.default_rng(5), 40, pd.Timestamp("2025-03-10"), "NEW")
    write_hotline(out / "hotline.csv", [_hotline_line(r) for r in rows], mode="a")
    _run(engine, etl_settings, pipeline, only=("hotline",))
    assert_cubes_equal_a_rebuild(engine)
    with engine.connect() as conn:
        days = conn.execute(
            text("SELECT count(DISTINCT day) FROM h3_incident_cube WHERE day = '2025-03-10'")
        ).scalar_one()
    assert days == 1

    # nothing new: the refresh has nothing to do
    _run(engine, etl_settings, pipeline, full=True)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM meta.cube_dirty")).scalar_one() == 0
        assert conn.execute(text("SELECT refresh_h3_cubes()")).scalar_one() == 0


def test_cube_follows_deletes_and_moves(
    engine: Engine, etl_settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "delivery"
    write_city(out, incidents=200, days=4)
    _run(engine, etl_settings, out / "pipeline.yaml")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM incidents WHERE id IN (SELECT id FROM incidents LIMIT 7)"))
        conn.execute(
            text(
                "UPDATE incidents SET reported_at = reported_at + interval '1 day'"
                " WHERE id IN (SELECT id FROM incidents ORDER BY id DESC LIMIT 5)"
            )
        )
        conn.execute(text("DELETE FROM people WHERE id IN (SELECT id FROM people LIMIT 3)"))
        conn.execute(text("SELECT refresh_h3_cubes()"))
    assert_cubes_equal_a_rebuild(engine)
