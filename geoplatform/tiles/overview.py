"""In-process point index of the dense point layers: H3 clusters for any tile in milliseconds.

Below a layer's detail zoom a tile shows one point per H3 parent cell with the count of its rows,
so nothing is cut. Counting in SQL reads every row under the tile (a z10 incident tile holds up
to ~490k points: ~1-3 s in PostGIS however it is indexed), and H3 counts pre-aggregated per cell
cannot answer an arbitrary time window and category set. So each clustered layer keeps its points
in memory as columns sorted by H3 cell (~60 bytes a row: 60 MB for 1M incidents), loaded with one
binary COPY keyed by the layer's data version and reloaded when the ETL bumps it. In H3 order
the parent cells of any subset are already sorted, so clustering a tile is a mask and a
`reduceat`, no sort. The clusters are then encoded by PostGIS (ST_AsMVT) like every other tile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from geoplatform.access.principal import Principal
from geoplatform.spatial.chinese_offsets import wgs84_to_gcj02
from geoplatform.spatial.h3cells import lonlat_to_cells, parent_cells
from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.copyio import copy_columns
from geoplatform.tiles.indexes import VersionedIndex, index_connection
from geoplatform.tiles.tms import OutputCrs, TileBox

F8 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int64]
_MERC = 20037508.342789244
# Rows are also grouped by their tile at these zooms (8 bytes a row each): a tile at z >= 10
# scans only the rows of its ancestor at the deepest bucket zoom, not the whole layer.
BUCKET_ZOOMS = (10, 13)


def mercator(lon: F8, lat: F8) -> tuple[F8, F8]:
    """EPSG:4326 → EPSG:3857 (spherical), vectorised."""
    x = lon * (_MERC / 180.0)
    y = np.log(np.tan((90.0 + np.clip(lat, -85.06, 85.06)) * (np.pi / 360.0))) * (_MERC / np.pi)
    return x, y


@dataclass(frozen=True)
class Clusters:
    """Clusters of one tile: position in the tile CRS, row count, H3 cell."""

    x: F8
    y: F8
    count: npt.NDArray[np.int64]
    cell: I8

    def __len__(self) -> int:
        return int(self.count.size)


@dataclass
class PointIndex:
    """One layer's points as columns in H3 order, at one data version."""

    layer: str
    version: int
    lon: F8
    lat: F8
    cell: I8
    t: F8  # epoch seconds, NaN when the row has no time
    cat: npt.NDArray[np.int32]  # 1-based index into categories, 0 when none
    categories: tuple[str, ...]
    _planes: dict[tuple[int, OutputCrs], tuple[F8, F8]] = field(default_factory=dict)
    _buckets: dict[int, tuple[npt.NDArray[np.intp], dict[int, tuple[int, int]]]] = field(
        default_factory=dict
    )

    def __len__(self) -> int:
        return int(self.cell.size)

    def plane(self, srid: int, crs: OutputCrs) -> tuple[F8, F8]:
        """Coordinates in a tile plane (3857 or 4326) and output CRS, computed once each."""
        key = (srid, crs)
        if key not in self._planes:
            lon, lat = (
                (self.lon, self.lat) if crs == "wgs84" else wgs84_to_gcj02(self.lon, self.lat)
            )
            self._planes[key] = mercator(lon, lat) if srid == 3857 else (lon, lat)
        return self._planes[key]

    def select(
        self,
        box: TileBox,
        crs: OutputCrs,
        *,
        start: float | None,
        end: float | None,
        categories: tuple[str, ...],
        margin: float = 0.0,
    ) -> npt.NDArray[np.intp]:
        """Row positions (in H3 order) inside the tile, half-open so each row is in one tile."""
        x, y = self.plane(box.srid, crs)
        x0, y0, x1, y1 = box.bounds
        dx = (x1 - x0) * margin
        dy = (y1 - y0) * margin
        level = max((b for b in BUCKET_ZOOMS if b <= box.z), default=None)
        if box.srid == 3857 and crs == "wgs84" and level is not None and margin == 0:
            # only the rows of the tile's ancestor at a bucket zoom, still in H3 order
            shift = box.z - level
            candidates = self.bucket(level, box.x >> shift, box.y >> shift)
            cx, cy = x[candidates], y[candidates]
            idx = candidates[(cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)]
        else:
            mask = (x >= x0 - dx) & (x < x1 + dx) & (y >= y0 - dy) & (y < y1 + dy)
            idx = np.flatnonzero(mask)
        if start is not None or end is not None:
            t = self.t[idx]
            keep = ~np.isnan(t)
            if start is not None:
                keep &= t >= start
            if end is not None:
                keep &= t <= end
            idx = idx[keep]
        if categories:
            codes = [self.categories.index(c) + 1 for c in categories if c in self.categories]
            idx = idx[np.isin(self.cat[idx], np.asarray(codes, dtype=np.int32))]
        return idx

    def bucket(self, level: int, bx: int, by: int) -> npt.NDArray[np.intp]:
        """Row positions (H3 order) under Web Mercator tile level/bx/by."""
        if level not in self._buckets:
            x, y = self.plane(3857, "wgs84")
            n = 1 << level
            tx = np.clip(((x + _MERC) / (2 * _MERC) * n).astype(np.int64), 0, n - 1)
            ty = np.clip(((_MERC - y) / (2 * _MERC) * n).astype(np.int64), 0, n - 1)
            key = tx * n + ty
            order = np.argsort(key, kind="stable")  # stable: H3 order kept inside a bucket
            keys, starts = np.unique(key[order], return_index=True)
            ends = np.append(starts[1:], order.size) if starts.size else starts  # 0 rows
            spans = {int(k): (int(a), int(b)) for k, a, b in zip(keys, starts, ends, strict=True)}
            self._buckets[level] = (order, spans)
        order, spans = self._buckets[level]
        start, end = spans.get(bx * (1 << level) + by, (0, 0))
        return order[start:end]

    def clusters(
        self, idx: npt.NDArray[np.intp], box: TileBox, crs: OutputCrs, res: int
    ) -> Clusters:
        """Group the selected rows by H3 parent at `res`: mean position and count per cell."""
        if idx.size == 0:
            empty = np.zeros(0)
            return Clusters(empty, empty, np.zeros(0, np.int64), np.zeros(0, np.int64))
        x, y = self.plane(box.srid, crs)
        parents = _parents(self.cell[idx], res)
        starts = np.concatenate(([0], np.flatnonzero(np.diff(parents)) + 1))
        counts = np.diff(np.append(starts, idx.size)).astype(np.int64)
        mx = np.add.reduceat(x[idx], starts) / counts
        my = np.add.reduceat(y[idx], starts) / counts
        return Clusters(mx, my, counts, parents[starts])


