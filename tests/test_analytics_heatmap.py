"""Heatmap rasters: counts, kernel density, tiles; PNG and COG carry CRS, transform and nodata."""

from __future__ import annotations

from pathlib import Path

import h3
import morecantile
import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds

from geoplatform.analytics.heatmap import NODATA, Heatmap, colormap_lut
from geoplatform.analytics.hexagons import count_by_cell
from geoplatform.analytics.raster import (
    InvalidRaster,
    bin_points,
    h3_resolution_for_zoom,
    lonlat_to,
    tile_bounds,
)
from geoplatform.spatial.h3cells import lonlat_to_cells

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")

BOX = (106.70, 39.55, 106.95, 39.75)  # lon/lat


@pytest.fixture(scope="module")
def points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    lon = np.concatenate([rng.normal(106.82, 0.02, 8000), rng.uniform(106.72, 106.93, 2000)])
    lat = np.concatenate([rng.normal(39.65, 0.015, 8000), rng.uniform(39.57, 39.73, 2000)])
    return lon, lat


def _mercator_box() -> tuple[float, float, float, float]:
    x, y = lonlat_to("EPSG:3857", [BOX[0], BOX[2]], [BOX[1], BOX[3]])
    return (float(x[0]), float(y[0]), float(x[1]), float(y[1]))


def test_binning_is_half_open_so_tiles_never_double_count() -> None:
    x = np.array([0.0, 1.0, 2.0, 0.5, 1.999])
    y = np.array([0.0, 1.0, 2.0, 1.5, 0.001])
    left = bin_points(x, y, (0.0, 0.0, 1.0, 2.0), 2, 2)
    right = bin_points(x, y, (1.0, 0.0, 2.0, 2.0), 2, 2)
    # Pixels are [left, right) x (bottom, top]: (2, 2) lies on the right edge and (0, 0) on the
    # bottom edge, so both belong to the neighbouring tiles; (1, 1) to the right tile only.
    assert left.sum() + right.sum() == 3
    assert right[1, 0] == 1  # (1, 1): row counted from the top, half-open at the bottom
    assert left[0, 1] == 1  # (0.5, 1.5)


@pytest.mark.parametrize("crs", ["EPSG:3857", "EPSG:4326", "EPSG:4545"])
def test_geotiff_carries_crs_transform_nodata_and_the_count(
    points: tuple[np.ndarray, np.ndarray], crs: str
) -> None:
    lon, lat = points
    if crs == "EPSG:4326":
        bounds = BOX
    else:
        x, y = lonlat_to(crs, [BOX[0], BOX[2]], [BOX[1], BOX[3]])
        bounds = (float(x[0]), float(y[0]), float(x[1]), float(y[1]))
    heatmap = Heatmap.from_points(lon, lat, bounds, 300, 240, crs=crs)
    assert heatmap.total == lon.size  # every point is inside the box
    content = heatmap.to_geotiff()
    with MemoryFile(content) as memfile, memfile.open() as src:
        assert src.crs == rasterio.crs.CRS.from_user_input(crs)
        assert src.transform.almost_equals(from_bounds(*bounds, 300, 240))
        assert src.nodata == NODATA
        assert src.profile["tiled"]
        assert src.profile["blockxsize"] == 512
        assert src.profile["compress"] == "deflate"
        band = src.read(1)
        assert band.sum() == pytest.approx(lon.size)
        assert (band >= 0).all()
        assert src.tags()["kind"] == "count"


