"""Statistics and analytics routes: `/stats/{layer}`, `/analytics/hotspots`, `/analytics/warnings`.

Thin: parse, open a connection, call `geoplatform.tiles.analytics_data` (SQL + the analytics
library), shape the answer. `/stats` answers JSON, or CSV for `f=csv` / `Accept: text/csv`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from geoplatform.analytics.raster import tile_bounds
from geoplatform.errors import NotFound
from geoplatform.tiles.analytics_data import (
    grid_stats_mvt,
    hotspot_cells,
    hotspot_geojson,
    list_warnings,
    stats_csv,
    stats_records,
)
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.heatmaps import HeatmapQuery, current_index, parse_float, parse_int
from geoplatform.tiles.params import InvalidParameter
from geoplatform.tiles.statsindex import current_stats

STATS_LAYERS = ("incidents",)
#: The data the statistics index is built from: a new version of any reloads it.
STATS_VERSIONS = ("incidents", "people", "grids", "admin_areas")


def _wants_csv(request: Request) -> bool:
    f = request.query_params.get("f")
    if f is not None:
        if f not in ("json", "csv"):
            raise InvalidParameter(f"f: use json or csv, not {f!r}")
        return f == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


async def _statistics(
    ctx: ServerContext, request: Request
) -> tuple[str, dt.datetime, pd.DataFrame]:
    """`by`, the moment "overdue" is judged at, and the statistics table of a request."""
    q = request.query_params
    by = q.get("by", "grid")
    hq = HeatmapQuery.parse(q.get("datetime"), q.get("category"), q.get("channel"))
    now = dt.datetime.now(dt.UTC)
    versions = await ctx.versions.current()
    key = ",".join(f"{name}={versions.get(name, 0)}" for name in STATS_VERSIONS)
    index = await current_stats(request, ctx.pool, key)
    return by, now, index.statistics(by, hq.start_at, hq.end_at, hq.categories, hq.channels, now)


def analytics_router(
    context: Callable[[Request], Awaitable[ServerContext]] = get_context,
) -> APIRouter:
    router = APIRouter(tags=["analytics"])

    @router.get("/stats/{layer}", summary="Counts and rates per district, street, community, grid")
    async def stats(request: Request, layer: str) -> Response:
        ctx = await context(request)
        if layer not in STATS_LAYERS:
            raise NotFound(f"no statistics for layer {layer!r} (have: {', '.join(STATS_LAYERS)})")
        csv = _wants_csv(request)
        by, now, table = await _statistics(ctx, request)
        if csv:
            return Response(stats_csv(table), media_type="text/csv; charset=utf-8")
        body: dict[str, Any] = {
            "layer": layer,
            "by": by,
            "as_of": now.isoformat(),
            "units": stats_records(table),
        }
        return JSONResponse(body)

    @router.get(
        "/stats/{layer}/{z}/{x}/{y}.mvt",
        response_class=Response,
        summary="The grid_stats choropleth tile: units of `by` with their statistics",
    )
    async def stats_tile(request: Request, layer: str, z: int, x: int, y: int) -> Response:
        ctx = await context(request)
        if layer not in STATS_LAYERS:
            raise NotFound(f"no statistics for layer {layer!r} (have: {', '.join(STATS_LAYERS)})")
        tile_bounds(z, x, y)
        by, _, table = await _statistics(ctx, request)
        async with ctx.pool.connection() as conn:
            body = await grid_stats_mvt(conn, table, by, z, x, y)
        if not body:
            return Response(status_code=204)
        return Response(body, media_type="application/vnd.mapbox-vector-tile")

    @router.get("/analytics/hotspots", summary="Getis-Ord Gi* hotspots (FDR) as GeoJSON cells")
    async def hotspots(request: Request) -> JSONResponse:
        ctx = await context(request)
        q = request.query_params
        layer = q.get("layer", "incidents")
        if layer not in STATS_LAYERS:
            raise NotFound(f"no hotspots for layer {layer!r} (have: {', '.join(STATS_LAYERS)})")
        res = parse_int(q.get("res"), "res", 9, 5, 10)
        alpha = parse_float(q.get("alpha"), "alpha", 1e-6, 0.5) or 0.05
        hq = HeatmapQuery.parse(q.get("datetime"), q.get("category"), q.get("channel"))
        versions = await ctx.versions.current()
        version = versions.get(ctx.catalog.get(layer).version_key, 0)
        holder, index = await current_index(request, ctx.pool, version)
        async with ctx.pool.connection() as conn:
            result = await hotspot_cells(conn, holder, index, res, hq, alpha)
        return JSONResponse(hotspot_geojson(result))

    @router.get("/analytics/warnings", summary="Early warnings of the latest scan, as GeoJSON")
    async def warnings(request: Request) -> JSONResponse:
        ctx = await context(request)
        q = request.query_params
        as_of = None
        if q.get("as_of"):
            try:
                as_of = dt.date.fromisoformat(q["as_of"])
            except ValueError as exc:
                raise InvalidParameter(f"as_of: {q['as_of']!r} is not a date") from exc
        level = q.get("level")
        if level not in (None, "cell", "grid"):
            raise InvalidParameter(f"level: use cell or grid, not {level!r}")
        limit = parse_int(q.get("limit"), "limit", 1000, 1, 10_000)
        async with ctx.pool.connection() as conn:
            body = await list_warnings(conn, as_of, level, limit)
        return JSONResponse(body)

    return router
