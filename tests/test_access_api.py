"""The randomised scope test: every role against every endpoint, checked against an oracle the
owner computes in SQL; person-level answers counted against the audit trail."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pytest

from geoplatform.access import audit
from geoplatform.access.keys import create_key
from geoplatform.db.engine import create_engine
from geoplatform.db.roles import url_for_role
from geoplatform.errors import ConfigurationError
from geoplatform.settings import Settings
from geoplatform.tiles.app import refuse_superuser
from tests.access_fixtures import GRIDS, as_role, seed_people
from tests.tiles_fixtures import (
    EAST,
    NORTH,
    SOUTH,
    WEST,
    live_server,
    seed_city,
    tile_settings,
    token,
)

K = 11
TMS = morecantile.tms.get("WebMercatorQuad")
PUBLIC_INCIDENT_PROPS = {"id", "channel", "category", "status", "reported_at"}
ANALYST_INCIDENT_PROPS = PUBLIC_INCIDENT_PROPS | {
    "subcategory", "demand_type", "urgency", "closed_at", "due_at", "grid_code", "geocode_level",
}  # fmt: skip
CLUSTER_PROPS = {"count", "h3"}
CALLERS: dict[str, dict[str, Any] | None] = {
    "public": None,
    "analyst": {"role": "analyst"},
    "officer-grid": {"role": "officer", "scope": [GRIDS[0]]},
    "officer-two": {"role": "officer", "scope": [GRIDS[2], GRIDS[3]], "pii": True},
    "officer-elsewhere": {"role": "officer", "scope": ["150303000000"]},
    "admin": {"role": "admin"},
}


@pytest.fixture(scope="module")
def served(
    database_factory: Any, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    with database_factory("geoplatform_template") as url:
        seed_city(url, incidents=1500, buildings=100)
        seed_people(url)
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE incidents SET address = '某路' || id || '号'")
            conn.execute(
                "INSERT INTO standard_addresses (address, normalized, level, community_code, road,"
                " door_number, geom, grid_code, source, source_key) VALUES"
                " ('乌海市海勃湾区新华路1号', '乌海市海勃湾区新华路1号', 'door', '150302001001',"
                " '新华路', '1',"
                " 'SRID=4326;POINT(106.8 39.66)', %s, 't', 'a1')",
                (GRIDS[0],),
            )
        settings = tile_settings(url, tmp_path_factory.mktemp("access-api"))
        with live_server(settings) as base:
            yield url, base


def _oracle(url: str, scope: list[str] | None, role: str) -> tuple[set[int], set[int]]:
    """(people ids, incident ids) the caller may see as rows, computed by the owner in SQL from
    the admin tree (not from the policies' prefix rule)."""
    with psycopg.connect(url) as conn:
        grids = {
            r[0]
            for r in conn.execute(
                "WITH RECURSIVE under(code) AS ("
                "  SELECT code FROM admin_areas WHERE code = ANY(%(s)s)"
                "  UNION SELECT a.code FROM admin_areas a JOIN under u ON a.parent_code = u.code)"
                " SELECT code FROM grids WHERE code = ANY(%(s)s)"
                " OR community_code IN (SELECT code FROM under)",
                {"s": scope or []},
            )
        }
        if role == "admin":
            grids = {r[0] for r in conn.execute("SELECT code FROM grids")}
        people = {r[0] for r in conn.execute("SELECT id, grid_code FROM people") if r[1] in grids}
        incidents = {r[0] for r in conn.execute("SELECT id, grid_code FROM incidents")
                     if r[1] in grids or role in ("analyst", "admin")}  # fmt: skip
    return (people if role in ("officer", "admin") else set()), (
        incidents if role in ("analyst", "officer", "admin") else set()
    )


def _client(base: str, caller: dict[str, Any] | None) -> httpx.Client:
    headers = {} if caller is None else {"Authorization": f"Bearer {token(**caller)}"}
    return httpx.Client(base_url=base, timeout=60, headers=headers)


def _tile(rng: random.Random) -> tuple[int, int, int]:
    z = rng.choice([11, 13, 15, 16, 17, 18])
    t = TMS.tile(rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH), z)
    return z, t.x, t.y


