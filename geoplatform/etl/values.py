"""Delivered values → typed values: text, times, lists, declared attributes, keyed HMACs.

Column-wise over a batch (pandas/numpy); missing values stay None. The normalise step calls
these and decides what a bad value means for its row.
"""

from __future__ import annotations

import hmac
import json
import math
import re
from collections.abc import Callable
from hashlib import sha256
from typing import Any, Final

import numpy as np
import pandas as pd

from geoplatform.etl.pipeline import AttributeSpec, SourceSpec


def keyed_hmac(key: bytes, values: pd.Series) -> pd.Series:
    """HMAC-SHA256 of each text value (None stays None): links records without the clear text."""
    return each(values, lambda v: hmac.new(key, v.encode("utf-8"), sha256).digest())


def text_values(series: pd.Series) -> pd.Series:
    """Strip text; empty, NaN and 'nan' become None. Numbers read from DBF become text."""
    out: list[str | None] = []
    for v in series.tolist():
        if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA:
            out.append(None)
            continue
        if isinstance(v, float) and v.is_integer():
            v = int(v)  # a DBF/Excel number that is really an integer code
        text = str(v).strip()
        out.append(None if text in _EMPTY else text)
    return pd.Series(out, index=series.index, dtype=object)


_EMPTY: Final = frozenset({"", "nan", "NaN", "None", "NULL", "null", "NaT"})


def each(values: pd.Series, fn: Callable[[str], Any]) -> pd.Series:
    """`fn` over the text values of a column; missing values stay None (object dtype, so pandas
    never turns None into NaN behind our back)."""
    out = [fn(v) if isinstance(v, str) else None for v in values.tolist()]
    return pd.Series(out, index=values.index, dtype=object)


_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"


def parse_times(values: pd.Series, formats: list[str], timezone: str) -> pd.Series:
    """Parse text times with the declared formats (`iso` = ISO 8601); naive ones are local
    times in `timezone`, ones with an offset keep it. The result is UTC; NaT where unparseable.
    """
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    todo = values.notna()
    for fmt in formats:
        if not todo.any():
            break
        part = values[todo]
        pattern = "ISO8601" if fmt == "iso" else fmt
        aware = part.str.contains(_OFFSET, regex=True, na=False)
        if aware.any():
            parsed = pd.to_datetime(part[aware], format=pattern, errors="coerce", utc=True)
            out.loc[parsed.index] = parsed
        naive = part[~aware]
        if len(naive):
            local = pd.to_datetime(naive, format=pattern, errors="coerce")
            if getattr(local.dt, "tz", None) is None:
                local = local.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
            out.loc[local.index] = local.dt.tz_convert("UTC")
        todo = todo & out.isna()
    return out


def formats_of(source: SourceSpec) -> list[str]:
    fmt = source.time_format
    return fmt if isinstance(fmt, list) else [fmt]


#: What separates several names in one cell (曾用名: 解放路；人民路 / 一中、第一中学).
LIST_SEPARATORS: Final = re.compile(r"[;；,，、|/]")


def split_list(values: pd.Series) -> pd.Series:
    """Several names in one cell → a list of names (None when the cell is empty)."""

    def one(value: str) -> list[str] | None:
        kept = [p.strip() for p in LIST_SEPARATORS.split(value) if p.strip()]
        return kept or None

    return each(values, one)


def pg_array(values: pd.Series) -> pd.Series:
    """Lists of text as PostgreSQL array literals (for COPY); None stays NULL."""

    def one(items: Any) -> str | None:
        if not isinstance(items, list):
            return None
        quoted = ('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items)
        return "{" + ",".join(quoted) + "}"

    return pd.Series([one(v) for v in values.tolist()], index=values.index, dtype=object)


_TRUE: Final = frozenset({"1", "true", "yes", "y", "t", "是", "有"})
_FALSE: Final = frozenset({"0", "false", "no", "n", "f", "否", "无"})


def _as_bool(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def typed_attribute(values: pd.Series, spec: AttributeSpec, timezone: str) -> list[Any]:
    """One declared attribute column as JSON-ready values. A value of the wrong type becomes
    None: an attribute is extra information and never rejects its row."""
    text = text_values(values)
    if spec.type == "text":
        return list(text.tolist())
    if spec.type in ("int", "float"):
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        if spec.type == "int":
            return [int(v) if math.isfinite(v) and float(v).is_integer() else None for v in numbers]
        return [float(v) if math.isfinite(v) else None for v in numbers]
    if spec.type == "bool":
        return [None if v is None else _as_bool(v) for v in text.tolist()]
    times = parse_times(text, ["iso"], timezone)
    return [None if pd.isna(t) else t.isoformat() for t in times.tolist()]


def source_attributes(
    column: Callable[[str], pd.Series], source: SourceSpec, n: int, timezone: str
) -> list[str | None] | None:
    """Per row, the JSON object of the source's declared attributes (keys without a value left
    out; None for a row with none); None when the source declares no attributes."""
    specs = source.attribute_specs
    if not specs:
        return None
    typed = {
        name: typed_attribute(column(spec.column), spec, timezone) for name, spec in specs.items()
    }
    out: list[str | None] = []
    for i in range(n):
        row = {k: v[i] for k, v in typed.items() if v[i] is not None}
        out.append(json.dumps(row, ensure_ascii=False, sort_keys=True) if row else None)
    return out
