"""Benchmark the whole ETL on a demo city, and its primitives against ceilings in the same run.

    .venv/bin/python bench/etl.py --scale 0.1 [--seed 1] [--city DIR]

Starts a throwaway PostGIS cluster (as the tests do), generates the city (or reuses `--city`),
runs its pipeline from the files and reports:
- end to end: rows/s per entity (rows read / seconds of that source's steps) and the whole run;
  a second run with no new data as a share of the first (target < 15%);
- primitives, each as a ratio to its ceiling measured here on the same rows:
  point → grid (`PolygonIndex`) vs geopandas `sjoin`; H3 (`lonlat_to_cells`) vs h3-py's int API
  over the numpy arrays; the staging COPY path (frame → CSV → COPY into the typed staging table)
  vs COPY of the same CSV text into an unindexed text table; geocoding (`Matcher.match_many`,
  one core, distinct addresses) vs the issue's 20k addresses/s target.
Prints a Markdown section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from psycopg import sql
from sqlalchemy import text

from geoplatform.db.cluster import LocalCluster
from geoplatform.db.engine import create_engine
from geoplatform.db.migrate import migrate
from geoplatform.etl.load import _copy_frame, driver, staging_frame
from geoplatform.etl.pipeline import load_pipeline
from geoplatform.etl.runner import RunOptions, run_pipeline
from geoplatform.settings import Settings
from geoplatform.spatial.assign import PolygonIndex
from geoplatform.spatial.h3cells import lonlat_to_cells


def best(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def end_to_end(engine: Any, settings: Settings, pipeline_path: Path) -> tuple[list[str], Any]:
    pipeline = load_pipeline(pipeline_path)
    first = run_pipeline(engine, pipeline, settings, RunOptions(full=True))
    second = run_pipeline(engine, pipeline, settings)
    lines = ["| entity (sources) | rows read | seconds | rows/s |", "|---|---:|---:|---:|"]
    by_entity: dict[str, list[Any]] = {}
    for source in first.sources:
        by_entity.setdefault(source.entity, []).append(source)
    total_rows = 0
    for entity, sources in by_entity.items():
        rows = sum(int(s.counts.get("read", 0)) for s in sources)
        seconds = sum(sum(s.timings.values()) for s in sources)
        total_rows += rows
        names = ", ".join(s.name for s in sources)
        lines.append(f"| {entity} ({names}) | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} |")
    lines.append(
        f"| **whole run** | {total_rows:,} | {first.seconds:.1f} | "
        f"{total_rows / first.seconds:,.0f} |"
    )
    lines.append("")
    lines.append(
        f"Second run, no new data: {second.seconds:.2f} s = "
        f"**{100 * second.seconds / first.seconds:.1f}%** of the first "
        f"({sum(int(s.counts.get('loaded', 0)) for s in second.sources)} rows rewritten)."
    )
    steps: dict[str, float] = {}
    for source in first.sources:
        for step, seconds in source.timings.items():
            steps[step] = steps.get(step, 0.0) + seconds
    lines.append("")
    lines.append(
        "Time by step (all sources): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(steps.items(), key=lambda kv: -kv[1]))
    )
    return lines, first


def primitives(engine: Any, city: Path) -> list[str]:
    lines = ["| primitive | ours (rows/s) | ceiling (rows/s) | ratio |", "|---|---:|---:|---:|"]
    with engine.connect() as conn:
        grids = pd.read_sql(text("SELECT code, ST_AsBinary(geom) AS wkb FROM grids"), conn)
        points = pd.read_sql(
            text("SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM incidents WHERE geom IS NOT NULL"),
            conn,
        )
    polygons = shapely.from_wkb([bytes(b) for b in grids["wkb"]])
    reps = max(1, 1_000_000 // max(len(points), 1))
    lon = np.tile(points["x"].to_numpy(), reps)
    lat = np.tile(points["y"].to_numpy(), reps)
    n = len(lon)
    index = PolygonIndex(polygons, grids["code"].to_numpy())
    ours = best(lambda: index.assign(lon, lat))
    frame = gpd.GeoDataFrame({"code": grids["code"]}, geometry=polygons, crs=4326)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    ceiling = best(lambda: gpd.sjoin(pts, frame, predicate="within", how="left"), 1)
    lines.append(
        f"| point → grid ({n:,} pts) | {n / ours:,.0f} | {n / ceiling:,.0f} (sjoin) "
        f"| {ceiling / ours:.2f}× |"
    )
    ours = best(lambda: lonlat_to_cells(lon, lat, 11))
    small = min(n, 300_000)
    loop = (
        best(
            lambda: [
                h3.api.basic_int.latlng_to_cell(a, b, 11)
                for a, b in zip(lat[:small].tolist(), lon[:small].tolist(), strict=True)
            ],
            1,
        )
        * n
        / small
    )
    lines.append(f"| H3 r11 | {n / ours:,.0f} | {n / loop:,.0f} (h3-py int) | {loop / ours:.2f}× |")
    lines += _copy(engine)
    lines += _geocode(engine, city)
    return lines


def _copy(engine: Any) -> list[str]:
    """Staging path vs a plain COPY of the same CSV text into an unindexed table."""
    from geoplatform.etl.entities import ENTITIES

    entity = ENTITIES["incidents"]
    with engine.connect() as conn:
        rows = pd.read_sql(
            text(
                "SELECT source_key, channel, category, subcategory, demand_type, urgency, status,"
                " address, reported_at, accepted_at, dispatched_at, handled_at, closed_at, due_at,"
                " geocode_level, grid_code, h3_r11, ST_X(geom) AS _lon, ST_Y(geom) AS _lat"
                " FROM incidents"
            ),
            conn,
        )
    rows["_ord"] = np.arange(len(rows))
    rows["_row"] = rows["_ord"] + 1
    rows["_file"] = "bench.csv"
    rows["_poly"] = None
    n = len(rows)
    staged = staging_frame(rows, entity)
    csv_text = staged.to_csv(index=False, header=False)

    def ours() -> None:
        with engine.begin() as conn:
            pg = driver(conn)
            pg.execute(
                "CREATE TEMP TABLE b_stg ON COMMIT DROP AS SELECT source_key, "
                + ", ".join(c for c in staged.columns[1:-4])
                + ", content_hash FROM incidents WITH NO DATA"
            )
            pg.execute("ALTER TABLE b_stg ADD _ord bigint, ADD _row int, ADD _file text")
            _copy_frame(pg, sql.Identifier("b_stg"), staging_frame(rows, entity))

    def ceiling() -> None:
        with engine.begin() as conn:
            pg = driver(conn)
            cols = ", ".join(f"c{i} text" for i in range(len(staged.columns)))
            pg.execute(f"CREATE TEMP TABLE b_raw ({cols}) ON COMMIT DROP")
            with pg.cursor() as cur, cur.copy("COPY b_raw FROM STDIN (FORMAT csv)") as copy:
                copy.write(csv_text)

    t_ours, t_ceiling = best(ours), best(ceiling)
    return [
        f"| staging COPY ({n:,} incidents, incl. frame→CSV and hashing) | {n / t_ours:,.0f} "
        f"| {n / t_ceiling:,.0f} (COPY text, no index) | {t_ceiling / t_ours:.2f}× |"
    ]


def _geocode(engine: Any, city: Path) -> list[str]:
    from geoplatform.demo.people import RESIDENT_SHEET
    from geoplatform.geocode import Matcher

    files = sorted((city / "residents").glob("*.xlsx"))
    frames = [
        pd.read_excel(f, sheet_name=RESIDENT_SHEET, dtype=str, engine="calamine") for f in files
    ]
    addresses = pd.concat(frames)["现住址"].dropna().drop_duplicates().tolist()[:50_000]
    with engine.connect() as conn:
        matcher = Matcher.from_connection(conn)
    start = time.perf_counter()
    matcher.match_many(addresses)
    seconds = time.perf_counter() - start
    rate = len(addresses) / seconds
    return [
        f"| geocoding ({len(addresses):,} distinct addresses, one core) | {rate:,.0f} "
        f"| 20,000 (issue target) | {rate / 20_000:.2f}× |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--city", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-etl-") as tmp:
        home = Path(tmp)
        city = args.city or home / "city"
        if not (city / "pipeline.yaml").exists():
            from geoplatform.demo import generate_city

            start = time.perf_counter()
            generate_city(city, scale=args.scale, seed=args.seed)
            print(f"generated scale {args.scale} in {time.perf_counter() - start:.1f} s")
        cluster = LocalCluster(home / "pg", database="bench", ephemeral=True)
        cluster.up()
        try:
            settings = Settings(
                database_url=cluster.url(), home=home, hmac_key="bench-key-01234567"
            )
            engine = create_engine(settings)
            migrate(engine)
            e2e, _ = end_to_end(engine, settings, city / "pipeline.yaml")
            prims = primitives(engine, city)
            engine.dispose()
        finally:
            cluster.destroy()
    print(f"\n## ETL end to end (`bench/etl.py --scale {args.scale}`)\n")
    print("\n".join(e2e))
    print("\nPrimitives, same run:\n")
    print("\n".join(prims))


if __name__ == "__main__":
    main()
