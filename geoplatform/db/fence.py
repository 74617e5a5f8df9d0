"""The version fence: how a commit that changes layer versions reaches every tile server in time.

Tile servers remember `meta.layer_versions` instead of reading it on every request (that read
cost a third of a cached tile's throughput, see bench/RESULTS.md). They may trust what they
remember only while this protocol holds; the ETL and the servers meet in the database, neither
imports the other.

Writer (the ETL, or anyone who commits a version bump), around its commit:
1. take the fence lock (`pg_advisory_lock`, exclusive) on a side connection: no server can be
   in the middle of (re)loading its versions;
2. `NOTIFY` *hold* on the versions channel, and wait until every listening server (a session
   named `LISTENER_APPLICATION` in `pg_stat_activity`) has acknowledged it. A server stops
   trusting its versions *before* it acknowledges, so from then on it reads them per request;
3. commit the data transaction;
4. `NOTIFY` *release* and drop the lock: servers reload their versions (under the lock, shared)
   and trust them again.

A server that does not acknowledge within the timeout (its event loop blocked, its network
stalled) is not waited for; it cannot serve stale tiles either, because a server trusts its
versions only while its heartbeat on the listening connection is younger than
`TRUST_WINDOW_S`, shorter than the timeout: a heartbeat that completed after the hold was sent
would have delivered the hold. See `geoplatform.tiles.freshness` for the server side.

Commits that bump versions without the fence (a hand-written UPDATE) still reach the servers:
a trigger on `meta.layer_versions` notifies *changed* at commit, a sub-millisecond later.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

CHANNEL = "geoplatform_layer_versions"
ACK_CHANNEL = "geoplatform_layer_versions_ack"
LISTENER_APPLICATION = "geoplatform-version-watch"
FENCE_LOCK_KEY = 0x67656F66656E6365  # "geofence"
TRUST_WINDOW_S = 1.0  # a server's heartbeat must be younger than this for it to trust
ACK_TIMEOUT_S = 5.0  # must stay above TRUST_WINDOW_S

log = logging.getLogger("geoplatform.fence")

_LISTENERS_SQL = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s"
)


@contextmanager
def version_fence(conninfo: str, *, timeout_s: float = ACK_TIMEOUT_S) -> Iterator[set[int]]:
    """Hold every tile server off its remembered versions for the block: commit inside it.

    Yields the backend pids of the servers that did not acknowledge in time (empty normally).
    """
    if timeout_s <= TRUST_WINDOW_S:
        raise ValueError(f"the fence timeout must exceed the trust window ({TRUST_WINDOW_S} s)")
    with psycopg.connect(conninfo, autocommit=True) as side:
        side.execute("SELECT pg_advisory_lock(%s)", (FENCE_LOCK_KEY,))
        token = secrets.token_hex(8)
        try:
            side.execute(f"LISTEN {ACK_CHANNEL}")
            waiting = _listeners(side)
            side.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"hold {token}"))
            missing = _await_acks(side, token, waiting, timeout_s)
            if missing:
                log.warning(
                    "%d tile server(s) did not acknowledge the version fence in %.1f s; they "
                    "fall back to reading versions per request: backend pids %s",
                    len(missing), timeout_s, sorted(missing),
                )  # fmt: skip
            yield missing
        finally:
            side.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"release {token}"))
            side.execute("SELECT pg_advisory_unlock(%s)", (FENCE_LOCK_KEY,))


def _listeners(conn: psycopg.Connection) -> set[int]:
    return {int(pid) for (pid,) in conn.execute(_LISTENERS_SQL, (LISTENER_APPLICATION,))}


def _await_acks(
    conn: psycopg.Connection, token: str, waiting: set[int], timeout_s: float
) -> set[int]:
    """Wait for an ack from each pid in `waiting`; forget those whose session has gone."""
    deadline = time.monotonic() + timeout_s
    while waiting:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        for notify in conn.notifies(timeout=min(remaining, 0.25), stop_after=1):
            if notify.channel == ACK_CHANNEL and notify.payload == token:
                waiting.discard(notify.pid)
        if waiting:
            waiting &= _listeners(conn)  # a server that stopped will never answer
    return waiting
