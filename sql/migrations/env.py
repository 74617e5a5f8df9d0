"""Alembic environment: runs on the connection `geoplatform.db.migrate` hands over."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers

from geoplatform.db.migrate import include_object
from geoplatform.schema import metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `geoplatform db migrate`")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_schemas=True,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
