"""One OpenAPI version everywhere (3.0.3), and the API docs pages served from local assets.

FastAPI writes OpenAPI 3.1; OGC API Features and Tiles ask for 3.0 (the `oas30` conformance
classes), and GDAL, QGIS and the OGC validators read 3.0. `openapi_30` rewrites the few 3.1-only
constructs FastAPI emits (`anyOf` with a `null` type, `examples` lists, numeric exclusive bounds,
`const`) so `/api` and `/openapi.json` are the same valid 3.0 document.

`/docs` (Swagger UI) and `/redoc` load their scripts from the npm packages `swagger-ui-dist` and
`redoc` installed next to the viewer (tiles/viewer/node_modules): nothing from a CDN, so they work
on an intranet without internet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse

from geoplatform.errors import NotFound

OPENAPI_VERSION = "3.0.3"
OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
# what /docs and /redoc may load, by URL name: (npm package, file in it)
ASSETS = {
    "swagger-ui.css": ("swagger-ui-dist", "swagger-ui.css"),
    "swagger-ui-bundle.js": ("swagger-ui-dist", "swagger-ui-bundle.js"),
    "redoc.standalone.js": ("redoc", "bundles/redoc.standalone.js"),
}


def _downgrade(node: Any) -> Any:
    """A JSON Schema (2020-12, as OpenAPI 3.1 uses it) as an OpenAPI 3.0 schema object."""
    if isinstance(node, list):
        return [_downgrade(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _downgrade(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and any(o == {"type": "null"} for o in options):
            rest = [o for o in options if o != {"type": "null"}]
            del out[key]
            if len(rest) == 1:
                out.update(rest[0])
            else:
                out[key] = rest
            out["nullable"] = True
    if out.get("type") == "null":
        out.pop("type")
        out["nullable"] = True
    if "examples" in out and isinstance(out["examples"], list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), int | float) and not isinstance(out[bound], bool):
            out[plain] = out.pop(bound)
            out[bound] = True
    return out


def openapi_30(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document as 3.0.3 (built once, then cached on the app)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    doc["openapi"] = OPENAPI_VERSION
    components = doc.get("components", {})
    if "schemas" in components:
        components["schemas"] = {k: _downgrade(v) for k, v in components["schemas"].items()}
    for path in doc.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    parameter["schema"] = _downgrade(parameter["schema"])
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    if "schema" in media:
                        media["schema"] = _downgrade(media["schema"])
            body = operation.get("requestBody", {})
            for media in body.get("content", {}).values():
                if "schema" in media:
                    media["schema"] = _downgrade(media["schema"])
    app.openapi_schema = doc
    return doc


_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} – Swagger UI</title>
<link rel="stylesheet" href="{base}/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{base}/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({{url: "{base}/api", dom_id: "#swagger-ui",
  deepLinking: true, validatorUrl: null}});</script>
</body></html>"""

_REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} – ReDoc</title></head>
<body><redoc spec-url="{base}/api" disable-search="false"></redoc>
<script src="{base}/docs/assets/redoc.standalone.js"></script>
</body></html>"""


# Nothing but this server: ReDoc's bundle would fetch its attribution logo from cdn.redoc.ly
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline';"
    " script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'"
)


def docs_router(node_modules: Path | None) -> APIRouter:
    """`/docs`, `/redoc` and their assets from `node_modules` (a 404 that says how to install)."""
    router = APIRouter(include_in_schema=False)

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    @router.get("/docs")
    async def swagger(request: Request) -> HTMLResponse:
        page = _SWAGGER.format(title=request.app.title, base=base(request))
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})

    @router.get("/redoc")
    async def redoc(request: Request) -> HTMLResponse:
        page = _REDOC.format(title=request.app.title, base=base(request))
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})

    @router.get("/docs/assets/{name}")
    async def asset(name: str) -> FileResponse:
        entry = ASSETS.get(name)
        path = node_modules / entry[0] / entry[1] if node_modules and entry else None
        if path is None or not path.is_file():
            raise NotFound(
                f"no docs asset {name!r}: run `npm ci --prefix tiles/viewer` (make demo does)"
            )
        media = "text/css" if name.endswith(".css") else "text/javascript"
        return FileResponse(path, media_type=media, headers={"Cache-Control": "max-age=86400"})

    return router


def install_openapi(app: FastAPI, node_modules: Path | None) -> None:
    """Serve the 3.0 document at /openapi.json and /api, and the local docs pages."""
    app.openapi = lambda: openapi_30(app)  # type: ignore[method-assign]
    app.include_router(docs_router(node_modules))
