"""Shared by the tests/test_tiles_*.py files: a small seeded city and a real uvicorn server.

The server is the real app on 127.0.0.1 (a free port) in a thread; it stops when the test ends.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import uvicorn

from geoplatform.db.fence import ACK_TIMEOUT_S, version_fence
from geoplatform.settings import Settings
from geoplatform.spatial.h3cells import lonlat_to_cells
from geoplatform.tiles.app import create_app

ROOT = Path(__file__).resolve().parents[1]
LAYERS_FILE = ROOT / "tiles" / "layers.yaml"
# a 2 x 2 grid city around (106.80, 39.66)
WEST, EAST, SOUTH, NORTH = 106.78, 106.82, 39.64, 39.68
CATEGORIES = ["市容环境", "街面秩序", "暴露垃圾"]


@dataclass(frozen=True)
class City:
    incidents: int
    buildings: int


def seed_city(url: str, *, incidents: int = 3000, buildings: int = 400, seed: int = 7) -> City:
    """Admin chain, 4 grids, buildings, incidents, organisations and devices; versions at 1."""
    rng = np.random.default_rng(seed)
    midx, midy = (WEST + EAST) / 2, (SOUTH + NORTH) / 2
    with psycopg.connect(url) as conn:
        box = f"SRID=4326;MULTIPOLYGON((({WEST} {SOUTH},{EAST} {SOUTH},{EAST} {NORTH},{WEST} {NORTH},{WEST} {SOUTH})))"  # noqa: E501
        areas = [
            ("150300000000", "city", "乌海市", None),
            ("150302000000", "district", "海勃湾区", "150300000000"),
            ("150302001000", "street", "凤凰岭街道", "150302000000"),
            ("150302001001", "community", "新华社区", "150302001000"),
        ]
        for code, level, name, parent in areas:
            conn.execute(
                "INSERT INTO admin_areas (code, edition, level, name, parent_code, geom, source,"
                " source_key) VALUES (%s, 2024, %s, %s, %s, %s::geometry, 't', %s)",
                (code, level, name, parent, box, code),
            )
        cells = [(WEST, midx, midy, NORTH), (midx, EAST, midy, NORTH),
                 (WEST, midx, SOUTH, midy), (midx, EAST, SOUTH, midy)]  # fmt: skip
        for i, (x0, x1, y0, y1) in enumerate(cells, start=1):
            code = f"150302001001{i:03d}"
            conn.execute(
                "INSERT INTO grids (code, edition, name, community_code, geom, source, source_key)"
                " VALUES (%s, 2024, %s, '150302001001', %s::geometry, 't', %s)",
                (
                    code,
                    f"网格{i}",
                    f"SRID=4326;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))",  # noqa: E501
                    code,
                ),
            )

        def grid_of(lon: np.ndarray, lat: np.ndarray) -> list[str]:
            col = (lon >= midx).astype(int)
            row = (lat < midy).astype(int)
            return [f"150302001001{r * 2 + c + 1:03d}" for r, c in zip(row, col, strict=True)]

        lon = np.clip(rng.normal(106.80, 0.004, buildings), WEST + 1e-4, EAST - 1e-4)
        lat = np.clip(rng.normal(39.66, 0.003, buildings), SOUTH + 1e-4, NORTH - 1e-4)
        h3 = lonlat_to_cells(lon, lat, 11)
        grids = grid_of(lon, lat)
        buf = io.StringIO()
        for i in range(buildings):
            x, y, w = lon[i], lat[i], 0.00008
            poly = f"SRID=4326;MULTIPOLYGON((({x - w} {y - w},{x + w} {y - w},{x + w} {y + w},{x - w} {y + w},{x - w} {y - w})))"  # noqa: E501
            buf.write(
                f"{i + 1}号楼\t{i % 30 + 1}\t{poly}\tSRID=4326;POINT({x} {y})\t{grids[i]}\t{h3[i]}\tt\tb{i}\n"  # noqa: E501
            )
        _copy(
            conn, "buildings", "name floors footprint geom grid_code h3_r11 source source_key", buf
        )

        lon = np.clip(rng.normal(106.80, 0.005, incidents), WEST + 1e-4, EAST - 1e-4)
        lat = np.clip(rng.normal(39.66, 0.004, incidents), SOUTH + 1e-4, NORTH - 1e-4)
        h3 = lonlat_to_cells(lon, lat, 11)
        grids = grid_of(lon, lat)
        start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
        when = start + rng.uniform(0, 365 * 86400, incidents)
        buf = io.StringIO()
        for i in range(incidents):
            t = datetime.fromtimestamp(when[i], UTC).isoformat()
            buf.write(
                f"hotline\t{CATEGORIES[i % 3]}\thandling\t{t}\tSRID=4326;POINT({lon[i]} {lat[i]})"
                f"\t{grids[i]}\t{h3[i]}\tt\ti{i}\n"
            )
        _copy(
            conn,
            "incidents",
            "channel category status reported_at geom grid_code h3_r11 source source_key",
            buf,
        )
        for table, value_col in (("organisations", "name"), ("devices", "kind")):
            buf = io.StringIO()
            for i in range(50):
                x, y = 106.79 + 0.0004 * i, 39.65 + 0.0003 * i
                value = f"单位{i}" if table == "organisations" else "camera"
                cell = int(lonlat_to_cells([x], [y], 11)[0])
                buf.write(f"{value}\tSRID=4326;POINT({x} {y})\t{cell}\tt\t{table}{i}\n")
            _copy(conn, table, f"{value_col} geom h3_r11 source source_key", buf)
        conn.execute(
            "INSERT INTO meta.layer_versions (layer, version) SELECT unnest(ARRAY['admin_areas',"
            "'grids','buildings','incidents','organisations','devices']), 1"
        )
        conn.execute("ANALYZE")
    return City(incidents=incidents, buildings=buildings)


def _copy(conn: psycopg.Connection, table: str, columns: str, buf: io.StringIO) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns.split())}) FROM STDIN") as cp:
        cp.write(buf.getvalue())


def bump_version(
    conn: psycopg.Connection, layer: str, url: str, *, fence_timeout_s: float = ACK_TIMEOUT_S
) -> None:
    """What the ETL's publish step does: bump the version and commit inside the version fence."""
    conn.execute(
        "INSERT INTO meta.layer_versions (layer, version) VALUES (%s, 1) ON CONFLICT (layer)"
        " DO UPDATE SET version = meta.layer_versions.version + 1, updated_at = now()",
        (layer,),
    )
    with version_fence(url, timeout_s=fence_timeout_s):
        conn.commit()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """The real app under uvicorn on 127.0.0.1; yields its base URL; stops on exit."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.started:
            break
        if not thread.is_alive():
            raise RuntimeError("the server did not start (see the log above)")
        time.sleep(0.05)
    else:
        raise RuntimeError("the server did not start within 30 s")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def tile_settings(database_url: str, tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "home": tmp / "home",
        "layers_file": LAYERS_FILE,
        "jwt_issuer": _ISSUER,
        "jwt_jwks": str(jwks_file(tmp / "issuer")),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def client(base: str, role: str | None = "admin", **claims: Any) -> httpx.Client:
    """A client of the server at `base`: as admin by default, `role=None` for the public."""
    headers = {} if role is None else {"Authorization": f"Bearer {token(role, **claims)}"}
    return httpx.Client(base_url=base, timeout=60, headers=headers)


# -- callers: tests of tiles and features run as admin unless they say otherwise -------------
_ISSUER = "https://idp.test"


def _issuer_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    global _PRIVATE
    if _PRIVATE is None:
        _PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _PRIVATE


_PRIVATE: Any = None


def jwks_file(tmp: Path) -> Path:
    """The test issuer's public key as a JWKS file."""
    import json

    import jwt

    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_issuer_key().public_key()))
    jwk.update(kid="test", use="sig", alg="RS256")
    path = tmp / "jwks.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"keys": [jwk]}))
    return path


def token(role: str = "admin", scope: list[str] | None = None, pii: bool = False) -> str:
    """A bearer token of the test issuer for `role`."""
    import jwt

    claims: dict[str, object] = {
        "iss": _ISSUER, "aud": "geoplatform", "sub": f"test-{role}",
        "exp": int(time.time()) + 3600, "role": role, "pii": pii,
    }  # fmt: skip
    if scope:
        claims["scope"] = scope
    return jwt.encode(claims, _issuer_key(), algorithm="RS256", headers={"kid": "test"})


def seed_addresses(url: str) -> None:
    """One standard address (a door plate in the seeded community), so /geocode can answer."""
    from geoplatform.geocode import normalise

    address = "乌海市海勃湾区凤凰岭街道新华社区人民路12号"
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO standard_addresses (address, normalized, level, district_code,"
            " street_code, community_code, road, door_number, geom, source, source_key)"
            " VALUES (%s, %s, 'door', '150302000000', '150302001000', '150302001001',"
            " '人民路', '12号', ST_SetSRID(ST_MakePoint(106.801, 39.661), 4326), 't', 'a0')",
            (address, normalise(address)),
        )
