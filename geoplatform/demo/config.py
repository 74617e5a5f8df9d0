"""Targets, scale rules and the configurable mess of the demo city.

How counts follow ``scale``:

* The administrative structure is Wuhai's and does not change: 1 city, 3 districts, 20
  streets/towns, 83 communities/villages and 640 grids (25 of them special) at every scale.
* Records scale linearly: residents 560k·s, organisations 30k·s, devices 1,300·s, incidents
  600k·s a year over two years, key persons 2% of residents.
* The building stock scales with √s (the land is Wuhai's and does not grow): below scale 1 the
  buildings are a sparse sample's homes (many rooms empty), above it buildings get taller.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

#: Metric working CRS: CGCS2000 3-degree Gauss-Krüger CM 108°E without zone prefix.
METRIC_CRS = "EPSG:4545"
#: Same projection with the zone number in the false easting (what the boundary GPKG carries).
ZONED_CRS = "EPSG:4524"
ZONE_FALSE_EASTING_SHIFT = 36_000_000.0
GEOGRAPHIC_CRS = "EPSG:4326"
CGCS2000_GEOGRAPHIC_CRS = "EPSG:4490"

#: Wuhai's extent: every generated geometry lies inside it.
EXTENT_LON = (106.6, 107.2)
EXTENT_LAT = (39.2, 39.9)

TIME_ZONE = "Asia/Shanghai"
#: Incidents cover two whole years; the delivery snapshot is taken at the end of the window.
INCIDENT_START = "2024-01-01"
INCIDENT_DAYS = 731
SNAPSHOT_TIME = "2025-12-31T23:59:00"
#: Reference date for ages and "as of" fields.
REFERENCE_DATE = "2025-12-31"
EDITION_YEAR = 2024

DISTRICT_COUNT = 3
STREET_COUNT = 20
COMMUNITY_COUNT = 83
GRID_COUNT = 640

RESIDENTS_PER_SCALE = 560_000
ORGANISATIONS_PER_SCALE = 30_000
DEVICES_PER_SCALE = 1_300
INCIDENTS_PER_YEAR_PER_SCALE = 600_000
KEY_PERSON_SHARE = 0.02

#: Resident ID numbers: share with a wrong check character (rejected) and with a lower-case x
#: check character (valid once upper-cased).
ID_NUMBER_INVALID_SHARE = 0.003
ID_NUMBER_LOWERCASE_X_SHARE = 0.002
CREDIT_CODE_INVALID_SHARE = 0.01
#: Organisations delivered with GCJ-02 coordinates; the rest are address-only.
ORGANISATION_WITH_COORDINATES_SHARE = 0.5
#: Incident rows: hotline rows without coordinates, planted bad rows, repeated source keys.
HOTLINE_ADDRESS_ONLY_SHARE = 0.10
INCIDENT_BAD_ROW_SHARE = 0.03
INCIDENT_DUPLICATE_SHARE = 0.01

#: Rows per XLSX file before a roster rolls over to another part (sheet limit: 1,048,576).
XLSX_MAX_ROWS = 400_000


@dataclass(frozen=True)
class CityTargets:
    """The counts a city of a given scale aims at (see the module docstring for the rules)."""

    scale: float
    districts: int
    streets: int
    communities: int
    grids: int
    residents: int
    organisations: int
    devices: int
    incidents: int
    key_persons: int
    building_factor: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def targets_for_scale(scale: float) -> CityTargets:
    """Targets for ``scale`` (1 = Wuhai's size)."""
    if not (0.0 < scale <= 100.0):
        raise ValueError(f"scale must be in (0, 100], got {scale}")
    residents = max(200, round(RESIDENTS_PER_SCALE * scale))
    return CityTargets(
        scale=scale,
        districts=DISTRICT_COUNT,
        streets=STREET_COUNT,
        communities=COMMUNITY_COUNT,
        grids=GRID_COUNT,
        residents=residents,
        organisations=max(50, round(ORGANISATIONS_PER_SCALE * scale)),
        devices=max(20, round(DEVICES_PER_SCALE * scale)),
        incidents=max(500, round(INCIDENTS_PER_YEAR_PER_SCALE * scale * INCIDENT_DAYS / 365.5)),
        key_persons=round(residents * KEY_PERSON_SHARE),
        building_factor=math.sqrt(scale),
    )


@dataclass(frozen=True)
class AddressVariantShares:
    """Share of resident rows carrying each address variant (fractions of all rows).

    A row can carry several variants. Variants that need something the row lacks (a compound, a
    road with an old name, a standalone building…) are drawn among the rows that have it; if too
    few rows qualify the realised share falls short and the report says so. The first four are
    exclusive and set the level a row is resolvable to (none, community, door, compound); all
    other rows are resolvable to their building.
    """

    nonexistent: float = 0.02
    community_only: float = 0.005
    door_only: float = 0.01
    missing_building: float = 0.02
    missing_compound: float = 0.04
    missing_road: float = 0.15
    wrong_community: float = 0.01
    missing_community: float = 0.30
    missing_street: float = 0.35
    missing_district: float = 0.20
    missing_city: float = 0.40
    short_admin: float = 0.10
    compound_alias: float = 0.05
    typo_compound: float = 0.03
    old_road_name: float = 0.03
    typo_road: float = 0.02
    glued_unit_room: float = 0.06
    glued_door_unit_room: float = 0.03
    building_suffix: float = 0.20
    chinese_numerals: float = 0.06
    fullwidth: float = 0.05
    traditional: float = 0.03
    # the rest of the grammar's variant space (issue 11's failure classes)
    nonexistent_building: float = 0.01
    wrong_district: float = 0.01
    alias_first_two: float = 0.02
    alias_developer: float = 0.02
    alias_xiaoqu: float = 0.02
    typo_road_char: float = 0.01
    punctuation: float = 0.10
    bracket_remark: float = 0.03
    financial_numerals: float = 0.01
    mixed_numerals: float = 0.01
    liang_numeral: float = 0.005

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not (0.0 <= value <= 1.0):
                raise ValueError(f"share {field.name} must be within [0, 1], got {value}")

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def none(cls) -> AddressVariantShares:
        """Every share zero: a perfectly clean roster (useful as a baseline)."""
        return cls(**{field.name: 0.0 for field in fields(cls)})


#: Variant names in assignment order (the order matters for the exclusive ones).
VARIANT_NAMES: tuple[str, ...] = tuple(field.name for field in fields(AddressVariantShares))

#: Labels derived from a row's place or its other variants, not drawn with a share: which kind of
#: non-existent address it is, whether it is a village house addressed by lane or by 组, and
#: whether another member of its household wrote a text that reaches its building.
DERIVED_VARIANTS: tuple[str, ...] = (
    "nonexistent_door",
    "nonexistent_compound",
    "village_lane",
    "village_group",
    "household_partial",
)
LABEL_NAMES: tuple[str, ...] = VARIANT_NAMES + DERIVED_VARIANTS

#: Levels a resident address can be resolved to, most to least precise.
RESOLVABLE_LEVELS: tuple[str, ...] = ("building", "compound", "door", "community", "none")
