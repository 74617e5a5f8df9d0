"""ETL: the geocoding review queue; rejected incidents may keep their end time.

The review queue holds residents' delivered addresses, so it lives in the restricted schema.
A rejected call (不予受理) is finished at its 办结时间, so closed_at is allowed for it too.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:01:58.678359
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "geocode_review",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source", sa.Text(), nullable=False, comment="Pipeline source name"),
        sa.Column("source_key", sa.Text(), nullable=False, comment="The row's key in that source"),
        sa.Column("entity", sa.Text(), nullable=False, comment="Target table of the row"),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("address", sa.Text(), nullable=False, comment="Address as delivered"),
        sa.Column("level", sa.Text(), nullable=True, comment="Level of the best candidate"),
        sa.Column(
            "score",
            sa.Double(),
            nullable=True,
            comment="Score of the best candidate (below the threshold)",
        ),
        sa.Column(
            "candidates",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
            comment="Top candidates as [address, score] pairs",
        ),
        sa.Column("status", sa.Text(), server_default=sa.text("'open'"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('open', 'resolved', 'dismissed')", name=op.f("ck_geocode_review_status")
        ),
        sa.CheckConstraint(
            "score IS NULL OR score BETWEEN 0 AND 1", name=op.f("ck_geocode_review_score")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["etl.runs.id"],
            name=op.f("fk_geocode_review_run_id_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_geocode_review")),
        sa.UniqueConstraint("source", "source_key", name="uq_geocode_review_source_key"),
        schema="restricted",
        comment="Addresses the matcher could not accept: the geocoding review queue, top candidates",
    )
    op.create_index(
        op.f("ix_geocode_review_status"),
        "geocode_review",
        ["status"],
        unique=False,
        schema="restricted",
    )
    op.drop_constraint(op.f("ck_incidents_closed_time"), "incidents", type_="check")
    op.create_check_constraint(
        op.f("ck_incidents_closed_time"),
        "incidents",
        "(status <> 'closed' OR closed_at IS NOT NULL)"
        " AND (closed_at IS NULL OR status IN ('closed', 'rejected'))",
    )


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
