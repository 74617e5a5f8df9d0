"""API keys (stored as hashes, shown once, expiring, revocable) and bearer JWTs."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from geoplatform.access.keys import (
    InvalidKeyRequest,
    create_key,
    key_hash,
    principal_for_key,
    revoke_key,
)
from geoplatform.access.tokens import InvalidCredentials, TokenVerifier
from geoplatform.cli import app
from geoplatform.db.engine import create_engine
from geoplatform.settings import Settings
from tests.access_fixtures import as_role


def test_keys_are_stored_as_hashes_and_found_by_the_api_role(
    database_url: str, engine: Engine
) -> None:
    with engine.begin() as conn:
        key, info = create_key(conn, name="street", role="officer", scope=("150302001000",))
        stored = conn.execute(sa.text("SELECT key_hash, prefix FROM meta.api_keys")).one()
    assert bytes(stored.key_hash) == key_hash(key)
    assert key.startswith(f"gpk_{stored.prefix}_")
    api = create_engine(Settings(), url=as_role(database_url, "api"))
    try:
        with api.begin() as conn:
            found = principal_for_key(conn, key)
            assert principal_for_key(conn, key + "x") is None
        assert found is not None
        assert (found.role, found.prefixes, found.actor) == (
            "officer",
            ("150302001",),
            "key:street",
        )
        with engine.begin() as conn:
            revoke_key(conn, str(info.id))
        with api.begin() as conn:
            assert principal_for_key(conn, key) is None
    finally:
        api.dispose()


def test_expired_keys_stop_working(engine: Engine) -> None:
    with engine.begin() as conn:
        key, _ = create_key(
            conn, name="old", role="analyst", expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        assert principal_for_key(conn, key) is None


@pytest.mark.parametrize(
    ("role", "scope", "pii", "message"),
    [
        ("officer", (), False, "needs --scope"),
        ("analyst", ("150302001000",), False, "no scope"),
        ("public", (), False, "must be one of"),
        ("analyst", (), True, "pii"),
        ("officer", ("1503",), False, "12-digit"),
    ],
)
def test_impossible_keys_are_refused(
    engine: Engine, role: str, scope: tuple[str, ...], pii: bool, message: str
) -> None:
    with engine.begin() as conn, pytest.raises((InvalidKeyRequest, ValueError), match=message):
        create_key(conn, name="x", role=role, scope=scope, pii=pii)


def test_cli_create_list_revoke(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOPLATFORM_DATABASE_URL", database_url)
    runner = CliRunner()
    made = runner.invoke(
        app,
        ["keys", "create", "--role", "officer", "--scope", "150302001001", "--name", "grid-a",
         "--expires-days", "30"],
    )  # fmt: skip
    assert made.exit_code == 0, made.stdout
    key = made.stdout.splitlines()[0]
    assert key.startswith("gpk_")
    listed = runner.invoke(app, ["keys", "list"])
    assert "grid-a" in listed.stdout
    assert key not in listed.stdout  # never shown again
    assert "active" in listed.stdout
    assert runner.invoke(app, ["keys", "revoke", "grid-a"]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["keys", "list"]).stdout
    bad = runner.invoke(app, ["keys", "create", "--role", "officer", "--name", "x"])
    assert bad.exit_code != 0


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> tuple[rsa.RSAPrivateKey, Path]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return private, path


def _token(private: rsa.RSAPrivateKey, **claims: object) -> str:
    base: dict[str, object] = {
        "iss": "https://idp.example",
        "aud": "geoplatform",
        "sub": "officer-7",
        "exp": int(time.time()) + 60,
    }
    base.update(claims)
    return jwt.encode(base, private, algorithm="RS256", headers={"kid": "k1"})


def test_jwt_from_the_configured_issuer(issuer: tuple[rsa.RSAPrivateKey, Path]) -> None:
    private, path = issuer
    verifier = TokenVerifier(issuer="https://idp.example", audience="geoplatform", jwks=str(path))
    p = verifier.verify(
        _token(private, role="officer", scope="150302001000 150303000000", pii=True)
    )
    assert (p.role, p.prefixes, p.pii, p.actor) == (
        "officer",
        ("150302001", "150303"),
        True,
        "jwt:officer-7",
    )
    for bad in (
        _token(private, role="officer"),  # no scope
        _token(private, role="root"),
        _token(private, role="admin", exp=int(time.time()) - 10),
        _token(private, role="admin", iss="https://other"),
        _token(private, role="admin", aud="someone-else"),
        _token(rsa.generate_private_key(public_exponent=65537, key_size=2048), role="admin"),
    ):
        with pytest.raises(InvalidCredentials):
            verifier.verify(bad)