def test_geotiff_is_cloud_optimised(points: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    lon, lat = points
    path = tmp_path / "density.tif"
    Heatmap.from_points(lon, lat, _mercator_box(), 2048, 2048).to_geotiff(path)
    with rasterio.open(path) as src:
        assert src.overviews(1)  # a COG of this size has overviews
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


def test_png_is_transparent_where_zero_and_georeferenced_when_saved(
    points: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    lon, lat = points
    bounds = _mercator_box()
    heatmap = Heatmap.from_points(lon, lat, bounds, 256, 200)
    with MemoryFile(heatmap.to_png()) as memfile, memfile.open() as src:
        assert src.driver == "PNG"
        assert src.count == 4
        rgba = src.read()
    assert ((rgba[3] == 0) == (heatmap.data == 0)).all()
    assert (rgba[3][heatmap.data > 0] == 255).all()
    hottest = np.unravel_index(np.argmax(heatmap.data), heatmap.data.shape)
    assert tuple(rgba[:3, hottest[0], hottest[1]]) == tuple(colormap_lut("ylorrd")[-1])
    path = heatmap.save_png(tmp_path / "heat.png", vmax=20)
    with rasterio.open(path) as src:
        assert src.crs == rasterio.crs.CRS.from_epsg(3857)
        assert src.transform.almost_equals(heatmap.transform)
        # PNG carries no nodata value: the alpha band is its mask, zero where nothing happened
        assert src.nodata is None
        assert ((src.read_masks(1) == 0) == (heatmap.data == 0)).all()


def test_kernel_density_preserves_the_total(points: tuple[np.ndarray, np.ndarray]) -> None:
    lon, lat = points
    for crs in ("EPSG:3857", "EPSG:4326"):
        if crs == "EPSG:4326":
            bounds: tuple[float, float, float, float] = (106.6, 39.45, 107.05, 39.85)
        else:
            x, y = lonlat_to(crs, [106.6, 107.05], [39.45, 39.85])
            bounds = (float(x[0]), float(y[0]), float(x[1]), float(y[1]))
        density = Heatmap.from_points(lon, lat, bounds, 400, 360, crs=crs, bandwidth_m=400)
        assert density.kind == "density"
        assert density.total == pytest.approx(lon.size, rel=1e-9)
        counts = Heatmap.from_points(lon, lat, bounds, 400, 360, crs=crs)
        assert density.data.max() < counts.data.max()  # it smooths


def test_kernel_bandwidth_is_in_metres_whatever_the_crs() -> None:
    """One point: the kernel's spread on the ground is the bandwidth, in degrees and in 3857."""
    lon, lat = np.array([106.8]), np.array([39.6])
    spreads = []
    for crs in ("EPSG:3857", "EPSG:4326"):
        x, y = lonlat_to(crs, [106.78, 106.82], [39.585, 39.615])
        bounds = (float(x[0]), float(y[0]), float(x[1]), float(y[1]))
        heatmap = Heatmap.from_points(lon, lat, bounds, 400, 400, crs=crs, bandwidth_m=300)
        rows, cols = np.indices(heatmap.data.shape)
        t = heatmap.transform
        px, py = t @ (cols + 0.5, rows + 0.5)
        back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        plon, plat = back.transform(px, py)
        w = heatmap.data / heatmap.total
        dx = (plon - 106.8) * 111_320 * np.cos(np.radians(39.6))
        dy = (plat - 39.6) * 110_990
        spreads.append((np.sqrt((w * dx**2).sum()), np.sqrt((w * dy**2).sum())))
    for sx, sy in spreads:
        assert sx == pytest.approx(300, rel=0.05)
        assert sy == pytest.approx(300, rel=0.05)


def test_counts_from_cells_match_the_rows(points: tuple[np.ndarray, np.ndarray]) -> None:
    lon, lat = points
    for resolution in (7, 9, 11):
        cells = count_by_cell(lon, lat, resolution)
        for crs, bounds in (("EPSG:4326", (106.6, 39.45, 107.05, 39.85)),):
            heatmap = Heatmap.from_cells(
                cells.index.to_numpy(), cells.to_numpy(), bounds, 300, 260, crs=crs
            )
            assert heatmap.total == pytest.approx(lon.size)
    # Coarse cells on fine pixels are spread over their area, not dumped on one pixel
    coarse = count_by_cell(lon, lat, 7)
    heatmap = Heatmap.from_cells(
        coarse.index.to_numpy(), coarse.to_numpy(), (106.6, 39.45, 107.05, 39.85), 600, 520,
        crs="EPSG:4326",
    )  # fmt: skip
    assert (heatmap.data > 0).sum() > 20 * coarse.size


def test_zoom_to_resolution_mapping_is_the_documented_table() -> None:
    table = {6: 5, 7: 5, 8: 6, 9: 7, 10: 7, 11: 8, 12: 9, 13: 10, 14: 10, 15: 11, 19: 11}
    for zoom, res in table.items():
        assert h3_resolution_for_zoom(zoom, latitude=39.5) == res
    resolutions = [h3_resolution_for_zoom(z, latitude=39.5) for z in range(0, 23)]
    assert resolutions == sorted(resolutions)  # never coarser when zooming in
    assert max(resolutions) == 11
    # Hexagons are at least min_pixels across at the chosen resolution
    mpp = 2 * np.pi * 6378137 * np.cos(np.radians(39.5)) / (256 * 2**12)
    assert np.sqrt(h3.average_hexagon_area(9, unit="m^2")) / mpp >= 8


def test_hexagon_tile_shows_each_hexagons_count(points: tuple[np.ndarray, np.ndarray]) -> None:
    lon, lat = points
    tms = morecantile.tms.get("WebMercatorQuad")
    tile = tms.tile(106.82, 39.65, 12)
    resolution = h3_resolution_for_zoom(12, latitude=39.5)
    cells = count_by_cell(lon, lat, resolution)
    heatmap = Heatmap.tile(
        cells.index.to_numpy(), cells.to_numpy(), tile.z, tile.x, tile.y, latitude=39.5
    )
    assert heatmap.bounds == tile_bounds(tile.z, tile.x, tile.y)
    assert heatmap.kind == "hexagon"
    assert heatmap.data.shape == (256, 256)
    # Reference: look up the cell under each pixel centre
    b = tms.xy_bounds(tile)
    step = (b.right - b.left) / 256
    centres = b.left + (np.arange(256) + 0.5) * step
    gx, gy = np.meshgrid(centres, b.top - (np.arange(256) + 0.5) * step)
    plon, plat = Transformer.from_crs(3857, 4326, always_xy=True).transform(gx, gy)
    pixel_cells = lonlat_to_cells(plon.ravel(), plat.ravel(), resolution)
    lookup = dict(zip(cells.index.tolist(), cells.tolist(), strict=True))
    expected = np.array([lookup.get(c, 0) for c in pixel_cells.tolist()]).reshape(256, 256)
    assert (heatmap.data == expected).mean() > 0.995  # edges: straight lines vs geodesics
    png = heatmap.to_png(vmax=float(cells.max()))
    with MemoryFile(png) as memfile, memfile.open() as src:
        assert ((src.read(4) == 0) == (heatmap.data == 0)).all()


def test_count_tiles_add_up_to_the_rows(points: tuple[np.ndarray, np.ndarray]) -> None:
    """Counts per pixel over all the tiles covering the data equal the rows."""
    lon, lat = points
    cells = count_by_cell(lon, lat, 11)
    tms = morecantile.tms.get("WebMercatorQuad")
    total = 0.0
    for tile in tms.tiles(BOX[0] - 0.05, BOX[1] - 0.05, BOX[2] + 0.05, BOX[3] + 0.05, [11]):
        heatmap = Heatmap.tile(
            cells.index.to_numpy(), cells.to_numpy(), tile.z, tile.x, tile.y, style="count"
        )
        total += heatmap.total
    assert total == pytest.approx(lon.size)


def test_bad_requests_are_refused() -> None:
    with pytest.raises(InvalidRaster):
        tile_bounds(3, 8, 0)
    with pytest.raises(InvalidRaster):
        Heatmap.from_points([1.0], [1.0], (1.0, 1.0, 0.0, 2.0), 10, 10)
    with pytest.raises(InvalidRaster):
        Heatmap.from_points([1.0], [1.0], (0.0, 0.0, 1.0, 1.0), 10, 10, bandwidth_m=-5)
    with pytest.raises(InvalidRaster):
        colormap_lut("rainbow")
