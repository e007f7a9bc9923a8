"""A throwaway, migrated database on an embedded PostgreSQL (or on SXE_DATABASE_URL's server) for benchmarks."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from sxe.db import connect
from sxe.db.embedded import start_embedded
from sxe.db.migrate import migrate


@contextmanager
def bench_server() -> Iterator[str]:
    """Yield the URL of SXE_DATABASE_URL's server, or of a new embedded one, for several bench_database calls."""
    yield os.environ.get("SXE_DATABASE_URL") or start_embedded(
        Path(tempfile.mkdtemp(prefix="sxe-bench-pg-")) / "pgdata", at_exit="delete"
    )


@contextmanager
def bench_database(prefix: str = "sxe_bench", *, server: str | None = None) -> Iterator[str]:
    """Yield the URL of a new migrated database on `server` (default: see bench_server), dropped afterwards."""
    if server is None:
        server = os.environ.get("SXE_DATABASE_URL") or start_embedded(
            Path(tempfile.mkdtemp(prefix="sxe-bench-pg-")) / "pgdata", at_exit="delete"
        )
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    try:
        with connect(url, autocommit=True) as conn:
            migrate(conn)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
