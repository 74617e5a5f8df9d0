"""/stats from memory: one row per incident (grid, time, filters, workflow flags) in numpy.

A GROUP BY over every incident of two years takes PostgreSQL ~0.4 s at scale 1 (1.2M rows,
measured in bench/RESULTS.md), twice the 200 ms a screen may wait. The same leaf aggregate is
six `np.bincount` calls over a mask: ~10 ms. The rows load by COPY into pandas once per data
version of incidents, people, grids and admin areas (the key), like the heatmap's cube index.
Times stay exact (epoch seconds), so `datetime=` windows are not rounded to days here.
"""

from __future__ import annotations

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
from geoplatform.tiles.indexes import CpuWork, index_connection
from geoplatform.tiles.mvt import query
from geoplatform.tiles.params import InvalidParameter

__all__ = ["LEVELS", "StatsIndex", "copy_frame", "load_stats"]

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
        return cls.assemble(
            grid_idx[known].astype(np.int32),
            rows["t"].to_numpy(dtype=np.float64),
            (cat_codes.astype(np.int16), tuple(str(c) for c in cats)),
            (chan_codes.astype(np.int16), tuple(str(c) for c in chans)),
            flags,
            np.nan_to_num(rows["open_due"].to_numpy(dtype=np.float64), nan=np.inf),
            units,
            residents,
            names,
        )

    @classmethod
    def assemble(
        cls,
        grid: NDArray[np.int32],
        t: NDArray[np.float64],
        category: tuple[NDArray[np.int16], tuple[str, ...]],
        channel: tuple[NDArray[np.int16], tuple[str, ...]],
        flags: dict[str, NDArray[np.bool_]],
        open_due: NDArray[np.float64],
        units: pd.DataFrame,
        residents: pd.DataFrame,
        names: pd.DataFrame,
    ) -> StatsIndex:
        """From columns already coded: grids as positions in `units`, categories and channels
        as positions in their name tuples (what `load_stats` reads by binary COPY)."""
        label = dict(zip(names["code"].astype(str), names["name"].astype(str), strict=True))
        label.update(dict(zip(units["grid"].astype(str), units["name"].astype(str), strict=True)))
        return cls(
            grid=grid,
            t=t,
            category=category[0],
            channel=channel[0],
            flags=flags,
            open_due=open_due,
            categories=category[1],
            channels=channel[1],
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


async def load_stats(
    pool: AsyncConnectionPool[Any], cpu: CpuWork, k: int = DEFAULT_K
) -> StatsIndex:
    """Read the units, residents and names (small), then every incident as codes with one
    binary COPY; assemble the index in a worker thread."""
    from geoplatform.tiles.copyio import copy_columns, distinct_lists

    async with index_connection(pool) as conn:
        units = await copy_frame(conn, query("grid_units"), dict.fromkeys(LEVELS, str))
        residents = await copy_frame(conn, query("residents_by_grid"), {"grid": str})
        names = await copy_frame(conn, query("admin_names"), {"code": str})
        found = await distinct_lists(
            conn,
            "SELECT array_agg(DISTINCT coalesce(category::text, '')),"
            " array_agg(DISTINCT coalesce(channel::text, '')) FROM incidents"
            " WHERE grid_code IS NOT NULL",
        )
        lists = {"category": found[0], "channel": found[1]}
        flags = ("rejected", "closed", "closed_with_due", "closed_on_time")
        columns = await copy_columns(
            conn,
            query("stats_codes"),
            [("grid", "int4"), ("t", "float8"), ("category", "int2"), ("channel", "int2"),
             *((f, "bool") for f in flags), ("open_due", "float8")],
            {"grids": units["grid"].astype(str).tolist(), "categories": lists["category"],
             "channels": lists["channel"]},
        )  # fmt: skip

    def build() -> StatsIndex:
        known = columns["grid"] >= 0  # incidents on a grid the grids table lacks: unattributed
        return StatsIndex.assemble(
            columns["grid"][known].astype(np.int32),
            columns["t"][known],
            (columns["category"][known], tuple(lists["category"])),
            (columns["channel"][known], tuple(lists["channel"])),
            {f: columns[f][known] for f in flags},
            columns["open_due"][known],
            units,
            residents,
            names,
        )

    return replace(await cpu.run(build), k=k)
