"""Configuration: one pydantic-settings class, prefix GEOPLATFORM_, built once and passed down.

Nothing reads the environment at import time: `Settings()` is called by the CLI, the app factory
or a test, and the object travels from there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the platform can be told from outside, with the defaults `make demo` uses."""

    model_config = SettingsConfigDict(env_prefix="GEOPLATFORM_", env_file=None, extra="ignore")

    home: Path = Field(
        default=Path(".geoplatform"),
        description="Project-local state: the embedded cluster, demo files, caches.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="An existing PostGIS to use instead of the embedded cluster "
        "(postgresql://user:password@host:port/db). When set, nothing local is started.",
    )
    pg_bindir: Path | None = Field(
        default=None,
        description="Directory holding initdb/pg_ctl/postgres; found automatically when unset.",
    )
    database_name: str = Field(default="geoplatform", description="Database in the cluster.")
    pool_size: int = Field(default=5, ge=1, le=100, description="Connections kept per process.")
    connect_timeout_s: int = Field(default=5, ge=1, le=120)

    # -- ETL ------------------------------------------------------------------------------
    hmac_key: SecretStr | None = Field(
        default=None,
        description="Key for the keyed HMAC that links ID numbers; lives outside the database.",
    )
    hmac_key_file: Path | None = Field(
        default=None, description="File holding the HMAC key (preferred over hmac_key)."
    )
    etl_batch_rows: int = Field(default=100_000, ge=1_000, description="Rows per ETL batch.")
    etl_max_vertices: int = Field(
        default=100_000,
        ge=4,
        description="A delivered polygon or line with more vertices is rejected "
        "geometry_too_complex (before it is transformed or repaired).",
    )
    etl_max_area_km2: float = Field(
        default=50_000.0,
        gt=0,
        description="A delivered polygon larger than this is rejected geometry_too_complex "
        "(a city's whole area is a few thousand km²).",
    )

    # -- serving --------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address `geoplatform serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535)
    layers_file: Path = Field(
        default=Path("tiles/layers.yaml"), description="The layer catalog the server serves."
    )
    tile_cache_bytes: int = Field(
        default=512 * 1024 * 1024, ge=0, description="In-process tile cache size (0 = off)."
    )
    glyphs_dir: Path | None = Field(
        default=None,
        description="Folder of glyph PBFs (`geoplatform fonts build`) for map labels; default "
        "<home>/glyphs when it exists.",
    )
    cors_origins: str = Field(
        default="*",
        description="Origins whose pages may fetch tiles and data: a comma list, * for any, "
        "empty for no CORS headers.",
    )

    # -- bounded work and outages (the API) ---------------------------------------------------
    pool_timeout_s: float = Field(
        default=1.5,
        gt=0,
        le=60,
        description="How long a request waits for a database connection before it answers 503 "
        "(with Retry-After): the database's absence is told in this time, not the OS's.",
    )
    pool_queue_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="How long a request waits in line when every connection is busy (the "
        "database is there, just loaded); past it: 503.",
    )
    reconnect_timeout_s: float = Field(
        default=2.0,
        gt=0,
        le=600,
        description="How long the pool retries a lost connection before it gives the slot up; "
        "the next request then connects at once, so service is back soon after the database.",
    )
    statement_timeout_ms: int = Field(
        default=10_000,
        ge=100,
        le=3_600_000,
        description="PostgreSQL statement_timeout of every API statement; a statement that runs "
        "longer is cancelled and the request answers 503 with a message.",
    )
    analytics_budget_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Time budget of one analytics request (hotspots, rasters, statistics): past "
        "it the request answers 503 with Retry-After; the result still lands in the cache.",
    )
    cpu_workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Threads that run CPU-heavy work (Gi*, PNG, GeoTIFF, index builds) off the "
        "event loop.",
    )
    retry_after_s: int = Field(
        default=2, ge=1, le=3600, description="Retry-After of 503 answers (seconds)."
    )
    # -- access (issue 12) ---------------------------------------------------------------
    api_database_url: SecretStr | None = Field(
        default=None,
        description="URL the server connects with (default: the `api` role's, derived from "
        "the owner's URL as `geoplatform db url --role api` prints it).",
    )
    etl_database_url: SecretStr | None = Field(
        default=None,
        description="URL the ETL connects with (default: the `etl` role's, derived likewise).",
    )
    anonymous_role: Literal["public", "analyst"] = Field(
        default="public",
        description="What callers without a key get: public (aggregates, no personal fields), "
        "or analyst on an internal network (features without personal fields, no residents).",
    )
    allow_superuser: bool = Field(
        default=False,
        description="Let `serve` run on a superuser or BYPASSRLS connection (never in production).",
    )
    k_anonymity: int = Field(
        default=11,
        ge=11,
        description="People counts below k are suppressed for roles without resident access "
        "(the SQL functions never go below 11).",
    )
    audit_retention_days: int = Field(
        default=180, ge=1, description="Audit rows older than this are pruned by `audit prune`."
    )
    jwt_issuer: str | None = Field(default=None, description="Issuer (iss) of bearer tokens.")
    jwt_audience: str = Field(default="geoplatform", description="Audience (aud) tokens name.")
    jwt_jwks: str | None = Field(
        default=None, description="The issuer's JWKS: a file path or an https:// URL."
    )

    @property
    def uses_embedded_cluster(self) -> bool:
        """True when the project-local cluster is the database (no URL given)."""
        return self.database_url is None

    @property
    def resolved_home(self) -> Path:
        """The home directory as an absolute path (the cluster's files are found by it)."""
        return self.home.expanduser().resolve()
