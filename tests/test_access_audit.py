"""The audit chain: appends through the api's one function; every kind of tampering is found."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from geoplatform.access import audit
from geoplatform.access.principal import Principal
from geoplatform.cli import app
from geoplatform.db.engine import create_engine
from geoplatform.settings import Settings
from tests.access_fixtures import as_role

KEY = b"k" * 32
OFFICER = Principal(role="officer", scope=("150302001001",), actor="key:street-office")


def _append(url: str, n: int) -> None:
    engine = create_engine(Settings(), url=as_role(url, "api"))
    try:
        with engine.begin() as conn:
            for i in range(n):
                audit.append(
                    conn,
                    principal=OFFICER,
                    endpoint="/collections/people/items",
                    params={"limit": i},
                    ids=range(i, i + 3),
                    hmac_key=KEY,
                )
    finally:
        engine.dispose()


def _tamper(url: str, *statements: str) -> None:
    with psycopg.connect(url) as conn:  # the owner: what an insider with the owner URL can do
        conn.execute("ALTER TABLE meta.audit_log DISABLE TRIGGER USER")
        for s in statements:
            conn.execute(s)
        conn.execute("ALTER TABLE meta.audit_log ENABLE TRIGGER USER")


def _verify(engine: Engine, anchor: str | None = None) -> audit.Verification:
    with engine.begin() as conn:
        return audit.verify(conn, anchor=anchor)


def test_appends_chain_and_verify(database_url: str, engine: Engine) -> None:
    _append(database_url, 5)
    result = _verify(engine)
    assert result.ok
    assert result.rows == 5
    with engine.begin() as conn:
        rows = conn.execute(
            sa.text("SELECT seq, actor, role, row_count, id_hmacs FROM meta.audit_log ORDER BY seq")
        ).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert {r.actor for r in rows} == {"key:street-office"}
    assert all(r.row_count == 3 and len(r.id_hmacs) == 3 for r in rows)
    assert audit.id_hmac(KEY, 0) in rows[0].id_hmacs  # ids as keyed HMACs, never in clear


@pytest.mark.parametrize(
    ("statements", "broken"),
    [
        (["UPDATE meta.audit_log SET row_count = 0 WHERE seq = 3"], 3),
        (["UPDATE meta.audit_log SET params = '{\"limit\": 9}' WHERE seq = 2"], 2),
        (["DELETE FROM meta.audit_log WHERE seq = 2"], 2),
        # reorder: rows 2 and 4 swap content (and their seq), hashes kept
        (
            [
                "UPDATE meta.audit_log SET seq = -2 WHERE seq = 2",
                "UPDATE meta.audit_log SET seq = 2 WHERE seq = 4",
                "UPDATE meta.audit_log SET seq = 4 WHERE seq = -2",
            ],
            2,
        ),
        # a forged row re-hashed in place still breaks the next link
        (
            [
                "UPDATE meta.audit_log SET row_count = 0 WHERE seq = 3",
                "UPDATE meta.audit_log a SET hash = meta.audit_digest(a) WHERE seq = 3",
            ],
            4,
        ),
    ],
)
def test_tampering_is_found(
    database_url: str, engine: Engine, statements: list[str], broken: int
) -> None:
    _append(database_url, 5)
    _tamper(database_url, *statements)
    result = _verify(engine)
    assert not result.ok
    assert result.broken_seq == broken


def test_truncating_or_cutting_the_tail_is_found_against_the_anchor(
    database_url: str, engine: Engine
) -> None:
    _append(database_url, 4)
    with engine.begin() as conn:
        head = audit.anchor(conn)
    assert head is not None
    assert head.startswith("4:")
    assert _verify(engine, head).ok
    _tamper(database_url, "DELETE FROM meta.audit_log WHERE seq = 4")
    assert _verify(engine).ok  # a cut tail alone is a shorter valid chain...
    assert not _verify(engine, head).ok  # ...which the anchor kept outside exposes
    _tamper(database_url, "TRUNCATE meta.audit_log")
    assert not _verify(engine, head).ok


def test_triggers_refuse_changes_even_to_the_owner(database_url: str, engine: Engine) -> None:
    _append(database_url, 2)
    for statement in (
        "UPDATE meta.audit_log SET actor = 'x'",
        "DELETE FROM meta.audit_log",
        "TRUNCATE meta.audit_log",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))


def test_pruning_keeps_the_chain_verifiable(database_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        for days in (400, 300, 200):
            conn.execute(
                sa.text(
                    "INSERT INTO meta.audit_log (actor, action, at)"
                    " VALUES ('t', 'read_people', now() - make_interval(days => :d))"
                ),
                {"d": days},
            )
    _append(database_url, 2)
    with engine.begin() as conn:
        assert audit.prune(conn, keep_days=180) == 3
    result = _verify(engine)
    assert result.ok
    assert result.rows == 2
    assert result.head_seq == 5
    _append(database_url, 1)
    assert _verify(engine).ok
    _tamper(database_url, "DELETE FROM meta.audit_log WHERE seq = 4")
    assert _verify(engine).broken_seq == 4


def test_cli_verify_and_anchor(
    database_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(database_url, 3)
    monkeypatch.setenv("GEOPLATFORM_DATABASE_URL", database_url)
    runner = CliRunner()
    anchor = runner.invoke(app, ["audit", "anchor"])
    assert anchor.exit_code == 0
    assert anchor.stdout.startswith("3:")
    ok = runner.invoke(app, ["audit", "verify", "--anchor", anchor.stdout.strip()])
    assert ok.exit_code == 0, ok.stdout
    _tamper(database_url, "UPDATE meta.audit_log SET role = 'admin' WHERE seq = 1")
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "row 1" in bad.stdout
