"""Road lines: where a road runs and which door numbers it carries, for the answers the door
plates alone cannot give.

* A door number past the road's last door (``door_max`` of the road layer, else the highest
  door plate the table knows) names a house that does not exist: the matcher refuses it.
* An intersection ("A路与B路交叉口") is where the two lines meet, or, when the delivered lines
  stop short of each other (digitised separately, a gap at the junction), the midpoint of their
  nearest points, as long as they come within `MAX_GAP_M` of each other.
* A road-level answer is placed at the middle of its line.

Geometry is shapely in EPSG:4326; distances are approximated in metres with the local scale
of a degree (good to a fraction of a percent over a city).
"""

from __future__ import annotations

import math
from typing import Any

#: Two road lines farther apart than this do not meet: "A路与B路交叉口" names nothing.
MAX_GAP_M = 150.0
_M_PER_DEG = 111_320.0


def merge_lines(current: Any, extra: Any) -> Any:
    """The union of two (Multi)LineStrings as one MultiLineString (either may be None)."""
    if extra is None:
        return current
    if current is None:
        return extra
    from shapely.geometry import MultiLineString

    parts: list[Any] = []
    for geom in (current, extra):
        parts.extend(getattr(geom, "geoms", [geom]))
    return MultiLineString(parts)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Approximate distance in metres between two lon/lat points."""
    dx = (a[0] - b[0]) * _M_PER_DEG * math.cos(math.radians((a[1] + b[1]) / 2))
    dy = (a[1] - b[1]) * _M_PER_DEG
    return math.hypot(dx, dy)


def midpoint(geometry: Any) -> tuple[float, float] | None:
    """A point in the middle of a road line (on its longest part)."""
    if geometry is None or geometry.is_empty:
        return None
    parts = list(getattr(geometry, "geoms", [geometry]))
    longest = max(parts, key=lambda g: g.length)
    point = longest.interpolate(0.5, normalized=True)
    return (point.x, point.y)


def crossing(a: Any, b: Any) -> tuple[tuple[float, float], float] | None:
    """Where lines ``a`` and ``b`` meet, and the gap in metres (0 when they touch); None when
    they come no closer than `MAX_GAP_M`. Several crossings (a ring road) take the one nearest
    the middle of ``a``'s crossings: the caller cannot tell them apart anyway."""
    if a is None or b is None or a.is_empty or b.is_empty:
        return None
    from shapely import shortest_line

    meet = a.intersection(b)
    if not meet.is_empty:
        points = [g for g in getattr(meet, "geoms", [meet]) if g.geom_type == "Point"]
        if not points:
            points = [meet.representative_point()]
        points.sort(key=lambda p: (p.x, p.y))
        chosen = points[len(points) // 2]
        return (chosen.x, chosen.y), 0.0
    line = shortest_line(a, b)
    (x1, y1), (x2, y2) = line.coords[0], line.coords[-1]
    gap = metres((x1, y1), (x2, y2))
    if gap > MAX_GAP_M:
        return None
    return ((x1 + x2) / 2, (y1 + y2) / 2), gap
