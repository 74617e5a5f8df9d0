"""Bookkeeping: ETL runs, rejects, watermarks and the geocoding review queue; layer data
versions, the append-only audit log; early warnings."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from geoplatform.schema.base import RUN_STATUSES, _geometry, _in, check, metadata

etl_runs = Table(
    "runs",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("pipeline", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=text("'running'")),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    Column("options", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("counts", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("timings", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("error", Text),
    check(
        _in("status", RUN_STATUSES),
        "status",
        "run status must be one of " + ", ".join(RUN_STATUSES),
    ),
    schema="etl",
    comment="One row per ETL run: what it read, loaded, rejected, and how long each step took",
)

etl_rejects = Table(
    "rejects",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("run_id", BigInteger, ForeignKey("etl.runs.id", ondelete="CASCADE"), nullable=False),
    Column("source", Text, nullable=False),
    Column("row_number", Integer, comment="Row in the delivered file (1 = first data row)"),
    Column("source_key", Text),
    Column("reason_code", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("row_data", JSONB, comment="The row as delivered, personal identifiers masked"),
    Index(None, "run_id", "source"),
    schema="etl",
    comment="Rows that were not loaded, each with its reason",
)

etl_watermarks = Table(
    "watermarks",
    metadata,
    Column("pipeline", Text, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("value", Text, nullable=False, comment="Last file fingerprint or timestamp seen"),
    Column("run_id", BigInteger, ForeignKey("etl.runs.id", ondelete="SET NULL")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="etl",
    comment="Where each incremental source left off",
)

layer_versions = Table(
    "layer_versions",
    metadata,
    Column("layer", Text, primary_key=True),
    Column("version", BigInteger, nullable=False, server_default=text("1")),
    Column("run_id", BigInteger, ForeignKey("etl.runs.id", ondelete="SET NULL")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    check("version >= 1", "version", "layer version starts at 1 and only grows"),
    schema="meta",
    comment="Data version per layer: tile caches key on it, so a load is never served stale",
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    # The hash chain (issue 12): seq has no gaps, hash = sha256(prev_hash || the row's content).
    Column("seq", BigInteger, nullable=False),
    Column("role", Text),
    Column("scope", Text),
    Column("endpoint", Text),
    Column("params", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("row_count", Integer),
    Column("id_hmacs", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("prev_hash", LargeBinary),
    Column("hash", LargeBinary, nullable=False),
    Index(None, "at"),
    UniqueConstraint("seq", name="uq_audit_log_seq"),
    schema="meta",
    comment="Append-only: a trigger refuses UPDATE and DELETE (security logs are kept >= 6 months)",
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True),
    Column("hash", LargeBinary, nullable=False),
    Column("pruned_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("pruned_rows", BigInteger, nullable=False),
    schema="meta",
    comment="Chain start after pruning: the last pruned audit row; verify resumes there",
)

API_KEY_ROLES = ("analyst", "officer", "admin")

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("prefix", Text, nullable=False),
    Column("key_hash", LargeBinary, nullable=False),
    Column("role", Text, nullable=False),
    Column("scope", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("pii", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    check(_in("role", API_KEY_ROLES), "role", "key role must be analyst, officer or admin"),
    check("(role = 'officer') = (cardinality(scope) > 0)", "scope", "officers need a scope"),
    check("octet_length(key_hash) = 32", "hash_length", "key_hash is a SHA-256"),
    schema="meta",
    comment="API keys: SHA-256 of the secret, role, scope, expiry",
)


# -- ETL geocoding review (issue 4) ----------------------------------------------------------

REVIEW_STATUSES = ("open", "resolved", "dismissed")

geocode_review = Table(
    "geocode_review",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("source", Text, nullable=False, comment="Pipeline source name"),
    Column("source_key", Text, nullable=False, comment="The row's key in that source"),
    Column("entity", Text, nullable=False, comment="Target table of the row"),
    Column("run_id", BigInteger, ForeignKey("etl.runs.id", ondelete="SET NULL")),
    Column("address", Text, nullable=False, comment="Address as delivered"),
    Column("level", Text, comment="Level of the best candidate"),
    Column("score", Double, comment="Score of the best candidate (below the threshold)"),
    Column(
        "candidates",
        JSONB,
        nullable=False,
        server_default=text("'[]'::jsonb"),
        comment="Top candidates as [address, score] pairs",
    ),
    Column("status", Text, nullable=False, server_default=text("'open'")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("source", "source_key", name="uq_geocode_review_source_key"),
    check(
        _in("status", REVIEW_STATUSES),
        "status",
        "review status must be one of " + ", ".join(REVIEW_STATUSES),
    ),
    check(
        "score IS NULL OR score BETWEEN 0 AND 1",
        "score",
        "review score must be between 0 and 1",
    ),
    Index(None, "status"),
    schema="restricted",  # delivered addresses of residents are personal data
    comment="Addresses the matcher could not accept: the geocoding review queue, top candidates",
)


warnings = Table(
    "warnings",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("as_of", Date, nullable=False, comment="Last day of the tested window (local)"),
    Column("level", Text, nullable=False, comment="cell (H3) or grid"),
    Column("unit", Text, nullable=False, comment="H3 cell as hex string, or 15-digit grid code"),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("baseline_start", Date, nullable=False),
    Column("baseline_end", Date, nullable=False),
    Column("observed", Integer, nullable=False, comment="Incidents in the window"),
    Column("baseline", Integer, nullable=False, comment="Incidents in the baseline period"),
    Column("expected", Double, nullable=False, comment="Window count the baseline predicts"),
    Column("ratio", Double, comment="observed / expected"),
    Column("p_value", Double, nullable=False, comment="One-sided, weekly-rhythm count model"),
    Column("q_value", Double, comment="Benjamini-Hochberg adjusted"),
    Column("dispersion", Double, nullable=False),
    Column("scanned_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("geom", _geometry("MULTIPOLYGON")),
    check("level IN ('cell', 'grid')", "level", "warnings.level must be cell or grid"),
    UniqueConstraint("as_of", "level", "unit"),
    comment="Early warnings written by `geoplatform warnings scan` (the nightly run)",
)


warning_scans = Table(
    "warning_scans",
    metadata,
    Column("as_of", Date, primary_key=True, comment="Scanned day (local)"),
    Column("level", Text, primary_key=True, comment="cell (H3) or grid"),
    Column("tested", Integer, nullable=False, comment="Units tested"),
    Column("warned", Integer, nullable=False, comment="Units that warned"),
    Column("scanned_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    check("level IN ('cell', 'grid')", "level", "warning_scans.level must be cell or grid"),
    comment="One row per warning scan of a day and level, also when nothing warned",
)
