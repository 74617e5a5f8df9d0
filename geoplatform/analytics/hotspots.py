"""Hotspots: Getis-Ord Gi* on H3 cells with false-discovery-rate control (PySAL's esda).

The statistic is esda's (`esda.G_Local`, ``star=True``) and so is the Benjamini-Hochberg
cut-off (`esda.fdr`); this module builds the inputs (the study area's cells with their zeros, a
k-ring neighbourhood as a binary libpysal W) and types the result.

Two questions can be asked of the same counts:

* **Where do things concentrate?** (``expected=None``) Gi* on the raw counts: a cell is hot when
  the sum over its k-ring (itself included) is far above what the study area's mean predicts.
  Dense districts are hot by this test, which is what a "where things happen" screen wants.
* **Where is there more than the background explains?** (``expected`` given: from residents,
  buildings or a long-run share) the local sum of counts is set against the local sum of
  expected counts. This is the test to measure false discoveries against a planted truth.

Inference (``inference=``):

* ``"exact"`` (default). Raw counts: the randomisation null that esda's permutations sample
  (the k-ring's values drawn from the study area's values), computed exactly for integer counts
  by convolving the empirical count distribution. Needed because BH over n cells asks for
  p-values near alpha/n (~1e-5), which 999 permutations cannot give, while the normal
  approximation is far too liberal for sparse counts (most cells 0 or 1: with a mean of 0.2 per
  cell the normal z finds "hotspots" in 9 of 10 uniform cities). With ``expected``: the local
  sum given the total is binomial under a Poisson process, negative binomial (quasi-Poisson)
  with the k-rings' robustly estimated dispersion when the exposure model leaves more
  variation than Poisson (`HotspotResult.dispersion`).
* ``"normal"``: esda's analytical z (two-sided normal p). Good for large counts only.
* ``"permutation"``: esda's conditional permutation pseudo p-values (doubled: two-sided).

p-values are two-sided (hot and cold alike), and the FDR cut-off is taken over all cells of the
study area at once, as in ArcGIS's "Hot Spot Analysis" with FDR correction.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Final, Literal

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from libpysal.weights import W
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, signal, stats

from geoplatform.analytics.hexagons import (
    cells_to_geodataframe,
    neighbour_pairs,
    single_resolution,
)
from geoplatform.errors import GeoPlatformError
from geoplatform.spatial.h3cells import cells_to_strings

__all__ = [
    "COLD",
    "HOT",
    "NOT_SIGNIFICANT",
    "HotspotInputError",
    "HotspotResult",
    "expected_from_exposure",
    "expected_from_surroundings",
    "hex_weights",
    "hotspots",
]

HOT: Final = "hot"
COLD: Final = "cold"
NOT_SIGNIFICANT: Final = "not significant"
Inference = Literal["exact", "normal", "permutation"]


class HotspotInputError(GeoPlatformError, ValueError):
    """Counts that Gi* cannot use: negative, mixed resolutions, no variation, too few cells."""

    http_status = 422
    exit_code = 65


@dataclass(frozen=True)
class HotspotResult:
    """Gi* per cell and the FDR decision.

    ``table`` is indexed by ``cell`` (int64) with columns ``count``, ``expected`` (NaN in
    raw-count mode), ``z``, ``p`` (two-sided), ``significant`` (p < ``p_threshold``) and ``kind``
    (``"hot"``, ``"cold"`` or ``"not significant"``), sorted by cell. ``p_threshold`` is
    esda.fdr's cut-off; ``dispersion`` the φ used with ``expected`` (1 otherwise).
    """

    resolution: int
    k: int
    alpha: float
    inference: Inference
    p_threshold: float
    table: pd.DataFrame = field(repr=False)
    dispersion: float = 1.0

    @property
    def hot_cells(self) -> NDArray[np.int64]:
        """Cells that are significant hotspots at the FDR level, sorted."""
        return self.table.index[self.table["kind"] == HOT].to_numpy(dtype=np.int64)

    @property
    def cold_cells(self) -> NDArray[np.int64]:
        """Cells that are significant cold spots at the FDR level, sorted."""
        return self.table.index[self.table["kind"] == COLD].to_numpy(dtype=np.int64)

    def to_geodataframe(self, significant_only: bool = False) -> gpd.GeoDataFrame:
        """The table with hexagon polygons in EPSG:4326 (for maps, MVT and GeoJSON)."""
        table = self.table[self.table["significant"]] if significant_only else self.table
        columns = {name: table[name].to_numpy() for name in table.columns}
        return cells_to_geodataframe(table.index.to_numpy(dtype=np.int64), columns)

    def to_records(self, significant_only: bool = True) -> list[dict[str, object]]:
        """JSON-ready rows, cells as H3 hex strings (the API edge's form)."""
        table = self.table[self.table["significant"]] if significant_only else self.table
        out = table.reset_index()
        out["cell"] = cells_to_strings(out["cell"].to_numpy(dtype=np.int64))
        out["expected"] = out["expected"].astype(object).where(out["expected"].notna(), None)
        return [{str(k): v for k, v in row.items()} for row in out.to_dict(orient="records")]


def ring_matrix(cells: ArrayLike, k: int = 1) -> sp.csr_matrix:
    """Binary sparse weights: row i has a 1 for each cell within grid distance `k` of cell i
    (the cell itself excluded). Rows and columns are positions 0..n-1 in `cells`."""
    arr = np.asarray(cells, dtype=np.int64)
    i, j = neighbour_pairs(arr, k)
    return sp.csr_matrix((np.ones(i.size), (i, j)), shape=(arr.size, arr.size))


def gi_star_z(y: NDArray[np.float64], matrix: sp.csr_matrix) -> NDArray[np.float64]:
    """Getis-Ord Gi* z-scores (binary weights, the cell included) straight from the sparse
    weights: esda's `G_Local(star=True).Zs` without building a libpysal W (which costs ~100×
    more at 100k cells). Islands (no neighbour) get NaN, as in esda."""
    n = y.size
    sums = np.asarray(matrix @ y, dtype=np.float64) + y
    w = np.asarray(matrix.getnnz(axis=1), dtype=np.float64) + 1.0
    mean = float(y.mean())
    s = float(np.sqrt(max((y**2).mean() - mean**2, 0.0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (sums - mean * w) / (s * np.sqrt((n * w - w**2) / (n - 1)))
    z[w <= 1.0] = np.nan
    return np.asarray(z, dtype=np.float64)


def hex_weights(cells: ArrayLike, k: int = 1) -> W:
    """Binary libpysal W: cells within grid distance `k` (excluding the cell itself).

    Ids are positions 0..n-1 in `cells`; Gi* adds the self-weight (``star=True``). Cells with no
    neighbour in the set are islands; esda handles them (their z is NaN → never significant).
    """
    matrix = ring_matrix(cells, k).tocsr()
    # Every cell keeps its row, islands included: `W.from_sparse` builds its ids from the
    # non-zero entries, so a cell without a neighbour in the set vanished and the weights no
    # longer matched the values (esda's "matmul: dimension mismatch").
    rows = range(matrix.shape[0])
    neighbours = {i: matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]].tolist() for i in rows}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the weights matrix has islands": reported in the result
        weights = W(neighbours, id_order=list(rows), silence_warnings=True)
    weights.transform = "B"
    return weights


def expected_from_exposure(
    counts: pd.Series,
    exposure: pd.DataFrame | pd.Series,
    *,
    study_area: ArrayLike | None = None,
    background: bool = True,
    spill_k: int = 1,
    floor_share: float = 0.01,
) -> pd.Series:
    """Expected counts per cell explained by exposure layers (population at risk).

    `exposure`: per-cell amounts indexed by cell, one column per layer (residents, buildings by
    use, organisations, cameras…); missing cells are 0. The expectation is a non-negative mix
    ``E = Σ βₖ·exposureₖ (+ β₀ per cell with `background`)`` fitted by Poisson maximum
    likelihood (identity link, L-BFGS-B under β ≥ 0), the standard "expected from the population
    at risk" of disease mapping with several kinds of population. With `spill_k` > 0 each
    layer's total over the cell's k-ring enters as a further column, for records reported a
    little off their anchor across a cell edge. Cells the mix leaves at 0
    get `floor_share` × the mean count, so that every cell has a positive expectation.
    """
    observed = _study_counts(counts, study_area)
    frame = exposure.to_frame() if isinstance(exposure, pd.Series) else exposure
    x = frame.astype(np.float64).reindex(observed.index).fillna(0.0).to_numpy()
    if (x < 0).any() or not np.isfinite(x).all():
        raise HotspotInputError("exposure must be finite and non-negative")
    if spill_k > 0:
        # Records land a little off their anchor (the street in front of a door, around a
        # camera): each layer's k-ring total is a second column the fit can use.
        ring = ring_matrix(observed.index.to_numpy(dtype=np.int64), spill_k)
        x = np.column_stack([x, ring @ x])
    if background:
        x = np.column_stack([x, np.ones(observed.size)])
    scale = x.sum(axis=0)
    keep = scale > 0
    if not keep.any():
        raise HotspotInputError("every exposure column is zero over the study area")
    x = x[:, keep] / scale[keep]
    y = observed.to_numpy()
    total = float(y.sum())
    if total <= 0:
        raise HotspotInputError("no records: nothing to explain")
    eps = 1e-9 * total

    colsum = x.sum(axis=0)  # constant: not recomputed at each of the fit's evaluations
    xt = np.ascontiguousarray(x.T)

    def objective(beta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        mu = x @ beta + eps
        value = float(mu.sum() - y @ np.log(mu))
        gradient = colsum - xt @ (y / mu)
        return value, np.asarray(gradient, dtype=np.float64)

    start = np.full(x.shape[1], total / x.shape[1])
    fit = optimize.minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * x.shape[1]
    )
    expected = x @ fit.x
    floor = floor_share * float(y.mean())
    return pd.Series(np.maximum(expected, floor), index=observed.index, name="expected")


def expected_from_surroundings(
    counts: pd.Series,
    *,
    study_area: ArrayLike | None = None,
    inner_k: int = 2,
    outer_k: int = 6,
    floor_share: float = 0.05,
) -> pd.Series:
    """Expected counts per cell from its surroundings: the mean of the ring inner_k < d ≤ outer_k.

    The background a cell is judged against when no exposure layer explains where records
    fall: the regional level around it, leaving out its own k-ring and a guard band (cells up
    to `inner_k` rings away) so a hotspot does not raise its own bar. Smooth gradients (a dense
    centre, a sparse periphery) are expected; a few cells far above their surroundings are not.
    Cells whose surroundings are empty get `floor_share` × the study area's mean.
    """
    if not 1 <= inner_k < outer_k:
        raise HotspotInputError("need 1 <= inner_k < outer_k")
    observed = _study_counts(counts, study_area)
    cells = observed.index.to_numpy(dtype=np.int64)
    single_resolution(cells)
    n = cells.size
    oi, oj = neighbour_pairs(cells, outer_k)
    ii, ij = neighbour_pairs(cells, inner_k)
    ones = np.ones
    donut = sp.csr_matrix((ones(oi.size), (oi, oj)), shape=(n, n)) - sp.csr_matrix(
        (ones(ii.size), (ii, ij)), shape=(n, n)
    )
    y = observed.to_numpy()
    size = np.asarray(donut.sum(axis=1)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.asarray(donut @ y).ravel() / size
    floor = floor_share * float(y.mean()) if y.mean() > 0 else 1.0
    mean = np.where(np.isfinite(mean), np.maximum(mean, floor), floor)
    return pd.Series(mean, index=observed.index, name="expected")


def _study_counts(counts: pd.Series, study_area: ArrayLike | None) -> pd.Series:
    if not isinstance(counts, pd.Series):
        raise HotspotInputError("counts must be a pandas Series indexed by int64 H3 cell")
    values = counts.astype(np.float64)
    if values.index.has_duplicates:
        values = values.groupby(level=0).sum()
    cells = values.index.to_numpy(dtype=np.int64)
    if study_area is not None:
        cells = np.union1d(cells, np.asarray(study_area, dtype=np.int64))
    out = values.reindex(pd.Index(np.unique(cells), name="cell"), fill_value=0.0)
    if (out < 0).any() or not np.isfinite(out).all():
        raise HotspotInputError("counts must be finite and non-negative")
    return out


def _local_sums(matrix: sp.csr_matrix, values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sum over each cell's k-ring, the cell included (the Gi* numerator, binary weights)."""
    return np.asarray(matrix @ values, dtype=np.float64) + values


def _ring_sizes(matrix: sp.csr_matrix) -> NDArray[np.int64]:
    return np.asarray(matrix.getnnz(axis=1), dtype=np.int64) + 1


def _randomisation_tails(
    y: NDArray[np.float64], sums: NDArray[np.float64], sizes: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """P(S ≥ s) and P(S ≤ s) for a k-ring sum of `size` values drawn from the study area's values.

    Draws are with replacement (the permutation null draws without: for k-rings of 7-37 cells
    among thousands the difference is negligible and on the conservative side).
    """
    counts = y.astype(np.int64)
    if not np.array_equal(counts, y):
        raise HotspotInputError('inference="exact" needs integer counts; use "normal"')
    pmf1 = np.bincount(counts).astype(np.float64) / counts.size
    upper = np.ones(y.size)
    lower = np.ones(y.size)
    pmf = np.ones(1)
    for size in range(1, int(sizes.max()) + 1):
        pmf = np.clip(signal.fftconvolve(pmf, pmf1), 0.0, None)
        pmf /= pmf.sum()
        rows = np.flatnonzero(sizes == size)
        if rows.size == 0:
            continue
        sf = np.cumsum(pmf[::-1])[::-1]  # sf[s] = P(S >= s)
        cdf = np.cumsum(pmf)  # cdf[s] = P(S <= s)
        s = np.clip(sums[rows].astype(np.int64), 0, pmf.size - 1)
        upper[rows] = np.clip(sf[s], 0.0, 1.0)
        lower[rows] = np.clip(cdf[s], 0.0, 1.0)
    return upper, lower


#: Median of χ² with one degree of freedom: turns a median squared residual into a variance.
_CHI2_1_MEDIAN: Final = 0.45493642311957283


def _count_model_tails(
    observed: NDArray[np.float64],
    expected: NDArray[np.float64],
    weights: sp.csr_matrix,
    min_expected: float = 5.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Tails of the k-ring count given the total, against the k-ring's expected count.

    Poisson counts make the k-ring sum binomial given the total. No exposure model is exact,
    so the dispersion φ of the k-ring sums around their expectation is estimated robustly
    (median squared Pearson residual over k-rings expecting ≥ `min_expected`, so that neither
    the empty periphery nor the hotspots themselves set it); with φ > 1 the sum is negative
    binomial with variance φ·μ (quasi-Poisson). Returns (upper, lower, φ).
    """
    total = observed.sum()
    scaled = expected * total / expected.sum()
    sums = _local_sums(weights, observed)
    mu = _local_sums(weights, scaled)
    informative = mu >= min_expected
    phi = 1.0
    if informative.sum() >= 10:
        residual2 = (sums[informative] - mu[informative]) ** 2 / mu[informative]
        phi = max(1.0, float(np.median(residual2)) / _CHI2_1_MEDIAN)
    if phi <= 1.0:
        share = np.clip(mu / total, 0.0, 1.0)
        upper = stats.binom.sf(sums - 1, int(total), share)
        lower = stats.binom.cdf(sums, int(total), share)
    else:
        size = mu / (phi - 1.0)
        prob = size / (size + mu)
        upper = stats.nbinom.sf(sums - 1, size, prob)
        lower = stats.nbinom.cdf(sums, size, prob)
    return np.asarray(upper, dtype=np.float64), np.asarray(lower, dtype=np.float64), phi


def hotspots(
    counts: pd.Series,
    *,
    k: int = 1,
    alpha: float = 0.05,
    study_area: ArrayLike | None = None,
    expected: pd.Series | None = None,
    inference: Inference = "exact",
    permutations: int = 999,
    seed: int | None = None,
) -> HotspotResult:
    """Getis-Ord Gi* hot and cold spots among H3 cells, significant at FDR level `alpha`.

    `counts`: records per int64 cell (one resolution). `study_area`: every cell of the region
    (cells absent from `counts` enter with 0; without it only the cells in `counts` are tested,
    which hides the background). `k`: neighbourhood radius in rings. `expected`: expected counts
    per cell for the excess-over-background test (module docstring); every cell of the study
    area needs a positive one. `permutations` and `seed` serve ``inference="permutation"``.
    """
    if not 0.0 < alpha < 1.0:
        raise HotspotInputError(f"alpha must be in (0, 1), got {alpha}")
    if k < 1:
        raise HotspotInputError(f"k must be >= 1, got {k}")
    if inference not in ("exact", "normal", "permutation"):
        raise HotspotInputError(f"unknown inference {inference!r}")
    observed = _study_counts(counts, study_area)
    cells = observed.index.to_numpy(dtype=np.int64)
    resolution = single_resolution(cells)
    if cells.size < 3:
        raise HotspotInputError("Gi* needs at least 3 cells")
    obs = observed.to_numpy()

    if expected is None:
        exp = np.full(cells.size, np.nan)
        y = obs
    else:
        exp_series = expected.astype(np.float64).reindex(observed.index)
        if exp_series.isna().any() or (exp_series <= 0).any():
            raise HotspotInputError("expected must be positive for every cell of the study area")
        exp = exp_series.to_numpy() * obs.sum() / float(exp_series.sum())
        residual = (obs - exp) / np.sqrt(exp)
        # Gi*'s z is a standardised local sum: shifting every value leaves z and the
        # permutation ranks unchanged, and G's ratio form needs a positive total.
        y = residual - residual.min() + 1.0
    if np.ptp(y) == 0:
        raise HotspotInputError("the values do not vary: no cell can stand out")

    weights = ring_matrix(cells, k)  # straight from the cells: no libpysal W unless permuting
    dispersion = 1.0
    z = gi_star_z(np.asarray(y, dtype=np.float64), weights)
    if inference == "permutation":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # islands divide by zero → NaN z
            # esda's directed pseudo p-value is doubled below; its notice about it is noise here
            warnings.simplefilter("ignore", DeprecationWarning)
            # islands and separate components are handled below, not worth a notice
            warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
            g = esda.G_Local(
                y,
                hex_weights(cells, k),
                transform="B",
                permutations=permutations,
                star=True,
                keep_simulations=True,
                n_jobs=1,
                seed=seed,
            )
        z = np.asarray(g.z_sim, dtype=np.float64)
        p = np.minimum(1.0, 2.0 * np.asarray(g.p_sim, dtype=np.float64))
        hot = z > 0
    elif inference == "normal":
        p = 2.0 * stats.norm.sf(np.abs(z))
        hot = z > 0
    else:
        if expected is None:
            sums = _local_sums(weights, obs)
            upper, lower = _randomisation_tails(obs, sums, _ring_sizes(weights))
        else:
            upper, lower, dispersion = _count_model_tails(obs, exp, weights)
        p = np.minimum(1.0, 2.0 * np.minimum(upper, lower))
        hot = upper < lower
    # A cell without a neighbour in the study area has no neighbourhood to stand out in: never
    # significant, whatever the inference (esda's permutations give islands p = 1/(n+1)).
    island = weights.getnnz(axis=1) == 0
    z = np.where(island, np.nan, z)
    p = np.where(np.isfinite(p) & ~island, p, 1.0)
    threshold = float(esda.fdr(p, alpha))
    significant = p < threshold  # esda.fdr's cut-off: BH rejects the p-values below it
    kind = np.where(significant, np.where(hot, HOT, COLD), NOT_SIGNIFICANT)
    table = pd.DataFrame(
        {
            "count": obs,
            "expected": exp,
            "z": z,
            "p": p,
            "significant": significant,
            "kind": kind,
        },
        index=observed.index,
    )
    return HotspotResult(
        resolution=resolution,
        k=k,
        alpha=alpha,
        inference=inference,
        p_threshold=threshold,
        table=table,
        dispersion=dispersion,
    )
