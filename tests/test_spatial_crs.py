"""Source CRS parsing, CGCS2000 Gauss-Krüger zones and the one path to EPSG:4326."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
from pyproj import Geod

from geoplatform.errors import GeoPlatformError
from geoplatform.spatial import chinese_offsets
from geoplatform.spatial.crs import (
    CGCS2000,
    WGS84,
    CRSKind,
    InvalidCRS,
    SourceCRS,
    detect_gk_epsg,
    gk_epsg,
    gk_zone,
    gk_zone_of_epsg,
    parse_crs,
    to_wgs84,
    transformer,
)

# DOMAIN.md: 106.794°E 39.655°N → EPSG:4545 (396497.2, 4391918.4)
LON, LAT = 106.794, 39.655
E_4545, N_4545 = 396497.2, 4391918.4
GEOD = Geod(ellps="GRS80")


def metres(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("EPSG:4545", SourceCRS(CRSKind.EPSG, 4545)),
        (" epsg:4524 ", SourceCRS(CRSKind.EPSG, 4524)),
        ("4490", CGCS2000),
        (3857, SourceCRS(CRSKind.EPSG, 3857)),
        ("WGS84", WGS84),
        ("cgcs2000", CGCS2000),
        ("gcj02", SourceCRS(CRSKind.GCJ02)),
        ("GCJ-02", SourceCRS(CRSKind.GCJ02)),
        ("bd09", SourceCRS(CRSKind.BD09)),
    ],
)
def test_parse_crs(text: str | int, want: SourceCRS) -> None:
    assert parse_crs(text) == want
    assert parse_crs(parse_crs(text)) == want


def test_crs_str_round_trips() -> None:
    for text in ["EPSG:4545", "gcj02", "bd09"]:
        assert str(parse_crs(text)) == text
        assert parse_crs(str(parse_crs(text))) == parse_crs(text)


@pytest.mark.parametrize(
    "bad", ["EPSG:99999", "EPSG:5773", "EPSG:4978", "mars", "", "EPSG:", 1.5, True]
)
def test_parse_crs_rejects(bad: object) -> None:
    with pytest.raises(InvalidCRS) as err:
        parse_crs(bad)  # type: ignore[arg-type]
    assert isinstance(err.value, ValueError)
    assert isinstance(err.value, GeoPlatformError)
    assert err.value.http_status == 400


def test_geographic_flags() -> None:
    assert parse_crs("gcj02").is_geographic
    assert parse_crs("EPSG:4490").is_geographic
    assert not parse_crs("EPSG:4545").is_geographic
    assert WGS84.is_wgs84
    assert not CGCS2000.is_wgs84


@pytest.mark.parametrize(
    ("lon", "zone"),
    [
        (106.794, 36),
        (106.5, 36),
        (109.49999, 36),
        (109.5, 37),
        (73.6, 25),
        (134.9, 45),
        (117.0, 39),
    ],
)
def test_gk_zone(lon: float, zone: int) -> None:
    assert gk_zone(lon) == zone


def test_gk_epsg_codes_match_the_registry() -> None:
    assert gk_epsg(36, zone_prefix=True) == 4524
    assert gk_epsg(36, zone_prefix=False) == 4545
    for zone in range(25, 46):
        prefixed = pyproj.CRS.from_epsg(gk_epsg(zone, zone_prefix=True))
        plain = pyproj.CRS.from_epsg(gk_epsg(zone, zone_prefix=False))
        assert prefixed.name.endswith(f"zone {zone}")
        assert plain.name.endswith(f"CM {3 * zone}E")
        assert gk_zone_of_epsg(gk_epsg(zone, zone_prefix=True)) == (zone, True)
        assert gk_zone_of_epsg(gk_epsg(zone, zone_prefix=False)) == (zone, False)
    assert gk_zone_of_epsg(4326) is None
    assert gk_zone_of_epsg(4555) is None


@pytest.mark.parametrize("zone", [24, 46])
def test_gk_epsg_outside_cgcs2000_zones(zone: int) -> None:
    with pytest.raises(InvalidCRS):
        gk_epsg(zone, zone_prefix=False)


def test_domain_example_forward_and_back() -> None:
    e, n = transformer(4326, 4545).transform(LON, LAT)
    assert abs(e - E_4545) < 0.1
    assert abs(n - N_4545) < 0.1
    lon, lat = to_wgs84(np.array([E_4545]), np.array([N_4545]), "EPSG:4545")
    assert metres(lon, lat, np.array([LON]), np.array([LAT]))[0] < 0.1


def test_zone_prefix_adds_36_million_to_the_easting() -> None:
    e24, n24 = transformer(4326, 4524).transform(LON, LAT)
    assert e24 == pytest.approx(36_000_000 + E_4545, abs=0.1)
    assert n24 == pytest.approx(N_4545, abs=0.1)
    a = to_wgs84(np.array([E_4545 + 36_000_000]), np.array([N_4545]), "EPSG:4524")
    b = to_wgs84(np.array([E_4545]), np.array([N_4545]), "EPSG:4545")
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_to_wgs84_gk_random_points_round_trip() -> None:
    rng = np.random.default_rng(5)
    lon = rng.uniform(106.6, 107.2, 10_000)
    lat = rng.uniform(39.2, 39.9, 10_000)
    for epsg in (4524, 4545):
        x, y = transformer(4326, epsg).transform(lon, lat)
        back_lon, back_lat = to_wgs84(x, y, f"EPSG:{epsg}")
        assert metres(back_lon, back_lat, lon, lat).max() < 1e-3


def test_detect_gk_epsg() -> None:
    rng = np.random.default_rng(6)
    lon, lat = rng.uniform(106.6, 107.2, 100), rng.uniform(39.2, 39.9, 100)
    x24, y24 = transformer(4326, 4524).transform(lon, lat)
    x45, y45 = transformer(4326, 4545).transform(lon, lat)
    assert detect_gk_epsg(x24, y24) == 4524
    assert detect_gk_epsg(np.r_[x24, np.nan], np.r_[y24, np.nan], lon_hint=106.9) == 4524
    assert detect_gk_epsg(x45, y45, lon_hint=106.9) == 4545
    with pytest.raises(InvalidCRS, match="hint"):
        detect_gk_epsg(x45, y45)
    with pytest.raises(InvalidCRS, match="several zones"):
        detect_gk_epsg(np.r_[x24, 37_500_000.0], np.r_[y24, 4_400_000.0])
    with pytest.raises(InvalidCRS, match="zone 36"):
        detect_gk_epsg(x24, y24, lon_hint=117.0)
    with pytest.raises(InvalidCRS, match="not Gauss-Krüger"):
        detect_gk_epsg(lon, lat * -1)


def test_wgs84_is_a_copy_and_cgcs2000_a_null_offset() -> None:
    lon, lat = np.array([LON, np.nan]), np.array([LAT, 1.0])
    out_lon, out_lat = to_wgs84(lon, lat, "wgs84")
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)
    assert out_lon is not lon
    c_lon, c_lat = to_wgs84(lon, lat, "cgcs2000")
    np.testing.assert_allclose(c_lon[:1], lon[:1], atol=1e-12)
    np.testing.assert_allclose(c_lat[:1], lat[:1], atol=1e-12)


def test_untransformable_points_are_nan_not_inf() -> None:
    lon, lat = to_wgs84(np.array([E_4545, np.nan, 1e12]), np.array([N_4545, N_4545, 1.0]), 4545)
    assert np.isfinite([lon[0], lat[0]]).all()
    assert np.isnan(np.r_[lon[1:], lat[1:]]).all()


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="shape"):
        to_wgs84(np.zeros(3), np.zeros(2), 4545)


@pytest.fixture(scope="module")
def wuhai_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    return rng.uniform(106.6, 107.2, 5_000), rng.uniform(39.2, 39.9, 5_000)


def test_gcj02_goes_through_the_iterative_inverse(
    wuhai_points: tuple[np.ndarray, np.ndarray],
) -> None:
    lon, lat = wuhai_points
    gx, gy = chinese_offsets.wgs84_to_gcj02(lon, lat)
    shift = metres(gx, gy, lon, lat)
    assert shift.min() > 200  # ~420 m at Wuhai: the offset is real
    assert shift.max() < 800
    back_lon, back_lat = to_wgs84(gx, gy, "gcj02")
    assert metres(back_lon, back_lat, lon, lat).max() < 0.01


def test_bd09_goes_through_the_iterative_inverse(
    wuhai_points: tuple[np.ndarray, np.ndarray],
) -> None:
    lon, lat = wuhai_points
    bx, by = chinese_offsets.wgs84_to_bd09(lon, lat)
    assert metres(bx, by, lon, lat).min() > 500
    back_lon, back_lat = to_wgs84(bx, by, "bd09")
    assert metres(back_lon, back_lat, lon, lat).max() < 0.01
