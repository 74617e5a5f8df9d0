"""Gi* hotspots on synthetic H3 counts: planted hotspots found, FDR held on null data."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from geoplatform.analytics.hexagons import (
    cells_covering,
    count_by_cell,
    neighbour_pairs,
)
from geoplatform.analytics.hotspots import (
    COLD,
    HOT,
    HotspotInputError,
    expected_from_exposure,
    expected_from_surroundings,
    hex_weights,
    hotspots,
)

AREA_BOX = shapely.box(106.75, 39.55, 106.90, 39.70)


@pytest.fixture(scope="module")
def area() -> np.ndarray:
    cells = cells_covering(AREA_BOX, 9)
    assert 2000 < cells.size < 3000
    return cells


def _disk(cell: int, k: int) -> set[int]:
    return set(h3.api.basic_int.grid_disk(int(cell), k))


def _false_discovery_proportion(hot: set[int], truth: set[int]) -> float:
    """Hot cells farther than one ring from any planted cell, over all hot cells."""
    allowed: set[int] = set()
    for cell in truth:
        allowed |= _disk(cell, 1)
    return len(hot - allowed) / len(hot) if hot else 0.0


def test_weights_are_the_k_ring_within_the_study_area(area: np.ndarray) -> None:
    w = hex_weights(area, k=1)
    inner = int(area[area.size // 2])
    index = int(np.flatnonzero(area == inner)[0])
    neighbours = {int(area[j]) for j in w.neighbors[index]}
    assert neighbours == _disk(inner, 1) - {inner}
    i, j = neighbour_pairs(area, 2)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == set(
        zip(j.tolist(), i.tolist(), strict=True)
    )  # symmetric
    assert np.bincount(i).max() == 18  # 2 rings: 6 + 12


def test_planted_hotspots_are_found_and_little_else(area: np.ndarray) -> None:
    rng = np.random.default_rng(7)
    centres = [int(area[400]), int(area[1500])]
    lam = np.full(area.size, 1.0)
    planted: set[int] = set()
    for centre in centres:
        ring = np.isin(area, list(_disk(centre, 1)))
        lam[ring] *= 5
        planted |= set(area[ring].tolist())
    counts = pd.Series(rng.poisson(lam), index=area)
    result = hotspots(counts, study_area=area)
    hot = set(result.hot_cells.tolist())
    assert all(centre in hot for centre in centres)
    assert _false_discovery_proportion(hot, planted) <= 0.10
    assert result.inference == "exact"
    assert result.table.loc[centres[0], "kind"] == HOT
    assert 0 < result.p_threshold < 0.05


def test_a_cold_spot_is_cold(area: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    lam = np.full(area.size, 6.0)
    centre = int(area[900])
    lam[np.isin(area, list(_disk(centre, 1)))] = 0.2
    result = hotspots(pd.Series(rng.poisson(lam), index=area), study_area=area)
    assert centre in set(result.cold_cells.tolist())
    assert result.table.loc[centre, "kind"] == COLD


@pytest.mark.parametrize("mean", [0.2, 1.0, 5.0])
def test_false_discovery_rate_on_null_data_stays_below_ten_percent(
    area: np.ndarray, mean: float
) -> None:
    """Uniform Poisson cities: every discovery is false, so FDR = mean over seeds of FDP."""
    proportions = []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        counts = pd.Series(rng.poisson(mean, area.size), index=area)
        result = hotspots(counts, study_area=area)
        proportions.append(1.0 if result.table["significant"].any() else 0.0)
    assert np.mean(proportions) <= 0.10


def test_normal_z_is_too_liberal_on_sparse_counts(area: np.ndarray) -> None:
    """Why "exact" is the default: esda's normal z finds hotspots in uniform sparse cities."""
    found = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        counts = pd.Series(rng.poisson(0.2, area.size), index=area)
        found += bool(hotspots(counts, study_area=area, inference="normal").hot_cells.size)
        assert hotspots(counts, study_area=area).hot_cells.size == 0
    assert found >= 3


