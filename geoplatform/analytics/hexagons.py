"""H3 helpers the analytics share: counting, neighbourhoods, centroids, hexagon polygons.

Cells are int64 (the package's one cell type, see `geoplatform.spatial.h3cells`); h3ronpy does
the vectorised work on their unsigned view. Everything here takes arrays and returns arrays or
frames, so the SQL cube (which hands back cell/count rows) and the ETL can feed it directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import h3
import h3ronpy  # type: ignore[import-untyped]
import numpy as np
import pandas as pd
import shapely
from h3ronpy import vector as h3v
from numpy.typing import ArrayLike, NDArray

from geoplatform.spatial.h3cells import (
    H3_NULL,
    InvalidH3,
    cell_resolutions,
    lonlat_to_cells,
    parent_cells,
)

__all__ = [
    "cell_centroids",
    "cells_covering",
    "cells_to_geodataframe",
    "child_points",
    "count_by_cell",
    "neighbour_pairs",
    "single_resolution",
    "spread_to_parents",
]

CellArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def single_resolution(cells: ArrayLike) -> int:
    """The one resolution all `cells` share; raises `InvalidH3` on NULLs or mixed resolutions."""
    arr = np.asarray(cells, dtype=np.int64)
    if arr.size == 0:
        raise InvalidH3("no cells given")
    if np.any(arr == H3_NULL):
        raise InvalidH3("H3_NULL (0) is not a cell")
    res = np.unique(cell_resolutions(arr))
    if res.size != 1:
        raise InvalidH3(f"cells mix resolutions {sorted(res.tolist())}")
    return int(res[0])


def _unsigned(cells: ArrayLike) -> NDArray[np.uint64]:
    return np.ascontiguousarray(cells, dtype=np.int64).view(np.uint64)


def _spread_offsets(spread_m: float, samples: int) -> tuple[FloatArray, FloatArray]:
    """A deterministic round Gaussian cloud of `samples` offsets (metres): a sunflower spiral
    whose radii are the Rayleigh quantiles, so the cloud has standard deviation `spread_m`."""
    k = np.arange(samples) + 0.5
    radius = spread_m * np.sqrt(-2.0 * np.log(1.0 - k / samples))
    angle = k * np.pi * (3.0 - np.sqrt(5.0))
    return radius * np.cos(angle), radius * np.sin(angle)


def count_by_cell(
    lon: ArrayLike,
    lat: ArrayLike,
    resolution: int,
    *,
    weights: ArrayLike | None = None,
    spread_m: float = 0.0,
    samples: int = 64,
) -> pd.Series:
    """Number (or sum of `weights`) of points per H3 cell at `resolution` (index ``cell``).

    Points without a cell (non-finite coordinates) are dropped. This is what the cube's
    ``count(*) ... group by h3_parent(h3_r11, res)`` returns, computed from coordinates.
    With `spread_m` > 0 each point is shared among the cells under a Gaussian cloud of that
    standard deviation: for exposure layers whose records land a little off their anchor
    (the street before a door, a camera's field of view), so a cell edge does not decide all.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    w = np.ones(lon_a.shape) if weights is None else np.asarray(weights, dtype=np.float64)
    if spread_m > 0:
        dx, dy = _spread_offsets(spread_m, samples)
        metres_per_degree = 111_320.0
        lat_a, lon_a = (
            (lat_a[:, None] + dy[None, :] / metres_per_degree).ravel(),
            (
                lon_a[:, None]
                + dx[None, :] / (metres_per_degree * np.cos(np.radians(lat_a[:, None])))
            ).ravel(),
        )
        w = np.repeat(w / samples, samples)
    cells = lonlat_to_cells(lon_a, lat_a, resolution)
    present = cells != H3_NULL
    values, inverse = np.unique(cells[present], return_inverse=True)
    sums = np.bincount(inverse, weights=w[present], minlength=values.size)
    if weights is None and spread_m <= 0:
        data: NDArray[np.generic] = np.round(sums).astype(np.int64)
    else:
        data = sums
    return pd.Series(data, index=pd.Index(values, name="cell", dtype=np.int64), name="count")


def cell_centroids(cells: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Centre (lon, lat) in degrees of each cell, vectorised."""
    arr = np.asarray(cells, dtype=np.int64)
    if arr.size == 0:
        empty = np.empty(0, dtype=np.float64)
        return empty, empty.copy()
    batch = h3v.cells_to_coordinates(_unsigned(arr))
    lat = np.asarray(batch.column("lat"), dtype=np.float64)
    lon = np.asarray(batch.column("lng"), dtype=np.float64)
    return lon, lat


def neighbour_pairs(cells: ArrayLike, k: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Index pairs (i, j), i != j, of cells of `cells` within grid distance `k` of each other.

    Only neighbours present in `cells` count: the study area is exactly the cells given, so
    cells on its edge have fewer neighbours (as with any W built on a finite region).
    """
    arr = np.asarray(cells, dtype=np.int64)
    if k < 1:
        raise ValueError(f"neighbourhood radius k must be >= 1, got {k}")
    per_cell = 1 + 3 * k * (k + 1)
    flat = h3ronpy.grid_disk(_unsigned(arr), k, flatten=True).to_numpy().view(np.int64)
    if flat.size == arr.size * per_cell:
        origin = np.repeat(np.arange(arr.size), per_cell)
    else:  # a pentagon (none over China) shortens its disk: fall back to one call per cell
        rings = [h3.api.basic_int.grid_disk(int(c), k) for c in arr.tolist()]
        origin = np.repeat(np.arange(arr.size), [len(r) for r in rings])
        flat = np.fromiter((c for ring in rings for c in ring), dtype=np.int64)
    order = np.argsort(arr, kind="stable")
    sorted_cells = arr[order]
    pos = np.searchsorted(sorted_cells, flat)
    pos = np.clip(pos, 0, max(arr.size - 1, 0))
    present = sorted_cells[pos] == flat
    i = origin[present]
    j = order[pos[present]]
    keep = i != j
    return i[keep].astype(np.intp), j[keep].astype(np.intp)


def cells_covering(geometry: shapely.Geometry, resolution: int) -> CellArray:
    """Every cell at `resolution` whose centre lies in `geometry` (lon/lat, EPSG:4326), sorted.

    Use it to build a study area (e.g. the city boundary) so that cells with no records are
    present with a zero count: Gi* needs the zeros to know what "background" is.
    """
    polys = shapely.get_parts(geometry)
    found: list[int] = []
    for poly in polys:
        if not isinstance(poly, shapely.Polygon) or poly.is_empty:
            continue
        shape = h3.geo_to_h3shape(shapely.geometry.mapping(poly))
        found.extend(h3.api.basic_int.h3shape_to_cells(shape, resolution))
    return np.unique(np.asarray(found, dtype=np.int64))


def child_points(
    cells: ArrayLike, weights: ArrayLike, levels: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Spread each cell's weight evenly over its children `levels` finer, as centre points.

    Returns (lon, lat, weight). The weights of one cell's points sum to the cell's weight, so
    totals are kept exactly; with ``levels=0`` the points are the cells' own centres. This lets
    a raster finer than the cells show each hexagon's area rather than a dot at its centre.
    """
    arr = np.asarray(cells, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    if arr.shape != w.shape:
        raise ValueError("cells and weights must have one shape")
    if levels <= 0 or arr.size == 0:
        lon, lat = cell_centroids(arr)
        return lon, lat, w.copy()
    target = single_resolution(arr) + levels
    if target > 15:
        raise InvalidH3(f"cannot refine resolution-{target - levels} cells by {levels} levels")
    children = h3ronpy.change_resolution(_unsigned(arr), target).to_numpy().view(np.int64)
    per = 7**levels
    if children.size == arr.size * per:
        child_weight = np.repeat(w / per, per)
    else:  # pentagons have fewer children: count them per parent
        lists = [h3.api.basic_int.cell_to_children(int(c), target) for c in arr.tolist()]
        sizes = np.asarray([len(x) for x in lists])
        children = np.fromiter((c for x in lists for c in x), dtype=np.int64)
        child_weight = np.repeat(w / sizes, sizes)
    lon, lat = cell_centroids(children)
    return lon, lat, child_weight


def cells_to_geodataframe(
    cells: ArrayLike, columns: Mapping[str, Sequence[object] | ArrayLike] | None = None
) -> gpd.GeoDataFrame:
    """Hexagon polygons (EPSG:4326) for `cells`, with a ``cell`` column and any extra columns."""
    arr = np.asarray(cells, dtype=np.int64)
    if arr.size:
        wkb = h3v.cells_to_wkb_polygons(_unsigned(arr)).to_pylist()
        geometry = shapely.from_wkb(np.asarray(wkb, dtype=object))
    else:
        geometry = np.empty(0, dtype=object)
    data: dict[str, object] = {"cell": arr}
    for name, values in (columns or {}).items():
        data[name] = np.asarray(values)
    return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")


def spread_to_parents(
    cells: ArrayLike, weights: ArrayLike, resolution: int, k: int = 1
) -> tuple[CellArray, FloatArray]:
    """Spread each fine cell's weight evenly over its k-disk, then sum by parent at `resolution`.

    Records sit a few tens of metres off what generates them (the street in front of a door, a
    camera's view): at res 11 (~25 m edge) a k=1 disk is such a spread, so a building next to
    a res-9 edge counts a little on both sides, as the exposure of the records it causes does.
    Returns (parent cells sorted, summed weights); the total weight is kept.
    """
    arr = np.asarray(cells, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    per_cell = 1 + 3 * k * (k + 1)
    flat = h3ronpy.grid_disk(_unsigned(arr), k, flatten=True).to_numpy().view(np.int64)
    if flat.size == arr.size * per_cell:
        share = np.repeat(w / per_cell, per_cell)
    else:  # a pentagon shortens its disk
        rings = [h3.api.basic_int.grid_disk(int(c), k) for c in arr.tolist()]
        flat = np.fromiter((c for ring in rings for c in ring), dtype=np.int64)
        share = np.repeat(w / [len(r) for r in rings], [len(r) for r in rings])
    parents, inverse = np.unique(parent_cells(flat, resolution), return_inverse=True)
    return parents, np.bincount(inverse, weights=share).astype(np.float64)
