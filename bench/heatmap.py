"""Heatmap and statistics benchmark on an ETL-loaded demo city: p95 per zoom, uncached, one worker.

    .venv/bin/python bench/heatmap.py --scale 1 [--seed 2] [--city DIR]
    .venv/bin/python bench/heatmap.py --url postgresql://...   # a city already loaded by the ETL

Without `--url` it generates the city (or reuses `--city`), starts a throwaway PostGIS cluster
(as bench/etl.py does), runs the city's pipeline with `run_pipeline`, and destroys the cluster at
the end. The server is `uvicorn geoplatform.tiles.app:app_from_env`, one worker on 127.0.0.1,
with the tile bytes cache off (heatmap routes never use it anyway); requests are sequential
(one connection), no ETag sent, so every answer is computed. Measured:
- `/heatmap/incidents/{z}/{x}/{y}.mvt` and `.png` over every zoom 5-18, on up to 60 tiles per
  zoom sampled from the tiles covering the city's incidents (at least 40 requests a zoom),
  full two-year window (no `datetime`), then a one-month window with one category;
- `/stats/incidents?by=grid` for several windows (whole, one year, one month, one day,
  a category), 15 requests each.
Prints a Markdown section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import morecantile
import numpy as np
import psycopg
from serving import free_port, server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = ROOT / ".venv" / "bin"
TMS = morecantile.tms.get("WebMercatorQuad")
ZOOMS = list(range(5, 19))
MIN_REQUESTS = 40
TILES_PER_ZOOM = 60
STATS_REPEAT = 15
HEADER = "| zoom | H3 res | requests | MVT p50 ms | MVT p95 ms | PNG p50 ms | PNG p95 ms |"


@contextmanager
def heatmap_server(url: str, log_path: Path) -> Iterator[str]:
    """This server over `url`, bytes cache off (every tile computed)."""
    port = free_port()
    env = {
        "GEOPLATFORM_DATABASE_URL": url,
        "GEOPLATFORM_LAYERS_FILE": str(ROOT / "tiles/layers.yaml"),
        "GEOPLATFORM_TILE_CACHE_BYTES": "0",
    }
    argv = [str(PY / "uvicorn"), "--factory", "geoplatform.tiles.app:app_from_env",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level",
            "warning"]  # fmt: skip
    with server(argv, env, port, "/readyz", log_path) as base:
        yield base


def city_tiles(url: str, seed: int = 1) -> dict[int, list[morecantile.Tile]]:
    """Up to TILES_PER_ZOOM tiles per zoom, drawn from where the incidents are (weighted by
    rows, so dense tiles, the slow ones, dominate as they do on a governance screen)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM incidents TABLESAMPLE SYSTEM (2) REPEATABLE (1)"
        ).fetchall()
    rng = random.Random(seed)
    points = np.array(rows, dtype=np.float64)
    out: dict[int, list[morecantile.Tile]] = {}
    for z in ZOOMS:
        tiles = sorted({TMS.tile(float(x), float(y), z) for x, y in points})
        weights = {}
        for x, y in points[rng.sample(range(len(points)), min(len(points), 5000))]:
            t = TMS.tile(float(x), float(y), z)
            weights[t] = weights.get(t, 0) + 1
        ranked = sorted(tiles, key=lambda t: -weights.get(t, 0))
        chosen = ranked[:TILES_PER_ZOOM]
        # zooms with few tiles over the city: repeat them so that p95 is not just the maximum
        out[z] = (chosen * (MIN_REQUESTS // len(chosen) + 1))[: max(MIN_REQUESTS, len(chosen))]
    return out


def timed(http: httpx.Client, path: str, params: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    r = http.get(path, params=params)
    elapsed = time.perf_counter() - start
    if r.status_code not in (200, 204):
        raise RuntimeError(f"{path} {params}: {r.status_code} {r.text[:200]}")
    return elapsed * 1000


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def bench_tiles(base: str, tiles: dict[int, list[morecantile.Tile]]) -> list[str]:
    windows = [("full two years", {}),
               ("one month, one category", {"datetime": "2025-06-01/2025-06-30",
                                            "category": "暴露垃圾"})]  # fmt: skip
    lines = []
    with httpx.Client(base_url=base, timeout=60) as http:
        # the first requests load the in-process indexes (once per data version)
        cube_load = timed(http, "/heatmap/incidents/12/3300/1550.mvt")
        stats_load = timed(http, "/stats/incidents")
        lines.append(
            f"First request after start (loads the index): heatmap {cube_load / 1000:.1f} s, "
            f"stats {stats_load / 1000:.1f} s."
        )
        for label, params in windows:
            lines += [f"\n{label}:\n", HEADER, "|---:|---:|---:|---:|---:|---:|---:|"]
            for z, chosen in tiles.items():
                mvt, png = [], []
                res = ""
                for tile in chosen:
                    path = f"/heatmap/incidents/{z}/{tile.x}/{tile.y}"
                    mvt.append(timed(http, path + ".mvt", params))
                    png.append(timed(http, path + ".png", params))
                    res = http.get(path + ".mvt", params=params).headers.get("x-h3-resolution", "")
                lines.append(
                    f"| {z} | {res} | {len(chosen)} | {statistics.median(mvt):.1f} | "
                    f"{p95(mvt):.1f} | {statistics.median(png):.1f} | {p95(png):.1f} |"
                )
    return lines


def bench_stats(base: str) -> list[str]:
    windows = [
        ("whole history", {}),
        ("one year", {"datetime": "2025-01-01/2025-12-31"}),
        ("one month", {"datetime": "2025-06-01/2025-06-30"}),
        ("one day", {"datetime": "2025-06-03/2025-06-03"}),
        ("whole history, one category", {"category": "暴露垃圾"}),
    ]
    lines = ["| window | by | p50 ms | p95 ms |", "|---|---|---:|---:|"]
    with httpx.Client(base_url=base, timeout=60) as http:
        for label, params in windows:
            for by in ("grid", "district"):
                query = {"by": by, **params}
                http.get("/stats/incidents", params=query)
                times = [timed(http, "/stats/incidents", query) for _ in range(STATS_REPEAT)]
                lines.append(
                    f"| {label} | {by} | {statistics.median(times):.0f} | {p95(times):.0f} |"
                )
    return lines


def bench_analytics(base: str, url: str) -> list[str]:
    """Hotspots through the API, and the nightly scan (read-only: `scan_level`, no write)."""
    import datetime as dt

    from sqlalchemy import create_engine

    from geoplatform.analytics.nightly import scan_level

    lines = ["| what | seconds |", "|---|---:|"]
    with httpx.Client(base_url=base, timeout=300) as http:
        for res in (8, 9):
            times = [timed(http, "/analytics/hotspots", {"res": str(res)}) for _ in range(3)]
            lines.append(f"| `/analytics/hotspots?res={res}` (median of 3) | "
                         f"{statistics.median(times) / 1000:.2f} |")  # fmt: skip
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            for level in ("cell", "grid"):
                start = time.perf_counter()
                scan = scan_level(conn, level, dt.date(2025, 6, 15))
                lines.append(
                    f"| warnings scan, {level}s ({len(scan.table):,} units tested) | "
                    f"{time.perf_counter() - start:.2f} |"
                )
    finally:
        engine.dispose()
    return lines


def bench_sql_ceiling(url: str, tiles: dict[int, list[morecantile.Tile]]) -> list[str]:
    """The same sums done by PostgreSQL alone: one GROUP BY over the cube's rows at the tile's
    resolution (PK (res, cell, day, category, channel), cells of the tile from h3-py), full
    window, no encoding. What the in-process index replaces."""
    from geoplatform.analytics.cube import cells_in_bounds
    from geoplatform.tiles.heatmaps import resolution_for_zoom

    sql_text = ("SELECT cell, sum(n) FROM h3_incident_cube WHERE res = %s AND cell = ANY(%s)"
                " GROUP BY cell")  # fmt: skip
    lines = ["| zoom | H3 res | SQL sum p50 ms | SQL sum p95 ms |", "|---:|---:|---:|---:|"]
    with psycopg.connect(url) as conn:
        for z in (6, 8, 10, 12, 14, 16):
            res = resolution_for_zoom(z)
            times = []
            for tile in tiles[z][:20]:
                b = TMS.bounds(tile)
                cells = cells_in_bounds(b.left, b.bottom, b.right, b.top, res).tolist()
                start = time.perf_counter()
                conn.execute(sql_text, (res, cells)).fetchall()
                times.append((time.perf_counter() - start) * 1000)
            lines.append(f"| {z} | {res} | {statistics.median(times):.0f} | {p95(times):.0f} |")
    return lines


def run(url: str, work: Path) -> None:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT count(*) FROM incidents").fetchone()
        cube = conn.execute("SELECT count(*) FROM h3_incident_cube WHERE res = 11").fetchone()
    tiles = city_tiles(url)
    with heatmap_server(url, work / "heatmap-server.log") as base:
        tile_lines = bench_tiles(base, tiles)
        stats_lines = bench_stats(base)
        analytics_lines = bench_analytics(base, url)
    ceiling_lines = bench_sql_ceiling(url, tiles)
    n_rows = rows[0] if rows else 0
    n_cube = cube[0] if cube else 0
    print(f"\n## Heatmaps and statistics (`bench/heatmap.py`, {n_rows:,} incidents, "
          f"{n_cube:,} res-11 cube rows)\n")  # fmt: skip
    print("One uvicorn worker, sequential requests, bytes cache off, no ETag: every tile summed")
    print("from the cube index and encoded (MVT by ST_AsMVT, PNG by rasterio).")
    print("\n".join(tile_lines))
    print("\nThe same sums by PostgreSQL alone (no HTTP, no encoding), full window:\n")
    print("\n".join(ceiling_lines))
    print("\nStatistics, `/stats/incidents` JSON:\n")
    print("\n".join(stats_lines))
    print("\nAnalytics (not tiles: an analyst's request, and the nightly scan's read side):\n")
    print("\n".join(analytics_lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=None, help="a database the ETL has already loaded")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--city", type=Path, default=None)
    args = parser.parse_args()
    if args.url:
        with tempfile.TemporaryDirectory(prefix="bench-heatmap-") as tmp:
            run(args.url, Path(tmp))
        return
    from geoplatform.db.cluster import LocalCluster
    from geoplatform.db.engine import create_engine
    from geoplatform.db.migrate import migrate
    from geoplatform.etl.pipeline import load_pipeline
    from geoplatform.etl.runner import RunOptions, run_pipeline
    from geoplatform.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-heatmap-") as tmp:
        home = Path(tmp)
        city = args.city or home / "city"
        if not (city / "pipeline.yaml").exists():
            from geoplatform.demo import generate_city

            generate_city(city, scale=args.scale, seed=args.seed)
        cluster = LocalCluster(home / "pg", database="bench", ephemeral=True)
        cluster.up()
        try:
            settings = Settings(
                database_url=cluster.url(), home=home, hmac_key="bench-key-01234567"
            )
            engine = create_engine(settings)
            migrate(engine)
            result = run_pipeline(
                engine, load_pipeline(city / "pipeline.yaml"), settings, RunOptions(full=True)
            )
            engine.dispose()
            if result.status != "succeeded":
                raise RuntimeError(f"the ETL run ended {result.status}")
            run(cluster.url(), home)
        finally:
            cluster.destroy()


if __name__ == "__main__":
    main()
