"""`geoplatform etl ...` through typer: JSON lines off a terminal, exit codes, status, rejects,
review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geoplatform.cli import app
from tests.etl_support import write_city


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "GEOPLATFORM_DATABASE_URL": database_url,
        "GEOPLATFORM_HOME": str(tmp_path / "home"),
        "GEOPLATFORM_HMAC_KEY": "cli-test-key-0123456789",
    }


def test_run_prints_json_lines_and_status_rejects_review_read_the_log(
    env: dict[str, str], tmp_path: Path
) -> None:
    write_city(tmp_path / "city")
    runner = CliRunner()
    result = runner.invoke(app, ["etl", "run", str(tmp_path / "city" / "pipeline.yaml")], env=env)
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["event"] == "run_start"
    assert events[-1]["event"] == "run_done"
    assert events[-1]["status"] == "succeeded"
    done = {e["source"]: e for e in events if e["event"] == "source_done"}
    assert done["hotline"]["counts"]["rejected_by_reason"]["duplicate_key"] == 1
    run_id = events[0]["run_id"]

    status = runner.invoke(app, ["etl", "status"], env=env)
    assert status.exit_code == 0
    assert "succeeded" in status.stdout
    rejects = runner.invoke(app, ["etl", "rejects", str(run_id), "--source", "hotline"], env=env)
    assert rejects.exit_code == 0
    assert "null_island" in rejects.stdout
    assert "duplicate_key" in rejects.stdout
    review = runner.invoke(app, ["etl", "review"], env=env)
    assert review.exit_code == 0
    assert "0 open review entries" in review.stdout


def test_dry_run_only_and_unknown_source(env: dict[str, str], tmp_path: Path) -> None:
    write_city(tmp_path / "city")
    pipeline = str(tmp_path / "city" / "pipeline.yaml")
    runner = CliRunner()
    result = runner.invoke(
        app, ["etl", "run", pipeline, "--dry-run", "--only", "admin", "--only", "grids"], env=env
    )
    assert result.exit_code == 0, result.output
    sources = [json.loads(x).get("source") for x in result.stdout.splitlines()]
    assert set(filter(None, sources)) == {"admin", "grids"}
    bad = runner.invoke(app, ["etl", "run", pipeline, "--only", "nope"], env=env)
    assert bad.exit_code != 0
    assert "no source named 'nope'" in str(bad.exception)
