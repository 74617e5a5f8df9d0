"""Schemathesis over the server's own OpenAPI document, bounded: every generated request gets no
5xx, a documented status and content type, and a body that matches its documented schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.tiles_fixtures import live_server, seed_addresses, seed_city, tile_settings

EXAMPLES = 25
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def base_url(
    database_factory: Any, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    from tests.conftest import TEMPLATE_DB

    with database_factory(TEMPLATE_DB) as url:
        seed_city(url, incidents=1500, buildings=150)
        with psycopg.connect(url) as conn:
            conn.execute("SELECT refresh_h3_cubes()")
        seed_addresses(url)
        home: Path = tmp_path_factory.mktemp("schemathesis")
        with live_server(tile_settings(url, home)) as base:
            yield base


@pytest.mark.timeout(900)
def test_openapi_conformance(base_url: str) -> None:
    """Each operation of the document, up to `EXAMPLES` generated cases each (Hypothesis driven
    by hand: schemathesis' pytest plugin does not load under this pytest)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    calls: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: Any) -> None:
            calls.append(case.operation.label)
            case.call_and_validate(checks=CHECKS, timeout=60)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert operations >= 15
    assert len(calls) > 5 * operations  # cases were generated and sent, not skipped
    assert not failures, "\n\n".join(failures)
