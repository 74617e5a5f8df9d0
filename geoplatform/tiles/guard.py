"""The input guard: pure-ASGI middleware in front of everything else (the cached-tile path too).

One check for every route, so no handler ever sees a NUL, a control character, an over-long or
repeated parameter, text that is not UTF-8, or a header block past its limit: those answer 400
(431 for headers) with a message naming the problem. It also answers `HEAD` for every `GET`
route: the request goes through as GET and the body is dropped, headers (Content-Length, ETag)
kept. Values inside their syntax but out of their range are the routes' own 400s.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Final
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("geoplatform.tiles")

MAX_PATH: Final = 2048
MAX_QUERY: Final = 16_384
MAX_VALUE: Final = 8192
MAX_PARAMETERS: Final = 32
MAX_HEADER_BYTES: Final = 16_384
#: C0 controls (tab, newline and carriage return are allowed inside query values), DEL, C1
_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_PATH_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f]")


class Rejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def check_path(path: str) -> None:
    if len(path) > MAX_PATH:
        raise Rejected(400, f"the path is longer than {MAX_PATH} characters")
    if _PATH_CONTROL.search(path):
        raise Rejected(400, "the path holds a NUL or control character")


def check_query(raw: bytes) -> None:
    """Each parameter once, each value decodable UTF-8 text within its limits."""
    if not raw:
        return
    if len(raw) > MAX_QUERY:
        raise Rejected(400, f"the query string is longer than {MAX_QUERY} bytes")
    seen: set[str] = set()
    for part in raw.split(b"&"):
        if not part:
            continue
        name_raw, _, value_raw = part.partition(b"=")
        try:
            name = unquote_to_bytes(name_raw.replace(b"+", b" ")).decode("utf-8")
            value = unquote_to_bytes(value_raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected(400, "a query parameter is not UTF-8 text") from None
        shown = name[:40] if not _PATH_CONTROL.search(name) else "(a parameter)"
        if _PATH_CONTROL.search(name) or len(name) > 64:
            raise Rejected(400, f"the parameter name {shown!r} is not acceptable")
        if _CONTROL.search(value):
            raise Rejected(400, f"{shown}: the value holds a NUL or control character")
        if len(value) > MAX_VALUE:
            raise Rejected(400, f"{shown}: the value is longer than {MAX_VALUE} characters")
        if name in seen:
            raise Rejected(400, f"{shown}: given more than once")
        seen.add(name)
        if len(seen) > MAX_PARAMETERS:
            raise Rejected(400, f"more than {MAX_PARAMETERS} query parameters")


def check_headers(headers: list[tuple[bytes, bytes]]) -> None:
    total = sum(len(k) + len(v) for k, v in headers)
    if total > MAX_HEADER_BYTES:
        raise Rejected(431, f"the request headers are larger than {MAX_HEADER_BYTES} bytes")


class InputGuard:
    """Refuses malformed input before any route or cache sees it; answers HEAD as GET."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_path(scope["path"])
            check_query(scope["query_string"])
            check_headers(scope["headers"])
        except Rejected as exc:
            await _refuse(send, exc.status, exc.message)
            return
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"code": "InvalidRequest", "description": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
