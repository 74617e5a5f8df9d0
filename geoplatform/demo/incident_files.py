"""How each incident source writes its rows: file names, headers, timestamp formats."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

FILES = {
    "hotline": "incidents/12345热线工单.csv",
    "gridapp": "incidents/网格事件.csv",
    "video": "incidents/视频智能告警.csv",
}
HEADERS = {
    "hotline": (
        "工单编号",
        "来电时间",
        "渠道",
        "诉求类型",
        "事件大类",
        "事件小类",
        "诉求内容",
        "事发地址",
        "经度",
        "纬度",
        "受理时间",
        "派单时间",
        "办结时间",
        "办理时限",
        "是否超期",
        "办理状态",
        "满意度",
    ),
    "gridapp": (
        "事件编号",
        "上报时间",
        "上报人",
        "网格员编号",
        "事件大类",
        "事件小类",
        "事件描述",
        "事发地址",
        "经度",
        "纬度",
        "处置方式",
        "派遣时间",
        "处置时间",
        "核查时间",
        "结案时间",
        "处置时限",
        "是否超期",
        "状态",
    ),
    "video": (
        "告警编号",
        "设备编号",
        "告警时间",
        "告警大类",
        "告警类型",
        "置信度",
        "经度",
        "纬度",
        "复核结果",
        "处置状态",
        "结案时间",
    ),
}
HOTLINE_CHANNELS = (("12345热线", 0.8), ("微信小程序", 0.12), ("政府网站", 0.08))


def ymd_hm(times: npt.NDArray[np.datetime64]) -> npt.NDArray[np.object_]:
    """ "2025/3/5 14:03" (no zero padding on month and day), "" for NaT."""
    series = pd.Series(times)
    text = (
        series.dt.year.astype("Int64").astype(str)
        + "/"
        + series.dt.month.astype("Int64").astype(str)
        + "/"
        + series.dt.day.astype("Int64").astype(str)
        + " "
        + series.dt.strftime("%H:%M")
    )
    return np.where(series.isna(), "", text).astype(object)


def iso(times: npt.NDArray[np.datetime64]) -> npt.NDArray[np.object_]:
    series = pd.Series(times)
    return np.where(series.isna(), "", series.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")).astype(object)


def plain(times: npt.NDArray[np.datetime64]) -> npt.NDArray[np.object_]:
    series = pd.Series(times)
    return np.where(series.isna(), "", series.dt.strftime("%Y-%m-%d %H:%M:%S")).astype(object)


def source_frame(
    source: str,
    keys: npt.NDArray[np.object_],
    time_text: npt.NDArray[np.object_],
    major: npt.NDArray[np.object_],
    minor: npt.NDArray[np.object_],
    demand: npt.NDArray[np.object_],
    address: list[str],
    x_text: npt.NDArray[np.object_],
    y_text: npt.NDArray[np.object_],
    life: Any,
    building: npt.NDArray[np.int64],
    rng: np.random.Generator,
    device_ids: npt.NDArray[np.object_],
) -> pd.DataFrame:
    """One source's rows as the department writes them."""
    n = keys.shape[0]
    overdue = np.where(life.overdue, "是", "否")
    if source == "hotline":
        channels = np.array([c for c, _ in HOTLINE_CHANNELS], dtype=object)
        channel = channels[rng.choice(channels.size, n, p=[p for _, p in HOTLINE_CHANNELS])]
        content = np.char.add(
            np.char.add("市民反映", minor.astype(str)), "问题，请尽快处理"
        ).astype(object)
        rating = np.array(["满意", "基本满意", "不满意"], dtype=object)[
            rng.choice(3, n, p=[0.85, 0.1, 0.05])
        ]
        rating = np.where(life.status == "已结案", rating, "")
        return pd.DataFrame(
            {
                "工单编号": keys,
                "来电时间": time_text,
                "渠道": channel,
                "诉求类型": demand,
                "事件大类": major,
                "事件小类": minor,
                "诉求内容": content,
                "事发地址": address,
                "经度": x_text,
                "纬度": y_text,
                "受理时间": ymd_hm(life.accepted),
                "派单时间": ymd_hm(life.dispatched),
                "办结时间": ymd_hm(life.closed),
                "办理时限": ymd_hm(life.due),
                "是否超期": overdue,
                "办理状态": life.status,
                "满意度": rating,
            }
        )
    if source == "gridapp":
        worker = rng.integers(1, 700, n)
        return pd.DataFrame(
            {
                "事件编号": keys,
                "上报时间": time_text,
                "上报人": np.char.add("网格员", worker.astype(str)).astype(object),
                "网格员编号": np.char.add("WGY", np.char.zfill(worker.astype(str), 5)).astype(
                    object
                ),
                "事件大类": major,
                "事件小类": minor,
                "事件描述": np.char.add("巡查发现", minor.astype(str)).astype(object),
                "事发地址": address,
                "经度": x_text,
                "纬度": y_text,
                "处置方式": np.where(
                    np.isnat(life.dispatched) & ~life.rejected, "自行处置", "上报派遣"
                ),
                "派遣时间": iso(life.dispatched),
                "处置时间": iso(life.handled),
                "核查时间": iso(life.verified),
                "结案时间": iso(life.closed),
                "处置时限": iso(life.due),
                "是否超期": overdue,
                "状态": life.status,
            }
        )
    camera = np.where(building < 0, -1 - building, 0)
    return pd.DataFrame(
        {
            "告警编号": keys,
            "设备编号": device_ids[camera],
            "告警时间": time_text,
            "告警大类": major,
            "告警类型": minor,
            "置信度": np.round(rng.uniform(0.55, 0.99, n), 2),
            "经度": x_text,
            "纬度": y_text,
            "复核结果": np.where(life.rejected, "误报", "有效"),
            "处置状态": life.status,
            "结案时间": plain(life.closed),
        }
    )
