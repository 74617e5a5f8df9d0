"""Rows of a fixed SELECT as numpy columns, each column one binary buffer (no text parsing).

Every field must be fixed-width and never NULL (coalesce in the SQL). Strings are sent as small
integer codes (`array_position` over a list read first), which is how the in-memory indexes
keep them. Several times faster than COPY ... CSV into pandas for the million-row index loads.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
from psycopg import AsyncConnection, sql

_CODES: Final = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "bool": "?"}


async def copy_columns(
    conn: AsyncConnection[Any],
    select: str | sql.Composable,
    fields: list[tuple[str, str]],
    params: dict[str, Any] | None = None,
) -> dict[str, np.ndarray[Any, Any]]:
    """`fields`: (name, type) of the SELECT's columns, types among int2/int4/int8/float8/bool,
    never NULL. Returns native-endian arrays by name.

    Each column comes back as one bytea of its values' binary send form, concatenated by
    `string_agg` in one pass: a million rows are then a handful of buffers instead of a million
    COPY messages (psycopg hands COPY data over a row at a time: ~2 µs a row in Python).
    """
    body = sql.SQL(select) if isinstance(select, str) else select
    aggregates = sql.SQL(", ").join(
        sql.SQL("coalesce(string_agg({}({}), ''), '')").format(
            sql.Identifier(f"{kind}send"), sql.Identifier(name)
        )
        for name, kind in fields
    )
    statement = sql.SQL("SELECT {} FROM ({}) AS s").format(aggregates, body)
    cur = await conn.execute(statement, params, binary=True)
    row = await cur.fetchone()
    assert row is not None  # an aggregate always answers one row
    return {
        name: np.frombuffer(bytes(data), dtype=_CODES[kind]).astype(
            np.dtype(_CODES[kind]).newbyteorder("=")
        )
        for (name, kind), data in zip(fields, row, strict=True)
    }


async def distinct_lists(conn: AsyncConnection[Any], select: str) -> list[list[str]]:
    """Each column of a one-row SELECT of text arrays (`array_agg(DISTINCT ...)`), sorted in
    Python's order (the codes index these lists, so both sides must agree on the order)."""
    cur = await conn.execute(select)
    row = await cur.fetchone()
    return [sorted(str(v) for v in (values or ())) for values in (row or ())]
