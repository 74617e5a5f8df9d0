"""Publish step: tell the readers what changed, inside the load's own transaction.

The data version of every changed layer is bumped in the same transaction that changed the
rows, so a tile cache keyed on (layer, version) can never serve a tile older than committed data.

Aggregates (H3 cell × day × category counts for the heatmaps) are refreshed by *refreshers*
registered here: each gets the `Change` of a source and the open connection, and updates only
what changed. Rows rewritten by this run carry `run_id = change.run_id`, which is how a
refresher finds the cells and days to recompute; retired rows are counted in `change.retired`.
The heatmap cube (a later issue) registers itself with `register_refresher`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection


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


Refresher = Callable[[Connection, Change], None]
_REFRESHERS: list[tuple[str, Refresher]] = []


def register_refresher(name: str, refresher: Refresher) -> None:
    """Add an aggregate refresher (idempotent by name): called for every changed source."""
    _REFRESHERS[:] = [(n, r) for n, r in _REFRESHERS if n != name]
    _REFRESHERS.append((name, refresher))


def refreshers() -> list[str]:
    return [name for name, _ in _REFRESHERS]


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
    for _, refresher in _REFRESHERS:
        refresher(conn, change)
    return bump_layer_versions(conn, [change.layer], change.run_id)