_RES_MASK = np.int64(15 << 52)


def _parents(cells: I8, res: int) -> I8:
    """H3 parents by the bit layout; the cells are valid res-11 cells (checked at load)."""
    finer = np.int64((1 << (3 * (15 - res))) - 1)
    return (cells & ~_RES_MASK) | np.int64(res << 52) | finer


def _load_sql(layer: Layer, categories_param: bool) -> sql.Composed:
    cfg = layer.config
    point = sql.Identifier(layer.point_column)
    time_expr: sql.Composable = (
        sql.SQL("coalesce(extract(epoch FROM {})::float8, 'NaN'::float8)").format(
            sql.Identifier(cfg.time)
        )
        if cfg.time
        else sql.SQL("'NaN'::float8")
    )
    cat_expr: sql.Composable = (
        sql.SQL("coalesce(array_position(%(categories)s::text[], {}::text), 0)::int4").format(
            sql.Identifier(cfg.category)
        )
        if cfg.category and categories_param
        else sql.SQL("0::int4")
    )
    return sql.SQL(
        "SELECT ST_X({p})::float8 AS lon, ST_Y({p})::float8 AS lat,"
        " coalesce(h3_r11, 0)::int8 AS cell, {t} AS t, {c} AS cat"
        " FROM {tbl} WHERE {p} IS NOT NULL{where}"
    ).format(
        p=point,
        t=time_expr,
        c=cat_expr,
        tbl=sql.Identifier(layer.schema, layer.table),
        where=where_fragment(layer, "and"),
    )


def where_fragment(layer: Layer, lead: str) -> sql.Composable:
    """The layer's fixed `where:` equalities as SQL, with values as literals from the catalog."""
    if not layer.config.where:
        return sql.SQL("")
    parts = [
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v))
        for k, v in layer.config.where.items()
    ]
    return sql.SQL(f" {lead.upper()} ") + sql.SQL(" AND ").join(parts)


