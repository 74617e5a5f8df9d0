# ruff: noqa: E501
"""Tile benchmark, in one go on one database and one tile list: this server, tipg, raw ST_AsMVT
through pgbench, and a trivial FastAPI endpoint returning fixed bytes. Prints a Markdown table.

    .venv/bin/python bench/tiles.py --url postgresql://... [--duration 10]

Needs: wrk and pgbench (Debian), tipg in bench/out/tipg-venv (`python3 -m venv bench/out/tipg-venv
&& bench/out/tipg-venv/bin/pip install tipg 'uvicorn[standard]'`). Every server runs one worker
on 127.0.0.1 and is stopped at the end. Between runs it waits until PostgreSQL is idle.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import httpx
import morecantile
import psycopg
from loadgen import pgbench_raw, wrk
from serving import free_port, server
from tiles_plain import plain_ground

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
TIPG = OUT / "tipg-venv" / "bin" / "uvicorn"
PY = Path(sys.executable).parent
TMS = morecantile.tms.get("WebMercatorQuad")
LAYERS = ["districts", "streets", "communities", "grids", "buildings", "organisations", "devices",
          "incidents"]  # fmt: skip


def tile_lists(url: str, seed: int) -> dict[str, list[tuple[int, int, int]]]:
    """BASELINE's list: 50 tiles each at z10, z12, z14, z16 under incident points (dense area)."""
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        # the same sample on every run over the same table (then shuffled by the seed)
        points = sorted(
            conn.execute(
                "SELECT ST_X(geom), ST_Y(geom) FROM incidents"
                " TABLESAMPLE SYSTEM (1) REPEATABLE (%s) WHERE geom IS NOT NULL",
                (seed,),
            ).fetchall()
        )
    lists: dict[str, list[tuple[int, int, int]]] = {}
    for z in (10, 12, 14, 16):
        seen: list[tuple[int, int, int]] = []
        rng.shuffle(points)
        for lon, lat in points:
            t = TMS.tile(lon, lat, z)
            if (z, t.x, t.y) not in seen:
                seen.append((z, t.x, t.y))
            if len(seen) == 50:
                break
        lists[f"z{z}"] = seen
    lists["mixed"] = [t for z in (10, 12, 14, 16) for t in lists[f"z{z}"]]
    return lists


def every_tile_sample(url: str, seed: int, per_zoom: int) -> list[tuple[int, int, int]]:
    """Every tile over the city at z0-z12; from z13 on, `per_zoom` tiles under data points."""
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        x0, y0, x1, y1 = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
            " (SELECT ST_Extent(geom) AS e FROM grids) s"
        ).fetchone()
        points = sorted(
            conn.execute(
                "(SELECT ST_X(geom), ST_Y(geom) FROM incidents TABLESAMPLE SYSTEM (0.5)"
                " REPEATABLE (%(seed)s) WHERE geom IS NOT NULL)"
                " UNION ALL (SELECT ST_X(geom), ST_Y(geom) FROM buildings TABLESAMPLE SYSTEM (3)"
                " REPEATABLE (%(seed)s))",
                {"seed": seed},
            ).fetchall()
        )
    tiles: list[tuple[int, int, int]] = []
    for z in range(0, 19):
        if z <= 12:
            tiles += [(z, t.x, t.y) for t in TMS.tiles(x0, y0, x1, y1, [z])]
        else:
            rng.shuffle(points)
            chosen = {(z, *TMS.tile(lon, lat, z)[:2]) for lon, lat in points[: per_zoom * 3]}
            tiles += sorted(chosen)[:per_zoom]
    return tiles


