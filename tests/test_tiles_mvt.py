"""Vector tiles served by the real app over HTTP, decoded with mapbox-vector-tile and compared
with the database rows: exact at detail zoom, clusters that add up below it, deterministic
bytes, caching that is never stale, 304s, and a 4xx for every bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
import yaml

from tests.tiles_fixtures import (
    EAST,
    LAYERS_FILE,
    NORTH,
    SOUTH,
    WEST,
    City,
    bump_version,
    client,
    live_server,
    seed_city,
    tile_settings,
)

TMS = morecantile.tms.get("WebMercatorQuad")


@pytest.fixture
def city(database_url: str) -> City:
    return seed_city(database_url)


@pytest.fixture
def server(database_url: str, city: City, tmp_path: Path) -> Iterator[str]:
    with live_server(tile_settings(database_url, tmp_path)) as base:
        yield base


def decode(data: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(data) if data else {}


def rows_in_tile(url: str, table: str, z: int, x: int, y: int, margin: float) -> set[int]:
    """Ids of the rows whose point lies inside the tile's buffered envelope (SQL's own answer)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            # ST_Intersects, not &&: the index operator compares float4-rounded boxes
            f"SELECT id FROM {table} WHERE ST_Intersects(geom, ST_Transform("
            "ST_TileEnvelope(%s, %s, %s, margin => %s), 4326))",
            (z, x, y, margin),
        ).fetchall()
    return {int(r[0]) for r in rows}


def dense_tile(z: int) -> morecantile.Tile:
    return TMS.tile(106.80, 39.66, z)


def test_detail_tile_holds_exactly_the_rows_in_its_envelope(server: str, database_url: str) -> None:
    with client(server) as http:
        for z in (16, 17):
            t = dense_tile(z)
            response = http.get(f"/tiles/incidents/{z}/{t.x}/{t.y}.mvt")
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
            layer = decode(response.content)["incidents"]
            served = {int(f["id"]) for f in layer["features"]}
            expected = rows_in_tile(database_url, "incidents", z, t.x, t.y, 64 / 4096)
            assert expected, "the test tile should hold incidents"
            assert served == expected
            props = layer["features"][0]["properties"]
            assert {"category", "reported_at", "status"} <= set(props)
            assert "count" not in props


def test_building_footprints_at_detail_zoom(server: str, database_url: str) -> None:
    t = dense_tile(16)
    with client(server) as http:
        response = http.get(f"/tiles/buildings/16/{t.x}/{t.y}.mvt")
    layer = decode(response.content)["buildings"]
    assert {f["geometry"]["type"] for f in layer["features"]} == {"Polygon"}
    served = {int(f["id"]) for f in layer["features"]}
    assert served
    assert served <= rows_in_tile(database_url, "buildings", 16, t.x, t.y, 0.1)


@pytest.mark.parametrize("z", [0, 5, 9, 12, 14, 15])
def test_clusters_below_detail_zoom_add_up_to_the_rows(server: str, city: City, z: int) -> None:
    """Every row is counted once: the counts over all tiles at a zoom sum to the table."""
    total = 0
    clusters = 0
    with client(server) as http:
        for t in TMS.tiles(WEST, SOUTH, EAST, NORTH, [z]):
            response = http.get(f"/tiles/incidents/{z}/{t.x}/{t.y}.mvt")
            assert response.status_code in (200, 204)
            for feature in decode(response.content).get("incidents", {}).get("features", []):
                assert "count" in feature["properties"]
                assert "h3" in feature["properties"]
                total += int(feature["properties"]["count"])
                clusters += 1
    assert total == city.incidents
    assert clusters < city.incidents


def test_same_bytes_twice_without_cache(database_url: str, city: City, tmp_path: Path) -> None:
    settings = tile_settings(database_url, tmp_path, tile_cache_bytes=0)
    with live_server(settings) as base, client(base) as http:
        for z in (8, 12, 16):
            t = dense_tile(z)
            path = f"/tiles/districts,grids,buildings,incidents/{z}/{t.x}/{t.y}.mvt"
            first = http.get(path)
            second = http.get(path)
            assert first.status_code == 200
            assert first.content == second.content
            assert first.headers["etag"] == second.headers["etag"]


def test_cap_turns_a_full_detail_tile_into_clusters(
    database_url: str, city: City, tmp_path: Path
) -> None:
    """A detail tile above its cap shows clusters of all its rows, never an arbitrary cut."""
    catalog = yaml.safe_load(LAYERS_FILE.read_text(encoding="utf-8"))
    catalog["layers"]["incidents"]["cap"] = 20
    catalog["layers"]["grids"]["cap"] = 2  # a polygon layer: the importance order decides
    layers_file = tmp_path / "layers.yaml"
    layers_file.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    settings = tile_settings(database_url, tmp_path, layers_file=layers_file, tile_cache_bytes=0)
    t = dense_tile(16)
    with live_server(settings) as base, client(base) as http:
        data = http.get(f"/tiles/incidents/16/{t.x}/{t.y}.mvt").content
        assert data == http.get(f"/tiles/incidents/16/{t.x}/{t.y}.mvt").content
        features = decode(data)["incidents"]["features"]
        assert all("count" in f["properties"] for f in features)
        # clusters cover the unbuffered tile, half-open: compare with the rows there
        assert sum(f["properties"]["count"] for f in features) == len(
            rows_in_tile(database_url, "incidents", 16, t.x, t.y, 0.0)
        )
        grids = decode(http.get("/tiles/grids/12/{}/{}.mvt".format(*dense_tile(12)[:2])).content)
        codes = [f["properties"]["code"] for f in grids["grids"]["features"]]
        assert codes == ["150302001001001", "150302001001002"]  # the first two by code


def test_filters_on_tiles(server: str, database_url: str) -> None:
    t = dense_tile(16)
    with client(server) as http:
        path = f"/tiles/incidents/16/{t.x}/{t.y}.mvt"
        by_cat = decode(http.get(path, params={"category": "街面秩序"}).content)["incidents"]
        assert {f["properties"]["category"] for f in by_cat["features"]} == {"街面秩序"}
        window = "2024-03-01T00:00:00Z/2024-04-01T00:00:00Z"
        by_time = decode(http.get(path, params={"datetime": window}).content)["incidents"]
        for f in by_time["features"]:
            assert "2024-03-01" <= f["properties"]["reported_at"] < "2024-04-01T00:00:01"
        cql = decode(http.get(path, params={"filter": "category = '暴露垃圾'"}).content)
        assert {f["properties"]["category"] for f in cql["incidents"]["features"]} == {"暴露垃圾"}
        # clusters with a CQL2 filter are grouped by PostGIS; with category, in process: same
        z12 = dense_tile(12)
        low = f"/tiles/incidents/12/{z12.x}/{z12.y}.mvt"
        a = decode(http.get(low, params={"filter": "category = '暴露垃圾'"}).content)
        b = decode(http.get(low, params={"category": "暴露垃圾"}).content)
        count_a = sum(f["properties"]["count"] for f in a["incidents"]["features"])
        count_b = sum(f["properties"]["count"] for f in b["incidents"]["features"])
        assert count_a == count_b > 0


def test_empty_tile_is_204(server: str) -> None:
    with client(server) as http:
        response = http.get("/tiles/incidents/16/0/0.mvt")
    assert response.status_code == 204
    assert response.content == b""


