"""Migrations: empty database to head, idempotent, and in agreement with schema.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import h3
import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geoplatform.db.engine import create_engine, transaction
from geoplatform.db.migrate import current_revision, head_revision, migrate, schema_differences
from geoplatform.errors import GeoPlatformError
from geoplatform.schema import metadata
from geoplatform.settings import Settings
from tests.conftest import DatabaseFactory


@pytest.fixture
def empty_engine(database_factory: DatabaseFactory, tmp_path: Path) -> Iterator[Engine]:
    """A database with nothing in it: not even PostGIS."""
    with database_factory() as url:
        engine = create_engine(Settings(database_url=url, home=tmp_path))
        try:
            yield engine
        finally:
            engine.dispose()


def test_migrate_from_empty_to_head_then_noop(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None
    first = migrate(empty_engine)
    assert first.changed
    assert first.before is None
    assert current_revision(empty_engine) == head_revision()
    second = migrate(empty_engine)
    assert not second.changed
    assert second.after == head_revision()
    with empty_engine.connect() as conn:
        extensions = set(conn.execute(sa.text("SELECT extname FROM pg_extension")).scalars())
    assert {"postgis", "pg_trgm"} <= extensions


def test_migrated_database_matches_table_definitions(engine: Engine) -> None:
    assert schema_differences(engine) == []


def test_check_constraints_match_table_definitions(engine: Engine) -> None:
    """Alembic does not compare CHECK constraints, so compare their names here."""
    declared = {
        (table.schema or "public", str(c.name))
        for table in metadata.tables.values()
        for c in table.constraints
        if isinstance(c, sa.CheckConstraint)
    }
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT n.nspname, c.conname FROM pg_constraint c "
                "JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE c.contype = 'c' AND n.nspname IN ('public', 'restricted', 'etl', 'meta') "
                "AND c.conrelid <> 'spatial_ref_sys'::regclass"
            )
        ).all()
    assert {(r[0], r[1]) for r in rows} == declared


def test_spatial_indexes_exist_on_every_geometry(engine: Engine) -> None:
    with engine.connect() as conn:
        indexed = set(
            conn.execute(
                sa.text(
                    "SELECT t.relname || '.' || a.attname FROM pg_index i "
                    "JOIN pg_class ix ON ix.oid = i.indexrelid JOIN pg_am am ON am.oid = ix.relam "
                    "JOIN pg_class t ON t.oid = i.indrelid "
                    "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) "
                    "WHERE am.amname = 'gist'"
                )
            ).scalars()
        )
        geometry_columns = set(
            conn.execute(
                sa.text(
                    "SELECT f_table_name || '.' || f_geometry_column FROM geometry_columns "
                    "WHERE f_table_schema = 'public'"
                )
            ).scalars()
        )
    assert geometry_columns
    assert geometry_columns <= indexed


def test_h3_parent_sql_function_agrees_with_h3(engine: Engine) -> None:
    rng = np.random.default_rng(7)
    lats = rng.uniform(39.2, 39.9, 50)
    lons = rng.uniform(106.6, 107.2, 50)
    cells = [
        h3.str_to_int(h3.latlng_to_cell(la, lo, 11)) for la, lo in zip(lats, lons, strict=True)
    ]
    with engine.connect() as conn:
        for res in (0, 5, 7, 9, 10, 11):
            got = conn.execute(
                sa.text("SELECT h3_parent(c, :res) FROM unnest(CAST(:cells AS bigint[])) AS c"),
                {"cells": cells, "res": res},
            ).scalars()
            expected = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(c), res)) for c in cells]
            assert list(got) == expected
        finer = conn.execute(sa.text("SELECT h3_parent(:c, 12)"), {"c": cells[0]}).scalar()
    assert finer is None


def test_audit_log_is_append_only(engine: Engine) -> None:
    with transaction(engine) as conn:
        conn.execute(sa.text("INSERT INTO meta.audit_log (actor, action) VALUES ('test', 'login')"))
    for statement in (
        "UPDATE meta.audit_log SET actor = 'someone else'",
        "DELETE FROM meta.audit_log",
        "TRUNCATE meta.audit_log",
    ):
        with pytest.raises(GeoPlatformError, match="append-only"), transaction(engine) as conn:
            conn.execute(sa.text(statement))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT actor FROM meta.audit_log")).scalars().all() == ["test"]
