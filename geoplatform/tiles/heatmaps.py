"""Heatmap serving: the in-process cube index per data version, hexagon MVT, PNG and GeoTIFF.

Zoom → H3 resolution: `h3_resolution_for_zoom(z, latitude=settings' city latitude)`, clamped to
the cube's 5..11 (at 39.5°N: z≤8 → 5-6, z9-10 → 7, z11 → 8, z12 → 9, z13-14 → 10, z≥15 → 11;
the table is in `geoplatform.analytics.raster`). Time windows resolve to city-local days (the
cube's grain): a day counts when its local date lies within the local dates of the window's
ends. Tiles are not byte-cached: each is summed from the index (see `analytics.cube`) and
encoded on demand; the index reloads when the incidents' data version changes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

import h3
import numpy as np
import shapely
from numpy.typing import NDArray
from psycopg_pool import AsyncConnectionPool
from pyproj import Transformer

from geoplatform.analytics.cube import CubeIndex
from geoplatform.analytics.heatmap import Heatmap
from geoplatform.analytics.hexagons import cell_centroids, cells_to_geodataframe
from geoplatform.analytics.raster import h3_resolution_for_zoom, tile_bounds
from geoplatform.schema import CITY_TIME_ZONE
from geoplatform.spatial.h3cells import cells_to_strings, parent_cells
from geoplatform.tiles.mvt import query
from geoplatform.tiles.params import InvalidParameter, parse_categories, parse_datetime

__all__ = [
    "CITY_LATITUDE",
    "CubeIndexes",
    "HeatmapQuery",
    "hexagon_mvt",
    "resolution_for_zoom",
]

#: Central latitude of the deployment (Wuhai): fixes one resolution per zoom for every tile.
CITY_LATITUDE: Final = 39.5
MIN_RES: Final = 5
MAX_RES: Final = 11
_ZONE: Final = ZoneInfo(CITY_TIME_ZONE)
_TO_MERCATOR: Final = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
#: 1/cos(latitude) at the city's northern edge bounds Mercator's stretch of a hexagon.
_COS_CITY: Final = math.cos(math.radians(CITY_LATITUDE + 1.0))


def resolution_for_zoom(z: int) -> int:
    """The cube resolution a heatmap tile at zoom `z` draws (the module docstring's table)."""
    res = h3_resolution_for_zoom(z, latitude=CITY_LATITUDE)
    return min(max(res, MIN_RES), MAX_RES)


@dataclass(frozen=True)
class HeatmapQuery:
    """Window (local days), categories and channels of a heatmap, stats or hotspot request."""

    start: dt.date | None = None
    end: dt.date | None = None
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    start_at: dt.datetime | None = None
    end_at: dt.datetime | None = None

    @classmethod
    def parse(
        cls, datetime_text: str | None, category: str | None, channel: str | None
    ) -> HeatmapQuery:
        window = parse_datetime(datetime_text)
        start_at, end_at = window if window else (None, None)
        return cls(
            start=start_at.astimezone(_ZONE).date() if start_at else None,
            end=end_at.astimezone(_ZONE).date() if end_at else None,
            categories=parse_categories(category),
            channels=parse_categories(channel),
            start_at=start_at,
            end_at=end_at,
        )

    def key(self) -> str:
        return f"{self.start}/{self.end}|{','.join(self.categories)}|{','.join(self.channels)}"

    def counts(self, index: CubeIndex, cells: NDArray[np.int64]) -> NDArray[np.int64]:
        return index.counts(
            cells,
            start=self.start,
            end=self.end,
            categories=self.categories,
            channels=self.channels,
        )


class CubeIndexes:
    """The incident cube index for the current data version, loaded once per version."""

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self._pool = pool
        self._lock = asyncio.Lock()
        self._version: int | None = None
        self._index: CubeIndex | None = None
        self._city_cells: dict[int, NDArray[np.int64]] = {}
        self._city_xy: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
        self._vmax: OrderedDict[str, float] = OrderedDict()

    async def get(self, version: int) -> CubeIndex:
        if self._index is not None and self._version == version:
            return self._index
        async with self._lock:
            if self._index is None or self._version != version:
                self._index = await self._load()
                self._version = version
                self._city_cells.clear()
                self._city_xy.clear()
                self._vmax.clear()
        return self._index

    async def _load(self) -> CubeIndex:
        from geoplatform.tiles.statsindex import copy_frame

        async with self._pool.connection() as conn:
            rows = await copy_frame(conn, query("cube_rows"), {"category": str, "channel": str})
        return CubeIndex.from_rows(
            rows["cell"].to_numpy(np.int64),
            rows["day"].to_numpy(np.int32),
            rows["category"].to_numpy(object),
            rows["channel"].to_numpy(object),
            rows["n"].to_numpy(np.int64),
        )

    def city_cells(self, index: CubeIndex, res: int) -> NDArray[np.int64]:
        """Every cell at `res` holding at least one incident (any time, any category)."""
        cells = self._city_cells.get(res)
        if cells is None:
            cells = np.unique(parent_cells(index.cell, res))
            self._city_cells[res] = cells
        return cells

    def cells_near(
        self, index: CubeIndex, res: int, bounds: tuple[float, float, float, float]
    ) -> NDArray[np.int64]:
        """Cells at `res` holding data whose hexagon may reach into `bounds` (EPSG:3857).

        Only cells with data can have a count, so the candidates come from the index (bounded
        by the city, whatever the tile or bbox asked for), not from covering the bounds.
        """
        cells = self.city_cells(index, res)
        xy = self._city_xy.get(res)
        if xy is None:
            lon, lat = cell_centroids(cells)
            xs, ys = _TO_MERCATOR.transform(lon, lat)
            xy = (np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
            self._city_xy[res] = xy
        left, bottom, right, top = bounds
        # a hexagon reaches ~1.5 edges from its centre; Mercator stretches by 1/cos(lat)
        reach = 1.5 * float(h3.average_hexagon_edge_length(res, unit="m")) / _COS_CITY
        x, y = xy
        near = (x >= left - reach) & (x <= right + reach) & (y >= bottom - reach)
        return cells[near & (y <= top + reach)]

    def vmax(self, index: CubeIndex, res: int, hq: HeatmapQuery) -> float:
        """The colour ramp's top for a window: the 99th percentile of the city's non-zero cells,
        the same for every tile of a zoom (a per-tile maximum would recolour neighbours)."""
        key = f"{res}|{hq.key()}"
        value = self._vmax.get(key)
        if value is None:
            counts = hq.counts(index, self.city_cells(index, res))
            positive = counts[counts > 0]
            value = float(np.quantile(positive, 0.99)) if positive.size else 1.0
            self._vmax[key] = value
            while len(self._vmax) > 512:
                self._vmax.popitem(last=False)
        return value


def _mercator_wkb(cells: NDArray[np.int64]) -> list[bytes]:
    frame = cells_to_geodataframe(cells)

    def project(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        xs, ys = _TO_MERCATOR.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([xs, ys])

    polygons = shapely.transform(frame.geometry.to_numpy(), project)
    return [bytes(b) for b in shapely.to_wkb(polygons)]


async def hexagon_mvt(
    pool: AsyncConnectionPool[Any],
    layer: str,
    z: int,
    x: int,
    y: int,
    res: int,
    cells: NDArray[np.int64],
    counts: NDArray[np.int64],
) -> bytes:
    """One MVT layer of the hexagons with a positive count (cell as H3 string, count, res)."""
    keep = counts > 0
    if not keep.any():
        return b""
    chosen = cells[keep]
    left, bottom, right, top = tile_bounds(z, x, y)
    params = {
        "layer": layer,
        "x0": left,
        "y0": bottom,
        "x1": right,
        "y1": top,
        "res": res,
        "wkb": _mercator_wkb(chosen),
        "cells": cells_to_strings(chosen).tolist(),
        "counts": counts[keep].tolist(),
    }
    async with pool.connection() as conn:
        cur = await conn.execute(query("heatmap_mvt"), params)
        row = await cur.fetchone()
    return bytes(row[0]) if row and row[0] else b""


def hexagon_png(
    z: int,
    x: int,
    y: int,
    res: int,
    cells: NDArray[np.int64],
    counts: NDArray[np.int64],
    *,
    vmax: float,
    colormap: str,
) -> bytes:
    """A 256-px PNG tile: each pixel the count of its hexagon, transparent where zero."""
    keep = counts > 0
    heatmap = Heatmap.tile(cells[keep], counts[keep], z, x, y, style="hexagon", resolution=res)
    return heatmap.to_png(colormap, vmax=vmax)


def parse_int(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text)
    except ValueError as exc:
        raise InvalidParameter(f"{name}: {text!r} is not an integer") from exc
    if not low <= value <= high:
        raise InvalidParameter(f"{name}: must be within {low}..{high}, got {value}")
    return value


def parse_float(text: str | None, name: str, low: float, high: float) -> float | None:
    if text is None or text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise InvalidParameter(f"{name}: {text!r} is not a number") from exc
    if not (low <= value <= high):
        raise InvalidParameter(f"{name}: must be within {low}..{high}, got {value}")
    return value


def geotiff(
    holder: CubeIndexes,
    index: CubeIndex,
    hq: HeatmapQuery,
    bbox: tuple[float, float, float, float],
    res: int,
    size: int,
    bandwidth_m: float | None,
) -> bytes:
    """A COG (EPSG:3857) over `bbox` (lon/lat) of counts per pixel, or a kernel density."""
    west, south, east, north = bbox
    xs, ys = _TO_MERCATOR.transform([west, east], [south, north])
    bounds = (float(xs[0]), float(ys[0]), float(xs[1]), float(ys[1]))
    span_x, span_y = bounds[2] - bounds[0], bounds[3] - bounds[1]
    if span_x <= 0 or span_y <= 0:
        raise InvalidParameter("bbox: the area is empty")
    scale = size / max(span_x, span_y)
    width, height = max(1, round(span_x * scale)), max(1, round(span_y * scale))
    cells = holder.cells_near(index, res, bounds)
    counts = hq.counts(index, cells)
    keep = counts > 0
    heatmap = Heatmap.from_cells(
        cells[keep], counts[keep], bounds, width, height, bandwidth_m=bandwidth_m
    )
    return heatmap.to_geotiff()


async def current_index(
    request: Any, pool: AsyncConnectionPool[Any], version: int
) -> tuple[CubeIndexes, CubeIndex]:
    """The app's cube index holder (made on first use, kept on app.state) and its index."""
    state = request.app.state
    holder: CubeIndexes | None = getattr(state, "cube_indexes", None)
    if holder is None:
        # built once for everyone, as the server (service role): never a caller's rows
        holder = CubeIndexes(getattr(getattr(state, "context", None), "pool", pool))
        state.cube_indexes = holder
    return holder, await holder.get(version)
