"""Polygon repair and per-row point verdicts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geoplatform.spatial.chinese_offsets import wgs84_to_gcj02
from geoplatform.spatial.crs import transformer
from geoplatform.spatial.validity import (
    PointIssue,
    check_points,
    inside_extent,
    repair_polygons,
)

WUHAI_BOX = (106.6, 39.2, 107.2, 39.9)
GEOD = Geod(ellps="GRS80")


def wkt(text: str) -> shapely.Geometry:
    return shapely.from_wkt(text)


def test_repair_polygons_per_row() -> None:
    rows = [
        wkt("POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"),  # valid
        wkt("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))"),  # bow-tie
        None,
        wkt("LINESTRING (0 0, 1 1)"),  # not polygonal
        wkt("POLYGON ((0 0, 1 1, 2 2, 0 0))"),  # collapsed to a line
        wkt("POLYGON Z ((0 0 5, 1 0 5, 1 1 5, 0 0 5))"),  # valid, 3D
        wkt("GEOMETRYCOLLECTION (POLYGON ((0 0, 1 0, 1 1, 0 0)), LINESTRING (5 5, 6 6))"),
        wkt("MULTIPOLYGON (((0 0, 2 0, 2 2, 0 2, 0 0)), ((1 1, 3 1, 3 3, 1 3, 1 1)))"),  # overlap
        wkt("POLYGON EMPTY"),
    ]
    result = repair_polygons(gpd.GeoSeries(rows, crs=4326))
    geoms = result.geometries
    assert all(g.geom_type == "MultiPolygon" and g.is_valid for g in geoms)
    assert all(not shapely.has_z(g) for g in geoms)
    assert list(result.repaired) == [False, True, False, False, True, False, True, True, False]
    assert list(result.emptied) == [False, False, True, True, True, False, False, False, True]
    assert (result.n_repaired, result.n_emptied) == (4, 4)
    assert shapely.equals(geoms[0], rows[0])
    assert geoms[1].area == pytest.approx(2.0)
    assert len(geoms[1].geoms) == 2
    assert geoms[5].area == pytest.approx(0.5)
    assert geoms[6].area == pytest.approx(0.5)
    assert len(geoms[6].geoms) == 1
    assert geoms[7].area == pytest.approx(7.0)  # structure method: the union, not an XOR


def test_repair_keeps_holes_and_valid_multipolygons() -> None:
    donut = wkt("POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 2, 1 1))")
    two = wkt("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))")
    result = repair_polygons([donut, two])
    assert not result.repaired.any()
    assert not result.emptied.any()
    assert result.geometries[0].area == pytest.approx(15.0)
    assert shapely.equals(result.geometries[1], two)


def test_inside_extent_box_and_polygon() -> None:
    lon = np.array([106.8, 106.6, 107.3, np.nan, 106.61])
    lat = np.array([39.5, 39.2, 39.5, 39.5, 39.89])
    assert list(inside_extent(lon, lat, WUHAI_BOX)) == [True, True, False, False, True]
    triangle = shapely.Polygon([(106.6, 39.2), (107.2, 39.2), (106.6, 39.9)])
    assert list(inside_extent(lon, lat, triangle)) == [True, True, False, False, False]
    with pytest.raises(ValueError, match="box"):
        inside_extent(lon, lat, (107.2, 39.2, 106.6, 39.9))


def test_check_points_reasons_in_wgs84() -> None:
    x = np.array([106.8, 0.0, np.nan, 39.6, 116.4, 39.9, 106.9, 106.7])
    y = np.array([39.6, 0.0, 39.6, 106.8, 39.9, 116.4, None, 39.3], dtype=float)
    check = check_points(x, y, WUHAI_BOX)
    assert list(check.reason) == [
        None,
        PointIssue.NULL_ISLAND,
        PointIssue.MISSING,
        PointIssue.SWAPPED,
        PointIssue.OUTSIDE,
        PointIssue.OUTSIDE,  # swapped Beijing is still not Wuhai
        PointIssue.MISSING,
        None,
    ]
    assert (check.lon[3], check.lat[3]) == (106.8, 39.6)  # corrected
    assert list(check.rejected) == [False, True, True, False, True, True, True, False]
    assert list(check.swapped) == [False, False, False, True, False, False, False, False]
    assert check.counts() == {
        "missing_coordinates": 2,
        "null_island": 1,
        "outside_city": 2,
        "swapped_latlon": 1,
    }


def test_check_points_against_a_city_polygon() -> None:
    city = shapely.Polygon([(106.6, 39.2), (107.2, 39.2), (106.6, 39.9)])
    check = check_points(np.array([106.65, 107.1]), np.array([39.3, 39.8]), city)
    assert list(check.reason) == [None, PointIssue.OUTSIDE]


def test_check_points_gauss_kruger_and_swapped_easting_northing() -> None:
    e, n = transformer(4326, 4545).transform(np.array([106.794, 106.9]), np.array([39.655, 39.5]))
    x = np.array([e[0], n[1], 0.0])
    y = np.array([n[0], e[1], 0.0])
    check = check_points(x, y, WUHAI_BOX, crs="EPSG:4545")
    assert list(check.reason) == [None, PointIssue.SWAPPED, PointIssue.NULL_ISLAND]
    np.testing.assert_allclose(check.lon[:2], [106.794, 106.9], atol=1e-8)
    np.testing.assert_allclose(check.lat[:2], [39.655, 39.5], atol=1e-8)


def test_check_points_gcj02_swap_is_fixed_before_the_inverse() -> None:
    lon, lat = np.array([106.8, 106.9]), np.array([39.6, 39.7])
    gx, gy = wgs84_to_gcj02(lon, lat)
    check = check_points(np.array([gx[0], gy[1]]), np.array([gy[0], gx[1]]), WUHAI_BOX, crs="gcj02")
    assert list(check.reason) == [None, PointIssue.SWAPPED]
    err = GEOD.inv(check.lon, check.lat, lon, lat)[2]
    assert np.max(err) < 0.01
