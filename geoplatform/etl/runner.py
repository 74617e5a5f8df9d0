"""Run control: one run at a time, one transaction per source, a log of everything.

- A session-level PostgreSQL advisory lock, held for the whole run on its own connection: a
  second run started meanwhile raises `EtlLocked` at once (exit code 75). A killed run's lock
  dies with its connection.
- Each source loads in one transaction (staging, rejects, upsert, retirements, review queue,
  watermark, layer versions and its line in the run log): killed at any moment, a source is
  either fully loaded or untouched, and a rerun picks up from the watermarks.
- Watermarks: per (pipeline, source) the fingerprints of the files loaded and, for append
  sources with a `watermark` field, the latest time loaded. An unchanged delivery is skipped;
  an append source reads only new or changed files and rows after the watermark. `--full`
  ignores watermarks (unchanged rows are still not rewritten: the content hash decides that).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from geoplatform.db.errors import translate_database_error
from geoplatform.errors import EtlLocked, GeoPlatformError
from geoplatform.etl.admin_names import AdminNames, resolve_admin_names
from geoplatform.etl.assign import Placement, assign_batch
from geoplatform.etl.extract import ExtractFailed, extract, fingerprints, source_files
from geoplatform.etl.geocode import MatcherCache, geocode_batch
from geoplatform.etl.load import SourceLoader
from geoplatform.etl.normalise import Context, normalise
from geoplatform.etl.pipeline import GAZETTEER_ENTITIES, Pipeline, SourceSpec, source_spec_dump
from geoplatform.etl.publish import Change, commit_published, publish
from geoplatform.settings import Settings

LOCK_KEY = 0x67656F706C6174  # "geoplat": one ETL run at a time per database
EXIT_OK = 0
EXIT_SOURCE_FAILED = 65

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    full: bool = False
    dry_run: bool = False
    only: tuple[str, ...] = ()


@dataclass(frozen=True)
class Event:
    """Progress for whoever shows it (Rich bars, JSON lines, or nobody)."""

    kind: str  # run_start, source_start, batch, source_done, run_done
    source: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[Event], None]


@dataclass
class SourceResult:
    name: str
    entity: str
    status: str = "loaded"  # loaded, skipped, failed, blocked, dry_run
    counts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def balanced(self) -> bool:
        """read + derived = loaded + unchanged + rejected (retirements are extra; derived rows
        are admin areas made from their children, not read from the delivery)."""
        c = self.counts
        arrived = int(c.get("read", 0)) + int(c.get("derived", 0))
        return arrived == sum(int(c.get(k, 0)) for k in _BALANCE)


_BALANCE = ("loaded", "unchanged", "rejected")


@dataclass
class RunResult:
    run_id: int
    pipeline: str
    status: str
    sources: list[SourceResult]
    seconds: float
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.status == "succeeded" else EXIT_SOURCE_FAILED

    def source(self, name: str) -> SourceResult:
        return next(s for s in self.sources if s.name == name)


def hmac_key(settings: Settings) -> bytes | None:
    """The HMAC key from its file (preferred) or the setting; None when neither is set."""
    if settings.hmac_key_file is not None:
        key = Path(settings.hmac_key_file).expanduser().read_bytes().strip()
        if key:
            return key
    if settings.hmac_key is not None:
        return settings.hmac_key.get_secret_value().encode()
    return None


@contextmanager
def advisory_lock(engine: Engine) -> Iterator[Connection]:
    """Hold the ETL lock for the block, or raise `EtlLocked` naming who holds it."""
    conn = engine.connect()
    try:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        conn.commit()
        if not got:
            raise EtlLocked(_holder(conn))
        try:
            yield conn
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            conn.commit()
    finally:
        conn.close()


def _holder(conn: Connection) -> str:
    row = conn.execute(
        text(
            "SELECT id, pipeline, to_char(started_at, 'YYYY-MM-DD HH24:MI:SS TZ') FROM etl.runs"
            " WHERE status = 'running' ORDER BY id DESC LIMIT 1"
        )
    ).first()
    if row is None:  # the holder has not written its run row yet
        return "another ETL run holds the lock; exiting"
    return (
        f"another ETL run holds the lock (run {row[0]} of pipeline {row[1]}, "
        f"started {row[2]}); exiting"
    )


def run_pipeline(
    engine: Engine,
    pipeline: Pipeline,
    settings: Settings,
    options: RunOptions = RunOptions(),
    on_event: EventSink | None = None,
) -> RunResult:
    """Run a pipeline under the lock; returns what happened (also stored in etl.runs)."""
    emit: EventSink = on_event or (lambda _e: None)
    sources = pipeline.ordered_sources(list(options.only) or None)
    started = time.perf_counter()
    with advisory_lock(engine):
        run_id = _start_run(engine, pipeline, options)
        emit(Event("run_start", data={"run_id": run_id, "pipeline": pipeline.name}))
        ctx = Context(
            extent=pipeline.spec.city.extent,
            timezone=pipeline.spec.timezone,
            hmac_key=hmac_key(settings),
            max_vertices=settings.etl_max_vertices,
            max_area_km2=settings.etl_max_area_km2,
        )
        state = _RunState(
            run_id=run_id,
            pipeline=pipeline,
            ctx=ctx,
            options=options,
            batch_rows=settings.etl_batch_rows,
            matchers=MatcherCache(
                pipeline.spec.geocode.min_score, pipeline.spec.geocode.candidates
            ),
            emit=emit,
        )
        results = []
        broken: dict[str, str] = {}  # sources that failed or were blocked → why
        for source in sources:
            emit(Event("source_start", source.name, {"entity": source.entity}))
            waits = [d for d in pipeline.dependencies(source) if d in broken]
            if waits:
                result = _blocked(engine, state, source, waits, broken)
            else:
                result = _run_source(engine, state, source)
            if result.status in ("failed", "blocked"):
                broken[source.name] = result.error or result.status
            results.append(result)
            emit(Event("source_done", source.name, {"result": result}))
        failed = bool(broken)
        status = "failed" if failed else "succeeded"
        seconds = time.perf_counter() - started
        outcome = RunResult(run_id, pipeline.name, status, results, seconds, options.dry_run)
        _finish_run(engine, outcome)
    emit(Event("run_done", data={"result": outcome}))
    return outcome


@dataclass
class _RunState:
    run_id: int
    pipeline: Pipeline
    ctx: Context
    options: RunOptions
    batch_rows: int
    matchers: MatcherCache
    emit: EventSink
    placement: Placement | None = None


def _start_run(engine: Engine, pipeline: Pipeline, options: RunOptions) -> int:
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE etl.runs SET status = 'aborted', finished_at = now(),"
                " error = 'ended without finishing (killed or crashed)' WHERE status = 'running'"
            )
        )
        opts = {
            "full": options.full,
            "dry_run": options.dry_run,
            "only": list(options.only),
            "file": str(pipeline.path),
        }
        run_id = conn.execute(
            text(
                "INSERT INTO etl.runs (pipeline, status, options) VALUES (:p, 'running',"
                " CAST(:o AS jsonb)) RETURNING id"
            ),
            {"p": pipeline.name, "o": json.dumps(opts)},
        ).scalar_one()
    return int(run_id)


def _finish_run(engine: Engine, outcome: RunResult) -> None:
    totals: dict[str, int] = {}
    for r in outcome.sources:
        for k in ("read", "loaded", "unchanged", "rejected", "retired"):
            totals[k] = totals.get(k, 0) + int(r.counts.get(k, 0))
    errors = "; ".join(f"{r.name}: {r.error}" for r in outcome.sources if r.error)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE etl.runs SET status = :s, finished_at = now(), error = :e,"
                " timings = timings || CAST(:t AS jsonb) WHERE id = :id"
            ),
            {
                "s": outcome.status,
                "e": errors or None,
                "t": json.dumps({"_total": round(outcome.seconds, 3)}),
                "id": outcome.run_id,
            },
        )
        conn.execute(
            text(
                "INSERT INTO meta.audit_log (actor, action, target, details)"
                " VALUES ('etl', 'etl.run', :p, CAST(:d AS jsonb))"
            ),
            {
                "p": outcome.pipeline,
                "d": json.dumps(
                    {"run_id": outcome.run_id, "status": outcome.status, **totals},
                ),
            },
        )


def _read_watermark(conn: Connection, pipeline: str, source: str) -> dict[str, Any]:
    value = conn.execute(
        text("SELECT value FROM etl.watermarks WHERE pipeline = :p AND source = :s"),
        {"p": pipeline, "s": source},
    ).scalar()
    if value is None:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _write_watermark(
    conn: Connection, pipeline: str, source: str, value: dict[str, Any], run_id: int
) -> None:
    conn.execute(
        text(
            "INSERT INTO etl.watermarks (pipeline, source, value, run_id, updated_at)"
            " VALUES (:p, :s, :v, :r, now()) ON CONFLICT (pipeline, source) DO UPDATE"
            " SET value = EXCLUDED.value, run_id = EXCLUDED.run_id, updated_at = now()"
        ),
        {"p": pipeline, "s": source, "v": json.dumps(value, sort_keys=True), "r": run_id},
    )


def _record(conn: Connection, run_id: int, result: SourceResult) -> None:
    conn.execute(
        text(
            "UPDATE etl.runs SET counts = counts || CAST(:c AS jsonb),"
            " timings = timings || CAST(:t AS jsonb) WHERE id = :id"
        ),
        {
            "c": json.dumps({result.name: {**result.counts, "status": result.status}}),
            "t": json.dumps({result.name: {k: round(v, 3) for k, v in result.timings.items()}}),
            "id": run_id,
        },
    )


def _blocked(
    engine: Engine, state: _RunState, source: SourceSpec, waits: list[str], why: dict[str, str]
) -> SourceResult:
    """A source not run because a source it needs failed: it says which and why."""
    first = waits[0]
    cause = why[first]
    cause = cause if not cause.startswith("waits for ") else cause.split(": ", 1)[0]
    error = f"waits for {first}, which failed: {cause}"
    if len(waits) > 1:
        error += f" (and for {', '.join(waits[1:])})"
    result = SourceResult(source.name, source.entity, status="blocked", error=error)
    with engine.begin() as conn:
        _record(conn, state.run_id, result)
    return result


def _check_rejects(source: SourceSpec, counts: dict[str, Any], *, dry_run: bool) -> None:
    """Fail the source (its transaction rolls back) when every row read was rejected, or more
    than its declared `max_rejected_share`: a delivery that lost its rows is not a success.
    A dry run only says so (`would_fail`): it loads nothing, so later sources there see no
    reference rows and reject what a real run would load."""
    read, rejected = int(counts.get("read", 0)), int(counts.get("rejected", 0))
    if read == 0 or rejected == 0:
        return
    share = rejected / read
    if rejected < read and share <= source.max_rejected_share:
        return
    reasons = sorted(counts.get("rejected_by_reason", {}).items(), key=lambda kv: -kv[1])
    causes = ", ".join(f"{code} {n}" for code, n in reasons[:3])
    if rejected == read:
        message = f"all {read} rows read were rejected ({causes})"
    else:
        message = (
            f"{rejected} of {read} rows rejected ({share:.0%}), more than the "
            f"{source.max_rejected_share:.0%} allowed by max_rejected_share ({causes})"
        )
    if dry_run:
        counts["would_fail"] = message
        return
    raise SourceRejected(f"source {source.name}: {message}; nothing of it was loaded")


class SourceRejected(GeoPlatformError):
    """Too many of a source's rows were rejected: the source fails and loads nothing."""


