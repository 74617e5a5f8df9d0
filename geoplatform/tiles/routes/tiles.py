"""Vector tile routes: `/tiles/{layers}/{z}/{x}/{y}.mvt` (XYZ, as MapLibre asks) and the OGC API
Tiles paths `.../tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}` (row before column, as
the standard orders them) for a collection and for the one-map dataset.

Empty tiles are answered `204 No Content` (as Martin does); MapLibre and GDAL treat it as an
empty tile. Tiles are gzip-encoded when the client accepts it.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from geoplatform.access.principal import PUBLIC
from geoplatform.errors import NotFound
from geoplatform.tiles.audit import audit_tile
from geoplatform.tiles.cache import CachedTile, etag_matches, make_etag
from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.mvt import TileRequest, check_zoom, render_layer
from geoplatform.tiles.params import Filters
from geoplatform.tiles.tilesets import tile_in_matrix
from geoplatform.tiles.tms import WEB_MERCATOR, InvalidTile, OutputCrs, get_tms, parse_crs, tile_box

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
TILE_ROUTE = "/tiles/{layers}/{z}/{x}/{y}.mvt"
CACHE_CONTROL = "public, no-cache"  # store, but revalidate: the ETag makes that a cheap 304
PRIVATE_CACHE_CONTROL = "private, no-cache"  # answers to a key or token: never a shared cache
VARY = "Accept-Encoding, Authorization, X-API-Key"


@dataclass(frozen=True)
class TileParams:
    """Query parameters every tile route takes."""

    crs: OutputCrs
    filters: Filters


@dataclass(frozen=True)
class TileKey:
    """Where a tile lives in the cache: the request and the data versions of its layers."""

    key: str
    etag: str
    drawn: list[Layer]
    versions: dict[str, int]


@dataclass(frozen=True)
class TileAnswer:
    """Status, headers and body of a tile response, whatever sends it."""

    status: int
    headers: dict[str, str]
    body: bytes = b""


async def tile_key(
    ctx: ServerContext,
    layers: list[Layer],
    tms: str,
    z: int,
    x: int,
    y: int,
    params: TileParams,
) -> TileKey:
    """The cache key and ETag of a tile as of the current data versions.

    The key is built from the raw request and the versions: a key can only be in the cache (or
    an ETag in a client's hands) if that tile was valid and rendered, so z/x/y checks and tile
    geometry are only computed on a miss.
    """
    drawn = check_zoom(layers, z)
    versions = await ctx.versions.current()
    version_text = ",".join(
        f"{layer.version_key}={versions.get(layer.version_key, 0)}" for layer in drawn
    )
    key = "|".join(
        (ctx.principal.cache_key, tms, params.crs, ",".join(layer.name for layer in layers),
         f"{z}/{x}/{y}", params.filters.key(), version_text)
    )  # fmt: skip
    return TileKey(key, make_etag(ctx.catalog_digest, key), drawn, versions)


def cached_answer(
    ctx: ServerContext, tile: TileKey, if_none_match: str | None, accept_encoding: str | None
) -> TileAnswer | None:
    """A 304 or a cache hit; None when the tile has to be rendered."""
    if etag_matches(if_none_match, tile.etag):
        ctx.metrics.tile_not_modified.inc()
        return TileAnswer(304, _caching_headers(tile.etag, ctx.principal.role == PUBLIC))
    cached = ctx.cache.get(tile.key)
    if cached is None:
        return None
    ctx.metrics.tile_hit.inc()
    return tile_answer(ctx, tile.key, cached, accept_encoding)


def tile_answer(
    ctx: ServerContext, key: str, cached: CachedTile, accept_encoding: str | None
) -> TileAnswer:
    """200 with the tile (gzip when accepted) or 204 for an empty one."""
    headers = _caching_headers(cached.etag, ctx.principal.role == PUBLIC)
    if not cached.body:
        ctx.metrics.tile_empty.inc()
        return TileAnswer(204, headers)
    headers["Content-Type"] = MVT_MEDIA_TYPE
    if accept_encoding and "gzip" in accept_encoding:
        before = cached.size
        body = cached.gzipped
        ctx.cache.account(key, before)
        headers["Content-Encoding"] = "gzip"
        return TileAnswer(200, headers, body)
    return TileAnswer(200, headers, cached.body)


def _caching_headers(etag: str, public: bool = True) -> dict[str, str]:
    """Public answers may sit in any shared cache; a keyed caller's only in its own."""
    return {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL if public else PRIVATE_CACHE_CONTROL,
        "Vary": VARY,
    }


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
    """Answer 304 or from the cache when possible, else validate, render and cache."""
    tile = await tile_key(ctx, layers, tms, z, x, y, params)
    if_none_match = request.headers.get("if-none-match")
    accept_encoding = request.headers.get("accept-encoding")
    answer = cached_answer(ctx, tile, if_none_match, accept_encoding)
    if answer is None:
        ctx.metrics.tile_miss.inc()
        buffer = max(layer.buffer / layer.extent for layer in layers)
        box = tile_box(tms, z, x, y, buffer_frac=buffer, crs=params.crs)
        wanted = TileRequest(box, params.crs, params.filters)
        body = await _render(ctx, tile.drawn, wanted, tile.versions)
        cached = CachedTile(body, tile.etag)
        ctx.metrics.tile_bytes.observe(len(body))
        if not any(layer.holds_persons for layer in tile.drawn):  # person reads: audited each
            ctx.cache.put(tile.key, cached)
        answer = tile_answer(ctx, tile.key, cached, accept_encoding)
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


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
            rendered = await render_layer(conn, layer, req, index)
            if layer.holds_persons and rendered.mode == "features":
                await audit_tile(ctx, conn, layer, req, rendered.data)
            blobs.append(rendered.data)
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
