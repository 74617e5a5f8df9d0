"""Query parameter groups shared by tiles and features: parsed once, each bad value a clear 400."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pygeofilter.ast as ast
from psycopg import sql

from geoplatform.errors import GeoPlatformError
from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.cql import parse_filter, to_sql


class InvalidParameter(GeoPlatformError, ValueError):
    """A query parameter that cannot be understood."""

    http_status = 400


def _instant(text: str, name: str) -> datetime:
    value = text.strip()
    try:
        if len(value) == 10:
            parsed = datetime.fromisoformat(value).replace(tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InvalidParameter(
            f"{name}: {text!r} is not an RFC 3339 date-time (2024-05-01T08:00:00Z) or date"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse_datetime(text: str | None) -> tuple[datetime | None, datetime | None] | None:
    """OGC `datetime`: an instant, or `start/end` with `..` (or empty) for an open end."""
    if text is None or text.strip() == "":
        return None
    if "/" not in text:
        instant = _instant(text, "datetime")
        return instant, instant
    parts = text.split("/")
    if len(parts) != 2:
        raise InvalidParameter("datetime: use an instant or one interval start/end")
    start_text, end_text = parts
    start = None if start_text.strip() in ("", "..") else _instant(start_text, "datetime")
    end = None if end_text.strip() in ("", "..") else _instant(end_text, "datetime")
    if start is None and end is None:
        raise InvalidParameter("datetime: an interval needs at least one end")
    if start is not None and end is not None and start > end:
        raise InvalidParameter("datetime: the interval starts after it ends")
    return start, end


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """`bbox=minlon,minlat,maxlon,maxlat` in WGS84 degrees."""
    if text is None or text.strip() == "":
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise InvalidParameter(f"bbox: {text!r} is not four comma-separated numbers") from exc
    if len(values) != 4:
        raise InvalidParameter(
            f"bbox: needs 4 numbers (minlon,minlat,maxlon,maxlat), got {len(values)}"
        )
    x0, y0, x1, y1 = values
    if not all(math.isfinite(v) for v in values):
        raise InvalidParameter("bbox: numbers must be finite")
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InvalidParameter("bbox: longitudes must be within ±180 and latitudes within ±90")
    if y0 > y1:
        raise InvalidParameter("bbox: minlat is greater than maxlat")
    if x0 > x1:
        raise InvalidParameter("bbox: crossing the antimeridian is not supported (minlon > maxlon)")
    return x0, y0, x1, y1


def parse_categories(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    return tuple(sorted({c.strip() for c in text.split(",") if c.strip()}))


@dataclass(frozen=True)
class Filters:
    """What narrows the rows of a layer: time window, categories, CQL2."""

    start: datetime | None = None
    end: datetime | None = None
    categories: tuple[str, ...] = ()
    cql: ast.Node | None = None
    cql_key: str = ""

    @classmethod
    def parse(
        cls,
        datetime_text: str | None,
        category: str | None,
        filter_text: str | None,
        filter_lang: str | None,
    ) -> Filters:
        window = parse_datetime(datetime_text)
        node = None
        key = ""
        if filter_text is not None and filter_text.strip():
            node = parse_filter(filter_text, filter_lang)
            key = f"{filter_lang or 'cql2-text'}:{filter_text}"
        return cls(
            start=window[0] if window else None,
            end=window[1] if window else None,
            categories=parse_categories(category),
            cql=node,
            cql_key=key,
        )

    @property
    def has_window(self) -> bool:
        return self.start is not None or self.end is not None

    def key(self) -> str:
        """A canonical string for cache keys and ETags."""
        s = self.start.isoformat() if self.start else ""
        e = self.end.isoformat() if self.end else ""
        return f"{s}/{e}|{','.join(self.categories)}|{self.cql_key}"

    def epoch_window(self) -> tuple[float | None, float | None]:
        return (
            self.start.timestamp() if self.start else None,
            self.end.timestamp() if self.end else None,
        )

    def where(
        self, layer: Layer, alias: str, *, strict: bool
    ) -> tuple[list[sql.Composable], dict[str, Any]]:
        """SQL conditions and parameters for `layer`.

        `strict` (features API): a time window or category on a layer without such a field is a
        400. Composite tiles are not strict: the window applies to the layers that have time.
        """
        conds: list[sql.Composable] = []
        params: dict[str, Any] = {}
        p = f"{layer.name}_"
        cfg = layer.config
        if self.has_window:
            if cfg.time:
                col = sql.Identifier(alias, cfg.time)
                if self.start is not None:
                    conds.append(sql.SQL("{} >= {}").format(col, sql.Placeholder(p + "t0")))
                    params[p + "t0"] = self.start
                if self.end is not None:
                    conds.append(sql.SQL("{} <= {}").format(col, sql.Placeholder(p + "t1")))
                    params[p + "t1"] = self.end
            elif strict:
                raise InvalidParameter(f"datetime: layer {layer.name!r} has no time field")
        if self.categories:
            if cfg.category:
                col = sql.Identifier(alias, cfg.category)
                conds.append(sql.SQL("{}::text = ANY({})").format(col, sql.Placeholder(p + "cat")))
                params[p + "cat"] = list(self.categories)
            elif strict:
                raise InvalidParameter(f"category: layer {layer.name!r} has no category field")
        if self.cql is not None:
            cond, cql_params = to_sql(self.cql, layer, alias, prefix=p + "q")
            conds.append(cond)
            params.update(cql_params)
        return conds, params
