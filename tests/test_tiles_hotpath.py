"""Cache hits answered ahead of the framework are the route's answers, byte for byte.

The first request for a tile goes through the FastAPI route (a miss, rendered); the next ones are
answered by `geoplatform.tiles.hotpath` (counted here by wrapping it). Status, headers and body
must be the same; anything the hot path cannot answer falls through to the route.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import morecantile
import pytest

import geoplatform.tiles.hotpath as hotpath
from tests.tiles_fixtures import client, live_server, seed_city, tile_settings

TMS = morecantile.tms.get("WebMercatorQuad")
IGNORED = {"date", "server"}


@pytest.fixture
def hot_hits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths the hot path answered."""
    answered: list[str] = []
    original = hotpath.answer_cached_tile

    async def counting(ctx: Any, scope: Any, send: Any, *cors: Any) -> bool:
        done = await original(ctx, scope, send, *cors)
        if done:
            answered.append(scope["path"])
        return done

    monkeypatch.setattr(hotpath, "answer_cached_tile", counting)
    return answered


@pytest.fixture
def http(database_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    """The real server in this process (so the wrapped hot path is the one it calls)."""
    seed_city(database_url)
    with live_server(tile_settings(database_url, tmp_path)) as base, client(base) as http:
        yield http


def _path(z: int, lon: float = 106.80, lat: float = 39.66, layers: str = "incidents") -> str:
    t = TMS.tile(lon, lat, z)
    return f"/tiles/{layers}/{z}/{t.x}/{t.y}.mvt"


def _headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in IGNORED}


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_hit_is_the_routes_answer(http: httpx.Client, hot_hits: list[str], encoding: str) -> None:
    path = _path(14, layers="incidents,buildings")
    headers = {"Accept-Encoding": encoding}
    rendered = http.get(path, headers=headers)
    assert rendered.status_code == 200
    assert hot_hits == []  # a miss goes through the route
    hit = http.get(path, headers=headers)
    assert hot_hits == [path]
    assert hit.status_code == 200
    assert _headers(hit) == _headers(rendered)
    assert hit.content == rendered.content
    if encoding == "gzip":  # httpx has decoded it
        assert hit.headers["content-encoding"] == "gzip"
        assert hit.content == http.get(path, headers={"Accept-Encoding": "identity"}).content


def test_not_modified_and_empty_tiles(http: httpx.Client, hot_hits: list[str]) -> None:
    path = _path(15)
    first = http.get(path)
    revalidated = http.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == first.headers["etag"]
    assert hot_hits == [path]

    empty = "/tiles/incidents/16/0/0.mvt"
    rendered = http.get(empty)
    hit = http.get(empty)
    assert rendered.status_code == hit.status_code == 204
    assert _headers(hit) == _headers(rendered)
    assert hot_hits == [path, empty]


@pytest.mark.parametrize(
    ("suffix", "status"),
    [("?crs=bogus", 400), ("?datetime=yesterday", 400), ("?filter=nonsense%20%3D", 400)],
)
def test_bad_queries_on_a_cached_tile_still_get_the_routes_4xx(
    http: httpx.Client, hot_hits: list[str], suffix: str, status: int
) -> None:
    path = _path(14)
    assert http.get(path).status_code == 200
    response = http.get(path + suffix)
    assert response.status_code == status, response.text
    assert "description" in response.json()
    assert hot_hits == []


def test_what_the_hot_path_leaves_to_the_route(http: httpx.Client, hot_hits: list[str]) -> None:
    path = _path(14)
    got = http.get(path)
    head = http.head(path)  # HEAD is a GET without the body: a hit, the same headers
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert hot_hits == [path]
    assert http.get("/tiles/incidents/99/0/0.mvt").status_code == 400
    assert http.get("/tiles/nosuchlayer/1/0/0.mvt").status_code == 404
    assert http.get("/tiles/incidents/1/0/x.mvt").status_code == 400
    assert hot_hits == [path]
    metrics = http.get("/metrics").text
    assert 'geoplatform_tiles_total{outcome="hit"}' in metrics


@pytest.mark.parametrize(
    ("allowed", "origin", "allow_origin"),
    [
        ("*", "https://map.example", "*"),
        ("https://map.example,https://gis.example", "https://gis.example", "https://gis.example"),
        ("https://map.example", "https://elsewhere.example", None),
        ("", "https://map.example", None),
    ],
)
def test_cors_on_hits_is_the_routes_cors(
    database_url: str,
    tmp_path: Path,
    hot_hits: list[str],
    allowed: str,
    origin: str,
    allow_origin: str | None,
) -> None:
    """A map on another origin gets the same CORS headers from a hit as from the route."""
    seed_city(database_url)
    settings = tile_settings(database_url, tmp_path, cors_origins=allowed)
    path = _path(14)
    with live_server(settings) as base, client(base) as http:
        rendered = http.get(path, headers={"Origin": origin})
        hit = http.get(path, headers={"Origin": origin})
        assert hot_hits == [path]
        assert _headers(hit) == _headers(rendered)
        assert hit.headers.get("access-control-allow-origin") == allow_origin
        preflight = http.options(
            path, headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
        )
    if allow_origin is not None:
        assert preflight.status_code == 200
        assert "etag" in hit.headers["access-control-expose-headers"].lower()
