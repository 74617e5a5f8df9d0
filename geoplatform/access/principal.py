"""The caller as the database sees it: a role, an area scope and the pii permission.

`apply_principal` sets them for the current transaction only (`set_config(..., true)` is
`SET LOCAL`), so a pooled connection never carries one request's rights into the next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geoplatform.errors import GeoPlatformError

PUBLIC = "public"
ANALYST = "analyst"
OFFICER = "officer"
ADMIN = "admin"
SERVICE = "service"
"""The server itself building in-memory aggregates; what it reads is published only through
k-anonymous suppression, never to a caller as rows."""
ROLES = (PUBLIC, ANALYST, OFFICER, ADMIN)
_CODE = re.compile(r"^[0-9]{12}$|^[0-9]{15}$")


class InvalidScope(GeoPlatformError, ValueError):
    """A scope code that is neither a 12-digit admin-area code nor a 15-digit grid code."""

    http_status = 400
    exit_code = 64


def scope_prefix(code: str) -> str:
    """The grid-code prefix an admin-area or grid code covers.

    Grid codes start with their community's 12 digits (DOMAIN.md); a street's code ends in
    000, a district's in 000000, a city's in 00000000: strip those to get the prefix.
    """
    code = code.strip()
    if not _CODE.match(code):
        raise InvalidScope(
            f"scope code {code!r} must be a 12-digit admin-area code or a 15-digit grid code"
        )
    if len(code) == 15:
        return code
    if code.endswith("00000000"):
        return code[:4]
    if code.endswith("000000"):
        return code[:6]
    if code.endswith("000"):
        return code[:9]
    return code


@dataclass(frozen=True)
class Principal:
    """Who is asking: `actor` names the key or token subject for the audit trail."""

    role: str = PUBLIC
    scope: tuple[str, ...] = field(default=())
    pii: bool = False
    actor: str = "anonymous"

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The scope as grid-code prefixes (what the policies compare)."""
        return tuple(sorted({scope_prefix(c) for c in self.scope}))

    @property
    def sees_people(self) -> bool:
        """True for roles that may read residents' rows (inside their scope)."""
        return self.role in (OFFICER, ADMIN)

    @property
    def cache_key(self) -> str:
        """What a cached answer is keyed on: role, scope and pii, never the actor."""
        if self.role == PUBLIC:
            return PUBLIC
        return f"{self.role}:{','.join(self.prefixes)}:{int(self.pii)}"

    def in_scope(self, grid_code: str | None) -> bool:
        """The policies' rule, in Python (for in-memory indexes): admin all, officer by prefix."""
        if self.role == ADMIN:
            return True
        if self.role != OFFICER or not grid_code:
            return False
        return any(grid_code.startswith(p) for p in self.prefixes)


ANONYMOUS = Principal()
SERVICE_PRINCIPAL = Principal(role=SERVICE, actor="server")


def apply_principal(conn: Connection, principal: Principal) -> None:
    """SET LOCAL the request's role, scope and pii for this transaction."""
    conn.execute(
        text(
            "SELECT set_config('geoplatform.role', :role, true),"
            " set_config('geoplatform.scope', :scope, true),"
            " set_config('geoplatform.pii', :pii, true)"
        ),
        {
            "role": principal.role,
            "scope": ",".join(principal.prefixes),
            "pii": "on" if principal.pii else "off",
        },
    )
