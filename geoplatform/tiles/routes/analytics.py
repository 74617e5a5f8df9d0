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
    list_warnings,
    stats_csv,
    stats_records,
)
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.heatmaps import HeatmapQuery, parse_float, parse_int
from geoplatform.tiles.indexes import within_budget
from geoplatform.tiles.params import InvalidParameter
from geoplatform.tiles.statsindex import LEVELS

STATS_LAYERS = ("incidents",)


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


_WINDOW = [
    _q("datetime", {"type": "string"}, "instant or interval start/end (`..` open)"),
    _q("category", {"type": "string"}, "comma list of categories"),
    _q("channel", {"type": "string"}, "comma list of channels"),
]
_BY = _q("by", {"type": "string", "enum": list(LEVELS), "default": "grid"}, "unit level")
_STATS_DOCS = [_BY, *_WINDOW, _q("f", {"type": "string", "enum": ["json", "csv"]}, "format")]
_HOTSPOT_DOCS = [
    _q("layer", {"type": "string", "enum": list(STATS_LAYERS)}, "the point layer tested"),
    _q("res", {"type": "integer", "minimum": 5, "maximum": 10, "default": 9}, "H3 resolution"),
    _q("alpha", {"type": "number", "minimum": 1e-6, "maximum": 0.5, "default": 0.05}, "FDR"),
    *_WINDOW,
]
_WARNING_DOCS = [
    _q("as_of", {"type": "string", "format": "date"}, "the scan date (default: the latest)"),
    _q("level", {"type": "string", "enum": ["cell", "grid"]}, "cells or grids only"),
    _q("limit", {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1000}, "at most"),
]


def _wants_csv(request: Request) -> bool:
    f = request.query_params.get("f")
    if f is not None:
        if f not in ("json", "csv"):
            raise InvalidParameter(f"f: use json or csv, not {f[:40]!r}")
        return f == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


async def _statistics(
    ctx: ServerContext, request: Request
) -> tuple[str, dt.datetime, pd.DataFrame]:
    """`by`, the moment "overdue" is judged at, and the statistics table of a request."""
    q = request.query_params
    by = q.get("by", "grid")
    if by not in LEVELS:
        raise InvalidParameter(f"by: must be one of {', '.join(LEVELS)}; got {by[:40]!r}")
    hq = HeatmapQuery.parse(q.get("datetime"), q.get("category"), q.get("channel"))
    now = dt.datetime.now(dt.UTC)
    versions = await ctx.versions.current()
    index = await ctx.stats.get(versions)
    table = await ctx.cpu.run(
        index.statistics, by, hq.start_at, hq.end_at, hq.categories, hq.channels, now,
        budget_s=ctx.settings.analytics_budget_s,
    )  # fmt: skip
    return by, now, table


def analytics_router(
    context: Callable[[Request], Awaitable[ServerContext]] = get_context,
) -> APIRouter:
    router = APIRouter(tags=["analytics"])

    @router.get(
        "/stats/{layer}",
        summary="Counts and rates per district, street, community, grid",
        openapi_extra={"parameters": _STATS_DOCS},
        responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
    )
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
        openapi_extra={"parameters": [_BY, *_WINDOW]},
        responses={
            200: {"content": {"application/vnd.mapbox-vector-tile": {}}},
            204: {"description": "empty tile"},
        },
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

    @router.get(
        "/analytics/hotspots",
        summary="Getis-Ord Gi* hotspots (FDR) as GeoJSON cells",
        openapi_extra={"parameters": _HOTSPOT_DOCS},
    )
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
        exposure = ",".join(f"{n}={versions.get(n, 0)}" for n in sorted(versions))

        async def compute() -> dict[str, Any]:
            holder = await ctx.cube.get(versions)
            async with ctx.pool.connection() as conn:
                return await hotspot_cells(conn, holder, holder.index, res, hq, alpha, ctx.cpu)

        # one computation per data versions and parameters, shared and cached; past the
        # budget the request answers 503 and the computation still completes into the cache
        key = (layer, exposure, res, alpha, hq.key())
        body = await within_budget(ctx.hotspots.get(key, compute), ctx.settings.analytics_budget_s)
        return JSONResponse(body)

    @router.get(
        "/analytics/warnings",
        summary="Early warnings of the latest scan, as GeoJSON",
        openapi_extra={"parameters": _WARNING_DOCS},
    )
    async def warnings(request: Request) -> JSONResponse:
        ctx = await context(request)
        q = request.query_params
        as_of = None
        if q.get("as_of"):
            try:
                as_of = dt.date.fromisoformat(q["as_of"])
            except ValueError as exc:
                raise InvalidParameter(f"as_of: {q['as_of'][:40]!r} is not a date") from exc
        level = q.get("level")
        if level not in (None, "cell", "grid"):
            raise InvalidParameter(f"level: use cell or grid, not {level[:40]!r}")
        limit = parse_int(q.get("limit"), "limit", 1000, 1, 10_000)
        async with ctx.pool.connection() as conn:
            body = await list_warnings(conn, as_of, level, limit)
        return JSONResponse(body)

    return router
