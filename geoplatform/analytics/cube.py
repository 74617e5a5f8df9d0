"""The incident cube in memory: res-11 rows sorted by cell, summed to any coarser cell fast.

A heatmap tile over the whole city and two years sums up to every row of ``h3_incident_cube``
(~1M at scale 1, most (cell, day, category, channel) combinations being single incidents), which
PostgreSQL does in hundreds of milliseconds. H3's numbering makes it cheap in numpy: the res-11
descendants of a cell of resolution r are one contiguous range of res-11 indexes (the digits
below r vary, the ones above are the parent's), so with rows sorted by cell a parent's rows
are one slice, found by binary search. Sums without a time or category filter come from
prefix sums (O(cells)); with a filter, only the rows of the tile's slices are masked.

Days are city-local calendar days (the cube's `day`), stored as days since 1970-01-01.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final

import h3
import numpy as np
from numpy.typing import ArrayLike, NDArray

from geoplatform.errors import GeoPlatformError

__all__ = [
    "CUBE_RESOLUTION",
    "CubeIndex",
    "InvalidCubeQuery",
    "cells_in_bounds",
    "child_range",
]

#: The finest resolution the cube keeps (incidents' h3_r11).
CUBE_RESOLUTION: Final = 11
_RES_SHIFT: Final = 52
_RES_MASK: Final = np.int64(15) << np.int64(_RES_SHIFT)
_EPOCH: Final = dt.date(1970, 1, 1)


class InvalidCubeQuery(GeoPlatformError, ValueError):
    """A cube query that cannot be answered: resolution out of 5..11, a bad day window."""

    http_status = 400
    exit_code = 65


def child_range(
    cells: ArrayLike, child_res: int = CUBE_RESOLUTION
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """[lo, hi] of the int64 indexes of every descendant at `child_res` of each cell.

    The descendant with all digits below the parent's resolution 0 is the smallest; with all
    digits 7 (the parent's own padding) the largest bound. Only the resolution field changes.
    """
    arr = np.asarray(cells, dtype=np.int64)
    res = (arr >> _RES_SHIFT) & 15
    hi = (arr & ~_RES_MASK) | (np.int64(child_res) << np.int64(_RES_SHIFT))
    # digits res+1..child_res occupy bits [(15 - child_res) * 3, (15 - res) * 3)
    width = (child_res - res) * 3
    low_bit = (15 - child_res) * 3
    mask = ((np.int64(1) << width) - 1) << low_bit
    lo = hi & ~mask
    return lo, hi


def cells_in_bounds(
    west: float, south: float, east: float, north: float, resolution: int
) -> NDArray[np.int64]:
    """Every cell at `resolution` whose hexagon may touch the lon/lat box (buffered by a cell)."""
    edge_deg = float(h3.average_hexagon_edge_length(resolution, unit="km")) / 111.0 * 2.0
    lat_scale = max(np.cos(np.radians(min(abs(south), abs(north)) + edge_deg)), 0.1)
    s, n = max(south - edge_deg, -89.9), min(north + edge_deg, 89.9)
    w, e = west - edge_deg / lat_scale, east + edge_deg / lat_scale
    shape = h3.LatLngPoly([(s, w), (s, e), (n, e), (n, w)])
    cells = h3.h3shape_to_cells(shape, resolution)
    return np.sort(np.array([h3.str_to_int(c) for c in cells], dtype=np.int64))


def to_day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


@dataclass(frozen=True)
class CubeIndex:
    """Rows of the incident cube at resolution 11, sorted by cell then day.

    ``categories`` / ``channels`` are the vocabularies the integer codes index into.
    """

    cell: NDArray[np.int64] = field(repr=False)
    day: NDArray[np.int32] = field(repr=False)
    category: NDArray[np.int16] = field(repr=False)
    channel: NDArray[np.int16] = field(repr=False)
    n: NDArray[np.int64] = field(repr=False)
    categories: tuple[str, ...]
    channels: tuple[str, ...]
    _prefix: NDArray[np.int64] = field(repr=False, default_factory=lambda: np.zeros(1, np.int64))

    @classmethod
    def from_rows(
        cls,
        cell: ArrayLike,
        day: ArrayLike,
        category: ArrayLike,
        channel: ArrayLike,
        n: ArrayLike,
    ) -> CubeIndex:
        """Build from columns (days as dates or day numbers); sorts by (cell, day)."""
        cells = np.asarray(cell, dtype=np.int64)
        days_raw = np.asarray(day)
        if days_raw.dtype.kind in "OM":
            days = np.asarray(days_raw, dtype="datetime64[D]").astype(np.int64).astype(np.int32)
        else:
            days = days_raw.astype(np.int32)
        cat_names, cat_codes = np.unique(np.asarray(category, dtype=object), return_inverse=True)
        chan_names, chan_codes = np.unique(np.asarray(channel, dtype=object), return_inverse=True)
        return cls.from_codes(
            cells, days, cat_codes, tuple(map(str, cat_names)), chan_codes,
            tuple(map(str, chan_names)), n,
        )  # fmt: skip

    @classmethod
    def from_codes(
        cls,
        cell: NDArray[np.int64],
        day: NDArray[np.int32],
        category: NDArray[np.integer[Any]],
        categories: tuple[str, ...],
        channel: NDArray[np.integer[Any]],
        channels: tuple[str, ...],
        n: ArrayLike,
    ) -> CubeIndex:
        """Build from day numbers and category/channel codes into sorted name tuples (a loader
        that reads codes, not strings, skips the string work of `from_rows`)."""
        if list(categories) != sorted(categories) or list(channels) != sorted(channels):
            raise ValueError("categories and channels must be sorted (codes index them)")
        order = np.lexsort((day, cell))
        counts = np.asarray(n, dtype=np.int64)[order]
        prefix = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(
            cell=np.asarray(cell, dtype=np.int64)[order],
            day=np.asarray(day, dtype=np.int32)[order],
            category=np.asarray(category).astype(np.int16)[order],
            channel=np.asarray(channel).astype(np.int16)[order],
            n=counts,
            categories=categories,
            channels=channels,
            _prefix=prefix,
        )

    def __len__(self) -> int:
        return int(self.cell.size)

    @property
    def total(self) -> int:
        return int(self._prefix[-1])

    def counts(
        self,
        cells: ArrayLike,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        categories: tuple[str, ...] = (),
        channels: tuple[str, ...] = (),
    ) -> NDArray[np.int64]:
        """Incidents per cell (cells of one resolution 5..11), days start..end inclusive."""
        arr = np.asarray(cells, dtype=np.int64)
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        res = np.unique((arr >> _RES_SHIFT) & 15)
        if res.size != 1 or not 0 <= int(res[0]) <= CUBE_RESOLUTION:
            raise InvalidCubeQuery("cells must share one resolution 0..11")
        if start is not None and end is not None and start > end:
            raise InvalidCubeQuery("the day window starts after it ends")
        lo, hi = child_range(arr)
        left = np.searchsorted(self.cell, lo, side="left")
        right = np.searchsorted(self.cell, hi, side="right")
        if start is None and end is None and not categories and not channels:
            return self._prefix[right] - self._prefix[left]
        sizes = right - left
        total = int(sizes.sum())
        if total == 0:
            return np.zeros(arr.size, dtype=np.int64)
        owner = np.repeat(np.arange(arr.size), sizes)
        starts = np.repeat(left - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
        rows = np.arange(total) + starts
        keep = np.ones(total, dtype=bool)
        if start is not None:
            keep &= self.day[rows] >= to_day_number(start)
        if end is not None:
            keep &= self.day[rows] <= to_day_number(end)
        if categories:
            codes = [i for i, c in enumerate(self.categories) if c in set(categories)]
            keep &= np.isin(self.category[rows], codes)
        if channels:
            codes = [i for i, c in enumerate(self.channels) if c in set(channels)]
            keep &= np.isin(self.channel[rows], codes)
        weights = np.where(keep, self.n[rows], 0)
        return np.bincount(owner, weights=weights, minlength=arr.size).astype(np.int64)