def test_excess_over_exposure_ignores_a_dense_centre(area: np.ndarray) -> None:
    """A dense centre explained by its residents is hot for raw counts, not against exposure."""
    lat = np.array([h3.api.basic_int.cell_to_latlng(int(c))[0] for c in area])
    lon = np.array([h3.api.basic_int.cell_to_latlng(int(c))[1] for c in area])
    residents = 5 + 400 * np.exp(-((lon - 106.82) ** 2 + (lat - 39.62) ** 2) / (2 * 0.02**2))
    rate = 0.05
    market = int(area[300])
    ring = np.isin(area, list(_disk(market, 1)))
    rng = np.random.default_rng(11)
    lam = rate * residents
    lam[ring] += 8
    counts = pd.Series(rng.poisson(lam), index=area)
    exposure = pd.Series(residents, index=area, name="residents")

    raw = hotspots(counts, study_area=area)
    assert raw.hot_cells.size > 50  # the centre itself
    expected = expected_from_exposure(counts, exposure, study_area=area)
    assert expected.sum() == pytest.approx(counts.sum(), rel=0.01)
    adjusted = hotspots(counts, study_area=area, expected=expected)
    hot = set(adjusted.hot_cells.tolist())
    assert market in hot
    assert _false_discovery_proportion(hot, set(area[ring].tolist())) <= 0.10


def test_permutation_inference_runs_through_esda(area: np.ndarray) -> None:
    rng = np.random.default_rng(5)
    lam = np.full(area.size, 2.0)
    centre = int(area[700])
    lam[np.isin(area, list(_disk(centre, 1)))] = 12
    counts = pd.Series(rng.poisson(lam), index=area)
    result = hotspots(counts, study_area=area, inference="permutation", permutations=199, seed=1)
    assert result.table.loc[centre, "z"] > 5
    assert result.table["p"].min() >= 2 / 200 - 1e-6  # pseudo p-values cannot go lower


