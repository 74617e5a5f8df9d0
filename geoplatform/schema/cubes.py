"""H3 cubes: pre-aggregated counts behind heatmaps and statistics (refreshed by triggers
and refresh_h3_cubes(), see migration 0003)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    SmallInteger,
    Table,
    Text,
)

from geoplatform.schema.base import check, metadata

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
