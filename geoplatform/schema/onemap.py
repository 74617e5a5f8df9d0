"""The map's tables: admin areas, grids, standard addresses and the located entities;
identity of people apart in `restricted`."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from geoplatform.schema.base import (
    ADMIN_LEVELS,
    DEMAND_TYPES,
    DEVICE_KINDS,
    DEVICE_STATUSES,
    GENDERS,
    GEOCODE_LEVELS,
    GRID_KINDS,
    INCIDENT_CHANNELS,
    INCIDENT_STATUSES,
    INCIDENT_URGENCIES,
    SPECIAL_GRID_TYPES,
    STANDARD_ADDRESS_LEVELS,
    _attributes,
    _geometry,
    _in,
    _location,
    _natural_key,
    _provenance,
    _valid_geometry,
    check,
    metadata,
)

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
    _attributes(),
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
    _attributes(),
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
    Column("road_old_names", Text, comment="Former names of the road as delivered (曾用名)"),
    Column("door_number", Text),
    Column(
        "door_kind",
        Text,
        comment="A door plate's kind: gate (a compound's entrance) or building (standalone)",
    ),
    Column("compound", Text),
    Column("building_number", Text),
    Column("building_id", BigInteger, ForeignKey("buildings.id", ondelete="SET NULL")),
    *_provenance(),
    _attributes(),
    *_location("standard_addresses"),
    _natural_key("standard_addresses"),
    check(
        _in("level", STANDARD_ADDRESS_LEVELS),
        "level",
        "standard address level must be building, compound, door or road",
    ),
    check(
        "door_kind IS NULL OR door_kind IN ('gate', 'building')",
        "door_kind",
        "a door plate's kind is gate or building",
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
    _attributes(),
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
    _attributes(),
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
    _attributes(),
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
    Column("geocode_score", Double),
    *_provenance(),
    _attributes(),
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
    _attributes(),
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

roads = Table(
    "roads",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False, comment="Current name (街路巷名称)"),
    Column("former_names", ARRAY(Text), comment="Former names people still use (曾用名)"),
    Column("kind", Text, comment="Road class as delivered (主干路, 支路, 巷, 弄...)"),
    Column("door_min", Integer, comment="Lowest door number along the road"),
    Column("door_max", Integer, comment="Highest door number: a number past it does not exist"),
    Column("district_code", String(12), ForeignKey("admin_areas.code")),
    Column("street_code", String(12), ForeignKey("admin_areas.code")),
    Column("geom", _geometry("MULTILINESTRING"), nullable=False),
    *_provenance(),
    _attributes(),
    _natural_key("roads"),
    check(
        "door_min IS NULL OR door_max IS NULL OR door_min <= door_max",
        "door_range",
        "a road's door_min must not exceed its door_max",
    ),
    Index(None, "name"),
    comment="Road centre lines with current and former names and door-number ranges",
)

compound_aliases = Table(
    "compound_aliases",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("alias", Text, nullable=False, comment="Another name of the compound (别名, 俗称)"),
    Column("compound", Text, nullable=False, comment="The compound's name in the address table"),
    Column("district_code", String(12), ForeignKey("admin_areas.code")),
    Column("street_code", String(12), ForeignKey("admin_areas.code")),
    Column("community_code", String(12), ForeignKey("admin_areas.code")),
    Column(
        "origin",
        Text,
        nullable=False,
        server_default=text("'published'"),
        comment="published (a delivered list) or learned (a person resolved a review entry)",
    ),
    *_provenance(),
    _attributes(),
    _natural_key("compound_aliases"),
    check(_in("origin", ("published", "learned")), "origin", "origin is published or learned"),
    check("length(alias) > 0 AND length(compound) > 0", "names", "alias and compound are needed"),
    Index(None, "alias"),
    comment="Compound aliases: a published list, and answers people gave in the review queue",
)

landmarks = Table(
    "landmarks",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("aliases", ARRAY(Text), comment="Colloquial names (一中, 中心医院, 农贸市场)"),
    Column("kind", Text, comment="school, hospital, market, park, government, station..."),
    Column("address", Text),
    *_provenance(),
    _attributes(),
    *_location("landmarks"),
    _natural_key("landmarks"),
    Index(None, "name"),
    comment="Landmarks and points of interest that vague locations name (某中学门口)",
)

LOCATED_TABLES = (
    standard_addresses,
    buildings,
    people,
    organisations,
    incidents,
    devices,
    landmarks,
)
"""Tables whose rows carry a point, a grid code and an H3 cell."""
