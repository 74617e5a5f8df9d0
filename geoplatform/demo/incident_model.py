"""What incidents are and how they unfold: categories (DOMAIN.md's event classes), seasonal,
weekly and daily rhythm, channels, demand types, deadlines and the handling lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geoplatform.demo.config import SNAPSHOT_TIME

Timestamps = npt.NDArray[np.datetime64]


@dataclass(frozen=True)
class Category:
    """An event sub-class with its rhythm, where it happens and how fast it must be handled."""

    major: str
    minor: str
    weight: float
    season: str
    daytime: str
    location: str  # residential / commercial / road
    deadline_hours: float
    video: bool
    demand: str  # the usual hotline demand type


CATEGORIES: tuple[Category, ...] = (
    Category("市容环境", "暴露垃圾", 10, "summer", "day", "residential", 24, True, "投诉"),
    Category("市容环境", "积存垃圾渣土", 5, "flat", "day", "residential", 48, False, "投诉"),
    Category("市容环境", "道路不洁", 5, "flat", "day", "road", 24, False, "投诉"),
    Category("市容环境", "乱堆物料", 4, "flat", "day", "residential", 48, True, "举报"),
    Category("宣传广告", "非法小广告", 6, "flat", "day", "residential", 24, False, "举报"),
    Category("宣传广告", "违规户外广告", 2, "flat", "day", "commercial", 72, True, "举报"),
    Category("施工管理", "施工扰民", 5, "summer", "night", "residential", 24, False, "投诉"),
    Category("施工管理", "施工占道", 3, "summer", "day", "road", 48, True, "投诉"),
    Category("施工管理", "渣土车遗撒", 2, "summer", "day", "road", 24, True, "举报"),
    Category("街面秩序", "占道经营", 9, "summer", "evening", "commercial", 4, True, "投诉"),
    Category("街面秩序", "店外经营", 6, "summer", "day", "commercial", 4, True, "投诉"),
    Category("街面秩序", "流动摊贩", 5, "summer", "evening", "road", 4, True, "投诉"),
    Category("街面秩序", "乱停放非机动车", 4, "flat", "day", "road", 8, True, "建议"),
    Category("街面秩序", "机动车乱停放", 6, "flat", "day", "road", 8, True, "投诉"),
    Category("突发事件", "道路积水", 1.5, "rain", "any", "road", 12, False, "求助"),
    Category("突发事件", "路面塌陷", 0.5, "spring", "any", "road", 12, False, "求助"),
    Category("突发事件", "火灾隐患", 1, "winter", "any", "residential", 12, False, "举报"),
    Category("突发事件", "燃气泄漏", 0.5, "winter", "any", "residential", 2, False, "求助"),
    Category("其他事件", "噪音扰民", 6, "summer", "night", "residential", 72, False, "投诉"),
    Category("其他事件", "供暖问题", 6, "heating", "any", "residential", 72, False, "求助"),
    Category("其他事件", "供水问题", 3, "flat", "day", "residential", 48, False, "求助"),
    Category("其他事件", "邻里纠纷", 3, "flat", "evening", "residential", 72, False, "求助"),
    Category("其他事件", "私搭乱建", 3, "spring", "day", "residential", 120, False, "举报"),
)
CATEGORY_INDEX = {category.minor: index for index, category in enumerate(CATEGORIES)}
DEMAND_TYPES = ("咨询", "投诉", "建议", "求助", "举报")
#: Hotline deadlines in working days by demand type (DOMAIN.md: 3 for help, 13 for complaints).
HOTLINE_WORKING_DAYS = {"咨询": 1, "投诉": 13, "建议": 10, "求助": 3, "举报": 13}

_SEASONS = {
    "flat": [1.0] * 12,
    "summer": [0.5, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.5, 1.2, 0.9, 0.6, 0.5],
    "winter": [1.6, 1.4, 1.1, 0.8, 0.6, 0.5, 0.5, 0.5, 0.6, 0.9, 1.3, 1.6],
    "heating": [2.2, 1.8, 1.4, 0.6, 0.1, 0.05, 0.05, 0.05, 0.2, 1.6, 2.6, 2.4],
    "rain": [0.1, 0.1, 0.2, 0.4, 0.8, 1.8, 3.5, 3.0, 1.2, 0.4, 0.1, 0.1],
    "spring": [0.6, 0.7, 1.2, 1.5, 1.4, 1.1, 1.0, 1.0, 1.0, 0.9, 0.7, 0.6],
}
SEASON: dict[str, npt.NDArray[np.float64]] = {
    name: np.array(values) / np.mean(values) for name, values in _SEASONS.items()
}
#: Monday..Sunday multipliers per source: patrols thin out at weekends, video never rests.
WEEKLY = {
    "hotline": np.array([1.15, 1.1, 1.05, 1.05, 1.0, 0.85, 0.8]),
    "gridapp": np.array([1.2, 1.2, 1.15, 1.15, 1.1, 0.6, 0.5]),
    "video": np.ones(7),
}


def _hours(peaks: list[tuple[int, float]], floor: float) -> npt.NDArray[np.float64]:
    profile = np.full(24, floor)
    for hour, weight in peaks:
        profile[hour % 24] += weight
    return np.asarray(profile / profile.sum(), dtype=np.float64)


DAYTIME: dict[str, npt.NDArray[np.float64]] = {
    "day": _hours([(h, 1.0) for h in range(8, 18)] + [(10, 0.5), (15, 0.4)], 0.05),
    "evening": _hours([(h, 1.0) for h in range(17, 23)] + [(20, 0.6)], 0.08),
    "night": _hours([(h, 1.0) for h in (21, 22, 23, 0, 1, 2)] + [(6, 0.5), (7, 0.5)], 0.05),
    "any": _hours([(h, 0.6) for h in range(7, 22)], 0.25),
}


def channel_shares(category: Category) -> npt.NDArray[np.float64]:
    """Shares of hotline, grid app and video AI for a category."""
    if category.video:
        return np.array([0.40, 0.35, 0.25])
    return np.array([0.55, 0.45, 0.0])


@dataclass
class Lifecycle:
    """Stage timestamps (NaT when not reached by the snapshot), due time, status, overdue."""

    accepted: Timestamps
    dispatched: Timestamps
    handled: Timestamps
    verified: Timestamps
    closed: Timestamps
    due: Timestamps
    status: npt.NDArray[np.object_]
    overdue: npt.NDArray[np.bool_]
    rejected: npt.NDArray[np.bool_]


def _minutes(
    rng: np.random.Generator, median: float, sigma: float, n: int
) -> npt.NDArray[np.timedelta64]:
    return (rng.lognormal(np.log(median), sigma, n) * 60).astype("timedelta64[s]")


def lifecycle(
    rng: np.random.Generator,
    source: str,
    reported: Timestamps,
    category: npt.NDArray[np.int64],
    demand: npt.NDArray[np.object_],
) -> Lifecycle:
    """Accepted → dispatched → handled → verified → closed, cut at the snapshot time.

    Deadlines: the hotline counts working days by demand type (emergencies the same day); grid app
    and video use the category's hours. About 1 in 10 is handled late; rejected tickets close at
    once; rows later than the snapshot stop at the stage they reached.
    """
    n = reported.shape[0]
    reported = reported.astype("datetime64[s]")
    deadline = np.array([CATEGORIES[c].deadline_hours for c in category]) * 3600
    emergency = np.array([CATEGORIES[c].major == "突发事件" for c in category])
    if source == "hotline":
        days = np.array([HOTLINE_WORKING_DAYS[d] for d in demand])
        day = reported.astype("datetime64[D]")
        due_day = np.busday_offset(day, days, roll="forward")
        due = due_day.astype("datetime64[s]") + (reported - day.astype("datetime64[s]"))
        end_of_day = day.astype("datetime64[s]") + np.timedelta64(86399, "s")
        due = np.where(emergency, np.maximum(end_of_day, reported + np.timedelta64(7200, "s")), due)
    else:
        due = reported + deadline.astype("timedelta64[s]")
    accept_median = {"hotline": 6.0, "gridapp": 2.0, "video": 15.0}[source]
    accepted = reported + _minutes(rng, accept_median, 0.8, n)
    reject_share = {"hotline": 0.04, "gridapp": 0.01, "video": 0.10}[source]
    rejected = np.asarray(rng.random(n) < reject_share, dtype=bool)
    on_the_spot = (rng.random(n) < 0.35) if source == "gridapp" else np.zeros(n, dtype=bool)
    dispatched = accepted + _minutes(rng, 25.0, 0.9, n)
    allowed = (due - dispatched).astype(np.float64)
    ratio = rng.lognormal(np.log(0.35), 0.75, n)
    handled = dispatched + (np.maximum(allowed, 600.0) * ratio).astype("timedelta64[s]")
    handled = np.where(on_the_spot, accepted + _minutes(rng, 20.0, 0.5, n), handled)
    verified = handled + _minutes(rng, 90.0, 0.9, n)
    closed = verified + _minutes(rng, 60.0, 0.9, n)
    snapshot = np.datetime64(SNAPSHOT_TIME, "s")
    nat = np.datetime64("NaT", "s")
    stages = [accepted, dispatched, handled, verified, closed]
    names = ["已受理", "已派遣", "已处置", "已核查", "已结案"]
    status = np.full(n, "待受理", dtype=object)
    cut: list[Timestamps] = []
    for stage, name in zip(stages, names, strict=True):
        reached = stage <= snapshot
        status[reached] = name
        cut.append(np.where(reached, stage, nat))
    accepted_c, dispatched_c, handled_c, verified_c, closed_c = cut
    status[rejected & (accepted <= snapshot)] = "不予受理"
    for stage in (dispatched_c, handled_c, verified_c):
        stage[rejected] = nat
    closed_c = np.where(rejected & (accepted <= snapshot), accepted_c, closed_c)
    dispatched_c = np.where(on_the_spot, nat, dispatched_c)
    overdue: npt.NDArray[np.bool_] = ~rejected & (
        np.where(np.isnat(handled_c), snapshot, handled_c) > due
    )
    return Lifecycle(
        accepted_c, dispatched_c, handled_c, verified_c, closed_c, due, status, overdue, rejected
    )
