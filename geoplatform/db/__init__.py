"""Database access: engine and transactions, the embedded cluster, migrations."""

from geoplatform.db.engine import create_engine, database_url, server_info, transaction

__all__ = ["create_engine", "database_url", "server_info", "transaction"]
