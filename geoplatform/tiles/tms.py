"""Tile matrix sets: WebMercatorQuad, WorldCRS84Quad and a CGCS2000 geographic quad (morecantile).

WorldCRS84Quad is what GDAL's OGCAPI driver prefers for vector tiles (it sizes its per-zoom layers
from the collection's CRS84 extent, right only for a CRS84 matrix set); CGCS2000Quad is the same
grid in EPSG:4490 (lat/lon axis order), as Tianditu's geographic tiling.

`TileBox` carries everything the SQL needs for one tile: the envelope in the tile's own CRS
(for ST_AsMVTGeom) and a lon/lat box with the buffer (for the GiST index on the 4326 column).
With `crs=gcj02` the tile is a tile of the GCJ-02 plane: its lon/lat box is mapped back to WGS84
to select rows, and an affine fit of WGS84 → GCJ-02 over the tile moves the geometries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Literal

import morecantile
import numpy as np
from pyproj import CRS

from geoplatform.errors import GeoPlatformError, NotFound
from geoplatform.spatial.chinese_offsets import gcj02_to_wgs84, wgs84_to_gcj02

WEB_MERCATOR = "WebMercatorQuad"
WORLD_CRS84 = "WorldCRS84Quad"
CGCS2000 = "CGCS2000Quad"
OutputCrs = Literal["wgs84", "gcj02"]


class InvalidTile(GeoPlatformError, ValueError):
    """z/x/y outside the tile matrix set or the layer's zoom range."""

    http_status = 400


@cache
def tile_matrix_sets() -> dict[str, morecantile.TileMatrixSet]:
    """The served TMSs by id (built once; morecantile objects are immutable)."""
    cgcs = morecantile.TileMatrixSet.custom(
        [-180.0, -90.0, 180.0, 90.0],
        CRS.from_epsg(4490),
        matrix_scale=[2, 1],
        id=CGCS2000,
        title="CGCS2000 geographic quad (EPSG:4490), as Tianditu's geographic tiling",
        maxzoom=22,
    )
    return {
        WEB_MERCATOR: morecantile.tms.get(WEB_MERCATOR),
        WORLD_CRS84: morecantile.tms.get(WORLD_CRS84),
        CGCS2000: cgcs,
    }


def get_tms(tms_id: str) -> morecantile.TileMatrixSet:
    tms = tile_matrix_sets().get(tms_id)
    if tms is None:
        raise NotFound(f"no tile matrix set {tms_id!r} (have: {', '.join(tile_matrix_sets())})")
    return tms


@dataclass(frozen=True)
class TileBox:
    """One tile, ready for SQL."""

    tms: str
    z: int
    x: int
    y: int
    srid: int  # CRS of the tile plane: 3857 or 4326 (CGCS2000 at city scale)
    bounds: tuple[float, float, float, float]  # tile envelope in the tile CRS
    lonlat: tuple[float, float, float, float]  # WGS84 box with buffer, for the index
    affine: tuple[float, float, float, float, float, float] | None  # WGS84 → GCJ-02 (a b d e x y)

    @property
    def width(self) -> float:
        return self.bounds[2] - self.bounds[0]


def tile_box(tms_id: str, z: int, x: int, y: int, *, buffer_frac: float, crs: OutputCrs) -> TileBox:
    """Check z/x/y against the matrix set and describe the tile; 400 when out of range."""
    tms = get_tms(tms_id)
    if not 0 <= z <= tms.maxzoom:
        raise InvalidTile(f"zoom {z} is outside 0..{tms.maxzoom} of {tms_id}")
    matrix = tms.matrix(z)
    if not (0 <= x < matrix.matrixWidth and 0 <= y < matrix.matrixHeight):
        raise InvalidTile(
            f"tile {z}/{x}/{y} is outside {tms_id} at zoom {z} "
            f"(x < {matrix.matrixWidth}, y < {matrix.matrixHeight})"
        )
    tile = morecantile.Tile(x, y, z)
    b = tms.xy_bounds(tile)
    bounds = (b.left, b.bottom, b.right, b.top)
    srid = 3857 if tms_id == WEB_MERCATOR else 4326
    dx = (b.right - b.left) * buffer_frac
    dy = (b.top - b.bottom) * buffer_frac
    x0, y0, x1, y1 = b.left - dx, b.bottom - dy, b.right + dx, b.top + dy
    if srid == 3857:  # the buffered Mercator box, exactly, in lon/lat (a rectangle there too)
        x0, y0 = _lnglat(x0, y0)
        x1, y1 = _lnglat(x1, y1)
    lonlat = (max(x0, -180.0), max(y0, -90.0), min(x1, 180.0), min(y1, 90.0))
    affine = None
    if crs == "gcj02":
        lonlat, affine = _gcj_box(lonlat)
    return TileBox(tms_id, z, x, y, srid, bounds, lonlat, affine)


def _lnglat(x: float, y: float) -> tuple[float, float]:
    """EPSG:3857 → lon/lat (spherical Mercator, as PostGIS computes it)."""
    r = 6378137.0
    return math.degrees(x / r), math.degrees(math.atan(math.sinh(y / r)))


def _gcj_box(
    gcj: tuple[float, float, float, float],
) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float, float, float]]:
    """WGS84 box covering a GCJ-02 box, and the least-squares affine WGS84 → GCJ-02 over it.

    The GCJ-02 offset changes slowly: over a z12 tile the fit is within centimetres, over a whole
    city within metres; coarse tiles are drawn at a coarser pixel than that anyway.
    """
    xs = np.linspace(gcj[0], gcj[2], 5)
    ys = np.linspace(gcj[1], gcj[3], 5)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    wx, wy = gcj02_to_wgs84(gx, gy)
    box = (float(wx.min()), float(wy.min()), float(wx.max()), float(wy.max()))
    design = np.column_stack([wx, wy, np.ones_like(wx)])
    (a, b, xoff), *_ = np.linalg.lstsq(design, gx, rcond=None)
    (d, e, yoff), *_ = np.linalg.lstsq(design, gy, rcond=None)
    return box, (float(a), float(b), float(d), float(e), float(xoff), float(yoff))


def to_output_lonlat(
    lon: np.ndarray, lat: np.ndarray, crs: OutputCrs
) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 positions in the output CRS (unchanged for wgs84)."""
    if crs == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    return lon, lat


def parse_crs(value: str | None) -> OutputCrs:
    """The `crs` query parameter: wgs84 (default; also 4326, 4490, CRS84 URIs) or gcj02."""
    if value is None or value == "":
        return "wgs84"
    v = value.strip().lower()
    if v in ("gcj02", "gcj-02"):
        return "gcj02"
    if v in ("wgs84", "4326", "epsg:4326", "4490", "epsg:4490", "crs84") or v.endswith(
        ("/ogc/1.3/crs84", "/epsg/0/4326", "/epsg/0/4490")
    ):
        return "wgs84"
    raise InvalidCrs(f"crs {value!r} is not served: use wgs84 (default) or gcj02")


class InvalidCrs(GeoPlatformError, ValueError):
    http_status = 400
