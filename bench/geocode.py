"""Geocoding throughput on one core and accuracy per variant type over the demo city's residents.

Generates the demo city (or reuses one given with --city), builds the matcher from its
standard-address CSV, matches every resident address with `match_many` on one core (the
process's CPU time is the figure: it does not depend on what else the machine runs), then scores
the answers against the ground truth. Target (issue 4): ≥ 20,000 addresses/s.

Rates are reported for the whole run (cold: every distinct typo looked up once, old road names
learned and their rows matched again) and for a second run of the same matcher (warm: the
steady state of a nightly run, where the matcher has seen the city's names before).

    .venv/bin/python bench/geocode.py --scale 1            # the full city (≈560k residents)
    .venv/bin/python bench/geocode.py --city /tmp/city     # an already generated city
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from geoplatform.demo import generate_city
from geoplatform.geocode import GeocodeResult, Matcher
from geoplatform.geocode.evaluate import (
    STANDARD_ADDRESSES_CRS,
    evaluate,
    read_residents,
    read_standard_addresses,
)


def _timed(matcher: Matcher, addresses: list[str]) -> tuple[list[GeocodeResult], float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    results = matcher.match_many(addresses)
    return results, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--city", type=Path, help="an already generated demo city")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    with tempfile.TemporaryDirectory(prefix="geocode-bench-") as scratch:
        city = args.city
        if city is None:
            city = Path(scratch) / "city"
            started = time.perf_counter()
            generate_city(city, scale=args.scale, seed=args.seed)
            print(f"generated scale {args.scale} in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        standard = read_standard_addresses(city)
        residents = read_residents(city)
        took = time.perf_counter() - started
        print(
            f"read {len(standard)} standard addresses, {len(residents)} residents in {took:.0f} s"
        )

    started = time.perf_counter()
    matcher = Matcher.from_frame(standard, crs=STANDARD_ADDRESSES_CRS)
    print(f"matcher built in {time.perf_counter() - started:.2f} s")
    addresses = residents["address"].tolist()
    results, cpu, wall = _timed(matcher, addresses)
    matcher._cache.clear()  # the warm run must match every row again, not read the cache
    _, warm_cpu, warm_wall = _timed(matcher, addresses)
    n = len(addresses)
    print(f"cold: {n / cpu:,.0f} addresses/s per core (CPU {cpu:.1f} s, wall {wall:.1f} s)")
    print(
        f"warm: {n / warm_cpu:,.0f} addresses/s per core "
        f"(CPU {warm_cpu:.1f} s, wall {warm_wall:.1f} s); target 20,000"
    )
    print(f"learned old road names: {len(matcher.learned_road_names)}")
    print(evaluate(results, residents).table())


if __name__ == "__main__":
    main()
