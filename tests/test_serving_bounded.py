"""Bounded work: /healthz answers while heavy analytics runs (it runs off the event loop), an
analytics request past its budget answers 503 and its result is then served from the cache, and
a statement past statement_timeout answers 503 with a message. Orderings only, no timings."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.tiles_fixtures import client, live_server, seed_city, tile_settings

HEAVY = "/heatmap/incidents.tif?bbox=106.70,39.60,106.90,39.72&size=2048&bandwidth=400"


@pytest.fixture
def city(database_url: str) -> str:
    seed_city(database_url, incidents=3000)
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT refresh_h3_cubes()")
    return database_url


@pytest.fixture
def server(city: str, tmp_path: Path) -> Iterator[str]:
    with live_server(tile_settings(city, tmp_path, cpu_workers=1)) as base:
        yield base


def test_health_answers_while_heavy_analytics_runs(server: str) -> None:
    done = threading.Event()
    heavy: list[httpx.Response] = []

    def run_heavy() -> None:
        with client(server) as http:
            heavy.append(http.get(HEAVY))
        done.set()

    with client(server) as http:
        for _ in range(600):  # ready once the indexes are preloaded (polled, not timed)
            if http.get("/readyz").status_code == 200:
                break
            time.sleep(0.05)
        assert http.get("/readyz").status_code == 200
        thread = threading.Thread(target=run_heavy)
        thread.start()
        answered_before = 0
        while not done.is_set():
            if http.get("/healthz").status_code == 200 and not done.is_set():
                answered_before += 1
        thread.join()
    assert heavy[0].status_code == 200, heavy[0].text[:300]
    assert answered_before >= 3  # health answers arrived while the heavy request still ran


def test_past_the_budget_503_then_the_cached_result(city: str, tmp_path: Path) -> None:
    settings = tile_settings(city, tmp_path, analytics_budget_s=0.001)
    with live_server(settings) as base, client(base) as http:
        first = http.get("/analytics/hotspots?res=10")
        assert first.status_code == 503
        assert "budget" in first.json()["description"]
        assert first.headers["retry-after"] == "2"
        answers = [http.get("/analytics/hotspots?res=10") for _ in range(200)]
        statuses = [a.status_code for a in answers]
        assert 200 in statuses  # the computation went on and landed in the cache
        ok = answers[statuses.index(200)].json()
        assert ok["type"] == "FeatureCollection"
        assert ok["resolution"] == 10


def test_statement_timeout_answers_503_with_a_message(city: str, tmp_path: Path) -> None:
    with psycopg.connect(city, autocommit=True) as conn:
        # a locate that must wait for a lock held longer than the timeout
        conn.execute("BEGIN")
        conn.execute("LOCK TABLE grids IN ACCESS EXCLUSIVE MODE")
        settings = tile_settings(city, tmp_path, statement_timeout_ms=300)
        with live_server(settings) as base, client(base) as http:
            answer = http.get("/locate?lon=106.80&lat=39.66")
        conn.execute("ROLLBACK")
    assert answer.status_code == 503
    assert "statement timeout" in answer.json()["description"]
    assert "retry-after" in answer.headers
