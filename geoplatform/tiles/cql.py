"""CQL2 (text and JSON, parsed by pygeofilter) compiled to SQL against a layer's allow-list.

Only properties the layer exposes (and its geometry, as `geom` or its column name) may appear;
every value is a bound parameter; identifiers are quoted. What is not supported is refused with
a 400 naming the construct, never passed through.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any, Final

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


#: Bounds of a filter: its text, the nesting of its operators (a chain of ANDs is one level),
#: and its terms (comparisons and other tests, each value of an IN list). A filter past one
#: is refused with a 400 that names the limit.
MAX_FILTER_CHARS: Final = 4096
MAX_DEPTH: Final = 16
MAX_TERMS: Final = 256
_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_filter(text: str, lang: str | None) -> ast.Node:
    """Parse `filter` in `filter-lang` (cql2-text by default, or cql2-json), within the limits."""
    language = (lang or "cql2-text").lower()
    if language not in ("cql2-text", "cql2-json"):
        raise InvalidFilter(
            f"filter-lang {language[:40]!r} is not supported: use cql2-text or cql2-json"
        )
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidFilter(f"filter is longer than the limit of {MAX_FILTER_CHARS} characters")
    try:
        if language == "cql2-text":
            node = parse_text(text)
        else:
            document = json.loads(text)
            if not isinstance(document, dict) or not document:
                raise InvalidFilter(
                    "a cql2-json filter is a JSON object such as "
                    '{"op": "=", "args": [{"property": "category"}, "市容环境"]}'
                )
            _check_json(document)
            node = parse_json(document)
    except InvalidFilter:
        raise
    except Exception as exc:  # pygeofilter/lark raise many types; all mean "bad filter"
        if language == "cql2-json" and not isinstance(exc, json.JSONDecodeError):
            # pygeofilter's TypeError/KeyError texts name its internals, not the user's mistake
            raise InvalidFilter(
                "filter is not a valid cql2-json expression: check each op and its args"
            ) from exc
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidFilter(f"filter does not parse as {language}: {first[:200]}") from exc
    if not isinstance(node, ast.Node):
        raise InvalidFilter(f"filter is not a {language} expression (a condition is needed)")
    _check_tree(node)
    return node


def _check_json(document: Any) -> None:
    """Depth and size of a cql2-json document, walked without recursion."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    terms = 0
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH * 3:  # an operator nests as {"args": [ {...} ]}: 3 levels
            raise InvalidFilter(f"filter nests deeper than the limit of {MAX_DEPTH} levels")
        terms += 1
        if terms > MAX_TERMS * 4:
            raise InvalidFilter(f"filter has more than the limit of {MAX_TERMS} terms")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _chain(node: ast.And | ast.Or) -> list[Any]:
    """The operands of a chain `a AND b AND c` (parsed as nested pairs), flattened."""
    kind = type(node)
    out: list[Any] = []
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if type(item) is kind:
            stack.extend((item.rhs, item.lhs))
        else:
            out.append(item)
    return out


def _children(node: Any) -> list[Any]:
    if isinstance(node, ast.And | ast.Or):
        return _chain(node)
    if isinstance(node, ast.Node):
        return list(node.get_sub_nodes())
    if isinstance(node, list | tuple):
        return list(node)
    return []


def _check_tree(node: ast.Node) -> None:
    """Depth (of nested operators) and term count of a parsed filter, walked without recursion."""
    stack: list[tuple[Any, int]] = [(node, 1)]
    terms = 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, ast.In):
            terms += len(item.sub_nodes)
        elif isinstance(item, ast.Predicate | ast.Expression) and not isinstance(
            item, ast.And | ast.Or | ast.Not | ast.Attribute
        ):
            terms += 1  # a comparison, spatial or temporal test, or a function call
        if terms > MAX_TERMS:
            raise InvalidFilter(f"filter has more than the limit of {MAX_TERMS} terms")
        if depth > MAX_DEPTH:
            raise InvalidFilter(f"filter nests deeper than the limit of {MAX_DEPTH} levels")
        nested = depth + 1 if isinstance(item, ast.Node) else depth
        stack.extend((child, nested) for child in _children(item))


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
        if isinstance(value, str) and _CONTROL.search(value):
            raise InvalidFilter("a filter value holds a NUL or control character")
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
            return sql.SQL("({})").format(op.join([self.compile(n) for n in _chain(node)]))
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
