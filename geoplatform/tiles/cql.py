"""CQL2 (text and JSON, parsed by pygeofilter) compiled to SQL against a layer's allow-list.

Only properties the layer exposes (and its geometry, as `geom` or its column name) may appear;
every value is a bound parameter; identifiers are quoted. What is not supported is refused with
a 400 naming the construct, never passed through.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pygeofilter.ast as ast
import pygeofilter.values as values
from psycopg import sql
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse as parse_text

from geoplatform.errors import GeoPlatformError
from geoplatform.tiles.catalog import Layer


class InvalidFilter(GeoPlatformError, ValueError):
    """A filter that does not parse, names an unknown property or uses an unsupported operator."""

    http_status = 400


def parse_filter(text: str, lang: str | None) -> ast.Node:
    """Parse `filter` in `filter-lang` (cql2-text by default, or cql2-json)."""
    language = (lang or "cql2-text").lower()
    try:
        if language == "cql2-text":
            return parse_text(text)
        if language == "cql2-json":
            return parse_json(json.loads(text))
    except Exception as exc:  # pygeofilter/lark raise many types; all mean "bad filter"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidFilter(f"filter does not parse as {language}: {first[:200]}") from exc
    raise InvalidFilter(f"filter-lang {lang!r} is not supported: use cql2-text or cql2-json")


_COMPARISON = {
    ast.ComparisonOp.EQ: "=",
    ast.ComparisonOp.NE: "<>",
    ast.ComparisonOp.LT: "<",
    ast.ComparisonOp.LE: "<=",
    ast.ComparisonOp.GT: ">",
    ast.ComparisonOp.GE: ">=",
}
_SPATIAL = {
    ast.SpatialComparisonOp.INTERSECTS: "ST_Intersects",
    ast.SpatialComparisonOp.DISJOINT: "ST_Disjoint",
    ast.SpatialComparisonOp.CONTAINS: "ST_Contains",
    ast.SpatialComparisonOp.WITHIN: "ST_Within",
    ast.SpatialComparisonOp.TOUCHES: "ST_Touches",
    ast.SpatialComparisonOp.CROSSES: "ST_Crosses",
    ast.SpatialComparisonOp.OVERLAPS: "ST_Overlaps",
    ast.SpatialComparisonOp.EQUALS: "ST_Equals",
}


class _Compiler:
    def __init__(self, layer: Layer, alias: str, prefix: str) -> None:
        self.layer = layer
        self.alias = alias
        self.prefix = prefix
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> sql.Placeholder:
        """A named placeholder for a user value: values never enter the SQL text."""
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def column(self, node: Any) -> sql.Composable:
        if not isinstance(node, ast.Attribute):
            raise InvalidFilter("the left side of a comparison must be a property name")
        name = node.name
        if name in ("geom", "geometry", self.layer.config.geometry):
            return sql.Identifier(self.alias, self.layer.config.geometry)
        if not self.layer.property(name).is_scalar:  # raises for anything not exposed
            raise InvalidFilter(f"{name!r} is a JSON object: filters compare plain properties")
        return sql.Identifier(self.alias, name)

    def value(self, node: Any) -> sql.Composable:
        if isinstance(node, bool | int | float | str | datetime | date):
            return self.bind(node)
        if isinstance(node, ast.Attribute):
            return self.column(node)
        if isinstance(node, values.Geometry):
            return sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON({}::text), 4326)").format(
                self.bind(json.dumps(node.geometry))
            )
        if isinstance(node, values.Envelope):
            return self.envelope(node.x1, node.y1, node.x2, node.y2)
        if isinstance(node, ast.Function) and node.name.lower() == "bbox":
            args = [float(a) for a in node.arguments]
            if len(args) != 4:
                raise InvalidFilter("BBOX needs 4 numbers")
            return self.envelope(*args)
        raise InvalidFilter(f"unsupported value in filter: {type(node).__name__}")

    def envelope(self, x1: float, y1: float, x2: float, y2: float) -> sql.Composable:
        coords = [self.bind(float(v)) for v in (x1, y1, x2, y2)]
        return sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, 4326)").format(*coords)

    def compile(self, node: Any) -> sql.Composable:
        if isinstance(node, ast.And | ast.Or):
            op = sql.SQL(" AND " if isinstance(node, ast.And) else " OR ")
            return sql.SQL("({})").format(op.join([self.compile(node.lhs), self.compile(node.rhs)]))
        if isinstance(node, ast.Not):
            return sql.SQL("(NOT {})").format(self.compile(node.sub_node))
        if isinstance(node, ast.Comparison):
            return sql.SQL("{} {} {}").format(
                self.column(node.lhs), sql.SQL(_COMPARISON[node.op]), self.value(node.rhs)
            )
        if isinstance(node, ast.Between):
            return sql.SQL("{} {}BETWEEN {} AND {}").format(
                self.column(node.lhs),
                sql.SQL("NOT " if node.not_ else ""),
                self.value(node.low),
                self.value(node.high),
            )
        if isinstance(node, ast.Like):
            like = "ILIKE" if node.nocase else "LIKE"
            pattern = _like_pattern(node.pattern, node.wildcard, node.singlechar, node.escapechar)
            return sql.SQL("{}::text {}{} {}").format(
                self.column(node.lhs),
                sql.SQL("NOT " if node.not_ else ""),
                sql.SQL(like),
                self.bind(pattern),
            )
        if isinstance(node, ast.In):
            items = sql.SQL(", ").join(self.value(v) for v in node.sub_nodes)
            return sql.SQL("{} {}IN ({})").format(
                self.column(node.lhs), sql.SQL("NOT " if node.not_ else ""), items
            )
        if isinstance(node, ast.IsNull):
            return sql.SQL("{} IS {}NULL").format(
                self.column(node.lhs), sql.SQL("NOT " if node.not_ else "")
            )
        if isinstance(node, ast.SpatialComparisonPredicate):
            return sql.SQL("{}({}, {})").format(
                sql.SQL(_SPATIAL[node.op]), self.column(node.lhs), self.value(node.rhs)
            )
        if isinstance(node, ast.BBox):
            return sql.SQL("ST_Intersects({}, {})").format(
                self.column(node.lhs), self.envelope(node.minx, node.miny, node.maxx, node.maxy)
            )
        if isinstance(node, ast.TemporalPredicate):
            return self.temporal(node)
        if isinstance(node, ast.Include):
            return sql.SQL("TRUE")
        if isinstance(node, ast.Exclude):
            return sql.SQL("FALSE")
        raise InvalidFilter(f"filter operator {type(node).__name__} is not supported")

    def temporal(self, node: ast.TemporalPredicate) -> sql.Composable:
        column = self.column(node.lhs)
        rhs = node.rhs
        if isinstance(rhs, values.Interval):
            start, end = rhs.start, rhs.end
        else:
            start = end = rhs
        start_sql = self.bind(start) if start is not None else sql.SQL("'-infinity'")
        end_sql = self.bind(end) if end is not None else sql.SQL("'infinity'")
        op = node.op
        if op in (ast.TemporalComparisonOp.BEFORE,):
            return sql.SQL("{} < {}").format(column, start_sql)
        if op in (ast.TemporalComparisonOp.AFTER,):
            return sql.SQL("{} > {}").format(column, end_sql)
        if op in (ast.TemporalComparisonOp.TEQUALS,) and start == end:
            return sql.SQL("{} = {}").format(column, start_sql)
        if op in (ast.TemporalComparisonOp.DISJOINT,):
            return sql.SQL("NOT ({} BETWEEN {} AND {})").format(column, start_sql, end_sql)
        if op.name in ("DURING", "TOVERLAPS", "OVERLAPPEDBY", "BEGINS", "ENDS", "INTERSECTS"):
            return sql.SQL("{} BETWEEN {} AND {}").format(column, start_sql, end_sql)
        raise InvalidFilter(f"temporal operator {op.name} is not supported on instants")


def _like_pattern(pattern: str, wildcard: str, single: str, escape: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\" + nxt if nxt in "%_\\" else nxt)
            i += 2
            continue
        if ch == wildcard:
            out.append("%")
        elif ch == single:
            out.append("_")
        elif ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def to_sql(
    node: ast.Node, layer: Layer, alias: str = "t", prefix: str = "cql"
) -> tuple[sql.Composable, dict[str, Any]]:
    """The WHERE condition for `node` on `layer` (table aliased as `alias`) and its parameters."""
    compiler = _Compiler(layer, alias, prefix)
    return compiler.compile(node), compiler.params
