"""Publish step: tell the readers what changed, inside the load's own transaction.

The data version of every changed layer is bumped in the same transaction that changed the
rows, and that transaction commits inside the version fence (`commit_published`): once the
commit returns, no tile server answers from versions older than it (`geoplatform.db.fence`).

Aggregates (the H3 cubes behind heatmaps and statistics) are kept in step by the database:
triggers on the located tables mark the incident days and snapshot layers a statement changed,
and `refresh_h3_cubes()` recomputes just those, in this same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from geoplatform.db.engine import libpq_url
from geoplatform.db.fence import version_fence


@dataclass(frozen=True)
class Change:
    """What one source's load changed."""

    run_id: int
    source: str
    layer: str  # target table = layer name
    loaded: int
    retired: int

    @property
    def changed(self) -> bool:
        return self.loaded > 0 or self.retired > 0


def bump_layer_versions(conn: Connection, layers: list[str], run_id: int) -> dict[str, int]:
    """Increase the data version of each layer (creating it at 1); returns the new versions."""
    versions: dict[str, int] = {}
    for layer in sorted(set(layers)):
        version = conn.execute(
            text(
                "INSERT INTO meta.layer_versions AS v (layer, version, run_id, updated_at)"
                " VALUES (:layer, 1, :run, now()) ON CONFLICT (layer) DO UPDATE"
                " SET version = v.version + 1, run_id = EXCLUDED.run_id, updated_at = now()"
                " RETURNING version"
            ),
            {"layer": layer, "run": run_id},
        ).scalar_one()
        versions[layer] = int(version)
    return versions


def publish(conn: Connection, change: Change) -> dict[str, int]:
    """Refresh aggregates and bump versions for one source's change; nothing when unchanged."""
    if not change.changed:
        return {}
    conn.execute(text("SELECT refresh_h3_cubes()"))
    return bump_layer_versions(conn, [change.layer], change.run_id)


def commit_published(engine: Engine, commit: Callable[[], None]) -> None:
    """Commit a transaction that bumped layer versions, holding tile servers off their
    remembered versions until it has committed."""
    with version_fence(libpq_url(engine.url)):
        commit()
