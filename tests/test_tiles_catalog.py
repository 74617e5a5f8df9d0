"""A layer catalog that does not fit the database is refused at start, with the reason."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from geoplatform.errors import ConfigurationError
from geoplatform.tiles.catalog import CatalogFile, bind_catalog

POINTS = {
    "title": "t",
    "table": "public.points_without_cells",
    "id": "id",
    "geometry": "geom",
    "properties": ["id", "kind"],
    "minzoom": 0,
    "maxzoom": 18,
    "detail_zoom": 14,
    "cap": 100,
    "importance": ["id"],
    "style": {"kind": "circle", "color": "#000000"},
}


def _bind(url: str, **changes: Any) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS points_without_cells"
            " (id bigint PRIMARY KEY, kind text, geom geometry(Point, 4326))"
        )
        bind_catalog(conn, CatalogFile.model_validate({"layers": {"p": {**POINTS, **changes}}}))


def test_a_plain_point_layer_binds(database_url: str) -> None:
    _bind(database_url)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"table": "public.no_such_table"}, "table public.no_such_table does not exist"),
        ({"properties": ["id", "colour"]}, "has no column colour"),
        ({"overview": "clusters"}, "has no column h3_r11"),
    ],
)
def test_a_layer_that_does_not_fit_its_table_is_refused(
    database_url: str, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        _bind(database_url, **changes)
