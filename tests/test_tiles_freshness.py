"""Cached tiles are never stale once a commit has returned, without a version read per request.

The server remembers the layer versions while the version fence lets it (geoplatform/db/fence.py)
and reads them per request otherwise. These tests drive the real ETL, a real server and
PostgreSQL's own LISTEN/NOTIFY: fetch, load a change, fetch again; a server whose event loop is
blocked through a whole fence; a listener that never answers; a hand-written version bump.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import morecantile
import numpy as np
import pandas as pd
import psycopg
import pytest
from sqlalchemy.engine import Engine

from geoplatform.db.fence import CHANNEL, LISTENER_APPLICATION, version_fence
from geoplatform.etl.pipeline import load_pipeline
from geoplatform.etl.runner import RunOptions, run_pipeline
from geoplatform.settings import Settings
from geoplatform.tiles.freshness import VersionWatch
from geoplatform.tiles.mvt import query
from tests.etl_support import (
    MID_LAT,
    MID_LON,
    _hotline_line,
    incident_rows,
    write_city,
    write_hotline,
)
from tests.tiles_fixtures import bump_version, client, live_server, seed_city, tile_settings

TMS = morecantile.tms.get("WebMercatorQuad")
_T14 = TMS.tile(106.80, 39.66, 14)
TILE_PATH = f"/tiles/incidents/14/{_T14.x}/{_T14.y}.mvt"  # inside the seeded city


def _metric(base: str, name: str) -> float:
    with client(base) as http:
        text = http.get("/metrics").text
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def _wait_trusting(base: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while _metric(base, "geoplatform_layer_versions_trusted") != 1.0:
        assert time.monotonic() < deadline, "the server never trusted its versions"
        time.sleep(0.05)


def _count_in_tile(http: Any, path: str) -> int:
    response = http.get(path)
    assert response.status_code in (200, 204), response.text
    if response.status_code == 204:
        return 0
    layer = mapbox_vector_tile.decode(response.content)["incidents"]
    return sum(int(f["properties"].get("count", 1)) for f in layer["features"])


def test_a_loaded_change_is_served_as_soon_as_the_etl_returns(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """Fetch, load a new day through the ETL, fetch again: the new rows are in the tile."""
    path = tmp_path / "delivery" / "pipeline.yaml"
    write_city(path.parent)
    key = tmp_path / "hmac.key"
    key.write_text("test-hmac-key-0123456789abcdef\n")
    settings = Settings(database_url=database_url, home=tmp_path / "etl", hmac_key_file=key)

    def run(*only: str) -> None:
        result = run_pipeline(engine, load_pipeline(path), settings, RunOptions(only=only))
        assert result.status == "succeeded", [(s.name, s.error) for s in result.sources]

    run("admin", "grids", "hotline")
    tile = TMS.tile(MID_LON, MID_LAT, 9)  # most of the delivery city
    tile_path = f"/tiles/incidents/9/{tile.x}/{tile.y}.mvt"

    def in_tile() -> int:
        with engine.connect() as conn:
            return int(
                conn.exec_driver_sql(
                    "SELECT count(*) FROM incidents WHERE geom && ST_Transform("
                    f"ST_TileEnvelope(9, {tile.x}, {tile.y}), 4326)"
                ).scalar_one()
            )

    with live_server(tile_settings(database_url, tmp_path)) as base, client(base) as http:
        _wait_trusting(base)
        before = _count_in_tile(http, tile_path)
        assert before == in_tile()
        first = http.get(tile_path)
        assert http.get(tile_path).headers["etag"] == first.headers["etag"]  # served cached
        holds = _metric(base, "geoplatform_layer_version_holds")

        rows, _ = incident_rows(np.random.default_rng(5), 25, pd.Timestamp("2025-03-10"), "NEW")
        write_hotline(path.parent / "hotline.csv", [_hotline_line(r) for r in rows], mode="a")
        run("hotline")

        after = http.get(tile_path)  # the very first request after the run returned
        assert after.headers["etag"] != first.headers["etag"]
        assert _count_in_tile(http, tile_path) == in_tile() > before
        assert _metric(base, "geoplatform_layer_version_holds") == holds + 1
        _wait_trusting(base)  # and the server goes back to remembering its versions


@pytest.fixture
def seeded(database_url: str, tmp_path: Path) -> Iterator[tuple[str, httpx.Client]]:
    """A seeded city behind a live server that already trusts its versions."""
    seed_city(database_url)
    with live_server(tile_settings(database_url, tmp_path)) as base, client(base) as http:
        _wait_trusting(base)
        yield base, http


def test_cached_tiles_read_no_versions_while_the_fence_holds(
    seeded: tuple[str, httpx.Client],
) -> None:
    base, http = seeded
    http.get(TILE_PATH)
    reads = _metric(base, "geoplatform_layer_version_reads")
    for _ in range(200):
        assert http.get(TILE_PATH).status_code == 200
    assert _metric(base, "geoplatform_layer_version_reads") == reads


def test_right_after_the_commit_inside_the_fence_the_server_is_already_fresh(
    seeded: tuple[str, httpx.Client], database_url: str
) -> None:
    """Between the commit and the release only the hold protects the servers: with the
    trigger's NOTIFY switched off, a fetch there must already see the new version."""
    base, http = seeded
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "ALTER TABLE meta.layer_versions DISABLE TRIGGER layer_versions_notify_changed"
        )
    etag = http.get(TILE_PATH).headers["etag"]
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE meta.layer_versions SET version = version + 1")
        with version_fence(database_url):
            conn.commit()
            assert http.get(TILE_PATH).headers["etag"] != etag
            assert _metric(base, "geoplatform_layer_versions_trusted") == 0.0


