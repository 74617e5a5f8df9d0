"""Benchmark the ETL's spatial primitives against their ceilings, measured in the same run.

    .venv/bin/python bench/etl_primitives.py [--points 1000000] [--polygons 640] [--repeat 3]

Synthetic Wuhai-sized data (lon 106.6-107.2, lat 39.2-39.9): Voronoi grid polygons tiling the
area and clustered points. Each primitive is reported in points/s and as a ratio to its
reference: geopandas `sjoin` for assignment, h3-py over a numpy array for H3, pyproj
4326→3857 for coordinate transforms. Best of `--repeat` runs; everything on one core.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import shapely
from h3ronpy import vector as h3v  # type: ignore[import-untyped]
from numpy.typing import NDArray

from geoplatform.spatial.assign import PolygonIndex, distance_to_edges
from geoplatform.spatial.chinese_offsets import wgs84_to_gcj02
from geoplatform.spatial.crs import to_wgs84, transformer
from geoplatform.spatial.h3cells import lonlat_to_cells, parent_cells

BOX = (106.6, 39.2, 107.2, 39.9)


@dataclass
class Row:
    primitive: str
    implementation: str
    seconds: float
    n: int
    reference: bool = False

    @property
    def rate(self) -> float:
        return self.n / self.seconds


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def make_city(
    n_points: int, n_polygons: int, seed: int
) -> tuple[NDArray[np.object_], NDArray[np.object_], NDArray[np.float64], NDArray[np.float64]]:
    """Voronoi grids tiling the box, denser downtown; points in 60 gaussian clusters + 10% noise."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = BOX
    frame = shapely.box(*BOX)
    downtown = rng.normal([106.82, 39.67], [0.06, 0.08], size=(n_polygons // 2, 2))
    rural = np.c_[rng.uniform(x0, x1, n_polygons), rng.uniform(y0, y1, n_polygons)]
    seeds = np.r_[downtown, rural][:n_polygons]
    seeds = seeds[(seeds[:, 0] > x0) & (seeds[:, 0] < x1) & (seeds[:, 1] > y0) & (seeds[:, 1] < y1)]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame))
    polygons = shapely.intersection(cells, frame)
    codes = np.array([f"150302001{i:06d}" for i in range(len(polygons))], dtype=object)

    centres = np.c_[rng.normal(106.83, 0.12, 60), rng.normal(39.6, 0.15, 60)]
    k = rng.integers(0, len(centres), n_points)
    lon = centres[k, 0] + rng.normal(0, 0.015, n_points)
    lat = centres[k, 1] + rng.normal(0, 0.015, n_points)
    noise = rng.random(n_points) < 0.1
    lon[noise] = rng.uniform(x0, x1, noise.sum())
    lat[noise] = rng.uniform(y0, y1, noise.sum())
    return polygons, codes, np.clip(lon, x0, x1), np.clip(lat, y0, y1)


def bench_assign(
    rows: list[Row],
    polygons: NDArray[np.object_],
    codes: NDArray[np.object_],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    repeat: int,
) -> None:
    n = len(lon)
    grid = gpd.GeoDataFrame({"code": codes}, geometry=polygons, crs=4326)

    def sjoin() -> NDArray[np.object_]:
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
        joined = gpd.sjoin(pts, grid, how="left", predicate="intersects")
        joined = joined[~joined.index.duplicated()]
        return np.asarray(joined["code"].astype(object))

    t, want = best_of(repeat, sjoin)
    rows.append(Row("assign", "geopandas sjoin (ceiling)", t, n, reference=True))

    tree = shapely.STRtree(polygons)
    t, _ = best_of(repeat, lambda: tree.query(shapely.points(lon, lat), predicate="intersects"))
    rows.append(Row("assign", "shapely STRtree bulk query (pairs only)", t, n))

    t_build, index = best_of(repeat, lambda: PolygonIndex(polygons, codes))
    t, got = best_of(repeat, lambda: index.assign(lon, lat))
    rows.append(Row("assign", "PolygonIndex.assign (built once)", t, n))
    rows.append(Row("assign", "assign incl. index build", t + t_build, n))

    far = distance_to_edges(lon[:100_000], lat[:100_000], polygons) > 1.0
    agree = np.array_equal(got[:100_000][far], want[:100_000][far])
    rows_shape = index.lookup_shape
    print(
        f"assign: {len(polygons)} polygons, lookup grid {rows_shape[0]}x{rows_shape[1]}, "
        f"build {t_build * 1000:.0f} ms, equal to sjoin away from edges: {agree}"
    )