def measure_every_tile(base: str, tiles: list[tuple[int, int, int]]) -> dict[str, object]:
    """Sequential, uncached: latency and size of every (layer, tile); per-zoom p95 and max."""
    per_zoom: dict[int, list[float]] = {}
    biggest: dict[int, int] = {}
    worst: tuple[float, str] = (0.0, "")
    with httpx.Client(base_url=base, timeout=60) as http:
        for z, x, y in tiles:
            for layer in LAYERS:
                path = f"/tiles/{layer}/{z}/{x}/{y}.mvt"
                started = time.perf_counter()
                response = http.get(path)
                ms = (time.perf_counter() - started) * 1000
                if response.status_code == 400:
                    continue  # outside the layer's zoom range
                assert response.status_code in (200, 204), (path, response.status_code)
                per_zoom.setdefault(z, []).append(ms)
                biggest[z] = max(biggest.get(z, 0), len(response.content))
                worst = max(worst, (ms, path))
    rows = {}
    for z, values in sorted(per_zoom.items()):
        values.sort()
        p95 = values[int(0.95 * (len(values) - 1))]
        rows[z] = {"n": len(values), "p95_ms": round(p95, 1), "max_ms": round(values[-1], 1),
                   "max_kb": round(biggest[z] / 1024, 1)}  # fmt: skip
    allv = sorted(v for vs in per_zoom.values() for v in vs)
    return {
        "zooms": rows,
        "p95_ms": round(allv[int(0.95 * (len(allv) - 1))], 1),
        "max_kb": round(max(biggest.values()) / 1024, 1),
        "worst": worst,
        "requests": len(allv),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-zoom", type=int, default=60)
    parser.add_argument("--skip-every-tile", action="store_true")
    parser.add_argument(
        "--ours-only",
        action="store_true",
        help="only this server (uncached and cached) and the trivial endpoint: no tipg, pgbench",
    )
    args = parser.parse_args()
    url, d = args.url, args.duration
    OUT.mkdir(exist_ok=True)
    lists = tile_lists(url, args.seed)
    ours = [f"/tiles/incidents/{z}/{x}/{y}.mvt" for z, x, y in lists["mixed"]]
    ours16 = [f"/tiles/incidents/{z}/{x}/{y}.mvt" for z, x, y in lists["z16"]]
    tipg = [f"/collections/public.incidents/tiles/WebMercatorQuad/{z}/{x}/{y}"
            for z, x, y in lists["mixed"]]  # fmt: skip
    tipg16 = [p for p in tipg if "/16/" in p]
    trivial = [f"/tile/{z}/{x}/{y}" for z, x, y in lists["mixed"]]
    results: dict[str, object] = {"tiles": {k: len(v) for k, v in lists.items()}}

    env = {
        "GEOPLATFORM_DATABASE_URL": url,
        "GEOPLATFORM_LAYERS_FILE": str(ROOT / "tiles/layers.yaml"),
    }
    port = free_port()
    serve = [str(PY / "geoplatform"), "serve", "--port", str(port)]
    with server(
        serve,
        {**env, "GEOPLATFORM_TILE_CACHE_BYTES": "0"},
        port,
        "/readyz",
        OUT / f"server-{port}.log",
    ) as base:
        # let the cluster indexes finish loading (the lifespan starts them), then warm up once
        with httpx.Client(base_url=base, timeout=120) as http:
            for p in ours + ours16:
                http.get(p)
        if not args.skip_every_tile:
            tiles = every_tile_sample(url, args.seed, args.per_zoom)
            results["every_tile"] = measure_every_tile(base, tiles)
            print(json.dumps(results["every_tile"], indent=1), file=sys.stderr)
        results["ours_mixed_c8"] = wrk(base, ours, 8, d, url)
        results["ours_mixed_c1"] = wrk(base, ours, 1, d, url)
        results["ours_z16_c8"] = wrk(base, ours16, 8, d, url)
        results["ours_z16_c1"] = wrk(base, ours16, 1, d, url)
        sizes = [len(httpx.get(base + p).content) for p in ours]
        results["ours_mixed_mean_kb"] = round(statistics.mean(sizes) / 1024, 1)
    print(json.dumps(results, indent=1), file=sys.stderr)

    port = free_port()
    with server([*serve[:-1], str(port)], env, port, "/readyz", OUT / f"server-{port}.log") as base:
        with httpx.Client(base_url=base, timeout=120) as http:
            for p in ours:
                http.get(p)
        results["ours_cached_mixed_c8"] = wrk(base, ours, 8, d, url)
        results["ours_cached_mixed_c1"] = wrk(base, ours, 1, d, url)

    if args.ours_only:
        _trivial(results, trivial, d, url)
        (OUT / "tiles-results-ours.json").write_text(json.dumps(results, indent=1))
        print(json.dumps(results, indent=1))
        return

    port = free_port()
    tipg_argv = [str(TIPG), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", "1", "--log-level", "warning"]  # fmt: skip
    with server(
        tipg_argv, {"DATABASE_URL": url}, port, "/collections", OUT / f"tipg-{port}.log"
    ) as base:
        with httpx.Client(base_url=base, timeout=120) as http:
            http.get(tipg[0])
            sizes = [len(http.get(p).content) for p in tipg]
        results["tipg_mixed_mean_kb"] = round(statistics.mean(sizes) / 1024, 1)
        results["tipg_mixed_c8"] = wrk(base, tipg, 8, d, url)
        results["tipg_mixed_c1"] = wrk(base, tipg, 1, d, url)
        results["tipg_z16_c8"] = wrk(base, tipg16, 8, d, url)
        results["tipg_z16_c1"] = wrk(base, tipg16, 1, d, url)

    results["raw_z16_c8"] = pgbench_raw(url, lists["z16"], 8, d)
    results["raw_z16_c1"] = pgbench_raw(url, lists["z16"], 1, d)

    port = free_port()
    trivial_argv = [str(PY / "uvicorn"), "trivial_app:app", "--app-dir", str(HERE), "--host",
                    "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "warning"]  # fmt: skip
    with server(trivial_argv, {}, port, "/tile/0/0/0", OUT / f"trivial-{port}.log") as base:
        results["trivial_c8"] = wrk(base, trivial, 8, d, url)
        results["trivial_c1"] = wrk(base, trivial, 1, d, url)
    # the same endpoint returning as many bytes as our mean tile: what the body size costs
    mean_bytes = str(int(float(results["ours_mixed_mean_kb"]) * 1024))  # type: ignore[arg-type]
    port = free_port()
    trivial_argv[trivial_argv.index("--port") + 1] = str(port)
    with server(
        trivial_argv, {"TRIVIAL_BYTES": mean_bytes}, port, "/tile/0/0/0", OUT / "trivial-mean.log"
    ) as base:
        results["trivial_mean_size_c8"] = wrk(base, trivial, 8, d, url)

    results.update(plain_ground(url, lists["z16"], d))

    (OUT / "tiles-results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    print(report(results))


def _trivial(results: dict[str, object], trivial: list[str], d: int, url: str) -> None:
    port = free_port()
    argv = [str(PY / "uvicorn"), "trivial_app:app", "--app-dir", str(HERE), "--host",
            "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "warning"]  # fmt: skip
    with server(argv, {}, port, "/tile/0/0/0", OUT / f"trivial-{port}.log") as base:
        results["trivial_c8"] = wrk(base, trivial, 8, d, url)
        results["trivial_c1"] = wrk(base, trivial, 1, d, url)


def report(r: dict[str, object]) -> str:
    def rps(key: str) -> float:
        return float(r[key]["rps"])  # type: ignore[index]

    lines = [
        "| measurement | this server | peer | ratio | target |",
        "|---|---|---|---|---|",
        f"| incidents mixed z10-z16, c=8 (req/s) | {rps('ours_mixed_c8'):.0f} | tipg "
        f"{rps('tipg_mixed_c8'):.0f} | {rps('ours_mixed_c8') / rps('tipg_mixed_c8'):.1f}x | >= 5x |",
        f"| incidents mixed z10-z16, c=1 (req/s) | {rps('ours_mixed_c1'):.0f} | tipg "
        f"{rps('tipg_mixed_c1'):.0f} | {rps('ours_mixed_c1') / rps('tipg_mixed_c1'):.1f}x | |",
        f"| incidents z16, c=8 (req/s) | {rps('ours_z16_c8'):.0f} | tipg {rps('tipg_z16_c8'):.0f};"
        f" raw ST_AsMVT {float(r['raw_z16_c8']):.0f} | {rps('ours_z16_c8') / rps('tipg_z16_c8'):.1f}x"
        " | >= 1.5x |",
        f"| incidents z16, c=1 (req/s) | {rps('ours_z16_c1'):.0f} | tipg {rps('tipg_z16_c1'):.0f};"
        f" raw ST_AsMVT {float(r['raw_z16_c1']):.0f} | {rps('ours_z16_c1') / rps('tipg_z16_c1'):.1f}x"
        " | |",
        f"| cached mixed list, c=8 (req/s) | {rps('ours_cached_mixed_c8'):.0f} | trivial "
        f"{rps('trivial_c8'):.0f} | {rps('ours_cached_mixed_c8') / rps('trivial_c8'):.2f} | >= 0.70 |",
        f"| cached mixed list, c=1 (req/s) | {rps('ours_cached_mixed_c1'):.0f} | trivial "
        f"{rps('trivial_c1'):.0f} | {rps('ours_cached_mixed_c1') / rps('trivial_c1'):.2f} | |",
        f"| cached mixed list, c=8, vs trivial of the mean tile size (req/s) | "
        f"{rps('ours_cached_mixed_c8'):.0f} | trivial {rps('trivial_mean_size_c8'):.0f} | "
        f"{rps('ours_cached_mixed_c8') / rps('trivial_mean_size_c8'):.2f} | |",
        f"| plain table z16, c=8 (tipg's own ground, same rows) | {rps('plain_ours_c8'):.0f} |"
        f" tipg {rps('plain_tipg_c8'):.0f}; raw ST_AsMVT {float(r['plain_raw_c8']):.0f} |"
        f" {rps('plain_ours_c8') / rps('plain_tipg_c8'):.1f}x | >= 1.5x |",
        f"| plain table z16, c=1 | {rps('plain_ours_c1'):.0f} | tipg {rps('plain_tipg_c1'):.0f};"
        f" raw ST_AsMVT {float(r['plain_raw_c1']):.0f} |"
        f" {rps('plain_ours_c1') / rps('plain_tipg_c1'):.1f}x | |",
        f"| plain table z16: features sent (ours, tipg), mean KB | {r['plain_features_ours_tipg']}"
        f" | {r['plain_mean_kb_ours_tipg']} | | |",
        f"| plain table z16 under the one-map rule (clusters above 2,500 rows), c=8 |"
        f" {rps('plain_onemap_c8'):.0f} ({r['plain_onemap_mean_kb']} KB) | tipg"
        f" {rps('plain_tipg_c8'):.0f} | {rps('plain_onemap_c8') / rps('plain_tipg_c8'):.1f}x | |",
        f"| plain table z16 under the one-map rule, c=1 | {rps('plain_onemap_c1'):.0f} | tipg"
        f" {rps('plain_tipg_c1'):.0f} | {rps('plain_onemap_c1') / rps('plain_tipg_c1'):.1f}x | |",
        f"| mean tile size, mixed list | {r['ours_mixed_mean_kb']} KB (all rows, clustered) | tipg"
        f" {r['tipg_mixed_mean_kb']} KB (<= 10,000 rows a tile) | | |",
    ]
    every = r.get("every_tile")
    if isinstance(every, dict):
        lines.append(
            f"| every layer, every zoom 0-18 ({every['requests']} tiles, uncached, sequential) |"
            f" p95 {every['p95_ms']} ms, largest {every['max_kb']} KB | | | p95 < 100 ms,"
            " <= 500 KB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
