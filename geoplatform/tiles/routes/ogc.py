"""OGC API common parts: landing page, conformance, collections, queryables, tile matrix sets,
tilesets, TileJSON and the MapLibre style."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.features import MAX_LIMIT, collection_extent
from geoplatform.tiles.styles import onemap_style, tilejson
from geoplatform.tiles.tms import get_tms, tile_matrix_sets

GEOJSON = "application/geo+json"
JSON = "application/json"
MVT = "application/vnd.mapbox-vector-tile"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
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
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


async def collection_doc(ctx: ServerContext, layer: Layer, base: str) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        bbox, interval = await collection_extent(conn, layer)
    url = f"{base}/collections/{layer.name}"
    extent: dict[str, Any] = {}
    if bbox:
        extent["spatial"] = {"bbox": [bbox], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
    if interval:
        extent["temporal"] = {"interval": [interval]}
    doc: dict[str, Any] = {
        "id": layer.name,
        "title": layer.config.title,
        "description": layer.config.description or layer.config.title,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "links": [
            _link(url, "self", JSON),
            _link(f"{url}/items", "items", GEOJSON, "features"),
            _link(
                f"{url}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
            ),
            _link(f"{url}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON),
        ],
    }
    if extent:
        doc["extent"] = extent
    return doc


def tileset_doc(layer: Layer, tms_id: str, base: str) -> dict[str, Any]:
    url = f"{base}/collections/{layer.name}/tiles/{tms_id}"
    return {
        "title": f"{layer.config.title} ({tms_id})",
        "dataType": "vector",
        "crs": get_tms(tms_id).crs.srs,
        "tileMatrixSetURI": f"{base}/tileMatrixSets/{tms_id}",
        "links": [
            _link(url, "self", JSON),
            _link(
                f"{base}/tileMatrixSets/{tms_id}",
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                JSON,
            ),
            {
                **_link(f"{url}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}", "item", MVT),
                "templated": True,
            },
        ],
        "tileMatrixSetLimits": [
            {"tileMatrix": str(z)} for z in range(layer.config.minzoom, layer.config.maxzoom + 1)
        ],
        "layers": [
            {
                "id": layer.name,
                "dataType": "vector",
                "geometryType": "polygons" if layer.is_polygon else "points",
                "minTileMatrix": str(layer.config.minzoom),
                "maxTileMatrix": str(layer.config.maxzoom),
            }
        ],
    }


def ogc_router(context: Callable[..., Any] = get_context) -> APIRouter:
    router = APIRouter(tags=["OGC API"])
    Ctx = Annotated[ServerContext, Depends(context)]  # noqa: N806

    @router.get("/api", include_in_schema=False)
    async def api(request: Request) -> Any:
        return request.app.openapi()

    @router.get("/conformance")
    async def conformance() -> dict[str, Any]:
        return {"conformsTo": CONFORMANCE}

    @router.get("/collections")
    async def collections(ctx: Ctx, request: Request) -> dict[str, Any]:
        base = base_url(request)
        docs = [await collection_doc(ctx, layer, base) for layer in ctx.catalog.public()]
        return {
            "collections": docs,
            "links": [_link(f"{base}/collections", "self", JSON)],
        }

    @router.get("/collections/{collection_id}")
    async def collection(ctx: Ctx, request: Request, collection_id: str) -> dict[str, Any]:
        return await collection_doc(ctx, ctx.catalog.get(collection_id), base_url(request))

    @router.get("/collections/{collection_id}/queryables")
    async def queryables(ctx: Ctx, request: Request, collection_id: str) -> dict[str, Any]:
        layer = ctx.catalog.get(collection_id)
        props: dict[str, Any] = {
            "geometry": {"$ref": "https://geojson.org/schema/Geometry.json"},
        }
        for name, column in layer.columns.items():
            schema: dict[str, Any] = {"type": column.json_type, "title": name}
            if column.is_time:
                schema = {"type": "string", "format": "date-time", "title": name}
            props[name] = schema
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{base_url(request)}/collections/{layer.name}/queryables",
            "type": "object",
            "title": layer.config.title,
            "properties": props,
            "additionalProperties": False,
        }

    @router.get("/collections/{collection_id}/tiles")
    async def tilesets(ctx: Ctx, request: Request, collection_id: str) -> dict[str, Any]:
        layer = ctx.catalog.get(collection_id)
        base = base_url(request)
        return {"tilesets": [tileset_doc(layer, t, base) for t in tile_matrix_sets()]}

    @router.get("/collections/{collection_id}/tiles/{tms_id}")
    async def tileset(
        ctx: Ctx, request: Request, collection_id: str, tms_id: str
    ) -> dict[str, Any]:
        layer = ctx.catalog.get(collection_id)
        get_tms(tms_id)
        return tileset_doc(layer, tms_id, base_url(request))

    @router.get("/tileMatrixSets")
    async def matrix_sets(request: Request) -> dict[str, Any]:
        base = base_url(request)
        return {
            "tileMatrixSets": [
                {
                    "id": t,
                    "title": tms.title or t,
                    "links": [_link(f"{base}/tileMatrixSets/{t}", "self", JSON)],
                }
                for t, tms in tile_matrix_sets().items()
            ]
        }

    @router.get("/tileMatrixSets/{tms_id}")
    async def matrix_set(tms_id: str) -> Any:
        return get_tms(tms_id).model_dump(exclude_none=True, mode="json")

    @router.get("/tiles/{layers}/tilejson.json")
    async def tile_json(ctx: Ctx, request: Request, layers: str) -> dict[str, Any]:
        return tilejson(
            ctx.catalog, ctx.catalog.parse_list(layers), base_url(request), request.url.query
        )

    @router.get("/styles/onemap.json")
    async def style(ctx: Ctx, request: Request) -> dict[str, Any]:
        return onemap_style(ctx.catalog, base_url(request), glyphs=ctx.glyphs_dir is not None)

    @router.get("/", include_in_schema=False)
    async def landing(request: Request) -> Any:
        base = base_url(request)
        accept = request.headers.get("accept", "")
        if "text/html" in accept and "json" not in request.query_params.get("f", ""):
            from fastapi.responses import RedirectResponse

            return RedirectResponse(f"{base}/viewer/")
        return {
            "title": "geoplatform one-map API",
            "description": "Vector tiles, OGC API Features and Tiles for the city's one map.",
            "links": [
                _link(f"{base}/", "self", JSON),
                _link(
                    f"{base}/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0"
                ),
                _link(f"{base}/docs", "service-doc", "text/html"),
                _link(f"{base}/conformance", "conformance", JSON),
                _link(f"{base}/collections", "data", JSON),
                _link(
                    f"{base}/tileMatrixSets",
                    "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                    JSON,
                ),
                _link(f"{base}/styles/onemap.json", "stylesheet", JSON, "MapLibre style"),
                _link(f"{base}/viewer/", "alternate", "text/html", "one-map viewer"),
            ],
            "maxLimit": MAX_LIMIT,
        }

    return router
