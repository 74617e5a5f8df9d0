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
from psycopg_pool import AsyncConnectionPool
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from threadpoolctl import threadpool_limits

from geoplatform import __version__
from geoplatform.access.principal import SERVICE_PRINCIPAL
from geoplatform.db.roles import API, url_for_role
from geoplatform.errors import ConfigurationError
from geoplatform.settings import Settings
from geoplatform.tiles.auth import Authenticator, ScopedPool
from geoplatform.tiles.catalog import bind_catalog, read_catalog_file
from geoplatform.tiles.context import Metrics, build_context
from geoplatform.tiles.cors import install_cors, parse_origins
from geoplatform.tiles.freshness import VersionWatch
from geoplatform.tiles.guard import InputGuard
from geoplatform.tiles.hotpath import CachedTiles
from geoplatform.tiles.indexes import ServingPool
from geoplatform.tiles.mvt import query
from geoplatform.tiles.openapi import install_openapi
from geoplatform.tiles.problems import document_errors, install_error_handlers

log = logging.getLogger("geoplatform.tiles")


def _viewer_dir(settings: Settings) -> Path | None:
    candidate = settings.layers_file.resolve().parent / "viewer"
    return candidate if candidate.is_dir() else None


def _glyphs_dir(settings: Settings) -> Path | None:
    candidate = settings.glyphs_dir or settings.resolved_home / "glyphs"
    return candidate if candidate.is_dir() else None


def create_app(settings: Settings) -> FastAPI:
    """The API for these settings; its lifespan connects, reads the catalog, and cleans up.

    The request path, outermost first: Starlette's error handling → the input guard (NUL,
    control characters, limits; HEAD as GET) → authentication (a principal on the scope; 401
    for credentials that do not hold) and the cached-tile fast path, keyed by role and scope
    (`CachedTiles`) → metrics → CORS → routing.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The server's parallelism is its CpuWork threads: BLAS threads on top of them
        # oversubscribe the cores (a Poisson fit ran 7x slower on two busy cores).
        threadpool_limits(limits=1, user_api="blas")
        url = url_for_role(settings, API)
        catalog_file = read_catalog_file(settings.layers_file)
        with psycopg.connect(url, connect_timeout=settings.connect_timeout_s) as conn:
            refuse_superuser(conn, settings)
            catalog = bind_catalog(conn, catalog_file)
        raw_pool: AsyncConnectionPool[Any] = ServingPool(
            url,
            queue_timeout=settings.pool_queue_timeout_s,
            min_size=1,
            max_size=settings.pool_size,
            kwargs={
                "autocommit": True,
                "connect_timeout": settings.connect_timeout_s,
                "options": f"-c statement_timeout={settings.statement_timeout_ms}",
            },
            open=False,
            name="geoplatform-tiles",
            timeout=settings.pool_timeout_s,
            reconnect_timeout=settings.reconnect_timeout_s,
            check=AsyncConnectionPool.check_connection,  # a broken connection is never handed out
        )
        await raw_pool.open(wait=True, timeout=settings.connect_timeout_s * 2)
        # the server's own reads (indexes, aggregates): the service role
        pool = cast("AsyncConnectionPool[Any]", ScopedPool(raw_pool, SERVICE_PRINCIPAL))
        versions = VersionWatch(url, query("layer_versions"), settings.connect_timeout_s)
        versions.start()
        app.state.metrics.watch_versions(versions)
        ctx = build_context(
            settings, catalog, pool, versions, app.state.metrics, _viewer_dir(settings)
        )
        ctx.glyphs_dir = _glyphs_dir(settings)
        ctx.auth = Authenticator(settings, raw_pool)
        ctx.raw_pool = raw_pool
        app.state.context = ctx
        app.state.metrics.watch_indexes(ctx.all_indexes())
        preloads: set[asyncio.Future[None]] = set()

        def preload(changed: dict[str, int] | None = None) -> None:
            task = asyncio.ensure_future(ctx.preload(changed))
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
            ctx.cpu.close()

    app = FastAPI(
        title="geoplatform one-map API",
        version=__version__,
        description="Vector tiles, OGC API Features and Tiles for the city's one map. "
        "Errors: 400 for any parameter that cannot be understood or is out of range (never "
        "422), 404 for what does not exist, 503 with Retry-After while the database is away, "
        "a statement times out or a request runs past its budget. Every GET answers HEAD.",
        lifespan=lifespan,
        docs_url=None,  # served from local assets by install_openapi, never from a CDN
        redoc_url=None,
    )
    app.state.metrics = Metrics()
    install_error_handlers(
        app,
        statement_timeout_ms=settings.statement_timeout_ms,
        retry_after_s=settings.retry_after_s,
    )
    app.state.cors_origins = parse_origins(settings.cors_origins)
    # add_middleware puts each new one outside the previous: innermost first
    install_cors(app, app.state.cors_origins)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(CachedTiles, state=app.state)
    app.add_middleware(InputGuard)

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
    as_30 = app.openapi

    def openapi() -> dict[str, Any]:
        """The 3.0 document with the API's error statuses in place of FastAPI's 422."""
        return document_errors(as_30())

    app.openapi = openapi  # type: ignore[method-assign]
    return app


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
        except asyncio.CancelledError:
            status = 499  # the client went away mid-request (nginx's code): not a server error
            raise
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            self.metrics.observe_request(name, status, time.perf_counter() - started)


Handler = Callable[[Request], Awaitable[Any]]


def app_from_env() -> FastAPI:
    """uvicorn factory for `geoplatform serve --workers N`: settings from the environment, once
    per worker process (called by uvicorn, never at import)."""
    return create_app(Settings())
