"""The ceiling for cached tiles: a FastAPI endpoint returning fixed 20 KB bytes (one worker)."""

from fastapi import FastAPI
from fastapi.responses import Response

BODY = bytes(range(256)) * 80  # 20 KB
app = FastAPI()


@app.get("/tile/{z}/{x}/{y}")
async def tile(z: int, x: int, y: int) -> Response:
    return Response(BODY, media_type="application/vnd.mapbox-vector-tile")
