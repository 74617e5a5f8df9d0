"""Access and privacy: who is asking (keys, tokens), what they may see (role, scope, pii),
the per-transaction settings PostgreSQL's row-level security reads, k-anonymous aggregates of
people, and the hash-chained audit of person-level reads."""

from geoplatform.access.principal import (
    ADMIN,
    ANALYST,
    OFFICER,
    PUBLIC,
    ROLES,
    Principal,
    apply_principal,
    scope_prefix,
)

__all__ = [
    "ADMIN",
    "ANALYST",
    "OFFICER",
    "PUBLIC",
    "ROLES",
    "Principal",
    "apply_principal",
    "scope_prefix",
]
