"""OGC API common parts: landing page, conformance, collections, queryables, tile matrix sets,
tilesets (per collection and the one-map dataset), TileJSON and the MapLibre style.

Every OGC resource answers JSON, or with `f=html` (or a browser's Accept) a small HTML page.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse

from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.featurecrs import CRS84, SERVED
from geoplatform.tiles.features import DEFAULT_LIMIT, MAX_LIMIT, collection_extent
from geoplatform.tiles.html import document_page, wants_html
from geoplatform.tiles.openapi import OPENAPI_MEDIA_TYPE
from geoplatform.tiles.styles import onemap_style, tilejson
from geoplatform.tiles.tilesets import tileset_doc, tileset_summary, tms_document, union_bbox
from geoplatform.tiles.tms import get_tms, tile_matrix_sets

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
MVT = "application/vnd.mapbox-vector-tile"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixsetlimits",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixsetlimits",
    "http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata",
]
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


async def layer_extent(ctx: ServerContext, layer: Layer) -> list[float] | None:
    async with ctx.pool.connection() as conn:
        bbox, _ = await collection_extent(conn, layer)
    return bbox


async def collection_doc(ctx: ServerContext, layer: Layer, base: str) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        bbox, interval = await collection_extent(conn, layer)
    url = f"{base}/collections/{layer.name}"
    extent: dict[str, Any] = {}
    if bbox:
        extent["spatial"] = {"bbox": [bbox], "crs": CRS84}
    if interval:
        extent["temporal"] = {
            "interval": [interval],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    doc: dict[str, Any] = {
        "id": layer.name,
        "title": layer.config.title,
        "description": layer.config.description or layer.config.title,
        "itemType": "feature",
        "crs": list(SERVED),
        "storageCrs": CRS84,
        "links": [
            _link(url, "self", JSON),
            _link(f"{url}?f=html", "alternate", HTML),
            _link(f"{url}/items", "items", GEOJSON, "features"),
            _link(f"{url}/items?f=html", "items", HTML, "features (HTML)"),
            _link(
                f"{url}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
            ),
            _link(f"{url}/tiles", TILESETS_VECTOR, JSON, "vector tilesets"),
        ],
    }
    if extent:
        doc["extent"] = extent
    return doc


def _json_or_html(request: Request, doc: dict[str, Any], title: str) -> Any:
    return document_page(doc, title) if wants_html(request) else doc


def ogc_router(context: Callable[..., Any] = get_context) -> APIRouter:
    router = APIRouter(tags=["OGC API"])
    Ctx = Annotated[ServerContext, Depends(context)]  # noqa: N806

    @router.get("/api", include_in_schema=False)
    async def api(request: Request) -> Any:
        return JSONResponse(request.app.openapi(), media_type=OPENAPI_MEDIA_TYPE)

    @router.get("/conformance")
    async def conformance(request: Request) -> Any:
        doc = {"title": "Conformance", "conformsTo": CONFORMANCE}
        return _json_or_html(request, doc, "Conformance")

    @router.get("/collections")
    async def collections(ctx: Ctx, request: Request) -> Any:
        base = base_url(request)
        docs = [await collection_doc(ctx, layer, base) for layer in ctx.catalog.public()]
        doc = {
            "title": "Collections",
            "collections": docs,
            "crs": list(SERVED),
            "links": [
                _link(f"{base}/collections", "self", JSON),
                _link(f"{base}/collections?f=html", "alternate", HTML),
            ],
        }
        return _json_or_html(request, doc, "Collections")

    @router.get("/collections/{collection_id}")
    async def collection(ctx: Ctx, request: Request, collection_id: str) -> Any:
        doc = await collection_doc(ctx, ctx.catalog.get(collection_id), base_url(request))
        return _json_or_html(request, doc, collection_id)

    @router.get(
        "/collections/{collection_id}/queryables",
        responses={200: {"content": {"application/schema+json": {}}}},
    )
    async def queryables(ctx: Ctx, request: Request, collection_id: str) -> Any:
        layer = ctx.catalog.get(collection_id)
        props: dict[str, Any] = {
            "geometry": {
                "$ref": "https://geojson.org/schema/Geometry.json",
                "x-ogc-role": "primary-geometry",
            },
        }
        for name, column in layer.columns.items():
            if not column.is_scalar:  # a JSON object of delivery attributes: not filterable
                continue
            schema: dict[str, Any] = {"type": column.json_type, "title": name}
            if column.is_time:
                schema = {"type": "string", "format": "date-time", "title": name}
            props[name] = schema
        doc = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{base_url(request)}/collections/{layer.name}/queryables",
            "type": "object",
            "title": layer.config.title,
            "properties": props,
            "additionalProperties": False,
        }
        if wants_html(request):
            return document_page(doc, f"{layer.name}: queryables")
        return JSONResponse(doc, media_type="application/schema+json")

    @router.get("/collections/{collection_id}/tiles")
    async def tilesets(ctx: Ctx, request: Request, collection_id: str) -> Any:
        layer = ctx.catalog.get(collection_id)
        base = base_url(request)
        bbox = await layer_extent(ctx, layer)
        url = f"{base}/collections/{layer.name}/tiles"
        docs = [
            tileset_summary(tileset_doc([layer], [bbox], t, f"{url}/{t}", base, layer.config.title))
            for t in tile_matrix_sets()
        ]
        doc = {"title": f"{layer.name}: tilesets", "tilesets": docs,
               "links": [_link(url, "self", JSON)]}  # fmt: skip
        return _json_or_html(request, doc, f"{layer.name}: tilesets")

    @router.get("/collections/{collection_id}/tiles/{tms_id}")
    async def tileset(ctx: Ctx, request: Request, collection_id: str, tms_id: str) -> Any:
        layer = ctx.catalog.get(collection_id)
        get_tms(tms_id)
        base = base_url(request)
        bbox = await layer_extent(ctx, layer)
        url = f"{base}/collections/{layer.name}/tiles/{tms_id}"
        doc = tileset_doc([layer], [bbox], tms_id, url, base, layer.config.title)
        return _json_or_html(request, doc, doc["title"])

    @router.get("/tiles", summary="Tilesets of the one-map tile (every public layer)")
    async def dataset_tilesets(ctx: Ctx, request: Request) -> Any:
        base = base_url(request)
        layers = ctx.catalog.public()
        boxes = [await layer_extent(ctx, layer) for layer in layers]
        docs = [
            tileset_summary(tileset_doc(layers, boxes, t, f"{base}/tiles/{t}", base, "one map"))
            for t in tile_matrix_sets()
        ]
        doc = {"title": "One-map tilesets", "tilesets": docs,
               "links": [_link(f"{base}/tiles", "self", JSON)]}  # fmt: skip
        return _json_or_html(request, doc, "One-map tilesets")

    @router.get("/tiles/{tms_id}", summary="The one-map tileset in a tile matrix set")
    async def dataset_tileset(ctx: Ctx, request: Request, tms_id: str) -> Any:
        get_tms(tms_id)
        base = base_url(request)
        layers = ctx.catalog.public()
        boxes = [await layer_extent(ctx, layer) for layer in layers]
        doc = tileset_doc(layers, boxes, tms_id, f"{base}/tiles/{tms_id}", base, "one map")
        return _json_or_html(request, doc, doc["title"])

    @router.get("/tileMatrixSets")
    async def matrix_sets(request: Request) -> Any:
        base = base_url(request)
        doc = {
            "title": "Tile matrix sets",
            "tileMatrixSets": [
                {
                    "id": t,
                    "title": tms.title or t,
                    "uri": tms.uri,
                    "crs": tms.crs.srs,
                    "links": [
                        _link(
                            f"{base}/tileMatrixSets/{t}",
                            "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                            JSON,
                        ),
                        _link(f"{base}/tileMatrixSets/{t}", "self", JSON),
                    ],
                }
                for t, tms in tile_matrix_sets().items()
            ],
        }
        return _json_or_html(request, doc, "Tile matrix sets")

    @router.get("/tileMatrixSets/{tms_id}")
    async def matrix_set(request: Request, tms_id: str) -> Any:
        return _json_or_html(request, tms_document(tms_id), tms_id)

    @router.get("/tiles/{layers}/tilejson.json")
    async def tile_json(ctx: Ctx, request: Request, layers: str) -> dict[str, Any]:
        chosen = ctx.catalog.parse_list(layers)
        boxes = [await layer_extent(ctx, layer) for layer in chosen]
        return tilejson(
            ctx.catalog, chosen, base_url(request), request.url.query, bounds=union_bbox(boxes)
        )

    @router.get("/styles/onemap.json")
    async def style(ctx: Ctx, request: Request) -> dict[str, Any]:
        return onemap_style(ctx.catalog, base_url(request), glyphs=ctx.glyphs_dir is not None)

    @router.get("/", include_in_schema=False)
    async def landing(request: Request) -> Any:
        base = base_url(request)
        if "f" not in request.query_params and wants_html(request):
            return RedirectResponse(f"{base}/viewer/")  # a browser at the root wants the map
        doc = {
            "title": "geoplatform one-map API",
            "description": "Vector tiles, OGC API Features and Tiles for the city's one map.",
            "links": [
                _link(f"{base}/", "self", JSON),
                _link(f"{base}/?f=html", "alternate", HTML),
                _link(f"{base}/api", "service-desc", OPENAPI_MEDIA_TYPE, "OpenAPI 3.0"),
                _link(f"{base}/docs", "service-doc", HTML, "Swagger UI"),
                _link(f"{base}/redoc", "service-doc", HTML, "ReDoc"),
                _link(f"{base}/conformance", "conformance", JSON),
                _link(f"{base}/collections", "data", JSON),
                _link(f"{base}/tiles", TILESETS_VECTOR, JSON, "one-map vector tilesets"),
                _link(
                    f"{base}/tileMatrixSets",
                    "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                    JSON,
                ),
                _link(f"{base}/styles/onemap.json", "stylesheet", JSON, "MapLibre style"),
                _link(f"{base}/viewer/", "alternate", HTML, "one-map viewer"),
            ],
            "defaultLimit": DEFAULT_LIMIT,
            "maxLimit": MAX_LIMIT,
        }
        return _json_or_html(request, doc, "geoplatform one-map API")

    return router
