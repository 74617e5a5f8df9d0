"""The audit of person-level reads: append through `access.audit_append`, verify the chain,
print its anchor, prune by retention.

The hash of each row is computed by the database (meta.audit_digest) when it is written and
recomputed here from the stored columns by the same function, so verification does not depend
on a second implementation agreeing with the first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geoplatform.access.principal import Principal


def id_hmac(key: bytes, value: object) -> str:
    """A keyed HMAC of one record id: the trail proves which rows were read, not what they hold."""
    return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()[:32]


def append(
    conn: Connection,
    *,
    principal: Principal,
    endpoint: str,
    params: dict[str, Any],
    ids: Iterable[object],
    hmac_key: bytes,
) -> int:
    """One audit row for one answer that returned person-level data; returns its seq."""
    hashed = [id_hmac(hmac_key, i) for i in ids]
    seq = conn.execute(
        text(
            "SELECT access.audit_append(:actor, :role, :scope, :endpoint,"
            " CAST(:params AS jsonb), :n, :ids)"
        ),
        {
            "actor": principal.actor,
            "role": principal.role,
            "scope": ",".join(principal.prefixes),
            "endpoint": endpoint,
            "params": json.dumps(params, sort_keys=True, default=str),
            "n": len(hashed),
            "ids": hashed,
        },
    ).scalar_one()
    return int(seq)


@dataclass(frozen=True)
class Verification:
    """`ok` with the rows checked and the head, or the first broken link and why."""

    rows: int
    head_seq: int | None
    head_hash: str | None
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(conn: Connection, *, anchor: str | None = None) -> Verification:
    """Walk the chain from its start (or the last pruning checkpoint) to the head.

    `anchor` ("seq:hash" as `anchor` printed it) also checks that a head kept outside the
    database is still in the chain: deleting or truncating the tail is then detected too.
    """
    start = conn.execute(
        text("SELECT seq, hash FROM meta.audit_checkpoints ORDER BY seq DESC LIMIT 1")
    ).first()
    expected_seq = (start.seq if start else 0) + 1
    prev: bytes | None = bytes(start.hash) if start else None
    rows = conn.execute(
        text(
            "SELECT a.seq, a.prev_hash, a.hash, meta.audit_digest(a) AS digest"
            " FROM meta.audit_log AS a ORDER BY a.seq"
        )
    )
    n = 0
    head: tuple[int, bytes] | None = None
    for row in rows:
        n += 1
        if row.seq != expected_seq:
            return Verification(n, None, None, expected_seq, f"row {expected_seq} is missing")
        if (bytes(row.prev_hash) if row.prev_hash is not None else None) != prev:
            return Verification(n, None, None, row.seq, "its link to the previous row is broken")
        if bytes(row.digest) != bytes(row.hash):
            return Verification(n, None, None, row.seq, "its content does not match its hash")
        prev = bytes(row.hash)
        head = (row.seq, prev)
        expected_seq += 1
    if anchor is not None:
        seq_text, _, hash_text = anchor.partition(":")
        found = conn.execute(
            text("SELECT hash FROM meta.audit_log WHERE seq = :s"), {"s": int(seq_text)}
        ).scalar()
        checkpoint = conn.execute(
            text("SELECT hash FROM meta.audit_checkpoints WHERE seq = :s"), {"s": int(seq_text)}
        ).scalar()
        stored = found if found is not None else checkpoint
        if stored is None or bytes(stored).hex() != hash_text:
            return Verification(
                n, None, None, int(seq_text), "the anchored row is gone or differs from the anchor"
            )
    if head is None:
        return Verification(
            0, start.seq if start else None, bytes(start.hash).hex() if start else None
        )
    return Verification(n, head[0], head[1].hex())


def anchor(conn: Connection) -> str | None:
    """The chain head as "seq:hash", to keep outside the database."""
    row = conn.execute(
        text("SELECT seq, hash FROM meta.audit_log ORDER BY seq DESC LIMIT 1")
    ).first()
    if row is None:
        row = conn.execute(
            text("SELECT seq, hash FROM meta.audit_checkpoints ORDER BY seq DESC LIMIT 1")
        ).first()
    return None if row is None else f"{row.seq}:{bytes(row.hash).hex()}"


def prune(conn: Connection, *, keep_days: int) -> int:
    """Delete rows older than `keep_days`, leaving a checkpoint; returns how many went."""
    return int(
        conn.execute(
            text("SELECT meta.audit_prune(make_interval(days => :d))"), {"d": keep_days}
        ).scalar_one()
    )
