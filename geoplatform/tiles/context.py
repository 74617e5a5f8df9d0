"""What a request handler needs, built once by the app's lifespan and reached through a dependency.

Router factories take the dependency that yields this context, so a test or another app can swap
any part (a catalog, a pool, a cache) without touching the routes.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from geoplatform.settings import Settings
from geoplatform.tiles.cache import BytesCache, VersionReader
from geoplatform.tiles.catalog import Catalog
from geoplatform.tiles.overview import OverviewIndexes


class Metrics:
    """Prometheus metrics in the app's own registry (no process-global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "geoplatform_http_requests",
            "HTTP requests by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "geoplatform_http_request_seconds",
            "Time to answer, by route",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.tiles = Counter(
            "geoplatform_tiles",
            "Tiles answered, by how (hit, miss, not_modified, empty)",
            ["outcome"],
            registry=self.registry,
        )
        self.tile_bytes = Histogram(
            "geoplatform_tile_bytes",
            "Uncompressed tile size",
            buckets=(1e3, 1e4, 5e4, 1e5, 2.5e5, 5e5, 1e6),
            registry=self.registry,
        )
        # children bound once: a labels() lookup per request costs a lock and a dict lookup
        self.tile_hit = self.tiles.labels("hit")
        self.tile_miss = self.tiles.labels("miss")
        self.tile_not_modified = self.tiles.labels("not_modified")
        self.tile_empty = self.tiles.labels("empty")
        self.cache_bytes = Gauge(
            "geoplatform_tile_cache_bytes", "Bytes held by the tile cache", registry=self.registry
        )
        self.index_rows = Gauge(
            "geoplatform_overview_index_rows",
            "Rows held by the cluster index, by layer",
            ["layer"],
            registry=self.registry,
        )


@dataclass
class ServerContext:
    settings: Settings
    catalog: Catalog
    pool: AsyncConnectionPool[Any]
    versions: VersionReader
    cache: BytesCache
    indexes: OverviewIndexes
    metrics: Metrics
    catalog_digest: str
    viewer_dir: Path | None
    glyphs_dir: Path | None = None
    started_at: float = field(default_factory=time.time)


def catalog_digest(path: Path) -> str:
    """Part of every ETag: a changed catalog (columns, caps, zooms) changes the tiles."""
    from geoplatform import __version__

    data = path.read_bytes() + __version__.encode()
    return hashlib.blake2b(data, digest_size=8).hexdigest()


async def get_context(request: Request) -> ServerContext:
    """The default dependency: the context the lifespan put on the app state."""
    ctx: ServerContext = request.app.state.context
    return ctx
