"""Access enforced by PostgreSQL itself: roles, row-level security, the narrow functions and
the leak test in PostgreSQL's own style (a cheap function that reports every row it sees)."""

from __future__ import annotations

import psycopg
import pytest

from geoplatform.access.principal import Principal, scope_prefix
from geoplatform.db.roles import LOGIN_ROLES
from tests.access_fixtures import GRIDS, as_role, seed_people
from tests.tiles_fixtures import seed_city


@pytest.fixture
def city_url(database_url: str) -> str:
    seed_city(database_url, incidents=600, buildings=50)
    seed_people(database_url)
    return database_url


def _set(conn: psycopg.Connection, p: Principal) -> None:
    conn.execute(
        "SELECT set_config('geoplatform.role', %s, true), set_config('geoplatform.scope', %s,"
        " true), set_config('geoplatform.pii', %s, true)",
        (p.role, ",".join(p.prefixes), "on" if p.pii else "off"),
    )


def test_no_role_the_server_or_analyst_uses_is_super_or_bypasses_rls(city_url: str) -> None:
    for role in LOGIN_ROLES:
        with psycopg.connect(as_role(city_url, role)) as conn:
            name, sup, bypass = conn.execute(
                "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            ).fetchone()  # type: ignore[misc]
            assert (name, sup, bypass) == (role, False, False)
            owned = conn.execute(
                "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles"
                " WHERE rolname = current_user)"
            ).fetchone()
            assert owned == (0,)


def test_rls_is_enabled_and_forced(city_url: str) -> None:
    with psycopg.connect(city_url) as conn:
        rows = conn.execute(
            "SELECT n.nspname || '.' || c.relname, c.relrowsecurity, c.relforcerowsecurity"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE (n.nspname, c.relname) IN (('public', 'people'), ('public', 'incidents'),"
            " ('restricted', 'person_identities'), ('restricted', 'geocode_review'))"
        ).fetchall()
        views = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'v' AND n.nspname IN ('public', 'meta', 'etl', 'restricted',"
            " 'access') AND NOT coalesce('security_invoker=true' = ANY(c.reloptions), false)"
            " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')"
        ).fetchall()
    assert sorted(r[0] for r in rows) == [
        "public.incidents",
        "public.people",
        "restricted.geocode_review",
        "restricted.person_identities",
    ]
    assert all(r[1] and r[2] for r in rows)
    assert views == []  # every view reads with its reader's rights


def test_policies_deny_without_settings_and_follow_the_scope(city_url: str) -> None:
    with psycopg.connect(city_url) as owner:
        truth = dict(owner.execute("SELECT grid_code, count(*) FROM people GROUP BY 1").fetchall())
        incidents = owner.execute("SELECT count(*) FROM incidents").fetchone()
    with psycopg.connect(as_role(city_url, "api")) as conn:
        assert conn.execute("SELECT count(*) FROM people").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM incidents").fetchone() == (0,)
        conn.rollback()
        for p, expect in [
            (Principal(role="public"), 0),
            (Principal(role="analyst"), 0),
            (Principal(role="officer", scope=(GRIDS[0],)), truth[GRIDS[0]]),
            (Principal(role="officer", scope=("150302001001",)), sum(truth.values())),
            (Principal(role="officer", scope=("150303000000",)), 0),
            (Principal(role="officer", scope=("150300000000",)), sum(truth.values())),  # city
            (Principal(role="admin"), sum(truth.values())),
        ]:
            _set(conn, p)
            assert conn.execute("SELECT count(*) FROM people").fetchone() == (expect,), p
            conn.rollback()
        _set(conn, Principal(role="analyst"))
        assert conn.execute("SELECT count(*) FROM incidents").fetchone() == incidents
        conn.rollback()
        # settings are per transaction: the next one starts with nothing
        assert conn.execute("SELECT count(*) FROM people").fetchone() == (0,)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM restricted.person_identities",
        "SELECT * FROM restricted.geocode_review",
        "SELECT * FROM meta.audit_log",
        "SELECT * FROM meta.api_keys",
        "INSERT INTO meta.audit_log (actor, action) VALUES ('api', 'forged')",
        "UPDATE people SET gender = 'M'",
        "CREATE TABLE public.mine (x int)",
    ],
)
def test_api_cannot_reach_what_it_must_not(city_url: str, statement: str) -> None:
    with psycopg.connect(as_role(city_url, "api")) as conn:
        _set(conn, Principal(role="admin"))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_analyst_reads_incidents_without_personal_fields(city_url: str) -> None:
    with psycopg.connect(as_role(city_url, "analyst")) as conn:
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] > 0  # type: ignore[index]
        assert conn.execute("SELECT count(*) FROM people").fetchone() == (0,)
        grids = conn.execute("SELECT * FROM access.residents_by_grid()").fetchall()
        assert grids
        assert all(n >= 11 for _, n in grids)
        assert GRIDS[3] not in {g for g, _ in grids}  # 7 residents: suppressed
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT address FROM incidents")


