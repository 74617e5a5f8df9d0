"""OGC API Features routes: items (bbox, datetime, limit, paging, properties, sortby, CQL2,
crs, bbox-crs, filter-crs) and items by id, as GeoJSON or (`f=html`) a small HTML page."""

import dataclasses
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from geoplatform.errors import NotFound
from geoplatform.tiles.audit import audit_read, feature_ids
from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.featurecrs import (
    SERVED,
    bbox_to_wgs84,
    content_crs_header,
    filter_to_wgs84,
    parse_feature_crs,
)
from geoplatform.tiles.features import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ItemsQuery,
    fetch_item,
    fetch_items,
    parse_limit,
    parse_properties,
    parse_sortby,
    whole_days,
)
from geoplatform.tiles.html import features_page, wants_html
from geoplatform.tiles.params import Filters, InvalidParameter

GEOJSON = "application/geo+json"
MAX_OFFSET = 100_000_000  # deeper pages are a scan of the whole layer: page with bbox or filter
KNOWN = {
    "bbox", "datetime", "limit", "offset", "properties", "sortby", "filter", "filter-lang",
    "filter-crs", "crs", "bbox-crs", "category", "f", "after",
}  # fmt: skip


CRS_DOC = "CRS URI (" + ", ".join(SERVED) + "; default CRS84)"
BBOX_DOC = "minx,miny,maxx,maxy in the axis order of bbox-crs (default CRS84: lon,lat)"
DATETIME_DOC = (
    "RFC 3339 instant or date (a date is the whole day, UTC), or an interval start/end with"
    " `..` or nothing for an open end"
)


def _page_url(request: Request, offset: int) -> str:
    params = dict(request.query_params)
    params["offset"] = str(offset)
    params.pop("after", None)
    return str(request.url.replace_query_params(**params))


def _cursor(layer: Layer, after: str | None, sortby: str | None) -> Any:
    if after is None:
        return None
    if sortby:
        raise InvalidParameter("after: a cursor pages in id order; it does not go with sortby")
    column = layer.columns.get(layer.config.id)
    if column is not None and column.json_type == "integer":
        try:
            return int(after)
        except ValueError:
            raise InvalidParameter(f"after: {after!r} is not a cursor of {layer.name}") from None
    return after


