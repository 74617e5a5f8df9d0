"""Every warning scan is recorded, including the ones that found nothing.

"The latest scan" used to be the latest day with a warning row, so a later scan that found no
warnings let an older scan's warnings through as if they were current. `warning_scans` keeps one
row per (as_of, level) scanned; readers take the latest scan from it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "warning_scans",
        sa.Column("as_of", sa.Date(), nullable=False, comment="Scanned day (local)"),
        sa.Column("level", sa.Text(), nullable=False, comment="cell (H3) or grid"),
        sa.Column("tested", sa.Integer(), nullable=False, comment="Units tested"),
        sa.Column("warned", sa.Integer(), nullable=False, comment="Units that warned"),
        sa.Column(
            "scanned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("level IN ('cell', 'grid')", name=op.f("ck_warning_scans_level")),
        sa.PrimaryKeyConstraint("as_of", "level", name=op.f("pk_warning_scans")),
        comment="One row per warning scan of a day and level, also when nothing warned",
    )
    # scans made before this table existed are known only by the warnings they left
    op.execute(
        "INSERT INTO warning_scans (as_of, level, tested, warned, scanned_at)"
        " SELECT as_of, level, count(*), count(*), max(scanned_at) FROM warnings"
        " GROUP BY as_of, level"
    )
    # the api and analyst roles read it like every public table (0007's default privileges
    # cover tables the owner creates; the etl role writes it)
    op.execute("GRANT SELECT ON warning_scans TO api, analyst")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON warning_scans TO etl")


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
