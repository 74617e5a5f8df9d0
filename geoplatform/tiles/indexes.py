"""One lifecycle for every in-memory index, and the threads that do the server's CPU work.

`VersionedIndex` holds one index (the H3 cube, the statistics, a layer's cluster points, the
geocoder's matcher) for one key of data versions. It loads off the event loop (rows read by the
async pool, the build in `CpuWork`'s threads), is preloaded at start and on every version change
(`ServerContext.preload`), swaps the new index in with one assignment (readers never see half an
index), and lets one load run per key behind one lock. Its load time and size are in /metrics.

`CpuWork` runs CPU-heavy functions (Gi*, PNG and GeoTIFF encoding, index builds) in a bounded
thread pool sized by `settings.cpu_workers`: numpy, shapely and zlib release the GIL for most
of that work, and the loop keeps answering /healthz and cached tiles meanwhile.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Final, Generic, TypeVar

import numpy as np
import pandas as pd
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from geoplatform.tiles.problems import BudgetExceeded

log = logging.getLogger("geoplatform.tiles")
T = TypeVar("T")


class ServingPool(AsyncConnectionPool[Any]):
    """A pool that tells an outage from a queue.

    A request waits `timeout` (settings.pool_timeout_s) for a connection. If none came, one
    probe (shared by every waiting request, remembered for a second) tries to connect: refused,
    the database is away and the request answers 503 within that time; accepted, the database is
    there and merely loaded, and the request keeps its place in line up to `queue_timeout`.
    """

    def __init__(self, *args: Any, queue_timeout: float = 30.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue_timeout = queue_timeout
        self._probe: asyncio.Task[bool] | None = None
        self._probed_at = -1e9

    async def getconn(self, timeout: float | None = None) -> AsyncConnection[Any]:
        try:
            conn: AsyncConnection[Any] = await super().getconn(timeout)
        except PoolTimeout:
            if not await self._reachable():
                raise  # the database is away: the caller answers 503 now
            conn = await super().getconn(self.queue_timeout)
        return conn

    async def _reachable(self) -> bool:
        loop = asyncio.get_running_loop()
        if self._probe is None or loop.time() - self._probed_at > 1.0:
            self._probed_at = loop.time()
            self._probe = asyncio.ensure_future(self._connect_once())
        return await asyncio.shield(self._probe)

    async def _connect_once(self) -> bool:
        conninfo = self.conninfo if isinstance(self.conninfo, str) else ""
        try:
            probe = await AsyncConnection.connect(conninfo, connect_timeout=1)
        except Exception:  # refused, reset, timed out: unreachable all the same
            return False
        await probe.close()
        return True


#: statement_timeout of an index load: a bulk read of every row, not a visitor's statement
INDEX_LOAD_TIMEOUT_MS: Final = 300_000


@asynccontextmanager
async def index_connection(pool: AsyncConnectionPool[Any]) -> AsyncIterator[AsyncConnection[Any]]:
    """A pool connection in a transaction whose statement_timeout fits an index load (the API's
    statement_timeout is for visitors' statements: a million-row load under concurrent loads can
    pass it)."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL statement_timeout = {INDEX_LOAD_TIMEOUT_MS}")
        yield conn


class CpuWork:
    """A bounded thread pool for CPU-heavy work, with an optional time budget per call."""

    def __init__(self, workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geo-cpu")

    async def run(self, fn: Callable[..., T], *args: Any, budget_s: float | None = None) -> T:
        """`fn(*args)` in a worker thread; past `budget_s` a 503 (the work itself goes on)."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        if budget_s is None:
            return await future
        try:
            return await asyncio.wait_for(asyncio.shield(future), budget_s)
        except TimeoutError:
            raise BudgetExceeded(
                f"the request needs more than its {budget_s:g} s budget: ask for less "
                "(a smaller area, size or resolution)"
            ) from None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def nbytes(value: Any) -> int:
    """Approximate memory held by an index: its numpy arrays and pandas frames."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(index=True, deep=False).sum())
    if isinstance(value, pd.Series | pd.Index):
        return int(value.memory_usage(deep=False))
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(nbytes(v) for v in value[:1000])
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(nbytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    if hasattr(value, "__dict__"):
        return sum(nbytes(v) for v in vars(value).values())
    return 0


class VersionedIndex(Generic[T]):
    """An index for the current data versions: loaded once per key, swapped atomically."""

    def __init__(
        self,
        name: str,
        key_of: Callable[[dict[str, int]], Hashable],
        load: Callable[[Hashable], Awaitable[T]],
    ) -> None:
        self.name = name
        self._key_of = key_of
        self._load = load
        self._held: tuple[Hashable, T] | None = None
        self._lock = asyncio.Lock()
        self._loading: dict[Hashable, asyncio.Task[T]] = {}
        self.load_seconds = 0.0
        self.bytes = 0
        self.loads = 0

    @property
    def key(self) -> Hashable | None:
        held = self._held
        return held[0] if held is not None else None

    async def get(self, versions: dict[str, int]) -> T:
        """The index for these versions: the held one, or the one being loaded for them."""
        key = self._key_of(versions)
        held = self._held
        if held is not None and held[0] == key:
            return held[1]
        return await asyncio.shield(self._task(key))

    def preload(self, versions: dict[str, int]) -> asyncio.Task[T] | None:
        """Start loading for these versions unless held or under way (no one waits for it)."""
        key = self._key_of(versions)
        held = self._held
        if held is not None and held[0] == key:
            return None
        fresh = key not in self._loading
        task = self._task(key)
        if fresh:
            task.add_done_callback(self._report)
        return task

    def _report(self, task: asyncio.Task[T]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.warning("preloading the %s index failed: %s", self.name, task.exception())

    def _task(self, key: Hashable) -> asyncio.Task[T]:
        task = self._loading.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load_locked(key))
            self._loading[key] = task
            task.add_done_callback(lambda _t: self._loading.pop(key, None))
        return task

    async def _load_locked(self, key: Hashable) -> T:
        async with self._lock:  # one load at a time: two versions never build side by side
            held = self._held
            if held is not None and held[0] == key:
                return held[1]
            started = time.perf_counter()
            value = await self._load(key)
            self._held = (key, value)  # the swap: one assignment
            self.load_seconds = time.perf_counter() - started
            self.bytes = nbytes(value)
            self.loads += 1
            return value


class ResultCache(Generic[T]):
    """A small LRU of computed answers keyed by data version and parameters (hotspots)."""

    def __init__(self, entries: int = 64) -> None:
        self._entries = entries
        self._values: OrderedDict[Hashable, T] = OrderedDict()
        self._running: dict[Hashable, asyncio.Future[T]] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """The cached value, or the one computation for `key` (shared by concurrent callers)."""
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        future = self._running.get(key)
        if future is None:
            future = asyncio.ensure_future(compute())
            self._running[key] = future
            future.add_done_callback(lambda f: self._settle(key, f))
        return await asyncio.shield(future)

    def _settle(self, key: Hashable, future: asyncio.Future[T]) -> None:
        self._running.pop(key, None)
        if future.cancelled() or future.exception() is not None:
            return
        self._values[key] = future.result()
        while len(self._values) > self._entries:
            self._values.popitem(last=False)


async def within_budget(work: Awaitable[T], budget_s: float) -> T:
    """Await `work` (already shielded by its cache) for at most `budget_s`, else a 503."""
    try:
        return await asyncio.wait_for(work, budget_s)
    except TimeoutError:
        raise BudgetExceeded(
            f"the request needs more than its {budget_s:g} s budget; it goes on computing "
            "and its result is cached: retry shortly"
        ) from None
