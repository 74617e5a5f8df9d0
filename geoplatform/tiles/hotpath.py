"""Cached tiles and 304s answered before the framework routes the request.

A cache hit needs the layer list, z/x/y, the query and the data versions, then a dictionary
lookup. FastAPI's routing, parameter validation and middleware stack cost more than all of that
(see bench/RESULTS.md), so `CachedTiles`, a pure-ASGI middleware that `create_app` installs
after the input guard, authenticates every request first (a `Principal` on the scope, 401 for
credentials that do not hold), then tries this path for `GET /tiles/.../z/x/y.mvt` with the
caller's view of the context, so the cache key carries its role and scope.
It builds the key and the answer with the very functions the route uses (`tile_key`,
`cached_answer`), so both answer identically. Anything else (a miss, a malformed or bad
request, an error of any kind before the first byte is sent) falls through to the route, which
renders, validates and reports errors as usual.

Mind that middleware added to the app (CORS, say) does not see these answers: a header every
tile needs belongs in `tile_answer`, which both paths use; requests are still counted in
/metrics under the tile route.
"""

from __future__ import annotations

import json
import logging
import time

from starlette.datastructures import QueryParams, State
from starlette.types import ASGIApp, Receive, Scope, Send

from geoplatform.errors import GeoPlatformError
from geoplatform.tiles.context import ServerContext
from geoplatform.tiles.cors import simple_cors_headers
from geoplatform.tiles.serving import (
    TILE_ROUTE,
    TileAnswer,
    TileParams,
    cached_answer,
    params_from_query,
    tile_key,
)
from geoplatform.tiles.tms import WEB_MERCATOR

_NO_QUERY = QueryParams(b"")
log = logging.getLogger("geoplatform.tiles")


class CachedTiles:
    """Cache hits and 304s for `/tiles/...` answered ahead of routing (pure ASGI)."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state  # the app's state: the lifespan puts the context there

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            ctx: ServerContext | None = getattr(self.state, "context", None)
            if ctx is not None and ctx.auth is not None:
                # authentication comes first: the hot path's cache key carries role and scope
                try:
                    principal = await ctx.auth.principal(scope["headers"])
                except GeoPlatformError as exc:
                    await _refuse(send, exc)
                    return
                scope.setdefault("state", {})["principal"] = principal
                ctx = ctx.for_principal(principal)
            path: str = scope["path"]
            if scope["method"] == "GET" and path.startswith("/tiles/") and path.endswith(".mvt"):
                cors: tuple[str, ...] = getattr(self.state, "cors_origins", ())
                if ctx is not None and await answer_cached_tile(ctx, scope, send, cors):
                    return
        await self.app(scope, receive, send)


async def _refuse(send: Send, exc: GeoPlatformError) -> None:
    """401 for credentials that do not hold (the error map's shape, before any routing)."""
    body = json.dumps({"code": type(exc).__name__, "description": exc.message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b'Bearer realm="geoplatform"'),
    ]
    await send({"type": "http.response.start", "status": exc.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def answer_cached_tile(
    ctx: ServerContext, scope: Scope, send: Send, cors_origins: tuple[str, ...] = ()
) -> bool:
    """Send a 304 or a cached tile and return True; False (nothing sent) otherwise."""
    started = time.perf_counter()
    try:
        answer = await _lookup(ctx, scope)
    except Exception as exc:  # whatever it is, the route answers it (with its proper 4xx/5xx)
        log.debug("tile fast path fell through: %s", type(exc).__name__)
        return False
    if answer is None:
        return False
    if cors_origins:
        origin = next((v for k, v in scope["headers"] if k == b"origin"), None)
        origin_text = origin.decode("latin-1") if origin is not None else None
        simple_cors_headers(cors_origins, origin_text, answer.headers)
    headers = [(b"content-length", str(len(answer.body)).encode())] if answer.status == 200 else []
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
    ctx.metrics.observe_request(TILE_ROUTE, answer.status, time.perf_counter() - started)
    return True


async def _lookup(ctx: ServerContext, scope: Scope) -> TileAnswer | None:
    parts = scope["path"].split("/")  # "", "tiles", layers, z, x, "y.mvt"
    if len(parts) != 6:
        return None
    z, x, y = _tile_number(parts[3]), _tile_number(parts[4]), _tile_number(parts[5][:-4])
    if z is None or x is None or y is None:
        return None
    query = QueryParams(scope["query_string"]) if scope["query_string"] else _NO_QUERY
    params: TileParams = params_from_query(query)
    tms = query.get("tms", WEB_MERCATOR)
    layers = ctx.catalog.parse_list(parts[2])
    tile = await tile_key(ctx, layers, tms, z, x, y, params)
    if_none_match = accept_encoding = None
    for name, value in scope["headers"]:
        if name == b"if-none-match" and if_none_match is None:
            if_none_match = value.decode("latin-1")
        elif name == b"accept-encoding" and accept_encoding is None:
            accept_encoding = value.decode("latin-1")
    return cached_answer(ctx, tile, if_none_match, accept_encoding)


def _tile_number(text: str) -> int | None:
    """ASCII digits only; anything else is left to the route's own validation."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


__all__ = ["CachedTiles", "answer_cached_tile"]