async def load_index(conn: AsyncConnection[Any], layer: Layer, version: int) -> PointIndex:
    """Read a layer's points with one binary COPY and build its index (parsing off the loop)."""
    categories: tuple[str, ...] = ()
    if layer.config.category:
        query = sql.SQL(
            "SELECT DISTINCT {c}::text FROM {t} WHERE {c} IS NOT NULL ORDER BY 1"
        ).format(
            c=sql.Identifier(layer.config.category), t=sql.Identifier(layer.schema, layer.table)
        )
        categories = tuple(str(r[0]) for r in await (await conn.execute(query)).fetchall())
    params = {"categories": list(categories)} if categories else None
    columns = await copy_columns(
        conn,
        _load_sql(layer, bool(categories)),
        [("lon", "float8"), ("lat", "float8"), ("cell", "int8"), ("t", "float8"), ("cat", "int4")],
        params,
    )
    return await asyncio.to_thread(_build, layer.name, version, columns, categories)


def _build(
    name: str, version: int, rows: dict[str, npt.NDArray[Any]], categories: tuple[str, ...]
) -> PointIndex:
    lon = rows["lon"].astype(np.float64)
    lat = rows["lat"].astype(np.float64)
    cell = rows["cell"].astype(np.int64).copy()
    missing = cell == 0
    if missing.any():
        cell[missing] = lonlat_to_cells(lon[missing], lat[missing], 11)
    parent_cells(cell, 11)  # raises InvalidH3 unless every cell is a valid cell of res >= 11
    order = np.argsort(cell, kind="stable")
    index = PointIndex(
        layer=name,
        version=version,
        lon=lon[order],
        lat=lat[order],
        cell=cell[order],
        t=rows["t"].astype(np.float64)[order],
        cat=rows["cat"].astype(np.int32)[order],
        categories=categories,
    )
    index.plane(3857, "wgs84")  # what the first tile of any zoom needs, derived here, off the loop
    for level in BUCKET_ZOOMS:
        index.bucket(level, 0, 0)
    return index


class OverviewIndexes:
    """The point indexes of the clustered layers: one `VersionedIndex` per layer, keyed by the
    layer's data version, preloaded at start and on each change (`ServerContext.preload`).

    A tile is always computed from the version the request read: a request for a version still
    loading waits for that one load, never for a second.
    """

    def __init__(self, pool: AsyncConnectionPool[Any], layers: list[Layer]) -> None:
        self._pool = pool
        self.holders: dict[str, VersionedIndex[PointIndex]] = {}
        self._owned: dict[str, VersionedIndex[PointIndex]] = {}  # per-caller (people layers)
        for layer in layers:
            if layer.config.overview == "clusters":
                self.holders[layer.name] = self._holder(layer)

    def _holder(self, layer: Layer, pool: Any = None) -> VersionedIndex[PointIndex]:
        source = pool if pool is not None else self._pool

        async def load(version: Hashable) -> PointIndex:
            async with index_connection(source) as conn:
                return await load_index(conn, layer, int(version))  # type: ignore[call-overload]

        key = layer.version_key
        return VersionedIndex(f"clusters:{layer.name}", lambda v: v.get(key, 0), load)

    def version_of(self, name: str) -> int:
        """The data version of the index held for a layer (-1 when none is loaded)."""
        holder = self.holders.get(name)
        key = holder.key if holder is not None else None
        return int(key) if isinstance(key, int) else -1

    async def get(
        self, layer: Layer, version: int, pool: Any = None, owner: str = ""
    ) -> PointIndex:
        """The layer's index at `version`; `pool`/`owner`: another reader's (its own rows,
        held apart from the shared holders, so a start or a commit never preloads them)."""
        if owner:
            name = f"{layer.name}@{owner}"
            holder = self._owned.get(name)
            if holder is None:
                if len(self._owned) > 1000:
                    self._owned.clear()
                holder = self._owned[name] = self._holder(layer, pool)
        else:
            holder = self.holders.get(layer.name)
            if holder is None:
                holder = self.holders[layer.name] = self._holder(layer)
        return await holder.get({layer.version_key: version})


class PrincipalIndexes:
    """The indexes as one caller sees them: layers of people are indexed from the caller's
    own rows (row-level security decides them), every other layer from the shared index."""

    def __init__(self, indexes: OverviewIndexes, principal: Principal) -> None:
        self._indexes = indexes
        self._principal = principal
        self.holders = indexes.holders

    def version_of(self, name: str) -> int:
        return self._indexes.version_of(name)

    async def get(self, layer: Layer, version: int) -> PointIndex:
        if not layer.holds_persons:
            return await self._indexes.get(layer, version)
        from geoplatform.tiles.auth import ScopedPool

        raw = getattr(self._indexes._pool, "_pool", self._indexes._pool)
        pool = ScopedPool(raw, self._principal)
        return await self._indexes.get(layer, version, pool, self._principal.cache_key)