def test_every_role_every_endpoint_against_the_oracle(served: tuple[str, str]) -> None:
    url, base = served
    rng = random.Random(12)
    engine = create_engine(Settings(), url=url)
    with engine.begin() as conn:
        audit_before = audit.verify(conn).rows
    with psycopg.connect(url) as conn:
        all_people = [r[0] for r in conn.execute("SELECT id FROM people")]
        all_incidents = [r[0] for r in conn.execute("SELECT id FROM incidents")]
    requests = 0
    person_answers = 0
    for name, caller in CALLERS.items():
        role = "public" if caller is None else caller["role"]
        people_ok, incidents_ok = _oracle(url, caller and caller.get("scope"), role)
        sees_people = role in ("officer", "admin")
        incident_props = {"public": PUBLIC_INCIDENT_PROPS, "analyst": ANALYST_INCIDENT_PROPS}.get(
            role
        )
        with _client(base, caller) as http:

            def get(
                path: str, name: str = name, http: httpx.Client = http, **params: Any
            ) -> httpx.Response:
                nonlocal requests
                requests += 1
                r = http.get(path, params=params)
                assert r.status_code < 500, (name, path, r.text)
                listed = r.text.partition("(layers:")[2] if r.status_code >= 400 else ""
                hidden = {"public": ("people", "devices"), "analyst": ("people",)}
                for layer in hidden.get(name, ()):
                    assert layer not in listed, (name, path, r.text)  # never listed
                return r

            for _ in range(60):  # tiles: single and composite
                z, x, y = _tile(rng)
                layers = rng.choice(["incidents", "people", "grids,incidents,people", "buildings"])
                r = get(f"/tiles/{layers}/{z}/{x}/{y}.mvt")
                if "people" in layers and not sees_people:
                    assert r.status_code == 404
                    continue
                assert r.status_code in (200, 204), (name, r.text)
                if r.status_code == 204:
                    continue
                tile = mapbox_vector_tile.decode(r.content)
                people_feats = [f for f in tile.get("people", {}).get("features", [])
                                if "count" not in f["properties"]]  # fmt: skip
                assert {f["id"] for f in people_feats} <= people_ok, name
                person_answers += bool(people_feats)
                for f in tile.get("incidents", {}).get("features", []):
                    props = set(f["properties"])
                    if props <= CLUSTER_PROPS:
                        continue
                    assert f["id"] in incidents_ok, name
                    if incident_props is not None:
                        assert props <= incident_props, (name, props - incident_props)
            for collection, ok in (("people", people_ok), ("incidents", incidents_ok)):
                for _ in range(25):  # items with random windows
                    x0 = rng.uniform(WEST, EAST - 0.01)
                    y0 = rng.uniform(SOUTH, NORTH - 0.01)
                    r = get(
                        f"/collections/{collection}/items",
                        bbox=f"{x0},{y0},{x0 + 0.01},{y0 + 0.01}",
                        limit=rng.choice([5, 50, 500]),
                    )
                    hidden = not sees_people if collection == "people" else role == "public"
                    if hidden:
                        assert r.status_code == 404, (name, collection, r.text)
                        continue
                    assert r.status_code == 200, (name, r.text)
                    feats = r.json()["features"]
                    assert {f["id"] for f in feats} <= ok, (name, collection)
                    if collection == "incidents" and incident_props is not None:
                        for f in feats:
                            assert set(f["properties"]) <= incident_props
                    person_answers += collection == "people" and bool(feats)
                pool = all_people if collection == "people" else all_incidents
                for ident in rng.sample(pool, 25):  # items by id: outside the scope is a 404
                    r = get(f"/collections/{collection}/items/{ident}")
                    if ident in ok:
                        assert r.status_code == 200, (name, collection, ident, r.text)
                        person_answers += collection == "people"
                    else:
                        assert r.status_code == 404, (name, collection, ident, r.text)
            for _ in range(15):  # heatmaps: incidents (public) and residents (k-anonymous)
                z, x, y = _tile(rng)
                get(f"/heatmap/incidents/{min(z, 16)}/{x >> max(0, z - 16)}/"
                    f"{y >> max(0, z - 16)}.mvt")  # fmt: skip
                params = rng.choice([{}, {"gender": "M"}, {"residence_type": "floating"}])
                r = get(f"/heatmap/residents/{z}/{x}/{y}.mvt", **params)
                if r.status_code == 200:
                    for f in mapbox_vector_tile.decode(r.content)["residents"]["features"]:
                        assert f["properties"]["count"] >= K, (name, f["properties"])
            for by in ("grid", "community", "street", "district"):  # statistics
                units = get("/stats/incidents", by=by).json()["units"]
                for unit in units:
                    n = unit["residents"]
                    assert n is None or n == 0 or n >= K, (name, by, unit)
            for res in (7, 8, 9):
                get("/analytics/hotspots", res=res)
            for _ in range(10):
                r = get("/locate", lon=rng.uniform(WEST, EAST), lat=rng.uniform(SOUTH, NORTH))
                assert "people" not in r.text
                get("/geocode", q=rng.choice(["新华路1号", "新华路9号", "某路1号"]))
    with engine.begin() as conn:
        after = audit.verify(conn)
    engine.dispose()
    assert after.ok
    assert requests >= 1000, requests
    assert person_answers > 0
    assert after.rows - audit_before == person_answers  # every person-level answer, logged


