"""`create_app(settings)`: the tile and feature server.

The lifespan owns the async psycopg pool, the version watch, the tile cache, the point indexes
and the layer catalog (read from `settings.layers_file` and checked against the database).
Nothing is read at import time and there is no module-level app.

Why psycopg's own async pool and not SQLAlchemy async: a tile is one statement returning one
bytea; SQLAlchemy's async layer adds a greenlet hop and result processing per statement for
nothing we use (see bench/RESULTS.md for the measured request rates).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geoplatform import __version__
from geoplatform.access.principal import SERVICE_PRINCIPAL
from geoplatform.db.roles import API, url_for_role
from geoplatform.errors import ConfigurationError, GeoPlatformError
from geoplatform.settings import Settings
from geoplatform.tiles.auth import Authenticator, ScopedPool
from geoplatform.tiles.cache import BytesCache
from geoplatform.tiles.catalog import bind_catalog, read_catalog_file
from geoplatform.tiles.context import Metrics, ServerContext, catalog_digest
from geoplatform.tiles.cors import install_cors, parse_origins
from geoplatform.tiles.freshness import VersionWatch
from geoplatform.tiles.hotpath import OneMapApp
from geoplatform.tiles.mvt import query
from geoplatform.tiles.openapi import install_openapi
from geoplatform.tiles.overview import OverviewIndexes

log = logging.getLogger("geoplatform.tiles")


def _viewer_dir(settings: Settings) -> Path | None:
    candidate = settings.layers_file.resolve().parent / "viewer"
    return candidate if candidate.is_dir() else None


def _glyphs_dir(settings: Settings) -> Path | None:
    candidate = settings.glyphs_dir or settings.resolved_home / "glyphs"
    return candidate if candidate.is_dir() else None


def create_app(settings: Settings) -> FastAPI:
    """The API for these settings; its lifespan connects, reads the catalog, and cleans up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = url_for_role(settings, API)
        catalog_file = read_catalog_file(settings.layers_file)
        with psycopg.connect(url, connect_timeout=settings.connect_timeout_s) as conn:
            refuse_superuser(conn, settings)
            catalog = bind_catalog(conn, catalog_file)
        raw_pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=settings.pool_size,
            kwargs={"autocommit": True, "connect_timeout": settings.connect_timeout_s},
            open=False,
            name="geoplatform-tiles",
        )
        await raw_pool.open(wait=True, timeout=settings.connect_timeout_s * 2)
        # the server's own reads (indexes, aggregates): the service role
        pool = cast("AsyncConnectionPool[Any]", ScopedPool(raw_pool, SERVICE_PRINCIPAL))
        versions = VersionWatch(url, query("layer_versions"), settings.connect_timeout_s)
        versions.start()
        app.state.metrics.watch_versions(versions)
        app.state.context = ServerContext(
            settings=settings,
            catalog=catalog,
            pool=pool,
            versions=versions,
            cache=BytesCache(settings.tile_cache_bytes),
            indexes=OverviewIndexes(pool),
            metrics=app.state.metrics,
            catalog_digest=catalog_digest(settings.layers_file),
            viewer_dir=_viewer_dir(settings),
            auth=Authenticator(settings, raw_pool),
            raw_pool=raw_pool,
            glyphs_dir=_glyphs_dir(settings),
        )
        ctx: ServerContext = app.state.context
        preloads: set[asyncio.Future[None]] = set()

        def preload(changed: dict[str, int] | None = None) -> None:
            task = asyncio.ensure_future(_preload(ctx, changed))
            preloads.add(task)
            task.add_done_callback(preloads.discard)

        preload()
        versions.on_change = preload  # an ETL commit starts the reload, not the next visitor
        for layer in catalog.public():
            if layer.config.overview == "clusters":
                name = layer.name
                app.state.metrics.index_version.labels(name).set_function(
                    lambda name=name: float(ctx.indexes.version_of(name))
                )
        try:
            yield
        finally:
            for task in list(preloads):
                task.cancel()
            await versions.close()
            await raw_pool.close()

    app = OneMapApp(
        title="geoplatform one-map API",
        version=__version__,
        description="Vector tiles, OGC API Features and Tiles for the city's one map.",
        lifespan=lifespan,
        docs_url=None,  # served from local assets by install_openapi, never from a CDN
        redoc_url=None,
    )
    app.state.metrics = Metrics()
    _install_error_handlers(app)
    app.state.cors_origins = parse_origins(settings.cors_origins)
    install_cors(app, app.state.cors_origins)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)

    from geoplatform.tiles.routes.analytics import analytics_router
    from geoplatform.tiles.routes.features import features_router
    from geoplatform.tiles.routes.figures import figures_router
    from geoplatform.tiles.routes.fonts import fonts_router
    from geoplatform.tiles.routes.heatmap import heatmap_router
    from geoplatform.tiles.routes.ogc import ogc_router
    from geoplatform.tiles.routes.service import service_router
    from geoplatform.tiles.routes.tiles import tiles_router

    app.include_router(tiles_router())
    app.include_router(ogc_router())
    app.include_router(features_router())
    app.include_router(service_router())
    app.include_router(heatmap_router())
    app.include_router(analytics_router())
    app.include_router(fonts_router())
    app.include_router(figures_router())
    viewer = _viewer_dir(settings)
    install_openapi(app, viewer / "node_modules" if viewer else None)
    return app


