"""k-anonymous counts of people: suppress the finest cells first, build everything from them.

The atoms are (H3 cell at `base_resolution`, grid, gender, residence type) counts; those below
k are dropped before anything else happens. Every published number (an H3 cell at any
resolution up to the base, a grid, community, street or district, with or without a filter on
gender or residence type) is a sum of surviving atoms. So:

- a published count is 0 or at least k (a sum of numbers each >= k);
- the difference of two published counts whose atoms nest (a parent and its child cell, a
  district and its street, a filtered and an unfiltered count) is again such a sum: 0 or >= k;
- a suppressed atom enters no published number, so no subtraction of published numbers can
  yield it. The price is undercounting: coarse totals leave suppressed atoms out.

There is no time dimension (residents are a snapshot) and no free window: cells are whole
cells, so a bounding box or tile never cuts one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geoplatform.errors import GeoPlatformError
from geoplatform.spatial.h3cells import parent_cells

DEFAULT_K = 11
BASE_RESOLUTION = 9
"""Atom cells: H3 resolution 9 (~0.1 km²); finer resolutions are answered at this one."""
UNIT_LENGTHS = {"district": 6, "street": 9, "community": 12, "grid": 15}
"""Admin units as grid-code prefixes (DOMAIN.md: a grid code starts with its community's)."""
FILTERS = ("gender", "residence_type")


class InvalidAggregate(GeoPlatformError, ValueError):
    http_status = 400


@dataclass(frozen=True)
class PeopleAtoms:
    """The surviving atoms; the only counts anything published is built from."""

    cell: NDArray[np.int64]
    grid: NDArray[np.object_]
    gender: NDArray[np.object_]
    residence_type: NDArray[np.object_]
    count: NDArray[np.int64]
    k: int
    base_resolution: int
    suppressed_atoms: int

    @classmethod
    def build(
        cls, people: pd.DataFrame, *, k: int = DEFAULT_K, base_resolution: int = BASE_RESOLUTION
    ) -> PeopleAtoms:
        """From rows with h3_r11, grid_code, gender, residence_type (one row per person)."""
        if k < 2:
            raise InvalidAggregate("k must be at least 2")
        frame = people.loc[people["h3_r11"].notna() & (people["h3_r11"] != 0)]
        cells = parent_cells(frame["h3_r11"].to_numpy(np.int64), base_resolution)
        atoms = (
            pd.DataFrame(
                {
                    "cell": cells,
                    "grid": frame["grid_code"].fillna("").astype(str).to_numpy(),
                    "gender": frame["gender"].fillna("").astype(str).to_numpy(),
                    "residence_type": frame["residence_type"].fillna("").astype(str).to_numpy(),
                }
            )
            .groupby(["cell", "grid", "gender", "residence_type"], sort=True)
            .size()
            .rename("count")
            .reset_index()
        )
        keep = atoms["count"].to_numpy() >= k
        kept = atoms.loc[keep]
        return cls(
            cell=kept["cell"].to_numpy(np.int64),
            grid=kept["grid"].to_numpy(object),
            gender=kept["gender"].to_numpy(object),
            residence_type=kept["residence_type"].to_numpy(object),
            count=kept["count"].to_numpy(np.int64),
            k=k,
            base_resolution=base_resolution,
            suppressed_atoms=int((~keep).sum()),
        )

    def _mask(self, gender: str | None, residence_type: str | None) -> NDArray[np.bool_]:
        mask = np.ones(len(self.count), dtype=bool)
        if gender is not None:
            mask &= self.gender == gender
        if residence_type is not None:
            mask &= self.residence_type == residence_type
        return mask

    def by_cell(
        self,
        resolution: int,
        *,
        gender: str | None = None,
        residence_type: str | None = None,
        scope: tuple[str, ...] | None = None,
    ) -> pd.Series:
        """Published counts per H3 cell (int64 index) at `resolution` (capped at the base).

        `scope` (grid-code prefixes) keeps the atoms of those grids only.
        """
        resolution = min(resolution, self.base_resolution)
        mask = self._mask(gender, residence_type)
        if scope is not None:
            mask &= _in_scope(self.grid, scope)
        cells = parent_cells(self.cell[mask], resolution)
        out = pd.Series(self.count[mask]).groupby(cells).sum()
        out.index = out.index.astype(np.int64)
        return out.astype(np.int64)

    def by_unit(
        self, level: str, *, gender: str | None = None, residence_type: str | None = None
    ) -> pd.Series:
        """Published counts per admin unit (grid, community, street, district)."""
        if level not in UNIT_LENGTHS:
            raise InvalidAggregate(f"level must be one of {', '.join(UNIT_LENGTHS)}")
        mask = self._mask(gender, residence_type) & (self.grid != "")
        codes = np.array([g[: UNIT_LENGTHS[level]] for g in self.grid[mask]], dtype=object)
        return pd.Series(self.count[mask]).groupby(codes).sum().astype(np.int64)


def _in_scope(grids: NDArray[np.object_], scope: tuple[str, ...]) -> NDArray[np.bool_]:
    return np.array([any(g.startswith(p) for p in scope) for g in grids], dtype=bool)
