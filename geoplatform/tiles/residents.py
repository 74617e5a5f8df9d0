"""The residents heatmap: k-anonymous people counts per H3 cell for every caller.

Built once per people data version from all rows (as the server) into `PeopleAtoms`, which
drops every atom of fewer than k people before anything is counted; tiles show whole cells at
the zoom's resolution, capped at the atoms' (res 9), filtered by gender or residence type.
"""

from __future__ import annotations

import asyncio
from typing import Any

from psycopg_pool import AsyncConnectionPool

from geoplatform.access.kanon import PeopleAtoms
from geoplatform.tiles.params import InvalidParameter

PEOPLE_ROWS = (
    "SELECT coalesce(h3_r11, 0) AS h3_r11, grid_code, gender, residence_type FROM people"
    " WHERE h3_r11 IS NOT NULL"
)
GENDERS = ("M", "F")
RESIDENCE_TYPES = ("registered", "floating")


class ResidentAtoms:
    """The atoms for the current people version (loaded once per version)."""

    def __init__(self, pool: AsyncConnectionPool[Any], k: int) -> None:
        self._pool = pool
        self._k = k
        self._lock = asyncio.Lock()
        self._version: int | None = None
        self._atoms: PeopleAtoms | None = None

    async def get(self, version: int) -> PeopleAtoms:
        if self._atoms is not None and self._version == version:
            return self._atoms
        async with self._lock:
            if self._atoms is None or self._version != version:
                from geoplatform.tiles.statsindex import copy_frame

                async with self._pool.connection() as conn:
                    rows = await copy_frame(
                        conn, PEOPLE_ROWS, {"grid_code": str, "gender": str, "residence_type": str}
                    )
                self._atoms = await asyncio.to_thread(PeopleAtoms.build, rows, k=self._k)
                self._version = version
        return self._atoms


def resident_filters(query: Any) -> tuple[str | None, str | None]:
    """gender= and residence_type= (fixed vocabularies; anything else is a 400)."""
    gender = query.get("gender")
    residence = query.get("residence_type")
    if gender is not None and gender not in GENDERS:
        raise InvalidParameter(f"gender: one of {', '.join(GENDERS)}")
    if residence is not None and residence not in RESIDENCE_TYPES:
        raise InvalidParameter(f"residence_type: one of {', '.join(RESIDENCE_TYPES)}")
    return gender, residence


async def current_atoms(request: Any, version: int) -> PeopleAtoms:
    state = request.app.state
    holder: ResidentAtoms | None = getattr(state, "resident_atoms", None)
    if holder is None:
        ctx = state.context  # the server's own pool: all rows, published only as atoms
        holder = ResidentAtoms(ctx.pool, ctx.settings.k_anonymity)
        state.resident_atoms = holder
    return await holder.get(version)
