"""/stats from memory: one row per incident (grid, time, filters, workflow flags) in numpy.

A GROUP BY over every incident of two years takes PostgreSQL ~0.4 s at scale 1 (1.2M rows,
measured in bench/RESULTS.md), twice the 200 ms a screen may wait. The same leaf aggregate is
six `np.bincount` calls over a mask: ~10 ms. The rows load by COPY into pandas once per data
version of incidents, people, grids and admin areas (the key), like the heatmap's cube index.
Times stay exact (epoch seconds), so `datetime=` windows are not rounded to days here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from geoplatform.access.kanon import DEFAULT_K
from geoplatform.analytics.stats import LEAF_COLUMNS, unit_statistics
from geoplatform.tiles.mvt import query
from geoplatform.tiles.params import InvalidParameter

__all__ = ["LEVELS", "StatsIndex", "StatsIndexes", "copy_frame", "current_stats"]

LEVELS = ("district", "street", "community", "grid")


async def copy_frame(
    conn: AsyncConnection[Any], sql_text: str, dtype: dict[str, Any] | None = None
) -> pd.DataFrame:
    """The result of a fixed SELECT as a frame, through COPY … CSV (pandas' C parser)."""
    buffer = io.BytesIO()
    cur = conn.cursor()
    statement = f"COPY ({sql_text.strip().rstrip(';')}) TO STDOUT (FORMAT CSV, HEADER)"
    async with cur.copy(statement) as cp:
        async for chunk in cp:
            buffer.write(chunk)
    buffer.seek(0)
    return pd.read_csv(buffer, dtype=dtype, keep_default_na=False, na_values=[""])


@dataclass(frozen=True)
class StatsIndex:
    """Incidents as arrays, plus every grid with its chain, names and residents."""

    grid: NDArray[np.int32] = field(repr=False)
    t: NDArray[np.float64] = field(repr=False)
    category: NDArray[np.int16] = field(repr=False)
    channel: NDArray[np.int16] = field(repr=False)
    flags: dict[str, NDArray[np.bool_]] = field(repr=False)
    open_due: NDArray[np.float64] = field(repr=False)
    categories: tuple[str, ...]
    channels: tuple[str, ...]
    units: pd.DataFrame = field(repr=False)
    residents: pd.Series = field(repr=False)
    names: dict[str, str] = field(repr=False)
    k: int = DEFAULT_K

    @classmethod
    def build(
        cls, rows: pd.DataFrame, units: pd.DataFrame, residents: pd.DataFrame,
        names: pd.DataFrame,
    ) -> StatsIndex:  # fmt: skip
        grid_codes = pd.Index(units["grid"].astype(str))
        grid_idx = grid_codes.get_indexer(pd.Index(rows["grid_code"].astype(str)))
        known = grid_idx >= 0  # incidents on a grid the grids table lacks cannot be attributed
        rows = rows[known]
        cats, cat_codes = np.unique(rows["category"].astype(str).to_numpy(), return_inverse=True)
        chans, chan_codes = np.unique(rows["channel"].astype(str).to_numpy(), return_inverse=True)
        flags = {
            name: rows[name].astype(str).isin(["t", "True", "true"]).to_numpy()
            for name in ("rejected", "closed", "closed_with_due", "closed_on_time")
        }
        label = dict(zip(names["code"].astype(str), names["name"].astype(str), strict=True))
        label.update(dict(zip(units["grid"].astype(str), units["name"].astype(str), strict=True)))
        return cls(
            grid=grid_idx[known].astype(np.int32),
            t=rows["t"].to_numpy(dtype=np.float64),
            category=cat_codes.astype(np.int16),
            channel=chan_codes.astype(np.int16),
            flags=flags,
            open_due=np.nan_to_num(rows["open_due"].to_numpy(dtype=np.float64), nan=np.inf),
            categories=tuple(str(c) for c in cats),
            channels=tuple(str(c) for c in chans),
            units=units.assign(grid=units["grid"].astype(str)).set_index("grid"),
            residents=residents.assign(grid=residents["grid"].astype(str))
            .set_index("grid")["residents"]
            .astype(np.int64),
            names=label,
        )

    def leaf(
        self,
        start: dt.datetime | None,
        end: dt.datetime | None,
        categories: tuple[str, ...],
        channels: tuple[str, ...],
        now: dt.datetime,
    ) -> pd.DataFrame:
        """`LEAF_COLUMNS` per grid (every grid, zeros included) with its admin chain."""
        keep = np.ones(self.grid.size, dtype=bool)
        if start is not None:
            keep &= self.t >= start.timestamp()
        if end is not None:
            keep &= self.t <= end.timestamp()
        if categories:
            wanted = [i for i, c in enumerate(self.categories) if c in set(categories)]
            keep &= np.isin(self.category, wanted)
        if channels:
            wanted = [i for i, c in enumerate(self.channels) if c in set(channels)]
            keep &= np.isin(self.channel, wanted)
        n = len(self.units)
        grid = self.grid[keep]
        columns = {"incidents": np.bincount(grid, minlength=n)}
        for name, flag in self.flags.items():
            columns[name] = np.bincount(grid[flag[keep]], minlength=n)
        overdue = self.open_due[keep] < now.timestamp()
        columns["overdue_now"] = np.bincount(grid[overdue], minlength=n)
        frame = self.units.copy()
        for name in LEAF_COLUMNS:
            frame[name] = columns[name].astype(np.int64)
        return frame

    def statistics(
        self,
        by: str,
        start: dt.datetime | None,
        end: dt.datetime | None,
        categories: tuple[str, ...],
        channels: tuple[str, ...],
        now: dt.datetime,
    ) -> pd.DataFrame:
        if by not in LEVELS:
            raise InvalidParameter(f"by: must be one of {', '.join(LEVELS)}; got {by!r}")
        leaf = self.leaf(start, end, categories, channels, now)
        # People counts are k-anonymous for every caller (geoplatform.access.kanon): grids of
        # 1..k-1 residents are suppressed first, and every coarser unit sums the published grids
        # only, so no published count is small and none is a difference of two others.
        small = (self.residents > 0) & (self.residents < self.k)
        published = self.residents.where(~small, 0)
        stats = unit_statistics(leaf, by=by, levels=LEVELS, residents=published)
        hidden = pd.Series(False, index=stats.index)
        if by == LEVELS[-1]:
            hidden = small.reindex(stats.index, fill_value=False)
            stats.loc[hidden, ["residents", "per_10k"]] = np.nan
        stats["suppressed"] = hidden
        stats.insert(0, "name", [self.names.get(str(code)) for code in stats.index])
        stats.index.name = "code"
        return stats


class StatsIndexes:
    """The statistics index for the current versions, loaded once per versions key."""

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self._pool = pool
        self._lock = asyncio.Lock()
        self._key: str | None = None
        self._index: StatsIndex | None = None
        self.k = DEFAULT_K

    async def get(self, key: str) -> StatsIndex:
        if self._index is not None and self._key == key:
            return self._index
        async with self._lock:
            if self._index is None or self._key != key:
                self._index = await self._load()
                self._key = key
        return self._index

    async def _load(self) -> StatsIndex:
        text = {"grid_code": str, "category": str, "channel": str}
        async with self._pool.connection() as conn:
            rows = await copy_frame(conn, query("stats_rows"), text)
            units = await copy_frame(conn, query("grid_units"), dict.fromkeys(LEVELS, str))
            residents = await copy_frame(conn, query("residents_by_grid"), {"grid": str})
            names = await copy_frame(conn, query("admin_names"), {"code": str})
        index = StatsIndex.build(rows, units, residents, names)
        return replace(index, k=self.k)


async def current_stats(request: Any, pool: AsyncConnectionPool[Any], key: str) -> StatsIndex:
    """The app's statistics index for the data versions in `key` (holder kept on app.state)."""
    state = request.app.state
    holder: StatsIndexes | None = getattr(state, "stats_indexes", None)
    if holder is None:
        # built once for everyone, as the server (service role): never a caller's rows
        ctx = getattr(state, "context", None)
        holder = StatsIndexes(getattr(ctx, "pool", pool))
        holder.k = ctx.settings.k_anonymity if ctx is not None else DEFAULT_K
        state.stats_indexes = holder
    return await holder.get(key)
