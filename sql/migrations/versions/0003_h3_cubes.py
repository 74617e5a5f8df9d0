"""H3 cubes: incident counts per cell x day x category x channel, snapshot layers per cell.

Triggers mark changed incident days and layers; refresh_h3_cubes() recomputes only those.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 00:53:01.395788
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL_DIR = Path(__file__).with_suffix("")


def upgrade() -> None:
    op.create_table(
        "h3_incident_cube",
        sa.Column("res", sa.SmallInteger(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False, comment="City-local day of reported_at"),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.CheckConstraint("n > 0", name=op.f("ck_h3_incident_cube_n")),
        sa.CheckConstraint(
            "res BETWEEN 5 AND 11 AND ((cell >> 52) & 15) = res",
            name=op.f("ck_h3_incident_cube_res"),
        ),
        sa.PrimaryKeyConstraint(
            "res", "cell", "day", "category", "channel", name=op.f("pk_h3_incident_cube")
        ),
        comment="Incidents per H3 cell x day x category x channel at resolutions 5-11",
    )
    op.create_index(op.f("ix_h3_incident_cube_day"), "h3_incident_cube", ["day"], unique=False)
    op.create_table(
        "h3_layer_cube",
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("res", sa.SmallInteger(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column(
            "category", sa.Text(), nullable=False, comment="use_type / kind / residence type"
        ),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.CheckConstraint("n > 0", name=op.f("ck_h3_layer_cube_n")),
        sa.CheckConstraint(
            "res BETWEEN 5 AND 11 AND ((cell >> 52) & 15) = res", name=op.f("ck_h3_layer_cube_res")
        ),
        sa.PrimaryKeyConstraint("layer", "res", "cell", "category", name=op.f("pk_h3_layer_cube")),
        comment="People, organisations, buildings, devices per H3 cell x category (snapshots)",
    )
    op.create_table(
        "cube_dirty",
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False, comment="-infinity: the whole layer"),
        sa.PrimaryKeyConstraint("layer", "day", name=op.f("pk_cube_dirty")),
        schema="meta",
        comment="What triggers marked for the next refresh_h3_cubes(): incident days, whole layers",
    )
    # Hand-written SQL (triggers, the refresh function, the backfill), loaded by name in order.
    for script in sorted(SQL_DIR.glob("*.sql")):
        op.execute(script.read_text())


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
