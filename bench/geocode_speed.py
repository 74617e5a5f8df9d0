"""Geocoder speed: roster throughput against same-run ceilings, and the CLI's answer time.

    .venv/bin/python bench/geocode_speed.py --scale 0.2 [--seed 3] [--city DIR] [--no-cli]

Generates a demo city (or reuses ``--city``) and reports, on one core:
- `Matcher.match_many` over the whole resident roster (as the ETL feeds it: addresses repeat,
  answers are memoised per distinct address), and over the distinct addresses only, with a
  fresh matcher each time (nothing memoised from a previous pass);
- two ceilings on the same addresses: a dict look-up loop (what memoisation can at best give)
  and rapidfuzz `process.extractOne` of each address against the compound names (the cost of
  one fuzzy look-up per address, which the matcher does only for names that miss exactly);
- the gazetteer build, its pickle's load (the index `geoplatform geocode` keeps under
  GEOPLATFORM_HOME) and, unless ``--no-cli``, the wall time of `geoplatform geocode "…"` in a
  subprocess against a throwaway PostGIS holding the city's admin areas, buildings and
  standard addresses (first call builds and saves the index; later calls load it).
Prints a Markdown section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rapidfuzz import process

from geoplatform.geocode import Gazetteer, Matcher
from geoplatform.geocode.evaluate import (
    STANDARD_ADDRESSES_CRS,
    read_residents,
    read_standard_addresses,
)
from geoplatform.geocode.frames import rows_from_frame


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def throughput(city: Path) -> list[str]:
    standard = read_standard_addresses(city)
    roster = read_residents(city)["address"].dropna().astype(str).tolist()
    distinct = list(dict.fromkeys(roster))
    rows = list(rows_from_frame(standard, crs=STANDARD_ADDRESSES_CRS))
    build = timed(lambda: Gazetteer(rows))
    gazetteer = Gazetteer(rows)
    blob = pickle.dumps(gazetteer, protocol=pickle.HIGHEST_PROTOCOL)
    load = timed(lambda: pickle.loads(blob))

    def roster_pass() -> None:
        Matcher(pickle.loads(blob)).match_many(roster)

    def distinct_pass() -> None:
        Matcher(pickle.loads(blob)).match_many(distinct)

    roster_s = min(timed(roster_pass) for _ in range(2)) - load
    distinct_s = min(timed(distinct_pass) for _ in range(2)) - load
    answers = {a: a for a in distinct}
    dict_s = timed(lambda: [answers.get(a) for a in roster])
    names = gazetteer.compound_choices
    sample = distinct[:5_000]
    fuzzy_s = (
        timed(lambda: [process.extractOne(a, names) for a in sample]) * len(distinct) / len(sample)
    )
    rate = len(roster) / roster_s
    drate = len(distinct) / distinct_s
    return [
        f"Gazetteer: {len(rows):,} standard addresses, {len(names):,} compound names; "
        f"roster {len(roster):,} addresses, {len(distinct):,} distinct.",
        "",
        "| what | addresses/s | ratio |",
        "|---|---:|---:|",
        f"| `match_many`, whole roster (memoised per distinct address) | {rate:,.0f} "
        f"| {rate / 20_000:.2f}× the 20k/s target |",
        f"| `match_many`, distinct addresses only | {drate:,.0f} "
        f"| {drate / 20_000:.2f}× the 20k/s target |",
        f"| ceiling: dict look-up loop over the roster | {len(roster) / dict_s:,.0f} "
        f"| roster pass at {rate / (len(roster) / dict_s):.3f}× |",
        f"| ceiling: rapidfuzz `extractOne` per distinct address | "
        f"{len(distinct) / fuzzy_s:,.0f} "
        f"| distinct pass at {drate / (len(distinct) / fuzzy_s):.1f}× |",
        "",
        f"Gazetteer build {build:.2f} s; its pickle ({len(blob) / 1e6:.1f} MB) loads in "
        f"{load * 1000:.0f} ms.",
    ]


def cli_times(city: Path, home: Path, address: str) -> list[str]:
    from geoplatform.db.cluster import LocalCluster
    from geoplatform.db.engine import create_engine
    from geoplatform.db.migrate import migrate
    from geoplatform.etl.pipeline import load_pipeline
    from geoplatform.etl.runner import RunOptions, run_pipeline
    from geoplatform.settings import Settings

    cluster = LocalCluster(home / "pg", database="bench", ephemeral=True)
    cluster.up()
    try:
        settings = Settings(database_url=cluster.url(), home=home, hmac_key="bench-key-01234567")
        engine = create_engine(settings)
        migrate(engine)
        pipeline = load_pipeline(city / "pipeline.yaml")
        only = ("admin_areas", "buildings", "standard_addresses")
        run_pipeline(engine, pipeline, settings, RunOptions(full=True, only=only))
        engine.dispose()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GEOPLATFORM_")}
        env.update(GEOPLATFORM_DATABASE_URL=cluster.url(), GEOPLATFORM_HOME=str(home))
        command = [sys.executable, "-m", "geoplatform", "geocode", address]
        times = []
        for _ in range(4):
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(done.stderr)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "geoplatform", "--help"],
            env=env,
            capture_output=True,
            check=True,
        )
        bare = time.perf_counter() - start
    finally:
        cluster.destroy()
    warm = sorted(times[1:])[len(times[1:]) // 2]
    return [
        "",
        f'`geoplatform geocode "{address}"`: first call (builds and saves the index) '
        f"{times[0]:.2f} s; later calls (load it) median {warm:.2f} s; "
        f"`geoplatform --help` alone (interpreter + CLI imports) {bare:.2f} s.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--city", type=Path, default=None)
    parser.add_argument("--no-cli", action="store_true")
    parser.add_argument(
        "--peer",
        type=Path,
        default=None,
        help="another checkout (e.g. /work/main): its matcher's throughput on the same city, "
        "measured in the same run, for a ratio",
    )
    parser.add_argument("--throughput-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.throughput_only:
        print("\n".join(throughput(args.city)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-geocode-") as tmp:
        home = Path(tmp)
        city = args.city or home / "city"
        if not (city / "pipeline.yaml").exists():
            from geoplatform.demo import generate_city

            start = time.perf_counter()
            generate_city(city, scale=args.scale, seed=args.seed)
            print(f"generated scale {args.scale} in {time.perf_counter() - start:.1f} s")
        lines = throughput(city)
        if args.peer is not None:
            env = {**os.environ, "PYTHONPATH": str(args.peer)}
            peer = subprocess.run(
                [sys.executable, __file__, "--throughput-only", "--city", str(city)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            lines += ["", f"Peer: the matcher of `{args.peer}`, same city, same run:", ""]
            lines += [line for line in peer.splitlines() if line.startswith("| `match_many`")]
        if not args.no_cli:
            roster = read_residents(city)["address"].dropna().astype(str).tolist()
            lines += cli_times(city, home, roster[0])
    print(f"\n## Geocoder speed (`bench/geocode_speed.py --scale {args.scale}`)\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
