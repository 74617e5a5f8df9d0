"""Initial one-map schema: admin areas, grids, addresses, the located entities, bookkeeping.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 23:54:19.826599
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

SQL_DIR = Path(__file__).with_suffix("")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for schema in ("restricted", "etl", "meta"):
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    op.create_geospatial_table(
        "admin_areas",
        sa.Column(
            "code", sa.String(length=12), nullable=False, comment="12-digit statistics-bureau code"
        ),
        sa.Column("edition", sa.SmallInteger(), nullable=False, comment="Year of the code edition"),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
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
        sa.CheckConstraint(
            "(level = 'city' AND substr(code, 5) = '00000000' AND parent_code IS NULL) OR (level = 'district' AND substr(code, 5, 2) <> '00' AND substr(code, 7) = '000000'     AND parent_code = substr(code, 1, 4) || '00000000') OR (level = 'street' AND substr(code, 7, 3) <> '000' AND substr(code, 10) = '000'     AND parent_code = substr(code, 1, 6) || '000000') OR (level = 'community' AND substr(code, 10) <> '000'     AND parent_code = substr(code, 1, 9) || '000')",
            name=op.f("ck_admin_areas_code_level"),
        ),
        sa.CheckConstraint("code ~ '^[0-9]{12}$'", name=op.f("ck_admin_areas_code_format")),
        sa.CheckConstraint(
            "level IN ('city', 'district', 'street', 'community')",
            name=op.f("ck_admin_areas_level"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_admin_areas_geom_valid")),
        sa.CheckConstraint("edition BETWEEN 1980 AND 2100", name=op.f("ck_admin_areas_edition")),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["admin_areas.code"],
            name=op.f("fk_admin_areas_parent_code_admin_areas"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_admin_areas")),
        sa.UniqueConstraint("source", "source_key", name="uq_admin_areas_source_key"),
    )
    op.create_geospatial_index(
        "idx_admin_areas_geom",
        "admin_areas",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_admin_areas_level"), "admin_areas", ["level"], unique=False)
    op.create_index(
        op.f("ix_admin_areas_parent_code"), "admin_areas", ["parent_code"], unique=False
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("pipeline", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'running'"), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "options",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "counts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "timings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'aborted')", name=op.f("ck_runs_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        schema="etl",
        comment="One row per ETL run: what it read, loaded, rejected, and how long each step took",
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        schema="meta",
        comment="Append-only: a trigger refuses UPDATE and DELETE (security logs are kept >= 6 months)",
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False, schema="meta")
    op.create_table(
        "rejects",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "row_number",
            sa.Integer(),
            nullable=True,
            comment="Row in the delivered file (1 = first data row)",
        ),
        sa.Column("source_key", sa.Text(), nullable=True),
        sa.Column("reason_code", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "row_data",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="The row as delivered, personal identifiers masked",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["etl.runs.id"], name=op.f("fk_rejects_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejects")),
        schema="etl",
        comment="Rows that were not loaded, each with its reason",
    )
    op.create_index(
        op.f("ix_rejects_run_id_source"),
        "rejects",
        ["run_id", "source"],
        unique=False,
        schema="etl",
    )
    op.create_table(
        "watermarks",
        sa.Column("pipeline", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "value", sa.Text(), nullable=False, comment="Last file fingerprint or timestamp seen"
        ),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["etl.runs.id"], name=op.f("fk_watermarks_run_id_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("pipeline", "source", name=op.f("pk_watermarks")),
        schema="etl",
        comment="Where each incremental source left off",
    )
    op.create_geospatial_table(
        "grids",
        sa.Column(
            "code",
            sa.String(length=15),
            nullable=False,
            comment="Community code + 3-digit sequence",
        ),
        sa.Column("edition", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), server_default=sa.text("'basic'"), nullable=False),
        sa.Column(
            "special_type",
            sa.Text(),
            nullable=True,
            comment="For special grids: school, hospital, market...",
        ),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
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
        sa.CheckConstraint(
            "(kind = 'special') = (special_type IS NOT NULL) AND (special_type IS NULL OR special_type IN ('school', 'hospital', 'industrial_park', 'market', 'other'))",
            name=op.f("ck_grids_special_type"),
        ),
        sa.CheckConstraint("code ~ '^[0-9]{15}$'", name=op.f("ck_grids_code_format")),
        sa.CheckConstraint("kind IN ('basic', 'special')", name=op.f("ck_grids_kind")),
        sa.CheckConstraint(
            "substr(code, 1, 12) = community_code AND substr(code, 13) <> '000'",
            name=op.f("ck_grids_code_in_community"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_grids_geom_valid")),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["admin_areas.code"],
            name=op.f("fk_grids_community_code_admin_areas"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_grids")),
        sa.UniqueConstraint("source", "source_key", name="uq_grids_source_key"),
    )
    op.create_geospatial_index(
        "idx_grids_geom",
        "grids",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_grids_community_code"), "grids", ["community_code"], unique=False)
    op.create_table(
        "layer_versions",
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_layer_versions_version")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["etl.runs.id"],
            name=op.f("fk_layer_versions_run_id_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("layer", name=op.f("pk_layer_versions")),
        schema="meta",
        comment="Data version per layer: tile caches key on it, so a load is never served stale",
    )
    op.create_geospatial_table(
        "buildings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column(
            "compound", sa.Text(), nullable=True, comment="Residential compound (小区) or campus"
        ),
        sa.Column("building_number", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column(
            "use_type",
            sa.Text(),
            nullable=True,
            comment="residential, commercial, public, industrial, mixed",
        ),
        sa.Column("floors", sa.SmallInteger(), nullable=True),
        sa.Column(
            "footprint",
            Geometry(
                geometry_type="MULTIPOLYGON",
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
        sa.CheckConstraint("ST_IsValid(footprint)", name=op.f("ck_buildings_footprint_valid")),
        sa.CheckConstraint(
            "floors IS NULL OR floors BETWEEN 1 AND 200", name=op.f("ck_buildings_floors")
        ),
        sa.CheckConstraint(
            "h3_r11 IS NULL OR ((h3_r11 >> 52) & 15) = 11", name=op.f("ck_buildings_h3_resolution")
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"],
            ["grids.code"],
            name=op.f("fk_buildings_grid_code_grids"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
        sa.UniqueConstraint("source", "source_key", name="uq_buildings_source_key"),
    )
    op.create_geospatial_index(
        "idx_buildings_footprint",
        "buildings",
        ["footprint"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "idx_buildings_geom",
        "buildings",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_buildings_grid_code"), "buildings", ["grid_code"], unique=False)
    op.create_index(op.f("ix_buildings_h3_r11"), "buildings", ["h3_r11"], unique=False)
    op.create_geospatial_table(
        "devices",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'online'"), nullable=False),
        sa.Column("owner_department", sa.Text(), nullable=True),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=True),
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
            "kind IN ('camera', 'iot_sensor', 'smoke_detector', 'water_level', 'air_quality', 'other')",
            name=op.f("ck_devices_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('online', 'offline', 'fault', 'retired')", name=op.f("ck_devices_status")
        ),
        sa.CheckConstraint(
            "h3_r11 IS NULL OR ((h3_r11 >> 52) & 15) = 11", name=op.f("ck_devices_h3_resolution")
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"],
            ["grids.code"],
            name=op.f("fk_devices_grid_code_grids"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("source", "source_key", name="uq_devices_source_key"),
    )
    op.create_geospatial_index(
        "idx_devices_geom",
        "devices",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_devices_grid_code"), "devices", ["grid_code"], unique=False)
    op.create_index(op.f("ix_devices_h3_r11"), "devices", ["h3_r11"], unique=False)
    op.create_geospatial_table(
        "incidents",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("subcategory", sa.Text(), nullable=True),
        sa.Column("demand_type", sa.Text(), nullable=True),
        sa.Column("urgency", sa.Text(), server_default=sa.text("'normal'"), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("geocode_level", sa.Text(), nullable=True),
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
            "(status = 'closed') = (closed_at IS NOT NULL)", name=op.f("ck_incidents_closed_time")
        ),
        sa.CheckConstraint(
            "channel IN ('hotline', 'grid_app', 'video_ai', 'wechat', 'website', 'other')",
            name=op.f("ck_incidents_channel"),
        ),
        sa.CheckConstraint(
            "demand_type IS NULL OR demand_type IN ('consult', 'complaint', 'suggestion', 'help', 'report')",
            name=op.f("ck_incidents_demand_type"),
        ),
        sa.CheckConstraint(
            "geocode_level IS NULL OR geocode_level IN ('building', 'compound', 'door', 'road', 'community', 'none')",
            name=op.f("ck_incidents_geocode_level"),
        ),
        sa.CheckConstraint(
            "status IN ('reported', 'accepted', 'registered', 'rejected', 'dispatched', 'handling', 'returned', 'handled', 'verified', 'closed')",
            name=op.f("ck_incidents_status"),
        ),
        sa.CheckConstraint(
            "urgency IN ('normal', 'urgent', 'emergency')", name=op.f("ck_incidents_urgency")
        ),
        sa.CheckConstraint(
            "(accepted_at IS NULL OR accepted_at >= reported_at) AND (dispatched_at IS NULL OR dispatched_at >= reported_at) AND (handled_at IS NULL OR handled_at >= reported_at) AND (closed_at IS NULL OR closed_at >= reported_at) AND (due_at IS NULL OR due_at >= reported_at)",
            name=op.f("ck_incidents_time_order"),
        ),
        sa.CheckConstraint(
            "h3_r11 IS NULL OR ((h3_r11 >> 52) & 15) = 11", name=op.f("ck_incidents_h3_resolution")
        ),
        sa.CheckConstraint("length(category) > 0", name=op.f("ck_incidents_category")),
        sa.ForeignKeyConstraint(
            ["grid_code"],
            ["grids.code"],
            name=op.f("fk_incidents_grid_code_grids"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("source", "source_key", name="uq_incidents_source_key"),
    )
    op.create_geospatial_index(
        "idx_incidents_geom",
        "incidents",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_incidents_category"), "incidents", ["category"], unique=False)
    op.create_index(op.f("ix_incidents_grid_code"), "incidents", ["grid_code"], unique=False)
    op.create_index(op.f("ix_incidents_h3_r11"), "incidents", ["h3_r11"], unique=False)
    op.create_index(op.f("ix_incidents_reported_at"), "incidents", ["reported_at"], unique=False)
    op.create_index(op.f("ix_incidents_status"), "incidents", ["status"], unique=False)
    op.create_geospatial_table(
        "organisations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "credit_code",
            sa.String(length=18),
            nullable=True,
            comment="Unified social credit code (GB 32100)",
        ),
        sa.Column("credit_code_valid", sa.Boolean(), nullable=True),
        sa.Column(
            "kind",
            sa.Text(),
            nullable=True,
            comment="enterprise, government, social organisation, ...",
        ),
        sa.Column("industry", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("building_id", sa.BigInteger(), nullable=True),
        sa.Column("geocode_level", sa.Text(), nullable=True),
        sa.Column("geocode_score", sa.Double(), nullable=True),
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
            "credit_code IS NULL OR credit_code ~ '^[0-9A-HJ-NP-RTUW-Y]{18}$'",
            name=op.f("ck_organisations_credit_code_format"),
        ),
        sa.CheckConstraint(
            "geocode_level IS NULL OR geocode_level IN ('building', 'compound', 'door', 'road', 'community', 'none')",
            name=op.f("ck_organisations_geocode_level"),
        ),
        sa.CheckConstraint(
            "h3_r11 IS NULL OR ((h3_r11 >> 52) & 15) = 11",
            name=op.f("ck_organisations_h3_resolution"),
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_organisations_building_id_buildings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"],
            ["grids.code"],
            name=op.f("fk_organisations_grid_code_grids"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("source", "source_key", name="uq_organisations_source_key"),
    )
    op.create_geospatial_index(
        "idx_organisations_geom",
        "organisations",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_organisations_grid_code"), "organisations", ["grid_code"], unique=False
    )
    op.create_index(op.f("ix_organisations_h3_r11"), "organisations", ["h3_r11"], unique=False)
    op.create_geospatial_table(
        "people",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("household_key", sa.Text(), nullable=True, comment="Pseudonymous household key"),
        sa.Column("gender", sa.String(length=1), nullable=True),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column(
            "residence_type",
            sa.Text(),
            nullable=True,
            comment="registered (户籍) or floating (流动)",
        ),
        sa.Column("building_id", sa.BigInteger(), nullable=True),
        sa.Column("geocode_level", sa.Text(), nullable=True),
        sa.Column("geocode_score", sa.Double(), nullable=True),
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
        sa.CheckConstraint("gender IN ('M', 'F')", name=op.f("ck_people_gender")),
        sa.CheckConstraint(
            "geocode_level IS NULL OR geocode_level IN ('building', 'compound', 'door', 'road', 'community', 'none')",
            name=op.f("ck_people_geocode_level"),
        ),
        sa.CheckConstraint(
            "birth_year IS NULL OR birth_year BETWEEN 1890 AND 2100",
            name=op.f("ck_people_birth_year"),
        ),
        sa.CheckConstraint(
            "geocode_score IS NULL OR geocode_score BETWEEN 0 AND 1",
            name=op.f("ck_people_geocode_score"),
        ),
        sa.CheckConstraint(
            "h3_r11 IS NULL OR ((h3_r11 >> 52) & 15) = 11", name=op.f("ck_people_h3_resolution")
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_people_building_id_buildings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"],
            ["grids.code"],
            name=op.f("fk_people_grid_code_grids"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("source", "source_key", name="uq_people_source_key"),
    )
    op.create_geospatial_index(
        "idx_people_geom",
        "people",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_people_building_id"), "people", ["building_id"], unique=False)
    op.create_index(op.f("ix_people_grid_code"), "people", ["grid_code"], unique=False)
    op.create_index(op.f("ix_people_h3_r11"), "people", ["h3_r11"], unique=False)
    op.create_geospatial_table(
        "standard_addresses",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("address", sa.Text(), nullable=False, comment="Full standard address text"),
        sa.Column(
            "normalized", sa.Text(), nullable=False, comment="Matcher's normal form (trigram index)"
        ),
        sa.Column("level", sa.Text(), nullable=False, comment="building, compound, door or road"),
        sa.Column("district_code", sa.String(length=12), nullable=True),
        sa.Column("street_code", sa.String(length=12), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("road", sa.Text(), nullable=True),
        sa.Column("door_number", sa.Text(), nullable=True),
        sa.Column("compound", sa.Text(), nullable=True),
        sa.Column("building_number", sa.Text(), nullable=True),
        sa.Column("building_id", sa.BigInteger(), nullable=True),
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
            "level IN ('building', 'compound', 'door', 'road')",
            name=op.f("ck_standard_addresses_level"),
        ),
        sa.CheckConstraint(
            "h3_r11 IS NULL OR ((h3_r11 >> 52) & 15) = 11",
            name=op.f("ck_standard_addresses_h3_resolution"),
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_standard_addresses_building_id_buildings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["admin_areas.code"],
            name=op.f("fk_standard_addresses_community_code_admin_areas"),
        ),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["admin_areas.code"],
            name=op.f("fk_standard_addresses_district_code_admin_areas"),
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"],
            ["grids.code"],
            name=op.f("fk_standard_addresses_grid_code_grids"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["street_code"],
            ["admin_areas.code"],
            name=op.f("fk_standard_addresses_street_code_admin_areas"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standard_addresses")),
        sa.UniqueConstraint("source", "source_key", name="uq_standard_addresses_source_key"),
    )
    op.create_geospatial_index(
        "idx_standard_addresses_geom",
        "standard_addresses",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_standard_addresses_grid_code"), "standard_addresses", ["grid_code"], unique=False
    )
    op.create_index(
        op.f("ix_standard_addresses_h3_r11"), "standard_addresses", ["h3_r11"], unique=False
    )
    op.create_index(
        "ix_standard_addresses_normalized_trgm",
        "standard_addresses",
        ["normalized"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"normalized": "gin_trgm_ops"},
    )
    op.create_table(
        "person_identities",
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "id_number_hmac",
            sa.LargeBinary(),
            nullable=False,
            comment="Keyed HMAC-SHA256 of the ID",
        ),
        sa.Column("id_number_valid", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True, comment="Address as delivered"),
        sa.Column(
            "key_person_category",
            sa.Text(),
            nullable=True,
            comment="Sensitive: specific identity (重点人员)",
        ),
        sa.CheckConstraint(
            "octet_length(id_number_hmac) = 32", name=op.f("ck_person_identities_hmac_length")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_person_identities_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_identities")),
        schema="restricted",
        comment="Identity of people: restricted to roles that may see people",
    )
    op.create_index(
        op.f("ix_person_identities_id_number_hmac"),
        "person_identities",
        ["id_number_hmac"],
        unique=False,
        schema="restricted",
    )
    op.create_table_comment(
        "admin_areas",
        "City, districts, streets/towns and communities, keyed by their 12-digit code",
    )
    op.create_table_comment("grids", "Management grids: every located record lands in exactly one")
    op.create_table_comment(
        "standard_addresses",
        "The city's standard-address table (标准地址库): what geocoding matches against",
    )
    op.create_table_comment(
        "buildings", "Building footprints; geom is a point inside the footprint"
    )
    op.create_table_comment(
        "people",
        "Residents (实有人口) without identity: identity lives in restricted.person_identities",
    )
    op.create_table_comment("organisations", "Enterprises, institutions and social organisations")
    op.create_table_comment(
        "incidents", "Incidents from the hotline, grid workers, video AI and other channels"
    )
    op.create_table_comment("devices", "Cameras and IoT devices")
    # Hand-written SQL (functions, triggers) ships next to this script, loaded by name.
    for script in sorted(SQL_DIR.glob("*.sql")):
        op.execute(script.read_text())


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
