"""Run control under stress, through the real CLI in subprocesses: two runs started together
(one works, one exits with the lock code) and SIGKILL at seeded random moments followed by a
rerun (the tables end exactly as after an uninterrupted run)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from geoplatform.db.engine import create_engine
from geoplatform.settings import Settings
from tests.conftest import TEMPLATE_DB, DatabaseFactory
from tests.etl_support import write_city

LOCKED = 75

_ROWS = "source, source_key, content_hash"
FINGERPRINT = {
    "admin_areas": f"SELECT {_ROWS}, code, name, ST_AsEWKB(geom) FROM admin_areas",
    "grids": f"SELECT {_ROWS}, code, ST_AsEWKB(geom) FROM grids",
    "buildings": f"SELECT {_ROWS}, grid_code, h3_r11, ST_AsEWKB(footprint) FROM buildings",
    "incidents": (
        f"SELECT {_ROWS}, grid_code, h3_r11, reported_at, status, ST_AsEWKB(geom) FROM incidents"
    ),
    "people": "SELECT source, source_key, grid_code, h3_r11, gender, ST_AsEWKB(geom) FROM people",
    "identities": (
        "SELECT p.source_key, i.id_number_hmac, i.name, i.phone FROM"
        " restricted.person_identities i JOIN people p ON p.id = i.person_id"
    ),
    "organisations": f"SELECT {_ROWS}, grid_code, ST_AsEWKB(geom) FROM organisations",
    "rejected_keys": "SELECT DISTINCT source, source_key, row_number, reason_code FROM etl.rejects",
    "watermarks": "SELECT pipeline, source, value FROM etl.watermarks",
    "layer_versions": "SELECT layer, version FROM meta.layer_versions",
}


def fingerprint(url: str, tmp: Path) -> dict[str, tuple[int, str]]:
    """Row count and an md5 over the sorted rows of every table the ETL writes."""
    engine = create_engine(Settings(database_url=url, home=tmp))
    out = {}
    try:
        with engine.connect() as conn:
            for name, query in FINGERPRINT.items():
                row = conn.execute(
                    sa.text(
                        f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text),"
                        f" '')) FROM ({query}) t"
                    )
                ).one()
                out[name] = (int(row[0]), str(row[1]))
    finally:
        engine.dispose()
    return out


def _env(url: str, tmp: Path) -> dict[str, str]:
    key = tmp / "hmac.key"
    key.write_text("kill-test-key-0123456789\n")
    return {
        **os.environ,
        "GEOPLATFORM_DATABASE_URL": url,
        "GEOPLATFORM_HOME": str(tmp / "home"),
        "GEOPLATFORM_HMAC_KEY_FILE": str(key),
        "GEOPLATFORM_ETL_BATCH_ROWS": "1000",
    }


def _start(pipeline: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "geoplatform", "etl", "run", str(pipeline)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_to_end(pipeline: Path, env: dict[str, str]) -> str:
    """Run until it is not refused by the lock (a killed run's backend may still hold it)."""
    for _ in range(120):
        proc = _start(pipeline, env)
        stdout, stderr = proc.communicate(timeout=600)
        if proc.returncode != LOCKED:
            assert proc.returncode == 0, stderr
            return stdout
        time.sleep(0.5)
    raise AssertionError("the lock was never released")


@pytest.fixture
def big_city(tmp_path: Path) -> Path:
    write_city(tmp_path / "delivery", incidents=2500, days=3)
    return tmp_path / "delivery" / "pipeline.yaml"


@pytest.mark.slow
def test_two_runs_started_together_one_exits_with_the_lock_code(
    big_city: Path, database_url: str, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path)
    procs = [_start(big_city, env), _start(big_city, env)]
    results = [(p.wait(timeout=600), p.communicate()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, LOCKED], results
    loser = next(io for code, io in results if code == LOCKED)
    message = loser[1].strip().splitlines()
    assert len(message) == 1, loser
    assert "another ETL run holds the lock" in message[0]


@pytest.mark.slow
def test_sigkill_at_random_moments_then_rerun_equals_an_uninterrupted_run(
    big_city: Path, database_factory: DatabaseFactory, template_url: str, tmp_path: Path
) -> None:
    with database_factory(TEMPLATE_DB) as clean_url, database_factory(TEMPLATE_DB) as killed_url:
        clean_env = _env(clean_url, tmp_path)
        started = time.perf_counter()
        _run_to_end(big_city, clean_env)
        duration = time.perf_counter() - started
        expected = fingerprint(clean_url, tmp_path)
        assert expected["incidents"][0] > 7000

        env = _env(killed_url, tmp_path)
        rng = random.Random(20261123)
        for _ in range(10):
            proc = _start(big_city, env)
            time.sleep(rng.uniform(0.2, duration))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        _run_to_end(big_city, env)
        assert fingerprint(killed_url, tmp_path) == expected
        engine = create_engine(Settings(database_url=killed_url, home=tmp_path))
        try:
            with engine.connect() as conn:
                statuses = conn.execute(
                    sa.text("SELECT status, count(*) FROM etl.runs GROUP BY 1")
                ).all()
        finally:
            engine.dispose()
        assert dict(statuses).get("running", 0) == 0
