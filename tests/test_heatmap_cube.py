"""The in-memory cube index and the exposure spread, against h3-py's own parents."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from h3.api import basic_int as h3i

from geoplatform.analytics.cube import CubeIndex, InvalidCubeQuery, cells_in_bounds, child_range
from geoplatform.analytics.hexagons import spread_to_parents

EPOCH = dt.date(1970, 1, 1)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 20_000
    lat = 39.6 + rng.random(n) * 0.2
    lon = 106.8 + rng.random(n) * 0.2
    return pd.DataFrame(
        {
            "cell": [h3i.latlng_to_cell(a, b, 11) for a, b in zip(lat, lon, strict=True)],
            "day": rng.integers(19_700, 19_800, n),
            "category": rng.choice(["a", "b", "c"], n),
            "channel": rng.choice(["x", "y"], n),
            "n": rng.integers(1, 4, n),
        }
    )


def test_child_range_brackets_exactly_the_descendants(rows: pd.DataFrame) -> None:
    cells = rows["cell"].to_numpy(np.int64)
    for res in (5, 8, 10):
        parent = h3i.cell_to_parent(int(cells[0]), res)
        lo, hi = child_range([parent])
        inside = (cells >= lo[0]) & (cells <= hi[0])
        truth = np.array([h3i.cell_to_parent(int(c), res) == parent for c in cells])
        assert (inside == truth).all()


@pytest.mark.parametrize("res", [5, 7, 9, 11])
def test_counts_equal_a_group_by_of_the_rows(rows: pd.DataFrame, res: int) -> None:
    index = CubeIndex.from_rows(rows["cell"], rows["day"], rows["category"], rows["channel"],
                                rows["n"])  # fmt: skip
    parents = np.array([h3i.cell_to_parent(int(c), res) for c in rows["cell"]])
    full = rows.groupby(parents)["n"].sum()
    assert (index.counts(full.index.to_numpy()) == full.to_numpy()).all()
    keep = (
        rows["day"].between(19_720, 19_750) & (rows["category"] == "a") & (rows["channel"] == "y")
    )
    part = rows[keep].groupby(parents[keep.to_numpy()])["n"].sum()
    got = index.counts(
        full.index.to_numpy(),
        start=EPOCH + dt.timedelta(19_720),
        end=EPOCH + dt.timedelta(19_750),
        categories=("a",),
        channels=("y",),
    )
    assert (got == part.reindex(full.index, fill_value=0).to_numpy()).all()
    assert index.counts(full.index.to_numpy(), categories=("nope",)).sum() == 0


def test_bad_queries(rows: pd.DataFrame) -> None:
    index = CubeIndex.from_rows(rows["cell"], rows["day"], rows["category"], rows["channel"],
                                rows["n"])  # fmt: skip
    mixed = [h3i.cell_to_parent(int(rows["cell"][0]), r) for r in (7, 8)]
    with pytest.raises(InvalidCubeQuery):
        index.counts(mixed)
    with pytest.raises(InvalidCubeQuery):
        index.counts(mixed[:1], start=dt.date(2024, 2, 1), end=dt.date(2024, 1, 1))


def test_cells_in_bounds_cover_the_box() -> None:
    cells = cells_in_bounds(106.80, 39.60, 106.85, 39.65, 9)
    for lat in np.linspace(39.60, 39.65, 7):
        for lon in np.linspace(106.80, 106.85, 7):
            assert h3i.latlng_to_cell(lat, lon, 9) in set(cells.tolist())


def test_spread_to_parents_keeps_the_total_and_reaches_across_edges() -> None:
    centre = h3i.latlng_to_cell(39.66, 106.8, 11)
    ring = h3i.grid_disk(centre, 1)
    parents, amounts = spread_to_parents([centre], [7.0], 9, k=1)
    assert amounts.sum() == pytest.approx(7.0)
    expected = pd.Series([h3i.cell_to_parent(c, 9) for c in ring]).value_counts()
    assert dict(zip(parents.tolist(), amounts.tolist(), strict=True)) == {
        int(k): float(v) for k, v in expected.items()
    }
