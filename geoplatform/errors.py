"""One error base for the whole package; HTTP statuses and CLI exit codes live on the classes.

Every error the library raises on purpose is a `GeoPlatformError`. Where an error also fits a
built-in (a bad value, a missing thing), it subclasses that too, so callers can catch either.
The API maps `http_status` and the CLI maps `exit_code`: nowhere else decides them.
"""

from __future__ import annotations


class GeoPlatformError(Exception):
    """Base of every deliberate error: carries a one-line message safe to show a user."""

    http_status: int = 500
    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(GeoPlatformError, ValueError):
    """Settings or a declared file (pipeline, layer catalog) are wrong."""

    exit_code = 78  # EX_CONFIG


class DatabaseUnavailable(GeoPlatformError, ConnectionError):
    """The database cannot be reached (cluster stopped, missing, or a bad URL)."""

    http_status = 503
    exit_code = 69  # EX_UNAVAILABLE


class ClusterError(GeoPlatformError, RuntimeError):
    """The project-local PostgreSQL cluster could not be created, started or stopped."""

    exit_code = 71  # EX_OSERR


class PostgisMissing(ClusterError):
    """PostgreSQL or PostGIS binaries are not installed; the message says how to install them."""

    exit_code = 69


class InvalidRecord(GeoPlatformError, ValueError):
    """The database refused a row: bad code, wrong SRID, invalid geometry or status."""

    http_status = 422
    exit_code = 65  # EX_DATAERR


class NotFound(GeoPlatformError, LookupError):
    """A named thing (layer, record, run) does not exist."""

    http_status = 404
    exit_code = 66  # EX_NOINPUT


class PipelineInvalid(ConfigurationError):
    """A pipeline YAML is wrong: the message names the file, the line and what is wrong."""


class EtlLocked(GeoPlatformError, RuntimeError):
    """Another ETL run holds the advisory lock: this run exits at once without doing anything."""

    exit_code = 75  # EX_TEMPFAIL: a cron wrapper retries later
