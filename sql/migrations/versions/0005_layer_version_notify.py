"""Notify tile servers when meta.layer_versions changes outside the version fence.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 03:10:00
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL_DIR = Path(__file__).with_suffix("")


def upgrade() -> None:
    op.execute((SQL_DIR / "notify_changed.sql").read_text())


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
