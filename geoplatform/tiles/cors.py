"""CORS, so that a map on another origin (a MapLibre or OpenLayers app) can load tiles and styles.

`GEOPLATFORM_CORS_ORIGINS` is a comma list of allowed origins, `*` (the default, as Martin and
tipg do) or empty to send no CORS headers. Starlette's middleware answers preflights and adds the
headers to every routed response; `simple_cors_headers` adds the same headers to the cached tiles
the hot path answers before routing (tests compare both).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

EXPOSED = ("ETag", "X-H3-Resolution")


def parse_origins(text: str) -> tuple[str, ...]:
    return tuple(o.strip() for o in text.split(",") if o.strip())


def install_cors(app: FastAPI, origins: tuple[str, ...]) -> None:
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "HEAD", "OPTIONS"],
            allow_headers=["If-None-Match", "Accept-Encoding"],
            expose_headers=list(EXPOSED),
            max_age=3600,
        )


def simple_cors_headers(
    origins: tuple[str, ...], origin: str | None, headers: dict[str, str]
) -> None:
    """Add what Starlette's CORSMiddleware adds to a simple (non-preflight) response: `Vary:
    Origin` on every answer, the exposed headers and the allowed origin when there is an Origin."""
    if not origins:
        return
    if origin is not None:
        headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED)
        if "*" in origins:
            headers["Access-Control-Allow-Origin"] = "*"
        elif origin in origins:
            headers["Access-Control-Allow-Origin"] = origin
    vary = headers.get("Vary")
    headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
