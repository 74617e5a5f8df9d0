"""A hand-written attack corpus: every route, the extremes of every parameter, CQL2 injections,
NUL and control bytes, traversal, repeated layers and parameters, huge headers.

Each entry is (method, raw path with query, headers). Paths are sent as written (already
percent-encoded where that matters), so a NUL arrives as `%00`, not as a client-side error.
"""

from __future__ import annotations

import json
from urllib.parse import quote

Request = tuple[str, str, dict[str, str]]

TILE = "14/13052/6222"  # inside the seeded city at z14
NUL_AND_CONTROLS = ["%00", "%01", "%07", "%1b", "%7f", "%c2%85", "a%00b", "%0d%0aX-Injected:%201"]
EXTREME_INTS = ["-1", "0", "99999999999999999999", "-99999999999999999999", "1e3", "0x10", "NaN",
                "1.5", "", " ", "%20", "+1", "00000000000000000000001"]  # fmt: skip
EXTREME_FLOATS = ["nan", "inf", "-inf", "1e309", "-1e309", "1e-320", "181", "-91", "abc", "",
                  "1,2", "0x1p3"]  # fmt: skip
DATETIMES = ["2024-13-01", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-14:00", "../..",
             "2024-01-01/2023-01-01", "2024-01-01/2024-02-01/2024-03-01", "now", "%00",
             "2024-01-01T25:00:00Z", "2024-01-01T00:00:00Z/..", "../2024-01-01",
             "x" * 5000]  # fmt: skip
BBOXES = ["1,2,3", "1,2,3,4,5", "a,b,c,d", "nan,nan,nan,nan", "-181,-91,181,91", "180,0,-180,1",
          "106.8,39.7,106.7,39.6", "1e309,0,0,0", ",,,", "106.78,39.64,106.82,39.68"]  # fmt: skip
CQL_TEXT = [
    "category = '市容环境'",
    "category = 'x''; DROP TABLE incidents; --'",
    "category = 'a\x00b'",
    "1 = 1",
    "category = category",
    "pg_sleep(10) = 1",
    "id = 1 OR 1 = 1",
    "no_such_column = 1",
    "category LIKE '%'",
    "category IN ()",
    "category IN (" + ",".join(f"'{i}'" for i in range(300)) + ")",
    " AND ".join(["category = 'a'"] * 250),
    " OR ".join(["id = 1"] * 300),
    "(" * 60 + "id = 1" + ")" * 60,
    "NOT " * 50 + "id = 1",
    "INTERSECTS(geom, POINT(106.8 39.66))",
    "INTERSECTS(geom, POLYGON((0 0, 1 1, 0 0)))",
    "INTERSECTS(geom, POLYGON((0 0)))",
    "S_INTERSECTS(geom, BBOX(106.7, 39.6, 106.9, 39.7))",
    "BBOX(geom, 1e309, 0, 0, 0)",
    "reported_at > TIMESTAMP('2024-01-01T00:00:00Z')",
    "reported_at > TIMESTAMP('99999-01-01T00:00:00Z')",
    "T_AFTER(reported_at, TIMESTAMP('2024-01-01T00:00:00Z'))",
    "id > 99999999999999999999999999",
    "id = 'abc'",
    "category > 5",
    "id BETWEEN 'a' AND 'b'",
    "category IS NULL",
    "x" * 5000,
    "",
    "   ",
    ")",
    "'",
    "\"category\" = 'a'",
    "category = 'a' ; SELECT 1",
]
CQL_JSON: list[object] = [
    [], {}, None, 1, "x", [1], True,
    {"op": "and", "args": []},
    {"op": "and"},
    {"op": "=", "args": [{"property": "category"}]},
    {"op": "=", "args": [{"property": "category"}, "市容环境"]},
    {"op": "=", "args": [{"property": "pg_catalog.pg_sleep"}, 1]},
    {"op": "=", "args": [{"property": "category"}, {"property": "category"}]},
    {"op": "=", "args": [{"property": "category"}, "a\u0000b"]},
    {"op": "s_intersects", "args": [{"property": "geom"}, {"type": "Point"}]},
    {"op": "s_intersects", "args": [{"property": "geom"},
                                    {"type": "Point", "coordinates": [1e309, 0]}]},
    {"op": "in", "args": [{"property": "category"}, list(range(400))]},
    {"op": "like", "args": [{"property": "category"}, "%"]},
    {"op": "unknown", "args": [1, 2]},
    {"op": "and", "args": [{"op": "=", "args": [{"property": "id"}, i]} for i in range(300)]},
]  # fmt: skip


def _nested_json(depth: int) -> str:
    text = '{"op": "=", "args": [{"property": "id"}, 1]}'
    for _ in range(depth):
        text = '{"op": "not", "args": [' + text + "]}"
    return text


def _q(value: str) -> str:
    return quote(value, safe="")