def _run_source(engine: Engine, state: _RunState, source: SourceSpec) -> SourceResult:
    result = SourceResult(source.name, source.entity)
    try:
        with engine.connect() as conn:
            tx = conn.begin()
            try:
                _load_source(conn, state, source, result)
            except BaseException:
                tx.rollback()
                raise
            if state.options.dry_run or result.status == "skipped":
                tx.rollback()
            elif result.counts.get("layer_versions"):
                commit_published(engine, tx.commit)
            else:
                tx.commit()
    except (DBAPIError, psycopg.Error) as exc:
        error = translate_database_error(exc, url=str(engine.url))
        result.status, result.error = "failed", error.message
    except GeoPlatformError as exc:
        result.status, result.error = "failed", exc.message
    except (
        Exception
    ) as exc:  # a bug: fail this source like any other, keep the traceback in the log
        logger.exception("source %s failed unexpectedly", source.name)
        result.status, result.error = "failed", f"internal error: {type(exc).__name__}: {exc}"
    if result.status != "loaded":  # the source's transaction did not record it
        with engine.begin() as conn:
            _record(conn, state.run_id, result)
    elif source.entity in ("admin_areas", "grids"):
        state.placement = None  # reload: grids or the city outline changed
    elif source.entity in GAZETTEER_ENTITIES:
        state.matchers.invalidate()
    return result


