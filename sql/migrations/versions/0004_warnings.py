"""Early-warning table written by `geoplatform warnings scan` (the nightly run).

One row per (as_of, level, unit) that warned, with the evidence; a rescan of a day replaces it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 01:13:09.662160
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table(
        "warnings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "as_of", sa.Date(), nullable=False, comment="Last day of the tested window (local)"
        ),
        sa.Column("level", sa.Text(), nullable=False, comment="cell (H3) or grid"),
        sa.Column(
            "unit",
            sa.Text(),
            nullable=False,
            comment="H3 cell as hex string, or 15-digit grid code",
        ),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("baseline_start", sa.Date(), nullable=False),
        sa.Column("baseline_end", sa.Date(), nullable=False),
        sa.Column("observed", sa.Integer(), nullable=False, comment="Incidents in the window"),
        sa.Column(
            "baseline", sa.Integer(), nullable=False, comment="Incidents in the baseline period"
        ),
        sa.Column(
            "expected", sa.Double(), nullable=False, comment="Window count the baseline predicts"
        ),
        sa.Column("ratio", sa.Double(), nullable=True, comment="observed / expected"),
        sa.Column(
            "p_value", sa.Double(), nullable=False, comment="One-sided, weekly-rhythm count model"
        ),
        sa.Column("q_value", sa.Double(), nullable=True, comment="Benjamini-Hochberg adjusted"),
        sa.Column("dispersion", sa.Double(), nullable=False),
        sa.Column(
            "scanned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.CheckConstraint("level IN ('cell', 'grid')", name=op.f("ck_warnings_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warnings")),
        sa.UniqueConstraint("as_of", "level", "unit", name=op.f("uq_warnings_as_of_level_unit")),
    )
    # geoalchemy2's create_geospatial_table drops a table comment: set it on its own
    op.create_table_comment(
        "warnings", "Early warnings written by `geoplatform warnings scan` (the nightly run)"
    )
    op.create_geospatial_index(
        "idx_warnings_geom",
        "warnings",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
