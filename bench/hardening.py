# ruff: noqa: E501
"""Bounded work, outages and warm starts (issue 17), against one loaded database:

    .venv/bin/python bench/hardening.py --url postgresql://... [--home DIR] [--mixed-seconds 60]

1. /healthz latency while heavy analytics runs (hotspots at res 10 with fresh parameters, a
   GeoTIFF kernel density), next to /healthz with nothing else running (the ceiling).
2. The first tile, heatmap and stats answer after a start (once /readyz says ready) and after
   an ETL-style fenced commit of the incidents' version (no warm-up request in either case).
3. With --home (the embedded cluster's home, `geoplatform db up` made it): PostgreSQL stopped
   under traffic: how long each route takes to answer 503 (and whether with Retry-After), and
   how long after the cluster is back until every route answers 200 again, same server.
4. A mixed load (tiles, features, heatmaps, stats) of 64 connections for --mixed-seconds with
   wrk: errors and p50/p95/p99.
One uvicorn worker on 127.0.0.1, stopped at the end. Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import morecantile
import psycopg
from loadgen import wait_idle
from serving import free_port, server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = Path(sys.executable).parent
TMS = morecantile.tms.get("WebMercatorQuad")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def start_server(url: str, log: Path, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        "GEOPLATFORM_DATABASE_URL": url,
        "GEOPLATFORM_LAYERS_FILE": str(ROOT / "tiles/layers.yaml"),
        "PYTHONPATH": str(ROOT),
        **(extra or {}),
    }
    argv = [
        str(PY / "uvicorn"),
        "--factory",
        "geoplatform.tiles.app:app_from_env",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
    ]
    return server(argv, env, port, "/readyz", log)


def city_paths(url: str, seed: int = 1) -> dict[str, list[str]]:
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        points = conn.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM incidents TABLESAMPLE SYSTEM (1) REPEATABLE (%s)"
            " WHERE geom IS NOT NULL",
            (seed,),
        ).fetchall()
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM buildings TABLESAMPLE SYSTEM (5) REPEATABLE (1) LIMIT 200"
            )
        ]
    rng.shuffle(points)

    def tiles(z: int, n: int) -> list[tuple[int, int, int]]:
        seen: list[tuple[int, int, int]] = []
        for lon, lat in points:
            t = TMS.tile(lon, lat, z)
            if (z, t.x, t.y) not in seen:
                seen.append((z, t.x, t.y))
            if len(seen) == n:
                break
        return seen

    out: dict[str, list[str]] = {"tile": [], "heatmap": [], "stats": [], "features": []}
    for z in (10, 12, 14, 16):
        out["tile"] += [f"/tiles/incidents,buildings/{z}/{x}/{y}.mvt" for _, x, y in tiles(z, 25)]
    for z in (8, 10, 12, 14):
        out["heatmap"] += [
            f"/heatmap/incidents/{z}/{x}/{y}.{f}"
            for _, x, y in tiles(z, 10)
            for f in ("png", "mvt")
        ]
    for by in ("grid", "community", "street", "district"):
        for window in (
            "",
            "&datetime=2024-06-01/2024-07-01",
            "&category=%E6%9A%B4%E9%9C%B2%E5%9E%83%E5%9C%BE",
        ):
            out["stats"].append(f"/stats/incidents?by={by}{window}")
    lon, lat = points[0]
    for i in range(40):
        d = 0.002 * (i % 10)
        out["features"].append(
            f"/collections/incidents/items?limit=20&bbox={lon - d:.4f},{lat - d:.4f},{lon + 0.01:.4f},{lat + 0.01:.4f}"
        )
    out["features"] += [f"/collections/buildings/items/{i}" for i in ids[:40]]
    return out


def timed(http: httpx.Client, path: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    r = http.get(path)
    return (time.perf_counter() - t0) * 1000, r.status_code


def bench_health(base: str, heavy: list[str]) -> list[str]:
    with httpx.Client(base_url=base, timeout=120) as http:
        idle = [timed(http, "/healthz")[0] for _ in range(500)]
        results: list[tuple[str, float, int]] = []
        done = threading.Event()

        def run_heavy() -> None:
            with httpx.Client(base_url=base, timeout=600) as h:
                for path in heavy:
                    ms, status = timed(h, path)
                    results.append((path, ms, status))
            done.set()

        thread = threading.Thread(target=run_heavy)
        thread.start()
        busy = []
        while not done.is_set():
            busy.append(timed(http, "/healthz")[0])
            time.sleep(0.005)
        thread.join()
    lines = [
        "| /healthz | samples | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        f"| nothing else running (ceiling) | {len(idle)} | {pct(idle, 50):.1f} | {pct(idle, 99):.1f} | {max(idle):.1f} |",
        f"| while the heavy requests ran | {len(busy)} | {pct(busy, 50):.1f} | {pct(busy, 99):.1f} | {max(busy):.1f} |",
        "",
        "Heavy requests (sequential, while /healthz was polled every 5 ms):",
        "",
    ]
    lines += [f"- `{p}`: {ms / 1000:.2f} s, {s}" for p, ms, s in results]
    return lines


def first_answers(http: httpx.Client, paths: dict[str, list[str]], k: int) -> dict[str, float]:
    out = {}
    for kind in ("tile", "heatmap", "stats"):
        out[kind] = timed(http, paths[kind][k % len(paths[kind])])[0]
    return out


def bench_first(
    url: str, paths: dict[str, list[str]], work: Path, starts: int, commits: int
) -> list[str]:
    after_start: dict[str, list[float]] = {"tile": [], "heatmap": [], "stats": []}
    ready_s: list[float] = []
    for k in range(starts):
        wait_idle(url)
        t0 = time.perf_counter()
        with (
            start_server(url, work / f"start{k}.log") as base,
            httpx.Client(base_url=base, timeout=120) as http,
        ):
            ready_s.append(time.perf_counter() - t0)
            for kind, ms in first_answers(http, paths, k).items():
                after_start[kind].append(ms)
    after_commit: dict[str, list[float]] = {"tile": [], "heatmap": [], "stats": []}
    from geoplatform.db.fence import version_fence

    with (
        start_server(url, work / "commits.log") as base,
        httpx.Client(base_url=base, timeout=120) as http,
    ):
        for k in range(commits):
            with psycopg.connect(url) as conn:
                conn.execute(
                    "UPDATE meta.layer_versions SET version = version + 1, updated_at = now() WHERE layer = 'incidents'"
                )
                with version_fence(url):
                    conn.commit()
            for kind, ms in first_answers(http, paths, k + 7).items():
                after_commit[kind].append(ms)
            time.sleep(1.0)
    lines = [
        "| first answer (ms) | after a start: p50 | p95 | max | after a commit: p50 | p95 | max |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in ("tile", "heatmap", "stats"):
        a, c = after_start[kind], after_commit[kind]
        lines.append(
            f"| {kind} | {pct(a, 50):.0f} | {pct(a, 95):.0f} | {max(a):.0f} | {pct(c, 50):.0f} | {pct(c, 95):.0f} | {max(c):.0f} |"
        )
    lines.append("")
    lines.append(
        f"{starts} starts (start → /readyz 200 took {statistics.median(ready_s):.1f} s median, "
        f"{max(ready_s):.1f} s max: the indexes load before ready), {commits} fenced commits of the incidents' version."
    )
    return lines


def bench_outage(url: str, home: Path, paths: dict[str, list[str]], work: Path) -> list[str]:
    routes = [
        paths["tile"][3],
        paths["heatmap"][0],
        paths["stats"][0],
        paths["features"][0],
        paths["features"][45],
        "/locate?lon=106.82&lat=39.67",
        "/analytics/warnings",
        "/collections/incidents",
        "/readyz",
    ]
    env = {**os.environ, "GEOPLATFORM_HOME": str(home), "PYTHONPATH": str(ROOT)}
    geo = [str(PY / "geoplatform"), "db"]
    with (
        start_server(url, work / "outage.log") as base,
        httpx.Client(base_url=base, timeout=60) as http,
    ):
        for path in routes:
            http.get(path)
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=base, timeout=60) as h:
                while not stop.is_set():
                    for p in routes[:4]:
                        h.get(p)

        workers = [threading.Thread(target=load) for _ in range(4)]
        for w in workers:
            w.start()
        subprocess.run([*geo, "down"], env=env, check=True, capture_output=True)
        during = []
        for path in routes:
            ms, status = timed(http, path)
            retry = http.get(path).headers.get("retry-after")
            during.append((path, ms, status, retry))
        stop.set()
        for w in workers:
            w.join()
        subprocess.run([*geo, "up"], env=env, check=True, capture_output=True)
        t_up = time.perf_counter()
        back_at = None
        while time.perf_counter() - t_up < 60:
            if all(http.get(p).status_code in (200, 204) for p in routes):
                back_at = time.perf_counter() - t_up
                break
            time.sleep(0.05)
    lines = [
        "| route, database stopped | answered in ms | status | Retry-After |",
        "|---|---:|---:|---|",
    ]
    lines += [f"| `{p[:70]}` | {ms:.0f} | {s} | {r} |" for p, ms, s, r in during]
    lines.append("")
    lines.append(
        f"Every route answered 200 again {back_at:.2f} s after `geoplatform db up` returned (same server, no restart)."
        if back_at is not None
        else "NOT back within 60 s"
    )
    return lines


def bench_mixed(
    url: str, paths: dict[str, list[str]], work: Path, seconds: int, conns: int
) -> list[str]:
    mix = paths["tile"] * 2 + paths["features"] + paths["heatmap"] + paths["stats"]
    random.Random(3).shuffle(mix)
    with start_server(url, work / "mixed.log") as base:
        wait_idle(url)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("\n".join(mix) + "\n")
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{conns}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "-s",
                str(HERE / "mixed.lua"),
                base,
            ],
            env={**os.environ, "TILES": f.name},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        metrics = httpx.get(base + "/metrics", timeout=30).text
    r = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    five = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("geoplatform_http_requests_total{") and 'status="5' in line
    )
    return [
        f"{len(mix)} paths (tiles {len(paths['tile']) * 2}, features {len(paths['features'])}, heatmap {len(paths['heatmap'])}, stats {len(paths['stats'])}), wrk -t2 -c{conns} -d{seconds}s:",
        "",
        "| requests | req/s | p50 ms | p95 ms | p99 ms | max ms | non-2xx/3xx | socket errors | 5xx in /metrics |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r['requests']} | {r['requests'] / r['seconds']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.0f} | {r['status_errors']} | {r['socket_errors']} | {five:.0f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument(
        "--home", type=Path, default=None, help="embedded cluster home (outage part)"
    )
    parser.add_argument("--mixed-seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--commits", type=int, default=10)
    parser.add_argument("--only", default="health,first,outage,mixed")
    args = parser.parse_args()
    work = HERE / "out" / "hardening"
    work.mkdir(parents=True, exist_ok=True)
    paths = city_paths(args.url)
    parts = args.only.split(",")
    if "health" in parts:
        heavy = [
            "/analytics/hotspots?res=10&alpha=0.0411",
            "/analytics/hotspots?res=9&alpha=0.0412",
            "/heatmap/incidents.tif?area=150302&res=11&size=4096&bandwidth=300",
        ]
        with start_server(args.url, work / "health.log") as base:
            print("\n".join(bench_health(base, heavy)), "\n", flush=True)
    if "first" in parts:
        print(
            "\n".join(bench_first(args.url, paths, work, args.starts, args.commits)),
            "\n",
            flush=True,
        )
    if "outage" in parts and args.home is not None:
        print("\n".join(bench_outage(args.url, args.home, paths, work)), "\n", flush=True)
    if "mixed" in parts:
        print(
            "\n".join(bench_mixed(args.url, paths, work, args.mixed_seconds, args.connections)),
            flush=True,
        )


if __name__ == "__main__":
    main()