def test_result_converts_to_hexagons_and_records(area: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    lam = np.full(area.size, 1.0)
    lam[np.isin(area, list(_disk(int(area[1000]), 1)))] = 10
    result = hotspots(pd.Series(rng.poisson(lam), index=area), study_area=area)
    frame = result.to_geodataframe(significant_only=True)
    assert len(frame) == int(result.table["significant"].sum()) > 0
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.geom_type.eq("Polygon").all()
    assert set(frame.columns) >= {"cell", "count", "z", "p", "kind", "geometry"}
    records = result.to_records()
    assert records[0]["cell"] == format(int(frame["cell"].iloc[0]), "x")


def test_counts_from_points_feed_hotspots() -> None:
    rng = np.random.default_rng(0)
    lon = rng.uniform(106.75, 106.90, 20_000)
    lat = rng.uniform(39.55, 39.70, 20_000)
    lon = np.concatenate([lon, rng.normal(106.80, 0.002, 400)])
    lat = np.concatenate([lat, rng.normal(39.60, 0.002, 400)])
    counts = count_by_cell(lon, lat, 9)
    assert counts.sum() == lon.size
    area = cells_covering(AREA_BOX, 9)
    inside = counts[counts.index.isin(area)]
    result = hotspots(inside, study_area=area)
    target = int(count_by_cell([106.80], [39.60], 9).index[0])
    assert target in set(result.hot_cells.tolist())


def test_bad_input_is_refused(area: np.ndarray) -> None:
    with pytest.raises(HotspotInputError):
        hotspots(pd.Series([-1, 2, 3], index=area[:3]))
    with pytest.raises(HotspotInputError):
        hotspots(pd.Series(np.zeros(area.size), index=area))
    with pytest.raises(HotspotInputError):
        hotspots(pd.Series(np.ones(10), index=area[:10]), alpha=1.5)
    mixed = np.concatenate([area[:5], cells_covering(AREA_BOX, 8)[:5]])
    with pytest.raises(ValueError, match="resolution"):
        hotspots(pd.Series(np.arange(10.0), index=mixed))


def test_excess_over_surroundings_without_exposure_layers(area: np.ndarray) -> None:
    """No exposure at hand: the ring around each cell is its background."""
    lat = np.array([h3.api.basic_int.cell_to_latlng(int(c))[0] for c in area])
    lon = np.array([h3.api.basic_int.cell_to_latlng(int(c))[1] for c in area])
    lam = 0.5 + 20 * np.exp(-((lon - 106.82) ** 2 + (lat - 39.62) ** 2) / (2 * 0.03**2))
    market = int(area[300])
    ring = np.isin(area, list(_disk(market, 1)))
    lam[ring] += 10
    counts = pd.Series(np.random.default_rng(4).poisson(lam), index=area)
    expected = expected_from_surroundings(counts, study_area=area)
    assert (expected > 0).all()
    hot = set(hotspots(counts, study_area=area, expected=expected).hot_cells.tolist())
    assert market in hot
    assert _false_discovery_proportion(hot, set(area[ring].tolist())) <= 0.10


def test_gi_star_from_the_sparse_weights_equals_esda() -> None:
    """The z-scores computed straight from the ring matrix are esda's G_Local(star=True).Zs."""
    import warnings

    import esda
    import shapely

    from geoplatform.analytics.hexagons import cells_covering
    from geoplatform.analytics.hotspots import gi_star_z, ring_matrix

    cells = cells_covering(shapely.box(106.6, 39.4, 106.7, 39.5), 9)
    y = np.random.default_rng(2).poisson(3, cells.size).astype(float) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = esda.G_Local(y, hex_weights(cells, 1), transform="B", star=True, permutations=0)
    z = gi_star_z(y, ring_matrix(cells, 1))
    assert cells.size > 1000
    np.testing.assert_allclose(z, np.asarray(expected.Zs), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("inference", ["exact", "normal", "permutation"])
def test_scattered_cells_with_islands_and_edges(inference: str) -> None:
    """Cells scattered over a region (islands, pairs, ragged edges), as a district's cells with
    data are: every inference answers, islands are never significant, a planted cluster is hot.

    Regression: the libpysal W dropped cells without a neighbour, so esda multiplied a 236-row
    matrix by 243 values ("matmul: dimension mismatch") on a plain call at resolution 8.
    """
    rng = np.random.default_rng(3)
    centre = h3.latlng_to_cell(39.67, 106.82, 8)
    scattered = rng.choice(sorted(h3.grid_disk(centre, 15)), 150, replace=False).tolist()
    cluster_centre = h3.latlng_to_cell(39.80, 106.95, 8)  # far off: a component of its own
    cluster = sorted(h3.grid_disk(cluster_centre, 2))
    cells = np.array(
        [h3.str_to_int(c) for c in sorted(set(scattered) | set(cluster))], dtype=np.int64
    )
    counts = pd.Series(rng.poisson(1.0, cells.size), index=cells)
    planted = h3.str_to_int(cluster_centre)
    hot_ring = [h3.str_to_int(c) for c in h3.grid_disk(cluster_centre, 1)]
    counts[hot_ring] = 15

    result = hotspots(counts, inference=inference, permutations=999, seed=1)  # type: ignore[arg-type]

    i, _ = neighbour_pairs(cells, 1)
    islands = np.setdiff1d(np.arange(cells.size), i)
    assert islands.size > 20  # the case that crashed: many cells with no neighbour in the set
    table = result.table.loc[cells]
    assert len(result.table) == cells.size
    assert not table["significant"].to_numpy()[islands].any()
    assert table["z"].isna().to_numpy()[islands].all()
    assert result.table.loc[planted, "kind"] == HOT
