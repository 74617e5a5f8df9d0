"""API keys: `gpk_<prefix>_<secret>`, shown once; the database keeps the SHA-256 of the whole.

A key's secret is 32 random bytes, so an unsalted SHA-256 cannot be brute-forced and lets the
server find the key with one indexed lookup (`access.api_key`, SECURITY DEFINER: api cannot
read meta.api_keys itself).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geoplatform.access.principal import ADMIN, ANALYST, OFFICER, Principal, scope_prefix
from geoplatform.errors import GeoPlatformError, NotFound

KEY_ROLES = (ANALYST, OFFICER, ADMIN)


class InvalidKeyRequest(GeoPlatformError, ValueError):
    """A key that cannot exist: unknown role, officer without scope, scope on another role."""

    exit_code = 64


def key_hash(key: str) -> bytes:
    """What the database stores and looks keys up by."""
    return hashlib.sha256(key.encode()).digest()


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    prefix: str
    role: str
    scope: tuple[str, ...]
    pii: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def create_key(
    conn: Connection,
    *,
    name: str,
    role: str,
    scope: tuple[str, ...] = (),
    pii: bool = False,
    expires_at: datetime | None = None,
) -> tuple[str, KeyInfo]:
    """Store a new key and return its secret (the only time it exists outside the holder)."""
    if role not in KEY_ROLES:
        raise InvalidKeyRequest(f"key role must be one of {', '.join(KEY_ROLES)}, not {role!r}")
    if role == OFFICER and not scope:
        raise InvalidKeyRequest("an officer key needs --scope: admin-area or grid codes")
    if role != OFFICER and scope:
        raise InvalidKeyRequest(f"a {role} key has no scope: only officers are scoped")
    if pii and role not in (OFFICER, ADMIN):
        raise InvalidKeyRequest("the pii permission is for officer and admin keys")
    for code in scope:
        scope_prefix(code)  # validates
    prefix = secrets.token_hex(4)
    key = f"gpk_{prefix}_{secrets.token_urlsafe(32)}"
    row = conn.execute(
        text(
            "INSERT INTO meta.api_keys (name, prefix, key_hash, role, scope, pii, expires_at)"
            " VALUES (:name, :prefix, :hash, :role, :scope, :pii, :expires)"
            " RETURNING id, name, prefix, role, scope, pii, created_at, expires_at, revoked_at"
        ),
        {
            "name": name,
            "prefix": prefix,
            "hash": key_hash(key),
            "role": role,
            "scope": list(scope),
            "pii": pii,
            "expires": expires_at,
        },
    ).one()
    return key, _info(row)


def _info(row: object) -> KeyInfo:
    r = row._mapping  # type: ignore[attr-defined]
    return KeyInfo(
        id=r["id"],
        name=r["name"],
        prefix=r["prefix"],
        role=r["role"],
        scope=tuple(r["scope"]),
        pii=r["pii"],
        created_at=r["created_at"],
        expires_at=r["expires_at"],
        revoked_at=r["revoked_at"],
    )


def list_keys(conn: Connection) -> list[KeyInfo]:
    rows = conn.execute(
        text(
            "SELECT id, name, prefix, role, scope, pii, created_at, expires_at, revoked_at"
            " FROM meta.api_keys ORDER BY id"
        )
    )
    return [_info(r) for r in rows]


def revoke_key(conn: Connection, ident: str) -> KeyInfo:
    """Revoke by id, name or prefix; a revoked key stops working at the next request."""
    rows = conn.execute(
        text(
            "UPDATE meta.api_keys SET revoked_at = coalesce(revoked_at, now())"
            " WHERE id::text = :k OR name = :k OR prefix = :k"
            " RETURNING id, name, prefix, role, scope, pii, created_at, expires_at, revoked_at"
        ),
        {"k": ident},
    ).all()
    if not rows:
        raise NotFound(f"no API key with id, name or prefix {ident!r}")
    if len(rows) > 1:
        raise InvalidKeyRequest(f"{ident!r} names {len(rows)} keys: revoke by id")
    return _info(rows[0])


def principal_for_key(conn: Connection, key: str) -> Principal | None:
    """The key's principal, or None when it is unknown, revoked or expired."""
    row = conn.execute(
        text("SELECT key_id, name, role, scope, pii FROM access.api_key(:h)"),
        {"h": key_hash(key)},
    ).first()
    if row is None:
        return None
    return Principal(
        role=row.role, scope=tuple(row.scope), pii=bool(row.pii), actor=f"key:{row.name}"
    )
