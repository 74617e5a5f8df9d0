"""`geoplatform etl ...`: run pipelines, and read the run log, rejects and the review queue.

On a terminal `run` shows Rich progress and a summary table; otherwise (cron, pipes) it prints
one JSON object per line, so a log collector can parse it. Exit codes: 0 every source loaded or
was unchanged; 65 some source failed (its transaction rolled back, the others loaded); 75 another
run holds the lock (retry later); 78 the pipeline file is invalid; 69 the database is down.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from geoplatform.cli.common import out, settings_from_env

_WIDE = 160  # tables are logs too: never fold them to 80 columns when piped


def _wide() -> Console:
    """The terminal's console, or a wide one when output goes to a file or pipe."""
    return out if out.is_terminal else Console(width=_WIDE, soft_wrap=True)


etl_app = typer.Typer(
    help="The ETL: load department deliveries into the one map.", no_args_is_help=True
)


def _engine() -> Any:
    from geoplatform.db.engine import create_engine
    from geoplatform.db.roles import ETL, url_for_role

    settings = settings_from_env()
    return create_engine(settings, url=url_for_role(settings, ETL))  # the loaders' role


class _JsonLines:
    """Events as JSON lines (stdout not a terminal)."""

    def __call__(self, event: Any) -> None:
        data = dict(event.data)
        result = data.pop("result", None)
        record: dict[str, Any] = {"event": event.kind}
        if event.source:
            record["source"] = event.source
        record.update(data)
        if result is not None and event.kind == "source_done":
            record.update(status=result.status, counts=result.counts, timings=result.timings)
            if result.error:
                record["error"] = result.error
        elif result is not None:
            record.update(run_id=result.run_id, status=result.status, seconds=result.seconds)
        print(json.dumps(record, ensure_ascii=False, default=str), flush=True)