def corpus() -> list[Request]:
    out: list[Request] = []

    def get(path: str, **headers: str) -> None:
        out.append(("GET", path, headers))

    tile_routes = [f"/tiles/incidents/{TILE}.mvt", f"/tiles/incidents,buildings/{TILE}.mvt",
                   "/collections/incidents/tiles/WebMercatorQuad/14/6222/13052",
                   f"/heatmap/incidents/{TILE}.mvt", f"/heatmap/incidents/{TILE}.png",
                   f"/stats/incidents/{TILE}.mvt"]  # fmt: skip
    listing = ["/collections/incidents/items", "/stats/incidents", "/analytics/hotspots"]

    # z/x/y extremes on every tile route
    for base in tile_routes:
        prefix, _, suffix = base.partition(TILE)
        for z, x, y in [
            ("-1", "0", "0"),
            ("31", "0", "0"),
            ("99999999999999999999", "0", "0"),
            ("14", "-1", "0"),
            ("14", "16384", "0"),
            ("14", "0", "99999999999"),
            ("a", "b", "c"),
            ("14", "1.5", "0"),
            ("0", "0", "0"),
            ("%00", "0", "0"),
        ]:
            get(f"{prefix}{z}/{x}/{y}{suffix}")
    # NUL and control bytes in every path segment and parameter
    for bad in NUL_AND_CONTROLS:
        get(f"/collections/incidents/items/{bad}")
        get(f"/collections/{bad}/items")
        get(f"/tiles/{bad}/{TILE}.mvt")
        get(f"/viewer/{bad}")
        get(f"/viewer/index.html{bad}")
        get(f"/geocode?q={bad}")
        for base in [*tile_routes, *listing]:
            get(f"{base}?category={bad}")
        get(f"/collections/incidents/items?filter=category%20%3D%20%27{bad}%27")
    # numbers outside their types
    for value in EXTREME_INTS:
        v = _q(value)
        get(f"/collections/incidents/items?limit={v}")
        get(f"/collections/incidents/items?offset={v}")
        get(f"/analytics/hotspots?res={v}")
        get(f"/analytics/warnings?limit={v}")
        get(f"/heatmap/incidents.tif?bbox=106.78,39.64,106.82,39.68&size={v}")
        get(f"/heatmap/incidents.tif?bbox=106.78,39.64,106.82,39.68&res={v}")
        get(f"/collections/incidents/items/{v or 'x'}")
    for value in EXTREME_FLOATS:
        v = _q(value)
        get(f"/locate?lon={v}&lat=39.66")
        get(f"/locate?lon=106.8&lat={v}")
        get(f"/analytics/hotspots?alpha={v}")
        get(f"/heatmap/incidents.tif?bbox=106.78,39.64,106.82,39.68&bandwidth={v}")
    for res in range(4, 13):
        get(f"/analytics/hotspots?res={res}")
    # datetimes and bboxes on every route that takes them
    for value in DATETIMES:
        for base in [*tile_routes[:2], *tile_routes[3:], *listing]:
            get(f"{base}?datetime={_q(value)}")
    for value in BBOXES:
        get(f"/collections/incidents/items?bbox={_q(value)}")
        get(f"/heatmap/incidents.tif?bbox={_q(value)}")
    # CQL2 text and JSON on items and tiles
    for text in CQL_TEXT:
        for base in (
            "/collections/incidents/items",
            f"/tiles/incidents/{TILE}.mvt",
            f"/tiles/incidents/{TILE.replace('14/', '10/', 1).split('/')[0]}/815/388.mvt",
        ):
            get(f"{base}?filter={_q(text)}")
    for doc in CQL_JSON:
        for base in ("/collections/incidents/items", f"/tiles/incidents/{TILE}.mvt"):
            get(f"{base}?filter-lang=cql2-json&filter={_q(json.dumps(doc))}")
    for depth in (10, 20, 100, 500):
        get(f"/collections/incidents/items?filter-lang=cql2-json&filter={_q(_nested_json(depth))}")
    for lang in ("cql2-TEXT", "cql-text", "ecql", "%00", "x" * 100):
        get(f"/collections/incidents/items?filter-lang={_q(lang)}&filter=id%20%3D%201")
    get("/collections/incidents/items?filter=id%20%3D%201&filter-crs=EPSG:3857")
    # other parameters of items
    for props in ("", ",", "nope", "id,id,id", "geom", "%00", "x" * 3000):
        get(f"/collections/incidents/items?properties={_q(props)}")
    for sortby in ("", "+", "-", "nope", "-id,+category", "id DESC", "%00", "+" * 100):
        get(f"/collections/incidents/items?sortby={_q(sortby)}")
    for crs in (
        "gcj02",
        "wgs84",
        "EPSG:4326",
        "bd09",
        "%00",
        "x" * 500,
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    ):
        get(f"/collections/incidents/items?crs={_q(crs)}")
        get(f"/tiles/incidents/{TILE}.mvt?crs={_q(crs)}")
        get(f"/locate?lon=106.8&lat=39.66&crs={_q(crs)}")
    for tms in ("WebMercatorQuad", "CGCS2000Quad", "nope", "..%2F..", "%00"):
        get(f"/tiles/incidents/{TILE}.mvt?tms={_q(tms)}")
        get(f"/collections/incidents/tiles/{tms}/{TILE}")
        get(f"/tileMatrixSets/{tms}")
    get("/collections/incidents/items?unknown=1")
    get("/collections/incidents/items?limit=1&limit=2")  # repeated parameter
    get("/collections/incidents/items?bbox-crs=gcj02")
    # layers: unknown, repeated, restricted, many
    for layers in (
        "nope",
        "incidents,incidents",
        "incidents," * 50 + "incidents",
        ",",
        ",,,",
        "people",
        "incidents,nope",
        "INCIDENTS",
        "incidents%2Cbuildings",
        "buildings,incidents,organisations,devices,grids,admin_areas",
    ):
        get(f"/tiles/{layers}/{TILE}.mvt")
        get(f"/tiles/{layers}/tilejson.json")
        get(f"/collections/{layers}")
        get(f"/collections/{layers}/items")
        get(f"/collections/{layers}/queryables")
        get(f"/stats/{layers}")
        get(f"/heatmap/{layers}/{TILE}.png")
    # heatmap and stats parameters
    for cmap in ("ylorrd", "viridis", "nope", "%00", "x" * 500, "YLORRD"):
        get(f"/heatmap/incidents/{TILE}.png?colormap={_q(cmap)}")
    for fmt in ("mvt", "png", "jpg", "", "mvt%00", "tif"):
        get(f"/heatmap/incidents/{TILE}.{fmt}")
    for area in (
        "150302",
        "150302001",
        "150302001001",
        "150302001001001",
        "999999",
        "abc",
        "١٥٠٣٠٢",
        "1" * 15,
        "",
        "%00",
    ):
        get(f"/heatmap/incidents.tif?area={_q(area)}")
    get("/heatmap/incidents.tif")
    get("/heatmap/incidents.tif?bbox=106.78,39.64,106.82,39.68&area=150302")
    get("/heatmap/incidents.tif?bbox=106.8,39.66,106.8,39.66")
    for by in ("grid", "community", "street", "district", "city", "nope", "%00", ""):
        get(f"/stats/incidents?by={_q(by)}")
        get(f"/stats/incidents/{TILE}.mvt?by={_q(by)}")
    for f in ("json", "csv", "xml", "", "%00"):
        get(f"/stats/incidents?f={_q(f)}")
    get("/stats/incidents", accept="text/csv")
    for channel in ("hotline", "nope", ",", "x" * 3000):
        get(f"/stats/incidents?channel={_q(channel)}")
        get(f"/heatmap/incidents/{TILE}.mvt?channel={_q(channel)}")
    for as_of in ("2024-01-01", "2024-02-30", "x", "9999-12-31", "%00"):
        get(f"/analytics/warnings?as_of={_q(as_of)}")
    for level in ("cell", "grid", "nope", ""):
        get(f"/analytics/warnings?level={_q(level)}")
    get("/analytics/hotspots?layer=nope")
    # geocode
    for q in (
        "",
        " ",
        "乌海市海勃湾区新华街道",
        "x" * 201,
        "x" * 5000,
        "'; DROP TABLE x; --",
        "%ff%fe",
        "\u202e",
        "🙂" * 50,
    ):
        get(f"/geocode?q={_q(q)}")
    get("/geocode")
    # traversal
    for path in (
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e/%2e%2e/etc/passwd",
        "....//....//etc/passwd",
        "/etc/passwd",
        "index.html/../../pyproject.toml",
        "%252e%252e/",
        "C:\\Windows\\win.ini",
        "node_modules/../../README.md",
    ):
        get(f"/viewer/{path}")
        get(f"/fonts/{path}/0-255.pbf")
    get("/fonts/Noto%20Sans/0-255.pbf")
    # huge and odd headers
    get(f"/tiles/incidents/{TILE}.mvt", **{"if-none-match": '"' + "x" * 8000 + '"'})
    get(f"/tiles/incidents/{TILE}.mvt", **{"x-big": "y" * 15000})
    get(f"/tiles/incidents/{TILE}.mvt", **{"accept-encoding": "gzip;q=" + "9" * 2000})
    get("/collections/incidents/items", accept="x" * 9000)
    get("/", accept="text/html")
    get("/?f=json")
    get(f"/tiles/incidents/{TILE}.mvt", origin="http://evil.example")
    # every GET route answers HEAD
    for path in [
        "/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/conformance",
        "/collections",
        "/collections/incidents",
        "/collections/incidents/items?limit=1",
        "/collections/incidents/queryables",
        "/tileMatrixSets",
        "/styles/onemap.json",
        "/tiles/incidents/tilejson.json",
        "/stats/incidents",
        *tile_routes,
        "/analytics/warnings",
        "/locate?lon=106.8&lat=39.66",
        "/openapi.json",
    ]:
        out.append(("HEAD", path, {}))
    # very long paths and query strings
    get("/collections/" + "a" * 3000)
    get("/collections/incidents/items?filter=" + "a" * 20000)
    get("/collections/incidents/items?" + "&".join(f"p{i}=1" for i in range(100)))
    get("/" + "/".join(["x"] * 400))
    get("/collections/incidents/items?%ff=1")
    get("/collections/incidents/items?filter=%ff%fe")
    return out
