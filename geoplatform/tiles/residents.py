"""The residents heatmap: k-anonymous people counts per H3 cell for every caller.

Built once per people data version from all rows (as the server) into `PeopleAtoms` (the
context's `residents` VersionedIndex, preloaded like every index), which
drops every atom of fewer than k people before anything is counted; tiles show whole cells at
the zoom's resolution, capped at the atoms' (res 9), filtered by gender or residence type.
"""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from geoplatform.access.kanon import PeopleAtoms
from geoplatform.tiles.indexes import CpuWork, index_connection
from geoplatform.tiles.params import InvalidParameter

PEOPLE_ROWS = (
    "SELECT coalesce(h3_r11, 0) AS h3_r11, grid_code, gender, residence_type FROM people"
    " WHERE h3_r11 IS NOT NULL"
)
GENDERS = ("M", "F")
RESIDENCE_TYPES = ("registered", "floating")


async def load_atoms(pool: AsyncConnectionPool[Any], cpu: CpuWork, k: int) -> PeopleAtoms:
    """Every person's cell, grid, gender and residence type (as the server: all rows), built
    into k-anonymous atoms in a worker thread; the rows themselves are never kept."""
    from geoplatform.tiles.statsindex import copy_frame

    async with index_connection(pool) as conn:
        rows = await copy_frame(
            conn, PEOPLE_ROWS, {"grid_code": str, "gender": str, "residence_type": str}
        )
    return await cpu.run(lambda: PeopleAtoms.build(rows, k=k))


def resident_filters(query: Any) -> tuple[str | None, str | None]:
    """gender= and residence_type= (fixed vocabularies; anything else is a 400)."""
    gender = query.get("gender")
    residence = query.get("residence_type")
    if gender is not None and gender not in GENDERS:
        raise InvalidParameter(f"gender: one of {', '.join(GENDERS)}")
    if residence is not None and residence not in RESIDENCE_TYPES:
        raise InvalidParameter(f"residence_type: one of {', '.join(RESIDENCE_TYPES)}")
    return gender, residence
