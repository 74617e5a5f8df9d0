"""H3 cells: equal to h3-py's own answers, parents equal to the SQL bit formula."""

from __future__ import annotations

import h3
import numpy as np
import pytest
from numpy.typing import NDArray

from geoplatform.errors import GeoPlatformError
from geoplatform.spatial.h3cells import (
    H3_NULL,
    InvalidH3,
    cell_resolutions,
    cells_to_strings,
    lonlat_to_cells,
    parent_cells,
    strings_to_cells,
)


def sql_parent(cells: NDArray[np.int64], r: int) -> NDArray[np.int64]:
    """The SQL function's formula, literally, in numpy: the database is tested against this."""
    c = cells.astype(np.int64)
    return (c & ~(np.int64(15) << 52)) | (np.int64(r) << 52) | ((np.int64(1) << (3 * (15 - r))) - 1)


@pytest.fixture(scope="module")
def world() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    rng = np.random.default_rng(11)
    n = 20_000
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))  # uniform on the sphere, poles included
    return lon, lat


@pytest.mark.parametrize("res", [0, 1, 5, 9, 10, 11, 15])
def test_cells_equal_h3py(world: tuple[NDArray[np.float64], NDArray[np.float64]], res: int) -> None:
    lon, lat = world
    got = lonlat_to_cells(lon, lat, res)
    want = np.array(
        [h3.api.basic_int.latlng_to_cell(a, b, res) for a, b in zip(lat, lon, strict=True)],
        dtype=np.int64,
    )
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


def test_cells_in_wuhai_match_strings() -> None:
    lon, lat = np.array([106.794, 106.8123]), np.array([39.655, 39.6731])
    cells = lonlat_to_cells(lon, lat, 11)
    assert list(cells_to_strings(cells)) == [
        h3.latlng_to_cell(39.655, 106.794, 11),
        h3.latlng_to_cell(39.6731, 106.8123, 11),
    ]


def test_missing_coordinates_give_null_without_disturbing_others() -> None:
    lon = np.array([106.8, np.nan, 106.8, np.inf, 106.8])
    lat = np.array([39.6, 39.6, np.nan, 39.6, 95.0])
    cells = lonlat_to_cells(lon, lat, 9)
    assert cells[0] == h3.api.basic_int.latlng_to_cell(39.6, 106.8, 9)
    assert list(cells[1:]) == [H3_NULL] * 4


@pytest.mark.parametrize("bad", [-1, 16, 1.5, True, "9"])
def test_bad_resolution_raises(bad: object) -> None:
    with pytest.raises(InvalidH3) as err:
        lonlat_to_cells(np.array([106.8]), np.array([39.6]), bad)  # type: ignore[arg-type]
    assert isinstance(err.value, ValueError)
    assert isinstance(err.value, GeoPlatformError)


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="one length"):
        lonlat_to_cells(np.zeros(3), np.zeros(2), 9)


def test_parent_cells_equal_h3py_and_sql_formula(
    world: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> None:
    lon, lat = world
    cells = lonlat_to_cells(lon, lat, 15)
    for r in range(16):
        got = parent_cells(cells, r)
        np.testing.assert_array_equal(got, sql_parent(cells, r))
        want = [h3.api.basic_int.cell_to_parent(int(c), r) for c in cells[:2000]]
        np.testing.assert_array_equal(got[:2000], np.array(want, dtype=np.int64))


def test_parent_of_mixed_resolutions_and_null() -> None:
    cells = np.array(
        [
            h3.api.basic_int.latlng_to_cell(39.6, 106.8, 11),
            h3.api.basic_int.latlng_to_cell(39.6, 106.8, 9),
            H3_NULL,
        ],
        dtype=np.int64,
    )
    parents = parent_cells(cells, 9)
    assert parents[0] == parents[1] == cells[1]
    assert parents[2] == H3_NULL
    assert list(cell_resolutions(parents)) == [9, 9, -1]


def test_parent_rejects_finer_target_and_non_cells() -> None:
    cell = h3.api.basic_int.latlng_to_cell(39.6, 106.8, 8)
    with pytest.raises(InvalidH3, match="coarser"):
        parent_cells(np.array([cell]), 9)
    edge = h3.api.basic_int.origin_to_directed_edges(cell)[0]  # mode 2, not a cell
    with pytest.raises(InvalidH3, match="not an H3 cell"):
        parent_cells(np.array([edge], dtype=np.int64), 5)


def test_strings_round_trip_only_at_the_edge() -> None:
    cells = lonlat_to_cells(np.array([106.7, 106.9, np.nan]), np.array([39.3, 39.8, 0.0]), 10)
    strings = cells_to_strings(cells)
    assert strings[0] == h3.int_to_str(int(cells[0]))
    assert strings[2] is None
    np.testing.assert_array_equal(strings_to_cells(list(strings)), cells)
    assert strings_to_cells(["", None]).tolist() == [H3_NULL, H3_NULL]


@pytest.mark.parametrize("bad", ["zzz", "8b2c35982902ff", "0"])
def test_strings_to_cells_rejects_non_cells(bad: str) -> None:
    with pytest.raises(InvalidH3):
        strings_to_cells([bad])
