"""Turn what PostgreSQL refuses into domain errors with one clear sentence and no SQL text."""

from __future__ import annotations

from functools import cache

import psycopg
from sqlalchemy.exc import DBAPIError

from geoplatform.errors import DatabaseUnavailable, GeoPlatformError, InvalidRecord


@cache
def _messages() -> dict[str, str]:
    from geoplatform.schema import constraint_messages

    return constraint_messages()


DatabaseFailure = DBAPIError | psycopg.Error
"""What the database layer can raise: SQLAlchemy's wrapper, or psycopg's own (COPY paths)."""


def translate_database_error(exc: DatabaseFailure, *, url: str = "") -> GeoPlatformError:
    """The domain error for a driver error: constraint, SRID, connection or a generic refusal."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    diag = getattr(orig, "diag", None)
    sqlstate = getattr(orig, "sqlstate", None) or ""
    primary = (getattr(diag, "message_primary", None) or str(orig)).strip().splitlines()
    first_line = primary[0] if primary else type(orig).__name__
    if isinstance(orig, psycopg.OperationalError) and sqlstate[:2] in ("08", ""):
        from geoplatform.db.engine import redact

        where = f" to {redact(url)}" if url else ""
        return DatabaseUnavailable(f"cannot connect{where}: {first_line}")
    if sqlstate[:2] == "28" or sqlstate == "3D000":
        return DatabaseUnavailable(f"database refused the connection: {first_line}")
    constraint = getattr(diag, "constraint_name", None)
    if constraint:
        message = _messages().get(constraint)
        if message:
            return InvalidRecord(f"{message} (constraint {constraint})")
        table = getattr(diag, "table_name", None) or "row"
        return InvalidRecord(f"{table}: {first_line}")
    if sqlstate[:2] in ("22", "23", "XX") or sqlstate == "42501":
        return InvalidRecord(_friendly(first_line))
    return GeoPlatformError(f"database error: {first_line}")


def _friendly(message: str) -> str:
    """PostGIS's own words are clear enough once trimmed (e.g. SRID mismatches)."""
    if "SRID" in message and "does not match" in message:
        return f"wrong SRID: {message} (store EPSG:4326; transform before loading)"
    return message
