"""PostgreSQL stopped under load, on a cluster of this test's own: every route answers (503 with
Retry-After where it needs the database; nothing hangs), /readyz fails, and once the cluster is
back the same server answers again without a restart. Timings are bench/outage.py's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from geoplatform.db.cluster import LocalCluster
from geoplatform.db.engine import create_engine
from geoplatform.db.migrate import migrate
from geoplatform.settings import Settings
from tests.tiles_fixtures import live_server, seed_addresses, seed_city, tile_settings, token

TILE = "14/13052/6222"
# a bearer token (verified without the database) of a role that reads every collection's items
AS_ADMIN = {"Authorization": f"Bearer {token('admin')}"}
NEEDS_DATABASE = [
    f"/tiles/incidents/{TILE}.mvt",
    f"/tiles/incidents,buildings/{TILE}.mvt?datetime=2024-03-01/2024-04-01",
    "/collections/incidents/tiles/WebMercatorQuad/14/6222/13052",
    "/collections/incidents/items?limit=5",
    "/collections/incidents/items?filter=category%20%3D%20%27%E5%B8%82%E5%AE%B9%E7%8E%AF%E5%A2%83%27",
    "/collections/buildings/items/1",
    "/collections/incidents",
    "/locate?lon=106.80&lat=39.66",
    "/geocode?q=%E4%BA%BA%E6%B0%91%E8%B7%AF12%E5%8F%B7",
    f"/heatmap/incidents/{TILE}.mvt",
    f"/heatmap/incidents/{TILE}.png",
    "/heatmap/incidents.tif?bbox=106.78,39.64,106.82,39.68&size=64",
    "/stats/incidents",
    f"/stats/incidents/{TILE}.mvt",
    "/analytics/hotspots?res=9",
    "/analytics/warnings",
    "/readyz",
]
WITHOUT_DATABASE = ["/healthz", "/metrics", "/openapi.json", "/conformance", "/tileMatrixSets"]


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(
        tmp_path / "cluster", database="outage", pg_bindir=Settings().pg_bindir, ephemeral=True
    )
    try:
        cluster.up()
        yield cluster
    finally:
        cluster.destroy()


@pytest.mark.timeout(300)
def test_outage_503_with_retry_after_then_back_without_restart(
    own_cluster: LocalCluster, tmp_path: Path
) -> None:
    url = own_cluster.url()
    engine = create_engine(Settings(database_url=url, home=tmp_path / "home"))
    try:
        migrate(engine)
    finally:
        engine.dispose()
    seed_city(url, incidents=1500, buildings=150)
    with psycopg.connect(url) as conn:
        conn.execute("SELECT refresh_h3_cubes()")
    seed_addresses(url)
    stop = threading.Event()
    load_statuses: list[int] = []

    def load(base: str) -> None:  # the traffic the outage happens under
        with httpx.Client(base_url=base, timeout=10, headers=AS_ADMIN) as http:
            while not stop.is_set():
                for path in NEEDS_DATABASE[:6]:
                    try:
                        load_statuses.append(http.get(path).status_code)
                    except httpx.TimeoutException:
                        load_statuses.append(-1)  # a hang: the assertion below reports it

    with (
        live_server(tile_settings(url, tmp_path)) as base,
        httpx.Client(base_url=base, timeout=10, headers=AS_ADMIN) as http,
    ):
        before = {path: http.get(path).status_code for path in NEEDS_DATABASE + WITHOUT_DATABASE}
        assert set(before.values()) == {200}, before
        workers = [threading.Thread(target=load, args=(base,)) for _ in range(4)]
        for worker in workers:
            worker.start()
        own_cluster.down()  # fast shutdown, under the load
        during = {}
        for path in NEEDS_DATABASE:
            answer = http.get(path)  # a hang would raise here: the client gives up after 10 s
            during[path] = (answer.status_code, answer.headers.get("retry-after"))
            if answer.status_code == 503 and path != "/readyz":
                assert answer.json()["description"], path
        for path in WITHOUT_DATABASE:
            during[path] = (http.get(path).status_code, None)
        stop.set()
        for worker in workers:
            worker.join()
        own_cluster.up()
        back = {}
        for _attempt in range(200):  # polled, not timed: bench/outage.py measures how soon
            if http.get("/readyz").status_code == 200:
                break
        back = {path: http.get(path).status_code for path in NEEDS_DATABASE}

    assert all(during[p] == (503, "2") for p in NEEDS_DATABASE), during
    assert all(during[p][0] == 200 for p in WITHOUT_DATABASE), during
    assert -1 not in load_statuses
    assert all(s in (200, 204, 503) for s in load_statuses)
    assert 503 in load_statuses
    assert set(back.values()) == {200}, back
