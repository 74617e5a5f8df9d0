"""Early warning on synthetic daily counts: an emerging hotspot warns in its window, not before."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geoplatform.analytics.warnings import WarningInputError, daily_counts, scan_warnings

WEEKLY = np.array([1.15, 1.1, 1.05, 1.05, 1.0, 0.7, 0.6])  # Monday..Sunday


def _city(
    seed: int,
    extra: float,
    *,
    units: int = 600,
    days: int = 240,
    start_day: int = 200,
    rise_from: int | None = None,
) -> tuple[pd.DataFrame, pd.DatetimeIndex, int]:
    """Daily counts for `units` cells with weekly and seasonal rhythm; unit 5 surges for 14 days
    from `start_day` by `extra` records a day; with `rise_from` every unit's rate doubles."""
    rng = np.random.default_rng(seed)
    calendar = pd.date_range("2024-01-01", periods=days, freq="D")
    rate = rng.lognormal(-1.5, 1.2, units)
    season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(days) / 365)
    lam = rate[:, None] * WEEKLY[calendar.day_of_week][None, :] * season[None, :]
    lam[5, start_day : start_day + 14] += extra
    if rise_from is not None:
        lam[:, rise_from:] *= 2
    y = rng.poisson(lam)
    unit, day = np.nonzero(y)
    frame = pd.DataFrame({"unit": unit, "day": calendar[day], "count": y[unit, day]})
    return frame, calendar, start_day


def test_emerging_hotspot_warns_in_its_window_and_not_before() -> None:
    daily, calendar, start = _city(seed=1, extra=2.0)
    warned_days = []
    other = 0
    for offset in range(-30, 14):
        scan = scan_warnings(daily, as_of=calendar[start + offset], window_days=7)
        units = set(scan.warnings.index.tolist())
        if 5 in units:
            warned_days.append(offset)
        other += len(units - {5})
    assert warned_days, "the surge was never flagged"
    assert min(warned_days) >= 0, f"warned before the surge began: {warned_days}"
    assert min(warned_days) <= 7
    assert other <= 2  # 44 nightly scans of 600 cells


def test_no_surge_no_warnings_over_seeds() -> None:
    warnings_raised = 0
    for seed in range(4):
        daily, calendar, _ = _city(seed=seed, extra=0.0)
        for offset in (150, 180, 210, 239):
            warnings_raised += len(scan_warnings(daily, as_of=calendar[offset]).warnings)
    assert warnings_raised <= 1


def test_weekly_rhythm_is_estimated_and_respected() -> None:
    """A weekend-only window must not warn just because weekdays are busier."""
    daily, calendar, _ = _city(seed=3, extra=0.0)
    scan = scan_warnings(daily, as_of=calendar[180], window_days=7)
    factors = np.array(scan.dow_factors)
    assert factors.mean() == pytest.approx(1.0)
    assert np.corrcoef(factors, WEEKLY / WEEKLY.mean())[0, 1] > 0.9
    # A window of Monday+Tuesday, the busiest days, is expected to be busier than average.
    monday = calendar[calendar.day_of_week == 0][20]
    short = scan_warnings(daily, as_of=monday + pd.Timedelta(days=1), window_days=2)
    base_rate = short.table["baseline"] / 84
    assert (short.table["expected"] > 2 * base_rate * 1.05).mean() > 0.9


def test_city_wide_rise_is_not_a_local_warning() -> None:
    """Every unit doubling (a new reporting channel) is the city's level, not a hotspot."""
    daily, calendar, _ = _city(seed=4, extra=0.0, rise_from=226)
    as_of = calendar[239]
    assert scan_warnings(daily, as_of=as_of, relative_to_city=True).warnings.empty
    assert len(scan_warnings(daily, as_of=as_of, relative_to_city=False).warnings) > 10


def test_records_carry_the_evidence() -> None:
    daily, calendar, start = _city(seed=2, extra=4.0)
    scan = scan_warnings(daily, as_of=calendar[start + 6], window_days=7, level="cell")
    records = scan.to_records()
    assert records
    assert records[0]["unit"] == 5
    row = records[0]
    assert row["window_start"] == calendar[start].date()
    assert row["window_end"] == calendar[start + 6].date()
    assert row["baseline_end"] == calendar[start - 1].date()
    assert row["baseline_start"] == calendar[start - 84].date()
    assert isinstance(row["observed"], int)
    assert row["observed"] > row["expected"]
    assert row["ratio"] == pytest.approx(row["observed"] / row["expected"])
    assert 0 <= row["p_value"] <= row["q_value"] <= scan.alpha
    assert row["level"] == "cell"
    assert row["warning"] is True


def test_daily_counts_use_the_city_day() -> None:
    rows = pd.DataFrame(
        {
            "grid_code": ["A", "A", "B"],
            # 23:30 Beijing on 3 March is 15:30 UTC: still 3 March locally
            "reported_at": pd.to_datetime(
                ["2025-03-03T15:30:00Z", "2025-03-03T16:30:00Z", "2025-03-03T01:00:00Z"]
            ),
        }
    )
    out = daily_counts(rows, "grid_code")
    assert out.to_dict("records") == [
        {"unit": "A", "day": pd.Timestamp("2025-03-03"), "count": 1},
        {"unit": "A", "day": pd.Timestamp("2025-03-04"), "count": 1},
        {"unit": "B", "day": pd.Timestamp("2025-03-03"), "count": 1},
    ]


def test_bad_input_is_refused() -> None:
    daily, calendar, _ = _city(seed=0, extra=0.0, units=20)
    with pytest.raises(WarningInputError):
        scan_warnings(daily.rename(columns={"count": "n"}), as_of=calendar[100])
    with pytest.raises(WarningInputError):
        scan_warnings(daily, as_of=dt.date(2023, 1, 1))  # nothing before: no baseline
    with pytest.raises(WarningInputError):
        scan_warnings(daily, as_of=calendar[100], alpha=0)
