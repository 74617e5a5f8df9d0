"""Table definitions: the one source of truth the migrations are checked against.

Three schemas keep apart what must stay apart:
- `public`: what the map shows. No name, ID number or phone of any person.
- `restricted`: identity of people (names, phones, keyed HMAC of ID numbers, key-person tags).
  Only roles that may see people get privileges on it.
- `etl` and `meta`: bookkeeping: runs, rejects, watermarks; layer data versions, the audit log.

Every check constraint carries, in `info["message"]`, the sentence a user sees when the database
refuses a row (see `geoplatform.db.errors`).
"""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
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
GEOCODE_LEVELS = ("building", "compound", "door", "road", "community", "none")
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


admin_areas = Table(
    "admin_areas",
    metadata,
    Column("code", String(12), primary_key=True, comment="12-digit statistics-bureau code"),
    Column("edition", SmallInteger, nullable=False, comment="Year of the code edition"),
    Column("level", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("parent_code", String(12), ForeignKey("admin_areas.code"), nullable=True),
    Column("geom", _geometry("MULTIPOLYGON"), nullable=False),
    *_provenance(),
    _natural_key("admin_areas"),
    check("code ~ '^[0-9]{12}$'", "code_format", "admin area code must be 12 digits"),
    check(
        _in("level", ADMIN_LEVELS), "level", "admin level must be one of " + ", ".join(ADMIN_LEVELS)
    ),
    check(
        "edition BETWEEN 1980 AND 2100", "edition", "admin area edition must be a year (1980-2100)"
    ),
    check(
        "(level = 'city' AND substr(code, 5) = '00000000' AND parent_code IS NULL)"
        " OR (level = 'district' AND substr(code, 5, 2) <> '00' AND substr(code, 7) = '000000'"
        "     AND parent_code = substr(code, 1, 4) || '00000000')"
        " OR (level = 'street' AND substr(code, 7, 3) <> '000' AND substr(code, 10) = '000'"
        "     AND parent_code = substr(code, 1, 6) || '000000')"
        " OR (level = 'community' AND substr(code, 10) <> '000'"
        "     AND parent_code = substr(code, 1, 9) || '000')",
        "code_level",
        "admin area code does not fit its level and parent "
        "(city ####00000000, district ######000000, street #########000, community ############)",
    ),
    _valid_geometry("admin_areas"),
    Index(None, "level"),
    Index(None, "parent_code"),
    comment="City, districts, streets/towns and communities, keyed by their 12-digit code",
)

grids = Table(
    "grids",
    metadata,
    Column("code", String(15), primary_key=True, comment="Community code + 3-digit sequence"),
    Column("edition", SmallInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False, server_default=text("'basic'")),
    Column("special_type", Text, comment="For special grids: school, hospital, market..."),
    Column("community_code", String(12), ForeignKey("admin_areas.code"), nullable=False),
    Column("geom", _geometry("MULTIPOLYGON"), nullable=False),
    *_provenance(),
    _natural_key("grids"),
    check("code ~ '^[0-9]{15}$'", "code_format", "grid code must be 15 digits"),
    check(
        "substr(code, 1, 12) = community_code AND substr(code, 13) <> '000'",
        "code_in_community",
        "grid code must be its community's 12-digit code followed by a sequence 001-999",
    ),
    check(_in("kind", GRID_KINDS), "kind", "grid kind must be basic or special"),
    check(
        "(kind = 'special') = (special_type IS NOT NULL) AND (special_type IS NULL OR "
        + _in("special_type", SPECIAL_GRID_TYPES)
        + ")",
        "special_type",
        "a special grid needs a special_type ("
        + ", ".join(SPECIAL_GRID_TYPES)
        + ") and a basic grid has none",
    ),
    _valid_geometry("grids"),
    Index(None, "community_code"),
    comment="Management grids: every located record lands in exactly one",
)

standard_addresses = Table(
    "standard_addresses",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("address", Text, nullable=False, comment="Full standard address text"),
    Column("normalized", Text, nullable=False, comment="Matcher's normal form (trigram index)"),
    Column("level", Text, nullable=False, comment="building, compound, door or road"),
    Column("district_code", String(12), ForeignKey("admin_areas.code")),
    Column("street_code", String(12), ForeignKey("admin_areas.code")),
    Column("community_code", String(12), ForeignKey("admin_areas.code")),
    Column("road", Text),
    Column("door_number", Text),
    Column("compound", Text),
    Column("building_number", Text),
    Column("building_id", BigInteger, ForeignKey("buildings.id", ondelete="SET NULL")),
    *_provenance(),
    *_location("standard_addresses"),
    _natural_key("standard_addresses"),
    check(
        _in("level", GEOCODE_LEVELS[:-2]),
        "level",
        "standard address level must be building, compound, door or road",
    ),
    Index(
        "ix_standard_addresses_normalized_trgm",
        "normalized",
        postgresql_using="gin",
        postgresql_ops={"normalized": "gin_trgm_ops"},
    ),
    comment="The city's standard-address table (标准地址库): what geocoding matches against",
)

buildings = Table(
    "buildings",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text),
    Column("compound", Text, comment="Residential compound (小区) or campus"),
    Column("building_number", Text),
    Column("address", Text),
    Column("use_type", Text, comment="residential, commercial, public, industrial, mixed"),
    Column("floors", SmallInteger),
    Column("footprint", _geometry("MULTIPOLYGON"), nullable=False),
    *_provenance(),
    *_location("buildings"),
    _natural_key("buildings"),
    check(
        "floors IS NULL OR floors BETWEEN 1 AND 200",
        "floors",
        "building floors must be between 1 and 200",
    ),
    check(
        "ST_IsValid(footprint)",
        "footprint_valid",
        "buildings.footprint must be a valid polygon (repair it before loading)",
    ),
    comment="Building footprints; geom is a point inside the footprint",
)

