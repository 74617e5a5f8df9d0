"""What a request handler needs, built once by the app's lifespan and reached through a dependency.

Router factories take the dependency that yields this context, so a test or another app can swap
any part (a catalog, a pool, a cache) without touching the routes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import psycopg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from geoplatform.access.kanon import PeopleAtoms
from geoplatform.access.principal import ANONYMOUS, Principal
from geoplatform.errors import GeoPlatformError
from geoplatform.settings import Settings
from geoplatform.tiles.cache import BytesCache
from geoplatform.tiles.catalog import Catalog
from geoplatform.tiles.freshness import VersionWatch
from geoplatform.tiles.heatmaps import CubeIndexes
from geoplatform.tiles.indexes import CpuWork, ResultCache, VersionedIndex
from geoplatform.tiles.overview import OverviewIndexes
from geoplatform.tiles.statsindex import StatsIndex

log = logging.getLogger("geoplatform.tiles")


class Metrics:
    """Prometheus metrics in the app's own registry (no process-global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._request_children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
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
        self.person_reads = Counter(
            "geoplatform_person_reads",
            "Answers holding person-level data, each logged in the audit chain",
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
        self.index_version = Gauge(
            "geoplatform_overview_index_version",
            "Data version of the cluster index held, by layer (-1: none loaded yet)",
            ["layer"],
            registry=self.registry,
        )
        self.versions_trusted = Gauge(
            "geoplatform_layer_versions_trusted",
            "1 while tiles are keyed on remembered layer versions (the version fence holds), "
            "0 while every request reads them",
            registry=self.registry,
        )
        self.version_reads = Gauge(
            "geoplatform_layer_version_reads",
            "Per-request reads of meta.layer_versions since the start (coalesced)",
            registry=self.registry,
        )
        self.index_load_seconds = Gauge(
            "geoplatform_index_load_seconds",
            "Seconds the last load of each in-memory index took (rows read and built)",
            ["index"],
            registry=self.registry,
        )
        self.index_bytes = Gauge(
            "geoplatform_index_bytes",
            "Approximate memory held by each in-memory index",
            ["index"],
            registry=self.registry,
        )
        self.version_holds = Gauge(
            "geoplatform_layer_version_holds",
            "Version fences acknowledged since the start (one per committed ETL change)",
            registry=self.registry,
        )

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        """Count and time one answered request under its route template."""
        children = self._request_children.get((route, status))
        if children is None:
            children = (self.requests.labels(route, str(status)), self.latency.labels(route))
            self._request_children[(route, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    def watch_versions(self, watch: VersionWatch) -> None:
        """Report the version watch's state, read when /metrics is scraped."""
        self.versions_trusted.set_function(lambda: float(watch.trusting))
        self.version_reads.set_function(lambda: float(watch.reader.reads))
        self.version_holds.set_function(lambda: float(watch.holds))

    def watch_indexes(self, indexes: list[VersionedIndex[Any]]) -> None:
        """Report each index's load time and size, read when /metrics is scraped."""
        for index in indexes:
            self.index_load_seconds.labels(index.name).set_function(_reader(index, "load_seconds"))
            self.index_bytes.labels(index.name).set_function(_reader(index, "bytes"))


def _reader(index: VersionedIndex[Any], attribute: str) -> Callable[[], float]:
    return lambda: float(getattr(index, attribute))


#: The data versions the statistics index is built from: a new version of any reloads it.
STATS_VERSIONS = ("incidents", "people", "grids", "admin_areas")


@dataclass
class ServerContext:
    settings: Settings
    catalog: Catalog
    pool: AsyncConnectionPool[Any]
    versions: VersionWatch
    cache: BytesCache
    indexes: OverviewIndexes
    metrics: Metrics
    catalog_digest: str
    viewer_dir: Path | None
    cpu: CpuWork
    cube: VersionedIndex[CubeIndexes]
    stats: VersionedIndex[StatsIndex]
    matcher: VersionedIndex[Any]
    residents: VersionedIndex[PeopleAtoms]
    glyphs_dir: Path | None = None
    hotspots: ResultCache[Any] = field(default_factory=ResultCache)
    preloaded: asyncio.Event = field(default_factory=asyncio.Event)
    principal: Principal = ANONYMOUS
    auth: Any = None
    """The Authenticator (geoplatform.tiles.auth); None in contexts built without one."""
    raw_pool: Any = None
    """The unscoped pool (the lifespan's); `pool` of a principal's view is scoped to it."""
    _views: dict[str, ServerContext] = field(default_factory=dict, repr=False)

    def all_indexes(self) -> list[VersionedIndex[Any]]:
        """Every in-memory index the server holds, each with the same lifecycle."""
        return [*self.indexes.holders.values(), self.cube, self.stats, self.matcher, self.residents]

    async def preload(self, versions: dict[str, int] | None = None) -> None:
        """Load every index for these versions (the current ones at start) in the background
        of a start or an ETL commit, so no visitor is the one who waits for the load."""
        try:
            if versions is None:
                versions = await self.versions.current()
            tasks = [t for t in (i.preload(versions) for i in self.all_indexes()) if t is not None]
            await asyncio.gather(*tasks, return_exceptions=True)  # failures: logged by preload
        except (GeoPlatformError, psycopg.Error, OSError) as exc:  # requests report it themselves
            log.warning("preloading the indexes failed: %s", exc)
        finally:
            self.preloaded.set()

    def for_principal(self, principal: Principal) -> ServerContext:
        """This context as one caller sees it: its catalog view, its scoped pool and indexes,
        its principal (cache keys carry `principal.cache_key`). Views are kept per key."""
        view = self._views.get(principal.cache_key)
        if view is None:
            from geoplatform.tiles.auth import ScopedPool
            from geoplatform.tiles.overview import PrincipalIndexes

            raw = self.raw_pool if self.raw_pool is not None else self.pool
            view = replace(
                self,
                catalog=self.catalog.view(principal.role),
                pool=cast("AsyncConnectionPool[Any]", ScopedPool(raw, principal)),
                indexes=PrincipalIndexes(self.indexes, principal),  # type: ignore[arg-type]
                principal=principal,
                _views={},
            )
            if len(self._views) > 1000:
                self._views.clear()
            self._views[principal.cache_key] = view
        if view.principal != principal:  # same rights, another actor (audit names the actor)
            view = replace(view, principal=principal)
        return view


def build_context(
    settings: Settings,
    catalog: Catalog,
    pool: AsyncConnectionPool[Any],
    versions: VersionWatch,
    metrics: Metrics,
    viewer_dir: Path | None,
) -> ServerContext:
    """The server context with its indexes, each loaded by its own loader."""
    from geoplatform.tiles.heatmaps import load_cube
    from geoplatform.tiles.residents import load_atoms
    from geoplatform.tiles.statsindex import load_stats

    cpu = CpuWork(settings.cpu_workers)

    async def cube(_key: Hashable) -> CubeIndexes:
        return await load_cube(pool, cpu)

    async def stats(_key: Hashable) -> StatsIndex:
        return await load_stats(pool, cpu, settings.k_anonymity)

    async def residents(_key: Hashable) -> PeopleAtoms:
        return await load_atoms(pool, cpu, settings.k_anonymity)

    async def matcher(_key: Hashable) -> Any:
        return await cpu.run(_build_matcher, settings)

    def stats_key(v: dict[str, int]) -> Hashable:
        return tuple(v.get(name, 0) for name in STATS_VERSIONS)

    return ServerContext(
        settings=settings,
        catalog=catalog,
        pool=pool,
        versions=versions,
        cache=BytesCache(settings.tile_cache_bytes),
        indexes=OverviewIndexes(pool, catalog.public()),
        metrics=metrics,
        catalog_digest=catalog_digest(settings.layers_file),
        viewer_dir=viewer_dir,
        cpu=cpu,
        cube=VersionedIndex("cube", lambda v: v.get("incidents", 0), cube),
        stats=VersionedIndex("stats", stats_key, stats),
        matcher=VersionedIndex("geocoder", _gazetteer_versions, matcher),
        residents=VersionedIndex("residents", lambda v: v.get("people", 0), residents),
    )


def _gazetteer_versions(versions: dict[str, int]) -> tuple[int, ...]:
    """The geocoder's key: the versions of every layer the gazetteer reads (addresses, roads,
    aliases, learned ones included, landmarks...), so any of them reloads it."""
    from geoplatform.geocode.index import GAZETTEER_LAYERS

    return tuple(versions.get(layer, 0) for layer in GAZETTEER_LAYERS)


def _build_matcher(settings: Settings) -> Any:
    """The ETL's matcher over the standard-address table (a sync engine, in a worker thread)."""
    from geoplatform.db.engine import create_engine, transaction
    from geoplatform.geocode import Matcher

    engine = create_engine(settings)
    try:
        with transaction(engine) as conn:
            return Matcher.from_connection(conn)
    finally:
        engine.dispose()


def catalog_digest(path: Path) -> str:
    """Part of every ETag: a changed catalog (columns, caps, zooms) changes the tiles."""
    from geoplatform import __version__

    data = path.read_bytes() + __version__.encode()
    return hashlib.blake2b(data, digest_size=8).hexdigest()


async def get_context(request: Request) -> ServerContext:
    """The default dependency: the lifespan's context as this request's caller sees it."""
    ctx: ServerContext = request.app.state.context
    principal = request.scope.get("state", {}).get("principal", ANONYMOUS)
    return ctx.for_principal(principal)
