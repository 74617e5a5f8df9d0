"""Vector tiles: one SQL statement per layer per tile, layer blobs concatenated.

A layer is drawn, per tile, one of two ways:
- features: ST_AsMVT over ST_AsMVTGeom with the buffered envelope, polygons simplified by a
  tolerance in tile pixels, rows in the layer's importance order up to its cap;
- H3 clusters (below detail zoom, or when a detail tile would exceed the cap): one point per H3
  parent cell with `count`, so every row is counted in exactly one cluster at every zoom.
Clusters come from the in-process point index (overview.py) unless a CQL2 filter asks for more
than time and category, in which case PostGIS groups the rows with `h3_parent` itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from psycopg import AsyncConnection, sql

from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.overview import Clusters, PointIndex
from geoplatform.tiles.params import Filters
from geoplatform.tiles.tms import InvalidTile, OutputCrs, TileBox

log = logging.getLogger(__name__)
Mode = Literal["features", "clusters", "empty"]


@cache
def query(name: str) -> str:
    """Fixed SQL shipped as geoplatform/tiles/sql/<name>.sql."""
    return resources.files("geoplatform.tiles").joinpath("sql", f"{name}.sql").read_text("utf-8")


@dataclass(frozen=True)
class TileRequest:
    box: TileBox
    crs: OutputCrs
    filters: Filters


@dataclass(frozen=True)
class LayerTile:
    layer: str
    mode: Mode
    data: bytes


def _envelope(box: TileBox, prefix: str) -> tuple[sql.Composable, dict[str, Any]]:
    names = [f"{prefix}{k}" for k in ("x0", "y0", "x1", "y1")]
    env = sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, {})").format(
        *[sql.Placeholder(n) for n in names], sql.Literal(box.srid)
    )
    return env, dict(zip(names, box.bounds, strict=True))


def _index_box(column: sql.Composable, box: TileBox) -> tuple[sql.Composable, dict[str, Any]]:
    cond = sql.SQL("{} && ST_MakeEnvelope(%(lx0)s, %(ly0)s, %(lx1)s, %(ly1)s, 4326)").format(column)
    return cond, dict(zip(("lx0", "ly0", "lx1", "ly1"), box.lonlat, strict=True))


def _planar(column: sql.Composable, box: TileBox) -> tuple[sql.Composable, dict[str, Any]]:
    """The geometry moved to GCJ-02 if asked (affine fit) and put in the tile's CRS."""
    expr = column
    params: dict[str, Any] = {}
    if box.affine is not None:
        names = ["aa", "ab", "ad", "ae", "ax", "ay"]
        expr = sql.SQL("ST_Affine({}, {}, {}, {}, {}, {}, {})").format(
            expr, *[sql.Placeholder(n) for n in names]
        )
        params.update(zip(names, box.affine, strict=True))
    if box.srid == 3857:
        expr = sql.SQL("ST_Transform({}, 3857)").format(expr)
    return expr, params


def _property(layer: Layer, name: str) -> sql.Composable:
    column = layer.columns[name]
    ident = sql.Identifier("t", name)
    if column.is_time:
        return sql.SQL(
            """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS {}"""
        ).format(ident, sql.Identifier(name))
    if column.json_type == "string" and not column.pg_type.startswith(("text", "character")):
        return sql.SQL("{}::text AS {}").format(ident, sql.Identifier(name))
    return sql.SQL("{} AS {}").format(ident, sql.Identifier(name))


def order_by(layer: Layer, alias: str) -> sql.Composable:
    """The layer's importance order (NULLs last), then its id: a total, stable order."""
    keys = [
        sql.SQL("{} {} NULLS LAST").format(
            sql.Identifier(alias, i.column), sql.SQL("DESC" if i.descending else "ASC")
        )
        for i in layer.importance
    ]
    if layer.config.id not in {i.column for i in layer.importance}:
        keys.append(sql.SQL("{} ASC").format(sql.Identifier(alias, layer.config.id)))
    return sql.SQL(", ").join(keys)


