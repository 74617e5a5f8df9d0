"""Access and privacy: the api, etl and analyst roles; row-level security on residents,
identities, incidents and the review queue; the hash-chained audit trail; API keys.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 03:50:00
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import op
from psycopg import sql

from geoplatform.db.roles import LOGIN_ROLES, role_password

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL_DIR = Path(__file__).with_suffix("")
ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"


def _ensure_roles() -> None:
    """Create the login roles (cluster-wide, so maybe already there) and reset their powers."""
    bind = op.get_bind()
    owner_password = bind.engine.url.password
    raw = bind.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        for role in LOGIN_ROLES:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            verb = "ALTER" if cur.fetchone() else "CREATE"
            cur.execute(sql.SQL(f"{verb} ROLE {{}} {ROLE_ATTRIBUTES}").format(sql.Identifier(role)))
            if owner_password:
                password = role_password(str(owner_password), role)
                cur.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(password)
                    )
                )


def upgrade() -> None:
    _ensure_roles()
    for script in sorted(SQL_DIR.glob("*.sql")):
        op.execute(script.read_text())


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
