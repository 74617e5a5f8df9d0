"""`/figures/incidents`: the big screen's breakdowns from the in-memory H3 cube.

The data's day range (city days), the total and the counts per category and per channel for a
window (`datetime=`, `category=`, `channel=`), with the layer versions they were read at. The
answer carries an ETag of those versions and the query, so a screen that re-reads it every few
seconds gets a 304 until an ETL run commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from geoplatform.analytics.cube import CubeIndex, to_day_number
from geoplatform.tiles.cache import etag_matches, make_etag
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.heatmaps import HeatmapQuery, current_index

_EPOCH = dt.date(1970, 1, 1)
#: the versions a screen watches: a change of any means new figures and tiles
WATCHED = ("incidents", "warnings", "grids", "admin_areas", "people")


def breakdown(index: CubeIndex, hq: HeatmapQuery) -> dict[str, Any]:
    """Counts per category and channel inside the window and filters of `hq`."""
    keep = np.ones(index.n.size, dtype=bool)
    if hq.start is not None:
        keep &= index.day >= to_day_number(hq.start)
    if hq.end is not None:
        keep &= index.day <= to_day_number(hq.end)
    if hq.categories:
        wanted = [i for i, c in enumerate(index.categories) if c in hq.categories]
        keep &= np.isin(index.category, wanted)
    if hq.channels:
        wanted = [i for i, c in enumerate(index.channels) if c in hq.channels]
        keep &= np.isin(index.channel, wanted)
    n = index.n[keep]
    by_cat = np.bincount(index.category[keep], weights=n, minlength=len(index.categories))
    by_chan = np.bincount(index.channel[keep], weights=n, minlength=len(index.channels))

    def ranked(names: tuple[str, ...], counts: np.ndarray) -> list[dict[str, Any]]:
        pairs = sorted(zip(names, counts.astype(int).tolist(), strict=True), key=lambda p: -p[1])
        return [{"name": name, "count": count} for name, count in pairs]

    days = index.day
    return {
        "first_day": str(_EPOCH + dt.timedelta(days=int(days.min()))) if days.size else None,
        "last_day": str(_EPOCH + dt.timedelta(days=int(days.max()))) if days.size else None,
        "total": int(n.sum()),
        "categories": ranked(index.categories, by_cat),
        "channels": ranked(index.channels, by_chan),
    }


def figures_router(
    context: Callable[[Request], Awaitable[ServerContext]] = get_context,
) -> APIRouter:
    router = APIRouter(tags=["analytics"])

    @router.get("/figures/incidents", summary="Day range, total, per category and per channel")
    async def figures(request: Request) -> Response:
        ctx = await context(request)
        q = request.query_params
        hq = HeatmapQuery.parse(q.get("datetime"), q.get("category"), q.get("channel"))
        versions = await ctx.versions.current()
        watched = {name: versions.get(name, 0) for name in WATCHED}
        etag = make_etag(ctx.catalog_digest, "figures", hq.key(), repr(sorted(watched.items())))
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        _, index = await current_index(request, ctx.pool, watched["incidents"])
        body = {"versions": watched, **breakdown(index, hq)}
        return JSONResponse(body, headers=headers)

    return router
