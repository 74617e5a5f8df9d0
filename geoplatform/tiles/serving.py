"""Tile serving, apart from HTTP routing: the key a tile is cached under, the cached answer
(304, hit), rendering a miss, and the query parameters every tile route takes.

The routes (`routes/tiles.py`) and the cached-tile fast path (`hotpath.py`) both call these, so
both answer identically. Empty tiles are answered `204 No Content` (as Martin does); tiles are
gzip-encoded when the client accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from geoplatform.access.principal import PUBLIC
from geoplatform.tiles.audit import audit_tile
from geoplatform.tiles.cache import CachedTile, etag_matches, make_etag
from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.context import ServerContext
from geoplatform.tiles.mvt import TileRequest, check_zoom, render_layer
from geoplatform.tiles.params import Filters
from geoplatform.tiles.tms import OutputCrs, parse_crs, tile_box

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

    The key is built from the caller's rights (role and scope: `principal.cache_key`), the raw
    request and the versions, so no caller is ever answered from another's tile. A key can only
    be in the cache (or an ETag in a client's hands) if that tile was valid and rendered, so
    z/x/y checks and tile geometry are only computed on a miss.
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
        body, final = await _render(ctx, tile.drawn, wanted, tile.versions)
        cached = CachedTile(body, tile.etag)
        ctx.metrics.tile_bytes.observe(len(body))
        # a tile drawn while its cluster index loads is not kept (the index's will be), nor
        # one of people: each such read is audited, so it is rendered (and logged) each time
        if final and not any(layer.holds_persons for layer in tile.drawn):
            ctx.cache.put(tile.key, cached)
        answer = tile_answer(ctx, tile.key, cached, accept_encoding)
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


async def _render(
    ctx: ServerContext, layers: list[Layer], req: TileRequest, versions: dict[str, int]
) -> tuple[bytes, bool]:
    """The tile's bytes, and whether they are the final answer for these versions (False while
    a cluster index for a new version still loads: PostGIS clusters the rows meanwhile, fresh
    but slower, so no visitor waits for the load)."""
    blobs: list[bytes] = []
    final = True
    async with ctx.pool.connection() as conn:
        for layer in layers:
            index = None
            if layer.config.overview == "clusters" and req.filters.cql is None:
                version = versions.get(layer.version_key, 0)
                # people layers are indexed per caller (PrincipalIndexes), never shared
                holder = None if layer.holds_persons else ctx.indexes.holders.get(layer.name)
                if holder is not None and holder.key is not None and holder.key != version:
                    holder.preload({layer.version_key: version})  # under way since the commit
                    final = False
                else:
                    index = await ctx.indexes.get(layer, version)
                    ctx.metrics.index_rows.labels(layer.name).set(len(index))
            rendered = await render_layer(conn, layer, req, index)
            if layer.holds_persons and rendered.mode == "features":
                await audit_tile(ctx, conn, layer, req, rendered.data)
            blobs.append(rendered.data)
    ctx.metrics.cache_bytes.set(ctx.cache.nbytes)
    return b"".join(blobs), final


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
