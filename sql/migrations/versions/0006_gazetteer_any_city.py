"""Gazetteer for any city: roads, compound aliases and landmarks; typed `attributes` on every
entity table; intersection and landmark geocode levels; incidents keep their geocode score.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 03:05:40
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

GEOCODE_LEVELS = (
    "building",
    "compound",
    "door",
    "road",
    "intersection",
    "landmark",
    "community",
    "none",
)

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "compound_aliases",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "alias", sa.Text(), nullable=False, comment="Another name of the compound (别名, 俗称)"
        ),
        sa.Column(
            "compound",
            sa.Text(),
            nullable=False,
            comment="The compound's name in the address table",
        ),
        sa.Column("district_code", sa.String(length=12), nullable=True),
        sa.Column("street_code", sa.String(length=12), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column(
            "origin",
            sa.Text(),
            server_default=sa.text("'published'"),
            nullable=False,
            comment="published (a delivered list) or learned (a person resolved a review entry)",
        ),
        sa.Column("source", sa.Text(), nullable=False, comment="Pipeline source name"),
        sa.Column(
            "source_key", sa.Text(), nullable=False, comment="The record's key in that source"
        ),
        sa.Column(
            "source_crs",
            sa.Text(),
            nullable=True,
            comment="CRS the source delivered the geometry in",
        ),
        sa.Column(
            "content_hash",
            sa.LargeBinary(),
            nullable=True,
            comment="Hash of the loaded content (skip rewrites)",
        ),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "run_id", sa.BigInteger(), nullable=True, comment="ETL run that last wrote the row"
        ),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
        ),
        sa.CheckConstraint(
            "origin IN ('published', 'learned')", name=op.f("ck_compound_aliases_origin")
        ),
        sa.CheckConstraint(
            "length(alias) > 0 AND length(compound) > 0", name=op.f("ck_compound_aliases_names")
        ),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["admin_areas.code"],
            name=op.f("fk_compound_aliases_community_code_admin_areas"),
        ),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["admin_areas.code"],
            name=op.f("fk_compound_aliases_district_code_admin_areas"),
        ),
        sa.ForeignKeyConstraint(
            ["street_code"],
            ["admin_areas.code"],
            name=op.f("fk_compound_aliases_street_code_admin_areas"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compound_aliases")),
        sa.UniqueConstraint("source", "source_key", name="uq_compound_aliases_source_key"),
        comment="Compound aliases: a published list, and answers people gave in the review queue",
    )
    op.create_index(op.f("ix_compound_aliases_alias"), "compound_aliases", ["alias"], unique=False)
    op.create_geospatial_table(
        "roads",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False, comment="Current name (街路巷名称)"),
        sa.Column(
            "former_names",
            postgresql.ARRAY(sa.Text()),
            nullable=True,
            comment="Former names people still use (曾用名)",
        ),
        sa.Column(
            "kind",
            sa.Text(),
            nullable=True,
            comment="Road class as delivered (主干路, 支路, 巷, 弄...)",
        ),
        sa.Column(
            "door_min", sa.Integer(), nullable=True, comment="Lowest door number along the road"
        ),
        sa.Column(
            "door_max",
            sa.Integer(),
            nullable=True,
            comment="Highest door number: a number past it does not exist",
        ),
        sa.Column("district_code", sa.String(length=12), nullable=True),
        sa.Column("street_code", sa.String(length=12), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTILINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False, comment="Pipeline source name"),
        sa.Column(
            "source_key", sa.Text(), nullable=False, comment="The record's key in that source"
        ),
        sa.Column(
            "source_crs",
            sa.Text(),
            nullable=True,
            comment="CRS the source delivered the geometry in",
        ),
        sa.Column(
            "content_hash",
            sa.LargeBinary(),
            nullable=True,
            comment="Hash of the loaded content (skip rewrites)",
        ),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "run_id", sa.BigInteger(), nullable=True, comment="ETL run that last wrote the row"
        ),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
        ),
        sa.CheckConstraint(
            "door_min IS NULL OR door_max IS NULL OR door_min <= door_max",
            name=op.f("ck_roads_door_range"),
        ),
        sa.ForeignKeyConstraint(
            ["district_code"], ["admin_areas.code"], name=op.f("fk_roads_district_code_admin_areas")
        ),
        sa.ForeignKeyConstraint(
            ["street_code"], ["admin_areas.code"], name=op.f("fk_roads_street_code_admin_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roads")),
        sa.UniqueConstraint("source", "source_key", name="uq_roads_source_key"),
    )
    op.create_geospatial_index(
        "idx_roads_geom",
        "roads",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_roads_name"), "roads", ["name"], unique=False)
    op.create_geospatial_table(
        "landmarks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "aliases",
            postgresql.ARRAY(sa.Text()),
            nullable=True,
            comment="Colloquial names (一中, 中心医院, 农贸市场)",
        ),
        sa.Column(
            "kind",
            sa.Text(),
            nullable=True,
            comment="school, hospital, market, park, government, station...",
        ),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False, comment="Pipeline source name"),
        sa.Column(
            "source_key", sa.Text(), nullable=False, comment="The record's key in that source"
        ),
        sa.Column(
            "source_crs",
            sa.Text(),
            nullable=True,
            comment="CRS the source delivered the geometry in",
        ),
        sa.Column(
            "content_hash",
            sa.LargeBinary(),
            nullable=True,
            comment="Hash of the loaded content (skip rewrites)",
        ),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "run_id", sa.BigInteger(), nullable=True, comment="ETL run that last wrote the row"
        ),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "grid_code",
            sa.String(length=15),
            nullable=True,
            comment="Grid that is responsible for the record",
        ),
        sa.Column(
            "h3_r11", sa.BigInteger(), nullable=True, comment="H3 cell (resolution 11) of geom"
        ),
        sa.CheckConstraint(
            "h3_r11 IS NULL OR ((h3_r11 >> 52) & 15) = 11", name=op.f("ck_landmarks_h3_resolution")
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"],
            ["grids.code"],
            name=op.f("fk_landmarks_grid_code_grids"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_landmarks")),
        sa.UniqueConstraint("source", "source_key", name="uq_landmarks_source_key"),
    )
    op.create_geospatial_index(
        "idx_landmarks_geom",
        "landmarks",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_landmarks_grid_code"), "landmarks", ["grid_code"], unique=False)
    op.create_index(op.f("ix_landmarks_h3_r11"), "landmarks", ["h3_r11"], unique=False)
    op.create_index(op.f("ix_landmarks_name"), "landmarks", ["name"], unique=False)
    op.add_column(
        "admin_areas",
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
        ),
    )
    op.add_column(
        "buildings",
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
        ),
    )
    op.add_column(
        "devices",
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
        ),
    )
    op.add_column(
        "grids",
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
        ),
    )
    op.add_column("incidents", sa.Column("geocode_score", sa.Double(), nullable=True))
    op.add_column(
        "incidents",
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
        ),
    )
    op.add_column(
        "organisations",
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
        ),
    )
    op.add_column(
        "people",
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
        ),
    )
    op.add_column(
        "standard_addresses",
        sa.Column(
            "road_old_names",
            sa.Text(),
            nullable=True,
            comment="Former names of the road as delivered (曾用名)",
        ),
    )
    op.add_column(
        "standard_addresses",
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
        ),
    )
    # create_geospatial_table drops the table comment: set it apart
    op.create_table_comment(
        "roads", "Road centre lines with current and former names and door-number ranges"
    )
    op.create_table_comment(
        "landmarks", "Landmarks and points of interest that vague locations name (某中学门口)"
    )
    op.add_column(
        "standard_addresses",
        sa.Column(
            "door_kind",
            sa.Text(),
            nullable=True,
            comment="A door plate's kind: gate (a compound's entrance) or building (standalone)",
        ),
    )
    op.create_check_constraint(
        op.f("ck_standard_addresses_door_kind"),
        "standard_addresses",
        "door_kind IS NULL OR door_kind IN ('gate', 'building')",
    )
    levels = ", ".join(f"'{level}'" for level in GEOCODE_LEVELS)
    for table in ("people", "organisations", "incidents"):
        name = f"ck_{table}_geocode_level"
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(
            op.f(name), table, f"geocode_level IS NULL OR geocode_level IN ({levels})"
        )


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
