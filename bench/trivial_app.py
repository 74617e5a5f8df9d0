"""The ceiling for cached tiles: a FastAPI endpoint returning fixed bytes (one worker).

20 KB as in BASELINE.md; `TRIVIAL_BYTES` sets another size (to match the served tiles' mean).
"""

import os

from fastapi import FastAPI
from fastapi.responses import Response

SIZE = int(os.environ.get("TRIVIAL_BYTES", 20 * 1024))
BODY = (bytes(range(256)) * (SIZE // 256 + 1))[:SIZE]
app = FastAPI()


@app.get("/tile/{z}/{x}/{y}")
async def tile(z: int, x: int, y: int) -> Response:
    return Response(BODY, media_type="application/vnd.mapbox-vector-tile")