def _load_source(
    conn: Connection, state: _RunState, source: SourceSpec, result: SourceResult
) -> None:
    """Everything for one source inside its transaction (see the module docstring)."""
    pipeline, options = state.pipeline, state.options
    timings = result.timings
    counts: dict[str, Any] = {"read": 0, "rejected": 0}
    result.counts = counts
    mark = _read_watermark(conn, pipeline.name, source.name)
    files_now = fingerprints(pipeline, source) if source.format != "sql" else {}
    seen_files: dict[str, str] = dict(mark.get("files", {})) if not options.full else {}
    files = source_files(pipeline, source) if source.format != "sql" else None
    if files is not None and not files:
        raise ExtractFailed(f"source {source.name}: no file matches {source.path}")
    if files is not None and not options.full:
        if source.mode == "append":
            files = [p for p in files if seen_files.get(str(p)) != files_now[str(p)]]
        elif files_now and seen_files == files_now:
            files = []
        if not files:
            result.status = "skipped"
            counts["skipped"] = "delivery unchanged since the last load"
            return
    since = None
    if source.watermark and not options.full and mark.get("max_time"):
        since = pd.Timestamp(mark["max_time"])
    if source.target.located and state.placement is None:
        state.placement = Placement.from_connection(conn, pipeline.spec.city)
    ctx = state.ctx
    if state.placement is not None:
        ctx = replace(ctx, extent=state.placement.extent)

    loader = SourceLoader(conn, source, state.run_id, pipeline.spec.city.derivable())
    loader.begin()
    admin_names = (
        AdminNames.from_connection(conn)
        if any(f.name in source.columns for f in source.target.admin_names)
        else None
    )
    by_reason: dict[str, int] = {}
    geocoded: dict[str, int] = {}
    max_time = since
    clock = time.perf_counter()
    for raw in extract(pipeline, source, batch_rows=state.batch_rows, files=files):
        now = time.perf_counter()
        _add(timings, "extract", now - clock)
        batch = normalise(raw, source, ctx, since=since)
        counts["read"] += len(raw) - batch.counts.get("behind_watermark", 0)
        for k, v in batch.counts.items():
            counts[k] = counts.get(k, 0) + v
        if admin_names is not None:
            batch = resolve_admin_names(batch, source.target, admin_names)
        clock = _tick(timings, "normalise", now)
        batch, review, levels = geocode_batch(batch, source, conn, state.matchers)
        for k, v in levels.items():
            geocoded[k] = geocoded.get(k, 0) + v
        loader.review(review)
        counts["review"] = counts.get("review", 0) + len(review)
        clock = _tick(timings, "geocode", clock)
        if state.placement is not None:
            batch = assign_batch(batch, source, state.placement)
        clock = _tick(timings, "assign", clock)
        if source.watermark and len(batch.frame):
            latest = batch.frame[source.watermark].max()
            max_time = latest if max_time is None or latest > max_time else max_time
        loader.stage(batch.frame)
        loader.reject(batch.rejects)
        if source.mode == "snapshot":
            loader.see([*batch.frame["source_key"].tolist(), *batch.rejects.keys])
        for code, n in batch.rejects.by_code().items():
            by_reason[code] = by_reason.get(code, 0) + n
        clock = _tick(timings, "stage", clock)
        state.emit(Event("batch", source.name, {"rows": len(raw), "read": counts["read"]}))
        clock = time.perf_counter()

    if counts.get("truncated_rows"):
        warning = (
            f"{counts['truncated_rows']} row(s) cut short where a file ends (rejected "
            "truncated_row): the delivery looks truncated"
        )
        counts["warnings"] = [warning]
        logger.warning("source %s: %s", source.name, warning)
    loaded = loader.finish(retire=source.mode == "snapshot")
    clock = _tick(timings, "load", clock)
    if loaded.duplicates:
        by_reason["duplicate_key"] = by_reason.get("duplicate_key", 0) + loaded.duplicates
    if loaded.unknown_reference:
        by_reason["unknown_reference"] = (
            by_reason.get("unknown_reference", 0) + loaded.unknown_reference
        )
    if loaded.derived:
        counts["derived"] = loaded.derived
    counts.update(
        loaded=loaded.loaded,
        inserted=loaded.inserted,
        updated=loaded.updated,
        unchanged=loaded.unchanged,
        retired=loaded.retired,
        rejected=sum(by_reason.values()),
        rejected_by_reason=by_reason,
        geocoded=geocoded,
    )
    if loaded.retire_skipped:
        counts["retire_skipped"] = "empty delivery: nothing retired"
    _check_rejects(source, counts, dry_run=options.dry_run)
    change = Change(state.run_id, source.name, source.target.layer, loaded.loaded, loaded.retired)
    versions = publish(conn, change)
    if versions:
        counts["layer_versions"] = versions
    _tick(timings, "publish", clock)
    value: dict[str, Any] = {"files": {**seen_files, **files_now}}
    if max_time is not None:
        value["max_time"] = pd.Timestamp(max_time).isoformat()
    _write_watermark(conn, pipeline.name, source.name, value, state.run_id)
    result.status = "dry_run" if options.dry_run else "loaded"
    if not options.dry_run:
        _record(conn, state.run_id, result)


def _add(timings: dict[str, float], step: str, seconds: float) -> None:
    timings[step] = timings.get(step, 0.0) + seconds


def _tick(timings: dict[str, float], step: str, since: float) -> float:
    now = time.perf_counter()
    _add(timings, step, now - since)
    return now


def source_options(pipeline: Pipeline) -> list[dict[str, Any]]:
    """The pipeline's sources as plain data (for `etl run --dry-run` output and the docs)."""
    return [source_spec_dump(s) for s in pipeline.spec.sources]
