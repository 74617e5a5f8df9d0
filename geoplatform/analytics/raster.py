"""Low-level rasters of counts: binning, H3 cells to pixels, kernel density, web tiles.

Arrays in, arrays out (rio-tiler's split): `geoplatform.analytics.heatmap.Heatmap` wraps the
results and renders them. A raster is described by `bounds` (left, bottom, right, top) in its
CRS and a (height, width) shape; row 0 is the top. Pixels are half-open, [left, right) ×
(bottom, top], so a point on a shared tile edge is counted by exactly one tile.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Final

import h3
import morecantile
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Geod, Transformer
from rasterio import features
from rasterio.transform import from_bounds
from scipy import ndimage

from geoplatform.analytics.hexagons import (
    cell_centroids,
    cells_to_geodataframe,
    child_points,
    single_resolution,
)
from geoplatform.errors import GeoPlatformError
from geoplatform.spatial.h3cells import MAX_RESOLUTION

__all__ = [
    "EARTH_RADIUS_M",
    "MAX_HEATMAP_RESOLUTION",
    "Bounds",
    "InvalidRaster",
    "bin_points",
    "cells_to_counts_raster",
    "h3_resolution_for_zoom",
    "hexagon_values",
    "kernel_density",
    "lonlat_to",
    "pixel_size_m",
    "tile_bounds",
]

Bounds = tuple[float, float, float, float]
FloatArray = NDArray[np.float64]

EARTH_RADIUS_M: Final = 6378137.0
#: Incidents carry H3 res 11 (schema.H3_RESOLUTION): no finer heatmap exists.
MAX_HEATMAP_RESOLUTION: Final = 11
MAX_PIXELS: Final = 100_000_000
_GEOD: Final = Geod(ellps="WGS84")


class InvalidRaster(GeoPlatformError, ValueError):
    """Bad raster request: empty or inverted bounds, a size out of range, a tile off the grid."""

    http_status = 400
    exit_code = 65


def _check_grid(bounds: Bounds, width: int, height: int) -> None:
    left, bottom, right, top = bounds
    if not all(math.isfinite(v) for v in bounds) or right <= left or top <= bottom:
        raise InvalidRaster(f"bounds must be finite with left < right, bottom < top: {bounds}")
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise InvalidRaster(f"raster size must be 1..{MAX_PIXELS} pixels, got {width}×{height}")


@cache
def _transformer(crs: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", CRS.from_user_input(crs), always_xy=True)


def lonlat_to(crs: str, lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Project lon/lat (EPSG:4326) into `crs` (identity for EPSG:4326 itself)."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if CRS.from_user_input(crs) == CRS.from_epsg(4326):
        return lon_a, lat_a
    x, y = _transformer(crs).transform(lon_a, lat_a)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def bin_points(
    x: ArrayLike,
    y: ArrayLike,
    bounds: Bounds,
    width: int,
    height: int,
    weights: ArrayLike | None = None,
) -> FloatArray:
    """Sum of `weights` (1 each by default) per pixel; points outside `bounds` are dropped."""
    _check_grid(bounds, width, height)
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    w = np.ones(xa.shape) if weights is None else np.asarray(weights, dtype=np.float64)
    left, bottom, right, top = bounds
    col = np.floor((xa - left) / ((right - left) / width))
    row = np.floor((top - ya) / ((top - bottom) / height))
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height) & np.isfinite(w)
    flat = row[inside].astype(np.int64) * width + col[inside].astype(np.int64)
    out = np.bincount(flat, weights=w[inside], minlength=width * height).astype(np.float64)
    return out.reshape(height, width)


def pixel_size_m(bounds: Bounds, width: int, height: int, crs: str) -> tuple[float, float]:
    """Ground size (x, y) in metres of a pixel at the centre of the raster (geodesic).

    Good over a city: Web Mercator's scale changes by well under 1% across 50 km at 40°N.
    """
    _check_grid(bounds, width, height)
    left, bottom, right, top = bounds
    cx, cy = (left + right) / 2, (top + bottom) / 2
    dx, dy = (right - left) / width, (top - bottom) / height
    inverse = Transformer.from_crs(CRS.from_user_input(crs), "EPSG:4326", always_xy=True)
    lon, lat = inverse.transform(np.array([cx, cx + dx, cx]), np.array([cy, cy, cy + dy]))
    _, _, sx = _GEOD.inv(lon[0], lat[0], lon[1], lat[1])
    _, _, sy = _GEOD.inv(lon[0], lat[0], lon[2], lat[2])
    return float(sx), float(sy)


def kernel_density(
    x: ArrayLike,
    y: ArrayLike,
    bounds: Bounds,
    width: int,
    height: int,
    crs: str,
    bandwidth_m: float,
    weights: ArrayLike | None = None,
    truncate: float = 4.0,
) -> FloatArray:
    """Gaussian kernel density: expected records per pixel, bandwidth = kernel σ in metres.

    The σ is turned into pixels with the ground size of a pixel (so the kernel is round on the
    ground whatever the raster's CRS: metric in effect, anisotropic in degrees for EPSG:4326).
    Points are binned into a grid padded by `truncate`·σ, smoothed, then cropped: every point
    inside `bounds` keeps its whole mass (the kernel is normalised), points just outside still
    spill in. So the raster's total equals the count of points whenever all of them lie at
    least truncate·σ inside; near the edge it is what the bounds really contain.
    """
    if not bandwidth_m > 0:
        raise InvalidRaster(f"bandwidth must be positive metres, got {bandwidth_m}")
    sx_m, sy_m = pixel_size_m(bounds, width, height, crs)
    sigma = (bandwidth_m / sy_m, bandwidth_m / sx_m)  # (rows, cols)
    pad_r, pad_c = (math.ceil(truncate * s) for s in sigma)
    if (width + 2 * pad_c) * (height + 2 * pad_r) > MAX_PIXELS:
        raise InvalidRaster("bandwidth too large for the pixel size: use coarser pixels")
    left, bottom, right, top = bounds
    dx, dy = (right - left) / width, (top - bottom) / height
    padded = (left - pad_c * dx, bottom - pad_r * dy, right + pad_c * dx, top + pad_r * dy)
    grid = bin_points(x, y, padded, width + 2 * pad_c, height + 2 * pad_r, weights)
    smooth = ndimage.gaussian_filter(grid, sigma=sigma, mode="constant", truncate=truncate)
    return np.asarray(smooth[pad_r : pad_r + height, pad_c : pad_c + width], dtype=np.float64)


def _refine_levels(resolution: int, n_cells: int, pixel_m: float, max_points: int) -> int:
    """Child levels so sub-points are ≤ half a pixel apart (capped: 3 levels, `max_points`)."""
    edge = float(h3.average_hexagon_edge_length(resolution, unit="m"))
    levels = 0
    while (
        levels < 3
        and resolution + levels < MAX_RESOLUTION
        and edge / math.sqrt(7) ** levels > pixel_m / 2
        and n_cells * 7 ** (levels + 1) <= max_points
    ):
        levels += 1
    return levels


def cells_to_counts_raster(
    cells: ArrayLike,
    counts: ArrayLike,
    bounds: Bounds,
    width: int,
    height: int,
    crs: str,
    max_points: int = 5_000_000,
) -> FloatArray:
    """Counts per pixel from counts per H3 cell, each cell's count spread over its area.

    Where cells are smaller than pixels a cell's count lands on the pixel of its centre; where
    they are larger it is shared evenly among child centres finer by up to 3 levels. Either way
    a cell's count is kept exactly when its area lies inside `bounds`.
    """
    arr = np.asarray(cells, dtype=np.int64)
    values = np.asarray(counts, dtype=np.float64)
    _check_grid(bounds, width, height)
    if arr.size == 0:
        return np.zeros((height, width))
    sx, sy = pixel_size_m(bounds, width, height, crs)
    levels = _refine_levels(single_resolution(arr), arr.size, min(sx, sy), max_points)
    lon, lat, w = child_points(arr, values, levels)
    x, y = lonlat_to(crs, lon, lat)
    return bin_points(x, y, bounds, width, height, w)


def h3_resolution_for_zoom(
    zoom: float,
    *,
    latitude: float = 0.0,
    tile_size: int = 256,
    min_pixels: float = 8.0,
    max_resolution: int = MAX_HEATMAP_RESOLUTION,
) -> int:
    """The H3 resolution for hexagon heatmaps at a Web Mercator zoom.

    The finest resolution whose average hexagon (√area on the ground) spans at least
    `min_pixels` pixels at `latitude`, capped at `max_resolution` (res 11 is what incidents
    store). Pass the city's central latitude, fixed per deployment, so that every tile of a
    zoom gets the same resolution. At 39.5°N (Wuhai) with 256-px tiles this gives:

    ====== == == == == == == == == == == == == == ==
    zoom    6  7  8  9 10 11 12 13 14 15 16 17 18 19
    res     5  5  6  7  7  8  9 10 10 11 11 11 11 11
    ====== == == == == == == == == == == == == == ==

    Two zooms can share a resolution: each H3 level is √7 ≈ 2.6× finer, a zoom 2×.
    """
    if not -85.06 <= latitude <= 85.06:
        raise InvalidRaster(f"latitude must be within Web Mercator's ±85.06°, got {latitude}")
    metres_per_pixel = (
        2 * math.pi * EARTH_RADIUS_M * math.cos(math.radians(latitude)) / (tile_size * 2**zoom)
    )
    best = 0
    for res in range(0, max_resolution + 1):
        size = math.sqrt(float(h3.average_hexagon_area(res, unit="m^2")))
        if size / metres_per_pixel >= min_pixels:
            best = res
    return best


def tile_bounds(z: int, x: int, y: int) -> Bounds:
    """Bounds of a WebMercatorQuad tile in EPSG:3857 metres (morecantile)."""
    if z < 0 or z > 30 or not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidRaster(f"tile {z}/{x}/{y} is outside WebMercatorQuad")
    tms = morecantile.tms.get("WebMercatorQuad")
    b = tms.xy_bounds(morecantile.Tile(x, y, z))
    return (float(b.left), float(b.bottom), float(b.right), float(b.top))


def _lonlat_to_mercator(coords: FloatArray) -> FloatArray:
    lon, lat = coords[:, 0], np.clip(coords[:, 1], -85.06, 85.06)
    x = EARTH_RADIUS_M * np.radians(lon)
    y = EARTH_RADIUS_M * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
    return np.column_stack([x, y])


def hexagon_values(
    cells: ArrayLike,
    values: ArrayLike,
    bounds: Bounds,
    width: int,
    height: int,
    resolution: int,
) -> FloatArray:
    """Each pixel of a Web Mercator raster takes the value of the H3 cell under its centre.

    Draws the hexagons for the hexagon heatmap PNG: the cells near `bounds` are burnt in as
    Web Mercator polygons (rasterio, pixel-centre rule), so the cost follows the hexagons in
    view, not the pixels. `cells` must be at `resolution`; pixels of cells not given are 0.
    """
    _check_grid(bounds, width, height)
    arr = np.asarray(cells, dtype=np.int64)
    vals = np.asarray(values, dtype=np.float64)
    out = np.zeros((height, width))
    if arr.size == 0:
        return out
    if single_resolution(arr) != resolution:
        raise InvalidRaster(f"cells are not at resolution {resolution}")
    lon, lat = cell_centroids(arr)
    xy = _lonlat_to_mercator(np.column_stack([lon, lat]))
    left, bottom, right, top = bounds
    # A hexagon reaches one edge length from its centre; Mercator stretches by 1/cos(lat).
    edge = float(h3.average_hexagon_edge_length(resolution, unit="m")) * 1.5
    reach = edge / np.cos(np.radians(np.clip(lat, -85.0, 85.0)))
    near = (
        (xy[:, 0] + reach >= left)
        & (xy[:, 0] - reach <= right)
        & (xy[:, 1] + reach >= bottom)
        & (xy[:, 1] - reach <= top)
        & (vals != 0)
    )
    if not near.any():
        return out
    polygons = cells_to_geodataframe(arr[near]).geometry.to_numpy()
    polygons = shapely.transform(polygons, _lonlat_to_mercator)
    burnt = features.rasterize(
        zip(polygons, vals[near], strict=True),
        out_shape=(height, width),
        transform=from_bounds(*bounds, width, height),
        fill=0.0,
        dtype="float64",
    )
    return np.asarray(burnt, dtype=np.float64)
