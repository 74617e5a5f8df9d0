"""A real server on a small demo city for the viewer's browser tests and bench/viewer_bench.py.

Generates (or reuses) the demo city, runs its ETL and the warning scan of its last day into a
scratch database, builds the glyph PBFs, and serves the app on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geoplatform.analytics.nightly import last_data_day, run_scan
from geoplatform.db.engine import create_engine
from geoplatform.etl.pipeline import load_pipeline
from geoplatform.etl.runner import run_pipeline
from geoplatform.settings import Settings
from geoplatform.tiles.glyphs import build_glyphs
from tests.tiles_fixtures import live_server, tile_settings

DEMO_SCALE, DEMO_SEED = 0.02, 4


def load_demo_city(city: Path, database_url: str, home: Path) -> None:
    """ETL the generated city into the database, then scan its last day for warnings."""
    settings = Settings(database_url=database_url, home=home, hmac_key="demo-key-0123456789")
    engine = create_engine(settings)
    try:
        result = run_pipeline(engine, load_pipeline(city / "pipeline.yaml"), settings)
        assert result.status == "succeeded", [(s.name, s.error) for s in result.sources]
        day = last_data_day(engine)
        assert day is not None
        run_scan(engine, day)
    finally:
        engine.dispose()


@contextmanager
def viewer_server(database_url: str, home: Path) -> Iterator[str]:
    """The app over a loaded database with glyphs built into `home`; yields its base URL."""
    glyphs = home / "glyphs"
    build_glyphs(out_dir=glyphs)
    with live_server(tile_settings(database_url, home, glyphs_dir=glyphs)) as base:
        yield base
