"""`/fonts/{fontstack}/{range}.pbf`: the glyph PBFs MapLibre labels are drawn with.

Built at install by `geoplatform fonts build` (see geoplatform/tiles/glyphs.py). A fontstack is a
comma list: the first font that has a file for the range answers. A well-formed range that no
font has (a block the font does not cover, or one the browser draws with
`localIdeographFontFamily`) gets an empty, valid PBF rather than a 404 the map would log.
"""

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from geoplatform.errors import NotFound
from geoplatform.tiles.context import ServerContext, get_context
from geoplatform.tiles.glyphs import empty_range
from geoplatform.tiles.params import InvalidParameter

_RANGE = re.compile(r"(\d{1,5})-(\d{1,5})")
_FONT_NAME = re.compile(r"[\w .+-]{1,100}")


def fonts_router(context: Callable[..., Any] = get_context) -> APIRouter:
    router = APIRouter(tags=["service"])
    Ctx = Annotated[ServerContext, Depends(context)]  # noqa: N806

    @router.get(
        "/fonts/{fontstack}/{glyph_range}.pbf",
        response_class=Response,
        summary="Glyph PBFs (signed distance fields) for map labels",
    )
    async def glyphs(ctx: Ctx, fontstack: str, glyph_range: str) -> Response:
        match = _RANGE.fullmatch(glyph_range)
        if not match:
            raise InvalidParameter(f"range: expected START-END, not {glyph_range!r}")
        start, end = int(match[1]), int(match[2])
        if start % 256 or end != start + 255 or end > 65535:
            raise InvalidParameter(f"range: {glyph_range!r} is not a 256-glyph block")
        fonts = [name.strip() for name in fontstack.split(",") if name.strip()]
        if not fonts or not all(_FONT_NAME.fullmatch(name) for name in fonts):
            raise InvalidParameter(f"fontstack: {fontstack!r} is not a list of font names")
        if ctx.glyphs_dir is None:
            raise NotFound("no glyphs installed (run: geoplatform fonts build)")
        headers = {"Cache-Control": "public, max-age=86400"}
        for name in fonts:
            if (ctx.glyphs_dir / name).is_dir():
                path = ctx.glyphs_dir / name / f"{start}-{end}.pbf"
                body = path.read_bytes() if path.is_file() else empty_range(name, start)
                return Response(body, media_type="application/x-protobuf", headers=headers)
        raise NotFound(f"no font {fonts[0]!r} (have: {_have(ctx)})")

    return router


def _have(ctx: ServerContext) -> str:
    assert ctx.glyphs_dir is not None
    return ", ".join(sorted(p.name for p in ctx.glyphs_dir.iterdir() if p.is_dir())) or "none"