def bench_h3(
    rows: list[Row], lon: NDArray[np.float64], lat: NDArray[np.float64], repeat: int
) -> None:
    n = len(lon)
    to_cell = h3.api.basic_int.latlng_to_cell

    def loop() -> NDArray[np.int64]:
        return np.fromiter(
            (to_cell(a, b, 11) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)),
            dtype=np.int64,
            count=n,
        )

    t, want = best_of(repeat, loop)
    rows.append(Row("h3 res 11", "h3-py int API over numpy (ceiling)", t, n, reference=True))
    t, _ = best_of(repeat, lambda: h3v.coordinates_to_cells(lat, lon, 11))
    rows.append(Row("h3 res 11", "h3ronpy raw call", t, n))
    t, got = best_of(repeat, lambda: lonlat_to_cells(lon, lat, 11))
    rows.append(Row("h3 res 11", "lonlat_to_cells", t, n))
    assert np.array_equal(got, want), "lonlat_to_cells differs from h3-py"

    to_parent = h3.api.basic_int.cell_to_parent
    t, want_p = best_of(repeat, lambda: np.array([to_parent(c, 9) for c in got.tolist()]))
    rows.append(Row("h3 parent 11→9", "h3-py cell_to_parent loop (ceiling)", t, n, reference=True))
    t, got_p = best_of(repeat, lambda: parent_cells(got, 9))
    rows.append(Row("h3 parent 11→9", "parent_cells (bit formula)", t, n))
    assert np.array_equal(got_p, want_p), "parent_cells differs from h3-py"


def bench_crs(
    rows: list[Row], lon: NDArray[np.float64], lat: NDArray[np.float64], repeat: int
) -> None:
    n = len(lon)
    mercator = transformer(4326, 3857)
    t, _ = best_of(repeat, lambda: mercator.transform(lon, lat))
    rows.append(Row("to_wgs84", "pyproj 4326→3857 (ceiling)", t, n, reference=True))
    e, north = transformer(4326, 4545).transform(lon, lat)
    t, _ = best_of(repeat, lambda: to_wgs84(e, north, "EPSG:4545"))
    rows.append(Row("to_wgs84", "EPSG:4545 (GK zone 36)", t, n))
    gx, gy = wgs84_to_gcj02(lon, lat)
    t, (back_lon, back_lat) = best_of(repeat, lambda: to_wgs84(gx, gy, "gcj02"))
    rows.append(Row("to_wgs84", "gcj02 (iterative inverse)", t, n))
    err = np.hypot((back_lon - lon) * 85_000, (back_lat - lat) * 111_000).max()
    print(f"gcj02 forward then to_wgs84: max error ≈ {err:.2g} m")


def print_table(rows: list[Row]) -> None:
    print()
    print(f"{'primitive':<16} {'implementation':<42} {'points/s':>12} {'ratio':>7}")
    print("-" * 80)
    ref: dict[str, float] = {}
    for row in rows:
        if row.reference:
            ref[row.primitive] = row.rate
        ratio = row.rate / ref[row.primitive] if row.primitive in ref else float("nan")
        print(f"{row.primitive:<16} {row.implementation:<42} {row.rate:>12,.0f} {ratio:>6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--polygons", type=int, default=640)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    polygons, codes, lon, lat = make_city(args.points, args.polygons, args.seed)
    print(f"{len(lon):,} points, {len(polygons)} polygons, best of {args.repeat}")
    rows: list[Row] = []
    bench_assign(rows, polygons, codes, lon, lat, args.repeat)
    bench_h3(rows, lon, lat, args.repeat)
    bench_crs(rows, lon, lat, args.repeat)
    print_table(rows)


if __name__ == "__main__":
    main()
