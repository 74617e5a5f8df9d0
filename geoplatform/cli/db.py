"""`geoplatform db ...`: the embedded cluster and migrations."""

from __future__ import annotations

import os
import shutil
from typing import Annotated

import typer

from geoplatform.cli.common import out, settings_from_env
from geoplatform.errors import GeoPlatformError

db_app = typer.Typer(help="The database: embedded cluster and migrations.", no_args_is_help=True)


@db_app.command("up")
def db_up() -> None:
    """Create (if needed) and start the project-local PostgreSQL cluster."""
    from geoplatform.db.engine import local_cluster

    settings = settings_from_env()
    if not settings.uses_embedded_cluster:
        out.print("GEOPLATFORM_DATABASE_URL is set: using that database, nothing local started")
        return
    for line in local_cluster(settings).up():
        out.print(line)


@db_app.command("down")
def db_down() -> None:
    """Stop the project-local cluster (its data stays)."""
    from geoplatform.db.engine import local_cluster

    settings = settings_from_env()
    if not settings.uses_embedded_cluster:
        out.print("GEOPLATFORM_DATABASE_URL is set: no local cluster to stop")
        return
    stopped = local_cluster(settings).down()
    out.print("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the database is reachable, and what it runs. Exits non-zero when it is not."""
    from geoplatform.db.engine import create_engine, server_info
    from geoplatform.db.migrate import current_revision, head_revision

    settings = settings_from_env()
    engine = create_engine(settings)
    try:
        info = server_info(engine)
        revision = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    where = "embedded cluster" if settings.uses_embedded_cluster else "GEOPLATFORM_DATABASE_URL"
    out.print(f"[green]up[/green] {info.url} ({where})")
    out.print(f"PostgreSQL {info.server_version}, PostGIS {info.postgis_version or 'not created'}")
    state = "at head" if revision == head else f"behind: run `geoplatform db migrate` ({head})"
    out.print(f"schema {revision or 'empty'} {state}; database size {info.database_size}")


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the migrations in sql/migrations up to head (a no-op when already there)."""
    from geoplatform.db.engine import create_engine
    from geoplatform.db.migrate import migrate

    engine = create_engine(settings_from_env())
    try:
        result = migrate(engine)
    finally:
        engine.dispose()
    if result.changed:
        out.print(f"migrated {result.before or 'empty database'} -> {result.after}")
    else:
        out.print(f"already at head {result.after}")


@db_app.command("reset")
def db_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Really delete every row.")] = False,
) -> None:
    """Drop the embedded cluster's database, recreate it and migrate (a new demo city uses it)."""
    from geoplatform.db.engine import create_engine, local_cluster
    from geoplatform.db.migrate import migrate
    from geoplatform.errors import ConfigurationError

    settings = settings_from_env()
    if not settings.uses_embedded_cluster:
        raise ConfigurationError(
            "refusing to drop a database named by GEOPLATFORM_DATABASE_URL; reset only the "
            "embedded cluster's"
        )
    if not yes:
        raise ConfigurationError("db reset deletes every row: run it again with --yes")
    cluster = local_cluster(settings)
    cluster.up()
    cluster.recreate_database()
    engine = create_engine(settings)
    try:
        result = migrate(engine)
    finally:
        engine.dispose()
    out.print(f"recreated database {cluster.database} and migrated it to {result.after}")


@db_app.command("url")
def db_url(
    hide_password: Annotated[bool, typer.Option(help="Print *** for the password.")] = False,
    role: Annotated[
        str,
        typer.Option(
            help="Whose URL: owner (migrations only), api (the server), etl (loads), "
            "analyst (notebooks, QGIS: no residents, no personal fields)."
        ),
    ] = "owner",
) -> None:
    """Print the database URL of one role (for psql, QGIS, notebooks)."""
    from geoplatform.db.engine import redact
    from geoplatform.db.roles import url_for_role

    url = url_for_role(settings_from_env(), role)
    print(redact(url) if hide_password else url)


@db_app.command("psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def db_psql(ctx: typer.Context) -> None:
    """Open psql on the database; extra arguments go to psql."""
    from geoplatform.db.engine import database_url

    url = database_url(settings_from_env())
    psql = shutil.which("psql")
    if psql is None:
        raise GeoPlatformError("psql not found: apt-get install -y postgresql-client")
    os.execv(psql, [psql, url, *ctx.args])


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Argument(help="What the migration does.")]) -> None:
    """Developers: write a migration from the difference between geoplatform.schema and the DB."""
    from geoplatform.db.engine import create_engine
    from geoplatform.db.migrate import new_revision

    engine = create_engine(settings_from_env())
    try:
        path = new_revision(engine, message)
    finally:
        engine.dispose()
    out.print(f"wrote {path}: review it before committing")
