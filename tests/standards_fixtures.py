"""Shared by the standards tests (conformance, GDAL/OWSLib/QGIS clients, offline docs): one seeded
city and one real server per test module, built from tests/tiles_fixtures.py's helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.conftest import TEMPLATE_DB, DatabaseFactory
from tests.tiles_fixtures import City, live_server, seed_city, tile_settings


@dataclass(frozen=True)
class LiveCity:
    base: str  # the server's base URL
    url: str  # the database URL
    city: City

    def rows(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as conn:
            return [tuple(r) for r in conn.execute(query, params or None).fetchall()]

    def scalar(self, query: str, *params: object) -> Any:
        return self.rows(query, *params)[0][0]


@contextmanager
def live_city(factory: DatabaseFactory, home: Path, **seed: Any) -> Iterator[LiveCity]:
    with factory(TEMPLATE_DB) as url:
        city = seed_city(url, **seed)
        # standard clients come without credentials: they get what an analyst gets
        with live_server(tile_settings(url, home, anonymous_role="analyst")) as base:
            yield LiveCity(base, url, city)
