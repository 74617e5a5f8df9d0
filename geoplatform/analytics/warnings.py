"""Early warning: units (H3 cells, grids) whose last N days are significantly above their baseline.

Each unit is compared with its own history, not with its neighbours, so a busy market that is
always busy raises nothing and a quiet street that suddenly fills does. The model:

* **Weekly rhythm.** Day-of-week factors are estimated from the baseline period, pooled over all
  units (one unit's few records cannot carry seven factors); a day's *exposure* is its factor.
* **City-wide level.** With ``relative_to_city`` (default) the expectation follows the rest of the
  city between baseline and window (seasons, holidays, a new channel), leaving the unit out so
  its own surge does not raise its own bar.
* **The test.** Under a Poisson model with the unit's unknown rate, the window's count given the
  unit's baseline + window total is binomial with the window's share of exposure — the exact
  conditional test of "rate ratio = 1", which also carries the uncertainty of a short baseline.
  When the baseline's weekly counts are overdispersed (Pearson dispersion φ > 1), the binomial
  becomes a beta-binomial with the same variance inflation.
* **Multiple testing.** Benjamini-Hochberg over the units that could reach significance at all
  (a unit with 2 records in 98 days cannot, whatever their days: Tarone's screen, which depends
  only on the unit's total and so keeps the test valid).

The rows of `WarningScan.to_records` carry the evidence (observed, expected, ratio, p, q, window,
baseline) for the nightly run to write into the warnings table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from geoplatform.errors import GeoPlatformError

__all__ = [
    "WarningInputError",
    "WarningScan",
    "daily_counts",
    "scan_warnings",
]

TIME_ZONE: Final = "Asia/Shanghai"


class WarningInputError(GeoPlatformError, ValueError):
    """Daily counts the scan cannot use: missing columns, negative counts, too short a history."""

    http_status = 422
    exit_code = 65


@dataclass(frozen=True)
class WarningScan:
    """One scan's verdict for every unit tested.

    ``table`` is indexed by unit with columns ``observed`` (window count), ``baseline`` (baseline
    count), ``expected`` (window count the baseline predicts), ``ratio`` (observed / expected),
    ``p`` (one-sided), ``q`` (BH-adjusted, NaN for units that cannot reach significance) and
    ``warning`` (q ≤ alpha and observed ≥ min_observed), sorted by p.
    """

    level: str
    as_of: dt.date
    window_start: dt.date
    baseline_start: dt.date
    baseline_end: dt.date
    alpha: float
    dispersion: float
    dow_factors: tuple[float, ...]
    table: pd.DataFrame = field(repr=False)

    @property
    def warnings(self) -> pd.DataFrame:
        """Only the units that raise a warning."""
        return self.table[self.table["warning"]]

    def to_records(self, warnings_only: bool = True) -> list[dict[str, object]]:
        """Rows for the warnings table: unit, level, dates and the evidence."""
        table = self.warnings if warnings_only else self.table
        rows: list[dict[str, object]] = []
        for unit, row in table.iterrows():
            rows.append(
                {
                    "level": self.level,
                    "unit": unit.item() if isinstance(unit, np.generic) else unit,
                    "as_of": self.as_of,
                    "window_start": self.window_start,
                    "window_end": self.as_of,
                    "baseline_start": self.baseline_start,
                    "baseline_end": self.baseline_end,
                    "observed": int(row["observed"]),
                    "baseline": int(row["baseline"]),
                    "expected": float(row["expected"]),
                    "ratio": None if np.isnan(row["ratio"]) else float(row["ratio"]),
                    "p_value": float(row["p"]),
                    "q_value": None if np.isnan(row["q"]) else float(row["q"]),
                    "dispersion": self.dispersion,
                    "warning": bool(row["warning"]),
                }
            )
        return rows


def daily_counts(
    frame: pd.DataFrame, unit: str, time: str = "reported_at", time_zone: str = TIME_ZONE
) -> pd.DataFrame:
    """Records per unit and local calendar day: columns ``unit``, ``day``, ``count``.

    Timestamps with a zone are converted to `time_zone` first (a day is the city's day, not
    UTC's); naive ones are taken as local already. Rows without a unit are dropped.
    """
    times = pd.to_datetime(frame[time])
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert(time_zone).dt.tz_localize(None)
    days = times.dt.normalize()
    data = pd.DataFrame({"unit": frame[unit].to_numpy(), "day": days.to_numpy()})
    data = data.dropna()
    out = data.groupby(["unit", "day"], sort=True).size().rename("count").reset_index()
    out["count"] = out["count"].astype(np.int64)
    return out


def _as_date(value: dt.date | str | pd.Timestamp) -> dt.date:
    stamp = pd.Timestamp(value)
    return dt.date(stamp.year, stamp.month, stamp.day)


def _weekday_factors(day_totals: pd.Series) -> NDArray[np.float64]:
    """Mean count per weekday over the mean, from one series of city-wide daily totals."""
    weekday = pd.DatetimeIndex(day_totals.index).day_of_week
    by_weekday = day_totals.groupby(weekday).mean()
    factors = by_weekday.reindex(range(7)).to_numpy(dtype=np.float64)
    mean = float(np.nanmean(factors)) if np.isfinite(factors).any() else 0.0
    if mean <= 0:
        return np.ones(7)
    factors = np.where(np.isfinite(factors) & (factors > 0), factors / mean, 1.0)
    return np.asarray(factors / factors.mean(), dtype=np.float64)


def _dispersion(weekly: NDArray[np.float64], week_exposure: NDArray[np.float64]) -> float:
    """Pooled Pearson dispersion of units' weekly baseline counts around their own mean rate."""
    totals = weekly.sum(axis=1)
    used = totals > 0
    if not used.any() or weekly.shape[1] < 2:
        return 1.0
    share = week_exposure / week_exposure.sum()
    expected = totals[used, None] * share[None, :]
    chi2 = float(np.sum((weekly[used] - expected) ** 2 / expected))
    dof = int(used.sum()) * (weekly.shape[1] - 1)
    return float(max(1.0, chi2 / dof))


def _upper_tail(
    observed: NDArray[np.int64], total: NDArray[np.int64], share: NDArray[np.float64], phi: float
) -> NDArray[np.float64]:
    """P(X ≥ observed) for X ~ Binomial(total, share), or beta-binomial with inflation phi."""
    if phi <= 1.0:
        return np.asarray(stats.binom.sf(observed - 1, total, share), dtype=np.float64)
    # BetaBinomial(n, a, b) has variance n p (1-p) (a+b+n)/(a+b+1): match that factor to phi.
    precision = np.maximum((total - phi) / (phi - 1.0), 1e-3)
    a = share * precision
    b = (1.0 - share) * precision
    tail = stats.betabinom.sf(observed - 1, total, a, b)
    binom = stats.binom.sf(observed - 1, total, share)
    return np.asarray(np.where(total > phi, tail, binom), dtype=np.float64)


def scan_warnings(
    daily: pd.DataFrame,
    *,
    as_of: dt.date | str | pd.Timestamp,
    window_days: int = 14,
    baseline_days: int = 84,
    alpha: float = 0.05,
    min_observed: int = 3,
    relative_to_city: bool = True,
    level: str = "cell",
    unit: str = "unit",
    day: str = "day",
    count: str = "count",
) -> WarningScan:
    """Test every unit's last `window_days` (ending on `as_of`, inclusive) against its baseline.

    `daily`: long counts (unit, day, count) as `daily_counts` or the cube returns them; missing
    unit-days are zeros. The baseline is the `baseline_days` just before the window; units with
    no record in baseline or window are not tested. `level` labels the rows ("cell", "grid").
    """
    for name in (unit, day, count):
        if name not in daily.columns:
            raise WarningInputError(f"daily counts need a {name!r} column")
    if window_days < 1 or baseline_days < 7:
        raise WarningInputError("window_days must be >= 1 and baseline_days >= 7")
    if not 0.0 < alpha < 1.0:
        raise WarningInputError(f"alpha must be in (0, 1), got {alpha}")
    end = pd.Timestamp(_as_date(as_of))
    window_start = end - pd.Timedelta(days=window_days - 1)
    baseline_end = window_start - pd.Timedelta(days=1)
    baseline_start = window_start - pd.Timedelta(days=baseline_days)

    frame = pd.DataFrame(
        {
            "unit": daily[unit].to_numpy(),
            "day": pd.to_datetime(daily[day]).dt.normalize().to_numpy(),
            "count": daily[count].to_numpy(),
        }
    )
    if (frame["count"] < 0).any():
        raise WarningInputError("counts must be non-negative")
    frame = frame[(frame["day"] >= baseline_start) & (frame["day"] <= end)]
    days = pd.date_range(baseline_start, end, freq="D")
    in_window = days >= window_start

    matrix = frame.pivot_table(
        index="unit", columns="day", values="count", aggfunc="sum", fill_value=0
    ).reindex(columns=days, fill_value=0)
    counts = matrix.to_numpy(dtype=np.int64)
    city = pd.Series(counts.sum(axis=0), index=days)
    if city[~in_window].sum() == 0:
        raise WarningInputError("no record in the baseline period: nothing to compare with")

    factors = _weekday_factors(city[~in_window])
    exposure = factors[days.day_of_week]
    f_window = float(exposure[in_window].sum())
    f_baseline = float(exposure[~in_window].sum())

    observed = counts[:, in_window].sum(axis=1)
    baseline = counts[:, ~in_window].sum(axis=1)
    if relative_to_city:
        rest_window = observed.sum() - observed
        rest_baseline = baseline.sum() - baseline
        with np.errstate(divide="ignore", invalid="ignore"):
            level_ratio = (rest_window / f_window) / (rest_baseline / f_baseline)
        level_ratio = np.where(np.isfinite(level_ratio) & (level_ratio > 0), level_ratio, 1.0)
    else:
        level_ratio = np.ones(observed.size)
    window_weight = f_window * level_ratio
    share = window_weight / (window_weight + f_baseline)

    # Weekly blocks of the baseline (whole weeks counted back from its end) for the dispersion.
    n_weeks = baseline_days // 7
    base = counts[:, ~in_window][:, -n_weeks * 7 :]
    weekly = base.reshape(base.shape[0], n_weeks, 7).sum(axis=2).astype(np.float64)
    week_exposure = exposure[~in_window][-n_weeks * 7 :].reshape(n_weeks, 7).sum(axis=1)
    phi = _dispersion(weekly, week_exposure)

    total = observed + baseline
    p = _upper_tail(observed, total, share, phi)
    testable = (total > 0) & (share**total <= alpha)
    q = np.full(observed.size, np.nan)
    if testable.any():
        q[testable] = stats.false_discovery_control(p[testable], method="bh")
    expected = baseline * window_weight / f_baseline
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.nan)
    table = pd.DataFrame(
        {
            "observed": observed,
            "baseline": baseline,
            "expected": expected,
            "ratio": ratio,
            "p": p,
            "q": q,
            "warning": (q <= alpha) & (observed >= min_observed),
        },
        index=matrix.index.rename("unit"),
    )
    table = table[total > 0].sort_values(["p", "observed"], ascending=[True, False])
    return WarningScan(
        level=level,
        as_of=end.date(),
        window_start=window_start.date(),
        baseline_start=baseline_start.date(),
        baseline_end=baseline_end.date(),
        alpha=alpha,
        dispersion=phi,
        dow_factors=tuple(float(f) for f in factors),
        table=table,
    )
