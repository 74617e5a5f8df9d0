"""OGC API Features: the SQL behind `/collections/{id}/items`, items by id and collection extents.

GeoJSON is assembled from per-row JSON that PostGIS writes (ST_AsGeoJSON, json_build_object);
Python only joins strings, except for a `crs` other than CRS84 (featurecrs.py), where each
geometry's positions are moved (per vertex, exactly) and put in that CRS's axis order.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from psycopg import AsyncConnection, sql

from geoplatform.errors import NotFound
from geoplatform.tiles.catalog import Layer, UnknownProperty
from geoplatform.tiles.featurecrs import FeatureCrs, geometry_out
from geoplatform.tiles.mvt import where_fragment_t
from geoplatform.tiles.params import Filters, InvalidParameter

# A page as large as a client would ask for (GDAL's OAPIF driver takes the OpenAPI `default`);
# the maximum keeps one response in the tens of megabytes. Both are in the OpenAPI document.
DEFAULT_LIMIT = 1_000
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class ItemsQuery:
    """The parsed parameters of one items request."""

    bbox: tuple[float, float, float, float] | None  # WGS84 lon/lat, whatever bbox-crs was
    filters: Filters
    limit: int
    offset: int
    properties: tuple[str, ...] | None
    sortby: tuple[tuple[str, bool], ...]
    crs: FeatureCrs
    after: Any = None  # keyset cursor from a `next` link: rows with an id above it (id order)


def whole_days(filters: Filters, text: str | None) -> Filters:
    """A bare date in `datetime` is that whole UTC day (OGC API Features 7.15.4): `2024-01-12`
    and an interval ending `/2024-01-31` include the day's last instant. (Tiles and heatmaps keep
    the shared parser's own day handling: heatmaps count city-local days.)"""
    if text is None or filters.end is None:
        return filters
    if len(text.split("/")[-1].strip()) != 10:
        return filters
    end = filters.end + timedelta(days=1) - timedelta(microseconds=1)
    return dataclasses.replace(filters, end=end)


