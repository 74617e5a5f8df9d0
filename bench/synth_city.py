"""A BASELINE-like synthetic city loaded with COPY: the tile benchmark's data when the demo city
and its ETL are not available (see bench/RESULTS.md for which one a run used).

640 grid polygons in 83 communities, 20 streets, 3 districts; N buildings (footprints around
clustered centres); M incidents clustered around the same centres, 20 categories, two years of
timestamps; a few thousand organisations and devices. Rows are written in H3 order (spatially
sorted, as a loader that sorts before COPY would) and the tables are ANALYZEd.

    .venv/bin/python bench/synth_city.py URL --buildings 150000 --incidents 1000000
"""

from __future__ import annotations

import argparse
import io
import time
from datetime import UTC, datetime

import numpy as np
import psycopg

from geoplatform.spatial.h3cells import lonlat_to_cells

WEST, EAST, SOUTH, NORTH = 106.70, 106.95, 39.45, 39.80
GRID_COLS, GRID_ROWS = 32, 20  # 640 grids
CATEGORIES = [
    "市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件", "其他事件", "占道经营", "暴露垃圾",
    "私搭乱建", "施工扰民", "道路积水", "噪声扰民", "供暖问题", "供水问题", "物业管理", "交通秩序",
    "环境污染", "公共设施", "邻里纠纷", "安全隐患",
]  # fmt: skip
CHANNELS = ["hotline", "grid_app", "video_ai", "wechat", "website"]
USE_TYPES = ["residential", "commercial", "public", "industrial", "mixed"]
DEVICE_KINDS = ["camera", "iot_sensor", "smoke_detector", "water_level", "air_quality"]