def test_never_stale_after_an_etl_commit(server: str, database_url: str) -> None:
    t16 = dense_tile(16)
    t12 = dense_tile(12)
    paths = [f"/tiles/incidents/16/{t16.x}/{t16.y}.mvt", f"/tiles/incidents/12/{t12.x}/{t12.y}.mvt"]
    with client(server) as http:
        before = {p: http.get(p) for p in paths}
        # a load commits a new incident and bumps the layer version in the fence (as the ETL does)
        lon, lat = TMS.lnglat(*TMS.xy_bounds(t16)[:2])  # the tile's south-west corner
        with psycopg.connect(database_url) as conn:
            new_id = conn.execute(
                "INSERT INTO incidents (channel, category, status, reported_at, geom, h3_r11,"
                " source, source_key) VALUES ('hotline', '新类别', 'reported', now(),"
                " ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, 't', 'new') RETURNING id",
                (lon + 0.0005, lat + 0.0005, _h3(lon + 0.0005, lat + 0.0005)),
            ).fetchone()[0]
            bump_version(conn, "incidents", database_url)
        for p in paths:
            after = http.get(p)
            assert after.content != before[p].content
            assert after.headers["etag"] != before[p].headers["etag"]
        ids = {f["id"] for f in decode(http.get(paths[0]).content)["incidents"]["features"]}
        assert new_id in ids
        low = decode(http.get(paths[1]).content)["incidents"]["features"]
        old = decode(before[paths[1]].content)["incidents"]["features"]
        assert (
            sum(f["properties"]["count"] for f in low)
            == sum(f["properties"]["count"] for f in old) + 1
        )


def _h3(lon: float, lat: float) -> int:
    from geoplatform.spatial.h3cells import lonlat_to_cells

    return int(lonlat_to_cells([lon], [lat], 11)[0])


