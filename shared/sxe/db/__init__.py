"""Database access: choosing the server, connecting, named SQL and migrations."""

from __future__ import annotations

from sxe.config import Settings
from sxe.db.connection import connect, describe_url, transaction
from sxe.db.embedded import start_embedded
from sxe.db.queries import sql

__all__ = ["connect", "database_url", "describe_url", "sql", "transaction"]


def database_url(settings: Settings) -> str:
    """Return SXE_DATABASE_URL, or start the embedded server in the state folder and return its URL."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return start_embedded(settings.pgdata_dir)