def features_sql(layer: Layer, req: TileRequest, limit: int) -> tuple[sql.Composed, dict[str, Any]]:
    """Rows of `layer` in the buffered tile, importance-ordered, at most `limit`; returns n too."""
    box = req.box
    cfg = layer.config
    geom = sql.Identifier("t", cfg.geometry)
    expr, params = _planar(geom, box)
    if layer.is_polygon and layer.simplify_px > 0:
        expr = sql.SQL("ST_Simplify({}, %(tol)s, true)").format(expr)
        params["tol"] = layer.simplify_px * box.width / layer.extent
    env, env_params = _envelope(box, "e")
    params.update(env_params)
    cond, box_params = _index_box(geom, box)
    params.update(box_params)
    conds, filter_params = req.filters.where(layer, "t", strict=False)
    params.update(filter_params)
    integer_id = layer.columns.get(cfg.id) is not None and layer.columns[cfg.id].json_type == (
        "integer"
    )
    props = [_property(layer, p) for p in layer.columns]
    fid = (
        sql.SQL(", {} AS mvt_fid").format(sql.Identifier("t", cfg.id))
        if integer_id
        else sql.SQL("")
    )
    params.update(layer=layer.name, extent=layer.extent, buffer=layer.buffer, limit=limit)
    statement = sql.SQL(
        "WITH s AS MATERIALIZED (\n"
        "  SELECT ST_AsMVTGeom({expr}, {env}, %(extent)s, %(buffer)s, true) AS geom{fid}, {props},"
        " {orderkeys}\n"
        "  FROM {table} AS t\n"
        "  WHERE {cond}{where}{conds}\n"
        "), f AS (SELECT * FROM s ORDER BY {order} LIMIT %(limit)s)\n"
        "SELECT (SELECT count(*) FROM f),\n"
        "  (SELECT ST_AsMVT(m, %(layer)s, %(extent)s, 'geom'{fidname})"
        " FROM (SELECT geom{fidcol}, {names} FROM f WHERE geom IS NOT NULL) AS m)"
    ).format(
        expr=expr,
        env=env,
        fid=fid,
        props=sql.SQL(", ").join(props),
        orderkeys=sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(sql.Identifier("t", c), sql.Identifier(f"ord_{c}"))
            for c in _order_columns(layer)
        ),
        table=sql.Identifier(layer.schema, layer.table),
        cond=cond,
        where=where_fragment_t(layer),
        conds=sql.SQL("").join(sql.SQL(" AND ") + c for c in conds),
        order=_order_outer(layer),
        fidname=sql.SQL(", 'mvt_fid'") if integer_id else sql.SQL(""),
        fidcol=sql.SQL(", mvt_fid") if integer_id else sql.SQL(""),
        names=sql.SQL(", ").join(sql.Identifier(p) for p in layer.columns),
    )
    return statement, params


def _order_columns(layer: Layer) -> list[str]:
    cols = [i.column for i in layer.importance]
    if layer.config.id not in cols:
        cols.append(layer.config.id)
    return cols


def _order_outer(layer: Layer) -> sql.Composable:
    desc = {i.column: i.descending for i in layer.importance}
    return sql.SQL(", ").join(
        sql.SQL("{} {} NULLS LAST").format(
            sql.Identifier(f"ord_{c}"), sql.SQL("DESC" if desc.get(c) else "ASC")
        )
        for c in _order_columns(layer)
    )


def where_fragment_t(layer: Layer) -> sql.Composable:
    """The catalog's fixed equalities, qualified by the table alias `t`."""
    if not layer.config.where:
        return sql.SQL("")
    return sql.SQL("").join(
        sql.SQL(" AND {} = {}").format(sql.Identifier("t", k), sql.Literal(v))
        for k, v in layer.config.where.items()
    )


def clusters_sql(layer: Layer, req: TileRequest, res: int) -> tuple[sql.Composed, dict[str, Any]]:
    """H3 clusters grouped by PostGIS (used when a CQL2 filter is present)."""
    box = req.box
    point = sql.Identifier("t", layer.point_column)
    expr, params = _planar(point, box)
    env, env_params = _envelope(box, "e")
    params.update(env_params)
    cond, box_params = _index_box(point, box)
    params.update(box_params)
    conds, filter_params = req.filters.where(layer, "t", strict=False)
    params.update(filter_params)
    params.update(layer=layer.name, extent=layer.extent, buffer=layer.buffer, res=res)
    statement = sql.SQL(
        "SELECT ST_AsMVT(c, %(layer)s, %(extent)s, 'geom') FROM (\n"
        "  SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(avg(ST_X(s.p)), avg(ST_Y(s.p))), {srid}),"
        " {env}, %(extent)s, %(buffer)s, false) AS geom,\n"
        "    count(*)::int8 AS count, to_hex(h3_parent(s.h3, %(res)s)) AS h3\n"
        "  FROM (SELECT {expr} AS p, t.h3_r11 AS h3 FROM {table} AS t\n"
        "        WHERE {cond} AND t.h3_r11 IS NOT NULL{where}{conds}) AS s\n"
        "  WHERE ST_X(s.p) >= %(ex0)s AND ST_X(s.p) < %(ex1)s"
        " AND ST_Y(s.p) >= %(ey0)s AND ST_Y(s.p) < %(ey1)s\n"
        "  GROUP BY h3_parent(s.h3, %(res)s)\n"
        "  ORDER BY h3_parent(s.h3, %(res)s)\n"
        ") AS c WHERE c.geom IS NOT NULL"
    ).format(
        srid=sql.Literal(box.srid),
        env=env,
        expr=expr,
        table=sql.Identifier(layer.schema, layer.table),
        cond=cond,
        where=where_fragment_t(layer),
        conds=sql.SQL("").join(sql.SQL(" AND ") + c for c in conds),
    )
    return statement, params


