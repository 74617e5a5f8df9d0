"""OGC API Features: the SQL behind `/collections/{id}/items`, items by id and collection extents.

GeoJSON is assembled from per-row JSON that PostGIS writes (ST_AsGeoJSON, json_build_object);
Python only joins strings, except for `crs=gcj02`, where coordinates are moved with the
published formula (exact, per vertex) before they are written out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from psycopg import AsyncConnection, sql

from geoplatform.errors import NotFound
from geoplatform.spatial.chinese_offsets import wgs84_to_gcj02
from geoplatform.tiles.catalog import Layer, UnknownProperty
from geoplatform.tiles.mvt import where_fragment_t
from geoplatform.tiles.params import Filters, InvalidParameter
from geoplatform.tiles.tms import OutputCrs, _gcj_box

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class ItemsQuery:
    """The parsed parameters of one items request."""

    bbox: tuple[float, float, float, float] | None
    filters: Filters
    limit: int
    offset: int
    properties: tuple[str, ...] | None
    sortby: tuple[tuple[str, bool], ...]
    crs: OutputCrs


def parse_limit(value: int | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if value < 1:
        raise InvalidParameter("limit must be at least 1")
    if value > MAX_LIMIT:
        raise InvalidParameter(
            f"limit {value} is too large: at most {MAX_LIMIT}; page with next links"
        )
    return value


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


def _conditions(layer: Layer, q: ItemsQuery) -> tuple[sql.Composable, dict[str, Any]]:
    conds, params = q.filters.where(layer, "t", strict=True)
    if q.bbox is not None:
        box = q.bbox
        if q.crs == "gcj02":
            box, _ = _gcj_box(box)
        conds.insert(
            0,
            sql.SQL(
                "ST_Intersects({}, ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(by1)s, 4326))"
            ).format(sql.Identifier("t", layer.config.geometry)),
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
    where, params = _conditions(layer, q)
    statement = sql.SQL("SELECT count(*) FROM {table} AS t WHERE {where}").format(
        table=sql.Identifier(layer.schema, layer.table), where=where
    )
    return statement, params


def _move(coords: Any) -> Any:
    """WGS84 → GCJ-02 for any GeoJSON coordinate nesting."""
    arr = np.asarray(coords, dtype=np.float64)
    flat = arr.reshape(-1, arr.shape[-1])
    lon, lat = wgs84_to_gcj02(flat[:, 0], flat[:, 1])
    flat = flat.copy()
    flat[:, 0] = np.round(lon, 7)
    flat[:, 1] = np.round(lat, 7)
    return flat.reshape(arr.shape).tolist()


def _geometry_out(text: str, crs: OutputCrs) -> str:
    if crs == "wgs84":
        return text
    geometry = json.loads(text)
    if geometry["type"] == "MultiPolygon" or geometry["type"] == "MultiLineString":
        geometry["coordinates"] = [
            [_move(ring) for ring in part] if geometry["type"] == "MultiPolygon" else _move(part)
            for part in geometry["coordinates"]
        ]
    elif geometry["type"] == "Polygon":
        geometry["coordinates"] = [_move(ring) for ring in geometry["coordinates"]]
    else:
        geometry["coordinates"] = _move(geometry["coordinates"])
    return json.dumps(geometry, separators=(",", ":"))


def feature_json(layer: Layer, row: tuple[Any, ...], crs: OutputCrs) -> str:
    fid, geometry, props = row
    id_json = json.dumps(fid if isinstance(fid, int) else str(fid))
    geom = _geometry_out(geometry, crs) if geometry is not None else "null"
    return f'{{"type":"Feature","id":{id_json},"geometry":{geom},"properties":{props}}}'


@dataclass(frozen=True)
class ItemsPage:
    features: list[str]
    has_next: bool
    number_matched: int


async def fetch_items(conn: AsyncConnection[Any], layer: Layer, q: ItemsQuery) -> ItemsPage:
    statement, params = items_sql(layer, q)
    rows = await (await conn.execute(statement, params)).fetchall()
    has_next = len(rows) > q.limit
    features = [feature_json(layer, tuple(r), q.crs) for r in rows[: q.limit]]
    if q.offset == 0 and not has_next:
        matched = len(features)
    else:
        count_statement, count_params = count_sql(layer, q)
        row = await (await conn.execute(count_statement, count_params)).fetchone()
        matched = int(row[0]) if row else 0
    return ItemsPage(features, has_next, matched)


async def fetch_item(conn: AsyncConnection[Any], layer: Layer, item_id: str, crs: OutputCrs) -> str:
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
