"""The ground truth's vocabulary and layout.

``truth/`` holds one CSV per entity (UTF-8, full-precision WGS84 floats) plus ``manifest.json``
and ``hotspots.json``. Rows are keyed by ``file`` (relative to the city folder) and ``row``
(1-based data row, header excluded; in an XLSX the sheet row is ``row + 1``).

Reject reasons are a small fixed vocabulary the ETL reuses: a row with a reason should end in the
rejects table with exactly that reason; a row without one should load.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any


class RejectReason(StrEnum):
    """Why a delivered row must be rejected."""

    SWAPPED_LATLON = (
        "swapped_latlon"  # longitude and latitude exchanged (swapping back lands inside)
    )
    NULL_ISLAND = "null_island"  # coordinates 0, 0
    OUTSIDE_CITY = "outside_city"  # a point far outside the city's extent
    BAD_TIME = "bad_time"  # a timestamp that does not parse or does not exist
    MISSING_CATEGORY = "missing_category"  # a required category left empty
    DUPLICATE_KEY = "duplicate_key"  # superseded by a later row with the same source key
    INVALID_ID_NUMBER = "invalid_id_number"  # GB 11643 check character wrong
    INVALID_CREDIT_CODE = "invalid_credit_code"  # GB 32100 check character wrong


REJECT_REASONS: tuple[str, ...] = tuple(reason.value for reason in RejectReason)

TRUTH_PEOPLE_COLUMNS: tuple[str, ...] = (
    "file",
    "row",
    "person_key",
    "reject_reason",
    "resolvable_level",
    "variants",
    "expected_address_id",
    "building_id",
    "community_code",
    "grid_code",
    "lon",
    "lat",
    "household_key",
    "key_person_category",
)

TRUTH_ORGANISATION_COLUMNS: tuple[str, ...] = (
    "file",
    "row",
    "credit_code",
    "reject_reason",
    "has_coordinates",
    "resolvable_level",
    "variants",
    "expected_address_id",
    "building_id",
    "community_code",
    "grid_code",
    "lon",
    "lat",
)

TRUTH_INCIDENT_COLUMNS: tuple[str, ...] = (
    "source",
    "file",
    "row",
    "source_key",
    "reject_reason",
    "has_coordinates",
    "resolvable_level",
    "expected_address_id",
    "building_id",
    "grid_code",
    "lon",
    "lat",
    "category",
    "reported_at",
    "hotspot",
    "variants",
)

TRUTH_DEVICE_COLUMNS: tuple[str, ...] = (
    "file",
    "row",
    "device_id",
    "device_type",
    "grid_code",
    "lon",
    "lat",
)
TRUTH_BUILDING_COLUMNS: tuple[str, ...] = (
    "building_id",
    "kind",
    "use",
    "compound_name",
    "address_id",
    "community_code",
    "grid_code",
    "lon",
    "lat",
)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Stable JSON (sorted keys, UTF-8, trailing newline) so identical cities hash identically."""
    path.write_text(
        json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
