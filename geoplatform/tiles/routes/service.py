"""Service routes: /locate, /geocode, /healthz, /readyz, /metrics and the viewer page."""

import asyncio
import json
import math
from collections.abc import Callable
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from geoplatform.errors import GeoPlatformError, NotFound
from geoplatform.spatial.chinese_offsets import gcj02_to_wgs84
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.mvt import query
from geoplatform.tiles.params import InvalidParameter
from geoplatform.tiles.tms import parse_crs


class GeocoderUnavailable(GeoPlatformError, RuntimeError):
    http_status = 503


def _coordinate(value: float, name: str, limit: float) -> float:
    if not math.isfinite(value) or abs(value) > limit:
        raise InvalidParameter(f"{name} must be a number within ±{limit:g}")
    return value


async def locate_point(ctx: ServerContext, lon: float, lat: float) -> dict[str, Any]:
    """The grid containing the point and the admin chain (city → community) above it."""
    async with ctx.pool.connection() as conn:
        cur = await conn.execute(query("locate"), {"lon": lon, "lat": lat})
        row = await cur.fetchone()
    grid, admin = (row[0], row[1]) if row else (None, [])
    chain = {area["level"]: area for area in (admin or [])}
    return {
        "lon": lon,
        "lat": lat,
        "grid": grid,
        "admin": admin or [],
        "responsible": (grid or {}).get("code")
        or next(
            (
                chain[lvl]["code"]
                for lvl in ("community", "street", "district", "city")
                if lvl in chain
            ),
            None,
        ),
    }


def _safe_file(root: FsPath, relative: str) -> FsPath:
    target = (root / relative).resolve()
    if root.resolve() not in target.parents and target != root.resolve():
        raise NotFound("no such file")
    if not target.is_file():
        raise NotFound(f"no file {relative!r}")
    return target


def service_router(context: Callable[..., Any] = get_context) -> APIRouter:
    router = APIRouter(tags=["service"])
    Ctx = Annotated[ServerContext, Depends(context)]  # noqa: N806

    @router.get("/locate")
    async def locate(
        ctx: Ctx,
        lon: Annotated[float, Query(description="longitude (WGS84 unless crs=gcj02)")],
        lat: Annotated[float, Query(description="latitude")],
        crs: str | None = None,
    ) -> dict[str, Any]:
        x = _coordinate(lon, "lon", 180)
        y = _coordinate(lat, "lat", 90)
        if parse_crs(crs) == "gcj02":
            gx, gy = gcj02_to_wgs84([x], [y])
            x, y = float(gx[0]), float(gy[0])
        return await locate_point(ctx, x, y)

    @router.get("/geocode")
    async def geocode(ctx: Ctx, request: Request, q: Annotated[str, Query(min_length=1)]) -> Any:
        if len(q) > 200:
            raise InvalidParameter("q: an address is at most 200 characters")
        matcher = await _matcher(ctx, request)
        result = await asyncio.to_thread(matcher.match, q)
        if hasattr(result, "model_dump"):
            return result.model_dump(mode="json")
        if hasattr(result, "__dataclass_fields__"):
            from dataclasses import asdict

            return json.loads(json.dumps(asdict(result), default=str, ensure_ascii=False))
        return result

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(ctx: Ctx) -> JSONResponse:
        try:
            async with ctx.pool.connection(timeout=2) as conn:
                row = await (await conn.execute(query("ready"))).fetchone()
            ready = bool(row and row[0])
        except Exception as exc:  # any failure to reach the database means "not ready"
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
        if not ready:
            return JSONResponse({"status": "unavailable", "reason": "schema not migrated"}, 503)
        return JSONResponse({"status": "ready"})

    @router.get("/metrics")
    async def metrics(ctx: Ctx) -> Response:
        ctx.metrics.cache_bytes.set(ctx.cache.nbytes)
        return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @router.get("/viewer", include_in_schema=False)
    async def viewer_root() -> RedirectResponse:
        return RedirectResponse("viewer/")

    @router.get("/viewer/{path:path}", include_in_schema=False)
    async def viewer(ctx: Ctx, path: str) -> FileResponse:
        if ctx.viewer_dir is None:
            raise NotFound("the viewer is not installed (tiles/viewer)")
        return FileResponse(_safe_file(ctx.viewer_dir, path or "index.html"))

    return router


async def _matcher(ctx: ServerContext, request: Request) -> Any:
    """The ETL's matcher over the standard-address table, rebuilt when its data version moves."""
    versions = await ctx.versions.current()
    version = versions.get("standard_addresses", 0)
    state = request.app.state
    held = getattr(state, "geocode_matcher", None)
    if held is not None and held[0] == version:
        return held[1]
    from geoplatform.db.engine import create_engine, transaction
    from geoplatform.errors import ConfigurationError
    from geoplatform.geocode import Matcher

    def build() -> Any:
        engine = create_engine(ctx.settings)
        try:
            with transaction(engine) as conn:
                return Matcher.from_connection(conn)
        finally:
            engine.dispose()

    try:
        matcher = await asyncio.to_thread(build)
    except ConfigurationError as exc:
        raise GeocoderUnavailable(exc.message) from exc
    state.geocode_matcher = (version, matcher)
    return matcher
