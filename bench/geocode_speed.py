"""Geocoder speed: roster throughput against same-run ceilings, and the CLI's answer time.

    .venv/bin/python bench/geocode_speed.py --scale 0.2 [--seed 3] [--city DIR] [--no-cli]

Generates a demo city (or reuses ``--city``) and reports, on one core (CPU time of the
measuring process, since the machine is shared):
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
import json
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
    """CPU seconds of this process for ``fn()``: the matcher is single-threaded, and the
    machine is shared, so CPU time is the one-core figure; wall time would count the others."""
    start = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - start


def measure(city: Path) -> dict[str, float]:
    """One process's figures on ``city`` (run in a subprocess per side, see `main`)."""
    standard = read_standard_addresses(city)
    roster = read_residents(city)["address"].dropna().astype(str).tolist()
    distinct = list(dict.fromkeys(roster))
    rows = list(rows_from_frame(standard, crs=STANDARD_ADDRESSES_CRS))
    build = timed(lambda: Gazetteer(rows))
    gazetteer = Gazetteer(rows)
    blob = pickle.dumps(gazetteer, protocol=pickle.HIGHEST_PROTOCOL)
    load = timed(lambda: pickle.loads(blob))
    # one-off costs (pypinyin's dictionary, OpenCC's tables) paid once per process, as in the
    # ETL: measured apart, so the passes below are steady state
    warmup = timed(lambda: Matcher(pickle.loads(blob)).match_many(roster[-2_000:]))
    roster_s = timed(lambda: Matcher(pickle.loads(blob)).match_many(roster)) - load
    distinct_s = timed(lambda: Matcher(pickle.loads(blob)).match_many(distinct)) - load
    answers = {a: a for a in distinct}
    dict_s = timed(lambda: [answers.get(a) for a in roster])
    names = gazetteer.compound_choices
    sample = distinct[:5_000]
    fuzzy_s = timed(lambda: [process.extractOne(a, names) for a in sample])
    return {
        "rows": len(rows),
        "names": len(names),
        "roster": len(roster),
        "distinct": len(distinct),
        "roster_rate": len(roster) / roster_s,
        "distinct_rate": len(distinct) / distinct_s,
        "dict_rate": len(roster) / dict_s,
        "fuzzy_rate": len(sample) / fuzzy_s,
        "build_s": build,
        "load_s": load,
        "pickle_mb": len(blob) / 1e6,
        "warmup_s": warmup,
    }


def _run_side(city: Path, checkout: Path | None) -> dict[str, float]:
    env = dict(os.environ)
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    done = subprocess.run(
        [sys.executable, __file__, "--measure-json", "--city", str(city)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def throughput(city: Path, peer: Path | None, repeat: int) -> list[str]:
    """Best of ``repeat`` alternating runs of this checkout's matcher (and the peer's)."""
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for _ in range(repeat):
        ours.append(_run_side(city, None))
        if peer is not None:
            theirs.append(_run_side(city, peer))
    best = max(ours, key=lambda f: f["roster_rate"])
    lines = [
        f"Gazetteer: {best['rows']:,.0f} standard addresses, {best['names']:,.0f} compound "
        f"names; roster {best['roster']:,.0f} addresses, {best['distinct']:,.0f} distinct. "
        f"Best of {repeat} alternating runs, one process each, one core, CPU time.",
        "",
        "| what | addresses/s | ratio |",
        "|---|---:|---:|",
    ]

    def row(label: str, figures: dict[str, float]) -> list[str]:
        rate, drate = figures["roster_rate"], figures["distinct_rate"]
        return [
            f"| {label}: `match_many`, whole roster | {rate:,.0f} "
            f"| {rate / 20_000:.2f}× the 20k/s target |",
            f"| {label}: `match_many`, distinct addresses only | {drate:,.0f} "
            f"| {drate / 20_000:.2f}× the 20k/s target |",
        ]

    lines += row("this matcher", best)
    if theirs:
        peer_best = max(theirs, key=lambda f: f["roster_rate"])
        lines += row(f"peer `{peer}`", peer_best)
        lines.append(
            f"| ratio this / peer (roster, distinct) | | "
            f"{best['roster_rate'] / peer_best['roster_rate']:.2f}×, "
            f"{best['distinct_rate'] / peer_best['distinct_rate']:.2f}× |"
        )
    lines += [
        f"| ceiling: dict look-up loop over the roster | {best['dict_rate']:,.0f} "
        f"| roster pass at {best['roster_rate'] / best['dict_rate']:.4f}× |",
        f"| ceiling: rapidfuzz `extractOne` against the compound names | "
        f"{best['fuzzy_rate']:,.0f} | distinct pass at "
        f"{best['distinct_rate'] / best['fuzzy_rate']:.1f}× |",
        "",
        f"Gazetteer build {best['build_s']:.2f} s; its pickle ({best['pickle_mb']:.1f} MB) "
        f"loads in {best['load_s'] * 1000:.0f} ms; the process's first 2,000 addresses (one-off "
        f"imports and tables) took {best['warmup_s']:.2f} s.",
    ]
    return lines


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
        help="another checkout (e.g. /work/main): its matcher on the same city, alternating "
        "with this one, for a ratio measured in the same run",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_json:
        print(json.dumps(measure(args.city)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-geocode-") as tmp:
        home = Path(tmp)
        city = args.city or home / "city"
        if not (city / "pipeline.yaml").exists():
            from geoplatform.demo import generate_city

            start = time.perf_counter()
            generate_city(city, scale=args.scale, seed=args.seed)
            print(f"generated scale {args.scale} in {time.perf_counter() - start:.1f} s")
        lines = throughput(city, args.peer, args.repeat)
        if not args.no_cli:
            roster = read_residents(city)["address"].dropna().astype(str).tolist()
            lines += cli_times(city, home, roster[len(roster) // 2])
    print(f"\n## Geocoder speed (`bench/geocode_speed.py --scale {args.scale}`)\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
