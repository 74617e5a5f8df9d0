"""Exact nested partitions: density-weighted k-means seeds, Voronoi cells clipped to a parent.

Every child set is built from its parent polygon by intersection, and fragments are merged into a
neighbour, so children tile the parent up to floating-point noise (far below 1 m²).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPoint, Polygon

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
KMEANS_MAX_POINTS = 4000
DensityFunction = Callable[[FloatArray, FloatArray], FloatArray]


def sample_points(
    polygon: Polygon,
    count: int,
    rng: np.random.Generator,
    density: DensityFunction | None = None,
) -> FloatArray:
    """``count`` points inside ``polygon``, uniform or proportional to ``density`` (rejection)."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    chunks: list[FloatArray] = []
    found = 0
    peak = None
    for _ in range(200):
        batch = max(1024, count * 3)
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(polygon, x, y)
        x, y = x[inside], y[inside]
        if density is not None and x.size:
            weights = density(x, y)
            if peak is None:
                peak = float(weights.max()) * 1.5
            keep = rng.uniform(0.0, peak, x.size) < weights
            x, y = x[keep], y[keep]
        chunks.append(np.column_stack([x, y]))
        found += x.size
        if found >= count:
            break
    points = np.concatenate(chunks)[:count] if chunks else np.empty((0, 2))
    if points.shape[0] < count:
        raise RuntimeError(f"could only place {points.shape[0]} of {count} points in a polygon")
    return points


def kmeans(
    points: FloatArray, k: int, rng: np.random.Generator, iterations: int = 20
) -> FloatArray:
    """Lloyd's k-means; returns the member point nearest each centroid so seeds lie inside."""
    if k <= 0:
        raise ValueError("k must be positive")
    if points.shape[0] < k:
        raise ValueError(f"need at least {k} points, got {points.shape[0]}")
    if points.shape[0] > KMEANS_MAX_POINTS:
        points = points[rng.choice(points.shape[0], KMEANS_MAX_POINTS, replace=False)]
    centres = points[rng.choice(points.shape[0], k, replace=False)].copy()
    for _ in range(iterations):
        label = _nearest_centre(points, centres)
        counts = np.bincount(label, minlength=k)
        sums_x = np.bincount(label, weights=points[:, 0], minlength=k)
        sums_y = np.bincount(label, weights=points[:, 1], minlength=k)
        filled = counts > 0
        centres[filled, 0] = sums_x[filled] / counts[filled]
        centres[filled, 1] = sums_y[filled] / counts[filled]
    nearest = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=0)
    seeds = points[nearest]
    # Two centroids can share a nearest member: nudge duplicates to other member points.
    unique, first = np.unique(seeds, axis=0, return_index=True)
    if unique.shape[0] < k:
        taken = set(first.tolist())
        spare = [i for i in rng.permutation(points.shape[0]) if i not in set(nearest.tolist())]
        for index in range(k):
            if index not in taken:
                seeds[index] = points[spare.pop()]
    return np.asarray(seeds, dtype=np.float64)


def _nearest_centre(points: FloatArray, centres: FloatArray) -> IntArray:
    cross = points @ centres.T
    distance = (centres**2).sum(axis=1)[None, :] - 2.0 * cross
    return np.asarray(distance.argmin(axis=1), dtype=np.int64)


def voronoi_partition(parent: Polygon, seeds: FloatArray) -> list[Polygon]:
    """Voronoi cells of ``seeds`` clipped to ``parent``, one polygon per seed, tiling ``parent``.

    A cell cut into several parts by a non-convex parent keeps the part holding its seed (or its
    largest part); the other parts join the neighbour they share the longest edge with.
    """
    if seeds.shape[0] == 1:
        return [parent]
    cells = shapely.voronoi_polygons(
        MultiPoint([tuple(point) for point in seeds]), extend_to=parent, ordered=True
    )
    clipped = [shapely.intersection(cell, parent) for cell in shapely.get_parts(cells)]
    kept: list[Polygon] = []
    orphans: list[Polygon] = []
    for seed, cell in zip(seeds, clipped, strict=True):
        parts = [part for part in shapely.get_parts(cell) if isinstance(part, Polygon)]
        if not parts:
            kept.append(Polygon())
            continue
        seed_point = shapely.Point(seed)
        main = next((part for part in parts if part.covers(seed_point)), None)
        if main is None:
            main = max(parts, key=lambda part: part.area)
        kept.append(main)
        orphans.extend(part for part in parts if part is not main)
    for orphan in sorted(orphans, key=lambda part: -part.area):
        shared = [
            shapely.length(shapely.intersection(orphan.boundary, cell.boundary))
            if not cell.is_empty
            else 0.0
            for cell in kept
        ]
        target = int(np.argmax(shared))
        merged = shapely.union(kept[target], orphan)
        kept[target] = _largest_polygon(merged)
    return kept


def _largest_polygon(geometry: shapely.Geometry) -> Polygon:
    """The polygon itself, or the union's largest part when float noise leaves a sliver apart."""
    if isinstance(geometry, Polygon):
        return geometry
    parts = [part for part in shapely.get_parts(geometry) if isinstance(part, Polygon)]
    merged = shapely.union_all(parts)
    if isinstance(merged, Polygon):
        return merged
    return max(parts, key=lambda part: part.area)


def reading_order(points: FloatArray, band_height: float) -> IntArray:
    """Indices sorted north→south in bands of ``band_height``, west→east inside a band.

    This is how grid and community sequence numbers are assigned ("west→east then north→south").
    """
    if points.shape[0] == 0:
        return np.empty(0, dtype=np.int64)
    top = points[:, 1].max()
    band = np.floor((top - points[:, 1]) / max(band_height, 1e-9)).astype(np.int64)
    return np.lexsort((points[:, 0], band)).astype(np.int64)


def allocate(total: int, weights: FloatArray, minimum: npt.ArrayLike) -> IntArray:
    """Split ``total`` into integers proportional to ``weights`` with per-item minimums
    (largest-remainder rounding), so totals hold exactly."""
    floor_counts = np.asarray(minimum, dtype=np.int64) * np.ones(weights.shape, dtype=np.int64)
    remaining = total - int(floor_counts.sum())
    if remaining < 0:
        raise ValueError("minimums exceed the total")
    share = weights / weights.sum() * remaining
    counts = floor_counts + np.floor(share).astype(np.int64)
    leftover = total - int(counts.sum())
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    counts[order[:leftover]] += 1
    return np.asarray(counts, dtype=np.int64)
