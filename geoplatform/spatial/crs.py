"""Source CRS handling: parse what a pipeline declares, and bring coordinates to EPSG:4326.

Departments deliver EPSG-coded data (mostly CGCS2000 Gauss-Krüger zones) and the two Chinese
obfuscated frames GCJ-02 and BD-09, which PROJ does not know. `parse_crs` turns a declaration
into a `SourceCRS`; `to_wgs84` is the one vectorised path to the canonical CRS for all of them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray
from pyproj.exceptions import CRSError

from geoplatform.errors import GeoPlatformError

__all__ = [
    "CGCS2000",
    "WGS84",
    "CRSKind",
    "InvalidCRS",
    "SourceCRS",
    "detect_gk_epsg",
    "gk_epsg",
    "gk_zone",
    "gk_zone_of_epsg",
    "local_metric_crs",
    "parse_crs",
    "to_wgs84",
    "transformer",
]

FloatArray = NDArray[np.float64]

WGS84_EPSG: Final = 4326
CGCS2000_EPSG: Final = 4490

# CGCS2000 3-degree Gauss-Krüger zones with an EPSG code (DOMAIN.md): zones 25-45,
# EPSG:4513-4533 carry the zone number in the false easting, EPSG:4534-4554 do not.
GK_MIN_ZONE: Final = 25
GK_MAX_ZONE: Final = 45
_GK_PREFIXED_BASE: Final = 4513
_GK_PLAIN_BASE: Final = 4534
_GK_FALSE_EASTING: Final = 500_000.0


class InvalidCRS(GeoPlatformError, ValueError):
    """A declared CRS, zone or coordinate set that cannot be used to reach EPSG:4326."""

    http_status = 400
    exit_code = 65  # EX_DATAERR


class CRSKind(StrEnum):
    """How coordinates in a source CRS reach EPSG:4326: through PROJ, or a published formula."""

    EPSG = "epsg"
    GCJ02 = "gcj02"
    BD09 = "bd09"


@dataclass(frozen=True, slots=True)
class SourceCRS:
    """A parsed source CRS: an EPSG code PROJ knows, or one of the Chinese obfuscated frames."""

    kind: CRSKind
    epsg: int | None = None

    def __post_init__(self) -> None:
        if (self.kind is CRSKind.EPSG) != (self.epsg is not None):
            raise InvalidCRS("an EPSG CRS needs a code; GCJ-02 and BD-09 have none")

    @property
    def is_geographic(self) -> bool:
        """True for lon/lat degrees (GCJ-02 and BD-09 are degrees too)."""
        if self.epsg is None:
            return True
        return bool(_pyproj_crs(self.epsg).is_geographic)

    @property
    def is_wgs84(self) -> bool:
        """True when coordinates are already canonical (no transform needed)."""
        return self.epsg == WGS84_EPSG

    def __str__(self) -> str:
        return f"EPSG:{self.epsg}" if self.kind is CRSKind.EPSG else self.kind.value


WGS84: Final = SourceCRS(CRSKind.EPSG, WGS84_EPSG)
CGCS2000: Final = SourceCRS(CRSKind.EPSG, CGCS2000_EPSG)

_ALIASES: Final[dict[str, SourceCRS]] = {
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "cgcs2000": CGCS2000,
    "gcj02": SourceCRS(CRSKind.GCJ02),
    "gcj-02": SourceCRS(CRSKind.GCJ02),
    "bd09": SourceCRS(CRSKind.BD09),
    "bd-09": SourceCRS(CRSKind.BD09),
}
_EPSG_RE: Final = re.compile(r"^(?:epsg:)?\s*(\d{4,6})$")


def parse_crs(value: str | int | SourceCRS) -> SourceCRS:
    """Parse a declared CRS: `EPSG:nnnn` (or bare code), `wgs84`, `cgcs2000`, `gcj02`, `bd09`.

    Only 2D geographic or projected CRSs are accepted: anything else (vertical, geocentric,
    unknown code) raises `InvalidCRS` here, at declaration time, not halfway through a load.
    """
    if isinstance(value, SourceCRS):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidCRS(f"CRS must be a string or an EPSG code, got {type(value).__name__}")
    text = str(value).strip().lower()
    if text in _ALIASES:
        return _ALIASES[text]
    match = _EPSG_RE.match(text)
    if match is None:
        raise InvalidCRS(
            f"unknown CRS {value!r}: expected EPSG:nnnn, wgs84, cgcs2000, gcj02 or bd09"
        )
    code = int(match.group(1))
    _check_horizontal(code)
    return SourceCRS(CRSKind.EPSG, code)


@lru_cache(maxsize=256)
def _pyproj_crs(code: int) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_epsg(code)
    except CRSError as exc:
        raise InvalidCRS(f"EPSG:{code} is not a known CRS") from exc


def _check_horizontal(code: int) -> None:
    crs = _pyproj_crs(code)
    if not (crs.is_geographic or crs.is_projected) or len(crs.axis_info) != 2:
        raise InvalidCRS(f"EPSG:{code} is a {crs.type_name}, not a 2D horizontal CRS")


@lru_cache(maxsize=64)
def transformer(
    source: int | str | pyproj.CRS, target: int | str | pyproj.CRS = WGS84_EPSG
) -> pyproj.Transformer:
    """A cached always_xy Transformer (pyproj ≥ 3.1 transformers are thread-safe)."""
    try:
        return pyproj.Transformer.from_crs(source, target, always_xy=True)
    except CRSError as exc:
        raise InvalidCRS(f"no transformation from {source} to {target}: {exc}") from exc


def _as_xy(x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.shape != ya.shape:
        raise ValueError(f"x and y differ in shape: {xa.shape} != {ya.shape}")
    return xa, ya


def to_wgs84(
    x: ArrayLike, y: ArrayLike, crs: str | int | SourceCRS
) -> tuple[FloatArray, FloatArray]:
    """Transform coordinates in `crs` to EPSG:4326 lon/lat arrays (new arrays, float64).

    GCJ-02 and BD-09 go through the iterative inverses in `chinese_offsets`; EPSG codes go
    through PROJ. Points PROJ cannot transform come back as NaN, never as inf.
    """
    source = parse_crs(crs)
    xa, ya = _as_xy(x, y)
    if source.kind is CRSKind.GCJ02:
        from geoplatform.spatial.chinese_offsets import gcj02_to_wgs84

        lon, lat = gcj02_to_wgs84(xa, ya)
    elif source.kind is CRSKind.BD09:
        from geoplatform.spatial.chinese_offsets import bd09_to_wgs84

        lon, lat = bd09_to_wgs84(xa, ya)
    elif source.is_wgs84:
        return xa.copy(), ya.copy()
    else:
        assert source.epsg is not None
        lon, lat = transformer(source.epsg).transform(xa, ya, errcheck=False)
    lon = np.asarray(lon, dtype=np.float64).reshape(xa.shape)
    lat = np.asarray(lat, dtype=np.float64).reshape(xa.shape)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        lon = np.where(bad, np.nan, lon)
        lat = np.where(bad, np.nan, lat)
    return lon, lat


# --- CGCS2000 Gauss-Krüger ---------------------------------------------------------------


def gk_zone(lon: float) -> int:
    """The 3-degree Gauss-Krüger zone of a longitude: zone n spans 3n-1.5° ≤ lon < 3n+1.5°."""
    if not math.isfinite(lon) or not -180.0 <= lon <= 180.0:
        raise InvalidCRS(f"longitude {lon} is not a longitude")
    return math.floor((lon + 1.5) / 3.0)


def gk_epsg(zone: int, *, zone_prefix: bool) -> int:
    """EPSG code of CGCS2000 3-degree GK `zone`: 4513-4533 with zone prefix, 4534-4554 without."""
    if not GK_MIN_ZONE <= zone <= GK_MAX_ZONE:
        raise InvalidCRS(
            f"3-degree zone {zone} has no CGCS2000 EPSG code (zones {GK_MIN_ZONE}-{GK_MAX_ZONE})"
        )
    base = _GK_PREFIXED_BASE if zone_prefix else _GK_PLAIN_BASE
    return base + zone - GK_MIN_ZONE


def gk_zone_of_epsg(epsg: int) -> tuple[int, bool] | None:
    """(zone, zone_prefix) for a CGCS2000 3-degree GK EPSG code, None for any other code."""
    for base, prefixed in ((_GK_PREFIXED_BASE, True), (_GK_PLAIN_BASE, False)):
        if base <= epsg <= base + GK_MAX_ZONE - GK_MIN_ZONE:
            return GK_MIN_ZONE + epsg - base, prefixed
    return None


def detect_gk_epsg(x: ArrayLike, y: ArrayLike, *, lon_hint: float | None = None) -> int:
    """Guess the CGCS2000 3-degree GK EPSG code of projected coordinates from their eastings.

    Eastings ≥ 10^6 carry the zone number (n×10^6 + 500000 ± ~400 km): the zone is read off
    them. Plain eastings (500000 ± ~400 km) do not say which zone: `lon_hint` (e.g. the city
    centre) decides it, and without one the set is ambiguous and `InvalidCRS` is raised.
    """
    xa, ya = _as_xy(x, y)
    ok = np.isfinite(xa) & np.isfinite(ya)
    if not ok.any():
        raise InvalidCRS("no finite coordinates to detect a Gauss-Krüger zone from")
    xs, ys = xa[ok], ya[ok]
    if ys.min() < 0 or ys.max() > 10_000_000:
        raise InvalidCRS("northings outside 0-10,000 km: not Gauss-Krüger coordinates")
    zones = np.floor(xs / 1_000_000.0).astype(np.int64)
    if (zones == 0).all():
        if lon_hint is None:
            raise InvalidCRS(
                "eastings carry no zone prefix: give a longitude hint to choose the zone"
            )
        return gk_epsg(gk_zone(lon_hint), zone_prefix=False)
    if zones.min() != zones.max():
        raise InvalidCRS(f"eastings span several zones ({zones.min()}-{zones.max()})")
    zone = int(zones[0])
    if not GK_MIN_ZONE <= zone <= GK_MAX_ZONE:
        raise InvalidCRS(f"easting prefix {zone} is not a CGCS2000 3-degree zone")
    if lon_hint is not None and gk_zone(lon_hint) != zone:
        raise InvalidCRS(
            f"eastings say zone {zone} but the longitude hint is in zone {gk_zone(lon_hint)}"
        )
    return gk_epsg(zone, zone_prefix=True)


def local_metric_crs(lon: float, lat: float) -> pyproj.CRS:
    """A transverse Mercator on the GRS80 ellipsoid centred on (lon, lat), in metres.

    Scale error stays below 2e-5 within 60 km of the meridian: distances of a city-sized
    area measured in it are right to a few centimetres per kilometre.
    """
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidCRS("a local metric CRS needs a finite centre")
    return pyproj.CRS.from_proj4(
        f"+proj=tmerc +lat_0={lat:.6f} +lon_0={lon:.6f} +k=1 +x_0=0 +y_0=0 "
        "+ellps=GRS80 +units=m +no_defs"
    )
