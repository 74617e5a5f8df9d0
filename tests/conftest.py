"""Fixtures: a throwaway PostGIS cluster per session, a fresh migrated database per test.

The cluster is started the same way `geoplatform db up` starts the embedded one. When it cannot
start, every test that needs a database errors: the suite fails, it never skips.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy.engine import Engine

from geoplatform.db.cluster import SUPERUSER, LocalCluster
from geoplatform.db.engine import create_engine
from geoplatform.db.migrate import migrate
from geoplatform.settings import Settings

TEMPLATE_DB = "geoplatform_template"
# Which PostgreSQL binaries to use is the one setting a caller may pass to the suite.
PASSED_THROUGH = {"GEOPLATFORM_PG_BINDIR"}


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment() -> Iterator[None]:
    """Tests build their own Settings: a developer's GEOPLATFORM_* variables must not leak in."""
    saved = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("GEOPLATFORM_") and k not in PASSED_THROUGH
    }
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A PostgreSQL + PostGIS cluster that lives as long as the test session."""
    home = tmp_path_factory.mktemp("geoplatform-home")
    cluster = LocalCluster(
        home, database=TEMPLATE_DB, pg_bindir=Settings().pg_bindir, ephemeral=True
    )
    try:
        cluster.up()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def template_url(pg_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The template database, migrated once; each test clones it."""
    url = pg_cluster.url()
    engine = create_engine(_settings(url, tmp_path_factory.mktemp("home")))
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return url


def _settings(url: str, home: Path) -> Settings:
    return Settings(database_url=url, home=home)


DatabaseFactory = Callable[..., AbstractContextManager[str]]


@pytest.fixture(scope="session")
def database_factory(pg_cluster: LocalCluster) -> DatabaseFactory:
    """Make a scratch database (a clone of `template`, or empty), dropped on exit; yields URL."""

    @contextmanager
    def scratch_database(template: str | None = None) -> Iterator[str]:
        record = pg_cluster.record_or_fail()
        name = f"test_{uuid.uuid4().hex[:12]}"
        janitor = DatabaseJanitor(
            user=SUPERUSER,
            host="127.0.0.1",
            port=record.port,
            password=record.password,
            dbname=name,
            template_dbname=template,
        )
        janitor.init()
        try:
            yield pg_cluster.url().rsplit("/", 1)[0] + "/" + name
        finally:
            janitor.drop()

    return scratch_database


@pytest.fixture
def database_url(database_factory: DatabaseFactory, template_url: str) -> Iterator[str]:
    """A fresh database cloned from the migrated template, dropped after the test."""
    with database_factory(TEMPLATE_DB) as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test's own database."""
    return _settings(database_url, tmp_path / "home")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        engine.dispose()


DemoCities = Callable[..., Path]
DEMO_SOURCES = (
    "geoplatform/demo/*.py",
    "geoplatform/identifiers.py",
    "geoplatform/spatial/chinese_offsets.py",
    "etl/pipelines/demo-*.yaml",
)


@pytest.fixture(scope="session")
def demo_cities(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> DemoCities:
    """A demo city as input data: a private copy of one generated per (scale, seed, hotspots).

    Generated cities are kept in pytest's cache under a key that includes a hash of the
    generator's source, so a second run of the suite reuses them and any change to the
    generator makes new ones. Tests of the generator itself call generate_city directly.
    """
    from geoplatform.demo import generate_city

    repo = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for pattern in DEMO_SOURCES:
        for path in sorted(repo.glob(pattern)):
            digest.update(path.read_bytes())
    cache_root = request.config.cache.mkdir("demo-cities")

    def city(
        scale: float, seed: int, *, planted_hotspots: bool = True, preset: str = "wuhai"
    ) -> Path:
        key = f"{digest.hexdigest()[:16]}-{scale}-{seed}-{'hot' if planted_hotspots else 'quiet'}"
        key += "" if preset == "wuhai" else f"-{preset}"
        cached = cache_root / key
        if not (cached / ".complete").exists():
            building = cache_root / f"{key}.partial"
            shutil.rmtree(building, ignore_errors=True)
            generate_city(
                building,
                scale=scale,
                seed=seed,
                planted_hotspots=planted_hotspots,
                preset=preset,
            )
            (building / ".complete").touch()
            shutil.rmtree(cached, ignore_errors=True)
            building.rename(cached)
        copy = tmp_path_factory.mktemp("city") / key
        shutil.copytree(cached, copy)
        return copy

    return city
