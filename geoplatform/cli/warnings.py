"""`geoplatform warnings`: list the latest early warnings; `warnings scan` (the nightly run)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.table import Table

from geoplatform.cli.common import out, settings_from_env

warnings_app = typer.Typer(help="Early warnings: cells and grids above their own baseline.")


def _day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from exc


@warnings_app.callback(invoke_without_command=True)
def list_warnings(
    ctx: typer.Context,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Scan day (YYYY-MM-DD); default the latest.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the warnings of the latest scan (or of --as-of)."""
    if ctx.invoked_subcommand is not None:
        return
    from geoplatform.analytics.nightly import recent_warnings
    from geoplatform.db.engine import create_engine
    from geoplatform.db.roles import ETL, url_for_role

    settings = settings_from_env()
    engine = create_engine(settings, url=url_for_role(settings, ETL))
    try:
        frame = recent_warnings(engine, _day(as_of))
    finally:
        engine.dispose()
    if as_json:
        for record in frame.to_dict(orient="records"):
            print(json.dumps(record, default=str, ensure_ascii=False))
        return
    if frame.empty:
        out.print("no warnings")
        return
    table = Table("as of", "level", "unit", "window", "observed", "expected", "ratio", "q")
    rows: list[dict[Any, Any]] = frame.to_dict(orient="records")
    for row in rows:
        table.add_row(
            str(row["as_of"]),
            str(row["level"]),
            str(row["unit"]),
            f"{row['window_start']}..{row['window_end']}",
            str(row["observed"]),
            f"{row['expected']:.1f}",
            "" if row["ratio"] is None else f"{row['ratio']:.1f}",
            "" if row["q_value"] is None else f"{row['q_value']:.2g}",
        )
    out.print(table)


@warnings_app.command("scan")
def scan(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Last day of the window (default: yesterday, city time)."),
    ] = None,
    last_data_day: Annotated[
        bool,
        typer.Option(
            "--last-data-day", help="Scan the day of the newest incident (demo or replayed data)."
        ),
    ] = False,
) -> None:
    """Test every H3 cell and grid's last 7 days against its baseline; store the warnings.
    The cron runs it after `etl run`; rerunning a day replaces that day's warnings."""
    from geoplatform.analytics import nightly
    from geoplatform.db.engine import create_engine
    from geoplatform.db.roles import ETL, url_for_role

    if as_of is not None and last_data_day:
        raise typer.BadParameter("give --as-of or --last-data-day, not both")
    settings = settings_from_env()
    engine = create_engine(settings, url=url_for_role(settings, ETL))
    try:
        day = _day(as_of)
        if last_data_day:
            day = nightly.last_data_day(engine)
            if day is None:
                out.print("no incidents: nothing to scan")
                return
        summary = nightly.run_scan(engine, day)
    finally:
        engine.dispose()
    for level in summary.tested:
        out.print(
            f"{summary.as_of} {level}: {summary.warned[level]} warning(s) "
            f"among {summary.tested[level]} units tested"
        )
