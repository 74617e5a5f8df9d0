"""OGC API Features routes: items (bbox, datetime, limit, paging, properties, sortby, CQL2,
crs) and items by id."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from geoplatform.errors import NotFound
from geoplatform.tiles.audit import audit_read, feature_ids
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.features import (
    ItemsQuery,
    fetch_item,
    fetch_items,
    parse_limit,
    parse_properties,
    parse_sortby,
)
from geoplatform.tiles.params import Filters, InvalidParameter, parse_bbox
from geoplatform.tiles.tms import parse_crs

GEOJSON = "application/geo+json"
KNOWN = {
    "bbox", "datetime", "limit", "offset", "properties", "sortby", "filter", "filter-lang",
    "filter-crs", "crs", "bbox-crs", "category", "f",
}  # fmt: skip


def _page_url(request: Request, offset: int) -> str:
    params = dict(request.query_params)
    params["offset"] = str(offset)
    return str(request.url.replace_query_params(**params))


def features_router(context: Callable[..., Any] = get_context) -> APIRouter:
    router = APIRouter(tags=["OGC API Features"])
    Ctx = Annotated[ServerContext, Depends(context)]  # noqa: N806

    @router.get(
        "/collections/{collection_id}/items",
        response_class=Response,
        responses={200: {"content": {GEOJSON: {}}}},
    )
    async def items(
        ctx: Ctx,
        request: Request,
        collection_id: str,
        bbox: str | None = None,
        datetime: str | None = None,
        limit: Annotated[int | None, Query()] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        properties: str | None = None,
        sortby: str | None = None,
        filter: str | None = None,
        filter_lang: Annotated[str | None, Query(alias="filter-lang")] = None,
        filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
        crs: str | None = None,
        bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
        category: str | None = None,
    ) -> Response:
        layer = ctx.catalog.get(collection_id)
        if not layer.config.features:
            raise NotFound(f"layer {layer.name!r} has no features here: see its tiles")
        unknown = sorted(set(request.query_params) - KNOWN)
        if unknown:
            raise InvalidParameter(
                f"unknown parameter {unknown[0]!r} (properties are filtered with filter=...)"
            )
        out_crs = parse_crs(crs)
        if bbox_crs is not None and parse_crs(bbox_crs) != out_crs:
            raise InvalidParameter("bbox-crs must be the same as crs")
        if filter_crs is not None and parse_crs(filter_crs) != "wgs84":
            raise InvalidParameter("filter-crs: filters are evaluated in WGS84 (CRS84)")
        q = ItemsQuery(
            bbox=parse_bbox(bbox),
            filters=Filters.parse(datetime, category, filter, filter_lang),
            limit=parse_limit(limit),
            offset=offset,
            properties=parse_properties(layer, properties),
            sortby=parse_sortby(layer, sortby),
            crs=out_crs,
        )
        async with ctx.pool.connection() as conn:
            page = await fetch_items(conn, layer, q)
            if layer.holds_persons and page.features:
                params = dict(request.query_params)
                await audit_read(
                    ctx, conn, f"items/{layer.name}", params, feature_ids(page.features)
                )
        links = [
            {"href": str(request.url), "rel": "self", "type": GEOJSON},
            {
                "href": str(request.url_for("collection", collection_id=layer.name)),
                "rel": "collection",
                "type": "application/json",
            },
        ]
        if page.has_next:
            links.append(
                {"href": _page_url(request, offset + q.limit), "rel": "next", "type": GEOJSON}
            )
        if offset > 0:
            prev = max(0, offset - q.limit)
            links.append({"href": _page_url(request, prev), "rel": "prev", "type": GEOJSON})
        import json

        head = json.dumps(
            {
                "type": "FeatureCollection",
                "numberMatched": page.number_matched,
                "numberReturned": len(page.features),
                "links": links,
            },
            ensure_ascii=False,
        )
        body = head[:-1] + ',"features":[' + ",".join(page.features) + "]}"
        headers = {"Content-Crs": "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"}
        return Response(body.encode(), media_type=GEOJSON, headers=headers)

    @router.get(
        "/collections/{collection_id}/items/{item_id}",
        response_class=Response,
        responses={200: {"content": {GEOJSON: {}}}},
    )
    async def item(
        ctx: Ctx, request: Request, collection_id: str, item_id: str, crs: str | None = None
    ) -> Response:
        layer = ctx.catalog.get(collection_id)
        if not layer.config.features:
            raise NotFound(f"layer {layer.name!r} has no features here: see its tiles")
        async with ctx.pool.connection() as conn:
            feature = await fetch_item(conn, layer, item_id, parse_crs(crs))
            if layer.holds_persons:
                await audit_read(ctx, conn, f"item/{layer.name}", {"id": item_id}, [item_id])
        base = str(request.url_for("collection", collection_id=layer.name))
        links = (
            f'[{{"href":"{request.url}","rel":"self","type":"{GEOJSON}"}},'
            f'{{"href":"{base}","rel":"collection","type":"application/json"}}]'
        )
        body = feature[:-1] + f',"links":{links}}}'
        return Response(body.encode(), media_type=GEOJSON)

    return router
