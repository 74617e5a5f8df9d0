"""Vector tile routes: `/tiles/{layers}/{z}/{x}/{y}.mvt` and the OGC API Tiles paths.

Empty tiles are answered `204 No Content` (as Martin does); MapLibre and GDAL treat it as an
empty tile. Tiles are gzip-encoded when the client accepts it.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from geoplatform.tiles.cache import CachedTile, etag_matches, make_etag
from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.mvt import TileRequest, check_zoom, render_layer
from geoplatform.tiles.params import Filters
from geoplatform.tiles.tms import WEB_MERCATOR, OutputCrs, parse_crs, tile_box

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
CACHE_CONTROL = "public, no-cache"  # store, but revalidate: the ETag makes that a cheap 304


@dataclass(frozen=True)
class TileParams:
    """Query parameters every tile route takes."""

    crs: OutputCrs
    filters: Filters


async def serve_tile(
    ctx: ServerContext,
    request: Request,
    layers: list[Layer],
    tms: str,
    z: int,
    x: int,
    y: int,
    params: TileParams,
) -> Response:
    """Answer 304 or from the cache when possible, else validate, render and cache.

    The key is built from the raw request and the data versions: a key can only be in the cache
    (or an ETag in a client's hands) if that tile was valid and rendered, so z/x/y checks and
    tile geometry are only computed on a miss.
    """
    drawn = check_zoom(layers, z)
    versions = await ctx.versions.current()
    version_text = ",".join(
        f"{layer.version_key}={versions.get(layer.version_key, 0)}" for layer in drawn
    )
    key = "|".join(
        (tms, params.crs, ",".join(layer.name for layer in layers), f"{z}/{x}/{y}",
         params.filters.key(), version_text)
    )  # fmt: skip
    etag = make_etag(ctx.catalog_digest, key)
    request_headers = request.headers
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if etag_matches(request_headers.get("if-none-match"), etag):
        ctx.metrics.tile_not_modified.inc()
        return Response(status_code=304, headers=headers)
    cached = ctx.cache.get(key)
    if cached is None:
        ctx.metrics.tile_miss.inc()
        buffer = max(layer.buffer / layer.extent for layer in layers)
        box = tile_box(tms, z, x, y, buffer_frac=buffer, crs=params.crs)
        body = await _render(ctx, drawn, TileRequest(box, params.crs, params.filters), versions)
        cached = CachedTile(body, etag)
        ctx.metrics.tile_bytes.observe(len(body))
        ctx.cache.put(key, cached)
    else:
        ctx.metrics.tile_hit.inc()
    if not cached.body:
        ctx.metrics.tile_empty.inc()
        return Response(status_code=204, headers=headers)
    if "gzip" in request_headers.get("accept-encoding", ""):
        before = cached.size
        body = cached.gzipped
        ctx.cache.account(key, before)
        headers["Content-Encoding"] = "gzip"
    else:
        body = cached.body
    return Response(body, media_type=MVT_MEDIA_TYPE, headers=headers)


async def _render(
    ctx: ServerContext, layers: list[Layer], req: TileRequest, versions: dict[str, int]
) -> bytes:
    blobs: list[bytes] = []
    async with ctx.pool.connection() as conn:
        for layer in layers:
            index = None
            if layer.config.overview == "clusters" and req.filters.cql is None:
                index = await ctx.indexes.get(layer, versions.get(layer.version_key, 0))
                ctx.metrics.index_rows.labels(layer.name).set(len(index))
            blobs.append((await render_layer(conn, layer, req, index)).data)
    ctx.metrics.cache_bytes.set(ctx.cache.nbytes)
    return b"".join(blobs)


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


def params_from_query(query: QueryParams) -> TileParams:
    """The tile query parameters, parsed by hand: FastAPI's per-parameter validation costs more
    than a cached tile does (see bench/RESULTS.md), and every value is checked here anyway."""
    return TileParams(
        parse_crs(query.get("crs")),
        Filters.parse(
            query.get("datetime"), query.get("category"), query.get("filter"),
            query.get("filter-lang"),
        ),
    )  # fmt: skip


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
        "/tiles/{layers}/{z}/{x}/{y}.mvt",
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
