"""Sanity of delivered geometry: repair polygons, and give every point a verdict with a reason.

Both work on whole columns and report per row, so the ETL can send each bad row to rejects
with its reason instead of failing a batch or silently dropping it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, TypeAlias

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geoplatform.spatial.crs import SourceCRS, to_wgs84

__all__ = [
    "Extent",
    "PointCheck",
    "PointIssue",
    "RepairResult",
    "check_points",
    "inside_extent",
    "repair_polygons",
]

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
Extent: TypeAlias = tuple[float, float, float, float] | shapely.Polygon | shapely.MultiPolygon

_POLYGON: Final = 3
_COLLECTIONS: Final = (4, 5, 6, 7)  # Multi* and GeometryCollection: have parts to flatten


# --- polygons -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepairResult:
    """Repaired polygons (2D MultiPolygon per row) and what happened to each row.

    `repaired`: the row was invalid, or lost non-polygonal parts (lines, points) on the way.
    `emptied`: nothing polygonal is left (null, empty, not a polygon, or collapsed to a line):
    the ETL rejects those rows. Promoting Polygon to MultiPolygon and dropping Z are neither.
    """

    geometries: NDArray[np.object_]
    repaired: BoolArray
    emptied: BoolArray

    @property
    def n_repaired(self) -> int:
        return int(self.repaired.sum())

    @property
    def n_emptied(self) -> int:
        return int(self.emptied.sum())


def repair_polygons(geometries: Any) -> RepairResult:
    """Make delivered polygons valid, keep only their polygonal parts, as 2D MultiPolygons.

    Uses `make_valid(method="structure")` (PostGIS' `ST_MakeValid(g, 'method=structure')`):
    exterior rings are unioned and holes subtracted, which is what a drawn parcel meant;
    the "linework" method would turn overlapping parts into holes.
    """
    geoms = shapely.force_2d(np.asarray(geometries, dtype=object))
    if geoms.ndim != 1:
        raise ValueError("geometries must be a 1-D sequence")
    missing = shapely.is_missing(geoms)
    invalid = ~missing & ~shapely.is_valid(geoms)
    fixed = geoms.copy()
    if invalid.any():
        fixed[invalid] = shapely.make_valid(
            geoms[invalid], method="structure", keep_collapsed=False
        )

    out, dropped = _multipolygons(fixed)
    # Polygons gathered from a collection may overlap: one more structure pass merges them.
    overlapping = ~shapely.is_valid(out)
    if overlapping.any():
        again = shapely.make_valid(out[overlapping], method="structure", keep_collapsed=False)
        out[overlapping] = _multipolygons(again)[0]
    emptied = shapely.is_empty(out)
    return RepairResult(geometries=out, repaired=invalid | (dropped & ~emptied), emptied=emptied)


def _multipolygons(geoms: NDArray[np.object_]) -> tuple[NDArray[np.object_], BoolArray]:
    """Each row's non-empty Polygon parts as one MultiPolygon; and which rows lost other parts."""
    parts, row = shapely.get_parts(geoms, return_index=True)
    while len(parts) and np.isin(shapely.get_type_id(parts), _COLLECTIONS).any():
        parts, sub = shapely.get_parts(parts, return_index=True)
        row = row[sub]
    polygonal = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
    out = np.empty(len(geoms), dtype=object)
    out[:] = [shapely.MultiPolygon()] * len(geoms)
    if polygonal.any():
        shapely.multipolygons(parts[polygonal], indices=row[polygonal], out=out)
    dropped = np.zeros(len(geoms), dtype=bool)
    dropped[row[~polygonal & ~shapely.is_empty(parts)]] = True
    return out, dropped


# --- points ---------------------------------------------------------------------------------


class PointIssue(StrEnum):
    """Reason codes for point rows, as stored in the rejects table."""

    MISSING = "missing_coordinates"
    NULL_ISLAND = "null_island"
    SWAPPED = "swapped_latlon"  # corrected, not rejected
    OUTSIDE = "outside_city"


REJECTING: Final = frozenset({PointIssue.MISSING, PointIssue.NULL_ISLAND, PointIssue.OUTSIDE})


@dataclass(frozen=True, slots=True)
class PointCheck:
    """Per-row verdict: WGS84 lon/lat (swaps corrected) and a reason code, None when clean."""

    lon: FloatArray
    lat: FloatArray
    reason: NDArray[np.object_]

    def _is(self, issues: frozenset[PointIssue]) -> BoolArray:
        return np.isin(self.reason, [i.value for i in issues])

    @property
    def rejected(self) -> BoolArray:
        """Rows to reject: missing, null island or outside the city."""
        return self._is(REJECTING)

    @property
    def swapped(self) -> BoolArray:
        """Rows whose lat/lon were swapped and have been corrected in `lon`/`lat`."""
        return self._is(frozenset({PointIssue.SWAPPED}))

    def counts(self) -> dict[str, int]:
        """Rows per reason code (clean rows not counted)."""
        values, n = np.unique(self.reason[self.reason != None], return_counts=True)  # noqa: E711
        return {str(v): int(c) for v, c in zip(values, n, strict=True)}


def inside_extent(lon: FloatArray, lat: FloatArray, extent: Extent) -> BoolArray:
    """True where (lon, lat) lies in the extent: a (minx, miny, maxx, maxy) box or a polygon.

    Boundaries count as inside; NaN is never inside.
    """
    if isinstance(extent, shapely.Polygon | shapely.MultiPolygon):
        shapely.prepare(extent)
        return np.asarray(shapely.intersects_xy(extent, lon, lat), dtype=bool)
    minx, miny, maxx, maxy = (float(v) for v in extent)
    if not (minx < maxx and miny < maxy):
        raise ValueError(f"extent {extent} is not a (minx, miny, maxx, maxy) box")
    return np.asarray((lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy), dtype=bool)


def check_points(
    x: ArrayLike,
    y: ArrayLike,
    extent: Extent,
    *,
    crs: str | int | SourceCRS = "EPSG:4326",
) -> PointCheck:
    """Check source points (in `crs`) against the city `extent` (lon/lat, WGS84).

    Missing and (0, 0) are judged on the source values, before any transform; a point outside
    the city whose swapped source pair (y, x) transforms into it is corrected and flagged
    `swapped_latlon`, which also catches swapped GCJ-02/BD-09 pairs and easting/northing.
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ValueError(f"x and y must be 1-D arrays of one length: {xa.shape}, {ya.shape}")
    reason = np.full(len(xa), None, dtype=object)

    missing = ~(np.isfinite(xa) & np.isfinite(ya))
    null_island = ~missing & (xa == 0.0) & (ya == 0.0)
    reason[missing] = PointIssue.MISSING.value
    reason[null_island] = PointIssue.NULL_ISLAND.value

    lon, lat = to_wgs84(xa, ya, crs)
    candidates = np.flatnonzero(~missing & ~null_island & ~inside_extent(lon, lat, extent))
    if len(candidates):
        slon, slat = to_wgs84(ya[candidates], xa[candidates], crs)
        fixed = inside_extent(slon, slat, extent)
        swapped = candidates[fixed]
        lon[swapped], lat[swapped] = slon[fixed], slat[fixed]
        reason[swapped] = PointIssue.SWAPPED.value
        reason[candidates[~fixed]] = PointIssue.OUTSIDE.value
    return PointCheck(lon=lon, lat=lat, reason=reason)
