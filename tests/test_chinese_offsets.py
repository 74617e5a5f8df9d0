"""WGS84 ↔ GCJ-02 ↔ BD-09 against published vectors, round trips and the mainland test."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from geoplatform.spatial.chinese_offsets import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_mainland_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def _metres(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_published_vectors() -> None:
    # coordtransform's README vectors (Tiananmen), reproduced by many implementations.
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41024449916938, abs=1e-12)
    assert float(lat) == pytest.approx(39.91640428150164, abs=1e-12)
    lon, lat = gcj02_to_bd09(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41036949371029, abs=1e-12)
    assert float(lat) == pytest.approx(39.92133699351021, abs=1e-12)
    lon, lat = wgs84_to_bd09(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41662724378733, abs=1e-12)
    assert float(lat) == pytest.approx(39.922699552216216, abs=1e-12)


def test_offsets_at_wuhai_are_the_documented_size() -> None:
    lon, lat = np.array([106.794]), np.array([39.655])
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    assert 300 < _metres(lon, lat, gcj_lon, gcj_lat)[0] < 600
    bd_lon, bd_lat = gcj02_to_bd09(gcj_lon, gcj_lat)
    assert 500 < _metres(gcj_lon, gcj_lat, bd_lon, bd_lat)[0] < 1200


def test_inverse_converges_below_a_centimetre_across_china() -> None:
    rng = np.random.default_rng(3)
    lon = rng.uniform(75, 134, 20000)
    lat = rng.uniform(18, 53, 20000)
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    back_lon, back_lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert _metres(lon, lat, back_lon, back_lat).max() < 0.01
    bd_lon, bd_lat = wgs84_to_bd09(lon, lat)
    back_lon, back_lat = bd09_to_wgs84(bd_lon, bd_lat)
    assert _metres(lon, lat, back_lon, back_lat).max() < 0.01
    gcj_back_lon, gcj_back_lat = bd09_to_gcj02(*gcj02_to_bd09(gcj_lon, gcj_lat))
    assert _metres(gcj_lon, gcj_lat, gcj_back_lon, gcj_back_lat).max() < 0.01


def test_one_step_inverse_would_not_be_good_enough() -> None:
    """Guards the iteration: subtracting the offset once errs by metres somewhere in China."""
    rng = np.random.default_rng(4)
    lon = rng.uniform(75, 134, 20000)
    lat = rng.uniform(18, 53, 20000)
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    one_step_lon = gcj_lon - (gcj_lon - lon)  # placeholder to show shapes match
    assert one_step_lon.shape == lon.shape
    d_lon, d_lat = wgs84_to_gcj02(gcj_lon, gcj_lat)
    naive_lon, naive_lat = gcj_lon - (d_lon - gcj_lon), gcj_lat - (d_lat - gcj_lat)
    assert _metres(lon, lat, naive_lon, naive_lat).max() > 0.5


def test_outside_mainland_points_pass_through() -> None:
    lon = np.array([2.35, -74.0, 139.9, 106.8])
    lat = np.array([48.85, 40.7, 35.7, 39.6])
    assert in_mainland_china(lon, lat).tolist() == [False, False, False, True]
    for forward in (wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84, gcj02_to_bd09):
        out_lon, out_lat = forward(lon, lat)
        np.testing.assert_array_equal(out_lon[:3], lon[:3])
        np.testing.assert_array_equal(out_lat[:3], lat[:3])
        assert out_lon[3] != lon[3]


def test_broadcasting_and_dtype() -> None:
    lon, lat = wgs84_to_gcj02([106.8, 106.9], 39.6)
    assert lon.shape == (2,)
    assert lat.shape == (2,)
    assert lon.dtype == np.float64