def test_identities_only_in_scope_and_masked_without_pii(city_url: str) -> None:
    with psycopg.connect(city_url) as owner:
        inside, outside = (
            owner.execute("SELECT min(id) FROM people WHERE grid_code = %s", (g,)).fetchone()[0]  # type: ignore[index]
            for g in (GRIDS[0], GRIDS[1])
        )
        name = owner.execute(
            "SELECT name FROM restricted.person_identities WHERE person_id = %s", (inside,)
        ).fetchone()[0]  # type: ignore[index]
    with psycopg.connect(as_role(city_url, "api")) as conn:
        officer = Principal(role="officer", scope=(GRIDS[0],))
        _set(conn, officer)
        masked = conn.execute(
            "SELECT name, phone FROM access.person_identity(%s)", (inside,)
        ).fetchone()
        assert masked is not None
        assert masked[0] == name[0] + "**"
        assert "****" in masked[1]
        assert conn.execute("SELECT * FROM access.person_identity(%s)", (outside,)).fetchall() == []
        conn.rollback()
        _set(conn, Principal(role="officer", scope=(GRIDS[0],), pii=True))
        full = conn.execute("SELECT name FROM access.person_identity(%s)", (inside,)).fetchone()
        assert full == (name,)
        conn.rollback()
        _set(conn, Principal(role="analyst"))
        assert conn.execute("SELECT * FROM access.person_identity(%s)", (inside,)).fetchall() == []


LEAK = """
CREATE SCHEMA leaktest;
CREATE FUNCTION leaktest.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN RAISE NOTICE 'leak => %', $1; RETURN true; END $$;
GRANT USAGE ON SCHEMA leaktest TO api;
GRANT EXECUTE ON FUNCTION leaktest.leak(text) TO api;
"""


@pytest.mark.parametrize(
    "principal",
    [
        Principal(role="public"),
        Principal(role="analyst"),
        Principal(role="officer", scope=(GRIDS[0],)),
        Principal(role="officer", scope=(GRIDS[2], GRIDS[3])),
    ],
    ids=lambda p: p.cache_key,
)
def test_no_hidden_row_reaches_a_cheap_leaky_function(city_url: str, principal: Principal) -> None:
    with psycopg.connect(city_url) as owner:
        owner.execute(LEAK)
        everyone = owner.execute("SELECT 'p' || id, grid_code FROM people").fetchall()
        everyone += owner.execute("SELECT 'i' || id, grid_code FROM incidents").fetchall()
    grid_of = dict(everyone)
    seen: list[str] = []
    with psycopg.connect(as_role(city_url, "api")) as conn:
        conn.add_notice_handler(lambda d: seen.append(str(d.message_primary)))
        _set(conn, principal)
        env = "ST_MakeEnvelope(106.78, 39.64, 106.82, 39.68, 4326)"
        for table, tag in (("people", "p"), ("incidents", "i")):
            conn.execute(
                f"SELECT count(*) FROM {table} WHERE leaktest.leak('{tag}' || id) AND geom && {env}"
            )
            conn.execute(
                f"SELECT count(*) FROM {table} WHERE geom && {env}"
                f" AND (leaktest.leak('{tag}' || id) OR id < 0)"
            )
            conn.execute(
                f"SELECT h3_r11, count(*) FROM {table} GROUP BY 1"
                f" HAVING leaktest.leak('{tag}' || min(id))"
            )
    leaked = [s.removeprefix("leak => ") for s in seen]
    allowed_incidents = principal.role in ("analyst", "admin")
    for key in leaked:
        if key.startswith("i") and allowed_incidents:
            continue
        assert principal.in_scope(grid_of[key]), f"{key} in {grid_of[key]} reached leak()"
    if principal.role == "officer":
        assert leaked  # the officer's own rows do reach it: the test can see a leak


def test_scope_prefixes() -> None:
    assert scope_prefix("150302000000") == "150302"
    assert scope_prefix("150302001000") == "150302001"
    assert scope_prefix("150302001001") == "150302001001"
    assert scope_prefix("150302001001004") == "150302001001004"
    assert scope_prefix("150300000000") == "1503"
    with pytest.raises(ValueError, match="12-digit"):
        scope_prefix("15030")


def test_tiles_and_bbox_queries_keep_their_spatial_index_under_rls(city_url: str) -> None:
    """EXPLAIN as api (officer): the GiST index drives the scan, the policy is a filter."""
    env = "ST_MakeEnvelope(106.79, 39.65, 106.80, 39.66, 4326)"
    with psycopg.connect(as_role(city_url, "api")) as conn:
        _set(conn, Principal(role="officer", scope=(GRIDS[0],)))
        conn.execute("SET LOCAL enable_seqscan = off")  # the test city is small: force the choice
        for table in ("people", "incidents"):
            for where in (f"geom && {env}", f"geom && {env} AND ST_Intersects(geom, {env})"):
                plan = "\n".join(
                    r[0] for r in conn.execute(f"EXPLAIN SELECT id FROM {table} WHERE {where}")
                )
                assert f"idx_{table}_geom" in plan, plan
