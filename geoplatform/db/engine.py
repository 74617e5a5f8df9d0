"""Engines and transactions: where every connection to PostGIS comes from.

The URL is `GEOPLATFORM_DATABASE_URL` when set, else the embedded cluster's. Connection failures
become `DatabaseUnavailable` with a one-line reason and never show a password.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from geoplatform.db.cluster import ClusterState, LocalCluster
from geoplatform.db.errors import translate_database_error
from geoplatform.errors import DatabaseUnavailable
from geoplatform.settings import Settings


def local_cluster(settings: Settings, *, ephemeral: bool = False) -> LocalCluster:
    """The project-local cluster these settings describe."""
    return LocalCluster(
        settings.resolved_home,
        database=settings.database_name,
        pg_bindir=settings.pg_bindir,
        ephemeral=ephemeral,
    )


def database_url(settings: Settings) -> str:
    """libpq-style URL of the database to use; raises if the embedded cluster is not running."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    cluster = local_cluster(settings)
    state = cluster.state()
    if state is ClusterState.MISSING:
        raise DatabaseUnavailable(
            f"no local cluster under {cluster.home}: run `geoplatform db up` "
            "(or set GEOPLATFORM_DATABASE_URL)"
        )
    if state is ClusterState.STOPPED:
        raise DatabaseUnavailable(
            f"the local cluster under {cluster.home} is stopped: run `geoplatform db up`"
        )
    return cluster.url()


def sqlalchemy_url(url: str) -> sa.URL:
    """The URL with the psycopg 3 driver, whatever scheme the user wrote."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"not a database URL: {redact(url)}") from exc
    if parsed.get_backend_name() != "postgresql":
        raise DatabaseUnavailable(f"not a PostgreSQL URL: {redact(url)}")
    return parsed.set(drivername="postgresql+psycopg")


def libpq_url(url: sa.URL) -> str:
    """A SQLAlchemy URL as the libpq connection string psycopg takes (password included)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def create_engine(settings: Settings, *, url: str | None = None) -> Engine:
    """An engine with a small pool; checks the connection before handing it out."""
    target = sqlalchemy_url(url or database_url(settings))
    return sa.create_engine(
        target,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": settings.connect_timeout_s},
    )


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside one transaction; database refusals become domain errors."""
    try:
        with engine.begin() as conn:
            yield conn
    except (DBAPIError, psycopg.Error) as exc:
        raise translate_database_error(exc, url=str(engine.url)) from exc


@dataclass(frozen=True)
class ServerInfo:
    """What `db status` reports about a reachable database."""

    url: str
    server_version: str
    postgis_version: str | None
    database_size: str


def server_info(engine: Engine) -> ServerInfo:
    """Connect once and describe the server; raises DatabaseUnavailable when it cannot."""
    with transaction(engine) as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar_one()
        postgis = conn.execute(
            sa.text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
        ).scalar()
        size = conn.execute(
            sa.text("SELECT pg_size_pretty(pg_database_size(current_database()))")
        ).scalar_one()
    return ServerInfo(
        url=engine.url.render_as_string(hide_password=True),
        server_version=str(version),
        postgis_version=str(postgis) if postgis else None,
        database_size=str(size),
    )
