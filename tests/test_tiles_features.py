"""OGC API Features and the service routes, through the real app: items with every parameter,
paging links, CQL2 text and JSON, GCJ-02 output, /locate, TileJSON and the style; and real
clients: GDAL's OAPIF driver on the features API and its MVT driver on a served tile."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import morecantile
import psycopg
import pytest

from tests.tiles_fixtures import City, client, live_server, seed_city, tile_settings, token


@pytest.fixture
def city(database_url: str) -> City:
    return seed_city(database_url)


@pytest.fixture
def server(database_url: str, city: City, tmp_path: Path) -> Iterator[str]:
    with live_server(tile_settings(database_url, tmp_path)) as base:
        yield base


def scalar(url: str, query: str, *params: object) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute(query, params or None).fetchone()[0])  # type: ignore[index]


def test_landing_conformance_collections(server: str) -> None:
    with client(server) as http:
        landing = http.get("/").json()
        rels = {link["rel"] for link in landing["links"]}
        assert {"conformance", "data", "service-desc"} <= rels
        conf = http.get("/conformance").json()["conformsTo"]
        assert any("ogcapi-features-1/1.0/conf/core" in c for c in conf)
        ids = [c["id"] for c in http.get("/collections").json()["collections"]]
        assert "incidents" in ids
        assert "people" in ids  # an admin's view; the public's is tested in test_access_api
        incidents = http.get("/collections/incidents").json()
        assert incidents["extent"]["temporal"]["interval"][0][0].startswith("2024")
        q = http.get("/collections/incidents/queryables").json()
        assert q["properties"]["reported_at"]["format"] == "date-time"
        tms = http.get("/tileMatrixSets").json()["tileMatrixSets"]
        assert {t["id"] for t in tms} == {"WebMercatorQuad", "WorldCRS84Quad", "CGCS2000Quad"}
        cgcs = http.get("/tileMatrixSets/CGCS2000Quad").json()
        assert "4490" in json.dumps(cgcs["crs"])
        assert http.get("/collections/incidents/tiles").status_code == 200


def test_items_paging_until_every_row(server: str, database_url: str, city: City) -> None:
    seen: list[int] = []
    with client(server) as http:
        url: str | None = "/collections/incidents/items?limit=1000"
        while url:
            page = http.get(url).json()
            if not seen:  # later pages follow a keyset cursor and do not count again
                assert page["numberMatched"] == city.incidents
            assert page["numberReturned"] == len(page["features"]) <= 1000
            seen += [f["id"] for f in page["features"]]
            nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
            url = nxt[0] if nxt else None
        assert sorted(seen) == sorted(set(seen))
        assert len(seen) == city.incidents
        second = http.get("/collections/incidents/items", params={"limit": 10, "offset": 10})
        assert any(link["rel"] == "prev" for link in second.json()["links"])


def test_items_bbox_datetime_properties_sortby(server: str, database_url: str) -> None:
    bbox = (106.795, 39.655, 106.805, 39.665)
    window = "2024-02-01T00:00:00Z/2024-03-01T00:00:00Z"
    expected = scalar(
        database_url,
        "SELECT count(*) FROM incidents WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s,"
        " 4326)) AND reported_at BETWEEN '2024-02-01T00:00:00Z' AND '2024-03-01T00:00:00Z'",
        *bbox,
    )
    with client(server) as http:
        page = http.get(
            "/collections/incidents/items",
            params={"bbox": ",".join(map(str, bbox)), "datetime": window, "limit": 10000,
                    "properties": "category,reported_at", "sortby": "-reported_at"},
        ).json()  # fmt: skip
    assert page["numberReturned"] == page["numberMatched"] == expected > 0
    times = [f["properties"]["reported_at"] for f in page["features"]]
    assert times == sorted(times, reverse=True)
    assert set(page["features"][0]["properties"]) == {"category", "reported_at"}


def test_cql2_text_and_json_agree_with_sql(server: str, database_url: str) -> None:
    expected = scalar(
        database_url,
        "SELECT count(*) FROM incidents WHERE category = '街面秩序' AND reported_at < '2024-06-01'",
    )
    text = "category = '街面秩序' AND reported_at < TIMESTAMP('2024-06-01T00:00:00Z')"
    cql_json = {"op": "and", "args": [
        {"op": "=", "args": [{"property": "category"}, "街面秩序"]},
        {"op": "<", "args": [{"property": "reported_at"}, {"timestamp": "2024-06-01T00:00:00Z"}]},
    ]}  # fmt: skip
    with client(server) as http:
        a = http.get("/collections/incidents/items", params={"filter": text, "limit": 1}).json()
        b = http.get(
            "/collections/incidents/items",
            params={"filter": json.dumps(cql_json), "filter-lang": "cql2-json", "limit": 1},
        ).json()
        like = http.get(
            "/collections/buildings/items",
            params={"filter": "name LIKE '1%' AND floors BETWEEN 2 AND 10", "limit": 1},
        ).json()
        spatial = http.get(
            "/collections/incidents/items",
            params={"filter": "S_INTERSECTS(geom, BBOX(106.79, 39.65, 106.80, 39.66))", "limit": 1},
        ).json()
    assert a["numberMatched"] == b["numberMatched"] == expected > 0
    assert like["numberMatched"] == scalar(
        database_url,
        "SELECT count(*) FROM buildings WHERE name LIKE '1%' AND floors BETWEEN 2 AND 10",
    )
    assert spatial["numberMatched"] == scalar(
        database_url,
        "SELECT count(*) FROM incidents WHERE ST_Intersects(geom,"
        " ST_MakeEnvelope(106.79, 39.65, 106.80, 39.66, 4326))",
    )


def test_item_by_id_and_gcj02(server: str, database_url: str) -> None:
    from geoplatform.spatial.chinese_offsets import wgs84_to_gcj02

    with client(server) as http:
        item = http.get("/collections/incidents/items/5").json()
        moved = http.get("/collections/incidents/items/5", params={"crs": "gcj02"}).json()
        grid = http.get("/collections/grids/items/150302001001001").json()
    assert item["id"] == 5
    assert item["type"] == "Feature"
    lon, lat = item["geometry"]["coordinates"]
    gx, gy = wgs84_to_gcj02([lon], [lat])
    assert moved["geometry"]["coordinates"] == pytest.approx([gx[0], gy[0]], abs=1e-6)
    assert grid["geometry"]["type"] == "MultiPolygon"


def test_locate_tilejson_style_health(server: str) -> None:
    with client(server) as http:
        where = http.get("/locate", params={"lon": 106.79, "lat": 39.67}).json()
        assert where["grid"]["code"] == "150302001001001"
        assert [a["level"] for a in where["admin"]] == ["city", "district", "street", "community"]
        outside = http.get("/locate", params={"lon": 100.0, "lat": 30.0}).json()
        assert outside["grid"] is None
        assert outside["admin"] == []
        tj = http.get("/tiles/grids,incidents/tilejson.json").json()
        assert tj["tilejson"] == "3.0.0"
        assert tj["tiles"][0].startswith(server + "/tiles/grids,incidents/{z}/{x}/{y}.mvt")
        assert [v["id"] for v in tj["vector_layers"]] == ["grids", "incidents"]
        style = http.get("/styles/onemap.json").json()
        assert style["version"] == 8
        source_layers = {lyr.get("source-layer") for lyr in style["layers"]}
        assert {"districts", "grids", "buildings", "incidents", "devices"} <= source_layers
        with client(server, role=None) as public:
            public_style = public.get("/styles/onemap.json").json()
        assert "people" not in {lyr.get("source-layer") for lyr in public_style["layers"]}
        assert style["sources"]["onemap"]["url"].startswith(server)
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").json() == {"status": "ready"}
        metrics = http.get("/metrics").text
        assert "geoplatform_http_requests_total" in metrics


@pytest.mark.slow
def test_gdal_reads_features_and_tiles(server: str, database_url: str, tmp_path: Path) -> None:
    """GDAL (Debian gdal-bin), not our code, reads the API: counts agree with the database."""
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token('admin')}"}
    info = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", f"OAPIF:{server}/", "incidents"],
        capture_output=True, text=True, timeout=300, check=True, env=env,
    ).stdout  # fmt: skip
    count = int(re.search(r"Feature Count: (\d+)", info).group(1))  # type: ignore[union-attr]
    assert count == scalar(database_url, "SELECT count(*) FROM incidents")
    listing = subprocess.run(
        ["ogrinfo", "-ro", "-q", f"OAPIF:{server}/"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert "grids" in listing
    assert "buildings" in listing
    # every feature, paged by GDAL itself through the next links
    full = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", f"OAPIF:{server}/", "grids"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert full.count("OGRFeature(grids)") == 4

    tms = morecantile.tms.get("WebMercatorQuad")
    t = tms.tile(106.80, 39.66, 16)
    with client(server) as http:
        data = http.get(f"/tiles/incidents/16/{t.x}/{t.y}.mvt").content
    path = tmp_path / "16" / str(t.x) / f"{t.y}.pbf"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    mvt = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    count = int(re.search(r"Feature Count: (\d+)", mvt).group(1))  # type: ignore[union-attr]
    expected = scalar(
        database_url,
        "SELECT count(*) FROM incidents WHERE ST_Intersects(geom, ST_Transform("
        "ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096), 4326))",
        16, t.x, t.y,
    )  # fmt: skip
    assert count == expected > 0


def test_geocode_is_the_etl_matcher_behind_http(server: str, database_url: str) -> None:
    from geoplatform.geocode import normalise

    with client(server) as http:
        empty = http.get("/geocode", params={"q": "人民路12号"})
        assert empty.status_code == 503
        assert "standard_addresses" in empty.json()["description"]
        assert http.get("/geocode", params={"q": ""}).status_code == 400
    rows = [("乌海市海勃湾区凤凰岭街道新华社区人民路12号", "人民路", "12号", 106.801, 39.661),
            ("乌海市海勃湾区凤凰岭街道新华社区人民路30号", "人民路", "30号", 106.805, 39.662)]  # fmt: skip  # noqa: E501
    with psycopg.connect(database_url) as conn:
        for i, (address, road, door, lon, lat) in enumerate(rows):
            conn.execute(
                "INSERT INTO standard_addresses (address, normalized, level, district_code,"
                " street_code, community_code, road, door_number, geom, source, source_key)"
                " VALUES (%s, %s, 'door', '150302000000', '150302001000', '150302001001', %s, %s,"
                " ST_SetSRID(ST_MakePoint(%s, %s), 4326), 't', %s)",
                (address, normalise(address), road, door, lon, lat, f"a{i}"),
            )
        conn.execute(
            "INSERT INTO meta.layer_versions (layer, version) VALUES ('standard_addresses', 2)"
            " ON CONFLICT (layer) DO UPDATE SET version = meta.layer_versions.version + 1"
        )
    with client(server) as http:
        result = http.get("/geocode", params={"q": "海勃湾区人民路12号"}).json()
    assert result["query"] == "海勃湾区人民路12号"
    assert result["lon"] == pytest.approx(106.801)
    assert result["lat"] == pytest.approx(39.661)