def _grid_layout() -> tuple[np.ndarray, np.ndarray, list[tuple[str, str, str, str]]]:
    """Grid cell -> (district, street, community, grid code); returns cell edges and codes."""
    xs = np.linspace(WEST, EAST, GRID_COLS + 1)
    ys = np.linspace(NORTH, SOUTH, GRID_ROWS + 1)
    codes: list[tuple[str, str, str, str]] = []
    # districts: 3 vertical bands; streets: 20 blocks; communities: 83 blocks of ~8 grids
    for row in range(GRID_ROWS):
        for col in range(GRID_COLS):
            district = 2 + min(col * 3 // GRID_COLS, 2)  # 150302..150304
            street_index = (row // 5) * 5 + (col * 5 // GRID_COLS)  # 0..19
            community_index = min((row // 2) * 8 + (col // 4), 82) + 1  # 1..80ish
            d = f"1503{district:02d}"
            s = f"{d}{street_index + 1:03d}"
            c = f"{s}{community_index:03d}"
            codes.append((d, s, c, ""))
    # sequence numbers inside each community, west->east then north->south
    seq: dict[str, int] = {}
    out = []
    for d, s, c, _ in codes:
        seq[c] = seq.get(c, 0) + 1
        out.append((d, s, c, f"{c}{seq[c]:03d}"))
    return xs, ys, out


def _copy(conn: psycopg.Connection, table: str, columns: list[str], rows: io.StringIO) -> None:
    rows.seek(0)
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        while chunk := rows.read(1 << 20):
            cp.write(chunk)


def load(url: str, buildings: int, incidents: int, seed: int = 1) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    timings: dict[str, float] = {}
    xs, ys, codes = _grid_layout()
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(
            "TRUNCATE incidents, devices, organisations, people, standard_addresses, buildings,"
            " grids, admin_areas CASCADE"
        )
        # admin areas (geometry filled in from the grids below)
        env = f"SRID=4326;MULTIPOLYGON((({WEST} {SOUTH},{EAST} {SOUTH},{EAST} {NORTH},{WEST} {NORTH},{WEST} {SOUTH})))"  # noqa: E501
        areas = {("150300000000", "city", None)}
        for d, s, c, _ in codes:
            areas.add((d + "000000", "district", "150300000000"))
            areas.add((s + "000", "street", d + "000000"))
            areas.add((c, "community", s + "000"))
        names = {"district": "区", "street": "街道", "community": "社区", "city": "市"}
        order = {"city": 0, "district": 1, "street": 2, "community": 3}
        with conn.cursor() as cur:
            for code, level, parent in sorted(areas, key=lambda a: (order[a[1]], a[0])):
                cur.execute(
                    "INSERT INTO admin_areas (code, edition, level, name, parent_code, geom,"
                    " source, source_key) VALUES (%s, 2024, %s, %s, %s, %s::geometry, 'synth', %s)",
                    (code, level, f"乌海{code[-6:]}{names[level]}", parent, env, code),
                )
            rows = []
            for i, (_d, _s, c, g) in enumerate(codes):
                row, col = divmod(i, GRID_COLS)
                x0, x1, y0, y1 = xs[col], xs[col + 1], ys[row + 1], ys[row]
                wkt = (
                    f"SRID=4326;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"
                )
                kind = "special" if i % 37 == 0 else "basic"
                rows.append(
                    (g, f"网格{g[-6:]}", kind, "school" if kind == "special" else None, c, wkt, g)
                )
            cur.executemany(
                "INSERT INTO grids (code, edition, name, kind, special_type, community_code, geom,"
                " source, source_key) VALUES (%s, 2024, %s, %s, %s, %s, %s::geometry, 'synth', %s)",
                rows,
            )
            for level, length in (("community", 12), ("street", 9), ("district", 6)):
                cur.execute(
                    "UPDATE admin_areas a SET geom = u.geom FROM ("
                    " SELECT substr(code, 1, %s) AS prefix,"
                    "  ST_Multi(ST_Union(geom)) AS geom FROM grids GROUP BY 1) u"
                    " WHERE a.level = %s AND substr(a.code, 1, %s) = u.prefix",
                    (length, level, length),
                )
        # clustered centres: a dense core and satellite towns
        centres = np.column_stack(
            [rng.uniform(WEST + 0.02, EAST - 0.02, 60), rng.uniform(SOUTH + 0.02, NORTH - 0.02, 60)]
        )
        centres[:15] = rng.normal([106.80, 39.66], [0.012, 0.010], (15, 2))
        weights = rng.pareto(1.2, 60) + 0.2
        weights[:15] *= 6
        weights /= weights.sum()

        def points(n: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
            which = rng.choice(len(centres), n, p=weights)
            lon = centres[which, 0] + rng.normal(0, spread, n) * 1.3
            lat = centres[which, 1] + rng.normal(0, spread, n)
            lon = np.clip(lon, WEST + 1e-4, EAST - 1e-4)
            lat = np.clip(lat, SOUTH + 1e-4, NORTH - 1e-4)
            return lon, lat

        def grid_of(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
            col = np.clip(((lon - WEST) / (EAST - WEST) * GRID_COLS).astype(int), 0, GRID_COLS - 1)
            row = np.clip(((NORTH - lat) / (NORTH - SOUTH) * GRID_ROWS).astype(int), 0, 19)
            grid_codes = np.array([g for *_, g in codes])
            return grid_codes[row * GRID_COLS + col]

        t = time.perf_counter()
        lon, lat = points(buildings, 0.006)
        cells = lonlat_to_cells(lon, lat, 11)
        order_ = np.argsort(cells, kind="stable")
        lon, lat, cells = lon[order_], lat[order_], cells[order_]
        grid = grid_of(lon, lat)
        half_w = rng.uniform(6, 25, buildings) / 85000.0
        half_h = rng.uniform(6, 20, buildings) / 111000.0
        floors = rng.integers(1, 33, buildings)
        use = rng.integers(0, len(USE_TYPES), buildings)
        buf = io.StringIO()
        for i in range(buildings):
            x, y, w, h = lon[i], lat[i], half_w[i], half_h[i]
            poly = (
                f"SRID=4326;MULTIPOLYGON((({x - w:.7f} {y - h:.7f},{x + w:.7f} {y - h:.7f},"
                f"{x + w:.7f} {y + h:.7f},{x - w:.7f} {y + h:.7f},{x - w:.7f} {y - h:.7f})))"
            )
            buf.write(
                f"{i + 1}\t{i + 1}号楼\t小区{i // 40}\t{i % 40 + 1}\t{USE_TYPES[use[i]]}\t"
                f"{floors[i]}\t{poly}\tSRID=4326;POINT({x:.7f} {y:.7f})\t{grid[i]}\t{cells[i]}"
                f"\tsynth\tb{i + 1}\n"
            )
        conn.execute("ALTER TABLE buildings ALTER COLUMN id RESTART WITH 1")
        _copy(
            conn,
            "buildings",
            [
                "id",
                "name",
                "compound",
                "building_number",
                "use_type",
                "floors",
                "footprint",
                "geom",
                "grid_code",
                "h3_r11",
                "source",
                "source_key",
            ],
            buf,
        )
        timings["buildings_s"] = time.perf_counter() - t

        t = time.perf_counter()
        lon, lat = points(incidents, 0.008)
        cells = lonlat_to_cells(lon, lat, 11)
        order_ = np.argsort(cells, kind="stable")
        lon, lat, cells = lon[order_], lat[order_], cells[order_]
        grid = grid_of(lon, lat)
        start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
        reported = start + rng.uniform(0, 2 * 365 * 86400, incidents)
        cat = rng.zipf(1.6, incidents) % len(CATEGORIES)
        chan = rng.integers(0, len(CHANNELS), incidents)
        closed = rng.random(incidents) < 0.7
        buf = io.StringIO()
        for i in range(incidents):
            rep = datetime.fromtimestamp(reported[i], UTC).isoformat()
            status, closed_at = (
                ("closed", datetime.fromtimestamp(reported[i] + 86400, UTC).isoformat())
                if closed[i]
                else ("handling", "\\N")
            )
            buf.write(
                f"{CHANNELS[chan[i]]}\t{CATEGORIES[cat[i]]}\t{status}\t{rep}\t{closed_at}\t"
                f"SRID=4326;POINT({lon[i]:.7f} {lat[i]:.7f})\t{grid[i]}\t{cells[i]}\tsynth\ti{i}\n"
            )
        _copy(
            conn,
            "incidents",
            [
                "channel",
                "category",
                "status",
                "reported_at",
                "closed_at",
                "geom",
                "grid_code",
                "h3_r11",
                "source",
                "source_key",
            ],
            buf,
        )
        timings["incidents_s"] = time.perf_counter() - t

        for table, n, extra in (("organisations", 5000, "name"), ("devices", 3000, "kind")):
            lon, lat = points(n, 0.006)
            cells = lonlat_to_cells(lon, lat, 11)
            grid = grid_of(lon, lat)
            buf = io.StringIO()
            for i in range(n):
                value = f"单位{i}" if extra == "name" else DEVICE_KINDS[i % len(DEVICE_KINDS)]
                buf.write(
                    f"{value}\tSRID=4326;POINT({lon[i]:.7f} {lat[i]:.7f})\t{grid[i]}\t{cells[i]}"
                    f"\tsynth\t{table[0]}{i}\n"
                )
            _copy(conn, table, [extra, "geom", "grid_code", "h3_r11", "source", "source_key"], buf)
        conn.execute(
            "INSERT INTO meta.layer_versions (layer, version) SELECT l, 1 FROM unnest(ARRAY["
            "'admin_areas','grids','buildings','incidents','organisations','devices','people'"
            "]) l ON CONFLICT (layer) DO UPDATE SET version = meta.layer_versions.version + 1"
        )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--buildings", type=int, default=150_000)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(load(args.url, args.buildings, args.incidents, args.seed))


if __name__ == "__main__":
    main()
