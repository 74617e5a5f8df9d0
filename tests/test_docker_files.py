"""The production docker files are valid (no engine runs here, so they are validated, not run)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_compose_file_is_valid() -> None:
    compose = shutil.which("docker-compose")
    assert compose, "docker-compose is installed by scripts/install-system-packages.sh"
    result = subprocess.run(
        [compose, "-f", "docker/compose.yaml", "config", "-q"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_compose_runs_migrations_before_the_api() -> None:
    services = yaml.safe_load((REPO / "docker/compose.yaml").read_text())["services"]
    assert services["migrate"]["command"] == ["geoplatform", "db", "migrate"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_dockerfile_installs_the_package_with_its_migrations() -> None:
    text = (REPO / "docker/Dockerfile").read_text()
    assert "COPY sql ./sql" in text
    assert "pip install ." in text
    assert "USER geoplatform" in text
