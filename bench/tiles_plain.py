"""tipg's own ground: z16 tiles of a plain table, where tipg is within 10% of raw ST_AsMVT.

The ETL-loaded incidents table exposes twelve columns and keeps its rows in load order, and tipg
sends every column it has: not the ground tipg was measured on in BASELINE.md. Here the same
rows are copied into `bench.plain_incidents` (id, category, status, reported_at, geom), sorted
spatially, with a primary key and a GiST index. This server serves that table as a layer
`plain` under tipg's own rule (at most 10,000 features a tile, lowest ids first, no clusters),
so both servers send the same rows, and raw ST_AsMVT runs the same query through pgbench.
The same table is also served as `plain_onemap`, under the rule the one map uses for incidents
(above 2,500 rows a z16 tile shows clusters of all its rows), reported separately.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import httpx
import mapbox_vector_tile
import psycopg
from loadgen import pgbench_raw, wrk
from serving import free_port, server

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PY = HERE.parent / ".venv" / "bin"
TIPG = OUT / "tipg-venv" / "bin" / "uvicorn"
TABLE = "bench.plain_incidents"
ONEMAP_TABLE = "bench.plain_incidents_cells"  # the same rows with their H3 cell, for clusters

LAYERS_YAML = f"""\
layers:
  plain:
    title: plain incidents (benchmark copy)
    table: {TABLE}
    id: id
    geometry: geom
    properties: [id, category, status, reported_at]
    minzoom: 0
    maxzoom: 22
    detail_zoom: 0
    overview: none
    cap: 10000
    importance: [id]
    category: category
    time: reported_at
    style: {{kind: circle, color: "#d7301f"}}
  plain_onemap:
    title: plain incidents, served by the one-map rule (clusters of all rows above the cap)
    table: {ONEMAP_TABLE}
    id: id
    geometry: geom
    properties: [id, category, status, reported_at]
    minzoom: 0
    maxzoom: 22
    detail_zoom: 16
    overview: clusters
    h3_offset: -1.0
    cap: 2500
    importance: [-reported_at, -id]
    category: category
    time: reported_at
    style: {{kind: circle, color: "#d7301f"}}
"""


def make_plain_table(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bench")
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(
            f"CREATE TABLE {TABLE} AS SELECT id, category, status, reported_at, geom"
            " FROM incidents WHERE geom IS NOT NULL ORDER BY ST_GeoHash(geom, 10)"
        )
        conn.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id)")
        conn.execute(f"CREATE INDEX ON {TABLE} USING gist (geom)")
        conn.execute(f"VACUUM ANALYZE {TABLE}")
        conn.execute(f"DROP TABLE IF EXISTS {ONEMAP_TABLE}")
        conn.execute(
            f"CREATE TABLE {ONEMAP_TABLE} AS SELECT p.*, i.h3_r11 FROM {TABLE} p"
            " JOIN incidents i USING (id) ORDER BY ST_GeoHash(p.geom, 10)"
        )
        conn.execute(f"ALTER TABLE {ONEMAP_TABLE} ADD PRIMARY KEY (id)")
        conn.execute(f"CREATE INDEX ON {ONEMAP_TABLE} USING gist (geom)")
        conn.execute(f"VACUUM ANALYZE {ONEMAP_TABLE}")
        return int(conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0])  # type: ignore[index]


def _features(content: bytes, layer: str) -> int:
    decoded = mapbox_vector_tile.decode(content) if content else {}
    return len(decoded.get(layer, {}).get("features", []))


def plain_ground(url: str, tiles: list[tuple[int, int, int]], duration: int) -> dict[str, object]:
    """Ours, tipg and raw ST_AsMVT on the same z16 tiles of the plain table (uncached)."""
    results: dict[str, object] = {"plain_rows": make_plain_table(url)}
    layers_file = OUT / "plain_layers.yaml"
    layers_file.write_text(LAYERS_YAML)
    ours = [f"/tiles/plain/{z}/{x}/{y}.mvt" for z, x, y in tiles]
    tipg = [f"/collections/{TABLE}/tiles/WebMercatorQuad/{z}/{x}/{y}" for z, x, y in tiles]

    port = free_port()
    env = {
        "GEOPLATFORM_DATABASE_URL": url,
        "GEOPLATFORM_LAYERS_FILE": str(layers_file),
        "GEOPLATFORM_TILE_CACHE_BYTES": "0",
    }
    argv = [str(PY / "geoplatform"), "serve", "--port", str(port)]
    onemap = [p.replace("/plain/", "/plain_onemap/") for p in ours]
    with server(argv, env, port, "/readyz", OUT / "plain-server.log") as base:
        with httpx.Client(base_url=base, timeout=120) as http:
            ours_counts = [_features(http.get(p).content, "plain") for p in ours]
            ours_kb = statistics.mean(len(http.get(p).content) for p in ours) / 1024
            onemap_kb = statistics.mean(len(http.get(p).content) for p in onemap) / 1024
        results["plain_ours_c8"] = wrk(base, ours, 8, duration, url)
        results["plain_ours_c1"] = wrk(base, ours, 1, duration, url)
        results["plain_onemap_c8"] = wrk(base, onemap, 8, duration, url)
        results["plain_onemap_c1"] = wrk(base, onemap, 1, duration, url)

    port = free_port()
    argv = [str(TIPG), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--log-level", "warning"]  # fmt: skip
    tipg_env = {"DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["bench"]'}
    with server(argv, tipg_env, port, "/collections", OUT / "plain-tipg.log") as base:
        with httpx.Client(base_url=base, timeout=120) as http:
            tipg_counts = [_features(http.get(p).content, "default") for p in tipg]
            tipg_kb = statistics.mean(len(http.get(p).content) for p in tipg) / 1024
        results["plain_tipg_c8"] = wrk(base, tipg, 8, duration, url)
        results["plain_tipg_c1"] = wrk(base, tipg, 1, duration, url)

    results["plain_raw_c8"] = pgbench_raw(url, tiles, 8, duration, table=TABLE)
    results["plain_raw_c1"] = pgbench_raw(url, tiles, 1, duration, table=TABLE)
    results["plain_features_ours_tipg"] = [sum(ours_counts), sum(tipg_counts)]
    results["plain_mean_kb_ours_tipg"] = [round(ours_kb, 1), round(tipg_kb, 1)]
    results["plain_onemap_mean_kb"] = round(onemap_kb, 1)
    return results
