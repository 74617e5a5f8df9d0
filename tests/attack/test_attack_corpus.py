"""The attack corpus against a real server on a small seeded city: never a 5xx, never SQL or a
stack trace in a body, HEAD answered for every GET route, and each class of bad input refused
with a 4xx that names the problem."""

from __future__ import annotations

import http.client
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg
import pytest

from tests.attack.corpus import Request, corpus
from tests.tiles_fixtures import live_server, seed_addresses, seed_city, tile_settings, token

LEAKS = ("Traceback", 'File "', "psycopg", "sqlstate", "SELECT ", "syntax error at", " FROM ",
         "pygeofilter", "lark.", "Exception")  # fmt: skip


@pytest.fixture(scope="module")
def server(
    database_factory: object, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    from tests.conftest import TEMPLATE_DB

    with database_factory(TEMPLATE_DB) as url:  # type: ignore[operator]
        seed_city(url, incidents=2000, buildings=200)
        with psycopg.connect(url) as conn:
            conn.execute("SELECT refresh_h3_cubes()")
        seed_addresses(url)
        settings = tile_settings(url, tmp_path_factory.mktemp("attack"))
        with live_server(settings) as base:
            yield base


class Raw:
    """Sends paths exactly as written (http.client does not normalise or re-encode them)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.token = token("admin")

    def send(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        """As admin (every collection's items answer) unless the request names its own
        credentials."""
        method, path, headers = request
        named = {name.lower() for name in headers}
        if not named & {"authorization", "x-api-key"}:
            headers = {**headers, "Authorization": f"Bearer {self.token}"}
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
                if response.getheader("connection", "").lower() == "close":
                    self.conn.close()
                return response.status, dict(response.getheaders()), body
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


@pytest.mark.timeout(300)
def test_no_5xx_and_no_leaks_across_the_corpus(server: str) -> None:
    requests = corpus()
    assert len(requests) >= 500
    raw = Raw(server)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for request in requests:
        status, headers, body = raw.send(request)
        statuses[status] += 1
        text = body.decode("utf-8", "replace")
        where = f"{request[0]} {request[1][:120]} -> {status}"
        if status >= 500:
            failures.append(f"{where}: {text[:200]}")
        if status >= 400:
            leaked = [marker for marker in LEAKS if marker in text]
            if leaked:
                failures.append(f"{where}: leaks {leaked}: {text[:200]}")
            if headers.get("content-type", "").startswith("application/json"):
                doc = json.loads(text)
                if not doc.get("description") and not doc.get("reason"):
                    failures.append(f"{where}: an error without a message")
        if request[0] == "HEAD":
            if status == 405:
                failures.append(f"{where}: HEAD not answered")
            if body:
                failures.append(f"{where}: HEAD with a body")
    assert not failures, "\n".join(failures[:40])
    # the corpus is mostly attacks: most answers are refusals, and some requests succeed
    assert statuses[400] > len(requests) // 3
    assert sum(n for s, n in statuses.items() if s < 300) > 50


def _alternating(depth: int) -> str:
    """`id = 1 AND (id = 1 OR (id = 1 AND (...)))`: each level a different operator."""
    text = "id = 1"
    for level in range(depth):
        text = f"id = 1 {'AND' if level % 2 else 'OR'} ({text})"
    return text


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/collections/incidents/items/a%00b", "NUL"),
        ("/collections/incidents/items?filter=category%20%3D%20%27a%00b%27", "NUL"),
        ("/viewer/a%00b", "NUL"),
        ("/collections/incidents/items?filter-lang=cql2-json&filter=%5B%5D", "JSON object"),
        ("/collections/incidents/items?filter-lang=cql2-json&filter=%7B%7D", "JSON object"),
        ("/collections/incidents/items?filter=" + "%20OR%20".join(["id%3D1"] * 300), "terms"),
        ("/tiles/incidents/14/13052/6222.mvt?filter=" + "%20AND%20".join(["id%3D1"] * 300),
         "terms"),
        ("/collections/incidents/items?filter=" + quote(_alternating(20)), "nests"),
        ("/collections/incidents/items?filter=" + "a" * 5000, "longer than"),
        ("/collections/incidents/items?limit=1&limit=2", "more than once"),
        ("/collections/incidents/items?limit=0", "limit"),
        ("/analytics/hotspots?res=99999999999999999999", "res"),
        ("/heatmap/incidents/14/13052/6222.png?colormap=nope", "colormap"),
    ],
)  # fmt: skip
def test_the_refusals_name_the_problem(server: str, path: str, words: str) -> None:
    status, _, body = Raw(server).send(("GET", path, {}))
    assert status == 400, body[:300]
    assert words in json.loads(body)["description"]


def test_a_long_and_chain_below_the_limit_is_answered(server: str) -> None:
    """200 terms are within the limit: answered (the issue's 500), and equal to SQL's count."""
    chain = "%20AND%20".join(["id%20%3E%200"] * 200)
    status, _, body = Raw(server).send(
        ("GET", f"/collections/incidents/items?limit=1&filter={chain}", {})
    )
    assert status == 200, body[:300]
    assert json.loads(body)["numberMatched"] == 2000


def test_head_is_get_without_the_body(server: str) -> None:
    raw = Raw(server)
    for path in ("/collections/incidents/items?limit=2", "/tiles/incidents/14/13052/6222.mvt"):
        got = raw.send(("GET", path, {}))
        head = raw.send(("HEAD", path, {}))
        assert head[0] == got[0]
        assert head[2] == b""
        assert head[1].get("etag") == got[1].get("etag")
        if "content-length" in got[1]:
            assert head[1]["content-length"] == got[1]["content-length"]


def test_corpus_file_is_the_one_tested() -> None:
    assert Path(__file__).with_name("corpus.py").is_file()
