"""Heatmap routes: hexagon MVT and PNG tiles, GeoTIFF rasters of counts or kernel density.

`/heatmap/{layer}/{z}/{x}/{y}.mvt|.png` and `/heatmap/{layer}.tif`, with `datetime=` (resolved to
city-local days), `category=` and `channel=` (comma lists). Only the incident layer has a cube.
Tiles are summed from the in-process cube index on every request (no bytes cache): the ETag
still lets a client revalidate for free, keyed on the incidents' data version.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response
from numpy.typing import NDArray

from geoplatform.analytics.heatmap import COLORMAPS
from geoplatform.analytics.raster import tile_bounds
from geoplatform.errors import NotFound
from geoplatform.tiles.analytics_data import unit_bounds
from geoplatform.tiles.cache import etag_matches, make_etag
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.heatmaps import (
    HeatmapQuery,
    geotiff,
    hexagon_mvt,
    hexagon_png,
    parse_colormap,
    parse_float,
    parse_int,
    resolution_for_zoom,
)
from geoplatform.tiles.params import InvalidParameter, parse_bbox
from geoplatform.tiles.residents import resident_filters

MVT_MEDIA_TYPE: Final = "application/vnd.mapbox-vector-tile"
HEATMAP_LAYERS: Final = ("incidents",)

_DOCS: list[dict[str, Any]] = [
    {"name": "datetime", "in": "query", "schema": {"type": "string"},
     "description": "instant or interval start/end; resolved to city-local days"},
    {"name": "category", "in": "query", "schema": {"type": "string"},
     "description": "comma list of categories"},
    {"name": "channel", "in": "query", "schema": {"type": "string"},
     "description": "comma list of channels"},
]  # fmt: skip
_COLORMAP_DOC: dict[str, Any] = {
    "name": "colormap", "in": "query",
    "schema": {"type": "string", "enum": list(COLORMAPS), "default": "ylorrd"},
    "description": "colour ramp of PNG tiles",
}  # fmt: skip


async def _setup(
    ctx: ServerContext, request: Request, layer_name: str
) -> tuple[dict[str, int], int, HeatmapQuery]:
    if layer_name not in HEATMAP_LAYERS:
        raise NotFound(f"no heatmap for layer {layer_name!r} (have: {', '.join(HEATMAP_LAYERS)})")
    layer = ctx.catalog.get(layer_name)
    q = request.query_params
    hq = HeatmapQuery.parse(q.get("datetime"), q.get("category"), q.get("channel"))
    versions = await ctx.versions.current()
    return versions, versions.get(layer.version_key, 0), hq


def heatmap_router(
    context: Callable[[Request], Awaitable[ServerContext]] = get_context,
) -> APIRouter:
    router = APIRouter(tags=["heatmaps"])

    @router.get(
        "/heatmap/residents/{z}/{x}/{y}.mvt",
        response_class=Response,
        summary="Residents per H3 cell, k-anonymous (cells of fewer than k people never count)",
        responses={200: {"content": {MVT_MEDIA_TYPE: {}}}, 204: {"description": "empty tile"}},
        openapi_extra={
            "parameters": [
                {"name": "gender", "in": "query", "schema": {"type": "string", "enum": ["M", "F"]}},
                {"name": "residence_type", "in": "query",
                 "schema": {"type": "string", "enum": ["registered", "floating"]}},
            ]
        },
    )  # fmt: skip
    async def residents(request: Request, z: int, x: int, y: int) -> Response:
        ctx = await context(request)
        tile_bounds(z, x, y)
        gender, residence = resident_filters(request.query_params)
        versions = await ctx.versions.current()
        version = versions.get("people", 0)
        atoms = await ctx.residents.get(versions)
        res = min(resolution_for_zoom(z), atoms.base_resolution)
        key = f"residents|{z}/{x}/{y}|{gender}|{residence}|k{atoms.k}|v{version}"
        etag = make_etag(ctx.catalog_digest, key)
        headers = {"ETag": etag, "Cache-Control": "public, no-cache", "X-H3-Resolution": str(res)}
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        counts = atoms.by_cell(res, gender=gender, residence_type=residence)
        cells = counts.index.to_numpy(np.int64)
        body = await hexagon_mvt(
            ctx.pool, "residents", z, x, y, res, cells, counts.to_numpy(np.int64)
        )
        if not body:
            return Response(status_code=204, headers=headers)
        return Response(body, media_type=MVT_MEDIA_TYPE, headers=headers)

    @router.get(
        "/heatmap/{layer}/{z}/{x}/{y}.{fmt}",
        response_class=Response,
        summary="Hexagon heatmap tile: MVT (cell, count, res) or PNG (colour ramp)",
        openapi_extra={"parameters": [*_DOCS, _COLORMAP_DOC]},
    )
    async def tile(request: Request, layer: str, z: int, x: int, y: int, fmt: str) -> Response:
        ctx = await context(request)
        if fmt not in ("mvt", "png"):
            raise InvalidParameter(f"format: use .mvt or .png, not .{fmt}")
        tile_bounds(z, x, y)  # a tile off the grid is a 400 before any work
        versions, version, hq = await _setup(ctx, request, layer)
        colormap = parse_colormap(request.query_params.get("colormap"))
        res = resolution_for_zoom(z)
        key = f"heatmap|{layer}|{z}/{x}/{y}.{fmt}|{hq.key()}|{colormap}|v{version}"
        etag = make_etag(ctx.catalog_digest, key)
        headers = {"ETag": etag, "Cache-Control": "public, no-cache", "X-H3-Resolution": str(res)}
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        holder = await ctx.cube.get(versions)
        index = holder.index

        def count() -> tuple[NDArray[np.int64], NDArray[np.int64]]:
            cells = holder.cells_near(index, res, tile_bounds(z, x, y))
            return cells, hq.counts(index, cells)

        if fmt == "mvt":
            cells, counts = await ctx.cpu.run(count)
            body = await hexagon_mvt(ctx.pool, layer, z, x, y, res, cells, counts)
            if not body:
                return Response(status_code=204, headers=headers)
            return Response(body, media_type=MVT_MEDIA_TYPE, headers=headers)

        def draw() -> bytes:
            cells, counts = count()
            vmax = holder.vmax(index, res, hq)
            return hexagon_png(z, x, y, res, cells, counts, vmax=vmax, colormap=colormap)

        png = await ctx.cpu.run(draw, budget_s=ctx.settings.analytics_budget_s)
        return Response(png, media_type="image/png", headers=headers)

    @router.get(
        "/heatmap/{layer}.tif",
        response_class=Response,
        summary="GeoTIFF (COG, EPSG:3857, float32, nodata -1) of counts or kernel density",
        openapi_extra={
            "parameters": [
                *_DOCS,
                {"name": "bbox", "in": "query", "schema": {"type": "string"}},
                {"name": "area", "in": "query", "schema": {"type": "string"},
                 "description": "admin area or grid code (instead of bbox)"},
                {"name": "res", "in": "query", "schema": {"type": "integer", "default": 10}},
                {"name": "size", "in": "query", "schema": {"type": "integer", "default": 1024}},
                {"name": "bandwidth", "in": "query", "schema": {"type": "number"},
                 "description": "kernel σ in metres: a smoothed density instead of counts"},
            ]
        },
    )  # fmt: skip
    async def raster(request: Request, layer: str) -> Response:
        ctx = await context(request)
        versions, _, hq = await _setup(ctx, request, layer)
        q = request.query_params
        bbox = parse_bbox(q.get("bbox"))
        area = q.get("area")
        if (bbox is None) == (area is None):
            raise InvalidParameter("give exactly one of bbox=minlon,minlat,maxlon,maxlat or area=")
        if area is not None:
            if not (area.isascii() and area.isdigit()) or len(area) not in (6, 9, 12, 15):
                raise InvalidParameter("area: an admin code (6, 9 or 12 digits) or a grid code")
            async with ctx.pool.connection() as conn:
                bbox = await unit_bounds(conn, area.ljust(12, "0") if len(area) < 12 else area)
        if bbox is None:
            raise InvalidParameter("give exactly one of bbox=minlon,minlat,maxlon,maxlat or area=")
        res = parse_int(q.get("res"), "res", 10, 5, 11)
        size = parse_int(q.get("size"), "size", 1024, 16, 4096)
        bandwidth = parse_float(q.get("bandwidth"), "bandwidth", 1.0, 20_000.0)
        holder = await ctx.cube.get(versions)
        started = time.perf_counter()
        body = await ctx.cpu.run(
            geotiff, holder, holder.index, hq, bbox, res, size, bandwidth,
            budget_s=ctx.settings.analytics_budget_s,
        )  # fmt: skip
        headers = {"X-Render-Seconds": f"{time.perf_counter() - started:.3f}"}
        return Response(body, media_type="image/tiff; application=geotiff", headers=headers)

    return router