def test_etag_304_cache_control_and_gzip(server: str) -> None:
    t = dense_tile(14)
    path = f"/tiles/incidents,grids/14/{t.x}/{t.y}.mvt"
    with client(server) as http:
        first = http.get(path, headers={"Accept-Encoding": "gzip"})
        assert first.headers["content-encoding"] == "gzip"
        assert "no-cache" in first.headers["cache-control"]
        etag = first.headers["etag"]
        again = http.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        plain = http.get(path, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.content == first.content  # httpx decoded the gzip one
        metrics = http.get("/metrics").text
        assert 'geoplatform_tiles_total{outcome="not_modified"} 1.0' in metrics
        assert 'geoplatform_tiles_total{outcome="hit"}' in metrics


def test_composite_tile_dedups_and_limits_layers(server: str) -> None:
    t = dense_tile(14)
    with client(server) as http:
        one = http.get(f"/tiles/grids,incidents,grids/14/{t.x}/{t.y}.mvt")
        assert sorted(decode(one.content)) == ["grids", "incidents"]
        too_many = ",".join(
            [
                "grids",
                "incidents",
                "buildings",
                "devices",
                "districts",
                "streets",
                "communities",
                "organisations",
                "grids",
                "x1",
                "x2",
                "x3",
            ]
        )
        response = http.get(f"/tiles/{too_many}/14/{t.x}/{t.y}.mvt")
        assert response.status_code == 404 or response.status_code == 400


def test_gcj02_tiles_move_points(server: str) -> None:
    """A point's GCJ-02 tile position is its WGS84 one moved by the published offset."""
    from geoplatform.spatial.chinese_offsets import wgs84_to_gcj02

    with client(server) as http:
        items = http.get("/collections/devices/items", params={"limit": 1}).json()
        lon, lat = items["features"][0]["geometry"]["coordinates"]
        gx, gy = (float(v[0]) for v in wgs84_to_gcj02([lon], [lat]))
        t = TMS.tile(gx, gy, 18)
        response = http.get(f"/tiles/devices/18/{t.x}/{t.y}.mvt", params={"crs": "gcj02"})
        features = decode(response.content)["devices"]["features"]
        b = TMS.xy_bounds(t)
        want = TMS.xy(gx, gy)
        got = [
            (b.left + f["geometry"]["coordinates"][0] / 4096 * (b.right - b.left),
             b.bottom + f["geometry"]["coordinates"][1] / 4096 * (b.top - b.bottom))
            for f in features if f["id"] == items["features"][0]["id"]
        ]  # fmt: skip
        assert len(got) == 1
        assert abs(got[0][0] - want.x) < 0.5  # metres
        assert abs(got[0][1] - want.y) < 0.5


BAD_TILES = [
    ("/tiles/incidents/25/1/1.mvt", 400, "zoom"),
    ("/tiles/incidents/3/8/1.mvt", 400, "outside"),
    ("/tiles/incidents/3/1/-1.mvt", 400, "y"),
    ("/tiles/incidents/a/1/1.mvt", 400, "z"),
    ("/tiles/nosuch/3/1/1.mvt", 404, "no layer"),
    ("/tiles/streets/3/1/1.mvt", 400, "zooms 8..18"),
    ("/tiles/incidents/3/1/1.mvt?datetime=yesterday", 400, "datetime"),
    ("/tiles/incidents/3/1/1.mvt?datetime=2024-05-01/2024-01-01", 400, "starts after"),
    ("/tiles/incidents/3/1/1.mvt?filter=category%20%3D", 400, "does not parse"),
    ("/tiles/incidents/3/1/1.mvt?filter=secret%20%3D%201", 400, "no property 'secret'"),
    ("/tiles/incidents/3/1/1.mvt?filter=category%20%3E%205", 400, "types"),
    ("/tiles/incidents/3/1/1.mvt?filter-lang=sql&filter=a", 400, "filter-lang"),
    ("/tiles/incidents/3/1/1.mvt?crs=EPSG:2000", 400, "crs"),
    ("/tiles/incidents/3/1/1.mvt?tms=Nope", 404, "tile matrix set"),
    ("/collections/incidents/tiles/CGCS2000Quad/3/1/16", 404, "no tile"),  # row 1, col 16
    ("/collections/incidents/items?limit=0", 400, "limit"),
    ("/collections/incidents/items?bbox=1,2,3", 400, "bbox"),
    ("/collections/incidents/items?bbox=1,2,3,x", 400, "bbox"),
    ("/collections/incidents/items?bbox=1,50,3,40", 400, "minlat"),
    ("/collections/incidents/items?datetime=2024-13-01", 400, "datetime"),
    ("/collections/incidents/items?sortby=-secret", 400, "secret"),
    ("/collections/incidents/items?properties=category,secret", 400, "secret"),
    ("/collections/incidents/items?nosuch=1", 400, "unknown parameter"),
    ("/collections/incidents/items?filter=reported_at%20%3E%20%27x%27", 400, "types"),
    ("/collections/grids/items?datetime=2024-01-01", 400, "no time field"),
    ("/collections/incidents/items/notanumber", 404, "no feature"),
    ("/collections/incidents/items/999999999", 404, "no feature"),
    ("/collections/nosuch/items", 404, "no layer"),
    ("/locate?lon=200&lat=39", 400, "lon"),
    ("/locate?lon=x&lat=39", 400, "lon"),
    ("/tiles/nosuch/tilejson.json", 404, "no layer"),
]


@pytest.mark.parametrize(("path", "status", "words"), BAD_TILES)
def test_bad_input_gets_a_clear_4xx(server: str, path: str, status: int, words: str) -> None:
    with client(server) as http:
        response = http.get(path)
    assert response.status_code == status, response.text
    body = response.json()
    assert words.lower() in body["description"].lower()
    assert "select" not in body["description"].lower()


def test_cgcs2000_geographic_quad_tile(server: str, database_url: str) -> None:
    """A CGCS2000Quad tile (EPSG:4490, 2x1 at z0) holds the rows inside its lon/lat box."""
    from geoplatform.tiles.tms import get_tms

    cgcs = get_tms("CGCS2000Quad")
    assert (cgcs.matrix(0).matrixWidth, cgcs.matrix(0).matrixHeight) == (2, 1)
    t = cgcs.tile(106.80, 39.66, 16)
    b = cgcs.bounds(t)
    with client(server) as http:
        response = http.get(f"/collections/incidents/tiles/CGCS2000Quad/16/{t.y}/{t.x}")
    assert response.status_code == 200
    served = {int(f["id"]) for f in decode(response.content)["incidents"]["features"]}
    with psycopg.connect(database_url) as conn:
        inside = {
            int(r[0])
            for r in conn.execute(
                "SELECT id FROM incidents WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s,"
                " 4326))",
                (b.left, b.bottom, b.right, b.top),
            )
        }
    assert inside
    assert inside <= served  # plus the rows in the 64-unit buffer around it
