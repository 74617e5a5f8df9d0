"""`geoplatform keys ...` and `geoplatform audit ...`: API keys and the audit trail (as owner)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from geoplatform.cli.common import out, settings_from_env

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
audit_app = typer.Typer(
    help="The audit of person-level reads: verify, anchor, prune.", no_args_is_help=True
)


def _owner_engine() -> Engine:
    from geoplatform.db.engine import create_engine

    return create_engine(settings_from_env())


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="analyst, officer or admin.")],
    name: Annotated[str, typer.Option(help="Who or what holds the key (shown in the audit).")],
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Officers: an admin-area (12 digits) or grid (15) code; repeatable."),
    ] = None,
    pii: Annotated[bool, typer.Option(help="May see names and phones unmasked.")] = False,
    expires_days: Annotated[
        int | None, typer.Option(min=1, help="Days until the key stops working.")
    ] = None,
) -> None:
    """Create a key and print it once: only its hash is stored."""
    from geoplatform.access.keys import create_key
    from geoplatform.db.engine import transaction

    codes = tuple(c for part in (scope or []) for c in part.split(",") if c.strip())
    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    engine = _owner_engine()
    try:
        with transaction(engine) as conn:
            key, info = create_key(
                conn, name=name, role=role, scope=codes, pii=pii, expires_at=expires
            )
    finally:
        engine.dispose()
    print(key)
    out.print(
        f"key {info.id} ({info.name}, {info.role}"
        + (f", scope {','.join(info.scope)}" if info.scope else "")
        + (", pii" if info.pii else "")
        + (f", expires {info.expires_at:%Y-%m-%d}" if info.expires_at else "")
        + "): keep it now, it is not shown again",
        highlight=False,
    )


@keys_app.command("list")
def keys_list() -> None:
    """Every key: id, name, prefix, role, scope, expiry, revocation (never the secret)."""
    from geoplatform.access.keys import list_keys
    from geoplatform.db.engine import transaction

    engine = _owner_engine()
    try:
        with transaction(engine) as conn:
            keys = list_keys(conn)
    finally:
        engine.dispose()
    for k in keys:
        state = (
            "revoked"
            if k.revoked_at
            else ("expired" if k.expires_at and k.expires_at <= datetime.now(UTC) else "active")
        )
        print(
            f"{k.id}\t{k.name}\tgpk_{k.prefix}_…\t{k.role}\t{','.join(k.scope) or '-'}\t"
            f"{'pii' if k.pii else '-'}\t{k.expires_at or 'never'}\t{state}"
        )


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's id, name or prefix.")]) -> None:
    """Revoke a key: it stops working at once."""
    from geoplatform.access.keys import revoke_key
    from geoplatform.db.engine import transaction

    engine = _owner_engine()
    try:
        with transaction(engine) as conn:
            info = revoke_key(conn, key)
    finally:
        engine.dispose()
    out.print(f"revoked key {info.id} ({info.name})")


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None, typer.Option(help="A head printed earlier by `audit anchor` (seq:hash).")
    ] = None,
) -> None:
    """Check every link of the chain; exit 1 naming the first broken one."""
    from geoplatform.access.audit import verify
    from geoplatform.db.engine import transaction

    engine = _owner_engine()
    try:
        with transaction(engine) as conn:
            result = verify(conn, anchor=anchor)
    finally:
        engine.dispose()
    if not result.ok:
        out.print(f"[red]broken[/red] at row {result.broken_seq}: {result.reason}")
        raise typer.Exit(1)
    out.print(f"ok: {result.rows} rows, head {result.head_seq}:{result.head_hash}")


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Print the chain head (seq:hash) to keep outside the database."""
    from geoplatform.access.audit import anchor
    from geoplatform.db.engine import transaction

    engine = _owner_engine()
    try:
        with transaction(engine) as conn:
            head = anchor(conn)
    finally:
        engine.dispose()
    print(head or "empty")


@audit_app.command("prune")
def audit_prune(
    keep_days: Annotated[
        int | None, typer.Option(min=1, help="Keep this many days (default: settings).")
    ] = None,
) -> None:
    """Delete rows past retention (default 180 days); the chain stays verifiable."""
    from geoplatform.access.audit import prune
    from geoplatform.db.engine import transaction

    settings = settings_from_env()
    engine = _owner_engine()
    try:
        with transaction(engine) as conn:
            n = prune(conn, keep_days=keep_days or settings.audit_retention_days)
    finally:
        engine.dispose()
    out.print(f"pruned {n} audit rows")
