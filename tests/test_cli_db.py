"""`geoplatform db ...` as an operator runs it: real processes, real clusters, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from geoplatform.db.cluster import LocalCluster

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GEOPLATFORM_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "geoplatform", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        timeout=120,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


@pytest.fixture
def cluster_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "state"
    try:
        yield home
    finally:
        LocalCluster(home).destroy()


@pytest.mark.slow
def test_cluster_up_reuse_down_and_status(cluster_home: Path) -> None:
    env = {"GEOPLATFORM_HOME": str(cluster_home)}

    missing = run_cli("db", "status", env=env)
    assert_one_line_failure(missing, "no local cluster")

    first = run_cli("db", "up", env=env)
    assert first.returncode == 0, first.stderr
    assert "created cluster" in first.stdout
    assert "created database geoplatform" in first.stdout

    second = run_cli("db", "up", env=env)
    assert second.returncode == 0, second.stderr
    assert "reused running cluster" in second.stdout
    assert "created" not in second.stdout

    migrated = run_cli("db", "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    status = run_cli("db", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert "PostGIS 3" in status.stdout
    assert "at head" in status.stdout
    assert "***" in status.stdout  # the password is never printed by status

    refused = run_cli("db", "reset", env=env)
    assert_one_line_failure(refused, "--yes")
    reset = run_cli("db", "reset", "--yes", env=env)
    assert reset.returncode == 0, reset.stderr
    assert "recreated database geoplatform" in reset.stdout
    assert "at head" in run_cli("db", "status", env=env).stdout

    url = run_cli("db", "url", env=env)
    assert url.stdout.startswith("postgresql://geoplatform:")
    port = LocalCluster(cluster_home).record_or_fail().port
    assert f"127.0.0.1:{port}/geoplatform" in url.stdout

    down = run_cli("db", "down", env=env)
    assert down.returncode == 0
    stopped = run_cli("db", "status", env=env)
    assert_one_line_failure(stopped, "is stopped")

    restarted = run_cli("db", "up", env=env)
    assert restarted.returncode == 0
    assert "started PostgreSQL" in restarted.stdout
    assert "created" not in restarted.stdout
    assert LocalCluster(cluster_home).record_or_fail().port == port  # remembered


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://nobody:secret@127.0.0.1:1/nowhere", "cannot connect"),
        ("this is not a url", "not a database URL"),
        ("mysql://u:p@127.0.0.1/db", "not a PostgreSQL URL"),
    ],
)
def test_status_with_a_bad_database_url_explains_in_one_line(url: str, expected: str) -> None:
    result = run_cli("db", "status", env={"GEOPLATFORM_DATABASE_URL": url})
    assert_one_line_failure(result, expected)
    assert "secret" not in result.stderr


def test_reset_refuses_a_database_given_by_url() -> None:
    env = {"GEOPLATFORM_DATABASE_URL": "postgresql://u:p@127.0.0.1:1/db"}
    assert_one_line_failure(run_cli("db", "reset", "--yes", env=env), "refusing to drop")


def test_url_setting_means_nothing_local_is_started(tmp_path: Path) -> None:
    env = {
        "GEOPLATFORM_DATABASE_URL": "postgresql://u:p@127.0.0.1:1/db",
        "GEOPLATFORM_HOME": str(tmp_path / "home"),
    }
    result = run_cli("db", "up", env=env)
    assert result.returncode == 0
    assert "nothing local started" in result.stdout
    assert not (tmp_path / "home").exists()


def test_status_against_a_running_database_succeeds(database_url: str) -> None:
    result = run_cli("db", "status", env={"GEOPLATFORM_DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert "at head" in result.stdout


@pytest.mark.slow
def test_suite_fails_rather_than_skips_without_a_database() -> None:
    """A broken PostgreSQL install must turn database tests into errors, never skips."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOPLATFORM_")}
    env["GEOPLATFORM_PG_BINDIR"] = "/nonexistent/bin"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "tests/test_migrations.py::test_migrated_database_matches_table_definitions",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "1 error" in result.stdout
    assert "skipped" not in result.stdout
    assert "PostgreSQL server binaries not found" in result.stdout
