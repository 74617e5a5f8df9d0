"""The database roles the platform uses and how each one connects.

Migrations create them (sql/migrations 0007). The owner is the login that runs migrations and
nothing else; `api` (the server), `etl` (the loaders) and `analyst` (notebooks, QGIS) log in
with passwords derived from the owner's: whoever holds the owner URL can print the others
(`geoplatform db url --role NAME`), and no role's URL reveals the owner's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from geoplatform.errors import ConfigurationError
from geoplatform.settings import Settings

OWNER = "owner"
API = "api"
ETL = "etl"
ANALYST = "analyst"
LOGIN_ROLES = (API, ETL, ANALYST)
"""Roles migrations create; none is a superuser, none bypasses row-level security."""


def role_password(owner_password: str, role: str) -> str:
    """The password migrations give `role`: an HMAC of its name under the owner's password."""
    digest = hmac.new(owner_password.encode(), f"geoplatform-role:{role}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:18]).decode()


def role_url(owner_url: str, role: str) -> str:
    """The URL `role` connects with, built from the owner's URL (same host, port, database)."""
    if role == OWNER:
        return owner_url
    if role not in LOGIN_ROLES:
        raise ConfigurationError(
            f"unknown database role {role!r}: one of {', '.join((OWNER, *LOGIN_ROLES))}"
        )
    url = make_url(owner_url)
    password = role_password(url.password, role) if url.password else None
    return url.set(username=role, password=password).render_as_string(hide_password=False)


def url_for_role(settings: Settings, role: str) -> str:
    """The URL `role` connects with under these settings (an explicit URL setting wins)."""
    from geoplatform.db.engine import database_url

    explicit = {API: settings.api_database_url, ETL: settings.etl_database_url}.get(role)
    if explicit is not None:
        return explicit.get_secret_value()
    return role_url(database_url(settings), role)


def role_powers(conn: Connection) -> tuple[str, bool, bool]:
    """(name, rolsuper, rolbypassrls) of the connection's login role."""
    row = conn.execute(
        text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    return str(row.rolname), bool(row.rolsuper), bool(row.rolbypassrls)
