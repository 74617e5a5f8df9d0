"""Access benchmark: what row-level security and authentication cost, measured side by side.

    PYTHONPATH=. .venv/bin/python bench/access.py [--incidents 200000] [--duration 8]

Starts its own throwaway cluster, migrates, loads the synthetic city (bench/synth_city.py),
creates an admin key, and runs wrk (one thread) against `geoplatform serve` twice per figure:
- uncached incident tiles at z16 (tile cache off), admin key: the server as `api` under RLS
  vs the same server on the owner (superuser) login, where RLS does not apply;
- cached one-map tiles (grids, buildings, organisations at z14): with an officer key (role and
  scope in the key, key lookup and RLS setup on a hit) vs with no key (public).
Runs alternate, two each; the medians are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path

import morecantile
import psycopg
from loadgen import wrk
from serving import free_port, server
from synth_city import load

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PY = Path(sys.executable).parent
TMS = morecantile.tms.get("WebMercatorQuad")


def tiles(url: str, z: int, n: int = 100, seed: int = 3) -> list[tuple[int, int, int]]:
    with psycopg.connect(url) as conn:
        points = conn.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM incidents TABLESAMPLE SYSTEM (1) REPEATABLE (3)"
        ).fetchall()
    random.Random(seed).shuffle(points)
    seen: list[tuple[int, int, int]] = []
    for lon, lat in points:
        t = (z, *TMS.tile(lon, lat, z)[:2])
        if t not in seen:
            seen.append(t)  # type: ignore[arg-type]
        if len(seen) == n:
            break
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--buildings", type=int, default=30_000)
    parser.add_argument("--duration", type=int, default=8)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from geoplatform.access.keys import create_key
    from geoplatform.db.cluster import LocalCluster
    from geoplatform.db.engine import create_engine
    from geoplatform.db.migrate import migrate
    from geoplatform.settings import Settings

    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        cluster = LocalCluster(Path(tmp) / "pg", database="bench", ephemeral=True)
        cluster.up()
        try:
            url = cluster.url()
            engine = create_engine(Settings(database_url=url, home=Path(tmp)))
            migrate(engine)
            load(url, args.buildings, args.incidents)
            with engine.begin() as conn:
                admin, _ = create_key(conn, name="bench-admin", role="admin")
                officer, _ = create_key(
                    conn, name="bench-officer", role="officer", scope=("150302000000",)
                )
            engine.dispose()
            detail = [f"/tiles/incidents/{z}/{x}/{y}.mvt" for z, x, y in tiles(url, 16)]
            onemap = [
                f"/tiles/grids,buildings,organisations/{z}/{x}/{y}.mvt"
                for z, x, y in tiles(url, 14, 50)
            ]
            env = {
                "GEOPLATFORM_DATABASE_URL": url,
                "GEOPLATFORM_LAYERS_FILE": str(ROOT / "tiles/layers.yaml"),
                "GEOPLATFORM_HOME": tmp,
                "PYTHONPATH": str(ROOT),  # the servers run this checkout's code
            }
            rows = []
            for label, paths, conns, variants in (
                ("uncached incident tiles z16, admin key: RLS (api) vs no RLS (owner)", detail, 2, [
                    ({"GEOPLATFORM_TILE_CACHE_BYTES": "0"}, (f"X-API-Key: {admin}",)),
                    ({"GEOPLATFORM_TILE_CACHE_BYTES": "0", "GEOPLATFORM_API_DATABASE_URL": url,
                      "GEOPLATFORM_ALLOW_SUPERUSER": "1"}, (f"X-API-Key: {admin}",)),
                ]),
                ("cached one-map tiles z14: officer key vs public", onemap, 8, [
                    ({}, (f"X-API-Key: {officer}",)),
                    ({}, ()),
                ]),
            ):  # fmt: skip
                results: list[list[float]] = [[], []]
                for _ in range(2):
                    for i, (extra, headers) in enumerate(variants):
                        port = free_port()
                        argv = [str(PY / "geoplatform"), "serve", "--port", str(port)]
                        with server(
                            argv, {**env, **extra}, port, "/readyz", OUT / f"access-{port}.log"
                        ) as base:
                            wrk(base, paths, conns, 2, url, headers)  # warm: indexes, cache
                            results[i].append(
                                wrk(base, paths, conns, args.duration, url, headers)["rps"]
                            )
                a, b = statistics.median(results[0]), statistics.median(results[1])
                rows.append(f"| {label} | {a:.0f} | {b:.0f} | {a / b:.2f} | ≥ 0.80 |")
        finally:
            cluster.destroy()
    print("| measurement (req/s, wrk 1 thread, median of 2) | with | peer | ratio | target |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
