"""Bearer JWTs from a configured issuer, verified with PyJWT against its JWKS (file or URL).

Claims read: `sub` (the actor), `role` (analyst, officer, admin), `scope` (a list or a
space/comma string of admin-area or grid codes, officers only), `pii` (boolean).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jwt

from geoplatform.access.principal import OFFICER, Principal, scope_prefix
from geoplatform.errors import ConfigurationError, GeoPlatformError

ALGORITHMS = ["RS256", "ES256", "EdDSA"]


class InvalidCredentials(GeoPlatformError, PermissionError):
    """A key or token that is unknown, revoked, expired or does not verify."""

    http_status = 401


class TokenVerifier:
    """Verifies tokens of one issuer for one audience; keys from a JWKS file or URL."""

    def __init__(self, *, issuer: str, audience: str, jwks: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self._client: jwt.PyJWKClient | None = None
        self._set: jwt.PyJWKSet | None = None
        if re.match(r"^https?://", jwks):
            self._client = jwt.PyJWKClient(jwks, cache_keys=True, lifespan=300)
        else:
            path = Path(jwks)
            try:
                self._set = jwt.PyJWKSet.from_dict(json.loads(path.read_text()))
            except (OSError, ValueError, jwt.PyJWTError) as exc:
                raise ConfigurationError(f"cannot read the JWKS file {path}: {exc}") from exc

    def _key(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        assert self._set is not None
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._set.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise InvalidCredentials("the token's key id is not in the issuer's JWKS")

    def verify(self, token: str) -> Principal:
        """The token's principal; InvalidCredentials when anything does not hold."""
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidCredentials(f"bearer token refused: {exc}") from exc
        return principal_from_claims(claims)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    role = claims.get("role")
    if role not in ("analyst", "officer", "admin"):
        raise InvalidCredentials(
            "bearer token refused: role claim must be analyst, officer or admin"
        )
    raw = claims.get("scope") or []
    codes = tuple(re.split(r"[\s,]+", raw.strip()) if isinstance(raw, str) else map(str, raw))
    codes = tuple(c for c in codes if c)
    if role == OFFICER and not codes:
        raise InvalidCredentials("bearer token refused: an officer token needs a scope claim")
    try:
        for code in codes:
            scope_prefix(code)
    except GeoPlatformError as exc:
        raise InvalidCredentials(f"bearer token refused: {exc}") from exc
    return Principal(
        role=role,
        scope=codes if role == OFFICER else (),
        pii=bool(claims.get("pii", False)) and role in ("officer", "admin"),
        actor=f"jwt:{claims['sub']}",
    )
