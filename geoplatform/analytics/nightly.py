"""The nightly early-warning scan: daily counts from PostGIS → `scan_warnings` → the warnings table.

Two kinds of unit: H3 cells (resolution 9, ~0.1 km², from the cube) and grids (from incidents'
grid codes), each tested against its own 12-week baseline with the weekly rhythm
(`geoplatform.analytics.warnings`). A scan of a day replaces that day's rows, so the cron can
rerun it. The window is the last 7 days up to `as_of` (inclusive): a week answers quickly to a
new problem, and the weekly rhythm cancels within it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from geoplatform.analytics.hexagons import cells_to_geodataframe
from geoplatform.analytics.warnings import WarningScan, scan_warnings
from geoplatform.db.engine import transaction
from geoplatform.schema import CITY_TIME_ZONE
from geoplatform.spatial.h3cells import strings_to_cells

__all__ = [
    "BASELINE_DAYS",
    "CELL_RESOLUTION",
    "WINDOW_DAYS",
    "ScanSummary",
    "last_data_day",
    "latest_complete_day",
    "recent_warnings",
    "run_scan",
]

CELL_RESOLUTION: Final = 9
WINDOW_DAYS: Final = 7
BASELINE_DAYS: Final = 84


def sql(name: str) -> str:
    """Fixed SQL shipped as geoplatform/analytics/sql/<name>.sql."""
    return (
        resources.files("geoplatform.analytics").joinpath("sql", f"{name}.sql").read_text("utf-8")
    )


@dataclass(frozen=True)
class ScanSummary:
    as_of: dt.date
    tested: dict[str, int]
    warned: dict[str, int]


def latest_complete_day(now: dt.datetime | None = None) -> dt.date:
    """Yesterday in the city's time zone: the last day whose incidents are all in."""
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(ZoneInfo(CITY_TIME_ZONE)).date() - dt.timedelta(days=1)


def last_data_day(engine: Engine) -> dt.date | None:
    """The city-local day of the newest incident (a replayed or demo city's "yesterday")."""
    with transaction(engine) as conn:
        day = conn.exec_driver_sql(
            "SELECT max((reported_at AT TIME ZONE %(zone)s)::date) FROM incidents",
            {"zone": CITY_TIME_ZONE},
        ).scalar()
    return day if isinstance(day, dt.date) else None


def _daily(conn: Connection, level: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    if level == "cell":
        params: dict[str, Any] = {"res": CELL_RESOLUTION, "d0": start, "d1": end}
        rows = conn.exec_driver_sql(sql("cell_daily"), params).all()
    else:
        params = {"zone": CITY_TIME_ZONE, "d0": start, "d1": end}
        rows = conn.exec_driver_sql(sql("grid_daily"), params).all()
    frame = pd.DataFrame(rows, columns=["unit", "day", "count"])
    if level == "cell":
        frame["unit"] = [f"{int(u):x}" for u in frame["unit"]]
    return frame


def scan_level(conn: Connection, level: str, as_of: dt.date) -> WarningScan:
    """Scan one level for the window ending on `as_of`."""
    start = as_of - dt.timedelta(days=WINDOW_DAYS + BASELINE_DAYS - 1)
    daily = _daily(conn, level, start, as_of)
    return scan_warnings(
        daily,
        as_of=as_of,
        window_days=WINDOW_DAYS,
        baseline_days=BASELINE_DAYS,
        level=level,
    )


def _write(conn: Connection, scan: WarningScan) -> int:
    conn.exec_driver_sql(sql("warnings_delete"), {"as_of": scan.as_of, "level": scan.level})
    records = scan.to_records(warnings_only=True)
    if not records:
        return 0
    wkb: list[bytes | None] = [None] * len(records)
    if scan.level == "cell":
        cells = strings_to_cells([str(r["unit"]) for r in records])
        frame = cells_to_geodataframe(cells)
        wkb = [bytes(g.wkb) for g in frame.geometry]
    rows = []
    for record, geometry in zip(records, wkb, strict=True):
        row = {k: v for k, v in record.items() if k != "warning"}
        row["unit"] = str(row["unit"])
        row["wkb"] = geometry
        rows.append(row)
    conn.exec_driver_sql(sql("warnings_insert"), rows)
    return len(rows)


def run_scan(engine: Engine, as_of: dt.date | None = None) -> ScanSummary:
    """Scan cells and grids for `as_of` (default: yesterday, city time) and store the warnings
    in one transaction."""
    day = as_of or latest_complete_day()
    tested: dict[str, int] = {}
    warned: dict[str, int] = {}
    with transaction(engine) as conn:
        for level in ("cell", "grid"):
            scan = scan_level(conn, level, day)
            tested[level] = len(scan.table)
            warned[level] = _write(conn, scan)
            conn.exec_driver_sql(
                sql("warning_scan_record"),
                {"as_of": day, "level": level, "tested": tested[level], "warned": warned[level]},
            )
        conn.exec_driver_sql(sql("warnings_version"))
    return ScanSummary(as_of=day, tested=tested, warned=warned)


def recent_warnings(engine: Engine, as_of: dt.date | None = None) -> pd.DataFrame:
    """The warnings of the latest scan (or of `as_of`)."""
    with transaction(engine) as conn:
        result = conn.exec_driver_sql(sql("warnings_recent"), {"as_of": as_of})
        return pd.DataFrame(result.all(), columns=list(result.keys()))
