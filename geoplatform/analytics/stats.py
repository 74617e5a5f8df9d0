"""Grid statistics: counts, closure/on-time rates, overdue, per-10k rates, small-count suppression.

Pure pandas, shaped for the /stats endpoint: one SQL aggregate per request returns the *leaf*
rows (one per grid, with the columns of `LEAF_COLUMNS`), the residents per grid come from a
second count, and everything else happens here: rolling up to community / street / district,
rates, and suppression of person counts for roles that may not see people.

Definitions (the figures a governance centre watches):

* ``closure_rate`` (办结率) = closed / accepted, where accepted = incidents − rejected.
* ``on_time_rate`` (按期办结率) = closed on or before their due time / closed with a due time.
* ``overdue_now`` = not closed, not rejected, and past due at the moment of the query.
* ``per_10k`` = incidents per 10,000 residents of the unit.

**Suppression.** Counts of 1-10 persons identify people. `suppression_mask` marks them at every
level of a hierarchy at once (primary suppression), then adds complementary suppressions so that
no suppressed value can be recovered by differencing a parent against its published children:
within every parent, either no child is suppressed, or at least two are and their sum is above
the threshold (so the derivable remainder is not itself a small count). Children are added
smallest first; the loop repeats until nothing changes, since a newly suppressed unit can break
its own parent's group. The mask is computed from the whole hierarchy every time, so every level
a user can ask for (grid, community, street, district, and H3 parents alike) is published from
one consistent pattern: a grid's value cannot be had from ``by=community`` minus ``by=grid``.
Zero is published (it identifies nobody). Person counts are snapshots, not time windows, so
overlapping windows give nothing to difference; rates built on a suppressed count are
suppressed with it (a rate and the incident count give the residents back).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from geoplatform.errors import GeoPlatformError

__all__ = [
    "ADMIN_CODE_LENGTHS",
    "LEAF_COLUMNS",
    "SUPPRESSION_RANGE",
    "StatsInputError",
    "admin_chain",
    "aggregate_incidents",
    "incident_rates",
    "suppression_mask",
    "unit_statistics",
]

#: Columns of the leaf aggregate (one SQL statement fills them; `aggregate_incidents` in pandas).
LEAF_COLUMNS: Final = (
    "incidents",
    "rejected",
    "closed",
    "closed_with_due",
    "closed_on_time",
    "overdue_now",
)
#: Level → length of its code prefix in a 15-digit grid code (*local*: DOMAIN.md's common form).
ADMIN_CODE_LENGTHS: Final[Mapping[str, int]] = {
    "district": 6,
    "street": 9,
    "community": 12,
    "grid": 15,
}
#: Person counts in this closed range are suppressed for roles that may not see people.
SUPPRESSION_RANGE: Final = (1, 10)
CLOSED: Final = "closed"
REJECTED: Final = "rejected"


class StatsInputError(GeoPlatformError, ValueError):
    """A statistics request the frames cannot answer: unknown level, missing columns."""

    http_status = 400
    exit_code = 65


def admin_chain(
    grid_codes: pd.Series, lengths: Mapping[str, int] = ADMIN_CODE_LENGTHS
) -> pd.DataFrame:
    """District, street, community and grid code of each grid code, by code prefix."""
    codes = grid_codes.astype(str)
    return pd.DataFrame({level: codes.str[:n] for level, n in lengths.items()}, index=codes.index)


def aggregate_incidents(
    incidents: pd.DataFrame, by: str | Sequence[str], *, as_of: pd.Timestamp | str
) -> pd.DataFrame:
    """The leaf aggregate from incident rows (status, closed_at, due_at), as the SQL computes it.

    For analysts and to test the SQL against: group by `by` and count `LEAF_COLUMNS`.
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = {"status", "closed_at", "due_at", *keys} - set(incidents.columns)
    if missing:
        raise StatsInputError(f"incident rows lack columns: {', '.join(sorted(missing))}")
    now = pd.Timestamp(as_of)
    closed_at = pd.to_datetime(incidents["closed_at"])
    due_at = pd.to_datetime(incidents["due_at"])
    if now.tzinfo is None and isinstance(due_at.dtype, pd.DatetimeTZDtype):
        raise StatsInputError("as_of must carry a time zone when the due times do")
    status = incidents["status"]
    closed = status == CLOSED
    rejected = status == REJECTED
    flags = pd.DataFrame(
        {
            "incidents": 1,
            "rejected": rejected,
            "closed": closed,
            "closed_with_due": closed & due_at.notna(),
            "closed_on_time": closed & due_at.notna() & (closed_at <= due_at),
            "overdue_now": ~closed & ~rejected & due_at.notna() & (due_at < now),
        },
        index=incidents.index,
    ).astype(np.int64)
    for key in keys:
        flags[key] = incidents[key]
    return flags.groupby(keys, sort=True)[list(LEAF_COLUMNS)].sum()


