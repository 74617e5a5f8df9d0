"""Where the gazetteer's rows come from: a data frame (a delivered 标准地址 file, tests,
benchmarks) or the `standard_addresses` table with names joined from `admin_areas`.

Both yield plain dicts with the table's column names (see `gazetteer.STANDARD_COLUMNS` for the
Chinese headers a delivered file may carry instead), coordinates as WGS84 ``lon``/``lat``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from geoplatform.errors import ConfigurationError
from geoplatform.geocode.gazetteer import STANDARD_COLUMNS


def rows_from_frame(frame: pd.DataFrame, *, crs: str | None = None) -> Iterator[dict[str, Any]]:
    """Rows of a standard-address frame. Projected ``x``/``y`` (X坐标/Y坐标) need ``crs`` (e.g.
    "EPSG:4545") and are converted to WGS84; ``lon``/``lat`` columns are used as they are."""
    frame = frame.rename(columns={k: v for k, v in STANDARD_COLUMNS.items() if k in frame.columns})
    if "lon" not in frame.columns and {"x", "y"} <= set(frame.columns):
        x = pd.to_numeric(frame["x"], errors="coerce").to_numpy(dtype=np.float64)
        y = pd.to_numeric(frame["y"], errors="coerce").to_numpy(dtype=np.float64)
        if crs is None:
            geographic = (
                np.nanmax(np.abs(x), initial=0.0) <= 180 and np.nanmax(np.abs(y), initial=0.0) <= 90
            )
            if not geographic:
                raise ConfigurationError(
                    "standard addresses carry projected X/Y coordinates: say which CRS (crs=)"
                )
            crs = "EPSG:4326"
        from pyproj import Transformer

        lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
        frame = frame.assign(lon=lon, lat=lat)
    frame = frame.astype(object).where(frame.notna(), None)
    yield from frame.to_dict("records")  # type: ignore[misc]


def count_standard_addresses(connection: Connection) -> int:
    """Rows in `standard_addresses` (0 means there is nothing to geocode against)."""
    from geoplatform.schema import standard_addresses

    query = sa.select(sa.func.count()).select_from(standard_addresses)
    return int(connection.execute(query).scalar_one())


def rows_from_connection(connection: Connection) -> Iterator[dict[str, Any]]:
    """Rows of `standard_addresses` with district/street/community/city names and the source
    key of the linked building, in id order."""
    from geoplatform.schema import admin_areas, buildings, standard_addresses

    s = standard_addresses.c
    district = admin_areas.alias("district")
    street = admin_areas.alias("street")
    community = admin_areas.alias("community")
    city = admin_areas.alias("city")
    query = (
        sa.select(
            s.id,
            s.source_key,
            s.address,
            s.level,
            s.district_code,
            s.street_code,
            s.community_code,
            s.road,
            s.road_old_names,
            s.door_number,
            s.door_kind,
            s.compound,
            s.building_number,
            s.building_id,
            buildings.c.source_key.label("building_key"),
            sa.func.ST_X(s.geom).label("lon"),
            sa.func.ST_Y(s.geom).label("lat"),
            district.c.name.label("district"),
            street.c.name.label("street"),
            community.c.name.label("community"),
            city.c.name.label("city"),
        )
        .select_from(standard_addresses)
        .outerjoin(buildings, buildings.c.id == s.building_id)
        .outerjoin(district, district.c.code == s.district_code)
        .outerjoin(street, street.c.code == s.street_code)
        .outerjoin(community, community.c.code == s.community_code)
        .outerjoin(
            city, city.c.code == sa.func.concat(sa.func.substr(s.district_code, 1, 4), "00000000")
        )
        .order_by(s.id)
    )
    for row in connection.execute(query).mappings():
        yield dict(row)


def roads_from_connection(connection: Connection) -> Iterator[dict[str, Any]]:
    """Rows of `roads`: names, former names, door range, district/street and the centre line
    (a shapely geometry in lon/lat), in id order."""
    import shapely

    from geoplatform.schema import roads

    r = roads.c
    query = sa.select(
        r.name,
        r.former_names,
        r.kind,
        r.door_min,
        r.door_max,
        r.district_code,
        r.street_code,
        sa.func.ST_AsBinary(r.geom).label("wkb"),
    ).order_by(r.id)
    for row in connection.execute(query).mappings():
        record = dict(row)
        record["former_names"] = list(record["former_names"] or [])
        record["geometry"] = shapely.from_wkb(bytes(record.pop("wkb")))
        yield record


def aliases_from_connection(connection: Connection) -> Iterator[dict[str, Any]]:
    """Rows of `compound_aliases` (published and learned), in id order."""
    from geoplatform.schema import compound_aliases

    a = compound_aliases.c
    query = sa.select(
        a.alias, a.compound, a.community_code, a.street_code, a.district_code, a.origin
    ).order_by(a.id)
    for row in connection.execute(query).mappings():
        yield dict(row)


def landmarks_from_connection(connection: Connection) -> Iterator[dict[str, Any]]:
    """Rows of `landmarks` with lon/lat and the admin chain of their grid, in id order."""
    from geoplatform.schema import landmarks

    m = landmarks.c
    community = sa.func.substr(m.grid_code, 1, 12)
    query = (
        sa.select(
            m.name,
            m.aliases,
            m.kind,
            sa.func.ST_X(m.geom).label("lon"),
            sa.func.ST_Y(m.geom).label("lat"),
            community.label("community_code"),
            sa.func.concat(sa.func.substr(m.grid_code, 1, 9), "000").label("street_code"),
            sa.func.concat(sa.func.substr(m.grid_code, 1, 6), "000000").label("district_code"),
        )
        .where(m.geom.is_not(None))
        .order_by(m.id)
    )
    for row in connection.execute(query).mappings():
        record = dict(row)
        record["aliases"] = list(record["aliases"] or [])
        if record["community_code"] is None:
            record["street_code"] = record["district_code"] = None
        yield record
