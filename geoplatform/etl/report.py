"""What operators ask of the run log: recent runs, a run's rejects, the geocoding review queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from geoplatform.db.engine import transaction
from geoplatform.errors import NotFound


@dataclass(frozen=True)
class RunRow:
    id: int
    pipeline: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    options: dict[str, Any]
    counts: dict[str, Any]
    timings: dict[str, Any]
    error: str | None

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def total(self, key: str) -> int:
        return sum(int(c.get(key, 0)) for c in self.counts.values() if isinstance(c, dict))


def recent_runs(engine: Engine, limit: int = 10, pipeline: str | None = None) -> list[RunRow]:
    """The latest runs, newest first."""
    with transaction(engine) as conn:
        rows = conn.execute(
            text(
                "SELECT id, pipeline, status, started_at, finished_at, options, counts, timings,"
                " error FROM etl.runs WHERE CAST(:p AS text) IS NULL OR pipeline = :p"
                " ORDER BY id DESC LIMIT :n"
            ),
            {"p": pipeline, "n": limit},
        ).all()
    return [RunRow(*r) for r in rows]


def get_run(engine: Engine, run_id: int) -> RunRow:
    with transaction(engine) as conn:
        row = conn.execute(
            text(
                "SELECT id, pipeline, status, started_at, finished_at, options, counts, timings,"
                " error FROM etl.runs WHERE id = :id"
            ),
            {"id": run_id},
        ).first()
    if row is None:
        raise NotFound(f"no ETL run {run_id}")
    return RunRow(*row)


@dataclass(frozen=True)
class RejectRow:
    source: str
    row_number: int | None
    source_key: str | None
    reason_code: str
    reason: str
    row_data: dict[str, Any] | None


def run_rejects(
    engine: Engine,
    run_id: int,
    *,
    source: str | None = None,
    reason: str | None = None,
    limit: int = 100,
) -> tuple[dict[str, dict[str, int]], list[RejectRow]]:
    """Counts of a run's rejects by source and reason, and the first `limit` of them."""
    get_run(engine, run_id)
    params = {"run": run_id, "s": source, "r": reason, "n": limit}
    where = (
        " WHERE run_id = :run AND (CAST(:s AS text) IS NULL OR source = :s)"
        " AND (CAST(:r AS text) IS NULL OR reason_code = :r)"
    )
    with transaction(engine) as conn:
        summary: dict[str, dict[str, int]] = {}
        for src, code, n in conn.execute(
            text(
                f"SELECT source, reason_code, count(*) FROM etl.rejects{where}"
                " GROUP BY 1, 2 ORDER BY 1, 3 DESC"
            ),
            params,
        ):
            summary.setdefault(src, {})[code] = int(n)
        rows = conn.execute(
            text(
                "SELECT source, row_number, source_key, reason_code, reason, row_data"
                f" FROM etl.rejects{where} ORDER BY source, row_number LIMIT :n"
            ),
            params,
        ).all()
    return summary, [RejectRow(*r) for r in rows]


@dataclass(frozen=True)
class ReviewRow:
    id: int
    source: str
    source_key: str
    entity: str
    address: str
    level: str | None
    score: float | None
    candidates: list[list[Any]]
    status: str


def review_queue(
    engine: Engine, *, source: str | None = None, status: str = "open", limit: int = 50
) -> tuple[int, list[ReviewRow]]:
    """How many review entries have `status`, and the first `limit` (best score first)."""
    params = {"s": source, "st": status, "n": limit}
    where = " WHERE status = :st AND (CAST(:s AS text) IS NULL OR source = :s)"
    with transaction(engine) as conn:
        total = conn.execute(
            text(f"SELECT count(*) FROM restricted.geocode_review{where}"),
            params,
        ).scalar_one()
        rows = conn.execute(
            text(
                "SELECT id, source, source_key, entity, address, level, score, candidates, status"
                f" FROM restricted.geocode_review{where}"
                " ORDER BY score DESC NULLS LAST, id LIMIT :n"
            ),
            params,
        ).all()
    return int(total), [ReviewRow(*r) for r in rows]


def set_review_status(engine: Engine, review_id: int, status: str) -> None:
    """Mark a review entry resolved or dismissed (an operator's decision)."""
    with transaction(engine) as conn:
        done = conn.execute(
            text(
                "UPDATE restricted.geocode_review SET status = :st, updated_at = now()"
                " WHERE id = :id"
            ),
            {"st": status, "id": review_id},
        ).rowcount
    if not done:
        raise NotFound(f"no review entry {review_id}")


def watermarks(engine: Engine) -> list[tuple[str, str, int | None, datetime]]:
    """(pipeline, source, run, updated_at) of every watermark."""
    with transaction(engine) as conn:
        rows = conn.execute(
            text(
                "SELECT pipeline, source, run_id, updated_at FROM etl.watermarks"
                " ORDER BY pipeline, source"
            )
        ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]
