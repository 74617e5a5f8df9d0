"""Grid statistics: rates, roll-ups, and suppression that resists differencing."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from geoplatform.analytics.stats import (
    LEAF_COLUMNS,
    StatsInputError,
    admin_chain,
    aggregate_incidents,
    incident_rates,
    suppression_mask,
    unit_statistics,
)

LEVELS = ("district", "street", "community", "grid")
AS_OF = pd.Timestamp("2025-06-30T12:00:00+08:00")


def _incidents() -> pd.DataFrame:
    t = pd.Timestamp
    rows = [
        # grid, status, due_at, closed_at
        ("150302001001001", "closed", "2025-06-01T18:00+08:00", "2025-06-01T12:00+08:00"),
        ("150302001001001", "closed", "2025-06-01T18:00+08:00", "2025-06-02T09:00+08:00"),
        ("150302001001001", "handling", "2025-06-29T18:00+08:00", None),  # overdue now
        ("150302001001001", "rejected", "2025-06-01T18:00+08:00", None),  # not overdue
        ("150302001001002", "dispatched", "2025-07-05T18:00+08:00", None),  # not yet due
        ("150302001001002", "closed", None, "2025-06-03T10:00+08:00"),  # no deadline
        ("150302001002001", "closed", "2025-06-10T18:00+08:00", "2025-06-10T17:59+08:00"),
    ]
    frame = pd.DataFrame(rows, columns=["grid_code", "status", "due_at", "closed_at"])
    frame["due_at"] = [t(v) if v else pd.NaT for v in frame["due_at"]]
    frame["closed_at"] = [t(v) if v else pd.NaT for v in frame["closed_at"]]
    return frame


def test_leaf_aggregate_and_rates() -> None:
    leaf = aggregate_incidents(_incidents(), "grid_code", as_of=AS_OF)
    assert list(leaf.columns) == list(LEAF_COLUMNS)
    first = leaf.loc["150302001001001"]
    assert first.to_dict() == {
        "incidents": 4,
        "rejected": 1,
        "closed": 2,
        "closed_with_due": 2,
        "closed_on_time": 1,
        "overdue_now": 1,
    }
    rates = incident_rates(leaf, pd.Series({"150302001001001": 2000, "150302001002001": 0}))
    assert rates.loc["150302001001001", "closure_rate"] == pytest.approx(2 / 3)
    assert rates.loc["150302001001001", "on_time_rate"] == pytest.approx(0.5)
    assert rates.loc["150302001001001", "per_10k"] == pytest.approx(4 * 10_000 / 2000)
    second = rates.loc["150302001001002"]
    assert np.isnan(second["on_time_rate"])  # nothing closed with a deadline: unknown, not 0
    assert second["overdue_now"] == 0
    assert np.isnan(rates.loc["150302001002001", "per_10k"])  # no residents


def test_roll_up_by_admin_level_from_grid_codes() -> None:
    leaf = aggregate_incidents(_incidents(), "grid_code", as_of=AS_OF)
    chain = admin_chain(pd.Series(leaf.index, index=leaf.index))
    frame = leaf.join(chain)
    by_community = unit_statistics(frame, by="community", levels=LEVELS)
    assert list(by_community.index) == ["150302001001", "150302001002"]
    assert by_community.loc["150302001001", "incidents"] == 6
    assert by_community["incidents"].sum() == len(_incidents())
    with pytest.raises(StatsInputError):
        unit_statistics(frame, by="province", levels=LEVELS)


def _synthetic_hierarchy(seed: int) -> pd.DataFrame:
    """Grids with residents in a district > street > community > grid tree, many small counts."""
    rng = np.random.default_rng(seed)
    rows = []
    for d, s, c, g in itertools.product(range(2), range(3), range(4), range(5)):
        code = f"15030{d}{s:03d}{c:03d}{g:03d}"
        residents = int(rng.choice([0, 0, 3, 7, 12, 40, 300]))
        rows.append({"grid": code, "residents": residents})
    frame = pd.DataFrame(rows)
    chain = admin_chain(frame["grid"])
    return frame.join(chain.drop(columns="grid"))


def _recoverable(frame: pd.DataFrame, masks: dict[str, pd.Series]) -> list[str]:
    """Suppressed units whose value a user can derive: parent minus published children."""
    leaks = []
    for parent, child in itertools.pairwise(LEVELS):
        values = frame.groupby(child)["residents"].sum()
        parent_of = frame.groupby(child)[parent].first()
        parent_values = frame.groupby(parent)["residents"].sum()
        for code, members in values.groupby(parent_of):
            hidden = masks[child][members.index]
            if not hidden.any() or masks[parent][code]:
                continue
            remainder = parent_values[code] - members[~hidden].sum()
            if hidden.sum() == 1 or 1 <= remainder <= 10:
                leaks.append(f"{child} under {code}")
    return leaks


@pytest.mark.parametrize("seed", range(5))
def test_suppression_cannot_be_undone_by_differencing(seed: int) -> None:
    frame = _synthetic_hierarchy(seed)
    masks = suppression_mask(frame, "residents", LEVELS)
    for level in LEVELS:
        totals = frame.groupby(level)["residents"].sum()
        small = (totals >= 1) & (totals <= 10)
        assert masks[level][small].all(), "every 1-10 count is suppressed"
        # complementary picks are the smallest positive siblings (a hidden 0 protects nothing)
        for parent, child in itertools.pairwise(LEVELS):
            parent_of = frame.groupby(child)[parent].first()
            zero_hidden = masks[child] & (frame.groupby(child)["residents"].sum() == 0)
            for code in zero_hidden[zero_hidden].index:
                siblings = parent_of[parent_of == parent_of[code]].index
                open_positive = ~masks[child][siblings] & (totals.reindex(siblings) > 0)
                if level == child:
                    assert not open_positive.any()
    assert _recoverable(frame, masks) == []
    # Without complementary suppression the same data leaks: the check can fail.
    primary = {level: frame.groupby(level)["residents"].sum().between(1, 10) for level in LEVELS}
    assert _recoverable(frame, primary)


def test_unit_statistics_hide_people_for_restricted_roles() -> None:
    frame = _synthetic_hierarchy(1)
    frame = frame.set_index("grid", drop=False)
    for column in LEAF_COLUMNS:
        frame[column] = 5
    residents = frame["residents"]
    open_view = unit_statistics(frame, by="grid", residents=residents)
    restricted = unit_statistics(frame, by="grid", residents=residents, suppress_people=True)
    small = open_view["residents"].between(1, 10)
    assert small.any()
    assert restricted.loc[small, "residents"].isna().all()
    assert restricted.loc[small, "per_10k"].isna().all()  # the rate would give residents back
    assert restricted["suppressed"].sum() >= small.sum()
    # incident figures are not about persons: they stay
    assert (restricted["incidents"] == open_view["incidents"]).all()