people = Table(
    "people",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("household_key", Text, comment="Pseudonymous household key"),
    Column("gender", String(1)),
    Column("birth_year", SmallInteger),
    Column("residence_type", Text, comment="registered (户籍) or floating (流动)"),
    Column("building_id", BigInteger, ForeignKey("buildings.id", ondelete="SET NULL")),
    Column("geocode_level", Text),
    Column("geocode_score", Double),
    *_provenance(),
    *_location("people"),
    _natural_key("people"),
    check(_in("gender", GENDERS), "gender", "gender must be M or F"),
    check(
        "birth_year IS NULL OR birth_year BETWEEN 1890 AND 2100",
        "birth_year",
        "birth year must be between 1890 and 2100",
    ),
    check(
        "geocode_level IS NULL OR " + _in("geocode_level", GEOCODE_LEVELS),
        "geocode_level",
        "geocode level must be one of " + ", ".join(GEOCODE_LEVELS),
    ),
    check(
        "geocode_score IS NULL OR geocode_score BETWEEN 0 AND 1",
        "geocode_score",
        "geocode score must be between 0 and 1",
    ),
    Index(None, "building_id"),
    comment="Residents (实有人口) without identity: identity lives in restricted.person_identities",
)

person_identities = Table(
    "person_identities",
    metadata,
    Column(
        "person_id",
        BigInteger,
        ForeignKey("people.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("id_number_hmac", LargeBinary, nullable=False, comment="Keyed HMAC-SHA256 of the ID"),
    Column("id_number_valid", Boolean, nullable=False),
    Column("name", Text),
    Column("phone", Text),
    Column("address", Text, comment="Address as delivered"),
    Column("key_person_category", Text, comment="Sensitive: specific identity (重点人员)"),
    check(
        "octet_length(id_number_hmac) = 32",
        "hmac_length",
        "id_number_hmac must be a 32-byte HMAC-SHA256, never the ID number itself",
    ),
    Index(None, "id_number_hmac"),
    schema="restricted",
    comment="Identity of people: restricted to roles that may see people",
)

organisations = Table(
    "organisations",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("credit_code", String(18), comment="Unified social credit code (GB 32100)"),
    Column("credit_code_valid", Boolean),
    Column("kind", Text, comment="enterprise, government, social organisation, ..."),
    Column("industry", Text),
    Column("address", Text),
    Column("building_id", BigInteger, ForeignKey("buildings.id", ondelete="SET NULL")),
    Column("geocode_level", Text),
    Column("geocode_score", Double),
    *_provenance(),
    *_location("organisations"),
    _natural_key("organisations"),
    check(
        "credit_code IS NULL OR credit_code ~ '^[0-9A-HJ-NP-RTUW-Y]{18}$'",
        "credit_code_format",
        "credit code must be 18 characters of 0-9 and A-Y without I, O, S, V, Z",
    ),
    check(
        "geocode_level IS NULL OR " + _in("geocode_level", GEOCODE_LEVELS),
        "geocode_level",
        "geocode level must be one of " + ", ".join(GEOCODE_LEVELS),
    ),
    comment="Enterprises, institutions and social organisations",
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("channel", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("subcategory", Text),
    Column("demand_type", Text),
    Column("urgency", Text, nullable=False, server_default=text("'normal'")),
    Column("status", Text, nullable=False),
    Column("address", Text),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True)),
    Column("dispatched_at", DateTime(timezone=True)),
    Column("handled_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("due_at", DateTime(timezone=True)),
    Column("geocode_level", Text),
    *_provenance(),
    *_location("incidents"),
    _natural_key("incidents"),
    check(
        _in("channel", INCIDENT_CHANNELS),
        "channel",
        "channel must be one of " + ", ".join(INCIDENT_CHANNELS),
    ),
    check(
        "demand_type IS NULL OR " + _in("demand_type", DEMAND_TYPES),
        "demand_type",
        "demand type must be one of " + ", ".join(DEMAND_TYPES),
    ),
    check(
        _in("urgency", INCIDENT_URGENCIES), "urgency", "urgency must be normal, urgent or emergency"
    ),
    check(
        _in("status", INCIDENT_STATUSES),
        "status",
        "incident status must be one of " + ", ".join(INCIDENT_STATUSES),
    ),
    check("length(category) > 0", "category", "incident category must not be empty"),
    check(
        "(accepted_at IS NULL OR accepted_at >= reported_at)"
        " AND (dispatched_at IS NULL OR dispatched_at >= reported_at)"
        " AND (handled_at IS NULL OR handled_at >= reported_at)"
        " AND (closed_at IS NULL OR closed_at >= reported_at)"
        " AND (due_at IS NULL OR due_at >= reported_at)",
        "time_order",
        "incident times must not precede reported_at",
    ),
    check(
        "(status <> 'closed' OR closed_at IS NOT NULL)"
        " AND (closed_at IS NULL OR status IN ('closed', 'rejected'))",
        "closed_time",
        "a closed incident needs closed_at; only a closed or rejected (不予受理) one has it",
    ),
    check(
        "geocode_level IS NULL OR " + _in("geocode_level", GEOCODE_LEVELS),
        "geocode_level",
        "geocode level must be one of " + ", ".join(GEOCODE_LEVELS),
    ),
    Index(None, "reported_at"),
    Index(None, "category"),
    Index(None, "status"),
    comment="Incidents from the hotline, grid workers, video AI and other channels",
)

devices = Table(
    "devices",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("name", Text),
    Column("status", Text, nullable=False, server_default=text("'online'")),
    Column("owner_department", Text),
    Column("installed_at", DateTime(timezone=True)),
    *_provenance(),
    *_location("devices"),
    _natural_key("devices"),
    check(
        _in("kind", DEVICE_KINDS), "kind", "device kind must be one of " + ", ".join(DEVICE_KINDS)
    ),
    check(
        _in("status", DEVICE_STATUSES),
        "status",
        "device status must be one of " + ", ".join(DEVICE_STATUSES),
    ),
    comment="Cameras and IoT devices",
)

# -- bookkeeping ---------------------------------------------------------------------------

etl_runs = Table(
    "runs",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("pipeline", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=text("'running'")),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    Column("options", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("counts", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("timings", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("error", Text),
    check(
        _in("status", RUN_STATUSES),
        "status",
        "run status must be one of " + ", ".join(RUN_STATUSES),
    ),
    schema="etl",
    comment="One row per ETL run: what it read, loaded, rejected, and how long each step took",
)

etl_rejects = Table(
    "rejects",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("run_id", BigInteger, ForeignKey("etl.runs.id", ondelete="CASCADE"), nullable=False),
    Column("source", Text, nullable=False),
    Column("row_number", Integer, comment="Row in the delivered file (1 = first data row)"),
    Column("source_key", Text),
    Column("reason_code", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("row_data", JSONB, comment="The row as delivered, personal identifiers masked"),
    Index(None, "run_id", "source"),
    schema="etl",
    comment="Rows that were not loaded, each with its reason",
)

etl_watermarks = Table(
    "watermarks",
    metadata,
    Column("pipeline", Text, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("value", Text, nullable=False, comment="Last file fingerprint or timestamp seen"),
    Column("run_id", BigInteger, ForeignKey("etl.runs.id", ondelete="SET NULL")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="etl",
    comment="Where each incremental source left off",
)

layer_versions = Table(
    "layer_versions",
    metadata,
    Column("layer", Text, primary_key=True),
    Column("version", BigInteger, nullable=False, server_default=text("1")),
    Column("run_id", BigInteger, ForeignKey("etl.runs.id", ondelete="SET NULL")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    check("version >= 1", "version", "layer version starts at 1 and only grows"),
    schema="meta",
    comment="Data version per layer: tile caches key on it, so a load is never served stale",
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index(None, "at"),
    schema="meta",
    comment="Append-only: a trigger refuses UPDATE and DELETE (security logs are kept >= 6 months)",
)

LOCATED_TABLES = (standard_addresses, buildings, people, organisations, incidents, devices)
"""Tables whose rows carry a point, a grid code and an H3 cell."""


def constraint_messages() -> dict[str, str]:
    """Constraint name -> the sentence a user sees when the database refuses a row."""
    messages: dict[str, str] = {}
    for table in metadata.tables.values():
        for constraint in table.constraints:
            message = constraint.info.get("message")
            if message and isinstance(constraint.name, str):
                messages[constraint.name] = message
    return messages


# -- ETL geocoding review (issue 4) ----------------------------------------------------------

REVIEW_STATUSES = ("open", "resolved", "dismissed")

geocode_review = Table(
    "geocode_review",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("source", Text, nullable=False, comment="Pipeline source name"),
    Column("source_key", Text, nullable=False, comment="The row's key in that source"),
    Column("entity", Text, nullable=False, comment="Target table of the row"),
    Column("run_id", BigInteger, ForeignKey("etl.runs.id", ondelete="SET NULL")),
    Column("address", Text, nullable=False, comment="Address as delivered"),
    Column("level", Text, comment="Level of the best candidate"),
    Column("score", Double, comment="Score of the best candidate (below the threshold)"),
    Column(
        "candidates",
        JSONB,
        nullable=False,
        server_default=text("'[]'::jsonb"),
        comment="Top candidates as [address, score] pairs",
    ),
    Column("status", Text, nullable=False, server_default=text("'open'")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("source", "source_key", name="uq_geocode_review_source_key"),
    check(
        _in("status", REVIEW_STATUSES),
        "status",
        "review status must be one of " + ", ".join(REVIEW_STATUSES),
    ),
    check(
        "score IS NULL OR score BETWEEN 0 AND 1",
        "score",
        "review score must be between 0 and 1",
    ),
    Index(None, "status"),
    schema="restricted",  # delivered addresses of residents are personal data
    comment="Addresses the matcher could not accept: the geocoding review queue, top candidates",
)


# -- H3 cube: pre-aggregated counts for heatmaps and statistics (issues 4 and 6) ------------

CUBE_RESOLUTIONS = tuple(range(5, 12))
"""H3 resolutions kept in the cubes: web zooms ~6-19 map onto these (analytics.raster)."""
CITY_TIME_ZONE = "Asia/Shanghai"
"""Days in the cube are city-local days (China has one time zone)."""

h3_incident_cube = Table(
    "h3_incident_cube",
    metadata,
    Column("res", SmallInteger, primary_key=True),
    Column("cell", BigInteger, primary_key=True),
    Column("day", Date, primary_key=True, comment="City-local day of reported_at"),
    Column("category", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("n", Integer, nullable=False),
    check(
        "res BETWEEN 5 AND 11 AND ((cell >> 52) & 15) = res",
        "res",
        "h3_incident_cube.cell must be an H3 cell of resolution res (5-11)",
    ),
    check("n > 0", "n", "cube counts are positive (absent means zero)"),
    Index(None, "day"),
    comment="Incidents per H3 cell x day x category x channel at resolutions 5-11",
)

h3_layer_cube = Table(
    "h3_layer_cube",
    metadata,
    Column("layer", Text, primary_key=True),
    Column("res", SmallInteger, primary_key=True),
    Column("cell", BigInteger, primary_key=True),
    Column("category", Text, primary_key=True, comment="use_type / kind / residence type"),
    Column("n", Integer, nullable=False),
    check(
        "res BETWEEN 5 AND 11 AND ((cell >> 52) & 15) = res",
        "res",
        "h3_layer_cube.cell must be an H3 cell of resolution res (5-11)",
    ),
    check("n > 0", "n", "cube counts are positive (absent means zero)"),
    comment="People, organisations, buildings, devices per H3 cell x category (snapshots)",
)

cube_dirty = Table(
    "cube_dirty",
    metadata,
    Column("layer", Text, primary_key=True),
    Column("day", Date, primary_key=True, comment="-infinity: the whole layer"),
    schema="meta",
    comment="What triggers marked for the next refresh_h3_cubes(): incident days, whole layers",
)

warnings = Table(
    "warnings",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("as_of", Date, nullable=False, comment="Last day of the tested window (local)"),
    Column("level", Text, nullable=False, comment="cell (H3) or grid"),
    Column("unit", Text, nullable=False, comment="H3 cell as hex string, or 15-digit grid code"),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("baseline_start", Date, nullable=False),
    Column("baseline_end", Date, nullable=False),
    Column("observed", Integer, nullable=False, comment="Incidents in the window"),
    Column("baseline", Integer, nullable=False, comment="Incidents in the baseline period"),
    Column("expected", Double, nullable=False, comment="Window count the baseline predicts"),
    Column("ratio", Double, comment="observed / expected"),
    Column("p_value", Double, nullable=False, comment="One-sided, weekly-rhythm count model"),
    Column("q_value", Double, comment="Benjamini-Hochberg adjusted"),
    Column("dispersion", Double, nullable=False),
    Column("scanned_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("geom", _geometry("MULTIPOLYGON")),
    check("level IN ('cell', 'grid')", "level", "warnings.level must be cell or grid"),
    UniqueConstraint("as_of", "level", "unit"),
    comment="Early warnings written by `geoplatform warnings scan` (the nightly run)",
)
