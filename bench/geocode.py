"""Geocoding accuracy for a demo preset and seed, through the real ETL, in issue 11's terms.

Generates the city (`--preset`, `--seed`, `--scale`), starts a throwaway PostGIS (as bench/etl.py
does), loads the city through its committed pipeline exactly as delivered, then scores what the
tables hold against `truth/` (geoplatform/geocode/evaluate_loaded.py): residents on the true
building, wrong answers apart from unmatched ones, non-existent addresses matched, compound and
door rows in the right grid, address-only organisations, vague hotline rows within 30 m, and
per variant class. Prints whether the preset/seed is a tuning or a reporting one.

    .venv/bin/python bench/geocode.py --preset wuhai --seed 1 --scale 0.05     # tuning
    .venv/bin/python bench/geocode.py --preset jiaxing --seed 7 --scale 0.05   # reporting
    .venv/bin/python bench/geocode.py --in-process ...   # residents only, matcher in memory
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from geoplatform.geocode.evaluate_loaded import TUNING, role


def through_etl(city: Path, home: Path) -> str:
    from geoplatform.db.cluster import LocalCluster
    from geoplatform.db.engine import create_engine
    from geoplatform.db.migrate import migrate
    from geoplatform.etl.pipeline import load_pipeline
    from geoplatform.etl.runner import RunOptions, run_pipeline
    from geoplatform.geocode.evaluate_loaded import score_loaded
    from geoplatform.settings import Settings

    cluster = LocalCluster(home / "pg", database="bench", ephemeral=True)
    cluster.up()
    try:
        settings = Settings(database_url=cluster.url(), home=home, hmac_key="bench-key-01234567")
        engine = create_engine(settings)
        migrate(engine)
        started = time.perf_counter()
        run_pipeline(engine, load_pipeline(city / "pipeline.yaml"), settings, RunOptions(full=True))
        print(f"ETL run in {time.perf_counter() - started:.0f} s")
        with engine.connect() as conn:
            table = score_loaded(conn, city).table()
        engine.dispose()
        return table
    finally:
        cluster.destroy()


def in_process(city: Path) -> str:
    """Residents only, matched by the in-memory matcher over the standard table (admin names
    resolved from the delivered boundaries, as the ETL would)."""
    from geoplatform.geocode import Matcher
    from geoplatform.geocode.evaluate import (
        evaluate,
        read_residents,
        read_standard_addresses,
        standard_crs,
    )

    matcher = Matcher.from_frame(read_standard_addresses(city), crs=standard_crs(city))
    residents = read_residents(city)
    results = matcher.match_many(residents["address"].tolist())
    return evaluate(results, residents).table()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="wuhai")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--city", type=Path, help="an already generated demo city")
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    print(
        f"preset {args.preset}, seed {args.seed}, scale {args.scale}: "
        f"{role(args.preset, args.seed)} (tuning seeds: {TUNING}; all others report)"
    )
    with tempfile.TemporaryDirectory(prefix="geocode-bench-") as scratch:
        home = Path(scratch)
        city = args.city
        if city is None:
            from geoplatform.demo import generate_city

            city = home / "city"
            started = time.perf_counter()
            generate_city(city, scale=args.scale, seed=args.seed, preset=args.preset)
            print(f"generated in {time.perf_counter() - started:.0f} s")
        print(in_process(city) if args.in_process else through_etl(city, home))


if __name__ == "__main__":
    main()