class _RichProgress:
    """One spinner line per source with its row count."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def __call__(self, event: Any) -> None:
        if event.kind == "source_start":
            self.tasks[event.source] = self.progress.add_task(
                f"{event.source} ({event.data['entity']})", total=None, rows=0
            )
        elif event.kind == "batch":
            self.progress.update(self.tasks[event.source], rows=event.data["read"])
        elif event.kind == "source_done":
            result = event.data["result"]
            task = self.tasks[event.source]
            self.progress.update(task, total=1, completed=1, rows=result.counts.get("read", 0))
            label = {"loaded": "[green]✓", "skipped": "[dim]=", "dry_run": "[cyan]~"}.get(
                result.status, "[red]✗"
            )
            self.progress.update(task, description=f"{label}[/] {event.source}")


def summary_table(result: Any) -> Table:
    """Per source: status and what happened to its rows."""
    title = f"run {result.run_id} · {result.pipeline} · {result.status} · {result.seconds:.1f}s"
    if result.dry_run:
        title += " · dry run (nothing written)"
    table = Table(title=title)
    for column in ("source", "status", "read", "loaded", "unchanged", "rejected", "retired"):
        table.add_column(column, justify="left" if column in ("source", "status") else "right")
    table.add_column("geocoded")
    table.add_column("seconds", justify="right")
    for r in result.sources:
        c = r.counts
        geocoded = ", ".join(f"{k} {v}" for k, v in c.get("geocoded", {}).items())
        status = r.status if not r.error else f"[red]{r.status}: {r.error}[/red]"
        table.add_row(
            r.name,
            status,
            *(str(c.get(k, 0)) for k in ("read", "loaded", "unchanged", "rejected", "retired")),
            geocoded,
            f"{sum(r.timings.values()):.1f}",
        )
    return table


@etl_app.command("run")
def etl_run(
    pipeline: Annotated[
        Path, typer.Argument(help="Pipeline YAML (e.g. etl/pipelines/nightly.yaml).")
    ],
    full: Annotated[
        bool, typer.Option("--full", help="Ignore watermarks: read everything.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Do everything, then roll back each source.")
    ] = False,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only this source (repeatable).")
    ] = None,
) -> None:
    """Run a pipeline: extract, normalise, geocode, assign, load and publish every source."""
    from geoplatform.etl.pipeline import load_pipeline
    from geoplatform.etl.runner import RunOptions, run_pipeline

    spec = load_pipeline(pipeline)
    settings = settings_from_env()
    options = RunOptions(full=full, dry_run=dry_run, only=tuple(only or ()))
    for name in options.only:
        spec.source(name)  # an unknown name fails before anything runs
    engine = _engine()
    try:
        if sys.stdout.isatty():
            columns = (
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.fields[rows]:>10,} rows"),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=out) as progress:
                result = run_pipeline(engine, spec, settings, options, _RichProgress(progress))
            out.print(summary_table(result))
        else:
            result = run_pipeline(engine, spec, settings, options, _JsonLines())
    finally:
        engine.dispose()
    raise typer.Exit(result.exit_code)


@etl_app.command("schema")
def etl_schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of pipeline files (for editors: yaml-language-server, VS Code)."""
    from geoplatform.etl.schema import pipeline_json_schema

    text = json.dumps(pipeline_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {output}")


@etl_app.command("status")
def etl_status(
    limit: Annotated[int, typer.Option(help="How many runs to show.")] = 10,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
) -> None:
    """The latest runs: status, duration and row counts."""
    from geoplatform.etl.report import recent_runs

    engine = _engine()
    try:
        runs = recent_runs(engine, limit, pipeline)
    finally:
        engine.dispose()
    table = Table(title="ETL runs")
    for column in (
        "run",
        "pipeline",
        "status",
        "started",
        "seconds",
        "read",
        "loaded",
        "unchanged",
        "rejected",
        "retired",
    ):
        table.add_column(column)
    for run in runs:
        seconds = f"{run.seconds:.1f}" if run.seconds is not None else "-"
        table.add_row(
            str(run.id),
            run.pipeline,
            run.status,
            f"{run.started_at:%Y-%m-%d %H:%M:%S}",
            seconds,
            *(str(run.total(k)) for k in ("read", "loaded", "unchanged", "rejected", "retired")),
        )
    _wide().print(table if runs else "no ETL run yet")


@etl_app.command("rejects")
def etl_rejects(
    run: Annotated[int, typer.Argument(help="Run id (see `etl status`).")],
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only this reason code.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to list.")] = 20,
) -> None:
    """A run's rejected rows: counts by reason, then the rows with what was wrong."""
    from geoplatform.etl.report import run_rejects

    engine = _engine()
    try:
        summary, rows = run_rejects(engine, run, source=source, reason=reason, limit=limit)
    finally:
        engine.dispose()
    if not summary:
        out.print(f"run {run} rejected nothing")
        return
    for src, reasons in summary.items():
        out.print(f"[bold]{src}[/bold]: " + ", ".join(f"{k} {v}" for k, v in reasons.items()))
    table = Table()
    for column in ("source", "row", "key", "reason", "what"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.source, str(r.row_number), r.source_key or "", r.reason_code, r.reason)
    _wide().print(table)


review_app = typer.Typer(help="The geocoding review queue.", invoke_without_command=True)
etl_app.add_typer(review_app, name="review")


@review_app.callback()
def etl_review(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    status: Annotated[str, typer.Option(help="open, resolved or dismissed.")] = "open",
    limit: Annotated[int, typer.Option(help="Entries to list.")] = 20,
    dismiss: Annotated[
        int | None, typer.Option(help="Mark this entry dismissed (no match exists).")
    ] = None,
) -> None:
    """The geocoding review queue: addresses below the acceptance threshold, with candidates.
    `etl review resolve ID CANDIDATE` answers an entry."""
    if ctx.invoked_subcommand is not None:
        return
    from geoplatform.etl.report import review_queue, set_review_status

    engine = _engine()
    try:
        if dismiss is not None:
            set_review_status(engine, dismiss, "dismissed")
            out.print(f"review entry {dismiss} dismissed")
            return
        total, rows = review_queue(engine, source=source, status=status, limit=limit)
    finally:
        engine.dispose()
    out.print(f"{total} {status} review entr{'y' if total == 1 else 'ies'}")
    table = Table()
    for column in ("id", "source", "key", "address", "best", "score", "candidates"):
        table.add_column(column)
    for r in rows:
        candidates = "; ".join(f"{a} ({s:.2f})" for a, s in r.candidates[:3])
        score = f"{r.score:.2f}" if r.score is not None else "-"
        table.add_row(
            str(r.id), r.source, r.source_key, r.address, r.level or "-", score, candidates
        )
    if rows:
        _wide().print(table)


@review_app.command("resolve")
def etl_review_resolve(
    review_id: Annotated[int, typer.Argument(help="Review entry id (see `etl review`).")],
    candidate: Annotated[
        str,
        typer.Argument(help="Candidate number (1 = best), or a standard address key or text."),
    ],
) -> None:
    """Answer a review entry; the compound name its address used becomes an alias next runs use."""
    from geoplatform.etl.review import resolve_review

    settings = settings_from_env()
    engine = _engine()
    try:
        done = resolve_review(
            engine, review_id, candidate, settings.resolved_home, actor="etl review resolve"
        )
    finally:
        engine.dispose()
    out.print(f"review entry {review_id} resolved: {done.address} → {done.place}")
    if done.alias is not None:
        out.print(f"learned alias {done.alias} → {done.compound} (used from the next run on)")
    else:
        out.print("no compound alias to learn: the address names no other compound name")
