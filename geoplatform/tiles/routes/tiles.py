"""Vector tile routes: `/tiles/{layers}/{z}/{x}/{y}.mvt` (XYZ, as MapLibre asks) and the OGC API
Tiles paths `.../tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}` (row before column, as
the standard orders them) for a collection and for the one-map dataset.

Thin: parse the path, find the layers, call `geoplatform.tiles.serving` (the key, the cached
answer and rendering, which the cached-tile middleware uses too).
"""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from geoplatform.errors import NotFound
from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.mvt import check_zoom
from geoplatform.tiles.serving import (
    MVT_MEDIA_TYPE,
    TILE_ROUTE,
    TileParams,
    params_from_query,
    serve_tile,
)
from geoplatform.tiles.tilesets import tile_in_matrix
from geoplatform.tiles.tms import WEB_MERCATOR, InvalidTile, get_tms

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
        "/collections/{collection_id}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        response_class=Response,
        responses={**responses, 404: {"description": "outside the tile matrix set or zooms"}},
        summary="OGC API Tiles: a tile of one collection",
        openapi_extra={"parameters": _QUERY_DOCS},
    )
    async def ogc_tile(
        request: Request,
        collection_id: str,
        tileMatrixSetId: str,  # noqa: N803 (the standard's template names)
        tileMatrix: int,  # noqa: N803
        tileRow: int,  # noqa: N803
        tileCol: int,  # noqa: N803
    ) -> Response:
        ctx = await context(request)
        layer = ctx.catalog.get(collection_id)
        params = params_from_query(request.query_params)
        return await _ogc_tile(ctx, request, [layer], tileMatrixSetId, tileMatrix, tileRow,
                               tileCol, params)  # fmt: skip

    @router.get(
        "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        response_class=Response,
        responses={**responses, 404: {"description": "outside the tile matrix set or zooms"}},
        summary="OGC API Tiles: the one-map tile (every public layer) of the dataset",
        openapi_extra={"parameters": _QUERY_DOCS},
    )
    async def dataset_tile(
        request: Request,
        tileMatrixSetId: str,  # noqa: N803
        tileMatrix: int,  # noqa: N803
        tileRow: int,  # noqa: N803
        tileCol: int,  # noqa: N803
    ) -> Response:
        ctx = await context(request)
        params = params_from_query(request.query_params)
        layers = [
            layer
            for layer in ctx.catalog.public()
            if layer.config.minzoom <= tileMatrix <= layer.config.maxzoom
        ]
        return await _ogc_tile(ctx, request, layers, tileMatrixSetId, tileMatrix, tileRow,
                               tileCol, params)  # fmt: skip

    return router


async def _ogc_tile(
    ctx: ServerContext,
    request: Request,
    layers: list[Layer],
    tms: str,
    z: int,
    row: int,
    col: int,
    params: TileParams,
) -> Response:
    """OGC API Tiles answers 404 for a tile outside the matrix set or the tileset's zooms
    (/req/tileset/tc-success D); the XYZ route keeps its 400 for the same mistakes."""
    get_tms(tms)
    if not layers or not tile_in_matrix(tms, z, row, col):
        raise NotFound(f"no tile {z}/{row}/{col} (tileMatrix/tileRow/tileCol) in {tms}")
    try:
        check_zoom(layers, z)
    except InvalidTile as exc:
        raise NotFound(str(exc)) from None
    return await serve_tile(ctx, request, layers, tms, z, col, row, params)
