"""Assign step: grid code and H3 cell for every placed row, over whole batches.

The grids come from the database once per run (and again after a grids source loads); the
point-in-grid rule is `geoplatform.spatial.assign`'s (closed polygons, lowest code wins on a
shared edge), so the same point always lands in the same grid. The admin chain follows from the
grid code (community = its first 12 digits, and so on up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geoplatform.etl.geocode import frame_rejects
from geoplatform.etl.normalise import Batch
from geoplatform.etl.pipeline import CitySpec, SourceSpec
from geoplatform.etl.rejects import Reason
from geoplatform.schema import H3_RESOLUTION
from geoplatform.spatial.assign import PolygonIndex
from geoplatform.spatial.h3cells import H3_NULL, lonlat_to_cells
from geoplatform.spatial.validity import Extent


@dataclass
class Placement:
    """What assigning needs from the database: the grid index and the city's outline."""

    grids: PolygonIndex | None
    extent: Extent
    grid_count: int

    @classmethod
    def from_connection(cls, conn: Connection, city: CitySpec) -> Placement:
        """Load grids and the city polygon (the declared box when no city polygon is loaded)."""
        rows = conn.execute(text("SELECT code, ST_AsBinary(geom) FROM grids ORDER BY code")).all()
        index = None
        if rows:
            codes = np.array([r[0] for r in rows], dtype=object)
            polygons = shapely.from_wkb([bytes(r[1]) for r in rows])
            index = PolygonIndex(polygons, codes)
        city_wkb = conn.execute(
            text(
                "SELECT ST_AsBinary(ST_Union(geom)) FROM admin_areas WHERE level = 'city'"
                " HAVING count(*) > 0"
            )
        ).scalar()
        extent: Extent = city.extent
        if city_wkb is not None:
            polygon = shapely.from_wkb(bytes(city_wkb))
            if isinstance(polygon, shapely.Polygon | shapely.MultiPolygon):
                extent = polygon
        return cls(grids=index, extent=extent, grid_count=len(rows))


def assign_batch(batch: Batch, source: SourceSpec, placement: Placement) -> Batch:
    """Fill `grid_code` and `h3_r11`; a point in no grid is rejected or flagged (source option)."""
    frame = batch.frame
    if not source.target.located:
        return batch
    lon = frame["_lon"].to_numpy(dtype=float)
    lat = frame["_lat"].to_numpy(dtype=float)
    placed = np.isfinite(lon) & np.isfinite(lat)
    codes = np.full(len(frame), None, dtype=object)
    if placement.grids is not None and placed.any():
        codes[placed] = placement.grids.assign(lon[placed], lat[placed])
    cells = lonlat_to_cells(lon, lat, H3_RESOLUTION)
    frame["grid_code"] = codes
    frame["h3_r11"] = pd.array(np.where(cells == H3_NULL, 0, cells), dtype="Int64")
    frame.loc[cells == H3_NULL, "h3_r11"] = pd.NA
    orphan = placed & pd.isna(codes) & (placement.grids is not None)
    if orphan.any() and source.on_no_grid == "reject":
        batch.rejects.extend(
            frame_rejects(frame, orphan, Reason.NO_GRID, "point lies inside the city in no grid")
        )
        frame = frame[~orphan].reset_index(drop=True)
    if source.target.is_gazetteer:
        _chain_from_grid(frame)
    batch.frame = frame
    return batch


def _chain_from_grid(frame: pd.DataFrame) -> None:
    """A gazetteer row that names no community (a door plate with only its road) takes its
    grid's community, street and district: the matcher weighs addresses by that chain."""
    grid = frame["grid_code"]
    for column, keep in (("community_code", 12), ("street_code", 9), ("district_code", 6)):
        if column in frame:
            inferred = grid.str[:keep] + "0" * (12 - keep)
            frame[column] = frame[column].where(frame[column].notna(), inferred)
