"""Who is asking: API keys and bearer tokens turned into a `Principal`, before anything else.

Keys are looked up through `access.api_key` (the api role cannot read the key table) and kept
for `KEY_TTL_S` seconds, so a cached tile with a key costs a dictionary lookup, not a query; a
revoked key stops working within that time. No credentials: the `public` principal.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from geoplatform.access.keys import key_hash
from geoplatform.access.principal import ANONYMOUS, Principal
from geoplatform.access.tokens import InvalidCredentials, TokenVerifier
from geoplatform.settings import Settings

KEY_TTL_S = 10.0
_SET_SQL = (
    "SELECT set_config('geoplatform.role', %s, true), set_config('geoplatform.scope', %s, true),"
    " set_config('geoplatform.pii', %s, true)"
)


class ScopedPool:
    """The pool as one principal sees it: every connection comes inside a transaction whose
    role, scope and pii settings (SET LOCAL) are the principal's, so row-level security in
    PostgreSQL decides what it reads, whatever the query forgot."""

    def __init__(self, pool: AsyncConnectionPool[Any], principal: Principal) -> None:
        self._pool = pool
        self.principal = principal
        self._params = (
            principal.role,
            ",".join(principal.prefixes),
            "on" if principal.pii else "off",
        )

    @asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[AsyncConnection[Any]]:
        async with self._pool.connection(timeout=timeout) as conn, conn.transaction():
            await conn.execute(_SET_SQL, self._params)
            yield conn

    def __getattr__(self, name: str) -> Any:  # stats, size...: the pool's own
        return getattr(self._pool, name)


class Authenticator:
    """Headers to a principal: `X-API-Key: gpk_…`, `Authorization: Bearer gpk_…` or a JWT."""

    def __init__(self, settings: Settings, pool: AsyncConnectionPool[Any]) -> None:
        self._pool = pool
        self._keys: dict[bytes, tuple[float, Principal | None]] = {}
        self._tokens: TokenVerifier | None = None
        self._anonymous = (
            ANONYMOUS
            if settings.anonymous_role == ANONYMOUS.role
            else Principal(role=settings.anonymous_role, actor="anonymous")
        )
        if settings.jwt_issuer and settings.jwt_jwks:
            self._tokens = TokenVerifier(
                issuer=settings.jwt_issuer, audience=settings.jwt_audience, jwks=settings.jwt_jwks
            )

    async def principal(self, headers: Iterable[tuple[bytes, bytes]]) -> Principal:
        """The caller; InvalidCredentials (401) for a key or token that does not hold."""
        credential = None
        for name, value in headers:
            if name == b"x-api-key":
                credential = value.decode("latin-1").strip()
                break
            if name == b"authorization":
                scheme, _, rest = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not rest.strip():
                    raise InvalidCredentials("Authorization must be `Bearer <key or token>`")
                credential = rest.strip()
                break
        if credential is None:
            return self._anonymous
        if credential.startswith("gpk_"):
            found = await self._key(credential)
            if found is None:
                raise InvalidCredentials("unknown, revoked or expired API key")
            return found
        if self._tokens is None:
            raise InvalidCredentials("bearer tokens are not accepted here (no issuer configured)")
        return self._tokens.verify(credential)

    async def _key(self, key: str) -> Principal | None:
        digest = key_hash(key)
        now = time.monotonic()
        held = self._keys.get(digest)
        if held is not None and held[0] > now:
            return held[1]
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT name, role, scope, pii FROM access.api_key(%s)", (digest,)
                )
            ).fetchone()
        found = None
        if row is not None:
            found = Principal(
                role=row[1], scope=tuple(row[2]), pii=bool(row[3]), actor=f"key:{row[0]}"
            )
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[digest] = (now + KEY_TTL_S, found)
        return found


def credential_digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
