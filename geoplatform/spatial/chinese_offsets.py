"""WGS84 ↔ GCJ-02 ↔ BD-09, vectorised over numpy arrays.

GCJ-02 (Amap, Tencent, WeChat) and BD-09 (Baidu) are published obfuscation formulas, not CRSs
PROJ knows. The forward directions are closed form; the inverses have none, so they are solved by
fixed-point iteration against the forward formula until the residual is below ~0.1 mm (a few
steps). Outside mainland China (the usual rough rectangle) the formulas are not applied and points
pass through unchanged, as the map providers do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_mainland_china",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray = npt.NDArray[np.float64]
LonLat = tuple[FloatArray, FloatArray]

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0

#: Residual (degrees) below which the inverse iteration stops: 1e-9° is about 0.1 mm.
INVERSE_TOLERANCE_DEGREES = 1e-9
INVERSE_MAX_ITERATIONS = 30


def in_mainland_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """The usual rough test for where GCJ-02 applies (a rectangle around mainland China)."""
    lon_array = np.asarray(lon, dtype=np.float64)
    lat_array = np.asarray(lat, dtype=np.float64)
    return (
        (lon_array >= 72.004)
        & (lon_array <= 137.8347)
        & (lat_array >= 0.8293)
        & (lat_array <= 55.8271)
    )


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    lon_array, lat_array = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return lon_array.astype(np.float64, copy=True), lat_array.astype(np.float64, copy=True)


def _gcj_offsets(lon: FloatArray, lat: FloatArray) -> LonLat:
    """The GCJ-02 displacement (degrees) at WGS84 positions."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / (
        (_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi
    )
    d_lon = (d_lon * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """WGS84 → GCJ-02 (closed form)."""
    lon_array, lat_array = _as_arrays(lon, lat)
    inside = in_mainland_china(lon_array, lat_array)
    d_lon, d_lat = _gcj_offsets(lon_array, lat_array)
    return np.where(inside, lon_array + d_lon, lon_array), np.where(
        inside, lat_array + d_lat, lat_array
    )


def _gcj_to_bd_raw(lon: FloatArray, lat: FloatArray) -> LonLat:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj_approximate(lon: FloatArray, lat: FloatArray) -> LonLat:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """GCJ-02 → BD-09 (closed form)."""
    lon_array, lat_array = _as_arrays(lon, lat)
    inside = in_mainland_china(lon_array, lat_array)
    bd_lon, bd_lat = _gcj_to_bd_raw(lon_array, lat_array)
    return np.where(inside, bd_lon, lon_array), np.where(inside, bd_lat, lat_array)


def _invert(
    forward: Callable[[FloatArray, FloatArray], LonLat],
    target_lon: FloatArray,
    target_lat: FloatArray,
    guess_lon: FloatArray,
    guess_lat: FloatArray,
) -> LonLat:
    """Solve forward(p) = target by fixed-point iteration p ← p − (forward(p) − target)."""
    lon = guess_lon.copy()
    lat = guess_lat.copy()
    active = np.ones(lon.shape, dtype=bool)
    for _ in range(INVERSE_MAX_ITERATIONS):
        if not active.any():
            break
        f_lon, f_lat = forward(lon[active], lat[active])
        r_lon = f_lon - target_lon[active]
        r_lat = f_lat - target_lat[active]
        lon[active] -= r_lon
        lat[active] -= r_lat
        done = (np.abs(r_lon) < INVERSE_TOLERANCE_DEGREES) & (
            np.abs(r_lat) < INVERSE_TOLERANCE_DEGREES
        )
        active_index = np.flatnonzero(active)
        active[active_index[done]] = False
    return lon, lat


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """GCJ-02 → WGS84 by fixed-point iteration (residual against the forward formula < 0.1 mm)."""
    lon_array, lat_array = _as_arrays(lon, lat)
    inside = in_mainland_china(lon_array, lat_array)
    out_lon, out_lat = lon_array.copy(), lat_array.copy()
    if inside.any():
        target_lon, target_lat = lon_array[inside], lat_array[inside]
        d_lon, d_lat = _gcj_offsets(target_lon, target_lat)

        def forward(x: FloatArray, y: FloatArray) -> LonLat:
            offset_lon, offset_lat = _gcj_offsets(x, y)
            return x + offset_lon, y + offset_lat

        solved_lon, solved_lat = _invert(
            forward, target_lon, target_lat, target_lon - d_lon, target_lat - d_lat
        )
        out_lon[inside], out_lat[inside] = solved_lon, solved_lat
    return out_lon, out_lat


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """BD-09 → GCJ-02 by fixed-point iteration against the forward formula."""
    lon_array, lat_array = _as_arrays(lon, lat)
    inside = in_mainland_china(lon_array, lat_array)
    out_lon, out_lat = lon_array.copy(), lat_array.copy()
    if inside.any():
        target_lon, target_lat = lon_array[inside], lat_array[inside]
        guess_lon, guess_lat = _bd_to_gcj_approximate(target_lon, target_lat)
        solved_lon, solved_lat = _invert(
            _gcj_to_bd_raw, target_lon, target_lat, guess_lon, guess_lat
        )
        out_lon[inside], out_lat[inside] = solved_lon, solved_lat
    return out_lon, out_lat


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """WGS84 → BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """BD-09 → WGS84 (through GCJ-02, both steps iterated)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
