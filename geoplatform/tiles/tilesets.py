"""OGC API Tiles metadata: tile matrix set documents and tileset descriptions with their limits.

A tileset is one layer (a collection: "geodata tilesets") or every public layer in one tile (the
one-map tile: "dataset tilesets", at `/tiles/{tileMatrixSetId}`). Its `tileMatrixSetLimits` list
each zoom of the layers' range with the rows and columns that cover the data's extent (from the
planner's estimate, as the collection extent is), as the 2D Tile Matrix Set standard (2.0)
describes them. Tile URL templates use the standard's `{tileMatrix}/{tileRow}/{tileCol}` order.
"""

from __future__ import annotations

from typing import Any

import morecantile

from geoplatform.tiles.catalog import Layer
from geoplatform.tiles.tms import get_tms

JSON = "application/json"
MVT = "application/vnd.mapbox-vector-tile"
TILE_TEMPLATE = "{tileMatrix}/{tileRow}/{tileCol}"
Bbox = list[float]


def link(href: str, rel: str, type_: str, title: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def tms_document(tms_id: str) -> dict[str, Any]:
    """The TMS 2.0 JSON document, with `orderedAxes` always given.

    It also carries the 1.0 names (`identifier`, `supportedCRS`, `boundingBox`, `topLeftCorner`,
    per matrix `identifier`) that GDAL 3.6
    reads to recognise an inline definition (without them it takes the document for a name and
    fails with "Invalid tiling matrix set name"); the 2.0 schema allows extra members.
    """
    tms = get_tms(tms_id)
    doc: dict[str, Any] = tms.model_dump(exclude_none=True, mode="json")
    lat_first = tms.crs._pyproj_crs.axis_info[0].direction.lower() == "north"
    doc.setdefault("orderedAxes", ["Lat", "Lon"] if lat_first else ["X", "Y"])
    b = tms.xy_bbox
    lower, upper = [b.left, b.bottom], [b.right, b.top]
    if lat_first:
        lower, upper = lower[::-1], upper[::-1]
    doc["identifier"] = tms_id
    doc["supportedCRS"] = doc["crs"]
    doc["boundingBox"] = {"crs": doc["crs"], "lowerCorner": lower, "upperCorner": upper}
    for matrix in doc["tileMatrices"]:
        matrix["identifier"] = matrix["id"]
        matrix["topLeftCorner"] = matrix["pointOfOrigin"]
    return doc


def matrix_limits(
    tms_id: str, bbox: Bbox | None, minzoom: int, maxzoom: int
) -> list[dict[str, Any]]:
    """TileMatrixSetLimits: per zoom of the range, the tile rows/columns over `bbox` (lon/lat)."""
    tms = get_tms(tms_id)
    limits: list[dict[str, Any]] = []
    for z in range(max(minzoom, tms.minzoom), min(maxzoom, tms.maxzoom) + 1):
        matrix = tms.matrix(z)
        if bbox is None:
            cols, rows = (0, matrix.matrixWidth - 1), (0, matrix.matrixHeight - 1)
        else:
            west, south, east, north = bbox
            ul = tms.tile(west, north, z, truncate=True)
            lr = tms.tile(east, south, z, truncate=True)
            cols = (max(ul.x, 0), min(lr.x, matrix.matrixWidth - 1))
            rows = (max(ul.y, 0), min(lr.y, matrix.matrixHeight - 1))
        limits.append(
            {
                "tileMatrix": str(z),
                "minTileRow": rows[0],
                "maxTileRow": rows[1],
                "minTileCol": cols[0],
                "maxTileCol": cols[1],
            }
        )
    return limits


def union_bbox(boxes: list[Bbox | None]) -> Bbox | None:
    known = [b for b in boxes if b is not None]
    if not known:
        return None
    return [
        min(b[0] for b in known),
        min(b[1] for b in known),
        max(b[2] for b in known),
        max(b[3] for b in known),
    ]


def _layer_entry(layer: Layer, bbox: Bbox | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": layer.name,
        "title": layer.config.title,
        "dataType": "vector",
        "geometryDimension": 2 if layer.is_polygon else 0,
        "minTileMatrix": str(layer.config.minzoom),
        "maxTileMatrix": str(layer.config.maxzoom),
        "propertiesSchema": {
            "type": "object",
            "properties": {n: {"type": c.json_type} for n, c in layer.columns.items()},
        },
    }
    if bbox is not None:
        entry["boundingBox"] = {
            "lowerLeft": bbox[:2],
            "upperRight": bbox[2:],
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        }
    return entry


def tileset_doc(
    layers: list[Layer], boxes: list[Bbox | None], tms_id: str, url: str, base: str, title: str
) -> dict[str, Any]:
    """The tileset description at `url` (…/tiles/{tileMatrixSetId}) of `layers` in one tile."""
    tms = get_tms(tms_id)
    bbox = union_bbox(boxes)
    minzoom = min(layer.config.minzoom for layer in layers)
    maxzoom = max(layer.config.maxzoom for layer in layers)
    doc: dict[str, Any] = {
        "title": f"{title} ({tms_id})",
        "dataType": "vector",
        "crs": tms.crs.srs,
        "tileMatrixSetURI": tms.uri or f"{base}/tileMatrixSets/{tms_id}",
        "links": [
            link(url, "self", JSON),
            link(
                f"{base}/tileMatrixSets/{tms_id}",
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                JSON,
            ),
            {**link(f"{url}/{TILE_TEMPLATE}", "item", MVT), "templated": True},
        ],
        "tileMatrixSetLimits": matrix_limits(tms_id, bbox, minzoom, maxzoom),
        "layers": [_layer_entry(layer, b) for layer, b in zip(layers, boxes, strict=True)],
    }
    if bbox is not None:
        doc["boundingBox"] = {
            "lowerLeft": bbox[:2],
            "upperRight": bbox[2:],
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        }
        doc["centerPoint"] = {
            "coordinates": [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2],
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            "tileMatrix": str(min(max(minzoom, 12), maxzoom)),
        }
    return doc


def tileset_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """The entry of a tilesets list: the description without limits and layers."""
    keep = ("title", "dataType", "crs", "tileMatrixSetURI", "links")
    return {k: doc[k] for k in keep if k in doc}


def tile_in_matrix(tms_id: str, z: int, row: int, col: int) -> bool:
    tms: morecantile.TileMatrixSet = get_tms(tms_id)
    if not tms.minzoom <= z <= tms.maxzoom:
        return False
    matrix = tms.matrix(z)
    return 0 <= col < matrix.matrixWidth and 0 <= row < matrix.matrixHeight