def test_a_hand_written_version_bump_reaches_the_server_within_a_second(
    seeded: tuple[str, httpx.Client], database_url: str
) -> None:
    """Outside the fence there is no guarantee at the commit, but the trigger's NOTIFY follows."""
    _, http = seeded
    etag = http.get(TILE_PATH).headers["etag"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE meta.layer_versions SET version = version + 1")
    deadline = time.monotonic() + 1.0
    while http.get(TILE_PATH).headers["etag"] == etag:
        assert time.monotonic() < deadline, "the hand-written bump was never seen"
        time.sleep(0.01)


def test_the_fence_does_not_wait_forever_for_a_server_that_never_answers(
    database_url: str,
) -> None:
    with psycopg.connect(
        database_url, autocommit=True, application_name=LISTENER_APPLICATION
    ) as mute:
        mute.execute(f"LISTEN {CHANNEL}")
        pid = mute.info.backend_pid
        started = time.monotonic()
        with version_fence(database_url, timeout_s=1.5) as missing:
            pass
        waited = time.monotonic() - started
    assert missing == {pid}
    assert 1.4 < waited < 3.0
    started = time.monotonic()
    with version_fence(database_url) as missing:  # nobody listening: no wait at all
        pass
    assert missing == set()
    assert time.monotonic() - started < 0.5


def test_a_server_blocked_through_a_whole_fence_does_not_serve_old_versions(
    database_url: str,
) -> None:
    """The fence gives up on a server whose event loop is blocked; that server must not trust
    what it remembers when it wakes: its heartbeat is older than the trust window."""
    seed_city(database_url)

    def commit_a_bump() -> None:
        with psycopg.connect(database_url) as conn:
            bump_version(conn, "incidents", database_url, fence_timeout_s=1.5)

    async def scenario() -> tuple[int, int]:
        watch = VersionWatch(database_url, query("layer_versions"), 5)
        watch.start()
        try:
            deadline = time.monotonic() + 10
            while not watch.trusting:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            before = (await watch.current())["incidents"]
            writer = threading.Thread(target=commit_a_bump)
            writer.start()
            time.sleep(2.5)  # the event loop is blocked through the fence and the commit
            writer.join()
            after = (await watch.current())["incidents"]  # first thing after waking up
            return before, after
        finally:
            await watch.close()

    before, after = asyncio.run(scenario())
    assert after == before + 1


@pytest.mark.parametrize("bad", [0.5, 1.0])
def test_a_fence_timeout_inside_the_trust_window_is_refused(database_url: str, bad: float) -> None:
    with (
        pytest.raises(ValueError, match="trust window"),
        version_fence(database_url, timeout_s=bad),
    ):
        pass


def test_a_commit_starts_reloading_the_cluster_index_before_anyone_asks(
    seeded: tuple[str, httpx.Client], database_url: str
) -> None:
    base, _ = seeded
    gauge = 'geoplatform_overview_index_version{layer="incidents"}'
    deadline = time.monotonic() + 10
    while _metric(base, gauge) != 1.0:  # loaded at start
        assert time.monotonic() < deadline, "the index was not loaded at start"
        time.sleep(0.05)
    with psycopg.connect(database_url) as conn:
        bump_version(conn, "incidents", database_url)
    deadline = time.monotonic() + 10
    while _metric(base, gauge) != 2.0:  # no tile was requested since
        assert time.monotonic() < deadline, "the index was not reloaded after the commit"
        time.sleep(0.05)
