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
def bench_database(prefix: str = "sxe_bench") -> Iterator[str]:
    """Yield the URL of a new migrated database, dropped afterwards."""
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
