"""What /stats, /analytics/hotspots and /analytics/warnings read: fixed SQL, then the library.

Each function takes an open async connection (rio-tiler's split: the route opens it) and returns
frames or JSON-ready structures; the statistics themselves are `geoplatform.analytics`'s.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any, Final

import numpy as np
import pandas as pd
import shapely
from psycopg import AsyncConnection

from geoplatform.analytics.cube import CubeIndex
from geoplatform.analytics.hexagons import cells_covering, spread_to_parents
from geoplatform.analytics.hotspots import HotspotResult, expected_from_exposure, hotspots
from geoplatform.analytics.stats import ADMIN_CODE_LENGTHS
from geoplatform.errors import NotFound
from geoplatform.tiles.heatmaps import CubeIndexes, HeatmapQuery
from geoplatform.tiles.indexes import CpuWork
from geoplatform.tiles.mvt import query

__all__ = [
    "grid_stats_mvt",
    "hotspot_cells",
    "hotspot_geojson",
    "list_warnings",
    "stats_csv",
    "stats_records",
    "unit_bounds",
]

LEVELS: Final = tuple(ADMIN_CODE_LENGTHS)


async def _frame(conn: AsyncConnection[Any], name: str, params: dict[str, Any]) -> pd.DataFrame:
    cur = await conn.execute(query(name), params)
    rows = await cur.fetchall()
    columns = [d.name for d in cur.description or ()]
    return pd.DataFrame(rows, columns=columns)


async def grid_stats_mvt(
    conn: AsyncConnection[Any], stats: pd.DataFrame, level: str, z: int, x: int, y: int
) -> bytes:
    """The grid_stats MVT layer of tile z/x/y: the units of `level` with their statistics."""

    def column(name: str) -> list[Any]:
        values = stats[name].astype(object)
        return values.where(pd.notna(values), None).tolist()

    params = {
        "level": level,
        "z": z,
        "x": x,
        "y": y,
        "codes": [str(c) for c in stats.index],
        **{
            name: column(name)
            for name in ("incidents", "residents", "per_10k", "closure_rate", "on_time_rate",
                         "overdue_now")
        },
    }  # fmt: skip
    cur = await conn.execute(query("grid_stats_mvt"), params)
    row = await cur.fetchone()
    return bytes(row[0]) if row and row[0] else b""


def stats_records(stats: pd.DataFrame) -> list[dict[str, Any]]:
    out = stats.reset_index().astype(object)
    out = out.where(pd.notna(out), None)
    return [{str(k): v for k, v in row.items()} for row in out.to_dict(orient="records")]


def stats_csv(stats: pd.DataFrame) -> str:
    buffer = io.StringIO()
    stats.to_csv(buffer)
    return buffer.getvalue()


async def unit_bounds(conn: AsyncConnection[Any], code: str) -> tuple[float, float, float, float]:
    """Lon/lat bounds of an admin area or grid code."""
    cur = await conn.execute(query("unit_geometry"), {"code": code})
    row = await cur.fetchone()
    if row is None or row[0] is None:
        raise NotFound(f"area: no admin area or grid with code {code!r}")
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


async def hotspot_cells(
    conn: AsyncConnection[Any],
    indexes: CubeIndexes,
    index: CubeIndex,
    res: int,
    hq: HeatmapQuery,
    alpha: float,
    cpu: CpuWork,
) -> dict[str, Any]:
    """Gi* against the exposure in h3_layer_cube (residents, buildings, organisations, devices
    by category, each res-11 count spread over its ring: `spread_to_parents`) over the city's
    cells (centres inside the union of its grids), FDR at alpha.

    Raw Gi* flags every dense core of the demo city; against exposure, only the excess.
    """
    cur = await conn.execute(query("study_outline"))
    row = await cur.fetchone()
    if row is None or row[0] is None:
        raise NotFound("no grids loaded: the study area is empty")
    outline = bytes(row[0])
    exposure_rows = await _frame(conn, "layer_exposure", {})
    if exposure_rows.empty:
        raise NotFound("no exposure layers loaded (residents, buildings, ...): cannot test")

    def compute() -> dict[str, Any]:  # CPU only: runs in a worker thread, off the loop
        area = cells_covering(shapely.from_wkb(outline), res)
        observed = indexes.city_cells(index, res)
        cells = np.union1d(area, observed)
        counts = pd.Series(hq.counts(index, cells), index=pd.Index(cells, name="cell"))
        columns = {}
        for name, group in exposure_rows.groupby("name"):
            parents, amounts = spread_to_parents(group["cell"], group["n"], res, k=1)
            columns[str(name)] = pd.Series(amounts, index=parents)
        exposure = pd.DataFrame(columns).fillna(0.0)
        expected = expected_from_exposure(counts, exposure, study_area=cells)
        return hotspot_geojson(hotspots(counts, study_area=cells, expected=expected, alpha=alpha))

    return await cpu.run(compute)


def hotspot_geojson(result: HotspotResult) -> dict[str, Any]:
    frame = result.to_geodataframe(significant_only=True)
    frame["cell"] = [f"{int(c):x}" for c in frame["cell"]]
    collection: dict[str, Any] = json.loads(frame.to_json(drop_id=True))
    collection["resolution"] = result.resolution
    collection["alpha"] = result.alpha
    collection["p_threshold"] = result.p_threshold
    collection["dispersion"] = result.dispersion
    return collection


async def list_warnings(
    conn: AsyncConnection[Any], as_of: dt.date | None, level: str | None, limit: int
) -> dict[str, Any]:
    """Warnings of the latest scan (or of `as_of`) as GeoJSON, strongest first."""
    cur = await conn.execute(
        query("warnings_list"), {"as_of": as_of, "level": level, "limit": limit}
    )
    rows = await cur.fetchall()
    names = [d.name for d in cur.description or ()]
    features = []
    for row in rows:
        record = dict(zip(names, row, strict=True))
        geometry = record.pop("geometry")
        for key, value in record.items():
            if isinstance(value, dt.date):
                record[key] = value.isoformat()
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(geometry) if geometry else None,
                "properties": record,
            }
        )
    return {"type": "FeatureCollection", "features": features}
