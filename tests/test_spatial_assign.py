"""Point-to-polygon assignment: equal to geopandas sjoin, one polygon per boundary point."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from numpy.typing import NDArray
from pyproj import Geod

from geoplatform.spatial.assign import (
    NO_POLYGON,
    InvalidPolygons,
    PolygonIndex,
    assign_points_to_polygons,
    distance_to_edges,
)

FloatArray = NDArray[np.float64]


@pytest.fixture(scope="module")
def tiling() -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """~200 Voronoi cells tiling part of Wuhai, with a gap carved out, and 15-digit codes."""
    rng = np.random.default_rng(7)
    frame = shapely.box(106.6, 39.2, 107.2, 39.9)
    seeds = shapely.multipoints(np.c_[rng.uniform(106.6, 107.2, 200), rng.uniform(39.2, 39.9, 200)])
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame
    )
    cells = shapely.difference(
        cells, shapely.box(106.95, 39.25, 107.05, 39.35)
    )  # a hole in coverage
    codes = np.array([f"150302001001{i:03d}" for i in rng.permutation(len(cells))], dtype=object)
    return cells, codes


def random_points(n: int, seed: int) -> tuple[FloatArray, FloatArray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(106.55, 107.25, n), rng.uniform(39.15, 39.95, n)


def sjoin_codes(
    lon: FloatArray, lat: FloatArray, polygons: NDArray[np.object_], codes: NDArray[np.object_]
) -> NDArray[np.object_]:
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    grid = gpd.GeoDataFrame({"code": codes}, geometry=polygons, crs=4326)
    joined = gpd.sjoin(pts, grid, how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    return np.asarray(joined["code"].astype(object).where(joined["code"].notna(), None))


def test_equals_geopandas_sjoin_away_from_edges(
    tiling: tuple[NDArray[np.object_], NDArray[np.object_]],
) -> None:
    polygons, codes = tiling
    lon, lat = random_points(50_000, 1)
    far = distance_to_edges(lon, lat, polygons) > 1.0
    got = assign_points_to_polygons(lon, lat, gpd.GeoSeries(polygons, crs=4326), codes)
    want = sjoin_codes(lon[far], lat[far], polygons, codes)
    assert np.array_equal(got[far], want)
    assert (got == None).sum() > 100  # noqa: E711  (the carved gap and the margin exist)
    assert (got != None).sum() > 30_000  # noqa: E711


def test_lookup_grid_only_skips_work(
    tiling: tuple[NDArray[np.object_], NDArray[np.object_]],
) -> None:
    """A coarse lookup grid (almost all points exact) and a fine one give identical answers."""
    polygons, codes = tiling
    lon, lat = random_points(50_000, 2)
    # add points exactly on polygon vertices, where the boundary rule decides
    vertices = shapely.get_coordinates(polygons)[::7]
    lon, lat = np.r_[lon, vertices[:, 0]], np.r_[lat, vertices[:, 1]]
    coarse = PolygonIndex(polygons, codes, lookup_cells=64).locate(lon, lat)
    fine = PolygonIndex(polygons, codes, lookup_cells=1 << 22).locate(lon, lat)
    np.testing.assert_array_equal(coarse, fine)


@pytest.mark.parametrize("cells", [4_096, 65_536])
def test_lookup_cells_answered_from_the_grid_touch_no_edge(
    tiling: tuple[NDArray[np.object_], NDArray[np.object_]], cells: int
) -> None:
    """The invariant the fast path rests on, checked on every cell (white-box on purpose)."""
    polygons, codes = tiling
    index = PolygonIndex(polygons, codes, lookup_cells=cells)
    assert index._lookup is not None
    rows, cols = np.nonzero(index._lookup != -2)  # -2: cells left to the exact path
    d = index._d
    x0, y0 = index._ox + cols * d, index._oy + rows * d
    boxes = shapely.box(x0, y0, x0 + d, y0 + d)
    edges = shapely.STRtree(shapely.boundary(polygons))
    touched, _ = edges.query(boxes, predicate="intersects")
    assert len(touched) == 0
    centres = index._exact(x0 + d / 2, y0 + d / 2)
    np.testing.assert_array_equal(index._lookup[rows, cols], centres)


def square(x0: float, y0: float, size: float) -> shapely.Polygon:
    return shapely.box(x0, y0, x0 + size, y0 + size)


# Four squares of 1/8 degree around (106.75, 39.5), dyadic so every coordinate is exact:
#   C | A        codes are deliberately not in input order
#   --+--
#   D | B
X, Y, S = 106.75, 39.5, 0.125
QUADS = [square(X, Y - S, S), square(X, Y, S), square(X - S, Y, S), square(X - S, Y - S, S)]
QUAD_CODES = ["B", "A", "C", "D"]


@pytest.mark.parametrize("cells", [64, 1 << 22])
@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]])
def test_shared_edges_and_vertices_go_to_lowest_code(cells: int, order: list[int]) -> None:
    polygons = [QUADS[i] for i in order]
    codes = [QUAD_CODES[i] for i in order]
    points = {
        (X, Y): "A",  # the vertex all four share
        (X, Y + S / 2): "A",  # A|C edge
        (X, Y - S / 2): "B",  # B|D edge
        (X + S / 2, Y): "A",  # A/B edge
        (X - S / 2, Y): "C",  # C/D edge
        (X, Y + S): "A",  # A|C top vertex
        (X - S, Y): "C",  # outer vertex shared by C and D
        (X + S, Y + S): "A",  # outer corner of A only
        (X - S, Y - S): "D",  # outer corner of D only
        (X + S / 4, Y + S / 4): "A",  # interiors
        (X + S / 4, Y - S / 4): "B",
        (X - S / 4, Y + S / 4): "C",
        (X - S / 4, Y - S / 4): "D",
        (X + 2 * S, Y): None,  # outside everything
    }
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    got = PolygonIndex(polygons, codes, lookup_cells=cells).assign(lon, lat)
    assert list(got) == list(points.values())


def test_diagonal_shared_edge() -> None:
    """Two triangles sharing a diagonal: points exactly on it go to the lower code."""
    a, b, c, d = (X, Y), (X + S, Y), (X + S, Y + S), (X, Y + S)
    lower, upper = shapely.Polygon([a, b, c]), shapely.Polygon([a, c, d])
    lon = np.array([X + S / 4, X + S / 2, X + S, X + 3 * S / 4, X + S / 4])
    lat = np.array([Y + S / 4, Y + S / 2, Y + S, Y + S / 4, Y + 3 * S / 4])
    assert shapely.touches(shapely.Point(lon[0], lat[0]), upper)  # really on the edge
    got = assign_points_to_polygons(lon, lat, [upper, lower], ["2", "1"])
    assert list(got) == ["1", "1", "1", "1", "2"]
    got = assign_points_to_polygons(lon, lat, [upper, lower], ["1", "2"])
    assert list(got) == ["1", "1", "1", "2", "1"]


def test_numeric_codes_compare_as_numbers() -> None:
    got = assign_points_to_polygons(np.array([X]), np.array([Y + S / 2]), QUADS[1:3], [10, 9])
    assert list(got) == [9]


def test_overlaps_and_holes_follow_the_rule_on_both_paths() -> None:
    outer = shapely.Polygon(
        square(X, Y, 4 * S).exterior.coords, [square(X + S, Y + S, S).exterior.coords]
    )
    filler = square(X + S, Y + S, S)  # exactly fills the hole
    overlap = square(X + 2.5 * S, Y + 2.5 * S, S)  # overlaps `outer` only
    polygons, codes = [outer, filler, overlap], ["m", "z", "a"]
    rng = np.random.default_rng(3)
    lon = X + rng.uniform(-S, 5 * S, 20_000)
    lat = Y + rng.uniform(-S, 5 * S, 20_000)
    got = PolygonIndex(polygons, codes).assign(lon, lat)
    pts = shapely.points(lon, lat)
    in_overlap, in_outer, in_filler = (
        np.asarray(shapely.intersects(g, pts)).tolist() for g in (overlap, outer, filler)
    )
    want = [
        "a" if a else "m" if m else "z" if z else None
        for a, m, z in zip(in_overlap, in_outer, in_filler, strict=True)
    ]
    assert list(got) == want
    assert {"a", "m", "z", None} == set(got.tolist())


def test_missing_points_and_empty_polygons() -> None:
    polygons = [QUADS[0], None, shapely.Polygon()]
    got_idx = PolygonIndex(polygons, ["B", "x", "y"]).locate(
        np.array([np.nan, X + S / 2, X + S / 2]), np.array([Y, np.nan, Y - S / 2])
    )
    assert list(got_idx) == [NO_POLYGON, NO_POLYGON, 0]
    nothing = PolygonIndex([None], ["x"])
    assert nothing.lookup_shape == (0, 0)
    assert list(nothing.assign(np.array([X]), np.array([Y]))) == [None]


def test_bad_polygon_sets_raise() -> None:
    with pytest.raises(InvalidPolygons, match="codes"):
        PolygonIndex(QUADS, ["A"])
    with pytest.raises(InvalidPolygons, match="Polygon"):
        PolygonIndex([shapely.LineString([(0, 0), (1, 1)])], ["A"])
    bow_tie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    with pytest.raises(InvalidPolygons, match=r"invalid polygon\(s\), first at positions \[1\]"):
        PolygonIndex([QUADS[0], bow_tie], ["A", "B"])
    with pytest.raises(InvalidPolygons, match="EPSG:4326"):
        PolygonIndex(gpd.GeoSeries(QUADS, crs=3857), QUAD_CODES)


def test_distance_to_edges_is_in_metres() -> None:
    geod = Geod(ellps="GRS80")
    # 10 m east of A's west edge (a meridian), 25 m north of D's south edge, and on a vertex
    ex, ey, _ = geod.fwd(X, Y + S / 2, 90, 10.0)
    nx, ny, _ = geod.fwd(X - S / 2, Y - S, 0, 25.0)
    got = distance_to_edges(np.array([ex, nx, X, np.nan]), np.array([ey, ny, Y, Y]), QUADS)
    np.testing.assert_allclose(got[:3], [10.0, 25.0, 0.0], atol=0.01)
    assert np.isnan(got[3])