def incident_rates(counts: pd.DataFrame, residents: pd.Series | None = None) -> pd.DataFrame:
    """Add ``closure_rate``, ``on_time_rate`` and (with `residents`) ``residents``, ``per_10k``.

    Rates with a zero denominator are NaN (JSON null), never 0: "nothing to close" is not
    "closed nothing".
    """
    missing = set(LEAF_COLUMNS) - set(counts.columns)
    if missing:
        raise StatsInputError(f"counts lack columns: {', '.join(sorted(missing))}")
    out = counts.copy()
    accepted = out["incidents"] - out["rejected"]
    out["closure_rate"] = out["closed"] / accepted.where(accepted > 0)
    due = out["closed_with_due"]
    out["on_time_rate"] = out["closed_on_time"] / due.where(due > 0)
    if residents is not None:
        people = residents.reindex(out.index).fillna(0).astype(np.int64)
        out["residents"] = people
        out["per_10k"] = out["incidents"] * 10_000 / people.where(people > 0)
    return out


def _primary(values: pd.Series, low: int, high: int) -> pd.Series:
    return (values >= low) & (values <= high)


def suppression_mask(
    leaf: pd.DataFrame,
    value: str,
    levels: Sequence[str],
    *,
    low: int = SUPPRESSION_RANGE[0],
    high: int = SUPPRESSION_RANGE[1],
) -> dict[str, pd.Series]:
    """Which units to suppress at every level: primary (low..high) plus complementary.

    `leaf` has one row per finest unit with the person count `value` and one code column per
    level in `levels`, coarsest first, the last being the leaf's own key (e.g. district, street,
    community, grid; or H3 parents then the cell). Returns level → boolean Series indexed by that
    level's codes (True = suppress). See the module docstring for the rule.
    """
    if not levels:
        raise StatsInputError("at least one level is needed")
    missing = {value, *levels} - set(leaf.columns)
    if missing:
        raise StatsInputError(f"leaf rows lack columns: {', '.join(sorted(missing))}")
    totals: dict[str, pd.Series] = {}
    masks: dict[str, pd.Series] = {}
    for level in levels:
        totals[level] = leaf.groupby(level, sort=True)[value].sum()
        masks[level] = _primary(totals[level], low, high)
    parents = {
        child: leaf.groupby(child, sort=True)[parent].first()
        for parent, child in itertools.pairwise(levels)
    }
    changed = True
    while changed:
        changed = False
        for child in levels[1:]:
            child_values = totals[child]
            child_mask = masks[child]
            for _, members in child_values.groupby(parents[child]):
                hidden = child_mask[members.index]
                if not hidden.any() or hidden.all():
                    continue
                hidden_sum = int(members[hidden].sum())
                while hidden.sum() < 2 or low <= hidden_sum <= high:
                    # smallest positive first: a hidden zero adds nothing to the hidden sum
                    rest = members[~hidden]
                    order = np.lexsort((rest.to_numpy(), rest.to_numpy() == 0))
                    candidates = rest.iloc[order]
                    if candidates.empty:  # all hidden, sum small: the parent is primary too
                        break
                    pick = candidates.index[0]
                    hidden[pick] = True
                    hidden_sum += int(members[pick])
                    child_mask[pick] = True
                    changed = True
            masks[child] = child_mask
    return masks


def unit_statistics(
    leaf: pd.DataFrame,
    *,
    by: str,
    levels: Sequence[str] = tuple(ADMIN_CODE_LENGTHS),
    residents: pd.Series | None = None,
    suppress_people: bool = False,
) -> pd.DataFrame:
    """Statistics per unit at level `by` from leaf rows (the /stats endpoint's pandas half).

    `leaf`: `LEAF_COLUMNS` indexed by the leaf code (the last of `levels`) with a column per
    coarser level, e.g. from `admin_chain`. `residents`: persons per leaf code. With
    `suppress_people`, residents and per_10k of suppressed units become NaN and a boolean
    ``suppressed`` column says which.
    """
    if by not in levels:
        raise StatsInputError(f"by must be one of {', '.join(levels)}; got {by!r}")
    leaf_key = levels[-1]
    frame = leaf.copy()
    if leaf_key not in frame.columns:
        frame[leaf_key] = frame.index
    frame = frame.reset_index(drop=True)
    missing = set(levels) - set(frame.columns)
    if missing:
        raise StatsInputError(f"leaf rows lack level columns: {', '.join(sorted(missing))}")
    counts = frame.groupby(by, sort=True)[list(LEAF_COLUMNS)].sum()
    people: pd.Series | None = None
    if residents is not None:
        frame["residents"] = residents.reindex(frame[leaf_key]).fillna(0).to_numpy(np.int64)
        people = frame.groupby(by, sort=True)["residents"].sum()
    out = incident_rates(counts, people)
    if suppress_people and people is not None:
        mask = suppression_mask(frame, "residents", levels)[by].reindex(out.index, fill_value=False)
        out["suppressed"] = mask
        out.loc[mask, ["residents", "per_10k"]] = np.nan
    return out