def _array_literal(values: npt.NDArray[np.int64]) -> str:
    return "{" + ",".join(map(str, values.tolist())) + "}"


async def encode_clusters(
    conn: AsyncConnection[Any], layer: Layer, box: TileBox, clusters: Clusters
) -> bytes:
    """Clusters to an MVT layer: tile coordinates computed here, the encoding by ST_AsMVT."""
    if len(clusters) == 0:
        return b""
    x0, y0, x1, y1 = box.bounds
    px = np.rint((clusters.x - x0) * (layer.extent / (x1 - x0))).astype(np.int64)
    py = np.rint((y1 - clusters.y) * (layer.extent / (y1 - y0))).astype(np.int64)
    params: dict[str, Any] = {
        "layer": layer.name,
        "extent": layer.extent,
        "px": _array_literal(px),
        "py": _array_literal(py),
        "ns": _array_literal(clusters.count),
        "cs": _array_literal(clusters.cell),
    }
    row = await (await conn.execute(query("clusters"), params, binary=True)).fetchone()
    return bytes(row[0]) if row and row[0] else b""


async def _sql_bytes(
    conn: AsyncConnection[Any], stmt: sql.Composed, params: dict[str, Any]
) -> bytes:
    row = await (await conn.execute(stmt, params, binary=True)).fetchone()
    return bytes(row[0]) if row and row[0] else b""


async def render_layer(
    conn: AsyncConnection[Any], layer: Layer, req: TileRequest, index: PointIndex | None
) -> LayerTile:
    """One layer's blob for one tile (see the module docstring for how it decides)."""
    z = req.box.z
    cfg = layer.config
    clustered = cfg.overview == "clusters"
    res = layer.h3_resolution(z)
    use_index = clustered and index is not None and req.filters.cql is None
    if use_index and index is not None:
        start, end = req.filters.epoch_window()
        cats = req.filters.categories if cfg.category else ()
        window = (start, end) if cfg.time else (None, None)
        over_cap = False
        if not layer.clustered_at(z):
            margin = layer.buffer / layer.extent
            buffered = index.select(
                req.box, req.crs, start=window[0], end=window[1], categories=cats, margin=margin
            )
            over_cap = buffered.size > cfg.cap
        if layer.clustered_at(z) or over_cap:
            idx = index.select(req.box, req.crs, start=window[0], end=window[1], categories=cats)
            data = await encode_clusters(
                conn, layer, req.box, index.clusters(idx, req.box, req.crs, res)
            )
            return LayerTile(layer.name, "clusters" if data else "empty", data)
    elif clustered and layer.clustered_at(z):
        stmt, params = clusters_sql(layer, req, res)
        data = await _sql_bytes(conn, stmt, params)
        return LayerTile(layer.name, "clusters" if data else "empty", data)
    limit = cfg.cap + 1 if clustered else cfg.cap
    stmt, params = features_sql(layer, req, limit)
    row = await (await conn.execute(stmt, params, binary=True)).fetchone()
    n = int(row[0]) if row else 0
    if clustered and n > cfg.cap:
        stmt, params = clusters_sql(layer, req, res)
        data = await _sql_bytes(conn, stmt, params)
        return LayerTile(layer.name, "clusters" if data else "empty", data)
    data = bytes(row[1]) if row and row[1] else b""
    return LayerTile(layer.name, "features" if data else "empty", data)


def check_zoom(layers: list[Layer], z: int) -> list[Layer]:
    """Layers drawn at zoom z; a single layer asked for outside its range is a 400."""
    drawn = [layer for layer in layers if layer.config.minzoom <= z <= layer.config.maxzoom]
    if len(layers) == 1 and not drawn:
        cfg = layers[0].config
        raise InvalidTile(
            f"layer {layers[0].name!r} is served at zooms {cfg.minzoom}..{cfg.maxzoom}, not {z}"
        )
    return drawn


__all__ = ["LayerTile", "TileRequest", "check_zoom", "order_by", "query", "render_layer"]
