"""The audit of person-level answers, appended in the transaction that read the rows.

Features and item answers log the ids they return; people tiles at detail zoom are decoded for
theirs (they are never cached, so every one is logged). Ids are stored as keyed HMACs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import mapbox_vector_tile
from psycopg import AsyncConnection

from geoplatform.access.audit import id_hmac
from geoplatform.settings import Settings
from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.context import ServerContext
from geoplatform.tiles.mvt import TileRequest

_AUDIT_SQL = "SELECT access.audit_append(%s, %s, %s, %s, %s::jsonb, %s, %s)"


def audit_key(settings: Settings) -> bytes:
    """The HMAC key for ids: the platform's (GEOPLATFORM_HMAC_KEY[_FILE]) when set, else one
    derived from the api role's URL, stable for the deployment and unknown to the trail."""
    if settings.hmac_key_file is not None:
        return Path(settings.hmac_key_file).expanduser().read_bytes().strip()
    if settings.hmac_key is not None:
        return settings.hmac_key.get_secret_value().encode()
    from geoplatform.db.roles import API, url_for_role

    return hashlib.sha256(b"geoplatform-audit:" + url_for_role(settings, API).encode()).digest()


async def audit_read(
    ctx: ServerContext,
    conn: AsyncConnection[Any],
    endpoint: str,
    params: dict[str, Any],
    ids: list[object],
) -> None:
    """Append one row: who, role, scope, endpoint, parameters, row count, HMACs of the ids."""
    key = getattr(ctx, "_audit_key", None)
    if key is None:
        key = audit_key(ctx.settings)
        object.__setattr__(ctx, "_audit_key", key)
    p = ctx.principal
    await conn.execute(
        _AUDIT_SQL,
        (
            p.actor,
            p.role,
            ",".join(p.prefixes),
            endpoint,
            json.dumps(params, sort_keys=True, default=str),
            len(ids),
            [id_hmac(key, i) for i in ids],
        ),
    )
    ctx.metrics.person_reads.inc()


async def audit_tile(
    ctx: ServerContext, conn: AsyncConnection[Any], layer: Layer, req: TileRequest, data: bytes
) -> None:
    decoded = mapbox_vector_tile.decode(data)
    features = decoded.get(layer.name, {}).get("features", [])
    ids = [f.get("id", f.get("properties", {}).get(layer.config.id)) for f in features]
    box = req.box
    params = {"tms": box.tms, "z": box.z, "x": box.x, "y": box.y, "filters": req.filters.key()}
    await audit_read(ctx, conn, f"tiles/{layer.name}", params, ids)


def feature_ids(features: list[str]) -> list[object]:
    """The ids of GeoJSON features given as JSON texts."""
    return [json.loads(f).get("id") for f in features]
