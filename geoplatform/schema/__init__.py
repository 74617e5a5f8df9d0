"""Table definitions: the one source of truth the migrations are checked against.

Three schemas keep apart what must stay apart:
- `public`: what the map shows. No name, ID number or phone of any person.
- `restricted`: identity of people (names, phones, keyed HMAC of ID numbers, key-person tags),
  and the geocoding review queue (delivered addresses). Only roles that may see people get
  privileges on it.
- `etl` and `meta`: bookkeeping: runs, rejects, watermarks; layer data versions, the audit log.

Every check constraint carries, in `info["message"]`, the sentence a user sees when the database
refuses a row (see `geoplatform.db.errors`). The definitions live in one module per seam:
`base` (metadata, vocabularies, column groups), `onemap` (the map's tables), `bookkeeping`
(ETL, versions, audit, warnings) and `cubes` (H3 aggregates); import them from here.
"""

from __future__ import annotations

from geoplatform.schema.base import (
    ADMIN_LEVELS,
    DEMAND_TYPES,
    DEVICE_KINDS,
    DEVICE_STATUSES,
    GENDERS,
    GEOCODE_LEVELS,
    GRID_KINDS,
    H3_RESOLUTION,
    INCIDENT_CHANNELS,
    INCIDENT_STATUSES,
    INCIDENT_URGENCIES,
    NAMING_CONVENTION,
    RUN_STATUSES,
    SPECIAL_GRID_TYPES,
    SRID,
    STANDARD_ADDRESS_LEVELS,
    _geometry,
    _in,
    check,
    constraint_messages,
    metadata,
)
from geoplatform.schema.bookkeeping import (
    REVIEW_STATUSES,
    api_keys,
    audit_checkpoints,
    audit_log,
    etl_rejects,
    etl_runs,
    etl_watermarks,
    geocode_review,
    layer_versions,
    warning_scans,
    warnings,
)
from geoplatform.schema.cubes import (
    CITY_TIME_ZONE,
    CUBE_RESOLUTIONS,
    cube_dirty,
    h3_incident_cube,
    h3_layer_cube,
)
from geoplatform.schema.onemap import (
    LOCATED_TABLES,
    admin_areas,
    buildings,
    compound_aliases,
    devices,
    grids,
    incidents,
    landmarks,
    organisations,
    people,
    person_identities,
    roads,
    standard_addresses,
)

__all__ = [
    "ADMIN_LEVELS",
    "CITY_TIME_ZONE",
    "CUBE_RESOLUTIONS",
    "DEMAND_TYPES",
    "DEVICE_KINDS",
    "DEVICE_STATUSES",
    "GENDERS",
    "GEOCODE_LEVELS",
    "GRID_KINDS",
    "H3_RESOLUTION",
    "INCIDENT_CHANNELS",
    "INCIDENT_STATUSES",
    "INCIDENT_URGENCIES",
    "LOCATED_TABLES",
    "NAMING_CONVENTION",
    "REVIEW_STATUSES",
    "RUN_STATUSES",
    "SPECIAL_GRID_TYPES",
    "SRID",
    "STANDARD_ADDRESS_LEVELS",
    "_geometry",
    "_in",
    "admin_areas",
    "api_keys",
    "audit_checkpoints",
    "audit_log",
    "buildings",
    "check",
    "compound_aliases",
    "constraint_messages",
    "cube_dirty",
    "devices",
    "etl_rejects",
    "etl_runs",
    "etl_watermarks",
    "geocode_review",
    "grids",
    "h3_incident_cube",
    "h3_layer_cube",
    "incidents",
    "landmarks",
    "layer_versions",
    "metadata",
    "organisations",
    "people",
    "person_identities",
    "roads",
    "standard_addresses",
    "warning_scans",
    "warnings",
]