def test_bad_credentials_are_401_and_keys_work(served: tuple[str, str]) -> None:
    url, base = served
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/collections", headers={"X-API-Key": "gpk_nope_nope"}).status_code == 401
        assert (
            http.get("/collections", headers={"Authorization": "Bearer x.y.z"}).status_code == 401
        )
        assert http.get("/collections", headers={"Authorization": "Basic eA=="}).status_code == 401
        engine = create_engine(Settings(), url=url)
        with engine.begin() as conn:
            key, _ = create_key(conn, name="t", role="officer", scope=(GRIDS[0],))
        engine.dispose()
        r = http.get("/collections/people/items", headers={"X-API-Key": key}, params={"limit": 500})
        assert r.status_code == 200
        assert {f["properties"]["grid_code"] for f in r.json()["features"]} == {GRIDS[0]}


def test_public_tiles_are_shared_cacheable_and_keyed_ones_private(served: tuple[str, str]) -> None:
    _, base = served
    z, x, y = 14, *TMS.tile(106.80, 39.66, 14)[:2]
    with _client(base, None) as public, _client(base, {"role": "admin"}) as admin:
        p = public.get(f"/tiles/incidents/{z}/{x}/{y}.mvt")
        a = admin.get(f"/tiles/incidents/{z}/{x}/{y}.mvt")
        p2 = public.get(f"/tiles/incidents/{z}/{x}/{y}.mvt")  # the hot path's answer
    assert p.headers["cache-control"].startswith("public")
    assert a.headers["cache-control"].startswith("private")
    assert "Authorization" in p.headers["vary"]
    assert p.headers["etag"] != a.headers["etag"]  # a cached tile never crosses roles
    assert p2.headers["etag"] == p.headers["etag"]
    assert p2.content == p.content


def test_serve_refuses_a_superuser_connection(database_url: str, tmp_path: Path) -> None:
    settings = tile_settings(database_url, tmp_path)
    with psycopg.connect(database_url) as conn, pytest.raises(ConfigurationError, match="api"):
        refuse_superuser(conn, settings)  # the owner here is the cluster's superuser
    with psycopg.connect(database_url) as conn:
        refuse_superuser(conn, settings.model_copy(update={"allow_superuser": True}))
    with psycopg.connect(as_role(database_url, "api")) as conn:
        refuse_superuser(conn, settings)
    assert url_for_role(settings, "api") == as_role(database_url, "api")  # what serve uses