async def _preload(ctx: ServerContext, versions: dict[str, int] | None = None) -> None:
    """Build the cluster indexes in the background (at start, and for the new versions after a
    commit), so that no visitor has to be the one who waits for the load."""
    try:
        if versions is None:
            versions = await ctx.versions.current()
        for layer in ctx.catalog.public():
            if layer.config.overview == "clusters":
                await ctx.indexes.get(layer, versions.get(layer.version_key, 0))
    except (GeoPlatformError, psycopg.Error) as exc:  # requests will report it themselves
        log.warning("preloading cluster indexes failed: %s", exc)


def refuse_superuser(conn: psycopg.Connection[Any], settings: Settings) -> None:
    """The server must be held by row-level security: no superuser, no BYPASSRLS login."""
    row = conn.execute(
        "SELECT rolname, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    if row is not None and row[1] and not settings.allow_superuser:
        raise ConfigurationError(
            f"refusing to serve as {row[0]}, a superuser or BYPASSRLS role that row-level "
            "security cannot hold: connect as `api` (the default; see `geoplatform db url "
            "--role api`) or set GEOPLATFORM_ALLOW_SUPERUSER=1 for a throwaway database"
        )


def error_body(status: int, message: str, code: str) -> JSONResponse:
    """OGC API exception shape: {"code", "description"}."""
    return JSONResponse({"code": code, "description": message}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GeoPlatformError)
    async def domain_error(request: Request, exc: GeoPlatformError) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc.message)
        return error_body(exc.http_status, exc.message, type(exc).__name__)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors()[:3]:
            where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("path", "query"))
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
        return error_body(400, "; ".join(parts) or "invalid request", "InvalidParameter")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_body(exc.status_code, str(exc.detail), "HTTPError")

    @app.exception_handler(psycopg.Error)
    async def database_error(request: Request, exc: psycopg.Error) -> JSONResponse:
        state = exc.sqlstate or ""
        if state.startswith("22") or state in ("42883", "42804", "42846"):
            # the values given (filter literals, parameters) do not fit the columns' types
            return error_body(
                400,
                "the filter or parameters do not fit the property types "
                "(compare text with 'quoted' values and numbers with numbers)",
                "InvalidFilter",
            )
        if isinstance(exc, psycopg.OperationalError):
            return error_body(503, "the database is unavailable", "DatabaseUnavailable")
        log.error("%s %s: database error %s", request.method, request.url.path, state)
        return error_body(500, "internal error (logged)", "InternalError")


class MetricsMiddleware:
    """Counts and times requests per route template (pure ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            self.metrics.observe_request(name, status, time.perf_counter() - started)


Handler = Callable[[Request], Awaitable[Any]]


def app_from_env() -> FastAPI:
    """uvicorn factory for `geoplatform serve --workers N`: settings from the environment, once
    per worker process (called by uvicorn, never at import)."""
    return create_app(Settings())