def parse_limit(value: int | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if value < 1:
        raise InvalidParameter("limit must be at least 1")
    # OGC API Features Part 1, 7.15.3: a limit above the maximum is not an error, it is the maximum
    return min(value, MAX_LIMIT)


def parse_properties(layer: Layer, text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    for name in names:
        layer.property(name)
    return names


def parse_sortby(layer: Layer, text: str | None) -> tuple[tuple[str, bool], ...]:
    """`sortby=+a,-b` (or `a`, `a DESC`... no: only the +/- form of OGC Features Part 5)."""
    if text is None or not text.strip():
        return ()
    keys: list[tuple[str, bool]] = []
    for part in text.split(","):
        item = part.strip()
        if not item:
            continue
        descending = item.startswith("-")
        name = item.lstrip("+-").strip()
        if not layer.property(name).is_scalar:
            raise UnknownProperty(f"{name!r} is a JSON object: sort by a plain property")
        keys.append((name, descending))
    return tuple(keys)


def _conditions(
    layer: Layer, q: ItemsQuery, *, with_cursor: bool = True
) -> tuple[sql.Composable, dict[str, Any]]:
    conds, params = q.filters.where(layer, "t", strict=True)
    if with_cursor and q.after is not None:
        conds.append(sql.SQL("{} > %(after)s").format(sql.Identifier("t", layer.config.id)))
        params["after"] = q.after
    if q.bbox is not None:
        box = q.bbox
        conds.insert(
            0,
            # the explicit && (LEAKPROOF, migration 0007) lets the GiST index drive the scan
            # under row-level security, where ST_Intersects alone cannot
            sql.SQL(
                "{g} && ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(by1)s, 4326) AND"
                " ST_Intersects({g}, ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(by1)s, 4326))"
            ).format(g=sql.Identifier("t", layer.config.geometry)),
        )
        params.update(zip(("bx0", "by0", "bx1", "by1"), box, strict=True))
    where = where_fragment_t(layer)
    body = sql.SQL(" AND ").join(conds) if conds else sql.SQL("TRUE")
    return sql.SQL("{}{}").format(body, where), params


def items_sql(layer: Layer, q: ItemsQuery) -> tuple[sql.Composed, dict[str, Any]]:
    """One page of features: id, GeoJSON geometry, properties JSON; `limit + 1` rows to page."""
    cfg = layer.config
    names = q.properties if q.properties is not None else tuple(layer.columns)
    pairs = [sql.SQL("{}, {}").format(sql.Literal(n), sql.Identifier("t", n)) for n in names]
    props = (
        sql.SQL("json_build_object({})::text").format(sql.SQL(", ").join(pairs))
        if pairs
        else sql.SQL("'{}'")
    )
    where, params = _conditions(layer, q)
    order = [
        sql.SQL("{} {} NULLS LAST").format(sql.Identifier("t", n), sql.SQL("DESC" if d else "ASC"))
        for n, d in q.sortby
    ]
    order.append(sql.SQL("{} ASC").format(sql.Identifier("t", cfg.id)))
    params.update(limit=q.limit + 1, offset=q.offset)
    statement = sql.SQL(
        "SELECT t.{id}, ST_AsGeoJSON(t.{geom}, 7), {props} FROM {table} AS t"
        " WHERE {where} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"
    ).format(
        id=sql.Identifier(cfg.id),
        geom=sql.Identifier(cfg.geometry),
        props=props,
        table=sql.Identifier(layer.schema, layer.table),
        where=where,
        order=sql.SQL(", ").join(order),
    )
    return statement, params


def count_sql(layer: Layer, q: ItemsQuery) -> tuple[sql.Composed, dict[str, Any]]:
    where, params = _conditions(layer, q, with_cursor=False)
    statement = sql.SQL("SELECT count(*) FROM {table} AS t WHERE {where}").format(
        table=sql.Identifier(layer.schema, layer.table), where=where
    )
    return statement, params


def feature_json(layer: Layer, row: tuple[Any, ...], crs: FeatureCrs) -> str:
    fid, geometry, props = row
    id_json = json.dumps(fid if isinstance(fid, int) else str(fid))
    geom = geometry_out(geometry, crs) if geometry is not None else "null"
    return f'{{"type":"Feature","id":{id_json},"geometry":{geom},"properties":{props}}}'


@dataclass(frozen=True)
class ItemsPage:
    features: list[str]
    has_next: bool
    number_matched: int | None  # None on keyset pages: the first page said it
    last_id: Any = None


async def fetch_items(conn: AsyncConnection[Any], layer: Layer, q: ItemsQuery) -> ItemsPage:
    statement, params = items_sql(layer, q)
    rows = await (await conn.execute(statement, params)).fetchall()
    has_next = len(rows) > q.limit
    features = [feature_json(layer, tuple(r), q.crs) for r in rows[: q.limit]]
    last_id = rows[q.limit - 1][0] if has_next else None
    matched: int | None
    if q.after is not None:
        matched = None  # numberMatched is optional; counting every page of a copy is waste
    elif q.offset == 0 and not has_next:
        matched = len(features)
    else:
        count_statement, count_params = count_sql(layer, q)
        row = await (await conn.execute(count_statement, count_params)).fetchone()
        matched = int(row[0]) if row else 0
    return ItemsPage(features, has_next, matched, last_id)


async def fetch_item(
    conn: AsyncConnection[Any], layer: Layer, item_id: str, crs: FeatureCrs
) -> str:
    cfg = layer.config
    column = layer.columns.get(cfg.id)
    value: Any = item_id
    if column is not None and column.json_type == "integer":
        try:
            value = int(item_id)
        except ValueError:
            raise NotFound(f"no feature {item_id!r} in {layer.name}") from None
    names = tuple(layer.columns)
    pairs = [sql.SQL("{}, {}").format(sql.Literal(n), sql.Identifier("t", n)) for n in names]
    statement = sql.SQL(
        "SELECT t.{id}, ST_AsGeoJSON(t.{geom}, 7), json_build_object({props})::text"
        " FROM {table} AS t WHERE t.{id} = %(id)s{where}"
    ).format(
        id=sql.Identifier(cfg.id),
        geom=sql.Identifier(cfg.geometry),
        props=sql.SQL(", ").join(pairs),
        table=sql.Identifier(layer.schema, layer.table),
        where=where_fragment_t(layer),
    )
    row = await (await conn.execute(statement, {"id": value})).fetchone()
    if row is None:
        raise NotFound(f"no feature {item_id!r} in {layer.name}")
    return feature_json(layer, tuple(row), crs)


async def collection_extent(
    conn: AsyncConnection[Any], layer: Layer
) -> tuple[list[float] | None, list[str | None] | None]:
    """Spatial extent (planner's estimate: no scan) and time extent (two index probes)."""
    bbox: list[float] | None = None
    try:
        cur = await conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM ST_EstimatedExtent(%s, %s, %s) AS e",
            (layer.schema, layer.table, layer.config.geometry),
        )
        row = await cur.fetchone()
        if row and row[0] is not None:
            bbox = [float(v) for v in row]
    except Exception:  # no statistics yet (table never analysed): extent unknown
        bbox = None
    interval: list[str | None] | None = None
    if layer.config.time:
        statement = sql.SQL(
            """SELECT to_char(min({c}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),"""
            """ to_char(max({c}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM {t}"""
        ).format(c=sql.Identifier(layer.config.time), t=sql.Identifier(layer.schema, layer.table))
        row = await (await conn.execute(statement)).fetchone()
        if row:
            interval = [row[0], row[1]]
    return bbox, interval
