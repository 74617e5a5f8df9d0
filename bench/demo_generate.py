"""Time the demo-city generator at a given scale and report its peak memory.

Usage: python bench/demo_generate.py [--preset wuhai|jiaxing] [--scale 1] [--seed 1] [--out DIR]
Prints seconds per stage, total seconds, peak RSS (MiB) and the main counts as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from geoplatform.demo import generate_city


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--preset", default="wuhai")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="demo-city-"))
    stage_started: dict[str, float] = {}
    stage_seconds: dict[str, float] = {}
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        stage_started.setdefault(stage, now)
        if done >= total:
            stage_seconds[stage] = round(now - stage_started[stage], 2)

    report = generate_city(
        out, scale=args.scale, seed=args.seed, preset=args.preset, progress=progress
    )
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mib = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    print(
        json.dumps(
            {
                "preset": args.preset,
                "scale": args.scale,
                "seconds": round(seconds, 1),
                "peak_rss_mib": round(peak_mib),
                "output_mib": round(size_mib),
                "stages": stage_seconds,
                "out": str(out),
            },
            ensure_ascii=False,
        )
    )
    print(json.dumps(report.counts, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
