"""`Heatmap`: a georeferenced raster of counts or densities that renders itself (PNG, GeoTIFF).

Built from points, from H3 cell counts (the cube), or as one z/x/y Web Mercator tile; the
arrays come from `geoplatform.analytics.raster`. ``to_png`` colours through a ramp and is
transparent where the value is 0; ``to_geotiff`` writes a Cloud-Optimised GeoTIFF carrying the
values themselves (float32, nodata -1: 0 is a real "nothing happened here").
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from numpy.typing import ArrayLike, NDArray
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds

from geoplatform.analytics.hexagons import child_points
from geoplatform.analytics.raster import (
    Bounds,
    InvalidRaster,
    bin_points,
    cells_to_counts_raster,
    h3_resolution_for_zoom,
    hexagon_values,
    kernel_density,
    lonlat_to,
    tile_bounds,
)

__all__ = ["COLORMAPS", "NODATA", "Heatmap", "HeatmapKind", "Scale", "colormap_lut"]

HeatmapKind = Literal["count", "density", "hexagon"]
Scale = Literal["linear", "sqrt", "log"]
NODATA: Final = -1.0
WEB_MERCATOR: Final = "EPSG:3857"

#: Colour ramps as evenly spaced anchors (ColorBrewer YlOrRd; matplotlib's perceptual maps).
COLORMAPS: Final[dict[str, tuple[str, ...]]] = {
    "ylorrd": (
        "#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c",
        "#fc4e2a", "#e31a1c", "#bd0026", "#800026",
    ),
    "viridis": (
        "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
        "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
    ),
    "magma": (
        "#000004", "#180f3d", "#440f76", "#721f81", "#9e2f7f",
        "#cd4071", "#f1605d", "#fd9668", "#feca8d", "#fcfdbf",
    ),
    "inferno": (
        "#000004", "#1b0c41", "#4a0c6b", "#781c6d", "#a52c60",
        "#cf4446", "#ed6925", "#fb9b06", "#f7d13d", "#fcffa4",
    ),
}  # fmt: skip


def colormap_lut(name: str) -> NDArray[np.uint8]:
    """A 256 × 3 RGB lookup table interpolated from the named ramp's anchors."""
    anchors = COLORMAPS.get(name.lower())
    if anchors is None:
        raise InvalidRaster(f"unknown colormap {name!r} (have: {', '.join(sorted(COLORMAPS))})")
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in anchors], dtype=float)
    at = np.linspace(0.0, 1.0, len(anchors))
    t = np.linspace(0.0, 1.0, 256)
    lut = np.stack([np.interp(t, at, rgb[:, c]) for c in range(3)], axis=1)
    return np.round(lut).astype(np.uint8)


def _scaled(
    values: NDArray[np.float64], vmin: float, vmax: float, scale: Scale
) -> NDArray[np.float64]:
    if scale == "linear":
        f = np.asarray(values, dtype=np.float64)
        lo, hi = vmin, vmax
    elif scale == "sqrt":
        f, lo, hi = np.sqrt(np.maximum(values, 0.0)), math.sqrt(max(vmin, 0.0)), math.sqrt(vmax)
    elif scale == "log":
        f, lo, hi = np.log1p(np.maximum(values, 0.0)), math.log1p(max(vmin, 0.0)), math.log1p(vmax)
    else:
        raise InvalidRaster(f"scale must be linear, sqrt or log, got {scale!r}")
    if hi <= lo:
        return np.ones_like(f)
    return np.clip((f - lo) / (hi - lo), 0.0, 1.0)


