"""Vector tile routes: `/tiles/{layers}/{z}/{x}/{y}.mvt` and the OGC API Tiles paths.

Thin: parse the path, find the layers, call `geoplatform.tiles.serving`.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.serving import MVT_MEDIA_TYPE, TILE_ROUTE, params_from_query, serve_tile
from geoplatform.tiles.tms import WEB_MERCATOR

_QUERY_DOCS: list[dict[str, Any]] = [
    {"name": "crs", "in": "query", "schema": {"type": "string", "enum": ["wgs84", "gcj02"]},
     "description": "output coordinates: wgs84 (default) or gcj02 (Amap/Tencent base maps)"},
    {"name": "datetime", "in": "query", "schema": {"type": "string"},
     "description": "instant or interval start/end (`..` open) on the layers' time field"},
    {"name": "category", "in": "query", "schema": {"type": "string"},
     "description": "comma list of categories (layers with a category field)"},
    {"name": "filter", "in": "query", "schema": {"type": "string"}, "description": "CQL2 filter"},
    {"name": "filter-lang", "in": "query",
     "schema": {"type": "string", "enum": ["cql2-text", "cql2-json"]}},
]  # fmt: skip
_TMS_DOC = {"name": "tms", "in": "query", "schema": {"type": "string", "default": WEB_MERCATOR}}


def tiles_router(
    context: Callable[[Request], Awaitable[ServerContext]] = get_context,
) -> APIRouter:
    """The tile routes; `context` (how a request finds the server context) is swappable."""
    router = APIRouter(tags=["tiles"])
    responses: dict[int | str, dict[str, Any]] = {
        200: {"content": {MVT_MEDIA_TYPE: {}}},
        204: {"description": "empty tile"},
    }

    @router.get(
        TILE_ROUTE,
        response_class=Response,
        responses=responses,
        summary="One layer or a comma list of layers (a composite one-map tile)",
        openapi_extra={"parameters": [*_QUERY_DOCS, _TMS_DOC]},
    )
    async def tile(request: Request, layers: str, z: int, x: int, y: int) -> Response:
        ctx = await context(request)
        tms = request.query_params.get("tms", WEB_MERCATOR)
        chosen = ctx.catalog.parse_list(layers)
        params = params_from_query(request.query_params)
        return await serve_tile(ctx, request, chosen, tms, z, x, y, params)

    @router.get(
        "/collections/{collection_id}/tiles/{tms}/{z}/{x}/{y}",
        response_class=Response,
        responses=responses,
        summary="OGC API Tiles: a tile of one collection, z/x/y as tipg orders them",
        openapi_extra={"parameters": _QUERY_DOCS},
    )
    async def ogc_tile(
        request: Request, collection_id: str, tms: str, z: int, x: int, y: int
    ) -> Response:
        ctx = await context(request)
        layer = ctx.catalog.get(collection_id)
        params = params_from_query(request.query_params)
        return await serve_tile(ctx, request, [layer], tms, z, x, y, params)

    return router
