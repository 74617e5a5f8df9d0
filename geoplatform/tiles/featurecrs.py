"""CRS of the features API (OGC API Features Part 2, CRS by reference).

Stored geometries are EPSG:4326 (equal to CGCS2000 at city scale). A response, a `bbox` and a
CQL2 filter's geometries may be in any of the CRSs below, each named by its URI. EPSG:4326 and
EPSG:4490 are latitude-first in their EPSG definition, so coordinates in those CRSs are written
and read (lat, lon), as Part 2 requires; CRS84 is (lon, lat). GCJ-02 and BD-09 are not CRSs
that any registry defines (they are published obfuscation formulas, see DOMAIN.md): they get
non-standard URIs of our own, documented in docs/standards.md, and are (lon, lat).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pygeofilter.ast as ast
import pygeofilter.values as values
from pyproj import Transformer

from geoplatform.errors import GeoPlatformError
from geoplatform.spatial.chinese_offsets import (
    bd09_to_wgs84,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geoplatform.tiles.params import InvalidParameter, parse_bbox

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
GCJ02 = "urn:x-geoplatform:def:crs:GCJ-02"
BD09 = "urn:x-geoplatform:def:crs:BD-09"

Frame = Literal["wgs84", "mercator", "gcj02", "bd09"]
F8 = npt.NDArray[np.float64]


class InvalidCrs(GeoPlatformError, ValueError):
    http_status = 400


@dataclass(frozen=True)
class FeatureCrs:
    """One served CRS: its URI, how its coordinates relate to WGS84, and its axis order."""

    uri: str
    frame: Frame
    lat_first: bool
    decimals: int = 7  # ~1 cm in degrees; 2 (1 cm) in metres

    @property
    def is_default(self) -> bool:
        return self.uri == CRS84

    def from_wgs84(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[F8, F8]:
        """WGS84 lon/lat → this CRS's (first axis, second axis)."""
        x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        if self.frame == "gcj02":
            x, y = wgs84_to_gcj02(x, y)
        elif self.frame == "bd09":
            x, y = wgs84_to_bd09(x, y)
        elif self.frame == "mercator":
            x, y = _to_mercator().transform(x, y)
        x, y = np.round(x, self.decimals), np.round(y, self.decimals)
        return (y, x) if self.lat_first else (x, y)

    def to_wgs84(self, a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[F8, F8]:
        """This CRS's (first axis, second axis) → WGS84 lon/lat."""
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if self.lat_first:
            x, y = y, x
        if self.frame == "gcj02":
            return gcj02_to_wgs84(x, y)
        if self.frame == "bd09":
            return bd09_to_wgs84(x, y)
        if self.frame == "mercator":
            lon, lat = _from_mercator().transform(x, y)
            return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        return x, y


SERVED: dict[str, FeatureCrs] = {
    CRS84: FeatureCrs(CRS84, "wgs84", lat_first=False),
    EPSG4326: FeatureCrs(EPSG4326, "wgs84", lat_first=True),
    EPSG4490: FeatureCrs(EPSG4490, "wgs84", lat_first=True),
    EPSG3857: FeatureCrs(EPSG3857, "mercator", lat_first=False, decimals=2),
    GCJ02: FeatureCrs(GCJ02, "gcj02", lat_first=False),
    BD09: FeatureCrs(BD09, "bd09", lat_first=False),
}
# short names kept from before Part 2 (crs=gcj02 in the viewer and in deliveries' habits)
_ALIASES = {
    "crs84": CRS84, "wgs84": CRS84, "": CRS84,
    "gcj02": GCJ02, "gcj-02": GCJ02, "bd09": BD09, "bd-09": BD09,
    "epsg:4326": EPSG4326, "epsg:4490": EPSG4490, "epsg:3857": EPSG3857,
    "[ogc:crs84]": CRS84, "[epsg:4326]": EPSG4326, "[epsg:4490]": EPSG4490,
    "[epsg:3857]": EPSG3857,
}  # fmt: skip
DEFAULT = SERVED[CRS84]


@cache
def _to_mercator() -> Transformer:
    return Transformer.from_crs(4326, 3857, always_xy=True)


@cache
def _from_mercator() -> Transformer:
    return Transformer.from_crs(3857, 4326, always_xy=True)


def parse_feature_crs(value: str | None, name: str = "crs") -> FeatureCrs:
    """A `crs`, `bbox-crs` or `filter-crs` value: one of the served URIs (or a short alias)."""
    if value is None:
        return DEFAULT
    text = value.strip()
    uri = _ALIASES.get(text.lower(), text)
    if uri.startswith("https://www.opengis.net/"):
        uri = "http://" + uri[len("https://") :]
    crs = SERVED.get(uri)
    if crs is None:
        raise InvalidCrs(f"{name} {value!r} is not served: use one of {', '.join(SERVED)}")
    return crs


def content_crs_header(crs: FeatureCrs) -> str:
    return f"<{crs.uri}>"


def bbox_to_wgs84(text: str | None, crs: FeatureCrs) -> tuple[float, float, float, float] | None:
    """`bbox` given in `bbox-crs` as a WGS84 lon/lat box that covers it."""
    if text is None or text.strip() == "" or crs.is_default:
        return parse_bbox(text)
    try:
        numbers = [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise InvalidParameter(f"bbox: {text!r} is not four comma-separated numbers") from exc
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        raise InvalidParameter("bbox: needs 4 finite numbers in the axis order of bbox-crs")
    a0, b0, a1, b1 = numbers
    if a0 > a1 or b0 > b1:
        raise InvalidParameter("bbox: the lower corner comes first (axis order of bbox-crs)")
    # the box's edges, densified: a box in GCJ-02 or Mercator is not a lon/lat rectangle
    t = np.linspace(0.0, 1.0, 9)
    ea = np.concatenate([a0 + (a1 - a0) * t, np.full(9, a1), a1 - (a1 - a0) * t, np.full(9, a0)])
    eb = np.concatenate([np.full(9, b0), b0 + (b1 - b0) * t, np.full(9, b1), b1 - (b1 - b0) * t])
    lon, lat = crs.to_wgs84(ea, eb)
    box = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    return parse_bbox(",".join(repr(v) for v in box))


def _move_coords(coords: Any, fn: Any) -> Any:
    arr = np.asarray(coords, dtype=np.float64)
    flat = arr.reshape(-1, arr.shape[-1])
    x, y = fn(flat[:, 0], flat[:, 1])
    out = flat.copy()
    out[:, 0], out[:, 1] = x, y
    return out.reshape(arr.shape).tolist()


def move_geometry(geometry: dict[str, Any], fn: Any) -> dict[str, Any]:
    """A GeoJSON geometry with every position passed through `fn(a, b) -> (x, y)`."""
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        return {**geometry, "geometries": [move_geometry(g, fn) for g in geometry["geometries"]]}
    coords = geometry.get("coordinates")
    if coords is None:
        return geometry
    if kind in ("Point", "LineString", "MultiPoint"):
        return {**geometry, "coordinates": _move_coords(coords, fn)}
    if kind in ("Polygon", "MultiLineString"):
        return {**geometry, "coordinates": [_move_coords(p, fn) for p in coords]}
    if kind == "MultiPolygon":
        return {
            **geometry,
            "coordinates": [[_move_coords(r, fn) for r in poly] for poly in coords],
        }
    raise InvalidParameter(f"geometry type {kind!r} is not supported")


def geometry_out(text: str, crs: FeatureCrs) -> str:
    """ST_AsGeoJSON text (WGS84 lon/lat) written in `crs`."""
    import json

    if crs.is_default:
        return text
    return json.dumps(move_geometry(json.loads(text), crs.from_wgs84), separators=(",", ":"))


def _envelope_to_wgs84(crs: FeatureCrs, a0: float, b0: float, a1: float, b1: float) -> list[float]:
    box = bbox_to_wgs84(f"{a0},{b0},{a1},{b1}", crs)
    assert box is not None
    return list(box)


_WALKED = (ast.Node, values.Geometry, values.Envelope, list)


def filter_to_wgs84(node: Any, crs: FeatureCrs) -> Any:
    """A CQL2 AST with its geometry literals moved from `filter-crs` to WGS84 lon/lat.

    Works on the AST pygeofilter parsed, so the SQL compiler (cql.py) only ever sees WGS84.
    """
    if crs.is_default or node is None:
        return node
    if isinstance(node, values.Geometry):
        return values.Geometry(move_geometry(node.geometry, crs.to_wgs84))
    if isinstance(node, values.Envelope):
        x1, y1, x2, y2 = _envelope_to_wgs84(crs, node.x1, node.y1, node.x2, node.y2)
        return values.Envelope(x1, x2, y1, y2)
    if isinstance(node, ast.BBox):
        x1, y1, x2, y2 = _envelope_to_wgs84(crs, node.minx, node.miny, node.maxx, node.maxy)
        return dataclasses.replace(node, minx=x1, miny=y1, maxx=x2, maxy=y2)
    if isinstance(node, list):
        return [filter_to_wgs84(n, crs) for n in node]
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {
            f.name: filter_to_wgs84(getattr(node, f.name), crs)
            for f in dataclasses.fields(node)
            if isinstance(
                getattr(node, f.name), ast.Node | values.Geometry | values.Envelope | list
            )
        }
        return dataclasses.replace(node, **changes) if changes else node
    return node
