"""Every error answer of the API, in one place: one status map, one body shape, no SQL or stack.

Statuses are used one way (and the OpenAPI document says so, see `document_errors`):
- 400: a parameter, path segment or header that cannot be understood or is out of its range
  (syntax, type, range, CQL2 limits, unknown property). FastAPI's 422 for a bad parameter is
  never sent: its validation errors answer 400 like every other parameter error.
- 422: only from analytics (/stats, /analytics/...): a valid request the data cannot answer
  (too few cells or no variation for Gi*, too short a history for a scan).
- 404: a named thing (layer, feature, file, area) that does not exist.
- 503 with `Retry-After`: the database is away, a statement hit `statement_timeout`, or an
  analytics request ran past its time budget. Retrying later can succeed.
- 500: a bug. Logged with its traceback; the body only says "internal error (logged)".
"""

from __future__ import annotations

import logging
from typing import Any, Final

import psycopg
import psycopg.errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from geoplatform.errors import GeoPlatformError

log = logging.getLogger("geoplatform.tiles")

#: SQLSTATE classes/codes meaning "the values given do not fit the columns' types"
_TYPE_MISMATCH: Final = ("42883", "42804", "42846")
BAD_TYPES: Final = (
    "the filter or parameters do not fit the property types "
    "(compare text with 'quoted' values and numbers with numbers)"
)


class BudgetExceeded(GeoPlatformError, TimeoutError):
    """An analytics request ran past its time budget (the work finishes and is cached)."""

    http_status = 503


def error_body(
    status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """OGC API exception shape: {"code", "description"}."""
    return JSONResponse({"code": code, "description": message}, status_code=status, headers=headers)


def classify(exc: BaseException, statement_timeout_ms: int) -> tuple[int, str, str]:
    """(status, code, message) of any exception: the one status map of the API."""
    if isinstance(exc, GeoPlatformError):
        return exc.http_status, type(exc).__name__, exc.message
    if isinstance(exc, PoolTimeout):
        return 503, "DatabaseUnavailable", "the database is unavailable (no connection in time)"
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return (
            503,
            "StatementTimeout",
            f"the query took longer than the statement timeout ({statement_timeout_ms} ms)",
        )
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate or ""
        if state.startswith("22") or state in _TYPE_MISMATCH or type(exc) is psycopg.DataError:
            return 400, "InvalidFilter", BAD_TYPES
        if isinstance(exc, psycopg.OperationalError) or state.startswith(("08", "57")):
            return 503, "DatabaseUnavailable", "the database is unavailable"
    if isinstance(exc, RecursionError):
        return 400, "InvalidParameter", "the request is nested too deeply"
    return 500, "InternalError", "internal error (logged)"


def install_error_handlers(app: FastAPI, *, statement_timeout_ms: int, retry_after_s: int) -> None:
    """Map every exception a route can raise through `classify`."""

    def answer(request: Request, exc: BaseException) -> JSONResponse:
        status, code, message = classify(exc, statement_timeout_ms)
        headers = {"Retry-After": str(retry_after_s)} if status == 503 else None
        if status >= 500:
            if status == 500:
                log.error("%s %s: %s", request.method, request.url.path, code, exc_info=exc)
            else:
                log.warning("%s %s: %s", request.method, request.url.path, message)
        return error_body(status, message, code, headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors()[:3]:
            where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("path", "query"))
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
        return error_body(400, "; ".join(parts) or "invalid request", "InvalidParameter")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_body(exc.status_code, str(exc.detail), "HTTPError")

    async def mapped(request: Request, exc: Exception) -> JSONResponse:
        return answer(request, exc)

    # the expected kinds go to Starlette's ExceptionMiddleware (inside the stack: answered and
    # done); `Exception` itself is the last resort of ServerErrorMiddleware (logged as a bug)
    for kind in (GeoPlatformError, psycopg.Error, PoolTimeout, RecursionError, Exception):
        app.add_exception_handler(kind, mapped)


#: What every operation may answer besides its own 2xx (OpenAPI "responses")
_EXCEPTION_SCHEMA: Final = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
    "required": ["code", "description"],
}
_ERRORS: Final = {
    "400": "A parameter or path segment cannot be understood or is out of range "
    "(the description names it). The API never answers 422.",
    "404": "The layer, feature, area or file does not exist.",
    "503": "The database is away, a statement hit its timeout, or the request ran past its "
    "time budget; see Retry-After.",
}


_DATA_ERROR: Final = (
    "The request is valid but the data cannot answer it (too few cells or no variation for "
    "Gi*, too short a history for a scan)."
)


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace FastAPI's 422 with the 400/404/503 the API sends, on every operation (and the
    analytics routes' 422, which means the data, not the request)."""
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            responses.pop("422", None)
            errors = dict(_ERRORS)
            if path.startswith(("/analytics/", "/stats/")):
                errors["422"] = _DATA_ERROR
            for status, description in errors.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": _EXCEPTION_SCHEMA}},
                    },
                )
            responses.setdefault("304", {"description": "Not modified (ETag matched)"})
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema
