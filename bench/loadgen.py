"""Load generators the benchmarks share: wrk over a tile list, raw ST_AsMVT through pgbench.

Every run first waits until PostgreSQL has no active client query left, so runs don't overlap.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def wait_idle(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(600):
            n = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> "
                "pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchone()[0]
            if n == 0:
                return
            time.sleep(0.5)


def wrk(
    base: str,
    paths: list[str],
    conns: int,
    duration: int,
    url: str,
    headers: tuple[str, ...] = (),
) -> dict[str, float]:
    wait_idle(url)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(paths) + "\n")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "30s",
         *[a for h in headers for a in ("-H", h)], "-s", str(HERE / "cycle.lua"), base],
        env={**os.environ, "TILES": f.name}, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "non2xx": float(errors.group(1)) if errors else 0.0,
    }


def pgbench_raw(
    url: str,
    tiles: list[tuple[int, int, int]],
    conns: int,
    duration: int,
    table: str = "incidents",
) -> float:
    """Raw ST_AsMVT of `table` (id, category, status, reported_at) for the same tiles
    (transactions/s), no HTTP at all."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bench")
        conn.execute("DROP TABLE IF EXISTS bench.tiles")
        conn.execute("CREATE TABLE bench.tiles (i int PRIMARY KEY, z int, x int, y int)")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench.tiles VALUES (%s, %s, %s, %s)",
                [(i, *t) for i, t in enumerate(tiles)],
            )
    script = OUT / f"raw_mvt_{table.replace('.', '_')}.sql"
    script.write_text(
        f"\\set i random(0, {len(tiles) - 1})\n"
        "SELECT length(ST_AsMVT(t, 'incidents', 4096, 'geom')) FROM (\n"
        "  SELECT ST_AsMVTGeom(ST_Transform(i.geom, 3857), ST_TileEnvelope(b.z, b.x, b.y),"
        " 4096, 64, true) AS geom, i.id, i.category, i.status, i.reported_at::text\n"
        f"  FROM {table} i, bench.tiles b WHERE b.i = :i AND i.geom && ST_Transform("
        "ST_TileEnvelope(b.z, b.x, b.y, margin => 64.0 / 4096), 4326)) t;\n"
    )
    wait_idle(url)
    out = subprocess.run(
        ["pgbench", "-n", "-c", str(conns), "-j", str(min(conns, 2)), "-T", str(duration),
         "-f", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
