"""What every table definition shares: the metadata (one naming convention), the
vocabularies check constraints allow, and the column groups located records carry."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

SRID = 4326
H3_RESOLUTION = 11
"""Finest H3 resolution stored per record; coarser cells are derived (sql function h3_parent)."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ADMIN_LEVELS = ("city", "district", "street", "community")
GRID_KINDS = ("basic", "special")
SPECIAL_GRID_TYPES = ("school", "hospital", "industrial_park", "market", "other")
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
"""How precisely an address was placed, finest first (`none`: not placed)."""
STANDARD_ADDRESS_LEVELS = ("building", "compound", "door", "road")
"""Levels a row of the standard-address table itself can have."""
INCIDENT_CHANNELS = ("hotline", "grid_app", "video_ai", "wechat", "website", "other")
DEMAND_TYPES = ("consult", "complaint", "suggestion", "help", "report")
INCIDENT_STATUSES = (
    "reported",
    "accepted",
    "registered",
    "rejected",
    "dispatched",
    "handling",
    "returned",
    "handled",
    "verified",
    "closed",
)
INCIDENT_URGENCIES = ("normal", "urgent", "emergency")
DEVICE_KINDS = ("camera", "iot_sensor", "smoke_detector", "water_level", "air_quality", "other")
DEVICE_STATUSES = ("online", "offline", "fault", "retired")
RUN_STATUSES = ("running", "succeeded", "failed", "aborted")
GENDERS = ("M", "F")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def check(sql: str, name: str, message: str) -> CheckConstraint:
    """A check constraint with the one-line message users see when it refuses a row."""
    return CheckConstraint(sql, name=name, info={"message": message})


def _geometry(kind: str) -> Geometry:
    return Geometry(geometry_type=kind, srid=SRID, spatial_index=True)


def _valid_geometry(table: str) -> CheckConstraint:
    return check(
        "ST_IsValid(geom)",
        "geom_valid",
        f"{table}.geom must be a valid geometry (repair it with ST_MakeValid before loading)",
    )


def _provenance() -> list[Any]:
    """Where a record came from: the natural key every load upserts on, and change detection."""
    return [
        Column("source", Text, nullable=False, comment="Pipeline source name"),
        Column("source_key", Text, nullable=False, comment="The record's key in that source"),
        Column("source_crs", Text, comment="CRS the source delivered the geometry in"),
        Column("content_hash", LargeBinary, comment="Hash of the loaded content (skip rewrites)"),
        Column("loaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("run_id", BigInteger, comment="ETL run that last wrote the row"),
    ]


def _attributes() -> Column[Any]:
    """Declared extra columns of a delivery (问题描述, 置信度...), typed JSON a layer can expose."""
    return Column(
        "attributes",
        JSONB,
        comment="Extra delivered columns declared by the pipeline (`attributes:`), typed",
    )


def _location(table: str) -> list[Any]:
    """Point, grid and H3 cell every located record carries."""
    return [
        Column("geom", _geometry("POINT")),
        Column(
            "grid_code",
            String(15),
            ForeignKey("grids.code", ondelete="SET NULL"),
            comment="Grid that is responsible for the record",
        ),
        Column("h3_r11", BigInteger, comment="H3 cell (resolution 11) of geom"),
        check(
            f"h3_r11 IS NULL OR ((h3_r11 >> 52) & 15) = {H3_RESOLUTION}",
            "h3_resolution",
            f"{table}.h3_r11 must be an H3 cell of resolution {H3_RESOLUTION}",
        ),
        Index(None, "grid_code"),
        Index(None, "h3_r11"),
    ]


def _natural_key(table: str) -> UniqueConstraint:
    return UniqueConstraint("source", "source_key", name=f"uq_{table}_source_key")


def constraint_messages() -> dict[str, str]:
    """Constraint name -> the sentence a user sees when the database refuses a row."""
    messages: dict[str, str] = {}
    for table in metadata.tables.values():
        for constraint in table.constraints:
            message = constraint.info.get("message")
            if message and isinstance(constraint.name, str):
                messages[constraint.name] = message
    return messages
