"""What each target entity accepts: its fields, their types and rules, and how it is located.

The rules mirror the check constraints in `geoplatform.schema`, so that a row the database would
refuse is rejected here, with a reason, instead of aborting a whole source's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Table

from geoplatform import schema

FieldKind = Literal["text", "int", "float", "time", "code", "list"]
GeometryKind = Literal["point", "polygon", "footprint", "line", "none"]


@dataclass(frozen=True)
class Field:
    """One target field a source can map a column to (or set with a constant)."""

    name: str
    kind: FieldKind = "text"
    required: bool = False
    choices: tuple[str, ...] | None = None
    pattern: str | None = None  # for kind "code": a regular expression the value must match
    low: float | None = None
    high: float | None = None
    default: str | None = None
    restricted: bool = False  # personal: stored only in the restricted schema
    stored: bool = True  # False: used by the ETL (e.g. a reference), not a table column
    resolves: str | None = None  # an admin area's name, resolved into this code field


@dataclass(frozen=True)
class Entity:
    """A target table and how rows reach it."""

    name: str
    table: Table
    geometry: GeometryKind
    fields: tuple[Field, ...]
    located: bool = True  # carries grid_code and h3_r11 (point entities)
    geocodable: bool = False  # rows with an address and no point are geocoded
    require_location: bool = True  # default: a row that cannot be placed is rejected
    rank: int = 50  # load order: reference layers first
    default_key: str | None = None  # target field used as source_key when `key` is not given
    time_order: tuple[str, ...] = ()  # time fields that must not precede the first one
    extra: dict[str, str] = field(default_factory=dict)  # staging-only columns: name -> SQL type

    @property
    def admin_names(self) -> tuple[Field, ...]:
        """Fields that name an admin area (district, street, community) to resolve to a code."""
        return tuple(f for f in self.fields if f.resolves is not None)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def is_gazetteer(self) -> bool:
        """Rows of the standard-address table (addresses, door plates): what the matcher reads."""
        return self.table is schema.standard_addresses

    @property
    def layer(self) -> str:
        """The layer name tile caches key on (meta.layer_versions.layer)."""
        return self.table.name


ADMIN_CODE = r"^[0-9]{12}$"


def _admin_fields(*levels: str) -> tuple[Field, ...]:
    """Code and name fields of the admin chain: a delivery gives either (names are resolved
    against the loaded admin areas, see `geoplatform.etl.admin_names`)."""
    out: list[Field] = []
    for level in levels:
        out.append(Field(f"{level}_code", "code", pattern=ADMIN_CODE))
        out.append(Field(level, stored=False, resolves=f"{level}_code"))
    return tuple(out)


GRID_CODE = r"^[0-9]{15}$"
CREDIT_CODE = r"^[0-9A-HJ-NP-RTUW-Y]{18}$"

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "admin_areas",
            schema.admin_areas,
            "polygon",
            (
                Field("code", "code", required=True, pattern=ADMIN_CODE),
                Field("edition", "int", required=True, low=1980, high=2100),
                Field("level", required=True, choices=schema.ADMIN_LEVELS),
                Field("name", required=True),
                Field("parent_code", "code", pattern=ADMIN_CODE),
            ),
            located=False,
            rank=10,
            default_key="code",
        ),
        Entity(
            "grids",
            schema.grids,
            "polygon",
            (
                Field("code", "code", required=True, pattern=GRID_CODE),
                Field("edition", "int", required=True, low=1980, high=2100),
                Field("name", required=True),
                Field("kind", choices=schema.GRID_KINDS, default="basic"),
                Field("special_type", choices=schema.SPECIAL_GRID_TYPES),
                Field("community_code", "code", pattern=ADMIN_CODE),
            ),
            located=False,
            rank=20,
            default_key="code",
        ),
        Entity(
            "buildings",
            schema.buildings,
            "footprint",
            (
                Field("name"),
                Field("compound"),
                Field("building_number"),
                Field("address"),
                Field("use_type"),
                Field("floors", "int", low=1, high=200),
            ),
            rank=30,
        ),
        Entity(
            "standard_addresses",
            schema.standard_addresses,
            "point",
            (
                Field("address", required=True),
                Field("level", required=True, choices=schema.STANDARD_ADDRESS_LEVELS),
                *_admin_fields("district", "street", "community"),
                Field("road"),
                Field("road_old_names"),
                Field("door_number"),
                Field("compound"),
                Field("building_number"),
                Field("building_key", stored=False),
            ),
            rank=40,
            extra={"building_key": "text"},
        ),
        Entity(
            "door_plates",
            schema.standard_addresses,
            "point",
            (
                Field("road", required=True),
                Field("door_number", required=True),
                Field("door_kind", choices=("gate", "building")),
                Field("address"),
                *_admin_fields("district", "street", "community"),
                Field("road_old_names"),
                Field("compound"),
                Field("building_number"),
                Field("building_key", stored=False),
            ),
            rank=40,
            extra={"building_key": "text"},
        ),
        Entity(
            "roads",
            schema.roads,
            "line",
            (
                Field("name", required=True),
                Field("former_names", "list"),
                Field("kind"),
                Field("door_min", "int", low=0, high=100000),
                Field("door_max", "int", low=0, high=100000),
                *_admin_fields("district", "street"),
            ),
            located=False,
            rank=35,
        ),
        Entity(
            "compound_aliases",
            schema.compound_aliases,
            "none",
            (
                Field("alias", required=True),
                Field("compound", required=True),
                *_admin_fields("district", "street", "community"),
            ),
            located=False,
            rank=45,
        ),
        Entity(
            "landmarks",
            schema.landmarks,
            "point",
            (
                Field("name", required=True),
                Field("aliases", "list"),
                Field("kind"),
                Field("address"),
            ),
            rank=45,
        ),
        Entity(
            "people",
            schema.people,
            "point",
            (
                Field("household_key"),
                Field("gender", choices=schema.GENDERS),
                Field("birth_year", "int", low=1890, high=2100),
                Field("residence_type"),
                Field("id_number", required=True, restricted=True),
                Field("name", restricted=True),
                Field("phone", restricted=True),
                Field("address", restricted=True),
                Field("key_person_category", restricted=True),
            ),
            geocodable=True,
            require_location=False,
            rank=60,
            extra={
                "id_number_hmac": "bytea",
                "id_number_valid": "boolean",
                "name": "text",
                "phone": "text",
                "address": "text",
                "key_person_category": "text",
            },
        ),
        Entity(
            "organisations",
            schema.organisations,
            "point",
            (
                Field("name", required=True),
                Field("credit_code", "code", pattern=CREDIT_CODE),
                Field("kind"),
                Field("industry"),
                Field("address"),
            ),
            geocodable=True,
            require_location=False,
            rank=60,
        ),
        Entity(
            "incidents",
            schema.incidents,
            "point",
            (
                Field("channel", required=True, choices=schema.INCIDENT_CHANNELS),
                Field("category", required=True),
                Field("subcategory"),
                Field("demand_type", choices=schema.DEMAND_TYPES),
                Field("urgency", choices=schema.INCIDENT_URGENCIES, default="normal"),
                Field("status", required=True, choices=schema.INCIDENT_STATUSES),
                Field("address"),
                Field("reported_at", "time", required=True),
                Field("accepted_at", "time"),
                Field("dispatched_at", "time"),
                Field("handled_at", "time"),
                Field("closed_at", "time"),
                Field("due_at", "time"),
            ),
            geocodable=True,
            rank=70,
            time_order=(
                "reported_at",
                "accepted_at",
                "dispatched_at",
                "handled_at",
                "closed_at",
                "due_at",
            ),
        ),
        Entity(
            "devices",
            schema.devices,
            "point",
            (
                Field("kind", required=True, choices=schema.DEVICE_KINDS),
                Field("name"),
                Field("status", choices=schema.DEVICE_STATUSES, default="online"),
                Field("owner_department"),
                Field("installed_at", "time"),
            ),
            rank=70,
        ),
    )
}
"""Every entity a pipeline source can load, by name."""


def stored_columns(entity: Entity) -> list[str]:
    """Columns of the target table that staging carries for this entity (besides provenance)."""
    table_cols = set(entity.table.c.keys())
    cols = [f.name for f in entity.fields if f.stored and not f.restricted and f.name in table_cols]
    derived = {
        "standard_addresses": ["normalized"],
        "door_plates": ["level", "normalized"],
        "people": ["building_id", "geocode_level", "geocode_score"],
        "organisations": ["credit_code_valid", "building_id", "geocode_level", "geocode_score"],
        "incidents": ["geocode_level", "geocode_score"],
    }.get(entity.name, [])
    cols += [c for c in derived if c not in cols]
    cols.append("attributes")
    if entity.geometry == "footprint":
        cols.append("footprint")
    if entity.geometry != "none":
        cols.append("geom")
    if entity.located:
        cols += ["grid_code", "h3_r11"]
    return cols
