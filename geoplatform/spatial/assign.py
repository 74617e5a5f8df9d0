"""Assign points to polygons (grids, admin areas) in whole batches, one polygon per point.

Boundary rule: a point belongs to the polygons it *intersects* (closed polygons: boundary
included), and among several (a shared edge or vertex, or overlapping delivered polygons) to
the one with the **lowest code** (codes compared in their natural sort order; equal codes by
position). It is order-independent and the SQL twin is one line:
``... WHERE ST_Intersects(g.geom, p.geom) ORDER BY g.code LIMIT 1``.

Speed: a `PolygonIndex` rasterises the polygon set once onto a lookup grid. Cells that no
polygon edge touches (dilated by one cell, so rounding cannot matter) answer from the grid
with one array lookup; only points in cells an edge passes through are tested exactly, with
shapely's STRtree bulk query. Both paths give identical answers; the grid only skips work.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from rasterio.features import rasterize
from rasterio.transform import Affine

from geoplatform.errors import GeoPlatformError
from geoplatform.spatial.crs import local_metric_crs, transformer

__all__ = [
    "NO_POLYGON",
    "InvalidPolygons",
    "PolygonIndex",
    "assign_points_to_polygons",
    "distance_to_edges",
]

NO_POLYGON: Final = -1
_EXACT: Final = -2  # lookup-grid cell an edge passes through: test its points exactly
_POLYGONAL: Final = (3, 6)  # shapely type ids of Polygon, MultiPolygon
_GEOGRAPHIC_EPSG: Final = (4326, 4490)
_DENSIFY_DEGREES: Final = 5e-4  # ~50 m: the sag of a projected chord this long is < 0.1 mm

IndexArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]


class InvalidPolygons(GeoPlatformError, ValueError):
    """Polygons to assign to are not polygonal, not in lon/lat, or do not match their codes."""

    http_status = 422
    exit_code = 65  # EX_DATAERR


def _geometry_array(polygons: Any) -> NDArray[np.object_]:
    """Shapely geometries from a GeoSeries or array-like, checking they are lon/lat polygons."""
    crs = getattr(polygons, "crs", None)
    if crs is not None and crs.to_epsg() not in _GEOGRAPHIC_EPSG:
        raise InvalidPolygons(f"polygons must be in EPSG:4326 (or 4490), not {crs}")
    geoms = np.asarray(polygons, dtype=object)
    if geoms.ndim != 1:
        raise InvalidPolygons("polygons must be a 1-D sequence of geometries")
    types = shapely.get_type_id(geoms)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if np.any(present & ~np.isin(types, _POLYGONAL)):
        raise InvalidPolygons("only Polygon and MultiPolygon geometries can be assigned to")
    # Invalid rings have no well-defined inside: GEOS and the lookup grid could disagree.
    invalid = np.flatnonzero(present & ~shapely.is_valid(geoms))
    if len(invalid):
        raise InvalidPolygons(
            f"{len(invalid)} invalid polygon(s), first at positions {invalid[:5].tolist()}: "
            "run validity.repair_polygons first"
        )
    return geoms


class PolygonIndex:
    """A polygon set prepared for assigning many batches of points (build once, reuse).

    `lookup_cells` bounds the lookup grid (int32, so 4 bytes a cell): finer grids send fewer
    points down the exact path. The default suits a city's 640 grids (~60 m cells).
    """

    def __init__(self, polygons: Any, codes: ArrayLike, *, lookup_cells: int = 1 << 22) -> None:
        self.polygons = _geometry_array(polygons)
        self.codes = np.asarray(codes, dtype=object)
        if self.codes.shape != self.polygons.shape:
            raise InvalidPolygons(f"{len(self.codes)} codes for {len(self.polygons)} polygons")
        try:
            order = np.argsort(self.codes, kind="stable")
        except TypeError as exc:
            raise InvalidPolygons("codes must be mutually comparable") from exc
        self._rank = np.empty(len(order), dtype=np.intp)
        self._rank[order] = np.arange(len(order))
        self._tree = shapely.STRtree(self.polygons)
        shapely.prepare(self.polygons)
        self._build_lookup(max(int(lookup_cells), 64))  # >= 64: d stays finite

    def _build_lookup(self, cells: int) -> None:
        present = ~(shapely.is_missing(self.polygons) | shapely.is_empty(self.polygons))
        self._lookup: NDArray[np.int32] | None = None
        if not present.any():
            return
        x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(self.polygons[present]))
        # Cell size d such that (width/d + 2) * (height/d + 2) = cells (valid polygons have
        # area, so width and height are positive).
        width, height = x1 - x0, y1 - y0
        half, area = width + height, width * height
        d = area / (np.sqrt(half * half + area * (cells - 4)) - half)
        self._nx = int(np.ceil(width / d)) + 2
        self._ny = int(np.ceil(height / d)) + 2
        self._ox, self._oy, self._d = x0 - d, y0 - d, d

        # Cell centres decide the cells no edge touches; GDAL burns later shapes over earlier
        # ones, so burning in descending rank leaves the lowest code where polygons overlap.
        burn = [i for i in np.argsort(-self._rank, kind="stable") if present[i]]
        lookup = rasterize(
            ((self.polygons[i], int(i)) for i in burn),
            out_shape=(self._ny, self._nx),
            transform=Affine(d, 0.0, self._ox, 0.0, d, self._oy),
            fill=NO_POLYGON,
            dtype="int32",
            all_touched=False,
        )
        lookup[self._edge_cells()] = _EXACT
        self._lookup = lookup

    def _edge_cells(self) -> NDArray[np.bool_]:
        """Cells within one cell of an edge: sample every edge at d/4 and dilate by one cell.

        An edge crossing a cell passes within d/4 of a sample, which lies in that cell or a
        neighbour, so the dilation marks every cell any edge touches, rounding included.
        """
        rings = shapely.get_parts(
            shapely.boundary(self.polygons[~shapely.is_missing(self.polygons)])
        )
        coords, ring = shapely.get_coordinates(rings, return_index=True)
        same = ring[1:] == ring[:-1]
        a, b = coords[:-1][same], coords[1:][same]
        step = self._d / 4.0
        n = np.ceil(np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]) / step).astype(np.int64) + 1
        seg = np.repeat(np.arange(len(a)), n)
        start = np.repeat(np.cumsum(n) - n, n)
        t = (np.arange(int(n.sum())) - start) / np.repeat(np.maximum(n - 1, 1), n)
        sx = a[seg, 0] + (b[seg, 0] - a[seg, 0]) * t
        sy = a[seg, 1] + (b[seg, 1] - a[seg, 1]) * t
        ix = np.clip(np.floor((sx - self._ox) / self._d).astype(np.intp), 0, self._nx - 1)
        iy = np.clip(np.floor((sy - self._oy) / self._d).astype(np.intp), 0, self._ny - 1)
        hit = np.zeros((self._ny, self._nx), dtype=bool)
        hit[iy, ix] = True
        rows = hit.copy()
        rows[1:] |= hit[:-1]
        rows[:-1] |= hit[1:]
        edge = rows.copy()
        edge[:, 1:] |= rows[:, :-1]
        edge[:, :-1] |= rows[:, 1:]
        return edge

    def _exact(self, x: FloatArray, y: FloatArray) -> IndexArray:
        """Exact path: STRtree bulk 'intersects', then the lowest-ranked candidate per point."""
        out = np.full(len(x), NO_POLYGON, dtype=np.intp)
        if len(x) == 0:
            return out
        point_idx, poly_idx = self._tree.query(shapely.points(x, y), predicate="intersects")
        if len(point_idx):
            order = np.lexsort((self._rank[poly_idx], point_idx))
            point_idx, poly_idx = point_idx[order], poly_idx[order]
            first = np.ones(len(point_idx), dtype=bool)
            first[1:] = point_idx[1:] != point_idx[:-1]
            out[point_idx[first]] = poly_idx[first]
        return out

    def locate(self, lon: ArrayLike, lat: ArrayLike) -> IndexArray:
        """Position of the polygon each point is assigned to, NO_POLYGON (-1) where none.

        Points with a non-finite coordinate get NO_POLYGON.
        """
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError(f"lon and lat must be 1-D arrays of one length: {x.shape}, {y.shape}")
        out = np.full(len(x), NO_POLYGON, dtype=np.intp)
        if self._lookup is None:
            return out
        with np.errstate(invalid="ignore"):
            fx = np.floor((x - self._ox) / self._d)
            fy = np.floor((y - self._oy) / self._d)
            inside = (fx >= 0) & (fx < self._nx) & (fy >= 0) & (fy < self._ny)
        hits = np.flatnonzero(inside)
        cell = fy[hits].astype(np.intp) * self._nx + fx[hits].astype(np.intp)
        found = self._lookup.ravel()[cell]
        out[hits] = found
        slow = hits[found == _EXACT]
        out[slow] = self._exact(x[slow], y[slow])
        return out

    def codes_of(self, positions: IndexArray) -> NDArray[np.object_]:
        """Codes for polygon positions from `locate`; None where NO_POLYGON."""
        pos = np.asarray(positions, dtype=np.intp)
        out = np.full(pos.shape, None, dtype=object)
        hit = pos != NO_POLYGON
        out[hit] = self.codes[pos[hit]]
        return out

    def assign(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.object_]:
        """Code of the polygon each point is assigned to, None where none (the boundary rule)."""
        return self.codes_of(self.locate(lon, lat))

    @property
    def lookup_shape(self) -> tuple[int, int]:
        """(rows, columns) of the lookup grid, (0, 0) when there is nothing to look up."""
        return (0, 0) if self._lookup is None else (self._ny, self._nx)


def assign_points_to_polygons(
    lon: ArrayLike, lat: ArrayLike, polygons: Any, codes: ArrayLike
) -> NDArray[np.object_]:
    """One-shot `PolygonIndex(polygons, codes).assign(lon, lat)`; reuse an index across batches."""
    return PolygonIndex(polygons, codes).assign(lon, lat)


def distance_to_edges(lon: ArrayLike, lat: ArrayLike, polygons: Any) -> FloatArray:
    """Metres from each point to the nearest edge of any polygon (NaN for missing points).

    Measured in a transverse Mercator centred on the polygons (`local_metric_crs`), so a
    "within 1 m of a grid edge" test means one metre on the ground.
    """
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"lon and lat must be 1-D arrays of one length: {x.shape}, {y.shape}")
    geoms = _geometry_array(polygons)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    out = np.full(len(x), np.nan)
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(geoms) == 0 or len(ok) == 0:
        return out
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    to_m = transformer(4326, local_metric_crs((x0 + x1) / 2.0, (y0 + y1) / 2.0))

    # Edges are straight in lon/lat (as PostGIS and shapely see them), not in metres: densify
    # before projecting, or a 10 km edge along a parallel sags ~2 m away from its true line.
    # One tree item per short segment keeps each nearest-distance computation small.
    dense = shapely.segmentize(shapely.boundary(geoms), max_segment_length=_DENSIFY_DEGREES)
    coords, ring = shapely.get_coordinates(shapely.get_parts(dense), return_index=True)
    ex, ey = to_m.transform(coords[:, 0], coords[:, 1])
    xy = np.column_stack([ex, ey])
    same = ring[1:] == ring[:-1]
    edges = shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]], axis=1))
    px, py = to_m.transform(x[ok], y[ok])
    tree = shapely.STRtree(np.asarray(edges, dtype=object))
    (point_idx, _), dist = tree.query_nearest(
        shapely.points(px, py), return_distance=True, all_matches=False
    )
    out[ok[point_idx]] = dist
    return out