@dataclass(frozen=True)
class Heatmap:
    """Values on a (height, width) pixel grid covering `bounds` in `crs`, row 0 at the top.

    ``kind``: ``"count"`` (records per pixel: sums to the records inside), ``"density"``
    (kernel-smoothed records per pixel: sums to the same total) or ``"hexagon"`` (each pixel
    shows its hexagon's count: for display, not additive).
    """

    data: NDArray[np.float64] = field(repr=False)
    bounds: Bounds
    crs: str
    kind: HeatmapKind = "count"

    def __post_init__(self) -> None:
        if self.data.ndim != 2:
            raise InvalidRaster("heatmap data must be a 2-D array")

    @property
    def height(self) -> int:
        return int(self.data.shape[0])

    @property
    def width(self) -> int:
        return int(self.data.shape[1])

    @property
    def transform(self) -> Affine:
        """Pixel → CRS affine transform (top-left origin)."""
        transform: Affine = from_bounds(*self.bounds, self.width, self.height)
        return transform

    @property
    def total(self) -> float:
        """Sum over pixels: the record count for "count" and "density" heatmaps."""
        return float(self.data.sum())

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_points(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        bounds: Bounds,
        width: int,
        height: int,
        *,
        crs: str = WEB_MERCATOR,
        weights: ArrayLike | None = None,
        bandwidth_m: float | None = None,
    ) -> Heatmap:
        """Records per pixel from lon/lat points; a kernel density when `bandwidth_m` is given."""
        x, y = lonlat_to(crs, lon, lat)
        if bandwidth_m is None:
            return cls(bin_points(x, y, bounds, width, height, weights), bounds, crs, "count")
        data = kernel_density(x, y, bounds, width, height, crs, bandwidth_m, weights)
        return cls(data, bounds, crs, "density")

    @classmethod
    def from_cells(
        cls,
        cells: ArrayLike,
        counts: ArrayLike,
        bounds: Bounds,
        width: int,
        height: int,
        *,
        crs: str = WEB_MERCATOR,
        bandwidth_m: float | None = None,
    ) -> Heatmap:
        """Records per pixel from counts per H3 cell (the cube); kernel density on request.

        For the density the cells' counts are spread on their children one level finer, then
        smoothed: the bandwidth should exceed the cell size for the result to mean anything.
        """
        if bandwidth_m is None:
            data = cells_to_counts_raster(cells, counts, bounds, width, height, crs)
            return cls(data, bounds, crs, "count")
        lon, lat, w = child_points(np.asarray(cells, dtype=np.int64), np.asarray(counts), 1)
        x, y = lonlat_to(crs, lon, lat)
        data = kernel_density(x, y, bounds, width, height, crs, bandwidth_m, w)
        return cls(data, bounds, crs, "density")

    @classmethod
    def tile(
        cls,
        cells: ArrayLike,
        counts: ArrayLike,
        z: int,
        x: int,
        y: int,
        *,
        tile_size: int = 256,
        style: Literal["hexagon", "count"] = "hexagon",
        resolution: int | None = None,
        latitude: float = 0.0,
    ) -> Heatmap:
        """One WebMercatorQuad tile from cell counts.

        ``style="hexagon"``: each pixel shows the count of the hexagon under it, at
        `resolution` or `h3_resolution_for_zoom(z, latitude=...)` (the `cells` must be at that
        resolution: the cube query aggregates to it). ``style="count"``: records per pixel.
        """
        bounds = tile_bounds(z, x, y)
        if style == "hexagon":
            res = (
                resolution
                if resolution is not None
                else h3_resolution_for_zoom(z, latitude=latitude, tile_size=tile_size)
            )
            data = hexagon_values(cells, counts, bounds, tile_size, tile_size, res)
            return cls(data, bounds, WEB_MERCATOR, "hexagon")
        if style == "count":
            data = cells_to_counts_raster(cells, counts, bounds, tile_size, tile_size, WEB_MERCATOR)
            return cls(data, bounds, WEB_MERCATOR, "count")
        raise InvalidRaster(f"tile style must be hexagon or count, got {style!r}")

    # -- rendering ---------------------------------------------------------------------------
    def rgba(
        self,
        colormap: str = "ylorrd",
        *,
        vmin: float = 0.0,
        vmax: float | None = None,
        scale: Scale = "sqrt",
        opacity: float = 1.0,
    ) -> NDArray[np.uint8]:
        """(4, height, width) RGBA bands: the ramp over [vmin, vmax], alpha 0 where value ≤ 0.

        Pass `vmax` for tiles (e.g. a high quantile of the window's cell counts): a per-tile
        maximum would give neighbouring tiles different colours for the same count.
        """
        if not 0.0 <= opacity <= 1.0:
            raise InvalidRaster(f"opacity must be within [0, 1], got {opacity}")
        values = np.nan_to_num(self.data, nan=0.0)
        top = float(values.max()) if vmax is None else float(vmax)
        t = _scaled(values, vmin, max(top, vmin), scale)
        rgb = colormap_lut(colormap)[np.round(t * 255).astype(np.intp)]
        alpha = np.where(values > 0, round(255 * opacity), 0).astype(np.uint8)
        return np.concatenate([np.moveaxis(rgb, 2, 0), alpha[None]], axis=0)

    def to_png(
        self,
        colormap: str = "ylorrd",
        *,
        vmin: float = 0.0,
        vmax: float | None = None,
        scale: Scale = "sqrt",
        opacity: float = 1.0,
    ) -> bytes:
        """PNG bytes (RGBA, transparent where zero), for map tiles and quick looks."""
        bands = self.rgba(colormap, vmin=vmin, vmax=vmax, scale=scale, opacity=opacity)
        with warnings.catch_warnings(), MemoryFile() as memfile:
            # a tile's georeferencing is its z/x/y; save_png writes one for files
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with memfile.open(**self._png_profile()) as dst:
                dst.write(bands)
            return bytes(memfile.read())

    def save_png(self, path: str | Path, colormap: str = "ylorrd", **kwargs: object) -> Path:
        """Write the PNG to `path` with its georeferencing (GDAL's .aux.xml sidecar)."""
        bands = self.rgba(colormap, **kwargs)  # type: ignore[arg-type]
        target = Path(path)
        profile = {**self._png_profile(), "crs": self.crs, "transform": self.transform}
        with rasterio.open(target, "w", **profile) as dst:
            dst.write(bands)
        return target

    def _png_profile(self) -> dict[str, object]:
        return {
            "driver": "PNG",
            "width": self.width,
            "height": self.height,
            "count": 4,
            "dtype": "uint8",
        }

    def to_geotiff(self, path: str | Path | None = None, *, blocksize: int = 512) -> bytes:
        """Cloud-Optimised GeoTIFF of the values (float32, nodata -1, deflate, overviews).

        Returns the bytes; also writes them to `path` when given.
        """
        profile = {
            "driver": "GTiff",
            "width": self.width,
            "height": self.height,
            "count": 1,
            "dtype": "float32",
            "crs": self.crs,
            "transform": self.transform,
            "nodata": NODATA,
        }
        data = np.where(np.isfinite(self.data), self.data, NODATA).astype(np.float32)
        with MemoryFile() as plain, MemoryFile() as cog:
            with plain.open(**profile) as dst:
                dst.write(data, 1)
                dst.update_tags(kind=self.kind, total=repr(self.total))
            with plain.open() as src:
                rasterio.shutil.copy(
                    src,
                    cog.name,
                    driver="COG",
                    compress="DEFLATE",
                    predictor="YES",
                    blocksize=blocksize,
                    overview_resampling="AVERAGE",
                )
            content = bytes(cog.read())
        if path is not None:
            Path(path).write_bytes(content)
        return content
