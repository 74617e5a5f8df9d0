"""Property tests: no published people count in 1..k-1, none derivable by subtraction, over
H3 resolutions (zooms), admin levels and filters."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from geoplatform.access.kanon import UNIT_LENGTHS, PeopleAtoms
from geoplatform.spatial.h3cells import lonlat_to_cells, parent_cells

GRIDS = ["150302001001001", "150302001001002", "150302001002001", "150302002001001"]
FILTERS = [(None, None), ("M", None), ("F", None), (None, "floating"), ("M", "registered")]


@st.composite
def populations(draw: st.DrawFn) -> tuple[pd.DataFrame, int]:
    n = draw(st.integers(0, 600))
    seed = draw(st.integers(0, 2**31))
    spread = draw(st.sampled_from([0.002, 0.01, 0.03]))
    k = draw(st.integers(2, 15))
    rng = np.random.default_rng(seed)
    lon = 106.80 + rng.normal(0, spread, n)
    lat = 39.66 + rng.normal(0, spread, n)
    frame = pd.DataFrame(
        {
            "h3_r11": lonlat_to_cells(lon, lat, 11),
            "grid_code": rng.choice(GRIDS, n),
            "gender": rng.choice(["M", "F"], n),
            "residence_type": rng.choice(["registered", "floating"], n, p=[0.8, 0.2]),
        }
    )
    return frame, k


def _published(atoms: PeopleAtoms) -> dict[tuple[object, ...], pd.Series]:
    out: dict[tuple[object, ...], pd.Series] = {}
    for g, r in FILTERS:
        for res in range(5, 12):
            out[("h3", res, g, r)] = atoms.by_cell(res, gender=g, residence_type=r)
        for level in UNIT_LENGTHS:
            out[("unit", level, g, r)] = atoms.by_unit(level, gender=g, residence_type=r)
    return out


@settings(max_examples=60, deadline=None)
@given(populations())
def test_no_published_count_is_small(population: tuple[pd.DataFrame, int]) -> None:
    frame, k = population
    atoms = PeopleAtoms.build(frame, k=k)
    for key, series in _published(atoms).items():
        small = series[(series > 0) & (series < k)]
        assert small.empty, (key, small.to_dict())


@settings(max_examples=60, deadline=None)
@given(populations())
def test_no_count_is_derivable_by_subtraction(population: tuple[pd.DataFrame, int]) -> None:
    """Nested pairs (parent/child cell, unit/sub-unit, filtered/unfiltered): 0 or >= k apart."""
    frame, k = population
    atoms = PeopleAtoms.build(frame, k=k)
    pub = _published(atoms)

    def ok(diff: int) -> bool:
        return diff == 0 or diff >= k

    for g, r in FILTERS:
        for res in range(5, 9):  # parent at res, children at res + 1
            parents, children = pub[("h3", res, g, r)], pub[("h3", res + 1, g, r)]
            child_parent = parent_cells(children.index.to_numpy(np.int64), res)
            for parent, kids in children.groupby(child_parent):
                for subset_size in (1, len(kids) - 1):
                    for subset in itertools.combinations(kids.to_numpy(), subset_size):
                        assert ok(int(parents.get(parent, 0)) - int(sum(subset)))
        levels = list(UNIT_LENGTHS)
        for outer, inner in itertools.pairwise(levels):
            big, small = pub[("unit", outer, g, r)], pub[("unit", inner, g, r)]
            for code, n in small.items():
                assert ok(int(big.get(str(code)[: UNIT_LENGTHS[outer]], 0)) - int(n))
    # filters: unfiltered minus filtered, per cell and per grid
    for kind, level in (("h3", 8), ("unit", "grid")):
        total = pub[(kind, level, None, None)]
        for g, r in FILTERS[1:]:
            part = pub[(kind, level, g, r)]
            for key, n in part.items():
                assert ok(int(total.get(key, 0)) - int(n))


@settings(max_examples=40, deadline=None)
@given(populations())
def test_published_counts_are_the_surviving_atoms_exactly(
    population: tuple[pd.DataFrame, int],
) -> None:
    """Against an oracle from the raw rows: each count = the sum of its atoms of >= k people."""
    frame, k = population
    atoms = PeopleAtoms.build(frame, k=k)
    raw = frame.assign(cell=parent_cells(frame["h3_r11"].to_numpy(np.int64), 9))
    sizes = raw.groupby(["cell", "grid_code", "gender", "residence_type"]).size()
    surviving = sizes[sizes >= k].reset_index(name="n")
    expect = surviving.groupby(parent_cells(surviving["cell"].to_numpy(np.int64), 7))["n"].sum()
    got = atoms.by_cell(7)
    assert got.sort_index().to_dict() == expect.sort_index().to_dict()
    assert atoms.suppressed_atoms == int((sizes < k).sum())
