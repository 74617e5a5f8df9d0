"""H3 cells as int64 arrays: from lon/lat, to parents, and to strings only at the API edge.

One internal cell type, as in h3-py's int API: a signed 64-bit integer (bit 63 of an H3 index
is always 0, so it fits PostgreSQL BIGINT). 0 (H3_NULL) stands for "no cell".

Parents are pure bit arithmetic, so the database derives them with the same formula:

    parent(cell, r) = (cell & ~(15 << 52)) | (r << 52) | ((1 << 3 * (15 - r)) - 1)

i.e. write resolution r into bits 52-55 and set every digit finer than r (3 bits each, digit
k in bits 3*(15-k) .. 3*(15-k)+2) to 7. In SQL:
``(cell & ~(15::bigint << 52)) | (r::bigint << 52) | ((1::bigint << (3 * (15 - r))) - 1)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import h3
import numpy as np
from h3ronpy import vector as _h3v  # type: ignore[import-untyped]
from numpy.typing import ArrayLike, NDArray

from geoplatform.errors import GeoPlatformError

__all__ = [
    "H3_NULL",
    "MAX_RESOLUTION",
    "InvalidH3",
    "cell_resolutions",
    "cells_to_strings",
    "lonlat_to_cells",
    "parent_cells",
    "strings_to_cells",
]

CellArray = NDArray[np.int64]

H3_NULL: Final = 0
MAX_RESOLUTION: Final = 15
_RES_SHIFT: Final = 52
_RES_MASK: Final = np.int64(0xF) << np.int64(_RES_SHIFT)
_MODE_SHIFT: Final = 59
_MODE_CELL: Final = 1


class InvalidH3(GeoPlatformError, ValueError):
    """A resolution out of 0-15, a value that is not an H3 cell, or an impossible parent."""

    http_status = 400
    exit_code = 65  # EX_DATAERR


def _check_resolution(resolution: int) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise InvalidH3(f"H3 resolution must be an integer, got {resolution!r}")
    if not 0 <= resolution <= MAX_RESOLUTION:
        raise InvalidH3(f"H3 resolution must be 0-{MAX_RESOLUTION}, got {resolution}")
    return int(resolution)


def lonlat_to_cells(lon: ArrayLike, lat: ArrayLike, resolution: int) -> CellArray:
    """H3 cells at `resolution` for lon/lat arrays (degrees, WGS84), vectorised (h3ronpy/h3o).

    Rows with a non-finite coordinate or a latitude beyond ±90° get H3_NULL instead of
    failing the whole batch; the ETL rejects those rows before this step anyway.
    """
    res = _check_resolution(resolution)
    lon_a = np.ascontiguousarray(lon, dtype=np.float64)
    lat_a = np.ascontiguousarray(lat, dtype=np.float64)
    if lon_a.shape != lat_a.shape or lon_a.ndim != 1:
        raise ValueError(
            f"lon and lat must be 1-D arrays of one length: {lon_a.shape}, {lat_a.shape}"
        )
    ok = np.isfinite(lon_a) & np.isfinite(lat_a) & (np.abs(lat_a) <= 90.0)
    if ok.all():
        return _cells(lat_a, lon_a, res)
    out = np.zeros(lon_a.shape, dtype=np.int64)
    if ok.any():
        out[ok] = _cells(lat_a[ok], lon_a[ok], res)
    return out


def _cells(lat: NDArray[np.float64], lon: NDArray[np.float64], res: int) -> CellArray:
    cells = np.asarray(_h3v.coordinates_to_cells(lat, lon, res), dtype=np.uint64)
    return cells.view(np.int64)


def cell_resolutions(cells: ArrayLike) -> NDArray[np.int8]:
    """Resolution of each cell, read from bits 52-55 (-1 for H3_NULL)."""
    arr = np.asarray(cells, dtype=np.int64)
    res = ((arr & _RES_MASK) >> _RES_SHIFT).astype(np.int8)
    return np.where(arr == H3_NULL, np.int8(-1), res)


def parent_cells(cells: ArrayLike, resolution: int) -> CellArray:
    """Parent of each cell at `resolution` by the bit formula (module docstring); NULL stays NULL.

    Raises `InvalidH3` if a value is not in H3 cell mode or is coarser than `resolution`.
    """
    res = _check_resolution(resolution)
    arr = np.asarray(cells, dtype=np.int64)
    present = arr != H3_NULL
    mode = (arr >> _MODE_SHIFT) & 0xF
    if np.any(present & ((mode != _MODE_CELL) | (arr < 0))):
        raise InvalidH3("not an H3 cell index (mode bits are not 'cell')")
    if np.any(present & (cell_resolutions(arr) < res)):
        raise InvalidH3(f"some cells are coarser than the parent resolution {res}")
    finer_digits = np.int64((1 << (3 * (MAX_RESOLUTION - res))) - 1)
    parents = (arr & ~_RES_MASK) | (np.int64(res) << np.int64(_RES_SHIFT)) | finer_digits
    return np.where(present, parents, np.int64(H3_NULL))


def cells_to_strings(cells: ArrayLike) -> NDArray[np.object_]:
    """Hex strings for the API edge (h3-py's string form); H3_NULL becomes None."""
    arr = np.asarray(cells, dtype=np.int64)
    out = np.empty(arr.size, dtype=object)
    out[:] = [format(c, "x") if c != H3_NULL else None for c in arr.ravel().tolist()]
    return out.reshape(arr.shape)


def strings_to_cells(strings: Iterable[str | None]) -> CellArray:
    """Parse hex cell strings at the API edge; None/"" become H3_NULL, anything invalid raises."""
    values: list[int] = []
    for text in strings:
        if text is None or text == "":
            values.append(H3_NULL)
            continue
        try:
            value = int(text, 16)
        except (TypeError, ValueError):
            raise InvalidH3(f"{text!r} is not an H3 cell") from None
        if not h3.api.basic_int.is_valid_cell(value):
            raise InvalidH3(f"{text!r} is not an H3 cell")
        values.append(value)
    return np.asarray(values, dtype=np.int64)
