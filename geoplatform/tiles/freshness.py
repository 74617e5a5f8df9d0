"""Layer data versions for every request, never stale once a fenced commit has returned.

`VersionWatch` answers from versions it remembers while the version fence allows it (see
`geoplatform.db.fence` for the protocol): it listens on a dedicated connection, drops its
trust the moment a writer announces a commit, acknowledges only after that, and reloads its
versions once the writer releases the fence. While it does not trust what it remembers
(starting up, inside a fence, its listening connection lost or its heartbeat late) every
request goes through `VersionReader`, a strict per-request read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import AsyncConnection

from geoplatform.db.fence import (
    ACK_CHANNEL,
    CHANNEL,
    FENCE_LOCK_KEY,
    LISTENER_APPLICATION,
    TRUST_WINDOW_S,
)
from geoplatform.errors import DatabaseUnavailable

log = logging.getLogger("geoplatform.tiles")


class VersionWatch:
    """Versions without a database round trip per request, while the fence says they hold."""

    def __init__(
        self,
        conninfo: str,
        sql_text: str,
        connect_timeout: int,
        *,
        heartbeat_s: float = 0.1,
        trust_window_s: float = TRUST_WINDOW_S,
    ) -> None:
        if not 0 < heartbeat_s < trust_window_s / 4:
            raise ValueError("the heartbeat must be well inside the trust window")
        self._conninfo = conninfo
        self._sql = sql_text
        self._timeout = connect_timeout
        self._heartbeat = heartbeat_s
        self._window = min(trust_window_s, TRUST_WINDOW_S)
        self.reader = VersionReader(conninfo, sql_text, connect_timeout)
        self._trusted: dict[str, int] | None = None
        self._beat = -math.inf  # when the last completed heartbeat was sent
        self._task: asyncio.Task[None] | None = None
        self._seen: dict[str, int] = {}
        self.holds = 0
        # called (on the event loop) with the versions each time trusted versions change
        self.on_change: Callable[[dict[str, int]], None] | None = None

    @property
    def trusting(self) -> bool:
        """Whether requests are answered from the remembered versions right now."""
        return self._trusted is not None and time.monotonic() - self._beat < self._window

    async def current(self) -> dict[str, int]:
        """Versions no older than any fenced commit that returned before this call."""
        trusted = self._trusted
        if trusted is not None and time.monotonic() - self._beat < self._window:
            return trusted
        return await self.reader.current()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._watch())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.reader.close()

    async def _watch(self) -> None:
        backoff = 0.1
        while True:
            try:
                conn = await AsyncConnection.connect(
                    self._conninfo,
                    autocommit=True,
                    connect_timeout=self._timeout,
                    application_name=LISTENER_APPLICATION,
                )
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    backoff = 0.1
                    await self._listen(conn)
            except (psycopg.Error, OSError) as exc:
                log.warning("version watch lost its connection (%s); reading per request", exc)
            finally:
                self._trusted = None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _listen(self, conn: AsyncConnection[Any]) -> None:
        while True:
            sent = time.monotonic()
            # a round trip: every notification committed before it started is now queued
            await conn.execute("SELECT 1")
            acks: list[str] = []
            async for notify in conn.notifies(timeout=self._heartbeat, stop_after=1):
                kind, _, token = notify.payload.partition(" ")
                self._trusted = None  # hold, release or changed: reload before trusting again
                if kind == "hold":
                    self.holds += 1
                    acks.append(token)
            self._beat = sent  # set only once the queued notifications are handled
            for token in acks:  # after the trust was dropped, never before
                await conn.execute("SELECT pg_notify(%s, %s)", (ACK_CHANNEL, token))
            if self._trusted is None:
                await self._try_trust(conn)

    async def _try_trust(self, conn: AsyncConnection[Any]) -> None:
        """Reload the versions under the fence lock (shared); not while a writer holds it."""
        async with conn.transaction():
            cur = await conn.execute(
                "SELECT pg_try_advisory_xact_lock_shared(%s)", (FENCE_LOCK_KEY,)
            )
            row = await cur.fetchone()
            if row is None or not row[0]:
                return
            cur = await conn.execute(self._sql)
            versions = {str(layer): int(version) for layer, version in await cur.fetchall()}
        self._trusted = versions
        if versions != self._seen:
            self._seen = versions
            if self.on_change is not None:
                self.on_change(versions)


class VersionReader:
    """Layer data versions, read through a coalescing barrier on one dedicated connection.

    At most one read is in flight and one is pending. A request joins the pending read, which is
    sent only after the one in flight returns, so it began after every request that joined it:
    whatever committed before a request arrived is in the versions it gets. While a read is in
    flight, every request that arrives shares the next one (one query per round trip).
    """

    def __init__(self, conninfo: str, sql_text: str, connect_timeout: int) -> None:
        self._conninfo = conninfo
        self._sql = sql_text
        self._timeout = connect_timeout
        self._conn: AsyncConnection[Any] | None = None
        self._pending: asyncio.Future[dict[str, int]] | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self.reads = 0

    async def current(self) -> dict[str, int]:
        """Versions as of a read that began after this call did."""
        pending = self._pending
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._pending = pending
            task = asyncio.ensure_future(self._run(pending))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(pending)

    async def _run(self, future: asyncio.Future[dict[str, int]]) -> None:
        async with self._lock:  # one read at a time on the connection
            if self._pending is future:
                self._pending = None  # from here on, newcomers wait for the next read
            try:
                future.set_result(await self._read())
            except Exception as exc:  # every waiter gets the failure, nobody hangs
                future.set_exception(exc)

    async def _read(self) -> dict[str, int]:
        self.reads += 1
        for attempt in (1, 2):
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await AsyncConnection.connect(
                        self._conninfo, autocommit=True, connect_timeout=self._timeout
                    )
                cur = await self._conn.execute(self._sql, prepare=True)
                return {str(layer): int(version) for layer, version in await cur.fetchall()}
            except psycopg.Error as exc:
                if self._conn is not None:
                    await self._conn.close()
                self._conn = None
                if attempt == 2:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    raise DatabaseUnavailable(f"cannot read layer versions: {first}") from exc
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
