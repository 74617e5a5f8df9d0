"""Rejected rows and why: the reason codes, the rejects of a batch, and the collector that keeps
a batch's surviving rows in step while rows leave it (with the row as delivered, personal
identifiers masked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geoplatform.etl.extract import RawBatch
from geoplatform.etl.pipeline import SourceSpec

_MASK: Final = "***"


class Reason:
    """Reject reason codes stored in etl.rejects.reason_code.

    The demo city's truth (`geoplatform.demo.truth.RejectReason`) uses the same words for the
    reasons it plants; the point codes are `geoplatform.spatial.validity`'s.
    """

    MISSING_COORDINATES: Final = "missing_coordinates"
    NULL_ISLAND: Final = "null_island"
    OUTSIDE_CITY: Final = "outside_city"
    SWAPPED_LATLON: Final = "swapped_latlon"
    MISSING_KEY: Final = "missing_key"
    MISSING_REQUIRED: Final = "missing_"  # + the field: missing_category, missing_status...
    INVALID_VALUE: Final = "invalid_value"
    BAD_TIME: Final = "bad_time"  # does not parse, or does not exist (2025/2/30)
    INCONSISTENT_TIMES: Final = "inconsistent_times"
    INCONSISTENT_STATUS: Final = "inconsistent_status"
    INVALID_ID_NUMBER: Final = "invalid_id_number"
    INVALID_CREDIT_CODE: Final = "invalid_credit_code"
    INVALID_GEOMETRY: Final = "invalid_geometry"
    DUPLICATE_KEY: Final = "duplicate_key"
    NO_GRID: Final = "no_grid"
    GEOCODE_UNMATCHED: Final = "geocode_unmatched"
    UNKNOWN_REFERENCE: Final = "unknown_reference"
    TRUNCATED_ROW: Final = "truncated_row"
    GEOMETRY_TOO_COMPLEX: Final = "geometry_too_complex"


@dataclass
class Rejects:
    """Rejected rows of a batch: where they were, their key, why, and the row as delivered."""

    rows: list[int] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def extend(self, other: Rejects) -> None:
        self.rows += other.rows
        self.keys += other.keys
        self.codes += other.codes
        self.reasons += other.reasons
        self.data += other.data

    def by_code(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for code in self.codes:
            out[code] = out.get(code, 0) + 1
        return out


class _Rejector:
    """Collects rejects while keeping the batch's surviving rows in step."""

    def __init__(self, raw: RawBatch, source: SourceSpec) -> None:
        self.raw = raw
        self.alive = np.ones(len(raw), dtype=bool)
        self.keys: pd.Series = pd.Series([None] * len(raw), dtype=object)
        self.out = Rejects()
        self.masked = {
            col
            for name, col in source.columns.items()
            if source.target.field(name).restricted and name != "address"
        }

    def reject(self, mask: NDArray[np.bool_], code: str, reason: str) -> None:
        hit = np.flatnonzero(mask & self.alive)
        if len(hit) == 0:
            return
        self.alive[hit] = False
        records = self.raw.frame.iloc[hit].to_dict(orient="records")
        for i, record in zip(hit, records, strict=True):
            data = {
                str(k): (_MASK if k in self.masked else _jsonable(v)) for k, v in record.items()
            }
            data["_file"] = self.raw.file
            self.out.rows.append(int(self.raw.rows[i]))
            key = self.keys.iat[int(i)]
            self.out.keys.append(key if isinstance(key, str) else None)
            self.out.codes.append(code)
            self.out.reasons.append(reason)
            self.out.data.append(data)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if not np.isfinite(value) else value
    return str(value)
