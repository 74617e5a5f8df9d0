"""Conformance, written from the abstract test suites of OGC API - Features Part 1 (core, GeoJSON,
HTML, OpenAPI 3.0), Part 2 (CRS by reference), Part 3 (filtering, queryables, CQL2 text and
JSON), OGC API - Tiles Part 1 (core, tileset, tilesets list, dataset and geodata tilesets) and
the 2D Tile Matrix Set standard (tile matrix set limits, tileset metadata).

Each check names the requirement it tests (`/req/...`, as the standards number them); expected
values come from SQL on the same database, never from the server's own code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import mapbox_vector_tile
import morecantile
import numpy as np
import pytest

from geoplatform.spatial.chinese_offsets import wgs84_to_bd09, wgs84_to_gcj02
from tests.conftest import DatabaseFactory
from tests.standards_fixtures import LiveCity, live_city
from tests.tiles_fixtures import client

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
GCJ02 = "urn:x-geoplatform:def:crs:GCJ-02"
BD09 = "urn:x-geoplatform:def:crs:BD-09"
CONF = "http://www.opengis.net/spec/"
MVT = "application/vnd.mapbox-vector-tile"


@pytest.fixture(scope="module")
def live(
    database_factory: DatabaseFactory, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveCity]:
    with live_city(database_factory, tmp_path_factory.mktemp("conformance")) as city:
        yield city


@pytest.fixture(scope="module")
def http(live: LiveCity) -> Iterator[httpx.Client]:
    with client(live.base, role=None) as c:  # no credentials: what an analyst sees
        yield c


def req(rid: str, condition: bool, detail: object = "") -> None:
    """Assert one requirement, so a failure names it."""
    assert condition, f"{rid} not met {detail}"


def links(doc: dict[str, Any], rel: str) -> list[dict[str, Any]]:
    return [link for link in doc.get("links", []) if link["rel"] == rel]


def items(http: httpx.Client, collection: str = "incidents", **params: Any) -> httpx.Response:
    return http.get(f"/collections/{collection}/items", params=params)


# ---------------------------------------------------------------- Features Part 1: core


def test_landing_conformance_and_api_definition(http: httpx.Client) -> None:
    root = http.get("/")
    req("/req/core/root-op", root.status_code == 200)
    doc = root.json()
    rels = {link["rel"] for link in doc["links"]}
    req("/req/core/root-success", {"self", "service-desc", "conformance", "data"} <= rels, rels)
    for link in doc["links"]:
        req("/req/core/fc-rel-type", {"href", "rel", "type"} <= set(link), link)

    api = http.get("/api")
    req("/req/core/api-definition-op", api.status_code == 200)
    req(
        "/req/oas30/oas-definition-1",
        api.headers["content-type"].startswith("application/vnd.oai.openapi+json;version=3.0"),
        api.headers["content-type"],
    )
    definition = api.json()
    req("/req/oas30/oas-definition-2", definition["openapi"].startswith("3.0."))
    req(
        "/req/core/api-definition-success",
        "/collections/{collection_id}/items" in definition["paths"],
    )
    # the same document at FastAPI's own URL: one OpenAPI version everywhere
    assert http.get("/openapi.json").json()["openapi"] == definition["openapi"]
    from openapi_spec_validator import OpenAPIV30SpecValidator

    problems = [str(e)[:200] for e in OpenAPIV30SpecValidator(definition).iter_errors()]
    req("/req/oas30/oas-definition-2", problems == [], problems[:3])
    text = json.dumps(definition)
    req("/req/oas30/oas-definition-2", '"type": "null"' not in text, "3.1 null types left")

    conf = http.get("/conformance")
    req("/req/core/conformance-op", conf.status_code == 200)
    classes = set(conf.json()["conformsTo"])
    wanted = {
        "ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
        "ogcapi-features-1/1.0/conf/oas30", "ogcapi-features-1/1.0/conf/html",
        "ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/filter",
        "ogcapi-features-3/1.0/conf/features-filter", "ogcapi-features-3/1.0/conf/queryables",
        "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/cql2-json", "ogcapi-tiles-1/1.0/conf/core",
        "ogcapi-tiles-1/1.0/conf/tileset", "ogcapi-tiles-1/1.0/conf/tilesets-list",
        "ogcapi-tiles-1/1.0/conf/geodata-tilesets", "ogcapi-tiles-1/1.0/conf/dataset-tilesets",
        "tms/2.0/conf/tilematrixsetlimits",
    }  # fmt: skip
    req("/req/core/conformance-success", {CONF + w for w in wanted} <= classes, classes)


def test_openapi_describes_what_the_server_does(http: httpx.Client) -> None:
    definition = http.get("/api").json()
    get = definition["paths"]["/collections/{collection_id}/items"]["get"]
    params = {p["name"]: p for p in get["parameters"]}
    limit = params["limit"]["schema"]
    req("/req/core/fc-limit-definition", limit["minimum"] == 1 and limit["type"] == "integer")
    req("/req/core/fc-limit-definition", limit["default"] <= limit["maximum"], limit)
    req("/req/core/fc-bbox-definition", "bbox" in params)
    req("/req/core/fc-time-definition", "datetime" in params)
    req("/req/crs/fc-crs-definition", "crs" in params)
    req("/req/crs/fc-bbox-crs-definition", "bbox-crs" in params)
    req("/req/filter/filter-param", {"filter", "filter-lang", "filter-crs"} <= set(params))
    # /req/oas30/oas-impl: every parameterless GET path of the OGC API answers
    ogc = ("/", "/conformance", "/collections", "/tileMatrixSets", "/tiles")
    for path, ops in definition["paths"].items():
        if "{" not in path and "get" in ops and path != "/geocode":
            status = http.get(path).status_code
            limit = 400 if path in ogc else 500  # analytics answer 404 before the first ETL run
            req("/req/oas30/oas-impl", status < limit, f"{path}: {status}")


def test_collections(http: httpx.Client, live: LiveCity) -> None:
    response = http.get("/collections")
    req("/req/core/fc-md-op", response.status_code == 200)
    doc = response.json()
    req("/req/core/fc-md-success", links(doc, "self") and doc["collections"])
    ids = [c["id"] for c in doc["collections"]]
    req("/req/core/fc-md-success", "incidents" in ids and "people" not in ids, ids)
    for c in doc["collections"]:
        req("/req/core/fc-md-links", links(c, "items"), c["id"])
        req("/req/core/fc-md-items", c["itemType"] == "feature")
        req("/req/crs/fc-md-crs-list", CRS84 in c["crs"], c["crs"])
        req("/req/crs/fc-md-storageCrs", c["storageCrs"] in c["crs"])
        one = http.get(f"/collections/{c['id']}")
        req("/req/core/sfc-md-op", one.status_code == 200)
        req("/req/core/sfc-md-success", one.json()["id"] == c["id"])
    incidents = http.get("/collections/incidents").json()
    x0, y0, x1, y1 = incidents["extent"]["spatial"]["bbox"][0]
    truth = live.rows(
        "SELECT min(ST_X(geom)), min(ST_Y(geom)), max(ST_X(geom)), max(ST_Y(geom)) FROM incidents"
    )[0]
    # the planner's estimated extent (float4 box): it covers the data, within a few metres
    req("/req/core/fc-md-extent", x0 <= truth[0] + 1e-4 and y0 <= truth[1] + 1e-4)
    req("/req/core/fc-md-extent", x1 >= truth[2] - 1e-4 and y1 >= truth[3] - 1e-4)
    start, _end = incidents["extent"]["temporal"]["interval"][0]
    first = live.scalar(
        "SELECT to_char(min(reported_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        " FROM incidents"
    )
    req("/req/core/fc-md-extent", start == first, (start, first))


def test_items_limit_links_and_counts(http: httpx.Client, live: LiveCity) -> None:
    response = items(http, limit=5)
    req("/req/core/fc-op", response.status_code == 200)
    req("/req/geojson/definition", response.headers["content-type"] == "application/geo+json")
    doc = response.json()
    req("/req/core/fc-response", doc["type"] == "FeatureCollection")
    req("/req/core/fc-limit-response", len(doc["features"]) == 5)
    req("/req/core/fc-numberReturned", doc["numberReturned"] == 5)
    req("/req/core/fc-numberMatched", doc["numberMatched"] == live.city.incidents)
    req("/req/core/fc-links", links(doc, "self") and links(doc, "next"))
    for feature in doc["features"]:
        req("/req/geojson/content", feature["type"] == "Feature" and "properties" in feature)
    # a limit above the maximum is served as the maximum, not refused (Part 1, 7.15.3)
    maximum = http.get("/api").json()["paths"]["/collections/{collection_id}/items"]["get"]
    cap = next(p for p in maximum["parameters"] if p["name"] == "limit")["schema"]["maximum"]
    big = items(http, "grids", limit=cap + 1)
    req("/req/core/fc-limit-response", big.status_code == 200 and len(big.json()["features"]) == 4)
    # following next links visits every feature exactly once
    seen: list[int] = []
    url: str | None = "/collections/incidents/items?limit=700"
    while url:
        page = http.get(url).json()
        req("/req/core/fc-limit-response", len(page["features"]) <= 1000)
        seen += [f["id"] for f in page["features"]]
        nxt = links(page, "next")
        url = nxt[0]["href"] if nxt else None
    req(
        "/req/core/fc-links",
        sorted(seen) == sorted(r[0] for r in live.rows("SELECT id FROM incidents")),
    )
    # the default limit is the documented one
    default = next(p for p in maximum["parameters"] if p["name"] == "limit")["schema"]["default"]
    req(
        "/req/core/fc-limit-response",
        len(items(http).json()["features"]) == min(default, live.city.incidents),
    )


def test_bad_query_parameters(http: httpx.Client) -> None:
    req("/req/core/query-param-unknown", items(http, nosuch=1).status_code == 400)
    for bad in ({"limit": 0}, {"bbox": "1,2,3"}, {"datetime": "2024-13-01"}):
        req("/req/core/query-param-invalid", items(http, **bad).status_code == 400, bad)


def test_bbox_and_crs84(http: httpx.Client, live: LiveCity) -> None:
    box = (106.795, 39.655, 106.805, 39.665)
    doc = items(http, bbox=",".join(map(str, box)), limit=10_000).json()
    inside = live.scalar(
        "SELECT count(*) FROM incidents WHERE ST_Intersects(geom, ST_MakeEnvelope(%s,%s,%s,%s, 4326))",  # noqa: E501
        *box,
    )
    req("/req/core/fc-bbox-response", doc["numberMatched"] == len(doc["features"]) == inside > 0)
    feature = http.get("/collections/incidents/items/7").json()
    lon, lat = live.rows("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE id = 7")[0]
    req(
        "/req/core/crs84", feature["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-7)
    )
    req("/req/core/f-op", feature["id"] == 7)
    req("/req/core/f-success", links(feature, "self") and links(feature, "collection"))
    req("/req/core/f-success", http.get("/collections/incidents/items/999999").status_code == 404)


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("2024-03-05", "reported_at >= '2024-03-05Z' AND reported_at < '2024-03-06Z'"),
        ("2024-03-01/2024-03-31", "reported_at >= '2024-03-01Z' AND reported_at < '2024-04-01Z'"),
        ("../2024-02-01", "reported_at < '2024-02-02Z'"),
        ("2024-11-30T00:00:00Z/..", "reported_at >= '2024-11-30Z'"),
        ("2024-11-30/", "reported_at >= '2024-11-30Z'"),
        ("2024-05-01T10:00:00+08:00/2024-05-02T10:00:00+08:00",
         "reported_at BETWEEN '2024-05-01T02:00:00Z' AND '2024-05-02T02:00:00Z'"),
    ],
)  # fmt: skip
def test_datetime(http: httpx.Client, live: LiveCity, value: str, where: str) -> None:
    """/req/core/fc-time-response: dates (whole UTC days), intervals and open intervals."""
    expected = live.scalar(f"SELECT count(*) FROM incidents WHERE {where}")
    got = items(http, datetime=value, limit=1).json()["numberMatched"]
    req("/req/core/fc-time-response", got == expected > 0, (value, got, expected))


def test_html_pages(http: httpx.Client) -> None:
    for path in ("/", "/conformance", "/collections", "/collections/incidents",
                 "/collections/incidents/items", "/collections/incidents/items/3",
                 "/collections/incidents/queryables", "/collections/incidents/tiles"):  # fmt: skip
        page = http.get(path, params={"f": "html"})
        req("/req/html/definition", page.headers["content-type"].startswith("text/html"), path)
        req("/req/html/content", "<a href=" in page.text and "<h1>" in page.text, path)
    browser = http.get("/collections/incidents/items", headers={"accept": "text/html"})
    req("/req/html/definition", browser.headers["content-type"].startswith("text/html"))
    req(
        "/req/core/query-param-invalid",
        http.get("/collections", params={"f": "xml"}).status_code == 400,
    )
    collections = http.get("/collections").json()
    req("/req/core/fc-md-links", links(collections, "alternate")[0]["type"] == "text/html")


# ---------------------------------------------------------------- Features Part 2: CRS


def _point(live: LiveCity, fid: int) -> tuple[float, float]:
    lon, lat = live.rows("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE id = %s", fid)[0]
    return float(lon), float(lat)


def test_crs_parameter(http: httpx.Client, live: LiveCity) -> None:
    lon, lat = _point(live, 11)
    mx, my = live.rows(
        "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(geom, 3857) g FROM incidents"
        " WHERE id = 11) s"
    )[0]
    gx, gy = (float(v[0]) for v in wgs84_to_gcj02([lon], [lat]))
    bx, by = (float(v[0]) for v in wgs84_to_bd09([lon], [lat]))
    expected = {
        CRS84: ([lon, lat], 1e-7),
        EPSG + "4326": ([lat, lon], 1e-7),  # EPSG:4326 is latitude first
        EPSG + "4490": ([lat, lon], 1e-7),
        EPSG + "3857": ([mx, my], 0.01),
        GCJ02: ([gx, gy], 1e-7),
        BD09: ([bx, by], 1e-7),
    }
    for uri, (coords, tol) in expected.items():
        for path in ("/collections/incidents/items/11", "/collections/incidents/items"):
            params: dict[str, Any] = {"crs": uri}
            if path.endswith("items"):
                params.update(filter="id = 11")
            response = http.get(path, params=params)
            req("/req/crs/fc-crs-valid-value", response.status_code == 200, uri)
            doc = response.json()
            geometry = (doc["features"][0] if "features" in doc else doc)["geometry"]
            req(
                "/req/crs/fc-crs-action",
                geometry["coordinates"] == pytest.approx(coords, abs=tol),
                uri,
            )
            req("/req/crs/ogc-crs-header", "content-crs" in response.headers)
            req("/req/crs/ogc-crs-header-value", response.headers["content-crs"] == f"<{uri}>", uri)
    req("/req/crs/crs-exception", items(http, crs=EPSG + "2000").status_code == 400)
    req(
        "/req/crs/fc-crs-default-value", items(http, limit=1).headers["content-crs"] == f"<{CRS84}>"
    )


def test_bbox_crs(http: httpx.Client, live: LiveCity) -> None:
    box = (106.795, 39.655, 106.805, 39.665)
    inside = {r[0] for r in live.rows(
        "SELECT id FROM incidents WHERE ST_Intersects(geom, ST_MakeEnvelope(%s,%s,%s,%s, 4326))",
        *box,
    )}  # fmt: skip
    [(mx0, my0, mx1, my1)] = live.rows(
        "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Transform("
        "ST_MakeEnvelope(%s,%s,%s,%s,4326), 3857) b) s",
        *box,
    )
    cases = {
        CRS84: box,
        EPSG + "4326": (box[1], box[0], box[3], box[2]),  # lat,lon order
        EPSG + "3857": (mx0, my0, mx1, my1),
    }
    for uri, values in cases.items():
        doc = items(
            http, bbox=",".join(map(repr, values)), limit=10_000, **{"bbox-crs": uri}
        ).json()
        got = {f["id"] for f in doc["features"]}
        # a box given in Mercator covers its own corners, so it may take the rows on its edge
        req(
            "/req/crs/fc-bbox-crs-action",
            got == inside if uri != EPSG + "3857" else inside <= got,
            uri,
        )
    req(
        "/req/crs/fc-bbox-crs-default-value",
        {
            f["id"]
            for f in items(http, bbox=",".join(map(str, box)), limit=10_000).json()["features"]
        }
        == inside,
    )
    bad = items(http, bbox="1,2,3,4", **{"bbox-crs": EPSG + "9999"})
    req("/req/crs/bbox-crs-exception", bad.status_code == 400)


# ---------------------------------------------------------------- Features Part 3: filtering


def test_queryables(http: httpx.Client, live: LiveCity) -> None:
    collection = http.get("/collections/incidents").json()
    rel = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
    req("/req/queryables/queryables-link", links(collection, rel))
    response = http.get("/collections/incidents/queryables")
    req("/req/queryables/get-queryables-op", response.status_code == 200)
    req("/req/queryables/get-queryables-response",
        response.headers["content-type"].startswith("application/schema+json"))  # fmt: skip
    schema = response.json()
    req("/req/queryables/get-queryables-response",
        schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        and schema["$id"] == f"{live.base}/collections/incidents/queryables"
        and schema["type"] == "object")  # fmt: skip
    req(
        "/req/queryables/get-queryables-response",
        schema["properties"]["reported_at"]["format"] == "date-time",
    )


def test_filter_text_json_and_crs(http: httpx.Client, live: LiveCity) -> None:
    expected = live.scalar(
        "SELECT count(*) FROM incidents WHERE category = '街面秩序' AND"
        " ST_Intersects(geom, ST_MakeEnvelope(106.79, 39.65, 106.80, 39.66, 4326))"
    )
    text = ("category = '街面秩序' AND S_INTERSECTS(geom, POLYGON((106.79 39.65, 106.80 39.65,"
            " 106.80 39.66, 106.79 39.66, 106.79 39.65)))")  # fmt: skip
    as_json = json.dumps({"op": "and", "args": [
        {"op": "=", "args": [{"property": "category"}, "街面秩序"]},
        {"op": "s_intersects", "args": [{"property": "geom"}, {"type": "Polygon", "coordinates": [
            [[106.79, 39.65], [106.80, 39.65], [106.80, 39.66], [106.79, 39.66],
             [106.79, 39.65]]]}]},
    ]}, ensure_ascii=False)  # fmt: skip
    got_text = items(http, filter=text, limit=1).json()["numberMatched"]
    got_json = items(http, filter=as_json, limit=1, **{"filter-lang": "cql2-json"}).json()[
        "numberMatched"
    ]
    req(
        "/req/filter/filter-lang-param",
        got_text == got_json == expected > 0,
        (got_text, got_json, expected),
    )
    req("/req/filter/response", got_text == expected)
    # the same polygon in EPSG:4326 (lat, lon) with filter-crs, and in GCJ-02
    flipped = ("category = '街面秩序' AND S_INTERSECTS(geom, POLYGON((39.65 106.79, 39.65 106.80,"
               " 39.66 106.80, 39.66 106.79, 39.65 106.79)))")  # fmt: skip
    got = items(http, filter=flipped, limit=1, **{"filter-crs": EPSG + "4326"}).json()[
        "numberMatched"
    ]
    req("/req/filter/filter-crs-param", got == expected, (got, expected))
    bbox_4326 = "category = '街面秩序' AND BBOX(geom, 39.65, 106.79, 39.66, 106.80)"
    got = items(http, filter=bbox_4326, limit=1, **{"filter-crs": EPSG + "4326"}).json()[
        "numberMatched"
    ]
    req("/req/filter/filter-crs-param", got == expected, ("bbox", got, expected))
    corners = np.array([[106.79, 39.65], [106.80, 39.65], [106.80, 39.66], [106.79, 39.66]])
    gx, gy = wgs84_to_gcj02(corners[:, 0], corners[:, 1])
    pairs = [*zip(gx.tolist(), gy.tolist(), strict=True)]
    ring = ", ".join(f"{x!r} {y!r}" for x, y in [*pairs, pairs[0]])
    gcj = f"category = '街面秩序' AND S_INTERSECTS(geom, POLYGON(({ring})))"
    got = items(http, filter=gcj, limit=1, **{"filter-crs": GCJ02}).json()["numberMatched"]
    req(
        "/req/filter/filter-crs-param", abs(got - expected) <= 2, ("gcj02", got, expected)
    )  # edges move by cm
    req(
        "/req/filter/filter-crs-param",
        items(http, filter=text, **{"filter-crs": "EPSG:2000"}).status_code == 400,
    )


# ---------------------------------------------------------------- OGC API Tiles, TMS 2.0


def test_tile_matrix_sets(http: httpx.Client) -> None:
    listing = http.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert {t["id"] for t in listing} == {"WebMercatorQuad", "WorldCRS84Quad", "CGCS2000Quad"}
    for entry in listing:
        doc = http.get(f"/tileMatrixSets/{entry['id']}").json()
        req("/req/tilematrixset/model", doc["tileMatrices"] and doc["crs"], entry["id"])
        req("/req/tilematrixset/model", len(doc["orderedAxes"]) == 2, entry["id"])
    cgcs = http.get("/tileMatrixSets/CGCS2000Quad").json()
    req("/req/tilematrixset/model", cgcs["orderedAxes"] == ["Lat", "Lon"] and "4490" in cgcs["crs"])


def _tilesets(http: httpx.Client, path: str) -> list[dict[str, Any]]:
    response = http.get(path)
    req("/req/tilesets-list/tileset-path", response.status_code == 200, path)
    sets: list[dict[str, Any]] = response.json()["tilesets"]
    for ts in sets:
        req("/req/tilesets-list/tileset-links",
            {"dataType", "crs", "tileMatrixSetURI"} <= set(ts) and links(ts, "self")
            and links(ts, "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"), ts)  # fmt: skip
    return sets


def _check_tileset(http: httpx.Client, live: LiveCity, url: str, layer: str) -> None:
    ts = http.get(url).json()
    req("/req/tileset/description", ts["dataType"] == "vector" and links(ts, "item"))
    template = links(ts, "item")[0]
    req("/req/core/tc-op", template["href"].endswith("/{tileMatrix}/{tileRow}/{tileCol}"), template)
    req("/req/core/tc-op", template["type"] == MVT and template["templated"] is True)
    tms_id = url.rstrip("/").split("/")[-1]
    tms = morecantile.tms.get(tms_id) if tms_id != "CGCS2000Quad" else None
    limits = {lim["tileMatrix"]: lim for lim in ts["tileMatrixSetLimits"]}
    req("/req/tilematrixsetlimits/model", len(limits) == len(ts["tileMatrixSetLimits"]))
    # every incident lies in a tile inside the limits, at every zoom listed
    (lon, lat) = _point(live, 1)
    for z in (0, 10, 16):
        if tms is None or str(z) not in limits:
            continue
        t = tms.tile(lon, lat, z)
        lim = limits[str(z)]
        req("/req/tilematrixsetlimits/model",
            lim["minTileRow"] <= t.y <= lim["maxTileRow"]
            and lim["minTileCol"] <= t.x <= lim["maxTileCol"],
            (z, t, lim))  # fmt: skip
        tile_url = template["href"].format(tileMatrix=z, tileRow=t.y, tileCol=t.x)
        tile = http.get(tile_url)
        req("/req/tileset/tc-success", tile.status_code == 200, tile_url)
        req("/req/core/tc-success", tile.headers["content-type"] == MVT)
        decoded = mapbox_vector_tile.decode(tile.content)
        req("/req/core/tc-success", layer in decoded or layer == "*", list(decoded))
    # a tile outside the matrix set is a 404 (/req/tileset/tc-success D)
    outside = template["href"].format(tileMatrix=3, tileRow=999, tileCol=0)
    req("/req/tileset/tc-success", http.get(outside).status_code == 404, outside)
    req(
        "/req/core/tc-error",
        http.get(template["href"].format(tileMatrix="x", tileRow=0, tileCol=0)).status_code == 400,
    )


def test_geodata_tilesets(http: httpx.Client, live: LiveCity) -> None:
    collection = http.get("/collections/incidents").json()
    vector = links(collection, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
    req("/req/geodata-tilesets/desc-links", vector and vector[0]["type"] == "application/json")
    sets = _tilesets(http, "/collections/incidents/tiles")
    req("/req/geodata-tilesets/operation", len(sets) == 3)
    for ts in sets:
        _check_tileset(http, live, links(ts, "self")[0]["href"], "incidents")
    described = http.get("/collections/incidents/tiles/WebMercatorQuad").json()
    req("/req/tilesetmetadata/model", described["layers"][0]["id"] == "incidents")
    req("/req/tilesetmetadata/model", "boundingBox" in described and "centerPoint" in described)


def test_dataset_tilesets_one_map(http: httpx.Client, live: LiveCity) -> None:
    root = http.get("/").json()
    req("/req/dataset-tilesets/landingpage",
        links(root, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"))  # fmt: skip
    sets = _tilesets(http, "/tiles")
    req("/req/dataset-tilesets/operation", len(sets) == 3)
    ts = http.get("/tiles/WebMercatorQuad").json()
    names = {layer["id"] for layer in ts["layers"]}
    req(
        "/req/tilesetmetadata/model",
        {"incidents", "grids", "buildings"} <= names and "people" not in names,
    )
    _check_tileset(http, live, f"{live.base}/tiles/WebMercatorQuad", "*")
    t = morecantile.tms.get("WebMercatorQuad").tile(106.80, 39.66, 14)
    tile = mapbox_vector_tile.decode(http.get(f"/tiles/WebMercatorQuad/14/{t.y}/{t.x}").content)
    req("/req/core/tc-success", {"incidents", "grids", "districts"} <= set(tile), list(tile))
    # the XYZ route serves the very same composite under z/x/y
    names_in_order = ",".join(layer["id"] for layer in ts["layers"])
    xyz = http.get(f"/tiles/{names_in_order}/14/{t.x}/{t.y}.mvt")
    assert set(mapbox_vector_tile.decode(xyz.content)) == set(tile)


def test_tilejson_from_the_data(http: httpx.Client, live: LiveCity) -> None:
    tj = http.get("/tiles/incidents,grids/tilejson.json").json()
    x0, y0, x1, y1 = tj["bounds"]
    truth = live.rows("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
                      " (SELECT ST_Extent(geom) e FROM grids) s")[0]  # fmt: skip
    assert x0 <= truth[0] + 1e-4
    assert x1 >= truth[2] - 1e-4
    assert x1 - x0 < 0.1
    assert y0 <= truth[1] + 1e-4
    assert y1 >= truth[3] - 1e-4
    assert y1 - y0 < 0.1
    assert x0 < tj["center"][0] < x1
    assert y0 < tj["center"][1] < y1
    assert tj["attribution"]
    assert tj["fillzoom"] == tj["maxzoom"]
    fields = {v["id"]: v["fields"] for v in tj["vector_layers"]}
    assert {"category", "reported_at", "count"} <= set(fields["incidents"])
    assert all(v["description"] for v in tj["vector_layers"])


def test_gcj02_tiles_still_served(http: httpx.Client) -> None:
    """The tile `crs` (wgs84 | gcj02, for Amap/Tencent base maps) is unchanged by Part 2."""
    t = morecantile.tms.get("WebMercatorQuad").tile(106.80, 39.66, 14)
    path = f"/collections/incidents/tiles/WebMercatorQuad/14/{t.y}/{t.x}"
    assert http.get(path, params={"crs": "gcj02"}).status_code == 200