def _next_url(request: Request, limit: int, after: Any) -> str:
    """The next page by keyset (`after` the last id), at least DEFAULT_LIMIT features long.

    A copy (GDAL 3.6 asks `limit=10` and follows `next`) then costs one index range scan per
    page of a thousand rather than an OFFSET scan per ten rows; each response still holds no
    more features than its own URL's `limit` says.
    """
    params = dict(request.query_params)
    params.pop("offset", None)
    params["after"] = str(after)
    params["limit"] = str(max(limit, DEFAULT_LIMIT))
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
        bbox: Annotated[str | None, Query(description=BBOX_DOC)] = None,
        datetime: Annotated[str | None, Query(description=DATETIME_DOC)] = None,
        limit: Annotated[
            int,
            Query(
                ge=1,
                json_schema_extra={"maximum": MAX_LIMIT},
                description=f"features per page (at most {MAX_LIMIT}: a larger value is served"
                " as the maximum); follow the `next` link for the rest",
            ),
        ] = DEFAULT_LIMIT,
        offset: Annotated[
            int, Query(ge=0, le=MAX_OFFSET, description="set by the `next`/`prev` links")
        ] = 0,
        properties: Annotated[str | None, Query(description="comma list of properties")] = None,
        sortby: Annotated[str | None, Query(description="`+name,-other` (Part 5)")] = None,
        filter: Annotated[str | None, Query(description="CQL2 filter (Part 3)")] = None,
        filter_lang: Annotated[
            str | None,
            Query(alias="filter-lang", description="cql2-text (default) or cql2-json"),
        ] = None,
        filter_crs: Annotated[
            str | None, Query(alias="filter-crs", description=f"{CRS_DOC} of filter geometries")
        ] = None,
        crs: Annotated[str | None, Query(description=f"{CRS_DOC} of the response")] = None,
        bbox_crs: Annotated[
            str | None, Query(alias="bbox-crs", description=f"{CRS_DOC} of `bbox`")
        ] = None,
        category: Annotated[str | None, Query(description="comma list of categories")] = None,
        f: Annotated[str | None, Query(description="json (GeoJSON, default) or html")] = None,
        after: Annotated[
            str | None, Query(description="opaque cursor, set by `next` links")
        ] = None,
    ) -> Response:
        layer = ctx.catalog.get(collection_id)
        if not layer.config.features:
            raise NotFound(f"layer {layer.name!r} has no features here: see its tiles")
        unknown = sorted(set(request.query_params) - KNOWN)
        if unknown:
            raise InvalidParameter(
                f"unknown parameter {unknown[0]!r} (properties are filtered with filter=...)"
            )
        out_crs = parse_feature_crs(crs, "crs")
        in_filter_crs = parse_feature_crs(filter_crs, "filter-crs")
        filters = whole_days(Filters.parse(datetime, category, filter, filter_lang), datetime)
        if filters.cql is not None and not in_filter_crs.is_default:
            filters = dataclasses.replace(
                filters,
                cql=filter_to_wgs84(filters.cql, in_filter_crs),
                cql_key=f"{filters.cql_key}|{in_filter_crs.uri}",
            )
        q = ItemsQuery(
            bbox=bbox_to_wgs84(bbox, parse_feature_crs(bbox_crs, "bbox-crs")),
            filters=filters,
            limit=parse_limit(limit),
            offset=offset,
            properties=parse_properties(layer, properties),
            sortby=parse_sortby(layer, sortby),
            crs=out_crs,
            after=_cursor(layer, after, sortby),
        )
        html = wants_html(request)
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
                "href": str(request.url.include_query_params(f="html")),
                "rel": "alternate",
                "type": "text/html",
            },
            {
                "href": str(request.url_for("collection", collection_id=layer.name)),
                "rel": "collection",
                "type": "application/json",
            },
        ]
        if page.has_next:
            keyset = not q.sortby and not html and page.last_id is not None
            href = (
                _next_url(request, q.limit, page.last_id)
                if keyset
                else _page_url(request, offset + q.limit)
            )
            links.append({"href": href, "rel": "next", "type": GEOJSON})
        if offset > 0 and after is None:
            prev = max(0, offset - q.limit)
            links.append({"href": _page_url(request, prev), "rel": "prev", "type": GEOJSON})
        summary: dict[str, Any] = {"type": "FeatureCollection"}
        if page.number_matched is not None:
            summary["numberMatched"] = page.number_matched
        summary["numberReturned"] = len(page.features)
        summary["links"] = links
        head = json.dumps(summary, ensure_ascii=False)
        body = head[:-1] + ',"features":[' + ",".join(page.features) + "]}"
        if html:
            return features_page(layer.name, json.loads(body))
        headers = {"Content-Crs": content_crs_header(out_crs)}
        return Response(body.encode(), media_type=GEOJSON, headers=headers)

    @router.get(
        "/collections/{collection_id}/items/{item_id}",
        response_class=Response,
        responses={200: {"content": {GEOJSON: {}}}},
    )
    async def item(
        ctx: Ctx,
        request: Request,
        collection_id: str,
        item_id: str,
        crs: Annotated[str | None, Query(description=f"{CRS_DOC} of the response")] = None,
        f: Annotated[str | None, Query(description="json (GeoJSON, default) or html")] = None,
    ) -> Response:
        layer = ctx.catalog.get(collection_id)
        if not layer.config.features:
            raise NotFound(f"layer {layer.name!r} has no features here: see its tiles")
        out_crs = parse_feature_crs(crs, "crs")
        html = wants_html(request)
        async with ctx.pool.connection() as conn:
            feature = await fetch_item(conn, layer, item_id, out_crs)
            if layer.holds_persons:
                await audit_read(ctx, conn, f"item/{layer.name}", {"id": item_id}, [item_id])
        base = str(request.url_for("collection", collection_id=layer.name))
        links = json.dumps(
            [
                {"href": str(request.url), "rel": "self", "type": GEOJSON},
                {"href": base, "rel": "collection", "type": "application/json"},
            ]
        )
        body = feature[:-1] + f',"links":{links}}}'
        if html:
            return features_page(layer.name, json.loads(body))
        headers = {"Content-Crs": content_crs_header(out_crs)}
        return Response(body.encode(), media_type=GEOJSON, headers=headers)

    return router
