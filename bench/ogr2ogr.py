"""Copy a city's incidents out of the features API into a GeoPackage, as a GIS user would.

Debian's GDAL 3.6 `ogr2ogr` with default options (it asks `limit=10` and follows `next` links),
the same with `-oo PAGE_SIZE=10000` (what the issue timed), and the newer GDAL inside the pyogrio
wheel (OAPIF read, GPKG write). One server (`geoplatform serve`, one worker) on the given
database; each copy's rows are checked against the table's count.

    .venv/bin/python bench/synth_city.py URL --buildings 5000 --incidents 60000
    .venv/bin/python bench/ogr2ogr.py --url URL
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from serving import free_port, server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
BIN = Path(sys.executable).parent

WHEEL = """
import sys, pyogrio
frame = pyogrio.read_dataframe(f"OAPIF:{sys.argv[1]}/", layer="incidents")
pyogrio.write_dataframe(frame, sys.argv[2], layer="incidents", driver="GPKG")
print(len(frame))
"""


def copied_rows(path: Path) -> int:
    argv = ["ogrinfo", "-ro", "-so", str(path), "incidents"]
    info = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return int(info.split("Feature Count: ")[1].split()[0])


def timed(argv: list[str], out: Path) -> dict[str, float | int]:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=900)
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "rows": copied_rows(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    with psycopg.connect(args.url) as conn:
        total = int(conn.execute("SELECT count(*) FROM incidents").fetchone()[0])  # type: ignore[index]
    OUT.mkdir(exist_ok=True)
    env = {
        "GEOPLATFORM_DATABASE_URL": args.url,
        "GEOPLATFORM_LAYERS_FILE": str(ROOT / "tiles/layers.yaml"),
    }
    port = free_port()
    results: dict[str, object] = {"incidents": total}
    with server(
        [str(BIN / "geoplatform"), "serve", "--port", str(port)],
        env, port, "/readyz", OUT / f"server-{port}.log",
    ) as base, tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        t = Path(tmp)
        results["gdal36_default"] = timed(
            ["ogr2ogr", "-f", "GPKG", str(t / "a.gpkg"), f"OAPIF:{base}/", "incidents"],
            t / "a.gpkg",
        )
        results["gdal36_page_size_10000"] = timed(
            ["ogr2ogr", "-f", "GPKG", str(t / "b.gpkg"), f"OAPIF:{base}/", "incidents",
             "-oo", "PAGE_SIZE=10000"],
            t / "b.gpkg",
        )  # fmt: skip
        results["wheel_gdal_default"] = timed(
            [sys.executable, "-c", WHEEL, base, str(t / "c.gpkg")], t / "c.gpkg"
        )
    for key in ("gdal36_default", "gdal36_page_size_10000", "wheel_gdal_default"):
        entry = results[key]
        if not isinstance(entry, dict) or entry["rows"] != total:
            raise SystemExit(f"{key}: copied {entry} of {total} rows")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
